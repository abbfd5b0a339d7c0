/* main.c - `lever`, the command line for lever's Parameter Store, built on
 * liblever only: get, put, ls, history, label, unlabel, rm, watch, diff,
 * export, import, render. Exit codes are a contract (docs/cli.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/exec.h"
#include "cli/appconfig.h"
#include "cli/flags.h"
#include "cli/alarm.h"
#include "cli/render.h"
#include "lever/lever.h"

#ifndef LEVER_VERSION
#define LEVER_VERSION "0.1.0"
#endif

enum {
    EX_OK = 0,
    EX_ERROR = 1,
    EX_USAGE = 2,
    EX_NOTFOUND = 3,
    EX_AUTH = 4,
    EX_UNREACHABLE = 5,
};

enum { OUT_AUTO, OUT_TABLE, OUT_JSON, OUT_TEXT };

typedef struct g {
    const char *endpoint, *region, *profile;
    int output;
    bool output_explicit;
    bool tty;
    lever *c;
} g_t;

static g_t G;
static const char *prog = "lever";

static void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errf(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

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

/* Prints the handle's last error and returns the exit code for st. */
static int fail_st(lever_status st)
{
    char msg[1024] = "";
    if (G.c)
        lever_last_error(G.c, msg, sizeof msg);
    errf("%s", msg[0] ? msg : lever_status_str(st));
    return exit_of(st);
}

static bool json_out(void)
{
    return G.output == OUT_JSON;
}

static void print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s) {
        puts(s);
        free(s);
    } else {
        errf("out of memory");
    }
    json_decref(j);
}

static int open_client(void)
{
    lever_options *o = lever_options_new();
    if (o == NULL) {
        errf("out of memory");
        return EX_ERROR;
    }
    lever_status st = LEVER_OK;
    if (G.endpoint)
        st = lever_options_set_endpoint(o, G.endpoint);
    if (st == LEVER_OK && G.region)
        st = lever_options_set_region(o, G.region);
    if (st == LEVER_OK && G.profile)
        st = lever_options_set_profile(o, G.profile);
    /* a command line reads fresh values: no cache between calls */
    if (st == LEVER_OK)
        st = lever_options_set_cache_ttl_ms(o, 0);
    char err[1024] = "";
    if (st == LEVER_OK)
        st = lever_open(o, &G.c, err, sizeof err);
    lever_options_free(o);
    if (st != LEVER_OK) {
        errf("%s", err[0] ? err : lever_status_str(st));
        return exit_of(st);
    }
    return EX_OK;
}

static void fmt_time(double t, char *buf, size_t n)
{
    if (t <= 0) {
        snprintf(buf, n, "-");
        return;
    }
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *mask(const lever_param *p, bool decrypt)
{
    const char *t = lever_param_type(p);
    if (!decrypt && t && strcmp(t, "SecureString") == 0)
        return "****";
    return lever_param_value(p) ? lever_param_value(p) : "";
}

static json_t *param_json(const lever_param *p, bool with_value, bool decrypt)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "Name", json_string(lever_param_name(p)));
    if (lever_param_type(p))
        json_object_set_new(o, "Type", json_string(lever_param_type(p)));
    if (with_value && lever_param_value(p))
        json_object_set_new(o, "Value", json_string(mask(p, decrypt)));
    json_object_set_new(o, "Version", json_integer(lever_param_version(p)));
    if (lever_param_last_modified(p) > 0)
        json_object_set_new(o, "LastModifiedDate", json_real(lever_param_last_modified(p)));
    const char *s;
    if ((s = lever_param_data_type(p)))
        json_object_set_new(o, "DataType", json_string(s));
    if ((s = lever_param_arn(p)))
        json_object_set_new(o, "ARN", json_string(s));
    if ((s = lever_param_selector(p)))
        json_object_set_new(o, "Selector", json_string(s));
    if ((s = lever_param_description(p)))
        json_object_set_new(o, "Description", json_string(s));
    if ((s = lever_param_tier(p)))
        json_object_set_new(o, "Tier", json_string(s));
    if ((s = lever_param_allowed_pattern(p)))
        json_object_set_new(o, "AllowedPattern", json_string(s));
    if ((s = lever_param_last_modified_user(p)))
        json_object_set_new(o, "LastModifiedUser", json_string(s));
    if (lever_param_label_count(p) > 0) {
        json_t *ls = json_array();
        for (size_t i = 0; ls && i < lever_param_label_count(p); i++)
            json_array_append_new(ls, json_string(lever_param_label(p, i)));
        json_object_set_new(o, "Labels", ls);
    }
    return o;
}

/* ------------------------------------------------------------ options */

enum { OPT_ENDPOINT = 1000, OPT_REGION, OPT_PROFILE, OPT_HELP };

#define GLOBAL_LONGOPTS                                                                             \
    {"endpoint", required_argument, NULL, OPT_ENDPOINT}, {"region", required_argument, NULL, OPT_REGION}, \
        {"profile", required_argument, NULL, OPT_PROFILE}, {"output", required_argument, NULL, 'o'},  \
        {"help", no_argument, NULL, 'h'}

/* Handles a global option; returns 1 when it was one, -1 on a bad value. */
static int global_opt(int ch)
{
    if (ch == 'o')
        G.output_explicit = true;
    switch (ch) {
    case OPT_ENDPOINT: G.endpoint = optarg; return 1;
    case OPT_REGION: G.region = optarg; return 1;
    case OPT_PROFILE: G.profile = optarg; return 1;
    case 'o':
        if (strcmp(optarg, "json") == 0)
            G.output = OUT_JSON;
        else if (strcmp(optarg, "table") == 0)
            G.output = OUT_TABLE;
        else if (strcmp(optarg, "text") == 0)
            G.output = OUT_TEXT;
        else {
            errf("-o takes json, table or text, not '%s'", optarg);
            return -1;
        }
        return 1;
    }
    return 0;
}

static const char GLOBAL_HELP[] =
    "Global options (anywhere on the line):\n"
    "  --endpoint URL   server (default: LEVER_ENDPOINT, else http://127.0.0.1:7447)\n"
    "  --region R       region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)\n"
    "  --profile P      profile of the shared credentials file\n"
    "  -o, --output F   json, table (default on a terminal) or text\n"
    "  -h, --help       this help\n";

typedef struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis;
    const char *help;
} cmd_t;

static const cmd_t *current;

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", prog, current ? current->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: lever %s\n", current ? current->synopsis : "COMMAND ...");
    return EX_USAGE;
}

static int show_help(void)
{
    printf("usage: lever %s\n\n%s\n%s", current->synopsis, current->help, GLOBAL_HELP);
    return EX_OK;
}

/* getopt_long over a command's own options plus the global ones. Returns
 * the option, -1 at the end, or -2 after printing help / a usage error
 * (*rc then holds the exit code). */
