/* test_engine.c - the engine on a real sqlite store in a temp directory:
 * durability across reopen, group commit under concurrent writers,
 * independent failures inside one batch, readers never seeing a
 * half-built parameter, watchers, and policy expiry by the timer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw's FTW_DEPTH / FTW_PHYS, memmem */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"

#define REGION "us-east-1"
#define USER "arn:aws:iam::000000000000:root"

/* ---------- fixture: a temp data dir and an engine on it ---------- */

typedef struct fx {
    char dir[64];
    char uri[128];
    char key[128];
    lv_engine *e;
} fx;

/* cmocka leaves a failed test by longjmp; a read lock held at that moment
 * would deadlock the engine's close in teardown, turning one failed
 * assertion into a hung test. The wrappers count what this thread holds so
 * teardown can let go of it. */
static _Thread_local int rd_held;

static void rdlock(lv_engine *e)
{
    lv_engine_rdlock(e);
    rd_held++;
}

static void rdunlock(lv_engine *e)
{
    rd_held--;
    lv_engine_rdunlock(e);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fx_open(fx *f)
{
    lv_engine_config cfg = {f->uri, f->key, 0, 0};
    lv_error err;
    lv_error_clear(&err);
    f->e = NULL;
    lv_err rc = lv_engine_open(&cfg, &f->e, &err);
    if (rc != LV_OK)
        fail_msg("lv_engine_open: %s (%s)", lv_err_name(rc), err.msg);
    assert_non_null(f->e);
}

static void fx_reopen(fx *f)
{
    lv_engine_close(f->e);
    f->e = NULL;
    fx_open(f);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lever-engine-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->uri, sizeof f->uri, "sqlite:%s/lever.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/master.key", f->dir);
    *state = f;
    fx_open(f);
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fx *f = *state;
    while (rd_held > 0)
        rdunlock(f->e);
    lv_engine_close(f->e);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---------- write helpers ---------- */

static lv_put_input put_in(const char *value, lv_ptype type, bool overwrite)
{
    lv_put_input in;
    memset(&in, 0, sizeof in);
    in.value = value;
    in.value_len = strlen(value);
    in.has_type = true;
    in.type = type;
    in.overwrite = overwrite;
    in.user = USER;
    in.now_ms = wall_ms();
    return in;
}

static lv_write put_w(const char *name, const lv_put_input *in)
{
    lv_write w;
    memset(&w, 0, sizeof w);
    w.kind = LV_WRITE_PUT;
    w.region = REGION;
    w.name = name;
    w.u.put.in = in;
    return w;
}

/* One put, asserted to succeed; returns its version. */
static uint32_t put_ok(lv_engine *e, const char *name, const char *value, lv_ptype type,
                       bool overwrite)
{
    lv_put_input in = put_in(value, type, overwrite);
    lv_write w = put_w(name, &in);
    assert_int_equal(lv_engine_write(e, &w, 1), LV_OK);
    if (w.rc != LV_OK)
        fail_msg("put %s: %s (%s)", name, lv_err_name(w.rc), w.err.msg);
    assert_true(w.revision > 0);
    return w.u.put.res.version;
}

static const lv_param *get_locked(lv_engine *e, const char *name)
{
    return lv_engine_get(e, REGION, name);
}

static bool key_is(const lv_change *c, const char *name)
{
    size_t rl = strlen(REGION) + 1, nl = strlen(name);
    return c->key_len == rl + nl && memcmp(c->key, REGION, rl) == 0 &&
           memcmp(c->key + rl, name, nl) == 0;
}

static bool has_label(const lv_version *v, const char *label)
{
    for (unsigned i = 0; i < v->nlabels; i++)
        if (strcmp(v->labels[i], label) == 0)
            return true;
    return false;
}

/* ---------- 1. everything acknowledged survives a reopen ---------- */

static void check_persisted(fx *f)
{
    lv_engine *e = f->e;
    rdlock(e);
    const lv_param *a = get_locked(e, "/app/url");
    assert_non_null(a);
    assert_int_equal(a->nversions, 3);
    for (unsigned i = 0; i < 3; i++) {
        char want[16];
        snprintf(want, sizeof want, "u%u", i + 1);
        assert_int_equal(a->versions[i]->version, i + 1);
        assert_int_equal(a->versions[i]->type, LV_TYPE_STRING);
        assert_string_equal(a->versions[i]->value, want);
        assert_int_equal(a->versions[i]->value_len, strlen(want));
        assert_string_equal(a->versions[i]->modified_user, USER);
    }
    assert_true(has_label(a->versions[0], "stable"));
    assert_true(has_label(a->versions[2], "latest-ok"));
    assert_int_equal(a->versions[1]->nlabels, 0);
    assert_ptr_equal(lv_param_find_label(a, "stable"), a->versions[0]);

    const lv_param *t = get_locked(e, "/app/tagged");
    assert_non_null(t);
    assert_int_equal(t->ntags, 2);
    const lv_tag *tg = lv_param_find_tag(t, "team");
    assert_non_null(tg);
    assert_string_equal(tg->value, "orders");
    tg = lv_param_find_tag(t, "env");
    assert_non_null(tg);
    assert_string_equal(tg->value, "prod");
    assert_null(lv_param_find_tag(t, "removed"));
    assert_int_equal(lv_param_latest(t)->type, LV_TYPE_STRING_LIST);
    assert_string_equal(lv_param_latest(t)->value, "a,b,c");

    const lv_param *s = get_locked(e, "/app/secret");
    assert_non_null(s);
    const lv_version *sv = lv_param_latest(s);
    assert_int_equal(sv->type, LV_TYPE_SECURE_STRING);
    assert_string_equal(sv->key_id, LV_DEFAULT_KEY_ID);
    /* the stored value is an envelope, not the plaintext */
    assert_true(sv->value_len != 6 || memcmp(sv->value, "s3cr3t", 6) != 0);
    assert_null(memmem(sv->value, sv->value_len, "s3cr3t", 6));
    lv_buf pt = LV_BUF_INIT;
    lv_error err;
    lv_error_clear(&err);
    assert_int_equal(lv_engine_decrypt(e, s, sv, &pt, &err), LV_OK);
    assert_int_equal(pt.len, 6);
    assert_memory_equal(pt.data, "s3cr3t", 6);
    lv_buf_free(&pt);

    assert_null(get_locked(e, "/app/gone"));
    rdunlock(e);
}

static void test_reopen_keeps_everything(void **state)
{
    fx *f = *state;
    lv_engine *e = f->e;
    assert_int_equal(lv_engine_revision(e), 0);

    assert_int_equal(put_ok(e, "/app/url", "u1", LV_TYPE_STRING, false), 1);
    assert_int_equal(put_ok(e, "/app/url", "u2", LV_TYPE_STRING, true), 2);
    assert_int_equal(put_ok(e, "/app/url", "u3", LV_TYPE_STRING, true), 3);

    const char *stable[] = {"stable"}, *latest[] = {"latest-ok"};
    lv_write lw[2];
    memset(lw, 0, sizeof lw);
    lw[0].kind = lw[1].kind = LV_WRITE_LABEL;
    lw[0].region = lw[1].region = REGION;
    lw[0].name = lw[1].name = "/app/url";
    lw[0].u.label.version = 1;
    lw[0].u.label.labels = stable;
    lw[0].u.label.n = 1;
    lw[1].u.label.version = 0; /* latest */
    lw[1].u.label.labels = latest;
    lw[1].u.label.n = 1;
    assert_int_equal(lv_engine_write(e, lw, 2), LV_OK);
    assert_int_equal(lw[0].rc, LV_OK);
    assert_int_equal(lw[1].rc, LV_OK);
    assert_int_equal(lw[1].u.label.res.version, 3);

    lv_tag_in tags[] = {{"team", "orders"}, {"removed", "x"}};
    lv_put_input tin = put_in("a,b,c", LV_TYPE_STRING_LIST, false);
    tin.tags = tags;
    tin.ntags = 2;
    lv_write tw = put_w("/app/tagged", &tin);
    assert_int_equal(lv_engine_write(e, &tw, 1), LV_OK);
    assert_int_equal(tw.rc, LV_OK);
    lv_tag_in more[] = {{"env", "prod"}};
    const char *drop[] = {"removed"};
    lv_write tg[2];
    memset(tg, 0, sizeof tg);
    tg[0].kind = LV_WRITE_ADD_TAGS;
    tg[1].kind = LV_WRITE_REMOVE_TAGS;
    tg[0].region = tg[1].region = REGION;
    tg[0].name = tg[1].name = "/app/tagged";
    tg[0].u.tags.tags = more;
    tg[0].u.tags.n = 1;
    tg[1].u.untag.keys = drop;
    tg[1].u.untag.n = 1;
    assert_int_equal(lv_engine_write(e, tg, 2), LV_OK);
    assert_int_equal(tg[0].rc, LV_OK);
    assert_int_equal(tg[1].rc, LV_OK);

    assert_int_equal(put_ok(e, "/app/secret", "s3cr3t", LV_TYPE_SECURE_STRING, false), 1);
    put_ok(e, "/app/gone", "bye", LV_TYPE_STRING, false);
    lv_write dw;
    memset(&dw, 0, sizeof dw);
    dw.kind = LV_WRITE_DELETE;
    dw.region = REGION;
    dw.name = "/app/gone";
    assert_int_equal(lv_engine_write(e, &dw, 1), LV_OK);
    assert_int_equal(dw.rc, LV_OK);

    /* 3 puts + 2 labels + 1 put + 2 tag changes + 1 put + 1 put + 1 delete */
    uint64_t rev = lv_engine_revision(e);
    assert_int_equal(rev, 11);
    assert_int_equal(dw.revision, rev);
    check_persisted(f);

    fx_reopen(f);
    assert_int_equal(lv_engine_revision(f->e), rev);
    check_persisted(f);
    lv_engine_stats st;
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.params, 3);
    assert_int_equal(st.revision, rev);

    /* a refused write (nothing to commit) leaves the revision alone */
    lv_put_input dup = put_in("again", LV_TYPE_STRING, false);
    lv_write dw2 = put_w("/app/url", &dup);
    assert_int_equal(lv_engine_write(f->e, &dw2, 1), LV_OK);
    assert_int_equal(dw2.rc, LV_E_PARAM_EXISTS);
    assert_int_equal(dw2.revision, 0);
    assert_int_equal(lv_engine_revision(f->e), rev);

    /* the revision keeps counting from where it was, and survives again */
    assert_int_equal(put_ok(f->e, "/app/url", "u4", LV_TYPE_STRING, true), 4);
    assert_int_equal(lv_engine_revision(f->e), rev + 1);
    rdlock(f->e);
    const lv_changelog *log = lv_engine_changelog(f->e);
    assert_true(log->count >= 1);
    assert_int_equal(lv_changelog_at(log, log->count - 1)->revision, rev + 1);
    rdunlock(f->e);
    fx_reopen(f);
    assert_int_equal(lv_engine_revision(f->e), rev + 1);
    rdlock(f->e);
    const lv_param *a = get_locked(f->e, "/app/url");
    assert_non_null(a);
    assert_int_equal(lv_param_latest(a)->version, 4);
    assert_string_equal(lv_param_latest(a)->value, "u4");
    rdunlock(f->e);
}

