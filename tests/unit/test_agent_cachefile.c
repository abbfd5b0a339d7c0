/* test_agent_cachefile.c - lever-agent's disk cache format: round trip,
 * SecureStrings sealed (no plaintext on disk), every flipped byte and
 * every truncation detected, the wrong key refused, well-checksummed but
 * malformed bodies refused, and the atomic write / read / quarantine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/cachefile.h"

static const unsigned char KEY[LV_MASTER_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

#define P_A "{\"Name\":\"/app/a\",\"Type\":\"String\",\"Value\":\"plain-value\",\"Version\":3}"
#define P_S "{\"Name\":\"/app/s\",\"Type\":\"SecureString\",\"Value\":\"top-secret-value\",\"Version\":1}"
#define P_O "{\"Name\":\"/other\",\"Type\":\"String\",\"Value\":\"o\",\"Version\":7,\"Selector\":\":7\"}"

static void sample(lva_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->saved_ms = 1700000000123;
    assert_int_equal(lva_snapshot_add_prefix(s, "/app", 42, 1700000000000), 0);
    assert_int_equal(lva_snapshot_add_entry(s, "/app/a", "/app/a", P_A, strlen(P_A), false, true, 3, 1699999999000), 0);
    assert_int_equal(lva_snapshot_add_entry(s, "/app/s", "/app/s", P_S, strlen(P_S), true, true, 1, 1699999999001), 0);
    assert_int_equal(lva_snapshot_add_entry(s, "/other:7\nd", "/other", P_O, strlen(P_O), false, false, 7, 5), 0);
}

static void encode(lv_buf *out)
{
    lva_snapshot s;
    sample(&s);
    char err[256];
    assert_int_equal(lva_cachefile_encode(&s, KEY, out, err, sizeof err), 0);
    lva_snapshot_free(&s);
}

static void test_round_trip(void **state)
{
    (void)state;
    lv_buf b = LV_BUF_INIT;
    encode(&b);
    /* the SecureString's plaintext never reaches the file; the String's does */
    assert_null(memmem(b.data, b.len, "top-secret-value", 16));
    assert_non_null(memmem(b.data, b.len, "plain-value", 11));

    lva_snapshot d;
    char err[256];
    assert_int_equal(lva_cachefile_decode(b.data, b.len, KEY, &d, err, sizeof err), 0);
    assert_int_equal(d.saved_ms, 1700000000123);
    assert_int_equal(d.nprefixes, 1);
    assert_string_equal(d.prefixes[0].path, "/app");
    assert_int_equal(d.prefixes[0].revision, 42);
    assert_int_equal(d.prefixes[0].confirmed_ms, 1700000000000);
    assert_int_equal(d.nentries, 3);
    assert_string_equal(d.entries[0].key, "/app/a");
    assert_string_equal(d.entries[0].json, P_A);
    assert_true(d.entries[0].prefetched);
    assert_false(d.entries[0].secure);
    assert_int_equal(d.entries[0].version, 3);
    assert_int_equal(d.entries[0].confirmed_ms, 1699999999000);
    assert_string_equal(d.entries[1].json, P_S);
    assert_true(d.entries[1].secure);
    assert_string_equal(d.entries[2].key, "/other:7\nd");
    assert_string_equal(d.entries[2].name, "/other");
    assert_false(d.entries[2].prefetched);
    assert_int_equal(d.entries[2].json_len, strlen(P_O));
    lva_snapshot_free(&d);

    /* an empty snapshot round-trips too */
    lva_snapshot e = {0};
    lv_buf_reset(&b);
    assert_int_equal(lva_cachefile_encode(&e, KEY, &b, err, sizeof err), 0);
    assert_int_equal(lva_cachefile_decode(b.data, b.len, KEY, &d, err, sizeof err), 0);
    assert_int_equal(d.nentries, 0);
    lva_snapshot_free(&d);
    lv_buf_free(&b);
}

