/*
 * Example SIP-over-TLS client: connects with its certificate, verifies the
 * server against the trust table and peer name, sends one OPTIONS request,
 * prints the response, closes with close_notify. Exits 0 iff the answer
 * was 200. `--then-port` connects again afterwards, to the same or another
 * server, with the same context: the session resumes when the server
 * accepts it (a farm sharing ticket keys).
 *
 * The gateway's clock is given to the library through a time callback, as
 * a gateway whose clock comes from SNTP would do: `--clock unsynced` plays
 * a gateway that has not synchronized yet, which must refuse every
 * certificate (status CLOCK_UNSET) rather than guess at validity.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Our SIP identity; it is the name in certs/client/publickey.pem. */
#define LOCAL_DOMAIN "gw-a.example.test"

typedef enum { CLOCK_SYSTEM, CLOCK_UNSYNCED } clock_mode;

static void usage(FILE *out)
{
    fprintf(out, "usage: client [--host 127.0.0.1] [--port 5061] [--peer-name gw-b.example.test]\n"
                 "              [--certs certs/client] [--key KEY] [--tls12|--tls13] [--profile default|128bit|post-quantum]\n"
                 "              [--clock system|unsynced] [--then-port PORT]...\n"
                 "              [--uri sips:DOMAIN [--nameserver ADDR:PORT]]\n"
                 "Sends one SIP OPTIONS request over mutual TLS; exits 0 iff it gets 200.\n"
                 "--uri: find the server as RFC 3263 says (NAPTR, SRV, A/AAAA) and dial the\n"
                 "  first target that answers, verifying the URI's domain (instead of\n"
                 "  --host, --port and --peer-name); --nameserver: the DNS server to ask.\n"
                 "--then-port: afterwards, once more on PORT (repeatable), resuming the\n"
                 "  session when the server accepts it.\n");
}

/* The gateway clock: seconds since the epoch, or false while unsynchronized. */
static bool gateway_clock(void *userdata, uint64_t *seconds_out)
{
    const clock_mode *mode = userdata;
    if (*mode == CLOCK_UNSYNCED) {
        return false;
    }
    time_t now = time(NULL);
    if (now < 0) {
        return false; /* time() failed: no time is better than a wrong one */
    }
    *seconds_out = (uint64_t)now;
    return true;
}

/* Hex tokens for the branch, tag and Call-ID: unique, not secret. */
static void random_token(char *buf, size_t cap)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long mix = (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20) ^
                        ((unsigned long)getpid() << 8) ^ (unsigned long)(++counter * 2654435761u);
    snprintf(buf, cap, "%lx", mix);
}

/* Whether `value` (not NUL-terminated) equals `expected`. */
static bool header_is(const char *value, size_t len, const char *expected)
{
    return strlen(expected) == len && memcmp(value, expected, len) == 0;
}

/* Reads responses until a final one; returns its status code, or -1. */
static int read_final_response(ex_conn *conn, const char *call_id)
{
    conn->phase = "reading the SIP response";
    for (;;) {
        /* Pump until a whole response is in conn->plain. */
        size_t len = 0;
        int got;
        while ((got = ex_sip_message_length(conn->plain, conn->plain_len, &len, conn->phase)) ==
               0) {
            if (!ex_pump_until(conn, SIPTLS_EVENT_PLAINTEXT)) {
                return -1;
            }
        }
        if (got < 0) {
            return -1;
        }
        size_t line_len = ex_sip_first_line(conn->plain, len);
        printf("sip: received %.*s\n", (int)line_len, conn->plain);
        int status = -1;
        if (line_len >= 12 && strncmp(conn->plain, "SIP/2.0 ", 8) == 0) {
            status = atoi(conn->plain + 8);
        }
        const char *value = NULL;
        size_t value_len = 0;
        bool ours = ex_sip_header(conn->plain, len, "Call-ID", "i", 0, &value, &value_len) &&
                    header_is(value, value_len, call_id) &&
                    ex_sip_header(conn->plain, len, "CSeq", NULL, 0, &value, &value_len) &&
                    header_is(value, value_len, "1 OPTIONS");
        ex_consume(conn, len);
        if (status < 100 || status > 699) {
            fprintf(stderr, "error: %s: not a SIP response\n", conn->phase);
            return -1;
        }
        if (!ours) {
            fprintf(stderr, "error: %s: Call-ID or CSeq does not match the request\n",
                    conn->phase);
            return -1;
        }
        if (status >= 200) {
            return status;
        }
        /* 1xx: provisional, the final answer follows. */
    }
}

/* Handshake, one OPTIONS transaction, close, each step driven by the
 * pump's flags. Returns the final status or -1. */
