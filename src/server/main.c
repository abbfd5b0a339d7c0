/* main.c - leverd: configuration, wiring of engine, router and listener,
 * and a clean stop on SIGTERM / SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alarm/alarms.h"
#include "api/admin.h"
#include "api/audit.h"
#include "api/router.h"
#include "api/throttle.h"
#include "auth/keys.h"
#include "auth/keystore.h"
#include "core/hex.h"
#include "engine/engine.h"
#include "hooks/hooks.h"
#include "http/cpus.h"
#include "http/http.h"
#include "rollout/rollout.h"
#include "store/leader.h"
#include "store/store.h"

#ifndef LEVER_VERSION
#define LEVER_VERSION "0.1.0"
#endif

typedef struct config {
    const char *data;
    const char *listen;
    const char *store;
    const char *region;
    const char *account;
    unsigned threads;
    size_t changelog;
    uint64_t feed_retention;
    const char *audit_log;        /* NULL: <data>/audit.log */
    uint64_t audit_max;
    unsigned audit_keep;
    lv_throttle_config throttle;
    const char *tls_cert, *tls_key;
    unsigned max_connections;
    unsigned conn_timeout;
    const char *restore;
    unsigned console_idle, console_max; /* console session lifetimes, seconds */
    double time_scale;
    const char *am_token_file;
    const char *hook_key_file;    /* NULL: <data>/hooks.key, made on first start */
    unsigned hook_timeout;        /* seconds, before --time-scale */
} config;

