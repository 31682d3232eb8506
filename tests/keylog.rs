//! Key logging, safely: the file is created 0600, a symbolic link, a FIFO,
//! a device or a file others can read is refused; a C callback receives the
//! same lines; `SSLKEYLOGFILE` is used only by a context that opts in.

mod common;
use common::tempdir::TempDir;
use common::*;

use std::ffi::{c_char, c_void, CStr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn set_file(ctx: &Ctx, path: &Path) -> siptls_result {
    let path = cstring(path.to_str().unwrap());
    unsafe { siptls_ctx_set_keylog_file(ctx.0, path.as_ptr()) }
}

fn handshake(cctx: &Ctx) {
    let (client, server) = (Sess::client(cctx), Sess::server(&Ctx::server()));
    assert_handshake_ok(&client, &server);
}

#[test]
fn the_key_log_file_is_created_owner_only() {
    let dir = TempDir::new("keylog-mode");
    let path = dir.0.join("sip.keys");
    let ctx = Ctx::client();
    assert_eq!(set_file(&ctx, &path), SIPTLS_OK, "{}", ctx.last_error());
    handshake(&ctx);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("CLIENT_TRAFFIC_SECRET_0 "));
    // Opening it again appends (it is still 0600).
    assert_eq!(set_file(&ctx, &path), SIPTLS_OK);
}

#[test]
fn links_special_files_and_files_others_can_read_are_refused() {
    let dir = TempDir::new("keylog-refused");
    let target = dir.write("target.keys", "");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.0.join("link.keys");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = dir.0.join("fifo.keys");
    let c_fifo = cstring(fifo.to_str().unwrap());
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
    let shared = dir.write("shared.keys", "");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let linked = dir.write("linked.keys", "");
    std::fs::set_permissions(&linked, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::hard_link(&linked, dir.0.join("second-name.keys")).unwrap();
    // Owned by someone else: only root can make such a file (CI runs as root).
    let foreign = dir.write("foreign.keys", "");
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c_foreign = cstring(foreign.to_str().unwrap());
    let as_root = unsafe { libc::geteuid() } == 0;
    if as_root {
        assert_eq!(unsafe { libc::chown(c_foreign.as_ptr(), 65534, 65534) }, 0);
    }
    let ctx = Ctx::client();
    for (path, why) in [
        (link.as_path(), "is a symbolic link"),
        (fifo.as_path(), "is not a regular file"),
        (Path::new("/dev/null"), "is not a regular file"),
        (shared.as_path(), "mode 0644"),
        (linked.as_path(), "2 hard links"),
    ]
    .into_iter()
    .chain(as_root.then_some((foreign.as_path(), "belongs to user 65534")))
    {
        assert_eq!(set_file(&ctx, path), SIPTLS_ERR_IO, "{}", path.display());
        let detail = ctx.last_error();
        assert!(detail.contains(why), "{}: {detail}", path.display());
    }
    // Nothing was written through the link.
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

unsafe extern "C" fn collect_line(userdata: *mut c_void, line: *const c_char) {
    let lines = unsafe { &*(userdata as *const std::sync::Mutex<Vec<String>>) };
    let line = unsafe { CStr::from_ptr(line) }.to_str().unwrap().to_owned();
    lines.lock().unwrap().push(line);
}

#[test]
fn a_key_log_callback_receives_nss_lines() {
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let ctx = Ctx::client();
    let userdata = &lines as *const _ as *mut c_void;
    assert_eq!(
        unsafe { siptls_ctx_set_keylog_callback(ctx.0, Some(collect_line), userdata) },
        SIPTLS_OK
    );
    handshake(&ctx);
    let got = lines.lock().unwrap().clone();
    // TLS 1.3: two handshake and two traffic secrets, and the exporter secret.
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        let line = got
            .iter()
            .find(|l| l.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("{label} missing from {got:?}"));
        assert_eq!(line.split(' ').count(), 3, "{line}");
        assert!(!line.contains('\n'));
    }
    // NULL stops it.
    assert_eq!(
        unsafe { siptls_ctx_set_keylog_callback(ctx.0, None, std::ptr::null_mut()) },
        SIPTLS_OK
    );
    let before = lines.lock().unwrap().len();
    handshake(&ctx);
    assert_eq!(lines.lock().unwrap().len(), before);
}

#[test]
fn sslkeylogfile_is_used_only_by_a_context_that_opts_in() {
    let dir = TempDir::new("keylog-env");
    let path = dir.0.join("env.keys");
    // Only this test in this binary touches the variable.
    std::env::set_var("SSLKEYLOGFILE", &path);
    let ignoring = Ctx::client();
    handshake(&ignoring);
    assert!(
        !path.exists(),
        "a context that did not opt in wrote the key log"
    );
    let opted = Ctx::client();
    let mut enabled = false;
    assert_eq!(
        unsafe { siptls_ctx_use_sslkeylogfile(opted.0, &mut enabled) },
        SIPTLS_OK
    );
    assert!(enabled);
    handshake(&opted);
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("CLIENT_TRAFFIC_SECRET_0 "));
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    // Unset: opting in turns key logging off.
    std::env::remove_var("SSLKEYLOGFILE");
    let mut enabled = true;
    assert_eq!(
        unsafe { siptls_ctx_use_sslkeylogfile(opted.0, &mut enabled) },
        SIPTLS_OK
    );
    assert!(!enabled);
}
