/* console.h - the web console served under /console/ by leverd: its
 * assets (embedded in the binary), sign-in with an access key, sessions,
 * CSRF protection, /console/api/<Target>, which runs an SSM or Lever
 * operation as an API call by the session's key, and /console/ac/<path>,
 * the same for the AppConfig REST API. docs/console.md. */
#ifndef LV_CONSOLE_CONSOLE_H
#define LV_CONSOLE_CONSOLE_H

#include <stdbool.h>

#include "api/audit.h"
#include "core/err.h"
#include "http/http.h"

typedef struct lv_router lv_router;
typedef struct lv_console lv_console;

typedef struct lv_console_config {
    unsigned idle_seconds;  /* a session unused this long ends; 0 = 1800 */
    unsigned max_seconds;   /* and any session this long after sign-in; 0 = 43200 */
    const char *region;     /* the sessions' region; NULL = "us-east-1" */
    bool secure_cookie;     /* the listener serves TLS: the cookie gets Secure */
    lv_audit *audit;        /* sign-in and sign-out lines; NULL: none */
} lv_console_config;

/* router is borrowed and must outlive the console; *out is owned by the
 * caller, freed with lv_console_free (NULL is a no-op). */
lv_err lv_console_new(const lv_console_config *cfg, lv_router *router, lv_console **out, lv_error *err);
void lv_console_free(lv_console *c);

/* Whether path is the console's ("/console" or under "/console/"). */
bool lv_console_owns(const char *path);

/* An lv_http_handler_fn body for the console's paths. */
void lv_console_handle(lv_console *c, const lv_http_request *req, lv_http_response *resp);

#endif