static void usage(FILE *f)
{
    fputs("usage: leverd [options]\n"
          "\n"
          "A self-hosted parameter store that speaks the AWS SSM Parameter Store API.\n"
          "\n"
          "options (each has an environment twin, used when the flag is absent):\n"
          "  --data DIR          data directory (LEVER_DATA, default ./lever-data)\n"
          "  --listen HOST:PORT  address to serve on (LEVER_LISTEN, default 127.0.0.1:7447)\n"
          "  --store URI         storage backend (LEVER_STORE, default sqlite:<DIR>/lever.db)\n"
          "  --region R          region shown in hints (LEVER_REGION, default us-east-1);\n"
          "                      requests use the region they are signed for\n"
          "  --account-id N      account id in ARNs (LEVER_ACCOUNT_ID, default 000000000000)\n"
          "  --threads N         HTTP event loops (LEVER_THREADS, default: the CPUs this\n"
          "                      process may use: affinity mask, cgroup quota)\n"
          "  --changelog-size N  changes kept for watchers (LEVER_CHANGELOG_SIZE, default 100000)\n"
          "  --feed-retention N  revisions the store keeps deletions for other nodes' change\n"
          "                      feed (LEVER_FEED_RETENTION, default 1000000); a node further\n"
          "                      behind loads the whole store again\n"
          "  --audit-log FILE    audit log (LEVER_AUDIT_LOG, default <DIR>/audit.log)\n"
          "  --audit-max-size N  rotate the audit log at N bytes (LEVER_AUDIT_MAX_SIZE,\n"
          "                      default 67108864; 0 = never)\n"
          "  --audit-keep N      rotated audit files kept (LEVER_AUDIT_KEEP, default 5)\n"
          "  --throttle-read R[:B]   per-key read limit, requests/s and burst\n"
          "                      (LEVER_THROTTLE_READ, default off)\n"
          "  --throttle-write R[:B]  per-key write limit (LEVER_THROTTLE_WRITE, default off)\n"
          "  --throttle-root     apply the per-key limits to the root key too (LEVER_THROTTLE_ROOT=1)\n"
          "  --aws-quotas        AWS's default Parameter Store quotas, account-wide\n"
          "                      (LEVER_AWS_QUOTAS=1); see docs/security.md\n"
          "  --tls-cert FILE     serve HTTPS with this PEM certificate chain (LEVER_TLS_CERT)\n"
          "  --tls-key FILE      and this PEM private key (LEVER_TLS_KEY)\n"
          "  --max-connections N concurrent connections; more get 503 (LEVER_MAX_CONNECTIONS,\n"
          "                      default 1024)\n"
          "  --conn-timeout S    idle connection timeout in seconds (LEVER_CONN_TIMEOUT, default 60)\n"
          "  --console-idle S    console sessions end after S idle seconds (LEVER_CONSOLE_IDLE,\n"
          "                      default 1800)\n"
          "  --console-lifetime S  and S seconds after sign-in in any case (LEVER_CONSOLE_LIFETIME,\n"
          "                      default 43200)\n"
          "  --restore FILE      restore a backup (lever admin backup) into an empty data\n"
          "                      directory, then serve it\n"
          "  --time-scale F      run every deployment clock (steps, bake time, alarm probes)\n"
          "                      F times faster, for tests and demos (LEVER_TIME_SCALE, default 1)\n"
          "  --alertmanager-token-file FILE  accept Prometheus Alertmanager webhooks on\n"
          "                      POST /alertmanager with this bearer token\n"
          "                      (LEVER_ALERTMANAGER_TOKEN_FILE; default off)\n"
          "  --hook-key-file FILE  HMAC-SHA256 key that signs extension webhook calls\n"
          "                      (X-Lever-Signature; LEVER_HOOK_KEY_FILE, default <DIR>/hooks.key,\n"
          "                      made on first start)\n"
          "  --hook-timeout S    seconds a webhook may take before it counts as failed\n"
          "                      (LEVER_HOOK_TIMEOUT, default 10; divided by --time-scale,\n"
          "                      never below 1 second)\n"
          "  -h, --help          this text\n"
          "  -V, --version       print the version\n"
          "\n"
          "other environment:\n"
          "  LEVER_ROOT_ACCESS_KEY_ID, LEVER_ROOT_SECRET_ACCESS_KEY  provision the root key\n"
          "  LEVER_MASTER_KEY_FILE  SecureString master key (default <DIR>/master.key)\n"
          "  LEVER_ALERTMANAGER_TOKEN  the Alertmanager bearer token itself (instead of a file)\n"
          "\n"
          "On first start leverd writes <DIR>/credentials (AWS shared-credentials format).\n",
          f);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* "R" or "R:B": requests per second and burst (default: one second's worth). */
static int parse_rate(const char *s, const char *flag, double *rate, double *burst)
{
    *rate = *burst = 0;
    if (s == NULL)
        return 0;
    char *end;
    double r = strtod(s, &end), b = 0;
    if (end != s && *end == ':') {
        const char *bs = end + 1;
        b = strtod(bs, &end);
        if (end == bs)
            b = -1;
    }
    if (end == s || *end != '\0' || !(r > 0) || r > 1e9 || b < 0 || b > 1e9) {
        fprintf(stderr, "leverd: %s takes RATE or RATE:BURST (requests per second, > 0)\n", flag);
        return -1;
    }
    *rate = r;
    *burst = b > 0 ? b : r;
    return 0;
}

static int parse_args(int argc, char **argv, config *c)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"store", required_argument, NULL, 's'},
        {"region", required_argument, NULL, 'r'},
        {"account-id", required_argument, NULL, 'a'},
        {"threads", required_argument, NULL, 't'},
        {"changelog-size", required_argument, NULL, 'c'},
        {"audit-log", required_argument, NULL, 1001},
        {"audit-max-size", required_argument, NULL, 1002},
        {"audit-keep", required_argument, NULL, 1003},
        {"throttle-read", required_argument, NULL, 1004},
        {"throttle-write", required_argument, NULL, 1005},
        {"throttle-root", no_argument, NULL, 1006},
        {"aws-quotas", no_argument, NULL, 1007},
        {"tls-cert", required_argument, NULL, 1008},
        {"tls-key", required_argument, NULL, 1009},
        {"max-connections", required_argument, NULL, 1010},
        {"conn-timeout", required_argument, NULL, 1011},
        {"restore", required_argument, NULL, 1012},
        {"console-idle", required_argument, NULL, 1013},
        {"console-lifetime", required_argument, NULL, 1014},
        {"time-scale", required_argument, NULL, 1015},
        {"alertmanager-token-file", required_argument, NULL, 1016},
        {"hook-key-file", required_argument, NULL, 1017},
        {"hook-timeout", required_argument, NULL, 1018},
        {"feed-retention", required_argument, NULL, 1019},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    c->data = env_or("LEVER_DATA", "./lever-data");
    c->listen = env_or("LEVER_LISTEN", "127.0.0.1:7447");
    c->store = env_or("LEVER_STORE", NULL);
    c->region = env_or("LEVER_REGION", "us-east-1");
    c->account = env_or("LEVER_ACCOUNT_ID", "000000000000");
    const char *threads = env_or("LEVER_THREADS", "0");
    const char *changelog = env_or("LEVER_CHANGELOG_SIZE", "100000");
    c->audit_log = env_or("LEVER_AUDIT_LOG", NULL);
    const char *audit_max = env_or("LEVER_AUDIT_MAX_SIZE", "67108864");
    const char *audit_keep = env_or("LEVER_AUDIT_KEEP", "5");
    const char *th_read = env_or("LEVER_THROTTLE_READ", NULL);
    const char *th_write = env_or("LEVER_THROTTLE_WRITE", NULL);
    memset(&c->throttle, 0, sizeof c->throttle);
    c->throttle.include_root = strcmp(env_or("LEVER_THROTTLE_ROOT", "0"), "1") == 0;
    c->throttle.aws_quotas = strcmp(env_or("LEVER_AWS_QUOTAS", "0"), "1") == 0;
    c->tls_cert = env_or("LEVER_TLS_CERT", NULL);
    c->tls_key = env_or("LEVER_TLS_KEY", NULL);
    const char *max_conn = env_or("LEVER_MAX_CONNECTIONS", "1024");
    const char *conn_timeout = env_or("LEVER_CONN_TIMEOUT", "60");
    c->restore = NULL;
    const char *console_idle = env_or("LEVER_CONSOLE_IDLE", "1800");
    const char *console_max = env_or("LEVER_CONSOLE_LIFETIME", "43200");
    const char *time_scale = env_or("LEVER_TIME_SCALE", "1");
    c->am_token_file = env_or("LEVER_ALERTMANAGER_TOKEN_FILE", NULL);
    c->hook_key_file = env_or("LEVER_HOOK_KEY_FILE", NULL);
    const char *hook_timeout = env_or("LEVER_HOOK_TIMEOUT", "10");
    const char *feed_retention = env_or("LEVER_FEED_RETENTION", "1000000");
    int ch;
    while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': c->data = optarg; break;
        case 'l': c->listen = optarg; break;
        case 's': c->store = optarg; break;
        case 'r': c->region = optarg; break;
        case 'a': c->account = optarg; break;
        case 't': threads = optarg; break;
        case 'c': changelog = optarg; break;
        case 1001: c->audit_log = optarg; break;
        case 1002: audit_max = optarg; break;
        case 1003: audit_keep = optarg; break;
        case 1004: th_read = optarg; break;
        case 1005: th_write = optarg; break;
        case 1006: c->throttle.include_root = true; break;
        case 1007: c->throttle.aws_quotas = true; break;
        case 1008: c->tls_cert = optarg; break;
        case 1009: c->tls_key = optarg; break;
        case 1010: max_conn = optarg; break;
        case 1011: conn_timeout = optarg; break;
        case 1012: c->restore = optarg; break;
        case 1013: console_idle = optarg; break;
        case 1014: console_max = optarg; break;
        case 1015: time_scale = optarg; break;
        case 1016: c->am_token_file = optarg; break;
        case 1017: c->hook_key_file = optarg; break;
        case 1018: hook_timeout = optarg; break;
        case 1019: feed_retention = optarg; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("leverd %s\n", LEVER_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "leverd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    char *end;
    long ci = strtol(console_idle, &end, 10);
    long cm = *end == '\0' ? strtol(console_max, &end, 10) : 0;
    if (*end != '\0' || ci < 1 || ci > 31536000 || cm < 1 || cm > 31536000) {
        fprintf(stderr, "leverd: --console-idle and --console-lifetime must be seconds from 1 to 31536000\n");
        return -1;
    }
    long ht = strtol(hook_timeout, &end, 10);
    if (*end != '\0' || ht < 1 || ht > 3600) {
        fprintf(stderr, "leverd: --hook-timeout must be a number of seconds from 1 to 3600\n");
        return -1;
    }
    c->hook_timeout = (unsigned)ht;
    c->console_idle = (unsigned)ci;
    c->console_max = (unsigned)cm;
    long t = strtol(threads, &end, 10);
    if (*end != '\0' || t < 0 || t > 256) {
        fprintf(stderr, "leverd: --threads must be a number from 0 to 256\n");
        return -1;
    }
    /* 0: the CPUs this process may run on (affinity mask, cgroup quota),
     * not the host's, so a pinned or throttled leverd does not start more
     * event loops than it can run. */
    c->threads = t > 0 ? (unsigned)t : lv_http_cpus();
    long long cl = strtoll(changelog, &end, 10);
    if (*end != '\0' || cl < 1 || cl > 100000000) {
        fprintf(stderr, "leverd: --changelog-size must be a number from 1 to 100000000\n");
        return -1;
    }
    c->changelog = (size_t)cl;
    long long fr = strtoll(feed_retention, &end, 10);
    if (*end != '\0' || fr < 1 || fr > 1000000000000LL) {
        fprintf(stderr, "leverd: --feed-retention must be a number of revisions from 1 to 1000000000000\n");
        return -1;
    }
    c->feed_retention = (uint64_t)fr;
    long long am = strtoll(audit_max, &end, 10);
    if (*end != '\0' || am < 0) {
        fprintf(stderr, "leverd: --audit-max-size must be a number of bytes (0 = never rotate)\n");
        return -1;
    }
    c->audit_max = (uint64_t)am;
    long ak = strtol(audit_keep, &end, 10);
    if (*end != '\0' || ak < 1 || ak > 1000) {
        fprintf(stderr, "leverd: --audit-keep must be a number from 1 to 1000\n");
        return -1;
    }
    c->audit_keep = (unsigned)ak;
    if (parse_rate(th_read, "--throttle-read", &c->throttle.read_rate, &c->throttle.read_burst) != 0 ||
        parse_rate(th_write, "--throttle-write", &c->throttle.write_rate, &c->throttle.write_burst) != 0)
        return -1;
    long mc = strtol(max_conn, &end, 10);
    if (*end != '\0' || mc < 1 || mc > 100000) {
        fprintf(stderr, "leverd: --max-connections must be a number from 1 to 100000\n");
        return -1;
    }
    c->max_connections = (unsigned)mc;
    long ct = strtol(conn_timeout, &end, 10);
    if (*end != '\0' || ct < 1 || ct > 3600) {
        fprintf(stderr, "leverd: --conn-timeout must be a number of seconds from 1 to 3600\n");
        return -1;
    }
    c->conn_timeout = (unsigned)ct;
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        fprintf(stderr, "leverd: --tls-cert and --tls-key go together\n");
        return -1;
    }
    c->time_scale = strtod(time_scale, &end);
    if (end == time_scale || *end != '\0' || !(c->time_scale >= 0.001) || !(c->time_scale <= 1e6)) {
        fprintf(stderr, "leverd: --time-scale must be a number from 0.001 to 1000000\n");
        return -1;
    }
    /* Parts that read the scale from the environment see the flag too. */
    setenv("LEVER_TIME_SCALE", time_scale, 1);
    size_t al = strlen(c->account);
    if (al != 12 || strspn(c->account, "0123456789") != al) {
        fprintf(stderr, "leverd: --account-id must be 12 digits\n");
        return -1;
    }
    return 0;
}