/* ---------- 2. group commit ---------- */

enum { GC_THREADS = 16, GC_PER_THREAD = 50, GC_SHARED = 8, GC_CHUNK = 5 };

typedef struct gc_slot {
    char name[64];
    char value[64];
    int shared;          /* index of the shared name, -1 for a distinct one */
    lv_put_input in;
    lv_write w;
} gc_slot;

typedef struct gc_thread {
    lv_engine *e;
    int t;
    size_t chunk;        /* writes per lv_engine_write call */
    const char *phase;
    gc_slot slot[GC_PER_THREAD];
    pthread_barrier_t *go;
    lv_err call_rc;
} gc_thread;

static void *gc_main(void *arg)
{
    gc_thread *g = arg;
    for (int i = 0; i < GC_PER_THREAD; i++) {
        gc_slot *s = &g->slot[i];
        if (i % 2 == 0) {
            s->shared = -1;
            snprintf(s->name, sizeof s->name, "/gc/%s/t%d/n%d", g->phase, g->t, i);
        } else {
            s->shared = (g->t + i) % GC_SHARED;
            snprintf(s->name, sizeof s->name, "/gc/%s/shared/s%d", g->phase, s->shared);
        }
        snprintf(s->value, sizeof s->value, "t%d-i%d", g->t, i);
        s->in = put_in(s->value, LV_TYPE_STRING, s->shared >= 0);
        s->w = put_w(s->name, &s->in);
    }
    pthread_barrier_wait(g->go);
    g->call_rc = LV_OK;
    for (int i = 0; i < GC_PER_THREAD; i += (int)g->chunk) {
        lv_write batch[GC_CHUNK];
        size_t n = g->chunk;
        for (size_t j = 0; j < n; j++)
            batch[j] = g->slot[i + (int)j].w;
        lv_err rc = lv_engine_write(g->e, batch, n);
        if (rc != LV_OK)
            g->call_rc = rc;
        for (size_t j = 0; j < n; j++)
            g->slot[i + (int)j].w = batch[j];
    }
    return NULL;
}

