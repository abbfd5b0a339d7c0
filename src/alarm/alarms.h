/* alarms.h - lever alarms in leverd: the registry (durable records of aux
 * kind 'L' written through the engine's writer), the probe thread
 * (libcurl, never on an engine or HTTP thread), state queries and change
 * callbacks for the parts that act on alarms (deployment rollback). */
#ifndef LV_ALARM_ALARMS_H
#define LV_ALARM_ALARMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alarm.h"
#include "core/err.h"
#include "engine/engine.h"

typedef struct lv_alarms lv_alarms;

/* Loads the alarm records the engine holds and starts the probe thread.
 * time_scale (> 0) divides every probe interval and timeout. */
lv_err lv_alarms_open(lv_engine *e, double time_scale, lv_alarms **out, lv_error *err);
/* Stops the probe thread (in-flight probes are abandoned) and frees. */
void lv_alarms_close(lv_alarms *a);

/* The state of alarm name; a name that does not exist (or a NULL a) is
 * LV_ALARM_INSUFFICIENT_DATA. Thread-safe, never blocks on I/O. */
lv_alarm_state lv_alarms_state(lv_alarms *a, const char *name);

/* Called after a state change is durable, on the thread that made it (an
 * HTTP worker or the probe thread), outside the registry's locks: it may
 * call lv_alarms_state but must be quick. Deleting an alarm reports a
 * change to INSUFFICIENT_DATA. */
typedef void (*lv_alarms_change_fn)(void *ctx, const char *name, lv_alarm_state from, lv_alarm_state to,
                                    const char *reason);
/* Registers fn (at most 8 listeners; LV_E_LIMIT_EXCEEDED past that). */
lv_err lv_alarms_on_change(lv_alarms *a, lv_alarms_change_fn fn, void *ctx);

/* Creates or updates an alarm. probe NULL or probe->url "" = no probe. A
 * new alarm, or one whose probe changed, starts INSUFFICIENT_DATA; an
 * update that keeps the probe keeps the state. */
lv_err lv_alarms_put(lv_alarms *a, const char *name, const lv_alarm_probe *probe, int64_t now_ms,
                     lv_error *err);
/* Forces a state (OK or ALARM). LV_E_RESOURCE_NOT_FOUND when absent. A
 * probing alarm keeps probing: its next result may change the state. */
lv_err lv_alarms_set(lv_alarms *a, const char *name, lv_alarm_state state, const char *reason, int64_t now_ms,
                     lv_error *err);
/* LV_E_RESOURCE_NOT_FOUND when absent. */
lv_err lv_alarms_delete(lv_alarms *a, const char *name, lv_error *err);

/* Calls fn with a copy of every alarm named in names (all when n == 0),
 * in name order; names that do not exist are skipped. */
typedef void (*lv_alarms_each_fn)(void *ctx, const lv_alarm_rec *rec);
lv_err lv_alarms_describe(lv_alarms *a, const char *const *names, size_t n, lv_alarms_each_fn fn, void *ctx,
                          lv_error *err);

enum { LV_ALARMS_MAX = 10000 };

/* Applies an alarm record another node wrote ('L' key; val NULL:
 * deleted) to the table and tells the listeners about a state change.
 * Called on the engine's writer thread (lv_engine_on_aux): stores
 * nothing, takes only the table's mutex. */
lv_err lv_alarms_apply(lv_alarms *a, const void *key, size_t klen, const void *val, size_t vlen, lv_error *err);

#endif
