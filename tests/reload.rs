//! Files that reload themselves, through the C ABI: `siptls_ctx_reload_if_changed`
//! on identity, CA list, CRL and ticket key files rewritten by the test:
//! changes found by content (the same second, the same size), nothing done
//! for an unchanged file, a key replaced before its certificate refused and
//! retried, one bad file keeping the whole old configuration, settings per
//! trust ID kept across a CA list reload, files set from memory no longer
//! watched, and hundreds of handshakes running while the files change.

mod common;
use common::log::Log;
use common::tempdir::TempDir;
use common::*;

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use siptls_certgen::Issued;

fn path_c(path: &Path) -> CString {
    CString::new(path.to_str().unwrap()).unwrap()
}

fn reload(ctx: &Ctx) -> (siptls_result, u32) {
    let mut flags = 99;
    let code = unsafe { siptls_ctx_reload_if_changed(ctx.0, &mut flags) };
    (code, flags)
}

/// Another server identity under the test root, for the same name.
fn other_server() -> &'static Issued {
    static OTHER: std::sync::OnceLock<Issued> = std::sync::OnceLock::new();
    OTHER.get_or_init(|| pki().root.sip_leaf(SERVER_NAME))
}

/// The leaf the server presented to a client that just completed its handshake.
fn served_leaf(client: &Sess) -> Vec<u8> {
    let (mut der, mut len) = (std::ptr::null(), 0);
    let code = unsafe { siptls_session_get_peer_cert(client.0, 0, &mut der, &mut len) };
    assert_eq!(code, SIPTLS_OK);
    unsafe { std::slice::from_raw_parts(der, len) }.to_vec()
}

/// A handshake of the standard client with `server`; the leaf it was shown.
fn handshake(client_ctx: &Ctx, server: &Ctx) -> Vec<u8> {
    let client = Sess::client(client_ctx);
    let server = Sess::server(server);
    assert_handshake_ok(&client, &server);
    served_leaf(&client)
}

struct Files {
    /// Removed with the files.
    _dir: TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn new(tag: &str, identity: &Issued) -> Files {
        let dir = TempDir::new(tag);
        let files = Files {
            cert: dir.0.join("publickey.pem"),
            key: dir.0.join("privateKey.pem"),
            _dir: dir,
        };
        files.put(identity);
        files
    }

    fn put(&self, identity: &Issued) {
        std::fs::write(&self.key, &identity.key_pem).unwrap();
        std::fs::write(&self.cert, &identity.cert_pem).unwrap();
    }

    /// A server context whose identity comes from these files.
    fn server(&self) -> Ctx {
        let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
        assert_eq!(
            ctx.trust(1, pki().root.issued().cert_pem.as_bytes()),
            SIPTLS_OK
        );
        let (cert, key) = (path_c(&self.cert), path_c(&self.key));
        let code = unsafe { siptls_ctx_load_identity_files(ctx.0, cert.as_ptr(), key.as_ptr()) };
        assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
        ctx
    }
}

