/*
 * Event-driven SIP-over-TLS server: many mutually authenticated
 * connections in one epoll loop, each driven by siptls_session_pump_fd,
 * its plaintext cut into messages by a siptls_framer. It answers OPTIONS
 * with 200 OK (other requests with 501), keep-alive pings with pongs, and
 * drops connections that do not finish their handshake in time.
 *
 *   SIGHUP   reload what changed in the certificate directory now (it is also
 *            checked every 5 seconds; atomic; live calls keep theirs)
 *   SIGUSR1  print the counters
 *   SIGTERM  close_notify to every peer, then exit
 */
#include "common.h"
#include "redis_store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sip_server [--host 127.0.0.1] [--port 5061] [--certs certs/server]\n"
            "                  [--tls12|--tls13] [--profile default|128bit|post-quantum]\n"
            "                  [--handshake-timeout SECONDS] [--max-connections N]\n"
            "                  [--ticket-keys FILE] [--session-lifetime SECONDS]\n"
            "                  [--redis HOST:PORT [--redis-timeout MS]]\n"
            "Serves SIP over mutual TLS to many clients at once: OPTIONS gets 200 OK,\n"
            "other requests 501, keep-alive pings a pong. Changed files in --certs\n"
            "are reloaded within 5 s, or at once on SIGHUP;\n"
            "SIGUSR1 prints the counters, SIGTERM closes every connection and exits.\n"
            "Defaults: handshake timeout 5 s, at most 10000 connections.\n"
            "A farm: servers given the same --ticket-keys file resume each other's\n"
            "tickets; with --redis they also share a session store (Redis 6.2 or later),\n"
            "so TLS 1.2 session IDs resume on any of them. Entries expire after\n"
            "--session-lifetime (default 7200 s); each Redis command waits at most\n"
            "--redis-timeout (default 200 ms), and a Redis that is down only costs\n"
            "full handshakes.\n");
}

typedef struct {
    int fd;
    siptls_session *session;
    siptls_framer *framer;
    int64_t handshake_deadline; /* ms; 0 once the handshake is done */
    uint32_t watching;          /* the epoll events registered */
    bool over;                  /* to be dropped in the next sweep */
} conn;

/* Every connection: for the sweeps (ended, handshake timed out) and SIGTERM. */
typedef struct {
    conn **items;
    size_t len, cap;
} conn_list;

static bool append(conn_list *list, conn *c)
{
    if (list->len == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        conn **items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) {
            return false;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->len++] = c;
    return true;
}

static volatile sig_atomic_t reload_requested, counters_requested, stop_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        reload_requested = 1;
    } else if (sig == SIGUSR1) {
        counters_requested = 1;
    } else {
        stop_requested = 1;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop_conn(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    siptls_framer_free(c->framer);
    siptls_session_free(c->session);
    free(c);
}

/* Queues all of `text`, or returns false to end the connection: with 64 KiB
 * already waiting in the session's send buffer, the peer is not reading. A
 * response or pong is never left half written, so none can split another. */
static bool write_whole(conn *c, const char *text, size_t len)
{
    size_t used = 0;
    return siptls_session_write(c->session, (const uint8_t *)text, len, &used) == SIPTLS_OK &&
           used == len;
}

/* Answers one request; responses and other traffic need nothing here. */
static bool answer(conn *c, const uint8_t *msg, size_t len)
{
    const char *text = (const char *)msg;
    if (strncmp(text, "SIP/2.0 ", 8) == 0) {
        return true;
    }
    bool options = len > 8 && strncmp(text, "OPTIONS ", 8) == 0;
    static char response[4096];
    size_t response_len = 0;
    if (!ex_sip_response(text, len, options ? "SIP/2.0 200 OK" : "SIP/2.0 501 Not Implemented",
                         response, sizeof response, &response_len)) {
        return false;
    }
    return write_whole(c, response, response_len);
}

/* Hands one chunk of plaintext to the framer and acts on what it finds;
 * false when the connection must end. */
static bool on_plaintext(conn *c, const uint8_t *plain, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        /* BUFFER_FULL: take the messages out below, then push the rest. */
        siptls_result pr = siptls_framer_push(c->framer, plain + off, n - off, &used);
        if (pr != SIPTLS_OK && pr != SIPTLS_BUFFER_FULL) {
            ex_report("framer_push", pr, NULL);
            return false;
        }
        off += used;
        siptls_sip_event ev = {.struct_size = sizeof ev};
        siptls_result fr;
        while ((fr = siptls_framer_take_event(c->framer, &ev)) == SIPTLS_OK) {
            if (ev.kind == SIPTLS_SIP_MESSAGE && !answer(c, ev.message, ev.message_len)) {
                return false;
            }
        }
        if (fr != SIPTLS_AGAIN) {
            ex_report("framing the SIP stream", fr, NULL);
            siptls_session_close(c->session); /* framing is lost: close */
            return false;
        }
    }
    size_t pongs = 0;
    siptls_result pr = siptls_framer_take_pongs(c->framer, &pongs);
    if (pr != SIPTLS_OK) {
        ex_report("framer_take_pongs", pr, NULL);
        return false;
    }
    for (size_t i = 0; i < pongs; i++) {
        if (!write_whole(c, "\r\n", 2)) {
            return false;
        }
    }
    return true;
}

