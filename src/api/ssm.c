/* ssm.c - Parameter Store operations: decode and check each request
 * against the botocore shapes, call the engine, encode the answer. The
 * operations that walk the tree (GetParametersByPath, DescribeParameters)
 * are in ssm_query.c. */
#include "api/ssm.h"
#include "api/label_deploy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/jreq.h"
#include "api/ssm_int.h"
#include "json/flat.h"
#include "json/jw.h"
#include "api/policy_json.h"
#include "core/name.h"
#include "core/token.h"
#include "crypto/crypto.h"

/* ---------- shared helpers ---------- */

static const char *const type_enum[] = {"String", "StringList", "SecureString", NULL};
static const char *const tier_enum[] = {"Standard", "Advanced", "Intelligent-Tiering", NULL};
static const char *const resource_type_enum[] = {
    "Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline",
    "OpsItem", "OpsMetadata", "Automation", "Association", NULL};

/* ParameterNotFound names the parameter as the caller spelled it. */
static lv_err not_found_n(lv_error *err, const char *name, size_t len)
{
    return lv_error_set(err, LV_E_PARAM_NOT_FOUND, "Parameter %.*s not found.", (int)len, name);
}

static lv_err not_found(lv_error *err, const char *name)
{
    return not_found_n(err, name, strlen(name));
}

/* Writes the Value field: plaintext, or for a SecureString either the
 * decrypted value or the base64 envelope. */
static lv_err put_value(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v,
                        bool decrypt, lv_error *err)
{
    jw_key(w, "Value");
    if (v->type != LV_TYPE_SECURE_STRING) {
        jw_strn(w, v->value, v->value_len);
        return LV_OK;
    }
    if (decrypt && c->decrypt != NULL) {
        lv_err d = c->decrypt->allowed(c->decrypt, p->region, v->key_id ? v->key_id : "alias/aws/ssm", err);
        if (d != LV_OK)
            return d;
    }
    lv_buf tmp = LV_BUF_INIT;
    lv_err rc = decrypt ? lv_engine_decrypt(c->engine, p, v, &tmp, err)
                        : lv_base64_encode(v->value, v->value_len, &tmp);
    if (rc == LV_OK)
        jw_strn(w, tmp.data ? tmp.data : "", tmp.len);
    else if (decrypt)
        rc = lv_error_set(err, LV_E_INTERNAL, "The value of %s could not be decrypted.", p->name);
    lv_buf_free(&tmp);
    return rc;
}

static void put_arn(const lv_ssm_ctx *c, jw *w, const lv_param *p)
{
    lv_buf arn = LV_BUF_INIT;
    if (lv_name_arn(p->region, c->account, p->name, &arn) != LV_OK) {
        w->rc = LV_E_NOMEM;
        return;
    }
    jw_kstr(w, "ARN", arn.data);
    lv_buf_free(&arn);
}

/* A version's Parameter object as rendered once (lv_version.wire): the
 * same for every read without a selector or decryption, for one account. */
typedef struct wire {
    size_t len;
    char account[16];
    char json[];
} wire;

static lv_err render_parameter(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v,
                               const char *selector, bool decrypt, lv_error *err);

