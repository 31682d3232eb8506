//! The layers of `src/`, checked from the sources: `abi` (the C vocabulary)
//! imports nothing else of siptls; `ffi` (the pointer boundary) imports
//! `abi` and `error` only; the core never imports `ffi` or `capi`; and no
//! file of `src/` depends on itself through others (no import cycle).
//!
//! A file's dependencies are the modules its `crate::`/`super::` paths name
//! (test modules aside). A path through a parent's `pub use child::Name`
//! counts as a dependency on that child.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

struct Module {
    file: PathBuf,
    /// The source without its `#[cfg(test)] mod tests`.
    source: String,
}

/// Every module of the crate by path (`verify::policy`; the root is "").
fn modules() -> BTreeMap<String, Module> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new(SRC), &mut files);
    files
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(SRC).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let source = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap()
                .to_string();
            (parts.join("::"), Module { file, source })
        })
        .collect()
}

/// Each identifier path in `source` that starts with `crate::` or
/// `super::`, with `use` groups (`a::{b, c::d}`) expanded, as segments
/// from the crate root.
fn paths(module: &str, source: &str) -> Vec<Vec<String>> {
    let parent: Vec<String> = module
        .split("::")
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let parent = &parent[..parent.len().saturating_sub(1)];
    let mut found = Vec::new();
    let bytes = source.as_bytes();
    for prefix in ["crate::", "super::"] {
        for (at, _) in source.match_indices(prefix) {
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let mut base: Vec<String> = if prefix == "super::" {
                parent.to_vec()
            } else {
                Vec::new()
            };
            let rest = &source[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(':');
            base.extend(path.split("::").filter(|s| !s.is_empty()).map(String::from));
            if rest[end..].starts_with('{') {
                let group = &rest[end + 1..rest[end..].find('}').map_or(end + 1, |e| end + e)];
                for item in group.split(',') {
                    let item = item.trim().split(' ').next().unwrap_or("");
                    let mut full = base.clone();
                    full.extend(
                        item.split("::")
                            .filter(|s| !s.is_empty() && *s != "self" && *s != "{")
                            .map(String::from),
                    );
                    found.push(full);
                }
            }
            found.push(base);
        }
    }
    found
}

/// What a parent module re-exports from its children: name -> child.
fn reexports(modules: &BTreeMap<String, Module>) -> BTreeMap<(String, String), String> {
    let mut map = BTreeMap::new();
    for (name, m) in modules {
        for line in m.source.split(';') {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("pub use ") else {
                continue;
            };
            let Some((child, items)) = rest.split_once("::") else {
                continue;
            };
            let child_path = if name.is_empty() {
                child.to_string()
            } else {
                format!("{name}::{child}")
            };
            if !modules.contains_key(&child_path) {
                continue;
            }
            let items = items.trim_start_matches('{').trim_end_matches('}');
            for item in items.split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    map.insert((name.clone(), item.to_string()), child_path.clone());
                }
            }
        }
    }
    map
}

/// The module a path names: its longest module prefix, through re-exports.
fn resolve(
    path: &[String],
    modules: &BTreeMap<String, Module>,
    reexported: &BTreeMap<(String, String), String>,
) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| {
        let module = path[..n].join("::");
        if !modules.contains_key(&module) {
            return None;
        }
        Some(
            path.get(n)
                .and_then(|next| reexported.get(&(module.clone(), next.clone())))
                .cloned()
                .unwrap_or(module),
        )
    })
}

fn dependencies() -> (BTreeMap<String, Module>, BTreeMap<String, BTreeSet<String>>) {
    let modules = modules();
    let reexported = reexports(&modules);
    let mut deps = BTreeMap::new();
    for (name, m) in &modules {
        let set: BTreeSet<String> = paths(name, &m.source)
            .iter()
            .filter_map(|p| resolve(p, &modules, &reexported))
            .filter(|d| d != name && !d.is_empty())
            .collect();
        deps.insert(name.clone(), set);
    }
    (modules, deps)
}

fn layer(module: &str) -> &'static str {
    let top = module.split("::").next().unwrap_or("");
    match top {
        "abi" => "abi",
        "ffi" => "ffi",
        "capi" => "capi",
        "" | "fuzzing" => "root",
        _ => "core",
    }
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let (modules, deps) = dependencies();
    let mut wrong = Vec::new();
    for (name, set) in &deps {
        for dep in set {
            let allowed = match layer(name) {
                "abi" => layer(dep) == "abi",
                "ffi" => layer(dep) == "abi" || dep == "error",
                "core" => layer(dep) == "abi" || layer(dep) == "core",
                _ => true,
            };
            if !allowed {
                wrong.push(format!(
                    "{} ({}) imports {dep}",
                    modules[name].file.display(),
                    layer(name)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
    // The check sees the imports it is about.
    assert!(deps["capi::context"].contains("ffi"));
    assert!(deps["session"].contains("abi"));
}

#[test]
fn no_file_depends_on_itself_through_others() {
    let (modules, deps) = dependencies();
    // Tarjan's strongly connected components.
    struct Walk<'a> {
        deps: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for d in &w.deps[v] {
            let d = d.as_str();
            if !w.index.contains_key(d) {
                visit(w, d);
                let low = w.low[v].min(w.low[d]);
                w.low.insert(v, low);
            } else if w.stack.contains(&d) {
                let low = w.low[v].min(w.index[d]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(top) = w.stack.pop() {
                component.push(top);
                if top == v {
                    break;
                }
            }
            if component.len() > 1 {
                w.cycles.push(component);
            }
        }
    }
    let mut walk = Walk {
        deps: &deps,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        cycles: Vec::new(),
    };
    for name in modules.keys() {
        if !walk.index.contains_key(name.as_str()) {
            visit(&mut walk, name);
        }
    }
    assert!(
        walk.cycles.is_empty(),
        "files that depend on each other: {:?}",
        walk.cycles
    );
    assert!(modules.len() > 40, "all of src/ was read");
}
