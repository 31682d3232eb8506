//! Files that reload themselves: the context remembers which files its
//! identities, trust entries, CRLs and ticket keys came from, and what each
//! held (its SHA-256, so a file rewritten within the same second counts).
//! `Context::reload_if_changed` reads them all, and when any changed, loads
//! every changed one into one new configuration, or none: a half-written
//! file, or a key replaced before its certificate, leaves the whole
//! configuration in force and is tried again at the next call.

use crate::abi::{
    siptls_log_event, siptls_log_level, UserData, SIPTLS_RELOADED_CRLS, SIPTLS_RELOADED_IDENTITIES,
    SIPTLS_RELOADED_OCSP, SIPTLS_RELOADED_TICKET_KEYS, SIPTLS_RELOADED_TRUST,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest::{digest, SHA256};
use rustls::sign::CertifiedKey;
use zeroize::Zeroizing;

use super::{ca_list_entries, identity, insert_crls, Context, Identity, KeyRing, TrustEntry};
use crate::counters::Event;
use crate::error::{Error, Result};
use crate::pem;

/// What a file (or a certificate and key together) held when loaded.
pub(super) type Digest = [u8; 32];

fn digest_of(parts: &[&[u8]]) -> Digest {
    // Each part's length first, so moving bytes from one to the other counts.
    let mut joined = Vec::new();
    for part in parts {
        joined.extend_from_slice(&(part.len() as u64).to_le_bytes());
        joined.extend_from_slice(part);
    }
    let hashed = Zeroizing::new(joined);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &hashed).as_ref());
    out
}

#[derive(Clone)]
struct IdentityFiles {
    cert: PathBuf,
    key: PathBuf,
    loaded: Digest,
}

#[derive(Clone)]
struct CaListFile {
    path: PathBuf,
    first_trust_id: u32,
    /// The trust IDs its certificates took.
    ids: Vec<u32>,
    loaded: Digest,
}

/// The files the configuration came from.
#[derive(Clone, Default)]
pub(super) struct Sources {
    identities: BTreeMap<u32, IdentityFiles>,
    ca_lists: Vec<CaListFile>,
    crls: BTreeMap<PathBuf, Digest>,
    ticket_keys: Option<(PathBuf, Digest)>,
    /// The OCSP response file stapled to each identity.
    ocsp: BTreeMap<u32, (PathBuf, Digest)>,
}

/// An identity's two files, read and parsed.
pub(super) struct ReadIdentity {
    pub key: Arc<CertifiedKey>,
    pub loaded: Digest,
}

/// Reads a certificate chain and its key and checks they belong together.
pub(super) fn read_identity(cert_path: &Path, key_path: &Path) -> Result<ReadIdentity> {
    let cert = pem::read_file(cert_path)?;
    let key = key_text(key_path)?;
    parse_identity(cert_path, &cert, key_path, &key)
}

/// A key file's bytes; a key "path" that is a `pkcs11:` URI is the key's
/// text itself, as key files that hold one.
fn key_text(key_path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    match key_path.to_str().filter(|path| path.starts_with("pkcs11:")) {
        Some(uri) => Ok(Zeroizing::new(uri.as_bytes().to_vec())),
        None => pem::read_secret_file(key_path),
    }
}

/// An identity from the bytes of its two files.
fn parse_identity(
    cert_path: &Path,
    cert: &[u8],
    key_path: &Path,
    key: &[u8],
) -> Result<ReadIdentity> {
    let certified = identity::from_pem(
        cert,
        &cert_path.display().to_string(),
        key,
        &key_path.display().to_string(),
    )?;
    Ok(ReadIdentity {
        key: certified,
        loaded: digest_of(&[cert, key]),
    })
}

/// A file's bytes and their digest.
fn read(path: &Path) -> Result<(Zeroizing<Vec<u8>>, Digest)> {
    let bytes = pem::read_secret_file(path)?;
    let loaded = digest_of(&[&bytes]);
    Ok((bytes, loaded))
}

impl Sources {
    /// Identity `id` came from these files; a staple it had went with the
    /// identity it replaced.
    pub fn identity_from(&mut self, id: u32, cert: &Path, key: &Path, loaded: Digest) {
        self.ocsp.remove(&id);
        self.identities.insert(
            id,
            IdentityFiles {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
                loaded,
            },
        );
    }

    /// Identity `id` is no longer a file's (set from memory, or removed).
    pub fn forget_identity(&mut self, id: u32) {
        self.identities.remove(&id);
        self.ocsp.remove(&id);
    }

    pub fn ocsp_from(&mut self, id: u32, path: &Path, text: &[u8]) {
        self.ocsp
            .insert(id, (path.to_path_buf(), digest_of(&[text])));
    }

