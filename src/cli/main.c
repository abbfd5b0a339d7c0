/* main.c - `lever`, the command line for lever's Parameter Store and
 * AppConfig, built on liblever only: the command table, the global options
 * before the command, dispatch. The commands live in one file per duty
 * (cli.h). Exit codes are a contract (docs/cli.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/alarm.h"
#include "cli/appconfig.h"
#include "cli/cli.h"
#include "cli/exec.h"
#include "cli/flags.h"

#ifndef LEVER_VERSION
#define LEVER_VERSION "0.1.0"
#endif

static int cmd_exec(int argc, char **argv) { return lv_cli_exec(argc, argv, G.endpoint, G.region, G.profile); }
static int cmd_appconfig(int argc, char **argv)
{
    return lv_cli_appconfig(argc, argv, &(lv_cli_ctx){G.endpoint, G.region, G.profile, G.output});
}

static int cmd_flags(int argc, char **argv)
{
    return lv_cli_flags(argc, argv, &(lv_cli_ctx){G.endpoint, G.region, G.profile, G.output});
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
    {"flags", cmd_flags,
     "flags (validate FILE | eval FILE FLAG [--context K=V]... [--entity ID] |\n"
     "        on|off APP PROFILE FLAG | attr APP PROFILE FLAG NAME VALUE | variant APP PROFILE FLAG NAME ... |\n"
     "        show APP PROFILE [V] | diff APP PROFILE V1 V2) [--deploy ENV [--wait]]",
     "Feature flag documents: validate and evaluate locally with the server's rules; turn flags on or\n"
     "off, set attributes and variants in a hosted profile (each a new hosted version, optionally\n"
     "deployed), show and diff versions (lever flags --help, docs/flags.md)."},
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
    {"deploy", cmd_deploy,
     "deploy (APP ENV PROFILE VERSION | NAME:LABEL VERSION) [--strategy S] [--description D] [--detach] |\n"
     "        deploy status (APP ENV [NUMBER] | NAME:LABEL) [--follow] | deploy --stop (APP ENV [NUMBER] | NAME:LABEL)",
     "Roll out a configuration version to an AppConfig environment, or move a parameter's LABEL to\n"
     "VERSION, through a strategy: an AWS id (AppConfig.Linear50PercentEvery30Seconds), a Lever.* name,\n"
     "or a CodeDeploy name such as Canary10Percent5Minutes, Linear10PercentEvery1Minute or AllAtOnce\n"
     "(the default; CodeDeployDefault.Lambda/ECS prefixes are accepted), or a strategy's own name or id.\n"
     "lever follows it to the end: a progress bar on a terminal (plain lines otherwise) and the event\n"
     "log as it grows. Exit 0 when it completes, 6 when it is rolled back (an alarm, a hook, --stop);\n"
     "--detach returns once started. Ctrl-C stops following, not the rollout (exit 130). status shows\n"
     "a rollout (the newest deployment to ENV without NUMBER), --follow follows it; --stop rolls it\n"
     "back. -o json prints the final record."},
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
