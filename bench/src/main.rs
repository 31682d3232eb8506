//! Side by side, in one run: the same mutual-TLS handshakes (full and
//! resumed, TLS 1.3 and 1.2) and the same bulk transfer through siptls' C
//! API, through raw rustls, and through OpenSSL, all in memory on one
//! thread, in interleaved rounds, with the median, the min-max spread and
//! the ratios of the medians.
//!
//! `cargo run --release -p siptls-bench [--quick] [handshakes] [megabytes]`
//! (`--quick`: a smoke run that checks every row works, not a measurement)

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

/// What a handshake case asks of every stack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    Tls12,
    Tls13,
}

#[derive(Clone, Copy)]
struct Case {
    version: Version,
    /// Each handshake resumes the session of the one before (tickets on
    /// both sides); otherwise resumption is off everywhere.
    resumed: bool,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{} TLS 1.{}",
            if self.resumed { "resumed" } else { "full" },
            if self.version == Version::Tls13 { 3 } else { 2 }
        )
    }
}

const CASES: [Case; 4] = [
    Case {
        version: Version::Tls13,
        resumed: false,
    },
    Case {
        version: Version::Tls12,
        resumed: false,
    },
    Case {
        version: Version::Tls13,
        resumed: true,
    },
    Case {
        version: Version::Tls12,
        resumed: true,
    },
];

/// One implementation under test, configured for one case: makes connected
/// pairs and moves bytes.
trait Stack: Sized {
    type Pair;
    const NAME: &'static str;
    /// Configured for `case`, with resumption on or off as it says.
    fn new(pki: &Pki, case: Case) -> Self;
    /// From now on, every handshake must resume (or must not).
    fn expect_resumed(&mut self, resumed: bool);
    /// Configured, and in a resumption case holding a session to resume.
    fn ready(pki: &Pki, case: Case) -> Self {
        let mut stack = Self::new(pki, case);
        drop(stack.connect());
        stack.expect_resumed(case.resumed);
        stack
    }
    /// A fresh client/server pair with the handshake completed; panics if
    /// it did not resume when the case says it must, or did when it must not.
    fn connect(&mut self) -> Self::Pair;
    /// Sends `total` bytes client -> server in CHUNK writes; returns bytes received.
    fn transfer(&self, pair: &mut Self::Pair, total: usize) -> usize;
}

/// What one round measures.
#[derive(Clone, Copy)]
enum Measure {
    Handshakes(usize),
    Megabytes(usize),
}

impl Measure {
    fn run<S: Stack>(self, stack: &mut S) -> f64 {
        match self {
            Measure::Handshakes(n) => {
                let start = Instant::now();
                for _ in 0..n {
                    drop(stack.connect());
                }
                n as f64 / secs(start.elapsed())
            }
            Measure::Megabytes(megabytes) => {
                let mut pair = stack.connect();
                let total = megabytes * 1024 * 1024;
                let start = Instant::now();
                let received = stack.transfer(&mut pair, total);
                let elapsed = start.elapsed();
                assert_eq!(received, total, "{}: bytes lost", S::NAME);
                megabytes as f64 / secs(elapsed)
            }
        }
    }
}

/// Heap bytes in use (glibc's count: Rust, aws-lc and OpenSSL all allocate
/// through malloc).
fn heap_in_use() -> usize {
    // SAFETY: a plain query of the allocator's statistics.
    unsafe { libc::mallinfo2() }.uordblks
}

