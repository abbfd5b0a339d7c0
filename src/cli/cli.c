/* cli.c - the helpers every `lever` command uses (cli.h): errors and exit
 * codes, JSON output, the client from the global options, option parsing. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

g_t G;
const cmd_t *current;
static const char *prog = "lever";

void errf(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int exit_of(lever_status st)
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
int fail_st(lever_status st)
{
    char msg[1024] = "";
    if (G.c)
        lever_last_error(G.c, msg, sizeof msg);
    errf("%s", msg[0] ? msg : lever_status_str(st));
    return exit_of(st);
}

bool json_out(void)
{
    return G.output == OUT_JSON;
}

void print_json(json_t *j)
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

int open_client(void)
{
    if (G.c)
        return EX_OK; /* a command may need it from several places */
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

void fmt_time(double t, char *buf, size_t n)
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

const char *mask(const lever_param *p, bool decrypt)
{
    const char *t = lever_param_type(p);
    if (!decrypt && t && strcmp(t, "SecureString") == 0)
        return "****";
    return lever_param_value(p) ? lever_param_value(p) : "";
}

json_t *param_json(const lever_param *p, bool with_value, bool decrypt)
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

/* Handles a global option; returns 1 when it was one, -1 on a bad value. */
int global_opt(int ch)
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

const char GLOBAL_HELP[] =
    "Global options (anywhere on the line):\n"
    "  --endpoint URL   server (default: LEVER_ENDPOINT, else http://127.0.0.1:7447)\n"
    "  --region R       region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)\n"
    "  --profile P      profile of the shared credentials file\n"
    "  -o, --output F   json, table (default on a terminal) or text\n"
    "  -h, --help       this help\n";


int usage_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", prog, current ? current->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: lever %s\n", current ? current->synopsis : "COMMAND ...");
    return EX_USAGE;
}

int show_help(void)
{
    printf("usage: lever %s\n\n%s\n%s", current->synopsis, current->help, GLOBAL_HELP);
    return EX_OK;
}

/* getopt_long over a command's own options plus the global ones. Returns
 * the option, -1 at the end, or -2 after printing help / a usage error
 * (*rc then holds the exit code). */
int next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *rc)
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

char *read_stream(FILE *f, const char *what)
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

char *read_file(const char *path)
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

const char *rel_of(const char *name, const char *path)
{
    size_t pl = strlen(path);
    if (strcmp(path, "/") == 0)
        return name[0] == '/' ? name + 1 : name;
    if (strncmp(name, path, pl) == 0 && name[pl] == '/')
        return name + pl + 1;
    return name;
}

const char *norm_path(const char *p, char *buf, size_t n)
{
    snprintf(buf, n, "%s", p);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
        buf[--l] = '\0';
    return buf;
}
