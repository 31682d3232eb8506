//! Ticket keys: what seals the session state a server hands out (TLS
//! tickets, and the entries of its session cache) so that only servers
//! holding the key can open it.
//!
//! Either generated in memory and rotated on the gateway's clock (each key
//! seals for one lifetime, then only opens for one more, then is erased),
//! or supplied by the gateway as an ordered set shared by a farm of servers:
//! the first key seals, every key opens, and the gateway rotates by loading
//! a new set.
//!
//! A supplied key is 32 random bytes written as 64 hex digits, one key per
//! line (`openssl rand -hex 32`); blank lines and lines starting with `#`
//! are ignored. Each key is expanded with HKDF-SHA256 into a 16-byte name,
//! sent in the clear so the right key is found, and an AES-256-GCM key.
//! A sealed blob is `name || nonce || ciphertext || tag`, the name being
//! the associated data; nonces are random (96 bits), which is safe for far
//! more tickets than one key seals in its lifetime.

use crate::abi::{
    siptls_log_level, siptls_result::*, SIPTLS_MAX_TICKET_KEYS, SIPTLS_TICKET_KEY_LEN,
};
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA256};
use parking_lot::RwLock;
use zeroize::{Zeroize, Zeroizing};

use super::CLOCK_SKEW_SECS;
use crate::error::{Error, Result};

use crate::verify;

const NAME_LEN: usize = 16;
/// AES-256.
const AES_KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// The name and nonce in front, the tag behind.
const SEAL_OVERHEAD: usize = NAME_LEN + NONCE_LEN + TAG_LEN;

/// The secret and the AES key derived from it are wiped as soon as the
/// key is made; the AES key schedule lives in aws-lc's memory, which aws-lc
/// wipes when the last holder drops the key (erased from the ring, or the
/// ring dropped).
struct Key {
    name: [u8; NAME_LEN],
    aead: LessSafeKey,
    /// When a generated key began sealing (gateway clock); 0 when supplied.
    created: u64,
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Key {
    fn derive(secret: &[u8; SIPTLS_TICKET_KEY_LEN], created: u64) -> Option<Self> {
        let prk = Salt::new(HKDF_SHA256, b"siptls ticket key v1").extract(secret);
        let mut name = [0u8; NAME_LEN];
        prk.expand(&[b"name"], Len(NAME_LEN))
            .ok()?
            .fill(&mut name)
            .ok()?;
        let mut aes_key = Zeroizing::new([0u8; AES_KEY_LEN]);
        prk.expand(&[b"aes-256-gcm"], &AES_256_GCM)
            .ok()?
            .fill(&mut *aes_key)
            .ok()?;
        let aead = UnboundKey::new(&AES_256_GCM, &*aes_key).ok()?;
        Some(Self {
            name,
            aead: LessSafeKey::new(aead),
            created,
        })
    }

    fn generate(created: u64) -> Option<Self> {
        let mut secret = Zeroizing::new([0u8; SIPTLS_TICKET_KEY_LEN]);
        aws_lc_rs::rand::fill(&mut *secret).ok()?;
        Self::derive(&secret, created)
    }

    /// Encrypts in place in one buffer sized for the result, so no copy of
    /// the plain state is left behind.
    fn seal(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut sealed = Vec::with_capacity(plain.len() + SEAL_OVERHEAD);
        sealed.extend_from_slice(&self.name);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plain);
        let tag = self.aead.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&self.name),
            &mut sealed[NAME_LEN + NONCE_LEN..],
        );
        match tag {
            Ok(tag) => {
                sealed.extend_from_slice(tag.as_ref());
                Some(sealed)
            }
            Err(_) => {
                sealed.zeroize();
                None
            }
        }
    }

    fn open(&self, nonce: &[u8], body: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(&self.name), &mut body)
            .ok()?
            .len();
        body.truncate(plain);
        Some(body)
    }
}

enum Source {
    /// Generated here and rotated every `lifetime` seconds.
    Generated,
    /// The gateway's, in its order.
    Supplied,
}

/// The keys a server seals and opens with. Shared by every configuration
/// generation of a context, so reloading certificates keeps tickets valid.
pub struct KeyRing {
    source: Source,
    /// Newest (sealing) first.
    keys: RwLock<Vec<Arc<Key>>>,
}

