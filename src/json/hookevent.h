/* hookevent.h - the JSON body lever POSTs to an extension's webhook at an
 * action point (modelled on the event AWS AppConfig passes to an
 * extension's Lambda; fields in docs/rollouts.md, "Hooks"), and the
 * printable reason kept from a receiver's answer. */
#ifndef LV_JSON_HOOKEVENT_H
#define LV_JSON_HOOKEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/acrec.h"
#include "core/buf.h"

typedef struct lv_hookevent {
    const char *invocation_id;  /* a UUID */
    const char *point;          /* Type: the action point */
    const lv_acrec *ext;        /* kind 'x' */
    const lv_acrec *assoc;      /* kind 'X': its Parameters */
    unsigned action;            /* index of the action in ext's XF_ACTIONS */
    const char *app, *app_name;
    const char *env, *env_name;          /* NULL: no environment */
    const char *profile, *profile_name;  /* NULL: no profile */
    /* A label rollout (docs/rollouts.md): the parameter instead of the
     * application, environment and profile; NULL otherwise. */
    const char *param_region, *param_name, *param_label;
    const lv_acrec *deployment; /* kind 'd' (or a label rollout's record) or NULL */
    /* Hosted versions (PRE_CREATE_HOSTED_CONFIGURATION_VERSION, and
     * PRE_START_DEPLOYMENT of a hosted profile): content, NULL: none. */
    const char *content;
    size_t content_len;
    const char *content_type;
    const char *version;        /* ConfigurationVersion; NULL: none */
    const char *version_label;
    const char *description;    /* of the version or deployment being made */
    const char *strategy;       /* PRE_START_DEPLOYMENT: DeploymentStrategyId */
    const char *created_by;     /* the caller's ARN; NULL: lever itself */
    int64_t now_ms;
} lv_hookevent;

/* Appends the event's JSON to out. */
lv_err lv_hookevent_build(const lv_hookevent *ev, lv_buf *out);

/* A short, printable reason from a receiver's answer body: a JSON object's
 * "Message" / "message" / "reason" string when there is one, else the
 * body's first line; bytes outside printable ASCII become '?'. out holds
 * at most cap-1 characters ("" when nothing usable). */
void lv_hookevent_reason(const char *body, size_t n, char *out, size_t cap);

#endif
