//! Configuration binds when it is used, through the C ABI, TLS 1.2 and 1.3:
//! a server binds identity, suites and client authentication when its
//! ClientHello arrives; every verification (trust, CRLs) reads the policy in
//! force when the peer's certificate arrives; no plaintext reaches the
//! caller before the peer is accepted; the generation counts real changes,
//! and a client's stored sessions survive the changes that cannot make them
//! unsafe.

mod common;
use common::*;

use std::ffi::{c_void, CStr};
use std::sync::{Mutex, OnceLock};

use siptls_certgen::{Authority, Issued, LeafSpec};
use siptls_handshake_kind::*;

const VERSIONS: [u16; 2] = [SIPTLS_TLS12, SIPTLS_TLS13];
const BOTH_OK: PumpResult = PumpResult {
    client: SIPTLS_OK,
    server: SIPTLS_OK,
};
const CLIENT_SERIAL: u64 = 0x5117_0001;
const SERVER_SERIAL: u64 = 0x5117_0002;

struct Fixture {
    root: Authority,
    /// A second CA: trusting only it drops the test root.
    other_root: Authority,
    client: Issued,
    server: Issued,
    /// Another certificate for the server's name, to swap identities.
    server_renewed: Issued,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Authority::root("siptls Binding Root CA");
        let leaf = |name: &str, serial: Option<u64>| {
            root.leaf(&LeafSpec {
                serial,
                ..LeafSpec::sip(name)
            })
        };
        Fixture {
            other_root: Authority::root("siptls Binding Other CA"),
            client: leaf(CLIENT_NAME, Some(CLIENT_SERIAL)),
            server: leaf(SERVER_NAME, Some(SERVER_SERIAL)),
            server_renewed: leaf(SERVER_NAME, None),
            root,
        }
    })
}

fn ok(ctx: &Ctx, code: siptls_result) {
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
}

fn contexts(version: u16) -> (Ctx, Ctx) {
    let f = fixture();
    let client = Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, &f.client, &f.root);
    let server = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &f.server, &f.root);
    for ctx in [&client, &server] {
        ok(ctx, unsafe {
            siptls_ctx_set_versions(ctx.0, version, version)
        });
    }
    (client, server)
}

fn add_crl(ctx: &Ctx, pem: &str) {
    let mut added = 0;
    ok(ctx, unsafe {
        siptls_ctx_add_crl(ctx.0, pem.as_ptr(), pem.len(), &mut added)
    });
}

fn set_client_auth(ctx: &Ctx, mode: u32) {
    ok(ctx, unsafe { siptls_ctx_set_client_auth(ctx.0, mode) });
}

/// A change made while a session waits, and what it must do to the handshake.
struct Change {
    name: &'static str,
    apply: fn(&Ctx, &Ctx),
    /// The side that fails (`None`: the handshake succeeds) and its status.
    fails: Option<(siptls_role, siptls_verify_status)>,
}

fn revoke_client(_: &Ctx, server: &Ctx) {
    add_crl(server, &fixture().root.crl(&[CLIENT_SERIAL], 7).pem);
}

fn drop_client_ca(_: &Ctx, server: &Ctx) {
    let pem = &fixture().other_root.issued().cert_pem;
    let mut count = 0;
    ok(server, unsafe {
        siptls_ctx_replace_trust_list(server.0, pem.as_ptr(), pem.len(), 1, &mut count)
    });
}

fn remove_trust_entry(_: &Ctx, server: &Ctx) {
    ok(server, unsafe { siptls_ctx_remove_trust(server.0, 1) });
}

fn revoke_server(client: &Ctx, _: &Ctx) {
    add_crl(client, &fixture().root.crl(&[SERVER_SERIAL], 7).pem);
}

/// Changes made after the session was created and before its ClientHello:
/// every one of them applies.
fn before_hello() -> Vec<Change> {
    use siptls_role::*;
    vec![
        Change {
            name: "a CRL revoking the client",
            apply: revoke_client,
            fails: Some((SIPTLS_ROLE_SERVER, SIPTLS_VERIFY_REVOKED)),
        },
        Change {
            name: "a trust replacement without the client's CA",
            apply: drop_client_ca,
            fails: Some((SIPTLS_ROLE_SERVER, SIPTLS_VERIFY_UNKNOWN_CA)),
        },
        Change {
            name: "the client's trust entry removed",
            apply: remove_trust_entry,
            fails: Some((SIPTLS_ROLE_SERVER, SIPTLS_VERIFY_UNKNOWN_CA)),
        },
        Change {
            name: "a CRL revoking the server, loaded by the client",
            apply: revoke_server,
            fails: Some((SIPTLS_ROLE_CLIENT, SIPTLS_VERIFY_REVOKED)),
        },
    ]
}

