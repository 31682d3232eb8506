//! The client's session cache: what each server gave it to resume with
//! (TLS 1.3 tickets, TLS 1.2 session IDs or tickets), bounded, shared by
//! every configuration generation until a change makes stored sessions
//! unfit (the identities, versions or suites they were made with; see
//! `context`). Keyed by peer name and the identity presented (a session is
//! never offered with another identity); each entry keeps the server chain
//! accepted when it was made, checked again under the policy in force
//! before it is offered.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use pki_types::ServerName;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::NamedGroup;

use crate::verify::{self, CurrentPolicy, PeerChain};

/// TLS 1.3 tickets kept per peer; a server sends one or two per handshake.
const TICKETS_PER_PEER: usize = 4;

#[derive(Default)]
struct Peer {
    kx_hint: Option<NamedGroup>,
    tls12: Option<(Tls12ClientSessionValue, PeerChain)>,
    tls13: VecDeque<(Tls13ClientSessionValue, PeerChain)>,
}

/// A peer name (the SNI sent) and the identity presented to it: a session
/// made with one identity is never offered with another.
type Key = (u32, ServerName<'static>);

#[derive(Default)]
struct Peers {
    by_name: HashMap<Key, Peer>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<Key>,
}

fn key(name: &ServerName<'_>) -> Key {
    (verify::step_identity(), name.to_owned())
}

/// What a stored chain is checked against: the name the session must
/// reach, which is the SNI unless the session sends another.
fn expected<'a>(
    sni: &'a ServerName<'a>,
    peer: &'a Option<Arc<ServerName<'static>>>,
) -> &'a ServerName<'a> {
    peer.as_deref().unwrap_or(sni)
}

pub struct ClientCache {
    policy: Arc<CurrentPolicy>,
    capacity: usize,
    peers: Mutex<Peers>,
}

impl fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl ClientCache {
    pub fn new(policy: Arc<CurrentPolicy>, capacity: u32) -> Self {
        Self {
            policy,
            capacity: capacity.max(1) as usize,
            peers: Mutex::new(Peers::default()),
        }
    }

    /// Nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.peers.lock().by_name.is_empty()
    }

    fn with_peer<T>(&self, name: &ServerName<'_>, f: impl FnOnce(&mut Peer) -> T) -> T {
        let key = key(name);
        let mut peers = self.peers.lock();
        if !peers.by_name.contains_key(&key) {
            if peers.by_name.len() >= self.capacity {
                if let Some(oldest) = peers.order.pop_front() {
                    peers.by_name.remove(&oldest);
                }
            }
            peers.order.push_back(key.clone());
        }
        f(peers.by_name.entry(key).or_default())
    }

    /// The chain accepted in the session step storing a value; without one
    /// the value could never be checked again, so it is not kept.
    fn chain() -> Option<PeerChain> {
        verify::accepted_chain().filter(|chain| !chain.is_empty())
    }
}

impl ClientSessionStore for ClientCache {
    fn set_kx_hint(&self, name: ServerName<'static>, group: NamedGroup) {
        self.with_peer(&name, |peer| peer.kx_hint = Some(group));
    }

    fn kx_hint(&self, name: &ServerName<'_>) -> Option<NamedGroup> {
        self.peers
            .lock()
            .by_name
            .get(&key(name))
            .and_then(|p| p.kx_hint)
    }

    fn set_tls12_session(&self, name: ServerName<'static>, value: Tls12ClientSessionValue) {
        if let Some(chain) = Self::chain() {
            self.with_peer(&name, |peer| peer.tls12 = Some((value, chain)));
        }
    }

    fn tls12_session(&self, name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let (value, chain) = self.peers.lock().by_name.get(&key(name))?.tls12.clone()?;
        let peer = verify::step_peer_name();
        if self
            .policy
            .may_resume(&chain, Some(expected(name, &peer)), None)
        {
            Some(value)
        } else {
            self.remove_tls12_session(&name.to_owned());
            None
        }
    }

    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        if let Some(peer) = self.peers.lock().by_name.get_mut(&key(name)) {
            peer.tls12 = None;
        }
    }

    fn insert_tls13_ticket(&self, name: ServerName<'static>, value: Tls13ClientSessionValue) {
        if let Some(chain) = Self::chain() {
            self.with_peer(&name, |peer| {
                if peer.tls13.len() == TICKETS_PER_PEER {
                    peer.tls13.pop_front();
                }
                peer.tls13.push_back((value, chain));
            });
        }
    }

    fn take_tls13_ticket(&self, name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        let peer = verify::step_peer_name();
        loop {
            // Newest first; a ticket is used once. One that fails the
            // checks is dropped, and the next older one is tried.
            let (value, chain) = self
                .peers
                .lock()
                .by_name
                .get_mut(&key(name))?
                .tls13
                .pop_back()?;
            if self
                .policy
                .may_resume(&chain, Some(expected(name, &peer)), None)
            {
                return Some(value);
            }
        }
    }
}