impl KeyRing {
    pub fn generated() -> Self {
        Self {
            source: Source::Generated,
            keys: RwLock::new(Vec::new()),
        }
    }

    /// Parses the key file format (see the module documentation).
    pub fn from_text(text: &[u8]) -> Result<Self> {
        let malformed = |line: usize, why: &str| {
            Error::new(
                SIPTLS_ERR_TICKET_KEY_MALFORMED,
                format!("ticket key line {line}: {why}"),
            )
        };
        let text = std::str::from_utf8(text).map_err(|e| {
            malformed(
                text[..e.valid_up_to()].split(|&b| b == b'\n').count(),
                "not text",
            )
        })?;
        let mut keys: Vec<Arc<Key>> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let secret = parse_hex_key(line).map_err(|why| malformed(i + 1, &why))?;
            let key =
                Key::derive(&secret, 0).ok_or_else(|| malformed(i + 1, "key derivation failed"))?;
            if keys.iter().any(|k| k.name == key.name) {
                return Err(malformed(i + 1, "the same key appears twice"));
            }
            if keys.len() == SIPTLS_MAX_TICKET_KEYS {
                return Err(malformed(
                    i + 1,
                    &format!("more than {SIPTLS_MAX_TICKET_KEYS} keys; drop the oldest"),
                ));
            }
            keys.push(Arc::new(key));
        }
        if keys.is_empty() {
            return Err(Error::new(
                SIPTLS_ERR_TICKET_KEY_MALFORMED,
                "no ticket key: the set needs at least one line of 64 hex digits (openssl rand -hex 32)",
            ));
        }
        Ok(Self {
            source: Source::Supplied,
            keys: RwLock::new(keys),
        })
    }

    pub fn is_generated(&self) -> bool {
        matches!(self.source, Source::Generated)
    }

    /// Keys held: the sealing one first, then those that still open.
    pub fn key_count(&self) -> usize {
        self.keys.read().len()
    }

    /// Whether a key still opens at `now`. A generated key opens for two
    /// lifetimes from its creation, unless it was created further ahead of
    /// the clock than the skew allows: the tickets it sealed carry issue
    /// times as far ahead, and those never open.
    fn keeps(&self, key: &Key, now: u64, lifetime: u32) -> bool {
        match self.source {
            Source::Supplied => true,
            Source::Generated => {
                now < key.created.saturating_add(2 * u64::from(lifetime))
                    && key.created <= now.saturating_add(CLOCK_SKEW_SECS)
            }
        }
    }

    /// Erases the keys that no longer open, on every use of the set, so a
    /// server that stopped issuing tickets does not keep old keys.
    fn erase_expired(&self, now: u64, lifetime: u32) {
        let expired = |keys: &[Arc<Key>]| keys.iter().any(|k| !self.keeps(k, now, lifetime));
        if !expired(&self.keys.read()) {
            return;
        }
        let mut keys = self.keys.write();
        let most_ahead = keys.iter().map(|k| k.created.saturating_sub(now)).max();
        keys.retain(|k| self.keeps(k, now, lifetime));
        drop(keys);
        if let Some(ahead) = most_ahead.filter(|&ahead| ahead > CLOCK_SKEW_SECS) {
            verify::tickets_log(siptls_log_level::SIPTLS_LOG_WARN, || {
                format!("generated ticket keys created up to {ahead} s ahead of the gateway clock ({now}) were erased: the clock went back by more than {CLOCK_SKEW_SECS} s, and the tickets they sealed carry issue times as far ahead, which never open (the clock is the one siptls_ctx_set_time_callback sets, or the system's)")
            });
        }
    }

    /// The sealing key at `now`, rotating generated keys when due: after
    /// one lifetime, or at once when it was created ahead of the clock (the
    /// clock went back; waiting for the clock to catch up could take years).
    fn sealing_key(&self, now: u64, lifetime: u32) -> Option<Arc<Key>> {
        self.erase_expired(now, lifetime);
        let due = |k: &Key| now >= k.created.saturating_add(u64::from(lifetime)) || k.created > now;
        if let Some(first) = self.keys.read().first() {
            if !self.is_generated() || !due(first) {
                return Some(first.clone());
            }
        }
        if !self.is_generated() {
            return None;
        }
        let mut keys = self.keys.write();
        // Another thread may have rotated meanwhile.
        if let Some(first) = keys.first() {
            if !due(first) {
                return Some(first.clone());
            }
            if first.created > now {
                let ahead = first.created - now;
                verify::tickets_log(siptls_log_level::SIPTLS_LOG_WARN, || {
                    format!("the generated ticket key sealing tickets was created {ahead} s ahead of the gateway clock ({now}): the clock went back, so a new key seals from now on and that one only opens (the clock is the one siptls_ctx_set_time_callback sets, or the system's)")
                });
            }
        }
        let key = Arc::new(Key::generate(now)?);
        keys.insert(0, key.clone());
        keys.retain(|k| self.keeps(k, now, lifetime));
        Some(key)
    }

    pub fn seal(&self, now: u64, lifetime: u32, plain: &[u8]) -> Option<Vec<u8>> {
        self.sealing_key(now, lifetime)?.seal(plain)
    }

    /// Opens what one of the keys sealed; `None` for anything else.
    pub fn open(&self, now: u64, lifetime: u32, sealed: &[u8]) -> Option<Vec<u8>> {
        self.erase_expired(now, lifetime);
        if sealed.len() < SEAL_OVERHEAD {
            return None;
        }
        let (name, rest) = sealed.split_at(NAME_LEN);
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let key = self.keys.read().iter().find(|k| k.name == name).cloned()?;
        key.open(nonce, body)
    }
}

