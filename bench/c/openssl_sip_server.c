/*
 * The comparison peer of the load benchmark (scripts/load-bench.sh): the
 * same job as c-examples/sip_server.c, written directly on OpenSSL 3 the
 * way a gateway would hand-wire it. One epoll loop, non-blocking sockets,
 * mutual TLS from the three-file layout (privateKey.pem, publickey.pem,
 * CAList.pem), TLS 1.2 and 1.3, one TLS 1.3 ticket per handshake like the
 * siptls server; OPTIONS gets 200 OK, a CRLF CRLF ping a CRLF pong, a
 * close_notify ours. SIGTERM or SIGINT ends it.
 *
 *   openssl_sip_server [--host 127.0.0.1] --port PORT --certs DIR [--128bit] [--tuned]
 *
 * --128bit offers what siptls' SIPTLS_PROFILE_128BIT does: AES-128-GCM
 * suites, groups X25519 and P-256. --tuned sets what a careful integrator
 * would: read-ahead (one recv per burst of records instead of one per
 * record header and one per body) and SSL_MODE_RELEASE_BUFFERS (an idle
 * connection gives its buffers back).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct {
    int fd;
    SSL *ssl;
    bool handshaken;
    /* Plaintext received and not yet framed. */
    char *in;
    size_t in_len, in_cap;
    /* Plaintext written that OpenSSL has not taken yet (WANT_WRITE). */
    char *out;
    size_t out_len, out_cap;
    uint32_t watching;
} conn;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n > *cap) {
        size_t want = *cap ? *cap : 1024;
        while (want < *len + n) {
            want *= 2;
        }
        char *grown = realloc(*buf, want);
        if (grown == NULL) {
            return false;
        }
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return true;
}

static void drop(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    SSL_free(c->ssl);
    free(c->in);
    free(c->out);
    free(c);
}

/* Copies the header line `name` ("Via:" ...) of `req` into `out`, each one. */
static bool copy_headers(const char *req, size_t len, const char *name, char **out,
                         size_t *out_len, size_t *out_cap)
{
    size_t name_len = strlen(name);
    for (size_t at = 0; at < len;) {
        const char *eol = memmem(req + at, len - at, "\r\n", 2);
        size_t line = eol ? (size_t)(eol - (req + at)) : len - at;
        if (line >= name_len && strncasecmp(req + at, name, name_len) == 0 &&
            (!append(out, out_len, out_cap, req + at, line) ||
             !append(out, out_len, out_cap, "\r\n", 2))) {
            return false;
        }
        at += line + 2;
    }
    return true;
}

/* Queues plaintext and hands OpenSSL what it takes. */
static bool send_plain(conn *c, const char *data, size_t n)
{
    if (n > 0 && !append(&c->out, &c->out_len, &c->out_cap, data, n)) {
        return false;
    }
    while (c->out_len > 0) {
        int w = SSL_write(c->ssl, c->out, (int)c->out_len);
        if (w <= 0) {
            int err = SSL_get_error(c->ssl, w);
            return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
    return true;
}

/* Frames the buffered plaintext (header block, Content-Length body) and
 * answers each message; false when the stream cannot be framed. */
static bool answer_all(conn *c)
{
    size_t at = 0;
    for (;;) {
        if (c->in_len - at >= 4 && memcmp(c->in + at, "\r\n\r\n", 4) == 0) {
            at += 4; /* a ping */
            if (!send_plain(c, "\r\n", 2)) {
                return false;
            }
            continue;
        }
        if (c->in_len - at >= 2 && memcmp(c->in + at, "\r\n", 2) == 0 &&
            c->in_len - at < 4) {
            break; /* half a ping, or a stray CRLF: wait for more */
        }
        const char *end = memmem(c->in + at, c->in_len - at, "\r\n\r\n", 4);
        if (end == NULL) {
            break;
        }
        const char *req = c->in + at;
        size_t head = (size_t)(end - req) + 4;
        size_t body = 0;
        const char *cl = memmem(req, head, "\r\nContent-Length:", 17);
        if (cl != NULL) {
            body = strtoul(cl + 17, NULL, 10);
        }
        if (c->in_len - at < head + body) {
            break;
        }
        if (strncmp(req, "OPTIONS ", 8) == 0) {
            char *resp = NULL;
            size_t len = 0, cap = 0;
            bool ok = append(&resp, &len, &cap, "SIP/2.0 200 OK\r\n", 16) &&
                      copy_headers(req, head, "Via:", &resp, &len, &cap) &&
                      copy_headers(req, head, "From:", &resp, &len, &cap) &&
                      copy_headers(req, head, "To:", &resp, &len, &cap) &&
                      copy_headers(req, head, "Call-ID:", &resp, &len, &cap) &&
                      copy_headers(req, head, "CSeq:", &resp, &len, &cap) &&
                      append(&resp, &len, &cap, "Content-Length: 0\r\n\r\n", 21) &&
                      send_plain(c, resp, len);
            free(resp);
            if (!ok) {
                return false;
            }
        }
        at += head + body;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
    return true;
}

/* Runs the connection as far as it goes; false when it is over. */
static bool serve(int ep, conn *c)
{
    bool want_write = false;
    if (!c->handshaken) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int err = SSL_get_error(c->ssl, r);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
                return false;
            }
            want_write = err == SSL_ERROR_WANT_WRITE;
            goto watch;
        }
        c->handshaken = true;
    }
    for (;;) {
        char buf[4096];
        int n = SSL_read(c->ssl, buf, sizeof buf);
        if (n > 0) {
            if (!append(&c->in, &c->in_len, &c->in_cap, buf, (size_t)n) || !answer_all(c)) {
                return false;
            }
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_ZERO_RETURN) {
            SSL_shutdown(c->ssl); /* answer close_notify with ours */
            return false;
        }
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            return false;
        }
        want_write = err == SSL_ERROR_WANT_WRITE;
        break;
    }
    if (!send_plain(c, NULL, 0)) {
        return false;
    }
    want_write = want_write || c->out_len > 0;
