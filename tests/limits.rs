//! Bounded resources: a peer can neither make a session buffer without
//! limit (plaintext nobody reads, ciphertext nobody sends) nor push
//! handshake messages or records past the protocol's size limits.

mod common;
use common::*;

/// The receive window docs/pumping-and-framing.md documents: past 16 KiB
/// of unread plaintext a session takes no more ciphertext.
const RECEIVE_WINDOW: usize = 16 * 1024;

/// Plaintext a receiver may hold unread, as docs/pumping-and-framing.md
/// documents: the window plus the records one rustls input buffer (18,437
/// bytes: a record of 2^14 bytes with its largest overhead) can complete.
const RECEIVE_BOUND: usize = RECEIVE_WINDOW + 18_437;

/// Plaintext a sender may accept while nobody takes its ciphertext: rustls'
/// 64 KiB send buffer (reached exactly).
const SEND_BOUND: usize = 64 * 1024;

fn connected(cctx: &Ctx, sctx: &Ctx) -> (Sess, Sess) {
    let (client, server) = (Sess::client(cctx), Sess::server(sctx));
    assert_handshake_ok(&client, &server);
    assert_eq!(
        (client.info().verify_status, server.info().verify_status),
        (SIPTLS_VERIFY_OK, SIPTLS_VERIFY_OK)
    );
    (client, server)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i ^ (i >> 8) ^ (i >> 16)) as u8).collect()
}

/// Feeds the front of `wire` until it is empty or the receiver stops
/// consuming; returns the last result and whether a feed took only part.
fn feed_from(to: &Sess, wire: &mut Vec<u8>) -> (siptls_result, bool) {
    let mut partial = false;
    while !wire.is_empty() {
        let (code, used) = to.feed(wire);
        wire.drain(..used);
        match code {
            SIPTLS_OK => partial |= !wire.is_empty(),
            SIPTLS_BUFFER_FULL => {
                assert_eq!(used, 0, "BUFFER_FULL consumes nothing");
                return (code, partial);
            }
            other => panic!("feed: {other:?} {}", to.last_error()),
        }
    }
    (SIPTLS_OK, partial)
}

#[test]
fn a_receiver_that_never_reads_stops_consuming_and_stays_bounded() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = connected(&cctx, &sctx);
    let payload = pattern(4 * 1024 * 1024);
    let mut sent = 0;
    let mut wire = Vec::new();

    // The server application never reads: the client keeps writing until
    // feeding the server stops taking anything.
    let mut saw_partial = false;
    loop {
        let (code, n) = client.write(&payload[sent..]);
        assert!(matches!(code, SIPTLS_OK | SIPTLS_AGAIN), "{code:?}");
        sent += n;
        wire.extend(client.take_all());
        let (code, partial) = feed_from(&server, &mut wire);
        saw_partial |= partial;
        if code == SIPTLS_BUFFER_FULL {
            break;
        }
        assert!(
            sent < payload.len(),
            "4 MiB went in without the receiver ever pushing back"
        );
    }
    // It stays stopped: more feeding takes nothing while nobody reads.
    assert_eq!(server.feed(&wire), (SIPTLS_BUFFER_FULL, 0));

    let (code, buffered) = server.read_all();
    assert_eq!(code, SIPTLS_AGAIN);
    eprintln!(
        "receiver held {} bytes of unread plaintext ({sent} sent, {} still on the wire)",
        buffered.len(),
        wire.len()
    );
    assert!(
        saw_partial,
        "the receiver never took part of a feed before refusing"
    );
    assert!(
        buffered.len() <= RECEIVE_BOUND,
        "receiver buffered {} bytes",
        buffered.len()
    );
    // It stopped because the window was full, not earlier.
    assert!(
        buffered.len() >= RECEIVE_WINDOW,
        "receiver stopped at {} bytes, inside its window",
        buffered.len()
    );
    assert_eq!(
        buffered,
        payload[..buffered.len()],
        "buffered plaintext corrupted"
    );

    // Reading drains it and feeding resumes, until everything arrived in order.
    let mut received = buffered;
    while received.len() < payload.len() {
        if sent < payload.len() {
            let (code, n) = client.write(&payload[sent..]);
            assert!(matches!(code, SIPTLS_OK | SIPTLS_AGAIN), "{code:?}");
            sent += n;
        }
        wire.extend(client.take_all());
        feed_from(&server, &mut wire);
        let (code, more) = server.read_all();
        assert_eq!(code, SIPTLS_AGAIN);
        assert!(
            more.len() <= RECEIVE_BOUND,
            "receiver buffered {} bytes",
            more.len()
        );
        received.extend(more);
    }
    assert!(
        received == payload,
        "plaintext differs after {} bytes",
        received
            .iter()
            .zip(&payload)
            .take_while(|(a, b)| a == b)
            .count()
    );
}

