//! Side by side, in one run: the same mutual-TLS handshakes (full with
//! ECDSA P-256 and RSA-2048, resumed; TLS 1.3 and 1.2; full at first
//! contact, each client certificate new to the server) and the same bulk
//! transfers (1 KiB and 16 KiB writes) through siptls' C API, raw rustls,
//! rustls-ffi's C API and OpenSSL, all in memory, in interleaved rounds,
//! with the median, the min-max spread and the ratios of the medians; then
//! idle memory per session (1,000 and 10,000 held), handshakes on one and
//! two threads sharing one configuration, and siptls' own options.
//!
//! `cargo run --release -p siptls-bench -- [--quick] [--json] [handshakes] [megabytes]`
//! (`--quick`: a smoke run that checks every row works, not a measurement;
//! `--json`: the same figures as one JSON document on stdout; `--only TEXT`:
//! only the rows and sections whose name contains TEXT, e.g. to profile
//! one; the sections are "crypto bound", "idle memory", "threads", "key
//! exchange" and "log callback"; `--stack NAME`: only that column of the
//! table and of the idle memory section, e.g. to profile one stack alone;
//! `--svg FILE`: the ratio rows as a chart, drawn by gnuplot)

// Linked for its C functions, which stacks/rustls_ffi.rs declares and calls.
extern crate rustls_ffi;

use std::sync::OnceLock;

mod bound;
mod chart;
mod harness;
mod pki;
mod report;
mod stacks;

use harness::{
    handshakes_on_threads, idle_bytes_per_session, Case, Figure, Measure, Stack, Version,
};
use pki::{Key, Pki};
use report::{Report, Row};
use stacks::{openssl::OpenSsl, rustls::Rustls, rustls_ffi::RustlsFfi, siptls::Siptls};

/// The column order of every row.
pub const STACKS: [&str; 4] = ["siptls", "rustls", "rustls-ffi", "openssl"];

/// The one column `--stack` asked for, when it did: the table's other
/// columns stay empty.
static ONLY_STACK: OnceLock<usize> = OnceLock::new();

const fn case(version: Version, key: Key, resumed: bool) -> Case {
    Case {
        version,
        key,
        resumed,
    }
}

const HANDSHAKE_CASES: [Case; 6] = [
    case(Version::Tls13, Key::EcdsaP256, false),
    case(Version::Tls12, Key::EcdsaP256, false),
    case(Version::Tls13, Key::Rsa2048, false),
    case(Version::Tls12, Key::Rsa2048, false),
    case(Version::Tls13, Key::EcdsaP256, true),
    case(Version::Tls12, Key::EcdsaP256, true),
];
const BULK_CASE: Case = HANDSHAKE_CASES[0];

/// First contact: each handshake's client certificate is one the server
/// has never seen, so nothing it remembers from earlier handshakes helps.
const FIRST_CONTACT_CASES: [Case; 3] = [
    case(Version::Tls13, Key::EcdsaP256, false),
    case(Version::Tls12, Key::EcdsaP256, false),
    case(Version::Tls13, Key::Rsa2048, false),
];

/// The four stacks, configured for one case.
struct Stacks {
    siptls: Siptls,
    rustls: Rustls,
    ffi: RustlsFfi,
    openssl: OpenSsl,
}

impl Stacks {
    fn ready(pki: &Pki, case: Case) -> Self {
        Self {
            siptls: Siptls::ready(pki, case),
            rustls: Rustls::ready(pki, case),
            ffi: RustlsFfi::ready(pki, case),
            openssl: OpenSsl::ready(pki, case),
        }
    }

    /// `what` in `rounds` rounds that interleave the stacks, so a busy
    /// moment on the machine hits all of them alike; `before_round` runs,
    /// untimed, before each round.
    fn interleaved(
        &mut self,
        rounds: usize,
        what: Measure,
        mut before_round: impl FnMut(&mut Self),
    ) -> [Figure; 4] {
        let mut figures: [Figure; 4] = Default::default();
        for round in 0..rounds {
            before_round(self);
            // Each round starts with another stack, so none always runs first.
            for i in (0..4).map(|k| (k + round) % 4) {
                if ONLY_STACK.get().is_some_and(|&only| only != i) {
                    continue;
                }
                let figure = match i {
                    0 => what.run(&self.siptls),
                    1 => what.run(&self.rustls),
                    2 => what.run(&self.ffi),
                    _ => what.run(&self.openssl),
                };
                figures[i].0.push(figure);
            }
        }
        figures
    }
}

