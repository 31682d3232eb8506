//! The whole C API as a sequence of calls in an order the fuzzer picks:
//! contexts and sessions created, configured, reloaded, pumped, read,
//! written, closed and freed, misuse included (a session used after its
//! context was freed, a read before the handshake, a reload mid-handshake,
//! a free while a peer still sends).
//!
//! Input: a list of `[op][arg]` pairs, then blobs `[u16 big-endian
//! length][bytes]` where an op takes one. Slots: two contexts, four
//! sessions. op % 16:
//!   0 ctx_new(slot arg&1, role arg>>1&1) · 1 ctx_free(slot)
//!   2 set_identity_pem(the role's real identity) · 3 trust_add(root, ID arg)
//!   4 load_pem_dir(good or broken directory, by arg) · 5 trust_replace_ca_list(blob)
//!   6 add_crl(real, or blob) · 7 a setting (missing/expired CRL, client auth,
//!     depth, CRL clear; resumption on/off, session cache, TLS 1.3 tickets,
//!     ticket keys shared by the two contexts, ticket lifetime; profile,
//!     versions, trust entry removed; EKU policy, a trust entry's EKU
//!     policy, reload_if_changed, expiry warning thresholds and list). Settings, reloads and CRLs between a
//!     session's creation and its handshake reach it (configuration binds
//!     at the ClientHello and at verification).
//!   8 session_new(session slot, context slot) · 9 session_free(slot)
//!   10 pump two sessions (chunk size from arg) · 11 write(slot, blob)
//!   12 read(slot, capacity from arg) · 13 close or transport_closed(slot)
//!   14 get_info(slot) · 15 feed(slot, blob)
//!
//! Asserted on every call: no PANIC, only documented result codes, outputs
//! set as the conventions say; AddressSanitizer watches the memory.
#![no_main]

use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use siptls_fuzz::*;

const CONTEXTS: usize = 2;
const SESSIONS: usize = 4;

thread_local! {
    /// Set when the one known rustls debug assertion fired (see below).
    static KNOWN_RUSTLS_ASSERT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// rustls 0.23 debug-asserts (`!self.sent_fatal_alert`) when a peer's
/// protocol error follows our close_notify; release builds send the alert,
/// and siptls's own builds switch that assertion off. Fuzz builds force debug
/// assertions on for every crate, so this hook lets that one assertion reach
/// siptls's panic boundary instead of aborting, and `checked` accepts its
/// PANIC code once. Every other panic still goes to libFuzzer.
fn tolerate_known_rustls_assertion() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let known = info.location().is_some_and(|l| {
                l.file().contains("rustls-0.23") && l.file().ends_with("common_state.rs")
            }) && info.to_string().contains("!self.sent_fatal_alert");
            if known {
                KNOWN_RUSTLS_ASSERT.with(|flag| flag.set(true));
            } else {
                fuzzer_hook(info);
            }
        }));
    });
}

/// Every call's code: documented, and never a caught panic (but the one above).
#[track_caller]
fn checked(what: &str, code: siptls_result) -> siptls_result {
    assert!(
        is_documented(code),
        "{what}: undocumented result code {}",
        code_number(code)
    );
    let known = KNOWN_RUSTLS_ASSERT.with(|flag| flag.replace(false));
    if !known {
        assert_ne!(
            code,
            SIPTLS_ERR_PANIC,
            "{what}: internal panic: {}",
            last_error()
        );
    }
    code
}

/// Three-file directories: `good` (the process PKI's server) and `broken`
/// (its CA list ends in garbage), made once per process.
fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("siptls-fuzz-api-{}", std::process::id()));
        let p = pki();
        let ca = p.root.issued().cert_pem.clone();
        for (name, ca_list) in [
            ("good", ca.clone()),
            (
                "broken",
                format!("{ca}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            ),
        ] {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).expect("fuzz scratch directory");
            std::fs::write(dir.join("privateKey.pem"), &p.server.key_pem).unwrap();
            std::fs::write(dir.join("publickey.pem"), &p.server.cert_pem).unwrap();
            std::fs::write(dir.join("CAList.pem"), ca_list).unwrap();
        }
        (base.join("good"), base.join("broken"))
    })
}

