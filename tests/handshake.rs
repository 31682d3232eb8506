//! Mutual TLS through the exported C functions: handshakes for TLS 1.2 and
//! 1.3, data both ways, close_notify, byte-at-a-time pumping, reports.

mod common;
use common::*;

fn limit_version(ctx: &Ctx, version: u16) {
    assert_eq!(
        unsafe { siptls_ctx_set_versions(ctx.0, version, version) },
        SIPTLS_OK
    );
}

fn exchange(client: &Sess, server: &Sess) {
    let request =
        b"OPTIONS sip:gw-b.example.test SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(client.write(request), (SIPTLS_OK, request.len()));
    assert_eq!(
        pump(client, server),
        PumpResult {
            client: SIPTLS_OK,
            server: SIPTLS_OK
        }
    );
    let (code, got) = server.read_all();
    assert_eq!((code, got.as_slice()), (SIPTLS_AGAIN, &request[..]));

    let response = b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(server.write(response), (SIPTLS_OK, response.len()));
    pump(client, server);
    let (code, got) = client.read_all();
    assert_eq!((code, got.as_slice()), (SIPTLS_AGAIN, &response[..]));
}

fn mutual_handshake(version: u16) {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    limit_version(&cctx, version);
    let (client_reports, server_reports) = (
        Recorder::attach(&cctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT),
        Recorder::attach(&sctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT),
    );
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);

    for (sess, role) in [
        (&client, siptls_role::SIPTLS_ROLE_CLIENT),
        (&server, siptls_role::SIPTLS_ROLE_SERVER),
    ] {
        let info = sess.info();
        assert_eq!(info.role, role);
        assert_eq!(info.protocol_version, version);
        assert_ne!(info.cipher_suite, 0);
        let name = unsafe { std::ffi::CStr::from_ptr(siptls_cipher_suite_str(info.cipher_suite)) };
        let prefix = if version == SIPTLS_TLS13 {
            "TLS13_"
        } else {
            "TLS_ECDHE_"
        };
        assert!(name.to_str().unwrap().starts_with(prefix), "{name:?}");
        assert!(info.verified);
        assert_eq!(
            (info.verify_status, info.trust_id, info.depth),
            (SIPTLS_VERIFY_OK, 1, 1)
        );
        assert_eq!(info.close_state, siptls_close_state::SIPTLS_CLOSE_OPEN);
    }

    // Each side saw exactly one report, naming the trust ID, depth, peer and leaf.
    let p = pki();
    let c = client_reports.reports();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].role, c[0].status, c[0].trust_id, c[0].depth),
        (siptls_role::SIPTLS_ROLE_CLIENT, SIPTLS_VERIFY_OK, 1, 1)
    );
    assert_eq!(c[0].peer_name, SERVER_NAME);
    assert_eq!(c[0].leaf, p.server.cert_der);
    assert!(
        c[0].identities.contains("URI:sip:gw-b.example.test"),
        "{}",
        c[0].identities
    );
    let s = server_reports.reports();
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].role, s[0].status, s[0].trust_id, s[0].depth),
        (siptls_role::SIPTLS_ROLE_SERVER, SIPTLS_VERIFY_OK, 1, 1)
    );
    assert_eq!(s[0].leaf, p.client.cert_der);

    // The peer certificate chain is available as DER.
    let (mut der, mut len) = (std::ptr::null(), 0usize);
    assert_eq!(
        unsafe { siptls_session_get_peer_cert(client.0, 0, &mut der, &mut len) },
        SIPTLS_OK
    );
    assert_eq!(
        unsafe { std::slice::from_raw_parts(der, len) },
        p.server.cert_der.as_slice()
    );
    assert_eq!(
        unsafe { siptls_session_get_peer_cert(client.0, 1, &mut der, &mut len) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );

    exchange(&client, &server);

    // close_notify from the client: the server sees a clean close, answers with its own.
    assert_eq!(client.close(), SIPTLS_OK);
    pump(&client, &server);
    assert_eq!(server.read_all().0, SIPTLS_PEER_CLOSED);
    assert_eq!(
        server.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_CLEAN
    );
    assert_eq!(server.close(), SIPTLS_OK);
    pump(&client, &server);
    assert_eq!(client.read_all().0, SIPTLS_PEER_CLOSED);
    assert_eq!(
        client.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_CLEAN
    );
}

#[test]
fn mutual_tls13() {
    mutual_handshake(SIPTLS_TLS13);
}

#[test]
fn mutual_tls12() {
    mutual_handshake(SIPTLS_TLS12);
}

#[test]
fn one_byte_at_a_time_delivers_identical_bytes() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_eq!(
        pump_chunked(&client, &server, 1),
        PumpResult {
            client: SIPTLS_OK,
            server: SIPTLS_OK
        }
    );
    assert!(!client.info().handshaking && !server.info().handshaking);

    let payload: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut sent = 0;
    let mut received = Vec::new();
    while received.len() < payload.len() {
        if sent < payload.len() {
            // Less than the receiver's plaintext buffer per round, since it is read between rounds.
            let end = payload.len().min(sent + 4000);
            let (code, n) = client.write(&payload[sent..end]);
            assert!(matches!(code, SIPTLS_OK | SIPTLS_AGAIN), "{code:?}");
            sent += n;
        }
        assert_eq!(pump_chunked(&client, &server, 1).server, SIPTLS_OK);
        received.extend(server.read_all().1);
    }
    assert_eq!(received, payload);
}

