//! Interoperability with TLS implementations we did not write: OpenSSL's
//! `s_server` / `s_client` and GnuTLS's `gnutls-serv` / `gnutls-cli` run as
//! child processes against siptls sessions pumped over real loopback TCP,
//! with the protocol version forced on the tool's side.
//!
//! The tools must be installed (Debian packages openssl and gnutls-bin): a
//! missing tool fails the test, it is never skipped.

mod common;
use common::*;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::rc::Rc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Everything one test does, its child processes included, ends within this.
const TEST_BUDGET: Duration = Duration::from_secs(25);
/// How long one wait on a socket or a child lasts before the deadline is checked again.
const POLL: Duration = Duration::from_millis(20);

const REQUEST: &[u8] = b"OPTIONS sip:gw-b.example.test SIP/2.0\r\n";
const RESPONSE: &str = "SIP/2.0 200 OK\r\n";

/// Makes a module per case holding one test per version, e.g. `gnutls_client::tls13`.
macro_rules! cases {
    ($versions:tt: $($case:ident),+ $(,)?) => {
        $(case_tests!($case $versions);)+
    };
}

macro_rules! case_tests {
    ($case:ident [$($test:ident = $version:ident),+]) => {
        mod $case {
            $(
                #[test]
                fn $test() {
                    let name = concat!(stringify!($case), "-", stringify!($test));
                    super::$case(&super::Setup::new(name, super::$version));
                }
            )+
        }
    };
}

cases!([tls12 = TLS12, tls13 = TLS13]:
    openssl_server,
    openssl_client,
    openssl_client_without_certificate,
    gnutls_server,
    gnutls_client,
    gnutls_client_without_certificate,
    openssl_client_resumes,
    gnutls_client_resumes,
    openssl_server_resumes,
    gnutls_server_resumes,
    openssl_client_under_the_128_bit_profile,
    gnutls_client_under_the_128_bit_profile,
    openssl_client_sni_picks_the_identity,
    gnutls_client_sni_picks_the_identity,
    post_quantum_client_against_an_openssl_server_without_the_hybrid,
    openssl_client_with_a_serverauth_only_certificate,
    openssl_server_verifies_an_ecdsa_key_on_a_token,
    openssl_server_verifies_an_rsa_key_on_a_token,
    openssl_client_verifies_an_ecdsa_key_on_a_token,
    openssl_client_verifies_an_rsa_key_on_a_token,
);

cases!([tls10 = TLS10, tls11 = TLS11]: openssl_client_legacy_version, gnutls_client_legacy_version);

/// A protocol version and how each tool is made to use only that one.
#[derive(Clone, Copy)]
struct Version {
    code: u16,
    openssl_flag: &'static str,
    /// As s_server names it in its report.
    openssl_name: &'static str,
    gnutls_priority: &'static str,
    /// As gnutls-serv and gnutls-cli name it in their "Description:" line.
    gnutls_name: &'static str,
}

const TLS13: Version = Version {
    code: SIPTLS_TLS13,
    openssl_flag: "-tls1_3",
    openssl_name: "TLSv1.3",
    gnutls_priority: "NORMAL:-VERS-ALL:+VERS-TLS1.3",
    gnutls_name: "TLS1.3",
};

const TLS12: Version = Version {
    code: SIPTLS_TLS12,
    openssl_flag: "-tls1_2",
    openssl_name: "TLSv1.2",
    gnutls_priority: "NORMAL:-VERS-ALL:+VERS-TLS1.2",
    gnutls_name: "TLS1.2",
};

const TLS11: Version = Version {
    code: 0x0302,
    openssl_flag: "-tls1_1",
    openssl_name: "TLSv1.1",
    gnutls_priority: "NORMAL:-VERS-ALL:+VERS-TLS1.1",
    gnutls_name: "TLS1.1",
};

const TLS10: Version = Version {
    code: 0x0301,
    openssl_flag: "-tls1",
    openssl_name: "TLSv1",
    gnutls_priority: "NORMAL:-VERS-ALL:+VERS-TLS1.0",
    gnutls_name: "TLS1.0",
};

/// One test's surroundings: the version under test, a fresh directory with
/// the PEM files the tools read (it is their working directory), and the
/// deadline every wait respects.
struct Setup {
    version: Version,
    dir: PathBuf,
    deadline: Instant,
}

impl Setup {
    fn new(name: &str, version: Version) -> Setup {
        // target/interop-tmp/<name>, beside Cargo's target/tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .with_file_name("interop-tmp")
            .join(name);
        // Left over from an earlier run, if anything; the files are rewritten below.
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let p = pki();
        for (file, pem) in [
            ("ca.pem", &p.root.issued().cert_pem),
            ("server.pem", &p.server.cert_pem),
            ("server.key", &p.server.key_pem),
            ("client.pem", &p.client.cert_pem),
            ("client.key", &p.client.key_pem),
        ] {
            fs::write(dir.join(file), pem).unwrap();
        }
        Setup {
            version,
            dir,
            deadline: Instant::now() + TEST_BUDGET,
        }
    }
}

/// An external program and the Debian package that provides it.
#[derive(Clone, Copy)]
struct Tool {
    program: &'static str,
    package: &'static str,
}

const OPENSSL: Tool = Tool {
    program: "openssl",
    package: "openssl",
};
const GNUTLS_SERV: Tool = Tool {
    program: "gnutls-serv",
    package: "gnutls-bin",
};
const GNUTLS_CLI: Tool = Tool {
    program: "gnutls-cli",
    package: "gnutls-bin",
};

/// A tool running as a child process, its output going to files in the test
/// directory. Dropping it kills the process, so no test leaves one behind;
/// when the test is failing, the output is printed to explain why.
struct Peer {
    program: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: PathBuf,
    stderr: PathBuf,
    deadline: Instant,
}

