//! Peer certificate verification: chains to a trust entry (with the CA depth
//! cap), pins, validity against the gateway's clock, CRLs, SIP identity, and
//! the report handed to the gateway's callback, which may reject or, when
//! allowed, override.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

use pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use webpki::{EndEntityCert, KeyUsage, RevocationCheckDepth, UnknownStatusPolicy};

use crate::clock::Clock;
use crate::context::siptls_role;
use crate::crl::{Crl, MissingCrl};
use crate::names::{self, NameCheck};
use crate::trust::{EntryKind, TrustEntry, TrustTable, SIPTLS_TRUST_ID_NONE};

/// Why a peer certificate chain was or was not accepted. Stable numbers.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

use siptls_verify_status::*;

impl siptls_verify_status {
    pub const fn name(self) -> &'static std::ffi::CStr {
        match self {
            SIPTLS_VERIFY_OK => c"OK",
            SIPTLS_VERIFY_UNKNOWN_CA => c"UNKNOWN_CA",
            SIPTLS_VERIFY_EXPIRED => c"EXPIRED",
            SIPTLS_VERIFY_NOT_YET_VALID => c"NOT_YET_VALID",
            SIPTLS_VERIFY_CLOCK_UNSET => c"CLOCK_UNSET",
            SIPTLS_VERIFY_DEPTH_EXCEEDED => c"DEPTH_EXCEEDED",
            SIPTLS_VERIFY_BAD_SIGNATURE => c"BAD_SIGNATURE",
            SIPTLS_VERIFY_NAME_MISMATCH => c"NAME_MISMATCH",
            SIPTLS_VERIFY_REVOKED => c"REVOKED",
            SIPTLS_VERIFY_NO_CERTIFICATE => c"NO_CERTIFICATE",
            SIPTLS_VERIFY_BAD_ENCODING => c"BAD_ENCODING",
            SIPTLS_VERIFY_WRONG_KEY_USAGE => c"WRONG_KEY_USAGE",
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM => c"UNSUPPORTED_ALGORITHM",
            SIPTLS_VERIFY_REJECTED_BY_CALLBACK => c"REJECTED_BY_CALLBACK",
            SIPTLS_VERIFY_OVERRIDDEN => c"OVERRIDDEN",
            SIPTLS_VERIFY_REVOCATION_UNKNOWN => c"REVOCATION_UNKNOWN",
            SIPTLS_VERIFY_INVALID => c"INVALID",
        }
    }

    /// The certificate error handed to rustls, which picks the TLS alert from it.
    fn to_certificate_error(self) -> CertificateError {
        match self {
            SIPTLS_VERIFY_UNKNOWN_CA | SIPTLS_VERIFY_DEPTH_EXCEEDED => {
                CertificateError::UnknownIssuer
            }
            SIPTLS_VERIFY_EXPIRED => CertificateError::Expired,
            SIPTLS_VERIFY_NOT_YET_VALID => CertificateError::NotValidYet,
            SIPTLS_VERIFY_BAD_SIGNATURE => CertificateError::BadSignature,
            SIPTLS_VERIFY_NAME_MISMATCH => CertificateError::NotValidForName,
            SIPTLS_VERIFY_REVOKED => CertificateError::Revoked,
            SIPTLS_VERIFY_REVOCATION_UNKNOWN => CertificateError::UnknownRevocationStatus,
            SIPTLS_VERIFY_BAD_ENCODING => CertificateError::BadEncoding,
            SIPTLS_VERIFY_WRONG_KEY_USAGE => CertificateError::InvalidPurpose,
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM => {
                CertificateError::UnsupportedSignatureAlgorithmContext {
                    signature_algorithm_id: Vec::new(),
                    supported_algorithms: Vec::new(),
                }
            }
            SIPTLS_VERIFY_REJECTED_BY_CALLBACK => CertificateError::ApplicationVerificationFailure,
            SIPTLS_VERIFY_OK
            | SIPTLS_VERIFY_OVERRIDDEN
            | SIPTLS_VERIFY_CLOCK_UNSET
            | SIPTLS_VERIFY_NO_CERTIFICATE
            | SIPTLS_VERIFY_INVALID => {
                CertificateError::Other(rustls::OtherError(Arc::new(StatusError(self))))
            }
        }
    }
}

