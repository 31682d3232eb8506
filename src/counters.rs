//! Per-context counters an operator reads (SNMP, Prometheus): sessions,
//! handshakes by kind, failures by verification status and by result code,
//! alerts by description, bytes by layer and direction, configuration
//! changes. Relaxed atomic increments on the hot path: no lock, no
//! allocation; a reader sees each counter exact, not all of them at one
//! instant.

use crate::abi::{
    siptls_result, siptls_verify_status, SIPTLS_COUNTER_ALERTS, SIPTLS_COUNTER_RESULTS,
    SIPTLS_COUNTER_STATUSES,
};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use rustls::AlertDescription;

#[derive(Default)]
struct Counter(AtomicU64);

impl Counter {
    fn add(&self, n: u64) {
        // An atomic add costs even for 0, and the data path's "nothing
        // there" calls add 0 bytes.
        if n != 0 {
            self.0.fetch_add(n, Relaxed);
        }
    }

    fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    fn reset(&self) {
        self.0.store(0, Relaxed);
    }
}

/// One plain copy of the counters, for the C struct and the text format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub sessions_created: u64,
    pub sessions_freed: u64,
    pub sessions_live: u64,
    pub handshakes_full: u64,
    pub handshakes_resumed: u64,
    pub handshakes_failed: u64,
    pub verify_failed: [u64; SIPTLS_COUNTER_STATUSES],
    pub failed_by_result: [u64; SIPTLS_COUNTER_RESULTS],
    pub alerts_sent: [u64; SIPTLS_COUNTER_ALERTS],
    pub alerts_received: [u64; SIPTLS_COUNTER_ALERTS],
    pub ciphertext_in: u64,
    pub ciphertext_out: u64,
    pub plaintext_in: u64,
    pub plaintext_out: u64,
    pub config_applied: u64,
    pub config_refused: u64,
    pub resumption_refused: u64,
    pub stored_sessions_dropped: u64,
    pub expiry_warnings: u64,
    pub reloads_unchanged: u64,
    pub reloads_applied: u64,
    pub reloads_refused: u64,
}

pub struct Counters {
    sessions_created: Counter,
    sessions_freed: Counter,
    /// Not reset: it is a level, not a count.
    sessions_live: Counter,
    handshakes_full: Counter,
    handshakes_resumed: Counter,
    handshakes_failed: Counter,
    verify_failed: [Counter; SIPTLS_COUNTER_STATUSES],
    failed_by_result: [Counter; SIPTLS_COUNTER_RESULTS],
    alerts_sent: [Counter; SIPTLS_COUNTER_ALERTS],
    alerts_received: [Counter; SIPTLS_COUNTER_ALERTS],
    ciphertext_in: Counter,
    ciphertext_out: Counter,
    plaintext_in: Counter,
    plaintext_out: Counter,
    config_applied: Counter,
    config_refused: Counter,
    /// Stored sessions offered for resumption and refused by a check.
    resumption_refused: Counter,
    /// Changes that dropped a client's stored sessions.
    stored_sessions_dropped: Counter,
    expiry_warnings: Counter,
    reloads_unchanged: Counter,
    reloads_applied: Counter,
    reloads_refused: Counter,
}

fn counters<const N: usize>() -> [Counter; N] {
    std::array::from_fn(|_| Counter::default())
}

fn values<const N: usize>(counters: &[Counter; N]) -> [u64; N] {
    std::array::from_fn(|i| counters[i].get())
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            sessions_created: Counter::default(),
            sessions_freed: Counter::default(),
            sessions_live: Counter::default(),
            handshakes_full: Counter::default(),
            handshakes_resumed: Counter::default(),
            handshakes_failed: Counter::default(),
            verify_failed: counters(),
            failed_by_result: counters(),
            alerts_sent: counters(),
            alerts_received: counters(),
            ciphertext_in: Counter::default(),
            ciphertext_out: Counter::default(),
            plaintext_in: Counter::default(),
            plaintext_out: Counter::default(),
            config_applied: Counter::default(),
            config_refused: Counter::default(),
            resumption_refused: Counter::default(),
            stored_sessions_dropped: Counter::default(),
            expiry_warnings: Counter::default(),
            reloads_unchanged: Counter::default(),
            reloads_applied: Counter::default(),
            reloads_refused: Counter::default(),
        }
    }
}

