//! Side by side, in one run: the same mutual-TLS 1.3 handshake and the same
//! bulk transfer through siptls' C API, through raw rustls, and through
//! OpenSSL, all in memory on one thread, with the ratios between them.
//!
//! `cargo run --release -p siptls-bench [handshakes] [megabytes]`

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use siptls_certgen::{Authority, Issued};

const CHUNK: usize = 16 * 1024;
const SERVER_NAME: &str = "gw-b.example.test";

struct Pki {
    root: Authority,
    server: Issued,
    client: Issued,
}

fn pki() -> Pki {
    let root = Authority::root("bench root");
    let (server, client) = (
        root.sip_leaf(SERVER_NAME),
        root.sip_leaf("gw-a.example.test"),
    );
    Pki {
        root,
        server,
        client,
    }
}

/// One implementation under test: makes connected pairs and moves bytes.
trait Stack {
    type Pair;
    fn name(&self) -> &'static str;
    /// A fresh client/server pair with the handshake completed.
    fn connect(&self) -> Self::Pair;
    /// Sends `total` bytes client -> server in CHUNK writes; returns bytes received.
    fn transfer(&self, pair: &mut Self::Pair, total: usize) -> usize;
    fn suite(&self, pair: &Self::Pair) -> String;
}

struct Measured {
    name: &'static str,
    suite: String,
    handshakes_per_sec: f64,
    megabytes_per_sec: f64,
}

fn measure<S: Stack>(stack: &S, handshakes: usize, megabytes: usize) -> Measured {
    let start = Instant::now();
    let mut last = None;
    for _ in 0..handshakes {
        last = Some(stack.connect());
    }
    let handshake_time = start.elapsed();
    let mut pair = last.expect("at least one handshake");
    let total = megabytes * 1024 * 1024;
    let start = Instant::now();
    let received = stack.transfer(&mut pair, total);
    let transfer_time = start.elapsed();
    assert_eq!(received, total, "{}: bytes lost", stack.name());
    Measured {
        name: stack.name(),
        suite: stack.suite(&pair),
        handshakes_per_sec: handshakes as f64 / secs(handshake_time),
        megabytes_per_sec: megabytes as f64 / secs(transfer_time),
    }
}

const ROUNDS: usize = 5;

