/* labelroll.h - lever-agent's label rollouts on :2773: while a label
 * (GetParameter NAME:LABEL) is rolled out below 100%, the on-demand table
 * holds both versions and the rollout, and each request gets the side
 * leverd would give its entity (X-Lever-Entity-Id, else the agent's
 * access key id) by the published bucketing, as the AppConfig side does
 * for configurations. Pure table work: the agent holds its mutex. */
#ifndef LV_AGENT_LABELROLL_H
#define LV_AGENT_LABELROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/table.h"
#include "client/rollout.h"

enum { LVA_ENTITY_MAX = 256, LVA_LR_META_MAX = 8192 };

/* Whether s is a usable X-Lever-Entity-Id: 1-256 printable ASCII bytes. */
bool lva_lr_entity_ok(const char *s);

/* The entry key's rollout companions: "<key>\n" plus R (the rollout, its
 * json {"Name", "LeverRollout": {"Percent", "Seed", "From", "To"}}, an
 * object with the parameter's Name as the disk copy requires), T (the new
 * version) or F (the old).
 * They carry the parameter's name, so lva_table_del_name drops them with
 * the plain entry. Returns a malloc'd key or NULL. */
char *lva_lr_key(const char *key, char which);

/* When key is under a rollout the table knows (its R entry is there): the
 * entry entity is served (*rolling true), or NULL when that side is
 * missing; *r_entry gets the R entry (for its freshness). Without an R
 * entry: NULL, *rolling false. touch as for lva_table_get. */
lva_entry *lva_lr_lookup(lva_table *od, const char *key, const char *entity, bool touch, bool *rolling,
                         lva_entry **r_entry);

/* Stores both sides and the rollout under key (and drops the plain
 * entry); 0, or -1 when out of memory (nothing is kept for key then). */
typedef struct lva_lr_side {
    const char *json;
    size_t json_len;
    bool secure;
    int64_t version;
} lva_lr_side;
int lva_lr_store(lva_table *od, const char *key, const char *name, const lvc_rollout *ro, const lva_lr_side *to,
                 const lva_lr_side *from, int64_t confirmed_ms, int64_t fetched_mono);

/* Drops key's rollout companions (the label is not rolled out any more). */
void lva_lr_forget(lva_table *od, const char *key);

#endif