/// Every status, for mapping numbers from C back to statuses.
pub(crate) const ALL_STATUSES: [siptls_verify_status; 17] = [
    SIPTLS_VERIFY_OK,
    SIPTLS_VERIFY_UNKNOWN_CA,
    SIPTLS_VERIFY_EXPIRED,
    SIPTLS_VERIFY_NOT_YET_VALID,
    SIPTLS_VERIFY_CLOCK_UNSET,
    SIPTLS_VERIFY_DEPTH_EXCEEDED,
    SIPTLS_VERIFY_BAD_SIGNATURE,
    SIPTLS_VERIFY_NAME_MISMATCH,
    SIPTLS_VERIFY_REVOKED,
    SIPTLS_VERIFY_NO_CERTIFICATE,
    SIPTLS_VERIFY_BAD_ENCODING,
    SIPTLS_VERIFY_WRONG_KEY_USAGE,
    SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM,
    SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
    SIPTLS_VERIFY_OVERRIDDEN,
    SIPTLS_VERIFY_REVOCATION_UNKNOWN,
    SIPTLS_VERIFY_INVALID,
];

/// The status with this number, if any.
pub fn status_from_number(number: u32) -> Option<siptls_verify_status> {
    ALL_STATUSES
        .iter()
        .copied()
        .find(|status| *status as u32 == number)
}

#[derive(Debug)]
struct StatusError(siptls_verify_status);

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name().to_string_lossy())
    }
}

impl std::error::Error for StatusError {}

fn status_of(error: &webpki::Error) -> siptls_verify_status {
    use webpki::Error as E;
    #[allow(deprecated)]
    match error {
        E::UnknownIssuer => SIPTLS_VERIFY_UNKNOWN_CA,
        E::CertExpired { .. } => SIPTLS_VERIFY_EXPIRED,
        E::CertNotValidYet { .. } => SIPTLS_VERIFY_NOT_YET_VALID,
        E::MaximumPathDepthExceeded => SIPTLS_VERIFY_DEPTH_EXCEEDED,
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => {
            SIPTLS_VERIFY_BAD_SIGNATURE
        }
        E::CertRevoked => SIPTLS_VERIFY_REVOKED,
        E::UnknownRevocationStatus | E::CrlExpired { .. } => SIPTLS_VERIFY_REVOCATION_UNKNOWN,
        E::CertNotValidForName(_) => SIPTLS_VERIFY_NAME_MISMATCH,
        E::BadDer
        | E::BadDerTime
        | E::TrailingData(_)
        | E::MalformedExtensions
        | E::ExtensionValueInvalid
        | E::InvalidCertValidity
        | E::InvalidSerialNumber
        | E::UnsupportedCertVersion
        | E::UnsupportedCriticalExtension => SIPTLS_VERIFY_BAD_ENCODING,
        E::RequiredEkuNotFound
        | E::RequiredEkuNotFoundContext(_)
        | E::EmptyEkuExtension
        | E::CaUsedAsEndEntity
        | E::EndEntityUsedAsCa => SIPTLS_VERIFY_WRONG_KEY_USAGE,
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM
        }
        _ => SIPTLS_VERIFY_INVALID,
    }
}

/// The result of one verification, kept by the session for later queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Final status: after the callback's decision.
    pub status: siptls_verify_status,
    /// What the checks themselves found, before the callback.
    pub checked: siptls_verify_status,
    pub trust_id: u32,
    /// CA certificates in the verified path, the trust entry included; 0 for a pin.
    pub depth: u32,
    pub detail: String,
}

impl Outcome {
    /// Whether the peer was let in (verified, or overridden by the callback).
    pub fn accepted(&self) -> bool {
        matches!(self.status, SIPTLS_VERIFY_OK | SIPTLS_VERIFY_OVERRIDDEN)
    }
}

/// What the gateway's callback is shown. Borrowed for the callback's duration.
pub struct Report<'a> {
    pub role: siptls_role,
    pub status: siptls_verify_status,
    pub trust_id: u32,
    pub depth: u32,
    pub peer_name: &'a str,
    pub leaf: &'a [u8],
    pub identities: &'a str,
    pub detail: &'a str,
    /// Accepting this failed chain would override it (the context allows overrides).
    pub override_allowed: bool,
}

