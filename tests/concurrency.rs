//! Threads: contexts are shared by every thread (and may be reconfigured
//! while sessions run), sessions belong to one thread at a time, and a
//! second thread touching a busy session is refused, not let in.

mod common;
use common::*;

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

const THREADS: usize = 4;
const HANDSHAKES_PER_THREAD: usize = 120;

/// Both sides settled without an error.
const CLEAN: PumpResult = PumpResult {
    client: SIPTLS_OK,
    server: SIPTLS_OK,
};

/// A SIP-sized message unique to one thread and round.
fn message(thread: usize, round: usize, len: usize) -> Vec<u8> {
    let head = format!("MESSAGE sip:t{thread}r{round}@gw-b.example.test SIP/2.0\r\n");
    let body = (0..len).map(|i| (i * 31 + thread * 7 + round) as u8);
    head.bytes().chain(body).collect()
}

/// `data` from the client to the server or back; `Err` says what went wrong.
fn deliver(client: &Sess, server: &Sess, from_client: bool, data: &[u8]) -> Result<(), String> {
    let (from, to) = if from_client {
        (client, server)
    } else {
        (server, client)
    };
    let (code, n) = from.write(data);
    if (code, n) != (SIPTLS_OK, data.len()) {
        return Err(format!("write: {code:?} {n}/{}", data.len()));
    }
    let result = pump(client, server);
    if result != CLEAN {
        return Err(format!("pump: {result:?}"));
    }
    match to.read_all() {
        (SIPTLS_AGAIN, got) if got == data => Ok(()),
        (code, got) => Err(format!(
            "read: {code:?}, {} bytes, intact: {}",
            got.len(),
            got == data
        )),
    }
}

/// One mutual handshake and a request/response exchange.
fn round(cctx: &Ctx, sctx: &Ctx, thread: usize, round: usize) -> Result<(), String> {
    let (client, server) = (Sess::client(cctx), Sess::server(sctx));
    let result = pump(&client, &server);
    if result != CLEAN {
        return Err(format!(
            "handshake: {result:?}: '{}' / '{}'",
            client.last_error(),
            server.last_error()
        ));
    }
    for (side, sess) in [("client", &client), ("server", &server)] {
        let info = sess.info();
        if info.handshaking || (info.verify_status, info.trust_id) != (SIPTLS_VERIFY_OK, 1) {
            return Err(format!(
                "{side}: handshaking {} status {:?} trust ID {}",
                info.handshaking, info.verify_status, info.trust_id
            ));
        }
    }
    deliver(&client, &server, true, &message(thread, round, 3000))?;
    deliver(&client, &server, false, &message(thread, round, 500))
}

#[test]
fn shared_contexts_serve_many_threads_while_trust_changes() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let unrelated = Authority::root("Unrelated CA").issued().cert_pem.clone();
    let done = AtomicBool::new(false);

    let (outcomes, churns) = std::thread::scope(|s| {
        // Reconfigures both contexts for as long as the workers run.
        let churn = s.spawn(|| {
            let mut changes = 0u32;
            while !done.load(Ordering::Acquire) {
                let id = 100 + changes % 50;
                for ctx in [&cctx, &sctx] {
                    assert_eq!(
                        ctx.trust(id, unrelated.as_bytes()),
                        SIPTLS_OK,
                        "{}",
                        ctx.last_error()
                    );
                    assert_eq!(
                        unsafe { siptls_ctx_remove_trust(ctx.0, id) },
                        SIPTLS_OK,
                        "{}",
                        ctx.last_error()
                    );
                }
                changes += 1;
            }
            changes
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cctx, sctx) = (&cctx, &sctx);
                s.spawn(move || {
                    (0..HANDSHAKES_PER_THREAD).try_for_each(|r| {
                        round(cctx, sctx, t, r).map_err(|e| format!("thread {t} round {r}: {e}"))
                    })
                })
            })
            .collect();
        // Joined here, not at the scope's end, so the churn stops even if a worker panicked.
        let outcomes: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        done.store(true, Ordering::Release);
        (outcomes, churn.join().expect("trust churn thread"))
    });

    let failures: Vec<String> = outcomes
        .into_iter()
        .filter_map(|o| match o {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("a worker panicked".into()),
        })
        .collect();
    assert_eq!(failures, Vec::<String>::new());
    eprintln!(
        "{} handshakes while the trust tables changed {churns} times",
        THREADS * HANDSHAKES_PER_THREAD
    );
    assert!(
        churns > 0,
        "the trust tables never changed during the handshakes"
    );
    assert_eq!((cctx.trust_ids(), sctx.trust_ids()), (vec![1], vec![1]));
}

