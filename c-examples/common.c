/*
 * Shared parts of the example server and client. See common.h.
 *
 * The library never touches the socket: we recv() ciphertext and feed it
 * in, take ciphertext out and send() it, and read/write plaintext. The loop
 * here is the whole of that glue, written the way a gateway's event loop
 * would drive it (poll, partial sends, partial feeds).
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* command line                                                             */

bool ex_parse_port(const char *text, bool allow_zero, uint16_t *port_out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < (allow_zero ? 0 : 1) ||
        value > 65535) {
        return false;
    }
    *port_out = (uint16_t)value;
    return true;
}

ex_opt_result ex_parse_common_option(int argc, char **argv, int *i, bool allow_port_zero,
                                     ex_options *opts)
{
    const char *arg = argv[*i];
    bool has_value = *i + 1 < argc;
    if (strcmp(arg, "--host") == 0 && has_value) {
        opts->host = argv[++*i];
    } else if (strcmp(arg, "--port") == 0 && has_value) {
        if (!ex_parse_port(argv[++*i], allow_port_zero, &opts->port)) {
            fprintf(stderr, "error: bad port '%s'\n", argv[*i]);
            return EX_OPT_BAD;
        }
    } else if (strcmp(arg, "--certs") == 0 && has_value) {
        opts->certs = argv[++*i];
    } else if (strcmp(arg, "--key") == 0 && has_value) {
        opts->key = argv[++*i];
    } else if (strcmp(arg, "--tls12") == 0) {
        opts->version = SIPTLS_TLS12;
    } else if (strcmp(arg, "--tls13") == 0) {
        opts->version = SIPTLS_TLS13;
    } else if (strcmp(arg, "--profile") == 0 && has_value) {
        const char *name = argv[++*i];
        if (strcmp(name, "default") == 0) {
            opts->profile = SIPTLS_PROFILE_DEFAULT;
        } else if (strcmp(name, "128bit") == 0) {
            opts->profile = SIPTLS_PROFILE_128BIT;
        } else if (strcmp(name, "post-quantum") == 0) {
            opts->profile = SIPTLS_PROFILE_POST_QUANTUM;
        } else {
            fprintf(stderr, "error: --profile takes default, 128bit or post-quantum, not '%s'\n",
                    name);
            return EX_OPT_BAD;
        }
    } else {
        return EX_OPT_UNKNOWN;
    }
    return EX_OPT_TAKEN;
}

/* ------------------------------------------------------------------------ */
/* errors                                                                   */

void ex_report(const char *what, siptls_result code, const siptls_session *session)
{
    char detail[1024];
    size_t len = 0;
    siptls_result got = session != NULL
                            ? siptls_session_get_last_error(session, detail, sizeof detail, &len)
                            : siptls_get_last_error(detail, sizeof detail, &len);
    /* A cut-off detail is still worth printing; any other failure is not. */
    if (got != SIPTLS_OK && got != SIPTLS_ERR_BUFFER_TOO_SMALL) {
        snprintf(detail, sizeof detail, "(no detail: %s)", siptls_result_str((uint32_t)got));
    }
    fprintf(stderr, "error: %s: %s (%u): %s\n", what, siptls_result_str((uint32_t)code),
            (unsigned)code, detail);
}