#[test]
fn an_identity_reloads_when_its_files_change_and_not_otherwise() {
    let (a, b) = (&pki().server, other_server());
    let files = Files::new("reload-identity", a);
    let server = files.server();
    let client = Ctx::client();
    let log = Log::attach(&server, siptls_log_level::SIPTLS_LOG_DEBUG);
    assert_eq!(handshake(&client, &server), a.cert_der);
    let generation = server.generation();
    // Unchanged: nothing, and said so at DEBUG.
    assert_eq!(reload(&server), (SIPTLS_OK, 0));
    assert_eq!(server.generation(), generation);
    // Rewritten with the same bytes: still nothing.
    files.put(a);
    assert_eq!(reload(&server), (SIPTLS_OK, 0));
    // Another identity, at once (the same second): reloaded.
    files.put(b);
    assert_eq!(reload(&server), (SIPTLS_OK, SIPTLS_RELOADED_IDENTITIES));
    assert_eq!(server.generation(), generation + 1);
    assert_eq!(handshake(&client, &server), b.cert_der);
    assert_eq!(reload(&server), (SIPTLS_OK, 0), "remembered what it loaded");
    let c = server.counters();
    assert_eq!(
        (c.reloads_unchanged, c.reloads_applied, c.reloads_refused),
        (3, 1, 0)
    );
    let said = Log::of(&log.take(), siptls_log_event::SIPTLS_LOG_RELOAD);
    assert_eq!(said.len(), 4, "{said:?}");
    let applied: Vec<_> = said
        .iter()
        .filter(|s| s.level == siptls_log_level::SIPTLS_LOG_INFO)
        .collect();
    assert_eq!(applied.len(), 1);
    assert!(
        applied[0].message.contains("publickey.pem"),
        "{}",
        applied[0].message
    );
    for s in &said {
        assert_sentence(&s.message);
    }
    // One byte changed, the same length, the same second: found by content
    // (a byte of the signature: the certificate still parses and matches
    // its key).
    let mut text = std::fs::read_to_string(&files.cert).unwrap();
    let at = text.find("-----END").unwrap() - 6;
    let swapped = if &text[at..at + 1] == "A" { "B" } else { "A" };
    text.replace_range(at..at + 1, swapped);
    std::fs::write(&files.cert, &text).unwrap();
    assert_eq!(reload(&server), (SIPTLS_OK, SIPTLS_RELOADED_IDENTITIES));
    files.put(b);
    assert_eq!(reload(&server), (SIPTLS_OK, SIPTLS_RELOADED_IDENTITIES));
    assert_eq!(handshake(&client, &server), b.cert_der);
}

#[test]
fn a_key_replaced_before_its_certificate_is_refused_and_tried_again() {
    let (a, b) = (&pki().server, other_server());
    let files = Files::new("reload-two-steps", a);
    let server = files.server();
    let client = Ctx::client();
    let log = Log::attach(&server, siptls_log_level::SIPTLS_LOG_WARN);
    let generation = server.generation();
    // Step one: the new key, the old certificate.
    std::fs::write(&files.key, &b.key_pem).unwrap();
    assert_eq!(reload(&server), (SIPTLS_ERR_KEY_MISMATCH, 0));
    let detail = server.last_error();
    assert_sentence(&detail);
    for part in ["privateKey.pem", "tries again"] {
        assert!(detail.contains(part), "'{part}' in {detail}");
    }
    assert_eq!(server.generation(), generation, "nothing changed");
    assert_eq!(
        handshake(&client, &server),
        a.cert_der,
        "the old pair serves on"
    );
    let warned = Log::of(&log.take(), siptls_log_event::SIPTLS_LOG_RELOAD);
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0].level, siptls_log_level::SIPTLS_LOG_WARN);
    // Still half-done at the next call: refused again.
    assert_eq!(reload(&server).0, SIPTLS_ERR_KEY_MISMATCH);
    // Step two: the certificate. Now the pair loads.
    std::fs::write(&files.cert, &b.cert_pem).unwrap();
    assert_eq!(reload(&server), (SIPTLS_OK, SIPTLS_RELOADED_IDENTITIES));
    assert_eq!(handshake(&client, &server), b.cert_der);
    assert_eq!(server.counters().reloads_refused, 2);
    // A file gone: refused, naming it; the configuration stays.
    std::fs::remove_file(&files.cert).unwrap();
    assert_eq!(reload(&server), (SIPTLS_ERR_IO, 0));
    assert!(
        server.last_error().contains("publickey.pem"),
        "{}",
        server.last_error()
    );
    assert_eq!(handshake(&client, &server), b.cert_der);
}

/// The three-file directory with a CRL file, loaded by `siptls_ctx_load_pem_dir`.
struct Dir {
    dir: TempDir,
    ctx: Ctx,
}