/// The median handshake rate and the median throughput of one stack's rounds.
fn median(mut rounds: Vec<Measured>) -> Measured {
    let mid = rounds.len() / 2;
    rounds.sort_by(|a, b| a.megabytes_per_sec.total_cmp(&b.megabytes_per_sec));
    let megabytes_per_sec = rounds[mid].megabytes_per_sec;
    rounds.sort_by(|a, b| a.handshakes_per_sec.total_cmp(&b.handshakes_per_sec));
    let mut result = rounds.swap_remove(mid);
    result.megabytes_per_sec = megabytes_per_sec;
    result
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

// ---- siptls, through the exported C functions as a gateway calls them ----

mod via_siptls {
    use super::*;
    use siptls::capi::siptls_result::*;
    use siptls::capi::*;

    pub struct Siptls {
        client: *mut siptls_ctx,
        server: *mut siptls_ctx,
    }

    pub struct Pair {
        client: *mut siptls_session,
        server: *mut siptls_session,
    }

    impl Drop for Pair {
        fn drop(&mut self) {
            unsafe {
                siptls_session_free(self.client);
                siptls_session_free(self.server);
            }
        }
    }

    impl Drop for Siptls {
        fn drop(&mut self) {
            unsafe {
                siptls_ctx_free(self.client);
                siptls_ctx_free(self.server);
            }
        }
    }

    fn check(code: siptls_result, what: &str) {
        assert_eq!(code, SIPTLS_OK, "{what}");
    }

    fn context(role: siptls_role, identity: &Issued, root: &Authority) -> *mut siptls_ctx {
        let mut ctx = std::ptr::null_mut();
        unsafe {
            check(siptls_ctx_new(role as u32, &mut ctx), "ctx_new");
            let (c, k) = (&identity.cert_pem, &identity.key_pem);
            check(
                siptls_ctx_set_identity_pem(ctx, c.as_ptr(), c.len(), k.as_ptr(), k.len()),
                "identity",
            );
            let ca = &root.issued().cert_pem;
            check(siptls_ctx_trust_add(ctx, 1, ca.as_ptr(), ca.len()), "trust");
            check(
                siptls_ctx_set_versions(ctx, SIPTLS_TLS13, SIPTLS_TLS13),
                "versions",
            );
        }
        ctx
    }

    impl Siptls {
        pub fn new(pki: &Pki) -> Self {
            Self {
                client: context(siptls_role::SIPTLS_ROLE_CLIENT, &pki.client, &pki.root),
                server: context(siptls_role::SIPTLS_ROLE_SERVER, &pki.server, &pki.root),
            }
        }
    }

    /// Moves all pending ciphertext from one session into the other.
    fn flow(from: *mut siptls_session, to: *mut siptls_session, buf: &mut [u8]) -> bool {
        let mut moved = false;
        loop {
            let mut n = 0;
            match unsafe { siptls_session_take(from, buf.as_mut_ptr(), buf.len(), &mut n) } {
                SIPTLS_AGAIN => return moved,
                code => check(code, "take"),
            }
            moved = true;
            let mut offset = 0;
            while offset < n {
                let mut used = 0;
                let code = unsafe {
                    siptls_session_feed(to, buf[offset..].as_ptr(), n - offset, &mut used)
                };
                check(code, "feed");
                offset += used;
            }
        }
    }

    impl Stack for Siptls {
        type Pair = Pair;

        fn name(&self) -> &'static str {
            "siptls"
        }

        fn connect(&self) -> Pair {
            let peer = std::ffi::CString::new(SERVER_NAME).unwrap();
            let mut pair = Pair {
                client: std::ptr::null_mut(),
                server: std::ptr::null_mut(),
            };
            unsafe {
                check(
                    siptls_session_new(self.client, peer.as_ptr(), &mut pair.client),
                    "client session",
                );
                check(
                    siptls_session_new(self.server, std::ptr::null(), &mut pair.server),
                    "server session",
                );
            }
            let mut buf = vec![0u8; 2 * CHUNK];
            while flow(pair.client, pair.server, &mut buf)
                | flow(pair.server, pair.client, &mut buf)
            {}
            pair
        }

        fn transfer(&self, pair: &mut Pair, total: usize) -> usize {
            let data = vec![0x5au8; CHUNK];
            let (mut buf, mut sink) = (vec![0u8; 2 * CHUNK], vec![0u8; CHUNK]);
            let (mut sent, mut received) = (0, 0);
            while received < total {
                if sent < total {
                    let mut n = 0;
                    let len = CHUNK.min(total - sent);
                    check(
                        unsafe { siptls_session_write(pair.client, data.as_ptr(), len, &mut n) },
                        "write",
                    );
                    sent += n;
                }
                flow(pair.client, pair.server, &mut buf);
                loop {
                    let mut n = 0;
                    match unsafe {
                        siptls_session_read(pair.server, sink.as_mut_ptr(), sink.len(), &mut n)
                    } {
                        SIPTLS_OK => received += n,
                        SIPTLS_AGAIN => break,
                        code => check(code, "read"),
                    }
                }
            }
            received
        }

        fn suite(&self, pair: &Pair) -> String {
            let mut info = std::mem::MaybeUninit::<siptls_session_info>::zeroed();
            unsafe {
                (*info.as_mut_ptr()).struct_size = std::mem::size_of::<siptls_session_info>() as u32
            };
            check(
                unsafe { siptls_session_get_info(pair.client, info.as_mut_ptr()) },
                "info",
            );
            let suite = unsafe { info.assume_init() }.cipher_suite;
            unsafe { std::ffi::CStr::from_ptr(siptls_cipher_suite_name(suite)) }
                .to_string_lossy()
                .into_owned()
        }
    }
}

// ---- raw rustls, configured the same way (mutual TLS 1.3, no resumption) ----

mod via_rustls {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::{ClientConnection, RootCertStore, ServerConnection};

    pub struct Rustls {
        client: Arc<rustls::ClientConfig>,
        server: Arc<rustls::ServerConfig>,
    }