impl Peer {
    /// Runs `tool` with `args`, a command line without the program name
    /// (split at whitespace: no argument here holds any).
    fn spawn(setup: &Setup, tool: Tool, args: &str) -> Peer {
        let program = tool.program;
        let log = |stream: &str| setup.dir.join(format!("{program}.{stream}"));
        let (stdout, stderr) = (log("stdout"), log("stderr"));
        let mut child = Command::new(program)
            .args(args.split_whitespace())
            .current_dir(&setup.dir)
            .stdin(Stdio::piped())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| match e.kind() {
                io::ErrorKind::NotFound => {
                    panic!(
                        "{program} is not installed: install the {} package (CI installs it)",
                        tool.package
                    )
                }
                _ => panic!("starting {program}: {e}"),
            });
        Peer {
            program,
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            deadline: setup.deadline,
        }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.stdout).unwrap_or_default()).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.stderr).unwrap_or_default()).into_owned()
    }

    fn write_stdin(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin.write_all(data).unwrap();
        stdin.flush().unwrap();
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Polls `ready` until it yields, failing once the tool has exited
    /// without it or the deadline has passed.
    fn wait_until<T>(&mut self, what: &str, mut ready: impl FnMut(&mut Peer) -> Option<T>) -> T {
        loop {
            // Checked before polling, so whatever the tool did before exiting is seen.
            let exited = self.child.try_wait().unwrap().is_some();
            if let Some(value) = ready(self) {
                return value;
            }
            assert!(
                !exited,
                "{} exited while we waited for {what}",
                self.program
            );
            assert!(
                Instant::now() < self.deadline,
                "timed out waiting for {what} from {}",
                self.program
            );
            sleep(POLL);
        }
    }

    fn wait_for_exit(&mut self) {
        self.wait_until("it to exit", |p| p.child.try_wait().unwrap().map(drop));
    }

    fn wait_for_stdout(&mut self, text: &str) {
        self.wait_until(&format!("{text:?} on its stdout"), |p| {
            p.stdout().contains(text).then_some(())
        });
    }

    /// Connects to the tool's port, retrying until it listens.
    fn connect(&mut self, port: u16) -> TcpStream {
        self.wait_until("it to listen", |_| {
            TcpStream::connect(("127.0.0.1", port)).ok()
        })
    }

    /// Accepts the tool's connection; `listener` must be non-blocking.
    fn accept(&mut self, listener: &TcpListener) -> TcpStream {
        let sock = self.wait_until("its connection", |_| match listener.accept() {
            Ok((sock, _)) => Some(sock),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) => panic!("accept: {e}"),
        });
        sock.set_nonblocking(false).unwrap();
        sock
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Either may fail only because the process is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "----- {} stdout:\n{}\n----- {} stderr:\n{}",
                self.program,
                self.stdout(),
                self.program,
                self.stderr()
            );
        }
    }
}

/// Our context for one role, with the verification reports it delivered;
/// shared by the connections of a test that reconnects.
struct Endpoint {
    ctx: Ctx,
    reports: Box<Recorder>,
}

impl Endpoint {
    fn new(ctx: Ctx) -> Rc<Endpoint> {
        let reports = Recorder::attach(&ctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
        Rc::new(Endpoint { ctx, reports })
    }

    fn client() -> Rc<Endpoint> {
        Endpoint::new(Ctx::client())
    }

    /// Mutual TLS is required: the context's default.
    fn server() -> Rc<Endpoint> {
        Endpoint::new(Ctx::server())
    }

    /// As `server()` or `client()`, its key on the test's SoftHSM2 token
    /// (an RSA identity of the same name for `KeyAlg::Rsa2048`).
    fn on_token(server: bool, alg: KeyAlg) -> Rc<Endpoint> {
        let ctx = if server { Ctx::server() } else { Ctx::client() };
        let (identity, uri) = common::softhsm::softhsm().identity(server, alg);
        assert_eq!(
            ctx.set_identity(&identity.cert_pem, &uri),
            SIPTLS_OK,
            "{}",
            last_error()
        );
        Endpoint::new(ctx)
    }
}

/// Our end of a connection: a siptls session over a TCP socket, pumped as a
/// gateway does.
struct Ours {
    // Fields drop in order: the session may call into the endpoint's
    // recorder until it is freed.
    sess: Sess,
    endpoint: Rc<Endpoint>,
    sock: TcpStream,
    deadline: Instant,
    /// Plaintext received and not yet taken by the test.
    received: Vec<u8>,
    /// How the peer's data ended: SIPTLS_PEER_CLOSED or SIPTLS_ERR_TRUNCATED.
    end: Option<siptls_result>,
    /// The first ciphertext the peer sent (a client's ClientHello), as received.
    first_flight: Vec<u8>,
}

impl Ours {
    fn client(endpoint: &Rc<Endpoint>, sock: TcpStream, deadline: Instant) -> Ours {
        Ours::new(endpoint, Some(SERVER_NAME), sock, deadline)
    }

    fn server(endpoint: &Rc<Endpoint>, sock: TcpStream, deadline: Instant) -> Ours {
        Ours::new(endpoint, None, sock, deadline)
    }

    fn new(
        endpoint: &Rc<Endpoint>,
        peer_name: Option<&str>,
        sock: TcpStream,
        deadline: Instant,
    ) -> Ours {
        let sess = Sess::new(&endpoint.ctx, peer_name).expect("session");
        sock.set_read_timeout(Some(POLL)).unwrap();
        // Never expected to block (the messages are tiny); bounded all the same.
        sock.set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Ours {
            sess,
            endpoint: endpoint.clone(),
            sock,
            deadline,
            received: Vec::new(),
            first_flight: Vec::new(),
            end: None,
        }
    }

    /// Sends all the ciphertext the session holds.
    fn send_pending(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.sess.take(&mut buf) {
                (SIPTLS_OK, n) => self.sock.write_all(&buf[..n])?,
                (SIPTLS_AGAIN, _) => return Ok(()),
                (code, _) => panic!("take: {code:?}: {}", self.sess.last_error()),
            }
        }
    }

