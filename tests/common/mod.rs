//! Shared helpers for the integration tests: generated PKI material and RAII
//! wrappers that drive the exported C functions exactly as a C caller would.
#![allow(dead_code)] // each test binary uses its own subset

pub mod artifacts;
pub mod dnsmasq;
pub mod log;
pub mod openssl_ca;
pub mod softhsm;
pub mod tempdir;
pub mod verdict;

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

pub use siptls::capi::siptls_result::*;
pub use siptls::capi::siptls_verify_status::*;
pub use siptls::capi::*;
#[allow(unused_imports)]
pub use siptls_certgen::{Authority, Issued, KeyAlg, LeafSpec, Usage};

pub const SERVER_NAME: &str = "gw-b.example.test";
pub const CLIENT_NAME: &str = "gw-a.example.test";

pub struct Pki {
    pub root: Authority,
    pub server: Issued,
    pub client: Issued,
}

/// One CA with a server and a client identity, made once per test binary.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = Authority::root("siptls Test Root CA");
        let server = root.sip_leaf(SERVER_NAME);
        let client = root.sip_leaf(CLIENT_NAME);
        Pki {
            root,
            server,
            client,
        }
    })
}

pub fn text(f: impl FnOnce(*mut c_char, usize, *mut usize) -> siptls_result) -> String {
    let mut buf = vec![0 as c_char; 4096];
    let mut len = 0usize;
    let code = f(buf.as_mut_ptr(), buf.len(), &mut len);
    assert!(matches!(code, SIPTLS_OK), "text query failed: {code:?}");
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    assert_sentence(&text);
    text
}

/// What a Rust debug dump or an internal enum name looks like in a text
/// meant for an operator.
const DUMP_MARKS: &[&str] = &[
    "Context {",
    "Context(",
    "KeyPurposeId(",
    "Some(",
    "None)",
    "[1.3.6.",
    "UnknownIssuer",
    "CertRevoked",
    "CertExpired",
    "CertNotValidYet",
    "BadDer",
    "RequiredEku",
    "UnsupportedSignatureAlgorithm",
    "InvalidSignatureForPublicKey",
    "UnknownRevocationStatus",
    "MaximumPathDepthExceeded",
    "TLSv1_",
    "SIPTLS_VERIFY_",
    "PeerIncompatible",
];

/// Every detail text and verification report the suites see is checked
/// here: a debug dump, an internal enum name, or a CamelCase word opening a
/// parenthesis or brace (`Foo(`, `Bar {`) fails the test that produced it.
pub fn assert_sentence(text: &str) {
    for mark in DUMP_MARKS {
        assert!(
            !text.contains(mark),
            "a detail reads like a debug dump ({mark:?}): {text}"
        );
    }
    let chars: Vec<char> = text.chars().collect();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        let camel = word.len() > 2
            && word.starts_with(|c: char| c.is_ascii_uppercase())
            && word.chars().skip(1).any(|c| c.is_ascii_lowercase())
            && word.chars().skip(1).any(|c| c.is_ascii_uppercase())
            && !word.contains('_');
        let opens = c == '(' || (c == ' ' && chars.get(i + 1) == Some(&'{'));
        assert!(
            !(camel && opens),
            "a detail reads like a debug dump ({word}): {text}"
        );
        word.clear();
    }
}

/// The detail of the last failed call on this thread.
pub fn last_error() -> String {
    text(|b, c, l| unsafe { siptls_get_last_error(b, c, l) })
}

pub fn cstring(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub struct Ctx(pub *mut siptls_ctx);

unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}

impl Ctx {
    pub fn new(role: siptls_role) -> Ctx {
        let mut ctx = ptr::null_mut();
        assert_eq!(unsafe { siptls_ctx_new(role as u32, &mut ctx) }, SIPTLS_OK);
        assert!(!ctx.is_null());
        Ctx(ctx)
    }

    pub fn set_identity(&self, cert_pem: &str, key_pem: &str) -> siptls_result {
        unsafe {
            siptls_ctx_set_identity_pem(
                self.0,
                cert_pem.as_ptr(),
                cert_pem.len(),
                key_pem.as_ptr(),
                key_pem.len(),
            )
        }
    }

