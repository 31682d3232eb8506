//! Resumption under the current trust configuration: a stored session
//! carries the peer chain that was accepted when it was made, and may
//! resume only if that chain passes every check again now (trust entry
//! still there, nothing revoked by the CRLs loaded since, still valid by
//! the gateway's clock, names). Otherwise the stores hand rustls nothing
//! and a full handshake, with full verification, takes place.

use std::sync::Arc;

use crate::abi::{siptls_role, UserData};
use pki_types::{CertificateDer, ServerName};

use super::checked::Checked;
use super::outcome::{Outcome, PeerChain, Report};
use super::policy::{ClientAuth, Policy};
use super::resumable::Resumable;
use super::scope;
use super::verdicts::{Verdict, Verdicts};
use crate::abi::siptls_verify_status::*;

use crate::names;

impl Policy {
    /// Whether a stored session whose accepted chain was `chain` may resume
    /// now; if so, it is recorded in the current step for `report_resumed`
    /// (with `issued_at`, see `Resumable`).
    /// Only chains that pass outright resume: one let in by an override of
    /// the callback gets a full handshake, and the callback decides again.
    pub fn may_resume(
        &self,
        chain: &PeerChain,
        expected_name: Option<&ServerName<'_>>,
        issued_at: Option<u64>,
    ) -> bool {
        let verdict = match (chain.split_first(), self.role, self.settings.client_auth) {
            // Not asking now: a session that carries a chain would show one
            // that nothing checks; it gets a full handshake instead.
            (None, siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Off) => None,
            (Some(_), siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Off) => {
                scope::resumption_refused(|| {
                    "A stored session was not resumed: it carries a client certificate, and client authentication is off now.".into()
                });
                return false;
            }
            (None, siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Optional) => None,
            (None, _, _) => {
                scope::resumption_refused(|| {
                    "A stored session was not resumed: it has no peer certificate to check.".into()
                });
                return false;
            }
            (Some((leaf, intermediates)), _, _) => {
                match self.recheck(chain, leaf, intermediates, expected_name) {
                    Ok(verdict) => Some(verdict),
                    Err(checked) => {
                        scope::resumption_refused(|| {
                            format!(
                                "A stored session was not resumed: its peer chain fails under the configuration in force ({}). {}",
                                checked.status.name().to_string_lossy(),
                                checked.detail
                            )
                        });
                        return false;
                    }
                }
            }
        };
        scope::offer_resumption(Resumable {
            chain: chain.clone(),
            generation: self.generation,
            issued_at,
            verdict,
        });
        true
    }

    /// Every check of `chain` (`leaf` and `intermediates`) again at the
    /// gateway clock's time: the verdict remembered for it under this
    /// policy while that provably holds (see `verdicts`), or else the
    /// checks in full, a pass then remembered.
    fn recheck(
        &self,
        chain: &PeerChain,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
    ) -> Result<Arc<Verdict>, Checked> {
        let now = self.settings.clock.now();
        let seconds = now.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
        let key = Verdicts::key(chain, expected_name);
        if let Some(verdict) = seconds.and_then(|s| self.verdicts.recall(&key, s)) {
            return Ok(verdict);
        }
        let looked = names::identities(leaf);
        let ids = looked.as_ref().map(|l| &*l.ids);
        let checked = self.check_at(leaf, intermediates, expected_name, ids, now);
        match (checked.status, seconds) {
            (SIPTLS_VERIFY_OK, Some(seconds)) => {
                let identities = ids.map(|i| i.listing.join(", ")).unwrap_or_default();
                if let Some(looked) = &looked {
                    looked.accepted();
                }
                Ok(self
                    .verdicts
                    .remember(key, chain, seconds, checked, identities))
            }
            _ => Err(checked),
        }
    }

    /// The handshake resumed `resumable`: tells the callback (as a report
    /// with `resumed` set) and returns the outcome the session keeps. The
    /// callback may still reject; the session then fails. The generation
    /// reported is the one whose checks the stored chain passed.
    pub fn report_resumed(&self, resumable: &Resumable, userdata: UserData) -> Option<Outcome> {
        let verdict = resumable.verdict.as_ref()?;
        let checked = &verdict.checked;
        let leaf = resumable.chain.first()?;
        let detail = format!("The stored session resumed: {}", checked.detail);
        let accepted = self.report(&Report {
            role: self.role,
            status: SIPTLS_VERIFY_OK,
            trust_id: checked.trust_id,
            depth: checked.depth,
            purpose: checked.purpose,
            generation: resumable.generation,
            session_userdata: userdata,
            peer_name: checked.checked_name.as_deref().unwrap_or_default(),
            leaf: leaf.as_ref(),
            identities: &verdict.identities,
            detail: &detail,
            override_allowed: false,
            resumed: true,
            ocsp_response: &[],
        });
        let (status, detail) = if accepted {
            (SIPTLS_VERIFY_OK, detail)
        } else {
            (
                SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                format!("The verify callback rejected the peer. {detail}"),
            )
        };
        Some(Outcome {
            status,
            checked: SIPTLS_VERIFY_OK,
            trust_id: checked.trust_id,
            depth: checked.depth,
            purpose: checked.purpose,
            generation: resumable.generation,
            detail,
            resumed: true,
        })
    }

