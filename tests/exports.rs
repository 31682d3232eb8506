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
/// (`handles::edit_ctx` and `handles::count_on_ctx` are `ffi::call` around
/// a context edit and a count).
const BOUNDARIES: [&str; 4] = [
    "ffi::call",
    "ffi::call_value",
    "handles::edit_ctx",
    "handles::count_on_ctx",
];

/// The export that hands out the table is not in it.
const NOT_IN_TABLE: &str = "siptls_get_api";

struct Export {
    name: String,
    /// Relative to the crate root, for messages.
    file: String,
    /// The path of the call its body begins with, if it begins with a call.
    first_call: Option<String>,
    /// How many statements its body has.
    statements: usize,
    /// For a name kept after a rename: the export it was renamed to, from
    /// its `#[deprecated(note = "renamed siptls_x in siptls 0.4")]`.
    renamed_to: Option<String>,
}

impl Export {
    fn is_current(&self) -> bool {
        self.renamed_to.is_none()
    }
}

/// The export a `#[deprecated]` attribute names: the note's first
/// `siptls_` word. A deprecated export without one fails.
fn renamed_to(attrs: &[syn::Attribute], name: &str, file: &str) -> Option<String> {
    let attr = attrs.iter().find(|a| a.path().is_ident("deprecated"))?;
    let mut note = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("note") {
            note = Some(meta.value()?.parse::<syn::LitStr>()?.value());
        }
        Ok(())
    });
    let target = note
        .as_deref()
        .and_then(|n| n.split_whitespace().find(|w| w.starts_with("siptls_")));
    Some(
        target
            .unwrap_or_else(|| {
                panic!(
                    "{name} in {file} is deprecated without a note naming the export to use                      (`#[deprecated(note = \"renamed siptls_x in siptls 0.4\")]`)"
                )
            })
            .to_string(),
    )
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
                        renamed_to: renamed_to(&function.attrs, &name, file),
                        name,
                        file: file.to_string(),
                        first_call: first_call(function.block.stmts.first()),
                        statements: function.block.stmts.len(),
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

/// The exports under their current names: the old names kept after a
/// rename aside.
fn current_names() -> BTreeSet<String> {
    exports()
        .into_iter()
        .filter(Export::is_current)
        .map(|e| e.name)
        .collect()
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
        .filter(|e| e.is_current())
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
fn an_old_name_is_one_call_of_the_export_it_was_renamed_to() {
    let exports = exports();
    let current = current_names();
    let old: Vec<&Export> = exports.iter().filter(|e| !e.is_current()).collect();
    let wrong: Vec<String> = old
        .iter()
        .filter(|e| {
            let target = e.renamed_to.as_deref().unwrap();
            !(current.contains(target)
                && e.statements == 1
                && e.first_call.as_deref() == Some(target))
        })
        .map(|e| format!("{} in {}", e.name, e.file))
        .collect();
    assert!(
        wrong.is_empty(),
        "a deprecated export's body is one call of the current export its note names \
         (which runs the panic boundary): {wrong:?}"
    );
}

/// The rule of docs/conventions.md ("Names"): a call on an object is
/// `siptls_<object>_<verb>[_<what>]`; a call on the library is
/// `siptls_get_<what>`; the name of a number is `siptls_<kind>_str`.
const OBJECTS: [&str; 3] = ["ctx", "session", "framer"];
/// Verbs that say all on their own.
const VERBS_ALONE: [&str; 8] = [
    "new", "free", "feed", "take", "read", "write", "close", "push",
];
/// Verbs that need the thing they act on.
const VERBS_WITH_WHAT: [&str; 13] = [
    "set", "get", "add", "remove", "replace", "clear", "count", "list", "load", "use", "reset",
    "pump", "reload",
];
const NUMBER_KINDS: [&str; 3] = ["result", "verify_status", "cipher_suite"];

fn follows_the_naming_rule(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("siptls_") else {
        return false;
    };
    let has_what = |what: &str| what.len() > 1 && what.starts_with('_') && !what.ends_with('_');
    if let Some(what) = rest.strip_prefix("get") {
        return has_what(what);
    }
    if let Some(kind) = rest.strip_suffix("_str") {
        return NUMBER_KINDS.contains(&kind);
    }
    OBJECTS.iter().any(|object| {
        rest.strip_prefix(object)
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|call| {
                let verb_then = |verb: &&str| call.strip_prefix(*verb);
                VERBS_ALONE
                    .iter()
                    .filter_map(verb_then)
                    .any(|what| what.is_empty() || has_what(what))
                    || VERBS_WITH_WHAT.iter().filter_map(verb_then).any(has_what)
            })
    })
}

