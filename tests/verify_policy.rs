//! The verification policy through the C ABI: every status produced with a
//! real generated certificate, and the TLS alert the peer sees for it
//! (NO_CERTIFICATE, which needs no certificate, is in handshake.rs).

mod common;
use common::verdict::*;
use common::*;
use siptls_certgen::{chain_pem, self_signed, Crl};
use time::{Duration, OffsetDateTime};

fn set_depth(depth: u32) -> impl FnOnce(&Ctx) {
    move |ctx| {
        assert_eq!(
            unsafe { siptls_ctx_set_max_ca_depth(ctx.0, depth) },
            SIPTLS_OK
        )
    }
}

#[test]
fn zero_to_three_intermediates_pass_at_the_default_cap() {
    let root = Authority::root("Depth Root");
    for intermediates in 0..=3 {
        let (cert, key) = chained_server(&root, intermediates);
        let v = connect(&cert, &key, SERVER_NAME, trust_root(&root, 9));
        assert_ok(&v, 9, intermediates as u32 + 1);
    }
}

#[test]
fn four_intermediates_exceed_the_default_cap() {
    let root = Authority::root("Depth Root");
    let (cert, key) = chained_server(&root, 4);
    let v = connect(&cert, &key, SERVER_NAME, trust_root(&root, 9));
    assert_refused(&v, SIPTLS_VERIFY_DEPTH_EXCEEDED, UNKNOWN_CA);
    assert!(
        v.detail.contains("more than 4 CA certificates"),
        "{}",
        v.detail
    );
    // The same chain passes with a cap of 5.
    let v = connect(&cert, &key, SERVER_NAME, |ctx| {
        trust_root(&root, 9)(ctx);
        set_depth(5)(ctx);
    });
    assert_ok(&v, 9, 5);
}

#[test]
fn cap_two_makes_two_intermediates_fail() {
    let root = Authority::root("Depth Root");
    let (cert, key) = chained_server(&root, 2);
    let v = connect(&cert, &key, SERVER_NAME, |ctx| {
        trust_root(&root, 9)(ctx);
        set_depth(2)(ctx);
    });
    assert_refused(&v, SIPTLS_VERIFY_DEPTH_EXCEEDED, UNKNOWN_CA);
}

#[test]
fn a_shorter_path_within_the_cap_is_used() {
    // root -> i1 -> i2 -> i3 -> i4 -> leaf is 5 CAs deep, but i3 is also a trust entry.
    let root = Authority::root("Depth Root");
    let i1 = root.intermediate("I1");
    let i2 = i1.intermediate("I2");
    let i3 = i2.intermediate("I3");
    let i4 = i3.intermediate("I4");
    let leaf = i4.sip_leaf(SERVER_NAME);
    let chain = chain_pem(&[&leaf, i4.issued(), i3.issued(), i2.issued(), i1.issued()]);
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, |ctx| {
        trust_root(&root, 1)(ctx);
        assert_eq!(ctx.trust(2, i3.issued().cert_pem.as_bytes()), SIPTLS_OK);
    });
    assert_ok(&v, 2, 2);
}

#[test]
fn the_lowest_trust_id_anchors_when_several_could() {
    let p = pki();
    let v = connect(&p.server.cert_pem, &p.server.key_pem, SERVER_NAME, |ctx| {
        trust_root(&p.root, 7)(ctx);
        trust_root(&p.root, 3)(ctx);
    });
    assert_ok(&v, 3, 1);
}

#[test]
fn removing_a_trust_entry_affects_the_next_handshake_only() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    assert_eq!(unsafe { siptls_ctx_remove_trust(cctx.0, 1) }, SIPTLS_OK);
    assert_eq!(client.write(b"still up").0, SIPTLS_OK);
    pump(&client, &server);
    assert_eq!(server.read_all().1, b"still up");

    let (client2, server2) = (Sess::client(&cctx), Sess::server(&sctx));
    pump(&client2, &server2);
    assert_eq!(client2.info().verify_status, SIPTLS_VERIFY_UNKNOWN_CA);
}

fn pinned_spec(not_before: OffsetDateTime, not_after: OffsetDateTime) -> LeafSpec {
    let mut spec = LeafSpec::new(SERVER_NAME);
    spec.uris = vec![format!("sip:{SERVER_NAME}")];
    spec.not_before = not_before;
    spec.not_after = not_after;
    spec
}

