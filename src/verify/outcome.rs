//! What a verification produces: the outcome a session keeps, the report
//! the gateway's callback is shown, and the chain that was accepted.

use std::sync::Arc;

use pki_types::CertificateDer;

use crate::abi::{
    siptls_purpose, siptls_role, siptls_verify_status, siptls_verify_status::*, UserData,
};

/// The peer's certificate chain as it was accepted, end entity first
/// (empty: the client sent none and none was required).
pub type PeerChain = Arc<[CertificateDer<'static>]>;

/// The result of one verification, kept by the session for later queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Final status: after the callback's decision.
    pub status: siptls_verify_status,
    /// What the checks themselves found, before the callback.
    pub checked: siptls_verify_status,
    pub trust_id: u32,
    /// CA certificates in the verified path, the trust entry included; 0 for a pin.
    pub depth: u32,
    /// What the peer's certificate was accepted for (NONE: it was not).
    pub purpose: siptls_purpose,
    /// The configuration generation that verified the peer.
    pub generation: u64,
    pub detail: String,
    /// A resumed session: its stored chain was checked again, not a new one.
    pub resumed: bool,
}

impl Outcome {
    /// Whether the peer was let in (verified, or overridden by the callback).
    pub fn accepted(&self) -> bool {
        matches!(self.status, SIPTLS_VERIFY_OK | SIPTLS_VERIFY_OVERRIDDEN)
    }
}

/// What the gateway's callback is shown. Borrowed for the callback's duration.
pub struct Report<'a> {
    pub role: siptls_role,
    pub status: siptls_verify_status,
    pub trust_id: u32,
    pub depth: u32,
    pub purpose: siptls_purpose,
    pub generation: u64,
    /// The user data of the session being verified.
    pub session_userdata: UserData,
    pub peer_name: &'a str,
    pub leaf: &'a [u8],
    pub identities: &'a str,
    pub detail: &'a str,
    /// Accepting this failed chain would override it (the context allows overrides).
    pub override_allowed: bool,
    /// The chain is a resumed session's, checked again (see `Policy::may_resume`).
    pub resumed: bool,
    /// The OCSP response the server stapled (a client's full handshake), or empty.
    pub ocsp_response: &'a [u8],
}

/// Returns `true` to accept, `false` to reject.
pub type VerifyCallback = Arc<dyn Fn(&Report<'_>) -> bool + Send + Sync>;
