//! Several identities per context: added, removed and named for SNI. The
//! session options a client uses to choose one are with the sessions.

use crate::abi::{
    siptls_key_type, siptls_result, siptls_sign_status, siptls_signer, UserData,
    SIPTLS_SIGNER_RAW_ECDSA,
};
use std::ffi::c_char;
use std::sync::Arc;

use super::siptls_ctx;

use super::handles;
use crate::ffi;
use crate::signer::{KeyKind, SignFn};

// SAFETY: repr(C); two u32, a nullable function pointer, a pointer, a u32:
// any bytes are a value.
unsafe impl ffi::PlainData for siptls_signer {}

impl From<siptls_key_type> for KeyKind {
    fn from(kind: siptls_key_type) -> Self {
        match kind {
            siptls_key_type::SIPTLS_KEY_ECDSA_P256 => KeyKind::EcdsaP256,
            siptls_key_type::SIPTLS_KEY_ECDSA_P384 => KeyKind::EcdsaP384,
            siptls_key_type::SIPTLS_KEY_RSA => KeyKind::Rsa,
            siptls_key_type::SIPTLS_KEY_ED25519 => KeyKind::Ed25519,
        }
    }
}

/// Adds identity `identity_id` from PEM in memory (certificate chain, leaf
/// first; key). ID 0 is the default identity; an ID in use is refused
/// (remove it first). Servers choose among identities by the client's SNI:
/// a name set with `siptls_ctx_set_identity_names`, or a SIP domain or
/// dNSName of the certificate; the default serves the rest.
///
/// # Safety
/// `ctx` must be a live context; `cert_pem`/`key_pem` readable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_identity_pem(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    cert_pem: *const u8,
    cert_pem_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let cert = ffi::arg_bytes(cert_pem, cert_pem_len, "cert_pem")?;
            let key = ffi::arg_bytes(key_pem, key_pem_len, "key_pem")?;
            ctx.add_identity_pem(identity_id, cert, key)
        })
    }
}

/// As `siptls_ctx_add_identity_pem`, from files.
///
/// # Safety
/// `ctx` must be a live context; both paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_identity_files(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let cert = ffi::arg_path(cert_path, "cert_path")?;
            let key = ffi::arg_path(key_path, "key_path")?;
            ctx.add_identity_files(identity_id, cert, key)
        })
    }
}

/// Adds identity `identity_id` whose private key the gateway holds (a
/// secure element, a TPM, an HSM): the certificate chain in PEM (leaf
/// first) and a signer, whose callback makes each handshake signature. The
/// signer's key type must be the certificate's (else SIPTLS_ERR_KEY_MISMATCH).
/// Works wherever an identity does: several of them, SNI selection, a
/// client's choice per destination, reloads of the others. A callback that
/// fails fails the handshake with SIPTLS_ERR_SIGNING_FAILED and a detail;
/// the peer gets an alert. IDs as `siptls_ctx_add_identity_pem`.
///
/// # Safety
/// `ctx` must be a live context; `chain_pem` readable for `chain_len`
/// bytes; `signer` readable for its `struct_size`; its callback callable
/// with its user data from any thread driving a session, until the
/// identity is removed and its sessions are freed.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_add_identity_signer(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    chain_pem: *const u8,
    chain_len: usize,
    signer: *const siptls_signer,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let chain = ffi::arg_bytes(chain_pem, chain_len, "chain_pem")?;
            let absent = siptls_signer {
                struct_size: 0,
                key_type: 0,
                sign: None,
                userdata: std::ptr::null_mut(),
                flags: 0,
            };
            let signer = ffi::read_sized(signer, absent, "signer")?;
            let kind = ffi::arg_enum::<siptls_key_type>(signer.key_type, "signer->key_type")?;
            let Some(callback) = signer.sign else {
                return Err(crate::error::Error::new(
                    siptls_result::SIPTLS_ERR_NULL_ARGUMENT,
                    "signer->sign is NULL",
                ));
            };
            let sign = signing_function(callback, UserData(signer.userdata));
            let raw = signer.flags & SIPTLS_SIGNER_RAW_ECDSA != 0;
            ctx.add_identity_signer(identity_id, chain, kind.into(), raw, sign)
        })
    }
}