    pub fn forget_ocsp(&mut self, id: u32) {
        self.ocsp.remove(&id);
    }

    /// A CA list file added these trust IDs; `replace_all`: it is the whole table.
    pub fn ca_list_from(
        &mut self,
        path: &Path,
        first_trust_id: u32,
        ids: Vec<u32>,
        text: &[u8],
        replace_all: bool,
    ) {
        if replace_all {
            self.ca_lists.clear();
        }
        self.ca_lists.push(CaListFile {
            path: path.to_path_buf(),
            first_trust_id,
            ids,
            loaded: digest_of(&[text]),
        });
    }

    /// The trust table was replaced from memory: no file stands behind it.
    pub fn forget_ca_lists(&mut self) {
        self.ca_lists.clear();
    }

    pub fn forget_trust_id(&mut self, id: u32) {
        for list in &mut self.ca_lists {
            list.ids.retain(|&i| i != id);
        }
    }

    pub fn crl_from(&mut self, path: &Path, text: &[u8], replace_all: bool) {
        if replace_all {
            self.crls.clear();
        }
        self.crls.insert(path.to_path_buf(), digest_of(&[text]));
    }

    pub fn forget_crls(&mut self) {
        self.crls.clear();
    }

    pub fn ticket_keys_from(&mut self, path: Option<(&Path, &[u8])>) {
        self.ticket_keys = path.map(|(p, text)| (p.to_path_buf(), digest_of(&[text])));
    }
}

/// What changed, read and parsed, with what to remember once applied.
#[derive(Default)]
struct Changes {
    identities: Vec<(u32, ReadIdentity)>,
    ca_lists: Vec<(usize, Vec<TrustEntry>, Digest)>,
    crls: Vec<(
        PathBuf,
        Vec<pki_types::CertificateRevocationListDer<'static>>,
        Digest,
    )>,
    ticket_keys: Option<(KeyRing, Digest)>,
    /// Responses to staple again: their file changed, or their identity did.
    ocsp: Vec<(u32, PathBuf, Zeroizing<Vec<u8>>, Digest)>,
    /// The files, for the log.
    files: Vec<String>,
}

impl Changes {
    fn flags(&self) -> u32 {
        let mut flags = 0;
        for (changed, flag) in [
            (!self.identities.is_empty(), SIPTLS_RELOADED_IDENTITIES),
            (!self.ca_lists.is_empty(), SIPTLS_RELOADED_TRUST),
            (!self.crls.is_empty(), SIPTLS_RELOADED_CRLS),
            (self.ticket_keys.is_some(), SIPTLS_RELOADED_TICKET_KEYS),
            (!self.ocsp.is_empty(), SIPTLS_RELOADED_OCSP),
        ] {
            if changed {
                flags |= flag;
            }
        }
        flags
    }
}

impl Sources {
    /// Reads every file and parses those that changed.
    fn changes(&self) -> Result<Changes> {
        let mut changes = Changes::default();
        for (&id, files) in &self.identities {
            // Digest first: an unchanged pair is not parsed again.
            let cert = pem::read_file(&files.cert)?;
            let key = key_text(&files.key)?;
            if digest_of(&[&cert, &key]) == files.loaded {
                continue;
            }
            let read = parse_identity(&files.cert, &cert, &files.key, &key)?;
            changes.files.push(files.cert.display().to_string());
            changes.files.push(files.key.display().to_string());
            changes.identities.push((id, read));
        }
        for (index, list) in self.ca_lists.iter().enumerate() {
            let (text, loaded) = read(&list.path)?;
            if loaded == list.loaded {
                continue;
            }
            let place = list.path.display().to_string();
            let entries =
                ca_list_entries(&text, list.first_trust_id).map_err(|e| e.context(&place))?;
            changes.files.push(place);
            changes.ca_lists.push((index, entries, loaded));
        }
        for (path, loaded) in &self.crls {
            let (text, now) = read(path)?;
            if now == *loaded {
                continue;
            }
            let place = path.display().to_string();
            let ders = pem::crls(&text).map_err(|e| e.context(&place))?;
            changes.files.push(place);
            changes.crls.push((path.clone(), ders, now));
        }
        if let Some((path, loaded)) = &self.ticket_keys {
            let (text, now) = read(path)?;
            if now != *loaded {
                let place = path.display().to_string();
                let ring = KeyRing::from_text(&text).map_err(|e| e.context(&place))?;
                changes.files.push(place);
                changes.ticket_keys = Some((ring, now));
            }
        }
        for (&id, (path, loaded)) in &self.ocsp {
            let (text, now) = read(path)?;
            let identity_changed = changes.identities.iter().any(|(i, _)| *i == id);
            if now == *loaded && !identity_changed {
                continue;
            }
            changes.files.push(path.display().to_string());
            changes.ocsp.push((id, path.clone(), text, now));
        }
        Ok(changes)
    }
}

