/* alarm.h - `lever alarm put|set|ls|rm`: lever alarms over liblever's
 * Lever.* calls (docs/cli.md, docs/rollouts.md). */
#ifndef LV_CLI_ALARM_H
#define LV_CLI_ALARM_H

#include <stdbool.h>

/* The global options given before the command. */
typedef struct lv_cli_globals {
    const char *endpoint, *region, *profile;
    bool json, text;   /* -o json / -o text (or not a terminal) */
} lv_cli_globals;

/* argv[0] is "alarm". Returns the exit code (docs/cli.md). */
int lv_cli_alarm(const lv_cli_globals *g, int argc, char **argv);

#endif
