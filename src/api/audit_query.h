/* audit_query.h - Lever.DescribeAuditEvents: the newest lines of the
 * audit log, filtered, for the console's audit view (root key only). */
#ifndef LV_API_AUDIT_QUERY_H
#define LV_API_AUDIT_QUERY_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum { LV_AUDIT_QUERY_TAIL = 16 << 20 }; /* bytes of the log read, from its end */

/* Reads the log at path (NULL: none is kept, answers no events) and
 * writes {"Events": [...]} to out, newest first, each event the line's
 * object as written. body: {KeyId, Operation, Outcome, NamePrefix, Since,
 * Until, MaxResults (1-1000, default 100)}; Since/Until are timestamps
 * in the log's format (a prefix such as "2026-12-01T22" works). */
lv_err lv_audit_query(const char *path, const char *body, size_t len, lv_buf *out, lv_error *err);

#endif
