//! Bad input through every export: a catalogue of misuse and malformed input,
//! each case asserting the exact result code and that the detail text names
//! the problem. After every case the shared contexts must still hold exactly
//! what they held before (same trust IDs, same identities, the same one CRL,
//! the same configuration generation), proven
//! by a fresh mutual handshake: a failed call never changes a context halfway.

mod common;
use common::tempdir::TempDir;
use common::*;

use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{dangling_mut, null, null_mut};
use std::sync::OnceLock;

/// The ABI version of the library under test.
fn abi_version() -> u32 {
    env!("SIPTLS_ABI_VERSION").parse().unwrap()
}

/// A length no buffer can have: the exports must refuse it before touching memory.
const HUGE: usize = isize::MAX as usize + 1;

/// Serial of the fixture's client certificate, so a CRL can revoke it.
const CLIENT_SERIAL: u64 = 0x5EED;

/// A client identity under the common test root with a known serial number.
fn revocable_client() -> &'static Issued {
    static CLIENT: OnceLock<Issued> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut spec = LeafSpec::new(CLIENT_NAME);
        spec.serial = Some(CLIENT_SERIAL);
        pki().root.leaf(&spec)
    })
}

/// A CA the fixture contexts do not trust.
fn stranger() -> &'static Authority {
    static CA: OnceLock<Authority> = OnceLock::new();
    CA.get_or_init(|| Authority::root("Stranger CA"))
}

/// A server identity with an RSA key, for the PKCS#1 form and the RSA-vs-EC mismatch.
fn rsa_server() -> &'static Issued {
    static LEAF: OnceLock<Issued> = OnceLock::new();
    LEAF.get_or_init(|| {
        pki().root.leaf(&LeafSpec {
            key_alg: KeyAlg::Rsa2048,
            ..LeafSpec::new(SERVER_NAME)
        })
    })
}

// ---------------------------------------------------------------------------
// Hand-made DER and PEM for inputs certgen cannot produce.

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

/// PKCS#8 PrivateKeyInfo with the given AlgorithmIdentifier contents and privateKey contents.
fn pkcs8(algorithm: &[u8], private_key: &[u8]) -> Vec<u8> {
    der(
        0x30,
        &[
            der(0x02, &[0]),
            der(0x30, algorithm),
            der(0x04, private_key),
        ]
        .concat(),
    )
}

fn oid(value: &[u8]) -> Vec<u8> {
    der(0x06, value)
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            b64.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A certificate PEM block whose base64 body is valid but decodes to garbage.
fn garbage_cert_pem() -> String {
    pem(
        "CERTIFICATE",
        &der(
            0x30,
            &[der(0x02, &[1]), der(0x04, b"not a certificate")].concat(),
        ),
    )
}

/// Cuts a PEM block's base64 body to `keep` characters, dropping its END line.
fn cut_base64(pem: &str, keep: usize) -> String {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        &body[..keep]
    )
}

// ---------------------------------------------------------------------------
// Fixture.

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// Two working contexts (trust ID 1 = the test root on both) and files on disk.
struct Fx {
    client: Ctx,
    /// Holds the test root's CRL number 5, revoking nothing.
    server: Ctx,
    /// The server's configuration generation after setup.
    generation: u64,
    dir: TempDir,
}

