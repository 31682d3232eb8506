//! The exports, read from the sources as Rust (syn), not as text: every
//! `siptls_*` function of `src/capi/` runs inside the panic boundary, and
//! the places that list the exports again name exactly those functions:
//! the `siptls_get_api` table in `src/capi/api.rs` (its members and its
//! `API` initializer) and the symbol map `siptls.map`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use syn::{Expr, Item, Stmt};

#[path = "common/artifacts.rs"]
mod artifacts;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The calls an export's body may begin with: the panic boundary
/// (`handles::edit_ctx` is `ffi::call` around a context edit).
const BOUNDARIES: [&str; 3] = ["ffi::call", "ffi::call_value", "handles::edit_ctx"];

/// The export that hands out the table is not in it.
const NOT_IN_TABLE: &str = "siptls_get_api";

struct Export {
    name: String,
    /// Relative to the crate root, for messages.
    file: String,
    /// The path of the call its body begins with, if it begins with a call.
    first_call: Option<String>,
}

/// Every file of `src/capi/`, parsed.
fn capi_files() -> Vec<(String, syn::File)> {
    let dir = Path::new(ROOT).join("src/capi");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            let relative = path.strip_prefix(ROOT).unwrap().display().to_string();
            (relative, file)
        })
        .collect()
}

fn is_test_module(module: &syn::ItemMod) -> bool {
    module.attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// `#[no_mangle]`, also written `#[unsafe(no_mangle)]`.
fn is_no_mangle(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("no_mangle")
            || (a.path().is_ident("unsafe")
                && a.parse_args::<syn::Path>()
                    .is_ok_and(|p| p.is_ident("no_mangle")))
    })
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The function a statement calls first: `f(..)`, or `unsafe { f(..) }`.
fn first_call(stmt: Option<&Stmt>) -> Option<String> {
    let Stmt::Expr(expr, _) = stmt? else {
        return None;
    };
    match expr {
        Expr::Call(call) => match call.func.as_ref() {
            Expr::Path(func) => Some(path_text(&func.path)),
            _ => None,
        },
        Expr::Unsafe(block) => first_call(block.block.stmts.first()),
        _ => None,
    }
}

