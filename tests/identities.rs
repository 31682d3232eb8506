//! Several identities per context through the C ABI: a server choosing by
//! SNI (configured names, the certificate's own names, the default), a
//! client choosing the identity it presents and the SNI it sends, reports
//! of both, resumption per identity, and the inputs refused.

mod common;
use common::*;

use std::ptr::{null, null_mut};

use siptls_certgen::{Issued, LeafSpec};

const VOICE: &str = "sip.voice.example";
const OTHER: &str = "gw-other.example.test";
const VIRTUAL: &str = "virtual.example.org";

fn ok(ctx: &Ctx, code: siptls_result) {
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
}

fn add(ctx: &Ctx, id: u32, who: &Issued) -> siptls_result {
    let (c, k) = (&who.cert_pem, &who.key_pem);
    unsafe { siptls_ctx_add_identity_pem(ctx.0, id, c.as_ptr(), c.len(), k.as_ptr(), k.len()) }
}

fn names(ctx: &Ctx, id: u32, list: &[&str]) -> siptls_result {
    let owned: Vec<_> = list.iter().map(|n| cstring(n)).collect();
    let ptrs: Vec<_> = owned.iter().map(|n| n.as_ptr()).collect();
    unsafe { siptls_ctx_set_identity_names(ctx.0, id, ptrs.as_ptr(), ptrs.len()) }
}

fn session(ctx: &Ctx, peer: &str, sni: Option<&str>, identity: u32) -> Result<Sess, siptls_result> {
    let (peer, sni) = (cstring(peer), sni.map(cstring));
    let options = siptls_session_options {
        struct_size: std::mem::size_of::<siptls_session_options>() as u32,
        identity_id: identity,
        peer_name: peer.as_ptr(),
        sni: sni.as_ref().map_or(null(), |s| s.as_ptr()),
    };
    let mut s = null_mut();
    match unsafe { siptls_session_new_with_options(ctx.0, &options, &mut s) } {
        SIPTLS_OK => Ok(Sess(s)),
        code => {
            assert!(s.is_null());
            Err(code)
        }
    }
}

fn sni_of(s: &Sess) -> String {
    text(|b, c, l| unsafe { siptls_session_get_sni(s.0, b, c, l) })
}

/// A server with the default identity (gw-b), identity 1 for VOICE (its
/// certificate's name) and identity 2 for OTHER, also serving VIRTUAL.
fn farm_server() -> Ctx {
    let server = Ctx::server();
    let root = &pki().root;
    ok(&server, add(&server, 1, &root.leaf(&LeafSpec::sip(VOICE))));
    ok(&server, add(&server, 2, &root.leaf(&LeafSpec::sip(OTHER))));
    ok(&server, names(&server, 2, &[VIRTUAL]));
    server
}

/// Connects `c` to a new session of `server`; returns (identity served, SNI received).
fn served(c: Sess, server: &Ctx) -> (u32, String, Sess) {
    let s = Sess::server(server);
    assert_handshake_ok(&c, &s);
    let info = s.info();
    assert_eq!(info.sni_len as usize, sni_of(&s).len());
    (info.identity_id, sni_of(&s), c)
}

