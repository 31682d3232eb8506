//! The log callback: siptls' own events (handshakes, verifications, alerts,
//! failures, configuration changes, refused resumptions) and rustls' log
//! records, handed to the gateway with the session's user data, at or
//! above a level it chose. Off by default: then nothing is formatted.
//! rustls' own records reach the same callbacks through `engine_log`.
//! Messages are made printable like detail texts.

use crate::abi::{siptls_log_event, siptls_log_level, UserData};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::printable;

/// One record, borrowed for the callback's duration.
pub struct Record<'a> {
    pub level: siptls_log_level,
    pub event: siptls_log_event,
    pub session_userdata: UserData,
    pub message: &'a str,
}

pub type LogCallback = Arc<dyn Fn(&Record<'_>) + Send + Sync>;

/// A context's callback and its threshold.
pub struct LogSink {
    callback: LogCallback,
    level: siptls_log_level,
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSink")
            .field("level", &self.level)
            .finish()
    }
}

/// Contexts with a callback that wants rustls' records at each level
/// (index = level), so `log`'s global filter lets only those through.
static WANTED: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

impl LogSink {
    pub fn new(callback: LogCallback, level: siptls_log_level) -> Arc<Self> {
        WANTED[level as usize].fetch_add(1, Ordering::Relaxed);
        update_max_level();
        Arc::new(Self { callback, level })
    }

    pub fn level(&self) -> siptls_log_level {
        self.level
    }

    pub fn enabled(&self, level: siptls_log_level) -> bool {
        level <= self.level
    }

    /// Hands the gateway a record, if it wants that level; the message is
    /// only formatted then.
    pub fn log(
        &self,
        level: siptls_log_level,
        event: siptls_log_event,
        session_userdata: UserData,
        message: impl FnOnce() -> String,
    ) {
        if self.enabled(level) {
            let message = printable(&message());
            (self.callback)(&Record {
                level,
                event,
                session_userdata,
                message: &message,
            });
        }
    }
}

/// The level and message of each record a test sink kept.
#[cfg(test)]
pub type Kept = Arc<parking_lot::Mutex<Vec<(siptls_log_level, String)>>>;

#[cfg(test)]
impl LogSink {
    /// A sink at debug level keeping the records of `event`.
    pub fn keeping(event: siptls_log_event) -> (Arc<Self>, Kept) {
        let kept = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let keep = kept.clone();
        let sink = Self::new(
            Arc::new(move |r: &Record<'_>| {
                if r.event == event {
                    keep.lock().push((r.level, r.message.to_owned()));
                }
            }),
            siptls_log_level::SIPTLS_LOG_DEBUG,
        );
        (sink, kept)
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        WANTED[self.level as usize].fetch_sub(1, Ordering::Relaxed);
        update_max_level();
    }
}

fn update_max_level() {
    let most = (1..WANTED.len())
        .rev()
        .find(|&l| WANTED[l].load(Ordering::Relaxed) > 0)
        .unwrap_or(0);
    log::set_max_level(match most {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    });
}