    /// Waits up to POLL for ciphertext and feeds it, or reports the end of the transport.
    fn receive(&mut self) -> Result<(), siptls_result> {
        let mut buf = [0u8; 16 * 1024];
        let n = match self.sock.read(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(())
            }
            // A reset ends the transport just as EOF does.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => 0,
            Err(e) => panic!("socket read: {e}"),
        };
        if n == 0 {
            assert_eq!(unsafe { siptls_session_feed_eof(self.sess.0) }, SIPTLS_OK);
            self.take_plaintext();
            return Ok(());
        }
        // The first record in full, however the reads split it.
        let want = match self.first_flight.get(3..5) {
            Some(len) => 5 + usize::from(u16::from_be_bytes([len[0], len[1]])),
            None => 5,
        };
        if self.first_flight.len() < want {
            self.first_flight.extend_from_slice(&buf[..n]);
        }
        self.feed(&buf[..n])
    }

    /// Feeds ciphertext, reading plaintext out whenever the session's receive buffer is full.
    fn feed(&mut self, mut data: &[u8]) -> Result<(), siptls_result> {
        // After close_notify nothing more is taken; anything following it is ignored.
        while !data.is_empty() && self.end.is_none() {
            let used = match self.sess.feed(data) {
                (SIPTLS_OK | SIPTLS_PEER_CLOSED, used) => used,
                (SIPTLS_BUFFER_FULL, _) => 0,
                (code, _) => return Err(code),
            };
            data = &data[used..];
            let read = self.take_plaintext();
            assert!(
                used > 0 || read > 0,
                "the session takes no ciphertext yet holds no plaintext"
            );
        }
        Ok(())
    }

    /// Moves the session's plaintext into `received`; returns how many bytes.
    fn take_plaintext(&mut self) -> usize {
        let (code, data) = self.sess.read_all();
        match code {
            SIPTLS_AGAIN => {}
            SIPTLS_PEER_CLOSED | SIPTLS_ERR_TRUNCATED => self.end = Some(code),
            other => panic!("read: {other:?}: {}", self.sess.last_error()),
        }
        self.received.extend_from_slice(&data);
        data.len()
    }

    /// Pumps until `done`. A session failure is returned once its alert has
    /// been sent, as a gateway would before closing the socket.
    fn run_until(&mut self, what: &str, done: impl Fn(&Ours) -> bool) -> Result<(), siptls_result> {
        loop {
            self.send_pending().expect("sending ciphertext");
            if done(self) {
                return Ok(());
            }
            assert!(
                self.end.is_none(),
                "the peer's data ended ({:?}) before {what}",
                self.end
            );
            assert!(
                Instant::now() < self.deadline,
                "timed out waiting for {what}"
            );
            if let Err(code) = self.receive() {
                // The peer may have gone already; the alert is a courtesy.
                let _ = self.send_pending();
                return Err(code);
            }
        }
    }

    fn run_ok(&mut self, what: &str, done: impl Fn(&Ours) -> bool) {
        if let Err(code) = self.run_until(what, done) {
            panic!(
                "session failed waiting for {what}: {code:?}: {}",
                self.sess.last_error()
            );
        }
    }

    fn handshake(&mut self) -> Result<(), siptls_result> {
        self.run_until("the handshake", |o| !o.sess.info().handshaking)
    }

    fn handshake_ok(&mut self) {
        if let Err(code) = self.handshake() {
            panic!("handshake failed: {code:?}: {}", self.sess.last_error());
        }
    }

    fn write_all(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.sess.write(data) {
                (SIPTLS_OK | SIPTLS_AGAIN, n) => data = &data[n..],
                (code, _) => panic!("write: {code:?}: {}", self.sess.last_error()),
            }
            self.send_pending().expect("sending ciphertext");
        }
    }

    fn read_exact(&mut self, n: usize) -> Vec<u8> {
        self.run_ok(&format!("{n} bytes of plaintext"), |o| {
            o.received.len() >= n
        });
        self.received.drain(..n).collect()
    }

    /// Ends our side as a gateway does: close_notify, then the socket closes.
    fn hang_up(mut self) {
        assert_eq!(self.sess.close(), SIPTLS_OK);
        // The peer may have gone already once it has sent its own close_notify.
        let _ = self.send_pending();
    }

    /// Pumps until the peer's data ends; returns how it ended.
    fn read_to_end(&mut self) -> siptls_result {
        self.run_ok("the end of the peer's data", |o| o.end.is_some());
        self.end.unwrap()
    }

    /// The handshake at `version` verified the peer's certificate `peer`:
    /// anchored at trust ID 1 by the root alone, reported once.
    fn assert_verified(&self, version: Version, peer: &Issued) {
        let info = self.sess.info();
        assert_eq!(info.protocol_version, version.code);
        assert!(info.verified && !info.failed);
        assert_eq!(
            (info.verify_status, info.trust_id, info.depth),
            (SIPTLS_VERIFY_OK, 1, 1)
        );
        let seen = self.endpoint.reports.reports();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].status, seen[0].trust_id, seen[0].depth),
            (SIPTLS_VERIFY_OK, 1, 1)
        );
        assert_eq!(seen[0].leaf, peer.cert_der);
    }

    /// Our server refused a client offering only TLS 1.0 or 1.1, before any certificate.
    fn assert_refused_legacy_version(&self, result: Result<(), siptls_result>) {
        // rustls checks for the signature_algorithms extension, which TLS 1.1
        // and older lack, before the version: so handshake_failure, not protocol_version.
        assert_eq!(
            result,
            Err(SIPTLS_ERR_NO_COMMON_PARAMETERS),
            "{}",
            self.sess.last_error()
        );
        let info = self.sess.info();
        assert!(info.failed && !info.verified);
        assert_eq!(info.protocol_version, 0);
        assert!(self.endpoint.reports.reports().is_empty());
    }

    /// Our server refused, at `version`, a client that sent no certificate.
    fn assert_refused_without_certificate(
        &self,
        result: Result<(), siptls_result>,
        version: Version,
    ) {
        assert_eq!(
            result,
            Err(SIPTLS_ERR_CERT_REJECTED),
            "{}",
            self.sess.last_error()
        );
        let info = self.sess.info();
        assert_eq!(info.protocol_version, version.code);
        assert!(info.failed && info.verified);
        assert_eq!(
            (info.verify_status, info.trust_id),
            (SIPTLS_VERIFY_NO_CERTIFICATE, SIPTLS_TRUST_ID_NONE)
        );
        let seen = self.endpoint.reports.reports();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].status, SIPTLS_VERIFY_NO_CERTIFICATE);
    }
}

