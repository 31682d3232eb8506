//! The per-context counters through the C ABI: exact counts after scripted
//! scenarios, on one thread and on several, the reset, and the Prometheus
//! text.

mod common;
use common::*;

use siptls_certgen::Authority;

fn prometheus(ctx: &Ctx) -> String {
    text(|b, c, l| unsafe { siptls_ctx_get_counters_prometheus(ctx.0, b, c, l) })
}

fn result_slot(code: siptls_result) -> usize {
    code as usize - 100
}

const CLOSE_NOTIFY: usize = 0;
const UNKNOWN_CA: usize = 48;

/// A handshake, one message each way, and close_notify from the client.
fn call(client: &Ctx, server: &Ctx, message: &[u8]) -> (Sess, Sess) {
    let (c, s) = (Sess::client(client), Sess::server(server));
    assert_handshake_ok(&c, &s);
    assert_eq!(c.write(message), (SIPTLS_OK, message.len()));
    assert_eq!(s.write(message), (SIPTLS_OK, message.len()));
    assert_eq!(c.close(), SIPTLS_OK);
    pump(&c, &s);
    assert_eq!(s.read_all(), (SIPTLS_PEER_CLOSED, message.to_vec()));
    assert_eq!(c.read_all(), (SIPTLS_AGAIN, message.to_vec()));
    (c, s)
}

#[test]
fn a_scripted_day_is_counted_exactly_and_the_reset_keeps_the_live_level() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let message = b"OPTIONS sip:gw-b.example.test SIP/2.0\r\n\r\n";
    // Setup: an identity and a trust entry each.
    let c0 = server.counters();
    assert_eq!((c0.config_applied, c0.config_refused), (2, 0));
    assert_eq!(
        unsafe { siptls_ctx_set_max_ca_depth(server.0, 99) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );

    let (a, b) = call(&client, &server, message);
    let resumed = call(&client, &server, message);
    // Every byte one side took, the other was fed.
    let (c, s) = (client.counters(), server.counters());
    assert_eq!(
        (c.ciphertext_out, c.ciphertext_in),
        (s.ciphertext_in, s.ciphertext_out)
    );
    assert!(c.ciphertext_out > 2 * message.len() as u64);
    // A client the server cannot verify.
    let stranger = Authority::root("Stranger Root").sip_leaf(CLIENT_NAME);
    let bad = Ctx::client();
    assert_eq!(
        bad.set_identity(&stranger.cert_pem, &stranger.key_pem),
        SIPTLS_OK
    );
    let (bc, bs) = (Sess::client(&bad), Sess::server(&server));
    assert_eq!(pump(&bc, &bs).server, SIPTLS_ERR_CERT_REJECTED);

    let s = server.counters();
    assert_eq!(
        (s.sessions_created, s.sessions_freed, s.sessions_live),
        (3, 0, 3)
    );
    assert_eq!(
        (s.handshakes_full, s.handshakes_resumed, s.handshakes_failed),
        (1, 1, 1)
    );
    assert_eq!(
        s.verify_failed[siptls_verify_status::SIPTLS_VERIFY_UNKNOWN_CA as usize],
        1
    );
    assert_eq!(s.verify_failed.iter().sum::<u64>(), 1);
    assert_eq!(s.failed_by_result[result_slot(SIPTLS_ERR_CERT_REJECTED)], 1);
    assert_eq!(s.failed_by_result.iter().sum::<u64>(), 1);
    assert_eq!(s.alerts_sent[UNKNOWN_CA], 1);
    assert_eq!(s.alerts_received[CLOSE_NOTIFY], 2);
    assert_eq!(
        s.alerts_sent.iter().sum::<u64>(),
        1,
        "the server closed nothing"
    );
    assert_eq!(
        (s.plaintext_in, s.plaintext_out),
        (2 * message.len() as u64, 2 * message.len() as u64)
    );
    assert_eq!((s.config_applied, s.config_refused), (2, 1));

    let b_counts = bad.counters();
    assert_eq!(b_counts.alerts_received[UNKNOWN_CA], 1);
    assert_eq!(
        b_counts.failed_by_result[result_slot(SIPTLS_ERR_ALERT_RECEIVED)],
        1
    );
    // TLS 1.3: the client's handshake is over once it sent its Finished; the
    // server's verdict on its certificate arrives after that.
    assert_eq!(
        (b_counts.handshakes_full, b_counts.handshakes_failed),
        (1, 0)
    );

    let c = client.counters();
    assert_eq!((c.handshakes_full, c.handshakes_resumed), (1, 1));
    assert_eq!(c.alerts_sent[CLOSE_NOTIFY], 2);
    let text = prometheus(&server);
    for line in [
        "# TYPE siptls_handshakes_total counter\n",
        "siptls_handshakes_total{kind=\"full\"} 1\n",
        "siptls_handshakes_total{kind=\"resumed\"} 1\n",
        "siptls_sessions_live 3\n",
        "siptls_verify_failures_total{status=\"UNKNOWN_CA\"} 1\n",
        "siptls_session_failures_total{result=\"SIPTLS_ERR_CERT_REJECTED\"} 1\n",
        "siptls_alerts_sent_total{alert=\"unknown_ca\"} 1\n",
        "siptls_alerts_received_total{alert=\"close_notify\"} 2\n",
        "siptls_config_changes_total{outcome=\"refused\"} 1\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }

    drop((a, b, resumed, bc, bs));
    let s = server.counters();
    assert_eq!((s.sessions_freed, s.sessions_live), (3, 0));
    let live = Sess::server(&server);
    assert_eq!(unsafe { siptls_ctx_reset_counters(server.0) }, SIPTLS_OK);
    let s = server.counters();
    assert_eq!(
        (s.sessions_created, s.sessions_live, s.handshakes_full),
        (0, 1, 0)
    );
    assert_eq!(
        s.alerts_received.iter().sum::<u64>() + s.ciphertext_in + s.config_refused,
        0
    );
    drop(live);
    assert_eq!(server.counters().sessions_live, 0);
}

#[test]
fn counts_are_exact_under_four_threads() {
    let (client, server) = (Ctx::client(), Ctx::server());
    for ctx in [&client, &server] {
        assert_eq!(
            unsafe { siptls_ctx_set_resumption(ctx.0, false) },
            SIPTLS_OK
        );
    }
    let message = b"REGISTER";
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..25 {
                    drop(call(&client, &server, message));
                }
            });
        }
    });
    for ctx in [&client, &server] {
        let c = ctx.counters();
        assert_eq!(
            (c.sessions_created, c.sessions_freed, c.sessions_live),
            (100, 100, 0)
        );
        assert_eq!(
            (c.handshakes_full, c.handshakes_resumed, c.handshakes_failed),
            (100, 0, 0)
        );
        assert_eq!((c.plaintext_in, c.plaintext_out), (800, 800));
    }
    let (c, s) = (client.counters(), server.counters());
    assert_eq!(
        (c.alerts_sent[CLOSE_NOTIFY], s.alerts_received[CLOSE_NOTIFY]),
        (100, 100)
    );
    assert_eq!(
        (c.ciphertext_out, c.ciphertext_in),
        (s.ciphertext_in, s.ciphertext_out)
    );
}