#[test]
fn every_current_name_follows_the_naming_rule() {
    for good in [
        "siptls_ctx_new",
        "siptls_ctx_add_trust",
        "siptls_session_feed_eof",
        "siptls_get_version",
        "siptls_result_str",
    ] {
        assert!(follows_the_naming_rule(good), "{good}");
    }
    for bad in [
        "siptls_ctx_trust_add",
        "siptls_session_sni",
        "siptls_ctx_generation",
        "siptls_version",
        "siptls_ctx_set",
        "siptls_ctx_set_",
        "siptls_ctx_settle",
        "siptls_foo_str",
        "siptls_get_",
    ] {
        assert!(!follows_the_naming_rule(bad), "{bad}");
    }
    let breaking: Vec<String> = current_names()
        .into_iter()
        .filter(|n| !follows_the_naming_rule(n))
        .collect();
    assert!(
        breaking.is_empty(),
        "exports whose names break the rule of docs/conventions.md (\"Names\"): {breaking:?}"
    );
    // The rule as the docs state it lists the same objects and verbs.
    let conventions = std::fs::read_to_string(Path::new(ROOT).join("docs/conventions.md")).unwrap();
    let section = conventions
        .split("\n## Names")
        .nth(1)
        .expect("docs/conventions.md has a section \"Names\"");
    let section = section.split("\n## ").next().unwrap();
    for word in OBJECTS
        .iter()
        .chain(&VERBS_ALONE)
        .chain(&VERBS_WITH_WHAT)
        .chain(&NUMBER_KINDS)
    {
        assert!(
            section.contains(&format!("`{word}`")),
            "docs/conventions.md (\"Names\") lists `{word}`"
        );
    }
}

#[test]
fn every_old_name_is_in_the_rename_table() {
    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/abi-and-packaging.md")).unwrap();
    let missing: Vec<String> = exports()
        .into_iter()
        .filter(|e| !e.is_current())
        .filter(|e| {
            !docs.contains(&format!(
                "| `{}` | `{}` |",
                e.name,
                e.renamed_to.as_deref().unwrap()
            ))
        })
        .map(|e| e.name)
        .collect();
    assert!(
        missing.is_empty(),
        "docs/abi-and-packaging.md has a row `| old | new |` for each renamed export: {missing:?}"
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

/// The `siptls_api` struct and the `API` constant of src/capi/api.rs.
fn api_table() -> (syn::ItemStruct, syn::ItemConst) {
    let (_, file) = capi_files()
        .into_iter()
        .find(|(path, _)| path.ends_with("api.rs"))
        .expect("src/capi/api.rs");
    let mut table = None;
    let mut initializer = None;
    for item in file.items {
        match item {
            Item::Struct(s) if s.ident == "siptls_api" => table = Some(s),
            Item::Const(s) if s.ident == "API" => initializer = Some(s),
            _ => {}
        }
    }
    (
        table.expect("struct siptls_api in src/capi/api.rs"),
        initializer.expect("const API in src/capi/api.rs"),
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
    let mut names = current_names();
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
        panic!("const API in src/capi/api.rs is not a struct expression");
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
            "const API in src/capi/api.rs sets each member to its export ({NOT_IN_TABLE} aside)"
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
    let exports = current_names();
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
