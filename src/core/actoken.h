/* actoken.h - AppConfig Data configuration tokens. A token carries its
 * session: the resolved application, environment and profile, the
 * session's identity (what deployments bucket it by), what the last
 * answer served, the poll interval and the times the token may be used
 * from and until. leverd seals that state (docs/appconfig.md), so a token
 * stays valid across restarts and on every node of a shared store, and
 * the server keeps only which tokens were used.
 *
 * On the wire: "lv2_" followed by the sealed bytes in unpadded base64url.
 * Tokens come from clients, so parsing is strict and bounded (fuzzed). */
#ifndef LV_CORE_ACTOKEN_H
#define LV_CORE_ACTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum {
    LV_ACTOKEN_MAX_BYTES = 768,
    LV_ACTOKEN_MAX_LEN = 4 + (LV_ACTOKEN_MAX_BYTES * 4 + 2) / 3,
    LV_ACTOKEN_NONCE = 12,
};

/* Writes the text of b[0..n) (n <= LV_ACTOKEN_MAX_BYTES) into
 * out[LV_ACTOKEN_MAX_LEN + 1]; returns its length. */
size_t lv_actoken_format(const unsigned char *b, size_t n, char *out);
/* Parses s[0..n) into out[LV_ACTOKEN_MAX_BYTES]; false for anything
 * lv_actoken_format does not produce. */
bool lv_actoken_parse(const char *s, size_t n, unsigned char *out, size_t *out_len);

/* A session as one token carries it. Strings are NUL-terminated. */
typedef struct lv_acsession {
    char app[8], env[8], profile[8];
    char entity[33];          /* 32 hex digits: the session's identity */
    char served[96];          /* what the last answer carried; "" none */
    uint32_t interval;        /* seconds */
    int64_t not_before_ms, expires_ms;
    uint64_t seq;             /* this token's place in its session: 0, 1, ... */
    unsigned char nonce[LV_ACTOKEN_NONCE]; /* makes every token distinct */
} lv_acsession;

/* The plaintext of a session (before sealing). */
lv_err lv_acsession_encode(const lv_acsession *s, lv_buf *out);
/* false for anything lv_acsession_encode does not produce. */
bool lv_acsession_decode(const void *p, size_t n, lv_acsession *s);

#endif
