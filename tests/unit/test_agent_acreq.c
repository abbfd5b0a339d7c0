/* test_agent_acreq.c - the AppConfig Agent API's request parsers: paths by
 * name or id with percent-escapes and the OFREP suffix, ?flag=, Context
 * headers, the bearer token, prefetch items, local development file names,
 * and the disk copy's encode/decode round trip with its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cmocka.h>

#include "agent/accache.h"
#include "agent/acreq.h"

static void test_path(void **state)
{
    (void)state;
    lvac_target t;
    char err[256];
    assert_int_equal(lvac_parse_path("/applications/My%20App/environments/prod/configurations/abc1234", &t, err,
                                     sizeof err), 0);
    assert_string_equal(t.app, "My App");
    assert_string_equal(t.env, "prod");
    assert_string_equal(t.profile, "abc1234");
    assert_int_equal(t.kind, LVAC_CONFIG);
    assert_int_equal(lvac_parse_path("/applications/a/environments/e/configurations/p/", &t, err, sizeof err), 0);
    assert_int_equal(lvac_parse_path("/applications/a/environments/e/configurations/p/ofrep/v1/evaluate/flags", &t,
                                     err, sizeof err), 0);
    assert_int_equal(t.kind, LVAC_OFREP_BULK);
    assert_int_equal(lvac_parse_path("/applications/a/environments/e/configurations/p/ofrep/v1/evaluate/flags/new-ui",
                                     &t, err, sizeof err), 0);
    assert_int_equal(t.kind, LVAC_OFREP_ONE);
    assert_string_equal(t.flag, "new-ui");
    /* not ours at all: 404 */
    assert_int_equal(lvac_parse_path("/healthz", &t, err, sizeof err), 1);
    assert_int_equal(lvac_parse_path("/systemsmanager/parameters/get", &t, err, sizeof err), 1);
    /* ours but malformed: 400 with a reason */
    const char *bad[] = {
        "/applications/a/environments/e",
        "/applications/a/environments//configurations/p",
        "/applications/a%2Fb/environments/e/configurations/p",
        "/applications/a%00/environments/e/configurations/p",
        "/applications/a%zz/environments/e/configurations/p",
        "/applications/a:b/environments/e/configurations/p",
        "/applications/a/environments/e/configurations/p/extra",
        "/applications/a/environments/e/configurations/p/ofrep/v1/evaluate/flags/bad%20key",
        "/applications/%ff/environments/e/configurations/p",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(lvac_parse_path(bad[i], &t, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    char longp[512];
    char name[LVAC_NAME_MAX + 2];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(longp, sizeof longp, "/applications/%s/environments/e/configurations/p", name);
    assert_int_equal(lvac_parse_path(longp, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "longer"));
    name[LVAC_NAME_MAX] = '\0';
    snprintf(longp, sizeof longp, "/applications/%s/environments/e/configurations/p", name);
    assert_int_equal(lvac_parse_path(longp, &t, err, sizeof err), 0);
}

static void test_query(void **state)
{
    (void)state;
    lvac_flags f;
    char err[256];
    const char *q = "flag=a&&flag=b_2&flag=a&";
    assert_int_equal(lvac_parse_query(q, strlen(q), &f, err, sizeof err), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.keys[0], "a");
    assert_string_equal(f.keys[1], "b_2");
    assert_int_equal(lvac_parse_query("", 0, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    const char *bad[] = {"flags=a", "flag", "flag=", "flag=a%20b", "Flag=a", "flag=%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lvac_parse_query(bad[i], strlen(bad[i]), &f, err, sizeof err), -1);
}

static void test_context(void **state)
{
    (void)state;
    lvac_context *c = calloc(1, sizeof *c);
    lvac_context_init(c);
    char err[256];
    assert_int_equal(lvac_parse_context("tier=gold, region = eu-west-1", c, err, sizeof err), 0);
    assert_int_equal(lvac_parse_context("tier=silver,empty=", c, err, sizeof err), 0);
    assert_int_equal(c->n, 3);
    assert_string_equal(lvac_ctx_key(c, 0), "tier");
    assert_string_equal(lvac_ctx_value(c, 0), "silver");
    assert_string_equal(lvac_ctx_key(c, 1), "region");
    assert_string_equal(lvac_ctx_value(c, 1), "eu-west-1");
    assert_string_equal(lvac_ctx_value(c, 2), "");
    assert_int_equal(lvac_parse_context("novalue", c, err, sizeof err), -1);
    assert_int_equal(lvac_parse_context("=v", c, err, sizeof err), -1);
    assert_int_equal(c->n, 3); /* unchanged by a refusal */
    /* a header that fails half way leaves nothing behind either */
    assert_int_equal(lvac_parse_context("tier=bronze,new=1,=bad", c, err, sizeof err), -1);
    assert_int_equal(c->n, 3);
    assert_string_equal(lvac_ctx_value(c, 0), "silver");
    /* pairs past the inline arena move to the heap intact */
    char big[1100];
    for (int i = 0; i < 40; i++) {
        int l = snprintf(big, sizeof big, "k%d=", i);
        memset(big + l, 'a' + i % 26, 1000);
        big[l + 1000] = '\0';
        assert_int_equal(lvac_parse_context(big, c, err, sizeof err), 0);
    }
    assert_int_equal(c->n, 43);
    assert_string_equal(lvac_ctx_key(c, 42), "k39");
    assert_int_equal(strlen(lvac_ctx_value(c, 42)), 1000);
    assert_int_equal(lvac_ctx_value(c, 42)[999], 'a' + 39 % 26);
    assert_string_equal(lvac_ctx_value(c, 0), "silver");
    for (int i = 40; i < 61; i++) {
        snprintf(big, sizeof big, "k%d=v", i);
        assert_int_equal(lvac_parse_context(big, c, err, sizeof err), 0);
    }
    assert_int_equal(c->n, 64);
    assert_int_equal(lvac_parse_context("one=more", c, err, sizeof err), -1);
    assert_int_equal(lvac_parse_context("k3=replaced", c, err, sizeof err), 0);
    assert_int_equal(c->n, 64);
    assert_string_equal(lvac_ctx_value(c, 6), "replaced");
    lvac_context_free(c);
    free(c);
}

static void test_bearer_triple_local(void **state)
{
    (void)state;
    assert_true(lvac_bearer_ok("Bearer s3cret", "s3cret"));
    assert_true(lvac_bearer_ok("bearer  s3cret ", "s3cret"));
    assert_false(lvac_bearer_ok("Bearer s3cre", "s3cret"));
    assert_false(lvac_bearer_ok("Bearer s3cretX", "s3cret"));
    assert_false(lvac_bearer_ok("Basic s3cret", "s3cret"));
    assert_false(lvac_bearer_ok(NULL, "s3cret"));
    assert_false(lvac_bearer_ok("Bearer ", ""));
    lvac_target t;
    char err[256], ct[128];
    assert_int_equal(lvac_parse_triple(" MyApp:prod:settings ", &t, err, sizeof err), 0);
    assert_string_equal(t.app, "MyApp");
    assert_string_equal(t.profile, "settings");
    assert_int_equal(lvac_parse_triple("MyApp:prod", &t, err, sizeof err), -1);
    assert_int_equal(lvac_parse_triple("a:b:c:d", &t, err, sizeof err), -1);
    assert_int_equal(lvac_parse_triple("a::c", &t, err, sizeof err), -1);
    assert_int_equal(lvac_parse_local_name("App:Env:Prof.json", &t, ct, sizeof ct), 0);
    assert_string_equal(t.profile, "Prof");
    assert_string_equal(ct, "application/json");
    assert_int_equal(lvac_parse_local_name("App:Env:Prof.YML", &t, ct, sizeof ct), 0);
    assert_string_equal(ct, "application/x-yaml");
    assert_int_equal(lvac_parse_local_name("App:Env:Prof.application%toml", &t, ct, sizeof ct), 0);
    assert_string_equal(ct, "application/toml");
    assert_int_equal(lvac_parse_local_name("App:Env:Prof", &t, ct, sizeof ct), 0);
    assert_string_equal(ct, "application/octet-stream");
    assert_int_equal(lvac_parse_local_name("App:Env:v1.2", &t, ct, sizeof ct), 0);
    assert_string_equal(t.profile, "v1.2"); /* an unknown extension is part of the name */
    assert_int_equal(lvac_parse_local_name("README.md", &t, ct, sizeof ct), 1);
    assert_int_equal(lvac_parse_local_name(".App:Env:Prof", &t, ct, sizeof ct), 1);
    assert_true(lvac_entity_ok("user-42"));
    assert_false(lvac_entity_ok("has space"));
    assert_false(lvac_entity_ok(""));
}

static void test_cache_roundtrip(void **state)
{
    (void)state;
    static const unsigned char key[LV_MASTER_KEY_LEN] = {1, 2, 3};
    static const unsigned char other[LV_MASTER_KEY_LEN] = {9};
    lvac_snapshot s = {0};
    s.saved_ms = 1767225600000;
    s.revision = 77;
    char bin[4] = {'\0', '\x01', 'x', '\xff'};
    lvac_disk_entry e = {"App", "Env", "Prof", "", "application/octet-stream", "2", bin, sizeof bin, true, false,
                         1767225600000, 70};
    assert_int_equal(lvac_snapshot_add(&s, &e), 0);
    lv_buf b = LV_BUF_INIT;
    char err[256];
    assert_int_equal(lvac_cache_encode(&s, key, &b, err, sizeof err), 0);
    assert_null(memmem(b.data, b.len, "\x01x", 2)); /* sealed: the bytes are not in the file */
    lvac_snapshot t;
    assert_int_equal(lvac_cache_decode(b.data, b.len, key, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.revision, 77);
    assert_int_equal(t.entries[0].len, sizeof bin);
    assert_memory_equal(t.entries[0].data, bin, sizeof bin);
    assert_true(t.entries[0].prefetched);
    assert_string_equal(t.entries[0].version, "2");
    lvac_snapshot_free(&t);
    assert_int_equal(lvac_cache_decode(b.data, b.len, other, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "cache key"));
    b.data[b.len - 3] ^= 1;
    assert_int_equal(lvac_cache_decode(b.data, b.len, key, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
    lv_buf_free(&b);
    lvac_snapshot_free(&s);
}

/* A gradual deployment in the disk copy: both sides sealed (each under
 * its own associated data), the rollout kept; an older file without it
 * still decodes. */
static void test_cache_rollout(void **state)
{
    (void)state;
    static const unsigned char key[LV_MASTER_KEY_LEN] = {4, 5, 6};
    lvac_snapshot s = {0};
    s.revision = 9;
    lvac_disk_entry e = {"App", "Env", "Prof", "", "application/json", "3", "{\"new\":1}", 9, false, false, 1, 8};
    e.rolling = true;
    e.percent = 37.5;
    e.seed = "appconfig:abc1234:env5678:3";
    e.from_version = "2";
    e.from_content_type = "application/json";
    e.from_data = "{\"old\":1}";
    e.from_len = 9;
    assert_int_equal(lvac_snapshot_add(&s, &e), 0);
    lvac_disk_entry plain = {"App", "Env", "Other", "", "text/plain", "1", "x", 1, false, false, 1, 8};
    assert_int_equal(lvac_snapshot_add(&s, &plain), 0);
    lv_buf b = LV_BUF_INIT;
    char err[256];
    assert_int_equal(lvac_cache_encode(&s, key, &b, err, sizeof err), 0);
    assert_null(memmem(b.data, b.len, "old", 3));
    lvac_snapshot t;
    assert_int_equal(lvac_cache_decode(b.data, b.len, key, &t, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.entries[0].rolling);
    assert_true(t.entries[0].percent == 37.5);
    assert_string_equal(t.entries[0].seed, "appconfig:abc1234:env5678:3");
    assert_string_equal(t.entries[0].from_version, "2");
    assert_int_equal(t.entries[0].from_len, 9);
    assert_memory_equal(t.entries[0].from_data, "{\"old\":1}", 9);
    assert_false(t.entries[1].rolling);
    assert_null(t.entries[1].from_data);
    lvac_snapshot_free(&t);
    /* the from side is bound to its role: swapping the sealed blobs (and
     * fixing the checksum) does not open */
    const char *body = strchr(strchr(b.data, '\n') + 1, '\n') + 1;
    json_t *root = json_loads(body, 0, NULL);
    assert_non_null(root);
    json_t *e0 = json_array_get(json_object_get(root, "Entries"), 0), *ro = json_object_get(e0, "Rollout");
    json_t *sv = json_copy(json_object_get(e0, "Sealed")), *fv = json_copy(json_object_get(ro, "FromSealed"));
    json_object_set_new(e0, "Sealed", fv);
    json_object_set_new(ro, "FromSealed", sv);
    char *nb = json_dumps(root, JSON_COMPACT);
    char hex[65];
    lv_sha256_hex(nb, strlen(nb), hex);
    lv_buf f = LV_BUF_INIT;
    assert_int_equal(lv_buf_printf(&f, "lever-agent-appconfig 1\nsha256 %s\n%s", hex, nb), LV_OK);
    assert_int_equal(lvac_cache_decode(f.data, f.len, key, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not open"));
    free(nb);
    json_decref(root);
    lv_buf_free(&f);
    lv_buf_free(&b);
    lvac_snapshot_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_bearer_triple_local),
        cmocka_unit_test(test_cache_roundtrip),
        cmocka_unit_test(test_cache_rollout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