/// Returns `true` to accept, `false` to reject.
pub type VerifyCallback = Arc<dyn Fn(&Report<'_>) -> bool + Send + Sync>;

/// Server-side client certificate policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// Mutual TLS: a client without a valid certificate is refused.
    #[default]
    Required,
    /// Ask for a certificate; verify it if one is sent; accept clients without one.
    Optional,
    /// Do not ask.
    Off,
}

/// Every setting verification depends on, frozen into one immutable value.
#[derive(Clone)]
pub struct PolicySettings {
    pub max_ca_depth: u32,
    pub clock: Clock,
    pub name_check: NameCheck,
    pub allow_override: bool,
    pub callback: Option<VerifyCallback>,
    pub client_auth: ClientAuth,
    pub missing_crl: MissingCrl,
}

pub const SIPTLS_DEFAULT_MAX_CA_DEPTH: u32 = 4;
/// webpki follows at most six intermediates; with the trust entry that is seven CAs.
pub const SIPTLS_MAX_CA_DEPTH_LIMIT: u32 = 7;

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            max_ca_depth: SIPTLS_DEFAULT_MAX_CA_DEPTH,
            clock: Clock::System,
            name_check: NameCheck::Sip,
            allow_override: false,
            callback: None,
            client_auth: ClientAuth::Required,
            missing_crl: MissingCrl::Allow,
        }
    }
}

