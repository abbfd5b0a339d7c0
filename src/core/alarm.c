/* alarm.c - lever alarms, the pure part: states, the probe state machine,
 * validation of names and probe URLs, and the alarm record's bytes. */
#include "core/alarm.h"

#include <string.h>

#include "core/record.h"

static const char *const state_names[] = {"INSUFFICIENT_DATA", "OK", "ALARM"};

const char *lv_alarm_state_name(lv_alarm_state s)
{
    return (unsigned)s < 3 ? state_names[s] : "INSUFFICIENT_DATA";
}

bool lv_alarm_state_parse(const char *s, lv_alarm_state *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (lv_alarm_state)i;
            return true;
        }
    return false;
}

bool lv_alarm_name_valid(const char *name, size_t len)
{
    if (len < 1 || len > LV_ALARM_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == ':' || c == '/' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool lv_alarm_url_valid(const char *url, size_t len)
{
    size_t skip;
    if (len > LV_ALARM_URL_MAX)
        return false;
    if (len > 7 && strncmp(url, "http://", 7) == 0)
        skip = 7;
    else if (len > 8 && strncmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return false;
    if (url[skip] == '/' || url[skip] == ':' || url[skip] == '?' || url[skip] == '#')
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
            return false;
    return true;
}

bool lv_alarm_track_result(lv_alarm_track *t, bool success, uint32_t threshold)
{
    lv_alarm_state before = t->state;
    if (success) {
        t->failures = 0;
        t->state = LV_ALARM_OK;
    } else {
        if (t->failures < UINT32_MAX)
            t->failures++;
        if (t->failures >= (threshold ? threshold : 1))
            t->state = LV_ALARM_ALARM;
    }
    return t->state != before;
}

/* ---------- record ----------
 * value: u8 format (1), u8 state, u64 updated_ms, u32 interval, u32
 * threshold, u32 timeout, u16 url length, url, u16 reason length, reason. */

enum { REC_FORMAT = 1 };

lv_err lv_alarm_rec_key(const char *name, lv_buf *out)
{
    lv_buf_reset(out);
    lv_err rc = lv_buf_putc(out, 'L');
    return rc == LV_OK ? lv_buf_puts(out, name) : rc;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static lv_err put_str(lv_buf *out, const char *s)
{
    size_t n = strlen(s);
    unsigned char h[2] = {(unsigned char)(n >> 8), (unsigned char)n};
    lv_err rc = lv_buf_append(out, h, 2);
    return rc == LV_OK ? lv_buf_append(out, s, n) : rc;
}

lv_err lv_alarm_rec_encode(const lv_alarm_rec *a, lv_buf *out)
{
    unsigned char h[2 + 8 + 12];
    h[0] = REC_FORMAT;
    h[1] = (unsigned char)a->state;
    lv_record_put_u64(h + 2, (uint64_t)a->updated_ms);
    put_u32(h + 10, a->probe.interval_s);
    put_u32(h + 14, a->probe.threshold);
    put_u32(h + 18, a->probe.timeout_s);
    lv_buf_reset(out);
    lv_err rc = lv_buf_append(out, h, sizeof h);
    if (rc == LV_OK)
        rc = put_str(out, a->probe.url);
    if (rc == LV_OK)
        rc = put_str(out, a->reason);
    return rc;
}

static bool get_str(const unsigned char **p, const unsigned char *end, char *dst, size_t cap)
{
    if (end - *p < 2)
        return false;
    size_t n = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    if ((size_t)(end - *p) < n || n + 1 > cap || memchr(*p, '\0', n) != NULL)
        return false;
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p += n;
    return true;
}

lv_err lv_alarm_rec_decode(const void *key, size_t klen, const void *val, size_t vlen, lv_alarm_rec *out,
                           lv_error *err)
{
    memset(out, 0, sizeof *out);
    const char *k = key;
    if (klen < 2 || k[0] != 'L' || !lv_alarm_name_valid(k + 1, klen - 1))
        return lv_error_set(err, LV_E_CORRUPT, "bad alarm record key");
    memcpy(out->name, k + 1, klen - 1);
    out->name[klen - 1] = '\0';
    const unsigned char *p = val, *end = p + vlen;
    if (vlen < 22 || p[0] != REC_FORMAT || p[1] > LV_ALARM_ALARM)
        return lv_error_set(err, LV_E_CORRUPT, "bad alarm record %s", out->name);
    out->state = (lv_alarm_state)p[1];
    out->updated_ms = (int64_t)lv_record_get_u64(p + 2);
    out->probe.interval_s = get_u32(p + 10);
    out->probe.threshold = get_u32(p + 14);
    out->probe.timeout_s = get_u32(p + 18);
    p += 22;
    if (!get_str(&p, end, out->probe.url, sizeof out->probe.url) ||
        !get_str(&p, end, out->reason, sizeof out->reason) || p != end)
        return lv_error_set(err, LV_E_CORRUPT, "bad alarm record %s", out->name);
    if (out->probe.url[0] &&
        (!lv_alarm_url_valid(out->probe.url, strlen(out->probe.url)) || out->probe.interval_s < 1 ||
         out->probe.interval_s > LV_ALARM_INTERVAL_MAX || out->probe.threshold < 1 ||
         out->probe.threshold > LV_ALARM_THRESHOLD_MAX || out->probe.timeout_s < 1 ||
         out->probe.timeout_s > LV_ALARM_TIMEOUT_MAX))
        return lv_error_set(err, LV_E_CORRUPT, "bad alarm record %s", out->name);
    return LV_OK;
}
