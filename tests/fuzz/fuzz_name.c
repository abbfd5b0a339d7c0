/* fuzz_name.c - the textual rules (core/name.c) on arbitrary input: no
 * crash, and what is accepted is consistent (canonical forms are fixed
 * points, selectors give valid labels / non-zero versions). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "fuzz_name: check failed: %s (line %d)\n", #c,      \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

static void name(const char *in, size_t len)
{
    lv_buf out = LV_BUF_INIT, again = LV_BUF_INIT, arn = LV_BUF_INIT;
    lv_error err;
    lv_err rc = lv_name_canonical(in, len, &out, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_VALIDATION);
        lv_buf_free(&out);
        return;
    }
    CHECK(out.len >= 1 && out.len <= LV_NAME_MAX && strlen(out.data) == out.len);
    CHECK(out.data[out.len - 1] != '/');
    CHECK(strstr(out.data, "//") == NULL);
    CHECK(strchr(out.data, '/') == NULL || out.data[0] == '/');
    /* Canonical names are fixed points. */
    CHECK(lv_name_canonical(out.data, out.len, &again, &err) == LV_OK);
    CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
    /* Its ARN gives it back (up to the leading slash of one-level names). */
    CHECK(lv_name_arn("us-east-1", "123456789012", out.data, &arn) == LV_OK);
    CHECK(lv_name_canonical(arn.data, arn.len, &again, &err) == LV_OK);
    const char *o = out.data;
    if (o[0] == '/' && strchr(o + 1, '/') == NULL)
        o++;
    CHECK(strcmp(again.data, o) == 0);
    unsigned lv = lv_name_levels(out.data);
    CHECK(lv >= 1);
    rc = lv_name_check_create(out.data, &err);
    CHECK(rc == LV_OK || rc == LV_E_VALIDATION || rc == LV_E_ACCESS_DENIED ||
          rc == LV_E_HIERARCHY_LEVEL_LIMIT);
    if (rc == LV_OK)
        CHECK(lv <= LV_MAX_LEVELS);
    lv_buf_free(&out);
    lv_buf_free(&again);
    lv_buf_free(&arn);
}

static void path(const char *in, size_t len)
{
    lv_buf out = LV_BUF_INIT, again = LV_BUF_INIT;
    lv_error err;
    lv_err rc = lv_path_canonical(in, len, &out, &err);
    if (rc == LV_OK) {
        CHECK(out.len >= 1 && out.data[0] == '/' && out.data[out.len - 1] == '/');
        CHECK(strlen(out.data) == out.len);
        CHECK(strstr(out.data, "//") == NULL || out.len == 1);
        CHECK(lv_path_canonical(out.data, out.len, &again, &err) == LV_OK);
        CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
    } else {
        CHECK(rc == LV_E_VALIDATION);
    }
    lv_buf_free(&out);
    lv_buf_free(&again);
}

static void selector(const char *in, size_t len)
{
    /* As the front-end does it: a writable, NUL-terminated copy. */
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return;
    memcpy(buf, in, len);
    buf[len] = '\0';
    size_t name_len = (size_t)-1;
    lv_selector sel;
    lv_error err;
    lv_err rc = lv_selector_split(buf, len, &name_len, &sel, &err);
    if (rc == LV_OK) {
        CHECK(name_len <= len);
        if (sel.has_selector) {
            CHECK(name_len < len && buf[name_len] == '\0');
            if (sel.is_version)
                CHECK(sel.version != 0);
            else
                CHECK(sel.label != NULL && lv_label_valid(sel.label) &&
                      sel.label == buf + name_len + 1);
        } else {
            CHECK(name_len == len);
        }
        name(buf, name_len);
    } else {
        CHECK(rc == LV_E_VALIDATION);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *in = calloc(size ? size : 1, 1);
    if (in == NULL)
        return 0;
    if (size)
        memcpy(in, data, size);
    name(in, size);
    path(in, size);
    selector(in, size);
    char *z = malloc(size + 1);
    if (z != NULL) {
        if (size)
            memcpy(z, data, size);
        z[size] = '\0';
        bool ok = lv_label_valid(z);
        if (ok) {
            size_t n = strlen(z);
            CHECK(n >= 1 && n <= 100 && !(z[0] >= '0' && z[0] <= '9'));
        }
        (void)lv_name_levels(z);
        free(z);
    }
    free(in);
    return 0;
}