/// Runs a handshake between sessions made before `change`, applied after
/// `hello_first` ClientHello bytes reached the server (or before any).
fn handshake_with_change(
    version: u16,
    change: fn(&Ctx, &Ctx),
    hello_first: bool,
) -> (Sess, Sess, PumpResult, Ctx, Ctx) {
    let (client_ctx, server_ctx) = contexts(version);
    let client = Sess::client(&client_ctx);
    let server = Sess::server(&server_ctx);
    if hello_first {
        let hello = client.take_all();
        assert_eq!(server.feed(&hello).0, SIPTLS_OK, "{}", server.last_error());
    }
    change(&client_ctx, &server_ctx);
    let result = pump(&client, &server);
    (client, server, result, client_ctx, server_ctx)
}

fn check_outcome(
    change: &Change,
    version: u16,
    client: &Sess,
    server: &Sess,
    result: PumpResult,
    ctxs: (&Ctx, &Ctx),
) {
    let what = format!("{} (TLS {version:#06x})", change.name);
    match change.fails {
        None => assert_eq!(
            result,
            BOTH_OK,
            "{what}: {} / {}",
            client.last_error(),
            server.last_error()
        ),
        Some((role, status)) => {
            let (failed, ctx) = match role {
                siptls_role::SIPTLS_ROLE_CLIENT => (client, ctxs.0),
                siptls_role::SIPTLS_ROLE_SERVER => (server, ctxs.1),
            };
            let info = failed.info();
            assert!(info.failed, "{what}: the handshake must fail");
            assert_eq!(
                info.verify_status,
                status,
                "{what}: {}",
                failed.last_error()
            );
            assert_eq!(
                info.generation,
                ctx.generation(),
                "{what}: the generation that decided is the changed one"
            );
        }
    }
}

#[test]
fn a_change_after_the_session_was_made_applies_to_its_handshake() {
    for version in VERSIONS {
        for change in before_hello() {
            let (c, s, result, cc, sc) = handshake_with_change(version, change.apply, false);
            check_outcome(&change, version, &c, &s, result, (&cc, &sc));
        }
    }
}

#[test]
fn trust_and_crl_changes_after_the_client_hello_apply_at_verification() {
    for version in VERSIONS {
        for change in before_hello() {
            let (c, s, result, cc, sc) = handshake_with_change(version, change.apply, true);
            check_outcome(&change, version, &c, &s, result, (&cc, &sc));
        }
    }
}

#[test]
fn with_no_change_the_same_handshake_succeeds() {
    for version in VERSIONS {
        let (c, s, result, _cc, _sc) = handshake_with_change(version, |_, _| {}, false);
        assert_eq!(result, BOTH_OK, "{} / {}", c.last_error(), s.last_error());
        assert_eq!(s.info().verify_status, SIPTLS_VERIFY_OK);
    }
}

/// An anonymous client against a server whose client authentication is off
/// when the session is made; `required_after_hello` decides when it turns
/// to required.
fn client_auth_turned_on(version: u16, hello_first: bool) -> (Sess, Sess, PumpResult, Ctx) {
    let f = fixture();
    let client_ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    ok(
        &client_ctx,
        client_ctx.trust(1, f.root.issued().cert_pem.as_bytes()),
    );
    let server_ctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &f.server, &f.root);
    for ctx in [&client_ctx, &server_ctx] {
        ok(ctx, unsafe {
            siptls_ctx_set_versions(ctx.0, version, version)
        });
    }
    set_client_auth(
        &server_ctx,
        siptls_client_auth::SIPTLS_CLIENT_AUTH_OFF as u32,
    );
    let client = Sess::client(&client_ctx);
    let server = Sess::server(&server_ctx);
    if hello_first {
        let hello = client.take_all();
        assert_eq!(server.feed(&hello).0, SIPTLS_OK);
    }
    set_client_auth(
        &server_ctx,
        siptls_client_auth::SIPTLS_CLIENT_AUTH_REQUIRED as u32,
    );
    let result = pump(&client, &server);
    (client, server, result, server_ctx)
}

