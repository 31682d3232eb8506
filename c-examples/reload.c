/*
 * Hot reload with calls in progress: a SIGHUP reload of the three-file
 * directory, a daily CRL refresh, per-call user data in the verify callback,
 * and calls hung up while siptls is working on them: from inside their own
 * verify callback, and from a management thread.
 *
 *   reload CERTS_DIR [RELOADS]
 *
 * CERTS_DIR is what `siptls-certgen --out CERTS_DIR` writes (server/,
 * client/, ca/crl.pem). Client and server run in this one process and pass
 * their TLS bytes in memory, so the example needs no network. It keeps
 * LIVE_CALLS calls up, reloads the server RELOADS times (default 50) while
 * new calls keep arriving, and checks that every call survives.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siptls.h"

#define LIVE_CALLS 20
#define BUF_SIZE 16384u

/* The gateway's own record of a call, attached to its server session. */
typedef struct {
    unsigned id;
    siptls_session *session;
    /* Set by the verify callback: the generation that let the peer in. */
    uint64_t verified_by_generation;
    /* A policy of this example's: hang up from inside the verify callback. */
    bool hang_up_in_callback;
    /* Or ask the management thread to hang up, and wait until it has. */
    bool hang_up_from_management;
} call;

/* The management (OAM) thread: hangs up the calls it is handed. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    call *to_hang_up;
    bool done;
} management;

static management oam = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false };

static void *management_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&oam.lock);
    while (oam.to_hang_up == NULL) {
        pthread_cond_wait(&oam.changed, &oam.lock);
    }
    /* Safe while another thread is inside the session: the free waits for
     * that call to return. */
    siptls_session_free(oam.to_hang_up->session);
    oam.to_hang_up->session = NULL;
    oam.done = true;
    pthread_cond_broadcast(&oam.changed);
    pthread_mutex_unlock(&oam.lock);
    return NULL;
}

static volatile sig_atomic_t reload_requested = 0;

static void on_sighup(int signo)
{
    (void)signo;
    reload_requested = 1;
}

static void fail(const char *what, siptls_result r)
{
    char detail[512];
    size_t len = 0;
    siptls_get_last_error(detail, sizeof detail, &len);
    fprintf(stderr, "reload: %s: %s (%s)\n", what, siptls_result_str((uint32_t)r), detail);
    exit(1);
}

/* The server's verify callback: every report names the call it is about. */
static uint32_t on_verify(void *userdata, const siptls_verify_report *report)
{
    (void)userdata;
    call *c = report->session_userdata;
    if (c == NULL || report->status != SIPTLS_VERIFY_OK) {
        return SIPTLS_VERIFY_REJECT;
    }
    c->verified_by_generation = report->generation;
    if (c->hang_up_in_callback) {
        /* Safe: siptls frees the session when the feed running us returns. */
        siptls_session_free(c->session);
        c->session = NULL;
    }
    if (c->hang_up_from_management) {
        pthread_mutex_lock(&oam.lock);
        oam.to_hang_up = c;
        pthread_cond_broadcast(&oam.changed);
        while (!oam.done) {
            pthread_cond_wait(&oam.changed, &oam.lock);
        }
        pthread_mutex_unlock(&oam.lock);
    }
    return SIPTLS_VERIFY_ACCEPT;
}

/* Moves TLS bytes from one session to the other; returns how many moved.
 * `*to` is re-read after every feed: the callback may hang up (free) it. */
static size_t transfer(siptls_session *from, siptls_session *const *to)
{
    uint8_t buf[BUF_SIZE];
    size_t total = 0, n = 0;
    while (*to != NULL && siptls_session_take(from, buf, sizeof buf, &n) == SIPTLS_OK) {
        size_t off = 0;
        while (*to != NULL && off < n) {
            size_t used = 0;
            siptls_result r = siptls_session_feed(*to, buf + off, n - off, &used);
            if (r != SIPTLS_OK && r != SIPTLS_PEER_CLOSED) {
                fail("feeding TLS bytes", r);
            }
            off += used;
        }
        total += n;
    }
    return total;
}

/* Pumps both ways until quiet, or until the server side hangs up. */
static void pump(siptls_session *client, call *c)
{
    for (;;) {
        size_t moved = transfer(client, &c->session);
        if (c->session == NULL) {
            return;
        }
        moved += transfer(c->session, &client);
        if (moved == 0) {
            return;
        }
    }
}

static siptls_ctx *ctx_from_dir(siptls_role role, const char *dir)
{
    siptls_ctx *ctx = NULL;
    siptls_result r = siptls_ctx_new((uint32_t)role, &ctx);
    if (r != SIPTLS_OK) {
        fail("creating a context", r);
    }
    size_t entries = 0;
    r = siptls_ctx_load_pem_dir(ctx, dir, NULL, 1, &entries);
    if (r != SIPTLS_OK) {
        fail(dir, r);
    }
    return ctx;
}

/* Opens a call: a client session, and the server session it reaches. */
static siptls_session *open_call(siptls_ctx *client_ctx, siptls_ctx *server_ctx, call *c)
{
    siptls_session *client = NULL;
    siptls_result r = siptls_session_new(client_ctx, "gw-b.example.test", &client);
    if (r == SIPTLS_OK) {
        r = siptls_session_new(server_ctx, NULL, &c->session);
    }
    if (r == SIPTLS_OK) {
        r = siptls_session_set_userdata(c->session, c);
    }
    if (r != SIPTLS_OK) {
        fail("opening a call", r);
    }
    pump(client, c);
    return client;
}

