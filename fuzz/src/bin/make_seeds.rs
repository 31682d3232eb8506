//! Writes the seed corpora into `<dir>/<target>/seed-*` (default dir:
//! `fuzz/corpus`, next to this crate's Cargo.toml).
//!
//! Nothing is downloaded: every seed comes from a PKI generated here with
//! siptls-certgen and from handshakes run in memory through the C API.
//!
//! Usage: make_seeds [CORPUS_DIR]

use std::fs;
use std::path::{Path, PathBuf};

use siptls_fuzz::*;

/// Flights of a handshake plus a little application data, by direction.
struct Capture {
    /// Everything the client sent, flight by flight.
    client: Vec<Vec<u8>>,
    /// Everything the server sent, flight by flight.
    server: Vec<Vec<u8>>,
    /// Application data and close_notify records, client to server.
    client_records: Vec<u8>,
    /// Application data and close_notify records, server to client.
    server_records: Vec<u8>,
}

const INVITE: &[u8] = b"INVITE sip:bob@gw-b.example.test SIP/2.0\r\n\
Via: SIP/2.0/TLS gw-a.example.test:5061;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@gw-b.example.test>\r\n\
From: Alice <sip:alice@gw-a.example.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@gw-a.example.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sips:alice@gw-a.example.test>\r\n\
Content-Length: 0\r\n\r\n";

const OK_200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TLS gw-a.example.test:5061;branch=z9hG4bK776asdhds\r\n\
To: Bob <sip:bob@gw-b.example.test>;tag=a6c85cf\r\n\
From: Alice <sip:alice@gw-a.example.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@gw-a.example.test\r\n\
CSeq: 314159 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// Runs a handshake in memory, flight by flight, recording what each side sends.
fn capture(client_kind: CtxKind, server_kind: CtxKind) -> Capture {
    let mut client = Sess::client(client_kind);
    let mut server = Sess::server(server_kind);
    let mut cap = Capture {
        client: Vec::new(),
        server: Vec::new(),
        client_records: Vec::new(),
        server_records: Vec::new(),
    };
    let mut sink = Vec::new();
    for _ in 0..10 {
        let c = client.take_all(1 << 16);
        if !c.is_empty() {
            assert_eq!(
                feed_all(&mut server, &c, Chunking::WHOLE, &mut sink),
                Ok(Fed::All)
            );
            cap.client.push(c);
        }
        let s = server.take_all(1 << 16);
        if !s.is_empty() {
            assert_eq!(
                feed_all(&mut client, &s, Chunking::WHOLE, &mut sink),
                Ok(Fed::All)
            );
            cap.server.push(s);
        }
        if !client.info().handshaking && !server.info().handshaking && !client.info().wants_send {
            break;
        }
    }
    assert!(
        !client.info().handshaking && !server.info().handshaking,
        "handshake"
    );
    assert_eq!(client.write(INVITE), (SIPTLS_OK, INVITE.len()));
    client.close();
    cap.client_records = client.take_all(1 << 16);
    assert_eq!(server.write(OK_200), (SIPTLS_OK, OK_200.len()));
    server.close();
    cap.server_records = server.take_all(1 << 16);
    cap
}

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn put(&mut self, name: &str, bytes: &[u8]) {
        let path = self.dir.join(format!("seed-{name}"));
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        self.count += 1;
    }
}

