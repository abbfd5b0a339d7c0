/* fuzz_console_ops.c - the console's two Lever operations on arbitrary
 * bodies: Lever.ListPathChildren (paths, MaxResults, NextToken) and
 * Lever.CheckConfiguration (content, content types, contexts) against an
 * engine holding a few parameters, an application and a feature-flag
 * profile. The first input byte picks what the rest is: a ListPathChildren
 * body (0), a feature-flag draft (1), a CheckConfiguration body (2), a
 * draft for a JSON-schema-validated profile (3). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "api/acwire.h"
#include "api/appconfig.h"
#include "api/lever_check.h"
#include "api/lever_children.h"

static lv_engine *engine;
static lv_ssm_ctx ctx;

static void seed_ssm(const char *body)
{
    lv_buf out = LV_BUF_INIT;
    lv_error err;
    lv_error_clear(&err);
    lv_ssm_dispatch(&ctx, "PutParameter", body, strlen(body), &out, &err);
    lv_buf_free(&out);
}

static char app_id[64], flags_id[64], schema_id[64];

/* One AppConfig call as the root key, for the fixtures; id gets the
 * answer's "Id". */
static void seed_ac(const char *method, const char *path, const char *body, char *id)
{
    lv_http_header h[] = {{"Content-Type", "application/json"}};
    lv_http_request req = {method, path, NULL, h, 1, body, strlen(body), "127.0.0.1"};
    lv_http_response resp;
    memset(&resp, 0, sizeof resp);
    lv_acwire_call call;
    memset(&call, 0, sizeof call);
    lv_error err;
    lv_error_clear(&err);
    if (lv_acwire_decode(&req, &call, &err) == LV_OK) {
        lv_acapi_ctx c;
        memset(&c, 0, sizeof c);
        c.engine = engine;
        c.account = "000000000000";
        c.region = "us-east-1";
        c.user_arn = "arn:aws:iam::000000000000:root";
        c.req = &req;
        c.resp = &resp;
        lv_acapi_handle(&c, &call);
        json_decref(c.err_extra);
        json_t *o = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        snprintf(id, 64, "%s", json_string_value(json_object_get(o, "Id")) ? json_string_value(json_object_get(o, "Id")) : "");
        json_decref(o);
    }
    lv_acwire_call_free(&call);
    lv_buf_free(&resp.body);
}

static char dir[] = "/tmp/lever-fuzz-console-XXXXXX";

/* The engine's files go when the process does. */
static void cleanup(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static void setup(void)
{
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(cleanup);
    char uri[128], key[128];
    snprintf(uri, sizeof uri, "sqlite:%s/lever.db", dir);
    snprintf(key, sizeof key, "%s/master.key", dir);
    lv_engine_config cfg = {uri, key, 0, 0};
    lv_error err;
    lv_error_clear(&err);
    if (lv_engine_open(&cfg, &engine, &err) != LV_OK)
        abort();
    ctx = (lv_ssm_ctx){engine, "000000000000", "us-east-1", "arn:aws:iam::000000000000:root", 0, NULL, NULL};
    static const char *const names[] = {"/a/b", "/a/c/d", "/a/c/e", "/a/f/g/h", "/z", "/a/b0"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"Name\":\"%s\",\"Value\":\"v\",\"Type\":\"String\"}", names[i]);
        seed_ssm(body);
    }
    seed_ac("POST", "/applications", "{\"Name\":\"app\"}", app_id);
    char path[128];
    snprintf(path, sizeof path, "/applications/%s/configurationprofiles", app_id);
    seed_ac("POST", path, "{\"Name\":\"f\",\"LocationUri\":\"hosted\",\"Type\":\"AWS.AppConfig.FeatureFlags\"}", flags_id);
    seed_ac("POST", path,
            "{\"Name\":\"s\",\"LocationUri\":\"hosted\",\"Validators\":[{\"Type\":\"JSON_SCHEMA\","
            "\"Content\":\"{\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"a\\\"]}\"}]}",
            schema_id);
    if (!app_id[0] || !flags_id[0] || !schema_id[0])
        abort();
}

/* Mode 1 and 3: the input is a profile's draft content (flags, schema),
 * checked with a context from the first line when it is a JSON object. */
static void check_content(const char *prof, const char *content, size_t n, lv_buf *out, lv_error *err)
{
    json_t *req = json_object();
    json_object_set_new(req, "Application", json_string(app_id));
    json_object_set_new(req, "ConfigurationProfile", json_string(prof));
    json_object_set_new(req, "Content", json_stringn(content, n));
    json_object_set_new(req, "Context", json_pack("{s:s,s:i,s:b}", "email", "a@qa.com", "n", 7, "t", 1));
    json_object_set_new(req, "EntityId", json_string("e1"));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text != NULL) /* NULL: the content is not UTF-8, which JSON cannot carry */
        lv_lever_check_configuration(&ctx, text, strlen(text), out, err);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (engine == NULL)
        setup();
    if (size == 0)
        return 0;
    lv_buf out = LV_BUF_INIT;
    lv_error err;
    lv_error_clear(&err);
    const char *body = (const char *)data + 1;
    switch (data[0] & 3) {
    case 0:
        lv_lever_path_children(&ctx, body, size - 1, &out, &err);
        break;
    case 1:
        check_content(flags_id, body, size - 1, &out, &err);
        break;
    case 2:
        lv_lever_check_configuration(&ctx, body, size - 1, &out, &err);
        break;
    default:
        check_content(schema_id, body, size - 1, &out, &err);
    }
    lv_buf_free(&out);
    return 0;
}
