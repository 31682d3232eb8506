//! A private key on a PKCS#11 token, signing for the handshake. Each module
//! is loaded and initialized once per process (with the operating system's
//! locking, so many threads may sign at once); sessions with the token are
//! opened once and kept in a pool, one per signing thread at a time; a
//! session the token has invalidated (a reset, a removed and reinserted
//! token, a logout) is replaced and the signature tried once more.

use crate::abi::siptls_result::{
    SIPTLS_ERR_KEY_MISMATCH, SIPTLS_ERR_KEY_UNSUPPORTED, SIPTLS_ERR_PKCS11_LOGIN,
    SIPTLS_ERR_PKCS11_MODULE, SIPTLS_ERR_PKCS11_OBJECT, SIPTLS_ERR_PKCS11_TOKEN,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use aws_lc_rs::digest::{self, Digest};
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use parking_lot::Mutex;
use rustls::SignatureScheme;
use zeroize::Zeroizing;

use super::uri::{KeyUri, PinSource};
use crate::error::{Error, Result};
use crate::signer::KeyKind;

/// Modules already loaded, by path. Never finalized: other parts of the
/// gateway may use the same module, and a C_Finalize would end their
/// sessions too.
static MODULES: LazyLock<Mutex<BTreeMap<PathBuf, Pkcs11>>> = LazyLock::new(Default::default);

/// The PIN each token was logged in with (its SHA-256), by module and slot.
/// A token keeps one login per process, and a second C_Login is answered
/// "already logged in" without checking its PIN: this makes a wrong PIN
/// for a token already in use a refusal all the same.
static LOGINS: LazyLock<Mutex<BTreeMap<TokenSlot, [u8; 32]>>> = LazyLock::new(Default::default);

/// A token by its module and slot number.
type TokenSlot = (PathBuf, u64);

/// Idle sessions kept per key beyond those in use.
const IDLE_SESSIONS: usize = 8;

fn module(path: &PathBuf) -> Result<Pkcs11> {
    let mut modules = MODULES.lock();
    if let Some(loaded) = modules.get(path) {
        return Ok(loaded.clone());
    }
    let failed = |why: String| {
        Error::new(
            SIPTLS_ERR_PKCS11_MODULE,
            format!("The PKCS#11 module {} {why}", path.display()),
        )
    };
    if !path.is_file() {
        return Err(failed(
            "is not a file; check module-path in the pkcs11: URI (SoftHSM2's is /usr/lib/softhsm/libsofthsm2.so on Debian)".into(),
        ));
    }
    let pkcs11 = Pkcs11::new(path)
        .map_err(|e| failed(format!("cannot be loaded as a PKCS#11 module: {e}")))?;
    match pkcs11.initialize(CInitializeArgs::OsThreads) {
        // Initialized already by the gateway itself: share it.
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            // Dropping it would call C_Finalize on a module that did not start.
            std::mem::forget(pkcs11);
            return Err(failed(format!("did not initialize: {}", p11_why(&e))));
        }
    }
    modules.insert(path.clone(), pkcs11.clone());
    Ok(pkcs11)
}

/// A PKCS#11 failure in words, with its CKR_ name where it has one.
fn p11_why(e: &P11Error) -> String {
    match e {
        P11Error::Pkcs11(rv, function) => {
            let ckr = format!("{rv:?}");
            let mut name = String::from("CKR");
            for c in ckr.chars() {
                if c.is_uppercase() {
                    name.push('_');
                }
                name.push(c.to_ascii_uppercase());
            }
            let function = function.to_string();
            let function = function.strip_prefix("Function::").unwrap_or(&function);
            format!("C_{function} answered {name}")
        }
        other => other.to_string(),
    }
}

