//! A context: one role's configuration, shared by many sessions on many threads.
//!
//! Edits go to a mutable `Config` under a lock; each edit that changes
//! something builds a new immutable `Snapshot` (rustls config plus
//! verification policy) and swaps it in, and makes its policy the one in
//! force. A server session binds the snapshot current when its ClientHello
//! arrives; every certificate verification and every decision to resume
//! reads the policy in force at that moment. A call in progress is never
//! disturbed, and the byte pump never touches a context lock. An edit that
//! fails, or that sets what is already set, changes nothing.

use crate::abi::{
    siptls_expiry_kind, siptls_log_event, siptls_log_level, siptls_profile, siptls_result::*,
    siptls_role, UserData, SIPTLS_DEFAULT_CLIENT_CACHE_SIZE, SIPTLS_DEFAULT_TICKET_LIFETIME,
    SIPTLS_DEFAULT_TLS13_TICKETS, SIPTLS_IDENTITY_DEFAULT, SIPTLS_MAX_CA_DEPTH_LIMIT,
    SIPTLS_MAX_SESSION_CACHE_SIZE, SIPTLS_MAX_TICKET_LIFETIME, SIPTLS_MAX_TLS13_TICKETS,
    SIPTLS_MAX_TRUST_ENTRIES, SIPTLS_MIN_TICKET_LIFETIME, SIPTLS_TLS12, SIPTLS_TLS13,
};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::{Mutex, RwLock};
use pki_types::SignatureVerificationAlgorithm;
use rustls::client::{Resumption, Tls12Resumption};
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};

use crate::clock::Clock;
use crate::counters::{Counters, Event};
use crate::crl::{Crl, CrlSet, ExpiredCrl, Inserted, MissingCrl};
use crate::error::{Error, Result};
use crate::expiry;
use crate::ocsp;
use crate::signer::{ExternalKey, KeyKind, SignFn};

mod reload;
use crate::purpose::EkuPolicy;

use crate::identities::{ClientIdentities, Identity, IdentitySet, ServerIdentities};
use crate::identity;
use crate::keylog::{KeyLogLine, KeyLogSink};
use crate::logging::LogSink;
use crate::names::NameCheck;
use crate::pem;
use crate::resume::{
    Backend, ClientCache, GatewayStore, KeyRing, OwnDigest, Sealer, SessionCache, Tickets,
};
use crate::suites::{self, Selection};
use crate::trust::{TrustEntry, TrustTable};
use crate::verify::{ClientAuth, CurrentPolicy, Policy, PolicySettings, Verifier, VerifyCallback};

/// aws-lc-rs with rustls' defaults: every suite rustls implements is AEAD
/// (AES-GCM, ChaCha20-Poly1305), and it has no SSLv3, TLS 1.0/1.1, RC4 or CBC.
/// In a FIPS build it is the FIPS module, its defaults the approved part.
static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));

/// Its chain signature algorithms, remembering what they verified.
static CHAIN_ALGORITHMS: LazyLock<&'static [&'static dyn SignatureVerificationAlgorithm]> =
    LazyLock::new(|| crate::verify::remembering(PROVIDER.signature_verification_algorithms.all));

/// Threads whose last error a context keeps (a gateway's worker pool).
const LAST_ERROR_THREADS: usize = 64;

/// Default file names of the reference gateway's three-file layout.
pub(crate) const DEFAULT_KEY_FILE: &str = "privateKey.pem";
pub(crate) const DEFAULT_CERT_FILE: &str = "publickey.pem";
pub(crate) const DEFAULT_CA_FILE: &str = "CAList.pem";

/// What a context is configured with.
#[derive(Clone)]
struct Config {
    identities: IdentitySet,
    trust: TrustTable,
    crls: CrlSet,
    policy: PolicySettings,
    /// Counts successful changes; carried in every verification report.
    generation: u64,
    min_version: u16,
    max_version: u16,
    selection: Selection,
    keylog: Option<Arc<KeyLogSink>>,
    log: Option<Arc<LogSink>>,
    resumption: ResumptionSettings,
    origins: Origins,
    /// A client's; `None` for a server.
    client_parts: Option<ClientParts>,
    /// How far ahead of an expiry a warning comes.
    expiry_warning: expiry::Thresholds,
}

/// What identifies a registered callback: its C function's address and
/// its user data. The same pair registered again is no change.
pub type CallbackOrigin = (usize, usize);

/// The origin of each callback in the configuration; `None` for one set
/// without an origin (from Rust), which is a change every time.
#[derive(Clone, Copy, Default)]
struct Origins {
    log: Option<CallbackOrigin>,
    verify: Option<CallbackOrigin>,
    clock: Option<CallbackOrigin>,
    keylog: Option<CallbackOrigin>,
}

/// Two callback slots hold the same registration: both empty, or both set
/// from the same known origin.
fn same_callback<T>(
    a: Option<&T>,
    a_origin: Option<CallbackOrigin>,
    b: Option<&T>,
    b_origin: Option<CallbackOrigin>,
) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(_), Some(_)) => a_origin.is_some() && a_origin == b_origin,
        _ => false,
    }
}

#[derive(Clone)]
struct ResumptionSettings {
    enabled: bool,
    /// Client: peer names cached. Server: the in-memory session-ID cache.
    cache_size: u32,
    tls13_tickets: u32,
    lifetime: u32,
    /// Shared by every generation, so reloads keep tickets valid.
    ring: Arc<KeyRing>,
    /// The server's stateful store, if any; shared by every generation too.
    server_store: Option<Backend>,
}

/// What a client's stored sessions are tied to, shared by every generation
/// until a change makes them unfit (`Config::unfit_for_stored_sessions`):
/// rustls resumes a session only with the verifier and certificate
/// resolver that made it.
#[derive(Clone)]
struct ClientParts {
    verifier: Arc<Verifier>,
    identities: Arc<ClientIdentities>,
    cache: Option<Arc<ClientCache>>,
}

impl ResumptionSettings {
    fn new(role: siptls_role) -> Self {
        Self {
            enabled: true,
            cache_size: match role {
                siptls_role::SIPTLS_ROLE_CLIENT => SIPTLS_DEFAULT_CLIENT_CACHE_SIZE,
                siptls_role::SIPTLS_ROLE_SERVER => 0,
            },
            tls13_tickets: SIPTLS_DEFAULT_TLS13_TICKETS,
            lifetime: SIPTLS_DEFAULT_TICKET_LIFETIME,
            ring: Arc::new(KeyRing::generated()),
            server_store: None,
        }
    }

    fn same_as(&self, other: &Self) -> bool {
        let same_store = match (&self.server_store, &other.server_store) {
            (None, None) => true,
            (Some(Backend::Memory(_)), Some(Backend::Memory(_))) => {
                self.cache_size == other.cache_size
            }
            (Some(Backend::Gateway(a)), Some(Backend::Gateway(b))) => Arc::ptr_eq(a, b),
            _ => false,
        };
        self.enabled == other.enabled
            && self.cache_size == other.cache_size
            && self.tls13_tickets == other.tls13_tickets
            && self.lifetime == other.lifetime
            && Arc::ptr_eq(&self.ring, &other.ring)
            && same_store
    }
}

impl Config {
    /// Staples `der` (checked for identity `id` by the gateway clock), or
    /// no response.
    fn staple(&mut self, id: u32, der: Option<&[u8]>) -> Result<()> {
        let staple = match der {
            None => None,
            Some(der) => {
                let identity = self
                    .identities
                    .get(id)
                    .ok_or_else(|| crate::identities::not_found(id))?;
                let chain: Vec<&[u8]> = identity.key.cert.iter().map(|c| c.as_ref()).collect();
                let anchors: Vec<&[u8]> = self
                    .trust
                    .entries()
                    .iter()
                    .map(|e| e.cert.as_ref())
                    .collect();
                let now = self
                    .policy
                    .clock
                    .now()
                    .map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
                Some(ocsp::check(der, &chain, &anchors, now)?)
            }
        };
        self.identities.set_staple(id, staple)
    }

