//! Stateful server resumption (TLS 1.2 session IDs; TLS 1.3 when tickets
//! are off): entries kept in memory, or in the gateway's own store through
//! callbacks. Either way an entry is sealed with the ticket keys, so a
//! shared store never holds session secrets in the clear, and what a store
//! hands back is opened and checked like a ticket.

use std::fmt;
use std::sync::Arc;

use rustls::server::StoresServerSessions;

use super::sealer::Sealer;

/// The gateway's store (see `siptls_session_store`).
pub trait GatewayStore: Send + Sync {
    /// Keeps `value` under `key`; false when it did not.
    fn put(&self, key: &[u8], value: &[u8]) -> bool;
    /// The value under `key`, removed from the store when `take`.
    fn get(&self, key: &[u8], take: bool) -> Option<Vec<u8>>;
}

#[derive(Clone)]
pub enum Backend {
    Memory(Arc<dyn StoresServerSessions>),
    Gateway(Arc<dyn GatewayStore>),
}

pub struct SessionCache {
    pub sealer: Sealer,
    pub backend: Backend,
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.backend {
            Backend::Memory(_) => "SessionCache(memory)",
            Backend::Gateway(_) => "SessionCache(gateway)",
        })
    }
}

impl SessionCache {
    fn fetch(&self, key: &[u8], take: bool) -> Option<Vec<u8>> {
        let sealed = match &self.backend {
            Backend::Memory(memory) if take => memory.take(key),
            Backend::Memory(memory) => memory.get(key),
            Backend::Gateway(store) => store.get(key, take),
        }?;
        self.sealer.open(&sealed)
    }
}

impl StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let Some(sealed) = self.sealer.seal(&value) else {
            return false;
        };
        match &self.backend {
            Backend::Memory(memory) => memory.put(key, sealed),
            Backend::Gateway(store) => store.put(&key, &sealed),
        }
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.fetch(key, false)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.fetch(key, true)
    }

    fn can_cache(&self) -> bool {
        true
    }
}
