//! The extended key usage policy through the C ABI, on certificates the
//! `openssl` command line made: serverAuth only, clientAuth only, both,
//! none, codeSigning only, anyExtendedKeyUsage and id-kp-sipDomain, each
//! presented by a TLS client and by a TLS server under each policy; the
//! purpose the report names; a trust entry's own policy beside the
//! context's; pins; and a serverAuth-only intermediate CA, as the public
//! CAs issue them since 2026.

mod common;
use common::openssl_ca::OpensslCa;
use common::tempdir::TempDir;
use common::*;

use std::sync::OnceLock;

use siptls_eku_policy::*;
use siptls_purpose::*;

const SERVER: &str = "gw-b.example.test";
const CLIENT: &str = "trunk.example.test";

/// A certificate and its key, PEM.
struct Id {
    cert: String,
    key: String,
}

struct Pki {
    _dir: TempDir,
    root: OpensslCa,
    /// A second root, for a trust table of two entries.
    other: OpensslCa,
    /// serverAuth and clientAuth, for the end that is not under test.
    server_both: Id,
    client_both: Id,
    /// (openssl's extendedKeyUsage value or None, as server, as client).
    variants: Vec<(Option<&'static str>, Id, Id)>,
    /// A leaf with both purposes under an intermediate allowing serverAuth only.
    under_server_only_ca: Id,
    /// A serverAuth-only client under `other`.
    other_server_only: Id,
}

const VARIANTS: [Option<&str>; 7] = [
    Some("serverAuth"),
    Some("clientAuth"),
    Some("serverAuth,clientAuth"),
    None,
    Some("codeSigning"),
    Some("anyExtendedKeyUsage"),
    // id-kp-sipDomain (RFC 5924).
    Some("1.3.6.1.5.5.7.3.20"),
];

fn id((_, cert, key): (std::path::PathBuf, String, String)) -> Id {
    Id { cert, key }
}

fn openssl_pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = TempDir::new("eku");
        let root = OpensslCa::root(&dir.0.join("root"), "EKU Test Root");
        let other = OpensslCa::root(&dir.0.join("other"), "EKU Other Root");
        let variants = VARIANTS
            .iter()
            .map(|eku| {
                (
                    *eku,
                    id(root.leaf_with_eku(SERVER, *eku)),
                    id(root.leaf_with_eku(CLIENT, *eku)),
                )
            })
            .collect();
        let issuing =
            root.intermediate_with_eku(&dir.0.join("issuing"), "EKU Server-only CA", "serverAuth");
        let mut under = id(issuing.leaf_with_eku(CLIENT, Some("serverAuth,clientAuth")));
        under.cert.push_str(&issuing.cert_pem);
        Pki {
            server_both: id(root.leaf_with_eku(SERVER, Some("serverAuth,clientAuth"))),
            client_both: id(root.leaf_with_eku(CLIENT, Some("serverAuth,clientAuth"))),
            variants,
            under_server_only_ca: under,
            other_server_only: id(other.leaf_with_eku(CLIENT, Some("serverAuth"))),
            root,
            other,
            _dir: dir,
        }
    })
}

/// The verdict of the end that verified the certificate under test.
#[derive(Debug)]
struct Seen {
    status: siptls_verify_status,
    purpose: siptls_purpose,
    detail: String,
}