fn parse_hex_key(
    line: &str,
) -> std::result::Result<Zeroizing<[u8; SIPTLS_TICKET_KEY_LEN]>, String> {
    if !line.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not hex digits (a key is 64 hex digits: openssl rand -hex 32)".into());
    }
    if line.len() != 2 * SIPTLS_TICKET_KEY_LEN {
        return Err(format!(
            "{} hex digits, a key is {} ({SIPTLS_TICKET_KEY_LEN} bytes)",
            line.len(),
            2 * SIPTLS_TICKET_KEY_LEN
        ));
    }
    let mut key = Zeroizing::new([0u8; SIPTLS_TICKET_KEY_LEN]);
    for (byte, pair) in key.iter_mut().zip(line.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|e| e.to_string())?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::siptls_log_event;
    use crate::logging::LogSink;
    use crate::verify::{in_scope, Step};

    const A: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn the_first_supplied_key_seals_and_every_key_opens() {
        let old = KeyRing::from_text(A.as_bytes()).unwrap();
        let both = KeyRing::from_text(format!("# rotated\n{B}\n\n{A}\n").as_bytes()).unwrap();
        let by_old = old.seal(0, 60, b"state").unwrap();
        assert_eq!(both.open(0, 60, &by_old).unwrap(), b"state");
        let by_new = both.seal(0, 60, b"state").unwrap();
        assert_eq!(
            old.open(0, 60, &by_new),
            None,
            "sealed with B, which old lacks"
        );
        let mut forged = by_old.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(both.open(0, 60, &forged), None);
        assert_eq!(both.open(0, 60, &by_old[..SEAL_OVERHEAD - 1]), None);
    }

    #[test]
    fn generated_keys_seal_for_one_lifetime_and_open_for_two() {
        let ring = KeyRing::generated();
        let first = ring.seal(1000, 100, b"x").unwrap();
        assert_eq!(ring.key_count(), 1);
        let same_key = ring.seal(1099, 100, b"x").unwrap();
        assert_eq!(first[..NAME_LEN], same_key[..NAME_LEN]);
        let rotated = ring.seal(1100, 100, b"x").unwrap();
        assert_ne!(first[..NAME_LEN], rotated[..NAME_LEN]);
        assert_eq!(ring.key_count(), 2, "the first key still opens");
        assert!(
            ring.open(1199, 100, &first).is_some(),
            "decrypt-only window"
        );
        assert!(ring.open(1200, 100, &first).is_none(), "past both windows");
        assert!(ring.open(1200, 100, &rotated).is_some());
        // The next rotation erases every key past both windows.
        ring.seal(1300, 100, b"x").unwrap();
        assert_eq!(ring.key_count(), 1, "keys past both windows are erased");
    }

    /// Seals in a session step, returning the sealed name and the ticket
    /// log records.
    fn seal_logged(ring: &KeyRing, now: u64) -> ([u8; NAME_LEN], Vec<(siptls_log_level, String)>) {
        let (sink, logged) = LogSink::keeping(siptls_log_event::SIPTLS_LOG_TICKETS);
        let step = Step {
            log: Some(sink),
            ..Step::default()
        };
        let (sealed, _) = in_scope(step, || ring.seal(now, 100, b"x").unwrap());
        let logged = logged.lock().clone();
        (sealed[..NAME_LEN].try_into().unwrap(), logged)
    }

    #[test]
    fn a_key_created_ahead_of_the_clock_stops_sealing_at_once() {
        const YEAR: u64 = 365 * 24 * 3600;
        let ring = KeyRing::generated();
        ring.seal(1000, 100, b"x").unwrap();
        // Forward a year: a rotation as scheduled, and nothing to say.
        let (ahead, logged) = seal_logged(&ring, 1000 + YEAR);
        assert!(logged.is_empty(), "{logged:?}");
        let by_ahead = ring.seal(1000 + YEAR, 100, b"x").unwrap();
        // Back: the key from a year ahead is erased, never sealing again.
        let (back, logged) = seal_logged(&ring, 1010);
        assert_ne!(back, ahead, "the key created a year ahead still seals");
        assert_eq!(ring.key_count(), 1);
        assert!(ring.open(1010, 100, &by_ahead).is_none());
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].0, siptls_log_level::SIPTLS_LOG_WARN);
        assert!(
            logged[0].1.starts_with(&format!(
                "generated ticket keys created up to {} s ahead of the gateway clock (1010) were erased",
                YEAR - 10
            )),
            "{logged:?}"
        );
        // Back by less than the skew: a new key seals, the other still opens.
        let by_back = ring.seal(1010, 100, b"x").unwrap();
        let (stepped_back, logged) = seal_logged(&ring, 1005);
        assert_ne!(stepped_back, back);
        assert_eq!(ring.key_count(), 2);
        assert!(ring.open(1005, 100, &by_back).is_some());
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(
            logged[0].1.starts_with("the generated ticket key sealing tickets was created 5 s ahead of the gateway clock (1005)"),
            "{logged:?}"
        );
    }

    #[test]
    fn expired_keys_are_erased_by_any_use_of_the_set() {
        let ring = KeyRing::generated();
        ring.seal(1000, 100, b"x").unwrap(); // opens until 1200
        let second = ring.seal(1100, 100, b"x").unwrap(); // until 1300
                                                          // None past both windows: both kept.
        assert!(ring.open(1199, 100, &second).is_some());
        assert_eq!(ring.key_count(), 2);
        // One: opening another key's ticket erases it.
        assert!(ring.open(1200, 100, &second).is_some());
        assert_eq!(ring.key_count(), 1);
        // All: so does something that opens nothing.
        assert!(ring.open(1300, 100, b"not a ticket").is_none());
        assert_eq!(ring.key_count(), 0);
        // Supplied keys do not expire.
        let supplied = KeyRing::from_text(A.as_bytes()).unwrap();
        assert!(supplied.open(u64::MAX, 100, b"not a ticket").is_none());
        assert_eq!(supplied.key_count(), 1);
    }

    #[test]
    fn malformed_key_sets_are_refused_with_the_line() {
        for (text, says) in [
            (String::new(), "no ticket key"),
            ("# only a comment\n".into(), "no ticket key"),
            (A[..62].to_string(), "line 1: 62 hex digits"),
            (format!("{A}\n{A}00"), "line 2: 66 hex digits"),
            (format!("{A}\nzz{}", &A[2..]), "line 2: not hex"),
            (format!("{A}\n{A}"), "line 2: the same key appears twice"),
        ] {
            let e = KeyRing::from_text(text.as_bytes()).err().unwrap();
            assert_eq!(e.code, SIPTLS_ERR_TICKET_KEY_MALFORMED);
            assert!(e.detail.contains(says), "{text:?}: {}", e.detail);
        }
        let many: String = (0..=SIPTLS_MAX_TICKET_KEYS)
            .map(|i| format!("{i:064x}\n"))
            .collect();
        let e = KeyRing::from_text(many.as_bytes()).err().unwrap();
        assert!(e.detail.contains("more than 16 keys"), "{}", e.detail);
    }
}
