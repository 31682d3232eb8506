//! Verification vocabulary: statuses, the callback's decision, the report it receives, and the CA depth limits.

use siptls_derive::CEnum;
use std::ffi::{c_char, c_void};

#[allow(unused_imports)]
use super::*;

/// Why a peer certificate chain was or was not accepted. Stable numbers.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, CEnum)]
pub enum siptls_verify_status {
    /// The chain verified to a trust entry and the peer's identity matched.
    SIPTLS_VERIFY_OK = 0,
    /// No path to any trust entry.
    SIPTLS_VERIFY_UNKNOWN_CA = 1,
    /// A certificate in the path is past its notAfter.
    SIPTLS_VERIFY_EXPIRED = 2,
    /// A certificate in the path is before its notBefore.
    SIPTLS_VERIFY_NOT_YET_VALID = 3,
    /// The gateway's time source says its clock is not synchronized.
    SIPTLS_VERIFY_CLOCK_UNSET = 4,
    /// The only paths found hold more CA certificates than the context's cap.
    SIPTLS_VERIFY_DEPTH_EXCEEDED = 5,
    /// A signature in the path does not verify.
    SIPTLS_VERIFY_BAD_SIGNATURE = 6,
    /// The certificate does not name the expected peer.
    SIPTLS_VERIFY_NAME_MISMATCH = 7,
    /// A certificate in the path is revoked by a loaded CRL.
    SIPTLS_VERIFY_REVOKED = 8,
    /// The peer presented no certificate.
    SIPTLS_VERIFY_NO_CERTIFICATE = 9,
    /// A certificate in the chain is not valid DER / X.509.
    SIPTLS_VERIFY_BAD_ENCODING = 10,
    /// The certificate may not be used for this purpose (extended key usage, CA as leaf).
    SIPTLS_VERIFY_WRONG_KEY_USAGE = 11,
    /// A signature or key algorithm in the path is not supported.
    SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM = 12,
    /// The chain verified but the gateway's callback rejected it.
    SIPTLS_VERIFY_REJECTED_BY_CALLBACK = 13,
    /// The chain failed but the gateway's callback accepted it (overrides enabled).
    SIPTLS_VERIFY_OVERRIDDEN = 14,
    /// CRL checking is required and no CRL covers a certificate of the path.
    SIPTLS_VERIFY_REVOCATION_UNKNOWN = 15,
    /// Another X.509 rule failed (name constraints, path length constraint, ...).
    SIPTLS_VERIFY_INVALID = 16,
    /// A CRL for a certificate of the path does not verify against that
    /// certificate's issuer (its signature, or the issuer may not sign CRLs).
    SIPTLS_VERIFY_CRL_INVALID = 17,
}

/// The callback's answer: accept or reject the peer. Rejecting is 0, so a
/// callback returning a zeroed or default value fails closed.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_verify_decision {
    /// Any value other than SIPTLS_VERIFY_ACCEPT rejects.
    SIPTLS_VERIFY_REJECT = 0,
    /// Let the peer in (a failed chain only when overrides are allowed).
    SIPTLS_VERIFY_ACCEPT = 1,
}

/// One verification of a peer certificate chain, shown to the verify
/// callback. Every pointer is valid only during the callback.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_verify_report {
    /// sizeof the report as this library fills it: read a field only when
    /// its offset is below this (fields are only ever added at the end).
    pub struct_size: u32,
    /// Our role in the connection.
    pub role: siptls_role,
    /// What the checks found.
    pub status: siptls_verify_status,
    /// The trust entry that anchored the chain, or SIPTLS_TRUST_ID_NONE.
    pub trust_id: u32,
    /// CA certificates in the verified path, the trust entry included; 0 for a pinned certificate.
    pub depth: u32,
    /// The name checked against the certificate ("" when none).
    pub peer_name: *const c_char,
    /// The peer's end-entity certificate, DER (NULL with length 0 when none was sent).
    pub leaf_der: *const u8,
    /// The length of `leaf_der`.
    pub leaf_der_len: usize,
    /// The identities found in the certificate, e.g. "URI:sip:example.com, DNS:example.com, CN:gw".
    pub identities: *const c_char,
    /// Human-readable explanation of the status.
    pub detail: *const c_char,
    /// True when the context allows overrides and the status is a failure:
    /// accepting will then let the peer in as SIPTLS_VERIFY_OVERRIDDEN.
    pub override_allowed: bool,
    /// The context's configuration generation that did this verification
    /// (`siptls_ctx_get_generation`), so a log can say which configuration let a peer in.
    pub generation: u64,
    /// The session's pointer from `siptls_session_set_userdata` (NULL when none).
    pub session_userdata: *mut c_void,
    /// A resumed session: the chain is the one stored with it, which has just
    /// passed every check again; trust ID, depth and identities are its own.
    /// Rejecting fails the session.
    pub resumed: bool,
    /// The purpose the peer's certificate was accepted for under the
    /// extended key usage policy (`siptls_purpose`): its own role's
    /// (clientAuth for a TLS client), serverAuth for a TLS client under
    /// SIPTLS_EKU_SERVER_TO_SERVER, and so on; SIPTLS_PURPOSE_NONE when the
    /// chain failed before its purpose counted.
    pub purpose: siptls_purpose,
    /// A client's full handshake: the OCSP response the server stapled, DER
    /// (RFC 6960), for the gateway to check with its own tools; NULL with
    /// length 0 when the server stapled none (or it is not this report's
    /// to show: a server's, a resumption's).
    pub ocsp_response: *const u8,
    /// The length of `ocsp_response`.
    pub ocsp_response_len: usize,
}

