/* test_record.c - stored record keys, encoding and untrusting decoding
 * (core/record.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/param.h"
#include "core/record.h"

/* The wire format, as documented in record.c (white-box on purpose: these
 * numbers are what files on disk contain). */
enum { FMT_PARAM = 0x50, FMT_VERSION = 0x56 };
enum {
    F_VERSION = 1, F_TYPE, F_TIER, F_MODIFIED, F_VALUE, F_DESCRIPTION,
    F_PATTERN, F_KEY_ID, F_DATA_TYPE, F_POLICIES, F_USER, F_LABEL, F_POLICY,
};
enum { F_TAG_KEY = 1, F_TAG_VALUE = 2 };

static const char bin_value[] = "bin\0ary\0\xff\x01 value\0";
#define BIN_LEN (sizeof bin_value - 1)

static lv_version *full_version(void)
{
    lv_version *v = lv_version_new();
    assert_non_null(v);
    v->version = 4000000000u;
    v->type = LV_TYPE_SECURE_STRING;
    v->tier = LV_TIER_ADVANCED;
    v->modified_ms = 1700000000123LL;
    v->value = malloc(BIN_LEN + 1);
    assert_non_null(v->value);
    memcpy(v->value, bin_value, BIN_LEN + 1);
    v->value_len = BIN_LEN;
    v->description = strdup("a description \xc3\xa9");
    v->allowed_pattern = strdup("^[a-z\\d]+$");
    v->key_id = strdup("alias/aws/ssm");
    v->data_type = lv_data_type_intern("aws:ec2:image");
    v->policies = strdup("[{\"Type\":\"Expiration\",\"Version\":\"1.0\"}]");
    v->modified_user = strdup("arn:aws:iam::000000000000:root");
    for (unsigned i = 0; i < LV_MAX_LABELS_PER_VERSION; i++) {
        char l[16];
        snprintf(l, sizeof l, "label%u", i);
        assert_int_equal(lv_version_add_label(v, l), LV_OK);
    }
    v->policy = calloc(1, sizeof *v->policy);
    assert_non_null(v->policy);
    v->policy->n = 3;
    v->policy->p[0].type = LV_POLICY_EXPIRATION;
    v->policy->p[0].timestamp_ms = 1800000000000LL;
    v->policy->p[1].type = LV_POLICY_EXPIRATION_NOTIFICATION;
    v->policy->p[1].amount_ms = 86400000LL * 3;
    v->policy->p[2].type = LV_POLICY_NO_CHANGE_NOTIFICATION;
    v->policy->p[2].amount_ms = 3600000LL;
    v->policy->p[2].timestamp_ms = INT64_MAX;
    return v;
}

static void str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void check_same_version(const lv_version *a, const lv_version *b)
{
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->tier, b->tier);
    assert_int_equal(a->modified_ms, b->modified_ms);
    assert_int_equal(a->value_len, b->value_len);
    assert_memory_equal(a->value, b->value, a->value_len);
    assert_int_equal(b->value[b->value_len], '\0');
    str_eq(a->description, b->description);
    str_eq(a->allowed_pattern, b->allowed_pattern);
    str_eq(a->key_id, b->key_id);
    str_eq(a->data_type, b->data_type);
    str_eq(a->policies, b->policies);
    str_eq(a->modified_user, b->modified_user);
    assert_int_equal(a->nlabels, b->nlabels);
    for (unsigned i = 0; i < a->nlabels; i++)
        assert_string_equal(a->labels[i], b->labels[i]);
    unsigned an = a->policy ? a->policy->n : 0, bn = b->policy ? b->policy->n : 0;
    assert_int_equal(an, bn);
    for (unsigned i = 0; i < an; i++) {
        assert_int_equal(a->policy->p[i].type, b->policy->p[i].type);
        assert_int_equal(a->policy->p[i].timestamp_ms, b->policy->p[i].timestamp_ms);
        assert_int_equal(a->policy->p[i].amount_ms, b->policy->p[i].amount_ms);
    }
}

