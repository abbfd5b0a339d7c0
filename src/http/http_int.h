/* http_int.h - the listener's insides, shared by http.c (set-up, the
 * public calls) and loop.c (event loops and connections). */
#ifndef LV_HTTP_HTTP_INT_H
#define LV_HTTP_HTTP_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http/http.h"
#include "http/parse.h"
#include "http/tls.h"
#include "http/wire.h"

enum {
    /* Request line and header fields, together; a longer head gets 431
     * (414 when the request line alone is longer). SigV4 fields with a
     * session token need about 3 KiB. */
    LV_HTTP_MAX_HEAD = 32 * 1024,
    LV_HTTP_MAX_FIELDS = 100,
    /* Buffers a connection keeps between requests; larger ones, grown for
     * a big request or answer, are released after it. */
    LV_HTTP_KEEP_BUFFER = 64 * 1024,
    /* Answers queued and unsent past which no further pipelined request
     * is read until the client takes them. */
    LV_HTTP_MAX_QUEUED = 256 * 1024,
    /* How long a connection closed after an error answer keeps reading
     * (and discarding) what the client still sends, so that the answer
     * is not lost to a reset. */
    LV_HTTP_LINGER_MS = 2000,
};

typedef struct lv_http_conn lv_http_conn;

/* A list of connections in the order they were last active (or started
 * lingering), oldest first: timeouts expire from the head. */
typedef struct lv_http_list {
    lv_http_conn *head, *tail;
} lv_http_list;

typedef struct lv_http_server lv_http_server;

/* A parked request: what the handler answers later, and where. */
typedef struct lv_http_exchange {
    lv_http_conn *conn;
    struct lv_http_exchange *next;  /* the loop's queue of resumed exchanges */
    int keep_alive, head_only;      /* of the request it answers */
    lv_http_response later;
} lv_http_exchange;

struct lv_http_deferred {
    lv_http_exchange x;
};

typedef struct lv_http_loop {
    lv_http_server *srv;
    int epfd;
    int wake_fd;                    /* eventfd: resumed exchanges are queued */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;             /* guards resumed */
    lv_http_exchange *resumed;
    lv_http_list idle, linger, parked;
    lv_http_date date;
    uint64_t now_ms;
    uint64_t next_sweep_ms;
} lv_http_loop;

struct lv_http_server {
    lv_http_loop *loops;
    unsigned nloops;
    int listen_fd;
    int stop_fd;                    /* eventfd: readable once stopping */
    char log_name[32];
    lv_http_handler_fn fn;
    void *ctx;
    size_t max_body;
    unsigned port;
    /* Connections open now, the cap above which a new connection's first
     * request is answered 503 and the connection closed, and the hard
     * limit above which a connection is closed at once. */
    atomic_uint open_conns;
    unsigned max_conns, hard_conns;
    unsigned timeout_ms;
    lv_http_tls *tls;
};

/* One event loop's thread. */
void *lv_http_loop_main(void *arg);

/* Frees every connection a loop still holds (after its thread ended). */
void lv_http_loop_drop_all(lv_http_loop *l);

#endif