    fn new(role: siptls_role) -> Self {
        Self {
            identities: IdentitySet::default(),
            trust: TrustTable::default(),
            crls: CrlSet::default(),
            policy: PolicySettings::default(),
            generation: 0,
            min_version: SIPTLS_TLS12,
            max_version: SIPTLS_TLS13,
            selection: Selection::profile(siptls_profile::SIPTLS_PROFILE_DEFAULT),
            keylog: None,
            log: None,
            resumption: ResumptionSettings::new(role),
            origins: Origins::default(),
            client_parts: None,
            expiry_warning: expiry::Thresholds::default(),
        }
    }

    /// Whether `next` configures exactly what `self` does: setting a value
    /// that is already set is no change (no new generation).
    fn same_as(&self, next: &Self) -> bool {
        let (a, b) = (&self.policy, &next.policy);
        let same_policy = a.max_ca_depth == b.max_ca_depth
            && a.name_check == b.name_check
            && a.allow_override == b.allow_override
            && a.client_auth == b.client_auth
            && a.missing_crl == b.missing_crl
            && a.expired_crl == b.expired_crl
            && a.eku_policy == b.eku_policy
            && same_callback(
                a.callback.as_ref(),
                self.origins.verify,
                b.callback.as_ref(),
                next.origins.verify,
            )
            && match (&a.clock, &b.clock) {
                (Clock::System, Clock::System) => true,
                (Clock::Gateway(x), Clock::Gateway(y)) => {
                    same_callback(Some(x), self.origins.clock, Some(y), next.origins.clock)
                }
                _ => false,
            };
        let same_log = same_callback(
            self.log.as_ref(),
            self.origins.log,
            next.log.as_ref(),
            next.origins.log,
        ) && self.log.as_ref().map(|l| l.level())
            == next.log.as_ref().map(|l| l.level());
        same_policy
            && same_log
            && self.identities.same_content(&next.identities)
            && self.trust.same_content(&next.trust)
            && self
                .crls
                .iter()
                .map(|c| &c.der)
                .eq(next.crls.iter().map(|c| &c.der))
            && self.min_version == next.min_version
            && self.max_version == next.max_version
            && self.selection.same_as(&next.selection)
            && same_callback(
                self.keylog.as_ref(),
                self.origins.keylog,
                next.keylog.as_ref(),
                next.origins.keylog,
            )
            && self.resumption.same_as(&next.resumption)
            && self.expiry_warning == next.expiry_warning
    }

    /// Why a client's stored sessions may not outlive the change to
    /// `next`, if they may not. A stored session resumes the identity,
    /// protocol version and cipher suite it was made with, so a change to
    /// those drops them. Trust, CRLs, name rules, the CA depth and the
    /// clock do not: every stored chain is checked again under the policy
    /// in force before it is offered.
    fn unfit_for_stored_sessions(&self, next: &Self) -> Option<&'static str> {
        if !self.identities.same_content(&next.identities) {
            Some("the client identities changed, and a stored session resumes the identity it was made with")
        } else if (self.min_version, self.max_version) != (next.min_version, next.max_version) {
            Some("the protocol versions changed, and a stored session resumes the version it was made with")
        } else if !self.selection.same_as(&next.selection) {
            Some("the cipher suites or key-exchange groups changed, and a stored session resumes the suite it was made with")
        } else if self.resumption.enabled != next.resumption.enabled
            || self.resumption.cache_size != next.resumption.cache_size
        {
            Some("resumption was turned off or the session cache was resized")
        } else {
            None
        }
    }
}

/// The rustls side of a snapshot.
pub enum TlsConfig {
    Client(Arc<ClientConfig>),
    Server(Arc<ServerConfig>),
    /// A server cannot accept connections until it has an identity.
    ServerWithoutIdentity,
}

impl TlsConfig {
    /// Whether rustls finds the configuration FIPS-approved: the FIPS
    /// module in approved mode, approved suites, groups and signatures, and
    /// the TLS 1.2 extended master secret required.
    fn fips(&self) -> bool {
        match self {
            TlsConfig::Client(tls) => tls.fips(),
            TlsConfig::Server(tls) => tls.fips(),
            TlsConfig::ServerWithoutIdentity => true,
        }
    }
}

/// Everything a new session needs, frozen.
pub struct Snapshot {
    pub tls: TlsConfig,
    /// The policy this snapshot was built with: what a server's ClientHello
    /// bound (whether a client certificate is asked for).
    pub policy: Arc<Policy>,
    /// The policy in force now, shared by every generation.
    pub current: Arc<CurrentPolicy>,
    pub log: Option<Arc<LogSink>>,
    /// Each identity's ID and certificate digest, in the table's order.
    pub identities: Vec<(u32, OwnDigest)>,
    /// Resumption is on: sessions keep the accepted peer chain to store it.
    pub resumption: bool,
}

/// The snapshot new sessions start from, shared with server sessions that
/// bind it at their ClientHello.
pub type SnapshotCell = Arc<RwLock<Arc<Snapshot>>>;

pub struct Context {
    role: siptls_role,
    config: Mutex<Config>,
    snapshot: SnapshotCell,
    current: Arc<CurrentPolicy>,
    /// The detail of each thread's last failed call on this context, so one
    /// thread never reads another's; the least recent beyond a bound go.
    last_errors: Mutex<Vec<(u64, String)>>,
    /// Shared with every session made from the context.
    counters: Arc<Counters>,
    /// The expiry warnings given, so each crossing is told once.
    expiry_watch: expiry::Watch,
    /// The files the configuration came from, for `reload_if_changed`.
    sources: Mutex<reload::Sources>,
}

fn config_error(e: rustls::Error) -> Error {
    Error::new(SIPTLS_ERR_CONFIG, e.to_string())
}

fn versions(min: u16, max: u16) -> Vec<&'static SupportedProtocolVersion> {
    [
        (SIPTLS_TLS12, &rustls::version::TLS12),
        (SIPTLS_TLS13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| (min..=max).contains(v))
    .map(|(_, version)| version)
    .collect()
}

fn build_policy(role: siptls_role, config: &Config) -> Arc<Policy> {
    Arc::new(Policy::new(
        role,
        config.policy.clone(),
        config.generation,
        &config.trust,
        config.crls.clone(),
        PROVIDER.signature_verification_algorithms,
        *CHAIN_ALGORITHMS,
    ))
}

