//! Cipher suites and key-exchange groups through the C ABI: the profiles,
//! explicit lists by IANA number, and the lists refused.

mod common;
use common::*;

const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
const ECDHE_ECDSA_AES128_GCM_SHA256: u16 = 0xc02b;
const ECDHE_ECDSA_AES256_GCM_SHA384: u16 = 0xc02c;
const X25519: u32 = 0x001d;
const SECP256R1: u32 = 0x0017;
const X25519MLKEM768: u32 = 0x11ec;

fn ok(ctx: &Ctx, code: siptls_result) {
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
}

fn versions(ctx: &Ctx, version: u16) {
    ok(ctx, unsafe {
        siptls_ctx_set_versions(ctx.0, version, version)
    });
}

fn profile(ctx: &Ctx, p: siptls_profile) {
    ok(ctx, unsafe { siptls_ctx_set_profile(ctx.0, p as u32) });
}

fn refused(client: &Ctx, server: &Ctx) -> PumpResult {
    let (c, s) = (Sess::client(client), Sess::server(server));
    pump(&c, &s)
}

#[test]
fn the_128_bit_profile_negotiates_aes_128_and_a_128_bit_group_with_a_default_peer() {
    for (version, suite) in [
        (SIPTLS_TLS13, TLS_AES_128_GCM_SHA256),
        (SIPTLS_TLS12, ECDHE_ECDSA_AES128_GCM_SHA256),
    ] {
        for restricted_side in ["client", "server"] {
            let (client, server) = (Ctx::client(), Ctx::server());
            versions(&client, version);
            versions(&server, version);
            let ctx = if restricted_side == "client" {
                &client
            } else {
                &server
            };
            profile(ctx, siptls_profile::SIPTLS_PROFILE_128BIT);
            let (got, group) = negotiated(&client, &server);
            assert_eq!(got, suite, "{version:#x} {restricted_side}");
            assert!([X25519, SECP256R1].contains(&group), "{group:#x}");
        }
    }
}

#[test]
fn the_default_profile_prefers_aes_256_and_x25519_and_the_post_quantum_profile_the_hybrid() {
    let (client, server) = (Ctx::client(), Ctx::server());
    assert_eq!(
        negotiated(&client, &server),
        (TLS_AES_256_GCM_SHA384, X25519)
    );
    for ctx in [&client, &server] {
        profile(ctx, siptls_profile::SIPTLS_PROFILE_POST_QUANTUM);
    }
    assert_eq!(
        negotiated(&client, &server),
        (TLS_AES_256_GCM_SHA384, X25519MLKEM768)
    );
    // Over TLS 1.2, where the hybrid does not exist, X25519 is next.
    versions(&client, SIPTLS_TLS12);
    assert_eq!(negotiated(&client, &server).1, X25519);
}

#[test]
fn explicit_lists_are_used_in_their_order_and_no_common_suite_fails_the_handshake() {
    let (client, server) = (Ctx::client(), Ctx::server());
    ok(
        &server,
        set_suites(&server, &[TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384]),
    );
    ok(
        &client,
        set_suites(&client, &[TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384]),
    );
    ok(&client, set_groups(&client, &[0x0017, 0x001d]));
    ok(&server, set_groups(&server, &[0x0017, 0x001d]));
    assert_eq!(
        negotiated(&client, &server),
        (TLS_AES_128_GCM_SHA256, SECP256R1)
    );
    // A server with only AES-256 and a client with only AES-128 share nothing.
    ok(
        &server,
        set_suites(
            &server,
            &[TLS_AES_256_GCM_SHA384, ECDHE_ECDSA_AES256_GCM_SHA384],
        ),
    );
    profile(&client, siptls_profile::SIPTLS_PROFILE_128BIT);
    let result = refused(&client, &server);
    assert_eq!(result.server, SIPTLS_ERR_NO_COMMON_PARAMETERS);
}

