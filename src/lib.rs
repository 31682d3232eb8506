//! siptls: SIP over TLS (SIPS, port 5061) for gateways written in C.
//!
//! The gateway keeps its sockets and event loop; siptls does TLS on the bytes
//! it is handed. The safe Rust core is in the private concept modules below;
//! `capi` is the thin C layer over it, and `ffi` holds all raw-pointer
//! handling. The C API is the only public interface: `capi` is public so the
//! tests, fuzz targets and benchmark can call the exported functions from
//! Rust exactly as C does.

// The library's own code (not the tests, which call the C ABI as C does):
// every item C sees is documented (the header is made from these docs),
// every unsafe block says why it is sound and holds one operation, pointer
// casts name their target type, and exports take no pointer they would
// dereference without being `unsafe`. `capi` states its contract once per
// export instead (see there).
#![deny(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::ptr_as_ptr,
    clippy::not_unsafe_ptr_arg_deref
)]

mod abi;
mod clock;
mod connection_key;
mod context;
mod counters;
mod crl;
mod der;
mod engine_log;
mod error;
mod exclusive;
mod expiry;
mod identities;
mod identity;
mod keylog;
mod logging;
mod names;
mod ocsp;
mod pem;
mod pkcs11;
mod pump;
mod purpose;
mod resolve;
mod resume;
mod session;
mod signer;
mod sip;
mod suites;
#[cfg(test)]
mod testing;
mod trust;
mod verify;

pub mod capi;
mod ffi;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