static int run(ex_conn *conn, const char *peer_name)
{
    /* 1. Pump until the server has been accepted (its certificate checked
     *    against the CA list and peer_name). */
    if (!ex_pump_until(conn, SIPTLS_EVENT_HANDSHAKE_DONE) || !ex_print_session(conn->session)) {
        return -1;
    }
    char local[128], branch[32], tag[32], call_id[64];
    ex_sockaddr_str(conn->fd, false, local, sizeof local);
    random_token(branch, sizeof branch);
    random_token(tag, sizeof tag);
    random_token(call_id, sizeof call_id);
    strncat(call_id, "@" LOCAL_DOMAIN, sizeof call_id - strlen(call_id) - 1);

    /* An IPv6 literal is bracketed inside a SIP URI (RFC 3261 25.1). */
    char uri_host[300];
    bool v6 = strchr(peer_name, ':') != NULL;
    snprintf(uri_host, sizeof uri_host, "%s%s%s", v6 ? "[" : "", peer_name, v6 ? "]" : "");

    char request[2048];
    int n = snprintf(request, sizeof request,
                     "OPTIONS sip:%s SIP/2.0\r\n"
                     "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:" LOCAL_DOMAIN ">;tag=%s\r\n"
                     "To: <sip:%s>\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: 1 OPTIONS\r\n"
                     "Contact: <sip:" LOCAL_DOMAIN "@%s;transport=tls>\r\n"
                     "Accept: application/sdp\r\n"
                     "Content-Length: 0\r\n"
                     "\r\n",
                     uri_host, local, branch, tag, uri_host, call_id, local);
    if (n < 0 || (size_t)n >= sizeof request) {
        fprintf(stderr, "error: the peer name is too long for the request\n");
        return -1;
    }
    /* 2. Write the request, pumping while the session's send buffer is full,
     *    then until all of it has been sent. */
    conn->phase = "sending the SIP request";
    for (size_t done = 0, len = 0; done < (size_t)n; done += len) {
        siptls_result r = siptls_session_write(conn->session, (const uint8_t *)request + done,
                                               (size_t)n - done, &len);
        if (r != SIPTLS_OK && r != SIPTLS_AGAIN) {
            ex_report(conn->phase, r, conn->session);
            return -1;
        }
        if (!ex_pump_until(conn, 0)) {
            return -1;
        }
    }
    printf("sip: sent %.*s\n", (int)ex_sip_first_line(request, (size_t)n), request);

    /* 3. Pump until the final response. */
    int status = read_final_response(conn, call_id);
    if (status < 0) {
        return -1;
    }
    /* 4. Send close_notify, and pump until the server's (or the end of the
     *    connection) says the session has ended. */
    conn->phase = "TLS close";
    ex_consume(conn, conn->plain_len); /* whatever else came is of no use now */
    siptls_result r = siptls_session_close(conn->session);
    if (r != SIPTLS_OK) {
        ex_report(conn->phase, r, conn->session);
        return -1;
    }
    return ex_pump_until(conn, SIPTLS_EVENT_ENDED) && ex_print_close(conn->session) ? status
                                                                                       : -1;
}

int main(int argc, char **argv)
{
    const char *peer_name = "gw-b.example.test";
    const char *uri = NULL;
    const char *nameserver = NULL;
    static ex_targets targets; /* ~4 KiB: static rather than on the stack */
    ex_options opts = {.host = "127.0.0.1", .certs = "certs/client", .port = 5061, .version = 0,
                       .profile = SIPTLS_PROFILE_DEFAULT};
    /* static: the library keeps the userdata pointer for the context's life */
    static clock_mode clock_setting = CLOCK_SYSTEM;
    enum { MAX_PORTS = 8 };
    uint16_t ports[MAX_PORTS];
    size_t port_count = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);

    for (int i = 1; i < argc; i++) {
        ex_opt_result shared = ex_parse_common_option(argc, argv, &i, false, &opts);
        if (shared == EX_OPT_TAKEN) {
            continue;
        }
        if (shared == EX_OPT_BAD) {
            return 2;
        }
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--peer-name") == 0 && has_value) {
            peer_name = argv[++i];
        } else if (strcmp(arg, "--uri") == 0 && has_value) {
            uri = argv[++i];
        } else if (strcmp(arg, "--nameserver") == 0 && has_value) {
            nameserver = argv[++i];
        } else if (strcmp(arg, "--then-port") == 0 && has_value) {
            if (port_count == MAX_PORTS || !ex_parse_port(argv[++i], false, &ports[port_count])) {
                fprintf(stderr, "error: bad or too many --then-port values\n");
                return 2;
            }
            port_count++;
        } else if (strcmp(arg, "--clock") == 0 && has_value) {
            const char *mode = argv[++i];
            if (strcmp(mode, "system") == 0) {
                clock_setting = CLOCK_SYSTEM;
            } else if (strcmp(mode, "unsynced") == 0) {
                clock_setting = CLOCK_UNSYNCED;
            } else {
                fprintf(stderr, "error: --clock takes system or unsynced, not '%s'\n", mode);
                return 2;
            }
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    siptls_ctx *ctx = ex_ctx_new(SIPTLS_ROLE_CLIENT, &opts);
    if (ctx == NULL) {
        return 1;
    }
    siptls_result r = siptls_ctx_set_time_callback(ctx, gateway_clock, &clock_setting);
    if (r != SIPTLS_OK) {
        ex_report("registering the time callback", r, NULL);
        siptls_ctx_free(ctx);
        return 1;
    }
    printf("config: clock=%s\n", clock_setting == CLOCK_SYSTEM ? "system" : "unsynced");

    ports[0] = opts.port;
    bool all_ok = true;
    for (size_t p = 0; p < port_count && all_ok; p++) {
        int fd = -1;
        if (uri != NULL && p == 0) {
            const siptls_target *chosen = NULL;
            if (ex_resolve_uri(uri, nameserver, &targets)) {
                fd = ex_connect_targets(&targets, true, &chosen);
            }
            if (fd >= 0) {
                peer_name = chosen->verify_name;
            }
        } else {
            fd = ex_connect(opts.host, ports[p]);
        }
        if (fd < 0) {
            all_ok = false;
            break;
        }
        char where[128];
        ex_sockaddr_str(fd, true, where, sizeof where);
        printf("client: connected to %s as %s\n", where, peer_name);

        static ex_conn conn; /* ~48 KiB of buffers: static rather than on the stack */
        int status = ex_conn_open(&conn, fd, ctx, peer_name) ? run(&conn, peer_name) : -1;
        ex_conn_close(&conn);
        all_ok = status == 200;
    }
    ex_print_counters(ctx);
    siptls_ctx_free(ctx);
    return all_ok ? 0 : 1;
}
