//! Shared helpers for the siptls fuzz targets and the seed generator.
//!
//! Everything here drives the library the way a C gateway does: through the
//! exported `siptls_*` functions, with raw pointers and result codes, so the
//! FFI layer (`ffi::call`, argument checks, panic catching) is fuzzed along
//! with the core.
//!
//! The PKI and the contexts are made once per process ([`pki`], [`ctx`]);
//! each fuzz input only makes sessions.
//!
//! The input formats are described at the top of each target and in
//! docs/fuzzing.md; [`Input`] and [`put_blob`] are the shared encoding, so
//! the targets and `make_seeds` agree.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

pub use siptls::capi::siptls_result::*;
pub use siptls::capi::siptls_verify_status::*;
pub use siptls::capi::*;
pub use siptls_certgen::{Authority, Crl, Issued, KeyAlg, LeafSpec, Usage};

/// The name a client session asks for; the server certificate carries it.
pub const SERVER_NAME: &str = "gw-b.example.test";
pub const CLIENT_NAME: &str = "gw-a.example.test";
/// The trust ID under which every context trusts the process's root.
pub const ROOT_TRUST_ID: u32 = 1;

// ---------------------------------------------------------------------------
// PKI, made once per process.

pub struct Pki {
    pub root: Authority,
    pub server: Issued,
    pub client: Issued,
    /// A CRL of `root` revoking one serial that nobody uses.
    pub crl: Crl,
}

/// A new PKI: a P-256 root, a server and a client identity, and a CRL.
pub fn make_pki() -> Pki {
    let root = Authority::root("siptls Fuzz Root CA");
    let server = root.sip_leaf(SERVER_NAME);
    let client = root.sip_leaf(CLIENT_NAME);
    let crl = root.crl(&[0x0102_0304], 1);
    Pki {
        root,
        server,
        client,
        crl,
    }
}

/// The process's PKI (ECDSA P-256, generated on first use).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

// ---------------------------------------------------------------------------
// Result codes.

/// The number of a result code, without trusting it to be a valid enum value.
pub fn code_number(code: siptls_result) -> u32 {
    code as u32
}

/// Whether `code` is one of the documented result codes (checked through
/// the library's own `siptls_result_str`, as a C caller would).
pub fn is_documented(code: siptls_result) -> bool {
    let text = unsafe { CStr::from_ptr(siptls_result_str(code_number(code))) };
    text.to_bytes() != b"unknown result code"
}

/// Panics (= a libFuzzer crash) unless `code` is documented, not PANIC, and
/// one of `allowed`.
#[track_caller]
pub fn expect_code(what: &str, code: siptls_result, allowed: &[siptls_result]) {
    assert!(
        is_documented(code),
        "{what}: undocumented result code {}",
        code_number(code)
    );
    assert_ne!(
        code,
        SIPTLS_ERR_PANIC,
        "{what}: internal panic caught at the API boundary: {}",
        last_error()
    );
    assert!(
        allowed.contains(&code),
        "{what}: unexpected result {code:?} ({}); allowed: {allowed:?}",
        last_error()
    );
}

/// Codes a live session may fail with on peer input (the 3xx codes).
pub const SESSION_FAILURES: &[siptls_result] = &[
    SIPTLS_ERR_TLS,
    SIPTLS_ERR_CERT_REJECTED,
    SIPTLS_ERR_ALERT_RECEIVED,
    SIPTLS_ERR_NO_COMMON_PARAMETERS,
    SIPTLS_ERR_PEER_TOO_LARGE,
];

/// What `siptls_session_feed` may return: success, a full receive buffer,
/// the peer's close_notify, a session failure, a session that failed
/// before, or WRONG_STATE once the connection has ended.
pub const FEED_CODES: &[siptls_result] = &[
    SIPTLS_OK,
    SIPTLS_BUFFER_FULL,
    SIPTLS_PEER_CLOSED,
    SIPTLS_ERR_TLS,
    SIPTLS_ERR_CERT_REJECTED,
    SIPTLS_ERR_ALERT_RECEIVED,
    SIPTLS_ERR_NO_COMMON_PARAMETERS,
    SIPTLS_ERR_PEER_TOO_LARGE,
    SIPTLS_ERR_SESSION_FAILED,
    SIPTLS_ERR_WRONG_STATE,
];

pub const READ_CODES: &[siptls_result] = &[
    SIPTLS_OK,
    SIPTLS_AGAIN,
    SIPTLS_PEER_CLOSED,
    SIPTLS_ERR_TRUNCATED,
    SIPTLS_ERR_SESSION_FAILED,
    SIPTLS_ERR_TLS,
];