/// Errors after which a fresh session may succeed.
fn session_lost(e: &P11Error) -> bool {
    matches!(
        e,
        P11Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

pub struct TokenKey {
    pkcs11: Pkcs11,
    uri: KeyUri,
    pin: Option<Zeroizing<String>>,
    pub kind: KeyKind,
    /// The key's handle, as the token numbers it now.
    key: Mutex<ObjectHandle>,
    idle: Mutex<Vec<Session>>,
}

impl TokenKey {
    /// Loads the module, finds the token and the key, logs in: every
    /// failure here is a refusal at load with its own code, never at the
    /// first handshake.
    pub fn open(uri: KeyUri) -> Result<TokenKey> {
        let pkcs11 = module(&uri.module_path)?;
        let pin = match &uri.pin {
            PinSource::None => None,
            PinSource::Value(value) => Some(value.clone()),
            PinSource::File(path) => Some(read_pin(path)?),
        };
        let (key, session, kind) = find(&pkcs11, &uri, pin.as_ref())?;
        Ok(TokenKey {
            pkcs11,
            uri,
            pin,
            kind,
            key: Mutex::new(key),
            idle: Mutex::new(vec![session]),
        })
    }

    pub fn describe(&self) -> String {
        self.uri.describe()
    }

    /// Signs `message` with `scheme`: the digest is made here, so the token
    /// needs only its raw mechanisms (CKM_ECDSA, CKM_RSA_PKCS_PSS,
    /// CKM_RSA_PKCS), which every token has. ECDSA comes back as r||s.
    pub fn sign(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> std::result::Result<Vec<u8>, String> {
        use SignatureScheme::*;
        let (hash, mgf, prefix): (&'static digest::Algorithm, _, &[u8]) = match scheme {
            ECDSA_NISTP256_SHA256 | RSA_PSS_SHA256 | RSA_PKCS1_SHA256 => (
                &digest::SHA256,
                PkcsMgfType::MGF1_SHA256,
                &DIGEST_INFO_SHA256,
            ),
            ECDSA_NISTP384_SHA384 | RSA_PSS_SHA384 | RSA_PKCS1_SHA384 => (
                &digest::SHA384,
                PkcsMgfType::MGF1_SHA384,
                &DIGEST_INFO_SHA384,
            ),
            RSA_PSS_SHA512 | RSA_PKCS1_SHA512 => (
                &digest::SHA512,
                PkcsMgfType::MGF1_SHA512,
                &DIGEST_INFO_SHA512,
            ),
            other => return Err(format!("siptls signs no {other:?} with a PKCS#11 key")),
        };
        let hashed: Digest = digest::digest(hash, message);
        let hash_mechanism = match hash.output_len() {
            32 => MechanismType::SHA256,
            48 => MechanismType::SHA384,
            _ => MechanismType::SHA512,
        };
        let pss = PkcsPssParams {
            hash_alg: hash_mechanism,
            mgf,
            s_len: (hash.output_len() as u64).into(),
        };
        let (mechanism, input) = match scheme {
            ECDSA_NISTP256_SHA256 | ECDSA_NISTP384_SHA384 => {
                (Mechanism::Ecdsa, hashed.as_ref().to_vec())
            }
            RSA_PSS_SHA256 | RSA_PSS_SHA384 | RSA_PSS_SHA512 => {
                (Mechanism::RsaPkcsPss(pss), hashed.as_ref().to_vec())
            }
            _ => (Mechanism::RsaPkcs, [prefix, hashed.as_ref()].concat()),
        };
        let mut last = None;
        for _ in 0..2 {
            let (session, key) = match self.session() {
                Ok(found) => found,
                Err(e) => return Err(e.into_detail()),
            };
            match session.sign(&mechanism, key, &input) {
                Ok(signature) => {
                    self.put_back(session);
                    return Ok(signature);
                }
                Err(e) if session_lost(&e) => {
                    // Closed by drop; the next round finds the key again.
                    drop(session);
                    self.idle.lock().clear();
                    last = Some(e);
                }
                Err(e) => {
                    self.put_back(session);
                    return Err(format!("the token could not sign: {}", p11_why(&e)));
                }
            }
        }
        Err(format!(
            "the token could not sign, also with a new session: {}",
            last.map_or_else(String::new, |e| p11_why(&e))
        ))
    }

    /// A session to sign with: an idle one, or a new one, for which the
    /// token and key are found again (a reset or a reinserted token may
    /// have moved the slot and renumbered the objects).
    fn session(&self) -> Result<(Session, ObjectHandle)> {
        if let Some(session) = self.idle.lock().pop() {
            return Ok((session, *self.key.lock()));
        }
        let (key, session, kind) = find(&self.pkcs11, &self.uri, self.pin.as_ref())?;
        if kind != self.kind {
            return Err(Error::new(
                SIPTLS_ERR_KEY_MISMATCH,
                format!(
                    "{} is a {} key now, and was a {} key when loaded",
                    self.describe(),
                    kind.describe(),
                    self.kind.describe()
                ),
            ));
        }
        *self.key.lock() = key;
        Ok((session, key))
    }

    fn put_back(&self, session: Session) {
        let mut idle = self.idle.lock();
        if idle.len() < IDLE_SESSIONS {
            idle.push(session);
        }
    }
}

const DIGEST_INFO_SHA256: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const DIGEST_INFO_SHA384: [u8; 19] = [
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const DIGEST_INFO_SHA512: [u8; 19] = [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

fn read_pin(path: &std::path::Path) -> Result<Zeroizing<String>> {
    let bytes = crate::pem::read_secret_file(path).map_err(|e| {
        Error::new(
            SIPTLS_ERR_PKCS11_LOGIN,
            format!("The PIN file (pin-source) cannot be read: {}", e.detail),
        )
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::new(
            SIPTLS_ERR_PKCS11_LOGIN,
            format!("The PIN file {} is not UTF-8 text", path.display()),
        )
    })?;
    // One trailing line end, as `echo` writes it, is not part of the PIN.
    let pin = text.strip_suffix('\n').unwrap_or(text);
    Ok(Zeroizing::new(
        pin.strip_suffix('\r').unwrap_or(pin).to_owned(),
    ))
}

/// The one slot whose token matches the URI.
fn find_slot(pkcs11: &Pkcs11, uri: &KeyUri) -> Result<Slot> {
    let token_error = |why: String| Error::new(SIPTLS_ERR_PKCS11_TOKEN, why);
    let slots = pkcs11.get_slots_with_initialized_token().map_err(|e| {
        token_error(format!(
            "The PKCS#11 module {} cannot list its tokens: {}",
            uri.module_path.display(),
            p11_why(&e)
        ))
    })?;
    let mut seen = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let Ok(info) = pkcs11.get_token_info(slot) else {
            continue;
        };
        let wanted = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.trim_end())
        };
        if uri.slot_id.is_none_or(|id| id == slot.id())
            && wanted(&uri.token, info.label())
            && wanted(&uri.manufacturer, info.manufacturer_id())
            && wanted(&uri.model, info.model())
            && wanted(&uri.serial, info.serial_number())
        {
            matching.push(slot);
        }
        seen.push(format!(
            "'{}' (serial {})",
            info.label().trim_end(),
            info.serial_number().trim_end()
        ));
    }
    match matching.len() {
        1 => Ok(matching[0]),
        0 => Err(token_error(format!(
            "No token of the PKCS#11 module {} matches the pkcs11: URI; the module has {}",
            uri.module_path.display(),
            if seen.is_empty() { "no token".into() } else { seen.join(", ") }
        ))),
        n => Err(token_error(format!(
            "{n} tokens of the PKCS#11 module {} match the pkcs11: URI ({}); add token= or serial= so one is meant",
            uri.module_path.display(),
            seen.join(", ")
        ))),
    }
}

/// A read-only session on `slot`, logged in when the token wants it.
fn open_session(
    pkcs11: &Pkcs11,
    uri: &KeyUri,
    slot: Slot,
    pin: Option<&Zeroizing<String>>,
) -> Result<Session> {
    let token = |why: String| Error::new(SIPTLS_ERR_PKCS11_TOKEN, why);
    let login = |why: String| Error::new(SIPTLS_ERR_PKCS11_LOGIN, why);
    let info = pkcs11.get_token_info(slot).map_err(|e| {
        token(format!(
            "The token's information cannot be read: {}",
            p11_why(&e)
        ))
    })?;
    let label = info.label().trim_end().to_owned();
    let session = pkcs11.open_ro_session(slot).map_err(|e| {
        token(format!(
            "A session with token '{label}' cannot be opened: {}",
            p11_why(&e)
        ))
    })?;
    if !info.login_required() {
        return Ok(session);
    }
    let result = match pin {
        Some(pin) => {
            let held = (uri.module_path.clone(), slot.id());
            let digest: [u8; 32] = digest::digest(&digest::SHA256, pin.as_bytes())
                .as_ref()
                .try_into()
                .expect("SHA-256 is 32 bytes");
            let mut logins = LOGINS.lock();
            match session.login(UserType::User, Some(&AuthPin::new(pin.as_str().to_owned()))) {
                Ok(()) => {
                    logins.insert(held, digest);
                    Ok(())
                }
                Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _))
                    if logins.get(&held).is_none_or(|d| *d == digest) =>
                {
                    Ok(())
                }
                Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Err(login(format!(
                    "Token '{label}' is logged in already in this process with another PIN than the pkcs11: URI gives; the PIN is wrong"
                ))),
                Err(e) => Err(login(match e {
                    P11Error::Pkcs11(RvError::PinIncorrect, _) => format!(
                        "Token '{label}' refused the PIN (CKR_PIN_INCORRECT); check pin-value or the pin-source file. Tokens lock after a few wrong PINs"
                    ),
                    P11Error::Pkcs11(RvError::PinLocked, _) => format!(
                        "Token '{label}' has locked its user PIN (CKR_PIN_LOCKED); its security officer must unlock it"
                    ),
                    other => format!("Token '{label}' refused the login: {}", p11_why(&other)),
                })),
            }
        }
        None if info.protected_authentication_path() => session
            .login(UserType::User, None)
            .or_else(|e| match e {
                P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _) => Ok(()),
                e => Err(e),
            })
            .map_err(|e| login(format!("Token '{label}' refused the login on its own reader: {}", p11_why(&e)))),
        None => Err(login(format!(
            "Token '{label}' needs a PIN to use its keys; give pin-source=file:/path (or pin-value) in the pkcs11: URI"
        ))),
    };
    result.map(|()| session)
}