static void run_gc_phase(lv_engine *e, const char *phase, size_t chunk, gc_thread *g)
{
    pthread_t th[GC_THREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, GC_THREADS);
    for (int t = 0; t < GC_THREADS; t++) {
        g[t].e = e;
        g[t].t = t;
        g[t].chunk = chunk;
        g[t].phase = phase;
        g[t].go = &go;
        assert_int_equal(pthread_create(&th[t], NULL, gc_main, &g[t]), 0);
    }
    for (int t = 0; t < GC_THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);
}

/* Every write succeeded with a distinct revision; the versions handed out
 * for each shared name are exactly 1..N, and the index agrees. */
static void check_gc_phase(lv_engine *e, const char *phase, gc_thread *g, uint64_t rev0)
{
    enum { TOTAL = GC_THREADS * GC_PER_THREAD };
    static bool rev_seen[TOTAL + 1];
    memset(rev_seen, 0, sizeof rev_seen);
    unsigned count[GC_SHARED] = {0};
    static bool ver_seen[GC_SHARED][TOTAL + 1];
    memset(ver_seen, 0, sizeof ver_seen);
    static const char *last_value[GC_SHARED];
    memset(last_value, 0, sizeof last_value);

    for (int t = 0; t < GC_THREADS; t++) {
        assert_int_equal(g[t].call_rc, LV_OK);
        for (int i = 0; i < GC_PER_THREAD; i++) {
            const gc_slot *s = &g[t].slot[i];
            if (s->w.rc != LV_OK)
                fail_msg("put %s: %s (%s)", s->name, lv_err_name(s->w.rc), s->w.err.msg);
            assert_true(s->w.revision > rev0 && s->w.revision <= rev0 + TOTAL);
            assert_false(rev_seen[s->w.revision - rev0]);
            rev_seen[s->w.revision - rev0] = true;
            uint32_t v = s->w.u.put.res.version;
            if (s->shared < 0) {
                assert_int_equal(v, 1);
                continue;
            }
            count[s->shared]++;
            assert_true(v >= 1 && v <= TOTAL);
            if (ver_seen[s->shared][v])
                fail_msg("version %u of shared name %d handed out twice", v, s->shared);
            ver_seen[s->shared][v] = true;
        }
    }
    unsigned total_shared = 0;
    rdlock(e);
    for (int k = 0; k < GC_SHARED; k++) {
        total_shared += count[k];
        assert_true(count[k] > 0 && count[k] <= LV_MAX_VERSIONS);
        for (unsigned v = 1; v <= count[k]; v++)
            if (!ver_seen[k][v])
                fail_msg("shared name %d: version %u missing of 1..%u", k, v, count[k]);
        char name[64];
        snprintf(name, sizeof name, "/gc/%s/shared/s%d", phase, k);
        const lv_param *p = get_locked(e, name);
        assert_non_null(p);
        assert_int_equal(p->nversions, count[k]);
        for (unsigned j = 0; j < p->nversions; j++)
            assert_int_equal(p->versions[j]->version, j + 1);
        /* the latest version holds the value of the write that got it */
        for (int t = 0; t < GC_THREADS; t++)
            for (int i = 0; i < GC_PER_THREAD; i++) {
                const gc_slot *s = &g[t].slot[i];
                if (s->shared == k && s->w.u.put.res.version == count[k])
                    last_value[k] = s->value;
            }
        assert_non_null(last_value[k]);
        assert_string_equal(lv_param_latest(p)->value, last_value[k]);
    }
    assert_int_equal(total_shared, TOTAL / 2);
    for (int t = 0; t < GC_THREADS; t++)
        for (int i = 0; i < GC_PER_THREAD; i += 2)
            assert_non_null(get_locked(e, g[t].slot[i].name));
    rdunlock(e);
}

