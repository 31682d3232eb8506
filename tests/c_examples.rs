//! The C examples in `c-examples/`, built with make against the library this
//! `cargo test` built, and run: the server and client over loopback TCP with
//! TLS 1.2 and TLS 1.3, the client refusing every certificate while the
//! gateway clock is not synchronized, the one-screen `minimal` client
//! against the server, and the program that loads the library with dlopen.
//!
//! Everything is written under `target/c-examples-test/run-<pid>/` (a
//! directory per test process, so concurrent `cargo test` runs cannot trip
//! over each other's make), with certificates generated in-process.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use siptls_certgen::{Authority, LeafSpec};

#[path = "common/artifacts.rs"]
mod artifacts;
use artifacts::{library_dir, target_dir};

/// Longest any example may run before it is killed and the test fails.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

const SERVER_NAME: &str = "gw-b.example.test";
const CLIENT_NAME: &str = "gw-a.example.test";

struct Setup {
    /// Where make put server, client and dlopen.
    build: PathBuf,
    /// The three-file layout: certs/server/, certs/client/.
    certs: PathBuf,
    /// Working directory for the examples.
    run: PathBuf,
}

/// Builds the examples and writes the certificates, once per test process.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let base = target_dir().join("c-examples-test");
        remove_stale_runs(&base);
        let run = base.join(format!("run-{}", std::process::id()));
        let build = run.join("build");
        let certs = run.join("certs");
        fs::create_dir_all(&run).expect("create the test directory");
        write_certs(&certs);
        make(&library_dir(), &build);
        Setup { build, certs, run }
    })
}

/// Removes the directories of earlier test processes that have exited.
fn remove_stale_runs(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("run-")) else {
            continue;
        };
        // Linux: a process is alive while /proc/<pid> exists.
        if Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The layout `siptls-certgen --out` writes: a root CA, and a server and a
/// client certificate issued by it, each directory with its own copy of
/// the CA list.
fn write_certs(dir: &Path) {
    let root = Authority::root("siptls Demo Root CA");

    let mut server = LeafSpec::sip(SERVER_NAME);
    server.dns_names.push("localhost".into());
    server.ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let client = LeafSpec::sip(CLIENT_NAME);

    for (sub, spec) in [("server", server), ("client", client)] {
        let issued = root.leaf(&spec);
        let sub = dir.join(sub);
        fs::create_dir_all(&sub).expect("create a certificate directory");
        let key = sub.join("privateKey.pem");
        fs::write(&key, &issued.key_pem).expect("write privateKey.pem");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod the key");
        fs::write(sub.join("publickey.pem"), &issued.cert_pem).expect("write publickey.pem");
        fs::write(sub.join("CAList.pem"), &root.issued().cert_pem).expect("write CAList.pem");
    }
    let ca = dir.join("ca");
    fs::create_dir_all(&ca).expect("create the CA directory");
    fs::write(ca.join("crl.pem"), root.crl(&[], 1).pem).expect("write crl.pem");
}

fn make(libdir: &Path, build: &Path) {
    let c_examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("c-examples");
    let output = Command::new("make")
        .arg("-C")
        .arg(&c_examples)
        .arg(format!("LIBDIR={}", libdir.display()))
        .arg(format!("BUILD={}", build.display()))
        .stdin(Stdio::null())
        .output()
        .expect("run make (is it installed?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "make failed:\n{text}");
    // -Werror already fails the build on a warning; this catches a Makefile
    // that lost it.
    assert!(!text.contains("warning:"), "make printed warnings:\n{text}");
}

/// A free loopback port: bound, then released for the server to take.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// A running example: stdout arrives line by line, stderr at the end.
struct Proc {
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
    exited: bool,
}

/// How an example ended.
struct Finished {
    name: String,
    /// None when it was killed (timeout) or died of a signal.
    code: Option<i32>,
    stdout: Vec<String>,
    stderr: String,
}

impl Proc {
    fn spawn(program: &str, args: &[&str]) -> Proc {
        let setup = setup();
        let path = setup.build.join(program);
        let mut child = Command::new(&path)
            .args(args)
            .current_dir(&setup.run)
            .env_remove("SIPTLS_LIB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Proc {
            name: program.to_string(),
            child,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
            exited: false,
        }
    }

    /// Waits for a stdout line starting with `prefix`; None when the
    /// program closes stdout (exits) first or `timeout` passes.
    fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            self.stdout.push(line.clone());
            if line.starts_with(prefix) {
                return Some(line);
            }
        }
    }

    /// Waits for the program to exit, killing it after CHILD_TIMEOUT.
    fn finish(&mut self) -> Finished {
        self.finish_within(CHILD_TIMEOUT)
    }

    /// `finish` with a longer (or shorter) limit than CHILD_TIMEOUT.
    fn finish_within(&mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let code = loop {
            match self.child.try_wait().expect("wait for a child") {
                Some(status) => break status.code(),
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
                None => thread::sleep(Duration::from_millis(20)),
            }
        };
        self.exited = true;
        // The pipe closed with the process; this collects what is left.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout.push(line);
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        Finished {
            name: self.name.clone(),
            code,
            stdout: std::mem::take(&mut self.stdout),
            stderr,
        }
    }
}

impl Drop for Proc {
    /// A failing test must not leave a server behind.
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Finished {
    fn dump(&self) -> String {
        format!(
            "--- {} exit {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.name,
            self.code,
            self.stdout.join("\n"),
            self.stderr
        )
    }

    #[track_caller]
    fn assert_exit(&self, code: i32) {
        assert_eq!(self.code, Some(code), "unexpected exit\n{}", self.dump());
    }

    /// The first stdout line starting with `prefix`.
    #[track_caller]
    fn line(&self, prefix: &str) -> &str {
        self.stdout
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?}\n{}", self.dump()))
    }

    #[track_caller]
    fn assert_no_line(&self, prefix: &str) {
        assert!(
            !self.stdout.iter().any(|l| l.starts_with(prefix)),
            "unexpected line starting with {prefix:?}\n{}",
            self.dump()
        );
    }
}