/* The Parameter shape of GetParameter / GetParameters / GetParametersByPath. */
lv_err ssm_put_parameter(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v,
                         const char *name_as_asked, const char *selector, bool decrypt, lv_error *err)
{
    (void)name_as_asked;
    bool plain = v->type != LV_TYPE_SECURE_STRING || !decrypt; /* never keep a decrypted secret */
    if (selector != NULL || !plain || strlen(c->account) >= sizeof ((wire *)0)->account)
        return render_parameter(c, w, p, v, selector, decrypt, err);
    wire *have = __atomic_load_n((wire *const *)&v->wire, __ATOMIC_ACQUIRE);
    if (have != NULL && strcmp(have->account, c->account) == 0) {
        jw_raw(w, have->json, have->len);
        return LV_OK;
    }
    lv_buf tmp = LV_BUF_INIT;
    jw j;
    jw_init(&j, &tmp);
    lv_err rc = render_parameter(c, &j, p, v, NULL, false, err);
    if (rc == LV_OK && j.rc != LV_OK)
        rc = lv_error_set(err, j.rc, "out of memory");
    if (rc == LV_OK) {
        jw_raw(w, tmp.data, tmp.len);
        wire *made = have == NULL ? malloc(sizeof *made + tmp.len + 1) : NULL;
        if (made != NULL) {
            made->len = tmp.len;
            snprintf(made->account, sizeof made->account, "%s", c->account);
            memcpy(made->json, tmp.data, tmp.len);
            made->json[tmp.len] = '\0';
            void *none = NULL;
            /* another reader may have been first: then its copy stays */
            if (!__atomic_compare_exchange_n((void **)&((lv_version *)v)->wire, &none, made, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                free(made);
        }
    }
    lv_buf_free(&tmp);
    return rc;
}

static lv_err render_parameter(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v,
                               const char *selector, bool decrypt, lv_error *err)
{
    jw_obj(w);
    jw_kstr(w, "Name", lv_param_shown(p));
    jw_kstr(w, "Type", lv_ptype_name(v->type));
    lv_err rc = put_value(c, w, p, v, decrypt, err);
    if (rc != LV_OK)
        return rc;
    jw_kint(w, "Version", v->version);
    if (selector != NULL)
        jw_kstr(w, "Selector", selector);
    jw_key(w, "LastModifiedDate");
    jw_time(w, v->modified_ms);
    put_arn(c, w, p);
    jw_kstr(w, "DataType", v->data_type ? v->data_type : "text");
    jw_obj_end(w);
    return LV_OK;
}

static void put_policies(jw *w, const lv_version *v)
{
    jw_key(w, "Policies");
    jw_arr(w);
    if (v->policy != NULL && v->policies != NULL) {
        /* Each policy is reported with its text; the document as sent is
         * split per element so PolicyText is one policy, as AWS does. */
        json_t *doc = json_loads(v->policies, 0, NULL);
        for (unsigned i = 0; i < v->policy->n; i++) {
            jw_obj(w);
            char *text = NULL;
            json_t *item = doc ? json_array_get(doc, i) : NULL;
            if (item)
                text = json_dumps(item, JSON_COMPACT);
            jw_kstr(w, "PolicyText", text ? text : "");
            free(text);
            jw_kstr(w, "PolicyType", lv_policy_type_name(v->policy->p[i].type));
            jw_kstr(w, "PolicyStatus", "Pending");
            jw_obj_end(w);
        }
        json_decref(doc);
    }
    jw_arr_end(w);
}

/* The canonical form of a client-supplied name. An ARN must name this
 * account and the region the request is signed for: another account's or
 * region's parameter is not here. */
static lv_err canon_in(const lv_ssm_ctx *c, const char *in, size_t len, lv_buf *out, lv_error *err)
{
    if (len >= 4 && memcmp(in, "arn:", 4) == 0) {
        lv_buf want = LV_BUF_INIT;
        lv_err rc = lv_buf_printf(&want, "arn:aws:ssm:%s:%s:parameter/", c->region, c->account);
        bool ok = rc == LV_OK && len > want.len && memcmp(in, want.data, want.len) == 0;
        lv_buf_free(&want);
        if (rc != LV_OK)
            return lv_error_set(err, rc, "out of memory");
        if (!ok)
            return lv_error_set(err, LV_E_VALIDATION,
                                "The ARN does not name a parameter of account %s in %s.", c->account,
                                c->region);
    }
    return lv_name_canonical(in, len, out, err);
}


/* ---------- PutParameter ---------- */

/* The name a PutParameter creates or overwrites. AWS trims spaces around
 * it, takes no ARN here, and counts the 1011-character limit on the whole
 * ARN the name will have ("arn:aws:ssm:<region>:<account>:parameter/..."). */
static lv_err put_name(const lv_ssm_ctx *c, const char *name, size_t len, lv_buf *cn, bool *slash,
                       lv_error *err)
{
    while (len > 0 && name[0] == ' ') {
        name++;
        len--;
    }
    while (len > 0 && name[len - 1] == ' ')
        len--;
    /* "/x" for a single-level name: answers keep that spelling. */
    *slash = len > 1 && name[0] == '/' && memchr(name + 1, '/', len - 1) == NULL;
    if (len >= 4 && memcmp(name, "arn:", 4) == 0)
        return lv_error_set(err, LV_E_VALIDATION,
                            "PutParameter takes the parameter name, not its ARN.");
    lv_err rc = canon_in(c, name, len, cn, err);
    if (rc != LV_OK)
        return rc;
    lv_buf arn = LV_BUF_INIT;
    rc = lv_name_arn(c->region, c->account, cn->data, &arn);
    size_t arn_len = arn.len;
    lv_buf_free(&arn);
    if (rc != LV_OK)
        return lv_error_set(err, rc, "out of memory");
    if (arn_len > LV_NAME_MAX)
        return lv_error_set(err, LV_E_VALIDATION,
                            "Parameter name is too long: with its ARN prefix it has %zu characters; "
                            "the maximum is %d.", arn_len, LV_NAME_MAX);
    return LV_OK;
}

static lv_err op_put_parameter(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t nlen = 0, vlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    const char *value = jreq_str(r, NULL, "Value", true, 0, 0, &vlen);
    const char *desc = jreq_str(r, NULL, "Description", false, 0, 1024, NULL);
    const char *type = jreq_enum(r, NULL, "Type", false, type_enum);
    const char *key_id = jreq_str(r, NULL, "KeyId", false, 1, 256, NULL);
    const char *pattern = jreq_str(r, NULL, "AllowedPattern", false, 0, 1024, NULL);
    const char *tier = jreq_enum(r, NULL, "Tier", false, tier_enum);
    size_t plen = 0;
    const char *policies = jreq_str(r, NULL, "Policies", false, 1, 4096, &plen);
    const char *data_type = jreq_str(r, NULL, "DataType", false, 0, 128, NULL);
    bool overwrite = false;
    jreq_bool(r, NULL, "Overwrite", &overwrite);
    json_t *tags = jreq_array(r, NULL, "Tags", false, 0, 1000);
    if (key_id != NULL) {
        for (const char *k = key_id; *k; k++)
            if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                  strchr(":/_-", *k))) {
                jreq_fail(r, key_id, "keyId", "Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$");
                break;
            }
    }
    size_t ntags = tags ? json_array_size(tags) : 0;
    lv_tag_in *tin = ntags ? calloc(ntags, sizeof *tin) : NULL;
    if (ntags && tin == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < ntags; i++) {
        json_t *t = json_array_get(tags, i);
        if (!json_is_object(t)) {
            jreq_fail(r, "(not an object)", "tags", "Member must be a list of Tag objects");
            break;
        }
        tin[i].key = jreq_str(r, t, "Key", true, 1, 128, NULL);
        tin[i].value = jreq_str(r, t, "Value", true, 0, 256, NULL);
    }
    lv_err rc = jreq_finish(r, err);
    lv_buf cn = LV_BUF_INIT;
    lv_policy_set pset;
    bool slash = false;
    if (rc == LV_OK)
        rc = put_name(c, name, nlen, &cn, &slash, err);
    if (rc == LV_OK && policies != NULL)
        rc = lv_policy_parse(policies, plen, &pset, err);
    if (rc == LV_OK) {
        lv_put_input in = {0};
        in.value = value;
        in.value_len = vlen;
        if (type != NULL) {
            in.has_type = true;
            lv_ptype_parse(type, &in.type);
        }
        in.description = desc;
        in.key_id = key_id;
        in.allowed_pattern = pattern;
        in.data_type = data_type;
        in.policies_text = policies;
        in.policies = policies ? &pset : NULL;
        in.overwrite = overwrite;
        if (tier != NULL) {
            in.has_tier = true;
            lv_tier_parse(tier, &in.tier);
        }
        in.tags = tin;
        in.ntags = (unsigned)ntags;
        in.user = c->user_arn;
        in.now_ms = c->now_ms;
        in.slash = slash;
        lv_write wr;
        memset(&wr, 0, sizeof wr);
        wr.kind = LV_WRITE_PUT;
        wr.region = c->region;
        wr.name = cn.data;
        wr.u.put.in = &in;
        lv_engine_write(c->engine, &wr, 1);
        rc = wr.rc;
        if (rc != LV_OK) {
            *err = wr.err;
        } else {
            jw_obj(w);
            jw_kint(w, "Version", wr.u.put.res.version);
            jw_kstr(w, "Tier", lv_tier_name(wr.u.put.res.tier));
            jw_obj_end(w);
        }
    }
    lv_buf_free(&cn);
    free(tin);
    return rc;
}