    fn identity(issued: &Issued) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let certs = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (
            certs,
            PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
        )
    }

    impl Rustls {
        pub fn new(pki: &Pki) -> Self {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut roots = RootCertStore::empty();
            roots
                .add(CertificateDer::from(pki.root.issued().cert_der.clone()))
                .unwrap();
            let roots = Arc::new(roots);
            let (cert, key) = identity(&pki.client);
            let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_client_auth_cert(cert, key)
                .unwrap();
            client.resumption = rustls::client::Resumption::disabled();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots,
                provider.clone(),
            )
            .build()
            .unwrap();
            let (cert, key) = identity(&pki.server);
            let mut server = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(cert, key)
                .unwrap();
            server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            server.send_tls13_tickets = 0;
            Self {
                client: Arc::new(client),
                server: Arc::new(server),
            }
        }
    }

    /// Moves all pending ciphertext from one connection into the other,
    /// through a fixed buffer as a gateway's socket loop does (the same
    /// pattern the siptls side is driven with).
    fn flow(from: &mut rustls::Connection, to: &mut rustls::Connection, buf: &mut [u8]) -> bool {
        let mut moved = false;
        while from.wants_write() {
            let n = from.write_tls(&mut &mut buf[..]).unwrap();
            moved = true;
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                to.read_tls(&mut rest).unwrap();
                to.process_new_packets().unwrap();
            }
        }
        moved
    }

    pub struct Pair {
        client: rustls::Connection,
        server: rustls::Connection,
    }

    impl Stack for Rustls {
        type Pair = Pair;

        fn name(&self) -> &'static str {
            "rustls"
        }

        fn connect(&self) -> Pair {
            let name = SERVER_NAME.try_into().unwrap();
            let mut pair = Pair {
                client: ClientConnection::new(self.client.clone(), name)
                    .unwrap()
                    .into(),
                server: ServerConnection::new(self.server.clone()).unwrap().into(),
            };
            let mut buf = vec![0u8; 2 * CHUNK];
            while flow(&mut pair.client, &mut pair.server, &mut buf)
                | flow(&mut pair.server, &mut pair.client, &mut buf)
            {}
            assert!(!pair.client.is_handshaking() && !pair.server.is_handshaking());
            pair
        }

        fn transfer(&self, pair: &mut Pair, total: usize) -> usize {
            let data = vec![0x5au8; CHUNK];
            let (mut buf, mut sink) = (vec![0u8; 2 * CHUNK], vec![0u8; CHUNK]);
            let (mut sent, mut received) = (0, 0);
            while received < total {
                if sent < total {
                    sent += pair
                        .client
                        .writer()
                        .write(&data[..CHUNK.min(total - sent)])
                        .unwrap();
                }
                flow(&mut pair.client, &mut pair.server, &mut buf);
                loop {
                    match pair.server.reader().read(&mut sink) {
                        Ok(n) if n > 0 => received += n,
                        Ok(_) => break,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("rustls read: {e}"),
                    }
                }
            }
            received
        }

        fn suite(&self, pair: &Pair) -> String {
            let suite = pair.client.negotiated_cipher_suite().unwrap().suite();
            suite.as_str().unwrap_or("?").to_string()
        }
    }
}

// ---- OpenSSL, through memory pipes, configured the same way ----

mod via_openssl {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::ssl::{
        ErrorCode, Ssl, SslContext, SslMethod, SslSessionCacheMode, SslStream, SslVerifyMode,
        SslVersion,
    };
    use openssl::x509::X509;

    /// One direction of an in-memory connection.
    type Queue = Rc<RefCell<VecDeque<u8>>>;

    pub struct Pipe {
        rx: Queue,
        tx: Queue,
    }