static int next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *rc)
{
    int ch = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (ch == -1)
        return -1;
    if (ch == 'h') {
        *rc = show_help();
        return -2;
    }
    if (ch == '?') {
        *rc = usage_err("bad option (see lever %s --help)", current->name);
        return -2;
    }
    int g = global_opt(ch);
    if (g < 0) {
        *rc = EX_USAGE;
        return -2;
    }
    if (g > 0)
        return next_opt(argc, argv, shortopts, longopts, rc);
    return ch;
}

/* ---------------------------------------------------------------- get */

static int cmd_get(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {0, 0, 0, 0}};
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1)
        if (ch == -2)
            return rc;
    if (argc - optind != 1)
        return usage_err("expected one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param *p;
    lever_status st = lever_fetch(G.c, argv[optind], true, &p);
    if (st != LEVER_OK)
        return fail_st(st);
    if (json_out()) {
        print_json(param_json(p, true, true));
    } else if (G.output == OUT_TABLE && G.output_explicit) {
        char t[32];
        fmt_time(lever_param_last_modified(p), t, sizeof t);
        printf("%-10s %s\n%-10s %s\n%-10s %" PRId64 "\n%-10s %s\n%-10s %s\n", "Name", lever_param_name(p),
               "Type", lever_param_type(p) ? lever_param_type(p) : "-", "Version", lever_param_version(p),
               "Modified", t, "Value", lever_param_value(p));
    } else {
        /* the bare value, for $(lever get ...) */
        printf("%s\n", lever_param_value(p));
    }
    lever_param_free(p);
    return EX_OK;
}

/* ---------------------------------------------------------------- put */

static char *read_stream(FILE *f, const char *what)
{
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    size_t n;
    while ((n = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            if (cap > (64u << 20)) {
                errf("%s is larger than 64 MiB", what);
                free(b);
                return NULL;
            }
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        errf("reading %s: %s", what, strerror(errno));
        free(b);
        return NULL;
    }
    b[len] = '\0';
    if (strlen(b) != len) {
        errf("%s contains a NUL byte", what);
        free(b);
        return NULL;
    }
    return b;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        errf("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *s = read_stream(f, path);
    fclose(f);
    return s;
}

static int cmd_put(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"type", required_argument, NULL, 't'},
                                       {"overwrite", no_argument, NULL, 'w'},
                                       {"description", required_argument, NULL, 'd'},
                                       {"tier", required_argument, NULL, 'T'},
                                       {"allowed-pattern", required_argument, NULL, 'p'},
                                       {"file", required_argument, NULL, 'f'},
                                       {0, 0, 0, 0}};
    const char *type = NULL, *desc = NULL, *tier = NULL, *pattern = NULL, *file = NULL;
    unsigned flags = 0;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:ht:wd:f:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case 't': type = optarg; break;
        case 'w': flags |= LEVER_PUT_OVERWRITE; break;
        case 'd': desc = optarg; break;
        case 'T': tier = optarg; break;
        case 'p': pattern = optarg; break;
        case 'f': file = optarg; break;
        }
    }
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 2)
        return usage_err("expected NAME and a VALUE, '-' (stdin) or --file");
    if ((nargs == 2) == (file != NULL))
        return usage_err("give the value either as an argument (or '-') or with --file, not both");
    if (type && strcmp(type, "String") && strcmp(type, "StringList") && strcmp(type, "SecureString"))
        return usage_err("--type is String, StringList or SecureString");
    char *value;
    if (file) {
        value = read_file(file);
    } else if (strcmp(argv[optind + 1], "-") == 0) {
        value = read_stream(stdin, "stdin");
        /* `echo v | lever put NAME -` means "v", not "v\n" */
        if (value) {
            size_t n = strlen(value);
            if (n && value[n - 1] == '\n')
                value[--n] = '\0';
            if (n && value[n - 1] == '\r')
                value[--n] = '\0';
        }
    } else {
        value = strdup(argv[optind + 1]);
    }
    if (value == NULL)
        return EX_ERROR;
    if ((rc = open_client()) != EX_OK) {
        free(value);
        return rc;
    }
    int64_t version = 0;
    lever_status st = lever_put(G.c, argv[optind], value, type, flags, desc, tier, pattern, &version);
    free(value);
    if (st != LEVER_OK) {
        int code = fail_st(st);
        if (st == LEVER_E_EXISTS)
            fprintf(stderr, "(use --overwrite to make a new version)\n");
        return code;
    }
    if (json_out())
        print_json(json_pack("{s:s, s:I}", "Name", argv[optind], "Version", (json_int_t)version));
    else
        printf("%s version %" PRId64 "\n", argv[optind], version);
    return EX_OK;
}

/* ----------------------------------------------------------------- ls */

static const char *rel_of(const char *name, const char *path)
{
    size_t pl = strlen(path);
    if (strcmp(path, "/") == 0)
        return name[0] == '/' ? name + 1 : name;
    if (strncmp(name, path, pl) == 0 && name[pl] == '/')
        return name + pl + 1;
    return name;
}

