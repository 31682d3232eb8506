//! The socket helper's vocabulary: what a session waits for, and the I/O callbacks.

use std::ffi::c_void;

#[allow(unused_imports)]
use super::*;

// The flags `siptls_session_pump_fd`, `siptls_session_pump_io` and
// `siptls_session_get_events` store in `events_out`: the WANT flags say what
// to wait for, the EVENT flags what happened and what to do now.

/// Wait until the socket is readable, then pump again (with the sans-I/O
/// calls: the session takes more ciphertext; feed it what arrives).
pub const SIPTLS_WANT_READ: u32 = 1;

/// The session has ciphertext the socket would not take yet: wait until it
/// is writable (with the sans-I/O calls: ciphertext waits; take it and send it).
pub const SIPTLS_WANT_WRITE: u32 = 2;

/// The handshake has completed and the peer was accepted (its checks and
/// the verify callback): `siptls_session_get_info` describes it, and
/// plaintext may be written. Reported once, by the first of these calls
/// after it happened.
pub const SIPTLS_EVENT_HANDSHAKE_DONE: u32 = 0x10;

/// Plaintext from the peer is waiting: call `siptls_session_read` until it
/// returns SIPTLS_AGAIN, then pump again (a full receive window stops
/// reading from the socket until then).
pub const SIPTLS_EVENT_PLAINTEXT: u32 = 0x20;

/// Nothing more will arrive: the peer closed (close_notify, or the end of
/// the transport) and all its plaintext was read, or the session failed.
/// `siptls_session_read` says which; close, send what is pending, and free
/// the session.
pub const SIPTLS_EVENT_ENDED: u32 = 0x40;

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
