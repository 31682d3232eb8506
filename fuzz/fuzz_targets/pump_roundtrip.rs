//! A mutual-TLS client/server pair pumped with fuzz-chosen chunk sizes and
//! fuzz-chosen plaintext in both directions; every byte must arrive intact
//! and in order, and close_notify both ways must end as PEER_CLOSED.
//!
//! Input format:
//!
//! | byte | meaning |
//! | --- | --- |
//! | 0 | flags: bit 0 TLS 1.2 only; bit 1 the server closes first; bit 2 after the first close_notify the other side still sends the last message (half-close); bit 3 the client writes before the handshake (must be refused) |
//! | 1, 2 | feed chunk size client→server, server→client (0 = whole) |
//! | 3, 4 | take / read room: index into 1, 5, 64, 300, 1500, 4096, 16384, 65536 |
//! | 5.. | messages: `[h][u16 big-endian length][bytes]`; h bit 0: 0 client→server, 1 server→client; h bit 1: pump right after this write (otherwise writes pile up until the next pump) |
//!
//! Certificates (ECDSA P-256) and contexts are made once per process;
//! sessions are new for every input. The plaintext of one input is capped
//! at 2000 x the smallest chunk/buffer size (at least 4 KiB, at most
//! 256 KiB) to keep byte-at-a-time inputs fast.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siptls_fuzz::*;

/// What one direction has sent and received so far.
#[derive(Default)]
struct Stream {
    sent: Vec<u8>,
    received: Vec<u8>,
}

impl Stream {
    fn check_prefix(&self, direction: &str) {
        assert!(
            self.received.len() <= self.sent.len()
                && self.sent[..self.received.len()] == self.received[..],
            "{direction}: received bytes are not a prefix of what was sent ({} received, {} sent)",
            self.received.len(),
            self.sent.len()
        );
    }
}

struct Pair {
    client: Sess,
    server: Sess,
    c2s: Chunking,
    s2c: Chunking,
    /// Client to server.
    up: Stream,
    /// Server to client.
    down: Stream,
}

impl Pair {
    fn pump(&mut self) {
        let result = pump(
            &mut self.client,
            &mut self.server,
            self.c2s,
            self.s2c,
            &mut self.down.received,
            &mut self.up.received,
        );
        assert_eq!(
            result,
            Ok(()),
            "pump failed: client: {} / server: {}",
            self.client.last_error(),
            self.server.last_error()
        );
        // Read what is waiting on both sides.
        let code = self
            .client
            .read_into(self.s2c.read_cap, &mut self.down.received);
        assert!(
            matches!(code, SIPTLS_AGAIN | SIPTLS_PEER_CLOSED),
            "client read: {code:?}"
        );
        let code = self
            .server
            .read_into(self.c2s.read_cap, &mut self.up.received);
        assert!(
            matches!(code, SIPTLS_AGAIN | SIPTLS_PEER_CLOSED),
            "server read: {code:?}"
        );
        self.up.check_prefix("client->server");
        self.down.check_prefix("server->client");
    }