/// `what` for every stack configured for `case`, interleaved.
fn measure(pki: &Pki, case: Case, rounds: usize, what: Measure) -> [Figure; 4] {
    Stacks::ready(pki, case).interleaved(rounds, what, |_| {})
}

/// `handshakes` full handshakes per round, each client presenting a
/// certificate made for it before the round (untimed) and used once.
fn measure_first_contact(pki: &Pki, case: Case, rounds: usize, handshakes: usize) -> [Figure; 4] {
    let what = Measure::Handshakes(handshakes);
    Stacks::ready(pki, case).interleaved(rounds, what, |stacks| {
        let clients = pki.fresh_clients(handshakes);
        stacks.siptls.present(pki, &clients);
        stacks.rustls.present(pki, &clients);
        stacks.ffi.present(pki, &clients);
        stacks.openssl.present(pki, &clients);
    })
}

/// Idle heap per session with `pairs` established pairs held, per stack
/// (NaN for a stack `--stack` left out, so a heap profile sees one).
fn idle_memory(pki: &Pki, pairs: usize) -> [f64; 4] {
    let case = BULK_CASE;
    let wanted = |i: usize| ONLY_STACK.get().is_none_or(|&only| only == i);
    [
        wanted(0).then(|| idle_bytes_per_session(&Siptls::ready(pki, case), pairs)),
        wanted(1).then(|| idle_bytes_per_session(&Rustls::ready(pki, case), pairs)),
        wanted(2).then(|| idle_bytes_per_session(&RustlsFfi::ready(pki, case), pairs)),
        wanted(3).then(|| idle_bytes_per_session(&OpenSsl::ready(pki, case), pairs)),
    ]
    .map(|bytes| bytes.unwrap_or(f64::NAN))
}

/// Full TLS 1.3 handshakes on one thread, then on two sharing the one
/// configuration, interleaved; (one, two) per stack.
fn thread_scaling(pki: &Pki, rounds: usize, per_thread: usize) -> [(Figure, Figure); 4] {
    fn rounds_of<S: Stack>(stack: &S, rounds: usize, per_thread: usize) -> (Figure, Figure) {
        let (mut one, mut two) = (Figure::default(), Figure::default());
        for _ in 0..rounds {
            one.0.push(handshakes_on_threads(stack, 1, per_thread));
            two.0.push(handshakes_on_threads(stack, 2, per_thread));
        }
        (one, two)
    }
    let case = BULK_CASE;
    [
        rounds_of(&Siptls::ready(pki, case), rounds, per_thread),
        rounds_of(&Rustls::ready(pki, case), rounds, per_thread),
        rounds_of(&RustlsFfi::ready(pki, case), rounds, per_thread),
        rounds_of(&OpenSsl::ready(pki, case), rounds, per_thread),
    ]
}

