//! Expiry an operator can watch: how long each identity's certificate (and
//! the earliest-expiring certificate of its chain), each trust entry and
//! each CRL's promise of a successor (nextUpdate) has left, by the
//! gateway's clock, and a warning once per crossing of a threshold.
//!
//! siptls has no thread of its own: the gauges are computed, and crossings
//! noticed, when the gateway asks (counters, Prometheus text, the expiry
//! list) and, at most once a second, when it makes a session.

use crate::abi::siptls_expiry_kind;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::clock::when;

/// Warn this long before a certificate expires, unless set otherwise.
pub(crate) const DEFAULT_CERTIFICATE_WARNING: u32 = 30 * 24 * 3600;

/// Warn this long before a CRL's nextUpdate, unless set otherwise.
pub(crate) const DEFAULT_CRL_WARNING: u32 = 24 * 3600;

/// How far ahead a warning comes (0: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub certificate: u32,
    pub crl: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            certificate: DEFAULT_CERTIFICATE_WARNING,
            crl: DEFAULT_CRL_WARNING,
        }
    }
}

/// One thing that expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: siptls_expiry_kind,
    /// The identity ID, trust ID, or the CRL's index in load order.
    pub id: u32,
    /// The certificate's subject, or the CRL's issuer.
    pub subject: String,
    /// Its own notAfter (a CRL: its nextUpdate), seconds since 1970.
    pub not_after: i64,
    /// For an identity, the earliest notAfter of its chain; else `not_after`.
    pub earliest: i64,
}

impl Item {
    /// Seconds left until `earliest` at `now` (negative once past).
    pub fn left(&self, now: i64) -> i64 {
        self.earliest.saturating_sub(now)
    }

    fn threshold(&self, t: Thresholds) -> u32 {
        match self.kind {
            siptls_expiry_kind::SIPTLS_EXPIRY_CRL | siptls_expiry_kind::SIPTLS_EXPIRY_OCSP => t.crl,
            _ => t.certificate,
        }
    }

    fn key(&self) -> Crossing {
        (self.kind, self.id, self.earliest, self.subject.clone())
    }

    /// The warning's sentence.
    pub fn warning(&self, now: i64) -> String {
        let left = self.left(now);
        let span = if left <= 0 {
            "has passed".to_string()
        } else {
            format!("is {} away", duration(left))
        };
        match self.kind {
            siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY => format!(
                "The certificate chain of identity {} ({}) expires on {}, which {span}; load a renewed certificate and key before then (siptls_ctx_load_identity_files, or the identity files and siptls_ctx_reload_if_changed).",
                self.id,
                self.subject,
                when(self.earliest)
            ),
            siptls_expiry_kind::SIPTLS_EXPIRY_TRUST_ENTRY => format!(
                "Trust ID {} ({}) expires on {}, which {span}; once it has, it anchors nothing: put its successor in the trust table before then.",
                self.id,
                self.subject,
                when(self.earliest)
            ),
            siptls_expiry_kind::SIPTLS_EXPIRY_CRL => format!(
                "The CRL of {} promises its successor by {}, which {span}; load the issuer's next CRL (siptls_ctx_add_crl_file) before then, or the expired-CRL policy decides.",
                self.subject,
                when(self.earliest)
            ),
            siptls_expiry_kind::SIPTLS_EXPIRY_OCSP => format!(
                "The OCSP response stapled to identity {} ({}) holds until {}, which {span}; fetch a new one (openssl ocsp) and load it (siptls_ctx_load_ocsp_file) before then, or clients that check it refuse the staple.",
                self.id,
                self.subject,
                when(self.earliest)
            ),
        }
    }
}

/// "3 days 4 hours", "25 minutes".
fn duration(secs: i64) -> String {
    let (days, hours, minutes) = (secs / 86400, secs % 86400 / 3600, secs % 3600 / 60);
    let unit = |n: i64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (days, hours) {
        (0, 0) => unit(minutes.max(1), "minute"),
        (0, h) => unit(h, "hour"),
        (d, 0) => unit(d, "day"),
        (d, h) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

/// The earliest of each kind's gauges, for the counters struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earliest {
    pub identity: i64,
    pub trust_entry: i64,
    pub crl: i64,
}

/// What no item, or no clock, gives: the largest value.
pub(crate) const NOTHING_EXPIRES: i64 = crate::abi::SIPTLS_NOTHING_EXPIRES;

pub fn earliest(items: &[Item], now: Option<i64>) -> Earliest {
    let of = |kind| {
        now.and_then(|now| {
            items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.left(now))
                .min()
        })
        .unwrap_or(NOTHING_EXPIRES)
    };
    Earliest {
        identity: of(siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY),
        trust_entry: of(siptls_expiry_kind::SIPTLS_EXPIRY_TRUST_ENTRY),
        crl: of(siptls_expiry_kind::SIPTLS_EXPIRY_CRL),
    }
}