/* ---------- access keys: the keystore over the engine ---------- */

static const char KEY_SECRET_ID[] = "lever:access-key";

static lv_err ks_put(void *ctx, const void *key, size_t klen, const void *val, size_t vlen, lv_error *err)
{
    lv_store_op op = {key, klen, val, vlen};
    return lv_engine_aux_write(ctx, &op, 1, err);
}

static lv_err ks_seal(void *ctx, const void *aad, size_t aad_len, const void *pt, size_t n, lv_buf *out,
                      lv_error *err)
{
    return lv_engine_seal(ctx, KEY_SECRET_ID, aad, aad_len, pt, n, out, err);
}

static lv_err ks_open(void *ctx, const void *aad, size_t aad_len, const void *env, size_t n, lv_buf *out,
                      lv_error *err)
{
    return lv_engine_unseal(ctx, KEY_SECRET_ID, aad, aad_len, env, n, out, err);
}

static bool ks_current(void *ctx, const void *aad, size_t aad_len, const void *env, size_t n)
{
    return lv_engine_sealed_current(ctx, KEY_SECRET_ID, aad, aad_len, env, n);
}

typedef struct ks_load {
    lv_keystore *ks;
    lv_err rc;
    lv_error *err;
} ks_load;

static void ks_load_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    ks_load *l = ctx;
    if (l->rc == LV_OK)
        l->rc = lv_keystore_load(l->ks, key, klen, val, vlen, l->err);
}

