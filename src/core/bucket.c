/* bucket.c - the published bucketing function: SHA-256 over a
 * length-prefixed seed and entity, reduced to basis points. The length
 * prefixes keep ("ab","c") and ("a","bc") apart. */
#include "core/bucket.h"

#include <math.h>
#include <openssl/evp.h>
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
    unsigned char sl[4], el[4], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    put_u32be(sl, (uint32_t)seed_len);
    put_u32be(el, (uint32_t)entity_len);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(c, sl, 4) == 1 &&
              (seed_len == 0 || EVP_DigestUpdate(c, seed, seed_len) == 1) &&
              EVP_DigestUpdate(c, el, 4) == 1 &&
              (entity_len == 0 || EVP_DigestUpdate(c, entity, entity_len) == 1) &&
              EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 8;
    EVP_MD_CTX_free(c);
    if (!ok) {
        /* Only an allocation failure inside OpenSSL gets here. A bucket
         * must still be a function of its inputs, never random: fall back
         * to the last bucket, which is in no share below 100 %. */
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
