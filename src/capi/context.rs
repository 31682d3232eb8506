//! Contexts: creation, identity, policy settings and callbacks.

use crate::abi::{
    siptls_client_auth, siptls_eku_policy, siptls_expired_crl, siptls_keylog_cb,
    siptls_missing_crl, siptls_name_check, siptls_pem_names, siptls_result, siptls_result::*,
    siptls_role, siptls_time_cb, siptls_verify_cb, siptls_verify_decision, siptls_verify_report,
    UserData,
};
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::siptls_ctx;
use crate::clock::Clock;
use crate::context::{Context, PemNames};
use crate::crl::{ExpiredCrl, MissingCrl};

use super::handles;
use crate::ffi;
use crate::names::NameCheck;
use crate::purpose::EkuPolicy;
use crate::verify::{ClientAuth, Report};

// SAFETY: repr(C), a u32 then pointers, all pointer-aligned: any bytes are a value.
unsafe impl ffi::PlainData for siptls_pem_names {}

// The C policies onto the core's: the numbers were checked by `ffi::arg_enum`.

impl From<siptls_client_auth> for ClientAuth {
    fn from(mode: siptls_client_auth) -> Self {
        match mode {
            siptls_client_auth::SIPTLS_CLIENT_AUTH_REQUIRED => ClientAuth::Required,
            siptls_client_auth::SIPTLS_CLIENT_AUTH_OPTIONAL => ClientAuth::Optional,
            siptls_client_auth::SIPTLS_CLIENT_AUTH_OFF => ClientAuth::Off,
        }
    }
}

impl From<siptls_name_check> for NameCheck {
    fn from(mode: siptls_name_check) -> Self {
        match mode {
            siptls_name_check::SIPTLS_NAME_CHECK_SIP => NameCheck::Sip,
            siptls_name_check::SIPTLS_NAME_CHECK_HOSTNAME => NameCheck::Hostname,
        }
    }
}

impl From<siptls_missing_crl> for MissingCrl {
    fn from(policy: siptls_missing_crl) -> Self {
        match policy {
            siptls_missing_crl::SIPTLS_MISSING_CRL_ALLOW => MissingCrl::Allow,
            siptls_missing_crl::SIPTLS_MISSING_CRL_DENY => MissingCrl::Deny,
        }
    }
}

/// DEFAULT names no policy of its own: the library's for a context, the
/// context's for a trust entry.
impl From<siptls_eku_policy> for Option<EkuPolicy> {
    fn from(policy: siptls_eku_policy) -> Self {
        match policy {
            siptls_eku_policy::SIPTLS_EKU_DEFAULT => None,
            siptls_eku_policy::SIPTLS_EKU_STRICT => Some(EkuPolicy::Strict),
            siptls_eku_policy::SIPTLS_EKU_SERVER_TO_SERVER => Some(EkuPolicy::ServerToServer),
            siptls_eku_policy::SIPTLS_EKU_ANY => Some(EkuPolicy::Any),
        }
    }
}

impl From<EkuPolicy> for siptls_eku_policy {
    fn from(policy: EkuPolicy) -> Self {
        match policy {
            EkuPolicy::Strict => siptls_eku_policy::SIPTLS_EKU_STRICT,
            EkuPolicy::ServerToServer => siptls_eku_policy::SIPTLS_EKU_SERVER_TO_SERVER,
            EkuPolicy::Any => siptls_eku_policy::SIPTLS_EKU_ANY,
        }
    }
}

impl From<siptls_expired_crl> for ExpiredCrl {
    fn from(policy: siptls_expired_crl) -> Self {
        match policy {
            siptls_expired_crl::SIPTLS_EXPIRED_CRL_USE => ExpiredCrl::Use,
            siptls_expired_crl::SIPTLS_EXPIRED_CRL_MISSING => ExpiredCrl::Missing,
        }
    }
}