static void check_log_consecutive(lv_engine *e, uint64_t expect_count)
{
    rdlock(e);
    const lv_changelog *log = lv_engine_changelog(e);
    assert_int_equal(log->count, expect_count);
    for (size_t i = 0; i < log->count; i++) {
        const lv_change *c = lv_changelog_at(log, i);
        if (c->revision != i + 1)
            fail_msg("change log entry %zu has revision %llu", i,
                     (unsigned long long)c->revision);
        assert_int_equal(c->kind, LV_CHANGE_PUT);
        assert_true(c->version >= 1);
    }
    assert_int_equal(lv_changelog_first(log), 1);
    assert_int_equal(lv_engine_revision(e), expect_count);
    rdunlock(e);
}

static void test_group_commit(void **state)
{
    fx *f = *state;
    enum { TOTAL = GC_THREADS * GC_PER_THREAD };
    gc_thread *g = calloc(GC_THREADS, sizeof *g);
    assert_non_null(g);

    /* Phase A: 16 threads, one write per call. */
    run_gc_phase(f->e, "a", 1, g);
    lv_engine_stats st;
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.writes, TOTAL);
    assert_int_equal(st.write_errors, 0);
    print_message("group commit, 1 write per call: %llu writes in %llu commits\n",
                  (unsigned long long)st.writes, (unsigned long long)st.commits);
    assert_true(st.commits >= 1);
    assert_true(st.commits < st.writes);
    check_gc_phase(f->e, "a", g, 0);
    check_log_consecutive(f->e, TOTAL);

    /* Phase B: 16 threads, 5 writes per call: each call is one batch at
     * least, so at most 160 commits for 800 writes. */
    memset(g, 0, GC_THREADS * sizeof *g);
    lv_engine_stats st0 = st;
    run_gc_phase(f->e, "b", GC_CHUNK, g);
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.writes - st0.writes, TOTAL);
    assert_int_equal(st.write_errors, 0);
    print_message("group commit, %d writes per call: %llu writes in %llu commits\n", GC_CHUNK,
                  (unsigned long long)(st.writes - st0.writes),
                  (unsigned long long)(st.commits - st0.commits));
    assert_true(st.commits - st0.commits <= TOTAL / GC_CHUNK);
    assert_true(st.commits - st0.commits <= TOTAL / 2);
    check_gc_phase(f->e, "b", g, TOTAL);
    check_log_consecutive(f->e, 2 * TOTAL);
    free(g);

    /* all of it is durable */
    fx_reopen(f);
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.revision, 2 * TOTAL);
    assert_int_equal(st.params, 2 * (TOTAL / 2 + GC_SHARED));
}

/* ---------- 3. one failing write does not fail its batch ---------- */

