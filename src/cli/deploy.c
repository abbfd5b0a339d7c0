/* deploy.c - `lever deploy`: start a rollout (an AppConfig deployment, or
 * an SSM label moved through a strategy), follow it with a live progress
 * bar on a terminal (plain lines otherwise) and its event log, exit by how
 * it ended; `lever deploy status` and `--stop`. docs/cli.md. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/acrest.h"
#include "cli/cli.h"

enum { POLL_MS = 200, BAR_WIDTH = 30 };

/* What a rollout is: an AppConfig environment's deployment, or a label of
 * a parameter (NAME:LABEL). */
typedef struct target {
    bool label;
    char name[2048], lab[128];               /* label rollouts */
    char aid[64], eid[64], pid[64];          /* deployments (ids) */
    char app[256], env[256];                 /* as typed, for messages */
    long long number;                        /* deployment number, 0 = latest */
} target;

/* ------------------------------------------------------------ strategies */

/* The predefined CodeDeploy-named strategies leverd has (DESIGN.md). */
static const char *const LEVER_STRATEGIES[] = {
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
};

/* A strategy as typed: an AWS id (AppConfig.*, or a 7-character id), a
 * Lever.* name, a CodeDeploy name with or without its
 * CodeDeployDefault.Lambda / ECS prefix (Canary10Percent5Minutes ->
 * Lever.Canary10Percent5Minutes), or the name of a strategy made with
 * CreateDeploymentStrategy. out gets the id to send. */
static int resolve_strategy(const char *s, char *out, size_t cap)
{
    if (strncmp(s, "AppConfig.", 10) == 0 || strncmp(s, "Lever.", 6) == 0) {
        snprintf(out, cap, "%s", s);
        return EX_OK;
    }
    char bare[200];
    const char *b = s;
    if (strncmp(b, "CodeDeployDefault.", 18) == 0)
        b += 18;
    if (strncmp(b, "Lambda", 6) == 0)
        b += 6;
    else if (strncmp(b, "ECS", 3) == 0)
        b += 3;
    snprintf(bare, sizeof bare, "%s", b);
    /* ECS spells the one-minute linear one "Every1Minutes" */
    char *m = strstr(bare, "Every1Minutes");
    if (m)
        memmove(m + 12, m + 13, strlen(m + 13) + 1);
    for (size_t i = 0; i < sizeof LEVER_STRATEGIES / sizeof LEVER_STRATEGIES[0]; i++)
        if (strcmp(bare, LEVER_STRATEGIES[i]) == 0) {
            snprintf(out, cap, "Lever.%s", bare);
            return EX_OK;
        }
    if (open_client() != EX_OK)
        return EX_ERROR;
    int rc = lv_acrest_resolve(G.c, "/deploymentstrategies", s, "deployment strategy", out, cap);
    if (rc == EX_NOTFOUND)
        errf("strategies: AppConfig.* ids, Lever.* names, CodeDeploy names (Canary10Percent5Minutes, "
             "Linear10PercentEvery1Minute, AllAtOnce, ...), or a strategy's own name or id");
    return rc;
}

/* ------------------------------------------------------------- targets */

/* NAME:LABEL (a parameter's label: label_argc arguments, one ':' in the
 * first; parameter names cannot hold one) or APP ENV: fills t, resolving
 * names. */
static int parse_target(int argc, char **argv, int label_argc, target *t)
{
    memset(t, 0, sizeof *t);
    const char *colon = argc == label_argc ? strrchr(argv[0], ':') : NULL;
    if (colon && strchr(argv[0], ':') == colon) {
        t->label = true;
        size_t nl = (size_t)(colon - argv[0]);
        if (nl == 0 || nl >= sizeof t->name || colon[1] == '\0' || strlen(colon + 1) >= sizeof t->lab)
            return usage_err("NAME:LABEL needs a parameter name and a label");
        memcpy(t->name, argv[0], nl);
        t->name[nl] = '\0';
        snprintf(t->lab, sizeof t->lab, "%s", colon + 1);
        return EX_OK;
    }
    if (argc < 2)
        return usage_err("expected APP ENV (or NAME:LABEL for a parameter's label)");
    snprintf(t->app, sizeof t->app, "%s", argv[0]);
    snprintf(t->env, sizeof t->env, "%s", argv[1]);
    int rc = open_client();
    if (rc == EX_OK)
        rc = lv_acrest_app_id(G.c, argv[0], t->aid, sizeof t->aid);
    if (rc == EX_OK)
        rc = lv_acrest_child_id(G.c, t->aid, "/environments", argv[1], "environment", t->eid, sizeof t->eid);
    return rc;
}

