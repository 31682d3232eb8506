//! The out-pointer rule: every output a caller passes is set (to 0, NULL or
//! "") on every failure path. Each export with outputs is called with a
//! failing argument and outputs full of garbage; a test also checks, from
//! the header, that no export with outputs is missing here.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::ffi::{c_char, c_void};
use std::ptr::{dangling, dangling_mut, null, null_mut};

const GARBAGE: usize = 0x5555;

/// Text outputs as a caller leaves them: a filled buffer, a stale length.
struct TextOut {
    buf: [c_char; 16],
    len: usize,
}

impl TextOut {
    fn new() -> TextOut {
        TextOut {
            buf: [0x55; 16],
            len: GARBAGE,
        }
    }

    fn assert_empty(&self, export: &str) {
        assert_eq!(
            (self.buf[0], self.len),
            (0, 0),
            "{export}: text output not emptied"
        );
    }
}

/// A size-prefixed struct full of garbage, with its size set.
fn garbage_sized<T>() -> T {
    let mut value: T = unsafe { std::mem::zeroed() };
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut value as *mut T).cast::<u8>(),
            std::mem::size_of::<T>(),
        )
    };
    bytes.fill(0x55);
    bytes[..4].copy_from_slice(&(std::mem::size_of::<T>() as u32).to_ne_bytes());
    value
}

fn assert_zero_after_size<T>(value: &T, export: &str) {
    let bytes = unsafe {
        std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
    };
    assert!(
        bytes[4..].iter().all(|&b| b == 0),
        "{export}: struct not zeroed"
    );
}

