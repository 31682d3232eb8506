//! Session resumption through the C ABI, both roles, TLS 1.2 and 1.3: what
//! resumes, what is reported, and the trust changes after which a stored
//! session must not resume (trust entry removed or replaced, a CRL revoking
//! a certificate of the path, a certificate expired by the gateway's clock).

mod common;
use common::log::Log;
use common::*;

use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use siptls_certgen::{Authority, LeafSpec};
use siptls_handshake_kind::*;
use time::{Duration, OffsetDateTime};

const VERSIONS: [u16; 2] = [SIPTLS_TLS12, SIPTLS_TLS13];

fn set_version(ctx: &Ctx, version: u16) {
    assert_eq!(
        unsafe { siptls_ctx_set_versions(ctx.0, version, version) },
        SIPTLS_OK
    );
}

fn ok(ctx: &Ctx, code: siptls_result) {
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
}

/// Connects, completes the handshake (and lets tickets arrive), exchanges
/// a message each way, and returns both sessions' info.
fn connect_as(
    client: &Ctx,
    server: &Ctx,
    name: &str,
) -> (siptls_session_info, siptls_session_info) {
    let c = Sess::new(client, Some(name)).expect("client session");
    let s = Sess::server(server);
    assert_handshake_ok(&c, &s);
    assert_eq!(c.write(b"OPTIONS").0, SIPTLS_OK);
    assert_eq!(s.write(b"SIP/2.0 200 OK").0, SIPTLS_OK);
    assert_eq!(
        pump(&c, &s),
        PumpResult {
            client: SIPTLS_OK,
            server: SIPTLS_OK
        }
    );
    assert_eq!(s.read_all().1, b"OPTIONS");
    assert_eq!(c.read_all().1, b"SIP/2.0 200 OK");
    (c.info(), s.info())
}

fn connect(client: &Ctx, server: &Ctx) -> (siptls_session_info, siptls_session_info) {
    connect_as(client, server, SERVER_NAME)
}

/// Connects and expects the handshake to fail; returns the failing side's
/// verification status (client first, then server).
fn connect_fails(client: &Ctx, server: &Ctx) -> (siptls_session_info, siptls_session_info) {
    let c = Sess::client(client);
    let s = Sess::server(server);
    let result = pump(&c, &s);
    assert_ne!(
        result,
        PumpResult {
            client: SIPTLS_OK,
            server: SIPTLS_OK
        },
        "connected"
    );
    (c.info(), s.info())
}

fn both_resumed(infos: &(siptls_session_info, siptls_session_info)) -> bool {
    match (infos.0.handshake_kind, infos.1.handshake_kind) {
        (SIPTLS_HANDSHAKE_RESUMED, SIPTLS_HANDSHAKE_RESUMED) => true,
        (SIPTLS_HANDSHAKE_FULL, SIPTLS_HANDSHAKE_FULL) => false,
        other => panic!("the two ends disagree on the handshake: {other:?}"),
    }
}

fn pair(version: u16) -> (Ctx, Ctx) {
    let (client, server) = (Ctx::client(), Ctx::server());
    set_version(&client, version);
    set_version(&server, version);
    (client, server)
}

#[test]
fn both_roles_resume_in_tls12_and_tls13_and_report_it() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        let client_seen = Recorder::attach(&client, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
        let server_seen = Recorder::attach(&server, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
        let first = connect(&client, &server);
        assert!(
            !both_resumed(&first),
            "{version:#x}: the first handshake is full"
        );
        assert_eq!(first.0.protocol_version, version);
        for round in 1..=3 {
            let again = connect(&client, &server);
            assert!(
                both_resumed(&again),
                "{version:#x} round {round}: not resumed"
            );
            for (info, seen) in [(&again.0, &client_seen), (&again.1, &server_seen)] {
                assert!(info.verified);
                assert_eq!(info.verify_status, siptls_verify_status::SIPTLS_VERIFY_OK);
                assert_eq!((info.trust_id, info.depth), (1, 1));
                let last = seen.reports().pop().unwrap();
                assert!(last.resumed, "{version:#x}: the report says resumed");
                assert_eq!((last.trust_id, last.depth), (1, 1));
                assert!(
                    last.detail.starts_with(
                        "The stored session resumed: The peer's certificate verified to trust ID 1"
                    ),
                    "{}",
                    last.detail
                );
            }
            assert_eq!(client_seen.reports().pop().unwrap().peer_name, SERVER_NAME);
            assert!(server_seen
                .reports()
                .pop()
                .unwrap()
                .identities
                .contains(CLIENT_NAME));
        }
        let full_reports = |seen: &Recorder| seen.reports().iter().filter(|r| !r.resumed).count();
        assert_eq!(full_reports(&client_seen), 1);
        assert_eq!(full_reports(&server_seen), 1);
        assert_eq!(client_seen.reports().len(), 4);
    }
}

#[test]
fn resumption_can_be_turned_off_on_either_side() {
    for version in VERSIONS {
        for off_side in ["client", "server"] {
            let (client, server) = pair(version);
            let ctx = if off_side == "client" {
                &client
            } else {
                &server
            };
            ok(ctx, unsafe { siptls_ctx_set_resumption(ctx.0, false) });
            connect(&client, &server);
            assert!(
                !both_resumed(&connect(&client, &server)),
                "{version:#x} {off_side} off"
            );
        }
    }
}

