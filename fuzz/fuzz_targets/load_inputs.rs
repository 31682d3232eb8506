//! Arbitrary bytes as the PEM/DER a gateway loads: identity certificate and
//! key, trust entries, CA lists and CRLs.
//!
//! Input format: byte 0 picks the mode.
//!
//! * bit 7 clear, "whole": the rest goes, unchanged, to every loader of a
//!   fresh context (bit 0: 0 client, 1 server) that already trusts the
//!   process's root as trust ID 1: `trust_add` (PEM or DER, trust ID from
//!   bits 1-6), `trust_load_ca_list`, `add_crl`, and `set_identity_pem` as
//!   (input, input), (input, real key) and (real certificate, input), and
//!   `set_ocsp_response` of the input for the real server identity.
//! * bit 7 set, "script": the rest is a list of commands on one fresh
//!   context (bit 0 the role), each `[op][arg]` then blobs of
//!   `[u16 big-endian length][bytes]`:
//!   op % 10 = 0 set_identity_pem(blob, blob) · 1 trust_add(arg, blob) ·
//!   2 trust_load_ca_list(blob, first ID arg) · 3 add_crl(blob) ·
//!   4 trust_remove(arg) · 5 trust_set_sip_domain(arg, blob as C string,
//!   NULL when empty) · 6 session_new(peer name = blob as C string) ·
//!   7 load real material number `arg` (see `REAL`) ·
//!   8 trust_replace_ca_list(blob, first ID arg) ·
//!   9 CRLs: arg even, remove the issuer named by blob; odd, clear.
//!
//! Asserted: every code is one the call documents (never PANIC); a failed
//! load leaves the trust list, the CRL list and the configuration
//! generation unchanged; a successful one changes them exactly as
//! documented; the list stays sorted, unique and at most 16 long. (One CRL
//! per issuer is by DER name, which the listing does not show: two issuers
//! may print alike, so that rule is tested in tests/trust_lifecycle.rs.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use siptls_fuzz::*;

const LOAD_CODES: &[siptls_result] = &[
    SIPTLS_ERR_PEM_EMPTY,
    SIPTLS_ERR_PEM_MALFORMED,
    SIPTLS_ERR_CERT_MALFORMED,
];

fn allowed(extra: &[siptls_result]) -> Vec<siptls_result> {
    let mut all = vec![SIPTLS_OK, SIPTLS_ERR_CONFIG];
    all.extend_from_slice(LOAD_CODES);
    all.extend_from_slice(extra);
    all
}

fn set_identity(ctx: &Ctx, role: siptls_role, cert: &[u8], key: &[u8]) {
    let before = ctx.trust_ids();
    let code = ctx.set_identity(cert, key);
    expect_code(
        "set_identity_pem",
        code,
        &allowed(&[
            SIPTLS_ERR_KEY_MALFORMED,
            SIPTLS_ERR_KEY_ENCRYPTED,
            SIPTLS_ERR_KEY_UNSUPPORTED,
            SIPTLS_ERR_KEY_MISMATCH,
            // Key text that is a pkcs11: URI line: refused as a URI, or
            // by the module, token, login or object it names.
            SIPTLS_ERR_PKCS11_URI,
            SIPTLS_ERR_PKCS11_MODULE,
            SIPTLS_ERR_PKCS11_TOKEN,
            SIPTLS_ERR_PKCS11_LOGIN,
            SIPTLS_ERR_PKCS11_OBJECT,
            SIPTLS_ERR_NOT_BUILT,
        ]),
    );
    assert_eq!(
        ctx.trust_ids(),
        before,
        "set_identity_pem changed the trust list"
    );
    if code == SIPTLS_OK && role == siptls_role::SIPTLS_ROLE_SERVER {
        // A server with an identity accepts sessions.
        new_session(ctx, role, None, true);
    }
}

/// What the trust-table loads may refuse with, besides the common codes.
const TRUST_LOAD_ERRORS: &[siptls_result] = &[
    SIPTLS_ERR_INVALID_ARGUMENT,
    SIPTLS_ERR_TRUST_TABLE_FULL,
    SIPTLS_ERR_TRUST_DUPLICATE_ID,
];