    impl Read for Pipe {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let mut rx = self.rx.borrow_mut();
            if rx.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            rx.read(out)
        }
    }

    impl Write for Pipe {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.tx.borrow_mut().extend(data);
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    pub struct OpenSsl {
        client: SslContext,
        server: SslContext,
    }

    fn context(identity: &Issued, root: &Authority) -> SslContext {
        let mut b = SslContext::builder(SslMethod::tls()).unwrap();
        b.set_min_proto_version(Some(SslVersion::TLS1_3)).unwrap();
        b.set_max_proto_version(Some(SslVersion::TLS1_3)).unwrap();
        b.set_certificate(&X509::from_pem(identity.cert_pem.as_bytes()).unwrap())
            .unwrap();
        b.set_private_key(&PKey::private_key_from_pem(identity.key_pem.as_bytes()).unwrap())
            .unwrap();
        b.cert_store_mut()
            .add_cert(X509::from_pem(root.issued().cert_pem.as_bytes()).unwrap())
            .unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        b.set_num_tickets(0).unwrap();
        b.build()
    }

    impl OpenSsl {
        pub fn new(pki: &Pki) -> Self {
            Self {
                client: context(&pki.client, &pki.root),
                server: context(&pki.server, &pki.root),
            }
        }
    }

    pub struct Pair {
        client: SslStream<Pipe>,
        server: SslStream<Pipe>,
    }

    fn pending(r: Result<(), openssl::ssl::Error>) -> bool {
        match r {
            Ok(()) => false,
            Err(e) if e.code() == ErrorCode::WANT_READ => true,
            Err(e) => panic!("openssl handshake: {e}"),
        }
    }

    impl Stack for OpenSsl {
        type Pair = Pair;

        fn name(&self) -> &'static str {
            "openssl"
        }

        fn connect(&self) -> Pair {
            let (a, b): (Queue, Queue) = Default::default();
            let mut client_ssl = Ssl::new(&self.client).unwrap();
            client_ssl.set_hostname(SERVER_NAME).unwrap();
            let mut client = SslStream::new(
                client_ssl,
                Pipe {
                    rx: a.clone(),
                    tx: b.clone(),
                },
            )
            .unwrap();
            let mut server =
                SslStream::new(Ssl::new(&self.server).unwrap(), Pipe { rx: b, tx: a }).unwrap();
            let mut busy = true;
            while busy {
                busy = pending(client.connect()) | pending(server.accept());
            }
            Pair { client, server }
        }

        fn transfer(&self, pair: &mut Pair, total: usize) -> usize {
            let data = vec![0x5au8; CHUNK];
            let mut sink = vec![0u8; CHUNK];
            let (mut sent, mut received) = (0, 0);
            while received < total {
                if sent < total {
                    sent += pair
                        .client
                        .ssl_write(&data[..CHUNK.min(total - sent)])
                        .unwrap();
                }
                loop {
                    match pair.server.ssl_read(&mut sink) {
                        Ok(n) => received += n,
                        Err(e) if e.code() == ErrorCode::WANT_READ => break,
                        Err(e) => panic!("openssl read: {e}"),
                    }
                }
            }
            received
        }

        fn suite(&self, pair: &Pair) -> String {
            pair.client
                .ssl()
                .current_cipher()
                .map_or("?".into(), |c| c.standard_name().unwrap_or("?").to_string())
        }
    }
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("numbers: handshakes megabytes"));
    let handshakes = args.next().unwrap_or(300);
    let megabytes = args.next().unwrap_or(128);
    let pki = pki();
    println!("in memory, one thread, TLS 1.3, mutual authentication, ECDSA P-256, no resumption");
    println!(
        "{handshakes} handshakes, then {megabytes} MiB client -> server in {} KiB writes; median of {ROUNDS} interleaved rounds\n",
        CHUNK / 1024
    );

    // Rounds interleave the stacks, so a busy moment on the machine hits
    // all three alike.
    let (siptls, rustls, openssl) = (
        via_siptls::Siptls::new(&pki),
        via_rustls::Rustls::new(&pki),
        via_openssl::OpenSsl::new(&pki),
    );
    let mut rounds: [Vec<Measured>; 3] = Default::default();
    for _ in 0..ROUNDS {
        rounds[0].push(measure(&siptls, handshakes, megabytes));
        rounds[1].push(measure(&rustls, handshakes, megabytes));
        rounds[2].push(measure(&openssl, handshakes, megabytes));
    }
    let results = rounds.map(median);

    println!(
        "{:<8} {:>14} {:>10}  suite",
        "stack", "handshakes/s", "MiB/s"
    );
    for r in &results {
        println!(
            "{:<8} {:>14.0} {:>10.0}  {}",
            r.name, r.handshakes_per_sec, r.megabytes_per_sec, r.suite
        );
    }
    let [siptls, rustls, openssl] = &results;
    println!();
    for other in [rustls, openssl] {
        println!(
            "siptls / {:<8} handshakes {:.2}x   throughput {:.2}x",
            other.name,
            siptls.handshakes_per_sec / other.handshakes_per_sec,
            siptls.megabytes_per_sec / other.megabytes_per_sec
        );
    }
}
