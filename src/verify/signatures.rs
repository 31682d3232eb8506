//! Certificate and CRL signatures, remembered once verified. A signature
//! that verified with a key over some bytes verifies forever, so checking
//! the same certificate again (a resumed session's stored chain, the
//! intermediates every phone of a PBX presents) need not repeat the
//! public-key operation; everything else about the chain (trust entries,
//! CRLs, validity, depth, names) is checked again in full. Only successes
//! are remembered, by a SHA-256 digest of algorithm, key, message and
//! signature. Handshake signatures, new every time, are not kept.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use aws_lc_rs::digest::{Context, SHA256};
use parking_lot::Mutex;
use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Signatures remembered at most (32-byte digests: about 1 MiB when full);
/// when full, the memory starts over.
const REMEMBERED_MAX: usize = 16384;

type Algorithms = &'static [&'static dyn SignatureVerificationAlgorithm];

/// A B-tree, as the names memory (`names::REMEMBERED`) and for the same
/// reason: valgrind finds no interior pointers at exit.
struct Verified {
    digests: Mutex<BTreeSet<[u8; 32]>>,
    max: usize,
}

impl Verified {
    fn new(max: usize) -> Self {
        Self {
            digests: Mutex::new(BTreeSet::new()),
            max,
        }
    }

    fn check(
        &self,
        algorithm: &dyn SignatureVerificationAlgorithm,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let mut context = Context::new(&SHA256);
        for part in [
            algorithm.public_key_alg_id().as_ref(),
            algorithm.signature_alg_id().as_ref(),
            public_key,
            message,
            signature,
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(context.finish().as_ref());
        if self.digests.lock().contains(&digest) {
            return Ok(());
        }
        algorithm.verify_signature(public_key, message, signature)?;
        let mut digests = self.digests.lock();
        if digests.len() >= self.max {
            digests.clear();
        }
        digests.insert(digest);
        Ok(())
    }
}

static VERIFIED: LazyLock<Verified> = LazyLock::new(|| Verified::new(REMEMBERED_MAX));

struct Remembering(&'static dyn SignatureVerificationAlgorithm);

impl fmt::Debug for Remembering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Remembering").field(&self.0).finish()
    }
}

impl SignatureVerificationAlgorithm for Remembering {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        VERIFIED.check(self.0, public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.0.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.0.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.0.fips()
    }
}

/// `all` with each algorithm remembering what it verified. Made once per
/// process for the one provider: the wrappers live as long as it does.
pub fn remembering(all: Algorithms) -> Algorithms {
    let wrapped: Vec<&'static dyn SignatureVerificationAlgorithm> = all
        .iter()
        .map(|&a| &*Box::leak(Box::new(Remembering(a))) as &dyn SignatureVerificationAlgorithm)
        .collect();
    Box::leak(wrapped.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    #[test]
    fn only_signatures_that_verify_are_remembered_and_a_full_memory_starts_over() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let public = key.public_key().as_ref();
        let algorithm = webpki::aws_lc_rs::ECDSA_P256_SHA256;
        let signed = |message: &[u8]| key.sign(&rng, message).unwrap().as_ref().to_vec();
        let memory = Verified::new(2);
        let (a, b, c) = (b"message a", b"message b", b"message c");
        let sig_a = signed(a);
        assert!(memory.check(algorithm, public, a, &sig_a).is_ok());
        assert!(
            memory.check(algorithm, public, a, &sig_a).is_ok(),
            "remembered"
        );
        assert!(
            memory.check(algorithm, public, b, &sig_a).is_err(),
            "other bytes"
        );
        assert!(
            memory.check(algorithm, public, b, &sig_a).is_err(),
            "failures are not kept"
        );
        assert_eq!(memory.digests.lock().len(), 1);
        assert!(memory.check(algorithm, public, b, &signed(b)).is_ok());
        assert!(memory.check(algorithm, public, c, &signed(c)).is_ok());
        assert_eq!(memory.digests.lock().len(), 1, "full: started over");
        assert!(
            memory.check(algorithm, public, a, &sig_a).is_ok(),
            "verified again"
        );
    }
}
