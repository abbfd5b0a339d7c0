/* alarm.c - `lever alarm`: put (with an optional HTTP probe), set, ls,
 * rm, each one Lever.* call through liblever. */
#include "cli/alarm.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lever/lever.h"

enum { EX_OK = 0, EX_ERROR = 1, EX_USAGE = 2, EX_NOTFOUND = 3, EX_AUTH = 4, EX_UNREACHABLE = 5 };
enum { OPT_ENDPOINT = 1000, OPT_REGION, OPT_PROFILE, OPT_URL, OPT_INTERVAL, OPT_THRESHOLD, OPT_TIMEOUT, OPT_REASON };

static const char USAGE[] =
    "usage: lever alarm put NAME [--url URL [--interval S] [--threshold N] [--timeout S]]\n"
    "       lever alarm set NAME OK|ALARM [--reason TEXT]\n"
    "       lever alarm ls [NAME...]\n"
    "       lever alarm rm NAME...\n"
    "\n"
    "Alarms are the health signals that roll deployments back (docs/rollouts.md). put creates or\n"
    "updates one; with --url leverd probes URL every S seconds (default 30; --timeout default 5) and\n"
    "the alarm goes to ALARM after N failed probes in a row (default 3), to OK after one success.\n"
    "set forces a state; ls prints NAME STATE UPDATED PROBE REASON (-o json: the DescribeAlarms\n"
    "answer); rm deletes. Global options: --endpoint URL, --region R, --profile P, -o json|table|text.\n";

typedef struct ctx {
    lv_cli_globals g;
    lever *c;
} ctx;

static int exit_of(lever_status st)
{
    switch (st) {
    case LEVER_OK: return EX_OK;
    case LEVER_E_NOT_FOUND: return EX_NOTFOUND;
    case LEVER_E_AUTH: return EX_AUTH;
    case LEVER_E_UNREACHABLE: return EX_UNREACHABLE;
    default: return EX_ERROR;
    }
}

static int usage(const char *why)
{
    fprintf(stderr, "lever alarm: %s\n%s", why, USAGE);
    return EX_USAGE;
}

static int open_client(ctx *x)
{
    lever_options *o = lever_options_new();
    if (o == NULL) {
        fprintf(stderr, "lever alarm: out of memory\n");
        return EX_ERROR;
    }
    lever_status st = LEVER_OK;
    if (x->g.endpoint)
        st = lever_options_set_endpoint(o, x->g.endpoint);
    if (st == LEVER_OK && x->g.region)
        st = lever_options_set_region(o, x->g.region);
    if (st == LEVER_OK && x->g.profile)
        st = lever_options_set_profile(o, x->g.profile);
    char err[1024] = "";
    if (st == LEVER_OK)
        st = lever_open(o, &x->c, err, sizeof err);
    lever_options_free(o);
    if (st != LEVER_OK) {
        fprintf(stderr, "lever alarm: %s\n", err[0] ? err : lever_status_str(st));
        return exit_of(st);
    }
    return EX_OK;
}

/* One Lever.<op> call; body is consumed; *ans (may be NULL) gets the answer. */
static int call(ctx *x, const char *op, json_t *body, json_t **ans)
{
    int rc = x->c ? EX_OK : open_client(x);
    if (rc != EX_OK) {
        json_decref(body);
        return rc;
    }
    char target[64];
    snprintf(target, sizeof target, "Lever.%s", op);
    char *req = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char *out = NULL;
    lever_status st = req ? lever_call_json(x->c, target, req, &out) : LEVER_E_NOMEM;
    free(req);
    if (st != LEVER_OK) {
        char msg[1024] = "";
        lever_last_error(x->c, msg, sizeof msg);
        fprintf(stderr, "lever alarm: %s\n", msg[0] ? msg : lever_status_str(st));
        return exit_of(st);
    }
    json_t *j = json_loads(out, 0, NULL);
    lever_free(out);
    if (j == NULL) {
        fprintf(stderr, "lever alarm: %s: the server's answer is not JSON\n", op);
        return EX_ERROR;
    }
    if (ans)
        *ans = j;
    else
        json_decref(j);
    return EX_OK;
}

