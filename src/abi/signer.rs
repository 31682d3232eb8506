//! Keys the gateway holds: the key types, the signing callback and the
//! struct that describes a signer.

use siptls_derive::CEnum;
use std::ffi::c_void;

#[allow(unused_imports)]
use super::*;

/// The kind of private key a signing callback holds (`siptls_signer.key_type`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_key_type {
    /// ECDSA on P-256: ecdsa_secp256r1_sha256.
    SIPTLS_KEY_ECDSA_P256 = 1,
    /// ECDSA on P-384: ecdsa_secp384r1_sha384.
    SIPTLS_KEY_ECDSA_P384 = 2,
    /// RSA, 2048 to 4096 bits: rsa_pss_rsae_sha256/384/512, and for TLS 1.2
    /// peers that offer nothing else rsa_pkcs1_sha256/384/512.
    SIPTLS_KEY_RSA = 3,
    /// Ed25519.
    SIPTLS_KEY_ED25519 = 4,
}

/// What a signing callback answers. Failing is 0, so a callback returning
/// a zeroed value fails closed.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_sign_status {
    /// Any value other than SIPTLS_SIGN_OK: no signature; the handshake
    /// fails with SIPTLS_ERR_SIGNING_FAILED.
    SIPTLS_SIGN_FAILED = 0,
    /// The signature is in the buffer, its length in `*signature_len_out`.
    SIPTLS_SIGN_OK = 1,
}

/// `siptls_signer.flags`: the device returns ECDSA signatures as the raw
/// concatenation r||s (each scalar at full length); siptls encodes them as
/// the DER ECDSA-Sig-Value TLS sends.
pub const SIPTLS_SIGNER_RAW_ECDSA: u32 = 1;

/// Signs `message` (not hashed: the scheme names the hash) with the TLS
/// SignatureScheme `scheme` (IANA number, e.g. 0x0403 for
/// ecdsa_secp256r1_sha256, 0x0804 for rsa_pss_rsae_sha256) into
/// `signature`, which has room for `signature_cap` bytes; stores the
/// signature's length in `signature_len_out` and returns SIPTLS_SIGN_OK (a
/// `siptls_sign_status`). Runs on the thread driving the session, inside
/// `siptls_session_feed` or a pump call, as the verify callback does (the
/// same rules: no call on this session from inside; freeing it or its
/// context is deferred until the call returns). A slow device holds that
/// session's handshake, not others'.
#[allow(non_camel_case_types)]
pub type siptls_sign_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        scheme: u16,
        message: *const u8,
        message_len: usize,
        signature: *mut u8,
        signature_cap: usize,
        signature_len_out: *mut usize,
    ) -> u32,
>;

/// A key the gateway holds, for `siptls_ctx_add_identity_signer`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_signer {
    /// Set by the caller to `sizeof` the struct; fields past it take their defaults.
    pub struct_size: u32,
    /// The key's type (`siptls_key_type`); it must be the certificate's.
    pub key_type: u32,
    /// The signing callback (required).
    pub sign: siptls_sign_cb,
    /// Handed to `sign`.
    pub userdata: *mut c_void,
    /// SIPTLS_SIGNER_* flags (0: none).
    pub flags: u32,
}
