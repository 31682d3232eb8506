//! Peer certificate verification: statuses, the policy and its chain
//! checks, the report handed to the gateway's callback, the re-check of a
//! resumed session's chain, and the rustls verifier that connects them to
//! the handshake.

mod current;
mod explain;
mod policy;
mod report;
mod resumed;
mod revocation;
mod scope;
mod signatures;
mod status;
mod verifier;

pub use current::CurrentPolicy;
pub use policy::{
    ClientAuth, Policy, PolicySettings, SIPTLS_DEFAULT_MAX_CA_DEPTH, SIPTLS_MAX_CA_DEPTH_LIMIT,
};
pub use report::{Outcome, Report, VerifyCallback};
pub use resumed::Resumable;
pub use scope::{
    accepted_chain, count_chain_check, in_scope, issuing, none_running, resumption_refused, served,
    served_digest, step_identity, step_log, step_peer_name, tickets_log, Issuing, Offered,
    PeerChain, Step, Stepped,
};
pub use signatures::remembering;
pub use status::{siptls_verify_status, status_from_number};
pub use verifier::Verifier;
