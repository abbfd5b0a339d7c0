/* flags.c - `lever flags`: validate a feature flag document and evaluate a
 * flag for a context, locally, with the same code as leverd and
 * lever-agent (src/json/flagdoc.c); the edits of a hosted profile are in
 * flags_edit.c. */
#include "cli/flags.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/flagdoc.h"

enum { X_OK = 0, X_ERROR = 1, X_USAGE = 2, X_NOTFOUND = 3, MAX_CONTEXT = 256 };

static const char USAGE[] =
    "usage: lever flags validate FILE\n"
    "       lever flags eval FILE FLAG [--context KEY=VALUE]... [--entity ID] [--no-context]\n";
static const char HELP[] =
    "\n"
    "validate checks an AWS.AppConfig.FeatureFlags document (FILE, or - for stdin) with the\n"
    "server's rules and lists every violation as FILE: POINTER: REASON. eval prints the flag's\n"
    "evaluation for the context as JSON: enabled, variant, reason (OpenFeature's) and the served\n"
    "value. --no-context evaluates as AppConfig Data does (no variants: the default).\n"
    "\n"
    "The edits change the flag document of a hosted profile (APP and PROFILE: names or ids): each\n"
    "reads the latest hosted version, validates the edited document with the server's rules\n"
    "(nothing is stored when it would be refused) and stores it as a new hosted version, locked on\n"
    "the one it read; it prints the new version number. on/off set a flag's enabled (a new FLAG is\n"
    "created; a flag with variants needs --variant). attr sets an attribute's value, typed by its\n"
    "declaration (--type declares a new one), or removes it with --unset. variant adds or edits a\n"
    "variant (a plain flag becomes the default variant \"default\"): new ones need --rule and go\n"
    "before the default unless --position N; --remove deletes one. show prints a version's\n"
    "document (default: the latest); diff lists what changed between two versions as JSON\n"
    "pointers (+ added, - removed, ~ changed). V is a number or \"latest\".\n"
    "EDIT OPTIONS: --deploy ENV [--strategy S] [--wait] deploys the new version (as lever appconfig\n"
    "deploy); --description D describes the version (default: the command). -o json for scripts.\n"
    "Exit status: 0 ok, 1 invalid document or error, 2 usage, 3 unknown flag / not found,\n"
    "4 authentication, 5 server unreachable.\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "lever flags: %s\n", msg);
    fputs(USAGE, stderr);
    fputs(lv_cli_flags_edit_usage(), stderr);
    return X_USAGE;
}

static void help(void)
{
    fputs(USAGE, stdout);
    fputs(lv_cli_flags_edit_usage(), stdout);
    fputs(HELP, stdout);
}

