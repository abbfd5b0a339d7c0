/* test_index.c - the in-memory index (core/index.c): hash lookups, ordered
 * walks and removal, checked against a sorted reference array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/index.h"
#include "core/param.h"

enum { N = 20000 };

typedef struct ref {
    char *key; /* a copy, owned by the test */
    size_t len;
    lv_param *p;
    bool removed;
} ref;

static uint64_t rng_state = 0x1234567887654321ULL;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

static int ref_cmp(const void *x, const void *y)
{
    const ref *a = x, *b = y;
    return key_cmp(a->key, a->len, b->key, b->len);
}

static const char *const regions[] = {"us-east-1", "eu-west-1", "us-east-10"};

/* N distinct parameters with shared path prefixes, in random order. */
static ref *make_refs(lv_index *ix)
{
    ref *r = calloc(N, sizeof *r);
    assert_non_null(r);
    size_t n = 0;
    while (n < N) {
        char name[96];
        snprintf(name, sizeof name, "/app%u/svc%u/key-%x", rnd() % 7, rnd() % 13, rnd() % 50000);
        if (rnd() % 5 == 0) /* some plain names too */
            snprintf(name, sizeof name, "plain%u", rnd() % 40000);
        const char *region = regions[rnd() % 3];
        size_t klen;
        char *key = lv_param_make_key(region, name, &klen);
        assert_non_null(key);
        if (lv_index_get(ix, key, klen) != NULL) { /* already drawn */
            free(key);
            continue;
        }
        lv_param *p = lv_param_new(region, name);
        assert_non_null(p);
        assert_int_equal(p->key_len, klen);
        assert_memory_equal(p->key, key, klen);
        lv_param *old = (lv_param *)1;
        assert_int_equal(lv_index_put(ix, p, &old), LV_OK);
        assert_null(old);
        r[n].key = key;
        r[n].len = klen;
        r[n].p = p;
        n++;
        assert_int_equal(lv_index_count(ix), n);
    }
    return r;
}

static void free_refs(ref *r)
{
    for (size_t i = 0; i < N; i++)
        free(r[i].key);
    free(r);
}

/* The index walked from the start equals the live entries of sorted r. */
static void check_order(const lv_index *ix, const ref *sorted)
{
    const lv_index_node *n = lv_index_seek(ix, "", 0);
    size_t seen = 0;
    for (size_t i = 0; i < N; i++) {
        if (sorted[i].removed)
            continue;
        assert_non_null(n);
        const lv_param *p = lv_index_node_param(n);
        assert_ptr_equal(p, sorted[i].p);
        n = lv_index_next(n);
        seen++;
    }
    assert_null(n);
    assert_int_equal(seen, lv_index_count(ix));
}

static void test_insert_get(void **state)
{
    (void)state;
    lv_index *ix = lv_index_new();
    assert_non_null(ix);
    assert_int_equal(lv_index_count(ix), 0);
    assert_null(lv_index_seek(ix, "", 0));
    size_t mem0 = lv_index_memory(ix);
    ref *r = make_refs(ix);
    assert_true(lv_index_memory(ix) > mem0);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(lv_index_get(ix, r[i].key, r[i].len), r[i].p);
    /* Near misses ('Z' never occurs in the generated names) are not found. */
    for (size_t i = 0; i < 2000; i++) {
        char k[256];
        memcpy(k, r[i].key, r[i].len);
        k[r[i].len] = 'Z';
        assert_null(lv_index_get(ix, k, r[i].len + 1));
        k[r[i].len - 1] = 'Z';
        assert_null(lv_index_get(ix, k, r[i].len));
        k[0] = 'Z';
        assert_null(lv_index_get(ix, k, r[i].len - 1));
    }
    assert_null(lv_index_get(ix, "us-east-1\0/nothere", 18));
    free_refs(r);
    lv_index_free(ix);
}