/// How a peer certificate's extended key usage (EKU) must fit the peer's
/// role (`siptls_ctx_set_eku_policy`, `siptls_ctx_set_trust_eku_policy`).
/// A certificate without the extension fits every role under every policy;
/// one with an empty extension fits none. CA certificates of the path are
/// held to the same rule (as webpki and browsers do).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_eku_policy {
    /// For a context: SIPTLS_EKU_SERVER_TO_SERVER. For a trust entry: the
    /// context's policy.
    SIPTLS_EKU_DEFAULT = 0,
    /// A TLS client's certificate must allow clientAuth, a TLS server's
    /// serverAuth, or either id-kp-sipDomain (RFC 5924).
    SIPTLS_EKU_STRICT = 1,
    /// As STRICT, and a TLS client may also present a certificate that
    /// allows serverAuth only (a SIP proxy or trunk is a server talking to a
    /// server: the public CAs of 2026 issue serverAuth-only certificates),
    /// or anyExtendedKeyUsage. A TLS server still needs serverAuth.
    SIPTLS_EKU_SERVER_TO_SERVER = 2,
    /// The extended key usage is not checked (closed deployments).
    SIPTLS_EKU_ANY = 3,
}

/// What a peer's certificate was accepted for (`siptls_verify_report.purpose`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_purpose {
    /// Not accepted, or not checked yet.
    SIPTLS_PURPOSE_NONE = 0,
    /// The certificate has no extended key usage: any purpose.
    SIPTLS_PURPOSE_UNRESTRICTED = 1,
    /// clientAuth.
    SIPTLS_PURPOSE_CLIENT_AUTH = 2,
    /// serverAuth (for a TLS client: under SIPTLS_EKU_SERVER_TO_SERVER or ANY).
    SIPTLS_PURPOSE_SERVER_AUTH = 3,
    /// id-kp-sipDomain (RFC 5924): a SIP domain's certificate, in either role.
    SIPTLS_PURPOSE_SIP_DOMAIN = 4,
    /// anyExtendedKeyUsage (under SIPTLS_EKU_SERVER_TO_SERVER or ANY).
    SIPTLS_PURPOSE_ANY_EKU = 5,
    /// None of the above; let in by SIPTLS_EKU_ANY.
    SIPTLS_PURPOSE_NOT_CHECKED = 6,
}

/// Called once per verification, on the thread driving the session.
/// Return SIPTLS_VERIFY_ACCEPT or SIPTLS_VERIFY_REJECT (a siptls_verify_decision;
/// any other number rejects). Rejecting a chain that passed fails the
/// handshake (access_denied); accepting one that failed changes nothing
/// unless overrides are enabled.
#[allow(non_camel_case_types)]
pub type siptls_verify_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, report: *const siptls_verify_report) -> u32>;

/// The CA depth limit unless set otherwise: four CAs, the trust entry included.
pub const SIPTLS_DEFAULT_MAX_CA_DEPTH: u32 = 4;

/// webpki follows at most six intermediates; with the trust entry that is seven CAs.
pub const SIPTLS_MAX_CA_DEPTH_LIMIT: u32 = 7;
