/*
 * Compiled by tests/header.rs as C99, C11, C++11 and C++17 with gcc and
 * clang, warnings as errors, and with -fshort-enums: the header must be
 * clean in each, and its types must have the same size whatever the flags.
 */
#include "siptls.h"

/* Opaque types can be forward-declared by callers' own headers. */
struct siptls_ctx;
struct siptls_session;

typedef char fixed_width_result[sizeof(siptls_result) == 4 ? 1 : -1];
typedef char fixed_width_status[sizeof(siptls_verify_status) == 4 ? 1 : -1];
typedef char fixed_width_role[sizeof(siptls_role) == 4 ? 1 : -1];
typedef char session_info_size[sizeof(siptls_session_info) == 72 ? 1 : -1];
typedef char crl_info_size[sizeof(siptls_crl_info) == 616 ? 1 : -1];
typedef char trust_entry_size[sizeof(siptls_trust_entry_info) == 544 ? 1 : -1];
/* Constants C code tests fields against exist, with their values. */
typedef char trust_kinds[SIPTLS_TRUST_KIND_ANCHOR == 0 && SIPTLS_TRUST_KIND_PIN == 1 ? 1 : -1];
typedef char trust_limits[SIPTLS_MAX_TRUST_ENTRIES == 16 && SIPTLS_TRUST_ID_NONE == UINT32_MAX ? 1 : -1];
typedef char abi_version[SIPTLS_ABI_VERSION > 0 ? 1 : -1];
typedef char session_store_size[sizeof(siptls_session_store) == 32 ? 1 : -1];
typedef char session_options_size[sizeof(siptls_session_options) == 24 ? 1 : -1];
typedef char log_record_size[sizeof(siptls_log_record) == 32 ? 1 : -1];
typedef char counters_size[sizeof(siptls_counters) == 8 + 8 * (6 + 32 + 256 + 256 + 256 + 8 + 4 + 3) ? 1 : -1];
typedef char expiry_info_size[sizeof(siptls_expiry_info) == 16 + 24 + 256 ? 1 : -1];
typedef char target_size[sizeof(siptls_target) == 12 + 16 + 2 * 256 + 4 ? 1 : -1];
typedef char connection_key_size[sizeof(siptls_connection_key) == 4 + SIPTLS_CONNECTION_KEY_SIZE ? 1 : -1];
typedef char resolver_config_size[sizeof(siptls_resolver_config) == 48 ? 1 : -1];
typedef char profiles[SIPTLS_PROFILE_128BIT == 1 && SIPTLS_IDENTITY_DEFAULT == 0 ? 1 : -1];
typedef char handshake_kinds[SIPTLS_HANDSHAKE_PENDING == 0 && SIPTLS_HANDSHAKE_RESUMED == 3 ? 1 : -1];
typedef char ticket_key_len[SIPTLS_TICKET_KEY_LEN == 32 && SIPTLS_SESSION_VALUE_MAX == 16384 ? 1 : -1];

static uint32_t on_verify(void *userdata, const siptls_verify_report *report)
{
    (void)userdata;
    return report->status == SIPTLS_VERIFY_OK ? SIPTLS_VERIFY_ACCEPT : SIPTLS_VERIFY_REJECT;
}

int main(void)
{
    siptls_ctx *ctx = NULL;
    siptls_result r = siptls_ctx_new(SIPTLS_ROLE_CLIENT, &ctx);
    if (r != SIPTLS_OK) {
        return 1;
    }
    r = siptls_ctx_set_verify_callback(ctx, on_verify, NULL);
    siptls_session_info info;
    info.struct_size = (uint32_t)sizeof info;
    int has_last = SIPTLS_HAS_FIELD(&info, siptls_session_info, hello_generation);
    /* A caller built against an older header: the field past its size is absent. */
    info.struct_size = (uint32_t)offsetof(siptls_session_info, hello_generation);
    int old_has_last = SIPTLS_HAS_FIELD(&info, siptls_session_info, hello_generation);
    int old_has_first = SIPTLS_HAS_FIELD(&info, siptls_session_info, role);
    if (!has_last || old_has_last || !old_has_first) {
        return 2;
    }
    /* A newer library's code, unknown to this header: still a valid value
     * (C: a uint32_t; C++: an enum with uint32_t as its underlying type). */
    siptls_result future = (siptls_result)399;
    const char *text = siptls_result_str(future);
    siptls_ctx_free(ctx);
    return r == SIPTLS_OK && text != NULL ? 0 : 1;
}