/// Every `siptls_*` function of `src/capi/` declared `extern "C"`, outside
/// test modules. One not `#[no_mangle] pub` fails: it would be neither
/// exported nor a private helper by its name.
fn exports() -> Vec<Export> {
    fn walk(file: &str, items: &[Item], out: &mut Vec<Export>) {
        for item in items {
            match item {
                Item::Mod(module) if !is_test_module(module) => {
                    if let Some((_, items)) = &module.content {
                        walk(file, items, out);
                    }
                }
                Item::Fn(function) => {
                    let name = function.sig.ident.to_string();
                    if function.sig.abi.is_none() || !name.starts_with("siptls_") {
                        continue;
                    }
                    assert!(
                        is_no_mangle(&function.attrs)
                            && matches!(function.vis, syn::Visibility::Public(_)),
                        "{name} in {file} is extern \"C\" and named siptls_ but is not \
                         `#[no_mangle] pub`: export it, or name it without the prefix"
                    );
                    out.push(Export {
                        name,
                        file: file.to_string(),
                        first_call: first_call(function.block.stmts.first()),
                    });
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for (file, parsed) in capi_files() {
        walk(&file, &parsed.items, &mut out);
    }
    out
}

fn export_names() -> BTreeSet<String> {
    let exports = exports();
    let names: BTreeSet<String> = exports.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names.len(), exports.len(), "an export is declared twice");
    names
}

/// What differs between the exports and a place that lists them again:
/// the exports it lacks and the names it has that are no export, as one
/// message that says where to fix them.
fn differences(exports: &BTreeSet<String>, listed: &BTreeSet<String>, place: &str) -> String {
    let missing: Vec<_> = exports.difference(listed).collect();
    let extra: Vec<_> = listed.difference(exports).collect();
    if missing.is_empty() && extra.is_empty() {
        return String::new();
    }
    format!("{place}\n  exports it lacks: {missing:?}\n  names in it that are no export: {extra:?}")
}

#[test]
fn every_export_runs_inside_the_panic_boundary() {
    let exports = exports();
    assert!(exports.len() > 30, "only {} exports found", exports.len());
    let outside: Vec<String> = exports
        .iter()
        .filter(|e| {
            !e.first_call
                .as_deref()
                .is_some_and(|call| BOUNDARIES.contains(&call))
        })
        .map(|e| {
            format!(
                "{} in {} begins with {}",
                e.name,
                e.file,
                e.first_call
                    .as_deref()
                    .unwrap_or("something other than a call")
            )
        })
        .collect();
    assert!(
        outside.is_empty(),
        "exports whose body does not begin with one of {BOUNDARIES:?} \
         (wrapped in `unsafe {{ }}` or not):\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_sources_name_every_function_the_library_exports() {
    // The parse sees what the build exports (no export made another way).
    let built: BTreeSet<String> = artifacts::exported_symbols().into_iter().collect();
    let message = differences(
        &export_names(),
        &built,
        "the functions the built libsiptls.so exports are the `#[no_mangle] pub extern \"C\" \
         fn siptls_*` of src/capi/ (a file there without its `pub mod` in src/capi/mod.rs?)",
    );
    assert!(message.is_empty(), "{message}");
}

/// The `siptls_api` struct and the `API` static of src/capi/api.rs.
fn api_table() -> (syn::ItemStruct, syn::ItemStatic) {
    let (_, file) = capi_files()
        .into_iter()
        .find(|(path, _)| path.ends_with("api.rs"))
        .expect("src/capi/api.rs");
    let mut table = None;
    let mut initializer = None;
    for item in file.items {
        match item {
            Item::Struct(s) if s.ident == "siptls_api" => table = Some(s),
            Item::Static(s) if s.ident == "API" => initializer = Some(s),
            _ => {}
        }
    }
    (
        table.expect("struct siptls_api in src/capi/api.rs"),
        initializer.expect("static API in src/capi/api.rs"),
    )
}

/// The members of `siptls_api` that are functions (`struct_size` and
/// `abi_version` are numbers).
fn function_members(table: &syn::ItemStruct) -> BTreeSet<String> {
    table
        .fields
        .iter()
        .filter(|f| matches!(f.ty, syn::Type::BareFn(_)))
        .map(|f| f.ident.as_ref().unwrap().to_string())
        .collect()
}

fn exports_in_table() -> BTreeSet<String> {
    let mut names = export_names();
    assert!(names.remove(NOT_IN_TABLE), "{NOT_IN_TABLE} is an export");
    names
}

#[test]
fn the_api_table_has_a_member_for_every_export() {
    let (table, _) = api_table();
    let members: BTreeSet<String> = function_members(&table)
        .iter()
        .map(|m| format!("siptls_{m}"))
        .collect();
    let message = differences(
        &exports_in_table(),
        &members,
        &format!(
            "the members of struct siptls_api in src/capi/api.rs are the exports without their \
             siptls_ prefix ({NOT_IN_TABLE} aside): add a missing one at the end of the struct \
             (members are only ever appended), remove an extra one"
        ),
    );
    assert!(message.is_empty(), "{message}");
}

#[test]
fn the_api_initializer_fills_every_member_with_its_export() {
    let (table, initializer) = api_table();
    let functions = function_members(&table);
    let Expr::Struct(fields) = initializer.expr.as_ref() else {
        panic!("static API in src/capi/api.rs is not a struct expression");
    };
    let mut named = BTreeSet::new();
    let mut crossed = Vec::new();
    for field in &fields.fields {
        let syn::Member::Named(member) = &field.member else {
            continue;
        };
        if !functions.contains(&member.to_string()) {
            continue;
        }
        let value = match &field.expr {
            Expr::Path(value) => path_text(&value.path),
            _ => "something other than a function name".to_string(),
        };
        if value != format!("siptls_{member}") {
            crossed.push(format!("{member}: {value}"));
        }
        named.insert(value);
    }
    assert!(
        crossed.is_empty(),
        "members of API in src/capi/api.rs not set to the export of their name: {crossed:?}"
    );
    let message = differences(
        &exports_in_table(),
        &named,
        &format!(
            "static API in src/capi/api.rs sets each member to its export ({NOT_IN_TABLE} aside)"
        ),
    );
    assert!(message.is_empty(), "{message}");
}

#[test]
fn the_symbol_map_lists_every_export() {
    let path = Path::new(ROOT).join("siptls.map");
    let mut text = std::fs::read_to_string(&path).unwrap();
    // Its comments show a node as an example.
    while let Some(start) = text.find("/*") {
        let end = text[start..]
            .find("*/")
            .expect("a comment of siptls.map ends");
        text.replace_range(start..start + end + 2, " ");
    }
    // The names between each node's `global:` and `local:` (or its end).
    let mut listed = BTreeSet::new();
    let mut unsorted = Vec::new();
    for node in text.split("global:").skip(1) {
        let body = node.split(['}', ':']).next().unwrap();
        let names: Vec<&str> = body
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty() && !n.starts_with("local"))
            .collect();
        if names.windows(2).any(|w| w[0] > w[1]) {
            unsorted.push(names.join(" "));
        }
        for name in names {
            assert!(
                listed.insert(name.to_string()),
                "{name} twice in siptls.map"
            );
        }
    }
    let message = differences(
        &export_names(),
        &listed,
        "siptls.map lists every export under the node of its ABI (CONTRIBUTING.md, \
         \"Adding an export\")",
    );
    assert!(message.is_empty(), "{message}");
    assert!(
        unsorted.is_empty(),
        "siptls.map: a node's names are in alphabetical order: {unsorted:?}"
    );
}

/// The calls a handle's doc comment in src/abi/handles.rs names (`siptls_x`
/// in backticks).
fn handle_lists() -> Vec<(String, BTreeSet<String>)> {
    let path = Path::new(ROOT).join("src/abi/handles.rs");
    let file = syn::parse_file(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file.items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some(s),
            _ => None,
        })
        .map(|s| {
            let doc: String = s
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .filter_map(|a| match &a.meta {
                    syn::Meta::NameValue(nv) => match &nv.value {
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }) => Some(text.value()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            let named = doc
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|w| w.starts_with("siptls_"))
                .map(String::from)
                .collect();
            (s.ident.to_string(), named)
        })
        .collect()
}

#[test]
fn each_handle_lists_every_call_on_it() {
    let exports = export_names();
    let lists = handle_lists();
    assert_eq!(
        lists.len(),
        3,
        "siptls_ctx, siptls_session and siptls_framer"
    );
    let mut wrong = Vec::new();
    for (handle, listed) in &lists {
        // The calls on `siptls_ctx` are the `siptls_ctx_*` exports.
        let prefix = format!("{handle}_");
        let on_it: BTreeSet<String> = exports
            .iter()
            .filter(|e| e.starts_with(&prefix))
            .cloned()
            .collect();
        assert!(!on_it.is_empty(), "{handle} has calls");
        let place = format!("the doc comment of {handle} in src/abi/handles.rs");
        let diff = differences(&on_it, listed, &place);
        if !diff.is_empty() {
            wrong.push(diff);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