#[test]
fn no_tls13_tickets_means_no_tls13_resumption_while_tls12_still_resumes() {
    for (version, resumes) in [(SIPTLS_TLS13, false), (SIPTLS_TLS12, true)] {
        let (client, server) = pair(version);
        ok(&server, unsafe {
            siptls_ctx_set_tls13_tickets(server.0, 0)
        });
        connect(&client, &server);
        assert_eq!(
            both_resumed(&connect(&client, &server)),
            resumes,
            "{version:#x}"
        );
    }
}

#[test]
fn a_client_never_offers_a_session_to_another_peer_name_or_with_another_identity() {
    let p = pki();
    let two_names = p.root.leaf(&LeafSpec {
        dns_names: vec![SERVER_NAME.into(), "other.example.test".into()],
        ..LeafSpec::new(SERVER_NAME)
    });
    for version in VERSIONS {
        let (client, server) = pair(version);
        ok(
            &server,
            server.set_identity(&two_names.cert_pem, &two_names.key_pem),
        );
        connect_as(&client, &server, SERVER_NAME);
        // The server would resume the session (the control below), so a
        // full handshake means it was not offered.
        assert!(!both_resumed(&connect_as(
            &client,
            &server,
            "other.example.test"
        )));
        assert!(
            both_resumed(&connect_as(&client, &server, SERVER_NAME)),
            "control"
        );
        let other_client = p.root.sip_leaf("gw-c.example.test");
        ok(
            &client,
            client.set_identity(&other_client.cert_pem, &other_client.key_pem),
        );
        let seen = Recorder::attach(&server, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
        assert!(
            !both_resumed(&connect_as(&client, &server, SERVER_NAME)),
            "{version:#x}"
        );
        let report = seen.reports().pop().unwrap();
        assert!(!report.resumed && report.identities.contains("gw-c.example.test"));
    }
}

// --- Trust changes ---------------------------------------------------------

/// Which context a trust change is made on: the side that verifies the
/// certificate concerned.
#[derive(Clone, Copy, Debug)]
enum Side {
    Client,
    Server,
}

fn verifier<'a>(side: Side, client: &'a Ctx, server: &'a Ctx) -> &'a Ctx {
    match side {
        Side::Client => client,
        Side::Server => server,
    }
}

/// A new connection gets a full handshake, in which the side that checks
/// the changed certificate refuses it with `expected`.
fn assert_refused(side: Side, client: &Ctx, server: &Ctx, expected: siptls_verify_status) {
    let infos = connect_fails(client, server);
    let info = match side {
        Side::Client => &infos.0,
        Side::Server => &infos.1,
    };
    assert_ne!(info.handshake_kind, SIPTLS_HANDSHAKE_RESUMED, "{side:?}");
    assert_eq!(
        info.verify_status, expected,
        "{side:?} {:#x}",
        info.protocol_version
    );
}

#[test]
fn a_removed_or_replaced_trust_entry_ends_resumption() {
    let other_root = Authority::root("siptls Other Root CA");
    for side in [Side::Client, Side::Server] {
        for version in VERSIONS {
            // Removed: the entry goes, another CA is trusted instead. Each
            // pair resumes once first, so the verdict of that re-check is
            // what the change must end.
            let (client, server) = pair(version);
            connect(&client, &server);
            assert!(both_resumed(&connect(&client, &server)));
            let ctx = verifier(side, &client, &server);
            ok(ctx, unsafe { siptls_ctx_remove_trust(ctx.0, 1) });
            ok(ctx, ctx.trust(2, other_root.issued().cert_pem.as_bytes()));
            assert_refused(
                side,
                &client,
                &server,
                siptls_verify_status::SIPTLS_VERIFY_UNKNOWN_CA,
            );

            // Replaced under the same trust ID by another CA.
            let (client, server) = pair(version);
            connect(&client, &server);
            assert!(both_resumed(&connect(&client, &server)));
            let ctx = verifier(side, &client, &server);
            let pem = other_root.issued().cert_pem.clone();
            let mut count = 0;
            ok(ctx, unsafe {
                siptls_ctx_replace_trust_list(ctx.0, pem.as_ptr(), pem.len(), 1, &mut count)
            });
            assert_refused(
                side,
                &client,
                &server,
                siptls_verify_status::SIPTLS_VERIFY_UNKNOWN_CA,
            );
        }
    }
}

#[test]
fn a_session_resumed_after_its_anchor_moved_reports_the_current_trust_id() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        let root = pki().root.issued().cert_pem.clone();
        let mut count = 0;
        ok(&server, unsafe {
            siptls_ctx_replace_trust_list(server.0, root.as_ptr(), root.len(), 7, &mut count)
        });
        let infos = connect(&client, &server);
        assert!(both_resumed(&infos), "{version:#x}");
        assert_eq!(infos.1.trust_id, 7);
    }
}

#[test]
fn a_crl_loaded_since_that_revokes_the_peer_ends_resumption() {
    let root = Authority::root("siptls Revoking Root CA");
    let server_id = root.leaf(&LeafSpec {
        serial: Some(0x5e),
        ..LeafSpec::sip(SERVER_NAME)
    });
    let client_id = root.leaf(&LeafSpec {
        serial: Some(0xc1),
        ..LeafSpec::sip(CLIENT_NAME)
    });
    for side in [Side::Client, Side::Server] {
        for version in VERSIONS {
            let client = Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, &client_id, &root);
            let server = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &server_id, &root);
            set_version(&client, version);
            set_version(&server, version);
            let ctx = verifier(side, &client, &server);
            let nothing_revoked = root.crl(&[], 1);
            let mut added = 0;
            ok(ctx, unsafe {
                siptls_ctx_add_crl(
                    ctx.0,
                    nothing_revoked.pem.as_ptr(),
                    nothing_revoked.pem.len(),
                    &mut added,
                )
            });
            connect(&client, &server);
            assert!(
                both_resumed(&connect(&client, &server)),
                "control: a CRL revoking nothing"
            );
            let revoked = root.crl(&[0x5e, 0xc1], 2);
            ok(ctx, unsafe {
                siptls_ctx_add_crl(ctx.0, revoked.pem.as_ptr(), revoked.pem.len(), &mut added)
            });
            assert_refused(
                side,
                &client,
                &server,
                siptls_verify_status::SIPTLS_VERIFY_REVOKED,
            );
        }
    }
}

