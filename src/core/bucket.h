/* bucket.h - the published bucketing function (docs/bucketing.md): which
 * share of a rollout or of a `split` rule an entity falls in. liblever,
 * lever-agent and leverd compute the same bucket for the same inputs, and
 * any language can reimplement it from the document. */
#ifndef LV_CORE_BUCKET_H
#define LV_CORE_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buckets are basis points: 0 .. LV_BUCKETS-1. */
enum { LV_BUCKETS = 10000 };

/* The bucket of an entity under a seed:
 *   digest = SHA-256( u32be(len(seed)) || seed || u32be(len(entity)) || entity )
 *   bucket = (first 8 bytes of digest as a big-endian uint64) mod 10000
 * Both strings are taken as bytes (UTF-8 in practice), lengths in bytes.
 * Lengths above UINT32_MAX cannot occur in lever (inputs are bounded far
 * below); they are hashed modulo 2^32 like the prefix says. */
uint32_t lv_bucket(const char *seed, size_t seed_len, const char *entity,
                   size_t entity_len);

/* The number of buckets in a share of `percentage` percent (0..100):
 * ceil(percentage * 100 - 1e-9), clamped to [0, 10000]. The 1e-9 absorbs
 * binary floating-point error (0.57 * 100 is 57.000000000000007), so a
 * share given to at most two decimals is exactly that many basis points.
 * NaN counts as 0. */
uint32_t lv_bucket_threshold(double percentage);

/* true when an entity in `bucket` belongs to the first `percentage`
 * percent: bucket < lv_bucket_threshold(percentage). */
bool lv_bucket_in_share(uint32_t bucket, double percentage);

/* Convenience: lv_bucket on NUL-terminated strings, then lv_bucket_in_share. */
bool lv_bucket_entity_in(const char *seed, const char *entity, double percentage);

#endif
