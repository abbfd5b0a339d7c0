/* ac_hooks.h - which extension actions apply to a point of the AppConfig
 * workflow: the webhook actions (Uri http:// or https://) of the
 * extensions associated with the application, the environment or the
 * configuration profile a call is about. Pure: a walk over a view. */
#ifndef LV_CORE_AC_HOOKS_H
#define LV_CORE_AC_HOOKS_H

#include <stdbool.h>

#include "core/appconfig.h"

/* The action points lever calls (AWS's names). */
#define LV_HOOK_PRE_CREATE "PRE_CREATE_HOSTED_CONFIGURATION_VERSION"
#define LV_HOOK_PRE_START "PRE_START_DEPLOYMENT"
#define LV_HOOK_TICK "AT_DEPLOYMENT_TICK"
#define LV_HOOK_ON_START "ON_DEPLOYMENT_START"
#define LV_HOOK_ON_STEP "ON_DEPLOYMENT_STEP"
#define LV_HOOK_ON_BAKING "ON_DEPLOYMENT_BAKING"
#define LV_HOOK_ON_COMPLETE "ON_DEPLOYMENT_COMPLETE"
#define LV_HOOK_ON_ROLLED_BACK "ON_DEPLOYMENT_ROLLED_BACK"

/* Synchronous points wait for the answer and can veto (or roll back). */
bool lv_ac_hook_point_sync(const char *point);
/* An action Uri lever calls: http:// or https:// (case-insensitive scheme). */
bool lv_ac_hook_is_webhook(const char *uri);

/* One applicable action: the extension, the association that brings it
 * (its Parameters go into the event) and the index of the action's
 * ActionPoint item in the extension's XF_ACTIONS list (Name at +1,
 * Description +2, Uri +3, RoleArn +4). Valid while the view is. */
typedef struct lv_ac_hook {
    const lv_acrec *ext;
    const lv_acrec *assoc;
    unsigned action;
} lv_ac_hook;

typedef bool (*lv_ac_hook_fn)(void *arg, const lv_ac_hook *h); /* false: stop */

/* Calls fn for every webhook action at point that applies to app (always),
 * env (NULL: none, as for hosted versions) and profile (NULL: none), in
 * association key order, each (association, action) once. Returns how many
 * were reported. */
unsigned lv_ac_hooks_find(const lv_acview *v, const char *point, const char *app, const char *env,
                          const char *profile, lv_ac_hook_fn fn, void *arg);

/* The same for the label rollouts of parameter name in region: the
 * associations whose resource is the parameter's ARN (their YF_RESKEY is
 * lv_ac_label_prefix without the label: "l<region>|<name>|"). */
unsigned lv_ac_hooks_find_param(const lv_acview *v, const char *point, const char *region, const char *name,
                                lv_ac_hook_fn fn, void *arg);

#endif
