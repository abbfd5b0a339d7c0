/* query.h - lever-agent's parser for the Lambda extension's query string
 * (/systemsmanager/parameters/get?name=...&version=...&label=...&withDecryption=...).
 * Pure: no I/O, no locks. Untrusted input; fuzzed by tests/fuzz/fuzz_agent_query.c. */
#ifndef LV_AGENT_QUERY_H
#define LV_AGENT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LVA_NAME_MAX = 2048,   /* GetParameter's Name limit (selector included) */
    LVA_LABEL_MAX = 100,   /* a version label's limit */
    LVA_QUERY_MAX = 8192,  /* the raw query string */
};

typedef struct lva_query {
    char *name;      /* decoded name as given (may carry a ":selector"); owned */
    char *label;     /* decoded label, or NULL; owned */
    int64_t version; /* > 0 when version= was given, else 0 */
    bool decrypt;    /* withDecryption=true */
    char *selector;  /* what GetParameter is asked for: name, name:version
                        or name:label; owned */
    bool selected;   /* a version or label applies (explicit or in the name) */
} lva_query;

/* Parses the raw (still percent-encoded) query string q of len bytes.
 * Keys are case-sensitive as in the extension: name, version, label,
 * withDecryption; each at most once. '+' decodes to a space. Returns 0 and
 * fills *out (free with lva_query_free), or -1 with a message for a 400
 * in err (out is then empty). Never reads past q + len. */
int lva_query_parse(const char *q, size_t len, lva_query *out, char *err, size_t errlen);

void lva_query_free(lva_query *q);

/* Shared by the agent's request parsers (query.c, acreq.c). */
/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF). */
bool lva_utf8_ok(const unsigned char *s, size_t n);

#endif
