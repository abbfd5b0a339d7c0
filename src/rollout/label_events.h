/* label_events.h - the ON_DEPLOYMENT_* events of SSM label rollouts for
 * the driver. A label rollout's changes are parameter changes (kind
 * LABEL, "<region>\0<name>"), which say neither the label nor the
 * transition, so the driver reads them off the rollouts' event logs:
 * what it has reported of each label's newest rollout is kept here
 * (driver thread only; from the driver's start on, like its change-log
 * reporting). */
#ifndef LV_ROLLOUT_LABEL_EVENTS_H
#define LV_ROLLOUT_LABEL_EVENTS_H

#include <stddef.h>

#include "core/appconfig.h"
#include "core/changelog.h"

typedef struct lv_label_events {
    struct lv_label_seen *s;
    size_t n, cap;
} lv_label_events;

/* rec: one reference, handed over; its State and PercentageComplete are
 * those of the event. */
typedef void (*lv_label_event_fn)(void *arg, const char *point, lv_acrec *rec);

/* Remembers how far every label's newest rollout has got (nothing of
 * that is reported). Under the engine's read lock. */
void lv_label_events_init(lv_label_events *le, const lv_acview *v);
/* For a LABEL change: reports the new events of that parameter's label
 * rollouts, oldest first. Under the engine's read lock. */
void lv_label_events_change(lv_label_events *le, const lv_acview *v, const lv_change *c, lv_label_event_fn fn,
                            void *arg);
void lv_label_events_free(lv_label_events *le);

#endif