/// Creates a context for `role` (a `siptls_role`), with no identity, an empty
/// trust table, mutual TLS required, CA depth cap 4, TLS 1.2 and 1.3.
///
/// # Safety
/// `ctx_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_new(role: u32, ctx_out: *mut *mut siptls_ctx) -> siptls_result {
    ffi::call(|| {
        let ctx_out = unsafe { ffi::arg_out(ctx_out, "ctx_out", std::ptr::null_mut())? };
        let role = ffi::arg_enum::<siptls_role>(role, "role")?;
        *ctx_out = ffi::to_handle::<siptls_ctx>(Context::new(role));
        Ok(SIPTLS_OK)
    })
}

/// Frees a context. Sessions made from it keep working until freed. NULL is a no-op.
///
/// # Safety
/// `ctx` must be NULL or from `siptls_ctx_new`, and not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_free(ctx: *mut siptls_ctx) {
    ffi::call_value((), || unsafe { ffi::free_handle(ctx) })
}

/// Sets the identity from PEM text in memory: `cert_pem` holds our
/// certificate, optionally followed by its chain; `key_pem` the private key
/// (PKCS#8, PKCS#1 or SEC1, unencrypted), or a `pkcs11:` URI (RFC 7512)
/// naming a key on a token or HSM (docs/identities-and-trust.md).
///
/// # Safety
/// `ctx` must be a live context; the buffers readable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_identity_pem(
    ctx: *mut siptls_ctx,
    cert_pem: *const u8,
    cert_pem_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let cert = ffi::arg_bytes(cert_pem, cert_pem_len, "cert_pem")?;
            let key = ffi::arg_bytes(key_pem, key_pem_len, "key_pem")?;
            ctx.set_identity_pem(cert, key)
        })
    }
}

/// Sets the identity from a certificate file and a private key file. The
/// key file may hold a `pkcs11:` URI instead of a PEM key, and `key_path`
/// may be such a URI itself.
///
/// # Safety
/// `ctx` must be a live context; the paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_load_identity_files(
    ctx: *mut siptls_ctx,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let cert = ffi::arg_path(cert_path, "cert_path")?;
            let key = ffi::arg_path(key_path, "key_path")?;
            ctx.load_identity_files(cert, key)
        })
    }
}

