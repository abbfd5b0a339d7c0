/* test_agent_table.c - lever-agent's entry table: replace, delete, LRU
 * order and eviction at the bound, touch on read, name-wide removal,
 * filtering, and growth past many rehashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/table.h"

static void put(lva_table *t, const char *key, const char *name, const char *json)
{
    assert_int_equal(lva_table_put(t, key, name, json, strlen(json), false, 1, 10, 20), 0);
}

static void order_fn(const lva_entry *e, void *user)
{
    char *out = user;
    strcat(out, e->key);
    strcat(out, ",");
}

static const char *order(const lva_table *t, char *buf)
{
    buf[0] = '\0';
    lva_table_each(t, order_fn, buf);
    return buf;
}

static void test_put_get_replace_del(void **state)
{
    (void)state;
    lva_table t;
    lva_table_init(&t, 0);
    assert_null(lva_table_get(&t, "a", false)); /* empty table */
    put(&t, "a", "/a", "{\"Name\":\"/a\"}");
    lva_entry *e = lva_table_get(&t, "a", false);
    assert_non_null(e);
    assert_string_equal(e->name, "/a");
    assert_int_equal(e->json_len, strlen("{\"Name\":\"/a\"}"));
    assert_int_equal(e->confirmed_ms, 10);
    assert_int_equal(e->fetched_mono, 20);
    assert_int_equal(lva_table_put(&t, "a", "/a", "{\"v\":2}", 7, true, 2, 30, 40), 0);
    assert_int_equal(t.count, 1);
    e = lva_table_get(&t, "a", false);
    assert_string_equal(e->json, "{\"v\":2}");
    assert_true(e->secure);
    assert_int_equal(e->version, 2);
    assert_true(lva_table_del(&t, "a"));
    assert_false(lva_table_del(&t, "a"));
    assert_int_equal(t.count, 0);
    assert_null(t.newest);
    assert_null(t.oldest);
    lva_table_free(&t);
}

static void test_lru(void **state)
{
    (void)state;
    char buf[256];
    lva_table t;
    lva_table_init(&t, 3);
    put(&t, "a", "/a", "1");
    put(&t, "b", "/b", "1");
    put(&t, "c", "/c", "1");
    assert_string_equal(order(&t, buf), "a,b,c,");
    /* a read that touches makes "a" the most recent; one that does not, not */
    assert_non_null(lva_table_get(&t, "a", true));
    assert_string_equal(order(&t, buf), "b,c,a,");
    assert_non_null(lva_table_get(&t, "b", false));
    assert_string_equal(order(&t, buf), "b,c,a,");
    /* the fourth entry evicts the least recently used: b */
    put(&t, "d", "/d", "1");
    assert_int_equal(t.count, 3);
    assert_int_equal(t.evictions, 1);
    assert_null(lva_table_get(&t, "b", false));
    assert_string_equal(order(&t, buf), "c,a,d,");
    /* replacing counts as use and does not evict */
    put(&t, "c", "/c", "2");
    assert_int_equal(t.evictions, 1);
    assert_string_equal(order(&t, buf), "a,d,c,");
    /* deleting the newest and the oldest keeps the list consistent */
    assert_true(lva_table_del(&t, "c"));
    assert_true(lva_table_del(&t, "a"));
    assert_string_equal(order(&t, buf), "d,");
    assert_ptr_equal(t.newest, t.oldest);
    put(&t, "e", "/e", "1");
    assert_string_equal(order(&t, buf), "d,e,");
    lva_table_free(&t);

    /* a bound of 1 keeps exactly the last */
    lva_table_init(&t, 1);
    put(&t, "a", "/a", "1");
    put(&t, "b", "/b", "1");
    assert_string_equal(order(&t, buf), "b,");
    lva_table_free(&t);
}

static bool keep_short(const lva_entry *e, void *user)
{
    (void)user;
    return strlen(e->key) < 3;
}

static void test_del_name_and_filter(void **state)
{
    (void)state;
    char buf[256];
    lva_table t;
    lva_table_init(&t, 0);
    put(&t, "/a\nd", "/a", "1");
    put(&t, "/a:1\nd", "/a", "1");
    put(&t, "/a:prod\ne", "/a", "1");
    put(&t, "/ab\nd", "/ab", "1");
    assert_int_equal(lva_table_del_name(&t, "/a"), 3);
    assert_string_equal(order(&t, buf), "/ab\nd,");
    assert_int_equal(lva_table_del_name(&t, "/zzz"), 0);
    lva_table_free(&t);

    lva_table_init(&t, 0);
    put(&t, "aa", "/a", "1");
    put(&t, "bbb", "/b", "1");
    put(&t, "cc", "/c", "1");
    put(&t, "ddd", "/d", "1");
    assert_int_equal(lva_table_filter(&t, keep_short, NULL), 2);
    assert_string_equal(order(&t, buf), "aa,cc,");
    lva_table_free(&t);
}

static void test_growth(void **state)
{
    (void)state;
    lva_table t;
    lva_table_init(&t, 10000);
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "/g/%d", i);
        put(&t, key, key, key);
    }
    assert_int_equal(t.count, 10000);
    assert_int_equal(t.evictions, 10000);
    for (int i = 0; i < 20000; i += 37) {
        snprintf(key, sizeof key, "/g/%d", i);
        lva_entry *e = lva_table_get(&t, key, false);
        if (i < 10000)
            assert_null(e);
        else
            assert_string_equal(e->json, key);
    }
    lva_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace_del),
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_del_name_and_filter),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
