/* plan.c - Parameter Store's rules for puts, labels and tags. */
#include "core/plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/name.h"
#include "core/pattern.h"

lv_err lv_data_type_check(const char *dt, const char *value, size_t len, lv_error *err)
{
    if (strcmp(dt, "text") == 0 || strcmp(dt, "aws:ssm:integration") == 0)
        return LV_OK;
    if (strcmp(dt, "aws:ec2:image") == 0) {
        /* ami- followed by 8 or 17 lowercase hex digits. */
        size_t hex = len > 4 ? len - 4 : 0;
        bool ok = len > 4 && memcmp(value, "ami-", 4) == 0 && (hex == 8 || hex == 17);
        for (size_t i = 4; ok && i < len; i++)
            ok = (value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f');
        if (!ok)
            return lv_error_set(err, LV_E_VALIDATION,
                                "Parameter value is not a valid Amazon Machine Image ID "
                                "for data type aws:ec2:image (expected ami- and 8 or 17 hex digits).");
        return LV_OK;
    }
    return lv_error_set(err, LV_E_VALIDATION,
                        "The following data type is not supported: %s (Data type names are all lowercase.)",
                        dt);
}

static bool tag_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr(" _.:/=+-@", c) != NULL)
            continue;
        return false;
    }
    return true;
}

lv_err lv_tag_check(const char *key, const char *value, lv_error *err)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (kl < 1 || kl > 128)
        return lv_error_set(err, LV_E_VALIDATION, "Tag keys must be 1 to 128 characters long.");
    if (vl > 256)
        return lv_error_set(err, LV_E_VALIDATION, "Tag values must be at most 256 characters long.");
    if (strncasecmp(key, "aws:", 4) == 0)
        return lv_error_set(err, LV_E_VALIDATION, "Tag keys beginning with \"aws:\" are reserved.");
    if (!tag_text_ok(key) || !tag_text_ok(value))
        return lv_error_set(err, LV_E_VALIDATION,
                            "Tags may contain letters, numbers, spaces and the symbols _ . : / = + - @ only.");
    return LV_OK;
}

static bool hexes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* A KMS key id: 1234abcd-12ab-34cd-56ef-1234567890ab or mrk-<32 hex>. */
static bool key_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    if (strncmp(s, "mrk-", 4) == 0)
        return hexes(s + 4, 32);
    return s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && hexes(s, 8) &&
           hexes(s + 9, 4) && hexes(s + 14, 4) && hexes(s + 19, 4) && hexes(s + 24, 12);
}

static bool alias_name(const char *s)
{
    if (strncmp(s, "alias/", 6) != 0 || s[6] == '\0')
        return false;
    for (s += 6; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '-'))
            return false;
    return true;
}

lv_err lv_key_id_check(const char *key_id, lv_error *err)
{
    const char *k = key_id;
    if (strncmp(k, "arn:aws:kms:", 12) == 0) {
        /* arn:aws:kms:<region>:<account>:key/<id> or :alias/<name> */
        const char *p = k + 12;
        p = strchr(p, ':');
        const char *q = p ? strchr(p + 1, ':') : NULL;
        if (q == NULL || q - p != 13)
            goto bad;
        k = q + 1;
        if (strncmp(k, "key/", 4) == 0 && key_uuid(k + 4))
            return LV_OK;
        if (alias_name(k))
            return LV_OK;
        goto bad;
    }
    if (alias_name(k) || key_uuid(k))
        return LV_OK;
bad:
    return lv_error_set(err, LV_E_INVALID_KEY_ID,
                        "The query key ID isn't valid: %s is not a KMS key id, key ARN, alias name or alias ARN.",
                        key_id);
}

