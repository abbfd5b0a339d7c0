/* exec.h - `lever exec PATH -- COMMAND...`: runs COMMAND with the
 * parameters under PATH as environment variables, optionally restarting or
 * signalling it when they change. docs/cli.md. */
#ifndef LV_CLI_EXEC_H
#define LV_CLI_EXEC_H

#define LV_CLI_EXEC_SYNOPSIS                                                                        \
    "exec PATH [--override] [--watch [--signal NAME] [--grace SECONDS]] [--prefix P] -- COMMAND [ARG...]"
#define LV_CLI_EXEC_HELP                                                                                 \
    "Run COMMAND with every parameter under PATH (recursive, SecureStrings decrypted) as an environment\n" \
    "variable: the name relative to PATH, '/', '-' and '.' as '_', upper-cased (/app/prod/db/url with\n"  \
    "PATH /app/prod is DB_URL), after --prefix P if given. Variables already set win unless\n"          \
    "--override. Two parameters mapping to one name are an error; a name that is not a valid variable\n" \
    "name (it starts with a digit) is skipped with a warning. Without --watch lever execs COMMAND\n"    \
    "(its exit status is COMMAND's; 127 not found, 126 not executable). With --watch it supervises\n"   \
    "COMMAND: when a parameter under PATH changes it restarts it (SIGTERM, SIGKILL after --grace\n"      \
    "seconds, default 10) with the new environment, or with --signal NAME (HUP, USR1, ...) only sends\n" \
    "it that signal; SIGTERM, SIGINT, SIGHUP and SIGQUIT are forwarded; lever exits with COMMAND's\n"   \
    "status (128+N when signal N ended it)."

/* argv[0] is "exec". endpoint, region, profile: the global options (may be
 * NULL). Returns the exit code (docs/cli.md), or does not return (exec). */
int lv_cli_exec(int argc, char **argv, const char *endpoint, const char *region,
                const char *profile);

#endif
