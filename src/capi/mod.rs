//! The C API: thin `extern "C"` wrappers over the safe core. Each export
//! checks its pointers through `ffi`, runs inside `ffi::call`, and returns a
//! `siptls_result`. Outputs come last, through pointers.
//!
//! An export's unsafe blocks hand the caller's pointers to `ffi`'s readers
//! and writers, sound under the contract its `# Safety` section states once
//! for all of them; repeating it at every block would say nothing more. The
//! pointer boundary (`ffi`) and the core document every unsafe block.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

// The header lists the calls in this order, one object after another:
// the library itself, then the context (its settings, identities, trust
// table and CRLs, resumption, suites, logging, counters), the session (its
// bytes, the socket helper, its connection key) and the framer, URI resolution, then the function table, and last the 0.3 names kept for one release.
pub mod error;

pub mod context;

pub mod identities;

pub mod trust;

pub mod resume;

pub mod suites;

pub mod log;

pub mod counters;

pub mod expiry;

pub mod session;

pub mod pump;

pub mod connection_key;

pub mod sip;

pub mod resolve;

pub mod api;

pub mod deprecated;

mod handles;

pub use api::*;
pub use connection_key::*;
pub use context::*;
pub use counters::*;
pub use deprecated::*;
pub use error::*;
pub use expiry::*;
pub use identities::*;
pub use log::*;
pub use pump::*;
pub use resolve::*;
pub use resume::*;
pub use session::*;
pub use sip::*;
pub use suites::*;
pub use trust::*;

pub use crate::abi::*;
