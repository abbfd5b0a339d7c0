/* appconfig.c - `lever appconfig ls|push|deploy|show`: AppConfig's control
 * plane (REST-JSON, SigV4 service appconfig) through liblever's signed REST
 * call, with names resolved to ids the way a person types them. */
#include "cli/appconfig.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/acrest.h"
#include "lever/lever.h"

enum { OUT_JSON = 2 };
enum { MAX_CONTENT = 4 << 20 }; /* what one file may hold (leverd enforces AWS's own limit) */

typedef struct cli {
    lever *c;
    bool json;
} cli;

static const char *err_prefix = "lever appconfig";

static void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errf(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", err_prefix);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* ------------------------------------------------------------ commands */

static int cmd_ls(cli *k, int argc, char **argv)
{
    if (argc > 1)
        return errf("ls takes at most an application"), EX_USAGE;
    if (argc == 0) {
        json_t *apps;
        int rc = lv_acrest_list(k->c, "/applications", &apps);
        if (rc != EX_OK)
            return rc;
        if (k->json) {
            print_json(apps);
        } else {
            size_t i;
            json_t *it;
            json_array_foreach(apps, i, it) printf("%-8s %-32s %s\n", str(it, "Id"), str(it, "Name"),
                                                   json_string_value(json_object_get(it, "Description"))
                                                       ? str(it, "Description") : "");
        }
        json_decref(apps);
        return EX_OK;
    }
    char aid[64], p[512] = "/applications/";
    int rc = lv_acrest_app_id(k->c, argv[0], aid, sizeof aid);
    if (rc != EX_OK)
        return rc;
    lv_acrest_enc(p, sizeof p, aid);
    char pe[600], pp[600];
    snprintf(pe, sizeof pe, "%s/environments", p);
    snprintf(pp, sizeof pp, "%s/configurationprofiles", p);
    json_t *envs = NULL, *profs = NULL;
    if ((rc = lv_acrest_list(k->c, pe, &envs)) != EX_OK || (rc = lv_acrest_list(k->c, pp, &profs)) != EX_OK) {
        json_decref(envs);
        return rc;
    }
    if (k->json) {
        json_t *o = json_pack("{s:s, s:O, s:O}", "ApplicationId", aid, "Environments", envs,
                              "ConfigurationProfiles", profs);
        print_json(o);
        json_decref(o);
    } else {
        size_t i;
        json_t *it;
        printf("environments:\n");
        json_array_foreach(envs, i, it) printf("  %-8s %-32s %s\n", str(it, "Id"), str(it, "Name"), str(it, "State"));
        printf("configuration profiles:\n");
        json_array_foreach(profs, i, it) printf("  %-8s %-32s %-28s %s\n", str(it, "Id"), str(it, "Name"),
                                                str(it, "Type"), str(it, "LocationUri"));
    }
    json_decref(envs);
    json_decref(profs);
    return EX_OK;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            if (cap >= MAX_CONTENT + 1u) {
                free(b);
                b = NULL;
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                b = NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f) || (b && n > MAX_CONTENT);
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static const char *guess_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".json") == 0)
        return "application/json";
    if (dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        return "application/x-yaml";
    return "text/plain";
}

