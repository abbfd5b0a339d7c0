/* policy_json.h - parses the Policies document of PutParameter (a JSON
 * array of {Type, Version, Attributes}) into typed policies. */
#ifndef LV_API_POLICY_JSON_H
#define LV_API_POLICY_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/policy.h"

lv_err lv_policy_parse(const char *text, size_t len, lv_policy_set *out, lv_error *err);

/* ISO 8601 "2026-01-02T03:04:05[.fff](Z|+hh:mm)" to epoch ms. */
lv_err lv_parse_iso8601(const char *s, int64_t *ms);

#endif