#[test]
fn client_authentication_binds_at_the_client_hello() {
    for version in VERSIONS {
        let (_c, s, result, _ctx) = client_auth_turned_on(version, false);
        assert_ne!(
            result.server, SIPTLS_OK,
            "required before the ClientHello: refused"
        );
        assert_eq!(s.info().verify_status, SIPTLS_VERIFY_NO_CERTIFICATE);

        let (c, s, result, _ctx) = client_auth_turned_on(version, true);
        assert_eq!(
            result,
            BOTH_OK,
            "required after the ClientHello: the handshake that was asked nothing completes ({} / {})",
            c.last_error(),
            s.last_error()
        );
        assert!(!s.info().verified, "no client certificate was asked for");
    }
}

/// The certificate the client was shown.
struct LeafSeen(Mutex<Vec<u8>>);

unsafe extern "C" fn remember_leaf(
    userdata: *mut c_void,
    report: *const siptls_verify_report,
) -> u32 {
    let seen = unsafe { &*(userdata as *const LeafSeen) };
    let r = unsafe { &*report };
    *seen.0.lock().unwrap() =
        unsafe { std::slice::from_raw_parts(r.leaf_der, r.leaf_der_len) }.to_vec();
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

#[test]
fn a_new_server_identity_and_the_128_bit_profile_bind_at_the_client_hello() {
    let f = fixture();
    for version in VERSIONS {
        for hello_first in [false, true] {
            let (client_ctx, server_ctx) = contexts(version);
            let seen = Box::new(LeafSeen(Mutex::new(Vec::new())));
            ok(&client_ctx, unsafe {
                siptls_ctx_set_verify_callback(
                    client_ctx.0,
                    Some(remember_leaf),
                    &*seen as *const LeafSeen as *mut c_void,
                )
            });
            let client = Sess::client(&client_ctx);
            let server = Sess::server(&server_ctx);
            if hello_first {
                let hello = client.take_all();
                assert_eq!(server.feed(&hello).0, SIPTLS_OK);
            }
            ok(
                &server_ctx,
                server_ctx.set_identity(&f.server_renewed.cert_pem, &f.server_renewed.key_pem),
            );
            ok(&server_ctx, unsafe {
                siptls_ctx_set_profile(server_ctx.0, siptls_profile::SIPTLS_PROFILE_128BIT as u32)
            });
            assert_handshake_ok(&client, &server);
            let shown = seen.0.lock().unwrap().clone();
            let suite = client.info().cipher_suite;
            let aes128 = [0x1301, 0xc02b, 0xc02f].contains(&suite);
            if hello_first {
                assert_eq!(
                    shown, f.server.cert_der,
                    "the identity in force at the ClientHello serves"
                );
                assert!(
                    !aes128,
                    "suite {suite:#06x}: the ClientHello met the default profile"
                );
            } else {
                assert_eq!(
                    shown, f.server_renewed.cert_der,
                    "the identity set before the ClientHello serves"
                );
                assert!(
                    aes128,
                    "suite {suite:#06x}: the 128-bit profile set before the ClientHello applies"
                );
            }
        }
    }
}

// ---- no plaintext before the verdict ----

/// Accepts full verifications and rejects resumed ones.
unsafe extern "C" fn reject_resumed(_: *mut c_void, report: *const siptls_verify_report) -> u32 {
    if unsafe { &*report }.resumed {
        siptls_verify_decision::SIPTLS_VERIFY_REJECT as u32
    } else {
        siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
    }
}

/// A TLS record of application data that does not decrypt.
const CORRUPT_RECORD: [u8; 37] = {
    let mut r = [0x5a; 37];
    r[0] = 0x17;
    r[1] = 0x03;
    r[2] = 0x03;
    r[3] = 0x00;
    r[4] = 32;
    r
};

/// A server whose verify callback rejects resumed reports gets the
/// client's first request in the same flight as the client's Finished.
fn resumed_flight_with_data(version: u16, corrupt_after: bool) -> (Sess, Ctx, Ctx) {
    let (client_ctx, server_ctx) = contexts(version);
    {
        let c = Sess::client(&client_ctx);
        let s = Sess::server(&server_ctx);
        assert_handshake_ok(&c, &s);
        // TLS 1.3 tickets arrive after the handshake.
        assert_eq!(c.write(b"x").0, SIPTLS_OK);
        pump(&c, &s);
    }
    ok(&server_ctx, unsafe {
        siptls_ctx_set_verify_callback(server_ctx.0, Some(reject_resumed), std::ptr::null_mut())
    });
    let client = Sess::client(&client_ctx);
    let server = Sess::server(&server_ctx);
    // ClientHello, then the server's flight; the client is done after it.
    assert_eq!(server.feed(&client.take_all()).0, SIPTLS_OK);
    assert_eq!(
        client.feed(&server.take_all()).0,
        SIPTLS_OK,
        "{}",
        client.last_error()
    );
    assert!(!client.info().handshaking);
    assert_eq!(client.info().handshake_kind, SIPTLS_HANDSHAKE_RESUMED);
    assert_eq!(
        client.write(b"INVITE sip:bob@example.test SIP/2.0\r\n").0,
        SIPTLS_OK
    );
    let mut flight = client.take_all();
    if corrupt_after {
        flight.extend_from_slice(&CORRUPT_RECORD);
    }
    let _ = server.feed(&flight);
    (server, client_ctx, server_ctx)
}

#[test]
fn a_refused_resumption_delivers_none_of_the_peers_first_flight() {
    for version in VERSIONS {
        for corrupt_after in [false, true] {
            let (server, _cc, _sc) = resumed_flight_with_data(version, corrupt_after);
            let info = server.info();
            assert!(
                info.failed,
                "TLS {version:#06x}, corrupt {corrupt_after}: the session must fail"
            );
            let (code, data) = server.read_all();
            assert!(data.is_empty(), "TLS {version:#06x}, corrupt {corrupt_after}: {} bytes of a refused peer were delivered", data.len());
            assert_ne!(code, SIPTLS_OK);
            if corrupt_after {
                assert!(!info.verified, "the callback was never asked");
            } else {
                assert_eq!(info.verify_status, SIPTLS_VERIFY_REJECTED_BY_CALLBACK);
            }
        }
    }
}

#[test]
fn data_after_an_accepted_full_handshake_is_delivered_before_a_later_failure() {
    for version in VERSIONS {
        let (client_ctx, server_ctx) = contexts(version);
        let client = Sess::client(&client_ctx);
        let server = Sess::server(&server_ctx);
        assert_eq!(server.feed(&client.take_all()).0, SIPTLS_OK);
        assert_eq!(client.feed(&server.take_all()).0, SIPTLS_OK);
        if version == SIPTLS_TLS12 {
            assert_eq!(server.feed(&client.take_all()).0, SIPTLS_OK);
            assert_eq!(client.feed(&server.take_all()).0, SIPTLS_OK);
        }
        assert!(!client.info().handshaking);
        assert_eq!(client.write(b"OPTIONS").0, SIPTLS_OK);
        let mut flight = client.take_all();
        flight.extend_from_slice(&CORRUPT_RECORD);
        let _ = server.feed(&flight);
        assert!(server.info().failed);
        let (code, data) = server.read_all();
        assert_eq!(
            data, b"OPTIONS",
            "TLS {version:#06x}: accepted before the failure"
        );
        assert_ne!(code, SIPTLS_OK);
    }
}

// ---- generations and stored sessions ----

unsafe extern "C" fn accept_all(_: *mut c_void, _: *const siptls_verify_report) -> u32 {
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

struct Records(Mutex<Vec<(siptls_log_event, String)>>);

unsafe extern "C" fn keep_record(userdata: *mut c_void, record: *const siptls_log_record) {
    let records = unsafe { &*(userdata as *const Records) };
    let r = unsafe { &*record };
    let message = unsafe { CStr::from_ptr(r.message) }
        .to_string_lossy()
        .into_owned();
    records.0.lock().unwrap().push((r.event, message));
}

#[test]
fn setting_what_is_already_set_is_no_new_generation() {
    let f = fixture();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(ctx.generation(), 0);
    // The defaults, set explicitly.
    ok(&ctx, unsafe { siptls_ctx_set_max_ca_depth(ctx.0, 4) });
    ok(&ctx, unsafe {
        siptls_ctx_set_versions(ctx.0, SIPTLS_TLS12, SIPTLS_TLS13)
    });
    ok(&ctx, unsafe {
        siptls_ctx_set_log_callback(ctx.0, None, 3, std::ptr::null_mut())
    });
    set_client_auth(&ctx, siptls_client_auth::SIPTLS_CLIENT_AUTH_REQUIRED as u32);
    assert_eq!(ctx.generation(), 0, "the defaults set again change nothing");

    ok(
        &ctx,
        ctx.set_identity(&f.server.cert_pem, &f.server.key_pem),
    );
    ok(&ctx, ctx.trust(1, f.root.issued().cert_pem.as_bytes()));
    assert_eq!(
        ctx.generation(),
        2,
        "an identity and a trust entry: two changes"
    );

    // Each repeated: no change.
    ok(
        &ctx,
        ctx.set_identity(&f.server.cert_pem, &f.server.key_pem),
    );
    let pem = &f.root.issued().cert_pem;
    let mut count = 0;
    ok(&ctx, unsafe {
        siptls_ctx_replace_trust_list(ctx.0, pem.as_ptr(), pem.len(), 1, &mut count)
    });
    assert_eq!(
        ctx.generation(),
        2,
        "the same identity and the same CA list loaded again"
    );

    // The same callback registered twice: one change.
    for _ in 0..2 {
        ok(&ctx, unsafe {
            siptls_ctx_set_verify_callback(ctx.0, Some(accept_all), std::ptr::null_mut())
        });
    }
    assert_eq!(ctx.generation(), 3);
    // Another user data is another registration.
    ok(&ctx, unsafe {
        siptls_ctx_set_verify_callback(ctx.0, Some(accept_all), 8 as *mut c_void)
    });
    assert_eq!(ctx.generation(), 4);
    ok(&ctx, unsafe { siptls_ctx_set_max_ca_depth(ctx.0, 3) });
    assert_eq!(ctx.generation(), 5, "a real change counts once");
    assert_eq!(ctx.counters().config_applied, 5);
}

fn resumed_once_more(client_ctx: &Ctx, server_ctx: &Ctx) -> siptls_handshake_kind {
    let c = Sess::client(client_ctx);
    let s = Sess::server(server_ctx);
    assert_handshake_ok(&c, &s);
    assert_eq!(c.write(b"x").0, SIPTLS_OK);
    pump(&c, &s);
    c.info().handshake_kind
}

#[test]
fn stored_sessions_survive_changes_that_cannot_make_them_unsafe() {
    let f = fixture();
    for version in VERSIONS {
        let (client_ctx, server_ctx) = contexts(version);
        let records = Box::new(Records(Mutex::new(Vec::new())));
        ok(&client_ctx, unsafe {
            siptls_ctx_set_log_callback(
                client_ctx.0,
                Some(keep_record),
                3,
                &*records as *const Records as *mut c_void,
            )
        });
        resumed_once_more(&client_ctx, &server_ctx);
        let before = client_ctx.generation();
        // Trust grows, a CRL arrives, the CA depth and the log level change.
        ok(
            &client_ctx,
            client_ctx.trust(2, f.other_root.issued().cert_pem.as_bytes()),
        );
        add_crl(&client_ctx, &f.root.crl(&[], 3).pem);
        ok(&client_ctx, unsafe {
            siptls_ctx_set_max_ca_depth(client_ctx.0, 3)
        });
        ok(&client_ctx, unsafe {
            siptls_ctx_set_log_callback(
                client_ctx.0,
                Some(keep_record),
                4,
                &*records as *const Records as *mut c_void,
            )
        });
        assert_eq!(client_ctx.generation(), before + 4);
        assert_eq!(
            resumed_once_more(&client_ctx, &server_ctx),
            SIPTLS_HANDSHAKE_RESUMED,
            "TLS {version:#06x}: a stored session is checked again, not dropped"
        );
        assert_eq!(client_ctx.counters().stored_sessions_dropped, 0);

        // A new client identity must drop them: they resume the old one.
        let renewed = f.root.sip_leaf(CLIENT_NAME);
        ok(
            &client_ctx,
            client_ctx.set_identity(&renewed.cert_pem, &renewed.key_pem),
        );
        assert_eq!(client_ctx.counters().stored_sessions_dropped, 1);
        let said = records.0.lock().unwrap().iter().any(|(event, message)| {
            *event == siptls_log_event::SIPTLS_LOG_STORED_SESSIONS_DROPPED
                && message.contains("identities changed")
        });
        assert!(
            said,
            "an INFO record says the stored sessions were dropped and why"
        );
        assert_eq!(
            resumed_once_more(&client_ctx, &server_ctx),
            SIPTLS_HANDSHAKE_FULL
        );
    }
}

#[test]
fn a_stored_session_refused_by_a_check_is_counted() {
    let f = fixture();
    for version in VERSIONS {
        let (client_ctx, server_ctx) = contexts(version);
        resumed_once_more(&client_ctx, &server_ctx);
        assert_eq!(client_ctx.counters().resumption_refused, 0);
        // The server's certificate is revoked: the stored session may not resume.
        add_crl(&client_ctx, &f.root.crl(&[SERVER_SERIAL], 4).pem);
        let c = Sess::client(&client_ctx);
        let s = Sess::server(&server_ctx);
        pump(&c, &s);
        assert!(c.info().failed);
        assert!(
            client_ctx.counters().resumption_refused >= 1,
            "TLS {version:#06x}"
        );
    }
}

/// A TLS 1.3 server that sends its first message right after its Finished
/// (half-RTT data), as a peer may: rustls itself, outside siptls.
fn half_rtt_server() -> rustls::ServerConnection {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let f = fixture();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(f.server.cert_der.clone())],
                PrivateKeyDer::try_from(f.server.key_der.clone()).unwrap(),
            )
            .unwrap();
        config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
        config.send_half_rtt_data = true;
        Arc::new(config)
    });
    rustls::ServerConnection::new(config.clone()).unwrap()
}

