//! Links the shared library with its soname and writes `include/siptls.h`
//! from the sources with cbindgen. The header is committed; a test fails when
//! the committed copy differs from what this generates.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    let patch = std::env::var("CARGO_PKG_VERSION_PATCH").expect("set by cargo");

    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsiptls.so.{major}");
    }

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let version_macros = format!(
        "#define SIPTLS_VERSION_MAJOR {major}\n#define SIPTLS_VERSION_MINOR {minor}\n#define SIPTLS_VERSION_PATCH {patch}\n"
    );
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(version_macros)
        .generate()
        .expect("cbindgen generates the header");
    // Write only on change, so an unchanged header keeps its timestamp.
    bindings.write_to_file(crate_dir.join("include").join("siptls.h"));
}
