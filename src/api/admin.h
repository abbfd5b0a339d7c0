/* admin.h - lever's administrative operations (X-Amz-Target:
 * Lever.<Operation>, root key only): access keys and their policies,
 * backups, master key rotation. Wire shapes are in docs/admin.md. */
#ifndef LV_API_ADMIN_H
#define LV_API_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/keystore.h"
#include "core/buf.h"
#include "core/err.h"
#include "engine/engine.h"

typedef struct lv_admin_ctx {
    lv_engine *engine;
    lv_keystore *keys;
    const char *account;
    int64_t now_ms;
    const char *audit_path;   /* the audit log (DescribeAuditEvents); NULL: none */
} lv_admin_ctx;

/* Whether op is an administrative Lever.* operation. */
bool lv_admin_op_known(const char *op);

/* Whether op only reads (not audited when it succeeds, like SSM reads). */
bool lv_admin_op_read(const char *op);

/* Runs Lever.<op>. On LV_OK out holds the JSON answer. */
lv_err lv_admin_dispatch(const lv_admin_ctx *c, const char *op, const char *body, size_t len,
                         lv_buf *out, lv_error *err);

/* Master key rotation, online: makes a new key (or takes up the one of an
 * interrupted rotation), re-wraps every SecureString version and access
 * key secret under it through the writer, then makes it the only key.
 * Counts go to *params / *keys (either may be NULL). */
lv_err lv_admin_rotate(lv_engine *e, lv_keystore *ks, size_t *params, size_t *keys, lv_error *err);

#endif
