/* served_report.h - the Served member of Lever.WatchConfigurations
 * (docs/rollouts.md, "Served share"): what a lever-agent or liblever
 * served since its previous watch call, per deployment seed, and how
 * GetDeployment and Lever.GetLabelDeployment show what leverd knows. */
#ifndef LV_API_SERVED_REPORT_H
#define LV_API_SERVED_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/served.h"
#include "engine/served.h"
#include "json/jw.h"

enum {
    LV_SERVED_REPORT_MAX = 64,             /* entries read from one call */
    LV_SERVED_INTERVAL_MAX_MS = 3600000,
};
#define LV_SERVED_COUNT_MAX 1000000000LL

typedef struct lv_served_entry {
    char seed[LV_SERVED_SEED_MAX + 1];
    int64_t interval_ms;
    uint64_t new_n, old_n;
} lv_served_entry;

/* Reads up to max usable entries of served (the member's value, may be
 * NULL) into out: {"Seed": a seed (lv_served_seed_ok), "IntervalMs":
 * 1..LV_SERVED_INTERVAL_MAX_MS, "New", "Old": 0..LV_SERVED_COUNT_MAX}.
 * An entry that is not that is skipped: a report never fails a watch.
 * scope_app / scope_env (ids, "" = any) limit the seeds accepted to the
 * application and environment the caller was authorised to watch;
 * "ssm:" seeds are accepted only with no scope. Returns the count. */
size_t lv_served_report_decode(const json_t *served, const char *scope_app, const char *scope_env,
                               lv_served_entry *out, size_t max);

#endif

/* ---- rendering what leverd knows (engine/served.h) ---- */

/* Adds "ServedPercentage" and "ServedShare": {"Percentage", "Entities",
 * "Points": [{"Time", "Seconds", "Percentage", "Entities"}]} to o (AppConfig
 * GetDeployment: Time as ISO 8601) when leverd knows anything of seed. */
void lv_served_render_json(lv_engine *e, const char *seed, json_t *o);
/* The same members into an open jw object (Lever.GetLabelDeployment:
 * Time in epoch seconds). */
void lv_served_render_jw(lv_engine *e, const char *seed, jw *w);
