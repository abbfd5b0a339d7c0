/* acofrep.h - the OpenFeature Remote Evaluation Protocol (OFREP) on
 * lever-agent's AppConfig listener: a profile's URL followed by
 * /ofrep/v1/evaluate/flags[/{key}] (docs/agent.md, "OpenFeature"). The
 * request body parser takes untrusted bytes: fuzzed by
 * tests/fuzz/fuzz_agent_ofrep.c. */
#ifndef LV_AGENT_ACOFREP_H
#define LV_AGENT_ACOFREP_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/acreq.h"
#include "core/buf.h"

enum { LVAC_OFREP_BODY_MAX = 65536 };

typedef enum lvac_vtype { LVAC_V_STRING = 0, LVAC_V_NUMBER, LVAC_V_BOOL } lvac_vtype;

/* An evaluation context: {"context": {"targetingKey": ..., key: value}}. */
typedef struct lvac_ofrep_ctx {
    lvac_context kv;                     /* values as text */
    unsigned char type[LVAC_MAX_CTX];    /* lvac_vtype of each pair */
    char entity[LVAC_ENTITY_MAX + 1];    /* targetingKey, "" when absent */
} lvac_ofrep_ctx;

/* Parses a request body (may be empty: no context). Strings, numbers and
 * booleans become pairs; targetingKey (a string) is the entity; nested
 * objects, arrays and nulls are ignored (AppConfig rules read flat keys).
 * Returns 0, or -1 with a message (OFREP's PARSE_ERROR or INVALID_CONTEXT:
 * *invalid_context tells which). */
int lvac_parse_ofrep(const char *body, size_t len, lvac_ofrep_ctx *out, bool *invalid_context, char *err,
                     size_t errlen);

struct lv_flagdoc;

/* Builds the OFREP answer for one flag (key non-NULL) or every flag: from
 * the compiled stored document fd when there is one (variants evaluated
 * for ctx), else from doc, the simplified form. Fills *status (200, 304
 * when if_none_match equals the bulk answer's ETag, 400, 404) and out,
 * and etag (bulk only, quoted, cap >= 67) for the ETag header. Returns 0,
 * or -1 when out of memory. */
int lvac_ofrep_answer(const struct lv_flagdoc *fd, const char *doc, size_t len, const char *key,
                      const lvac_ofrep_ctx *ctx, const char *if_none_match, lv_buf *out, int *status, char *etag,
                      size_t etag_cap);

#endif
