//! The ABI as shipped: the committed header is the generated one, only
//! `siptls_` symbols are exported, and every C enum's values, as the library
//! derives them, are the header's. (tests/exports.rs checks the exports
//! against the sources, the `siptls_get_api` table and siptls.map.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[path = "common/artifacts.rs"]
mod artifacts;

/// A generated file of this very build (in build.rs' OUT_DIR) against the
/// working copy and, in a git checkout, the committed one.
fn assert_committed(file: &str, generated: &str) {
    let generated = std::fs::read_to_string(generated).unwrap();
    let fix = format!("run `SIPTLS_UPDATE_HEADER=1 cargo build -p siptls` and commit {file}");
    let working = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    assert!(
        working == generated,
        "{file} differs from the generated one: {fix}"
    );
    // The committed copy, not just the working tree's or the index's (a
    // source tarball has only the working copy).
    if !Path::new(ROOT).join(".git").exists() {
        return;
    }
    let committed = Command::new("git")
        .args(["show", &format!("HEAD:{file}")])
        .current_dir(ROOT)
        .output()
        .expect("git runs");
    assert!(committed.status.success(), "{file} is not committed");
    assert!(
        committed.stdout == generated.as_bytes(),
        "the committed {file} differs from the generated one: {fix}"
    );
}

#[test]
fn committed_header_matches_the_generated_one() {
    assert_committed("include/siptls.h", env!("SIPTLS_GENERATED_HEADER"));
}