static int cmd_push(cli *k, int argc, char **argv, const char *ctype, const char *desc, const char *label)
{
    if (argc != 3)
        return errf("push takes APP PROFILE FILE|-"), EX_USAGE;
    size_t len = 0;
    char *data = read_all(argv[2], &len);
    if (data == NULL)
        return errf("cannot read %s (missing, unreadable or over 4 MiB)", argv[2]), EX_ERROR;
    char aid[64], pid[64];
    int rc = lv_acrest_app_id(k->c, argv[0], aid, sizeof aid);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(k->c, aid, "/configurationprofiles", argv[1], "configuration profile", pid, sizeof pid);
    if (rc != EX_OK) {
        free(data);
        return rc;
    }
    char p[512] = "/applications/", h1[300], h2[1200], h3[200];
    lv_acrest_enc(p, sizeof p, aid);
    strcat(p, "/configurationprofiles/");
    lv_acrest_enc(p, sizeof p, pid);
    strcat(p, "/hostedconfigurationversions");
    const char *hdrs[4] = {h1, NULL, NULL, NULL};
    size_t nh = 1;
    snprintf(h1, sizeof h1, "Content-Type: %s", ctype ? ctype : guess_type(argv[2]));
    if (desc) {
        snprintf(h2, sizeof h2, "Description: %s", desc);
        hdrs[nh++] = h2;
    }
    if (label) {
        snprintf(h3, sizeof h3, "VersionLabel: %s", label);
        hdrs[nh++] = h3;
    }
    lever_response *resp;
    rc = lv_acrest_call(k->c, "POST", p, hdrs, data, len, NULL, &resp);
    free(data);
    if (rc != EX_OK)
        return rc;
    const char *v = lever_response_header(resp, "Version-Number");
    char ver[64];
    snprintf(ver, sizeof ver, "%s", v ? v : "");
    lever_response_free(resp);
    if (k->json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "ApplicationId", aid, "ConfigurationProfileId", pid,
                              "VersionNumber", ver);
        print_json(o);
        json_decref(o);
    } else {
        printf("%s\n", ver);
    }
    return EX_OK;
}

static int get_deployment(cli *k, const char *aid, const char *eid, json_int_t n, json_t **out)
{
    char p[512] = "/applications/";
    lv_acrest_enc(p, sizeof p, aid);
    strcat(p, "/environments/");
    lv_acrest_enc(p, sizeof p, eid);
    snprintf(p + strlen(p), sizeof p - strlen(p), "/deployments/%lld", (long long)n);
    return lv_acrest_call(k->c, "GET", p, NULL, NULL, 0, out, NULL);
}

static int cmd_deploy(cli *k, int argc, char **argv, const char *strategy, bool wait)
{
    if (argc != 4)
        return errf("deploy takes APP ENV PROFILE VERSION"), EX_USAGE;
    char aid[64], eid[64], pid[64];
    int rc = lv_acrest_app_id(k->c, argv[0], aid, sizeof aid);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(k->c, aid, "/environments", argv[1], "environment", eid, sizeof eid);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(k->c, aid, "/configurationprofiles", argv[2], "configuration profile", pid, sizeof pid);
    if (rc != EX_OK)
        return rc;
    json_t *req = json_pack("{s:s, s:s, s:s}", "DeploymentStrategyId", strategy ? strategy : "AppConfig.AllAtOnce",
                            "ConfigurationProfileId", pid, "ConfigurationVersion", argv[3]);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL)
        return errf("out of memory"), EX_ERROR;
    char p[512] = "/applications/";
    lv_acrest_enc(p, sizeof p, aid);
    strcat(p, "/environments/");
    lv_acrest_enc(p, sizeof p, eid);
    strcat(p, "/deployments");
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    json_t *d;
    rc = lv_acrest_call(k->c, "POST", p, hdrs, body, strlen(body), &d, NULL);
    free(body);
    if (rc != EX_OK)
        return rc;
    json_int_t n = json_integer_value(json_object_get(d, "DeploymentNumber"));
    for (int i = 0; wait && i < 36000; i++) {
        /* done when every client gets the new version (baking counts: the
         * bake time only watches for a rollback) or when it is undone */
        const char *state = json_string_value(json_object_get(d, "State"));
        if (state && (strcmp(state, "COMPLETE") == 0 || strcmp(state, "ROLLED_BACK") == 0 ||
                      strcmp(state, "REVERTED") == 0 || strcmp(state, "BAKING") == 0))
            break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        json_decref(d);
        if ((rc = get_deployment(k, aid, eid, n, &d)) != EX_OK)
            return rc;
    }
    const char *state = str(d, "State");
    if (k->json)
        print_json(d);
    else
        printf("deployment %lld: %s (%.0f%%)\n", (long long)n, state,
               json_number_value(json_object_get(d, "PercentageComplete")));
    rc = wait && strcmp(state, "COMPLETE") != 0 && strcmp(state, "BAKING") != 0 ? EX_ERROR : EX_OK;
    json_decref(d);
    return rc;
}