static void test_failure_inside_batch(void **state)
{
    fx *f = *state;
    lv_engine *e = f->e;
    put_ok(e, "/b/existing", "old", LV_TYPE_STRING, false);
    lv_engine_stats st0, st;
    lv_engine_stats_get(e, &st0);
    uint64_t rev0 = lv_engine_revision(e);

    lv_put_input in_ok1 = put_in("one", LV_TYPE_STRING, false);
    lv_put_input in_exists = put_in("clobber", LV_TYPE_STRING, false); /* no overwrite */
    lv_put_input in_ok2 = put_in("two", LV_TYPE_STRING, false);
    lv_put_input in_empty = put_in("", LV_TYPE_STRING, false);         /* ValidationException */
    lv_put_input in_again = put_in("one-b", LV_TYPE_STRING, true);     /* sees write 0 */
    lv_write w[6];
    w[0] = put_w("/b/new1", &in_ok1);
    w[1] = put_w("/b/existing", &in_exists);
    w[2] = put_w("/b/new2", &in_ok2);
    w[3] = put_w("/b/empty", &in_empty);
    w[4] = put_w("/b/new1", &in_again);
    memset(&w[5], 0, sizeof w[5]);
    w[5].kind = LV_WRITE_DELETE;
    w[5].region = REGION;
    w[5].name = "/b/never-was";
    assert_int_equal(lv_engine_write(e, w, 6), LV_OK);

    assert_int_equal(w[0].rc, LV_OK);
    assert_int_equal(w[0].u.put.res.version, 1);
    assert_int_equal(w[1].rc, LV_E_PARAM_EXISTS);
    assert_string_equal(lv_err_aws_code(w[1].rc), "ParameterAlreadyExists");
    assert_true(w[1].err.msg[0] != '\0');
    assert_int_equal(w[1].revision, 0);
    assert_int_equal(w[2].rc, LV_OK);
    assert_int_equal(w[3].rc, LV_E_VALIDATION);
    assert_int_equal(w[3].revision, 0);
    assert_int_equal(w[4].rc, LV_OK);
    assert_int_equal(w[4].u.put.res.version, 2);
    assert_int_equal(w[5].rc, LV_E_PARAM_NOT_FOUND);

    /* the three good writes got consecutive revisions in request order */
    assert_int_equal(w[0].revision, rev0 + 1);
    assert_int_equal(w[2].revision, rev0 + 2);
    assert_int_equal(w[4].revision, rev0 + 3);
    assert_int_equal(lv_engine_revision(e), rev0 + 3);

    lv_engine_stats_get(e, &st);
    assert_int_equal(st.writes - st0.writes, 6);
    assert_int_equal(st.write_errors - st0.write_errors, 3);
    assert_int_equal(st.commits - st0.commits, 1); /* one call, no other writer: one batch */

    for (int pass = 0; pass < 2; pass++) {
        rdlock(f->e);
        const lv_param *p = get_locked(f->e, "/b/existing");
        assert_non_null(p);
        assert_int_equal(p->nversions, 1);
        assert_string_equal(lv_param_latest(p)->value, "old");
        p = get_locked(f->e, "/b/new1");
        assert_non_null(p);
        assert_int_equal(p->nversions, 2);
        assert_string_equal(p->versions[0]->value, "one");
        assert_string_equal(p->versions[1]->value, "one-b");
        p = get_locked(f->e, "/b/new2");
        assert_non_null(p);
        assert_string_equal(lv_param_latest(p)->value, "two");
        assert_null(get_locked(f->e, "/b/empty"));
        rdunlock(f->e);
        if (pass == 0)
            fx_reopen(f);
    }
}

/* ---------- 4. readers during writes ---------- */

enum { RW_WRITERS = 4, RW_PUTS = 150, RW_READERS = 2 };

typedef struct rw_shared {
    lv_engine *e;
    volatile int writers_done;
    pthread_mutex_t mu;
    char failure[256];
    int64_t reads;
    unsigned distinct_seen;
} rw_shared;

typedef struct rw_writer {
    rw_shared *sh;
    int k;
    lv_err rc;
} rw_writer;