#[test]
fn a_sender_whose_ciphertext_is_not_taken_accepts_a_bounded_amount() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = connected(&cctx, &sctx);
    let payload = pattern(1024 * 1024);

    let (code, accepted) = client.write(&payload);
    assert_eq!(code, SIPTLS_OK);
    assert!(
        0 < accepted && accepted < payload.len(),
        "accepted {accepted}"
    );
    // Full now: nothing more goes in until ciphertext is taken.
    assert_eq!(client.write(&payload[accepted..]), (SIPTLS_AGAIN, 0));
    eprintln!("sender accepted {accepted} bytes before its send buffer was full");
    assert!(accepted <= SEND_BOUND, "sender accepted {accepted} bytes");

    // Taking the ciphertext makes room again, and what went in arrives intact.
    let mut wire = Vec::new();
    wire.extend(client.take_all());
    let (code, more) = client.write(&payload[accepted..]);
    assert_eq!(code, SIPTLS_OK);
    assert!(more > 0);
    wire.extend(client.take_all());
    let mut received = Vec::new();
    while !wire.is_empty() {
        feed_from(&server, &mut wire);
        received.extend(server.read_all().1);
    }
    assert!(received == payload[..accepted + more]);
}

/// A certificate for `name` padded with `count` DNS names, each adding 114
/// bytes (so 350 make about 40 KB).
fn padded_leaf(name: &str, count: usize) -> Issued {
    let label = "a".repeat(30);
    let mut spec = LeafSpec::new(name);
    spec.dns_names
        .extend((0..count).map(|i| format!("{label}.{label}.{label}.n{i:05}.example.test")));
    pki().root.leaf(&spec)
}

/// Size of the TLS 1.3 Certificate message carrying `chain`: message header
/// (4), context (1), list length (3), then per entry a length (3), the DER
/// and an empty extension list (2).
fn certificate_message_len(chain: &[&Issued]) -> usize {
    8 + chain.iter().map(|c| 5 + c.cert_der.len()).sum::<usize>()
}

/// A client's handshake with a server presenting `chain` (as a misconfigured
/// one would: extra certificates after its own).
fn handshake_with_chain(chain: &[&Issued]) -> (Sess, PumpResult) {
    let identity = Issued {
        cert_pem: siptls_certgen::chain_pem(chain),
        ..chain[0].clone()
    };
    let sctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &identity, &pki().root);
    let (client, server) = (Sess::client(&Ctx::client()), Sess::server(&sctx));
    let result = pump(&client, &server);
    eprintln!(
        "{}-byte Certificate message: client {:?} '{}'",
        certificate_message_len(chain),
        result.client,
        client.last_error()
    );
    (client, result)
}

#[test]
fn a_certificate_message_over_64k_is_refused() {
    // One certificate cannot pass 64 KiB (see below), so the chain holds three.
    let leaf = padded_leaf(SERVER_NAME, 350);
    let extras = [
        padded_leaf("extra-1.example.test", 350),
        padded_leaf("extra-2.example.test", 350),
    ];
    let chain = [&leaf, &extras[0], &extras[1]];
    assert!(certificate_message_len(&chain) > 100 * 1024);
    let (client, result) = handshake_with_chain(&chain);
    assert_eq!(
        result.client,
        SIPTLS_ERR_PEER_TOO_LARGE,
        "{}",
        client.last_error()
    );
    let info = client.info();
    assert!(info.failed);
    assert!(!info.verified, "the chain was refused before verification");
}

