//! The bytes the socket helper holds for a session between calls: what
//! arrived but the session could not take yet, and what it could not send.

/// The session's two waiting buffers.
#[derive(Default)]
pub struct Buffers {
    pub(super) inbound: Vec<u8>,
    pub(super) outbound: Vec<u8>,
    /// The transport ended; the session is told once `inbound` is fed.
    pub(super) ended: bool,
}
