/* assets.h - the console's files, embedded in leverd at build time by
 * cmake/embed.cmake from the console/ directory. */
#ifndef LV_CONSOLE_ASSETS_H
#define LV_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct lv_console_asset {
    const char *path;          /* relative to console/: "index.html", "js/app.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} lv_console_asset;

extern const lv_console_asset lv_console_assets[];
extern const size_t lv_console_nassets;

#endif