/// A successful load leaves the trust list as `before` plus `new_ids`, none
/// of which was there; a failed one leaves it unchanged.
fn assert_trust_load(
    what: &str,
    code: siptls_result,
    before: &[u32],
    after: &[u32],
    new_ids: impl IntoIterator<Item = u32>,
) {
    if code == SIPTLS_OK {
        let mut expected = before.to_vec();
        for id in new_ids {
            assert!(!expected.contains(&id), "{what} reused trust ID {id}");
            expected.push(id);
        }
        expected.sort_unstable();
        assert_eq!(after, expected, "{what} OK");
    } else {
        assert_eq!(
            after, before,
            "failed {what} ({code:?}) changed the trust list"
        );
    }
}

fn trust_add(ctx: &Ctx, id: u32, cert: &[u8]) {
    let before = ctx.trust_ids();
    let code = ctx.trust_add(id, cert);
    expect_code("trust_add", code, &allowed(TRUST_LOAD_ERRORS));
    assert_trust_load("trust_add", code, &before, &ctx.trust_ids(), [id]);
    if code == SIPTLS_ERR_TRUST_DUPLICATE_ID {
        assert!(before.contains(&id));
    }
    if code == SIPTLS_ERR_TRUST_TABLE_FULL {
        assert_eq!(before.len(), SIPTLS_MAX_TRUST_ENTRIES);
    }
}

fn load_ca_list(ctx: &Ctx, pem: &[u8], first: u32) {
    let before = ctx.trust_ids();
    let (code, added) = ctx.trust_load_ca_list(pem, first);
    expect_code("trust_load_ca_list", code, &allowed(TRUST_LOAD_ERRORS));
    if code == SIPTLS_OK {
        assert!(added >= 1, "trust_load_ca_list OK with {added} added");
    } else {
        assert_eq!(added, 0, "failed trust_load_ca_list reports {added} added");
    }
    let new_ids = (0..added).map(|i| first + i as u32);
    assert_trust_load(
        "trust_load_ca_list",
        code,
        &before,
        &ctx.trust_ids(),
        new_ids,
    );
}

fn add_crl(ctx: &Ctx, crl: &[u8]) {
    let before = ctx.trust_ids();
    let crls_before = ctx.crls();
    let generation = ctx.generation();
    let (code, added) = ctx.add_crl(crl);
    expect_code(
        "add_crl",
        code,
        &[
            SIPTLS_OK,
            SIPTLS_ERR_CONFIG,
            SIPTLS_ERR_PEM_EMPTY,
            SIPTLS_ERR_PEM_MALFORMED,
            SIPTLS_ERR_CRL_MALFORMED,
            SIPTLS_ERR_CRL_UNTRUSTED,
            SIPTLS_ERR_CRL_NOT_NEWER,
        ],
    );
    let crls_after = ctx.crls();
    if code == SIPTLS_OK {
        assert!(added >= 1, "add_crl OK with {added} added");
        assert!(crls_after.len() <= crls_before.len() + added);
    } else {
        assert_eq!(added, 0, "failed add_crl reports {added} added");
        assert_eq!(
            crls_after.len(),
            crls_before.len(),
            "failed add_crl changed the CRLs"
        );
        assert_eq!(
            ctx.generation(),
            generation,
            "failed add_crl counted as a change"
        );
    }
    assert_eq!(ctx.trust_ids(), before, "add_crl changed the trust list");
}

fn replace_ca_list(ctx: &Ctx, pem: &[u8], first: u32) {
    let before = ctx.trust_ids();
    let generation = ctx.generation();
    let (code, count) = ctx.trust_replace_ca_list(pem, first);
    expect_code(
        "trust_replace_ca_list",
        code,
        &allowed(&[SIPTLS_ERR_TRUST_TABLE_FULL, SIPTLS_ERR_INVALID_ARGUMENT]),
    );
    let after = ctx.trust_ids();
    if code == SIPTLS_OK {
        let expected: Vec<u32> = (first..).take(count).collect();
        assert_eq!(
            after, expected,
            "replace_ca_list OK: exactly the list's entries"
        );
    } else {
        assert_eq!(count, 0, "failed replace_ca_list reports {count} entries");
        assert_eq!(after, before, "failed replace_ca_list changed the list");
        assert_eq!(
            ctx.generation(),
            generation,
            "failed replace_ca_list counted as a change"
        );
    }
}