fn context(role: siptls_role, own: &Id) -> Ctx {
    let ctx = Ctx::new(role);
    assert_eq!(
        ctx.set_identity(&own.cert, &own.key),
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    ctx
}

fn set_policy(ctx: &Ctx, policy: siptls_eku_policy) {
    assert_eq!(
        unsafe { siptls_ctx_set_eku_policy(ctx.0, policy as u32) },
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
}

fn set_entry_policy(ctx: &Ctx, trust_id: u32, policy: siptls_eku_policy) {
    assert_eq!(
        unsafe { siptls_ctx_set_trust_eku_policy(ctx.0, trust_id, policy as u32) },
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
}

/// A handshake in which `verifier` (prepared by `setup`, with a recorder)
/// checks `peer`'s certificate; returns what it concluded.
fn verdict(verifier_role: siptls_role, peer: &Id, setup: impl FnOnce(&Ctx)) -> Seen {
    let p = openssl_pki();
    let root = p.root.cert_pem.as_bytes();
    let (client_ctx, server_ctx) = match verifier_role {
        siptls_role::SIPTLS_ROLE_SERVER => (
            context(siptls_role::SIPTLS_ROLE_CLIENT, peer),
            context(siptls_role::SIPTLS_ROLE_SERVER, &p.server_both),
        ),
        siptls_role::SIPTLS_ROLE_CLIENT => (
            context(siptls_role::SIPTLS_ROLE_CLIENT, &p.client_both),
            context(siptls_role::SIPTLS_ROLE_SERVER, peer),
        ),
    };
    let (verifier, other) = match verifier_role {
        siptls_role::SIPTLS_ROLE_SERVER => (&server_ctx, &client_ctx),
        siptls_role::SIPTLS_ROLE_CLIENT => (&client_ctx, &server_ctx),
    };
    assert_eq!(other.trust(1, root), SIPTLS_OK);
    let recorder = Recorder::attach(verifier, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    setup(verifier);
    let client = Sess::new(&client_ctx, Some(SERVER)).expect("client session");
    let server = Sess::server(&server_ctx);
    pump(&client, &server);
    let verified = match verifier_role {
        siptls_role::SIPTLS_ROLE_SERVER => &server,
        siptls_role::SIPTLS_ROLE_CLIENT => &client,
    };
    let info = verified.info();
    let reports = recorder.reports();
    assert_eq!(reports.len(), 1, "one verification: {reports:?}");
    assert_eq!(reports[0].status, info.verify_status);
    Seen {
        status: info.verify_status,
        purpose: reports[0].purpose,
        detail: reports[0].detail.clone(),
    }
}

fn accepted(seen: &Seen, purpose: siptls_purpose) {
    assert_eq!(
        (seen.status, seen.purpose),
        (SIPTLS_VERIFY_OK, purpose),
        "{}",
        seen.detail
    );
}

fn refused(seen: &Seen) {
    assert_eq!(
        (seen.status, seen.purpose),
        (SIPTLS_VERIFY_WRONG_KEY_USAGE, SIPTLS_PURPOSE_NONE),
        "{}",
        seen.detail
    );
}

fn trusting_root(policy: siptls_eku_policy) -> impl FnOnce(&Ctx) {
    move |ctx| {
        assert_eq!(
            ctx.trust(1, openssl_pki().root.cert_pem.as_bytes()),
            SIPTLS_OK
        );
        set_policy(ctx, policy);
    }
}

/// What each certificate is accepted for, in each role, under each policy
/// (`None`: refused with WRONG_KEY_USAGE).
fn expected(
    eku: Option<&str>,
    peer_is_server: bool,
    policy: siptls_eku_policy,
) -> Option<siptls_purpose> {
    let (strict, s2s, any) = match (eku, peer_is_server) {
        (None, _) => (
            Some(SIPTLS_PURPOSE_UNRESTRICTED),
            Some(SIPTLS_PURPOSE_UNRESTRICTED),
            Some(SIPTLS_PURPOSE_UNRESTRICTED),
        ),
        (Some("serverAuth"), true) | (Some("serverAuth,clientAuth"), true) => {
            let s = Some(SIPTLS_PURPOSE_SERVER_AUTH);
            (s, s, s)
        }
        (Some("serverAuth"), false) => (
            None,
            Some(SIPTLS_PURPOSE_SERVER_AUTH),
            Some(SIPTLS_PURPOSE_SERVER_AUTH),
        ),
        (Some("clientAuth"), true) => (None, None, Some(SIPTLS_PURPOSE_CLIENT_AUTH)),
        (Some("clientAuth"), false) | (Some("serverAuth,clientAuth"), false) => {
            let c = Some(SIPTLS_PURPOSE_CLIENT_AUTH);
            (c, c, c)
        }
        (Some("codeSigning"), _) => (None, None, Some(SIPTLS_PURPOSE_NOT_CHECKED)),
        (Some("anyExtendedKeyUsage"), _) => (
            None,
            Some(SIPTLS_PURPOSE_ANY_EKU),
            Some(SIPTLS_PURPOSE_ANY_EKU),
        ),
        (Some(_sip_domain), _) => {
            let s = Some(SIPTLS_PURPOSE_SIP_DOMAIN);
            (s, s, s)
        }
    };
    match policy {
        SIPTLS_EKU_STRICT => strict,
        SIPTLS_EKU_DEFAULT | SIPTLS_EKU_SERVER_TO_SERVER => s2s,
        SIPTLS_EKU_ANY => any,
    }
}

fn assert_seen(seen: &Seen, expected: Option<siptls_purpose>, what: &str) {
    match expected {
        Some(purpose) => {
            assert_eq!(
                (seen.status, seen.purpose),
                (SIPTLS_VERIFY_OK, purpose),
                "{what}: {}",
                seen.detail
            );
        }
        None => {
            assert_eq!(
                (seen.status, seen.purpose),
                (SIPTLS_VERIFY_WRONG_KEY_USAGE, SIPTLS_PURPOSE_NONE),
                "{what}: {}",
                seen.detail
            );
            for part in ["extended key usage allows", "siptls_ctx_set_eku_policy"] {
                assert!(
                    seen.detail.contains(part),
                    "{what}: '{part}' in {}",
                    seen.detail
                );
            }
        }
    }
}

#[test]
fn each_purpose_in_both_roles_under_each_policy() {
    let p = openssl_pki();
    for (eku, as_server, as_client) in &p.variants {
        for policy in [
            SIPTLS_EKU_DEFAULT,
            SIPTLS_EKU_STRICT,
            SIPTLS_EKU_SERVER_TO_SERVER,
            SIPTLS_EKU_ANY,
        ] {
            let what = format!("{eku:?} under {policy:?}");
            let seen = verdict(
                siptls_role::SIPTLS_ROLE_CLIENT,
                as_server,
                trusting_root(policy),
            );
            assert_seen(
                &seen,
                expected(*eku, true, policy),
                &format!("a server's {what}"),
            );
            let seen = verdict(
                siptls_role::SIPTLS_ROLE_SERVER,
                as_client,
                trusting_root(policy),
            );
            assert_seen(
                &seen,
                expected(*eku, false, policy),
                &format!("a client's {what}"),
            );
        }
    }
}

#[test]
fn a_refusal_says_what_the_certificate_allows_and_which_policy_refused() {
    let p = openssl_pki();
    let code_signing = &p.variants[4];
    assert_eq!(code_signing.0, Some("codeSigning"));
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &code_signing.2,
        trusting_root(SIPTLS_EKU_DEFAULT),
    );
    for part in [
        "trunk.example.test",
        "may not be used by a TLS client",
        "allows codeSigning",
        "SIPTLS_EKU_SERVER_TO_SERVER",
        "clientAuth, serverAuth, anyExtendedKeyUsage or id-kp-sipDomain",
    ] {
        assert!(seen.detail.contains(part), "'{part}' in {}", seen.detail);
    }
    let server_only = &p.variants[0];
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &server_only.2,
        trusting_root(SIPTLS_EKU_STRICT),
    );
    for part in [
        "allows serverAuth",
        "SIPTLS_EKU_STRICT",
        "needs clientAuth or id-kp-sipDomain",
    ] {
        assert!(seen.detail.contains(part), "'{part}' in {}", seen.detail);
    }
}

#[test]
fn a_serverauth_only_intermediate_is_accepted_for_a_client_only_server_to_server() {
    let p = openssl_pki();
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &p.under_server_only_ca,
        trusting_root(SIPTLS_EKU_STRICT),
    );
    refused(&seen);
    for part in [
        "A CA certificate of the peer's path",
        "EKU Server-only CA",
        "allows serverAuth",
    ] {
        assert!(seen.detail.contains(part), "'{part}' in {}", seen.detail);
    }
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &p.under_server_only_ca,
        trusting_root(SIPTLS_EKU_DEFAULT),
    );
    accepted(&seen, SIPTLS_PURPOSE_CLIENT_AUTH);
}

