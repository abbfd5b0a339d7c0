/* fuzz_record.c - decoding of stored records from untrusted bytes: must
 * never crash, and whatever decodes must encode and decode to the same
 * thing (and encode to the same bytes again).
 *
 * Input layout: byte 0 is a key length k; bytes 1..k are a parameter key
 * ("<region>\0<name>") and the rest a record value. The whole input is also
 * tried as a version record and as a version key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "core/record.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "fuzz_record: check failed: %s (line %d)\n", #c,    \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

static bool str_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same_version(const lv_version *a, const lv_version *b)
{
    CHECK(a->version == b->version && a->type == b->type && a->tier == b->tier);
    CHECK(a->modified_ms == b->modified_ms);
    CHECK(a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0);
    CHECK(b->value[b->value_len] == '\0');
    CHECK(str_same(a->description, b->description));
    CHECK(str_same(a->allowed_pattern, b->allowed_pattern));
    CHECK(str_same(a->key_id, b->key_id));
    CHECK(str_same(a->data_type, b->data_type));
    CHECK(str_same(a->policies, b->policies));
    CHECK(str_same(a->modified_user, b->modified_user));
    CHECK(a->nlabels == b->nlabels && a->nlabels <= LV_MAX_LABELS_PER_VERSION);
    for (unsigned i = 0; i < a->nlabels; i++)
        CHECK(strcmp(a->labels[i], b->labels[i]) == 0);
    unsigned an = a->policy ? a->policy->n : 0, bn = b->policy ? b->policy->n : 0;
    CHECK(an == bn && an <= LV_MAX_POLICIES);
    for (unsigned i = 0; i < an; i++) {
        CHECK(a->policy->p[i].type == b->policy->p[i].type);
        CHECK(a->policy->p[i].timestamp_ms == b->policy->p[i].timestamp_ms);
        CHECK(a->policy->p[i].amount_ms == b->policy->p[i].amount_ms);
    }
}

static void version(const uint8_t *data, size_t size)
{
    lv_version *v = NULL;
    lv_error err;
    lv_err rc = lv_record_decode_version(data, size, &v, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_CORRUPT || rc == LV_E_NOMEM);
        return;
    }
    CHECK(v != NULL && v->refs == 1 && v->version != 0);
    lv_buf e1 = LV_BUF_INIT, e2 = LV_BUF_INIT;
    CHECK(lv_record_encode_version(v, &e1) == LV_OK);
    lv_version *v2 = NULL;
    CHECK(lv_record_decode_version(e1.data, e1.len, &v2, &err) == LV_OK);
    check_same_version(v, v2);
    CHECK(lv_record_encode_version(v2, &e2) == LV_OK);
    CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0);
    /* A private copy is the same version too. */
    lv_version *c = lv_version_copy(v);
    CHECK(c != NULL);
    check_same_version(v, c);
    lv_version_unref(c);
    lv_version_unref(v2);
    lv_version_unref(v);
    lv_buf_free(&e1);
    lv_buf_free(&e2);
}

static void param(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    lv_param *p = NULL;
    lv_error err;
    lv_err rc = lv_record_decode_param(key, klen, val, vlen, &p, &err);
    if (rc != LV_OK) {
        CHECK(rc == LV_E_CORRUPT || rc == LV_E_NOMEM);
        return;
    }
    CHECK(p != NULL && p->key_len == klen && memcmp(p->key, key, klen) == 0);
    CHECK(p->ntags <= LV_MAX_TAGS);
    for (unsigned i = 1; i < p->ntags; i++)
        CHECK(strcmp(p->tags[i - 1].key, p->tags[i].key) < 0);
    lv_buf e1 = LV_BUF_INIT, e2 = LV_BUF_INIT, k = LV_BUF_INIT;
    CHECK(lv_record_encode_param(p, &e1) == LV_OK);
    CHECK(lv_record_param_key(p, &k) == LV_OK);
    CHECK(k.len == klen + 1 && k.data[0] == 'P' && memcmp(k.data + 1, key, klen) == 0);
    lv_param *p2 = NULL;
    CHECK(lv_record_decode_param(k.data + 1, k.len - 1, e1.data, e1.len, &p2, &err) == LV_OK);
    CHECK(p2->ntags == p->ntags);
    CHECK(str_same(p->created, p2->created));
    if (p->created != NULL) /* only ever the slashed spelling of a single-level name */
        CHECK(p->created[0] == '/' && strcmp(p->created + 1, p->name) == 0 && strchr(p->name, '/') == NULL);
    for (unsigned i = 0; i < p->ntags; i++)
        CHECK(strcmp(p->tags[i].key, p2->tags[i].key) == 0 &&
              strcmp(p->tags[i].value, p2->tags[i].value) == 0);
    CHECK(lv_record_encode_param(p2, &e2) == LV_OK);
    CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0);
    /* Its version keys split back into the parameter key. */
    CHECK(lv_record_version_key(p, 0x01020304u, &k) == LV_OK);
    size_t pkl = 0;
    uint32_t ver = 0;
    CHECK(lv_record_split_version_key(k.data + 1, k.len - 1, &pkl, &ver, &err) == LV_OK);
    CHECK(pkl == klen && ver == 0x01020304u);
    lv_param_free(p2);
    lv_param_free(p);
    lv_buf_free(&e1);
    lv_buf_free(&e2);
    lv_buf_free(&k);
}

static void split(const uint8_t *data, size_t size)
{
    size_t pkl = (size_t)-1;
    uint32_t ver;
    lv_error err;
    lv_err rc = lv_record_split_version_key(data, size, &pkl, &ver, &err);
    if (rc == LV_OK)
        CHECK(pkl + 5 == size && data[pkl] == 0);
    else
        CHECK(rc == LV_E_CORRUPT);
}

/* Exactly-sized copies, so any read past the end is seen by ASan. */
static uint8_t *dup_exact(const uint8_t *d, size_t n)
{
    uint8_t *c = calloc(n ? n : 1, 1);
    if (c != NULL && n)
        memcpy(c, d, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    uint8_t *all = dup_exact(data, size);
    if (all == NULL)
        return 0;
    version(all, size);
    split(all, size);
    if (size >= 1) {
        size_t klen = data[0] < size - 1 ? data[0] : size - 1;
        uint8_t *key = dup_exact(data + 1, klen);
        uint8_t *val = dup_exact(data + 1 + klen, size - 1 - klen);
        if (key && val) {
            param(key, klen, val, size - 1 - klen);
            version(val, size - 1 - klen);
            split(key, klen);
        }
        free(key);
        free(val);
    }
    free(all);
    return 0;
}
