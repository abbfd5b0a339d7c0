/* throttle.h - request rate limits: token buckets per access key and
 * operation class (reads, writes), or, in --aws-quotas mode, AWS's
 * published per-account Parameter Store quotas. A refused request answers
 * ThrottlingException (HTTP 400), which the AWS SDKs retry with backoff. */
#ifndef LV_API_THROTTLE_H
#define LV_API_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* One bucket: holds up to burst tokens, refilled at rate per second. */
typedef struct lv_bucket {
    double tokens;
    double last_s;    /* time of the last refill */
    bool started;
} lv_bucket;

/* Takes one token at time now_s (any monotonic clock, seconds); false when
 * the bucket is empty. rate <= 0 means unlimited. */
bool lv_bucket_take(lv_bucket *b, double rate, double burst, double now_s);

typedef struct lv_throttle_config {
    double read_rate, read_burst;    /* per key; 0 = no limit */
    double write_rate, write_burst;
    bool include_root;               /* the root key is exempt unless set */
    bool aws_quotas;                 /* AWS's defaults, account-wide, root included */
} lv_throttle_config;

typedef struct lv_throttle lv_throttle;

lv_err lv_throttle_new(const lv_throttle_config *cfg, lv_throttle **out, lv_error *err);
void lv_throttle_free(lv_throttle *t);
/* Whether any limit is configured (the router skips the call otherwise). */
bool lv_throttle_active(const lv_throttle *t);

/* The AWS default quota (requests per second) lever applies to op in
 * --aws-quotas mode, and the name of the bucket it shares. */
double lv_throttle_aws_quota(const char *op, const char **group);

/* Takes a token for one request; false = refuse it. */
bool lv_throttle_take(lv_throttle *t, const char *key_id, bool is_root, const char *region,
                      const char *op, bool write, double now_s);

#endif
