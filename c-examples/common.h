/*
 * Code shared by the SIP-over-TLS example server and client: command-line
 * helpers, context setup, sockets, SIP text, and the pump that drives a
 * session over a non-blocking TCP socket by the flags siptls reports.
 */
#ifndef SIPTLS_EXAMPLE_COMMON_H
#define SIPTLS_EXAMPLE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siptls.h"

/* One TLS record plus headroom; every buffer in the examples has this size. */
#define EX_BUF_SIZE 16384u

/* Longest we wait for any one step (handshake, a message, the close). */
#define EX_IO_TIMEOUT_MS 10000

/* A TLS connection over a non-blocking socket. The session keeps the
 * ciphertext the socket has not taken yet (siptls_session_pump_fd). */
typedef struct {
    int fd;
    siptls_session *session;
    /* What we are doing, for error messages ("TLS handshake", ...). */
    const char *phase;
    /* Decrypted plaintext for the application; NUL-terminated for parsing. */
    char plain[EX_BUF_SIZE + 1];
    size_t plain_len;
} ex_conn;

/* --- command line ------------------------------------------------------ */

/* Parses a TCP port; `allow_zero` for a server that may take any port. */
/* The options server and client share. */
typedef struct {
    const char *host;
    const char *certs;
    /* --key: the private key instead of the certs' privateKey.pem: a PEM
     * file, or a pkcs11: URI naming a key on a token or HSM (RFC 7512). */
    const char *key;
    uint16_t port;
    uint16_t version; /* 0: TLS 1.2 and 1.3; else SIPTLS_TLS12 or SIPTLS_TLS13 only */
    siptls_profile profile; /* cipher suites and groups: --profile default|128bit|post-quantum */
} ex_options;

typedef enum { EX_OPT_TAKEN, EX_OPT_UNKNOWN, EX_OPT_BAD } ex_opt_result;

/* Takes argv[*i] (and its value, advancing *i) when it is a shared option. */
ex_opt_result ex_parse_common_option(int argc, char **argv, int *i, bool allow_port_zero,
                                     ex_options *opts);
/* A TCP port number (0 only when allowed: "pick one"). */
bool ex_parse_port(const char *text, bool allow_zero, uint16_t *port_out);

/* --- errors -------------------------------------------------------------- */

/* "error: <what>: <siptls_result_str> (<code>): <detail>", with the detail
 * of the session when given, else of the last failed call on this thread. */
void ex_report(const char *what, siptls_result code, const siptls_session *session);

/* --- contexts ------------------------------------------------------------ */

/* Creates a context for `role`, loads the three-file layout from `certs_dir`
 * (trust IDs from 1), limits it to `tls_version` (0: TLS 1.2 and 1.3) and
 * registers the report-printing verify callback. NULL on failure (reported). */
/* A context for `role` from opts->certs (the three-file layout), with the
 * version and profile of `opts` and a verify callback that prints reports. */
siptls_ctx *ex_ctx_new(siptls_role role, const ex_options *opts);

/* Loads the farm's shared ticket keys from `path` (one per line, as
 * `openssl rand -hex 32` prints them; the first seals) and prints
 * "config: ticket keys=N from PATH"; false on failure (reported). */
bool ex_load_ticket_keys(siptls_ctx *ctx, const char *path);

/* The whole of `path`, NUL-terminated, its length in *len_out; NULL
 * (reported on stderr) when it cannot be read. Free it with free(). */
char *ex_read_file(const char *path, size_t *len_out);

/* Prints the context's counters ("counters: siptls_..." lines). */
void ex_print_counters(const siptls_ctx *ctx);

/* --- sockets ------------------------------------------------------------- */

/* "127.0.0.1:5061" or "[::1]:5061" for a socket's local or peer address. */
void ex_sockaddr_str(int fd, bool peer, char *buf, size_t cap);

/* A listening socket on host:port (SO_REUSEADDR); -1 on failure (reported). */
int ex_listen(const char *host, uint16_t port);

