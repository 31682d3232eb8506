//! Keys the gateway holds, through the C ABI: an identity whose handshake
//! signatures come from a signing callback (here aws-lc's own signing, as a
//! device would), in both roles, TLS 1.2 and 1.3, ECDSA P-256 and RSA-2048;
//! a device returning raw r||s; and the failures: a callback that fails, a
//! signature longer than the buffer, a garbage signature (the peer refuses
//! it), a key type that is not the certificate's, a signer without a
//! callback.

mod common;
use common::*;

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use siptls_certgen::{Issued, KeyAlg};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sign,
    /// ECDSA as raw r||s.
    Raw,
    Fail,
    TooLong,
    Garbage,
}

enum Held {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// What the callback's user data points to.
struct Device {
    key: Held,
    mode: Mode,
    calls: AtomicUsize,
    /// A session the callback frees from inside, as a careless gateway might.
    free: std::sync::atomic::AtomicPtr<siptls_session>,
    /// A context the callback frees from inside.
    free_ctx: std::sync::atomic::AtomicPtr<siptls_ctx>,
}

impl Device {
    fn new(identity: &Issued, alg: KeyAlg, mode: Mode) -> Box<Device> {
        let key = match alg {
            KeyAlg::Rsa2048 => Held::Rsa(RsaKeyPair::from_pkcs8(&identity.key_der).unwrap()),
            _ => {
                let form = if mode == Mode::Raw {
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING
                };
                Held::Ecdsa(EcdsaKeyPair::from_pkcs8(form, &identity.key_der).unwrap())
            }
        };
        Box::new(Device {
            key,
            mode,
            calls: AtomicUsize::new(0),
            free: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            free_ctx: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
        })
    }
}

unsafe extern "C" fn sign(
    userdata: *mut c_void,
    scheme: u16,
    message: *const u8,
    message_len: usize,
    out: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> u32 {
    let device = unsafe { &*(userdata as *const Device) };
    device.calls.fetch_add(1, Ordering::SeqCst);
    let doomed = device.free.swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !doomed.is_null() {
        unsafe { siptls_session_free(doomed) };
    }
    let doomed = device.free_ctx.swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !doomed.is_null() {
        unsafe { siptls_ctx_free(doomed) };
    }
    let message = unsafe { std::slice::from_raw_parts(message, message_len) };
    let out = unsafe { std::slice::from_raw_parts_mut(out, cap) };
    let rng = SystemRandom::new();
    let signature: Vec<u8> = match (&device.key, device.mode) {
        (_, Mode::Fail) => return siptls_sign_status::SIPTLS_SIGN_FAILED as u32,
        (_, Mode::TooLong) => {
            unsafe { *len_out = cap + 1 };
            return siptls_sign_status::SIPTLS_SIGN_OK as u32;
        }
        (Held::Ecdsa(k), _) => k.sign(&rng, message).unwrap().as_ref().to_vec(),
        (Held::Rsa(k), _) => {
            let padding: &dyn signature::RsaEncoding = match scheme {
                0x0804 => &signature::RSA_PSS_SHA256,
                0x0805 => &signature::RSA_PSS_SHA384,
                0x0806 => &signature::RSA_PSS_SHA512,
                0x0401 => &signature::RSA_PKCS1_SHA256,
                0x0501 => &signature::RSA_PKCS1_SHA384,
                0x0601 => &signature::RSA_PKCS1_SHA512,
                _ => return siptls_sign_status::SIPTLS_SIGN_FAILED as u32,
            };
            let mut sig = vec![0u8; k.public_modulus_len()];
            k.sign(padding, &rng, message, &mut sig).unwrap();
            sig
        }
    };
    let signature = if device.mode == Mode::Garbage {
        vec![0x5a; signature.len()]
    } else {
        signature
    };
    out[..signature.len()].copy_from_slice(&signature);
    unsafe { *len_out = signature.len() };
    siptls_sign_status::SIPTLS_SIGN_OK as u32
}

fn add_signer(
    ctx: &Ctx,
    identity: &Issued,
    key_type: u32,
    device: &Device,
    flags: u32,
) -> siptls_result {
    let signer = siptls_signer {
        struct_size: std::mem::size_of::<siptls_signer>() as u32,
        key_type,
        sign: Some(sign),
        userdata: device as *const Device as *mut c_void,
        flags,
    };
    let chain = identity.cert_pem.as_bytes();
    unsafe { siptls_ctx_add_identity_signer(ctx.0, 0, chain.as_ptr(), chain.len(), &signer) }
}

fn identity(name: &str, alg: KeyAlg) -> Issued {
    pki().root.leaf(&LeafSpec {
        key_alg: alg,
        ..LeafSpec::sip(name)
    })
}

fn key_type(alg: KeyAlg) -> u32 {
    match alg {
        KeyAlg::Rsa2048 => siptls_key_type::SIPTLS_KEY_RSA as u32,
        _ => siptls_key_type::SIPTLS_KEY_ECDSA_P256 as u32,
    }
}

/// A context of `role` whose identity is `device`'s, trusting the test root.
fn held_ctx(role: siptls_role, who: &Issued, alg: KeyAlg, device: &Device, flags: u32) -> Ctx {
    let ctx = Ctx::new(role);
    assert_eq!(
        add_signer(&ctx, who, key_type(alg), device, flags),
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    assert_eq!(
        ctx.trust(1, pki().root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    ctx
}

/// A server whose ECDSA P-256 key is held by a device acting as `mode`.
fn ecdsa_server(mode: Mode, flags: u32) -> (Box<Device>, Ctx) {
    let who = identity(SERVER_NAME, KeyAlg::EcdsaP256);
    let device = Device::new(&who, KeyAlg::EcdsaP256, mode);
    let server = held_ctx(
        siptls_role::SIPTLS_ROLE_SERVER,
        &who,
        KeyAlg::EcdsaP256,
        &device,
        flags,
    );
    (device, server)
}

#[test]
fn a_held_key_signs_in_both_roles_over_tls12_and_tls13_ecdsa_and_rsa() {
    for alg in [KeyAlg::EcdsaP256, KeyAlg::Rsa2048] {
        for version in [SIPTLS_TLS12, SIPTLS_TLS13] {
            // As a server.
            let who = identity(SERVER_NAME, alg);
            let device = Device::new(&who, alg, Mode::Sign);
            let server = held_ctx(siptls_role::SIPTLS_ROLE_SERVER, &who, alg, &device, 0);
            only_version(&server, version);
            let client = Ctx::client();
            let (c, s) = (Sess::client(&client), Sess::server(&server));
            assert_handshake_ok(&c, &s);
            assert_eq!(c.info().protocol_version, version);
            assert!(device.calls.load(Ordering::SeqCst) >= 1);
            // As a client, presenting its certificate to a server that requires one.
            let who = identity(CLIENT_NAME, alg);
            let device = Device::new(&who, alg, Mode::Sign);
            let client = held_ctx(siptls_role::SIPTLS_ROLE_CLIENT, &who, alg, &device, 0);
            only_version(&client, version);
            let server = Ctx::server();
            let (c, s) = (Sess::client(&client), Sess::server(&server));
            assert_handshake_ok(&c, &s);
            assert_eq!(
                s.info().verify_status,
                siptls_verify_status::SIPTLS_VERIFY_OK
            );
            assert_eq!(
                device.calls.load(Ordering::SeqCst),
                1,
                "one CertificateVerify"
            );
        }
    }
}

#[test]
fn a_device_returning_raw_r_and_s_is_encoded_for_tls() {
    for version in [SIPTLS_TLS12, SIPTLS_TLS13] {
        let (_device, server) = ecdsa_server(Mode::Raw, SIPTLS_SIGNER_RAW_ECDSA);
        only_version(&server, version);
        let client = Ctx::client();
        assert_handshake_ok(&Sess::client(&client), &Sess::server(&server));
    }
}

/// A server whose device misbehaves as `mode`: what the pump returned, then
/// (the failing end's alert delivered) whether each end failed, and their details.
fn misbehaving(mode: Mode) -> (PumpResult, [bool; 2], String, String) {
    let (_device, server) = ecdsa_server(mode, 0);
    let client = Ctx::client();
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    let result = pump(&c, &s);
    // The alert the failing end queued reaches the other.
    for (from, to) in [(&s, &c), (&c, &s)] {
        let bytes = from.take_all();
        if !bytes.is_empty() {
            let _ = to.feed(&bytes);
        }
    }
    let failed = [c.info().failed, s.info().failed];
    (result, failed, c.last_error(), s.last_error())
}

#[test]
fn a_callback_that_fails_fails_the_handshake_with_its_own_code() {
    let (result, failed, _, server) = misbehaving(Mode::Fail);
    assert_eq!(result.server, SIPTLS_ERR_SIGNING_FAILED);
    assert_sentence(&server);
    for part in ["signing callback", "ECDSA P-256", "not SIPTLS_SIGN_OK"] {
        assert!(server.contains(part), "'{part}' in {server}");
    }
    // No alert names a local signing failure: the gateway closes the
    // connection, and the client never completes.
    assert_eq!(failed, [false, true], "the client is still waiting");
    let (result, _, _, server) = misbehaving(Mode::TooLong);
    assert_eq!(result.server, SIPTLS_ERR_SIGNING_FAILED);
    assert!(server.contains("in a buffer of 1024"), "{server}");
}

#[test]
fn a_garbage_signature_is_refused_by_the_peer() {
    let (result, failed, client, _) = misbehaving(Mode::Garbage);
    assert_ne!(result.client, SIPTLS_OK);
    assert_sentence(&client);
    assert!(client.contains("signature"), "{client}");
    assert_eq!(failed, [true, true], "the server hears of it");
}

#[test]
fn a_signer_that_cannot_be_the_certificates_is_refused_at_load() {
    let who = identity(SERVER_NAME, KeyAlg::EcdsaP256);
    let device = Device::new(&who, KeyAlg::EcdsaP256, Mode::Sign);
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let rsa = siptls_key_type::SIPTLS_KEY_RSA as u32;
    assert_eq!(
        add_signer(&ctx, &who, rsa, &device, 0),
        SIPTLS_ERR_KEY_MISMATCH
    );
    assert!(
        ctx.last_error()
            .contains("certificate's public key is ECDSA P-256"),
        "{}",
        ctx.last_error()
    );
    let rsa_who = identity(SERVER_NAME, KeyAlg::Rsa2048);
    let rsa_device = Device::new(&rsa_who, KeyAlg::Rsa2048, Mode::Sign);
    assert_eq!(
        add_signer(&ctx, &rsa_who, rsa, &rsa_device, SIPTLS_SIGNER_RAW_ECDSA),
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        add_signer(&ctx, &who, 9, &device, 0),
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    let no_callback = siptls_signer {
        struct_size: std::mem::size_of::<siptls_signer>() as u32,
        key_type: siptls_key_type::SIPTLS_KEY_ECDSA_P256 as u32,
        sign: None,
        userdata: std::ptr::null_mut(),
        flags: 0,
    };
    let chain = who.cert_pem.as_bytes();
    assert_eq!(
        unsafe {
            siptls_ctx_add_identity_signer(ctx.0, 0, chain.as_ptr(), chain.len(), &no_callback)
        },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    assert_eq!(ctx.generation(), 0, "nothing was loaded");
}

#[test]
fn freeing_the_session_from_inside_the_callback_is_deferred() {
    let (device, server) = ecdsa_server(Mode::Sign, 0);
    only_version(&server, SIPTLS_TLS13);
    let client = Ctx::client();
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    device.free.store(s.0, Ordering::SeqCst);
    // The ClientHello: the server signs its CertificateVerify inside this
    // feed, and the callback frees the session there.
    let hello = c.take_all();
    let mut used = 0;
    let code = unsafe { siptls_session_feed(s.0, hello.as_ptr(), hello.len(), &mut used) };
    assert_eq!(code, SIPTLS_OK);
    assert_eq!(device.calls.load(Ordering::SeqCst), 1);
    // Freed when the feed returned: the handle is gone, never to be used.
    std::mem::forget(s);
    let counters = server.counters();
    assert_eq!((counters.sessions_freed, counters.sessions_live), (1, 0));
}

/// The context freed from inside the callback: its sessions keep what they
/// use, so the handshake completes and the session is freed later.
#[test]
fn freeing_the_context_from_inside_the_callback_leaves_its_session_whole() {
    let (device, server) = ecdsa_server(Mode::Sign, 0);
    let client = Ctx::client();
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    device.free_ctx.store(server.0, Ordering::SeqCst);
    // The handle is the callback's to free now.
    std::mem::forget(server);
    assert_handshake_ok(&c, &s);
    assert_eq!(device.calls.load(Ordering::SeqCst), 1);
    assert!(
        device.free_ctx.load(Ordering::SeqCst).is_null(),
        "the callback freed it"
    );
    let mut buf = [0u8; 64];
    assert_eq!(c.write(b"OPTIONS").0, SIPTLS_OK);
    let flight = c.take_all();
    assert_eq!(s.feed(&flight).0, SIPTLS_OK);
    assert_eq!(s.read(&mut buf), (SIPTLS_OK, 7));
}