/* Strips a trailing '/' (except for "/") into buf. */
static const char *norm_path(const char *p, char *buf, size_t n)
{
    snprintf(buf, n, "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
        buf[--l] = '\0';
    return buf;
}

static int cmd_ls(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"recursive", no_argument, NULL, 'r'}, {0, 0, 0, 0}};
    bool recursive = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hr", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'r')
            recursive = true;
    }
    if (argc - optind > 1)
        return usage_err("expected at most one PATH");
    char pbuf[2048];
    const char *path = norm_path(argc - optind == 1 ? argv[optind] : "/", pbuf, sizeof pbuf);
    if (path[0] != '/')
        return usage_err("PATH must start with '/'");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    /* always recursive: without -r the subpaths still show, folded */
    lever_status st = lever_describe(G.c, path, true, &l);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l);
    if (json_out()) {
        json_t *a = json_array();
        const char *prevdir = "";
        size_t prevlen = 0;
        json_t *folder = NULL;
        for (size_t i = 0; a && i < n; i++) {
            const lever_param *p = lever_param_list_at(l, i);
            const char *rel = rel_of(lever_param_name(p), path);
            const char *slash = strchr(rel, '/');
            if (!recursive && slash) {
                /* folded sub-path: {"Folder": "/a/b/", "Count": n} */
                size_t dl = (size_t)(slash - rel);
                if (folder && dl == prevlen && strncmp(prevdir, rel, dl) == 0) {
                    json_object_set_new(folder, "Count",
                                        json_integer(json_integer_value(json_object_get(folder, "Count")) + 1));
                    continue;
                }
                char fbuf[4096];
                snprintf(fbuf, sizeof fbuf, "%s%s%.*s/", path, strcmp(path, "/") ? "/" : "", (int)dl, rel);
                folder = json_pack("{s:s, s:i}", "Folder", fbuf, "Count", 1);
                json_array_append_new(a, folder);
                prevdir = rel;
                prevlen = dl;
                continue;
            }
            json_array_append_new(a, param_json(p, false, false));
        }
        print_json(a);
        lever_param_list_free(l);
        return EX_OK;
    }
    if (G.output == OUT_TEXT) {
        for (size_t i = 0; i < n; i++) {
            const char *name = lever_param_name(lever_param_list_at(l, i));
            if (recursive || !strchr(rel_of(name, path), '/'))
                puts(name);
        }
        lever_param_list_free(l);
        return EX_OK;
    }
    /* Tree: the list is sorted by name, so siblings are adjacent. Each row
     * prints the segments that differ from the previous name. */
    printf("%s\n", path);
    const char *prev = "";
    for (size_t i = 0; i < n; i++) {
        const lever_param *p = lever_param_list_at(l, i);
        const char *rel = rel_of(lever_param_name(p), path);
        if (!recursive) {
            const char *slash = strchr(rel, '/');
            if (slash) {
                size_t dl = (size_t)(slash - rel);
                if (strncmp(prev, rel, dl + 1) == 0)
                    continue;
                /* count what the folder holds */
                size_t cnt = 0;
                for (size_t j = i; j < n; j++) {
                    const char *r2 = rel_of(lever_param_name(lever_param_list_at(l, j)), path);
                    if (strncmp(r2, rel, dl + 1) != 0)
                        break;
                    cnt++;
                }
                printf("  %.*s/  (%zu)\n", (int)dl, rel, cnt);
                prev = rel;
                continue;
            }
            char t[32];
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            printf("  %-32s %-12s v%-4" PRId64 " %s\n", rel, lever_param_type(p) ? lever_param_type(p) : "-",
                   lever_param_version(p), t);
            prev = rel;
            continue;
        }
        /* common leading segments with the previous name */
        int depth = 0;
        const char *a = prev, *b = rel;
        for (;;) {
            const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
            if (!sa || !sb || sa - a != sb - b || strncmp(a, b, (size_t)(sb - b)) != 0)
                break;
            a = sa + 1;
            b = sb + 1;
            depth++;
        }
        for (const char *seg = b;;) {
            const char *slash = strchr(seg, '/');
            printf("%*s", 2 + depth * 2, "");
            if (slash) {
                printf("%.*s/\n", (int)(slash - seg), seg);
                seg = slash + 1;
                depth++;
                continue;
            }
            char t[32];
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            int w = 32 - depth * 2;
            printf("%-*s %-12s v%-4" PRId64 " %s\n", w > 0 ? w : 1, seg,
                   lever_param_type(p) ? lever_param_type(p) : "-", lever_param_version(p), t);
            break;
        }
        prev = rel;
    }
    lever_param_list_free(l);
    return EX_OK;
}

/* ------------------------------------------------------------ history */

static int cmd_history(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"decrypt", no_argument, NULL, 'D'}, {0, 0, 0, 0}};
    bool decrypt = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'D')
            decrypt = true;
    }
    if (argc - optind != 1)
        return usage_err("expected one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    lever_status st = lever_history(G.c, argv[optind], decrypt, &l);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l);
    if (json_out()) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, param_json(lever_param_list_at(l, i), true, decrypt));
        print_json(a);
    } else {
        printf("%-8s %-20s %-24s %-20s %s\n", "VERSION", "MODIFIED", "LABELS", "USER", "VALUE");
        for (size_t i = 0; i < n; i++) {
            const lever_param *p = lever_param_list_at(l, i);
            char t[32], labels[256] = "";
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            for (size_t j = 0; j < lever_param_label_count(p); j++) {
                size_t k = strlen(labels);
                snprintf(labels + k, sizeof labels - k, "%s%s", j ? "," : "", lever_param_label(p, j));
            }
            const char *user = lever_param_last_modified_user(p);
            printf("%-8" PRId64 " %-20s %-24s %-20s %s\n", lever_param_version(p), t, labels[0] ? labels : "-",
                   user ? user : "-", mask(p, decrypt));
        }
    }
    lever_param_list_free(l);
    return EX_OK;
}

/* ------------------------------------------------------ label/unlabel */

static int label_common(int argc, char **argv, bool un)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"version", required_argument, NULL, 'v'}, {0, 0, 0, 0}};
    int64_t version = 0;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hv:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'v') {
            char *end;
            version = strtoll(optarg, &end, 10);
            if (*end || version <= 0)
                return usage_err("--version takes a positive number");
        }
    }
    if (argc - optind < 2)
        return usage_err("expected NAME and at least one LABEL");
    if (un && version == 0)
        return usage_err("--version is required (labels are removed from one version)");
    if ((rc = open_client()) != EX_OK)
        return rc;
    const char *const *labels = (const char *const *)&argv[optind + 1];
    size_t nl = (size_t)(argc - optind - 1);
    lever_status st = un ? lever_unlabel(G.c, argv[optind], version, labels, nl)
                         : lever_label(G.c, argv[optind], version, labels, nl);
    if (st != LEVER_OK)
        return fail_st(st);
    if (json_out()) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < nl; i++)
            json_array_append_new(a, json_string(labels[i]));
        print_json(json_pack("{s:s, s:o}", "Name", argv[optind], un ? "RemovedLabels" : "Labels", a));
    } else {
        printf("%s: %s %zu label%s\n", argv[optind], un ? "removed" : "set", nl, nl == 1 ? "" : "s");
    }
    return EX_OK;
}

static int cmd_label(int argc, char **argv) { return label_common(argc, argv, false); }
static int cmd_unlabel(int argc, char **argv) { return label_common(argc, argv, true); }

/* ----------------------------------------------------------------- rm */

static int cmd_rm(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {0, 0, 0, 0}};
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1)
        if (ch == -2)
            return rc;
    if (argc - optind < 1)
        return usage_err("expected at least one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    int worst = EX_OK;
    for (int i = optind; i < argc; i++) {
        lever_status st = lever_delete(G.c, argv[i]);
        if (st != LEVER_OK) {
            int code = fail_st(st);
            if (worst == EX_OK || code != EX_NOTFOUND)
                worst = code;
        } else if (!json_out()) {
            printf("deleted %s\n", argv[i]);
        }
    }
    if (json_out() && worst == EX_OK)
        print_json(json_pack("{s:i}", "Deleted", argc - optind));
    return worst;
}

/* -------------------------------------------------------------- watch */

static void on_sigint(int sig)
{
    (void)sig;
    /* stdout is flushed after every line: nothing is lost by leaving now */
    _exit(EX_OK);
}

static int cmd_watch(int argc, char **argv)
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

/* --------------------------------------------------------------- diff */

