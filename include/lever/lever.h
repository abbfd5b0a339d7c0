/* lever.h - liblever, the C client of lever: typed configuration getters with
 * layered fallback (environment > store > default), a TTL cache, live watch
 * callbacks, and the Parameter Store calls tools need. See docs/client.md. */
#ifndef LEVER_LEVER_H
#define LEVER_LEVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Conventions
 *
 * - Every function is thread-safe on one handle unless it says otherwise.
 *   Options objects are not shared: build them in one thread.
 * - Strings passed in are copied when the library keeps them; the caller
 *   keeps ownership of what it passes.
 * - Functions returning lever_status fill their out-parameters only on
 *   LEVER_OK. The human message of the most recent failure on a handle is
 *   available from lever_last_error().
 * - Memory the library hands out is freed with the function named at the
 *   declaration (lever_free for plain strings).
 * ---------------------------------------------------------------------- */

typedef enum lever_status {
    LEVER_OK = 0,
    LEVER_E_NOMEM,       /* an allocation failed */
    LEVER_E_INVALID,     /* a bad argument or a value the server rejected
                            (ValidationException, bad labels, ...) */
    LEVER_E_NOT_FOUND,   /* ParameterNotFound / ParameterVersionNotFound */
    LEVER_E_EXISTS,      /* ParameterAlreadyExists (put without overwrite) */
    LEVER_E_AUTH,        /* no credentials, or the server refused them */
    LEVER_E_UNREACHABLE, /* connection refused, timeout, DNS: no answer */
    LEVER_E_SERVER,      /* any other error the server answered */
    LEVER_E_PARSE,       /* a value or a response could not be parsed */
    LEVER_E_COMPACTED,   /* watch: the revision is older than the change
                            log; list again (RevisionCompactedException) */
    LEVER_E_UNSUPPORTED  /* the server does not know the operation */
} lever_status;

/* A static English name for a status ("not found"). Never NULL. */
const char *lever_status_str(lever_status s);

/* Where a getter's value came from. */
typedef enum lever_source {
    LEVER_SRC_DEFAULT = 0, /* the caller's default: no env var, not in the store
                              (or the store could not be asked and nothing
                              was cached: see lever_last_error) */
    LEVER_SRC_ENV,         /* the environment variable that maps to the key */
    LEVER_SRC_STORE,       /* fetched from leverd during this call */
    LEVER_SRC_CACHE,       /* from the cache, within its TTL (or kept
                              current by live mode) */
    LEVER_SRC_CACHE_STALE  /* from the cache, past its TTL, because leverd
                              could not be reached: the last good value */
} lever_source;

/* A static name for a source ("env", "store", "cache", "cache-stale",
 * "default"). Never NULL. */
const char *lever_source_str(lever_source s);

/* How a key maps to an environment variable (docs/client.md). With prefix
 * /myapp/prod/ and key features/USER_REGISTRATION_ENABLED:
 *   LEVER_ENV_LAST_SEGMENT  USER_REGISTRATION_ENABLED (the default)
 *   LEVER_ENV_FULL_PATH     FEATURES_USER_REGISTRATION_ENABLED
 *   LEVER_ENV_NONE          the environment is never consulted
 * Letters are uppercased, every other non-alphanumeric byte becomes '_',
 * and the env prefix (lever_options_set_env_prefix), if any, goes first. */
typedef enum lever_env_scheme {
    LEVER_ENV_LAST_SEGMENT = 0,
    LEVER_ENV_FULL_PATH,
    LEVER_ENV_NONE
} lever_env_scheme;

typedef enum lever_log_level {
    LEVER_LOG_DEBUG = 0,
    LEVER_LOG_INFO,
    LEVER_LOG_WARN,
    LEVER_LOG_ERROR
} lever_log_level;

/* Log sink. Called from any thread, including the live-mode thread, with
 * no library lock held; msg is valid only during the call. */
typedef void (*lever_log_fn)(lever_log_level level, const char *msg, void *user);

/* Clock for the cache, in milliseconds from an arbitrary origin (tests
 * inject one; the default is CLOCK_MONOTONIC). */
typedef int64_t (*lever_clock_fn)(void *user);

/* ------------------------------------------------------------------------
 * Options and the handle
 * ---------------------------------------------------------------------- */

typedef struct lever_options lever_options;
typedef struct lever lever;

