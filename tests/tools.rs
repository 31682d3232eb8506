//! Every command the scripts and tests run is one that
//! `scripts/install-deps.sh` installs (`scripts/tools.txt`) or one that
//! every Debian system has: a fresh machine must never meet a missing tool
//! halfway through the test command.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Bash itself, and what every Debian system has (essential and required
/// packages: coreutils, grep, sed, mawk, findutils, util-linux, mount,
/// libc-bin, dpkg, apt), plus the Rust toolchain the README assumes.
const ALWAYS_THERE: &[&str] = &[
    // bash keywords and builtins
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "for",
    "while",
    "until",
    "do",
    "done",
    "case",
    "esac",
    "in",
    "function",
    "return",
    "exit",
    "set",
    "unset",
    "export",
    "local",
    "read",
    "echo",
    "printf",
    "cd",
    "shift",
    "trap",
    "wait",
    "kill",
    "exec",
    "eval",
    "source",
    ".",
    "true",
    "false",
    "test",
    "[",
    "[[",
    "]]",
    "command",
    "mapfile",
    "declare",
    "break",
    "continue",
    ":",
    "time",
    "type",
    "getopts",
    "pushd",
    "popd",
    "umask",
    "let",
    "bash",
    "sh",
    // coreutils
    "cat",
    "cp",
    "mv",
    "rm",
    "rmdir",
    "mkdir",
    "ln",
    "ls",
    "chmod",
    "chown",
    "touch",
    "head",
    "tail",
    "sort",
    "uniq",
    "wc",
    "tr",
    "cut",
    "tee",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "stat",
    "date",
    "sleep",
    "timeout",
    "install",
    "mktemp",
    "id",
    "env",
    "nproc",
    "seq",
    "cmp",
    "diff",
    "comm",
    "paste",
    "dd",
    "du",
    "df",
    "printenv",
    "yes",
    "sha256sum",
    "od",
    "nice",
    "mkfifo",
    // other essential or required packages
    "grep",
    "sed",
    "awk",
    "find",
    "xargs",
    "mount",
    "umount",
    "unshare",
    "getconf",
    "ldd",
    "dpkg",
    "apt-get",
    "sudo",
    "ps",
    "kill",
    "cmp",
    "diff",
    // the Rust toolchain
    "cargo",
    "rustup",
    "rustc",
];

fn listed() -> BTreeSet<String> {
    std::fs::read_to_string(Path::new(ROOT).join("scripts/tools.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "-")
        .map(String::from)
        .collect()
}

/// The command words of a shell script: the first word of each simple
/// command, skipping heredoc bodies, string contents spread over lines,
/// assignments, functions the script defines and commands run by path.
fn commands(script: &str) -> BTreeSet<String> {
    let functions: BTreeSet<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_suffix("() {"))
        .collect();
    let mut found = BTreeSet::new();
    let mut heredoc: Option<String> = None;
    let mut in_quote = false;
    for line in script.lines() {
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        if let Some((_, rest)) = line.split_once("<<") {
            let word = rest.trim_start_matches(['-', '\'', '"', ' ']);
            let word: String = word
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                heredoc = Some(word);
            }
        }
        // Quoted text spanning lines (an awk program, a bash -c string).
        let quotes = line.matches('\'').count();
        let starts_inside = in_quote;
        if quotes % 2 == 1 {
            in_quote = !in_quote;
        }
        if starts_inside {
            continue;
        }
        let code = line.split(" #").next().unwrap_or("");
        if code.trim_start().starts_with('#') {
            continue;
        }
        let code = code.replace("$(", ";").replace('`', ";");
        for segment in code.split(['|', ';', '&', '(', '{', '}']) {
            let mut words = segment.split_whitespace().peekable();
            while let Some(w) = words.peek() {
                let keyword = matches!(
                    *w,
                    "!" | "if"
                        | "then"
                        | "else"
                        | "elif"
                        | "while"
                        | "until"
                        | "do"
                        | "exec"
                        | "sudo"
                        | "time"
                        | "nice"
                );
                if keyword || (w.contains('=') && !w.starts_with('-')) {
                    words.next();
                } else {
                    break;
                }
            }
            let Some(word) = words.next() else { continue };
            let runs_by_path = word.contains('/') || word.contains('$') || word.contains('"');
            let not_a_command = word.starts_with(['-', '\'', ')', '*', '[', ']', '<', '>'])
                || word.ends_with(')')
                || word.chars().next().is_some_and(|c| c.is_ascii_digit());
            if runs_by_path || not_a_command || functions.contains(word) {
                continue;
            }
            // `command -v X` asks whether X exists; it does not run it.
            if word == "command" {
                continue;
            }
            found.insert(word.to_string());
        }
    }
    found
}

#[test]
fn every_command_the_scripts_and_tests_run_is_installed_by_install_deps() {
    let listed = listed();
    let known = |c: &str| listed.contains(c) || ALWAYS_THERE.contains(&c);
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(Path::new(ROOT).join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sh") {
            for command in commands(&std::fs::read_to_string(&path).unwrap()) {
                seen += 1;
                if !known(&command) {
                    missing.push(format!("{}: {command}", path.display()));
                }
            }
        }
    }
    // Programs the Rust tests start by name.
    for dir in ["tests", "tests/common"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (_, rest) in text
                .match_indices("Command::new(\"")
                .map(|(i, _)| ((), &text[i + 14..]))
            {
                let name = rest.split('"').next().unwrap();
                seen += 1;
                if !known(name) {
                    missing.push(format!("{}: {name}", path.display()));
                }
            }
        }
    }
    assert!(seen > 40, "found only {seen} commands: the scan is broken");
    assert!(
        missing.is_empty(),
        "run but not in scripts/tools.txt: {missing:?}"
    );
}

#[test]
fn the_scan_sees_what_a_script_runs() {
    let found = commands(
        "#!/usr/bin/env bash\nset -e\nhelper() {\n  true\n}\nx=$(frobnicate --a | grep b)\nif ! widget; then\n  helper\nfi\ncat <<EOF\nnot a command\nEOF\n\"$dir/prog\" arg\nawk '\n  notacommand\n' file\n",
    );
    for expected in ["frobnicate", "grep", "widget", "cat", "awk", "set"] {
        assert!(
            found.contains(expected),
            "{expected} missing from {found:?}"
        );
    }
    for not_run in ["helper", "not", "notacommand"] {
        assert!(
            !found.contains(not_run),
            "{not_run} is no command: {found:?}"
        );
    }
}
