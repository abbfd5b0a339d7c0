/* param.h - the parameter model: a parameter is a name in a region with up
 * to 100 versions and a set of tags. Versions are immutable and shared
 * between successive states of a parameter (reference counted), so a
 * change builds a new lv_param cheaply and readers of the old one are
 * never disturbed. Only the engine's writer thread creates, shares and
 * releases them; readers only look. */
#ifndef LV_CORE_PARAM_H
#define LV_CORE_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/policy.h"

enum {
    LV_MAX_VERSIONS = 100,
    LV_MAX_LABELS_PER_VERSION = 10,
    LV_MAX_TAGS = 50,
    LV_MAX_LABEL_LEN = 100,
};

typedef enum lv_ptype {
    LV_TYPE_STRING = 0,
    LV_TYPE_STRING_LIST = 1,
    LV_TYPE_SECURE_STRING = 2,
} lv_ptype;

typedef enum lv_tier {
    LV_TIER_STANDARD = 0,
    LV_TIER_ADVANCED = 1,
    LV_TIER_INTELLIGENT = 2, /* a request value only; stored tiers are the other two */
} lv_tier;

typedef struct lv_version {
    unsigned refs;
    uint32_t version;
    lv_ptype type;
    lv_tier tier;
    int64_t modified_ms;    /* epoch milliseconds */
    char *value;            /* plaintext, or the envelope for SecureString */
    size_t value_len;
    char *description;      /* NULL when none */
    char *allowed_pattern;  /* NULL when none */
    char *key_id;           /* SecureString only, else NULL */
    const char *data_type;  /* one of lv_data_types(), never freed */
    char *policies;         /* raw JSON array text, NULL when none */
    lv_policy_set *policy;  /* the same, parsed; NULL when none */
    char *modified_user;    /* ARN of the caller */
    bool user_shared;       /* modified_user belongs to a pool that outlives
                             * the version (the engine's), not to it */
    unsigned nlabels;
    char **labels;          /* room for LV_MAX_LABELS_PER_VERSION, NULL until the first */
    /* A front-end's rendering of this version, made by the first read that
     * needs it and kept for the version's life (api/ssm.c: the Parameter
     * object GetParameter answers). Set once with an atomic exchange by
     * readers under the engine's read lock; freed with the version, never
     * copied (a copy is a new version to render). */
    void *wire;
} lv_version;

typedef struct lv_tag {
    char *key;
    char *value;
} lv_tag;

typedef struct lv_param {
    char *key;             /* "<region>\0<name>", owned */
    size_t key_len;        /* bytes of key including the inner NUL */
    const char *region;    /* == key */
    const char *name;      /* points inside key */
    char *created;         /* the name as it was created when that spelling
                            * differs from name ("/x" for x), else NULL;
                            * owned. Answers show it (lv_param_shown). */
    unsigned nversions;
    lv_version **versions; /* ascending version order, each holds a ref */
    unsigned ntags;
    lv_tag *tags;          /* sorted by key */
} lv_param;

const char *lv_ptype_name(lv_ptype t);
bool lv_ptype_parse(const char *s, lv_ptype *out);
const char *lv_tier_name(lv_tier t);
bool lv_tier_parse(const char *s, lv_tier *out);

/* Builds the index key "<region>\0<name>" into a new allocation.
 * Returns NULL on allocation failure; caller frees. */
char *lv_param_make_key(const char *region, const char *name, size_t *key_len);

/* A new parameter with no versions or tags. Owns a copy of the key. */
lv_param *lv_param_new(const char *region, const char *name);

/* A new parameter sharing all of p's versions (refs taken) and copying its
 * tags: the starting point of every change. NULL on allocation failure. */
lv_param *lv_param_clone(const lv_param *p);

/* Drops p's references and frees it. NULL is fine. */
void lv_param_free(lv_param *p);

/* The name as answers show it: as it was created ("/x" or "x"; both
 * reach the same parameter, stored as "x"). */
static inline const char *lv_param_shown(const lv_param *p)
{
    return p->created ? p->created : p->name;
}

/* Records that p was created as spelling (a copy is kept), when that
 * differs from its canonical name; "/x" is the only other spelling a
 * name has. LV_E_VALIDATION for anything else, LV_E_NOMEM. */
lv_err lv_param_set_created(lv_param *p, const char *spelling);

static inline const lv_version *lv_param_latest(const lv_param *p)
{
    return p->nversions ? p->versions[p->nversions - 1] : NULL;
}

/* Binary search by version number; NULL when absent. */
lv_version *lv_param_find_version(const lv_param *p, uint32_t version);
/* The version carrying label, or NULL. */
lv_version *lv_param_find_label(const lv_param *p, const char *label);

/* A fresh version (refs = 1) with every string field NULL. */
lv_version *lv_version_new(void);
/* A deep copy (refs = 1). NULL on allocation failure. */
lv_version *lv_version_copy(const lv_version *v);
void lv_version_ref(lv_version *v);
void lv_version_unref(lv_version *v);

/* Replaces versions[i] in p (which must be exclusively owned, i.e. a clone
 * under construction) with a private copy and returns it for editing. */
lv_version *lv_param_edit_version(lv_param *p, unsigned i);

/* Appends v to p (taking over the caller's reference). */
lv_err lv_param_append_version(lv_param *p, lv_version *v);
/* Removes versions[0], dropping its reference. */
void lv_param_drop_oldest(lv_param *p);

/* Tags: set (insert or replace) and remove by key. */
lv_err lv_param_set_tag(lv_param *p, const char *key, const char *value);
bool lv_param_remove_tag(lv_param *p, const char *key);
const lv_tag *lv_param_find_tag(const lv_param *p, const char *key);

/* Adds a copy of label to v (which must have fewer than the maximum). */
lv_err lv_version_add_label(lv_version *v, const char *label);

/* The data types Parameter Store knows, as shared constant strings: the
 * one equal to s, or NULL. Versions point at these instead of holding a
 * copy each. */
const char *lv_data_type_intern(const char *s);

/* strdup that accepts NULL; *ok is set false on allocation failure. */
char *lv_strdup_opt(const char *s, bool *ok);

#endif
