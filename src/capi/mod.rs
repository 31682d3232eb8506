//! The C API: thin `extern "C"` wrappers over the safe core. Each export
//! checks its pointers through `ffi`, runs inside `ffi::call`, and returns a
//! `siptls_result`. Outputs come last, through pointers.

pub mod api;
pub mod context;
pub mod counters;
pub mod error;
pub mod identities;
pub mod log;
pub mod pump;
pub mod resume;
pub mod session;
pub mod sip;
pub mod suites;
pub mod trust;

pub use api::*;
pub use context::*;
pub use counters::*;
pub use error::*;
pub use identities::*;
pub use log::*;
pub use pump::*;
pub use resume::*;
pub use session::*;
pub use sip::*;
pub use suites::*;
pub use trust::*;

pub use crate::context::{siptls_role, SIPTLS_TLS12, SIPTLS_TLS13};
pub use crate::counters::{SIPTLS_COUNTER_ALERTS, SIPTLS_COUNTER_RESULTS, SIPTLS_COUNTER_STATUSES};
pub use crate::error::siptls_result;
pub use crate::logging::{siptls_log_event, siptls_log_level};
pub use crate::session::{siptls_close_state, siptls_handshake_kind};
pub use crate::suites::siptls_profile;
pub use crate::trust::{SIPTLS_MAX_TRUST_ENTRIES, SIPTLS_TRUST_ID_NONE};
pub use crate::verify::{
    siptls_verify_status, SIPTLS_DEFAULT_MAX_CA_DEPTH, SIPTLS_MAX_CA_DEPTH_LIMIT,
};

/// A TLS configuration for one role, shared by many sessions and threads.
/// Create with `siptls_ctx_new`, free with `siptls_ctx_free`.
#[allow(non_camel_case_types)]
pub struct siptls_ctx(pub(crate) crate::context::Context);

/// One TLS connection. Create with `siptls_session_new`, free with
/// `siptls_session_free`. Drive it from one thread at a time.
#[allow(non_camel_case_types)]
pub struct siptls_session(pub(crate) crate::session::Session);
