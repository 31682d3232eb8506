//! Certificate revocation lists: one current CRL per issuer (and scope).
//!
//! A CRL may come from any CA of a peer's path, root or intermediate. Its
//! signature is checked against the issuing CA in the path at every use (by
//! webpki); when its issuer is a trust entry it is also checked at load, so a
//! forged or mistaken file is refused at once. Loading a CRL for an issuer that
//! already has one replaces it only when it is newer: that is what a refresh is.
//! A CA that partitions its CRLs (issuing distribution points) has one
//! current CRL per partition. CRLs are kept by issuer name, whatever becomes of
//! the trust table: dropping one behind the operator's back could let a
//! revoked certificate in.

use std::sync::Arc;

use pki_types::CertificateRevocationListDer;
use rustls::crypto::WebPkiSupportedAlgorithms;
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::der;
use crate::error::{siptls_result::*, Error, Result};
use crate::trust::TrustTable;

/// What to do with a certificate whose issuer has published no CRL we hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingCrl {
    /// Accept: CRLs are an addition, not a requirement (the default).
    #[default]
    Allow,
    /// Refuse with REVOCATION_UNKNOWN.
    Deny,
}

/// What a CRL past its nextUpdate counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiredCrl {
    /// Still used: a late refresh must not cut off every call (the default).
    #[default]
    Use,
    /// It no longer shows a certificate is good: the missing-CRL policy
    /// decides. The revocations it lists still count.
    Missing,
}

/// How to make a conforming CRL with the OpenSSL command line.
const OPENSSL_HINT: &str = "with OpenSSL, create a crlnumber file (echo 1000 > crlnumber; crlnumber = $dir/crlnumber in the CA section) and set crl_extensions = crl_ext with authorityKeyIdentifier = keyid:always, then run openssl ca -gencrl again";

#[derive(Debug, Clone)]
pub struct Crl {
    pub list: Arc<CertRevocationList<'static>>,
    pub der: Vec<u8>,
    /// DER issuer name.
    pub issuer: Vec<u8>,
    /// The issuing distribution point (DER) of a partitioned CRL.
    pub scope: Option<Vec<u8>>,
    pub issuer_text: String,
    pub number: Option<BigUint>,
    pub this_update: i64,
    pub next_update: i64,
    pub revoked: usize,
    /// The trust entry whose key verified the CRL at load; `None` when its
    /// issuer is not a trust entry (an intermediate): verified at each use.
    pub checked_by: Option<u32>,
}

impl Crl {
    /// Parses a DER CRL and, when its issuer is a trust entry, checks that
    /// entry signed it. `position` (from 1) names the CRL in messages.
    pub fn load(
        der_crl: &CertificateRevocationListDer<'_>,
        position: usize,
        trust: &TrustTable,
        algorithms: &WebPkiSupportedAlgorithms,
    ) -> Result<Self> {
        let malformed =
            |why: String| Error::new(SIPTLS_ERR_CRL_MALFORMED, format!("CRL #{position}: {why}"));
        let (_, parsed) = CertificateRevocationList::from_der(der_crl).map_err(|_| {
            malformed(
                "the bytes are not a DER-encoded X.509 CRL; check it with `openssl crl -text`"
                    .into(),
            )
        })?;
        let issuer_text = crate::error::printable(&parsed.issuer().to_string());
        if parsed.extensions().is_empty() {
            return Err(malformed(format!(
                "issued by {issuer_text}, it has no extensions (a version 1 CRL): RFC 5280 section 5.2 requires the CRL number and authority key identifier extensions; {OPENSSL_HINT}"
            )));
        }
        let Some(next_update) = parsed.next_update() else {
            return Err(malformed(format!(
                "issued by {issuer_text}, it has no nextUpdate, which RFC 5280 section 5.1.2.5 requires"
            )));
        };
        let owned = OwnedCertRevocationList::from_der(der_crl)
            .map_err(|e| malformed(format!("issued by {issuer_text}: {e}")))?;
        let list = CertRevocationList::from(owned);
        let mut crl = Self {
            scope: list.issuing_distribution_point().map(<[u8]>::to_vec),
            list: Arc::new(list),
            der: der_crl.as_ref().to_vec(),
            issuer: parsed.issuer().as_raw().to_vec(),
            issuer_text,
            number: parsed.crl_number().cloned(),
            this_update: parsed.last_update().timestamp(),
            next_update: next_update.timestamp(),
            revoked: parsed.iter_revoked_certificates().count(),
            checked_by: None,
        };
        crl.bind(trust, algorithms).map_err(|e| {
            Error::new(
                SIPTLS_ERR_CRL_UNTRUSTED,
                format!("CRL #{position}: {}", e.detail),
            )
        })?;
        Ok(crl)
    }

    /// Checks the CRL against the trust entries named as its issuer: bound
    /// to the first whose key verifies it, free when none has that name, an
    /// error when some do but none verifies it.
    fn bind(&mut self, trust: &TrustTable, algorithms: &WebPkiSupportedAlgorithms) -> Result<()> {
        let mut named = trust.anchors_named(&self.issuer).peekable();
        if named.peek().is_none() {
            self.checked_by = None;
            return Ok(());
        }
        let signed = der::signed(&self.der)
            .ok_or_else(|| Error::new(SIPTLS_ERR_CRL_MALFORMED, "not a signed structure"))?;
        let mut tried = Vec::new();
        for entry in named {
            let spki = entry
                .anchor
                .as_ref()
                .map(|a| a.subject_public_key_info.as_ref());
            if spki.is_some_and(|spki| signed_by(&signed, spki, algorithms)) {
                self.checked_by = Some(entry.id);
                return Ok(());
            }
            tried.push(entry.id.to_string());
        }
        Err(Error::new(
            SIPTLS_ERR_CRL_UNTRUSTED,
            format!(
                "issued by {}, but its signature does not verify with the key of trust ID {} (same name)",
                self.issuer_text,
                tried.join(", ")
            ),
        ))
    }

