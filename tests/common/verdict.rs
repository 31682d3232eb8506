//! A client's verdict on a server: the status, trust ID and depth it
//! concluded, the reports its callback saw, and the alert the server got.

use super::*;
use siptls_certgen::chain_pem;

// TLS alert numbers (RFC 8446 section 6).
pub const BAD_CERTIFICATE: i32 = 42;
pub const UNSUPPORTED_CERTIFICATE: i32 = 43;
pub const CERTIFICATE_REVOKED: i32 = 44;
pub const CERTIFICATE_EXPIRED: i32 = 45;
pub const CERTIFICATE_UNKNOWN: i32 = 46;
pub const UNKNOWN_CA: i32 = 48;
pub const ACCESS_DENIED: i32 = 49;
pub const DECRYPT_ERROR: i32 = 51;

/// What a client concluded about a server, and what the server was told.
#[derive(Debug)]
pub struct Verdict {
    pub status: siptls_verify_status,
    pub checked: siptls_verify_status,
    pub trust_id: u32,
    pub depth: u32,
    pub alert_at_server: i32,
    pub detail: String,
    pub reports: Vec<SeenReport>,
}

/// A server presenting `cert_pem`/`key_pem` (trusting the test root so that
/// the standard client is accepted) and a client prepared by `setup` that
/// connects to `peer_name`.
pub fn connect(
    cert_pem: &str,
    key_pem: &str,
    peer_name: &str,
    setup: impl FnOnce(&Ctx),
) -> Verdict {
    let p = pki();
    let sctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        sctx.set_identity(cert_pem, key_pem),
        SIPTLS_OK,
        "{}",
        sctx.last_error()
    );
    assert_eq!(
        sctx.trust(1, p.root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    let cctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    assert_eq!(
        cctx.set_identity(&p.client.cert_pem, &p.client.key_pem),
        SIPTLS_OK
    );
    let recorder = Recorder::attach(&cctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    setup(&cctx);
    let client = Sess::new(&cctx, Some(peer_name)).expect("client session");
    let server = Sess::server(&sctx);
    pump(&client, &server);
    let info = client.info();
    assert!(
        info.verified,
        "no verification happened: {}",
        client.last_error()
    );
    Verdict {
        status: info.verify_status,
        checked: info.verify_checked,
        trust_id: info.trust_id,
        depth: info.depth,
        alert_at_server: server.info().alert_received,
        detail: client.last_error(),
        reports: recorder.reports(),
    }
}

pub fn trust_root(root: &Authority, id: u32) -> impl FnOnce(&Ctx) + '_ {
    move |ctx| {
        assert_eq!(
            ctx.trust(id, root.issued().cert_pem.as_bytes()),
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        )
    }
}

pub fn assert_ok(v: &Verdict, trust_id: u32, depth: u32) {
    assert_eq!(
        (v.status, v.trust_id, v.depth),
        (SIPTLS_VERIFY_OK, trust_id, depth),
        "{}",
        v.detail
    );
    assert_eq!(v.alert_at_server, -1);
    assert_eq!(v.reports.len(), 1);
    assert_eq!(
        (
            v.reports[0].status,
            v.reports[0].trust_id,
            v.reports[0].depth
        ),
        (SIPTLS_VERIFY_OK, trust_id, depth)
    );
}

pub fn assert_refused(v: &Verdict, status: siptls_verify_status, alert: i32) {
    assert_eq!(v.status, status, "{}", v.detail);
    assert_eq!(
        v.alert_at_server, alert,
        "alert seen by the server for {status:?}"
    );
    assert_eq!(v.reports.len(), 1);
    assert_eq!(v.reports[0].status, status);
}

/// A server identity issued through `intermediates` CAs below `root`,
/// presented with its chain.
pub fn chained_server(root: &Authority, intermediates: usize) -> (String, String) {
    let mut cas = vec![];
    for i in 0..intermediates {
        let next = cas
            .last()
            .unwrap_or(root)
            .intermediate(&format!("Intermediate {}", i + 1));
        cas.push(next);
    }
    let issuer = cas.last().unwrap_or(root);
    let leaf = issuer.sip_leaf(SERVER_NAME);
    let mut chain = vec![&leaf];
    chain.extend(cas.iter().rev().map(|ca| ca.issued()));
    (chain_pem(&chain), leaf.key_pem.clone())
}