/// The moving clock's value for "not synchronized".
const UNSYNCHRONIZED: u64 = 0;

/// A clock the test moves: seconds since the epoch behind the user data.
unsafe extern "C" fn moving_clock(userdata: *mut c_void, seconds_out: *mut u64) -> bool {
    let now = unsafe { (*(userdata as *const AtomicU64)).load(Ordering::SeqCst) };
    unsafe { *seconds_out = now };
    now != UNSYNCHRONIZED
}

fn use_clock(ctx: &Ctx, clock: &AtomicU64) {
    ok(ctx, unsafe {
        siptls_ctx_set_time_callback(
            ctx.0,
            Some(moving_clock),
            clock as *const AtomicU64 as *mut _,
        )
    });
}

#[test]
fn a_certificate_expired_by_the_gateway_clock_ends_resumption() {
    let now = OffsetDateTime::now_utc();
    let expires = now + Duration::days(2);
    let short = |name: &str| {
        pki().root.leaf(&LeafSpec {
            not_after: expires,
            ..LeafSpec::sip(name)
        })
    };
    let (server_id, client_id) = (short(SERVER_NAME), short(CLIENT_NAME));
    for side in [Side::Client, Side::Server] {
        for version in VERSIONS {
            let p = pki();
            let client = Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, &client_id, &p.root);
            let server = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &server_id, &p.root);
            set_version(&client, version);
            set_version(&server, version);
            // Tickets outlive the certificate, so only its expiry can stop them.
            ok(&server, unsafe {
                siptls_ctx_set_ticket_lifetime(server.0, SIPTLS_MAX_TICKET_LIFETIME)
            });
            let clock = AtomicU64::new(now.unix_timestamp() as u64);
            use_clock(verifier(side, &client, &server), &clock);
            connect(&client, &server);
            clock.store(
                (expires - Duration::minutes(1)).unix_timestamp() as u64,
                Ordering::SeqCst,
            );
            assert!(
                both_resumed(&connect(&client, &server)),
                "{side:?} {version:#x}: still valid"
            );
            clock.store(
                (expires + Duration::minutes(1)).unix_timestamp() as u64,
                Ordering::SeqCst,
            );
            assert_refused(
                side,
                &client,
                &server,
                siptls_verify_status::SIPTLS_VERIFY_EXPIRED,
            );
        }
    }
}

#[test]
fn a_callback_that_rejects_a_resumed_peer_fails_the_session() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        let _seen = Recorder::attach(&server, siptls_verify_decision::SIPTLS_VERIFY_REJECT);
        let c = Sess::client(&client);
        let s = Sess::server(&server);
        let result = pump(&c, &s);
        assert_eq!(result.server, SIPTLS_ERR_CERT_REJECTED, "{version:#x}");
        let info = s.info();
        assert_eq!(
            info.verify_status,
            siptls_verify_status::SIPTLS_VERIFY_REJECTED_BY_CALLBACK
        );
        assert!(info.failed);
    }
}

// --- Ticket keys -------------------------------------------------------------

const KEY_A: &str = "5d2c3a0e7f1b4c6d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f";
const KEY_B: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn set_keys(ctx: &Ctx, text: &str) -> (siptls_result, u32) {
    let mut count = 99;
    let code = unsafe { siptls_ctx_set_ticket_keys(ctx.0, text.as_ptr(), text.len(), &mut count) };
    (code, count)
}

#[test]
fn servers_sharing_ticket_keys_resume_each_others_sessions_and_rotation_keeps_old_keys_opening() {
    for version in VERSIONS {
        let client = Ctx::client();
        set_version(&client, version);
        let node = |keys: &str| {
            let server = Ctx::server();
            set_version(&server, version);
            assert_eq!(
                set_keys(&server, keys),
                (SIPTLS_OK, keys.lines().count() as u32)
            );
            server
        };
        let (a, b) = (node(KEY_A), node(KEY_A));
        connect(&client, &a);
        assert!(
            both_resumed(&connect(&client, &b)),
            "{version:#x}: a ticket of node a on node b"
        );
        // Rotated: B seals, A still opens. A ticket sealed by A resumes on
        // a node with the rotated set.
        let rotated = node(&format!("{KEY_B}\n{KEY_A}"));
        assert!(
            both_resumed(&connect(&client, &rotated)),
            "{version:#x}: during the decrypt window"
        );
        // That ticket was sealed with B; a node that only has A cannot open it.
        assert!(
            !both_resumed(&connect(&client, &a)),
            "{version:#x}: a node without key B"
        );
        // And once A is gone, tickets sealed with A do not open any more.
        let after = node(KEY_B);
        connect(&client, &a);
        assert!(
            !both_resumed(&connect(&client, &after)),
            "{version:#x}: after the window"
        );
        // Generated keys are the server's own.
        let (own1, own2) = (Ctx::server(), Ctx::server());
        set_version(&own1, version);
        set_version(&own2, version);
        connect(&client, &own1);
        assert!(
            !both_resumed(&connect(&client, &own2)),
            "{version:#x}: generated keys differ"
        );
    }
}