impl Snapshot {
    /// Builds the snapshot of `config`; its policy is not in force until
    /// the caller makes it so.
    fn build(role: siptls_role, config: &Config, current: &Arc<CurrentPolicy>) -> Result<Self> {
        let policy = build_policy(role, config);
        let versions = versions(config.min_version, config.max_version);
        config
            .selection
            .check_usable(config.min_version, config.max_version)?;
        let provider = Arc::new(CryptoProvider {
            cipher_suites: config.selection.suites.clone(),
            kx_groups: config.selection.groups.clone(),
            ..(**PROVIDER).clone()
        });
        let tls = match role {
            siptls_role::SIPTLS_ROLE_CLIENT => {
                let parts = config
                    .client_parts
                    .as_ref()
                    .expect("a client context always has its client parts");
                let mut tls = ClientConfig::builder_with_provider(provider)
                    .with_protocol_versions(&versions)
                    .map_err(config_error)?
                    .dangerous()
                    .with_custom_certificate_verifier(parts.verifier.clone())
                    .with_client_cert_resolver(parts.identities.clone());
                tls.resumption = match &parts.cache {
                    Some(cache) => Resumption::store(cache.clone())
                        .tls12_resumption(Tls12Resumption::SessionIdOrTickets),
                    None => Resumption::disabled(),
                };
                if let Some(keylog) = &config.keylog {
                    tls.key_log = keylog.clone();
                }
                TlsConfig::Client(Arc::new(tls))
            }
            siptls_role::SIPTLS_ROLE_SERVER if config.identities.is_empty() => {
                TlsConfig::ServerWithoutIdentity
            }
            siptls_role::SIPTLS_ROLE_SERVER => {
                let verifier = Arc::new(Verifier {
                    at_hello: policy.clone(),
                    current: current.clone(),
                });
                let mut tls = ServerConfig::builder_with_provider(provider)
                    .with_protocol_versions(&versions)
                    .map_err(config_error)?
                    .with_client_cert_verifier(verifier)
                    .with_cert_resolver(Arc::new(ServerIdentities(config.identities.clone())));
                let resume = &config.resumption;
                tls.session_storage = Arc::new(NoServerSessionStorage {});
                tls.send_tls13_tickets = 0;
                if resume.enabled {
                    let sealer = Sealer {
                        ring: resume.ring.clone(),
                        policy: current.clone(),
                        lifetime: resume.lifetime,
                    };
                    // Tickets, unless the gateway chose a session cache.
                    match &resume.server_store {
                        Some(backend) => {
                            tls.session_storage = Arc::new(SessionCache {
                                sealer,
                                backend: backend.clone(),
                            })
                        }
                        None => tls.ticketer = Arc::new(Tickets(sealer)),
                    }
                    tls.send_tls13_tickets = resume.tls13_tickets as usize;
                }
                if let Some(keylog) = &config.keylog {
                    tls.key_log = keylog.clone();
                }
                TlsConfig::Server(Arc::new(tls))
            }
        };
        if cfg!(feature = "fips") && !tls.fips() {
            return Err(Error::new(
                SIPTLS_ERR_NOT_FIPS_APPROVED,
                "This FIPS build cannot make the configuration FIPS-approved: the FIPS module is not in approved mode, or a setting leaves the approved set (siptls_get_fips_mode tells which)",
            ));
        }
        Ok(Self {
            tls,
            policy,
            current: current.clone(),
            log: config.log.clone(),
            identities: config.identities.iter().map(|i| (i.id, i.digest)).collect(),
            resumption: config.resumption.enabled,
        })
    }
}

/// This thread's key among a context's last errors: a number of its own.
/// Not std's `ThreadId`: asking for it allocates a handle for a thread C
/// started, which valgrind reports as possibly lost once the process ends.
fn thread_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|key| *key)
}

/// Trust IDs `first, first+1, ...` for `count` entries, refusing to wrap.
fn consecutive_ids(first: u32, count: usize) -> Result<impl Iterator<Item = u32>> {
    let last = u32::try_from(count)
        .ok()
        .and_then(|n| first.checked_add(n.saturating_sub(1)))
        .filter(|&last| last != crate::abi::SIPTLS_TRUST_ID_NONE)
        .ok_or_else(|| {
            Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!(
                    "trust IDs from {first} for {count} certificates run past the largest trust ID"
                ),
            )
        })?;
    Ok(first..=last)
}

/// File names for the three-file layout; `None` keeps the default name.
#[derive(Debug, Default, Clone, Copy)]
pub struct PemNames<'a> {
    pub private_key: Option<&'a str>,
    pub certificate: Option<&'a str>,
    pub ca_list: Option<&'a str>,
    /// A CRL file in the same directory; `None`: the directory has none.
    pub crl: Option<&'a str>,
}

impl Context {
    pub fn new(role: siptls_role) -> Self {
        let mut config = Config::new(role);
        let current = Arc::new(CurrentPolicy::new(build_policy(role, &config)));
        config.client_parts = client_parts(role, &config, &current);
        let snapshot = Snapshot::build(role, &config, &current)
            .expect("the default configuration always builds");
        Self {
            role,
            config: Mutex::new(config),
            snapshot: Arc::new(RwLock::new(Arc::new(snapshot))),
            current,
            last_errors: Mutex::new(Vec::new()),
            counters: Arc::new(Counters::default()),
            expiry_watch: expiry::Watch::new(),
            sources: Mutex::new(reload::Sources::default()),
        }
    }

    /// Everything that expires, and the gateway clock's reading (`None`:
    /// unset). Crossings of a warning threshold are logged and counted now.
    pub fn expiry(&self) -> (Vec<expiry::Item>, Option<i64>) {
        let (items, now, thresholds) = {
            let config = self.config.lock();
            let now = config
                .policy
                .clock
                .now()
                .map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
            let identities = config.identities.iter().map(|i| expiry::Item {
                kind: siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY,
                id: i.id,
                subject: i.subject.clone(),
                not_after: i.not_after,
                earliest: i.earliest_not_after,
            });
            let trust = config.trust.entries().iter().map(|e| expiry::Item {
                kind: siptls_expiry_kind::SIPTLS_EXPIRY_TRUST_ENTRY,
                id: e.id,
                subject: e.subject.clone(),
                not_after: e.not_after,
                earliest: e.not_after,
            });
            let crls = config
                .crls
                .iter()
                .enumerate()
                .map(|(index, c)| expiry::Item {
                    kind: siptls_expiry_kind::SIPTLS_EXPIRY_CRL,
                    id: index as u32,
                    subject: c.issuer_text.clone(),
                    not_after: c.next_update,
                    earliest: c.next_update,
                });
            let staples = config.identities.iter().filter_map(|i| {
                i.staple.as_ref().map(|s| expiry::Item {
                    kind: siptls_expiry_kind::SIPTLS_EXPIRY_OCSP,
                    id: i.id,
                    subject: i.subject.clone(),
                    not_after: s.next_update,
                    earliest: s.next_update,
                })
            });
            let items: Vec<_> = identities.chain(trust).chain(crls).chain(staples).collect();
            (items, now, config.expiry_warning)
        };
        if let Some(now) = now {
            let crossed = self.expiry_watch.crossings(&items, now, thresholds);
            if !crossed.is_empty() {
                let log = self.snapshot().log.clone();
                for item in crossed {
                    self.counters.count(Event::ExpiryWarning);
                    if let Some(log) = &log {
                        log.log(
                            siptls_log_level::SIPTLS_LOG_WARN,
                            siptls_log_event::SIPTLS_LOG_EXPIRY,
                            UserData::NONE,
                            || item.warning(now),
                        );
                    }
                }
            }
        }
        (items, now)
    }

    /// Whether `item` crossed its threshold and was warned of.
    pub fn expiry_warned(&self, item: &expiry::Item) -> bool {
        self.expiry_watch.warned(item)
    }

    /// A session is being made: looks at the expiries at most once a second.
    pub fn expiry_look_due(&self) {
        if self.expiry_watch.due() {
            self.expiry();
        }
    }

    /// The counters and the expiry gauges in the Prometheus text format.
    pub fn prometheus(&self) -> String {
        let (items, now) = self.expiry();
        self.counters.snapshot().prometheus() + &expiry::prometheus(&items, now)
    }

    /// How far ahead of an expiry the warning comes (0: none).
    pub fn set_expiry_warning(&self, thresholds: expiry::Thresholds) -> Result<()> {
        self.update(|c| {
            c.expiry_warning = thresholds;
            Ok(())
        })
    }

