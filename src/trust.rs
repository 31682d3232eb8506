//! The trust table: at most 16 entries, each a certificate with a
//! caller-chosen trust ID, as on the reference gateway.
//!
//! An entry is either an authority (a CA whose issued certificates we accept)
//! or a pin (a self-signed end-entity certificate accepted only when the peer
//! presents exactly that certificate).

use std::sync::Arc;

use pki_types::{CertificateDer, TrustAnchor};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{siptls_result::*, Error, Result};

/// The reference gateway's limit, kept so configurations move across unchanged.
pub const SIPTLS_MAX_TRUST_ENTRIES: usize = 16;

/// Reserved: "no trust entry" in reports.
pub const SIPTLS_TRUST_ID_NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Authority,
    Pinned,
}

#[derive(Debug, Clone)]
pub struct TrustEntry {
    pub id: u32,
    pub cert: CertificateDer<'static>,
    pub anchor: TrustAnchor<'static>,
    pub kind: EntryKind,
    /// The SIP domain a peer chaining to this entry must prove (RFC 5922), if any.
    pub sip_domain: Option<String>,
    /// Subject in text form, for messages.
    pub subject: String,
}

impl TrustEntry {
    pub fn new(id: u32, cert: CertificateDer<'static>) -> Result<Self> {
        if id == SIPTLS_TRUST_ID_NONE {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("trust ID {id} is reserved for \"no trust entry\""),
            ));
        }
        let (_, parsed) = X509Certificate::from_der(&cert).map_err(|e| {
            Error::new(
                SIPTLS_ERR_CERT_MALFORMED,
                format!("trust ID {id}: not valid X.509 DER ({e})"),
            )
        })?;
        // A self-signed certificate that is not a CA can only ever vouch for
        // itself: treating it as an anchor would let anyone holding its key
        // issue more certificates under its name.
        let kind = if parsed.subject().as_raw() == parsed.issuer().as_raw() && !parsed.is_ca() {
            EntryKind::Pinned
        } else {
            EntryKind::Authority
        };
        let subject = crate::error::printable(&parsed.subject().to_string());
        let anchor = webpki::anchor_from_trusted_cert(&cert)
            .map_err(|e| {
                Error::new(
                    SIPTLS_ERR_CERT_MALFORMED,
                    format!("trust ID {id}: unusable as a trust anchor ({e})"),
                )
            })?
            .to_owned();
        Ok(Self {
            id,
            cert,
            anchor,
            kind,
            sip_domain: None,
            subject,
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
    pub fn entries(&self) -> &[Arc<TrustEntry>] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    pub fn set_sip_domain(&mut self, id: u32, domain: Option<String>) -> Result<()> {
        let at = self.position(id).map_err(|_| not_found(id))?;
        let mut entry = TrustEntry::clone(&self.entries[at]);
        entry.sip_domain = domain;
        self.entries[at] = Arc::new(entry);
        Ok(())
    }
}

fn not_found(id: u32) -> Error {
    Error::new(
        SIPTLS_ERR_TRUST_NOT_FOUND,
        format!("no trust entry has trust ID {id}"),
    )
}