#[test]
fn committed_symbol_map_matches_the_one_generated_from_the_header() {
    assert_committed("siptls.map", env!("SIPTLS_GENERATED_MAP"));
    // Generated from the header's declarations: every function, under this ABI's node.
    let map = std::fs::read_to_string(env!("SIPTLS_GENERATED_MAP")).unwrap();
    let node = format!(
        "SIPTLS_{}.{} {{",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert!(map.contains(&node), "{node} in {map}");
    let listed = map.lines().filter(|l| l.starts_with("    siptls_")).count();
    assert_eq!(listed, artifacts::exported_symbols().len(), "{map}");
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
    // The number macro, and the library at run time, agree with them.
    let number = h
        .lines()
        .find_map(|l| l.strip_prefix("#define SIPTLS_VERSION_NUMBER "))
        .and_then(|hex| u32::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
        .expect("SIPTLS_VERSION_NUMBER");
    let part = |v: &str| v.parse::<u32>().unwrap();
    let expected = (part(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
        | (part(env!("CARGO_PKG_VERSION_MINOR")) << 8)
        | part(env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(number, expected);
    assert_eq!(siptls::capi::siptls_get_version_number(), expected);
}

#[test]
fn the_shared_library_exports_only_siptls_symbols() {
    let symbols = artifacts::exported_symbols();
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

/// `| 232 | `SIPTLS_ERR_CRL_NOT_NEWER` | ...` rows of the section of the
/// guide's `doc` (a file in docs/) that starts with `heading`, as (number,
/// name).
fn doc_table(doc: &str, heading: &str) -> Vec<(u32, String)> {
    let path = Path::new(ROOT).join("docs").join(doc);
    let text = std::fs::read_to_string(&path).unwrap();
    let section = text
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("{heading} in {}", path.display()));
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
fn the_docs_list_every_result_code_and_status_as_the_header_numbers_them() {
    let results = header_values(&[
        "SIPTLS_OK",
        "SIPTLS_AGAIN",
        "SIPTLS_PEER_CLOSED",
        "SIPTLS_BUFFER_FULL",
        "SIPTLS_ERR_",
    ]);
    assert_eq!(results.len(), 57);
    assert_eq!(doc_table("conventions.md", "\n## Result codes\n"), results);
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
        doc_table(
            "verification.md",
            "\n## Statuses and the alert the peer sees\n"
        ),
        statuses
    );
}

/// `(variant, number)` of each enum of the header, in its order, by name.
fn header_enums() -> BTreeMap<String, Vec<(String, u32)>> {
    let mut enums = BTreeMap::new();
    let h = header();
    let mut lines = h.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("enum ").filter(|n| !n.contains(' ')) else {
            continue;
        };
        let values = lines
            .by_ref()
            .take_while(|l| *l != "};")
            .filter_map(|l| {
                let (variant, number) = l.trim().trim_end_matches(',').split_once(" = ")?;
                Some((variant.to_string(), number.parse().ok()?))
            })
            .collect();
        enums.insert(name.to_string(), values);
    }
    enums
}

#[test]
fn every_c_enum_lists_the_values_the_header_declares() {
    use siptls::capi::*;
    type Derived = (Vec<(String, u32)>, fn(u32) -> Option<u32>);
    // Each enum's `ALL` (in order, with names) and `from_u32`, both derived.
    macro_rules! derived {
        ($($name:ident),* $(,)?) => {
            BTreeMap::<String, Derived>::from([$((
                stringify!($name).to_string(),
                (
                    $name::ALL.iter().map(|v| (format!("{v:?}"), *v as u32)).collect(),
                    (|n| $name::from_u32(n).map(|v| v as u32)) as fn(u32) -> Option<u32>,
                ),
            )),*])
        };
    }
    let derived = derived!(
        siptls_role,
        siptls_client_auth,
        siptls_missing_crl,
        siptls_expired_crl,
        siptls_name_check,
        siptls_log_level,
        siptls_log_event,
        siptls_result,
        siptls_close_state,
        siptls_handshake_kind,
        siptls_keepalive,
        siptls_sip_event_kind,
        siptls_profile,
        siptls_verify_status,
        siptls_verify_decision,
        siptls_eku_policy,
        siptls_purpose,
        siptls_expiry_kind,
        siptls_key_type,
        siptls_sign_status,
        siptls_fips_mode,
        siptls_transport,
        siptls_dns_status,
    );
    let header = header_enums();
    assert_eq!(
        header.keys().collect::<Vec<_>>(),
        derived.keys().collect::<Vec<_>>(),
        "a C enum (#[repr(u32)] in src/abi/) derives CEnum and is named in this test"
    );
    for (name, declared) in &header {
        let (all, from_u32) = &derived[name];
        assert_eq!(all, declared, "{name}::ALL");
        // Every number up to one past the largest: only the declared ones name a variant.
        let top = declared.iter().map(|(_, n)| *n).max().unwrap();
        for number in (0..=top + 1).chain([u32::MAX]) {
            let expected = declared.iter().any(|(_, n)| *n == number).then_some(number);
            assert_eq!(from_u32(number), expected, "{name}::from_u32({number})");
        }
    }
}

#[test]
fn get_api_hands_out_every_export_for_its_abi_version_only() {
    use siptls::capi::*;
    let abi: u32 = env!("SIPTLS_ABI_VERSION").parse().unwrap();
    let mut table = std::ptr::null();
    assert_eq!(
        unsafe { siptls_get_api(abi, &mut table) },
        siptls_result::SIPTLS_OK
    );
    let api = unsafe { &*table };
    assert_eq!(api.abi_version, abi);
    assert!(header().contains(&format!("#define SIPTLS_ABI_VERSION {abi}\n")));
    assert_eq!(api.struct_size as usize, std::mem::size_of::<siptls_api>());
    // One member per export of the header, siptls_get_api itself and the
    // deprecated 0.3 names aside.
    let members = (std::mem::size_of::<siptls_api>() - 8) / std::mem::size_of::<usize>();
    let exports = artifacts::exported_symbols();
    let deprecated = header().matches("SIPTLS_DEPRECATED(\"renamed ").count();
    assert!(deprecated >= 25, "the 0.3 names are kept, deprecated");
    assert_eq!(
        members,
        exports.len() - 1 - deprecated,
        "the table lacks some of {exports:?}"
    );
    // The members are the functions: they behave as the exports do.
    let mut ctx = std::ptr::null_mut();
    assert_eq!(
        unsafe { (api.ctx_new)(99, &mut ctx) },
        siptls_result::SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { (api.ctx_new)(0, &mut ctx) },
        siptls_result::SIPTLS_OK
    );
    unsafe { (api.ctx_free)(ctx) };
    let text = |p: *const std::ffi::c_char| unsafe { std::ffi::CStr::from_ptr(p) }.to_owned();
    assert_eq!(text((api.result_str)(232)), text(siptls_result_str(232)));
    assert_eq!((api.get_version_number)(), siptls_get_version_number());
    // Another version: refused, and the out-pointer cleared.
    for other in [0, 2, abi + 1, u32::MAX] {
        let mut table = std::ptr::NonNull::<siptls_api>::dangling().as_ptr() as *const siptls_api;
        assert_eq!(
            unsafe { siptls_get_api(other, &mut table) },
            siptls_result::SIPTLS_ERR_ABI_VERSION
        );
        assert!(table.is_null());
    }
}

#[test]
fn the_header_declares_only_prefixed_names() {
    let mut foreign = Vec::new();
    for line in header().lines() {
        let name = if let Some(rest) = line.strip_prefix("#define ") {
            rest.split_whitespace().next()
        } else if !(line.starts_with("typedef ")
            || line.starts_with("struct ")
            || line.starts_with("enum "))
        {
            None
        } else if let Some((_, rest)) = line.split_once("(*") {
            // A function pointer type: typedef int (*name)(...
            rest.split(')').next()
        } else {
            line.trim_end_matches(['{', ';', ' '])
                .split_whitespace()
                .last()
                .map(|n| n.trim_start_matches('*'))
        };
        if let Some(name) = name {
            if !name.to_ascii_lowercase().starts_with("siptls_") && name != "SIPTLS_H" {
                foreign.push(line.to_string());
            }
        }
    }
    assert!(
        foreign.is_empty(),
        "unprefixed names in the header: {foreign:?}"
    );
}

#[test]
#[allow(deprecated)]
fn the_old_names_still_do_what_they_did() {
    use siptls::capi::*;
    assert_eq!(siptls_version(), siptls_get_version());
    assert_eq!(siptls_version_number(), siptls_get_version_number());
    let mut ctx = std::ptr::null_mut();
    assert_eq!(
        unsafe { siptls_ctx_new(siptls_role::SIPTLS_ROLE_SERVER as u32, &mut ctx) },
        siptls_result::SIPTLS_OK
    );
    let ca = siptls_certgen::Authority::root("Old Names CA");
    let pem = &ca.issued().cert_pem;
    assert_eq!(
        unsafe { siptls_ctx_trust_add(ctx, 7, pem.as_ptr(), pem.len()) },
        siptls_result::SIPTLS_OK
    );
    let mut ids = [0u32; 4];
    let mut count = 0;
    assert_eq!(
        unsafe { siptls_ctx_trust_list(ctx, ids.as_mut_ptr(), ids.len(), &mut count) },
        siptls_result::SIPTLS_OK
    );
    assert_eq!(&ids[..count], [7]);
    assert_eq!(
        unsafe { siptls_ctx_trust_remove(ctx, 7) },
        siptls_result::SIPTLS_OK
    );
    assert_eq!(
        unsafe { siptls_ctx_list_trust(ctx, ids.as_mut_ptr(), ids.len(), &mut count) },
        siptls_result::SIPTLS_OK
    );
    assert_eq!(count, 0);
    unsafe { siptls_ctx_free(ctx) };
}
