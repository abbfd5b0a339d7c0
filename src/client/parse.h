/* parse.h - liblever's value parsers (bool, int, double, duration, string
 * list) and env-name mapping: pure functions shared by the getters and the CLI. */
#ifndef LV_CLIENT_PARSE_H
#define LV_CLIENT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0 and fills *out, or -1 (out untouched) when s is not a
 * valid value of that type. Leading and trailing blanks are allowed. */
int lvc_parse_bool(const char *s, bool *out);
int lvc_parse_int(const char *s, int64_t *out);
int lvc_parse_double(const char *s, double *out);
/* Milliseconds. Units ms, s, m, h, d; several terms ("1h30m"); decimals
 * ("1.5h"); a bare number is seconds. Overflow is an error. */
int lvc_parse_duration_ms(const char *s, int64_t *out);

/* Splits a comma-separated list, trimming blanks around items; "" and NULL
 * give an empty list. Returns a NULL-terminated array of separately
 * allocated strings (free with lvc_strlist_free) or NULL when out of memory. */
char **lvc_split_list(const char *s, size_t *count);
void lvc_strlist_free(char **l);

/* Env mapping schemes, as lever_env_scheme. */
enum { LVC_ENV_LAST_SEGMENT = 0, LVC_ENV_FULL_PATH = 1, LVC_ENV_NONE = 2 };

/* The env var name for key (relative to prefix, or a full name starting
 * with '/', which is made relative when it lies under prefix). prefix is
 * normalised ("/a/b/") or "". Newly allocated, NULL when out of memory or
 * with LVC_ENV_NONE or when the mapped name would be empty. */
char *lvc_env_name(const char *prefix, const char *key, int scheme, const char *env_prefix);
/* The same into a caller's buffer (no allocation on the getter path):
 * returns the length, -1 when the key has no env name, -2 when cap is too
 * small. */
long lvc_env_name_into(const char *prefix, const char *key, int scheme, const char *env_prefix,
                       char *out, size_t cap);
/* lvc_full_name into a caller's buffer: the length, or -2 when too small. */
long lvc_full_name_into(const char *prefix, const char *key, char *out, size_t cap);

/* Normalises a path prefix: leading and trailing '/', no doubled '/'.
 * "" and NULL give "". Newly allocated, NULL when out of memory. */
char *lvc_norm_prefix(const char *p);

/* The full parameter name of key under prefix ("/a/b/" + "x/y"). A key
 * starting with '/' is already full. Newly allocated or NULL (no memory). */
char *lvc_full_name(const char *prefix, const char *key);

/* The key of a full name relative to prefix, pointing into name (name
 * itself when it is not under prefix). */
const char *lvc_rel_key(const char *prefix, const char *name);

#endif
