/* hooks_int.h - what hooks.c (preparing and running calls) and
 * hooks_async.c (the queue and its thread) share; not for other modules. */
#ifndef LV_HOOKS_HOOKS_INT_H
#define LV_HOOKS_HOOKS_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "crypto/hooksig.h"
#include "hooks/hooks.h"

enum { LV_HOOK_ANSWER_MAX = 2048 };

/* One POST to one action's Uri. */
typedef struct lv_hook_call {
    char point[48];
    char ext_id[16];
    char ext_name[72];
    char action[72];
    char invocation[37];
    char where[40];           /* "app/env #N" for log lines */
    char *url;                /* owned */
    lv_buf body;
    char sig[LV_HOOKSIG_MAX];
    struct curl_slist *hdr;
    CURL *easy;
    lv_buf answer;            /* first LV_HOOK_ANSWER_MAX bytes */
    long status;
    CURLcode res;
    char errbuf[CURL_ERROR_SIZE];
    int64_t started_ms;       /* monotonic */
    void *owner;              /* the asynchronous batch it belongs to */
} lv_hook_call;

typedef struct lv_hook_job {
    char point[48];
    lv_acrec *deployment;     /* one reference */
} lv_hook_job;

struct lv_hooks {
    lv_engine *engine;
    unsigned char *key;
    size_t key_len;
    long timeout_ms;
    atomic_bool stopping;     /* closing: every call gives up */
    atomic_bool draining;     /* the listener stops: pre-* calls give up (ticks go on) */
    atomic_uint_fast64_t calls, failures, vetoes, dropped;
    /* the asynchronous side: a ring of jobs under mu */
    pthread_mutex_t mu;
    pthread_cond_t idle;      /* signalled when the queue empties and nothing is in flight */
    lv_hook_job *q;
    size_t qcap, qhead, qlen;
    size_t inflight;
    pthread_t thread;
    bool running;
    CURLM *multi;
    void *batches;            /* the batches in flight (the thread's own list) */
};

/* Builds the calls for point and t under the engine's read lock: one per
 * applicable webhook action, each with its body signed. *out is owned
 * (lv_hook_calls_free). */
lv_err lv_hook_prepare(lv_hooks *h, const char *point, const lv_hooks_target *t, lv_hook_call **out, size_t *n,
                       lv_error *err);
void lv_hook_calls_free(lv_hook_call *c, size_t n);
/* Sets up c->easy (timeout, headers, body, answer capture). */
bool lv_hook_easy(lv_hooks *h, lv_hook_call *c);
/* After the transfer: counts, logs, and says whether it succeeded; why
 * gets a reason when not. */
bool lv_hook_done(lv_hooks *h, lv_hook_call *c, char *why, size_t cap);

lv_err lv_hooks_async_start(lv_hooks *h, lv_error *err);
void lv_hooks_async_stop(lv_hooks *h);

int64_t lv_hooks_mono_ms(void);

#endif
