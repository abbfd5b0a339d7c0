/* appconfig.h - the AppConfig model: what each record kind's fields mean,
 * ids, keys, quotas, the predefined deployment strategies, and the rules of
 * every write (create/update/delete down the tree, hosted versions with
 * their optimistic lock, deployments, extensions, tags) as a pure plan:
 * given a view of the current records and a request, the records to put
 * and delete and the change-log entries to append. No I/O, no JSON. */
#ifndef LV_CORE_APPCONFIG_H
#define LV_CORE_APPCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/acrec.h"
#include "core/changelog.h"
#include "core/err.h"

/* Record kinds; the key of a record starts with its kind. */
enum {
    LV_AC_APP = 'a',      /* a<app> */
    LV_AC_ENV = 'e',      /* e<app>/<env> */
    LV_AC_PROFILE = 'p',  /* p<app>/<profile> */
    LV_AC_HOSTED = 'h',   /* h<app>/<profile>/<%010u version> */
    LV_AC_STRATEGY = 's', /* s<id> (custom; predefined ones are built in) */
    LV_AC_DEPLOY = 'd',   /* d<app>/<env>/<%010u number> */
    LV_AC_EXT = 'x',      /* x<id> */
    LV_AC_ASSOC = 'X',    /* X<id> */
    LV_AC_TAGS = 't',     /* t<key of the tagged record> */
    /* A rollout of an SSM parameter label (docs/rollouts.md), the DF_*
     * fields with DF_APP the region, DF_ENV the parameter name, DF_PROFILE
     * the label: l<region>|<name>|<label>|<%010u number> */
    LV_AC_LABEL_DEPLOY = 'l',
    /* The extensions associated with a deployment's application,
     * environment or profile (a label rollout's parameter) when it
     * started: GetDeployment's AppliedExtensions. A<deployment key> */
    LV_AC_APPLIED = 'A',
};

/* Fields per kind. Numbers are decimal strings; times are epoch ms. */
enum { AF_ID, AF_NAME, AF_DESC, AF__N };
/* Monitors: flat (AlarmArn, AlarmRoleArn) pairs. */
enum { EF_APP, EF_ID, EF_NAME, EF_DESC, EF_STATE, EF_MONITORS, EF_LAST_DEPLOY, EF__N };
/* Validators: flat (Type, Content) pairs. LATEST: the highest hosted
 * version number ever created (numbers are never reused). */
enum { PF_APP, PF_ID, PF_NAME, PF_DESC, PF_LOCATION, PF_ROLE, PF_TYPE, PF_VALIDATORS, PF_KMS, PF_LATEST, PF__N };
enum { HF_APP, HF_PROFILE, HF_VERSION, HF_DESC, HF_CTYPE, HF_LABEL, HF_CONTENT, HF__N };
/* CANARY "1": the first share for the whole duration, then everything. */
enum { SF_ID, SF_NAME, SF_DESC, SF_DURATION, SF_BAKE, SF_GROWTH, SF_GTYPE, SF_REPLICATE, SF_CANARY, SF__N };
/* EVENTS: flat (EventType, TriggeredBy, Description, OccurredAt ms)
 * quads. PREV_VERSION: what the environment served for the profile before
 * (the rollback target; "" when nothing). STEP_MS: when the percentage last
 * changed (the next step falls due from there, core/rollout.h). STEP: the
 * steps taken (0 at the start; a record without it counts as finished).
 * OVERRIDE: the alarm names (or "*") the lever:override-alarms tag of
 * StartDeployment exempted while they are in ALARM (docs/rollouts.md).
 * MONITORS: a label rollout's own alarm ARNs (an AppConfig deployment
 * uses its environment's). OVERRIDE also holds "!<alarm>" for each
 * exempted alarm the driver has seen out of ALARM during the deployment
 * (it counts again; durable, so a restarted leverd does not exempt it
 * anew). '!' is in no alarm name, and a release that predates this reads
 * such an item as a name no alarm has. */
