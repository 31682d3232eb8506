//! Connection keys for a pool of outbound connections (RFC 5923 reuse):
//! the key a context gives a connection it would open equals the key of a
//! session's connection exactly when destination, SNI, peer name and client
//! certificate are all the same; a session has a key only once the server
//! was accepted; the encoding is pinned by a digest made with openssl.

mod common;
use common::*;

use std::ffi::CString;
use std::io::Write;
use std::process::{Command, Stdio};
use std::ptr::{self, null};

const KEY_SIZE: u32 = std::mem::size_of::<siptls_connection_key>() as u32;

fn empty_key() -> siptls_connection_key {
    siptls_connection_key {
        struct_size: KEY_SIZE,
        bytes: [0x55; 32],
    }
}

/// What `siptls_session_options` holds, as owned strings.
#[derive(Clone, Default)]
struct Opts {
    peer_name: Option<&'static str>,
    sni: Option<&'static str>,
    identity: u32,
}

impl Opts {
    fn to(peer_name: &'static str) -> Opts {
        Opts {
            peer_name: Some(peer_name),
            ..Opts::default()
        }
    }

    /// Calls `f` with the C struct, its strings alive for the call.
    fn with<T>(&self, f: impl FnOnce(&siptls_session_options) -> T) -> T {
        let peer = self.peer_name.map(cstring);
        let sni = self.sni.map(cstring);
        let c = siptls_session_options {
            struct_size: std::mem::size_of::<siptls_session_options>() as u32,
            identity_id: self.identity,
            peer_name: peer.as_ref().map_or(null(), |s| s.as_ptr()),
            sni: sni.as_ref().map_or(null(), |s| s.as_ptr()),
        };
        f(&c)
    }
}

fn planned(ctx: &Ctx, opts: &Opts, destination: &str) -> Result<[u8; 32], siptls_result> {
    let dest = CString::new(destination).unwrap();
    let mut key = empty_key();
    let code =
        opts.with(|o| unsafe { siptls_ctx_get_connection_key(ctx.0, o, dest.as_ptr(), &mut key) });
    match code {
        SIPTLS_OK => Ok(key.bytes),
        other => {
            assert_eq!(key.bytes, [0; 32], "a refused key is left zeroed");
            Err(other)
        }
    }
}

fn session_key(session: &Sess, destination: &str) -> Result<[u8; 32], siptls_result> {
    let dest = CString::new(destination).unwrap();
    let mut key = empty_key();
    match unsafe { siptls_session_get_connection_key(session.0, dest.as_ptr(), &mut key) } {
        SIPTLS_OK => Ok(key.bytes),
        other => {
            assert_eq!(key.bytes, [0; 32], "a refused key is left zeroed");
            Err(other)
        }
    }
}

fn session_with(ctx: &Ctx, opts: &Opts) -> Sess {
    let mut session = ptr::null_mut();
    let code = opts.with(|o| unsafe { siptls_session_new_with_options(ctx.0, o, &mut session) });
    assert_eq!(code, SIPTLS_OK, "{}", ctx.last_error());
    Sess(session)
}

/// A client session made with `opts`, its handshake done with the test server.
fn connected(client: &Ctx, opts: &Opts) -> Sess {
    let server = Ctx::server();
    let session = session_with(client, opts);
    let peer = Sess::server(&server);
    assert_handshake_ok(&session, &peer);
    session
}

#[test]
fn a_pooled_connection_matches_only_its_destination_sni_peer_name_and_identity() {
    let client = Ctx::client();
    let opts = Opts::to(SERVER_NAME);
    let dest = "127.0.0.1:5061";
    let session = connected(&client, &opts);
    let key = session_key(&session, dest).expect("a key once the server is accepted");

    // What the context would open now is this connection.
    assert_eq!(planned(&client, &opts, dest), Ok(key));
    // The same address written as IPv4-mapped IPv6, the name in capitals.
    assert_eq!(planned(&client, &opts, "[::ffff:127.0.0.1]:5061"), Ok(key));
    assert_eq!(
        planned(&client, &Opts::to("GW-B.Example.Test"), dest),
        Ok(key)
    );
    // Another context with the same identity computes the same key.
    assert_eq!(planned(&Ctx::client(), &opts, dest), Ok(key));

    // Any one part different: another connection.
    let others = [
        planned(&client, &opts, "127.0.0.1:5062"),
        planned(&client, &opts, "127.0.0.2:5061"),
        planned(&client, &Opts::to("other.example.test"), dest),
        planned(
            &client,
            &Opts {
                sni: Some("edge.example.test"),
                ..opts.clone()
            },
            dest,
        ),
        planned(&Ctx::anonymous_client(), &opts, dest),
    ];
    for (i, other) in others.iter().enumerate() {
        assert_ne!(other.expect("a key"), key, "case {i}");
    }

    // A new client certificate: new connections present it, so the old
    // connection no longer matches; it keeps the key it was made with.
    let p = pki();
    let renewed = p.root.sip_leaf(CLIENT_NAME);
    assert_eq!(
        client.set_identity(&renewed.cert_pem, &renewed.key_pem),
        SIPTLS_OK
    );
    assert_ne!(planned(&client, &opts, dest).unwrap(), key);
    assert_eq!(session_key(&session, dest), Ok(key));
    let renewed_session = connected(&client, &opts);
    assert_eq!(
        session_key(&renewed_session, dest),
        planned(&client, &opts, dest)
    );
}

