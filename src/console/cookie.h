/* cookie.h - reading one cookie from a request's Cookie header
 * (RFC 6265 section 4.2: "name=value" pairs separated by "; "). */
#ifndef LV_CONSOLE_COOKIE_H
#define LV_CONSOLE_COOKIE_H

#include <stddef.h>

/* Finds the first cookie called name in header (may be NULL) and copies
 * its value, without surrounding double quotes, into out (cap bytes, NUL
 * terminated). Returns 1 when found, 0 when absent, -1 when the value is
 * longer than cap - 1 or holds a byte RFC 6265 does not allow in a
 * cookie value (then out is ""). Malformed pairs are skipped. */
int lv_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
