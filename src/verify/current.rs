//! The verification policy in force now. A context replaces it on every
//! change; verifiers, resumption stores and sessions read it at the moment
//! they decide, so a session made before a CRL refresh or a trust
//! replacement is verified under the refreshed configuration.

use std::fmt;
use std::sync::Arc;

use parking_lot::RwLock;
use pki_types::ServerName;

use super::policy::Policy;

pub struct CurrentPolicy(RwLock<Arc<Policy>>);

impl fmt::Debug for CurrentPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl CurrentPolicy {
    pub fn new(policy: Arc<Policy>) -> Self {
        Self(RwLock::new(policy))
    }

    /// The policy in force at this instant.
    pub fn get(&self) -> Arc<Policy> {
        self.0.read().clone()
    }

    pub fn replace(&self, policy: Arc<Policy>) {
        *self.0.write() = policy;
    }

    /// `Policy::may_resume` under the policy in force now.
    pub fn may_resume(
        &self,
        chain: &super::PeerChain,
        expected_name: Option<&ServerName<'_>>,
        issued_at: Option<u64>,
    ) -> bool {
        self.get().may_resume(chain, expected_name, issued_at)
    }

    /// `Policy::now_secs` under the policy in force now.
    pub fn now_secs(&self) -> Option<u64> {
        self.get().now_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{SIPTLS_DEFAULT_MAX_CA_DEPTH, SIPTLS_MAX_CA_DEPTH_LIMIT};
    use crate::clock::Clock;
    use crate::testing::{chain, client_context, pki, ROOT_ID, SERVER_NAME};

    #[test]
    fn every_holder_reads_the_policy_in_force_at_the_moment_it_asks() {
        let f = pki();
        let ctx = client_context();
        // Held as a verifier or a session store holds it.
        let held = ctx.snapshot().current.clone();
        let stored = chain(&[&f.server]);
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        assert!(held.may_resume(&stored, Some(&name), None));

        ctx.trust_remove(ROOT_ID).unwrap();
        assert!(!held.may_resume(&stored, Some(&name), None));
        assert!(Arc::ptr_eq(&held.get(), &ctx.snapshot().policy));

        ctx.set_clock(Clock::Gateway(Arc::new(|| Some(42))), None)
            .unwrap();
        assert_eq!(held.now_secs(), Some(42));
        ctx.set_clock(Clock::Gateway(Arc::new(|| None)), None)
            .unwrap();
        assert_eq!(held.now_secs(), None, "an unset clock issues no ticket");
    }

    #[test]
    fn replacing_the_policy_changes_what_is_read_not_what_was_taken() {
        let ctx = client_context();
        let first = ctx.snapshot().policy.clone();
        let current = CurrentPolicy::new(first.clone());
        let taken = current.get();
        ctx.set_max_ca_depth(SIPTLS_MAX_CA_DEPTH_LIMIT).unwrap();
        let second = ctx.snapshot().policy.clone();
        current.replace(second.clone());
        assert!(Arc::ptr_eq(&current.get(), &second));
        assert!(Arc::ptr_eq(&taken, &first));
        assert_eq!(
            taken.settings().max_ca_depth,
            SIPTLS_DEFAULT_MAX_CA_DEPTH,
            "a call in progress keeps its own"
        );
        assert!(format!("{current:?}").contains(&format!("generation: {}", second.generation())));
    }
}
