/* alarm_api.c - Lever.PutAlarm / SetAlarmState / DescribeAlarms /
 * DeleteAlarm: decoding with AWS's validation wording (api/jreq.h), the
 * registry call, the JSON answer. */
#include "api/alarm_api.h"

#include <string.h>

#include "api/jreq.h"
#include "json/jw.h"

enum { DESCRIBE_NAMES_MAX = 100 };

static const char *const ops[] = {"PutAlarm", "SetAlarmState", "DescribeAlarms", "DeleteAlarm", NULL};

bool lv_alarm_api_op_known(const char *op)
{
    for (size_t i = 0; ops[i]; i++)
        if (strcmp(op, ops[i]) == 0)
            return true;
    return false;
}

static const char NAME_PATTERN[] = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:/-]+";

static const char *alarm_name(jreq *r)
{
    size_t len = 0;
    const char *name = jreq_str(r, NULL, "AlarmName", true, 1, LV_ALARM_NAME_MAX, &len);
    if (name != NULL && len >= 1 && len <= LV_ALARM_NAME_MAX && !lv_alarm_name_valid(name, len))
        jreq_fail(r, name, "alarmName", NAME_PATTERN);
    return name;
}

/* Probe: {Url, IntervalSeconds (30), FailureThreshold (3), TimeoutSeconds (5)}. */
static void read_probe(jreq *r, json_t *p, lv_alarm_probe *out)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    const char *url = jreq_str(r, p, "Url", true, 1, LV_ALARM_URL_MAX, &len);
    int64_t interval = 30, threshold = 3, timeout = 5;
    bool hi = jreq_int(r, p, "IntervalSeconds", false, 1, LV_ALARM_INTERVAL_MAX, &interval);
    jreq_int(r, p, "FailureThreshold", false, 1, LV_ALARM_THRESHOLD_MAX, &threshold);
    bool ht = jreq_int(r, p, "TimeoutSeconds", false, 1, LV_ALARM_TIMEOUT_MAX, &timeout);
    if (url != NULL && !lv_alarm_url_valid(url, len))
        jreq_fail(r, url, "probe.url", "Member must be an http:// or https:// URL with a host");
    if ((hi || ht) && timeout > interval) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)timeout);
        jreq_fail(r, v, "probe.timeoutSeconds", "Member must be less than or equal to probe.intervalSeconds");
    }
    if (url != NULL && len <= LV_ALARM_URL_MAX)
        memcpy(out->url, url, len + 1);
    out->interval_s = (uint32_t)interval;
    out->threshold = (uint32_t)threshold;
    out->timeout_s = (uint32_t)timeout;
}

static void put_rec(void *ctx, const lv_alarm_rec *a)
{
    jw *w = ctx;
    jw_obj(w);
    jw_kstr(w, "AlarmName", a->name);
    jw_kstr(w, "StateValue", lv_alarm_state_name(a->state));
    jw_kstr(w, "StateReason", a->reason);
    jw_key(w, "StateUpdatedTimestamp");
    jw_time(w, a->updated_ms);
    if (a->probe.url[0]) {
        jw_key(w, "Probe");
        jw_obj(w);
        jw_kstr(w, "Url", a->probe.url);
        jw_kint(w, "IntervalSeconds", a->probe.interval_s);
        jw_kint(w, "FailureThreshold", a->probe.threshold);
        jw_kint(w, "TimeoutSeconds", a->probe.timeout_s);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static void empty(jw *w)
{
    jw_obj(w);
    jw_obj_end(w);
}

lv_err lv_alarm_api_dispatch(lv_alarms *a, const char *op, const char *body, size_t len, int64_t now_ms,
                             lv_buf *out, lv_error *err)
{
    jreq r;
    lv_err rc = jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    jw w;
    jw_init(&w, out);
    if (strcmp(op, "PutAlarm") == 0) {
        const char *name = alarm_name(&r);
        json_t *p = json_object_get(r.root, "Probe");
        lv_alarm_probe probe;
        bool has_probe = p != NULL && !json_is_null(p);
        if (has_probe && !json_is_object(p)) {
            r.serr = LV_E_SERIALIZATION;
            snprintf(r.smsg, sizeof r.smsg, "Probe must be a JSON object.");
        } else if (has_probe) {
            read_probe(&r, p, &probe);
        }
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_alarms_put(a, name, has_probe ? &probe : NULL, now_ms, err);
        if (rc == LV_OK)
            empty(&w);
    } else if (strcmp(op, "SetAlarmState") == 0) {
        static const char *const states[] = {"OK", "ALARM", NULL};
        const char *name = alarm_name(&r);
        const char *state = jreq_enum(&r, NULL, "StateValue", true, states);
        const char *reason = jreq_str(&r, NULL, "StateReason", true, 0, LV_ALARM_REASON_MAX, NULL);
        lv_alarm_state st = LV_ALARM_OK;
        if ((rc = jreq_finish(&r, err)) == LV_OK && lv_alarm_state_parse(state, &st))
            rc = lv_alarms_set(a, name, st, reason, now_ms, err);
        if (rc == LV_OK)
            empty(&w);
    } else if (strcmp(op, "DescribeAlarms") == 0) {
        json_t *arr = jreq_array(&r, NULL, "AlarmNames", false, 0, DESCRIBE_NAMES_MAX);
        const char *names[DESCRIBE_NAMES_MAX];
        size_t n = 0;
        for (size_t i = 0; arr && i < json_array_size(arr) && n < DESCRIBE_NAMES_MAX; i++) {
            const char *s = jreq_elem_str(&r, arr, i, "alarmNames", 1, LV_ALARM_NAME_MAX);
            if (s != NULL)
                names[n++] = s;
        }
        if ((rc = jreq_finish(&r, err)) == LV_OK && (arr == NULL || n > 0)) {
            jw_obj(&w);
            jw_key(&w, "Alarms");
            jw_arr(&w);
            rc = lv_alarms_describe(a, names, n, put_rec, &w, err);
            jw_arr_end(&w);
            jw_obj_end(&w);
        } else if (rc == LV_OK) {
            jw_obj(&w); /* AlarmNames: [] names nothing */
            jw_key(&w, "Alarms");
            jw_arr(&w);
            jw_arr_end(&w);
            jw_obj_end(&w);
        }
    } else if (strcmp(op, "DeleteAlarm") == 0) {
        const char *name = alarm_name(&r);
        if ((rc = jreq_finish(&r, err)) == LV_OK)
            rc = lv_alarms_delete(a, name, err);
        if (rc == LV_OK)
            empty(&w);
    } else {
        rc = lv_error_set(err, LV_E_UNKNOWN_OPERATION, "Operation Lever.%s is not supported.", op);
    }
    jreq_free(&r);
    if (rc == LV_OK && w.rc != LV_OK)
        rc = lv_error_set(err, w.rc, "The response could not be built.");
    return rc;
}
