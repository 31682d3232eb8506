//! Keys on a real PKCS#11 token (SoftHSM2, set up with `softhsm2-util` and
//! `pkcs11-tool`), through the C ABI: a `pkcs11:` URI as the key text, as
//! a key file's content in the three-file layout, or as the key path; both
//! roles, TLS 1.2 and 1.3, ECDSA P-256 and RSA-2048; a key generated on the
//! token with its certificate made by `openssl`; the token logging out under
//! siptls; many threads signing at once; and each failure at load with its
//! own code. OpenSSL's tools against token keys are in tests/interop.rs.

mod common;
use common::openssl_ca::{openssl, OpensslCa};
use common::softhsm::{self, softhsm, MODULE, PIN, SPARE_TOKEN, TOKEN};
use common::tempdir::TempDir;
use common::*;

fn token_ctx(role: siptls_role, server: bool, alg: KeyAlg) -> Ctx {
    let (identity, uri) = softhsm().identity(server, alg);
    let ctx = Ctx::new(role);
    assert_eq!(
        ctx.set_identity(&identity.cert_pem, &uri),
        SIPTLS_OK,
        "{}",
        last_error()
    );
    assert_eq!(
        ctx.trust(1, pki().root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    ctx
}

#[test]
fn both_sides_sign_on_the_token_over_tls12_and_tls13_ecdsa_and_rsa() {
    for alg in [KeyAlg::EcdsaP256, KeyAlg::Rsa2048] {
        let server = token_ctx(siptls_role::SIPTLS_ROLE_SERVER, true, alg);
        let client = token_ctx(siptls_role::SIPTLS_ROLE_CLIENT, false, alg);
        for version in [SIPTLS_TLS12, SIPTLS_TLS13] {
            only_version(&client, version);
            let (c, s) = (Sess::client(&client), Sess::server(&server));
            assert_handshake_ok(&c, &s);
            assert_eq!(c.info().protocol_version, version);
            assert_eq!(c.info().verify_status, SIPTLS_VERIFY_OK);
            assert_eq!(
                s.info().verify_status,
                SIPTLS_VERIFY_OK,
                "the client's token signed"
            );
        }
    }
}

#[test]
fn a_key_file_in_the_three_file_layout_may_name_a_token_key() {
    let hsm = softhsm();
    let dir = TempDir::new("pkcs11-dir");
    dir.write("publickey.pem", &pki().server.cert_pem);
    dir.write("CAList.pem", &pki().root.issued().cert_pem);
    dir.write(
        "privateKey.pem",
        format!(
            "# The TLS key stays on the token.\n\n{}\n",
            hsm.uri("server-ec")
        ),
    );
    let server = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let path = cstring(dir.0.to_str().unwrap());
    let mut added = 0;
    let r = unsafe {
        siptls_ctx_load_pem_dir(server.0, path.as_ptr(), std::ptr::null(), 1, &mut added)
    };
    assert_eq!(r, SIPTLS_OK, "{}", last_error());
    let client = Ctx::client();
    assert_handshake_ok(&Sess::client(&client), &Sess::server(&server));

    // The key path itself may be the URI.
    let cert = cstring(dir.0.join("publickey.pem").to_str().unwrap());
    let uri = cstring(&hsm.uri("server-rsa"));
    let rsa_cert = dir.write("rsa.pem", &hsm.rsa_server.cert_pem);
    let rsa_cert = cstring(rsa_cert.to_str().unwrap());
    let r = unsafe { siptls_ctx_load_identity_files(server.0, rsa_cert.as_ptr(), uri.as_ptr()) };
    assert_eq!(r, SIPTLS_OK, "{}", last_error());
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    // Unchanged files and URI: nothing to reload.
    let mut flags = 0;
    assert_eq!(
        unsafe { siptls_ctx_reload_if_changed(server.0, &mut flags) },
        SIPTLS_OK
    );
    assert_eq!(flags, 0);
    // The RSA key's URI as the key path of the ECDSA certificate.
    let r = unsafe { siptls_ctx_load_identity_files(server.0, cert.as_ptr(), uri.as_ptr()) };
    assert_eq!(
        r, SIPTLS_ERR_KEY_MISMATCH,
        "an RSA key for an ECDSA certificate"
    );
    // Two URI lines are refused, not one of them picked.
    dir.write(
        "privateKey.pem",
        format!("{}\n{}\n", hsm.uri("server-ec"), hsm.uri("server-rsa")),
    );
    let r = unsafe {
        siptls_ctx_load_pem_dir(server.0, path.as_ptr(), std::ptr::null(), 1, &mut added)
    };
    assert_eq!(r, SIPTLS_ERR_PKCS11_URI);
    assert!(last_error().contains("privateKey.pem"), "{}", last_error());
}

/// The load of `uri` for the server's ECDSA certificate, refused with `code`.
fn refused(uri: &str, code: siptls_result, words: &[&str]) {
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let r = ctx.set_identity(&pki().server.cert_pem, uri);
    let detail = last_error();
    assert_eq!(r, code, "{uri}: {detail}");
    assert_sentence(&detail);
    for word in words {
        assert!(detail.contains(word), "{uri}: {detail} lacks {word:?}");
    }
    assert!(
        !detail.contains(PIN),
        "the PIN is never in a detail: {detail}"
    );
}

#[test]
fn each_failure_at_load_has_its_own_code_and_says_what_to_change() {
    let hsm = softhsm();
    let spare = |pin: &str| {
        format!("pkcs11:token={SPARE_TOKEN};object=spare?module-path={MODULE}&pin-value={pin}")
    };
    // A wrong PIN on a token nobody logged in to, then the right one, then
    // a wrong one again while the token is logged in.
    refused(
        &spare("0000"),
        SIPTLS_ERR_PKCS11_LOGIN,
        &["CKR_PIN_INCORRECT", SPARE_TOKEN],
    );
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        ctx.set_identity(&pki().server.cert_pem, &spare(PIN)),
        SIPTLS_OK,
        "{}",
        last_error()
    );
    refused(&spare("0000"), SIPTLS_ERR_PKCS11_LOGIN, &["another PIN"]);
    let base = format!("pkcs11:token={TOKEN};object=server-ec");
    let pin_file = hsm.pin_file.display();
    refused(
        &format!("{base}?module-path={MODULE}"),
        SIPTLS_ERR_PKCS11_LOGIN,
        &["needs a PIN", "pin-source"],
    );
    refused(
        &format!("{base}?module-path={MODULE}&pin-source=/nonexistent/pin"),
        SIPTLS_ERR_PKCS11_LOGIN,
        &["/nonexistent/pin"],
    );
    refused(
        &format!("pkcs11:token={TOKEN};object=absent?module-path={MODULE}&pin-source={pin_file}"),
        SIPTLS_ERR_PKCS11_OBJECT,
        &["'absent'", "pkcs11-tool"],
    );
    refused(
        &format!("pkcs11:token=absent;object=server-ec?module-path={MODULE}&pin-source={pin_file}"),
        SIPTLS_ERR_PKCS11_TOKEN,
        &[TOKEN, SPARE_TOKEN],
    );
    // Both tokens hold a key with id 01: the URI must say which.
    refused(
        &format!("pkcs11:id=%01?module-path={MODULE}&pin-source={pin_file}"),
        SIPTLS_ERR_PKCS11_TOKEN,
        &["2 tokens", "token="],
    );
    refused(
        &format!("{base}?module-path=/usr/lib/absent-pkcs11.so&pin-source={pin_file}"),
        SIPTLS_ERR_PKCS11_MODULE,
        &["/usr/lib/absent-pkcs11.so", "module-path"],
    );
    // A file that is no PKCS#11 module.
    refused(
        &format!("{base}?module-path={pin_file}&pin-source={pin_file}"),
        SIPTLS_ERR_PKCS11_MODULE,
        &["cannot be loaded"],
    );
    // A key of another type than the certificate's, and a key of the same
    // type that is not the certificate's.
    refused(
        &hsm.uri("server-rsa"),
        SIPTLS_ERR_KEY_MISMATCH,
        &["RSA", "ECDSA P-256"],
    );
    refused(
        &hsm.uri("client-ec"),
        SIPTLS_ERR_KEY_MISMATCH,
        &["does not verify"],
    );
    refused(
        &format!("{base}?module-path={MODULE}&module-name=softhsm2"),
        SIPTLS_ERR_PKCS11_URI,
        &["module-path"],
    );
}

#[test]
fn a_token_that_logged_out_under_siptls_is_logged_in_again() {
    use cryptoki::context::{CInitializeArgs, Pkcs11};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;

    let server = token_ctx(siptls_role::SIPTLS_ROLE_SERVER, true, KeyAlg::EcdsaP256);
    let client = Ctx::client();
    assert_handshake_ok(&Sess::client(&client), &Sess::server(&server));
    // The same module, as another part of the gateway would use it: its
    // logout ends the login of every session of this process.
    let module = Pkcs11::new(MODULE).unwrap();
    let _ = module.initialize(CInitializeArgs::OsThreads);
    let slot = module
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| module.get_token_info(*s).unwrap().label() == TOKEN)
        .unwrap();
    let session = module.open_ro_session(slot).unwrap();
    let _ = session.login(UserType::User, Some(&AuthPin::new(PIN.into())));
    session.logout().unwrap();
    drop(session);
    // Dropping the handle would C_Finalize the module under siptls.
    std::mem::forget(module);
    // A new client, so the server signs again rather than resume.
    let client = Ctx::client();
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    assert_eq!(
        s.info().handshake_kind,
        siptls_handshake_kind::SIPTLS_HANDSHAKE_FULL
    );
}