static lv_err choose_tier(const lv_param *cur, const lv_put_input *in, size_t value_len,
                          bool has_policies, lv_tier *tier, lv_error *err)
{
    lv_tier prev = cur ? lv_param_latest(cur)->tier : LV_TIER_STANDARD;
    lv_tier want = in->has_tier ? in->tier : prev;
    if (want == LV_TIER_INTELLIGENT)
        want = (prev == LV_TIER_ADVANCED || value_len > LV_STANDARD_VALUE_MAX || has_policies)
                   ? LV_TIER_ADVANCED : LV_TIER_STANDARD;
    if (want == LV_TIER_STANDARD && prev == LV_TIER_ADVANCED)
        return lv_error_set(err, LV_E_VALIDATION,
                            "This parameter uses the advanced-parameter tier. You can't downgrade a "
                            "parameter from the advanced-parameter tier to the standard-parameter tier. "
                            "To use the standard tier, delete the advanced parameter and create a new one.");
    if (want == LV_TIER_STANDARD && value_len > LV_STANDARD_VALUE_MAX)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Standard tier parameters support a maximum parameter value of %d bytes. "
                            "To create a larger parameter value, use the advanced-parameter tier.",
                            LV_STANDARD_VALUE_MAX);
    if (want == LV_TIER_STANDARD && has_policies)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameter policies are supported only for advanced-tier parameters.");
    if (value_len > LV_ADVANCED_VALUE_MAX)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Advanced tier parameters support a maximum parameter value of %d bytes.",
                            LV_ADVANCED_VALUE_MAX);
    *tier = want;
    return LV_OK;
}

/* Copies s into *dst (freeing the old) unless s is NULL. */
static bool set_str(char **dst, const char *s)
{
    if (s == NULL)
        return true;
    char *d = strdup(s);
    if (d == NULL)
        return false;
    free(*dst);
    *dst = d;
    return true;
}