    /// The configuration new sessions start from.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().clone()
    }

    /// Where the current snapshot is published, for a server session to
    /// bind it when its ClientHello arrives.
    pub fn snapshot_cell(&self) -> SnapshotCell {
        self.snapshot.clone()
    }

    /// Detail text of this thread's most recent failed call on this context.
    pub fn last_error(&self) -> String {
        let me = thread_key();
        self.last_errors
            .lock()
            .iter()
            .find(|(thread, _)| *thread == me)
            .map(|(_, detail)| detail.clone())
            .unwrap_or_default()
    }

    /// Runs `f` (argument checks included) and records its failure, if any.
    pub fn recorded<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.record(f())
    }

    /// Keeps the detail of a failure for `last_error`, and passes the result on.
    pub fn record<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            let me = thread_key();
            let mut all = self.last_errors.lock();
            all.retain(|(thread, _)| *thread != me);
            if all.len() == LAST_ERROR_THREADS {
                all.remove(0);
            }
            all.push((me, e.detail.clone()));
        }
        result
    }

    /// Applies an edit to a copy of the configuration; only if the edit and
    /// the new snapshot both succeed do they replace the current ones. An
    /// edit that leaves the configuration as it was changes nothing: no new
    /// generation, and the client's stored sessions stay.
    fn update<T>(&self, edit: impl FnOnce(&mut Config) -> Result<T>) -> Result<T> {
        let result = (|| {
            let mut config = self.config.lock();
            let mut next = config.clone();
            let value = edit(&mut next)?;
            if config.same_as(&next) {
                return Ok((value, None));
            }
            // CRLs stay consistent with the trust table; re-checking them
            // (signatures) is needed only when the table changed.
            if !next.trust.same_entries(&config.trust) {
                next.crls
                    .rebind(&next.trust, PROVIDER.signature_verification_algorithms.all);
            }
            let dropped = match config.unfit_for_stored_sessions(&next) {
                Some(why) if self.role == siptls_role::SIPTLS_ROLE_CLIENT => {
                    let held = config.client_parts.as_ref().and_then(|p| p.cache.as_ref());
                    let dropped = held.is_some_and(|cache| !cache.is_empty());
                    next.client_parts = client_parts(self.role, &next, &self.current);
                    dropped.then_some(why)
                }
                _ => None,
            };
            next.generation += 1;
            let snapshot = Snapshot::build(self.role, &next, &self.current)?;
            *config = next;
            self.current.replace(snapshot.policy.clone());
            *self.snapshot.write() = Arc::new(snapshot);
            Ok((value, Some(dropped)))
        })();
        let result = result.map(|(value, applied)| {
            if let Some(dropped) = applied {
                // The lock is released: the callback may call into the context.
                self.counters.count(Event::ConfigApplied);
                if dropped.is_some() {
                    self.counters.count(Event::StoredSessionsDropped);
                }
                self.log_applied(dropped);
            }
            value
        });
        self.refuse(result)
    }

    fn log_applied(&self, dropped: Option<&str>) {
        let snapshot = self.snapshot();
        let Some(log) = &snapshot.log else { return };
        let generation = snapshot.policy.generation();
        log.log(
            siptls_log_level::SIPTLS_LOG_INFO,
            siptls_log_event::SIPTLS_LOG_CONFIG_APPLIED,
            UserData::NONE,
            || format!("Configuration generation {generation} is in force."),
        );
        if let Some(why) = dropped {
            log.log(
                siptls_log_level::SIPTLS_LOG_INFO,
                siptls_log_event::SIPTLS_LOG_STORED_SESSIONS_DROPPED,
                UserData::NONE,
                || {
                    format!(
                        "The stored sessions for resumption were dropped at generation {generation}: {why}; the next connection to each server makes a full handshake."
                    )
                },
            );
        }
    }

    /// `record`, for a configuration change: a failure counts as refused.
    fn refuse<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            self.counters.count(Event::ConfigRefused);
            if let Some(log) = &self.snapshot().log {
                log.log(
                    siptls_log_level::SIPTLS_LOG_WARN,
                    siptls_log_event::SIPTLS_LOG_CONFIG_REFUSED,
                    UserData::NONE,
                    || {
                        format!(
                            "configuration change refused ({}): {}",
                            e.code as u32, e.detail
                        )
                    },
                );
            }
        }
        self.record(result)
    }

    /// Sets (or with `None` removes) the log callback and its threshold.
    pub fn set_log_callback(
        &self,
        sink: Option<Arc<LogSink>>,
        origin: Option<CallbackOrigin>,
    ) -> Result<()> {
        if sink.is_some() {
            crate::engine_log::install();
        }
        self.update(|c| {
            c.log = sink;
            c.origins.log = origin;
            Ok(())
        })
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Sets the default identity (ID 0), replacing it.
    pub fn set_identity_pem(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        self.put_identity(
            SIPTLS_IDENTITY_DEFAULT,
            true,
            pem_identity(cert_pem, key_pem),
        )
    }

    pub fn load_identity_files(&self, cert_path: &Path, key_path: &Path) -> Result<()> {
        self.put_identity_files(SIPTLS_IDENTITY_DEFAULT, true, cert_path, key_path)
    }

    /// Adds identity `id` (an ID in use is refused: remove it first).
    pub fn add_identity_pem(&self, id: u32, cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        self.put_identity(id, false, pem_identity(cert_pem, key_pem))
    }

    pub fn add_identity_files(&self, id: u32, cert_path: &Path, key_path: &Path) -> Result<()> {
        self.put_identity_files(id, false, cert_path, key_path)
    }

    /// Adds identity `id` with a key the gateway holds: the chain from
    /// memory, the signatures from `sign`. The key's type must be the
    /// certificate's.
    pub fn add_identity_signer(
        &self,
        id: u32,
        chain_pem: &[u8],
        kind: KeyKind,
        raw_ecdsa: bool,
        sign: SignFn,
    ) -> Result<()> {
        let certified = (|| {
            let chain = pem::certificates(chain_pem).map_err(|e| e.context("chain_pem"))?;
            let found = KeyKind::of_certificate(chain[0].as_ref());
            if found != Some(kind) {
                return Err(Error::new(
                    SIPTLS_ERR_KEY_MISMATCH,
                    format!(
                        "The signer holds a {} key, and the certificate's public key is {}; give the key type of the certificate's key.",
                        kind.describe(),
                        found.map_or("of a type siptls cannot sign with", KeyKind::describe)
                    ),
                ));
            }
            let key = ExternalKey::new(kind, raw_ecdsa, sign)?;
            Ok(Arc::new(CertifiedKey::new(chain, Arc::new(key))))
        })();
        self.put_identity(id, false, certified)
    }

    /// An identity from memory: no file stands behind it any more.
    fn put_identity(&self, id: u32, replace: bool, key: Result<Arc<CertifiedKey>>) -> Result<()> {
        let key = self.refuse(key)?;
        self.update(|c| c.identities.put(Identity::new(id, key), replace))?;
        self.sources.lock().forget_identity(id);
        Ok(())
    }

    /// An identity from files, which `reload_if_changed` watches from now on.
    fn put_identity_files(&self, id: u32, replace: bool, cert: &Path, key: &Path) -> Result<()> {
        let read = self.refuse(reload::read_identity(cert, key))?;
        self.update(|c| c.identities.put(Identity::new(id, read.key), replace))?;
        self.sources
            .lock()
            .identity_from(id, cert, key, read.loaded);
        Ok(())
    }

    pub fn remove_identity(&self, id: u32) -> Result<()> {
        self.update(|c| c.identities.remove(id))?;
        self.sources.lock().forget_identity(id);
        Ok(())
    }

    /// Staples an OCSP response to identity `id` (`None`: none), checked
    /// for its certificate by the gateway's clock; no file stands behind it.
    pub fn set_ocsp_response(&self, id: u32, der: Option<&[u8]>) -> Result<()> {
        self.update(|c| c.staple(id, der))?;
        self.sources.lock().forget_ocsp(id);
        Ok(())
    }

    /// As `set_ocsp_response`, from a file `reload_if_changed` watches.
    pub fn load_ocsp_file(&self, id: u32, path: &Path) -> Result<()> {
        let text = self.refuse(pem::read_file(path))?;
        self.update(|c| {
            c.staple(id, Some(&text))
                .map_err(|e| e.context(&path.display().to_string()))
        })?;
        self.sources.lock().ocsp_from(id, path, &text);
        Ok(())
    }

    /// The exact SNI names identity `id` serves besides its certificate's.
    pub fn set_identity_names(&self, id: u32, names: &[&str]) -> Result<()> {
        self.update(|c| c.identities.set_names(id, names))
    }

    /// Loads `privateKey.pem`, `publickey.pem` and `CAList.pem` (or the given
    /// names, and a CRL file when named) from `dir`, and makes them the whole
    /// configuration: identity, a trust table of exactly the CA list's
    /// certificates and, with a CRL file, exactly its CRLs. All or nothing.
    pub fn load_pem_dir(
        &self,
        dir: &Path,
        names: PemNames<'_>,
        first_trust_id: u32,
    ) -> Result<usize> {
        let key_path = dir.join(names.private_key.unwrap_or(DEFAULT_KEY_FILE));
        let cert_path = dir.join(names.certificate.unwrap_or(DEFAULT_CERT_FILE));
        let ca_path = dir.join(names.ca_list.unwrap_or(DEFAULT_CA_FILE));
        let crl_path = names.crl.map(|name| dir.join(name));
        let loaded = (|| {
            let identity = reload::read_identity(&cert_path, &key_path)?;
            let ca_text = pem::read_file(&ca_path)?;
            let trust = ca_list_entries(&ca_text, first_trust_id)
                .and_then(TrustTable::from_entries)
                .map_err(|e| e.context(&ca_path.display().to_string()))?;
            let crls = crl_path
                .as_deref()
                .map(|path| {
                    let place = path.display().to_string();
                    pem::read_file(path)
                        .and_then(|text| Ok((crl_set(&text, &trust)?, text)))
                        .map_err(|e| e.context(&place))
                })
                .transpose()?;
            Ok((identity, ca_text, trust, crls))
        })();
        let (identity, ca_text, trust, crls) = self.refuse(loaded)?;
        let ids: Vec<u32> = trust.entries().iter().map(|e| e.id).collect();
        let count = self.update(|c| {
            let count = trust.len();
            c.identities.put(
                Identity::new(SIPTLS_IDENTITY_DEFAULT, identity.key.clone()),
                true,
            )?;
            c.trust = trust;
            if let Some((crls, _)) = &crls {
                c.crls = crls.clone();
            }
            Ok(count)
        })?;
        let mut sources = self.sources.lock();
        sources.identity_from(
            SIPTLS_IDENTITY_DEFAULT,
            &cert_path,
            &key_path,
            identity.loaded,
        );
        sources.ca_list_from(&ca_path, first_trust_id, ids, &ca_text, true);
        if let (Some(path), Some((_, text))) = (&crl_path, &crls) {
            sources.crl_from(path, text, true);
        }
        Ok(count)
    }

    /// Replaces the whole trust table with a CA list's certificates, trust
    /// IDs counting up from `first_trust_id`. All or nothing.
    pub fn trust_replace_ca_list(&self, pem_text: &[u8], first_trust_id: u32) -> Result<usize> {
        let trust = self
            .refuse(ca_list_entries(pem_text, first_trust_id).and_then(TrustTable::from_entries))?;
        let count = self.update(|c| {
            c.trust = trust;
            Ok(c.trust.len())
        })?;
        self.sources.lock().forget_ca_lists();
        Ok(count)
    }

    /// Adds one trust entry from a single certificate (PEM or DER).
    pub fn trust_add(&self, trust_id: u32, cert: &[u8]) -> Result<()> {
        let entry = (|| {
            let der = if cert.first() == Some(&crate::der::TAG_SEQUENCE) {
                pem::certificate_der(cert)?
            } else {
                let mut certs = pem::certificates(cert)?;
                if certs.len() != 1 {
                    return Err(Error::new(
                        SIPTLS_ERR_INVALID_ARGUMENT,
                        format!(
                            "{} certificates given for one trust entry; load a CA list to add several",
                            certs.len()
                        ),
                    ));
                }
                certs.remove(0)
            };
            TrustEntry::new(trust_id, der)
        })();
        let entry = self.refuse(entry)?;
        self.update(|c| c.trust.add_all(vec![entry]))
    }

    /// Adds every certificate of a CA list as its own entry, IDs counting up
    /// from `first_trust_id` in file order. All or nothing.
    pub fn trust_load_ca_list(&self, pem_text: &[u8], first_trust_id: u32) -> Result<usize> {
        let entries = self.refuse(ca_list_entries(pem_text, first_trust_id))?;
        self.update(|c| {
            let count = entries.len();
            c.trust.add_all(entries)?;
            Ok(count)
        })
    }

    pub fn trust_load_ca_file(&self, path: &Path, first_trust_id: u32) -> Result<usize> {
        let (text, entries) = self.refuse(pem::read_file(path).and_then(|text| {
            let entries = ca_list_entries(&text, first_trust_id)
                .map_err(|e| e.context(&path.display().to_string()))?;
            Ok((text, entries))
        }))?;
        let ids = entries.iter().map(|e| e.id).collect();
        let count = self.update(|c| {
            let count = entries.len();
            c.trust
                .add_all(entries)
                .map_err(|e| e.context(&path.display().to_string()))?;
            Ok(count)
        })?;
        self.sources
            .lock()
            .ca_list_from(path, first_trust_id, ids, &text, false);
        Ok(count)
    }

    pub fn trust_remove(&self, trust_id: u32) -> Result<()> {
        self.update(|c| c.trust.remove(trust_id))?;
        self.sources.lock().forget_trust_id(trust_id);
        Ok(())
    }

    pub fn trust_entry(&self, trust_id: u32) -> Result<Arc<TrustEntry>> {
        let entry = self.config.lock().trust.get(trust_id).cloned();
        self.record(entry.ok_or_else(|| {
            Error::new(
                SIPTLS_ERR_TRUST_NOT_FOUND,
                format!("no trust entry has trust ID {trust_id}"),
            )
        }))
    }

    /// The generation of the configuration new sessions start from.
    pub fn generation(&self) -> u64 {
        self.config.lock().generation
    }

    pub fn trust_ids(&self) -> Vec<u32> {
        self.config
            .lock()
            .trust
            .entries()
            .iter()
            .map(|e| e.id)
            .collect()
    }

    pub fn trust_set_sip_domain(&self, trust_id: u32, domain: Option<&str>) -> Result<()> {
        let domain = domain
            .map(|d| {
                pki_types::DnsName::try_from(d.to_ascii_lowercase())
                    .map(pki_types::ServerName::DnsName)
                    .map_err(|_| {
                        Error::new(
                            SIPTLS_ERR_INVALID_ARGUMENT,
                            format!("'{d}' is not a valid SIP domain"),
                        )
                    })
            })
            .transpose();
        let domain = self.refuse(domain)?;
        self.update(|c| c.trust.set_sip_domain(trust_id, domain))
    }

    /// Loads CRLs (PEM, one or more; or one DER). Each replaces the CRL of
    /// its issuer key when newer; an older or equal one is refused. All or
    /// nothing.
    pub fn add_crls(&self, input: &[u8]) -> Result<usize> {
        let ders = self.refuse(pem::crls(input).map_err(|e| e.context("CRL")))?;
        self.add_crl_ders(&ders, "CRL")
    }

    pub fn add_crl_file(&self, path: &Path) -> Result<usize> {
        let place = path.display().to_string();
        let (text, ders) = self.refuse(pem::read_file(path).and_then(|b| {
            let ders = pem::crls(&b).map_err(|e| e.context(&place))?;
            Ok((b, ders))
        }))?;
        let applied = self.add_crl_ders(&ders, &place)?;
        self.sources.lock().crl_from(path, &text, false);
        Ok(applied)
    }

    fn add_crl_ders(
        &self,
        ders: &[pki_types::CertificateRevocationListDer<'static>],
        place: &str,
    ) -> Result<usize> {
        self.update(|c| {
            let (crls, applied) =
                insert_crls(ders, &c.trust, c.crls.clone()).map_err(|e| e.context(place))?;
            c.crls = crls;
            Ok(applied)
        })
    }

    /// The loaded CRLs, in load order.
    pub fn crls(&self) -> Vec<Arc<Crl>> {
        self.config.lock().crls.iter().cloned().collect()
    }

    /// Removes every CRL of the issuer name `issuer`, whatever its key.
    pub fn crl_remove(&self, issuer: &str) -> Result<()> {
        self.update(|c| c.crls.remove_issuer(issuer))
    }

    pub fn crl_clear(&self) -> Result<()> {
        self.update(|c| {
            c.crls.clear();
            Ok(())
        })?;
        self.sources.lock().forget_crls();
        Ok(())
    }

    pub fn set_expired_crl_policy(&self, policy: ExpiredCrl) -> Result<()> {
        self.update(|c| {
            c.policy.expired_crl = policy;
            Ok(())
        })
    }

    pub fn set_missing_crl_policy(&self, policy: MissingCrl) -> Result<()> {
        self.update(|c| {
            c.policy.missing_crl = policy;
            Ok(())
        })
    }

    pub fn set_eku_policy(&self, policy: EkuPolicy) -> Result<()> {
        self.update(|c| {
            c.policy.eku_policy = policy;
            Ok(())
        })
    }

    /// A trust entry's own EKU policy; `None`: the context's.
    pub fn trust_set_eku_policy(&self, trust_id: u32, policy: Option<EkuPolicy>) -> Result<()> {
        self.update(|c| c.trust.set_eku_policy(trust_id, policy))
    }

    pub fn set_client_auth(&self, mode: ClientAuth) -> Result<()> {
        self.update(|c| {
            c.policy.client_auth = mode;
            Ok(())
        })
    }

    pub fn set_max_ca_depth(&self, depth: u32) -> Result<()> {
        self.update(|c| {
            if !(1..=SIPTLS_MAX_CA_DEPTH_LIMIT).contains(&depth) {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("CA depth {depth} out of range 1..={SIPTLS_MAX_CA_DEPTH_LIMIT}"),
                ));
            }
            c.policy.max_ca_depth = depth;
            Ok(())
        })
    }

    pub fn set_clock(&self, clock: Clock, origin: Option<CallbackOrigin>) -> Result<()> {
        self.update(|c| {
            c.policy.clock = clock;
            c.origins.clock = origin;
            Ok(())
        })
    }

    pub fn set_verify_callback(
        &self,
        callback: Option<VerifyCallback>,
        origin: Option<CallbackOrigin>,
    ) -> Result<()> {
        self.update(|c| {
            c.policy.callback = callback;
            c.origins.verify = origin;
            Ok(())
        })
    }

    pub fn set_name_check(&self, mode: NameCheck) -> Result<()> {
        self.update(|c| {
            c.policy.name_check = mode;
            Ok(())
        })
    }

    pub fn set_allow_override(&self, allow: bool) -> Result<()> {
        self.update(|c| {
            c.policy.allow_override = allow;
            Ok(())
        })
    }

    /// Bounds the TLS versions; only TLS 1.2 (0x0303) and 1.3 (0x0304) exist here.
    pub fn set_versions(&self, min: u16, max: u16) -> Result<()> {
        self.update(|c| {
            let known = |v: u16| v == SIPTLS_TLS12 || v == SIPTLS_TLS13;
            if !known(min) || !known(max) || min > max {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!(
                        "versions {min:#06x}..{max:#06x}: only TLS 1.2 (0x0303) and TLS 1.3 (0x0304) are offered; SSLv3, TLS 1.0 and 1.1 are broken and refused"
                    ),
                ));
            }
            c.min_version = min;
            c.max_version = max;
            Ok(())
        })
    }

    /// Selects a named profile's cipher suites and key-exchange groups.
    pub fn set_profile(&self, profile: siptls_profile) -> Result<()> {
        self.update(|c| {
            c.selection = Selection::profile(profile);
            Ok(())
        })
    }

    /// Cipher suites by IANA number, in preference order (the groups stay).
    pub fn set_cipher_suites(&self, numbers: &[u16]) -> Result<()> {
        let list = self.refuse(suites::suites(numbers))?;
        self.update(|c| {
            c.selection.suites = list;
            Ok(())
        })
    }

    /// Key-exchange groups by IANA number, in preference order (the suites stay).
    pub fn set_kx_groups(&self, numbers: &[u16]) -> Result<()> {
        let list = self.refuse(suites::groups(numbers))?;
        self.update(|c| {
            c.selection.groups = list;
            Ok(())
        })
    }

    /// Turns resumption on or off (both roles; on by default).
    pub fn set_resumption(&self, enabled: bool) -> Result<()> {
        self.update(|c| {
            c.resumption.enabled = enabled;
            Ok(())
        })
    }

    /// Client: how many peer names the session cache holds (0: none).
    /// Server: the in-memory session-ID cache (0, the default: tickets only);
    /// replaces a gateway store.
    pub fn set_session_cache_size(&self, entries: u32) -> Result<()> {
        let role = self.role;
        self.update(|c| {
            if entries > SIPTLS_MAX_SESSION_CACHE_SIZE {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("session cache size {entries} above {SIPTLS_MAX_SESSION_CACHE_SIZE}"),
                ));
            }
            c.resumption.cache_size = entries;
            if role == siptls_role::SIPTLS_ROLE_SERVER {
                c.resumption.server_store = (entries > 0)
                    .then(|| Backend::Memory(ServerSessionMemoryCache::new(entries as usize)));
            }
            Ok(())
        })
    }

    /// Server: keeps resumable sessions in the gateway's store instead of
    /// memory (`None`: no stateful cache).
    pub fn set_session_store(&self, store: Option<Arc<dyn GatewayStore>>) -> Result<()> {
        self.refuse(self.server_only("a session store"))?;
        self.update(|c| {
            c.resumption.cache_size = 0;
            c.resumption.server_store = store.map(Backend::Gateway);
            Ok(())
        })
    }

    pub fn set_tls13_tickets(&self, count: u32) -> Result<()> {
        self.refuse(self.server_only("TLS 1.3 tickets"))?;
        self.update(|c| {
            if count > SIPTLS_MAX_TLS13_TICKETS {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!(
                        "{count} TLS 1.3 tickets per handshake; at most {SIPTLS_MAX_TLS13_TICKETS}"
                    ),
                ));
            }
            c.resumption.tls13_tickets = count;
            Ok(())
        })
    }

    pub fn set_ticket_lifetime(&self, seconds: u32) -> Result<()> {
        self.refuse(self.server_only("a ticket lifetime"))?;
        self.update(|c| {
            if !(SIPTLS_MIN_TICKET_LIFETIME..=SIPTLS_MAX_TICKET_LIFETIME).contains(&seconds) {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!(
                        "ticket lifetime {seconds} s out of range {SIPTLS_MIN_TICKET_LIFETIME}..={SIPTLS_MAX_TICKET_LIFETIME}"
                    ),
                ));
            }
            c.resumption.lifetime = seconds;
            Ok(())
        })
    }

    /// Replaces the ticket keys with a supplied set (first seals, all open).
    pub fn set_ticket_keys(&self, text: &[u8]) -> Result<usize> {
        let ring = self.refuse(
            self.server_only("ticket keys")
                .and_then(|()| KeyRing::from_text(text)),
        )?;
        let count = self.install_ticket_keys(ring)?;
        self.sources.lock().ticket_keys_from(None);
        Ok(count)
    }

    pub fn load_ticket_key_file(&self, path: &Path) -> Result<usize> {
        let (text, ring) = self.refuse(self.server_only("ticket keys").and_then(|()| {
            pem::read_secret_file(path)
                .and_then(|text| Ok((KeyRing::from_text(&text)?, text)))
                .map(|(ring, text)| (text, ring))
                .map_err(|e| e.context(&path.display().to_string()))
        }))?;
        let count = self.install_ticket_keys(ring)?;
        self.sources.lock().ticket_keys_from(Some((path, &text)));
        Ok(count)
    }

    fn install_ticket_keys(&self, ring: KeyRing) -> Result<usize> {
        let count = ring.key_count();
        self.update(|c| {
            c.resumption.ring = Arc::new(ring);
            Ok(count)
        })
    }

    fn server_only(&self, what: &str) -> Result<()> {
        if self.role == siptls_role::SIPTLS_ROLE_SERVER {
            Ok(())
        } else {
            Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("{what}: server contexts only"),
            ))
        }
    }

    /// Opening a file is a change every time (it may be another file now).
    pub fn set_keylog_file(&self, path: Option<&Path>) -> Result<()> {
        let keylog = self.refuse(path.map(KeyLogSink::open).transpose())?;
        self.set_keylog(keylog, None)
    }

    pub fn set_keylog_callback(
        &self,
        callback: Option<KeyLogLine>,
        origin: Option<CallbackOrigin>,
    ) -> Result<()> {
        self.set_keylog(callback.map(KeyLogSink::Callback), origin)
    }

    /// Logs to the file `SSLKEYLOGFILE` names, if set; returns whether it is.
    pub fn use_sslkeylogfile(&self) -> Result<bool> {
        let keylog = self.refuse(KeyLogSink::from_env())?;
        let on = keylog.is_some();
        self.set_keylog(keylog, None)?;
        Ok(on)
    }

    fn set_keylog(&self, keylog: Option<KeyLogSink>, origin: Option<CallbackOrigin>) -> Result<()> {
        self.update(|c| {
            c.keylog = keylog.map(Arc::new);
            c.origins.keylog = origin;
            Ok(())
        })
    }
}