static int cmd_diff(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"decrypt", no_argument, NULL, 'D'},
                                       {"all", no_argument, NULL, 'a'},
                                       {0, 0, 0, 0}};
    bool decrypt = false, all = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:ha", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'D')
            decrypt = true;
        if (ch == 'a')
            all = true;
    }
    if (argc - optind != 2)
        return usage_err("expected PATH_A and PATH_B");
    char abuf[2048], bbuf[2048];
    const char *pa = norm_path(argv[optind], abuf, sizeof abuf);
    const char *pb = norm_path(argv[optind + 1], bbuf, sizeof bbuf);
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *la, *lb;
    /* always compare plaintexts (ciphertexts differ per name); mask on output */
    lever_status st = lever_list_path(G.c, pa, true, true, &la, NULL);
    if (st != LEVER_OK)
        return fail_st(st);
    st = lever_list_path(G.c, pb, true, true, &lb, NULL);
    if (st != LEVER_OK) {
        lever_param_list_free(la);
        return fail_st(st);
    }
    size_t na = lever_param_list_count(la), nb = lever_param_list_count(lb), i = 0, j = 0;
    json_t *arr = json_out() ? json_array() : NULL;
    size_t ndiff = 0;
    while (i < na || j < nb) {
        const lever_param *a = i < na ? lever_param_list_at(la, i) : NULL;
        const lever_param *b = j < nb ? lever_param_list_at(lb, j) : NULL;
        const char *ra = a ? rel_of(lever_param_name(a), pa) : NULL;
        const char *rb = b ? rel_of(lever_param_name(b), pb) : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(ra, rb);
        const char *state, *key, *va = NULL, *vb = NULL;
        if (cmp < 0) {
            state = "only-a";
            key = ra;
            va = mask(a, decrypt);
            i++;
        } else if (cmp > 0) {
            state = "only-b";
            key = rb;
            vb = mask(b, decrypt);
            j++;
        } else {
            key = ra;
            bool same = strcmp(lever_param_value(a), lever_param_value(b)) == 0 &&
                        strcmp(lever_param_type(a) ? lever_param_type(a) : "", lever_param_type(b) ? lever_param_type(b) : "") == 0;
            state = same ? "same" : "changed";
            va = mask(a, decrypt);
            vb = mask(b, decrypt);
            i++;
            j++;
        }
        if (strcmp(state, "same") != 0)
            ndiff++;
        else if (!all)
            continue;
        if (arr) {
            json_t *o = json_pack("{s:s, s:s}", "Key", key, "State", state);
            if (o && va)
                json_object_set_new(o, "A", json_string(va));
            if (o && vb)
                json_object_set_new(o, "B", json_string(vb));
            json_array_append_new(arr, o);
        } else {
            char mark = state[0] == 'o' ? (state[5] == 'a' ? '-' : '+') : state[0] == 'c' ? '~' : '=';
            if (mark == '~')
                printf("%c %-40s %s -> %s\n", mark, key, va, vb);
            else
                printf("%c %-40s %s\n", mark, key, va ? va : vb);
        }
    }
    if (arr)
        print_json(json_pack("{s:s, s:s, s:o}", "A", pa, "B", pb, "Differences", arr));
    else if (ndiff == 0)
        printf("no differences between %s and %s\n", pa, pb);
    lever_param_list_free(la);
    lever_param_list_free(lb);
    return EX_OK;
}

/* ------------------------------------------------------ export/import */

static bool dotenv_safe(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("_-./:,@+", *v)))
            return false;
    return true;
}

/* KEY for a relative name in dotenv: uppercased, non-alnum -> '_'. */
static void dotenv_key(const char *rel, char *out, size_t n)
{
    size_t k = 0;
    for (; *rel && k + 1 < n; rel++) {
        char c = *rel;
        out[k++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    out[k] = '\0';
}

static void print_dotenv_value(FILE *f, const char *v)
{
    if (dotenv_safe(v) && *v) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        switch (*v) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '$': fputs("\\$", f); break;
        case '`': fputs("\\`", f); break;
        default: fputc(*v, f);
        }
    }
    fputc('"', f);
}

static int cmd_export(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"format", required_argument, NULL, 'f'},
                                       {"decrypt", no_argument, NULL, 'D'},
                                       {0, 0, 0, 0}};
    const char *format = "json";
    bool decrypt = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hf:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'f')
            format = optarg;
        if (ch == 'D')
            decrypt = true;
    }
    if (strcmp(format, "json") && strcmp(format, "dotenv"))
        return usage_err("--format is json or dotenv");
    if (argc - optind != 1)
        return usage_err("expected one PATH");
    char pbuf[2048];
    const char *path = norm_path(argv[optind], pbuf, sizeof pbuf);
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    lever_status st = lever_list_path(G.c, path, true, decrypt, &l, NULL);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l), skipped = 0;
    json_t *arr = strcmp(format, "json") == 0 ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const lever_param *p = lever_param_list_at(l, i);
        const char *type = lever_param_type(p) ? lever_param_type(p) : "String";
        if (!decrypt && strcmp(type, "SecureString") == 0) {
            skipped++;
            continue;
        }
        const char *rel = rel_of(lever_param_name(p), path);
        if (arr) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "Key", rel, "Type", type, "Value",
                                                 lever_param_value(p)));
        } else {
            char key[1100];
            dotenv_key(rel, key, sizeof key);
            printf("%s=", key);
            print_dotenv_value(stdout, lever_param_value(p));
            putchar('\n');
        }
    }
    if (arr)
        print_json(json_pack("{s:s, s:o}", "Path", path, "Parameters", arr));
    if (skipped)
        fprintf(stderr, "%s: %zu SecureString parameter%s left out (add --decrypt to include them)\n", prog,
                skipped, skipped == 1 ? "" : "s");
    lever_param_list_free(l);
    return EX_OK;
}

typedef struct item {
    char *key, *type, *value;
} item;

typedef struct items {
    item *v;
    size_t n, cap;
} items;

static int items_add(items *it, const char *key, size_t kl, const char *type, const char *value, size_t vl)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 32;
        item *nv = realloc(it->v, cap * sizeof *nv);
        if (nv == NULL)
            return -1;
        it->v = nv;
        it->cap = cap;
    }
    item *x = &it->v[it->n];
    x->key = strndup(key, kl);
    x->type = strdup(type);
    x->value = strndup(value, vl);
    if (!x->key || !x->type || !x->value) {
        free(x->key);
        free(x->type);
        free(x->value);
        return -1;
    }
    it->n++;
    return 0;
}

static void items_free(items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].key);
        free(it->v[i].type);
        free(it->v[i].value);
    }
    free(it->v);
}

static int parse_json_import(const char *text, const char *file, items *it)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (root == NULL) {
        errf("%s:%d: %s", file, je.line, je.text);
        return -1;
    }
    json_t *params = json_is_object(root) ? json_object_get(root, "Parameters") : root;
    int rc = 0;
    if (json_is_array(params)) {
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) {
            const char *k = json_string_value(json_object_get(p, "Key"));
            if (k == NULL)
                k = json_string_value(json_object_get(p, "Name"));
            const char *v = json_string_value(json_object_get(p, "Value"));
            const char *t = json_string_value(json_object_get(p, "Type"));
            if (k == NULL || v == NULL) {
                errf("%s: entry %zu needs \"Key\" and \"Value\" strings", file, i);
                rc = -1;
                break;
            }
            if (items_add(it, k, strlen(k), t ? t : "String", v, strlen(v)) != 0) {
                errf("out of memory");
                rc = -1;
                break;
            }
        }
    } else if (json_is_object(params)) {
        /* a flat {"key": "value"} object */
        const char *k;
        json_t *v;
        json_object_foreach(params, k, v) {
            if (!json_is_string(v)) {
                errf("%s: the value of \"%s\" is not a string", file, k);
                rc = -1;
                break;
            }
            if (items_add(it, k, strlen(k), "String", json_string_value(v), json_string_length(v)) != 0) {
                rc = -1;
                break;
            }
        }
    } else {
        errf("%s: expected {\"Parameters\": [...]} or a {\"key\": \"value\"} object", file);
        rc = -1;
    }
    json_decref(root);
    return rc;
}

