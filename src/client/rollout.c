/* rollout.c - parse the rollout headers of a GetConfiguration answer and
 * choose an entity's side with the published bucketing. Strict: a cache
 * that misreads a percentage would serve the wrong share, so anything
 * unexpected is reported and the answer treated as a plain one. */
#include "client/rollout.h"

#include "lever/lever.h"

#include <stdio.h>
#include <string.h>

#include "core/bucket.h"

static int fail(lvc_rollout *out, char *err, size_t errlen, const char *why)
{
    memset(out, 0, sizeof *out);
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return -1;
}

/* "37.5": digits, optionally '.' and digits; no sign, exponent or spaces
 * (strtod would take those, and reads the locale's decimal point). */
static bool parse_percent(const char *s, double *out)
{
    double v = 0, scale = 1;
    size_t digits = 0, frac = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (digits < 4)
            v = v * 10 + (*p - '0');
    if (digits == 0 || digits > 3)
        return false;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, frac++)
            if (frac < 12) {
                scale /= 10;
                v += (*p - '0') * scale;
            }
        if (frac == 0 || frac > 17)
            return false;
    }
    if (*p != '\0' || v >= 100)
        return false;
    *out = v;
    return true;
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= max)
            return false;
    return true;
}

int lvc_rollout_parse(const char *percent, const char *seed, const char *from, const char *to,
                      lvc_rollout *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (percent == NULL)
        return 0;
    if (seed == NULL || from == NULL || to == NULL)
        return fail(out, err, errlen, "x-lever-rollout-percent without -seed, -from and -to");
    double p;
    if (!parse_percent(percent, &p))
        return fail(out, err, errlen, "x-lever-rollout-percent is not a decimal in [0, 100)");
    if (seed[0] == '\0' || !text_ok(seed, LVC_ROLLOUT_SEED_MAX))
        return fail(out, err, errlen, "x-lever-rollout-seed is empty, too long or has control bytes");
    if (!text_ok(from, LVC_ROLLOUT_VERSION_MAX) || !text_ok(to, LVC_ROLLOUT_VERSION_MAX) || to[0] == '\0')
        return fail(out, err, errlen, "x-lever-rollout-from/-to: too long, control bytes, or no -to");
    out->percent = p;
    lvc_rollout_percent_text(out);
    memcpy(out->seed, seed, strlen(seed) + 1);
    memcpy(out->from, from, strlen(from) + 1);
    memcpy(out->to, to, strlen(to) + 1);
    out->active = true;
    return 0;
}

int lvc_rollout_from_raw(const lvc_raw *r, lvc_rollout *out, char *err, size_t errlen)
{
    /* one over each limit, so an over-long value reaches the checks */
    char pct[64], seed[LVC_ROLLOUT_SEED_MAX + 2], from[LVC_ROLLOUT_VERSION_MAX + 2], to[LVC_ROLLOUT_VERSION_MAX + 2];
    bool hp = lvc_raw_header(r, "x-lever-rollout-percent", pct, sizeof pct);
    bool hs = lvc_raw_header(r, "x-lever-rollout-seed", seed, sizeof seed);
    bool hf = lvc_raw_header(r, "x-lever-rollout-from", from, sizeof from);
    bool ht = lvc_raw_header(r, "x-lever-rollout-to", to, sizeof to);
    if (!hp) {
        memset(out, 0, sizeof *out);
        return hs || hf || ht ? fail(out, err, errlen, "x-lever-rollout-* headers without a usable -percent") : 0;
    }
    return lvc_rollout_parse(pct, hs ? seed : NULL, hf ? from : NULL, ht ? to : NULL, out, err, errlen);
}

void lvc_rollout_percent_text(lvc_rollout *ro)
{
    snprintf(ro->percent_text, sizeof ro->percent_text, "%.6g", ro->percent);
}

bool lvc_rollout_is_to(const lvc_rollout *ro, const char *entity)
{
    if (!ro->active || ro->from[0] == '\0')
        return true;
    return lv_bucket_in_share(lv_bucket(ro->seed, strlen(ro->seed), entity, strlen(entity)), ro->percent);
}

uint32_t lever_bucket(const char *seed, size_t seed_len, const char *entity, size_t entity_len)
{
    return lv_bucket(seed ? seed : "", seed ? seed_len : 0, entity ? entity : "", entity ? entity_len : 0);
}

uint32_t lever_bucket_threshold(double percentage)
{
    return lv_bucket_threshold(percentage);
}
