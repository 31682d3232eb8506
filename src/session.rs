//! A session: one TLS connection over bytes the gateway moves itself.
//!
//! The gateway owns the socket. It feeds received ciphertext in, takes
//! ciphertext out to send, writes plaintext SIP messages and reads plaintext
//! back. Every call works on caller-owned buffers; nothing here allocates per
//! call on the data path.

use crate::abi::{
    siptls_close_state, siptls_handshake_kind, siptls_log_event, siptls_log_level, siptls_result,
    siptls_result::*, siptls_role, siptls_verify_status, UserData, SIPTLS_EVENT_ENDED,
    SIPTLS_EVENT_HANDSHAKE_DONE, SIPTLS_EVENT_PLAINTEXT, SIPTLS_WANT_READ, SIPTLS_WANT_WRITE,
};
use crate::signer::SigningFailed;
use std::io::{self, BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pki_types::{CertificateDer, ServerName};
use rustls::{
    AlertDescription, ClientConnection, Connection, HandshakeKind, InvalidMessage, ServerConnection,
};

use crate::connection_key::{parse_destination, Outbound, CONNECTION_KEY_LEN};
use crate::context::{Context, Snapshot, SnapshotCell, TlsConfig};
use crate::counters::{alert_name, Counters, Event};
use crate::error::{Error, Result};
use crate::exclusive::{AfterCall, Exclusive};

use crate::logging::LogSink;
use crate::resume::OwnDigest;
use crate::verify::{
    self, ClientAuth, CurrentPolicy, Offered, Outcome, PeerChain, Policy, Resumable, Step, Stepped,
};

/// Received plaintext a session holds before it stops taking ciphertext:
/// rustls' own window (16 KiB), applied here from the plaintext count rustls
/// reports rather than from the error it returns when full, so the
/// behaviour does not depend on how rustls signals it. The last ciphertext
/// taken may complete up to one rustls input buffer (18,437 bytes) of
/// records: less than 34 KiB are ever held.
pub(crate) const RECEIVE_WINDOW: usize = 16 * 1024;

/// Where a session copies bytes out to: a caller's buffer, which may be
/// uninitialised memory (see `ffi::CallerBuf`), so it is never a `&mut [u8]`.
pub trait Sink {
    /// Bytes still free.
    fn room(&self) -> usize;
    /// Appends as much of `bytes` as fits; returns how much that was.
    fn put(&mut self, bytes: &[u8]) -> usize;
}

/// rustls' `write_tls` writes to an `io::Write`.
struct SinkWriter<'a>(&'a mut dyn Sink);

impl Write for SinkWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        Ok(self.0.put(bytes))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Session {
    state: Exclusive<State>,
}

pub struct State {
    conn: Connection,
    counters: Arc<Counters>,
    log: Option<Arc<LogSink>>,
    userdata: UserData,
    /// The policy of the configuration the session bound: a client's at
    /// its creation (its ClientHello), a server's at the peer's ClientHello.
    policy: Arc<Policy>,
    /// The policy in force now, which every verification reads.
    current: Arc<CurrentPolicy>,
    /// A server that has not been fed its ClientHello yet: where to take
    /// the configuration from when it arrives.
    bind_at_hello: Option<SnapshotCell>,
    /// The handshake completed with the peer accepted (checks and
    /// callback): only then does received plaintext reach the caller.
    peer_accepted: bool,
    failure: Option<Error>,
    verify: Option<Outcome>,
    /// The peer chain accepted so far (full verification or resumption).
    peer_chain: Option<PeerChain>,
    /// Stored sessions offered for resumption that passed the checks.
    resumable: Vec<Resumable>,
    /// The end of the handshake has been dealt with (resumption reported).
    handshake_done: bool,
    /// SIPTLS_EVENT_HANDSHAKE_DONE has been handed out.
    handshake_reported: bool,
    alert_received: Option<u8>,
    transport_closed: bool,
    /// rustls has been told of the transport's end (it refuses while its
    /// receive buffer is full, so that may come later than the end itself).
    eof_delivered: bool,
    /// Received plaintext not yet read, as rustls last reported it.
    pending_plaintext: usize,
    /// The last feed left ciphertext with the caller (the receive window
    /// was full): the end of the transport waits until that has been fed.
    held_back: bool,
    close_notify_received: bool,
    close_sent: bool,
    detail: String,
    /// A client: the identity it presents. A server: the one that serves.
    identity: u32,
    /// A server: the certificate digest of the identity serving.
    served_digest: Option<OwnDigest>,
    /// A server: the SNI the client sent.
    sni: Option<String>,
    /// A client sending another SNI: the name the certificate must carry.
    peer_name: Option<Arc<ServerName<'static>>>,
    /// A client: where and as whom it connects, for its connection key.
    outbound: Option<Outbound>,
    /// The socket helper's waiting bytes, made on its first use.
    buffers: Option<Box<crate::pump::buffers::Buffers>>,
    /// Resumption is on: accepted chains are kept for stored sessions.
    keep_chain: bool,
}

/// How a session is made (`siptls_session_options`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Options<'a> {
    pub peer_name: Option<&'a str>,
    /// A client: the SNI to send instead of the peer name (an IP literal
    /// sends none); the certificate is still checked against the peer name.
    pub sni: Option<&'a str>,
    /// A client: the identity to present.
    pub identity: u32,
}

impl Session {
    /// A client session needs `peer_name`: the SIP domain, host name or IP
    /// literal it means to reach (sent as SNI when it is a name, and checked
    /// against the server's certificate). A server session takes none.
    pub fn new(ctx: &Context, peer_name: Option<&str>) -> Result<Self> {
        Self::new_with(
            ctx,
            Options {
                peer_name,
                ..Options::default()
            },
        )
    }