/* Moves the connection's bytes; false when it is over (the caller drops it).
 * The pump's flags say what happened: the handshake completed, plaintext
 * waits (read it; the answers it brings are pumped out by the next round),
 * or nothing more will arrive (reading says whether the peer closed). */
static bool serve(int ep, conn *c)
{
    uint32_t events = 0;
    for (;;) {
        if (siptls_session_pump_fd(c->session, c->fd, &events) != SIPTLS_OK) {
            return false; /* the alert went out; or the socket failed */
        }
        if (events & SIPTLS_EVENT_HANDSHAKE_DONE) {
            c->handshake_deadline = 0;
        }
        if (!(events & (SIPTLS_EVENT_PLAINTEXT | SIPTLS_EVENT_ENDED))) {
            break;
        }
        uint8_t plain[16384];
        size_t n = 0;
        siptls_result r;
        while ((r = siptls_session_read(c->session, plain, sizeof plain, &n)) == SIPTLS_OK) {
            if (!on_plaintext(c, plain, n)) {
                siptls_session_pump_fd(c->session, c->fd, &events); /* send the close */
                return false;
            }
        }
        if (r == SIPTLS_PEER_CLOSED) {
            siptls_session_close(c->session); /* answer close_notify with ours */
            siptls_session_pump_fd(c->session, c->fd, &events);
            return false;
        }
        if (r != SIPTLS_AGAIN) {
            return false; /* truncated, or failed */
        }
    }
    ex_epoll_watch(ep, c->fd, c, events, &c->watching);
    return true;
}

static void accept_all(int ep, int listener, siptls_ctx *ctx, conn_list *all, size_t max,
                       int64_t timeout_ms)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            return; /* EAGAIN: all taken (or an error worth no more than a retry) */
        }
        conn *c = calloc(1, sizeof *c);
        if (all->len >= max || c == NULL || !ex_set_nonblocking(fd) ||
            siptls_session_new(ctx, NULL, &c->session) != SIPTLS_OK ||
            siptls_framer_new(NULL, &c->framer) != SIPTLS_OK) {
            if (c != NULL) {
                siptls_session_free(c->session);
                free(c);
            }
            close(fd);
            continue;
        }
        c->fd = fd;
        c->handshake_deadline = now_ms() + timeout_ms;
        c->watching = EPOLLIN;
        struct epoll_event ee = {.events = EPOLLIN, .data.ptr = c};
        if (!append(all, c) || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee) != 0) {
            c->over = true;
        }
    }
}

