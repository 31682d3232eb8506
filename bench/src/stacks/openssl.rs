//! OpenSSL 3 through its C API (the `openssl` crate), over in-memory
//! pipes, configured the same way.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use siptls_certgen::Issued;

use crate::harness::{Case, Rotation, Stack, Version};
use crate::pki::{Pki, SERVER_NAME};

use openssl::pkey::PKey;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslMethod, SslSession, SslSessionCacheMode, SslStream,
    SslVerifyMode, SslVersion,
};
use openssl::x509::X509;

/// One direction of an in-memory connection.
type Queue = Rc<RefCell<VecDeque<u8>>>;

pub struct Pipe {
    rx: Queue,
    tx: Queue,
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut rx = self.rx.borrow_mut();
        if rx.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        rx.read(out)
    }
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.tx.borrow_mut().extend(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct OpenSsl {
    client: SslContext,
    server: SslContext,
    /// First contact: a client context per certificate.
    first_contact: Rotation<SslContext>,
    /// The client's session to resume next, in a resumption case.
    session: std::sync::Mutex<Option<SslSession>>,
    case: Case,
    resumed: bool,
}

fn context(
    identity: &Issued,
    root_pem: &str,
    case: Case,
    cache: SslSessionCacheMode,
) -> SslContext {
    let version = match case.version {
        Version::Tls12 => SslVersion::TLS1_2,
        Version::Tls13 => SslVersion::TLS1_3,
    };
    let mut b = SslContext::builder(SslMethod::tls()).unwrap();
    b.set_min_proto_version(Some(version)).unwrap();
    b.set_max_proto_version(Some(version)).unwrap();
    b.set_certificate(&X509::from_pem(identity.cert_pem.as_bytes()).unwrap())
        .unwrap();
    b.set_private_key(&PKey::private_key_from_pem(identity.key_pem.as_bytes()).unwrap())
        .unwrap();
    b.cert_store_mut()
        .add_cert(X509::from_pem(root_pem.as_bytes()).unwrap())
        .unwrap();
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    if case.resumed {
        // Stateless tickets, one per handshake; the client keeps its
        // session itself (below), as an application does.
        b.set_session_cache_mode(cache);
        b.set_num_tickets(1).unwrap();
        b.set_session_id_context(b"bench").unwrap();
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        b.set_num_tickets(0).unwrap();
        b.set_options(openssl::ssl::SslOptions::NO_TICKET);
    }
    b.build()
}

pub struct Pair {
    client: SslStream<Pipe>,
    server: SslStream<Pipe>,
    resumable: bool,
}

impl Drop for Pair {
    /// OpenSSL makes the session of a connection freed without a
    /// shutdown unresumable: in a resumption case, send close_notify so
    /// the next handshake can resume (the others skip it, as they do).
    fn drop(&mut self) {
        if self.resumable {
            let _ = self.client.shutdown();
        }
    }
}

fn pending(r: Result<(), openssl::ssl::Error>) -> bool {
    match r {
        Ok(()) => false,
        Err(e) if e.code() == ErrorCode::WANT_READ => true,
        Err(e) => panic!("openssl handshake: {e}"),
    }
}

impl Stack for OpenSsl {
    type Pair = Pair;
    const NAME: &'static str = "openssl";

    fn new(pki: &Pki, case: Case) -> Self {
        Self {
            client: context(
                &pki.client,
                pki.root_pem(),
                case,
                SslSessionCacheMode::CLIENT,
            ),
            server: context(
                &pki.server,
                pki.root_pem(),
                case,
                SslSessionCacheMode::SERVER,
            ),
            first_contact: Rotation::default(),
            session: Default::default(),
            case,
            resumed: false,
        }
    }

    fn expect_resumed(&mut self, resumed: bool) {
        self.resumed = resumed;
    }

    fn present(&mut self, pki: &Pki, clients: &[Issued]) {
        let cache = SslSessionCacheMode::CLIENT;
        self.first_contact = Rotation::new(
            clients
                .iter()
                .map(|c| context(c, pki.root_pem(), self.case, cache))
                .collect(),
        );
    }

    fn connect(&self) -> Pair {
        let (a, b): (Queue, Queue) = Default::default();
        let client_ctx = self.first_contact.take().unwrap_or(&self.client);
        let mut client_ssl = Ssl::new(client_ctx).unwrap();
        client_ssl.set_hostname(SERVER_NAME).unwrap();
        // Host name verification on, like the others.
        client_ssl.param_mut().set_host(SERVER_NAME).unwrap();
        if let Some(session) = &*self.session.lock().unwrap() {
            // SAFETY: the session comes from this client context.
            unsafe { client_ssl.set_session(session) }.unwrap();
        }
        let mut client = SslStream::new(
            client_ssl,
            Pipe {
                rx: a.clone(),
                tx: b.clone(),
            },
        )
        .unwrap();
        let mut server =
            SslStream::new(Ssl::new(&self.server).unwrap(), Pipe { rx: b, tx: a }).unwrap();
        let mut busy = true;
        while busy {
            busy = pending(client.connect()) | pending(server.accept());
        }
        assert_eq!(
            client.ssl().session_reused(),
            self.resumed,
            "openssl resumption"
        );
        if self.case.resumed {
            // A TLS 1.3 ticket comes after the handshake: read it.
            let mut nothing = [0u8; 1];
            match client.ssl_read(&mut nothing) {
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                other => panic!("openssl ticket: {other:?}"),
            }
            *self.session.lock().unwrap() = client.ssl().session().map(|s| s.to_owned());
        }
        // The pipes are empty now: give their memory back, as a socket
        // would not hold it (the idle-memory figure is OpenSSL's own).
        for pipe in [client.get_mut(), server.get_mut()] {
            pipe.rx.borrow_mut().shrink_to_fit();
            pipe.tx.borrow_mut().shrink_to_fit();
        }
        Pair {
            client,
            server,
            resumable: self.case.resumed,
        }
    }

    fn send(&self, pair: &mut Pair, data: &[u8]) -> usize {
        pair.client.ssl_write(data).unwrap()
    }

    /// The memory pipes carry the ciphertext as it is written.
    fn deliver(&self, _: &mut Pair, _: &mut [u8]) {}

    fn receive(&self, pair: &mut Pair, sink: &mut [u8]) -> usize {
        let mut total = 0;
        loop {
            match pair.server.ssl_read(sink) {
                Ok(n) => total += n,
                Err(e) if e.code() == ErrorCode::WANT_READ => return total,
                Err(e) => panic!("openssl read: {e}"),
            }
        }
    }
}
