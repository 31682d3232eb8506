//! Session vocabulary: how it closed, how its handshake went, and its info struct.

#[allow(unused_imports)]
use super::*;
use siptls_derive::CEnum;

/// How the TLS session has ended, if it has.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_close_state {
    /// Still open (or closing from our side only).
    SIPTLS_CLOSE_OPEN = 0,
    /// The peer sent close_notify: everything it sent has arrived.
    SIPTLS_CLOSE_CLEAN = 1,
    /// The transport ended without close_notify: data may have been cut off.
    SIPTLS_CLOSE_TRUNCATED = 2,
}

/// How the handshake went.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_handshake_kind {
    /// Not finished yet.
    SIPTLS_HANDSHAKE_PENDING = 0,
    /// A full handshake: the peer's chain was verified.
    SIPTLS_HANDSHAKE_FULL = 1,
    /// A full TLS 1.3 handshake after a HelloRetryRequest (an extra round trip).
    SIPTLS_HANDSHAKE_FULL_WITH_RETRY = 2,
    /// A stored session resumed; its chain passed the checks again.
    SIPTLS_HANDSHAKE_RESUMED = 3,
}

/// A session's state, filled by `siptls_session_get_info`. Set `struct_size`
/// to `sizeof(siptls_session_info)` first.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_session_info {
    /// Set by the caller; the library writes at most this many bytes and
    /// stores how many it wrote.
    pub struct_size: u32,
    /// The role of the session's context.
    pub role: siptls_role,
    /// 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3); 0 before it is negotiated.
    pub protocol_version: u16,
    /// IANA cipher suite number; 0 before it is negotiated. See `siptls_cipher_suite_str`.
    pub cipher_suite: u16,
    /// Whether, and how, the session has ended.
    pub close_state: siptls_close_state,
    /// Final verification status (after the callback's decision).
    pub verify_status: siptls_verify_status,
    /// What the checks found before the callback (differs when overridden or rejected).
    pub verify_checked: siptls_verify_status,
    /// Trust entry that anchored the peer's chain, or SIPTLS_TRUST_ID_NONE.
    pub trust_id: u32,
    /// CA certificates in the verified path, the trust entry included; 0 when pinned.
    pub depth: u32,
    /// The fatal alert the peer sent (TLS AlertDescription), or -1.
    pub alert_received: i32,
    /// The handshake is still running: keep pumping; do not write yet.
    pub handshaking: bool,
    /// Ciphertext is waiting: call `siptls_session_take` and send it.
    pub wants_send: bool,
    /// Whether a peer certificate verification has happened (the verify fields are set).
    pub verified: bool,
    /// The session failed: plaintext authenticated before the failure can still be read,
    /// its alert taken and sent; then only free remains.
    pub failed: bool,
    /// The context's configuration generation this session was created with.
    pub generation: u64,
    /// Full, full after a HelloRetryRequest, or resumed; PENDING until the handshake ends.
    pub handshake_kind: siptls_handshake_kind,
    /// IANA named group of the key exchange (e.g. 0x001d X25519, 0x11ec
    /// X25519MLKEM768); 0 before it is known, and for a TLS 1.2 resumption.
    pub key_exchange_group: u32,
    /// A client: the identity it presents. A server: the one that served
    /// (chosen by SNI), once the ClientHello has arrived.
    pub identity_id: u32,
    /// A server: the length of the SNI the client sent (0: none); read it
    /// with `siptls_session_get_sni`.
    pub sni_len: u32,
    /// The generation of the configuration the session bound: a client's
    /// when it was made, a server's when the ClientHello arrived (identity,
    /// suites, versions, client authentication). `generation` is the one
    /// the peer was verified under, which may be later.
    pub hello_generation: u64,
}