    pub fn new_with(ctx: &Context, options: Options<'_>) -> Result<Self> {
        // No thread of siptls watches expiries: new sessions look, rarely.
        ctx.expiry_look_due();
        let snapshot = ctx.snapshot();
        // With another SNI, the peer name is checked here: one that does not
        // parse must refuse the session, not leave the SNI to be verified.
        let peer_name = match options.sni.and(options.peer_name) {
            Some(name) => Some(Arc::new(server_name(&name.to_ascii_lowercase())?)),
            None => None,
        };
        let client = matches!(snapshot.tls, TlsConfig::Client(_));
        if !client && (options.sni.is_some() || options.identity != 0) {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "an SNI or identity choice is for client sessions (a server picks by SNI)",
            ));
        }
        let outbound = client.then(|| outbound(&snapshot, &options)).transpose()?;
        let step = Step {
            log: snapshot.log.clone(),
            counters: Some(ctx.counters().clone()),
            identity: options.identity,
            peer_name: peer_name.clone(),
            keep_chain: snapshot.resumption,
            ..Step::default()
        };
        // A client looks up its stored sessions here, checking each.
        let (conn, stepped) = verify::in_scope(step, || {
            Self::connection(&snapshot.tls, options.sni.or(options.peer_name))
        });
        let conn = conn?;
        Ok(Self {
            state: Exclusive::new(State {
                conn,
                counters: {
                    ctx.counters().count(Event::SessionCreated);
                    ctx.counters().clone()
                },
                log: snapshot.log.clone(),
                userdata: UserData::NONE,
                policy: snapshot.policy.clone(),
                current: snapshot.current.clone(),
                bind_at_hello: (!client).then(|| ctx.snapshot_cell()),
                peer_accepted: false,
                failure: None,
                verify: None,
                peer_chain: None,
                resumable: stepped.resumable,
                handshake_done: false,
                handshake_reported: false,
                alert_received: None,
                transport_closed: false,
                eof_delivered: false,
                pending_plaintext: 0,
                held_back: false,
                close_notify_received: false,
                close_sent: false,
                detail: String::new(),
                identity: options.identity,
                served_digest: None,
                sni: None,
                peer_name,
                outbound,
                buffers: None,
                keep_chain: snapshot.resumption,
            }),
        })
    }

    fn connection(tls: &TlsConfig, peer_name: Option<&str>) -> Result<Connection> {
        Ok(match (tls, peer_name) {
            (TlsConfig::Client(config), Some(name)) => {
                ClientConnection::new(config.clone(), server_name(name)?)
                    .map_err(|e| Error::new(SIPTLS_ERR_CONFIG, e.to_string()))?
                    .into()
            }
            (TlsConfig::Client(_), None) => {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    "a client session needs the peer's SIP domain, host name or IP address",
                ))
            }
            (TlsConfig::Server(config), None) => ServerConnection::new(config.clone())
                .map_err(|e| Error::new(SIPTLS_ERR_CONFIG, e.to_string()))?
                .into(),
            (TlsConfig::Server(_), Some(_)) => {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    "a server session takes no peer name (pass NULL)",
                ))
            }
            (TlsConfig::ServerWithoutIdentity, _) => return Err(Error::new(
                SIPTLS_ERR_NO_IDENTITY,
                "a server context needs its certificate and private key before accepting sessions",
            )),
        })
    }

    /// Runs `f` with exclusive use of the session. A second caller arriving
    /// meanwhile gets BUSY instead of waiting or racing; a panic inside marks
    /// the session failed. Errors are kept as the session's detail text.
    /// The flag is true when a free was requested during the call: the
    /// caller must free the session now.
    #[inline]
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> (Result<T>, bool) {
        let entered = self.state.with(|state| {
            let result = catch_unwind(AssertUnwindSafe(|| f(state))).unwrap_or_else(|_| {
                let e = Error::new(SIPTLS_ERR_PANIC, "internal panic; the session is unusable");
                state.set_failure(e.clone());
                Err(e)
            });
            if let Err(e) = &result {
                state.detail.clone_from(&e.detail);
            }
            result
        });
        match entered {
            Some((result, after)) => (result, after == AfterCall::Free),
            None => (Err(busy()), false),
        }
    }

    /// Asks to free the session. True: it is idle and the caller frees it
    /// now. False: a call is in progress and frees it when it returns (or a
    /// free is already under way).
    pub fn request_free(&self) -> bool {
        self.state.request_free()
    }
}

/// What a client session made from `snapshot` with `options` connects to
/// and presents; refused as the session itself would be.
fn outbound(snapshot: &Snapshot, options: &Options<'_>) -> Result<Outbound> {
    let identity = match snapshot.identities.as_slice() {
        [] => None,
        all => Some(
            all.iter()
                .find(|(id, _)| *id == options.identity)
                .map(|(_, digest)| *digest)
                .ok_or_else(|| {
                    Error::new(
                        SIPTLS_ERR_INVALID_ARGUMENT,
                        format!("no identity has identity ID {}", options.identity),
                    )
                })?,
        ),
    };
    let peer_name = options.peer_name.ok_or_else(|| {
        Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            "a client session needs the peer's SIP domain, host name or IP address",
        )
    })?;
    Ok(Outbound::new(peer_name, options.sni, identity))
}

/// The connection key a client session made now from `ctx` with `options`
/// would have once connected to `destination`: what a gateway looks up
/// in its pool before opening a connection.
pub fn planned_connection_key(
    ctx: &Context,
    options: &Options<'_>,
    destination: &str,
) -> Result<[u8; CONNECTION_KEY_LEN]> {
    let snapshot = ctx.snapshot();
    if !matches!(snapshot.tls, TlsConfig::Client(_)) {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            "connection keys are for client contexts: a server does not pool outbound connections",
        ));
    }
    let destination = parse_destination(destination)?;
    let outbound = outbound(&snapshot, options)?;
    // Names a session would refuse get no key either.
    for name in [options.sni, options.peer_name].into_iter().flatten() {
        server_name(name)?;
    }
    Ok(outbound.key(&destination))
}

/// A peer name or SNI as rustls takes it: a DNS name or an IP literal.
fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.to_string()).map_err(|_| {
        Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("'{name}' is neither a valid domain name nor an IP address"),
        )
    })
}

fn busy() -> Error {
    Error::new(
        SIPTLS_ERR_BUSY,
        "the session is in use by another call (another thread, or its own callback); one session must be driven by one thread at a time",
    )
}

/// A snapshot of a session's state for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info<'a> {
    pub handshaking: bool,
    pub wants_send: bool,
    pub protocol_version: u16,
    pub cipher_suite: u16,
    pub close_state: siptls_close_state,
    /// Borrowed: a state query copies nothing (no allocation).
    pub verify: Option<&'a Outcome>,
    pub alert_received: Option<u8>,
    pub failed: bool,
    /// The configuration generation that decided: the verification's, or
    /// before one, the generation the session bound.
    pub generation: u64,
    /// The generation the session bound at its ClientHello.
    pub hello_generation: u64,
    pub handshake_kind: siptls_handshake_kind,
    pub key_exchange_group: u16,
    pub identity: u32,
    pub sni_len: usize,
}

