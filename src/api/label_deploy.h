/* label_deploy.h - rollouts of SSM parameter labels: the Lever.* label
 * deployment operations and the version GetParameter NAME:LABEL answers
 * while one is in progress (docs/rollouts.md). */
#ifndef LV_API_LABEL_DEPLOY_H
#define LV_API_LABEL_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/ssm.h"
#include "core/buf.h"
#include "core/err.h"

/* Lever.StartLabelDeployment, Lever.GetLabelDeployment, Lever.StopLabelDeployment. */
bool lv_label_deploy_op_known(const char *op);
lv_err lv_label_deploy_dispatch(const lv_ssm_ctx *c, const char *op, const char *body, size_t len, lv_buf *out,
                                lv_error *err);

/* Under the engine's read lock: the version LABEL of name answers entity
 * (X-Lever-Entity-Id, else the access key id). indexed is the version the
 * label is on in the index (0: none); while a rollout of the label is in
 * progress below 100% the entity's bucket under
 * ssm:<region>:<name>:<label>:<n> picks the new version or the old one. */
uint32_t lv_label_deploy_serve(lv_engine *e, const char *region, const char *name, const char *label,
                               const char *entity, uint32_t indexed);

/* A rollout as a cache needs it to bucket its own entities (the
 * x-lever-rollout-* headers, client/rollout.h). */
typedef struct lv_label_rollout {
    bool active;          /* in progress below 100%, with a version to fall back on */
    char percent[32];
    char seed[1200];
    uint32_t from, to;
} lv_label_rollout;

/* lv_label_deploy_serve with side ("from", "to" or NULL: by bucket) and
 * info (may be NULL) filled when the rollout is active. */
uint32_t lv_label_deploy_serve_side(lv_engine *e, const char *region, const char *name, const char *label,
                                    const char *entity, const char *side, uint32_t indexed,
                                    lv_label_rollout *info);

#endif
