//! Expiry an operator can watch, through the C ABI, with the gateway's
//! clock moved by its time callback: the gauges in the counters, the
//! expiry list and the Prometheus text; one WARN record and one count per
//! crossing of a threshold, again after a recovery; the earliest notAfter of
//! an identity's chain; the thresholds, 0 among them; an unset clock; and a
//! session's look at most once a second.

mod common;
use common::log::Log;
use common::*;

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

const DAY: u64 = 86400;

unsafe extern "C" fn moving_clock(userdata: *mut c_void, seconds_out: *mut u64) -> bool {
    let now = unsafe { (*(userdata as *const AtomicU64)).load(Ordering::SeqCst) };
    unsafe { *seconds_out = now };
    now != 0
}

fn use_clock(ctx: &Ctx, clock: &AtomicU64) {
    let code = unsafe {
        siptls_ctx_set_time_callback(
            ctx.0,
            Some(moving_clock),
            clock as *const AtomicU64 as *mut _,
        )
    };
    assert_eq!(code, SIPTLS_OK);
}

fn counters(ctx: &Ctx) -> siptls_counters {
    ctx.counters()
}

fn expiries(ctx: &Ctx) -> Vec<siptls_expiry_info> {
    let mut count = 0;
    assert_eq!(
        unsafe { siptls_ctx_count_expiries(ctx.0, &mut count) },
        SIPTLS_OK
    );
    (0..count)
        .map(|i| {
            let mut info: siptls_expiry_info = unsafe { std::mem::zeroed() };
            info.struct_size = std::mem::size_of::<siptls_expiry_info>() as u32;
            assert_eq!(
                unsafe { siptls_ctx_get_expiry(ctx.0, i, &mut info) },
                SIPTLS_OK
            );
            info
        })
        .collect()
}