static lv_err decode_v(const void *d, size_t n, lv_version **out)
{
    lv_error err = {0};
    *out = NULL;
    lv_err rc = lv_record_decode_version(d, n, out, &err);
    if (rc == LV_OK) {
        assert_non_null(*out);
        assert_int_equal((*out)->refs, 1);
    } else {
        assert_int_equal(err.code, rc);
    }
    return rc;
}

static void test_version_round_trip(void **state)
{
    (void)state;
    lv_version *v = full_version();
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_version(v, &b), LV_OK);
    assert_int_equal((unsigned char)b.data[0], FMT_VERSION);
    lv_version *d;
    assert_int_equal(decode_v(b.data, b.len, &d), LV_OK);
    check_same_version(v, d);
    /* Encoding is deterministic. */
    lv_buf b2 = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_version(d, &b2), LV_OK);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    lv_version_unref(d);
    lv_version_unref(v);
    lv_buf_free(&b);
    lv_buf_free(&b2);
}

static void test_version_round_trip_minimal(void **state)
{
    (void)state;
    lv_version *v = lv_version_new();
    v->version = 1;
    v->value = strdup("");
    v->value_len = 0;
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_version(v, &b), LV_OK);
    lv_version *d;
    assert_int_equal(decode_v(b.data, b.len, &d), LV_OK);
    check_same_version(v, d);
    assert_null(d->description);
    assert_null(d->key_id);
    assert_null(d->policy);
    assert_int_equal(d->nlabels, 0);
    lv_version_unref(d);

    /* Empty strings are kept apart from absent ones. */
    v->description = strdup("");
    v->modified_ms = INT64_MAX;
    v->version = UINT32_MAX;
    assert_int_equal(lv_record_encode_version(v, &b), LV_OK);
    assert_int_equal(decode_v(b.data, b.len, &d), LV_OK);
    check_same_version(v, d);
    assert_non_null(d->description);
    lv_version_unref(d);
    lv_version_unref(v);
    lv_buf_free(&b);
}

static lv_param *tagged_param(void)
{
    lv_param *p = lv_param_new("us-east-1", "/a/b");
    assert_non_null(p);
    assert_int_equal(lv_param_set_tag(p, "env", "prod"), LV_OK);
    assert_int_equal(lv_param_set_tag(p, "Owner", "team @ x"), LV_OK);
    assert_int_equal(lv_param_set_tag(p, "empty", ""), LV_OK);
    assert_int_equal(lv_param_set_tag(p, "unicod\xc3\xa9", "\xe2\x82\xac"), LV_OK);
    return p;
}

static void check_same_param(const lv_param *a, const lv_param *b)
{
    assert_int_equal(a->key_len, b->key_len);
    assert_memory_equal(a->key, b->key, a->key_len);
    assert_string_equal(a->region, b->region);
    assert_string_equal(a->name, b->name);
    assert_string_equal(lv_param_shown(a), lv_param_shown(b));
    assert_int_equal(a->ntags, b->ntags);
    for (unsigned i = 0; i < a->ntags; i++) {
        assert_string_equal(a->tags[i].key, b->tags[i].key);
        assert_string_equal(a->tags[i].value, b->tags[i].value);
    }
}

static lv_err decode_p(const void *key, size_t klen, const void *val, size_t vlen, lv_param **out)
{
    lv_error err = {0};
    *out = NULL;
    lv_err rc = lv_record_decode_param(key, klen, val, vlen, out, &err);
    if (rc == LV_OK)
        assert_non_null(*out);
    else
        assert_int_equal(err.code, rc);
    return rc;
}