#[test]
fn a_short_buffer_gets_the_length_and_an_older_struct_gets_its_part() {
    let server = Ctx::server();
    let mut len = 0;
    let code =
        unsafe { siptls_ctx_get_counters_prometheus(server.0, std::ptr::null_mut(), 0, &mut len) };
    assert_eq!(code, SIPTLS_ERR_BUFFER_TOO_SMALL);
    assert_eq!(len, prometheus(&server).len());
    // A caller built when the struct ended after handshakes_failed.
    let mut c: siptls_counters = unsafe { std::mem::zeroed() };
    c.struct_size = 56;
    c.verify_failed[0] = 7;
    assert_eq!(
        unsafe { siptls_ctx_get_counters(server.0, &mut c) },
        SIPTLS_OK
    );
    assert_eq!(
        (c.struct_size, c.verify_failed[0]),
        (56, 7),
        "nothing written past it"
    );
}

#[test]
fn a_failure_rustls_sends_no_alert_for_counts_none() {
    // A ClientHello cut short, then a ChangeCipherSpec record in the middle
    // of it: rustls fails without an alert (records interleaved with a
    // handshake message), so none is counted.
    let server = Ctx::server();
    let s = Sess::server(&server);
    let partial = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x01, 0x00];
    assert_eq!(s.feed(&partial), (SIPTLS_OK, partial.len()));
    let (code, _) = s.feed(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    assert_eq!(code, SIPTLS_ERR_TLS, "{}", s.last_error());
    assert!(
        s.last_error().contains("interleaved another record type"),
        "{}",
        s.last_error()
    );
    let mut out = [0u8; 64];
    assert_eq!(s.take(&mut out), (SIPTLS_AGAIN, 0), "no alert queued");
    let c = server.counters();
    assert_eq!(c.alerts_sent.iter().sum::<u64>(), 0);
    assert_eq!(c.handshakes_failed, 1);
}
