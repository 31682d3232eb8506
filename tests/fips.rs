//! The FIPS build (cargo feature `fips`): the AWS-LC FIPS module reports
//! approved mode; the profiles negotiate only FIPS-approved suites and
//! groups; a suite or group outside the approved set is refused with its
//! own code, never quietly left out of a list. In the default build the
//! same calls show the difference: no FIPS module, and ChaCha20 and X25519
//! accepted. `scripts/test.sh` runs this file in both builds.

mod common;
use common::*;

const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;
const ECDHE_ECDSA_CHACHA20_POLY1305: u16 = 0xcca9;
const X25519: u16 = 0x001d;
const SECP256R1: u16 = 0x0017;
const SECP384R1: u16 = 0x0018;
const X25519MLKEM768: u16 = 0x11ec;

const FIPS: bool = cfg!(feature = "fips");

fn profile(ctx: &Ctx, p: siptls_profile) {
    assert_eq!(
        unsafe { siptls_ctx_set_profile(ctx.0, p as u32) },
        SIPTLS_OK
    );
}

#[test]
fn the_build_says_whether_the_fips_module_is_in_approved_mode() {
    let expected = if FIPS {
        siptls_fips_mode::SIPTLS_FIPS_APPROVED
    } else {
        siptls_fips_mode::SIPTLS_FIPS_NOT_BUILT
    };
    assert_eq!(siptls_get_fips_mode(), expected as u32);
}

#[test]
fn suites_and_groups_outside_the_approved_set_are_refused_in_a_fips_build() {
    let ctx = Ctx::client();
    let generation = ctx.generation();
    for (suites, groups) in [
        (&[TLS_CHACHA20_POLY1305_SHA256][..], None),
        // A list mixing approved and unapproved suites is refused whole.
        (
            &[TLS_AES_128_GCM_SHA256, ECDHE_ECDSA_CHACHA20_POLY1305][..],
            None,
        ),
        (&[TLS_AES_128_GCM_SHA256][..], Some(&[X25519][..])),
        (
            &[TLS_AES_128_GCM_SHA256][..],
            Some(&[SECP256R1, X25519][..]),
        ),
    ] {
        let mut results = vec![set_suites(&ctx, suites)];
        if let Some(groups) = groups {
            results.push(set_groups(&ctx, groups));
        }
        let last = *results.last().unwrap();
        if FIPS {
            assert_eq!(
                last, SIPTLS_ERR_NOT_FIPS_APPROVED,
                "{suites:x?} {groups:x?}"
            );
            let detail = last_error();
            assert_sentence(&detail);
            assert!(detail.contains("is not FIPS-approved"), "{detail}");
            assert!(
                detail.contains("CHACHA20") || detail.contains("X25519"),
                "{detail}"
            );
        } else {
            assert_eq!(last, SIPTLS_OK, "{}", last_error());
        }
    }
    if FIPS {
        // Only the approved-suite calls changed anything.
        assert!(ctx.generation() > generation);
        assert_eq!(set_suites(&ctx, &[TLS_AES_256_GCM_SHA384]), SIPTLS_OK);
        assert_eq!(set_groups(&ctx, &[SECP384R1, X25519MLKEM768]), SIPTLS_OK);
    }
}

#[test]
fn every_profile_negotiates_approved_suites_and_groups_in_a_fips_build() {
    use siptls_profile::*;
    for (p, suite, group) in [
        (
            SIPTLS_PROFILE_DEFAULT,
            TLS_AES_256_GCM_SHA384,
            if FIPS { SECP256R1 } else { X25519 },
        ),
        (
            SIPTLS_PROFILE_128BIT,
            TLS_AES_128_GCM_SHA256,
            if FIPS { SECP256R1 } else { X25519 },
        ),
        (
            SIPTLS_PROFILE_POST_QUANTUM,
            TLS_AES_256_GCM_SHA384,
            X25519MLKEM768,
        ),
    ] {
        let (client, server) = (Ctx::client(), Ctx::server());
        profile(&client, p);
        profile(&server, p);
        assert_eq!(
            negotiated(&client, &server),
            (suite, u32::from(group)),
            "{p:?}"
        );
    }
    // A default peer that prefers ChaCha20 gets AES-GCM from a FIPS server.
    let (client, server) = (Ctx::client(), Ctx::server());
    assert_eq!(
        set_suites(
            &client,
            &[TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256]
        ),
        if FIPS {
            SIPTLS_ERR_NOT_FIPS_APPROVED
        } else {
            SIPTLS_OK
        }
    );
    if !FIPS {
        assert_eq!(negotiated(&client, &server).0, TLS_CHACHA20_POLY1305_SHA256);
    }
}
