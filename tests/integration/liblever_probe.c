/* liblever_probe.c - drives liblever for test_liblever.py: opens one handle
 * from command-line options, then runs commands read line by line from
 * stdin, answering one line each (callbacks print "CHANGE ..." lines). */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lever/lever.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void on_log(lever_log_level lvl, const char *msg, void *user)
{
    (void)user;
    pthread_mutex_lock(&out_mu);
    fprintf(stderr, "LOG %d %s\n", (int)lvl, msg);
    fflush(stderr);
    pthread_mutex_unlock(&out_mu);
}

static void on_change(lever *c, const char *key, const char *name, const char *value, void *user)
{
    (void)c;
    /* a callback may call getters: prove it by reading the key back */
    lever_source src;
    char *again = lever_get_string(c, key, "<none>", &src);
    say("CHANGE %s %s %s %s %s", (const char *)user, key, name, value ? value : "<deleted>",
        again ? again : "<oom>");
    lever_free(again);
}

/* Values are printed between '[' and ']' so empty strings are visible. */
static void do_get(lever *c, const char *type, const char *key, const char *def)
{
    lever_source src;
    if (strcmp(type, "string") == 0) {
        char *v = lever_get_string(c, key, strcmp(def, "NULL") == 0 ? NULL : def, &src);
        say("VALUE [%s] %s", v ? v : "(null)", lever_source_str(src));
        lever_free(v);
    } else if (strcmp(type, "int") == 0) {
        int64_t v = lever_get_int(c, key, strtoll(def, NULL, 10), &src);
        say("VALUE [%" PRId64 "] %s", v, lever_source_str(src));
    } else if (strcmp(type, "double") == 0) {
        double v = lever_get_double(c, key, strtod(def, NULL), &src);
        say("VALUE [%g] %s", v, lever_source_str(src));
    } else if (strcmp(type, "bool") == 0) {
        bool v = lever_get_bool(c, key, strcmp(def, "true") == 0, &src);
        say("VALUE [%s] %s", v ? "true" : "false", lever_source_str(src));
    } else if (strcmp(type, "duration") == 0) {
        int64_t v = lever_get_duration_ms(c, key, strtoll(def, NULL, 10), &src);
        say("VALUE [%" PRId64 "] %s", v, lever_source_str(src));
    } else if (strcmp(type, "list") == 0) {
        size_t n;
        char **l = lever_get_list(c, key, def, &n, &src);
        char buf[4096] = "";
        for (size_t i = 0; l && i < n; i++) {
            size_t k = strlen(buf);
            snprintf(buf + k, sizeof buf - k, "%s%s", i ? "|" : "", l[i]);
        }
        say("VALUE [%s] %s %zu", buf, lever_source_str(src), n);
        lever_strlist_free(l);
    } else {
        say("ERR usage unknown type %s", type);
    }
}

static void report(lever *c, lever_status st)
{
    if (st == LEVER_OK) {
        say("OK");
        return;
    }
    char msg[1024];
    lever_last_error(c, msg, sizeof msg);
    say("ERR %s %s", lever_status_str(st), msg);
}

