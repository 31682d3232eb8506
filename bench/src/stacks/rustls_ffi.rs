//! rustls-ffi (the crates.io crate), through its C functions as a C program
//! calls them: the prototypes below are those of its `rustls.h`, linked
//! from the crate, and the pump is the one its examples use
//! (`rustls_connection_read_tls` / `write_tls` with callbacks, then
//! `process_new_packets`).
//!
//! Resumption as rustls-ffi offers it: its server has no ticket setter, so
//! it resumes from rustls' in-memory session cache (one TLS 1.3 ticket per
//! handshake, stateful); the client keeps rustls' default cache. Cases
//! without resumption send no TLS 1.3 ticket and give the server a session
//! store that keeps nothing.

use std::ffi::{c_char, c_int, c_void, CString};

use siptls_certgen::Issued;

use crate::harness::{Case, Rotation, Stack, Version, CHUNK};
use crate::pki::{Pki, SERVER_NAME};

macro_rules! opaque {
    ($($name:ident),*) => {
        $(#[allow(non_camel_case_types)] #[repr(C)] pub struct $name { _private: [u8; 0] })*
    };
}
opaque!(
    rustls_crypto_provider,
    rustls_crypto_provider_builder,
    rustls_root_cert_store_builder,
    rustls_root_cert_store,
    rustls_web_pki_server_cert_verifier_builder,
    rustls_server_cert_verifier,
    rustls_web_pki_client_cert_verifier_builder,
    rustls_client_cert_verifier,
    rustls_certified_key,
    rustls_client_config_builder,
    rustls_client_config,
    rustls_server_config_builder,
    rustls_server_config,
    rustls_connection
);

#[allow(non_camel_case_types)]
type rustls_result = u32;
const RUSTLS_RESULT_OK: rustls_result = 7000;
const RUSTLS_RESULT_NOT_FOUND: rustls_result = 7008;
const RUSTLS_RESULT_PLAINTEXT_EMPTY: rustls_result = 7011;
const RUSTLS_HANDSHAKE_KIND_RESUMED: u32 = 3;
const TLS12: u16 = 0x0303;
const TLS13: u16 = 0x0304;

#[repr(C)]
struct rustls_slice_bytes {
    data: *const u8,
    len: usize,
}

type ReadCallback = unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> c_int;
type WriteCallback = unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut usize) -> c_int;
type StoreGet = unsafe extern "C" fn(
    *mut c_void,
    *const rustls_slice_bytes,
    c_int,
    *mut u8,
    usize,
    *mut usize,
) -> u32;
type StorePut =
    unsafe extern "C" fn(*mut c_void, *const rustls_slice_bytes, *const rustls_slice_bytes) -> u32;

