//! Peer certificate verification: statuses, the policy and its chain
//! checks, the report handed to the gateway's callback, the re-check of a
//! resumed session's chain, and the rustls verifier that connects them to
//! the handshake.

mod checked;
mod current;
mod explain;
mod outcome;
mod policy;
mod report;
mod resumable;
mod resumed;
mod revocation;
mod scope;
mod signatures;
mod status;
mod verdicts;
mod verifier;

pub use current::CurrentPolicy;
pub use outcome::{Outcome, PeerChain, Report, VerifyCallback};
pub use policy::{ClientAuth, Policy, PolicySettings};
pub use resumable::Resumable;
pub use scope::{
    accepted_chain, count_chain_check, in_scope, issuing, none_running, resumption_refused, served,
    served_digest, step_identity, step_log, step_peer_name, tickets_log, Issuing, Offered, Step,
    Stepped,
};
pub use signatures::remembering;
pub use verifier::Verifier;
