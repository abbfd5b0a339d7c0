/* ac_ssm.c - which deployed configurations an SSM parameter change
 * reaches. A profile whose LocationUri is ssm-parameter://NAME, deployed
 * by label, serves whatever version the label names when read; moving or
 * removing the label (or deleting the parameter) changes that content
 * without any deployment record changing. Such writes therefore carry a
 * LV_CHANGE_AC_CONTENT change for each environment concerned, so the
 * configuration watch (agents, liblever) re-validates at once. */
#include "core/appconfig.h"

#include <stdio.h>
#include <string.h>

typedef struct dep_scan {
    const lv_acview *v;
    const char *name;
    lv_acplan *out;
    lv_err rc;
    const lv_acrec *prof; /* the profile whose environments are scanned */
} dep_scan;

/* A deployed version that a label names (not a version number). */
static bool by_label(const char *ver)
{
    if (ver == NULL || *ver == '\0')
        return false;
    for (const char *c = ver; *c; c++)
        if (*c < '0' || *c > '9')
            return true;
    return false;
}

static bool each_env(void *arg, const lv_acrec *env)
{
    dep_scan *s = arg;
    const char *app = lv_acrec_str(s->prof, PF_APP), *pid = lv_acrec_str(s->prof, PF_ID);
    const char *eid = lv_acrec_str(env, EF_ID);
    const lv_acrec *d = lv_ac_serving(s->v, app, eid, pid);
    if (d == NULL || !(by_label(lv_acrec_str(d, DF_VERSION)) || by_label(lv_acrec_str(d, DF_PREV_VERSION))))
        return true;
    s->rc = lv_acplan_change_add(s->out, LV_CHANGE_AC_CONTENT, app, eid, pid,
                                 (uint32_t)lv_acrec_num(d, DF_NUMBER));
    return s->rc == LV_OK;
}

static bool each_profile(void *arg, const lv_acrec *p)
{
    dep_scan *s = arg;
    const char *ssm = NULL;
    if (lv_ac_location(lv_acrec_str(p, PF_LOCATION), &ssm) != LV_AC_LOC_SSM || ssm == NULL ||
        strcmp(ssm, s->name) != 0)
        return true;
    char prefix[200];
    int n = snprintf(prefix, sizeof prefix, "e%s/", lv_acrec_str(p, PF_APP));
    if (n < 0 || (size_t)n >= sizeof prefix)
        return true;
    s->prof = p;
    s->v->each(s->v->ctx, prefix, (size_t)n, each_env, s);
    return s->rc == LV_OK;
}

lv_err lv_ac_param_dependents(const lv_acview *v, const char *name, lv_acplan *out)
{
    dep_scan s = {v, name, out, LV_OK, NULL};
    v->each(v->ctx, "p", 1, each_profile, &s);
    return s.rc;
}