/* A new options object with every setting at its default. NULL when out of
 * memory. Free with lever_options_free (lever_open does not take it). */
lever_options *lever_options_new(void);
void lever_options_free(lever_options *o);

/* Each setter copies its strings; NULL resets to the default. They return
 * LEVER_E_INVALID for an unusable value, LEVER_E_NOMEM when a copy fails. */

/* Server URL. Default: LEVER_ENDPOINT, else http://127.0.0.1:7447. */
lever_status lever_options_set_endpoint(lever_options *o, const char *url);
/* Signing region. Default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
lever_status lever_options_set_region(lever_options *o, const char *region);
/* Explicit credentials (session_token may be NULL); they win over every
 * other source. */
lever_status lever_options_set_credentials(lever_options *o, const char *access_key_id,
                                           const char *secret_access_key,
                                           const char *session_token);
/* Profile of the shared credentials file. Default: AWS_PROFILE, else "default".
 * Setting it explicitly also makes the profile win over AWS_ACCESS_KEY_ID. */
lever_status lever_options_set_profile(lever_options *o, const char *profile);
/* Path prefix keys are relative to ("/myapp/prod/"; a missing leading or
 * trailing '/' is added). Default: none, keys are full names. */
lever_status lever_options_set_prefix(lever_options *o, const char *prefix);
lever_status lever_options_set_env_scheme(lever_options *o, lever_env_scheme scheme);
/* Prepended to every mapped env name ("MYAPP_"); used as given. */
lever_status lever_options_set_env_prefix(lever_options *o, const char *env_prefix);
/* Cache time-to-live in ms. Default 30000. 0: every get asks leverd (the
 * last good value is still kept, to be served stale when leverd is down). */
lever_status lever_options_set_cache_ttl_ms(lever_options *o, int64_t ttl_ms);
/* Prefetch: with a prefix, the first get (and each refresh) lists the whole
 * prefix with GetParametersByPath instead of fetching one name. Default on. */
lever_status lever_options_set_prefetch(lever_options *o, bool on);
/* Live mode: a background thread watches the prefix (Lever.WatchParameters)
 * and keeps the cache current; registered callbacks fire on change. Needs
 * a prefix. Default off. */
lever_status lever_options_set_live(lever_options *o, bool on);
/* Per-request timeout in ms (default 5000) and connect timeout (2000). */
lever_status lever_options_set_timeout_ms(lever_options *o, int64_t request_ms, int64_t connect_ms);
/* How long a live watch waits on the server per request, 1-60 s (default 20). */
lever_status lever_options_set_watch_wait_s(lever_options *o, int wait_s);
lever_status lever_options_set_log(lever_options *o, lever_log_fn fn, void *user);
lever_status lever_options_set_clock(lever_options *o, lever_clock_fn fn, void *user);

/* Opens a handle. Resolves endpoint, region and credentials (see
 * docs/client.md for the order); does not contact the server, so a service
 * starts even when leverd is down. On failure *out is NULL and, when errbuf
 * is not NULL, a message is written there (truncated to errlen).
 * Errors: LEVER_E_NOMEM, LEVER_E_INVALID, LEVER_E_AUTH (no credentials
 * anywhere, or an unreadable credentials file named by the environment). */
lever_status lever_open(const lever_options *o, lever **out, char *errbuf, size_t errlen);

/* Stops live mode (joins its thread; no callback runs after this returns)
 * and frees everything. NULL is a no-op. */
void lever_close(lever *c);

/* Status and message of the most recent failure on this handle, from any
 * thread (getters record why they fell back to a stale value or the
 * default). Copies at most buflen-1 bytes into buf (may be NULL).
 * LEVER_OK when nothing failed since open or lever_clear_error. */
lever_status lever_last_error(lever *c, char *buf, size_t buflen);
void lever_clear_error(lever *c);

/* The resolved settings, for tools that print them. Valid until lever_close. */
const char *lever_endpoint(const lever *c);
const char *lever_region(const lever *c);
const char *lever_prefix(const lever *c); /* "" when none */

/* Frees a string the library returned. NULL is a no-op. */
void lever_free(void *p);

