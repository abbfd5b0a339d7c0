/* served.c - distinct-entity tallies and served-share series (served.h). */
#include "core/served.h"

#include <string.h>

static uint64_t entity_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a 64-bit finaliser */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static bool sampled(uint64_t key, unsigned level)
{
    return level == 0 || (level < 64 && (key >> (64 - level)) == 0);
}

/* Inserts or updates key (bit 0 = side); true when it was new. */
static bool put(lv_served_tally *t, uint64_t item)
{
    uint64_t key = item & ~1ULL;
    size_t i = (size_t)(key >> 1) & (LV_SERVED_TALLY_SLOTS - 1);
    for (;;) {
        if (t->slot[i] == 0) {
            t->slot[i] = item;
            return true;
        }
        if ((t->slot[i] & ~1ULL) == key) {
            t->slot[i] = item;
            return false;
        }
        i = (i + 1) & (LV_SERVED_TALLY_SLOTS - 1);
    }
}

/* One more level of sampling: keeps the entities still in the sample. */
static void raise_level(lv_served_tally *t)
{
    uint64_t keep[LV_SERVED_TALLY_CAP + 1];
    unsigned k = 0;
    t->level++;
    for (size_t i = 0; i < LV_SERVED_TALLY_SLOTS; i++)
        if (t->slot[i] != 0 && sampled(t->slot[i] & ~1ULL, t->level) && k < LV_SERVED_TALLY_CAP + 1)
            keep[k++] = t->slot[i];
    memset(t->slot, 0, sizeof t->slot);
    for (unsigned j = 0; j < k; j++)
        put(t, keep[j]);
    t->n = k;
}

void lv_served_tally_reset(lv_served_tally *t)
{
    memset(t, 0, sizeof *t);
}

void lv_served_tally_add(lv_served_tally *t, const char *entity, size_t len, bool is_new)
{
    uint64_t key = entity_hash(entity ? entity : "", entity ? len : 0) & ~1ULL;
    if (key == 0)
        key = 2;
    if (!sampled(key, t->level))
        return;
    if (put(t, key | (is_new ? 1u : 0u)))
        t->n++;
    while (t->n > LV_SERVED_TALLY_CAP && t->level < 63)
        raise_level(t);
}

void lv_served_tally_counts(const lv_served_tally *t, uint64_t *new_n, uint64_t *old_n)
{
    uint64_t nw = 0, od = 0;
    for (size_t i = 0; i < LV_SERVED_TALLY_SLOTS; i++)
        if (t->slot[i] & 1)
            nw++;
        else if (t->slot[i] != 0)
            od++;
    *new_n = nw << t->level;
    *old_n = od << t->level;
}

bool lv_served_tally_empty(const lv_served_tally *t)
{
    return t->n == 0;
}

/* Halves the resolution: bin i becomes bins 2i and 2i+1. */
static void merge(lv_served_series *s)
{
    for (size_t i = 0; i < LV_SERVED_BINS / 2; i++) {
        s->nw[i] = s->nw[2 * i] + s->nw[2 * i + 1];
        s->od[i] = s->od[2 * i] + s->od[2 * i + 1];
    }
    for (size_t i = LV_SERVED_BINS / 2; i < LV_SERVED_BINS; i++)
        s->nw[i] = s->od[i] = 0;
    s->width_ms *= 2;
}

void lv_served_series_add(lv_served_series *s, int64_t start_ms, int64_t end_ms, double new_n, double old_n)
{
    if (!(new_n >= 0) || !(old_n >= 0) || new_n + old_n <= 0)
        return;
    if (end_ms <= start_ms)
        end_ms = start_ms + 1;
    if (s->t0_ms == 0) {
        memset(s, 0, sizeof *s);
        s->t0_ms = start_ms > 0 ? start_ms : 1;
        s->width_ms = LV_SERVED_BIN_MS;
    }
    if (end_ms <= s->t0_ms)
        return;
    if (start_ms < s->t0_ms)
        start_ms = s->t0_ms;
    /* a report from the far future (a clock jump) would merge everything
     * into one bin: past 2^20 widths it is dropped */
    if ((end_ms - s->t0_ms) / s->width_ms > ((int64_t)LV_SERVED_BINS << 20))
        return;
    while (end_ms - s->t0_ms > (int64_t)LV_SERVED_BINS * s->width_ms)
        merge(s);
    size_t first = (size_t)((start_ms - s->t0_ms) / s->width_ms);
    size_t last = (size_t)((end_ms - 1 - s->t0_ms) / s->width_ms);
    for (size_t i = first; i <= last && i < LV_SERVED_BINS; i++) {
        int64_t b0 = s->t0_ms + (int64_t)i * s->width_ms, b1 = b0 + s->width_ms;
        int64_t o = (end_ms < b1 ? end_ms : b1) - (start_ms > b0 ? start_ms : b0);
        if (o <= 0)
            continue;
        s->nw[i] += new_n * (double)o;
        s->od[i] += old_n * (double)o;
    }
}

size_t lv_served_series_points(const lv_served_series *s, lv_served_point *out, size_t max)
{
    size_t k = 0;
    if (s->t0_ms == 0)
        return 0;
    for (size_t i = 0; i < LV_SERVED_BINS && k < max; i++) {
        double sum = s->nw[i] + s->od[i];
        if (sum <= 0)
            continue;
        out[k++] = (lv_served_point){s->t0_ms + (int64_t)i * s->width_ms, s->width_ms, 100.0 * s->nw[i] / sum,
                                     sum / (double)s->width_ms};
    }
    return k;
}

static bool field_ok(const char *p, size_t n, bool number)
{
    if (n == 0 || (number && n > 10))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (number ? (c < '0' || c > '9') : (c <= 0x20 || c >= 0x7f || c == ':'))
            return false;
    }
    return true;
}

bool lv_served_seed_ok(const char *seed, size_t len)
{
    if (seed == NULL || len > LV_SERVED_SEED_MAX || memchr(seed, '\0', len) != NULL)
        return false;
    size_t want;
    if (len > 10 && memcmp(seed, "appconfig:", 10) == 0)
        want = 3;
    else if (len > 4 && memcmp(seed, "ssm:", 4) == 0)
        want = 4;
    else
        return false;
    const char *p = memchr(seed, ':', len) + 1, *end = seed + len;
    for (size_t f = 0; f < want; f++) {
        const char *c = f + 1 < want ? memchr(p, ':', (size_t)(end - p)) : end;
        if (c == NULL || !field_ok(p, (size_t)(c - p), f + 1 == want))
            return false;
        p = c + 1;
    }
    return true;
}
