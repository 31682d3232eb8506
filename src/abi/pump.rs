//! The socket helper's vocabulary: what a session waits for, and the I/O callbacks.

use std::ffi::c_void;

#[allow(unused_imports)]
use super::*;

/// Poll events to wait for (`siptls_session_pump_fd`'s `wants_out`).
pub const SIPTLS_WANT_READ: u32 = 1;

/// The session has ciphertext the socket would not take yet: wait until it is writable.
pub const SIPTLS_WANT_WRITE: u32 = 2;

/// A transport callback's "would block" (`siptls_io`).
pub const SIPTLS_IO_WOULD_BLOCK: i64 = -1;

/// The gateway's own I/O layer for `siptls_session_pump_io`. Each callback
/// returns the bytes it moved (1 to `len`), 0 when the peer ended the
/// stream, SIPTLS_IO_WOULD_BLOCK when nothing can move now, or any other
/// negative number for an error (the call then returns SIPTLS_ERR_IO).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_io {
    /// Set by the caller to `sizeof` the struct; fields past it take their defaults.
    pub struct_size: u32,
    /// Handed to both callbacks.
    pub userdata: *mut c_void,
    /// Receives up to `len` bytes into `buf`.
    pub recv: Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> i64>,
    /// Sends up to `len` bytes from `buf`.
    pub send:
        Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *const u8, len: usize) -> i64>,
}