/* Socket and system errors have no siptls code: errno text instead. */
static void report_errno(const char *what, const char *target)
{
    fprintf(stderr, "error: %s%s%s: %s\n", what, target ? " " : "", target ? target : "",
            strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* contexts                                                                 */

static const char *role_name(siptls_role role)
{
    return role == SIPTLS_ROLE_SERVER ? "server" : "client";
}

/* Prints each verification; the library's verdict stands (the callback could
 * veto a chain that passed, but these examples only report). */
static uint32_t print_verify_report(void *userdata, const siptls_verify_report *report)
{
    (void)userdata;
    char trust_id[16];
    if (report->trust_id == SIPTLS_TRUST_ID_NONE) {
        snprintf(trust_id, sizeof trust_id, "none");
    } else {
        snprintf(trust_id, sizeof trust_id, "%u", (unsigned)report->trust_id);
    }
    /* A resumed session's stored chain, checked again under today's trust table. */
    printf("verify: role=%s status=%s trust_id=%s depth=%u peer=%s identities=%s%s\n",
           role_name(report->role), siptls_verify_status_str((uint32_t)report->status),
           trust_id, (unsigned)report->depth, report->peer_name, report->identities,
           report->resumed ? " (resumed)" : "");
    return SIPTLS_VERIFY_ACCEPT;
}

static const char *profile_name(siptls_profile profile)
{
    switch (profile) {
    case SIPTLS_PROFILE_128BIT:
        return "128bit";
    case SIPTLS_PROFILE_POST_QUANTUM:
        return "post-quantum";
    default:
        return "default";
    }
}

siptls_ctx *ex_ctx_new(siptls_role role, const ex_options *opts)
{
    const char *certs_dir = opts->certs;
    siptls_ctx *ctx = NULL;
    siptls_result r = siptls_ctx_new((uint32_t)role, &ctx);
    if (r != SIPTLS_OK) {
        ex_report("creating the TLS context", r, NULL);
        return NULL;
    }
    size_t added = 0;
    r = siptls_ctx_load_pem_dir(ctx, certs_dir, NULL, 1, &added);
    if (r != SIPTLS_OK) {
        char what[512];
        snprintf(what, sizeof what, "loading %s", certs_dir);
        ex_report(what, r, NULL);
        goto fail;
    }
    if (opts->key != NULL) {
        /* The certificate stays publickey.pem; a pkcs11: URI is accepted
         * wherever a key file's path is. */
        char cert_path[4096];
        snprintf(cert_path, sizeof cert_path, "%s/publickey.pem", certs_dir);
        r = siptls_ctx_load_identity_files(ctx, cert_path, opts->key);
        if (r != SIPTLS_OK) {
            ex_report("loading the --key", r, NULL);
            goto fail;
        }
        printf("config: key=%s\n", strncmp(opts->key, "pkcs11:", 7) == 0 ? "pkcs11" : "file");
    }
    printf("config: role=%s certs=%s trust_entries=%zu\n", role_name(role), certs_dir, added);
    r = siptls_ctx_set_profile(ctx, (uint32_t)opts->profile);
    if (r != SIPTLS_OK) {
        ex_report("setting the profile", r, NULL);
        goto fail;
    }
    printf("config: profile=%s\n", profile_name(opts->profile));
    if (opts->version != 0) {
        r = siptls_ctx_set_versions(ctx, opts->version, opts->version);
        if (r != SIPTLS_OK) {
            ex_report("setting the TLS version", r, NULL);
            goto fail;
        }
    }
    r = siptls_ctx_set_verify_callback(ctx, print_verify_report, NULL);
    if (r != SIPTLS_OK) {
        ex_report("registering the verify callback", r, NULL);
        goto fail;
    }
    return ctx;
fail:
    siptls_ctx_free(ctx);
    return NULL;
}

bool ex_load_ticket_keys(siptls_ctx *ctx, const char *path)
{
    uint32_t keys = 0;
    siptls_result r = siptls_ctx_load_ticket_key_file(ctx, path, &keys);
    if (r != SIPTLS_OK) {
        ex_report("loading the ticket keys", r, NULL);
        return false;
    }
    printf("config: ticket keys=%u from %s\n", (unsigned)keys, path);
    return true;
}

char *ex_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size = -1;
    *len_out = 0;
    if (f != NULL) {
        errno = 0; /* a short read sets none */
    }
    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL &&
        fread(text, 1, (size_t)size, f) == (size_t)size) {
        text[size] = '\0';
        *len_out = (size_t)size;
    } else {
        fprintf(stderr, "error: cannot read %s: %s\n", path, errno ? strerror(errno) : "short read");
        free(text);
        text = NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return text;
}

/* Prints the context's counters, one "counters: " line per Prometheus
 * sample (the # HELP / # TYPE lines left out), as a scrape would see them. */
void ex_print_counters(const siptls_ctx *ctx)
{
    size_t len = 0;
    siptls_result r = siptls_ctx_get_counters_prometheus(ctx, NULL, 0, &len);
    if (r != SIPTLS_ERR_BUFFER_TOO_SMALL) {
        ex_report("reading the counters", r, NULL);
        return;
    }
    char *text = malloc(len + 1);
    if (text == NULL) {
        fprintf(stderr, "error: out of memory for the counters\n");
        return;
    }
    r = siptls_ctx_get_counters_prometheus(ctx, text, len + 1, &len);
    if (r != SIPTLS_OK) {
        ex_report("reading the counters", r, NULL);
    } else {
        for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            if (line[0] != '#') {
                printf("counters: %s\n", line);
            }
        }
    }
    free(text);
}

