/* test_rollout.c - deployment growth (core/rollout.h): the step sequence
 * and gaps of LINEAR, EXPONENTIAL, canary and all-at-once strategies with
 * and without bake time, and the plans that move a deployment (start,
 * the driver's steps with stale and repeated ones refused, a BAKING
 * deployment completed by the next start, rollback, revert's 72 hours,
 * the override's recovered alarms, AppliedExtensions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/acrec.h"
#include "core/appconfig.h"
#include "core/rollout.h"

#include "acview_fixture.h"

enum { MIN = 60000 };

static lv_rollout_strategy strat(double g, int dur_min, int bake_min, bool expo, bool canary)
{
    lv_rollout_strategy s = {g, (int64_t)dur_min * MIN, (int64_t)bake_min * MIN, expo, canary};
    return s;
}

/* The percentages after steps 1..n, and each step's gap in minutes. */
static void expect(const lv_rollout_strategy *s, const double *pct, const double *gap_min, unsigned n, bool bake)
{
    assert_int_equal(lv_rollout_steps(s), n);
    assert_int_equal(lv_rollout_last(s), n + bake);
    assert_true(lv_rollout_percent(s, 0) == 0);
    for (unsigned k = 1; k <= n; k++) {
        assert_true(lv_rollout_percent(s, k) == pct[k - 1]);
        assert_int_equal(lv_rollout_gap_ms(s, k), (int64_t)(gap_min[k - 1] * MIN));
    }
    assert_true(lv_rollout_percent(s, n + 1) == 100);
    assert_int_equal(lv_rollout_gap_ms(s, n + 1), bake ? s->bake_ms : 0);
    assert_int_equal(lv_rollout_gap_ms(s, n + 2), 0);
}

static void test_linear(void **state)
{
    (void)state;
    /* AWS's example: 20% over 10 hours, 0% at the start, +20% every 2 h */
    lv_rollout_strategy s = strat(20, 600, 0, false, false);
    expect(&s, (double[]){20, 40, 60, 80, 100}, (double[]){120, 120, 120, 120, 120}, 5, false);
    /* AppConfig.Linear50PercentEvery30Seconds: 1 minute, bake 1 */
    s = strat(50, 1, 1, false, false);
    expect(&s, (double[]){50, 100}, (double[]){0.5, 0.5}, 2, true);
    /* Lever.Linear10PercentEvery3Minutes */
    s = strat(10, 30, 0, false, false);
    assert_int_equal(lv_rollout_steps(&s), 10);
    assert_int_equal(lv_rollout_gap_ms(&s, 7), 3 * MIN);
    assert_true(lv_rollout_percent(&s, 7) == 70);
    /* a factor that does not divide 100: the last step is 100 */
    s = strat(33.3, 4, 0, false, false);
    expect(&s, (double[]){33.3, 66.6, 99.9, 100}, (double[]){1, 1, 1, 1}, 4, false);
}

static void test_exponential(void **state)
{
    (void)state;
    /* AppConfig.Canary10Percent20Minutes: 10, 20, 40, 80, 100 every 4 min */
    lv_rollout_strategy s = strat(10, 20, 10, true, false);
    expect(&s, (double[]){10, 20, 40, 80, 100}, (double[]){4, 4, 4, 4, 4}, 5, true);
    /* AWS's example G = 2: 2, 4, 8, ... */
    s = strat(2, 7, 0, true, false);
    expect(&s, (double[]){2, 4, 8, 16, 32, 64, 100}, (double[]){1, 1, 1, 1, 1, 1, 1}, 7, false);
    s = strat(50, 2, 0, true, false);
    expect(&s, (double[]){50, 100}, (double[]){1, 1}, 2, false);
}

