//! Stateless resumption: the session state travels to the client as a
//! ticket (TLS 1.3 NewSessionTicket, TLS 1.2 RFC 5077), sealed so that only
//! the servers holding the ticket keys can open it.

use std::fmt;

use rustls::server::ProducesTickets;

use super::sealer::Sealer;

pub struct Tickets(pub Sealer);

impl fmt::Debug for Tickets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tickets")
            .field("lifetime", &self.0.lifetime)
            .finish_non_exhaustive()
    }
}

impl ProducesTickets for Tickets {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.0.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.0.seal(plain)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.0.open(cipher)
    }
}
