//! A real PKCS#11 token for the tests: SoftHSM2 (Debian softhsm2), its
//! token directory in the test's own target directory (SOFTHSM2_CONF), two
//! tokens initialised with `softhsm2-util`, and the test PKI's keys
//! imported into the first. Made once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{pki, Issued, KeyAlg, LeafSpec, CLIENT_NAME, SERVER_NAME};

/// Debian's SoftHSM2 module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const TOKEN: &str = "siptls-test";
/// A second token, for logins no other test makes first.
pub const SPARE_TOKEN: &str = "siptls-spare";
pub const PIN: &str = "4711";
const SO_PIN: &str = "0815";

pub struct SoftHsm {
    pub dir: PathBuf,
    /// A file holding PIN, for pin-source.
    pub pin_file: PathBuf,
    /// RSA-2048 identities under the test root, keys on the token.
    pub rsa_server: Issued,
    pub rsa_client: Issued,
}

/// Runs a SoftHSM or OpenSC tool; panics with its output on failure.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is not installed ({e}): install the softhsm2 and opensc packages")
        });
    assert!(
        out.status.success(),
        "{program} {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn import(dir: &Path, token: &str, label: &str, id: &str, key_pem: &str) {
    let file = dir.join(format!("{label}.key"));
    std::fs::write(&file, key_pem).unwrap();
    run(
        "softhsm2-util",
        &[
            "--import",
            file.to_str().unwrap(),
            "--token",
            token,
            "--label",
            label,
            "--id",
            id,
            "--pin",
            PIN,
        ],
    );
    std::fs::remove_file(file).unwrap();
}

pub fn softhsm() -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .with_file_name("softhsm-tmp")
            .join(
                std::env::current_exe()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        // Read by the module at its C_Initialize, which no test makes
        // before this function returns.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        for token in [TOKEN, SPARE_TOKEN] {
            run(
                "softhsm2-util",
                &[
                    "--init-token",
                    "--free",
                    "--label",
                    token,
                    "--pin",
                    PIN,
                    "--so-pin",
                    SO_PIN,
                ],
            );
        }
        let rsa = |name: &str| {
            pki().root.leaf(&LeafSpec {
                key_alg: KeyAlg::Rsa2048,
                ..LeafSpec::sip(name)
            })
        };
        let hsm = SoftHsm {
            pin_file: dir.join("pin"),
            rsa_server: rsa(SERVER_NAME),
            rsa_client: rsa(CLIENT_NAME),
            dir,
        };
        std::fs::write(&hsm.pin_file, format!("{PIN}\n")).unwrap();
        let p = pki();
        import(&hsm.dir, TOKEN, "server-ec", "01", &p.server.key_pem);
        import(&hsm.dir, TOKEN, "client-ec", "02", &p.client.key_pem);
        import(&hsm.dir, TOKEN, "server-rsa", "03", &hsm.rsa_server.key_pem);
        import(&hsm.dir, TOKEN, "client-rsa", "04", &hsm.rsa_client.key_pem);
        import(&hsm.dir, SPARE_TOKEN, "spare", "01", &p.server.key_pem);
        hsm
    })
}

impl SoftHsm {
    /// The URI of key `label` on the test token, its PIN in the PIN file.
    pub fn uri(&self, label: &str) -> String {
        format!(
            "pkcs11:token={TOKEN};object={label};type=private?module-path={MODULE}&pin-source=file:{}",
            self.pin_file.display()
        )
    }

    /// The certificate and token key URI of a server or client identity.
    pub fn identity(&self, server: bool, alg: KeyAlg) -> (&Issued, String) {
        let p = pki();
        match (server, alg) {
            (true, KeyAlg::Rsa2048) => (&self.rsa_server, self.uri("server-rsa")),
            (false, KeyAlg::Rsa2048) => (&self.rsa_client, self.uri("client-rsa")),
            (true, _) => (&p.server, self.uri("server-ec")),
            (false, _) => (&p.client, self.uri("client-ec")),
        }
    }
}
