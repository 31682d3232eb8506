//! What a context negotiates: cipher suites and key-exchange groups, from a
//! named profile or from explicit lists of IANA numbers, each checked
//! against what siptls offers at all (AEAD suites of TLS 1.2 and 1.3,
//! ECDHE and hybrid post-quantum groups).

use crate::abi::{
    siptls_fips_mode, siptls_profile, siptls_result, siptls_result::*, SIPTLS_TLS12, SIPTLS_TLS13,
};
use rustls::crypto::aws_lc_rs::{cipher_suite as cs, kx_group, ALL_CIPHER_SUITES, ALL_KX_GROUPS};
use rustls::crypto::SupportedKxGroup;
use rustls::{CipherSuite, NamedGroup, SupportedCipherSuite};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Selection {
    pub suites: Vec<SupportedCipherSuite>,
    pub groups: Vec<&'static dyn SupportedKxGroup>,
}

impl Selection {
    /// The same suites and groups in the same order.
    pub fn same_as(&self, other: &Selection) -> bool {
        let suites = |s: &Selection| s.suites.iter().map(|x| x.suite()).collect::<Vec<_>>();
        let groups = |s: &Selection| s.groups.iter().map(|g| g.name()).collect::<Vec<_>>();
        suites(self) == suites(other) && groups(self) == groups(other)
    }

    /// A profile's suites and groups; in a FIPS build, only the
    /// FIPS-approved ones among them.
    pub fn profile(profile: siptls_profile) -> Self {
        let mut selection = Self::full_profile(profile);
        selection.suites.retain(|s| offered_in_this_build(s.fips()));
        selection.groups.retain(|g| offered_in_this_build(g.fips()));
        selection
    }

    fn full_profile(profile: siptls_profile) -> Self {
        use siptls_profile::*;
        let default_suites = vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
        match profile {
            SIPTLS_PROFILE_DEFAULT => Self {
                suites: default_suites,
                groups: vec![
                    kx_group::X25519,
                    kx_group::SECP256R1,
                    kx_group::SECP384R1,
                    kx_group::X25519MLKEM768,
                ],
            },
            SIPTLS_PROFILE_128BIT => Self {
                suites: vec![
                    cs::TLS13_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                    cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                ],
                groups: vec![kx_group::X25519, kx_group::SECP256R1],
            },
            SIPTLS_PROFILE_POST_QUANTUM => Self {
                suites: default_suites,
                groups: vec![
                    kx_group::X25519MLKEM768,
                    kx_group::X25519,
                    kx_group::SECP256R1,
                    kx_group::SECP384R1,
                ],
            },
        }
    }

    /// Whether some version in `min..=max` has a suite, and for TLS 1.2 an
    /// ECDHE group too (the hybrid groups are TLS 1.3 only).
    pub fn check_usable(&self, min: u16, max: u16) -> Result<()> {
        let usable = |version: u16| {
            (min..=max).contains(&version)
                && self
                    .suites
                    .iter()
                    .any(|s| u16::from(s.version().version) == version)
                && (version == SIPTLS_TLS13
                    || self
                        .groups
                        .iter()
                        .any(|g| g.usable_for_version(rustls::ProtocolVersion::TLSv1_2)))
        };
        if usable(SIPTLS_TLS12) || usable(SIPTLS_TLS13) {
            return Ok(());
        }
        Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!(
                "no cipher suite and key exchange group left for the versions {min:#06x}..{max:#06x}: suites {}; groups {}",
                names(self.suites.iter().map(|s| s.suite().as_str().unwrap_or("?"))),
                names(self.groups.iter().map(|g| g.name().as_str().unwrap_or("?"))),
            ),
        ))
    }
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = items.collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// The cryptography in use: whether this is a FIPS build, and whether its
/// module is in approved mode.
pub fn fips_mode() -> siptls_fips_mode {
    if !cfg!(feature = "fips") {
        siptls_fips_mode::SIPTLS_FIPS_NOT_BUILT
    } else if aws_lc_rs::try_fips_mode().is_ok() {
        siptls_fips_mode::SIPTLS_FIPS_APPROVED
    } else {
        siptls_fips_mode::SIPTLS_FIPS_NOT_APPROVED
    }
}

const NOT_APPROVED: &str = "is not FIPS-approved, and this siptls is a FIPS build (siptls_get_fips_mode); choose AES-GCM suites and the groups P-256, P-384 or X25519MLKEM768";

/// In a FIPS build, only what the FIPS module approves is offered.
fn offered_in_this_build(fips_approved: bool) -> bool {
    !cfg!(feature = "fips") || fips_approved
}

