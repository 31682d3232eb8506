/*
 * Loads libsiptls at run time, as a gateway with optional TLS support (or a
 * plugin host) would: dlopen, and one dlsym, of siptls_get_api, which hands
 * out every function of the ABI this program was built for; no link-time
 * dependency on the library. Then runs a complete mutual-TLS session between a client and a
 * server in memory, with no sockets: the bytes one session takes are fed
 * to the other.
 *
 * usage: dlopen [CERTS_DIR [LIBRARY]]
 *   CERTS_DIR  holds server/ and client/ in the three-file layout (default: certs)
 *   LIBRARY    the shared library; default $SIPTLS_LIB, else the one the
 *              Makefile was pointed at (SIPTLS_DEFAULT_LIB)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Only for the types and constants; no function is called directly, and the
 * program is not linked against the library. */
#include "siptls.h"

#ifndef SIPTLS_DEFAULT_LIB
#define SIPTLS_DEFAULT_LIB "libsiptls.so"
#endif

#define BUF_SIZE 16384u
/* A full handshake takes 2 (TLS 1.3) or 3 (TLS 1.2) round trips; the rest is slack. */
#define MAX_ROUNDS 16

/* The library's function table, for the ABI of the header we were built with. */
static const siptls_api *api;

/* The one symbol looked up by name. */
typedef siptls_result (*get_api_fn)(uint32_t abi_version, const siptls_api **api_out);

/* POSIX dlsym returns object pointers that must convert to function pointers. */
_Static_assert(sizeof(void *) == sizeof(get_api_fn), "function pointers differ from void *");

/* ...and its type checked against the header's prototype at compile time.
 * _Generic does not evaluate its operand: no reference reaches the linker. */
_Static_assert(_Generic(&siptls_get_api, get_api_fn: 1, default: 0),
               "get_api_fn does not match siptls.h");

static void report(const char *what, siptls_result code, const siptls_session *session)
{
    char detail[1024];
    size_t len = 0;
    siptls_result got = session != NULL
                            ? api->session_get_last_error(session, detail, sizeof detail, &len)
                            : api->get_last_error(detail, sizeof detail, &len);
    if (got != SIPTLS_OK && got != SIPTLS_ERR_BUFFER_TOO_SMALL) {
        snprintf(detail, sizeof detail, "(no detail)");
    }
    fprintf(stderr, "error: %s: %s (%u): %s\n", what, api->result_str((uint32_t)code),
            (unsigned)code, detail);
}

