//! The trust table (at most 16 entries, each with a trust ID) and CRLs.

use crate::abi::{
    siptls_crl_info, siptls_eku_policy, siptls_result, siptls_result::*, siptls_trust_entry_info,
    SIPTLS_TRUST_ID_NONE, SIPTLS_TRUST_KIND_ANCHOR, SIPTLS_TRUST_KIND_PIN,
};
use std::ffi::c_char;

use super::handles;
use super::siptls_ctx;
use crate::error::Error;
use crate::ffi;
use crate::trust::EntryKind;

// SAFETY: repr(C); four u32, two i64, then char arrays: no padding.
unsafe impl ffi::NoPadding for siptls_trust_entry_info {}

/// Adds one trust entry: a single certificate, PEM or DER. A CA certificate
/// anchors chains it issued; a self-signed end-entity certificate is pinned
/// (trusted only when a peer presents exactly it). Refused with
/// SIPTLS_ERR_TRUST_TABLE_FULL as the 17th entry, SIPTLS_ERR_TRUST_DUPLICATE_ID
/// when `trust_id` is taken. Takes effect for the next handshake.
///
/// # Safety
/// `ctx` must be a live context; `cert` readable for `cert_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_trust(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    cert: *const u8,
    cert_len: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let cert = ffi::arg_bytes(cert, cert_len, "cert")?;
            ctx.trust_add(trust_id, cert)
        })
    }
}

/// Adds every certificate of a PEM CA list as its own entry, trust IDs
/// counting up from `first_trust_id` in order. All or nothing: a list that
/// does not fit or holds anything unparsable leaves the table unchanged.
///
/// # Safety
/// `ctx` must be a live context; `pem` readable for `pem_len` bytes; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_trust_list(
    ctx: *mut siptls_ctx,
    pem: *const u8,
    pem_len: usize,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let pem = ffi::arg_bytes(pem, pem_len, "pem")?;
                *added_out = ctx.trust_load_ca_list(pem, first_trust_id)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// As `siptls_ctx_add_trust_list`, from a file such as CAList.pem.
///
/// # Safety
/// `ctx` must be a live context; `path` NUL-terminated; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_trust_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let path = ffi::arg_path(path, "path")?;
                *added_out = ctx.trust_load_ca_file(path, first_trust_id)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Replaces the whole trust table with the certificates of a PEM CA list,
/// trust IDs `first_trust_id`, `first_trust_id + 1`, ... in order: a reload
/// of CAList.pem under the same trust IDs, with no moment in which an entry
/// is missing. All or nothing; the entry count goes to `count_out`.
///
/// # Safety
/// `ctx` must be a live context; `pem` readable for `pem_len` bytes; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_replace_trust_list(
    ctx: *mut siptls_ctx,
    pem: *const u8,
    pem_len: usize,
    first_trust_id: u32,
    count_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let count_out = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let pem = ffi::arg_bytes(pem, pem_len, "pem")?;
                *count_out = ctx.trust_replace_ca_list(pem, first_trust_id)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Describes the entry with `trust_id`: kind, validity, subject, SIP domain.
///
/// # Safety
/// `ctx` must be a live context; `info_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_trust(
    ctx: *const siptls_ctx,
    trust_id: u32,
    info_out: *mut siptls_trust_entry_info,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(info_out) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let entry = ctx.trust_entry(trust_id)?;
                let info = siptls_trust_entry_info {
                    struct_size: std::mem::size_of::<siptls_trust_entry_info>() as u32,
                    trust_id: entry.id,
                    kind: match entry.kind {
                        EntryKind::Anchor => SIPTLS_TRUST_KIND_ANCHOR,
                        EntryKind::Pin => SIPTLS_TRUST_KIND_PIN,
                    },
                    eku_policy: entry.eku_policy.map_or(
                        siptls_eku_policy::SIPTLS_EKU_DEFAULT,
                        siptls_eku_policy::from,
                    ) as u32,
                    not_before: entry.not_before,
                    not_after: entry.not_after,
                    subject: ffi::fixed_text(&entry.subject),
                    sip_domain: ffi::fixed_text(
                        &entry
                            .sip_domain
                            .as_ref()
                            .map(|d| d.to_str())
                            .unwrap_or_default(),
                    ),
                };
                ffi::write_sized(info_out, &info, "info_out")?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Removes the entry with `trust_id`. Its CRLs stay, verified at each use. Established sessions are unaffected;
/// the next handshake no longer trusts it.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_remove_trust(
    ctx: *mut siptls_ctx,
    trust_id: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.trust_remove(trust_id)) }
}

/// Lists the trust IDs in ascending order into `ids` (room for `cap`); the
/// number of entries goes to `count_out`. With too little room, as many as
/// fit are written and SIPTLS_ERR_BUFFER_TOO_SMALL is returned.
/// `ids` may be NULL when `cap` is 0, to ask for the count only.
///
/// # Safety
/// `ctx` must be a live context; `ids` writable for `cap` entries; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_list_trust(
    ctx: *const siptls_ctx,
    ids: *mut u32,
    cap: usize,
    count_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_out(count_out, 0) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let count_out = ffi::arg_out(count_out, "count_out", 0)?;
                // A bad array fails the call before the count is set.
                let out = ffi::CallerBuf::optional_u32s(ids, cap, "ids")?;
                let all = ctx.trust_ids();
                *count_out = all.len();
                let Some(mut out) = out else {
                    return Ok(if all.is_empty() {
                        SIPTLS_OK
                    } else {
                        SIPTLS_ERR_BUFFER_TOO_SMALL
                    });
                };
                let n = all.len().min(cap);
                // Byte-wise through the raw pointer: the array may be uninitialised.
                let bytes: Vec<u8> = all[..n].iter().flat_map(|id| id.to_ne_bytes()).collect();
                out.put(&bytes);
                Ok(if n < all.len() {
                    SIPTLS_ERR_BUFFER_TOO_SMALL
                } else {
                    SIPTLS_OK
                })
            })
        }
    })
}