fn seeds_for(root: &Path, target: &str) -> Seeds {
    let dir = root.join(target);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    Seeds { dir, count: 0 }
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn feed_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "feed_ciphertext");
    let both = capture(CtxKind::client(), CtxKind::server());
    let tls12 = CtxKind {
        tls12_only: true,
        ..CtxKind::client()
    };
    let old = capture(
        tls12,
        CtxKind {
            tls12_only: true,
            ..CtxKind::server()
        },
    );
    let seed = |mode: u8, chunk: u8, cap: u8, bytes: &[u8]| concat(&[&[mode, chunk, cap], bytes]);

    // Fresh client fed a server's flights (override contexts get further).
    for (name, flights) in [("tls13", &both.server), ("tls12", &old.server)] {
        let all = flights.concat();
        s.put(
            &format!("client-{name}-server-flight1"),
            &seed(0x00, 0, 7, &flights[0]),
        );
        s.put(
            &format!("client-{name}-server-all"),
            &seed(0x04, 0, 7, &all),
        );
        s.put(
            &format!("client-{name}-server-all-chunk7"),
            &seed(0x44, 7, 4, &all),
        );
        s.put(
            &format!("client-{name}-server-flight1-eof"),
            &seed(0x24, 0, 5, &flights[0]),
        );
    }
    s.put(
        "client-tls12only-server-tls12",
        &seed(0x0c, 0, 6, &old.server[0]),
    );
    // Fresh server fed a client's flights.
    for (name, flights) in [("tls13", &both.client), ("tls12", &old.client)] {
        let all = flights.concat();
        s.put(
            &format!("server-{name}-client-hello"),
            &seed(0x01, 0, 7, &flights[0]),
        );
        s.put(
            &format!("server-{name}-client-all"),
            &seed(0x05, 0, 7, &all),
        );
        s.put(
            &format!("server-{name}-client-all-optional"),
            &seed(0x15, 0, 7, &all),
        );
        s.put(
            &format!("server-{name}-client-hello-chunk1"),
            &seed(0x41, 1, 3, &flights[0]),
        );
    }
    s.put(
        "server-tls12only-client-hello",
        &seed(0x09, 0, 6, &old.client[0]),
    );
    // Established pairs fed records (valid framing, wrong keys) and plaintext alerts.
    s.put(
        "pair-client-appdata",
        &seed(0x02, 0, 6, &both.server_records),
    );
    s.put(
        "pair-server-appdata",
        &seed(0x03, 0, 6, &both.client_records),
    );
    s.put(
        "pair-client-appdata-tls12",
        &seed(0x0a, 3, 4, &old.server_records),
    );
    s.put(
        "pair-server-appdata-tls12-eof",
        &seed(0x2b, 0, 4, &old.client_records),
    );
    let close_notify = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00];
    let fatal = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    s.put(
        "client-plain-close-notify",
        &seed(0x20, 0, 7, &close_notify),
    );
    s.put("server-plain-fatal-alert", &seed(0x01, 0, 7, &fatal));
    s.put(
        "pair-server-plain-close-notify",
        &seed(0x23, 0, 7, &close_notify),
    );
    // An SSLv2-style ClientHello header and an oversized record header.
    s.put(
        "server-sslv2-hello",
        &seed(0x01, 0, 7, &[0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]),
    );
    s.put(
        "server-huge-record",
        &seed(0x01, 0, 7, &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),
    );
    s.count
}