pub const TAKE_CODES: &[siptls_result] = &[SIPTLS_OK, SIPTLS_AGAIN, SIPTLS_ERR_TLS];

fn text(f: impl FnOnce(*mut c_char, usize, *mut usize) -> siptls_result) -> String {
    let mut buf = vec![0 as c_char; 8192];
    let mut len = 0usize;
    let code = f(buf.as_mut_ptr(), buf.len(), &mut len);
    assert!(
        matches!(code, SIPTLS_OK | SIPTLS_ERR_BUFFER_TOO_SMALL),
        "text query failed: {code:?}"
    );
    assert!(
        code == SIPTLS_ERR_BUFFER_TOO_SMALL || len < buf.len(),
        "text length {len} reported as fitting a {}-byte buffer",
        buf.len()
    );
    // The copy is NUL-terminated where len_out says, and holds no other NUL
    // (input quoted in a detail text, such as a PEM label, is escaped).
    let end = len.min(buf.len() - 1);
    assert_eq!(buf[end], 0, "copied text is not NUL-terminated at len_out");
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
    assert_eq!(
        s.to_bytes().len(),
        end,
        "detail text holds a NUL byte before len_out: {:?}",
        String::from_utf8_lossy(unsafe {
            std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), end)
        })
    );
    s.to_string_lossy().into_owned()
}

/// The detail of the last failed call on this thread.
pub fn last_error() -> String {
    text(|b, c, l| unsafe { siptls_get_last_error(b, c, l) })
}

// ---------------------------------------------------------------------------
// Contexts.

/// A context handle, freed on drop.
pub struct Ctx(pub *mut siptls_ctx);

// SAFETY: a siptls context is documented as shareable across threads.
unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}

impl Ctx {
    pub fn new(role: siptls_role) -> Ctx {
        let mut ctx = ptr::null_mut();
        let code = unsafe { siptls_ctx_new(role as u32, &mut ctx) };
        assert_eq!(code, SIPTLS_OK, "siptls_ctx_new");
        assert!(!ctx.is_null());
        Ctx(ctx)
    }

    pub fn set_identity(&self, cert_pem: &[u8], key_pem: &[u8]) -> siptls_result {
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

    pub fn trust_add(&self, id: u32, cert: &[u8]) -> siptls_result {
        unsafe { siptls_ctx_add_trust(self.0, id, cert.as_ptr(), cert.len()) }
    }

    pub fn trust_load_ca_list(&self, pem: &[u8], first_id: u32) -> (siptls_result, usize) {
        let mut added = usize::MAX;
        let code = unsafe {
            siptls_ctx_add_trust_list(self.0, pem.as_ptr(), pem.len(), first_id, &mut added)
        };
        (code, added)
    }

    pub fn add_crl(&self, crl: &[u8]) -> (siptls_result, usize) {
        let mut added = usize::MAX;
        let code = unsafe { siptls_ctx_add_crl(self.0, crl.as_ptr(), crl.len(), &mut added) };
        (code, added)
    }

    pub fn trust_replace_ca_list(&self, pem: &[u8], first_id: u32) -> (siptls_result, usize) {
        let mut count = usize::MAX;
        let code = unsafe {
            siptls_ctx_replace_trust_list(self.0, pem.as_ptr(), pem.len(), first_id, &mut count)
        };
        (code, count)
    }

    pub fn trust_remove(&self, id: u32) -> siptls_result {
        unsafe { siptls_ctx_remove_trust(self.0, id) }
    }

    pub fn generation(&self) -> u64 {
        let mut generation = u64::MAX;
        assert_eq!(
            unsafe { siptls_ctx_get_generation(self.0, &mut generation) },
            SIPTLS_OK
        );
        generation
    }

    /// Every loaded CRL's listing; each must be readable and well formed.
    pub fn crls(&self) -> Vec<siptls_crl_info> {
        let mut count = usize::MAX;
        assert_eq!(
            unsafe { siptls_ctx_count_crls(self.0, &mut count) },
            SIPTLS_OK
        );
        (0..count)
            .map(|i| {
                let mut info: siptls_crl_info = unsafe { std::mem::zeroed() };
                info.struct_size = std::mem::size_of::<siptls_crl_info>() as u32;
                let code = unsafe { siptls_ctx_get_crl(self.0, i, &mut info) };
                assert_eq!(code, SIPTLS_OK, "crl_get {i} of {count}");
                assert_eq!(*info.issuer.last().unwrap(), 0, "issuer not NUL-terminated");
                assert_eq!(
                    *info.crl_number.last().unwrap(),
                    0,
                    "crl_number not NUL-terminated"
                );
                info
            })
            .collect()
    }

    pub fn trust_set_sip_domain(&self, id: u32, domain: Option<&CStr>) -> siptls_result {
        unsafe {
            siptls_ctx_set_trust_sip_domain(self.0, id, domain.map_or(ptr::null(), CStr::as_ptr))
        }
    }

    /// The trust IDs, checked: the count query agrees with the listing, the
    /// list is strictly ascending and never longer than 16.
    pub fn trust_ids(&self) -> Vec<u32> {
        let mut count = usize::MAX;
        let code = unsafe { siptls_ctx_list_trust(self.0, ptr::null_mut(), 0, &mut count) };
        let expected = if count == 0 {
            SIPTLS_OK
        } else {
            SIPTLS_ERR_BUFFER_TOO_SMALL
        };
        assert_eq!(code, expected, "trust_list count query");
        let mut ids = [0u32; 32];
        let mut listed = usize::MAX;
        let code =
            unsafe { siptls_ctx_list_trust(self.0, ids.as_mut_ptr(), ids.len(), &mut listed) };
        assert_eq!(code, SIPTLS_OK, "trust_list");
        assert_eq!(listed, count, "trust_list count differs between calls");
        assert!(
            listed <= SIPTLS_MAX_TRUST_ENTRIES,
            "trust table holds {listed} entries"
        );
        let ids = ids[..listed].to_vec();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "trust IDs not strictly ascending: {ids:?}"
        );
        assert!(
            !ids.contains(&SIPTLS_TRUST_ID_NONE),
            "reserved trust ID listed"
        );
        ids
    }

