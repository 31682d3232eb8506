//! The life cycle of the trust configuration through the C ABI: revocation
//! that fails closed and refreshes, trust entries classified as anchors or
//! pins, atomic reloads with a generation number, and verify callbacks that
//! know their session. Certificates and CRLs come from siptls-certgen and
//! from the `openssl` command line.

mod common;
use common::openssl_ca::{CrlExtensions, OpensslCa};
use common::tempdir::TempDir;
use common::verdict::*;
use common::*;

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};

use siptls_certgen::{chain_pem, self_signed, Crl};

fn add_crl_text(ctx: &Ctx, crl: &str) -> siptls_result {
    let mut added = 0;
    unsafe { siptls_ctx_add_crl(ctx.0, crl.as_ptr(), crl.len(), &mut added) }
}

fn add_crl(ctx: &Ctx, crl: &Crl) -> siptls_result {
    add_crl_text(ctx, &crl.pem)
}

fn must_add_crl(ctx: &Ctx, crl: &str) {
    assert_eq!(add_crl_text(ctx, crl), SIPTLS_OK, "{}", ctx.last_error());
}

fn crls(ctx: &Ctx) -> Vec<siptls_crl_info> {
    let mut count = 0;
    assert_eq!(
        unsafe { siptls_ctx_count_crls(ctx.0, &mut count) },
        SIPTLS_OK
    );
    (0..count)
        .map(|i| {
            let mut info: siptls_crl_info = unsafe { std::mem::zeroed() };
            info.struct_size = std::mem::size_of::<siptls_crl_info>() as u32;
            assert_eq!(
                unsafe { siptls_ctx_get_crl(ctx.0, i, &mut info) },
                SIPTLS_OK
            );
            info
        })
        .collect()
}

