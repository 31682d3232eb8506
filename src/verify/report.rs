//! What one verification tells the gateway: the report its callback sees,
//! the callback's decision (reject, or override when allowed), and the
//! outcome the session keeps.

use crate::abi::{siptls_purpose, siptls_verify_status::*, UserData, SIPTLS_TRUST_ID_NONE};

use pki_types::{CertificateDer, ServerName};

use super::outcome::{Outcome, PeerChain, Report};
use super::policy::Policy;
use super::scope;

use crate::names;

/// The chain as presented, owned, for tickets and cached sessions to carry.
fn chain_of(leaf: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>]) -> PeerChain {
    std::iter::once(leaf)
        .chain(intermediates)
        .map(|c| c.clone().into_owned())
        .collect()
}

impl Policy {
    pub(super) fn report(&self, report: &Report<'_>) -> bool {
        self.settings
            .callback
            .as_ref()
            .is_none_or(|callback| callback(report))
    }

    /// Verifies, consults the callback, records the outcome for the session,
    /// and tells rustls whether to continue.
    pub fn verify(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
        ocsp_response: &[u8],
    ) -> Result<(), rustls::Error> {
        let looked = names::identities(leaf);
        let ids = looked.as_ref().map(|l| &*l.ids);
        let checked = self.check(leaf, intermediates, expected_name, ids);
        if let (SIPTLS_VERIFY_OK, Some(looked)) = (checked.status, &looked) {
            looked.accepted();
        }
        let identities = ids.map(|i| i.listing.join(", ")).unwrap_or_default();
        // Before the chain is known, only a client's own peer name applies.
        let peer_name = checked
            .checked_name
            .clone()
            .or_else(|| expected_name.map(|n| n.to_str().into_owned()))
            .unwrap_or_default();
        let accepted = self.report(&Report {
            role: self.role,
            status: checked.status,
            trust_id: checked.trust_id,
            depth: checked.depth,
            purpose: checked.purpose,
            generation: self.generation,
            session_userdata: scope::userdata(),
            peer_name: &peer_name,
            leaf: leaf.as_ref(),
            identities: &identities,
            detail: &checked.detail,
            override_allowed: checked.status != SIPTLS_VERIFY_OK && self.settings.allow_override,
            resumed: false,
            ocsp_response,
        });
        let (status, detail) = match (checked.status, accepted) {
            (SIPTLS_VERIFY_OK, true) => (SIPTLS_VERIFY_OK, checked.detail),
            (SIPTLS_VERIFY_OK, false) => (
                SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                format!("The verify callback rejected the peer. {}", checked.detail),
            ),
            (failed, true) if self.settings.allow_override => (
                SIPTLS_VERIFY_OVERRIDDEN,
                format!(
                    "The verify callback accepted the peer although its certificate failed with {} (siptls_ctx_set_allow_override allows it). {}",
                    failed.name().to_string_lossy(),
                    checked.detail
                ),
            ),
            (failed, _) => (failed, checked.detail),
        };
        let outcome = Outcome {
            status,
            checked: checked.status,
            trust_id: checked.trust_id,
            depth: checked.depth,
            purpose: checked.purpose,
            generation: self.generation,
            detail,
            resumed: false,
        };
        let accepted = outcome.accepted();
        // The chain is copied only where a stored session will carry it.
        let keep = accepted && scope::keeps_chain();
        scope::store_outcome(outcome, keep.then(|| chain_of(leaf, intermediates)));
        if accepted {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                status.to_certificate_error(),
            ))
        }
    }

    /// The peer sent no certificate: reported like any other outcome, but no
    /// decision can change it (required: the handshake already failed;
    /// optional: the anonymous client is let in and the session says so).
    /// `required`: client authentication was required when the ClientHello
    /// arrived (what the handshake asked of the client).
    pub fn report_no_certificate(&self, required: bool, session_userdata: UserData) -> Outcome {
        let detail = if required {
            "The client sent no certificate, and client authentication is required (siptls_ctx_set_client_auth)."
        } else {
            "The client sent no certificate, which optional client authentication allows."
        };
        self.report(&Report {
            role: self.role,
            status: SIPTLS_VERIFY_NO_CERTIFICATE,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            purpose: siptls_purpose::SIPTLS_PURPOSE_NONE,
            generation: self.generation,
            session_userdata,
            peer_name: "",
            leaf: &[],
            identities: "",
            detail,
            override_allowed: false,
            resumed: false,
            ocsp_response: &[],
        });
        Outcome {
            status: SIPTLS_VERIFY_NO_CERTIFICATE,
            checked: SIPTLS_VERIFY_NO_CERTIFICATE,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            purpose: siptls_purpose::SIPTLS_PURPOSE_NONE,
            generation: self.generation,
            detail: detail.into(),
            resumed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parking_lot::Mutex;

    use super::*;
    use crate::abi::siptls_verify_status;
    use crate::context::Context;
    use crate::testing::{
        assert_sentence_naming, chain, client_context, der, pki, server_context, ROOT_ID,
        SERVER_NAME,
    };
    use crate::verify::{in_scope, Step, Stepped};
    use siptls_certgen::Issued;

    /// What the callback was shown, owned.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Seen {
        status: siptls_verify_status,
        trust_id: u32,
        depth: u32,
        generation: u64,
        peer_name: String,
        leaf: Vec<u8>,
        identities: String,
        detail: String,
        override_allowed: bool,
        resumed: bool,
    }

    /// Installs a callback answering `accept`, and returns what it sees.
    fn callback(ctx: &Context, accept: bool) -> Arc<Mutex<Vec<Seen>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        let callback: crate::verify::VerifyCallback = Arc::new(move |r: &Report<'_>| {
            keep.lock().push(Seen {
                status: r.status,
                trust_id: r.trust_id,
                depth: r.depth,
                generation: r.generation,
                peer_name: r.peer_name.into(),
                leaf: r.leaf.into(),
                identities: r.identities.into(),
                detail: r.detail.into(),
                override_allowed: r.override_allowed,
                resumed: r.resumed,
            });
            accept
        });
        ctx.set_verify_callback(Some(callback), None).unwrap();
        seen
    }

    /// A full verification by the policy `ctx` has in force, in a step
    /// that keeps accepted chains, as a session runs it.
    fn verified(
        ctx: &Context,
        certs: &[&Issued],
        name: Option<&str>,
    ) -> (Result<(), rustls::Error>, Stepped) {
        let certs = chain(certs);
        let (leaf, intermediates) = certs.split_first().unwrap();
        let name = name.map(|n| ServerName::try_from(n.to_string()).unwrap());
        let step = Step {
            keep_chain: true,
            ..Step::default()
        };
        let policy = ctx.snapshot().current.get();
        in_scope(step, || {
            policy.verify(leaf, intermediates, name.as_ref(), &[])
        })
    }

    #[test]
    fn the_callback_sees_the_report_and_may_reject_a_chain_that_passed() {
        let f = pki();
        let ctx = client_context();
        let seen = callback(&ctx, false);
        let (result, stepped) = verified(&ctx, &[&f.server], Some(SERVER_NAME));
        assert!(matches!(
            result,
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure
            ))
        ));
        let seen = seen.lock().clone();
        assert_eq!(seen.len(), 1);
        let report = &seen[0];
        assert_eq!(
            (report.status, report.trust_id, report.depth),
            (SIPTLS_VERIFY_OK, ROOT_ID, 1)
        );
        assert_eq!(report.generation, ctx.generation());
        assert_eq!(report.peer_name, SERVER_NAME);
        assert_eq!(report.leaf, der(&f.server).as_ref());
        assert!(report.identities.contains("URI:sip:proxy.example.test"));
        assert!(!report.override_allowed && !report.resumed);

        let outcome = stepped.outcome.expect("the outcome is recorded");
        assert_eq!(
            (outcome.status, outcome.checked),
            (SIPTLS_VERIFY_REJECTED_BY_CALLBACK, SIPTLS_VERIFY_OK)
        );
        assert!(!outcome.accepted());
        assert_eq!(
            outcome.detail,
            format!("The verify callback rejected the peer. {}", report.detail)
        );
        assert_sentence_naming(&outcome.detail, "CN=Core Test Root");
        assert!(stepped.chain.is_none(), "a refused chain is not kept");
    }

    #[test]
    fn a_failed_chain_the_callback_accepts_is_overridden_only_where_allowed() {
        let f = pki();
        let ctx = client_context();
        let seen = callback(&ctx, true);
        let (result, stepped) = verified(&ctx, &[&f.stranger], Some(SERVER_NAME));
        assert!(result.is_err(), "no override without permission");
        let outcome = stepped.outcome.unwrap();
        assert_eq!(outcome.status, SIPTLS_VERIFY_UNKNOWN_CA);
        assert!(!seen.lock()[0].override_allowed);

        ctx.set_allow_override(true).unwrap();
        let (result, stepped) = verified(&ctx, &[&f.stranger], Some(SERVER_NAME));
        assert!(result.is_ok());
        let outcome = stepped.outcome.unwrap();
        assert_eq!(
            (outcome.status, outcome.checked),
            (SIPTLS_VERIFY_OVERRIDDEN, SIPTLS_VERIFY_UNKNOWN_CA)
        );
        assert!(outcome.accepted());
        assert!(outcome.detail.starts_with(
            "The verify callback accepted the peer although its certificate failed with UNKNOWN_CA"
        ));
        assert_sentence_naming(&outcome.detail, "CN=proxy.example.test");
        let report = seen.lock()[1].clone();
        assert!(report.override_allowed);
        assert_eq!(report.status, SIPTLS_VERIFY_UNKNOWN_CA);
        assert_eq!(
            stepped.chain.as_deref(),
            Some(&[der(&f.stranger)][..]),
            "an overridden chain is kept for stored sessions"
        );

        // A chain that passes offers nothing to override.
        let (result, _) = verified(&ctx, &[&f.server], Some(SERVER_NAME));
        assert!(result.is_ok());
        assert!(!seen.lock()[2].override_allowed);
    }

    #[test]
    fn without_a_callback_a_passing_chain_is_accepted_and_kept_when_sessions_are_stored() {
        let f = pki();
        let ctx = client_context();
        let (result, stepped) = verified(&ctx, &[&f.server], Some(SERVER_NAME));
        assert!(result.is_ok());
        let outcome = stepped.outcome.unwrap();
        assert_eq!(outcome.status, SIPTLS_VERIFY_OK);
        assert_eq!(outcome.generation, ctx.generation());
        assert_eq!(stepped.chain, Some(chain(&[&f.server])));

        let policy = ctx.snapshot().current.get();
        let leaf = der(&f.server);
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let (_, unkept) = in_scope(Step::default(), || {
            policy.verify(&leaf, &[], Some(&name), &[])
        });
        assert!(unkept.outcome.is_some());
        assert!(unkept.chain.is_none(), "resumption off: no copy");
    }

    #[test]
    fn a_missing_client_certificate_is_reported_and_no_decision_changes_it() {
        let ctx = server_context();
        ctx.set_allow_override(true).unwrap();
        let seen = callback(&ctx, true);
        let policy = ctx.snapshot().current.get();
        for required in [true, false] {
            let outcome = policy.report_no_certificate(required, UserData::NONE);
            assert_eq!(outcome.status, SIPTLS_VERIFY_NO_CERTIFICATE);
            assert!(!outcome.accepted());
            assert_eq!(outcome.trust_id, SIPTLS_TRUST_ID_NONE);
            let said = if required { "is required" } else { "allows" };
            assert_sentence_naming(&outcome.detail, said);
        }
        let seen = seen.lock().clone();
        assert_eq!(seen.len(), 2);
        assert!(seen
            .iter()
            .all(|r| r.status == SIPTLS_VERIFY_NO_CERTIFICATE && !r.override_allowed));
    }
}