    pub fn last_error(&self) -> String {
        text(|b, c, l| unsafe { siptls_ctx_get_last_error(self.0, b, c, l) })
    }

    fn must(&self, what: &str, code: siptls_result) {
        assert_eq!(code, SIPTLS_OK, "{what}: {}", self.last_error());
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        unsafe { siptls_ctx_free(self.0) }
    }
}

/// Which of the process's contexts to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtxKind {
    pub role: siptls_role,
    /// Allow overrides, with a verify callback that accepts every chain, so
    /// a handshake with an unverifiable peer goes on past the certificate.
    pub override_all: bool,
    /// TLS 1.2 only (the default is TLS 1.2 and 1.3).
    pub tls12_only: bool,
    /// Servers: client certificates optional instead of required.
    pub optional_client_auth: bool,
}

impl CtxKind {
    pub fn client() -> Self {
        Self {
            role: siptls_role::SIPTLS_ROLE_CLIENT,
            override_all: false,
            tls12_only: false,
            optional_client_auth: false,
        }
    }

    pub fn server() -> Self {
        Self {
            role: siptls_role::SIPTLS_ROLE_SERVER,
            ..Self::client()
        }
    }

    fn index(self) -> usize {
        (self.role as usize)
            | usize::from(self.override_all) << 1
            | usize::from(self.tls12_only) << 2
            | usize::from(self.optional_client_auth && self.role == siptls_role::SIPTLS_ROLE_SERVER)
                << 3
    }
}

/// Whether `status` is a documented verification status (asked through
/// `siptls_verify_status_str`).
pub fn known_status(status: siptls_verify_status) -> bool {
    let name = unsafe { CStr::from_ptr(siptls_verify_status_str(status as u32)) };
    !matches!(name.to_bytes(), b"UNKNOWN_STATUS" | b"internal error")
}

