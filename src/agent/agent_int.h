/* agent_int.h - what lever-agent's :2773 runtime files share: the agent's
 * state (one mutex guards all cache state), the watched prefixes, the
 * helpers agent.c (lifecycle, routing) offers the others, and the entry
 * points of ssmget.c (the GET handler), ssmstatus.c (/healthz, /metrics),
 * ssmwatch.c (the watch threads) and ssmdisk.c (the disk copy). Not for
 * other modules. */
#ifndef LV_AGENT_AGENT_INT_H
#define LV_AGENT_AGENT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/agent.h"
#include "agent/table.h"
#include "client/http.h"
#include "crypto/crypto.h"
#include "http/http.h"

#define GET_PATH "/systemsmanager/parameters/get"
#define TOKEN_HEADER "X-Aws-Parameters-Secrets-Token"
/* leverd writes times as epoch seconds with milliseconds (13 significant
 * digits); jansson's default 17 would print 1795307261.976 as
 * 1795307261.9760001. 15 digits give back exactly what the upstream sent. */
#define PARAM_DUMP (JSON_COMPACT | JSON_REAL_PRECISION(15))
enum {
    POOL_MAX = 32,            /* idle upstream connections kept for handlers */
    SAVE_DEBOUNCE_MS = 300,   /* coalesce bursts of changes into one write */
    SAVE_RETRY_MS = 5000,     /* after a failed write */
    OD_BACKOFF_MIN_MS = 200,  /* on-demand fetches after an upstream failure */
    OD_BACKOFF_MAX_MS = 5000,
    WATCH_BACKOFF_MIN_MS = 100,
    WATCH_BACKOFF_MAX_MS = 5000,
    LIST_PAGE = 10,           /* GetParametersByPath's MaxResults limit */
};

typedef struct prefix {
    char *path;
    struct lva_agent *a;
    pthread_t th;
    bool th_started;
    lvc_conn *conn;          /* interruptible: lva_agent_stop ends a long poll at once */
    /* under a->mu */
    bool loaded;             /* entries present (listed, or from the disk copy) */
    bool connected;          /* the watch is current */
    uint64_t revision;
    int64_t last_ok_ms;      /* wall: when the upstream last confirmed the prefix */
    double lag_s;            /* commit-to-apply delay of the last change applied */
    uint64_t relists, reconnects, changes;
} prefix;

struct lva_agent {
    lva_config cfg;
    lvc_server srv;
    lv_http_server *http;
    unsigned char seal_key[LV_MASTER_KEY_LEN];
    bool persist;

    pthread_mutex_t mu;
    pthread_cond_t cond;     /* stop, dirty, backoff sleeps */
    bool stop;
    lva_table pf;            /* prefetched: name -> entry, unbounded */
    lva_table od;            /* on-demand: selector + flag -> entry, LRU */
    prefix *prefixes;
    size_t nprefixes;
    /* upstream health as the handlers see it */
    bool up_down;
    unsigned up_streak;
    int64_t up_retry_at;     /* mono */
    char up_error[256];
    /* persistence */
    bool dirty;
    int64_t last_save_mono;
    bool save_failing;
    pthread_t persister;
    bool persister_started;

    pthread_mutex_t pool_mu;
    lvc_conn *pool[POOL_MAX];
    size_t npool;

    atomic_uint_fast64_t hits, misses, stale, upstream_errors, refused, bad_requests,
        saves, save_errors, cache_rejected, cache_loaded_entries;
};

int64_t lva_mono_ms(void);
int64_t lva_wall_ms(void);
/* Whether name is path or under it. */
bool lva_under(const char *path, const char *name);
void lva_send_error(lv_http_response *resp, int status, const char *type, const char *msg);
/* Caller holds mu. */
void lva_upstream_ok_locked(lva_agent *a);
void lva_upstream_failed_locked(lva_agent *a, const char *why);
/* GetParameter, optionally for one side of a label rollout
 * (x-lever-rollout-side) and keeping the answer's headers. On LEVER_OK
 * *json (malloc'd compact text), secure and version describe the
 * Parameter. */
lever_status lva_get_parameter_ex(lva_agent *a, lvc_conn *c, const char *sel, bool decrypt, const char *side,
                                  lv_buf *hdrs, lvc_reply *r, char **json, bool *secure, int64_t *version,
                                  char *err, size_t errlen);
/* Wipes and frees a secret value (NULL is fine). */
void lva_free_secret(char *s);
/* Caller holds mu. The prefix that serves name, or NULL. */
prefix *lva_covering(lva_agent *a, const char *name);

/* GET /systemsmanager/parameters/get (ssmget.c). */
void lva_handle_get(lva_agent *a, const lv_http_request *req, lv_http_response *resp);

/* GET /healthz and /metrics (ssmstatus.c). Take mu. */
void lva_handle_healthz(lva_agent *a, lv_http_response *resp);
void lva_handle_metrics(lva_agent *a, lv_http_response *resp);

/* The watch thread of one prefix; arg is its prefix (ssmwatch.c). */
void *lva_watch_main(void *arg);

/* The disk copy (ssmdisk.c). lva_save writes the cache now (takes mu);
 * lva_persist_main is the persister thread (arg: the agent), saving after
 * changes, debounced; lva_load_disk restores the copy at start, before any
 * thread runs (a file failing any check is moved aside and ignored). */
void lva_save(lva_agent *a);
void *lva_persist_main(void *arg);
void lva_load_disk(lva_agent *a);

#endif