#[test]
fn a_trust_entrys_own_policy_applies_to_the_peers_it_vouches_for() {
    let p = openssl_pki();
    let server_only_client = &p.variants[0].2;
    let two_roots = |ctx_policy, root_policy| {
        move |ctx: &Ctx| {
            assert_eq!(ctx.trust(1, p.root.cert_pem.as_bytes()), SIPTLS_OK);
            assert_eq!(ctx.trust(2, p.other.cert_pem.as_bytes()), SIPTLS_OK);
            set_policy(ctx, ctx_policy);
            set_entry_policy(ctx, 1, root_policy);
        }
    };
    // The context lets serverAuth-only clients in; trust ID 1 does not.
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        server_only_client,
        two_roots(SIPTLS_EKU_SERVER_TO_SERVER, SIPTLS_EKU_STRICT),
    );
    refused(&seen);
    assert!(
        seen.detail.contains("trust ID 1's own policy"),
        "{}",
        seen.detail
    );
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &p.other_server_only,
        two_roots(SIPTLS_EKU_SERVER_TO_SERVER, SIPTLS_EKU_STRICT),
    );
    accepted(&seen, SIPTLS_PURPOSE_SERVER_AUTH);
    // The other way round: a strict context, one entry server-to-server.
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        server_only_client,
        two_roots(SIPTLS_EKU_STRICT, SIPTLS_EKU_SERVER_TO_SERVER),
    );
    accepted(&seen, SIPTLS_PURPOSE_SERVER_AUTH);
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        &p.other_server_only,
        two_roots(SIPTLS_EKU_STRICT, SIPTLS_EKU_SERVER_TO_SERVER),
    );
    refused(&seen);
    assert!(
        seen.detail.contains("the context's policy"),
        "{}",
        seen.detail
    );
    // DEFAULT hands the entry back to the context.
    let seen = verdict(siptls_role::SIPTLS_ROLE_SERVER, server_only_client, |ctx| {
        two_roots(SIPTLS_EKU_SERVER_TO_SERVER, SIPTLS_EKU_STRICT)(ctx);
        set_entry_policy(ctx, 1, SIPTLS_EKU_DEFAULT);
    });
    assert_eq!(seen.status, SIPTLS_VERIFY_OK, "{}", seen.detail);
}

