//! The handles a C caller holds: opaque, their objects owned by the library.

/// A TLS configuration for one role, shared by many sessions and threads.
/// Create with `siptls_ctx_new`, free with `siptls_ctx_free`.
#[allow(non_camel_case_types)]
pub struct siptls_ctx {
    _private: [u8; 0],
}

/// One TLS connection. Create with `siptls_session_new`, free with
/// `siptls_session_free`. Drive it from one thread at a time.
#[allow(non_camel_case_types)]
pub struct siptls_session {
    _private: [u8; 0],
}

/// Frames one connection's SIP stream. Create with `siptls_framer_new`,
/// free with `siptls_framer_free`; one thread at a time.
#[allow(non_camel_case_types)]
pub struct siptls_framer {
    _private: [u8; 0],
}