static void env_path(const target *t, char *p, size_t cap)
{
    snprintf(p, cap, "/applications/");
    lv_acrest_enc(p, cap, t->aid);
    snprintf(p + strlen(p), cap - strlen(p), "/environments/");
    lv_acrest_enc(p, cap, t->eid);
    snprintf(p + strlen(p), cap - strlen(p), "/deployments");
}

/* One Lever.<op> call (label rollouts); *ans gets the answer. */
static int lever_op(const char *op, json_t *body, json_t **ans)
{
    *ans = NULL;
    int rc = open_client();
    char *req = rc == EX_OK && body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (rc != EX_OK)
        return rc;
    char target_name[64], *out = NULL;
    snprintf(target_name, sizeof target_name, "Lever.%s", op);
    lever_status st = req ? lever_call_json(G.c, target_name, req, &out) : LEVER_E_NOMEM;
    free(req);
    if (st != LEVER_OK)
        return fail_st(st);
    *ans = json_loads(out, 0, NULL);
    lever_free(out);
    if (*ans == NULL) {
        errf("%s: the server's answer is not JSON", op);
        return EX_ERROR;
    }
    return EX_OK;
}

/* The newest deployment of an environment (its number), for status/stop
 * without a number. */
static int latest_number(target *t)
{
    char p[512];
    env_path(t, p, sizeof p);
    json_t *items;
    int rc = lv_acrest_list(G.c, p, &items);
    if (rc != EX_OK)
        return rc;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        long long n = json_integer_value(json_object_get(it, "DeploymentNumber"));
        if (n > t->number)
            t->number = n;
    }
    json_decref(items);
    if (t->number == 0) {
        errf("no deployment to environment %s yet", t->env);
        return EX_NOTFOUND;
    }
    return EX_OK;
}

/* The rollout's current record (GetDeployment, or Lever.GetLabelDeployment). */
static int get_state(const target *t, json_t **d)
{
    if (t->label)
        return lever_op("GetLabelDeployment", json_pack("{s:s, s:s}", "Name", t->name, "Label", t->lab), d);
    char p[600];
    env_path(t, p, sizeof p);
    snprintf(p + strlen(p), sizeof p - strlen(p), "/%lld", t->number);
    return lv_acrest_call(G.c, "GET", p, NULL, NULL, 0, d, NULL);
}

/* ------------------------------------------------------------ following */

static volatile sig_atomic_t interrupted;

