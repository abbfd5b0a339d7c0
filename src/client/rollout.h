/* rollout.h - a GetConfiguration answer's rollout headers during a gradual
 * deployment (CONTRACTS.md section 2, docs/rollouts.md) and the side an
 * entity gets by the published bucketing (src/core/bucket.c), so a cache
 * holding both sides answers every entity as leverd would. Shared by
 * liblever and lever-agent; the parser takes server input
 * (tests/fuzz/fuzz_client_rollout.c). */
#ifndef LV_CLIENT_ROLLOUT_H
#define LV_CLIENT_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "client/http.h"

enum {
    LVC_ROLLOUT_SEED_MAX = 2400, /* ssm:<region>:<2048-byte name>:<label>:<n> fits */
    LVC_ROLLOUT_VERSION_MAX = 127,
};

/* The request header that asks leverd for one side whatever the client id. */
#define LVC_ROLLOUT_SIDE_HEADER "x-lever-rollout-side"

typedef struct lvc_rollout {
    bool active;                              /* a deployment below 100 % */
    double percent;                           /* 0 <= percent < 100 */
    /* percent as text, "%.6g" of it (what a cache puts in its own
     * answers, formatted once rather than per read) */
    char percent_text[24];
    char seed[LVC_ROLLOUT_SEED_MAX + 1];
    char from[LVC_ROLLOUT_VERSION_MAX + 1];   /* "" = nothing to fall back on */
    char to[LVC_ROLLOUT_VERSION_MAX + 1];
} lvc_rollout;

/* Fills *out from the four header values (NULL = absent). No
 * x-lever-rollout-percent: 0, not active. All four valid: 0, active.
 * Anything else (a percentage that is not a decimal in [0, 100), a seed
 * or version too long or with control bytes, a missing header): -1 with
 * the reason, not active. */
int lvc_rollout_parse(const char *percent, const char *seed, const char *from, const char *to,
                      lvc_rollout *out, char *err, size_t errlen);

/* The same from an answer's headers. */
int lvc_rollout_from_raw(const lvc_raw *r, lvc_rollout *out, char *err, size_t errlen);

/* Fills ro->percent_text from ro->percent. */
void lvc_rollout_percent_text(lvc_rollout *ro);

/* Whether entity is served the `to` side: not active, or nothing to fall
 * back on, or the entity's bucket under the seed is in the percentage. */
bool lvc_rollout_is_to(const lvc_rollout *ro, const char *entity);

#endif