/// What a session's counting needs to know.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    SessionCreated,
    SessionFreed,
    HandshakeFull,
    HandshakeResumed,
    /// A session failed with this code; during its handshake or not.
    Failed(siptls_result, bool),
    VerifyFailed(siptls_verify_status),
    AlertSent(AlertDescription),
    AlertReceived(AlertDescription),
    CiphertextIn(usize),
    CiphertextOut(usize),
    PlaintextIn(usize),
    PlaintextOut(usize),
    ConfigApplied,
    ConfigRefused,
    ResumptionRefused,
    StoredSessionsDropped,
    ExpiryWarning,
    ReloadUnchanged,
    ReloadApplied,
    ReloadRefused,
}

impl Counters {
    pub fn count(&self, event: Event) {
        use Event::*;
        match event {
            SessionCreated => {
                self.sessions_created.add(1);
                self.sessions_live.add(1);
            }
            SessionFreed => {
                self.sessions_freed.add(1);
                self.sessions_live.0.fetch_sub(1, Relaxed);
            }
            HandshakeFull => self.handshakes_full.add(1),
            HandshakeResumed => self.handshakes_resumed.add(1),
            Failed(code, in_handshake) => {
                if let Some(slot) = (code as usize)
                    .checked_sub(100)
                    .and_then(|i| self.failed_by_result.get(i))
                {
                    slot.add(1);
                }
                if in_handshake {
                    self.handshakes_failed.add(1);
                }
            }
            VerifyFailed(status) => {
                if let Some(slot) = self.verify_failed.get(status as usize) {
                    slot.add(1);
                }
            }
            AlertSent(alert) => self.alerts_sent[usize::from(u8::from(alert))].add(1),
            AlertReceived(alert) => self.alerts_received[usize::from(u8::from(alert))].add(1),
            CiphertextIn(n) => self.ciphertext_in.add(n as u64),
            CiphertextOut(n) => self.ciphertext_out.add(n as u64),
            PlaintextIn(n) => self.plaintext_in.add(n as u64),
            PlaintextOut(n) => self.plaintext_out.add(n as u64),
            ConfigApplied => self.config_applied.add(1),
            ConfigRefused => self.config_refused.add(1),
            ResumptionRefused => self.resumption_refused.add(1),
            StoredSessionsDropped => self.stored_sessions_dropped.add(1),
            ExpiryWarning => self.expiry_warnings.add(1),
            ReloadUnchanged => self.reloads_unchanged.add(1),
            ReloadApplied => self.reloads_applied.add(1),
            ReloadRefused => self.reloads_refused.add(1),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            sessions_created: self.sessions_created.get(),
            sessions_freed: self.sessions_freed.get(),
            sessions_live: self.sessions_live.get(),
            handshakes_full: self.handshakes_full.get(),
            handshakes_resumed: self.handshakes_resumed.get(),
            handshakes_failed: self.handshakes_failed.get(),
            verify_failed: values(&self.verify_failed),
            failed_by_result: values(&self.failed_by_result),
            alerts_sent: values(&self.alerts_sent),
            alerts_received: values(&self.alerts_received),
            ciphertext_in: self.ciphertext_in.get(),
            ciphertext_out: self.ciphertext_out.get(),
            plaintext_in: self.plaintext_in.get(),
            plaintext_out: self.plaintext_out.get(),
            config_applied: self.config_applied.get(),
            config_refused: self.config_refused.get(),
            resumption_refused: self.resumption_refused.get(),
            stored_sessions_dropped: self.stored_sessions_dropped.get(),
            expiry_warnings: self.expiry_warnings.get(),
            reloads_unchanged: self.reloads_unchanged.get(),
            reloads_applied: self.reloads_applied.get(),
            reloads_refused: self.reloads_refused.get(),
        }
    }