static int parse_dotenv_import(const char *text, const char *file, items *it)
{
    int line = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (eol == NULL)
            eol = p + strlen(p);
        line++;
        const char *b = p, *e = eol;
        p = *eol ? eol + 1 : eol;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (b == e || *b == '#')
            continue;
        if (e - b > 7 && strncmp(b, "export ", 7) == 0)
            b += 7;
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (eq == NULL || eq == b) {
            errf("%s:%d: expected KEY=VALUE", file, line);
            return -1;
        }
        for (const char *k = b; k < eq; k++) {
            if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_' ||
                  *k == '.' || *k == '-' || *k == '/')) {
                errf("%s:%d: bad character in key", file, line);
                return -1;
            }
        }
        const char *vb = eq + 1, *ve = e;
        char *val = malloc((size_t)(ve - vb) + 1);
        if (val == NULL)
            return -1;
        size_t vl = 0;
        if (vb < ve && (*vb == '"' || *vb == '\'')) {
            char q = *vb++;
            bool closed = false;
            for (; vb < ve; vb++) {
                if (*vb == q) {
                    closed = true;
                    vb++;
                    break;
                }
                if (q == '"' && *vb == '\\' && vb + 1 < ve) {
                    vb++;
                    val[vl++] = *vb == 'n' ? '\n' : *vb;
                    continue;
                }
                val[vl++] = *vb;
            }
            if (!closed || vb != ve) {
                free(val);
                errf("%s:%d: unterminated quote or text after it", file, line);
                return -1;
            }
        } else {
            memcpy(val, vb, (size_t)(ve - vb));
            vl = (size_t)(ve - vb);
        }
        int r = items_add(it, b, (size_t)(eq - b), "String", val, vl);
        free(val);
        if (r != 0)
            return -1;
    }
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"format", required_argument, NULL, 'f'},
                                       {"apply", no_argument, NULL, 'A'},
                                       {0, 0, 0, 0}};
    const char *format = NULL;
    bool apply = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hf:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'f')
            format = optarg;
        if (ch == 'A')
            apply = true;
    }
    if (argc - optind != 2)
        return usage_err("expected PATH and FILE ('-' for stdin)");
    char pbuf[2048];
    const char *path = norm_path(argv[optind], pbuf, sizeof pbuf);
    const char *file = argv[optind + 1];
    if (path[0] != '/')
        return usage_err("PATH must start with '/'");
    char *text = strcmp(file, "-") == 0 ? read_stream(stdin, "stdin") : read_file(file);
    if (text == NULL)
        return EX_ERROR;
    if (format == NULL) {
        const char *t = text;
        while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
            t++;
        format = (*t == '{' || *t == '[') ? "json" : "dotenv";
    }
    items it = {0};
    int perr = strcmp(format, "json") == 0     ? parse_json_import(text, file, &it)
               : strcmp(format, "dotenv") == 0 ? parse_dotenv_import(text, file, &it)
                                               : -2;
    free(text);
    if (perr == -2) {
        items_free(&it);
        return usage_err("--format is json or dotenv");
    }
    if (perr != 0) {
        items_free(&it);
        return EX_ERROR;
    }
    if ((rc = open_client()) != EX_OK) {
        items_free(&it);
        return rc;
    }
    lever_param_list *cur;
    lever_status st = lever_list_path(G.c, path, true, true, &cur, NULL);
    if (st != LEVER_OK) {
        items_free(&it);
        return fail_st(st);
    }
    json_t *plan = json_array();
    size_t nc = 0, nu = 0, ns = 0;
    int result = EX_OK;
    for (size_t i = 0; i < it.n; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s/%s", strcmp(path, "/") == 0 ? "" : path,
                 it.v[i].key[0] == '/' ? it.v[i].key + 1 : it.v[i].key);
        const lever_param *old = NULL;
        for (size_t j = 0; j < lever_param_list_count(cur); j++)
            if (strcmp(lever_param_name(lever_param_list_at(cur, j)), name) == 0)
                old = lever_param_list_at(cur, j);
        const char *action = !old ? "create" : strcmp(lever_param_value(old), it.v[i].value) == 0 ? "unchanged" : "update";
        bool secure = strcmp(it.v[i].type, "SecureString") == 0 || (old && lever_param_type(old) && strcmp(lever_param_type(old), "SecureString") == 0);
        const char *shown = secure ? "****" : it.v[i].value;
        nc += action[0] == 'c';
        nu += action[0] == 'u' && action[1] == 'p';
        ns += action[0] == 'u' && action[1] == 'n';
        const char *outcome = apply ? "done" : "planned";
        if (apply && strcmp(action, "unchanged") != 0) {
            st = lever_put(G.c, name, it.v[i].value, old ? NULL : it.v[i].type, old ? LEVER_PUT_OVERWRITE : 0, NULL,
                           NULL, NULL, NULL);
            if (st != LEVER_OK) {
                result = fail_st(st);
                outcome = "failed";
            }
        }
        if (json_out())
            json_array_append_new(plan, json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "Action", action, "Type",
                                                  it.v[i].type, "Result", outcome));
        else if (strcmp(action, "unchanged") != 0)
            printf("%s %-8s %s = %s%s\n", action[0] == 'c' ? "+" : "~", action, name, shown,
                   strcmp(outcome, "failed") == 0 ? "  (FAILED)" : "");
    }
    if (json_out())
        print_json(json_pack("{s:b, s:o}", "Applied", apply, "Changes", plan));
    else {
        json_decref(plan);
        printf("%zu to create, %zu to update, %zu unchanged%s\n", nc, nu, ns,
               apply ? " (applied)" : " (dry run: add --apply to write)");
    }
    lever_param_list_free(cur);
    items_free(&it);
    return result;
}

/* ------------------------------------------------------------- render */

typedef struct rctx {
    lever_status st;
} rctx;