/// Holds the verify callback inside the library until the test lets it go.
struct Gate {
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

unsafe extern "C" fn blocking_verify(
    userdata: *mut c_void,
    _report: *const siptls_verify_report,
) -> u32 {
    let gate = unsafe { &*(userdata as *const Gate) };
    let _ = gate.entered.lock().unwrap().send(());
    // Never hang the test: after the timeout the main thread's assertions tell what went wrong.
    let _ = gate
        .release
        .lock()
        .unwrap()
        .recv_timeout(Duration::from_secs(10));
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

/// A session pointer handed to a second thread on purpose: the point is
/// that the library notices the overlapping use.
struct SharedSession(*mut siptls_session);

unsafe impl Send for SharedSession {}

impl SharedSession {
    fn feed(&self, data: &[u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_session_feed(self.0, data.as_ptr(), data.len(), &mut n) };
        (code, n)
    }
}

#[test]
fn a_session_used_from_two_threads_at_once_is_refused_as_busy() {
    let (entered_tx, entered_rx) = channel();
    let (release_tx, release_rx) = channel();
    let gate = Gate {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    };
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let code = unsafe {
        siptls_ctx_set_verify_callback(
            cctx.0,
            Some(blocking_verify),
            &gate as *const Gate as *mut c_void,
        )
    };
    assert_eq!(code, SIPTLS_OK);
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));

    // ClientHello to the server; its whole first flight comes back.
    let mut buf = vec![0u8; 64 * 1024];
    let (_, n) = client.take(&mut buf);
    assert_eq!(server.feed(&buf[..n]), (SIPTLS_OK, n));
    let (_, n) = server.take(&mut buf);
    let flight = buf[..n].to_vec();
    let flight_len = flight.len();

    std::thread::scope(|s| {
        // Thread A feeds the flight; verifying it parks A inside the callback.
        let shared = SharedSession(client.0);
        let a = s.spawn(move || shared.feed(&flight));
        entered_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the verify callback never ran");

        // Thread B (this one) meanwhile: every call on that session is refused.
        let mut out = [0u8; 64];
        let mut info = empty_info();
        info.trust_id = 0x5555;
        let (mut der, mut len, mut text) = (
            std::ptr::dangling::<u8>(),
            99usize,
            [0x55 as std::ffi::c_char; 64],
        );
        let calls = [
            ("feed", client.feed(b"\x17\x03\x03").0),
            ("take", client.take(&mut out).0),
            ("write", client.write(b"INVITE").0),
            ("read", client.read(&mut out).0),
            ("close", client.close()),
            ("transport_closed", unsafe {
                siptls_session_feed_eof(client.0)
            }),
            ("get_info", unsafe {
                siptls_session_get_info(client.0, &mut info)
            }),
            ("peer_cert", unsafe {
                siptls_session_get_peer_cert(client.0, 0, &mut der, &mut len)
            }),
            ("session_last_error", unsafe {
                siptls_session_get_last_error(client.0, text.as_mut_ptr(), text.len(), &mut len)
            }),
        ];
        for (name, code) in calls {
            assert_eq!(code, SIPTLS_ERR_BUSY, "{name}");
        }
        // Outputs are set even when BUSY refuses the call.
        assert_eq!(
            (info.trust_id, info.struct_size as usize),
            (0, std::mem::size_of_val(&info))
        );
        assert_eq!((der, len, text[0]), (std::ptr::null(), 0, 0));
        assert!(
            last_error().contains("in use by another call"),
            "{}",
            last_error()
        );

        // The busy session holds no context lock: the context and its other sessions carry on.
        let other = Sess::client(&cctx);
        assert_eq!(other.take(&mut out).0, SIPTLS_OK);
        assert_eq!(
            cctx.trust(100, pki().root.issued().cert_pem.as_bytes()),
            SIPTLS_OK
        );
        assert_eq!(unsafe { siptls_ctx_remove_trust(cctx.0, 100) }, SIPTLS_OK);

        release_tx.send(()).unwrap();
        assert_eq!(a.join().unwrap(), (SIPTLS_OK, flight_len));
    });