static siptls_ctx *make_ctx(siptls_role role, const char *certs, const char *sub)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", certs, sub) >= sizeof dir) {
        fprintf(stderr, "error: certificate path too long\n");
        return NULL;
    }
    siptls_ctx *ctx = NULL;
    siptls_result r = api->ctx_new((uint32_t)role, &ctx);
    if (r != SIPTLS_OK) {
        report("creating a context", r, NULL);
        return NULL;
    }
    size_t added = 0;
    r = api->ctx_load_pem_dir(ctx, dir, NULL, 1, &added);
    if (r != SIPTLS_OK) {
        char what[4200];
        snprintf(what, sizeof what, "loading %s", dir);
        report(what, r, NULL);
        api->ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Moves all ciphertext `from` has into `to`; how many bytes, or -1. */
static long transfer(siptls_session *from, siptls_session *to, const char *direction)
{
    static uint8_t buf[BUF_SIZE];
    long moved = 0;
    for (;;) {
        size_t n = 0;
        siptls_result r = api->session_take(from, buf, sizeof buf, &n);
        if (r == SIPTLS_AGAIN) {
            return moved;
        }
        if (r != SIPTLS_OK) {
            report(direction, r, from);
            return -1;
        }
        for (size_t off = 0; off < n;) {
            size_t used = 0;
            r = api->session_feed(to, buf + off, n - off, &used);
            if (r == SIPTLS_PEER_CLOSED) {
                break; /* close_notify: what follows it means nothing */
            }
            if (r != SIPTLS_OK && r != SIPTLS_BUFFER_FULL) {
                report(direction, r, to);
                return -1;
            }
            if (used == 0) {
                /* Only unread plaintext stops a feed, and this program reads
                 * each message right after sending it. */
                fprintf(stderr, "error: %s: receiver's plaintext buffer is full\n", direction);
                return -1;
            }
            off += used;
        }
        moved += (long)n;
    }
}

/* Moves bytes both ways until both are quiet. */
static bool pump(siptls_session *client, siptls_session *server, bool *quiet_out)
{
    long a = transfer(client, server, "client -> server");
    long b = a < 0 ? -1 : transfer(server, client, "server -> client");
    *quiet_out = a == 0 && b == 0;
    return a >= 0 && b >= 0;
}

static bool get_info(siptls_session *s, siptls_session_info *info)
{
    info->struct_size = sizeof *info; /* what this program knows of the struct */
    siptls_result r = api->session_get_info(s, info);
    if (r != SIPTLS_OK) {
        report("siptls_session_get_info", r, s);
        return false;
    }
    return true;
}

static bool handshake(siptls_session *client, siptls_session *server)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        bool quiet = false;
        siptls_session_info ci, si;
        if (!pump(client, server, &quiet) || !get_info(client, &ci) || !get_info(server, &si)) {
            return false;
        }
        if (quiet && !ci.handshaking && !si.handshaking) {
            /* Each side verified the other to trust ID 1, the demo root. */
            const siptls_session_info *both[2] = {&ci, &si};
            for (int i = 0; i < 2; i++) {
                const siptls_session_info *in = both[i];
                if (!in->verified || in->verify_status != SIPTLS_VERIFY_OK ||
                    in->trust_id != 1 || in->depth != 1) {
                    fprintf(stderr,
                            "error: %s verification: verified=%d status=%s trust_id=%u depth=%u\n",
                            i == 0 ? "client" : "server", (int)in->verified,
                            api->verify_status_str((uint32_t)in->verify_status),
                            (unsigned)in->trust_id, (unsigned)in->depth);
                    return false;
                }
            }
            if (ci.protocol_version != si.protocol_version || ci.cipher_suite != si.cipher_suite) {
                fprintf(stderr, "error: the two ends disagree on version or suite\n");
                return false;
            }
            printf("dlopen: handshake ok version=%s suite=%s\n",
                   ci.protocol_version == SIPTLS_TLS13 ? "TLSv1.3" : "TLSv1.2",
                   api->cipher_suite_str(ci.cipher_suite));
            return true;
        }
    }
    fprintf(stderr, "error: the handshake did not finish in %d rounds\n", MAX_ROUNDS);
    return false;
}

/* Sends `text` from one end and checks the other end reads exactly it. */
static bool exchange(siptls_session *from, siptls_session *to, siptls_session *client,
                     siptls_session *server, const char *text)
{
    size_t len = strlen(text);
    size_t accepted = 0;
    siptls_result r = api->session_write(from, (const uint8_t *)text, len, &accepted);
    if (r != SIPTLS_OK || accepted != len) {
        report("siptls_session_write", r, from);
        return false;
    }
    bool quiet = false;
    if (!pump(client, server, &quiet)) {
        return false;
    }
    char got[256];
    size_t got_len = 0;
    while (got_len < sizeof got - 1) {
        size_t n = 0;
        r = api->session_read(to, (uint8_t *)got + got_len, sizeof got - 1 - got_len, &n);
        if (r == SIPTLS_AGAIN) {
            break;
        }
        if (r != SIPTLS_OK) {
            report("siptls_session_read", r, to);
            return false;
        }
        got_len += n;
    }
    got[got_len] = '\0';
    if (got_len != len || memcmp(got, text, len) != 0) {
        fprintf(stderr, "error: sent \"%s\" but the peer read \"%s\"\n", text, got);
        return false;
    }
    printf("dlopen: %s -> %s: \"%s\"\n", from == client ? "client" : "server",
           to == client ? "client" : "server", got);
    return true;
}