/// Heap per established, idle session: `pairs` handshakes kept alive,
/// both ends counted.
fn idle_bytes_per_session<S: Stack>(stack: &mut S, pairs: usize) -> f64 {
    let before = heap_in_use();
    let held: Vec<S::Pair> = (0..pairs).map(|_| stack.connect()).collect();
    let after = heap_in_use();
    drop(held);
    after.saturating_sub(before) as f64 / (2 * pairs) as f64
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

/// One figure's rounds: the median and the spread.
struct Figure(Vec<f64>);

impl Figure {
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn spread(&self) -> String {
        let (lo, hi) = self
            .0
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("{lo:.0}-{hi:.0}")
    }
}

/// The three stacks, each configured for one case.
struct Row {
    name: String,
    unit: &'static str,
    /// siptls, rustls, openssl.
    figures: [Figure; 3],
}

/// `what` for each stack configured for `case`, in rounds that interleave
/// the stacks, so a busy moment on the machine hits all three alike.
fn measure(pki: &Pki, case: Case, rounds: usize, what: Measure) -> [Figure; 3] {
    let mut siptls = via_siptls::Siptls::ready(pki, case);
    let mut rustls = via_rustls::Rustls::ready(pki, case);
    let mut openssl = via_openssl::OpenSsl::ready(pki, case);
    let mut figures: [Figure; 3] = [Figure(vec![]), Figure(vec![]), Figure(vec![])];
    for _ in 0..rounds {
        figures[0].0.push(what.run(&mut siptls));
        figures[1].0.push(what.run(&mut rustls));
        figures[2].0.push(what.run(&mut openssl));
    }
    figures
}

// ---- siptls, through the exported C functions as a gateway calls them ----

mod via_siptls {
    use super::*;
    use siptls::capi::siptls_result::*;
    use siptls::capi::*;

    pub struct Siptls {
        client: *mut siptls_ctx,
        server: *mut siptls_ctx,
        resumed: bool,
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

    fn context(
        role: siptls_role,
        identity: &Issued,
        root: &Authority,
        case: Case,
    ) -> *mut siptls_ctx {
        let version = match case.version {
            Version::Tls12 => SIPTLS_TLS12,
            Version::Tls13 => SIPTLS_TLS13,
        };
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
            check(siptls_ctx_set_versions(ctx, version, version), "versions");
            check(siptls_ctx_set_resumption(ctx, case.resumed), "resumption");
        }
        ctx
    }

    /// The handshake kind the client session reports.
    fn kind(session: *mut siptls_session) -> siptls_handshake_kind {
        let mut info = std::mem::MaybeUninit::<siptls_session_info>::zeroed();
        unsafe {
            (*info.as_mut_ptr()).struct_size = std::mem::size_of::<siptls_session_info>() as u32
        };
        check(
            unsafe { siptls_session_get_info(session, info.as_mut_ptr()) },
            "info",
        );
        unsafe { info.assume_init() }.handshake_kind
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

    impl Siptls {
        /// Both contexts with `profile` (a `siptls_profile`) instead of the default.
        pub fn with_profile(pki: &Pki, case: Case, profile: siptls_profile) -> Self {
            let stack = Self::ready(pki, case);
            for ctx in [stack.client, stack.server] {
                check(
                    unsafe { siptls_ctx_set_profile(ctx, profile as u32) },
                    "profile",
                );
            }
            stack
        }
    }

    unsafe extern "C" fn discard(_: *mut std::ffi::c_void, _: *const siptls_log_record) {}

    impl Siptls {
        /// Both contexts logging at `level` (0: no callback) into a callback
        /// that discards each record.
        pub fn with_log(pki: &Pki, case: Case, level: u32) -> Self {
            let stack = Self::ready(pki, case);
            let callback = if level == 0 { None } else { Some(discard as _) };
            for ctx in [stack.client, stack.server] {
                let code = unsafe {
                    siptls_ctx_set_log_callback(ctx, callback, level, std::ptr::null_mut())
                };
                check(code, "log callback");
            }
            stack
        }
    }

    impl Stack for Siptls {
        type Pair = Pair;
        const NAME: &'static str = "siptls";

        fn new(pki: &Pki, case: Case) -> Self {
            Self {
                client: context(
                    siptls_role::SIPTLS_ROLE_CLIENT,
                    &pki.client,
                    &pki.root,
                    case,
                ),
                server: context(
                    siptls_role::SIPTLS_ROLE_SERVER,
                    &pki.server,
                    &pki.root,
                    case,
                ),
                resumed: false,
            }
        }

        fn expect_resumed(&mut self, resumed: bool) {
            self.resumed = resumed;
        }

        fn connect(&mut self) -> Pair {
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
            let resumed = kind(pair.client) == siptls_handshake_kind::SIPTLS_HANDSHAKE_RESUMED;
            assert_eq!(resumed, self.resumed, "siptls resumption");
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
    }
}

// ---- raw rustls, configured the same way ----

mod via_rustls {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::{ClientConnection, RootCertStore, ServerConnection};

    pub struct Rustls {
        client: Arc<rustls::ClientConfig>,
        server: Arc<rustls::ServerConfig>,
        resumed: bool,
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
        fn configs(pki: &Pki, case: Case) -> Self {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let versions: &[&rustls::SupportedProtocolVersion] = match case.version {
                Version::Tls12 => &[&rustls::version::TLS12],
                Version::Tls13 => &[&rustls::version::TLS13],
            };
            let mut roots = RootCertStore::empty();
            roots
                .add(CertificateDer::from(pki.root.issued().cert_der.clone()))
                .unwrap();
            let roots = Arc::new(roots);
            let (cert, key) = identity(&pki.client);
            let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions)
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_client_auth_cert(cert, key)
                .unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots,
                provider.clone(),
            )
            .build()
            .unwrap();
            let (cert, key) = identity(&pki.server);
            let mut server = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(cert, key)
                .unwrap();
            server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            if case.resumed {
                // As siptls: stateless tickets, one TLS 1.3 ticket per handshake.
                server.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
                server.send_tls13_tickets = 1;
            } else {
                client.resumption = rustls::client::Resumption::disabled();
                server.send_tls13_tickets = 0;
            }
            Self {
                client: Arc::new(client),
                server: Arc::new(server),
                resumed: false,
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
        const NAME: &'static str = "rustls";

        fn new(pki: &Pki, case: Case) -> Self {
            Self::configs(pki, case)
        }

        fn expect_resumed(&mut self, resumed: bool) {
            self.resumed = resumed;
        }

        fn connect(&mut self) -> Pair {
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
            let resumed = pair.client.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            assert_eq!(resumed, self.resumed, "rustls resumption");
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
    }
}

// ---- OpenSSL, through memory pipes, configured the same way ----

mod via_openssl {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::ssl::{
        ErrorCode, Ssl, SslContext, SslMethod, SslSession, SslSessionCacheMode, SslStream,
        SslVerifyMode, SslVersion,
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
        /// The client's session to resume next, in a resumption case.
        session: Option<SslSession>,
        case: Case,
        resumed: bool,
    }

    fn context(
        identity: &Issued,
        root: &Authority,
        case: Case,
        cache: SslSessionCacheMode,
    ) -> SslContext {
        let version = match case.version {
            Version::Tls12 => SslVersion::TLS1_2,
            Version::Tls13 => SslVersion::TLS1_3,
        };
        let mut b = SslContext::builder(SslMethod::tls()).unwrap();
        b.set_min_proto_version(Some(version)).unwrap();
        b.set_max_proto_version(Some(version)).unwrap();
        b.set_certificate(&X509::from_pem(identity.cert_pem.as_bytes()).unwrap())
            .unwrap();
        b.set_private_key(&PKey::private_key_from_pem(identity.key_pem.as_bytes()).unwrap())
            .unwrap();
        b.cert_store_mut()
            .add_cert(X509::from_pem(root.issued().cert_pem.as_bytes()).unwrap())
            .unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        if case.resumed {
            // Stateless tickets, one per handshake; the client keeps its
            // session itself (below), as an application does.
            b.set_session_cache_mode(cache);
            b.set_num_tickets(1).unwrap();
            b.set_session_id_context(b"bench").unwrap();
        } else {
            b.set_session_cache_mode(SslSessionCacheMode::OFF);
            b.set_num_tickets(0).unwrap();
            b.set_options(openssl::ssl::SslOptions::NO_TICKET);
        }
        b.build()
    }

    pub struct Pair {
        client: SslStream<Pipe>,
        server: SslStream<Pipe>,
    }

    impl Drop for Pair {
        /// OpenSSL makes the session of a connection freed without a
        /// shutdown unresumable: send close_notify (a microsecond beside a
        /// handshake) so the next handshake can resume.
        fn drop(&mut self) {
            let _ = self.client.shutdown();
        }
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
        const NAME: &'static str = "openssl";

        fn new(pki: &Pki, case: Case) -> Self {
            Self {
                client: context(&pki.client, &pki.root, case, SslSessionCacheMode::CLIENT),
                server: context(&pki.server, &pki.root, case, SslSessionCacheMode::SERVER),
                session: None,
                case,
                resumed: false,
            }
        }

        fn expect_resumed(&mut self, resumed: bool) {
            self.resumed = resumed;
        }

        fn connect(&mut self) -> Pair {
            let (a, b): (Queue, Queue) = Default::default();
            let mut client_ssl = Ssl::new(&self.client).unwrap();
            client_ssl.set_hostname(SERVER_NAME).unwrap();
            // Host name verification on, like the others.
            client_ssl.param_mut().set_host(SERVER_NAME).unwrap();
            if let Some(session) = &self.session {
                // SAFETY: the session comes from this client context.
                unsafe { client_ssl.set_session(session) }.unwrap();
            }
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
            assert_eq!(
                client.ssl().session_reused(),
                self.resumed,
                "openssl resumption"
            );
            if self.case.resumed {
                // A TLS 1.3 ticket comes after the handshake: read it.
                let mut nothing = [0u8; 1];
                match client.ssl_read(&mut nothing) {
                    Err(e) if e.code() == ErrorCode::WANT_READ => {}
                    other => panic!("openssl ticket: {other:?}"),
                }
                self.session = client.ssl().session().map(|s| s.to_owned());
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
    }
}

fn main() {
    let mut quick = false;
    let mut numbers = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            n => numbers.push(
                n.parse::<usize>()
                    .expect("usage: [--quick] [handshakes] [megabytes]"),
            ),
        }
    }
    let (rounds, default_handshakes, default_megabytes) =
        if quick { (1, 5, 1) } else { (9, 300, 64) };
    let handshakes = numbers.first().copied().unwrap_or(default_handshakes);
    let megabytes = numbers.get(1).copied().unwrap_or(default_megabytes);
    let pki = pki();
    println!("in memory, one thread, mutual authentication, ECDSA P-256, verified host names");
    println!(
        "{rounds} interleaved rounds of {handshakes} handshakes per case, and of {megabytes} MiB client -> server;"
    );
    println!("each figure: the median, then the min-max of the rounds; ratios of the medians\n");

    let mut rows: Vec<Row> = CASES
        .iter()
        .map(|&case| Row {
            name: format!("{} handshakes", case.name()),
            unit: "/s",
            figures: measure(&pki, case, rounds, Measure::Handshakes(handshakes)),
        })
        .collect();
    rows.push(Row {
        name: format!("bulk TLS 1.3, {} KiB writes", CHUNK / 1024),
        unit: " MiB/s",
        figures: measure(&pki, CASES[0], rounds, Measure::Megabytes(megabytes)),
    });

    println!(
        "{:<34} {:>18} {:>18} {:>18} {:>9} {:>9}",
        "", "siptls", "rustls", "openssl", "/rustls", "/openssl"
    );
    for row in &rows {
        let cell = |f: &Figure| format!("{:.0} ({})", f.median(), f.spread());
        let [siptls, rustls, openssl] = &row.figures;
        println!(
            "{:<34} {:>18} {:>18} {:>18} {:>8.2}x {:>8.2}x",
            format!("{}{}", row.name, row.unit),
            cell(siptls),
            cell(rustls),
            cell(openssl),
            siptls.median() / rustls.median(),
            siptls.median() / openssl.median()
        );
    }
    // Idle memory per session, after the handshake, both ends alike.
    let pairs = if quick { 10 } else { 1000 };
    let case = CASES[0];
    let idle = [
        idle_bytes_per_session(&mut via_siptls::Siptls::ready(&pki, case), pairs),
        idle_bytes_per_session(&mut via_rustls::Rustls::ready(&pki, case), pairs),
        idle_bytes_per_session(&mut via_openssl::OpenSsl::ready(&pki, case), pairs),
    ];
    println!(
        "\nidle memory per established TLS 1.3 session ({pairs} pairs held, heap in use): siptls {:.0} B, rustls {:.0} B, openssl {:.0} B",
        idle[0], idle[1], idle[2]
    );

    // The default key exchange, decided with this: X25519 against the
    // X25519MLKEM768 hybrid (siptls both ends, full TLS 1.3 handshakes).
    let mut kx: [Figure; 2] = [Figure(vec![]), Figure(vec![])];
    let profiles = [
        siptls::capi::siptls_profile::SIPTLS_PROFILE_DEFAULT,
        siptls::capi::siptls_profile::SIPTLS_PROFILE_POST_QUANTUM,
    ];
    let mut stacks = profiles.map(|p| via_siptls::Siptls::with_profile(&pki, CASES[0], p));
    for _ in 0..rounds {
        for (figure, stack) in kx.iter_mut().zip(stacks.iter_mut()) {
            figure.0.push(Measure::Handshakes(handshakes).run(stack));
        }
    }
    println!(
        "\nkey exchange, siptls both ends, full TLS 1.3: X25519 {:.0}/s ({}), X25519MLKEM768 {:.0}/s ({}): {:.2}x",
        kx[0].median(),
        kx[0].spread(),
        kx[1].median(),
        kx[1].spread(),
        kx[1].median() / kx[0].median()
    );
    // What the log callback costs: off (the default), on at ERROR (a good
    // handshake logs nothing), INFO (a few records a handshake), TRACE
    // (rustls' records too); full TLS 1.3 handshakes.
    let levels = [0, 1, 3, 5];
    let mut logged = levels.map(|l| {
        (
            Figure(vec![]),
            via_siptls::Siptls::with_log(&pki, CASES[0], l),
        )
    });
    for _ in 0..rounds {
        for (figure, stack) in logged.iter_mut() {
            figure.0.push(Measure::Handshakes(handshakes).run(stack));
        }
    }
    let off = logged[0].0.median();
    print!("\nlog callback, full TLS 1.3 handshakes/s:");
    for (name, (figure, _)) in ["off", "ERROR", "INFO", "TRACE"].iter().zip(&logged) {
        print!(
            "  {name} {:.0} ({}) {:.2}x",
            figure.median(),
            figure.spread(),
            figure.median() / off
        );
    }
    println!();
    if quick {
        println!("\n--quick: a smoke run; the figures mean nothing");
    }
}
