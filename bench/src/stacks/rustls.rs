//! Raw rustls, configured the way siptls configures it.

use std::io::{self, Read, Write};
use std::sync::Arc;

use siptls_certgen::Issued;

use crate::harness::{Case, Rotation, Stack, Version, CHUNK};
use crate::pki::{Pki, SERVER_NAME};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConnection, RootCertStore, ServerConnection};

pub struct Rustls {
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
    /// First contact: a client configuration per certificate.
    first_contact: Rotation<Arc<rustls::ClientConfig>>,
    case: Case,
    resumed: bool,
}

fn identity(issued: &Issued) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let certs = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (
        certs,
        PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
    )
}

fn versions(case: Case) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match case.version {
        Version::Tls12 => &TLS12,
        Version::Tls13 => &TLS13,
    }
}

fn roots(pki: &Pki) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(pki.root.issued().cert_der.clone()))
        .unwrap();
    Arc::new(roots)
}

fn client_config(pki: &Pki, identity_of: &Issued, case: Case) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (cert, key) = identity(identity_of);
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(case))
        .unwrap()
        .with_root_certificates(roots(pki))
        .with_client_auth_cert(cert, key)
        .unwrap();
    if !case.resumed {
        client.resumption = rustls::client::Resumption::disabled();
    }
    client
}

impl Rustls {
    fn configs(pki: &Pki, case: Case) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client = client_config(pki, &pki.client, case);
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots(pki),
            provider.clone(),
        )
        .build()
        .unwrap();
        let (cert, key) = identity(&pki.server);
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions(case))
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(cert, key)
            .unwrap();
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        if case.resumed {
            // As siptls: stateless tickets, one TLS 1.3 ticket per handshake.
            server.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
            server.send_tls13_tickets = 1;
        } else {
            server.send_tls13_tickets = 0;
        }
        Self {
            client: Arc::new(client),
            server: Arc::new(server),
            first_contact: Rotation::default(),
            case,
            resumed: false,
        }
    }
}

/// Moves all pending ciphertext from one connection into the other,
/// through a fixed buffer as a gateway's socket loop does (the same
/// pattern the siptls side is driven with).
fn flow(from: &mut rustls::Connection, to: &mut rustls::Connection, buf: &mut [u8]) -> bool {
    let mut moved = false;
    while from.wants_write() {
        let n = from.write_tls(&mut &mut buf[..]).unwrap();
        moved = true;
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            to.read_tls(&mut rest).unwrap();
            to.process_new_packets().unwrap();
        }
    }
    moved
}

pub struct Pair {
    client: rustls::Connection,
    server: rustls::Connection,
}

impl Stack for Rustls {
    type Pair = Pair;
    const NAME: &'static str = "rustls";

    fn new(pki: &Pki, case: Case) -> Self {
        Self::configs(pki, case)
    }

    fn expect_resumed(&mut self, resumed: bool) {
        self.resumed = resumed;
    }

    fn present(&mut self, pki: &Pki, clients: &[Issued]) {
        self.first_contact = Rotation::new(
            clients
                .iter()
                .map(|c| Arc::new(client_config(pki, c, self.case)))
                .collect(),
        );
    }

    fn connect(&self) -> Pair {
        let client = self.first_contact.take().unwrap_or(&self.client);
        let name = SERVER_NAME.try_into().unwrap();
        let mut pair = Pair {
            client: ClientConnection::new(client.clone(), name).unwrap().into(),
            server: ServerConnection::new(self.server.clone()).unwrap().into(),
        };
        let mut buf = vec![0u8; 2 * CHUNK];
        while flow(&mut pair.client, &mut pair.server, &mut buf)
            | flow(&mut pair.server, &mut pair.client, &mut buf)
        {}
        assert!(!pair.client.is_handshaking() && !pair.server.is_handshaking());
        let resumed = pair.client.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        assert_eq!(resumed, self.resumed, "rustls resumption");
        pair
    }

    fn send(&self, pair: &mut Pair, data: &[u8]) -> usize {
        pair.client.writer().write(data).unwrap()
    }

    fn deliver(&self, pair: &mut Pair, buf: &mut [u8]) {
        flow(&mut pair.client, &mut pair.server, buf);
    }

    fn receive(&self, pair: &mut Pair, sink: &mut [u8]) -> usize {
        let mut total = 0;
        loop {
            match pair.server.reader().read(sink) {
                Ok(0) => return total,
                // Short: everything waiting was read (as with siptls).
                Ok(n) if n < sink.len() => return total + n,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
                Err(e) => panic!("rustls read: {e}"),
            }
        }
    }
}