/// A free port for a tool server: free once this probe is dropped; the tool binds it next.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a tool server on a free port (given to `args` to make its
/// command line) and connects our client to it.
fn start_server(setup: &Setup, tool: Tool, args: impl FnOnce(u16) -> String) -> (Peer, Ours) {
    let port = free_port();
    let mut server = Peer::spawn(setup, tool, &args(port));
    let ours = Ours::client(&Endpoint::client(), server.connect(port), setup.deadline);
    (server, ours)
}

/// Our listening socket for tool clients: non-blocking, so waiting for a
/// connection can give up when the tool fails.
fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Starts a tool client against our listening port (given to `args` to make
/// its command line) and accepts it into our server.
fn start_client(setup: &Setup, tool: Tool, args: impl FnOnce(u16) -> String) -> (Peer, Ours) {
    let (listener, port) = listen();
    let mut client = Peer::spawn(setup, tool, &args(port));
    let ours = Ours::server(
        &Endpoint::server(),
        client.accept(&listener),
        setup.deadline,
    );
    (client, ours)
}

/// Runs a tool client to its connection with our `endpoint` on `listener`.
fn accept_client(
    setup: &Setup,
    endpoint: &Rc<Endpoint>,
    listener: &TcpListener,
    tool: Tool,
    args: &str,
) -> (Peer, Ours) {
    let mut client = Peer::spawn(setup, tool, args);
    let ours = Ours::server(endpoint, client.accept(listener), setup.deadline);
    (client, ours)
}

/// `openssl s_client` at the setup's version, verifying our server as
/// SERVER_NAME, with `extra` flags.
fn start_s_client(setup: &Setup, extra: &str) -> (Peer, Ours) {
    start_client(setup, OPENSSL, |port| s_client_args(setup, port, extra))
}

fn s_client_args(setup: &Setup, port: u16, extra: &str) -> String {
    // -nocommands: lines from stdin go to the server as they are, even those
    // starting with a command letter.
    format!(
        "s_client {} -connect 127.0.0.1:{port} -servername {SERVER_NAME} \
         -verify_hostname {SERVER_NAME} -CAfile ca.pem -verify_return_error -nocommands {extra}",
        setup.version.openssl_flag
    )
}

/// `gnutls-cli` at the setup's version, verifying our server as SERVER_NAME,
/// with `extra` flags.
fn start_gnutls_cli(setup: &Setup, extra: &str) -> (Peer, Ours) {
    start_client(setup, GNUTLS_CLI, |port| {
        gnutls_cli_args(setup, port, extra)
    })
}

fn gnutls_cli_args(setup: &Setup, port: u16, extra: &str) -> String {
    gnutls_cli_priority_args(setup.version.gnutls_priority, port, extra)
}

fn gnutls_cli_priority_args(priority: &str, port: u16, extra: &str) -> String {
    format!(
        "--priority {priority} --port {port} --x509cafile ca.pem --sni-hostname {SERVER_NAME} \
         --verify-hostname {SERVER_NAME} {extra} 127.0.0.1"
    )
}

/// A request typed into the tool client reaches our server, our response
/// reaches the tool's output, and closing its input makes it end the session.
fn serve_one_request(client: &mut Peer, mut ours: Ours) {
    client.write_stdin(REQUEST);
    assert_eq!(ours.read_exact(REQUEST.len()), REQUEST);
    ours.write_all(RESPONSE.as_bytes());
    client.wait_for_stdout(RESPONSE);
    client.close_stdin();
    assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);
    ours.hang_up();
    client.wait_for_exit();
}

fn assert_contains(output: &str, expected: &[&str]) {
    for text in expected {
        assert!(output.contains(text), "the tool's output lacks {text:?}");
    }
}

/// Our client against `openssl s_server`, which requires and verifies our
/// certificate and, with -rev, answers each line reversed.
fn openssl_server(setup: &Setup) {
    openssl_server_verifies(setup, &Endpoint::client());
}

fn openssl_server_verifies_an_ecdsa_key_on_a_token(setup: &Setup) {
    openssl_server_verifies(setup, &Endpoint::on_token(false, KeyAlg::EcdsaP256));
}

fn openssl_server_verifies_an_rsa_key_on_a_token(setup: &Setup) {
    openssl_server_verifies(setup, &Endpoint::on_token(false, KeyAlg::Rsa2048));
}

