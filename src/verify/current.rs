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
