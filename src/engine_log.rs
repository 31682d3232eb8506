//! rustls logs through the `log` crate, process-wide: one logger routes
//! each record to the log sink of the session step it came from (the step
//! scope, see `verify::scope`) and drops records from outside any step.

use std::sync::OnceLock;

use crate::abi::{siptls_log_event, siptls_log_level};

struct Router;

impl log::Log for Router {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => siptls_log_level::SIPTLS_LOG_ERROR,
            log::Level::Warn => siptls_log_level::SIPTLS_LOG_WARN,
            log::Level::Info => siptls_log_level::SIPTLS_LOG_INFO,
            log::Level::Debug => siptls_log_level::SIPTLS_LOG_DEBUG,
            log::Level::Trace => siptls_log_level::SIPTLS_LOG_TRACE,
        };
        if let Some((sink, userdata)) = crate::verify::step_log() {
            sink.log(
                level,
                siptls_log_event::SIPTLS_LOG_TLS_ENGINE,
                userdata,
                || format!("{}: {}", record.target(), record.args()),
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the router as the process's `log` logger, once. If the process
/// already has another logger (a Rust program embedding siptls), rustls'
/// records go there instead, and siptls' own events still reach callbacks.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = log::set_logger(&Router);
    });
}