static bool number(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void print_table(json_t *alarms, bool text)
{
    if (!text && json_array_size(alarms) > 0)
        printf("%-32s %-17s %-20s %s\n", "NAME", "STATE", "UPDATED", "PROBE / REASON");
    for (size_t i = 0; i < json_array_size(alarms); i++) {
        json_t *a = json_array_get(alarms, i);
        char t[32] = "-";
        time_t s = (time_t)json_number_value(json_object_get(a, "StateUpdatedTimestamp"));
        struct tm tm;
        if (s > 0 && gmtime_r(&s, &tm))
            strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *p = json_object_get(a, "Probe");
        char probe[2200] = "-";
        if (p)
            snprintf(probe, sizeof probe, "%s every %llds, %lld failures, %llds timeout",
                     json_string_value(json_object_get(p, "Url")),
                     (long long)json_integer_value(json_object_get(p, "IntervalSeconds")),
                     (long long)json_integer_value(json_object_get(p, "FailureThreshold")),
                     (long long)json_integer_value(json_object_get(p, "TimeoutSeconds")));
        const char *name = json_string_value(json_object_get(a, "AlarmName"));
        const char *state = json_string_value(json_object_get(a, "StateValue"));
        const char *reason = json_string_value(json_object_get(a, "StateReason"));
        if (text)
            printf("%s\t%s\t%s\t%s\t%s\n", name, state, t, probe, reason ? reason : "");
        else
            printf("%-32s %-17s %-20s %s\n%-72s %s\n", name, state, t, probe, "", reason ? reason : "");
    }
}

int lv_cli_alarm(const lv_cli_globals *g, int argc, char **argv)
{
    static const struct option lo[] = {
        {"endpoint", required_argument, NULL, OPT_ENDPOINT}, {"region", required_argument, NULL, OPT_REGION},
        {"profile", required_argument, NULL, OPT_PROFILE},   {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},                    {"url", required_argument, NULL, OPT_URL},
        {"interval", required_argument, NULL, OPT_INTERVAL}, {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},   {"reason", required_argument, NULL, OPT_REASON},
        {NULL, 0, NULL, 0}};
    ctx x = {*g, NULL};
    const char *url = NULL, *reason = NULL;
    long interval = -1, threshold = -1, timeout = -1;
    bool text = g->text;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case OPT_ENDPOINT: x.g.endpoint = optarg; break;
        case OPT_REGION: x.g.region = optarg; break;
        case OPT_PROFILE: x.g.profile = optarg; break;
        case 'o':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0 && strcmp(optarg, "text") != 0)
                return usage("-o takes json, table or text");
            x.g.json = strcmp(optarg, "json") == 0;
            text = strcmp(optarg, "text") == 0;
            break;
        case 'h': fputs(USAGE, stdout); return EX_OK;
        case OPT_URL: url = optarg; break;
        case OPT_INTERVAL:
            if (!number(optarg, 1, 86400, &interval))
                return usage("--interval takes seconds from 1 to 86400");
            break;
        case OPT_THRESHOLD:
            if (!number(optarg, 1, 100, &threshold))
                return usage("--threshold takes a number from 1 to 100");
            break;
        case OPT_TIMEOUT:
            if (!number(optarg, 1, 60, &timeout))
                return usage("--timeout takes seconds from 1 to 60");
            break;
        case OPT_REASON: reason = optarg; break;
        default: return usage("bad option");
        }
    }
    int n = argc - optind;
    char **a = argv + optind;
    if (n < 1)
        return usage("expected put, set, ls or rm");
    const char *sub = a[0];
    int rc;
    if (!url && (interval > 0 || threshold > 0 || timeout > 0))
        return usage("--interval, --threshold and --timeout go with --url");
    if (strcmp(sub, "put") == 0) {
        if (n != 2)
            return usage("put takes one NAME");
        json_t *b = json_pack("{s:s}", "AlarmName", a[1]);
        if (url) {
            json_t *p = json_pack("{s:s}", "Url", url);
            if (interval > 0)
                json_object_set_new(p, "IntervalSeconds", json_integer(interval));
            if (threshold > 0)
                json_object_set_new(p, "FailureThreshold", json_integer(threshold));
            if (timeout > 0)
                json_object_set_new(p, "TimeoutSeconds", json_integer(timeout));
            json_object_set_new(b, "Probe", p);
        }
        rc = call(&x, "PutAlarm", b, NULL);
    } else if (strcmp(sub, "set") == 0) {
        if (n != 3 || (strcmp(a[2], "OK") != 0 && strcmp(a[2], "ALARM") != 0))
            return usage("set takes NAME and OK or ALARM");
        rc = call(&x, "SetAlarmState",
                  json_pack("{s:s,s:s,s:s}", "AlarmName", a[1], "StateValue", a[2], "StateReason",
                            reason ? reason : "Set by lever alarm set."),
                  NULL);
    } else if (strcmp(sub, "ls") == 0) {
        json_t *b = json_object();
        if (n > 1) {
            json_t *names = json_array();
            for (int i = 1; i < n; i++)
                json_array_append_new(names, json_string(a[i]));
            json_object_set_new(b, "AlarmNames", names);
        }
        json_t *ans = NULL;
        rc = call(&x, "DescribeAlarms", b, &ans);
        if (rc == EX_OK) {
            json_t *alarms = json_object_get(ans, "Alarms");
            if (x.g.json) {
                char *s = json_dumps(ans, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s)
                    puts(s);
                free(s);
            } else {
                print_table(alarms, text);
            }
            if (n > 1 && json_array_size(alarms) < (size_t)(n - 1))
                rc = EX_NOTFOUND; /* a named alarm does not exist */
            json_decref(ans);
        }
    } else if (strcmp(sub, "rm") == 0) {
        if (n < 2)
            return usage("rm takes NAME...");
        rc = EX_OK;
        for (int i = 1; i < n; i++) {
            int r = call(&x, "DeleteAlarm", json_pack("{s:s}", "AlarmName", a[i]), NULL);
            if (r != EX_OK && (rc == EX_OK || rc == EX_NOTFOUND))
                rc = r;
        }
    } else {
        return usage("expected put, set, ls or rm");
    }
    lever_close(x.c);
    return rc;
}