/* ------------------------------------------------------------------------
 * Typed getters: env > store (through the cache) > default
 *
 * key is relative to the prefix ("features/X") or, when it starts with '/',
 * a full name. src (may be NULL) receives where the value came from. A
 * value that does not parse as the wanted type (an env var "maybe" for a
 * bool) is skipped with a warning logged and recorded in lever_last_error,
 * and the next layer is used. A SecureString is decrypted.
 * ---------------------------------------------------------------------- */

/* Returns a newly allocated string (free with lever_free), or a copy of def;
 * NULL when def is NULL and no layer has the key, or when out of memory
 * (lever_last_error says LEVER_E_NOMEM). */
char *lever_get_string(lever *c, const char *key, const char *def, lever_source *src);
/* Decimal, optional sign, surrounding blanks allowed. */
int64_t lever_get_int(lever *c, const char *key, int64_t def, lever_source *src);
/* strtod syntax; must be finite. */
double lever_get_double(lever *c, const char *key, double def, lever_source *src);
/* true/false, yes/no, on/off, 1/0 (any case). */
bool lever_get_bool(lever *c, const char *key, bool def, lever_source *src);
/* Duration in milliseconds: "250ms", "30s", "5m", "1h30m", "1.5h", "2d";
 * a bare number is seconds. */
int64_t lever_get_duration_ms(lever *c, const char *key, int64_t def_ms, lever_source *src);
/* A comma-separated list (StringList, or any value), items trimmed of
 * blanks; def is parsed the same way (NULL = empty list). Returns a
 * NULL-terminated array with the count in *count (may be NULL); free it
 * with lever_strlist_free. NULL only when out of memory. */
char **lever_get_list(lever *c, const char *key, const char *def, size_t *count,
                      lever_source *src);
void lever_strlist_free(char **list);

/* Fetches the whole prefix into the cache now (GetParametersByPath,
 * recursive, decrypted, every page). The getters do this lazily; call it at
 * start to fail fast. Errors as for lever_list_path. */
lever_status lever_prefetch(lever *c);

/* The env var name a key maps to under this handle's scheme. Newly
 * allocated (lever_free); NULL with LEVER_ENV_NONE or out of memory. */
char *lever_env_name(lever *c, const char *key);

/* ------------------------------------------------------------------------
 * Live mode
 * ---------------------------------------------------------------------- */

/* Called from the live thread after the cache has been updated, with no
 * library lock held (it may call getters). key is relative to the prefix,
 * name is the full name, value the new (decrypted) value or NULL when the
 * parameter was deleted or expired. Pointers are valid during the call. */
typedef void (*lever_change_fn)(lever *c, const char *key, const char *name,
                                const char *value, void *user);

/* Registers a callback for changes of one key (key non-NULL) or of every
 * name under the prefix (key NULL). *id (may be NULL) receives a handle for
 * lever_unsubscribe. Works without live mode too (nothing fires then).
 * Errors: LEVER_E_NOMEM, LEVER_E_INVALID. */
lever_status lever_subscribe(lever *c, const char *key, lever_change_fn fn, void *user,
                             uint64_t *id);
/* After it returns, the callback is not running and will not run again.
 * Must not be called from inside a callback of the same handle. */
lever_status lever_unsubscribe(lever *c, uint64_t id);

/* Whether the live watch is connected and current (false when live mode is
 * off, while reconnecting, or when it fell back to TTL polling because
 * the server has no watch operation). */
bool lever_live_connected(lever *c);
/* Counters for observability and tests: completed re-lists (the first
 * prefetch counts) and reconnects after an error. Either may be NULL. */
void lever_live_stats(lever *c, uint64_t *relists, uint64_t *reconnects);

/* ------------------------------------------------------------------------
 * Parameter records (list, history, describe, fetch)
 * ---------------------------------------------------------------------- */

typedef struct lever_param lever_param;
typedef struct lever_param_list lever_param_list;

/* Accessors. Strings are owned by the record (valid until it or its list is
 * freed); absent fields give NULL (0 for numbers). */
const char *lever_param_name(const lever_param *p);
const char *lever_param_value(const lever_param *p);
const char *lever_param_type(const lever_param *p);      /* "String", "StringList", "SecureString" */
int64_t lever_param_version(const lever_param *p);
double lever_param_last_modified(const lever_param *p);  /* seconds since the epoch */
const char *lever_param_data_type(const lever_param *p);
const char *lever_param_selector(const lever_param *p);
const char *lever_param_arn(const lever_param *p);
/* Describe and history only: */
const char *lever_param_description(const lever_param *p);
const char *lever_param_tier(const lever_param *p);
const char *lever_param_allowed_pattern(const lever_param *p);
const char *lever_param_key_id(const lever_param *p);
const char *lever_param_last_modified_user(const lever_param *p);
size_t lever_param_label_count(const lever_param *p);
const char *lever_param_label(const lever_param *p, size_t i);
void lever_param_free(lever_param *p);

