//! Resumption under the current trust configuration: a stored session
//! carries the peer chain that was accepted when it was made, and may
//! resume only if that chain passes every check again now (trust entry
//! still there, nothing revoked by the CRLs loaded since, still valid by
//! the gateway's clock, names). Otherwise the stores hand rustls nothing
//! and a full handshake, with full verification, takes place.

use crate::abi::{siptls_role, UserData};
use pki_types::ServerName;

use super::outcome::{Outcome, PeerChain, Report};
use super::policy::{ClientAuth, Policy};
use super::resumable::Resumable;
use super::scope;
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
        let checked = match (chain.split_first(), self.role, self.settings.client_auth) {
            // Not asking now: a session that carries a chain would show one
            // that nothing checks; it gets a full handshake instead.
            (None, siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Off) => None,
            (Some(_), siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Off) => {
                scope::resumption_refused(|| {
                    "the stored session has a client certificate, and client authentication is off now".into()
                });
                return false;
            }
            (None, siptls_role::SIPTLS_ROLE_SERVER, ClientAuth::Optional) => None,
            (None, _, _) => {
                scope::resumption_refused(|| "the stored session has no peer certificate".into());
                return false;
            }
            (Some((leaf, intermediates)), _, _) => {
                let looked = names::identities(leaf);
                let ids = looked.as_ref().map(|l| &*l.ids);
                let checked = self.check(leaf, intermediates, expected_name, ids);
                if checked.status != SIPTLS_VERIFY_OK {
                    scope::resumption_refused(|| {
                        format!(
                            "A stored session was not resumed: its peer chain fails under the configuration in force ({}). {}",
                            checked.status.name().to_string_lossy(),
                            checked.detail
                        )
                    });
                    return false;
                }
                if let Some(looked) = &looked {
                    looked.accepted();
                }
                Some(checked)
            }
        };
        scope::offer_resumption(Resumable {
            chain: chain.clone(),
            generation: self.generation,
            issued_at,
            checked,
        });
        true
    }

    /// The handshake resumed `resumable`: tells the callback (as a report
    /// with `resumed` set) and returns the outcome the session keeps. The
    /// callback may still reject; the session then fails. The generation
    /// reported is the one whose checks the stored chain passed.
    pub fn report_resumed(&self, resumable: &Resumable, userdata: UserData) -> Option<Outcome> {
        let checked = resumable.checked.as_ref()?;
        let leaf = resumable.chain.first()?;
        let identities = names::identities(leaf)
            .map(|l| l.ids.listing.join(", "))
            .unwrap_or_default();
        let detail = format!("The stored session resumed: {}", checked.detail);
        let accepted = self.report(&Report {
            role: self.role,
            status: SIPTLS_VERIFY_OK,
            trust_id: checked.trust_id,
            depth: checked.depth,
            generation: resumable.generation,
            session_userdata: userdata,
            peer_name: checked.checked_name.as_deref().unwrap_or_default(),
            leaf: leaf.as_ref(),
            identities: &identities,
            detail: &detail,
            override_allowed: false,
            resumed: true,
        });
        let (status, detail) = if accepted {
            (SIPTLS_VERIFY_OK, detail)
        } else {
            (
                SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                format!("rejected by the verify callback ({detail})"),
            )
        };
        Some(Outcome {
            status,
            checked: SIPTLS_VERIFY_OK,
            trust_id: checked.trust_id,
            depth: checked.depth,
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