static void test_replace(void **state)
{
    (void)state;
    lv_index *ix = lv_index_new();
    ref *r = make_refs(ix);
    for (size_t i = 0; i < N; i += 3) {
        lv_param *np = lv_param_clone(r[i].p);
        assert_non_null(np);
        lv_param *old = NULL;
        assert_int_equal(lv_index_put(ix, np, &old), LV_OK);
        assert_ptr_equal(old, r[i].p);
        lv_param_free(old);
        r[i].p = np;
    }
    assert_int_equal(lv_index_count(ix), N);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(lv_index_get(ix, r[i].key, r[i].len), r[i].p);
    qsort(r, N, sizeof *r, ref_cmp);
    check_order(ix, r);
    free_refs(r);
    lv_index_free(ix);
}

static void test_ordered_walk(void **state)
{
    (void)state;
    lv_index *ix = lv_index_new();
    ref *r = make_refs(ix);
    qsort(r, N, sizeof *r, ref_cmp);
    check_order(ix, r);

    /* Seek to each region's "/app3/" prefix: the walk gives exactly the
     * reference entries with that prefix, in order. */
    for (size_t g = 0; g < 3; g++) {
        char prefix[64];
        size_t rl = strlen(regions[g]);
        memcpy(prefix, regions[g], rl + 1);
        memcpy(prefix + rl + 1, "/app3/", 6);
        size_t plen = rl + 1 + 6;
        size_t want = 0, first = N;
        for (size_t i = 0; i < N; i++)
            if (r[i].len >= plen && memcmp(r[i].key, prefix, plen) == 0) {
                if (first == N)
                    first = i;
                want++;
            }
        assert_true(want > 0);
        const lv_index_node *n = lv_index_seek(ix, prefix, plen);
        size_t got = 0;
        while (n != NULL) {
            const lv_param *p = lv_index_node_param(n);
            if (p->key_len < plen || memcmp(p->key, prefix, plen) != 0)
                break;
            assert_ptr_equal(p, r[first + got].p);
            got++;
            n = lv_index_next(n);
        }
        assert_int_equal(got, want);
    }

    /* Seeking to an existing key lands on it; just past it on the next. */
    for (size_t i = 0; i < N; i += 97) {
        const lv_index_node *n = lv_index_seek(ix, r[i].key, r[i].len);
        assert_non_null(n);
        assert_ptr_equal(lv_index_node_param(n), r[i].p);
        char k[256];
        memcpy(k, r[i].key, r[i].len);
        k[r[i].len] = '\0';
        n = lv_index_seek(ix, k, r[i].len + 1);
        if (i + 1 < N)
            assert_ptr_equal(lv_index_node_param(n), r[i + 1].p);
        else
            assert_null(n);
    }
    /* Past the end. */
    assert_null(lv_index_seek(ix, "\xff", 1));
    free_refs(r);
    lv_index_free(ix);
}

static void test_remove(void **state)
{
    (void)state;
    lv_index *ix = lv_index_new();
    ref *r = make_refs(ix);
    size_t mem_full = lv_index_memory(ix);
    /* Remove every other one (r is in random order, so this is a random
     * half of the table); each must stay reachable until removed. */
    size_t left = N;
    for (size_t i = 0; i < N; i += 2) {
        lv_param *p = lv_index_remove(ix, r[i].key, r[i].len);
        assert_ptr_equal(p, r[i].p);
        lv_param_free(p);
        r[i].p = NULL;
        r[i].removed = true;
        left--;
        assert_int_equal(lv_index_count(ix), left);
        assert_null(lv_index_remove(ix, r[i].key, r[i].len));
        if (i % 1000 == 0) /* probe chains stay intact */
            for (size_t j = 0; j < N; j++)
                assert_ptr_equal(lv_index_get(ix, r[j].key, r[j].len),
                                 r[j].removed ? NULL : r[j].p);
    }
    assert_true(lv_index_memory(ix) < mem_full);
    for (size_t j = 0; j < N; j++)
        assert_ptr_equal(lv_index_get(ix, r[j].key, r[j].len), r[j].removed ? NULL : r[j].p);
    ref *sorted = malloc(N * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, r, N * sizeof *r);
    qsort(sorted, N, sizeof *sorted, ref_cmp);
    check_order(ix, sorted);

    /* Re-insert some removed keys, then remove everything. */
    for (size_t i = 0; i < N; i += 4) {
        size_t rl = strlen(r[i].key);
        lv_param *p = lv_param_new(r[i].key, r[i].key + rl + 1);
        assert_non_null(p);
        lv_param *old = (lv_param *)1;
        assert_int_equal(lv_index_put(ix, p, &old), LV_OK);
        assert_null(old);
        r[i].p = p;
        r[i].removed = false;
    }
    for (size_t j = 0; j < N; j++)
        assert_ptr_equal(lv_index_get(ix, r[j].key, r[j].len), r[j].removed ? NULL : r[j].p);
    for (size_t j = N; j-- > 0;) {
        if (r[j].removed)
            continue;
        lv_param *p = lv_index_remove(ix, r[j].key, r[j].len);
        assert_ptr_equal(p, r[j].p);
        lv_param_free(p);
    }
    assert_int_equal(lv_index_count(ix), 0);
    assert_null(lv_index_seek(ix, "", 0));
    free(sorted);
    free_refs(r);
    lv_index_free(ix);
}