/* `closer` sends close_notify; the other end must then read PEER_CLOSED. */
static bool close_one_way(siptls_session *closer, siptls_session *other, siptls_session *client,
                          siptls_session *server)
{
    siptls_result r = api->session_close(closer);
    if (r != SIPTLS_OK) {
        report("siptls_session_close", r, closer);
        return false;
    }
    bool quiet = false;
    if (!pump(client, server, &quiet)) {
        return false;
    }
    uint8_t byte;
    size_t n = 0;
    r = api->session_read(other, &byte, 1, &n);
    siptls_session_info info;
    if (r != SIPTLS_PEER_CLOSED || !get_info(other, &info) ||
        info.close_state != SIPTLS_CLOSE_CLEAN) {
        fprintf(stderr, "error: close_notify from the %s was not seen: read gave %s (%u)\n",
                closer == client ? "client" : "server", api->result_str((uint32_t)r),
                (unsigned)r);
        return false;
    }
    return true;
}

static bool run(const char *certs)
{
    bool ok = false;
    siptls_ctx *server_ctx = make_ctx(SIPTLS_ROLE_SERVER, certs, "server");
    siptls_ctx *client_ctx = make_ctx(SIPTLS_ROLE_CLIENT, certs, "client");
    siptls_session *server = NULL, *client = NULL;
    siptls_result r;
    if (server_ctx == NULL || client_ctx == NULL) {
        goto done;
    }
    if ((r = api->session_new(server_ctx, NULL, &server)) != SIPTLS_OK) {
        report("creating the server session", r, NULL);
        goto done;
    }
    if ((r = api->session_new(client_ctx, "gw-b.example.test", &client)) != SIPTLS_OK) {
        report("creating the client session", r, NULL);
        goto done;
    }
    ok = handshake(client, server) &&
         exchange(client, server, client, server, "OPTIONS over memory, from gw-a") &&
         exchange(server, client, client, server, "200 OK, from gw-b") &&
         close_one_way(client, server, client, server) &&
         close_one_way(server, client, client, server);
done:
    /* Sessions first, then contexts; every free accepts NULL. */
    api->session_free(client);
    api->session_free(server);
    api->ctx_free(client_ctx);
    api->ctx_free(server_ctx);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))) {
        fprintf(argc > 3 ? stderr : stdout, "usage: dlopen [CERTS_DIR [LIBRARY]]\n");
        return argc > 3 ? 2 : 0;
    }
    const char *certs = argc > 1 ? argv[1] : "certs";
    const char *path = argc > 2 ? argv[2] : getenv("SIPTLS_LIB");
    if (path == NULL || *path == '\0') {
        path = SIPTLS_DEFAULT_LIB;
    }

    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "error: dlopen(%s): %s\n", path, dlerror());
        return 1;
    }
    dlerror(); /* clear any earlier error, so the one below is about this lookup */
    void *sym = dlsym(lib, "siptls_get_api");
    if (sym == NULL) {
        const char *why = dlerror();
        fprintf(stderr, "error: dlsym(siptls_get_api): %s\n", why ? why : "symbol is NULL");
        dlclose(lib);
        return 1;
    }
    /* memcpy, not a cast: ISO C has no object-to-function pointer conversion. */
    get_api_fn get_api;
    memcpy(&get_api, &sym, sizeof get_api);
    /* The library hands out the table of the ABI this header describes, or
     * refuses: a library of another ABI cannot be used by mistake. */
    siptls_result r = get_api(SIPTLS_ABI_VERSION, &api);
    if (r != SIPTLS_OK) {
        fprintf(stderr, "error: %s provides no ABI version %d (result %u)\n", path,
                SIPTLS_ABI_VERSION, (unsigned)r);
        dlclose(lib);
        return 1;
    }
    printf("dlopen: loaded %s, siptls_get_version()=%s, ABI %u\n", path, api->get_version(),
           (unsigned)api->abi_version);

    bool ok = run(certs);
    if (dlclose(lib) != 0) {
        fprintf(stderr, "error: dlclose: %s\n", dlerror());
        ok = false;
    }
    if (ok) {
        printf("dlopen: ok\n");
    }
    return ok ? 0 : 1;
}
