//! The result of every call: one number per outcome, stable across releases.

#[allow(unused_imports)]
use super::*;
use siptls_derive::CEnum;

/// Outcome of a siptls call. Stable numbers; see `siptls_result_str()`.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, CEnum)]
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
    /// This library was built without the feature the call needs (PKCS#11, FIPS).
    SIPTLS_ERR_NOT_BUILT = 108,

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
    /// An OCSP response does not parse (RFC 6960 DER) or is not a basic response.
    SIPTLS_ERR_OCSP_MALFORMED = 250,
    /// An OCSP response speaks of other certificates than the identity's, or
    /// the certificate's issuer is not known to check it.
    SIPTLS_ERR_OCSP_MISMATCH = 251,
    /// An OCSP response is outside its thisUpdate..nextUpdate by the gateway's
    /// clock, has no nextUpdate, or the clock is unset.
    SIPTLS_ERR_OCSP_STALE = 252,
    /// An OCSP response is signed neither by the issuer nor by a responder
    /// the issuer authorized.
    SIPTLS_ERR_OCSP_UNTRUSTED = 253,
    /// An OCSP response says revoked or unknown, or the responder answered
    /// with an error status.
    SIPTLS_ERR_OCSP_NOT_GOOD = 254,
    /// A `pkcs11:` URI is malformed, or has an attribute siptls cannot apply (RFC 7512).
    SIPTLS_ERR_PKCS11_URI = 260,
    /// The PKCS#11 module is missing, cannot be loaded, or does not initialize.
    SIPTLS_ERR_PKCS11_MODULE = 261,
    /// No token matches the `pkcs11:` URI (or several do), or the token fails.
    SIPTLS_ERR_PKCS11_TOKEN = 262,
    /// The token refused the PIN, the PIN is locked, or no PIN was given.
    SIPTLS_ERR_PKCS11_LOGIN = 263,
    /// No private key on the token matches the `pkcs11:` URI, or several do.
    SIPTLS_ERR_PKCS11_OBJECT = 264,
    /// A FIPS build refuses a suite, group or setting outside the FIPS-approved set.
    SIPTLS_ERR_NOT_FIPS_APPROVED = 270,
    /// RFC 3263 resolution found no target: the name does not exist, or no
    /// NAPTR, SRV, A or AAAA record leads to an address for the transports allowed.
    SIPTLS_ERR_DNS_NOT_FOUND = 280,
    /// No DNS server answered in time.
    SIPTLS_ERR_DNS_TIMEOUT = 281,
    /// A DNS server failed or refused, or its answer does not parse.
    SIPTLS_ERR_DNS_FAILED = 282,

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
    /// The gateway's signing callback failed or returned no usable signature.
    SIPTLS_ERR_SIGNING_FAILED = 306,

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