fn chars(text: &[std::ffi::c_char]) -> String {
    unsafe { std::ffi::CStr::from_ptr(text.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn prometheus(ctx: &Ctx) -> String {
    text(|buf, cap, len| unsafe { siptls_ctx_get_counters_prometheus(ctx.0, buf, cap, len) })
}

/// A server whose identity's chain expires first at its intermediate (in 100
/// days; the leaf in 365), trusting a root of 100 days, with a CRL of its
/// root (nextUpdate in 7 days).
struct Setup {
    ctx: Ctx,
    log: Box<Log>,
    clock: Box<AtomicU64>,
    /// notAfter of the leaf, the chain (intermediate) and the trust entry;
    /// nextUpdate of the CRL.
    leaf: i64,
    chain: i64,
    root: i64,
    crl: i64,
}

fn setup() -> Setup {
    let now = OffsetDateTime::now_utc();
    let root = Authority::root_with(
        "Expiry Root",
        KeyAlg::EcdsaP256,
        now - Duration::days(1),
        now + Duration::days(100),
    );
    let issuing = root.intermediate("Expiry Issuing CA");
    let leaf = issuing.leaf(&LeafSpec {
        not_after: now + Duration::days(365),
        ..LeafSpec::sip("gw-b.example.test")
    });
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let chain = format!("{}{}", leaf.cert_pem, issuing.issued().cert_pem);
    assert_eq!(
        ctx.set_identity(&chain, &leaf.key_pem),
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    assert_eq!(ctx.trust(1, root.issued().cert_pem.as_bytes()), SIPTLS_OK);
    let crl = root.crl(&[], 1);
    let code = unsafe { siptls_ctx_add_crl(ctx.0, crl.der.as_ptr(), crl.der.len(), &mut 0) };
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
    let clock = Box::new(AtomicU64::new(now.unix_timestamp() as u64));
    use_clock(&ctx, &clock);
    let log = Log::attach(&ctx, siptls_log_level::SIPTLS_LOG_WARN);
    let items = expiries(&ctx);
    assert_eq!(items.len(), 3, "an identity, a trust entry, a CRL");
    Setup {
        leaf: items[0].not_after,
        chain: items[0].earliest_not_after,
        root: items[1].not_after,
        crl: items[2].not_after,
        ctx,
        log,
        clock,
    }
}

impl Setup {
    fn at(&self, seconds: i64) {
        self.clock.store(seconds as u64, Ordering::SeqCst);
    }

    fn warnings(&self) -> Vec<String> {
        Log::of(&self.log.take(), siptls_log_event::SIPTLS_LOG_EXPIRY)
            .into_iter()
            .map(|s| {
                assert_eq!(s.level, siptls_log_level::SIPTLS_LOG_WARN);
                s.message
            })
            .collect()
    }
}

#[test]
fn the_gauges_read_the_gateway_clock_and_name_each_item() {
    let s = setup();
    assert_eq!(
        s.chain, s.root,
        "the intermediate shares the root's validity"
    );
    assert!(s.leaf > s.chain + 200 * DAY as i64);
    let items = expiries(&s.ctx);
    assert_eq!(
        items.iter().map(|i| (i.kind, i.id)).collect::<Vec<_>>(),
        [
            (siptls_expiry_kind::SIPTLS_EXPIRY_IDENTITY, 0),
            (siptls_expiry_kind::SIPTLS_EXPIRY_TRUST_ENTRY, 1),
            (siptls_expiry_kind::SIPTLS_EXPIRY_CRL, 0),
        ]
    );
    let at = s.chain - 40 * DAY as i64;
    s.at(at);
    let c = counters(&s.ctx);
    assert_eq!(c.identity_expiry_seconds, 40 * DAY as i64);
    assert_eq!(c.trust_expiry_seconds, s.root - at);
    assert_eq!(
        c.crl_expiry_seconds,
        s.crl - at,
        "the CRL's nextUpdate has passed"
    );
    assert_eq!(
        c.expiry_warnings, 1,
        "the CRL's nextUpdate, a week away, is long past"
    );
    let items = expiries(&s.ctx);
    assert_eq!(items[0].seconds_left, 40 * DAY as i64);
    assert_eq!(items[0].not_after, s.leaf);
    assert_eq!(
        (items[0].warned, items[1].warned, items[2].warned),
        (0, 0, 1)
    );
    assert!(chars(&items[0].subject).contains("gw-b.example.test"));
    assert!(chars(&items[2].subject).contains("Expiry Root"));
    let text = prometheus(&s.ctx);
    for line in [
        format!(
            "siptls_identity_expiry_seconds{{identity=\"0\",subject=\"CN=gw-b.example.test\"}} {}",
            40 * DAY
        ),
        format!(
            "siptls_trust_entry_expiry_seconds{{trust_id=\"1\",subject=\"CN=Expiry Root\"}} {}",
            s.root - at
        ),
        "siptls_expiry_warnings_total 1".to_string(),
    ] {
        assert!(text.contains(&line), "{line} in\n{text}");
    }
    // An unset clock: no gauge, and no guess.
    s.at(0);
    let c = counters(&s.ctx);
    assert_eq!(
        (
            c.identity_expiry_seconds,
            c.trust_expiry_seconds,
            c.crl_expiry_seconds
        ),
        (
            SIPTLS_NOTHING_EXPIRES,
            SIPTLS_NOTHING_EXPIRES,
            SIPTLS_NOTHING_EXPIRES
        )
    );
    assert_eq!(expiries(&s.ctx)[0].seconds_left, SIPTLS_NOTHING_EXPIRES);
    assert!(!prometheus(&s.ctx).contains("siptls_identity_expiry_seconds{"));
}

#[test]
fn each_crossing_is_warned_once_and_again_after_a_recovery() {
    let s = setup();
    // Before everything: nothing.
    s.at(s.crl - 2 * DAY as i64);
    assert_eq!(counters(&s.ctx).expiry_warnings, 0);
    assert!(s.warnings().is_empty());
    // The CRL within a day of its nextUpdate: one warning, once.
    s.at(s.crl - 3600);
    assert_eq!(counters(&s.ctx).expiry_warnings, 1);
    let said = s.warnings();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_sentence(&said[0]);
    for part in [
        "CRL of",
        "Expiry Root",
        "1 hour away",
        "siptls_ctx_add_crl_file",
    ] {
        assert!(said[0].contains(part), "'{part}' in {}", said[0]);
    }
    assert_eq!(counters(&s.ctx).expiry_warnings, 1);
    assert!(s.warnings().is_empty(), "told once");
    // 29 days before the chain (and the root) expire: two more.
    s.at(s.chain - 29 * DAY as i64);
    assert_eq!(counters(&s.ctx).expiry_warnings, 3);
    let said = s.warnings();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said
        .iter()
        .any(|w| w.contains("identity 0") && w.contains("29 days away")));
    assert!(said.iter().any(|w| w.contains("Trust ID 1")));
    // The clock set back: all recover; crossing again warns again.
    s.at(s.crl - 2 * DAY as i64);
    assert_eq!(counters(&s.ctx).expiry_warnings, 3);
    s.at(s.chain - DAY as i64);
    assert_eq!(counters(&s.ctx).expiry_warnings, 6);
    assert_eq!(s.warnings().len(), 3);
}

#[test]
fn the_thresholds_are_the_gateways_and_zero_turns_a_warning_off() {
    let s = setup();
    let set =
        |certificate, crl| unsafe { siptls_ctx_set_expiry_warning(s.ctx.0, certificate, crl) };
    let generation = s.ctx.generation();
    assert_eq!(set(30 * DAY as u32, DAY as u32), SIPTLS_OK);
    assert_eq!(
        s.ctx.generation(),
        generation,
        "the defaults again: no change"
    );
    assert_eq!(set(0, 0), SIPTLS_OK);
    assert_eq!(s.ctx.generation(), generation + 1);
    s.at(s.chain + DAY as i64);
    assert_eq!(counters(&s.ctx).expiry_warnings, 0, "0: never");
    // 120 days ahead for certificates: the chain warns at 110 days before.
    assert_eq!(set(120 * DAY as u32, 0), SIPTLS_OK);
    s.at(s.chain - 110 * DAY as i64);
    assert_eq!(
        counters(&s.ctx).expiry_warnings,
        2,
        "identity and trust entry"
    );
}

#[test]
fn making_sessions_looks_at_most_once_a_second() {
    let s = setup();
    s.at(s.crl - 60);
    // No counter or list read: the sessions look.
    let sessions: Vec<Sess> = (0..50).map(|_| Sess::server(&s.ctx)).collect();
    let said = s.warnings();
    assert_eq!(said.len(), 1, "the CRL, once: {said:?}");
    drop(sessions);
    s.at(s.chain - DAY as i64);
    let _more: Vec<Sess> = (0..50).map(|_| Sess::server(&s.ctx)).collect();
    assert!(s.warnings().is_empty(), "within the second: no look");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let _one = Sess::server(&s.ctx);
    assert_eq!(s.warnings().len(), 2, "a second later, one session looks");
}
