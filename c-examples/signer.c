/*
 * A TLS endpoint whose private key siptls never sees: every handshake
 * signature is asked of a signing callback, which here signs through
 * OpenSSL's EVP API, as a secure element's or an HSM's driver would on a
 * gateway. It completes one mutually authenticated handshake, as a server
 * (waiting for one client) or as a client (connecting to one server),
 * prints what was negotiated and how many signatures the callback made,
 * and closes: exit 0 when all of that worked.
 */
#include "common.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: signer --role server|client [--host 127.0.0.1] [--port 5061]\n"
                 "              [--certs DIR] [--tls12|--tls13] [--peer-name NAME]\n"
                 "DIR holds publickey.pem (the chain), privateKey.pem (read by OpenSSL\n"
                 "only) and CAList.pem.\n");
}

/* The "device": an OpenSSL key, and how many times it signed. */
typedef struct {
    EVP_PKEY *key;
    unsigned signatures;
} device;

/* The signing callback: `scheme` names the hash and, for RSA, the padding
 * (RFC 8446 section 4.2.3); the message is not hashed yet. */
static uint32_t sign_with_openssl(void *userdata, uint16_t scheme, const uint8_t *message,
                                  size_t message_len, uint8_t *signature, size_t cap,
                                  size_t *signature_len)
{
    device *dev = userdata;
    const EVP_MD *md;
    int pss = 0;
    switch (scheme) {
    case 0x0403: md = EVP_sha256(); break;           /* ecdsa_secp256r1_sha256 */
    case 0x0503: md = EVP_sha384(); break;           /* ecdsa_secp384r1_sha384 */
    case 0x0804: md = EVP_sha256(); pss = 1; break;  /* rsa_pss_rsae_sha256 */
    case 0x0805: md = EVP_sha384(); pss = 1; break;
    case 0x0806: md = EVP_sha512(); pss = 1; break;
    case 0x0401: md = EVP_sha256(); break;           /* rsa_pkcs1_sha256 (TLS 1.2) */
    case 0x0501: md = EVP_sha384(); break;
    case 0x0601: md = EVP_sha512(); break;
    default: return SIPTLS_SIGN_FAILED;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = cap;
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, &pctx, md, NULL, dev->key) == 1 &&
             (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
             EVP_DigestSign(ctx, signature, &len, message, message_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return SIPTLS_SIGN_FAILED;
    }
    *signature_len = len;
    dev->signatures++;
    return SIPTLS_SIGN_OK;
}

/* The siptls key type of an OpenSSL key. */
static bool key_type_of(EVP_PKEY *key, uint32_t *type)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
        *type = EVP_PKEY_get_bits(key) == 384 ? SIPTLS_KEY_ECDSA_P384 : SIPTLS_KEY_ECDSA_P256;
        return true;
    case EVP_PKEY_RSA:
        *type = SIPTLS_KEY_RSA;
        return true;
    default:
        return false;
    }
}

int main(int argc, char **argv)
{
    ex_options opts = {.host = "127.0.0.1", .certs = "certs/server", .port = 5061,
                       .profile = SIPTLS_PROFILE_DEFAULT};
    const char *role_text = NULL, *peer_name = "gw-b.example.test";
    for (int i = 1; i < argc; i++) {
        ex_opt_result shared = ex_parse_common_option(argc, argv, &i, false, &opts);
        if (shared == EX_OPT_BAD) {
            return 2;
        } else if (shared == EX_OPT_TAKEN) {
            continue;
        } else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
            role_text = argv[++i];
        } else if (strcmp(argv[i], "--peer-name") == 0 && i + 1 < argc) {
            peer_name = argv[++i];
        } else {
            usage(strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    bool server = role_text != NULL && strcmp(role_text, "server") == 0;
    if (role_text == NULL || (!server && strcmp(role_text, "client") != 0)) {
        usage(stderr);
        return 2;
    }

    /* 1. The device: here OpenSSL holds the key; siptls gets only the chain. */
    char path[4096];
    snprintf(path, sizeof path, "%s/privateKey.pem", opts.certs);
    FILE *f = fopen(path, "r");
    device dev = {.key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL};
    if (f) {
        fclose(f);
    }
    uint32_t key_type;
    if (dev.key == NULL || !key_type_of(dev.key, &key_type)) {
        fprintf(stderr, "error: %s: no ECDSA or RSA private key OpenSSL can read\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/publickey.pem", opts.certs);
    size_t chain_len;
    char *chain = ex_read_file(path, &chain_len);

    /* 2. The context: the chain and the signer, the CA list, the version. */
    siptls_ctx *ctx = NULL;
    siptls_result r = siptls_ctx_new(server ? SIPTLS_ROLE_SERVER : SIPTLS_ROLE_CLIENT, &ctx);
    siptls_signer signer = {.struct_size = sizeof signer, .key_type = key_type,
                            .sign = sign_with_openssl, .userdata = &dev};
    if (r == SIPTLS_OK) {
        r = siptls_ctx_add_identity_signer(ctx, SIPTLS_IDENTITY_DEFAULT, (const uint8_t *)chain,
                                           chain ? chain_len : 0, &signer);
    }
    snprintf(path, sizeof path, "%s/CAList.pem", opts.certs);
    size_t added = 0;
    if (r == SIPTLS_OK) {
        r = siptls_ctx_add_trust_file(ctx, path, 1, &added);
    }
    if (r == SIPTLS_OK && opts.version != 0) {
        r = siptls_ctx_set_versions(ctx, opts.version, opts.version);
    }
    free(chain);
    if (r != SIPTLS_OK) {
        ex_report("setting up the context", r, NULL);
        return 1;
    }

    /* 3. One connection: accepted, or made. */
    int fd;
    if (server) {
        int listener = ex_listen(opts.host, opts.port);
        if (listener < 0) {
            return 1;
        }
        printf("signer: listening\n");
        fflush(stdout);
        fd = accept(listener, NULL, NULL);
        close(listener);
    } else {
        fd = ex_connect(opts.host, opts.port);
    }
    static ex_conn conn;
    bool ok = fd >= 0 && ex_set_nonblocking(fd) &&
              ex_conn_open(&conn, fd, ctx, server ? NULL : peer_name) &&
              ex_pump_until(&conn, SIPTLS_EVENT_HANDSHAKE_DONE) && ex_print_session(conn.session);
    printf("signer: %u signature(s) made by OpenSSL for siptls\n", dev.signatures);

    /* 4. close_notify, sent as far as the socket takes it. */
    if (ok) {
        conn.phase = "TLS close";
        siptls_session_close(conn.session);
        ex_pump_until(&conn, 0);
    }
    ex_conn_close(&conn);
    siptls_ctx_free(ctx);
    EVP_PKEY_free(dev.key);
    return ok && dev.signatures > 0 ? 0 : 1;
}