#[test]
fn many_threads_sign_with_one_token_key_at_once() {
    let server = token_ctx(siptls_role::SIPTLS_ROLE_SERVER, true, KeyAlg::EcdsaP256);
    let client = Ctx::client();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..5 {
                    assert_handshake_ok(&Sess::client(&client), &Sess::server(&server));
                }
            });
        }
    });
}

/// `pkcs11-tool` (OpenSC) on the test token.
fn pkcs11_tool(args: &[&str]) {
    let mut all = vec!["--module", MODULE, "--token-label", TOKEN];
    all.extend(args);
    softhsm::run("pkcs11-tool", &all);
}

#[test]
fn a_key_generated_on_the_token_serves_a_certificate_openssl_made() {
    let hsm = softhsm();
    let pin_file = hsm.pin_file.to_str().unwrap();
    pkcs11_tool(&[
        "--login",
        "--pin",
        PIN,
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "generated",
        "--id",
        "99",
    ]);
    let dir = TempDir::new("pkcs11-generated");
    let public = dir.0.join("public.der");
    pkcs11_tool(&[
        "--read-object",
        "--type",
        "pubkey",
        "--label",
        "generated",
        "-o",
        public.to_str().unwrap(),
    ]);
    let ca = OpensslCa::root(&dir.0.join("ca"), "Token Test CA");
    openssl(
        &dir.0,
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            "public.der",
            "-out",
            "public.pem",
        ],
        &[],
    );
    dir.write(
        "ext.cnf",
        format!("subjectAltName = URI:sip:{SERVER_NAME},DNS:{SERVER_NAME}\nextendedKeyUsage = serverAuth\n"),
    );
    openssl(
        &dir.0,
        &[
            "x509",
            "-new",
            "-subj",
            &format!("/CN={SERVER_NAME}"),
            "-force_pubkey",
            "public.pem",
            "-CA",
            "ca/ca.pem",
            "-CAkey",
            "ca/ca.key",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-out",
            "generated.pem",
        ],
        &[],
    );
    let cert = std::fs::read_to_string(dir.0.join("generated.pem")).unwrap();
    let server = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let uri = format!(
        "pkcs11:token={TOKEN};object=generated?module-path={MODULE}&pin-source=file:{pin_file}"
    );
    assert_eq!(
        server.set_identity(&cert, &uri),
        SIPTLS_OK,
        "{}",
        last_error()
    );
    assert_eq!(
        unsafe {
            siptls_ctx_set_client_auth(server.0, siptls_client_auth::SIPTLS_CLIENT_AUTH_OFF as u32)
        },
        SIPTLS_OK
    );
    let client = Ctx::client();
    assert_eq!(client.trust(7, ca.cert_pem.as_bytes()), SIPTLS_OK);
    let (c, s) = (Sess::client(&client), Sess::server(&server));
    assert_handshake_ok(&c, &s);
    assert_eq!(c.info().trust_id, 7);
}
