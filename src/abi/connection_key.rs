//! Connection-key vocabulary: the key a gateway pools outbound connections under.

#[allow(unused_imports)]
use super::*;

/// Bytes of a connection key.
pub const SIPTLS_CONNECTION_KEY_SIZE: usize = 32;

/// The key of an outbound connection (RFC 5923 reuse): equal for two
/// connections exactly when they go to the same destination address and
/// port, send the same SNI, check the server against the same name and
/// present the same client certificate. A request may ride on a pooled
/// connection only when the key `siptls_ctx_get_connection_key` gives for
/// it equals the key the connection's session had
/// (`siptls_session_get_connection_key`); compare `bytes` with memcmp.
/// Set `struct_size` to `sizeof(siptls_connection_key)`: a key is written
/// whole or not at all.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_connection_key {
    /// Set by the caller to `sizeof(siptls_connection_key)`.
    pub struct_size: u32,
    /// A SHA-256 digest over the four parts; the same in every process and
    /// version of siptls that computes it from the same parts.
    pub bytes: [u8; SIPTLS_CONNECTION_KEY_SIZE],
}
