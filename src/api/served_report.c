/* served_report.c - decoding the Served member of Lever.WatchConfigurations
 * (served_report.h); tests/fuzz/fuzz_served_report.c feeds it anything. */
#include "api/served_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool count_of(const json_t *o, const char *k, int64_t min, int64_t max, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* "appconfig:<app>:<env>:<n>" within the scope. */
static bool in_scope(const char *seed, const char *app, const char *env)
{
    if (!app[0])
        return true;
    if (strncmp(seed, "appconfig:", 10) != 0)
        return false;
    const char *a = seed + 10, *c = strchr(a, ':');
    if (c == NULL || (size_t)(c - a) != strlen(app) || memcmp(a, app, strlen(app)) != 0)
        return false;
    if (!env[0])
        return true;
    const char *e = c + 1, *d = strchr(e, ':');
    return d != NULL && (size_t)(d - e) == strlen(env) && memcmp(e, env, strlen(env)) == 0;
}

size_t lv_served_report_decode(const json_t *served, const char *scope_app, const char *scope_env,
                               lv_served_entry *out, size_t max)
{
    size_t n = 0;
    if (!json_is_array(served))
        return 0;
    size_t total = json_array_size(served);
    for (size_t i = 0; i < total && n < max && i < 4 * (size_t)LV_SERVED_REPORT_MAX; i++) {
        const json_t *o = json_array_get(served, i);
        const json_t *seed = json_object_get(o, "Seed");
        int64_t ms, nw, od;
        if (!json_is_object(o) || !json_is_string(seed) ||
            !lv_served_seed_ok(json_string_value(seed), json_string_length(seed)) ||
            !in_scope(json_string_value(seed), scope_app, scope_env) ||
            !count_of(o, "IntervalMs", 1, LV_SERVED_INTERVAL_MAX_MS, &ms) ||
            !count_of(o, "New", 0, LV_SERVED_COUNT_MAX, &nw) || !count_of(o, "Old", 0, LV_SERVED_COUNT_MAX, &od) ||
            nw + od == 0)
            continue;
        snprintf(out[n].seed, sizeof out[n].seed, "%s", json_string_value(seed));
        out[n].interval_ms = ms;
        out[n].new_n = (uint64_t)nw;
        out[n].old_n = (uint64_t)od;
        n++;
    }
    return n;
}

static json_t *iso_time(int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[64];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(b);
}

/* Two decimals, as PercentageComplete. */
static double r2(double v)
{
    return (double)(int64_t)(v * 100 + 0.5) / 100;
}

void lv_served_render_json(lv_engine *e, const char *seed, json_t *o)
{
    static _Thread_local lv_served_view v;
    if (!lv_engine_served_get(e, seed, &v))
        return;
    json_t *pts = json_array();
    for (size_t i = 0; i < v.n; i++)
        json_array_append_new(pts, json_pack("{s:o, s:f, s:f, s:f}", "Time", iso_time(v.pts[i].t_ms), "Seconds",
                                             (double)v.pts[i].width_ms / 1000.0, "Percentage",
                                             r2(v.pts[i].percentage), "Entities", r2(v.pts[i].entities)));
    json_object_set_new(o, "ServedPercentage", json_real(r2(v.percentage)));
    json_object_set_new(o, "ServedShare", json_pack("{s:f, s:f, s:o}", "Percentage", r2(v.percentage), "Entities",
                                                    r2(v.entities), "Points", pts));
}

static void kdouble(jw *w, const char *k, double v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%.10g", r2(v));
    jw_key(w, k);
    jw_raw(w, t, (size_t)n);
}

void lv_served_render_jw(lv_engine *e, const char *seed, jw *w)
{
    static _Thread_local lv_served_view v;
    if (!lv_engine_served_get(e, seed, &v))
        return;
    kdouble(w, "ServedPercentage", v.percentage);
    jw_key(w, "ServedShare");
    jw_obj(w);
    kdouble(w, "Percentage", v.percentage);
    kdouble(w, "Entities", v.entities);
    jw_key(w, "Points");
    jw_arr(w);
    for (size_t i = 0; i < v.n; i++) {
        jw_obj(w);
        jw_key(w, "Time");
        jw_time(w, v.pts[i].t_ms);
        kdouble(w, "Seconds", (double)v.pts[i].width_ms / 1000.0);
        kdouble(w, "Percentage", v.pts[i].percentage);
        kdouble(w, "Entities", v.pts[i].entities);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}