/* One SIP message each way over an established call. */
static void exchange(siptls_session *client, call *c)
{
    static const char request[] = "OPTIONS sip:gw-b.example.test SIP/2.0\r\n\r\n";
    uint8_t buf[BUF_SIZE];
    size_t n = 0;
    siptls_result r = siptls_session_write(client, (const uint8_t *)request, sizeof request - 1, &n);
    if (r != SIPTLS_OK) {
        fail("writing on a live call", r);
    }
    pump(client, c);
    if (siptls_session_read(c->session, buf, sizeof buf, &n) != SIPTLS_OK || n != sizeof request - 1) {
        fprintf(stderr, "reload: call %u lost its message\n", c->id);
        exit(1);
    }
}

/* The daily CRL refresh: loading the same file twice is not an error. */
static void refresh_crl(siptls_ctx *ctx, const char *path)
{
    size_t loaded = 0;
    siptls_result r = siptls_ctx_add_crl_file(ctx, path, &loaded);
    if (r == SIPTLS_ERR_CRL_NOT_NEWER) {
        return; /* the CRL in force is already this one or newer */
    }
    if (r != SIPTLS_OK) {
        fail(path, r);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CERTS_DIR [RELOADS]\n", argv[0]);
        return 2;
    }
    const int reloads = argc == 3 ? atoi(argv[2]) : 50;
    char server_dir[4096], client_dir[4096], crl_path[4096];
    snprintf(server_dir, sizeof server_dir, "%s/server", argv[1]);
    snprintf(client_dir, sizeof client_dir, "%s/client", argv[1]);
    snprintf(crl_path, sizeof crl_path, "%s/ca/crl.pem", argv[1]);

    siptls_ctx *server_ctx = ctx_from_dir(SIPTLS_ROLE_SERVER, server_dir);
    siptls_ctx *client_ctx = ctx_from_dir(SIPTLS_ROLE_CLIENT, client_dir);
    siptls_result r = siptls_ctx_set_verify_callback(server_ctx, on_verify, NULL);
    if (r != SIPTLS_OK) {
        fail("setting the verify callback", r);
    }
    refresh_crl(server_ctx, crl_path);
    /* sigaction, not signal(): in strict C, signal() handles one signal only. */
    struct sigaction hup = { .sa_handler = on_sighup };
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, NULL);

    call calls[LIVE_CALLS];
    siptls_session *clients[LIVE_CALLS];
    for (unsigned i = 0; i < LIVE_CALLS; i++) {
        calls[i] = (call){ .id = i };
        clients[i] = open_call(client_ctx, server_ctx, &calls[i]);
    }

    for (int i = 0; i < reloads; i++) {
        raise(SIGHUP); /* as an operator's `kill -HUP` would */
        if (reload_requested) {
            reload_requested = 0;
            size_t entries = 0;
            /* All or nothing: on failure the old configuration stays in force. */
            r = siptls_ctx_load_pem_dir(server_ctx, server_dir, NULL, 1, &entries);
            if (r != SIPTLS_OK) {
                fail("SIGHUP reload", r);
            }
        }
        if (i % 10 == 0) {
            refresh_crl(server_ctx, crl_path);
        }
        uint64_t generation = 0;
        r = siptls_ctx_get_generation(server_ctx, &generation);
        if (r != SIPTLS_OK) {
            fail("reading the configuration generation", r);
        }

        /* A new call verifies against the configuration just loaded. */
        call fresh = { .id = 1000u + (unsigned)i };
        siptls_session *client = open_call(client_ctx, server_ctx, &fresh);
        if (fresh.verified_by_generation != generation) {
            fprintf(stderr, "reload: call verified by generation %llu, expected %llu\n",
                    (unsigned long long)fresh.verified_by_generation, (unsigned long long)generation);
            return 1;
        }
        siptls_session_free(fresh.session);
        siptls_session_free(client);

        /* The calls that were up before every reload carry on. */
        exchange(clients[i % LIVE_CALLS], &calls[i % LIVE_CALLS]);
    }

    /* A call the gateway hangs up while it is being verified. */
    call doomed = { .id = 9999, .hang_up_in_callback = true };
    siptls_session *client = open_call(client_ctx, server_ctx, &doomed);
    if (doomed.session != NULL || doomed.verified_by_generation == 0) {
        fprintf(stderr, "reload: the hang-up from the callback did not happen\n");
        return 1;
    }
    siptls_session_free(client);

    /* A call the management thread hangs up while it is being verified. */
    pthread_t manager;
    if (pthread_create(&manager, NULL, management_thread, NULL) != 0) {
        fprintf(stderr, "reload: cannot start the management thread\n");
        return 1;
    }
    call killed = { .id = 9998, .hang_up_from_management = true };
    client = open_call(client_ctx, server_ctx, &killed);
    pthread_join(manager, NULL);
    if (killed.session != NULL || killed.verified_by_generation == 0) {
        fprintf(stderr, "reload: the hang-up from the management thread did not happen\n");
        return 1;
    }
    siptls_session_free(client);

    for (unsigned i = 0; i < LIVE_CALLS; i++) {
        exchange(clients[i], &calls[i]);
        siptls_session_free(calls[i].session);
        siptls_session_free(clients[i]);
    }
    uint64_t generation = 0;
    r = siptls_ctx_get_generation(server_ctx, &generation);
    if (r != SIPTLS_OK) {
        fail("reading the configuration generation", r);
    }
    printf("reload: %d reloads, %u calls kept up, configuration generation %llu\n", reloads,
           (unsigned)LIVE_CALLS, (unsigned long long)generation);
    siptls_ctx_free(client_ctx);
    siptls_ctx_free(server_ctx);
    return 0;
}
