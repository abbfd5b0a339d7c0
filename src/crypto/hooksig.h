/* hooksig.h - the signature on lever's webhook calls: HMAC-SHA256 over
 * "<unix seconds>.<body>" with the server's hook key, sent as
 * X-Lever-Signature: t=<unix seconds>,v1=<64 hex digits>. The timestamp is
 * signed so a receiver can refuse replays of old calls. */
#ifndef LV_CRYPTO_HOOKSIG_H
#define LV_CRYPTO_HOOKSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_HOOKSIG_HEADER "X-Lever-Signature"
enum { LV_HOOKSIG_MAX = 96 }; /* the header value with its NUL */

/* Writes the header value into out[LV_HOOKSIG_MAX]. */
void lv_hooksig_sign(const void *key, size_t klen, int64_t unix_s, const void *body, size_t n,
                     char out[LV_HOOKSIG_MAX]);

/* Checks a header value against body: true when it is well formed, its v1
 * matches (constant-time compare) and |now - t| <= tolerance_s. */
bool lv_hooksig_verify(const void *key, size_t klen, const char *header, const void *body, size_t n,
                       int64_t now_s, int64_t tolerance_s);

#endif
