/*
 * A session store on Redis for a farm of example servers (hiredis).
 *
 * siptls hands the store values it has already sealed with the ticket keys,
 * so Redis never holds a session secret: a farm shares the ticket-key file
 * and one Redis, and a TLS 1.2 session ID (or a TLS 1.3 ticket, which is a
 * store key while a store is set) made on one server resumes on any other.
 *
 * Redis is a cache here, never a dependency of a call: every command has a
 * timeout, and after a failure the store stays out of the way for a second
 * before it reconnects. A session that cannot be stored or found costs a
 * full handshake, nothing more.
 */
#ifndef SIPTLS_EXAMPLE_REDIS_STORE_H
#define SIPTLS_EXAMPLE_REDIS_STORE_H

#include <stdint.h>

#include "siptls.h"

typedef struct ex_redis_store ex_redis_store;

/* Connects to Redis at "host:port" (or "[v6]:port"); entries expire after
 * `lifetime_s` seconds, the context's ticket lifetime; each connect and
 * command waits at most `timeout_ms`. NULL only when `address` is not
 * host:port or memory runs out (reported); an unreachable Redis is not an
 * error at startup: the store keeps trying. */
ex_redis_store *ex_redis_store_new(const char *address, uint32_t lifetime_s, uint32_t timeout_ms);

/* The callbacks and user data for siptls_ctx_set_session_store. */
siptls_session_store ex_redis_store_callbacks(ex_redis_store *store);

/* Prints "redis: stored=N found=N missed=N failed=N" (failed: commands not
 * answered, connections refused or lost included). */
void ex_redis_store_print(ex_redis_store *store);

/* Closes the connection. Only after the context using it has been freed. */
void ex_redis_store_free(ex_redis_store *store);

#endif /* SIPTLS_EXAMPLE_REDIS_STORE_H */