static void test_canary_and_all_at_once(void **state)
{
    (void)state;
    /* Lever.Canary10Percent5Minutes: 10% at once for 5 minutes, then all */
    lv_rollout_strategy s = strat(10, 5, 0, false, true);
    expect(&s, (double[]){10, 100}, (double[]){0, 5}, 2, false);
    /* AllAtOnce: one step at once; AWS's bakes 10 minutes */
    s = strat(100, 0, 10, false, false);
    expect(&s, (double[]){100}, (double[]){0}, 1, true);
    /* a duration of 0 is all at once whatever the factor */
    s = strat(20, 0, 0, false, false);
    expect(&s, (double[]){100}, (double[]){0}, 1, false);
    char t[16];
    lv_rollout_percent_text(37.5, t, sizeof t);
    assert_string_equal(t, "37.5");
    lv_rollout_percent_text(100, t, sizeof t);
    assert_string_equal(t, "100");
    lv_rollout_percent_text(66.6, t, sizeof t);
    assert_string_equal(t, "66.6");
    lv_rollout_percent_text(0, t, sizeof t);
    assert_string_equal(t, "0");
}

/* ---------- plans ---------- */

typedef struct tree {
    world w;
    char app[8], env[8], prof[8];
} tree;

static void tree_init(tree *t)
{
    world_init(&t->w);
    lv_acrec *in = input(LV_AC_APP, AF__N);
    lv_acrec_set_str(in, AF_NAME, "a");
    create(&t->w, LV_ACOP_CREATE_APP, in, NULL, t->app);
    lv_acrec_unref(in);
    in = input(LV_AC_ENV, EF__N);
    lv_acrec_set_str(in, EF_NAME, "prod");
    create(&t->w, LV_ACOP_CREATE_ENV, in, t->app, t->env);
    lv_acrec_unref(in);
    in = input(LV_AC_PROFILE, PF__N);
    lv_acrec_set_str(in, PF_NAME, "cfg");
    lv_acrec_set_str(in, PF_LOCATION, "hosted");
    create(&t->w, LV_ACOP_CREATE_PROFILE, in, t->app, t->prof);
    lv_acrec_unref(in);
    for (int v = 1; v <= 3; v++) {
        in = input(LV_AC_HOSTED, HF__N);
        lv_acrec_set_str(in, HF_CTYPE, "text/plain");
        lv_acrec_set_str(in, HF_CONTENT, "x");
        lv_acreq q = {.op = LV_ACOP_CREATE_HOSTED, .in = in, .app = t->app, .profile = t->prof, .lock = -1};
        lv_error err = {0};
        assert_int_equal(run(&t->w, &q, NULL, &err), LV_OK);
        lv_acrec_unref(in);
    }
}

static lv_err start(tree *t, const char *ver, const char *strategy, int64_t now, lv_acrec **res, lv_error *err)
{
    lv_acrec *d = input(LV_AC_DEPLOY, DF__N);
    lv_acrec_set_str(d, DF_PROFILE, t->prof);
    lv_acrec_set_str(d, DF_VERSION, ver);
    lv_acrec_set_str(d, DF_STRATEGY, strategy);
    lv_acreq q = {.op = LV_ACOP_START_DEPLOYMENT, .in = d, .app = t->app, .env = t->env, .lock = -1, .now_ms = now};
    lv_err rc = run(&t->w, &q, res, err);
    lv_acrec_unref(d);
    return rc;
}

static lv_err step(tree *t, int64_t number, int64_t k, int64_t now, lv_acrec **res, lv_error *err)
{
    lv_acreq q = {.op = LV_ACOP_DEPLOY_STEP, .app = t->app, .env = t->env, .number = number, .step = k,
                  .lock = -1, .now_ms = now};
    return run(&t->w, &q, res, err);
}

static const char *env_state(tree *t)
{
    return lv_acrec_str(lv_ac_get(&t->w.v, "e%s/%s", t->app, t->env), EF_STATE);
}

