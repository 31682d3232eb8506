//! Result codes and the error type every fallible operation returns.
//!
//! `siptls_result` numbers are part of the ABI: never renumber, only append.
//! Codes below 100 are not errors; 1xx are misuse of the API, 2xx are loading
//! and configuration problems, 3xx happen on a live session.

use std::ffi::CStr;
use std::fmt;

/// Outcome of a siptls call. Stable numbers; see `siptls_result_str()`.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum siptls_result {
    /// Success.
    SIPTLS_OK = 0,
    /// Nothing to do yet: no plaintext to read, no ciphertext to send.
    SIPTLS_AGAIN = 1,
    /// The peer closed the TLS session cleanly (close_notify); no more plaintext will come.
    SIPTLS_PEER_CLOSED = 2,
    /// Undelivered plaintext fills the session's receive buffer: read plaintext, then feed again.
    SIPTLS_BUFFER_FULL = 3,

    /// A required pointer argument was NULL.
    SIPTLS_ERR_NULL_ARGUMENT = 100,
    /// An argument is out of range or malformed (bad enum value, not UTF-8, empty name...).
    SIPTLS_ERR_INVALID_ARGUMENT = 101,
    /// An internal panic was caught at the API boundary; the object it happened on is unusable.
    SIPTLS_ERR_PANIC = 102,
    /// The caller's output buffer is too small; the needed size is reported.
    SIPTLS_ERR_BUFFER_TOO_SMALL = 103,
    /// The session is being used by another thread at this moment.
    SIPTLS_ERR_BUSY = 104,
    /// The call is not allowed in the session's current state.
    SIPTLS_ERR_WRONG_STATE = 105,
    /// The session failed earlier; it can only be freed (plaintext authenticated before the
    /// failure is read first, and its alert may still be taken and sent).
    SIPTLS_ERR_SESSION_FAILED = 106,
    /// `siptls_get_api` was asked for an ABI version this library does not provide.
    SIPTLS_ERR_ABI_VERSION = 107,

    /// A file could not be read (missing, a directory, no permission).
    SIPTLS_ERR_IO = 200,
    /// The input holds no PEM section of the expected kind (none at all, or only other labels).
    SIPTLS_ERR_PEM_EMPTY = 201,
    /// The PEM text is malformed (bad base64, unterminated section).
    SIPTLS_ERR_PEM_MALFORMED = 202,
    /// A certificate is not valid X.509 DER.
    SIPTLS_ERR_CERT_MALFORMED = 203,
    /// A private key could not be parsed.
    SIPTLS_ERR_KEY_MALFORMED = 204,
    /// The private key is encrypted; only unencrypted keys are supported.
    SIPTLS_ERR_KEY_ENCRYPTED = 205,
    /// The private key's algorithm is not supported.
    SIPTLS_ERR_KEY_UNSUPPORTED = 206,
    /// The private key does not belong to the certificate.
    SIPTLS_ERR_KEY_MISMATCH = 207,
    /// The context has no identity (certificate and key), but the operation needs one.
    SIPTLS_ERR_NO_IDENTITY = 208,
    /// The trust table already holds 16 entries.
    SIPTLS_ERR_TRUST_TABLE_FULL = 220,
    /// A trust entry with this trust ID already exists.
    SIPTLS_ERR_TRUST_DUPLICATE_ID = 221,
    /// No trust entry has this trust ID.
    SIPTLS_ERR_TRUST_NOT_FOUND = 222,
    /// A certificate revocation list could not be parsed.
    SIPTLS_ERR_CRL_MALFORMED = 230,
    /// A CRL whose issuer is a trust entry does not verify with that entry's key.
    SIPTLS_ERR_CRL_UNTRUSTED = 231,
    /// A CRL is not newer than the one already loaded for its issuer (CRL number, or thisUpdate).
    SIPTLS_ERR_CRL_NOT_NEWER = 232,
    /// No CRL is loaded for this issuer.
    SIPTLS_ERR_CRL_NOT_FOUND = 233,
    /// A ticket key set does not parse: wrong length, not hex, a duplicate, none at all.
    SIPTLS_ERR_TICKET_KEY_MALFORMED = 234,
    /// The TLS configuration could not be built from the context's settings.
    SIPTLS_ERR_CONFIG = 240,

    /// A TLS protocol error (bad record, unexpected message, decryption failure...).
    SIPTLS_ERR_TLS = 300,
    /// The peer's certificate chain was not accepted; see the verification status.
    SIPTLS_ERR_CERT_REJECTED = 301,
    /// The peer sent a fatal alert.
    SIPTLS_ERR_ALERT_RECEIVED = 302,
    /// The transport ended without close_notify: the data may have been truncated.
    SIPTLS_ERR_TRUNCATED = 303,
    /// The peer offers no protocol version or cipher suite we accept.
    SIPTLS_ERR_NO_COMMON_PARAMETERS = 304,
    /// The peer's handshake messages or certificate chain exceed the size limits.
    SIPTLS_ERR_PEER_TOO_LARGE = 305,

    /// SIP framing: the stream is not SIP (a bad first line, a header without
    /// a colon, a bare LF, stray bytes between messages). Close the connection.
    SIPTLS_ERR_SIP_MALFORMED = 400,
    /// SIP framing: a header block over the framer's limit, or never ending.
    SIPTLS_ERR_SIP_HEADER_TOO_LARGE = 401,
    /// SIP framing: a body over the framer's limit.
    SIPTLS_ERR_SIP_BODY_TOO_LARGE = 402,
    /// SIP framing: a message without Content-Length (required over a stream).
    SIPTLS_ERR_SIP_NO_CONTENT_LENGTH = 403,
    /// SIP framing: a Content-Length that is not a plain decimal number, too
    /// large, or given twice.
    SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH = 404,
}