#[test]
fn a_server_reload_keeps_tickets_valid_and_a_client_identity_change_empties_its_cache() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        // The same identity again, and a CRL that revokes nobody.
        let p = pki();
        ok(
            &server,
            server.set_identity(&p.server.cert_pem, &p.server.key_pem),
        );
        let crl = p.root.crl(&[0x0bad], 1);
        let mut added = 0;
        ok(&server, unsafe {
            siptls_ctx_add_crl(server.0, crl.pem.as_ptr(), crl.pem.len(), &mut added)
        });
        assert!(both_resumed(&connect(&client, &server)), "{version:#x}");
        // A client change its stored sessions are checked against keeps them.
        ok(&client, unsafe { siptls_ctx_set_max_ca_depth(client.0, 3) });
        assert!(both_resumed(&connect(&client, &server)), "{version:#x}");
        // A new client identity drops them: they resume the old one.
        let renewed = p.root.sip_leaf(CLIENT_NAME);
        ok(
            &client,
            client.set_identity(&renewed.cert_pem, &renewed.key_pem),
        );
        assert!(!both_resumed(&connect(&client, &server)), "{version:#x}");
    }
}

#[test]
fn the_tls13_ticket_count_is_how_many_sessions_can_resume_at_once() {
    for (tickets, resumed) in [(None, [true, false]), (Some(2), [true, true])] {
        let (client, server) = pair(SIPTLS_TLS13);
        if let Some(count) = tickets {
            ok(&server, unsafe {
                siptls_ctx_set_tls13_tickets(server.0, count)
            });
        }
        connect(&client, &server);
        // Both sessions are created before either handshakes: each takes a
        // ticket of its own (a ticket is used once), if there is one.
        let clients = [Sess::client(&client), Sess::client(&client)];
        for (c, resumed) in clients.iter().zip(resumed) {
            let s = Sess::server(&server);
            assert_handshake_ok(c, &s);
            let kind = c.info().handshake_kind;
            assert_eq!(kind == SIPTLS_HANDSHAKE_RESUMED, resumed, "{tickets:?}");
        }
    }
}

#[test]
fn nothing_resumes_while_the_gateway_clock_is_unsynchronized() {
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    for version in VERSIONS {
        let (client, server) = pair(version);
        let clock = AtomicU64::new(now);
        use_clock(&server, &clock);
        connect(&client, &server);
        clock.store(UNSYNCHRONIZED, Ordering::SeqCst);
        assert_refused(
            Side::Server,
            &client,
            &server,
            siptls_verify_status::SIPTLS_VERIFY_CLOCK_UNSET,
        );
    }
}

#[test]
fn tickets_expire_after_their_lifetime_on_the_gateway_clock() {
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    // A lifetime set, and the default (SIPTLS_DEFAULT_TICKET_LIFETIME).
    for (set, lifetime) in [(Some(600), 600), (None, 7200)] {
        for version in VERSIONS {
            let (client, server) = pair(version);
            // Supplied keys do not rotate: only the lifetime ends a ticket.
            assert_eq!(set_keys(&server, KEY_A), (SIPTLS_OK, 1));
            if let Some(seconds) = set {
                ok(&server, unsafe {
                    siptls_ctx_set_ticket_lifetime(server.0, seconds)
                });
            }
            let clock = AtomicU64::new(now);
            use_clock(&server, &clock);
            connect(&client, &server);
            clock.store(now + lifetime - 1, Ordering::SeqCst);
            assert!(
                both_resumed(&connect(&client, &server)),
                "{version:#x}: within the lifetime of {lifetime} s"
            );
            // The resumption's new ticket keeps the first one's issue time.
            clock.store(now + 2 * lifetime, Ordering::SeqCst);
            assert!(
                !both_resumed(&connect(&client, &server)),
                "{version:#x}: past the lifetime of {lifetime} s"
            );
        }
    }
    assert_eq!(SIPTLS_DEFAULT_TICKET_LIFETIME, 7200);
}

#[test]
fn a_session_resumes_for_one_lifetime_after_its_full_handshake_however_often_it_resumes() {
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    let lifetime = 600;
    // Tickets, and a server session cache (TLS 1.2 keeps the entry it
    // resumes, TLS 1.3 replaces it with a new one at each resumption).
    for cache in [false, true] {
        for version in VERSIONS {
            let what = format!("{version:#x}, session cache {cache}");
            let (client, server) = pair(version);
            // Supplied keys do not rotate: only the lifetime ends a session.
            assert_eq!(set_keys(&server, KEY_A), (SIPTLS_OK, 1));
            ok(&server, unsafe {
                siptls_ctx_set_ticket_lifetime(server.0, lifetime as u32)
            });
            if cache {
                ok(&server, unsafe {
                    siptls_ctx_set_session_cache_size(server.0, 64)
                });
            }
            let clock = AtomicU64::new(now);
            use_clock(&server, &clock);
            connect(&client, &server);
            // Each resumption hands out a new ticket or entry for the same
            // session, the last one a second before its lifetime ends.
            for at in [lifetime / 2, lifetime - 60, lifetime - 1] {
                clock.store(now + at, Ordering::SeqCst);
                assert!(
                    both_resumed(&connect(&client, &server)),
                    "{what}: {at} s after the full handshake"
                );
            }
            clock.store(now + lifetime + 1, Ordering::SeqCst);
            assert!(
                !both_resumed(&connect(&client, &server)),
                "{what}: one lifetime after the full handshake"
            );
            // That full handshake starts the next lifetime.
            clock.store(now + 2 * lifetime, Ordering::SeqCst);
            assert!(
                both_resumed(&connect(&client, &server)),
                "{what}: within the new session's lifetime"
            );
        }
    }
}

