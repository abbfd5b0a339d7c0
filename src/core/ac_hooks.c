/* ac_hooks.c - the extension actions that apply to an application,
 * environment and configuration profile at one action point. As on AWS,
 * an association with an application covers its environments and
 * profiles; one with an environment or a profile covers only that one. */
#include "core/ac_hooks.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool lv_ac_hook_point_sync(const char *point)
{
    return strcmp(point, LV_HOOK_PRE_CREATE) == 0 || strcmp(point, LV_HOOK_PRE_START) == 0 ||
           strcmp(point, LV_HOOK_TICK) == 0;
}

bool lv_ac_hook_is_webhook(const char *uri)
{
    return strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0;
}

typedef struct scan {
    const lv_acview *v;
    const char *point;
    const char *keys[3];
    char kbuf[3][40];
    unsigned nkeys;
    lv_ac_hook_fn fn;
    void *arg;
    unsigned found;
    bool stop;
} scan;

static bool one_assoc(void *arg, const lv_acrec *a)
{
    scan *s = arg;
    const char *rk = lv_acrec_str(a, YF_RESKEY);
    bool applies = false;
    for (unsigned i = 0; i < s->nkeys && !applies; i++)
        applies = strcmp(rk, s->keys[i]) == 0;
    if (!applies)
        return true;
    const lv_acrec *x = lv_ac_get(s->v, "x%s", lv_acrec_str(a, YF_EXT));
    if (x == NULL)
        return true;
    unsigned n = lv_acrec_count(x, XF_ACTIONS);
    for (unsigned i = 0; i + 4 < n; i += 5) {
        if (strcmp(lv_acrec_item(x, XF_ACTIONS, i)->p, s->point) != 0 ||
            !lv_ac_hook_is_webhook(lv_acrec_item(x, XF_ACTIONS, i + 3)->p))
            continue;
        lv_ac_hook h = {x, a, i};
        s->found++;
        if (!s->fn(s->arg, &h)) {
            s->stop = true;
            return false;
        }
    }
    return true;
}

unsigned lv_ac_hooks_find(const lv_acview *v, const char *point, const char *app, const char *env,
                          const char *profile, lv_ac_hook_fn fn, void *arg)
{
    scan s;
    memset(&s, 0, sizeof s);
    s.v = v;
    s.point = point;
    s.fn = fn;
    s.arg = arg;
    /* Ids are 7 characters; anything longer matches no record anyway. */
    if (app == NULL || strlen(app) > 16 || (env && strlen(env) > 16) || (profile && strlen(profile) > 16))
        return 0;
    snprintf(s.kbuf[s.nkeys], sizeof s.kbuf[0], "a%s", app);
    s.keys[s.nkeys] = s.kbuf[s.nkeys];
    s.nkeys++;
    if (env != NULL) {
        snprintf(s.kbuf[s.nkeys], sizeof s.kbuf[0], "e%s/%s", app, env);
        s.keys[s.nkeys] = s.kbuf[s.nkeys];
        s.nkeys++;
    }
    if (profile != NULL) {
        snprintf(s.kbuf[s.nkeys], sizeof s.kbuf[0], "p%s/%s", app, profile);
        s.keys[s.nkeys] = s.kbuf[s.nkeys];
        s.nkeys++;
    }
    v->each(v->ctx, "X", 1, one_assoc, &s);
    return s.found;
}

unsigned lv_ac_hooks_find_param(const lv_acview *v, const char *point, const char *region, const char *name,
                                lv_ac_hook_fn fn, void *arg)
{
    char key[1200];
    int n = snprintf(key, sizeof key, "%c%s|%s|", LV_AC_LABEL_DEPLOY, region ? region : "", name ? name : "");
    if (region == NULL || name == NULL || n < 0 || (size_t)n >= sizeof key)
        return 0;
    scan s;
    memset(&s, 0, sizeof s);
    s.v = v;
    s.point = point;
    s.fn = fn;
    s.arg = arg;
    s.keys[s.nkeys++] = key;
    v->each(v->ctx, "X", 1, one_assoc, &s);
    return s.found;
}