/* Another node's access key change, on the engine's writer thread. */
static void ks_follow(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen < 1 || ((const char *)key)[0] != LV_AUX_ACCESS_KEY)
        return;
    lv_error err;
    lv_error_clear(&err);
    if (lv_keystore_apply(ctx, key, klen, val, vlen, &err) != LV_OK)
        fprintf(stderr, "leverd: cannot follow an access key change: %s\n", err.msg);
}

static void ks_load_follow(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    ks_load *l = ctx;
    if (l->rc == LV_OK)
        l->rc = lv_keystore_apply(l->ks, key, klen, val, vlen, l->err);
}

static lv_err open_keystore(lv_engine *e, lv_keystore **out, lv_error *err)
{
    lv_keystore_io io = {e, ks_put, ks_seal, ks_open, ks_current};
    lv_err rc = lv_keystore_new(&io, out, err);
    if (rc != LV_OK)
        return rc;
    ks_load l = {*out, LV_OK, err};
    if (lv_engine_shared(e)) {
        /* Followed changes first, then the records: both replace, so a
         * change that lands between the two is not lost. */
        if ((l.rc = lv_engine_on_aux(e, ks_follow, *out)) == LV_OK)
            lv_engine_aux_foreach(e, LV_AUX_ACCESS_KEY, ks_load_follow, &l);
        else
            lv_error_set(err, l.rc, "cannot follow access key changes");
    } else {
        lv_engine_aux_foreach(e, LV_AUX_ACCESS_KEY, ks_load_one, &l);
    }
    if (l.rc != LV_OK) {
        lv_engine_off_aux(e, ks_follow, *out);
        lv_keystore_free(*out);
        *out = NULL;
    }
    return l.rc;
}

