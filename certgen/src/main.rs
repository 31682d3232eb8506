//! `siptls-certgen`: writes a demo root CA and root-signed server and client
//! identities in the siptls three-file layout (privateKey.pem,
//! publickey.pem, CAList.pem).

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use siptls_certgen::{Authority, KeyAlg, LeafSpec, Usage};
use time::{Duration, OffsetDateTime};

const USAGE: &str = "\
Usage: siptls-certgen --out DIR [--days N] [--server-name NAME] [--client-name NAME]
                      [--clients N]

Writes a demo root CA and root-signed server and client identities:
  DIR/ca/CAList.pem                     root CA certificate
  DIR/ca/crl.pem                        root CA's CRL, revoking nothing (its CRL
                                        number is the time, so a rerun is newer)
  DIR/{server,client}/privateKey.pem    PKCS#8 private key (mode 0600)
  DIR/{server,client}/publickey.pem     leaf certificate
  DIR/{server,client}/CAList.pem        root CA certificate
  DIR/client/clients.pem                with --clients N: N more client
                                        certificates for the same key, each
                                        with its own serial (first-contact
                                        load: sip_load --client-certs)

Options:
  --out DIR            output directory, created if missing (required)
  --days N             leaf validity in days, 1 to 36500 (default 365)
  --server-name NAME   server host name (default gw-b.example.test)
  --client-name NAME   client host name (default gw-a.example.test)
  --clients N          write clients.pem, 1 to 100000 certificates
  -h, --help           print this help
";

const ROOT_NAME: &str = "siptls Demo Root CA";
/// The root outlives its leaves by default, so they can be reissued
/// without redistributing the root.
const ROOT_DAYS: i64 = 3650;
/// Keeps dates well inside what X.509 and the `time` crate represent.
const MAX_DAYS: i64 = 36_500;
/// Certificates `--clients` writes at most.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, PartialEq)]
struct Options {
    out: PathBuf,
    days: i64,
    server_name: String,
    client_name: String,
    /// Extra client certificates to write (0: no clients.pem).
    clients: usize,
}

#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Generate(Options),
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Generate(options)) => options,
        Err(message) => {
            eprintln!("siptls-certgen: {message}\nRun 'siptls-certgen --help' for usage.");
            return ExitCode::from(2);
        }
    };
    match generate(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("siptls-certgen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut out = None;
    let mut days = None;
    let mut server_name = None;
    let mut client_name = None;
    let mut clients = None;

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let flag = arg
            .to_str()
            .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
        let slot = match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--out" => &mut out,
            "--days" => &mut days,
            "--server-name" => &mut server_name,
            "--client-name" => &mut client_name,
            "--clients" => &mut clients,
            _ => return Err(format!("unexpected argument '{flag}'")),
        };
        if slot.is_some() {
            return Err(format!("{flag} given more than once"));
        }
        *slot = Some(args.next().ok_or_else(|| format!("{flag} needs a value"))?);
    }

    let out = out.ok_or("--out DIR is required")?;
    let days = match days {
        Some(days) => whole_number("--days", &days, MAX_DAYS)?,
        None => 365,
    };
    let server_name = host_name("--server-name", server_name, "gw-b.example.test")?;
    let client_name = host_name("--client-name", client_name, "gw-a.example.test")?;
    let clients = match clients {
        Some(n) => whole_number("--clients", &n, MAX_CLIENTS)?,
        None => 0,
    };
    Ok(Command::Generate(Options {
        out: out.into(),
        days,
        server_name,
        client_name,
        clients,
    }))
}

