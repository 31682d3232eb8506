//! Session behaviour at the edges: the end of the transport while received
//! plaintext fills the buffer, and plaintext that arrived before a fatal
//! record.

mod common;
use common::*;

/// A connected pair, the client having written `len` bytes of plaintext
/// (a 100-byte record first, so that the records never fill the receive
/// window exactly), all of it taken as ciphertext and not yet fed.
fn written(len: usize) -> (Ctx, Ctx, Sess, Sess, Vec<u8>, Vec<u8>) {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    let mut sent = 0;
    if len > 100 {
        assert_eq!(client.write(&payload[..100]), (SIPTLS_OK, 100));
        wire.extend(client.take_all());
        sent = 100;
    }
    while sent < payload.len() {
        let (code, n) = client.write(&payload[sent..]);
        assert_eq!(code, SIPTLS_OK);
        sent += n;
        wire.extend(client.take_all());
    }
    (cctx, sctx, client, server, payload, wire)
}

#[test]
fn the_end_of_the_transport_is_not_lost_while_the_receive_buffer_is_full() {
    // 100 + 16384 bytes: one feed takes all of it, and leaves more plaintext
    // waiting than rustls' window, so rustls cannot take the end at once.
    let (_c, _s, _client, server, payload, wire) = written(100 + 16 * 1024);
    assert_eq!(server.feed(&wire), (SIPTLS_OK, wire.len()));
    assert_eq!(unsafe { siptls_session_feed_eof(server.0) }, SIPTLS_OK);
    assert_eq!(
        server.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_TRUNCATED
    );
    // Everything that arrived is read, then the truncation is reported.
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match server.read(&mut buf) {
            (SIPTLS_OK, n) => received.extend_from_slice(&buf[..n]),
            (code, _) => break code,
        }
    };
    assert_eq!(end, SIPTLS_ERR_TRUNCATED, "{}", server.last_error());
    assert_eq!(received, payload);
    // And it stays reported.
    assert_eq!(server.read(&mut buf).0, SIPTLS_ERR_TRUNCATED);
}

#[test]
fn ciphertext_held_back_before_the_end_may_still_be_fed_after_it() {
    let (_c, _s, client, server, payload, mut wire) = written(64 * 1024);
    assert_eq!(client.close(), SIPTLS_OK);
    wire.extend(client.take_all());
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    // The FIN arrives while the gateway still holds ciphertext it could not feed.
    let (code, used) = server.feed(&wire);
    wire.drain(..used);
    assert!(code == SIPTLS_OK || code == SIPTLS_BUFFER_FULL);
    assert!(!wire.is_empty(), "the buffer never filled");
    assert_eq!(unsafe { siptls_session_feed_eof(server.0) }, SIPTLS_OK);
    // It reads, feeds the rest, and the clean close at the end still counts.
    let end = loop {
        match server.read(&mut buf) {
            (SIPTLS_OK, n) => received.extend_from_slice(&buf[..n]),
            (SIPTLS_AGAIN, _) if !wire.is_empty() => {
                let (code, used) = server.feed(&wire);
                assert!(
                    matches!(code, SIPTLS_OK | SIPTLS_BUFFER_FULL | SIPTLS_PEER_CLOSED),
                    "{code:?}"
                );
                wire.drain(..used);
                if code == SIPTLS_PEER_CLOSED {
                    wire.clear();
                }
            }
            (code, _) => break code,
        }
    };
    assert_eq!(end, SIPTLS_PEER_CLOSED, "{}", server.last_error());
    assert_eq!(received, payload);
    assert_eq!(
        server.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_CLEAN
    );
}

#[test]
fn the_end_of_the_transport_with_an_empty_buffer_is_reported_at_once() {
    let (_c, _s, _client, server, _payload, _wire) = written(10);
    assert_eq!(unsafe { siptls_session_feed_eof(server.0) }, SIPTLS_OK);
    assert_eq!(server.read(&mut [0u8; 64]).0, SIPTLS_ERR_TRUNCATED);
}

/// The ciphertext of two records: `first` and `second`, the second's last
/// byte (inside its authentication tag) flipped.
fn good_then_forged(client: &Sess, first: &[u8], second: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(client.write(first).0, SIPTLS_OK);
    let good = client.take_all();
    assert_eq!(client.write(second).0, SIPTLS_OK);
    let mut forged = client.take_all();
    *forged.last_mut().unwrap() ^= 0x01;
    (good, forged)
}