static void test_param_round_trip(void **state)
{
    (void)state;
    lv_param *p = tagged_param();
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    assert_int_equal(lv_record_param_key(p, &k), LV_OK);
    assert_int_equal(k.len, 1 + p->key_len);
    assert_int_equal(k.data[0], 'P');
    assert_memory_equal(k.data + 1, "us-east-1\0/a/b", p->key_len);
    assert_int_equal(lv_record_encode_param(p, &v), LV_OK);
    lv_param *d;
    assert_int_equal(decode_p(k.data + 1, k.len - 1, v.data, v.len, &d), LV_OK);
    check_same_param(p, d);
    assert_int_equal(d->nversions, 0);
    lv_param_free(d);
    lv_param_free(p);

    /* No tags at all. */
    p = lv_param_new("eu-west-1", "plain");
    assert_int_equal(lv_record_param_key(p, &k), LV_OK);
    assert_int_equal(lv_record_encode_param(p, &v), LV_OK);
    assert_int_equal(v.len, 1);
    assert_int_equal(decode_p(k.data + 1, k.len - 1, v.data, v.len, &d), LV_OK);
    check_same_param(p, d);
    lv_param_free(d);
    lv_param_free(p);
    lv_buf_free(&k);
    lv_buf_free(&v);
}

/* The spelling a single-level name was created with ("/x" for x) is kept;
 * a record written before that field existed loads as created as "x". */
static void test_param_created_spelling(void **state)
{
    (void)state;
    lv_param *p = lv_param_new("us-east-1", "test");
    assert_non_null(p);
    assert_string_equal(lv_param_shown(p), "test");
    assert_int_equal(lv_param_set_created(p, "/test"), LV_OK);
    assert_string_equal(lv_param_shown(p), "/test");
    assert_string_equal(p->name, "test");
    assert_int_equal(lv_param_set_tag(p, "k", "v"), LV_OK);
    lv_buf k = LV_BUF_INIT, v = LV_BUF_INIT;
    assert_int_equal(lv_record_param_key(p, &k), LV_OK);
    assert_memory_equal(k.data + 1, "us-east-1\0test", k.len - 1); /* the key is the canonical name */
    assert_int_equal(lv_record_encode_param(p, &v), LV_OK);
    lv_param *d;
    assert_int_equal(decode_p(k.data + 1, k.len - 1, v.data, v.len, &d), LV_OK);
    check_same_param(p, d);
    assert_string_equal(lv_param_shown(d), "/test");
    /* clones keep it */
    lv_param *c = lv_param_clone(d);
    assert_non_null(c);
    assert_string_equal(lv_param_shown(c), "/test");
    lv_param_free(c);
    lv_param_free(d);
    /* an old record: tags only, no spelling field */
    static const unsigned char old[] = {0x50, 1, 1, 'k', 2, 1, 'v'};
    assert_int_equal(decode_p(k.data + 1, k.len - 1, old, sizeof old, &d), LV_OK);
    assert_string_equal(lv_param_shown(d), "test");
    assert_int_equal(d->ntags, 1);
    lv_param_free(d);
    /* a spelling that is not the name's slashed form is corrupt */
    static const unsigned char bad[] = {0x50, 3, 5, '/', 't', 'e', 's', 'x'};
    assert_int_equal(decode_p(k.data + 1, k.len - 1, bad, sizeof bad, &d), LV_E_CORRUPT);
    static const unsigned char same[] = {0x50, 3, 4, 't', 'e', 's', 't'};
    assert_int_equal(decode_p(k.data + 1, k.len - 1, same, sizeof same, &d), LV_OK);
    assert_null(d->created);
    lv_param_free(d);
    /* only single-level names have a second spelling */
    assert_int_equal(lv_param_set_created(p, "test"), LV_OK);
    assert_null(p->created);
    lv_param *h = lv_param_new("us-east-1", "/a/b");
    assert_int_equal(lv_param_set_created(h, "a/b"), LV_E_VALIDATION);
    assert_int_equal(lv_param_set_created(h, "//a/b"), LV_E_VALIDATION);
    assert_null(h->created);
    lv_param_free(h);
    lv_param_free(p);
    lv_buf_free(&k);
    lv_buf_free(&v);
}

