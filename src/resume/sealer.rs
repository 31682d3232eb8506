//! Sealing a server's session state for later resumption, and opening it
//! only while the session may still resume (see `verify::resumed`).

use crate::abi::siptls_log_level;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::keys::KeyRing;
use super::record::{self, OwnDigest};
use super::CLOCK_SKEW_SECS;

use crate::verify::{self, CurrentPolicy, Issuing};

/// Stored peer chains a server checks again per session step, the step in
/// which rustls opens every PSK identity of a ClientHello until one
/// resumes. Each check builds a path and verifies signatures, so a
/// ClientHello repeating a ticket whose chain now fails (or whose SNI
/// differs) must not multiply it. One: rustls resumes the first identity
/// that opens and passes, so a second check is only reached after a
/// refusal, and clients offer one ticket (rustls, OpenSSL, GnuTLS).
const CHAIN_CHECKS_PER_STEP: u32 = 1;

pub struct Sealer {
    pub ring: Arc<KeyRing>,
    /// Read at each seal and open: the policy in force then decides.
    pub policy: Arc<CurrentPolicy>,
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
        let (chain, issued_at) = match verify::issuing()? {
            Issuing::Known { chain, issued_at } => (chain, issued_at.unwrap_or(now)),
            // Whichever chain were sealed, it could be another client's.
            Issuing::ChainUnknown => {
                verify::tickets_log(siptls_log_level::SIPTLS_LOG_INFO, || {
                    "no ticket or session cache entry was issued: the client offered stored sessions with different peer certificate chains, so which one this handshake resumes is not known; its next full handshake gets one".into()
                });
                return None;
            }
        };
        // It holds the session's secret, as does what `open` opens.
        let plain = Zeroizing::new(record::encode(issued_at, &own, &chain, state)?);
        self.ring.seal(now, self.lifetime, &plain)
    }

    /// Opens sealed state if a key opens it, it is within its lifetime, and
    /// its chain passes every check of the current policy again.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let now = self.policy.now_secs()?;
        let plain = Zeroizing::new(self.ring.open(now, self.lifetime, sealed)?);
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
        // An empty chain (a client that sent none) is not checked.
        if !record.chain.is_empty() {
            let earlier = verify::count_chain_check();
            if earlier >= CHAIN_CHECKS_PER_STEP {
                if earlier == CHAIN_CHECKS_PER_STEP {
                    verify::resumption_refused(|| {
                        format!("the ClientHello offers more stored sessions with a peer chain than the {CHAIN_CHECKS_PER_STEP} checked again per ClientHello; the others were not checked and do not resume")
                    });
                }
                return None;
            }
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

#[cfg(test)]
mod tests {
    use pki_types::CertificateDer;

    use super::*;
    use crate::abi::{siptls_log_event, siptls_role};
    use crate::context::Context;
    use crate::logging::LogSink;
    use crate::verify::{in_scope, Offered, PeerChain, Resumable, Step};

    const LIFETIME: u32 = 600;

    fn chain(byte: u8) -> PeerChain {
        Arc::new([CertificateDer::from(vec![0x30, byte])])
    }

    /// Seals in a server step of a session in which `offered` were offered
    /// earlier; returns the chain and issue time sealed, if anything was,
    /// and the ticket log records.
    fn seal_after(offered: &[Resumable]) -> (Option<(PeerChain, u64)>, Vec<String>) {
        let sealer = Sealer {
            ring: Arc::new(KeyRing::generated()),
            policy: Context::new(siptls_role::SIPTLS_ROLE_SERVER)
                .snapshot()
                .current
                .clone(),
            lifetime: LIFETIME,
        };
        let (sink, logged) = LogSink::keeping(siptls_log_event::SIPTLS_LOG_TICKETS);
        let step = Step {
            log: Some(sink),
            served_digest: Some([7; 32]),
            offered: Offered::of(offered),
            ..Step::default()
        };
        let (sealed, _) = in_scope(step, || sealer.seal(b"rustls state"));
        let now = sealer.policy.now_secs().unwrap();
        let issued = sealed.map(|sealed| {
            let plain = sealer.ring.open(now, LIFETIME, &sealed).unwrap();
            let record = record::decode(&plain).unwrap();
            (record.chain, record.issued_at)
        });
        let logged = logged.lock().iter().map(|(_, m)| m.clone()).collect();
        (issued, logged)
    }

    #[test]
    fn a_ticket_carries_the_chain_being_resumed_and_none_when_that_is_unknown() {
        let (a, b, anonymous) = (chain(1), chain(2), PeerChain::from([]));
        let offered = |c: &PeerChain, at: u64| Resumable::offered(c.clone(), Some(at));

        // Nothing offered, nothing verified: a client without a certificate.
        let (issued, logged) = seal_after(&[]);
        let (sealed_chain, _) = issued.expect("an anonymous full handshake's ticket");
        assert!(sealed_chain.is_empty());
        assert!(logged.is_empty(), "{logged:?}");

        for (offers, expected) in [
            (vec![offered(&anonymous, 1000)], Some((&anonymous, 1000))),
            (vec![offered(&a, 2000)], Some((&a, 2000))),
            // The same chain twice: the earliest issue time bounds both.
            (vec![offered(&a, 2000), offered(&a, 1500)], Some((&a, 1500))),
            (vec![offered(&a, 2000), offered(&b, 2000)], None),
            (vec![offered(&anonymous, 2000), offered(&a, 2000)], None),
            (
                vec![
                    offered(&a, 2000),
                    offered(&a, 2000),
                    offered(&anonymous, 2000),
                ],
                None,
            ),
        ] {
            let (issued, logged) = seal_after(&offers);
            let what = offers.iter().map(|o| o.chain.len()).collect::<Vec<_>>();
            match expected {
                Some((chain, at)) => {
                    assert_eq!(
                        issued,
                        Some((chain.clone(), at)),
                        "offered chains of lengths {what:?}"
                    );
                    assert!(logged.is_empty(), "{logged:?}");
                }
                None => {
                    assert_eq!(issued, None, "offered chains of lengths {what:?}");
                    assert_eq!(logged.len(), 1, "{logged:?}");
                    assert!(
                        logged[0].contains("different peer certificate chains"),
                        "{logged:?}"
                    );
                }
            }
        }
    }
}
