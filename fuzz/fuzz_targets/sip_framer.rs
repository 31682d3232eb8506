//! Arbitrary bytes as the SIP stream a framer cuts up, pushed whole and in
//! fuzzer-chosen chunks: byte 0 bits 0-1 pick the keep-alive role (answer
//! pings, report pings, client), bits 2-7 the chunk size (0: whole); byte 1
//! picks the limits: small (so they are reached) when odd, as large as
//! `size_t` goes when 2 (so size arithmetic meets huge Content-Lengths),
//! else the defaults; the rest is the stream.
//!
//! Asserted: only documented codes, never PANIC; every message is a piece
//! of the input that ends its header block with CRLF CRLF and has
//! header_len + body_len bytes; pongs are queued exactly for pings when
//! answering; a failure is final; and chunked pushing gives exactly the
//! events and the outcome of pushing the whole stream.
#![no_main]

use std::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use siptls_fuzz::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sizes {
    Default,
    Small,
    Huge,
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Message(Vec<u8>, usize),
    Ping,
    Pong,
}

fn take_pongs(framer: *mut siptls_framer) -> usize {
    let mut taken = usize::MAX;
    let code = unsafe { siptls_framer_take_pongs(framer, &mut taken) };
    expect_code("take_pongs", code, &[SIPTLS_OK]);
    taken
}

fn run(
    role: u32,
    sizes: Sizes,
    stream: &[u8],
    chunk: usize,
) -> (Vec<Got>, Option<siptls_result>, usize) {
    let (header_max, body_max, buffered_max) = match sizes {
        Sizes::Default => (0, 0, 0),
        Sizes::Small => (64, 32, 128),
        Sizes::Huge => (1024, usize::MAX, usize::MAX),
    };
    let limits = siptls_framer_limits {
        struct_size: std::mem::size_of::<siptls_framer_limits>() as u32,
        keepalive: role,
        header_max,
        body_max,
        buffered_max,
    };
    let mut framer = null_mut();
    expect_code(
        "framer_new",
        unsafe { siptls_framer_new(&limits, &mut framer) },
        &[SIPTLS_OK],
    );
    let (mut events, mut failure, mut pongs) = (Vec::new(), None, 0);
    let mut rest = stream;
    'feed: while !rest.is_empty() {
        let piece = &rest[..chunk.min(rest.len())];
        let mut n = usize::MAX;
        let code = unsafe { siptls_framer_push(framer, piece.as_ptr(), piece.len(), &mut n) };
        expect_code("framer_push", code, &[SIPTLS_OK, SIPTLS_BUFFER_FULL]);
        assert!(n <= piece.len() && (code == SIPTLS_BUFFER_FULL) == (n == 0));
        rest = &rest[n..];
        loop {
            let mut e: siptls_sip_event = unsafe { std::mem::zeroed() };
            e.struct_size = std::mem::size_of::<siptls_sip_event>() as u32;
            let code = unsafe { siptls_framer_take_event(framer, &mut e) };
            match code {
                SIPTLS_AGAIN => break,
                SIPTLS_OK => events.push(match e.kind {
                    siptls_sip_event_kind::SIPTLS_SIP_MESSAGE => {
                        let m = unsafe { std::slice::from_raw_parts(e.message, e.message_len) };
                        assert_eq!(e.header_len + e.body_len, e.message_len);
                        assert!(m[..e.header_len].ends_with(b"\r\n\r\n"));
                        assert!(
                            stream.windows(m.len()).any(|w| w == m),
                            "a piece of the input"
                        );
                        Got::Message(m.to_vec(), e.header_len)
                    }
                    siptls_sip_event_kind::SIPTLS_SIP_PING => Got::Ping,
                    siptls_sip_event_kind::SIPTLS_SIP_PONG => Got::Pong,
                    siptls_sip_event_kind::SIPTLS_SIP_NONE => panic!("OK without an event"),
                }),
                code => {
                    expect_code(
                        "framer_next",
                        code,
                        &[
                            SIPTLS_ERR_SIP_MALFORMED,
                            SIPTLS_ERR_SIP_HEADER_TOO_LARGE,
                            SIPTLS_ERR_SIP_BODY_TOO_LARGE,
                            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH,
                            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
                        ],
                    );
                    failure = Some(code);
                    let mut n = 0;
                    let again = unsafe { siptls_framer_push(framer, b"x".as_ptr(), 1, &mut n) };
                    assert_eq!(again, SIPTLS_ERR_WRONG_STATE, "a failure is final");
                    break 'feed;
                }
            }
        }
        pongs += take_pongs(framer);
        if n == 0 {
            // Full, and nothing came out: the held bytes are one unfinished message.
            break;
        }
    }
    // Pings found before a failure still have their pongs queued.
    pongs += take_pongs(framer);
    unsafe { siptls_framer_free(framer) };
    (events, failure, pongs)
}

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, limits], stream)) = data.split_first_chunk::<2>() else {
        return;
    };
    let role = u32::from(mode & 3) % 3;
    let sizes = match limits & 3 {
        1 | 3 => Sizes::Small,
        2 => Sizes::Huge,
        _ => Sizes::Default,
    };
    let whole = run(role, sizes, stream, usize::MAX);
    let pings = whole.0.iter().filter(|e| **e == Got::Ping).count();
    assert_eq!(
        whole.2,
        if role == 0 { pings } else { 0 },
        "a pong for each ping answered"
    );
    let chunk = usize::from(mode >> 2);
    if chunk > 0 {
        // Pushing whole stops where the buffer filled; compare only then.
        let chunked = run(role, sizes, stream, chunk);
        if whole.1.is_some() || chunked.1.is_some() || stream.len() <= 128 || sizes != Sizes::Small
        {
            assert_eq!(chunked.0, whole.0, "chunks of {chunk}");
            assert_eq!(chunked.1, whole.1, "chunks of {chunk}");
        }
    }
});