struct World {
    ctxs: [Option<(*mut siptls_ctx, siptls_role)>; CONTEXTS],
    sessions: [Option<*mut siptls_session>; SESSIONS],
}

impl Drop for World {
    fn drop(&mut self) {
        for s in self.sessions.iter_mut().filter_map(Option::take) {
            unsafe { siptls_session_free(s) };
        }
        for (c, _) in self.ctxs.iter_mut().filter_map(Option::take) {
            unsafe { siptls_ctx_free(c) };
        }
    }
}

impl World {
    fn ctx(&self, arg: u8) -> Option<(*mut siptls_ctx, siptls_role)> {
        self.ctxs[usize::from(arg) % CONTEXTS]
    }

    fn session(&self, arg: u8) -> Option<*mut siptls_session> {
        self.sessions[usize::from(arg) % SESSIONS]
    }

    fn step(&mut self, op: u8, arg: u8, input: &mut Input<'_>) {
        let p = pki();
        match op % 16 {
            0 => {
                let slot = usize::from(arg) % CONTEXTS;
                if let Some((old, _)) = self.ctxs[slot].take() {
                    unsafe { siptls_ctx_free(old) };
                }
                let role = if arg & 2 == 0 {
                    siptls_role::SIPTLS_ROLE_CLIENT
                } else {
                    siptls_role::SIPTLS_ROLE_SERVER
                };
                let mut ctx = null_mut();
                assert_eq!(
                    checked("ctx_new", unsafe { siptls_ctx_new(role as u32, &mut ctx) }),
                    SIPTLS_OK
                );
                self.ctxs[slot] = Some((ctx, role));
            }
            // Sessions made from it keep working: that is the point of this op.
            1 => {
                if let Some((ctx, _)) = self.ctxs[usize::from(arg) % CONTEXTS].take() {
                    unsafe { siptls_ctx_free(ctx) };
                }
            }
            2 => {
                let Some((ctx, role)) = self.ctx(arg) else {
                    return;
                };
                let id = match role {
                    siptls_role::SIPTLS_ROLE_CLIENT => &p.client,
                    siptls_role::SIPTLS_ROLE_SERVER => &p.server,
                };
                let (cert, key) = (&id.cert_pem, &id.key_pem);
                checked("set_identity_pem", unsafe {
                    siptls_ctx_set_identity_pem(
                        ctx,
                        cert.as_ptr(),
                        cert.len(),
                        key.as_ptr(),
                        key.len(),
                    )
                });
            }
            3 => {
                let Some((ctx, _)) = self.ctx(arg) else {
                    return;
                };
                let root = &p.root.issued().cert_pem;
                checked("trust_add", unsafe {
                    siptls_ctx_add_trust(ctx, u32::from(arg >> 1), root.as_ptr(), root.len())
                });
            }
            4 => {
                let Some((ctx, _)) = self.ctx(arg) else {
                    return;
                };
                let (good, broken) = dirs();
                let dir = if arg & 2 == 0 { good } else { broken };
                let dir = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
                let mut count = usize::MAX;
                let code = checked("load_pem_dir", unsafe {
                    siptls_ctx_load_pem_dir(ctx, dir.as_ptr(), null(), 1, &mut count)
                });
                assert_eq!(count, usize::from(code == SIPTLS_OK), "load_pem_dir count");
            }
            5 => {
                let Some((ctx, _)) = self.ctx(arg) else {
                    return;
                };
                let blob = input.blob();
                let mut count = usize::MAX;
                let code = checked("trust_replace_ca_list", unsafe {
                    siptls_ctx_replace_trust_list(ctx, blob.as_ptr(), blob.len(), 1, &mut count)
                });
                if code != SIPTLS_OK {
                    assert_eq!(count, 0, "a failed replace reports entries");
                }
            }
            6 => {
                let Some((ctx, _)) = self.ctx(arg) else {
                    return;
                };
                let crl: &[u8] = if arg & 2 == 0 {
                    p.crl.pem.as_bytes()
                } else {
                    input.blob()
                };
                let mut added = usize::MAX;
                let code = checked("add_crl", unsafe {
                    siptls_ctx_add_crl(ctx, crl.as_ptr(), crl.len(), &mut added)
                });
                if code != SIPTLS_OK {
                    assert_eq!(added, 0, "a failed add_crl reports CRLs");
                }
            }
            7 => {
                let Some((ctx, _)) = self.ctx(arg) else {
                    return;
                };
                let value = u32::from(arg >> 3);
                // Two key sets sharing a key: contexts given either resume
                // each other's sessions, in one direction.
                const KEYS: [&str; 2] = [
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
                    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n\
                     00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
                ];
                let code = unsafe {
                    match (arg >> 1) % 16 {
                        0 => siptls_ctx_set_missing_crl_policy(ctx, value % 3),
                        1 => siptls_ctx_set_expired_crl_policy(ctx, value % 3),
                        2 => siptls_ctx_set_client_auth(ctx, value % 4),
                        3 => siptls_ctx_set_max_ca_depth(ctx, value % 9),
                        4 => siptls_ctx_clear_crls(ctx),
                        5 => siptls_ctx_set_resumption(ctx, value & 1 == 1),
                        6 => siptls_ctx_set_session_cache_size(ctx, value % 3 * 8),
                        7 => siptls_ctx_set_tls13_tickets(ctx, value % 10),
                        8 => {
                            let keys = KEYS[usize::from(value & 1 == 1)];
                            let mut count = u32::MAX;
                            let code = siptls_ctx_set_ticket_keys(
                                ctx,
                                keys.as_ptr(),
                                keys.len(),
                                &mut count,
                            );
                            let expected = if code == SIPTLS_OK {
                                (value & 1) + 1
                            } else {
                                0
                            };
                            assert_eq!(count, expected, "set_ticket_keys count");
                            code
                        }
                        9 => siptls_ctx_set_ticket_lifetime(ctx, value * 60),
                        10 => siptls_ctx_set_profile(ctx, value % 4),
                        12 => siptls_ctx_set_eku_policy(ctx, value % 5),
                        13 => siptls_ctx_set_trust_eku_policy(ctx, value % 3, value % 5),
                        14 => {
                            // The directory loaded by op 4 may be watched.
                            let mut reloaded = u32::MAX;
                            let code = siptls_ctx_reload_if_changed(ctx, &mut reloaded);
                            assert!(reloaded & !31 == 0, "reload flags {reloaded}");
                            assert!(code == SIPTLS_OK || reloaded == 0, "flags on a refusal");
                            code
                        }
                        15 => {
                            let code = siptls_ctx_set_expiry_warning(ctx, value * 3600, value);
                            let mut count = usize::MAX;
                            checked("count_expiries", siptls_ctx_count_expiries(ctx, &mut count));
                            assert!(count < 64, "{count} things expire");
                            code
                        }
                        _ => {
                            const VERSIONS: [(u16, u16); 4] = [
                                (SIPTLS_TLS12, SIPTLS_TLS13),
                                (SIPTLS_TLS12, SIPTLS_TLS12),
                                (SIPTLS_TLS13, SIPTLS_TLS13),
                                (SIPTLS_TLS13, SIPTLS_TLS12),
                            ];
                            match VERSIONS.get(usize::try_from(value).unwrap_or(0) % 5) {
                                Some(&(min, max)) => siptls_ctx_set_versions(ctx, min, max),
                                None => siptls_ctx_remove_trust(ctx, 0),
                            }
                        }
                    }
                };
                checked("a policy setting", code);
            }
            8 => {
                let Some((ctx, role)) = self.ctx(arg >> 2) else {
                    return;
                };
                let slot = usize::from(arg) % SESSIONS;
                if let Some(old) = self.sessions[slot].take() {
                    unsafe { siptls_session_free(old) };
                }
                let name =
                    (role == siptls_role::SIPTLS_ROLE_CLIENT).then_some(c"gw-b.example.test");
                let mut session = null_mut();
                let code = checked("session_new", unsafe {
                    siptls_session_new(ctx, name.map_or(null(), |n| n.as_ptr()), &mut session)
                });
                assert_eq!(code == SIPTLS_OK, !session.is_null(), "session_new output");
                self.sessions[slot] = (code == SIPTLS_OK).then_some(session);
            }
            9 => {
                if let Some(s) = self.sessions[usize::from(arg) % SESSIONS].take() {
                    unsafe { siptls_session_free(s) };
                }
            }
            10 => {
                let (a, b) = (self.session(arg), self.session(arg >> 2));
                let (Some(a), Some(b)) = (a, b) else { return };
                if a == b {
                    return;
                }
                let cap = 1 + usize::from(arg >> 4) * 1024;
                let mut buf = vec![0u8; cap];
                for _ in 0..64 {
                    let mut moved = false;
                    for (from, to) in [(a, b), (b, a)] {
                        let mut n = usize::MAX;
                        let code = checked("take", unsafe {
                            siptls_session_take(from, buf.as_mut_ptr(), cap, &mut n)
                        });
                        assert!(n <= cap, "take wrote past its buffer");
                        if code != SIPTLS_OK || n == 0 {
                            continue;
                        }
                        moved = true;
                        let mut used = usize::MAX;
                        checked("feed", unsafe {
                            siptls_session_feed(to, buf.as_ptr(), n, &mut used)
                        });
                        assert!(used <= n, "feed consumed more than given");
                    }
                    if !moved {
                        break;
                    }
                }
            }
            11 => {
                let Some(s) = self.session(arg) else { return };
                let data = input.blob();
                let mut accepted = usize::MAX;
                checked("write", unsafe {
                    siptls_session_write(s, data.as_ptr(), data.len(), &mut accepted)
                });
                assert!(accepted <= data.len());
            }
            12 => {
                let Some(s) = self.session(arg) else { return };
                let cap = usize::from(arg >> 2) * 512;
                let mut buf = vec![0u8; cap.max(1)];
                let mut n = usize::MAX;
                let ptr = if cap == 0 {
                    null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                checked("read", unsafe { siptls_session_read(s, ptr, cap, &mut n) });
                assert!(n <= cap, "read wrote past its buffer");
            }
            13 => {
                let Some(s) = self.session(arg) else { return };
                let code = unsafe {
                    if arg & 4 == 0 {
                        siptls_session_close(s)
                    } else {
                        siptls_session_feed_eof(s)
                    }
                };
                checked("close / transport_closed", code);
            }
            14 => {
                let Some(s) = self.session(arg) else { return };
                // Sometimes an older, smaller struct: nothing past it is written.
                let full = std::mem::size_of::<siptls_session_info>();
                let declared = if arg & 4 == 0 { full } else { 16 };
                let mut bytes = vec![0xA5u8; full];
                bytes[..4].copy_from_slice(&(declared as u32).to_ne_bytes());
                let code = checked("get_info", unsafe {
                    siptls_session_get_info(s, bytes.as_mut_ptr().cast())
                });
                assert_eq!(code, SIPTLS_OK, "get_info on a live, idle session");
                assert_eq!(
                    u32::from_ne_bytes(bytes[..4].try_into().unwrap()) as usize,
                    declared
                );
                assert!(
                    bytes[declared..].iter().all(|&b| b == 0xA5),
                    "get_info wrote past struct_size"
                );
            }
            _ => {
                let Some(s) = self.session(arg) else { return };
                let data = input.blob();
                let mut used = usize::MAX;
                let ptr = if data.is_empty() {
                    null()
                } else {
                    data.as_ptr()
                };
                checked("feed", unsafe {
                    siptls_session_feed(s, ptr, data.len(), &mut used)
                });
                assert!(used <= data.len(), "feed consumed more than given");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    tolerate_known_rustls_assertion();
    let mut input = Input::new(data);
    let mut world = World {
        ctxs: [None; CONTEXTS],
        sessions: [None; SESSIONS],
    };
    for _ in 0..48 {
        if input.is_empty() {
            break;
        }
        let op = input.byte();
        let arg = input.byte();
        world.step(op, arg, &mut input);
    }
});