/* Appends "<a><b>\r\n" to out; false when it does not fit. */
static bool append_line(char *out, size_t cap, size_t *len, const char *a, const char *b,
                        size_t b_len)
{
    int n = snprintf(out + *len, cap - *len, "%s%.*s\r\n", a, (int)b_len, b);
    if (n < 0 || (size_t)n >= cap - *len) {
        return false;
    }
    *len += (size_t)n;
    return true;
}

/* Whether a To header value carries a tag parameter. */
static bool has_tag(const char *value, size_t len)
{
    for (size_t i = 0; i + 5 <= len; i++) {
        if (strncasecmp(value + i, ";tag=", 5) == 0) {
            return true;
        }
    }
    return false;
}

/* Builds a response to `req`: the status line, then Via (all, in order),
 * From, To, Call-ID and CSeq copied from the request as RFC 3261 8.2.6.2
 * asks, and an empty body. */
bool ex_sip_response(const char *req, size_t req_len, const char *status, char *out,
                           size_t cap, size_t *out_len)
{
    static const struct {
        const char *prefix, *name, *compact;
        bool all;
    } copied[] = {
        {"Via: ", "Via", "v", true},
        {"From: ", "From", "f", false},
        {"To: ", "To", "t", false},
        {"Call-ID: ", "Call-ID", "i", false},
        {"CSeq: ", "CSeq", NULL, false},
    };
    size_t len = 0;
    if (!append_line(out, cap, &len, status, "", 0)) {
        return false;
    }
    for (size_t h = 0; h < sizeof copied / sizeof copied[0]; h++) {
        const char *value = NULL;
        size_t value_len = 0;
        size_t found = 0;
        while ((found == 0 || copied[h].all) &&
               ex_sip_header(req, req_len, copied[h].name, copied[h].compact, found, &value,
                             &value_len)) {
            if (!append_line(out, cap, &len, copied[h].prefix, value, value_len)) {
                return false;
            }
            /* The UAS tags the To header when the request had no tag. */
            if (strcmp(copied[h].name, "To") == 0 && !has_tag(value, value_len)) {
                len -= 2; /* reopen the line: drop its CRLF */
                if (!append_line(out, cap, &len, ";tag=gw-b-1", "", 0)) {
                    return false;
                }
            }
            found++;
        }
        if (found == 0) {
            fprintf(stderr, "error: the SIP request has no %s header\n", copied[h].name);
            return false;
        }
    }
    if (!append_line(out, cap, &len, "Content-Length: 0", "", 0) ||
        !append_line(out, cap, &len, "", "", 0)) {
        return false;
    }
    *out_len = len;
    return true;
}

/* ------------------------------------------------------------------------ */
/* sockets                                                                  */

static void addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(buf, cap, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(buf, cap, "[%s]:%u", host, port);
    } else {
        snprintf(buf, cap, "?");
    }
}

void ex_sockaddr_str(int fd, bool peer, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                  : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0) {
        snprintf(buf, cap, "?");
        return;
    }
    addr_str((const struct sockaddr *)&ss, buf, cap);
}

static struct addrinfo *resolve(const char *host, uint16_t port, bool passive)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "error: resolving %s: %s\n", host, gai_strerror(rc));
        return NULL;
    }
    return list;
}

