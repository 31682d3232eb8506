//! The SIP framer through the C ABI: real messages (an INVITE with SDP, a
//! 200 OK with many Via headers, compact forms, folding), split at every
//! byte position; keep-alives in both roles; the limits; and the streams it
//! refuses, each with its code.

mod common;
use common::*;

use std::ptr::{null, null_mut};

use siptls_keepalive::*;
use siptls_sip_event_kind::*;

struct Framer(*mut siptls_framer);

impl Drop for Framer {
    fn drop(&mut self) {
        unsafe { siptls_framer_free(self.0) }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Message {
        text: Vec<u8>,
        header_len: usize,
        body_len: usize,
    },
    Ping,
    Pong,
}

impl Framer {
    fn new(
        keepalive: siptls_keepalive,
        header_max: usize,
        body_max: usize,
        buffered_max: usize,
    ) -> Framer {
        let limits = siptls_framer_limits {
            struct_size: std::mem::size_of::<siptls_framer_limits>() as u32,
            keepalive: keepalive as u32,
            header_max,
            body_max,
            buffered_max,
        };
        let mut f = null_mut();
        assert_eq!(
            unsafe { siptls_framer_new(&limits, &mut f) },
            SIPTLS_OK,
            "{}",
            last_error()
        );
        Framer(f)
    }

    fn server() -> Framer {
        Framer::new(SIPTLS_KEEPALIVE_ANSWER_PINGS, 0, 0, 0)
    }

    fn push(&self, data: &[u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_framer_push(self.0, data.as_ptr(), data.len(), &mut n) };
        (code, n)
    }

    /// `siptls_framer_take_event`'s code and event as C sees them.
    fn next_raw(&self) -> (siptls_result, siptls_sip_event) {
        let mut e: siptls_sip_event = unsafe { std::mem::zeroed() };
        e.struct_size = std::mem::size_of::<siptls_sip_event>() as u32;
        let code = unsafe { siptls_framer_take_event(self.0, &mut e) };
        (code, e)
    }

    fn next(&self) -> Result<Option<Got>, siptls_result> {
        let (code, e) = self.next_raw();
        match code {
            SIPTLS_AGAIN => Ok(None),
            SIPTLS_OK => Ok(Some(match e.kind {
                SIPTLS_SIP_MESSAGE => Got::Message {
                    text: unsafe { std::slice::from_raw_parts(e.message, e.message_len) }.to_vec(),
                    header_len: e.header_len,
                    body_len: e.body_len,
                },
                SIPTLS_SIP_PING => Got::Ping,
                SIPTLS_SIP_PONG => Got::Pong,
                SIPTLS_SIP_NONE => panic!("OK without an event"),
            })),
            code => Err(code),
        }
    }

    /// Pushes everything (taking events whenever the buffer is full) and
    /// returns the events, or the first error with the events before it.
    fn feed(&self, data: &[u8]) -> (Vec<Got>, Option<siptls_result>) {
        let mut events = Vec::new();
        let mut rest = data;
        loop {
            let (code, n) = self.push(rest);
            assert!(code == SIPTLS_OK || code == SIPTLS_BUFFER_FULL, "{code:?}");
            rest = &rest[n..];
            loop {
                match self.next() {
                    Ok(Some(e)) => events.push(e),
                    Ok(None) => break,
                    Err(code) => return (events, Some(code)),
                }
            }
            if rest.is_empty() {
                return (events, None);
            }
            if n == 0 {
                return (events, Some(SIPTLS_BUFFER_FULL));
            }
        }
    }

