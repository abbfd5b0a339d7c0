/* test_token.c - NextToken encoding and its refusals (core/token.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/token.h"

static char *encode(char kind, uint32_t query, const void *pos, size_t len)
{
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_token_encode(kind, query, pos, len, &b), LV_OK);
    assert_int_equal(strlen(b.data), b.len);
    return lv_buf_steal(&b, NULL);
}

static lv_err decode(char kind, uint32_t query, const char *tok, size_t len, lv_buf *out)
{
    lv_error err = {0};
    lv_err rc = lv_token_decode(kind, query, tok, len, out, &err);
    if (rc != LV_OK) {
        assert_int_equal(rc, LV_E_INVALID_NEXT_TOKEN);
        assert_int_equal(err.code, LV_E_INVALID_NEXT_TOKEN);
        assert_true(err.msg[0] != '\0');
    }
    return rc;
}

static void test_round_trip(void **state)
{
    (void)state;
    const struct {
        const char *pos;
        size_t len;
    } cases[] = {
        {"/a/b/c", 6},
        {"", 0},
        {"us-east-1\0/with/nul", 19},
        {"\x00\x01\xff\x80", 4},
    };
    uint32_t q = lv_token_hash(0, "/path/", 6);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *tok = encode('p', q, cases[i].pos, cases[i].len);
        /* Only lowercase hex. */
        for (const char *c = tok; *c; c++)
            assert_non_null(strchr("0123456789abcdef", *c));
        lv_buf out = LV_BUF_INIT;
        assert_int_equal(decode('p', q, tok, strlen(tok), &out), LV_OK);
        assert_int_equal(out.len, cases[i].len);
        if (cases[i].len)
            assert_memory_equal(out.data, cases[i].pos, cases[i].len);
        lv_buf_free(&out);
        free(tok);
    }

    /* A long position (a full parameter key). */
    char big[1100];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    char *tok = encode('d', 0xdeadbeef, big, sizeof big);
    lv_buf out = LV_BUF_INIT;
    assert_int_equal(decode('d', 0xdeadbeef, tok, strlen(tok), &out), LV_OK);
    assert_int_equal(out.len, sizeof big);
    assert_memory_equal(out.data, big, sizeof big);
    lv_buf_free(&out);
    free(tok);
}

static void test_other_kind_or_query(void **state)
{
    (void)state;
    uint32_t q = lv_token_hash(0, "query-a", 7);
    uint32_t q2 = lv_token_hash(0, "query-b", 7);
    assert_true(q != q2);
    char *tok = encode('p', q, "/x/y", 4);
    lv_buf out = LV_BUF_INIT;
    assert_int_equal(decode('h', q, tok, strlen(tok), &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q2, tok, strlen(tok), &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q + 1, tok, strlen(tok), &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q, tok, strlen(tok), &out), LV_OK);
    lv_buf_free(&out);
    free(tok);
}

static void test_flipped_chars(void **state)
{
    (void)state;
    uint32_t q = 12345;
    char *tok = encode('p', q, "/some/name", 10);
    size_t n = strlen(tok);
    lv_buf out = LV_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *alts = "0123456789abcdef";
        for (const char *a = alts; *a; a++) {
            if (*a == tok[i])
                continue;
            char *t = strdup(tok);
            t[i] = *a;
            if (decode('p', q, t, n, &out) != LV_E_INVALID_NEXT_TOKEN)
                fail_msg("token with char %zu changed to %c accepted", i, *a);
            free(t);
        }
    }
    /* Uppercase hex is not what we hand out. */
    char *t = strdup(tok);
    for (char *c = t; *c; c++)
        if (*c >= 'a' && *c <= 'f') {
            *c = (char)(*c - 'a' + 'A');
            break;
        }
    if (strcmp(t, tok) != 0)
        assert_int_equal(decode('p', q, t, n, &out), LV_E_INVALID_NEXT_TOKEN);
    free(t);
    lv_buf_free(&out);
    free(tok);
}

static void test_malformed(void **state)
{
    (void)state;
    uint32_t q = 7;
    char *tok = encode('p', q, "/abc", 4);
    size_t n = strlen(tok);
    lv_buf out = LV_BUF_INIT;
    lv_buf_append(&out, "unchanged", 9);
    /* Odd length (one char dropped or added). */
    assert_int_equal(decode('p', q, tok, n - 1, &out), LV_E_INVALID_NEXT_TOKEN);
    char *longer = malloc(n + 2);
    memcpy(longer, tok, n);
    longer[n] = '0';
    longer[n + 1] = '\0';
    assert_int_equal(decode('p', q, longer, n + 1, &out), LV_E_INVALID_NEXT_TOKEN);
    /* Two extra chars: even, hex, but the checksum no longer fits. */
    char *longer2 = malloc(n + 3);
    memcpy(longer2, tok, n);
    memcpy(longer2 + n, "00", 3);
    assert_int_equal(decode('p', q, longer2, n + 2, &out), LV_E_INVALID_NEXT_TOKEN);
    /* Non-hex characters. */
    const char *nonhex = "gz!-+/= \n";
    for (const char *c = nonhex; *c; c++) {
        char *t = strdup(tok);
        t[n / 2] = *c;
        assert_int_equal(decode('p', q, t, n, &out), LV_E_INVALID_NEXT_TOKEN);
        free(t);
    }
    /* An embedded NUL. */
    char *t = strdup(tok);
    t[4] = '\0';
    assert_int_equal(decode('p', q, t, n, &out), LV_E_INVALID_NEXT_TOKEN);
    free(t);
    /* Too short to hold kind, query and checksum. */
    assert_int_equal(decode('p', q, "", 0, &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q, "00", 2, &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q, tok, 16, &out), LV_E_INVALID_NEXT_TOKEN);
    assert_int_equal(decode('p', q, "0000000000000000", 16, &out), LV_E_INVALID_NEXT_TOKEN);
    /* The shortest valid token (empty position) is 18 chars. */
    char *empty = encode('p', q, "", 0);
    assert_int_equal(strlen(empty), 18);
    assert_int_equal(decode('p', q, empty, 18, &out), LV_OK);
    assert_int_equal(out.len, 0);
    /* Absurdly long. */
    size_t hn = 20000;
    char *huge = malloc(hn + 1);
    memset(huge, '0', hn);
    huge[hn] = '\0';
    lv_buf_reset(&out);
    lv_buf_append(&out, "unchanged", 9);
    assert_int_equal(decode('p', q, huge, hn, &out), LV_E_INVALID_NEXT_TOKEN);
    /* A failed decode leaves out as it was. */
    assert_string_equal(out.data, "unchanged");
    free(huge);
    free(empty);
    free(longer);
    free(longer2);
    lv_buf_free(&out);
    free(tok);
}

static void test_hash(void **state)
{
    (void)state;
    /* FNV-1a 32 reference values. */
    assert_int_equal(lv_token_hash(0, "", 0), 2166136261u);
    assert_int_equal(lv_token_hash(0, "a", 1), 0xe40c292cu);
    assert_int_equal(lv_token_hash(0, "foobar", 6), 0xbf9cf968u);
    /* Incremental equals one-shot. */
    assert_int_equal(lv_token_hash(lv_token_hash(0, "foo", 3), "bar", 3),
                     lv_token_hash(0, "foobar", 6));
    assert_true(lv_token_hash(0, "/a", 2) != lv_token_hash(0, "/b", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_other_kind_or_query),
        cmocka_unit_test(test_flipped_chars),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
