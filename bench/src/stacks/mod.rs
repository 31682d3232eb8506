//! The four implementations, each behind the `Stack` trait.

pub mod openssl;
pub mod rustls;
pub mod rustls_ffi;
pub mod siptls;
