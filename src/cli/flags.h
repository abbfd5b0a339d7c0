/* flags.h - `lever flags` (validate, eval): local feature flag tools. */
#ifndef LV_CLI_FLAGS_H
#define LV_CLI_FLAGS_H

/* argv[0] is "flags". Returns the exit status. */
int lv_cli_flags(int argc, char **argv);

#endif
