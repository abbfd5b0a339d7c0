/* jsonschema.h - a JSON Schema draft-4 validator on jansson, for AppConfig's
 * JSON_SCHEMA validators (Debian has no C JSON Schema library; see
 * docs/decisions.md).
 *
 * Life cycle: lv_jsonschema_compile() checks that a schema is valid draft 4
 * and builds a compiled form; lv_jsonschema_validate() checks documents
 * against it any number of times, from any number of threads at once (a
 * compiled schema is never modified after compile); lv_jsonschema_free()
 * releases it. The compiled form keeps its own copy of the schema, so the
 * caller may free or change its json_t right after compile.
 *
 * Supported: every draft-4 validation keyword; $ref to JSON pointers and to
 * `id`s inside the same document (and to the draft-4 meta-schema, which is
 * built in); `pattern`/`patternProperties` as ECMA-262 regular expressions
 * (run by PCRE2 with match limits); `format` date-time, email, hostname,
 * ipv4, ipv6, uri and regex (other formats are ignored, as draft 4 allows).
 * Not supported: $ref to other documents (a validator in the server never
 * fetches URLs); compile refuses them.
 *
 * Bounds: a schema has at most LV_JSONSCHEMA_MAX_NODES subschemas and is
 * at most LV_JSONSCHEMA_MAX_DEPTH levels deep; a validation descends at most
 * LV_JSONSCHEMA_MAX_EVAL_DEPTH schema levels and visits at most
 * LV_JSONSCHEMA_MAX_STEPS (subschema, value) pairs. Exceeding a validation
 * bound is reported as a violation, so a document is never accepted by
 * default. */
#ifndef LV_JSON_JSONSCHEMA_H
#define LV_JSON_JSONSCHEMA_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

enum {
    LV_JSONSCHEMA_MAX_NODES = 20000,
    LV_JSONSCHEMA_MAX_DEPTH = 128,
    LV_JSONSCHEMA_MAX_EVAL_DEPTH = 512,
    LV_JSONSCHEMA_MAX_STEPS = 5000000,
    /* Violations reported per validation; more are counted, not listed. */
    LV_JSONSCHEMA_MAX_VIOLATIONS = 100,
};

typedef struct lv_jsonschema lv_jsonschema;

/* Compiles a draft-4 schema. A schema that is not valid draft 4 (a keyword
 * of the wrong type, a bad regular expression, an unresolvable or remote
 * $ref, a size bound exceeded) gives LV_E_VALIDATION with a message naming
 * the JSON pointer of the offending place in the schema; out of memory gives
 * LV_E_NOMEM. On success *out is owned by the caller (lv_jsonschema_free);
 * on failure *out is NULL. */
lv_err lv_jsonschema_compile(const json_t *schema, lv_jsonschema **out, lv_error *err);

/* True when doc is valid. Otherwise false, and one line per violation is
 * appended to details (which may be NULL): "POINTER: REASON\n", POINTER
 * being the RFC 6901 JSON pointer of the offending value in doc, written
 * "(root)" for the document itself, e.g.
 *   /servers/0/port: 70000 is greater than the maximum 65535
 * At most LV_JSONSCHEMA_MAX_VIOLATIONS lines are listed, then one line
 * "(N more violations)". If details cannot grow (its cap, out of memory)
 * the text stops there; the answer is still false. */
bool lv_jsonschema_validate(const lv_jsonschema *s, const json_t *doc, lv_buf *details);

/* The same check, with each violation handed to fn instead of formatted:
 * pointer (RFC 6901, "" for the root), the schema keyword that failed
 * ("type", "required", ..., or "limit" when a validation bound was hit)
 * and the reason (the text after "POINTER: " above). The strings are
 * borrowed for the call. fn is called at most LV_JSONSCHEMA_MAX_VIOLATIONS
 * times; *count (may be NULL) gets the total number of violations. */
typedef void lv_jsonschema_violation_fn(void *ud, const char *pointer, const char *keyword,
                                        const char *reason);
bool lv_jsonschema_validate_each(const lv_jsonschema *s, const json_t *doc,
                                 lv_jsonschema_violation_fn *fn, void *ud, size_t *count);

void lv_jsonschema_free(lv_jsonschema *s);

#endif
