//! One processing step of one session, as the verifier and the resumption
//! stores see it. rustls calls them synchronously inside the step, on the
//! caller's thread, with no way to say which session is asking; the step
//! says it through a thread-local scope.

use crate::abi::{siptls_log_event, siptls_log_level, UserData};
use std::cell::RefCell;
use std::sync::Arc;

use pki_types::ServerName;

use super::outcome::{Outcome, PeerChain};
use super::resumable::Resumable;
use crate::counters::{Counters, Event};

use crate::logging::LogSink;
use crate::resume::OwnDigest;

/// What a step found out, handed back to the session.
#[derive(Default)]
pub struct Stepped {
    /// A full verification happened.
    pub outcome: Option<Outcome>,
    /// The chain accepted by that verification.
    pub chain: Option<PeerChain>,
    /// Stored sessions that passed the resumption checks and were offered
    /// to rustls (the one it resumes, if any, is among them).
    pub resumable: Vec<Resumable>,
    /// A server chose the identity that serves: its ID, its certificate's
    /// digest, and the SNI the client sent.
    pub served: Option<(u32, OwnDigest, Option<String>)>,
}

/// What the stored sessions offered for resumption pass on to what is
/// issued while one of them resumes.
#[derive(Clone, Default)]
pub struct Offered {
    /// Their peer chain, while they all have the same one.
    chain: Option<PeerChain>,
    /// They have different chains: which one resumes is not known yet.
    chains_differ: bool,
    /// The earliest first issue among them, where the stores know it.
    issued_at: Option<u64>,
}

impl Offered {
    pub fn of(offered: &[Resumable]) -> Self {
        let mut all = Self::default();
        for resumable in offered {
            all.add(resumable);
        }
        all
    }

    fn add(&mut self, resumable: &Resumable) {
        match &self.chain {
            None => self.chain = Some(resumable.chain.clone()),
            Some(chain) if **chain != *resumable.chain => self.chains_differ = true,
            Some(_) => {}
        }
        // Which of them resumes is not known here: the earliest bounds all.
        self.issued_at = [self.issued_at, resumable.issued_at]
            .into_iter()
            .flatten()
            .min();
    }

    fn agreed_chain(&self) -> Option<PeerChain> {
        self.chain.clone().filter(|_| !self.chains_differ)
    }
}

/// What the session tells the step about itself.
#[derive(Clone, Default)]
pub struct Step {
    pub userdata: UserData,
    pub log: Option<Arc<LogSink>>,
    /// The context's counters: refused resumptions are counted.
    pub counters: Option<Arc<Counters>>,
    /// The chain accepted by a full verification earlier in the session
    /// (tickets issued after the handshake carry it).
    pub chain: Option<PeerChain>,
    /// The stored sessions offered earlier in the session and not ruled out
    /// by a full handshake.
    pub offered: Offered,
    /// A client: the identity to present. A server: the one serving.
    pub identity: u32,
    /// A server: the certificate digest of the identity serving.
    pub served_digest: Option<OwnDigest>,
    /// A client: the name the server's certificate must carry, when the
    /// SNI sent is another.
    pub peer_name: Option<Arc<ServerName<'static>>>,
    /// Sessions may be stored (resumption is on): keep the accepted chain.
    pub keep_chain: bool,
}

struct Scope {
    step: Step,
    found: Stepped,
    /// Stored peer chains a server's stores asked to check again.
    chain_checks: u32,
}

thread_local! {
    /// A stack, because a callback may drive another session on the same thread.
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
}

/// Closes the scope even if the step unwinds.
struct ScopeGuard;

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPES.with(|s| s.borrow_mut().pop());
    }
}

/// Runs one processing step of a session whose user data is `userdata` and
/// whose accepted chain so far is `chain`; returns what the step returned
/// and what it found out.
pub fn in_scope<T>(step: Step, f: impl FnOnce() -> T) -> (T, Stepped) {
    SCOPES.with(|s| {
        s.borrow_mut().push(Scope {
            step,
            found: Stepped::default(),
            chain_checks: 0,
        })
    });
    let guard = ScopeGuard;
    let value = f();
    let found = SCOPES.with(|s| {
        s.borrow_mut()
            .last_mut()
            .map(|top| std::mem::take(&mut top.found))
            .unwrap_or_default()
    });
    drop(guard);
    (value, found)
}

/// No step is running on this thread (nor one of a session driven from an
/// outer session's callback).
pub fn none_running() -> bool {
    SCOPES.with(|s| s.borrow().is_empty())
}

