/* appconfig.h - the AppConfig front-end (control plane and AppConfig Data):
 * a decoded REST call (api/acwire.h) in, core/appconfig.h requests through
 * the engine's writer, AWS-shaped answers out. Handlers are split by
 * resource family: appconfig_tree.c (applications, environments,
 * profiles), appconfig_hosted.c (hosted versions, GetConfiguration,
 * ValidateConfiguration, content validators), appconfig_deploy.c
 * (strategies, deployments), appconfig_ext.c (extensions, associations,
 * tags), appconfigdata.c (sessions). */
#ifndef LV_API_APPCONFIG_H
#define LV_API_APPCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/acwire.h"
#include "core/appconfig.h"
#include "engine/engine.h"
#include "hooks/hooks.h"
#include "http/http.h"

/* Authorises action ("appconfig:GetApplication") on resource (an ARN);
 * NULL in the context means the caller is root. */
typedef lv_err (*lv_acapi_authz_fn)(void *ctx, const char *action, const char *resource, lv_error *err);

typedef struct lv_acapi_ctx {
    lv_engine *engine;
    const char *account;
    const char *region;
    const char *user_arn;
    int64_t now_ms;
    const lv_http_request *req;
    lv_http_response *resp;
    lv_acapi_authz_fn authorize;  /* NULL: root, everything allowed */
    void *authz_ctx;
    json_t *err_extra;            /* set by a handler: extra error members (Details) */
    lv_hooks *hooks;              /* NULL: extension webhooks are not called */
    char resource[1100];          /* the ARN authorised, for the audit log */
} lv_acapi_ctx;

/* Runs the call and fills c->resp (answer or AppConfig error). Returns
 * the outcome code (LV_OK or the error answered). */
lv_err lv_acapi_handle(lv_acapi_ctx *c, lv_acwire_call *call);

/* ---- shared by the handler files ---- */
typedef lv_err (*lv_acapi_fn)(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);
lv_err lv_acapi_tree(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);
lv_err lv_acapi_hosted(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);
lv_err lv_acapi_deploy(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);
lv_err lv_acapi_ext(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);
lv_err lv_acapi_data(lv_acapi_ctx *c, lv_acwire_call *call, lv_error *err);

/* Checks c->authorize for appconfig:<op> on the ARN built from fmt. */
lv_err lv_acapi_allow(lv_acapi_ctx *c, int op, lv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Input members. */
const char *lv_acapi_str(const lv_acwire_call *call, const char *member);
bool lv_acapi_has(const lv_acwire_call *call, const char *member);
int64_t lv_acapi_int(const lv_acwire_call *call, const char *member, int64_t dflt);
/* Copies a string member into field i of rec when given. */
lv_err lv_acapi_field(lv_acrec *rec, unsigned i, const lv_acwire_call *call, const char *member);
/* A kind-'t' record from a TagMap member (NULL when absent). */
lv_err lv_acapi_tags_in(const lv_acwire_call *call, const char *member, lv_acrec **out, lv_error *err);
/* Runs a write; *result as lv_engine_ac_write. */
lv_err lv_acapi_write(lv_acapi_ctx *c, lv_acreq *req, lv_acrec **result, lv_error *err);
/* Answers with out (consumed). */
void lv_acapi_reply(lv_acapi_ctx *c, const lv_acwire_call *call, json_t *out);
/* ISO 8601 UTC with milliseconds. */
json_t *lv_acapi_time(int64_t ms);
/* Pages through records under prefix: MaxResults (default 50) and
 * NextToken as the model gives them; emit builds one item (NULL: skip). */
typedef json_t *(*lv_acapi_item_fn)(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *r, void *arg);
lv_err lv_acapi_list(lv_acapi_ctx *c, const lv_acwire_call *call, const char *prefix, lv_acapi_item_fn emit,
                     void *arg, json_t **out, lv_error *err);
/* The record key of an AppConfig ARN of this account ("a<id>", ...). */
lv_err lv_acapi_arn_key(lv_acapi_ctx *c, const char *arn, lv_buf *key, lv_error *err);
/* The ARN of a record. */
lv_err lv_acapi_key_arn(lv_acapi_ctx *c, const lv_acrec *r, lv_buf *arn);

/* Renderers (appconfig_tree.c, appconfig_deploy.c, appconfig_ext.c). */
json_t *lv_acapi_render_env(const lv_acrec *r);
json_t *lv_acapi_render_profile(const lv_acrec *r, bool summary);
json_t *lv_acapi_render_deployment(lv_acapi_ctx *c, const lv_acview *v, const lv_acrec *d, bool summary);
json_t *lv_acapi_render_strategy(const lv_acrec *s);

/* ---- what an environment serves (appconfig_hosted.c; also used by the
 * data plane and the watch API) ---- */
typedef struct lv_acapi_served {
    lv_buf content;
    char content_type[256];
    char version[64];         /* Configuration-Version */
    char label[80];           /* VersionLabel */
    char app[8], env[8], profile[8];
    bool flags;               /* a feature-flag profile */
    uint32_t deployment;      /* 0 when nothing deployed */
    /* A deployment in progress below 100%: its share, seed and sides
     * (CONTRACTS.md 2); side_to says which side this answer is. */
    bool rollout, side_to;
    char percent[16], seed[64], from[64], to[64];
} lv_acapi_served;
/* Resolves app/env/profile (names or ids) and fills *s with what the
 * environment serves (the content is copied). stored: the stored feature
 * flag document instead of the simplified form. */
lv_err lv_acapi_serve(lv_acapi_ctx *c, const char *app, const char *env, const char *profile, bool stored,
                      lv_acapi_served *s, lv_error *err);
void lv_acapi_served_free(lv_acapi_served *s);
/* The same for one entity: during a deployment in progress it gets the
 * new version when its bucket (core/bucket.h, seed
 * appconfig:<AppId>:<EnvId>:<N>) is in the share, else the version served
 * before; side "from" or "to" (x-lever-rollout-side) picks a side for
 * everyone; NULL entity buckets as "". */
lv_err lv_acapi_serve_for(lv_acapi_ctx *c, const char *app, const char *env, const char *profile, bool stored,
                          const char *entity, const char *side, lv_acapi_served *s, lv_error *err);

/* Counts entity as served s's side of the deployment in progress, for its
 * served share (engine/served.h); nothing outside a gradual deployment. */
void lv_acapi_served_note(lv_acapi_ctx *c, const lv_acapi_served *s, const char *entity);

/* Appends the deployment metrics to a /metrics answer (rollout_metrics.c). */
void lv_acapi_metrics(lv_engine *e, lv_buf *out);

/* Validates content for the profile's type and validators (JSON Schema,
 * http(s) validator URLs, feature-flag rules). On failure LV_E_AC_BAD_REQUEST
 * with c->err_extra holding AWS's Details. */
lv_err lv_acapi_validate_content(lv_acapi_ctx *c, const lv_acrec *profile, const char *content, size_t n,
                                 lv_error *err);
/* Checks a validator list given to Create/UpdateConfigurationProfile. */
/* Whether a profile (names or ids) has a validator that calls out over
 * HTTP (LAMBDA: a URL): a call that runs it must not hold an event loop. */
bool lv_acapi_profile_calls_out(lv_engine *e, const char *app, const char *profile);
lv_err lv_acapi_check_validators(lv_acapi_ctx *c, const lv_acrec *in, unsigned field, lv_error *err);

#endif
