//! The counters struct and the sizes of its arrays.

use siptls_derive::CEnum;
use std::ffi::c_char;

#[allow(unused_imports)]
use super::*;

/// Slots per status array (verification statuses are numbered below this).
pub const SIPTLS_COUNTER_STATUSES: usize = 32;

/// Slots per result array: error codes 100 to 355, at index code - 100.
pub const SIPTLS_COUNTER_RESULTS: usize = 256;

/// Slots per alert array: one per TLS AlertDescription.
pub const SIPTLS_COUNTER_ALERTS: usize = 256;

/// A context's counters, filled by `siptls_ctx_get_counters`. Set
/// `struct_size` to `sizeof(siptls_counters)` first. Each counter is exact;
/// counters changing while they are read are not read at one instant.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_counters {
    /// Set by the caller; the library writes at most this many bytes and
    /// stores how many it wrote.
    pub struct_size: u32,
    /// Always 0.
    pub reserved: u32,
    /// Sessions made with `siptls_session_new`.
    pub sessions_created: u64,
    /// Sessions freed.
    pub sessions_freed: u64,
    /// Created and not yet freed (not reset by `siptls_ctx_reset_counters`).
    pub sessions_live: u64,
    /// Handshakes completed in full (with a verification) and resumed.
    pub handshakes_full: u64,
    /// Handshakes that resumed a stored session (its chain checked again).
    pub handshakes_resumed: u64,
    /// Sessions that failed before their handshake completed.
    pub handshakes_failed: u64,
    /// Failed verifications, by `siptls_verify_status` number.
    pub verify_failed: [u64; SIPTLS_COUNTER_STATUSES],
    /// Session failures, by result code: index = code - 100.
    pub failed_by_result: [u64; SIPTLS_COUNTER_RESULTS],
    /// Alerts by TLS AlertDescription number: sent (close_notify, and the
    /// fatal alert of each failure) and received.
    pub alerts_sent: [u64; SIPTLS_COUNTER_ALERTS],
    /// Alerts received, by TLS AlertDescription number.
    pub alerts_received: [u64; SIPTLS_COUNTER_ALERTS],
    /// Bytes fed, taken, read and written.
    pub ciphertext_in: u64,
    /// Ciphertext bytes taken to send.
    pub ciphertext_out: u64,
    /// Plaintext bytes read.
    pub plaintext_in: u64,
    /// Plaintext bytes written.
    pub plaintext_out: u64,
    /// Configuration changes (loads, reloads, settings) applied and refused.
    pub config_applied: u64,
    /// Configuration changes refused (the old configuration stayed).
    pub config_refused: u64,
    /// Stored sessions offered for resumption and refused by a check under
    /// the policy in force (the log says why).
    pub resumption_refused: u64,
    /// Configuration changes that dropped a client's stored sessions (the
    /// log says why).
    pub stored_sessions_dropped: u64,
    /// Gauges by the gateway's clock, in seconds (negative once past;
    /// SIPTLS_NOTHING_EXPIRES when there is nothing of the kind or the
    /// clock is unset): until the earliest notAfter of any identity's
    /// certificate chain (`siptls_ctx_get_expiry` lists each).
    pub identity_expiry_seconds: i64,
    /// Until the earliest notAfter of a trust entry.
    pub trust_expiry_seconds: i64,
    /// Until the earliest nextUpdate of a loaded CRL.
    pub crl_expiry_seconds: i64,
    /// Warnings that something crossed its threshold
    /// (`siptls_ctx_set_expiry_warning`), one per crossing.
    pub expiry_warnings: u64,
    /// `siptls_ctx_reload_if_changed` calls that found every watched file
    /// as it was loaded.
    pub reloads_unchanged: u64,
    /// Calls that reloaded what changed.
    pub reloads_applied: u64,
    /// Calls that found a change they could not load (the configuration
    /// in force stayed whole).
    pub reloads_refused: u64,
}

/// The expiry gauges' value when nothing of the kind expires (none is
/// loaded, or the gateway clock is unset): INT64_MAX.
pub const SIPTLS_NOTHING_EXPIRES: i64 = i64::MAX;

/// What a `siptls_expiry_info` describes.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, CEnum)]
pub enum siptls_expiry_kind {
    /// An identity's certificate chain (`id`: the identity ID).
    SIPTLS_EXPIRY_IDENTITY = 0,
    /// A trust entry (`id`: its trust ID).
    SIPTLS_EXPIRY_TRUST_ENTRY = 1,
    /// A loaded CRL's nextUpdate (`id`: its index, as `siptls_ctx_get_crl`).
    SIPTLS_EXPIRY_CRL = 2,
    /// The nextUpdate of the OCSP response stapled to an identity (`id`:
    /// the identity ID); warned of at the CRL threshold.
    SIPTLS_EXPIRY_OCSP = 3,
}

/// One thing that expires, filled by `siptls_ctx_get_expiry`. Set
/// `struct_size` to `sizeof(siptls_expiry_info)` first.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_expiry_info {
    /// Set by the caller; the library writes at most this many bytes and
    /// stores how many it wrote.
    pub struct_size: u32,
    /// What it is (`siptls_expiry_kind`).
    pub kind: siptls_expiry_kind,
    /// The identity ID, trust ID or CRL index.
    pub id: u32,
    /// 1 when it is under its warning threshold and was warned of, else 0.
    pub warned: u32,
    /// Its own notAfter (a CRL: its nextUpdate), seconds since 1970 (UTC).
    pub not_after: i64,
    /// An identity: the earliest notAfter of its chain; else `not_after`.
    pub earliest_not_after: i64,
    /// Seconds from the gateway's clock to `earliest_not_after` (negative
    /// once past; SIPTLS_NOTHING_EXPIRES while the clock is unset).
    pub seconds_left: i64,
    /// The certificate's subject or the CRL's issuer, NUL-terminated
    /// ("..." at the end when cut short).
    pub subject: [c_char; 256],
}
