//! The `siptls-certgen` binary, run as a user would.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use webpki::KeyUsage;

use crate::support::{basic_constraints_ca, common_name, parse, sans, valid_for_name, verify};

const FILES: [&str; 8] = [
    "ca/CAList.pem",
    "ca/crl.pem",
    "server/privateKey.pem",
    "server/publickey.pem",
    "server/CAList.pem",
    "client/privateKey.pem",
    "client/publickey.pem",
    "client/CAList.pem",
];

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("siptls-certgen-{name}-{}", std::process::id()));
        remove(&path);
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove(&self.0);
    }
}

/// Removes whatever is at `path`; a test may have put a file there.
fn remove(path: &Path) {
    let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siptls-certgen"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn run_out(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The only certificate in a PEM file.
fn single_cert(path: &Path) -> Vec<u8> {
    let pem = fs::read(path).unwrap();
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(certs.len(), 1, "{}", path.display());
    certs[0].to_vec()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn writes_the_three_file_layout() {
    let dir = TempDir::new("layout");
    let output = run_out(
        &dir.0,
        &[
            "--days",
            "30",
            "--server-name",
            "sbc.example.test",
            "--client-name",
            "pbx.example.test",
        ],
    );

    let expected: String = FILES
        .iter()
        .map(|file| format!("wrote {}\n", dir.0.join(file).display()))
        .collect();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);

    let ca = single_cert(&dir.0.join("ca/CAList.pem"));
    let ca_cert = parse(&ca);
    assert_eq!(common_name(&ca_cert), "siptls Demo Root CA");
    assert_eq!(basic_constraints_ca(&ca_cert), Some(true));

    let crl_pem = fs::read(dir.0.join("ca/crl.pem")).unwrap();
    let crl = pki_types::CertificateRevocationListDer::from_pem_slice(&crl_pem).unwrap();
    let server = single_cert(&dir.0.join("server/publickey.pem"));
    let client = single_cert(&dir.0.join("client/publickey.pem"));
    for (side, leaf) in [("server", &server), ("client", &client)] {
        let side_dir = dir.0.join(side);
        assert_eq!(single_cert(&side_dir.join("CAList.pem")), ca);
        for usage in [KeyUsage::server_auth(), KeyUsage::client_auth()] {
            verify(leaf, &[], &ca, usage, &[]).unwrap();
            // The CA's CRL is signed by it and revokes neither leaf.
            verify(leaf, &[], &ca, usage, &[crl.as_ref()]).unwrap();
        }
        let key = fs::read(side_dir.join("privateKey.pem")).unwrap();
        assert!(matches!(
            PrivateKeyDer::from_pem_slice(&key),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        #[cfg(unix)]
        {
            assert_eq!(mode(&side_dir.join("privateKey.pem")), 0o600, "{side}");
            assert_ne!(mode(&side_dir.join("publickey.pem")) & 0o044, 0, "{side}");
        }
    }

    let server_cert = parse(&server);
    assert_eq!(common_name(&server_cert), "sbc.example.test");
    assert_eq!(
        sans(&server_cert).unwrap(),
        [
            "DNS:sbc.example.test",
            "DNS:localhost",
            "URI:sip:sbc.example.test",
            "IP:127.0.0.1",
            "IP:::1",
        ]
    );
    for name in ["sbc.example.test", "localhost", "127.0.0.1", "::1"] {
        valid_for_name(&server, name).unwrap();
    }

    let client_cert = parse(&client);
    assert_eq!(common_name(&client_cert), "pbx.example.test");
    assert_eq!(
        sans(&client_cert).unwrap(),
        ["DNS:pbx.example.test", "URI:sip:pbx.example.test"]
    );

    let validity = client_cert.validity();
    let days = (validity.not_after.timestamp() - validity.not_before.timestamp()) / 86_400;
    assert_eq!(days, 31, "a day of back-dating plus --days 30");
    let root_until = ca_cert.validity().not_after.timestamp();
    let ten_years = OffsetDateTime::now_utc().unix_timestamp() + 3649 * 86_400;
    assert!(root_until > ten_years);
}

#[test]
fn defaults_and_rerun_over_existing_files() {
    let dir = TempDir::new("rerun");
    run_out(&dir.0, &[]);
    let server = parse(&single_cert(&dir.0.join("server/publickey.pem")))
        .subject()
        .to_string();
    assert_eq!(server, "CN=gw-b.example.test");
    let client = parse(&single_cert(&dir.0.join("client/publickey.pem")))
        .subject()
        .to_string();
    assert_eq!(client, "CN=gw-a.example.test");

    // A key file loosened by hand is tightened again when overwritten.
    let key_path = dir.0.join("server/privateKey.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let old_key = fs::read(&key_path).unwrap();
    run_out(&dir.0, &["--days", "36500"]);
    assert_ne!(fs::read(&key_path).unwrap(), old_key);
    #[cfg(unix)]
    assert_eq!(mode(&key_path), 0o600);

    // The root is stretched to cover long-lived leaves.
    let ca = parse(&single_cert(&dir.0.join("ca/CAList.pem")))
        .validity()
        .not_after
        .timestamp();
    let leaf = parse(&single_cert(&dir.0.join("server/publickey.pem")))
        .validity()
        .not_after
        .timestamp();
    assert!(ca >= leaf);
}

#[test]
fn help_is_printed_on_request() {
    for flag in ["--help", "-h"] {
        let output = run(&[flag]);
        assert!(output.status.success());
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.starts_with("Usage: siptls-certgen --out DIR"));
        assert!(output.stderr.is_empty());
    }
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let cases: [(&[&str], &str); 4] = [
        (&[], "--out DIR is required"),
        (&["--out", "x", "--days", "-3"], "--days must be"),
        (&["--frobnicate"], "unexpected argument '--frobnicate'"),
        (
            &["--out", "x", "--server-name", "a b"],
            "--server-name must be",
        ),
    ];
    for (args, message) in cases {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stderr.contains("--help"), "{args:?}: {stderr}");
    }
}

#[test]
fn unwritable_output_fails_cleanly() {
    let dir = TempDir::new("blocked");
    fs::write(&dir.0, b"a file where a directory should be").unwrap();
    let output = run(&["--out", dir.0.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot create"), "{stderr}");
}
