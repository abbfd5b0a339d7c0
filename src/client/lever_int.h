/* lever_int.h - the inside of liblever's handle, shared by the files that
 * implement it: lever.c (options, open/close, errors), ssm.c (the Parameter
 * Store calls), getters.c (the cache and the layered getters) and live.c
 * (subscriptions and the live-mode thread). Modules built on the handle
 * (appconfig.c, flags.c) use handle.h instead. */
#ifndef LV_CLIENT_LEVER_INT_H
#define LV_CLIENT_LEVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "client/cache.h"
#include "client/http.h"
#include "lever/lever.h"

enum { ERR_MAX = 1024 };

struct lever_options {
    char *endpoint, *region, *akid, *secret, *token, *profile, *prefix, *env_prefix, *client_id;
    int env_scheme;
    int64_t ttl_ms;
    bool prefetch, live;
    int64_t timeout_ms, connect_ms;
    int watch_wait_s;
    lever_log_fn log;
    void *log_user;
    lever_clock_fn clock;
    void *clock_user;
};

typedef struct sub {
    uint64_t id;
    char *name; /* full name, NULL = every change */
    lever_change_fn fn;
    void *user;
} sub;

typedef struct event {
    char *name;
    char *value; /* NULL: deleted */
} event;

struct lever {
    /* settings, immutable after open */
    char *endpoint, *region, *prefix, *env_prefix, *path; /* path: prefix as an SSM path */
    char *client_id;      /* AppConfig client id, NULL = random (appconfig.c) */
    int env_scheme;
    int64_t ttl_ms, timeout_ms;
    bool prefetch, live;
    int watch_wait_s;
    lever_log_fn log;
    void *log_user;
    lever_clock_fn clock;
    void *clock_user;
    lvc_server srv;

    /* caller-side requests: one kept-alive connection, one request at a time */
    pthread_mutex_t net_mu;
    lvc_conn *conn;

    /* cache, error, subscriptions, live state */
    pthread_mutex_t mu;
    lvc_cache cache;
    bool prefix_listed;
    int64_t prefix_confirmed;
    int64_t retry_at;     /* no network refresh before this (after a failure) */
    bool in_backoff;
    lever_status last_st;
    char last_msg[ERR_MAX];
    sub *subs;
    size_t nsubs, capsubs;
    uint64_t next_sub;
    bool live_ok;         /* watch connected and the cache current */
    uint64_t relists, reconnects;

    /* live thread */
    pthread_mutex_t cb_mu; /* held while callbacks run (unsubscribe waits on it) */
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cv;
    atomic_bool stopping;
    bool thread_started;
    pthread_t thread;
    lvc_conn *wconn;

    struct lvc_ac *ac;     /* AppConfig configurations (appconfig.c) */
};

typedef struct evlist {
    event *v;
    size_t n, cap;
    bool oom;
} evlist;

/* lever.c */
int64_t lvl_now(const lever *c);
void lvl_logf(lever *c, lever_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a failure for lever_last_error and returns st. Caller must not hold mu. */
lever_status lvl_fail(lever *c, lever_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ssm.c. Failures are recorded for lever_last_error; conn is serialised by
 * the caller (shared: take net_mu around each request on c->conn). */
lever_status lvl_call_shared(lever *c, const char *op, json_t *body, lvc_reply *reply);
lever_status lvl_simple(lever *c, const char *op, json_t *req, json_t **answer);
lever_status lvl_list_json(lever *c, lvc_conn *conn, bool shared, const char *path, bool recursive,
                           bool decrypt, json_t **out, uint64_t *rev);
lever_status lvl_get_param_json(lever *c, lvc_conn *conn, bool shared, const char *name, bool decrypt,
                                json_t **param);
lever_status lvl_watch_json(lever *c, lvc_conn *conn, bool shared, const char *path, bool recursive,
                            uint64_t since, int wait_s, json_t **ans);

/* getters.c */
lever_status lvl_apply_listing(lever *c, json_t *params, int64_t now, evlist *ev, bool quiet);
lever_status lvl_sync_prefix(lever *c, lvc_conn *conn, bool shared, uint64_t *rev, evlist *ev, bool quiet);

/* live.c */
void lvl_announce(lvc_entry *e, evlist *ev, bool quiet);
void *lvl_live_main(void *arg);

#endif