#[test]
fn unknown_weak_duplicate_and_empty_lists_are_refused_and_change_nothing() {
    let ctx = Ctx::server();
    let generation = ctx.generation();
    for (suites, says) in [
        (
            &[0x0005u16][..],
            "cipher suite 0x0005: TLS_RSA_WITH_RC4_128_SHA is not offered",
        ),
        (&[0x002f], "TLS_RSA_WITH_AES_128_CBC_SHA is not offered"),
        (&[0x000a], "TLS_RSA_WITH_3DES_EDE_CBC_SHA is not offered"),
        (&[0x1301, 0x1301], "cipher suite 0x1301 is listed twice"),
        (
            &[0x1301, 0xabcd],
            "cipher suite 0xabcd: no cipher suite siptls knows",
        ),
    ] {
        assert_eq!(
            set_suites(&ctx, suites),
            SIPTLS_ERR_INVALID_ARGUMENT,
            "{suites:x?}"
        );
        assert!(
            ctx.last_error().contains(says),
            "{suites:x?}: {}",
            ctx.last_error()
        );
    }
    for (groups, says) in [
        (
            &[0x0100u16][..],
            "key exchange group 0x0100: FFDHE2048 is not offered",
        ),
        (&[0x001d, 0x001d], "listed twice"),
        (&[0x7777], "no key exchange group siptls knows"),
    ] {
        assert_eq!(
            set_groups(&ctx, groups),
            SIPTLS_ERR_INVALID_ARGUMENT,
            "{groups:x?}"
        );
        assert!(
            ctx.last_error().contains(says),
            "{groups:x?}: {}",
            ctx.last_error()
        );
    }
    let empty = [0u16; 1];
    assert_eq!(
        unsafe { siptls_ctx_set_cipher_suites(ctx.0, empty.as_ptr(), 0) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(ctx.last_error().contains("an empty list of cipher suites"));
    assert_eq!(
        unsafe { siptls_ctx_set_kx_groups(ctx.0, std::ptr::null(), 1) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_ctx_set_profile(ctx.0, 3) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(ctx.generation(), generation, "nothing changed");
}

#[test]
fn a_selection_that_leaves_no_usable_version_is_refused_whichever_call_makes_it() {
    let ctx = Ctx::server();
    // TLS 1.3 suites only, then TLS 1.2 only: nothing left.
    ok(&ctx, set_suites(&ctx, &[TLS_AES_128_GCM_SHA256]));
    let generation = ctx.generation();
    assert_eq!(
        unsafe { siptls_ctx_set_versions(ctx.0, SIPTLS_TLS12, SIPTLS_TLS12) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(
        ctx.last_error()
            .contains("no cipher suite and key exchange group left"),
        "{}",
        ctx.last_error()
    );
    // TLS 1.2 only, then only the hybrid group (TLS 1.3 only): nothing left.
    ok(&ctx, set_suites(&ctx, &[ECDHE_ECDSA_AES128_GCM_SHA256]));
    versions(&ctx, SIPTLS_TLS12);
    assert_eq!(set_groups(&ctx, &[0x11ec]), SIPTLS_ERR_INVALID_ARGUMENT);
    assert!(
        ctx.last_error().contains("groups X25519MLKEM768"),
        "{}",
        ctx.last_error()
    );
    assert_eq!(
        ctx.generation(),
        generation + 2,
        "only the two accepted calls counted"
    );
    // A server still serves with what was accepted.
    let client = Ctx::client();
    assert_eq!(negotiated(&client, &ctx).0, ECDHE_ECDSA_AES128_GCM_SHA256);
}

/// The post-quantum profile's ClientHello also carries an X25519 key share,
/// so a server without the hybrid (OpenSSL 3.0, say) answers without a
/// HelloRetryRequest; the default profile's X25519 share suits every peer.
#[test]
fn no_hello_retry_with_a_server_lacking_the_hybrid_and_the_cost_in_bytes() {
    let sizes = |client_profile: siptls_profile, server_groups: &[u16]| {
        let (client, server) = (Ctx::client(), Ctx::server());
        profile(&client, client_profile);
        ok(&server, set_groups(&server, server_groups));
        let (c, s) = (Sess::client(&client), Sess::server(&server));
        let hello = c.take_all();
        assert_eq!(s.feed(&hello).0, SIPTLS_OK);
        let reply = s.take_all();
        assert_eq!(c.feed(&reply).0, SIPTLS_OK);
        assert_handshake_ok(&c, &s);
        (
            hello.len(),
            reply.len(),
            c.info().handshake_kind,
            c.info().key_exchange_group,
        )
    };
    use siptls_handshake_kind::*;
    let classic = sizes(siptls_profile::SIPTLS_PROFILE_DEFAULT, &[0x001d]);
    let pq_to_classic = sizes(
        siptls_profile::SIPTLS_PROFILE_POST_QUANTUM,
        &[0x001d, 0x0017],
    );
    let pq = sizes(
        siptls_profile::SIPTLS_PROFILE_POST_QUANTUM,
        &[0x11ec, 0x001d],
    );
    eprintln!("ClientHello / server flight bytes: X25519 {classic:?}, hybrid offered to a classic server {pq_to_classic:?}, hybrid {pq:?}");
    assert_eq!((classic.2, classic.3), (SIPTLS_HANDSHAKE_FULL, X25519));
    assert_eq!(
        (pq_to_classic.2, pq_to_classic.3),
        (SIPTLS_HANDSHAKE_FULL, X25519)
    );
    assert_eq!((pq.2, pq.3), (SIPTLS_HANDSHAKE_FULL, X25519MLKEM768));
    // The hybrid key share the client adds: group and length (4 bytes), an
    // ML-KEM-768 key (1,184) and an X25519 share (32). The server's share
    // grows by an ML-KEM-768 ciphertext (1,088); its ECDSA signature's DER
    // length varies by a few bytes from one handshake to the next.
    assert_eq!(pq.0 - classic.0, 4 + 1184 + 32, "{classic:?} {pq:?}");
    let server_growth = pq.1 as i64 - classic.1 as i64;
    assert!(
        (1088 - 4..=1088 + 4).contains(&server_growth),
        "{classic:?} {pq:?}"
    );
}