pub struct Policy {
    role: siptls_role,
    settings: PolicySettings,
    /// Authority entries in trust ID order, parallel to `anchors`.
    authorities: Vec<Arc<TrustEntry>>,
    anchors: Vec<TrustAnchor<'static>>,
    pins: Vec<Arc<TrustEntry>>,
    crls: Vec<Crl>,
    hint_subjects: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("role", &self.role)
            .field("authorities", &self.authorities.len())
            .field("pins", &self.pins.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

thread_local! {
    /// rustls calls the verifier synchronously from inside the session's
    /// `process_new_packets`, on the caller's thread; this is how the outcome
    /// travels back to that session without a per-session verifier.
    static LAST_OUTCOME: RefCell<Option<Outcome>> = const { RefCell::new(None) };
}

/// Takes the outcome of the verification that ran on this thread, if any.
pub fn take_last_outcome() -> Option<Outcome> {
    LAST_OUTCOME.with(|slot| slot.borrow_mut().take())
}

fn store_outcome(outcome: Outcome) {
    LAST_OUTCOME.with(|slot| *slot.borrow_mut() = Some(outcome));
}

/// What the chain checks found, before the callback.
struct Checked {
    status: siptls_verify_status,
    trust_id: u32,
    depth: u32,
    detail: String,
    /// The name the certificate was checked against, if any: the peer name a
    /// client asked for, or the SIP domain a server's trust entry requires.
    checked_name: Option<String>,
}

impl Checked {
    fn failed(status: siptls_verify_status, detail: String) -> Self {
        Self {
            status,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            detail,
            checked_name: None,
        }
    }
}

impl Policy {
    pub fn new(
        role: siptls_role,
        settings: PolicySettings,
        trust: &TrustTable,
        crls: Vec<Crl>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        let (pins, authorities): (Vec<_>, Vec<_>) = trust
            .entries()
            .iter()
            .cloned()
            .partition(|e| e.kind == EntryKind::Pinned);
        let anchors = authorities.iter().map(|e| e.anchor.clone()).collect();
        let hint_subjects = trust
            .entries()
            .iter()
            .map(|e| DistinguishedName::in_sequence(e.anchor.subject.as_ref()))
            .collect();
        Self {
            role,
            settings,
            authorities,
            anchors,
            pins,
            crls,
            hint_subjects,
            algorithms,
        }
    }

    pub fn settings(&self) -> &PolicySettings {
        &self.settings
    }

    fn usage(&self) -> KeyUsage {
        match self.role {
            siptls_role::SIPTLS_ROLE_CLIENT => KeyUsage::server_auth(),
            siptls_role::SIPTLS_ROLE_SERVER => KeyUsage::client_auth(),
        }
    }

    /// Chain checks: pin or path to an authority, validity, CRLs, depth cap.
    fn check_chain(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<(Arc<TrustEntry>, u32), Checked> {
        let ee = EndEntityCert::try_from(leaf).map_err(|e| {
            Checked::failed(
                status_of(&e),
                format!("peer certificate does not parse: {e}"),
            )
        })?;
        let crl_refs: Vec<&webpki::CertRevocationList<'_>> =
            self.crls.iter().map(|c| c.list.as_ref()).collect();
        let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
            .ok()
            .map(|builder| {
                builder
                    .with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(match self.settings.missing_crl {
                        MissingCrl::Allow => UnknownStatusPolicy::Allow,
                        MissingCrl::Deny => UnknownStatusPolicy::Deny,
                    })
                    .build()
            });

        if let Some(pin) = self.pins.iter().find(|p| p.cert.as_ref() == leaf.as_ref()) {
            // A pin is its own anchor, and nothing else may chain to it.
            return ee
                .verify_for_usage(
                    self.algorithms.all,
                    std::slice::from_ref(&pin.anchor),
                    &[],
                    now,
                    self.usage(),
                    None,
                    None,
                )
                .map(|_| (pin.clone(), 0))
                .map_err(|e| {
                    Checked::failed(status_of(&e), format!("pinned trust ID {}: {e}", pin.id))
                });
        }

        let cap = self.settings.max_ca_depth;
        let cap_rejected = Cell::new(false);
        let within_cap = |path: &webpki::VerifiedPath<'_>| {
            let cas = path.intermediate_certificates().count() as u32 + 1;
            if cas > cap {
                cap_rejected.set(true);
                Err(webpki::Error::MaximumPathDepthExceeded)
            } else {
                Ok(())
            }
        };
        match ee.verify_for_usage(
            self.algorithms.all,
            &self.anchors,
            intermediates,
            now,
            self.usage(),
            revocation,
            Some(&within_cap),
        ) {
            Ok(path) => {
                let index = self
                    .anchors
                    .iter()
                    .position(|a| std::ptr::eq(a, path.anchor()))
                    .expect("webpki returns one of the anchors it was given");
                let depth = path.intermediate_certificates().count() as u32 + 1;
                Ok((self.authorities[index].clone(), depth))
            }
            Err(_) if cap_rejected.get() => Err(Checked::failed(
                SIPTLS_VERIFY_DEPTH_EXCEEDED,
                format!("every path to a trust entry holds more than {cap} CA certificates"),
            )),
            Err(e) => Err(Checked::failed(status_of(&e), e.to_string())),
        }
    }

    /// All checks, without the callback.
    fn check(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
        ids: Option<&names::Identities>,
    ) -> Checked {
        let Some(now) = self.settings.clock.now() else {
            return Checked::failed(
                SIPTLS_VERIFY_CLOCK_UNSET,
                "the gateway clock is not synchronized: validity cannot be checked".into(),
            );
        };
        let (entry, depth) = match self.check_chain(leaf, intermediates, now) {
            Ok(found) => found,
            Err(failed) => return failed,
        };
        let domain_name;
        let expected = match (expected_name, &entry.sip_domain) {
            (Some(name), _) => Some((name, self.settings.name_check)),
            (None, Some(domain)) => {
                domain_name = ServerName::try_from(domain.as_str()).ok();
                domain_name.as_ref().map(|n| (n, NameCheck::Sip))
            }
            (None, None) => None,
        };
        let name_ok = match expected {
            None => true,
            Some((name, NameCheck::Sip)) => ids.is_some_and(|ids| ids.matches_sip(name)),
            Some((name, NameCheck::Hostname)) => EndEntityCert::try_from(leaf)
                .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(name).is_ok()),
        };
        let mut checked = Checked {
            status: SIPTLS_VERIFY_OK,
            trust_id: entry.id,
            depth,
            checked_name: expected.map(|(name, _)| name.to_str().into_owned()),
            detail: format!(
                "verified to trust ID {} ({}) at depth {depth}",
                entry.id, entry.subject
            ),
        };
        if let (false, Some((name, mode))) = (name_ok, expected) {
            checked.status = SIPTLS_VERIFY_NAME_MISMATCH;
            checked.detail = format!(
                "certificate does not name {} ({} rules); it names: {}",
                name.to_str(),
                match mode {
                    NameCheck::Sip => "RFC 5922 SIP",
                    NameCheck::Hostname => "host name",
                },
                ids.map_or_else(|| "nothing readable".into(), |i| i.listing.join(", "))
            );
        }
        checked
    }

    /// Verifies, consults the callback, records the outcome for the session,
    /// and tells rustls whether to continue.
    pub fn verify(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
    ) -> std::result::Result<(), rustls::Error> {
        let ids = names::identities(leaf);
        let checked = self.check(leaf, intermediates, expected_name, ids.as_ref());
        let identities = ids.map(|i| i.listing.join(", ")).unwrap_or_default();
        // Before the chain is known, only a client's own peer name applies.
        let peer_name = checked
            .checked_name
            .clone()
            .or_else(|| expected_name.map(|n| n.to_str().into_owned()))
            .unwrap_or_default();
        let accepted = self.settings.callback.as_ref().is_none_or(|callback| {
            callback(&Report {
                role: self.role,
                status: checked.status,
                trust_id: checked.trust_id,
                depth: checked.depth,
                peer_name: &peer_name,
                leaf: leaf.as_ref(),
                identities: &identities,
                detail: &checked.detail,
                override_allowed: checked.status != SIPTLS_VERIFY_OK
                    && self.settings.allow_override,
            })
        });
        let (status, detail) = match (checked.status, accepted) {
            (SIPTLS_VERIFY_OK, true) => (SIPTLS_VERIFY_OK, checked.detail),
            (SIPTLS_VERIFY_OK, false) => (
                SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                format!("rejected by the verify callback ({})", checked.detail),
            ),
            (failed, true) if self.settings.allow_override => (
                SIPTLS_VERIFY_OVERRIDDEN,
                format!(
                    "OVERRIDDEN by the verify callback: {} ({})",
                    failed.name().to_string_lossy(),
                    checked.detail
                ),
            ),
            (failed, _) => (failed, checked.detail),
        };
        let outcome = Outcome {
            status,
            checked: checked.status,
            trust_id: checked.trust_id,
            depth: checked.depth,
            detail,
        };
        let accepted = outcome.accepted();
        store_outcome(outcome);
        if accepted {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                status.to_certificate_error(),
            ))
        }
    }

    /// The peer sent no certificate: reported like any other outcome, but no
    /// decision can change it (required: the handshake already failed;
    /// optional: the anonymous client is let in and the session says so).
    pub fn report_no_certificate(&self) -> Outcome {
        let detail = match self.settings.client_auth {
            ClientAuth::Required => "the client sent no certificate, and one is required",
            _ => "the client sent no certificate (optional client authentication)",
        };
        if let Some(callback) = &self.settings.callback {
            callback(&Report {
                role: self.role,
                status: SIPTLS_VERIFY_NO_CERTIFICATE,
                trust_id: SIPTLS_TRUST_ID_NONE,
                depth: 0,
                peer_name: "",
                leaf: &[],
                identities: "",
                detail,
                override_allowed: false,
            });
        }
        Outcome {
            status: SIPTLS_VERIFY_NO_CERTIFICATE,
            checked: SIPTLS_VERIFY_NO_CERTIFICATE,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            detail: detail.into(),
        }
    }
}

/// The rustls-facing verifier for both roles.
#[derive(Debug)]
pub struct Verifier(pub Arc<Policy>);

impl Verifier {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.algorithms)
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.algorithms)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _rustls_now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.0
            .verify(end_entity, intermediates, Some(server_name))
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for Verifier {
    fn offer_client_auth(&self) -> bool {
        self.0.settings.client_auth != ClientAuth::Off
    }

    fn client_auth_mandatory(&self) -> bool {
        self.0.settings.client_auth == ClientAuth::Required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.0.hint_subjects
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _rustls_now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.0
            .verify(end_entity, intermediates, None)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}