/// Starts the server with `server_args` and waits until it listens;
/// returns it and its port. Retries with another port if the one picked was
/// taken in between.
fn start_server(server_args: &[&str]) -> (Proc, String) {
    let server_certs = setup().certs.join("server");
    for attempt in 1..=3 {
        let port = free_port().to_string();
        let mut args = vec!["--host", "127.0.0.1", "--port", &port];
        args.extend(["--certs", server_certs.to_str().expect("UTF-8 path")]);
        args.extend(server_args);
        let mut server = Proc::spawn("server", &args);
        let Some(listening) = server.wait_for_line("server: listening on ", CHILD_TIMEOUT) else {
            let out = server.finish();
            if attempt < 3 && out.stderr.contains("Address already in use") {
                continue;
            }
            panic!("the server did not start listening\n{}", out.dump());
        };
        assert_eq!(listening, format!("server: listening on 127.0.0.1:{port}"));
        return (server, port);
    }
    unreachable!("the loop returns or panics")
}

/// Runs the client against `port`, with `client_args`, to its end.
fn run_client(port: &str, client_args: &[&str]) -> Finished {
    let client_certs = setup().certs.join("client");
    let mut args = vec!["--host", "127.0.0.1", "--port", port];
    args.extend(["--certs", client_certs.to_str().expect("UTF-8 path")]);
    args.extend(client_args);
    Proc::spawn("client", &args).finish()
}

/// Starts the server, waits until it listens, runs the client against it,
/// and returns both outcomes.
fn run_pair(server_args: &[&str], client_args: &[&str]) -> (Finished, Finished) {
    let (mut server, port) = start_server(server_args);
    let client = run_client(&port, client_args);
    (server.finish(), client)
}

/// One OPTIONS / 200 OK over mutual TLS with `flag` on both ends.
fn options_exchange(flag: &str, version: &str, suite_prefix: &str) {
    let (server, client) = run_pair(&[flag], &[flag]);
    let both = format!("{}\n{}", server.dump(), client.dump());
    assert_eq!(server.code, Some(0), "server failed\n{both}");
    assert_eq!(client.code, Some(0), "client failed\n{both}");

    // Each end verified the other to trust ID 1 (the root: one CA in the path).
    let report = server.line("verify: role=server status=OK trust_id=1 depth=1 peer= identities=");
    assert!(
        report.contains(&format!("URI:sip:{CLIENT_NAME}")),
        "{report}"
    );
    let report = client.line(&format!(
        "verify: role=client status=OK trust_id=1 depth=1 peer={SERVER_NAME} identities="
    ));
    assert!(
        report.contains(&format!("URI:sip:{SERVER_NAME}")),
        "{report}"
    );

    let tls = format!("tls: version={version} suite={suite_prefix}");
    assert_eq!(server.line(&tls), client.line(&tls), "same suite\n{both}");

    server.line(&format!("sip: received OPTIONS sip:{SERVER_NAME} SIP/2.0"));
    server.line("sip: sent SIP/2.0 200 OK");
    client.line(&format!("sip: sent OPTIONS sip:{SERVER_NAME} SIP/2.0"));
    client.line("sip: received SIP/2.0 200 OK");
    server.line("tls: peer closed cleanly");
    client.line("tls: peer closed cleanly");

    // Each prints its counters at exit.
    for run in [&server, &client] {
        run.line("counters: siptls_handshakes_total{kind=\"full\"} 1");
        run.line("counters: siptls_sessions_live 0");
    }
    client.line("counters: siptls_alerts_sent_total{alert=\"close_notify\"} 1");
}

#[test]
fn examples_build_with_make_against_the_test_library() {
    let setup = setup();
    for program in [
        "server",
        "client",
        "dlopen",
        "reload",
        "sip_server",
        "sip_load",
        "minimal",
    ] {
        let path = setup.build.join(program);
        assert!(path.is_file(), "{} was not built", path.display());
    }
    // The programs ask for the soname; the build provides it next to them.
    let soname = setup.build.join(env!("SIPTLS_SONAME"));
    assert!(soname.exists(), "{} missing", soname.display());
}

#[test]
fn server_and_client_exchange_options_over_tls12() {
    options_exchange("--tls12", "TLSv1.2", "TLS_ECDHE_");
}

#[test]
fn server_and_client_exchange_options_over_tls13() {
    options_exchange("--tls13", "TLSv1.3", "TLS13_");
}

#[test]
fn client_with_unsynchronized_clock_refuses_the_server() {
    let (server, client) = run_pair(&[], &["--clock", "unsynced"]);
    let both = format!("{}\n{}", server.dump(), client.dump());
    assert_eq!(client.code, Some(1), "client\n{both}");
    client.line(&format!(
        "verify: role=client status=CLOCK_UNSET trust_id=none depth=0 peer={SERVER_NAME} identities="
    ));
    assert!(
        client
            .stderr
            .contains("error: TLS handshake: peer certificate rejected (301): "),
        "client error line\n{both}"
    );
    client.assert_no_line("tls: version=");
    client.assert_no_line("sip: sent");
    // The server gets the client's alert and gives up on the connection.
    assert_eq!(server.code, Some(1), "server\n{both}");
    assert!(server.stderr.contains("error: TLS handshake: "), "{both}");
    server.assert_no_line("sip: received");
}

/// Runs `c-examples/minimal` with the three-file layout in `certs` against
/// the example server on `port`, asking for the server's SIP domain.
fn run_minimal(certs: &Path, port: &str) -> Finished {
    let certs = certs.to_str().expect("UTF-8 path");
    Proc::spawn("minimal", &[certs, "127.0.0.1", port, SERVER_NAME]).finish()
}

/// The one-screen client: its status line, exit 0, and a clean close the
/// server saw (its request first, then its close_notify).
#[test]
fn minimal_client_gets_200_ok_from_the_example_server() {
    let (mut server, port) = start_server(&[]);
    let minimal = run_minimal(&setup().certs.join("client"), &port);
    let server = server.finish();
    let both = format!("{}\n{}", server.dump(), minimal.dump());
    assert_eq!(minimal.code, Some(0), "minimal failed\n{both}");
    assert_eq!(minimal.stdout, ["SIP/2.0 200 OK"], "{both}");
    assert!(minimal.stderr.is_empty(), "{both}");
    assert_eq!(server.code, Some(0), "server failed\n{both}");
    server.line(&format!("sip: received OPTIONS sip:{SERVER_NAME} SIP/2.0"));
    server.line("sip: sent SIP/2.0 200 OK");
    server.line("tls: peer closed cleanly");
}