/// `openssl s_server` requires and verifies the certificate of our client
/// `endpoint`, whose name is CLIENT_NAME.
fn openssl_server_verifies(setup: &Setup, endpoint: &Rc<Endpoint>) {
    // -Verify 1 requires a client certificate; -naccept 1 makes it exit after
    // our connection, so its report is complete when read.
    let port = free_port();
    let mut server = Peer::spawn(
        setup,
        OPENSSL,
        &format!(
            "s_server {} -accept {port} -naccept 1 -cert server.pem -key server.key \
             -CAfile ca.pem -Verify 1 -verify_return_error -rev",
            setup.version.openssl_flag
        ),
    );
    let mut ours = Ours::client(endpoint, server.connect(port), setup.deadline);
    ours.handshake_ok();
    ours.assert_verified(setup.version, &pki().server);

    ours.write_all(REQUEST);
    let reversed = b"0.2/PIS tset.elpmaxe.b-wg:pis SNOITPO\n";
    assert_eq!(ours.read_exact(reversed.len()), reversed);
    // -rev's command to end the session, which it does with close_notify.
    ours.write_all(b"CLOSE\r\n");
    assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);
    // s_server exits once our side of the TCP connection has closed too.
    ours.hang_up();
    server.wait_for_exit();
    assert_contains(
        &server.stderr(),
        &[
            "depth=0 CN = gw-a.example.test\nverify return:1",
            "Verification: OK",
            &format!("Protocol version: {}", setup.version.openssl_name),
        ],
    );
}

/// `openssl s_client` with its certificate against our server.
fn openssl_client(setup: &Setup) {
    openssl_client_verifies(setup, &Endpoint::server());
}

fn openssl_client_verifies_an_ecdsa_key_on_a_token(setup: &Setup) {
    openssl_client_verifies(setup, &Endpoint::on_token(true, KeyAlg::EcdsaP256));
}

fn openssl_client_verifies_an_rsa_key_on_a_token(setup: &Setup) {
    openssl_client_verifies(setup, &Endpoint::on_token(true, KeyAlg::Rsa2048));
}

/// `openssl s_client`, with its certificate, verifies our server `endpoint`.
fn openssl_client_verifies(setup: &Setup, endpoint: &Rc<Endpoint>) {
    let (listener, port) = listen();
    let args = s_client_args(setup, port, "-cert client.pem -key client.key");
    let (mut client, mut ours) = accept_client(setup, endpoint, &listener, OPENSSL, &args);
    ours.handshake_ok();
    ours.assert_verified(setup.version, &pki().client);
    serve_one_request(&mut client, ours);
    assert_contains(
        &client.stdout(),
        &[
            "Verify return code: 0 (ok)",
            &format!("New, {}, Cipher is", setup.version.openssl_name),
        ],
    );
}

/// `openssl s_client` without a certificate is refused by our server.
fn openssl_client_without_certificate(setup: &Setup) {
    let (mut client, mut ours) = start_s_client(setup, "");
    let result = ours.handshake();
    ours.assert_refused_without_certificate(result, setup.version);
    // The alert is sent; closing the socket, as a gateway then does, lets the tool finish.
    drop(ours);
    client.wait_for_exit();
    // certificate_required, for TLS 1.2 as well (rustls's choice).
    assert_contains(
        &client.stderr(),
        &["alert certificate required", "SSL alert number 116"],
    );
}

/// `openssl s_client` limited to TLS 1.0 or 1.1 is refused by our server.
fn openssl_client_legacy_version(setup: &Setup) {
    // Security level 0, so that nothing on OpenSSL's side rules these versions
    // out: the refusal must be ours.
    let (mut client, mut ours) = start_s_client(setup, "-cipher DEFAULT@SECLEVEL=0");
    let result = ours.handshake();
    ours.assert_refused_legacy_version(result);
    // The alert is sent; closing the socket, as a gateway then does, lets the tool finish.
    drop(ours);
    client.wait_for_exit();
    // It did offer the version under test: its session report names it.
    assert_contains(
        &client.stdout(),
        &[&format!("Protocol  : {}\n", setup.version.openssl_name)],
    );
    assert_contains(
        &client.stderr(),
        &["alert handshake failure", "SSL alert number 40"],
    );
}

/// Our client against `gnutls-serv`, which requires and verifies our
/// certificate and echoes what it receives.
fn gnutls_server(setup: &Setup) {
    // --require-client-cert alone asks for a certificate without verifying
    // it. --crlf echoes byte for byte (without it, CRLF comes back as LF).
    let (mut server, mut ours) = start_server(setup, GNUTLS_SERV, |port| {
        format!(
            "--priority {} --port {port} --x509certfile server.pem --x509keyfile server.key \
             --x509cafile ca.pem --require-client-cert --verify-client-cert --echo --crlf",
            setup.version.gnutls_priority
        )
    });
    ours.handshake_ok();
    ours.assert_verified(setup.version, &pki().server);

    ours.write_all(REQUEST);
    assert_eq!(ours.read_exact(REQUEST.len()), REQUEST);
    // gnutls-serv answers our close_notify with its own.
    assert_eq!(ours.sess.close(), SIPTLS_OK);
    assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);

    // It keeps serving, so its report is awaited rather than its exit.
    server.wait_for_stdout("- Status: The certificate is trusted.");
    assert_contains(
        &server.stdout(),
        &[&format!(
            "- Description: ({}-X.509)",
            setup.version.gnutls_name
        )],
    );
}

/// `gnutls-cli` with its certificate against our server.
fn gnutls_client(setup: &Setup) {
    let (mut client, mut ours) =
        start_gnutls_cli(setup, "--x509certfile client.pem --x509keyfile client.key");
    ours.handshake_ok();
    ours.assert_verified(setup.version, &pki().client);
    serve_one_request(&mut client, ours);
    assert_contains(
        &client.stdout(),
        &[
            "- Successfully sent 1 certificate(s) to server.",
            "- Status: The certificate is trusted.",
            &format!("- Description: ({}-X.509)", setup.version.gnutls_name),
            "- Handshake was completed",
        ],
    );
}

