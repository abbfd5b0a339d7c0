/* main.c - lever-agent: flags and their environment twins (lever's own, the
 * Lambda extension's and the AppConfig agent's), the loopback guard,
 * signals. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/agent.h"
#include "agent/appconfig.h"
#include "client/config.h"
#include "client/parse.h"
#include "http/cpus.h"

#ifndef LEVER_VERSION
#define LEVER_VERSION "0.1.0"
#endif

enum { MAX_PREFIXES = 64, MAX_AC_PREFETCH = 256 };

static void usage(FILE *f)
{
    fputs("usage: lever-agent [--upstream URL] [options]\n"
          "\n"
          "A loopback caching sidecar for lever, compatible with the AWS Parameters and\n"
          "Secrets Lambda Extension: GET /systemsmanager/parameters/get?name=... with the\n"
          "X-Aws-Parameters-Secrets-Token header; X-Lever-Entity-Id names the reader of a\n"
          "label under a rollout (else the agent's access key id). See docs/agent.md.\n"
          "\n"
          "options (environment twins in brackets, used when the flag is absent):\n"
          "  --upstream URL      leverd endpoint (LEVER_AGENT_UPSTREAM, else LEVER_ENDPOINT,\n"
          "                      else http://127.0.0.1:7447)\n"
          "  --listen HOST:PORT  where to serve (LEVER_AGENT_LISTEN, else 127.0.0.1:\n"
          "                      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, else 127.0.0.1:2773);\n"
          "                      loopback only unless --allow-remote\n"
          "  --prefetch PATH     load PATH (recursively) at start and keep it current\n"
          "                      through the watch API; repeatable (LEVER_AGENT_PREFETCH,\n"
          "                      comma-separated)\n"
          "  --cache-dir DIR     persist the cache there, to survive restarts while the\n"
          "                      upstream is down (LEVER_AGENT_CACHE_DIR; default: memory only)\n"
          "  --ttl DURATION      time-to-live of on-demand entries: 300, 30s, 5m, 1h...\n"
          "                      (LEVER_AGENT_TTL, else SSM_PARAMETER_STORE_TTL, default 300s;\n"
          "                      0 = ask the upstream on every request)\n"
          "  --max-entries N     on-demand entries kept, least recently used evicted\n"
          "                      (LEVER_AGENT_MAX_ENTRIES, else PARAMETERS_SECRETS_EXTENSION_\n"
          "                      CACHE_SIZE, default 1000; 0 = no on-demand caching)\n"
          "  --region R          signing region (AWS_REGION, AWS_DEFAULT_REGION, us-east-1)\n"
          "  --profile P         shared-credentials profile (AWS_PROFILE, default)\n"
          "  --threads N         HTTP event loops (LEVER_AGENT_THREADS, default: the CPUs\n"
          "                      this process may use: affinity mask, cgroup quota)\n"
          "  --log-level L       debug, info, warn, error or none (LEVER_AGENT_LOG_LEVEL,\n"
          "                      else PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL, default info)\n"
          "  --allow-remote      permit a non-loopback --listen address (LEVER_AGENT_ALLOW_REMOTE=1)\n"
          "\n"
          "AppConfig Agent API (GET /applications/A/environments/E/configurations/P):\n"
          "  --appconfig-listen HOST:PORT  where to serve it, or 'off' (LEVER_AGENT_APPCONFIG_LISTEN,\n"
          "                      else 127.0.0.1:AWS_APPCONFIG_EXTENSION_HTTP_PORT or HTTP_PORT,\n"
          "                      else 127.0.0.1:2772)\n"
          "  --appconfig-prefetch APP:ENV:PROFILE  load at start, keep current; repeatable\n"
          "                      (LEVER_AGENT_APPCONFIG_PREFETCH, AWS_APPCONFIG_EXTENSION_PREFETCH_LIST,\n"
          "                      PREFETCH_LIST; comma-separated)\n"
          "  --local-dir DIR     local development mode: serve files named APP:ENV:PROFILE[.ext]\n"
          "                      from DIR, never ask leverd (LOCAL_DEVELOPMENT_DIRECTORY)\n"
          "  --poll-interval D   re-check period on a leverd without the watch API\n"
          "                      (AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS, POLL_INTERVAL; 45s)\n"
          "  --request-timeout D per call to leverd; a bare number is milliseconds\n"
          "                      (AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS, REQUEST_TIMEOUT; 3000ms)\n"
          "  --max-connections N connections to leverd kept for fetches\n"
          "                      (AWS_APPCONFIG_EXTENSION_MAX_CONNECTIONS, MAX_CONNECTIONS; 3)\n"
          "  ACCESS_TOKEN        when set, requests need Authorization: Bearer <ACCESS_TOKEN>\n"
          "  LEVER_AGENT_INSTANCE_ID  the entity of requests without Entity-Id in deployments (default: random)\n"
          "  LEVER_AGENT_SERVED_REPORT  how often to tell leverd what was served during gradual\n"
          "                      deployments (a duration, default 5s; 0 = never)\n"
          "  -h, --help          this text\n"
          "  -V, --version       print the version\n"
          "\n"
          "Parameter requests must carry X-Aws-Parameters-Secrets-Token equal to\n"
          "LEVER_AGENT_TOKEN or AWS_SESSION_TOKEN; without either, only the AppConfig API is\n"
          "served (and only when it was asked for). Credentials for the upstream\n"
          "are found as for every lever client: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,\n"
          "the shared credentials file, else ./lever-data/credentials.\n",
          f);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *first(const char *a, const char *b, const char *c)
{
    return a ? a : b ? b : c;
}

static int parse_level(const char *s)
{
    static const struct {
        const char *name;
        int level;
    } m[] = {{"debug", LVA_LOG_DEBUG}, {"info", LVA_LOG_INFO}, {"warn", LVA_LOG_WARN},
             {"warning", LVA_LOG_WARN}, {"error", LVA_LOG_ERROR}, {"none", LVA_LOG_NONE}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcasecmp(s, m[i].name) == 0)
            return m[i].level;
    /* the AppConfig agent's extra levels */
    if (strcasecmp(s, "trace") == 0)
        return LVA_LOG_DEBUG;
    if (strcasecmp(s, "fatal") == 0)
        return LVA_LOG_ERROR;
    return -1;
}

