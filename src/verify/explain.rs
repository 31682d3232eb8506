//! Verification failures in sentences an operator can act on at night: which
//! certificate, what was checked, what was found, and the setting or tool
//! that changes it. webpki's own error texts are enum names; none of them
//! reaches a detail text.

use crate::abi::siptls_role;
use pki_types::{CertificateDer, UnixTime};
use x509_parser::extensions::ExtendedKeyUsage;
use x509_parser::prelude::X509Certificate;

use super::policy::Policy;
use crate::clock::when;

use crate::error::printable;

/// What a detail names of one certificate.
pub(super) struct Described {
    pub subject: String,
    pub issuer: String,
    /// Colon-separated hex, as `openssl x509 -serial` prints it without colons.
    pub serial: String,
    issuer_der: Vec<u8>,
    serial_bytes: Vec<u8>,
    /// The purposes its extended key usage allows; `None`: no such extension.
    purposes: Option<Vec<String>>,
}

fn quoted(name: &str) -> String {
    if name.is_empty() {
        "(an empty name)".into()
    } else {
        format!("\"{}\"", printable(name))
    }
}

pub(super) fn describe_cert(der: &[u8]) -> Option<Described> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(Described {
        subject: quoted(&cert.subject().to_string()),
        issuer: quoted(&cert.issuer().to_string()),
        serial: cert
            .raw_serial_as_string()
            .replace(':', "")
            .to_ascii_uppercase(),
        issuer_der: cert.issuer().as_raw().to_vec(),
        serial_bytes: cert.raw_serial().to_vec(),
        purposes: purposes(&cert),
    })
}

fn purposes(cert: &X509Certificate<'_>) -> Option<Vec<String>> {
    let eku: &ExtendedKeyUsage<'_> = cert.extended_key_usage().ok()??.value;
    let known = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    let mut names: Vec<String> = known
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, name)| name.to_string())
        .collect();
    names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
    Some(names)
}

