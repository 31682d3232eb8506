/*
 * Load generator for a SIP-over-TLS server: opens N mutually authenticated
 * connections, all driven by one epoll loop through siptls_session_pump_fd.
 * It runs in three phases, each started on every connection at once:
 *
 *   1. the handshakes, each followed by one OPTIONS that shows the server
 *      has finished its side too (then, with --server-pid, the server's
 *      memory with every connection open and idle);
 *   2. --requests OPTIONS per connection, one after another, each waiting
 *      for its 200 OK (the latency is measured per request);
 *   3. a keep-alive ping, then close_notify once its pong is back.
 *
 * Prints handshakes/s, requests/s, the p50 and p99 latency and the
 * server's resident memory per connection. Exits 0 only when every request
 * got its 200 OK, every ping its pong and every connection closed cleanly.
 *
 * A farm: connections are spread over --port and each --also-port; with
 * --rounds all of that is done again, each connection going to the next
 * server, so every resumption lands on another server than the session's
 * first. Each round prints how many handshakes resumed.
 */
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sip_load [--host 127.0.0.1] [--port 5061] [--peer-name gw-b.example.test]\n"
            "                [--certs certs/client] [--tls12|--tls13]\n"
            "                [--profile default|128bit|post-quantum]\n"
            "                [--connections 100] [--requests 10] [--server-pid PID]\n"
            "                [--timeout 120] [--also-port PORT]... [--rounds 1] [--contexts 1]\n"
            "                [--uri sips:DOMAIN [--nameserver ADDR:PORT]]\n"
            "                [--client-certs FILE]\n"
            "Opens --connections mutual-TLS connections at once; on each sends --requests\n"
            "OPTIONS one after another, then a keep-alive ping, then close_notify.\n"
            "--server-pid: also report the server's resident memory per connection.\n"
            "--also-port: spread the connections over --port and these (a farm);\n"
            "--rounds: do it all again, each connection going to the next port, and\n"
            "  report how many handshakes resumed; --contexts: connection i uses client\n"
            "  context i mod N, each with its own session cache (N = --connections:\n"
            "  every connection a different client, as phones are).\n"
            "--uri: find the server as RFC 3263 says and dial the first target that\n"
            "  answers, verifying the URI's domain (instead of --host, --port and\n"
            "  --peer-name); --nameserver: the DNS server to ask.\n"
            "--client-certs: a PEM file of client certificates for the key in\n"
            "  --certs (siptls-certgen --clients N writes one); connection i of a round\n"
            "  presents certificate i mod their count, so with as many certificates as\n"
            "  connections every handshake is the server's first contact with its\n"
            "  client certificate.\n"
            "Exits 0 iff every request got 200 OK, every ping a pong and every\n"
            "connection closed cleanly within --timeout seconds.\n");
}

typedef enum { STEP_HANDSHAKE, STEP_WARMUP, STEP_READY, STEP_REQUEST, STEP_PING, STEP_CLOSING,
               STEP_DONE, STEP_FAILED } step;

typedef struct {
    int fd;
    siptls_session *session;
    siptls_framer *framer;
    size_t index;
    step step;
    unsigned sent;     /* OPTIONS sent so far, the warm-up included */
    unsigned answered; /* measured OPTIONS answered so far */
    int64_t sent_us;   /* when the request in flight went out */
    uint32_t watching; /* the epoll events registered */
} load_conn;

/* What the phases count, and the latency of every request. */
typedef struct {
    size_t ready, failed, done;
    int64_t last_ready_us, last_answer_us;
    unsigned requests;
    int64_t *latency_us;
    size_t latencies;
} load_run;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* VmRSS of a process in KiB; 0 when it cannot be read. */
static long rss_kib(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    long kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}

static void fail(load_conn *c, load_run *run, const char *what, siptls_result code)
{
    /* The first few failures say why; the summary counts them all. */
    if (run->failed < 5) {
        char where[64];
        snprintf(where, sizeof where, "connection %zu: %s", c->index, what);
        ex_report(where, code, c->session);
    }
    if (c->step == STEP_READY) {
        run->ready--;
    }
    c->step = STEP_FAILED;
    run->failed++;
}