fn with_top<T>(f: impl FnOnce(&mut Scope) -> T) -> Option<T> {
    SCOPES.with(|s| s.borrow_mut().last_mut().map(f))
}

pub(super) fn userdata() -> UserData {
    with_top(|top| top.step.userdata).unwrap_or(UserData::NONE)
}

pub(super) fn store_outcome(outcome: Outcome, accepted_chain: Option<PeerChain>) {
    with_top(|top| {
        top.found.outcome = Some(outcome);
        if let Some(chain) = accepted_chain {
            top.step.chain = Some(chain.clone());
            top.found.chain = Some(chain);
        }
    });
}

pub(super) fn offer_resumption(resumable: Resumable) {
    with_top(|top| {
        top.step.offered.add(&resumable);
        top.found.resumable.push(resumable);
    });
}

/// The chain the session accepted, for a client's stored session. `None`
/// outside any step, before any chain was accepted, or while stored
/// sessions with different chains are being resumed.
pub fn accepted_chain() -> Option<PeerChain> {
    with_top(|top| {
        top.step
            .chain
            .clone()
            .or_else(|| top.step.offered.agreed_chain())
    })
    .flatten()
}

/// What a server's ticket or cached session issued now carries.
pub enum Issuing {
    /// The peer chain the session accepted, and when the stored session it
    /// resumes was first issued (`None` after a full handshake): a
    /// resumption does not renew the peer's proof of its identity, so what
    /// it issues expires with what it resumes. The chain is empty when none
    /// was accepted and none offered: the client sent no certificate where
    /// none is required, or none was asked for.
    Known {
        chain: PeerChain,
        issued_at: Option<u64>,
    },
    /// Stored sessions with different chains were offered, and which one
    /// the handshake resumes is not known.
    ChainUnknown,
}

/// What a ticket or cached session issued in the current server step
/// carries; `None` outside any step.
pub fn issuing() -> Option<Issuing> {
    with_top(|top| match (&top.step.chain, &top.step.offered) {
        (Some(chain), _) => Issuing::Known {
            chain: chain.clone(),
            issued_at: None,
        },
        (None, offered) if offered.chains_differ => Issuing::ChainUnknown,
        (None, offered) => Issuing::Known {
            chain: offered.chain.clone().unwrap_or_else(|| Arc::new([])),
            issued_at: offered.issued_at,
        },
    })
}

/// Counts a stored peer chain a server is about to check again in this
/// step; returns how many it checked before in the step.
pub fn count_chain_check() -> u32 {
    with_top(|top| {
        top.chain_checks += 1;
        top.chain_checks - 1
    })
    .unwrap_or(0)
}

/// The log sink and user data of the session step running on this thread.
pub fn step_log() -> Option<(Arc<LogSink>, UserData)> {
    with_top(|top| top.step.log.clone().map(|log| (log, top.step.userdata))).flatten()
}

fn log_in_step(level: siptls_log_level, event: siptls_log_event, why: impl FnOnce() -> String) {
    if let Some((log, userdata)) = step_log() {
        log.log(level, event, userdata, why);
    }
}

/// Counts a stored session that was not resumed and logs why, in the
/// current step.
pub fn resumption_refused(why: impl FnOnce() -> String) {
    if let Some(Some(counters)) = with_top(|top| top.step.counters.clone()) {
        counters.count(Event::ResumptionRefused);
    }
    log_in_step(
        siptls_log_level::SIPTLS_LOG_INFO,
        siptls_log_event::SIPTLS_LOG_RESUMPTION_REFUSED,
        why,
    );
}

/// Logs what became of a server's tickets or ticket keys, in the current step.
pub fn tickets_log(level: siptls_log_level, what: impl FnOnce() -> String) {
    log_in_step(level, siptls_log_event::SIPTLS_LOG_TICKETS, what);
}

/// Whether the current step keeps accepted chains (resumption is on).
pub(super) fn keeps_chain() -> bool {
    with_top(|top| top.step.keep_chain).unwrap_or(false)
}

/// A server resolved which identity serves this session.
pub fn served(id: u32, digest: OwnDigest, sni: Option<String>) {
    with_top(|top| {
        top.step.identity = id;
        top.step.served_digest = Some(digest);
        top.found.served = Some((id, digest, sni));
    });
}

/// The certificate digest of the identity serving the current step, if
/// it is known (outside a server step it is not: nothing is sealed then).
pub fn served_digest() -> Option<OwnDigest> {
    with_top(|top| top.step.served_digest).flatten()
}

/// The identity the current client step presents (the default outside one).
pub fn step_identity() -> u32 {
    with_top(|top| top.step.identity).unwrap_or(crate::abi::SIPTLS_IDENTITY_DEFAULT)
}

