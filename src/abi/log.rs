//! Logging vocabulary: levels, events, a record, and the callback.

use siptls_derive::CEnum;
use std::ffi::{c_char, c_void};

#[allow(unused_imports)]
use super::*;

/// How much a log callback wants (`siptls_ctx_set_log_callback`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, CEnum)]
pub enum siptls_log_level {
    /// Something failed that the gateway must act on.
    SIPTLS_LOG_ERROR = 1,
    /// A session failed, a peer was refused, a change was refused.
    SIPTLS_LOG_WARN = 2,
    /// Handshakes, verifications, configuration changes.
    SIPTLS_LOG_INFO = 3,
    /// close_notify, and the TLS engine's debug records.
    SIPTLS_LOG_DEBUG = 4,
    /// Everything the TLS engine says.
    SIPTLS_LOG_TRACE = 5,
}

/// What a log record is about.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_log_event {
    /// A record of the TLS engine (rustls) itself.
    SIPTLS_LOG_TLS_ENGINE = 0,
    /// A handshake completed: version, suite, kind, the peer's trust ID.
    SIPTLS_LOG_HANDSHAKE_DONE = 1,
    /// A peer verification: its status and detail.
    SIPTLS_LOG_VERIFICATION = 2,
    /// A fatal alert or close_notify was sent: which.
    SIPTLS_LOG_ALERT_SENT = 3,
    /// A fatal alert or close_notify arrived: which.
    SIPTLS_LOG_ALERT_RECEIVED = 4,
    /// A session failed: the result code and detail.
    SIPTLS_LOG_SESSION_FAILED = 5,
    /// A configuration change was applied (its generation) or refused (why).
    SIPTLS_LOG_CONFIG_APPLIED = 6,
    /// A configuration change was refused: why.
    SIPTLS_LOG_CONFIG_REFUSED = 7,
    /// A stored session was not resumed: why.
    SIPTLS_LOG_RESUMPTION_REFUSED = 8,
    /// A server issued no ticket or session cache entry where one was due,
    /// or replaced a generated ticket key off its schedule: why.
    SIPTLS_LOG_TICKETS = 9,
    /// A client's stored sessions were dropped by a configuration change: why.
    SIPTLS_LOG_STORED_SESSIONS_DROPPED = 10,
    /// An identity's certificate, a trust entry or a CRL came within its
    /// warning threshold of expiry (WARN; once per crossing).
    SIPTLS_LOG_EXPIRY = 11,
    /// `siptls_ctx_reload_if_changed`: what it reloaded (INFO), that a
    /// changed file could not be loaded and why (WARN), or that nothing
    /// changed (DEBUG).
    SIPTLS_LOG_RELOAD = 12,
}

/// One log record, valid only during the callback.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_log_record {
    /// sizeof the record as this library fills it: read a field only when
    /// its offset is below this (fields are only ever added at the end).
    pub struct_size: u32,
    /// How severe the record is.
    pub level: siptls_log_level,
    /// What happened.
    pub event: siptls_log_event,
    /// Always 0.
    pub reserved: u32,
    /// The session's pointer from `siptls_session_set_userdata`; NULL for
    /// context events (configuration changes) and before it is set.
    pub session_userdata: *mut c_void,
    /// The message, NUL-terminated, control characters escaped.
    pub message: *const c_char,
}

/// Called for each record at or above the chosen level, on the thread
/// driving the session (or changing the configuration). A session's
/// records come while the session is in use: calling into that session
/// from the callback gets SIPTLS_ERR_BUSY; other sessions and the context
/// may be used.
#[allow(non_camel_case_types)]
pub type siptls_log_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, record: *const siptls_log_record)>;