size_t lever_param_list_count(const lever_param_list *l);
/* Borrowed: valid until lever_param_list_free. NULL when i is out of range. */
const lever_param *lever_param_list_at(const lever_param_list *l, size_t i);
void lever_param_list_free(lever_param_list *l);

/* GetParameter: name may carry a selector ("/a/b:3", "/a/b:prod"). Bypasses
 * the cache and the environment. *out: free with lever_param_free.
 * Errors: NOT_FOUND, AUTH, UNREACHABLE, SERVER, INVALID, NOMEM. */
lever_status lever_fetch(lever *c, const char *name, bool decrypt, lever_param **out);

/* GetParametersByPath over every page, sorted by name. revision (may be
 * NULL) receives the store revision the listing started at (0 when the
 * server does not say). *out: free with lever_param_list_free. */
lever_status lever_list_path(lever *c, const char *path, bool recursive, bool decrypt,
                             lever_param_list **out, uint64_t *revision);

/* GetParameterHistory over every page, oldest first. */
lever_status lever_history(lever *c, const char *name, bool decrypt, lever_param_list **out);

/* DescribeParameters (metadata, no values) for names under path (recursive
 * or one level), every page, sorted by name. path "/" is everything. */
lever_status lever_describe(lever *c, const char *path, bool recursive, lever_param_list **out);

/* ------------------------------------------------------------------------
 * Writes
 * ---------------------------------------------------------------------- */

#define LEVER_PUT_OVERWRITE 0x1u

/* PutParameter. type is "String", "StringList" or "SecureString" (NULL =
 * String for a new name, unchanged for an existing one). description,
 * tier ("Standard"/"Advanced"/"Intelligent-Tiering") and allowed_pattern
 * may be NULL. version (may be NULL) receives the new version. The
 * handle's cache entry for the name is dropped. */
lever_status lever_put(lever *c, const char *name, const char *value, const char *type,
                       unsigned flags, const char *description, const char *tier,
                       const char *allowed_pattern, int64_t *version);
/* DeleteParameter. */
lever_status lever_delete(lever *c, const char *name);
/* LabelParameterVersion: version 0 = latest. Labels the server refuses make
 * the call fail with LEVER_E_INVALID naming them. */
lever_status lever_label(lever *c, const char *name, int64_t version,
                         const char *const *labels, size_t nlabels);
/* UnlabelParameterVersion (version required). Labels that were not on the
 * version give LEVER_E_INVALID naming them. */
lever_status lever_unlabel(lever *c, const char *name, int64_t version,
                           const char *const *labels, size_t nlabels);

/* ------------------------------------------------------------------------
 * Raw watch (for tools; services use live mode)
 * ---------------------------------------------------------------------- */

typedef struct lever_change_list lever_change_list;

/* Lever.WatchParameters: changes under path with a revision above since,
 * waiting up to wait_s seconds (0-60). *next receives the revision to pass
 * next time. *out: free with lever_change_list_free.
 * Errors: COMPACTED (list again), UNSUPPORTED, and those of any call. */
lever_status lever_watch(lever *c, const char *path, bool recursive, uint64_t since,
                         int wait_s, lever_change_list **out, uint64_t *next);
size_t lever_change_count(const lever_change_list *l);
/* Borrowed strings, valid until lever_change_list_free; NULL out of range. */
const char *lever_change_kind(const lever_change_list *l, size_t i); /* "Put", "Delete", ... */
const char *lever_change_name(const lever_change_list *l, size_t i);
uint64_t lever_change_revision(const lever_change_list *l, size_t i);
int64_t lever_change_version(const lever_change_list *l, size_t i);
double lever_change_time(const lever_change_list *l, size_t i);
void lever_change_list_free(lever_change_list *l);

