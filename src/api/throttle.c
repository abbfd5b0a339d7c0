/* throttle.c - token buckets in a small fixed hash table under one mutex.
 * The table is bounded: keys beyond its size share one overflow bucket
 * per class, so an unbounded set of callers can never grow memory. */
#include "api/throttle.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 8192, KEY_MAX = 160 };

typedef struct slot {
    char key[KEY_MAX];     /* "" = free */
    lv_bucket b;
} slot;

struct lv_throttle {
    lv_throttle_config cfg;
    pthread_mutex_t mu;
    slot *slots;
    size_t used;
    lv_bucket overflow[2];
};

bool lv_bucket_take(lv_bucket *b, double rate, double burst, double now_s)
{
    if (rate <= 0)
        return true;
    if (burst < 1)
        burst = 1;
    if (!b->started) {
        b->started = true;
        b->tokens = burst;
        b->last_s = now_s;
    } else if (now_s > b->last_s) {
        b->tokens += (now_s - b->last_s) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_s = now_s;
    }
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

/* AWS's published defaults for Parameter Store (standard throughput);
 * where AWS publishes no number, lever's choice (docs/security.md). */
static const struct {
    const char *op;
    const char *group;
    double tps;
} aws_quotas[] = {
    {"GetParameter", "get", 40},
    {"GetParameters", "get", 40},
    {"GetParametersByPath", "get", 40},
    {"PutParameter", "put", 3},
    {"GetParameterHistory", "history", 3},
    {"DescribeParameters", "describe", 10},
};

double lv_throttle_aws_quota(const char *op, const char **group)
{
    for (size_t i = 0; i < sizeof aws_quotas / sizeof *aws_quotas; i++)
        if (strcmp(aws_quotas[i].op, op) == 0) {
            if (group)
                *group = aws_quotas[i].group;
            return aws_quotas[i].tps;
        }
    /* Deletes, labels, tags, watches: one shared bucket. */
    if (group)
        *group = "other";
    return 5;
}

lv_err lv_throttle_new(const lv_throttle_config *cfg, lv_throttle **out, lv_error *err)
{
    lv_throttle *t = calloc(1, sizeof *t);
    if (t == NULL || (t->slots = calloc(SLOTS, sizeof *t->slots)) == NULL) {
        free(t);
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    }
    t->cfg = *cfg;
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return LV_OK;
}

void lv_throttle_free(lv_throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->slots);
    free(t);
}

bool lv_throttle_active(const lv_throttle *t)
{
    return t != NULL && (t->cfg.aws_quotas || t->cfg.read_rate > 0 || t->cfg.write_rate > 0);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The bucket for key (caller holds mu); the overflow bucket when full. */
static lv_bucket *bucket(lv_throttle *t, const char *key, int cls)
{
    uint64_t h = fnv(key);
    for (size_t i = 0; i < SLOTS; i++) {
        slot *s = &t->slots[(h + i) % SLOTS];
        if (strcmp(s->key, key) == 0)
            return &s->b;
        if (s->key[0] == '\0') {
            /* Keep a quarter free so probes stay short. */
            if (t->used >= SLOTS - SLOTS / 4)
                break;
            snprintf(s->key, sizeof s->key, "%s", key);
            t->used++;
            return &s->b;
        }
    }
    return &t->overflow[cls];
}

bool lv_throttle_take(lv_throttle *t, const char *key_id, bool is_root, const char *region, const char *op,
                      bool write, double now_s)
{
    if (!lv_throttle_active(t))
        return true;
    char key[KEY_MAX];
    double rate, burst;
    int cls = write ? 1 : 0;
    if (t->cfg.aws_quotas) {
        /* AWS quotas are per account and region, shared by every caller. */
        const char *group;
        rate = burst = lv_throttle_aws_quota(op, &group);
        snprintf(key, sizeof key, "aws\x1f%.63s\x1f%s", region, group);
    } else {
        if (is_root && !t->cfg.include_root)
            return true;
        rate = write ? t->cfg.write_rate : t->cfg.read_rate;
        burst = write ? t->cfg.write_burst : t->cfg.read_burst;
        if (burst <= 0)
            burst = rate;
        snprintf(key, sizeof key, "k\x1f%.128s\x1f%c", key_id, write ? 'w' : 'r');
    }
    if (rate <= 0)
        return true;
    pthread_mutex_lock(&t->mu);
    bool ok = lv_bucket_take(bucket(t, key, cls), rate, burst, now_s);
    pthread_mutex_unlock(&t->mu);
    return ok;
}