fn load_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "load_inputs");
    let p = make_pki();
    let root_ca = p.root.issued();
    let issuing = p.root.intermediate("siptls Fuzz Issuing CA");
    let mut spec = LeafSpec::new("proxy.example.test");
    spec.uris = vec![
        "sip:proxy.example.test".into(),
        "sip:alice@example.test".into(),
    ];
    spec.ips = vec!["::1".parse().expect("IP")];
    let leaf = issuing.leaf(&spec);
    let mut rsa_spec = LeafSpec::new("rsa.example.test");
    rsa_spec.key_alg = KeyAlg::Rsa2048;
    let rsa = p.root.leaf(&rsa_spec);
    let mut ed_spec = LeafSpec::new("ed.example.test");
    ed_spec.key_alg = KeyAlg::Ed25519;
    ed_spec.omit_san = true;
    let ed = siptls_certgen::self_signed(&ed_spec);
    let mut p384_spec = LeafSpec::new("p384.example.test");
    p384_spec.key_alg = KeyAlg::EcdsaP384;
    let p384 = p.root.leaf(&p384_spec);
    let chain = siptls_certgen::chain_pem(&[&leaf, issuing.issued(), root_ca]);
    let ca_list = siptls_certgen::chain_pem(&[root_ca, issuing.issued()]);
    let crl2 = issuing.crl(&[1, 2, 3], 7);

    // "Whole" mode: byte 0 = role (bit 0) and trust ID (bits 1-6).
    let whole = |role: u8, bytes: &[u8]| concat(&[&[role | (5 << 1)], bytes]);
    for (name, bytes) in [
        ("root-pem", root_ca.cert_pem.as_bytes()),
        ("root-der", &root_ca.cert_der[..]),
        ("leaf-pem", leaf.cert_pem.as_bytes()),
        ("leaf-der", &leaf.cert_der[..]),
        ("chain-pem", chain.as_bytes()),
        ("ca-list-pem", ca_list.as_bytes()),
        ("key-pkcs8", leaf.key_pem.as_bytes()),
        ("crl-pem", p.crl.pem.as_bytes()),
        ("crl-der", &p.crl.der[..]),
        ("rsa-cert", rsa.cert_pem.as_bytes()),
        ("ed25519-selfsigned", ed.cert_pem.as_bytes()),
        ("p384-cert", p384.cert_pem.as_bytes()),
    ] {
        s.put(&format!("whole-client-{name}"), &whole(0, bytes));
        s.put(&format!("whole-server-{name}"), &whole(1, bytes));
    }
    let sec1 = leaf.key_sec1_pem().expect("SEC1");
    let pkcs1 = rsa.key_pkcs1_pem().expect("PKCS#1");
    s.put("whole-server-key-sec1", &whole(1, sec1.as_bytes()));
    s.put("whole-server-key-pkcs1", &whole(1, pkcs1.as_bytes()));
    s.put("whole-server-key-ed25519", &whole(1, ed.key_pem.as_bytes()));
    let both = format!("{}{}", p.server.cert_pem, p.server.key_pem);
    s.put("whole-server-cert-and-key", &whole(1, both.as_bytes()));
    let rsa_both = format!("{}{}", rsa.cert_pem, pkcs1);
    s.put(
        "whole-server-rsa-cert-and-key",
        &whole(1, rsa_both.as_bytes()),
    );
    s.put(
        "whole-encrypted-key",
        &whole(
            1,
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ),
    );
    s.put(
        "whole-legacy-encrypted-key",
        &whole(
            1,
            b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
        ),
    );
    s.put(
        "whole-csr",
        &whole(
            0,
            b"-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n",
        ),
    );
    s.put(
        "whole-unterminated",
        &whole(0, b"-----BEGIN CERTIFICATE-----\nMIIB\n"),
    );
    // Control bytes in a label end up quoted in the error detail.
    s.put(
        "whole-nul-in-label",
        &whole(
            0,
            b"-----BEGIN CERT\0IFI\x1b[2JCATE-----\nAAAA\n-----END CERT\0IFI\x1b[2JCATE-----\n",
        ),
    );

    // Script mode: byte 0 = 0x80 | role, then [op][arg] blobs.
    let script = |role: u8, cmds: &[(u8, u8, &[&[u8]])]| {
        let mut out = vec![0x80 | role];
        for (op, arg, blobs) in cmds {
            out.push(*op);
            out.push(*arg);
            for blob in *blobs {
                put_blob(&mut out, blob);
            }
        }
        out
    };
    s.put(
        "script-server-identity",
        &script(
            1,
            &[(
                0,
                0,
                &[p.server.cert_pem.as_bytes(), p.server.key_pem.as_bytes()],
            )],
        ),
    );
    s.put(
        "script-server-identity-chain-sec1",
        &script(1, &[(0, 0, &[chain.as_bytes(), sec1.as_bytes()])]),
    );
    s.put(
        "script-server-identity-mismatch",
        &script(
            1,
            &[(
                0,
                0,
                &[p.server.cert_pem.as_bytes(), p.client.key_pem.as_bytes()],
            )],
        ),
    );
    s.put(
        "script-client-ca-list-then-crls",
        &script(
            0,
            &[
                (2, 1, &[ca_list.as_bytes()]),
                (3, 0, &[p.crl.pem.as_bytes()]),
                (3, 0, &[&crl2.der]),
                (3, 0, &[format!("{}{}", p.crl.pem, crl2.pem).as_bytes()]),
            ],
        ),
    );
    s.put(
        "script-server-trust-der-crl-der",
        &script(1, &[(1, 9, &[&root_ca.cert_der]), (3, 0, &[&p.crl.der])]),
    );
    s.put(
        "script-client-trust-ops",
        &script(
            0,
            &[
                (1, 3, &[root_ca.cert_pem.as_bytes()]),
                (1, 3, &[issuing.issued().cert_pem.as_bytes()]),
                (1, 4, &[issuing.issued().cert_pem.as_bytes()]),
                (5, 3, &[b"example.test"]),
                (5, 4, &[]),
                (5, 7, &[b"not a domain!"]),
                (4, 3, &[]),
                (4, 3, &[]),
                (1, 3, &[ed.cert_pem.as_bytes()]),
            ],
        ),
    );
    s.put(
        "script-client-session-names",
        &script(
            0,
            &[
                (6, 0, &[SERVER_NAME.as_bytes()]),
                (6, 0, &[b"127.0.0.1"]),
                (6, 0, &[b"::1"]),
                (6, 0, &[b"bad name!"]),
                (6, 0, &[b""]),
                (6, 0, &[b"sip:gw-b.example.test"]),
            ],
        ),
    );
    s.put(
        "script-server-real-material",
        &script(
            1,
            &[
                (7, 0, &[]),
                (7, 1, &[]),
                (7, 2, &[]),
                (7, 3, &[]),
                (7, 4, &[]),
                (7, 5, &[]),
                (6, 0, &[]),
            ],
        ),
    );
    s.put(
        "script-client-real-material",
        &script(
            0,
            &[
                (7, 6, &[]),
                (7, 7, &[]),
                (7, 0, &[]),
                (3, 0, &[p.crl.pem.as_bytes()]),
            ],
        ),
    );
    // Sixteen entries, then a seventeenth.
    let root_der: [&[u8]; 1] = [&root_ca.cert_der];
    let full: Vec<(u8, u8, &[&[u8]])> = (0..17u8).map(|id| (1u8, id, &root_der[..])).collect();
    s.put("script-client-table-full", &script(0, &full));
    s.count
}