static int resolve_cb(void *user, bool secure, const char *name, const char *version, lv_buf *out, char *err,
                      size_t errlen)
{
    rctx *r = user;
    char sel[4096];
    snprintf(sel, sizeof sel, "%s%s%s", name, version ? ":" : "", version ? version : "");
    lever_param *p;
    lever_status st = lever_fetch(G.c, sel, secure, &p);
    if (st != LEVER_OK) {
        char msg[1024];
        lever_last_error(G.c, msg, sizeof msg);
        snprintf(err, errlen, "%s", msg);
        r->st = st;
        return -1;
    }
    const char *type = lever_param_type(p);
    int rc = 0;
    if (!secure && type && strcmp(type, "SecureString") == 0) {
        /* as CloudFormation: secrets only through the explicit ssm-secure form */
        snprintf(err, errlen, "%s is a SecureString: use {{resolve:ssm-secure:%s}}", name, name);
        r->st = LEVER_E_INVALID;
        rc = -1;
    } else if (lv_buf_puts(out, lever_param_value(p)) != LV_OK) {
        snprintf(err, errlen, "output too large");
        rc = -1;
    }
    lever_param_free(p);
    return rc;
}

/* Writes data to path atomically (temp file + rename), or to stdout when
 * path is NULL. On failure no file is left behind. */
static int write_out(const char *path, const char *data, size_t len)
{
    if (path == NULL) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            errf("writing stdout: %s", strerror(errno));
            return EX_ERROR;
        }
        return EX_OK;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        errf("%s: %s", path, strerror(errno));
        return EX_ERROR;
    }
    /* rendered files often hold secrets */
    fchmod(fd, 0600);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            errf("%s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            return EX_ERROR;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        errf("%s: %s", path, strerror(errno));
        unlink(tmp);
        return EX_ERROR;
    }
    return EX_OK;
}

typedef struct mctx {
    const char *env;
    json_t *obj;   /* KEY -> value, in file order */
    lever_status st;
    bool decrypt_masked;
} mctx;

static int meta_entry(void *user, const char *key, const char *path, int line, char *err, size_t errlen)
{
    (void)line;
    mctx *m = user;
    lv_buf name = LV_BUF_INIT;
    lv_error e = {0};
    if (lv_render_expand_env(path, m->env, &name, &e) != LV_OK) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    lever_param *p;
    lever_status st = lever_fetch(G.c, name.data, true, &p);
    if (st != LEVER_OK) {
        char msg[1024];
        lever_last_error(G.c, msg, sizeof msg);
        snprintf(err, errlen, "%s (%s): %s", key, name.data, msg);
        lv_buf_free(&name);
        m->st = st;
        return -1;
    }
    lv_buf_free(&name);
    int rc = json_object_set_new(m->obj, key, json_string(lever_param_value(p))) == 0 ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    lever_param_free(p);
    return rc;
}

static int cmd_render(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"out", required_argument, NULL, 'O'},
                                       {"metadata", no_argument, NULL, 'm'},
                                       {"env", required_argument, NULL, 'e'},
                                       {"format", required_argument, NULL, 'f'},
                                       {0, 0, 0, 0}};
    const char *out = NULL, *env = NULL, *format = NULL;
    bool metadata = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hO:e:f:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case 'O': out = optarg; break;
        case 'm': metadata = true; break;
        case 'e': env = optarg; break;
        case 'f': format = optarg; break;
        }
    }
    if (argc - optind != 1)
        return usage_err("expected one FILE ('-' for stdin)");
    const char *file = argv[optind];
    if (env && !metadata)
        metadata = true;
    if (metadata && env == NULL)
        return usage_err("--metadata needs --env ENVIRONMENT (the value of {Environment})");
    if (format && strcmp(format, "env") && strcmp(format, "json"))
        return usage_err("--format is env or json");
    char *text = strcmp(file, "-") == 0 ? read_stream(stdin, "stdin") : read_file(file);
    if (text == NULL)
        return EX_ERROR;
    if ((rc = open_client()) != EX_OK) {
        free(text);
        return rc;
    }
    lv_buf buf = LV_BUF_INIT;
    lv_error e = {0};
    int result = EX_OK;
    if (!metadata) {
        rctx r = {LEVER_OK};
        if (lv_render_template(text, strlen(text), file, resolve_cb, &r, &buf, &e) != LV_OK) {
            errf("%s", e.msg);
            result = r.st != LEVER_OK ? exit_of(r.st) : EX_ERROR;
        } else {
            result = write_out(out, buf.data ? buf.data : "", buf.len);
        }
    } else {
        mctx m = {env, json_object(), LEVER_OK, false};
        if (m.obj == NULL || lv_render_parse_metadata(text, strlen(text), file, meta_entry, &m, &e) != LV_OK) {
            errf("%s", m.obj ? e.msg : "out of memory");
            result = m.st != LEVER_OK ? exit_of(m.st) : EX_ERROR;
        } else {
            bool as_json = format ? strcmp(format, "json") == 0 : json_out();
            if (as_json) {
                char *s = json_dumps(m.obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s && lv_buf_puts(&buf, s) == LV_OK && lv_buf_putc(&buf, '\n') == LV_OK)
                    result = write_out(out, buf.data, buf.len);
                else
                    result = EX_ERROR;
                free(s);
            } else {
                const char *k;
                json_t *v;
                FILE *mem;
                char *mbuf = NULL;
                size_t mlen = 0;
                mem = open_memstream(&mbuf, &mlen);
                if (mem == NULL) {
                    result = EX_ERROR;
                } else {
                    json_object_foreach(m.obj, k, v) {
                        fprintf(mem, "%s=", k);
                        print_dotenv_value(mem, json_string_value(v));
                        fputc('\n', mem);
                    }
                    fclose(mem);
                    result = write_out(out, mbuf ? mbuf : "", mlen);
                    free(mbuf);
                }
            }
        }
        json_decref(m.obj);
    }
    lv_buf_free(&buf);
    free(text);
    return result;
}

/* -------------------------------------------------------------- admin */

