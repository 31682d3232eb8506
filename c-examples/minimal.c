/* minimal: a whole SIP-over-TLS client on one screen: one OPTIONS over mutual TLS, its answer's
 * status line printed, exit 0 on 200. siptls never touches the socket: we send the bytes the
 * session gives us (take) and hand it those we receive (feed).
 * Usage: minimal CERT_DIR HOST PORT SIP_DOMAIN */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "siptls.h"

/* A siptls call failed: print its result code's meaning and the detail (which file,
 * certificate or check) kept by the session, else the context, else this thread. */
static void die(const char *what, siptls_result r, const siptls_ctx *ctx, const siptls_session *s)
{
    char detail[1024];
    size_t len;
    siptls_result got = s     ? siptls_session_get_last_error(s, detail, sizeof detail, &len)
                        : ctx ? siptls_ctx_get_last_error(ctx, detail, sizeof detail, &len)
                              : siptls_get_last_error(detail, sizeof detail, &len);
    fprintf(stderr, "minimal: %s: %s: %s\n", what, siptls_result_str(r),
            got == SIPTLS_OK || got == SIPTLS_ERR_BUFFER_TOO_SMALL ? detail : "(no detail)");
    exit(1); /* the system takes back the memory and the socket */
}

static void fail(const char *why) { fprintf(stderr, "minimal: %s\n", why); exit(1); }

int main(int argc, char **argv)
{
    if (argc != 5 || strlen(argv[4]) > 200) /* a domain that fits in req */
        fail("usage: minimal CERT_DIR HOST PORT SIP_DOMAIN");
    siptls_ctx *ctx = NULL;
    siptls_session *s = NULL;
    siptls_result r, failed = SIPTLS_OK;
    size_t n, in_len = 0, text_len = 0, sent = 0;
    ssize_t k;
    int fd, closing = 0, accepted = 0;
    uint32_t events;
    uint8_t in[16384], out[16384];
    char req[1024], text[4096];
    /* The context holds what all connections share: our identity (privateKey.pem,
     * publickey.pem; SIP servers ask for it), the CAs we trust (CAList.pem). */
    if ((r = siptls_ctx_new(SIPTLS_ROLE_CLIENT, &ctx)) != SIPTLS_OK)
        die("creating the context", r, NULL, NULL);
    if ((r = siptls_ctx_load_pem_dir(ctx, argv[1], NULL, 1, &n)) != SIPTLS_OK)
        die(argv[1], r, ctx, NULL);
    /* A plain blocking TCP connection, to the first address found. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0)
        fail("cannot resolve HOST or PORT");
    if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0 ||
        connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        fail(strerror(errno));
    freeaddrinfo(ai);
    /* One session per connection, for the server's SIP domain: it is sent as
     * SNI, and the server's certificate must prove it (RFC 5922). */
    if ((r = siptls_session_new(ctx, argv[4], &s)) != SIPTLS_OK)
        die("creating the session", r, ctx, NULL);
    size_t req_len = (size_t)snprintf(req, sizeof req, /* the pid: a unique branch, tag, Call-ID */
        "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS minimal.invalid;branch=z9hG4bK%ld\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:minimal@minimal.invalid>;tag=%ld\r\nTo: <sip:%s>\r\n"
        "Call-ID: %ld@minimal.invalid\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        argv[4], (long)getpid(), (long)getpid(), argv[4], (long)getpid());
    /* One loop drives it all: handshake, request, response, close. */
    for (;;) {
        /* 1. Send every byte of ciphertext the session has for the server. */
        while ((r = siptls_session_take(s, out, sizeof out, &n)) == SIPTLS_OK)
            for (size_t off = 0; off < n; off += (size_t)k)
                if ((k = send(fd, out + off, n - off, MSG_NOSIGNAL)) < 0)
                    fail(strerror(errno));
        if (r != SIPTLS_AGAIN)
            die("taking ciphertext", r, ctx, s);
        if (failed != SIPTLS_OK) /* step 4 failed: the alert saying why is out */
            die("TLS", failed, ctx, s);
        if (closing)
            break; /* close_notify is out; TLS needs no wait for the server's */
        /* 2. Once the server is accepted (reported once), queue the request. */
        if ((r = siptls_session_get_events(s, &events)) != SIPTLS_OK)
            die("reading the session's events", r, ctx, s);
        accepted |= (events & SIPTLS_EVENT_HANDSHAKE_DONE) != 0;
        if (accepted && sent < req_len) {
            r = siptls_session_write(s, (const uint8_t *)req + sent, req_len - sent, &n);
            if (r != SIPTLS_OK && r != SIPTLS_AGAIN)
                die("writing the request", r, ctx, s);
            sent += n;
            continue;
        }
        /* 3. Read plaintext until the status line is whole, then close. */
        r = siptls_session_read(s, (uint8_t *)text + text_len, sizeof text - 1 - text_len, &n);
        if (r != SIPTLS_OK && r != SIPTLS_AGAIN)
            die("reading the response", r, ctx, s);
        text[text_len += n] = '\0';
        if (strstr(text, "\r\n") != NULL || text_len == sizeof text - 1) { /* or no room left */
            printf("%.*s\n", (int)strcspn(text, "\r\n"), text);
            if (strncmp(text, "SIP/2.0 200 ", 12) != 0)
                fail("the answer is not 200");
            if ((r = siptls_session_close(s)) != SIPTLS_OK) /* queues close_notify */
                die("closing", r, ctx, s);
            closing = 1;
        }
        if (r == SIPTLS_OK)
            continue; /* more plaintext may wait, or close_notify is to be sent */
        /* 4. Nothing else to do: block until the server sends more, and feed it. */
        if (in_len == 0) {
            if ((k = recv(fd, in, sizeof in, 0)) <= 0) /* before the answer: a failure */
                fail(k < 0 ? strerror(errno) : "the server closed the connection");
            in_len = (size_t)k;
        }
        /* feed may take only part (none: BUFFER_FULL) while plaintext waits unread. */
        r = siptls_session_feed(s, in, in_len, &n);
        if (r != SIPTLS_OK && r != SIPTLS_BUFFER_FULL && r != SIPTLS_PEER_CLOSED)
            failed = r; /* fatal: step 1 sends the alert the session queued */
        memmove(in, in + n, in_len - n);
        in_len -= n;
    }
    siptls_session_free(s);
    siptls_ctx_free(ctx);
    close(fd);
    return 0;
}