static bool send_text(load_conn *c, const char *text, size_t len)
{
    size_t used = 0;
    return siptls_session_write(c->session, (const uint8_t *)text, len, &used) == SIPTLS_OK &&
           used == len;
}

static bool send_options(load_conn *c, const char *peer_name)
{
    char req[512];
    int len = snprintf(req, sizeof req,
                       "OPTIONS sip:%s SIP/2.0\r\n"
                       "Via: SIP/2.0/TLS load.invalid;branch=z9hG4bK-%zu-%u\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:load@load.invalid>;tag=%zu\r\n"
                       "To: <sip:%s>\r\n"
                       "Call-ID: load-%zu@load.invalid\r\n"
                       "CSeq: %u OPTIONS\r\n"
                       "Content-Length: 0\r\n\r\n",
                       peer_name, c->index, c->sent, c->index, peer_name, c->index,
                       c->sent + 1);
    c->sent++;
    c->sent_us = now_us();
    return len > 0 && (size_t)len < sizeof req && send_text(c, req, (size_t)len);
}

/* Acts on one message or keep-alive from the server. */
static void on_event(load_conn *c, load_run *run, const siptls_sip_event *ev,
                     const char *peer_name)
{
    bool ok_answer = ev->kind == SIPTLS_SIP_MESSAGE && ev->message_len > 12 &&
                     memcmp(ev->message, "SIP/2.0 200 ", 12) == 0;
    if (ok_answer && c->step == STEP_WARMUP) {
        c->step = STEP_READY;
        run->ready++;
        run->last_ready_us = now_us();
    } else if (ok_answer && c->step == STEP_REQUEST) {
        run->last_answer_us = now_us();
        run->latency_us[run->latencies++] = run->last_answer_us - c->sent_us;
        if (++c->answered < run->requests) {
            if (!send_options(c, peer_name)) {
                fail(c, run, "sending OPTIONS", SIPTLS_ERR_WRONG_STATE);
            }
        } else if (send_text(c, "\r\n\r\n", 4)) {
            c->step = STEP_PING;
        } else {
            fail(c, run, "sending the ping", SIPTLS_ERR_WRONG_STATE);
        }
    } else if (ev->kind == SIPTLS_SIP_PONG && c->step == STEP_PING) {
        siptls_result r = siptls_session_close(c->session);
        if (r == SIPTLS_OK) {
            c->step = STEP_CLOSING;
        } else {
            fail(c, run, "closing", r);
        }
    } else {
        fprintf(stderr, "error: connection %zu: unexpected %s in step %d\n", c->index,
                ev->kind == SIPTLS_SIP_MESSAGE ? "message" : "keep-alive", (int)c->step);
        fail(c, run, "reading the server's answer", SIPTLS_ERR_WRONG_STATE);
    }
}

/* Moves the connection's bytes and acts on what arrived, as the pump's
 * flags report it: the handshake completed (send the first request), the
 * server's answers wait, or the connection ended. */
