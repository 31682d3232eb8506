//! The data path allocates nothing of siptls' own: on an established
//! session, steady-state write, take, feed, read and get_info through the C
//! API make exactly the heap allocations that raw rustls makes for the same
//! records (rustls' own per-record buffers), counted by a global allocator.

mod common;
use common::*;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::sync::Arc;

struct Counting;

thread_local! {
    /// Allocations made on this thread while counting is on.
    static COUNT: Cell<Option<usize>> = const { Cell::new(None) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn counted(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(Some(0)));
    f();
    COUNT.with(|c| c.take()).unwrap()
}

const ROUNDS: usize = 200;
const MESSAGE: usize = 1024;

fn siptls_round(c: &Sess, s: &Sess, net: &mut [u8], app: &mut [u8], data: &[u8]) {
    assert_eq!(c.write(data), (SIPTLS_OK, data.len()));
    let (code, n) = c.take(net);
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(s.feed(&net[..n]), (SIPTLS_OK, n));
    assert_eq!(s.read(app), (SIPTLS_OK, data.len()));
    let mut info = empty_info();
    assert_eq!(
        unsafe { siptls_session_get_info(s.0, &mut info) },
        SIPTLS_OK
    );
}

fn buffers() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        vec![0x5au8; MESSAGE],
        vec![0u8; 32 * 1024],
        vec![0u8; 32 * 1024],
    )
}

/// An established siptls pair after a few rounds: whatever is made once
/// (tickets, buffers growing) is made by then. The sessions outlive their
/// contexts, as the API allows.
fn warm_pair(net: &mut [u8], app: &mut [u8], data: &[u8]) -> (Sess, Sess) {
    let (client, server) = (Ctx::client(), Ctx::server());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    for _ in 0..10 {
        siptls_round(&c, &s, net, app, data);
    }
    (c, s)
}

fn rustls_pair() -> (rustls::Connection, rustls::Connection) {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let p = pki();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(p.root.issued().cert_der.clone()))
        .unwrap();
    let roots = Arc::new(roots);
    let ident = |i: &siptls_certgen::Issued| {
        (
            vec![CertificateDer::from(i.cert_der.clone())],
            PrivateKeyDer::from_pem_slice(i.key_pem.as_bytes()).unwrap(),
        )
    };
    let (cc, ck) = ident(&p.client);
    let client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_client_auth_cert(cc, ck)
        .unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .unwrap();
    let (sc, sk) = ident(&p.server);
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(sc, sk)
        .unwrap();
    let mut c: rustls::Connection =
        rustls::ClientConnection::new(Arc::new(client), SERVER_NAME.try_into().unwrap())
            .unwrap()
            .into();
    let mut s: rustls::Connection = rustls::ServerConnection::new(Arc::new(server))
        .unwrap()
        .into();
    let mut buf = vec![0u8; 32 * 1024];
    let flow = |from: &mut rustls::Connection, to: &mut rustls::Connection, buf: &mut [u8]| {
        while from.wants_write() {
            let n = from.write_tls(&mut &mut buf[..]).unwrap();
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                to.read_tls(&mut rest).unwrap();
                to.process_new_packets().unwrap();
            }
        }
    };
    for _ in 0..20 {
        flow(&mut c, &mut s, &mut buf);
        flow(&mut s, &mut c, &mut buf);
    }
    assert!(!c.is_handshaking() && !s.is_handshaking());
    (c, s)
}

fn rustls_round(
    c: &mut rustls::Connection,
    s: &mut rustls::Connection,
    net: &mut [u8],
    app: &mut [u8],
    data: &[u8],
) {
    assert_eq!(c.writer().write(data).unwrap(), data.len());
    let n = c.write_tls(&mut &mut net[..]).unwrap();
    let mut rest = &net[..n];
    while !rest.is_empty() {
        s.read_tls(&mut rest).unwrap();
        s.process_new_packets().unwrap();
    }
    assert_eq!(s.reader().read(app).unwrap(), data.len());
}

#[test]
fn steady_state_calls_allocate_no_more_than_rustls_itself() {
    let (data, mut net, mut app) = buffers();
    let (c, s) = warm_pair(&mut net, &mut app, &data);
    let ours = counted(|| {
        for _ in 0..ROUNDS {
            siptls_round(&c, &s, &mut net, &mut app, &data);
        }
    });

    let (mut rc, mut rs) = rustls_pair();
    for _ in 0..10 {
        rustls_round(&mut rc, &mut rs, &mut net, &mut app, &data);
    }
    let theirs = counted(|| {
        for _ in 0..ROUNDS {
            rustls_round(&mut rc, &mut rs, &mut net, &mut app, &data);
        }
    });
    eprintln!(
        "allocations over {ROUNDS} rounds of a {MESSAGE}-byte message: siptls {ours}, raw rustls {theirs} ({:.1} per record)",
        theirs as f64 / ROUNDS as f64
    );
    assert_eq!(ours, theirs, "siptls' own code allocated on the data path");
}

/// Copying ciphertext out, plaintext out, and the state query allocate
/// nothing at all (rustls keeps its records; get_info copies no text).
#[test]
fn take_read_and_get_info_allocate_nothing() {
    let (data, mut net, mut app) = buffers();
    let (c, s) = warm_pair(&mut net, &mut app, &data);
    assert_eq!(c.write(&data).0, SIPTLS_OK);
    let mut n = 0;
    assert_eq!(counted(|| n = c.take(&mut net).1), 0, "take");
    assert_eq!(s.feed(&net[..n]), (SIPTLS_OK, n));
    assert_eq!(
        counted(|| assert_eq!(s.read(&mut app).1, MESSAGE)),
        0,
        "read"
    );
    let mut info = empty_info();
    let queried = counted(|| {
        assert_eq!(
            unsafe { siptls_session_get_info(s.0, &mut info) },
            SIPTLS_OK
        );
    });
    assert_eq!(queried, 0, "get_info");
}