static void on_int(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void fmt_when(json_t *v, char *buf, size_t n)
{
    if (json_is_number(v)) {
        fmt_time(json_number_value(v), buf, n);
        return;
    }
    snprintf(buf, n, "%s", json_is_string(v) ? json_string_value(v) : "-");
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool terminal_state(const char *s)
{
    return strcmp(s, "COMPLETE") == 0 || strcmp(s, "ROLLED_BACK") == 0 || strcmp(s, "REVERTED") == 0;
}

static int exit_of_state(const char *s)
{
    return strcmp(s, "COMPLETE") == 0 ? EX_OK : EX_ROLLED_BACK;
}

/* The progress line: [#########-----] 37.5% DEPLOYING */
static void draw_bar(double pct, const char *state)
{
    int full = (int)(pct / 100.0 * BAR_WIDTH + 0.5);
    if (full < 0)
        full = 0;
    if (full > BAR_WIDTH)
        full = BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    memset(bar, '#', (size_t)full);
    memset(bar + full, '-', (size_t)(BAR_WIDTH - full));
    bar[BAR_WIDTH] = '\0';
    printf("\r\033[K[%s] %5.1f%%  %s", bar, pct, state);
    fflush(stdout);
}

typedef struct follow {
    bool tty;            /* a progress bar, redrawn in place */
    size_t seen;         /* events already printed */
    double pct;
    char state[32];
    bool drawn;
} follow;

/* Prints what is new in d: events (oldest first; the log is newest first),
 * then the progress. */
static void show_progress(follow *f, json_t *d)
{
    json_t *log = json_object_get(d, "EventLog");
    size_t n = json_array_size(log);
    if (n > f->seen) {
        if (f->tty && f->drawn)
            printf("\r\033[K");
        for (size_t i = n - f->seen; i-- > 0;) {
            json_t *e = json_array_get(log, i);
            char when[64];
            fmt_when(json_object_get(e, "OccurredAt"), when, sizeof when);
            const char *by = jstr(e, "TriggeredBy");
            if (by[0])
                printf("%s  %-26s %s  (%s)\n", when, jstr(e, "EventType"), jstr(e, "Description"), by);
            else
                printf("%s  %-26s %s\n", when, jstr(e, "EventType"), jstr(e, "Description"));
        }
        f->seen = n;
        f->drawn = false;
    }
    double pct = json_number_value(json_object_get(d, "PercentageComplete"));
    const char *state = jstr(d, "State");
    bool changed = pct != f->pct || strcmp(state, f->state) != 0;
    f->pct = pct;
    snprintf(f->state, sizeof f->state, "%s", state);
    if (f->tty) {
        if (changed || !f->drawn)
            draw_bar(pct, state);
        f->drawn = true;
    } else if (changed) {
        printf("%.1f%% %s\n", pct, state);
    }
    fflush(stdout);
}

/* Follows the rollout until it ends; the exit code says how. */
static int follow_rollout(const target *t)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, NULL);
    follow f = {.tty = G.tty && G.output != OUT_TEXT && !json_out(), .pct = -1};
    int rc = EX_OK;
    json_t *d = NULL;
    for (;;) {
        json_decref(d);
        if ((rc = get_state(t, &d)) != EX_OK)
            return rc;
        if (!json_out())
            show_progress(&f, d);
        const char *state = jstr(d, "State");
        if (terminal_state(state)) {
            rc = exit_of_state(state);
            break;
        }
        if (interrupted) {
            if (f.tty)
                putchar('\n');
            if (t->label)
                errf("still %s; follow with `lever deploy status %s:%s --follow`, stop with `lever deploy --stop "
                     "%s:%s`", state, t->name, t->lab, t->name, t->lab);
            else
                errf("deployment %lld is still %s; `lever deploy status %s %s %lld --follow` follows it, "
                     "`lever deploy --stop %s %s %lld` rolls it back", t->number, state, t->app, t->env, t->number,
                     t->app, t->env, t->number);
            json_decref(d);
            return 130;
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (json_out())
        print_json(d);
    else if (f.tty)
        putchar('\n');
    if (!json_out() && rc != EX_OK)
        errf("%s: %s", t->label ? "label rollout" : "deployment", jstr(d, "State"));
    if (json_out())
        d = NULL;
    json_decref(d);
    return rc;
}

/* ------------------------------------------------------------- commands */

static int print_state(const target *t, json_t *d)
{
    if (json_out()) {
        print_json(json_incref(d));
        return EX_OK;
    }
    follow f = {.tty = false, .pct = -1};
    if (t->label)
        printf("%s:%s -> version %lld\n", t->name, t->lab,
               (long long)json_integer_value(json_object_get(d, "ParameterVersion")));
    else
        printf("deployment %lld of %s to %s: version %s, strategy %s\n", t->number, jstr(d, "ConfigurationName"),
               t->env, jstr(d, "ConfigurationVersion"), jstr(d, "DeploymentStrategyId"));
    show_progress(&f, d);
    return EX_OK;
}

static int do_status(int argc, char **argv, bool follow_it)
{
    target t;
    int rc = parse_target(argc, argv, 1, &t);
    if (rc != EX_OK)
        return rc;
    if (!t.label && argc > 3)
        return usage_err("status takes APP ENV [NUMBER] or NAME:LABEL");
    if (t.label && argc > 1)
        return usage_err("status takes APP ENV [NUMBER] or NAME:LABEL");
    if (!t.label && argc == 3) {
        char *end;
        t.number = strtoll(argv[2], &end, 10);
        if (*end || t.number <= 0)
            return usage_err("NUMBER is a deployment number");
    } else if (!t.label && (rc = latest_number(&t)) != EX_OK) {
        return rc;
    }
    if (follow_it)
        return follow_rollout(&t);
    json_t *d;
    if ((rc = open_client()) != EX_OK || (rc = get_state(&t, &d)) != EX_OK)
        return rc;
    print_state(&t, d);
    json_decref(d);
    return EX_OK;
}

static int do_stop(int argc, char **argv)
{
    target t;
    int rc = parse_target(argc, argv, 1, &t);
    if (rc != EX_OK)
        return rc;
    if ((t.label && argc != 1) || (!t.label && argc > 3))
        return usage_err("--stop takes APP ENV [NUMBER] or NAME:LABEL");
    json_t *d = NULL;
    if (t.label) {
        rc = lever_op("StopLabelDeployment", json_pack("{s:s, s:s}", "Name", t.name, "Label", t.lab), &d);
    } else {
        if (argc == 3) {
            char *end;
            t.number = strtoll(argv[2], &end, 10);
            if (*end || t.number <= 0)
                return usage_err("NUMBER is a deployment number");
        } else if ((rc = latest_number(&t)) != EX_OK) {
            return rc;
        }
        char p[600];
        env_path(&t, p, sizeof p);
        snprintf(p + strlen(p), sizeof p - strlen(p), "/%lld", t.number);
        rc = lv_acrest_call(G.c, "DELETE", p, NULL, NULL, 0, NULL, NULL);
    }
    json_decref(d);
    if (rc != EX_OK)
        return rc;
    if ((rc = get_state(&t, &d)) != EX_OK)
        return rc;
    print_state(&t, d);
    json_decref(d);
    return EX_OK;
}

static int do_start(int argc, char **argv, const char *strategy, const char *desc, bool detach)
{
    target t;
    int rc = parse_target(argc, argv, 2, &t);
    if (rc != EX_OK)
        return rc;
    if ((t.label && argc != 2) || (!t.label && argc != 4))
        return usage_err("expected APP ENV PROFILE VERSION, or NAME:LABEL VERSION");
    char sid[300];
    if ((rc = resolve_strategy(strategy ? strategy : "AllAtOnce", sid, sizeof sid)) != EX_OK)
        return rc;
    if ((rc = open_client()) != EX_OK)
        return rc;
    json_t *d = NULL;
    if (t.label) {
        char *end;
        long long v = strtoll(argv[1], &end, 10);
        if (*end || v <= 0)
            return usage_err("VERSION is a parameter version number");
        json_t *body = json_pack("{s:s, s:s, s:I, s:s}", "Name", t.name, "Label", t.lab, "ParameterVersion",
                                 (json_int_t)v, "DeploymentStrategyId", sid);
        if (body && desc)
            json_object_set_new(body, "Description", json_string(desc));
        rc = lever_op("StartLabelDeployment", body, &d);
    } else {
        if ((rc = lv_acrest_child_id(G.c, t.aid, "/configurationprofiles", argv[2], "configuration profile", t.pid,
                                     sizeof t.pid)) != EX_OK)
            return rc;
        json_t *req = json_pack("{s:s, s:s, s:s}", "DeploymentStrategyId", sid, "ConfigurationProfileId", t.pid,
                                "ConfigurationVersion", argv[3]);
        if (req && desc)
            json_object_set_new(req, "Description", json_string(desc));
        char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (body == NULL)
            return errf("out of memory"), EX_ERROR;
        char p[512];
        env_path(&t, p, sizeof p);
        const char *hdrs[] = {"Content-Type: application/json", NULL};
        rc = lv_acrest_call(G.c, "POST", p, hdrs, body, strlen(body), &d, NULL);
        free(body);
        if (rc == EX_OK)
            t.number = json_integer_value(json_object_get(d, "DeploymentNumber"));
    }
    if (rc != EX_OK) {
        json_decref(d);
        return rc;
    }
    if (!json_out()) {
        if (t.label)
            printf("moving %s:%s to version %s with %s\n", t.name, t.lab, argv[1], sid);
        else
            printf("deployment %lld: %s version %s to %s with %s\n", t.number, argv[2], argv[3], t.env, sid);
        fflush(stdout);
    }
    if (detach) {
        if (json_out())
            print_json(d);
        else
            json_decref(d);
        return EX_OK;
    }
    json_decref(d);
    return follow_rollout(&t);
}

int cmd_deploy(int argc, char **argv)
{
    enum { O_STRATEGY = 2000, O_DESC, O_DETACH, O_STOP, O_FOLLOW };
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"strategy", required_argument, NULL, O_STRATEGY},
                                       {"description", required_argument, NULL, O_DESC},
                                       {"detach", no_argument, NULL, O_DETACH},
                                       {"stop", no_argument, NULL, O_STOP},
                                       {"follow", no_argument, NULL, 'f'},
                                       {0, 0, 0, 0}};
    const char *strategy = NULL, *desc = NULL;
    bool detach = false, stop = false, follow_it = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hf", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case O_STRATEGY: strategy = optarg; break;
        case O_DESC: desc = optarg; break;
        case O_DETACH: detach = true; break;
        case O_STOP: stop = true; break;
        case 'f': follow_it = true; break;
        default: return usage_err("bad option");
        }
    }
    int n = argc - optind;
    char **args = argv + optind;
    if (stop)
        return n >= 1 && strcmp(args[0], "status") != 0 ? do_stop(n, args)
                                                         : usage_err("--stop takes APP ENV [NUMBER] or NAME:LABEL");
    if (n >= 1 && strcmp(args[0], "status") == 0)
        return do_status(n - 1, args + 1, follow_it);
    if (follow_it)
        return usage_err("--follow goes with status");
    return do_start(n, args, strategy, desc, detach);
}
