//! OCSP stapling through the C ABI, with responses the `openssl ocsp`
//! responder made from its index file (`-reqin`, `-respout`): a good
//! response stapled by our server and shown to our client's report; one for
//! another certificate, a revoked one, one without nextUpdate, one past its
//! nextUpdate or before its thisUpdate by the gateway clock, one signed by
//! another CA, truncated DER: each refused with its code and the
//! configuration unchanged; a delegated responder the CA signed for
//! OCSPSigning; reload of the response file; and interop: `openssl s_client
//! -status` sees our staple, and our client reads `openssl s_server
//! -status_file`'s.

mod common;
use common::openssl_ca::{openssl, OpensslCa};
use common::tempdir::TempDir;
use common::*;

use std::ffi::{c_void, CString};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SERVER: &str = "gw-b.example.test";

struct Pki {
    _dir: TempDir,
    root: OpensslCa,
    other: OpensslCa,
    server: (PathBuf, String, String),
    client: (PathBuf, String, String),
    /// Another leaf of the root, revoked in its index.
    revoked: PathBuf,
    /// A responder certificate the root signed for OCSPSigning.
    responder: (PathBuf, PathBuf),
}

fn openssl_pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = TempDir::new("ocsp");
        let root = OpensslCa::root(&dir.0.join("root"), "OCSP Test Root");
        let other = OpensslCa::root(&dir.0.join("other"), "OCSP Other Root");
        let server = root.leaf(SERVER);
        let client = root.leaf("gw-a.example.test");
        let (revoked, _, _) = root.leaf("revoked.example.test");
        root.revoke(&revoked);
        let (responder, _, _) = root.leaf_with_eku("ocsp.example.test", Some("OCSPSigning"));
        let responder_key = responder.with_extension("key");
        Pki {
            _dir: dir,
            root,
            other,
            server,
            client,
            revoked,
            responder: (responder, responder_key),
        }
    })
}

/// `openssl ocsp` as a responder: the answer for `cert` from `ca`'s index,
/// signed with `signer` (certificate, key), valid for `days` (None: no
/// nextUpdate).
fn respond(ca: &OpensslCa, cert: &Path, signer: (&Path, &Path), days: Option<&str>) -> Vec<u8> {
    let p = openssl_pki();
    // Tests run in parallel threads: each response gets files of its own.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tag = format!("response-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let (req, resp) = (format!("{tag}.req"), format!("{tag}.resp"));
    let root_pem = p.root.dir.join("ca.pem");
    let cert = cert.display().to_string();
    openssl(
        &ca.dir,
        &[
            "ocsp",
            "-issuer",
            root_pem.to_str().unwrap(),
            "-cert",
            &cert,
            "-no_nonce",
            "-reqout",
            &req,
        ],
        &[],
    );
    let (rsigner, rkey) = (
        signer.0.display().to_string(),
        signer.1.display().to_string(),
    );
    let mut args = vec![
        "ocsp",
        "-index",
        "index.txt",
        "-CA",
        "ca.pem",
        "-rsigner",
        &rsigner,
        "-rkey",
        &rkey,
        "-reqin",
        &req,
        "-respout",
        &resp,
    ];
    if let Some(days) = days {
        args.extend(["-ndays", days]);
    }
    openssl(&ca.dir, &args, &[]);
    std::fs::read(ca.dir.join(resp)).unwrap()
}

fn ca_signer(ca: &OpensslCa) -> (PathBuf, PathBuf) {
    (ca.dir.join("ca.pem"), ca.dir.join("ca.key"))
}

fn good() -> Vec<u8> {
    let p = openssl_pki();
    let (cert, key) = ca_signer(&p.root);
    respond(&p.root, &p.server.0, (&cert, &key), Some("2"))
}