use siptls_result::*;

impl siptls_result {
    /// A short, static description, NUL-terminated so C can use it directly.
    pub const fn description(self) -> &'static CStr {
        match self {
            SIPTLS_OK => c"success",
            SIPTLS_AGAIN => c"nothing to do yet",
            SIPTLS_PEER_CLOSED => c"peer closed the TLS session (close_notify)",
            SIPTLS_BUFFER_FULL => c"received plaintext buffer full: read before feeding more",
            SIPTLS_ERR_NULL_ARGUMENT => c"a required pointer argument is NULL",
            SIPTLS_ERR_INVALID_ARGUMENT => c"invalid argument",
            SIPTLS_ERR_PANIC => c"internal error (panic caught at the API boundary)",
            SIPTLS_ERR_BUFFER_TOO_SMALL => c"output buffer too small",
            SIPTLS_ERR_BUSY => c"session in use by another thread",
            SIPTLS_ERR_WRONG_STATE => c"call not allowed in the session's current state",
            SIPTLS_ERR_SESSION_FAILED => c"session failed earlier and is unusable",
            SIPTLS_ERR_ABI_VERSION => c"ABI version not provided by this library",
            SIPTLS_ERR_IO => c"file could not be read",
            SIPTLS_ERR_PEM_EMPTY => c"no PEM section of the expected kind",
            SIPTLS_ERR_PEM_MALFORMED => c"malformed PEM",
            SIPTLS_ERR_CERT_MALFORMED => c"malformed X.509 certificate",
            SIPTLS_ERR_KEY_MALFORMED => c"malformed private key",
            SIPTLS_ERR_KEY_ENCRYPTED => c"encrypted private keys are not supported",
            SIPTLS_ERR_KEY_UNSUPPORTED => c"unsupported private key type",
            SIPTLS_ERR_KEY_MISMATCH => c"private key does not match the certificate",
            SIPTLS_ERR_NO_IDENTITY => c"no certificate and private key loaded",
            SIPTLS_ERR_TRUST_TABLE_FULL => c"trust table full (at most 16 entries)",
            SIPTLS_ERR_TRUST_DUPLICATE_ID => c"trust ID already in use",
            SIPTLS_ERR_TRUST_NOT_FOUND => c"no trust entry with this trust ID",
            SIPTLS_ERR_CRL_MALFORMED => c"malformed certificate revocation list",
            SIPTLS_ERR_CRL_UNTRUSTED => {
                c"revocation list does not verify with its issuing trust entry"
            }
            SIPTLS_ERR_CRL_NOT_NEWER => c"revocation list not newer than the loaded one",
            SIPTLS_ERR_CRL_NOT_FOUND => c"no revocation list for this issuer",
            SIPTLS_ERR_TICKET_KEY_MALFORMED => c"malformed ticket key set",
            SIPTLS_ERR_CONFIG => c"TLS configuration could not be built",
            SIPTLS_ERR_TLS => c"TLS protocol error",
            SIPTLS_ERR_CERT_REJECTED => c"peer certificate rejected",
            SIPTLS_ERR_ALERT_RECEIVED => c"peer sent a fatal alert",
            SIPTLS_ERR_TRUNCATED => c"transport closed without close_notify (possible truncation)",
            SIPTLS_ERR_NO_COMMON_PARAMETERS => c"no common protocol version or cipher suite",
            SIPTLS_ERR_PEER_TOO_LARGE => c"peer message or certificate chain too large",
            SIPTLS_ERR_SIP_MALFORMED => c"malformed SIP stream",
            SIPTLS_ERR_SIP_HEADER_TOO_LARGE => c"SIP header block too large",
            SIPTLS_ERR_SIP_BODY_TOO_LARGE => c"SIP body too large",
            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH => c"SIP message without Content-Length",
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH => c"bad SIP Content-Length",
        }
    }
}