static void rw_fail(rw_shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rw_fail(rw_shared *sh, const char *fmt, ...)
{
    pthread_mutex_lock(&sh->mu);
    if (sh->failure[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sh->failure, sizeof sh->failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&sh->mu);
}

static void *rw_writer_main(void *arg)
{
    rw_writer *w = arg;
    char name[32], value[32], desc[32];
    snprintf(name, sizeof name, "/rw/p%d", w->k);
    w->rc = LV_OK;
    for (unsigned v = 1; v <= RW_PUTS; v++) {
        snprintf(value, sizeof value, "v%u", v);
        snprintf(desc, sizeof desc, "d%u", v);
        lv_put_input in = put_in(value, LV_TYPE_STRING, v > 1);
        in.description = desc;
        lv_write wr = put_w(name, &in);
        lv_engine_write(w->sh->e, &wr, 1);
        if (wr.rc != LV_OK || wr.u.put.res.version != v) {
            rw_fail(w->sh, "writer %d put %u: %s version %u", w->k, v, lv_err_name(wr.rc),
                    wr.u.put.res.version);
            w->rc = wr.rc == LV_OK ? LV_E_INTERNAL : wr.rc;
            break;
        }
    }
    return NULL;
}

/* Checks one parameter state of /rw/p<k> as a writer builds it. */
static bool rw_check(rw_shared *sh, int k, const lv_param *p, uint32_t *last,
                     unsigned *changes)
{
    const lv_version *lv = lv_param_latest(p);
    char want[32];
    if (lv == NULL) {
        rw_fail(sh, "p%d visible with no version", k);
        return false;
    }
    if (lv->version < *last) {
        rw_fail(sh, "p%d went back from version %u to %u", k, *last, lv->version);
        return false;
    }
    unsigned expect_n = lv->version < LV_MAX_VERSIONS ? lv->version : LV_MAX_VERSIONS;
    if (p->nversions != expect_n) {
        rw_fail(sh, "p%d at version %u holds %u versions", k, lv->version, p->nversions);
        return false;
    }
    for (unsigned j = 0; j < p->nversions; j++) {
        const lv_version *v = p->versions[j];
        uint32_t vv = lv->version - (p->nversions - 1 - j);
        snprintf(want, sizeof want, "v%u", vv);
        if (v->version != vv || v->value == NULL || v->value_len != strlen(want) ||
            memcmp(v->value, want, v->value_len) != 0) {
            rw_fail(sh, "p%d version %u: half-built (value %.*s)", k, vv,
                    v->value ? (int)v->value_len : 4, v->value ? v->value : "NULL");
            return false;
        }
        snprintf(want, sizeof want, "d%u", vv);
        if (v->description == NULL || strcmp(v->description, want) != 0) {
            rw_fail(sh, "p%d version %u: description %s", k, vv,
                    v->description ? v->description : "NULL");
            return false;
        }
    }
    if (lv->version != *last)
        (*changes)++;
    *last = lv->version;
    return true;
}

static void *rw_reader_main(void *arg)
{
    rw_shared *sh = arg;
    uint32_t last[RW_WRITERS] = {0};
    uint64_t last_rev = 0;
    int64_t reads = 0;
    unsigned changes = 0;
    bool ok = true;
    while (ok && !__atomic_load_n(&sh->writers_done, __ATOMIC_ACQUIRE)) {
        rdlock(sh->e);
        uint64_t rev = lv_engine_revision(sh->e);
        if (rev < last_rev) {
            rw_fail(sh, "revision went back from %llu to %llu", (unsigned long long)last_rev,
                    (unsigned long long)rev);
            ok = false;
        }
        last_rev = rev;
        for (int k = 0; ok && k < RW_WRITERS; k++) {
            char name[32];
            snprintf(name, sizeof name, "/rw/p%d", k);
            const lv_param *p = lv_engine_get(sh->e, REGION, name);
            if (p == NULL) {
                if (last[k] != 0) {
                    rw_fail(sh, "p%d vanished after version %u", k, last[k]);
                    ok = false;
                }
                continue;
            }
            ok = rw_check(sh, k, p, &last[k], &changes);
        }
        rdunlock(sh->e);
        reads++;
        sched_yield();
    }
    pthread_mutex_lock(&sh->mu);
    sh->reads += reads;
    sh->distinct_seen += changes;
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

static void test_readers_during_writes(void **state)
{
    fx *f = *state;
    rw_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.e = f->e;
    pthread_mutex_init(&sh.mu, NULL);
    pthread_t rt[RW_READERS], wt[RW_WRITERS];
    rw_writer w[RW_WRITERS];
    for (int i = 0; i < RW_READERS; i++)
        assert_int_equal(pthread_create(&rt[i], NULL, rw_reader_main, &sh), 0);
    for (int k = 0; k < RW_WRITERS; k++) {
        w[k].sh = &sh;
        w[k].k = k;
        assert_int_equal(pthread_create(&wt[k], NULL, rw_writer_main, &w[k]), 0);
    }
    for (int k = 0; k < RW_WRITERS; k++)
        pthread_join(wt[k], NULL);
    __atomic_store_n(&sh.writers_done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < RW_READERS; i++)
        pthread_join(rt[i], NULL);
    pthread_mutex_destroy(&sh.mu);
    if (sh.failure[0])
        fail_msg("%s", sh.failure);
    for (int k = 0; k < RW_WRITERS; k++)
        assert_int_equal(w[k].rc, LV_OK);
    print_message("readers: %lld reads, %u version changes observed\n", (long long)sh.reads,
                  sh.distinct_seen);
    assert_true(sh.reads > 0);
    /* the readers really ran alongside the writers, not only before/after */
    assert_true(sh.distinct_seen > (unsigned)RW_WRITERS);

    rdlock(f->e);
    for (int k = 0; k < RW_WRITERS; k++) {
        char name[32];
        snprintf(name, sizeof name, "/rw/p%d", k);
        const lv_param *p = get_locked(f->e, name);
        assert_non_null(p);
        assert_int_equal(lv_param_latest(p)->version, RW_PUTS);
        assert_int_equal(p->nversions, LV_MAX_VERSIONS);
        assert_int_equal(p->versions[0]->version, RW_PUTS - LV_MAX_VERSIONS + 1);
    }
    rdunlock(f->e);
}

/* ---------- 5. watchers ---------- */

typedef struct wctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fired;
    int64_t fired_at_ms; /* wall clock */
} wctx;

static void wctx_init(wctx *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void wctx_destroy(wctx *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static void on_fire(void *arg)
{
    wctx *c = arg;
    pthread_mutex_lock(&c->mu);
    c->fired++;
    if (c->fired == 1)
        c->fired_at_ms = wall_ms();
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int fired(wctx *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->fired;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits up to timeout_ms for the first firing; returns the count. */
static int wait_fired(wctx *c, long timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (c->fired == 0 && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0)
        ;
    int n = c->fired;
    pthread_mutex_unlock(&c->mu);
    return n;
}

typedef struct spec_buf {
    char key[128];
    lv_watch_spec spec;
} spec_buf;

/* A spec the way the watch API builds it: region\0path/ (path "/" = root). */
static const lv_watch_spec *make_spec(spec_buf *b, const char *path, bool recursive,
                                      int64_t deadline_ms)
{
    size_t rl = strlen(REGION) + 1;
    bool root = strcmp(path, "/") == 0;
    memcpy(b->key, REGION, rl);
    size_t len = rl;
    if (!root) {
        size_t pl = strlen(path);
        memcpy(b->key + rl, path, pl);
        len += pl;
    }
    b->spec.key_prefix = b->key;
    b->spec.prefix_len = len;
    b->spec.root = root;
    b->spec.recursive = recursive;
    b->spec.deadline_ms = deadline_ms;
    return &b->spec;
}

static void test_watchers(void **state)
{
    fx *f = *state;
    lv_engine *e = f->e;
    lv_error err;
    lv_error_clear(&err);
    int64_t far = wall_ms() + 60000;
    put_ok(e, "/w/seed", "x", LV_TYPE_STRING, false);
    uint64_t rev = lv_engine_revision(e);

    /* fires once on a matching commit, not on a non-matching one */
    wctx a, shallow;
    wctx_init(&a);
    wctx_init(&shallow);
    spec_buf sa, ss;
    assert_true(lv_engine_watch(e, make_spec(&sa, "/w/a/", true, far), rev, on_fire, &a, &err));
    assert_true(lv_engine_watch(e, make_spec(&ss, "/w/a/", false, far), rev, on_fire, &shallow,
                                &err));
    put_ok(e, "/w/b/x", "1", LV_TYPE_STRING, false);   /* other path */
    put_ok(e, "/w/ab", "1", LV_TYPE_STRING, false);    /* shares the text prefix only */
    /* lv_engine_write returns after the watchers of its commit were woken */
    assert_int_equal(fired(&a), 0);
    assert_int_equal(fired(&shallow), 0);
    put_ok(e, "/w/a/deep/x", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&a), 1);
    assert_int_equal(fired(&shallow), 0); /* not one level below /w/a */
    put_ok(e, "/w/a/y", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&shallow), 1);
    put_ok(e, "/w/a/z", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&a), 1);       /* exactly once */
    assert_int_equal(fired(&shallow), 1);

    /* already past `since`: not registered, caller must re-read the log */
    wctx late;
    wctx_init(&late);
    spec_buf sl;
    rev = lv_engine_revision(e);
    err.code = LV_E_INTERNAL;
    assert_false(lv_engine_watch(e, make_spec(&sl, "/", true, far), rev - 1, on_fire, &late, &err));
    assert_int_equal(err.code, LV_OK); /* not an error, just "look again" */
    put_ok(e, "/w/late", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&late), 0);

    /* root watcher, non-recursive: only top-level names */
    wctx top;
    wctx_init(&top);
    spec_buf st;
    rev = lv_engine_revision(e);
    assert_true(lv_engine_watch(e, make_spec(&st, "/", false, far), rev, on_fire, &top, &err));
    put_ok(e, "/w/c/x", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&top), 0);
    put_ok(e, "/toplevel", "1", LV_TYPE_STRING, false);
    assert_int_equal(fired(&top), 1);

    /* the deadline fires it, not before (timer tick 250 ms) */
    wctx dl;
    wctx_init(&dl);
    spec_buf sd;
    rev = lv_engine_revision(e);
    int64_t deadline = wall_ms() + 400;
    assert_true(lv_engine_watch(e, make_spec(&sd, "/nothing/", true, deadline), rev, on_fire, &dl,
                                &err));
    assert_int_equal(wait_fired(&dl, 5000), 1);
    pthread_mutex_lock(&dl.mu);
    int64_t at = dl.fired_at_ms;
    pthread_mutex_unlock(&dl.mu);
    assert_true(at >= deadline);
    assert_true(at - deadline < 2000);

    /* fire_all fires every parked watcher, once; later ones are refused */
    wctx all[3];
    spec_buf sall[3];
    rev = lv_engine_revision(e);
    for (int i = 0; i < 3; i++) {
        wctx_init(&all[i]);
        char path[32];
        snprintf(path, sizeof path, "/idle%d/", i);
        assert_true(lv_engine_watch(e, make_spec(&sall[i], path, true, far), rev, on_fire, &all[i],
                                    &err));
    }
    lv_engine_watch_fire_all(e);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fired(&all[i]), 1);
    put_ok(e, "/idle0/x", "1", LV_TYPE_STRING, false);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fired(&all[i]), 1);
    wctx after;
    wctx_init(&after);
    spec_buf sx;
    assert_false(lv_engine_watch(e, make_spec(&sx, "/", true, far), lv_engine_revision(e), on_fire,
                                 &after, &err));

    wctx *all_ctx[] = {&a, &shallow, &late, &top, &dl, &all[0], &all[1], &all[2], &after};
    for (size_t i = 0; i < sizeof all_ctx / sizeof *all_ctx; i++)
        wctx_destroy(all_ctx[i]);
}

