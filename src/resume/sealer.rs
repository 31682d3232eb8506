//! Sealing a server's session state for later resumption, and opening it
//! only while the session may still resume (see `verify::resumed`).

use std::sync::Arc;

use super::keys::KeyRing;
use super::record::{self, OwnDigest};
use crate::verify::{self, Policy};

/// How far in the future a ticket's issue time may be: the clocks of a
/// farm's servers differ a little.
const CLOCK_SKEW_SECS: u64 = 60;

pub struct Sealer {
    pub ring: Arc<KeyRing>,
    pub policy: Arc<Policy>,
    /// Seconds a sealed session stays resumable.
    pub lifetime: u32,
}

/// The digest a sealed session is bound to.
pub fn own_digest(certificate: &[u8]) -> OwnDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, certificate);
    let mut own = [0u8; 32];
    own.copy_from_slice(digest.as_ref());
    own
}

impl Sealer {
    /// Seals rustls' state with the chain accepted in the current step.
    /// Nothing is issued outside a session step or without a trustworthy time.
    /// It is bound to the certificate the server presented: a session
    /// resumes only where that one is presented, so a replaced certificate
    /// (renewed, its key compromised) is shown in a full handshake. Issued
    /// while a stored session resumes, it keeps that session's issue time,
    /// so a session resumes for one lifetime after its full handshake
    /// however often it resumes.
    pub fn seal(&self, state: &[u8]) -> Option<Vec<u8>> {
        let own = verify::served_digest()?;
        let now = self.policy.now_secs()?;
        let chain = verify::accepted_chain().unwrap_or_else(|| Arc::new([]));
        let issued_at = verify::resumed_issued_at().unwrap_or(now);
        let plain = record::encode(issued_at, &own, &chain, state)?;
        self.ring.seal(now, self.lifetime, &plain)
    }

    /// Opens sealed state if a key opens it, it is within its lifetime, and
    /// its chain passes every check of the current policy again.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let now = self.policy.now_secs()?;
        let plain = self.ring.open(now, self.lifetime, sealed)?;
        let record = record::decode(&plain)?;
        if Some(record.own) != verify::served_digest() {
            verify::resumption_refused(|| {
                "the ticket was issued under another server certificate".into()
            });
            return None;
        }
        let fresh = record.issued_at <= now.saturating_add(CLOCK_SKEW_SECS)
            && now.saturating_sub(record.issued_at) <= u64::from(self.lifetime);
        if !fresh {
            verify::resumption_refused(|| {
                format!(
                    "the ticket was issued at {} (now {now}), outside its {} s lifetime",
                    record.issued_at, self.lifetime
                )
            });
            return None;
        }
        if !self
            .policy
            .may_resume(&record.chain, None, Some(record.issued_at))
        {
            return None;
        }
        Some(record.state.to_vec())
    }
}
