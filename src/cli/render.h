/* render.h - the lever CLI's deploy-time resolution: {{resolve:ssm:...}}
 * placeholders in text files and the parameters: map of a service's
 * metadata.yaml. Pure parsers (no I/O) with a fuzz target. */
#ifndef LV_CLI_RENDER_H
#define LV_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Resolves one placeholder: appends the value of name (at version, a
 * number or label, or the latest when NULL) to out, decrypted when secure.
 * Returns 0, or -1 with a message in err. */
typedef int (*lv_render_resolve_fn)(void *user, bool secure, const char *name,
                                    const char *version, lv_buf *out, char *err,
                                    size_t errlen);

/* Copies text to out with every {{resolve:ssm:NAME}},
 * {{resolve:ssm:NAME:VERSION}}, {{resolve:ssm-secure:NAME}} and
 * {{resolve:ssm-secure:NAME:VERSION}} replaced. Other {{...}} text is left
 * alone. A malformed placeholder or a failed resolution is an error whose
 * message starts "<filename>:<line>: "; out then holds partial output that
 * the caller must not write anywhere. Errors: LV_E_VALIDATION,
 * LV_E_NOT_FOUND-like failures of fn as LV_E_PARAM_NOT_FOUND... (fn's
 * failure is LV_E_VALIDATION with fn's message), LV_E_NOMEM, LV_E_TOO_BIG. */
lv_err lv_render_template(const char *text, size_t len, const char *filename,
                          lv_render_resolve_fn fn, void *user, lv_buf *out, lv_error *err);

/* Called for each KEY: PATH entry of the top-level parameters: map, in file
 * order. Returns 0 to go on, -1 to stop (the parse then fails with err). */
typedef int (*lv_render_entry_fn)(void *user, const char *key, const char *path, int line,
                                  char *err, size_t errlen);

/* Parses the subset of YAML that metadata.yaml uses for its parameters:
 * map: a top-level "parameters:" line, then indented "KEY: VALUE" lines
 * (VALUE bare, 'single' or "double" quoted; # comments, blank lines). Other
 * top-level keys and their blocks are skipped. Errors (LV_E_VALIDATION,
 * "<filename>:<line>: ..."): no parameters: map, a line that is not
 * KEY: VALUE, an empty value, a nested map, a duplicate key, tabs in the
 * indentation, unterminated quotes. */
lv_err lv_render_parse_metadata(const char *text, size_t len, const char *filename,
                                lv_render_entry_fn fn, void *user, lv_error *err);

/* Replaces every "{Environment}" in path with env. */
lv_err lv_render_expand_env(const char *path, const char *env, lv_buf *out, lv_error *err);

#endif