/// Checks every field of a verification report, then accepts the chain.
unsafe extern "C" fn accept_all(
    _userdata: *mut c_void,
    report: *const siptls_verify_report,
) -> u32 {
    let r = unsafe { report.as_ref() }.expect("report is not NULL");
    for (name, p) in [
        ("peer_name", r.peer_name),
        ("identities", r.identities),
        ("detail", r.detail),
    ] {
        assert!(!p.is_null(), "verify report: {name} is NULL");
        // Must be NUL-terminated and readable.
        let _ = unsafe { CStr::from_ptr(p) }.to_bytes().len();
    }
    assert_eq!(
        r.leaf_der.is_null(),
        r.leaf_der_len == 0,
        "verify report: leaf pointer and length disagree"
    );
    if !r.leaf_der.is_null() {
        // Readable for its length (ASan checks this).
        let leaf = unsafe { std::slice::from_raw_parts(r.leaf_der, r.leaf_der_len) };
        std::hint::black_box(leaf.iter().fold(0u8, |a, b| a ^ b));
    }
    assert!(known_status(r.status), "verify report: unknown status");
    assert_eq!(
        r.override_allowed,
        r.status != SIPTLS_VERIFY_OK && r.status != SIPTLS_VERIFY_NO_CERTIFICATE,
        "verify report: override_allowed {} with status {:?} on an override context",
        r.override_allowed,
        r.status
    );
    if r.status == SIPTLS_VERIFY_OK {
        assert_ne!(r.trust_id, SIPTLS_TRUST_ID_NONE, "OK without a trust entry");
    }
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

fn build_ctx(kind: CtxKind) -> Ctx {
    let p = pki();
    let ctx = Ctx::new(kind.role);
    let identity = match kind.role {
        siptls_role::SIPTLS_ROLE_CLIENT => &p.client,
        siptls_role::SIPTLS_ROLE_SERVER => &p.server,
    };
    ctx.must(
        "identity",
        ctx.set_identity(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes()),
    );
    ctx.must(
        "trust root",
        ctx.trust_add(ROOT_TRUST_ID, p.root.issued().cert_pem.as_bytes()),
    );
    if kind.override_all {
        ctx.must("override", unsafe {
            siptls_ctx_set_allow_override(ctx.0, true)
        });
        ctx.must("callback", unsafe {
            siptls_ctx_set_verify_callback(ctx.0, Some(accept_all), ptr::null_mut())
        });
    }
    if kind.tls12_only {
        ctx.must("versions", unsafe {
            siptls_ctx_set_versions(ctx.0, SIPTLS_TLS12, SIPTLS_TLS12)
        });
    }
    if kind.optional_client_auth && kind.role == siptls_role::SIPTLS_ROLE_SERVER {
        ctx.must("client auth", unsafe {
            siptls_ctx_set_client_auth(
                ctx.0,
                siptls_client_auth::SIPTLS_CLIENT_AUTH_OPTIONAL as u32,
            )
        });
    }
    ctx
}

/// The process's context of this kind (made on first use, then shared).
pub fn ctx(kind: CtxKind) -> &'static Ctx {
    static CTXS: [OnceLock<Ctx>; 16] = [const { OnceLock::new() }; 16];
    CTXS[kind.index()].get_or_init(|| build_ctx(kind))
}

// ---------------------------------------------------------------------------
// Sessions.