static int cmd_show(cli *k, int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        return errf("show takes APP ENV [PROFILE]"), EX_USAGE;
    if (argc == 3) {
        /* what a client of ENV gets: GetConfiguration, names or ids */
        lever_configuration *cfg;
        lever_status st = lever_get_configuration(k->c, argv[0], argv[1], argv[2], &cfg, NULL);
        if (st != LEVER_OK) {
            char msg[1024] = "";
            lever_last_error(k->c, msg, sizeof msg);
            errf("%s", msg[0] ? msg : lever_status_str(st));
            return lv_acrest_exit_of(st, 0);
        }
        size_t len;
        const char *data = lever_configuration_data(cfg, &len);
        if (k->json) {
            json_t *o = json_pack("{s:s, s:s, s:s%}", "ConfigurationVersion", lever_configuration_version(cfg),
                                  "ContentType", lever_configuration_content_type(cfg), "Content", data, len);
            if (o == NULL) /* not UTF-8 */
                o = json_pack("{s:s, s:s, s:n}", "ConfigurationVersion", lever_configuration_version(cfg),
                              "ContentType", lever_configuration_content_type(cfg), "Content");
            print_json(o);
            json_decref(o);
        } else {
            fwrite(data, 1, len, stdout);
            if (len && data[len - 1] != '\n' && isatty(STDOUT_FILENO))
                putchar('\n');
        }
        lever_configuration_free(cfg);
        return EX_OK;
    }
    char aid[64], eid[64];
    int rc = lv_acrest_app_id(k->c, argv[0], aid, sizeof aid);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(k->c, aid, "/environments", argv[1], "environment", eid, sizeof eid);
    if (rc != EX_OK)
        return rc;
    char p[512] = "/applications/";
    lv_acrest_enc(p, sizeof p, aid);
    strcat(p, "/environments/");
    lv_acrest_enc(p, sizeof p, eid);
    strcat(p, "/deployments");
    json_t *deps;
    if ((rc = lv_acrest_list(k->c, p, &deps)) != EX_OK)
        return rc;
    /* the newest deployment of each profile */
    json_t *latest = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(deps, i, it) {
        const char *name = json_string_value(json_object_get(it, "ConfigurationName"));
        json_t *cur = name ? json_object_get(latest, name) : NULL;
        if (name && (cur == NULL || json_integer_value(json_object_get(it, "DeploymentNumber")) >
                                        json_integer_value(json_object_get(cur, "DeploymentNumber"))))
            json_object_set(latest, name, it);
    }
    if (k->json) {
        print_json(latest);
    } else {
        const char *name;
        json_t *d;
        json_object_foreach(latest, name, d) printf("%-32s version %-6s deployment %-4lld %s %.0f%%\n", name,
                                                    str(d, "ConfigurationVersion"),
                                                    (long long)json_integer_value(json_object_get(d, "DeploymentNumber")),
                                                    str(d, "State"),
                                                    json_number_value(json_object_get(d, "PercentageComplete")));
    }
    json_decref(latest);
    json_decref(deps);
    return EX_OK;
}