/// Every result code, for mapping numbers from C back to codes.
pub(crate) const ALL_RESULTS: [siptls_result; 41] = [
    SIPTLS_OK,
    SIPTLS_AGAIN,
    SIPTLS_PEER_CLOSED,
    SIPTLS_BUFFER_FULL,
    SIPTLS_ERR_NULL_ARGUMENT,
    SIPTLS_ERR_INVALID_ARGUMENT,
    SIPTLS_ERR_PANIC,
    SIPTLS_ERR_BUFFER_TOO_SMALL,
    SIPTLS_ERR_BUSY,
    SIPTLS_ERR_WRONG_STATE,
    SIPTLS_ERR_SESSION_FAILED,
    SIPTLS_ERR_ABI_VERSION,
    SIPTLS_ERR_IO,
    SIPTLS_ERR_PEM_EMPTY,
    SIPTLS_ERR_PEM_MALFORMED,
    SIPTLS_ERR_CERT_MALFORMED,
    SIPTLS_ERR_KEY_MALFORMED,
    SIPTLS_ERR_KEY_ENCRYPTED,
    SIPTLS_ERR_KEY_UNSUPPORTED,
    SIPTLS_ERR_KEY_MISMATCH,
    SIPTLS_ERR_NO_IDENTITY,
    SIPTLS_ERR_TRUST_TABLE_FULL,
    SIPTLS_ERR_TRUST_DUPLICATE_ID,
    SIPTLS_ERR_TRUST_NOT_FOUND,
    SIPTLS_ERR_CRL_MALFORMED,
    SIPTLS_ERR_CRL_UNTRUSTED,
    SIPTLS_ERR_CRL_NOT_NEWER,
    SIPTLS_ERR_CRL_NOT_FOUND,
    SIPTLS_ERR_TICKET_KEY_MALFORMED,
    SIPTLS_ERR_CONFIG,
    SIPTLS_ERR_TLS,
    SIPTLS_ERR_CERT_REJECTED,
    SIPTLS_ERR_ALERT_RECEIVED,
    SIPTLS_ERR_TRUNCATED,
    SIPTLS_ERR_NO_COMMON_PARAMETERS,
    SIPTLS_ERR_PEER_TOO_LARGE,
    SIPTLS_ERR_SIP_MALFORMED,
    SIPTLS_ERR_SIP_HEADER_TOO_LARGE,
    SIPTLS_ERR_SIP_BODY_TOO_LARGE,
    SIPTLS_ERR_SIP_NO_CONTENT_LENGTH,
    SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
];

/// The code with this number, if any.
pub fn from_number(number: u32) -> Option<siptls_result> {
    ALL_RESULTS
        .iter()
        .copied()
        .find(|code| *code as u32 == number)
}

impl fmt::Display for siptls_result {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description().to_string_lossy())
    }
}

/// A failure: its stable code plus detail text naming what exactly went wrong
/// (which file, which certificate, which limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: siptls_result,
    pub detail: String,
}

/// Text safe to hand to a C caller and its logs: control characters (a NUL
/// that would cut the string short, newlines that would forge log lines)
/// taken from inputs are shown escaped.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Error {
    pub fn new(code: siptls_result, detail: impl AsRef<str>) -> Self {
        Self {
            code,
            detail: printable(detail.as_ref()),
        }
    }

    /// Prefixes the detail with where the problem was found, e.g. a file name.
    pub fn context(mut self, place: &str) -> Self {
        self.detail = format!("{}: {}", printable(place), self.detail);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
