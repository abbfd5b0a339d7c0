/* test_client_cache.c - liblever's cache: TTL expiry on an injected clock,
 * change detection, negative entries, re-list generations, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/cache.h"

static void test_ttl_expiry(void **state)
{
    (void)state;
    lvc_cache c;
    lvc_cache_init(&c);
    int64_t now = 1000; /* the clock is whatever the caller says */
    assert_int_equal(lvc_cache_set(&c, "/a/x", "1", "String", 1, now), 1);
    lvc_entry *e = lvc_cache_find(&c, "/a/x");
    assert_non_null(e);
    assert_true(lvc_entry_fresh(e, now, 30000));
    assert_true(lvc_entry_fresh(e, now + 29999, 30000));
    assert_false(lvc_entry_fresh(e, now + 30000, 30000));
    /* ttl 0 means "no cache": never fresh */
    assert_false(lvc_entry_fresh(e, now, 0));
    /* a clock going backwards does not make an entry fresh forever */
    assert_false(lvc_entry_fresh(e, now - 5, 30000));
    /* re-confirming the same value restarts the TTL and is not a change */
    assert_int_equal(lvc_cache_set(&c, "/a/x", "1", "String", 1, now + 40000), 0);
    assert_true(lvc_entry_fresh(lvc_cache_find(&c, "/a/x"), now + 40000 + 100, 30000));
    lvc_cache_free(&c);
}

static void test_changes(void **state)
{
    (void)state;
    lvc_cache c;
    lvc_cache_init(&c);
    assert_int_equal(lvc_cache_set(&c, "/n", NULL, NULL, 0, 1), 0); /* absent, first seen: no change */
    lvc_entry *e = lvc_cache_find(&c, "/n");
    assert_non_null(e);
    assert_null(e->value);
    assert_int_equal(lvc_cache_set(&c, "/n", "v", "String", 1, 2), 1);
    assert_int_equal(lvc_cache_set(&c, "/n", "v", "String", 2, 3), 1); /* same value, new version */
    assert_int_equal(lvc_cache_set(&c, "/n", "w", "String", 2, 4), 1);
    assert_int_equal(lvc_cache_set(&c, "/n", NULL, NULL, 0, 5), 1);   /* deleted */
    e = lvc_cache_find(&c, "/n");
    assert_null(e->value);
    assert_int_equal(e->version, 0);
    assert_null(lvc_cache_find(&c, "/other"));
    lvc_cache_free(&c);
}

static int gone_count;
static void on_gone(const char *name, void *user)
{
    (void)user;
    assert_string_equal(name, "/p/b");
    gone_count++;
}

static void test_sync(void **state)
{
    (void)state;
    lvc_cache c;
    lvc_cache_init(&c);
    lvc_cache_set(&c, "/p/a", "1", "String", 1, 10);
    lvc_cache_set(&c, "/p/b", "2", "String", 1, 10);
    lvc_cache_set(&c, "/q/c", "3", "String", 1, 10);
    /* a new listing of /p/ holds only a: b is gone, /q/ is untouched */
    lvc_cache_sync_begin(&c);
    lvc_cache_set(&c, "/p/a", "1b", "String", 2, 20);
    gone_count = 0;
    lvc_cache_sync_end(&c, "/p/", 20, on_gone, NULL);
    assert_int_equal(gone_count, 1);
    assert_string_equal(lvc_cache_find(&c, "/p/a")->value, "1b");
    assert_null(lvc_cache_find(&c, "/p/b")->value);
    assert_int_equal(lvc_cache_find(&c, "/p/b")->confirmed, 20);
    assert_string_equal(lvc_cache_find(&c, "/q/c")->value, "3");
    assert_int_equal(lvc_cache_find(&c, "/q/c")->confirmed, 10);
    lvc_cache_free(&c);
}

static void test_growth(void **state)
{
    (void)state;
    lvc_cache c;
    lvc_cache_init(&c);
    char name[32], val[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "/g/%d", i);
        snprintf(val, sizeof val, "v%d", i);
        assert_int_equal(lvc_cache_set(&c, name, val, "String", 1, 0), 1);
    }
    assert_int_equal(c.count, 5000);
    for (int i = 0; i < 5000; i += 97) {
        snprintf(name, sizeof name, "/g/%d", i);
        snprintf(val, sizeof val, "v%d", i);
        assert_string_equal(lvc_cache_find(&c, name)->value, val);
    }
    lvc_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
