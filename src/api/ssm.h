/* ssm.h - the SSM Parameter Store front-end: AWS JSON 1.1 requests in,
 * typed engine calls, AWS-shaped JSON out. No business rules live here. */
#ifndef LV_API_SSM_H
#define LV_API_SSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "engine/engine.h"

/* A listing filter set by the router for callers with policies: listings
 * (GetParametersByPath, DescribeParameters, Lever.WatchParameters) leave
 * out the parameters for which hidden() answers true (an explicit deny).
 * Deferred requests keep a copy made with dup() and release it. */
typedef struct lv_ssm_hide lv_ssm_hide;
struct lv_ssm_hide {
    bool (*hidden)(const lv_ssm_hide *h, const char *region, const char *name);
    lv_ssm_hide *(*dup)(const lv_ssm_hide *h);
    void (*release)(lv_ssm_hide *h);
};

/* The decryption check set by the router for callers with policies: a
 * SecureString value is decrypted only when allowed() answers LV_OK; else
 * err holds the refusal (AccessDeniedException for kms:Decrypt). */
typedef struct lv_ssm_decrypt lv_ssm_decrypt;
struct lv_ssm_decrypt {
    lv_err (*allowed)(const lv_ssm_decrypt *d, const char *region, const char *key_id, lv_error *err);
};

typedef struct lv_ssm_ctx {
    lv_engine *engine;
    const char *account;   /* "000000000000" */
    const char *region;    /* from the request's credential scope */
    const char *user_arn;  /* who is calling, for LastModifiedUser */
    int64_t now_ms;
    const lv_ssm_hide *hide; /* NULL: nothing hidden */
    const lv_ssm_decrypt *decrypt; /* NULL: every value may be decrypted */
    /* Who reads, for label rollouts (X-Lever-Entity-Id, else the access
     * key id); NULL buckets as "". */
    const char *entity;
    /* Extension webhooks (PRE_START_DEPLOYMENT of label rollouts); NULL:
     * none. A call that waits on one runs on an offload worker. */
    struct lv_hooks *hooks;
    /* x-lever-rollout-side: "from" or "to" gives a label under rollout
     * that side whatever the entity (a cache holding both); NULL: by
     * bucket. */
    const char *side;
    /* When not NULL, a label read under rollout below 100% describes the
     * rollout here (GetParameter's x-lever-rollout-* answer headers). */
    struct lv_label_rollout *rollout;
} lv_ssm_ctx;

static inline bool lv_ssm_hidden(const lv_ssm_hide *h, const char *region, const char *name)
{
    return h != NULL && h->hidden(h, region, name);
}

/* Runs operation op ("GetParameter") on the JSON body. On LV_OK, out holds
 * the response body; otherwise err says what to answer. */
lv_err lv_ssm_dispatch(const lv_ssm_ctx *c, const char *op, const char *body,
                       size_t len, lv_buf *out, lv_error *err);
/* The same with the body already parsed by the caller (a json_t object,
 * borrowed); NULL means parse body here. */
lv_err lv_ssm_dispatch_parsed(const lv_ssm_ctx *c, const char *op, void *parsed,
                              const char *body, size_t len, lv_buf *out, lv_error *err);

/* Whether op names a known operation (for metrics labels). */
int lv_ssm_op_index(const char *op);
const char *lv_ssm_op_name(int i);
int lv_ssm_op_count(void);

#endif
