//! The library API: chains, extensions, CRLs and key encodings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, RsaKeyPair};
use pki_types::pem::PemObject;
use pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use siptls_certgen::{chain_pem, self_signed, Authority, Issued, KeyAlg, LeafSpec, Usage};
use time::{Duration, OffsetDateTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::asn1_rs::{Any, Class, FromDer, Tag};

use crate::support::{
    authority_key_id, basic_constraints_ca, common_name, parse, sans, subject_key_id,
    valid_for_name, verify,
};

const ALL_KEY_ALGS: [KeyAlg; 4] = [
    KeyAlg::EcdsaP256,
    KeyAlg::EcdsaP384,
    KeyAlg::Ed25519,
    KeyAlg::Rsa2048,
];

fn root_for(key_alg: KeyAlg) -> Authority {
    let now = OffsetDateTime::now_utc();
    Authority::root_with(
        "Test Root",
        key_alg,
        now - Duration::days(1),
        now + Duration::days(30),
    )
}

fn leaf_with(issuer: &Authority, name: &str, adjust: impl FnOnce(&mut LeafSpec)) -> Issued {
    let mut spec = LeafSpec::new(name);
    adjust(&mut spec);
    issuer.leaf(&spec)
}

fn verify_direct(leaf: &Issued, root: &Authority, usage: KeyUsage) -> Result<(), webpki::Error> {
    verify(&leaf.cert_der, &[], &root.issued().cert_der, usage, &[])
}

#[test]
fn root_intermediate_leaf_chain_verifies_for_every_key_alg() {
    for key_alg in ALL_KEY_ALGS {
        let root = root_for(key_alg);
        let intermediate = root.intermediate("Test Issuing CA");
        let leaf = leaf_with(&intermediate, "proxy.example.test", |spec| {
            spec.key_alg = key_alg;
        });
        for usage in [KeyUsage::server_auth(), KeyUsage::client_auth()] {
            verify(
                &leaf.cert_der,
                &[&intermediate.issued().cert_der],
                &root.issued().cert_der,
                usage,
                &[],
            )
            .unwrap_or_else(|err| panic!("{key_alg:?}: {err:?}"));
        }
        // Without the intermediate there is no path.
        assert!(verify_direct(&leaf, &root, KeyUsage::server_auth()).is_err());
        valid_for_name(&leaf.cert_der, "proxy.example.test").unwrap();
        assert!(valid_for_name(&leaf.cert_der, "other.example.test").is_err());
    }
}

#[test]
fn pem_and_der_forms_agree() {
    for key_alg in ALL_KEY_ALGS {
        let leaf = leaf_with(&root_for(key_alg), "a.test", |spec| spec.key_alg = key_alg);
        let cert = CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).unwrap();
        assert_eq!(cert.as_ref(), leaf.cert_der.as_slice());
        match PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap() {
            PrivateKeyDer::Pkcs8(key) => {
                assert_eq!(key.secret_pkcs8_der(), leaf.key_der.as_slice())
            }
            other => panic!("{key_alg:?}: expected PKCS#8, got {other:?}"),
        }
    }
}

#[test]
fn authority_defaults_and_validity() {
    let root = Authority::root("Default Root");
    let cert = parse(&root.issued().cert_der);
    assert_eq!(common_name(&cert), "Default Root");
    assert_eq!(cert.issuer(), cert.subject());
    let spki = cert.public_key();
    assert_eq!(
        spki.algorithm.algorithm,
        x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY
    );
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .unwrap()
        .as_oid()
        .unwrap();
    assert_eq!(curve, x509_parser::oid_registry::OID_EC_P256);
    let validity = cert.validity();
    let days = (validity.not_after.timestamp() - validity.not_before.timestamp()) / 86_400;
    assert_eq!(days, 3651, "a day of back-dating plus ten years");

    // An intermediate inherits its parent's key algorithm and validity.
    let not_before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::hours(2);
    let not_after = not_before + Duration::days(90);
    let rsa_root = Authority::root_with("RSA Root", KeyAlg::Rsa2048, not_before, not_after);
    let intermediate = rsa_root.intermediate("RSA Issuing");
    let intermediate = parse(&intermediate.issued().cert_der);
    assert_eq!(
        intermediate.public_key().algorithm.algorithm,
        x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION
    );
    assert_eq!(
        intermediate.validity().not_before.timestamp(),
        not_before.unix_timestamp()
    );
    assert_eq!(
        intermediate.validity().not_after.timestamp(),
        not_after.unix_timestamp()
    );
}

