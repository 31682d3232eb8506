//! Links the shared library (soname, exported-symbol version script) and
//! generates the C header from the sources with cbindgen, into OUT_DIR, so a
//! read-only source tree builds, and the symbol map from the header. The
//! committed `include/siptls.h` is what C programs use and the committed
//! `siptls.map` what `scripts/install.sh` links with; `tests/abi.rs` fails
//! when either differs from the generated one, and
//! `SIPTLS_UPDATE_HEADER=1 cargo build` refreshes both.

use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let version =
        |part: &str| std::env::var(format!("CARGO_PKG_VERSION_{part}")).expect("set by cargo");
    let (major, minor, patch) = (version("MAJOR"), version("MINOR"), version("PATCH"));

    // The ABI policy (docs/abi-and-packaging.md): before 1.0 every minor
    // release may break the ABI, so the soname carries it; from 1.0 on, only
    // the major number.
    let (soname, abi_version) = match major.as_str() {
        "0" => (format!("libsiptls.so.0.{minor}"), minor.clone()),
        _ => (format!("libsiptls.so.{major}"), format!("{major}000")),
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rustc-env=SIPTLS_SONAME={soname}");
    println!("cargo:rustc-env=SIPTLS_ABI_VERSION={abi_version}");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=SIPTLS_UPDATE_HEADER");

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let number = |part: &str| part.parse::<u32>().expect("numeric version");
    let version_number = (number(&major) << 16) | (number(&minor) << 8) | number(&patch);
    let version_macros = format!(
        "#define SIPTLS_VERSION_MAJOR {major}\n#define SIPTLS_VERSION_MINOR {minor}\n#define SIPTLS_VERSION_PATCH {patch}\n\
         /* (major << 16) | (minor << 8) | patch, as siptls_get_version_number() returns it */\n\
         #define SIPTLS_VERSION_NUMBER {version_number:#08x}\n\
         /* The ABI of this header, for siptls_get_api(); it changes with the soname. */\n\
         #define SIPTLS_ABI_VERSION {abi_version}\n\
         /* Whether a size-prefixed struct the library filled holds `field`: its\n\
          * struct_size reaches past the field's end. Read a field added in a later\n\
          * release only when this is true. */\n\
         #define SIPTLS_HAS_FIELD(ptr, type, field) \\\n\
             ((size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))\n\
         /* Marks the names 0.3 used: the compiler warns at each use and names\n\
          * the call to use instead. */\n\
         #if defined(__cplusplus) && __cplusplus >= 201402L\n\
         #define SIPTLS_DEPRECATED(note) [[deprecated(note)]]\n\
         #elif defined(__GNUC__) || defined(__clang__)\n\
         #define SIPTLS_DEPRECATED(note) __attribute__((deprecated(note)))\n\
         #elif defined(_MSC_VER)\n\
         #define SIPTLS_DEPRECATED(note) __declspec(deprecated(note))\n\
         #else\n\
         #define SIPTLS_DEPRECATED(note)\n\
         #endif\n"
    );
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(version_macros)
        .generate()
        .expect("cbindgen generates the header");
    let mut text = Vec::new();
    bindings.write(&mut text);
    let header = c_comments(&String::from_utf8(text).expect("cbindgen writes UTF-8"))
        // Rust's heading for a caller's duties, in C words.
        .replace(" * # Safety\n", " * Requires:\n");

    let generated = out_dir.join("siptls.h");
    write_if_changed(&generated, &header);
    println!(
        "cargo:rustc-env=SIPTLS_GENERATED_HEADER={}",
        generated.display()
    );
    let node = format!("SIPTLS_{major}.{minor}");
    let map = symbol_map(&header, &node);
    let generated_map = out_dir.join("siptls.map");
    write_if_changed(&generated_map, &map);
    println!(
        "cargo:rustc-env=SIPTLS_GENERATED_MAP={}",
        generated_map.display()
    );
    if std::env::var_os("SIPTLS_UPDATE_HEADER").is_some() {
        write_if_changed(&crate_dir.join("include").join("siptls.h"), &header);
        write_if_changed(&crate_dir.join("siptls.map"), &map);
    }
}

/// The version script `scripts/install.sh` links the installed library
/// with: every function the header declares, under the symbol node of this
/// ABI, so the loader refuses a library of another ABI at start-up.
fn symbol_map(header: &str, node: &str) -> String {
    let mut names: Vec<&str> = header
        .lines()
        // A declaration starts at the first column (members, comments and
        // preprocessor lines do not); the name is what precedes its `(`.
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter(|line| !line.starts_with("typedef"))
        .filter_map(|line| {
            let open = line.find('(')?;
            let start = line[..open]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |at| at + 1);
            Some(&line[start..open]).filter(|name| name.starts_with("siptls_"))
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut map = format!(
        "/* The exported symbols and their version node, generated with the header\n \
         * from the functions it declares (build.rs); scripts/install.sh links the\n \
         * shared library with it. The ABI policy is in docs/abi-and-packaging.md. */\n\
         {node} {{\n  global:\n"
    );
    for name in names {
        map.push_str(&format!("    {name};\n"));
    }
    map.push_str("  local: *;\n};\n");
    map
}

/// cbindgen's own trailing `// X` comments (after `#endif`, `}`) become
/// `/* X */`: the header has C-style comments only. Doc comment lines are
/// already `/** ... */` and are left alone.
fn c_comments(header: &str) -> String {
    header
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line.trim_start().starts_with('*') => {
                let (code, comment) = (line[..at].trim_end(), line[at + 2..].trim());
                format!("{code} /* {comment} */\n")
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// Leaves an unchanged file alone, so its timestamp does not trigger rebuilds.
fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(contents) {
        std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