/// Loads (or reloads) the three-file layout from `dir` and makes it the
/// context's whole trust configuration: the identity from privateKey.pem and
/// publickey.pem; a trust table of exactly CAList.pem's certificates, trust
/// IDs `first_trust_id`, `first_trust_id + 1`, ... in file order, replacing
/// every entry the context had; and, when `names->crl` is set, exactly that
/// file's CRLs. `names` may be NULL for the default names. All or nothing:
/// on any error the old configuration stays in force and the detail names
/// the file, the certificate number and the reason. Live sessions keep the
/// configuration they started with. The trust entry count goes to `added_out`.
///
/// # Safety
/// `ctx` must be a live context; `dir` NUL-terminated; `names` NULL or valid;
/// `added_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_load_pem_dir(
    ctx: *mut siptls_ctx,
    dir: *const c_char,
    names: *const siptls_pem_names,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let added_out = unsafe { ffi::arg_out(added_out, "added_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let dir = ffi::arg_path(dir, "dir")?;
                let names = match names.is_null() {
                    true => PemNames::default(),
                    false => {
                        let absent = siptls_pem_names {
                            struct_size: 0,
                            private_key: std::ptr::null(),
                            certificate: std::ptr::null(),
                            ca_list: std::ptr::null(),
                            crl: std::ptr::null(),
                        };
                        let n = ffi::read_sized(names, absent, "names")?;
                        PemNames {
                            private_key: ffi::arg_opt_str(n.private_key, "names->private_key")?,
                            certificate: ffi::arg_opt_str(n.certificate, "names->certificate")?,
                            ca_list: ffi::arg_opt_str(n.ca_list, "names->ca_list")?,
                            crl: ffi::arg_opt_str(n.crl, "names->crl")?,
                        }
                    }
                };
                *added_out = ctx.load_pem_dir(dir, names, first_trust_id)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Checks every file the configuration was loaded from (by
/// `siptls_ctx_load_pem_dir`, `siptls_ctx_load_identity_files`,
/// `siptls_ctx_add_identity_files`, `siptls_ctx_add_trust_file`,
/// `siptls_ctx_add_crl_file`, `siptls_ctx_load_ticket_key_file`) against
/// what it held then, by content (a file rewritten within the same second
/// counts), and reloads what changed, all in one new configuration or none:
/// a file that does not load (missing, half-written, a key that does not
/// match its certificate because only one of the two was replaced yet)
/// refuses the whole reload with that file's code and a detail naming it,
/// keeps the configuration in force whole, and is tried again at the next
/// call. `reloaded_out` gets the SIPTLS_RELOADED_* flags of what changed (0:
/// nothing). A CA list reloads into the trust IDs it took, keeping the SIP
/// domain and EKU policy set on each. siptls starts no thread: call this
/// periodically (every few seconds) or on an inotify event or SIGHUP. Each
/// call is logged (SIPTLS_LOG_RELOAD) and counted (`reloads_*`).
///
/// # Safety
/// `ctx` must be a live context; `reloaded_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_reload_if_changed(
    ctx: *mut siptls_ctx,
    reloaded_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let reloaded_out = unsafe { ffi::arg_out(reloaded_out, "reloaded_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                *reloaded_out = ctx.reload_if_changed()?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Server contexts: whether to require, request or skip client certificates
/// (`mode` is a `siptls_client_auth`).
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_client_auth(
    ctx: *mut siptls_ctx,
    mode: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let mode = ffi::arg_enum::<siptls_client_auth>(mode, "mode")?;
            ctx.set_client_auth(mode.into())
        })
    }
}

/// Caps the CA certificates in a verified path (the trust entry included):
/// 1 to 7, default 4 (up to three intermediates).
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_max_ca_depth(
    ctx: *mut siptls_ctx,
    depth: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_max_ca_depth(depth)) }
}

/// Bounds the protocol versions: 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3).
/// Anything older is refused: SSLv3, TLS 1.0 and 1.1 are broken.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_versions(
    ctx: *mut siptls_ctx,
    min: u16,
    max: u16,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_versions(min, max)) }
}

/// Chooses how server certificates are matched to the peer name
/// (`mode` is a `siptls_name_check`).
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_name_check(
    ctx: *mut siptls_ctx,
    mode: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let mode = ffi::arg_enum::<siptls_name_check>(mode, "mode")?;
            ctx.set_name_check(mode.into())
        })
    }
}

/// Lets the verify callback accept chains that failed verification. Off by
/// default; every override is reported as SIPTLS_VERIFY_OVERRIDDEN.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_allow_override(
    ctx: *mut siptls_ctx,
    allow: bool,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_allow_override(allow)) }
}

/// What to do when no current CRL covers a certificate of the peer's path
/// (the end entity and every intermediate; not the trust anchor, not a pin)
/// (`policy` is a `siptls_missing_crl`). DENY fails closed: with no CRL
/// loaded at all, every chain to an anchor is refused with REVOCATION_UNKNOWN.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_missing_crl_policy(
    ctx: *mut siptls_ctx,
    policy: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let policy = ffi::arg_enum::<siptls_missing_crl>(policy, "policy")?;
            ctx.set_missing_crl_policy(policy.into())
        })
    }
}

