//! The crypto bound: the public-key operations a mutual TLS 1.3 handshake
//! with ECDSA P-256 certificates and X25519 needs on both sides, timed with
//! the same aws-lc primitives every rustls-based stack here calls. No stack
//! can make such handshakes faster than this; how far above it a stack's
//! handshake is says what its own work (parsing, hashing, record layer,
//! allocation, its API) costs.
//!
//! Per handshake: two X25519 key pairs and two agreements (the key shares),
//! two ECDSA signatures (each side's CertificateVerify) and four
//! verifications (each CertificateVerify, and each leaf's signature by the
//! root; the root itself is a trust anchor, not verified).

use std::time::Instant;

use aws_lc_rs::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;

use crate::harness::{secs, Figure};
use crate::pki::Pki;

fn ecdsa_key(pem: &str) -> EcdsaKeyPair {
    let PrivateKeyDer::Pkcs8(der) = PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap() else {
        panic!("the bench keys are PKCS#8");
    };
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der.secret_pkcs8_der()).unwrap()
}

/// One side's key share and its agreement with the peer's.
fn key_share(rng: &SystemRandom, peer_public: &[u8]) {
    let mine = EphemeralPrivateKey::generate(&X25519, rng).unwrap();
    let peer = UnparsedPublicKey::new(&X25519, peer_public);
    agree_ephemeral(mine, peer, (), |secret| {
        std::hint::black_box(secret);
        Ok(())
    })
    .unwrap();
}

/// Handshakes' worth of public-key work per second, for `n` handshakes.
fn bound_rate(pki: &Pki, n: usize) -> f64 {
    let rng = SystemRandom::new();
    let (server, client, root) = (
        ecdsa_key(&pki.server.key_pem),
        ecdsa_key(&pki.client.key_pem),
        ecdsa_key(&pki.root.issued().key_pem),
    );
    // What each CertificateVerify signs: 64 spaces, a context string, a hash.
    let mut verify_input = vec![0x20u8; 64];
    verify_input.extend(b"TLS 1.3, server CertificateVerify\0");
    verify_input.extend([0x5a; 32]);
    // A leaf's signed part is about this long.
    let tbs = vec![0x30u8; 400];
    let chain_sig = root.sign(&rng, &tbs).unwrap();
    let root_public = signature::UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_ASN1,
        root.public_key().as_ref().to_vec(),
    );
    let peer_share = EphemeralPrivateKey::generate(&X25519, &rng)
        .unwrap()
        .compute_public_key()
        .unwrap();
    let start = Instant::now();
    for _ in 0..n {
        key_share(&rng, peer_share.as_ref());
        key_share(&rng, peer_share.as_ref());
        for signer in [&server, &client] {
            let sig = signer.sign(&rng, &verify_input).unwrap();
            let public = signature::UnparsedPublicKey::new(
                &ECDSA_P256_SHA256_ASN1,
                signer.public_key().as_ref(),
            );
            public.verify(&verify_input, sig.as_ref()).unwrap();
            root_public.verify(&tbs, chain_sig.as_ref()).unwrap();
        }
    }
    n as f64 / secs(start.elapsed())
}

/// The bound in handshakes per second, in `rounds` rounds of `n`.
pub fn crypto_bound(pki: &Pki, rounds: usize, n: usize) -> Figure {
    Figure((0..rounds).map(|_| bound_rate(pki, n)).collect())
}
