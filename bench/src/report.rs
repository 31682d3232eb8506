//! The benchmark's output: tables for people, or (`--json`) one JSON
//! document with every round of every figure for machines.

use crate::harness::Figure;
use crate::STACKS;

#[derive(Clone)]
pub struct Row {
    name: String,
    unit: &'static str,
    /// In the order of STACKS.
    figures: [Figure; 4],
}

impl Row {
    pub fn new(name: String, unit: &'static str, figures: [Figure; 4]) -> Row {
        Row {
            name,
            unit,
            figures,
        }
    }

    /// siptls' median over each other stack's, in the order of STACKS[1..]
    /// (NaN where a stack was left out).
    fn ratios(&self) -> [f64; 3] {
        let siptls = self.figures[0].median();
        [1, 2, 3].map(|i| siptls / self.figures[i].median())
    }
}

/// Collects the figures; prints text as they come unless JSON was asked for.
pub struct Report {
    json: bool,
    quick: bool,
    rounds: usize,
    handshakes: usize,
    megabytes: usize,
    rows: Vec<Row>,
    /// JSON members after "rows", already rendered.
    sections: Vec<(String, String)>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "null".into()
    }
}

fn json_figure(f: &Figure) -> String {
    let rounds: Vec<String> = f.0.iter().map(|&x| json_num(x)).collect();
    format!(
        "{{\"median\": {}, \"min\": {}, \"max\": {}, \"rounds\": [{}]}}",
        json_num(f.median()),
        json_num(f.min()),
        json_num(f.max()),
        rounds.join(", ")
    )
}