thread_local! {
    /// Reused output buffers: a fresh zeroed 64 KiB per call costs more
    /// than the call under ASan.
    static TAKE_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static READ_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `cap` (at least 1) bytes of the scratch buffer.
fn with_scratch<T>(
    scratch: &'static std::thread::LocalKey<std::cell::RefCell<Vec<u8>>>,
    cap: usize,
    f: impl FnOnce(&mut [u8]) -> T,
) -> T {
    scratch.with(|cell| {
        let mut buf = cell.borrow_mut();
        let cap = cap.max(1);
        if buf.len() < cap {
            buf.resize(cap, 0);
        }
        f(&mut buf[..cap])
    })
}

/// A session handle, freed on drop, that checks the invariants of every call.
pub struct Sess {
    pub ptr: *mut siptls_session,
    pub role: siptls_role,
    /// A call reported a session failure (3xx) on this session.
    pub failed: bool,
    /// `siptls_session_feed_eof` was called.
    pub transport_closed: bool,
    /// `siptls_session_close` was called.
    pub closed: bool,
    /// A finished handshake must have verified a peer certificate (clients,
    /// and servers that require client certificates).
    pub require_peer_cert: bool,
}

impl Sess {
    /// A session of a context with `role`, for `peer_name` (NULL when
    /// `None`), or the code `siptls_session_new` refused it with.
    pub fn try_new(
        ctx: &Ctx,
        role: siptls_role,
        peer_name: Option<&CStr>,
        require_peer_cert: bool,
    ) -> Result<Sess, siptls_result> {
        let mut session = ptr::null_mut();
        let peer = peer_name.map_or(ptr::null(), CStr::as_ptr);
        let code = unsafe { siptls_session_new(ctx.0, peer, &mut session) };
        assert_eq!(code == SIPTLS_OK, !session.is_null(), "session_new output");
        if code != SIPTLS_OK {
            return Err(code);
        }
        Ok(Sess {
            ptr: session,
            role,
            failed: false,
            transport_closed: false,
            closed: false,
            require_peer_cert,
        })
    }

    pub fn new(ctx: &Ctx, role: siptls_role, require_peer_cert: bool) -> Sess {
        let name = CString::new(SERVER_NAME).expect("no NUL");
        let peer = (role == siptls_role::SIPTLS_ROLE_CLIENT).then_some(name.as_c_str());
        Sess::try_new(ctx, role, peer, require_peer_cert)
            .unwrap_or_else(|code| panic!("session_new: {code:?}: {}", ctx.last_error()))
    }

    pub fn client(kind: CtxKind) -> Sess {
        Sess::new(ctx(kind), siptls_role::SIPTLS_ROLE_CLIENT, true)
    }

    pub fn server(kind: CtxKind) -> Sess {
        Sess::new(
            ctx(kind),
            siptls_role::SIPTLS_ROLE_SERVER,
            !kind.optional_client_auth,
        )
    }

    fn note(&mut self, code: siptls_result) {
        if SESSION_FAILURES.contains(&code) {
            self.failed = true;
        }
    }

    /// One `siptls_session_feed` call, checked.
    pub fn feed(&mut self, data: &[u8]) -> (siptls_result, usize) {
        let mut consumed = usize::MAX;
        let code =
            unsafe { siptls_session_feed(self.ptr, data.as_ptr(), data.len(), &mut consumed) };
        let was_failed = self.failed;
        if data.is_empty() {
            expect_code(
                "feed (empty)",
                code,
                &[SIPTLS_ERR_INVALID_ARGUMENT, SIPTLS_ERR_SESSION_FAILED],
            );
        } else {
            expect_code("feed", code, FEED_CODES);
        }
        assert!(
            consumed <= data.len(),
            "feed consumed {consumed} of {}",
            data.len()
        );
        if was_failed {
            assert_eq!(
                code, SIPTLS_ERR_SESSION_FAILED,
                "feed on a failed session must return SESSION_FAILED"
            );
        }
        // After transport_closed, ciphertext that arrived before the end may
        // still be fed until the end has taken effect.
        match code {
            SIPTLS_OK => assert!(consumed > 0, "feed: OK but nothing consumed"),
            // The close_notify record itself was taken.
            SIPTLS_PEER_CLOSED => assert!(consumed > 0, "feed: PEER_CLOSED but nothing consumed"),
            _ => assert_eq!(consumed, 0, "feed: {code:?} but {consumed} consumed"),
        }
        self.note(code);
        let info = self.info();
        assert_eq!(
            info.failed, self.failed,
            "get_info.failed disagrees with the results returned (last: {code:?})"
        );
        if code == SIPTLS_PEER_CLOSED {
            assert_eq!(
                info.close_state,
                siptls_close_state::SIPTLS_CLOSE_CLEAN,
                "feed said PEER_CLOSED"
            );
        }
        if code == SIPTLS_ERR_CERT_REJECTED {
            // CERT_REJECTED means "see the verification status", so that
            // status must be a failure.
            assert!(info.verified, "CERT_REJECTED without a verification report");
            assert!(
                !matches!(
                    info.verify_status,
                    SIPTLS_VERIFY_OK | SIPTLS_VERIFY_OVERRIDDEN
                ),
                "CERT_REJECTED while the verification status is {:?} ({})",
                info.verify_status,
                self.last_error()
            );
        }
        if code == SIPTLS_ERR_WRONG_STATE {
            assert_ne!(
                info.close_state,
                siptls_close_state::SIPTLS_CLOSE_OPEN,
                "feed: WRONG_STATE on an open connection"
            );
        }
        (code, consumed)
    }

    /// One `siptls_session_take` call into `buf`, checked.
    pub fn take(&mut self, buf: &mut [u8]) -> (siptls_result, usize) {
        let mut written = usize::MAX;
        let code =
            unsafe { siptls_session_take(self.ptr, buf.as_mut_ptr(), buf.len(), &mut written) };
        expect_code("take", code, TAKE_CODES);
        assert!(
            written <= buf.len(),
            "take wrote {written} into {}",
            buf.len()
        );
        match code {
            SIPTLS_OK => assert!(written > 0, "take: OK with nothing written"),
            _ => assert_eq!(written, 0, "take: {code:?} with {written} written"),
        }
        (code, written)
    }

    /// Takes everything pending, `cap` bytes at a time.
    pub fn take_all(&mut self, cap: usize) -> Vec<u8> {
        let mut out = Vec::new();
        with_scratch(&TAKE_SCRATCH, cap, |buf| {
            for _ in 0..1_000_000 {
                match self.take(buf) {
                    (SIPTLS_OK, n) => out.extend_from_slice(&buf[..n]),
                    _ => {
                        assert!(
                            !self.info().wants_send,
                            "take said AGAIN but wants_send is set"
                        );
                        return;
                    }
                }
            }
            panic!("take never ran dry");
        });
        out
    }

    /// One `siptls_session_read` call, checked.
    pub fn read(&mut self, buf: &mut [u8]) -> (siptls_result, usize) {
        let mut n = usize::MAX;
        let code = unsafe { siptls_session_read(self.ptr, buf.as_mut_ptr(), buf.len(), &mut n) };
        expect_code("read", code, READ_CODES);
        assert!(n <= buf.len(), "read {n} into {}", buf.len());
        match code {
            SIPTLS_OK => assert!(n > 0, "read: OK with nothing read"),
            _ => assert_eq!(n, 0, "read: {code:?} with {n} read"),
        }
        if self.failed {
            assert_eq!(code, SIPTLS_ERR_SESSION_FAILED, "read on a failed session");
        }
        (code, n)
    }

    /// Reads all plaintext available now into `sink`; returns the code that
    /// ended the reading (AGAIN, PEER_CLOSED, ...).
    pub fn read_into(&mut self, cap: usize, sink: &mut Vec<u8>) -> siptls_result {
        with_scratch(&READ_SCRATCH, cap, |buf| {
            for _ in 0..10_000_000 {
                match self.read(buf) {
                    (SIPTLS_OK, n) => sink.extend_from_slice(&buf[..n]),
                    (code, _) => return code,
                }
            }
            panic!("read never ran dry");
        })
    }

    /// One `siptls_session_write` call, checked.
    pub fn write(&mut self, data: &[u8]) -> (siptls_result, usize) {
        let mut n = usize::MAX;
        let code = unsafe { siptls_session_write(self.ptr, data.as_ptr(), data.len(), &mut n) };
        expect_code(
            "write",
            code,
            &[
                SIPTLS_OK,
                SIPTLS_AGAIN,
                SIPTLS_ERR_INVALID_ARGUMENT,
                SIPTLS_ERR_WRONG_STATE,
                SIPTLS_ERR_SESSION_FAILED,
                SIPTLS_ERR_TLS,
            ],
        );
        assert!(n <= data.len(), "write accepted {n} of {}", data.len());
        match code {
            SIPTLS_OK => assert!(n > 0, "write: OK with nothing accepted"),
            _ => assert_eq!(n, 0, "write: {code:?} with {n} accepted"),
        }
        if self.failed {
            assert_eq!(code, SIPTLS_ERR_SESSION_FAILED, "write on a failed session");
        }
        if self.closed && !self.failed && !data.is_empty() {
            assert_eq!(code, SIPTLS_ERR_WRONG_STATE, "write after close");
        }
        (code, n)
    }

    /// `siptls_session_close`: OK, or SESSION_FAILED on a failed session.
    pub fn close(&mut self) {
        let code = unsafe { siptls_session_close(self.ptr) };
        self.expect_ok_unless_failed("close", code);
        self.closed |= code == SIPTLS_OK;
    }

    /// `siptls_session_feed_eof`: OK, or SESSION_FAILED on a failed session.
    pub fn transport_closed(&mut self) {
        let code = unsafe { siptls_session_feed_eof(self.ptr) };
        self.expect_ok_unless_failed("transport_closed", code);
        self.transport_closed |= code == SIPTLS_OK;
    }

    fn expect_ok_unless_failed(&self, what: &str, code: siptls_result) {
        expect_code(what, code, &[SIPTLS_OK, SIPTLS_ERR_SESSION_FAILED]);
        let expected = if self.failed {
            SIPTLS_ERR_SESSION_FAILED
        } else {
            SIPTLS_OK
        };
        assert_eq!(code, expected, "{what} (session failed: {})", self.failed);
    }

    /// `siptls_session_get_info`, with its fields checked for consistency.
    pub fn info(&self) -> siptls_session_info {
        let mut info = std::mem::MaybeUninit::<siptls_session_info>::zeroed();
        unsafe {
            (*info.as_mut_ptr()).struct_size = std::mem::size_of::<siptls_session_info>() as u32
        };
        let code = unsafe { siptls_session_get_info(self.ptr, info.as_mut_ptr()) };
        expect_code("get_info", code, &[SIPTLS_OK]);
        let info = unsafe { info.assume_init() };
        assert_eq!(info.role, self.role, "get_info: role");
        assert!(
            matches!(info.protocol_version, 0 | SIPTLS_TLS12 | SIPTLS_TLS13),
            "get_info: protocol_version {:#x}",
            info.protocol_version
        );
        assert!(
            (-1..=255).contains(&info.alert_received),
            "get_info: alert_received {}",
            info.alert_received
        );
        if info.cipher_suite != 0 {
            let name = unsafe { CStr::from_ptr(siptls_cipher_suite_str(info.cipher_suite)) };
            assert_ne!(
                name.to_bytes(),
                b"unknown",
                "negotiated a suite siptls does not offer: {:#06x}",
                info.cipher_suite
            );
        }
        if info.verified {
            for s in [info.verify_status, info.verify_checked] {
                assert!(known_status(s), "get_info: verify status {}", s as u32);
            }
            if info.verify_status == SIPTLS_VERIFY_OK {
                assert_ne!(
                    info.trust_id, SIPTLS_TRUST_ID_NONE,
                    "verified OK without trust entry"
                );
            }
        } else {
            assert_eq!(
                info.trust_id, SIPTLS_TRUST_ID_NONE,
                "trust ID without verification"
            );
        }
        if !info.handshaking && !info.failed {
            // A finished handshake has negotiated parameters and an
            // authenticated peer (clients always verify the server;
            // servers require a client certificate unless told otherwise).
            assert_ne!(info.protocol_version, 0, "handshake done without a version");
            assert_ne!(info.cipher_suite, 0, "handshake done without a suite");
            assert!(
                info.verified,
                "handshake finished without a verification report"
            );
            let accepted: &[siptls_verify_status] = if self.require_peer_cert {
                &[SIPTLS_VERIFY_OK, SIPTLS_VERIFY_OVERRIDDEN]
            } else {
                &[
                    SIPTLS_VERIFY_OK,
                    SIPTLS_VERIFY_OVERRIDDEN,
                    SIPTLS_VERIFY_NO_CERTIFICATE,
                ]
            };
            assert!(
                accepted.contains(&info.verify_status),
                "{:?} finished the handshake with verify status {:?}",
                self.role,
                info.verify_status
            );
        }
        info
    }

    /// Every certificate of the peer's chain, checked for readable pointers.
    pub fn peer_certs(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for index in 0..64 {
            let mut der = ptr::null();
            let mut len = usize::MAX;
            let code = unsafe { siptls_session_get_peer_cert(self.ptr, index, &mut der, &mut len) };
            expect_code("peer_cert", code, &[SIPTLS_OK, SIPTLS_ERR_INVALID_ARGUMENT]);
            if code != SIPTLS_OK {
                assert!(
                    der.is_null() && len == 0,
                    "peer_cert: outputs not cleared on error"
                );
                return out;
            }
            assert!(!der.is_null() && len > 0, "peer_cert: empty certificate");
            out.push(unsafe { std::slice::from_raw_parts(der, len) }.to_vec());
        }
        panic!("peer chain longer than 64 certificates");
    }

    pub fn last_error(&self) -> String {
        text(|b, c, l| unsafe { siptls_session_get_last_error(self.ptr, b, c, l) })
    }
}

impl Drop for Sess {
    fn drop(&mut self) {
        unsafe { siptls_session_free(self.ptr) }
    }
}

// ---------------------------------------------------------------------------
// Pumping between two sessions.

/// How bytes move between a pair.
#[derive(Debug, Clone, Copy)]
pub struct Chunking {
    /// Bytes per `siptls_session_feed` call.
    pub feed: usize,
    /// Room offered to `siptls_session_take`.
    pub take_cap: usize,
    /// Room offered to `siptls_session_read`.
    pub read_cap: usize,
}

impl Chunking {
    pub const WHOLE: Chunking = Chunking {
        feed: 1 << 20,
        take_cap: 1 << 16,
        read_cap: 1 << 16,
    };
}

/// Buffer sizes picked by a selector byte: small, odd and record-sized.
pub fn cap_from(selector: u8) -> usize {
    const CAPS: [usize; 8] = [1, 5, 64, 300, 1500, 4096, 16_384, 65_536];
    CAPS[usize::from(selector) % CAPS.len()]
}

/// Feed-chunk size from a selector byte: 0 is "everything at once".
pub fn chunk_from(selector: u8) -> usize {
    match selector {
        0 => usize::MAX,
        n => usize::from(n),
    }
}

/// A failure seen while pumping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpError {
    Sender(siptls_result),
    Receiver(siptls_result),
}