enum {
    DF_APP, DF_ENV, DF_NUMBER, DF_PROFILE, DF_VERSION, DF_STRATEGY, DF_DURATION, DF_BAKE, DF_GROWTH,
    DF_GTYPE, DF_DESC, DF_STATE, DF_PERCENT, DF_STARTED, DF_COMPLETED, DF_EVENTS, DF_LABEL,
    DF_PREV_VERSION, DF_KMS, DF_STEP_MS, DF_CANARY, DF_STEP, DF_OVERRIDE, DF_MONITORS, DF__N
};
/* ACTIONS: flat (ActionPoint, Name, Description, Uri, RoleArn) tuples;
 * PARAMS: flat (Name, Description, Required "1"/"0") triples. */
enum { XF_ID, XF_NAME, XF_VERSION, XF_DESC, XF_ACTIONS, XF_PARAMS, XF__N };
/* RESKEY: the record key of the associated resource; PARAMS flat pairs. */
enum { YF_ID, YF_EXT, YF_EXTVER, YF_RESOURCE, YF_RESKEY, YF_PARAMS, YF__N };
/* TAGS: flat (Key, Value) pairs, sorted by key. */
enum { TF_TAGS, TF__N };
/* EXTS: per applied extension ExtensionId, ExtensionAssociationId,
 * VersionNumber, the number N of parameters, then N (Name, Value) pairs. */
enum { QF_EXTS, QF__N };

/* Quotas (AWS AppConfig's default service quotas; docs/appconfig.md). */
enum {
    LV_AC_MAX_APPS = 100,
    LV_AC_MAX_ENVS = 20,            /* per application */
    LV_AC_MAX_PROFILES = 100,       /* per application */
    LV_AC_MAX_HOSTED = 1000,        /* versions per profile */
    LV_AC_MAX_STRATEGIES = 20,      /* custom ones */
    LV_AC_MAX_EXTENSIONS = 100,
    LV_AC_MAX_ASSOCS = 100,
    LV_AC_MAX_TAGS = 50,            /* per resource */
    LV_AC_MAX_CONTENT = 2 * 1024 * 1024, /* hosted configuration bytes */
    LV_AC_MAX_EVENTS = 100,
};

/* Numbers on the wire are often strings; ids are 7 of [a-z0-9]. */
bool lv_ac_valid_id(const char *s);
/* Fills out[8] with an id from 7 random bytes (any values). */
void lv_ac_make_id(const unsigned char rnd[7], char out[8]);

/* The predefined strategies (AppConfig.* and Lever.*), as records with
 * kind 's' and key "s<id>" (never stored). */
size_t lv_ac_predefined_count(void);
const lv_acrec *lv_ac_predefined(size_t i);
const lv_acrec *lv_ac_predefined_find(const char *id);
void lv_ac_predefined_free(void);

/* Change-log key of a deployment change: "\1appconfig\0<app>/<env>/<profile>".
 * Watchers of configurations match on its prefix. */
#define LV_AC_CHANGE_PREFIX "\001appconfig"
enum { LV_AC_CHANGE_PREFIX_LEN = 11 }; /* with its NUL */
lv_err lv_ac_change_key(const char *app, const char *env, const char *profile, lv_buf *out);

/* What a configuration profile's location is. */
typedef enum { LV_AC_LOC_HOSTED, LV_AC_LOC_SSM, LV_AC_LOC_OTHER } lv_ac_loc;
lv_ac_loc lv_ac_location(const char *uri, const char **ssm_name);

/* ---- reading the records (under the engine's read lock, or in a plan) ---- */
typedef bool (*lv_acview_fn)(void *arg, const lv_acrec *r); /* false: stop */
typedef struct lv_acview {
    const lv_acrec *(*get)(void *ctx, const char *key, size_t klen);
    /* Every record whose key starts with prefix, in key order. */
    void (*each)(void *ctx, const char *prefix, size_t plen, lv_acview_fn fn, void *arg);
    void *ctx;
} lv_acview;

