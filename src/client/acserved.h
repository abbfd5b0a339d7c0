/* acserved.h - what a liblever handle tells leverd it served during
 * gradual deployments (docs/rollouts.md, "Served share"): the handle's
 * client id is one entity; for each configuration in a deployment it
 * reports which side it holds, as the Served member of its next
 * Lever.WatchConfigurations call, and for a few calls after the
 * deployment ends. */
#ifndef LV_CLIENT_ACSERVED_H
#define LV_CLIENT_ACSERVED_H

#include <jansson.h>
#include <stdint.h>

#include "client/rollout.h"

/* Per configuration; zero-initialised = nothing to report. */
typedef struct lvc_served_mark {
    char seed[LVC_ROLLOUT_SEED_MAX + 1];   /* the deployment, "" = none */
    char to[LVC_ROLLOUT_VERSION_MAX + 1];  /* its new version */
    int64_t since_ms;                      /* the previous report (monotonic) */
    unsigned after_end;                    /* reports since it ended */
} lvc_served_mark;

/* Appends to arr the report of a configuration whose rollout is ro and
 * whose served version is version (what the client id gets), if there is
 * one to make. Caller holds the configuration's lock. */
void lvc_served_mark_report(lvc_served_mark *m, const lvc_rollout *ro, const char *version, json_t *arr);

/* Sets body's Served member to arr when arr has entries; consumes arr. */
void lvc_served_attach(json_t *body, json_t *arr);

#endif
