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
    "ulimit",
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

/// A line with its quoted text, `${...}` expansions and comment taken out
/// (each quoted string or expansion leaves a placeholder word `Q`);
/// `$(` starts a command of its own. `in_quote` carries a single-quoted
/// string (an awk program, a `bash -c` script) over lines.
fn code_of(line: &str, in_quote: &mut bool) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut word_start = true;
    while let Some(c) = chars.next() {
        if *in_quote {
            if c == '\'' {
                *in_quote = false;
                out.push_str(" Q ");
            }
            continue;
        }
        match c {
            '\'' => *in_quote = true,
            '"' => {
                // To the closing quote on this line (none: the rest of it).
                let mut escaped = false;
                for d in chars.by_ref() {
                    if d == '"' && !escaped {
                        break;
                    }
                    escaped = d == '\\' && !escaped;
                }
                out.push_str(" Q ");
            }
            '$' if chars.peek() == Some(&'{') => {
                let mut depth = 0;
                for d in chars.by_ref() {
                    match d {
                        '{' => depth += 1,
                        '}' if depth == 1 => break,
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                out.push_str(" Q ");
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                if chars.peek() == Some(&'(') {
                    // $(( arithmetic )): no command in it.
                    let mut depth = 1;
                    for d in chars.by_ref() {
                        match d {
                            '(' => depth += 1,
                            ')' if depth == 1 => break,
                            ')' => depth -= 1,
                            _ => {}
                        }
                    }
                    out.push_str(" Q ");
                } else {
                    out.push_str(" ; ");
                }
            }
            // An array assignment: x=(a b c).
            '=' if chars.peek() == Some(&'(') => {
                for d in chars.by_ref() {
                    if d == ')' {
                        break;
                    }
                }
                out.push_str("=Q ");
            }
            '`' => out.push_str(" ; "),
            '#' if word_start => break,
            _ => out.push(c),
        }
        word_start = c.is_whitespace();
    }
    out
}

/// The command words of a shell script: the first word of each simple
/// command, skipping heredoc bodies, quoted text, case patterns,
/// assignments, functions the script defines and commands run by path.
fn commands(script: &str) -> BTreeSet<String> {
    let functions: BTreeSet<&str> = script
        .lines()
        .filter_map(|l| l.trim().split_once("() {").map(|(name, _)| name))
        .collect();
    let mut found = BTreeSet::new();
    // An array run as a command (`grind=(valgrind -q ...)`, later
    // `"${grind[@]}" prog`): its first element is a command too.
    for line in script.lines() {
        let Some((name, rest)) = line.trim().split_once("=(") else {
            continue;
        };
        let first = rest.split([' ', ')']).next().unwrap_or("");
        let run = format!("\"${{{name}[@]}}\"");
        let is_run = script.lines().any(|l| l.trim_start().starts_with(&run));
        if is_run
            && first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+.".contains(c))
        {
            found.insert(first.to_string());
        }
    }
    let mut heredoc: Option<String> = None;
    let mut in_quote = false;
    let mut in_case = false;
    let mut continued = false;
    for line in script.lines() {
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        if let Some((_, rest)) = line
            .split_once("<<")
            .filter(|(_, rest)| !rest.starts_with('<'))
        {
            let word = rest.trim_start_matches(['-', '\'', '"', ' ']);
            let word: String = word
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                heredoc = Some(word);
            }
        }
        let mut code = code_of(line, &mut in_quote);
        let words: Vec<&str> = code.split_whitespace().collect();
        let (opens, closes) = (words.contains(&"case"), words.contains(&"esac"));
        // A case pattern (`release|ship)`) is not a command.
        if in_case || opens {
            let from = code.find(" in ").map_or(0, |at| at + 4);
            if let Some(at) = code[from..].find(')') {
                code = code[from + at + 1..].to_string();
            }
        }
        in_case = (in_case || opens) && !closes;
        let continues = code.trim_end().ends_with('\\');
        let spaced: String = code
            .chars()
            .flat_map(|c| match c {
                '|' | ';' | '&' | '(' | ')' => vec![' ', ';', ' '],
                _ => vec![c],
            })
            .collect();
        // A line continued from the last one goes on with its arguments.
        let mut command_position = !continued;
        continued = continues;
        for word in spaced.split_whitespace() {
            if word == "\\" {
                continue;
            }
            let separator = matches!(
                word,
                ";" | "{"
                    | "}"
                    | "then"
                    | "do"
                    | "else"
                    | "elif"
                    | "if"
                    | "while"
                    | "until"
                    | "!"
                    | "exec"
                    | "sudo"
                    | "time"
                    | "nice"
            );
            if separator {
                command_position = true;
                continue;
            }
            if !command_position {
                continue;
            }
            // Assignments before a command keep the position.
            if word.contains('=') && !word.starts_with('-') {
                continue;
            }
            command_position = false;
            let by_path_or_expansion = word.contains('/') || word.contains('$') || word == "Q";
            let not_a_command = word.starts_with(['-', '<', '>', '[', ']', '*', '.'])
                || word.chars().next().is_some_and(|c| c.is_ascii_digit());
            if by_path_or_expansion || not_a_command || functions.contains(word) {
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
