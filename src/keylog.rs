//! TLS secrets in the NSS key log format, so Wireshark can decrypt captured
//! SIP traffic while debugging. Off unless the gateway asks for it: to a
//! file (created owner-only, never through a symbolic link, never anything
//! but a regular file), to a C callback, or to the file `SSLKEYLOGFILE`
//! names when the context opts in.

use crate::abi::siptls_result::*;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::{Error, Result};

/// Receives one NSS key log line, without its newline.
pub type KeyLogLine = Arc<dyn Fn(&str) + Send + Sync>;

pub enum KeyLogSink {
    File(Mutex<File>),
    Callback(KeyLogLine),
}

impl std::fmt::Debug for KeyLogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyLogSink::File(_) => "KeyLogSink::File",
            KeyLogSink::Callback(_) => "KeyLogSink::Callback",
        })
    }
}

impl KeyLogSink {
    /// Opens (or creates, mode 0600) the key log file at `path` for appending.
    /// Refused: a symbolic link, anything but a regular file, and an existing
    /// file that others may read: the secrets decrypt every call.
    pub fn open(path: &Path) -> Result<Self> {
        let name = path.display();
        let refuse = |why: String| Error::new(SIPTLS_ERR_IO, format!("{name}: {why}"));
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            // O_NONBLOCK: a FIFO without a reader must not hang the gateway.
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => refuse("is a symbolic link; refused for the key log".into()),
                // A FIFO or socket with nobody at the other end.
                Some(libc::ENXIO) => {
                    refuse("is not a regular file; refused for the key log".into())
                }
                _ => refuse(e.to_string()),
            })?;
        let meta = file.metadata().map_err(|e| refuse(e.to_string()))?;
        if !meta.file_type().is_file() {
            return Err(refuse(
                "is not a regular file; refused for the key log".into(),
            ));
        }
        if meta.nlink() != 1 {
            return Err(refuse(format!(
                "has {} hard links; refused for the key log",
                meta.nlink()
            )));
        }
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(refuse(format!(
                "belongs to user {}, not to this process ({me}); refused for the key log",
                meta.uid()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(refuse(format!(
                "is readable or writable by others (mode {:04o}); the key log must be 0600",
                meta.mode() & 0o7777
            )));
        }
        Ok(KeyLogSink::File(Mutex::new(file)))
    }

    /// The file `SSLKEYLOGFILE` names, opened as `open` does; `None` when the
    /// variable is unset or empty.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var_os("SSLKEYLOGFILE") {
            Some(path) if !path.is_empty() => Self::open(Path::new(&path)).map(Some),
            _ => Ok(None),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl rustls::KeyLog for KeyLogSink {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}", hex(client_random), hex(secret));
        match self {
            // Logging is a debugging aid: a full disk must not break the handshake.
            KeyLogSink::File(file) => {
                let _ = file.lock().write_all(format!("{line}\n").as_bytes());
            }
            KeyLogSink::Callback(callback) => callback(&line),
        }
    }
}
