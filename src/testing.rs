//! Support for the core's unit tests: one generated PKI, made once per test
//! run; contexts configured with it; and a client and a server `Session`
//! driven through each other in memory, as safe Rust (no pointers, no C
//! ABI).

use std::sync::OnceLock;

use pki_types::CertificateDer;
use siptls_certgen::{Authority, Issued, LeafSpec};

use crate::abi::{siptls_result, siptls_result::*, siptls_role};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::session::{Session, Sink, State};
use crate::verify::PeerChain;

pub const SERVER_NAME: &str = "proxy.example.test";
pub const CLIENT_NAME: &str = "gw.example.test";
pub const DEEP_NAME: &str = "deep.example.test";
/// The server certificate's serial, for CRLs that revoke it.
pub const SERVER_SERIAL: u64 = 0x5e77e5;
/// The trust ID of the root in the contexts made here.
pub const ROOT_ID: u32 = 1;

pub struct Pki {
    pub root: Authority,
    /// An intermediate CA under `root`.
    pub issuing: Authority,
    /// A root no context made here trusts unless a test adds it.
    pub other_root: Authority,
    /// `root`'s: the SIP server `SERVER_NAME` (serial `SERVER_SERIAL`).
    pub server: Issued,
    /// `root`'s: the SIP client `CLIENT_NAME`.
    pub client: Issued,
    /// `issuing`'s: a SIP element two CAs below the root.
    pub deep: Issued,
    /// `other_root`'s, named as the server is.
    pub stranger: Issued,
    /// `root`'s: the SIP domain `sip.example.org` by URI, and by dNSName
    /// `www.example.test` and `*.example.test`.
    pub named: Issued,
}

/// The PKI every core test shares, made on first use.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = Authority::root("Core Test Root");
        let server = root.leaf(&LeafSpec {
            serial: Some(SERVER_SERIAL),
            ..LeafSpec::sip(SERVER_NAME)
        });
        let issuing = root.intermediate("Core Test Issuing CA");
        let other_root = Authority::root("Core Test Other Root");
        let named = root.leaf(&LeafSpec {
            dns_names: vec!["www.example.test".into(), "*.example.test".into()],
            uris: vec!["sip:sip.example.org".into()],
            ..LeafSpec::new("named.example.test")
        });
        Pki {
            server,
            client: root.sip_leaf(CLIENT_NAME),
            deep: issuing.sip_leaf(DEEP_NAME),
            stranger: other_root.sip_leaf(SERVER_NAME),
            named,
            root,
            issuing,
            other_root,
        }
    })
}

pub fn der(issued: &Issued) -> CertificateDer<'static> {
    CertificateDer::from(issued.cert_der.clone())
}

/// A chain as the peer sends it and a stored session carries it, end
/// entity first.
pub fn chain(certs: &[&Issued]) -> PeerChain {
    certs.iter().map(|c| der(c)).collect()
}

/// A context of `role` presenting `identity` and trusting `pki().root` as
/// `ROOT_ID`.
pub fn context(role: siptls_role, identity: &Issued) -> Context {
    let ctx = Context::new(role);
    ctx.set_identity_pem(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes())
        .unwrap();
    ctx.trust_add(ROOT_ID, pki().root.issued().cert_pem.as_bytes())
        .unwrap();
    ctx
}

pub fn server_context() -> Context {
    context(siptls_role::SIPTLS_ROLE_SERVER, &pki().server)
}

pub fn client_context() -> Context {
    context(siptls_role::SIPTLS_ROLE_CLIENT, &pki().client)
}

/// What a detail text must not look like: a debug dump or an internal name.
const DUMP_MARKS: &[&str] = &[
    "Some(",
    "None)",
    "Context {",
    "Error {",
    "Policy {",
    "UnknownIssuer",
    "CertRevoked",
    "CertExpired",
    "MaximumPathDepthExceeded",
    "SIPTLS_VERIFY_",
];

/// `text` reads as sentences for an operator, and names `what`.
pub fn assert_sentence_naming(text: &str, what: &str) {
    for mark in DUMP_MARKS {
        assert!(!text.contains(mark), "a debug dump ({mark}): {text}");
    }
    assert!(text.contains(what), "{what} is not named: {text}");
}