#[test]
fn an_ip_literal_peer_and_an_explicit_sni_each_key_what_was_sent() {
    let client = Ctx::client();
    let dest = "[::1]:5061";
    // Dialled by address: no SNI goes out; the certificate names 127.0.0.1.
    let by_ip = Opts::to("127.0.0.1");
    let session = connected(&client, &by_ip);
    assert_eq!(session_key(&session, dest), planned(&client, &by_ip, dest));
    // The domain as SNI while checking the address: a different connection.
    let with_sni = Opts {
        sni: Some(SERVER_NAME),
        ..by_ip.clone()
    };
    let session = connected(&client, &with_sni);
    let key = session_key(&session, dest).unwrap();
    assert_eq!(planned(&client, &with_sni, dest), Ok(key));
    assert_ne!(planned(&client, &by_ip, dest), Ok(key));
}

#[test]
fn a_session_has_no_key_until_the_server_is_accepted() {
    let client = Ctx::client();
    let server = Ctx::server();
    let dest = "192.0.2.7:5061";

    let session = Sess::client(&client);
    assert_eq!(session_key(&session, dest), Err(SIPTLS_ERR_WRONG_STATE));
    assert_sentence(&session.last_error());
    assert!(session.last_error().contains("accepted"));

    // The server's certificate does not name the peer: refused, no key.
    let wrong = session_with(&client, &Opts::to("other.example.test"));
    let peer = Sess::server(&server);
    pump(&wrong, &peer);
    assert!(wrong.info().failed);
    assert_eq!(session_key(&wrong, dest), Err(SIPTLS_ERR_WRONG_STATE));

    // A server neither pools nor plans outbound connections.
    let client_side = Sess::client(&client);
    let server_side = Sess::server(&server);
    assert_handshake_ok(&client_side, &server_side);
    assert_eq!(
        session_key(&server_side, dest),
        Err(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert_eq!(
        planned(&server, &Opts::to(SERVER_NAME), dest),
        Err(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert!(server.last_error().contains("client contexts"));
    // The connected session still gives its key after close.
    assert_eq!(client_side.close(), SIPTLS_OK);
    assert!(session_key(&client_side, dest).is_ok());
}

#[test]
fn refusals_name_what_is_wrong_and_leave_the_key_zeroed() {
    let client = Ctx::client();
    let opts = Opts::to(SERVER_NAME);
    for bad in ["gw-b.example.test:5061", "192.0.2.7", "", "[2001:db8::7]"] {
        assert_eq!(
            planned(&client, &opts, bad),
            Err(SIPTLS_ERR_INVALID_ARGUMENT),
            "{bad}"
        );
        let detail = client.last_error();
        assert_sentence(&detail);
        assert!(detail.contains("192.0.2.7:5061"), "{detail}");
    }
    assert_eq!(
        planned(&client, &Opts::default(), "192.0.2.7:5061"),
        Err(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert!(client.last_error().contains("needs the peer's SIP domain"));
    // A name no session would take.
    assert_eq!(
        planned(&client, &Opts::to("not a host name"), "192.0.2.7:5061"),
        Err(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert_eq!(
        planned(
            &client,
            &Opts {
                identity: 7,
                ..opts.clone()
            },
            "192.0.2.7:5061"
        ),
        Err(SIPTLS_ERR_INVALID_ARGUMENT)
    );
    assert!(client.last_error().contains("identity ID 7"));

    // A key is written whole: a struct_size one byte short is refused, the
    // bytes it declares are zeroed, and the byte past it is not touched.
    let dest = cstring("192.0.2.7:5061");
    let mut short = siptls_connection_key {
        struct_size: KEY_SIZE - 1,
        bytes: [0x55; 32],
    };
    let code = opts
        .with(|o| unsafe { siptls_ctx_get_connection_key(client.0, o, dest.as_ptr(), &mut short) });
    assert_eq!(code, SIPTLS_ERR_INVALID_ARGUMENT);
    assert!(client.last_error().contains("written whole"));
    assert!(short.bytes[..31].iter().all(|&b| b == 0));
    assert_eq!(short.bytes[31], 0x55, "past the declared size");
}

/// SHA-256 of `data`, by openssl.
fn openssl_sha256(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// The documented encoding (docs/connection-pools.md), hashed by openssl,
/// is the key: a gateway farm running different builds agrees on it.
#[test]
fn the_key_is_the_documented_digest() {
    let client = Ctx::client();
    let mut preimage = Vec::new();
    let mut field = |bytes: &[u8]| {
        preimage.extend((bytes.len() as u32).to_be_bytes());
        preimage.extend(bytes);
    };
    field(b"siptls connection key 1");
    field(b"192.0.2.7:5061");
    field(SERVER_NAME.as_bytes());
    field(&[1]);
    field(SERVER_NAME.as_bytes());
    field(&openssl_sha256(&pki().client.cert_der));
    let expected = openssl_sha256(&preimage);
    let key = planned(&client, &Opts::to(SERVER_NAME), "192.0.2.7:5061").unwrap();
    assert_eq!(key.to_vec(), expected);
}