int main(int argc, char **argv)
{
    ex_options opts = {.host = "127.0.0.1", .certs = "certs/server", .port = 5061, .version = 0,
                       .profile = SIPTLS_PROFILE_DEFAULT};
    long timeout_s = 5, max_conns = 10000;
    long lifetime_s = SIPTLS_DEFAULT_TICKET_LIFETIME, redis_timeout_ms = 200;
    const char *ticket_keys = NULL, *redis = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        ex_opt_result shared = ex_parse_common_option(argc, argv, &i, true, &opts);
        if (shared == EX_OPT_TAKEN) {
            continue;
        }
        if (shared == EX_OPT_BAD) {
            return 2;
        }
        if (strcmp(argv[i], "--handshake-timeout") == 0 && i + 1 < argc) {
            timeout_s = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--max-connections") == 0 && i + 1 < argc) {
            max_conns = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--ticket-keys") == 0 && i + 1 < argc) {
            ticket_keys = argv[++i];
        } else if (strcmp(argv[i], "--session-lifetime") == 0 && i + 1 < argc) {
            lifetime_s = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc) {
            redis = argv[++i];
        } else if (strcmp(argv[i], "--redis-timeout") == 0 && i + 1 < argc) {
            redis_timeout_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (timeout_s <= 0 || max_conns <= 0 || redis_timeout_ms <= 0 || redis_timeout_ms > 60000) {
        fprintf(stderr, "error: the timeouts and the connection limit must be positive\n");
        return 2;
    }
    if (lifetime_s < SIPTLS_MIN_TICKET_LIFETIME || lifetime_s > SIPTLS_MAX_TICKET_LIFETIME) {
        fprintf(stderr, "error: --session-lifetime takes %d to %d seconds\n",
                SIPTLS_MIN_TICKET_LIFETIME, SIPTLS_MAX_TICKET_LIFETIME);
        return 2;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    siptls_ctx *ctx = ex_ctx_new(SIPTLS_ROLE_SERVER, &opts);
    if (ctx == NULL) {
        return 1;
    }
    /* A verify report per handshake would flood the output at scale. */
    if (siptls_ctx_set_verify_callback(ctx, NULL, NULL) != SIPTLS_OK) {
        siptls_ctx_free(ctx);
        return 1;
    }
    /* The farm: shared ticket keys seal what any member stores or issues;
     * the lifetime bounds tickets and Redis entries alike. */
    siptls_result r = siptls_ctx_set_ticket_lifetime(ctx, (uint32_t)lifetime_s);
    if (r != SIPTLS_OK) {
        ex_report("setting the session lifetime", r, NULL);
        siptls_ctx_free(ctx);
        return 1;
    }
    if (ticket_keys != NULL && !ex_load_ticket_keys(ctx, ticket_keys)) {
        siptls_ctx_free(ctx);
        return 1;
    }
    ex_redis_store *store = NULL;
    if (redis != NULL) {
        store = ex_redis_store_new(redis, (uint32_t)lifetime_s, (uint32_t)redis_timeout_ms);
        siptls_session_store callbacks = store ? ex_redis_store_callbacks(store)
                                               : (siptls_session_store){0};
        r = store ? siptls_ctx_set_session_store(ctx, &callbacks) : SIPTLS_ERR_INVALID_ARGUMENT;
        if (r != SIPTLS_OK) {
            ex_report("setting the Redis session store", r, NULL);
            siptls_ctx_free(ctx);
            ex_redis_store_free(store);
            return 1;
        }
    }
    int listener = ex_listen(opts.host, opts.port);
    int ep = epoll_create1(0);
    if (listener < 0 || ep < 0 || !ex_set_nonblocking(listener)) {
        siptls_ctx_free(ctx);
        return 1;
    }
    char where[128];
    ex_sockaddr_str(listener, false, where, sizeof where);
    printf("sip_server: listening on %s\n", where);
    struct epoll_event lee = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lee);

    conn_list all = {0};
    struct epoll_event events[256];
    int64_t next_reload = now_ms() + 5000;
    while (!stop_requested) {
        int n = epoll_wait(ep, events, 256, 200);
        if (n < 0 && errno != EINTR) {
            perror("error: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c == NULL) {
                accept_all(ep, listener, ctx, &all, (size_t)max_conns, timeout_s * 1000);
            } else if (!c->over && !serve(ep, c)) {
                c->over = true;
            }
        }
        /* The sweep: drop the ended connections and those whose handshake
         * ran out of time, keeping the others in order. */
        int64_t now = now_ms();
        size_t kept = 0;
        for (size_t i = 0; i < all.len; i++) {
            conn *c = all.items[i];
            if (c->over || (c->handshake_deadline != 0 && now > c->handshake_deadline)) {
                drop_conn(ep, c);
            } else {
                all.items[kept++] = c;
            }
        }
        all.len = kept;
        /* The certificate files: siptls compares them with what it loaded
         * and takes what changed, all of it or nothing (a key written
         * before its certificate waits for the certificate). */
        if (reload_requested || now >= next_reload) {
            uint32_t reloaded = 0;
            r = siptls_ctx_reload_if_changed(ctx, &reloaded);
            if (r != SIPTLS_OK) {
                printf("sip_server: reload refused, the configuration in force stays\n");
                fflush(stdout);
                ex_report("reloading the certificate files", r, NULL);
            } else if (reloaded != 0 || reload_requested) {
                printf("sip_server: reload %s, %s\n", siptls_result_str((uint32_t)r),
                       reloaded != 0 ? "files changed" : "nothing changed");
                fflush(stdout);
            }
            reload_requested = 0;
            next_reload = now + 5000;
        }
        if (counters_requested) {
            counters_requested = 0;
            ex_print_counters(ctx);
            if (store != NULL) {
                ex_redis_store_print(store);
            }
        }
    }
    printf("sip_server: closing %zu connections\n", all.len);
    for (size_t i = 0; i < all.len; i++) {
        uint32_t events = 0;
        siptls_session_close(all.items[i]->session);
        siptls_session_pump_fd(all.items[i]->session, all.items[i]->fd, &events);
        drop_conn(ep, all.items[i]);
    }
    free(all.items);
    ex_print_counters(ctx);
    if (store != NULL) {
        ex_redis_store_print(store);
    }
    close(listener);
    close(ep);
    siptls_ctx_free(ctx); /* before the store its callbacks use */
    ex_redis_store_free(store);
    return 0;
}