#[test]
fn a_self_signed_peer_is_trusted_by_pinning_it() {
    let now = OffsetDateTime::now_utc();
    let pinned = self_signed(&pinned_spec(
        now - Duration::days(1),
        now + Duration::days(30),
    ));
    let pin = |ctx: &Ctx| assert_eq!(ctx.trust(5, pinned.cert_pem.as_bytes()), SIPTLS_OK);
    let v = connect(&pinned.cert_pem, &pinned.key_pem, SERVER_NAME, pin);
    assert_ok(&v, 5, 0);

    // Same subject, different key: nothing chains to a pin.
    let impostor = self_signed(&pinned_spec(
        now - Duration::days(1),
        now + Duration::days(30),
    ));
    let v = connect(&impostor.cert_pem, &impostor.key_pem, SERVER_NAME, pin);
    assert_refused(&v, SIPTLS_VERIFY_UNKNOWN_CA, UNKNOWN_CA);

    // A pin's validity period is still enforced.
    let expired = self_signed(&pinned_spec(
        now - Duration::days(30),
        now - Duration::days(1),
    ));
    let v = connect(&expired.cert_pem, &expired.key_pem, SERVER_NAME, |ctx| {
        assert_eq!(ctx.trust(5, expired.cert_pem.as_bytes()), SIPTLS_OK)
    });
    assert_refused(&v, SIPTLS_VERIFY_EXPIRED, CERTIFICATE_EXPIRED);
}

unsafe extern "C" fn fixed_clock(userdata: *mut std::ffi::c_void, seconds_out: *mut u64) -> bool {
    let when = unsafe { *(userdata as *const i64) };
    if when < 0 {
        return false; // the gateway's SNTP has not synchronized yet
    }
    unsafe { *seconds_out = when as u64 };
    true
}

fn gateway_clock(when: &i64) -> impl FnOnce(&Ctx) + '_ {
    move |ctx| {
        let code = unsafe {
            siptls_ctx_set_time_callback(ctx.0, Some(fixed_clock), when as *const i64 as *mut _)
        };
        assert_eq!(code, SIPTLS_OK);
        trust_root(&pki().root, 1)(ctx);
    }
}

#[test]
fn the_gateway_clock_decides_validity() {
    let root = &pki().root;
    let now = OffsetDateTime::now_utc();
    let mut spec = LeafSpec::new(SERVER_NAME);
    spec.not_before = now + Duration::days(10);
    spec.not_after = now + Duration::days(20);
    let leaf = root.leaf(&spec);

    // By the system clock this certificate is not valid yet...
    let v = connect(
        &leaf.cert_pem,
        &leaf.key_pem,
        SERVER_NAME,
        trust_root(root, 1),
    );
    assert_refused(&v, SIPTLS_VERIFY_NOT_YET_VALID, CERTIFICATE_EXPIRED);
    // ...nor by a gateway clock before notBefore...
    let before = (now + Duration::days(5)).unix_timestamp();
    let v = connect(
        &leaf.cert_pem,
        &leaf.key_pem,
        SERVER_NAME,
        gateway_clock(&before),
    );
    assert_refused(&v, SIPTLS_VERIFY_NOT_YET_VALID, CERTIFICATE_EXPIRED);
    // ...but it is by a gateway clock inside the period...
    let inside = (now + Duration::days(15)).unix_timestamp();
    let v = connect(
        &leaf.cert_pem,
        &leaf.key_pem,
        SERVER_NAME,
        gateway_clock(&inside),
    );
    assert_ok(&v, 1, 1);
    // ...and expired after notAfter.
    let after = (now + Duration::days(25)).unix_timestamp();
    let v = connect(
        &leaf.cert_pem,
        &leaf.key_pem,
        SERVER_NAME,
        gateway_clock(&after),
    );
    assert_refused(&v, SIPTLS_VERIFY_EXPIRED, CERTIFICATE_EXPIRED);
}

