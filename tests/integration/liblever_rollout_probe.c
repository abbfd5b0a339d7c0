/* liblever_rollout_probe.c - many liblever handles (one per entity) reading
 * one configuration during a gradual deployment, for
 * tests/integration/test_rollout_clients.py: opens N handles with client
 * ids entity-0 .. entity-N-1, subscribes each to APP ENV PROFILE (so the
 * watch keeps it current), and answers stdin commands:
 *   sample -> "SAMPLE v0 v1 ... vN-1" (the version each handle is served)
 *   fetch NAME:LABEL -> "FETCH v0 ... vN-1" (the parameter version
 *       lever_fetch gives each handle: label rollouts bucket client ids)
 *   quit
 * APP "-" subscribes to nothing (label rollouts only).
 * The endpoint, region and credentials come from the environment. Linked
 * with the shared library, so the exported API is what is tested. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lever/lever.h"

static void changed(lever *c, const char *app, const char *env, const char *profile,
                    const lever_configuration *cfg, void *user)
{
    (void)c, (void)app, (void)env, (void)profile, (void)cfg, (void)user;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: liblever_rollout_probe APP ENV PROFILE N\n");
        return 2;
    }
    int n = atoi(argv[4]);
    if (n <= 0 || n > 1000)
        return 2;
    lever **hs = calloc((size_t)n, sizeof *hs);
    if (hs == NULL)
        return 1;
    for (int i = 0; i < n; i++) {
        lever_options *o = lever_options_new();
        char id[32], err[512] = "options";
        snprintf(id, sizeof id, "entity-%d", i);
        if (o == NULL || lever_options_set_client_id(o, id) != LEVER_OK ||
            lever_open(o, &hs[i], err, sizeof err) != LEVER_OK ||
            (strcmp(argv[1], "-") != 0 &&
             lever_subscribe_configuration(hs[i], argv[1], argv[2], argv[3], changed, NULL, NULL) != LEVER_OK)) {
            if (hs[i])
                lever_last_error(hs[i], err, sizeof err);
            fprintf(stderr, "open %d failed: %s\n", i, err);
            return 1;
        }
        lever_options_free(o);
    }
    char line[2200];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "quit", 4) == 0)
            break;
        if (strncmp(line, "fetch ", 6) == 0) {
            line[strcspn(line, "\n")] = '\0';
            fputs("FETCH", stdout);
            for (int i = 0; i < n; i++) {
                lever_param *p;
                if (lever_fetch(hs[i], line + 6, false, &p) == LEVER_OK) {
                    printf(" %lld", (long long)lever_param_version(p));
                    lever_param_free(p);
                } else {
                    fputs(" ERR", stdout);
                }
            }
            putchar('\n');
            fflush(stdout);
            continue;
        }
        if (strncmp(line, "sample", 6) != 0)
            continue;
        fputs("SAMPLE", stdout);
        for (int i = 0; i < n; i++) {
            lever_configuration *cfg;
            if (lever_get_configuration(hs[i], argv[1], argv[2], argv[3], &cfg, NULL) == LEVER_OK) {
                printf(" %s", lever_configuration_version(cfg));
                lever_configuration_free(cfg);
            } else {
                fputs(" ERR", stdout);
            }
        }
        putchar('\n');
        fflush(stdout);
    }
    for (int i = 0; i < n; i++)
        lever_close(hs[i]);
    free(hs);
    return 0;
}