static int add_triple(lvac_target *list, size_t *n, const char *item)
{
    lvac_target t;
    char err[256];
    if (lvac_parse_triple(item, &t, err, sizeof err) != 0) {
        fprintf(stderr, "lever-agent: --appconfig-prefetch '%s': %s\n", item, err);
        return -1;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i].app, t.app) == 0 && strcmp(list[i].env, t.env) == 0 &&
            strcmp(list[i].profile, t.profile) == 0)
            return 0;
    if (*n >= MAX_AC_PREFETCH) {
        fprintf(stderr, "lever-agent: at most %d AppConfig prefetch items\n", MAX_AC_PREFETCH);
        return -1;
    }
    list[(*n)++] = t;
    return 0;
}

static int add_triples(lvac_target *list, size_t *n, const char *csv)
{
    char **items = lvc_split_list(csv, NULL);
    if (items == NULL) {
        fprintf(stderr, "lever-agent: out of memory\n");
        return -1;
    }
    int bad = 0;
    for (char **it = items; *it && !bad; it++)
        if (**it)
            bad = add_triple(list, n, *it);
    lvc_strlist_free(items);
    return bad;
}

/* A port number from the environment, as HOST 127.0.0.1. */
static int port_listen(const char *var, char *buf, size_t cap)
{
    const char *port = env(var);
    char *end = NULL;
    long pn = strtol(port, &end, 10);
    if (*end != '\0' || pn < 1 || pn > 65535) {
        fprintf(stderr, "lever-agent: %s must be a port number\n", var);
        return -1;
    }
    snprintf(buf, cap, "127.0.0.1:%ld", pn);
    return 0;
}

/* Whether listen's host is a loopback address. */
static bool loopback(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (hl == 9 && strncmp(listen, "localhost", 9) == 0)
        return true;
    if (hl == 5 && strncmp(listen, "[::1]", 5) == 0)
        return true;
    return hl > 4 && strncmp(listen, "127.", 4) == 0;
}

