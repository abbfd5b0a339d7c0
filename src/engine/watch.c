/* watch.c - watchers: registered long polls woken by a matching commit,
 * their deadline, or shutdown. */
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

/* ---------- watchers ---------- */

bool lv_watch_matches(const lv_watch_spec *spec, const char *key, size_t key_len)
{
    if (key_len < spec->prefix_len || memcmp(key, spec->key_prefix, spec->prefix_len) != 0)
        return false;
    if (spec->recursive)
        return true;
    const char *rel = key + spec->prefix_len;
    size_t rl = key_len - spec->prefix_len;
    if (spec->root && rl > 0 && rel[0] == '/') {
        rel++;
        rl--;
    }
    return memchr(rel, '/', rl) == NULL;
}

bool lv_engine_watch(lv_engine *e, const lv_watch_spec *spec, uint64_t since, lv_watch_fn fn,
                     void *ctx, lv_error *err)
{
    watcher *w = calloc(1, sizeof *w);
    char *prefix = w ? malloc(spec->prefix_len + 1) : NULL;
    if (prefix == NULL) {
        free(w);
        lv_error_set(err, LV_E_NOMEM, "out of memory");
        return false;
    }
    memcpy(prefix, spec->key_prefix, spec->prefix_len);
    prefix[spec->prefix_len] = '\0';
    w->spec = *spec;
    w->spec.key_prefix = prefix;
    w->fn = fn;
    w->ctx = ctx;
    pthread_mutex_lock(&e->wlock);
    /* Commits bump the revision before they notify under wlock, so either
     * we see the new revision here or the notifier sees this watcher. */
    pthread_rwlock_rdlock(&e->lock);
    uint64_t rev = e->revision;
    pthread_rwlock_unlock(&e->lock);
    bool registered = rev <= since && !e->stopping_watch;
    if (registered) {
        w->next = e->watchers;
        e->watchers = w;
        e->nwatchers++;
    }
    pthread_mutex_unlock(&e->wlock);
    if (!registered) {
        free(prefix);
        free(w);
        lv_error_clear(err);
    }
    return registered;
}

/* Unlinks the watchers for which pick() says yes and returns them. */
static watcher *take_watchers(lv_engine *e, bool (*pick)(const watcher *, void *), void *arg)
{
    watcher *fired = NULL, **pp = &e->watchers;
    while (*pp) {
        watcher *w = *pp;
        if (pick(w, arg)) {
            *pp = w->next;
            w->next = fired;
            fired = w;
            e->nwatchers--;
        } else {
            pp = &w->next;
        }
    }
    return fired;
}

static void fire(watcher *list)
{
    while (list) {
        watcher *next = list->next;
        list->fn(list->ctx);
        free((char *)list->spec.key_prefix);
        free(list);
        list = next;
    }
}

typedef struct change_span {
    const lv_change *c;
    size_t n;
} change_span;

static bool pick_changed(const watcher *w, void *arg)
{
    const change_span *sp = arg;
    for (size_t i = 0; i < sp->n; i++)
        if (lv_watch_matches(&w->spec, sp->c[i].key, sp->c[i].key_len))
            return true;
    return false;
}

static bool pick_expired(const watcher *w, void *arg)
{
    return w->spec.deadline_ms <= *(const int64_t *)arg;
}

static bool pick_all(const watcher *w, void *arg)
{
    (void)w;
    (void)arg;
    return true;
}

void lv_engine_watch_fire_all(lv_engine *e)
{
    pthread_mutex_lock(&e->wlock);
    e->stopping_watch = true;
    watcher *list = take_watchers(e, pick_all, NULL);
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

void lv_eng_wake_watchers(lv_engine *e)
{
    pthread_mutex_lock(&e->wlock);
    watcher *list = e->nwatchers ? take_watchers(e, pick_all, NULL) : NULL;
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

void lv_eng_notify_changes(lv_engine *e, const lv_change *c, size_t n)
{
    change_span sp = {c, n};
    pthread_mutex_lock(&e->wlock);
    watcher *list = e->nwatchers ? take_watchers(e, pick_changed, &sp) : NULL;
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

void lv_eng_expire_watchers(lv_engine *e, int64_t now)
{
    pthread_mutex_lock(&e->wlock);
    watcher *list = e->nwatchers ? take_watchers(e, pick_expired, &now) : NULL;
    pthread_mutex_unlock(&e->wlock);
    fire(list);
}