    /// "CRL number 7" or "thisUpdate 1700000000", for messages.
    fn version_text(&self) -> String {
        match &self.number {
            Some(n) => format!("CRL number {n}"),
            None => format!("no CRL number, thisUpdate {}", self.this_update),
        }
    }

    /// Whether this CRL supersedes `older`: a higher CRL number, or without
    /// numbers on both, a later thisUpdate.
    fn newer_than(&self, older: &Crl) -> bool {
        match (&self.number, &older.number) {
            (Some(new), Some(old)) => new > old,
            _ => self.this_update > older.this_update,
        }
    }

    /// Same issuer and same partition: one replaces the other.
    fn same_slot(&self, other: &Crl) -> bool {
        self.issuer == other.issuer && self.scope == other.scope
    }
}

/// What loading one CRL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new issuer (or partition), or a newer CRL replacing the loaded one.
    Applied,
    /// Byte for byte the CRL already loaded.
    Unchanged,
}

/// The loaded CRLs, at most one per issuer (and partition).
#[derive(Debug, Clone, Default)]
pub struct CrlSet {
    crls: Vec<Arc<Crl>>,
}

impl CrlSet {
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Crl>> {
        self.crls.iter()
    }

    pub fn len(&self) -> usize {
        self.crls.len()
    }

    /// Adds `crl`, replacing the one for the same issuer (and partition)
    /// when it is newer. The very CRL already loaded is `Unchanged`; any
    /// other that is not newer is refused.
    pub fn insert(&mut self, crl: Crl, position: usize) -> Result<Inserted> {
        let Some(at) = self.crls.iter().position(|c| c.same_slot(&crl)) else {
            self.crls.push(Arc::new(crl));
            return Ok(Inserted::Applied);
        };
        let loaded = &self.crls[at];
        if loaded.der == crl.der {
            return Ok(Inserted::Unchanged);
        }
        if !crl.newer_than(loaded) {
            return Err(not_newer(&crl, loaded, position));
        }
        self.crls[at] = Arc::new(crl);
        Ok(Inserted::Applied)
    }

    /// Refuses `crl`, the very one loaded: it brings nothing new.
    pub fn refuse_unchanged(&self, crl: &Crl, position: usize) -> Error {
        let loaded = self
            .crls
            .iter()
            .find(|c| c.same_slot(crl))
            .expect("an unchanged CRL is loaded");
        not_newer(crl, loaded, position)
    }

    /// Removes the CRLs (every partition) whose issuer reads exactly
    /// `issuer`, as listed.
    pub fn remove_issuer(&mut self, issuer: &str) -> Result<()> {
        let before = self.crls.len();
        self.crls.retain(|c| c.issuer_text != issuer);
        if self.crls.len() == before {
            return Err(Error::new(
                SIPTLS_ERR_CRL_NOT_FOUND,
                format!("no CRL is loaded for issuer '{issuer}'"),
            ));
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.crls.clear();
    }

    /// After a trust table change, records which trust entry (if any) now
    /// verifies each CRL. None is ever dropped: one whose CA left the trust
    /// table may still be an intermediate's, checked at every use.
    pub fn rebind(&mut self, trust: &TrustTable, algorithms: &WebPkiSupportedAlgorithms) {
        for crl in &mut self.crls {
            let mut next = Crl::clone(crl);
            if next.bind(trust, algorithms).is_err() {
                next.checked_by = None;
            }
            if next.checked_by != crl.checked_by {
                *crl = Arc::new(next);
            }
        }
    }

    /// Every CRL, for verification.
    pub fn lists(&self) -> Vec<&CertRevocationList<'static>> {
        self.crls.iter().map(|c| c.list.as_ref()).collect()
    }
}

fn not_newer(crl: &Crl, loaded: &Crl, position: usize) -> Error {
    Error::new(
        SIPTLS_ERR_CRL_NOT_NEWER,
        format!(
            "CRL #{position} for {} ({}) is not newer than the one loaded ({}){}; kept the loaded one",
            crl.issuer_text,
            crl.version_text(),
            loaded.version_text(),
            if crl.der == loaded.der { ", it is that very CRL" } else { "" }
        ),
    )
}

fn signed_by(
    signed: &der::Signed<'_>,
    spki_contents: &[u8],
    algorithms: &WebPkiSupportedAlgorithms,
) -> bool {
    let Some((key_algorithm, public_key)) = der::spki_parts(spki_contents) else {
        return false;
    };
    algorithms
        .all
        .iter()
        .filter(|alg| {
            alg.public_key_alg_id().as_ref() == key_algorithm
                && alg.signature_alg_id().as_ref() == signed.algorithm
        })
        .any(|alg| {
            alg.verify_signature(public_key, signed.tbs, signed.signature)
                .is_ok()
        })
}