    /// The gateway's time in seconds, or `None` while its clock is unset
    /// (then no ticket is issued or accepted).
    pub fn now_secs(&self) -> Option<u64> {
        self.settings.clock.now().map(|t| t.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use parking_lot::Mutex;
    use x509_parser::prelude::{FromDer, X509Certificate};

    use super::*;
    use crate::abi::{siptls_log_event, siptls_verify_status};
    use crate::clock::Clock;
    use crate::context::Context;
    use crate::crl::{ExpiredCrl, MissingCrl};
    use crate::logging::LogSink;
    use crate::testing::{
        assert_sentence_naming, chain, client_context, pki, server_context, ROOT_ID, SERVER_NAME,
        SERVER_SERIAL,
    };
    use crate::verify::{in_scope, PeerChain, Step, Stepped};

    const ISSUED_AT: u64 = 1_700_000_000;

    /// Whether the policy `ctx` has in force lets `chain` resume, asked in
    /// a session step as the stores ask; with what the step found and the
    /// refusals it logged.
    fn may_resume(
        ctx: &Context,
        chain: &PeerChain,
        name: Option<&str>,
    ) -> (bool, Stepped, Vec<String>) {
        let (log, kept) = LogSink::keeping(siptls_log_event::SIPTLS_LOG_RESUMPTION_REFUSED);
        let step = Step {
            log: Some(log),
            counters: Some(ctx.counters().clone()),
            ..Step::default()
        };
        let name = name.map(|n| ServerName::try_from(n.to_string()).unwrap());
        let policy = ctx.snapshot().current.get();
        let (resumes, stepped) = in_scope(step, || {
            policy.may_resume(chain, name.as_ref(), Some(ISSUED_AT))
        });
        let logged = kept.lock().iter().map(|(_, m)| m.clone()).collect();
        (resumes, stepped, logged)
    }

    /// `chain` may not resume now; the refusal is logged, counted, and
    /// names `what`.
    fn assert_refused(ctx: &Context, chain: &PeerChain, name: Option<&str>, what: &str) {
        let refused_before = ctx.counters().snapshot().resumption_refused;
        let (resumes, stepped, logged) = may_resume(ctx, chain, name);
        assert!(!resumes, "{what}");
        assert!(stepped.resumable.is_empty(), "nothing offered");
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_sentence_naming(&logged[0], what);
        assert_eq!(
            ctx.counters().snapshot().resumption_refused,
            refused_before + 1
        );
    }

    #[test]
    fn a_stored_chain_that_passes_now_is_offered_with_its_checks() {
        let f = pki();
        let ctx = client_context();
        let stored = chain(&[&f.server]);
        let (resumes, stepped, logged) = may_resume(&ctx, &stored, Some(SERVER_NAME));
        assert!(resumes);
        assert!(logged.is_empty(), "{logged:?}");
        let [offered] = &stepped.resumable[..] else {
            panic!("one stored session offered");
        };
        assert_eq!(offered.chain, stored);
        assert_eq!(offered.issued_at, Some(ISSUED_AT));
        assert_eq!(offered.generation, ctx.generation());
        let verdict = offered.verdict.as_ref().unwrap();
        let checked = &verdict.checked;
        assert_eq!(
            (checked.status, checked.trust_id, checked.depth),
            (SIPTLS_VERIFY_OK, ROOT_ID, 1)
        );
        // Offered again, the verdict is recalled, not checked again.
        let (resumes, again, _) = may_resume(&ctx, &stored, Some(SERVER_NAME));
        assert!(resumes);
        assert!(Arc::ptr_eq(
            verdict,
            again.resumable[0].verdict.as_ref().unwrap()
        ));
        // The name is checked again: a session stored for one peer is not
        // offered to another.
        assert_refused(&ctx, &stored, Some("other.example.test"), "NAME_MISMATCH");
    }

    /// A gateway clock the test steps, as SNTP would: no configuration
    /// change, so the policy (and what it remembers) stays in force.
    fn stepped_clock(ctx: &Context) -> Arc<AtomicU64> {
        let secs = Arc::new(AtomicU64::new(0));
        let read = secs.clone();
        let clock = Clock::Gateway(Arc::new(move || Some(read.load(Ordering::Relaxed))));
        ctx.set_clock(clock, None).unwrap();
        secs
    }

    /// A certificate's notBefore and notAfter, in seconds.
    fn validity(issued: &siptls_certgen::Issued) -> (u64, u64) {
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        let at = |t: x509_parser::time::ASN1Time| u64::try_from(t.timestamp()).unwrap();
        (
            at(cert.validity().not_before),
            at(cert.validity().not_after),
        )
    }

    /// The verdict `chain` resumed with, asserting that it resumed.
    fn resumed_verdict(ctx: &Context, chain: &PeerChain) -> Arc<Verdict> {
        let (resumes, mut stepped, logged) = may_resume(ctx, chain, Some(SERVER_NAME));
        assert!(resumes, "{logged:?}");
        stepped.resumable.pop().unwrap().verdict.unwrap()
    }

    #[test]
    fn a_remembered_verdict_ends_the_second_the_chain_leaves_its_validity() {
        let f = pki();
        let ctx = client_context();
        let clock = stepped_clock(&ctx);
        let stored = chain(&[&f.server]);
        let (not_before, not_after) = validity(&f.server);
        clock.store(not_before + 100, Ordering::Relaxed);
        let first = resumed_verdict(&ctx, &stored);
        assert!(Arc::ptr_eq(&first, &resumed_verdict(&ctx, &stored)));

        clock.store(not_after + 1, Ordering::Relaxed);
        assert_refused(&ctx, &stored, Some(SERVER_NAME), "(EXPIRED)");
        // Its last second still counts (RFC 5280), and is checked in full.
        clock.store(not_after, Ordering::Relaxed);
        assert!(!Arc::ptr_eq(&first, &resumed_verdict(&ctx, &stored)));
        // A clock stepped back before the certificate began.
        clock.store(not_before - 1, Ordering::Relaxed);
        assert_refused(&ctx, &stored, Some(SERVER_NAME), "(NOT_YET_VALID)");
        // Back inside: what was remembered holds again.
        clock.store(not_before + 5_000, Ordering::Relaxed);
        assert!(Arc::ptr_eq(&first, &resumed_verdict(&ctx, &stored)));
    }

    #[test]
    fn a_remembered_verdict_ends_the_second_its_trust_entry_expires() {
        use siptls_certgen::{Authority, KeyAlg, LeafSpec};
        use time::{Duration, OffsetDateTime};
        // A root that expires a month from now, with a leaf valid for a year.
        let now = OffsetDateTime::now_utc();
        let root = Authority::root_with(
            "Short-lived Root",
            KeyAlg::EcdsaP256,
            now - Duration::days(1),
            now + Duration::days(30),
        );
        let leaf = root.leaf(&LeafSpec::sip(SERVER_NAME));
        let ctx = Context::new(siptls_role::SIPTLS_ROLE_CLIENT);
        ctx.trust_add(ROOT_ID, root.issued().cert_pem.as_bytes())
            .unwrap();
        let clock = stepped_clock(&ctx);
        let stored = chain(&[&leaf]);
        let (_, root_until) = validity(root.issued());
        assert!(validity(&leaf).1 > root_until + 1);
        clock.store(root_until - 60, Ordering::Relaxed);
        let first = resumed_verdict(&ctx, &stored);
        assert!(Arc::ptr_eq(&first, &resumed_verdict(&ctx, &stored)));
        clock.store(root_until + 1, Ordering::Relaxed);
        assert_refused(&ctx, &stored, Some(SERVER_NAME), "Short-lived Root");
    }

    #[test]
    fn a_remembered_verdict_ends_the_second_a_crl_it_relied_on_goes_stale() {
        let f = pki();
        let ctx = client_context();
        ctx.set_missing_crl_policy(MissingCrl::Deny).unwrap();
        ctx.set_expired_crl_policy(ExpiredCrl::Missing).unwrap();
        let crl = f.root.crl(&[], 1);
        ctx.add_crls(crl.pem.as_bytes()).unwrap();
        let next_update = ctx
            .snapshot()
            .policy
            .crls
            .iter()
            .next()
            .unwrap()
            .next_update;
        let next_update = u64::try_from(next_update).unwrap();
        let clock = stepped_clock(&ctx);
        let stored = chain(&[&f.server]);
        clock.store(next_update - 60, Ordering::Relaxed);
        let first = resumed_verdict(&ctx, &stored);
        assert!(Arc::ptr_eq(&first, &resumed_verdict(&ctx, &stored)));
        clock.store(next_update + 1, Ordering::Relaxed);
        assert_refused(&ctx, &stored, Some(SERVER_NAME), "(REVOCATION_UNKNOWN)");
        // Where a stale CRL still counts, the chain resumes after nextUpdate too.
        ctx.set_expired_crl_policy(ExpiredCrl::Use).unwrap();
        resumed_verdict(&ctx, &stored);
    }

    #[test]
    fn a_chain_whose_trust_entry_was_removed_may_not_resume() {
        let f = pki();
        let ctx = server_context();
        let stored = chain(&[&f.client]);
        assert!(may_resume(&ctx, &stored, None).0);
        ctx.trust_remove(ROOT_ID).unwrap();
        assert_refused(&ctx, &stored, None, "(UNKNOWN_CA)");
        assert_refused(&ctx, &stored, None, "CN=gw.example.test");
    }

    #[test]
    fn a_chain_a_crl_revokes_since_may_not_resume() {
        let f = pki();
        let ctx = client_context();
        let stored = chain(&[&f.server]);
        assert!(may_resume(&ctx, &stored, Some(SERVER_NAME)).0);
        ctx.add_crls(f.root.crl(&[SERVER_SERIAL], 2).pem.as_bytes())
            .unwrap();
        assert_refused(&ctx, &stored, Some(SERVER_NAME), "(REVOKED)");
    }

    #[test]
    fn what_resumes_follows_whether_client_certificates_are_asked_for_now() {
        let f = pki();
        let ctx = server_context();
        let (with_cert, without) = (chain(&[&f.client]), PeerChain::from([]));
        assert_refused(&ctx, &without, None, "has no peer certificate");

        ctx.set_client_auth(ClientAuth::Optional).unwrap();
        let (resumes, stepped, _) = may_resume(&ctx, &without, None);
        assert!(resumes, "an anonymous client where none is required");
        assert!(stepped.resumable[0].verdict.is_none(), "nothing to report");
        assert!(may_resume(&ctx, &with_cert, None).0);

        ctx.set_client_auth(ClientAuth::Off).unwrap();
        assert_refused(&ctx, &with_cert, None, "client authentication is off now");
        assert!(may_resume(&ctx, &without, None).0);

        // A client always needs the server's chain.
        let client = client_context();
        assert_refused(&client, &without, Some(SERVER_NAME), "no peer certificate");
    }

    /// Installs a callback answering `accept`; returns the status,
    /// generation and `resumed` flag of each report it sees.
    fn callback(ctx: &Context, accept: bool) -> Arc<Mutex<Vec<(siptls_verify_status, u64, bool)>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        ctx.set_verify_callback(
            Some(Arc::new(move |r: &Report<'_>| {
                keep.lock().push((r.status, r.generation, r.resumed));
                accept
            })),
            None,
        )
        .unwrap();
        seen
    }

