//! Cipher suite profiles.

#[allow(unused_imports)]
use super::*;
use siptls_derive::CEnum;

/// Named suite and group selections (`siptls_ctx_set_profile`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_profile {
    /// Every suite siptls offers, AES-256-GCM first; X25519, P-256, P-384,
    /// then the X25519MLKEM768 hybrid for peers that prefer it. In a FIPS
    /// build, the FIPS-approved part: AES-GCM suites; P-256, P-384, the hybrid.
    SIPTLS_PROFILE_DEFAULT = 0,
    /// "128-bit encryption only": AES-128-GCM suites (TLS 1.3
    /// TLS_AES_128_GCM_SHA256; TLS 1.2 ECDHE-ECDSA/RSA-AES128-GCM-SHA256)
    /// and 128-bit-security groups (X25519, P-256; P-256 alone in a FIPS build).
    SIPTLS_PROFILE_128BIT = 1,
    /// The default suites with the X25519MLKEM768 hybrid preferred (TLS 1.3
    /// only; X25519 and the NIST curves follow for other peers).
    SIPTLS_PROFILE_POST_QUANTUM = 2,
}

/// Whether the cryptography is a FIPS 140-3 module in approved mode
/// (`siptls_get_fips_mode`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_fips_mode {
    /// This library was built without the FIPS module (cargo feature `fips`).
    SIPTLS_FIPS_NOT_BUILT = 0,
    /// The AWS-LC FIPS module is in use and in approved mode: every context
    /// negotiates only FIPS-approved suites, groups and signatures.
    SIPTLS_FIPS_APPROVED = 1,
    /// The FIPS module is built in but not in approved mode (its power-on
    /// self-tests failed): no TLS can be trusted to it.
    SIPTLS_FIPS_NOT_APPROVED = 2,
}
