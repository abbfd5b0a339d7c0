/* audit.c - `lever audit`: read and filter the audit log's JSON lines
 * (rotated files included) on the server's host. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lever/lever.h"

/* -------------------------------------------------------------- audit */

/* "15m", "2h", "7d", "30s" before now, or an ISO-8601 UTC time (prefix)
 * as written in the log. out receives a string comparable with the log's
 * "time" field. */
static bool audit_time(const char *in, char *out, size_t cap)
{
    char *end;
    double v = strtod(in, &end);
    if (end != in && end[0] && !end[1] && strchr("smhd", end[0]) && v >= 0) {
        double mult = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
        time_t t = time(NULL) - (time_t)(v * mult);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
        return true;
    }
    if (strlen(in) < 4 || strlen(in) >= cap || in[0] < '0' || in[0] > '9')
        return false;
    snprintf(out, cap, "%s", in);
    return true;
}

static int audit_file(const char *path, const char *key, const char *op, const char *outcome, const char *prefix,
                      const char *since, const char *until, bool *any_file)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? EX_OK : (errf("cannot read %s: %s", path, strerror(errno)), EX_ERROR);
    *any_file = true;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)n, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue; /* a line cut by a crash */
        }
        const char *t = json_string_value(json_object_get(o, "time"));
        const char *k = json_string_value(json_object_get(o, "key_id"));
        const char *opn = json_string_value(json_object_get(o, "operation"));
        const char *oc = json_string_value(json_object_get(o, "outcome"));
        bool keep = t && (!since || strcmp(t, since) >= 0) && (!until || strcmp(t, until) < 0) &&
                    (!key || (k && strcmp(k, key) == 0)) && (!op || (opn && strcmp(opn, op) == 0)) &&
                    (!outcome || (oc && strcmp(oc, outcome) == 0));
        if (keep && prefix) {
            json_t *names = json_object_get(o, "names");
            keep = false;
            for (size_t i = 0; i < json_array_size(names) && !keep; i++) {
                const char *nm = json_string_value(json_array_get(names, i));
                keep = nm && strncmp(nm, prefix, strlen(prefix)) == 0;
            }
        }
        if (keep) {
            if (json_out() || G.output == OUT_TEXT) {
                fwrite(line, 1, (size_t)n, stdout);
            } else {
                json_t *names = json_object_get(o, "names");
                printf("%s  %-20s  %-15s  %-26s  %-9s", t, k ? k : "-",
                       json_string_value(json_object_get(o, "source")) ? json_string_value(json_object_get(o, "source")) : "-", opn ? opn : "-", oc ? oc : "-");
                const char *e = json_string_value(json_object_get(o, "error"));
                if (e)
                    printf(" %s", e);
                for (size_t i = 0; i < json_array_size(names); i++)
                    printf("%s%s", i ? "," : "  ", json_string_value(json_array_get(names, i)));
                putchar('\n');
            }
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return EX_OK;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"file", required_argument, NULL, 'f'},
                                       {"key", required_argument, NULL, 'k'},
                                       {"op", required_argument, NULL, 'O'},
                                       {"outcome", required_argument, NULL, 'c'},
                                       {"name-prefix", required_argument, NULL, 'p'},
                                       {"since", required_argument, NULL, 's'},
                                       {"until", required_argument, NULL, 'u'},
                                       {0, 0, 0, 0}};
    int ch, rc = 0;
    const char *file = NULL, *key = NULL, *op = NULL, *outcome = NULL, *prefix = NULL;
    char since[40], until[40];
    bool has_since = false, has_until = false;
    while ((ch = next_opt(argc, argv, "o:hf:k:O:c:p:s:u:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case 'f': file = optarg; break;
        case 'k': key = optarg; break;
        case 'O': op = optarg; break;
        case 'c': outcome = optarg; break;
        case 'p': prefix = optarg; break;
        case 's':
            if (!(has_since = audit_time(optarg, since, sizeof since)))
                return usage_err("--since takes a time (2024-05-01T10:00:00Z) or an age (15m, 2h, 7d)");
            break;
        case 'u':
            if (!(has_until = audit_time(optarg, until, sizeof until)))
                return usage_err("--until takes a time (2024-05-01T10:00:00Z) or an age (15m, 2h, 7d)");
            break;
        }
    }
    if (argc - optind != 0)
        return usage_err("unexpected argument '%s'", argv[optind]);
    char def[4096];
    if (file == NULL) {
        const char *data = getenv("LEVER_DATA");
        snprintf(def, sizeof def, "%s/audit.log", data && *data ? data : "./lever-data");
        file = def;
    }
    /* Rotated files first, oldest (highest number) to newest. */
    bool any = false;
    for (int i = 1000; i >= 0 && rc == EX_OK; i--) {
        char path[4200];
        if (i > 0)
            snprintf(path, sizeof path, "%s.%d", file, i);
        else
            snprintf(path, sizeof path, "%s", file);
        if (i > 0 && access(path, F_OK) != 0)
            continue;
        rc = audit_file(path, key, op, outcome, prefix, has_since ? since : NULL, has_until ? until : NULL, &any);
    }
    if (rc == EX_OK && !any) {
        errf("no audit log at %s (use --file, or set LEVER_DATA)", file);
        return EX_NOTFOUND;
    }
    return rc;
}
