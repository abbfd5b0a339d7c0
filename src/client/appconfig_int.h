/* appconfig_int.h - what the files of liblever's AppConfig configurations
 * share: the per-handle state (one mutex guards the entries, the
 * subscriptions and the watch state), its entries and subscriptions, and
 * the functions of appconfig.c (objects, state, entries, reads), acfetch.c
 * (GetConfiguration and bringing an entry up to date) and acwatch.c (the
 * watch thread, subscriptions). Not for other modules: they use handle.h. */
#ifndef LV_CLIENT_APPCONFIG_INT_H
#define LV_CLIENT_APPCONFIG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/acserved.h"
#include "client/handle.h"
#include "client/http.h"
#include "client/rollout.h"
#include "lever/lever.h"

enum { LVC_AC_NAME_MAX = 256 }; /* application, environment, profile: bytes with the NUL */

/* A configuration as served (lever.h's opaque lever_configuration). */
struct lever_configuration {
    char *data;
    size_t len;
    char ctype[128];
    char version[128];
    bool stored;                /* leverd marked it X-Lever-Document: stored */
    uint64_t gen;               /* copies: the entry's generation they were taken at */
};

/* During a gradual deployment (ro.active) cur is the deployment's `to`
 * version and from the version served before: the handle's client id
 * picks its side by the published bucketing, as leverd would. */
typedef struct centry {
    char *key;                  /* app \n env \n profile \n form ("s": stored) */
    char app[LVC_AC_NAME_MAX], env[LVC_AC_NAME_MAX], profile[LVC_AC_NAME_MAX];
    lever_configuration cur;    /* cur.data NULL before the first answer */
    lever_configuration from;   /* from.data set while ro.active with a from version */
    lvc_rollout ro;
    uint64_t revision;
    int64_t fetched;            /* handle clock */
    bool watched;               /* kept current by the watch */
    bool stored;                /* asks for the stored form of a flag document (flags.c) */
    uint64_t gen;               /* bumped whenever what the client id is served changes */
    lvc_served_mark served;     /* served-share reports (acserved.c) */
} centry;

/* A subscription (lever_subscribe_configuration). */
typedef struct csub {
    uint64_t id;
    char *key;
    lever_configuration_fn fn;
    void *user;
} csub;

/* The AppConfig state of a handle (handle.h's slot). */
struct lvc_ac {
    pthread_mutex_t mu;         /* entries, subscriptions, watch state */
    pthread_mutex_t net_mu;     /* conn */
    pthread_mutex_t cb_mu;      /* held while callbacks run */
    pthread_cond_t cv;
    lvc_conn *conn, *wconn;
    centry **ents;
    size_t n, cap;
    csub *subs;
    size_t nsubs, capsubs;
    uint64_t next_id;
    uint64_t gen_seq;           /* the last generation given to an entry */
    bool watching;              /* the watch is current */
    uint64_t revision;
    int64_t retry_at;           /* no refresh before this after a failure (handle clock) */
    bool thread_started;
    atomic_bool stopping;
    pthread_t thread;
    char client_id[264];
};

/* ---- appconfig.c ---- */
/* The handle's state, created on first use; NULL when out of memory. */
struct lvc_ac *lvc_ac_state(lever *c);
/* The key of an entry (malloc'd, NULL when out of memory): the served and
 * the stored form of one profile are two entries. */
char *lvc_ac_key(const char *app, const char *env, const char *profile, bool stored);
/* Caller holds mu. The entry of key, or NULL. */
centry *lvc_ac_find(struct lvc_ac *a, const char *key);
/* Caller holds mu. The entry of key, added empty when missing; NULL when
 * out of memory. */
centry *lvc_ac_get_or_add(struct lvc_ac *a, const char *app, const char *env, const char *profile, bool stored,
                          const char *key);
/* Caller holds mu. What the handle's client id is served from e. */
const lever_configuration *lvc_ac_side_for(const centry *e, const char *client_id);
/* Caller holds mu. A copy of it (free with lever_configuration_free),
 * marked with e's generation; NULL when out of memory. */
lever_configuration *lvc_ac_copy_served(const struct lvc_ac *a, const centry *e);

/* ---- acfetch.c ---- */
/* Whether a failed call means "leverd is not answering" (serve stale). */
bool lvc_ac_outage(lever_status st, const lvc_raw *r);
/* Brings (app, env, profile) up to date through conn (net, when not NULL,
 * guards it), creating its entry when create. On LEVER_OK *changed says
 * whether what the client id is served changed, and *out (when not NULL)
 * is a copy of it (NULL when out of memory). On an error nothing changed
 * and *r_err holds the failed answer (the caller clears it). Takes mu. */
lever_status lvc_ac_sync_entry(lever *c, struct lvc_ac *a, lvc_conn *conn, pthread_mutex_t *net, const char *app,
                               const char *env, const char *profile, bool stored, const char *key, bool create,
                               bool *changed, lever_configuration **out, lvc_raw *r_err, char *err, size_t errlen);

/* ---- acwatch.c ---- */
/* Starts the watch thread once (takes mu); records a failure. */
lever_status lvc_ac_start_watch(lever *c, struct lvc_ac *a);

#endif
