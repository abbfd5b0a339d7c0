/* liblever_flags_probe.c - drives liblever's feature flags (the shared
 * library's public API) for tests/integration/test_liblever_flags.py.
 *
 *   liblever_flags_probe vectors FILE APP ENV
 *       evaluates every case of FILE (tests/data/flag_vectors.json) against
 *       the profiles APP/ENV/<document name> of a real leverd; prints
 *       "FAIL <case>: <what>" per mismatch, then "VECTORS <passed> <failed>".
 *   liblever_flags_probe watch APP ENV PROFILE [TTL_MS]
 *       opens the flag source, then answers stdin commands, one line each:
 *         enabled FLAG [k=v]...         ENABLED <source> <status> true|false
 *         int|double|bool|string FLAG ATTR [k=v]...
 *                                       VALUE <source> <status> <value>
 *         variant FLAG [k=v]...         VARIANT <source> <status> <name>
 *         version                       VERSION <version>
 *         quit
 *       and prints "CHANGE <version>" from the watch thread. Context pairs
 *       k=v are strings; @ID sets the entity id.
 * The endpoint, region and credentials come from the environment. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lever/lever.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static lever *open_handle(int64_t ttl_ms)
{
    lever_options *o = lever_options_new();
    if (o == NULL)
        return NULL;
    lever_options_set_cache_ttl_ms(o, ttl_ms);
    lever *c = NULL;
    char err[512];
    if (lever_open(o, &c, err, sizeof err) != LEVER_OK)
        fprintf(stderr, "lever_open: %s\n", err);
    lever_options_free(o);
    return c;
}

static int vectors(const char *file, const char *app, const char *env)
{
    json_error_t je;
    json_t *all = json_load_file(file, 0, &je);
    if (all == NULL) {
        fprintf(stderr, "%s: %s\n", file, je.text);
        return 2;
    }
    lever *c = open_handle(60000);
    if (c == NULL)
        return 2;
    json_t *docs = json_object_get(all, "documents"), *cases = json_object_get(all, "cases");
    lever_flags *src[16] = {0};
    const char *names[16] = {0};
    size_t nsrc = 0, passed = 0, failed = 0;
    const char *dk;
    json_t *dv;
    json_object_foreach(docs, dk, dv) {
        if (nsrc == 16)
            break;
        names[nsrc] = dk;
        lever_status st = lever_flags_open(c, app, env, dk, NULL, NULL, &src[nsrc]);
        if (st != LEVER_OK) {
            char msg[512];
            lever_last_error(c, msg, sizeof msg);
            printf("FAIL open %s: %s %s\n", dk, lever_status_str(st), msg);
            failed++;
        }
        nsrc++;
    }
    size_t i;
    json_t *cs;
    json_array_foreach(cases, i, cs) {
        const char *name = json_string_value(json_object_get(cs, "name"));
        const char *doc = json_string_value(json_object_get(cs, "document"));
        lever_flags *f = NULL;
        for (size_t k = 0; k < nsrc; k++)
            if (strcmp(names[k], doc) == 0)
                f = src[k];
        if (f == NULL) {
            printf("FAIL %s: no source for %s\n", name, doc);
            failed++;
            continue;
        }
        json_t *cj = json_object_get(cs, "context"), *exp = json_object_get(cs, "expect");
        lever_ctx_kv kv[64];
        lever_context ctx = {kv, 0, json_string_value(json_object_get(cs, "entity"))};
        const char *k;
        json_t *v;
        json_object_foreach(cj, k, v) {
            if (ctx.n < 64)
                kv[ctx.n++] = (lever_ctx_kv){k, json_string_value(v), LEVER_CTX_STRING};
        }
        lever_flag_result r;
        lever_status st = lever_flag_evaluate(f, json_string_value(json_object_get(cs, "flag")),
                                              json_is_null(cj) ? NULL : &ctx, &r);
        bool unknown = json_object_get(exp, "error_code") != NULL;
        json_t *got = r.value_json ? json_loads(r.value_json, 0, NULL) : NULL;
        const char *wv = json_string_value(json_object_get(exp, "variant"));
        bool ok = st == (unknown ? LEVER_E_NOT_FOUND : LEVER_OK) && json_equal(got, json_object_get(exp, "value")) &&
                  r.enabled == json_is_true(json_object_get(exp, "enabled")) && (wv == NULL) == (r.variant == NULL) &&
                  (wv == NULL || strcmp(wv, r.variant) == 0) &&
                  strcmp(json_string_value(json_object_get(exp, "reason")), lever_flag_reason_str(r.reason)) == 0 &&
                  (unknown || r.src == LEVER_SRC_CACHE);
        if (ok) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: %s %s %s %s %s\n", name, lever_status_str(st), r.value_json ? r.value_json : "-",
                   r.variant ? r.variant : "-", lever_flag_reason_str(r.reason), lever_source_str(r.src));
        }
        json_decref(got);
        lever_flag_result_clear(&r);
    }
    printf("VECTORS %zu %zu\n", passed, failed);
    for (size_t k = 0; k < nsrc; k++)
        lever_flags_close(src[k]);
    lever_close(c);
    json_decref(all);
    return failed ? 1 : 0;
}

static void on_change(lever_flags *f, const char *version, void *user)
{
    (void)f;
    (void)user;
    pthread_mutex_lock(&out_mu);
    printf("CHANGE %s\n", version);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void command(lever_flags *f, char *line)
{
    char *words[40];
    size_t n = 0;
    for (char *t = strtok(line, " \t\n"); t && n < 40; t = strtok(NULL, " \t\n"))
        words[n++] = t;
    if (n == 0)
        return;
    lever_ctx_kv kv[32];
    lever_context ctx = {kv, 0, NULL};
    size_t first_ctx = strcmp(words[0], "enabled") == 0 || strcmp(words[0], "variant") == 0 ? 2 : 3;
    for (size_t i = first_ctx; i < n; i++) {
        char *eq = strchr(words[i], '=');
        if (words[i][0] == '@') {
            ctx.entity_id = words[i] + 1;
        } else if (eq && ctx.n < 32) {
            *eq = '\0';
            kv[ctx.n++] = (lever_ctx_kv){words[i], eq + 1, LEVER_CTX_STRING};
        }
    }
    lever_source src = LEVER_SRC_DEFAULT;
    lever_status st;
    char buf[1024];
    pthread_mutex_lock(&out_mu);
    if (strcmp(words[0], "version") == 0) {
        lever_flags_version(f, buf, sizeof buf);
        printf("VERSION %s\n", buf);
    } else if (strcmp(words[0], "enabled") == 0 && n >= 2) {
        bool on = false;
        st = lever_flag_enabled(f, words[1], &ctx, false, &on, &src);
        printf("ENABLED %s %s %s\n", lever_source_str(src), lever_status_str(st), on ? "true" : "false");
    } else if (strcmp(words[0], "variant") == 0 && n >= 2) {
        char *v = NULL;
        st = lever_flag_variant(f, words[1], &ctx, "-", &v, &src);
        printf("VARIANT %s %s %s\n", lever_source_str(src), lever_status_str(st), v);
        lever_free(v);
    } else if (n >= 3 && strcmp(words[0], "int") == 0) {
        int64_t v;
        st = lever_flag_int(f, words[1], words[2], &ctx, -1, &v, &src);
        printf("VALUE %s %s %" PRId64 "\n", lever_source_str(src), lever_status_str(st), v);
    } else if (n >= 3 && strcmp(words[0], "double") == 0) {
        double v;
        st = lever_flag_double(f, words[1], words[2], &ctx, -1, &v, &src);
        printf("VALUE %s %s %g\n", lever_source_str(src), lever_status_str(st), v);
    } else if (n >= 3 && strcmp(words[0], "bool") == 0) {
        bool v;
        st = lever_flag_bool(f, words[1], words[2], &ctx, false, &v, &src);
        printf("VALUE %s %s %s\n", lever_source_str(src), lever_status_str(st), v ? "true" : "false");
    } else if (n >= 3 && strcmp(words[0], "string") == 0) {
        char *v = NULL;
        st = lever_flag_string(f, words[1], words[2], &ctx, "-", &v, &src);
        printf("VALUE %s %s %s\n", lever_source_str(src), lever_status_str(st), v);
        lever_free(v);
    } else {
        printf("ERR unknown command\n");
    }
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static int watch(const char *app, const char *env, const char *profile, int64_t ttl)
{
    lever *c = open_handle(ttl);
    if (c == NULL)
        return 2;
    lever_flags *f = NULL;
    lever_status st = lever_flags_open(c, app, env, profile, on_change, NULL, &f);
    if (st != LEVER_OK) {
        char msg[512];
        lever_last_error(c, msg, sizeof msg);
        printf("ERR %s %s\n", lever_status_str(st), msg);
        lever_close(c);
        return 1;
    }
    char version[128];
    lever_flags_version(f, version, sizeof version);
    pthread_mutex_lock(&out_mu);
    printf("OPEN %s\n", version);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "quit", 4) == 0)
            break;
        command(f, line);
    }
    lever_flags_close(f);
    lever_close(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "vectors") == 0)
        return vectors(argv[2], argv[3], argv[4]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "watch") == 0)
        return watch(argv[2], argv[3], argv[4], argc == 6 ? atoll(argv[5]) : 60000);
    fprintf(stderr, "usage: liblever_flags_probe vectors FILE APP ENV | watch APP ENV PROFILE [TTL_MS]\n");
    return 2;
}