#[test]
fn a_pin_follows_the_same_policy() {
    let p = openssl_pki();
    let server_only_client = &p.variants[0].2;
    let pinned = |ctx_policy, pin_policy| {
        move |ctx: &Ctx| {
            assert_eq!(ctx.trust(5, server_only_client.cert.as_bytes()), SIPTLS_OK);
            set_policy(ctx, ctx_policy);
            set_entry_policy(ctx, 5, pin_policy);
        }
    };
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        server_only_client,
        pinned(SIPTLS_EKU_SERVER_TO_SERVER, SIPTLS_EKU_DEFAULT),
    );
    accepted(&seen, SIPTLS_PURPOSE_SERVER_AUTH);
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        server_only_client,
        pinned(SIPTLS_EKU_SERVER_TO_SERVER, SIPTLS_EKU_STRICT),
    );
    refused(&seen);
    assert!(
        seen.detail.contains("pinned as trust ID 5"),
        "{}",
        seen.detail
    );
    let seen = verdict(
        siptls_role::SIPTLS_ROLE_SERVER,
        server_only_client,
        pinned(SIPTLS_EKU_STRICT, SIPTLS_EKU_DEFAULT),
    );
    refused(&seen);
}

#[test]
fn the_entry_policy_is_listed_and_counts_as_a_change_only_when_it_is_one() {
    let p = openssl_pki();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(ctx.trust(1, p.root.cert_pem.as_bytes()), SIPTLS_OK);
    let info = |ctx: &Ctx| {
        let mut info: siptls_trust_entry_info = unsafe { std::mem::zeroed() };
        info.struct_size = std::mem::size_of::<siptls_trust_entry_info>() as u32;
        assert_eq!(
            unsafe { siptls_ctx_get_trust(ctx.0, 1, &mut info) },
            SIPTLS_OK
        );
        info.eku_policy
    };
    assert_eq!(info(&ctx), SIPTLS_EKU_DEFAULT as u32);
    let before = ctx.generation();
    set_entry_policy(&ctx, 1, SIPTLS_EKU_STRICT);
    assert_eq!(info(&ctx), SIPTLS_EKU_STRICT as u32);
    assert_eq!(ctx.generation(), before + 1);
    set_entry_policy(&ctx, 1, SIPTLS_EKU_STRICT);
    set_policy(&ctx, SIPTLS_EKU_DEFAULT);
    assert_eq!(
        ctx.generation(),
        before + 1,
        "what is already set is no change"
    );
    set_policy(&ctx, SIPTLS_EKU_STRICT);
    assert_eq!(ctx.generation(), before + 2);
}