/// Every export with an output, called so that it fails, and its outputs checked.
fn exercised() -> BTreeSet<&'static str> {
    let mut done = BTreeSet::new();
    let mut check = |export: &'static str, code: siptls_result, outputs_ok: bool| {
        assert_ne!(code, SIPTLS_OK, "{export} was meant to fail");
        assert!(
            outputs_ok,
            "{export}: an output was left unset after {code:?}"
        );
        done.insert(export);
    };
    let (ctx, sess) = (null_mut::<siptls_ctx>(), null_mut::<siptls_session>());
    let x = b"x";
    unsafe {
        let mut out = dangling_mut::<siptls_ctx>();
        check(
            "siptls_ctx_new",
            siptls_ctx_new(99, &mut out),
            out.is_null(),
        );

        let mut n = GARBAGE;
        check(
            "siptls_ctx_load_pem_dir",
            siptls_ctx_load_pem_dir(ctx, c"/".as_ptr(), null(), 1, &mut n),
            n == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_add_trust_list",
            siptls_ctx_add_trust_list(ctx, x.as_ptr(), 1, 1, &mut n),
            n == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_add_trust_file",
            siptls_ctx_add_trust_file(ctx, c"/".as_ptr(), 1, &mut n),
            n == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_replace_trust_list",
            siptls_ctx_replace_trust_list(ctx, x.as_ptr(), 1, 1, &mut n),
            n == 0,
        );
        let (mut ids, mut n) = ([7u32; 4], GARBAGE);
        check(
            "siptls_ctx_list_trust",
            siptls_ctx_list_trust(ctx, ids.as_mut_ptr(), 4, &mut n),
            n == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_add_crl",
            siptls_ctx_add_crl(ctx, x.as_ptr(), 1, &mut n),
            n == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_add_crl_file",
            siptls_ctx_add_crl_file(ctx, c"/".as_ptr(), &mut n),
            n == 0,
        );
        let mut count = GARBAGE as u32;
        check(
            "siptls_ctx_set_ticket_keys",
            siptls_ctx_set_ticket_keys(ctx, x.as_ptr(), 1, &mut count),
            count == 0,
        );
        let mut count = GARBAGE as u32;
        check(
            "siptls_ctx_load_ticket_key_file",
            siptls_ctx_load_ticket_key_file(ctx, c"/".as_ptr(), &mut count),
            count == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_count_crls",
            siptls_ctx_count_crls(ctx, &mut n),
            n == 0,
        );
        let mut generation = GARBAGE as u64;
        check(
            "siptls_ctx_get_generation",
            siptls_ctx_get_generation(ctx, &mut generation),
            generation == 0,
        );

        let mut entry: siptls_trust_entry_info = garbage_sized();
        let code = siptls_ctx_get_trust(ctx, 1, &mut entry);
        assert_zero_after_size(&entry, "siptls_ctx_get_trust");
        check("siptls_ctx_get_trust", code, true);
        let mut flags = GARBAGE as u32;
        check(
            "siptls_ctx_reload_if_changed",
            siptls_ctx_reload_if_changed(ctx, &mut flags),
            flags == 0,
        );
        let mut n = GARBAGE;
        check(
            "siptls_ctx_count_expiries",
            siptls_ctx_count_expiries(ctx, &mut n),
            n == 0,
        );
        // A URI that cannot be resolved: no DNS is asked.
        let mut n = GARBAGE;
        check(
            "siptls_get_uri_targets",
            siptls_get_uri_targets(
                c"sips:".as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
                &mut n,
            ),
            n == 0,
        );
        let mut key: siptls_connection_key = garbage_sized();
        let code = siptls_ctx_get_connection_key(ctx, null(), c"192.0.2.7:5061".as_ptr(), &mut key);
        assert_zero_after_size(&key, "siptls_ctx_get_connection_key");
        check("siptls_ctx_get_connection_key", code, true);
        let mut expiry: siptls_expiry_info = garbage_sized();
        let code = siptls_ctx_get_expiry(ctx, 0, &mut expiry);
        assert_zero_after_size(&expiry, "siptls_ctx_get_expiry");
        check("siptls_ctx_get_expiry", code, true);
        let mut crl: siptls_crl_info = garbage_sized();
        let code = siptls_ctx_get_crl(ctx, 0, &mut crl);
        assert_zero_after_size(&crl, "siptls_ctx_get_crl");
        check("siptls_ctx_get_crl", code, true);
        let mut key: siptls_connection_key = garbage_sized();
        let code = siptls_session_get_connection_key(sess, c"192.0.2.7:5061".as_ptr(), &mut key);
        assert_zero_after_size(&key, "siptls_session_get_connection_key");
        check("siptls_session_get_connection_key", code, true);
        let mut info: siptls_session_info = garbage_sized();
        let code = siptls_session_get_info(sess, &mut info);
        assert_zero_after_size(&info, "siptls_session_get_info");
        check("siptls_session_get_info", code, true);

        let mut out = dangling_mut::<siptls_session>();
        check(
            "siptls_session_new_with_options",
            siptls_session_new_with_options(ctx, null(), &mut out),
            out.is_null(),
        );
        let mut text = TextOut::new();
        let code =
            siptls_session_get_sni(sess, text.buf.as_mut_ptr(), text.buf.len(), &mut text.len);
        text.assert_empty("siptls_session_get_sni");
        check("siptls_session_get_sni", code, true);
        let mut framer = dangling_mut::<siptls_framer>();
        let bad_limits = siptls_framer_limits {
            struct_size: 0,
            keepalive: 0,
            header_max: 0,
            body_max: 0,
            buffered_max: 0,
        };
        check(
            "siptls_framer_new",
            siptls_framer_new(&bad_limits, &mut framer),
            framer.is_null(),
        );
        let mut n = GARBAGE;
        check(
            "siptls_framer_push",
            siptls_framer_push(null_mut(), x.as_ptr(), 1, &mut n),
            n == 0,
        );
        let mut event: siptls_sip_event = garbage_sized();
        let code = siptls_framer_take_event(null_mut(), &mut event);
        assert_zero_after_size(&event, "siptls_framer_take_event");
        check("siptls_framer_take_event", code, true);
        let mut n = GARBAGE;
        check(
            "siptls_framer_take_pongs",
            siptls_framer_take_pongs(null_mut(), &mut n),
            n == 0,
        );
        let mut wants = GARBAGE as u32;
        check(
            "siptls_session_pump_fd",
            siptls_session_pump_fd(sess, 0, &mut wants),
            wants == 0,
        );
        let mut events = GARBAGE as u32;
        check(
            "siptls_session_get_events",
            siptls_session_get_events(null_mut(), &mut events),
            events == 0,
        );
        let mut wants = GARBAGE as u32;
        check(
            "siptls_session_pump_io",
            siptls_session_pump_io(sess, null(), &mut wants),
            wants == 0,
        );
        let mut counters: siptls_counters = garbage_sized();
        let code = siptls_ctx_get_counters(ctx, &mut counters);
        assert_zero_after_size(&counters, "siptls_ctx_get_counters");
        check("siptls_ctx_get_counters", code, true);
        let mut text = TextOut::new();
        let code = siptls_ctx_get_counters_prometheus(
            ctx,
            text.buf.as_mut_ptr(),
            text.buf.len(),
            &mut text.len,
        );
        text.assert_empty("siptls_ctx_get_counters_prometheus");
        check("siptls_ctx_get_counters_prometheus", code, true);
        let mut text = TextOut::new();
        let code =
            siptls_ctx_get_last_error(ctx, text.buf.as_mut_ptr(), text.buf.len(), &mut text.len);
        text.assert_empty("siptls_ctx_get_last_error");
        check("siptls_ctx_get_last_error", code, true);
        let mut text = TextOut::new();
        let code = siptls_session_get_last_error(
            sess,
            text.buf.as_mut_ptr(),
            text.buf.len(),
            &mut text.len,
        );
        text.assert_empty("siptls_session_get_last_error");
        check("siptls_session_get_last_error", code, true);
        // The thread's own detail: only the length output can be missing.
        let mut text = TextOut::new();
        let code = siptls_get_last_error(text.buf.as_mut_ptr(), text.buf.len(), null_mut());
        assert_eq!(text.buf[0], 0, "siptls_get_last_error: buffer not emptied");
        check("siptls_get_last_error", code, true);

        let mut s = dangling_mut::<siptls_session>();
        check(
            "siptls_session_new",
            siptls_session_new(ctx, null(), &mut s),
            s.is_null(),
        );
        for (export, call) in [
            (
                "siptls_session_feed",
                siptls_session_feed as unsafe extern "C" fn(_, _, _, _) -> _,
            ),
            ("siptls_session_write", siptls_session_write),
        ] {
            let mut n = GARBAGE;
            check(export, call(sess, x.as_ptr(), 1, &mut n), n == 0);
        }
        for (export, call) in [
            (
                "siptls_session_take",
                siptls_session_take as unsafe extern "C" fn(_, _, _, _) -> _,
            ),
            ("siptls_session_read", siptls_session_read),
        ] {
            let (mut buf, mut n) = ([0u8; 4], GARBAGE);
            check(export, call(sess, buf.as_mut_ptr(), 4, &mut n), n == 0);
        }
        let (mut der, mut len) = (dangling::<u8>(), GARBAGE);
        check(
            "siptls_session_get_peer_cert",
            siptls_session_get_peer_cert(sess, 0, &mut der, &mut len),
            der.is_null() && len == 0,
        );
        // One output NULL: the other is still set.
        let mut len = GARBAGE;
        let code = siptls_session_get_peer_cert(sess, 0, null_mut(), &mut len);
        assert_eq!((code, len), (SIPTLS_ERR_NULL_ARGUMENT, 0));
        let mut enabled = true;
        check(
            "siptls_ctx_use_sslkeylogfile",
            siptls_ctx_use_sslkeylogfile(ctx, &mut enabled),
            !enabled,
        );
        let mut table = dangling::<siptls_api>();
        check(
            "siptls_get_api",
            siptls_get_api(9999, &mut table),
            table.is_null(),
        );
        let mut userdata = dangling_mut::<c_void>();
        check(
            "siptls_session_get_userdata",
            siptls_session_get_userdata(sess, &mut userdata),
            userdata.is_null(),
        );
    }
    // Failures past the handle check, on live objects.
    let client = Ctx::client();
    let mut entry: siptls_trust_entry_info = garbage_sized();
    let code = unsafe { siptls_ctx_get_trust(client.0, 4242, &mut entry) };
    assert_eq!(code, SIPTLS_ERR_TRUST_NOT_FOUND);
    assert_zero_after_size(&entry, "siptls_ctx_get_trust (missing entry)");
    let session = Sess::client(&client);
    let (mut der, mut len) = (dangling::<u8>(), GARBAGE);
    let code = unsafe { siptls_session_get_peer_cert(session.0, 0, &mut der, &mut len) };
    assert_eq!(
        (code, der.is_null(), len),
        (SIPTLS_ERR_INVALID_ARGUMENT, true, 0)
    );
    let (mut buf, mut n) = ([0u8; 4], GARBAGE);
    let code = unsafe { siptls_session_write(session.0, buf.as_mut_ptr(), 4, &mut n) };
    assert_eq!(
        (code, n),
        (SIPTLS_ERR_WRONG_STATE, 0),
        "write before the handshake"
    );
    done
}

