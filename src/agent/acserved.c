/* acserved.c - what lever-agent tells leverd it served during gradual
 * deployments (docs/rollouts.md, "Served share"): per configuration, the
 * distinct entities given the deployment's new version and the old one
 * since the previous report (core/served.h tallies), sent as the Served
 * member of the next Lever.WatchConfigurations call. After a deployment
 * ends (complete or rolled back) its entities are still counted for a
 * few reports, so leverd sees the share reach 100 % or fall to 0. */
#include <stdlib.h>
#include <string.h>

#include "agent/acint.h"

enum { REPORTS_AFTER_END = 3 };

struct lvac_served {
    char seed[LVC_ROLLOUT_SEED_MAX + 1];   /* the deployment */
    char to[LVC_ROLLOUT_VERSION_MAX + 1];  /* its new version */
    lv_served_tally tally;
    int64_t since_mono;                    /* the previous report */
    unsigned after_end;                    /* reports since it ended */
};

void lvac_served_note(lvac_agent *a, acentry *e, const char *entity, const char *version)
{
    if (a->cfg.served_report_ms <= 0)
        return;
    bool rolling = e->rollout.active && e->rollout.from[0];
    if (rolling && (e->served == NULL || strcmp(e->served->seed, e->rollout.seed) != 0)) {
        if (e->served == NULL && (e->served = malloc(sizeof *e->served)) == NULL)
            return;
        memset(e->served, 0, sizeof *e->served);
        memcpy(e->served->seed, e->rollout.seed, sizeof e->served->seed);
        memcpy(e->served->to, e->rollout.to, sizeof e->served->to);
        e->served->since_mono = lvac_mono_ms();
    }
    if (e->served == NULL)
        return;
    if (rolling)
        e->served->after_end = 0;
    lv_served_tally_add(&e->served->tally, entity, strlen(entity),
                        version != NULL && strcmp(version, e->served->to) == 0);
}

void lvac_served_free(struct lvac_served *s)
{
    free(s);
}

bool lvac_served_pending(lvac_agent *a)
{
    bool any = false;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n && !any; i++)
        any = a->entries[i]->served != NULL;
    pthread_mutex_unlock(&a->mu);
    return any;
}

json_t *lvac_served_take(lvac_agent *a)
{
    if (a->cfg.served_report_ms <= 0)
        return NULL;
    json_t *out = json_array();
    if (out == NULL)
        return NULL;
    int64_t now = lvac_mono_ms();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n && json_array_size(out) < LVAC_SERVED_MAX; i++) {
        acentry *e = a->entries[i];
        struct lvac_served *s = e->served;
        if (s == NULL)
            continue;
        if (!lv_served_tally_empty(&s->tally)) {
            uint64_t nw, od;
            lv_served_tally_counts(&s->tally, &nw, &od);
            int64_t ms = now - s->since_mono;
            json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:I}", "Seed", s->seed, "IntervalMs",
                                                 (json_int_t)(ms > 0 ? ms : 1), "New", (json_int_t)nw, "Old",
                                                 (json_int_t)od));
            lv_served_tally_reset(&s->tally);
        }
        s->since_mono = now;
        bool rolling = e->rollout.active && e->rollout.from[0] && strcmp(e->rollout.seed, s->seed) == 0;
        if (!rolling && ++s->after_end > REPORTS_AFTER_END) {
            lvac_served_free(s);
            e->served = NULL;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
