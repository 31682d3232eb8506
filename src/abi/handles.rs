//! The handles a C caller holds: opaque, their objects owned by the library.
//! Each handle's comment lists its calls, grouped as the guide groups them;
//! `tests/exports.rs` fails when a call is missing from its handle's list.

/// A TLS configuration for one role, shared by many sessions and threads.
///
/// - Life: `siptls_ctx_new`, `siptls_ctx_free`, `siptls_ctx_get_last_error`,
///   `siptls_ctx_get_generation`.
/// - Identities: `siptls_ctx_set_identity_pem`, `siptls_ctx_load_identity_files`,
///   `siptls_ctx_add_identity_pem`, `siptls_ctx_add_identity_files`,
///   `siptls_ctx_remove_identity`, `siptls_ctx_set_identity_names`,
///   `siptls_ctx_add_identity_signer`, `siptls_ctx_set_ocsp_response`,
///   `siptls_ctx_load_ocsp_file`,
///   `siptls_ctx_load_pem_dir`, `siptls_ctx_reload_if_changed`.
/// - Trust table: `siptls_ctx_add_trust`, `siptls_ctx_add_trust_list`,
///   `siptls_ctx_add_trust_file`, `siptls_ctx_replace_trust_list`,
///   `siptls_ctx_remove_trust`, `siptls_ctx_list_trust`, `siptls_ctx_get_trust`,
///   `siptls_ctx_set_trust_sip_domain`, `siptls_ctx_set_trust_eku_policy`.
/// - CRLs: `siptls_ctx_add_crl`, `siptls_ctx_add_crl_file`, `siptls_ctx_count_crls`,
///   `siptls_ctx_get_crl`, `siptls_ctx_remove_crl`, `siptls_ctx_clear_crls`,
///   `siptls_ctx_set_missing_crl_policy`, `siptls_ctx_set_expired_crl_policy`.
/// - Verification: `siptls_ctx_set_client_auth`, `siptls_ctx_set_max_ca_depth`,
///   `siptls_ctx_set_name_check`, `siptls_ctx_set_verify_callback`,
///   `siptls_ctx_set_allow_override`, `siptls_ctx_set_time_callback`,
///   `siptls_ctx_set_eku_policy`.
/// - Versions and suites: `siptls_ctx_set_versions`, `siptls_ctx_set_profile`,
///   `siptls_ctx_set_cipher_suites`, `siptls_ctx_set_kx_groups`.
/// - Resumption: `siptls_ctx_set_resumption`, `siptls_ctx_set_session_cache_size`,
///   `siptls_ctx_set_session_store`, `siptls_ctx_set_tls13_tickets`,
///   `siptls_ctx_set_ticket_lifetime`, `siptls_ctx_set_ticket_keys`,
///   `siptls_ctx_load_ticket_key_file`.
/// - Operations: `siptls_ctx_set_log_callback`, `siptls_ctx_get_counters`,
///   `siptls_ctx_reset_counters`, `siptls_ctx_get_counters_prometheus`,
///   `siptls_ctx_set_keylog_file`, `siptls_ctx_set_keylog_callback`,
///   `siptls_ctx_use_sslkeylogfile`, `siptls_ctx_set_expiry_warning`,
///   `siptls_ctx_count_expiries`, `siptls_ctx_get_expiry`.
/// - Connection pools: `siptls_ctx_get_connection_key`.
#[allow(non_camel_case_types)]
pub struct siptls_ctx {
    _private: [u8; 0],
}

/// One TLS connection. Drive it from one thread at a time.
///
/// - Life: `siptls_session_new`, `siptls_session_new_with_options`, `siptls_session_free`,
///   `siptls_session_get_last_error`, `siptls_session_set_userdata`,
///   `siptls_session_get_userdata`.
/// - Bytes: `siptls_session_feed`, `siptls_session_take`, `siptls_session_write`,
///   `siptls_session_read`, `siptls_session_close`,
///   `siptls_session_feed_eof`, `siptls_session_get_events`.
/// - The socket helper: `siptls_session_pump_fd`, `siptls_session_pump_io`.
/// - State: `siptls_session_get_info`, `siptls_session_get_peer_cert`,
///   `siptls_session_get_sni`, `siptls_session_get_connection_key`.
#[allow(non_camel_case_types)]
pub struct siptls_session {
    _private: [u8; 0],
}

/// Frames one connection's SIP stream; one thread at a time.
///
/// - `siptls_framer_new`, `siptls_framer_free`, `siptls_framer_push`,
///   `siptls_framer_take_event`, `siptls_framer_take_pongs`.
#[allow(non_camel_case_types)]
pub struct siptls_framer {
    _private: [u8; 0],
}