/* The Alertmanager bearer token: LEVER_ALERTMANAGER_TOKEN, else the first
 * line of the token file; NULL with *bad set when a file is unusable. */
static char *alertmanager_token(const config *cfg, bool *bad)
{
    *bad = false;
    const char *env = env_or("LEVER_ALERTMANAGER_TOKEN", NULL);
    if (env != NULL && cfg->am_token_file == NULL)
        return strdup(env);
    if (cfg->am_token_file == NULL)
        return NULL;
    FILE *f = fopen(cfg->am_token_file, "r");
    char line[1024];
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        fprintf(stderr, "leverd: --alertmanager-token-file %s: %s\n", cfg->am_token_file,
                f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        *bad = true;
        return NULL;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) < 16) {
        fprintf(stderr, "leverd: --alertmanager-token-file %s: the token must have at least 16 characters\n",
                cfg->am_token_file);
        *bad = true;
        return NULL;
    }
    char *t = strdup(line);
    memset(line, 0, sizeof line);
    return t;
}

/* The webhook signing key: the first line of the key file. The default
 * file is made (32 random bytes, hex) on first start; a named one must
 * exist. NULL on failure (said on stderr). */
static char *hook_key(const config *cfg)
{
    char path[PATH_MAX];
    bool dflt = cfg->hook_key_file == NULL;
    if (dflt)
        snprintf(path, sizeof path, "%s/hooks.key", cfg->data);
    else
        snprintf(path, sizeof path, "%s", cfg->hook_key_file);
    if (dflt && access(path, F_OK) != 0) {
        unsigned char rnd[32];
        char hex[66];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            fprintf(stderr, "leverd: cannot make a hook key: no random bytes\n");
            return NULL;
        }
        lv_hex_encode(rnd, sizeof rnd, hex);
        hex[64] = '\n';
        hex[65] = '\0';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && write(fd, hex, 65) == 65 && fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
        memset(rnd, 0, sizeof rnd);
        memset(hex, 0, sizeof hex);
        if (!ok && errno != EEXIST) {
            fprintf(stderr, "leverd: cannot write the hook key %s: %s\n", path, strerror(errno));
            return NULL;
        }
    }
    FILE *f = fopen(path, "r");
    char line[1024];
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        fprintf(stderr, "leverd: hook key file %s: %s\n", path, f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) < 16) {
        fprintf(stderr, "leverd: hook key file %s: the key must have at least 16 characters\n", path);
        memset(line, 0, sizeof line);
        return NULL;
    }
    char *k = strdup(line);
    memset(line, 0, sizeof line);
    return k;
}

/* The store URI for messages: a password in it ("scheme://user:PASS@")
 * is replaced by "***". */
static const char *shown_uri(const char *uri, char *buf, size_t cap)
{
    const char *sep = strstr(uri, "://");
    if (sep == NULL)
        return uri;
    const char *auth = sep + 3, *at = strchr(auth, '@'), *colon = strchr(auth, ':');
    if (at == NULL || colon == NULL || colon > at)
        return uri;
    snprintf(buf, cap, "%.*s***%s", (int)(colon + 1 - uri), uri, at);
    return buf;
}

/* ---------- restore ---------- */

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return -1;
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fclose(in);
        return -1;
    }
    char buf[1 << 16];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (write(fd, buf, n) != (ssize_t)n)
            rc = -1;
    if (ferror(in) || fsync(fd) != 0)
        rc = -1;
    fclose(in);
    close(fd);
    return rc;
}

/* Copies the checked backup at tmp_uri into the (empty) store cfg->store
 * names, in one commit. */