// Linked from the rustls-ffi crate (`extern crate rustls_ffi` in main.rs).
extern "C" {
    fn rustls_crypto_provider_builder_new_from_default(
        out: *mut *mut rustls_crypto_provider_builder,
    ) -> rustls_result;
    fn rustls_crypto_provider_builder_build(
        builder: *mut rustls_crypto_provider_builder,
        out: *mut *const rustls_crypto_provider,
    ) -> rustls_result;
    fn rustls_crypto_provider_builder_free(builder: *mut rustls_crypto_provider_builder);
    fn rustls_crypto_provider_free(provider: *const rustls_crypto_provider);

    fn rustls_root_cert_store_builder_new() -> *mut rustls_root_cert_store_builder;
    fn rustls_root_cert_store_builder_add_pem(
        builder: *mut rustls_root_cert_store_builder,
        pem: *const u8,
        len: usize,
        strict: bool,
    ) -> rustls_result;
    fn rustls_root_cert_store_builder_build(
        builder: *mut rustls_root_cert_store_builder,
        out: *mut *const rustls_root_cert_store,
    ) -> rustls_result;
    fn rustls_root_cert_store_builder_free(builder: *mut rustls_root_cert_store_builder);
    fn rustls_root_cert_store_free(store: *const rustls_root_cert_store);

    fn rustls_web_pki_server_cert_verifier_builder_new(
        store: *const rustls_root_cert_store,
    ) -> *mut rustls_web_pki_server_cert_verifier_builder;
    fn rustls_web_pki_server_cert_verifier_builder_build(
        builder: *mut rustls_web_pki_server_cert_verifier_builder,
        out: *mut *mut rustls_server_cert_verifier,
    ) -> rustls_result;
    fn rustls_web_pki_server_cert_verifier_builder_free(
        builder: *mut rustls_web_pki_server_cert_verifier_builder,
    );
    fn rustls_server_cert_verifier_free(verifier: *mut rustls_server_cert_verifier);
    fn rustls_web_pki_client_cert_verifier_builder_new(
        store: *const rustls_root_cert_store,
    ) -> *mut rustls_web_pki_client_cert_verifier_builder;
    fn rustls_web_pki_client_cert_verifier_builder_build(
        builder: *mut rustls_web_pki_client_cert_verifier_builder,
        out: *mut *mut rustls_client_cert_verifier,
    ) -> rustls_result;
    fn rustls_web_pki_client_cert_verifier_builder_free(
        builder: *mut rustls_web_pki_client_cert_verifier_builder,
    );
    fn rustls_client_cert_verifier_free(verifier: *mut rustls_client_cert_verifier);

    fn rustls_certified_key_build(
        chain: *const u8,
        chain_len: usize,
        key: *const u8,
        key_len: usize,
        out: *mut *const rustls_certified_key,
    ) -> rustls_result;
    fn rustls_certified_key_free(key: *const rustls_certified_key);

    fn rustls_client_config_builder_new_custom(
        provider: *const rustls_crypto_provider,
        versions: *const u16,
        versions_len: usize,
        out: *mut *mut rustls_client_config_builder,
    ) -> rustls_result;
    fn rustls_client_config_builder_set_server_verifier(
        builder: *mut rustls_client_config_builder,
        verifier: *const rustls_server_cert_verifier,
    );
    fn rustls_client_config_builder_set_certified_key(
        builder: *mut rustls_client_config_builder,
        keys: *const *const rustls_certified_key,
        len: usize,
    ) -> rustls_result;
    fn rustls_client_config_builder_build(
        builder: *mut rustls_client_config_builder,
        out: *mut *const rustls_client_config,
    ) -> rustls_result;
    fn rustls_client_config_free(config: *const rustls_client_config);
    fn rustls_client_connection_new(
        config: *const rustls_client_config,
        server_name: *const c_char,
        out: *mut *mut rustls_connection,
    ) -> rustls_result;

    fn rustls_server_config_builder_new_custom(
        provider: *const rustls_crypto_provider,
        versions: *const u16,
        versions_len: usize,
        out: *mut *mut rustls_server_config_builder,
    ) -> rustls_result;
    fn rustls_server_config_builder_set_client_verifier(
        builder: *mut rustls_server_config_builder,
        verifier: *const rustls_client_cert_verifier,
    );
    fn rustls_server_config_builder_set_certified_keys(
        builder: *mut rustls_server_config_builder,
        keys: *const *const rustls_certified_key,
        len: usize,
    ) -> rustls_result;
    fn rustls_server_config_builder_set_send_tls13_tickets(
        builder: *mut rustls_server_config_builder,
        n: usize,
    ) -> rustls_result;
    fn rustls_server_config_builder_set_persistence(
        builder: *mut rustls_server_config_builder,
        get: Option<StoreGet>,
        put: Option<StorePut>,
    );
    fn rustls_server_config_builder_build(
        builder: *mut rustls_server_config_builder,
        out: *mut *const rustls_server_config,
    ) -> rustls_result;
    fn rustls_server_config_free(config: *const rustls_server_config);
    fn rustls_server_connection_new(
        config: *const rustls_server_config,
        out: *mut *mut rustls_connection,
    ) -> rustls_result;

    fn rustls_connection_read_tls(
        conn: *mut rustls_connection,
        callback: Option<ReadCallback>,
        userdata: *mut c_void,
        out_n: *mut usize,
    ) -> c_int;
    fn rustls_connection_write_tls(
        conn: *mut rustls_connection,
        callback: Option<WriteCallback>,
        userdata: *mut c_void,
        out_n: *mut usize,
    ) -> c_int;
    fn rustls_connection_process_new_packets(conn: *mut rustls_connection) -> rustls_result;
    fn rustls_connection_wants_write(conn: *const rustls_connection) -> bool;
    fn rustls_connection_is_handshaking(conn: *const rustls_connection) -> bool;
    fn rustls_connection_handshake_kind(conn: *const rustls_connection) -> u32;
    fn rustls_connection_write(
        conn: *mut rustls_connection,
        buf: *const u8,
        count: usize,
        out_n: *mut usize,
    ) -> rustls_result;
    fn rustls_connection_read(
        conn: *mut rustls_connection,
        buf: *mut u8,
        count: usize,
        out_n: *mut usize,
    ) -> rustls_result;
    fn rustls_connection_free(conn: *mut rustls_connection);
}