    // None of the refused calls took effect: the handshake completes and data flows.
    assert_handshake_ok(&client, &server);
    let info = client.info();
    assert_eq!(
        (info.verify_status, info.close_state),
        (SIPTLS_VERIFY_OK, siptls_close_state::SIPTLS_CLOSE_OPEN)
    );
    assert_eq!(
        client
            .write(b"INVITE sip:gw-b.example.test SIP/2.0\r\n\r\n")
            .0,
        SIPTLS_OK
    );
    pump(&client, &server);
    assert_eq!(
        server.read_all().1,
        b"INVITE sip:gw-b.example.test SIP/2.0\r\n\r\n"
    );
}

#[test]
fn a_context_keeps_each_threads_own_last_error() {
    let ctx = Ctx::client();
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        for depth in [40u32, 50] {
            let (ctx, barrier) = (&ctx, &barrier);
            s.spawn(move || {
                // Each thread fails in its own way, in turn.
                if depth == 50 {
                    barrier.wait();
                }
                let code = unsafe { siptls_ctx_set_max_ca_depth(ctx.0, depth) };
                assert_eq!(code, SIPTLS_ERR_INVALID_ARGUMENT);
                if depth == 40 {
                    barrier.wait();
                }
                barrier.wait();
                // The other thread's later failure does not replace this one's.
                let detail = ctx.last_error();
                assert!(detail.contains(&format!("CA depth {depth} ")), "{detail}");
            });
        }
    });
    // A thread that never failed on this context sees nothing.
    assert_eq!(ctx.last_error(), "");
}

#[test]
fn a_context_keeps_the_last_errors_of_64_threads_and_forgets_the_oldest() {
    // 65 threads fail in turn, each with its own trust ID in the detail;
    // all still alive, each then reads its own. The first one's is gone.
    const KEPT: usize = 64;
    let ctx = Ctx::client();
    let all_failed = std::sync::Barrier::new(KEPT + 1);
    let (turn_tx, turn_rx) = channel::<()>();
    let seen: Vec<(siptls_result, String)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..=KEPT as u32)
            .map(|i| {
                let (ctx, all_failed, turn_tx) = (&ctx, &all_failed, turn_tx.clone());
                let thread = s.spawn(move || {
                    let code = unsafe { siptls_ctx_remove_trust(ctx.0, 1000 + i) };
                    turn_tx.send(()).unwrap();
                    all_failed.wait();
                    // Checked after the join: a panic here would leave the
                    // others waiting at the barrier.
                    (code, ctx.last_error())
                });
                // The next thread fails only after this one has.
                turn_rx.recv_timeout(Duration::from_secs(10)).unwrap();
                thread
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(seen
        .iter()
        .all(|(code, _)| *code == SIPTLS_ERR_TRUST_NOT_FOUND));
    assert_eq!(seen[0].1, "", "the oldest of 65 is forgotten");
    for (i, (_, detail)) in seen.iter().enumerate().skip(1) {
        assert!(
            detail.contains(&format!("no trust entry has trust ID {}", 1000 + i)),
            "thread {i}: {detail}"
        );
    }
}