/// `flag`'s value as a whole number from 1 to `max`.
fn whole_number<T>(flag: &str, value: &OsString, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display + Copy,
{
    value
        .to_str()
        .and_then(|text| text.parse().ok())
        .filter(|n| (T::from(1)..=max).contains(n))
        .ok_or_else(|| format!("{flag} must be a whole number from 1 to {max}, not {value:?}"))
}

/// Checks a host name's syntax (RFC 1123 and RFC 3696), since it becomes
/// both a dNSName and the host of a `sip:` URI.
fn host_name(flag: &str, value: Option<OsString>, default: &str) -> Result<String, String> {
    let Some(value) = value else {
        return Ok(default.to_owned());
    };
    let invalid = || format!("{flag} must be a DNS host name, not {value:?}");
    let name = value.to_str().ok_or_else(invalid)?;
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    // An all-digit last label would let an IP address pass as a host name.
    let numeric_tld = name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    if name.len() > 253 || !name.split('.').all(label_ok) || numeric_tld {
        return Err(invalid());
    }
    Ok(name.to_owned())
}

fn generate(options: &Options) -> Result<(), String> {
    let now = OffsetDateTime::now_utc();
    // Back-dated a day so peers with slightly slow clocks accept the material.
    let not_before = now - Duration::days(1);
    let leaf_until = now + Duration::days(options.days);
    let root = Authority::root_with(
        ROOT_NAME,
        KeyAlg::EcdsaP256,
        not_before,
        leaf_until.max(now + Duration::days(ROOT_DAYS)),
    );
    let ca_pem = &root.issued().cert_pem;

    let server_name = &options.server_name;
    let mut server = LeafSpec::sip(server_name);
    server.dns_names.push("localhost".to_owned());
    server.ips = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    let client = LeafSpec::sip(&options.client_name);

    write_file(&options.out.join("ca"), "CAList.pem", ca_pem, false)?;
    let crl_number = now.unix_timestamp().unsigned_abs();
    write_file(
        &options.out.join("ca"),
        "crl.pem",
        &root.crl(&[], crl_number).pem,
        false,
    )?;
    for (name, mut spec) in [("server", server), ("client", client)] {
        spec.not_before = not_before;
        spec.not_after = leaf_until;
        spec.usage = Usage::Both;
        let leaf = root.leaf(&spec);
        let dir = options.out.join(name);
        write_file(&dir, "privateKey.pem", &leaf.key_pem, true)?;
        write_file(&dir, "publickey.pem", &leaf.cert_pem, false)?;
        write_file(&dir, "CAList.pem", ca_pem, false)?;
        if name == "client" && options.clients > 0 {
            let clients: String = (0..options.clients)
                .map(|_| root.leaf_for_key(&spec, &leaf.key_pem).cert_pem)
                .collect();
            write_file(&dir, "clients.pem", &clients, false)?;
        }
    }
    Ok(())
}

/// Writes `dir/name`, creating `dir`, and reports the path on stdout.
fn write_file(dir: &Path, name: &str, contents: &str, private: bool) -> Result<(), String> {
    let path = dir.join(name);
    fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    open_for_write(&path, private)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Opens `path` for writing from scratch; private files are owner-only
/// before anything is written to them.
#[cfg(unix)]
fn open_for_write(path: &Path, private: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        options.mode(0o600);
    }
    let file = options.open(path)?;
    if private {
        // The creation mode does not apply to a file that already existed.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Opens `path` for writing from scratch. Without Unix permission bits,
/// private files inherit the directory's access control.
#[cfg(not(unix))]
fn open_for_write(path: &Path, _private: bool) -> io::Result<fs::File> {
    fs::File::create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults_apply() {
        assert_eq!(
            parse(&["--out", "pki"]),
            Ok(Command::Generate(Options {
                out: "pki".into(),
                days: 365,
                server_name: "gw-b.example.test".into(),
                client_name: "gw-a.example.test".into(),
                clients: 0,
            }))
        );
    }

    #[test]
    fn every_option_is_read() {
        let args = [
            "--days",
            "30",
            "--client-name",
            "a.test",
            "--out",
            "x",
            "--server-name",
            "b.test",
            "--clients",
            "12",
        ];
        assert_eq!(
            parse(&args),
            Ok(Command::Generate(Options {
                out: "x".into(),
                days: 30,
                server_name: "b.test".into(),
                client_name: "a.test".into(),
                clients: 12,
            }))
        );
    }

    #[test]
    fn clients_are_distinct_certificates_beside_the_client_identity() {
        let out = std::env::temp_dir().join(format!("certgen-clients-{}", std::process::id()));
        let options = Options {
            out: out.clone(),
            days: 30,
            server_name: "b.test".into(),
            client_name: "a.test".into(),
            clients: 3,
        };
        generate(&options).unwrap();
        let text = fs::read_to_string(out.join("client/clients.pem")).unwrap();
        let own = fs::read_to_string(out.join("client/publickey.pem")).unwrap();
        let blocks: Vec<&str> = text
            .split_inclusive("-----END CERTIFICATE-----\n")
            .collect();
        assert_eq!(blocks.len(), 3);
        for (i, block) in blocks.iter().enumerate() {
            assert!(block.starts_with("-----BEGIN CERTIFICATE-----"));
            assert_ne!(*block, own);
            assert!(!blocks[i + 1..].contains(block), "certificate {i} repeats");
        }
        fs::remove_dir_all(&out).unwrap();
        generate(&Options {
            clients: 0,
            ..options
        })
        .unwrap();
        assert!(!out.join("client/clients.pem").exists());
        fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn help_stops_parsing() {
        assert_eq!(
            parse(&["--out", "x", "--help", "--bogus"]),
            Ok(Command::Help)
        );
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "--out DIR is required"),
            (&["--out"], "--out needs a value"),
            (&["--out", "a", "--out", "b"], "--out given more than once"),
            (&["--out", "a", "extra"], "unexpected argument 'extra'"),
            (&["--out", "a", "--days", "0"], "--days must be"),
            (&["--out", "a", "--days", "36501"], "--days must be"),
            (&["--out", "a", "--days", "ten"], "--days must be"),
            (&["--out", "a", "--clients", "0"], "--clients must be"),
            (&["--out", "a", "--clients", "100001"], "--clients must be"),
            (
                &["--out", "a", "--server-name", "bad_name"],
                "--server-name must be",
            ),
            (
                &["--out", "a", "--client-name", "-a.test"],
                "--client-name must be",
            ),
            (
                &["--out", "a", "--client-name", "a..test"],
                "--client-name must be",
            ),
            (
                &["--out", "a", "--server-name", "192.0.2.1"],
                "--server-name must be",
            ),
            (
                &["--out", "a", "--client-name", "émile.test"],
                "--client-name must be",
            ),
        ];
        for (args, expected) in cases {
            let err = parse(args).expect_err(&format!("{args:?} should be rejected"));
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