static void test_plans_step_sequence(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    lv_error err = {0};
    lv_acrec *r = NULL;
    assert_int_equal(start(&t, "1", "Lever.AllAtOnce", 1000, &r, &err), LV_OK);
    lv_acrec_unref(r);
    /* Linear 10% every minute: DEPLOYING at 0%, from version 1 */
    assert_int_equal(start(&t, "2", "Lever.Linear10PercentEvery1Minute", 2000, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "DEPLOYING");
    assert_string_equal(lv_acrec_str(r, DF_PERCENT), "0");
    assert_string_equal(lv_acrec_str(r, DF_PREV_VERSION), "1");
    assert_int_equal(lv_acrec_num(r, DF_STEP), 0);
    assert_int_equal(lv_acrec_num(r, DF_NUMBER), 2);
    lv_acrec_unref(r);
    assert_string_equal(env_state(&t), "Deploying");
    /* one deployment per environment */
    assert_int_equal(start(&t, "3", "Lever.AllAtOnce", 2500, NULL, &err), LV_E_AC_CONFLICT);
    size_t before = t.w.changes;
    /* a step out of order or repeated is refused and changes nothing */
    assert_int_equal(step(&t, 2, 2, 3000, NULL, &err), LV_E_AC_CONFLICT);
    assert_int_equal(step(&t, 2, 0, 3000, NULL, &err), LV_E_AC_CONFLICT);
    for (int k = 1; k <= 9; k++) {
        assert_int_equal(step(&t, 2, k, 3000 + k, &r, &err), LV_OK);
        assert_int_equal(strtol(lv_acrec_str(r, DF_PERCENT), NULL, 10), 10 * k);
        assert_int_equal(lv_acrec_num(r, DF_STEP_MS), 3000 + k);
        lv_acrec_unref(r);
        assert_int_equal(step(&t, 2, k, 3000 + k, NULL, &err), LV_E_AC_CONFLICT);
    }
    assert_int_equal(t.w.changes, before + 9); /* one DeploymentStep each */
    assert_int_equal(step(&t, 2, 10, 4000, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "COMPLETE");
    assert_int_equal(lv_acrec_num(r, DF_COMPLETED), 4000);
    /* STARTED + 10 PERCENTAGE_UPDATED + COMPLETED */
    assert_int_equal(lv_acrec_count(r, DF_EVENTS), 4 * 12);
    lv_acrec_unref(r);
    assert_int_equal(t.w.changes, before + 11);
    assert_string_equal(env_state(&t), "ReadyForDeployment");
    assert_int_equal(step(&t, 2, 11, 5000, NULL, &err), LV_E_AC_CONFLICT);
    lv_actable_free(&t.w.t);
}

static void test_plans_bake_canary_stop_revert(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    lv_error err = {0};
    lv_acrec *r = NULL;
    /* AWS's AllAtOnce: 100% at once, then BAKING */
    assert_int_equal(start(&t, "1", "AppConfig.AllAtOnce", 1000, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "BAKING");
    assert_string_equal(lv_acrec_str(r, DF_PERCENT), "100");
    assert_string_equal(lv_acrec_str(r, DF_PREV_VERSION), "");
    lv_acrec_unref(r);
    /* a new start completes the baking deployment */
    assert_int_equal(start(&t, "2", "Lever.Canary10Percent5Minutes", 2000, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "DEPLOYING");
    assert_string_equal(lv_acrec_str(r, DF_PERCENT), "10"); /* the canary's share at once */
    assert_string_equal(lv_acrec_str(r, DF_PREV_VERSION), "1");
    assert_int_equal(lv_acrec_num(r, DF_STEP), 1);
    lv_acrec_unref(r);
    const lv_acrec *d1 = lv_ac_get(&t.w.v, "d%s/%s/%010d", t.app, t.env, 1);
    assert_string_equal(lv_acrec_str(d1, DF_STATE), "COMPLETE");
    /* StopDeployment rolls back: version 1 is served again */
    lv_acreq st = {.op = LV_ACOP_STOP_DEPLOYMENT, .app = t.app, .env = t.env, .number = 2, .lock = -1,
                   .now_ms = 3000};
    assert_int_equal(run(&t.w, &st, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "ROLLED_BACK");
    lv_acrec_unref(r);
    assert_string_equal(env_state(&t), "RolledBack");
    assert_string_equal(lv_acrec_str(lv_ac_serving(&t.w.v, t.app, t.env, t.prof), DF_VERSION), "1");
    assert_int_equal(step(&t, 2, 2, 4000, NULL, &err), LV_E_AC_CONFLICT);
    /* the driver's rollback: by an alarm, with its reason */
    assert_int_equal(start(&t, "3", "Lever.Linear10PercentEvery1Minute", 5000, NULL, &err), LV_OK);
    assert_int_equal(step(&t, 3, 1, 6000, NULL, &err), LV_OK);
    lv_acreq rb = {.op = LV_ACOP_ROLLBACK, .app = t.app, .env = t.env, .number = 3, .lock = -1, .now_ms = 7000,
                   .by = "CLOUDWATCH_ALARM", .reason = "Alarm x is in ALARM"};
    assert_int_equal(run(&t.w, &rb, &r, &err), LV_OK);
    unsigned n = lv_acrec_count(r, DF_EVENTS);
    assert_string_equal(lv_acrec_item(r, DF_EVENTS, n - 8)->p, "ROLLBACK_STARTED");
    assert_string_equal(lv_acrec_item(r, DF_EVENTS, n - 7)->p, "CLOUDWATCH_ALARM");
    assert_string_equal(lv_acrec_item(r, DF_EVENTS, n - 6)->p, "Alarm x is in ALARM");
    assert_string_equal(lv_acrec_item(r, DF_EVENTS, n - 4)->p, "ROLLBACK_COMPLETED");
    lv_acrec_unref(r);
    assert_int_equal(run(&t.w, &rb, NULL, &err), LV_E_AC_CONFLICT); /* only once */
    /* revert: only within 72 hours of COMPLETE */
    assert_int_equal(start(&t, "3", "Lever.AllAtOnce", 8000, NULL, &err), LV_OK);
    lv_acreq rv = {.op = LV_ACOP_STOP_DEPLOYMENT, .app = t.app, .env = t.env, .number = 4, .lock = -1,
                   .allow_revert = true, .now_ms = 8000 + LV_AC_REVERT_MS + 1};
    assert_int_equal(run(&t.w, &rv, NULL, &err), LV_E_AC_BAD_REQUEST);
    rv.now_ms = 9000;
    assert_int_equal(run(&t.w, &rv, &r, &err), LV_OK);
    assert_string_equal(lv_acrec_str(r, DF_STATE), "REVERTED");
    lv_acrec_unref(r);
    assert_string_equal(env_state(&t), "Reverted");
    assert_string_equal(lv_acrec_str(lv_ac_serving(&t.w.v, t.app, t.env, t.prof), DF_VERSION), "1");
    lv_actable_free(&t.w.t);
}

static void test_override_tag(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    lv_error err = {0};
    lv_acrec *d = input(LV_AC_DEPLOY, DF__N), *tags = input(LV_AC_TAGS, TF__N), *r = NULL;
    lv_acrec_set_str(d, DF_PROFILE, t.prof);
    lv_acrec_set_str(d, DF_VERSION, "1");
    lv_acrec_set_str(d, DF_STRATEGY, "Lever.Linear10PercentEvery1Minute");
    lv_acrec_push(tags, TF_TAGS, LV_AC_OVERRIDE_TAG, strlen(LV_AC_OVERRIDE_TAG));
    lv_acrec_push(tags, TF_TAGS, "checkout-5xx, latency", 21);
    lv_acreq q = {.op = LV_ACOP_START_DEPLOYMENT, .in = d, .tags = tags, .app = t.app, .env = t.env, .lock = -1,
                  .now_ms = 1};
    assert_int_equal(run(&t.w, &q, &r, &err), LV_OK);
    assert_int_equal(lv_acrec_count(r, DF_OVERRIDE), 2);
    assert_string_equal(lv_acrec_item(r, DF_OVERRIDE, 1)->p, "latency");
    assert_non_null(strstr(lv_acrec_item(r, DF_EVENTS, 2)->p, "checkout-5xx latency"));
    lv_acrec_unref(r);
    lv_acrec_unref(d);
    lv_acrec_unref(tags);
    lv_actable_free(&t.w.t);
}

/* The override's recovered alarms: "!<alarm>" in DF_OVERRIDE, written
 * once, refused once the deployment is over; "!" items of the tag are
 * not names. */
static void test_rearm(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    lv_error err = {0};
    lv_acrec *d = input(LV_AC_DEPLOY, DF__N), *tags = input(LV_AC_TAGS, TF__N), *r = NULL;
    lv_acrec_set_str(d, DF_PROFILE, t.prof);
    lv_acrec_set_str(d, DF_VERSION, "1");
    lv_acrec_set_str(d, DF_STRATEGY, "Lever.Linear10PercentEvery1Minute");
    lv_acrec_push(tags, TF_TAGS, LV_AC_OVERRIDE_TAG, strlen(LV_AC_OVERRIDE_TAG));
    lv_acrec_push(tags, TF_TAGS, "a5xx,!forged", 12);
    lv_acreq q = {.op = LV_ACOP_START_DEPLOYMENT, .in = d, .tags = tags, .app = t.app, .env = t.env, .lock = -1,
                  .now_ms = 1};
    assert_int_equal(run(&t.w, &q, &r, &err), LV_OK);
    int64_t n = lv_acrec_num(r, DF_NUMBER);
    assert_int_equal(lv_acrec_count(r, DF_OVERRIDE), 1); /* "!forged" is not a name */
    assert_false(lv_ac_rearmed(r, "forged"));
    assert_false(lv_ac_rearmed(r, "a5xx"));
    lv_acrec_unref(r);
    lv_acreq ra = {.op = LV_ACOP_REARM_ALARM, .app = t.app, .env = t.env, .number = n, .alarm = "a5xx",
                   .lock = -1, .now_ms = 2};
    assert_int_equal(run(&t.w, &ra, &r, &err), LV_OK);
    assert_true(lv_ac_rearmed(r, "a5xx"));
    assert_int_equal(lv_acrec_count(r, DF_OVERRIDE), 2);
    assert_int_equal(t.w.changes, 1 + 0); /* the start's change only: nothing served changed */
    lv_acrec_unref(r);
    /* again: nothing more is written */
    lv_acplan p;
    assert_int_equal(lv_ac_plan(&t.w.v, &ra, &p, &err), LV_OK);
    assert_int_equal(p.nputs, 0);
    lv_acplan_free(&p);
    /* over: refused */
    lv_acreq st = {.op = LV_ACOP_STOP_DEPLOYMENT, .app = t.app, .env = t.env, .number = n, .lock = -1, .now_ms = 3};
    assert_int_equal(run(&t.w, &st, NULL, &err), LV_OK);
    ra.alarm = "other";
    assert_int_equal(run(&t.w, &ra, NULL, &err), LV_E_AC_CONFLICT);
    lv_acrec_unref(d);
    lv_acrec_unref(tags);
    lv_actable_free(&t.w.t);
}

/* AppliedExtensions: the associations of the app, env and profile at the
 * start, kept in "A<deployment key>"; deleted with the environment. */
static void test_applied_extensions(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    lv_error err = {0};
    lv_acrec *x = input(LV_AC_EXT, XF__N), *r = NULL;
    lv_acrec_set_str(x, XF_NAME, "notify");
    lv_acreq xq = {.op = LV_ACOP_CREATE_EXT, .in = x, .lock = -1};
    assert_int_equal(run(&t.w, &xq, &r, &err), LV_OK);
    char ext[8];
    snprintf(ext, sizeof ext, "%s", lv_acrec_str(r, XF_ID));
    lv_acrec_unref(r);
    char reskey[40];
    snprintf(reskey, sizeof reskey, "e%s/%s", t.app, t.env);
    const char *targets[] = {reskey, "lus-east-1|/p|"};
    for (int i = 0; i < 2; i++) {
        lv_acrec *a = input(LV_AC_ASSOC, YF__N);
        lv_acrec_set_str(a, YF_EXT, ext);
        lv_acrec_set_str(a, YF_RESOURCE, "arn");
        lv_acrec_push(a, YF_PARAMS, "k", 1);
        lv_acrec_push(a, YF_PARAMS, "v", 1);
        lv_acreq aq = {.op = LV_ACOP_CREATE_ASSOC, .in = a, .target = targets[i], .lock = -1};
        assert_int_equal(run(&t.w, &aq, NULL, &err), LV_OK); /* a parameter key needs no record */
        lv_acrec_unref(a);
    }
    assert_int_equal(start(&t, "1", "Lever.AllAtOnce", 10, &r, &err), LV_OK);
    const lv_acrec *ap = lv_ac_get(&t.w.v, "%c%s", LV_AC_APPLIED, r->key);
    assert_non_null(ap);
    assert_int_equal(lv_acrec_count(ap, QF_EXTS), 6); /* ext, assoc, version, 1, k, v */
    assert_string_equal(lv_acrec_item(ap, QF_EXTS, 0)->p, ext);
    assert_string_equal(lv_acrec_item(ap, QF_EXTS, 2)->p, "1");
    assert_string_equal(lv_acrec_item(ap, QF_EXTS, 5)->p, "v");
    lv_acrec_unref(r);
    /* deleting the environment deletes the deployment's record too */
    lv_acreq de = {.op = LV_ACOP_DELETE_ENV, .app = t.app, .env = t.env, .lock = -1};
    assert_int_equal(run(&t.w, &de, NULL, &err), LV_OK);
    char ap_prefix[2] = {LV_AC_APPLIED, 0};
    assert_int_equal(lv_ac_count(&t.w.v, ap_prefix), 0);
    lv_acrec_unref(x);
    lv_actable_free(&t.w.t);
}

/* A label rollout: its record, its steps, the label move planned with the
 * completing step, and parameter-keyed changes. */
static void test_label_plans(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    lv_error err = {0};
    lv_acrec *in = input(LV_AC_LABEL_DEPLOY, DF__N), *r = NULL;
    lv_acrec_set_num(in, DF_VERSION, 2);
    lv_acrec_set_str(in, DF_PREV_VERSION, "1");
    lv_acrec_set_str(in, DF_STRATEGY, "Lever.Canary10Percent5Minutes");
    lv_acreq q = {.op = LV_ACOP_START_LABEL_DEPLOYMENT, .in = in, .app = "us-east-1", .env = "/a/b",
                  .profile = "live", .lock = -1, .now_ms = 10};
    assert_int_equal(run(&w, &q, &r, &err), LV_OK);
    assert_string_equal(r->key, "lus-east-1|/a/b|live|0000000001");
    assert_string_equal(lv_acrec_str(r, DF_PERCENT), "10");
    lv_acrec_unref(r);
    assert_ptr_equal(lv_ac_label_deployment(&w.v, "us-east-1", "/a/b", "live"),
                     lv_ac_get(&w.v, "lus-east-1|/a/b|live|0000000001"));
    assert_null(lv_ac_label_deployment(&w.v, "us-east-1", "/a/b", "other"));
    /* one at a time per label; the label already on the version is refused */
    assert_int_equal(run(&w, &q, NULL, &err), LV_E_AC_CONFLICT);
    /* the completing step plans the label move, with parameter changes */
    lv_acreq st = {.op = LV_ACOP_DEPLOY_STEP, .target = "lus-east-1|/a/b|live|0000000001", .number = 1, .step = 2,
                   .lock = -1, .now_ms = 20};
    lv_acplan p;
    assert_int_equal(lv_ac_plan(&w.v, &st, &p, &err), LV_OK);
    assert_string_equal(p.move.name, "/a/b");
    assert_string_equal(p.move.label, "live");
    assert_int_equal(p.move.version, 2);
    assert_int_equal(p.nchg, 2); /* the step and the completion */
    assert_int_equal(p.chg[0].kind, LV_CHANGE_LABEL);
    assert_memory_equal(p.chg[0].key, "us-east-1\0/a/b", 14);
    assert_string_equal(lv_acrec_str(p.result, DF_STATE), "COMPLETE");
    lv_acplan_free(&p);
    /* a rollback instead: no move */
    lv_acreq rb = {.op = LV_ACOP_ROLLBACK, .target = "lus-east-1|/a/b|live|0000000001", .number = 1, .lock = -1,
                   .by = "CLOUDWATCH_ALARM", .reason = "x", .now_ms = 30};
    assert_int_equal(lv_ac_plan(&w.v, &rb, &p, &err), LV_OK);
    assert_null(p.move.name);
    assert_string_equal(lv_acrec_str(p.result, DF_STATE), "ROLLED_BACK");
    lv_acplan_free(&p);
    lv_acrec_set_str(in, DF_PREV_VERSION, "2");
    q.profile = "other";
    assert_int_equal(run(&w, &q, NULL, &err), LV_E_VALIDATION);
    lv_acrec_unref(in);
    lv_actable_free(&w.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_canary_and_all_at_once),
        cmocka_unit_test(test_plans_step_sequence),
        cmocka_unit_test(test_plans_bake_canary_stop_revert),
        cmocka_unit_test(test_override_tag),
        cmocka_unit_test(test_label_plans),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_applied_extensions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lv_ac_predefined_free();
    return rc;
}
