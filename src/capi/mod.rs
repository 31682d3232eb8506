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

pub mod api;
pub mod context;
pub mod counters;
pub mod error;
mod handles;
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

pub use crate::abi::*;