    pub fn trust(&self, id: u32, cert: &[u8]) -> siptls_result {
        unsafe { siptls_ctx_add_trust(self.0, id, cert.as_ptr(), cert.len()) }
    }

    pub fn trust_ids(&self) -> Vec<u32> {
        let mut ids = [0u32; 32];
        let mut count = 0usize;
        let code =
            unsafe { siptls_ctx_list_trust(self.0, ids.as_mut_ptr(), ids.len(), &mut count) };
        assert_eq!(code, SIPTLS_OK);
        ids[..count].to_vec()
    }

    pub fn last_error(&self) -> String {
        text(|b, c, l| unsafe { siptls_ctx_get_last_error(self.0, b, c, l) })
    }

    pub fn counters(&self) -> siptls_counters {
        // SAFETY: integers only; all zero is a valid value.
        let mut c: siptls_counters = unsafe { std::mem::zeroed() };
        c.struct_size = std::mem::size_of::<siptls_counters>() as u32;
        assert_eq!(
            unsafe { siptls_ctx_get_counters(self.0, &mut c) },
            SIPTLS_OK
        );
        c
    }

    /// The configuration generation new sessions start from.
    pub fn generation(&self) -> u64 {
        let mut generation = u64::MAX;
        assert_eq!(
            unsafe { siptls_ctx_get_generation(self.0, &mut generation) },
            SIPTLS_OK
        );
        generation
    }

    /// A context with `identity`, trusting the test root as trust ID 1.
    pub fn with_identity(role: siptls_role, identity: &Issued, root: &Authority) -> Ctx {
        let ctx = Ctx::new(role);
        assert_eq!(
            ctx.set_identity(&identity.cert_pem, &identity.key_pem),
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        );
        assert_eq!(
            ctx.trust(1, root.issued().cert_pem.as_bytes()),
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        );
        ctx
    }

    /// A client with no certificate of its own, trusting the test root as trust ID 1.
    pub fn anonymous_client() -> Ctx {
        let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
        let root = &pki().root.issued().cert_pem;
        assert_eq!(
            ctx.trust(1, root.as_bytes()),
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        );
        ctx
    }

    pub fn client() -> Ctx {
        let p = pki();
        Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, &p.client, &p.root)
    }

    pub fn server() -> Ctx {
        let p = pki();
        Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &p.server, &p.root)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        unsafe { siptls_ctx_free(self.0) }
    }
}

/// A `siptls_session_info` ready to be filled: zeroed, its size set.
/// Sets the cipher suites by IANA number.
pub fn set_suites(ctx: &Ctx, suites: &[u16]) -> siptls_result {
    unsafe { siptls_ctx_set_cipher_suites(ctx.0, suites.as_ptr(), suites.len()) }
}

/// Sets the key-exchange groups by IANA number.
pub fn set_groups(ctx: &Ctx, groups: &[u16]) -> siptls_result {
    unsafe { siptls_ctx_set_kx_groups(ctx.0, groups.as_ptr(), groups.len()) }
}

/// Suite and group both ends agreed on in a handshake.
pub fn negotiated(client: &Ctx, server: &Ctx) -> (u16, u32) {
    let (c, s) = (Sess::client(client), Sess::server(server));
    assert_handshake_ok(&c, &s);
    let (ci, si) = (c.info(), s.info());
    assert_eq!(
        (ci.cipher_suite, ci.key_exchange_group),
        (si.cipher_suite, si.key_exchange_group)
    );
    (ci.cipher_suite, ci.key_exchange_group)
}

/// Limits `ctx` to one protocol version.
pub fn only_version(ctx: &Ctx, version: u16) {
    assert_eq!(
        unsafe { siptls_ctx_set_versions(ctx.0, version, version) },
        SIPTLS_OK
    );
}

pub fn empty_info() -> siptls_session_info {
    // SAFETY: integers and bools only; all zero is a valid value.
    let mut info: siptls_session_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_session_info>() as u32;
    info
}

pub struct Sess(pub *mut siptls_session);

unsafe impl Send for Sess {}

