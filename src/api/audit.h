/* audit.h - the audit log: one JSON line per mutating call and per refused
 * call in <data>/audit.log, rotated by size. Never holds a value or a
 * secret. The line format is documented in docs/security.md. */
#ifndef LV_API_AUDIT_H
#define LV_API_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct lv_audit lv_audit;

/* Opens (creating, mode 0600) path for appending. When the file reaches
 * max_bytes it is renamed path.1 (path.1 to path.2 ... up to keep files)
 * and a new one started. max_bytes 0 = never rotate. */
lv_err lv_audit_open(const char *path, uint64_t max_bytes, unsigned keep, lv_audit **out, lv_error *err);
void lv_audit_close(lv_audit *a);
/* The log's path (borrowed, valid until lv_audit_close). */
const char *lv_audit_path(const lv_audit *a);

typedef struct lv_audit_event {
    int64_t time_ms;
    const char *request_id;
    const char *key_id;        /* may be NULL (request without credentials) */
    const char *user;          /* the caller's ARN, may be NULL */
    const char *source;        /* remote address */
    const char *operation;     /* "PutParameter", "Lever.CreateAccessKey" */
    const char *const *names;
    size_t nnames;
    const char *outcome;       /* "ok", "denied", "throttled", "error" */
    const char *error_code;    /* the AWS error code, NULL on success */
} lv_audit_event;

/* Appends one line with a single write(2), so concurrent lines never
 * interleave. Failures are reported on stderr, never to the caller: the
 * call has already happened. */
void lv_audit_write(lv_audit *a, const lv_audit_event *ev);

#endif