static void drive_once(int ep, load_conn *c, load_run *run, const char *peer_name)
{
    uint32_t events = 0;
    for (;;) {
        siptls_result r = siptls_session_pump_fd(c->session, c->fd, &events);
        if (r != SIPTLS_OK) {
            fail(c, run, "moving bytes", r);
            return;
        }
        if (events & SIPTLS_EVENT_HANDSHAKE_DONE) {
            /* The server may still be checking our certificate: the
             * answer to one request says it is done. */
            c->step = STEP_WARMUP;
            if (!send_options(c, peer_name)) {
                fail(c, run, "sending OPTIONS", SIPTLS_ERR_WRONG_STATE);
                return;
            }
            continue; /* pump it out */
        }
        if (!(events & (SIPTLS_EVENT_PLAINTEXT | SIPTLS_EVENT_ENDED))) {
            break;
        }
        uint8_t plain[4096];
        size_t n = 0;
        while ((r = siptls_session_read(c->session, plain, sizeof plain, &n)) == SIPTLS_OK) {
            for (size_t off = 0, used = 0; off < n; off += used) {
                /* BUFFER_FULL: take the answers out below, then push the rest. */
                siptls_result pr = siptls_framer_push(c->framer, plain + off, n - off, &used);
                if (pr != SIPTLS_OK && pr != SIPTLS_BUFFER_FULL) {
                    fail(c, run, "framing the server's answers", pr);
                    return;
                }
                siptls_sip_event ev = {.struct_size = sizeof ev};
                siptls_result fr;
                while ((fr = siptls_framer_take_event(c->framer, &ev)) == SIPTLS_OK &&
                       c->step != STEP_FAILED) {
                    on_event(c, run, &ev, peer_name);
                }
                if (c->step == STEP_FAILED) {
                    return;
                }
                if (fr != SIPTLS_AGAIN) {
                    fail(c, run, "framing the server's answers", fr);
                    return;
                }
            }
        }
        if (r == SIPTLS_PEER_CLOSED && c->step == STEP_CLOSING) {
            c->step = STEP_DONE;
            run->done++;
            return;
        }
        if (r != SIPTLS_AGAIN) {
            fail(c, run, "reading", r);
            return;
        }
    }
    ex_epoll_watch(ep, c->fd, c, events, &c->watching);
}

/* drive_once, then stops watching a connection that is over. */
static void drive(int ep, load_conn *c, load_run *run, const char *peer_name)
{
    drive_once(ep, c, run, peer_name);
    if (c->step == STEP_DONE || c->step == STEP_FAILED) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    }
}

/* Drives every connection until `until` says the phase is over or the
 * deadline passes; false on the deadline (or a signal). */
static bool run_phase(int ep, load_run *run, const char *peer_name, int64_t deadline_us,
                      bool (*until)(const load_run *, size_t), size_t n)
{
    struct epoll_event events[256];
    while (!until(run, n)) {
        if (stop_requested || now_us() > deadline_us) {
            return false;
        }
        int k = epoll_wait(ep, events, 256, 100);
        if (k < 0 && errno != EINTR) {
            perror("error: epoll_wait");
            return false;
        }
        for (int i = 0; i < k; i++) {
            load_conn *c = events[i].data.ptr;
            if (c->step != STEP_FAILED && c->step != STEP_DONE) {
                drive(ep, c, run, peer_name);
            }
        }
    }
    return true;
}

static bool all_ready(const load_run *run, size_t n) { return run->ready + run->failed == n; }

static bool all_over(const load_run *run, size_t n) { return run->done + run->failed == n; }

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Client certificates to present in turn, all for one private key. */
typedef struct {
    char *text;          /* the whole PEM file; `pem` points into it */
    const char **pem;    /* certificate i's PEM block, `len[i]` bytes */
    size_t *len;
    size_t count;
    char *key;           /* the private key's PEM */
    size_t key_len;
} client_certs;

/* Reads the certificates of `path` and the key `certs_dir`/privateKey.pem. */
static bool load_client_certs(const char *path, const char *certs_dir, client_certs *out)
{
    static const char end[] = "-----END CERTIFICATE-----";
    size_t len = 0;
    char key_path[4096];
    snprintf(key_path, sizeof key_path, "%s/privateKey.pem", certs_dir);
    out->text = ex_read_file(path, &len);
    out->key = ex_read_file(key_path, &out->key_len);
    if (out->text == NULL || out->key == NULL) {
        return false;
    }
    for (const char *at = out->text; (at = strstr(at, end)) != NULL; at += sizeof end - 1) {
        out->count++;
    }
    if (out->count == 0) {
        fprintf(stderr, "error: %s holds no certificate\n", path);
        return false;
    }
    out->pem = calloc(out->count, sizeof *out->pem);
    out->len = calloc(out->count, sizeof *out->len);
    if (out->pem == NULL || out->len == NULL) {
        fprintf(stderr, "error: out of memory for %zu certificates\n", out->count);
        return false;
    }
    const char *block = out->text;
    for (size_t i = 0; i < out->count; i++) {
        const char *block_end = strstr(block, end) + sizeof end - 1;
        out->pem[i] = block;
        out->len[i] = (size_t)(block_end - block);
        block = block_end;
    }
    return true;
}

