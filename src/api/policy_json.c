/* policy_json.c - the parameter policy document, from untrusted JSON to
 * lv_policy_set. */
#include "api/policy_json.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

lv_err lv_parse_iso8601(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return LV_E_VALIDATION;
    int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2);
    int h = digits(s + 11, 2), m = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 ||
        sec < 0 || sec > 60)
        return LV_E_VALIDATION;
    const char *p = s + 19;
    int frac = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (nd < 3)
                frac = frac * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0)
            return LV_E_VALIDATION;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh = digits(p + 1, 2), om = -1;
        if (oh >= 0 && p[3] == ':')
            om = digits(p + 4, 2), p += 6;
        else if (oh >= 0)
            om = digits(p + 3, 2), p += 5;
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return LV_E_VALIDATION;
        offset_min = sign * (oh * 60 + om);
    } else if (*p != '\0') {
        return LV_E_VALIDATION;
    }
    if (*p != '\0')
        return LV_E_VALIDATION;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (D > mdays[M - 1] + (M == 2 && leap))
        return LV_E_VALIDATION;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return LV_E_VALIDATION;
    *ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac;
    return LV_OK;
}

static lv_err amount(json_t *attrs, const char *field, const char *type, int64_t *out,
                     lv_error *err)
{
    json_t *v = json_object_get(attrs, field);
    json_t *u = json_object_get(attrs, "Unit");
    long long n = -1;
    if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        n = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : -1;
        if (n >= 0 && *end != '\0')
            n = -1;
    } else if (json_is_integer(v)) {
        n = json_integer_value(v);
    }
    if (n < 1 || n > 100000)
        return lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                            "A policy attribute or its value is invalid: %s of %s must be a positive whole number.",
                            field, type);
    if (u != NULL && !json_is_string(u))
        return lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                            "A policy attribute or its value is invalid: Unit of %s must be Days or Hours.",
                            type);
    const char *unit = u != NULL ? json_string_value(u) : "Days";
    int64_t mult;
    if (strcmp(unit, "Days") == 0)
        mult = 86400000;
    else if (strcmp(unit, "Hours") == 0)
        mult = 3600000;
    else
        return lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                            "A policy attribute or its value is invalid: Unit of %s must be Days or Hours.",
                            type);
    *out = (int64_t)n * mult;
    return LV_OK;
}

lv_err lv_policy_parse(const char *text, size_t len, lv_policy_set *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    lv_err rc = LV_OK;
    if (root == NULL || !json_is_array(root)) {
        rc = lv_error_set(err, LV_E_INVALID_POLICY_TYPE,
                          "The policy document is not a JSON array of policies.");
        goto done;
    }
    if (json_array_size(root) > LV_MAX_POLICIES) {
        rc = lv_error_set(err, LV_E_POLICIES_LIMIT,
                          "You specified more than the maximum number of allowed policies for the "
                          "parameter. The maximum is %d.", LV_MAX_POLICIES);
        goto done;
    }
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item) {
        json_t *type = json_object_get(item, "Type");
        json_t *version = json_object_get(item, "Version");
        json_t *attrs = json_object_get(item, "Attributes");
        if (!json_is_object(item) || !json_is_string(type)) {
            rc = lv_error_set(err, LV_E_INVALID_POLICY_TYPE,
                              "Each policy must be an object with a Type.");
            goto done;
        }
        const char *t = json_string_value(type);
        lv_policy *p = &out->p[out->n];
        if (strcmp(t, "Expiration") == 0)
            p->type = LV_POLICY_EXPIRATION;
        else if (strcmp(t, "ExpirationNotification") == 0)
            p->type = LV_POLICY_EXPIRATION_NOTIFICATION;
        else if (strcmp(t, "NoChangeNotification") == 0)
            p->type = LV_POLICY_NO_CHANGE_NOTIFICATION;
        else {
            rc = lv_error_set(err, LV_E_INVALID_POLICY_TYPE,
                              "The policy type is not supported: %.100s. Parameter Store supports "
                              "Expiration, ExpirationNotification and NoChangeNotification.", t);
            goto done;
        }
        if (version != NULL && (!json_is_string(version) || strcmp(json_string_value(version), "1.0") != 0)) {
            rc = lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                              "A policy attribute or its value is invalid: Version must be \"1.0\".");
            goto done;
        }
        if (!json_is_object(attrs)) {
            rc = lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                              "A policy attribute or its value is invalid: %s needs Attributes.", t);
            goto done;
        }
        if (p->type == LV_POLICY_EXPIRATION) {
            json_t *ts = json_object_get(attrs, "Timestamp");
            if (!json_is_string(ts) || lv_parse_iso8601(json_string_value(ts), &p->timestamp_ms) != LV_OK) {
                rc = lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                                  "A policy attribute or its value is invalid: Timestamp must be an "
                                  "ISO 8601 date and time such as 2026-12-02T21:34:33.000Z.");
                goto done;
            }
        } else {
            rc = amount(attrs, p->type == LV_POLICY_EXPIRATION_NOTIFICATION ? "Before" : "After", t,
                        &p->amount_ms, err);
            if (rc != LV_OK)
                goto done;
        }
        out->n++;
    }
done:
    json_decref(root);
    return rc;
}
