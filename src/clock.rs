//! The time used for certificate validity: the system clock, or the gateway's
//! own (SNTP-disciplined) clock, which may admit it is not synchronized.

use std::sync::Arc;
use std::time::Duration;

use pki_types::UnixTime;
use x509_parser::time::ASN1Time;

/// Seconds since the Unix epoch, or `None` while the clock is not synchronized.
pub type TimeSource = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Gateway(TimeSource),
}

impl Clock {
    /// `None` means "no trustworthy time": verification must fail, never guess.
    pub fn now(&self) -> Option<UnixTime> {
        match self {
            Clock::System => Some(UnixTime::now()),
            Clock::Gateway(source) => {
                source().map(|secs| UnixTime::since_unix_epoch(Duration::from_secs(secs)))
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Clock::System => "Clock::System",
            Clock::Gateway(_) => "Clock::Gateway",
        })
    }
}

/// A time as operators read it in logs: RFC 2822, UTC.
pub fn when(secs: i64) -> String {
    ASN1Time::from_timestamp(secs)
        .ok()
        .and_then(|t| t.to_rfc2822().ok())
        .unwrap_or_else(|| format!("{secs} seconds after 1970"))
}