static void test_param_key_refused(void **state)
{
    (void)state;
    const char val[] = {FMT_PARAM};
    lv_param *d;
    assert_int_equal(decode_p("us-east-1/a", 11, val, 1, &d), LV_E_CORRUPT);  /* no NUL */
    assert_int_equal(decode_p("\0/a", 3, val, 1, &d), LV_E_CORRUPT);          /* no region */
    assert_int_equal(decode_p("r\0", 2, val, 1, &d), LV_E_CORRUPT);           /* no name */
    assert_int_equal(decode_p("r\0/a\0b", 6, val, 1, &d), LV_E_CORRUPT);      /* two NULs */
    assert_int_equal(decode_p("", 0, val, 1, &d), LV_E_CORRUPT);
    assert_int_equal(decode_p("r\0n", 3, "", 0, &d), LV_E_CORRUPT);           /* no format */
    assert_int_equal(decode_p("r\0n", 3, "V", 1, &d), LV_E_CORRUPT);          /* wrong format */
    assert_int_equal(decode_p("r\0n", 3, val, 1, &d), LV_OK);
    assert_string_equal(d->region, "r");
    assert_string_equal(d->name, "n");
    lv_param_free(d);
}

static void test_param_corrupt_fields(void **state)
{
    (void)state;
    lv_param *d;
    /* A value without a key. */
    const char v1[] = {FMT_PARAM, F_TAG_VALUE, 1, 'x'};
    assert_int_equal(decode_p("r\0n", 3, v1, sizeof v1, &d), LV_E_CORRUPT);
    /* A key with a NUL inside. */
    const char v2[] = {FMT_PARAM, F_TAG_KEY, 3, 'a', 0, 'b', F_TAG_VALUE, 1, 'x'};
    assert_int_equal(decode_p("r\0n", 3, v2, sizeof v2, &d), LV_E_CORRUPT);
    /* A length past the end. */
    const char v3[] = {FMT_PARAM, F_TAG_KEY, 9, 'a'};
    assert_int_equal(decode_p("r\0n", 3, v3, sizeof v3, &d), LV_E_CORRUPT);
    /* A varint that never ends. */
    const unsigned char v4[] = {FMT_PARAM, F_TAG_KEY, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                0x80,      0x80,      0x80, 0x80, 0x80, 0x01};
    assert_int_equal(decode_p("r\0n", 3, v4, sizeof v4, &d), LV_E_CORRUPT);
    /* Unknown fields are skipped. */
    const char v5[] = {FMT_PARAM, 0x33, 2, 'z', 'z', F_TAG_KEY, 1, 'k', 0x7f, 0,
                       F_TAG_VALUE, 2, 'v', 'w', (char)0xee, 1, 0};
    assert_int_equal(decode_p("r\0n", 3, v5, sizeof v5, &d), LV_OK);
    assert_int_equal(d->ntags, 1);
    assert_string_equal(d->tags[0].key, "k");
    assert_string_equal(d->tags[0].value, "vw");
    lv_param_free(d);
    /* More than 50 tags is not something lever writes. */
    lv_buf b = LV_BUF_INIT;
    lv_buf_putc(&b, FMT_PARAM);
    for (unsigned i = 0; i <= LV_MAX_TAGS; i++) {
        char k[8];
        int n = snprintf(k, sizeof k, "k%u", i);
        lv_buf_putc(&b, F_TAG_KEY);
        lv_buf_putc(&b, (char)n);
        lv_buf_append(&b, k, (size_t)n);
        lv_buf_putc(&b, F_TAG_VALUE);
        lv_buf_putc(&b, 0);
    }
    assert_int_equal(decode_p("r\0n", 3, b.data, b.len, &d), LV_E_CORRUPT);
    lv_buf_free(&b);
}