fn crl_edit(ctx: &Ctx, arg: u8, issuer: &[u8]) {
    let before = ctx.crls();
    if arg % 2 == 1 {
        assert_eq!(unsafe { siptls_ctx_clear_crls(ctx.0) }, SIPTLS_OK);
        assert!(ctx.crls().is_empty(), "crl_clear left CRLs");
        return;
    }
    let issuer = c_string(issuer);
    let code = unsafe { siptls_ctx_remove_crl(ctx.0, issuer.as_ptr()) };
    expect_code(
        "crl_remove",
        code,
        &[
            SIPTLS_OK,
            SIPTLS_ERR_CRL_NOT_FOUND,
            SIPTLS_ERR_INVALID_ARGUMENT,
            SIPTLS_ERR_CONFIG,
        ],
    );
    let named = |crl: &siptls_crl_info| {
        let listed = unsafe { std::ffi::CStr::from_ptr(crl.issuer.as_ptr()) };
        listed == issuer.as_c_str()
    };
    let expected = match code {
        // Every partition of that issuer goes, nothing else.
        SIPTLS_OK => before.iter().filter(|crl| !named(crl)).count(),
        _ => before.len(),
    };
    assert_eq!(ctx.crls().len(), expected, "crl_remove: {code:?}");
}

fn new_session(ctx: &Ctx, role: siptls_role, name: Option<&[u8]>, must_succeed: bool) {
    let name = name.map(c_string);
    // No handshake follows, so requiring a peer certificate changes nothing.
    let session = Sess::try_new(ctx, role, name.as_deref(), false);
    let code = session.as_ref().err().copied().unwrap_or(SIPTLS_OK);
    expect_code(
        "session_new",
        code,
        &[
            SIPTLS_OK,
            SIPTLS_ERR_INVALID_ARGUMENT,
            SIPTLS_ERR_NO_IDENTITY,
            SIPTLS_ERR_CONFIG,
        ],
    );
    if must_succeed {
        assert_eq!(code, SIPTLS_OK, "session_new: {}", ctx.last_error());
    }
    if let (Ok(mut session), siptls_role::SIPTLS_ROLE_CLIENT) = (session, role) {
        // A client session starts with a ClientHello to send.
        let (take, _) = session.take(&mut vec![0u8; 1 << 16]);
        assert_eq!(take, SIPTLS_OK, "fresh client session has nothing to send");
    }
}

/// Real material, picked by a script's op 7.
fn load_real(ctx: &Ctx, role: siptls_role, which: u8) {
    let p = pki();
    let root = p.root.issued();
    match which % 8 {
        0 => trust_add(ctx, 10, root.cert_pem.as_bytes()),
        1 => trust_add(ctx, 11, &root.cert_der),
        2 => load_ca_list(ctx, root.cert_pem.as_bytes(), 20),
        3 => add_crl(ctx, p.crl.pem.as_bytes()),
        4 => add_crl(ctx, &p.crl.der),
        5 => set_identity(
            ctx,
            role,
            p.server.cert_pem.as_bytes(),
            p.server.key_pem.as_bytes(),
        ),
        6 => trust_add(ctx, 12, p.client.cert_pem.as_bytes()),
        _ => {
            let sec1 = p.client.key_sec1_pem().expect("an EC key has a SEC1 form");
            set_identity(ctx, role, p.client.cert_pem.as_bytes(), sec1.as_bytes())
        }
    }
}

/// The input as an OCSP response to staple to the real server identity:
/// refused with one of the OCSP codes (it is no response for that
/// certificate signed by its issuer), the configuration unchanged.
fn staple(ctx: &Ctx, role: siptls_role, data: &[u8]) {
    let p = pki();
    set_identity(ctx, role, p.server.cert_pem.as_bytes(), p.server.key_pem.as_bytes());
    let generation = ctx.generation();
    let code = unsafe { siptls_ctx_set_ocsp_response(ctx.0, 0, data.as_ptr(), data.len()) };
    expect_code(
        "set_ocsp_response",
        code,
        &[
            SIPTLS_ERR_OCSP_MALFORMED,
            SIPTLS_ERR_OCSP_MISMATCH,
            SIPTLS_ERR_OCSP_STALE,
            SIPTLS_ERR_OCSP_UNTRUSTED,
            SIPTLS_ERR_OCSP_NOT_GOOD,
            SIPTLS_ERR_INVALID_ARGUMENT,
        ],
    );
    assert_eq!(ctx.generation(), generation, "a refused staple changed the configuration");
}