fn main() {
    let (mut quick, mut json, mut only, mut svg) = (false, false, None, None);
    let mut numbers = Vec::new();
    let mut args = std::env::args().skip(1);
    const USAGE: &str =
        "usage: [--quick] [--json] [--only TEXT] [--stack NAME] [--svg FILE] [handshakes] [megabytes]";
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--only" => only = Some(args.next().expect(USAGE)),
            "--svg" => svg = Some(std::path::PathBuf::from(args.next().expect(USAGE))),
            "--stack" => {
                let name = args.next().expect(USAGE);
                let column = STACKS.iter().position(|s| *s == name).expect(USAGE);
                ONLY_STACK.set(column).expect(USAGE);
            }
            n => numbers.push(n.parse::<usize>().expect(USAGE)),
        }
    }
    let wanted = |name: &str| only.as_deref().is_none_or(|text| name.contains(text));
    let (rounds, default_handshakes, default_megabytes) =
        if quick { (1, 5, 1) } else { (9, 300, 64) };
    let handshakes = numbers.first().copied().unwrap_or(default_handshakes);
    let megabytes = numbers.get(1).copied().unwrap_or(default_megabytes);
    let (p256, rsa) = (Pki::new(Key::EcdsaP256), Pki::new(Key::Rsa2048));
    let pki_for = |case: &Case| {
        if case.key == Key::Rsa2048 {
            &rsa
        } else {
            &p256
        }
    };
    let mut report = Report::new(rounds, handshakes, megabytes, quick, json);
    report.intro();

    for case in &HANDSHAKE_CASES {
        let name = format!("{} handshakes", case.name());
        if wanted(&name) {
            let figures = measure(
                pki_for(case),
                *case,
                rounds,
                Measure::Handshakes(handshakes),
            );
            report.row(Row::new(name, "/s", figures));
        }
    }
    for case in &FIRST_CONTACT_CASES {
        let name = format!("first-contact {} handshakes", case.name());
        if wanted(&name) {
            let figures = measure_first_contact(pki_for(case), *case, rounds, handshakes);
            report.row(Row::new(name, "/s", figures));
        }
    }
    for write in [1024, 16 * 1024] {
        let name = format!("bulk TLS 1.3, {} KiB writes", write / 1024);
        if wanted(&name) {
            let what = Measure::Bulk { megabytes, write };
            let figures = measure(&p256, BULK_CASE, rounds, what);
            report.row(Row::new(name, " MiB/s", figures));
        }
    }
    let name = "read with nothing waiting (one call)".to_string();
    if wanted(&name) {
        let what = Measure::EmptyReads(if quick { 1000 } else { 1_000_000 });
        let figures = measure(&p256, BULK_CASE, rounds, what);
        report.row(Row::new(name, " calls/s", figures));
    }
    report.table();
    if let Some(path) = &svg {
        if let Err(why) = chart::ratio_chart(&report.ratios(), &report.chart_title(), path) {
            eprintln!("siptls-bench: no chart: {why}");
            std::process::exit(1);
        }
    }
    if wanted("crypto bound") {
        let bound = bound::crypto_bound(&p256, rounds, handshakes);
        let first_contact = report.row_named(&format!(
            "first-contact {} handshakes",
            FIRST_CONTACT_CASES[0].name()
        ));
        report.crypto_bound(&bound, first_contact.as_ref());
    }

    if wanted("idle memory") {
        let (few, many) = if quick { (10, 100) } else { (1000, 10_000) };
        report.idle_memory(few, idle_memory(&p256, few), many, idle_memory(&p256, many));
    }
    if wanted("threads") {
        report.threads(handshakes, thread_scaling(&p256, rounds, handshakes));
    }
    if wanted("key exchange") {
        key_exchange(&p256, rounds, handshakes, &mut report);
    }
    if wanted("log callback") {
        log_callback(&p256, rounds, handshakes, &mut report);
    }
    report.finish();
}

/// The default key exchange, decided with this: X25519 against the
/// X25519MLKEM768 hybrid (siptls both ends, full TLS 1.3 handshakes).
fn key_exchange(p256: &Pki, rounds: usize, handshakes: usize, report: &mut Report) {
    use siptls::capi::siptls_profile::*;
    let profiles = [SIPTLS_PROFILE_DEFAULT, SIPTLS_PROFILE_POST_QUANTUM];
    let stacks = profiles.map(|p| Siptls::with_profile(p256, BULK_CASE, p));
    let mut kx: [Figure; 2] = Default::default();
    for _ in 0..rounds {
        for (figure, stack) in kx.iter_mut().zip(&stacks) {
            figure.0.push(Measure::Handshakes(handshakes).run(stack));
        }
    }
    report.key_exchange(kx);
}

/// What the log callback costs: off (the default), on at ERROR (a good
/// handshake logs nothing), INFO (a few records a handshake), TRACE
/// (rustls' records too); full TLS 1.3 handshakes.
fn log_callback(p256: &Pki, rounds: usize, handshakes: usize, report: &mut Report) {
    let levels = [0, 1, 3, 5];
    let stacks = levels.map(|l| Siptls::with_log(p256, BULK_CASE, l));
    let mut logged: [Figure; 4] = Default::default();
    for _ in 0..rounds {
        for (figure, stack) in logged.iter_mut().zip(&stacks) {
            figure.0.push(Measure::Handshakes(handshakes).run(stack));
        }
    }
    report.log_levels(logged);
}