static void test_version_keys(void **state)
{
    (void)state;
    lv_param *p = lv_param_new("us-east-1", "/a/b");
    lv_buf k = LV_BUF_INIT;
    uint32_t versions[] = {1, 2, 255, 256, 65536, 16777216, UINT32_MAX};
    lv_buf prev = LV_BUF_INIT;
    lv_buf pk = LV_BUF_INIT;
    assert_int_equal(lv_record_param_key(p, &pk), LV_OK);
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        assert_int_equal(lv_record_version_key(p, versions[i], &k), LV_OK);
        assert_int_equal(k.data[0], 'V');
        assert_int_equal(k.len, 1 + p->key_len + 5);
        assert_memory_equal(k.data + 1, p->key, p->key_len);
        size_t pkl = 0;
        uint32_t ver = 0;
        lv_error err = {0};
        assert_int_equal(lv_record_split_version_key(k.data + 1, k.len - 1, &pkl, &ver, &err), LV_OK);
        assert_int_equal(pkl, p->key_len);
        assert_int_equal(ver, versions[i]);
        /* Bytewise key order is version order, and "P" sorts first. */
        assert_true(memcmp(pk.data, k.data, 1) < 0);
        if (i > 0) {
            assert_int_equal(prev.len, k.len);
            assert_true(memcmp(prev.data, k.data, k.len) < 0);
        }
        lv_buf_reset(&prev);
        lv_buf_append(&prev, k.data, k.len);
    }
    lv_error err = {0};
    size_t pkl;
    uint32_t ver;
    assert_int_equal(lv_record_split_version_key("r\0n\0\0\0\0", 7, &pkl, &ver, &err), LV_E_CORRUPT);
    assert_int_equal(lv_record_split_version_key("r\0nn\x01\0\0\0\x01", 9, &pkl, &ver, &err),
                     LV_E_CORRUPT);
    assert_int_equal(lv_record_split_version_key("", 0, &pkl, &ver, &err), LV_E_CORRUPT);
    assert_int_equal(err.code, LV_E_CORRUPT);
    assert_int_equal(lv_record_split_version_key("r\0n\0\0\0\x01\x02", 8, &pkl, &ver, &err), LV_OK);
    assert_int_equal(pkl, 3);
    assert_int_equal(ver, 258);
    lv_buf_free(&k);
    lv_buf_free(&prev);
    lv_buf_free(&pk);
    lv_param_free(p);
}

static void test_version_truncated(void **state)
{
    (void)state;
    lv_version *v = full_version();
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_version(v, &b), LV_OK);
    unsigned corrupt = 0, ok = 0;
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past it. */
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, b.data, n);
        lv_version *d;
        lv_err rc = decode_v(c, n, &d);
        if (rc == LV_OK) {
            ok++;
            /* What decodes is a prefix of the fields. */
            assert_int_equal(d->version, v->version);
            lv_version_unref(d);
        } else {
            assert_int_equal(rc, LV_E_CORRUPT);
            corrupt++;
        }
        free(c);
    }
    assert_true(corrupt > b.len / 2);
    /* Without the version and the value nothing decodes. */
    lv_version *d;
    assert_int_equal(decode_v(b.data, 1, &d), LV_E_CORRUPT);
    assert_int_equal(decode_v(b.data, 0, &d), LV_E_CORRUPT);
    (void)ok;
    lv_version_unref(v);
    lv_buf_free(&b);
}

static void test_param_truncated(void **state)
{
    (void)state;
    lv_param *p = tagged_param();
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_param(p, &b), LV_OK);
    for (size_t n = 0; n < b.len; n++) {
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, b.data, n);
        lv_param *d;
        lv_err rc = decode_p(p->key, p->key_len, c, n, &d);
        if (rc == LV_OK) {
            assert_true(d->ntags <= p->ntags);
            lv_param_free(d);
        } else {
            assert_int_equal(rc, LV_E_CORRUPT);
        }
        free(c);
    }
    lv_param_free(p);
    lv_buf_free(&b);
}