static int add_prefix(char **list, size_t *n, const char *p)
{
    if (*n >= MAX_PREFIXES) {
        fprintf(stderr, "lever-agent: at most %d prefixes\n", MAX_PREFIXES);
        return -1;
    }
    char *np = lva_norm_prefix(p);
    if (np == NULL) {
        fprintf(stderr, "lever-agent: bad prefetch path '%s'\n", p);
        return -1;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], np) == 0) { /* the same prefix twice is one watch */
            free(np);
            return 0;
        }
    list[(*n)++] = np;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"upstream", required_argument, NULL, 'u'},  {"listen", required_argument, NULL, 'l'},
        {"prefetch", required_argument, NULL, 'p'},  {"cache-dir", required_argument, NULL, 'c'},
        {"ttl", required_argument, NULL, 't'},       {"max-entries", required_argument, NULL, 'm'},
        {"region", required_argument, NULL, 'r'},    {"profile", required_argument, NULL, 'P'},
        {"threads", required_argument, NULL, 'T'},   {"log-level", required_argument, NULL, 'L'},
        {"allow-remote", no_argument, NULL, 'A'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"appconfig-listen", required_argument, NULL, 1001}, {"appconfig-prefetch", required_argument, NULL, 1002},
        {"local-dir", required_argument, NULL, 1003},  {"poll-interval", required_argument, NULL, 1004},
        {"request-timeout", required_argument, NULL, 1005}, {"max-connections", required_argument, NULL, 1006},
        {NULL, 0, NULL, 0},
    };
    const char *upstream = env("LEVER_AGENT_UPSTREAM"), *listen = env("LEVER_AGENT_LISTEN");
    const char *cache_dir = first(env("LEVER_AGENT_CACHE_DIR"), env("BACKUP_DIRECTORY"), NULL);
    const char *ttl = first(env("LEVER_AGENT_TTL"), env("SSM_PARAMETER_STORE_TTL"), "300");
    const char *maxe = first(env("LEVER_AGENT_MAX_ENTRIES"), env("PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE"), "1000");
    const char *level = first(env("LEVER_AGENT_LOG_LEVEL"), env("PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL"),
                              first(env("AWS_APPCONFIG_EXTENSION_LOG_LEVEL"), env("LOG_LEVEL"), "info"));
    const char *ac_listen = env("LEVER_AGENT_APPCONFIG_LISTEN");
    const char *local_dir = env("LOCAL_DEVELOPMENT_DIRECTORY");
    const char *poll = first(env("AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS"), env("POLL_INTERVAL"), "45");
    const char *req_timeout = first(env("AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS"), env("REQUEST_TIMEOUT"),
                                    "3000");
    const char *max_conn = first(env("AWS_APPCONFIG_EXTENSION_MAX_CONNECTIONS"), env("MAX_CONNECTIONS"), "3");
    bool ac_asked = ac_listen || local_dir || env("ACCESS_TOKEN");
    static lvac_target ac_prefetch[MAX_AC_PREFETCH];
    size_t nac = 0;
    bool flag_ac_prefetch = false;
    char ac_listen_buf[64];
    lvac_agent *ac = NULL;
    const char *threads = first(env("LEVER_AGENT_THREADS"), NULL, "0");
    const char *region = NULL, *profile = NULL;
    const char *ar = env("LEVER_AGENT_ALLOW_REMOTE");
    bool allow_remote = ar && (strcmp(ar, "1") == 0 || strcasecmp(ar, "true") == 0);
    char *prefixes[MAX_PREFIXES];
    size_t np = 0;
    bool flag_prefixes = false;
    int rc = 2;
    char listen_buf[64];
    char *endpoint = NULL, *reg = NULL;

    int ch;
    while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': upstream = optarg; break;
        case 'l': listen = optarg; break;
        case 'p':
            if (!flag_prefixes) { /* flags replace LEVER_AGENT_PREFETCH */
                flag_prefixes = true;
            }
            if (add_prefix(prefixes, &np, optarg) != 0)
                goto out;
            break;
        case 'c': cache_dir = optarg; break;
        case 't': ttl = optarg; break;
        case 'm': maxe = optarg; break;
        case 'r': region = optarg; break;
        case 'P': profile = optarg; break;
        case 'T': threads = optarg; break;
        case 'L': level = optarg; break;
        case 'A': allow_remote = true; break;
        case 1001: ac_listen = optarg; ac_asked = true; break;
        case 1002:
            flag_ac_prefetch = ac_asked = true;
            if (add_triple(ac_prefetch, &nac, optarg) != 0)
                goto out;
            break;
        case 1003: local_dir = optarg; ac_asked = true; break;
        case 1004: poll = optarg; break;
        case 1005: req_timeout = optarg; break;
        case 1006: max_conn = optarg; break;
        case 'h': usage(stdout); rc = 0; goto out;
        case 'V': printf("lever-agent %s\n", LEVER_VERSION); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lever-agent: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (!flag_prefixes && env("LEVER_AGENT_PREFETCH")) {
        char **items = lvc_split_list(env("LEVER_AGENT_PREFETCH"), NULL);
        if (items == NULL) {
            fprintf(stderr, "lever-agent: out of memory\n");
            goto out;
        }
        int bad = 0;
        for (char **it = items; *it && !bad; it++)
            if (**it)
                bad = add_prefix(prefixes, &np, *it);
        lvc_strlist_free(items);
        if (bad)
            goto out;
    }
    if (!flag_ac_prefetch) {
        const char *list = first(env("LEVER_AGENT_APPCONFIG_PREFETCH"), env("AWS_APPCONFIG_EXTENSION_PREFETCH_LIST"),
                                 env("PREFETCH_LIST"));
        if (list) {
            ac_asked = true;
            if (add_triples(ac_prefetch, &nac, list) != 0)
                goto out;
        }
    }
    bool ac_optional = false;
    if (ac_listen == NULL) {
        const char *pv = env("AWS_APPCONFIG_EXTENSION_HTTP_PORT") ? "AWS_APPCONFIG_EXTENSION_HTTP_PORT"
                         : env("HTTP_PORT")                      ? "HTTP_PORT"
                                                                 : NULL;
        if (pv) {
            ac_asked = true;
            if (port_listen(pv, ac_listen_buf, sizeof ac_listen_buf) != 0)
                goto out;
            ac_listen = ac_listen_buf;
        } else {
            ac_listen = "127.0.0.1:2772";
            ac_optional = true; /* the default address may be taken by another agent */
        }
    }
    bool ac_off = strcmp(ac_listen, "off") == 0;
    if (!ac_off && !allow_remote && !loopback(ac_listen)) {
        fprintf(stderr, "lever-agent: --appconfig-listen %s is not a loopback address; use --allow-remote to "
                        "serve configurations beyond this host\n", ac_listen);
        goto out;
    }
    int64_t poll_ms, req_ms, mc;
    if (lvc_parse_duration_ms(poll, &poll_ms) != 0 || poll_ms < 1000) {
        fprintf(stderr, "lever-agent: --poll-interval '%s' must be a duration of at least 1s\n", poll);
        goto out;
    }
    {
        /* a bare number is milliseconds here, as in the AppConfig agent */
        char *end = NULL;
        long v = strtol(req_timeout, &end, 10);
        if (end != req_timeout && *end == '\0')
            req_ms = v;
        else if (lvc_parse_duration_ms(req_timeout, &req_ms) != 0)
            req_ms = -1;
        if (req_ms < 100 || req_ms > 600000) {
            fprintf(stderr, "lever-agent: --request-timeout '%s' must be 100ms to 10m\n", req_timeout);
            goto out;
        }
    }
    int64_t served_ms = 5000;
    if (env("LEVER_AGENT_SERVED_REPORT") &&
        (lvc_parse_duration_ms(env("LEVER_AGENT_SERVED_REPORT"), &served_ms) != 0 ||
         (served_ms != 0 && (served_ms < 1000 || served_ms > 60000)))) {
        fprintf(stderr, "lever-agent: LEVER_AGENT_SERVED_REPORT must be 0 or a duration from 1s to 60s\n");
        goto out;
    }
    if (lvc_parse_int(max_conn, &mc) != 0 || mc < 1 || mc > 64) {
        fprintf(stderr, "lever-agent: --max-connections must be a number from 1 to 64\n");
        goto out;
    }
    if (listen == NULL) {
        const char *port = env("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT");
        char *end = NULL;
        long pn = port ? strtol(port, &end, 10) : 2773;
        if (port && (*end != '\0' || pn < 1 || pn > 65535)) {
            fprintf(stderr, "lever-agent: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a port number\n");
            goto out;
        }
        snprintf(listen_buf, sizeof listen_buf, "127.0.0.1:%ld", pn);
        listen = listen_buf;
    }
    if (!allow_remote && !loopback(listen)) {
        fprintf(stderr, "lever-agent: --listen %s is not a loopback address; the agent serves secrets "
                        "without signatures, so it listens on loopback only unless --allow-remote\n", listen);
        goto out;
    }
    int64_t ttl_ms;
    if (lvc_parse_duration_ms(ttl, &ttl_ms) != 0 || ttl_ms < 0) {
        fprintf(stderr, "lever-agent: --ttl '%s' is not a duration (300, 30s, 5m, 1h)\n", ttl);
        goto out;
    }
    int64_t me, th;
    if (lvc_parse_int(maxe, &me) != 0 || me < 0 || me > 100000000) {
        fprintf(stderr, "lever-agent: --max-entries must be a number from 0 to 100000000\n");
        goto out;
    }
    if (lvc_parse_int(threads, &th) != 0 || th < 0 || th > 256) {
        fprintf(stderr, "lever-agent: --threads must be a number from 0 to 256\n");
        goto out;
    }
    int lv = parse_level(level);
    if (lv < 0) {
        fprintf(stderr, "lever-agent: --log-level must be debug, info, warn, error or none\n");
        goto out;
    }
    lva_set_log_level(lv);
    const char *token = env("LEVER_AGENT_TOKEN"), *session = env("AWS_SESSION_TOKEN");
    bool params_api = token != NULL || session != NULL;
    if (!params_api && !(ac_asked && !ac_off)) {
        fprintf(stderr, "lever-agent: set LEVER_AGENT_TOKEN or AWS_SESSION_TOKEN: callers must present it in "
                        "X-Aws-Parameters-Secrets-Token\n");
        goto out;
    }
    endpoint = lvc_resolve_endpoint(upstream);
    reg = lvc_resolve_region(region);
    if (endpoint == NULL || reg == NULL) {
        fprintf(stderr, "lever-agent: out of memory\n");
        rc = 1;
        goto out;
    }

    /* Signals are taken synchronously by main; every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lva_config cfg = {
        .upstream = endpoint, .region = reg, .profile = profile, .listen = listen,
        .prefixes = (const char *const *)prefixes, .nprefixes = np, .cache_dir = cache_dir,
        .ttl_ms = ttl_ms, .max_entries = (size_t)me, .token = token, .session_token = session,
        .threads = th > 0 ? (unsigned)th : lv_http_cpus(), .watch_wait_s = 20, .request_timeout_ms = 5000,
    };
    lva_agent *agent = NULL;
    char err[1024];
    if (params_api) {
        if (lva_agent_start(&cfg, &agent, err, sizeof err) != 0) {
            fprintf(stderr, "lever-agent: %s\n", err);
            rc = 1;
            goto out;
        }
        lva_log(LVA_LOG_INFO, "lever-agent %s listening on %s (port %u), %zu prefetched prefix(es), ttl %lld ms, "
                "max %lld on-demand entries, cache %s", LEVER_VERSION, listen, lva_agent_port(agent), np,
                (long long)ttl_ms, (long long)me, cache_dir ? cache_dir : "in memory only");
    } else {
        lva_log(LVA_LOG_INFO, "no LEVER_AGENT_TOKEN or AWS_SESSION_TOKEN: the parameters API is not served");
    }
    if (!ac_off) {
        lvac_config acc = {
            .upstream = endpoint, .region = reg, .profile = profile, .listen = ac_listen,
            .listen_optional = ac_optional, .prefetch = ac_prefetch, .nprefetch = nac, .cache_dir = cache_dir,
            .access_token = env("ACCESS_TOKEN"), .local_dir = local_dir, .instance_id = env("LEVER_AGENT_INSTANCE_ID"),
            .threads = (unsigned)th, .max_connections = (unsigned)mc, .poll_interval_ms = poll_ms,
            .request_timeout_ms = req_ms, .watch_wait_s = 20, .max_entries = me > 0 ? (size_t)me : 1000,
            .served_report_ms = served_ms,
        };
        if (lvac_start(&acc, &ac, err, sizeof err) != 0) {
            fprintf(stderr, "lever-agent: %s\n", err);
            lva_agent_stop(agent);
            rc = 1;
            goto out;
        }
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    lva_log(LVA_LOG_INFO, "%s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lvac_stop(ac);
    lva_agent_stop(agent);
    lva_log(LVA_LOG_INFO, "stopped");
    rc = 0;
out:
    for (size_t i = 0; i < np; i++)
        free(prefixes[i]);
    free(endpoint);
    free(reg);
    return rc;
}