/* ---------- GetParameter / GetParameters ---------- */

/* Resolves "name[:selector]" to a parameter and version under the read
 * lock. *selector_out points into buf (":3" / ":label") or is NULL.
 * *shown (unless NULL) gets the name as the parameter was created: "/x" and "x" reach
 * the same parameter, and answers spell it as it was created. */
static lv_err resolve(const lv_ssm_ctx *c, const char *in, size_t len, lv_buf *buf, lv_buf *cn,
                      lv_buf *shown, const lv_param **pp, const lv_version **vp,
                      const char **selector_out, lv_error *err)
{
    lv_buf_reset(buf);
    lv_err rc = lv_buf_append(buf, in, len);
    if (rc != LV_OK)
        return rc;
    size_t name_len;
    lv_selector sel;
    if ((rc = lv_selector_split(buf->data, len, &name_len, &sel, err)) != LV_OK)
        return rc;
    if ((rc = canon_in(c, buf->data, name_len, cn, err)) != LV_OK)
        return rc;
    *selector_out = sel.has_selector ? buf->data + name_len : NULL;
    if (sel.has_selector)
        buf->data[name_len] = ':'; /* restore for the Selector field */
    const lv_param *p = lv_engine_get(c->engine, c->region, cn->data);
    if (p == NULL)
        return not_found_n(err, buf->data, name_len);
    const lv_version *v;
    if (!sel.has_selector)
        v = lv_param_latest(p);
    else if (sel.is_version)
        v = lv_param_find_version(p, sel.version);
    else {
        v = lv_param_find_label(p, sel.label);
        /* A rollout of the label answers by the reader's bucket. */
        uint32_t want = lv_label_deploy_serve_side(c->engine, c->region, cn->data, sel.label, c->entity, c->side,
                                                   v ? v->version : 0, c->rollout);
        if (want != (v ? v->version : 0))
            v = lv_param_find_version(p, want);
    }
    if (v == NULL) {
        if (sel.is_version)
            return lv_error_set(err, LV_E_PARAM_VERSION_NOT_FOUND,
                                "Systems Manager could not find version %u of %s. Verify the version and try again.",
                                sel.version, lv_param_shown(p));
        return lv_error_set(err, LV_E_PARAM_VERSION_NOT_FOUND,
                            "Systems Manager could not find label %s of %s. Verify the label and try again.",
                            sel.label, lv_param_shown(p));
    }
    if (shown != NULL) {
        lv_buf_reset(shown);
        if ((rc = lv_buf_puts(shown, lv_param_shown(p))) != LV_OK)
            return lv_error_set(err, rc, "out of memory");
    }
    *pp = p;
    *vp = v;
    return LV_OK;
}