fn check(code: rustls_result, what: &str) {
    assert_eq!(code, RUSTLS_RESULT_OK, "rustls-ffi {what}");
}

/// A session store that keeps nothing: no TLS 1.2 session-ID resumption.
unsafe extern "C" fn store_nothing_get(
    _: *mut c_void,
    _: *const rustls_slice_bytes,
    _: c_int,
    _: *mut u8,
    _: usize,
    _: *mut usize,
) -> u32 {
    RUSTLS_RESULT_NOT_FOUND
}

unsafe extern "C" fn store_nothing_put(
    _: *mut c_void,
    _: *const rustls_slice_bytes,
    _: *const rustls_slice_bytes,
) -> u32 {
    RUSTLS_RESULT_OK
}

pub struct RustlsFfi {
    client: *const rustls_client_config,
    server: *const rustls_server_config,
    /// Kept to build first-contact client configurations.
    provider: *const rustls_crypto_provider,
    roots: *const rustls_root_cert_store,
    version: u16,
    /// First contact: a client configuration per certificate.
    first_contact: Rotation<*const rustls_client_config>,
    resumed: bool,
}

// SAFETY: rustls-ffi configurations are immutable and reference-counted
// (`Arc<ClientConfig>` / `Arc<ServerConfig>`), shareable between threads;
// connections stay on the thread that made them.
unsafe impl Sync for RustlsFfi {}

impl Drop for RustlsFfi {
    fn drop(&mut self) {
        unsafe {
            rustls_client_config_free(self.client);
            rustls_server_config_free(self.server);
            self.first_contact
                .drain()
                .for_each(|c| rustls_client_config_free(c));
            rustls_root_cert_store_free(self.roots);
            rustls_crypto_provider_free(self.provider);
        }
    }
}

/// A client configuration presenting `identity` and verifying the server
/// (host name included) against `roots`.
///
/// # Safety
/// `provider` and `roots` are live.
unsafe fn client_config(
    provider: *const rustls_crypto_provider,
    roots: *const rustls_root_cert_store,
    version: u16,
    identity: &Issued,
) -> *const rustls_client_config {
    unsafe {
        let verifier_builder = rustls_web_pki_server_cert_verifier_builder_new(roots);
        let mut server_verifier = std::ptr::null_mut();
        check(
            rustls_web_pki_server_cert_verifier_builder_build(
                verifier_builder,
                &mut server_verifier,
            ),
            "server verifier",
        );
        rustls_web_pki_server_cert_verifier_builder_free(verifier_builder);
        let mut client_builder = std::ptr::null_mut();
        check(
            rustls_client_config_builder_new_custom(provider, &version, 1, &mut client_builder),
            "client builder",
        );
        rustls_client_config_builder_set_server_verifier(client_builder, server_verifier);
        let client_key = certified_key(&identity.cert_pem, &identity.key_pem);
        check(
            rustls_client_config_builder_set_certified_key(client_builder, &client_key, 1),
            "client key",
        );
        let mut client = std::ptr::null();
        check(
            rustls_client_config_builder_build(client_builder, &mut client),
            "client config",
        );
        // The configuration holds its own references.
        rustls_certified_key_free(client_key);
        rustls_server_cert_verifier_free(server_verifier);
        client
    }
}