    #[test]
    fn a_resumption_is_reported_with_the_generation_whose_checks_it_passed() {
        let f = pki();
        let ctx = server_context();
        let seen = callback(&ctx, true);
        let checked_at = ctx.generation();
        let (_, mut stepped, _) = may_resume(&ctx, &chain(&[&f.client]), None);
        let resumable = stepped.resumable.pop().unwrap();
        ctx.set_max_ca_depth(3).unwrap();
        let in_force = ctx.snapshot().current.get();
        assert_eq!(in_force.generation(), checked_at + 1);

        let outcome = in_force
            .report_resumed(&resumable, UserData::NONE)
            .expect("a chain was checked");
        assert!(outcome.resumed && outcome.accepted());
        assert_eq!(
            (
                outcome.status,
                outcome.trust_id,
                outcome.depth,
                outcome.generation
            ),
            (SIPTLS_VERIFY_OK, ROOT_ID, 1, checked_at)
        );
        assert!(outcome.detail.starts_with("The stored session resumed: "));
        assert_sentence_naming(&outcome.detail, "trust ID 1");
        assert_eq!(*seen.lock(), [(SIPTLS_VERIFY_OK, checked_at, true)]);

        let seen = callback(&ctx, false);
        let refused = ctx
            .snapshot()
            .current
            .get()
            .report_resumed(&resumable, UserData::NONE)
            .unwrap();
        assert_eq!(
            (refused.status, refused.checked, refused.resumed),
            (SIPTLS_VERIFY_REJECTED_BY_CALLBACK, SIPTLS_VERIFY_OK, true)
        );
        assert!(!refused.accepted());
        assert_eq!(refused.generation, checked_at);
        assert_eq!(seen.lock().len(), 1);
    }

    #[test]
    fn a_resumption_without_a_checked_chain_reports_nothing() {
        let ctx = server_context();
        ctx.set_client_auth(ClientAuth::Off).unwrap();
        let seen = callback(&ctx, false);
        let (_, mut stepped, _) = may_resume(&ctx, &PeerChain::from([]), None);
        let resumable = stepped.resumable.pop().unwrap();
        let policy = ctx.snapshot().current.get();
        assert_eq!(policy.report_resumed(&resumable, UserData::NONE), None);
        assert!(seen.lock().is_empty(), "the callback is not asked");
    }
}