fn pump_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "pump_roundtrip");
    let header =
        |flags: u8, c2s: u8, s2c: u8, take: u8, read: u8| vec![flags, c2s, s2c, take, read];
    let msg = |out: &mut Vec<u8>, h: u8, bytes: &[u8]| {
        out.push(h);
        put_blob(out, bytes);
    };

    let mut basic = header(0, 0, 0, 7, 7);
    msg(&mut basic, 0b10, INVITE);
    msg(&mut basic, 0b11, OK_200);
    s.put("invite-ok-tls13", &basic);

    let mut tls12 = header(0b1, 0, 0, 6, 6);
    msg(&mut tls12, 0b10, INVITE);
    msg(&mut tls12, 0b11, OK_200);
    s.put("invite-ok-tls12", &tls12);

    let mut small = header(0b110, 1, 3, 2, 1);
    msg(
        &mut small,
        0b00,
        b"REGISTER sip:example.test SIP/2.0\r\n\r\n",
    );
    msg(&mut small, 0b01, b"SIP/2.0 401 Unauthorized\r\n\r\n");
    msg(&mut small, 0b10, b"x");
    s.put("small-chunks-half-close", &small);

    let mut batched = header(0b1010, 200, 17, 4, 3);
    for i in 0..6u8 {
        msg(
            &mut batched,
            i & 1,
            &vec![b'a' + i; 100 * usize::from(i + 1)],
        );
    }
    msg(&mut batched, 0b10, b"flush");
    s.put("batched-both-ways", &batched);

    // Larger than the 16 KiB receive buffer: BUFFER_FULL and partial feeds.
    let mut big = header(0b10, 0, 0, 7, 3);
    let body: Vec<u8> = (0..17_000u32).map(|i| (i % 251) as u8).collect();
    msg(&mut big, 0b00, &body);
    msg(&mut big, 0b01, &body[..16_500]);
    msg(&mut big, 0b10, b"end");
    s.put("bigger-than-buffers", &big);

    let mut empty = header(0b1000, 5, 5, 5, 5);
    msg(&mut empty, 0b00, b"");
    msg(&mut empty, 0b01, b"");
    s.put("empty-writes", &empty);

    s.put("handshake-only", &header(0, 0, 0, 0, 0));
    s.put(
        "handshake-only-tls12-byte-at-a-time",
        &header(0b1, 1, 1, 0, 0),
    );
    s.count
}