/* ------------------------------------------------------------------------
 * AppConfig configurations
 *
 * The configuration an AppConfig environment serves, read through the
 * handle's cache with the getters' rules: fresh within the cache TTL, the
 * last good copy served (LEVER_SRC_CACHE_STALE) when leverd cannot be
 * reached, and kept current by a watch (Lever.WatchConfigurations) while
 * anything subscribes to it or, in live mode, once it has been read. app,
 * env and profile are names or ids. The handle's client id is random per
 * handle unless set with lever_options_set_client_id. During a gradual
 * deployment the handle holds both the old and the new version and gives
 * the client id's side by the published bucketing (lever_bucket), as
 * leverd would; each step and a rollback reach it through the watch.
 * ---------------------------------------------------------------------- */

typedef struct lever_configuration lever_configuration;

/* The published bucketing (docs/bucketing.md): entity's bucket under seed,
 * 0..9999 (basis points), lengths in bytes. An entity is in a share of P
 * percent when its bucket is below lever_bucket_threshold(P). The same
 * function as leverd's and lever-agent's, for an application's own splits. */
uint32_t lever_bucket(const char *seed, size_t seed_len, const char *entity, size_t entity_len);
uint32_t lever_bucket_threshold(double percentage);

/* The client id sent with every configuration read, and as
 * X-Lever-Entity-Id with every GetParameter (the entity of label
 * rollouts); 1-256 printable ASCII characters; NULL = random per handle. */
lever_status lever_options_set_client_id(lever_options *o, const char *client_id);

/* Reads the configuration. *out: free with lever_configuration_free. src
 * (may be NULL) says where it came from (STORE, CACHE, CACHE_STALE).
 * Errors: NOT_FOUND (no such application, environment or profile, or
 * nothing deployed), UNREACHABLE (and nothing cached), AUTH, INVALID,
 * SERVER, NOMEM. */
lever_status lever_get_configuration(lever *c, const char *app, const char *env, const char *profile,
                                     lever_configuration **out, lever_source *src);

/* Accessors; valid until lever_configuration_free. The data is followed by
 * a NUL byte not counted in *len (text configurations are C strings). */
const char *lever_configuration_data(const lever_configuration *cfg, size_t *len);
const char *lever_configuration_content_type(const lever_configuration *cfg);
const char *lever_configuration_version(const lever_configuration *cfg);
void lever_configuration_free(lever_configuration *cfg);

/* Called from the handle's configuration watch thread after a changed
 * configuration has been stored, with no library lock held (it may call
 * lever_get_configuration, which then answers from the cache). cfg is
 * valid during the call only. app/env/profile are as subscribed. */
typedef void (*lever_configuration_fn)(lever *c, const char *app, const char *env, const char *profile,
                                       const lever_configuration *cfg, void *user);

/* Subscribes to a configuration: reads it (as lever_get_configuration, so
 * an error is reported at once), then keeps it current through the watch
 * and calls fn on every change of its content or version. *id (may be
 * NULL) is for lever_unsubscribe_configuration. */
lever_status lever_subscribe_configuration(lever *c, const char *app, const char *env, const char *profile,
                                           lever_configuration_fn fn, void *user, uint64_t *id);
/* After it returns the callback is not running and will not run again. Must
 * not be called from inside a callback of the same handle. */
lever_status lever_unsubscribe_configuration(lever *c, uint64_t id);

/* One SigV4-signed REST call (for tools: lever appconfig): service
 * ("appconfig"), method, path with an optional encoded query, extra
 * headers as "Name: value" strings (NULL-terminated list, may be NULL),
 * an optional body. Any HTTP answer gives LEVER_OK with *out holding it
 * (check lever_response_status); only transport failures fail.
 * *out: free with lever_response_free. */
typedef struct lever_response lever_response;
lever_status lever_call_rest(lever *c, const char *service, const char *method, const char *path_query,
                             const char *const *headers, const void *body, size_t body_len,
                             lever_response **out);
long lever_response_status(const lever_response *r);
/* The body (NUL-terminated, the NUL not counted in *len). */
const char *lever_response_body(const lever_response *r, size_t *len);
/* A header's value (case-insensitive name), or NULL. Valid until free. */
const char *lever_response_header(lever_response *r, const char *name);
/* The AWS error code of an error answer ("" on success). */
const char *lever_response_error(const lever_response *r);
void lever_response_free(lever_response *r);

