//! The log callback through the C ABI: siptls' events with their session's
//! user data, the level threshold, rustls' own records, refused
//! resumptions and configuration changes, escaping, and turning it off.

mod common;
use common::log::{keep, Log};
use common::*;

use std::ffi::c_void;

use siptls_certgen::Authority;
use siptls_log_event::*;
use siptls_log_level::*;

fn with_userdata(s: &Sess, value: usize) {
    assert_eq!(
        unsafe { siptls_session_set_userdata(s.0, value as *mut c_void) },
        SIPTLS_OK
    );
}

#[test]
fn events_arrive_with_their_session_and_level() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let log = Log::attach(&server, SIPTLS_LOG_INFO);
    let applied = Log::of(&log.take(), SIPTLS_LOG_CONFIG_APPLIED);
    assert_eq!(applied.len(), 1, "setting the callback is itself a change");
    assert!(
        applied[0].message.starts_with("Configuration generation "),
        "{applied:?}"
    );

    let (c, s) = (Sess::client(&client), Sess::server(&server));
    with_userdata(&s, 0x5151);
    assert_handshake_ok(&c, &s);
    let seen = log.take();
    let verification = Log::of(&seen, SIPTLS_LOG_VERIFICATION);
    assert_eq!(verification.len(), 1);
    assert_eq!(
        (verification[0].level, verification[0].userdata),
        (SIPTLS_LOG_INFO, 0x5151)
    );
    assert!(verification[0]
        .message
        .starts_with("Verification OK: The peer's certificate verified to trust ID 1"));
    let done = Log::of(&seen, SIPTLS_LOG_HANDSHAKE_DONE);
    assert_eq!(done.len(), 1);
    assert!(
        done[0].message.contains("TLS 1.3")
            && done[0].message.contains("(full)")
            && done[0]
                .message
                .contains("the peer verified to trust ID 1 at depth 1"),
        "{done:?}"
    );
    assert!(
        seen.iter().all(|r| r.level <= SIPTLS_LOG_INFO),
        "nothing below the threshold"
    );
    assert!(seen.iter().all(|r| r.userdata == 0x5151));

    // A client the server cannot verify: a warning each for the
    // verification, the alert and the failure.
    let stranger = Authority::root("Stranger Root").sip_leaf(CLIENT_NAME);
    let bad = Ctx::client();
    assert_eq!(
        bad.set_identity(&stranger.cert_pem, &stranger.key_pem),
        SIPTLS_OK
    );
    let (bc, bs) = (Sess::client(&bad), Sess::server(&server));
    with_userdata(&bs, 0x6262);
    assert_eq!(pump(&bc, &bs).server, SIPTLS_ERR_CERT_REJECTED);
    let seen = log.take();
    let kinds: Vec<_> = seen
        .iter()
        .map(|r| (r.event, r.level, r.userdata))
        .collect();
    assert_eq!(
        kinds,
        [
            (SIPTLS_LOG_VERIFICATION, SIPTLS_LOG_WARN, 0x6262),
            (SIPTLS_LOG_ALERT_SENT, SIPTLS_LOG_WARN, 0x6262),
            (SIPTLS_LOG_SESSION_FAILED, SIPTLS_LOG_WARN, 0x6262),
        ]
    );
    assert!(seen[0].message.starts_with("Verification UNKNOWN_CA: "));
    assert_eq!(
        seen[1].message,
        "The fatal alert unknown_ca was sent to the peer."
    );
    assert!(seen[2]
        .message
        .starts_with("The session failed (result 301, "));

    // A refused change, its detail escaped: no line break reaches the log.
    let path = cstring("/nonexistent/dir\nforged: line");
    assert_eq!(
        unsafe { siptls_ctx_load_identity_files(server.0, path.as_ptr(), path.as_ptr()) },
        SIPTLS_ERR_IO
    );
    let refused = Log::of(&log.take(), SIPTLS_LOG_CONFIG_REFUSED);
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0].message.contains("dir\\nforged") && !refused[0].message.contains('\n'),
        "{refused:?}"
    );
    assert_eq!(refused[0].userdata, 0);
}

#[test]
fn a_warn_threshold_hears_failures_only_and_trace_hears_the_tls_engine() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let warn = Log::attach(&server, SIPTLS_LOG_WARN);
    let trace = Log::attach(&client, SIPTLS_LOG_TRACE);
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    with_userdata(&c, 0x7373);
    assert_handshake_ok(&c, &s);
    assert!(warn.take().is_empty(), "a good handshake warns of nothing");
    let seen = trace.take();
    let engine = Log::of(&seen, SIPTLS_LOG_TLS_ENGINE);
    assert!(!engine.is_empty(), "rustls' own records");
    assert!(
        engine.iter().all(|r| r.message.starts_with("rustls::")),
        "{engine:?}"
    );
    assert!(
        engine.iter().any(|r| r.userdata == 0x7373),
        "with the session"
    );
    assert!(!Log::of(&seen, SIPTLS_LOG_HANDSHAKE_DONE).is_empty());
}

#[test]
fn a_refused_resumption_says_why() {
    let (client, server) = (Ctx::client(), Ctx::server());
    {
        let (c, s) = (Sess::client(&client), Sess::server(&server));
        assert_handshake_ok(&c, &s);
    }
    let other = Authority::root("siptls Other Root CA")
        .issued()
        .cert_pem
        .clone();
    let mut count = 0;
    let code = unsafe {
        siptls_ctx_replace_trust_list(server.0, other.as_ptr(), other.len(), 1, &mut count)
    };
    assert_eq!(code, SIPTLS_OK);
    let log = Log::attach(&server, SIPTLS_LOG_INFO);
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    pump(&c, &s);
    let refused = Log::of(&log.take(), SIPTLS_LOG_RESUMPTION_REFUSED);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .message
            .contains("its peer chain fails under the configuration in force (UNKNOWN_CA)"),
        "{refused:?}"
    );
}

#[test]
fn null_turns_logging_off_and_a_bad_level_changes_nothing() {
    let server = Ctx::server();
    let log = Log::attach(&server, SIPTLS_LOG_INFO);
    let generation = server.generation();
    for level in [0, 6] {
        let code = unsafe {
            siptls_ctx_set_log_callback(server.0, Some(keep), level, std::ptr::null_mut())
        };
        assert_eq!(code, SIPTLS_ERR_INVALID_ARGUMENT);
    }
    assert_eq!(server.generation(), generation);
    log.take();
    assert_eq!(
        unsafe { siptls_ctx_set_log_callback(server.0, None, 0, std::ptr::null_mut()) },
        SIPTLS_OK
    );
    let client = Ctx::client();
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    assert_eq!(
        unsafe { siptls_ctx_set_max_ca_depth(server.0, 99) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(log.take().is_empty(), "off");
}