/// How [`feed_all`] ended without a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Every byte was consumed.
    All,
    /// The peer's close_notify arrived; `rest` bytes after it were not taken.
    PeerClosed { rest: usize },
}

/// Feeds all of `data` into `to`, `chunking.feed` bytes per call, reading
/// plaintext into `sink` whenever the receive buffer fills up (as the
/// contract says: read, then feed the rest). Returns the failure code, if any.
pub fn feed_all(
    to: &mut Sess,
    data: &[u8],
    chunking: Chunking,
    sink: &mut Vec<u8>,
) -> Result<Fed, siptls_result> {
    let mut offset = 0;
    let mut stalls = 0;
    while offset < data.len() {
        let end = data.len().min(offset.saturating_add(chunking.feed));
        let piece = &data[offset..end];
        let (code, used) = to.feed(piece);
        offset += used;
        match code {
            SIPTLS_OK if used == piece.len() => stalls = 0,
            SIPTLS_OK | SIPTLS_BUFFER_FULL => {
                // Stopped early: only a full receive buffer may do that. Read
                // (as the contract says), then feed the rest.
                let before = sink.len();
                let read = to.read_into(chunking.read_cap, sink);
                assert!(
                    sink.len() > before,
                    "feed returned {code:?} after {used} of {} bytes, yet nothing can be read ({read:?})",
                    piece.len()
                );
                stalls += 1;
                assert!(stalls < 1_000_000, "feed makes no progress");
            }
            SIPTLS_PEER_CLOSED | SIPTLS_ERR_WRONG_STATE => {
                return Ok(Fed::PeerClosed {
                    rest: data.len() - offset,
                });
            }
            other => return Err(other),
        }
    }
    Ok(Fed::All)
}

