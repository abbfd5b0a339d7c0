/* session.c - the console's session table: a fixed array scanned in full
 * on every lookup (constant time in the id), guarded by one mutex. */
#include "console/session.h"
#include "core/hex.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct lv_sessions {
    pthread_mutex_t mu;
    int64_t idle_ms, max_ms;
    lv_session slot[LV_SESSION_MAX]; /* id[0] == '\0': free */
};

lv_err lv_sessions_new(int64_t idle_ms, int64_t max_ms, lv_sessions **out, lv_error *err)
{
    if (idle_ms <= 0 || max_ms <= 0)
        return lv_error_set(err, LV_E_VALIDATION, "session lifetimes must be positive");
    lv_sessions *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    s->idle_ms = idle_ms;
    s->max_ms = max_ms;
    *out = s;
    return LV_OK;
}

void lv_sessions_free(lv_sessions *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    OPENSSL_cleanse(s->slot, sizeof s->slot);
    free(s);
}

bool lv_console_token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n > 0 && n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static lv_err random_hex(char out[LV_SESSION_ID_LEN + 1])
{
    unsigned char b[LV_SESSION_ID_LEN / 2];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0)
            return LV_E_INTERNAL;
        got += (size_t)n;
    }
    lv_hex_encode(b, sizeof b, out);
    OPENSSL_cleanse(b, sizeof b);
    return LV_OK;
}

static bool expired(const lv_sessions *s, const lv_session *x, int64_t now_ms)
{
    return now_ms - x->last_ms >= s->idle_ms || now_ms - x->created_ms >= s->max_ms;
}

lv_err lv_sessions_create(lv_sessions *s, const char *akid, const char *region, int64_t now_ms, lv_session *out,
                          lv_error *err)
{
    lv_session n;
    memset(&n, 0, sizeof n);
    if (random_hex(n.id) != LV_OK || random_hex(n.csrf) != LV_OK)
        return lv_error_set(err, LV_E_INTERNAL, "no randomness for a session id");
    snprintf(n.akid, sizeof n.akid, "%s", akid);
    snprintf(n.region, sizeof n.region, "%s", region);
    n.created_ms = n.last_ms = now_ms;
    pthread_mutex_lock(&s->mu);
    size_t pick = LV_SESSION_MAX, oldest = 0;
    for (size_t i = 0; i < LV_SESSION_MAX; i++) {
        lv_session *x = &s->slot[i];
        if (x->id[0] != '\0' && expired(s, x, now_ms))
            memset(x, 0, sizeof *x);
        if (x->id[0] == '\0' && pick == LV_SESSION_MAX)
            pick = i;
        if (x->id[0] != '\0' && x->last_ms < s->slot[oldest].last_ms)
            oldest = i;
    }
    if (pick == LV_SESSION_MAX)
        pick = oldest; /* full: the least recently used session ends */
    s->slot[pick] = n;
    pthread_mutex_unlock(&s->mu);
    *out = n;
    OPENSSL_cleanse(&n, sizeof n);
    return LV_OK;
}

/* Index of id's slot or LV_SESSION_MAX; every slot is compared. */
static size_t find(lv_sessions *s, const char *id)
{
    size_t at = LV_SESSION_MAX;
    if (strlen(id) != LV_SESSION_ID_LEN)
        return at;
    for (size_t i = 0; i < LV_SESSION_MAX; i++)
        if (s->slot[i].id[0] != '\0' && CRYPTO_memcmp(s->slot[i].id, id, LV_SESSION_ID_LEN) == 0)
            at = i;
    return at;
}

bool lv_sessions_get(lv_sessions *s, const char *id, int64_t now_ms, lv_session *out)
{
    pthread_mutex_lock(&s->mu);
    size_t i = find(s, id);
    bool ok = false;
    if (i < LV_SESSION_MAX) {
        if (expired(s, &s->slot[i], now_ms)) {
            memset(&s->slot[i], 0, sizeof s->slot[i]);
        } else {
            s->slot[i].last_ms = now_ms;
            *out = s->slot[i];
            ok = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void lv_sessions_delete(lv_sessions *s, const char *id)
{
    pthread_mutex_lock(&s->mu);
    size_t i = find(s, id);
    if (i < LV_SESSION_MAX)
        OPENSSL_cleanse(&s->slot[i], sizeof s->slot[i]);
    pthread_mutex_unlock(&s->mu);
}
