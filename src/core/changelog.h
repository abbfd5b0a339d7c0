/* changelog.h - the bounded, ordered log of changes. Every change gets a
 * global revision; the log keeps the newest `cap` of them so watchers can
 * ask "what changed since R" and rollouts can replay steps. */
#ifndef LV_CORE_CHANGELOG_H
#define LV_CORE_CHANGELOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum lv_change_kind {
    LV_CHANGE_PUT,
    LV_CHANGE_DELETE,
    LV_CHANGE_LABEL,
    LV_CHANGE_UNLABEL,
    LV_CHANGE_TAG,
    LV_CHANGE_EXPIRE,
    LV_CHANGE_EXPIRATION_NOTIFICATION,
    LV_CHANGE_NO_CHANGE_NOTIFICATION,
    /* AppConfig deployments: key LV_AC_CHANGE_PREFIX "\0<app>/<env>/<profile>",
     * version = the deployment number (core/appconfig.h). */
    LV_CHANGE_AC_STARTED,
    LV_CHANGE_AC_STEP,
    LV_CHANGE_AC_COMPLETE,
    LV_CHANGE_AC_ROLLED_BACK,
    LV_CHANGE_AC_STOPPED,
    /* what a deployed ssm-parameter:// profile serves changed under it (its
     * label moved, core/ac_ssm.c); version = the deployment number */
    LV_CHANGE_AC_CONTENT,
} lv_change_kind;

typedef struct lv_change {
    uint64_t revision;
    lv_change_kind kind;
    char *key;          /* "<region>\0<name>", owned by the log */
    size_t key_len;
    uint32_t version;   /* the version concerned, 0 when none */
    int64_t time_ms;
} lv_change;

typedef struct lv_changelog {
    lv_change *ring;
    size_t cap, start, count;
    /* Every change with a revision above floor is held. Revisions in the
     * log increase but need not be consecutive (a commit may change
     * nothing a watcher sees, or come from another node). */
    uint64_t floor;
} lv_changelog;

const char *lv_change_kind_name(lv_change_kind k);

lv_err lv_changelog_init(lv_changelog *log, size_t cap);
void lv_changelog_free(lv_changelog *log);

/* Appends a copy of c (its key is copied); evicts the oldest when full.
 * Revisions must be strictly increasing. */
lv_err lv_changelog_append(lv_changelog *log, const lv_change *c);

/* The oldest revision still held (0 when empty). Anything after
 * first_kept - 1 can be answered; older asks are "compacted". */
uint64_t lv_changelog_first(const lv_changelog *log);

/* Watchers asking for changes after a revision below the floor must
 * re-list ("compacted"): something after it may be missing. */
uint64_t lv_changelog_floor(const lv_changelog *log);
/* Raises the floor (never lowers it): nothing at or below rev is
 * promised any more (a follower that lost history, a fresh start). */
void lv_changelog_set_floor(lv_changelog *log, uint64_t rev);
/* Index of the oldest held change with a revision above since (count
 * when none). */
size_t lv_changelog_seek(const lv_changelog *log, uint64_t since);
/* The newest held revision (0 when empty). */
uint64_t lv_changelog_last(const lv_changelog *log);

/* The i-th held change, oldest first. */
const lv_change *lv_changelog_at(const lv_changelog *log, size_t i);

#endif
