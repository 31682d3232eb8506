//! siptls, through the exported C functions as a gateway calls them.

use siptls::capi::siptls_result::*;
use siptls::capi::*;
use siptls_certgen::Issued;

use crate::harness::{Case, Rotation, Stack, Version, CHUNK};
use crate::pki::{Pki, SERVER_NAME};

pub struct Siptls {
    client: *mut siptls_ctx,
    server: *mut siptls_ctx,
    /// First contact: a client context per certificate.
    first_contact: Rotation<*mut siptls_ctx>,
    case: Case,
    resumed: bool,
}

// SAFETY: contexts are shared by many sessions and threads (the thread
// safety rules of docs/conventions.md); sessions stay on the thread that
// made them.
unsafe impl Sync for Siptls {}

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
            self.first_contact.drain().for_each(|c| siptls_ctx_free(c));
        }
    }
}

fn check(code: siptls_result, what: &str) {
    assert_eq!(code, SIPTLS_OK, "{what}");
}

fn context(role: siptls_role, identity: &Issued, root_pem: &str, case: Case) -> *mut siptls_ctx {
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
        check(
            siptls_ctx_add_trust(ctx, 1, root_pem.as_ptr(), root_pem.len()),
            "trust",
        );
        check(siptls_ctx_set_versions(ctx, version, version), "versions");
        check(siptls_ctx_set_resumption(ctx, case.resumed), "resumption");
    }
    ctx
}

/// The handshake kind the client session reports.
fn kind(session: *mut siptls_session) -> siptls_handshake_kind {
    let mut info = std::mem::MaybeUninit::<siptls_session_info>::zeroed();
    unsafe { (*info.as_mut_ptr()).struct_size = std::mem::size_of::<siptls_session_info>() as u32 };
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
            let code =
                unsafe { siptls_session_feed(to, buf[offset..].as_ptr(), n - offset, &mut used) };
            check(code, "feed");
            offset += used;
        }
        // A take that did not fill the buffer took everything there was.
        if n < buf.len() {
            return true;
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
            let code =
                unsafe { siptls_ctx_set_log_callback(ctx, callback, level, std::ptr::null_mut()) };
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
                pki.root_pem(),
                case,
            ),
            server: context(
                siptls_role::SIPTLS_ROLE_SERVER,
                &pki.server,
                pki.root_pem(),
                case,
            ),
            first_contact: Rotation::default(),
            case,
            resumed: false,
        }
    }

    fn expect_resumed(&mut self, resumed: bool) {
        self.resumed = resumed;
    }

    fn present(&mut self, pki: &Pki, clients: &[Issued]) {
        self.first_contact
            .drain()
            .for_each(|c| unsafe { siptls_ctx_free(c) });
        let role = siptls_role::SIPTLS_ROLE_CLIENT;
        self.first_contact = Rotation::new(
            clients
                .iter()
                .map(|c| context(role, c, pki.root_pem(), self.case))
                .collect(),
        );
    }

    fn connect(&self) -> Pair {
        let client = self.first_contact.take().copied().unwrap_or(self.client);
        let peer = std::ffi::CString::new(SERVER_NAME).unwrap();
        let mut pair = Pair {
            client: std::ptr::null_mut(),
            server: std::ptr::null_mut(),
        };
        unsafe {
            check(
                siptls_session_new(client, peer.as_ptr(), &mut pair.client),
                "client session",
            );
            check(
                siptls_session_new(self.server, std::ptr::null(), &mut pair.server),
                "server session",
            );
        }
        let mut buf = vec![0u8; 2 * CHUNK];
        while flow(pair.client, pair.server, &mut buf) | flow(pair.server, pair.client, &mut buf) {}
        let resumed = kind(pair.client) == siptls_handshake_kind::SIPTLS_HANDSHAKE_RESUMED;
        assert_eq!(resumed, self.resumed, "siptls resumption");
        pair
    }

    fn send(&self, pair: &mut Pair, data: &[u8]) -> usize {
        let mut n = 0;
        let code = unsafe { siptls_session_write(pair.client, data.as_ptr(), data.len(), &mut n) };
        check(code, "write");
        n
    }

    fn deliver(&self, pair: &mut Pair, buf: &mut [u8]) {
        flow(pair.client, pair.server, buf);
    }

    fn receive(&self, pair: &mut Pair, sink: &mut [u8]) -> usize {
        let mut total = 0;
        loop {
            let mut n = 0;
            match unsafe { siptls_session_read(pair.server, sink.as_mut_ptr(), sink.len(), &mut n) }
            {
                SIPTLS_OK => total += n,
                SIPTLS_AGAIN => return total,
                code => panic!("siptls read: {code:?}"),
            }
            // A read that did not fill the buffer read everything there was.
            if n < sink.len() {
                return total;
            }
        }
    }
}
