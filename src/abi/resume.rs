//! Resumption vocabulary: ticket and cache limits, and the gateway's session store.

use std::ffi::c_void;

#[allow(unused_imports)]
use super::*;

/// TLS 1.3 tickets a server sends after each handshake, by default: a SIP
/// peer holds one connection at a time and gets a fresh ticket each time
/// it resumes; every extra ticket costs handshake time.
pub const SIPTLS_DEFAULT_TLS13_TICKETS: u32 = 1;

/// The most TLS 1.3 tickets a server sends after one handshake.
pub const SIPTLS_MAX_TLS13_TICKETS: u32 = 8;

/// How long a ticket or cached session resumes, by default (OpenSSL's
/// session timeout); generated ticket keys rotate at this period too.
pub const SIPTLS_DEFAULT_TICKET_LIFETIME: u32 = 7200;

/// RFC 8446 caps ticket lifetimes at seven days.
pub const SIPTLS_MAX_TICKET_LIFETIME: u32 = 7 * 24 * 3600;

/// The shortest ticket lifetime, in seconds.
pub const SIPTLS_MIN_TICKET_LIFETIME: u32 = 60;

/// The most entries a session cache may be given.
pub const SIPTLS_MAX_SESSION_CACHE_SIZE: u32 = 1_000_000;

/// Default number of peer names kept: a trunk gateway's destinations, or an
/// access gateway's upstream proxies, with room to spare.
pub const SIPTLS_DEFAULT_CLIENT_CACHE_SIZE: u32 = 4096;

/// Keys one set may hold: the sealing key and enough old ones to cover
/// any rotation schedule; more is a configuration mistake.
pub const SIPTLS_MAX_TICKET_KEYS: usize = 16;

/// Bytes of one supplied ticket key (written as twice as many hex digits).
pub const SIPTLS_TICKET_KEY_LEN: usize = 32;

/// The largest value a session store hands back; a longer one is ignored
/// (the client then gets a full handshake).
pub const SIPTLS_SESSION_VALUE_MAX: usize = 16384;

/// The gateway's store for a server's resumable sessions (TLS 1.2 session
/// IDs; TLS 1.3 too when tickets are off), e.g. one shared by a farm.
/// Values are sealed with the ticket keys: the store never sees session
/// secrets, and anything it returns that the keys do not open, or whose
/// peer would no longer be accepted, only costs a full handshake. Both
/// callbacks may run on any thread driving a session of the context, at
/// the same time.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_session_store {
    /// sizeof(siptls_session_store), set by the caller.
    pub struct_size: u32,
    /// Passed back to both callbacks.
    pub userdata: *mut c_void,
    /// Keep `value` under `key` (replacing any value there); return true if kept.
    pub put: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            key: *const u8,
            key_len: usize,
            value: *const u8,
            value_len: usize,
        ) -> bool,
    >,
    /// Copy the value under `key` into `buf` (`buf_len` bytes, always
    /// SIPTLS_SESSION_VALUE_MAX) and return its length; 0 when there is none.
    /// With `take`, remove it from the store as well (it is used once).
    pub get: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            key: *const u8,
            key_len: usize,
            take: bool,
            buf: *mut u8,
            buf_len: usize,
        ) -> usize,
    >,
}