#[test]
fn a_server_picks_its_identity_by_sni_and_says_which() {
    let (client, server) = (Ctx::client(), farm_server());
    let seen = Recorder::attach(&client, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    // The certificate's own name.
    let (id, sni, _) = served(session(&client, VOICE, None, 0).unwrap(), &server);
    assert_eq!((id, sni.as_str()), (1, VOICE));
    assert!(seen.reports().pop().unwrap().identities.contains(VOICE));
    // A configured name, while the client checks the certificate's name.
    let (id, sni, _) = served(session(&client, OTHER, Some(VIRTUAL), 0).unwrap(), &server);
    assert_eq!((id, sni.as_str()), (2, VIRTUAL));
    assert_eq!(seen.reports().pop().unwrap().peer_name, OTHER);
    // No SNI (the override is an IP literal): the default.
    let (id, sni, _) = served(
        session(&client, SERVER_NAME, Some("127.0.0.1"), 0).unwrap(),
        &server,
    );
    assert_eq!((id, sni.as_str()), (SIPTLS_IDENTITY_DEFAULT, ""));
    // An SNI nobody serves: the default too.
    let (id, sni, _) = served(
        session(&client, SERVER_NAME, Some("nobody.example"), 0).unwrap(),
        &server,
    );
    assert_eq!((id, sni.as_str()), (0, "nobody.example"));
}

#[test]
fn without_a_default_identity_an_unknown_sni_is_refused() {
    let (client, server) = (Ctx::client(), farm_server());
    ok(&server, unsafe {
        siptls_ctx_remove_identity(server.0, SIPTLS_IDENTITY_DEFAULT)
    });
    let c = session(&client, SERVER_NAME, Some("nobody.example"), 0).unwrap();
    let s = Sess::server(&server);
    let result = pump(&c, &s);
    assert_ne!(result.server, SIPTLS_OK);
    assert!(s.info().failed);
    // The named ones still serve.
    let (id, _, _) = served(session(&client, VOICE, None, 0).unwrap(), &server);
    assert_eq!(id, 1);
}

#[test]
fn a_client_presents_the_identity_it_names_and_resumes_per_identity() {
    let (client, server) = (Ctx::client(), Ctx::server());
    let gw_c = pki().root.sip_leaf("gw-c.example.test");
    ok(&client, add(&client, 7, &gw_c));
    let seen = Recorder::attach(&server, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    for (identity, name) in [(7, "gw-c.example.test"), (0, CLIENT_NAME)] {
        let c = session(&client, SERVER_NAME, None, identity).unwrap();
        assert_eq!(c.info().identity_id, identity);
        let s = Sess::server(&server);
        assert_handshake_ok(&c, &s);
        let report = seen.reports().pop().unwrap();
        assert!(
            report.identities.contains(name) && !report.resumed,
            "{report:?}"
        );
    }
    // Each identity resumes its own session, never the other's.
    for (identity, name) in [(7, "gw-c.example.test"), (0, CLIENT_NAME)] {
        let c = session(&client, SERVER_NAME, None, identity).unwrap();
        let s = Sess::server(&server);
        assert_handshake_ok(&c, &s);
        let report = seen.reports().pop().unwrap();
        assert!(
            report.identities.contains(name) && report.resumed,
            "{report:?}"
        );
    }
    assert_eq!(
        session(&client, SERVER_NAME, None, 9).err(),
        Some(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert!(client
        .last_error()
        .contains("no identity has identity ID 9"));
}

#[test]
fn a_renewed_certificate_keeps_its_names_and_bad_inputs_change_nothing() {
    let server = farm_server();
    let root = &pki().root;
    // Renewing the default identity, and identity 2's names stay.
    ok(
        &server,
        server.set_identity(&pki().server.cert_pem, &pki().server.key_pem),
    );
    let client = Ctx::client();
    let (id, _, _) = served(session(&client, OTHER, Some(VIRTUAL), 0).unwrap(), &server);
    assert_eq!(id, 2);

    let generation = server.generation();
    let other = root.sip_leaf("x.example.test");
    assert_eq!(
        add(&server, 1, &other),
        SIPTLS_ERR_INVALID_ARGUMENT,
        "duplicate ID"
    );
    assert!(server.last_error().contains("identity ID 1 is in use"));
    let mismatched = Issued {
        key_pem: root.sip_leaf("y.example.test").key_pem,
        ..other.clone()
    };
    assert_eq!(add(&server, 5, &mismatched), SIPTLS_ERR_KEY_MISMATCH);
    assert_eq!(
        names(&server, 2, &["not a name"]),
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(server
        .last_error()
        .contains("'not a name' is not a valid DNS name"));
    assert_eq!(
        names(&server, 2, &["192.0.2.1"]),
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(names(&server, 42, &[VIRTUAL]), SIPTLS_ERR_INVALID_ARGUMENT);
    assert_eq!(
        unsafe { siptls_ctx_remove_identity(server.0, 42) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
    assert!(server
        .last_error()
        .contains("no identity has identity ID 42"));
    assert_eq!(server.generation(), generation, "nothing changed");
    // A server session takes no identity or SNI of its own.
    let mut s = null_mut();
    let options = siptls_session_options {
        struct_size: std::mem::size_of::<siptls_session_options>() as u32,
        identity_id: 0,
        peer_name: null(),
        sni: c"x.example".as_ptr(),
    };
    assert_eq!(
        unsafe { siptls_session_new_with_options(server.0, &options, &mut s) },
        SIPTLS_ERR_INVALID_ARGUMENT
    );
}

#[test]
fn a_peer_name_that_does_not_parse_is_refused_even_with_another_sni() {
    // Were it accepted, the certificate would be checked against the SNI
    // instead: a weaker check than the one asked for.
    let client = Ctx::client();
    for bad in [
        "gw.example.test:5061",
        "sip:gw.example.test",
        "",
        "a b.example",
    ] {
        for sni in ["127.0.0.1", VIRTUAL] {
            assert_eq!(
                session(&client, bad, Some(sni), 0).err(),
                Some(SIPTLS_ERR_INVALID_ARGUMENT),
                "peer name {bad:?}, SNI {sni}"
            );
            assert!(
                last_error().contains("neither a valid domain name nor an IP address"),
                "{}",
                last_error()
            );
        }
    }
    // The reverse, a good peer name with an SNI that does not parse, too.
    assert_eq!(
        session(&client, VOICE, Some("gw.example.test:5061"), 0).err(),
        Some(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    // And both good: accepted.
    assert!(session(&client, VOICE, Some("127.0.0.1"), 0).is_ok());
}

#[test]
fn a_context_holds_64_identities_and_refuses_a_65th() {
    let server = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    let who = &pki().server;
    for id in 0..SIPTLS_MAX_IDENTITIES as u32 {
        ok(&server, add(&server, id, who));
    }
    let generation = server.generation();
    assert_eq!(add(&server, 64, who), SIPTLS_ERR_INVALID_ARGUMENT);
    assert!(
        server.last_error().contains("at most 64 identities"),
        "{}",
        server.last_error()
    );
    assert_eq!(server.generation(), generation, "nothing changed");
    // Removing one makes room for exactly one.
    ok(&server, unsafe { siptls_ctx_remove_identity(server.0, 7) });
    ok(&server, add(&server, 64, who));
    assert_eq!(add(&server, 65, who), SIPTLS_ERR_INVALID_ARGUMENT);
}