/// Moves all pending ciphertext from `from` to `to`. Returns whether
/// anything moved.
pub fn transfer(
    from: &mut Sess,
    to: &mut Sess,
    chunking: Chunking,
    sink: &mut Vec<u8>,
) -> Result<bool, PumpError> {
    let bytes = from.take_all(chunking.take_cap);
    if bytes.is_empty() {
        return Ok(false);
    }
    match feed_all(to, &bytes, chunking, sink).map_err(PumpError::Receiver)? {
        Fed::All => Ok(true),
        Fed::PeerClosed { rest } => {
            // Only data after a close_notify may be left over: nothing the
            // sender wrote may be lost before it.
            assert!(
                from.closed,
                "the receiver saw close_notify, but the sender never closed ({rest} bytes left)"
            );
            Ok(true)
        }
    }
}

/// Pumps both ways until neither side has anything to send. Plaintext that
/// arrives meanwhile goes to the sinks (client's, server's).
pub fn pump(
    client: &mut Sess,
    server: &mut Sess,
    c2s: Chunking,
    s2c: Chunking,
    client_sink: &mut Vec<u8>,
    server_sink: &mut Vec<u8>,
) -> Result<(), PumpError> {
    for _ in 0..10_000 {
        let a = transfer(client, server, c2s, server_sink)?;
        let b = transfer(server, client, s2c, client_sink)?;
        if !a && !b {
            return Ok(());
        }
    }
    panic!("pump did not settle");
}