watch:;
    uint32_t events = EPOLLIN | (want_write ? (uint32_t)EPOLLOUT : 0);
    if (events != c->watching) {
        struct epoll_event ee = {.events = events, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ee);
        c->watching = events;
    }
    return true;
}

static SSL_CTX *context(const char *dir, bool only_128bit, bool tuned)
{
    char key[4096], cert[4096], cas[4096];
    snprintf(key, sizeof key, "%s/privateKey.pem", dir);
    snprintf(cert, sizeof cert, "%s/publickey.pem", dir);
    snprintf(cas, sizeof cas, "%s/CAList.pem", dir);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, cas, NULL) != 1 ||
        !SSL_CTX_set_num_tickets(ctx, 1) ||
        (only_128bit && (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
                         SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                                      "ECDHE-RSA-AES128-GCM-SHA256") != 1 ||
                         SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1))) {
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    /* Resuming with client certificates needs a session ID context; the
     * write buffer grows (realloc) between a WANT_WRITE and its retry. */
    static const unsigned char sid_ctx[] = "sip";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (tuned) {
        SSL_CTX_set_read_ahead(ctx, 1);
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    }
    return ctx;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *certs = NULL;
    int port = -1;
    bool only_128bit = false, tuned = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--certs") == 0 && i + 1 < argc) {
            certs = argv[++i];
        } else if (strcmp(argv[i], "--128bit") == 0) {
            only_128bit = true;
        } else if (strcmp(argv[i], "--tuned") == 0) {
            tuned = true;
        } else {
            fprintf(stderr, "usage: openssl_sip_server [--host 127.0.0.1] --port PORT "
                            "--certs DIR [--128bit] [--tuned]\n");
            return 2;
        }
    }
    if (certs == NULL || port < 0 || port > 65535) {
        fprintf(stderr, "error: --port and --certs are needed\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    SSL_CTX *ctx = context(certs, only_128bit, tuned);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    int ep = epoll_create1(0);
    if (ctx == NULL || inet_pton(AF_INET, host, &addr.sin_addr) != 1 || listener < 0 ||
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, SOMAXCONN) != 0 || ep < 0) {
        perror("error: listening");
        return 1;
    }
    printf("openssl_sip_server: listening on %s:%d (%s)\n", host, port,
           OpenSSL_version(OPENSSL_VERSION));
    struct epoll_event lee = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lee);

    struct epoll_event events[256];
    while (!stop_requested) {
        int n = epoll_wait(ep, events, 256, 200);
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c != NULL) {
                if (!serve(ep, c)) {
                    drop(ep, c);
                }
                continue;
            }
            int fd;
            while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                c = calloc(1, sizeof *c);
                if (c == NULL || (c->ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(c->ssl, fd)) {
                    if (c != NULL) {
                        SSL_free(c->ssl);
                    }
                    free(c);
                    close(fd);
                    continue;
                }
                c->fd = fd;
                SSL_set_accept_state(c->ssl);
                c->watching = EPOLLIN;
                struct epoll_event ee = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee);
            }
        }
    }
    /* Connections still open are left to the exit: this is a benchmark peer. */
    close(listener);
    close(ep);
    SSL_CTX_free(ctx);
    return 0;
}
