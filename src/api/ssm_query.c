/* ssm_query.c - the Parameter Store operations that walk the tree:
 * GetParametersByPath and DescribeParameters, with their filters (the
 * ParameterStringFilter / ParametersFilter rules) and paging. */
#include "api/ssm.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/jreq.h"
#include "api/ssm_int.h"
#include "core/name.h"
#include "core/token.h"
#include "json/jw.h"

/* ---------- filters (GetParametersByPath, DescribeParameters) ---------- */

enum fkey { K_NAME, K_PATH, K_TYPE, K_KEYID, K_TIER, K_DATATYPE, K_LABEL, K_TAG };
enum fopt { O_EQUALS, O_BEGINS, O_CONTAINS, O_RECURSIVE, O_ONELEVEL, O_UNKNOWN };

typedef struct pfilter {
    enum fkey key;
    const char *tag;          /* K_TAG: the tag key */
    enum fopt opt;
    const char *values[50];
    unsigned nvalues;
} pfilter;

enum { MAX_FILTERS = 20 };

static const char *key_names[] = {"Name", "Path", "Type", "KeyId", "Tier", "DataType", "Label"};

static lv_err parse_filters(jreq *r, json_t *arr, bool by_path, pfilter *f, unsigned *nf,
                            lv_error *err)
{
    *nf = 0;
    size_t n = arr ? json_array_size(arr) : 0;
    if (n > MAX_FILTERS)
        return lv_error_set(err, LV_E_VALIDATION, "At most %d parameter filters are allowed.", MAX_FILTERS);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        if (!json_is_object(o))
            return lv_error_set(err, LV_E_SERIALIZATION, "ParameterFilters must be a list of objects.");
        const char *key = jreq_str(r, o, "Key", true, 1, 132, NULL);
        const char *opt = jreq_str(r, o, "Option", false, 1, 10, NULL);
        json_t *vals = jreq_array(r, o, "Values", false, 1, 50);
        lv_err rc = jreq_finish(r, err);
        if (rc != LV_OK)
            return rc;
        pfilter *pf = &f[*nf];
        memset(pf, 0, sizeof *pf);
        bool known = false;
        if (strncmp(key, "tag:", 4) == 0 && key[4] != '\0') {
            pf->key = K_TAG;
            pf->tag = key + 4;
            known = true;
        }
        for (unsigned k = 0; !known && k < sizeof key_names / sizeof *key_names; k++)
            if (strcmp(key, key_names[k]) == 0) {
                pf->key = (enum fkey)k;
                known = true;
            }
        if (!known)
            return lv_error_set(err, LV_E_VALIDATION,
                                "1 validation error detected: Value '%.132s' at 'parameterFilters.%zu.member.key' "
                                "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                                "tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType.", key, i + 1);
        /* The lists of valid keys and options are the ones AWS's messages
         * give (they name the common ones, not every key the model has). */
        if (by_path && pf->key != K_TYPE && pf->key != K_KEYID && pf->key != K_LABEL)
            return lv_error_set(err, LV_E_INVALID_FILTER_KEY,
                                "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId].", key);
        if (!by_path && pf->key == K_LABEL)
            return lv_error_set(err, LV_E_INVALID_FILTER_KEY,
                                "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier].");
        for (unsigned j = 0; j < *nf; j++)
            if (f[j].key == pf->key && (pf->key != K_TAG || strcmp(f[j].tag, pf->tag) == 0))
                return lv_error_set(err, LV_E_INVALID_FILTER_KEY,
                                    "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key);
        if (opt == NULL)
            pf->opt = pf->key == K_PATH ? O_ONELEVEL : O_EQUALS;
        else if (strcmp(opt, "Equals") == 0)
            pf->opt = O_EQUALS;
        else if (strcmp(opt, "BeginsWith") == 0)
            pf->opt = O_BEGINS;
        else if (strcmp(opt, "Contains") == 0)
            pf->opt = O_CONTAINS;
        else if (strcmp(opt, "Recursive") == 0)
            pf->opt = O_RECURSIVE;
        else if (strcmp(opt, "OneLevel") == 0)
            pf->opt = O_ONELEVEL;
        else
            pf->opt = O_UNKNOWN;
        bool ok;
        const char *valid;
        switch (pf->key) {
        case K_PATH:
            ok = pf->opt == O_RECURSIVE || pf->opt == O_ONELEVEL;
            valid = "[Recursive, OneLevel]";
            break;
        case K_NAME:
            ok = pf->opt == O_EQUALS || pf->opt == O_BEGINS || pf->opt == O_CONTAINS;
            valid = "[BeginsWith, Contains, Equals]";
            break;
        case K_LABEL:
            ok = pf->opt == O_EQUALS;
            valid = "[Equals]";
            break;
        default:
            ok = pf->opt == O_EQUALS || pf->opt == O_BEGINS;
            valid = "[BeginsWith, Equals]";
            break;
        }
        if (!ok)
            return lv_error_set(err, LV_E_INVALID_FILTER_OPTION,
                                "The following filter option is not valid: %s. Valid options include: %s.", opt, valid);
        size_t nv = vals ? json_array_size(vals) : 0;
        if (nv == 0 && pf->key != K_TAG)
            return lv_error_set(err, LV_E_INVALID_FILTER_VALUE,
                                "The following filter values are missing : null for filter key %s.", key);
        for (size_t j = 0; j < nv; j++) {
            const char *v = jreq_elem_str(r, vals, j, "values", 1, 1024);
            if ((rc = jreq_finish(r, err)) != LV_OK)
                return rc;
            if (pf->key == K_TYPE && pf->opt == O_EQUALS) {
                lv_ptype t;
                if (!lv_ptype_parse(v, &t))
                    return lv_error_set(err, LV_E_INVALID_FILTER_VALUE,
                                        "The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", v);
            }
            if (pf->key == K_TIER && pf->opt == O_EQUALS) {
                lv_tier t;
                if (!lv_tier_parse(v, &t))
                    return lv_error_set(err, LV_E_INVALID_FILTER_VALUE,
                                        "The following filter value is not valid: %s. Valid values include: [Standard, Advanced, Intelligent-Tiering].", v);
            }
            if (pf->key == K_PATH && (strncasecmp(v, "/aws", 4) == 0 || strncasecmp(v, "/ssm", 4) == 0))
                return lv_error_set(err, LV_E_VALIDATION,
                                    "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" "
                                    "(case-insensitive). When using global parameters, please specify within a "
                                    "global namespace.");
            if (pf->key == K_PATH && (v[0] != '/' || strstr(v, "//") != NULL))
                return lv_error_set(err, LV_E_VALIDATION,
                                    "The parameter doesn't meet the parameter name requirements. The parameter "
                                    "name must begin with a forward slash \"/\". It can't be prefixed with "
                                    "\"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, "
                                    "or the following symbols: . (period), - (hyphen), _ (underscore). Special "
                                    "characters are not allowed. All sub-paths, if specified, must use the "
                                    "forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.");
            pf->values[pf->nvalues++] = v;
        }
        (*nf)++;
    }
    return LV_OK;
}

/* Name as filters see it: always with a leading slash. */
static bool path_match(const char *name, const char *path, bool recursive)
{
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    const char *rel;
    if (pl == 1 && path[0] == '/') {
        rel = name[0] == '/' ? name + 1 : name;
    } else {
        if (name[0] != '/' || strncmp(name, path, pl) != 0 || name[pl] != '/')
            return false;
        rel = name + pl + 1;
    }
    return recursive || strchr(rel, '/') == NULL;
}

static bool str_match(const char *have, const pfilter *f)
{
    for (unsigned i = 0; i < f->nvalues; i++) {
        const char *v = f->values[i];
        switch (f->opt) {
        case O_EQUALS: if (strcmp(have, v) == 0) return true; break;
        case O_BEGINS: if (strncmp(have, v, strlen(v)) == 0) return true; break;
        case O_CONTAINS: if (strstr(have, v) != NULL) return true; break;
        default: break;
        }
    }
    return false;
}

/* Whether p passes every filter; *vp is the version to report (the
 * labelled one under a Label filter, else the latest). */
static bool filters_match(const lv_param *p, const pfilter *f, unsigned nf, const lv_version **vp)
{
    const lv_version *v = lv_param_latest(p);
    for (unsigned i = 0; i < nf; i++) {
        const pfilter *x = &f[i];
        switch (x->key) {
        case K_NAME: {
            /* Names compare with a leading slash, so "/x" and "x" agree. */
            char tmp[LV_NAME_MAX + 2];
            const char *nm = p->name;
            if (x->opt != O_CONTAINS && nm[0] != '/') {
                tmp[0] = '/';
                strncpy(tmp + 1, nm, sizeof tmp - 2);
                tmp[sizeof tmp - 1] = '\0';
                nm = tmp;
            }
            bool any = false;
            for (unsigned j = 0; j < x->nvalues && !any; j++) {
                const char *val = x->values[j];
                char vt[1100];
                if (x->opt != O_CONTAINS && val[0] != '/') {
                    vt[0] = '/';
                    strncpy(vt + 1, val, sizeof vt - 2);
                    vt[sizeof vt - 1] = '\0';
                    val = vt;
                }
                pfilter one = *x;
                one.values[0] = val;
                one.nvalues = 1;
                any = str_match(nm, &one);
            }
            if (!any)
                return false;
            break;
        }
        case K_PATH: {
            bool any = false;
            for (unsigned j = 0; j < x->nvalues && !any; j++)
                any = path_match(p->name, x->values[j], x->opt == O_RECURSIVE);
            if (!any)
                return false;
            break;
        }
        case K_TYPE:
            if (!str_match(lv_ptype_name(v->type), x))
                return false;
            break;
        case K_KEYID:
            if (v->key_id == NULL || !str_match(v->key_id, x))
                return false;
            break;
        case K_TIER:
            if (!str_match(lv_tier_name(v->tier), x))
                return false;
            break;
        case K_DATATYPE:
            if (!str_match(v->data_type ? v->data_type : "text", x))
                return false;
            break;
        case K_LABEL: {
            const lv_version *lv = NULL;
            for (unsigned j = 0; j < x->nvalues && lv == NULL; j++)
                lv = lv_param_find_label(p, x->values[j]);
            if (lv == NULL)
                return false;
            v = lv;
            break;
        }
        case K_TAG: {
            const lv_tag *t = lv_param_find_tag(p, x->tag);
            if (t == NULL || (x->nvalues > 0 && !str_match(t->value, x)))
                return false;
            break;
        }
        }
    }
    *vp = v;
    return true;
}

/* Walks the parameters of region whose names lie under path (canonical,
 * ending in '/'), in name order, starting after `after` (a full key) when
 * given. Calls visit for each one passing the filters until it returns
 * false. One-level walks jump over whole subtrees, so they cost
 * O((k + children) log n), never a scan of the tree below. */
typedef bool (*visit_fn)(void *ctx, const lv_param *p, const lv_version *v);

static lv_err walk(const lv_ssm_ctx *c, const char *path, bool recursive, const pfilter *f,
                   unsigned nf, const lv_buf *after, visit_fn visit, void *ctx)
{
    lv_buf prefix = LV_BUF_INIT, seek = LV_BUF_INIT;
    size_t rl = strlen(c->region);
    bool root = strcmp(path, "/") == 0;
    lv_err rc = lv_buf_append(&prefix, c->region, rl + 1);
    if (rc == LV_OK && !root)
        rc = lv_buf_puts(&prefix, path);
    if (rc != LV_OK)
        goto done;
    const lv_index *ix = lv_engine_index(c->engine);
    const lv_index_node *n;
    if (after != NULL && after->len > 0) {
        if (after->len < prefix.len || memcmp(after->data, prefix.data, prefix.len) != 0) {
            rc = LV_E_INVALID_NEXT_TOKEN;
            goto done;
        }
        n = lv_index_seek(ix, after->data, after->len);
        if (n != NULL) {
            const lv_param *p = lv_index_node_param(n);
            if (p->key_len == after->len && memcmp(p->key, after->data, after->len) == 0)
                n = lv_index_next(n);
        }
    } else {
        n = lv_index_seek(ix, prefix.data, prefix.len);
    }
    while (n != NULL) {
        const lv_param *p = lv_index_node_param(n);
        if (p->key_len < prefix.len || memcmp(p->key, prefix.data, prefix.len) != 0)
            break;
        const char *rel = p->key + prefix.len;
        if (root && rel[0] == '/')
            rel++;
        const char *slash = recursive ? NULL : strchr(rel, '/');
        if (slash != NULL) {
            /* Skip everything below this child: seek to the first key
             * after "<child>/", i.e. "<child>0" ('0' follows '/'). */
            lv_buf_reset(&seek);
            size_t upto = (size_t)(slash - p->key);
            if ((rc = lv_buf_append(&seek, p->key, upto)) != LV_OK || (rc = lv_buf_putc(&seek, '0')) != LV_OK)
                goto done;
            n = lv_index_seek(ix, seek.data, seek.len);
            continue;
        }
        const lv_version *v;
        if (!lv_ssm_hidden(c->hide, p->region, p->name) && filters_match(p, f, nf, &v) && !visit(ctx, p, v))
            break;
        n = lv_index_next(n);
    }
done:
    lv_buf_free(&prefix);
    lv_buf_free(&seek);
    return rc;
}

/* ---------- GetParametersByPath ---------- */

typedef struct page_ctx {
    const lv_ssm_ctx *c;
    jw *w;
    bool decrypt;
    int64_t max;
    int64_t count;
    lv_buf last;        /* key of the last item written */
    bool more;
    lv_err rc;
    lv_error *err;
    int mode;           /* 0 = Parameter shape, 1 = ParameterMetadata */
} page_ctx;

static bool page_visit(void *ctx, const lv_param *p, const lv_version *v)
{
    page_ctx *pc = ctx;
    if (pc->count == pc->max) {
        pc->more = true;
        return false;
    }
    if (pc->mode == 0)
        pc->rc = ssm_put_parameter(pc->c, pc->w, p, v, NULL, NULL, pc->decrypt, pc->err);
    else
        ssm_put_metadata(pc->c, pc->w, p, v);
    if (pc->rc == LV_OK) {
        lv_buf_reset(&pc->last);
        pc->rc = lv_buf_append(&pc->last, p->key, p->key_len);
    }
    pc->count++;
    return pc->rc == LV_OK;
}

static lv_err finish_page(page_ctx *pc, char kind, uint32_t qh, lv_err rc)
{
    jw_arr_end(pc->w);
    if (rc == LV_OK && pc->more) {
        lv_buf tok = LV_BUF_INIT;
        rc = lv_token_encode(kind, qh, pc->last.data, pc->last.len, &tok);
        if (rc == LV_OK)
            jw_kstr(pc->w, "NextToken", tok.data);
        lv_buf_free(&tok);
    }
    jw_obj_end(pc->w);
    return rc;
}

/* One page of a paged listing: {"Parameters":[...],"NextToken":...} from a
 * walk under the read lock, shared by GetParametersByPath and
 * DescribeParameters. */
static lv_err run_page(page_ctx *pc, const char *path, bool recursive, const pfilter *f,
                       unsigned nf, const lv_buf *after, char kind, uint32_t qh)
{
    jw_obj(pc->w);
    jw_key(pc->w, "Parameters");
    jw_arr(pc->w);
    lv_engine_rdlock(pc->c->engine);
    lv_err rc = walk(pc->c, path, recursive, f, nf, after, page_visit, pc);
    lv_engine_rdunlock(pc->c->engine);
    if (rc == LV_OK)
        rc = pc->rc;
    if (rc == LV_E_INVALID_NEXT_TOKEN)
        lv_error_set(pc->err, rc, "The specified token isn't valid.");
    rc = finish_page(pc, kind, qh, rc);
    lv_buf_free(&pc->last);
    return rc;
}

lv_err ssm_op_get_parameters_by_path(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t plen = 0, tlen = 0;
    const char *path = jreq_str(r, NULL, "Path", true, 1, LV_NAME_WIRE_MAX, &plen);
    bool recursive = false, decrypt = false;
    jreq_bool(r, NULL, "Recursive", &recursive);
    jreq_bool(r, NULL, "WithDecryption", &decrypt);
    int64_t max = 10;
    jreq_int(r, NULL, "MaxResults", false, 1, 10, &max);
    const char *token = jreq_str(r, NULL, "NextToken", false, 0, 0, &tlen);
    json_t *filters = jreq_array(r, NULL, "ParameterFilters", false, 0, 0);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    pfilter f[MAX_FILTERS];
    unsigned nf;
    if ((rc = parse_filters(r, filters, true, f, &nf, err)) != LV_OK)
        return rc;
    lv_buf cp = LV_BUF_INIT, after = LV_BUF_INIT;
    if ((rc = lv_path_canonical(path, plen, &cp, err)) != LV_OK)
        goto out;
    uint32_t qh = lv_token_hash(lv_token_hash(0, c->region, strlen(c->region) + 1), cp.data, cp.len);
    qh = lv_token_hash(qh, recursive ? "r" : "o", 1);
    if (token != NULL && tlen > 0 && (rc = lv_token_decode('P', qh, token, tlen, &after, err)) != LV_OK)
        goto out;
    page_ctx pc = {c, w, decrypt, max, 0, LV_BUF_INIT, false, LV_OK, err, 0};
    rc = run_page(&pc, cp.data, recursive, f, nf, token ? &after : NULL, 'P', qh);
out:
    lv_buf_free(&cp);
    lv_buf_free(&after);
    return rc;
}

/* ---------- DescribeParameters ---------- */

lv_err ssm_op_describe_parameters(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err)
{
    size_t tlen = 0;
    json_t *legacy = jreq_array(r, NULL, "Filters", false, 0, 0);
    json_t *filters = jreq_array(r, NULL, "ParameterFilters", false, 0, 0);
    int64_t max = 50;
    jreq_int(r, NULL, "MaxResults", false, 1, 50, &max);
    const char *token = jreq_str(r, NULL, "NextToken", false, 0, 0, &tlen);
    lv_err rc = jreq_finish(r, err);
    if (rc != LV_OK)
        return rc;
    if (legacy && filters && json_array_size(legacy) && json_array_size(filters))
        return lv_error_set(err, LV_E_VALIDATION,
                            "You can use either Filters or ParameterFilters in a single request.");
    pfilter f[MAX_FILTERS];
    unsigned nf = 0;
    if (legacy != NULL && json_array_size(legacy) > 0) {
        /* The older Filters shape: Key Name|Type|KeyId; Name matches a prefix. */
        size_t n = json_array_size(legacy);
        if (n > MAX_FILTERS)
            return lv_error_set(err, LV_E_VALIDATION, "Too many filters.");
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(legacy, i);
            if (!json_is_object(o))
                return lv_error_set(err, LV_E_SERIALIZATION, "Filters must be a list of objects.");
            static const char *const lkeys[] = {"Name", "Type", "KeyId", NULL};
            const char *key = jreq_enum(r, o, "Key", true, lkeys);
            json_t *vals = jreq_array(r, o, "Values", true, 1, 50);
            if ((rc = jreq_finish(r, err)) != LV_OK)
                return rc;
            pfilter *pf = &f[nf++];
            memset(pf, 0, sizeof *pf);
            pf->key = strcmp(key, "Name") == 0 ? K_NAME : strcmp(key, "Type") == 0 ? K_TYPE : K_KEYID;
            pf->opt = pf->key == K_NAME ? O_BEGINS : O_EQUALS;
            for (size_t j = 0; j < json_array_size(vals); j++) {
                const char *v = jreq_elem_str(r, vals, j, "values", 1, 1024);
                if ((rc = jreq_finish(r, err)) != LV_OK)
                    return rc;
                pf->values[pf->nvalues++] = v;
            }
        }
    } else if ((rc = parse_filters(r, filters, false, f, &nf, err)) != LV_OK) {
        return rc;
    }
    /* A single Path filter value narrows the walk; otherwise walk the
     * region and let the filters decide. */
    const char *walk_path = "/";
    bool recursive = true;
    lv_buf cp = LV_BUF_INIT, after = LV_BUF_INIT;
    for (unsigned i = 0; i < nf; i++)
        if (f[i].key == K_PATH && f[i].nvalues == 1 && strcmp(f[i].values[0], "/") != 0) {
            if ((rc = lv_path_canonical(f[i].values[0], strlen(f[i].values[0]), &cp, err)) != LV_OK)
                return rc;
            walk_path = cp.data;
            recursive = f[i].opt == O_RECURSIVE;
        }
    uint32_t qh = lv_token_hash(0, c->region, strlen(c->region) + 1);
    if (token != NULL && tlen > 0 && (rc = lv_token_decode('D', qh, token, tlen, &after, err)) != LV_OK)
        goto out;
    page_ctx pc = {c, w, false, max, 0, LV_BUF_INIT, false, LV_OK, err, 1};
    rc = run_page(&pc, walk_path, recursive, f, nf, token ? &after : NULL, 'D', qh);
out:
    lv_buf_free(&cp);
    lv_buf_free(&after);
    return rc;
}