/// How a peer certificate's extended key usage must fit the peer's TLS role
/// (`policy` is a `siptls_eku_policy`), for peers whose trust entry sets no
/// policy of its own. The default, SIPTLS_EKU_SERVER_TO_SERVER, lets a TLS
/// client present a serverAuth-only certificate, as the public CAs issue
/// them since 2026; SIPTLS_EKU_STRICT wants clientAuth of a client;
/// SIPTLS_EKU_ANY checks nothing. Under every policy but ANY a certificate
/// whose extended key usage allows neither TLS role (codeSigning only, say)
/// is refused with SIPTLS_VERIFY_WRONG_KEY_USAGE. Applies from the next
/// verification.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_eku_policy(
    ctx: *mut siptls_ctx,
    policy: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let policy = ffi::arg_enum::<siptls_eku_policy>(policy, "policy")?;
            ctx.set_eku_policy(Option::<EkuPolicy>::from(policy).unwrap_or_default())
        })
    }
}

/// What a CRL past its nextUpdate counts as, judged by the context's clock
/// (`policy` is a `siptls_expired_crl`). With SIPTLS_EXPIRED_CRL_MISSING and
/// the deny missing-CRL policy, a stale CRL no longer vouches for anyone;
/// what it revokes stays revoked under every policy.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_expired_crl_policy(
    ctx: *mut siptls_ctx,
    policy: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let policy = ffi::arg_enum::<siptls_expired_crl>(policy, "policy")?;
            ctx.set_expired_crl_policy(policy.into())
        })
    }
}

/// The configuration generation new sessions start from: 0 for a new
/// context, plus one for every successful change (a failed one changes
/// nothing). Every verification report carries the generation that did it.
///
/// # Safety
/// `ctx` must be a live context; `generation_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_generation(
    ctx: *const siptls_ctx,
    generation_out: *mut u64,
) -> siptls_result {
    ffi::call(|| {
        let generation_out = unsafe { ffi::arg_out(generation_out, "generation_out", 0)? };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        *generation_out = ctx.generation();
        Ok(SIPTLS_OK)
    })
}

/// Registers the verification report callback (NULL removes it). It runs on
/// whichever thread drives the session being verified.
///
/// # Safety
/// `ctx` must be a live context; `callback` must stay callable with
/// `userdata` from any thread until replaced or the context and its sessions are freed.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_verify_callback(
    ctx: *mut siptls_ctx,
    callback: siptls_verify_cb,
    userdata: *mut c_void,
) -> siptls_result {
    ffi::call(|| {
        let origin = callback.map(|cb| (cb as usize, userdata as usize));
        let callback = callback.map(|cb| verify_callback(cb, UserData(userdata)));
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                ctx.set_verify_callback(callback, origin)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// The C verify callback as the core calls it: the report in C form, with
/// NUL-terminated copies of its texts, for the callback's duration.
fn verify_callback(
    cb: unsafe extern "C" fn(*mut c_void, *const siptls_verify_report) -> u32,
    userdata: UserData,
) -> crate::verify::VerifyCallback {
    Arc::new(move |report: &Report<'_>| {
        let userdata = userdata;
        let text = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
        let (peer_name, identities, detail) = (
            text(report.peer_name),
            text(report.identities),
            text(report.detail),
        );
        let c_report = siptls_verify_report {
            struct_size: std::mem::size_of::<siptls_verify_report>() as u32,
            role: report.role,
            status: report.status,
            trust_id: report.trust_id,
            depth: report.depth,
            peer_name: peer_name.as_ptr(),
            leaf_der: if report.leaf.is_empty() {
                std::ptr::null()
            } else {
                report.leaf.as_ptr()
            },
            leaf_der_len: report.leaf.len(),
            identities: identities.as_ptr(),
            detail: detail.as_ptr(),
            override_allowed: report.override_allowed,
            generation: report.generation,
            session_userdata: report.session_userdata.0,
            resumed: report.resumed,
            purpose: report.purpose,
            ocsp_response: if report.ocsp_response.is_empty() {
                std::ptr::null()
            } else {
                report.ocsp_response.as_ptr()
            },
            ocsp_response_len: report.ocsp_response.len(),
        };
        // SAFETY: the caller registered `cb` with `userdata` for exactly this use.
        unsafe { cb(userdata.0, &c_report) == siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32 }
    })
}

/// The gateway's C clock callback as the core's time source.
fn gateway_clock(
    cb: unsafe extern "C" fn(*mut c_void, *mut u64) -> bool,
    userdata: UserData,
) -> Clock {
    Clock::Gateway(Arc::new(move || {
        let userdata = userdata;
        let mut seconds = 0u64;
        // SAFETY: as registered by the caller.
        unsafe { cb(userdata.0, &mut seconds) }.then_some(seconds)
    }))
}

/// Uses the gateway's clock for certificate validity (NULL: the system clock).
/// When the callback returns false, verification fails with SIPTLS_VERIFY_CLOCK_UNSET.
///
/// # Safety
/// As `siptls_ctx_set_verify_callback`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_time_callback(
    ctx: *mut siptls_ctx,
    callback: siptls_time_cb,
    userdata: *mut c_void,
) -> siptls_result {
    ffi::call(|| {
        let origin = callback.map(|cb| (cb as usize, userdata as usize));
        let clock = callback.map_or(Clock::System, |cb| gateway_clock(cb, UserData(userdata)));
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                ctx.set_clock(clock, origin)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Appends TLS secrets in NSS key log format to `path` (for Wireshark);
/// NULL stops logging. Debugging only: the file decrypts the traffic. It is
/// created with mode 0600; a symbolic link, anything but a regular file, and
/// an existing file others may read or write are refused (SIPTLS_ERR_IO).
///
/// # Safety
/// `ctx` must be a live context; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_keylog_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let path = if path.is_null() {
                None
            } else {
                Some(ffi::arg_path(path, "path")?)
            };
            ctx.set_keylog_file(path)
        })
    }
}