/// A directory it cannot load: the context's detail names the file.
#[test]
fn minimal_client_names_the_file_it_cannot_load() {
    let certs = setup().run.join("minimal-no-such-dir");
    let minimal = run_minimal(&certs, "5061");
    minimal.assert_exit(1);
    let file = certs.join("publickey.pem");
    assert!(
        minimal.stderr.starts_with(&format!(
            "minimal: {}: file could not be read: {}: ",
            certs.display(),
            file.display()
        )),
        "{}",
        minimal.dump()
    );
}

/// With its own identity but a CA list of another root, the one-screen
/// client refuses the server: the result's text and the session's detail
/// say why, the server gets the alert, and the exit code is not 0.
#[test]
fn minimal_client_refuses_a_server_its_ca_list_does_not_cover() {
    let certs = setup().run.join("minimal-other-ca");
    fs::create_dir_all(&certs).expect("create the certificate directory");
    let client = setup().certs.join("client");
    for file in ["privateKey.pem", "publickey.pem"] {
        fs::copy(client.join(file), certs.join(file)).expect("copy the client identity");
    }
    let other = Authority::root("Other Root CA");
    fs::write(certs.join("CAList.pem"), &other.issued().cert_pem).expect("write CAList.pem");

    let (mut server, port) = start_server(&[]);
    let minimal = run_minimal(&certs, &port);
    let server = server.finish();
    let both = format!("{}\n{}", server.dump(), minimal.dump());
    assert_eq!(minimal.code, Some(1), "minimal\n{both}");
    assert!(minimal.stdout.is_empty(), "no status line\n{both}");
    assert!(
        minimal
            .stderr
            .starts_with("minimal: TLS: peer certificate rejected: "),
        "the result's text\n{both}"
    );
    assert!(
        minimal.stderr.contains(
            "was issued by \"CN=siptls Demo Root CA\": it is not the trust table's one entry"
        ),
        "the session's detail names the unknown issuer\n{both}"
    );
    assert_eq!(server.code, Some(1), "server\n{both}");
    assert!(
        server.stderr.contains("unknown_ca"),
        "the alert arrived\n{both}"
    );
    server.assert_no_line("sip: received");
}

#[test]
fn dlopen_loads_the_library_and_completes_a_session_in_memory() {
    let setup = setup();
    let certs = setup.certs.to_str().expect("UTF-8 path");
    let out = Proc::spawn("dlopen", &[certs]).finish();
    out.assert_exit(0);
    let loaded = out.line("dlopen: loaded ");
    assert!(
        loaded.ends_with(&format!(
            "siptls_get_version()={}, ABI {}",
            env!("CARGO_PKG_VERSION"),
            env!("SIPTLS_ABI_VERSION")
        )),
        "{loaded}"
    );
    out.line("dlopen: handshake ok version=TLSv1.3 suite=TLS13_");
    out.line("dlopen: ok");
}

#[test]
fn reload_keeps_calls_up_across_sighup_reloads_and_crl_refreshes() {
    let setup = setup();
    let certs = setup.certs.to_str().expect("UTF-8 path");
    let out = Proc::spawn("reload", &[certs, "30"]).finish();
    out.assert_exit(0);
    // Loaded, callback set, CRL loaded: three generations. Every reload
    // finds the same three files and every refresh the same CRL, which is
    // no change, so no new generation.
    out.line("reload: 30 reloads, 20 calls kept up, configuration generation 3");
}

/// The handshake kinds an example printed, one per connection ("full", "resumed").
fn handshakes(run: &Finished) -> Vec<&str> {
    run.stdout
        .iter()
        .filter(|l| l.starts_with("tls: version="))
        .filter_map(|l| l.rsplit_once(" handshake=").map(|(_, kind)| kind))
        .collect()
}

