//! Re-check verdicts, remembered exactly. A stored session's chain is
//! checked again every time it is offered; under one policy (one
//! generation of settings, trust table and CRLs) that check's answer for a
//! chain and a name depends on nothing but the time, and on the time only
//! through comparisons with a known set of instants: each certificate's
//! notBefore and notAfter (the chain's and every trust entry's) and each
//! CRL's thisUpdate and nextUpdate. Between two consecutive instants the
//! answer cannot change, so a passing verdict is remembered for that open
//! interval and no longer. A new policy starts with nothing remembered:
//! any change of configuration, a CRL refresh included, is a new policy.
//! Only passing verdicts are kept; a failure is checked (and explained)
//! in full each time.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest::{Context, SHA256};
use parking_lot::Mutex;
use pki_types::{CertificateDer, ServerName};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::checked::Checked;

/// Verdicts remembered at most per policy (a digest, a report's detail and
/// the peer's names: a few hundred bytes each); when full, the memory
/// starts over.
const REMEMBERED_MAX: usize = 8192;

/// A re-check that passed, and the interval of gateway time it holds for.
pub struct Verdict {
    pub(super) checked: Checked,
    /// The peer's names, as reports list them.
    pub(super) identities: String,
    /// It holds while `after < now < before` (seconds since 1970).
    after: i64,
    before: i64,
}

/// What one chain was checked against: its certificates and the name.
pub type VerdictKey = [u8; 32];

pub struct Verdicts {
    remembered: Mutex<HashMap<VerdictKey, Arc<Verdict>>>,
    /// The instants at which the policy's own inputs change (trust entries'
    /// validity, CRLs' thisUpdate and nextUpdate), sorted.
    instants: Vec<i64>,
    max: usize,
}

impl Verdicts {
    pub fn new(instants: impl IntoIterator<Item = i64>) -> Self {
        Self::with_max(instants, REMEMBERED_MAX)
    }

    fn with_max(instants: impl IntoIterator<Item = i64>, max: usize) -> Self {
        let mut instants: Vec<i64> = instants.into_iter().collect();
        instants.sort_unstable();
        instants.dedup();
        Self {
            remembered: Mutex::new(HashMap::new()),
            instants,
            max,
        }
    }