/* ------------------------------------------------------------------------
 * Feature flags (docs/flags.md, docs/client.md)
 *
 * A flag source is one AWS.AppConfig.FeatureFlags profile of an
 * environment, read in its stored form (flags, values, _variants and their
 * rules), compiled once per version and evaluated in-process by the same
 * evaluator as lever-agent and leverd. A watch (Lever.WatchConfigurations)
 * keeps it current from the moment it is opened: a new deployment reaches
 * the next evaluation without waiting for a TTL. Evaluations from several
 * threads at once are safe and do not touch the network while the document
 * is current.
 *
 * Every accessor is layered like the getters: an environment variable, then
 * the flag document, then the caller's default. The variable of a flag's
 * value is named after the flag (and attribute) with the handle's env
 * scheme rules: letters uppercased, any other non-alphanumeric byte '_',
 * the env prefix first, and LEVER_ENV_NONE turns it off:
 *   enabled                  <FLAG>_ENABLED        user_registration -> USER_REGISTRATION_ENABLED
 *   attribute NAME           <FLAG>_<NAME>         cache, balance_ttl -> CACHE_BALANCE_TTL
 *   variant                  <FLAG>_VARIANT
 * src (may be NULL) says which layer answered: LEVER_SRC_ENV, the
 * document (LEVER_SRC_CACHE while current, LEVER_SRC_STORE when fetched
 * during the call, LEVER_SRC_CACHE_STALE when leverd is unreachable and the
 * last good version answered), or LEVER_SRC_DEFAULT.
 *
 * Unlike the rest of the API, the accessors always fill *out: with the
 * answer (LEVER_OK), or with def, and then they return why no layer
 * answered (the message is in lever_flags_last_error):
 *   LEVER_E_NOT_FOUND  no such flag, no such attribute, or the flag is
 *                      disabled (a disabled flag serves no attributes)
 *   LEVER_E_INVALID    the attribute has another type than the accessor's,
 *                      or a bad argument
 *   LEVER_E_UNREACHABLE / AUTH / SERVER  the document could not be read
 *                      and nothing was cached
 *   LEVER_E_PARSE      the profile's content is not a flag document
 * An environment value that does not parse as the type (an
 * _ENABLED of "maybe") is skipped with a warning and the document answers.
 * ---------------------------------------------------------------------- */

typedef struct lever_flags lever_flags;

/* One context value. value is text; type says how rules compare it
 * (numbers compare as numbers, booleans as true/false). */
typedef enum lever_ctx_type { LEVER_CTX_STRING = 0, LEVER_CTX_NUMBER, LEVER_CTX_BOOL } lever_ctx_type;
typedef struct lever_ctx_kv {
    const char *key;
    const char *value;
    lever_ctx_type type;
} lever_ctx_kv;

/* What a flag is evaluated for: the $context keys of the rules and the
 * entity id that split without by:: buckets (NULL: none, such a split is
 * false). Borrowed for the call only. A NULL context evaluates as
 * AppConfig Data serves: every multi-variant flag answers its default
 * variant. */
typedef struct lever_context {
    const lever_ctx_kv *kv;
    size_t n;
    const char *entity_id;
} lever_context;

/* Opens the flag source of app/env/profile (names or ids) on c: reads it
 * (errors as lever_get_configuration, and LEVER_E_PARSE when the profile
 * does not hold a flag document) and subscribes to it. fn (may be NULL) is
 * called from the handle's watch thread after a new version has been
 * compiled and is the one evaluations use, with no library lock held;
 * version is the configuration version. *out: close with
 * lever_flags_close before lever_close. */
typedef void (*lever_flags_fn)(lever_flags *f, const char *version, void *user);
lever_status lever_flags_open(lever *c, const char *app, const char *env, const char *profile,
                              lever_flags_fn fn, void *user, lever_flags **out);

/* A flag source over a document in memory (a file, a test): the stored
 * form, validated with leverd's rules. o (may be NULL) gives the env
 * scheme and prefix of the environment layer. On failure *out is NULL and
 * errbuf (may be NULL) receives the first violation. Errors: PARSE, NOMEM. */
lever_status lever_flags_from_document(const lever_options *o, const char *json, size_t len,
                                       lever_flags **out, char *errbuf, size_t errlen);

/* Unsubscribes (no callback runs after it returns; not from inside one)
 * and frees. NULL is a no-op. */
void lever_flags_close(lever_flags *f);

/* The configuration version the source evaluates ("" for a document).
 * Copies at most buflen-1 bytes. */