impl Dir {
    fn new() -> Dir {
        let p = pki();
        let dir = TempDir::new("reload-dir");
        dir.write("privateKey.pem", &p.server.key_pem);
        dir.write("publickey.pem", &p.server.cert_pem);
        dir.write("CAList.pem", &p.root.issued().cert_pem);
        dir.write("root.crl", p.root.crl(&[], 1).pem);
        let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
        let names = siptls_pem_names {
            struct_size: std::mem::size_of::<siptls_pem_names>() as u32,
            private_key: std::ptr::null(),
            certificate: std::ptr::null(),
            ca_list: std::ptr::null(),
            crl: c"root.crl".as_ptr(),
        };
        let path = path_c(&dir.0);
        let code = unsafe { siptls_ctx_load_pem_dir(ctx.0, path.as_ptr(), &names, 1, &mut 0) };
        assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
        Dir { dir, ctx }
    }

    fn trust_ids(&self) -> Vec<u32> {
        self.ctx.trust_ids()
    }
}

#[test]
fn one_file_that_does_not_load_keeps_the_whole_old_configuration() {
    let d = Dir::new();
    let second = Authority::root("Reload Second CA");
    let two = format!(
        "{}{}",
        pki().root.issued().cert_pem,
        second.issued().cert_pem
    );
    let generation = d.ctx.generation();
    // A good CA list and a half-written CRL: neither is applied.
    d.dir.write("CAList.pem", &two);
    let crl = pki().root.crl(&[7], 2).pem;
    d.dir.write("root.crl", &crl[..crl.len() / 2]);
    let (code, flags) = reload(&d.ctx);
    assert_ne!(code, SIPTLS_OK);
    assert_eq!(flags, 0);
    assert!(
        d.ctx.last_error().contains("root.crl"),
        "{}",
        d.ctx.last_error()
    );
    assert_eq!(d.trust_ids(), [1], "the old trust table, whole");
    assert_eq!(d.ctx.generation(), generation);
    // The CRL written whole: both load, in one generation.
    d.dir.write("root.crl", &crl);
    assert_eq!(
        reload(&d.ctx),
        (SIPTLS_OK, SIPTLS_RELOADED_TRUST | SIPTLS_RELOADED_CRLS)
    );
    assert_eq!(d.trust_ids(), [1, 2]);
    assert_eq!(d.ctx.generation(), generation + 1);
    // An older CRL is no refresh: refused.
    d.dir.write("root.crl", pki().root.crl(&[], 1).pem);
    assert_eq!(reload(&d.ctx).0, SIPTLS_ERR_CRL_NOT_NEWER);
}

#[test]
fn settings_per_trust_id_stay_across_a_ca_list_reload() {
    let d = Dir::new();
    let code = unsafe { siptls_ctx_set_trust_sip_domain(d.ctx.0, 1, c"example.test".as_ptr()) };
    assert_eq!(code, SIPTLS_OK);
    let code = unsafe {
        siptls_ctx_set_trust_eku_policy(d.ctx.0, 1, siptls_eku_policy::SIPTLS_EKU_STRICT as u32)
    };
    assert_eq!(code, SIPTLS_OK);
    let second = Authority::root("Reload Kept CA");
    d.dir.write(
        "CAList.pem",
        format!(
            "{}{}",
            pki().root.issued().cert_pem,
            second.issued().cert_pem
        ),
    );
    assert_eq!(reload(&d.ctx), (SIPTLS_OK, SIPTLS_RELOADED_TRUST));
    let mut info: siptls_trust_entry_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_trust_entry_info>() as u32;
    assert_eq!(
        unsafe { siptls_ctx_get_trust(d.ctx.0, 1, &mut info) },
        SIPTLS_OK
    );
    let domain = unsafe { std::ffi::CStr::from_ptr(info.sip_domain.as_ptr()) };
    assert_eq!(domain.to_str().unwrap(), "example.test");
    assert_eq!(info.eku_policy, siptls_eku_policy::SIPTLS_EKU_STRICT as u32);
    // The list shrinks: the entry it no longer holds goes.
    d.dir.write("CAList.pem", &second.issued().cert_pem);
    assert_eq!(reload(&d.ctx), (SIPTLS_OK, SIPTLS_RELOADED_TRUST));
    assert_eq!(d.trust_ids(), [1]);
}

