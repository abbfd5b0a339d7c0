/* changelog.c - a ring buffer of changes with owned keys. */
#include "core/changelog.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    "Put", "Delete", "Label", "Unlabel", "Tag", "Expire",
    "ExpirationNotification", "NoChangeNotification",
    "DeploymentStarted", "DeploymentStep", "DeploymentComplete", "DeploymentRolledBack", "DeploymentStopped",
    "ContentChanged",
};

const char *lv_change_kind_name(lv_change_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "Unknown";
}

lv_err lv_changelog_init(lv_changelog *log, size_t cap)
{
    memset(log, 0, sizeof *log);
    log->ring = calloc(cap ? cap : 1, sizeof *log->ring);
    if (log->ring == NULL)
        return LV_E_NOMEM;
    log->cap = cap ? cap : 1;
    return LV_OK;
}

void lv_changelog_free(lv_changelog *log)
{
    for (size_t i = 0; i < log->count; i++)
        free(log->ring[(log->start + i) % log->cap].key);
    free(log->ring);
    memset(log, 0, sizeof *log);
}

lv_err lv_changelog_append(lv_changelog *log, const lv_change *c)
{
    char *key = malloc(c->key_len + 1);
    if (key == NULL)
        return LV_E_NOMEM;
    memcpy(key, c->key, c->key_len);
    key[c->key_len] = '\0';
    size_t slot;
    if (log->count == log->cap) {
        slot = log->start;
        if (log->ring[slot].revision > log->floor)
            log->floor = log->ring[slot].revision;
        free(log->ring[slot].key);
        log->start = (log->start + 1) % log->cap;
    } else {
        slot = (log->start + log->count) % log->cap;
        log->count++;
    }
    log->ring[slot] = *c;
    log->ring[slot].key = key;
    return LV_OK;
}

uint64_t lv_changelog_first(const lv_changelog *log)
{
    return log->count ? log->ring[log->start].revision : 0;
}

const lv_change *lv_changelog_at(const lv_changelog *log, size_t i)
{
    return i < log->count ? &log->ring[(log->start + i) % log->cap] : NULL;
}

uint64_t lv_changelog_floor(const lv_changelog *log)
{
    return log->floor;
}

void lv_changelog_set_floor(lv_changelog *log, uint64_t rev)
{
    if (rev > log->floor)
        log->floor = rev;
}

size_t lv_changelog_seek(const lv_changelog *log, uint64_t since)
{
    size_t lo = 0, hi = log->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->ring[(log->start + mid) % log->cap].revision <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t lv_changelog_last(const lv_changelog *log)
{
    return log->count ? log->ring[(log->start + log->count - 1) % log->cap].revision : 0;
}
