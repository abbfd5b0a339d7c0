/* session.h - console sessions: a random id (the cookie), a CSRF token,
 * the signed-in access key and region, with an idle and an absolute
 * lifetime. Held in memory only: a restart signs everyone out. Thread
 * safe (one mutex). */
#ifndef LV_CONSOLE_SESSION_H
#define LV_CONSOLE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/keys.h"
#include "core/err.h"

enum {
    LV_SESSION_ID_LEN = 64,    /* hex of 32 random bytes */
    LV_SESSION_MAX = 1024,     /* sessions held at once; the oldest goes first */
};

typedef struct lv_session {
    char id[LV_SESSION_ID_LEN + 1];
    char csrf[LV_SESSION_ID_LEN + 1];
    char akid[LV_ACCESS_KEY_MAX + 1];
    char region[64];
    int64_t created_ms;
    int64_t last_ms;
} lv_session;

typedef struct lv_sessions lv_sessions;

/* idle_ms, max_ms: the lifetimes (both > 0). */
lv_err lv_sessions_new(int64_t idle_ms, int64_t max_ms, lv_sessions **out, lv_error *err);
void lv_sessions_free(lv_sessions *s);

/* Starts a session for akid; *out receives a copy (its id and token come
 * from the kernel's CSPRNG). LV_E_INTERNAL when no randomness. */
lv_err lv_sessions_create(lv_sessions *s, const char *akid, const char *region, int64_t now_ms, lv_session *out,
                          lv_error *err);

/* Finds the live session of id (compared in constant time), copies it to
 * *out and counts the use (idle clock restarts). false when there is none
 * or it has expired (an expired one is removed). */
bool lv_sessions_get(lv_sessions *s, const char *id, int64_t now_ms, lv_session *out);

/* Ends the session of id, if any. */
void lv_sessions_delete(lv_sessions *s, const char *id);

/* Whether two equal-length secrets match, in time independent of where
 * they differ. Strings of different lengths never match. */
bool lv_console_token_equal(const char *a, const char *b);

#endif