static void test_flipped_bytes(void **state)
{
    (void)state;
    lv_version *v = full_version();
    lv_param *p = tagged_param();
    lv_buf b = LV_BUF_INIT, pb = LV_BUF_INIT;
    assert_int_equal(lv_record_encode_version(v, &b), LV_OK);
    assert_int_equal(lv_record_encode_param(p, &pb), LV_OK);
    const unsigned char masks[] = {0x01, 0x02, 0x10, 0x40, 0x7f, 0x80, 0xff};
    unsigned corrupt = 0;
    for (size_t i = 0; i < b.len; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            unsigned char *c = malloc(b.len);
            memcpy(c, b.data, b.len);
            c[i] ^= masks[m];
            lv_version *d;
            lv_err rc = decode_v(c, b.len, &d);
            if (rc == LV_OK) {
                /* Whatever decodes encodes again and decodes the same. */
                lv_buf e = LV_BUF_INIT;
                assert_int_equal(lv_record_encode_version(d, &e), LV_OK);
                lv_version *d2;
                assert_int_equal(decode_v(e.data, e.len, &d2), LV_OK);
                check_same_version(d, d2);
                lv_version_unref(d2);
                lv_version_unref(d);
                lv_buf_free(&e);
            } else {
                assert_int_equal(rc, LV_E_CORRUPT);
                corrupt++;
            }
            free(c);
        }
    assert_true(corrupt > 0);
    for (size_t i = 0; i < pb.len; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            unsigned char *c = malloc(pb.len);
            memcpy(c, pb.data, pb.len);
            c[i] ^= masks[m];
            lv_param *d;
            lv_err rc = decode_p(p->key, p->key_len, c, pb.len, &d);
            if (rc == LV_OK)
                lv_param_free(d);
            else
                assert_int_equal(rc, LV_E_CORRUPT);
            free(c);
        }
    lv_version_unref(v);
    lv_param_free(p);
    lv_buf_free(&b);
    lv_buf_free(&pb);
}

/* A version record built by hand: header + the given field bytes. */
static lv_err decode_fields(const unsigned char *f, size_t n, lv_version **out)
{
    unsigned char buf[256];
    static const unsigned char head[] = {FMT_VERSION, F_VERSION, 1, 7, F_VALUE, 2, 'o', 'k'};
    memcpy(buf, head, sizeof head);
    if (n)
        memcpy(buf + sizeof head, f, n);
    return decode_v(buf, sizeof head + n, out);
}

