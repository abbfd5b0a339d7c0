/* liblever_ac_probe.c - drives liblever's AppConfig configuration reads for
 * tests/integration/test_liblever_appconfig.py: reads APP ENV PROFILE,
 * (cache TTL: TTL_MS, default 60 s), subscribes to it, and then answers stdin commands ("get", "unsub",
 * "quit"), printing one line per event:
 *   GET <source> <version> <content-type> <data>
 *   CHANGE <version> <data>          (from the watch thread)
 *   ERR <status> <message>
 * The endpoint, region and credentials come from the environment. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lever/lever.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_change(lever *c, const char *app, const char *env, const char *profile,
                      const lever_configuration *cfg, void *user)
{
    (void)c;
    (void)app;
    (void)env;
    (void)profile;
    (void)user;
    size_t len;
    const char *d = lever_configuration_data(cfg, &len);
    pthread_mutex_lock(&out_mu);
    printf("CHANGE %s %.*s\n", lever_configuration_version(cfg), (int)len, d);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void get(lever *c, const char *app, const char *env, const char *profile)
{
    lever_configuration *cfg;
    lever_source src;
    lever_status st = lever_get_configuration(c, app, env, profile, &cfg, &src);
    pthread_mutex_lock(&out_mu);
    if (st == LEVER_OK) {
        size_t len;
        const char *d = lever_configuration_data(cfg, &len);
        printf("GET %s %s %s %.*s\n", lever_source_str(src), lever_configuration_version(cfg),
               lever_configuration_content_type(cfg), (int)len, d);
        lever_configuration_free(cfg);
    } else {
        char msg[1024];
        lever_last_error(c, msg, sizeof msg);
        printf("ERR %s %s\n", lever_status_str(st), msg);
    }
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: liblever_ac_probe APP ENV PROFILE [TTL_MS]\n");
        return 2;
    }
    lever_options *o = lever_options_new();
    lever_options_set_cache_ttl_ms(o, argc == 5 ? atoll(argv[4]) : 60000);
    lever_options_set_watch_wait_s(o, 5);
    lever_options_set_timeout_ms(o, 2000, 1000);
    lever *c;
    char err[512];
    if (lever_open(o, &c, err, sizeof err) != LEVER_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    lever_options_free(o);
    get(c, argv[1], argv[2], argv[3]);
    uint64_t id = 0;
    if (lever_subscribe_configuration(c, argv[1], argv[2], argv[3], on_change, NULL, &id) != LEVER_OK) {
        lever_last_error(c, err, sizeof err);
        printf("ERR subscribe %s\n", err);
        fflush(stdout);
    }
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "get", 3) == 0) {
            get(c, argv[1], argv[2], argv[3]);
        } else if (strncmp(line, "unsub", 5) == 0) {
            lever_status st = lever_unsubscribe_configuration(c, id);
            pthread_mutex_lock(&out_mu);
            printf("UNSUB %s\n", lever_status_str(st));
            fflush(stdout);
            pthread_mutex_unlock(&out_mu);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    lever_close(c);
    return 0;
}
