//! Where this test run's build put its artifacts: the libsiptls.so that
//! `cargo test` built for it, whatever the target directory or profile.
#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// target/<profile>/deps/<test>-<hash> is the running test binary.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("target/<profile> has a parent")
        .to_path_buf()
}

/// The directory of the libsiptls.so to link against.
///
/// `cargo test` compiles the library with all its crate types, so the
/// cdylib it just built is target/<profile>/deps/libsiptls.so. Only a
/// `cargo build` of the package copies it up to target/<profile>/, so that
/// copy may be older (or absent). Whichever is newer is the one to test.
pub fn library_dir() -> PathBuf {
    let profile = profile_dir();
    let modified = |dir: &Path| {
        fs::metadata(dir.join("libsiptls.so"))
            .and_then(|m| m.modified())
            .ok()
    };
    let candidates = [profile.join("deps"), profile.clone()];
    candidates
        .iter()
        .filter_map(|dir| modified(dir).map(|time| (time, dir)))
        .max_by_key(|(time, _)| *time)
        .map(|(_, dir)| dir.clone())
        .unwrap_or_else(|| {
            panic!(
                "no libsiptls.so in {} or its deps/: the crate's cdylib should have been built \
                 by `cargo test`; try `cargo build -p siptls`",
                profile.display()
            )
        })
}

/// The functions the library this test run built exports (`nm -D`).
pub fn exported_symbols() -> Vec<String> {
    // The cdylib this test run built, wherever the target directory is.
    let lib = library_dir().join("libsiptls.so");
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
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("T"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}