#[test]
fn an_unsynchronized_clock_fails_verification() {
    let p = pki();
    let unsynced = -1i64;
    let v = connect(
        &p.server.cert_pem,
        &p.server.key_pem,
        SERVER_NAME,
        gateway_clock(&unsynced),
    );
    assert_refused(&v, SIPTLS_VERIFY_CLOCK_UNSET, CERTIFICATE_UNKNOWN);
    assert!(v.detail.contains("not synchronized"), "{}", v.detail);
}

/// A server certificate with exactly these names.
fn named_server(
    common_name: &str,
    dns: &[&str],
    uris: &[&str],
    ips: &[&str],
    omit_san: bool,
) -> Issued {
    let mut spec = LeafSpec::new(common_name);
    spec.dns_names = dns.iter().map(|s| s.to_string()).collect();
    spec.uris = uris.iter().map(|s| s.to_string()).collect();
    spec.ips = ips.iter().map(|s| s.parse().unwrap()).collect();
    spec.omit_san = omit_san;
    pki().root.leaf(&spec)
}

/// A client trusting the test root connects to a server presenting `cert` as `peer`.
fn verdict_for(cert: &Issued, peer: &str) -> Verdict {
    connect(
        &cert.cert_pem,
        &cert.key_pem,
        peer,
        trust_root(&pki().root, 1),
    )
}

#[test]
fn rfc5922_a_sip_uri_beats_dns_names() {
    let cert = named_server("cn.example", &["b.example"], &["sip:a.example"], &[], false);
    assert_ok(&verdict_for(&cert, "a.example"), 1, 1);
    let v = verdict_for(&cert, "b.example");
    assert_refused(&v, SIPTLS_VERIFY_NAME_MISMATCH, BAD_CERTIFICATE);
    assert!(
        v.reports[0].identities.contains("URI:sip:a.example"),
        "{}",
        v.reports[0].identities
    );
    assert!(v.detail.contains("RFC 5922"), "{}", v.detail);
}

#[test]
fn rfc5922_a_uri_with_a_user_part_is_ignored() {
    let cert = named_server(
        "cn.example",
        &["c.example"],
        &["sip:alice@u.example"],
        &[],
        false,
    );
    assert_ok(&verdict_for(&cert, "c.example"), 1, 1);
    assert_refused(
        &verdict_for(&cert, "u.example"),
        SIPTLS_VERIFY_NAME_MISMATCH,
        BAD_CERTIFICATE,
    );
}

#[test]
fn rfc5922_the_cn_counts_only_without_subject_alt_names() {
    let with_sans = named_server("d.example", &["other.example"], &[], &[], false);
    assert_refused(
        &verdict_for(&with_sans, "d.example"),
        SIPTLS_VERIFY_NAME_MISMATCH,
        BAD_CERTIFICATE,
    );
    let cn_only = named_server("e.example", &[], &[], &[], true);
    assert_ok(&verdict_for(&cn_only, "e.example"), 1, 1);
}

#[test]
fn rfc5922_wildcards_are_literal_but_hostname_mode_allows_them() {
    let cert = named_server("wild", &["*.example.test"], &[], &[], false);
    assert_refused(
        &verdict_for(&cert, "gw.example.test"),
        SIPTLS_VERIFY_NAME_MISMATCH,
        BAD_CERTIFICATE,
    );
    let v = connect(&cert.cert_pem, &cert.key_pem, "gw.example.test", |ctx| {
        trust_root(&pki().root, 1)(ctx);
        let mode = siptls_name_check::SIPTLS_NAME_CHECK_HOSTNAME as u32;
        assert_eq!(unsafe { siptls_ctx_set_name_check(ctx.0, mode) }, SIPTLS_OK);
    });
    assert_ok(&v, 1, 1);
}

#[test]
fn rfc5922_comparison_folds_case() {
    let cert = named_server("case", &[], &["sip:GW-B.Example.TEST"], &[], false);
    assert_ok(&verdict_for(&cert, "gw-b.example.test"), 1, 1);
    assert_ok(&verdict_for(&cert, "Gw-B.EXAMPLE.test"), 1, 1);
}

#[test]
fn ip_literals_match_ip_address_names() {
    let cert = named_server("ip", &["gw.example"], &[], &["127.0.0.1", "::1"], false);
    assert_ok(&verdict_for(&cert, "127.0.0.1"), 1, 1);
    assert_ok(&verdict_for(&cert, "::1"), 1, 1);
    assert_refused(
        &verdict_for(&cert, "127.0.0.2"),
        SIPTLS_VERIFY_NAME_MISMATCH,
        BAD_CERTIFICATE,
    );
}

