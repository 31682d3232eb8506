//! The socket helper through the C ABI: sessions over a real non-blocking
//! socket pair driven by `siptls_session_pump_fd` alone (handshake, data,
//! close_notify, EOF without it), a send buffer too small for what is
//! written and a reader that stops reading (nothing lost, the events to
//! wait for), and the callback variant with blocking and failing callbacks.

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
        (SIPTLS_OK, 0),
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
    assert_eq!(pump_fd(&s, &b), (SIPTLS_OK, 0));
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
    assert_eq!(pump_io(&s, &mut sp), (SIPTLS_OK, 0));
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
