/* hooks_async.c - the ON_DEPLOYMENT_* notifications: a bounded queue that
 * lv_hooks_event fills without blocking, and one thread that turns each
 * job into calls and runs them on a libcurl multi handle (at most
 * LV_HOOKS_INFLIGHT_MAX at once, each bounded by the scaled timeout).
 * Failures are logged and counted; nothing waits for them. */
#include "hooks/hooks_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct batch {
    lv_hook_call *calls;
    size_t n, left;
    struct batch *prev, *next;
} batch;

static void batch_free(lv_hooks *h, batch *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        h->batches = b->next;
    if (b->next)
        b->next->prev = b->prev;
    lv_hook_calls_free(b->calls, b->n);
    free(b);
}

void lv_hooks_event(void *ctx, const char *point, const lv_acrec *deployment)
{
    lv_hooks *h = ctx;
    if (h == NULL || deployment == NULL || point == NULL || atomic_load(&h->stopping))
        return;
    pthread_mutex_lock(&h->mu);
    bool full = h->qlen == h->qcap;
    if (!full) {
        lv_hook_job *j = &h->q[(h->qhead + h->qlen) % h->qcap];
        snprintf(j->point, sizeof j->point, "%s", point);
        j->deployment = lv_acrec_ref(deployment);
        h->qlen++;
    }
    pthread_mutex_unlock(&h->mu);
    if (full) {
        atomic_fetch_add(&h->dropped, 1);
        fprintf(stderr, "leverd: hook %s dropped: %zu events already queued\n", point, h->qcap);
        return;
    }
    curl_multi_wakeup(h->multi);
}

static void finish_one(lv_hooks *h, CURL *e, CURLcode res)
{
    lv_hook_call *c = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&c);
    c->res = res;
    curl_multi_remove_handle(h->multi, e);
    lv_hook_done(h, c, NULL, 0);
    batch *b = c->owner;
    if (--b->left == 0)
        batch_free(h, b);
    pthread_mutex_lock(&h->mu);
    h->inflight--;
    if (h->inflight == 0 && h->qlen == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->mu);
}

/* Takes jobs while there is room in flight; under no lock. */
static void start_jobs(lv_hooks *h)
{
    for (;;) {
        pthread_mutex_lock(&h->mu);
        if (h->qlen == 0 || h->inflight >= LV_HOOKS_INFLIGHT_MAX) {
            pthread_mutex_unlock(&h->mu);
            return;
        }
        lv_hook_job j = h->q[h->qhead];
        h->qhead = (h->qhead + 1) % h->qcap;
        h->qlen--;
        /* Counted in flight until its calls are started, so a drain waits. */
        h->inflight++;
        pthread_mutex_unlock(&h->mu);
        lv_hooks_target t;
        memset(&t, 0, sizeof t);
        t.deployment = j.deployment;
        lv_hook_call *calls = NULL;
        size_t n = 0;
        lv_error err;
        lv_error_clear(&err);
        if (lv_hook_prepare(h, j.point, &t, &calls, &n, &err) != LV_OK)
            fprintf(stderr, "leverd: hook %s: %s\n", j.point, err.msg);
        lv_acrec_unref(j.deployment);
        batch *b = n ? calloc(1, sizeof *b) : NULL;
        size_t started = 0;
        if (b != NULL) {
            b->calls = calls;
            b->n = n;
            for (size_t i = 0; i < n; i++) {
                calls[i].owner = b;
                if (lv_hook_easy(h, &calls[i]) && curl_multi_add_handle(h->multi, calls[i].easy) == CURLM_OK)
                    started++;
                else
                    lv_hook_done(h, &calls[i], NULL, 0);
            }
            b->left = started;
        }
        if (started == 0) {
            lv_hook_calls_free(calls, n);
            free(b);
        } else {
            b->next = h->batches;
            if (b->next)
                b->next->prev = b;
            h->batches = b;
        }
        pthread_mutex_lock(&h->mu);
        h->inflight += started;
        h->inflight--;
        if (h->inflight == 0 && h->qlen == 0)
            pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->mu);
    }
}

static void *async_main(void *arg)
{
    lv_hooks *h = arg;
    while (!atomic_load(&h->stopping)) {
        start_jobs(h);
        int running = 0;
        curl_multi_perform(h->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                finish_one(h, msg->easy_handle, msg->data.result);
        if (atomic_load(&h->stopping))
            break;
        curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
    }
    return NULL;
}

lv_err lv_hooks_async_start(lv_hooks *h, lv_error *err)
{
    /* At start-up, before other threads use libcurl (it counts inits). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return lv_error_set(err, LV_E_INTERNAL, "libcurl cannot be initialised");
    h->multi = curl_multi_init();
    if (h->multi == NULL) {
        curl_global_cleanup();
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    if (pthread_create(&h->thread, NULL, async_main, h) != 0) {
        curl_multi_cleanup(h->multi);
        h->multi = NULL;
        curl_global_cleanup();
        return lv_error_set(err, LV_E_INTERNAL, "cannot start the hook thread");
    }
    h->running = true;
    return LV_OK;
}

void lv_hooks_async_stop(lv_hooks *h)
{
    if (!h->running)
        return;
    atomic_store(&h->stopping, true);
    curl_multi_wakeup(h->multi);
    pthread_join(h->thread, NULL);
    h->running = false;
    /* Abandon what is still in flight. */
    while (h->batches != NULL) {
        batch *b = h->batches;
        for (size_t i = 0; i < b->n; i++)
            if (b->calls[i].easy)
                curl_multi_remove_handle(h->multi, b->calls[i].easy);
        batch_free(h, b);
    }
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    curl_global_cleanup();
}

bool lv_hooks_drain(lv_hooks *h, int64_t timeout_ms)
{
    if (h == NULL)
        return true;
    int64_t end = lv_hooks_mono_ms() + timeout_ms;
    pthread_mutex_lock(&h->mu);
    while (h->qlen > 0 || h->inflight > 0) {
        int64_t left = end - lv_hooks_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&h->idle, &h->mu, &ts);
    }
    bool idle = h->qlen == 0 && h->inflight == 0;
    pthread_mutex_unlock(&h->mu);
    return idle;
}