static lv_err import_into(const config *cfg, const char *tmp_uri, lv_error *err)
{
    lv_store *src = NULL, *dst = NULL;
    lv_err rc = lv_store_open(tmp_uri, &src, err);
    if (rc == LV_OK)
        rc = lv_store_open(cfg->store, &dst, err);
    if (rc == LV_OK)
        rc = lv_store_import(dst, src, err);
    lv_store_close(dst);
    lv_store_close(src);
    return rc;
}

/* Restores a backup into an empty store: copies it into the data
 * directory, opens it as a store (every record decoded, the master key
 * checked against it, every access key secret opened), then renames it
 * into place (sqlite) or copies it into the database in one commit
 * (postgres). Any failure leaves the store as it was. */
static int restore_backup(const config *cfg, const char *master, size_t changelog)
{
    bool to_sqlite = strncmp(cfg->store, "sqlite:", 7) == 0;
    char dbuf[PATH_MAX + 16];
    snprintf(dbuf, sizeof dbuf, "%s/restore.db", cfg->data);
    const char *db = to_sqlite ? cfg->store + 7 : dbuf;
    char wal[PATH_MAX + 24], tmp[PATH_MAX + 32], tmp_uri[PATH_MAX + 48];
    snprintf(wal, sizeof wal, "%s-wal", db);
    struct stat st;
    if (to_sqlite && (stat(db, &st) == 0 || stat(wal, &st) == 0)) {
        fprintf(stderr, "leverd: --restore: %s already exists; restore only into an empty data directory\n", db);
        return -1;
    }
    if (stat(master, &st) != 0) {
        fprintf(stderr,
                "leverd: --restore: master key file %s is missing; a backup does not contain the master key: "
                "put the key of the server the backup came from there first\n",
                master);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.restore", db);
    snprintf(tmp_uri, sizeof tmp_uri, "sqlite:%s", tmp);
    unlink(tmp);
    if (copy_file(cfg->restore, tmp) != 0) {
        fprintf(stderr, "leverd: --restore: cannot copy %s to %s: %s\n", cfg->restore, tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    lv_error err;
    lv_error_clear(&err);
    lv_engine_config ecfg = {tmp_uri, master, changelog, 0};
    lv_engine *e;
    lv_keystore *ks = NULL;
    lv_err rc = lv_engine_open(&ecfg, &e, &err);
    if (rc == LV_OK) {
        rc = open_keystore(e, &ks, &err);
        lv_keystore_free(ks);
        lv_engine_close(e);
    }
    bool checked = rc == LV_OK;
    if (rc == LV_OK && to_sqlite && rename(tmp, db) != 0)
        rc = lv_error_set(&err, LV_E_IO, "cannot rename %s to %s: %s", tmp, db, strerror(errno));
    if (rc == LV_OK && !to_sqlite)
        rc = import_into(cfg, tmp_uri, &err);
    char side[PATH_MAX + 48];
    if (rc != LV_OK || !to_sqlite) {
        unlink(tmp);
        snprintf(side, sizeof side, "%s-wal", tmp);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", tmp);
        unlink(side);
    }
    if (rc != LV_OK) {
        char shown[PATH_MAX + 16];
        if (checked)
            fprintf(stderr, "leverd: --restore: cannot restore %s into %s: %s\n", cfg->restore,
                    shown_uri(cfg->store, shown, sizeof shown), err.msg);
        else
            fprintf(stderr, "leverd: --restore: %s is not a usable backup for this master key: %s\n",
                    cfg->restore, err.msg);
        return -1;
    }
    int dfd = open(cfg->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    char shown[PATH_MAX + 16];
    fprintf(stderr, "leverd: restored %s into %s\n", cfg->restore,
            to_sqlite ? db : shown_uri(cfg->store, shown, sizeof shown));
    return 0;
}

/* A rotation interrupted by a crash is finished in the background once
 * the server serves again: until then both keys open every value. */
typedef struct resume_arg {
    lv_engine *engine;
    lv_keystore *keys;
} resume_arg;

/* The driver reads alarm states through this (src/alarm stays out of
 * the driver and the engine). */
static lv_alarm_state alarm_state(void *ctx, const char *name)
{
    return lv_alarms_state(ctx, name);
}

static void *resume_rotation(void *p)
{
    resume_arg *a = p;
    lv_error err;
    lv_error_clear(&err);
    size_t np = 0, nk = 0;
    if (lv_admin_rotate(a->engine, a->keys, &np, &nk, &err) == LV_OK)
        fprintf(stderr, "leverd: master key rotation finished (%zu parameters, %zu access keys re-wrapped)\n", np,
                nk);
    else
        fprintf(stderr, "leverd: master key rotation could not be finished: %s (it is retried at the next start "
                        "or by lever admin rotate-master-key)\n",
                err.msg);
    return NULL;
}

int main(int argc, char **argv)
{
    config cfg;
    if (parse_args(argc, argv, &cfg) != 0)
        return 2;
    if (mkdir(cfg.data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "leverd: cannot create data directory %s: %s\n", cfg.data, strerror(errno));
        return 1;
    }
    char creds_path[PATH_MAX], key_path[PATH_MAX], store_uri[PATH_MAX + 16];
    snprintf(creds_path, sizeof creds_path, "%s/credentials", cfg.data);
    snprintf(key_path, sizeof key_path, "%s/master.key", cfg.data);
    if (cfg.store == NULL) {
        snprintf(store_uri, sizeof store_uri, "sqlite:%s/lever.db", cfg.data);
        cfg.store = store_uri;
    }
    const char *master = env_or("LEVER_MASTER_KEY_FILE", key_path);
    if (cfg.restore != NULL && restore_backup(&cfg, master, cfg.changelog) != 0)
        return 1;

    /* Signals are taken synchronously by main; every thread created from
     * here on inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lv_error err;
    lv_error_clear(&err);
    lv_credentials root;
    if (lv_keys_root_load_or_create(creds_path, &root, &err) != LV_OK) {
        fprintf(stderr, "leverd: root credentials: %s\n", err.msg);
        return 1;
    }
    lv_engine_config ecfg = {cfg.store, master, cfg.changelog, 0, cfg.feed_retention};
    lv_engine *engine;
    if (lv_engine_open(&ecfg, &engine, &err) != LV_OK) {
        char shown[PATH_MAX + 16];
        fprintf(stderr, "leverd: cannot open store %s: %s\n", shown_uri(cfg.store, shown, sizeof shown), err.msg);
        return 1;
    }
    lv_keystore *keys = NULL;
    lv_audit *audit = NULL;
    lv_throttle *throttle = NULL;
    char audit_path[PATH_MAX];
    snprintf(audit_path, sizeof audit_path, "%s/audit.log", cfg.data);
    if (open_keystore(engine, &keys, &err) != LV_OK) {
        fprintf(stderr, "leverd: access keys: %s\n", err.msg);
        lv_engine_close(engine);
        return 1;
    }
    if (lv_audit_open(cfg.audit_log ? cfg.audit_log : audit_path, cfg.audit_max, cfg.audit_keep, &audit, &err) !=
            LV_OK ||
        lv_throttle_new(&cfg.throttle, &throttle, &err) != LV_OK) {
        fprintf(stderr, "leverd: %s\n", err.msg);
        lv_audit_close(audit);
        lv_engine_off_aux(engine, ks_follow, keys);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    lv_alarms *alarms = NULL;
    bool bad_token = false;
    char *am_token = alertmanager_token(&cfg, &bad_token);
    if (bad_token || lv_alarms_open(engine, cfg.time_scale, &alarms, &err) != LV_OK) {
        if (!bad_token)
            fprintf(stderr, "leverd: alarms: %s\n", err.msg);
        lv_throttle_free(throttle);
        lv_audit_close(audit);
        lv_engine_off_aux(engine, ks_follow, keys);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    char *hkey = hook_key(&cfg);
    lv_hooks *hooks = NULL;
    lv_hooks_config hcfg_ = {cfg.time_scale, cfg.hook_timeout, hkey, hkey ? strlen(hkey) : 0, 0};
    if (hkey == NULL || lv_hooks_open(engine, &hcfg_, &hooks, &err) != LV_OK) {
        if (hkey != NULL)
            fprintf(stderr, "leverd: hooks: %s\n", err.msg);
        free(hkey);
        free(am_token);
        lv_alarms_close(alarms);
        lv_throttle_free(throttle);
        lv_audit_close(audit);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    memset(hkey, 0, strlen(hkey));
    free(hkey);
    lv_rollout_config rocfg;
    memset(&rocfg, 0, sizeof rocfg);
    rocfg.engine = engine;
    rocfg.time_scale = cfg.time_scale;
    rocfg.alarm_state = alarm_state;
    rocfg.alarm_ctx = alarms;
    rocfg.hooks.tick = lv_hooks_tick;   /* AT_DEPLOYMENT_TICK before each step */
    rocfg.hooks.event = lv_hooks_event; /* every ON_DEPLOYMENT_* change, queued */
    rocfg.hooks.ctx = hooks;
    /* Several nodes on one database: one drives each deployment's clock. */
    lv_leader *leader = NULL;
    if (lv_engine_shared(engine) && lv_leader_open(cfg.store, &leader, &err) == LV_OK) {
        rocfg.is_leader = lv_leader_is;
        rocfg.leader_ctx = leader;
    }
    lv_rollout *rollout = NULL;
    if ((lv_engine_shared(engine) && leader == NULL) || lv_rollout_open(&rocfg, &rollout, &err) != LV_OK ||
        lv_alarms_on_change(alarms, lv_rollout_alarm_changed, rollout) != LV_OK) {
        fprintf(stderr, "leverd: deployments: %s\n", err.msg[0] ? err.msg : "cannot watch alarms");
        lv_rollout_close(rollout);
        lv_leader_close(leader);
        lv_hooks_close(hooks);
        free(am_token);
        lv_alarms_close(alarms);
        lv_throttle_free(throttle);
        lv_audit_close(audit);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    lv_console_config ccfg = {cfg.console_idle, cfg.console_max, cfg.region, cfg.tls_cert != NULL, audit};
    lv_router_config rcfg = {engine, cfg.account, &root, keys, audit, throttle, &ccfg};
    rcfg.alarms = alarms;
    rcfg.alertmanager_token = am_token;
    rcfg.hooks = hooks;
    lv_router *router;
    if (lv_router_new(&rcfg, &router, &err) != LV_OK) {
        fprintf(stderr, "leverd: %s\n", err.msg);
        lv_rollout_stop(rollout);
        lv_hooks_close(hooks);
        lv_alarms_close(alarms);
        lv_rollout_close(rollout);
        lv_leader_close(leader);
        lv_throttle_free(throttle);
        lv_audit_close(audit);
        lv_engine_off_aux(engine, ks_follow, keys);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    /* Bodies up to 3 MiB: an AppConfig hosted version may hold 2 MiB, and
     * a larger one must reach the front-end to get PayloadTooLargeException. */
    lv_http_config hcfg = {cfg.listen, cfg.threads, 3 << 20, cfg.max_connections, cfg.conn_timeout,
                           cfg.tls_cert, cfg.tls_key};
    lv_http_server *http;
    if (lv_http_start(&hcfg, lv_router_handle, router, &http, &err) != LV_OK) {
        fprintf(stderr, "leverd: cannot listen on %s: %s\n", cfg.listen, err.msg);
        lv_router_free(router);
        lv_rollout_stop(rollout);
        lv_hooks_close(hooks);
        lv_alarms_close(alarms);
        lv_rollout_close(rollout);
        lv_leader_close(leader);
        lv_throttle_free(throttle);
        lv_audit_close(audit);
        lv_engine_off_aux(engine, ks_follow, keys);
        lv_keystore_free(keys);
        lv_engine_close(engine);
        return 1;
    }
    resume_arg resume = {engine, keys};
    pthread_t resume_thread;
    bool resuming = lv_engine_rotating(engine) &&
                    pthread_create(&resume_thread, NULL, resume_rotation, &resume) == 0;
    lv_engine_stats st;
    lv_engine_stats_get(engine, &st);
    char shown[PATH_MAX + 16];
    fprintf(stderr,
            "leverd %s listening on %s (port %u%s), store %s, %llu parameters, revision %llu\n"
            "credentials: %s\n",
            LEVER_VERSION, cfg.listen, lv_http_port(http), cfg.tls_cert ? ", TLS" : "",
            shown_uri(cfg.store, shown, sizeof shown), (unsigned long long)st.params, (unsigned long long)st.revision, creds_path);
    fflush(stderr);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "leverd: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    lv_engine_watch_fire_all(engine); /* parked watchers answer before the listener stops */
    lv_router_drain(router);          /* and so do requests parked on a hook */
    lv_http_stop(http);
    if (resuming)
        pthread_join(resume_thread, NULL);
    lv_router_free(router);
    lv_rollout_stop(rollout); /* the driver writes through the engine and calls hooks */
    lv_hooks_close(hooks);
    lv_alarms_close(alarms);  /* the probe thread writes too (and kicks the driver) */
    lv_rollout_close(rollout);
    lv_leader_close(leader);
    free(am_token);
    lv_throttle_free(throttle);
    lv_audit_close(audit);
    lv_engine_close(engine);
    lv_keystore_free(keys);
    memset(&root, 0, sizeof root);
    fprintf(stderr, "leverd: stopped\n");
    return 0;
}