static lv_err get_parameter(const lv_ssm_ctx *c, const char *name, size_t nlen, bool decrypt, jw *w,
                            lv_error *err)
{
    lv_buf buf = LV_BUF_INIT, cn = LV_BUF_INIT;
    const lv_param *p;
    const lv_version *v;
    const char *sel;
    lv_engine_rdlock(c->engine);
    lv_err rc = resolve(c, name, nlen, &buf, &cn, NULL, &p, &v, &sel, err);
    if (rc == LV_OK) {
        /* {"Parameter": ...}: the object and its one key written as they are */
        jw_raw(w, "{\"Parameter\":", 13);
        w->need_comma = false;
        rc = ssm_put_parameter(c, w, p, v, NULL, sel, decrypt, err);
        jw_obj_end(w);
    }
    lv_engine_rdunlock(c->engine);
    lv_buf_free(&buf);
    lv_buf_free(&cn);
    return rc;
}

static lv_err op_get_parameter(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t nlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    bool decrypt = false;
    jreq_bool(r, NULL, "WithDecryption", &decrypt);
    lv_err rc = jreq_finish(r, err);
    return rc != LV_OK ? rc : get_parameter(c, name, nlen, decrypt, w, err);
}

/* The common GetParameter body, {"Name":"...","WithDecryption":bool},
 * read without building a JSON object; *handled is false for any other
 * body, which then takes the general path (and its errors). */
static lv_err get_parameter_flat(const lv_ssm_ctx *c, const char *body, size_t len, jw *w, bool *handled,
                                 lv_error *err)
{
    lv_flat_field f[2];
    int n = lv_json_flat_fields(body, len, f, 2);
    const char *name = NULL;
    size_t nlen = 0;
    bool decrypt = false;
    *handled = false;
    for (int k = 0; k < n; k++) {
        if (f[k].key_len == 4 && memcmp(f[k].key, "Name", 4) == 0 && f[k].kind == LV_FLAT_STRING) {
            name = f[k].str;
            nlen = f[k].str_len;
        } else if (f[k].key_len == 14 && memcmp(f[k].key, "WithDecryption", 14) == 0 &&
                   (f[k].kind == LV_FLAT_TRUE || f[k].kind == LV_FLAT_FALSE)) {
            decrypt = f[k].kind == LV_FLAT_TRUE;
        } else {
            return LV_OK;
        }
    }
    if (name == NULL || nlen < 1 || nlen > LV_NAME_WIRE_MAX)
        return LV_OK;
    *handled = true;
    return get_parameter(c, name, nlen, decrypt, w, err);
}

