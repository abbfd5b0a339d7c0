/* timers.c - policy timers: each tick hands due Expiration and
 * notification policies to the writer as ordinary writes. */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/record.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* ---------- policy timers (engine qlock held) ---------- */

void lv_eng_timers_drop_key(lv_engine *e, const char *key, size_t key_len)
{
    size_t j = 0;
    for (size_t i = 0; i < e->ntimers; i++) {
        timer_entry *t = &e->timers[i];
        if (t->key_len == key_len && memcmp(t->key, key, key_len) == 0) {
            free(t->key);
            continue;
        }
        e->timers[j++] = *t;
    }
    e->ntimers = j;
}

void lv_eng_timers_add_param(lv_engine *e, const lv_param *p)
{
    const lv_version *v = lv_param_latest(p);
    if (v == NULL || v->policy == NULL)
        return;
    for (unsigned i = 0; i < v->policy->n; i++) {
        if (e->ntimers == e->timers_cap) {
            size_t cap = e->timers_cap ? e->timers_cap * 2 : 16;
            timer_entry *nt = realloc(e->timers, cap * sizeof *nt);
            if (nt == NULL) {
                fprintf(stderr, "leverd: out of memory scheduling policy of %s\n", p->name);
                return;
            }
            e->timers = nt;
            e->timers_cap = cap;
        }
        timer_entry *t = &e->timers[e->ntimers];
        t->key = malloc(p->key_len);
        if (t->key == NULL)
            return;
        memcpy(t->key, p->key, p->key_len);
        t->key_len = p->key_len;
        t->version = v->version;
        t->due_ms = lv_policy_due(v->policy, i, v->modified_ms);
        t->submitted = false;
        switch (v->policy->p[i].type) {
        case LV_POLICY_EXPIRATION: t->event = LV_CHANGE_EXPIRE; break;
        case LV_POLICY_EXPIRATION_NOTIFICATION: t->event = LV_CHANGE_EXPIRATION_NOTIFICATION; break;
        case LV_POLICY_NO_CHANGE_NOTIFICATION: t->event = LV_CHANGE_NO_CHANGE_NOTIFICATION; break;
        }
        e->ntimers++;
    }
}

/* Each tick, hands due policies to the writer as ordinary writes, so expiry
 * is ordered, durable and logged like any other change. The list holds only
 * parameters with policies, not every parameter. */
void *lv_eng_timer_main(void *arg)
{
    lv_engine *e = arg;
    pthread_mutex_lock(&e->qlock);
    while (!e->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)e->timer_interval_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->timer_cond, &e->qlock, &ts);
        if (e->stopping)
            break;
        pthread_mutex_unlock(&e->qlock);
        lv_eng_expire_watchers(e, lv_eng_now_ms());
        pthread_mutex_lock(&e->qlock);
        if (e->stopping)
            break;
        int64_t now = lv_eng_now_ms();
        for (size_t i = 0; i < e->ntimers && !e->stopping; i++) {
            timer_entry *t = &e->timers[i];
            if (t->submitted || t->due_ms > now)
                continue;
            t->submitted = true;
            char *key = malloc(t->key_len + 1);
            if (key == NULL)
                continue;
            memcpy(key, t->key, t->key_len);
            key[t->key_len] = '\0';
            lv_write w;
            memset(&w, 0, sizeof w);
            w.kind = t->event == LV_CHANGE_EXPIRE ? LV_WRITE_EXPIRE : LV_WRITE_NOTIFY;
            w.region = key;
            w.name = key + strlen(key) + 1;
            w.u.timer.version = t->version;
            w.u.timer.event = t->event;
            pthread_mutex_unlock(&e->qlock);
            lv_engine_write(e, &w, 1);
            pthread_mutex_lock(&e->qlock);
            free(key);
            /* The timer list may have changed while unlocked: restart. */
            i = (size_t)-1;
            now = lv_eng_now_ms();
        }
    }
    pthread_mutex_unlock(&e->qlock);
    return NULL;
}