int ex_listen(const char *host, uint16_t port)
{
    struct addrinfo *list = resolve(host, port, true);
    if (list == NULL) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        /* Lets the demo restart at once while the last run is in TIME_WAIT. */
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
            break;
        }
        char target[300];
        addr_str(ai->ai_addr, target, sizeof target);
        report_errno("listening on", target);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

bool ex_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        report_errno("making the socket non-blocking", NULL);
        return false;
    }
    return true;
}

void ex_epoll_watch(int ep, int fd, void *data, uint32_t wants, uint32_t *watching)
{
    uint32_t events = (wants & SIPTLS_WANT_READ ? (uint32_t)EPOLLIN : 0) |
                      (wants & SIPTLS_WANT_WRITE ? (uint32_t)EPOLLOUT : 0);
    if (events != *watching) {
        struct epoll_event ee = {.events = events, .data.ptr = data};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ee);
        *watching = events;
    }
}

/* Monotonic milliseconds, for deadlines that wall-clock steps cannot move. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on `fd` until `deadline`: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline, short *revents_out)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            report_errno("poll", NULL);
            return -1;
        }
        if (n == 0) {
            return 0;
        }
        *revents_out = p.revents;
        return 1;
    }
}

int ex_connect(const char *host, uint16_t port)
{
    struct addrinfo *list = resolve(host, port, false);
    if (list == NULL) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        char target[300];
        addr_str(ai->ai_addr, target, sizeof target);
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            report_errno("socket for", target);
            continue;
        }
        /* Non-blocking before connect, so an unreachable peer cannot hang us. */
        if (!ex_set_nonblocking(fd)) {
            close(fd);
            fd = -1;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (errno == EINPROGRESS) {
            short revents = 0;
            int ready = wait_fd(fd, POLLOUT, now_ms() + EX_IO_TIMEOUT_MS, &revents);
            int err = 0;
            socklen_t len = sizeof err;
            if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
                break;
            }
            errno = ready == 0 ? ETIMEDOUT : (err != 0 ? err : errno);
        }
        if (ai->ai_next != NULL) {
            /* Not an error yet: the name has more addresses to try. */
            fprintf(stderr, "note: connecting to %s: %s; trying the next address\n", target,
                    strerror(errno));
        } else {
            report_errno("connecting to", target);
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* finding the server (RFC 3263)                                            */

bool ex_resolve_uri(const char *uri, const char *nameserver, ex_targets *out)
{
    siptls_resolver_config config = {.struct_size = sizeof config, .nameserver = nameserver};
    siptls_target found[EX_MAX_TARGETS];
    for (size_t i = 0; i < EX_MAX_TARGETS; i++) {
        found[i] = (siptls_target){.struct_size = sizeof(siptls_target)};
    }
    size_t n = 0;
    /* BUFFER_TOO_SMALL: more targets than room; the first ones are enough. */
    siptls_result r = siptls_get_uri_targets(uri, &config, found, EX_MAX_TARGETS, &n);
    if (r != SIPTLS_OK && r != SIPTLS_ERR_BUFFER_TOO_SMALL) {
        ex_report("resolving the URI", r, NULL);
        return false;
    }
    n = n < EX_MAX_TARGETS ? n : EX_MAX_TARGETS;
    printf("resolve: %zu target(s) for %s\n", n, uri);
    out->count = 0;
    for (size_t i = 0; i < n; i++) {
        if (found[i].transport == SIPTLS_TRANSPORT_TLS) {
            out->items[out->count++] = found[i];
        }
    }
    if (out->count == 0) {
        fprintf(stderr, "error: %s has no TLS target\n", uri);
    }
    return out->count > 0;
}

int ex_connect_targets(const ex_targets *targets, bool verbose, const siptls_target **chosen)
{
    for (size_t i = 0; i < targets->count; i++) {
        const siptls_target *t = &targets->items[i];
        char address[INET6_ADDRSTRLEN];
        inet_ntop(t->family == 6 ? AF_INET6 : AF_INET, t->address, address, sizeof address);
        if (verbose) {
            printf("resolve: trying %s port %u (%s), verifying %s\n", address, (unsigned)t->port,
                   t->host, t->verify_name);
        }
        int fd = ex_connect(address, t->port);
        if (fd >= 0) {
            *chosen = t;
            return fd;
        }
    }
    fprintf(stderr, "error: no target answered\n");
    return -1;
}

/* ------------------------------------------------------------------------ */
/* the TLS connection                                                       */

bool ex_conn_open(ex_conn *conn, int fd, const siptls_ctx *ctx, const char *peer_name)
{
    memset(conn, 0, sizeof *conn);
    conn->fd = fd;
    conn->phase = "TLS handshake";
    siptls_result r = siptls_session_new(ctx, peer_name, &conn->session);
    if (r != SIPTLS_OK) {
        ex_report("creating the TLS session", r, NULL);
        conn->session = NULL;
        return false;
    }
    return true;
}

void ex_conn_close(ex_conn *conn)
{
    siptls_session_free(conn->session);
    conn->session = NULL;
    if (conn->fd >= 0) {
        close(conn->fd);
        conn->fd = -1;
    }
}

/* Reads the plaintext waiting in the session into conn->plain, as far as it
 * has room. */
static bool read_plaintext(ex_conn *conn)
{
    for (;;) {
        size_t n = 0, room = EX_BUF_SIZE - conn->plain_len;
        if (room == 0) {
            return true; /* the application consumes a message first */
        }
        siptls_result r = siptls_session_read(
            conn->session, (uint8_t *)conn->plain + conn->plain_len, room, &n);
        conn->plain_len += n;
        conn->plain[conn->plain_len] = '\0';
        if (r == SIPTLS_AGAIN || r == SIPTLS_PEER_CLOSED) {
            return true;
        }
        if (r == SIPTLS_ERR_TRUNCATED) {
            return true; /* the callers decide whether a missing close_notify matters */
        }
        if (r != SIPTLS_OK) {
            ex_report(conn->phase, r, conn->session);
            return false;
        }
    }
}

bool ex_pump_until(ex_conn *conn, uint32_t until)
{
    int64_t deadline = now_ms() + EX_IO_TIMEOUT_MS;
    for (;;) {
        uint32_t events = 0;
        siptls_result r = siptls_session_pump_fd(conn->session, conn->fd, &events);
        if (r != SIPTLS_OK) {
            ex_report(conn->phase, r, conn->session); /* its alert has been sent */
            return false;
        }
        if ((events & SIPTLS_EVENT_PLAINTEXT) && !read_plaintext(conn)) {
            return false;
        }
        if ((events & until) || (until == 0 && !(events & SIPTLS_WANT_WRITE))) {
            return true;
        }
        if (events & SIPTLS_EVENT_ENDED) {
            fprintf(stderr, "error: %s: the connection ended\n", conn->phase);
            return false;
        }
        short wait_for = (short)((events & SIPTLS_WANT_READ ? POLLIN : 0) |
                                 (events & SIPTLS_WANT_WRITE ? POLLOUT : 0));
        if (wait_for == 0) {
            /* The session waits for us to read, and conn->plain is full. */
            fprintf(stderr, "error: %s: SIP message larger than %u bytes\n", conn->phase,
                    EX_BUF_SIZE);
            return false;
        }
        short revents = 0;
        int ready = wait_fd(conn->fd, wait_for, deadline, &revents);
        if (ready == 0) {
            fprintf(stderr, "error: %s: timed out after %d ms\n", conn->phase, EX_IO_TIMEOUT_MS);
        }
        if (ready != 1) {
            return false;
        }
    }
}

static const char *version_name(uint16_t version)
{
    switch (version) {
    case SIPTLS_TLS12:
        return "TLSv1.2";
    case SIPTLS_TLS13:
        return "TLSv1.3";
    default:
        return "unknown";
    }
}

static bool get_info(const siptls_session *session, siptls_session_info *info)
{
    info->struct_size = sizeof *info;
    siptls_result r = siptls_session_get_info(session, info);
    if (r != SIPTLS_OK) {
        ex_report("reading the session state", r, session);
    }
    return r == SIPTLS_OK;
}

bool ex_print_close(const siptls_session *session)
{
    siptls_session_info info;
    if (!get_info(session, &info)) {
        return false;
    }
    printf("tls: %s\n", info.close_state == SIPTLS_CLOSE_CLEAN
                             ? "peer closed cleanly"
                             : "transport closed without close_notify");
    return true;
}

bool ex_print_session(const siptls_session *session)
{
    siptls_session_info info;
    if (!get_info(session, &info)) {
        return false;
    }
    printf("tls: version=%s suite=%s handshake=%s\n", version_name(info.protocol_version),
           siptls_cipher_suite_str(info.cipher_suite),
           info.handshake_kind == SIPTLS_HANDSHAKE_RESUMED ? "resumed" : "full");
    return true;
}

void ex_consume(ex_conn *conn, size_t len)
{
    memmove(conn->plain, conn->plain + len, conn->plain_len - len);
    conn->plain_len -= len;
    conn->plain[conn->plain_len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* SIP                                                                      */

size_t ex_sip_first_line(const char *msg, size_t len)
{
    size_t i = 0;
    while (i < len && msg[i] != '\r' && msg[i] != '\n') {
        i++;
    }
    return i;
}

bool ex_sip_header(const char *msg, size_t len, const char *name, const char *compact,
                   size_t index, const char **value_out, size_t *value_len_out)
{
    size_t pos = ex_sip_first_line(msg, len);
    while (pos < len) {
        /* Step over the CRLF ending the previous line. */
        if (msg[pos] == '\r') {
            pos++;
        }
        if (pos < len && msg[pos] == '\n') {
            pos++;
        }
        size_t line = pos;
        size_t line_len = ex_sip_first_line(msg + line, len - line);
        pos = line + line_len;
        if (line_len == 0) {
            break; /* the blank line ending the headers */
        }
        const char *colon = memchr(msg + line, ':', line_len);
        if (colon == NULL) {
            continue;
        }
        size_t name_len = (size_t)(colon - (msg + line));
        while (name_len > 0 &&
               (msg[line + name_len - 1] == ' ' || msg[line + name_len - 1] == '\t')) {
            name_len--;
        }
        bool match = (strlen(name) == name_len && strncasecmp(msg + line, name, name_len) == 0) ||
                     (compact != NULL && strlen(compact) == name_len &&
                      strncasecmp(msg + line, compact, name_len) == 0);
        if (!match || index-- > 0) {
            continue;
        }
        const char *value = colon + 1;
        const char *end = msg + line + line_len;
        while (value < end && (*value == ' ' || *value == '\t')) {
            value++;
        }
        while (end > value && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        *value_out = value;
        *value_len_out = (size_t)(end - value);
        return true;
    }
    return false;
}

/* Finds "\r\n\r\n"; the body may hold NULs, so no strstr. */
static bool find_header_end(const char *msg, size_t len, size_t *end_out)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(msg + i, "\r\n\r\n", 4) == 0) {
            *end_out = i + 4;
            return true;
        }
    }
    return false;
}

int ex_sip_message_length(const char *msg, size_t len, size_t *len_out, const char *phase)
{
    size_t head = 0;
    if (!find_header_end(msg, len, &head)) {
        return 0;
    }
    size_t body = 0;
    const char *value = NULL;
    size_t value_len = 0;
    if (ex_sip_header(msg, head, "Content-Length", "l", 0, &value, &value_len)) {
        char digits[16];
        char *end = NULL;
        unsigned long n = 0;
        if (value_len > 0 && value_len < sizeof digits) {
            memcpy(digits, value, value_len);
            digits[value_len] = '\0';
            n = strtoul(digits, &end, 10);
        }
        if (value_len == 0 || value_len >= sizeof digits || *end != '\0' || digits[0] == '-') {
            fprintf(stderr, "error: %s: malformed Content-Length '%.*s'\n", phase,
                    (int)value_len, value);
            return -1;
        }
        if (n > EX_BUF_SIZE - head) {
            fprintf(stderr, "error: %s: SIP message larger than %u bytes\n", phase, EX_BUF_SIZE);
            return -1;
        }
        body = (size_t)n;
    }
    if (len < head + body) {
        return 0;
    }
    *len_out = head + body;
    return 1;
}