static lv_err op_get_parameters(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    json_t *names = jreq_array(r, NULL, "Names", true, 1, 10);
    bool decrypt = false;
    jreq_bool(r, NULL, "WithDecryption", &decrypt);
    size_t n = names ? json_array_size(names) : 0;
    for (size_t i = 0; i < n; i++)
        jreq_elem_str(r, names, i, "names", 1, LV_NAME_WIRE_MAX);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    /* Resolve every name, then answer in name order as AWS does. */
    struct found {
        lv_buf buf, asked;
        const lv_param *p;
        const lv_version *v;
        const char *sel;
    } f[10];
    size_t nf = 0;
    lv_buf cn = LV_BUF_INIT, invalid = LV_BUF_INIT;
    memset(f, 0, sizeof f);
    jw inv;
    jw_init(&inv, &invalid);
    jw_arr(&inv);
    jw_obj(w);
    jw_key(w, "Parameters");
    jw_arr(w);
    lv_engine_rdlock(c->engine);
    for (size_t i = 0; i < n && i < 10 && rc == LV_OK; i++) {
        json_t *e = json_array_get(names, i);
        const char *s = json_string_value(e);
        size_t sl = json_string_length(e);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(json_string_value(json_array_get(names, j)), s) == 0;
        if (dup)
            continue;
        lv_error e2;
        struct found *x = &f[nf];
        lv_err r2 = resolve(c, s, sl, &x->buf, &cn, &x->asked, &x->p, &x->v, &x->sel, &e2);
        if (r2 == LV_OK)
            nf++;
        else if (r2 == LV_E_NOMEM)
            rc = lv_error_set(err, r2, "out of memory");
        else
            jw_strn(&inv, s, sl);
    }
    for (size_t i = 1; i < nf; i++) /* at most ten: insertion sort */
        for (size_t j = i; j > 0 && strcmp(f[j - 1].asked.data, f[j].asked.data) > 0; j--) {
            struct found t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
    for (size_t i = 0; i < nf && rc == LV_OK; i++)
        rc = ssm_put_parameter(c, w, f[i].p, f[i].v, f[i].asked.data, f[i].sel, decrypt, err);
    lv_engine_rdunlock(c->engine);
    jw_arr_end(w);
    jw_arr_end(&inv);
    jw_key(w, "InvalidParameters");
    jw_raw(w, invalid.data, invalid.len);
    jw_obj_end(w);
    for (size_t i = 0; i < 10; i++) {
        lv_buf_free(&f[i].buf);
        lv_buf_free(&f[i].asked);
    }
    lv_buf_free(&cn);
    lv_buf_free(&invalid);
    return rc;
}

void ssm_put_metadata(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v)
{
    jw_obj(w);
    jw_kstr(w, "Name", lv_param_shown(p));
    put_arn(c, w, p);
    jw_kstr(w, "Type", lv_ptype_name(v->type));
    if (v->key_id)
        jw_kstr(w, "KeyId", v->key_id);
    jw_key(w, "LastModifiedDate");
    jw_time(w, v->modified_ms);
    if (v->modified_user)
        jw_kstr(w, "LastModifiedUser", v->modified_user);
    if (v->description)
        jw_kstr(w, "Description", v->description);
    if (v->allowed_pattern)
        jw_kstr(w, "AllowedPattern", v->allowed_pattern);
    jw_kint(w, "Version", v->version);
    jw_kstr(w, "Tier", lv_tier_name(v->tier));
    put_policies(w, v);
    jw_kstr(w, "DataType", v->data_type ? v->data_type : "text");
    jw_obj_end(w);
}

/* ---------- GetParameterHistory ---------- */

static lv_err op_get_parameter_history(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t nlen = 0, tlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    bool decrypt = false;
    jreq_bool(r, NULL, "WithDecryption", &decrypt);
    int64_t max = 50;
    jreq_int(r, NULL, "MaxResults", false, 1, 50, &max);
    const char *token = jreq_str(r, NULL, "NextToken", false, 0, 0, &tlen);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    lv_buf cn = LV_BUF_INIT, pos = LV_BUF_INIT;
    if ((rc = canon_in(c, name, nlen, &cn, err)) != LV_OK) {
        lv_buf_free(&cn);
        return rc;
    }
    uint32_t qh = lv_token_hash(lv_token_hash(0, c->region, strlen(c->region) + 1), cn.data, cn.len);
    uint32_t start_after = 0;
    if (token != NULL && tlen > 0) {
        if ((rc = lv_token_decode('H', qh, token, tlen, &pos, err)) != LV_OK)
            goto out;
        if (pos.len != 4) {
            rc = lv_error_set(err, LV_E_INVALID_NEXT_TOKEN, "The specified token isn't valid.");
            goto out;
        }
        const unsigned char *b = (const unsigned char *)pos.data;
        start_after = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    lv_engine_rdlock(c->engine);
    const lv_param *p = lv_engine_get(c->engine, c->region, cn.data);
    if (p == NULL) {
        rc = not_found(err, name);
    } else {
        jw_obj(w);
        jw_key(w, "Parameters");
        jw_arr(w);
        int64_t count = 0;
        uint32_t last = 0;
        bool more = false;
        for (unsigned i = 0; i < p->nversions && rc == LV_OK; i++) {
            const lv_version *v = p->versions[i];
            if (v->version <= start_after)
                continue;
            if (count == max) {
                more = true;
                break;
            }
            jw_obj(w);
            jw_kstr(w, "Name", lv_param_shown(p));
            jw_kstr(w, "Type", lv_ptype_name(v->type));
            if (v->key_id)
                jw_kstr(w, "KeyId", v->key_id);
            jw_key(w, "LastModifiedDate");
            jw_time(w, v->modified_ms);
            if (v->modified_user)
                jw_kstr(w, "LastModifiedUser", v->modified_user);
            if (v->description)
                jw_kstr(w, "Description", v->description);
            rc = put_value(c, w, p, v, decrypt, err);
            if (v->allowed_pattern)
                jw_kstr(w, "AllowedPattern", v->allowed_pattern);
            jw_kint(w, "Version", v->version);
            jw_key(w, "Labels");
            jw_arr(w);
            for (unsigned j = 0; j < v->nlabels; j++)
                jw_str(w, v->labels[j]);
            jw_arr_end(w);
            jw_kstr(w, "Tier", lv_tier_name(v->tier));
            put_policies(w, v);
            jw_kstr(w, "DataType", v->data_type ? v->data_type : "text");
            jw_obj_end(w);
            last = v->version;
            count++;
        }
        jw_arr_end(w);
        if (rc == LV_OK && more) {
            unsigned char b[4] = {(unsigned char)(last >> 24), (unsigned char)(last >> 16),
                                  (unsigned char)(last >> 8), (unsigned char)last};
            lv_buf tok = LV_BUF_INIT;
            rc = lv_token_encode('H', qh, b, 4, &tok);
            if (rc == LV_OK)
                jw_kstr(w, "NextToken", tok.data);
            lv_buf_free(&tok);
        }
        jw_obj_end(w);
    }
    lv_engine_rdunlock(c->engine);
out:
    lv_buf_free(&cn);
    lv_buf_free(&pos);
    return rc;
}

/* Runs one write on name in the caller's region; on success answers the
 * empty object these operations return. */
static lv_err write_empty(const lv_ssm_ctx *c, lv_write *wr, const char *name, jw *w, lv_error *err)
{
    wr->region = c->region;
    wr->name = name;
    lv_engine_write(c->engine, wr, 1);
    if (wr->rc != LV_OK) {
        *err = wr->err;
        return wr->rc;
    }
    jw_obj(w);
    jw_obj_end(w);
    return LV_OK;
}

/* ---------- DeleteParameter(s) ---------- */

static lv_err op_delete_parameter(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t nlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    lv_buf cn = LV_BUF_INIT;
    if ((rc = canon_in(c, name, nlen, &cn, err)) != LV_OK) {
        lv_buf_free(&cn);
        return rc;
    }
    lv_write wr;
    memset(&wr, 0, sizeof wr);
    wr.kind = LV_WRITE_DELETE;
    rc = write_empty(c, &wr, cn.data, w, err);
    if (rc == LV_E_PARAM_NOT_FOUND)
        not_found(err, name);
    lv_buf_free(&cn);
    return rc;
}

static lv_err op_delete_parameters(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    json_t *names = jreq_array(r, NULL, "Names", true, 1, 10);
    size_t n = names ? json_array_size(names) : 0;
    for (size_t i = 0; i < n; i++)
        jreq_elem_str(r, names, i, "names", 1, LV_NAME_WIRE_MAX);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    lv_write wr[10];
    lv_buf cn[10];
    bool valid[10];
    size_t nw = 0, asked[10];
    memset(wr, 0, sizeof wr);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(names, i);
        cn[i] = (lv_buf)LV_BUF_INIT;
        valid[i] = canon_in(c, json_string_value(e), json_string_length(e), &cn[i], NULL) == LV_OK;
        for (size_t j = 0; j < i && valid[i]; j++)
            if (valid[j] && strcmp(cn[j].data, cn[i].data) == 0)
                valid[i] = false; /* duplicate: reported once */
        if (valid[i]) {
            wr[nw].kind = LV_WRITE_DELETE;
            wr[nw].region = c->region;
            wr[nw].name = cn[i].data;
            asked[nw] = i;
            nw++;
        }
    }
    lv_engine_write(c->engine, wr, nw);
    jw_obj(w);
    jw_key(w, "DeletedParameters");
    jw_arr(w);
    for (size_t i = 0; i < nw; i++) /* as the caller spelled them */
        if (wr[i].rc == LV_OK)
            jw_strn(w, json_string_value(json_array_get(names, asked[i])),
                    json_string_length(json_array_get(names, asked[i])));
    jw_arr_end(w);
    jw_key(w, "InvalidParameters");
    jw_arr(w);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(names, i);
        if (!valid[i]) {
            bool dup = false;
            for (size_t j = 0; j < i; j++)
                dup = dup || strcmp(json_string_value(json_array_get(names, j)), json_string_value(e)) == 0;
            if (!dup)
                jw_strn(w, json_string_value(e), json_string_length(e));
        } else {
            if (wr[k].rc == LV_E_PARAM_NOT_FOUND)
                jw_strn(w, json_string_value(e), json_string_length(e));
            else if (wr[k].rc != LV_OK && rc == LV_OK) {
                rc = wr[k].rc;
                *err = wr[k].err;
            }
            k++;
        }
        lv_buf_free(&cn[i]);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return rc;
}

/* ---------- labels ---------- */

static lv_err label_common(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err, bool unlabel)
{
    size_t nlen = 0;
    const char *name = jreq_str(r, NULL, "Name", true, 1, LV_NAME_WIRE_MAX, &nlen);
    int64_t version = 0;
    bool has_version = jreq_int(r, NULL, "ParameterVersion", unlabel, INT64_MIN, INT64_MAX, &version);
    /* More than 10 labels for one version is ParameterVersionLabelLimitExceeded
     * whether they come in one call or several (the engine counts those). */
    json_t *labels = jreq_array(r, NULL, "Labels", true, 1, unlabel ? 10 : 0);
    size_t n = labels ? json_array_size(labels) : 0;
    const char *lab[10];
    for (size_t i = 0; i < n && i < 10; i++)
        lab[i] = jreq_elem_str(r, labels, i, "labels", 1, 100);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    if (n > LV_MAX_LABELS_PER_VERSION)
        return lv_error_set(err, LV_E_PARAM_VERSION_LABEL_LIMIT,
                            "A parameter version can have maximum %d labels. Move one or more labels "
                            "to another version and try again.", LV_MAX_LABELS_PER_VERSION);
    if (has_version && (version < 1 || version > UINT32_MAX))
        return lv_error_set(err, LV_E_PARAM_VERSION_NOT_FOUND,
                            "Systems Manager could not find version %lld of %s. Verify the version and try again.",
                            (long long)version, name);
    lv_buf cn = LV_BUF_INIT;
    if ((rc = canon_in(c, name, nlen, &cn, err)) != LV_OK) {
        lv_buf_free(&cn);
        return rc;
    }
    lv_write wr;
    memset(&wr, 0, sizeof wr);
    wr.kind = unlabel ? LV_WRITE_UNLABEL : LV_WRITE_LABEL;
    wr.region = c->region;
    wr.name = cn.data;
    wr.u.label.version = has_version ? (uint32_t)version : 0;
    wr.u.label.labels = lab;
    wr.u.label.n = (unsigned)n;
    lv_engine_write(c->engine, &wr, 1);
    rc = wr.rc;
    if (rc == LV_E_PARAM_NOT_FOUND) {
        not_found(err, name);
    } else if (rc != LV_OK) {
        *err = wr.err;
    } else {
        const lv_label_result *res = &wr.u.label.res;
        jw_obj(w);
        if (unlabel) {
            jw_key(w, "RemovedLabels");
            jw_arr(w);
            for (unsigned i = 0; i < res->nremoved; i++)
                jw_str(w, res->removed[i]);
            jw_arr_end(w);
        }
        jw_key(w, "InvalidLabels");
        jw_arr(w);
        for (unsigned i = 0; i < res->ninvalid; i++)
            jw_str(w, res->invalid[i]);
        jw_arr_end(w);
        if (!unlabel)
            jw_kint(w, "ParameterVersion", res->version);
        jw_obj_end(w);
    }
    lv_buf_free(&cn);
    return rc;
}

static lv_err op_label(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    return label_common(c, r, w, err, false);
}

static lv_err op_unlabel(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    return label_common(c, r, w, err, true);
}

/* ---------- tags ---------- */

static lv_err tag_target(const lv_ssm_ctx *c, jreq *r, lv_buf *cn, lv_error *err)
{
    const char *rt = jreq_enum(r, NULL, "ResourceType", true, resource_type_enum);
    size_t idlen = 0;
    const char *id = jreq_str(r, NULL, "ResourceId", true, 0, 0, &idlen);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    /* A parameter's tags are reached as ResourceType Parameter only; the
     * other types the model lists name resources lever does not have. */
    if (strcmp(rt, "Parameter") != 0)
        return lv_error_set(err, LV_E_INVALID_RESOURCE_TYPE,
                            "The resource type isn't valid: %s. Parameter Store resources are tagged "
                            "with ResourceType Parameter.", rt);
    if (canon_in(c, id, idlen, cn, NULL) != LV_OK)
        return lv_error_set(err, LV_E_INVALID_RESOURCE_ID,
                            "The resource ID \"%s\" is not valid. Verify the ID and try again.", id);
    return LV_OK;
}

static lv_err op_add_tags(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    json_t *tags = jreq_array(r, NULL, "Tags", true, 0, 1000);
    size_t n = tags ? json_array_size(tags) : 0;
    lv_tag_in *tin = n ? calloc(n, sizeof *tin) : NULL;
    if (n && tin == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        if (!json_is_object(t)) {
            jreq_fail(r, "(not an object)", "tags", "Member must be a list of Tag objects");
            break;
        }
        tin[i].key = jreq_str(r, t, "Key", true, 1, 128, NULL);
        tin[i].value = jreq_str(r, t, "Value", true, 0, 256, NULL);
    }
    lv_buf cn = LV_BUF_INIT;
    lv_err rc = tag_target(c, r, &cn, err);
    if (rc == LV_OK) {
        lv_write wr;
        memset(&wr, 0, sizeof wr);
        wr.kind = LV_WRITE_ADD_TAGS;
        wr.u.tags.tags = tin;
        wr.u.tags.n = (unsigned)n;
        rc = write_empty(c, &wr, cn.data, w, err);
    }
    lv_buf_free(&cn);
    free(tin);
    return rc;
}

static lv_err op_remove_tags(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    json_t *keys = jreq_array(r, NULL, "TagKeys", true, 0, 0);
    size_t n = keys ? json_array_size(keys) : 0;
    const char **k = n ? calloc(n, sizeof *k) : NULL;
    if (n && k == NULL)
        return lv_error_set(err, LV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        k[i] = jreq_elem_str(r, keys, i, "tagKeys", 1, 128);
    lv_buf cn = LV_BUF_INIT;
    lv_err rc = tag_target(c, r, &cn, err);
    if (rc == LV_OK) {
        lv_write wr;
        memset(&wr, 0, sizeof wr);
        wr.kind = LV_WRITE_REMOVE_TAGS;
        wr.u.untag.keys = k;
        wr.u.untag.n = (unsigned)n;
        rc = write_empty(c, &wr, cn.data, w, err);
    }
    lv_buf_free(&cn);
    free(k);
    return rc;
}

static lv_err op_list_tags(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    lv_buf cn = LV_BUF_INIT;
    lv_err rc = tag_target(c, r, &cn, err);
    if (rc == LV_OK) {
        lv_engine_rdlock(c->engine);
        const lv_param *p = lv_engine_get(c->engine, c->region, cn.data);
        if (p == NULL) {
            rc = lv_error_set(err, LV_E_INVALID_RESOURCE_ID,
                              "The resource ID \"%s\" is not valid. Verify the ID and try again.", cn.data);
        } else {
            jw_obj(w);
            jw_key(w, "TagList");
            jw_arr(w);
            for (unsigned i = 0; i < p->ntags; i++) {
                jw_obj(w);
                jw_kstr(w, "Key", p->tags[i].key);
                jw_kstr(w, "Value", p->tags[i].value);
                jw_obj_end(w);
            }
            jw_arr_end(w);
            jw_obj_end(w);
        }
        lv_engine_rdunlock(c->engine);
    }
    lv_buf_free(&cn);
    return rc;
}

/* ---------- dispatch ---------- */

typedef lv_err (*op_fn)(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err);

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    {"PutParameter", op_put_parameter},
    {"GetParameter", op_get_parameter},
    {"GetParameters", op_get_parameters},
    {"GetParametersByPath", ssm_op_get_parameters_by_path},
    {"DeleteParameter", op_delete_parameter},
    {"DeleteParameters", op_delete_parameters},
    {"DescribeParameters", ssm_op_describe_parameters},
    {"GetParameterHistory", op_get_parameter_history},
    {"LabelParameterVersion", op_label},
    {"UnlabelParameterVersion", op_unlabel},
    {"AddTagsToResource", op_add_tags},
    {"ListTagsForResource", op_list_tags},
    {"RemoveTagsFromResource", op_remove_tags},
};

int lv_ssm_op_count(void)
{
    return (int)(sizeof ops / sizeof *ops);
}

const char *lv_ssm_op_name(int i)
{
    return i >= 0 && i < lv_ssm_op_count() ? ops[i].name : "unknown";
}

int lv_ssm_op_index(const char *op)
{
    for (int i = 0; i < lv_ssm_op_count(); i++)
        if (op[0] == ops[i].name[0] && strcmp(op, ops[i].name) == 0)
            return i;
    return -1;
}

lv_err lv_ssm_dispatch(const lv_ssm_ctx *c, const char *op, const char *body, size_t len,
                       lv_buf *out, lv_error *err)
{
    return lv_ssm_dispatch_parsed(c, op, NULL, body, len, out, err);
}

lv_err lv_ssm_dispatch_parsed(const lv_ssm_ctx *c, const char *op, void *parsed, const char *body,
                              size_t len, lv_buf *out, lv_error *err)
{
    int i = lv_ssm_op_index(op);
    if (i < 0)
        return lv_error_set(err, LV_E_UNKNOWN_OPERATION, "Operation %s is not supported.", op);
    jw w;
    if (parsed == NULL && ops[i].fn == op_get_parameter) {
        bool handled;
        jw_init(&w, out);
        lv_err rc = get_parameter_flat(c, body, len, &w, &handled, err);
        if (handled) {
            if (rc == LV_OK && w.rc != LV_OK)
                rc = lv_error_set(err, w.rc, "The response could not be built.");
            return rc;
        }
    }
    jreq r;
    lv_err rc = parsed ? jreq_adopt(&r, parsed, err) : jreq_parse(&r, body, len, err);
    if (rc != LV_OK)
        return rc;
    jw_init(&w, out);
    rc = ops[i].fn(c, &r, &w, err);
    if (rc == LV_OK && w.rc != LV_OK)
        rc = lv_error_set(err, w.rc, "The response could not be built.");
    jreq_free(&r);
    return rc;
}
