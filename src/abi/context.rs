//! Context vocabulary: roles, protocol versions, client authentication, CRL and name policies, the three-file names, and the clock and key log callbacks.

use siptls_derive::CEnum;
use std::ffi::{c_char, c_void};

#[allow(unused_imports)]
use super::*;

/// Which end of the TLS connection a context serves.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_role {
    /// Connects to a server and verifies its certificate against the peer name.
    SIPTLS_ROLE_CLIENT = 0,
    /// Accepts connections and, by default, requires a client certificate.
    SIPTLS_ROLE_SERVER = 1,
}

/// `siptls_ctx_reload_if_changed`'s `reloaded_out`: an identity's
/// certificate or key file changed and was reloaded.
pub const SIPTLS_RELOADED_IDENTITIES: u32 = 1;

/// A CA list file changed and its trust entries were reloaded.
pub const SIPTLS_RELOADED_TRUST: u32 = 2;

/// A CRL file changed and was reloaded.
pub const SIPTLS_RELOADED_CRLS: u32 = 4;

/// The ticket key file changed and was reloaded.
pub const SIPTLS_RELOADED_TICKET_KEYS: u32 = 8;

/// An OCSP response file changed, or its identity did, and the response
/// was checked and stapled again.
pub const SIPTLS_RELOADED_OCSP: u32 = 16;

/// TLS 1.2, as `siptls_ctx_set_versions` and `protocol_version` number it.
pub const SIPTLS_TLS12: u16 = 0x0303;

/// TLS 1.3, as `siptls_ctx_set_versions` and `protocol_version` number it.
pub const SIPTLS_TLS13: u16 = 0x0304;

/// Server-side client certificate policy (`siptls_ctx_set_client_auth`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_client_auth {
    /// Mutual TLS: clients must present a certificate that verifies (default).
    SIPTLS_CLIENT_AUTH_REQUIRED = 0,
    /// Ask for a certificate and verify it when sent; let clients without one in.
    SIPTLS_CLIENT_AUTH_OPTIONAL = 1,
    /// Do not ask clients for a certificate.
    SIPTLS_CLIENT_AUTH_OFF = 2,
}

/// What to do with a certificate whose issuer has no loaded CRL.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_missing_crl {
    /// Accept it (default): CRLs add checks, they are not required.
    SIPTLS_MISSING_CRL_ALLOW = 0,
    /// Refuse it with SIPTLS_VERIFY_REVOCATION_UNKNOWN.
    SIPTLS_MISSING_CRL_DENY = 1,
}

/// What a CRL past its nextUpdate counts as (`siptls_ctx_set_expired_crl_policy`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_expired_crl {
    /// Still used: a late refresh does not cut off calls (default).
    SIPTLS_EXPIRED_CRL_USE = 0,
    /// Counts as missing (the missing-CRL policy decides); its revocations still count.
    SIPTLS_EXPIRED_CRL_MISSING = 1,
}

/// How a client matches the server's certificate to the peer name.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_name_check {
    /// RFC 5922 SIP domain rules (default).
    SIPTLS_NAME_CHECK_SIP = 0,
    /// RFC 6125 host-name rules with wildcards, for non-SIP peers.
    SIPTLS_NAME_CHECK_HOSTNAME = 1,
}

/// File names for `siptls_ctx_load_pem_dir`; a NULL member keeps its default
/// ("privateKey.pem", "publickey.pem", "CAList.pem"; no CRL file). Set
/// `struct_size` to `sizeof(siptls_pem_names)`: members past the size given
/// (from an older, smaller struct) count as NULL.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_pem_names {
    /// Set by the caller to `sizeof` the struct; fields past it take their defaults.
    pub struct_size: u32,
    /// The private key's file name; NULL: `privateKey.pem`.
    pub private_key: *const c_char,
    /// The certificate chain's file name; NULL: `publickey.pem`.
    pub certificate: *const c_char,
    /// The CA list's file name; NULL: `CAList.pem`.
    pub ca_list: *const c_char,
    /// A CRL file (PEM, one or more CRLs) in the same directory; NULL: none,
    /// and the CRLs loaded otherwise are kept.
    pub crl: *const c_char,
}

/// The gateway's clock: store seconds since the Unix epoch in `*seconds_out`
/// and return true, or return false while the clock is not synchronized.
#[allow(non_camel_case_types)]
pub type siptls_time_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, seconds_out: *mut u64) -> bool>;

/// Receives each TLS secret as one NUL-terminated NSS key log line (no
/// newline), for gateways that keep debugging output elsewhere than a file.
#[allow(non_camel_case_types)]
pub type siptls_keylog_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, line: *const c_char)>;