int lv_cli_appconfig(int argc, char **argv, const lv_cli_ctx *ctx)
{
    lv_acrest_error_prefix(err_prefix);
    enum { O_ENDPOINT = 1000, O_REGION, O_PROFILE, O_CT, O_DESC, O_LABEL, O_STRATEGY, O_WAIT };
    static const struct option lo[] = {
        {"endpoint", required_argument, NULL, O_ENDPOINT}, {"region", required_argument, NULL, O_REGION},
        {"profile", required_argument, NULL, O_PROFILE},   {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},                  {"content-type", required_argument, NULL, O_CT},
        {"description", required_argument, NULL, O_DESC},  {"label", required_argument, NULL, O_LABEL},
        {"strategy", required_argument, NULL, O_STRATEGY}, {"wait", no_argument, NULL, O_WAIT},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = ctx->endpoint, *region = ctx->region, *profile = ctx->profile;
    const char *ctype = NULL, *desc = NULL, *label = NULL, *strategy = NULL;
    bool json = ctx->output == OUT_JSON, wait = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case O_ENDPOINT: endpoint = optarg; break;
        case O_REGION: region = optarg; break;
        case O_PROFILE: profile = optarg; break;
        case 'o': json = strcmp(optarg, "json") == 0; break;
        case O_CT: ctype = optarg; break;
        case O_DESC: desc = optarg; break;
        case O_LABEL: label = optarg; break;
        case O_STRATEGY: strategy = optarg; break;
        case O_WAIT: wait = true; break;
        case 'h':
            printf("usage: lever %s\n\n%s\n\nGlobal options: --endpoint URL, --region R, --profile P, -o json|table|text\n",
                   LV_CLI_APPCONFIG_SYNOPSIS, LV_CLI_APPCONFIG_HELP);
            return EX_OK;
        default: fprintf(stderr, "usage: lever %s\n", LV_CLI_APPCONFIG_SYNOPSIS); return EX_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: lever %s\n", LV_CLI_APPCONFIG_SYNOPSIS);
        return EX_USAGE;
    }
    const char *sub = argv[optind];
    int n = argc - optind - 1;
    char **args = argv + optind + 1;
    lever_options *o = lever_options_new();
    if (o == NULL)
        return errf("out of memory"), EX_ERROR;
    lever_status st = LEVER_OK;
    if (endpoint)
        st = lever_options_set_endpoint(o, endpoint);
    if (st == LEVER_OK && region)
        st = lever_options_set_region(o, region);
    if (st == LEVER_OK && profile)
        st = lever_options_set_profile(o, profile);
    if (st == LEVER_OK)
        st = lever_options_set_cache_ttl_ms(o, 0);
    cli k = {NULL, json};
    char err[1024] = "";
    if (st == LEVER_OK)
        st = lever_open(o, &k.c, err, sizeof err);
    lever_options_free(o);
    if (st != LEVER_OK) {
        errf("%s", err[0] ? err : lever_status_str(st));
        return lv_acrest_exit_of(st, 0);
    }
    int rc;
    if (strcmp(sub, "ls") == 0)
        rc = cmd_ls(&k, n, args);
    else if (strcmp(sub, "push") == 0)
        rc = cmd_push(&k, n, args, ctype, desc, label);
    else if (strcmp(sub, "deploy") == 0)
        rc = cmd_deploy(&k, n, args, strategy, wait);
    else if (strcmp(sub, "show") == 0)
        rc = cmd_show(&k, n, args);
    else {
        errf("unknown subcommand '%s' (ls, push, deploy, show)", sub);
        rc = EX_USAGE;
    }
    lever_close(k.c);
    return rc;
}

/* ---------------------------------------------- for lever flags (appconfig.h) */

void lv_cli_ac_error_prefix(const char *prefix)
{
    err_prefix = prefix;
    lv_acrest_error_prefix(prefix);
}

int lv_cli_ac_exit(lever_status st) { return lv_acrest_exit_of(st, 0); }

int lv_cli_ac_call(lever *c, const char *method, const char *path, const char *const *hdrs, const void *body,
                   size_t blen, json_t **ans, lever_response **resp)
{
    return lv_acrest_call(c, method, path, hdrs, body, blen, ans, resp);
}

int lv_cli_ac_ids(lever *c, const char *app, const char *profile, char *aid, char *pid, size_t cap)
{
    int rc = lv_acrest_app_id(c, app, aid, cap);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(c, aid, "/configurationprofiles", profile, "configuration profile", pid, cap);
    return rc;
}

int lv_cli_ac_deploy(lever *c, bool json, const char *app, const char *env, const char *profile,
                     const char *version, const char *strategy, bool wait)
{
    char *argv[] = {(char *)app, (char *)env, (char *)profile, (char *)version, NULL};
    return cmd_deploy(&(cli){c, json}, 4, argv, strategy, wait);
}
