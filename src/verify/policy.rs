//! The verification policy: every setting it depends on, frozen together
//! with one generation of the trust table and CRLs, and the chain checks
//! (pins, path building with the CA depth cap, validity, revocation, names).

use crate::abi::{
    siptls_purpose, siptls_role, siptls_verify_status::*, SIPTLS_DEFAULT_MAX_CA_DEPTH,
};
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use pki_types::{
    CertificateDer, ServerName, SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::DistinguishedName;
use webpki::EndEntityCert;

use super::checked::Checked;
use super::outcome::VerifyCallback;
use super::status::status_of;
use super::verdicts::Verdicts;
use crate::clock::when;
use crate::clock::Clock;

use crate::crl::{CrlSet, ExpiredCrl, MissingCrl};
use crate::names::{self, NameCheck};
use crate::purpose::{purpose_words, EkuPolicy, PurposeCheck, Purposes};
use crate::trust::{EntryKind, TrustEntry, TrustTable};

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
    pub expired_crl: ExpiredCrl,
    /// How a peer's extended key usage must fit its role, unless its trust
    /// entry says otherwise.
    pub eku_policy: EkuPolicy,
}

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
            expired_crl: ExpiredCrl::Use,
            eku_policy: EkuPolicy::default(),
        }
    }
}

