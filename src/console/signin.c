/* signin.c - strict parsing of the sign-in body with jansson. */
#include "console/signin.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

static lv_err field(json_t *obj, const char *key, bool required, size_t min, size_t max, int (*ok)(int),
                    char *out, size_t cap, lv_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return lv_error_set(err, LV_E_VALIDATION, "%s is required", key);
        return LV_OK;
    }
    if (!json_is_string(v))
        return lv_error_set(err, LV_E_VALIDATION, "%s must be a string", key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min || n > max || n + 1 > cap)
        return lv_error_set(err, LV_E_VALIDATION, "%s must be %zu to %zu characters long", key, min, max);
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return lv_error_set(err, LV_E_VALIDATION, "%s holds a character it may not hold", key);
    memcpy(out, s, n);
    out[n] = '\0';
    return LV_OK;
}

static int alnum(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int printable(int c)
{
    return c >= 0x21 && c <= 0x7e;
}

static int region_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

lv_err lv_signin_parse(const char *body, size_t len, lv_signin *out, lv_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL)
        return lv_error_set(err, LV_E_VALIDATION, "the sign-in body is not JSON");
    lv_err rc = LV_OK;
    if (!json_is_object(o)) {
        rc = lv_error_set(err, LV_E_VALIDATION, "the sign-in body must be a JSON object");
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "AccessKeyId") != 0 && strcmp(k, "SecretAccessKey") != 0 && strcmp(k, "Region") != 0) {
            rc = lv_error_set(err, LV_E_VALIDATION, "unknown field in the sign-in body");
            goto done;
        }
    }
    if ((rc = field(o, "AccessKeyId", true, 16, LV_ACCESS_KEY_MAX, alnum, out->akid, sizeof out->akid, err)) !=
            LV_OK ||
        (rc = field(o, "SecretAccessKey", true, 1, LV_SECRET_KEY_MAX, printable, out->secret, sizeof out->secret,
                    err)) != LV_OK ||
        (rc = field(o, "Region", false, 1, 63, region_char, out->region, sizeof out->region, err)) != LV_OK)
        goto done;
done:
    if (rc != LV_OK)
        memset(out, 0, sizeof *out);
    json_decref(o); /* jansson does not wipe the secret's copy; it was in the request body too */
    return rc;
}
