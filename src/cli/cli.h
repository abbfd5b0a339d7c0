/* cli.h - what the `lever` commands share: the global options, exit codes
 * (a contract, docs/cli.md), error and JSON output helpers, option parsing
 * over a command's own options plus the global ones, and small readers. */
#ifndef LV_CLI_CLI_H
#define LV_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/exitcodes.h"
#include "lever/lever.h"


enum { OUT_AUTO, OUT_TABLE, OUT_JSON, OUT_TEXT };

/* The global options (and the client opened from them). */
typedef struct g {
    const char *endpoint, *region, *profile;
    int output;
    bool output_explicit;
    bool tty;
    lever *c;
} g_t;

extern g_t G;

/* One command of the table in main.c. */
typedef struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis;
    const char *help;
} cmd_t;

/* The command being run (for usage messages and --help). */
extern const cmd_t *current;

enum { OPT_ENDPOINT = 1000, OPT_REGION, OPT_PROFILE, OPT_HELP };

#define GLOBAL_LONGOPTS                                                                             \
    {"endpoint", required_argument, NULL, OPT_ENDPOINT}, {"region", required_argument, NULL, OPT_REGION}, \
        {"profile", required_argument, NULL, OPT_PROFILE}, {"output", required_argument, NULL, 'o'},  \
        {"help", no_argument, NULL, 'h'}

extern const char GLOBAL_HELP[];

/* "lever: MESSAGE" on stderr. */
void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code of a liblever status. */
int exit_of(lever_status st);
/* Prints the handle's last error and returns the exit code for st. */
int fail_st(lever_status st);
bool json_out(void);
/* Prints j indented and releases it. */
void print_json(json_t *j);
/* Opens G.c from the global options (no cache between calls) unless it is
 * open already. An exit code. */
int open_client(void);
/* ISO-8601 UTC of epoch seconds t, "-" for none. */
void fmt_time(double t, char *buf, size_t n);
/* The value to show: SecureString masked unless decrypt. */
const char *mask(const lever_param *p, bool decrypt);
/* A parameter as the JSON the commands print (new reference or NULL). */
json_t *param_json(const lever_param *p, bool with_value, bool decrypt);

/* Handles a global option; returns 1 when it was one, -1 on a bad value. */
int global_opt(int ch);
/* "lever CMD: MESSAGE" and the command's usage on stderr; EX_USAGE. */
int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The current command's --help. EX_OK. */
int show_help(void);
/* getopt_long over a command's own options plus the global ones. Returns
 * the option, -1 at the end, or -2 after printing help / a usage error
 * (*rc then holds the exit code). */
int next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *rc);

/* A whole stream or file, NUL-terminated (malloc'd), or NULL after errf. */
char *read_stream(FILE *f, const char *what);
char *read_file(const char *path);
/* name relative to path ("" for path itself). */
const char *rel_of(const char *name, const char *path);
/* p with one leading '/' and no trailing one (buf holds it). */
const char *norm_path(const char *p, char *buf, size_t n);
/* v as a dotenv value (quoted and escaped when it needs to be); transfer.c. */
void print_dotenv_value(FILE *f, const char *v);

/* The commands of the table in main.c (argv[0] is the command's name). */
int cmd_get(int argc, char **argv);       /* params.c */
int cmd_put(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_unlabel(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_watch(int argc, char **argv);     /* watch.c */
int cmd_diff(int argc, char **argv);      /* transfer.c */
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_render(int argc, char **argv);    /* rendercmd.c */
int cmd_admin(int argc, char **argv);     /* admin.c */
int cmd_audit(int argc, char **argv);     /* audit.c */
int cmd_deploy(int argc, char **argv);    /* deploy.c */

#endif
