/* served.h - the served share of a rollout (docs/rollouts.md, "Served
 * share"): how many distinct entities were actually given the new version
 * and how many the old one. A tally counts the distinct entities of one
 * interval in bounded memory; a series keeps one deployment's shares over
 * time in a fixed number of bins. Used by lever-agent, liblever and
 * leverd alike. Pure: no I/O, no locks, no JSON. */
#ifndef LV_CORE_SERVED_H
#define LV_CORE_SERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LV_SERVED_TALLY_CAP = 1024,  /* entities kept before sampling starts */
    LV_SERVED_TALLY_SLOTS = 2048,
    LV_SERVED_BINS = 120,
    LV_SERVED_BIN_MS = 100,      /* the first bins' width; doubles as needed */
};

/* Distinct entities of one interval, each with the side it was served
 * last. Exact up to LV_SERVED_TALLY_CAP entities; beyond that it keeps
 * only the entities whose hash falls in 1/2^level of the hash space
 * (adaptive sampling, level raised one at a time), and the counts are
 * those scaled by 2^level. The sample does not depend on the side, so the
 * share new / (new + old) stays unbiased. Zero-initialised = empty. */
typedef struct lv_served_tally {
    uint64_t slot[LV_SERVED_TALLY_SLOTS]; /* 0 empty, else hash with bit 0 = served new */
    unsigned n;                           /* entities kept */
    unsigned level;
} lv_served_tally;

void lv_served_tally_reset(lv_served_tally *t);
/* Notes that entity (len bytes) was served the new (is_new) or old
 * version; an entity already noted keeps only its latest side. */
void lv_served_tally_add(lv_served_tally *t, const char *entity, size_t len, bool is_new);
/* Estimated distinct entities served each side (exact below the cap). */
void lv_served_tally_counts(const lv_served_tally *t, uint64_t *new_n, uint64_t *old_n);
bool lv_served_tally_empty(const lv_served_tally *t);

/* One deployment's served share over time. Bin i covers
 * [t0_ms + i*width_ms, t0_ms + (i+1)*width_ms). A report of an interval
 * adds its entity counts to the bins it overlaps, weighted by the overlap
 * (entity-milliseconds), so reports of any length from any number of
 * sources add up. When data arrives past the last bin, pairs of bins are
 * merged and the width doubles: a deployment of any length fits. */
typedef struct lv_served_series {
    int64_t t0_ms;            /* 0: no data yet */
    int64_t width_ms;
    double nw[LV_SERVED_BINS]; /* new entity-ms */
    double od[LV_SERVED_BINS]; /* old entity-ms */
} lv_served_series;

typedef struct lv_served_point {
    int64_t t_ms;             /* the bin's start */
    int64_t width_ms;
    double percentage;        /* 100 * new / (new + old) */
    double entities;          /* average distinct entities counted over the bin */
} lv_served_point;

/* Adds a report: new_n and old_n distinct entities were served in
 * [start_ms, end_ms) (end after start; a zero-length interval counts as
 * 1 ms). Data before the first report's start is clipped. */
void lv_served_series_add(lv_served_series *s, int64_t start_ms, int64_t end_ms, double new_n, double old_n);
/* The bins that hold data, oldest first, at most max; returns how many. */
size_t lv_served_series_points(const lv_served_series *s, lv_served_point *out, size_t max);

/* A served report names its deployment by the rollout's bucketing seed
 * (docs/bucketing.md): "appconfig:<AppId>:<EnvId>:<N>" or
 * "ssm:<region>:<name>:<label>:<N>". true when seed is one of those
 * shapes (printable, no spaces, N a decimal of at most 10 digits, at most
 * LV_SERVED_SEED_MAX bytes). */
enum { LV_SERVED_SEED_MAX = 1200 };
bool lv_served_seed_ok(const char *seed, size_t len);

#endif
