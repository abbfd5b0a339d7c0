/* fuzz_jreq.c - reading a JSON 1.1 request body with every field reader,
 * as the SSM front-end does, on arbitrary input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jreq.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "fuzz_jreq: check failed: %s (line %d)\n", #c,      \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

static const char *const types[] = {"String", "StringList", "SecureString", NULL};
static const char *const tiers[] = {"Standard", "Advanced", "Intelligent-Tiering", NULL};

static void strings(jreq *r, json_t *arr, const char *path, size_t min, size_t max)
{
    for (size_t i = 0; arr != NULL && i < json_array_size(arr); i++) {
        const char *s = jreq_elem_str(r, arr, i, path, min, max);
        if (s != NULL) {
            size_t n = strlen(s);
            CHECK(n >= min && (max == 0 || n <= max));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *body = calloc(size ? size : 1, 1);
    if (body == NULL)
        return 0;
    if (size)
        memcpy(body, data, size);
    jreq r;
    lv_error err;
    lv_err rc = jreq_parse(&r, body, size, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_SERIALIZATION || rc == LV_E_NOMEM);
        jreq_free(&r);
        free(body);
        return 0;
    }
    CHECK(json_is_object(r.root));
    size_t len = 0;
    const char *name = jreq_str(&r, NULL, "Name", true, 1, 2048, &len);
    if (name != NULL)
        CHECK(len == json_string_length(json_object_get(r.root, "Name")));
    (void)jreq_str(&r, NULL, "Value", false, 1, 0, NULL);
    (void)jreq_str(&r, NULL, "Path", false, 1, 2048, NULL);
    (void)jreq_str(&r, NULL, "NextToken", false, 0, 0, NULL);
    const char *t = jreq_enum(&r, NULL, "Type", false, types);
    if (t != NULL)
        CHECK(strcmp(t, "String") == 0 || strcmp(t, "StringList") == 0 ||
              strcmp(t, "SecureString") == 0);
    (void)jreq_enum(&r, NULL, "Tier", false, tiers);
    bool b = false;
    (void)jreq_bool(&r, NULL, "Overwrite", &b);
    (void)jreq_bool(&r, NULL, "WithDecryption", &b);
    (void)jreq_bool(&r, NULL, "Recursive", &b);
    int64_t mr = 0;
    if (jreq_int(&r, NULL, "MaxResults", false, 1, 50, &mr))
        CHECK(mr >= 1 && mr <= 50);
    (void)jreq_int(&r, NULL, "ParameterVersion", false, 1, INT64_MAX, &mr);
    json_t *names = jreq_array(&r, NULL, "Names", false, 1, 10);
    strings(&r, names, "names", 1, 2048);
    json_t *labels = jreq_array(&r, NULL, "Labels", false, 1, 10);
    strings(&r, labels, "labels", 1, 100);
    json_t *keys = jreq_array(&r, NULL, "TagKeys", false, 0, 0);
    strings(&r, keys, "tagKeys", 1, 128);
    json_t *tags = jreq_array(&r, NULL, "Tags", false, 0, 1000);
    for (size_t i = 0; tags != NULL && i < json_array_size(tags); i++) {
        json_t *tag = json_array_get(tags, i);
        (void)jreq_str(&r, tag, "Key", true, 1, 128, NULL);
        (void)jreq_str(&r, tag, "Value", true, 0, 256, NULL);
    }
    json_t *filters = jreq_array(&r, NULL, "ParameterFilters", false, 0, 0);
    for (size_t i = 0; filters != NULL && i < json_array_size(filters); i++) {
        json_t *f = json_array_get(filters, i);
        (void)jreq_str(&r, f, "Key", true, 1, 132, NULL);
        (void)jreq_str(&r, f, "Option", false, 1, 10, NULL);
        json_t *values = jreq_array(&r, f, "Values", false, 1, 50);
        strings(&r, values, "parameterFilters.member.values", 1, 1024);
    }
    if (name != NULL && len > 0 && name[0] == '!')
        jreq_fail(&r, name, "name", "Member must not start with '!'");
    rc = jreq_finish(&r, &err);
    CHECK(rc == LV_OK || rc == LV_E_SERIALIZATION || rc == LV_E_VALIDATION);
    if (rc != LV_OK)
        CHECK(err.code == rc && err.msg[0] != '\0');
    if (rc == LV_OK)
        CHECK(r.nverr == 0 && r.serr == LV_OK);
    jreq_free(&r);
    free(body);
    return 0;
}