/* Connects to host:port within the I/O timeout; a non-blocking socket or -1. */
int ex_connect(const char *host, uint16_t port);

/* Makes `fd` non-blocking; false on failure (reported). */
bool ex_set_nonblocking(int fd);

/* Changes fd's epoll registration (`data` its pointer) to the events the
 * SIPTLS_WANT_* bits of `wants` ask for, when they differ from *watching. */
void ex_epoll_watch(int ep, int fd, void *data, uint32_t wants, uint32_t *watching);

/* --- finding the server (RFC 3263) ---------------------------------------- */

/* The TLS targets of a SIP URI, in the order to try them. */
#define EX_MAX_TARGETS 8
typedef struct {
    siptls_target items[EX_MAX_TARGETS];
    size_t count;
} ex_targets;

/* Resolves `uri` through `nameserver` (NULL: /etc/resolv.conf) and keeps
 * its TLS targets, printing how many there are; false when there is none
 * (reported). */
bool ex_resolve_uri(const char *uri, const char *nameserver, ex_targets *out);

/* Connects to the first target that answers; the socket (and in *chosen
 * the target, whose verify_name the certificate must carry: RFC 5922, the
 * URI's domain, never the SRV target's host), or -1 when none answers.
 * `verbose` prints each attempt. */
int ex_connect_targets(const ex_targets *targets, bool verbose, const siptls_target **chosen);

/* --- the TLS connection -------------------------------------------------- */

/* Sets up `conn` for `fd` and a new session; false on failure (reported).
 * `conn` owns `fd` either way: call ex_conn_close() afterwards. */
bool ex_conn_open(ex_conn *conn, int fd, const siptls_ctx *ctx, const char *peer_name);

/* Frees the session and closes the socket. Safe to call twice. */
void ex_conn_close(ex_conn *conn);

/* The pump: siptls_session_pump_fd moves the bytes; its flags say what
 * happened and what to wait for (poll, up to the I/O timeout). Plaintext is
 * read into conn->plain as it arrives. Returns true once a flag of `until`
 * (SIPTLS_EVENT_*) was reported, or, for `until` 0, once everything queued
 * has been sent; false on a failure, a timeout, or the session ending first
 * (reported). */
bool ex_pump_until(ex_conn *conn, uint32_t until);

/* Drops the first `len` bytes of conn->plain (a message that was handled). */
void ex_consume(ex_conn *conn, size_t len);

/* Prints "tls: version=... suite=... handshake=full|resumed". */
bool ex_print_session(const siptls_session *session);

/* Prints how the peer closed: "tls: peer closed cleanly" (close_notify) or
 * "tls: transport closed without close_notify". */
bool ex_print_close(const siptls_session *session);

/* --- SIP ----------------------------------------------------------------- */

/* Length of the first line of `msg` (without CRLF). */
size_t ex_sip_first_line(const char *msg, size_t len);

/* The value of the `index`-th header called `name` (or its compact form,
 * NULL when none) in the header block of `msg`, trimmed. */
/* Builds a response to the request `req`: the status line, then Via (all,
 * in order), From, To (tagged when the request's was not), Call-ID and
 * CSeq copied as RFC 3261 8.2.6.2 asks, and an empty body. */
bool ex_sip_response(const char *req, size_t req_len, const char *status, char *out,
                     size_t cap, size_t *out_len);

bool ex_sip_header(const char *msg, size_t len, const char *name, const char *compact,
                   size_t index, const char **value_out, size_t *value_len_out);

/* 1: `msg` begins with a whole SIP message of *len_out bytes (headers and
 * Content-Length bytes of body); 0: more is needed; -1: malformed or larger
 * than EX_BUF_SIZE (reported, with `phase`). */
int ex_sip_message_length(const char *msg, size_t len, size_t *len_out, const char *phase);

#endif /* SIPTLS_EXAMPLE_COMMON_H */