#[test]
fn generated_ticket_keys_rotate_on_the_gateway_clock() {
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    let lifetime = 600;
    for version in VERSIONS {
        let (client, server) = pair(version);
        ok(&server, unsafe {
            siptls_ctx_set_ticket_lifetime(server.0, lifetime as u32)
        });
        let clock = AtomicU64::new(now);
        use_clock(&server, &clock);
        connect(&client, &server);
        // Late in the first key's sealing window: the ticket another
        // client's full handshake gets now...
        clock.store(now + lifetime - 10, Ordering::SeqCst);
        let late = Ctx::client();
        set_version(&late, version);
        assert!(!both_resumed(&connect(&late, &server)));
        // ...still opens after a new key took over sealing.
        clock.store(now + lifetime + 300, Ordering::SeqCst);
        assert!(
            both_resumed(&connect(&late, &server)),
            "{version:#x}: decrypt-only window"
        );
        // The ticket issued then was sealed by the second key.
        clock.store(now + 2 * lifetime - 20, Ordering::SeqCst);
        assert!(
            both_resumed(&connect(&late, &server)),
            "{version:#x}: second key"
        );
    }
}

#[test]
fn malformed_ticket_key_sets_are_refused_and_change_nothing() {
    let server = Ctx::server();
    let generation = server.generation();
    for (text, says) in [
        ("", "no ticket key"),
        ("# comment only\n", "no ticket key"),
        (&KEY_A[..63], "line 1: 63 hex digits"),
        ("zz", "line 1: not hex"),
    ] {
        assert_eq!(
            set_keys(&server, text),
            (SIPTLS_ERR_TICKET_KEY_MALFORMED, 0),
            "{text:?}"
        );
        assert!(
            server.last_error().contains(says),
            "{text:?}: {}",
            server.last_error()
        );
    }
    assert_eq!(server.generation(), generation);
    let client = Ctx::client();
    assert_eq!(
        set_keys(&client, KEY_A).0,
        SIPTLS_ERR_INVALID_ARGUMENT,
        "server contexts only"
    );
    assert_eq!(
        unsafe { siptls_ctx_set_tls13_tickets(server.0, SIPTLS_MAX_TLS13_TICKETS + 1) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_ctx_set_ticket_lifetime(server.0, SIPTLS_MIN_TICKET_LIFETIME - 1) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_ctx_set_ticket_lifetime(server.0, SIPTLS_MAX_TICKET_LIFETIME + 1) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_ctx_set_session_cache_size(server.0, SIPTLS_MAX_SESSION_CACHE_SIZE + 1) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(server.generation(), generation);
}

#[test]
fn a_ticket_key_file_loads_and_reloads() {
    let dir = common::tempdir::TempDir::new("ticket-keys");
    let path = dir.0.join("ticket.keys");
    let server = Ctx::server();
    let load = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let cpath = cstring(path.to_str().unwrap());
        let mut count = 99;
        let code = unsafe { siptls_ctx_load_ticket_key_file(server.0, cpath.as_ptr(), &mut count) };
        (code, count)
    };
    assert_eq!(load(&format!("# node keys\n{KEY_A}\n")), (SIPTLS_OK, 1));
    assert_eq!(load(&format!("{KEY_B}\n{KEY_A}\n")), (SIPTLS_OK, 2));
    assert_eq!(
        load(&format!("{KEY_B}\n{KEY_B}\n")),
        (SIPTLS_ERR_TICKET_KEY_MALFORMED, 0)
    );
    assert!(server.last_error().contains("ticket.keys") && server.last_error().contains("line 2"));
    let missing = cstring(dir.0.join("absent").to_str().unwrap());
    let mut count = 99;
    assert_eq!(
        unsafe { siptls_ctx_load_ticket_key_file(server.0, missing.as_ptr(), &mut count) },
        SIPTLS_ERR_IO
    );
    assert_eq!(count, 0);
}

#[test]
fn a_reloaded_ticket_key_file_replaces_the_keys_in_charge() {
    let dir = common::tempdir::TempDir::new("ticket-key-reload");
    let path = dir.0.join("ticket.keys");
    for version in VERSIONS {
        let (client, server) = pair(version);
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let cpath = cstring(path.to_str().unwrap());
            let mut count = 0;
            let code =
                unsafe { siptls_ctx_load_ticket_key_file(server.0, cpath.as_ptr(), &mut count) };
            assert_eq!(code, SIPTLS_OK, "{}", server.last_error());
            count
        };
        assert_eq!(load(KEY_A), 1);
        connect(&client, &server); // its ticket is sealed with A
        assert_eq!(load(KEY_B), 1);
        assert!(
            !both_resumed(&connect(&client, &server)),
            "{version:#x}: key A was replaced, its ticket must not open"
        );
        // That full handshake's ticket is sealed with B; loading the same
        // file again changes nothing.
        assert_eq!(load(KEY_B), 1);
        assert!(
            both_resumed(&connect(&client, &server)),
            "{version:#x}: sealed with B"
        );
        // Back to A alone: B's tickets stop opening at once.
        assert_eq!(load(KEY_A), 1);
        assert!(
            !both_resumed(&connect(&client, &server)),
            "{version:#x}: key B was replaced"
        );
    }
}