/// A client's verifier, certificate resolver and session store, new: what
/// was stored under the old ones is never resumed.
fn client_parts(
    role: siptls_role,
    config: &Config,
    current: &Arc<CurrentPolicy>,
) -> Option<ClientParts> {
    let resumption = &config.resumption;
    (role == siptls_role::SIPTLS_ROLE_CLIENT).then(|| ClientParts {
        verifier: Arc::new(Verifier {
            at_hello: build_policy(role, config),
            current: current.clone(),
        }),
        identities: Arc::new(ClientIdentities(config.identities.clone())),
        cache: (resumption.enabled && resumption.cache_size > 0)
            .then(|| Arc::new(ClientCache::new(current.clone(), resumption.cache_size))),
    })
}

fn pem_identity(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<CertifiedKey>> {
    identity::from_pem(cert_pem, "certificate", key_pem, "private key")
}

/// Inserts CRLs into `set`, each checked against `trust`; returns the set
/// and how many changed it. CRLs already loaded byte for byte are skipped,
/// so a file of several CRLs refreshes the ones that changed; one that holds
/// nothing new is refused, as is any CRL older than the one it would replace.
fn insert_crls(
    ders: &[pki_types::CertificateRevocationListDer<'static>],
    trust: &TrustTable,
    mut set: CrlSet,
) -> Result<(CrlSet, usize)> {
    let algorithms = PROVIDER.signature_verification_algorithms.all;
    let mut applied = 0;
    let mut first_unchanged = None;
    for (i, der) in ders.iter().enumerate() {
        let crl = Crl::load(der, i + 1, trust, algorithms)?;
        match set.insert(crl.clone(), i + 1, algorithms)? {
            Inserted::Applied => applied += 1,
            Inserted::Unchanged => {
                first_unchanged.get_or_insert((crl, i + 1));
            }
        }
    }
    match first_unchanged {
        Some((crl, position)) if applied == 0 => Err(set.refuse_unchanged(&crl, position)),
        _ => Ok((set, applied)),
    }
}

fn crl_set(input: &[u8], trust: &TrustTable) -> Result<CrlSet> {
    insert_crls(&pem::crls(input)?, trust, CrlSet::default()).map(|(set, _)| set)
}

fn ca_list_entries(pem_text: &[u8], first_trust_id: u32) -> Result<Vec<TrustEntry>> {
    let certs = pem::certificates(pem_text)?;
    if certs.len() > SIPTLS_MAX_TRUST_ENTRIES {
        return Err(Error::new(
            SIPTLS_ERR_TRUST_TABLE_FULL,
            format!(
                "{} certificates, the trust table holds at most {SIPTLS_MAX_TRUST_ENTRIES}",
                certs.len()
            ),
        ));
    }
    consecutive_ids(first_trust_id, certs.len())?
        .zip(certs)
        .enumerate()
        .map(|(i, (id, cert))| {
            TrustEntry::new(id, cert).map_err(|e| e.context(&format!("certificate #{}", i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        siptls_handshake_kind, siptls_result, SIPTLS_DEFAULT_MAX_CA_DEPTH, SIPTLS_TRUST_ID_NONE,
    };
    use crate::session::Session;
    use crate::testing::{
        client_context, handshake, on, pem_list, pki, pump, server_context, sessions, transfer,
        ROOT_ID,
    };

    /// The generation new sessions start from, as every view reports it.
    fn generation(ctx: &Context) -> u64 {
        let snapshot = ctx.snapshot();
        assert_eq!(snapshot.policy.generation(), ctx.generation());
        assert_eq!(snapshot.current.get().generation(), ctx.generation());
        ctx.generation()
    }

    #[test]
    fn a_change_counts_one_generation_and_setting_what_is_set_none() {
        let f = pki();
        let ctx = Context::new(siptls_role::SIPTLS_ROLE_SERVER);
        assert_eq!(generation(&ctx), 0);
        ctx.set_max_ca_depth(SIPTLS_DEFAULT_MAX_CA_DEPTH).unwrap();
        ctx.set_client_auth(ClientAuth::Required).unwrap();
        ctx.set_versions(SIPTLS_TLS12, SIPTLS_TLS13).unwrap();
        assert_eq!(generation(&ctx), 0, "the defaults set again");

        let before = ctx.snapshot();
        ctx.set_max_ca_depth(3).unwrap();
        assert_eq!(generation(&ctx), 1);
        assert!(!Arc::ptr_eq(&before, &ctx.snapshot()), "a new snapshot");
        let before = ctx.snapshot();
        ctx.set_max_ca_depth(3).unwrap();
        assert_eq!(generation(&ctx), 1, "the same depth");
        assert!(Arc::ptr_eq(&before, &ctx.snapshot()), "the same snapshot");

        let list = pem_list(&[f.root.issued(), f.other_root.issued()]);
        assert_eq!(ctx.trust_replace_ca_list(&list, 1), Ok(2));
        assert_eq!(generation(&ctx), 2);
        assert_eq!(ctx.trust_replace_ca_list(&list, 1), Ok(2));
        assert_eq!(generation(&ctx), 2, "the same CA list loaded twice");
        assert_eq!(ctx.trust_replace_ca_list(&list, 5), Ok(2));
        assert_eq!(generation(&ctx), 3, "the same certificates under other IDs");
        assert_eq!(ctx.trust_ids(), [5, 6]);

        for expected in [4, 4] {
            ctx.set_identity_pem(f.server.cert_pem.as_bytes(), f.server.key_pem.as_bytes())
                .unwrap();
            assert_eq!(generation(&ctx), expected, "the same identity twice");
        }
        let counted = ctx.counters().snapshot();
        assert_eq!((counted.config_applied, counted.config_refused), (4, 0));
    }

    #[test]
    fn a_refused_edit_changes_nothing() {
        let f = pki();
        let ctx = server_context();
        ctx.trust_add(3, f.other_root.issued().cert_pem.as_bytes())
            .unwrap();
        ctx.add_crls(f.root.crl(&[], 2).pem.as_bytes()).unwrap();
        // TLS 1.2 suites only: a TLS 1.3-only context could not be built.
        ctx.set_cipher_suites(&[0xc02b]).unwrap();
        let (applied, generation_before) =
            (ctx.counters().snapshot().config_applied, generation(&ctx));
        let snapshot = ctx.snapshot();
        let in_force = snapshot.current.get();

        let trust_list = pem_list(&[f.other_root.issued(), f.root.issued()]);
        let mismatched = (f.server.cert_pem.as_bytes(), f.client.key_pem.as_bytes());
        let refusals: Vec<(siptls_result, Result<()>)> = vec![
            (SIPTLS_ERR_INVALID_ARGUMENT, ctx.set_max_ca_depth(0)),
            (
                SIPTLS_ERR_INVALID_ARGUMENT,
                ctx.set_max_ca_depth(SIPTLS_MAX_CA_DEPTH_LIMIT + 1),
            ),
            // ID 2 is free, 3 is taken: all or nothing.
            (
                SIPTLS_ERR_TRUST_DUPLICATE_ID,
                ctx.trust_load_ca_list(&trust_list, 2).map(drop),
            ),
            (
                SIPTLS_ERR_INVALID_ARGUMENT,
                ctx.trust_add(SIPTLS_TRUST_ID_NONE, f.root.issued().cert_pem.as_bytes()),
            ),
            (SIPTLS_ERR_TRUST_NOT_FOUND, ctx.trust_remove(9)),
            (
                SIPTLS_ERR_KEY_MISMATCH,
                ctx.set_identity_pem(mismatched.0, mismatched.1),
            ),
            (
                SIPTLS_ERR_CRL_NOT_NEWER,
                ctx.add_crls(f.root.crl(&[], 1).pem.as_bytes()).map(drop),
            ),
            (
                SIPTLS_ERR_INVALID_ARGUMENT,
                ctx.set_versions(SIPTLS_TLS13, SIPTLS_TLS12),
            ),
            // The edit itself is valid; the snapshot it leads to is not.
            (
                SIPTLS_ERR_INVALID_ARGUMENT,
                ctx.set_versions(SIPTLS_TLS13, SIPTLS_TLS13),
            ),
        ];
        for (i, (code, result)) in refusals.iter().enumerate() {
            let e = result.as_ref().expect_err(&format!("edit #{i} refused"));
            assert_eq!(e.code, *code, "edit #{i}: {}", e.detail);
        }
        let last = refusals.last().unwrap().1.as_ref().unwrap_err();
        assert_eq!(ctx.last_error(), last.detail);

        assert_eq!(generation(&ctx), generation_before);
        assert_eq!(ctx.trust_ids(), [ROOT_ID, 3]);
        assert_eq!(ctx.crls().len(), 1);
        assert!(Arc::ptr_eq(&snapshot, &ctx.snapshot()));
        assert!(Arc::ptr_eq(&in_force, &ctx.snapshot().current.get()));
        let counted = ctx.counters().snapshot();
        assert_eq!(counted.config_applied, applied);
        assert_eq!(counted.config_refused, refusals.len() as u64);
    }

    #[test]
    fn a_snapshot_keeps_its_policy_while_the_one_in_force_moves_on() {
        let ctx = server_context();
        let bound = ctx.snapshot();
        let g = bound.policy.generation();
        ctx.set_client_auth(ClientAuth::Optional).unwrap();

        assert_eq!(bound.policy.generation(), g, "what a ClientHello bound");
        assert_eq!(bound.policy.settings().client_auth, ClientAuth::Required);
        let in_force = bound.current.get();
        assert_eq!(
            in_force.generation(),
            g + 1,
            "read through the old snapshot"
        );
        assert_eq!(in_force.settings().client_auth, ClientAuth::Optional);
        let now = ctx.snapshot();
        assert!(
            Arc::ptr_eq(&now.current, &bound.current),
            "one policy in force"
        );
        assert!(Arc::ptr_eq(&now.policy, &in_force));
    }

    fn generations(session: &Session) -> (u64, u64) {
        on(session, |s| {
            let info = s.info();
            Ok((
                info.hello_generation,
                info.verify.map_or(0, |v| v.generation),
            ))
        })
        .unwrap()
    }

    #[test]
    fn a_server_session_binds_at_its_client_hello_and_verifies_under_the_policy_in_force() {
        let f = pki();
        let (client_ctx, server_ctx) = (client_context(), server_context());
        let made_at = server_ctx.generation();
        let (c, s) = sessions(&client_ctx, &server_ctx);
        // Made before the change, the session binds at its ClientHello.
        server_ctx
            .trust_add(2, f.other_root.issued().cert_pem.as_bytes())
            .unwrap();
        for (from, to) in [(&c, &s), (&s, &c)] {
            assert!(matches!(transfer(from, to), Ok(true)));
        }
        assert_eq!(generations(&s).0, made_at + 1);
        // Between the ClientHello and the client's certificate.
        server_ctx.set_max_ca_depth(3).unwrap();
        handshake(&c, &s);
        assert_eq!(
            generations(&s),
            (made_at + 1, made_at + 2),
            "bound at the hello, verified under the policy in force"
        );
    }

    fn resumes(client: &Context, server: &Context) -> siptls_handshake_kind {
        let (c, s) = sessions(client, server);
        handshake(&c, &s);
        // A TLS 1.3 ticket follows the handshake.
        assert_eq!(pump(&c, &s).codes(), (None, None));
        on(&c, |s| Ok(s.info().handshake_kind)).unwrap()
    }

    #[test]
    fn a_clients_stored_sessions_outlive_a_trust_change_not_an_identity_change() {
        use siptls_handshake_kind::*;
        let f = pki();
        let (client_ctx, server_ctx) = (client_context(), server_context());
        assert_eq!(resumes(&client_ctx, &server_ctx), SIPTLS_HANDSHAKE_FULL);
        assert_eq!(resumes(&client_ctx, &server_ctx), SIPTLS_HANDSHAKE_RESUMED);

        let g = client_ctx.generation();
        client_ctx
            .trust_add(2, f.other_root.issued().cert_pem.as_bytes())
            .unwrap();
        client_ctx
            .add_crls(f.root.crl(&[], 1).pem.as_bytes())
            .unwrap();
        client_ctx
            .set_identity_pem(f.client.cert_pem.as_bytes(), f.client.key_pem.as_bytes())
            .unwrap();
        assert_eq!(
            client_ctx.generation(),
            g + 2,
            "the same identity is no change"
        );
        assert_eq!(resumes(&client_ctx, &server_ctx), SIPTLS_HANDSHAKE_RESUMED);
        assert_eq!(client_ctx.counters().snapshot().stored_sessions_dropped, 0);

        let renewed = f.root.sip_leaf(crate::testing::CLIENT_NAME);
        client_ctx
            .set_identity_pem(renewed.cert_pem.as_bytes(), renewed.key_pem.as_bytes())
            .unwrap();
        assert_eq!(client_ctx.counters().snapshot().stored_sessions_dropped, 1);
        assert_eq!(resumes(&client_ctx, &server_ctx), SIPTLS_HANDSHAKE_FULL);
        assert_eq!(resumes(&client_ctx, &server_ctx), SIPTLS_HANDSHAKE_RESUMED);
    }
}
