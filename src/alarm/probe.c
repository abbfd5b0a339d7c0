/* probe.c - the probe thread: one libcurl multi handle runs every due
 * HTTP probe concurrently, each bounded by its (scaled) timeout, so a
 * hanging target delays nobody. Results feed the state machine of
 * core/alarm.c; only state changes are written to the store. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alarm/alarms_int.h"

enum { TICK_MAX_MS = 1000, TIMEOUT_FLOOR_MS = 50, INTERVAL_FLOOR_MS = 10 };

typedef struct probe_ctx {
    char name[LV_ALARM_NAME_MAX + 1];
    char url[LV_ALARM_URL_MAX + 1];
    uint64_t gen;
    uint32_t threshold;
    char errbuf[CURL_ERROR_SIZE];
} probe_ctx;

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static int64_t scaled_ms(const lv_alarms *a, uint32_t seconds, int64_t floor_ms)
{
    double ms = (double)seconds * 1000.0 / a->scale;
    return ms < (double)floor_ms ? floor_ms : (int64_t)ms;
}

/* Starts every due probe; returns how long the thread may sleep. Under mu. */
static long start_due(lv_alarms *a, CURLM *m)
{
    int64_t now = mono_ms(), wait = TICK_MAX_MS;
    for (size_t i = 0; i < a->n; i++) {
        lv_alarm_entry *en = a->v[i];
        if (en->rec.probe.url[0] == '\0' || en->inflight)
            continue;
        if (en->next_due_ms > now) {
            if (en->next_due_ms - now < wait)
                wait = en->next_due_ms - now;
            continue;
        }
        int64_t interval = scaled_ms(a, en->rec.probe.interval_s, INTERVAL_FLOOR_MS);
        en->next_due_ms = now + interval;
        if (interval < wait)
            wait = interval;
        probe_ctx *pc = calloc(1, sizeof *pc);
        CURL *h = pc ? curl_easy_init() : NULL;
        if (h == NULL) {
            free(pc);
            continue; /* out of memory: try again at the next interval */
        }
        memcpy(pc->name, en->rec.name, sizeof pc->name);
        memcpy(pc->url, en->rec.probe.url, sizeof pc->url);
        pc->gen = en->gen;
        pc->threshold = en->rec.probe.threshold;
        long timeout = (long)scaled_ms(a, en->rec.probe.timeout_s, TIMEOUT_FLOOR_MS);
        curl_easy_setopt(h, CURLOPT_URL, pc->url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "lever-alarm-probe/1");
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, pc->errbuf);
        curl_easy_setopt(h, CURLOPT_PRIVATE, pc);
        if (a->nflight == a->capflight) {
            size_t cap = a->capflight ? a->capflight * 2 : 16;
            void **nf = realloc(a->flight, cap * sizeof *nf);
            if (nf != NULL) {
                a->flight = nf;
                a->capflight = cap;
            }
        }
        if (a->nflight == a->capflight || curl_multi_add_handle(m, h) != CURLM_OK) {
            curl_easy_cleanup(h);
            free(pc);
            continue;
        }
        a->flight[a->nflight++] = h;
        en->inflight = true;
    }
    return wait < 1 ? 1 : (long)wait;
}

static void finish(lv_alarms *a, CURL *h, CURLcode res)
{
    probe_ctx *pc = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&pc);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    bool ok = res == CURLE_OK && code >= 200 && code < 300;
    pthread_mutex_lock(&a->mu);
    lv_alarm_entry *en = lv_alarms_find_locked(a, pc->name);
    bool changed = false;
    lv_alarm_track t = {LV_ALARM_INSUFFICIENT_DATA, 0};
    if (en != NULL && en->gen == pc->gen) {
        en->inflight = false;
        t.state = en->rec.state;
        t.failures = en->failures;
        changed = lv_alarm_track_result(&t, ok, pc->threshold);
        en->failures = t.failures;
    }
    pthread_mutex_unlock(&a->mu);
    if (changed) {
        char reason[LV_ALARM_REASON_MAX + 1];
        if (ok)
            snprintf(reason, sizeof reason, "Probe of %.900s answered HTTP %ld.", pc->url, code);
        else if (res == CURLE_OK)
            snprintf(reason, sizeof reason, "Probe of %.800s failed %u times in a row: HTTP %ld.", pc->url,
                     t.failures, code);
        else
            snprintf(reason, sizeof reason, "Probe of %.700s failed %u times in a row: %.200s.", pc->url,
                     t.failures, pc->errbuf[0] ? pc->errbuf : curl_easy_strerror(res));
        lv_error err;
        lv_error_clear(&err);
        if (lv_alarms_apply_state(a, pc->name, pc->gen, t.state, reason, real_ms(), &err) != LV_OK)
            fprintf(stderr, "leverd: alarm %s: cannot record state %s: %s\n", pc->name,
                    lv_alarm_state_name(t.state), err.msg);
    }
    for (size_t i = 0; i < a->nflight; i++)
        if (a->flight[i] == h) {
            a->flight[i] = a->flight[--a->nflight];
            break;
        }
    curl_multi_remove_handle(a->multi, h);
    curl_easy_cleanup(h);
    free(pc);
}

static void *probe_main(void *arg)
{
    lv_alarms *a = arg;
    CURLM *m = a->multi;
    while (!atomic_load(&a->stop)) {
        pthread_mutex_lock(&a->mu);
        long wait = start_due(a, m);
        pthread_mutex_unlock(&a->mu);
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                finish(a, msg->easy_handle, msg->data.result);
        if (atomic_load(&a->stop))
            break;
        curl_multi_poll(m, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

lv_err lv_alarms_probe_start(lv_alarms *a, lv_error *err)
{
    /* At start-up, before any other thread of leverd uses libcurl. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return lv_error_set(err, LV_E_INTERNAL, "libcurl cannot be initialised");
    a->multi = curl_multi_init();
    if (a->multi == NULL) {
        curl_global_cleanup();
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    atomic_store(&a->stop, false);
    if (pthread_create(&a->thread, NULL, probe_main, a) != 0) {
        curl_multi_cleanup(a->multi);
        curl_global_cleanup();
        a->multi = NULL;
        return lv_error_set(err, LV_E_INTERNAL, "cannot start the alarm probe thread");
    }
    a->running = true;
    return LV_OK;
}

void lv_alarms_probe_wake(lv_alarms *a)
{
    if (a->multi)
        curl_multi_wakeup(a->multi);
}

void lv_alarms_probe_stop(lv_alarms *a)
{
    if (!a->running)
        return;
    atomic_store(&a->stop, true);
    curl_multi_wakeup(a->multi);
    pthread_join(a->thread, NULL);
    a->running = false;
    /* Abandon what is still in flight. */
    for (size_t i = 0; i < a->nflight; i++) {
        probe_ctx *pc = NULL;
        curl_easy_getinfo(a->flight[i], CURLINFO_PRIVATE, (char **)&pc);
        curl_multi_remove_handle(a->multi, a->flight[i]);
        curl_easy_cleanup(a->flight[i]);
        free(pc);
    }
    free(a->flight);
    a->flight = NULL;
    a->nflight = a->capflight = 0;
    curl_multi_cleanup(a->multi);
    a->multi = NULL;
    curl_global_cleanup();
}