static void free_client_certs(client_certs *certs)
{
    free(certs->text);
    free(certs->key);
    free(certs->pem);
    free(certs->len);
}

/* Where the connections go and as whom: fixed for the whole run. */
#define MAX_PORTS 8
typedef struct {
    const char *host;
    uint16_t ports[MAX_PORTS];
    size_t port_count;
    const ex_targets *targets; /* with --uri: dial these instead */
    const char *peer_name;
    siptls_ctx **ctxs;
    size_t ctx_count;
    const client_certs *certs; /* with --client-certs: presented in turn */
    long server_pid;
} load_plan;

/* Opens connection `i` of round `round` (0-based): its socket, session and
 * framer; false on failure (reported). */
static bool open_conn(const load_plan *plan, size_t round, size_t i, load_conn *c)
{
    *c = (load_conn){.index = i, .fd = -1};
    if (plan->targets != NULL) {
        const siptls_target *chosen = NULL; /* its name is plan->peer_name already */
        c->fd = ex_connect_targets(plan->targets, false, &chosen);
    } else {
        c->fd = ex_connect(plan->host, plan->ports[(i + round) % plan->port_count]);
    }
    siptls_framer_limits limits = {.struct_size = sizeof limits,
                                   .keepalive = SIPTLS_KEEPALIVE_CLIENT};
    siptls_ctx *ctx = plan->ctxs[i % plan->ctx_count];
    /* A session presents the identity its context had when it was made. */
    const client_certs *certs = plan->certs;
    if (certs != NULL) {
        size_t k = i % certs->count;
        siptls_result rc = siptls_ctx_set_identity_pem(ctx, (const uint8_t *)certs->pem[k],
                                                       certs->len[k], (const uint8_t *)certs->key,
                                                       certs->key_len);
        if (rc != SIPTLS_OK) {
            ex_report("presenting the next client certificate", rc, NULL);
            return false;
        }
    }
    if (c->fd < 0 || siptls_session_new(ctx, plan->peer_name, &c->session) != SIPTLS_OK ||
        siptls_framer_new(&limits, &c->framer) != SIPTLS_OK) {
        fprintf(stderr, "error: opening connection %zu failed\n", i);
        return false;
    }
    return true;
}

/* True when the session's handshake resumed a stored session. */
static bool resumed(const siptls_session *session)
{
    siptls_session_info info = {.struct_size = sizeof info};
    return siptls_session_get_info(session, &info) == SIPTLS_OK &&
           info.handshake_kind == SIPTLS_HANDSHAKE_RESUMED;
}

/* One round: every connection opened, its handshake, its requests, its
 * close; the figures printed. Adds the resumed handshakes to *resumed_out.
 * False unless every connection closed cleanly. */
