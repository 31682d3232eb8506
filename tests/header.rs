//! Header hygiene: `include/siptls.h` compiles warning-free as C99, C11,
//! C++11 and C++17 with gcc and clang (-Wall -Wextra -Wpedantic -Werror, and
//! -Wconversion for C), with and without -fshort-enums, and a program using
//! it links against this build's library and runs. `tests/c/header_check.c`
//! also pins the sizes of the fixed-width types and structs, so no compiler
//! flag can change the ABI.

#[path = "common/artifacts.rs"]
mod artifacts;

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn build_and_run(compiler: &str, language: &str, std: &str, short_enums: bool) {
    let out_dir = artifacts::target_dir().join("header-check").join(language);
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(format!(
        "{compiler}-{std}{}",
        if short_enums { "-short-enums" } else { "" }
    ));
    // The programs ask the loader for the soname; cargo writes libsiptls.so only.
    let soname = out_dir.join(env!("SIPTLS_SONAME"));
    let _ = std::fs::remove_file(&soname);
    std::os::unix::fs::symlink(artifacts::library_dir().join("libsiptls.so"), &soname).unwrap();
    let lib = artifacts::library_dir();
    let mut cmd = Command::new(compiler);
    cmd.args(["-x", language, &format!("-std={std}")])
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg(format!("-I{ROOT}/include"))
        .arg(Path::new(ROOT).join("tests/c/header_check.c"));
    if language == "c" {
        cmd.arg("-Wconversion");
    }
    if short_enums {
        cmd.arg("-fshort-enums");
    }
    cmd.arg("-x")
        .arg("none")
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", out_dir.display()))
        .arg("-lsiptls")
        .arg("-o")
        .arg(&exe);
    let built = cmd.output().unwrap_or_else(|e| {
        panic!("{compiler} is not installed ({e}): scripts/install-deps.sh installs it")
    });
    assert!(
        built.status.success(),
        "{compiler} -std={std}{}: {}",
        if short_enums { " -fshort-enums" } else { "" },
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = Command::new(&exe).output().expect("the program runs");
    assert!(ran.status.success(), "{} failed: {ran:?}", exe.display());
}

#[test]
fn the_header_is_clean_c99_and_c11_with_gcc_and_clang() {
    for compiler in ["gcc", "clang"] {
        for std in ["c99", "c11"] {
            for short_enums in [false, true] {
                build_and_run(compiler, "c", std, short_enums);
            }
        }
    }
}

#[test]
fn the_header_is_clean_cxx11_and_cxx17_with_gcc_and_clang() {
    for compiler in ["g++", "clang++"] {
        for std in ["c++11", "c++17"] {
            for short_enums in [false, true] {
                build_and_run(compiler, "c++", std, short_enums);
            }
        }
    }
}

/// Compiles (no link) a snippet that includes the header, with -Werror.
fn compile(compiler: &str, language: &str, std: &str, source: &str) -> std::process::Output {
    let dir = artifacts::target_dir()
        .join("header-check")
        .join("deprecated");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{compiler}-{std}.{language}"));
    std::fs::write(&file, source).unwrap();
    Command::new(compiler)
        .args(["-x", language, &format!("-std={std}")])
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only"])
        .arg(format!("-I{ROOT}/include"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{compiler} is not installed ({e})"))
}

#[test]
fn an_old_name_compiles_with_a_warning_that_names_the_new_call() {
    let old = "#include <siptls.h>\n\
               int use(siptls_ctx *ctx);\n\
               int use(siptls_ctx *ctx) { return (int)siptls_ctx_trust_add(ctx, 1, 0, 0); }\n";
    let new = old.replace("siptls_ctx_trust_add", "siptls_ctx_add_trust");
    for compiler in ["gcc", "clang"] {
        for (language, std) in [("c", "c11"), ("c++", "c++17"), ("c++", "c++11")] {
            let built = compile(compiler, language, std, old);
            let said = String::from_utf8_lossy(&built.stderr);
            assert!(
                !built.status.success()
                    && said.contains("deprecated")
                    && said.contains("renamed siptls_ctx_add_trust in siptls 0.4"),
                "{compiler} -std={std}: the old name warns and names the new one: {said}"
            );
            let built = compile(compiler, language, std, &new);
            assert!(
                built.status.success(),
                "{compiler} -std={std}: the new name is clean: {}",
                String::from_utf8_lossy(&built.stderr)
            );
        }
    }
}
