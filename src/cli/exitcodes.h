/* exitcodes.h - lever's exit statuses, a contract (docs/cli.md). */
#ifndef LV_CLI_EXITCODES_H
#define LV_CLI_EXITCODES_H

enum {
    EX_OK = 0,
    EX_ERROR = 1,
    EX_USAGE = 2,
    EX_NOTFOUND = 3,
    EX_AUTH = 4,
    EX_UNREACHABLE = 5,
    EX_ROLLED_BACK = 6, /* lever deploy: the rollout was rolled back (or stopped) */
};

#endif