fn whole(mode: u8, role: siptls_role, data: &[u8]) {
    let p = pki();
    let ctx = Ctx::new(role);
    trust_add(&ctx, ROOT_TRUST_ID, p.root.issued().cert_pem.as_bytes());
    trust_add(&ctx, u32::from((mode >> 1) & 0x3f), data);
    load_ca_list(&ctx, data, 100);
    add_crl(&ctx, data);
    replace_ca_list(&ctx, data, 1);
    set_identity(&ctx, role, data, data);
    set_identity(&ctx, role, data, p.server.key_pem.as_bytes());
    set_identity(&ctx, role, p.server.cert_pem.as_bytes(), data);
    staple(&ctx, role, data);
    if role == siptls_role::SIPTLS_ROLE_CLIENT {
        new_session(&ctx, role, Some(SERVER_NAME.as_bytes()), true);
    }
}

fn script(role: siptls_role, input: &mut Input<'_>) {
    let ctx = Ctx::new(role);
    for _ in 0..64 {
        if input.is_empty() {
            break;
        }
        let op = input.byte();
        let arg = input.byte();
        match op % 10 {
            0 => {
                let cert = input.blob();
                let key = input.blob();
                set_identity(&ctx, role, cert, key);
            }
            1 => trust_add(&ctx, u32::from(arg), input.blob()),
            2 => load_ca_list(&ctx, input.blob(), u32::from(arg)),
            3 => add_crl(&ctx, input.blob()),
            4 => {
                let before = ctx.trust_ids();
                let id = u32::from(arg);
                let code = ctx.trust_remove(id);
                expect_code(
                    "trust_remove",
                    code,
                    &[SIPTLS_OK, SIPTLS_ERR_TRUST_NOT_FOUND, SIPTLS_ERR_CONFIG],
                );
                let after = ctx.trust_ids();
                if code == SIPTLS_OK {
                    let expected: Vec<u32> = before.iter().copied().filter(|&x| x != id).collect();
                    assert!(before.contains(&id));
                    assert_eq!(after, expected, "trust_remove OK");
                } else {
                    assert_eq!(after, before, "failed trust_remove changed the list");
                }
            }
            5 => {
                let before = ctx.trust_ids();
                let blob = input.blob();
                let domain = (!blob.is_empty()).then(|| c_string(blob));
                let code = ctx.trust_set_sip_domain(u32::from(arg), domain.as_deref());
                expect_code(
                    "trust_set_sip_domain",
                    code,
                    &[
                        SIPTLS_OK,
                        SIPTLS_ERR_INVALID_ARGUMENT,
                        SIPTLS_ERR_TRUST_NOT_FOUND,
                        SIPTLS_ERR_CONFIG,
                    ],
                );
                if code == SIPTLS_OK {
                    assert!(before.contains(&u32::from(arg)));
                }
                assert_eq!(ctx.trust_ids(), before, "set_sip_domain changed the list");
            }
            6 => {
                let name = input.blob();
                let name = (role == siptls_role::SIPTLS_ROLE_CLIENT).then_some(name);
                new_session(&ctx, role, name, false);
            }
            7 => load_real(&ctx, role, arg),
            8 => replace_ca_list(&ctx, input.blob(), u32::from(arg)),
            _ => crl_edit(&ctx, arg, input.blob()),
        }
    }
    let _ = ctx.last_error();
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mode = input.byte();
    let role = if mode & 1 == 0 {
        siptls_role::SIPTLS_ROLE_CLIENT
    } else {
        siptls_role::SIPTLS_ROLE_SERVER
    };
    if mode & 0x80 == 0 {
        whole(mode, role, input.rest());
    } else {
        script(role, &mut input);
    }
});
