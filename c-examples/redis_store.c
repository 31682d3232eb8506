/*
 * A siptls session store on Redis. See redis_store.h.
 */
#include "redis_store.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every key siptls stores gets this prefix, so the farm's entries are easy
 * to find (and flush) in a Redis that holds other things too. */
static const char KEY_PREFIX[] = "siptls:session:";

/* After a failure, commands are skipped for this long before reconnecting:
 * a Redis that is down costs each handshake nothing rather than a timeout. */
#define RETRY_AFTER_MS 1000

struct ex_redis_store {
    char host[256];
    int port;
    uint32_t lifetime_s;
    struct timeval timeout;
    /* The callbacks may run on any thread driving a session: one command
     * at a time on the one connection. */
    pthread_mutex_t lock;
    redisContext *redis; /* NULL while disconnected */
    int64_t retry_at_ms; /* no connection attempt before this */
    uint64_t stored, found, missed, failed;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "host:port" or "[v6]:port" into the store's host and port. */
static bool parse_address(const char *address, ex_redis_store *store)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address) {
        return false;
    }
    const char *host = address;
    size_t host_len = (size_t)(colon - address);
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (host_len >= sizeof store->host || *end != '\0' || port < 1 || port > 65535) {
        return false;
    }
    memcpy(store->host, host, host_len);
    store->host[host_len] = '\0';
    store->port = (int)port;
    return true;
}

/* Drops the connection after an error and waits before trying again. The
 * first failure after a working period is printed; the count has the rest. */
static void fail(ex_redis_store *store, const char *what)
{
    store->failed++;
    if (store->redis != NULL) {
        fprintf(stderr, "redis: %s failed (%s); sessions are not shared until it answers again\n",
                what, store->redis->errstr[0] ? store->redis->errstr : "no answer");
        redisFree(store->redis);
        store->redis = NULL;
    }
    store->retry_at_ms = now_ms() + RETRY_AFTER_MS;
}

/* The connection, (re)connecting when the retry time has come; NULL while
 * Redis is out of reach. */
static redisContext *connection(ex_redis_store *store)
{
    if (store->redis != NULL) {
        return store->redis;
    }
    if (now_ms() < store->retry_at_ms) {
        return NULL;
    }
    redisContext *redis = redisConnectWithTimeout(store->host, store->port, store->timeout);
    if (redis == NULL || redis->err || redisSetTimeout(redis, store->timeout) != REDIS_OK) {
        if (redis != NULL) {
            redisFree(redis);
        }
        store->failed++;
        store->retry_at_ms = now_ms() + RETRY_AFTER_MS;
        return NULL;
    }
    store->redis = redis;
    return redis;
}

/* KEY_PREFIX followed by siptls' key bytes; NULL when it does not fit. */
static const char *prefixed(const uint8_t *key, size_t key_len, char *buf, size_t cap,
                            size_t *len_out)
{
    size_t prefix_len = sizeof KEY_PREFIX - 1;
    if (key_len > cap - prefix_len) {
        return NULL;
    }
    memcpy(buf, KEY_PREFIX, prefix_len);
    memcpy(buf + prefix_len, key, key_len);
    *len_out = prefix_len + key_len;
    return buf;
}

static bool store_put(void *userdata, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len)
{
    ex_redis_store *store = userdata;
    char name[512];
    size_t name_len = 0;
    if (prefixed(key, key_len, name, sizeof name, &name_len) == NULL) {
        return false;
    }
    pthread_mutex_lock(&store->lock);
    bool kept = false;
    redisContext *redis = connection(store);
    if (redis != NULL) {
        /* EX: the entry leaves Redis when siptls would refuse it anyway. */
        redisReply *reply = redisCommand(redis, "SET %b %b EX %u", name, name_len, value,
                                         value_len, (unsigned)store->lifetime_s);
        kept = reply != NULL && reply->type == REDIS_REPLY_STATUS;
        if (reply == NULL) {
            fail(store, "SET");
        } else if (kept) {
            store->stored++;
        } else {
            store->failed++;
        }
        freeReplyObject(reply);
    }
    pthread_mutex_unlock(&store->lock);
    return kept;
}

static size_t store_get(void *userdata, const uint8_t *key, size_t key_len, bool take, uint8_t *buf,
                        size_t buf_len)
{
    ex_redis_store *store = userdata;
    char name[512];
    size_t name_len = 0;
    if (prefixed(key, key_len, name, sizeof name, &name_len) == NULL) {
        return 0;
    }
    pthread_mutex_lock(&store->lock);
    size_t len = 0;
    redisContext *redis = connection(store);
    if (redis != NULL) {
        /* GETDEL (Redis 6.2): a TLS 1.3 session is used once, on one server. */
        redisReply *reply = redisCommand(redis, take ? "GETDEL %b" : "GET %b", name, name_len);
        if (reply == NULL) {
            fail(store, take ? "GETDEL" : "GET");
        } else if (reply->type == REDIS_REPLY_STRING && reply->len <= buf_len) {
            memcpy(buf, reply->str, reply->len);
            len = reply->len;
            store->found++;
        } else if (reply->type == REDIS_REPLY_NIL) {
            store->missed++;
        } else {
            store->failed++; /* an error reply, or a value too large to be ours */
        }
        freeReplyObject(reply);
    }
    pthread_mutex_unlock(&store->lock);
    return len;
}

ex_redis_store *ex_redis_store_new(const char *address, uint32_t lifetime_s, uint32_t timeout_ms)
{
    ex_redis_store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        fprintf(stderr, "error: no memory for the Redis store\n");
        return NULL;
    }
    if (!parse_address(address, store)) {
        fprintf(stderr, "error: --redis takes host:port or [v6]:port, not '%s'\n", address);
        free(store);
        return NULL;
    }
    store->lifetime_s = lifetime_s;
    store->timeout.tv_sec = (time_t)(timeout_ms / 1000);
    store->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    pthread_mutex_init(&store->lock, NULL);
    pthread_mutex_lock(&store->lock);
    bool up = connection(store) != NULL;
    pthread_mutex_unlock(&store->lock);
    printf("redis: %s at %s:%d (entries expire after %u s)\n",
           up ? "connected" : "not answering yet; will retry", store->host, store->port,
           (unsigned)lifetime_s);
    return store;
}

siptls_session_store ex_redis_store_callbacks(ex_redis_store *store)
{
    return (siptls_session_store){.struct_size = sizeof(siptls_session_store),
                                  .userdata = store,
                                  .put = store_put,
                                  .get = store_get};
}

void ex_redis_store_print(ex_redis_store *store)
{
    pthread_mutex_lock(&store->lock);
    printf("redis: stored=%llu found=%llu missed=%llu failed=%llu\n",
           (unsigned long long)store->stored, (unsigned long long)store->found,
           (unsigned long long)store->missed, (unsigned long long)store->failed);
    pthread_mutex_unlock(&store->lock);
}

void ex_redis_store_free(ex_redis_store *store)
{
    if (store == NULL) {
        return;
    }
    if (store->redis != NULL) {
        redisFree(store->redis);
    }
    pthread_mutex_destroy(&store->lock);
    free(store);
}