    fn pongs(&self) -> usize {
        let mut n = 99;
        assert_eq!(
            unsafe { siptls_framer_take_pongs(self.0, &mut n) },
            SIPTLS_OK
        );
        n
    }
}

const SDP: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

fn invite() -> Vec<u8> {
    format!(
        "INVITE sips:bob@gw-b.example.test SIP/2.0\r\n\
         Via: SIP/2.0/TLS pbx.example.test:5061;branch=z9hG4bK74bf9\r\n\
         Max-Forwards: 70\r\n\
         From: Alice <sips:alice@pbx.example.test>;tag=9fxced76sl\r\n\
         To: Bob <sips:bob@gw-b.example.test>\r\n\
         Call-ID: 3848276298220188511@pbx.example.test\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sips:alice@pbx.example.test:5061;transport=tls>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    )
    .into_bytes()
}

fn ok_with_many_vias() -> Vec<u8> {
    let vias: String = (0..40)
        .map(|i| format!("Via: SIP/2.0/TLS proxy{i}.example.test:5061;branch=z9hG4bK{i:04x};received=192.0.2.{i}\r\n"))
        .collect();
    format!(
        "SIP/2.0 200 OK\r\n{vias}From: <sips:alice@pbx.example.test>;tag=1\r\nTo: <sips:bob@gw-b.example.test>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\ncontent-LENGTH :  0\r\n\r\n"
    )
    .into_bytes()
}

/// Compact forms, folding, odd case and whitespace; a 5-byte body.
const COMPACT: &[u8] = b"MESSAGE sip:bob@gw-b.example.test SIP/2.0\r\nv: SIP/2.0/TLS a.example.test;branch=z9hG4bKc\r\nf: <sip:a@a.example.test>;tag=3\r\nt: <sip:bob@gw-b.example.test>\r\ni: compact@a\r\nSubject: a folded\r\n  subject line\r\nc: text/plain\r\nL\t:\t5\r\n\r\nhello";

fn message(text: &[u8], body_len: usize) -> Got {
    Got::Message {
        text: text.to_vec(),
        header_len: text.len() - body_len,
        body_len,
    }
}

#[test]
fn real_messages_split_at_every_byte_position_come_out_whole() {
    let invite = invite();
    let ok = ok_with_many_vias();
    let stream = [&invite[..], b"\r\n\r\n", &ok, b"\r\n", COMPACT].concat();
    let expected = vec![
        message(&invite, SDP.len()),
        Got::Ping,
        message(&ok, 0),
        message(COMPACT, 5),
    ];
    for cut in 0..=stream.len() {
        let f = Framer::server();
        let (mut events, error) = f.feed(&stream[..cut]);
        assert_eq!(error, None);
        let (more, error) = f.feed(&stream[cut..]);
        assert_eq!(error, None);
        events.extend(more);
        assert_eq!(events, expected, "cut at {cut}");
        assert_eq!(f.pongs(), 1);
        assert_eq!(f.pongs(), 0, "taken");
    }
    // Byte by byte too.
    let f = Framer::server();
    let mut events = Vec::new();
    for b in &stream {
        events.extend(f.feed(std::slice::from_ref(b)).0);
    }
    assert_eq!(events, expected);
}

#[test]
fn keep_alives_in_both_roles() {
    // Server: pings, reported; answered only when asked.
    let quiet = Framer::new(SIPTLS_KEEPALIVE_REPORT_PINGS, 0, 0, 0);
    assert_eq!(quiet.feed(b"\r\n\r\n\r\n\r\n").0, [Got::Ping, Got::Ping]);
    assert_eq!(quiet.pongs(), 0);
    // A lone CRLF before a message is skipped (RFC 3261 7.5).
    let server = Framer::server();
    let (events, _) = server.feed(&[b"\r\n".as_slice(), COMPACT].concat());
    assert_eq!(events, [message(COMPACT, 5)]);
    // Client: each CRLF between messages is a pong, reported at once.
    let client = Framer::new(SIPTLS_KEEPALIVE_CLIENT, 0, 0, 0);
    assert_eq!(client.feed(b"\r\n").0, [Got::Pong]);
    let (events, _) = client.feed(&[COMPACT, b"\r\n"].concat());
    assert_eq!(events, [message(COMPACT, 5), Got::Pong]);
}

#[test]
fn bad_streams_fail_with_their_code_and_stay_failed() {
    let ok = ok_with_many_vias();
    let with_length = |value: &str| {
        format!("SIP/2.0 200 OK\r\nCall-ID: a\r\nContent-Length: {value}\r\n\r\n").into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, siptls_result, &str)> = vec![
        (
            "garbage",
            b"\x16\x03\x01\x02\x00 not sip\r\n\r\n".to_vec(),
            SIPTLS_ERR_SIP_MALFORMED,
            "neither a request line nor a status line",
        ),
        (
            "no colon",
            b"SIP/2.0 200 OK\r\nContent-Length 0\r\n\r\n".to_vec(),
            SIPTLS_ERR_SIP_MALFORMED,
            "a header line without a colon",
        ),
        (
            "bare LF",
            b"SIP/2.0 200 OK\nContent-Length: 0\r\n\r\n".to_vec(),
            SIPTLS_ERR_SIP_MALFORMED,
            "bare CR or LF",
        ),
        (
            "stray LF between messages",
            b"\n".to_vec(),
            SIPTLS_ERR_SIP_MALFORMED,
            "not part of a CRLF",
        ),
        (
            "never-ending header",
            [
                b"SIP/2.0 200 OK\r\n".as_slice(),
                &b"X-Pad: 1234567890\r\n".repeat(2000),
            ]
            .concat(),
            SIPTLS_ERR_SIP_HEADER_TOO_LARGE,
            "no end of the header block within 16384 bytes",
        ),
        (
            "no Content-Length",
            b"SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\n".to_vec(),
            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH,
            "RFC 3261 section 18.3",
        ),
        (
            "Content-Length -1",
            with_length("-1"),
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
            "'-1': not a decimal number",
        ),
        (
            "Content-Length 2^64",
            with_length("18446744073709551616"),
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
            "too large",
        ),
        (
            "Content-Length 12abc",
            with_length("12abc"),
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
            "'12abc': not a decimal number",
        ),
        (
            "empty Content-Length",
            with_length(""),
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
            "not a decimal number",
        ),
        (
            "two Content-Lengths",
            b"SIP/2.0 200 OK\r\nContent-Length: 0\r\nl: 0\r\n\r\n".to_vec(),
            SIPTLS_ERR_SIP_BAD_CONTENT_LENGTH,
            "a second Content-Length",
        ),
        (
            "body over the limit",
            with_length("65537"),
            SIPTLS_ERR_SIP_BODY_TOO_LARGE,
            "Content-Length 65537, more than the 65536 allowed",
        ),
        // The surplus of a body longer than announced is the next "message".
        (
            "body longer than announced",
            [with_length("2"), b"hi, and more\r\n\r\n".to_vec()].concat(),
            SIPTLS_ERR_SIP_MALFORMED,
            "neither a request line",
        ),
        // A ping inside a header block ends it early: what follows is no message.
        (
            "ping inside a message",
            [b"SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\n\r\n".as_slice(), &ok].concat(),
            SIPTLS_ERR_SIP_NO_CONTENT_LENGTH,
            "no Content-Length",
        ),
    ];
    for (what, stream, code, says) in cases {
        let f = Framer::server();
        let (_, error) = f.feed(&stream);
        assert_eq!(error, Some(code), "{what}");
        assert!(last_error().contains(says), "{what}: {}", last_error());
        // Final: the framing is lost.
        assert_eq!(f.next(), Err(SIPTLS_ERR_WRONG_STATE), "{what}");
        assert_eq!(f.push(b"x").0, SIPTLS_ERR_WRONG_STATE, "{what}");
    }
}

#[test]
fn the_buffer_is_bounded_and_limits_are_checked() {
    // A framer holding at most 2,048 bytes: two 1,040-byte messages pass
    // through as it fills; then of 4,096 bytes without a header end it
    // takes 2,048, and the header block is over its 1,024-byte limit.
    let f = Framer::new(SIPTLS_KEEPALIVE_ANSWER_PINGS, 1024, 1024, 2048);
    let big = format!(
        "SIP/2.0 200 OK\r\nContent-Length: 1000\r\n\r\n{}",
        "x".repeat(1000)
    )
    .into_bytes();
    let twice = [&big[..], &big[..]].concat();
    let (events, error) = f.feed(&twice);
    assert_eq!(
        (events.len(), error),
        (2, None),
        "messages are taken out as the buffer fills"
    );
    let (code, n) = f.push(&[b'y'; 4096]);
    assert_eq!(
        (code, n),
        (SIPTLS_OK, 2048),
        "no more than buffered_max held"
    );
    assert_eq!(f.next(), Err(SIPTLS_ERR_SIP_HEADER_TOO_LARGE));
    // Bad limits, a bad keep-alive role, NULL arguments.
    let bad = siptls_framer_limits {
        struct_size: std::mem::size_of::<siptls_framer_limits>() as u32,
        keepalive: 0,
        header_max: 4096,
        body_max: 0,
        buffered_max: 1024,
    };
    let mut out = null_mut();
    assert_eq!(
        unsafe { siptls_framer_new(&bad, &mut out) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(out.is_null());
    let role = siptls_framer_limits {
        keepalive: 9,
        buffered_max: 0,
        header_max: 0,
        ..bad
    };
    assert_eq!(
        unsafe { siptls_framer_new(&role, &mut out) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_framer_new(null(), null_mut()) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    let mut n = 7;
    assert_eq!(
        unsafe { siptls_framer_push(null_mut(), b"x".as_ptr(), 1, &mut n) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    assert_eq!(n, 0);
    unsafe { siptls_framer_free(null_mut()) };
}

/// A request whose header block (its end included) is `header_len` bytes,
/// with a body of `body_len`.
fn sized_request(header_len: usize, body_len: usize) -> Vec<u8> {
    let head = "OPTIONS sip:gw.example.test SIP/2.0\r\nX-Pad: ";
    let tail = format!("\r\nContent-Length: {body_len}\r\n\r\n");
    let pad = "p".repeat(header_len - head.len() - tail.len());
    let mut text = format!("{head}{pad}{tail}").into_bytes();
    assert_eq!(text.len(), header_len);
    text.resize(header_len + body_len, b'b');
    text
}

#[test]
fn the_default_limits_are_16k_of_header_64k_of_body_and_128k_held() {
    let one = |text: &[u8]| Framer::server().feed(text);
    // Each limit reached exactly, then passed by one byte.
    let at_limits = sized_request(SIPTLS_SIP_DEFAULT_HEADER_MAX, SIPTLS_SIP_DEFAULT_BODY_MAX);
    let (events, error) = one(&at_limits);
    assert_eq!(error, None);
    assert_eq!(events, [message(&at_limits, SIPTLS_SIP_DEFAULT_BODY_MAX)]);
    let header_over = sized_request(SIPTLS_SIP_DEFAULT_HEADER_MAX + 1, 0);
    assert_eq!(
        one(&header_over),
        (vec![], Some(SIPTLS_ERR_SIP_HEADER_TOO_LARGE))
    );
    let body_over = sized_request(200, SIPTLS_SIP_DEFAULT_BODY_MAX + 1);
    assert_eq!(
        one(&body_over),
        (vec![], Some(SIPTLS_ERR_SIP_BODY_TOO_LARGE))
    );
    // Held: of 200 KiB of whole messages nobody takes out, 128 KiB are
    // taken, then nothing until messages are.
    let small = sized_request(1000, 24);
    let stream = small.repeat(200);
    let f = Framer::server();
    assert_eq!(
        f.push(&stream),
        (SIPTLS_OK, SIPTLS_SIP_DEFAULT_BUFFERED_MAX)
    );
    assert_eq!(
        f.push(&stream[SIPTLS_SIP_DEFAULT_BUFFERED_MAX..]),
        (SIPTLS_BUFFER_FULL, 0)
    );
    assert_eq!(f.next(), Ok(Some(message(&small, 24))));
    assert_eq!(
        f.push(&stream[SIPTLS_SIP_DEFAULT_BUFFERED_MAX..]),
        (SIPTLS_OK, small.len())
    );
    assert_eq!(
        (
            SIPTLS_SIP_DEFAULT_HEADER_MAX,
            SIPTLS_SIP_DEFAULT_BODY_MAX,
            SIPTLS_SIP_DEFAULT_BUFFERED_MAX
        ),
        (16 * 1024, 64 * 1024, 128 * 1024),
        "the numbers of docs/pumping-and-framing.md"
    );
}

#[test]
fn a_huge_content_length_never_wraps_into_a_short_message() {
    // Limits as large as size_t goes: header + body would overflow.
    for length in [u64::MAX, u64::MAX - 30] {
        let f = Framer::new(SIPTLS_KEEPALIVE_ANSWER_PINGS, 1024, usize::MAX, usize::MAX);
        let text =
            format!("OPTIONS sip:gw.example.test SIP/2.0\r\nContent-Length: {length}\r\n\r\n");
        assert_eq!(
            f.feed(text.as_bytes()),
            (vec![], Some(SIPTLS_ERR_SIP_BODY_TOO_LARGE)),
            "Content-Length {length}"
        );
        assert!(last_error().contains("more than the"), "{}", last_error());
    }
    // Just below the wrap, the message fits the limits: its body is awaited.
    let f = Framer::new(SIPTLS_KEEPALIVE_ANSWER_PINGS, 1024, usize::MAX, usize::MAX);
    let length = usize::MAX - 100;
    let text = format!("OPTIONS sip:gw.example.test SIP/2.0\r\nContent-Length: {length}\r\n\r\n");
    assert_eq!(f.feed(text.as_bytes()), (vec![], None));
    assert_eq!(f.next(), Ok(None));
}

#[test]
fn the_framer_frames_a_sessions_plaintext() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    let invite = invite();
    for chunk in [&invite[..100], &invite[100..], b"\r\n\r\n", COMPACT] {
        assert_eq!(c.write(chunk).0, SIPTLS_OK);
        pump(&c, &s);
    }
    let f = Framer::server();
    let (code, plain) = s.read_all();
    assert_eq!(code, SIPTLS_AGAIN);
    assert_eq!(
        f.feed(&plain).0,
        [message(&invite, SDP.len()), Got::Ping, message(COMPACT, 5)]
    );
}

#[test]
fn an_unwritable_event_struct_loses_no_message() {
    let f = Framer::server();
    let invite = invite();
    assert_eq!(f.push(&invite), (SIPTLS_OK, invite.len()));
    let mut small: siptls_sip_event = unsafe { std::mem::zeroed() };
    for size in [0u32, 4, 7] {
        small.struct_size = size;
        assert_eq!(
            unsafe { siptls_framer_take_event(f.0, &mut small) },
            SIPTLS_ERR_INVALID_ARGUMENT,
            "struct_size {size}"
        );
    }
    assert_eq!(
        unsafe { siptls_framer_take_event(f.0, std::ptr::null_mut()) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    // Refused before anything was taken out: the message is still there.
    assert_eq!(f.next(), Ok(Some(message(&invite, SDP.len()))));
    assert_eq!(f.next(), Ok(None));
}

#[test]
fn bytes_of_the_framers_own_buffer_are_refused_and_a_copy_is_taken() {
    let f = Framer::server();
    let invite = invite();
    let stream = [&invite[..], COMPACT].concat();
    assert_eq!(f.push(&stream), (SIPTLS_OK, stream.len()));
    // Both messages are held; the first, taken out, starts the buffer.
    let (code, event) = f.next_raw();
    assert_eq!(code, SIPTLS_OK);
    let (first, len) = (event.message, event.message_len);
    let held_end = first.wrapping_add(stream.len());
    // Refused before any byte is read: the bytes outside the buffer are
    // never touched.
    let overlapping = [
        ("the message itself", first, len),
        (
            "from before the buffer into its start",
            first.wrapping_sub(8),
            16,
        ),
        (
            "from the held bytes' end past it",
            held_end.wrapping_sub(8),
            16,
        ),
        ("the last byte held", held_end.wrapping_sub(1), 1),
    ];
    for (what, data, len) in overlapping {
        let mut consumed = 99;
        let code = unsafe { siptls_framer_push(f.0, data, len, &mut consumed) };
        assert_eq!((code, consumed), (SIPTLS_ERR_INVALID_ARGUMENT, 0), "{what}");
        assert!(
            last_error().contains("data overlaps the framer's own buffer")
                && last_error().contains("copy the bytes into memory of your own first"),
            "{what}: {}",
            last_error()
        );
    }
    // A copy is what the detail asks for. Empty, the message shares no byte.
    let copy = unsafe { std::slice::from_raw_parts(first, len) }.to_vec();
    assert_eq!(copy, invite, "the refusals moved nothing");
    assert_eq!(
        unsafe { siptls_framer_push(f.0, first, 0, &mut 99) },
        SIPTLS_OK
    );
    assert_eq!(f.push(&copy), (SIPTLS_OK, len));
    // Nothing refused was taken: the second message, then the copy.
    assert_eq!(
        f.feed(b"").0,
        [message(COMPACT, 5), message(&invite, SDP.len())]
    );
}
