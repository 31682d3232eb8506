//! siptls: SIP over TLS (SIPS, port 5061) for gateways written in C.
//!
//! The gateway keeps its sockets and event loop; siptls does TLS on the bytes
//! it is handed. The safe Rust core is in the concept modules below; `capi`
//! is the thin C layer over it, and `ffi` holds all raw-pointer handling.

pub mod clock;
pub mod context;
pub mod crl;
mod der;
pub mod error;
pub mod identity;
pub mod keylog;
pub mod names;
pub mod pem;
pub mod session;
pub mod trust;
pub mod verify;

pub mod capi;
mod ffi;
