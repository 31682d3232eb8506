//! The trust table: at most 16 entries, each a certificate with a
//! caller-chosen trust ID, as on the reference gateway.
//!
//! An entry is an **anchor** only when it is a CA: basicConstraints CA:TRUE
//! (with keyCertSign when a keyUsage is present), or a self-issued X.509 v1
//! certificate (legacy roots, which OpenSSL also treats as CAs). Every other
//! certificate, self-signed or CA-issued, is a **pin**: trusted only when the
//! peer presents exactly it, and nothing chains to it.

use crate::abi::{siptls_result::*, SIPTLS_MAX_TRUST_ENTRIES, SIPTLS_TRUST_ID_NONE};
use std::sync::Arc;

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};
use pki_types::{CertificateDer, ServerName, TrustAnchor};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use crate::error::{Error, Result};
use crate::purpose::{EkuPolicy, Purposes};

/// What a trust entry vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A CA: chains it issued verify to it.
    Anchor,
    /// One exact certificate.
    Pin,
}

#[derive(Debug, Clone)]
pub struct TrustEntry {
    pub id: u32,
    pub cert: CertificateDer<'static>,
    /// For anchors: subject and key for path building.
    pub anchor: Option<TrustAnchor<'static>>,
    pub kind: EntryKind,
    /// The SIP domain a peer chaining to this entry must prove (RFC 5922), if any.
    pub sip_domain: Option<ServerName<'static>>,
    /// Subject in text form, for messages and listings.
    pub subject: String,
    /// DER subject, for matching CRL issuers.
    pub subject_der: Vec<u8>,
    /// Which key of its subject this is, as CRLs name it (see `key_identifier`).
    pub key_id: Vec<u8>,
    /// The name a client certificate's chain leads to, sent as a CA hint:
    /// the subject of an anchor, the issuer of a pin.
    pub hint_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    /// What its extended key usage allows (a pin's is checked as it stands).
    pub purposes: Purposes,
    /// The entry's own EKU policy for peers it vouches for; `None`: the context's.
    pub eku_policy: Option<EkuPolicy>,
}

/// A certificate's subject key identifier, or when it has none, the SHA-1
/// of its public key (RFC 5280 section 4.2.1.2, method 1, which OpenSSL
/// uses): what the authority key identifier of a CRL it signed holds.
pub fn key_identifier(cert: &X509Certificate<'_>) -> Vec<u8> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
        .unwrap_or_else(|| {
            let key = &cert.public_key().subject_public_key.data;
            digest(&SHA1_FOR_LEGACY_USE_ONLY, key).as_ref().to_vec()
        })
}

/// A key identifier as OpenSSL prints one: "0A:1B:2C".
pub fn key_id_text(id: &[u8]) -> String {
    id.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Why a certificate is not a CA, or `None` when it is one.
fn not_a_ca(cert: &X509Certificate<'_>) -> Option<&'static str> {
    let self_issued = cert.subject().as_raw() == cert.issuer().as_raw();
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => match cert.key_usage() {
            Ok(Some(ku)) if !ku.value.key_cert_sign() => {
                Some("basicConstraints CA:TRUE but its keyUsage lacks keyCertSign")
            }
            Ok(_) => None,
            Err(_) => Some("its keyUsage extension does not parse"),
        },
        Ok(Some(_)) => Some("basicConstraints CA:FALSE"),
        Ok(None) if cert.version().0 == 0 && self_issued => None,
        Ok(None) => Some("no basicConstraints extension"),
        Err(_) => Some("its basicConstraints extension does not parse"),
    }
}

impl TrustEntry {
    pub fn new(id: u32, cert: CertificateDer<'static>) -> Result<Self> {
        if id == SIPTLS_TRUST_ID_NONE {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("trust ID {id} is reserved for \"no trust entry\""),
            ));
        }
        let malformed =
            |why: String| Error::new(SIPTLS_ERR_CERT_MALFORMED, format!("trust ID {id}: {why}"));
        let (_, parsed) = X509Certificate::from_der(&cert)
            .map_err(|e| malformed(format!("not valid X.509 DER ({e})")))?;
        let kind = match not_a_ca(&parsed) {
            None => EntryKind::Anchor,
            Some(_) => EntryKind::Pin,
        };
        let anchor = match kind {
            EntryKind::Anchor => Some(
                webpki::anchor_from_trusted_cert(&cert)
                    .map_err(|e| malformed(format!("unusable as a trust anchor ({e})")))?
                    .to_owned(),
            ),
            EntryKind::Pin => None,
        };
        let purposes = match parsed.extended_key_usage() {
            Ok(eku) => Purposes::from_extension(eku.map(|e| e.value)),
            Err(e) => return Err(malformed(format!("extendedKeyUsage does not parse ({e})"))),
        };
        let validity = parsed.validity();
        Ok(Self {
            id,
            anchor,
            kind,
            sip_domain: None,
            subject: crate::error::printable(&parsed.subject().to_string()),
            subject_der: parsed.subject().as_raw().to_vec(),
            key_id: key_identifier(&parsed),
            hint_der: match kind {
                EntryKind::Anchor => parsed.subject().as_raw().to_vec(),
                EntryKind::Pin => parsed.issuer().as_raw().to_vec(),
            },
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            purposes,
            eku_policy: None,
            cert,
        })
    }
}

