//! A PKI made with the `openssl` command line (`req`, `ca`, `ca -gencrl`),
//! so the trust table and CRL code is tested on input we did not generate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One CA kept the way `openssl ca` keeps it: key, certificate, index,
/// serial and (once enabled) crlnumber files in a directory of its own.
pub struct OpensslCa {
    pub dir: PathBuf,
    pub cert_pem: String,
    /// What CRLs carry beyond a version 1 CRL.
    crl_extensions: CrlExtensions,
}

/// The extensions `openssl ca -gencrl` writes, as its configuration decides.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CrlExtensions {
    /// No crlnumber file, no crl_extensions: a version 1 CRL.
    None,
    /// crl_extensions with an authority key identifier, no crlnumber file.
    KeyIdOnly,
    /// Both: what RFC 5280 requires.
    Numbered,
    /// A crlnumber file, no crl_extensions: numbered, no authority key
    /// identifier.
    NumberedWithoutKeyId,
}

/// Runs `openssl` with `args` in `dir` and returns its output; panics with
/// its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        // The config reads $ENV::SAN, which must exist whenever it is read.
        .env("SAN", "DNS:unused.invalid")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("openssl is not installed ({e}): install the openssl package"));
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

impl OpensslCa {
    fn prepare(dir: &Path) {
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
    }

    fn write_config(&self) {
        let crl_lines = match self.crl_extensions {
            CrlExtensions::None => "",
            CrlExtensions::KeyIdOnly => "crl_extensions = crl_ext\n",
            CrlExtensions::Numbered => "crlnumber = $dir/crlnumber\ncrl_extensions = crl_ext\n",
            CrlExtensions::NumberedWithoutKeyId => "crlnumber = $dir/crlnumber\n",
        };
        let config = format!(
            "[ req ]
distinguished_name = dn
[ dn ]
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
default_md = sha256
default_days = 3650
default_crl_days = 7
policy = policy_any
unique_subject = no
{crl_lines}
[ policy_any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ crl_ext ]
authorityKeyIdentifier = keyid:always
",
            dir = self.dir.display()
        );
        std::fs::write(self.dir.join("ca.cnf"), config).unwrap();
    }

    /// A self-signed root CA named `cn` in `dir`.
    pub fn root(dir: &Path, cn: &str) -> OpensslCa {
        Self::prepare(dir);
        let mut ca = OpensslCa {
            dir: dir.to_path_buf(),
            cert_pem: String::new(),
            crl_extensions: CrlExtensions::None,
        };
        ca.write_config();
        let subject = format!("/CN={cn}");
        let mut args = vec!["req", "-x509", "-new", "-nodes", "-config", "ca.cnf"];
        args.extend(EC_KEY);
        args.extend([
            "-extensions",
            "v3_ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            &subject,
        ]);
        openssl(dir, &args, &[]);
        ca.cert_pem = read(&dir.join("ca.pem"));
        ca
    }

    /// A request for `cn` with a fresh key in this CA's directory, signed
    /// with the config section `extensions`; returns (certificate, key) paths.
    fn sign(&self, name: &str, cn: &str, extensions: &str, san: &str) -> (PathBuf, PathBuf) {
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let subject = format!("/CN={cn}");
        let mut args = vec!["req", "-new", "-nodes", "-config", "ca.cnf"];
        args.extend(EC_KEY);
        args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(&self.dir, &args, &[]);
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                "ca.cnf",
                "-extensions",
                extensions,
                "-in",
                &csr,
                "-out",
                &cert,
            ],
            &[("SAN", san)],
        );
        (self.dir.join(cert), self.dir.join(key))
    }

    /// An intermediate CA named `cn` signed by this one, kept in `dir`.
    pub fn intermediate(&self, dir: &Path, cn: &str) -> OpensslCa {
        let name = cn.replace(' ', "_");
        let (cert, key) = self.sign(&name, cn, "v3_ca", "DNS:unused.invalid");
        Self::prepare(dir);
        std::fs::copy(&cert, dir.join("ca.pem")).unwrap();
        std::fs::copy(&key, dir.join("ca.key")).unwrap();
        let ca = OpensslCa {
            dir: dir.to_path_buf(),
            cert_pem: read(&cert),
            crl_extensions: CrlExtensions::None,
        };
        ca.write_config();
        ca
    }

    /// A SIP end-entity certificate for `host` (sip: URI and dNSName);
    /// returns its certificate path, certificate PEM and key PEM.
    pub fn leaf(&self, host: &str) -> (PathBuf, String, String) {
        let san = format!("URI:sip:{host},DNS:{host}");
        let (cert, key) = self.sign(&host.replace('.', "_"), host, "leaf", &san);
        let pem = read(&cert);
        (cert, pem, read(&key))
    }

    pub fn revoke(&self, cert: &Path) {
        let cert = cert.display().to_string();
        openssl(
            &self.dir,
            &["ca", "-batch", "-config", "ca.cnf", "-revoke", &cert],
            &[],
        );
    }

    /// Chooses what later CRLs carry; a numbered kind starts a crlnumber
    /// file at `first` (as the OpenSSL documentation sets one up) unless
    /// there is one.
    pub fn crl_extensions(&mut self, extensions: CrlExtensions, first: u32) {
        let numbers = self.dir.join("crlnumber");
        let numbered = matches!(
            extensions,
            CrlExtensions::Numbered | CrlExtensions::NumberedWithoutKeyId
        );
        if numbered && !numbers.exists() {
            std::fs::write(numbers, format!("{first:04X}\n")).unwrap();
        }
        self.crl_extensions = extensions;
        self.write_config();
    }

    /// The CA certificate's subject key identifier as `openssl x509` prints
    /// it ("0A:1B:...").
    pub fn key_id(&self) -> String {
        let out = openssl(
            &self.dir,
            &[
                "x509",
                "-in",
                "ca.pem",
                "-noout",
                "-ext",
                "subjectKeyIdentifier",
            ],
            &[],
        );
        out.lines()
            .nth(1)
            .unwrap_or_else(|| panic!("no subject key identifier in: {out}"))
            .trim()
            .to_string()
    }

    /// `openssl ca -gencrl`: the CRL as PEM.
    pub fn gencrl(&self) -> String {
        openssl(
            &self.dir,
            &[
                "ca", "-batch", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem",
            ],
            &[],
        );
        read(&self.dir.join("crl.pem"))
    }
}