void lever_flags_version(lever_flags *f, char *buf, size_t buflen);
/* The most recent failure of an accessor on this source (LEVER_OK: none). */
lever_status lever_flags_last_error(lever_flags *f, char *buf, size_t buflen);

/* Whether the flag is on for ctx. */
lever_status lever_flag_enabled(lever_flags *f, const char *flag, const lever_context *ctx, bool def,
                                bool *out, lever_source *src);
/* The chosen variant's name (free with lever_free; a copy of def, which may
 * be NULL, otherwise). A flag without variants has none: NOT_FOUND. */
lever_status lever_flag_variant(lever_flags *f, const char *flag, const lever_context *ctx, const char *def,
                                char **out, lever_source *src);
/* An attribute of the value the flag serves for ctx, type checked: a
 * boolean; an integer (a JSON number without a fraction, within int64); a
 * number; a string (free with lever_free; a copy of def, may be NULL). */
lever_status lever_flag_bool(lever_flags *f, const char *flag, const char *attr, const lever_context *ctx,
                             bool def, bool *out, lever_source *src);
lever_status lever_flag_int(lever_flags *f, const char *flag, const char *attr, const lever_context *ctx,
                            int64_t def, int64_t *out, lever_source *src);
lever_status lever_flag_double(lever_flags *f, const char *flag, const char *attr, const lever_context *ctx,
                               double def, double *out, lever_source *src);
lever_status lever_flag_string(lever_flags *f, const char *flag, const char *attr, const lever_context *ctx,
                               const char *def, char **out, lever_source *src);

/* OpenFeature's resolution reasons. */
typedef enum lever_flag_reason {
    LEVER_FLAG_STATIC = 0,      /* no variants, enabled */
    LEVER_FLAG_DISABLED,        /* no variants, disabled */
    LEVER_FLAG_TARGETING_MATCH, /* a variant's rule matched */
    LEVER_FLAG_SPLIT,           /* ... decided by a split */
    LEVER_FLAG_DEFAULT,         /* no rule matched: the default variant */
    LEVER_FLAG_ERROR            /* a rule could not run: the default variant */
} lever_flag_reason;
/* "STATIC", "DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT", "ERROR". */
const char *lever_flag_reason_str(lever_flag_reason r);

/* The whole evaluation, from the document only (no environment layer), for
 * tools and tests: enabled, the variant (NULL: none), the reason, and
 * value_json, the served object as compact JSON ({"enabled": b, attributes
 * when enabled}) -- what lever-agent serves for the flag, without
 * "_variant". Strings are owned by the result. Errors: NOT_FOUND (no such
 * flag: *out is then still filled, off with reason ERROR, as OpenFeature's
 * FLAG_NOT_FOUND), those of reading the document, NOMEM. */
typedef struct lever_flag_result {
    bool enabled;
    lever_flag_reason reason;
    char *variant;
    char *value_json;
    lever_source src;
} lever_flag_result;
lever_status lever_flag_evaluate(lever_flags *f, const char *flag, const lever_context *ctx,
                                 lever_flag_result *out);
/* Frees the strings of a result (not the struct). */
void lever_flag_result_clear(lever_flag_result *r);

/* The env var name of a flag's value under this source's scheme: attr
 * NULL for enabled, "_variant" for the variant, else the attribute.
 * Newly allocated (lever_free); NULL with LEVER_ENV_NONE or out of memory. */
char *lever_flag_env_name(lever_flags *f, const char *flag, const char *attr);

/* ------------------------------------------------------------------------
 * Generic calls (for tools: lever admin)
 * ---------------------------------------------------------------------- */

/* One signed AWS JSON 1.1 call: target is "Lever.CreateAccessKey",
 * "AmazonSSM.GetParameter", or a bare operation name (AmazonSSM. is then
 * assumed); request_json is the body (NULL = "{}"). On LEVER_OK
 * *answer_json (free with lever_free) holds the response body as compact
 * JSON text. The server's error message is in lever_last_error.
 * Errors: INVALID (request_json is not a JSON object, or the server
 * refused the request), AUTH, UNREACHABLE, SERVER, UNSUPPORTED, NOMEM. */
lever_status lever_call_json(lever *c, const char *target, const char *request_json, char **answer_json);

#ifdef __cplusplus
}
#endif

#endif
