//! Peer certificate verification: statuses, the policy and its chain
//! checks, the report handed to the gateway's callback, and the rustls
//! verifier that connects them to the handshake.

mod policy;
mod report;
mod status;
mod verifier;

pub use policy::{
    ClientAuth, Policy, PolicySettings, SIPTLS_DEFAULT_MAX_CA_DEPTH, SIPTLS_MAX_CA_DEPTH_LIMIT,
};
pub use report::{in_scope, Outcome, Report, VerifyCallback};
pub use status::{siptls_verify_status, status_from_number};
pub use verifier::Verifier;