/// `gnutls-cli` without a certificate is refused by our server.
fn gnutls_client_without_certificate(setup: &Setup) {
    let (mut client, mut ours) = start_gnutls_cli(setup, "");
    let result = ours.handshake();
    ours.assert_refused_without_certificate(result, setup.version);
    // The alert is sent; closing the socket, as a gateway then does, lets the tool finish.
    drop(ours);
    client.wait_for_exit();
    assert_contains(
        &client.stdout(),
        &[
            "- Successfully sent 0 certificate(s) to server.",
            "*** Received alert [116]: Certificate is required",
        ],
    );
    assert_contains(
        &client.stderr(),
        &["*** Fatal error: A TLS fatal alert has been received."],
    );
}

/// The highest version a ClientHello offers: its client_version, or the
/// highest of its supported_versions extension (TLS 1.3 style) if present.
fn offered_version(hello: &[u8]) -> u16 {
    let u16_at = |at: usize| u16::from_be_bytes([hello[at], hello[at + 1]]);
    assert_eq!(
        (hello[0], hello[5]),
        (0x16, 0x01),
        "not a ClientHello record"
    );
    let client_version = u16_at(9);
    // Past the header (5), handshake header (4), version (2) and random (32).
    let mut at = 5 + 4 + 2 + 32;
    at += 1 + usize::from(hello[at]); // session ID
    at += 2 + usize::from(u16_at(at)); // cipher suites
    at += 1 + usize::from(hello[at]); // compression methods
    if at >= hello.len() {
        return client_version;
    }
    let end = at + 2 + usize::from(u16_at(at));
    at += 2;
    while at + 4 <= end {
        let (kind, len) = (u16_at(at), usize::from(u16_at(at + 2)));
        if kind == 0x002b {
            // supported_versions: a length byte, then two bytes a version.
            let list = &hello[at + 5..at + 4 + len];
            return list
                .chunks(2)
                .map(|v| u16::from_be_bytes([v[0], v[1]]))
                .filter(|v| v >> 8 == 0x03) // not GREASE values
                .max()
                .unwrap_or(client_version);
        }
        at += 4 + len;
    }
    client_version
}

/// `gnutls-cli` limited to TLS 1.0 or 1.1 is refused by our server.
fn gnutls_client_legacy_version(setup: &Setup) {
    let (mut client, mut ours) = start_gnutls_cli(setup, "");
    let result = ours.handshake();
    // It did offer the version under test, and nothing newer.
    assert_eq!(
        offered_version(&ours.first_flight),
        setup.version.code,
        "gnutls-cli's ClientHello"
    );
    ours.assert_refused_legacy_version(result);
    // The alert is sent; closing the socket, as a gateway then does, lets the tool finish.
    drop(ours);
    client.wait_for_exit();
    assert_contains(
        &client.stdout(),
        &["*** Received alert [40]: Handshake failed"],
    );
}

// --- Resumption ---------------------------------------------------------------

impl Ours {
    /// The handshake just completed resumed (or not) a session verified to
    /// trust ID 1 at depth 1, as its report says.
    fn assert_resumed(&self, resumed: bool) {
        let info = self.sess.info();
        use siptls_handshake_kind::*;
        let kinds: &[siptls_handshake_kind] = match (resumed, cfg!(feature = "fips")) {
            (true, _) => &[SIPTLS_HANDSHAKE_RESUMED],
            (false, false) => &[SIPTLS_HANDSHAKE_FULL],
            // A FIPS server has no X25519, the one key share `openssl
            // s_client` sends: it asks again for P-256 (HelloRetryRequest).
            (false, true) => &[SIPTLS_HANDSHAKE_FULL, SIPTLS_HANDSHAKE_FULL_WITH_RETRY],
        };
        assert!(
            kinds.contains(&info.handshake_kind),
            "{:?}",
            info.handshake_kind
        );
        assert_eq!(
            (info.verify_status, info.trust_id, info.depth),
            (SIPTLS_VERIFY_OK, 1, 1)
        );
        let last = self.endpoint.reports.reports().pop().expect("a report");
        assert_eq!(last.resumed, resumed);
        assert_eq!((last.trust_id, last.depth), (1, 1));
    }
}

/// `openssl s_client` saves its session (-sess_out) and resumes it with our
/// server in a second process (-sess_in), which it reports as "Reused".
fn openssl_client_resumes(setup: &Setup) {
    let endpoint = Endpoint::server();
    let (listener, port) = listen();
    for (resumed, flag, says) in [(false, "-sess_out", "New"), (true, "-sess_in", "Reused")] {
        let extra = format!("-cert client.pem -key client.key {flag} session.pem");
        let mut client = Peer::spawn(setup, OPENSSL, &s_client_args(setup, port, &extra));
        let mut ours = Ours::server(&endpoint, client.accept(&listener), setup.deadline);
        ours.handshake_ok();
        ours.assert_resumed(resumed);
        serve_one_request(&mut client, ours);
        assert_contains(
            &client.stdout(),
            &[&format!(
                "{says}, {}, Cipher is",
                setup.version.openssl_name
            )],
        );
    }
}

/// `gnutls-cli --resume` connects, disconnects, and resumes with our server.
fn gnutls_client_resumes(setup: &Setup) {
    let endpoint = Endpoint::server();
    let (listener, port) = listen();
    let extra = "--resume --x509certfile client.pem --x509keyfile client.key";
    let mut client = Peer::spawn(setup, GNUTLS_CLI, &gnutls_cli_args(setup, port, extra));
    let mut first = Ours::server(&endpoint, client.accept(&listener), setup.deadline);
    first.handshake_ok();
    first.assert_resumed(false);
    first.read_to_end();
    first.hang_up();
    let mut second = Ours::server(&endpoint, client.accept(&listener), setup.deadline);
    second.handshake_ok();
    second.assert_resumed(true);
    serve_one_request(&mut client, second);
    assert_contains(
        &client.stdout(),
        &[
            "- Resume Handshake was completed",
            "*** This is a resumed session",
        ],
    );
}