#[test]
fn ca_certificates_have_ca_extensions() {
    let root = Authority::root("Root CA");
    let intermediate = root.intermediate("Issuing CA");
    let root_cert = parse(&root.issued().cert_der);
    let inter_cert = parse(&intermediate.issued().cert_der);

    for cert in [&root_cert, &inter_cert] {
        assert_eq!(basic_constraints_ca(cert), Some(true));
        let ku = cert.key_usage().unwrap().expect("keyUsage present");
        assert!(ku.critical);
        assert!(ku.value.key_cert_sign() && ku.value.crl_sign() && ku.value.digital_signature());
        assert_eq!(ku.value.flags.count_ones(), 3, "no other key usages");
        assert!(cert.extended_key_usage().unwrap().is_none());
        assert_eq!(subject_key_id(cert).map(<[u8]>::len), Some(20));
        assert!(sans(cert).is_none());
    }
    assert_eq!(common_name(&inter_cert), "Issuing CA");
    assert_eq!(inter_cert.issuer(), root_cert.subject());
    assert_eq!(authority_key_id(&inter_cert), subject_key_id(&root_cert));
    assert_ne!(root_cert.raw_serial(), inter_cert.raw_serial());
}

#[test]
fn leaf_certificates_have_end_entity_extensions() {
    let root = Authority::root("Root CA");
    let root_cert = parse(&root.issued().cert_der);
    for key_alg in ALL_KEY_ALGS {
        let leaf = leaf_with(&root, "ua.example.test", |spec| spec.key_alg = key_alg);
        let cert = parse(&leaf.cert_der);
        assert_eq!(common_name(&cert), "ua.example.test");
        assert_eq!(cert.issuer(), root_cert.subject());
        assert_eq!(basic_constraints_ca(&cert), Some(false));
        assert_eq!(authority_key_id(&cert), subject_key_id(&root_cert));
        assert!(subject_key_id(&cert).is_some());

        let ku = cert.key_usage().unwrap().expect("keyUsage present").value;
        assert!(ku.digital_signature());
        assert_eq!(
            ku.key_encipherment(),
            key_alg == KeyAlg::Rsa2048,
            "{key_alg:?}"
        );
        assert!(!ku.key_cert_sign() && !ku.crl_sign());
    }
}

#[test]
fn usage_sets_extended_key_usage() {
    let root = Authority::root("Root CA");
    // (usage, serverAuth, clientAuth, codeSigning), or None for no extension
    let cases = [
        (Usage::Server, Some((true, false, false))),
        (Usage::Client, Some((false, true, false))),
        (Usage::Both, Some((true, true, false))),
        (Usage::None, None),
        (Usage::CodeSigning, Some((false, false, true))),
    ];
    for (usage, expected) in cases {
        let leaf = leaf_with(&root, "peer.test", |spec| spec.usage = usage);
        let cert = parse(&leaf.cert_der);
        let eku = cert.extended_key_usage().unwrap().map(|ext| {
            assert!(ext.value.other.is_empty() && !ext.value.any);
            (
                ext.value.server_auth,
                ext.value.client_auth,
                ext.value.code_signing,
            )
        });
        assert_eq!(eku, expected, "{usage:?}");

        // ... and webpki enforces it (an absent EKU allows any purpose).
        let server_ok = verify_direct(&leaf, &root, KeyUsage::server_auth()).is_ok();
        let client_ok = verify_direct(&leaf, &root, KeyUsage::client_auth()).is_ok();
        let (server, client, _) = expected.unwrap_or((true, true, false));
        assert_eq!((server_ok, client_ok), (server, client), "{usage:?}");
    }
}

#[test]
fn subject_alt_names_are_written_in_order() {
    let root = Authority::root("Root CA");
    let leaf = leaf_with(&root, "example.test", |spec| {
        spec.dns_names = vec!["example.test".into(), "*.example.test".into()];
        spec.uris = vec![
            "sip:example.test".into(),
            "sip:alice@example.test".into(),
            "https://x".into(),
        ];
        spec.ips = vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
    });
    assert_eq!(
        sans(&parse(&leaf.cert_der)).unwrap(),
        [
            "DNS:example.test",
            "DNS:*.example.test",
            "URI:sip:example.test",
            "URI:sip:alice@example.test",
            "URI:https://x",
            "IP:192.0.2.7",
            "IP:::1",
        ]
    );
    for name in ["example.test", "www.example.test", "192.0.2.7", "::1"] {
        valid_for_name(&leaf.cert_der, name).unwrap_or_else(|err| panic!("{name}: {err:?}"));
    }
    assert!(valid_for_name(&leaf.cert_der, "127.0.0.1").is_err());
}