/* A watcher still parked when the engine closes is answered by close. */
static void test_watcher_fired_on_close(void **state)
{
    fx *f = *state;
    wctx c;
    wctx_init(&c);
    spec_buf sb;
    lv_error err;
    assert_true(lv_engine_watch(f->e, make_spec(&sb, "/", true, wall_ms() + 60000),
                                lv_engine_revision(f->e), on_fire, &c, &err));
    assert_int_equal(fired(&c), 0);
    fx_reopen(f);
    assert_int_equal(fired(&c), 1);
    wctx_destroy(&c);
}

/* ---------- 6. policy expiry ---------- */

static void expiration_policy(int64_t at_ms, lv_policy_set *set, char *text, size_t textsz)
{
    memset(set, 0, sizeof *set);
    set->n = 1;
    set->p[0].type = LV_POLICY_EXPIRATION;
    set->p[0].timestamp_ms = at_ms;
    time_t secs = (time_t)(at_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text, textsz,
             "[{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":"
             "{\"Timestamp\":\"%s.%03dZ\"}}]",
             ts, (int)(at_ms % 1000));
}

static void put_expiring(lv_engine *e, const char *name, int64_t at_ms)
{
    lv_policy_set set;
    char text[256];
    expiration_policy(at_ms, &set, text, sizeof text);
    lv_put_input in = put_in("soon-gone", LV_TYPE_STRING, false);
    in.policies = &set;
    in.policies_text = text;
    in.has_tier = true;
    in.tier = LV_TIER_ADVANCED;
    lv_write w = put_w(name, &in);
    assert_int_equal(lv_engine_write(e, &w, 1), LV_OK);
    if (w.rc != LV_OK)
        fail_msg("put %s with policy: %s (%s)", name, lv_err_name(w.rc), w.err.msg);
    assert_int_equal(w.u.put.res.tier, LV_TIER_ADVANCED);
}