static void test_every_flip_and_truncation_detected(void **state)
{
    (void)state;
    lv_buf b = LV_BUF_INIT;
    encode(&b);
    char *copy = malloc(b.len);
    assert_non_null(copy);
    char err[256];
    lva_snapshot d;
    for (size_t i = 0; i < b.len; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= 0x01;
        if (lva_cachefile_decode(copy, b.len, KEY, &d, err, sizeof err) != -1)
            fail_msg("flipping byte %zu went unnoticed", i);
        assert_int_equal(d.nentries, 0);
        assert_null(d.entries);
    }
    for (size_t n = 0; n < b.len; n++)
        if (lva_cachefile_decode(b.data, n, KEY, &d, err, sizeof err) != -1)
            fail_msg("truncation to %zu bytes went unnoticed", n);
    /* appended bytes change the checksum too */
    memcpy(copy, b.data, b.len);
    lv_buf_puts(&b, " ");
    assert_int_equal(lva_cachefile_decode(b.data, b.len, KEY, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
    free(copy);
    lv_buf_free(&b);
}

static void test_wrong_key(void **state)
{
    (void)state;
    lv_buf b = LV_BUF_INIT;
    encode(&b);
    unsigned char other[LV_MASTER_KEY_LEN];
    memcpy(other, KEY, sizeof other);
    other[0] ^= 0x80;
    lva_snapshot d;
    char err[256];
    assert_int_equal(lva_cachefile_decode(b.data, b.len, other, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "sealed"));
    lv_buf_free(&b);
}

/* Frames body with a correct header and checksum. */
static int decode_body(const char *body, char *err)
{
    char hex[65];
    lv_sha256_hex(body, strlen(body), hex);
    lv_buf b = LV_BUF_INIT;
    lv_buf_printf(&b, "lever-agent-cache 1\nsha256 %s\n%s", hex, body);
    lva_snapshot d;
    int rc = lva_cachefile_decode(b.data, b.len, KEY, &d, err, 256);
    if (rc == 0)
        lva_snapshot_free(&d);
    lv_buf_free(&b);
    return rc;
}

static void test_malformed_bodies(void **state)
{
    (void)state;
    char err[256];
    static const char *const ok = "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\","
                                  "\"Version\":1,\"Confirmed\":1,\"Prefetched\":false,\"Secure\":false,"
                                  "\"Parameter\":\"{\\\"Name\\\":\\\"/n\\\"}\"}]}";
    assert_int_equal(decode_body(ok, err), 0);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"Saved\":1,\"Prefixes\":[]}",
        "{\"Saved\":\"1\",\"Prefixes\":[],\"Entries\":[]}",
        "{\"Saved\":1,\"Prefixes\":[{\"Path\":\"/a\",\"Revision\":-1,\"Confirmed\":1}],\"Entries\":[]}",
        "{\"Saved\":1,\"Prefixes\":[{\"Path\":1,\"Revision\":1,\"Confirmed\":1}],\"Entries\":[]}",
        "{\"Saved\":1,\"Saved\":2,\"Prefixes\":[],\"Entries\":[]}",
        /* Parameter naming another parameter */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Prefetched\":false,\"Secure\":false,\"Parameter\":\"{\\\"Name\\\":\\\"/m\\\"}\"}]}",
        /* Parameter not JSON */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Prefetched\":false,\"Secure\":false,\"Parameter\":\"nope\"}]}",
        /* a SecureString stored in the clear */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Prefetched\":false,\"Secure\":true,\"Parameter\":\"{\\\"Name\\\":\\\"/n\\\"}\"}]}",
        /* sealed garbage */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Prefetched\":false,\"Secure\":true,\"Sealed\":\"AAAA\"}]}",
        /* missing flag */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Secure\":false,\"Parameter\":\"{\\\"Name\\\":\\\"/n\\\"}\"}]}",
        /* both forms at once */
        "{\"Saved\":1,\"Prefixes\":[],\"Entries\":[{\"Key\":\"k\",\"Name\":\"/n\",\"Version\":1,\"Confirmed\":1,"
        "\"Prefetched\":false,\"Secure\":false,\"Parameter\":\"{\\\"Name\\\":\\\"/n\\\"}\",\"Sealed\":\"x\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (decode_body(bad[i], err) != -1)
            fail_msg("malformed body %zu accepted", i);
    /* headers */
    lva_snapshot d;
    assert_int_equal(lva_cachefile_decode("garbage", 7, KEY, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "header"));
}

static void test_write_read_quarantine(void **state)
{
    (void)state;
    char dir[] = "/tmp/lever-agent-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    lv_buf b = LV_BUF_INIT, r = LV_BUF_INIT;
    char err[512], path[600];
    assert_int_equal(lva_cachefile_read(dir, &r, err, sizeof err), 1); /* none yet */
    encode(&b);
    assert_int_equal(lva_cachefile_write(dir, b.data, b.len, err, sizeof err), 0);
    assert_int_equal(lva_cachefile_write(dir, b.data, b.len, err, sizeof err), 0); /* replaces */
    snprintf(path, sizeof path, "%s/" LVA_CACHE_FILE, dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/" LVA_CACHE_FILE ".tmp", dir);
    assert_int_not_equal(stat(path, &st), 0); /* no temporary left behind */
    assert_int_equal(lva_cachefile_read(dir, &r, err, sizeof err), 0);
    assert_int_equal(r.len, b.len);
    assert_memory_equal(r.data, b.data, b.len);
    lva_cachefile_quarantine(dir);
    lv_buf_reset(&r);
    assert_int_equal(lva_cachefile_read(dir, &r, err, sizeof err), 1);
    snprintf(path, sizeof path, "%s/" LVA_CACHE_FILE ".corrupt", dir);
    assert_int_equal(stat(path, &st), 0);
    unlink(path);
    assert_int_equal(lva_cachefile_write("/nonexistent/dir", b.data, b.len, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/dir"));
    rmdir(dir);
    lv_buf_free(&b);
    lv_buf_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_flip_and_truncation_detected),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_write_read_quarantine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
