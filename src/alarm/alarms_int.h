/* alarms_int.h - what alarms.c (the registry) and probe.c (the probe
 * thread) share; not for other modules. */
#ifndef LV_ALARM_ALARMS_INT_H
#define LV_ALARM_ALARMS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "alarm/alarms.h"

enum { LV_ALARMS_LISTENERS_MAX = 8 };

typedef struct lv_alarm_entry {
    lv_alarm_rec rec;
    uint32_t failures;    /* failed probes in a row */
    uint64_t gen;         /* changes when the probe does: older results are dropped */
    int64_t next_due_ms;  /* monotonic */
    bool inflight;
} lv_alarm_entry;

typedef struct lv_alarms_listener {
    lv_alarms_change_fn fn;
    void *ctx;
} lv_alarms_listener;

struct lv_alarms {
    lv_engine *engine;
    double scale;
    /* mu guards the table and listeners, held briefly; wmu orders the
     * changes (store write, then table) and is held across the write. */
    pthread_mutex_t mu, wmu;
    lv_alarm_entry **v;
    size_t n, cap;
    uint64_t gen;
    lv_alarms_listener listeners[LV_ALARMS_LISTENERS_MAX];
    size_t nlisteners;
    /* probe thread */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    void *multi;          /* CURLM */
    void **flight;        /* the easy handles in flight (probe thread only) */
    size_t nflight, capflight;
};

/* Under mu. */
lv_alarm_entry *lv_alarms_find_locked(lv_alarms *a, const char *name);
/* Sets a state durably; gen != 0: only if the alarm's probe is still
 * that generation (a probe result), and the failure count is kept. */
lv_err lv_alarms_apply_state(lv_alarms *a, const char *name, uint64_t gen, lv_alarm_state state, const char *reason,
                             int64_t now_ms, lv_error *err);
void lv_alarms_notify(lv_alarms *a, const char *name, lv_alarm_state from, lv_alarm_state to, const char *reason);

lv_err lv_alarms_probe_start(lv_alarms *a, lv_error *err);
void lv_alarms_probe_stop(lv_alarms *a);
/* A new or changed probe: look at the table now rather than at the next tick. */
void lv_alarms_probe_wake(lv_alarms *a);

#endif