pub struct Pair {
    client: *mut rustls_connection,
    server: *mut rustls_connection,
}

impl Drop for Pair {
    fn drop(&mut self) {
        unsafe {
            rustls_connection_free(self.client);
            rustls_connection_free(self.server);
        }
    }
}

/// The bytes a write callback is handed go here; a read callback takes
/// them from `data[offset..]`.
struct Cursor<'a> {
    data: &'a mut [u8],
    offset: usize,
    len: usize,
}

unsafe extern "C" fn into_cursor(
    ud: *mut c_void,
    buf: *const u8,
    n: usize,
    out: *mut usize,
) -> c_int {
    let cursor = &mut *(ud as *mut Cursor);
    let room = (cursor.data.len() - cursor.len).min(n);
    std::ptr::copy_nonoverlapping(buf, cursor.data.as_mut_ptr().add(cursor.len), room);
    cursor.len += room;
    *out = room;
    0
}

unsafe extern "C" fn from_cursor(
    ud: *mut c_void,
    buf: *mut u8,
    n: usize,
    out: *mut usize,
) -> c_int {
    let cursor = &mut *(ud as *mut Cursor);
    let take = (cursor.len - cursor.offset).min(n);
    std::ptr::copy_nonoverlapping(cursor.data.as_ptr().add(cursor.offset), buf, take);
    cursor.offset += take;
    *out = take;
    0
}

/// Moves all pending ciphertext from one connection into the other,
/// through a fixed buffer as a gateway's socket loop does.
fn flow(from: *mut rustls_connection, to: *mut rustls_connection, buf: &mut [u8]) -> bool {
    let mut moved = false;
    while unsafe { rustls_connection_wants_write(from) } {
        let mut cursor = Cursor {
            data: &mut *buf,
            offset: 0,
            len: 0,
        };
        let mut n = 0;
        let ud = &mut cursor as *mut Cursor as *mut c_void;
        assert_eq!(
            unsafe { rustls_connection_write_tls(from, Some(into_cursor), ud, &mut n) },
            0
        );
        moved = true;
        while cursor.offset < cursor.len {
            let ud = &mut cursor as *mut Cursor as *mut c_void;
            assert_eq!(
                unsafe { rustls_connection_read_tls(to, Some(from_cursor), ud, &mut n) },
                0
            );
            check(
                unsafe { rustls_connection_process_new_packets(to) },
                "process",
            );
        }
    }
    moved
}

fn certified_key(cert_pem: &str, key_pem: &str) -> *const rustls_certified_key {
    let mut key = std::ptr::null();
    check(
        unsafe {
            rustls_certified_key_build(
                cert_pem.as_ptr(),
                cert_pem.len(),
                key_pem.as_ptr(),
                key_pem.len(),
                &mut key,
            )
        },
        "certified key",
    );
    key
}

impl Stack for RustlsFfi {
    type Pair = Pair;
    const NAME: &'static str = "rustls-ffi";

