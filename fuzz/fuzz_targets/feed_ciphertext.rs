//! Arbitrary bytes as ciphertext from the peer, fed through `siptls_session_feed`.
//!
//! Input format (also in docs/fuzzing.md):
//!
//! | byte | meaning |
//! | --- | --- |
//! | 0 | mode: bits 0-1 target (0 fresh client, 1 fresh server, 2 established pair: into the client, 3: into the server); bit 2 override contexts (a verify callback accepts every chain); bit 3 TLS 1.2 only; bit 4 servers: optional client certificates; bit 5 end with `transport_closed`; bit 6 take ciphertext out after every feed call |
//! | 1 | feed chunk size: 0 = all at once, n = n bytes per call |
//! | 2 | room for take/read: index into 1, 5, 64, 300, 1500, 4096, 16384, 65536 |
//! | 3.. | the bytes from the "peer" |
//!
//! After every call: result codes from the documented set (never PANIC),
//! consumed <= len, consistent get_info, and once a session failed every
//! further feed, read and write says SESSION_FAILED.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siptls_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mode = input.byte();
    let chunk = chunk_from(input.byte());
    let cap = cap_from(input.byte());
    let peer_bytes = input.rest();

    let flags = |bit: u8| mode & (1 << bit) != 0;
    let base = |role| CtxKind {
        role,
        override_all: flags(2),
        tls12_only: flags(3),
        optional_client_auth: flags(4),
    };
    let client_kind = base(siptls_role::SIPTLS_ROLE_CLIENT);
    let server_kind = base(siptls_role::SIPTLS_ROLE_SERVER);

    // `other` is the established peer, kept alive so the pair is real.
    let (mut target, _other) = match mode & 3 {
        0 => {
            let mut client = Sess::client(client_kind);
            // A C caller sends the ClientHello first.
            let hello = client.take_all(cap);
            assert!(
                !hello.is_empty(),
                "a fresh client has a ClientHello to send"
            );
            (client, None)
        }
        1 => (Sess::server(server_kind), None),
        2 => {
            let (client, server) = handshaken_pair(client_kind, server_kind);
            (client, Some(server))
        }
        _ => {
            let (client, server) = handshaken_pair(client_kind, server_kind);
            (server, Some(client))
        }
    };

    let chunking = Chunking {
        feed: chunk,
        take_cap: cap,
        read_cap: cap,
    };
    let mut plaintext = Vec::new();
    let mut offset = 0;
    while offset < peer_bytes.len() {
        let end = peer_bytes.len().min(offset.saturating_add(chunk));
        let piece = &peer_bytes[offset..end];
        offset = end;
        let step = Chunking {
            feed: piece.len(),
            ..chunking
        };
        match feed_all(&mut target, piece, step, &mut plaintext) {
            Ok(Fed::All) => {}
            Ok(Fed::PeerClosed { .. }) => {
                // The connection ended: every later feed is refused.
                let (code, _) = target.feed(b"\x17");
                assert!(
                    matches!(code, SIPTLS_ERR_WRONG_STATE | SIPTLS_ERR_SESSION_FAILED),
                    "feed after the end of the connection: {code:?}"
                );
                break;
            }
            Err(code) => {
                assert!(
                    SESSION_FAILURES.contains(&code) || code == SIPTLS_ERR_SESSION_FAILED,
                    "feed failed with {code:?}"
                );
                assert!(target.failed, "failure code without a failed session");
                // Once failed, always failed; the alert can still be taken.
                let (again, n) = target.feed(piece);
                assert_eq!((again, n), (SIPTLS_ERR_SESSION_FAILED, 0));
                let mut buf = [0u8; 16];
                assert_eq!(target.read(&mut buf).0, SIPTLS_ERR_SESSION_FAILED);
                assert_eq!(target.write(b"x").0, SIPTLS_ERR_SESSION_FAILED);
                let _alert = target.take_all(cap);
                assert!(!target.info().wants_send);
                let _ = target.last_error();
                break;
            }
        }
        if flags(6) {
            let _ = target.take_all(cap);
        }
        let _ = target.read_into(cap, &mut plaintext);
    }

    // State queries must hold up whatever happened.
    let info = target.info();
    let _ = target.peer_certs();
    let _ = target.last_error();
    // Nobody can forge TLS records: a fresh session never finishes a
    // handshake from these bytes, and an established one never decrypts
    // them (its real peer sent nothing after the handshake). No plaintext
    // may come out.
    assert!(
        plaintext.is_empty(),
        "{} bytes of plaintext from forged ciphertext (mode {mode:#04x})",
        plaintext.len()
    );
    if mode & 3 < 2 {
        assert!(
            info.handshaking
                || info.failed
                || info.close_state != siptls_close_state::SIPTLS_CLOSE_OPEN,
            "a fresh session finished a handshake from forged bytes"
        );
    }
    let _ = target.take_all(cap);

    if flags(5) {
        target.transport_closed();
        let code = target.read_into(cap, &mut plaintext);
        let info = target.info();
        let expected = if target.failed {
            SIPTLS_ERR_SESSION_FAILED
        } else if info.close_state == siptls_close_state::SIPTLS_CLOSE_CLEAN {
            SIPTLS_PEER_CLOSED
        } else {
            SIPTLS_ERR_TRUNCATED
        };
        assert_eq!(code, expected, "read after transport_closed");
        if !target.failed && info.close_state != siptls_close_state::SIPTLS_CLOSE_CLEAN {
            assert_eq!(info.close_state, siptls_close_state::SIPTLS_CLOSE_TRUNCATED);
        }
        if !peer_bytes.is_empty() {
            let (code, _) = target.feed(&peer_bytes[..1]);
            assert!(
                matches!(code, SIPTLS_ERR_WRONG_STATE | SIPTLS_ERR_SESSION_FAILED),
                "feed after transport_closed: {code:?}"
            );
        }
    }
});