/// Names the usual cause: a peer stuck on SSLv3 / TLS 1.0 / TLS 1.1, whose
/// hello lacks what TLS 1.2 requires, so rustls reports the missing part.
fn incompatibility(why: &rustls::PeerIncompatible) -> String {
    use rustls::PeerIncompatible as P;
    let version_hint = matches!(
        why,
        P::SignatureAlgorithmsExtensionRequired
            | P::ServerDoesNotSupportTls12Or13
            | P::Tls12NotOffered
            | P::Tls12NotOfferedOrEnabled
            | P::SupportedVersionsExtensionRequired
    );
    if version_hint {
        return "The peer offers no protocol version siptls accepts: only TLS 1.2 and 1.3 are, and SSLv3, TLS 1.0 and 1.1 are refused on purpose. The peer must be upgraded.".into();
    }
    let missing = match why {
        P::NoCipherSuitesInCommon => "no cipher suite",
        P::NoKxGroupsInCommon => "no key-exchange group",
        P::NoSignatureSchemesInCommon => "no signature scheme",
        _ => "no set of TLS parameters",
    };
    format!(
        "The peer and this context have {missing} in common; compare the peer's settings with this context's profile (siptls_ctx_set_profile) and versions (siptls_ctx_set_versions)."
    )
}

/// A TLS failure in words. rustls' own texts name its enum values
/// ("received corrupt message of type MissingData(..)").
fn tls_failure(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::DecryptError => "A record from the peer did not decrypt: it was altered in transit, or the peer is not the party that made the handshake.".into(),
        E::InvalidMessage(_) => "The peer sent data that is not a well-formed TLS message: a client that is not speaking TLS reached the TLS port, or the stream was corrupted.".into(),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "The peer sent a TLS message that is not allowed at this point of the protocol.".into()
        }
        E::PeerMisbehaved(rustls::PeerMisbehaved::MessageInterleavedWithHandshakeMessage) => {
            "The peer interleaved another record type inside a handshake message, which TLS forbids.".into()
        }
        E::PeerMisbehaved(_) => "The peer broke a rule of the TLS protocol, so the connection cannot be trusted.".into(),
        E::NoCertificatesPresented => "The peer sent no certificate.".into(),
        E::InvalidCertificate(_) => "The peer's certificate was refused.".into(),
        E::EncryptError => "A record could not be encrypted for the peer.".into(),
        E::HandshakeNotComplete => "The handshake is not complete.".into(),
        other => format!("The TLS engine failed: {other}."),
    }
}

fn is_too_large(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::PeerSentOversizedRecord
            | rustls::Error::InvalidMessage(
                InvalidMessage::MessageTooLarge
                    | InvalidMessage::HandshakePayloadTooLarge
                    | InvalidMessage::CertificatePayloadTooLarge
            )
    )
}

impl Drop for State {
    fn drop(&mut self) {
        self.counters.count(Event::SessionFreed);
    }
}

/// The alert rustls sends for the error that failed the session. rustls
/// reports no alert it sends, so this follows what rustls 0.23 does (its
/// `conn.rs`): the errors its record layer fails on without an alert count
/// none; `tests/limits.rs` and `tests/counters.rs` pin both kinds.
fn alert_sent(e: &rustls::Error) -> Option<AlertDescription> {
    use rustls::{Error as E, InvalidMessage, PeerMisbehaved as P};
    Some(match e {
        E::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge)
        | E::PeerMisbehaved(
            P::MessageInterleavedWithHandshakeMessage
            | P::TooManyEmptyFragments
            | P::RejectedEarlyDataInterleavedWithHandshakeMessage,
        ) => return None,
        E::InvalidCertificate(c) => AlertDescription::from(c.clone()),
        // siptls' statuses choose the certificate error, hence the alert.
        E::NoCertificatesPresented => AlertDescription::CertificateRequired,
        E::InvalidMessage(m) => AlertDescription::from(*m),
        E::PeerIncompatible(_) => AlertDescription::HandshakeFailure,
        E::PeerSentOversizedRecord => AlertDescription::RecordOverflow,
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            AlertDescription::UnexpectedMessage
        }
        E::DecryptError => AlertDescription::BadRecordMac,
        E::PeerMisbehaved(_) => AlertDescription::IllegalParameter,
        _ => return None,
    })
}

impl State {
    /// Marks the session failed; the first failure is counted.
    fn set_failure(&mut self, e: Error) {
        if self.failure.is_none() {
            self.counters
                .count(Event::Failed(e.code, self.conn.is_handshaking()));
            self.log(
                siptls_log_level::SIPTLS_LOG_WARN,
                siptls_log_event::SIPTLS_LOG_SESSION_FAILED,
                || {
                    format!(
                        "The session failed (result {}, {}): {}",
                        e.code as u32, e.code, e.detail
                    )
                },
            );
        }
        self.failure = Some(e);
    }

    fn log(
        &self,
        level: siptls_log_level,
        event: siptls_log_event,
        message: impl FnOnce() -> String,
    ) {
        if let Some(log) = &self.log {
            log.log(level, event, self.userdata, message);
        }
    }

    fn usable(&self) -> Result<()> {
        match &self.failure {
            // The failure's own detail, said once.
            Some(e) => Err(Error::new(SIPTLS_ERR_SESSION_FAILED, e.detail.clone())),
            None => Ok(()),
        }
    }

    /// Turns a rustls failure into ours, remembers it, and collects the
    /// verification outcome that caused it, if any.
    fn fail(&mut self, e: rustls::Error) -> Error {
        let (code, detail) = match &e {
            rustls::Error::InvalidCertificate(_) => match &self.verify {
                Some(outcome) if !outcome.accepted() => {
                    self.counters.count(Event::VerifyFailed(outcome.status));
                    (SIPTLS_ERR_CERT_REJECTED, outcome.detail.clone())
                }
                // The chain was accepted; what failed is the peer's proof that it
                // holds the certificate's key (a replayed or forged handshake).
                Some(_) => (
                    SIPTLS_ERR_TLS,
                    "The peer's handshake signature does not verify with its certificate's key: the handshake was replayed or forged, or the peer's key and certificate do not match.".into(),
                ),
                None => (SIPTLS_ERR_CERT_REJECTED, tls_failure(&e)),
            },
            rustls::Error::NoCertificatesPresented => {
                let outcome = self.current.get().report_no_certificate(true, self.userdata);
                let detail = outcome.detail.clone();
                self.counters.count(Event::VerifyFailed(outcome.status));
                self.verify = Some(outcome);
                (SIPTLS_ERR_CERT_REJECTED, detail)
            }
            rustls::Error::AlertReceived(alert) => {
                self.alert_received = Some(u8::from(*alert));
                self.counters.count(Event::AlertReceived(*alert));
                let name = alert_name(usize::from(u8::from(*alert)));
                let detail = format!("The peer ended the connection with the fatal alert {name}: it refused something this side sent (its own log says what).");
                self.log(siptls_log_level::SIPTLS_LOG_WARN, siptls_log_event::SIPTLS_LOG_ALERT_RECEIVED, || detail.clone());
                (SIPTLS_ERR_ALERT_RECEIVED, detail)
            }
            rustls::Error::Other(other) if other.0.downcast_ref::<SigningFailed>().is_some() => {
                (SIPTLS_ERR_SIGNING_FAILED, other.0.to_string())
            }
            rustls::Error::PeerIncompatible(why) => {
                (SIPTLS_ERR_NO_COMMON_PARAMETERS, incompatibility(why))
            }
            rustls::Error::InvalidMessage(
                InvalidMessage::HandshakePayloadTooLarge | InvalidMessage::CertificatePayloadTooLarge,
            ) => (
                SIPTLS_ERR_PEER_TOO_LARGE,
                "The peer announced a handshake message larger than the 64 KiB siptls accepts.".into(),
            ),
            e if is_too_large(e) => (
                SIPTLS_ERR_PEER_TOO_LARGE,
                "The peer sent a TLS record larger than TLS allows (16 KiB of data plus its overhead).".into(),
            ),
            e => (SIPTLS_ERR_TLS, tls_failure(e)),
        };
        let error = Error::new(code, detail);
        if let Some(alert) = alert_sent(&e) {
            self.counters.count(Event::AlertSent(alert));
            self.log(
                siptls_log_level::SIPTLS_LOG_WARN,
                siptls_log_event::SIPTLS_LOG_ALERT_SENT,
                || {
                    format!(
                        "The fatal alert {} was sent to the peer.",
                        alert_name(usize::from(u8::from(alert)))
                    )
                },
            );
        }
        self.set_failure(error.clone());
        error
    }