    /// Zeroes every count; the live-session level stays.
    pub fn reset(&self) {
        for c in [
            &self.sessions_created,
            &self.sessions_freed,
            &self.handshakes_full,
            &self.handshakes_resumed,
            &self.handshakes_failed,
            &self.ciphertext_in,
            &self.ciphertext_out,
            &self.plaintext_in,
            &self.plaintext_out,
            &self.config_applied,
            &self.config_refused,
            &self.resumption_refused,
            &self.stored_sessions_dropped,
            &self.expiry_warnings,
            &self.reloads_unchanged,
            &self.reloads_applied,
            &self.reloads_refused,
        ] {
            c.reset();
        }
        for array in [&self.alerts_sent[..], &self.alerts_received[..]] {
            array.iter().for_each(Counter::reset);
        }
        self.verify_failed.iter().for_each(Counter::reset);
        self.failed_by_result.iter().for_each(Counter::reset);
    }
}

/// An alert's RFC 8446 name: rustls' `BadCertificate` is `bad_certificate`.
pub(crate) fn alert_name(slot: usize) -> String {
    let alert = AlertDescription::from(slot as u8);
    match alert.as_str() {
        Some(camel) => {
            // A word starts at a capital after a small letter, or at the
            // last capital of an acronym: UnknownPSKIdentity.
            let b = camel.as_bytes();
            let mut name = String::with_capacity(camel.len() + 4);
            for (i, &c) in b.iter().enumerate() {
                let starts_word = i > 0
                    && c.is_ascii_uppercase()
                    && (b[i - 1].is_ascii_lowercase()
                        || b.get(i + 1).is_some_and(u8::is_ascii_lowercase)
                            && b[i - 1].is_ascii_uppercase());
                if starts_word {
                    name.push('_');
                }
                name.push(c.to_ascii_lowercase() as char);
            }
            name
        }
        None => format!("unknown_{slot}"),
    }
}

