//! Identity vocabulary: identity IDs and a client session's options.

use std::ffi::c_char;

#[allow(unused_imports)]
use super::*;

/// The identity the single-identity calls set, and the fallback.
pub const SIPTLS_IDENTITY_DEFAULT: u32 = 0;

/// Identities one context may hold.
pub const SIPTLS_MAX_IDENTITIES: usize = 64;

/// How `siptls_session_new_with_options` makes a session. Set `struct_size` to
/// `sizeof(siptls_session_options)`; fields past a smaller size count as
/// NULL / 0.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_session_options {
    /// Set by the caller to `sizeof` the struct; fields past it take their defaults.
    pub struct_size: u32,
    /// A client: the identity to present (SIPTLS_IDENTITY_DEFAULT: the one
    /// the single-identity calls set). A server: 0 (it picks by SNI).
    pub identity_id: u32,
    /// A client: the SIP domain, host name or IP literal to reach (its
    /// certificate is checked against it). A server: NULL.
    pub peer_name: *const c_char,
    /// A client: the SNI to send instead of `peer_name` (e.g. a domain
    /// when dialling an IP literal; an IP literal here sends none); NULL
    /// sends `peer_name`.
    pub sni: *const c_char,
}