/// rustls buffers at most 64 KiB of handshake records, record headers and
/// AEAD overhead included, so a Certificate message a little under its own
/// 64 KiB message limit overflows that buffer instead. Same problem for the
/// gateway: the peer's chain is too large, and it is reported as such.
#[test]
fn a_certificate_message_filling_the_handshake_buffer_is_reported_as_too_large() {
    let leaf = padded_leaf(SERVER_NAME, 350);
    // The fewest padding names that bring the message to 65,400 bytes: in
    // steps of 114 that stays within rustls' message limit (0xffff + header).
    let (mut low, mut high) = (0, 350);
    while low < high {
        let mid = (low + high) / 2;
        if certificate_message_len(&[&leaf, &padded_leaf("extra.example.test", mid)]) < 65_400 {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    let extra = padded_leaf("extra.example.test", low);
    let chain = [&leaf, &extra];
    let len = certificate_message_len(&chain);
    assert!((65_400..=0xffff + 4).contains(&len), "{len}");
    let (client, result) = handshake_with_chain(&chain);
    assert_eq!(
        result.client,
        SIPTLS_ERR_PEER_TOO_LARGE,
        "{}",
        client.last_error()
    );
}

/// Our own certificate is parsed by webpki's rules too, which take no DER
/// over 64 KiB: such a certificate cannot even be loaded.
#[test]
fn an_own_certificate_over_64k_is_refused_at_load() {
    let huge = padded_leaf(SERVER_NAME, 700);
    assert!(huge.cert_der.len() > 64 * 1024);
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        ctx.set_identity(&huge.cert_pem, &huge.key_pem),
        SIPTLS_ERR_CERT_MALFORMED
    );
    eprintln!(
        "own {}-byte certificate: '{}'",
        huge.cert_der.len(),
        ctx.last_error()
    );
    assert!(
        ctx.last_error().contains("cannot serve as this side's own"),
        "{}",
        ctx.last_error()
    );
}

/// A handshake message larger than the 64 KiB limit fails the session at once.
#[test]
fn a_handshake_message_announcing_more_than_64k_is_refused() {
    let sctx = Ctx::server();
    let server = Sess::server(&sctx);
    // A ClientHello whose header announces 0x010000 bytes.
    let (code, _) = server.feed(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]);
    assert_eq!(code, SIPTLS_ERR_PEER_TOO_LARGE, "{}", server.last_error());
    assert!(
        server
            .last_error()
            .contains("handshake message larger than the 64 KiB"),
        "{}",
        server.last_error()
    );
    assert!(server.info().failed);
    // rustls queues no alert for this refusal; the caller just closes the
    // socket, and no alert is counted as sent.
    let mut alert = [0u8; 64];
    assert_eq!(server.take(&mut alert), (SIPTLS_AGAIN, 0));
    assert_eq!(server.feed(b"\x16").0, SIPTLS_ERR_SESSION_FAILED);
    let counters = sctx.counters();
    assert_eq!(counters.alerts_sent.iter().sum::<u64>(), 0);
    assert_eq!(counters.handshakes_failed, 1);
}

#[test]
fn a_record_header_announcing_an_oversized_record_is_refused() {
    let sctx = Ctx::server();
    let server = Sess::server(&sctx);
    let mut record = vec![0x16, 0x03, 0x03, 0xff, 0xff];
    record.extend(std::iter::repeat_n(0x42, 1000));
    let (code, _) = server.feed(&record);
    assert_eq!(code, SIPTLS_ERR_PEER_TOO_LARGE, "{}", server.last_error());
    assert!(
        server
            .last_error()
            .contains("TLS record larger than TLS allows"),
        "{}",
        server.last_error()
    );
    assert!(server.info().failed);
    // A plaintext fatal alert (rustls picks decode_error, 50, rather than record_overflow).
    let mut alert = [0u8; 64];
    let (code, n) = server.take(&mut alert);
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(
        alert[..n],
        [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50],
        "{:02x?}",
        &alert[..n]
    );
    // The alert counted is the one sent.
    let counters = sctx.counters();
    assert_eq!(counters.alerts_sent[50], 1);
    assert_eq!(counters.alerts_sent.iter().sum::<u64>(), 1);

    // The same after the handshake, for application data.
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (_client, server) = connected(&cctx, &sctx);
    let (code, _) = server.feed(&[0x17, 0x03, 0x03, 0xff, 0xff, 0x00]);
    assert_eq!(code, SIPTLS_ERR_PEER_TOO_LARGE, "{}", server.last_error());
    assert!(server.info().failed);
}
