/* watch.c - `lever watch PATH`: a live stream of the changes under a path. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lever/lever.h"

/* -------------------------------------------------------------- watch */

static void on_sigint(int sig)
{
    (void)sig;
    /* stdout is flushed after every line: nothing is lost by leaving now */
    _exit(EX_OK);
}

int cmd_watch(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"one-level", no_argument, NULL, '1'},
                                       {"since", required_argument, NULL, 's'},
                                       {"values", no_argument, NULL, 'V'},
                                       {"count", required_argument, NULL, 'n'},
                                       {0, 0, 0, 0}};
    bool recursive = true, values = false, have_since = false;
    uint64_t since = 0;
    long count = -1;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hn:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case '1': recursive = false; break;
        case 'V': values = true; break;
        case 's': since = strtoull(optarg, NULL, 10); have_since = true; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        }
    }
    if (argc - optind != 1)
        return usage_err("expected one PATH");
    char pbuf[2048];
    const char *path = norm_path(argv[optind], pbuf, sizeof pbuf);
    if ((rc = open_client()) != EX_OK)
        return rc;
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    if (!have_since) {
        /* start from now: the revision of a listing of the path */
        lever_param_list *l;
        lever_status st = lever_list_path(G.c, path, recursive, false, &l, &since);
        if (st != LEVER_OK)
            return fail_st(st);
        lever_param_list_free(l);
    }
    if (!json_out()) {
        fprintf(stderr, "watching %s from revision %" PRIu64 " (Ctrl-C to stop)\n", path, since);
    }
    long seen = 0;
    int backoff_ms = 200;
    for (;;) {
        lever_change_list *cl;
        uint64_t next = since;
        lever_status st = lever_watch(G.c, path, recursive, since, 20, &cl, &next);
        if (st == LEVER_E_COMPACTED) {
            errf("revision %" PRIu64 " is no longer held by the server; changes were missed "
                 "(run `lever ls` and watch again)", since);
            return EX_ERROR;
        }
        if (st == LEVER_E_UNREACHABLE) {
            /* keep watching across server restarts */
            struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
            continue;
        }
        if (st != LEVER_OK)
            return fail_st(st);
        backoff_ms = 200;
        for (size_t i = 0; i < lever_change_count(cl); i++) {
            const char *kind = lever_change_kind(cl, i), *name = lever_change_name(cl, i);
            char *value = NULL;
            if (values && strcmp(kind, "Put") == 0) {
                lever_param *p;
                if (lever_fetch(G.c, name, false, &p) == LEVER_OK) {
                    value = strdup(mask(p, false));
                    lever_param_free(p);
                }
            }
            if (json_out()) {
                json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:f}", "Revision",
                                      (json_int_t)lever_change_revision(cl, i), "Kind", kind, "Name", name,
                                      "Version", (json_int_t)lever_change_version(cl, i), "Time",
                                      lever_change_time(cl, i));
                if (o && value)
                    json_object_set_new(o, "Value", json_string(value));
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                if (s)
                    puts(s);
                free(s);
                json_decref(o);
            } else {
                char t[32];
                fmt_time(lever_change_time(cl, i), t, sizeof t);
                printf("%s  %-8" PRIu64 " %-8s %s v%" PRId64 "%s%s\n", t, lever_change_revision(cl, i), kind,
                       name, lever_change_version(cl, i), value ? " = " : "", value ? value : "");
            }
            free(value);
            fflush(stdout);
            if (count > 0 && ++seen >= count) {
                lever_change_list_free(cl);
                return EX_OK;
            }
        }
        lever_change_list_free(cl);
        if (next > since)
            since = next;
    }
}