/// Server-side view: what a server concluded about the standard client.
fn server_verdict(
    setup: impl FnOnce(&Ctx),
    client_identity: &Issued,
) -> (siptls_verify_status, i32, String) {
    let p = pki();
    let sctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        sctx.set_identity(&p.server.cert_pem, &p.server.key_pem),
        SIPTLS_OK
    );
    assert_eq!(
        sctx.trust(1, p.root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    setup(&sctx);
    let cctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, client_identity, &p.root);
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    pump(&client, &server);
    (
        server.info().verify_status,
        client.info().alert_received,
        server.last_error(),
    )
}

fn sip_domain(id: u32, domain: &str) -> impl FnOnce(&Ctx) + '_ {
    move |ctx| {
        let domain = cstring(domain);
        assert_eq!(
            unsafe { siptls_ctx_set_trust_sip_domain(ctx.0, id, domain.as_ptr()) },
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        );
    }
}

#[test]
fn a_trust_entry_can_require_a_sip_domain_of_clients() {
    let client = &pki().client;
    let mut recorder = None;
    let setup = |ctx: &Ctx| {
        sip_domain(1, CLIENT_NAME)(ctx);
        recorder = Some(Recorder::attach(
            ctx,
            siptls_verify_decision::SIPTLS_VERIFY_ACCEPT,
        ));
    };
    assert_eq!(server_verdict(setup, client).0, SIPTLS_VERIFY_OK);
    // The server's report names the domain it checked the client against.
    let reports = recorder.unwrap().reports();
    assert_eq!(reports[0].peer_name, CLIENT_NAME);
    let (status, alert, detail) = server_verdict(sip_domain(1, "other.example"), client);
    assert_eq!(
        (status, alert),
        (SIPTLS_VERIFY_NAME_MISMATCH, BAD_CERTIFICATE),
        "{detail}"
    );
}

fn revocable(ca: &Authority, name: &str, serial: u64) -> Issued {
    ca.leaf(&LeafSpec {
        serial: Some(serial),
        ..LeafSpec::sip(name)
    })
}

fn add_crl(ctx: &Ctx, crl: &Crl) -> siptls_result {
    let mut added = 0usize;
    let code = unsafe { siptls_ctx_add_crl(ctx.0, crl.pem.as_ptr(), crl.pem.len(), &mut added) };
    if code == SIPTLS_OK {
        assert_eq!(added, 1);
    }
    code
}