lv_err lv_plan_put(const lv_param *cur, const char *region, const char *name,
                   const lv_put_input *in, lv_seal_fn seal, void *seal_ctx,
                   lv_param **out, lv_put_result *res, lv_error *err)
{
    lv_err rc;
    *out = NULL;
    if (in->value_len == 0)
        return lv_error_set(err, LV_E_VALIDATION,
                            "1 validation error detected: Value at 'value' failed to satisfy "
                            "constraint: Member must have length greater than or equal to 1.");
    /* Values cannot embed references to other parameters. */
    const char *open_ref = memmem(in->value, in->value_len, "{{", 2);
    if (open_ref != NULL &&
        memmem(open_ref + 2, in->value_len - (size_t)(open_ref + 2 - in->value), "}}", 2) != NULL)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameters can't be referenced or nested in the values of other parameters: "
                            "a value can't contain {{...}}.");
    if (in->ntags && in->overwrite)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Invalid request: tags and overwrite can't be used together. To create a "
                            "parameter with tags, please remove overwrite flag. To update tags for an "
                            "existing parameter, please use AddTagsToResource or RemoveTagsFromResource.");
    if (cur == NULL && (rc = lv_name_check_create(name, err)) != LV_OK)
        return rc;
    if (cur != NULL && !in->overwrite)
        return lv_error_set(err, LV_E_PARAM_EXISTS,
                            "The parameter already exists. To overwrite this value, set the "
                            "overwrite option in the request to true.");
    if (cur == NULL && !in->has_type)
        return lv_error_set(err, LV_E_VALIDATION,
                            "A parameter type is required when you create a parameter.");
    const lv_version *prev = cur ? lv_param_latest(cur) : NULL;
    lv_ptype type = in->has_type ? in->type : prev->type;
    if (prev != NULL && type != prev->type)
        return lv_error_set(err, LV_E_HIERARCHY_TYPE_MISMATCH,
                            "The parameter type can't be changed from %s to %s. Parameter Store "
                            "doesn't support changing the type of an existing parameter; create a "
                            "new parameter instead.", lv_ptype_name(prev->type), lv_ptype_name(type));
    if (in->key_id != NULL && type != LV_TYPE_SECURE_STRING)
        return lv_error_set(err, LV_E_VALIDATION,
                            "KeyId is only valid for parameters of type SecureString.");
    if (in->key_id != NULL && (rc = lv_key_id_check(in->key_id, err)) != LV_OK)
        return rc;

    const char *pattern = in->allowed_pattern ? in->allowed_pattern
                                              : (prev ? prev->allowed_pattern : NULL);
    if (pattern != NULL && pattern[0] != '\0') {
        bool matched;
        if ((rc = lv_pattern_check(pattern, in->value, in->value_len, &matched, err)) != LV_OK)
            return rc;
        if (!matched)
            return lv_error_set(err, LV_E_PARAM_PATTERN_MISMATCH,
                                "Parameter value, cannot be validated against allowedPattern: %s",
                                pattern);
    }
    const char *data_type = in->data_type ? in->data_type
                                          : (prev && prev->data_type ? prev->data_type : "text");
    if (data_type[0] == '\0')
        data_type = "text";
    if ((rc = lv_data_type_check(data_type, in->value, in->value_len, err)) != LV_OK)
        return rc;
    data_type = lv_data_type_intern(data_type);
    if (in->policies != NULL && (rc = lv_policy_set_check(in->policies, in->now_ms, err)) != LV_OK)
        return rc;
    bool has_policies = in->policies_text ? (in->policies && in->policies->n > 0)
                                          : (prev && prev->policy && prev->policy->n > 0);
    lv_tier tier = LV_TIER_STANDARD;
    if ((rc = choose_tier(cur, in, in->value_len, has_policies, &tier, err)) != LV_OK)
        return rc;
    for (unsigned i = 0; i < in->ntags; i++)
        if ((rc = lv_tag_check(in->tags[i].key, in->tags[i].value, err)) != LV_OK)
            return rc;
    if (in->ntags > LV_MAX_TAGS)
        return lv_error_set(err, LV_E_TOO_MANY_TAGS,
                            "A parameter can have at most %d tags.", LV_MAX_TAGS);

    uint32_t version = prev ? prev->version + 1 : 1;
    lv_param *p = cur ? lv_param_clone(cur) : lv_param_new(region, name);
    if (p == NULL)
        return LV_E_NOMEM;
    /* A new single-level parameter is answered as it was spelled ("/x" or
     * "x"); an existing one keeps the spelling it was created with. */
    if (cur == NULL && in->slash && name[0] != '/' && strchr(name, '/') == NULL) {
        char *sp = malloc(strlen(name) + 2);
        rc = sp == NULL ? LV_E_NOMEM : LV_OK;
        if (sp != NULL) {
            sp[0] = '/';
            strcpy(sp + 1, name);
            rc = lv_param_set_created(p, sp);
            free(sp);
        }
        if (rc != LV_OK) {
            lv_param_free(p);
            return lv_error_set(err, rc, "out of memory");
        }
    }
    if (p->nversions >= LV_MAX_VERSIONS) {
        if (p->versions[0]->nlabels > 0) {
            lv_error_set(err, LV_E_PARAM_MAX_VERSION,
                         "You attempted to create a new version of %s by calling the PutParameter "
                         "API with the overwrite flag. Version %u, the oldest version, can't be "
                         "deleted because it has a label associated with it. Move the label to "
                         "another version of the parameter, and try again.",
                         name, p->versions[0]->version);
            lv_param_free(p);
            return LV_E_PARAM_MAX_VERSION;
        }
        lv_param_drop_oldest(p);
    }
    lv_version *v = lv_version_new();
    if (v == NULL) {
        lv_param_free(p);
        return LV_E_NOMEM;
    }
    v->version = version;
    v->type = type;
    v->tier = tier;
    v->modified_ms = in->now_ms;
    bool ok = true;
    if (prev != NULL) {
        ok = set_str(&v->description, prev->description) &&
             set_str(&v->allowed_pattern, prev->allowed_pattern) &&
             set_str(&v->key_id, prev->key_id) && set_str(&v->policies, prev->policies);
        if (ok && prev->policy != NULL && in->policies_text == NULL) {
            v->policy = malloc(sizeof *v->policy);
            ok = v->policy != NULL;
            if (ok)
                *v->policy = *prev->policy;
        }
    }
    ok = ok && set_str(&v->description, in->description) &&
         set_str(&v->allowed_pattern, in->allowed_pattern) &&
         set_str(&v->modified_user, in->user);
    v->data_type = data_type;
    if (ok && type == LV_TYPE_SECURE_STRING)
        ok = set_str(&v->key_id, in->key_id ? in->key_id : (v->key_id ? NULL : LV_DEFAULT_KEY_ID));
    if (ok && in->policies_text != NULL) {
        free(v->policies);
        free(v->policy);
        v->policies = NULL;
        v->policy = NULL;
        if (in->policies && in->policies->n > 0) {
            ok = set_str(&v->policies, in->policies_text);
            v->policy = ok ? malloc(sizeof *v->policy) : NULL;
            ok = v->policy != NULL;
            if (ok)
                *v->policy = *in->policies;
        }
    }
    if (ok && type == LV_TYPE_SECURE_STRING) {
        rc = seal(seal_ctx, region, name, version, v->key_id, in->value, in->value_len,
                  &v->value, &v->value_len, err);
        if (rc != LV_OK) {
            lv_version_unref(v);
            lv_param_free(p);
            return rc;
        }
    } else if (ok) {
        v->value = malloc(in->value_len + 1);
        ok = v->value != NULL;
        if (ok) {
            memcpy(v->value, in->value, in->value_len);
            v->value[in->value_len] = '\0';
            v->value_len = in->value_len;
        }
    }
    for (unsigned i = 0; ok && i < in->ntags; i++)
        ok = lv_param_set_tag(p, in->tags[i].key, in->tags[i].value) == LV_OK;
    if (!ok || lv_param_append_version(p, v) != LV_OK) {
        lv_version_unref(v);
        lv_param_free(p);
        return LV_E_NOMEM;
    }
    res->version = version;
    res->tier = tier;
    *out = p;
    return LV_OK;
}

