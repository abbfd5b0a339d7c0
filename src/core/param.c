/* param.c - construction, sharing and release of parameters and versions. */
#include "core/param.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"String", "StringList", "SecureString"};
static const char *const tier_names[] = {"Standard", "Advanced", "Intelligent-Tiering"};

const char *lv_ptype_name(lv_ptype t)
{
    return (unsigned)t < 3 ? type_names[t] : "String";
}

bool lv_ptype_parse(const char *s, lv_ptype *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (lv_ptype)i;
            return true;
        }
    return false;
}

const char *lv_tier_name(lv_tier t)
{
    return (unsigned)t < 3 ? tier_names[t] : "Standard";
}

bool lv_tier_parse(const char *s, lv_tier *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(s, tier_names[i]) == 0) {
            *out = (lv_tier)i;
            return true;
        }
    return false;
}

char *lv_strdup_opt(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

char *lv_param_make_key(const char *region, const char *name, size_t *key_len)
{
    size_t rl = strlen(region), nl = strlen(name);
    char *k = malloc(rl + 1 + nl + 1);
    if (k == NULL)
        return NULL;
    memcpy(k, region, rl + 1);
    memcpy(k + rl + 1, name, nl + 1);
    *key_len = rl + 1 + nl;
    return k;
}

lv_param *lv_param_new(const char *region, const char *name)
{
    lv_param *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->key = lv_param_make_key(region, name, &p->key_len);
    if (p->key == NULL) {
        free(p);
        return NULL;
    }
    p->region = p->key;
    p->name = p->key + strlen(p->key) + 1;
    return p;
}

lv_param *lv_param_clone(const lv_param *src)
{
    lv_param *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->key = malloc(src->key_len + 1);
    if (p->key == NULL)
        goto fail;
    memcpy(p->key, src->key, src->key_len + 1);
    p->key_len = src->key_len;
    p->region = p->key;
    p->name = p->key + (src->name - src->key);
    if (src->created != NULL && (p->created = strdup(src->created)) == NULL)
        goto fail;
    /* Room for one more version: most clones exist to append one. */
    p->versions = malloc((src->nversions + 1) * sizeof *p->versions);
    if (p->versions == NULL)
        goto fail;
    for (unsigned i = 0; i < src->nversions; i++) {
        p->versions[i] = src->versions[i];
        lv_version_ref(p->versions[i]);
    }
    p->nversions = src->nversions;
    if (src->ntags) {
        p->tags = calloc(src->ntags, sizeof *p->tags);
        if (p->tags == NULL)
            goto fail;
        for (unsigned i = 0; i < src->ntags; i++) {
            p->tags[i].key = strdup(src->tags[i].key);
            p->tags[i].value = strdup(src->tags[i].value);
            p->ntags = i + 1;
            if (p->tags[i].key == NULL || p->tags[i].value == NULL)
                goto fail;
        }
    }
    return p;
fail:
    lv_param_free(p);
    return NULL;
}

void lv_param_free(lv_param *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->nversions; i++)
        lv_version_unref(p->versions[i]);
    free(p->versions);
    for (unsigned i = 0; i < p->ntags; i++) {
        free(p->tags[i].key);
        free(p->tags[i].value);
    }
    free(p->tags);
    free(p->created);
    free(p->key);
    free(p);
}

lv_err lv_param_set_created(lv_param *p, const char *spelling)
{
    if (strcmp(spelling, p->name) == 0) {
        free(p->created);
        p->created = NULL;
        return LV_OK;
    }
    /* Only a single-level name has a second spelling: its slash. */
    if (spelling[0] != '/' || strcmp(spelling + 1, p->name) != 0 || strchr(p->name, '/') != NULL)
        return LV_E_VALIDATION;
    char *c = strdup(spelling);
    if (c == NULL)
        return LV_E_NOMEM;
    free(p->created);
    p->created = c;
    return LV_OK;
}