impl Snapshot {
    /// The Prometheus text exposition format (version 0.0.4): one family
    /// per counter, labelled series only where non-zero.
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str, series: &[(String, u64)]| {
            let _ = writeln!(
                out,
                "# HELP siptls_{name} {help}\n# TYPE siptls_{name} {kind}"
            );
            for (labels, value) in series {
                let _ = writeln!(out, "siptls_{name}{labels} {value}");
            }
        };
        let plain = |v: u64| vec![(String::new(), v)];
        let labelled = |label: &str, values: &[u64], name: &dyn Fn(usize) -> String| {
            values
                .iter()
                .enumerate()
                .filter(|(_, &v)| v > 0)
                .map(|(i, &v)| (format!("{{{label}=\"{}\"}}", name(i)), v))
                .collect::<Vec<_>>()
        };
        family(
            "sessions_created_total",
            "counter",
            "Sessions created.",
            &plain(self.sessions_created),
        );
        family(
            "sessions_freed_total",
            "counter",
            "Sessions freed.",
            &plain(self.sessions_freed),
        );
        family(
            "sessions_live",
            "gauge",
            "Sessions created and not yet freed.",
            &plain(self.sessions_live),
        );
        family(
            "handshakes_total",
            "counter",
            "Handshakes completed, by kind.",
            &[
                ("{kind=\"full\"}".into(), self.handshakes_full),
                ("{kind=\"resumed\"}".into(), self.handshakes_resumed),
            ],
        );
        family(
            "handshake_failures_total",
            "counter",
            "Sessions that failed during their handshake.",
            &plain(self.handshakes_failed),
        );
        family(
            "session_failures_total",
            "counter",
            "Session failures, by result code.",
            &labelled("result", &self.failed_by_result, &|i| {
                siptls_result::from_u32((i + 100) as u32)
                    .map_or_else(|| format!("{}", i + 100), |c| format!("{c:?}"))
            }),
        );
        family(
            "verify_failures_total",
            "counter",
            "Peer verifications that failed, by status.",
            &labelled("status", &self.verify_failed, &|i| {
                // The spelling of siptls_verify_status_str and the log records.
                siptls_verify_status::from_u32(i as u32).map_or_else(
                    || format!("{i}"),
                    |s| s.name().to_string_lossy().into_owned(),
                )
            }),
        );
        family(
            "alerts_sent_total",
            "counter",
            "TLS alerts sent, by description.",
            &labelled("alert", &self.alerts_sent, &alert_name),
        );
        family(
            "alerts_received_total",
            "counter",
            "TLS alerts received, by description.",
            &labelled("alert", &self.alerts_received, &alert_name),
        );
        family(
            "bytes_total",
            "counter",
            "Bytes through sessions, by layer and direction.",
            &[
                (
                    "{layer=\"ciphertext\",direction=\"in\"}".into(),
                    self.ciphertext_in,
                ),
                (
                    "{layer=\"ciphertext\",direction=\"out\"}".into(),
                    self.ciphertext_out,
                ),
                (
                    "{layer=\"plaintext\",direction=\"in\"}".into(),
                    self.plaintext_in,
                ),
                (
                    "{layer=\"plaintext\",direction=\"out\"}".into(),
                    self.plaintext_out,
                ),
            ],
        );
        family(
            "config_changes_total",
            "counter",
            "Configuration changes (loads, reloads, settings), by outcome.",
            &[
                ("{outcome=\"applied\"}".into(), self.config_applied),
                ("{outcome=\"refused\"}".into(), self.config_refused),
            ],
        );
        family(
            "resumptions_refused_total",
            "counter",
            "Stored sessions offered for resumption and refused by a check under the policy in force.",
            &plain(self.resumption_refused),
        );
        family(
            "stored_sessions_dropped_total",
            "counter",
            "Configuration changes that dropped a client's stored sessions.",
            &plain(self.stored_sessions_dropped),
        );
        family(
            "expiry_warnings_total",
            "counter",
            "Identities, trust entries and CRLs that came within their warning threshold of expiry.",
            &plain(self.expiry_warnings),
        );
        family(
            "reloads_total",
            "counter",
            "Calls of siptls_ctx_reload_if_changed, by outcome.",
            &[
                ("{outcome=\"unchanged\"}".into(), self.reloads_unchanged),
                ("{outcome=\"applied\"}".into(), self.reloads_applied),
                ("{outcome=\"refused\"}".into(), self.reloads_refused),
            ],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_are_the_rfc_ones() {
        assert_eq!(alert_name(0), "close_notify");
        assert_eq!(alert_name(42), "bad_certificate");
        assert_eq!(alert_name(116), "certificate_required");
        assert_eq!(alert_name(48), "unknown_ca");
        assert_eq!(alert_name(115), "unknown_psk_identity");
        assert_eq!(alert_name(255), "unknown_255");
    }

    #[test]
    fn reset_keeps_the_live_level() {
        let c = Counters::default();
        c.count(Event::SessionCreated);
        c.count(Event::SessionCreated);
        c.count(Event::SessionFreed);
        c.count(Event::AlertSent(AlertDescription::CloseNotify));
        c.reset();
        let s = c.snapshot();
        assert_eq!(
            (s.sessions_created, s.sessions_freed, s.sessions_live),
            (0, 0, 1)
        );
        assert_eq!(s.alerts_sent[0], 0);
        let text = s.prometheus();
        assert!(text.contains("siptls_sessions_live 1\n"), "{text}");
        assert!(!text.contains("alert=\"close_notify\""), "{text}");
    }
}
