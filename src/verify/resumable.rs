//! A stored session offered for resumption, as the checks left it.

use std::sync::Arc;

use super::outcome::PeerChain;
use super::verdicts::Verdict;

/// A stored session that passed the checks and was offered for resumption.
pub struct Resumable {
    pub chain: PeerChain,
    /// The generation of the policy whose checks it passed.
    pub(super) generation: u64,
    /// When the stored session was first issued, by its full handshake,
    /// where the store knows it (a server's sealed record).
    pub issued_at: Option<u64>,
    /// What the re-check found. `None`: nothing to report (a client that
    /// sent no certificate where none is required, or a server that does
    /// not ask for one).
    pub(super) verdict: Option<Arc<Verdict>>,
}

#[cfg(test)]
impl Resumable {
    /// A stored session as offered, without a report to make.
    pub fn offered(chain: PeerChain, issued_at: Option<u64>) -> Self {
        Self {
            chain,
            generation: 0,
            issued_at,
            verdict: None,
        }
    }
}
