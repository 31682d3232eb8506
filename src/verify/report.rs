//! What one verification tells the gateway: the report its callback sees,
//! the callback's decision (reject, or override when allowed), and the
//! outcome the session keeps.

use crate::abi::{siptls_verify_status::*, UserData, SIPTLS_TRUST_ID_NONE};

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
            generation: self.generation,
            session_userdata: scope::userdata(),
            peer_name: &peer_name,
            leaf: leaf.as_ref(),
            identities: &identities,
            detail: &checked.detail,
            override_allowed: checked.status != SIPTLS_VERIFY_OK && self.settings.allow_override,
            resumed: false,
        });
        let (status, detail) = match (checked.status, accepted) {
            (SIPTLS_VERIFY_OK, true) => (SIPTLS_VERIFY_OK, checked.detail),
            (SIPTLS_VERIFY_OK, false) => (
                SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                format!("rejected by the verify callback ({})", checked.detail),
            ),
            (failed, true) if self.settings.allow_override => (
                SIPTLS_VERIFY_OVERRIDDEN,
                format!(
                    "OVERRIDDEN by the verify callback: {} ({})",
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
            generation: self.generation,
            session_userdata,
            peer_name: "",
            leaf: &[],
            identities: "",
            detail,
            override_allowed: false,
            resumed: false,
        });
        Outcome {
            status: SIPTLS_VERIFY_NO_CERTIFICATE,
            checked: SIPTLS_VERIFY_NO_CERTIFICATE,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            generation: self.generation,
            detail: detail.into(),
            resumed: false,
        }
    }
}
