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
        // The config reads $ENV::SAN and $ENV::EKU, which must exist
        // whenever it is read.
        .env("SAN", "DNS:unused.invalid")
        .env("EKU", "serverAuth")
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
[ leaf_eku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = $ENV::EKU
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_no_eku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_ca_eku ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
extendedKeyUsage = $ENV::EKU
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
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
        self.sign_with(name, cn, extensions, san, "serverAuth")
    }

    /// As `sign`, with `eku` for the sections that read $ENV::EKU.
    fn sign_with(
        &self,
        name: &str,
        cn: &str,
        extensions: &str,
        san: &str,
        eku: &str,
    ) -> (PathBuf, PathBuf) {
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
            &[("SAN", san), ("EKU", eku)],
        );
        (self.dir.join(cert), self.dir.join(key))
    }

    /// An intermediate CA named `cn` signed by this one, kept in `dir`.
    pub fn intermediate(&self, dir: &Path, cn: &str) -> OpensslCa {
        self.intermediate_with(dir, cn, "v3_ca", "serverAuth")
    }

    /// An intermediate CA whose extended key usage is `eku` (an
    /// `extendedKeyUsage` value of openssl's config, e.g. "serverAuth").
    pub fn intermediate_with_eku(&self, dir: &Path, cn: &str, eku: &str) -> OpensslCa {
        self.intermediate_with(dir, cn, "v3_ca_eku", eku)
    }

    fn intermediate_with(&self, dir: &Path, cn: &str, section: &str, eku: &str) -> OpensslCa {
        let name = cn.replace(' ', "_");
        let (cert, key) = self.sign_with(&name, cn, section, "DNS:unused.invalid", eku);
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

    /// As `leaf`, with the extended key usage `eku` (an `extendedKeyUsage`
    /// value of openssl's config; `None`: no such extension at all).
    pub fn leaf_with_eku(&self, host: &str, eku: Option<&str>) -> (PathBuf, String, String) {
        let san = format!("URI:sip:{host},DNS:{host}");
        let name = format!(
            "{}-{}",
            host.replace('.', "_"),
            eku.unwrap_or("none").replace([',', '.'], "_")
        );
        let (cert, key) = match eku {
            Some(eku) => self.sign_with(&name, host, "leaf_eku", &san, eku),
            None => self.sign(&name, host, "leaf_no_eku", &san),
        };
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
