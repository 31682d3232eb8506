//! Certificate revocation lists: one current CRL per issuer key (and scope).
//!
//! A CRL may come from any CA of a peer's path, root or intermediate. Its
//! signature is checked against the issuing CA in the path at every use (by
//! webpki); when its issuer is a trust entry it is also checked at load, so a
//! forged or mistaken file is refused at once. Loading a CRL for an issuer that
//! already has one replaces it only when it is newer: that is what a refresh is.
//!
//! An issuer is a name and a key: during a CA key rollover two CAs share a
//! name, each with its own CRLs and its own CRL numbering, so a CRL belongs
//! to the key that verifies its signature. A CA that partitions its CRLs
//! (issuing distribution points) has one current CRL per partition. CRLs are
//! kept whatever becomes of the trust table: dropping one behind the
//! operator's back could let a revoked certificate in.

use crate::abi::siptls_result::*;
use std::sync::Arc;

use pki_types::{CertificateRevocationListDer, SignatureVerificationAlgorithm};
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::{FromDer, ParsedExtension};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::der;
use crate::error::{Error, Result};
use crate::trust::{key_id_text, TrustEntry, TrustTable};

pub type Algorithms<'a> = &'a [&'a dyn SignatureVerificationAlgorithm];

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

/// A CA key that verified a CRL's signature: the CRL is that key's for
/// good, whatever becomes of the trust entry the key came from.
#[derive(Debug, Clone)]
struct IssuerKey {
    /// SubjectPublicKeyInfo contents, as webpki keeps an anchor's.
    spki: Vec<u8>,
    /// The key identifier of the certificate that held it, for messages.
    id: Vec<u8>,
}

impl IssuerKey {
    fn of(entry: &TrustEntry) -> Option<Self> {
        entry.anchor.as_ref().map(|anchor| Self {
            spki: anchor.subject_public_key_info.to_vec(),
            id: entry.key_id.clone(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Crl {
    pub list: Arc<CertRevocationList<'static>>,
    pub der: Vec<u8>,
    /// DER issuer name.
    pub issuer: Vec<u8>,
    /// The issuing distribution point (DER) of a partitioned CRL.
    pub scope: Option<Vec<u8>>,
    pub issuer_text: String,
    /// Which key of the issuer says it signed (authority key identifier).
    authority_key_id: Option<Vec<u8>>,
    pub number: Option<BigUint>,
    pub this_update: i64,
    pub next_update: i64,
    pub revoked: usize,
    /// The trust entry whose key verifies the CRL; `None` when its issuer
    /// is not a trust entry (an intermediate): verified at each use.
    pub checked_by: Option<u32>,
    /// The key known to verify it, if any has so far (see `CrlSet::insert`).
    signer: Option<IssuerKey>,
}

impl Crl {
    /// Parses a DER CRL and, when its issuer is a trust entry, checks that
    /// entry signed it. `position` (from 1) names the CRL in messages.
    pub fn load(
        der_crl: &CertificateRevocationListDer<'_>,
        position: usize,
        trust: &TrustTable,
        algorithms: Algorithms<'_>,
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
            authority_key_id: parsed
                .extensions()
                .iter()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::AuthorityKeyIdentifier(aki) => {
                        aki.key_identifier.as_ref().map(|id| id.0.to_vec())
                    }
                    _ => None,
                }),
            number: parsed.crl_number().cloned(),
            this_update: parsed.last_update().timestamp(),
            next_update: next_update.timestamp(),
            revoked: parsed.iter_revoked_certificates().count(),
            checked_by: None,
            signer: None,
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
    /// to the first whose key verifies it (the one its authority key
    /// identifier names is tried first), free when none has that name, an
    /// error when some do but none verifies it.
    fn bind(&mut self, trust: &TrustTable, algorithms: Algorithms<'_>) -> Result<()> {
        let mut named: Vec<&TrustEntry> = trust.anchors_named(&self.issuer).collect();
        if named.is_empty() {
            self.checked_by = None;
            return Ok(());
        }
        named.sort_by_key(|entry| self.authority_key_id.as_ref() != Some(&entry.key_id));
        for entry in &named {
            let Some(key) = IssuerKey::of(entry) else {
                continue;
            };
            let verifies = match &self.signer {
                Some(known) => known.spki == key.spki,
                None => self.verifies_with(&key.spki, algorithms),
            };
            if verifies {
                self.checked_by = Some(entry.id);
                self.signer = Some(key);
                return Ok(());
            }
        }
        let tried: Vec<String> = named
            .iter()
            .map(|e| format!("{} (key ID {})", e.id, key_id_text(&e.key_id)))
            .collect();
        Err(Error::new(
            SIPTLS_ERR_CRL_UNTRUSTED,
            format!(
                "issued by {}{}, but its signature does not verify with the key of trust ID {}, the {} of that name: load the CRL that CA signed, or first add as a trust entry the CA certificate whose key signed it",
                self.issuer_text,
                self.key_text(),
                tried.join(", "),
                if tried.len() == 1 { "trust entry" } else { "trust entries" }
            ),
        ))
    }

    /// Whether the key `spki` (SubjectPublicKeyInfo contents) signed it.
    fn verifies_with(&self, spki: &[u8], algorithms: Algorithms<'_>) -> bool {
        der::signed(&self.der).is_some_and(|signed| signed_by(&signed, spki, algorithms))
    }

    /// The key identifier it goes by: its authority key identifier, or that
    /// of the key known to sign it.
    fn known_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id
            .as_deref()
            .or(self.signer.as_ref().map(|key| key.id.as_slice()))
    }

    /// " with key ID 0A:1B", or "" when no key identifier is known.
    fn key_text(&self) -> String {
        self.known_key_id()
            .map(|id| format!(" with key ID {}", key_id_text(id)))
            .unwrap_or_default()
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

    /// What to load to replace it, for messages.
    fn newer_text(&self) -> &'static str {
        match self.number {
            Some(_) => "a higher CRL number",
            None => "a later thisUpdate",
        }
    }

    /// "CRL number 5 with key ID 0A:1B", for messages.
    pub fn description(&self) -> String {
        format!("{}{}", self.version_text(), self.key_text())
    }

    /// Same issuer name, key and partition: one replaces the other.
    fn same_slot(&self, other: &Crl) -> bool {
        self.issuer == other.issuer && self.scope == other.scope && self.same_key(other)
    }

    /// Whether both come from one key of their issuer. A CRL whose key is
    /// unknown was tried against every key known to sign a CRL of its name
    /// (`bind`, `CrlSet::insert`), so it is none of theirs; two unknown ones
    /// are told apart by their authority key identifiers, if both have one.
    fn same_key(&self, other: &Crl) -> bool {
        match (&self.signer, &other.signer) {
            (Some(a), Some(b)) => a.spki == b.spki,
            (None, None) => match (&self.authority_key_id, &other.authority_key_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            },
            _ => false,
        }
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

/// The loaded CRLs, at most one per issuer key (and partition).
#[derive(Debug, Clone, Default)]
pub struct CrlSet {
    crls: Vec<Arc<Crl>>,
}

/// The loaded CRLs that speak for a certificate, by the key that issued it.
pub enum IssuerCrls<'a> {
    /// Signed by that very key.
    Own(Vec<&'a Crl>),
    /// None is; these carry its issuer's name, and no trust entry's key
    /// has verified them. They are used, so that they fail the
    /// verification: a wrong CRL must not pass for a missing one.
    Unattributed(Vec<&'a Crl>),
    /// None is; these (perhaps none) carry its issuer's name and are other
    /// keys'.
    OtherKeys(Vec<&'a Crl>),
}

impl CrlSet {
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Crl>> {
        self.crls.iter()
    }

    pub fn len(&self) -> usize {
        self.crls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    /// Adds `crl`, replacing the one for the same issuer key (and
    /// partition) when it is newer. The very CRL already loaded is
    /// `Unchanged`; any other that is not newer is refused.
    pub fn insert(
        &mut self,
        mut crl: Crl,
        position: usize,
        algorithms: Algorithms<'_>,
    ) -> Result<Inserted> {
        // Not a trust entry's: it may still be signed by a key that once
        // verified a CRL of its name.
        if crl.signer.is_none() {
            crl.signer = self
                .crls
                .iter()
                .filter(|c| c.issuer == crl.issuer)
                .filter_map(|c| c.signer.as_ref())
                .find(|key| crl.verifies_with(&key.spki, algorithms))
                .cloned();
        }
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
            .find(|c| c.der == crl.der)
            .expect("an unchanged CRL is loaded");
        not_newer(crl, loaded, position)
    }

    /// Removes the CRLs (every key and partition) whose issuer reads
    /// exactly `issuer`, as listed.
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
    pub fn rebind(&mut self, trust: &TrustTable, algorithms: Algorithms<'_>) {
        for crl in &mut self.crls {
            let mut next = Crl::clone(crl);
            if next.bind(trust, algorithms).is_err() {
                next.checked_by = None;
            }
            if next.checked_by != crl.checked_by || next.signer.is_some() != crl.signer.is_some() {
                *crl = Arc::new(next);
            }
        }
    }

    /// The CRLs for certificates issued under the name `issuer` (DER
    /// contents, as webpki gives it) by the key `spki` (SubjectPublicKeyInfo
    /// contents).
    pub fn for_issuer(
        &self,
        issuer: &[u8],
        spki: &[u8],
        algorithms: Algorithms<'_>,
    ) -> IssuerCrls<'_> {
        let named: Vec<&Crl> = self
            .crls
            .iter()
            .map(Arc::as_ref)
            .filter(|c| c.list.issuer() == issuer)
            .collect();
        let own: Vec<&Crl> = named
            .iter()
            .copied()
            .filter(|c| match &c.signer {
                Some(key) => key.spki == spki,
                None => c.verifies_with(spki, algorithms),
            })
            .collect();
        if !own.is_empty() {
            return IssuerCrls::Own(own);
        }
        let (unknown, others): (Vec<&Crl>, Vec<&Crl>) =
            named.into_iter().partition(|c| c.signer.is_none());
        if unknown.is_empty() {
            IssuerCrls::OtherKeys(others)
        } else {
            IssuerCrls::Unattributed(unknown)
        }
    }
}

fn not_newer(crl: &Crl, loaded: &Crl, position: usize) -> Error {
    let advice = if crl.der == loaded.der {
        ", it is that very CRL: nothing to do".to_string()
    } else {
        format!(
            " for that key; kept the loaded one: to replace it, load a CRL of that CA with {}",
            loaded.newer_text()
        )
    };
    Error::new(
        SIPTLS_ERR_CRL_NOT_NEWER,
        format!(
            "CRL #{position} for {}{} ({}) is not newer than the one loaded ({}){advice}",
            crl.issuer_text,
            crl.key_text(),
            crl.version_text(),
            loaded.version_text(),
        ),
    )
}

fn signed_by(signed: &der::Signed<'_>, spki_contents: &[u8], algorithms: Algorithms<'_>) -> bool {
    let Some((key_algorithm, public_key)) = der::spki_parts(spki_contents) else {
        return false;
    };
    algorithms
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