/// Everything the client has to send, into the rustls server.
fn client_to_rustls(client: &Sess, server: &mut rustls::ServerConnection) {
    let bytes = client.take_all();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        server.read_tls(&mut rest).unwrap();
        server.process_new_packets().unwrap();
    }
}

/// Everything the rustls server has to send, as one flight to the client.
fn rustls_flight(server: &mut rustls::ServerConnection) -> Vec<u8> {
    let mut out = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut out).unwrap();
    }
    out
}

#[test]
fn a_client_refusing_a_resumption_reads_none_of_the_servers_half_rtt_data() {
    use std::io::Write;
    let f = fixture();
    let client_ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    ok(
        &client_ctx,
        client_ctx.trust(1, f.root.issued().cert_pem.as_bytes()),
    );
    ok(&client_ctx, unsafe {
        siptls_ctx_set_verify_callback(client_ctx.0, Some(reject_resumed), std::ptr::null_mut())
    });
    // A full handshake leaves a ticket with the client.
    let mut server = half_rtt_server();
    let client = Sess::client(&client_ctx);
    client_to_rustls(&client, &mut server);
    assert_eq!(
        client.feed(&rustls_flight(&mut server)).0,
        SIPTLS_OK,
        "{}",
        client.last_error()
    );
    client_to_rustls(&client, &mut server);
    assert_eq!(client.feed(&rustls_flight(&mut server)).0, SIPTLS_OK);
    assert_eq!(client.info().handshake_kind, SIPTLS_HANDSHAKE_FULL);

    for corrupt_after in [false, true] {
        let mut server = half_rtt_server();
        let client = Sess::client(&client_ctx);
        client_to_rustls(&client, &mut server);
        server
            .writer()
            .write_all(b"NOTIFY sip:gw-a.example.test SIP/2.0\r\n")
            .unwrap();
        let mut flight = rustls_flight(&mut server);
        assert!(
            server.is_handshaking(),
            "the data left before the client's Finished"
        );
        if corrupt_after {
            flight.extend_from_slice(&CORRUPT_RECORD);
        }
        let _ = client.feed(&flight);
        let info = client.info();
        assert!(info.failed, "corrupt {corrupt_after}: the client must fail");
        if !corrupt_after {
            assert_eq!(info.handshake_kind, SIPTLS_HANDSHAKE_RESUMED);
            assert_eq!(info.verify_status, SIPTLS_VERIFY_REJECTED_BY_CALLBACK);
        }
        let (code, data) = client.read_all();
        assert!(
            data.is_empty(),
            "corrupt {corrupt_after}: {} bytes of a refused server were delivered",
            data.len()
        );
        assert_ne!(code, SIPTLS_OK);
    }
}