/// A client and a server session with a completed handshake (whole-buffer transfers).
pub fn handshaken_pair(client_kind: CtxKind, server_kind: CtxKind) -> (Sess, Sess) {
    let mut client = Sess::client(client_kind);
    let mut server = Sess::server(server_kind);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let result = pump(
        &mut client,
        &mut server,
        Chunking::WHOLE,
        Chunking::WHOLE,
        &mut a,
        &mut b,
    );
    assert_eq!(
        result,
        Ok(()),
        "handshake failed: client: {} / server: {}",
        client.last_error(),
        server.last_error()
    );
    assert!(a.is_empty() && b.is_empty());
    assert!(!client.info().handshaking && !server.info().handshaking);
    (client, server)
}

// ---------------------------------------------------------------------------
// Input parsing.

/// A cursor over fuzz input that never fails: past the end it yields zeros
/// and empty slices.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A blob with a 16-bit big-endian length (clamped to what is left).
    pub fn blob(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(usize::MAX)
    }
}

/// Appends a blob in the [`Input::blob`] encoding.
pub fn put_blob(out: &mut Vec<u8>, blob: &[u8]) {
    let len = u16::try_from(blob.len()).expect("blob fits 64 KiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(blob);
}

/// Maps arbitrary bytes to a C string (cut at the first NUL).
pub fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before end")
}