/// Call sequences for `api_sequence` (see its module doc for the ops).
fn api_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "api_sequence");
    let op = |out: &mut Vec<u8>, op: u8, arg: u8| out.extend([op, arg]);
    // Pump sessions 0 and 1 with 15 KiB takes.
    const PUMP: u8 = 0xF4;
    let mut setup = Vec::new();
    for (o, a) in [
        (0, 0),
        (0, 3),
        (2, 0),
        (2, 1),
        (3, 2),
        (3, 3),
        (8, 0),
        (8, 5),
        (10, PUMP),
    ] {
        op(&mut setup, o, a);
    }
    s.put("handshake", &setup);

    let mut call = setup.clone();
    op(&mut call, 11, 0);
    put_blob(&mut call, INVITE);
    op(&mut call, 10, PUMP);
    op(&mut call, 12, 1 | (8 << 2));
    op(&mut call, 14, 1);
    op(&mut call, 13, 0);
    op(&mut call, 10, PUMP);
    op(&mut call, 12, 1 | (8 << 2));
    s.put("call-and-close", &call);

    let mut reload = setup.clone();
    for (o, a) in [
        (4, 1),
        (8, 2 | (1 << 2)),
        (4, 3),
        (10, PUMP),
        (7, 1),
        (6, 1),
        (5, 1),
    ] {
        op(&mut reload, o, a);
    }
    put_blob(
        &mut reload,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    s.put("reloads-mid-call", &reload);

    // Misuse: the contexts freed under live sessions, then every call on them.
    let mut orphans = setup.clone();
    for (o, a) in [
        (1, 0),
        (1, 1),
        (11, 0),
        (10, PUMP),
        (12, 1 | (8 << 2)),
        (13, 4),
        (14, 0),
        (9, 0),
        (9, 1),
        (12, 0),
    ] {
        op(&mut orphans, o, a);
        if o == 11 {
            put_blob(&mut orphans, OK_200);
        }
    }
    s.put("orphaned-sessions", &orphans);

    let mut garbage = setup;
    op(&mut garbage, 15, 1);
    put_blob(&mut garbage, &[0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5]);
    op(&mut garbage, 12, 1 | (8 << 2));
    op(&mut garbage, 10, PUMP);
    s.put("garbage-record", &garbage);
    s.count
}

/// `tickets` input: `[count] ([u16 length] DER)... state`; real chains, so
/// the checks run on certificates that parse.
fn ticket_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "tickets");
    let ca = Authority::root("siptls Fuzz Ticket Root");
    let leaf = ca.sip_leaf("gw-a.example.test");
    let chain = |certs: &[&[u8]], state: &[u8]| {
        let mut input = vec![certs.len() as u8];
        for der in certs {
            input.extend_from_slice(&(der.len() as u16).to_be_bytes());
            input.extend_from_slice(der);
        }
        input.extend_from_slice(state);
        input
    };
    let (leaf_der, ca_der) = (&leaf.cert_der[..], &ca.issued().cert_der[..]);
    s.put(
        "leaf-and-root",
        &chain(&[leaf_der, ca_der], b"\x00\x03\x04rustls-state"),
    );
    s.put("leaf-only", &chain(&[leaf_der], b"state"));
    s.put("anonymous", &chain(&[], b"state"));
    s.put("no-state", &chain(&[leaf_der], b""));
    s.count
}