#[test]
fn a_revoked_server_is_refused() {
    let root = &pki().root;
    let server = revocable(root, SERVER_NAME, 4242);
    let crl = root.crl(&[4242], 1);
    let v = connect(&server.cert_pem, &server.key_pem, SERVER_NAME, |ctx| {
        trust_root(root, 1)(ctx);
        assert_eq!(add_crl(ctx, &crl), SIPTLS_OK, "{}", ctx.last_error());
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, CERTIFICATE_REVOKED);
    // An unrelated serial on the same CRL does not affect a good server.
    let good = revocable(root, SERVER_NAME, 4343);
    let v = connect(&good.cert_pem, &good.key_pem, SERVER_NAME, |ctx| {
        trust_root(root, 1)(ctx);
        assert_eq!(add_crl(ctx, &crl), SIPTLS_OK);
    });
    assert_ok(&v, 1, 1);
}

#[test]
fn a_revoked_client_is_refused() {
    let root = &pki().root;
    let client = revocable(root, CLIENT_NAME, 777);
    let crl = root.crl(&[777], 2);
    let (status, alert, _) =
        server_verdict(|ctx| assert_eq!(add_crl(ctx, &crl), SIPTLS_OK), &client);
    assert_eq!(
        (status, alert),
        (SIPTLS_VERIFY_REVOKED, CERTIFICATE_REVOKED)
    );
}

#[test]
fn an_unknown_ca_is_refused() {
    let other = Authority::root("Unknown Root");
    let server = other.sip_leaf(SERVER_NAME);
    let v = verdict_for(&server, SERVER_NAME);
    assert_refused(&v, SIPTLS_VERIFY_UNKNOWN_CA, UNKNOWN_CA);
    assert_eq!(v.reports[0].trust_id, SIPTLS_TRUST_ID_NONE);
}

/// The server certificate with its DER changed by `edit`, as PEM.
fn tampered(edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut der = pki().server.cert_der.clone();
    edit(&mut der);
    let b64 = base64_encode(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn base64_encode(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_broken_signature_is_refused() {
    // The last byte belongs to the ECDSA signature's s value.
    let cert = tampered(|der| *der.last_mut().unwrap() ^= 0x01);
    let v = connect(
        &cert,
        &pki().server.key_pem,
        SERVER_NAME,
        trust_root(&pki().root, 1),
    );
    assert_refused(&v, SIPTLS_VERIFY_BAD_SIGNATURE, DECRYPT_ERROR);
}

#[test]
fn an_unsupported_signature_algorithm_is_refused() {
    // ecdsa-with-SHA256 -> ecdsa-with-SHA224 (same length) in both places it
    // appears: no verifier offers SHA-224.
    const SHA256: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let cert = tampered(|der| {
        let mut at = 0;
        let mut replaced = 0;
        while let Some(pos) = der[at..].windows(8).position(|w| w == SHA256) {
            der[at + pos + 7] = 0x01;
            at += pos + 8;
            replaced += 1;
        }
        assert_eq!(replaced, 2);
    });
    let v = connect(
        &cert,
        &pki().server.key_pem,
        SERVER_NAME,
        trust_root(&pki().root, 1),
    );
    assert_refused(&v, SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM, DECRYPT_ERROR);
}

#[test]
fn an_inverted_validity_period_is_a_bad_encoding() {
    let now = OffsetDateTime::now_utc();
    let mut spec = LeafSpec::new(SERVER_NAME);
    spec.not_before = now + Duration::days(1);
    spec.not_after = now - Duration::days(1);
    let leaf = pki().root.leaf(&spec);
    let v = verdict_for(&leaf, SERVER_NAME);
    assert_refused(&v, SIPTLS_VERIFY_BAD_ENCODING, BAD_CERTIFICATE);
}

#[test]
fn a_certificate_for_the_wrong_purpose_is_refused() {
    let mut spec = LeafSpec::new(SERVER_NAME);
    spec.usage = Usage::CodeSigning;
    let leaf = pki().root.leaf(&spec);
    let v = verdict_for(&leaf, SERVER_NAME);
    assert_refused(&v, SIPTLS_VERIFY_WRONG_KEY_USAGE, UNSUPPORTED_CERTIFICATE);
}

fn decide(ctx: &Ctx, decision: siptls_verify_decision) -> Box<Recorder> {
    Recorder::attach(ctx, decision)
}

#[test]
fn the_callback_can_reject_a_chain_that_passed() {
    // REJECT, and any number that is not ACCEPT: a callback returning
    // garbage fails closed.
    let p = pki();
    let reject = siptls_verify_decision::SIPTLS_VERIFY_REJECT as u32;
    assert_eq!(reject, 0, "a zeroed answer rejects");
    for code in [reject, 2, 0x8000_0000, u32::MAX] {
        let mut recorder = None;
        let v = connect(&p.server.cert_pem, &p.server.key_pem, SERVER_NAME, |ctx| {
            trust_root(&p.root, 1)(ctx);
            recorder = Some(Recorder::attach_returning(ctx, code));
        });
        assert_eq!(
            (v.status, v.checked),
            (SIPTLS_VERIFY_REJECTED_BY_CALLBACK, SIPTLS_VERIFY_OK),
            "callback returning {code:#x}"
        );
        assert_eq!(v.alert_at_server, ACCESS_DENIED);
        assert_eq!(recorder.unwrap().reports()[0].status, SIPTLS_VERIFY_OK);
    }
}

#[test]
fn accepting_a_failed_chain_changes_nothing_without_overrides() {
    let other = Authority::root("Unknown Root");
    let server = other.sip_leaf(SERVER_NAME);
    let mut recorder = None;
    let v = connect(&server.cert_pem, &server.key_pem, SERVER_NAME, |ctx| {
        trust_root(&pki().root, 1)(ctx);
        recorder = Some(decide(ctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT));
    });
    assert_eq!(v.status, SIPTLS_VERIFY_UNKNOWN_CA);
    assert_eq!(v.alert_at_server, UNKNOWN_CA);
    assert!(!recorder.unwrap().reports()[0].override_allowed);
}

#[test]
fn with_overrides_enabled_the_callback_can_accept_a_failed_chain() {
    let other = Authority::root("Unknown Root");
    let server = other.sip_leaf(SERVER_NAME);
    let mut recorder = None;
    let v = connect(&server.cert_pem, &server.key_pem, SERVER_NAME, |ctx| {
        trust_root(&pki().root, 1)(ctx);
        assert_eq!(
            unsafe { siptls_ctx_set_allow_override(ctx.0, true) },
            SIPTLS_OK
        );
        recorder = Some(decide(ctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT));
    });
    assert_eq!(
        (v.status, v.checked),
        (SIPTLS_VERIFY_OVERRIDDEN, SIPTLS_VERIFY_UNKNOWN_CA)
    );
    assert_eq!(v.alert_at_server, -1);
    let report = &recorder.unwrap().reports()[0];
    assert!(report.override_allowed);
    assert_eq!(report.status, SIPTLS_VERIFY_UNKNOWN_CA);
}

#[test]
fn a_trust_anchor_outside_its_validity_anchors_nothing() {
    // OpenSSL and GnuTLS check the trusted root's dates too; a CA list
    // left with an expired root must not keep vouching for its chains.
    let now = OffsetDateTime::now_utc();
    let root_between = |from: Duration, to: Duration| {
        Authority::root_with("Dated Root", KeyAlg::EcdsaP256, now + from, now + to)
    };
    let expired = root_between(Duration::days(-30), Duration::days(-1));
    let future = root_between(Duration::days(10), Duration::days(20));
    for (root, status) in [
        (&expired, SIPTLS_VERIFY_EXPIRED),
        (&future, SIPTLS_VERIFY_NOT_YET_VALID),
    ] {
        // The leaf itself is current: only the trust entry is not.
        let leaf = root.sip_leaf(SERVER_NAME);
        let v = connect(
            &leaf.cert_pem,
            &leaf.key_pem,
            SERVER_NAME,
            trust_root(root, 4),
        );
        assert_refused(&v, status, CERTIFICATE_EXPIRED);
        assert!(
            v.detail.contains("trust ID 4") && v.detail.contains("is valid from"),
            "{}",
            v.detail
        );
    }

    // The gateway's clock decides here too: inside the future root's
    // period (and the leaf's), it anchors.
    let leaf = future.sip_leaf(SERVER_NAME);
    let inside = (now + Duration::days(15)).unix_timestamp();
    let v = connect(&leaf.cert_pem, &leaf.key_pem, SERVER_NAME, |ctx| {
        gateway_clock(&inside)(ctx);
        trust_root(&future, 4)(ctx);
    });
    assert_ok(&v, 4, 1);

    // A mix: the intermediate is cross-signed by the expired root (trust ID
    // 1, presented and tried first) and issued by a current one (ID 2).
    // The path through the current root is found and used.
    let current = Authority::root("Current Root");
    let intermediate = current.intermediate("Cross Intermediate");
    let cross = intermediate.cross_signed_by(&expired);
    let leaf = intermediate.sip_leaf(SERVER_NAME);
    let chain = chain_pem(&[&leaf, &cross, intermediate.issued()]);
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, |ctx| {
        trust_root(&expired, 1)(ctx);
        trust_root(&current, 2)(ctx);
    });
    assert_ok(&v, 2, 2);
    // Without the current root, the expired one is the only way: refused.
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, trust_root(&expired, 1));
    assert_refused(&v, SIPTLS_VERIFY_EXPIRED, CERTIFICATE_EXPIRED);
    // The current root revokes the intermediate: the path through the
    // expired root does not hide that; the verdict is the revocation.
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, |ctx| {
        trust_root(&expired, 1)(ctx);
        trust_root(&current, 2)(ctx);
        assert_eq!(
            add_crl(ctx, &current.crl_revoking(&[&intermediate], 1)),
            SIPTLS_OK
        );
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, CERTIFICATE_REVOKED);
}