static void test_version_fields(void **state)
{
    (void)state;
    lv_version *d;
    assert_int_equal(decode_fields(NULL, 0, &d), LV_OK);
    assert_int_equal(d->version, 7);
    assert_int_equal(d->value_len, 2);
    lv_version_unref(d);

    /* Unknown tags are skipped, wherever they are. */
    const unsigned char unk[] = {0x20, 3, 'a', 'b', 'c', F_DESCRIPTION, 1, 'd', 0xff, 0,
                                 0x0e, 1, 0x00};
    assert_int_equal(decode_fields(unk, sizeof unk, &d), LV_OK);
    assert_string_equal(d->description, "d");
    lv_version_unref(d);

    struct {
        const char *what;
        unsigned char f[24];
        size_t n;
    } bad[] = {
        {"version 0", {F_VERSION, 1, 0}, 3},
        {"version > 2^32-1", {F_VERSION, 5, 0x80, 0x80, 0x80, 0x80, 0x10}, 7},
        {"version with junk", {F_VERSION, 2, 1, 1}, 4},
        {"empty int", {F_VERSION, 0}, 2},
        {"type 3", {F_TYPE, 1, 3}, 3},
        {"tier 2 (Intelligent is never stored)", {F_TIER, 1, 2}, 3},
        {"modified > INT64_MAX", {F_MODIFIED, 10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12},
        {"NUL in text", {F_DESCRIPTION, 3, 'a', 0, 'b'}, 5},
        {"NUL in label", {F_LABEL, 2, 'a', 0}, 4},
        {"policy type 3", {F_POLICY, 3, 3, 0, 0}, 5},
        {"policy short", {F_POLICY, 2, 0, 0}, 4},
        {"policy long", {F_POLICY, 4, 0, 0, 0, 0}, 6},
        {"length past end", {F_DESCRIPTION, 20, 'a'}, 3},
        {"tag without length", {F_DESCRIPTION}, 1},
        {"unterminated varint length", {F_DESCRIPTION, 0x80}, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lv_err rc = decode_fields(bad[i].f, bad[i].n, &d);
        if (rc != LV_E_CORRUPT) {
            if (rc == LV_OK)
                lv_version_unref(d);
            fail_msg("%s: expected CORRUPT, got %s", bad[i].what, lv_err_name(rc));
        }
    }

    /* 11 labels and 11 policies are refused. */
    unsigned char many[128];
    size_t n = 0;
    for (unsigned i = 0; i <= LV_MAX_LABELS_PER_VERSION; i++) {
        many[n++] = F_LABEL;
        many[n++] = 2;
        many[n++] = 'l';
        many[n++] = (unsigned char)('a' + i);
    }
    assert_int_equal(decode_fields(many, n, &d), LV_E_CORRUPT);
    assert_int_equal(decode_fields(many, n - 4, &d), LV_OK);
    assert_int_equal(d->nlabels, LV_MAX_LABELS_PER_VERSION);
    lv_version_unref(d);
    n = 0;
    for (unsigned i = 0; i <= LV_MAX_POLICIES; i++) {
        many[n++] = F_POLICY;
        many[n++] = 3;
        many[n++] = 2;
        many[n++] = 0;
        many[n++] = 5;
    }
    assert_int_equal(decode_fields(many, n, &d), LV_E_CORRUPT);
    assert_int_equal(decode_fields(many, n - 5, &d), LV_OK);
    assert_int_equal(d->policy->n, LV_MAX_POLICIES);
    assert_int_equal(d->policy->p[9].amount_ms, 5);
    lv_version_unref(d);

    /* No value, or no version number: refused. */
    const unsigned char novalue[] = {FMT_VERSION, F_VERSION, 1, 7};
    assert_int_equal(decode_v(novalue, sizeof novalue, &d), LV_E_CORRUPT);
    const unsigned char nonumber[] = {FMT_VERSION, F_VALUE, 1, 'x'};
    assert_int_equal(decode_v(nonumber, sizeof nonumber, &d), LV_E_CORRUPT);
    const unsigned char wrongfmt[] = {FMT_PARAM, F_VERSION, 1, 7, F_VALUE, 1, 'x'};
    assert_int_equal(decode_v(wrongfmt, sizeof wrongfmt, &d), LV_E_CORRUPT);
    /* Repeated fields: the last one counts, without leaking the first. */
    const unsigned char twice[] = {F_VALUE, 3, 'n', 'e', 'w', F_USER, 1, 'a', F_USER, 1, 'b'};
    assert_int_equal(decode_fields(twice, sizeof twice, &d), LV_OK);
    assert_int_equal(d->value_len, 3);
    assert_memory_equal(d->value, "new", 4);
    assert_string_equal(d->modified_user, "b");
    lv_version_unref(d);
}

static void test_u64(void **state)
{
    (void)state;
    unsigned char b[8];
    lv_record_put_u64(b, 0x0102030405060708ULL);
    assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(lv_record_get_u64(b) == 0x0102030405060708ULL);
    lv_record_put_u64(b, UINT64_MAX);
    assert_true(lv_record_get_u64(b) == UINT64_MAX);
    lv_record_put_u64(b, 0);
    assert_true(lv_record_get_u64(b) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_round_trip),
        cmocka_unit_test(test_version_round_trip_minimal),
        cmocka_unit_test(test_param_round_trip),
        cmocka_unit_test(test_param_created_spelling),
        cmocka_unit_test(test_param_key_refused),
        cmocka_unit_test(test_param_corrupt_fields),
        cmocka_unit_test(test_version_keys),
        cmocka_unit_test(test_version_truncated),
        cmocka_unit_test(test_param_truncated),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_version_fields),
        cmocka_unit_test(test_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