impl Sess {
    pub fn new(ctx: &Ctx, peer_name: Option<&str>) -> Result<Sess, siptls_result> {
        let name = peer_name.map(cstring);
        let mut session = ptr::null_mut();
        let code = unsafe {
            siptls_session_new(
                ctx.0,
                name.as_ref().map_or(ptr::null(), |n| n.as_ptr()),
                &mut session,
            )
        };
        match code {
            SIPTLS_OK => Ok(Sess(session)),
            other => {
                assert!(session.is_null());
                Err(other)
            }
        }
    }

    pub fn client(ctx: &Ctx) -> Sess {
        Sess::new(ctx, Some(SERVER_NAME)).expect("client session")
    }

    pub fn server(ctx: &Ctx) -> Sess {
        Sess::new(ctx, None).expect("server session")
    }

    pub fn info(&self) -> siptls_session_info {
        let mut info = empty_info();
        assert_eq!(
            unsafe { siptls_session_get_info(self.0, &mut info) },
            SIPTLS_OK
        );
        info
    }

    pub fn feed(&self, data: &[u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_session_feed(self.0, data.as_ptr(), data.len(), &mut n) };
        (code, n)
    }

    pub fn take(&self, buf: &mut [u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_session_take(self.0, buf.as_mut_ptr(), buf.len(), &mut n) };
        (code, n)
    }

    pub fn write(&self, data: &[u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_session_write(self.0, data.as_ptr(), data.len(), &mut n) };
        (code, n)
    }

    pub fn read(&self, buf: &mut [u8]) -> (siptls_result, usize) {
        let mut n = 0;
        let code = unsafe { siptls_session_read(self.0, buf.as_mut_ptr(), buf.len(), &mut n) };
        (code, n)
    }

    pub fn close(&self) -> siptls_result {
        unsafe { siptls_session_close(self.0) }
    }

    pub fn last_error(&self) -> String {
        text(|b, c, l| unsafe { siptls_session_get_last_error(self.0, b, c, l) })
    }

    /// Takes all the ciphertext the session has to send now; a result other
    /// than OK or AGAIN fails the test.
    pub fn take_all(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match self.take(&mut buf) {
                (SIPTLS_OK, n) => out.extend_from_slice(&buf[..n]),
                (SIPTLS_AGAIN, _) => return out,
                (code, _) => panic!("take: {code:?} {}", self.last_error()),
            }
        }
    }

    /// Reads all plaintext available now.
    pub fn read_all(&self) -> (siptls_result, Vec<u8>) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match self.read(&mut buf) {
                (SIPTLS_OK, n) => out.extend_from_slice(&buf[..n]),
                (code, _) => return (code, out),
            }
        }
    }
}

impl Drop for Sess {
    fn drop(&mut self) {
        unsafe { siptls_session_free(self.0) }
    }
}

/// Which end of a transfer failed.
enum Failed {
    Sender(siptls_result),
    Receiver(siptls_result),
}

/// Moves ciphertext from one session to the other in pieces of at most
/// `chunk` bytes. Returns whether anything moved.
fn transfer(from: &Sess, to: &Sess, chunk: usize) -> Result<bool, Failed> {
    let mut buf = vec![0u8; chunk];
    let mut moved = false;
    loop {
        let n = match from.take(&mut buf) {
            (SIPTLS_AGAIN, _) => return Ok(moved),
            (SIPTLS_OK, n) => n,
            (other, _) => return Err(Failed::Sender(other)),
        };
        moved = true;
        let mut offset = 0;
        while offset < n {
            match to.feed(&buf[offset..n]) {
                (SIPTLS_OK, used) => offset += used,
                // close_notify arrived: whatever follows it means nothing.
                (SIPTLS_PEER_CLOSED, _) => break,
                (other, _) => return Err(Failed::Receiver(other)),
            }
        }
    }
}

/// The outcome of pumping until neither side has anything more to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PumpResult {
    pub client: siptls_result,
    pub server: siptls_result,
}

