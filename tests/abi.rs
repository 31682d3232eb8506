//! The ABI as shipped: the committed header is the generated one, only
//! `siptls_` symbols are exported, and every export runs inside the
//! panic-catching boundary.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[path = "common/artifacts.rs"]
mod artifacts;

#[test]
fn committed_header_matches_the_generated_one() {
    // What build.rs generated for this very build, in its OUT_DIR.
    let generated = std::fs::read_to_string(env!("SIPTLS_GENERATED_HEADER")).unwrap();
    let fix = "run `SIPTLS_UPDATE_HEADER=1 cargo build -p siptls` and commit include/siptls.h";
    assert!(
        header() == generated,
        "include/siptls.h differs from the generated header: {fix}"
    );
    // The committed copy, not just the working tree's or the index's.
    let committed = Command::new("git")
        .args(["show", "HEAD:include/siptls.h"])
        .current_dir(ROOT)
        .output()
        .expect("git runs");
    assert!(
        committed.status.success(),
        "include/siptls.h is not committed"
    );
    assert!(
        committed.stdout == generated.as_bytes(),
        "the committed include/siptls.h differs from the generated header: {fix}"
    );
}

fn header() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("include/siptls.h")).unwrap()
}

#[test]
fn header_version_macros_match_the_crate() {
    let h = header();
    for (name, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(
            h.contains(&format!("#define SIPTLS_VERSION_{name} {value}\n")),
            "SIPTLS_VERSION_{name}"
        );
    }
}

#[test]
fn the_shared_library_exports_only_siptls_symbols() {
    // The cdylib this test run built, wherever the target directory is.
    let lib = artifacts::library_dir().join("libsiptls.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only", "--format=posix"])
        .arg(&lib)
        .output()
        .expect("nm runs (binutils)");
    assert!(
        out.status.success(),
        "nm {}: {}",
        lib.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let symbols: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("T"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(symbols.len() > 30, "too few exports: {symbols:?}");
    let foreign: Vec<_> = symbols
        .iter()
        .filter(|s| !s.starts_with("siptls_"))
        .collect();
    assert!(foreign.is_empty(), "non-API symbols exported: {foreign:?}");
    // ...and each of them is declared in the header.
    let h = header();
    for symbol in &symbols {
        assert!(
            h.contains(&format!("{symbol}(")),
            "{symbol} missing from the header"
        );
    }
}

#[test]
fn every_export_runs_inside_the_panic_boundary() {
    let mut checked = 0;
    for entry in std::fs::read_dir(Path::new(ROOT).join("src/capi")).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for (at, _) in source.match_indices("extern \"C\" fn siptls_") {
            let body_start = source[at..].find(") ").map(|p| at + p).unwrap();
            let body = &source[body_start..];
            let open = body.find("{\n").unwrap();
            let first_statement = body[open + 1..].trim_start();
            let name: String = source[at + 14..]
                .chars()
                .take_while(|c| *c != '(')
                .collect();
            assert!(
                first_statement.starts_with("ffi::call(")
                    || first_statement.starts_with("ffi::call_value("),
                "{name} in {} does not start with the ffi::call boundary",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} exports found");
}

/// `| 232 | `SIPTLS_ERR_CRL_NOT_NEWER` | ...` rows of the README section
/// that starts with `heading`, as (number, name).
fn readme_table(heading: &str) -> Vec<(u32, String)> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let section = readme.split(heading).nth(1).expect("README section");
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let number = cells.get(1)?.parse().ok()?;
            Some((number, cells.get(2)?.trim_matches('`').to_string()))
        })
        .collect()
}

/// `NAME = N,` lines of the header enum whose names start with `prefix`.
fn header_values(prefixes: &[&str]) -> Vec<(u32, String)> {
    let mut values: Vec<(u32, String)> = header()
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            prefixes
                .iter()
                .any(|p| name.starts_with(p))
                .then(|| Some((value.parse().ok()?, name.to_string())))?
        })
        .collect();
    values.sort();
    values
}

#[test]
fn the_readme_lists_every_result_code_and_status_as_the_header_numbers_them() {
    let results = header_values(&[
        "SIPTLS_OK",
        "SIPTLS_AGAIN",
        "SIPTLS_PEER_CLOSED",
        "SIPTLS_BUFFER_FULL",
        "SIPTLS_ERR_",
    ]);
    assert_eq!(results.len(), 34);
    assert_eq!(readme_table("### Result codes"), results);
    let statuses: Vec<(u32, String)> = header_values(&["SIPTLS_VERIFY_"])
        .into_iter()
        .filter(|(_, name)| {
            !matches!(
                name.as_str(),
                "SIPTLS_VERIFY_ACCEPT" | "SIPTLS_VERIFY_REJECT"
            )
        })
        .map(|(n, name)| (n, name.trim_start_matches("SIPTLS_VERIFY_").to_string()))
        .collect();
    assert_eq!(statuses.len(), 18);
    assert_eq!(
        readme_table("### Statuses and the alert the peer sees"),
        statuses
    );
}