const lv_acrec *lv_ac_get(const lv_acview *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t lv_ac_count(const lv_acview *v, const char *prefix);
/* A strategy by id: predefined or stored. */
const lv_acrec *lv_ac_strategy(const lv_acview *v, const char *id);
/* Resolves an application, environment or profile given by id or name
 * (an id match wins; else the first record, in key order, with that name). */
const lv_acrec *lv_ac_find_app(const lv_acview *v, const char *id_or_name);
const lv_acrec *lv_ac_find_env(const lv_acview *v, const char *app, const char *id_or_name);
const lv_acrec *lv_ac_find_profile(const lv_acview *v, const char *app, const char *id_or_name);
/* The newest deployment of the environment (any profile), or NULL. */
const lv_acrec *lv_ac_last_deployment(const lv_acview *v, const char *app, const char *env);
/* The deployment whose content the environment serves for profile: the
 * newest that is COMPLETE, or in progress (traffic is then split by its
 * percentage between DF_PREV_VERSION and DF_VERSION), skipping rolled back
 * and reverted ones. NULL: nothing. */
const lv_acrec *lv_ac_serving(const lv_acview *v, const char *app, const char *env, const char *profile);

/* ---- writes ---- */
typedef enum lv_acop {
    LV_ACOP_CREATE_APP, LV_ACOP_UPDATE_APP, LV_ACOP_DELETE_APP,
    LV_ACOP_CREATE_ENV, LV_ACOP_UPDATE_ENV, LV_ACOP_DELETE_ENV,
    LV_ACOP_CREATE_PROFILE, LV_ACOP_UPDATE_PROFILE, LV_ACOP_DELETE_PROFILE,
    LV_ACOP_CREATE_HOSTED, LV_ACOP_DELETE_HOSTED,
    LV_ACOP_CREATE_STRATEGY, LV_ACOP_UPDATE_STRATEGY, LV_ACOP_DELETE_STRATEGY,
    LV_ACOP_START_DEPLOYMENT, LV_ACOP_STOP_DEPLOYMENT,
    LV_ACOP_CREATE_EXT, LV_ACOP_UPDATE_EXT, LV_ACOP_DELETE_EXT,
    LV_ACOP_CREATE_ASSOC, LV_ACOP_UPDATE_ASSOC, LV_ACOP_DELETE_ASSOC,
    LV_ACOP_TAG, LV_ACOP_UNTAG,
    /* The rollout driver's writes (src/rollout): take step `step` of
     * deployment `number` (refused unless it is the next one of a
     * deployment in progress), and roll a deployment in progress back. */
    LV_ACOP_DEPLOY_STEP, LV_ACOP_ROLLBACK,
    /* Lever.StartLabelDeployment: app = region, env = parameter name,
     * profile = label; in: DF_VERSION (the new version), DF_PREV_VERSION
     * (the version the label is on, "" none: the front-end reads it from
     * the index), DF_STRATEGY, DF_DESC, DF_MONITORS. Step, rollback and
     * stop of a label rollout name its record key in target. */
    LV_ACOP_START_LABEL_DEPLOYMENT,
    /* The driver: alarm `alarm`, exempted by the override tag, was seen
     * out of ALARM during deployment `number` (or label rollout `target`):
     * it counts again from now on ("!<alarm>" in DF_OVERRIDE). */
    LV_ACOP_REARM_ALARM,
} lv_acop;

typedef struct lv_acreq {
    lv_acop op;
    const lv_acrec *in;      /* the given fields, of the op's kind (may be NULL for deletes) */
    const lv_acrec *tags;    /* kind 't': tags to attach at create / TagResource; NULL none */
    const char *app, *env, *profile, *id; /* ids from the path (already resolved) */
    int64_t number;          /* hosted version or deployment number */
    int64_t lock;            /* Latest-Version-Number / LatestVersionNumber; -1 none */
    bool allow_revert;
    const char *target;      /* TagResource/UntagResource/associations: record key */
    int64_t step;            /* LV_ACOP_DEPLOY_STEP: the step expected next */
    const char *by;          /* LV_ACOP_ROLLBACK: TriggeredBy (CLOUDWATCH_ALARM, APPCONFIG, INTERNAL_ERROR) */
    const char *reason;      /* LV_ACOP_ROLLBACK: the event's description */
    const char *alarm;       /* LV_ACOP_REARM_ALARM: the alarm name */
    char new_id[8];          /* a fresh random id for creates */
    int64_t now_ms;
} lv_acreq;

typedef struct lv_acplan_change {
    lv_change_kind kind;
    char *key;               /* owned change-log key */
    size_t klen;
    uint32_t number;         /* the deployment number */
} lv_acplan_change;

/* A label to move in the same write (a label rollout completing). */
typedef struct lv_acplan_label {
    char *region, *name, *label; /* owned; NULL: nothing to move */
    uint32_t version;
} lv_acplan_label;

typedef struct lv_acplan {
    lv_acrec **puts;         /* owned */
    size_t nputs, cap_puts;
    char **dels;             /* owned keys */
    size_t ndels, cap_dels;
    lv_acplan_change *chg;
    size_t nchg, cap_chg;
    lv_acrec *result;        /* one reference, or NULL (deletes) */
    lv_acplan_label move;
} lv_acplan;

/* Runs the rules of req against v. On LV_OK, out says what to store; on
 * error nothing is planned (out empty) and err says why, with AppConfig's
 * error codes (LV_E_AC_*). */
lv_err lv_ac_plan(const lv_acview *v, const lv_acreq *req, lv_acplan *out, lv_error *err);
void lv_acplan_free(lv_acplan *p);

/* Helpers shared by the plan files. */
lv_err lv_acplan_put(lv_acplan *p, lv_acrec *r);     /* consumes r */
lv_err lv_acplan_del(lv_acplan *p, const char *key);
lv_err lv_acplan_change_add(lv_acplan *p, lv_change_kind kind, const char *app, const char *env,
                            const char *profile, uint32_t number);
/* A change with the given change-log key (copied). */
lv_err lv_acplan_change_raw(lv_acplan *p, lv_change_kind kind, const char *key, size_t klen, uint32_t number);
lv_err lv_ac_plan_deploy(const lv_acview *v, const lv_acreq *req, lv_acplan *out, lv_error *err);
/* Adds a LV_CHANGE_AC_CONTENT change for every environment serving an
 * ssm-parameter://name profile deployed by label (core/ac_ssm.c). */
lv_err lv_ac_param_dependents(const lv_acview *v, const char *name, lv_acplan *out);
lv_err lv_ac_plan_ext(const lv_acview *v, const lv_acreq *req, lv_acplan *out, lv_error *err);
lv_err lv_ac_event(lv_acrec *d, const char *type, const char *by, const char *desc, int64_t ms);
/* The newest label rollout of LABEL of parameter name in region, or NULL;
 * lv_ac_label_prefix writes "l<region>|<name>|<label>|" (false: too long). */
const lv_acrec *lv_ac_label_deployment(const lv_acview *v, const char *region, const char *name, const char *label);
bool lv_ac_label_prefix(const char *region, const char *name, const char *label, char *out, size_t cap);
/* Whether d's DF_OVERRIDE says alarm counts again ("!<alarm>"). */
bool lv_ac_rearmed(const lv_acrec *d, const char *alarm);
/* DEPLOYING or BAKING (or VALIDATING). */
bool lv_ac_in_progress(const lv_acrec *d);
/* The tag of StartDeployment that exempts alarms already firing. */
#define LV_AC_OVERRIDE_TAG "lever:override-alarms"
/* How long after COMPLETE a deployment can be reverted (AWS: 72 hours). */
enum { LV_AC_REVERT_MS = 72 * 3600 * 1000 };

#endif