lv_version *lv_param_find_version(const lv_param *p, uint32_t version)
{
    unsigned lo = 0, hi = p->nversions;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        uint32_t v = p->versions[mid]->version;
        if (v == version)
            return p->versions[mid];
        if (v < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

lv_version *lv_param_find_label(const lv_param *p, const char *label)
{
    for (unsigned i = 0; i < p->nversions; i++) {
        lv_version *v = p->versions[i];
        for (unsigned j = 0; j < v->nlabels; j++)
            if (strcmp(v->labels[j], label) == 0)
                return v;
    }
    return NULL;
}

lv_version *lv_version_new(void)
{
    lv_version *v = calloc(1, sizeof *v);
    if (v != NULL)
        v->refs = 1;
    return v;
}

static void version_free(lv_version *v)
{
    free(v->value);
    free(v->description);
    free(v->allowed_pattern);
    free(v->key_id);
    free(v->policies);
    free(v->policy);
    if (!v->user_shared)
        free(v->modified_user);
    for (unsigned i = 0; i < v->nlabels; i++)
        free(v->labels[i]);
    free(v->labels);
    free(v->wire);
    free(v);
}

lv_err lv_version_add_label(lv_version *v, const char *label)
{
    if (v->nlabels >= LV_MAX_LABELS_PER_VERSION)
        return LV_E_PARAM_VERSION_LABEL_LIMIT;
    if (v->labels == NULL && (v->labels = calloc(LV_MAX_LABELS_PER_VERSION, sizeof *v->labels)) == NULL)
        return LV_E_NOMEM;
    if ((v->labels[v->nlabels] = strdup(label)) == NULL)
        return LV_E_NOMEM;
    v->nlabels++;
    return LV_OK;
}

const char *lv_data_type_intern(const char *s)
{
    static const char *const known[] = {"text", "aws:ec2:image", "aws:ssm:integration"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return NULL;
}

lv_version *lv_version_copy(const lv_version *src)
{
    lv_version *v = lv_version_new();
    if (v == NULL)
        return NULL;
    bool ok = true;
    v->version = src->version;
    v->type = src->type;
    v->tier = src->tier;
    v->modified_ms = src->modified_ms;
    v->value = malloc(src->value_len + 1);
    if (v->value == NULL)
        ok = false;
    else {
        memcpy(v->value, src->value, src->value_len);
        v->value[src->value_len] = '\0';
    }
    v->value_len = src->value_len;
    v->description = lv_strdup_opt(src->description, &ok);
    v->allowed_pattern = lv_strdup_opt(src->allowed_pattern, &ok);
    v->key_id = lv_strdup_opt(src->key_id, &ok);
    v->data_type = src->data_type;
    v->policies = lv_strdup_opt(src->policies, &ok);
    if (src->policy != NULL) {
        v->policy = malloc(sizeof *v->policy);
        if (v->policy == NULL)
            ok = false;
        else
            *v->policy = *src->policy;
    }
    if (src->user_shared) {
        v->modified_user = src->modified_user;
        v->user_shared = true;
    } else {
        v->modified_user = lv_strdup_opt(src->modified_user, &ok);
    }
    for (unsigned i = 0; ok && i < src->nlabels; i++)
        ok = lv_version_add_label(v, src->labels[i]) == LV_OK;
    if (!ok) {
        version_free(v);
        return NULL;
    }
    return v;
}

void lv_version_ref(lv_version *v)
{
    v->refs++;
}

void lv_version_unref(lv_version *v)
{
    if (v != NULL && --v->refs == 0)
        version_free(v);
}

lv_version *lv_param_edit_version(lv_param *p, unsigned i)
{
    lv_version *v = p->versions[i];
    if (v->refs == 1)
        return v;
    lv_version *c = lv_version_copy(v);
    if (c == NULL)
        return NULL;
    lv_version_unref(v);
    p->versions[i] = c;
    return c;
}

lv_err lv_param_append_version(lv_param *p, lv_version *v)
{
    lv_version **nv = realloc(p->versions, (p->nversions + 1) * sizeof *nv);
    if (nv == NULL)
        return LV_E_NOMEM;
    p->versions = nv;
    p->versions[p->nversions++] = v;
    return LV_OK;
}

void lv_param_drop_oldest(lv_param *p)
{
    if (p->nversions == 0)
        return;
    lv_version_unref(p->versions[0]);
    memmove(p->versions, p->versions + 1, (p->nversions - 1) * sizeof *p->versions);
    p->nversions--;
}

static unsigned tag_pos(const lv_param *p, const char *key, bool *found)
{
    unsigned lo = 0, hi = p->ntags;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(p->tags[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

lv_err lv_param_set_tag(lv_param *p, const char *key, const char *value)
{
    bool found;
    unsigned i = tag_pos(p, key, &found);
    char *nv = strdup(value);
    if (nv == NULL)
        return LV_E_NOMEM;
    if (found) {
        free(p->tags[i].value);
        p->tags[i].value = nv;
        return LV_OK;
    }
    char *nk = strdup(key);
    lv_tag *nt = nk ? realloc(p->tags, (p->ntags + 1) * sizeof *nt) : NULL;
    if (nt == NULL) {
        free(nk);
        free(nv);
        return LV_E_NOMEM;
    }
    p->tags = nt;
    memmove(p->tags + i + 1, p->tags + i, (p->ntags - i) * sizeof *nt);
    p->tags[i].key = nk;
    p->tags[i].value = nv;
    p->ntags++;
    return LV_OK;
}

bool lv_param_remove_tag(lv_param *p, const char *key)
{
    bool found;
    unsigned i = tag_pos(p, key, &found);
    if (!found)
        return false;
    free(p->tags[i].key);
    free(p->tags[i].value);
    memmove(p->tags + i, p->tags + i + 1, (p->ntags - i - 1) * sizeof *p->tags);
    p->ntags--;
    return true;
}

const lv_tag *lv_param_find_tag(const lv_param *p, const char *key)
{
    bool found;
    unsigned i = tag_pos(p, key, &found);
    return found ? &p->tags[i] : NULL;
}