static lv_err find_target(const lv_param *cur, uint32_t version, unsigned *idx, lv_error *err)
{
    if (cur == NULL)
        return lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter not found.");
    if (version == 0) {
        *idx = cur->nversions - 1;
        return LV_OK;
    }
    for (unsigned i = 0; i < cur->nversions; i++)
        if (cur->versions[i]->version == version) {
            *idx = i;
            return LV_OK;
        }
    return lv_error_set(err, LV_E_PARAM_VERSION_NOT_FOUND,
                        "Systems Manager could not find version %u of %s. Verify the version and try again.",
                        version, lv_param_shown(cur));
}

static bool has_label(const lv_version *v, const char *label)
{
    for (unsigned i = 0; i < v->nlabels; i++)
        if (strcmp(v->labels[i], label) == 0)
            return true;
    return false;
}

static void remove_label(lv_version *v, const char *label)
{
    for (unsigned i = 0; i < v->nlabels; i++)
        if (strcmp(v->labels[i], label) == 0) {
            free(v->labels[i]);
            memmove(v->labels + i, v->labels + i + 1, (v->nlabels - i - 1) * sizeof *v->labels);
            v->nlabels--;
            return;
        }
}

lv_err lv_plan_label(const lv_param *cur, uint32_t version, const char *const *labels,
                     unsigned nlabels, lv_param **out, lv_label_result *res, lv_error *err)
{
    unsigned idx = 0;
    lv_err rc = find_target(cur, version, &idx, err);
    if (rc != LV_OK)
        return rc;
    memset(res, 0, sizeof *res);
    res->version = cur->versions[idx]->version;
    /* Count what the target would carry before touching anything. */
    unsigned total = cur->versions[idx]->nlabels;
    for (unsigned i = 0; i < nlabels; i++) {
        bool dup = false;
        for (unsigned j = 0; j < i; j++)
            dup = dup || strcmp(labels[i], labels[j]) == 0;
        if (dup)
            continue;
        if (!lv_label_valid(labels[i])) {
            if (res->ninvalid < 10)
                res->invalid[res->ninvalid++] = labels[i];
        } else if (!has_label(cur->versions[idx], labels[i])) {
            total++;
        }
    }
    if (total > LV_MAX_LABELS_PER_VERSION)
        return lv_error_set(err, LV_E_PARAM_VERSION_LABEL_LIMIT,
                            "A parameter version can have maximum %d labels. Move one or more "
                            "labels to another version and try again.", LV_MAX_LABELS_PER_VERSION);
    lv_param *p = lv_param_clone(cur);
    if (p == NULL)
        return LV_E_NOMEM;
    for (unsigned i = 0; i < nlabels; i++) {
        if (!lv_label_valid(labels[i]) || has_label(p->versions[idx], labels[i]))
            continue;
        for (unsigned j = 0; j < p->nversions; j++) {
            if (j == idx || !has_label(p->versions[j], labels[i]))
                continue;
            lv_version *o = lv_param_edit_version(p, j);
            if (o == NULL)
                goto nomem;
            remove_label(o, labels[i]);
        }
        lv_version *t = lv_param_edit_version(p, idx);
        if (t == NULL || lv_version_add_label(t, labels[i]) != LV_OK)
            goto nomem;
        res->changed = true;
    }
    *out = p;
    return LV_OK;
nomem:
    lv_param_free(p);
    return LV_E_NOMEM;
}