// --- Stateful server caches ----------------------------------------------------

#[test]
fn a_server_session_cache_resumes_without_tickets() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        ok(&server, unsafe {
            siptls_ctx_set_session_cache_size(server.0, 64)
        });
        connect(&client, &server);
        assert!(both_resumed(&connect(&client, &server)), "{version:#x}");
        // The cache is the server's own: another server with the same
        // (generated) keys has neither the entries nor the keys.
        let other = Ctx::server();
        set_version(&other, version);
        ok(&other, unsafe {
            siptls_ctx_set_session_cache_size(other.0, 64)
        });
        assert!(!both_resumed(&connect(&client, &other)));
    }
}

/// A gateway store: a map behind the C callbacks, counting calls, and able
/// to misbehave.
#[derive(Default)]
struct Store {
    map: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    puts: AtomicUsize,
    gets: AtomicUsize,
    /// 0: behave; 1: return garbage; 2: claim a value longer than the buffer.
    mischief: AtomicUsize,
}

unsafe extern "C" fn store_put(
    ud: *mut c_void,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> bool {
    let store = unsafe { &*(ud as *const Store) };
    store.puts.fetch_add(1, Ordering::SeqCst);
    let (key, value) = unsafe {
        (
            std::slice::from_raw_parts(key, key_len),
            std::slice::from_raw_parts(value, value_len),
        )
    };
    store
        .map
        .lock()
        .unwrap()
        .insert(key.to_vec(), value.to_vec());
    true
}

unsafe extern "C" fn store_get(
    ud: *mut c_void,
    key: *const u8,
    key_len: usize,
    take: bool,
    buf: *mut u8,
    buf_len: usize,
) -> usize {
    let store = unsafe { &*(ud as *const Store) };
    store.gets.fetch_add(1, Ordering::SeqCst);
    let key = unsafe { std::slice::from_raw_parts(key, key_len) };
    let mut map = store.map.lock().unwrap();
    let Some(value) = (if take {
        map.remove(key)
    } else {
        map.get(key).cloned()
    }) else {
        return 0;
    };
    let buf = unsafe { std::slice::from_raw_parts_mut(buf, buf_len) };
    match store.mischief.load(Ordering::SeqCst) {
        1 => {
            for (i, b) in buf[..value.len()].iter_mut().enumerate() {
                *b = (i * 7) as u8;
            }
            value.len()
        }
        2 => buf_len + 1,
        _ => {
            buf[..value.len()].copy_from_slice(&value);
            value.len()
        }
    }
}

fn attach_store(server: &Ctx, store: &Store) {
    let c_store = siptls_session_store {
        struct_size: std::mem::size_of::<siptls_session_store>() as u32,
        userdata: store as *const Store as *mut _,
        put: Some(store_put),
        get: Some(store_get),
    };
    ok(server, unsafe {
        siptls_ctx_set_session_store(server.0, &c_store)
    });
}

#[test]
fn a_gateway_store_shared_by_two_servers_resumes_and_never_sees_secrets() {
    for version in VERSIONS {
        let store = Store::default();
        let client = Ctx::client();
        set_version(&client, version);
        let node = || {
            let server = Ctx::server();
            set_version(&server, version);
            assert_eq!(set_keys(&server, KEY_A).0, SIPTLS_OK);
            attach_store(&server, &store);
            server
        };
        let (a, b) = (node(), node());
        connect(&client, &a);
        assert!(
            store.puts.load(Ordering::SeqCst) >= 1,
            "{version:#x}: the store was used"
        );
        assert!(both_resumed(&connect(&client, &b)), "{version:#x}");
        assert!(store.gets.load(Ordering::SeqCst) >= 1);
        // What the store holds is sealed: no certificate in the clear.
        let leaf = &pki().client.cert_der;
        for value in store.map.lock().unwrap().values() {
            assert!(
                !value.windows(leaf.len()).any(|w| w == &leaf[..]),
                "a sealed value"
            );
        }
    }
}

#[test]
fn a_store_returning_garbage_or_too_much_costs_a_full_handshake() {
    for version in VERSIONS {
        for mischief in [1, 2] {
            let store = Store::default();
            let (client, server) = pair(version);
            attach_store(&server, &store);
            connect(&client, &server);
            store.mischief.store(mischief, Ordering::SeqCst);
            let infos = connect(&client, &server);
            assert!(!both_resumed(&infos), "{version:#x} mischief {mischief}");
            assert_eq!(
                infos.1.verify_status,
                siptls_verify_status::SIPTLS_VERIFY_OK
            );
        }
    }
}

#[test]
fn a_session_store_needs_both_callbacks_and_a_server() {
    let server = Ctx::server();
    let mut c_store = siptls_session_store {
        struct_size: std::mem::size_of::<siptls_session_store>() as u32,
        userdata: null_mut(),
        put: Some(store_put),
        get: None,
    };
    assert_eq!(
        unsafe { siptls_ctx_set_session_store(server.0, &c_store) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    c_store.get = Some(store_get);
    let client = Ctx::client();
    assert_eq!(
        unsafe { siptls_ctx_set_session_store(client.0, &c_store) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    ok(&server, unsafe {
        siptls_ctx_set_session_store(server.0, std::ptr::null())
    });
}

#[test]
fn a_server_with_a_new_certificate_shows_it_in_a_full_handshake() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        let renewed = pki().root.sip_leaf(SERVER_NAME);
        ok(
            &server,
            server.set_identity(&renewed.cert_pem, &renewed.key_pem),
        );
        let seen = Recorder::attach(&client, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
        assert!(!both_resumed(&connect(&client, &server)), "{version:#x}");
        assert_eq!(seen.reports().pop().unwrap().leaf, renewed.cert_der);
    }
}

// --- Tampered tickets on the wire ---------------------------------------------

/// A ClientHello record cut into its parts, to put another ticket in.
struct Hello {
    /// Everything from the client version through the compression methods.
    head: Vec<u8>,
    extensions: Vec<(u16, Vec<u8>)>,
}

const SESSION_TICKET: u16 = 35;
const PRE_SHARED_KEY: u16 = 41;

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

impl Hello {
    fn parse(record: &[u8]) -> Hello {
        assert_eq!((record[0], record[5]), (0x16, 0x01), "a ClientHello record");
        let body = &record[9..];
        let mut at = 2 + 32;
        at += 1 + usize::from(body[at]);
        at += 2 + u16_at(body, at);
        at += 1 + usize::from(body[at]);
        let head = body[..at].to_vec();
        let end = at + 2 + u16_at(body, at);
        at += 2;
        let mut extensions = Vec::new();
        while at < end {
            let (kind, len) = (u16_at(body, at) as u16, u16_at(body, at + 2));
            extensions.push((kind, body[at + 4..at + 4 + len].to_vec()));
            at += 4 + len;
        }
        Hello { head, extensions }
    }

    fn record(&self) -> Vec<u8> {
        let mut ext = Vec::new();
        for (kind, data) in &self.extensions {
            ext.extend_from_slice(&kind.to_be_bytes());
            ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
            ext.extend_from_slice(data);
        }
        let mut body = self.head.clone();
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut handshake = vec![0x01];
        handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        handshake.extend_from_slice(&body);
        // A record holds at most 2^14 bytes; a larger hello takes several.
        let mut records = Vec::new();
        for fragment in handshake.chunks(1 << 14) {
            records.extend_from_slice(&[0x16, 0x03, 0x01]);
            records.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
            records.extend_from_slice(fragment);
        }
        records
    }

    fn extension(&mut self, kind: u16) -> &mut Vec<u8> {
        &mut self
            .extensions
            .iter_mut()
            .find(|(k, _)| *k == kind)
            .unwrap_or_else(|| panic!("no extension {kind} in the ClientHello"))
            .1
    }

    /// The ticket the client offers.
    fn ticket(&mut self, version: u16) -> Vec<u8> {
        if version == SIPTLS_TLS12 {
            return self.extension(SESSION_TICKET).clone();
        }
        let psk = self.extension(PRE_SHARED_KEY);
        let len = u16_at(psk, 2);
        psk[4..4 + len].to_vec()
    }

    /// Offers `ticket` instead (TLS 1.3: as the one PSK identity).
    fn set_ticket(&mut self, version: u16, ticket: &[u8]) {
        if version == SIPTLS_TLS12 {
            *self.extension(SESSION_TICKET) = ticket.to_vec();
            return;
        }
        self.set_psk_identities(&[ticket]);
    }

    /// Offers `tickets` as the PSK identities, each with the first one's
    /// age and binder: the server checks a binder only for a ticket it
    /// opened.
    fn set_psk_identities(&mut self, tickets: &[&[u8]]) {
        let psk = self.extension(PRE_SHARED_KEY);
        let identities_len = u16_at(psk, 0);
        let first_len = u16_at(psk, 2);
        let age = psk[4 + first_len..8 + first_len].to_vec();
        let binders = &psk[2 + identities_len + 2..];
        let binder = binders[..1 + usize::from(binders[0])].to_vec();
        let mut identities = Vec::new();
        for ticket in tickets {
            identities.extend_from_slice(&(ticket.len() as u16).to_be_bytes());
            identities.extend_from_slice(ticket);
            identities.extend_from_slice(&age);
        }
        let binders = binder.repeat(tickets.len());
        let mut data = (identities.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&identities);
        data.extend_from_slice(&(binders.len() as u16).to_be_bytes());
        data.extend_from_slice(&binders);
        *psk = data;
    }
}

/// Whether the server's first flight resumes: TLS 1.2 sends no Certificate
/// (its first flight is short and holds no certificate), TLS 1.3 selects a
/// pre-shared key in its ServerHello.
fn server_resumes(version: u16, flight: &[u8]) -> bool {
    if version == SIPTLS_TLS12 {
        let cert = &pki().server.cert_der;
        return !flight.windows(cert.len()).any(|w| w == &cert[..]);
    }
    let hello = &flight[9..];
    let mut at = 2 + 32;
    at += 1 + usize::from(hello[at]);
    at += 2 + 1;
    let end = at + 2 + u16_at(hello, at);
    at += 2;
    while at < end {
        if u16_at(hello, at) == usize::from(PRE_SHARED_KEY) {
            return true;
        }
        at += 4 + u16_at(hello, at + 2);
    }
    false
}

#[test]
fn tampered_truncated_foreign_and_other_peers_tickets_never_resume() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        // Another server's ticket (other keys), and another client's ticket
        // from this server.
        let (other_client, other_server) = pair(version);
        connect(&other_client, &other_server);
        let other_peer = Ctx::client();
        set_version(&other_peer, version);
        let gw_c = pki().root.sip_leaf("gw-c.example.test");
        ok(
            &other_peer,
            other_peer.set_identity(&gw_c.cert_pem, &gw_c.key_pem),
        );
        connect(&other_peer, &server);
        let hello_of = |ctx: &Ctx| Hello::parse(&Sess::client(ctx).take_all());
        let foreign = hello_of(&other_client).ticket(version);
        let other_peers = hello_of(&other_peer).ticket(version);

        let mut original = hello_of(&client);
        let ticket = original.ticket(version);
        // The untouched ClientHello resumes: the control.
        let s = Sess::server(&server);
        assert_eq!(s.feed(&original.record()).0, SIPTLS_OK);
        assert!(
            server_resumes(version, &s.take_all()),
            "{version:#x}: control"
        );

        let flipped = |at: usize| {
            let mut t = ticket.clone();
            t[at] ^= 0x40;
            t
        };
        let mut variants = vec![
            ("key name changed", flipped(0)),
            ("nonce changed", flipped(20)),
            ("ciphertext changed", flipped(ticket.len() / 2)),
            ("tag changed", flipped(ticket.len() - 1)),
            ("truncated to half", ticket[..ticket.len() / 2].to_vec()),
            ("truncated by one byte", ticket[..ticket.len() - 1].to_vec()),
            ("one byte", ticket[..1].to_vec()),
            ("extended", [&ticket[..], &[0u8; 100]].concat()),
            ("reordered halves", {
                let (a, b) = ticket.split_at(ticket.len() / 2);
                [b, a].concat()
            }),
            ("another server's", foreign.clone()),
        ];
        if version == SIPTLS_TLS13 {
            // It opens, but this client cannot prove it holds its secret.
            variants.push(("another client's", other_peers.clone()));
        }
        for (what, bad) in variants {
            original.set_ticket(version, &bad);
            let s = Sess::server(&server);
            match s.feed(&original.record()).0 {
                SIPTLS_OK => {
                    let flight = s.take_all();
                    assert!(!server_resumes(version, &flight), "{version:#x}: {what}");
                }
                // A ticket it opened with a binder that does not match: refused outright.
                code => {
                    assert_eq!(code, SIPTLS_ERR_TLS, "{version:#x}: {what}");
                    assert_eq!(what, "another client's");
                }
            }
            assert_ne!(s.info().handshake_kind, SIPTLS_HANDSHAKE_RESUMED);
        }
    }
}

#[test]
fn a_session_with_a_client_certificate_does_not_resume_once_client_auth_is_off() {
    for version in VERSIONS {
        let (client, server) = pair(version);
        connect(&client, &server);
        ok(&server, unsafe {
            siptls_ctx_set_client_auth(server.0, siptls_client_auth::SIPTLS_CLIENT_AUTH_OFF as u32)
        });
        // The stored chain would be shown with nothing checking it.
        let infos = connect(&client, &server);
        assert!(!both_resumed(&infos), "{version:#x}");
    }
}

/// The stored chains the server checked again for one ClientHello (each
/// one that fails says so in a log record), and whether it said that it
/// left the others unchecked.
fn chain_checks(server: &Ctx, log: &Log, hello: &Hello) -> (usize, bool) {
    let s = Sess::server(server);
    assert_eq!(s.feed(&hello.record()).0, SIPTLS_OK);
    assert!(!server_resumes(SIPTLS_TLS13, &s.take_all()));
    let refused = Log::of(&log.take(), siptls_log_event::SIPTLS_LOG_RESUMPTION_REFUSED);
    let checked = refused
        .iter()
        .filter(|r| {
            r.message
                .starts_with("A stored session was not resumed: its peer chain fails")
        })
        .count();
    let others = refused
        .iter()
        .any(|r| r.message.contains("the others were not checked"));
    (checked, others)
}

#[test]
fn a_client_hello_repeating_a_ticket_costs_one_chain_check() {
    let (client, server) = pair(SIPTLS_TLS13);
    connect(&client, &server);
    let (other_client, other_server) = pair(SIPTLS_TLS13);
    connect(&other_client, &other_server);
    let hello_of = |ctx: &Ctx| Hello::parse(&Sess::client(ctx).take_all());
    let foreign = hello_of(&other_client).ticket(SIPTLS_TLS13);
    let mut hello = hello_of(&client);
    let ticket = hello.ticket(SIPTLS_TLS13);
    // The stored chain fails now: the server trusts another CA only.
    let other_ca = Authority::root("siptls Other Root CA")
        .issued()
        .cert_pem
        .clone();
    let mut count = 0;
    ok(&server, unsafe {
        siptls_ctx_replace_trust_list(server.0, other_ca.as_ptr(), other_ca.len(), 1, &mut count)
    });
    let log = Log::attach(&server, siptls_log_level::SIPTLS_LOG_INFO);
    // As many copies as a ClientHello holds (64 KiB, 2 KiB of it for the
    // rest), up to 50: an identity, its age and a SHA-256 binder each.
    let copies = ((0xffff - 2048) / (2 + ticket.len() + 4 + 33)).min(50);
    assert!(copies >= 20, "a ticket of {} bytes", ticket.len());
    let repeated = |n: usize| vec![&ticket[..]; n];
    let after_foreign = [vec![&foreign[..]], repeated(copies - 1)].concat();
    for (what, tickets, expected) in [
        ("another server's ticket", vec![&foreign[..]], (0, false)),
        ("the ticket once", repeated(1), (1, false)),
        ("the ticket twice", repeated(2), (1, true)),
        ("the ticket repeated", repeated(copies), (1, true)),
        (
            "another server's ticket, then the ticket repeated",
            after_foreign,
            (1, true),
        ),
    ] {
        hello.set_psk_identities(&tickets);
        let found = chain_checks(&server, &log, &hello);
        assert_eq!(found, expected, "{what}: {} PSK identities", tickets.len());
    }
}
