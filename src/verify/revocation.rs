//! Revocation of a path found to a trust entry: each certificate against the
//! CRLs of the key that issued it. webpki picks a certificate's CRL by its
//! issuer's name alone, so during a CA key rollover (two CAs, one name) it
//! would check one CA's certificates against the other's CRL. The path is
//! therefore built without revocation, then checked again by webpki with
//! only the CRLs of the keys in it.

use pki_types::{CertificateDer, UnixTime};
use webpki::{
    Cert, CertRevocationList, ExpirationPolicy, RevocationCheckDepth, RevocationOptionsBuilder,
    UnknownStatusPolicy, VerifiedPath,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::policy::Policy;
use crate::crl::{Crl, ExpiredCrl, IssuerCrls, MissingCrl};
use crate::der;
use crate::trust::{key_id_text, key_identifier, TrustEntry};

/// What to do about a CA without a CRL, besides loading one.
const ALLOW_MISSING: &str = "or allow missing CRLs (siptls_ctx_set_missing_crl_policy)";

/// Why revocation refused a path.
pub(super) struct Refused {
    pub error: webpki::Error,
    /// Our words for `error`, when webpki's say too little.
    pub detail: Option<String>,
}

/// The CA that issued a certificate of the path.
enum Issuer<'a> {
    Anchor(&'a TrustEntry),
    Intermediate(&'a Cert<'a>),
}

impl Issuer<'_> {
    /// SubjectPublicKeyInfo contents, as webpki keeps an anchor's.
    fn spki(&self) -> Vec<u8> {
        match self {
            Issuer::Anchor(entry) => entry
                .anchor
                .as_ref()
                .map(|anchor| anchor.subject_public_key_info.to_vec())
                .unwrap_or_default(),
            Issuer::Intermediate(cert) => {
                let spki = cert.subject_public_key_info();
                der::expect(spki.as_ref(), der::TAG_SEQUENCE)
                    .map(|(sequence, _)| sequence.value.to_vec())
                    .unwrap_or_default()
            }
        }
    }

    /// Its subject and key identifier (hex), for messages.
    fn name_and_key_id(&self) -> (String, String) {
        match self {
            Issuer::Anchor(entry) => (entry.subject.clone(), key_id_text(&entry.key_id)),
            Issuer::Intermediate(cert) => match X509Certificate::from_der(cert.der().as_ref()) {
                Ok((_, parsed)) => (
                    crate::error::printable(&parsed.subject().to_string()),
                    key_id_text(&key_identifier(&parsed)),
                ),
                Err(_) => ("an intermediate CA".into(), "unknown".into()),
            },
        }
    }
}