/// The C signing callback as the core calls it.
fn signing_function(
    callback: unsafe extern "C" fn(
        *mut std::ffi::c_void,
        u16,
        *const u8,
        usize,
        *mut u8,
        usize,
        *mut usize,
    ) -> u32,
    userdata: UserData,
) -> SignFn {
    Arc::new(move |scheme, message, out| {
        let userdata = userdata;
        let mut len = 0usize;
        // SAFETY: the caller registered `callback` with `userdata` for
        // exactly this use; the buffers are ours, of these sizes.
        let status = unsafe {
            callback(
                userdata.0,
                u16::from(scheme),
                message.as_ptr(),
                message.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut len,
            )
        };
        if status == siptls_sign_status::SIPTLS_SIGN_OK as u32 {
            Ok(len)
        } else {
            Err(format!("it returned {status}, not SIPTLS_SIGN_OK"))
        }
    })
}

/// Staples an OCSP response (DER, RFC 6960, as `openssl ocsp -respout`
/// writes it) to identity `identity_id`: a server sends it to clients that
/// ask (status_request). It is checked first, by the gateway's clock, and
/// refused when it does not parse (SIPTLS_ERR_OCSP_MALFORMED), speaks of
/// another certificate or the issuer is neither in the identity's chain nor
/// in the trust table (SIPTLS_ERR_OCSP_MISMATCH), is outside its
/// thisUpdate..nextUpdate (SIPTLS_ERR_OCSP_STALE), is not signed by the
/// issuer or a responder it authorized for OCSPSigning
/// (SIPTLS_ERR_OCSP_UNTRUSTED), or says revoked or unknown
/// (SIPTLS_ERR_OCSP_NOT_GOOD). `der` NULL with length 0 staples nothing
/// again. Replacing the identity drops its response; its nextUpdate is in
/// the expiry list (`siptls_ctx_get_expiry`).
///
/// # Safety
/// `ctx` must be a live context; `der` NULL (with `der_len` 0) or readable
/// for `der_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_ocsp_response(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    der: *const u8,
    der_len: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let der = ffi::arg_opt_bytes(der, der_len, "der")?;
            ctx.set_ocsp_response(identity_id, der)
        })
    }
}

/// As `siptls_ctx_set_ocsp_response`, from a file that
/// `siptls_ctx_reload_if_changed` watches: a new response written there is
/// checked and stapled at the next call (SIPTLS_RELOADED_OCSP), and so is
/// the file when the identity's certificate is reloaded.
///
/// # Safety
/// `ctx` must be a live context; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_load_ocsp_file(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    path: *const c_char,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let path = ffi::arg_path(path, "path")?;
            ctx.load_ocsp_file(identity_id, path)
        })
    }
}

/// Removes identity `identity_id` (SIPTLS_ERR_INVALID_ARGUMENT if none).
/// Sessions using it keep it.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_remove_identity(
    ctx: *mut siptls_ctx,
    identity_id: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.remove_identity(identity_id)) }
}

/// Sets the exact SNI names identity `identity_id` serves besides its
/// certificate's own (virtual hosts); `count` 0 clears them. Each must be a
/// valid DNS name (not an IP literal: clients send none for those).
///
/// # Safety
/// `ctx` must be a live context; `names` readable for `count`
/// NUL-terminated strings (NULL allowed with `count` 0).
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_identity_names(
    ctx: *mut siptls_ctx,
    identity_id: u32,
    names: *const *const c_char,
    count: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let pointers = if count == 0 {
                &[][..]
            } else {
                ffi::arg_slice(names, count, "names")?
            };
            let names = pointers
                .iter()
                .map(|&p| ffi::arg_str(p, "names[i]"))
                .collect::<Result<Vec<_>, _>>()?;
            ctx.set_identity_names(identity_id, &names)
        })
    }
}