    /// `process_new_packets` inside a step (see `verify::scope`), taking
    /// in what the step found.
    fn process_in_step(&mut self) -> std::result::Result<rustls::IoState, rustls::Error> {
        let conn = &mut self.conn;
        let step = Step {
            userdata: self.userdata,
            log: self.log.clone(),
            counters: Some(self.counters.clone()),
            chain: self.peer_chain.clone(),
            offered: Offered::of(&self.resumable),
            identity: self.identity,
            served_digest: self.served_digest,
            peer_name: self.peer_name.clone(),
            keep_chain: self.keep_chain,
        };
        let (result, stepped) = verify::in_scope(step, || conn.process_new_packets());
        let Stepped {
            outcome,
            chain,
            resumable,
            served,
        } = stepped;
        if let Some((id, digest, sni)) = served {
            (self.identity, self.served_digest, self.sni) = (id, Some(digest), sni);
        }
        if let Some(outcome) = outcome {
            let level = if outcome.accepted() {
                siptls_log_level::SIPTLS_LOG_INFO
            } else {
                siptls_log_level::SIPTLS_LOG_WARN
            };
            self.log(level, siptls_log_event::SIPTLS_LOG_VERIFICATION, || {
                format!(
                    "Verification {}: {}",
                    outcome.status.name().to_string_lossy(),
                    outcome.detail
                )
            });
            self.verify = Some(outcome);
        }
        if chain.is_some() {
            self.peer_chain = chain;
        }
        self.resumable.extend(resumable);
        // Once rustls has chosen a full handshake, no offered session is
        // being resumed: their chains must not reach new tickets.
        if matches!(
            self.conn.handshake_kind(),
            Some(HandshakeKind::Full | HandshakeKind::FullWithHelloRetryRequest)
        ) {
            self.resumable.clear();
        }
        result
    }

    /// Runs rustls on what has been read so far and collects a verification outcome.
    fn process(&mut self) -> Result<()> {
        // A server past its handshake makes no more verifier, resolver or
        // ticket calls, and with logging off nothing else reads the step:
        // the data path skips setting one up. Not inside another session's
        // step (driven from its callback): this one's rustls records must
        // not reach that session's log.
        let stepless = self.handshake_done
            && matches!(self.conn, Connection::Server(_))
            && self.log.is_none()
            && verify::none_running();
        let result = if stepless {
            self.conn.process_new_packets()
        } else {
            self.process_in_step()
        };
        match result {
            Ok(io_state) => {
                if io_state.peer_has_closed() && !self.close_notify_received {
                    self.close_notify_received = true;
                    self.counters
                        .count(Event::AlertReceived(AlertDescription::CloseNotify));
                    self.log(
                        siptls_log_level::SIPTLS_LOG_DEBUG,
                        siptls_log_event::SIPTLS_LOG_ALERT_RECEIVED,
                        || "close_notify received".into(),
                    );
                }
                self.pending_plaintext = io_state.plaintext_bytes_to_read();
                self.finish_handshake()?;
                self.note_anonymous_client();
                Ok(())
            }
            Err(e) => {
                // rustls completes a full handshake only after the verifier
                // accepted the peer: what followed it in the failing step
                // is authenticated. A resumption is accepted only by
                // `complete_handshake`, which did not run.
                let full = matches!(
                    self.conn.handshake_kind(),
                    Some(HandshakeKind::Full | HandshakeKind::FullWithHelloRetryRequest)
                );
                if full && !self.conn.is_handshaking() {
                    self.peer_accepted = true;
                }
                Err(self.fail(e))
            }
        }
    }

    /// Once the handshake is over: a resumed session takes its outcome from
    /// the stored session rustls resumed, and the callback hears of it.
    fn finish_handshake(&mut self) -> Result<()> {
        if self.handshake_done || self.conn.is_handshaking() {
            return Ok(());
        }
        let result = self.complete_handshake();
        // A server issues its tickets in the step that completes the
        // handshake, never later: its copy of the peer chain can go. (A
        // client keeps it for tickets the server may send later.)
        if matches!(self.conn, Connection::Server(_)) {
            self.peer_chain = None;
        }
        result
    }

    fn complete_handshake(&mut self) -> Result<()> {
        self.handshake_done = true;
        let offered = std::mem::take(&mut self.resumable);
        if self.conn.handshake_kind() != Some(HandshakeKind::Resumed) {
            // rustls completes a full handshake only once the verifier
            // accepted the peer (or none was asked for).
            self.peer_accepted = true;
            self.counters.count(Event::HandshakeFull);
            self.log_handshake_done("full");
            return Ok(());
        }
        let resumed_chain = self.conn.peer_certificates().unwrap_or_default();
        let Some(resumed) = offered.iter().find(|r| *r.chain == *resumed_chain) else {
            let e = Error::new(
                SIPTLS_ERR_TLS,
                "the handshake resumed a stored session that was not checked",
            );
            self.set_failure(e.clone());
            return Err(e);
        };
        self.peer_chain = Some(resumed.chain.clone());
        if let Some(outcome) = self.current.get().report_resumed(resumed, self.userdata) {
            let accepted = outcome.accepted();
            let detail = outcome.detail.clone();
            self.verify = Some(outcome);
            if !accepted {
                let e = Error::new(SIPTLS_ERR_CERT_REJECTED, detail);
                self.counters.count(Event::VerifyFailed(
                    siptls_verify_status::SIPTLS_VERIFY_REJECTED_BY_CALLBACK,
                ));
                self.set_failure(e.clone());
                return Err(e);
            }
        }
        self.peer_accepted = true;
        self.counters.count(Event::HandshakeResumed);
        self.log_handshake_done("resumed");
        Ok(())
    }