fn json_object(members: &[(String, String)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// "median (min-max)".
fn cell(f: &Figure) -> String {
    if f.0.is_empty() {
        return "-".into();
    }
    format!("{:.0} ({:.0}-{:.0})", f.median(), f.min(), f.max())
}

impl Report {
    pub fn new(
        rounds: usize,
        handshakes: usize,
        megabytes: usize,
        quick: bool,
        json: bool,
    ) -> Report {
        Report {
            json,
            quick,
            rounds,
            handshakes,
            megabytes,
            rows: Vec::new(),
            sections: Vec::new(),
        }
    }

    fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    pub fn intro(&self) {
        self.say(&format!("machine: {}, {} cores", cpu_model(), cores()));
        self.say("in memory, mutual authentication, verified host names, 16 KiB pump buffers");
        self.say(&format!(
            "{} interleaved rounds of {} handshakes per case, and of {} MiB client -> server;",
            self.rounds, self.handshakes, self.megabytes
        ));
        self.say(
            "each figure: the median, then the min-max of the rounds; ratios of the medians\n",
        );
    }

    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// A copy of the row called `name`, when it was measured.
    pub fn row_named(&self, name: &str) -> Option<Row> {
        self.rows.iter().find(|r| r.name == name).cloned()
    }

    /// Each row's name and siptls' median over each other stack's.
    pub fn ratios(&self) -> Vec<(String, [f64; 3])> {
        self.rows
            .iter()
            .map(|row| (row.name.clone(), row.ratios()))
            .collect()
    }

    /// What the chart's title says: the machine and the run's size.
    pub fn chart_title(&self) -> String {
        format!(
            "siptls-bench on {}, {} cores: {} rounds of {} handshakes, {} MiB",
            cpu_model(),
            cores(),
            self.rounds,
            self.handshakes,
            self.megabytes
        )
    }

    pub fn table(&self) {
        if self.rows.is_empty() {
            return;
        }
        let mut header = format!("{:<54}", "");
        for name in STACKS {
            header += &format!(" {name:>20}");
        }
        for name in &STACKS[1..] {
            header += &format!(" {:>11}", format!("/{name}"));
        }
        self.say(&header);
        for row in &self.rows {
            let mut line = format!("{:<54}", format!("{}{}", row.name, row.unit));
            for f in &row.figures {
                line += &format!(" {:>20}", cell(f));
            }
            for ratio in row.ratios() {
                line += &if ratio.is_nan() {
                    format!(" {:>11}", "-")
                } else {
                    format!(" {ratio:>10.2}x")
                };
            }
            self.say(&line);
        }
    }

    pub fn idle_memory(&mut self, few: usize, at_few: [f64; 4], many: usize, at_many: [f64; 4]) {
        self.say("\nidle memory per established TLS 1.3 session (heap in use, both ends counted):");
        for (i, name) in STACKS.iter().enumerate() {
            self.say(&format!(
                "  {name:<11} {:>7.0} B with {few} pairs held, {:>7.0} B with {many}: {:.2}x",
                at_few[i],
                at_many[i],
                at_many[i] / at_few[i]
            ));
        }
        let per = |at: &[f64; 4]| {
            let m: Vec<(String, String)> = STACKS
                .iter()
                .zip(at)
                .map(|(n, &b)| (n.to_string(), json_num(b)))
                .collect();
            json_object(&m)
        };
        self.sections.push((
            "idle_bytes_per_session".into(),
            json_object(&[
                ("pairs_few".into(), few.to_string()),
                ("few".into(), per(&at_few)),
                ("pairs_many".into(), many.to_string()),
                ("many".into(), per(&at_many)),
            ]),
        ));
    }

    /// The crypto bound and each stack's first-contact full TLS 1.3 ECDSA
    /// handshake as a multiple of the bound's time (`row`, when measured).
    pub fn crypto_bound(&mut self, bound: &Figure, row: Option<&Row>) {
        self.say(&format!(
            "\ncrypto bound, mutual TLS 1.3, ECDSA P-256 and X25519 (2 key shares, 2 agreements, 2 signatures, 4 verifications): {}/s",
            cell(bound)
        ));
        let mut members = vec![("bound".to_string(), json_figure(bound))];
        if let Some(row) = row {
            for (name, f) in STACKS.iter().zip(&row.figures) {
                // Time per handshake over the bound's time: rates inverted.
                let multiple = bound.median() / f.median();
                self.say(&format!(
                    "  {name:<11} first-contact full handshake {:>18}/s: {multiple:.2}x the bound's time",
                    cell(f)
                ));
                members.push((name.to_string(), json_num(multiple)));
            }
        }
        self.sections
            .push(("crypto_bound".into(), json_object(&members)));
    }

    pub fn threads(&mut self, per_thread: usize, scaling: [(Figure, Figure); 4]) {
        self.say(&format!(
            "\nfull TLS 1.3 handshakes/s, one configuration shared, {per_thread} per thread:"
        ));
        let mut members = Vec::new();
        for (name, (one, two)) in STACKS.iter().zip(&scaling) {
            let ratio = two.median() / one.median();
            self.say(&format!(
                "  {name:<11} 1 thread {:>18}, 2 threads {:>18}: {ratio:.2}x",
                cell(one),
                cell(two)
            ));
            members.push((
                name.to_string(),
                json_object(&[
                    ("one".into(), json_figure(one)),
                    ("two".into(), json_figure(two)),
                    ("ratio".into(), json_num(ratio)),
                ]),
            ));
        }
        self.sections.push((
            "threads".into(),
            json_object(&[
                ("per_thread".into(), per_thread.to_string()),
                ("stacks".into(), json_object(&members)),
            ]),
        ));
    }

    pub fn key_exchange(&mut self, kx: [Figure; 2]) {
        let ratio = kx[1].median() / kx[0].median();
        self.say(&format!(
            "\nkey exchange, siptls both ends, full TLS 1.3: X25519 {}/s, X25519MLKEM768 {}/s: {ratio:.2}x",
            cell(&kx[0]),
            cell(&kx[1])
        ));
        self.sections.push((
            "key_exchange".into(),
            json_object(&[
                ("X25519".into(), json_figure(&kx[0])),
                ("X25519MLKEM768".into(), json_figure(&kx[1])),
                ("ratio".into(), json_num(ratio)),
            ]),
        ));
    }

    pub fn log_levels(&mut self, logged: [Figure; 4]) {
        let names = ["off", "ERROR", "INFO", "TRACE"];
        let off = logged[0].median();
        let mut line = String::from("\nlog callback, full TLS 1.3 handshakes/s:");
        for (name, f) in names.iter().zip(&logged) {
            line += &format!("  {name} {} {:.2}x", cell(f), f.median() / off);
        }
        self.say(&line);
        let members: Vec<(String, String)> = names
            .iter()
            .zip(&logged)
            .map(|(n, f)| (n.to_string(), json_figure(f)))
            .collect();
        self.sections
            .push(("log_callback".into(), json_object(&members)));
    }

    pub fn finish(self) {
        if self.quick {
            self.say("\n--quick: a smoke run; the figures mean nothing");
        }
        if !self.json {
            return;
        }
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|row| {
                let figures: Vec<(String, String)> = STACKS
                    .iter()
                    .zip(&row.figures)
                    .map(|(n, f)| (n.to_string(), json_figure(f)))
                    .collect();
                let ratios: Vec<(String, String)> = STACKS[1..]
                    .iter()
                    .zip(row.ratios())
                    .map(|(n, ratio)| (format!("siptls/{n}"), json_num(ratio)))
                    .collect();
                json_object(&[
                    ("name".into(), json_str(&row.name)),
                    ("unit".into(), json_str(row.unit.trim())),
                    ("figures".into(), json_object(&figures)),
                    ("ratios".into(), json_object(&ratios)),
                ])
            })
            .collect();
        let mut doc = vec![
            (
                "machine".into(),
                json_object(&[
                    ("cpu".into(), json_str(&cpu_model())),
                    ("cores".into(), cores().to_string()),
                ]),
            ),
            (
                "settings".into(),
                json_object(&[
                    ("rounds".into(), self.rounds.to_string()),
                    ("handshakes".into(), self.handshakes.to_string()),
                    ("megabytes".into(), self.megabytes.to_string()),
                    ("quick".into(), self.quick.to_string()),
                ]),
            ),
            ("rows".into(), format!("[{}]", rows.join(", "))),
        ];
        doc.extend(self.sections);
        println!("{}", json_object(&doc));
    }
}
