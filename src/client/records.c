/* records.c - the opaque parameter/change records of lever.h and their
 * accessors; owned strings copied out of the decoded JSON. */
#include "client/records.h"

#include <stdlib.h>
#include <string.h>

struct lever_param {
    char *name, *value, *type, *data_type, *selector, *arn;
    char *description, *tier, *allowed_pattern, *key_id, *user;
    int64_t version;
    double modified;
    char **labels;
    size_t nlabels;
};

struct lever_param_list {
    lever_param **items;
    size_t n;
};

struct change {
    char *kind, *name;
    uint64_t revision;
    int64_t version;
    double time;
};

struct lever_change_list {
    struct change *items;
    size_t n;
};

void lever_param_free(lever_param *p)
{
    if (p == NULL)
        return;
    char **f[] = {&p->name, &p->value, &p->type, &p->data_type, &p->selector, &p->arn,
                  &p->description, &p->tier, &p->allowed_pattern, &p->key_id, &p->user};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(*f[i]);
    for (size_t i = 0; i < p->nlabels; i++)
        free(p->labels[i]);
    free(p->labels);
    free(p);
}

/* Copies obj[key] when it is a string; 0 on success or absence, -1 on OOM. */
static int dup_field(const json_t *obj, const char *key, char **dst)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v == NULL)
        return 0;
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

lever_param *lvc_param_from_json(const json_t *obj)
{
    if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "Name")))
        return NULL;
    lever_param *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    if (dup_field(obj, "Name", &p->name) || dup_field(obj, "Value", &p->value) ||
        dup_field(obj, "Type", &p->type) || dup_field(obj, "DataType", &p->data_type) ||
        dup_field(obj, "Selector", &p->selector) || dup_field(obj, "ARN", &p->arn) ||
        dup_field(obj, "Description", &p->description) || dup_field(obj, "Tier", &p->tier) ||
        dup_field(obj, "AllowedPattern", &p->allowed_pattern) || dup_field(obj, "KeyId", &p->key_id) ||
        dup_field(obj, "LastModifiedUser", &p->user))
        goto oom;
    p->version = (int64_t)json_integer_value(json_object_get(obj, "Version"));
    p->modified = json_number_value(json_object_get(obj, "LastModifiedDate"));
    const json_t *labels = json_object_get(obj, "Labels");
    if (json_is_array(labels) && json_array_size(labels) > 0) {
        p->labels = calloc(json_array_size(labels), sizeof *p->labels);
        if (p->labels == NULL)
            goto oom;
        size_t i;
        const json_t *l;
        json_array_foreach(labels, i, l) {
            if (!json_is_string(l))
                continue;
            if ((p->labels[p->nlabels] = strdup(json_string_value(l))) == NULL)
                goto oom;
            p->nlabels++;
        }
    }
    return p;
oom:
    lever_param_free(p);
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    const lever_param *x = *(lever_param *const *)a, *y = *(lever_param *const *)b;
    return strcmp(x->name, y->name);
}

lever_param_list *lvc_param_list_from_json(const json_t *arr, bool sort)
{
    lever_param_list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    size_t n = json_array_size(arr);
    if (n > 0 && (l->items = calloc(n, sizeof *l->items)) == NULL) {
        free(l);
        return NULL;
    }
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o) {
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "Name")))
            continue; /* a record without a name is useless to every caller */
        lever_param *p = lvc_param_from_json(o);
        if (p == NULL) {
            lever_param_list_free(l);
            return NULL;
        }
        l->items[l->n++] = p;
    }
    if (sort && l->n > 1)
        qsort(l->items, l->n, sizeof *l->items, by_name);
    return l;
}

void lever_param_list_free(lever_param_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        lever_param_free(l->items[i]);
    free(l->items);
    free(l);
}

size_t lever_param_list_count(const lever_param_list *l) { return l ? l->n : 0; }
const lever_param *lever_param_list_at(const lever_param_list *l, size_t i)
{
    return l && i < l->n ? l->items[i] : NULL;
}

const char *lever_param_name(const lever_param *p) { return p->name; }
const char *lever_param_value(const lever_param *p) { return p->value; }
const char *lever_param_type(const lever_param *p) { return p->type; }
int64_t lever_param_version(const lever_param *p) { return p->version; }
double lever_param_last_modified(const lever_param *p) { return p->modified; }
const char *lever_param_data_type(const lever_param *p) { return p->data_type; }
const char *lever_param_selector(const lever_param *p) { return p->selector; }
const char *lever_param_arn(const lever_param *p) { return p->arn; }
const char *lever_param_description(const lever_param *p) { return p->description; }
const char *lever_param_tier(const lever_param *p) { return p->tier; }
const char *lever_param_allowed_pattern(const lever_param *p) { return p->allowed_pattern; }
const char *lever_param_key_id(const lever_param *p) { return p->key_id; }
const char *lever_param_last_modified_user(const lever_param *p) { return p->user; }
size_t lever_param_label_count(const lever_param *p) { return p->nlabels; }
const char *lever_param_label(const lever_param *p, size_t i)
{
    return i < p->nlabels ? p->labels[i] : NULL;
}

lever_change_list *lvc_change_list_from_json(const json_t *arr)
{
    lever_change_list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    size_t n = json_array_size(arr);
    if (n > 0 && (l->items = calloc(n, sizeof *l->items)) == NULL) {
        free(l);
        return NULL;
    }
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o) {
        const char *kind = json_string_value(json_object_get(o, "Kind"));
        const char *name = json_string_value(json_object_get(o, "Name"));
        if (kind == NULL || name == NULL)
            continue;
        struct change *c = &l->items[l->n];
        c->kind = strdup(kind);
        c->name = strdup(name);
        if (c->kind == NULL || c->name == NULL) {
            free(c->kind);
            free(c->name);
            lever_change_list_free(l);
            return NULL;
        }
        c->revision = (uint64_t)json_integer_value(json_object_get(o, "Revision"));
        c->version = (int64_t)json_integer_value(json_object_get(o, "Version"));
        c->time = json_number_value(json_object_get(o, "Time"));
        l->n++;
    }
    return l;
}

void lever_change_list_free(lever_change_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].kind);
        free(l->items[i].name);
    }
    free(l->items);
    free(l);
}

size_t lever_change_count(const lever_change_list *l) { return l ? l->n : 0; }
const char *lever_change_kind(const lever_change_list *l, size_t i)
{
    return l && i < l->n ? l->items[i].kind : NULL;
}
const char *lever_change_name(const lever_change_list *l, size_t i)
{
    return l && i < l->n ? l->items[i].name : NULL;
}
uint64_t lever_change_revision(const lever_change_list *l, size_t i)
{
    return l && i < l->n ? l->items[i].revision : 0;
}
int64_t lever_change_version(const lever_change_list *l, size_t i)
{
    return l && i < l->n ? l->items[i].version : 0;
}
double lever_change_time(const lever_change_list *l, size_t i)
{
    return l && i < l->n ? l->items[i].time : 0;
}