unsafe extern "C" fn moving_clock(userdata: *mut c_void, seconds_out: *mut u64) -> bool {
    unsafe { *seconds_out = (*(userdata as *const AtomicU64)).load(Ordering::SeqCst) };
    true
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn server_ctx() -> Ctx {
    let p = openssl_pki();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        ctx.set_identity(&p.server.1, &p.server.2),
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    assert_eq!(ctx.trust(1, p.root.cert_pem.as_bytes()), SIPTLS_OK);
    ctx
}

fn client_ctx() -> Ctx {
    let p = openssl_pki();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    assert_eq!(ctx.set_identity(&p.client.1, &p.client.2), SIPTLS_OK);
    assert_eq!(ctx.trust(1, p.root.cert_pem.as_bytes()), SIPTLS_OK);
    ctx
}

fn staple(ctx: &Ctx, der: &[u8]) -> siptls_result {
    unsafe { siptls_ctx_set_ocsp_response(ctx.0, 0, der.as_ptr(), der.len()) }
}

/// What our client's report showed of the server's staple.
fn staple_seen(server: &Ctx) -> Vec<u8> {
    let client = client_ctx();
    let recorder = Recorder::attach(&client, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let c = Sess::new(&client, Some(SERVER)).unwrap();
    let s = Sess::server(server);
    assert_handshake_ok(&c, &s);
    let reports = recorder.reports();
    assert_eq!(reports.len(), 1);
    reports[0].ocsp_response.clone()
}

#[test]
fn a_good_response_is_stapled_and_the_client_report_shows_it() {
    let server = server_ctx();
    assert!(staple_seen(&server).is_empty(), "nothing stapled yet");
    let response = good();
    assert_eq!(
        staple(&server, &response),
        SIPTLS_OK,
        "{}",
        server.last_error()
    );
    for _ in 0..2 {
        assert_eq!(staple_seen(&server), response);
    }
    // In the expiry list, by its nextUpdate (two days).
    let mut count = 0;
    assert_eq!(
        unsafe { siptls_ctx_count_expiries(server.0, &mut count) },
        SIPTLS_OK
    );
    let mut info: siptls_expiry_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_expiry_info>() as u32;
    assert_eq!(
        unsafe { siptls_ctx_get_expiry(server.0, count - 1, &mut info) },
        SIPTLS_OK
    );
    assert_eq!(info.kind, siptls_expiry_kind::SIPTLS_EXPIRY_OCSP);
    assert!(
        (info.seconds_left - 2 * 86400).abs() < 120,
        "{}",
        info.seconds_left
    );
    // NULL, 0: none again.
    assert_eq!(
        unsafe { siptls_ctx_set_ocsp_response(server.0, 0, std::ptr::null(), 0) },
        SIPTLS_OK
    );
    assert!(staple_seen(&server).is_empty());
}

#[test]
fn a_response_that_does_not_fit_is_refused_with_its_reason() {
    let p = openssl_pki();
    let (root_cert, root_key) = ca_signer(&p.root);
    let (other_cert, other_key) = ca_signer(&p.other);
    let response = good();
    let cases: Vec<(&str, Vec<u8>, siptls_result, &str)> = vec![
        (
            "for another certificate",
            respond(&p.root, &p.client.0, (&root_cert, &root_key), Some("2")),
            SIPTLS_ERR_OCSP_MISMATCH,
            "none of them",
        ),
        (
            "about another, revoked, certificate",
            respond(&p.root, &p.revoked, (&root_cert, &root_key), Some("2")),
            SIPTLS_ERR_OCSP_MISMATCH,
            "none of them",
        ),
        (
            "without nextUpdate",
            respond(&p.root, &p.server.0, (&root_cert, &root_key), None),
            SIPTLS_ERR_OCSP_STALE,
            "no nextUpdate",
        ),
        (
            "signed by another CA",
            respond(&p.root, &p.server.0, (&other_cert, &other_key), Some("2")),
            SIPTLS_ERR_OCSP_UNTRUSTED,
            "not signed by its issuer",
        ),
        (
            "truncated",
            response[..response.len() / 2].to_vec(),
            SIPTLS_ERR_OCSP_MALFORMED,
            "does not parse",
        ),
        (
            "garbage",
            b"not DER".to_vec(),
            SIPTLS_ERR_OCSP_MALFORMED,
            "does not parse",
        ),
    ];
    let server = server_ctx();
    assert_eq!(staple(&server, &response), SIPTLS_OK);
    let generation = server.generation();
    for (what, der, code, words) in cases {
        assert_eq!(
            staple(&server, &der),
            code,
            "{what}: {}",
            server.last_error()
        );
        let detail = server.last_error();
        assert_sentence(&detail);
        assert!(detail.contains(words), "{what}: '{words}' in {detail}");
        assert_eq!(server.generation(), generation, "{what}: nothing changed");
    }
    assert_eq!(staple_seen(&server), response, "the good one stays");
}

#[test]
fn a_revoked_certificates_response_is_not_stapled() {
    // The revoked leaf as the identity: its own response says revoked.
    let p = openssl_pki();
    let (root_cert, root_key) = ca_signer(&p.root);
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let cert = std::fs::read_to_string(&p.revoked).unwrap();
    let key = std::fs::read_to_string(p.revoked.with_extension("key")).unwrap();
    assert_eq!(
        ctx.set_identity(&cert, &key),
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    assert_eq!(ctx.trust(1, p.root.cert_pem.as_bytes()), SIPTLS_OK);
    let der = respond(&p.root, &p.revoked, (&root_cert, &root_key), Some("2"));
    assert_eq!(
        staple(&ctx, &der),
        SIPTLS_ERR_OCSP_NOT_GOOD,
        "{}",
        ctx.last_error()
    );
    assert!(
        ctx.last_error().contains("was revoked on"),
        "{}",
        ctx.last_error()
    );
}

#[test]
fn the_gateway_clock_decides_whether_a_response_is_current() {
    let server = server_ctx();
    let clock = Box::new(AtomicU64::new(now() + 3 * 86400));
    let code = unsafe {
        siptls_ctx_set_time_callback(
            server.0,
            Some(moving_clock),
            &*clock as *const AtomicU64 as *mut _,
        )
    };
    assert_eq!(code, SIPTLS_OK);
    let response = good();
    assert_eq!(staple(&server, &response), SIPTLS_ERR_OCSP_STALE);
    assert!(
        server.last_error().contains("fetch a current one"),
        "{}",
        server.last_error()
    );
    clock.store(now() - 3600, Ordering::SeqCst);
    assert_eq!(
        staple(&server, &response),
        SIPTLS_ERR_OCSP_STALE,
        "before its thisUpdate"
    );
    clock.store(now() + 86400, Ordering::SeqCst);
    assert_eq!(
        staple(&server, &response),
        SIPTLS_OK,
        "{}",
        server.last_error()
    );
}

#[test]
fn a_responder_the_issuer_signed_for_ocsp_signing_is_trusted() {
    let p = openssl_pki();
    let der = respond(
        &p.root,
        &p.server.0,
        (&p.responder.0, &p.responder.1),
        Some("2"),
    );
    let server = server_ctx();
    assert_eq!(staple(&server, &der), SIPTLS_OK, "{}", server.last_error());
    // The client's own certificate has no OCSPSigning: as a responder, refused.
    let client_key = p.client.0.with_extension("key");
    let der = respond(&p.root, &p.server.0, (&p.client.0, &client_key), Some("2"));
    assert_eq!(
        staple(&server, &der),
        SIPTLS_ERR_OCSP_UNTRUSTED,
        "{}",
        server.last_error()
    );
}

#[test]
fn a_response_file_reloads_with_the_other_files() {
    let dir = TempDir::new("ocsp-reload");
    let server = server_ctx();
    let response = good();
    let file = dir.write("staple.der", &response);
    let path = CString::new(file.to_str().unwrap()).unwrap();
    assert_eq!(
        unsafe { siptls_ctx_load_ocsp_file(server.0, 0, path.as_ptr()) },
        SIPTLS_OK
    );
    let mut flags = 0;
    assert_eq!(
        unsafe { siptls_ctx_reload_if_changed(server.0, &mut flags) },
        SIPTLS_OK
    );
    assert_eq!(flags, 0);
    let p = openssl_pki();
    let (cert, key) = ca_signer(&p.root);
    let fresh = respond(&p.root, &p.server.0, (&cert, &key), Some("3"));
    std::fs::write(&file, &fresh).unwrap();
    assert_eq!(
        unsafe { siptls_ctx_reload_if_changed(server.0, &mut flags) },
        SIPTLS_OK
    );
    assert_eq!(flags, SIPTLS_RELOADED_OCSP);
    assert_eq!(staple_seen(&server), fresh);
    // A response for another certificate written there: refused, the old one stays.
    std::fs::write(
        &file,
        respond(&p.root, &p.client.0, (&cert, &key), Some("2")),
    )
    .unwrap();
    assert_eq!(
        unsafe { siptls_ctx_reload_if_changed(server.0, &mut flags) },
        SIPTLS_ERR_OCSP_MISMATCH
    );
    assert_eq!(staple_seen(&server), fresh);
}

/// Pumps a session over a blocking TCP stream until `done` or the deadline.
fn pump_until(s: &Sess, sock: &TcpStream, done: impl Fn(&Sess) -> bool) {
    sock.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(s) {
        assert!(Instant::now() < deadline, "timed out: {}", s.last_error());
        let mut events = 0;
        let code = unsafe { siptls_session_pump_fd(s.0, sock.as_raw_fd(), &mut events) };
        assert_eq!(code, SIPTLS_OK, "{}", s.last_error());
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn openssl_s_client_sees_our_staple() {
    let p = openssl_pki();
    let server = server_ctx();
    assert_eq!(staple(&server, &good()), SIPTLS_OK);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-status",
        ])
        .args(["-CAfile", p.root.dir.join("ca.pem").to_str().unwrap()])
        .args(["-cert", p.client.0.to_str().unwrap()])
        .args(["-key", p.client.0.with_extension("key").to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is installed");
    let (sock, _) = listener.accept().unwrap();
    let s = Sess::server(&server);
    pump_until(&s, &sock, |s| !s.info().handshaking);
    // close_notify out, then the tool's input closed: it ends.
    let _ = s.close();
    let mut events = 0;
    unsafe { siptls_session_pump_fd(s.0, sock.as_raw_fd(), &mut events) };
    drop(child.stdin.take());
    drop(sock);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child.wait().unwrap();
    for line in ["OCSP Response Status: successful", "Cert Status: good"] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
}

#[test]
fn our_client_reads_openssl_s_server_staple() {
    let p = openssl_pki();
    let response = good();
    let dir = TempDir::new("ocsp-s-server");
    let file = dir.write("staple.der", &response);
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", &port.to_string(), "-naccept", "1"])
        .args(["-cert", p.server.0.to_str().unwrap()])
        .args(["-key", p.server.0.with_extension("key").to_str().unwrap()])
        .args(["-status_file", file.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is installed");
    let deadline = Instant::now() + Duration::from_secs(10);
    let sock = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(sock) => break sock,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("s_server did not listen: {e}"),
        }
    };
    let client = client_ctx();
    let recorder = Recorder::attach(&client, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let s = Sess::new(&client, Some(SERVER)).unwrap();
    pump_until(&s, &sock, |s| !s.info().handshaking);
    let reports = recorder.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, siptls_verify_status::SIPTLS_VERIFY_OK);
    assert_eq!(reports[0].ocsp_response, response);
    drop(sock);
    let _ = child.kill();
    let _ = child.wait();
}
