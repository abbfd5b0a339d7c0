/* hookevent.c - the webhook event body (one fixed shape, written with the
 * streaming writer) and the reason taken from a receiver's answer. */
#include "json/hookevent.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/appconfig.h"
#include "json/jw.h"

static void base64(jw *w, const char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    lv_buf tmp = LV_BUF_INIT;
    if (lv_buf_reserve(&tmp, (n + 2) / 3 * 4 + 1) != LV_OK) {
        w->rc = LV_E_NOMEM;
        return;
    }
    const unsigned char *s = (const unsigned char *)p;
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        lv_buf_append(&tmp, q, 4);
    }
    jw_strn(w, tmp.data ? tmp.data : "", tmp.len);
    lv_buf_free(&tmp);
}

/* ISO 8601 UTC with milliseconds, as AppConfig's answers give times. */
static void iso(jw *w, const char *k, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char out[96];
    if (ms < 0 || gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms >= 0 ? ms % 1000 : 0));
    jw_kstr(w, k, out);
}

static void idname(jw *w, const char *k, const char *id, const char *name)
{
    jw_key(w, k);
    jw_obj(w);
    jw_kstr(w, "Id", id);
    if (name && name[0])
        jw_kstr(w, "Name", name);
    jw_obj_end(w);
}

static void field_str(jw *w, const char *k, const lv_acrec *r, unsigned f)
{
    jw_key(w, k);
    jw_strn(w, lv_acrec_str(r, f), lv_acrec_len(r, f));
}

lv_err lv_hookevent_build(const lv_hookevent *ev, lv_buf *out)
{
    jw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_kstr(&w, "InvocationId", ev->invocation_id);
    jw_kstr(&w, "Type", ev->point);
    jw_key(&w, "Parameters");
    jw_obj(&w);
    for (unsigned i = 0; ev->assoc && i + 1 < lv_acrec_count(ev->assoc, YF_PARAMS); i += 2) {
        const lv_acstr *k = lv_acrec_item(ev->assoc, YF_PARAMS, i), *v = lv_acrec_item(ev->assoc, YF_PARAMS, i + 1);
        jw_key(&w, k->p);
        jw_strn(&w, v->p, v->n);
    }
    jw_obj_end(&w);
    if (ev->ext) {
        jw_key(&w, "Extension");
        jw_obj(&w);
        field_str(&w, "Id", ev->ext, XF_ID);
        field_str(&w, "Name", ev->ext, XF_NAME);
        jw_kint(&w, "VersionNumber", lv_acrec_num(ev->ext, XF_VERSION));
        if (ev->action + 4 < lv_acrec_count(ev->ext, XF_ACTIONS)) {
            const lv_acstr *an = lv_acrec_item(ev->ext, XF_ACTIONS, ev->action + 1);
            jw_key(&w, "ActionName");
            jw_strn(&w, an->p, an->n);
        }
        jw_obj_end(&w);
    }
    if (ev->assoc)
        field_str(&w, "ExtensionAssociationId", ev->assoc, YF_ID);
    if (ev->param_name != NULL) {
        jw_key(&w, "Parameter");
        jw_obj(&w);
        jw_kstr(&w, "Name", ev->param_name);
        jw_kstr(&w, "Label", ev->param_label ? ev->param_label : "");
        jw_kstr(&w, "Region", ev->param_region ? ev->param_region : "");
        jw_obj_end(&w);
    } else {
        idname(&w, "Application", ev->app ? ev->app : "", ev->app_name);
    }
    if (ev->env)
        idname(&w, "Environment", ev->env, ev->env_name);
    if (ev->profile)
        idname(&w, "ConfigurationProfile", ev->profile, ev->profile_name);
    const lv_acrec *d = ev->deployment;
    if (d != NULL) {
        jw_kint(&w, "DeploymentNumber", lv_acrec_num(d, DF_NUMBER));
        field_str(&w, "DeploymentState", d, DF_STATE);
        jw_key(&w, "PercentageComplete");
        double pc = strtod(lv_acrec_str(d, DF_PERCENT), NULL);
        char num[32];
        int nl = snprintf(num, sizeof num, "%.6g", pc >= 0 && pc <= 100 ? pc : 0);
        jw_raw(&w, num, (size_t)nl);
        field_str(&w, "DeploymentStrategyId", d, DF_STRATEGY);
        field_str(&w, "ConfigurationVersion", d, DF_VERSION);
        if (lv_acrec_len(d, DF_LABEL))
            field_str(&w, "VersionLabel", d, DF_LABEL);
        field_str(&w, "PreviousConfigurationVersion", d, DF_PREV_VERSION);
        if (lv_acrec_len(d, DF_DESC))
            field_str(&w, "Description", d, DF_DESC);
        iso(&w, "StartedAt", lv_acrec_num(d, DF_STARTED));
    } else {
        if (ev->strategy)
            jw_kstr(&w, "DeploymentStrategyId", ev->strategy);
        if (ev->version)
            jw_kstr(&w, "ConfigurationVersion", ev->version);
        if (ev->version_label && ev->version_label[0])
            jw_kstr(&w, "VersionLabel", ev->version_label);
        if (ev->description && ev->description[0])
            jw_kstr(&w, "Description", ev->description);
    }
    if (ev->content != NULL) {
        jw_key(&w, "Content");
        base64(&w, ev->content, ev->content_len);
        jw_kstr(&w, "ContentType", ev->content_type ? ev->content_type : "");
    }
    if (ev->created_by)
        jw_kstr(&w, "CreatedBy", ev->created_by);
    iso(&w, "OccurredAt", ev->now_ms);
    jw_obj_end(&w);
    return w.rc;
}

static void printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r')
            break;
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

void lv_hookevent_reason(const char *body, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    if (body == NULL || n == 0)
        return;
    size_t skip = 0;
    while (skip < n && (body[skip] == ' ' || body[skip] == '\t' || body[skip] == '\r' || body[skip] == '\n'))
        skip++;
    if (skip < n && body[skip] == '{') {
        json_t *doc = json_loadb(body, n, 0, NULL);
        static const char *const keys[] = {"Message", "message", "Reason", "reason", "error"};
        for (size_t i = 0; doc != NULL && i < sizeof keys / sizeof keys[0]; i++) {
            json_t *m = json_object_get(doc, keys[i]);
            if (json_is_string(m)) {
                printable(json_string_value(m), json_string_length(m), out, cap);
                json_decref(doc);
                return;
            }
        }
        json_decref(doc);
    }
    printable(body + skip, n - skip, out, cap);
}
