/* bucket.c - the published bucketing function: SHA-256 over a
 * length-prefixed seed and entity, reduced to basis points. The length
 * prefixes keep ("ab","c") and ("a","bc") apart.
 *
 * OpenSSL's low-level SHA256_* functions, deprecated in 3.0 but present in
 * every 3.x: the EVP interface looks the algorithm up on each init, which
 * costs several times the hash itself for these one-block messages (a flag
 * evaluation may bucket several times), and caching a fetched EVP_MD would
 * need process-wide state that core does not keep (docs/decisions.md). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "core/bucket.h"

#include <math.h>
#include <openssl/sha.h>
#include <string.h>

static void put_u32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

uint32_t lv_bucket(const char *seed, size_t seed_len, const char *entity,
                   size_t entity_len)
{
    unsigned char sl[4], el[4], md[SHA256_DIGEST_LENGTH];
    put_u32be(sl, (uint32_t)seed_len);
    put_u32be(el, (uint32_t)entity_len);
    SHA256_CTX c;
    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, sl, 4) != 1 ||
        (seed_len && SHA256_Update(&c, seed, seed_len) != 1) || SHA256_Update(&c, el, 4) != 1 ||
        (entity_len && SHA256_Update(&c, entity, entity_len) != 1) || SHA256_Final(md, &c) != 1) {
        /* Not reachable with OpenSSL's software SHA-256 (no allocation);
         * a bucket must still be a function of its inputs, never random. */
        return LV_BUCKETS - 1;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | md[i];
    return (uint32_t)(v % LV_BUCKETS);
}

uint32_t lv_bucket_threshold(double percentage)
{
    if (!(percentage > 0)) /* also NaN */
        return 0;
    if (percentage >= 100)
        return LV_BUCKETS;
    double t = ceil(percentage * 100.0 - 1e-9);
    if (t <= 0)
        return 0;
    if (t >= LV_BUCKETS)
        return LV_BUCKETS;
    return (uint32_t)t;
}

bool lv_bucket_in_share(uint32_t bucket, double percentage)
{
    return bucket < lv_bucket_threshold(percentage);
}

bool lv_bucket_entity_in(const char *seed, const char *entity, double percentage)
{
    return lv_bucket_in_share(lv_bucket(seed, strlen(seed), entity, strlen(entity)),
                              percentage);
}
