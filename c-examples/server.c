/*
 * Example SIP-over-TLS server: accepts one mutually authenticated TLS
 * connection, answers one SIP request (200 OK to OPTIONS), closes with
 * close_notify and exits: 0 when all of that worked, 1 otherwise.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: server [--host 127.0.0.1] [--port 5061] [--certs certs/server] [--key KEY]\n"
                 "              [--tls12|--tls13] [--profile default|128bit|post-quantum] [--ticket-keys FILE]\n"
                 "Serves one SIP-over-TLS connection (client certificate required),\n"
                 "answers one request and exits.\n"
                 "--key: the private key instead of the certs' privateKey.pem: a PEM file,\n"
                 "  or a pkcs11: URI such as 'pkcs11:token=gw;object=tls?module-path=\n"
                 "  /usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/gw/pin'.\n"
                 "--ticket-keys: session ticket keys shared by a farm of servers, one\n"
                 "  per line as `openssl rand -hex 32` prints them; the first seals.\n");
}

/* The whole connection, as the pump reports it: the handshake, one
 * request, its answer, and the close. */
static bool serve(ex_conn *conn)
{
    /* 1. Pump until the client has been accepted (its certificate checked). */
    if (!ex_pump_until(conn, SIPTLS_EVENT_HANDSHAKE_DONE) || !ex_print_session(conn->session)) {
        return false;
    }
    /* 2. Pump until a whole request is in conn->plain. */
    conn->phase = "reading the SIP request";
    size_t req_len = 0;
    int got;
    while ((got = ex_sip_message_length(conn->plain, conn->plain_len, &req_len, conn->phase)) == 0) {
        if (!ex_pump_until(conn, SIPTLS_EVENT_PLAINTEXT)) {
            return false;
        }
    }
    if (got < 0) {
        return false;
    }
    size_t line_len = ex_sip_first_line(conn->plain, req_len);
    printf("sip: received %.*s\n", (int)line_len, conn->plain);

    /* Only OPTIONS is implemented; anything else is refused properly. */
    bool options = line_len > 8 && strncmp(conn->plain, "OPTIONS ", 8) == 0;
    const char *status = options ? "SIP/2.0 200 OK" : "SIP/2.0 501 Not Implemented";
    static char response[EX_BUF_SIZE];
    size_t response_len = 0;
    if (!ex_sip_response(conn->plain, req_len, status, response, sizeof response,
                        &response_len)) {
        fprintf(stderr, "error: cannot build a response to the request\n");
        return false;
    }
    ex_consume(conn, conn->plain_len);

    /* 3. Write the response, pumping while the session's send buffer is full,
     *    then until all of it has been sent. */
    conn->phase = "sending the SIP response";
    for (size_t done = 0, n = 0; done < response_len; done += n) {
        siptls_result r = siptls_session_write(conn->session, (const uint8_t *)response + done,
                                               response_len - done, &n);
        if (r != SIPTLS_OK && r != SIPTLS_AGAIN) {
            ex_report(conn->phase, r, conn->session);
            return false;
        }
        if (!ex_pump_until(conn, 0)) {
            return false;
        }
    }
    printf("sip: sent %s\n", status);

    /* 4. Send close_notify, and pump until the client's (or the end of the
     *    connection) says the session has ended. */
    conn->phase = "TLS close";
    siptls_result r = siptls_session_close(conn->session);
    if (r != SIPTLS_OK) {
        ex_report(conn->phase, r, conn->session);
        return false;
    }
    return ex_pump_until(conn, SIPTLS_EVENT_ENDED) && ex_print_close(conn->session) && options;
}

int main(int argc, char **argv)
{
    ex_options opts = {.host = "127.0.0.1", .certs = "certs/server", .port = 5061, .version = 0,
                       .profile = SIPTLS_PROFILE_DEFAULT};
    const char *ticket_keys = NULL;

    /* Line-buffered even into a pipe, so a supervisor sees each line as it happens. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    for (int i = 1; i < argc; i++) {
        ex_opt_result shared = ex_parse_common_option(argc, argv, &i, true, &opts);
        if (shared == EX_OPT_TAKEN) {
            continue;
        }
        if (shared == EX_OPT_BAD) {
            return 2;
        }
        const char *arg = argv[i];
        if (strcmp(arg, "--ticket-keys") == 0 && i + 1 < argc) {
            ticket_keys = argv[++i];
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    siptls_ctx *ctx = ex_ctx_new(SIPTLS_ROLE_SERVER, &opts);
    if (ctx == NULL) {
        return 1;
    }
    /* Mutual TLS is the default; saying so keeps the intent visible. */
    siptls_result r = siptls_ctx_set_client_auth(ctx, (uint32_t)SIPTLS_CLIENT_AUTH_REQUIRED);
    if (r != SIPTLS_OK) {
        ex_report("requiring client certificates", r, NULL);
        siptls_ctx_free(ctx);
        return 1;
    }
    /* Without a key file the library generates and rotates its own keys:
     * tickets then resume on this process only. */
    if (ticket_keys != NULL && !ex_load_ticket_keys(ctx, ticket_keys)) {
        siptls_ctx_free(ctx);
        return 1;
    }

    int listener = ex_listen(opts.host, opts.port);
    if (listener < 0) {
        siptls_ctx_free(ctx);
        return 1;
    }
    char where[128];
    ex_sockaddr_str(listener, false, where, sizeof where);
    printf("server: listening on %s\n", where);

    int fd = -1;
    do {
        fd = accept(listener, NULL, NULL);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        perror("error: accept");
        close(listener);
        siptls_ctx_free(ctx);
        return 1;
    }
    close(listener); /* one connection only */
    ex_sockaddr_str(fd, true, where, sizeof where);
    printf("server: connection from %s\n", where);

    static ex_conn conn; /* ~48 KiB of buffers: static rather than on the stack */
    bool ok = ex_conn_open(&conn, fd, ctx, NULL) && ex_set_nonblocking(fd) && serve(&conn);
    ex_conn_close(&conn);
    ex_print_counters(ctx);
    siptls_ctx_free(ctx);
    return ok ? 0 : 1;
}
