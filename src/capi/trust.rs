//! The trust table (at most 16 entries, each with a trust ID) and CRLs.

use std::ffi::c_char;

use super::siptls_ctx;
use crate::error::{siptls_result, siptls_result::*};
use crate::ffi;

/// Adds one trust entry: a single certificate, PEM or DER. A CA certificate
/// anchors chains it issued; a self-signed end-entity certificate is pinned
/// (trusted only when a peer presents exactly it). Refused with
/// SIPTLS_ERR_TRUST_TABLE_FULL as the 17th entry, SIPTLS_ERR_TRUST_DUPLICATE_ID
/// when `trust_id` is taken. Takes effect for the next handshake.
///
/// # Safety
/// `ctx` must be a live context; `cert` readable for `cert_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_add(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    cert: *const u8,
    cert_len: usize,
) -> siptls_result {
    ffi::call(|| {
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let cert = unsafe { ffi::arg_bytes(cert, cert_len, "cert")? };
            ctx.trust_add(trust_id, cert)?;
            Ok(SIPTLS_OK)
        })
    })
}

/// Adds every certificate of a PEM CA list as its own entry, trust IDs
/// counting up from `first_trust_id` in order. All or nothing: a list that
/// does not fit or holds anything unparsable leaves the table unchanged.
///
/// # Safety
/// `ctx` must be a live context; `pem` readable for `pem_len` bytes; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_load_ca_list(
    ctx: *mut siptls_ctx,
    pem: *const u8,
    pem_len: usize,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out")? };
        *added_out = 0;
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let pem = unsafe { ffi::arg_bytes(pem, pem_len, "pem")? };
            *added_out = ctx.trust_load_ca_list(pem, first_trust_id)?;
            Ok(SIPTLS_OK)
        })
    })
}

/// As `siptls_ctx_trust_load_ca_list`, from a file such as CAList.pem.
///
/// # Safety
/// `ctx` must be a live context; `path` NUL-terminated; `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_load_ca_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out")? };
        *added_out = 0;
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let path = unsafe { ffi::arg_path(path, "path")? };
            *added_out = ctx.trust_load_ca_file(path, first_trust_id)?;
            Ok(SIPTLS_OK)
        })
    })
}

/// Removes the entry with `trust_id`. Established sessions are unaffected;
/// the next handshake no longer trusts it.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_remove(
    ctx: *mut siptls_ctx,
    trust_id: u32,
) -> siptls_result {
    ffi::call(|| {
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            ctx.trust_remove(trust_id)?;
            Ok(SIPTLS_OK)
        })
    })
}

/// Lists the trust IDs in ascending order into `ids` (room for `cap`); the
/// number of entries goes to `count_out`. With too little room, as many as
/// fit are written and SIPTLS_ERR_BUFFER_TOO_SMALL is returned.
/// `ids` may be NULL when `cap` is 0, to ask for the count only.
///
/// # Safety
/// `ctx` must be a live context; `ids` writable for `cap` entries; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_list(
    ctx: *const siptls_ctx,
    ids: *mut u32,
    cap: usize,
    count_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let count_out = unsafe { ffi::arg_out(count_out, "count_out")? };
            let all = ctx.trust_ids();
            *count_out = all.len();
            if cap == 0 {
                return Ok(if all.is_empty() {
                    SIPTLS_OK
                } else {
                    SIPTLS_ERR_BUFFER_TOO_SMALL
                });
            }
            let ids = unsafe { ffi::arg_slice_mut(ids, cap, "ids")? };
            let n = all.len().min(cap);
            ids[..n].copy_from_slice(&all[..n]);
            Ok(if n < all.len() {
                SIPTLS_ERR_BUFFER_TOO_SMALL
            } else {
                SIPTLS_OK
            })
        })
    })
}

/// Requires peers that chain to `trust_id` to prove this SIP domain (RFC
/// 5922): a server checks its clients' certificates against it. NULL clears it.
///
/// # Safety
/// `ctx` must be a live context; `domain` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_set_sip_domain(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    domain: *const c_char,
) -> siptls_result {
    ffi::call(|| {
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let domain = unsafe { ffi::arg_opt_str(domain, "domain")? };
            ctx.trust_set_sip_domain(trust_id, domain)?;
            Ok(SIPTLS_OK)
        })
    })
}

/// Adds certificate revocation lists: PEM (one or more "X509 CRL") or one
/// DER CRL. Each must be signed by a trust entry, or nothing is added.
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
        let added_out = unsafe { ffi::arg_out(added_out, "added_out")? };
        *added_out = 0;
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let crl = unsafe { ffi::arg_bytes(crl, crl_len, "crl")? };
            *added_out = ctx.add_crls(crl)?;
            Ok(SIPTLS_OK)
        })
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
        let added_out = unsafe { ffi::arg_out(added_out, "added_out")? };
        *added_out = 0;
        let ctx = &unsafe { ffi::arg_ref(ctx, "ctx")? }.0;
        ctx.recorded(|| {
            let path = unsafe { ffi::arg_path(path, "path")? };
            *added_out = ctx.add_crl_file(path)?;
            Ok(SIPTLS_OK)
        })
    })
}