/// The gauges in the Prometheus text format: one series per item, with
/// its kind's labels (nothing while the clock is unset).
pub fn prometheus(items: &[Item], now: Option<i64>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let families = [
        (
            siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY,
            "identity_expiry_seconds",
            "Seconds until the earliest notAfter of an identity's certificate chain, by the gateway's clock.",
            "identity",
        ),
        (
            siptls_expiry_kind::SIPTLS_EXPIRY_TRUST_ENTRY,
            "trust_entry_expiry_seconds",
            "Seconds until a trust entry's notAfter, by the gateway's clock.",
            "trust_id",
        ),
        (
            siptls_expiry_kind::SIPTLS_EXPIRY_OCSP,
            "ocsp_next_update_seconds",
            "Seconds until the nextUpdate of an identity's stapled OCSP response, by the gateway's clock.",
            "identity",
        ),
        (
            siptls_expiry_kind::SIPTLS_EXPIRY_CRL,
            "crl_next_update_seconds",
            "Seconds until a CRL's nextUpdate, by the gateway's clock.",
            "crl",
        ),
    ];
    for (kind, name, help, label) in families {
        let _ = writeln!(
            out,
            "# HELP siptls_{name} {help}\n# TYPE siptls_{name} gauge"
        );
        let Some(now) = now else { continue };
        for item in items.iter().filter(|i| i.kind == kind) {
            let subject = item.subject.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "siptls_{name}{{{label}=\"{}\",subject=\"{subject}\"}} {}",
                item.id,
                item.left(now)
            );
        }
    }
    out
}

/// What identifies one crossing: the same item renewed is another.
type Crossing = (siptls_expiry_kind, u32, i64, String);

/// Which items are past their threshold and have been warned of.
pub struct Watch {
    warned: Mutex<HashSet<Crossing>>,
    /// When a session may look next, in milliseconds since `started`.
    next_look: AtomicU64,
    started: Instant,
}

impl Watch {
    pub fn new() -> Self {
        Self {
            warned: Mutex::default(),
            next_look: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Whether a session's look is due: at most one a second.
    pub fn due(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let next = self.next_look.load(Ordering::Relaxed);
        now >= next
            && self
                .next_look
                .compare_exchange(next, now + 1000, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// The items that crossed their threshold since the last look, each
    /// once; an item back above its threshold (a clock set back, a larger
    /// threshold) may cross again; items gone are forgotten.
    pub fn crossings(&self, items: &[Item], now: i64, thresholds: Thresholds) -> Vec<Item> {
        let mut warned = self.warned.lock();
        let keys: HashSet<_> = items.iter().map(Item::key).collect();
        warned.retain(|k| keys.contains(k));
        let mut crossed = Vec::new();
        for item in items {
            let threshold = item.threshold(thresholds);
            let under = threshold > 0 && item.left(now) < i64::from(threshold);
            match (under, warned.contains(&item.key())) {
                (true, false) => {
                    warned.insert(item.key());
                    crossed.push(item.clone());
                }
                (false, true) => {
                    warned.remove(&item.key());
                }
                _ => {}
            }
        }
        crossed
    }

    /// Whether `item` is under its threshold and was warned of.
    pub fn warned(&self, item: &Item) -> bool {
        self.warned.lock().contains(&item.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: siptls_expiry_kind, earliest: i64) -> Item {
        Item {
            kind,
            id: 1,
            subject: "CN=gw".into(),
            not_after: earliest + 10,
            earliest,
        }
    }

    const DAY: i64 = 86400;

    #[test]
    fn each_crossing_is_reported_once_and_again_after_a_recovery() {
        let watch = Watch::new();
        let t = Thresholds::default();
        let cert = item(siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY, 100 * DAY);
        let crl = item(siptls_expiry_kind::SIPTLS_EXPIRY_CRL, 100 * DAY);
        let items = [cert.clone(), crl.clone()];
        // 31 days before: nothing; 29 days before: the certificate, once.
        assert!(watch.crossings(&items, 69 * DAY, t).is_empty());
        assert_eq!(
            watch.crossings(&items, 71 * DAY, t),
            std::slice::from_ref(&cert)
        );
        assert!(watch.crossings(&items, 72 * DAY, t).is_empty());
        assert!(watch.warned(&cert) && !watch.warned(&crl));
        // The CRL's threshold is a day.
        assert_eq!(
            watch.crossings(&items, 99 * DAY + 1, t),
            std::slice::from_ref(&crl)
        );
        // The clock set back: both recover; crossing again warns again.
        assert!(watch.crossings(&items, 10 * DAY, t).is_empty());
        assert!(!watch.warned(&cert));
        assert_eq!(watch.crossings(&items, 99 * DAY + 1, t), items);
        // A renewed certificate is another item: it is not under threshold.
        let renewed = item(siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY, 400 * DAY);
        assert!(watch
            .crossings(&[renewed.clone(), crl.clone()], 99 * DAY + 2, t)
            .is_empty());
        // Threshold 0: never.
        let never = Thresholds {
            certificate: 0,
            crl: 0,
        };
        let fresh = Watch::new();
        assert!(fresh.crossings(&items, 200 * DAY, never).is_empty());
    }

    #[test]
    fn the_earliest_of_each_kind_or_nothing() {
        let items = [
            item(siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY, 50),
            item(siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY, 20),
            item(siptls_expiry_kind::SIPTLS_EXPIRY_CRL, 5),
        ];
        let e = earliest(&items, Some(10));
        assert_eq!(
            (e.identity, e.trust_entry, e.crl),
            (10, NOTHING_EXPIRES, -5)
        );
        let unset = earliest(&items, None);
        assert_eq!(unset.identity, NOTHING_EXPIRES);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration(3 * 86400 + 4 * 3600), "3 days 4 hours");
        assert_eq!(duration(86400), "1 day");
        assert_eq!(duration(7200), "2 hours");
        assert_eq!(duration(59), "1 minute");
        assert_eq!(duration(25 * 60), "25 minutes");
    }
}