/// Pumps both directions in `chunk`-sized pieces until quiet or a failure.
/// A failing side's alert is still delivered to the other side.
pub fn pump_chunked(client: &Sess, server: &Sess, chunk: usize) -> PumpResult {
    let mut result = PumpResult {
        client: SIPTLS_OK,
        server: SIPTLS_OK,
    };
    for _ in 0..100_000 {
        let mut moved = false;
        for (from, to, client_sends) in [(client, server, true), (server, client, false)] {
            match transfer(from, to, chunk) {
                Ok(m) => moved |= m,
                Err(Failed::Sender(code)) if client_sends => result.client = code,
                Err(Failed::Sender(code)) => result.server = code,
                Err(Failed::Receiver(code)) if client_sends => result.server = code,
                Err(Failed::Receiver(code)) => result.client = code,
            }
        }
        if result.client != SIPTLS_OK || result.server != SIPTLS_OK {
            // Deliver the alert the failed side queued, then stop.
            let _ = transfer(client, server, chunk);
            let _ = transfer(server, client, chunk);
            return result;
        }
        if !moved {
            return result;
        }
    }
    panic!("pump did not settle");
}

pub fn pump(client: &Sess, server: &Sess) -> PumpResult {
    pump_chunked(client, server, 16 * 1024)
}

/// Both sides completed the handshake without error.
pub fn assert_handshake_ok(client: &Sess, server: &Sess) {
    let result = pump(client, server);
    assert_eq!(
        result,
        PumpResult {
            client: SIPTLS_OK,
            server: SIPTLS_OK
        },
        "client: {} / server: {}",
        client.last_error(),
        server.last_error()
    );
    assert!(!client.info().handshaking && !server.info().handshaking);
}

/// Captures every verification report a context delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenReport {
    pub role: siptls_role,
    pub status: siptls_verify_status,
    pub trust_id: u32,
    pub depth: u32,
    pub peer_name: String,
    pub leaf: Vec<u8>,
    pub identities: String,
    pub detail: String,
    pub override_allowed: bool,
    pub generation: u64,
    /// The session's user data, as a number.
    pub session_userdata: usize,
    pub resumed: bool,
    pub purpose: siptls_purpose,
    /// The OCSP response the server stapled, as the report showed it.
    pub ocsp_response: Vec<u8>,
}

pub struct Recorder {
    pub reports: std::sync::Mutex<Vec<SeenReport>>,
    pub accept_code: u32,
}

unsafe extern "C" fn record_report(
    userdata: *mut std::ffi::c_void,
    report: *const siptls_verify_report,
) -> u32 {
    let recorder = unsafe { &*(userdata as *const Recorder) };
    let r = unsafe { &*report };
    let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    let leaf = if r.leaf_der.is_null() {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(r.leaf_der, r.leaf_der_len) }.to_vec()
    };
    assert_sentence(&s(r.detail));
    recorder.reports.lock().unwrap().push(SeenReport {
        role: r.role,
        status: r.status,
        trust_id: r.trust_id,
        depth: r.depth,
        peer_name: s(r.peer_name),
        leaf,
        identities: s(r.identities),
        detail: s(r.detail),
        override_allowed: r.override_allowed,
        generation: r.generation,
        session_userdata: r.session_userdata as usize,
        resumed: r.resumed,
        purpose: r.purpose,
        ocsp_response: if r.ocsp_response.is_null() {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(r.ocsp_response, r.ocsp_response_len) }.to_vec()
        },
    });
    recorder.accept_code
}

impl Recorder {
    /// Registers a recorder on `ctx`; keep the returned box alive as long as the context.
    pub fn attach(ctx: &Ctx, decision: siptls_verify_decision) -> Box<Recorder> {
        Self::attach_returning(ctx, decision as u32)
    }

    /// A recorder whose callback returns `code`, a decision or any number.
    pub fn attach_returning(ctx: &Ctx, code: u32) -> Box<Recorder> {
        let recorder = Box::new(Recorder {
            reports: Default::default(),
            accept_code: code,
        });
        let code = unsafe {
            siptls_ctx_set_verify_callback(
                ctx.0,
                Some(record_report),
                &*recorder as *const Recorder as *mut _,
            )
        };
        assert_eq!(code, SIPTLS_OK);
        recorder
    }

    pub fn reports(&self) -> Vec<SeenReport> {
        self.reports.lock().unwrap().clone()
    }
}