/// `sip_framer` input: `[mode][limits]` then the stream.
fn sip_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "sip_framer");
    let options = b"OPTIONS sip:gw-b.example.test SIP/2.0\r\nVia: SIP/2.0/TLS a.example.test;branch=z9hG4bK1\r\nl: 0\r\n\r\n";
    let invite = b"INVITE sip:b@gw SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: 13\r\n\r\nv=0\r\ns=-\r\nt=0";
    let folded = b"SIP/2.0 200 OK\r\nSubject: a\r\n  folded\r\ncontent-length :\t2\r\n\r\nok";
    let stream = [&options[..], b"\r\n\r\n", invite, b"\r\n", folded].concat();
    for (name, mode, limits, bytes) in [
        ("stream-whole", 0u8, 0u8, &stream[..]),
        ("stream-chunk-7", 7 << 2, 0, &stream[..]),
        ("stream-small-limits", 1 << 2, 1, &stream[..]),
        ("client-pongs", 2 | 3 << 2, 0, b"\r\n\r\n"),
        (
            "two-lengths",
            0,
            0,
            b"SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 1\r\n\r\nx",
        ),
        (
            "huge-limits-wrapping-length",
            0,
            2,
            b"OPTIONS sip:gw SIP/2.0\r\nContent-Length: 18446744073709551615\r\n\r\n",
        ),
    ] {
        s.put(name, &concat(&[&[mode, limits], bytes]));
    }
    s.count
}

/// A DNS name in wire form.
fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    out.push(0);
    out
}

/// A DNS reply to `name`/`rrtype` with one answer of `rdata` (none when
/// empty; NXDOMAIN when `rcode` is 3).
fn dns_reply(name: &str, rrtype: u16, rcode: u8, rdata: &[u8]) -> Vec<u8> {
    let answers = u16::from(!rdata.is_empty());
    let mut m = vec![0, 0, 0x81, 0x80 | rcode, 0, 1, 0, answers as u8, 0, 0, 0, 0];
    m.extend(dns_name(name));
    m.extend(rrtype.to_be_bytes());
    m.extend([0, 1]);
    if answers == 1 {
        // The name by pointer to the question, class IN, TTL 60.
        m.extend([0xc0, 0x0c]);
        m.extend(rrtype.to_be_bytes());
        m.extend([0, 1, 0, 0, 0, 60]);
        m.extend((rdata.len() as u16).to_be_bytes());
        m.extend(rdata);
    }
    m
}

/// `dns_answers` input: `[pick]` then `[u16 length][reply]` per query, in
/// the order resolution asks.
fn dns_seeds(root: &Path) -> usize {
    let mut s = seeds_for(root, "dns_answers");
    let framed = |replies: &[Vec<u8>]| {
        let mut out = vec![0u8];
        for reply in replies {
            out.extend((reply.len() as u16).to_be_bytes());
            out.extend(reply);
        }
        out
    };
    let mut naptr = vec![0, 10, 0, 10, 1, b's', 8];
    naptr.extend(b"SIPS+D2T");
    naptr.push(0);
    naptr.extend(dns_name("_sips._tcp.example.test"));
    let mut srv = vec![0, 10, 0, 5, 0x13, 0xc5];
    srv.extend(dns_name("edge.example.test"));
    let a = [192, 0, 2, 7];
    let mut aaaa = vec![0x20, 0x01, 0x0d, 0xb8];
    aaaa.extend([0; 11]);
    aaaa.push(7);
    s.put(
        "naptr-srv-address",
        &framed(&[
            dns_reply("example.test", 35, 0, &naptr),
            dns_reply("_sips._tcp.example.test", 33, 0, &srv),
            dns_reply("edge.example.test", 28, 0, &aaaa),
            dns_reply("edge.example.test", 1, 0, &a),
        ]),
    );
    s.put(
        "srv-only",
        &framed(&[
            dns_reply("example.test", 35, 0, &[]),
            dns_reply("_sips._tcp.example.test", 33, 0, &srv),
            dns_reply("edge.example.test", 28, 0, &[]),
            dns_reply("edge.example.test", 1, 0, &a),
        ]),
    );
    s.put(
        "nxdomain",
        &framed(&[dns_reply("example.test", 35, 3, &[])]),
    );
    s.count
}

fn main() {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"),
        PathBuf::from,
    );
    let feed = feed_seeds(&dir);
    let load = load_seeds(&dir);
    let pump = pump_seeds(&dir);
    let api = api_seeds(&dir);
    let tickets = ticket_seeds(&dir);
    let sip = sip_seeds(&dir);
    let dns = dns_seeds(&dir);
    println!(
        "make_seeds: {} (feed_ciphertext {feed}, load_inputs {load}, pump_roundtrip {pump}, api_sequence {api}, tickets {tickets}, sip_framer {sip}, dns_answers {dns})",
        dir.display()
    );
}