lv_err lv_plan_unlabel(const lv_param *cur, uint32_t version, const char *const *labels,
                       unsigned nlabels, lv_param **out, lv_label_result *res, lv_error *err)
{
    if (cur == NULL)
        return lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter not found.");
    if (version == 0)
        return lv_error_set(err, LV_E_VALIDATION,
                            "1 validation error detected: Value null at 'parameterVersion' failed to "
                            "satisfy constraint: Member must not be null.");
    unsigned idx = 0;
    lv_err rc = find_target(cur, version, &idx, err);
    if (rc != LV_OK)
        return rc;
    memset(res, 0, sizeof *res);
    res->version = version;
    lv_param *p = lv_param_clone(cur);
    if (p == NULL)
        return LV_E_NOMEM;
    for (unsigned i = 0; i < nlabels && i < 10; i++) {
        if (has_label(p->versions[idx], labels[i])) {
            lv_version *t = lv_param_edit_version(p, idx);
            if (t == NULL) {
                lv_param_free(p);
                return LV_E_NOMEM;
            }
            remove_label(t, labels[i]);
            res->removed[res->nremoved++] = labels[i];
            res->changed = true;
        } else {
            res->invalid[res->ninvalid++] = labels[i];
        }
    }
    *out = p;
    return LV_OK;
}

lv_err lv_plan_add_tags(const lv_param *cur, const lv_tag_in *tags, unsigned ntags,
                        lv_param **out, lv_error *err)
{
    lv_err rc;
    for (unsigned i = 0; i < ntags; i++)
        if ((rc = lv_tag_check(tags[i].key, tags[i].value, err)) != LV_OK)
            return rc;
    lv_param *p = lv_param_clone(cur);
    if (p == NULL)
        return LV_E_NOMEM;
    for (unsigned i = 0; i < ntags; i++) {
        if ((rc = lv_param_set_tag(p, tags[i].key, tags[i].value)) != LV_OK) {
            lv_param_free(p);
            return rc;
        }
    }
    if (p->ntags > LV_MAX_TAGS) {
        lv_param_free(p);
        return lv_error_set(err, LV_E_TOO_MANY_TAGS,
                            "The Targets parameter includes too many tags. Remove one or more tags "
                            "and try the command again (at most %d tags per parameter).", LV_MAX_TAGS);
    }
    *out = p;
    return LV_OK;
}

lv_err lv_plan_remove_tags(const lv_param *cur, const char *const *keys, unsigned nkeys,
                           lv_param **out, lv_error *err)
{
    (void)err;
    lv_param *p = lv_param_clone(cur);
    if (p == NULL)
        return LV_E_NOMEM;
    for (unsigned i = 0; i < nkeys; i++)
        lv_param_remove_tag(p, keys[i]);
    *out = p;
    return LV_OK;
}