/// Our client resumes with `openssl s_server`, whose statistics count the hit.
fn openssl_server_resumes(setup: &Setup) {
    let port = free_port();
    let mut server = Peer::spawn(
        setup,
        OPENSSL,
        &format!(
            "s_server {} -accept {port} -naccept 2 -cert server.pem -key server.key \
             -CAfile ca.pem -Verify 1 -verify_return_error -rev",
            setup.version.openssl_flag
        ),
    );
    let endpoint = Endpoint::client();
    for resumed in [false, true] {
        let mut ours = Ours::client(&endpoint, server.connect(port), setup.deadline);
        ours.handshake_ok();
        ours.write_all(REQUEST);
        let reversed = b"0.2/PIS tset.elpmaxe.b-wg:pis SNOITPO\n";
        assert_eq!(ours.read_exact(reversed.len()), reversed);
        ours.assert_resumed(resumed);
        ours.write_all(b"CLOSE\r\n");
        assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);
        ours.hang_up();
    }
    server.wait_for_exit();
    assert_contains(&server.stdout(), &["   1 session cache hits\n"]);
    // It verified our certificate once: in the full handshake.
    let verified = server
        .stderr()
        .matches("depth=0 CN = gw-a.example.test")
        .count();
    assert_eq!(verified, 1);
}

/// Our client resumes with `gnutls-serv`, which says so.
fn gnutls_server_resumes(setup: &Setup) {
    let port = free_port();
    let mut server = Peer::spawn(
        setup,
        GNUTLS_SERV,
        &format!(
            "--priority {} --port {port} --x509certfile server.pem --x509keyfile server.key \
             --x509cafile ca.pem --require-client-cert --verify-client-cert --echo --crlf",
            setup.version.gnutls_priority
        ),
    );
    let endpoint = Endpoint::client();
    for resumed in [false, true] {
        let mut ours = Ours::client(&endpoint, server.connect(port), setup.deadline);
        ours.handshake_ok();
        ours.write_all(REQUEST);
        assert_eq!(ours.read_exact(REQUEST.len()), REQUEST);
        ours.assert_resumed(resumed);
        assert_eq!(ours.sess.close(), SIPTLS_OK);
        assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);
    }
    server.wait_for_stdout("*** This is a resumed session");
}

// --- The 128-bit profile ---------------------------------------------------------

/// Our server with the 128-bit profile refuses a tool client limited to
/// AES-256 (`refusal` in its output) and serves one offering AES-128
/// (`served`). `args(choice, port)` makes the tool's command line for the
/// suite `choice` (`aes256`, then `aes128`).
fn assert_128_bit_profile(
    setup: &Setup,
    tool: Tool,
    args: impl Fn(&str, u16) -> String,
    (aes256, aes128): (&str, &str),
    refusal: &str,
    served: &str,
) {
    let ctx = Ctx::server();
    let code =
        unsafe { siptls_ctx_set_profile(ctx.0, siptls_profile::SIPTLS_PROFILE_128BIT as u32) };
    assert_eq!(code, SIPTLS_OK);
    let endpoint = Endpoint::new(ctx);
    let (listener, port) = listen();

    let (mut client, mut ours) =
        accept_client(setup, &endpoint, &listener, tool, &args(aes256, port));
    let result = ours.handshake();
    assert_eq!(
        result,
        Err(SIPTLS_ERR_NO_COMMON_PARAMETERS),
        "{}",
        ours.sess.last_error()
    );
    drop(ours);
    client.wait_for_exit();
    assert_contains(&(client.stdout() + &client.stderr()), &[refusal]);

    let (mut client, mut ours) =
        accept_client(setup, &endpoint, &listener, tool, &args(aes128, port));
    ours.handshake_ok();
    let suite = ours.sess.info().cipher_suite;
    let expected = if setup.version.code == SIPTLS_TLS13 {
        0x1301
    } else {
        0xc02b
    };
    assert_eq!(suite, expected);
    serve_one_request(&mut client, ours);
    assert_contains(&client.stdout(), &[served]);
}

fn openssl_client_under_the_128_bit_profile(setup: &Setup) {
    let (flag, suites, name) = if setup.version.code == SIPTLS_TLS13 {
        let suites = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256");
        ("-ciphersuites", suites, suites.1)
    } else {
        let suites = (
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        );
        ("-cipher", suites, suites.1)
    };
    let args = |suite: &str, port| {
        s_client_args(
            setup,
            port,
            &format!("-cert client.pem -key client.key {flag} {suite}"),
        )
    };
    let served = format!("Cipher is {name}");
    assert_128_bit_profile(
        setup,
        OPENSSL,
        args,
        suites,
        "alert handshake failure",
        &served,
    );
}

fn gnutls_client_under_the_128_bit_profile(setup: &Setup) {
    let args = |cipher: &str, port| {
        let priority = format!("{}:-CIPHER-ALL:+{cipher}", setup.version.gnutls_priority);
        gnutls_cli_priority_args(
            &priority,
            port,
            "--x509certfile client.pem --x509keyfile client.key",
        )
    };
    let suites = ("AES-256-GCM", "AES-128-GCM");
    assert_128_bit_profile(
        setup,
        GNUTLS_CLI,
        args,
        suites,
        "Received alert [40]",
        "-(AES-128-GCM)",
    );
}

// --- SNI picks the identity ------------------------------------------------------

const VOICE: &str = "sip.voice.example";