    /// The key of `chain` checked for `name`: a SHA-256 over both, each
    /// part length-prefixed.
    pub fn key(chain: &[CertificateDer<'_>], name: Option<&ServerName<'_>>) -> VerdictKey {
        let mut context = Context::new(&SHA256);
        let name = name.map(|n| n.to_str());
        let name = name.as_deref().map(str::as_bytes);
        let parts =
            std::iter::once(name.unwrap_or_default()).chain(chain.iter().map(|c| c.as_ref()));
        context.update(&[u8::from(name.is_some())]);
        for part in parts {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        key
    }

    /// The verdict remembered for `key`, if it holds at `now`.
    pub fn recall(&self, key: &VerdictKey, now: i64) -> Option<Arc<Verdict>> {
        let remembered = self.remembered.lock();
        let verdict = remembered.get(key)?;
        (verdict.after < now && now < verdict.before).then(|| verdict.clone())
    }

    /// Keeps the passing verdict `checked` for `chain` (under `key`),
    /// reached at `now`, for as long as it provably holds. Nothing is kept
    /// when `now` is itself one of the instants (the answer may differ a
    /// second either side) or a certificate's validity cannot be read.
    pub fn remember(
        &self,
        key: VerdictKey,
        chain: &[CertificateDer<'_>],
        now: i64,
        checked: Checked,
        identities: String,
    ) -> Arc<Verdict> {
        let window = self.window(chain, now);
        let verdict = Arc::new(Verdict {
            checked,
            identities,
            after: window.map_or(i64::MAX, |w| w.0),
            before: window.map_or(i64::MIN, |w| w.1),
        });
        if window.is_some() {
            let mut remembered = self.remembered.lock();
            if remembered.len() >= self.max {
                remembered.clear();
            }
            remembered.insert(key, verdict.clone());
        }
        verdict
    }

    /// The open interval around `now` that no instant falls in: the
    /// policy's instants and the validity of each certificate of `chain`.
    fn window(&self, chain: &[CertificateDer<'_>], now: i64) -> Option<(i64, i64)> {
        let (mut after, mut before) = neighbours(&self.instants, now)?;
        for cert in chain {
            let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
            let validity = parsed.validity();
            for instant in [validity.not_before, validity.not_after].map(|t| t.timestamp()) {
                match instant.cmp(&now) {
                    std::cmp::Ordering::Equal => return None,
                    std::cmp::Ordering::Less => after = after.max(instant),
                    std::cmp::Ordering::Greater => before = before.min(instant),
                }
            }
        }
        Some((after, before))
    }
}

/// The nearest of the sorted `instants` before and after `now`
/// (`i64::MIN` and `i64::MAX` where there is none); `None` if `now` is one.
fn neighbours(instants: &[i64], now: i64) -> Option<(i64, i64)> {
    match instants.binary_search(&now) {
        Ok(_) => None,
        Err(i) => Some((
            i.checked_sub(1).map_or(i64::MIN, |j| instants[j]),
            instants.get(i).copied().unwrap_or(i64::MAX),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::siptls_purpose;
    use crate::abi::siptls_verify_status::SIPTLS_VERIFY_OK;
    use siptls_certgen::{Authority, LeafSpec};

    fn passed() -> Checked {
        Checked {
            status: SIPTLS_VERIFY_OK,
            trust_id: 1,
            depth: 1,
            detail: "verified".into(),
            checked_name: None,
            purpose: siptls_purpose::SIPTLS_PURPOSE_NONE,
        }
    }

    /// A certificate valid over [not_before, not_after] (seconds).
    fn valid_over(not_before: i64, not_after: i64) -> CertificateDer<'static> {
        let at = |s: i64| time::OffsetDateTime::from_unix_timestamp(s).unwrap();
        let spec = LeafSpec {
            not_before: at(not_before),
            not_after: at(not_after),
            ..LeafSpec::new("a.example.test")
        };
        CertificateDer::from(Authority::root("verdicts test root").leaf(&spec).cert_der)
    }

    #[test]
    fn the_neighbouring_instants_bound_the_interval_and_an_instant_itself_is_none() {
        let instants = [10, 20, 30];
        assert_eq!(neighbours(&instants, 15), Some((10, 20)));
        assert_eq!(neighbours(&instants, 5), Some((i64::MIN, 10)));
        assert_eq!(neighbours(&instants, 35), Some((30, i64::MAX)));
        assert_eq!(neighbours(&instants, 20), None);
        assert_eq!(neighbours(&[], 20), Some((i64::MIN, i64::MAX)));
    }

    #[test]
    fn a_verdict_holds_strictly_between_the_nearest_instants_of_policy_and_chain() {
        let cert = valid_over(1_000, 9_000);
        let chain = [cert];
        // The policy's instants: a CRL's thisUpdate 2,000 and nextUpdate 5,000.
        let verdicts = Verdicts::new([5_000, 2_000]);
        let key = Verdicts::key(&chain, None);
        assert!(verdicts.recall(&key, 3_000).is_none(), "nothing yet");
        verdicts.remember(key, &chain, 3_000, passed(), String::new());
        for now in [2_001, 3_000, 4_999] {
            assert!(verdicts.recall(&key, now).is_some(), "{now}");
        }
        for now in [2_000, 1_999, 5_000, 5_001, 9_001] {
            assert!(verdicts.recall(&key, now).is_none(), "{now}");
        }
        // After nextUpdate the chain's notAfter is the next instant.
        verdicts.remember(key, &chain, 6_000, passed(), String::new());
        assert!(verdicts.recall(&key, 8_999).is_some());
        assert!(verdicts.recall(&key, 9_000).is_none());
        assert!(verdicts.recall(&key, 5_000).is_none());
    }

    #[test]
    fn nothing_is_kept_at_an_instant_or_for_an_unreadable_certificate() {
        let chain = [valid_over(1_000, 9_000)];
        let verdicts = Verdicts::new([5_000]);
        let key = Verdicts::key(&chain, None);
        for now in [1_000, 5_000, 9_000] {
            let verdict = verdicts.remember(key, &chain, now, passed(), String::new());
            assert_eq!(verdict.checked.trust_id, 1, "the verdict is still returned");
            assert!(verdicts.recall(&key, now).is_none(), "{now}");
        }
        let garbage = [CertificateDer::from(vec![0x30, 0x00])];
        let key = Verdicts::key(&garbage, None);
        verdicts.remember(key, &garbage, 3_000, passed(), String::new());
        assert!(verdicts.recall(&key, 3_000).is_none());
    }

    #[test]
    fn the_key_tells_chains_names_and_no_name_apart_and_memory_is_bounded() {
        let (a, b) = (valid_over(1_000, 9_000), valid_over(1_000, 9_000));
        let (name, other) = (
            ServerName::try_from("gw.example.test").unwrap(),
            ServerName::try_from("other.example.test").unwrap(),
        );
        let (just_a, just_b) = (std::slice::from_ref(&a), std::slice::from_ref(&b));
        let keys = [
            Verdicts::key(just_a, None),
            Verdicts::key(just_b, None),
            Verdicts::key(&[a.clone(), b.clone()], None),
            Verdicts::key(&[b.clone(), a.clone()], None),
            Verdicts::key(just_a, Some(&name)),
            Verdicts::key(just_a, Some(&other)),
        ];
        for (i, k) in keys.iter().enumerate() {
            assert!(keys[i + 1..].iter().all(|later| later != k), "key {i}");
        }
        assert_eq!(keys[4], Verdicts::key(just_a, Some(&name)));

        let verdicts = Verdicts::with_max([], 2);
        for (chain, key) in [just_a, just_b].into_iter().zip(&keys[..2]) {
            verdicts.remember(*key, chain, 3_000, passed(), String::new());
        }
        assert!(verdicts.recall(&keys[0], 3_000).is_some());
        assert!(verdicts.recall(&keys[4], 3_000).is_none(), "another name");
        verdicts.remember(
            keys[2],
            &[a.clone(), b.clone()],
            3_000,
            passed(),
            String::new(),
        );
        assert_eq!(verdicts.remembered.lock().len(), 1, "started over");
        assert!(verdicts.recall(&keys[2], 3_000).is_some());
    }
}
