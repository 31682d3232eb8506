//! The counters struct and the sizes of its arrays.

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
}
