/* rollout.h - the deployment driver in leverd: one thread that takes each
 * in-progress deployment's next step when it falls due (times scaled by
 * --time-scale), rolls deployments back when a monitor's alarm is in ALARM
 * or a tick hook says no, and reports every state change to the hooks.
 * Every step is an ordinary engine write that core plans (a stale or
 * repeated step is refused there), so the deployment record in the store
 * is the only clock state: a restarted leverd, or another node, continues
 * from it. docs/rollouts.md describes the behaviour; CONTRACTS.md 1 and 3
 * the hooks and the leader plug point. */
#ifndef LV_ROLLOUT_ROLLOUT_H
#define LV_ROLLOUT_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/acrec.h"
#include "core/alarm.h"
#include "core/err.h"
#include "engine/engine.h"

typedef struct lv_rollout_hooks {
    /* Synchronous, before each step (AT_DEPLOYMENT_TICK). false = roll
     * the deployment back; reason says why (written to the EventLog).
     * Called WITHOUT engine locks held, on the driver's thread; must
     * return within its bounded timeout. */
    bool (*tick)(void *ctx, const lv_acrec *deployment, char *reason, size_t reason_len);
    /* Asynchronous notification: point is "ON_DEPLOYMENT_START",
     * "ON_DEPLOYMENT_STEP", "ON_DEPLOYMENT_BAKING",
     * "ON_DEPLOYMENT_COMPLETE", "ON_DEPLOYMENT_ROLLED_BACK". Must not
     * block (queue it). deployment is only valid during the call; its
     * State and PercentageComplete are those of the change reported. */
    void (*event)(void *ctx, const char *point, const lv_acrec *deployment);
    void *ctx;
} lv_rollout_hooks;

typedef struct lv_rollout_config {
    lv_engine *engine;
    double time_scale;             /* > 0: strategy times are divided by it */
    lv_rollout_hooks hooks;        /* NULL function pointers: no hooks */
    /* Asked before driving a deployment's clock (its record key,
     * "d<app>/<env>/<%010u number>"); NULL = always leader. */
    bool (*is_leader)(void *ctx, const char *deployment_key);
    void *leader_ctx;
    /* The state of a lever alarm by name (leverd passes lv_alarms_state);
     * NULL: no alarm ever rolls back. */
    lv_alarm_state (*alarm_state)(void *ctx, const char *name);
    void *alarm_ctx;
} lv_rollout_config;

typedef struct lv_rollout lv_rollout;

/* Starts the driver thread. Reports changes from the engine's current
 * revision on. */
lv_err lv_rollout_open(const lv_rollout_config *cfg, lv_rollout **out, lv_error *err);
/* Stops the thread (a step in flight finishes); r stays valid for
 * lv_rollout_kick (an alarm callback still registered) until
 * lv_rollout_close. Idempotent. */
void lv_rollout_stop(lv_rollout *r);
/* Stops (if not yet) and frees. Before lv_engine_close. */
void lv_rollout_close(lv_rollout *r);
/* Makes the driver look at every deployment now (an alarm changed, a
 * node became leader). Thread-safe, never blocks for long. */
void lv_rollout_kick(lv_rollout *r);
/* An lv_alarms_change_fn (src/alarm/alarms.h) that kicks ctx, an
 * lv_rollout, on every alarm state change. */
void lv_rollout_alarm_changed(void *ctx, const char *name, lv_alarm_state from, lv_alarm_state to,
                              const char *reason);

#endif
