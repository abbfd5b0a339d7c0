/* acreq.h - lever-agent's parsers for the AppConfig Agent API (docs/agent.md,
 * "AppConfig"): the request path (names or ids, percent-encoded, an
 * optional OFREP suffix), the query (?flag=KEY, repeatable), Context:
 * headers, the Authorization bearer token, and the App:Env:Profile items
 * of the prefetch list and of local development file names. Pure: no
 * I/O, no locks. Untrusted input; fuzzed by tests/fuzz/fuzz_agent_acreq.c. */
#ifndef LV_AGENT_ACREQ_H
#define LV_AGENT_ACREQ_H

#include <stdbool.h>
#include <stddef.h>

enum {
    LVAC_NAME_MAX = 128,     /* application/environment/profile name or id (AWS: 1-64 / 1-128) */
    LVAC_FLAG_MAX = 64,      /* a feature flag key (AWS: 1-64) */
    LVAC_MAX_FLAGS = 100,    /* ?flag= items per request */
    LVAC_CTX_KEY_MAX = 128,
    LVAC_CTX_VALUE_MAX = 1024,
    LVAC_MAX_CTX = 64,       /* Context pairs per request */
    LVAC_ENTITY_MAX = 256,   /* Entity-Id */
    LVAC_QUERY_MAX = 8192,
};

/* What a path names. */
typedef enum lvac_kind {
    LVAC_CONFIG = 0,    /* /applications/A/environments/E/configurations/P */
    LVAC_OFREP_BULK,    /* ... followed by /ofrep/v1/evaluate/flags */
    LVAC_OFREP_ONE,     /* ... followed by /ofrep/v1/evaluate/flags/{key} */
} lvac_kind;

typedef struct lvac_target {
    char app[LVAC_NAME_MAX + 1];      /* decoded */
    char env[LVAC_NAME_MAX + 1];
    char profile[LVAC_NAME_MAX + 1];
    lvac_kind kind;
    char flag[LVAC_FLAG_MAX + 1];     /* LVAC_OFREP_ONE: the flag key */
} lvac_target;

/* Parses a raw request path (without the query). Each segment is
 * percent-decoded and must be 1..LVAC_NAME_MAX bytes of UTF-8 without
 * control bytes or '/' (after decoding) or ':'. Returns 0, 1 when the
 * path is not under /applications/ at all (a 404, not a 400), or -1 with
 * a message for a 400 in err. */
int lvac_parse_path(const char *path, lvac_target *out, char *err, size_t errlen);

typedef struct lvac_flags {
    char keys[LVAC_MAX_FLAGS][LVAC_FLAG_MAX + 1];
    size_t n;
} lvac_flags;

/* Parses the raw query (len bytes, percent-encoded): only flag=KEY, any
 * number of times (a repeat of the same key counts once), KEY 1..64
 * bytes of letters, digits, '_' and '-'. Empty fields are skipped. Other
 * parameters are refused. Returns 0, or -1 with a message. */
int lvac_parse_query(const char *q, size_t len, lvac_flags *out, char *err, size_t errlen);

/* A request's evaluation context: up to LVAC_MAX_CTX key/value pairs.
 * Keys and values are NUL-terminated strings kept one after another in a
 * small inline arena (a typical header fits) that moves to the heap when
 * it outgrows it; pairs hold offsets, so the struct is a few KB, not the
 * 74 KB that fixed-size slots for the largest pair would take. Values
 * replaced by a repeated key leave their old text behind: the arena is
 * bounded by the header-length limit anyway. Init with
 * lvac_context_init, release with lvac_context_free. */
enum { LVAC_CTX_INLINE = 2048 };

typedef struct lvac_pair {
    unsigned key, value; /* offsets into the arena */
} lvac_pair;

typedef struct lvac_context {
    lvac_pair pairs[LVAC_MAX_CTX];
    size_t n;
    char *heap;          /* NULL while the text fits in buf */
    size_t used, cap;    /* cap: of heap, or sizeof buf */
    char buf[LVAC_CTX_INLINE];
} lvac_context;

void lvac_context_init(lvac_context *c);
void lvac_context_free(lvac_context *c);

static inline const char *lvac_ctx_key(const lvac_context *c, size_t i)
{
    return (c->heap ? c->heap : c->buf) + c->pairs[i].key;
}

static inline const char *lvac_ctx_value(const lvac_context *c, size_t i)
{
    return (c->heap ? c->heap : c->buf) + c->pairs[i].value;
}

/* Sets key (kl bytes) to value (vl bytes): replaces the value of a key
 * already there, else appends a pair. Returns 0, -1 out of memory, -2
 * when LVAC_MAX_CTX pairs are there already. Lengths are the caller's
 * to bound. */
int lvac_context_set(lvac_context *c, const char *key, size_t kl, const char *value, size_t vl);

/* Adds the pairs of one Context header value ("k=v", or several
 * separated by ','; blanks around each item are ignored). A key given
 * again replaces its value. Keys: 1..128 bytes without '=' ',' or
 * control bytes; values: 0..1024 bytes without ',' or control bytes.
 * Returns 0, or -1 with a message (ctx unchanged then). */
int lvac_parse_context(const char *value, lvac_context *ctx, char *err, size_t errlen);

/* Whether an Authorization header value is "Bearer <token>" (scheme
 * case-insensitive) with exactly token, compared in constant time over
 * the token's length. false for NULL or an empty token. */
bool lvac_bearer_ok(const char *authorization, const char *token);

/* Parses "App:Env:Profile" (a prefetch list item; blanks around it are
 * ignored; no percent-decoding). Returns 0 or -1 with a message. */
int lvac_parse_triple(const char *s, lvac_target *out, char *err, size_t errlen);

/* A local development file name: "App:Env:Profile" with an optional
 * extension that sets the content type as AWS's agent does: ".json"
 * application/json, ".yaml"/".yml" application/x-yaml, ".txt" text/plain,
 * ".type%subtype" type/subtype, none application/octet-stream. Returns 0
 * and fills out and ctype, 1 when the name is not of that form. */
int lvac_parse_local_name(const char *name, lvac_target *out, char *ctype, size_t ctcap);

/* Whether s is a well-formed Entity-Id (1..256 bytes, printable ASCII). */
bool lvac_entity_ok(const char *s);

#endif
