//! The socket helper through the C ABI: sessions over a real non-blocking
//! socket pair driven by `siptls_session_pump_fd` alone (handshake, data,
//! close_notify, EOF without it), a send buffer too small for what is
//! written and a reader that stops reading (nothing lost, the events to
//! wait for), the flags that say what happened (the handshake completed,
//! plaintext waits, the session ended) for the helper and the sans-I/O
//! calls, the table a 0.3 program gets, and the callback variant with
//! blocking and failing callbacks.

mod common;
use common::*;

use std::collections::VecDeque;
use std::ffi::c_void;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::ptr::null;

fn pump_fd(s: &Sess, sock: &UnixStream) -> (siptls_result, u32) {
    let mut wants = 99;
    let code = unsafe { siptls_session_pump_fd(s.0, sock.as_raw_fd(), &mut wants) };
    (code, wants)
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Pumps both ends until neither moves anything more.
fn settle(ends: &[(&Sess, &UnixStream)]) {
    for _ in 0..1000 {
        for (s, sock) in ends {
            let (code, _) = pump_fd(s, sock);
            assert_eq!(code, SIPTLS_OK, "{}", s.last_error());
        }
    }
}

#[test]
fn two_sessions_over_a_socket_pair_need_nothing_but_the_helper() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    for _ in 0..50 {
        assert_eq!(pump_fd(&c, &a).0, SIPTLS_OK);
        assert_eq!(pump_fd(&s, &b).0, SIPTLS_OK);
        if !c.info().handshaking && !s.info().handshaking {
            break;
        }
    }
    assert!(!c.info().handshaking && !s.info().handshaking);
    // Idle and established: both wait to read, nothing to write.
    settle(&[(&c, &a), (&s, &b)]);
    assert_eq!(pump_fd(&c, &a), (SIPTLS_OK, SIPTLS_WANT_READ));
    let msg = b"OPTIONS sip:gw-b.example.test SIP/2.0\r\nl: 0\r\n\r\n";
    assert_eq!(c.write(msg).0, SIPTLS_OK);
    settle(&[(&c, &a), (&s, &b)]);
    assert_eq!(s.read_all(), (SIPTLS_AGAIN, msg.to_vec()));
    assert_eq!(c.close(), SIPTLS_OK);
    settle(&[(&c, &a), (&s, &b)]);
    assert_eq!(s.read_all().0, SIPTLS_PEER_CLOSED);
    assert_eq!(
        pump_fd(&s, &b),
        (SIPTLS_OK, SIPTLS_EVENT_ENDED),
        "ended: nothing more to wait for"
    );
}

#[test]
fn the_peer_closing_the_socket_without_close_notify_is_a_truncation() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    settle(&[(&c, &a), (&s, &b)]);
    drop(a);
    assert_eq!(pump_fd(&s, &b), (SIPTLS_OK, SIPTLS_EVENT_ENDED));
    assert_eq!(
        s.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_TRUNCATED
    );
    assert_eq!(s.read_all().0, SIPTLS_ERR_TRUNCATED);
}