fn secs(t: UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

impl Policy {
    /// webpki's name for the purpose the peer's role stands for.
    pub(super) fn required_usage(&self) -> webpki::KeyUsage {
        match self.role {
            siptls_role::SIPTLS_ROLE_CLIENT => webpki::KeyUsage::server_auth(),
            siptls_role::SIPTLS_ROLE_SERVER => webpki::KeyUsage::client_auth(),
        }
    }

    /// Why the certificate `der` (`which`: how the sentence begins) does
    /// not fit the peer's role under the EKU policy of `entry` (or, when
    /// the path's entry is not known, the loosest policy in force).
    pub(super) fn wrong_purpose(
        &self,
        which: &str,
        der: &[u8],
        entry: Option<&crate::trust::TrustEntry>,
    ) -> String {
        let (subject, listed) = match describe_cert(der) {
            None => (
                "that cannot be read".to_string(),
                "nothing readable".to_string(),
            ),
            Some(d) => (
                d.subject,
                match d.purposes {
                    None => "any purpose (it has no extended key usage)".to_string(),
                    Some(p) if p.is_empty() => "no purpose".to_string(),
                    Some(p) => p.join(", "),
                },
            ),
        };
        let role = if self.peer_is_server() {
            "a TLS server"
        } else {
            "a TLS client"
        };
        let (policy, whose) = match entry {
            Some(entry) if entry.eku_policy.is_some() => (
                self.eku_policy_of(entry),
                format!("trust ID {}'s own", entry.id),
            ),
            Some(entry) => (self.eku_policy_of(entry), "the context's".to_string()),
            None if self.loosest_eku == self.settings.eku_policy => {
                (self.loosest_eku, "the context's".to_string())
            }
            None => (
                self.loosest_eku,
                "the loosest (a trust entry's own)".to_string(),
            ),
        };
        format!(
            "{which} {subject}, may not be used by {role}: its extended key usage allows {}, and under {whose} policy, {}, {role} needs {}. siptls_ctx_set_eku_policy sets the context's policy, siptls_ctx_set_trust_eku_policy one trust entry's.",
            listed,
            policy.describe(),
            crate::purpose::needed(self.peer_is_server(), policy)
        )
    }

    /// A sentence for a webpki failure of the peer's chain.
    pub(super) fn explain(
        &self,
        error: &webpki::Error,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> String {
        use webpki::Error as E;
        let peer = describe_cert(leaf);
        let subject = peer
            .as_ref()
            .map_or_else(|| "that cannot be read".into(), |d| d.subject.clone());
        let cap = self.settings.max_ca_depth;
        match error {
            E::UnknownIssuer => {
                let issuer = peer
                    .as_ref()
                    .map_or_else(|| "an issuer that cannot be read".into(), |d| d.issuer.clone());
                let table = match self.trust_entry_count() {
                    0 => "the trust table is empty".to_string(),
                    1 => "it is not the trust table's one entry".to_string(),
                    n => format!("it is none of the trust table's {n} entries"),
                };
                format!(
                    "The peer's certificate {subject} was issued by {issuer}: {table}, and none of the {} intermediate certificates the peer sent leads to a trust entry. Add that CA to the trust table (siptls_ctx_add_trust, or the CA list file), or have the peer send its intermediate certificates.",
                    intermediates.len()
                )
            }
            E::CertRevoked => self.explain_revocation(leaf, intermediates),
            E::CertExpired { time, not_after } => format!(
                "The certificate {subject} or a CA certificate of its path expired on {}; the gateway clock reads {}. The peer needs a renewed certificate (or the gateway's clock is wrong: siptls_ctx_set_time_callback).",
                when(secs(*not_after)),
                when(secs(*time))
            ),
            E::CertNotValidYet { time, not_before } => format!(
                "The certificate {subject} or a CA certificate of its path is valid only from {}; the gateway clock reads {}. Check the gateway's clock (siptls_ctx_set_time_callback) or the peer's certificate dates.",
                when(secs(*not_before)),
                when(secs(*time))
            ),
            E::EmptyEkuExtension => format!(
                "The certificate {subject} or a CA certificate of its path has an extended key usage extension that lists no purpose at all, which allows nothing (RFC 5280); the peer needs a certificate without that defect."
            ),
            E::RequiredEkuNotFoundContext(_) => {
                // The peer's own certificate, or else a CA of its path.
                let own = crate::purpose::Purposes::of_der(leaf)
                    .accepted_for(self.peer_is_server(), self.loosest_eku)
                    .is_none();
                let ca = intermediates.iter().find(|ca| {
                    crate::purpose::Purposes::of_der(ca)
                        .accepted_for(self.peer_is_server(), self.loosest_eku)
                        .is_none()
                });
                match (own, ca) {
                    (false, Some(ca)) => {
                        self.wrong_purpose("A CA certificate of the peer's path,", ca, None)
                    }
                    _ => self.wrong_purpose("The peer's certificate,", leaf, None),
                }
            }
            E::MaximumPathDepthExceeded => format!(
                "Every path from the certificate {subject} to a trust entry holds more than {cap} CA certificates, the CA depth limit (siptls_ctx_set_max_ca_depth)."
            ),
            E::UnknownRevocationStatus => format!(
                "No current CRL covers the certificate {subject} or a CA certificate of its path (the end entity and every intermediate need one), and the missing-CRL policy denies (siptls_ctx_set_missing_crl_policy). Load the issuer's CRL (siptls_ctx_add_crl)."
            ),
            E::CrlExpired { time, next_update } => format!(
                "The CRL for the certificate {subject} or its path was due for renewal on {} (the gateway clock reads {}); a stale CRL counts as missing under the expired-CRL policy, and the missing-CRL policy denies. Load the issuer's current CRL (siptls_ctx_add_crl).",
                when(secs(*next_update)),
                when(secs(*time))
            ),
            E::InvalidCrlSignatureForPublicKey => "The CRL for a certificate of the path does not verify with its issuer's key: it was altered, or it comes from another CA of the same name. Load the CRL the issuing CA signed.".into(),
            E::IssuerNotCrlSigner => "The CRL for a certificate of the path comes from an issuer whose keyUsage does not allow cRLSign; X.509 forbids using it.".into(),
            E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => format!(
                "A signature in the path of the certificate {subject} does not verify with its issuer's key: a certificate was altered, or was issued by another key of the same CA name."
            ),
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => format!(
                "The path of the certificate {subject} is signed with an algorithm siptls does not accept; ECDSA (P-256, P-384), RSA (PKCS#1 v1.5 or PSS with SHA-2, 2048 bits or more) and Ed25519 are."
            ),
            E::CaUsedAsEndEntity => format!(
                "The peer presented the CA certificate {subject} as its own; a peer must present an end-entity certificate."
            ),
            E::EndEntityUsedAsCa => "A certificate of the peer's path issues another but is not a CA (its basicConstraints say so).".into(),
            E::PathLenConstraintViolated => format!(
                "A CA of the path of the certificate {subject} allows fewer CAs below it than the path holds (its pathLenConstraint)."
            ),
            E::NameConstraintViolation | E::InvalidNetworkMaskConstraint | E::MalformedNameConstraint => format!(
                "The certificate {subject} names a host its CA's name constraints exclude."
            ),
            E::UnsupportedCriticalExtension => format!(
                "The certificate {subject} or a CA certificate of its path has a critical extension siptls does not understand, and X.509 requires such a certificate to be refused."
            ),
            E::CertDistrusted => format!("The certificate {subject} is distrusted."),
            E::MaximumSignatureChecksExceeded
            | E::MaximumPathBuildCallsExceeded
            | E::MaximumNameConstraintComparisonsExceeded => format!(
                "Checking the path of the certificate {subject} took more work than siptls allows a peer: the peer sent too many or too tangled certificates."
            ),
            _ => format!(
                "The certificate {subject} or a certificate of its path is malformed: it is not valid DER-encoded X.509 (or uses a form siptls does not read). Check it with `openssl x509 -text`."
            ),
        }
    }

    /// Which certificate of the path is revoked, by which CRL.
    fn explain_revocation(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> String {
        for cert in std::iter::once(leaf).chain(intermediates) {
            let Some(d) = describe_cert(cert) else {
                continue;
            };
            for crl in self.crls.iter().filter(|c| c.issuer == d.issuer_der) {
                if matches!(crl.list.find_serial(&d.serial_bytes), Ok(Some(_))) {
                    let number = crl
                        .number
                        .as_ref()
                        .map_or_else(|| "without a number".into(), |n| format!("number {n}"));
                    let entry = crl
                        .checked_by
                        .map_or_else(String::new, |id| format!(" (trust ID {id})"));
                    return format!(
                        "The certificate {} with serial {} is revoked by the CRL of {}{entry}, CRL {number}.",
                        d.subject, d.serial, d.issuer
                    );
                }
            }
        }
        "A certificate of the peer's path is revoked by its issuer's CRL.".into()
    }
}