/// Requires peers that chain to `trust_id` to prove this SIP domain (RFC
/// 5922): a server checks its clients' certificates against it. NULL clears it.
///
/// # Safety
/// `ctx` must be a live context; `domain` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_trust_sip_domain(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    domain: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let domain = ffi::arg_opt_str(domain, "domain")?;
            ctx.trust_set_sip_domain(trust_id, domain)
        })
    }
}

/// Gives the peers that chain to `trust_id` (or present it, a pin) an
/// extended key usage policy of their own (`policy` is a
/// `siptls_eku_policy`; SIPTLS_EKU_DEFAULT: the context's again), e.g.
/// SIPTLS_EKU_STRICT for an internal CA while a public CA's trunk peers
/// stay under SIPTLS_EKU_SERVER_TO_SERVER. A replaced trust table drops it,
/// as it drops the SIP domain: set it again after
/// `siptls_ctx_replace_trust_list`.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_trust_eku_policy(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    policy: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let policy = ffi::arg_enum::<siptls_eku_policy>(policy, "policy")?;
            ctx.trust_set_eku_policy(trust_id, policy.into())
        })
    }
}

/// Loads certificate revocation lists: PEM (one or more "X509 CRL") or one
/// DER CRL, issued by any CA: a trust entry (then its signature is checked
/// now, SIPTLS_ERR_CRL_UNTRUSTED when it does not verify) or an
/// intermediate (checked against the issuer in the peer's path at each use).
/// One CRL per issuer key (and partition): an issuer is a name and the key
/// that signs its CRLs, so during a CA key rollover the two CAs of one name
/// keep a CRL, and a CRL numbering, each. A newer one (higher CRL number;
/// without numbers, later thisUpdate) replaces the loaded one of its key;
/// the very CRL loaded is skipped; any other that is not newer is refused
/// with SIPTLS_ERR_CRL_NOT_NEWER, as is an input with nothing new. A daily
/// refresh is just loading the new file. All or nothing; the number of CRLs
/// that changed the configuration goes to `added_out`.
///
/// # Safety
/// `ctx` must be a live context; `crl` readable for `crl_len` bytes; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_crl(
    ctx: *mut siptls_ctx,
    crl: *const u8,
    crl_len: usize,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let crl = ffi::arg_bytes(crl, crl_len, "crl")?;
                *added_out = ctx.add_crls(crl)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// As `siptls_ctx_add_crl`, from a file.
///
/// # Safety
/// `ctx` must be a live context; `path` NUL-terminated; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_crl_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let path = ffi::arg_path(path, "path")?;
                *added_out = ctx.add_crl_file(path)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

// SAFETY: repr(C); two u32, three 8-byte members, two u32, then char arrays: no padding.
unsafe impl ffi::NoPadding for siptls_crl_info {}

/// How many CRLs are loaded (at most one per issuer key and partition).
///
/// # Safety
/// `ctx` must be a live context; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_count_crls(
    ctx: *const siptls_ctx,
    count_out: *mut usize,
) -> siptls_result {
    unsafe { handles::count_on_ctx(ctx, count_out, |ctx| ctx.crls().len()) }
}

/// Describes loaded CRL number `index` (0 to count - 1, in load order):
/// issuer, CRL number, thisUpdate, nextUpdate, revoked serial count.
///
/// # Safety
/// `ctx` must be a live context; `info_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_crl(
    ctx: *const siptls_ctx,
    index: usize,
    info_out: *mut siptls_crl_info,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(info_out) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let crls = ctx.crls();
                let crl = crls.get(index).ok_or_else(|| {
                    Error::new(
                        SIPTLS_ERR_INVALID_ARGUMENT,
                        format!("index {index}: {} CRLs are loaded", crls.len()),
                    )
                })?;
                let info = siptls_crl_info {
                    struct_size: std::mem::size_of::<siptls_crl_info>() as u32,
                    checked_by_trust_id: crl.checked_by.unwrap_or(SIPTLS_TRUST_ID_NONE),
                    this_update: crl.this_update,
                    next_update: crl.next_update,
                    revoked_count: crl.revoked as u64,
                    partitioned: u32::from(crl.scope.is_some()),
                    reserved: 0,
                    issuer: ffi::fixed_text(&crl.issuer_text),
                    crl_number: ffi::fixed_text(
                        &crl.number
                            .as_ref()
                            .map(|n| n.to_string())
                            .unwrap_or_default(),
                    ),
                };
                ffi::write_sized(info_out, &info, "info_out")?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Removes the CRLs of `issuer`, given exactly as `siptls_crl_info.issuer`
/// lists it: every partition, and the CRLs of every key of that name (both
/// CAs of a key rollover). SIPTLS_ERR_CRL_NOT_FOUND when none is loaded
/// for it.
///
/// # Safety
/// `ctx` must be a live context; `issuer` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_remove_crl(
    ctx: *mut siptls_ctx,
    issuer: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let issuer = ffi::arg_str(issuer, "issuer")?;
            ctx.crl_remove(issuer)
        })
    }
}

/// Removes every loaded CRL.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_clear_crls(ctx: *mut siptls_ctx) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.crl_clear()) }
}