/// Hands the TLS secrets to `callback` (NULL stops key logging), on the
/// thread driving the handshake. Debugging only: they decrypt the traffic.
///
/// # Safety
/// `ctx` must be a live context; `callback` callable with `userdata` from
/// any thread until replaced or the context and its sessions are freed.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_keylog_callback(
    ctx: *mut siptls_ctx,
    callback: siptls_keylog_cb,
    userdata: *mut c_void,
) -> siptls_result {
    ffi::call(|| {
        let origin = callback.map(|cb| (cb as usize, userdata as usize));
        let callback = callback.map(|cb| keylog_callback(cb, UserData(userdata)));
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                ctx.set_keylog_callback(callback, origin)?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// The C key log callback as the core calls it.
fn keylog_callback(
    cb: unsafe extern "C" fn(*mut c_void, *const c_char),
    userdata: UserData,
) -> crate::keylog::KeyLogLine {
    Arc::new(move |line: &str| {
        let userdata = userdata;
        let line = CString::new(line).unwrap_or_default();
        // SAFETY: as registered by the caller.
        unsafe { cb(userdata.0, line.as_ptr()) }
    })
}

/// Opts in to the `SSLKEYLOGFILE` convention: when that environment variable
/// names a file, the TLS secrets are appended to it (under the same rules as
/// `siptls_ctx_set_keylog_file`), and `*enabled_out` is true; when it is unset
/// or empty, key logging is off. Contexts that never call this ignore the
/// variable.
///
/// # Safety
/// `ctx` must be a live context; `enabled_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_use_sslkeylogfile(
    ctx: *mut siptls_ctx,
    enabled_out: *mut bool,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_out(enabled_out, false) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let enabled_out = ffi::arg_out(enabled_out, "enabled_out", false)?;
                *enabled_out = ctx.use_sslkeylogfile()?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// Copies the detail text of this thread's most recent failed call on this
/// context (another thread's failures never show here; "" when none).
///
/// # Safety
/// `ctx` must be a live context; `buf` writable for `cap` bytes; `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_last_error(
    ctx: *const siptls_ctx,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_text(buf, cap, len_out) };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        unsafe { ffi::copy_text(&ctx.last_error(), buf, cap, len_out) }
    })
}