    /// Writes all of `message` from one side, pumping when its send buffer is full.
    fn send(&mut self, from_server: bool, message: &[u8]) {
        let mut offset = 0;
        let mut stalls = 0;
        while offset < message.len() {
            let sender = if from_server {
                &mut self.server
            } else {
                &mut self.client
            };
            let (code, n) = sender.write(&message[offset..]);
            match code {
                SIPTLS_OK => {
                    offset += n;
                    stalls = 0;
                }
                SIPTLS_AGAIN => {
                    stalls += 1;
                    assert!(stalls < 3, "write stays AGAIN after pumping");
                    self.pump();
                }
                other => panic!("write failed: {other:?}: {}", sender.last_error()),
            }
            if offset < message.len() && code == SIPTLS_OK {
                // Partial acceptance: the send buffer is full; send, then go on.
                self.pump();
            }
        }
        let stream = if from_server {
            &mut self.down
        } else {
            &mut self.up
        };
        stream.sent.extend_from_slice(message);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let c2s_feed = chunk_from(input.byte());
    let s2c_feed = chunk_from(input.byte());
    let take_cap = cap_from(input.byte());
    let read_cap = cap_from(input.byte());

    let client_kind = CtxKind {
        tls12_only: flags & 1 != 0,
        ..CtxKind::client()
    };
    let mut pair = Pair {
        client: Sess::client(client_kind),
        server: Sess::server(CtxKind::server()),
        c2s: Chunking {
            feed: c2s_feed,
            take_cap,
            read_cap,
        },
        s2c: Chunking {
            feed: s2c_feed,
            take_cap,
            read_cap,
        },
        up: Stream::default(),
        down: Stream::default(),
    };

    if flags & 8 != 0 {
        let (code, n) = pair.client.write(b"too early");
        assert_eq!(
            (code, n),
            (SIPTLS_ERR_WRONG_STATE, 0),
            "write before the handshake"
        );
    }

    // Handshake.
    pair.pump();
    let p = pki();
    for (sess, peer_der) in [
        (&pair.client, &p.server.cert_der),
        (&pair.server, &p.client.cert_der),
    ] {
        let info = sess.info();
        assert!(
            !info.handshaking && !info.failed,
            "handshake did not finish"
        );
        let expected_version = if flags & 1 != 0 {
            SIPTLS_TLS12
        } else {
            SIPTLS_TLS13
        };
        assert_eq!(info.protocol_version, expected_version);
        assert!(info.verified, "no verification report");
        assert_eq!(info.verify_status, SIPTLS_VERIFY_OK);
        assert_eq!(info.verify_checked, SIPTLS_VERIFY_OK);
        assert_eq!(info.trust_id, ROOT_TRUST_ID);
        assert_eq!(info.depth, 1);
        assert_eq!(info.alert_received, -1);
        assert_eq!(info.close_state, siptls_close_state::SIPTLS_CLOSE_OPEN);
        let chain = sess.peer_certs();
        assert_eq!(chain.first(), Some(peer_der), "peer certificate");
    }

    // The messages.
    // Bound the work per input: small chunks or buffers cost one FFI call
    // per byte, so the plaintext allowed shrinks with the smallest of them.
    // (At least 4 KiB; from a unit of 9 bytes on, enough to fill the 16 KiB
    // receive buffer.)
    let unit = [c2s_feed, s2c_feed, take_cap, read_cap]
        .into_iter()
        .min()
        .unwrap_or(1);
    let mut budget = unit.saturating_mul(2_000).clamp(4 * 1024, 256 * 1024);
    let mut last: Option<(bool, &[u8])> = None;
    while !input.is_empty() && budget > 0 {
        let header = input.byte();
        let message = input.blob();
        let message = &message[..message.len().min(budget)];
        budget -= message.len();
        let from_server = header & 1 != 0;
        if message.is_empty() {
            let sender = if from_server {
                &mut pair.server
            } else {
                &mut pair.client
            };
            let (code, n) = sender.write(message);
            assert_eq!((code, n), (SIPTLS_ERR_INVALID_ARGUMENT, 0), "empty write");
            continue;
        }
        pair.send(from_server, message);
        if header & 2 != 0 {
            pair.pump();
        }
        last = Some((from_server, message));
    }
    pair.pump();
    assert_eq!(
        pair.up.received, pair.up.sent,
        "client->server bytes differ"
    );
    assert_eq!(
        pair.down.received, pair.down.sent,
        "server->client bytes differ"
    );

    // close_notify both ways.
    let server_first = flags & 2 != 0;
    let half_close = flags & 4 != 0;
    for step in 0..2 {
        let closing_server = server_first == (step == 0);
        if closing_server {
            pair.server.close();
        } else {
            pair.client.close();
        }
        let (code, _) = if closing_server {
            pair.server.write(b"after close")
        } else {
            pair.client.write(b"after close")
        };
        assert_eq!(code, SIPTLS_ERR_WRONG_STATE, "write after close");
        pair.pump();
        if step == 0 && half_close {
            // The other side may still talk until it closes too.
            let message = last.map_or(&b"last words"[..], |(_, m)| m);
            pair.send(!closing_server, message);
            pair.pump();
            assert_eq!(pair.up.received, pair.up.sent, "half-close: client->server");
            assert_eq!(
                pair.down.received, pair.down.sent,
                "half-close: server->client"
            );
        }
    }
    for (name, sess) in [("client", &mut pair.client), ("server", &mut pair.server)] {
        let mut rest = Vec::new();
        let code = sess.read_into(read_cap, &mut rest);
        assert!(
            rest.is_empty(),
            "{name}: plaintext after everything was read"
        );
        assert_eq!(
            code, SIPTLS_PEER_CLOSED,
            "{name}: read after close_notify both ways"
        );
        let info = sess.info();
        assert_eq!(
            info.close_state,
            siptls_close_state::SIPTLS_CLOSE_CLEAN,
            "{name}"
        );
        assert!(!info.failed, "{name} failed: {}", sess.last_error());
        assert!(!info.wants_send, "{name} still has something to send");
        // The transport may close now; the clean close stays clean.
        sess.transport_closed();
        let code = sess.read_into(read_cap, &mut rest);
        assert_eq!(code, SIPTLS_PEER_CLOSED, "{name}: read after close and EOF");
        assert_eq!(
            sess.info().close_state,
            siptls_close_state::SIPTLS_CLOSE_CLEAN,
            "{name}: close state after EOF"
        );
    }
    assert_eq!(pair.up.received, pair.up.sent);
    assert_eq!(pair.down.received, pair.down.sent);
});
