/* rollout.h - how a deployment grows (docs/rollouts.md): the percentage
 * after each step of a LINEAR, EXPONENTIAL or canary strategy, the strategy
 * time between steps, and the bake step. Pure arithmetic over a deployment
 * record's copied strategy values; the driver (src/rollout) scales the
 * times and core/ac_deploy.c plans the writes.
 *
 * Steps are numbered from 1. Steps 1..n set the percentage (step n sets
 * 100); when the strategy has a bake time, step n also starts BAKING and
 * step n+1 completes the deployment. Step k falls due gap(k) after the time
 * step k-1 was taken (the start for k = 1), so a step that fell due while
 * leverd was down is taken once, late, and the next waits its full gap. */
#ifndef LV_CORE_ROLLOUT_H
#define LV_CORE_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/acrec.h"

typedef struct lv_rollout_strategy {
    double growth;        /* GrowthFactor, percent (clamped to 1..100) */
    int64_t duration_ms;  /* DeploymentDurationInMinutes */
    int64_t bake_ms;      /* FinalBakeTimeInMinutes */
    bool exponential;     /* GrowthType EXPONENTIAL */
    bool canary;          /* the first share for the whole duration, then 100 */
} lv_rollout_strategy;

/* The strategy copied into a deployment record (DF_DURATION, DF_BAKE,
 * DF_GROWTH, DF_GTYPE, DF_CANARY). */
void lv_rollout_of(const lv_acrec *deployment, lv_rollout_strategy *s);

/* n: the number of percentage steps (at least 1). LINEAR: ceil(100 / G)
 * equal steps over the duration; EXPONENTIAL: G * 2^(k-1) until 100;
 * canary: G, then 100 (one step when G is 100); a duration of 0: one
 * step to 100. */
unsigned lv_rollout_steps(const lv_rollout_strategy *s);
/* The last step: n, or n + 1 with a bake time. */
unsigned lv_rollout_last(const lv_rollout_strategy *s);
/* The percentage after step k (0 for k = 0, 100 from k = n on), rounded
 * to hundredths. */
double lv_rollout_percent(const lv_rollout_strategy *s, unsigned k);
/* Strategy milliseconds between step k-1 and step k (k >= 1): duration / n
 * for LINEAR and EXPONENTIAL; canary: 0 for its first step, the duration
 * for the second; the bake step: the bake time. 0 past the last step. */
int64_t lv_rollout_gap_ms(const lv_rollout_strategy *s, unsigned k);
/* The percentage as a record stores it and headers carry it: "37.5",
 * "10", "100" (at most two decimals, no trailing zeros). out >= 16. */
void lv_rollout_percent_text(double p, char *out, size_t cap);

#endif