/// Entries kept sorted by trust ID: that order decides which entry anchors a
/// chain when several could (the lowest trust ID wins).
#[derive(Debug, Clone, Default)]
pub struct TrustTable {
    entries: Vec<Arc<TrustEntry>>,
}

impl TrustTable {
    /// A table holding exactly `entries`, refusing overflow and duplicate IDs.
    pub fn from_entries(entries: Vec<TrustEntry>) -> Result<Self> {
        let mut table = Self::default();
        table.add_all(entries)?;
        Ok(table)
    }

    pub fn entries(&self) -> &[Arc<TrustEntry>] {
        &self.entries
    }

    /// Whether both hold the very same entries (a copy not edited since).
    /// The same trust IDs with the same certificates and SIP domains: a
    /// CA list loaded again is no change.
    pub fn same_content(&self, other: &TrustTable) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|(a, b)| {
                a.id == b.id
                    && a.cert == b.cert
                    && a.sip_domain == b.sip_domain
                    && a.eku_policy == b.eku_policy
            })
    }

    pub fn same_entries(&self, other: &TrustTable) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, id: u32) -> Option<&Arc<TrustEntry>> {
        self.position(id).ok().map(|i| &self.entries[i])
    }

    fn position(&self, id: u32) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |e| e.id)
    }

    /// Adds several entries, all or none: the table is unchanged on any error.
    pub fn add_all(&mut self, new: Vec<TrustEntry>) -> Result<()> {
        if self.entries.len() + new.len() > SIPTLS_MAX_TRUST_ENTRIES {
            return Err(Error::new(
                SIPTLS_ERR_TRUST_TABLE_FULL,
                format!(
                    "{} new entr{} with {} already present: the trust table holds at most {SIPTLS_MAX_TRUST_ENTRIES}",
                    new.len(),
                    if new.len() == 1 { "y" } else { "ies" },
                    self.entries.len()
                ),
            ));
        }
        let mut next = self.entries.clone();
        for entry in new {
            match next.binary_search_by_key(&entry.id, |e| e.id) {
                Ok(_) => {
                    return Err(Error::new(
                        SIPTLS_ERR_TRUST_DUPLICATE_ID,
                        format!("trust ID {} is already in use", entry.id),
                    ))
                }
                Err(at) => next.insert(at, Arc::new(entry)),
            }
        }
        self.entries = next;
        Ok(())
    }

    pub fn remove(&mut self, id: u32) -> Result<()> {
        let at = self.position(id).map_err(|_| not_found(id))?;
        self.entries.remove(at);
        Ok(())
    }

    pub fn set_sip_domain(&mut self, id: u32, domain: Option<ServerName<'static>>) -> Result<()> {
        let at = self.position(id).map_err(|_| not_found(id))?;
        let mut entry = TrustEntry::clone(&self.entries[at]);
        entry.sip_domain = domain;
        self.entries[at] = Arc::new(entry);
        Ok(())
    }

    pub fn set_eku_policy(&mut self, id: u32, policy: Option<EkuPolicy>) -> Result<()> {
        let at = self.position(id).map_err(|_| not_found(id))?;
        let mut entry = TrustEntry::clone(&self.entries[at]);
        entry.eku_policy = policy;
        self.entries[at] = Arc::new(entry);
        Ok(())
    }

    /// Anchors whose subject is `name` (DER), in trust ID order.
    pub fn anchors_named<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a TrustEntry> {
        self.entries
            .iter()
            .map(Arc::as_ref)
            .filter(move |e| e.kind == EntryKind::Anchor && e.subject_der == name)
    }
}

fn not_found(id: u32) -> Error {
    Error::new(
        SIPTLS_ERR_TRUST_NOT_FOUND,
        format!("no trust entry has trust ID {id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(cert: &siptls_certgen::Issued) -> EntryKind {
        TrustEntry::new(1, CertificateDer::from(cert.cert_der.clone()))
            .unwrap()
            .kind
    }

    #[test]
    fn only_cas_anchor_everything_else_is_a_pin() {
        let root = siptls_certgen::Authority::root("Kind Root");
        assert_eq!(kind_of(root.issued()), EntryKind::Anchor);
        assert_eq!(
            kind_of(root.intermediate("Kind Sub").issued()),
            EntryKind::Anchor
        );
        assert_eq!(kind_of(&root.sip_leaf("kind.example.test")), EntryKind::Pin);
        let self_signed =
            siptls_certgen::self_signed(&siptls_certgen::LeafSpec::sip("pin.example.test"));
        assert_eq!(kind_of(&self_signed), EntryKind::Pin);
    }
}
