/* admin_authz.h - what an SSM (or Lever.WatchParameters) request asks to
 * touch, in IAM terms: the action, the resource ARNs AWS evaluates for
 * it, the condition keys, and the names the audit log records. */
#ifndef LV_API_ADMIN_AUTHZ_H
#define LV_API_ADMIN_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum { LV_AUTHZ_MAX_RES = 10, LV_AUTHZ_MAX_COND = 3 };

typedef struct lv_authz_req {
    char action[64];                    /* "ssm:GetParameter" */
    bool mutating;                      /* audit every call */
    bool listing;                       /* results filtered by explicit deny */
    bool checked;                       /* resources below are complete; false:
                                           the handler refuses the body anyway */
    size_t nres;
    char *res[LV_AUTHZ_MAX_RES];        /* resource ARNs (owned) */
    char *names[LV_AUTHZ_MAX_RES];      /* the names as sent, for audit (owned) */
    size_t nnames;
    size_t ncond;
    const char *cond_keys[LV_AUTHZ_MAX_COND];
    const char *cond_values[LV_AUTHZ_MAX_COND]; /* static strings or point into the body */
    char *cond_owned;                   /* storage of one owned condition value */
} lv_authz_req;

/* Fills r for service "ssm" or "lever" and operation op from the parsed
 * body (may be NULL when it did not parse). Unknown operations get the
 * action "<service>:<op>" on resource "*". LV_E_NOMEM only. */
lv_err lv_authz_extract(const char *service, const char *op, json_t *body, const char *region,
                        const char *account, lv_authz_req *r);
void lv_authz_req_free(lv_authz_req *r);

/* Whether an SSM operation changes state (audited when it succeeds). */
bool lv_authz_ssm_mutating(const char *op);

#endif