/// Our server with the default identity and identity 1 for VOICE: a tool
/// client asking for VOICE by SNI (and verifying that name) gets it, one
/// asking for SERVER_NAME the default; `args(name, port)` makes its command line.
fn assert_sni_picks_the_identity(
    setup: &Setup,
    tool: Tool,
    args: impl Fn(&str, u16) -> String,
    verified: &str,
) {
    let ctx = Ctx::server();
    let voice = pki().root.sip_leaf(VOICE);
    let (c, k) = (&voice.cert_pem, &voice.key_pem);
    let code =
        unsafe { siptls_ctx_add_identity_pem(ctx.0, 1, c.as_ptr(), c.len(), k.as_ptr(), k.len()) };
    assert_eq!(code, SIPTLS_OK);
    let endpoint = Endpoint::new(ctx);
    let (listener, port) = listen();
    for (name, identity) in [(VOICE, 1), (SERVER_NAME, 0)] {
        let (mut client, mut ours) =
            accept_client(setup, &endpoint, &listener, tool, &args(name, port));
        ours.handshake_ok();
        let info = ours.sess.info();
        assert_eq!(
            (info.identity_id, info.sni_len as usize),
            (identity, name.len()),
            "{name}"
        );
        let sni = text(|b, cap, l| unsafe { siptls_session_get_sni(ours.sess.0, b, cap, l) });
        assert_eq!(sni, name);
        serve_one_request(&mut client, ours);
        assert_contains(&client.stdout(), &[verified]);
    }
}

fn openssl_client_sni_picks_the_identity(setup: &Setup) {
    let args = |name: &str, port: u16| {
        format!(
            "s_client {} -connect 127.0.0.1:{port} -servername {name} -verify_hostname {name} \
             -CAfile ca.pem -verify_return_error -nocommands -cert client.pem -key client.key",
            setup.version.openssl_flag
        )
    };
    assert_sni_picks_the_identity(setup, OPENSSL, args, "Verify return code: 0 (ok)");
}

fn gnutls_client_sni_picks_the_identity(setup: &Setup) {
    let args = |name: &str, port: u16| {
        format!(
            "--priority {} --port {port} --x509cafile ca.pem --sni-hostname {name} \
             --verify-hostname {name} --x509certfile client.pem --x509keyfile client.key 127.0.0.1",
            setup.version.gnutls_priority
        )
    };
    assert_sni_picks_the_identity(
        setup,
        GNUTLS_CLI,
        args,
        "- Status: The certificate is trusted.",
    );
}

/// Our client with the post-quantum profile against `openssl s_server`
/// offering only X25519 and P-256 (as OpenSSL before 3.5 does): X25519 is
/// agreed in one round trip, no HelloRetryRequest. A FIPS build has no
/// X25519: P-256 is agreed, in TLS 1.3 after a HelloRetryRequest.
fn post_quantum_client_against_an_openssl_server_without_the_hybrid(setup: &Setup) {
    let port = free_port();
    let mut server = Peer::spawn(
        setup,
        OPENSSL,
        &format!(
            "s_server {} -accept {port} -naccept 1 -cert server.pem -key server.key \
             -CAfile ca.pem -Verify 1 -verify_return_error -rev -groups X25519:P-256",
            setup.version.openssl_flag
        ),
    );
    let ctx = Ctx::client();
    let code = unsafe {
        siptls_ctx_set_profile(ctx.0, siptls_profile::SIPTLS_PROFILE_POST_QUANTUM as u32)
    };
    assert_eq!(code, SIPTLS_OK);
    let mut ours = Ours::client(&Endpoint::new(ctx), server.connect(port), setup.deadline);
    ours.handshake_ok();
    let info = ours.sess.info();
    let fips = cfg!(feature = "fips");
    let kind = match fips && setup.version.code == SIPTLS_TLS13 {
        true => siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL_WITH_RETRY,
        false => siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL,
    };
    assert_eq!(info.handshake_kind, kind);
    let group = if fips { 0x0017 } else { 0x001d };
    assert_eq!(
        info.key_exchange_group, group,
        "X25519, or P-256 in a FIPS build"
    );
    ours.write_all(b"CLOSE\r\n");
    assert_eq!(ours.read_to_end(), SIPTLS_PEER_CLOSED);
    ours.hang_up();
    server.wait_for_exit();
}

/// `openssl s_client` presenting a certificate whose extended key usage
/// allows serverAuth only, as the public CAs issue them since 2026 (a SIP
/// trunk connecting to the gateway): our server lets it in under the
/// default policy, reporting serverAuth as the purpose, and refuses it
/// under the strict one.
fn openssl_client_with_a_serverauth_only_certificate(setup: &Setup) {
    let trunk = pki().root.leaf(&LeafSpec {
        usage: Usage::Server,
        ..LeafSpec::sip("trunk.example.test")
    });
    fs::write(setup.dir.join("trunk.pem"), &trunk.cert_pem).unwrap();
    fs::write(setup.dir.join("trunk.key"), &trunk.key_pem).unwrap();
    let (mut client, mut ours) = start_s_client(setup, "-cert trunk.pem -key trunk.key");
    ours.handshake_ok();
    ours.assert_verified(setup.version, &trunk);
    let seen = ours.endpoint.reports.reports();
    assert_eq!(seen[0].purpose, siptls_purpose::SIPTLS_PURPOSE_SERVER_AUTH);
    serve_one_request(&mut client, ours);

    let strict = Endpoint::server();
    let code = unsafe {
        siptls_ctx_set_eku_policy(strict.ctx.0, siptls_eku_policy::SIPTLS_EKU_STRICT as u32)
    };
    assert_eq!(code, SIPTLS_OK);
    let (listener, port) = listen();
    let args = s_client_args(setup, port, "-cert trunk.pem -key trunk.key");
    let (mut client, mut ours) = accept_client(setup, &strict, &listener, OPENSSL, &args);
    let result = ours.handshake();
    assert_eq!(
        result,
        Err(SIPTLS_ERR_CERT_REJECTED),
        "{}",
        ours.sess.last_error()
    );
    assert_eq!(
        ours.sess.info().verify_status,
        siptls_verify_status::SIPTLS_VERIFY_WRONG_KEY_USAGE
    );
    assert!(
        ours.sess.last_error().contains("SIPTLS_EKU_STRICT"),
        "{}",
        ours.sess.last_error()
    );
    drop(ours);
    client.wait_for_exit();
    assert_contains(&client.stderr(), &["alert unsupported certificate"]);
}
