/* hooks.h - extension webhooks in leverd: the actions of AppConfig
 * extensions whose Uri is an http(s) URL, called at their action points
 * with a signed JSON event (json/hookevent.h, crypto/hooksig.h).
 *
 * Synchronous points (PRE_CREATE_HOSTED_CONFIGURATION_VERSION,
 * PRE_START_DEPLOYMENT, AT_DEPLOYMENT_TICK) run on the caller's thread,
 * every applicable action at once, bounded by one timeout; a non-2xx
 * answer or none in time is a veto. The ON_DEPLOYMENT_* points are queued
 * (bounded) for one libcurl thread and never block the caller. */
#ifndef LV_HOOKS_HOOKS_H
#define LV_HOOKS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ac_hooks.h"
#include "core/err.h"
#include "engine/engine.h"

typedef struct lv_hooks lv_hooks;

typedef struct lv_hooks_config {
    double time_scale;        /* > 0: divides the timeout (like every deployment clock) */
    unsigned timeout_s;       /* per call before scaling; 0 = LV_HOOKS_TIMEOUT_S */
    const void *key;          /* the HMAC key (copied) */
    size_t key_len;
    size_t queue_max;         /* queued asynchronous events; 0 = LV_HOOKS_QUEUE_MAX */
} lv_hooks_config;

enum {
    LV_HOOKS_TIMEOUT_S = 10,
    LV_HOOKS_TIMEOUT_FLOOR_MS = 1000, /* a scaled timeout is never shorter */
    LV_HOOKS_QUEUE_MAX = 1000,
    LV_HOOKS_INFLIGHT_MAX = 32,       /* asynchronous calls at once */
    LV_HOOKS_REASON_MAX = 512,
};

/* Starts the asynchronous thread. Caller owns *out (lv_hooks_close). */
lv_err lv_hooks_open(lv_engine *e, const lv_hooks_config *cfg, lv_hooks **out, lv_error *err);
/* From now on PRE_* calls fail at once and in-flight ones are cut short
 * (so parked requests finish before the listener stops); ticks go on
 * until lv_hooks_close. */
void lv_hooks_stopping(lv_hooks *h);
/* Stops the thread (queued events are dropped) and frees. NULL is fine. */
void lv_hooks_close(lv_hooks *h);

/* The call a hook is about. Ids, not names. */
typedef struct lv_hooks_target {
    const char *app, *env, *profile;   /* env NULL for hosted versions */
    const char *version, *version_label, *description, *strategy;
    const char *content;               /* the hosted content being created; NULL: none */
    size_t content_len;
    const char *content_type;
    const char *created_by;            /* the caller's ARN */
    const lv_acrec *deployment;        /* NULL before it exists */
    /* A label rollout (Lever.StartLabelDeployment) before it exists:
     * the parameter (canonical name), its region and the label; the
     * applicable actions are those associated with the parameter's ARN.
     * A label rollout's record (key "l...") says the same itself. */
    const char *region, *param, *label;
} lv_hooks_target;

/* Whether any webhook action applies (cheap; under the engine's read lock). */
bool lv_hooks_wanted(lv_hooks *h, const char *point, const char *app, const char *env, const char *profile);
/* The same for a label rollout of parameter name (canonical) in region. */
bool lv_hooks_wanted_param(lv_hooks *h, const char *point, const char *region, const char *name);

/* Runs the synchronous point for t. LV_OK when every action answered 2xx
 * (or none applies); else LV_E_AC_BAD_REQUEST naming the extension that
 * vetoed and why. Blocks up to the scaled timeout; call it without engine
 * locks. For PRE_START_DEPLOYMENT of a hosted profile without t->content
 * the event carries the version's content. */
lv_err lv_hooks_pre(lv_hooks *h, const char *point, const lv_hooks_target *t, lv_error *err);

/* lv_rollout_hooks callbacks (CONTRACTS.md section 1); ctx is the lv_hooks. */
bool lv_hooks_tick(void *ctx, const lv_acrec *deployment, char *reason, size_t reason_len);
void lv_hooks_event(void *ctx, const char *point, const lv_acrec *deployment);

typedef struct lv_hooks_stats {
    uint64_t calls;     /* requests made (every point) */
    uint64_t failures;  /* no answer or not 2xx */
    uint64_t vetoes;    /* synchronous points refused */
    uint64_t dropped;   /* asynchronous events dropped: queue full */
    uint64_t queued;    /* waiting now */
} lv_hooks_stats;
void lv_hooks_stats_get(lv_hooks *h, lv_hooks_stats *out);
/* Appends the stats in Prometheus text format (lever_hook_*); NULL h: nothing. */
void lv_hooks_metrics(lv_hooks *h, lv_buf *out);

/* Waits until the asynchronous queue is empty and nothing is in flight,
 * at most timeout_ms; true when it is (for orderly shutdown and tests). */
bool lv_hooks_drain(lv_hooks *h, int64_t timeout_ms);

#endif
