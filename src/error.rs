//! Result codes and the error type every fallible operation returns.
//!
//! `siptls_result` numbers are part of the ABI: never renumber, only append.
//! Codes below 100 are not errors; 1xx are misuse of the API, 2xx are loading
//! and configuration problems, 3xx happen on a live session.

use crate::abi::siptls_result;
use std::ffi::CStr;
use std::fmt;

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
            SIPTLS_ERR_NOT_BUILT => c"this library was built without the feature the call needs",
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
            SIPTLS_ERR_OCSP_MALFORMED => c"malformed OCSP response",
            SIPTLS_ERR_OCSP_MISMATCH => c"OCSP response is for another certificate",
            SIPTLS_ERR_OCSP_STALE => c"OCSP response outside its validity",
            SIPTLS_ERR_OCSP_UNTRUSTED => c"OCSP response signature not trusted",
            SIPTLS_ERR_OCSP_NOT_GOOD => c"OCSP response does not say good",
            SIPTLS_ERR_TLS => c"TLS protocol error",
            SIPTLS_ERR_CERT_REJECTED => c"peer certificate rejected",
            SIPTLS_ERR_ALERT_RECEIVED => c"peer sent a fatal alert",
            SIPTLS_ERR_TRUNCATED => c"transport closed without close_notify (possible truncation)",
            SIPTLS_ERR_NO_COMMON_PARAMETERS => c"no common protocol version or cipher suite",
            SIPTLS_ERR_PEER_TOO_LARGE => c"peer message or certificate chain too large",
            SIPTLS_ERR_PKCS11_URI => c"malformed pkcs11: URI, or an attribute siptls cannot apply",
            SIPTLS_ERR_PKCS11_MODULE => c"PKCS#11 module missing or not loadable",
            SIPTLS_ERR_PKCS11_TOKEN => c"no PKCS#11 token matches, or the token failed",
            SIPTLS_ERR_PKCS11_LOGIN => c"the PKCS#11 token refused the login (PIN)",
            SIPTLS_ERR_PKCS11_OBJECT => c"no private key on the token matches the pkcs11: URI",
            SIPTLS_ERR_NOT_FIPS_APPROVED => c"not FIPS-approved: a FIPS build refuses it",
            SIPTLS_ERR_DNS_NOT_FOUND => c"no target found for the SIP URI in DNS",
            SIPTLS_ERR_DNS_TIMEOUT => c"no DNS server answered in time",
            SIPTLS_ERR_DNS_FAILED => c"the DNS server failed or its answer does not parse",
            SIPTLS_ERR_SIGNING_FAILED => c"the gateway's signing callback failed",
            SIPTLS_ERR_SIP_MALFORMED => c"malformed SIP stream",
            SIPTLS_ERR_SIP_HEADER_TOO_LARGE => c"SIP header block too large",
            SIPTLS_ERR_SIP_BODY_TOO_LARGE => c"SIP body too large",
            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH => c"SIP message without Content-Length",
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH => c"bad SIP Content-Length",
        }
    }
}

impl fmt::Display for siptls_result {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description().to_string_lossy())
    }
}

/// A failure: its stable code plus detail text naming what exactly went wrong
/// (which file, which certificate, which limit). Boxed, so that a `Result`
/// of a small value fits in two registers: every call on the data path
/// returns one through several layers, and failures are rare.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Failure>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: siptls_result,
    pub detail: String,
}

impl std::ops::Deref for Error {
    type Target = Failure;

    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Failure {
        &mut self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
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
        Self(Box::new(Failure {
            code,
            detail: printable(detail.as_ref()),
        }))
    }

    /// The detail text, taken out.
    pub fn into_detail(self) -> String {
        self.0.detail
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