    fn new(pki: &Pki, case: Case) -> Self {
        let versions = [match case.version {
            Version::Tls12 => TLS12,
            Version::Tls13 => TLS13,
        }];
        unsafe {
            let mut provider_builder = std::ptr::null_mut();
            check(
                rustls_crypto_provider_builder_new_from_default(&mut provider_builder),
                "provider builder",
            );
            let mut provider = std::ptr::null();
            check(
                rustls_crypto_provider_builder_build(provider_builder, &mut provider),
                "provider",
            );
            rustls_crypto_provider_builder_free(provider_builder);

            let roots_builder = rustls_root_cert_store_builder_new();
            let root = pki.root_pem();
            check(
                rustls_root_cert_store_builder_add_pem(
                    roots_builder,
                    root.as_ptr(),
                    root.len(),
                    true,
                ),
                "root",
            );
            let mut roots = std::ptr::null();
            check(
                rustls_root_cert_store_builder_build(roots_builder, &mut roots),
                "roots",
            );
            rustls_root_cert_store_builder_free(roots_builder);

            let client = client_config(provider, roots, versions[0], &pki.client);

            // Server: requires and verifies a client certificate.
            let verifier_builder = rustls_web_pki_client_cert_verifier_builder_new(roots);
            let mut client_verifier = std::ptr::null_mut();
            check(
                rustls_web_pki_client_cert_verifier_builder_build(
                    verifier_builder,
                    &mut client_verifier,
                ),
                "client verifier",
            );
            rustls_web_pki_client_cert_verifier_builder_free(verifier_builder);
            let mut server_builder = std::ptr::null_mut();
            check(
                rustls_server_config_builder_new_custom(
                    provider,
                    versions.as_ptr(),
                    1,
                    &mut server_builder,
                ),
                "server builder",
            );
            rustls_server_config_builder_set_client_verifier(server_builder, client_verifier);
            let server_key = certified_key(&pki.server.cert_pem, &pki.server.key_pem);
            check(
                rustls_server_config_builder_set_certified_keys(server_builder, &server_key, 1),
                "server key",
            );
            let tickets = usize::from(case.resumed);
            check(
                rustls_server_config_builder_set_send_tls13_tickets(server_builder, tickets),
                "tickets",
            );
            if !case.resumed {
                rustls_server_config_builder_set_persistence(
                    server_builder,
                    Some(store_nothing_get),
                    Some(store_nothing_put),
                );
            }
            let mut server = std::ptr::null();
            check(
                rustls_server_config_builder_build(server_builder, &mut server),
                "server config",
            );

            // The configurations hold their own references to these.
            rustls_certified_key_free(server_key);
            rustls_client_cert_verifier_free(client_verifier);
            Self {
                client,
                server,
                provider,
                roots,
                version: versions[0],
                first_contact: Rotation::default(),
                resumed: false,
            }
        }
    }

    fn expect_resumed(&mut self, resumed: bool) {
        self.resumed = resumed;
    }

    fn present(&mut self, _: &Pki, clients: &[Issued]) {
        self.first_contact
            .drain()
            .for_each(|c| unsafe { rustls_client_config_free(c) });
        self.first_contact = Rotation::new(
            clients
                .iter()
                .map(|c| unsafe { client_config(self.provider, self.roots, self.version, c) })
                .collect(),
        );
    }

    fn connect(&self) -> Pair {
        let client = self.first_contact.take().copied().unwrap_or(self.client);
        let name = CString::new(SERVER_NAME).unwrap();
        let mut pair = Pair {
            client: std::ptr::null_mut(),
            server: std::ptr::null_mut(),
        };
        unsafe {
            check(
                rustls_client_connection_new(client, name.as_ptr(), &mut pair.client),
                "client connection",
            );
            check(
                rustls_server_connection_new(self.server, &mut pair.server),
                "server connection",
            );
        }
        let mut buf = vec![0u8; 2 * CHUNK];
        while flow(pair.client, pair.server, &mut buf) | flow(pair.server, pair.client, &mut buf) {}
        unsafe {
            assert!(
                !rustls_connection_is_handshaking(pair.client)
                    && !rustls_connection_is_handshaking(pair.server)
            );
            let resumed =
                rustls_connection_handshake_kind(pair.client) == RUSTLS_HANDSHAKE_KIND_RESUMED;
            assert_eq!(resumed, self.resumed, "rustls-ffi resumption");
        }
        pair
    }

    fn send(&self, pair: &mut Pair, data: &[u8]) -> usize {
        let mut n = 0;
        let code =
            unsafe { rustls_connection_write(pair.client, data.as_ptr(), data.len(), &mut n) };
        check(code, "write");
        n
    }

    fn deliver(&self, pair: &mut Pair, buf: &mut [u8]) {
        flow(pair.client, pair.server, buf);
    }

    fn receive(&self, pair: &mut Pair, sink: &mut [u8]) -> usize {
        let mut n = 0;
        match unsafe { rustls_connection_read(pair.server, sink.as_mut_ptr(), sink.len(), &mut n) }
        {
            RUSTLS_RESULT_OK => n,
            RUSTLS_RESULT_PLAINTEXT_EMPTY => 0,
            code => panic!("rustls-ffi read: {code}"),
        }
    }
}