#[test]
fn uri_only_and_cn_only_identities() {
    let root = Authority::root("Root CA");
    let uri_only = leaf_with(&root, "Alice", |spec| {
        spec.dns_names.clear();
        spec.uris = vec!["sip:alice@example.test".into()];
    });
    assert_eq!(
        sans(&parse(&uri_only.cert_der)).unwrap(),
        ["URI:sip:alice@example.test"]
    );

    let cn_only = leaf_with(&root, "legacy.example.test", |spec| {
        spec.uris = vec!["sip:legacy.example.test".into()];
        spec.omit_san = true;
    });
    let cert = parse(&cn_only.cert_der);
    assert_eq!(sans(&cert), None);
    assert_eq!(common_name(&cert), "legacy.example.test");
    // webpki ignores the CN, so such a certificate names nothing for it.
    assert!(valid_for_name(&cn_only.cert_der, "legacy.example.test").is_err());
}

#[test]
fn serials_are_given_or_random() {
    let root = Authority::root("Root CA");
    let given = leaf_with(&root, "a.test", |spec| spec.serial = Some(0x0012_3456_789a));
    assert_eq!(
        parse(&given.cert_der).raw_serial(),
        [0x12, 0x34, 0x56, 0x78, 0x9a]
    );
    let high_bit = leaf_with(&root, "a.test", |spec| spec.serial = Some(u64::MAX));
    // Positive INTEGER: a zero byte keeps the top bit from reading as a sign.
    assert_eq!(
        parse(&high_bit.cert_der).raw_serial(),
        [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );

    let serials: Vec<Vec<u8>> = (0..4)
        .map(|_| leaf_with(&root, "a.test", |_| {}))
        .chain([self_signed(&LeafSpec::new("b.test"))])
        .map(|leaf| parse(&leaf.cert_der).raw_serial().to_vec())
        .chain([parse(&root.issued().cert_der).raw_serial().to_vec()])
        .collect();
    for (i, serial) in serials.iter().enumerate() {
        assert_eq!(serial.len(), 16, "{serial:02x?}");
        assert!((0x40..0x80).contains(&serial[0]), "{serial:02x?}");
        assert!(
            !serials[..i].contains(serial),
            "repeated serial {serial:02x?}"
        );
    }
}

#[test]
fn validity_is_honoured() {
    let root = Authority::root("Root CA");
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let (not_before, not_after) = (now - Duration::days(3), now + Duration::days(3));
    let leaf = leaf_with(&root, "a.test", |spec| {
        spec.not_before = not_before;
        spec.not_after = not_after;
    });
    let validity = parse(&leaf.cert_der).validity().clone();
    assert_eq!(validity.not_before.timestamp(), not_before.unix_timestamp());
    assert_eq!(validity.not_after.timestamp(), not_after.unix_timestamp());

    let defaults = LeafSpec::new("a.test");
    assert_eq!(
        defaults.not_after - defaults.not_before,
        Duration::days(366)
    );
    assert!(defaults.not_before < OffsetDateTime::now_utc());

    let expired = leaf_with(&root, "a.test", |spec| {
        spec.not_before = now - Duration::days(10);
        spec.not_after = now - Duration::days(1);
    });
    assert!(matches!(
        verify_direct(&expired, &root, KeyUsage::server_auth()),
        Err(webpki::Error::CertExpired { .. })
    ));
    let future = leaf_with(&root, "a.test", |spec| {
        spec.not_before = now + Duration::days(1);
    });
    assert!(matches!(
        verify_direct(&future, &root, KeyUsage::server_auth()),
        Err(webpki::Error::CertNotValidYet { .. })
    ));
}

#[test]
fn leaf_spec_new_defaults() {
    let spec = LeafSpec::new("gw.example.test");
    assert_eq!(spec.common_name, "gw.example.test");
    assert_eq!(spec.dns_names, ["gw.example.test"]);
    assert!(spec.uris.is_empty() && spec.ips.is_empty());
    assert_eq!(spec.key_alg, KeyAlg::EcdsaP256);
    assert_eq!(spec.usage, Usage::Both);
    assert_eq!(spec.serial, None);
    assert!(!spec.omit_san);
}

#[test]
fn self_signed_is_an_end_entity_that_vouches_for_itself() {
    let mut spec = LeafSpec::new("pinned.example.test");
    spec.uris = vec!["sip:pinned.example.test".into()];
    let issued = self_signed(&spec);
    let cert = parse(&issued.cert_der);
    assert_eq!(cert.issuer(), cert.subject());
    assert_eq!(basic_constraints_ca(&cert), Some(false));
    assert_eq!(authority_key_id(&cert), None);
    assert_eq!(
        sans(&cert).unwrap(),
        ["DNS:pinned.example.test", "URI:sip:pinned.example.test"]
    );
    // Its signature checks out under its own key when pinned as the anchor.
    verify(
        &issued.cert_der,
        &[],
        &issued.cert_der,
        KeyUsage::server_auth(),
        &[],
    )
    .unwrap();
}

#[test]
fn crl_revokes_listed_serials() {
    let root = Authority::root("Root CA");
    let revoked = leaf_with(&root, "revoked.test", |spec| spec.serial = Some(42));
    let good = leaf_with(&root, "good.test", |spec| spec.serial = Some(43));
    let crl = root.crl(&[7, 42], 5);

    assert!(crl.pem.starts_with("-----BEGIN X509 CRL-----\n"));
    assert!(crl.pem.ends_with("-----END X509 CRL-----\n"));
    let from_pem = CertificateRevocationListDer::from_pem_slice(crl.pem.as_bytes()).unwrap();
    assert_eq!(from_pem.as_ref(), crl.der.as_slice());

    let (_, parsed) = x509_parser::parse_x509_crl(&crl.der).unwrap();
    let root_cert = parse(&root.issued().cert_der);
    assert_eq!(parsed.issuer(), root_cert.subject());
    assert_eq!(parsed.crl_number().map(|n| n.to_string()), Some("5".into()));
    let serials: Vec<String> = parsed
        .iter_revoked_certificates()
        .map(|entry| entry.serial().to_string())
        .collect();
    assert_eq!(serials, ["7", "42"]);
    let this_update = parsed.last_update().timestamp();
    let next_update = parsed.next_update().unwrap().timestamp();
    assert_eq!(next_update - this_update, 7 * 86_400 + 3_600);
    assert!(this_update < OffsetDateTime::now_utc().unix_timestamp());

    let usage = KeyUsage::server_auth();
    let root_der = &root.issued().cert_der;
    assert_eq!(
        verify(&revoked.cert_der, &[], root_der, usage, &[&crl.der]),
        Err(webpki::Error::CertRevoked)
    );
    verify(&good.cert_der, &[], root_der, usage, &[&crl.der]).unwrap();

    // A CRL from another CA with the same name is not accepted in its place.
    let impostor = Authority::root("Root CA").crl(&[], 1);
    assert!(verify(&good.cert_der, &[], root_der, usage, &[&impostor.der]).is_err());
}

#[test]
fn intermediate_crls_cover_their_own_leaves() {
    let root = Authority::root("Root CA");
    let intermediate = root.intermediate("Issuing CA");
    let leaf = leaf_with(&intermediate, "a.test", |spec| spec.serial = Some(9));
    let root_crl = root.crl(&[], 1);
    let inter_der = intermediate.issued().cert_der.as_slice();
    let root_der = &root.issued().cert_der;
    let usage = KeyUsage::client_auth();

    let clean = intermediate.crl(&[], 1);
    verify(
        &leaf.cert_der,
        &[inter_der],
        root_der,
        usage,
        &[&root_crl.der, &clean.der],
    )
    .unwrap();
    let revoking = intermediate.crl(&[9], 2);
    assert_eq!(
        verify(
            &leaf.cert_der,
            &[inter_der],
            root_der,
            usage,
            &[&root_crl.der, &revoking.der]
        ),
        Err(webpki::Error::CertRevoked)
    );
}

#[test]
fn pkcs1_form_is_the_rsa_key_of_the_certificate() {
    let leaf = leaf_with(&root_for(KeyAlg::Rsa2048), "rsa.test", |spec| {
        spec.key_alg = KeyAlg::Rsa2048;
    });
    let pem = leaf.key_pkcs1_pem().expect("RSA key has a PKCS#1 form");
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(pem.ends_with("-----END RSA PRIVATE KEY-----\n"));
    let PrivateKeyDer::Pkcs1(der) = PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap() else {
        panic!("expected PKCS#1");
    };
    let key = RsaKeyPair::from_der(der.secret_pkcs1_der()).expect("aws-lc loads PKCS#1");
    assert_eq!(key.public_modulus_len(), 256);

    let message = b"INVITE sip:bob@example.test SIP/2.0";
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &lc::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .unwrap();
    let cert_der = CertificateDer::from(leaf.cert_der.as_slice());
    EndEntityCert::try_from(&cert_der)
        .unwrap()
        .verify_signature(
            webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
            message,
            &signature,
        )
        .expect("PKCS#1 key matches the certificate");

    assert_eq!(leaf.key_sec1_pem(), None);
}

#[test]
fn sec1_form_is_a_standalone_ec_key_of_the_certificate() {
    let cases = [
        (
            KeyAlg::EcdsaP256,
            x509_parser::oid_registry::OID_EC_P256,
            &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            webpki::aws_lc_rs::ECDSA_P256_SHA256,
        ),
        (
            KeyAlg::EcdsaP384,
            x509_parser::oid_registry::OID_NIST_EC_P384,
            &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
            webpki::aws_lc_rs::ECDSA_P384_SHA384,
        ),
    ];
    for (key_alg, curve, signing, verifying) in cases {
        let leaf = leaf_with(&root_for(key_alg), "ec.test", |spec| spec.key_alg = key_alg);
        let pem = leaf.key_sec1_pem().expect("ECDSA key has a SEC1 form");
        assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        assert!(pem.ends_with("-----END EC PRIVATE KEY-----\n"));
        let PrivateKeyDer::Sec1(der) = PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap()
        else {
            panic!("{key_alg:?}: expected SEC1");
        };
        let der = der.secret_sec1_der();

        // ECPrivateKey { version 1, privateKey, [0] namedCurve, [1] publicKey }
        let (rest, key) = Any::from_der(der).unwrap();
        assert!(rest.is_empty() && key.tag() == Tag::Sequence);
        let mut fields = Vec::new();
        let mut body = key.data;
        while !body.is_empty() {
            let (rest, field) = Any::from_der(body).unwrap();
            fields.push(field);
            body = rest;
        }
        let shape: Vec<_> = fields.iter().map(|f| (f.class(), f.tag())).collect();
        assert_eq!(
            shape,
            [
                (Class::Universal, Tag::Integer),
                (Class::Universal, Tag::OctetString),
                (Class::ContextSpecific, Tag(0)),
                (Class::ContextSpecific, Tag(1)),
            ],
            "{key_alg:?}"
        );
        let (_, named_curve) = Any::from_der(fields[2].data).unwrap();
        assert_eq!(named_curve.oid().unwrap(), curve, "{key_alg:?}");

        let key = EcdsaKeyPair::from_private_key_der(signing, der).expect("aws-lc loads SEC1");
        let message = b"REGISTER sip:example.test SIP/2.0";
        let signature = key.sign(&SystemRandom::new(), message).unwrap();
        let cert_der = CertificateDer::from(leaf.cert_der.as_slice());
        EndEntityCert::try_from(&cert_der)
            .unwrap()
            .verify_signature(verifying, message, signature.as_ref())
            .unwrap_or_else(|err| panic!("{key_alg:?}: SEC1 key does not match: {err:?}"));

        assert_eq!(leaf.key_pkcs1_pem(), None);
    }
}

#[test]
fn ed25519_has_no_legacy_key_form() {
    let leaf = leaf_with(&root_for(KeyAlg::Ed25519), "ed.test", |spec| {
        spec.key_alg = KeyAlg::Ed25519;
    });
    assert_eq!(leaf.key_pkcs1_pem(), None);
    assert_eq!(leaf.key_sec1_pem(), None);
}

#[test]
fn chain_pem_keeps_the_given_order() {
    let root = Authority::root("Root CA");
    let intermediate = root.intermediate("Issuing CA");
    let leaf = intermediate.leaf(&LeafSpec::new("a.test"));
    let pem = chain_pem(&[&leaf, intermediate.issued(), root.issued()]);
    let ders: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|cert| cert.unwrap().to_vec())
        .collect();
    assert_eq!(
        ders,
        [
            leaf.cert_der.clone(),
            intermediate.issued().cert_der.clone(),
            root.issued().cert_der.clone(),
        ]
    );
    assert_eq!(chain_pem(&[]), "");
}

#[test]
#[should_panic(expected = "subjectAltName \"sip:\u{e9}mile@example.test\"")]
fn non_ascii_subject_alt_names_are_refused() {
    let mut spec = LeafSpec::new("a.test");
    spec.uris = vec!["sip:\u{e9}mile@example.test".into()];
    self_signed(&spec);
}

#[test]
fn material_can_be_shared_between_threads() {
    // Tests commonly keep one CA in a static; that needs Send + Sync.
    fn shareable<T: Send + Sync>() {}
    shareable::<Authority>();
    shareable::<Issued>();
    shareable::<LeafSpec>();
    shareable::<siptls_certgen::Crl>();
}