static lv_param *add(lv_index *ix, const char *region, const char *name)
{
    lv_param *p = lv_param_new(region, name);
    assert_non_null(p);
    lv_param *old;
    assert_int_equal(lv_index_put(ix, p, &old), LV_OK);
    assert_null(old);
    return p;
}

static void test_inner_nul_keys(void **state)
{
    (void)state;
    lv_index *ix = lv_index_new();
    lv_param *a = add(ix, "us-east-1", "/a");
    lv_param *b = add(ix, "us-east-1", "/a/b");
    lv_param *c = add(ix, "us-east-10", "/a");
    lv_param *d = add(ix, "eu-west-1", "/a");
    lv_param *e = add(ix, "us-east-1", "/a.b");
    lv_param *f = add(ix, "us-east-1", "a");
    assert_int_equal(lv_index_count(ix), 6);

    assert_ptr_equal(lv_index_get(ix, "us-east-1\0/a", 12), a);
    assert_ptr_equal(lv_index_get(ix, "us-east-1\0/a/b", 14), b);
    assert_ptr_equal(lv_index_get(ix, "us-east-10\0/a", 13), c);
    assert_ptr_equal(lv_index_get(ix, "eu-west-1\0/a", 12), d);
    assert_ptr_equal(lv_index_get(ix, "us-east-1\0a", 11), f);
    /* Everything after the NUL counts, and nothing else does. */
    assert_null(lv_index_get(ix, "us-east-1", 9));
    assert_null(lv_index_get(ix, "us-east-1\0", 10));
    assert_null(lv_index_get(ix, "us-east-1\0/", 11));
    assert_null(lv_index_get(ix, "us-east-1\0/a\0", 13));
    assert_null(lv_index_get(ix, "us-east-1/a", 11));

    /* Order: region first (bytewise with the NUL), then name. */
    const lv_param *want[] = {d, a, e, b, f, c};
    const lv_index_node *n = lv_index_seek(ix, "", 0);
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(n);
        assert_ptr_equal(lv_index_node_param(n), want[i]);
        n = lv_index_next(n);
    }
    assert_null(n);

    /* A path walk of "/a/" in us-east-1 sees only /a/b. */
    n = lv_index_seek(ix, "us-east-1\0/a/", 13);
    assert_non_null(n);
    assert_ptr_equal(lv_index_node_param(n), b);
    n = lv_index_seek(ix, "us-east-1\0", 10);
    assert_ptr_equal(lv_index_node_param(n), a);

    lv_param *got = lv_index_remove(ix, "us-east-1\0/a", 12);
    assert_ptr_equal(got, a);
    lv_param_free(got);
    assert_null(lv_index_get(ix, "us-east-1\0/a", 12));
    assert_ptr_equal(lv_index_get(ix, "us-east-10\0/a", 13), c);
    assert_ptr_equal(lv_index_get(ix, "eu-west-1\0/a", 12), d);
    n = lv_index_seek(ix, "us-east-1\0", 10);
    assert_non_null(n);
    assert_ptr_equal(lv_index_node_param(n), e);
    lv_index_free(ix); /* frees b..f */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_get),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_ordered_walk),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_inner_nul_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