impl Policy {
    /// Checks every certificate of `path` but its anchor against the CRLs
    /// its issuer's key signed, under the missing and expired CRL policies.
    pub(super) fn check_revocation(
        &self,
        path: &VerifiedPath<'_>,
        now: UnixTime,
    ) -> Result<(), Refused> {
        let anchor = &self.anchor_entries[self.anchor_index(path.anchor())];
        let intermediates: Vec<&Cert<'_>> = path.intermediate_certificates().collect();
        let certs = std::iter::once(&**path.end_entity()).chain(intermediates.iter().copied());
        let issuers = intermediates
            .iter()
            .map(|&cert| Issuer::Intermediate(cert))
            .chain([Issuer::Anchor(anchor)]);
        let issued: Vec<(&Cert<'_>, Issuer<'_>)> = certs.zip(issuers).collect();
        let mut crls: Vec<&CertRevocationList<'static>> = Vec::new();
        let mut details = Vec::new();
        // From the anchor down, as webpki checks them: the first failure is
        // the one it reports.
        for (cert, issuer) in issued.iter().rev() {
            let chosen =
                match self
                    .crls
                    .for_issuer(cert.issuer(), &issuer.spki(), self.chain_algorithms)
                {
                    IssuerCrls::Own(own) => own,
                    IssuerCrls::Unattributed(unknown) => {
                        let detail = unattributed(issuer, &unknown);
                        details.push((webpki::Error::InvalidCrlSignatureForPublicKey, detail));
                        unknown
                    }
                    IssuerCrls::OtherKeys(others) => {
                        if self.settings.missing_crl == MissingCrl::Deny {
                            let detail = self.missing(issuer, &others);
                            details.push((webpki::Error::UnknownRevocationStatus, detail));
                        }
                        Vec::new()
                    }
                };
            for crl in chosen {
                if !crls.iter().any(|c| std::ptr::eq(*c, crl.list.as_ref())) {
                    crls.push(crl.list.as_ref());
                }
            }
        }
        let refused = |error: webpki::Error| Refused {
            detail: details
                .iter()
                .find(|(noted, _)| *noted == error)
                .map(|(_, detail)| detail.clone()),
            error,
        };
        let Ok(builder) = RevocationOptionsBuilder::new(&crls) else {
            // No CRL speaks for any certificate of the path.
            return match self.settings.missing_crl {
                MissingCrl::Allow => Ok(()),
                MissingCrl::Deny => Err(refused(webpki::Error::UnknownRevocationStatus)),
            };
        };
        // A stale CRL's revocations always count; only under "expired is
        // missing" with "deny" does it stop vouching for the rest.
        let expiration = match (self.settings.expired_crl, self.settings.missing_crl) {
            (ExpiredCrl::Missing, MissingCrl::Deny) => ExpirationPolicy::Enforce,
            _ => ExpirationPolicy::Ignore,
        };
        let revocation = builder
            .with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(match self.settings.missing_crl {
                MissingCrl::Allow => UnknownStatusPolicy::Allow,
                MissingCrl::Deny => UnknownStatusPolicy::Deny,
            })
            .with_expiration_policy(expiration)
            .build();
        let anchors = [path.anchor().clone()];
        let chain: Vec<CertificateDer<'_>> = intermediates.iter().map(|c| c.der()).collect();
        // Only this path: another through the same certificates could have
        // other issuers, whose CRLs are not in the list.
        let this_path = |found: &VerifiedPath<'_>| {
            if found
                .intermediate_certificates()
                .map(Cert::der)
                .eq(chain.iter().cloned())
            {
                Ok(())
            } else {
                Err(webpki::Error::UnknownIssuer)
            }
        };
        path.end_entity()
            .verify_for_usage(
                self.chain_algorithms,
                &anchors,
                &chain,
                now,
                self.usage(),
                Some(revocation),
                Some(&this_path),
            )
            .map(|_| ())
            .map_err(refused)
    }

    /// Why no CRL covers a certificate `issuer` issued, and what to do.
    fn missing(&self, issuer: &Issuer<'_>, others: &[&Crl]) -> String {
        let (name, key_id) = issuer.name_and_key_id();
        if self.crls.is_empty() {
            return format!(
                "no CRL is loaded, and the missing-CRL policy denies: load the CRL of {name}, {ALLOW_MISSING}"
            );
        }
        if others.is_empty() {
            return format!(
                "no CRL of {name} is loaded, and the missing-CRL policy denies: load its CRL, {ALLOW_MISSING}"
            );
        }
        let listed: Vec<String> = others.iter().map(|c| c.description()).collect();
        let whose = if others.len() == 1 {
            "the CRL loaded under that name"
        } else {
            "the CRLs loaded under that name"
        };
        let keys = if others.len() == 1 {
            "is another key's"
        } else {
            "are other keys'"
        };
        format!(
            "no CRL of {name} with key ID {key_id} is loaded, and the missing-CRL policy denies; {whose} ({}) {keys}: load the CRL that key ID {key_id} signed, {ALLOW_MISSING}",
            listed.join("; ")
        )
    }
}

/// Why CRLs under `issuer`'s name that no trust entry's key verified fail
/// the verification, and what to do.
fn unattributed(issuer: &Issuer<'_>, crls: &[&Crl]) -> String {
    let (name, key_id) = issuer.name_and_key_id();
    let listed: Vec<String> = crls.iter().map(|c| c.description()).collect();
    format!(
        "the CRL loaded for {name} ({}) does not verify with its issuer's key (key ID {key_id} in the path): it is another key's CRL under that name, or forged; load the CRL that key ID {key_id} signed",
        listed.join("; ")
    )
}