/* The whole file (or stdin for "-"), NUL-terminated; NULL with errno-style
 * message printed on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap) {
            char *nb = realloc(b, cap *= 2);
            if (nb == NULL) {
                free(b);
                b = NULL;
            } else {
                b = nb;
            }
        }
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (b == NULL || err) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(b);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static lv_flagdoc *load(const char *path, int *rc)
{
    size_t len;
    char *text = slurp(path, &len);
    if (text == NULL) {
        *rc = X_ERROR;
        return NULL;
    }
    lv_flagdoc *d = NULL;
    lv_buf details = LV_BUF_INIT;
    lv_error err;
    if (lv_flagdoc_parse(text, len, &d, &details, &err) != LV_OK) {
        for (char *line = details.data; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            fprintf(stderr, "%s: %s\n", path, line);
            line = nl ? nl + 1 : NULL;
        }
        if (details.len == 0)
            fprintf(stderr, "%s: %s\n", path, err.msg);
        *rc = X_ERROR;
    }
    lv_buf_free(&details);
    free(text);
    return d;
}

static int cmd_validate(int argc, char **argv)
{
    if (argc != 3)
        return usage("validate takes one FILE");
    int rc = X_OK;
    lv_flagdoc *d = load(argv[2], &rc);
    if (d == NULL)
        return rc;
    size_t n = lv_flagdoc_count(d), mv = 0;
    for (size_t i = 0; i < n; i++)
        mv += lv_flagdoc_has_variants(d, lv_flagdoc_key(d, i));
    printf("%s: valid (%zu flag%s, %zu with variants)\n", argv[2], n, n == 1 ? "" : "s", mv);
    lv_flagdoc_free(d);
    return X_OK;
}

static int cmd_eval(int argc, char **argv)
{
    static const struct option lo[] = {
        {"context", required_argument, NULL, 'c'},
        {"entity", required_argument, NULL, 'e'},
        {"no-context", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    lv_flag_kv kv[MAX_CONTEXT];
    lv_flag_context ctx = {kv, 0, NULL};
    bool no_ctx = false;
    int ch;
    optind = 0; /* glibc re-initialises and permutes: "eval" FILE FLAG end up last */
    while ((ch = getopt_long(argc, argv, "c:e:nh", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg)
                return usage("--context takes KEY=VALUE");
            if (ctx.n == MAX_CONTEXT)
                return usage("too many --context values");
            *eq = '\0';
            kv[ctx.n++] = (lv_flag_kv){optarg, eq + 1, LV_FV_STRING};
            break;
        }
        case 'e': ctx.entity_id = optarg; break;
        case 'n': no_ctx = true; break;
        case 'h': help(); return X_OK;
        default: return usage(NULL);
        }
    }
    if (argc - optind != 3 || strcmp(argv[optind], "eval") != 0)
        return usage("eval takes FILE and FLAG");
    optind++;
    if (no_ctx && (ctx.n || ctx.entity_id))
        return usage("--no-context excludes --context and --entity");
    int rc = X_OK;
    lv_flagdoc *d = load(argv[optind], &rc);
    if (d == NULL)
        return rc;
    const char *flag = argv[optind + 1];
    lv_flag_result r;
    lv_flagdoc_eval(d, flag, no_ctx ? NULL : &ctx, &r);
    json_t *out = json_object();
    json_object_set_new(out, "flag", json_string(flag));
    if (r.reason == LV_FLAG_ERROR && strcmp(r.error_code, "FLAG_NOT_FOUND") == 0) {
        json_object_set_new(out, "reason", json_string("ERROR"));
        json_object_set_new(out, "errorCode", json_string(r.error_code));
        rc = X_NOTFOUND;
    } else {
        json_object_set_new(out, "enabled", json_boolean(r.enabled));
        json_object_set_new(out, "variant", r.variant ? json_string(r.variant) : json_null());
        json_object_set_new(out, "reason", json_string(lv_flag_reason_name(r.reason)));
        if (r.error_code)
            json_object_set_new(out, "errorCode", json_string(r.error_code));
        json_t *v = lv_flag_result_value(&r, false);
        json_object_set_new(out, "value", v ? v : json_null());
    }
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    } else {
        rc = X_ERROR;
    }
    json_decref(out);
    lv_flagdoc_free(d);
    if (rc == X_NOTFOUND)
        fprintf(stderr, "lever flags: %s: no flag \"%s\"\n", argv[optind], flag);
    return rc;
}

int lv_cli_flags(int argc, char **argv, const lv_cli_ctx *ctx)
{
    if (argc < 2)
        return usage(NULL);
    if (strcmp(argv[1], "validate") == 0)
        return cmd_validate(argc, argv);
    if (strcmp(argv[1], "eval") == 0)
        return cmd_eval(argc, argv);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        help();
        return X_OK;
    }
    static const char *const edits[] = {"on", "off", "attr", "variant", "show", "diff"};
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++)
        if (strcmp(argv[1], edits[i]) == 0) {
            for (int j = 2; j < argc; j++)
                if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
                    help();
                    return X_OK;
                }
            int rc = lv_cli_flags_edit(argc, argv, ctx);
            if (rc == X_USAGE)
                usage(NULL);
            return rc;
        }
    return usage("unknown subcommand");
}