impl Fx {
    fn new() -> Fx {
        let p = pki();
        let dir = TempDir::new("bad-input");
        dir.write("server.pem", &p.server.cert_pem);
        dir.write("server.key", &p.server.key_pem);
        dir.write("garbage.pem", garbage_cert_pem());
        dir.write(
            "garbage.crl",
            "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        );
        std::fs::create_dir_all(dir.0.join("a-directory")).unwrap();
        // A complete three-file layout (another identity) whose CA list is broken in its middle.
        let other = stranger().sip_leaf(SERVER_NAME);
        dir.write("broken/privateKey.pem", &other.key_pem);
        dir.write("broken/publickey.pem", &other.cert_pem);
        dir.write(
            "broken/CAList.pem",
            [stranger().issued().cert_pem.clone(), garbage_cert_pem()].concat(),
        );
        dir.write("overflow/privateKey.pem", &other.key_pem);
        dir.write("overflow/publickey.pem", &other.cert_pem);
        dir.write("overflow/CAList.pem", ca_list(17));
        dir.write("with-crl/privateKey.pem", &other.key_pem);
        dir.write("with-crl/publickey.pem", &other.cert_pem);
        dir.write("with-crl/CAList.pem", &stranger().issued().cert_pem);
        dir.write(
            "with-crl/crl.pem",
            "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        );
        let client =
            Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, revocable_client(), &p.root);
        let server = Ctx::server();
        let crl = pki().root.crl(&[], 5);
        let mut added = 0;
        assert_eq!(
            unsafe { siptls_ctx_add_crl(server.0, crl.pem.as_ptr(), crl.pem.len(), &mut added) },
            SIPTLS_OK
        );
        let generation = server.generation();
        Fx {
            client,
            server,
            generation,
            dir,
        }
    }

    fn path(&self, name: &str) -> CString {
        c_path(&self.dir.0.join(name))
    }

    /// A fresh server session: a live session for the pointer checks.
    fn session(&self) -> Sess {
        Sess::server(&self.server)
    }

    fn connected(&self) -> (Sess, Sess) {
        let (client, server) = (Sess::client(&self.client), Sess::server(&self.server));
        assert_handshake_ok(&client, &server);
        (client, server)
    }

    /// Leaves a stale detail everywhere a case's detail could be read from,
    /// so a case cannot pass on text left behind by an earlier one.
    fn poison_details(&self) {
        let mut out = null_mut();
        assert_eq!(
            unsafe { siptls_ctx_new(4242, &mut out) },
            SIPTLS_ERR_INVALID_ARGUMENT
        );
        for ctx in [&self.client, &self.server] {
            assert_eq!(
                unsafe { siptls_ctx_set_max_ca_depth(ctx.0, 4242) },
                SIPTLS_ERR_INVALID_ARGUMENT
            );
        }
    }

    /// Both contexts still hold exactly what they were built with.
    fn assert_unchanged(&self, case: &str) {
        assert_eq!(
            self.server.generation(),
            self.generation,
            "{case}: a refused call counted as a configuration change"
        );
        let mut crls = 0;
        assert_eq!(
            unsafe { siptls_ctx_count_crls(self.server.0, &mut crls) },
            SIPTLS_OK
        );
        assert_eq!(crls, 1, "{case}: server CRLs changed");
        assert_eq!(
            self.client.trust_ids(),
            [1],
            "{case}: client trust table changed"
        );
        assert_eq!(
            self.server.trust_ids(),
            [1],
            "{case}: server trust table changed"
        );
        let (client, server) = (Sess::client(&self.client), Sess::server(&self.server));
        let result = pump(&client, &server);
        assert_eq!(
            result,
            PumpResult {
                client: SIPTLS_OK,
                server: SIPTLS_OK
            },
            "{case}: handshake broke: client '{}' / server '{}'",
            client.last_error(),
            server.last_error()
        );
        assert_eq!(
            peer_leaf(&client),
            pki().server.cert_der,
            "{case}: server identity changed"
        );
        assert_eq!(
            peer_leaf(&server),
            revocable_client().cert_der,
            "{case}: client identity changed"
        );
    }
}

fn peer_leaf(sess: &Sess) -> Vec<u8> {
    let (mut der, mut len) = (null(), 0usize);
    assert_eq!(
        unsafe { siptls_session_get_peer_cert(sess.0, 0, &mut der, &mut len) },
        SIPTLS_OK
    );
    unsafe { std::slice::from_raw_parts(der, len) }.to_vec()
}

/// `count` distinct CA certificates as one PEM list.
fn ca_list(count: usize) -> String {
    (0..count)
        .map(|i| {
            Authority::root(&format!("List CA {i}"))
                .issued()
                .cert_pem
                .clone()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The catalogue.

/// What a case's call returned, plus the detail its context or session kept
/// when the failure belongs to one.
struct Got {
    code: siptls_result,
    own_detail: Option<String>,
}

impl From<siptls_result> for Got {
    fn from(code: siptls_result) -> Got {
        Got {
            code,
            own_detail: None,
        }
    }
}

/// `code` from a call on `ctx`, whose `siptls_ctx_get_last_error` must name the problem too.
fn on_ctx(ctx: &Ctx, code: siptls_result) -> Got {
    Got {
        code,
        own_detail: Some(ctx.last_error()),
    }
}

/// `code` from a call on `sess`, whose `siptls_session_get_last_error` must name the problem too.
fn on_sess(sess: &Sess, code: siptls_result) -> Got {
    Got {
        code,
        own_detail: Some(sess.last_error()),
    }
}

struct Case {
    name: &'static str,
    code: siptls_result,
    /// Every one of these must appear in the detail text.
    detail: &'static [&'static str],
    run: fn(&Fx) -> Got,
}

macro_rules! cases {
    ($($name:literal => $code:ident, [$($detail:literal),+], $run:expr;)*) => {
        vec![$(Case { name: $name, code: $code, detail: &[$($detail),+], run: $run }),*]
    };
}

const KEY_LEN: u32 = std::mem::size_of::<siptls_connection_key>() as u32;

/// `siptls_ctx_get_connection_key` for SERVER_NAME with a key struct of
/// `struct_size` bytes.
unsafe fn connection_key(
    ctx: *const siptls_ctx,
    destination: &std::ffi::CStr,
    struct_size: u32,
) -> siptls_result {
    let options = siptls_session_options {
        struct_size: std::mem::size_of::<siptls_session_options>() as u32,
        identity_id: 0,
        peer_name: c"gw-b.example.test".as_ptr(),
        sni: null(),
    };
    let mut key = siptls_connection_key {
        struct_size,
        bytes: [0; 32],
    };
    unsafe { siptls_ctx_get_connection_key(ctx, &options, destination.as_ptr(), &mut key) }
}

/// One readable byte, for pointer arguments whose contents never matter.
const X: &[u8] = b"x";

/// A small buffer for detail text, for the same reason.
fn text_buf() -> [c_char; 8] {
    [0; 8]
}

fn server_cert() -> String {
    pki().server.cert_pem.clone()
}

fn server_key() -> String {
    pki().server.key_pem.clone()
}

fn set_identity(ctx: &Ctx, cert: &str, key: &str) -> Got {
    on_ctx(ctx, ctx.set_identity(cert, key))
}

fn set_server_identity(fx: &Fx, cert: &str, key: &str) -> Got {
    set_identity(&fx.server, cert, key)
}

fn set_versions(ctx: &Ctx, min: u16, max: u16) -> Got {
    on_ctx(ctx, unsafe { siptls_ctx_set_versions(ctx.0, min, max) })
}

fn set_keylog(ctx: &Ctx, path: &CStr) -> Got {
    on_ctx(ctx, unsafe {
        siptls_ctx_set_keylog_file(ctx.0, path.as_ptr())
    })
}

fn set_sip_domain(ctx: &Ctx, trust_id: u32, domain: &CStr) -> Got {
    on_ctx(ctx, unsafe {
        siptls_ctx_set_trust_sip_domain(ctx.0, trust_id, domain.as_ptr())
    })
}

fn load_ca_file(ctx: &Ctx, path: &CStr) -> Got {
    let mut added = 99;
    let code = unsafe { siptls_ctx_add_trust_file(ctx.0, path.as_ptr(), 7, &mut added) };
    assert_eq!(added, 0, "a refused CA file reports nothing added");
    on_ctx(ctx, code)
}

fn add_crl_file(ctx: &Ctx, path: &CStr) -> Got {
    let mut added = 99;
    let code = unsafe { siptls_ctx_add_crl_file(ctx.0, path.as_ptr(), &mut added) };
    assert_eq!(added, 0, "a refused CRL file reports nothing added");
    on_ctx(ctx, code)
}

fn load_ca_list(ctx: &Ctx, list: &str, first_id: u32) -> Got {
    let mut added = 99;
    let code = unsafe {
        siptls_ctx_add_trust_list(ctx.0, list.as_ptr(), list.len(), first_id, &mut added)
    };
    assert_eq!(added, 0, "a refused CA list reports nothing added");
    on_ctx(ctx, code)
}

fn add_crl(ctx: &Ctx, crl: &[u8]) -> Got {
    let mut added = 99;
    let code = unsafe { siptls_ctx_add_crl(ctx.0, crl.as_ptr(), crl.len(), &mut added) };
    assert_eq!(added, 0, "a refused CRL input reports nothing added");
    on_ctx(ctx, code)
}

fn load_identity_files(fx: &Fx, cert: &CStr, key: &CStr) -> Got {
    on_ctx(&fx.server, unsafe {
        siptls_ctx_load_identity_files(fx.server.0, cert.as_ptr(), key.as_ptr())
    })
}

fn load_pem_dir(ctx: &Ctx, dir: &CStr, names: *const siptls_pem_names) -> Got {
    let mut added = 99;
    let code = unsafe { siptls_ctx_load_pem_dir(ctx.0, dir.as_ptr(), names, 50, &mut added) };
    assert_eq!(added, 0, "a refused directory reports nothing added");
    on_ctx(ctx, code)
}

fn new_session(ctx: &Ctx, name: Option<&CStr>) -> Got {
    let mut out = null_mut();
    let code = unsafe { siptls_session_new(ctx.0, name.map_or(null(), CStr::as_ptr), &mut out) };
    assert!(out.is_null(), "a refused session is not handed out");
    on_ctx(ctx, code)
}

fn null_cases() -> Vec<Case> {
    cases! {
        "ctx_new ctx_out" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx_out is NULL"],
            |_| unsafe { siptls_ctx_new(0, null_mut()) }.into();
        "set_identity_pem ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_identity_pem(null_mut(), X.as_ptr(), 1, X.as_ptr(), 1) }
                .into();
        "set_identity_pem cert_pem" => SIPTLS_ERR_NULL_ARGUMENT, ["cert_pem is NULL"],
            |fx| unsafe { siptls_ctx_set_identity_pem(fx.server.0, null(), 1, X.as_ptr(), 1) }
                .into();
        "set_identity_pem key_pem" => SIPTLS_ERR_NULL_ARGUMENT, ["key_pem is NULL"],
            |fx| unsafe { siptls_ctx_set_identity_pem(fx.server.0, X.as_ptr(), 1, null(), 1) }
                .into();
        "load_identity_files ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |fx| {
                let (cert, key) = (fx.path("server.pem"), fx.path("server.key"));
                unsafe { siptls_ctx_load_identity_files(null_mut(), cert.as_ptr(), key.as_ptr()) }
                    .into()
            };
        "load_identity_files cert_path" => SIPTLS_ERR_NULL_ARGUMENT, ["cert_path is NULL"],
            |fx| {
                let key = fx.path("server.key");
                unsafe { siptls_ctx_load_identity_files(fx.server.0, null(), key.as_ptr()) }.into()
            };
        "load_identity_files key_path" => SIPTLS_ERR_NULL_ARGUMENT, ["key_path is NULL"],
            |fx| {
                let cert = fx.path("server.pem");
                unsafe { siptls_ctx_load_identity_files(fx.server.0, cert.as_ptr(), null()) }.into()
            };
        "load_pem_dir ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |fx| {
                let dir = fx.path("broken");
                unsafe { siptls_ctx_load_pem_dir(null_mut(), dir.as_ptr(), null(), 50, &mut 0) }
                    .into()
            };
        "load_pem_dir dir" => SIPTLS_ERR_NULL_ARGUMENT, ["dir is NULL"],
            |fx| unsafe { siptls_ctx_load_pem_dir(fx.server.0, null(), null(), 50, &mut 0) }.into();
        "load_pem_dir added_out" => SIPTLS_ERR_NULL_ARGUMENT, ["added_out is NULL"],
            |fx| {
                let (ctx, dir) = (fx.server.0, fx.path("broken"));
                unsafe { siptls_ctx_load_pem_dir(ctx, dir.as_ptr(), null(), 50, null_mut()) }.into()
            };
        "set_client_auth ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_client_auth(null_mut(), 0) }.into();
        "set_max_ca_depth ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_max_ca_depth(null_mut(), 4) }.into();
        "set_versions ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_versions(null_mut(), SIPTLS_TLS12, SIPTLS_TLS13) }.into();
        "set_name_check ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_name_check(null_mut(), 0) }.into();
        "set_allow_override ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_allow_override(null_mut(), false) }.into();
        "set_eku_policy ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_eku_policy(null_mut(), 0) }.into();
        "set_trust_eku_policy ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_trust_eku_policy(null_mut(), 1, 0) }.into();
        "set_missing_crl_policy ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_missing_crl_policy(null_mut(), 0) }.into();
        "set_verify_callback ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_verify_callback(null_mut(), None, null_mut()) }.into();
        "set_time_callback ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_time_callback(null_mut(), None, null_mut()) }.into();
        "set_profile ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_profile(null_mut(), 1) }.into();
        "an unknown profile" => SIPTLS_ERR_INVALID_ARGUMENT, ["profile"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_profile(fx.server.0, 3) });
        "set_cipher_suites ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_cipher_suites(null_mut(), [0x1301u16].as_ptr(), 1) }.into();
        "set_cipher_suites suites" => SIPTLS_ERR_NULL_ARGUMENT, ["suites is NULL"],
            |fx| unsafe { siptls_ctx_set_cipher_suites(fx.server.0, null(), 1) }.into();
        "an RC4 suite" => SIPTLS_ERR_INVALID_ARGUMENT, ["cipher suite 0x0005: TLS_RSA_WITH_RC4_128_SHA is not offered"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_cipher_suites(fx.server.0, [0x1301u16, 0x0005].as_ptr(), 2) });
        "a misaligned suite list" => SIPTLS_ERR_INVALID_ARGUMENT, ["suites is not aligned"],
            |fx| {
                let raw = [0u8; 8];
                let odd = raw[1..].as_ptr().cast::<u16>();
                on_ctx(&fx.server, unsafe { siptls_ctx_set_cipher_suites(fx.server.0, odd, 1) })
            };
        "set_kx_groups ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_kx_groups(null_mut(), [0x001du16].as_ptr(), 1) }.into();
        "set_kx_groups groups" => SIPTLS_ERR_NULL_ARGUMENT, ["groups is NULL"],
            |fx| unsafe { siptls_ctx_set_kx_groups(fx.server.0, null(), 1) }.into();
        "an empty group list" => SIPTLS_ERR_INVALID_ARGUMENT, ["an empty list of key exchange groups"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_kx_groups(fx.server.0, [0x001du16].as_ptr(), 0) });
        "get_counters ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| {
                let mut c: siptls_counters = unsafe { std::mem::zeroed() };
                c.struct_size = std::mem::size_of::<siptls_counters>() as u32;
                unsafe { siptls_ctx_get_counters(null(), &mut c) }.into()
            };
        "get_counters counters_out" => SIPTLS_ERR_NULL_ARGUMENT, ["counters_out is NULL"],
            |fx| unsafe { siptls_ctx_get_counters(fx.server.0, null_mut()) }.into();
        "counters with struct_size 0" => SIPTLS_ERR_INVALID_ARGUMENT, ["counters_out->struct_size is 0"],
            |fx| {
                let mut c: siptls_counters = unsafe { std::mem::zeroed() };
                on_ctx(&fx.server, unsafe { siptls_ctx_get_counters(fx.server.0, &mut c) })
            };
        "reset_counters ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_reset_counters(null_mut()) }.into();
        "counters_prometheus ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_get_counters_prometheus(null(), text_buf().as_mut_ptr(), 8, &mut 0) }.into();
        "counters_prometheus len_out" => SIPTLS_ERR_NULL_ARGUMENT, ["len_out is NULL"],
            |fx| unsafe { siptls_ctx_get_counters_prometheus(fx.server.0, text_buf().as_mut_ptr(), 8, null_mut()) }.into();
        "set_log_callback ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_log_callback(null_mut(), None, 0, null_mut()) }.into();
        "a log level of 9" => SIPTLS_ERR_INVALID_ARGUMENT, ["level"],
            |fx| {
                unsafe extern "C" fn ignore(_: *mut std::ffi::c_void, _: *const siptls_log_record) {}
                on_ctx(&fx.server, unsafe { siptls_ctx_set_log_callback(fx.server.0, Some(ignore), 9, null_mut()) })
            };
        "add_identity_pem ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_add_identity_pem(null_mut(), 1, X.as_ptr(), 1, X.as_ptr(), 1) }.into();
        "add_identity_pem cert_pem" => SIPTLS_ERR_NULL_ARGUMENT, ["cert_pem is NULL"],
            |fx| unsafe { siptls_ctx_add_identity_pem(fx.server.0, 1, null(), 1, X.as_ptr(), 1) }.into();
        "an identity from garbage" => SIPTLS_ERR_PEM_EMPTY, ["certificate"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_add_identity_pem(fx.server.0, 1, X.as_ptr(), 1, X.as_ptr(), 1) });
        "add_identity_files key_path" => SIPTLS_ERR_NULL_ARGUMENT, ["key_path is NULL"],
            |fx| unsafe { siptls_ctx_add_identity_files(fx.server.0, 1, c"/".as_ptr(), null()) }.into();
        "remove_identity ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_remove_identity(null_mut(), 1) }.into();
        "set_identity_names names" => SIPTLS_ERR_NULL_ARGUMENT, ["names is NULL"],
            |fx| unsafe { siptls_ctx_set_identity_names(fx.server.0, 0, null(), 1) }.into();
        "an SNI name that is not a DNS name" => SIPTLS_ERR_INVALID_ARGUMENT, ["is not a valid DNS name for SNI"],
            |fx| {
                let name = [c"bad name!".as_ptr()];
                on_ctx(&fx.server, unsafe { siptls_ctx_set_identity_names(fx.server.0, 0, name.as_ptr(), 1) })
            };
        "session_new_with options" => SIPTLS_ERR_NULL_ARGUMENT, ["options is NULL"],
            |fx| unsafe { siptls_session_new_with_options(fx.client.0, null(), &mut null_mut()) }.into();
        "session_new_with session_out" => SIPTLS_ERR_NULL_ARGUMENT, ["session_out is NULL"],
            |fx| unsafe { siptls_session_new_with_options(fx.client.0, null(), null_mut()) }.into();
        "session_sni session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_get_sni(null(), text_buf().as_mut_ptr(), 8, &mut 0) }.into();
        "set_resumption ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_resumption(null_mut(), true) }.into();
        "set_session_cache_size ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_session_cache_size(null_mut(), 1) }.into();
        "session cache size over the cap" => SIPTLS_ERR_INVALID_ARGUMENT, ["above 1000000"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_session_cache_size(fx.server.0, u32::MAX) });
        "set_session_store ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_session_store(null_mut(), null()) }.into();
        "session store with struct_size 0" => SIPTLS_ERR_INVALID_ARGUMENT, ["store->struct_size is 0"],
            |fx| {
                let store: siptls_session_store = unsafe { std::mem::zeroed() };
                on_ctx(&fx.server, unsafe { siptls_ctx_set_session_store(fx.server.0, &store) })
            };
        "session store without callbacks" => SIPTLS_ERR_NULL_ARGUMENT, ["needs both put and get"],
            |fx| {
                let mut store: siptls_session_store = unsafe { std::mem::zeroed() };
                store.struct_size = std::mem::size_of::<siptls_session_store>() as u32;
                on_ctx(&fx.server, unsafe { siptls_ctx_set_session_store(fx.server.0, &store) })
            };
        "set_tls13_tickets ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_tls13_tickets(null_mut(), 1) }.into();
        "TLS 1.3 tickets over the cap" => SIPTLS_ERR_INVALID_ARGUMENT, ["9 TLS 1.3 tickets", "at most 8"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_tls13_tickets(fx.server.0, 9) });
        "TLS 1.3 tickets on a client" => SIPTLS_ERR_INVALID_ARGUMENT, ["server contexts only"],
            |fx| on_ctx(&fx.client, unsafe { siptls_ctx_set_tls13_tickets(fx.client.0, 1) });
        "set_ticket_lifetime ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_ticket_lifetime(null_mut(), 600) }.into();
        "ticket lifetime of zero" => SIPTLS_ERR_INVALID_ARGUMENT, ["ticket lifetime 0 s out of range 60..=604800"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_ticket_lifetime(fx.server.0, 0) });
        "set_ticket_keys ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_ticket_keys(null_mut(), X.as_ptr(), 1, &mut 0) }.into();
        "set_ticket_keys keys" => SIPTLS_ERR_NULL_ARGUMENT, ["keys is NULL"],
            |fx| unsafe { siptls_ctx_set_ticket_keys(fx.server.0, null(), 1, &mut 0) }.into();
        "set_ticket_keys count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |fx| unsafe { siptls_ctx_set_ticket_keys(fx.server.0, X.as_ptr(), 1, null_mut()) }.into();
        "an empty ticket key set" => SIPTLS_ERR_TICKET_KEY_MALFORMED, ["no ticket key"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_ticket_keys(fx.server.0, X.as_ptr(), 0, &mut 0) });
        "a ticket key of 31 bytes" => SIPTLS_ERR_TICKET_KEY_MALFORMED, ["line 1: 62 hex digits, a key is 64"],
            |fx| {
                let key = "ab".repeat(31);
                on_ctx(&fx.server, unsafe { siptls_ctx_set_ticket_keys(fx.server.0, key.as_ptr(), key.len(), &mut 0) })
            };
        "a ticket key in base64" => SIPTLS_ERR_TICKET_KEY_MALFORMED, ["line 2: not hex digits"],
            |fx| {
                let keys = format!("{}\nq83vEjRWeJA=q83vEjRWeJA=q83vEjRWeJA=q83vEjRWeJA=12345678\n", "0f".repeat(32));
                on_ctx(&fx.server, unsafe { siptls_ctx_set_ticket_keys(fx.server.0, keys.as_ptr(), keys.len(), &mut 0) })
            };
        "a ticket key file that is not text" => SIPTLS_ERR_TICKET_KEY_MALFORMED, ["line 1: not text"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_ticket_keys(fx.server.0, [0xff, 0xfe].as_ptr(), 2, &mut 0) });
        "load_ticket_key_file ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_load_ticket_key_file(null_mut(), c"/".as_ptr(), &mut 0) }.into();
        "load_ticket_key_file path" => SIPTLS_ERR_NULL_ARGUMENT, ["path is NULL"],
            |fx| unsafe { siptls_ctx_load_ticket_key_file(fx.server.0, null(), &mut 0) }.into();
        "load_ticket_key_file count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |fx| unsafe { siptls_ctx_load_ticket_key_file(fx.server.0, c"/".as_ptr(), null_mut()) }.into();
        "a ticket key file that does not exist" => SIPTLS_ERR_IO, ["/nonexistent/ticket.keys"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_load_ticket_key_file(fx.server.0, c"/nonexistent/ticket.keys".as_ptr(), &mut 0) });
        "set_keylog_file ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_keylog_file(null_mut(), null()) }.into();
        "ctx_last_error ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_get_last_error(null(), text_buf().as_mut_ptr(), 8, &mut 0) }.into();
        "ctx_last_error buf" => SIPTLS_ERR_NULL_ARGUMENT, ["buf is NULL"],
            |fx| unsafe { siptls_ctx_get_last_error(fx.server.0, null_mut(), 8, &mut 0) }.into();
        "ctx_last_error len_out" => SIPTLS_ERR_NULL_ARGUMENT, ["len_out is NULL"],
            |fx| {
                let mut buf = text_buf();
                unsafe { siptls_ctx_get_last_error(fx.server.0, buf.as_mut_ptr(), 8, null_mut()) }
                    .into()
            };
        "last_error buf" => SIPTLS_ERR_NULL_ARGUMENT, ["buf is NULL"],
            |_| unsafe { siptls_get_last_error(null_mut(), 8, &mut 0) }.into();
        "last_error len_out" => SIPTLS_ERR_NULL_ARGUMENT, ["len_out is NULL"],
            |_| unsafe { siptls_get_last_error(text_buf().as_mut_ptr(), 8, null_mut()) }.into();
        "session_new ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_session_new(null(), null(), &mut null_mut()) }.into();
        "session_new session_out" => SIPTLS_ERR_NULL_ARGUMENT, ["session_out is NULL"],
            |fx| unsafe { siptls_session_new(fx.server.0, null(), null_mut()) }.into();
        "feed session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_feed(null_mut(), X.as_ptr(), 1, &mut 0) }.into();
        "feed data" => SIPTLS_ERR_NULL_ARGUMENT, ["data is NULL"],
            |fx| unsafe { siptls_session_feed(fx.session().0, null(), 1, &mut 0) }.into();
        "feed consumed_out" => SIPTLS_ERR_NULL_ARGUMENT, ["consumed_out is NULL"],
            |fx| unsafe { siptls_session_feed(fx.session().0, X.as_ptr(), 1, null_mut()) }.into();
        "take session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_take(null_mut(), [0u8; 8].as_mut_ptr(), 8, &mut 0) }.into();
        "take buf" => SIPTLS_ERR_NULL_ARGUMENT, ["buf is NULL"],
            |fx| unsafe { siptls_session_take(fx.session().0, null_mut(), 8, &mut 0) }.into();
        "take written_out" => SIPTLS_ERR_NULL_ARGUMENT, ["written_out is NULL"],
            |fx| {
                let mut buf = [0u8; 8];
                unsafe { siptls_session_take(fx.session().0, buf.as_mut_ptr(), 8, null_mut()) }
                    .into()
            };
        "write session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_write(null_mut(), X.as_ptr(), 1, &mut 0) }.into();
        "write data" => SIPTLS_ERR_NULL_ARGUMENT, ["data is NULL"],
            |fx| unsafe { siptls_session_write(fx.session().0, null(), 1, &mut 0) }.into();
        "write accepted_out" => SIPTLS_ERR_NULL_ARGUMENT, ["accepted_out is NULL"],
            |fx| unsafe { siptls_session_write(fx.session().0, X.as_ptr(), 1, null_mut()) }.into();
        "read session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_read(null_mut(), [0u8; 8].as_mut_ptr(), 8, &mut 0) }.into();
        "read buf" => SIPTLS_ERR_NULL_ARGUMENT, ["buf is NULL"],
            |fx| unsafe { siptls_session_read(fx.session().0, null_mut(), 8, &mut 0) }.into();
        "read read_out" => SIPTLS_ERR_NULL_ARGUMENT, ["read_out is NULL"],
            |fx| {
                let mut buf = [0u8; 8];
                unsafe { siptls_session_read(fx.session().0, buf.as_mut_ptr(), 8, null_mut()) }
                    .into()
            };
        "close session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_close(null_mut()) }.into();
        "transport_closed session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_feed_eof(null_mut()) }.into();
        "get_info session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| {
                unsafe { siptls_session_get_info(null(), &mut empty_info()) }.into()
            };
        "get_info info_out" => SIPTLS_ERR_NULL_ARGUMENT, ["info_out is NULL"],
            |fx| unsafe { siptls_session_get_info(fx.session().0, null_mut()) }.into();
        "peer_cert session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_get_peer_cert(null(), 0, &mut null(), &mut 0) }.into();
        "peer_cert der_out" => SIPTLS_ERR_NULL_ARGUMENT, ["der_out is NULL"],
            |fx| unsafe { siptls_session_get_peer_cert(fx.session().0, 0, null_mut(), &mut 0) }.into();
        "peer_cert len_out" => SIPTLS_ERR_NULL_ARGUMENT, ["len_out is NULL"],
            |fx| unsafe { siptls_session_get_peer_cert(fx.session().0, 0, &mut null(), null_mut()) }
                .into();
        "session_last_error session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_get_last_error(null(), text_buf().as_mut_ptr(), 8, &mut 0) }
                .into();
        "session_last_error buf" => SIPTLS_ERR_NULL_ARGUMENT, ["buf is NULL"],
            |fx| unsafe { siptls_session_get_last_error(fx.session().0, null_mut(), 8, &mut 0) }.into();
        "session_last_error len_out" => SIPTLS_ERR_NULL_ARGUMENT, ["len_out is NULL"],
            |fx| {
                let (session, mut buf) = (fx.session(), text_buf());
                unsafe { siptls_session_get_last_error(session.0, buf.as_mut_ptr(), 8, null_mut()) }
                    .into()
            };
        "trust_add ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_add_trust(null_mut(), 7, X.as_ptr(), 1) }.into();
        "trust_add cert" => SIPTLS_ERR_NULL_ARGUMENT, ["cert is NULL"],
            |fx| unsafe { siptls_ctx_add_trust(fx.server.0, 7, null(), 1) }.into();
        "trust_load_ca_list ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_add_trust_list(null_mut(), X.as_ptr(), 1, 7, &mut 0) }
                .into();
        "trust_load_ca_list pem" => SIPTLS_ERR_NULL_ARGUMENT, ["pem is NULL"],
            |fx| unsafe { siptls_ctx_add_trust_list(fx.server.0, null(), 1, 7, &mut 0) }.into();
        "trust_load_ca_list added_out" => SIPTLS_ERR_NULL_ARGUMENT, ["added_out is NULL"],
            |fx| unsafe { siptls_ctx_add_trust_list(fx.server.0, X.as_ptr(), 1, 7, null_mut()) }
                .into();
        "trust_load_ca_file ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |fx| {
                let path = fx.path("server.pem");
                unsafe { siptls_ctx_add_trust_file(null_mut(), path.as_ptr(), 7, &mut 0) }
                    .into()
            };
        "trust_load_ca_file path" => SIPTLS_ERR_NULL_ARGUMENT, ["path is NULL"],
            |fx| unsafe { siptls_ctx_add_trust_file(fx.server.0, null(), 7, &mut 0) }.into();
        "trust_load_ca_file added_out" => SIPTLS_ERR_NULL_ARGUMENT, ["added_out is NULL"],
            |fx| {
                let path = fx.path("server.pem");
                unsafe { siptls_ctx_add_trust_file(fx.server.0, path.as_ptr(), 7, null_mut()) }
                    .into()
            };
        "trust_remove ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_remove_trust(null_mut(), 1) }.into();
        "trust_list ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_list_trust(null(), [0u32; 4].as_mut_ptr(), 4, &mut 0) }.into();
        "trust_list ids with room" => SIPTLS_ERR_NULL_ARGUMENT, ["ids is NULL"],
            |fx| unsafe { siptls_ctx_list_trust(fx.server.0, null_mut(), 4, &mut 0) }.into();
        "trust_list count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |fx| {
                let mut ids = [0u32; 4];
                unsafe { siptls_ctx_list_trust(fx.server.0, ids.as_mut_ptr(), 4, null_mut()) }
                    .into()
            };
        "trust_set_sip_domain ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_trust_sip_domain(null_mut(), 1, c"example.test".as_ptr()) }
                .into();
        "add_crl ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_add_crl(null_mut(), X.as_ptr(), 1, &mut 0) }.into();
        "add_crl crl" => SIPTLS_ERR_NULL_ARGUMENT, ["crl is NULL"],
            |fx| unsafe { siptls_ctx_add_crl(fx.server.0, null(), 1, &mut 0) }.into();
        "add_crl added_out" => SIPTLS_ERR_NULL_ARGUMENT, ["added_out is NULL"],
            |fx| unsafe { siptls_ctx_add_crl(fx.server.0, X.as_ptr(), 1, null_mut()) }.into();
        "add_crl_file ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |fx| {
                let path = fx.path("garbage.crl");
                unsafe { siptls_ctx_add_crl_file(null_mut(), path.as_ptr(), &mut 0) }.into()
            };
        "add_crl_file path" => SIPTLS_ERR_NULL_ARGUMENT, ["path is NULL"],
            |fx| unsafe { siptls_ctx_add_crl_file(fx.server.0, null(), &mut 0) }.into();
        "add_crl_file added_out" => SIPTLS_ERR_NULL_ARGUMENT, ["added_out is NULL"],
            |fx| {
                let path = fx.path("garbage.crl");
                unsafe { siptls_ctx_add_crl_file(fx.server.0, path.as_ptr(), null_mut()) }.into()
            };
        "get_api api_out" => SIPTLS_ERR_NULL_ARGUMENT, ["api_out is NULL"],
            |_| unsafe { siptls_get_api(abi_version(), null_mut()) }.into();
        "get_api of an ABI version not provided" => SIPTLS_ERR_ABI_VERSION,
            ["ABI version 7777 was asked for", "provides ABI version"],
            |_| unsafe { siptls_get_api(7777, &mut null()) }.into();
        "set_keylog_callback ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_keylog_callback(null_mut(), None, null_mut()) }.into();
        "use_sslkeylogfile ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_use_sslkeylogfile(null_mut(), &mut false) }.into();
        "use_sslkeylogfile enabled_out" => SIPTLS_ERR_NULL_ARGUMENT, ["enabled_out is NULL"],
            |fx| unsafe { siptls_ctx_use_sslkeylogfile(fx.client.0, null_mut()) }.into();
        "trust_replace_ca_list ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_replace_trust_list(null_mut(), X.as_ptr(), 1, 1, &mut 0) }
                .into();
        "trust_replace_ca_list pem" => SIPTLS_ERR_NULL_ARGUMENT, ["pem is NULL"],
            |fx| unsafe { siptls_ctx_replace_trust_list(fx.server.0, null(), 1, 1, &mut 0) }
                .into();
        "trust_replace_ca_list count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |fx| {
                unsafe { siptls_ctx_replace_trust_list(fx.server.0, X.as_ptr(), 1, 1, null_mut()) }
                    .into()
            };
        "trust_get ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_get_trust(null(), 1, &mut trust_info()) }.into();
        "trust_get info_out" => SIPTLS_ERR_NULL_ARGUMENT, ["info_out is NULL"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_get_trust(fx.server.0, 1, null_mut()) });
        "crl_count ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_count_crls(null(), &mut 0) }.into();
        "crl_count count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |fx| unsafe { siptls_ctx_count_crls(fx.server.0, null_mut()) }.into();
        "crl_get ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_get_crl(null(), 0, &mut crl_info()) }.into();
        "crl_get info_out" => SIPTLS_ERR_NULL_ARGUMENT, ["info_out is NULL"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_get_crl(fx.server.0, 0, null_mut()) });
        "crl_remove ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_remove_crl(null_mut(), c"CN=x".as_ptr()) }.into();
        "crl_remove issuer" => SIPTLS_ERR_NULL_ARGUMENT, ["issuer is NULL"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_remove_crl(fx.server.0, null()) });
        "crl_clear ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_clear_crls(null_mut()) }.into();
        "set_expired_crl_policy ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_expired_crl_policy(null_mut(), 0) }.into();
        "generation ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| {
                let mut generation = 7u64;
                let code = unsafe { siptls_ctx_get_generation(null(), &mut generation) };
                assert_eq!(generation, 0, "the out-pointer is set on failure");
                code.into()
            };
        "generation generation_out" => SIPTLS_ERR_NULL_ARGUMENT, ["generation_out is NULL"],
            |fx| unsafe { siptls_ctx_get_generation(fx.server.0, null_mut()) }.into();
        "session_set_userdata session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_set_userdata(null_mut(), null_mut()) }.into();
        "session_get_userdata session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| {
                let mut out = std::ptr::dangling_mut::<std::ffi::c_void>();
                let code = unsafe { siptls_session_get_userdata(null(), &mut out) };
                assert!(out.is_null(), "the out-pointer is set on failure");
                code.into()
            };
        "session_get_userdata userdata_out" => SIPTLS_ERR_NULL_ARGUMENT, ["userdata_out is NULL"],
            |fx| {
                let s = fx.session();
                unsafe { siptls_session_get_userdata(s.0, null_mut()) }.into()
            };
    }
}