#[test]
fn transport_end_without_close_notify_is_truncation() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    assert_eq!(unsafe { siptls_session_feed_eof(server.0) }, SIPTLS_OK);
    assert_eq!(server.read_all().0, SIPTLS_ERR_TRUNCATED);
    assert_eq!(
        server.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_TRUNCATED
    );
}

#[test]
fn client_without_certificate_is_refused_when_required() {
    let cctx = Ctx::anonymous_client();
    let sctx = Ctx::server();
    let reports = Recorder::attach(&sctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    let result = pump(&client, &server);
    assert_eq!(
        result.server,
        SIPTLS_ERR_CERT_REJECTED,
        "{}",
        server.last_error()
    );
    assert_eq!(result.client, SIPTLS_ERR_ALERT_RECEIVED);
    assert_eq!(server.info().verify_status, SIPTLS_VERIFY_NO_CERTIFICATE);
    let r = reports.reports();
    assert_eq!((r.len(), r[0].status), (1, SIPTLS_VERIFY_NO_CERTIFICATE));
    // TLS 1.3: certificate_required (116).
    assert_eq!(client.info().alert_received, 116);
}

#[test]
fn optional_client_auth_admits_and_reports_anonymous_clients() {
    let cctx = Ctx::anonymous_client();
    let sctx = Ctx::server();
    assert_eq!(
        unsafe {
            siptls_ctx_set_client_auth(
                sctx.0,
                siptls_client_auth::SIPTLS_CLIENT_AUTH_OPTIONAL as u32,
            )
        },
        SIPTLS_OK
    );
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    let info = server.info();
    assert!(info.verified);
    assert_eq!(
        (info.verify_status, info.trust_id),
        (SIPTLS_VERIFY_NO_CERTIFICATE, SIPTLS_TRUST_ID_NONE)
    );
}

#[test]
fn reload_changes_new_sessions_only() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);

    // A new identity from a different CA: live sessions keep working...
    let other = Authority::root("Other Root");
    let new_server = other.sip_leaf(SERVER_NAME);
    assert_eq!(
        sctx.set_identity(&new_server.cert_pem, &new_server.key_pem),
        SIPTLS_OK
    );
    exchange_after_reload(&client, &server);

    // ...and a new session presents the new certificate, which the client does not trust.
    let (client2, server2) = (Sess::client(&cctx), Sess::server(&sctx));
    let result = pump(&client2, &server2);
    assert_eq!(result.client, SIPTLS_ERR_CERT_REJECTED);
    assert_eq!(client2.info().verify_status, SIPTLS_VERIFY_UNKNOWN_CA);
}

fn exchange_after_reload(client: &Sess, server: &Sess) {
    assert_eq!(client.write(b"ping").0, SIPTLS_OK);
    pump(client, server);
    assert_eq!(server.read_all().1, b"ping");
}

#[test]
fn server_without_identity_cannot_make_sessions() {
    let sctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(Sess::new(&sctx, None).err(), Some(SIPTLS_ERR_NO_IDENTITY));
    assert!(
        last_error().contains("certificate and private key"),
        "{}",
        last_error()
    );
}

#[test]
fn a_replayed_server_flight_is_a_tls_failure_not_a_certificate_rejection() {
    // TLS 1.2: the ServerKeyExchange signature covers the client's random, so
    // a flight made for one client cannot convince another, although its
    // certificate chain verifies.
    let cctx = Ctx::client();
    limit_version(&cctx, SIPTLS_TLS12);
    let sctx = Ctx::server();
    let (first, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_eq!(server.feed(&first.take_all()).0, SIPTLS_OK);
    let flight = server.take_all();

    let second = Sess::client(&cctx);
    second.take_all();
    assert_eq!(
        second.feed(&flight).0,
        SIPTLS_ERR_TLS,
        "{}",
        second.last_error()
    );
    assert!(
        second.last_error().contains("handshake signature"),
        "{}",
        second.last_error()
    );
    let info = second.info();
    assert!(info.failed);
    assert_eq!((info.verify_status, info.trust_id), (SIPTLS_VERIFY_OK, 1));
}

#[test]
fn sessions_outlive_their_context() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    drop((cctx, sctx));
    assert_handshake_ok(&client, &server);
    exchange(&client, &server);
}

#[test]
fn key_log_records_the_secrets_wireshark_needs() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("keylog");
    std::fs::create_dir_all(&dir).unwrap();
    for (version, label) in [
        (SIPTLS_TLS13, "CLIENT_TRAFFIC_SECRET_0"),
        (SIPTLS_TLS12, "CLIENT_RANDOM"),
    ] {
        let path = dir.join(format!("{version:x}.keys"));
        let _ = std::fs::remove_file(&path);
        let (cctx, sctx) = (Ctx::client(), Ctx::server());
        limit_version(&cctx, version);
        let c_path = cstring(path.to_str().unwrap());
        assert_eq!(
            unsafe { siptls_ctx_set_keylog_file(cctx.0, c_path.as_ptr()) },
            SIPTLS_OK
        );
        let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
        assert_handshake_ok(&client, &server);
        let log = std::fs::read_to_string(&path).unwrap();
        let line = log
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{label} missing:\n{log}"));
        // NSS key log format: LABEL <client random hex> <secret hex>.
        let fields: Vec<&str> = line.split(' ').collect();
        let hex = |field: &str| field.chars().all(|c| c.is_ascii_hexdigit());
        assert_eq!(fields.len(), 3, "{line}");
        assert!(fields[1].len() == 64 && hex(fields[1]), "{line}");
        assert!(fields[2].len() >= 64 && hex(fields[2]), "{line}");
    }
}
