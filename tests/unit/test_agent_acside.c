/* test_agent_acside.c - which side of a gradual deployment lever-agent
 * serves each entity (lvac_side_for): the vectors of
 * tests/data/bucketing_vectors.json decide it exactly, and outside a
 * deployment (or with nothing to fall back on) everyone gets the current
 * version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "agent/acint.h"

static void test_sides(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_load_file(LV_TEST_DATA "/bucketing_vectors.json", 0, &je);
    if (doc == NULL)
        fail_msg("bucketing_vectors.json: %s (line %d)", je.text, je.line);
    acentry e;
    memset(&e, 0, sizeof e);
    char to[] = "new", from[] = "old";
    e.cur.data = to;
    e.from.data = from;
    size_t i, checked = 0;
    json_t *v;
    json_array_foreach(json_object_get(doc, "vectors"), i, v) {
        const char *seed = json_string_value(json_object_get(v, "seed"));
        const char *ent = json_string_value(json_object_get(v, "entity"));
        uint32_t b = (uint32_t)json_integer_value(json_object_get(v, "bucket"));
        if (seed[0] == '\0' || strlen(seed) > LVC_ROLLOUT_SEED_MAX || strlen(seed) != json_string_length(json_object_get(v, "seed")))
            continue;
        memset(&e.rollout, 0, sizeof e.rollout);
        e.rollout.active = true;
        snprintf(e.rollout.seed, sizeof e.rollout.seed, "%s", seed);
        snprintf(e.rollout.from, sizeof e.rollout.from, "1");
        snprintf(e.rollout.to, sizeof e.rollout.to, "2");
        e.rollout.percent = b / 100.0;
        assert_ptr_equal(lvac_side_for(&e, ent), &e.from);
        e.rollout.percent = (b + 1) / 100.0;
        assert_ptr_equal(lvac_side_for(&e, ent), &e.cur);
        checked++;
    }
    assert_true(checked >= 20);
    /* nothing to fall back on, or no deployment: the current version */
    e.rollout.percent = 0;
    e.rollout.from[0] = '\0';
    assert_ptr_equal(lvac_side_for(&e, "agent-0"), &e.cur);
    snprintf(e.rollout.from, sizeof e.rollout.from, "1");
    e.rollout.active = false;
    assert_ptr_equal(lvac_side_for(&e, "agent-0"), &e.cur);
    e.rollout.active = true;
    e.from.data = NULL; /* not held: never serve a side the agent lacks */
    assert_ptr_equal(lvac_side_for(&e, "agent-0"), &e.cur);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