int main(int argc, char **argv)
{
    lever_options *o = lever_options_new();
    if (o == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        lever_status st = LEVER_OK;
        if (strcmp(a, "--live") == 0) {
            st = lever_options_set_live(o, true);
            continue;
        }
        if (strcmp(a, "--no-prefetch") == 0) {
            st = lever_options_set_prefetch(o, false);
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "usage: liblever_probe [--endpoint URL] [--region R] [--prefix P] [--ttl MS]\n"
                            "  [--profile P] [--creds AKID:SECRET] [--env-scheme last|full|none]\n"
                            "  [--env-prefix P] [--wait S] [--live] [--no-prefetch]   (commands on stdin)\n");
            return 2;
        }
        i++;
        if (strcmp(a, "--endpoint") == 0)
            st = lever_options_set_endpoint(o, v);
        else if (strcmp(a, "--region") == 0)
            st = lever_options_set_region(o, v);
        else if (strcmp(a, "--prefix") == 0)
            st = lever_options_set_prefix(o, v);
        else if (strcmp(a, "--ttl") == 0)
            st = lever_options_set_cache_ttl_ms(o, strtoll(v, NULL, 10));
        else if (strcmp(a, "--profile") == 0)
            st = lever_options_set_profile(o, v);
        else if (strcmp(a, "--wait") == 0)
            st = lever_options_set_watch_wait_s(o, atoi(v));
        else if (strcmp(a, "--env-prefix") == 0)
            st = lever_options_set_env_prefix(o, v);
        else if (strcmp(a, "--env-scheme") == 0)
            st = lever_options_set_env_scheme(o, strcmp(v, "full") == 0   ? LEVER_ENV_FULL_PATH
                                                 : strcmp(v, "none") == 0 ? LEVER_ENV_NONE
                                                                          : LEVER_ENV_LAST_SEGMENT);
        else if (strcmp(a, "--creds") == 0) {
            char *dup = strdup(v), *colon = dup ? strchr(dup, ':') : NULL;
            if (colon == NULL)
                return 2;
            *colon = '\0';
            st = lever_options_set_credentials(o, dup, colon + 1, NULL);
            free(dup);
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
        if (st != LEVER_OK) {
            fprintf(stderr, "option %s: %s\n", a, lever_status_str(st));
            return 2;
        }
    }
    lever_options_set_log(o, on_log, NULL);
    lever_options_set_timeout_ms(o, 3000, 1000);
    lever *c;
    char err[512];
    lever_status st = lever_open(o, &c, err, sizeof err);
    lever_options_free(o);
    if (st != LEVER_OK) {
        say("OPENFAIL %s %s", lever_status_str(st), err);
        return 1;
    }
    say("READY %s %s %s", lever_endpoint(c), lever_region(c), lever_prefix(c)[0] ? lever_prefix(c) : "-");

    char line[8192];
    static char tags[64][32];
    size_t ntags = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *argv2[8] = {0};
        int n = 0;
        /* tab-separated so values may hold spaces */
        char *rest = line, *t;
        while (n < 8 && (t = strsep(&rest, "\t")) != NULL)
            argv2[n++] = t;
        if (n == 0)
            continue;
        const char *cmd = argv2[0];
        if (strcmp(cmd, "get") == 0 && n == 4) {
            do_get(c, argv2[1], argv2[2], argv2[3]);
        } else if (strcmp(cmd, "err") == 0) {
            char msg[1024];
            lever_status e = lever_last_error(c, msg, sizeof msg);
            say("LASTERR %s %s", lever_status_str(e), msg);
        } else if (strcmp(cmd, "clearerr") == 0) {
            lever_clear_error(c);
            say("OK");
        } else if (strcmp(cmd, "envname") == 0 && n == 2) {
            char *e = lever_env_name(c, argv2[1]);
            say("ENV %s", e ? e : "(none)");
            lever_free(e);
        } else if (strcmp(cmd, "prefetch") == 0) {
            report(c, lever_prefetch(c));
        } else if (strcmp(cmd, "put") == 0 && n >= 3) {
            int64_t ver = 0;
            st = lever_put(c, argv2[1], argv2[2], n > 3 ? argv2[3] : NULL, LEVER_PUT_OVERWRITE, NULL, NULL,
                           NULL, &ver);
            if (st == LEVER_OK)
                say("OK %" PRId64, ver);
            else
                report(c, st);
        } else if (strcmp(cmd, "putnew") == 0 && n >= 3) {
            st = lever_put(c, argv2[1], argv2[2], n > 3 ? argv2[3] : NULL, 0, n > 4 ? argv2[4] : NULL, NULL,
                           NULL, NULL);
            report(c, st);
        } else if (strcmp(cmd, "delete") == 0 && n == 2) {
            report(c, lever_delete(c, argv2[1]));
        } else if (strcmp(cmd, "label") == 0 && n == 4) {
            const char *ls[1] = {argv2[3]};
            report(c, lever_label(c, argv2[1], strtoll(argv2[2], NULL, 10), ls, 1));
        } else if (strcmp(cmd, "unlabel") == 0 && n == 4) {
            const char *ls[1] = {argv2[3]};
            report(c, lever_unlabel(c, argv2[1], strtoll(argv2[2], NULL, 10), ls, 1));
        } else if (strcmp(cmd, "fetch") == 0 && n == 2) {
            lever_param *p;
            st = lever_fetch(c, argv2[1], true, &p);
            if (st == LEVER_OK) {
                say("PARAM %s %s %" PRId64 " [%s]", lever_param_name(p), lever_param_type(p),
                    lever_param_version(p), lever_param_value(p));
                lever_param_free(p);
            } else {
                report(c, st);
            }
        } else if (strcmp(cmd, "list") == 0 && n == 3) {
            lever_param_list *l;
            uint64_t rev;
            st = lever_list_path(c, argv2[1], strcmp(argv2[2], "r") == 0, true, &l, &rev);
            if (st == LEVER_OK) {
                char buf[8192] = "";
                for (size_t i = 0; i < lever_param_list_count(l); i++) {
                    const lever_param *p = lever_param_list_at(l, i);
                    size_t k = strlen(buf);
                    snprintf(buf + k, sizeof buf - k, "%s%s=%s", i ? "," : "", lever_param_name(p),
                             lever_param_value(p));
                }
                say("LIST %zu %" PRIu64 " %s", lever_param_list_count(l), rev, buf);
                lever_param_list_free(l);
            } else {
                report(c, st);
            }
        } else if (strcmp(cmd, "history") == 0 && n == 2) {
            lever_param_list *l;
            st = lever_history(c, argv2[1], true, &l);
            if (st == LEVER_OK) {
                char buf[8192] = "";
                for (size_t i = 0; i < lever_param_list_count(l); i++) {
                    const lever_param *p = lever_param_list_at(l, i);
                    size_t k = strlen(buf);
                    snprintf(buf + k, sizeof buf - k, "%s%" PRId64 "=%s", i ? "," : "", lever_param_version(p),
                             lever_param_value(p));
                    for (size_t j = 0; j < lever_param_label_count(p); j++) {
                        k = strlen(buf);
                        snprintf(buf + k, sizeof buf - k, "+%s", lever_param_label(p, j));
                    }
                }
                say("HISTORY %zu %s", lever_param_list_count(l), buf);
                lever_param_list_free(l);
            } else {
                report(c, st);
            }
        } else if (strcmp(cmd, "describe") == 0 && n == 2) {
            lever_param_list *l;
            st = lever_describe(c, argv2[1], true, &l);
            if (st == LEVER_OK) {
                char buf[8192] = "";
                for (size_t i = 0; i < lever_param_list_count(l); i++) {
                    const lever_param *p = lever_param_list_at(l, i);
                    size_t k = strlen(buf);
                    snprintf(buf + k, sizeof buf - k, "%s%s:%s:%s", i ? "," : "", lever_param_name(p),
                             lever_param_type(p), lever_param_description(p) ? lever_param_description(p) : "");
                }
                say("DESCRIBE %zu %s", lever_param_list_count(l), buf);
                lever_param_list_free(l);
            } else {
                report(c, st);
            }
        } else if (strcmp(cmd, "subscribe") == 0 && n >= 2 && ntags < 64) {
            /* subscribe TAG [KEY] */
            snprintf(tags[ntags], sizeof tags[ntags], "%s", argv2[1]);
            uint64_t id;
            st = lever_subscribe(c, n > 2 ? argv2[2] : NULL, on_change, tags[ntags], &id);
            ntags++;
            if (st == LEVER_OK)
                say("SUB %" PRIu64, id);
            else
                report(c, st);
        } else if (strcmp(cmd, "unsubscribe") == 0 && n == 2) {
            report(c, lever_unsubscribe(c, strtoull(argv2[1], NULL, 10)));
        } else if (strcmp(cmd, "live") == 0) {
            uint64_t rl, rc;
            lever_live_stats(c, &rl, &rc);
            say("LIVE %d %" PRIu64 " %" PRIu64, lever_live_connected(c) ? 1 : 0, rl, rc);
        } else if (strcmp(cmd, "sleep") == 0 && n == 2) {
            struct timespec ts = {atol(argv2[1]) / 1000, (atol(argv2[1]) % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            say("OK");
        } else if (strcmp(cmd, "quit") == 0) {
            break;
        } else {
            say("ERR usage %s", cmd);
        }
    }
    lever_close(c);
    say("BYE");
    return 0;
}