/// The name a client step checks the server's certificate against, when
/// it is not the one rustls was given (the SNI).
pub fn step_peer_name() -> Option<Arc<ServerName<'static>>> {
    with_top(|top| top.step.peer_name.clone()).flatten()
}

#[cfg(test)]
mod tests {
    use pki_types::CertificateDer;

    use super::*;
    use crate::abi::siptls_verify_status::SIPTLS_VERIFY_OK;

    fn chain(byte: u8) -> PeerChain {
        Arc::new([CertificateDer::from(vec![0x30, byte])])
    }

    fn outcome() -> Outcome {
        Outcome {
            status: SIPTLS_VERIFY_OK,
            checked: SIPTLS_VERIFY_OK,
            trust_id: 1,
            depth: 1,
            purpose: crate::abi::siptls_purpose::SIPTLS_PURPOSE_CLIENT_AUTH,
            generation: 1,
            detail: "verified".into(),
            resumed: false,
        }
    }

    fn step_offering(offered: &[Resumable]) -> Step {
        Step {
            offered: Offered::of(offered),
            ..Step::default()
        }
    }

    #[test]
    fn a_step_inside_another_keeps_its_findings_apart() {
        assert!(none_running());
        let ((inner, outer_chain), outer) = in_scope(Step::default(), || {
            assert!(!none_running());
            let (_, inner) = in_scope(Step::default(), || {
                store_outcome(outcome(), Some(chain(1)));
            });
            (inner, accepted_chain())
        });
        assert!(none_running());
        assert_eq!(inner.outcome, Some(outcome()));
        assert_eq!(inner.chain, Some(chain(1)));
        assert!(outer.outcome.is_none() && outer.chain.is_none());
        assert_eq!(outer_chain, None, "the inner step's chain stays there");
    }

    #[test]
    fn a_step_that_unwinds_is_closed() {
        let unwound = std::panic::catch_unwind(|| {
            in_scope(Step::default(), || panic!("a callback panicked"))
        });
        assert!(unwound.is_err());
        assert!(none_running(), "the scope was popped while unwinding");
        assert_eq!(count_chain_check(), 0, "and nothing is counted into it");
    }

    #[test]
    fn the_accepted_chain_is_the_verified_one_or_else_what_every_offer_agrees_on() {
        assert_eq!(accepted_chain(), None, "outside any step");
        let (a, b) = (chain(1), chain(2));
        let offered = |c: &PeerChain| Resumable::offered(c.clone(), None);

        let agreed = in_scope(step_offering(&[offered(&a), offered(&a)]), accepted_chain).0;
        assert_eq!(agreed, Some(a.clone()));
        let differing = in_scope(step_offering(&[offered(&a), offered(&b)]), accepted_chain).0;
        assert_eq!(differing, None, "which one resumes is not known");

        let verified = Step {
            chain: Some(b.clone()),
            ..step_offering(&[offered(&a), offered(&b)])
        };
        assert_eq!(in_scope(verified, accepted_chain).0, Some(b.clone()));
        // A chain verified within the step counts from then on.
        let later = in_scope(step_offering(&[offered(&a)]), || {
            store_outcome(outcome(), Some(b.clone()));
            accepted_chain()
        });
        assert_eq!(later.0, Some(b));
        assert_eq!(later.1.chain, Some(chain(2)));
    }

    #[test]
    fn chain_checks_are_counted_per_step() {
        let (counts, _) = in_scope(Step::default(), || {
            [
                count_chain_check(),
                count_chain_check(),
                count_chain_check(),
            ]
        });
        assert_eq!(counts, [0, 1, 2]);
        assert_eq!(in_scope(Step::default(), count_chain_check).0, 0);
        assert_eq!(count_chain_check(), 0, "outside any step");
    }

    #[test]
    fn offers_made_in_a_step_are_found_and_reach_what_it_issues() {
        let a = chain(1);
        let ((), found) = in_scope(Step::default(), || {
            offer_resumption(Resumable::offered(a.clone(), Some(200)));
            offer_resumption(Resumable::offered(a.clone(), Some(100)));
            match issuing() {
                Some(Issuing::Known { chain, issued_at }) => {
                    assert_eq!((chain, issued_at), (a.clone(), Some(100)));
                }
                _ => panic!("one chain offered: it is known"),
            }
            offer_resumption(Resumable::offered(chain(2), Some(50)));
            assert!(matches!(issuing(), Some(Issuing::ChainUnknown)));
        });
        assert_eq!(found.resumable.len(), 3);
        assert!(issuing().is_none(), "outside any step");
    }
}