/// `item` (a suite or group named `name`), or its refusal in a FIPS build
/// when the module does not approve it.
fn approved<T>(
    item: T,
    fips_approved: bool,
    name: Option<&str>,
) -> std::result::Result<T, Refusal> {
    if offered_in_this_build(fips_approved) {
        return Ok(item);
    }
    Err((
        SIPTLS_ERR_NOT_FIPS_APPROVED,
        format!("{} {NOT_APPROVED}", name.unwrap_or("it")),
    ))
}

/// Why a number is refused: its code and a phrase after the number.
type Refusal = (siptls_result, String);

fn checked_list<T: Copy>(
    numbers: &[u16],
    what: &str,
    lookup: impl Fn(u16) -> std::result::Result<T, Refusal>,
) -> Result<Vec<T>> {
    if numbers.is_empty() {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("an empty list of {what}s"),
        ));
    }
    let mut list = Vec::with_capacity(numbers.len());
    for (i, &number) in numbers.iter().enumerate() {
        if numbers[..i].contains(&number) {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("{what} {number:#06x} is listed twice"),
            ));
        }
        list.push(
            lookup(number)
                .map_err(|(code, why)| Error::new(code, format!("{what} {number:#06x}: {why}")))?,
        );
    }
    Ok(list)
}

/// Cipher suites by IANA number, in preference order.
pub fn suites(numbers: &[u16]) -> Result<Vec<SupportedCipherSuite>> {
    checked_list(numbers, "cipher suite", |number| {
        ALL_CIPHER_SUITES
            .iter()
            .find(|s| u16::from(s.suite()) == number)
            .copied()
            .ok_or_else(|| match CipherSuite::from(number).as_str() {
                Some(name) => format!(
                    "{name} is not offered: siptls negotiates AEAD suites with ECDHE in TLS 1.2 and 1.3 only"
                ),
                None => "no cipher suite siptls knows has this number".into(),
            })
            .map_err(|why| (SIPTLS_ERR_INVALID_ARGUMENT, why))
            .and_then(|suite| approved(suite, suite.fips(), suite.suite().as_str()))
    })
}

/// Key-exchange groups by IANA number, in preference order.
pub fn groups(numbers: &[u16]) -> Result<Vec<&'static dyn SupportedKxGroup>> {
    checked_list(numbers, "key exchange group", |number| {
        ALL_KX_GROUPS
            .iter()
            .find(|g| u16::from(g.name()) == number)
            .copied()
            .ok_or_else(|| match NamedGroup::from(number).as_str() {
                Some(name) => format!("{name} is not offered (no implementation in siptls)"),
                None => "no key exchange group siptls knows has this number".into(),
            })
            .map_err(|why| (SIPTLS_ERR_INVALID_ARGUMENT, why))
            .and_then(|group| approved(group, group.fips(), group.name().as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_refuse_unknown_weak_duplicate_and_empty_numbers() {
        assert_eq!(suites(&[0x1301, 0xc02b]).unwrap().len(), 2);
        for (numbers, says) in [
            (&[][..], "an empty list of cipher suites"),
            (&[0x0005], "0x0005: TLS_RSA_WITH_RC4_128_SHA is not offered"),
            (&[0x002f], "TLS_RSA_WITH_AES_128_CBC_SHA is not offered"),
            (&[0x1301, 0x1301], "0x1301 is listed twice"),
            (&[0xabcd], "no cipher suite siptls knows"),
        ] {
            let e = suites(numbers).err().unwrap();
            assert!(e.detail.contains(says), "{numbers:?}: {}", e.detail);
        }
        assert_eq!(groups(&[0x001d, 0x11ec]).unwrap().len(), 2);
        let e = groups(&[0x0100]).err().unwrap();
        assert!(
            e.detail.contains("FFDHE2048 is not offered"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn a_selection_needs_a_usable_version() {
        let pq_only = Selection {
            suites: suites(&[0xc02b]).unwrap(),
            groups: groups(&[0x11ec]).unwrap(),
        };
        let e = pq_only
            .check_usable(SIPTLS_TLS12, SIPTLS_TLS13)
            .err()
            .unwrap();
        assert!(e.detail.contains("groups X25519MLKEM768"), "{}", e.detail);
        let tls13_only = Selection::profile(siptls_profile::SIPTLS_PROFILE_128BIT);
        assert!(tls13_only.check_usable(SIPTLS_TLS13, SIPTLS_TLS13).is_ok());
    }
}
