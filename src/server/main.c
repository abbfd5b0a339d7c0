/* main.c - leverd: configuration, wiring of engine, router and listener,
 * and a clean stop on SIGTERM / SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/router.h"
#include "auth/keys.h"
#include "engine/engine.h"
#include "http/http.h"

#ifndef LEVER_VERSION
#define LEVER_VERSION "0.1.0"
#endif

typedef struct config {
    const char *data;
    const char *listen;
    const char *store;
    const char *region;
    const char *account;
    unsigned threads;
    size_t changelog;
} config;

static void usage(FILE *f)
{
    fputs("usage: leverd [options]\n"
          "\n"
          "A self-hosted parameter store that speaks the AWS SSM Parameter Store API.\n"
          "\n"
          "options (each has an environment twin, used when the flag is absent):\n"
          "  --data DIR          data directory (LEVER_DATA, default ./lever-data)\n"
          "  --listen HOST:PORT  address to serve on (LEVER_LISTEN, default 127.0.0.1:7447)\n"
          "  --store URI         storage backend (LEVER_STORE, default sqlite:<DIR>/lever.db)\n"
          "  --region R          region shown in hints (LEVER_REGION, default us-east-1);\n"
          "                      requests use the region they are signed for\n"
          "  --account-id N      account id in ARNs (LEVER_ACCOUNT_ID, default 000000000000)\n"
          "  --threads N         HTTP worker threads (LEVER_THREADS, default: CPUs)\n"
          "  --changelog-size N  changes kept for watchers (LEVER_CHANGELOG_SIZE, default 100000)\n"
          "  -h, --help          this text\n"
          "  -V, --version       print the version\n"
          "\n"
          "other environment:\n"
          "  LEVER_ROOT_ACCESS_KEY_ID, LEVER_ROOT_SECRET_ACCESS_KEY  provision the root key\n"
          "  LEVER_MASTER_KEY_FILE  SecureString master key (default <DIR>/master.key)\n"
          "\n"
          "On first start leverd writes <DIR>/credentials (AWS shared-credentials format).\n",
          f);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static int parse_args(int argc, char **argv, config *c)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"store", required_argument, NULL, 's'},
        {"region", required_argument, NULL, 'r'},
        {"account-id", required_argument, NULL, 'a'},
        {"threads", required_argument, NULL, 't'},
        {"changelog-size", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    c->data = env_or("LEVER_DATA", "./lever-data");
    c->listen = env_or("LEVER_LISTEN", "127.0.0.1:7447");
    c->store = env_or("LEVER_STORE", NULL);
    c->region = env_or("LEVER_REGION", "us-east-1");
    c->account = env_or("LEVER_ACCOUNT_ID", "000000000000");
    const char *threads = env_or("LEVER_THREADS", "0");
    const char *changelog = env_or("LEVER_CHANGELOG_SIZE", "100000");
    int ch;
    while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': c->data = optarg; break;
        case 'l': c->listen = optarg; break;
        case 's': c->store = optarg; break;
        case 'r': c->region = optarg; break;
        case 'a': c->account = optarg; break;
        case 't': threads = optarg; break;
        case 'c': changelog = optarg; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("leverd %s\n", LEVER_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "leverd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    char *end;
    long t = strtol(threads, &end, 10);
    if (*end != '\0' || t < 0 || t > 256) {
        fprintf(stderr, "leverd: --threads must be a number from 0 to 256\n");
        return -1;
    }
    c->threads = (unsigned)t;
    long long cl = strtoll(changelog, &end, 10);
    if (*end != '\0' || cl < 1 || cl > 100000000) {
        fprintf(stderr, "leverd: --changelog-size must be a number from 1 to 100000000\n");
        return -1;
    }
    c->changelog = (size_t)cl;
    size_t al = strlen(c->account);
    if (al != 12 || strspn(c->account, "0123456789") != al) {
        fprintf(stderr, "leverd: --account-id must be 12 digits\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    config cfg;
    if (parse_args(argc, argv, &cfg) != 0)
        return 2;
    if (mkdir(cfg.data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "leverd: cannot create data directory %s: %s\n", cfg.data, strerror(errno));
        return 1;
    }
    char creds_path[PATH_MAX], key_path[PATH_MAX], store_uri[PATH_MAX + 16];
    snprintf(creds_path, sizeof creds_path, "%s/credentials", cfg.data);
    snprintf(key_path, sizeof key_path, "%s/master.key", cfg.data);
    if (cfg.store == NULL) {
        snprintf(store_uri, sizeof store_uri, "sqlite:%s/lever.db", cfg.data);
        cfg.store = store_uri;
    }
    const char *master = env_or("LEVER_MASTER_KEY_FILE", key_path);

    /* Signals are taken synchronously by main; every thread created from
     * here on inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lv_error err;
    lv_error_clear(&err);
    lv_credentials root;
    if (lv_keys_root_load_or_create(creds_path, &root, &err) != LV_OK) {
        fprintf(stderr, "leverd: root credentials: %s\n", err.msg);
        return 1;
    }
    lv_engine_config ecfg = {cfg.store, master, cfg.changelog, 0};
    lv_engine *engine;
    if (lv_engine_open(&ecfg, &engine, &err) != LV_OK) {
        fprintf(stderr, "leverd: cannot open store %s: %s\n", cfg.store, err.msg);
        return 1;
    }
    lv_router_config rcfg = {engine, cfg.account, &root};
    lv_router *router;
    if (lv_router_new(&rcfg, &router, &err) != LV_OK) {
        fprintf(stderr, "leverd: %s\n", err.msg);
        lv_engine_close(engine);
        return 1;
    }
    lv_http_config hcfg = {cfg.listen, cfg.threads, 1 << 20, 0, 0};
    lv_http_server *http;
    if (lv_http_start(&hcfg, lv_router_handle, router, &http, &err) != LV_OK) {
        fprintf(stderr, "leverd: cannot listen on %s: %s\n", cfg.listen, err.msg);
        lv_router_free(router);
        lv_engine_close(engine);
        return 1;
    }
    lv_engine_stats st;
    lv_engine_stats_get(engine, &st);
    fprintf(stderr,
            "leverd %s listening on %s (port %u), store %s, %llu parameters, revision %llu\n"
            "credentials: %s\n",
            LEVER_VERSION, cfg.listen, lv_http_port(http), cfg.store,
            (unsigned long long)st.params, (unsigned long long)st.revision, creds_path);
    fflush(stderr);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "leverd: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lv_engine_watch_fire_all(engine); /* parked watchers answer before the listener stops */
    lv_http_stop(http);
    lv_router_free(router);
    lv_engine_close(engine);
    memset(&root, 0, sizeof root);
    fprintf(stderr, "leverd: stopped\n");
    return 0;
}