/// A ticket key as a farm's key file holds it: 32 random bytes in hex, from openssl.
fn random_ticket_key() -> String {
    let out = Command::new("openssl")
        .args(["rand", "-hex", "32"])
        .output()
        .expect("run openssl (is it installed?)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("hex")
}

/// A farm: server processes sharing a ticket key file resume each other's
/// sessions; after the file is rotated (a new sealing key first), tickets
/// of the old key resume until the old key leaves the file, then not.
#[test]
fn servers_sharing_a_ticket_key_file_resume_across_processes_and_key_rotation() {
    let (old, new) = (random_ticket_key(), random_ticket_key());
    for flag in ["--tls12", "--tls13"] {
        let dir = setup().run.join(format!("farm{flag}"));
        fs::create_dir_all(&dir).expect("create the farm directory");
        let file = |name: &str, keys: &str| {
            let path = dir.join(name);
            fs::write(&path, keys).expect("write a key file");
            path.to_str().expect("UTF-8 path").to_string()
        };
        let before = file("before.keys", &format!("# the farm's ticket keys\n{old}"));
        let rotating = file("rotating.keys", &format!("{new}{old}"));
        let after = file("after.keys", &new);
        let serve = |keys: &str| start_server(&[flag, "--ticket-keys", keys]);

        // Client X: node 1, node 2 (same keys), node 3 (rotated: the new key
        // seals, the old one still opens), node 4 (the old key gone).
        let nodes = [
            serve(&before),
            serve(&before),
            serve(&rotating),
            serve(&after),
        ];
        let ports: Vec<&str> = nodes.iter().map(|(_, port)| port.as_str()).collect();
        let client = run_client(
            ports[0],
            &[
                flag,
                "--then-port",
                ports[1],
                "--then-port",
                ports[2],
                "--then-port",
                ports[3],
            ],
        );
        client.assert_exit(0);
        assert_eq!(
            handshakes(&client),
            ["full", "resumed", "resumed", "resumed"],
            "{flag}\n{}",
            client.dump()
        );
        for (mut node, _) in nodes {
            let node = node.finish();
            node.assert_exit(0);
            node.line("config: ticket keys=");
        }

        // Client Y holds a ticket sealed with the old key only: once the
        // key is out of the file, that ticket no longer resumes.
        let nodes = [serve(&before), serve(&after)];
        let client = run_client(&nodes[0].1, &[flag, "--then-port", &nodes[1].1]);
        client.assert_exit(0);
        assert_eq!(
            handshakes(&client),
            ["full", "full"],
            "{flag}\n{}",
            client.dump()
        );
        for (mut node, _) in nodes {
            node.finish().assert_exit(0);
        }
    }
}

/// `--profile 128bit` on the server: a default client ends up with AES-128-GCM.
#[test]
fn the_128_bit_profile_flag_makes_the_examples_negotiate_aes_128() {
    for (flag, version, suite) in [
        ("--tls13", "TLSv1.3", "TLS13_AES_128_GCM_SHA256"),
        (
            "--tls12",
            "TLSv1.2",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
    ] {
        let (server, client) = run_pair(&[flag, "--profile", "128bit"], &[flag]);
        server.assert_exit(0);
        client.assert_exit(0);
        server.line("config: profile=128bit");
        client.line("config: profile=default");
        let tls = format!("tls: version={version} suite={suite} ");
        assert_eq!(server.line(&tls), client.line(&tls));
    }
}

// --- The event-driven server under load ------------------------------------------

/// Starts the event-driven server on a free port with the server
/// certificates and `extra` options; returns it, listening, and its port.
fn start_sip_server(extra: &[&str]) -> (Proc, String) {
    start_sip_server_with(&setup().certs.join("server"), extra)
}

/// `start_sip_server` with the certificate directory `certs`. Retries with
/// another port if the one picked was taken in between.
fn start_sip_server_with(certs: &Path, extra: &[&str]) -> (Proc, String) {
    for attempt in 1..=3 {
        let port = free_port().to_string();
        let mut args = vec![
            "--port",
            &port,
            "--certs",
            certs.to_str().expect("UTF-8 path"),
        ];
        args.extend(extra);
        let mut server = Proc::spawn("sip_server", &args);
        if server
            .wait_for_line("sip_server: listening on ", CHILD_TIMEOUT)
            .is_some()
        {
            return (server, port);
        }
        let out = server.finish();
        if attempt == 3 || !out.stderr.contains("Address already in use") {
            panic!("sip_server did not start listening\n{}", out.dump());
        }
    }
    unreachable!("the loop returns or panics")
}

/// Raises this process's open-file limit (children inherit it) to `want`
/// or the hard limit; returns what it is now.
fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur = lim.rlim_max.min(want as libc::rlim_t);
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    lim.rlim_cur
}

/// Runs `c-examples/sip_load` against `port`: `n` connections at once,
/// `requests` OPTIONS on each, then a ping and close_notify; with
/// `server_pid` it also reports the server's memory per connection.
fn run_load(
    port: &str,
    n: usize,
    requests: usize,
    server_pid: Option<u32>,
    extra: &[&str],
) -> Finished {
    let certs = setup().certs.join("client");
    let (n_text, requests_text) = (n.to_string(), requests.to_string());
    let pid_text = server_pid.map(|p| p.to_string());
    let mut args = vec![
        "--port",
        port,
        "--certs",
        certs.to_str().expect("UTF-8 path"),
        "--connections",
        &n_text,
        "--requests",
        &requests_text,
        "--timeout",
        "300",
    ];
    if let Some(pid) = &pid_text {
        args.extend(["--server-pid", pid]);
    }
    args.extend(extra);
    Proc::spawn("sip_load", &args).finish_within(Duration::from_secs(330))
}

/// The event-driven server with 2,000 concurrent mutual-TLS connections
/// (SIPTLS_LOAD_CONNECTIONS overrides) from the load generator: every
/// OPTIONS gets its 200 OK, every ping its pong, every connection closes
/// cleanly; then SIGUSR1 prints the counters and SIGTERM ends the server.
/// The rates and the server's memory per connection are printed, not
/// asserted: they are measurements.
#[test]
fn sip_server_holds_thousands_of_connections_in_one_loop() {
    let n: usize = std::env::var("SIPTLS_LOAD_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let limit = raise_fd_limit(2 * n as u64 + 256);
    assert!(
        limit >= n as u64 + 64,
        "the open-file limit {limit} is too low for {n} connections"
    );
    let max = (n + 10).to_string();
    // All connect at once: the last handshakes wait for the first.
    let (mut server, port) =
        start_sip_server(&["--max-connections", &max, "--handshake-timeout", "300"]);
    let pid = server.child.id();
    let load = run_load(&port, n, 3, Some(pid), &[]);
    load.assert_exit(0);
    let requests = 3 * n;
    load.line(&format!("sip_load: handshakes: {n} of {n} in "));
    load.line(&format!(
        "sip_load: requests: {requests} of {requests} answered 200 OK in "
    ));
    load.line(&format!("sip_load: closed cleanly: {n} of {n} (0 failed)"));
    for prefix in [
        "sip_load: handshakes",
        "sip_load: server memory",
        "sip_load: requests",
    ] {
        eprintln!("{}", load.line(prefix));
    }
    unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    server
        .wait_for_line(
            "counters: siptls_handshakes_total{kind=\"full\"}",
            CHILD_TIMEOUT,
        )
        .expect("counters on SIGUSR1");
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let out = server.finish();
    out.assert_exit(0);
    out.line("sip_server: closing 0 connections");
    out.line(&format!(
        "counters: siptls_handshakes_total{{kind=\"full\"}} {n}"
    ));
}

/// The event-driven server takes changed certificate files on SIGHUP (and
/// every 5 seconds) through `siptls_ctx_reload_if_changed`: a key written
/// before its certificate is refused and the old pair serves on; once the
/// certificate follows, the new identity serves, which the load generator
/// sees by the name it must ask for.
#[test]
fn sip_server_reloads_changed_certificate_files_on_sighup() {
    let certs = setup().certs.clone();
    let moving = certs.join(format!("moving-{}", std::process::id()));
    fs::create_dir_all(&moving).unwrap();
    for file in ["privateKey.pem", "publickey.pem", "CAList.pem"] {
        fs::copy(certs.join("server").join(file), moving.join(file)).unwrap();
    }
    let (mut server, port) = start_sip_server_with(&moving, &[]);
    let pid = server.child.id() as i32;
    run_load(&port, 2, 1, None, &["--timeout", "30"]).assert_exit(0);
    // The client's identity (gw-a) replaces the server's, key first.
    fs::copy(
        certs.join("client/privateKey.pem"),
        moving.join("privateKey.pem"),
    )
    .unwrap();
    unsafe { libc::kill(pid, libc::SIGHUP) };
    server
        .wait_for_line("sip_server: reload refused", CHILD_TIMEOUT)
        .expect("the half-replaced pair refused");
    run_load(&port, 2, 1, None, &["--timeout", "30"]).assert_exit(0);
    fs::copy(
        certs.join("client/publickey.pem"),
        moving.join("publickey.pem"),
    )
    .unwrap();
    unsafe { libc::kill(pid, libc::SIGHUP) };
    server
        .wait_for_line("sip_server: reload success, files changed", CHILD_TIMEOUT)
        .expect("the new pair loaded");
    run_load(&port, 2, 1, None, &["--timeout", "30"]).assert_exit(1);
    let load = run_load(
        &port,
        2,
        1,
        None,
        &["--timeout", "30", "--peer-name", CLIENT_NAME],
    );
    load.assert_exit(0);
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let out = server.finish();
    out.assert_exit(0);
    assert!(out.stderr.contains("does not match"), "{}", out.stderr);
    let _ = fs::remove_dir_all(&moving);
}

/// A directory of the three-file layout with RSA-2048 keys: a root and a
/// leaf named `name`.
fn rsa_certs(root: &Authority, sub: &str, name: &str) -> PathBuf {
    let dir = setup()
        .certs
        .join(format!("rsa-{}", std::process::id()))
        .join(sub);
    fs::create_dir_all(&dir).unwrap();
    let leaf = root.leaf(&LeafSpec {
        key_alg: siptls_certgen::KeyAlg::Rsa2048,
        ..LeafSpec::sip(name)
    });
    fs::write(dir.join("privateKey.pem"), &leaf.key_pem).unwrap();
    fs::write(dir.join("publickey.pem"), &leaf.cert_pem).unwrap();
    fs::write(dir.join("CAList.pem"), &root.issued().cert_pem).unwrap();
    dir
}

/// `openssl` with `args`; its stdin empty (s_client then ends after the
/// handshake) or held open (s_server then serves on).
fn openssl_tool(args: &[&str]) -> std::process::Child {
    let keep_input = args.first() == Some(&"s_server");
    Command::new("openssl")
        .args(args)
        .stdin(if keep_input {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed")
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The signing-callback example, whose key only OpenSSL's EVP API touches,
/// completes mutual TLS as a server with `openssl s_client` and as a client
/// with `openssl s_server`: TLS 1.2 and 1.3, ECDSA P-256 and RSA-2048
/// (RSA-PSS in TLS 1.3). Each run made its signature through the callback.
#[test]
fn a_key_only_openssl_holds_signs_for_siptls_in_both_roles() {
    let ecdsa = (setup().certs.join("server"), setup().certs.join("client"));
    let rsa_root = Authority::root_with(
        "siptls RSA Demo Root",
        siptls_certgen::KeyAlg::Rsa2048,
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
        time::OffsetDateTime::now_utc() + time::Duration::days(30),
    );
    let rsa = (
        rsa_certs(&rsa_root, "server", SERVER_NAME),
        rsa_certs(&rsa_root, "client", CLIENT_NAME),
    );
    for (kind, (server_dir, client_dir)) in [("ECDSA", &ecdsa), ("RSA", &rsa)] {
        for (flag, tool_flag, version) in [
            ("--tls12", "-tls1_2", "TLSv1.2"),
            ("--tls13", "-tls1_3", "TLSv1.3"),
        ] {
            let file = |dir: &PathBuf, name: &str| dir.join(name).to_str().unwrap().to_owned();
            // As a server, for openssl s_client.
            let port = free_port();
            let port_text = port.to_string();
            let mut server = Proc::spawn(
                "signer",
                &[
                    "--role",
                    "server",
                    "--port",
                    &port_text,
                    "--certs",
                    server_dir.to_str().unwrap(),
                    flag,
                ],
            );
            server
                .wait_for_line("signer: listening", CHILD_TIMEOUT)
                .expect("listening");
            let connect = format!("127.0.0.1:{port}");
            let client = openssl_tool(&[
                "s_client",
                "-connect",
                &connect,
                tool_flag,
                "-CAfile",
                &file(server_dir, "CAList.pem"),
                "-cert",
                &file(client_dir, "publickey.pem"),
                "-key",
                &file(client_dir, "privateKey.pem"),
            ]);
            let out = client.wait_with_output().unwrap();
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                said.contains("Verify return code: 0 (ok)"),
                "{kind} {version}: {said}"
            );
            let finished = server.finish();
            finished.assert_exit(0);
            finished.line(&format!("tls: version={version} "));
            finished.line("signer: 1 signature(s) made by OpenSSL for siptls");
            // As a client, to openssl s_server requiring our certificate.
            let port = free_port();
            let port_text = port.to_string();
            // It serves on (no -naccept): the readiness probe is one more client.
            let mut tool = openssl_tool(&[
                "s_server",
                "-accept",
                &port_text,
                tool_flag,
                "-cert",
                &file(server_dir, "publickey.pem"),
                "-key",
                &file(server_dir, "privateKey.pem"),
                "-CAfile",
                &file(client_dir, "CAList.pem"),
                "-Verify",
                "1",
                "-verify_return_error",
            ]);
            wait_listening(port);
            let finished = Proc::spawn(
                "signer",
                &[
                    "--role",
                    "client",
                    "--port",
                    &port_text,
                    "--certs",
                    client_dir.to_str().unwrap(),
                    flag,
                ],
            )
            .finish();
            let _ = tool.kill();
            let _ = tool.wait();
            finished.assert_exit(0);
            finished.line(&format!("tls: version={version} "));
            finished.line("signer: 1 signature(s) made by OpenSSL for siptls");
        }
    }
}

/// Over TLS 1.2 the server sends nothing after its Finished, so the load
/// generator's first request must leave on its own (it once waited for a
/// TLS 1.3 ticket to wake it).
#[test]
fn sip_load_runs_over_tls12() {
    let (mut server, port) = start_sip_server(&["--tls12"]);
    let load = run_load(&port, 20, 2, None, &["--tls12", "--timeout", "30"]);
    load.assert_exit(0);
    load.line("sip_load: requests: 40 of 40 answered 200 OK in ");
    load.line("sip_load: closed cleanly: 20 of 20 (0 failed)");
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    server.finish().assert_exit(0);
}

/// `--client-certs`: connection i presents certificate i of the file (mod
/// their count), for first-contact load. The second of three is another
/// root's certificate for the same key, so exactly that connection fails.
#[test]
fn sip_load_presents_the_client_certificates_in_turn() {
    let client = setup().certs.join("client");
    let own = fs::read_to_string(client.join("publickey.pem")).expect("read publickey.pem");
    let key = fs::read_to_string(client.join("privateKey.pem")).expect("read privateKey.pem");
    let stranger = Authority::root("siptls Stranger Root CA")
        .leaf_for_key(&LeafSpec::sip(CLIENT_NAME), &key)
        .cert_pem;
    let dir = setup().run.join("client-certs");
    fs::create_dir_all(&dir).expect("create the directory");
    let bundle = dir.join("clients.pem");
    fs::write(&bundle, [own.as_str(), &stranger, &own].concat()).expect("write clients.pem");
    let bundle = bundle.to_str().expect("UTF-8 path");

    let (mut server, port) = start_sip_server(&[]);
    let load = run_load(&port, 3, 1, None, &["--client-certs", bundle]);
    load.assert_exit(1);
    load.line("sip_load: handshakes: 2 of 3 in ");
    load.line("sip_load: closed cleanly: 2 of 3 (1 failed)");
    // Six connections: the file's three, twice.
    let load = run_load(&port, 6, 1, None, &["--client-certs", bundle]);
    load.assert_exit(1);
    load.line("sip_load: handshakes: 4 of 6 in ");
    // A file without a certificate is refused before any connection.
    let empty = dir.join("empty.pem");
    fs::write(&empty, "no certificate here\n").expect("write empty.pem");
    let load = run_load(
        &port,
        1,
        1,
        None,
        &["--client-certs", empty.to_str().unwrap()],
    );
    load.assert_exit(1);
    assert!(
        load.stderr.contains("holds no certificate"),
        "{}",
        load.dump()
    );
    load.assert_no_line("sip_load: handshakes");
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    server.finish().assert_exit(0);
}

/// The load generator counts what it checks: against a server that is not
/// the peer it asks for, every handshake fails, and so does it.
#[test]
fn sip_load_fails_when_the_handshakes_fail() {
    let (mut server, port) = start_sip_server(&[]);
    let load = run_load(&port, 3, 1, None, &["--peer-name", "other.example.test"]);
    load.assert_exit(1);
    load.line("sip_load: handshakes: 0 of 3 in ");
    load.line("sip_load: requests: 0 of 3 answered 200 OK in ");
    load.line("sip_load: closed cleanly: 0 of 3 (3 failed)");
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    server.finish().assert_exit(0);
}

/// A peer that connects and sends nothing is dropped after the handshake
/// timeout; a peer that sends garbage instead of a ClientHello is dropped at
/// once; neither disturbs the server.
#[test]
fn sip_server_drops_silent_peers_after_the_handshake_timeout() {
    let (mut server, port) = start_sip_server(&["--handshake-timeout", "1"]);
    let connect = || {
        let stream =
            std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    };
    // How long until the server closed: end of stream or a reset, never
    // our own read timeout.
    let closed_after = |mut stream: std::net::TcpStream| {
        let started = Instant::now();
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
        (started.elapsed(), rest)
    };
    let (waited, rest) = closed_after(connect());
    assert!(rest.is_empty(), "a silent peer is sent nothing: {rest:?}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "closed at the 1 s timeout, not before or long after: {waited:?}"
    );
    let mut garbage = connect();
    garbage
        .write_all(b"OPTIONS sip:gw SIP/2.0\r\n\r\n")
        .unwrap();
    let (waited, rest) = closed_after(garbage);
    assert!(
        waited < Duration::from_millis(900),
        "garbage is dropped at once, not at the timeout: {waited:?}"
    );
    // At most a fatal alert record (type 21) before the close.
    assert!(rest.is_empty() || rest[0] == 21, "{rest:?}");
    // Still serving: the load client, and the C client, whose OPTIONS
    // follows its Finished at once (arriving while the server sends its
    // ticket: the server must read after every pump).
    for _ in 0..5 {
        let client = run_client(&port, &[]);
        client.assert_exit(0);
        client.line("sip: received SIP/2.0 200 OK");
    }
    let load = run_load(&port, 3, 2, None, &[]);
    load.assert_exit(0);
    load.line("sip_load: closed cleanly: 3 of 3 (0 failed)");
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    server.finish().assert_exit(0);
}

/// The example server with `--key pkcs11:...`: its private key imported
/// into a SoftHSM2 token (set up here with `softhsm2-util`, its PIN in a
/// file), the client example completes an OPTIONS exchange with it over
/// TLS 1.2 and 1.3; a wrong PIN stops the server at startup with the
/// token's refusal.
#[test]
fn the_example_server_takes_its_key_from_a_pkcs11_token() {
    let dir = setup().run.join("softhsm");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    fs::write(
        &conf,
        format!("directories.tokendir = {}\n", dir.join("tokens").display()),
    )
    .unwrap();
    // Read by softhsm2-util and by the server this test starts; no other
    // test of this binary uses a token.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let softhsm = |args: &[&str]| {
        let out = Command::new("softhsm2-util")
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("softhsm2-util is not installed ({e}): install the softhsm2 package")
            });
        assert!(out.status.success(), "softhsm2-util {args:?}: {out:?}");
    };
    softhsm(&[
        "--init-token",
        "--free",
        "--label",
        "gateway",
        "--pin",
        "2468",
        "--so-pin",
        "1357",
    ]);
    let key = setup().certs.join("server/privateKey.pem");
    softhsm(&[
        "--import",
        key.to_str().unwrap(),
        "--token",
        "gateway",
        "--label",
        "sips",
        "--id",
        "01",
        "--pin",
        "2468",
    ]);
    let pin = dir.join("pin");
    fs::write(&pin, "2468\n").unwrap();
    let uri = |pin_part: &str| {
        format!(
            "pkcs11:token=gateway;object=sips?module-path=/usr/lib/softhsm/libsofthsm2.so&{pin_part}"
        )
    };
    let good = uri(&format!("pin-source=file:{}", pin.display()));
    for (flag, version) in [("--tls12", "TLSv1.2"), ("--tls13", "TLSv1.3")] {
        let (server, client) = run_pair(&["--key", &good, flag], &[flag]);
        server.assert_exit(0);
        client.assert_exit(0);
        server.line("config: key=pkcs11");
        client.line(&format!("tls: version={version} "));
        client.line("sip: received SIP/2.0 200 OK");
    }
    let mut server = Proc::spawn(
        "server",
        &[
            "--port",
            "0",
            "--certs",
            setup().certs.join("server").to_str().unwrap(),
            "--key",
            &uri("pin-value=1111"),
        ],
    );
    let finished = server.finish();
    finished.assert_exit(1);
    assert!(
        finished.stderr.contains("loading the --key")
            && finished.stderr.contains("CKR_PIN_INCORRECT"),
        "{}",
        finished.dump()
    );
}

/// The client example given `--uri sips:gw-b.example.test`: dnsmasq
/// (started here) has an SRV record pointing at another host name and the
/// server's port; the client dials that target and verifies the SIP domain,
/// which the server's certificate names.
#[test]
fn the_client_finds_the_server_of_a_sips_uri_through_dns() {
    let (mut server, port) = start_server(&[]);
    let dns = dnsmasq::Dnsmasq::start(&[
        &format!("--srv-host=_sips._tcp.{SERVER_NAME},edge.carrier.test,{port},10,0"),
        "--host-record=edge.carrier.test,127.0.0.1",
        "--host-record=ready.test,127.0.0.1",
    ]);
    let nameserver = dns.server.to_string();
    let client_certs = setup().certs.join("client");
    let uri = format!("sips:{SERVER_NAME}");
    let client = Proc::spawn(
        "client",
        &[
            "--certs",
            client_certs.to_str().unwrap(),
            "--uri",
            &uri,
            "--nameserver",
            &nameserver,
        ],
    )
    .finish();
    client.assert_exit(0);
    client.line(&format!(
        "resolve: trying 127.0.0.1 port {port} (edge.carrier.test), verifying {SERVER_NAME}"
    ));
    client.line("sip: received SIP/2.0 200 OK");
    server.finish().assert_exit(0);
}

/// The load generator given `--uri sips:gw-b.example.test`: dnsmasq's SRV
/// record names an unreachable target first (priority 10) and the server
/// second (priority 20); every connection skips the first, dials the
/// second and verifies the SIP domain.
#[test]
fn sip_load_dials_a_sips_uri_through_dns() {
    let (server, port) = start_sip_server(&[]);
    let closed = free_port();
    let dns = dnsmasq::Dnsmasq::start(&[
        &format!("--srv-host=_sips._tcp.{SERVER_NAME},dead.carrier.test,{closed},10,0"),
        &format!("--srv-host=_sips._tcp.{SERVER_NAME},edge.carrier.test,{port},20,0"),
        "--host-record=dead.carrier.test,127.0.0.1",
        "--host-record=edge.carrier.test,127.0.0.1",
        "--host-record=ready.test,127.0.0.1",
    ]);
    let nameserver = dns.server.to_string();
    let uri = format!("sips:{SERVER_NAME}");
    let load = run_load(
        "1",
        10,
        2,
        None,
        &["--uri", &uri, "--nameserver", &nameserver],
    );
    load.assert_exit(0);
    load.line(&format!("resolve: 2 target(s) for {uri}"));
    load.line("sip_load: handshakes: 10 of 10 in ");
    load.line("sip_load: closed cleanly: 10 of 10 (0 failed)");
    stop_sip_server(server);
}

// --- A farm on Redis -------------------------------------------------------------

#[path = "common/redis.rs"]
mod redis;

#[path = "common/dnsmasq.rs"]
mod dnsmasq;

/// The prefix the example's Redis store puts before every key siptls gives it.
const REDIS_PREFIX: &str = "siptls:session:";

/// Two event-driven servers sharing a ticket-key file and one Redis
/// (started here), each with `extra` options; the Redis first.
fn redis_farm(dir_name: &str, extra: &[&str]) -> (redis::Redis, [(Proc, String); 2]) {
    let redis = redis::Redis::start();
    let dir = setup().run.join(dir_name);
    fs::create_dir_all(&dir).expect("create the farm directory");
    let keys = dir.join("farm.keys");
    fs::write(&keys, random_ticket_key()).expect("write the key file");
    let address = redis.address.to_string();
    let mut args = vec![
        "--ticket-keys",
        keys.to_str().expect("UTF-8 path"),
        "--redis",
        &address,
        "--session-lifetime",
        "600",
    ];
    args.extend(extra);
    let servers = [start_sip_server(&args), start_sip_server(&args)];
    for (server, _) in &servers {
        assert!(
            server
                .stdout
                .iter()
                .any(|l| l.starts_with("redis: connected at 127.0.0.1:")),
            "{:?}",
            server.stdout
        );
    }
    (redis, servers)
}

/// Stops a farm member with SIGTERM; its output, which ends with the
/// store's figures ("redis: stored=... found=...").
fn stop_sip_server(mut server: Proc) -> Finished {
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let out = server.finish();
    out.assert_exit(0);
    out
}

/// The value of `name=` in the store's last figures line.
fn redis_figure(out: &Finished, name: &str) -> u64 {
    let line = out
        .stdout
        .iter()
        .rev()
        .find(|l| l.starts_with("redis: stored="))
        .unwrap_or_else(|| panic!("no Redis figures\n{}", out.dump()));
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// A farm of two sip_servers on one Redis: a session made on server A
/// resumes on server B and back on A, by TLS 1.2 session ID (a store
/// replaces tickets) and by TLS 1.3 ticket (a key into the store). Redis
/// holds the sealed entries with the session lifetime as their expiry; B
/// found in Redis what A stored.
#[test]
fn a_farm_on_redis_resumes_each_others_sessions() {
    for flag in ["--tls12", "--tls13"] {
        let (redis, [(a, port_a), (b, port_b)]) = redis_farm(&format!("redis{flag}"), &[flag]);
        let client = run_client(
            &port_a,
            &[flag, "--then-port", &port_b, "--then-port", &port_a],
        );
        client.assert_exit(0);
        assert_eq!(
            handshakes(&client),
            ["full", "resumed", "resumed"],
            "{flag}\n{}",
            client.dump()
        );
        let entries = redis.keys_with_ttl(REDIS_PREFIX);
        assert!(!entries.is_empty(), "{flag}: nothing in Redis");
        for (key, ttl) in &entries {
            assert!(
                (1..=600).contains(ttl),
                "{flag}: {key:?} expires in {ttl} s, not within the 600 s lifetime"
            );
        }
        let (a, b) = (stop_sip_server(a), stop_sip_server(b));
        assert!(redis_figure(&a, "stored") >= 1, "{flag}\n{}", a.dump());
        assert!(redis_figure(&b, "found") >= 1, "{flag}\n{}", b.dump());
        assert_eq!(redis_figure(&a, "failed") + redis_figure(&b, "failed"), 0);
    }
}

/// `openssl s_client` with tickets off, a TLS 1.2 client we did not write:
/// the session ID it got from server A resumes on server B ("Reused").
#[test]
fn openssl_resumes_a_tls12_session_id_across_the_redis_farm() {
    let (_redis, [(a, port_a), (b, port_b)]) = redis_farm("redis-openssl", &[]);
    let dir = setup().run.join("redis-openssl");
    let session = dir.join("session.pem");
    let certs = setup().certs.join("client");
    let file = |name: &str| certs.join(name).to_str().expect("UTF-8 path").to_string();
    let (cert, key, ca) = (
        file("publickey.pem"),
        file("privateKey.pem"),
        file("CAList.pem"),
    );
    let session_path = session.to_str().expect("UTF-8 path");
    let s_client = |port: &str, session_arg: &str| {
        let connect = format!("127.0.0.1:{port}");
        let out = openssl_tool(&[
            "s_client",
            "-connect",
            &connect,
            "-tls1_2",
            "-no_ticket",
            "-cert",
            &cert,
            "-key",
            &key,
            "-CAfile",
            &ca,
            "-servername",
            SERVER_NAME,
            "-verify_return_error",
            session_arg,
            session_path,
        ])
        .wait_with_output()
        .expect("openssl s_client ran");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = s_client(&port_a, "-sess_out");
    assert!(first.contains("New, TLSv1.2"), "{first}");
    assert!(
        !first.contains("TLS session ticket:"),
        "a ticket was issued although tickets are off\n{first}"
    );
    let second = s_client(&port_b, "-sess_in");
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    let b = stop_sip_server(b);
    assert!(redis_figure(&b, "found") >= 1, "{}", b.dump());
    stop_sip_server(a);
}

/// Redis paused (it accepts connections and answers nothing) or gone
/// (connections refused): each handshake is a full one and succeeds, the
/// store's commands time out or fail at once; once Redis answers again
/// the farm resumes across servers again.
#[test]
fn a_farm_whose_redis_is_paused_or_down_only_loses_resumption() {
    let (mut redis, [(a, port_a), (b, port_b)]) =
        redis_farm("redis-down", &["--redis-timeout", "200"]);
    let across = || run_client(&port_a, &["--tls12", "--then-port", &port_b]);

    redis.signal(libc::SIGSTOP);
    let paused = across();
    paused.assert_exit(0);
    assert_eq!(handshakes(&paused), ["full", "full"], "{}", paused.dump());

    redis.signal(libc::SIGCONT);
    // The store stays away for its 1 s retry interval after a failure.
    thread::sleep(Duration::from_millis(1500));
    let back = across();
    back.assert_exit(0);
    assert_eq!(handshakes(&back), ["full", "resumed"], "{}", back.dump());

    redis.stop();
    let down = across();
    down.assert_exit(0);
    assert_eq!(handshakes(&down), ["full", "full"], "{}", down.dump());

    let (a, b) = (stop_sip_server(a), stop_sip_server(b));
    assert!(redis_figure(&a, "failed") + redis_figure(&b, "failed") >= 2);
    let stderr = format!("{}{}", a.stderr, b.stderr);
    assert!(
        stderr.contains("sessions are not shared until it answers again"),
        "{stderr}"
    );
}

/// The load generator against the Redis farm: connections spread over
/// both servers, three rounds, each connection its own client (its own
/// session cache) and each round on the other server. Every handshake
/// after the first round resumes; the ratio is printed.
#[test]
fn sip_load_resumes_across_the_redis_farm() {
    for flag in ["--tls12", "--tls13"] {
        let (_redis, [(a, port_a), (b, port_b)]) =
            redis_farm(&format!("redis-load{flag}"), &[flag]);
        let n = 40;
        let load = run_load(
            &port_a,
            n,
            2,
            None,
            &[
                flag,
                "--also-port",
                &port_b,
                "--rounds",
                "3",
                "--contexts",
                &n.to_string(),
            ],
        );
        load.assert_exit(0);
        load.line(&format!("sip_load: handshakes: {n} of {n} in "));
        let ratio = load.line(&format!(
            "sip_load: resumption: {} of {} handshakes after the first round resumed (ratio 1.00)",
            2 * n,
            2 * n
        ));
        eprintln!("{flag}: {ratio}");
        stop_sip_server(a);
        stop_sip_server(b);
    }
}