fn length_and_range_cases() -> Vec<Case> {
    cases! {
        "feed zero length" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["zero-length input", "siptls_session_feed_eof"],
            |fx| {
                let s = fx.session();
                on_sess(&s, s.feed(&[]).0)
            };
        "take zero capacity" => SIPTLS_ERR_INVALID_ARGUMENT, ["zero-length output buffer"],
            |fx| {
                let s = fx.session();
                on_sess(&s, s.take(&mut []).0)
            };
        "write zero length" => SIPTLS_ERR_INVALID_ARGUMENT, ["zero-length plaintext"],
            |fx| {
                let (c, _s) = fx.connected();
                on_sess(&c, c.write(&[]).0)
            };
        "read zero capacity" => SIPTLS_ERR_INVALID_ARGUMENT, ["zero-length output buffer"],
            |fx| {
                let (_c, s) = fx.connected();
                on_sess(&s, s.read(&mut []).0)
            };
        "feed huge length" => SIPTLS_ERR_INVALID_ARGUMENT, ["data: length", "larger than any"],
            |fx| unsafe { siptls_session_feed(fx.session().0, X.as_ptr(), HUGE, &mut 0) }.into();
        "take huge capacity" => SIPTLS_ERR_INVALID_ARGUMENT, ["buf: length", "larger than any"],
            |fx| unsafe { siptls_session_take(fx.session().0, [0u8].as_mut_ptr(), HUGE, &mut 0) }
                .into();
        "write huge length" => SIPTLS_ERR_INVALID_ARGUMENT, ["data: length", "larger than any"],
            |fx| {
                let (c, _s) = fx.connected();
                unsafe { siptls_session_write(c.0, X.as_ptr(), HUGE, &mut 0) }.into()
            };
        "read huge capacity" => SIPTLS_ERR_INVALID_ARGUMENT, ["buf: length", "larger than any"],
            |fx| unsafe { siptls_session_read(fx.session().0, [0u8].as_mut_ptr(), HUGE, &mut 0) }
                .into();
        "set_identity_pem huge cert length" => SIPTLS_ERR_INVALID_ARGUMENT, ["cert_pem: length"],
            |fx| {
                let ctx = fx.server.0;
                unsafe { siptls_ctx_set_identity_pem(ctx, X.as_ptr(), HUGE, X.as_ptr(), 1) }.into()
            };
        "set_identity_pem huge key length" => SIPTLS_ERR_INVALID_ARGUMENT, ["key_pem: length"],
            |fx| {
                let ctx = fx.server.0;
                unsafe { siptls_ctx_set_identity_pem(ctx, X.as_ptr(), 1, X.as_ptr(), HUGE) }.into()
            };
        "trust_add huge length" => SIPTLS_ERR_INVALID_ARGUMENT, ["cert: length"],
            |fx| unsafe { siptls_ctx_add_trust(fx.server.0, 7, X.as_ptr(), HUGE) }.into();
        "trust_load_ca_list huge length" => SIPTLS_ERR_INVALID_ARGUMENT, ["pem: length"],
            |fx| unsafe { siptls_ctx_add_trust_list(fx.server.0, X.as_ptr(), HUGE, 7, &mut 0) }
                .into();
        "add_crl huge length" => SIPTLS_ERR_INVALID_ARGUMENT, ["crl: length"],
            |fx| unsafe { siptls_ctx_add_crl(fx.server.0, X.as_ptr(), HUGE, &mut 0) }.into();
        "trust_list capacity overflowing its byte size" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["ids: length"],
            |fx| {
                let (ctx, mut ids) = (fx.server.0, [0u32]);
                unsafe { siptls_ctx_list_trust(ctx, ids.as_mut_ptr(), HUGE / 4 + 1, &mut 0) }.into()
            };
        "ctx_last_error huge capacity" => SIPTLS_ERR_INVALID_ARGUMENT, ["buf: length"],
            |fx| {
                let mut buf = text_buf();
                unsafe { siptls_ctx_get_last_error(fx.server.0, buf.as_mut_ptr(), HUGE, &mut 0) }.into()
            };
        "role 7" => SIPTLS_ERR_INVALID_ARGUMENT, ["role: 7 is not one of the defined values"],
            |_| unsafe { siptls_ctx_new(7, &mut null_mut()) }.into();
        "client auth mode 9" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["mode: 9 is not one of the defined values"],
            |fx| unsafe { siptls_ctx_set_client_auth(fx.server.0, 9) }.into();
        "name check mode 5" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["mode: 5 is not one of the defined values"],
            |fx| unsafe { siptls_ctx_set_name_check(fx.client.0, 5) }.into();
        "expiry of an index past the list" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["index 99:", "things expire"],
            |fx| on_ctx(&fx.server, unsafe {
                siptls_ctx_get_expiry(fx.server.0, 99, &mut expiry_info())
            });
        "reload_if_changed reloaded_out" => SIPTLS_ERR_NULL_ARGUMENT, ["reloaded_out is NULL"],
            |fx| unsafe { siptls_ctx_reload_if_changed(fx.server.0, null_mut()) }.into();
        "reload_if_changed ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_reload_if_changed(null_mut(), &mut 0) }.into();
        "OCSP response for an unknown identity" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["no identity has identity ID 9"],
            |fx| unsafe { siptls_ctx_set_ocsp_response(fx.server.0, 9, X.as_ptr(), X.len()) }.into();
        "OCSP response NULL with a length" => SIPTLS_ERR_NULL_ARGUMENT, ["der is NULL"],
            |fx| unsafe { siptls_ctx_set_ocsp_response(fx.server.0, 0, null(), 5) }.into();
        "OCSP response of garbage" => SIPTLS_ERR_OCSP_MALFORMED, ["does not parse"],
            |fx| unsafe { siptls_ctx_set_ocsp_response(fx.server.0, 0, X.as_ptr(), X.len()) }.into();
        "OCSP file missing" => SIPTLS_ERR_IO, ["no-such.der"],
            |fx| unsafe {
                siptls_ctx_load_ocsp_file(fx.server.0, 0, c"/nonexistent/no-such.der".as_ptr())
            }
            .into();
        "signer NULL" => SIPTLS_ERR_NULL_ARGUMENT, ["signer is NULL"],
            |fx| unsafe {
                siptls_ctx_add_identity_signer(fx.server.0, 5, X.as_ptr(), X.len(), null())
            }
            .into();
        "signer of key type 9" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["signer->key_type: 9 is not one of the defined values"],
            |fx| unsafe {
                let signer = signer(9, false);
                siptls_ctx_add_identity_signer(fx.server.0, 5, X.as_ptr(), X.len(), &signer)
            }
            .into();
        "signer without a callback" => SIPTLS_ERR_NULL_ARGUMENT, ["signer->sign is NULL"],
            |fx| unsafe {
                let signer = signer(1, false);
                siptls_ctx_add_identity_signer(fx.server.0, 5, X.as_ptr(), X.len(), &signer)
            }
            .into();
        "pkcs11: URI without a module" => SIPTLS_ERR_PKCS11_URI, ["module-path"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k"));
        "pkcs11: URI naming no key" => SIPTLS_ERR_PKCS11_URI, ["names no key"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:token=t?module-path=/m.so"));
        "pkcs11: URI with a broken escape" => SIPTLS_ERR_PKCS11_URI, ["%XX"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k%4?module-path=/m.so"));
        "pkcs11: URI with an unknown attribute" => SIPTLS_ERR_PKCS11_URI, ["colour"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k;colour=red?module-path=/m.so"));
        "pkcs11: URI with a vendor attribute" => SIPTLS_ERR_PKCS11_URI, ["x-vendor"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k;x-vendor=1?module-path=/m.so"));
        "pkcs11: URI of a certificate object" => SIPTLS_ERR_PKCS11_URI, ["type=private"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k;type=cert?module-path=/m.so"));
        "pkcs11: URI with two PIN sources" => SIPTLS_ERR_PKCS11_URI, ["both pin-value and pin-source"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k?module-path=/m.so&pin-value=1&pin-source=/p"));
        "pkcs11: module missing" => SIPTLS_ERR_PKCS11_MODULE, ["/nonexistent/module.so", "module-path"],
            |fx| on_ctx(&fx.server, token_key(&fx.server, "pkcs11:object=k?module-path=/nonexistent/module.so&pin-value=1"));
        "resolve uri NULL" => SIPTLS_ERR_NULL_ARGUMENT, ["uri is NULL"],
            |_| unsafe { siptls_get_uri_targets(null(), null(), null_mut(), 0, &mut 0) }.into();
        "resolve count_out NULL" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |_| unsafe { siptls_get_uri_targets(c"sips:a.test".as_ptr(), null(), null_mut(), 0, null_mut()) }.into();
        "resolve sips: with transport=udp" => SIPTLS_ERR_INVALID_ARGUMENT, ["transport=udp has none"],
            |_| unsafe { siptls_get_uri_targets(c"sips:a.test;transport=udp".as_ptr(), null(), null_mut(), 0, &mut 0) }.into();
        "resolve a tel: URI" => SIPTLS_ERR_INVALID_ARGUMENT, ["its scheme is tel"],
            |_| unsafe { siptls_get_uri_targets(c"tel:+15551234".as_ptr(), null(), null_mut(), 0, &mut 0) }.into();
        "resolve an IPv6 literal without brackets" => SIPTLS_ERR_INVALID_ARGUMENT, ["in brackets"],
            |_| unsafe { siptls_get_uri_targets(c"sips:2001:db8::1".as_ptr(), null(), null_mut(), 0, &mut 0) }.into();
        "resolve with a nameserver that is no address" => SIPTLS_ERR_INVALID_ARGUMENT, ["config->nameserver 'dns.test'"],
            |_| unsafe {
                let config = resolver_config(c"dns.test".as_ptr());
                siptls_get_uri_targets(c"sips:a.test".as_ptr(), &config, null_mut(), 0, &mut 0)
            }
            .into();
        "connection key ctx NULL" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { connection_key(null(), c"192.0.2.7:5061", KEY_LEN) }.into();
        "connection key for a host name" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["'gw-b.example.test:5061'", "not a host name"],
            |fx| on_ctx(&fx.client, unsafe { connection_key(fx.client.0, c"gw-b.example.test:5061", KEY_LEN) });
        "connection key from a server context" => SIPTLS_ERR_INVALID_ARGUMENT, ["client contexts"],
            |fx| on_ctx(&fx.server, unsafe { connection_key(fx.server.0, c"192.0.2.7:5061", KEY_LEN) });
        "connection key struct_size one short" => SIPTLS_ERR_INVALID_ARGUMENT, ["written whole"],
            |fx| on_ctx(&fx.client, unsafe { connection_key(fx.client.0, c"192.0.2.7:5061", KEY_LEN - 1) });
        "session connection key before the handshake" => SIPTLS_ERR_WRONG_STATE, ["accepted"],
            |fx| {
                let s = Sess::client(&fx.client);
                let mut key = siptls_connection_key { struct_size: KEY_LEN, bytes: [0; 32] };
                let code = unsafe {
                    siptls_session_get_connection_key(s.0, c"192.0.2.7:5061".as_ptr(), &mut key)
                };
                on_sess(&s, code)
            };
        "session connection key_out NULL" => SIPTLS_ERR_NULL_ARGUMENT, ["key_out is NULL"],
            |fx| {
                let s = Sess::client(&fx.client);
                let code = unsafe {
                    siptls_session_get_connection_key(s.0, c"192.0.2.7:5061".as_ptr(), null_mut())
                };
                on_sess(&s, code)
            };
        "set_expiry_warning ctx" => SIPTLS_ERR_NULL_ARGUMENT, ["ctx is NULL"],
            |_| unsafe { siptls_ctx_set_expiry_warning(null_mut(), 1, 1) }.into();
        "EKU policy 4" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["policy: 4 is not one of the defined values"],
            |fx| unsafe { siptls_ctx_set_eku_policy(fx.server.0, 4) }.into();
        "trust EKU policy 9" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["policy: 9 is not one of the defined values"],
            |fx| unsafe { siptls_ctx_set_trust_eku_policy(fx.server.0, 1, 9) }.into();
        "EKU policy for an unknown trust ID" => SIPTLS_ERR_TRUST_NOT_FOUND,
            ["no trust entry has trust ID 42"],
            |fx| unsafe { siptls_ctx_set_trust_eku_policy(fx.server.0, 42, 1) }.into();
        "missing-CRL policy 3" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["policy: 3 is not one of the defined values"],
            |fx| unsafe { siptls_ctx_set_missing_crl_policy(fx.server.0, 3) }.into();
        "SSLv3 minimum" => SIPTLS_ERR_INVALID_ARGUMENT, ["0x0300", "SSLv3", "refused"],
            |fx| set_versions(&fx.client, 0x0300, SIPTLS_TLS13);
        "TLS 1.0 minimum" => SIPTLS_ERR_INVALID_ARGUMENT, ["0x0301", "TLS 1.0", "refused"],
            |fx| set_versions(&fx.client, 0x0301, SIPTLS_TLS13);
        "TLS 1.1 only" => SIPTLS_ERR_INVALID_ARGUMENT, ["0x0302", "1.1", "refused"],
            |fx| set_versions(&fx.server, 0x0302, 0x0302);
        "versions reversed" => SIPTLS_ERR_INVALID_ARGUMENT, ["0x0304..0x0303"],
            |fx| set_versions(&fx.server, SIPTLS_TLS13, SIPTLS_TLS12);
        "version from the future" => SIPTLS_ERR_INVALID_ARGUMENT, ["0x0305"],
            |fx| set_versions(&fx.server, SIPTLS_TLS12, 0x0305);
        "CA depth 0" => SIPTLS_ERR_INVALID_ARGUMENT, ["CA depth 0 out of range 1..=7"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_max_ca_depth(fx.server.0, 0) });
        "CA depth 8" => SIPTLS_ERR_INVALID_ARGUMENT, ["CA depth 8 out of range 1..=7"],
            |fx| on_ctx(&fx.client, unsafe { siptls_ctx_set_max_ca_depth(fx.client.0, 8) });
        "trust ID NONE is reserved" => SIPTLS_ERR_INVALID_ARGUMENT, ["4294967295 is reserved"],
            |fx| {
                let ca = stranger().issued().cert_pem.as_bytes();
                on_ctx(&fx.server, fx.server.trust(SIPTLS_TRUST_ID_NONE, ca))
            };
    }
}

fn file_cases() -> Vec<Case> {
    cases! {
        "missing certificate file" => SIPTLS_ERR_IO, ["missing.pem", "No such file"],
            |fx| load_identity_files(fx, &fx.path("missing.pem"), &fx.path("server.key"));
        "directory as certificate file" => SIPTLS_ERR_IO, ["a-directory", "is a directory"],
            |fx| load_identity_files(fx, &fx.path("a-directory"), &fx.path("server.key"));
        // Runs as root in CI, where chmod 000 does not stop reads; a path
        // through a regular file is unreadable for every user.
        "key path through a regular file" => SIPTLS_ERR_IO,
            ["server.pem/key.pem", "Not a directory"],
            |fx| load_identity_files(fx, &fx.path("server.pem"), &fx.path("server.pem/key.pem"));
        "non-UTF-8 path is a path" => SIPTLS_ERR_IO, ["No such file"],
            |fx| {
                let mut bytes = fx.dir.0.as_os_str().as_bytes().to_vec();
                bytes.extend(b"/\xff\xfe-cert.pem");
                load_identity_files(fx, &CString::new(bytes).unwrap(), &fx.path("server.key"))
            };
        // Refused before the context is reached, so only the thread's detail has it.
        "empty certificate path" => SIPTLS_ERR_INVALID_ARGUMENT, ["cert_path is an empty path"],
            |fx| {
                let key = fx.path("server.key");
                unsafe { siptls_ctx_load_identity_files(fx.server.0, c"".as_ptr(), key.as_ptr()) }
                    .into()
            };
        "empty key path" => SIPTLS_ERR_INVALID_ARGUMENT, ["key_path is an empty path"],
            |fx| {
                let cert = fx.path("server.pem");
                unsafe { siptls_ctx_load_identity_files(fx.server.0, cert.as_ptr(), c"".as_ptr()) }
                    .into()
            };
        "identity file holding garbage is named" => SIPTLS_ERR_CERT_MALFORMED,
            ["garbage.pem", "certificate #1"],
            |fx| load_identity_files(fx, &fx.path("garbage.pem"), &fx.path("server.key"));
        "missing CA file" => SIPTLS_ERR_IO, ["nope.pem", "No such file"],
            |fx| load_ca_file(&fx.server, &fx.path("nope.pem"));
        "directory as CA file" => SIPTLS_ERR_IO, ["is a directory"],
            |fx| load_ca_file(&fx.server, &fx.path("a-directory"));
        "CA file holding garbage is named" => SIPTLS_ERR_CERT_MALFORMED,
            ["garbage.pem", "certificate #1"],
            |fx| load_ca_file(&fx.server, &fx.path("garbage.pem"));
        "missing CRL file" => SIPTLS_ERR_IO, ["nope.crl", "No such file"],
            |fx| add_crl_file(&fx.server, &fx.path("nope.crl"));
        "CRL file holding garbage is named" => SIPTLS_ERR_CRL_MALFORMED, ["garbage.crl", "CRL #1"],
            |fx| add_crl_file(&fx.server, &fx.path("garbage.crl"));
        "empty CRL path" => SIPTLS_ERR_INVALID_ARGUMENT, ["path is an empty path"],
            |fx| unsafe { siptls_ctx_add_crl_file(fx.server.0, c"".as_ptr(), &mut 0) }.into();
        "missing PEM directory" => SIPTLS_ERR_IO, ["no-such-dir/publickey.pem", "No such file"],
            |fx| load_pem_dir(&fx.server, &fx.path("no-such-dir"), null());
        "empty PEM directory path" => SIPTLS_ERR_INVALID_ARGUMENT, ["dir is an empty path"],
            |fx| unsafe { siptls_ctx_load_pem_dir(fx.server.0, c"".as_ptr(), null(), 50, &mut 0) }
                .into();
        "non-UTF-8 file name in pem names" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["names->certificate is not valid UTF-8"],
            |fx| {
                let names = siptls_pem_names {
        struct_size: std::mem::size_of::<siptls_pem_names>() as u32,
                    private_key: null(),
                    certificate: c"\xffcert.pem".as_ptr(),
                    ca_list: null(),
                    crl: null(),
                };
                let dir = fx.path("broken");
                unsafe { siptls_ctx_load_pem_dir(fx.server.0, dir.as_ptr(), &names, 50, &mut 0) }
                    .into()
            };
        "PEM names pointing at missing files" => SIPTLS_ERR_IO, ["other-key.pem", "No such file"],
            |fx| {
                let names = siptls_pem_names {
        struct_size: std::mem::size_of::<siptls_pem_names>() as u32,
                    private_key: c"other-key.pem".as_ptr(),
                    certificate: null(),
                    ca_list: null(),
                    crl: null(),
                };
                load_pem_dir(&fx.server, &fx.path("broken"), &names)
            };
        "key log in a missing directory" => SIPTLS_ERR_IO, ["no-such-dir/keys.log", "No such file"],
            |fx| set_keylog(&fx.client, &fx.path("no-such-dir/keys.log"));
        "key log onto a directory" => SIPTLS_ERR_IO, ["a-directory", "Is a directory"],
            |fx| set_keylog(&fx.client, &fx.path("a-directory"));
        "empty key log path" => SIPTLS_ERR_INVALID_ARGUMENT, ["path is an empty path"],
            |fx| unsafe { siptls_ctx_set_keylog_file(fx.client.0, c"".as_ptr()) }.into();
    }
}

fn pem_cases() -> Vec<Case> {
    cases! {
        "empty certificate input" => SIPTLS_ERR_PEM_EMPTY,
            ["certificate", "no PEM sections at all"],
            |fx| set_server_identity(fx, "", &server_key());
        "whitespace-only certificate input" => SIPTLS_ERR_PEM_EMPTY, ["no PEM sections at all"],
            |fx| set_server_identity(fx, " \n\t\r\n  ", &server_key());
        "certificate request instead of a certificate" => SIPTLS_ERR_PEM_EMPTY,
            ["no CERTIFICATE section", "found only: CERTIFICATE REQUEST"],
            |fx| {
                let csr = server_cert().replace("CERTIFICATE", "CERTIFICATE REQUEST");
                set_server_identity(fx, &csr, &server_key())
            };
        "END label differs from BEGIN" => SIPTLS_ERR_PEM_MALFORMED,
            ["section not terminated", "CERTIFICATE"],
            |fx| {
                let cert = server_cert().replace("END CERTIFICATE", "END X509 CRL");
                set_server_identity(fx, &cert, &server_key())
            };
        "truncated base64" => SIPTLS_ERR_PEM_MALFORMED, ["certificate: bad base64"],
            |fx| set_server_identity(fx, &cut_base64(&server_cert(), 101), &server_key());
        "base64 cut to a truncated DER" => SIPTLS_ERR_CERT_MALFORMED,
            ["certificate #1: not valid X.509 DER"],
            |fx| set_server_identity(fx, &cut_base64(&server_cert(), 100), &server_key());
        "unterminated section" => SIPTLS_ERR_PEM_MALFORMED, ["section not terminated"],
            |fx| {
                let cert = server_cert();
                set_server_identity(fx, cert.split("-----END").next().unwrap(), &server_key())
            };
        "DER garbage as a trust certificate" => SIPTLS_ERR_CERT_MALFORMED, ["not valid X.509 DER"],
            |fx| on_ctx(&fx.server, fx.server.trust(7, &[0x30, 0x03, 0x02, 0x01, 0x01]));
        "garbage inside a CERTIFICATE block" => SIPTLS_ERR_CERT_MALFORMED,
            ["certificate #1: not valid X.509 DER"],
            |fx| set_identity(&fx.client, &garbage_cert_pem(), &revocable_client().key_pem);
        "trailing bytes after a DER certificate" => SIPTLS_ERR_CERT_MALFORMED, ["trailing bytes"],
            |fx| {
                let der = [stranger().issued().cert_der.as_slice(), &[0, 0]].concat();
                on_ctx(&fx.server, fx.server.trust(7, &der))
            };
        "certificate where the key belongs" => SIPTLS_ERR_PEM_EMPTY,
            ["private key", "found only: CERTIFICATE"],
            |fx| set_server_identity(fx, &server_cert(), &server_cert());
        "key where the certificate belongs" => SIPTLS_ERR_PEM_EMPTY,
            ["no CERTIFICATE section", "found only: PRIVATE KEY"],
            |fx| set_server_identity(fx, &server_key(), &server_key());
        "encrypted PKCS#8 key" => SIPTLS_ERR_KEY_ENCRYPTED, ["encrypted keys are not supported"],
            |fx| {
                let key = pem("ENCRYPTED PRIVATE KEY", &pki().server.key_der);
                set_server_identity(fx, &server_cert(), &key)
            };
        "legacy encrypted PEM key" => SIPTLS_ERR_KEY_ENCRYPTED,
            ["encrypted keys are not supported"],
            |fx| {
                let key = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                           DEK-Info: AES-128-CBC,0011223344556677\n\nAAAA\n\
                           -----END EC PRIVATE KEY-----\n";
                set_server_identity(fx, &server_cert(), key)
            };
        "key of another certificate" => SIPTLS_ERR_KEY_MISMATCH,
            ["does not belong to the first certificate"],
            |fx| set_server_identity(fx, &server_cert(), &pki().client.key_pem);
        "RSA key for an ECDSA certificate" => SIPTLS_ERR_KEY_MISMATCH,
            ["does not belong to the first certificate"],
            |fx| set_server_identity(fx, &server_cert(), &rsa_server().key_pem);
        "PKCS#8 with an unknown algorithm" => SIPTLS_ERR_KEY_UNSUPPORTED,
            ["unsupported key algorithm 1.2.3.4"],
            |fx| {
                let key = pkcs8(&oid(&[0x2a, 0x03, 0x04]), &der(0x04, &[7; 32]));
                set_server_identity(fx, &server_cert(), &pem("PRIVATE KEY", &key))
            };
        "X25519 key" => SIPTLS_ERR_KEY_UNSUPPORTED, ["unsupported key algorithm 1.3.101.110"],
            |fx| {
                let key = pkcs8(&oid(&[0x2b, 0x65, 0x6e]), &der(0x04, &[7; 32]));
                set_server_identity(fx, &server_cert(), &pem("PRIVATE KEY", &key))
            };
        "secp256k1 key" => SIPTLS_ERR_KEY_UNSUPPORTED, ["unsupported elliptic curve 1.3.132.0.10"],
            |fx| {
                let algorithm = [oid(OID_EC_PUBLIC_KEY), oid(&[0x2b, 0x81, 0x04, 0x00, 0x0a])];
                let ec_key = der(0x30, &[der(0x02, &[1]), der(0x04, &[7; 32])].concat());
                let key = pkcs8(&algorithm.concat(), &ec_key);
                set_server_identity(fx, &server_cert(), &pem("PRIVATE KEY", &key))
            };
        "RSA PKCS#8 with a garbage body" => SIPTLS_ERR_KEY_MALFORMED,
            ["supported type does not parse"],
            |fx| {
                let key = pkcs8(&[oid(OID_RSA), der(0x05, &[])].concat(), b"junk");
                set_server_identity(fx, &server_cert(), &pem("PRIVATE KEY", &key))
            };
        "PKCS#1 block holding garbage" => SIPTLS_ERR_KEY_MALFORMED, ["private key does not parse"],
            |fx| set_server_identity(fx, &rsa_server().cert_pem, &pem("RSA PRIVATE KEY", b"junk"));
        "private key with bad base64" => SIPTLS_ERR_PEM_MALFORMED, ["private key: bad base64"],
            |fx| {
                let key = "-----BEGIN PRIVATE KEY-----\nMIG*\n-----END PRIVATE KEY-----\n";
                set_server_identity(fx, &server_cert(), key)
            };
    }
}

fn trust_cases() -> Vec<Case> {
    cases! {
        "17th trust entry" => SIPTLS_ERR_TRUST_TABLE_FULL,
            ["1 new entry with 16 already present", "at most 16"],
            |_| {
                let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
                let root = pki().root.issued().cert_pem.as_bytes();
                for id in 0..16 {
                    assert_eq!(ctx.trust(id, root), SIPTLS_OK);
                }
                let got = on_ctx(&ctx, ctx.trust(16, root));
                assert_eq!(ctx.trust_ids(), (0..16).collect::<Vec<_>>());
                got
            };
        "duplicate trust ID" => SIPTLS_ERR_TRUST_DUPLICATE_ID, ["trust ID 1 is already in use"],
            |fx| on_ctx(&fx.server, fx.server.trust(1, stranger().issued().cert_pem.as_bytes()));
        "two certificates for one trust entry" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["2 certificates given for one trust entry"],
            |fx| on_ctx(&fx.server, fx.server.trust(7, ca_list(2).as_bytes()));
        "empty trust certificate" => SIPTLS_ERR_PEM_EMPTY, ["no CERTIFICATE section"],
            |fx| on_ctx(&fx.server, fx.server.trust(7, b""));
        "CA list overflowing the table" => SIPTLS_ERR_TRUST_TABLE_FULL,
            ["16 new entries with 1 already present"],
            |fx| load_ca_list(&fx.server, &ca_list(16), 10);
        "CA list larger than any table" => SIPTLS_ERR_TRUST_TABLE_FULL, ["17 certificates"],
            |fx| load_ca_list(&fx.server, &ca_list(17), 10);
        "CA list with garbage in its middle" => SIPTLS_ERR_CERT_MALFORMED, ["certificate #2"],
            |fx| {
                let list = [ca_list(1), garbage_cert_pem(), ca_list(1)].concat();
                load_ca_list(&fx.server, &list, 10)
            };
        "CA list colliding with a trust ID" => SIPTLS_ERR_TRUST_DUPLICATE_ID,
            ["trust ID 1 is already in use"],
            |fx| load_ca_list(&fx.server, &ca_list(3), 0);
        "CA list running past the last trust ID" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["run past the largest trust ID"],
            |fx| load_ca_list(&fx.server, &ca_list(2), 0xFFFF_FFFE);
        "CA list with no certificate" => SIPTLS_ERR_PEM_EMPTY, ["found only: PRIVATE KEY"],
            |fx| load_ca_list(&fx.server, &server_key(), 10);
        "remove an unknown trust ID" => SIPTLS_ERR_TRUST_NOT_FOUND,
            ["no trust entry has trust ID 42"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_remove_trust(fx.server.0, 42) });
        "SIP domain for an unknown trust ID" => SIPTLS_ERR_TRUST_NOT_FOUND,
            ["no trust entry has trust ID 42"],
            |fx| set_sip_domain(&fx.server, 42, c"example.test");
        "invalid SIP domain" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["'not a domain!' is not a valid SIP domain"],
            |fx| set_sip_domain(&fx.server, 1, c"not a domain!");
        "non-UTF-8 SIP domain" => SIPTLS_ERR_INVALID_ARGUMENT, ["domain is not valid UTF-8"],
            |fx| unsafe { siptls_ctx_set_trust_sip_domain(fx.server.0, 1, c"\xe9.test".as_ptr()) }
                .into();
        "PEM directory with a broken CA list" => SIPTLS_ERR_CERT_MALFORMED,
            ["broken/CAList.pem", "certificate #2"],
            |fx| load_pem_dir(&fx.server, &fx.path("broken"), null());
        "trust_get of a missing trust ID" => SIPTLS_ERR_TRUST_NOT_FOUND,
            ["no trust entry has trust ID 42"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_get_trust(fx.server.0, 42, &mut trust_info()) });
        "trust entry info too small" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["info_out->struct_size is 4"],
            |fx| {
                let mut info = trust_info();
                info.struct_size = 4;
                on_ctx(&fx.server, unsafe { siptls_ctx_get_trust(fx.server.0, 1, &mut info) })
            };
        "replace the trust table with garbage" => SIPTLS_ERR_PEM_EMPTY,
            ["no CERTIFICATE section"],
            |fx| replace_ca_list(&fx.server, "nothing here");
        "replace the trust table with an empty input" => SIPTLS_ERR_PEM_EMPTY,
            ["no PEM sections at all"],
            |fx| replace_ca_list(&fx.server, "");
        "replace the trust table with 17 CAs" => SIPTLS_ERR_TRUST_TABLE_FULL,
            ["17 certificates, the trust table holds at most 16"],
            |fx| replace_ca_list(&fx.server, &ca_list(17));
        "replace the trust table with a broken second certificate" => SIPTLS_ERR_CERT_MALFORMED,
            ["certificate #2"],
            |fx| replace_ca_list(&fx.server, &[stranger().issued().cert_pem.clone(), garbage_cert_pem()].concat());
        "replace the trust table with a private key" => SIPTLS_ERR_PEM_EMPTY,
            ["found only: PRIVATE KEY"],
            |fx| replace_ca_list(&fx.server, &pki().server.key_pem);
        "PEM directory whose CA list overflows the table" => SIPTLS_ERR_TRUST_TABLE_FULL,
            ["overflow/CAList.pem", "17 certificates, the trust table holds at most 16"],
            |fx| load_pem_dir(&fx.server, &fx.path("overflow"), null());
    }
}

fn crl_cases() -> Vec<Case> {
    cases! {
        "text that holds no CRL" => SIPTLS_ERR_PEM_EMPTY,
            ["no X509 CRL section", "no PEM sections at all"],
            |fx| add_crl(&fx.server, b"this is not a CRL");
        "certificate instead of a CRL" => SIPTLS_ERR_PEM_EMPTY,
            ["no X509 CRL section", "found only: CERTIFICATE"],
            |fx| add_crl(&fx.server, pki().root.issued().cert_pem.as_bytes());
        "DER garbage as a CRL" => SIPTLS_ERR_CRL_MALFORMED, ["CRL #1"],
            |fx| add_crl(&fx.server, &der(0x30, &der(0x02, &[1])));
        "certificate DER as a CRL" => SIPTLS_ERR_CRL_MALFORMED, ["CRL #1"],
            |fx| add_crl(&fx.server, &pki().root.issued().cert_der);
        "CRL block with bad base64" => SIPTLS_ERR_PEM_MALFORMED, ["CRL: bad base64"],
            |fx| add_crl(&fx.server, b"-----BEGIN X509 CRL-----\n#!\n-----END X509 CRL-----\n");
        "CRL under a trust entry's name, signed by another key" => SIPTLS_ERR_CRL_UNTRUSTED,
            ["CRL #1", "does not verify with the key of trust ID 1"],
            |fx| add_crl(&fx.server, impostor_root().crl(&[CLIENT_SERIAL], 9).pem.as_bytes());
        // The first CRL would revoke the fixture client: had it been kept,
        // the handshake after this case would fail.
        "newer CRL followed by a forged one" => SIPTLS_ERR_CRL_UNTRUSTED, ["CRL #2"],
            |fx| {
                let crls = [
                    pki().root.crl(&[CLIENT_SERIAL], 9).pem,
                    impostor_root().crl(&[], 10).pem,
                ];
                add_crl(&fx.server, crls.concat().as_bytes())
            };
        "CRL older than the loaded one" => SIPTLS_ERR_CRL_NOT_NEWER,
            ["CRL number 4", "not newer than the one loaded (CRL number 5)"],
            |fx| add_crl(&fx.server, pki().root.crl(&[CLIENT_SERIAL], 4).pem.as_bytes());
        "CRL equal to the loaded one" => SIPTLS_ERR_CRL_NOT_NEWER,
            ["CRL number 5", "not newer"],
            |fx| add_crl(&fx.server, pki().root.crl(&[CLIENT_SERIAL], 5).pem.as_bytes());
        "two CRLs of one issuer, the second older" => SIPTLS_ERR_CRL_NOT_NEWER,
            ["CRL #2", "CRL number 6", "(CRL number 7)"],
            |fx| {
                let crls = [pki().root.crl(&[], 7).pem, pki().root.crl(&[CLIENT_SERIAL], 6).pem];
                add_crl(&fx.server, crls.concat().as_bytes())
            };
        "version 1 CRL without extensions" => SIPTLS_ERR_CRL_MALFORMED,
            ["CRL #1", "no extensions", "CRL number and authority key identifier", "crlnumber"],
            |fx| add_crl(&fx.server, &hand_made_crl(false, true));
        "CRL without nextUpdate" => SIPTLS_ERR_CRL_MALFORMED,
            ["CRL #1", "no nextUpdate", "5.1.2.5"],
            |fx| add_crl(&fx.server, &hand_made_crl(true, false));
        "CRL directory whose CRL file is broken" => SIPTLS_ERR_CRL_MALFORMED,
            ["with-crl/crl.pem", "CRL #1"],
            |fx| load_pem_dir(&fx.server, &fx.path("with-crl"), &crl_names(c"crl.pem"));
        "CRL directory whose CRL file is missing" => SIPTLS_ERR_IO,
            ["with-crl/missing.crl", "No such file"],
            |fx| load_pem_dir(&fx.server, &fx.path("with-crl"), &crl_names(c"missing.crl"));
        "remove the CRL of an issuer that has none" => SIPTLS_ERR_CRL_NOT_FOUND,
            ["no CRL is loaded for issuer 'CN=Nobody'"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_remove_crl(fx.server.0, c"CN=Nobody".as_ptr()) });
        "CRL listing past the end" => SIPTLS_ERR_INVALID_ARGUMENT, ["index 1: 1 CRLs are loaded"],
            |fx| {
                let mut info = crl_info();
                on_ctx(&fx.server, unsafe { siptls_ctx_get_crl(fx.server.0, 1, &mut info) })
            };
        "session info with struct_size 0" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["info_out->struct_size is 0"],
            |fx| {
                let s = fx.session();
                let mut info = empty_info();
                info.struct_size = 0;
                on_sess(&s, unsafe { siptls_session_get_info(s.0, &mut info) })
            };
        "PEM names with struct_size 0" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["names->struct_size is 0"],
            |fx| {
                let mut names = crl_names(c"crl.pem");
                names.struct_size = 0;
                load_pem_dir(&fx.server, &fx.path("with-crl"), &names)
            };
        "CRL info with struct_size 0" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["info_out->struct_size is 0"],
            |fx| {
                let mut info = crl_info();
                info.struct_size = 0;
                on_ctx(&fx.server, unsafe { siptls_ctx_get_crl(fx.server.0, 0, &mut info) })
            };
        "expired-CRL policy out of range" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["policy: 2 is not one of the defined values"],
            |fx| on_ctx(&fx.server, unsafe { siptls_ctx_set_expired_crl_policy(fx.server.0, 2) });
    }
}

fn crl_names(crl: &'static CStr) -> siptls_pem_names {
    siptls_pem_names {
        struct_size: std::mem::size_of::<siptls_pem_names>() as u32,
        private_key: null(),
        certificate: null(),
        ca_list: null(),
        crl: crl.as_ptr(),
    }
}

fn trust_info() -> siptls_trust_entry_info {
    let mut info: siptls_trust_entry_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_trust_entry_info>() as u32;
    info
}

unsafe extern "C" fn never_signs(
    _: *mut std::ffi::c_void,
    _: u16,
    _: *const u8,
    _: usize,
    _: *mut u8,
    _: usize,
    _: *mut usize,
) -> u32 {
    0
}

/// A resolver configuration naming `nameserver`.
fn resolver_config(nameserver: *const c_char) -> siptls_resolver_config {
    siptls_resolver_config {
        struct_size: std::mem::size_of::<siptls_resolver_config>() as u32,
        timeout_ms: 100,
        attempts: 1,
        nameserver,
        query: None,
        random: None,
        userdata: null_mut(),
    }
}

/// Identity 5 from the server certificate and a `pkcs11:` URI as its key.
fn token_key(ctx: &Ctx, uri: &str) -> siptls_result {
    let cert = &pki().server.cert_pem;
    unsafe {
        siptls_ctx_add_identity_pem(ctx.0, 5, cert.as_ptr(), cert.len(), uri.as_ptr(), uri.len())
    }
}

/// A signer of `key_type`, with a callback or without.
fn signer(key_type: u32, with_callback: bool) -> siptls_signer {
    siptls_signer {
        struct_size: std::mem::size_of::<siptls_signer>() as u32,
        key_type,
        sign: with_callback.then_some(never_signs as _),
        userdata: null_mut(),
        flags: 0,
    }
}

fn expiry_info() -> siptls_expiry_info {
    let mut info: siptls_expiry_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_expiry_info>() as u32;
    info
}

fn replace_ca_list(ctx: &Ctx, list: &str) -> Got {
    let mut count = 99;
    let code =
        unsafe { siptls_ctx_replace_trust_list(ctx.0, list.as_ptr(), list.len(), 1, &mut count) };
    assert_eq!(count, 0, "a refused CA list reports no entries");
    on_ctx(ctx, code)
}

fn crl_info() -> siptls_crl_info {
    let mut info: siptls_crl_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_crl_info>() as u32;
    info
}

/// A root with the test root's name but its own key.
fn impostor_root() -> &'static Authority {
    static CA: OnceLock<Authority> = OnceLock::new();
    CA.get_or_init(|| Authority::root("siptls Test Root CA"))
}

/// A CRL of the test root's name, its signature garbage (the shape is
/// refused before any signature check): with or without its extensions
/// (CRL number), with or without nextUpdate.
fn hand_made_crl(extensions: bool, next_update: bool) -> Vec<u8> {
    let ecdsa_sha256 = der(
        0x30,
        &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let cn = [
        der(0x06, &[0x55, 0x04, 0x03]),
        der(0x0c, b"siptls Test Root CA"),
    ]
    .concat();
    let issuer = der(0x30, &der(0x31, &der(0x30, &cn)));
    let mut tbs = [ecdsa_sha256.clone(), issuer, der(0x17, b"260101000000Z")].concat();
    if next_update {
        tbs.extend(der(0x17, b"360101000000Z"));
    }
    if extensions {
        let crl_number = der(
            0x30,
            &[der(0x06, &[0x55, 0x1d, 0x14]), der(0x04, &der(0x02, &[7]))].concat(),
        );
        tbs = [der(0x02, &[1]), tbs, der(0xa0, &der(0x30, &crl_number))].concat();
    }
    der(
        0x30,
        &[der(0x30, &tbs), ecdsa_sha256, der(0x03, &[0, 0x30, 0x00])].concat(),
    )
}

fn session_cases() -> Vec<Case> {
    cases! {
        "client session without a peer name" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["needs the peer's SIP domain"],
            |fx| new_session(&fx.client, None);
        "server session with a peer name" => SIPTLS_ERR_INVALID_ARGUMENT, ["takes no peer name"],
            |fx| new_session(&fx.server, Some(c"gw-a.example.test"));
        "invalid peer name" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["'not a name!' is neither a valid domain name nor an IP address"],
            |fx| new_session(&fx.client, Some(c"not a name!"));
        "empty peer name" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["neither a valid domain name nor an IP address"],
            |fx| new_session(&fx.client, Some(c""));
        "non-UTF-8 peer name" => SIPTLS_ERR_INVALID_ARGUMENT, ["peer_name is not valid UTF-8"],
            |fx| unsafe { siptls_session_new(fx.client.0, c"gw-\xff".as_ptr(), &mut null_mut()) }
                .into();
        "server session without identity" => SIPTLS_ERR_NO_IDENTITY,
            ["certificate and private key"],
            |_| new_session(&Ctx::new(siptls_role::SIPTLS_ROLE_SERVER), None);
        "write before the handshake" => SIPTLS_ERR_WRONG_STATE, ["handshake is not complete"],
            |fx| {
                let c = Sess::client(&fx.client);
                on_sess(&c, c.write(b"INVITE").0)
            };
        "write after close" => SIPTLS_ERR_WRONG_STATE, ["close_notify was already queued"],
            |fx| {
                let (c, _s) = fx.connected();
                assert_eq!(c.close(), SIPTLS_OK);
                on_sess(&c, c.write(b"BYE").0)
            };
        "feed after the end of the transport took effect" => SIPTLS_ERR_WRONG_STATE, ["connection has ended"],
            |fx| {
                let s = fx.session();
                assert_eq!(unsafe { siptls_session_feed_eof(s.0) }, SIPTLS_OK);
                on_sess(&s, s.feed(&[0x16]).0)
            };
        "feed after the peer's close_notify" => SIPTLS_ERR_WRONG_STATE, ["connection has ended"],
            |fx| {
                let (c, s) = fx.connected();
                assert_eq!(c.close(), SIPTLS_OK);
                pump(&c, &s);
                assert_eq!(s.info().close_state, siptls_close_state::SIPTLS_CLOSE_CLEAN);
                on_sess(&s, s.feed(&[0x17, 0x03, 0x03, 0x00, 0x01, 0x00]).0)
            };
        "peer certificate past the chain's end" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["index 1", "holds 1 certificates"],
            |fx| {
                let (c, _s) = fx.connected();
                on_sess(&c, unsafe { siptls_session_get_peer_cert(c.0, 1, &mut null(), &mut 0) })
            };
        "peer certificate before the peer sent one" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["index 0", "holds 0 certificates"],
            |fx| {
                let s = fx.session();
                on_sess(&s, unsafe { siptls_session_get_peer_cert(s.0, 0, &mut null(), &mut 0) })
            };
        "plain SIP on the TLS port" => SIPTLS_ERR_TLS, ["not a well-formed TLS message"],
            |fx| {
                let s = fx.session();
                on_sess(&s, s.feed(b"OPTIONS sip:gw-b.example.test SIP/2.0\r\n\r\n").0)
            };
        "feeding a failed session" => SIPTLS_ERR_SESSION_FAILED,
            ["not a well-formed TLS message"],
            |fx| {
                let s = fx.session();
                assert_eq!(s.feed(b"GET / HTTP/1.1\r\n\r\n").0, SIPTLS_ERR_TLS);
                on_sess(&s, s.feed(b"more").0)
            };
    }
}

/// `call` on a framer with the default limits, freed afterwards.
fn on_framer(call: impl FnOnce(*mut siptls_framer) -> siptls_result) -> Got {
    let mut framer = null_mut();
    assert_eq!(unsafe { siptls_framer_new(null(), &mut framer) }, SIPTLS_OK);
    let code = call(framer);
    unsafe { siptls_framer_free(framer) };
    code.into()
}

/// `siptls_framer_take_event` into a fresh event struct.
unsafe fn framer_next(framer: *mut siptls_framer) -> (siptls_result, siptls_sip_event) {
    let mut event: siptls_sip_event = unsafe { std::mem::zeroed() };
    event.struct_size = std::mem::size_of::<siptls_sip_event>() as u32;
    (
        unsafe { siptls_framer_take_event(framer, &mut event) },
        event,
    )
}

/// `push` on a framer holding two messages, the first taken out: its
/// event's message (`first`, `len` bytes) starts the framer's buffer.
fn on_framer_after_a_message(
    push: impl FnOnce(*mut siptls_framer, *const u8, usize) -> siptls_result,
) -> Got {
    on_framer(|f| unsafe {
        let two = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n".repeat(2);
        assert_eq!(
            siptls_framer_push(f, two.as_ptr(), two.len(), &mut 0),
            SIPTLS_OK
        );
        let (code, event) = framer_next(f);
        assert_eq!(code, SIPTLS_OK);
        push(f, event.message, event.message_len)
    })
}

fn framer_limits(keepalive: u32, header_max: usize, body_max: usize, buffered_max: usize) -> Got {
    let limits = siptls_framer_limits {
        struct_size: std::mem::size_of::<siptls_framer_limits>() as u32,
        keepalive,
        header_max,
        body_max,
        buffered_max,
    };
    let mut framer = dangling_mut();
    let code = unsafe { siptls_framer_new(&limits, &mut framer) };
    assert!(framer.is_null(), "framer_out set on failure");
    code.into()
}

fn framer_and_pump_cases() -> Vec<Case> {
    cases! {
        "framer_new framer_out" => SIPTLS_ERR_NULL_ARGUMENT, ["framer_out is NULL"],
            |_| unsafe { siptls_framer_new(null(), null_mut()) }.into();
        "framer_new header_max under 16" => SIPTLS_ERR_INVALID_ARGUMENT, ["header_max 15 (at least 16)"],
            |_| framer_limits(0, 15, 0, 0);
        "framer_new body_max over buffered_max" => SIPTLS_ERR_INVALID_ARGUMENT, ["body_max 4096", "buffered_max 2048"],
            |_| framer_limits(0, 1024, 4096, 2048);
        "framer_new buffered_max under header_max" => SIPTLS_ERR_INVALID_ARGUMENT, ["buffered_max 512"],
            |_| framer_limits(0, 1024, 256, 512);
        "framer_new unknown keep-alive role" => SIPTLS_ERR_INVALID_ARGUMENT, ["limits->keepalive"],
            |_| framer_limits(9, 0, 0, 0);
        "framer_push framer" => SIPTLS_ERR_NULL_ARGUMENT, ["framer is NULL"],
            |_| unsafe { siptls_framer_push(null_mut(), X.as_ptr(), 1, &mut 0) }.into();
        "framer_push data" => SIPTLS_ERR_NULL_ARGUMENT, ["data is NULL"],
            |_| on_framer(|f| unsafe { siptls_framer_push(f, null(), 1, &mut 0) });
        "framer_push consumed_out" => SIPTLS_ERR_NULL_ARGUMENT, ["consumed_out is NULL"],
            |_| on_framer(|f| unsafe { siptls_framer_push(f, X.as_ptr(), 1, null_mut()) });
        "framer_next event_out" => SIPTLS_ERR_NULL_ARGUMENT, ["event_out is NULL"],
            |_| on_framer(|f| unsafe { siptls_framer_take_event(f, null_mut()) });
        "framer_next event struct_size 4" => SIPTLS_ERR_INVALID_ARGUMENT, ["event_out->struct_size is 4"],
            |_| on_framer(|f| {
                let mut event: siptls_sip_event = unsafe { std::mem::zeroed() };
                event.struct_size = 4;
                unsafe { siptls_framer_take_event(f, &mut event) }
            });
        "framer_take_pongs count_out" => SIPTLS_ERR_NULL_ARGUMENT, ["count_out is NULL"],
            |_| on_framer(|f| unsafe { siptls_framer_take_pongs(f, null_mut()) });
        "framer_push after a framing error" => SIPTLS_ERR_WRONG_STATE, ["framing"],
            |_| on_framer(|f| unsafe {
                let junk = b"NOT SIP\r\n\r\n";
                assert_eq!(siptls_framer_push(f, junk.as_ptr(), junk.len(), &mut 0), SIPTLS_OK);
                assert_eq!(framer_next(f).0, SIPTLS_ERR_SIP_MALFORMED);
                siptls_framer_push(f, X.as_ptr(), 1, &mut 0)
            });
        // Pushing moves the framer's buffer: bytes of it would move while read.
        "framer_push its own event's message" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["data overlaps the framer's own buffer", "copy the bytes into memory of your own first"],
            |_| on_framer_after_a_message(|f, first, len| unsafe {
                siptls_framer_push(f, first, len, &mut 0)
            });
        "framer_push from before its buffer into it" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["data overlaps the framer's own buffer", "copy the bytes"],
            |_| on_framer_after_a_message(|f, first, _| unsafe {
                siptls_framer_push(f, first.wrapping_sub(4), 8, &mut 0)
            });
        "framer_push from its buffer past the bytes held" => SIPTLS_ERR_INVALID_ARGUMENT,
            ["data overlaps the framer's own buffer", "copy the bytes"],
            |_| on_framer_after_a_message(|f, first, len| unsafe {
                siptls_framer_push(f, first.wrapping_add(2 * len - 4), 8, &mut 0)
            });
        "pump_fd negative fd" => SIPTLS_ERR_INVALID_ARGUMENT, ["fd -1 is not a descriptor"],
            |fx| {
                let s = fx.session();
                unsafe { siptls_session_pump_fd(s.0, -1, &mut 0) }.into()
            };
        "pump_fd events_out" => SIPTLS_ERR_NULL_ARGUMENT, ["events_out is NULL"],
            |fx| {
                let s = fx.session();
                unsafe { siptls_session_pump_fd(s.0, 0, null_mut()) }.into()
            };
        "get_events events_out" => SIPTLS_ERR_NULL_ARGUMENT, ["events_out is NULL"],
            |fx| {
                let s = fx.session();
                unsafe { siptls_session_get_events(s.0, null_mut()) }.into()
            };
        "get_events session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_get_events(null_mut(), &mut 0) }.into();
        "pump_fd session" => SIPTLS_ERR_NULL_ARGUMENT, ["session is NULL"],
            |_| unsafe { siptls_session_pump_fd(null_mut(), 0, &mut 0) }.into();
        "pump_io io" => SIPTLS_ERR_NULL_ARGUMENT, ["io is NULL"],
            |fx| {
                let s = fx.session();
                unsafe { siptls_session_pump_io(s.0, null(), &mut 0) }.into()
            };
        "pump_io without callbacks" => SIPTLS_ERR_NULL_ARGUMENT, ["io needs both recv and send"],
            |fx| {
                let s = fx.session();
                let io = siptls_io {
                    struct_size: std::mem::size_of::<siptls_io>() as u32,
                    userdata: null_mut(),
                    recv: None,
                    send: None,
                };
                unsafe { siptls_session_pump_io(s.0, &io, &mut 0) }.into()
            };
    }
}

fn catalogue() -> Vec<Case> {
    [
        null_cases(),
        length_and_range_cases(),
        file_cases(),
        pem_cases(),
        trust_cases(),
        crl_cases(),
        session_cases(),
        framer_and_pump_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn catalogue_of_bad_input() {
    let fx = Fx::new();
    fx.assert_unchanged("initial state");
    let cases = catalogue();
    assert_eq!(cases.len(), 323, "docs/testing.md counts the catalogue");
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        fx.poison_details();
        let got = (case.run)(&fx);
        let thread_detail = last_error();
        assert_eq!(
            got.code, case.code,
            "{}: detail '{thread_detail}'",
            case.name
        );
        for part in case.detail {
            assert!(
                thread_detail.contains(part),
                "{}: thread detail '{thread_detail}' lacks '{part}'",
                case.name
            );
            if let Some(own) = &got.own_detail {
                assert!(
                    own.contains(part),
                    "{}: object detail '{own}' lacks '{part}'",
                    case.name
                );
            }
        }
        fx.assert_unchanged(case.name);
    }
    eprintln!("{} bad-input cases passed", cases.len());
}

// ---------------------------------------------------------------------------
// Behaviour beyond one code and one detail.

#[test]
fn freeing_null_is_a_no_op() {
    unsafe {
        siptls_ctx_free(null_mut());
        siptls_session_free(null_mut());
        siptls_framer_free(null_mut());
    }
}

#[test]
fn unknown_numbers_get_static_fallback_text() {
    let text = |p: *const c_char| {
        assert!(!p.is_null());
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    };
    for number in [4, 99, 109, 209, 235, 265, 307, 1000, u32::MAX] {
        assert_eq!(
            text(siptls_result_str(number)),
            "unknown result code",
            "{number}"
        );
    }
    for number in [18, 100, u32::MAX] {
        assert_eq!(
            text(siptls_verify_status_str(number)),
            "UNKNOWN_STATUS",
            "{number}"
        );
    }
    assert_eq!(text(siptls_cipher_suite_str(0xFFFF)), "unknown");
    assert_eq!(
        text(siptls_result_str(SIPTLS_ERR_PEER_TOO_LARGE as u32)),
        "peer message or certificate chain too large"
    );
}

#[test]
fn last_error_into_a_small_buffer_truncates_and_keeps_the_detail() {
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    assert_eq!(ctx.trust(7, b"no certificate here"), SIPTLS_ERR_PEM_EMPTY);
    let full = last_error();
    assert!(full.contains("no CERTIFICATE section"), "{full}");

    let mut small = [0x55 as c_char; 10];
    let mut needed = 0usize;
    assert_eq!(
        unsafe { siptls_get_last_error(small.as_mut_ptr(), small.len(), &mut needed) },
        SIPTLS_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(needed, full.len());
    assert_eq!(
        unsafe { CStr::from_ptr(small.as_ptr()) }.to_str().unwrap(),
        &full[..9]
    );

    // Capacity 0 reports the size without writing anything.
    let mut untouched = [0x55 as c_char; 1];
    assert_eq!(
        unsafe { siptls_get_last_error(untouched.as_mut_ptr(), 0, &mut needed) },
        SIPTLS_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!((needed, untouched[0]), (full.len(), 0x55));

    // The too-small answers did not replace the detail being fetched.
    assert_eq!(last_error(), full);

    // Same contract for the context's and a session's copies.
    let mut small = [0 as c_char; 4];
    assert_eq!(
        unsafe { siptls_ctx_get_last_error(ctx.0, small.as_mut_ptr(), small.len(), &mut needed) },
        SIPTLS_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!((needed, ctx.last_error()), (full.len(), full.clone()));
    let session = Sess::server(&Ctx::server());
    assert_eq!(session.write(b"early").0, SIPTLS_ERR_WRONG_STATE);
    let detail = session.last_error();
    assert_eq!(
        unsafe {
            siptls_session_get_last_error(session.0, small.as_mut_ptr(), small.len(), &mut needed)
        },
        SIPTLS_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!((needed, session.last_error()), (detail.len(), detail));
}

/// siptls_ctx_get_last_error is "the detail text of the most recent failed call
/// on this context", including calls refused while their arguments are
/// checked (enum values, lengths, paths).
#[test]
fn ctx_last_error_reports_every_failed_call_on_the_context() {
    let ctx = Ctx::server();
    type Call = fn(&Ctx) -> siptls_result;
    let checks: [(&str, Call); 4] = [
        ("mode: 9", |ctx| unsafe {
            siptls_ctx_set_client_auth(ctx.0, 9)
        }),
        ("policy: 3", |ctx| unsafe {
            siptls_ctx_set_missing_crl_policy(ctx.0, 3)
        }),
        ("cert: length", |ctx| unsafe {
            siptls_ctx_add_trust(ctx.0, 7, X.as_ptr(), HUGE)
        }),
        ("path is an empty path", |ctx| unsafe {
            siptls_ctx_add_trust_file(ctx.0, c"".as_ptr(), 7, &mut 0)
        }),
    ];
    for (expected, call) in checks {
        // A load error first, so a stale detail is recognisable.
        assert_eq!(ctx.trust(7, b""), SIPTLS_ERR_PEM_EMPTY);
        assert_eq!(call(&ctx), SIPTLS_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains(expected), "{}", last_error());
        assert!(
            ctx.last_error().contains(expected),
            "siptls_ctx_get_last_error kept '{}' instead of '{expected}'",
            ctx.last_error()
        );
    }
}

/// A key file nobody may read. Root reads every file whatever its mode, and
/// CI runs as root, so there the check runs in a child process of this test
/// binary that has dropped to the unprivileged user `nobody`.
#[test]
fn unreadable_file_is_an_io_error() {
    const CHILD: &str = "SIPTLS_UNREADABLE_DIR";
    if let Some(dir) = std::env::var_os(CHILD) {
        let dir = Path::new(&dir);
        return load_unreadable_key(&dir.join("cert.pem"), &dir.join("key.pem"));
    }
    let dir = TempDir::new("unreadable");
    let key = dir.write("key.pem", &pki().server.key_pem);
    let cert = dir.write("cert.pem", &pki().server.cert_pem);
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    if unsafe { libc::geteuid() } != 0 {
        return load_unreadable_key(&cert, &key);
    }
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // A copy of this binary in the scratch directory, both open to nobody
    // whatever the checkout's permissions or the umask.
    let child = dir.0.join("child");
    std::fs::copy(std::env::current_exe().unwrap(), &child).unwrap();
    for (path, mode) in [(&dir.0, 0o755), (&child, 0o755), (&cert, 0o644)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let nobody = 65534;
    let out = std::process::Command::new(&child)
        .args(["--exact", "unreadable_file_is_an_io_error", "--nocapture"])
        .env(CHILD, &dir.0)
        .uid(nobody)
        .gid(nobody)
        .output()
        .expect("the test binary runs as nobody");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child as nobody failed:\n{log}");
    assert!(log.contains("1 passed"), "the child ran no test:\n{log}");
}

fn load_unreadable_key(cert: &Path, key: &Path) {
    assert_ne!(
        unsafe { libc::geteuid() },
        0,
        "root would read the key anyway"
    );
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let code = unsafe {
        siptls_ctx_load_identity_files(ctx.0, c_path(cert).as_ptr(), c_path(key).as_ptr())
    };
    assert_eq!(code, SIPTLS_ERR_IO);
    assert!(
        last_error().contains("key.pem: Permission denied"),
        "{}",
        last_error()
    );
}

#[test]
fn legacy_key_forms_load_and_serve() {
    let p = pki();
    let forms = [
        (
            "RSA PRIVATE KEY",
            Issued {
                key_pem: rsa_server().key_pkcs1_pem().unwrap(),
                ..rsa_server().clone()
            },
        ),
        (
            "EC PRIVATE KEY",
            Issued {
                key_pem: p.server.key_sec1_pem().unwrap(),
                ..p.server.clone()
            },
        ),
    ];
    for (label, identity) in forms {
        assert!(
            identity
                .key_pem
                .starts_with(&format!("-----BEGIN {label}-----")),
            "{}",
            identity.key_pem
        );
        let sctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &identity, &p.root);
        let cctx = Ctx::client();
        let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
        assert_handshake_ok(&client, &server);
        assert_eq!(peer_leaf(&client), identity.cert_der, "{label}");
    }
}

/// The CRL in the catalogue's all-or-nothing case is only meaningful if,
/// loaded on its own, it really shuts the fixture client out.
#[test]
fn the_catalogue_crl_revokes_the_fixture_client() {
    let fx = Fx::new();
    let mut added = 0;
    let crl = pki().root.crl(&[CLIENT_SERIAL], 9).pem;
    assert_eq!(
        unsafe { siptls_ctx_add_crl(fx.server.0, crl.as_ptr(), crl.len(), &mut added) },
        SIPTLS_OK
    );
    assert_eq!(added, 1);
    let (client, server) = (Sess::client(&fx.client), Sess::server(&fx.server));
    assert_eq!(pump(&client, &server).server, SIPTLS_ERR_CERT_REJECTED);
    assert_eq!(server.info().verify_status, SIPTLS_VERIFY_REVOKED);
}

/// The catalogue shows a refused directory keeps a working identity; a
/// server that had none must still have none (and no trust entries).
#[test]
fn refused_pem_dir_gives_no_identity_to_a_server_without_one() {
    let fx = Fx::new();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        load_pem_dir(&ctx, &fx.path("broken"), null()).code,
        SIPTLS_ERR_CERT_MALFORMED
    );
    assert!(
        ctx.last_error().contains("broken/CAList.pem"),
        "{}",
        ctx.last_error()
    );
    assert_eq!(
        Sess::new(&ctx, None).err(),
        Some(SIPTLS_ERR_NO_IDENTITY),
        "the identity was loaded anyway"
    );
    assert_eq!(ctx.trust_ids(), Vec::<u32>::new());
}

/// A CA list is refused whole: nothing from it lands in the table.
#[test]
fn refused_ca_lists_leave_the_table_as_it_was() {
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    let mut added = 0;
    let good = ca_list(10);
    assert_eq!(
        unsafe { siptls_ctx_add_trust_list(ctx.0, good.as_ptr(), good.len(), 1, &mut added) },
        SIPTLS_OK
    );
    assert_eq!(added, 10);
    let before = ctx.trust_ids();
    for list in [
        ca_list(7),
        [ca_list(2), garbage_cert_pem(), ca_list(2)].concat(),
    ] {
        let code =
            unsafe { siptls_ctx_add_trust_list(ctx.0, list.as_ptr(), list.len(), 100, &mut added) };
        assert_ne!(code, SIPTLS_OK);
        assert_eq!((added, ctx.trust_ids()), (0, before.clone()));
    }
}

// ---------------------------------------------------------------------------
// Garbage on the byte pump.

/// After a fatal error the session holds one alert record to send (returned),
/// then refuses everything but take with SIPTLS_ERR_SESSION_FAILED.
fn take_alert_of_failed(sess: &Sess, what: &str) -> Vec<u8> {
    assert!(sess.info().failed, "{what}: not marked failed");
    let mut record = [0u8; 64];
    let (code, n) = sess.take(&mut record);
    assert_eq!(code, SIPTLS_OK, "{what}: no alert queued");
    assert_eq!(
        sess.take(&mut record[n..]).0,
        SIPTLS_AGAIN,
        "{what}: more than one record queued"
    );
    assert_eq!(
        sess.feed(b"\x16\x03\x03").0,
        SIPTLS_ERR_SESSION_FAILED,
        "{what}: feed"
    );
    assert_eq!(
        sess.write(b"INVITE").0,
        SIPTLS_ERR_SESSION_FAILED,
        "{what}: write"
    );
    assert_eq!(
        sess.read(&mut [0u8; 16]).0,
        SIPTLS_ERR_SESSION_FAILED,
        "{what}: read"
    );
    assert!(
        !last_error().is_empty() && !last_error().contains("failed earlier"),
        "{what}: {}",
        last_error()
    );
    assert!(sess.info().failed);
    record[..n].to_vec()
}

/// A plaintext alert record (sent before any keys exist): fatal, with `description`.
fn assert_plain_alert(record: &[u8], description: u8) {
    assert_eq!(
        record,
        [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description],
        "{record:02x?}"
    );
}

#[test]
fn garbage_from_a_client_fails_a_fresh_server_with_an_alert() {
    let server = Sess::server(&Ctx::server());
    let (code, _) =
        server.feed(b"OPTIONS sip:gw-b.example.test SIP/2.0\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(code, SIPTLS_ERR_TLS, "{}", server.last_error());
    assert!(
        server
            .last_error()
            .contains("not a well-formed TLS message"),
        "{}",
        server.last_error()
    );
    // decode_error (50).
    assert_plain_alert(&take_alert_of_failed(&server, "fresh server"), 50);
}

#[test]
fn garbage_mid_handshake_fails_the_client_and_the_alert_reaches_the_server() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    let mut hello = vec![0u8; 4096];
    let (code, n) = client.take(&mut hello);
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(server.feed(&hello[..n]), (SIPTLS_OK, n));
    // A well-framed handshake record whose ServerHello is empty.
    let (code, _) = client.feed(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]);
    assert_eq!(code, SIPTLS_ERR_TLS, "{}", client.last_error());
    let alert = take_alert_of_failed(&client, "client mid-handshake");
    assert_plain_alert(&alert, 50);
    // The server learns why: the client's alert arrives as a fatal alert.
    assert_eq!(
        server.feed(&alert).0,
        SIPTLS_ERR_ALERT_RECEIVED,
        "{}",
        server.last_error()
    );
    assert_eq!(server.info().alert_received, 50);
}

#[test]
fn garbage_after_the_handshake_fails_with_a_decryption_error() {
    // TLS 1.3 hides an alert inside an application-data record; TLS 1.2 does not.
    for (version, outer_type) in [(SIPTLS_TLS13, 0x17), (SIPTLS_TLS12, 0x15)] {
        let (cctx, sctx) = (Ctx::client(), Ctx::server());
        assert_eq!(
            unsafe { siptls_ctx_set_versions(cctx.0, version, version) },
            SIPTLS_OK
        );
        let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
        assert_handshake_ok(&client, &server);
        let mut record = vec![0x17, 0x03, 0x03, 0x00, 0x20];
        record.extend((0..32u8).map(|i| i.wrapping_mul(37)));
        assert_eq!(
            server.feed(&record).0,
            SIPTLS_ERR_TLS,
            "{}",
            server.last_error()
        );
        assert!(
            server.last_error().contains("decrypt"),
            "{}",
            server.last_error()
        );
        let alert = take_alert_of_failed(&server, "established server");
        assert_eq!(alert[0], outer_type, "{version:#x}: {alert:02x?}");
        // The client decrypts it as bad_record_mac (20).
        assert_eq!(
            client.feed(&alert).0,
            SIPTLS_ERR_ALERT_RECEIVED,
            "{}",
            client.last_error()
        );
        assert_eq!(client.info().alert_received, 20);
    }
}

#[test]
fn truncated_ciphertext_is_buffered_until_the_rest_arrives() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    let mut hello = vec![0u8; 4096];
    let (_, n) = client.take(&mut hello);
    let (head, tail) = hello[..n].split_at(n / 2);
    assert_eq!(server.feed(head), (SIPTLS_OK, head.len()));
    let info = server.info();
    assert!(
        !info.failed && !info.wants_send,
        "half a ClientHello must only be buffered"
    );
    assert_eq!(server.take(&mut [0u8; 64]).0, SIPTLS_AGAIN);
    assert_eq!(server.feed(tail), (SIPTLS_OK, tail.len()));
    assert!(server.info().wants_send);
    assert_handshake_ok(&client, &server);
}

#[test]
fn reading_after_the_peer_closed_keeps_saying_so() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    assert_eq!(client.write(b"BYE").0, SIPTLS_OK);
    assert_eq!(client.close(), SIPTLS_OK);
    pump(&client, &server);
    let mut buf = [0u8; 16];
    assert_eq!(server.read(&mut buf), (SIPTLS_OK, 3));
    for _ in 0..3 {
        assert_eq!(server.read(&mut buf), (SIPTLS_PEER_CLOSED, 0));
    }
    // Also after the transport ends: the close was clean, not a truncation.
    assert_eq!(unsafe { siptls_session_feed_eof(server.0) }, SIPTLS_OK);
    assert_eq!(server.read(&mut buf), (SIPTLS_PEER_CLOSED, 0));
    assert_eq!(
        server.info().close_state,
        siptls_close_state::SIPTLS_CLOSE_CLEAN
    );
}

/// Details quote inputs; a NUL or newline in them must not cut the text a C
/// caller copies out, or forge a line in its log.
#[test]
fn control_characters_from_inputs_are_escaped_in_details() {
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    let pem = b"-----BEGIN CERT\0IFI\x1bCATE-----\nAAAA\n-----END CERT\0IFI\x1bCATE-----\n";
    assert_eq!(ctx.trust(1, pem), SIPTLS_ERR_PEM_EMPTY);
    let mut buf = [0 as std::ffi::c_char; 512];
    let mut len = 0usize;
    assert_eq!(
        unsafe { siptls_get_last_error(buf.as_mut_ptr(), buf.len(), &mut len) },
        SIPTLS_OK
    );
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap();
    assert_eq!(text.len(), len, "the text is cut short: {text:?}");
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.contains("CERT\\u{0}IFI\\u{1b}CATE"), "{text:?}");
}

/// Size-prefixed structs: an older, smaller struct is filled up to its
/// declared size and not a byte further; a larger one gets what this
/// library knows, and learns how much that was.
#[test]
fn sized_structs_are_written_up_to_their_declared_size_only() {
    let fx = Fx::new();
    let full = std::mem::size_of::<siptls_trust_entry_info>();
    for declared in [8usize, 12, 24, full, full + 100] {
        let mut buf = vec![0xAAu8; full + 200];
        buf[..4].copy_from_slice(&(declared as u32).to_ne_bytes());
        let code = unsafe { siptls_ctx_get_trust(fx.server.0, 1, buf.as_mut_ptr().cast()) };
        assert_eq!(code, SIPTLS_OK, "{declared}");
        let written = declared.min(full);
        assert_eq!(
            u32::from_ne_bytes(buf[..4].try_into().unwrap()) as usize,
            written,
            "struct_size reports what was written"
        );
        assert_eq!(
            u32::from_ne_bytes(buf[4..8].try_into().unwrap()),
            1,
            "trust_id"
        );
        assert!(
            buf[written..].iter().all(|&b| b == 0xAA),
            "{declared}: bytes past the declared size were written"
        );
    }
    // A session info from a program that knew only its first 16 bytes.
    let session = fx.session();
    let mut buf = vec![0xAAu8; std::mem::size_of::<siptls_session_info>()];
    buf[..4].copy_from_slice(&16u32.to_ne_bytes());
    assert_eq!(
        unsafe { siptls_session_get_info(session.0, buf.as_mut_ptr().cast()) },
        SIPTLS_OK
    );
    assert_eq!(
        u32::from_ne_bytes(buf[4..8].try_into().unwrap()),
        1,
        "role: server"
    );
    assert!(buf[16..].iter().all(|&b| b == 0xAA));
    let full = std::mem::size_of::<siptls_crl_info>();
    let mut buf = vec![0xAAu8; full];
    buf[..4].copy_from_slice(&16u32.to_ne_bytes());
    assert_eq!(
        unsafe { siptls_ctx_get_crl(fx.server.0, 0, buf.as_mut_ptr().cast()) },
        SIPTLS_OK
    );
    assert!(buf[16..].iter().all(|&b| b == 0xAA));
}
