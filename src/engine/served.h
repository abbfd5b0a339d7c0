/* served.h - what leverd knows of each rollout's served share
 * (docs/rollouts.md, "Served share"): reports of lever-agents and
 * liblever (Lever.WatchConfigurations' Served member) and the entities
 * leverd buckets itself, aggregated in memory per deployment in a bounded
 * table (LV_SERVED_TABLE_MAX deployments, the least recently reported
 * dropped first). Not durable and per node: a restart or another node
 * starts empty. Thread-safe. */
#ifndef LV_ENGINE_SERVED_H
#define LV_ENGINE_SERVED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/served.h"
#include "engine/engine.h"

enum {
    LV_SERVED_TABLE_MAX = 256,
    LV_SERVED_DIRECT_MS = 250,   /* leverd's own counts become a report this often */
    LV_SERVED_RECENT_MS = 1000,  /* "now" is the share over the newest bins of this span */
};

/* A report: in the last interval_ms, new_n distinct entities were served
 * the deployment's new version and old_n the old one. seed names the
 * deployment (lv_served_seed_ok; others are ignored). */
void lv_engine_served_report(lv_engine *e, const char *seed, int64_t interval_ms, uint64_t new_n, uint64_t old_n);
/* leverd itself served entity one side of the deployment of seed. */
void lv_engine_served_direct(lv_engine *e, const char *seed, const char *entity, bool is_new);

typedef struct lv_served_view {
    double percentage;         /* the share over the newest LV_SERVED_RECENT_MS of data */
    double entities;           /* and the entities counted then */
    size_t n;                  /* points, oldest first */
    lv_served_point pts[LV_SERVED_BINS];
} lv_served_view;
/* What is known of the deployment of seed: false when nothing. */
bool lv_engine_served_get(lv_engine *e, const char *seed, lv_served_view *out);

/* Engine internal: frees the table at close. */
void lv_eng_served_free(lv_engine *e);

#endif