#[test]
fn what_is_set_from_memory_is_no_longer_watched() {
    let d = Dir::new();
    let p = pki();
    // The identity from memory, the trust table from memory, CRLs cleared.
    assert_eq!(
        d.ctx.set_identity(&p.server.cert_pem, &p.server.key_pem),
        SIPTLS_OK
    );
    let list = p.root.issued().cert_pem.as_bytes();
    let code =
        unsafe { siptls_ctx_replace_trust_list(d.ctx.0, list.as_ptr(), list.len(), 1, &mut 0) };
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(unsafe { siptls_ctx_clear_crls(d.ctx.0) }, SIPTLS_OK);
    for file in ["privateKey.pem", "publickey.pem", "CAList.pem", "root.crl"] {
        std::fs::remove_file(d.dir.0.join(file)).unwrap();
    }
    assert_eq!(reload(&d.ctx), (SIPTLS_OK, 0), "{}", d.ctx.last_error());
}

#[test]
fn ticket_keys_reload_from_their_file() {
    let dir = TempDir::new("reload-tickets");
    let keys = dir.write("tickets.keys", format!("{}\n", "ab".repeat(32)));
    let server = Ctx::server();
    let path = path_c(&keys);
    let code = unsafe { siptls_ctx_load_ticket_key_file(server.0, path.as_ptr(), &mut 0) };
    assert_eq!(code, SIPTLS_OK, "{}", server.last_error());
    assert_eq!(reload(&server), (SIPTLS_OK, 0));
    std::fs::write(&keys, format!("{}\n{}\n", "cd".repeat(32), "ab".repeat(32))).unwrap();
    assert_eq!(reload(&server), (SIPTLS_OK, SIPTLS_RELOADED_TICKET_KEYS));
    std::fs::write(&keys, "not hex\n").unwrap();
    let (code, flags) = reload(&server);
    assert_ne!(code, SIPTLS_OK);
    assert_eq!(flags, 0);
    assert!(
        server.last_error().contains("tickets.keys"),
        "{}",
        server.last_error()
    );
}

#[test]
fn files_replaced_under_load_never_fail_a_handshake_or_mix_two_identities() {
    let (a, b) = (&pki().server, other_server());
    let files = Files::new("reload-load", a);
    let server = Arc::new(files.server());
    let client = Arc::new(Ctx::client());
    let stop = Arc::new(AtomicBool::new(false));
    let (saw_a, saw_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (server, client, stop) = (server.clone(), client.clone(), stop.clone());
            let (saw_a, saw_b) = (saw_a.clone(), saw_b.clone());
            std::thread::spawn(move || {
                let mut done = 0;
                while !stop.load(Ordering::Relaxed) || done < 150 {
                    let leaf = handshake(&client, &server);
                    if leaf == pki().server.cert_der {
                        saw_a.fetch_add(1, Ordering::Relaxed);
                    } else {
                        assert_eq!(leaf, other_server().cert_der, "one identity or the other");
                        saw_b.fetch_add(1, Ordering::Relaxed);
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    // Forty replacements, each in two steps with a reload between them.
    let mut applied = 0;
    for round in 0..40 {
        let next = if round % 2 == 0 { b } else { a };
        std::fs::write(&files.key, &next.key_pem).unwrap();
        let (code, _) = reload(&server);
        assert!(
            code == SIPTLS_ERR_KEY_MISMATCH || code == SIPTLS_OK,
            "{code:?}"
        );
        std::fs::write(&files.cert, &next.cert_pem).unwrap();
        let (code, flags) = reload(&server);
        assert_eq!(code, SIPTLS_OK, "{}", server.last_error());
        applied += usize::from(flags == SIPTLS_RELOADED_IDENTITIES);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let handshakes: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(handshakes >= 300, "{handshakes} handshakes");
    assert_eq!(applied, 40);
    assert!(saw_a.load(Ordering::Relaxed) > 0 && saw_b.load(Ordering::Relaxed) > 0);
    assert_eq!(server.counters().handshakes_failed, 0);
    drop(files);
}