impl Context {
    /// Loads every watched file that changed since it was loaded, all in
    /// one new configuration or none; returns the SIPTLS_RELOADED_* flags
    /// of what was reloaded (0: nothing changed).
    pub fn reload_if_changed(&self) -> Result<u32> {
        // One reload at a time: each reads what the last one remembered.
        let mut sources = self.sources.lock();
        let mut changes = sources.changes().map_err(|e| self.reload_refused(e))?;
        let flags = changes.flags();
        let ring = changes.ticket_keys.take();
        if flags == 0 {
            self.counters.count(Event::ReloadUnchanged);
            self.reload_log(siptls_log_level::SIPTLS_LOG_DEBUG, || {
                "The watched files are as they were loaded; nothing was reloaded.".into()
            });
            return Ok(0);
        }
        let mut ring_loaded = None;
        let applied = self.update(|c| {
            for (id, read) in &changes.identities {
                c.identities
                    .put(Identity::new(*id, read.key.clone()), true)?;
            }
            for (index, entries, _) in &changes.ca_lists {
                // The entries the file's old version added make way for its
                // new ones; settings made per trust ID stay with the ID.
                let mut kept = BTreeMap::new();
                for id in &sources.ca_lists[*index].ids {
                    if let Some(old) = c.trust.get(*id) {
                        kept.insert(*id, (old.sip_domain.clone(), old.eku_policy));
                        c.trust.remove(*id)?;
                    }
                }
                let mut entries = entries.clone();
                for entry in &mut entries {
                    if let Some((domain, eku)) = kept.remove(&entry.id) {
                        entry.sip_domain = domain;
                        entry.eku_policy = eku;
                    }
                }
                c.trust
                    .add_all(entries)
                    .map_err(|e| e.context(&sources.ca_lists[*index].path.display().to_string()))?;
            }
            for (path, ders, _) in &changes.crls {
                let (crls, _) = insert_crls(ders, &c.trust, c.crls.clone())
                    .map_err(|e| e.context(&path.display().to_string()))?;
                c.crls = crls;
            }
            // After the identities: a response is checked against the
            // certificate it will be stapled to.
            for (id, path, text, _) in &changes.ocsp {
                c.staple(*id, Some(text))
                    .map_err(|e| e.context(&path.display().to_string()))?;
            }
            if let Some((ring, loaded)) = ring {
                c.resumption.ring = Arc::new(ring);
                ring_loaded = Some(loaded);
            }
            Ok(())
        });
        if let Err(e) = applied {
            return Err(self.reload_refused(e));
        }
        for (id, read) in changes.identities {
            if let Some(files) = sources.identities.get_mut(&id) {
                files.loaded = read.loaded;
            }
        }
        for (index, entries, loaded) in changes.ca_lists {
            let list = &mut sources.ca_lists[index];
            list.ids = entries.iter().map(|e| e.id).collect();
            list.loaded = loaded;
        }
        for (path, _, loaded) in changes.crls {
            sources.crls.insert(path, loaded);
        }
        for (id, _, _, loaded) in changes.ocsp {
            if let Some((_, was)) = sources.ocsp.get_mut(&id) {
                *was = loaded;
            }
        }
        if let Some(loaded) = ring_loaded {
            if let Some((_, was)) = &mut sources.ticket_keys {
                *was = loaded;
            }
        }
        self.counters.count(Event::ReloadApplied);
        let files = changes.files.join(", ");
        let generation = self.snapshot().policy.generation();
        self.reload_log(siptls_log_level::SIPTLS_LOG_INFO, || {
            format!("Reloaded {files}: configuration generation {generation} is in force.")
        });
        Ok(flags)
    }

    /// A reload that could not be applied: said, counted, and handed back.
    fn reload_refused(&self, e: Error) -> Error {
        self.counters.count(Event::ReloadRefused);
        let e = Error::new(
            e.code,
            format!(
                "{}. The whole configuration in force stays; the next siptls_ctx_reload_if_changed tries again.",
                e.detail.trim_end_matches('.')
            ),
        );
        self.reload_log(siptls_log_level::SIPTLS_LOG_WARN, || {
            format!("A watched file changed but cannot be loaded: {}", e.detail)
        });
        e
    }

    fn reload_log(&self, level: siptls_log_level, message: impl FnOnce() -> String) {
        if let Some(log) = &self.snapshot().log {
            log.log(
                level,
                siptls_log_event::SIPTLS_LOG_RELOAD,
                UserData::NONE,
                message,
            );
        }
    }
}