/* Waits, without reading any parameter, until stats.expired reaches n. */
static bool wait_expired(lv_engine *e, uint64_t n, int64_t until_wall_ms)
{
    lv_engine_stats st;
    for (;;) {
        lv_engine_stats_get(e, &st);
        if (st.expired >= n)
            return true;
        if (wall_ms() > until_wall_ms)
            return false;
        sleep_ms(20);
    }
}

static const lv_change *last_change_for(const lv_changelog *log, const char *name)
{
    for (size_t i = log->count; i-- > 0;) {
        const lv_change *c = lv_changelog_at(log, i);
        if (key_is(c, name))
            return c;
    }
    return NULL;
}

static void test_policy_expiry(void **state)
{
    fx *f = *state;
    put_ok(f->e, "/exp/keep", "stays", LV_TYPE_STRING, false);
    int64_t due_a = wall_ms() + 4000;
    put_expiring(f->e, "/exp/a", due_a);
    /* /exp/b is scheduled only by the store load after a reopen */
    int64_t due_b = wall_ms() + 4000;
    put_expiring(f->e, "/exp/b", due_b);
    fx_reopen(f);

    rdlock(f->e);
    const lv_param *p = get_locked(f->e, "/exp/a");
    assert_non_null(p);
    assert_non_null(lv_param_latest(p)->policy);
    assert_int_equal(lv_param_latest(p)->policy->n, 1);
    assert_int_equal(lv_param_latest(p)->policy->p[0].timestamp_ms, due_a);
    assert_non_null(lv_param_latest(p)->policies);
    assert_non_null(get_locked(f->e, "/exp/b"));
    rdunlock(f->e);
    uint64_t rev0 = lv_engine_revision(f->e);

    assert_true(wait_expired(f->e, 2, due_b + 30000));
    int64_t seen = wall_ms();
    assert_true(seen >= due_a && seen >= due_b); /* not before it was due */

    rdlock(f->e);
    assert_null(get_locked(f->e, "/exp/a"));
    assert_null(get_locked(f->e, "/exp/b"));
    assert_non_null(get_locked(f->e, "/exp/keep"));
    const lv_changelog *log = lv_engine_changelog(f->e);
    const char *names[] = {"/exp/a", "/exp/b"};
    for (int i = 0; i < 2; i++) {
        const lv_change *c = last_change_for(log, names[i]);
        assert_non_null(c);
        assert_int_equal(c->kind, LV_CHANGE_EXPIRE);
        assert_int_equal(c->version, 1);
        assert_true(c->revision > rev0);
        assert_true(c->time_ms >= (i == 0 ? due_a : due_b));
    }
    assert_int_equal(lv_engine_revision(f->e), rev0 + 2);
    rdunlock(f->e);
    lv_engine_stats st;
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.expired, 2);
    assert_int_equal(st.params, 1);

    /* the expiry was a durable write */
    uint64_t rev1 = lv_engine_revision(f->e);
    fx_reopen(f);
    assert_int_equal(lv_engine_revision(f->e), rev1);
    rdlock(f->e);
    assert_null(get_locked(f->e, "/exp/a"));
    assert_null(get_locked(f->e, "/exp/b"));
    assert_non_null(get_locked(f->e, "/exp/keep"));
    rdunlock(f->e);
    /* and is not repeated after the reopen */
    sleep_ms(600);
    assert_int_equal(lv_engine_revision(f->e), rev1);
}

/* An overwrite without a policy cancels the pending expiry. */
static void test_overwrite_cancels_expiry(void **state)
{
    fx *f = *state;
    int64_t due = wall_ms() + 3000;
    put_expiring(f->e, "/exp/c", due);
    lv_policy_set none = {0};
    lv_put_input in = put_in("kept", LV_TYPE_STRING, true);
    in.policies = &none;
    in.policies_text = "[]";
    lv_write w = put_w("/exp/c", &in);
    assert_int_equal(lv_engine_write(f->e, &w, 1), LV_OK);
    assert_int_equal(w.rc, LV_OK);
    assert_int_equal(w.u.put.res.version, 2);
    int64_t left = due - wall_ms();
    sleep_ms((left > 0 ? left : 0) + 700); /* past the due time plus more than two ticks */
    lv_engine_stats st;
    lv_engine_stats_get(f->e, &st);
    assert_int_equal(st.expired, 0);
    rdlock(f->e);
    const lv_param *p = get_locked(f->e, "/exp/c");
    assert_non_null(p);
    assert_string_equal(lv_param_latest(p)->value, "kept");
    assert_null(lv_param_latest(p)->policy);
    rdunlock(f->e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_inside_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_during_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_fired_on_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_cancels_expiry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