    fn log_handshake_done(&self, kind: &str) {
        self.log(
            siptls_log_level::SIPTLS_LOG_INFO,
            siptls_log_event::SIPTLS_LOG_HANDSHAKE_DONE,
            || {
                let version = match self.conn.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
                    _ => "TLS 1.2",
                };
                let suite = self
                    .conn
                    .negotiated_cipher_suite()
                    .and_then(|s| s.suite().as_str())
                    .unwrap_or("an unnamed suite");
                let peer = self.verify.as_ref().map_or_else(
                    || "no peer certificate was asked for".to_string(),
                    |v| {
                        format!(
                            "the peer verified to trust ID {} at depth {}",
                            v.trust_id, v.depth
                        )
                    },
                );
                format!("Handshake done ({kind}): {version}, {suite}; {peer}.")
            },
        );
    }

    /// A server with optional client authentication reports a client that
    /// completed the handshake without a certificate.
    fn note_anonymous_client(&mut self) {
        let anonymous = matches!(self.conn, Connection::Server(_))
            && self.policy.settings().client_auth == ClientAuth::Optional
            && self.verify.is_none()
            && !self.conn.is_handshaking()
            && self.conn.peer_certificates().is_none();
        if anonymous {
            self.verify = Some(
                self.current
                    .get()
                    .report_no_certificate(false, self.userdata),
            );
        }
    }

    /// Feeds received ciphertext. Returns how much was consumed: all of it,
    /// unless unread plaintext fills the receive buffer (then BUFFER_FULL when
    /// nothing at all could be taken) or the peer's close_notify ended the
    /// stream (then PEER_CLOSED: what follows it means nothing).
    pub fn feed(&mut self, data: &[u8]) -> Result<(siptls_result, usize)> {
        self.usable()?;
        if data.is_empty() {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "zero-length input; to report that the transport closed, call siptls_session_feed_eof",
            ));
        }
        // Ciphertext that arrived before the end of the transport (held back
        // by BUFFER_FULL) may still come until the end has taken effect.
        if self.close_notify_received || self.eof_delivered {
            return Err(Error::new(
                SIPTLS_ERR_WRONG_STATE,
                "the connection has ended; no more ciphertext can be fed",
            ));
        }
        self.bind_configuration()?;
        let mut rest = data;
        while !rest.is_empty() {
            if self.pending_plaintext >= RECEIVE_WINDOW {
                if rest.len() == data.len() {
                    self.held_back = true;
                    return Ok((SIPTLS_BUFFER_FULL, 0));
                }
                break;
            }
            match self.conn.read_tls(&mut rest) {
                Ok(0) => break,
                Ok(_) => self.process()?,
                // rustls' own backpressure, should its window ever be smaller than ours.
                Err(e) if e.kind() == io::ErrorKind::Other && rest.len() == data.len() => {
                    self.held_back = true;
                    return Ok((SIPTLS_BUFFER_FULL, 0));
                }
                Err(e) if e.kind() == io::ErrorKind::Other => break,
                // The only other refusal: a handshake message over rustls' 64 KiB buffer.
                Err(e) => {
                    let e = Error::new(
                        SIPTLS_ERR_PEER_TOO_LARGE,
                        format!("The peer's handshake messages exceed the 64 KiB limit ({e})."),
                    );
                    self.set_failure(e.clone());
                    return Err(e);
                }
            }
        }
        let code = if self.close_notify_received {
            SIPTLS_PEER_CLOSED
        } else {
            SIPTLS_OK
        };
        // After close_notify the rest means nothing; otherwise it is still owed.
        self.held_back = !rest.is_empty() && !self.close_notify_received;
        let consumed = data.len() - rest.len();
        self.counters.count(Event::CiphertextIn(consumed));
        Ok((code, consumed))
    }

    /// A server binds the configuration in force when the first bytes of
    /// its ClientHello arrive, not the one in force when the session was
    /// made: a CRL loaded, a trust entry removed or client authentication
    /// required while the connection waited applies to it.
    fn bind_configuration(&mut self) -> Result<()> {
        let Some(cell) = self.bind_at_hello.take() else {
            return Ok(());
        };
        let snapshot = cell.read().clone();
        if Arc::ptr_eq(&snapshot.policy, &self.policy) {
            return Ok(());
        }
        let conn = Session::connection(&snapshot.tls, None).inspect_err(|e| {
            self.set_failure(e.clone());
        })?;
        self.conn = conn;
        self.policy = snapshot.policy.clone();
        self.log = snapshot.log.clone();
        self.keep_chain = snapshot.resumption;
        Ok(())
    }

    /// Moves pending ciphertext into `out`. AGAIN when there is nothing to send.
    pub fn take(&mut self, out: &mut dyn Sink) -> Result<(siptls_result, usize)> {
        if out.room() == 0 {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "zero-length output buffer",
            ));
        }
        // A failed session may still hold the alert explaining the failure: let it out.
        let mut written = 0;
        while self.conn.wants_write() && out.room() > 0 {
            match self.conn.write_tls(&mut SinkWriter(out)) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) => return Err(Error::new(SIPTLS_ERR_TLS, format!("record layer: {e}"))),
            }
        }
        self.counters.count(Event::CiphertextOut(written));
        Ok((
            if written == 0 {
                SIPTLS_AGAIN
            } else {
                SIPTLS_OK
            },
            written,
        ))
    }

    /// Queues plaintext for sending; returns how much was accepted (less than
    /// all when the send buffer is full: take ciphertext out, then retry).
    pub fn write(&mut self, data: &[u8]) -> Result<(siptls_result, usize)> {
        self.usable()?;
        if data.is_empty() {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "zero-length plaintext",
            ));
        }
        if self.conn.is_handshaking() {
            return Err(Error::new(
                SIPTLS_ERR_WRONG_STATE,
                "the handshake is not complete; write once the session reports handshaking = false",
            ));
        }
        if self.close_sent {
            return Err(Error::new(
                SIPTLS_ERR_WRONG_STATE,
                "close_notify was already queued; no more plaintext can be sent",
            ));
        }
        match self.conn.writer().write(data) {
            Ok(0) => Ok((SIPTLS_AGAIN, 0)),
            Ok(n) => {
                self.counters.count(Event::PlaintextOut(n));
                Ok((SIPTLS_OK, n))
            }
            Err(e) => Err(Error::new(SIPTLS_ERR_TLS, e.to_string())),
        }
    }

    /// Reads received plaintext into `out`. AGAIN when none is there yet,
    /// PEER_CLOSED after close_notify, TRUNCATED when the transport ended
    /// without it. Nothing is delivered before the handshake completed
    /// with the peer accepted (checks and callback); what arrived before
    /// that is dropped if the peer is refused or the session fails first.
    /// What arrived after the peer was accepted is delivered before a
    /// later failure is reported.
    #[inline]
    pub fn read(&mut self, out: &mut dyn Sink) -> Result<(siptls_result, usize)> {
        if out.room() == 0 {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "zero-length output buffer",
            ));
        }
        let mut reader = self.conn.reader();
        let mut copied = 0;
        let end = loop {
            match reader.fill_buf() {
                Ok([]) => break Ok(()),
                Ok(_) if !self.peer_accepted => break Err(io::ErrorKind::WouldBlock.into()),
                Ok(chunk) => {
                    let n = out.put(chunk);
                    reader.consume(n);
                    copied += n;
                    if out.room() == 0 {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if copied > 0 {
            self.pending_plaintext = self.pending_plaintext.saturating_sub(copied);
            self.counters.count(Event::PlaintextIn(copied));
            return Ok((SIPTLS_OK, copied));
        }
        // A failure set before or by delivering the end is reported here.
        let delivered = self.deliver_eof();
        self.usable()?;
        if delivered {
            // rustls knows of the end now: ask again.
            return self.read(out);
        }
        match end {
            Ok(()) => Ok((SIPTLS_PEER_CLOSED, 0)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok((SIPTLS_AGAIN, 0)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Error::new(
                SIPTLS_ERR_TRUNCATED,
                "the transport closed without close_notify: the peer's last data may be missing",
            )),
            Err(e) => Err(Error::new(SIPTLS_ERR_TLS, e.to_string())),
        }
    }

    /// Tells rustls the transport ended, once it can take it (not while its
    /// receive buffer is full). True when that happened just now.
    fn deliver_eof(&mut self) -> bool {
        if !self.transport_closed || self.eof_delivered || self.failure.is_some() {
            return false;
        }
        // The caller still holds ciphertext that arrived before the end.
        if self.held_back {
            return false;
        }
        // An empty read is how rustls learns of the end of the stream.
        match self.conn.read_tls(&mut io::empty()) {
            Ok(_) => self.eof_delivered = true,
            // Its receive buffer is full: again once plaintext has been read.
            Err(e) if e.kind() == io::ErrorKind::Other => {}
            // The stream ended inside a handshake message too large to finish.
            Err(e) => self.set_failure(Error::new(
                SIPTLS_ERR_PEER_TOO_LARGE,
                format!("the transport ended inside an oversized handshake message ({e})"),
            )),
        }
        self.eof_delivered
    }

    /// Queues close_notify; take and send it, then keep reading until the
    /// peer's close_notify (PEER_CLOSED) or the transport ends.
    pub fn close(&mut self) -> Result<()> {
        self.usable()?;
        // Closing a server before its ClientHello keeps the connection it has.
        self.bind_at_hello = None;
        if !self.close_sent {
            self.conn.send_close_notify();
            self.close_sent = true;
            self.counters
                .count(Event::AlertSent(AlertDescription::CloseNotify));
            self.log(
                siptls_log_level::SIPTLS_LOG_DEBUG,
                siptls_log_event::SIPTLS_LOG_ALERT_SENT,
                || "close_notify queued".into(),
            );
        }
        Ok(())
    }

    /// The transport (TCP) ended: anything not yet closed by close_notify is
    /// truncated. Never lost: if rustls cannot take the end now (plaintext
    /// fills its buffer), it is handed over once the plaintext is read.
    pub fn transport_closed(&mut self) -> Result<()> {
        self.usable()?;
        self.transport_closed = true;
        self.deliver_eof();
        Ok(())
    }

    fn close_state(&self) -> siptls_close_state {
        if self.close_notify_received {
            siptls_close_state::SIPTLS_CLOSE_CLEAN
        } else if self.transport_closed {
            siptls_close_state::SIPTLS_CLOSE_TRUNCATED
        } else {
            siptls_close_state::SIPTLS_CLOSE_OPEN
        }
    }

    pub fn info(&self) -> Info<'_> {
        Info {
            handshaking: self.conn.is_handshaking(),
            wants_send: self.conn.wants_write(),
            protocol_version: self.conn.protocol_version().map_or(0, u16::from),
            cipher_suite: self
                .conn
                .negotiated_cipher_suite()
                .map_or(0, |s| u16::from(s.suite())),
            close_state: self.close_state(),
            verify: self.verify.as_ref(),
            alert_received: self.alert_received,
            failed: self.failure.is_some(),
            generation: self
                .verify
                .as_ref()
                .map_or(self.policy.generation(), |v| v.generation),
            hello_generation: self.policy.generation(),
            identity: self.identity,
            sni_len: self.sni.as_ref().map_or(0, String::len),
            key_exchange_group: self
                .conn
                .negotiated_key_exchange_group()
                .map_or(0, |g| u16::from(g.name())),
            handshake_kind: match (self.conn.is_handshaking(), self.conn.handshake_kind()) {
                (true, _) | (false, None) => siptls_handshake_kind::SIPTLS_HANDSHAKE_PENDING,
                (false, Some(HandshakeKind::Full)) => siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL,
                (false, Some(HandshakeKind::FullWithHelloRetryRequest)) => {
                    siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL_WITH_RETRY
                }
                (false, Some(HandshakeKind::Resumed)) => {
                    siptls_handshake_kind::SIPTLS_HANDSHAKE_RESUMED
                }
            },
        }
    }

    /// Whether ciphertext may still be fed: not failed, not ended, and the
    /// receive window not full.
    pub fn receiving(&self) -> bool {
        self.failure.is_none()
            && !self.close_notify_received
            && !self.eof_delivered
            && !self.transport_closed
            && self.pending_plaintext < RECEIVE_WINDOW
    }

    /// What happened that the caller must act on (SIPTLS_EVENT_*): the
    /// handshake completed with the peer accepted (once), plaintext
    /// waits, or nothing more will arrive.
    pub fn events(&mut self) -> u32 {
        let mut events = 0;
        if self.handshake_done && self.peer_accepted && !self.handshake_reported {
            self.handshake_reported = true;
            events |= SIPTLS_EVENT_HANDSHAKE_DONE;
        }
        if self.peer_accepted && self.pending_plaintext > 0 {
            events |= SIPTLS_EVENT_PLAINTEXT;
        }
        let peer_done = (self.close_notify_received || self.eof_delivered)
            && (self.pending_plaintext == 0 || !self.peer_accepted);
        if self.failure.is_some() || peer_done {
            events |= SIPTLS_EVENT_ENDED;
        }
        events
    }

    /// What the sans-I/O caller must do next, as the socket helper would
    /// report it: feed ciphertext (SIPTLS_WANT_READ), take ciphertext
    /// (SIPTLS_WANT_WRITE), and the events.
    pub fn wants_and_events(&mut self) -> u32 {
        let mut flags = self.events();
        if self.receiving() {
            flags |= SIPTLS_WANT_READ;
        }
        if self.conn.wants_write() {
            flags |= SIPTLS_WANT_WRITE;
        }
        flags
    }

    pub fn take_buffers(&mut self) -> Box<crate::pump::buffers::Buffers> {
        self.buffers.take().unwrap_or_default()
    }

    pub fn put_buffers(&mut self, buffers: Box<crate::pump::buffers::Buffers>) {
        self.buffers = Some(buffers);
    }

    /// A server: the SNI the client sent, if any.
    pub fn sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }

    /// The key under which this client session, connected to
    /// `destination`, may be pooled: only once its handshake completed
    /// with the server accepted, so a pool holds verified connections only.
    pub fn connection_key(&self, destination: &str) -> Result<[u8; CONNECTION_KEY_LEN]> {
        let Some(outbound) = &self.outbound else {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                "connection keys are for client sessions: a server does not pool outbound connections",
            ));
        };
        if !self.peer_accepted {
            return Err(Error::new(
                SIPTLS_ERR_WRONG_STATE,
                "this session has no connection key yet: a connection is pooled only after its handshake completed with the server's certificate accepted",
            ));
        }
        Ok(outbound.key(&parse_destination(destination)?))
    }

    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        self.conn.peer_certificates().unwrap_or_default()
    }

    /// The gateway's pointer for this session, handed to its callbacks.
    pub fn userdata(&self) -> UserData {
        self.userdata
    }

    pub fn set_userdata(&mut self, userdata: UserData) {
        self.userdata = userdata;
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn role(&self) -> siptls_role {
        match self.conn {
            Connection::Client(_) => siptls_role::SIPTLS_ROLE_CLIENT,
            Connection::Server(_) => siptls_role::SIPTLS_ROLE_SERVER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::siptls_verify_status::*;
    use crate::testing::{
        client_context, handshake, on, pump, read_all, server_context, sessions, transfer, Failed,
        ROOT_ID,
    };

    #[test]
    fn a_panic_inside_a_session_call_fails_the_session() {
        let ctx = Context::new(siptls_role::SIPTLS_ROLE_CLIENT);
        let session = Session::new(&ctx, Some("gw.example.test")).unwrap();
        let err = session
            .with(|_| -> Result<()> { panic!("injected fault") })
            .0
            .unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_PANIC);
        let after = session.with(|s| s.feed(b"\x16")).0.unwrap_err();
        assert_eq!(after.code, SIPTLS_ERR_SESSION_FAILED);
        assert!(session.with(|s| Ok(s.info().failed)).0.unwrap());
    }

    #[test]
    fn a_free_requested_during_a_call_is_carried_out_when_it_returns() {
        let ctx = Context::new(siptls_role::SIPTLS_ROLE_CLIENT);
        let session = Session::new(&ctx, Some("gw.example.test")).unwrap();
        let (inner, free_now) = session.with(|_| {
            assert!(!session.request_free(), "busy: the free must wait");
            assert!(!session.request_free(), "a second request changes nothing");
            Ok(session.with(|_| Ok(())).0)
        });
        assert_eq!(inner.unwrap().unwrap_err().code, SIPTLS_ERR_BUSY);
        assert!(free_now, "the call that returns frees");
        assert_eq!(
            session.with(|_| Ok(())).0.unwrap_err().code,
            SIPTLS_ERR_BUSY
        );
        assert!(!session.request_free());
        let idle = Session::new(&ctx, Some("gw.example.test")).unwrap();
        assert!(idle.request_free(), "an idle session is freed at once");
    }

    fn outcome(session: &Session) -> Option<Outcome> {
        on(session, |s| Ok(s.info().verify.cloned())).unwrap()
    }

    fn write(session: &Session, data: &[u8]) -> Result<(siptls_result, usize)> {
        on(session, |s| s.write(data))
    }

    fn info<T>(session: &Session, f: impl FnOnce(Info<'_>) -> T) -> T {
        on(session, |s| Ok(f(s.info()))).unwrap()
    }

    /// Both sides have just made a full handshake and accepted each other.
    fn assert_full_and_verified(client: &Session, server: &Session) {
        for session in [client, server] {
            let verified = outcome(session).expect("a verification outcome");
            assert_eq!(verified.status, SIPTLS_VERIFY_OK, "{}", verified.detail);
            assert_eq!((verified.trust_id, verified.depth), (ROOT_ID, 1));
            assert!(!verified.resumed);
            assert_eq!(
                info(session, |i| i.handshake_kind),
                siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL
            );
        }
    }

    #[test]
    fn a_pair_in_memory_completes_a_handshake_and_exchanges_data() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        let (c, s) = sessions(&client_ctx, &server_ctx);
        handshake(&c, &s);
        assert_full_and_verified(&c, &s);
        assert_eq!(info(&c, |i| i.protocol_version), crate::abi::SIPTLS_TLS13);
        assert_eq!(
            info(&c, |i| i.cipher_suite),
            info(&s, |i| i.cipher_suite),
            "both ends agree on the suite"
        );
        assert_ne!(info(&c, |i| i.cipher_suite), 0);

        let invite = b"INVITE sip:bob@proxy.example.test SIP/2.0\r\n\r\n";
        assert_eq!(write(&c, invite), Ok((SIPTLS_OK, invite.len())));
        assert_eq!(pump(&c, &s).codes(), (None, None));
        assert_eq!(read_all(&s), (invite.to_vec(), Ok(SIPTLS_AGAIN)));
        let ok = b"SIP/2.0 200 OK\r\n\r\n";
        assert_eq!(write(&s, ok), Ok((SIPTLS_OK, ok.len())));
        assert_eq!(pump(&c, &s).codes(), (None, None));
        assert_eq!(read_all(&c), (ok.to_vec(), Ok(SIPTLS_AGAIN)));
        assert_eq!(read_all(&c), (Vec::new(), Ok(SIPTLS_AGAIN)), "read once");

        let counted = client_ctx.counters().snapshot();
        assert_eq!(counted.handshakes_full, 1);
        assert_eq!(counted.plaintext_out, invite.len() as u64);
        assert_eq!(counted.plaintext_in, ok.len() as u64);
        assert_eq!(
            server_ctx.counters().snapshot().plaintext_in,
            invite.len() as u64
        );
    }

    #[test]
    fn close_notify_ends_the_stream_cleanly_on_the_peer() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        let (c, s) = sessions(&client_ctx, &server_ctx);
        handshake(&c, &s);
        assert_eq!(write(&c, b"BYE"), Ok((SIPTLS_OK, 3)));
        on(&c, |s| s.close()).unwrap();
        let refused = write(&c, b"more").unwrap_err();
        assert_eq!(refused.code, SIPTLS_ERR_WRONG_STATE, "{}", refused.detail);
        assert_eq!(pump(&c, &s).codes(), (None, None));

        assert_eq!(read_all(&s), (b"BYE".to_vec(), Ok(SIPTLS_PEER_CLOSED)));
        assert_eq!(
            info(&s, |i| i.close_state),
            siptls_close_state::SIPTLS_CLOSE_CLEAN
        );
        assert!(!on(&s, |s| Ok(s.receiving())).unwrap());
        let late = on(&s, |s| s.feed(b"\x17\x03\x03\x00\x01\x00")).unwrap_err();
        assert_eq!(late.code, SIPTLS_ERR_WRONG_STATE);
        assert_eq!(
            info(&c, |i| i.close_state),
            siptls_close_state::SIPTLS_CLOSE_OPEN,
            "the closing side has not heard the peer's close_notify"
        );
    }

    #[test]
    fn the_transport_ending_without_close_notify_is_truncation() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        let (c, s) = sessions(&client_ctx, &server_ctx);
        handshake(&c, &s);
        assert_eq!(write(&c, b"partial"), Ok((SIPTLS_OK, 7)));
        assert_eq!(pump(&c, &s).codes(), (None, None));
        on(&s, |s| s.transport_closed()).unwrap();

        let (read, end) = read_all(&s);
        assert_eq!(read, b"partial", "what arrived before the end is kept");
        let truncated = end.unwrap_err();
        assert_eq!(truncated.code, SIPTLS_ERR_TRUNCATED);
        assert!(
            truncated.detail.contains("close_notify"),
            "{}",
            truncated.detail
        );
        assert_eq!(
            info(&s, |i| i.close_state),
            siptls_close_state::SIPTLS_CLOSE_TRUNCATED
        );
    }

    #[test]
    fn writing_before_the_handshake_is_refused_and_harmless() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        let (c, s) = sessions(&client_ctx, &server_ctx);
        let early = write(&c, b"INVITE").unwrap_err();
        assert_eq!(early.code, SIPTLS_ERR_WRONG_STATE);
        assert!(early.detail.contains("handshake"), "{}", early.detail);
        // The server mid-handshake: its ClientHello is in.
        assert!(transfer(&c, &s).is_ok_and(|moved| moved));
        assert!(info(&s, |i| i.handshaking));
        assert_eq!(
            write(&s, b"SIP/2.0").unwrap_err().code,
            SIPTLS_ERR_WRONG_STATE
        );

        handshake(&c, &s);
        assert_eq!(write(&c, b"INVITE"), Ok((SIPTLS_OK, 6)));
        assert_eq!(pump(&c, &s).codes(), (None, None));
        assert_eq!(
            read_all(&s),
            (b"INVITE".to_vec(), Ok(SIPTLS_AGAIN)),
            "nothing of the refused write was sent"
        );
    }

    /// Runs the handshake of `c` and `s` up to the client's last flight,
    /// which carries `data` after the client's Finished; returns how the
    /// server took that flight.
    fn client_finishes_with_data(c: &Session, s: &Session, data: &[u8]) -> Result<bool> {
        for (from, to) in [(c, s), (s, c)] {
            assert!(matches!(transfer(from, to), Ok(true)));
        }
        assert!(!info(c, |i| i.handshaking), "TLS 1.3: the client is done");
        assert_eq!(write(c, data), Ok((SIPTLS_OK, data.len())));
        transfer(c, s).map_err(|failed| match failed {
            Failed::Receiver(e) => e,
            Failed::Sender(e) => panic!("the client failed: {}", e.detail),
        })
    }

    #[test]
    fn a_client_the_server_callback_rejects_delivers_no_plaintext() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        server_ctx
            .set_verify_callback(Some(Arc::new(|_| false)), None)
            .unwrap();
        let (c, s) = sessions(&client_ctx, &server_ctx);
        let refused = client_finishes_with_data(&c, &s, b"INVITE").unwrap_err();
        assert_eq!(refused.code, SIPTLS_ERR_CERT_REJECTED);
        assert!(refused
            .detail
            .contains("The verify callback rejected the peer"));

        let (read, end) = read_all(&s);
        assert!(read.is_empty(), "plaintext of a refused peer was read");
        assert_eq!(end.unwrap_err().code, SIPTLS_ERR_SESSION_FAILED);
        let verdict = outcome(&s).unwrap();
        assert_eq!(
            (verdict.status, verdict.checked),
            (SIPTLS_VERIFY_REJECTED_BY_CALLBACK, SIPTLS_VERIFY_OK)
        );
        assert_eq!(server_ctx.counters().snapshot().plaintext_in, 0);
    }

    #[test]
    fn a_resumption_the_server_callback_rejects_delivers_no_plaintext() {
        let (client_ctx, server_ctx) = (client_context(), server_context());
        // Full verifications pass; resumed ones are refused.
        server_ctx
            .set_verify_callback(Some(Arc::new(|r| !r.resumed)), None)
            .unwrap();
        let (c, s) = sessions(&client_ctx, &server_ctx);
        handshake(&c, &s);
        assert_full_and_verified(&c, &s);

        let (c, s) = sessions(&client_ctx, &server_ctx);
        let refused = client_finishes_with_data(&c, &s, b"INVITE").unwrap_err();
        assert_eq!(
            info(&c, |i| i.handshake_kind),
            siptls_handshake_kind::SIPTLS_HANDSHAKE_RESUMED,
            "the case under test: rustls resumed, and decrypted what followed"
        );
        assert_eq!(refused.code, SIPTLS_ERR_CERT_REJECTED);
        let verdict = outcome(&s).unwrap();
        assert!(verdict.resumed);
        assert_eq!(verdict.status, SIPTLS_VERIFY_REJECTED_BY_CALLBACK);

        let (read, end) = read_all(&s);
        assert!(read.is_empty(), "plaintext of a refused peer was read");
        assert_eq!(end.unwrap_err().code, SIPTLS_ERR_SESSION_FAILED);
        assert_eq!(server_ctx.counters().snapshot().plaintext_in, 0);
    }
}