pub struct Policy {
    pub(super) role: siptls_role,
    pub(super) settings: PolicySettings,
    /// The context's configuration generation this policy was built from.
    pub(super) generation: u64,
    /// Anchor entries in trust ID order, parallel to `anchors`.
    pub(super) anchor_entries: Vec<Arc<TrustEntry>>,
    anchors: Vec<TrustAnchor<'static>>,
    pins: Vec<Arc<TrustEntry>>,
    pub(super) crls: CrlSet,
    pub(super) hint_subjects: Vec<DistinguishedName>,
    pub(super) algorithms: WebPkiSupportedAlgorithms,
    /// For certificate paths and CRLs: `algorithms.all`, remembering (see
    /// `signatures`).
    pub(super) chain_algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    /// The loosest EKU policy of the context and its trust entries: what
    /// path building applies before it knows the trust entry a path leads
    /// to; a stricter entry's policy is applied to that path afterwards.
    pub(super) loosest_eku: EkuPolicy,
    /// The re-checks of stored chains that passed under this policy.
    pub(super) verdicts: Verdicts,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("role", &self.role)
            .field("generation", &self.generation)
            .field("anchors", &self.anchors.len())
            .field("pins", &self.pins.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

/// A trust entry's validity at `now`, as webpki reports a certificate's.
fn validity_error(entry: &TrustEntry, now: UnixTime) -> Option<webpki::Error> {
    let at = |secs: i64| UnixTime::since_unix_epoch(Duration::from_secs(secs.max(0) as u64));
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if secs < entry.not_before {
        Some(webpki::Error::CertNotValidYet {
            time: now,
            not_before: at(entry.not_before),
        })
    } else if secs > entry.not_after {
        Some(webpki::Error::CertExpired {
            time: now,
            not_after: at(entry.not_after),
        })
    } else {
        None
    }
}

fn outside_validity(entry: &TrustEntry, now: UnixTime) -> String {
    format!(
        "is valid from {} to {}, and the gateway clock reads {}",
        when(entry.not_before),
        when(entry.not_after),
        when(i64::try_from(now.as_secs()).unwrap_or(i64::MAX))
    )
}

impl Policy {
    pub fn new(
        role: siptls_role,
        settings: PolicySettings,
        generation: u64,
        trust: &TrustTable,
        crls: CrlSet,
        algorithms: WebPkiSupportedAlgorithms,
        chain_algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    ) -> Self {
        let (pins, anchor_entries): (Vec<_>, Vec<_>) = trust
            .entries()
            .iter()
            .cloned()
            .partition(|e| e.kind == EntryKind::Pin);
        let anchors = anchor_entries
            .iter()
            .filter_map(|e| e.anchor.clone())
            .collect();
        let loosest_eku = trust
            .entries()
            .iter()
            .filter_map(|e| e.eku_policy)
            .chain([settings.eku_policy])
            .max()
            .unwrap_or_default();
        let hint_subjects = trust
            .entries()
            .iter()
            .map(|e| DistinguishedName::from(e.hint_der.clone()))
            .collect();
        // Every instant at which an input of this policy changes a check's answer.
        let verdicts = Verdicts::new(
            trust
                .entries()
                .iter()
                .flat_map(|e| [e.not_before, e.not_after])
                .chain(crls.iter().flat_map(|c| [c.this_update, c.next_update])),
        );
        Self {
            role,
            settings,
            generation,
            anchor_entries,
            anchors,
            pins,
            crls,
            hint_subjects,
            algorithms,
            chain_algorithms,
            loosest_eku,
            verdicts,
        }
    }

    pub fn settings(&self) -> &PolicySettings {
        &self.settings
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Anchors and pins together: what the operator loaded.
    pub(super) fn trust_entry_count(&self) -> usize {
        self.anchor_entries.len() + self.pins.len()
    }

    /// The peer is a TLS server (we are its client).
    pub(super) fn peer_is_server(&self) -> bool {
        self.role == siptls_role::SIPTLS_ROLE_CLIENT
    }

    /// The EKU check path building runs on every certificate of a path.
    pub(super) fn usage(&self) -> PurposeCheck {
        PurposeCheck {
            peer_is_server: self.peer_is_server(),
            policy: self.loosest_eku,
        }
    }

    /// The EKU policy for peers `entry` vouches for.
    pub(super) fn eku_policy_of(&self, entry: &TrustEntry) -> EkuPolicy {
        entry.eku_policy.unwrap_or(self.settings.eku_policy)
    }

    /// A path to `entry` under a stricter EKU policy than path building
    /// applied: each certificate of it (the end entity, then each CA) must
    /// fit that policy. The sentence says which does not.
    fn check_entry_eku(
        &self,
        entry: &TrustEntry,
        path: &webpki::VerifiedPath<'_>,
    ) -> Result<(), String> {
        let policy = self.eku_policy_of(entry);
        if policy >= self.loosest_eku {
            return Ok(());
        }
        let certs = std::iter::once(path.end_entity().der())
            .chain(path.intermediate_certificates().map(|c| c.der()));
        for (i, der) in certs.enumerate() {
            let purposes = Purposes::of_der(&der);
            if purposes
                .accepted_for(self.peer_is_server(), policy)
                .is_none()
            {
                let which = if i == 0 {
                    "The peer's certificate"
                } else {
                    "A CA certificate of the peer's path,"
                };
                return Err(self.wrong_purpose(which, &der, Some(entry)));
            }
        }
        Ok(())
    }

    /// A pin is trusted as it stands: exact bytes, its validity period and
    /// its extended key usage. It needs no CRL: removing the pin revokes it.
    fn check_pin(
        &self,
        pin: &Arc<TrustEntry>,
        now: UnixTime,
    ) -> Result<(Arc<TrustEntry>, u32), Checked> {
        let fail = |status, why: String| {
            Err(Checked::failed(
                status,
                format!(
                    "The peer's certificate is pinned as trust ID {} ({}), and {why}.",
                    pin.id, pin.subject
                ),
            ))
        };
        if let Some(e) = validity_error(pin, now) {
            return fail(status_of(&e), outside_validity(pin, now));
        }
        let policy = self.eku_policy_of(pin);
        if pin
            .purposes
            .accepted_for(self.peer_is_server(), policy)
            .is_none()
        {
            return Err(Checked::failed(
                SIPTLS_VERIFY_WRONG_KEY_USAGE,
                self.wrong_purpose(
                    &format!("The peer's certificate, pinned as trust ID {},", pin.id),
                    &pin.cert,
                    Some(pin),
                ),
            ));
        }
        Ok((pin.clone(), 0))
    }

    /// Chain checks: pin or path to an anchor, validity, CRLs, depth cap.
    fn check_chain(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(Arc<TrustEntry>, u32), Checked> {
        if let Some(pin) = self.pins.iter().find(|p| p.cert.as_ref() == leaf.as_ref()) {
            return self.check_pin(pin, now);
        }
        let ee = EndEntityCert::try_from(leaf)
            .map_err(|e| Checked::failed(status_of(&e), self.explain(&e, leaf, intermediates)))?;
        let cap = self.settings.max_ca_depth;
        // webpki keeps only an anchor's subject and key: its validity, part
        // of the path as for OpenSSL and GnuTLS, is checked here, so that
        // another path through a current entry is still tried. A stale
        // anchor counts as no anchor (UnknownIssuer, webpki's least specific
        // error), so another path's real failure, a revocation say, wins.
        let stale_anchor = Cell::new(None);
        let revocation_detail = Cell::new(None);
        let purpose_detail = Cell::new(None);
        // Revocation first: a revoked certificate is reported as such even
        // on a path too deep or under a stale anchor.
        let acceptable = |path: &webpki::VerifiedPath<'_>| {
            self.check_revocation(path, now).map_err(|refused| {
                if let Some(detail) = refused.detail {
                    revocation_detail.set(Some((refused.error.clone(), detail)));
                }
                refused.error
            })?;
            let cas = path.intermediate_certificates().count() as u32 + 1;
            if cas > cap {
                return Err(webpki::Error::MaximumPathDepthExceeded);
            }
            let entry = &self.anchor_entries[self.anchor_index(path.anchor())];
            if let Err(detail) = self.check_entry_eku(entry, path) {
                let refused =
                    webpki::Error::RequiredEkuNotFoundContext(webpki::RequiredEkuNotFoundContext {
                        required: self.required_usage(),
                        present: Vec::new(),
                    });
                purpose_detail.set(Some((refused.clone(), detail)));
                return Err(refused);
            }
            match validity_error(entry, now) {
                None => Ok(()),
                Some(stale) => {
                    stale_anchor.set(Some((entry, stale)));
                    Err(webpki::Error::UnknownIssuer)
                }
            }
        };
        // webpki tries every path and returns the most specific failure, so
        // a path refused for depth never hides, say, a revoked certificate.
        let path = ee
            .verify_for_usage(
                self.chain_algorithms,
                &self.anchors,
                intermediates,
                now,
                self.usage(),
                None,
                Some(&acceptable),
            )
            .map_err(|e| match (e, stale_anchor.take()) {
                // Nothing but a stale anchor stood in the way.
                (webpki::Error::UnknownIssuer, Some((entry, stale))) => Checked::failed(
                    status_of(&stale),
                    format!(
                        "The peer's path leads to trust ID {} ({}), which {}: a trust entry outside its validity anchors nothing. Replace the CA certificate in the trust table.",
                        entry.id,
                        entry.subject,
                        outside_validity(entry, now)
                    ),
                ),
                (e, _) => {
                    let detail = match (revocation_detail.take(), purpose_detail.take()) {
                        (Some((noted, detail)), _) | (_, Some((noted, detail))) if noted == e => {
                            detail
                        }
                        _ => self.explain(&e, leaf, intermediates),
                    };
                    Checked::failed(status_of(&e), detail)
                }
            })?;
        let index = self.anchor_index(path.anchor());
        let depth = path.intermediate_certificates().count() as u32 + 1;
        Ok((self.anchor_entries[index].clone(), depth))
    }

    pub(super) fn anchor_index(&self, anchor: &TrustAnchor<'_>) -> usize {
        self.anchors
            .iter()
            .position(|a| std::ptr::eq(a, anchor))
            .expect("webpki returns one of the anchors it was given")
    }

    /// All checks, without the callback, at the gateway clock's time.
    pub(super) fn check(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
        ids: Option<&names::Identities>,
    ) -> Checked {
        let now = self.settings.clock.now();
        self.check_at(leaf, intermediates, expected_name, ids, now)
    }

    /// All checks, without the callback, at `now` (`None`: the clock is unset).
    pub(super) fn check_at(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected_name: Option<&ServerName<'_>>,
        ids: Option<&names::Identities>,
        now: Option<UnixTime>,
    ) -> Checked {
        let Some(now) = now else {
            return Checked::failed(
                SIPTLS_VERIFY_CLOCK_UNSET,
                "The gateway clock is not synchronized (its time callback reports no time), so no certificate's validity can be checked; every peer is refused until it is.".into(),
            );
        };
        let (entry, depth) = match self.check_chain(leaf, intermediates, now) {
            Ok(found) => found,
            Err(failed) => return failed,
        };
        let expected = match (expected_name, &entry.sip_domain) {
            (Some(name), _) => Some((name, self.settings.name_check)),
            (None, Some(domain)) => Some((domain, NameCheck::Sip)),
            (None, None) => None,
        };
        let name_ok = match expected {
            None => true,
            Some((name, NameCheck::Sip)) => ids.is_some_and(|ids| ids.matches_sip(name)),
            Some((name, NameCheck::Hostname)) => EndEntityCert::try_from(leaf)
                .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(name).is_ok()),
        };
        // Every certificate of the path fits the policy (checked above): this
        // says which purpose the peer's own certificate was accepted for.
        let purpose = ids
            .map_or_else(|| Purposes::of_der(leaf), |ids| ids.purposes)
            .accepted_for(self.peer_is_server(), self.eku_policy_of(&entry))
            .unwrap_or(siptls_purpose::SIPTLS_PURPOSE_NONE);
        let mut checked = Checked {
            status: SIPTLS_VERIFY_OK,
            trust_id: entry.id,
            depth,
            checked_name: expected.map(|(name, _)| name.to_str().into_owned()),
            detail: format!(
                "The peer's certificate verified to trust ID {} ({}) through {depth} CA certificate(s), for {}.",
                entry.id,
                entry.subject,
                purpose_words(purpose)
            ),
            purpose,
        };
        if let (false, Some((name, mode))) = (name_ok, expected) {
            checked.status = SIPTLS_VERIFY_NAME_MISMATCH;
            let rules = match mode {
                NameCheck::Sip => "the RFC 5922 SIP rules",
                NameCheck::Hostname => "the host-name rules",
            };
            let listing = ids.map_or_else(
                || "nothing readable".into(),
                |i| match i.listing.is_empty() {
                    true => "no name".into(),
                    false => i.listing.join(", "),
                },
            );
            let unseen_dns = mode == NameCheck::Sip
                && ids.is_some_and(|i| !i.sip_hosts.is_empty() && !i.dns_names.is_empty());
            let note = if unseen_dns {
                " Its dNSNames were not considered because it carries a SIP URI (RFC 5922 section 7.1)."
            } else {
                ""
            };
            checked.detail = format!(
                "The peer's certificate does not name {} under {rules}; it names {listing}.{note} siptls_ctx_set_name_check chooses the rules.",
                name.to_str(),
            );
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{siptls_verify_status, SIPTLS_TRUST_ID_NONE};
    use crate::context::Context;
    use crate::names;
    use crate::testing::{
        assert_sentence_naming, chain, client_context, pki, server_context, DEEP_NAME, ROOT_ID,
        SERVER_NAME, SERVER_SERIAL,
    };
    use siptls_certgen::Issued;

    /// The checks of the policy `ctx` has in force on the chain `certs`,
    /// against the peer name `name`.
    fn checked(ctx: &Context, certs: &[&Issued], name: Option<&str>) -> Checked {
        let policy = ctx.snapshot().current.get();
        let certs = chain(certs);
        let (leaf, intermediates) = certs.split_first().unwrap();
        let looked = names::identities(leaf);
        let name = name.map(|n| ServerName::try_from(n.to_string()).unwrap());
        policy.check(
            leaf,
            intermediates,
            name.as_ref(),
            looked.as_ref().map(|l| &*l.ids),
        )
    }

    fn assert_refused(checked: &Checked, status: siptls_verify_status, subject: &str) {
        assert_eq!(checked.status, status, "{}", checked.detail);
        assert_eq!((checked.trust_id, checked.depth), (SIPTLS_TRUST_ID_NONE, 0));
        assert_sentence_naming(&checked.detail, subject);
    }

    const PEER: &str = "CN=proxy.example.test";

    fn at(secs: u64) -> Clock {
        Clock::Gateway(Arc::new(move || Some(secs)))
    }

    fn now() -> u64 {
        UnixTime::now().as_secs()
    }

    #[test]
    fn a_chain_to_a_trust_entry_verifies_with_its_trust_id_and_depth() {
        let f = pki();
        let ctx = client_context();
        let direct = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_eq!(direct.status, SIPTLS_VERIFY_OK, "{}", direct.detail);
        assert_eq!((direct.trust_id, direct.depth), (ROOT_ID, 1));
        assert_eq!(direct.checked_name.as_deref(), Some(SERVER_NAME));
        assert_sentence_naming(&direct.detail, "trust ID 1 (CN=Core Test Root)");

        let deep = checked(&ctx, &[&f.deep, f.issuing.issued()], Some(DEEP_NAME));
        assert_eq!(deep.status, SIPTLS_VERIFY_OK, "{}", deep.detail);
        assert_eq!((deep.trust_id, deep.depth), (ROOT_ID, 2));
        assert!(deep.detail.contains("through 2 CA certificate(s)"));

        // A server checks no name unless the trust entry requires a SIP domain.
        let server = server_context();
        let any = checked(&server, &[&f.client], None);
        assert_eq!((any.status, any.checked_name), (SIPTLS_VERIFY_OK, None));
    }

    #[test]
    fn a_chain_to_no_trust_entry_is_an_unknown_issuer() {
        let f = pki();
        let ctx = client_context();
        let stranger = checked(&ctx, &[&f.stranger], Some(SERVER_NAME));
        assert_refused(&stranger, SIPTLS_VERIFY_UNKNOWN_CA, PEER);
        assert_sentence_naming(&stranger.detail, "\"CN=Core Test Other Root\"");
        assert!(stranger.detail.contains("not the trust table's one entry"));

        // Its intermediate missing, the deep chain leads nowhere either.
        let cut = checked(&ctx, &[&f.deep], Some(DEEP_NAME));
        assert_refused(&cut, SIPTLS_VERIFY_UNKNOWN_CA, "CN=deep.example.test");
        assert!(cut
            .detail
            .contains("none of the 0 intermediate certificates"));
    }

    #[test]
    fn validity_is_judged_by_the_gateway_clock() {
        let f = pki();
        let ctx = client_context();
        let two_years = 2 * 365 * 24 * 3600;
        ctx.set_clock(at(now() + two_years), None).unwrap();
        let expired = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_refused(&expired, SIPTLS_VERIFY_EXPIRED, PEER);
        assert!(expired.detail.contains("expired on"), "{}", expired.detail);

        ctx.set_clock(at(now() - 3 * 24 * 3600), None).unwrap();
        let early = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_eq!(
            early.status, SIPTLS_VERIFY_NOT_YET_VALID,
            "{}",
            early.detail
        );

        ctx.set_clock(Clock::Gateway(Arc::new(|| None)), None)
            .unwrap();
        let unset = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_eq!(unset.status, SIPTLS_VERIFY_CLOCK_UNSET);
        assert_sentence_naming(&unset.detail, "not synchronized");

        ctx.set_clock(at(now()), None).unwrap();
        let good = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_eq!(good.status, SIPTLS_VERIFY_OK, "{}", good.detail);
    }

    #[test]
    fn a_certificate_its_issuers_crl_lists_is_revoked() {
        let f = pki();
        let ctx = client_context();
        ctx.add_crls(f.root.crl(&[SERVER_SERIAL], 7).pem.as_bytes())
            .unwrap();
        let revoked = checked(&ctx, &[&f.server], Some(SERVER_NAME));
        assert_refused(&revoked, SIPTLS_VERIFY_REVOKED, PEER);
        assert!(
            revoked
                .detail
                .contains(&format!("serial {SERVER_SERIAL:X}"))
                && revoked.detail.contains("(trust ID 1), CRL number 7."),
            "{}",
            revoked.detail
        );
        let other = checked(&ctx, &[&f.named], Some("sip.example.org"));
        assert_eq!(other.status, SIPTLS_VERIFY_OK, "the CRL lists one serial");
    }

    #[test]
    fn names_are_matched_under_the_rules_chosen() {
        let f = pki();
        let ctx = client_context();
        let name = |n: &str| checked(&ctx, &[&f.named], Some(n));
        // RFC 5922: the SIP URI decides; dNSNames and wildcards do not count.
        assert_eq!(name("sip.example.org").status, SIPTLS_VERIFY_OK);
        for other in ["www.example.test", "a.example.test"] {
            let mismatch = name(other);
            assert_eq!(mismatch.status, SIPTLS_VERIFY_NAME_MISMATCH);
            assert_eq!(mismatch.trust_id, ROOT_ID, "the chain itself passed");
            assert_sentence_naming(&mismatch.detail, other);
            assert!(mismatch.detail.contains("under the RFC 5922 SIP rules"));
            assert!(mismatch.detail.contains("URI:sip:sip.example.org"));
            assert!(mismatch.detail.contains("dNSNames were not considered"));
        }

        ctx.set_name_check(NameCheck::Hostname).unwrap();
        assert_eq!(name("www.example.test").status, SIPTLS_VERIFY_OK);
        assert_eq!(name("a.example.test").status, SIPTLS_VERIFY_OK, "wildcard");
        let uri_only = name("sip.example.org");
        assert_eq!(uri_only.status, SIPTLS_VERIFY_NAME_MISMATCH);
        assert_sentence_naming(&uri_only.detail, "under the host-name rules");

        // A server checks the SIP domain its trust entry requires.
        let server = server_context();
        server
            .trust_set_sip_domain(ROOT_ID, Some("gw.example.test"))
            .unwrap();
        assert_eq!(
            checked(&server, &[&f.client], None).status,
            SIPTLS_VERIFY_OK
        );
        let wrong = checked(&server, &[&f.named], None);
        assert_eq!(wrong.status, SIPTLS_VERIFY_NAME_MISMATCH);
        assert_eq!(wrong.checked_name.as_deref(), Some("gw.example.test"));
    }

    #[test]
    fn the_depth_cap_counts_the_cas_of_the_path() {
        let f = pki();
        let ctx = client_context();
        let deep = || checked(&ctx, &[&f.deep, f.issuing.issued()], Some(DEEP_NAME));
        ctx.set_max_ca_depth(2).unwrap();
        assert_eq!(deep().status, SIPTLS_VERIFY_OK);
        ctx.set_max_ca_depth(1).unwrap();
        let capped = deep();
        assert_refused(
            &capped,
            SIPTLS_VERIFY_DEPTH_EXCEEDED,
            "CN=deep.example.test",
        );
        assert!(capped.detail.contains("more than 1 CA certificates"));

        // The intermediate as a trust entry of its own: a path of one CA.
        ctx.trust_add(2, f.issuing.issued().cert_pem.as_bytes())
            .unwrap();
        let short = deep();
        assert_eq!(short.status, SIPTLS_VERIFY_OK, "{}", short.detail);
        assert_eq!((short.trust_id, short.depth), (2, 1));
    }
}