/* One Lever.<op> call with a JSON body; *ans receives the parsed answer. */
static int admin_call(const char *op, json_t *body, json_t **ans)
{
    char target[64];
    snprintf(target, sizeof target, "Lever.%s", op);
    char *req = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *out = NULL;
    lever_status st = lever_call_json(G.c, target, req ? req : "{}", &out);
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

static void print_key_text(json_t *k)
{
    char t[32];
    fmt_time(json_number_value(json_object_get(k, "CreateDate")), t, sizeof t);
    printf("%s  %-8s  %s  %s\n", json_string_value(json_object_get(k, "AccessKeyId")),
           json_string_value(json_object_get(k, "Status")), t,
           json_string_value(json_object_get(k, "Description")));
    json_t *pols = json_object_get(k, "Policies");
    for (size_t i = 0; i < json_array_size(pols); i++)
        printf("    policy %s\n", json_string_value(json_object_get(json_array_get(pols, i), "PolicyName")));
}

static int cmd_admin(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"description", required_argument, NULL, 'd'},
                                       {0, 0, 0, 0}};
    int ch, rc = 0;
    const char *desc = NULL;
    while ((ch = next_opt(argc, argv, "o:hd:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'd')
            desc = optarg;
    }
    int n = argc - optind;
    if (n < 1)
        return usage_err("expected a subcommand");
    const char *sub = argv[optind];
    char **a = argv + optind + 1;
    n--;
    static const struct {
        const char *name;
        int nargs;
    } subs[] = {{"create-key", 0}, {"list-keys", 0},     {"show-key", 1},    {"disable-key", 1},
                {"enable-key", 1}, {"delete-key", 1},    {"put-policy", 3},  {"delete-policy", 2},
                {"backup", 1},     {"rotate-master-key", 0}};
    size_t si;
    for (si = 0; si < sizeof subs / sizeof *subs; si++)
        if (strcmp(subs[si].name, sub) == 0)
            break;
    if (si == sizeof subs / sizeof *subs)
        return usage_err("unknown subcommand '%s'", sub);
    if (n != subs[si].nargs)
        return usage_err("%s takes %d argument%s", sub, subs[si].nargs, subs[si].nargs == 1 ? "" : "s");
    if ((rc = open_client()) != EX_OK)
        return rc;
    json_t *ans = NULL;
    if (strcmp(sub, "create-key") == 0) {
        json_t *b = json_object();
        if (desc)
            json_object_set_new(b, "Description", json_string(desc));
        if ((rc = admin_call("CreateAccessKey", b, &ans)) != EX_OK)
            return rc;
        json_t *k = json_object_get(ans, "AccessKey");
        if (json_out())
            print_json(json_incref(k));
        else
            /* credentials-file lines, ready to paste under a [profile] */
            printf("aws_access_key_id = %s\naws_secret_access_key = %s\n",
                   json_string_value(json_object_get(k, "AccessKeyId")),
                   json_string_value(json_object_get(k, "SecretAccessKey")));
    } else if (strcmp(sub, "list-keys") == 0 || strcmp(sub, "show-key") == 0) {
        bool one = strcmp(sub, "show-key") == 0;
        json_t *b = one ? json_pack("{s:s}", "AccessKeyId", a[0]) : json_object();
        if ((rc = admin_call(one ? "GetAccessKey" : "ListAccessKeys", b, &ans)) != EX_OK)
            return rc;
        if (json_out()) {
            print_json(json_incref(json_object_get(ans, one ? "AccessKey" : "AccessKeys")));
        } else if (one) {
            json_t *k = json_object_get(ans, "AccessKey");
            print_key_text(k);
            json_t *pols = json_object_get(k, "Policies");
            for (size_t i = 0; i < json_array_size(pols); i++)
                printf("--- %s\n%s\n", json_string_value(json_object_get(json_array_get(pols, i), "PolicyName")),
                       json_string_value(json_object_get(json_array_get(pols, i), "PolicyDocument")));
        } else {
            json_t *keys = json_object_get(ans, "AccessKeys");
            for (size_t i = 0; i < json_array_size(keys); i++)
                print_key_text(json_array_get(keys, i));
        }
    } else if (strcmp(sub, "disable-key") == 0 || strcmp(sub, "enable-key") == 0) {
        bool en = strcmp(sub, "enable-key") == 0;
        if ((rc = admin_call("UpdateAccessKey",
                             json_pack("{s:s, s:s}", "AccessKeyId", a[0], "Status", en ? "Active" : "Inactive"),
                             &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("%s %s\n", en ? "enabled" : "disabled", a[0]);
    } else if (strcmp(sub, "delete-key") == 0) {
        if ((rc = admin_call("DeleteAccessKey", json_pack("{s:s}", "AccessKeyId", a[0]), &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("deleted %s\n", a[0]);
    } else if (strcmp(sub, "put-policy") == 0) {
        FILE *f = strcmp(a[2], "-") == 0 ? stdin : fopen(a[2], "rb");
        if (f == NULL) {
            errf("cannot open %s: %s", a[2], strerror(errno));
            return EX_ERROR;
        }
        char *doc = read_stream(f, a[2]);
        if (f != stdin)
            fclose(f);
        if (doc == NULL)
            return EX_ERROR;
        json_t *b = json_pack("{s:s, s:s, s:s}", "AccessKeyId", a[0], "PolicyName", a[1], "PolicyDocument", doc);
        free(doc);
        if (b == NULL) {
            errf("%s is not valid UTF-8", a[2]);
            return EX_ERROR;
        }
        if ((rc = admin_call("PutKeyPolicy", b, &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("attached %s to %s\n", a[1], a[0]);
    } else if (strcmp(sub, "delete-policy") == 0) {
        if ((rc = admin_call("DeleteKeyPolicy", json_pack("{s:s, s:s}", "AccessKeyId", a[0], "PolicyName", a[1]),
                             &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("detached %s from %s\n", a[1], a[0]);
    } else if (strcmp(sub, "backup") == 0) {
        /* The server writes the file: an absolute path on its host. */
        char abs[4096];
        if (a[0][0] == '/')
            snprintf(abs, sizeof abs, "%s", a[0]);
        else {
            char cwd[2048];
            if (getcwd(cwd, sizeof cwd) == NULL) {
                errf("cannot resolve %s: %s", a[0], strerror(errno));
                return EX_ERROR;
            }
            snprintf(abs, sizeof abs, "%s/%s", cwd, a[0]);
        }
        if ((rc = admin_call("CreateBackup", json_pack("{s:s}", "Path", abs), &ans)) != EX_OK)
            return rc;
        if (json_out())
            print_json(json_incref(ans));
        else
            printf("backup %s: %" PRId64 " bytes at revision %" PRId64 "\n", abs,
                   (int64_t)json_integer_value(json_object_get(ans, "Bytes")),
                   (int64_t)json_integer_value(json_object_get(ans, "Revision")));
    } else {
        if ((rc = admin_call("RotateMasterKey", json_object(), &ans)) != EX_OK)
            return rc;
        if (json_out())
            print_json(json_incref(ans));
        else
            printf("master key rotated: %" PRId64 " parameters and %" PRId64 " access keys re-wrapped\n",
                   (int64_t)json_integer_value(json_object_get(ans, "ParametersRewrapped")),
                   (int64_t)json_integer_value(json_object_get(ans, "AccessKeysRewrapped")));
    }
    json_decref(ans);
    return EX_OK;
}

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

static int cmd_audit(int argc, char **argv)
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

/* --------------------------------------------------------------- main */

static int cmd_exec(int argc, char **argv) { return lv_cli_exec(argc, argv, G.endpoint, G.region, G.profile); }
static int cmd_appconfig(int argc, char **argv)
{
    return lv_cli_appconfig(argc, argv, &(lv_cli_ctx){G.endpoint, G.region, G.profile, G.output});
}

static int cmd_alarm(int argc, char **argv)
{
    lv_cli_globals g = {G.endpoint, G.region, G.profile, G.output == OUT_JSON, G.output == OUT_TEXT};
    return lv_cli_alarm(&g, argc, argv);
}

static const cmd_t CMDS[] = {
    {"get", cmd_get, "get NAME[:VERSION|:LABEL]",
     "Print a parameter's value (SecureString decrypted). -o json or -o table for the whole record."},
    {"put", cmd_put,
     "put NAME (VALUE | - | --file FILE) [--type T] [--overwrite] [--description D] [--tier T] "
     "[--allowed-pattern RE]",
     "Create a parameter or, with --overwrite, a new version of one. '-' reads the value from stdin\n"
     "(one trailing newline dropped); --file takes it from a file as is. --type: String (default for\n"
     "a new name), StringList, SecureString; --tier: Standard, Advanced, Intelligent-Tiering."},
    {"ls", cmd_ls, "ls [PATH] [-r]",
     "List the parameters under PATH (default /) as a tree: name, type, version, last change.\n"
     "Without -r, sub-paths are folded into one line with their size. -o json / -o text for scripts."},
    {"history", cmd_history, "history NAME [--decrypt]",
     "Every kept version of a parameter with its labels; SecureString values masked unless --decrypt."},
    {"label", cmd_label, "label NAME LABEL... [--version N]",
     "Attach labels to a version (default: the latest). Labels move from the version holding them."},
    {"unlabel", cmd_unlabel, "unlabel NAME LABEL... --version N", "Remove labels from a version."},
    {"rm", cmd_rm, "rm NAME...", "Delete parameters (every version). Exit 3 if one did not exist."},
    {"watch", cmd_watch, "watch PATH [--one-level] [--since REV] [--values] [-n COUNT]",
     "Stream changes under PATH as they happen, until interrupted (or COUNT changes). One line per\n"
     "change: time, revision, kind (Put, Delete, Label, ...), name, version; --values adds the new\n"
     "value of a Put (SecureString masked); -o json prints one JSON object per line."},
    {"diff", cmd_diff, "diff PATH_A PATH_B [--decrypt] [--all]",
     "Compare two trees by relative name: '-' only in A, '+' only in B, '~' different ('=' same,\n"
     "with --all). SecureString values are compared decrypted but shown as **** unless --decrypt."},
    {"export", cmd_export, "export PATH [--format json|dotenv] [--decrypt]",
     "Print every parameter under PATH: JSON {\"Path\", \"Parameters\": [{\"Key\", \"Type\", \"Value\"}]}\n"
     "or dotenv KEY=value lines (KEY: the relative name uppercased, non-alphanumerics as '_').\n"
     "SecureString parameters are left out unless --decrypt."},
    {"import", cmd_import, "import PATH FILE [--format json|dotenv] [--apply]",
     "Load an export (JSON or dotenv; guessed from the content) under PATH. Shows what would be\n"
     "created or updated; writes only with --apply. dotenv keys become names as written."},
    {"render", cmd_render, "render FILE [--out OUT] | render --metadata FILE --env ENV [--format env|json] [--out OUT]",
     "Replace {{resolve:ssm:NAME}}, {{resolve:ssm:NAME:VERSION}} and {{resolve:ssm-secure:NAME[:VERSION]}}\n"
     "in a text file. With --metadata, read the parameters: map of a service's metadata.yaml\n"
     "(KEY: /path/with/{Environment}/...) and write KEY=value lines or a JSON object. Errors name\n"
     "the file and line; OUT is written atomically (mode 0600) and never left half-written."},
    {"flags", lv_cli_flags, "flags (validate FILE | eval FILE FLAG [--context K=V]... [--entity ID])", "Feature flag documents, locally: validate with the server's rules, evaluate a flag (docs/flags.md)."},
    {"alarm", cmd_alarm, "alarm (put NAME [--url URL ...] | set NAME OK|ALARM [--reason R] | ls [NAME...] | rm NAME...)",
     "Lever alarms, the signals that roll deployments back: lever alarm --help, docs/rollouts.md."},
    {"admin", cmd_admin,
     "admin (create-key [--description D] | list-keys | show-key AKID | disable-key AKID | enable-key AKID |\n"
     "        delete-key AKID | put-policy AKID NAME FILE|- | delete-policy AKID NAME | backup FILE |\n"
     "        rotate-master-key)",
     "Administer leverd with the root key: access keys and their IAM-shaped policies (docs/admin.md),\n"
     "consistent backups (FILE is written by the server, on its host) and master key rotation."},
    {"exec", cmd_exec, LV_CLI_EXEC_SYNOPSIS, LV_CLI_EXEC_HELP},
    {"appconfig", cmd_appconfig, LV_CLI_APPCONFIG_SYNOPSIS, LV_CLI_APPCONFIG_HELP},
    {"audit", cmd_audit,
     "audit [--file F] [--key AKID] [--op OP] [--outcome ok|denied|error|throttled] [--name-prefix P]\n"
     "        [--since T] [--until T]",
     "Read the audit log (default $LEVER_DATA/audit.log, else ./lever-data/audit.log, rotated files\n"
     "included) and print the matching lines; T is an ISO-8601 UTC time or an age (15m, 2h, 7d).\n"
     "-o json / -o text print the JSON lines as stored."},
};

static void main_help(FILE *f)
{
    fprintf(f, "usage: lever [GLOBAL OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++)
        fprintf(f, "  %s\n", CMDS[i].synopsis);
    fprintf(f, "\n%s\nExit status: 0 ok, 1 error, 2 usage, 3 not found, 4 authentication, 5 server unreachable.\n"
               "`lever COMMAND --help` describes a command; docs/cli.md and lever(1) have the details.\n",
            GLOBAL_HELP);
}

int main(int argc, char **argv)
{
    G.tty = isatty(STDOUT_FILENO);
    /* global options before the command */
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"version", no_argument, NULL, 'V'}, {0, 0, 0, 0}};
    int ch;
    opterr = 1;
    while ((ch = getopt_long(argc, argv, "+o:h", lo, NULL)) != -1) {
        if (ch == 'h') {
            main_help(stdout);
            return EX_OK;
        }
        if (ch == 'V') {
            printf("lever %s\n", LEVER_VERSION);
            return EX_OK;
        }
        if (ch == '?' || global_opt(ch) < 0) {
            main_help(stderr);
            return EX_USAGE;
        }
    }
    if (optind >= argc) {
        main_help(stderr);
        return EX_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        if (optind + 1 < argc) {
            for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++)
                if (strcmp(CMDS[i].name, argv[optind + 1]) == 0) {
                    current = &CMDS[i];
                    return show_help();
                }
        }
        main_help(stdout);
        return EX_OK;
    }
    for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
        if (strcmp(CMDS[i].name, name) == 0) {
            current = &CMDS[i];
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            optind = 0; /* 0, not 1: glibc then re-initialises (and permutes) for the command */
            if (G.output == OUT_AUTO)
                G.output = G.tty ? OUT_TABLE : OUT_TEXT;
            int rc = CMDS[i].fn(sub_argc, sub_argv);
            lever_close(G.c);
            return rc;
        }
    }
    errf("unknown command '%s'", name);
    main_help(stderr);
    return EX_USAGE;
}