#[test]
fn plaintext_authenticated_before_a_fatal_record_is_delivered_then_the_failure() {
    let (_c, _s, client, server, _payload, _wire) = written(0);
    let (good, forged) = good_then_forged(&client, b"INVITE sip:b SIP/2.0\r\n", b"BYE");
    // One feed holds both: the session fails on the second record...
    let (code, _) = server.feed(&[good, forged].concat());
    assert_eq!(code, SIPTLS_ERR_TLS, "{}", server.last_error());
    assert!(server.info().failed);
    // ...but what was authenticated before it is read first, then the failure.
    let mut buf = [0u8; 256];
    let (code, n) = server.read(&mut buf);
    assert_eq!(
        (code, &buf[..n]),
        (SIPTLS_OK, &b"INVITE sip:b SIP/2.0\r\n"[..])
    );
    assert_eq!(server.read(&mut buf).0, SIPTLS_ERR_SESSION_FAILED);
}

#[test]
fn nothing_after_a_fatal_record_is_delivered() {
    let (_c, _s, client, server, _payload, _wire) = written(0);
    let (good, forged) = good_then_forged(&client, b"REGISTER", b"INVITE");
    // The forged record first: the failure comes before anything readable.
    let forged_first: Vec<u8> = {
        // Swap the order: a record must be decrypted in sequence, so the
        // good one after a forged one is never processed at all.
        [forged, good].concat()
    };
    assert_eq!(server.feed(&forged_first).0, SIPTLS_ERR_TLS);
    assert_eq!(server.read(&mut [0u8; 256]).0, SIPTLS_ERR_SESSION_FAILED);
}

#[test]
fn a_protocol_error_after_our_close_notify_fails_the_session_cleanly() {
    let (_c, sctx, _client, server, _payload, _wire) = written(0);
    assert_eq!(server.close(), SIPTLS_OK);
    let close_notify = server.take_all();
    // Another server, fed that record as its first bytes, fails and alerts...
    let stranger = Sess::server(&sctx);
    assert_eq!(stranger.feed(&close_notify).0, SIPTLS_ERR_TLS);
    let alert = stranger.take_all();
    // ...and that plaintext alert, out of place on an encrypted connection,
    // fails the first server too: a TLS error, never a panic.
    let (code, _) = server.feed(&alert);
    assert_eq!(code, SIPTLS_ERR_TLS, "{}", server.last_error());
    assert!(server.info().failed);
}

/// The shortcut of docs/pumping-and-framing.md: a take or read that
/// returns less than its buffer holds emptied the session for now (the
/// next one is AGAIN); one that fills its buffer may have left more (the
/// next one is OK).
#[test]
fn a_short_take_or_read_has_emptied_the_session() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    // Three records of 1,000 bytes: 3,066 bytes of ciphertext or so.
    for _ in 0..3 {
        assert_eq!(client.write(&[7u8; 1000]), (SIPTLS_OK, 1000));
    }
    let mut small = [0u8; 1500];
    let (code, n) = client.take(&mut small);
    assert_eq!((code, n), (SIPTLS_OK, small.len()), "a full take");
    let mut wire = small[..n].to_vec();
    let mut big = [0u8; 16384];
    let (code, n) = client.take(&mut big);
    assert!(code == SIPTLS_OK && n > 0 && n < big.len(), "{code:?} {n}");
    wire.extend_from_slice(&big[..n]);
    assert_eq!(
        client.take(&mut big).0,
        SIPTLS_AGAIN,
        "more after a short take"
    );
    assert_eq!(server.feed(&wire), (SIPTLS_OK, wire.len()));
    let mut small = [0u8; 1200];
    assert_eq!(
        server.read(&mut small),
        (SIPTLS_OK, small.len()),
        "a full read"
    );
    let (code, n) = server.read(&mut big);
    assert_eq!((code, n), (SIPTLS_OK, 3000 - small.len()));
    assert_eq!(
        server.read(&mut big).0,
        SIPTLS_AGAIN,
        "more after a short read"
    );
    // Once the peer's close_notify came, the call after a short read
    // reports the end instead.
    assert_eq!(client.write(&[8u8; 10]), (SIPTLS_OK, 10));
    assert_eq!(client.close(), SIPTLS_OK);
    let wire = client.take_all();
    assert_eq!(server.feed(&wire), (SIPTLS_PEER_CLOSED, wire.len()));
    assert_eq!(server.read(&mut big), (SIPTLS_OK, 10));
    assert_eq!(server.read(&mut big).0, SIPTLS_PEER_CLOSED);
}