static bool run_round(const load_plan *plan, size_t round, size_t n, unsigned requests,
                      int64_t deadline, size_t *resumed_out)
{
    load_run run = {.requests = requests,
                    .latency_us = calloc(n * (size_t)requests, sizeof(int64_t))};
    load_conn *conns = calloc(n, sizeof *conns);
    int ep = epoll_create1(0);
    bool ok = run.latency_us != NULL && conns != NULL && ep >= 0;
    const char *peer_name = plan->peer_name;
    long idle_kib = plan->server_pid ? rss_kib(plan->server_pid) : 0;

    /* Phase 1: connect every socket, then all handshakes at once. */
    size_t opened = 0;
    for (; ok && opened < n; opened++) {
        load_conn *c = &conns[opened];
        if (!open_conn(plan, round, opened, c)) {
            ok = false;
            opened++; /* its resources are freed below */
            break;
        }
        c->watching = EPOLLIN | EPOLLOUT;
        struct epoll_event ee = {.events = c->watching, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ee);
    }
    int64_t hs_start = now_us();
    ok = ok && run_phase(ep, &run, peer_name, deadline, all_ready, n);
    /* Until the last warm-up answer: the server's side of each handshake counts. */
    double hs_s = (double)((run.ready ? run.last_ready_us : now_us()) - hs_start) / 1e6;
    size_t resumed_here = 0;
    for (size_t i = 0; i < opened; i++) {
        resumed_here += conns[i].step == STEP_READY && resumed(conns[i].session);
    }
    *resumed_out += resumed_here;
    const char *where = plan->targets != NULL ? "the URI's first target" : plan->host;
    printf("sip_load: round %zu: %zu connections to %s (%zu port(s))\n", round + 1, n, where,
           plan->targets != NULL ? (size_t)1 : plan->port_count);
    printf("sip_load: handshakes: %zu of %zu in %.2f s: %.0f handshakes/s; %zu resumed\n",
           run.ready, n, hs_s, (double)run.ready / hs_s, resumed_here);
    if (plan->server_pid) {
        long peak_kib = rss_kib(plan->server_pid);
        long grown = peak_kib > idle_kib ? peak_kib - idle_kib : 0;
        printf("sip_load: server memory: %ld KiB idle, %ld KiB with %zu connections: "
               "%ld bytes per connection\n",
               idle_kib, peak_kib, run.ready, run.ready ? grown * 1024 / (long)run.ready : 0);
    }

    /* Phase 2 and 3: requests, ping, close, on every connection at once. */
    int64_t req_start = now_us();
    for (size_t i = 0; ok && i < opened; i++) {
        load_conn *c = &conns[i];
        if (c->step == STEP_READY) {
            c->step = STEP_REQUEST;
            run.ready--;
            if (send_options(c, peer_name)) {
                drive(ep, c, &run, peer_name);
            } else {
                fail(c, &run, "sending OPTIONS", SIPTLS_ERR_WRONG_STATE);
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
        }
    }
    ok = ok && run_phase(ep, &run, peer_name, deadline, all_over, n);
    double req_s = (double)((run.latencies ? run.last_answer_us : now_us()) - req_start) / 1e6;
    if (run.latency_us != NULL) {
        qsort(run.latency_us, run.latencies, sizeof(int64_t), compare_i64);
    }
    double p50 = run.latencies ? (double)run.latency_us[run.latencies / 2] / 1000.0 : 0;
    double p99 = run.latencies ? (double)run.latency_us[run.latencies * 99 / 100] / 1000.0 : 0;
    printf("sip_load: requests: %zu of %zu answered 200 OK in %.2f s: %.0f requests/s; "
           "latency p50 %.2f ms, p99 %.2f ms\n",
           run.latencies, n * (size_t)requests, req_s, (double)run.latencies / req_s, p50, p99);
    printf("sip_load: closed cleanly: %zu of %zu (%zu failed)\n", run.done, n, run.failed);
    if (!ok) {
        fprintf(stderr, "error: %s\n", stop_requested ? "stopped" : "the timeout passed");
    }

    for (size_t i = 0; i < opened; i++) {
        if (conns[i].fd >= 0) {
            close(conns[i].fd);
        }
        siptls_framer_free(conns[i].framer);
        siptls_session_free(conns[i].session);
    }
    free(conns);
    free(run.latency_us);
    if (ep >= 0) {
        close(ep);
    }
    return ok && run.done == n;
}

int main(int argc, char **argv)
{
    ex_options opts = {.host = "127.0.0.1", .certs = "certs/client", .port = 5061, .version = 0,
                       .profile = SIPTLS_PROFILE_DEFAULT};
    load_plan plan = {.peer_name = "gw-b.example.test", .port_count = 1};
    const char *uri = NULL, *nameserver = NULL, *client_certs_path = NULL;
    long connections = 100, requests = 10, timeout_s = 120, rounds = 1, contexts = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        ex_opt_result shared = ex_parse_common_option(argc, argv, &i, false, &opts);
        if (shared == EX_OPT_TAKEN) {
            continue;
        }
        if (shared == EX_OPT_BAD) {
            return 2;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "--peer-name") == 0 && has_value) {
            plan.peer_name = argv[++i];
        } else if (strcmp(argv[i], "--connections") == 0 && has_value) {
            connections = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--requests") == 0 && has_value) {
            requests = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--server-pid") == 0 && has_value) {
            plan.server_pid = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--timeout") == 0 && has_value) {
            timeout_s = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--also-port") == 0 && has_value) {
            if (plan.port_count == MAX_PORTS ||
                !ex_parse_port(argv[++i], false, &plan.ports[plan.port_count])) {
                fprintf(stderr, "error: bad or too many --also-port values\n");
                return 2;
            }
            plan.port_count++;
        } else if (strcmp(argv[i], "--rounds") == 0 && has_value) {
            rounds = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--contexts") == 0 && has_value) {
            contexts = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--uri") == 0 && has_value) {
            uri = argv[++i];
        } else if (strcmp(argv[i], "--nameserver") == 0 && has_value) {
            nameserver = argv[++i];
        } else if (strcmp(argv[i], "--client-certs") == 0 && has_value) {
            client_certs_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (connections <= 0 || requests <= 0 || requests > 1000000 || timeout_s <= 0 ||
        plan.server_pid < 0 || rounds <= 0 || rounds > 1000 || contexts <= 0 ||
        contexts > connections) {
        fprintf(stderr, "error: --connections, --requests, --timeout and --rounds must be "
                        "positive, --contexts from 1 to --connections\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    plan.host = opts.host;
    plan.ports[0] = opts.port;
    static ex_targets targets; /* ~4 KiB: static rather than on the stack */
    if (uri != NULL) {
        if (!ex_resolve_uri(uri, nameserver, &targets)) {
            return 1;
        }
        plan.targets = &targets;
        plan.peer_name = targets.items[0].verify_name; /* the URI's domain, for every target */
    }
    static client_certs certs;
    if (client_certs_path != NULL) {
        if (!load_client_certs(client_certs_path, opts.certs, &certs)) {
            free_client_certs(&certs);
            return 1;
        }
        plan.certs = &certs;
    }
    plan.ctx_count = (size_t)contexts;
    plan.ctxs = calloc(plan.ctx_count, sizeof *plan.ctxs);
    bool ok = plan.ctxs != NULL;
    for (size_t i = 0; ok && i < plan.ctx_count; i++) {
        plan.ctxs[i] = ex_ctx_new(SIPTLS_ROLE_CLIENT, &opts);
        /* A report line per handshake would flood the output. */
        ok = plan.ctxs[i] != NULL &&
             siptls_ctx_set_verify_callback(plan.ctxs[i], NULL, NULL) == SIPTLS_OK;
    }
    int64_t deadline = now_us() + (int64_t)timeout_s * 1000000;
    size_t n = (size_t)connections, resumed_later = 0;
    for (size_t round = 0; ok && round < (size_t)rounds; round++) {
        size_t resumed_here = 0;
        ok = run_round(&plan, round, n, (unsigned)requests, deadline, &resumed_here);
        /* The first round has nothing to resume. */
        resumed_later += round > 0 ? resumed_here : 0;
    }
    if (ok && rounds > 1) {
        size_t later = n * (size_t)(rounds - 1);
        printf("sip_load: resumption: %zu of %zu handshakes after the first round resumed "
               "(ratio %.2f)\n",
               resumed_later, later, (double)resumed_later / (double)later);
    }
    for (size_t i = 0; plan.ctxs != NULL && i < plan.ctx_count; i++) {
        siptls_ctx_free(plan.ctxs[i]);
    }
    free(plan.ctxs);
    free_client_certs(&certs);
    return ok ? 0 : 1;
}