fn chars(text: &[std::ffi::c_char]) -> String {
    unsafe { CStr::from_ptr(text.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn trust_entry(ctx: &Ctx, id: u32) -> siptls_trust_entry_info {
    let mut info: siptls_trust_entry_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<siptls_trust_entry_info>() as u32;
    assert_eq!(
        unsafe { siptls_ctx_get_trust(ctx.0, id, &mut info) },
        SIPTLS_OK,
        "{}",
        ctx.last_error()
    );
    info
}

fn deny_missing(ctx: &Ctx) {
    let deny = siptls_missing_crl::SIPTLS_MISSING_CRL_DENY as u32;
    assert_eq!(
        unsafe { siptls_ctx_set_missing_crl_policy(ctx.0, deny) },
        SIPTLS_OK
    );
}

fn expired_is_missing(ctx: &Ctx) {
    let missing = siptls_expired_crl::SIPTLS_EXPIRED_CRL_MISSING as u32;
    assert_eq!(
        unsafe { siptls_ctx_set_expired_crl_policy(ctx.0, missing) },
        SIPTLS_OK
    );
}

/// The gateway clock, `*userdata` seconds after the real one.
unsafe extern "C" fn clock_ahead(userdata: *mut c_void, seconds_out: *mut u64) -> bool {
    let ahead = unsafe { *(userdata as *const u64) };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    unsafe { *seconds_out = now + ahead };
    true
}

static THIRTY_DAYS: u64 = 30 * 24 * 3600;

fn clock_thirty_days_ahead(ctx: &Ctx) {
    let ahead = &THIRTY_DAYS as *const u64 as *mut c_void;
    assert_eq!(
        unsafe { siptls_ctx_set_time_callback(ctx.0, Some(clock_ahead), ahead) },
        SIPTLS_OK
    );
}

/// A server certificate under the test root with a known serial.
fn server_with_serial(serial: u64) -> Issued {
    pki().root.leaf(&LeafSpec {
        serial: Some(serial),
        ..LeafSpec::sip(SERVER_NAME)
    })
}

/// A server issued by an intermediate of the test root, with its chain.
struct Chained {
    intermediate: Authority,
    leaf: Issued,
}

impl Chained {
    fn new(serial: u64) -> Chained {
        let intermediate = pki().root.intermediate("Lifecycle Issuing CA");
        let leaf = intermediate.leaf(&LeafSpec {
            serial: Some(serial),
            ..LeafSpec::sip(SERVER_NAME)
        });
        Chained { intermediate, leaf }
    }

    fn connect(&self, setup: impl FnOnce(&Ctx)) -> Verdict {
        let chain = chain_pem(&[&self.leaf, self.intermediate.issued()]);
        connect(&chain, &self.leaf.key_pem, SERVER_NAME, |ctx| {
            trust_root(&pki().root, 1)(ctx);
            setup(ctx)
        })
    }
}

// ---------------------------------------------------------------------------
// 1. Revocation that fails closed.

#[test]
fn deny_without_any_crl_loaded_refuses_every_chain() {
    let p = pki();
    let v = connect(&p.server.cert_pem, &p.server.key_pem, SERVER_NAME, |ctx| {
        trust_root(&p.root, 1)(ctx);
        deny_missing(ctx);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOCATION_UNKNOWN, UNKNOWN_CA);
    assert!(v.detail.contains("no CRL is loaded"), "{}", v.detail);
    // The same chain with the default policy: CRLs are not required.
    let v = connect(
        &p.server.cert_pem,
        &p.server.key_pem,
        SERVER_NAME,
        trust_root(&p.root, 1),
    );
    assert_ok(&v, 1, 1);
}

#[test]
fn deny_needs_the_leaf_and_every_intermediate_covered_but_not_the_anchor() {
    let chained = Chained::new(0x1001);
    let root_crl = pki().root.crl(&[], 1);
    let intermediate_crl = chained.intermediate.crl(&[], 1);
    // Only the root's CRL: the intermediate is covered, the leaf is not.
    let v = chained.connect(|ctx| {
        assert_eq!(add_crl(ctx, &root_crl), SIPTLS_OK);
        deny_missing(ctx);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOCATION_UNKNOWN, UNKNOWN_CA);
    // Only the intermediate's: the leaf is covered, the intermediate is not.
    let v = chained.connect(|ctx| {
        assert_eq!(add_crl(ctx, &intermediate_crl), SIPTLS_OK);
        deny_missing(ctx);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOCATION_UNKNOWN, UNKNOWN_CA);
    // Both: nothing covers the root itself, and nothing needs to.
    let v = chained.connect(|ctx| {
        assert_eq!(add_crl(ctx, &root_crl), SIPTLS_OK);
        assert_eq!(add_crl(ctx, &intermediate_crl), SIPTLS_OK);
        deny_missing(ctx);
    });
    assert_ok(&v, 1, 2);
}

#[test]
fn a_pin_needs_no_crl_even_under_deny() {
    let p = pki();
    let v = connect(&p.server.cert_pem, &p.server.key_pem, SERVER_NAME, |ctx| {
        assert_eq!(ctx.trust(7, p.server.cert_pem.as_bytes()), SIPTLS_OK);
        deny_missing(ctx);
    });
    assert_ok(&v, 7, 0);
}

#[test]
fn a_crl_past_its_next_update_is_used_unless_it_counts_as_missing() {
    let serial = 0x1002;
    let server = server_with_serial(serial);
    let quiet = pki().root.crl(&[], 1);
    let revoking = pki().root.crl(&[serial], 2);
    let with = |crl: &Crl, setup: fn(&Ctx)| {
        connect(&server.cert_pem, &server.key_pem, SERVER_NAME, |ctx| {
            trust_root(&pki().root, 1)(ctx);
            // Thirty days on, the CRLs (next update in seven) are stale.
            clock_thirty_days_ahead(ctx);
            assert_eq!(add_crl(ctx, crl), SIPTLS_OK);
            setup(ctx);
        })
    };
    // Default: the stale CRL still counts, both ways.
    assert_ok(&with(&quiet, deny_missing), 1, 1);
    assert_refused(&with(&revoking, |_| {}), SIPTLS_VERIFY_REVOKED, 44);
    // Counted as missing: under "deny" it no longer vouches for anyone...
    let expired_and_deny = |ctx: &Ctx| {
        expired_is_missing(ctx);
        deny_missing(ctx);
    };
    let v = with(&quiet, expired_and_deny);
    assert_refused(&v, SIPTLS_VERIFY_REVOCATION_UNKNOWN, UNKNOWN_CA);
    assert!(v.detail.contains("was due for renewal"), "{}", v.detail);
    // A stale CRL revoking the peer: refused too, reported as the missing
    // CRL it counts as (webpki checks a CRL's date before its entries).
    assert_refused(
        &with(&revoking, expired_and_deny),
        SIPTLS_VERIFY_REVOCATION_UNKNOWN,
        UNKNOWN_CA,
    );
    // ...but what it revokes stays revoked, whatever the missing-CRL policy.
    assert_refused(
        &with(&revoking, expired_is_missing),
        SIPTLS_VERIFY_REVOKED,
        44,
    );
    assert_ok(&with(&quiet, expired_is_missing), 1, 1);
}

// ---------------------------------------------------------------------------
// 2. One current CRL per issuer.

#[test]
fn a_newer_crl_replaces_the_loaded_one_and_an_older_one_is_refused() {
    let serial = 0x1003;
    let server = server_with_serial(serial);
    let ctx = Ctx::client();
    let verdict = |ctx: &Ctx| {
        let sctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_SERVER, &server, &pki().root);
        let (c, s) = (Sess::client(ctx), Sess::server(&sctx));
        pump(&c, &s);
        c.info().verify_status
    };
    assert_eq!(add_crl(&ctx, &pki().root.crl(&[], 1)), SIPTLS_OK);
    assert_eq!(verdict(&ctx), SIPTLS_VERIFY_OK);
    // The refresh revokes the server: loaded, and in charge.
    assert_eq!(add_crl(&ctx, &pki().root.crl(&[serial], 2)), SIPTLS_OK);
    assert_eq!(verdict(&ctx), SIPTLS_VERIFY_REVOKED);
    // Loading yesterday's file again changes nothing.
    assert_eq!(
        add_crl(&ctx, &pki().root.crl(&[], 1)),
        SIPTLS_ERR_CRL_NOT_NEWER
    );
    let detail = ctx.last_error();
    assert!(
        detail.contains("CRL number 1") && detail.contains("(CRL number 2)"),
        "{detail}"
    );
    assert_eq!(verdict(&ctx), SIPTLS_VERIFY_REVOKED);
    let listed = crls(&ctx);
    assert_eq!(listed.len(), 1, "one CRL per issuer");
    let crl = &listed[0];
    assert_eq!(chars(&crl.crl_number), "2");
    assert_eq!(crl.revoked_count, 1);
    assert_eq!(crl.checked_by_trust_id, 1);
    assert_eq!(crl.partitioned, 0);
    assert_eq!(chars(&crl.issuer), "CN=siptls Test Root CA");
    assert!(crl.this_update < crl.next_update);
    assert_eq!(
        crl.struct_size as usize,
        std::mem::size_of::<siptls_crl_info>()
    );
    // A later CRL that lifts the revocation is in charge too.
    assert_eq!(add_crl(&ctx, &pki().root.crl(&[], 3)), SIPTLS_OK);
    assert_eq!(verdict(&ctx), SIPTLS_VERIFY_OK);
}

#[test]
fn crls_can_be_listed_removed_by_issuer_and_cleared() {
    let chained = Chained::new(0x1004);
    let ctx = Ctx::client();
    assert_eq!(add_crl(&ctx, &pki().root.crl(&[], 1)), SIPTLS_OK);
    assert_eq!(add_crl(&ctx, &chained.intermediate.crl(&[], 1)), SIPTLS_OK);
    let listed = crls(&ctx);
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[1].checked_by_trust_id, SIPTLS_TRUST_ID_NONE,
        "an intermediate's CRL is checked at use"
    );
    assert_eq!(chars(&listed[1].issuer), "CN=Lifecycle Issuing CA");
    assert_eq!(
        unsafe { siptls_ctx_remove_crl(ctx.0, c"CN=Lifecycle Issuing CA".as_ptr()) },
        SIPTLS_OK
    );
    assert_eq!(crls(&ctx).len(), 1);
    assert_eq!(unsafe { siptls_ctx_clear_crls(ctx.0) }, SIPTLS_OK);
    assert!(crls(&ctx).is_empty());
    // Clearing an empty list is fine too.
    assert_eq!(unsafe { siptls_ctx_clear_crls(ctx.0) }, SIPTLS_OK);
}

#[test]
fn removing_a_trust_entry_keeps_its_crl_checked_at_use() {
    // The issuing CA is a trust entry too (ID 2), and its CRL revokes the server.
    let serial = 0x1005;
    let chained = Chained::new(serial);
    let v = chained.connect(|ctx| {
        let issuing = chained.intermediate.issued().cert_pem.as_bytes();
        assert_eq!(ctx.trust(2, issuing), SIPTLS_OK);
        assert_eq!(
            add_crl(ctx, &chained.intermediate.crl(&[serial], 1)),
            SIPTLS_OK
        );
        assert_eq!(crls(ctx)[0].checked_by_trust_id, 2);
        // Dropping the entry must not drop the revocation: the CA still
        // issues the chain, as an intermediate under the root.
        assert_eq!(unsafe { siptls_ctx_remove_trust(ctx.0, 2) }, SIPTLS_OK);
        let left = crls(ctx);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].checked_by_trust_id, SIPTLS_TRUST_ID_NONE);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
}

#[test]
fn a_partitioned_ca_has_one_current_crl_per_partition() {
    let serial = 0x100A;
    let server = server_with_serial(serial);
    let v = connect(&server.cert_pem, &server.key_pem, SERVER_NAME, |ctx| {
        trust_root(&pki().root, 1)(ctx);
        let users = pki().root.partitioned_crl(&[serial], 10, false);
        let cas = pki().root.partitioned_crl(&[], 11, true);
        assert_eq!(add_crl(ctx, &users), SIPTLS_OK, "{}", ctx.last_error());
        assert_eq!(add_crl(ctx, &cas), SIPTLS_OK, "{}", ctx.last_error());
        assert_eq!(
            crls(ctx).len(),
            2,
            "the CA partition does not replace the user one"
        );
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
}

#[test]
fn a_file_of_several_crls_refreshes_the_ones_that_changed() {
    let serial = 0x100B;
    let chained = Chained::new(serial);
    let root_crl = pki().root.crl(&[], 1).pem;
    let before = chained.intermediate.crl(&[], 1).pem;
    let after = chained.intermediate.crl(&[serial], 2).pem;
    let v = chained.connect(|ctx| {
        let mut added = 0;
        let load = |text: &str, added: &mut usize| unsafe {
            siptls_ctx_add_crl(ctx.0, text.as_ptr(), text.len(), added)
        };
        assert_eq!(load(&format!("{root_crl}{before}"), &mut added), SIPTLS_OK);
        assert_eq!(added, 2);
        // The same file again: nothing new.
        assert_eq!(
            load(&format!("{root_crl}{before}"), &mut added),
            SIPTLS_ERR_CRL_NOT_NEWER
        );
        assert!(
            ctx.last_error().contains("that very CRL"),
            "{}",
            ctx.last_error()
        );
        // Tomorrow's file: the root's CRL unchanged, the intermediate's new.
        assert_eq!(load(&format!("{root_crl}{after}"), &mut added), SIPTLS_OK);
        assert_eq!(added, 1, "only the changed CRL counts");
        // A file with an older CRL in it is refused whole.
        assert_eq!(
            load(&format!("{root_crl}{before}"), &mut added),
            SIPTLS_ERR_CRL_NOT_NEWER
        );
        assert_eq!(added, 0);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
}

// ---------------------------------------------------------------------------
// 3. CRLs from intermediates.

#[test]
fn an_intermediate_crl_revokes_what_that_intermediate_issued() {
    let serial = 0x1006;
    let chained = Chained::new(serial);
    let v = chained.connect(|ctx| {
        assert_eq!(
            add_crl(ctx, &chained.intermediate.crl(&[serial], 1)),
            SIPTLS_OK
        );
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
}

#[test]
fn a_forged_intermediate_crl_fails_the_verification_with_its_own_status() {
    let chained = Chained::new(0x1007);
    // Same name as the real intermediate, another key.
    let impostor = pki().root.intermediate("Lifecycle Issuing CA");
    let v = chained.connect(|ctx| {
        assert_eq!(add_crl(ctx, &impostor.crl(&[], 1)), SIPTLS_OK);
    });
    assert_refused(&v, SIPTLS_VERIFY_CRL_INVALID, CERTIFICATE_UNKNOWN);
    assert!(
        v.detail.contains("does not verify with its issuer's key"),
        "{}",
        v.detail
    );
    let name = unsafe { CStr::from_ptr(siptls_verify_status_str(17)) };
    assert_eq!(name.to_str().unwrap(), "CRL_INVALID");
}

// ---------------------------------------------------------------------------
// 4. Trust entries that cannot mint.

#[test]
fn a_ca_issued_leaf_in_the_trust_table_is_a_pin() {
    let root = Authority::root("Pin Issuing CA");
    let rogue = root.rogue_leaf(&LeafSpec::sip(SERVER_NAME));
    let pinned = rogue.issued().clone();
    let trust_leaf = |ctx: &Ctx| {
        assert_eq!(
            ctx.trust(9, pinned.cert_pem.as_bytes()),
            SIPTLS_OK,
            "{}",
            ctx.last_error()
        );
    };
    // The operator's intent: that exact certificate is trusted.
    let v = connect(&pinned.cert_pem, &pinned.key_pem, SERVER_NAME, trust_leaf);
    assert_ok(&v, 9, 0);
    // A certificate signed with the pinned leaf's key is not: alone, it has
    // no anchor; with the pinned leaf as its "CA", that leaf is no CA.
    let minted = rogue.sip_leaf(SERVER_NAME);
    let v = connect(&minted.cert_pem, &minted.key_pem, SERVER_NAME, trust_leaf);
    assert_refused(&v, SIPTLS_VERIFY_UNKNOWN_CA, UNKNOWN_CA);
    let chain = chain_pem(&[&minted, &pinned]);
    let v = connect(&chain, &minted.key_pem, SERVER_NAME, trust_leaf);
    assert_refused(&v, SIPTLS_VERIFY_WRONG_KEY_USAGE, UNSUPPORTED_CERTIFICATE);
    // The listing says which is which.
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    trust_leaf(&ctx);
    assert_eq!(ctx.trust(1, root.issued().cert_pem.as_bytes()), SIPTLS_OK);
    assert_eq!(
        unsafe { siptls_ctx_set_trust_sip_domain(ctx.0, 1, c"example.test".as_ptr()) },
        SIPTLS_OK
    );
    let anchor = trust_entry(&ctx, 1);
    assert_eq!(
        (anchor.trust_id, anchor.kind),
        (1, SIPTLS_TRUST_KIND_ANCHOR)
    );
    assert_eq!(chars(&anchor.subject), "CN=Pin Issuing CA");
    assert_eq!(chars(&anchor.sip_domain), "example.test");
    let pin = trust_entry(&ctx, 9);
    assert_eq!((pin.trust_id, pin.kind), (9, SIPTLS_TRUST_KIND_PIN));
    assert_eq!(chars(&pin.subject), format!("CN={SERVER_NAME}"));
    assert_eq!(chars(&pin.sip_domain), "");
    // LeafSpec's validity: from a day ago for a year.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (pin.not_before - (now - 86_400)).abs() < 600,
        "{}",
        pin.not_before
    );
    assert!(
        (pin.not_after - (now + 365 * 86_400)).abs() < 600,
        "{}",
        pin.not_after
    );
}

#[test]
fn a_pin_still_enforces_validity_and_purpose() {
    let expired = self_signed(&LeafSpec {
        not_after: time::OffsetDateTime::now_utc() - time::Duration::days(1),
        not_before: time::OffsetDateTime::now_utc() - time::Duration::days(30),
        ..LeafSpec::sip(SERVER_NAME)
    });
    let v = connect(&expired.cert_pem, &expired.key_pem, SERVER_NAME, |ctx| {
        assert_eq!(ctx.trust(3, expired.cert_pem.as_bytes()), SIPTLS_OK);
    });
    assert_refused(&v, SIPTLS_VERIFY_EXPIRED, CERTIFICATE_EXPIRED);
    let client_only = pki().root.leaf(&LeafSpec {
        usage: Usage::Client,
        ..LeafSpec::sip(SERVER_NAME)
    });
    let v = connect(
        &client_only.cert_pem,
        &client_only.key_pem,
        SERVER_NAME,
        |ctx| {
            assert_eq!(ctx.trust(3, client_only.cert_pem.as_bytes()), SIPTLS_OK);
        },
    );
    assert_refused(&v, SIPTLS_VERIFY_WRONG_KEY_USAGE, UNSUPPORTED_CERTIFICATE);
    assert!(
        v.detail.contains("pinned as trust ID 3")
            && v.detail.contains("allows clientAuth")
            && v.detail.contains("needs serverAuth"),
        "{}",
        v.detail
    );
}

// ---------------------------------------------------------------------------
// 5. Every status produced: INVALID, and depth never hiding a better reason.

#[test]
fn a_leaf_outside_its_ca_name_constraints_is_invalid() {
    let constrained = pki()
        .root
        .constrained_intermediate("Constrained CA", &["allowed.example.test"]);
    let outside = constrained.leaf(&LeafSpec::new(SERVER_NAME));
    let chain = chain_pem(&[&outside, constrained.issued()]);
    let v = connect(
        &chain,
        &outside.key_pem,
        SERVER_NAME,
        trust_root(&pki().root, 1),
    );
    assert_refused(&v, SIPTLS_VERIFY_INVALID, CERTIFICATE_UNKNOWN);
    // Inside the constraints the same CA is fine.
    let inside_name = "gw.allowed.example.test";
    let inside = constrained.leaf(&LeafSpec::new(inside_name));
    let chain = chain_pem(&[&inside, constrained.issued()]);
    let v = connect(
        &chain,
        &inside.key_pem,
        inside_name,
        trust_root(&pki().root, 1),
    );
    assert_ok(&v, 1, 2);
}

#[test]
fn a_path_refused_for_depth_does_not_hide_a_revoked_shorter_path() {
    let root = &pki().root;
    let issuing = root.intermediate("Cross CA");
    // A second, long way to the same issuing CA: root > D1 > D2 > D3 > Cross.
    let d1 = root.intermediate("Deep 1");
    let d2 = d1.intermediate("Deep 2");
    let d3 = d2.intermediate("Deep 3");
    let cross = issuing.cross_signed_by(&d3);
    let leaf = issuing.sip_leaf(SERVER_NAME);
    let chain = chain_pem(&[
        &leaf,
        issuing.issued(),
        &cross,
        d3.issued(),
        d2.issued(),
        d1.issued(),
    ]);
    // Short path fine: it is used.
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, trust_root(root, 1));
    assert_ok(&v, 1, 2);
    // Short path revoked, long path over the cap of 4: the revocation is the news.
    let v = connect(&chain, &leaf.key_pem, SERVER_NAME, |ctx| {
        trust_root(root, 1)(ctx);
        assert_eq!(add_crl(ctx, &root.crl_revoking(&[&issuing], 1)), SIPTLS_OK);
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
    // Only the long path: over the cap.
    let long = chain_pem(&[&leaf, &cross, d3.issued(), d2.issued(), d1.issued()]);
    let v = connect(&long, &leaf.key_pem, SERVER_NAME, trust_root(root, 1));
    assert_refused(&v, SIPTLS_VERIFY_DEPTH_EXCEEDED, UNKNOWN_CA);
}

// ---------------------------------------------------------------------------
// 6. Reloads: replace, never merge; all or nothing; generations.

fn pem_dir(dir: &TempDir, name: &str, identity: &Issued, ca_list: &str) -> std::ffi::CString {
    dir.write(&format!("{name}/privateKey.pem"), &identity.key_pem);
    dir.write(&format!("{name}/publickey.pem"), &identity.cert_pem);
    dir.write(&format!("{name}/CAList.pem"), ca_list);
    cstring(dir.0.join(name).to_str().unwrap())
}

fn load_dir(ctx: &Ctx, dir: &CStr, names: *const siptls_pem_names) -> (siptls_result, usize) {
    let mut count = 99;
    let code = unsafe { siptls_ctx_load_pem_dir(ctx.0, dir.as_ptr(), names, 1, &mut count) };
    (code, count)
}

#[test]
fn reloading_a_directory_replaces_the_trust_table_under_the_same_ids() {
    let p = pki();
    let dir = TempDir::new("reload");
    let other_root = Authority::root("Other Root");
    let list = [
        p.root.issued().cert_pem.clone(),
        other_root.issued().cert_pem.clone(),
    ]
    .concat();
    let good = pem_dir(&dir, "good", &p.server, &list);
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    assert_eq!(
        ctx.trust(40, other_root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    assert_eq!(load_dir(&ctx, &good, null()), (SIPTLS_OK, 2));
    assert_eq!(ctx.trust_ids(), [1, 2], "replaced, not merged");
    let before = ctx.generation();
    // The same directory again: the same IDs, no duplicate-ID refusal.
    assert_eq!(
        load_dir(&ctx, &good, null()),
        (SIPTLS_OK, 2),
        "{}",
        ctx.last_error()
    );
    assert_eq!(ctx.trust_ids(), [1, 2]);
    assert_eq!(
        ctx.generation(),
        before,
        "the same files again are no change"
    );

    // A directory broken in its CA list's second certificate changes nothing.
    let broken_list = [
        p.root.issued().cert_pem.clone(),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
    ]
    .concat();
    let broken = pem_dir(
        &dir,
        "broken",
        &Authority::root("X").sip_leaf(SERVER_NAME),
        &broken_list,
    );
    assert_eq!(load_dir(&ctx, &broken, null()).0, SIPTLS_ERR_CERT_MALFORMED);
    let detail = ctx.last_error();
    assert!(
        detail.contains("broken/CAList.pem") && detail.contains("certificate #2"),
        "{detail}"
    );
    assert_eq!(ctx.generation(), before, "a failed reload is no change");
    assert_eq!(ctx.trust_ids(), [1, 2]);
    let (c, s) = (Sess::client(&Ctx::client()), Sess::server(&ctx));
    assert_handshake_ok(&c, &s);
    assert_eq!(s.info().generation, before);
}

#[test]
fn a_directory_with_a_crl_file_replaces_the_crls() {
    let p = pki();
    let dir = TempDir::new("reload-crl");
    let serial = 0x1008;
    let client_id = pki().root.leaf(&LeafSpec {
        serial: Some(serial),
        ..LeafSpec::sip(CLIENT_NAME)
    });
    let good = pem_dir(&dir, "d", &p.server, &p.root.issued().cert_pem);
    dir.write("d/crl.pem", p.root.crl(&[serial], 4).pem);
    let names = siptls_pem_names {
        struct_size: std::mem::size_of::<siptls_pem_names>() as u32,
        private_key: null(),
        certificate: null(),
        ca_list: null(),
        crl: c"crl.pem".as_ptr(),
    };
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    // A CRL loaded before, of another issuer, goes: the directory is the configuration.
    assert_eq!(
        add_crl(&ctx, &Authority::root("Gone CA").crl(&[], 9)),
        SIPTLS_OK
    );
    assert_eq!(
        load_dir(&ctx, &good, &names),
        (SIPTLS_OK, 1),
        "{}",
        ctx.last_error()
    );
    let listed = crls(&ctx);
    assert_eq!(listed.len(), 1);
    assert_eq!(chars(&listed[0].crl_number), "4");
    let cctx = Ctx::with_identity(siptls_role::SIPTLS_ROLE_CLIENT, &client_id, &p.root);
    let (c, s) = (Sess::client(&cctx), Sess::server(&ctx));
    pump(&c, &s);
    assert_eq!(s.info().verify_status, SIPTLS_VERIFY_REVOKED);
    // Without a CRL name, a reload keeps the CRLs it has.
    assert_eq!(load_dir(&ctx, &good, null()), (SIPTLS_OK, 1));
    assert_eq!(crls(&ctx).len(), 1);
    // A caller built before `crl` existed passes a smaller struct: its end
    // is not read, so no CRL is named, even with garbage where it would be.
    assert_eq!(unsafe { siptls_ctx_clear_crls(ctx.0) }, SIPTLS_OK);
    let old = siptls_pem_names {
        struct_size: std::mem::offset_of!(siptls_pem_names, crl) as u32,
        crl: c"no-such-file.pem".as_ptr(),
        ..names
    };
    assert_eq!(
        load_dir(&ctx, &good, &old),
        (SIPTLS_OK, 1),
        "{}",
        ctx.last_error()
    );
    assert!(
        crls(&ctx).is_empty(),
        "the CRL member past struct_size was read"
    );
}

#[test]
fn a_ca_list_in_memory_replaces_the_table_all_or_nothing() {
    let ctx = Ctx::client();
    let list = [
        Authority::root("Mem A").issued().cert_pem.clone(),
        Authority::root("Mem B").issued().cert_pem.clone(),
    ]
    .concat();
    let mut count = 99;
    let replace = |text: &str, count: &mut usize| unsafe {
        siptls_ctx_replace_trust_list(ctx.0, text.as_ptr(), text.len(), 5, count)
    };
    assert_eq!(replace(&list, &mut count), SIPTLS_OK);
    assert_eq!((ctx.trust_ids(), count), (vec![5, 6], 2));
    assert_eq!(replace(&list, &mut count), SIPTLS_OK, "same IDs again");
    let broken = format!("{list}-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assert_eq!(replace(&broken, &mut count), SIPTLS_ERR_CERT_MALFORMED);
    assert_eq!(count, 0);
    assert!(
        ctx.last_error().contains("certificate #3"),
        "{}",
        ctx.last_error()
    );
    assert_eq!(ctx.trust_ids(), [5, 6]);
}

#[test]
fn the_generation_counts_successful_changes_and_reports_carry_it() {
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    assert_eq!(ctx.generation(), 0);
    assert_eq!(
        ctx.trust(1, pki().root.issued().cert_pem.as_bytes()),
        SIPTLS_OK
    );
    assert_eq!(ctx.generation(), 1);
    assert_eq!(
        ctx.trust(1, pki().root.issued().cert_pem.as_bytes()),
        SIPTLS_ERR_TRUST_DUPLICATE_ID
    );
    assert_eq!(ctx.generation(), 1);
    assert_eq!(
        ctx.set_identity(&pki().client.cert_pem, &pki().client.key_pem),
        SIPTLS_OK
    );
    let recorder = Recorder::attach(&ctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let generation_now = ctx.generation();
    assert_eq!(generation_now, 3);
    let (c, s) = (Sess::client(&ctx), Sess::server(&Ctx::server()));
    // A change after the session was made applies to its verification;
    // the session keeps the generation its ClientHello was made under.
    assert_eq!(unsafe { siptls_ctx_set_max_ca_depth(ctx.0, 3) }, SIPTLS_OK);
    assert_handshake_ok(&c, &s);
    assert_eq!(ctx.generation(), generation_now + 1);
    assert_eq!(recorder.reports()[0].generation, generation_now + 1);
    assert_eq!(c.info().generation, generation_now + 1);
    assert_eq!(c.info().hello_generation, generation_now);
}

// ---------------------------------------------------------------------------
// 7. The callback knows its connection.

#[test]
fn reports_carry_the_session_user_data() {
    let cctx = Ctx::client();
    let sctx = Ctx::server();
    let client_rec = Recorder::attach(&cctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let server_rec = Recorder::attach(&sctx, siptls_verify_decision::SIPTLS_VERIFY_ACCEPT);
    let (c, s) = (Sess::client(&cctx), Sess::server(&sctx));
    let (call_a, call_b) = (0xA11usize as *mut c_void, 0xB22usize as *mut c_void);
    assert_eq!(
        unsafe { siptls_session_set_userdata(c.0, call_a) },
        SIPTLS_OK
    );
    assert_eq!(
        unsafe { siptls_session_set_userdata(s.0, call_b) },
        SIPTLS_OK
    );
    let mut got = null_mut();
    assert_eq!(
        unsafe { siptls_session_get_userdata(c.0, &mut got) },
        SIPTLS_OK
    );
    assert_eq!(got, call_a);
    assert_handshake_ok(&c, &s);
    assert_eq!(client_rec.reports()[0].session_userdata, call_a as usize);
    assert_eq!(server_rec.reports()[0].session_userdata, call_b as usize);
    // A session without user data reports NULL.
    let (c2, s2) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&c2, &s2);
    assert_eq!(client_rec.reports()[1].session_userdata, 0);
}

/// A callback that frees the session it is verifying (its user data).
unsafe extern "C" fn free_own_session(
    _userdata: *mut c_void,
    report: *const siptls_verify_report,
) -> u32 {
    let session = unsafe { (*report).session_userdata } as *mut siptls_session;
    unsafe { siptls_session_free(session) };
    // The session is still usable until the feed that called us returns.
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

#[test]
fn freeing_a_session_from_its_own_callback_is_deferred_until_the_call_returns() {
    verify_a_client_that_gets_freed(free_own_session, null_mut());
}

/// A client session whose user data is itself, verified by `callback`
/// (which frees it) in one feed; that feed must complete normally, and the
/// free must have happened when it returned.
fn verify_a_client_that_gets_freed(
    callback: unsafe extern "C" fn(*mut c_void, *const siptls_verify_report) -> u32,
    userdata: *mut c_void,
) {
    let cctx = Ctx::client();
    assert_eq!(
        unsafe { siptls_ctx_set_verify_callback(cctx.0, Some(callback), userdata) },
        SIPTLS_OK
    );
    let client = Sess::client(&cctx);
    let server = Sess::server(&Ctx::server());
    assert_eq!(
        unsafe { siptls_session_set_userdata(client.0, client.0.cast()) },
        SIPTLS_OK
    );
    let hello = client.take_all();
    assert_eq!(server.feed(&hello).0, SIPTLS_OK);
    let flight = server.take_all();
    assert_eq!(
        client.feed(&flight),
        (SIPTLS_OK, flight.len()),
        "the feed completes normally"
    );
    let counters = cctx.counters();
    assert_eq!(
        (
            counters.sessions_created,
            counters.sessions_freed,
            counters.sessions_live
        ),
        (1, 1, 0),
        "freed once the feed returned"
    );
    // The session is gone now: forget it rather than free it twice.
    std::mem::forget(client);
}

/// A callback that drives a whole other handshake on the same thread.
unsafe extern "C" fn nested_handshake(
    userdata: *mut c_void,
    _report: *const siptls_verify_report,
) -> u32 {
    let nested = unsafe { &*(userdata as *const Nested) };
    let (c, s) = (Sess::client(&nested.cctx), Sess::server(&nested.sctx));
    pump(&c, &s);
    nested.statuses.lock().unwrap().push(c.info().verify_status);
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

struct Nested {
    cctx: Ctx,
    sctx: Ctx,
    statuses: std::sync::Mutex<Vec<siptls_verify_status>>,
}

#[test]
fn an_outcome_never_reaches_another_session_on_the_same_thread() {
    // The nested client trusts nothing: its verification fails.
    let nested = Nested {
        cctx: Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT),
        sctx: Ctx::server(),
        statuses: Default::default(),
    };
    let outer = Ctx::client();
    assert_eq!(
        unsafe {
            siptls_ctx_set_verify_callback(
                outer.0,
                Some(nested_handshake),
                &nested as *const Nested as *mut c_void,
            )
        },
        SIPTLS_OK
    );
    let (c, s) = (Sess::client(&outer), Sess::server(&Ctx::server()));
    assert_handshake_ok(&c, &s);
    assert_eq!(c.info().verify_status, SIPTLS_VERIFY_OK);
    assert_eq!(c.info().trust_id, 1);
    assert_eq!(*nested.statuses.lock().unwrap(), [SIPTLS_VERIFY_UNKNOWN_CA]);
}

// ---------------------------------------------------------------------------
// The same defects, on a PKI made by the openssl command line.

struct OpensslPki {
    _dir: TempDir,
    root: OpensslCa,
    issuing: OpensslCa,
    leaf_path: std::path::PathBuf,
    chain: String,
    key: String,
}

fn openssl_pki() -> OpensslPki {
    let dir = TempDir::new("openssl-pki");
    let root = OpensslCa::root(&dir.0.join("root"), "OpenSSL Root CA");
    let issuing = root.intermediate(&dir.0.join("issuing"), "OpenSSL Issuing CA");
    let (leaf_path, leaf, key) = issuing.leaf(SERVER_NAME);
    let chain = [leaf, issuing.cert_pem.clone()].concat();
    OpensslPki {
        _dir: dir,
        root,
        issuing,
        leaf_path,
        chain,
        key,
    }
}

impl OpensslPki {
    fn connect(&self, setup: impl FnOnce(&Ctx)) -> Verdict {
        connect(&self.chain, &self.key, SERVER_NAME, |ctx| {
            assert_eq!(
                ctx.trust(1, self.root.cert_pem.as_bytes()),
                SIPTLS_OK,
                "{}",
                ctx.last_error()
            );
            setup(ctx)
        })
    }
}

#[test]
fn openssl_crls_without_a_crlnumber_file_are_refused_with_the_fix() {
    let mut pki = openssl_pki();
    let v1 = pki.issuing.gencrl();
    let ctx = Ctx::client();
    assert_eq!(add_crl_text(&ctx, &v1), SIPTLS_ERR_CRL_MALFORMED);
    let detail = ctx.last_error();
    for part in [
        "no extensions",
        "CRL number",
        "crlnumber file",
        "openssl ca -gencrl",
    ] {
        assert!(detail.contains(part), "'{part}' missing from: {detail}");
    }
    assert!(crls(&ctx).is_empty());
    // Key identifier but no number: accepted, ordered by thisUpdate.
    pki.issuing.crl_extensions(CrlExtensions::KeyIdOnly, 0);
    let first = pki.issuing.gencrl();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = pki.issuing.gencrl();
    must_add_crl(&ctx, &first);
    must_add_crl(&ctx, &second);
    assert_eq!(add_crl_text(&ctx, &first), SIPTLS_ERR_CRL_NOT_NEWER);
    assert!(
        ctx.last_error().contains("no CRL number, thisUpdate"),
        "{}",
        ctx.last_error()
    );
    assert_eq!(chars(&crls(&ctx)[0].crl_number), "");
}

#[test]
fn openssl_crls_refresh_revoke_and_cover_intermediates() {
    let mut pki = openssl_pki();
    pki.root.crl_extensions(CrlExtensions::Numbered, 0x10);
    pki.issuing.crl_extensions(CrlExtensions::Numbered, 0x20);
    let root_crl = pki.root.gencrl();
    let before = pki.issuing.gencrl();
    // Deny, nothing loaded: refused; both CRLs: accepted.
    assert_refused(
        &pki.connect(deny_missing),
        SIPTLS_VERIFY_REVOCATION_UNKNOWN,
        UNKNOWN_CA,
    );
    let v = pki.connect(|ctx| {
        must_add_crl(ctx, &root_crl);
        must_add_crl(ctx, &before);
        deny_missing(ctx);
        let listed = crls(ctx);
        assert_eq!(chars(&listed[0].crl_number), "16");
        assert_eq!(listed[0].checked_by_trust_id, 1);
        assert_eq!(chars(&listed[1].crl_number), "32");
        assert_eq!(listed[1].checked_by_trust_id, SIPTLS_TRUST_ID_NONE);
    });
    assert_ok(&v, 1, 2);
    // The issuing CA revokes the leaf and publishes CRL number 0x21.
    pki.issuing.revoke(&pki.leaf_path);
    let after = pki.issuing.gencrl();
    let v = pki.connect(|ctx| {
        must_add_crl(ctx, &before);
        must_add_crl(ctx, &after);
        assert_eq!(add_crl_text(ctx, &before), SIPTLS_ERR_CRL_NOT_NEWER);
        assert!(
            ctx.last_error().contains("CRL number 32"),
            "{}",
            ctx.last_error()
        );
    });
    assert_refused(&v, SIPTLS_VERIFY_REVOKED, 44);
}

#[test]
fn openssl_leaves_and_cas_are_classified_like_openssl_does() {
    let pki = openssl_pki();
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
    let leaf = std::fs::read_to_string(&pki.leaf_path).unwrap();
    assert_eq!(ctx.trust(1, pki.root.cert_pem.as_bytes()), SIPTLS_OK);
    assert_eq!(ctx.trust(2, leaf.as_bytes()), SIPTLS_OK);
    assert_eq!(trust_entry(&ctx, 1).kind, SIPTLS_TRUST_KIND_ANCHOR);
    assert_eq!(trust_entry(&ctx, 2).kind, SIPTLS_TRUST_KIND_PIN);
    // The pinned openssl leaf verifies as itself, without its CA.
    let v = connect(&pki.chain, &pki.key, SERVER_NAME, |ctx| {
        assert_eq!(ctx.trust(2, leaf.as_bytes()), SIPTLS_OK);
    });
    assert_ok(&v, 2, 0);

    let dir = &pki.root.dir;
    let openssl = |args: &[&str]| common::openssl_ca::openssl(dir, args, &[]);
    // CA:TRUE but no keyCertSign: not a CA.
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-nodes",
        "-config",
        "ca.cnf",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-keyout",
        "nosign.key",
        "-out",
        "nosign.pem",
        "-subj",
        "/CN=No Sign",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature",
    ]);
    // A version 1 self-signed root (no extensions at all): a CA, as in OpenSSL.
    openssl(&[
        "req",
        "-new",
        "-nodes",
        "-config",
        "ca.cnf",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-keyout",
        "v1.key",
        "-out",
        "v1.csr",
        "-subj",
        "/CN=V1 Root",
    ]);
    openssl(&[
        "x509", "-req", "-in", "v1.csr", "-signkey", "v1.key", "-out", "v1.pem", "-days", "30",
    ]);
    for (id, file, kind) in [
        (3, "nosign.pem", SIPTLS_TRUST_KIND_PIN),
        (4, "v1.pem", SIPTLS_TRUST_KIND_ANCHOR),
    ] {
        let pem = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(
            ctx.trust(id, pem.as_bytes()),
            SIPTLS_OK,
            "{file}: {}",
            ctx.last_error()
        );
        assert_eq!(trust_entry(&ctx, id).kind, kind, "{file}");
    }
}

#[test]
fn an_openssl_directory_reloads_under_the_same_ids() {
    let pki = openssl_pki();
    let dir = TempDir::new("openssl-dir");
    dir.write("gw/privateKey.pem", &pki.key);
    dir.write("gw/publickey.pem", &pki.chain);
    dir.write(
        "gw/CAList.pem",
        [pki.root.cert_pem.clone(), pki.issuing.cert_pem.clone()].concat(),
    );
    let path = cstring(dir.0.join("gw").to_str().unwrap());
    let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
    for _ in 0..2 {
        assert_eq!(
            load_dir(&ctx, &path, null()),
            (SIPTLS_OK, 2),
            "{}",
            ctx.last_error()
        );
        assert_eq!(ctx.trust_ids(), [1, 2]);
    }
}

// ---------------------------------------------------------------------------
// CA key rollover: two CAs with one name and two keys, both trust entries,
// made by the openssl command line.

const ROLLOVER_CA: &str = "CN=OpenSSL Rollover CA";

struct RolloverLeaf {
    path: std::path::PathBuf,
    cert: String,
    key: String,
}

/// The outgoing CA (trust ID 1, CRLs numbered from 5) and the incoming one
/// (trust ID 2, same name, a new key, CRLs numbered from 1), each with a
/// server leaf. Both leaves have serial 0x1000: only the key that issued
/// them tells their CRLs apart.
struct Rollover {
    _dir: TempDir,
    old: OpensslCa,
    new: OpensslCa,
    old_leaf: RolloverLeaf,
    new_leaf: RolloverLeaf,
}

fn rollover(crls: CrlExtensions) -> Rollover {
    let dir = TempDir::new("rollover");
    let cn = ROLLOVER_CA.trim_start_matches("CN=");
    let mut old = OpensslCa::root(&dir.0.join("old"), cn);
    let mut new = OpensslCa::root(&dir.0.join("new"), cn);
    old.crl_extensions(crls, 5);
    new.crl_extensions(crls, 1);
    let leaf = |ca: &OpensslCa| {
        let (path, cert, key) = ca.leaf(SERVER_NAME);
        RolloverLeaf { path, cert, key }
    };
    Rollover {
        old_leaf: leaf(&old),
        new_leaf: leaf(&new),
        _dir: dir,
        old,
        new,
    }
}

impl Rollover {
    fn trust_both(&self, ctx: &Ctx) {
        for (id, ca) in [(1, &self.old), (2, &self.new)] {
            let cert = ca.cert_pem.as_bytes();
            assert_eq!(ctx.trust(id, cert), SIPTLS_OK, "{}", ctx.last_error());
        }
    }

    /// A client context trusting both CAs.
    fn context(&self) -> Ctx {
        let ctx = Ctx::new(siptls_role::SIPTLS_ROLE_CLIENT);
        self.trust_both(&ctx);
        ctx
    }

    /// Two CRLs of each CA: the old one's numbers 5 and 6, the new one's 1
    /// and 2.
    fn two_crls_each(&self) -> [String; 4] {
        [
            self.old.gencrl(),
            self.old.gencrl(),
            self.new.gencrl(),
            self.new.gencrl(),
        ]
    }

    fn connect(&self, leaf: &RolloverLeaf, setup: impl FnOnce(&Ctx)) -> Verdict {
        connect(&leaf.cert, &leaf.key, SERVER_NAME, |ctx| {
            self.trust_both(ctx);
            setup(ctx)
        })
    }

    /// The old and the new leaf verified under deny, with each CA's next
    /// CRL loaded (the old one's number 5, the new one's 1).
    fn verdicts_with_both_crls(&self) -> (Verdict, Verdict) {
        let (old_crl, new_crl) = (self.old.gencrl(), self.new.gencrl());
        let load_both = |ctx: &Ctx| {
            must_add_crl(ctx, &old_crl);
            must_add_crl(ctx, &new_crl);
            deny_missing(ctx);
            assert_eq!(crl_numbers(ctx), [("5".into(), 1), ("1".into(), 2)]);
        };
        (
            self.connect(&self.old_leaf, load_both),
            self.connect(&self.new_leaf, load_both),
        )
    }
}

/// (CRL number, checked_by_trust_id) of each loaded CRL, in load order.
fn crl_numbers(ctx: &Ctx) -> Vec<(String, u32)> {
    crls(ctx)
        .iter()
        .map(|c| (chars(&c.crl_number), c.checked_by_trust_id))
        .collect()
}

fn assert_mentions(detail: &str, parts: &[&str]) {
    for part in parts {
        assert!(detail.contains(part), "'{part}' missing from: {detail}");
    }
}

#[test]
fn rollover_each_population_verifies_under_its_own_keys_crl() {
    // Under deny, OK means each leaf found a CRL of its own CA's key.
    let (old, new) = rollover(CrlExtensions::Numbered).verdicts_with_both_crls();
    assert_ok(&old, 1, 1);
    assert_ok(&new, 2, 1);
}

/// The new CA revokes its leaf; the old CA's leaf, same serial, passes.
fn the_new_keys_revocation_only(r: &Rollover) {
    r.new.revoke(&r.new_leaf.path);
    let (old, new) = r.verdicts_with_both_crls();
    assert_refused(&new, SIPTLS_VERIFY_REVOKED, CERTIFICATE_REVOKED);
    assert_ok(&old, 1, 1);
}

#[test]
fn rollover_a_leaf_the_new_key_revokes_is_refused_and_the_old_population_passes() {
    the_new_keys_revocation_only(&rollover(CrlExtensions::Numbered));
}

#[test]
fn rollover_the_new_keys_first_crl_is_accepted_after_the_old_keys_fifth() {
    let r = rollover(CrlExtensions::Numbered);
    let [old_5, old_6, new_1, new_2] = r.two_crls_each();
    let ctx = r.context();
    must_add_crl(&ctx, &old_5);
    must_add_crl(&ctx, &new_1);
    assert_eq!(crl_numbers(&ctx), [("5".into(), 1), ("1".into(), 2)]);
    // Each refresh replaces its own key's CRL, not the other's.
    must_add_crl(&ctx, &old_6);
    assert_eq!(crl_numbers(&ctx), [("6".into(), 1), ("1".into(), 2)]);
    must_add_crl(&ctx, &new_2);
    assert_eq!(crl_numbers(&ctx), [("6".into(), 1), ("2".into(), 2)]);
}

#[test]
fn rollover_a_stale_crl_is_still_refused_within_its_keys_slot() {
    let r = rollover(CrlExtensions::Numbered);
    let [old_5, old_6, new_1, new_2] = r.two_crls_each();
    let ctx = r.context();
    must_add_crl(&ctx, &old_6);
    must_add_crl(&ctx, &new_2);
    for (stale, ca, number, loaded) in [
        (&old_5, &r.old, "CRL number 5", "(CRL number 6)"),
        (&new_1, &r.new, "CRL number 1", "(CRL number 2)"),
    ] {
        assert_eq!(add_crl_text(&ctx, stale), SIPTLS_ERR_CRL_NOT_NEWER);
        let key = format!("key ID {}", ca.key_id());
        assert_mentions(
            &ctx.last_error(),
            &[ROLLOVER_CA, &key, number, loaded, "higher CRL number"],
        );
    }
    assert_eq!(crl_numbers(&ctx), [("6".into(), 1), ("2".into(), 2)]);
}

#[test]
fn rollover_under_deny_the_key_without_a_crl_fails_closed() {
    let r = rollover(CrlExtensions::Numbered);
    let old_crl = r.old.gencrl();
    let only_old = |ctx: &Ctx| {
        must_add_crl(ctx, &old_crl);
        deny_missing(ctx);
    };
    assert_ok(&r.connect(&r.old_leaf, only_old), 1, 1);
    let v = r.connect(&r.new_leaf, only_old);
    assert_refused(&v, SIPTLS_VERIFY_REVOCATION_UNKNOWN, UNKNOWN_CA);
    let key = format!("key ID {}", r.new.key_id());
    assert_mentions(
        &v.detail,
        &[
            ROLLOVER_CA,
            &key,
            "CRL number 5",
            "another key's",
            "siptls_ctx_set_missing_crl_policy",
        ],
    );
    // Under the default policy a missing CRL is allowed, as before: the
    // old key's CRL is not the new CA's, so it neither vouches nor fails.
    let v = r.connect(&r.new_leaf, |ctx| must_add_crl(ctx, &old_crl));
    assert_ok(&v, 2, 1);
}

#[test]
fn rollover_removing_the_name_removes_the_crls_of_both_keys() {
    let r = rollover(CrlExtensions::Numbered);
    let ctx = r.context();
    must_add_crl(&ctx, &r.old.gencrl());
    must_add_crl(&ctx, &r.new.gencrl());
    assert_eq!(crls(&ctx).len(), 2);
    let name = cstring(ROLLOVER_CA);
    assert_eq!(
        unsafe { siptls_ctx_remove_crl(ctx.0, name.as_ptr()) },
        SIPTLS_OK
    );
    assert!(crls(&ctx).is_empty());
    assert_eq!(
        unsafe { siptls_ctx_remove_crl(ctx.0, name.as_ptr()) },
        SIPTLS_ERR_CRL_NOT_FOUND
    );
}

#[test]
fn rollover_crls_without_an_authority_key_identifier_go_by_signature() {
    let r = rollover(CrlExtensions::NumberedWithoutKeyId);
    the_new_keys_revocation_only(&r);
    let last_crl = ["crl", "-in", "crl.pem", "-noout", "-text"];
    let text = common::openssl_ca::openssl(&r.new.dir, &last_crl, &[]);
    assert!(
        text.contains("CRL Number") && !text.contains("Authority Key Identifier"),
        "{text}"
    );
}

#[test]
fn rollover_of_an_intermediate_ca_checks_each_leaf_against_its_own_keys_crl() {
    // Two issuing CAs under the root, one name, two keys; neither is a
    // trust entry, so their CRLs are told apart at each use.
    let serial = 0x1010;
    let (old, new) = (Chained::new(serial), Chained::new(serial));
    let old_crl = old.intermediate.crl(&[], 7);
    let new_crl = new.intermediate.crl(&[serial], 1);
    let load_both = |ctx: &Ctx| {
        assert_eq!(add_crl(ctx, &pki().root.crl(&[], 1)), SIPTLS_OK);
        assert_eq!(add_crl(ctx, &old_crl), SIPTLS_OK, "{}", ctx.last_error());
        assert_eq!(add_crl(ctx, &new_crl), SIPTLS_OK, "{}", ctx.last_error());
        deny_missing(ctx);
    };
    assert_ok(&old.connect(load_both), 1, 2);
    assert_refused(
        &new.connect(load_both),
        SIPTLS_VERIFY_REVOKED,
        CERTIFICATE_REVOKED,
    );
}

/// Hands the session being verified to another thread, which frees it while
/// this callback is still running; returns only once that free returned.
unsafe extern "C" fn freed_by_another_thread(
    userdata: *mut c_void,
    report: *const siptls_verify_report,
) -> u32 {
    let (to_freer, freed) = unsafe { &*(userdata as *const FreeHandoff) };
    let session = unsafe { (*report).session_userdata } as usize;
    to_freer.lock().unwrap().send(session).unwrap();
    freed.lock().unwrap().recv().unwrap();
    siptls_verify_decision::SIPTLS_VERIFY_ACCEPT as u32
}

type FreeHandoff = (
    std::sync::Mutex<std::sync::mpsc::Sender<usize>>,
    std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
);

#[test]
fn freeing_a_session_another_thread_is_driving_is_deferred_too() {
    let (to_freer, from_driver) = std::sync::mpsc::channel::<usize>();
    let (done, freed) = std::sync::mpsc::channel::<()>();
    let handoff: FreeHandoff = (
        std::sync::Mutex::new(to_freer),
        std::sync::Mutex::new(freed),
    );
    let freer = std::thread::spawn(move || {
        let session = from_driver.recv().unwrap() as *mut siptls_session;
        // Returns at once: the driving thread is inside the session.
        unsafe { siptls_session_free(session) };
        done.send(()).unwrap();
    });
    verify_a_client_that_gets_freed(
        freed_by_another_thread,
        &handoff as *const FreeHandoff as *mut c_void,
    );
    freer.join().unwrap();
}
