/* ssm.h - the SSM Parameter Store front-end: AWS JSON 1.1 requests in,
 * typed engine calls, AWS-shaped JSON out. No business rules live here. */
#ifndef LV_API_SSM_H
#define LV_API_SSM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "engine/engine.h"

typedef struct lv_ssm_ctx {
    lv_engine *engine;
    const char *account;   /* "000000000000" */
    const char *region;    /* from the request's credential scope */
    const char *user_arn;  /* who is calling, for LastModifiedUser */
    int64_t now_ms;
} lv_ssm_ctx;

/* Runs operation op ("GetParameter") on the JSON body. On LV_OK, out holds
 * the response body; otherwise err says what to answer. */
lv_err lv_ssm_dispatch(const lv_ssm_ctx *c, const char *op, const char *body,
                       size_t len, lv_buf *out, lv_error *err);

/* Whether op names a known operation (for metrics labels). */
int lv_ssm_op_index(const char *op);
const char *lv_ssm_op_name(int i);
int lv_ssm_op_count(void);

#endif