#[test]
fn nothing_is_lost_when_the_socket_is_full_or_the_reader_stops_reading() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    settle(&[(&c, &a), (&s, &b)]);
    // 1 MiB written while the server does not pump: the socket fills, the
    // helper keeps the rest and asks to wait for writability.
    let data: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let mut written = 0;
    let mut wanted_write = false;
    while written < data.len() {
        let (code, n) = c.write(&data[written..]);
        assert!(code == SIPTLS_OK || code == SIPTLS_AGAIN);
        written += n;
        let (code, wants) = pump_fd(&c, &a);
        assert_eq!(code, SIPTLS_OK);
        if wants & SIPTLS_WANT_WRITE != 0 {
            wanted_write = true;
            break;
        }
    }
    assert!(
        wanted_write,
        "a full socket makes the helper wait for writability"
    );
    // The server pumps but does not read plaintext: its window fills, and
    // it stops asking to read.
    let mut stopped = false;
    for _ in 0..100 {
        let (code, wants) = pump_fd(&s, &b);
        assert_eq!(code, SIPTLS_OK);
        pump_fd(&c, &a);
        if wants & SIPTLS_WANT_READ == 0 {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "a full receive window stops the reading");
    // Now everything, read as it comes, arrives intact.
    let mut received = Vec::new();
    let mut buf = vec![0u8; 16384];
    for _ in 0..100_000 {
        if received.len() == data.len() {
            break;
        }
        if written < data.len() {
            let (_, n) = c.write(&data[written..]);
            written += n;
        }
        pump_fd(&c, &a);
        pump_fd(&s, &b);
        while let (SIPTLS_OK, n) = s.read(&mut buf) {
            received.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(received.len(), data.len());
    assert!(received == data, "bytes intact and in order");
}

/// An in-memory transport for the callback variant: a queue each way, and
/// misbehaviour on demand.
#[derive(Default)]
struct Pipe {
    inbox: VecDeque<u8>,
    outbox: VecDeque<u8>,
    /// What recv returns instead of data, when set.
    recv_result: Option<i64>,
    /// At most this many bytes per send (0: none, would block).
    send_room: Option<usize>,
}

unsafe extern "C" fn pipe_recv(ud: *mut c_void, buf: *mut u8, len: usize) -> i64 {
    let p = unsafe { &mut *(ud as *mut Pipe) };
    if let Some(r) = p.recv_result {
        return r;
    }
    if p.inbox.is_empty() {
        return SIPTLS_IO_WOULD_BLOCK;
    }
    let n = len.min(p.inbox.len());
    for (i, b) in p.inbox.drain(..n).enumerate() {
        unsafe { *buf.add(i) = b };
    }
    n as i64
}

unsafe extern "C" fn pipe_send(ud: *mut c_void, buf: *const u8, len: usize) -> i64 {
    let p = unsafe { &mut *(ud as *mut Pipe) };
    let n = p.send_room.map_or(len, |room| room.min(len));
    if n == 0 {
        return SIPTLS_IO_WOULD_BLOCK;
    }
    p.outbox
        .extend(unsafe { std::slice::from_raw_parts(buf, n) });
    n as i64
}

fn pump_io(s: &Sess, pipe: &mut Pipe) -> (siptls_result, u32) {
    let io = siptls_io {
        struct_size: std::mem::size_of::<siptls_io>() as u32,
        userdata: pipe as *mut Pipe as *mut c_void,
        recv: Some(pipe_recv),
        send: Some(pipe_send),
    };
    let mut wants = 99;
    let code = unsafe { siptls_session_pump_io(s.0, &io, &mut wants) };
    (code, wants)
}

#[test]
fn the_callback_variant_moves_bytes_through_the_gateways_io() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (mut cp, mut sp) = (Pipe::default(), Pipe::default());
    // Sends of 100 bytes at most: partial sends all the way.
    cp.send_room = Some(100);
    for _ in 0..500 {
        assert_eq!(pump_io(&c, &mut cp).0, SIPTLS_OK, "{}", c.last_error());
        sp.inbox.extend(cp.outbox.drain(..));
        assert_eq!(pump_io(&s, &mut sp).0, SIPTLS_OK, "{}", s.last_error());
        cp.inbox.extend(sp.outbox.drain(..));
    }
    assert!(!c.info().handshaking && !s.info().handshaking);
    // A transport that blocks on send: the helper asks for writability.
    cp.send_room = Some(0);
    assert_eq!(c.write(b"hello").0, SIPTLS_OK);
    assert_eq!(
        pump_io(&c, &mut cp),
        (SIPTLS_OK, SIPTLS_WANT_READ | SIPTLS_WANT_WRITE)
    );
    // Errors of the transport.
    sp.recv_result = Some(-5);
    assert_eq!(pump_io(&s, &mut sp).0, SIPTLS_ERR_IO);
    assert!(s.last_error().contains("returned -5"), "{}", s.last_error());
    sp.recv_result = Some(1 << 40);
    assert_eq!(
        pump_io(&s, &mut sp).0,
        SIPTLS_ERR_IO,
        "more than it was given room for"
    );
    // The end of the stream.
    sp.recv_result = Some(0);
    assert_eq!(pump_io(&s, &mut sp), (SIPTLS_OK, SIPTLS_EVENT_ENDED));
    assert_eq!(
        s.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_TRUNCATED
    );
}

#[test]
fn bad_arguments_are_refused() {
    let client = Ctx::client();
    let c = Sess::client(&client);
    let mut wants = 7;
    assert_eq!(
        unsafe { siptls_session_pump_fd(c.0, -1, &mut wants) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(wants, 0);
    assert_eq!(
        unsafe { siptls_session_pump_fd(std::ptr::null_mut(), 0, &mut wants) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    let io = siptls_io {
        struct_size: std::mem::size_of::<siptls_io>() as u32,
        userdata: std::ptr::null_mut(),
        recv: Some(pipe_recv),
        send: None,
    };
    assert_eq!(
        unsafe { siptls_session_pump_io(c.0, &io, &mut wants) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { siptls_session_pump_io(c.0, null(), &mut wants) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
}

const WANTS: u32 = SIPTLS_WANT_READ | SIPTLS_WANT_WRITE;

fn get_events(s: &Sess) -> u32 {
    let mut events = 99;
    assert_eq!(
        unsafe { siptls_session_get_events(s.0, &mut events) },
        SIPTLS_OK
    );
    events
}

/// Pumps both ends until neither moves anything more, and returns every
/// set of flags each end reported, in order.
fn pump_both(c: (&Sess, &UnixStream), s: (&Sess, &UnixStream), rounds: usize) -> [Vec<u32>; 2] {
    let mut seen = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, (sess, sock)) in [c, s].into_iter().enumerate() {
            let (code, events) = pump_fd(sess, sock);
            assert_eq!(code, SIPTLS_OK, "{}", sess.last_error());
            if events & SIPTLS_EVENT_HANDSHAKE_DONE != 0 {
                let info = sess.info();
                assert!(!info.handshaking, "done, and the info agrees");
                assert_eq!(
                    info.verify_status,
                    siptls_verify_status::SIPTLS_VERIFY_OK,
                    "done only once the peer was accepted"
                );
            }
            seen[i].push(events);
        }
    }
    seen
}

fn count(seen: &[u32], flag: u32) -> usize {
    seen.iter().filter(|e| *e & flag != 0).count()
}

#[test]
fn the_pump_says_when_the_handshake_completed_plaintext_waits_and_the_session_ended() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    // Before any byte moved: no event, the client has its hello to send.
    assert_eq!(get_events(&c), SIPTLS_WANT_READ | SIPTLS_WANT_WRITE);
    let [cs, ss] = pump_both((&c, &a), (&s, &b), 20);
    for (who, seen) in [("client", &cs), ("server", &ss)] {
        assert_eq!(
            count(seen, SIPTLS_EVENT_HANDSHAKE_DONE),
            1,
            "{who}: the handshake is reported once: {seen:?}"
        );
        assert_eq!(count(seen, SIPTLS_EVENT_PLAINTEXT | SIPTLS_EVENT_ENDED), 0);
    }
    // Plaintext waits until it has been read, and no longer.
    let msg = b"OPTIONS sip:gw-b.example.test SIP/2.0\r\nl: 0\r\n\r\n";
    assert_eq!(c.write(msg).0, SIPTLS_OK);
    assert_eq!(pump_fd(&c, &a), (SIPTLS_OK, SIPTLS_WANT_READ));
    assert_eq!(
        pump_fd(&s, &b),
        (SIPTLS_OK, SIPTLS_WANT_READ | SIPTLS_EVENT_PLAINTEXT)
    );
    assert_eq!(
        pump_fd(&s, &b).1,
        SIPTLS_WANT_READ | SIPTLS_EVENT_PLAINTEXT,
        "still waiting: nothing was read"
    );
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf), (SIPTLS_OK, 8));
    assert_eq!(
        get_events(&s),
        SIPTLS_WANT_READ | SIPTLS_EVENT_PLAINTEXT,
        "part of it read: the rest waits"
    );
    assert_eq!(s.read_all(), (SIPTLS_AGAIN, msg[8..].to_vec()));
    assert_eq!(pump_fd(&s, &b), (SIPTLS_OK, SIPTLS_WANT_READ));
    // Data and close_notify in one flight: the data first, then the end.
    assert_eq!(c.write(msg).0, SIPTLS_OK);
    assert_eq!(c.close(), SIPTLS_OK);
    pump_fd(&c, &a);
    let (code, events) = pump_fd(&s, &b);
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(
        events & (SIPTLS_EVENT_PLAINTEXT | SIPTLS_EVENT_ENDED),
        SIPTLS_EVENT_PLAINTEXT
    );
    assert_eq!(events & SIPTLS_WANT_READ, 0, "the peer's stream has ended");
    assert_eq!(s.read_all(), (SIPTLS_PEER_CLOSED, msg.to_vec()));
    assert_eq!(pump_fd(&s, &b), (SIPTLS_OK, SIPTLS_EVENT_ENDED));
    // The server answers the close; the client's end ends too.
    assert_eq!(s.close(), SIPTLS_OK);
    pump_fd(&s, &b);
    assert_eq!(pump_fd(&c, &a), (SIPTLS_OK, SIPTLS_EVENT_ENDED));
    assert_eq!(c.read_all().0, SIPTLS_PEER_CLOSED);
}

#[test]
fn a_peer_the_callback_refuses_is_never_done() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let _refusing = Recorder::attach(&server, siptls_verify_decision::SIPTLS_VERIFY_REJECT);
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    let mut failed = [false, false];
    for _ in 0..20 {
        for (i, (sess, sock)) in [(&c, &a), (&s, &b)].into_iter().enumerate() {
            if failed[i] {
                continue;
            }
            let (code, events) = pump_fd(sess, sock);
            if code != SIPTLS_OK {
                assert_eq!(events, 0, "a failure stores no flags");
                failed[i] = true;
                continue;
            }
            // The refusing server is never done. (The TLS 1.3 client is:
            // it accepted the server and finished before the server read
            // its certificate; the server's alert then fails it.)
            if i == 1 {
                assert_eq!(
                    events & SIPTLS_EVENT_HANDSHAKE_DONE,
                    0,
                    "refused: never done"
                );
            }
        }
    }
    assert_eq!(failed, [true, true], "both ends fail");
    // Asked afterwards: ended, and the server still never done.
    assert_eq!(get_events(&s) & !WANTS, SIPTLS_EVENT_ENDED);
    assert_eq!(get_events(&c) & !WANTS, SIPTLS_EVENT_ENDED);
}

#[test]
fn the_sans_io_calls_get_the_same_flags() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let mut done = [0, 0];
    let mut net = vec![0u8; 32 * 1024];
    // Driven by the flags alone: take what WANT_WRITE says waits, feed it
    // to the other end.
    for _ in 0..10 {
        for (i, (from, to)) in [(&c, &s), (&s, &c)].into_iter().enumerate() {
            let events = get_events(from);
            if events & SIPTLS_EVENT_HANDSHAKE_DONE != 0 {
                assert!(!from.info().handshaking);
                done[i] += 1;
            }
            if events & SIPTLS_WANT_WRITE != 0 {
                let (code, n) = from.take(&mut net);
                assert_eq!(code, SIPTLS_OK);
                assert_eq!(to.feed(&net[..n]), (SIPTLS_OK, n));
                assert_eq!(get_events(from) & SIPTLS_WANT_WRITE, 0, "all taken");
            }
        }
    }
    assert_eq!(done, [1, 1], "each end reported its handshake once");
    assert_eq!(c.write(b"INVITE").0, SIPTLS_OK);
    assert_eq!(get_events(&c), SIPTLS_WANT_READ | SIPTLS_WANT_WRITE);
    let (_, n) = c.take(&mut net);
    s.feed(&net[..n]);
    assert_eq!(get_events(&s), SIPTLS_WANT_READ | SIPTLS_EVENT_PLAINTEXT);
    assert_eq!(s.read_all(), (SIPTLS_AGAIN, b"INVITE".to_vec()));
    assert_eq!(get_events(&s), SIPTLS_WANT_READ);
    // The end of the transport without close_notify: ended, and no more reading.
    assert_eq!(unsafe { siptls_session_feed_eof(s.0) }, SIPTLS_OK);
    assert_eq!(get_events(&s), SIPTLS_EVENT_ENDED);
    assert_eq!(s.read_all().0, SIPTLS_ERR_TRUNCATED);
}

#[test]
fn a_program_built_against_0_3_gets_the_table_it_knows() {
    let mut v3 = std::ptr::null();
    let mut v4 = std::ptr::null();
    assert_eq!(unsafe { siptls_get_api(3, &mut v3) }, SIPTLS_OK);
    assert_eq!(unsafe { siptls_get_api(4, &mut v4) }, SIPTLS_OK);
    let (v3, v4) = unsafe { (&*v3, &*v4) };
    assert_eq!((v3.abi_version, v4.abi_version), (3, 4));
    // Its size ends where 0.4 began appending.
    assert_eq!(
        v3.struct_size as usize,
        std::mem::offset_of!(siptls_api, session_get_events)
    );
    assert_eq!(v4.struct_size as usize, std::mem::size_of::<siptls_api>());
    // The same functions in the same places, the two pump calls aside.
    let words = |t: &siptls_api| -> Vec<usize> {
        let n = v3.struct_size as usize / std::mem::size_of::<usize>();
        unsafe { std::slice::from_raw_parts(t as *const siptls_api as *const usize, n) }.to_vec()
    };
    let pumps = [
        std::mem::offset_of!(siptls_api, session_pump_fd),
        std::mem::offset_of!(siptls_api, session_pump_io),
    ]
    .map(|offset| offset / std::mem::size_of::<usize>());
    let (old, new) = (words(v3), words(v4));
    for (i, (o, n)) in old.iter().zip(&new).enumerate().skip(1) {
        assert_eq!(o == n, !pumps.contains(&i), "word {i} of the table");
    }
    // Its pump stores the WANT flags only: 0 meant "nothing to wait for".
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let (a, b) = pair();
    let mut flags = Vec::new();
    for _ in 0..20 {
        for (sess, sock) in [(&c, &a), (&s, &b)] {
            let mut wants = 99;
            let code = unsafe { (v3.session_pump_fd)(sess.0, sock.as_raw_fd(), &mut wants) };
            assert_eq!(code, SIPTLS_OK);
            flags.push(wants);
        }
    }
    assert!(!c.info().handshaking && !s.info().handshaking);
    drop(a);
    let mut wants = 99;
    assert_eq!(
        unsafe { (v3.session_pump_fd)(s.0, b.as_raw_fd(), &mut wants) },
        SIPTLS_OK
    );
    assert_eq!(wants, 0, "ended, as 0.3 said it");
    assert!(flags.iter().all(|f| f & !WANTS == 0), "{flags:?}");
    // A failure still clears the output, as every call does.
    let mut wants = 99;
    assert_eq!(
        unsafe { (v3.session_pump_fd)(s.0, -1, &mut wants) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(wants, 0);
}