/// Exports whose parameters include an output: `*_out`, or a text buffer.
fn exports_with_outputs() -> BTreeSet<String> {
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/siptls.h")).unwrap();
    // Comments out: their text has parentheses of its own.
    let mut code = String::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        rest = rest[start..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    code.push_str(rest);
    let mut found = BTreeSet::new();
    for declaration in code.split(';') {
        let Some(open) = declaration.find('(') else {
            continue;
        };
        let name = declaration[..open].split_whitespace().last().unwrap_or("");
        let name = name.trim_start_matches('*');
        if !name.starts_with("siptls_") || declaration.contains("typedef") {
            continue;
        }
        let params = &declaration[open..];
        if params.contains("_out") || params.contains("char *buf") {
            found.insert(name.to_string());
        }
    }
    found
}

#[test]
fn every_output_is_set_on_failure() {
    let done: BTreeSet<String> = exercised().into_iter().map(String::from).collect();
    let expected = exports_with_outputs();
    assert!(expected.len() >= 23, "header parse found only {expected:?}");
    let missing: Vec<_> = expected.difference(&done).collect();
    assert!(
        missing.is_empty(),
        "exports with outputs not walked here: {missing:?}"
    );
}

/// A text buffer or ID array that cannot be written (NULL with room
/// declared, or more room than an object can have) fails the call before
/// any length is set: the length stays 0, as on every failure.
#[test]
fn a_bad_output_buffer_fails_before_a_length_is_set() {
    let (cctx, sctx) = (Ctx::client(), Ctx::server());
    let (client, server) = (Sess::client(&cctx), Sess::server(&sctx));
    assert_handshake_ok(&client, &server);
    // Something to report in every text: a failure on each object.
    assert_ne!(cctx.set_identity("x", "y"), SIPTLS_OK);
    // A record that does not decrypt fails the client session.
    assert_ne!(client.feed(b"\x17\x03\x03\x00\x05hello").0, SIPTLS_OK);
    type TextExport<'a> = Box<dyn Fn(*mut c_char, usize, *mut usize) -> siptls_result + 'a>;
    let exports: [(&str, TextExport); 5] = [
        (
            "siptls_get_last_error",
            Box::new(|b, c, l| unsafe { siptls_get_last_error(b, c, l) }),
        ),
        (
            "siptls_ctx_get_last_error",
            Box::new(|b, c, l| unsafe { siptls_ctx_get_last_error(cctx.0, b, c, l) }),
        ),
        (
            "siptls_ctx_get_counters_prometheus",
            Box::new(|b, c, l| unsafe { siptls_ctx_get_counters_prometheus(cctx.0, b, c, l) }),
        ),
        (
            "siptls_session_get_sni",
            Box::new(|b, c, l| unsafe { siptls_session_get_sni(server.0, b, c, l) }),
        ),
        (
            "siptls_session_get_last_error",
            Box::new(|b, c, l| unsafe { siptls_session_get_last_error(client.0, b, c, l) }),
        ),
    ];
    for (export, call) in &exports {
        // Each has text to give: the length alone says how much.
        let mut len = 0;
        assert_eq!(
            call(null_mut(), 0, &mut len),
            SIPTLS_ERR_BUFFER_TOO_SMALL,
            "{export}"
        );
        assert!(len > 0, "{export}: no text to report");
        for (buf, cap, expected) in [
            (null_mut(), 16, SIPTLS_ERR_NULL_ARGUMENT),
            (
                dangling_mut(),
                isize::MAX as usize + 1,
                SIPTLS_ERR_INVALID_ARGUMENT,
            ),
        ] {
            let mut len = GARBAGE;
            let code = call(buf, cap, &mut len);
            assert_eq!(code, expected, "{export}, capacity {cap}");
            assert_eq!(len, 0, "{export}, capacity {cap}: length set on failure");
        }
    }
    let mut count = GARBAGE;
    assert_eq!(
        unsafe { siptls_ctx_list_trust(cctx.0, null_mut(), 4, &mut count) },
        SIPTLS_ERR_NULL_ARGUMENT
    );
    assert_eq!(count, 0, "siptls_ctx_list_trust: count set on failure");
}