/// The one private key the URI names.
fn find_key(session: &Session, uri: &KeyUri) -> Result<ObjectHandle> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let found = session.find_objects(&template).map_err(|e| {
        Error::new(
            SIPTLS_ERR_PKCS11_OBJECT,
            format!("The token cannot search its keys: {}", p11_why(&e)),
        )
    })?;
    match found.len() {
        1 => Ok(found[0]),
        0 => Err(Error::new(
            SIPTLS_ERR_PKCS11_OBJECT,
            format!(
                "No private key is {}; list the token's keys with `pkcs11-tool --module {} --login --list-objects --type privkey`",
                uri.describe(),
                uri.module_path.display()
            ),
        )),
        n => Err(Error::new(
            SIPTLS_ERR_PKCS11_OBJECT,
            format!("{n} private keys are {}; add id= or object= so one key is meant", uri.describe()),
        )),
    }
}

/// The kind of a key object: its CKA_KEY_TYPE, and for EC its curve.
fn key_kind(session: &Session, key: ObjectHandle, uri: &KeyUri) -> Result<KeyKind> {
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    let unsupported = |what: &str| {
        Error::new(
            SIPTLS_ERR_KEY_UNSUPPORTED,
            format!(
                "{} is {what}; siptls signs with ECDSA P-256, P-384 and RSA keys on a token",
                uri.describe()
            ),
        )
    };
    let attributes = session
        .get_attributes(key, &[AttributeType::KeyType, AttributeType::EcParams])
        .map_err(|e| {
            unsupported(&format!(
                "a key whose type cannot be read ({})",
                p11_why(&e)
            ))
        })?;
    let mut key_type = None;
    let mut curve = None;
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::EcParams(p) => curve = Some(p),
            _ => {}
        }
    }
    match (key_type, curve.as_deref()) {
        (Some(KeyType::RSA), _) => Ok(KeyKind::Rsa),
        (Some(KeyType::EC), Some(P256)) => Ok(KeyKind::EcdsaP256),
        (Some(KeyType::EC), Some(P384)) => Ok(KeyKind::EcdsaP384),
        (Some(KeyType::EC), _) => Err(unsupported("an EC key on another curve")),
        (Some(other), _) => Err(unsupported(&format!("a key of type {other}"))),
        (None, _) => Err(unsupported("a key without a key type")),
    }
}

/// Token, session, key and its kind, from scratch.
fn find(
    pkcs11: &Pkcs11,
    uri: &KeyUri,
    pin: Option<&Zeroizing<String>>,
) -> Result<(ObjectHandle, Session, KeyKind)> {
    let slot = find_slot(pkcs11, uri)?;
    let session = open_session(pkcs11, uri, slot, pin)?;
    let key = find_key(&session, uri)?;
    let kind = key_kind(&session, key, uri)?;
    Ok((key, session, kind))
}

/// The key's kind must be the certificate's.
pub fn check_kind(key: &TokenKey, certificate: Option<KeyKind>) -> Result<()> {
    if certificate == Some(key.kind) {
        return Ok(());
    }
    Err(Error::new(
        SIPTLS_ERR_KEY_MISMATCH,
        format!(
            "{} is a {} key, and the certificate's public key is {}; name the key of this certificate",
            key.describe(),
            key.kind.describe(),
            certificate.map_or("of a type siptls cannot sign with", KeyKind::describe)
        ),
    ))
}