/// A caller's buffer, as a `Vec` that never grows past its capacity.
pub struct VecSink {
    pub bytes: Vec<u8>,
    cap: usize,
}

impl VecSink {
    pub fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(cap),
            cap,
        }
    }
}

impl Sink for VecSink {
    fn room(&self) -> usize {
        self.cap - self.bytes.len()
    }

    fn put(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.room());
        self.bytes.extend_from_slice(&bytes[..n]);
        n
    }
}

/// One call on the session, as the C wrappers make it.
pub fn on<T>(session: &Session, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
    session.with(f).0
}

/// Which end of a transfer failed, and how.
pub enum Failed {
    Sender(Error),
    Receiver(Error),
}

/// Moves all pending ciphertext from one session into the other; returns
/// whether anything moved.
pub fn transfer(from: &Session, to: &Session) -> std::result::Result<bool, Failed> {
    let mut moved = false;
    loop {
        let mut out = VecSink::new(16 * 1024);
        let (code, _) = on(from, |s| s.take(&mut out)).map_err(Failed::Sender)?;
        if code == SIPTLS_AGAIN {
            return Ok(moved);
        }
        moved = true;
        let mut rest = &out.bytes[..];
        while !rest.is_empty() {
            match on(to, |s| s.feed(rest)).map_err(Failed::Receiver)? {
                (SIPTLS_OK, used) => rest = &rest[used..],
                // What follows close_notify means nothing.
                (SIPTLS_PEER_CLOSED, _) => break,
                (code, _) => panic!("feed returned {code:?} with little data in flight"),
            }
        }
    }
}

/// How each side ended a pump: the first failure each reported.
#[derive(Debug, Default)]
pub struct Pumped {
    pub client: Option<Error>,
    pub server: Option<Error>,
}

impl Pumped {
    pub fn codes(&self) -> (Option<siptls_result>, Option<siptls_result>) {
        (
            self.client.as_ref().map(|e| e.code),
            self.server.as_ref().map(|e| e.code),
        )
    }
}

/// Moves ciphertext both ways until neither side has anything to send or
/// one fails; a failed side's alert still reaches the other.
pub fn pump(client: &Session, server: &Session) -> Pumped {
    let mut ended = Pumped::default();
    for _ in 0..1000 {
        let mut moved = false;
        for (from, to, client_sends) in [(client, server, true), (server, client, false)] {
            match transfer(from, to) {
                Ok(m) => moved |= m,
                Err(Failed::Sender(e)) if client_sends => ended.client = Some(e),
                Err(Failed::Sender(e)) => ended.server = Some(e),
                Err(Failed::Receiver(e)) if client_sends => ended.server = Some(e),
                Err(Failed::Receiver(e)) => ended.client = Some(e),
            }
        }
        if ended.client.is_some() || ended.server.is_some() {
            let _ = transfer(client, server);
            let _ = transfer(server, client);
            return ended;
        }
        if !moved {
            return ended;
        }
    }
    panic!("the sessions kept sending");
}

/// The certificates' PEM blocks, one after the other: a CA list.
pub fn pem_list(certs: &[&Issued]) -> Vec<u8> {
    siptls_certgen::chain_pem(certs).into_bytes()
}

/// A client session to `SERVER_NAME` and a server session of the contexts.
pub fn sessions(client: &Context, server: &Context) -> (Session, Session) {
    (
        Session::new(client, Some(SERVER_NAME)).unwrap(),
        Session::new(server, None).unwrap(),
    )
}

/// Pumps a handshake that must succeed on both sides.
pub fn handshake(client: &Session, server: &Session) {
    let ended = pump(client, server);
    assert_eq!(ended.codes(), (None, None), "{ended:?}");
    for s in [client, server] {
        assert!(!on(s, |s| Ok(s.info().handshaking)).unwrap());
    }
}

/// Everything readable now, and the code the read that found no more gave.
pub fn read_all(session: &Session) -> (Vec<u8>, Result<siptls_result>) {
    let mut all = Vec::new();
    loop {
        let mut out = VecSink::new(4096);
        match on(session, |s| s.read(&mut out)) {
            Ok((SIPTLS_OK, _)) => all.extend_from_slice(&out.bytes),
            other => return (all, other.map(|(code, _)| code)),
        }
    }
}
