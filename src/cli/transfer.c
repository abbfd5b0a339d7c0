/* transfer.c - `lever diff|export|import`: whole trees compared, written out as
 * JSON or dotenv, and loaded back (a dry run unless --apply). */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lever/lever.h"

/* --------------------------------------------------------------- diff */

int cmd_diff(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"decrypt", no_argument, NULL, 'D'},
                                       {"all", no_argument, NULL, 'a'},
                                       {0, 0, 0, 0}};
    bool decrypt = false, all = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:ha", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'D')
            decrypt = true;
        if (ch == 'a')
            all = true;
    }
    if (argc - optind != 2)
        return usage_err("expected PATH_A and PATH_B");
    char abuf[2048], bbuf[2048];
    const char *pa = norm_path(argv[optind], abuf, sizeof abuf);
    const char *pb = norm_path(argv[optind + 1], bbuf, sizeof bbuf);
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *la, *lb;
    /* always compare plaintexts (ciphertexts differ per name); mask on output */
    lever_status st = lever_list_path(G.c, pa, true, true, &la, NULL);
    if (st != LEVER_OK)
        return fail_st(st);
    st = lever_list_path(G.c, pb, true, true, &lb, NULL);
    if (st != LEVER_OK) {
        lever_param_list_free(la);
        return fail_st(st);
    }
    size_t na = lever_param_list_count(la), nb = lever_param_list_count(lb), i = 0, j = 0;
    json_t *arr = json_out() ? json_array() : NULL;
    size_t ndiff = 0;
    while (i < na || j < nb) {
        const lever_param *a = i < na ? lever_param_list_at(la, i) : NULL;
        const lever_param *b = j < nb ? lever_param_list_at(lb, j) : NULL;
        const char *ra = a ? rel_of(lever_param_name(a), pa) : NULL;
        const char *rb = b ? rel_of(lever_param_name(b), pb) : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(ra, rb);
        const char *state, *key, *va = NULL, *vb = NULL;
        if (cmp < 0) {
            state = "only-a";
            key = ra;
            va = mask(a, decrypt);
            i++;
        } else if (cmp > 0) {
            state = "only-b";
            key = rb;
            vb = mask(b, decrypt);
            j++;
        } else {
            key = ra;
            bool same = strcmp(lever_param_value(a), lever_param_value(b)) == 0 &&
                        strcmp(lever_param_type(a) ? lever_param_type(a) : "", lever_param_type(b) ? lever_param_type(b) : "") == 0;
            state = same ? "same" : "changed";
            va = mask(a, decrypt);
            vb = mask(b, decrypt);
            i++;
            j++;
        }
        if (strcmp(state, "same") != 0)
            ndiff++;
        else if (!all)
            continue;
        if (arr) {
            json_t *o = json_pack("{s:s, s:s}", "Key", key, "State", state);
            if (o && va)
                json_object_set_new(o, "A", json_string(va));
            if (o && vb)
                json_object_set_new(o, "B", json_string(vb));
            json_array_append_new(arr, o);
        } else {
            char mark = state[0] == 'o' ? (state[5] == 'a' ? '-' : '+') : state[0] == 'c' ? '~' : '=';
            if (mark == '~')
                printf("%c %-40s %s -> %s\n", mark, key, va, vb);
            else
                printf("%c %-40s %s\n", mark, key, va ? va : vb);
        }
    }
    if (arr)
        print_json(json_pack("{s:s, s:s, s:o}", "A", pa, "B", pb, "Differences", arr));
    else if (ndiff == 0)
        printf("no differences between %s and %s\n", pa, pb);
    lever_param_list_free(la);
    lever_param_list_free(lb);
    return EX_OK;
}

/* ------------------------------------------------------ export/import */

static bool dotenv_safe(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("_-./:,@+", *v)))
            return false;
    return true;
}

/* KEY for a relative name in dotenv: uppercased, non-alnum -> '_'. */
static void dotenv_key(const char *rel, char *out, size_t n)
{
    size_t k = 0;
    for (; *rel && k + 1 < n; rel++) {
        char c = *rel;
        out[k++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    out[k] = '\0';
}

void print_dotenv_value(FILE *f, const char *v)
{
    if (dotenv_safe(v) && *v) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        switch (*v) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '$': fputs("\\$", f); break;
        case '`': fputs("\\`", f); break;
        default: fputc(*v, f);
        }
    }
    fputc('"', f);
}

int cmd_export(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"format", required_argument, NULL, 'f'},
                                       {"decrypt", no_argument, NULL, 'D'},
                                       {0, 0, 0, 0}};
    const char *format = "json";
    bool decrypt = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hf:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'f')
            format = optarg;
        if (ch == 'D')
            decrypt = true;
    }
    if (strcmp(format, "json") && strcmp(format, "dotenv"))
        return usage_err("--format is json or dotenv");
    if (argc - optind != 1)
        return usage_err("expected one PATH");
    char pbuf[2048];
    const char *path = norm_path(argv[optind], pbuf, sizeof pbuf);
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    lever_status st = lever_list_path(G.c, path, true, decrypt, &l, NULL);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l), skipped = 0;
    json_t *arr = strcmp(format, "json") == 0 ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const lever_param *p = lever_param_list_at(l, i);
        const char *type = lever_param_type(p) ? lever_param_type(p) : "String";
        if (!decrypt && strcmp(type, "SecureString") == 0) {
            skipped++;
            continue;
        }
        const char *rel = rel_of(lever_param_name(p), path);
        if (arr) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "Key", rel, "Type", type, "Value",
                                                 lever_param_value(p)));
        } else {
            char key[1100];
            dotenv_key(rel, key, sizeof key);
            printf("%s=", key);
            print_dotenv_value(stdout, lever_param_value(p));
            putchar('\n');
        }
    }
    if (arr)
        print_json(json_pack("{s:s, s:o}", "Path", path, "Parameters", arr));
    if (skipped)
        errf("%zu SecureString parameter%s left out (add --decrypt to include them)", skipped,
             skipped == 1 ? "" : "s");
    lever_param_list_free(l);
    return EX_OK;
}

typedef struct item {
    char *key, *type, *value;
} item;

typedef struct items {
    item *v;
    size_t n, cap;
} items;

static int items_add(items *it, const char *key, size_t kl, const char *type, const char *value, size_t vl)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 32;
        item *nv = realloc(it->v, cap * sizeof *nv);
        if (nv == NULL)
            return -1;
        it->v = nv;
        it->cap = cap;
    }
    item *x = &it->v[it->n];
    x->key = strndup(key, kl);
    x->type = strdup(type);
    x->value = strndup(value, vl);
    if (!x->key || !x->type || !x->value) {
        free(x->key);
        free(x->type);
        free(x->value);
        return -1;
    }
    it->n++;
    return 0;
}

static void items_free(items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].key);
        free(it->v[i].type);
        free(it->v[i].value);
    }
    free(it->v);
}

static int parse_json_import(const char *text, const char *file, items *it)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (root == NULL) {
        errf("%s:%d: %s", file, je.line, je.text);
        return -1;
    }
    json_t *params = json_is_object(root) ? json_object_get(root, "Parameters") : root;
    int rc = 0;
    if (json_is_array(params)) {
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) {
            const char *k = json_string_value(json_object_get(p, "Key"));
            if (k == NULL)
                k = json_string_value(json_object_get(p, "Name"));
            const char *v = json_string_value(json_object_get(p, "Value"));
            const char *t = json_string_value(json_object_get(p, "Type"));
            if (k == NULL || v == NULL) {
                errf("%s: entry %zu needs \"Key\" and \"Value\" strings", file, i);
                rc = -1;
                break;
            }
            if (items_add(it, k, strlen(k), t ? t : "String", v, strlen(v)) != 0) {
                errf("out of memory");
                rc = -1;
                break;
            }
        }
    } else if (json_is_object(params)) {
        /* a flat {"key": "value"} object */
        const char *k;
        json_t *v;
        json_object_foreach(params, k, v) {
            if (!json_is_string(v)) {
                errf("%s: the value of \"%s\" is not a string", file, k);
                rc = -1;
                break;
            }
            if (items_add(it, k, strlen(k), "String", json_string_value(v), json_string_length(v)) != 0) {
                rc = -1;
                break;
            }
        }
    } else {
        errf("%s: expected {\"Parameters\": [...]} or a {\"key\": \"value\"} object", file);
        rc = -1;
    }
    json_decref(root);
    return rc;
}

static int parse_dotenv_import(const char *text, const char *file, items *it)
{
    int line = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (eol == NULL)
            eol = p + strlen(p);
        line++;
        const char *b = p, *e = eol;
        p = *eol ? eol + 1 : eol;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (b == e || *b == '#')
            continue;
        if (e - b > 7 && strncmp(b, "export ", 7) == 0)
            b += 7;
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (eq == NULL || eq == b) {
            errf("%s:%d: expected KEY=VALUE", file, line);
            return -1;
        }
        for (const char *k = b; k < eq; k++) {
            if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_' ||
                  *k == '.' || *k == '-' || *k == '/')) {
                errf("%s:%d: bad character in key", file, line);
                return -1;
            }
        }
        const char *vb = eq + 1, *ve = e;
        char *val = malloc((size_t)(ve - vb) + 1);
        if (val == NULL)
            return -1;
        size_t vl = 0;
        if (vb < ve && (*vb == '"' || *vb == '\'')) {
            char q = *vb++;
            bool closed = false;
            for (; vb < ve; vb++) {
                if (*vb == q) {
                    closed = true;
                    vb++;
                    break;
                }
                if (q == '"' && *vb == '\\' && vb + 1 < ve) {
                    vb++;
                    val[vl++] = *vb == 'n' ? '\n' : *vb;
                    continue;
                }
                val[vl++] = *vb;
            }
            if (!closed || vb != ve) {
                free(val);
                errf("%s:%d: unterminated quote or text after it", file, line);
                return -1;
            }
        } else {
            memcpy(val, vb, (size_t)(ve - vb));
            vl = (size_t)(ve - vb);
        }
        int r = items_add(it, b, (size_t)(eq - b), "String", val, vl);
        free(val);
        if (r != 0)
            return -1;
    }
    return 0;
}

int cmd_import(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"format", required_argument, NULL, 'f'},
                                       {"apply", no_argument, NULL, 'A'},
                                       {0, 0, 0, 0}};
    const char *format = NULL;
    bool apply = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hf:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'f')
            format = optarg;
        if (ch == 'A')
            apply = true;
    }
    if (argc - optind != 2)
        return usage_err("expected PATH and FILE ('-' for stdin)");
    char pbuf[2048];
    const char *path = norm_path(argv[optind], pbuf, sizeof pbuf);
    const char *file = argv[optind + 1];
    if (path[0] != '/')
        return usage_err("PATH must start with '/'");
    char *text = strcmp(file, "-") == 0 ? read_stream(stdin, "stdin") : read_file(file);
    if (text == NULL)
        return EX_ERROR;
    if (format == NULL) {
        const char *t = text;
        while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
            t++;
        format = (*t == '{' || *t == '[') ? "json" : "dotenv";
    }
    items it = {0};
    int perr = strcmp(format, "json") == 0     ? parse_json_import(text, file, &it)
               : strcmp(format, "dotenv") == 0 ? parse_dotenv_import(text, file, &it)
                                               : -2;
    free(text);
    if (perr == -2) {
        items_free(&it);
        return usage_err("--format is json or dotenv");
    }
    if (perr != 0) {
        items_free(&it);
        return EX_ERROR;
    }
    if ((rc = open_client()) != EX_OK) {
        items_free(&it);
        return rc;
    }
    lever_param_list *cur;
    lever_status st = lever_list_path(G.c, path, true, true, &cur, NULL);
    if (st != LEVER_OK) {
        items_free(&it);
        return fail_st(st);
    }
    json_t *plan = json_array();
    size_t nc = 0, nu = 0, ns = 0;
    int result = EX_OK;
    for (size_t i = 0; i < it.n; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s/%s", strcmp(path, "/") == 0 ? "" : path,
                 it.v[i].key[0] == '/' ? it.v[i].key + 1 : it.v[i].key);
        const lever_param *old = NULL;
        for (size_t j = 0; j < lever_param_list_count(cur); j++)
            if (strcmp(lever_param_name(lever_param_list_at(cur, j)), name) == 0)
                old = lever_param_list_at(cur, j);
        const char *action = !old ? "create" : strcmp(lever_param_value(old), it.v[i].value) == 0 ? "unchanged" : "update";
        bool secure = strcmp(it.v[i].type, "SecureString") == 0 || (old && lever_param_type(old) && strcmp(lever_param_type(old), "SecureString") == 0);
        const char *shown = secure ? "****" : it.v[i].value;
        nc += action[0] == 'c';
        nu += action[0] == 'u' && action[1] == 'p';
        ns += action[0] == 'u' && action[1] == 'n';
        const char *outcome = apply ? "done" : "planned";
        if (apply && strcmp(action, "unchanged") != 0) {
            st = lever_put(G.c, name, it.v[i].value, old ? NULL : it.v[i].type, old ? LEVER_PUT_OVERWRITE : 0, NULL,
                           NULL, NULL, NULL);
            if (st != LEVER_OK) {
                result = fail_st(st);
                outcome = "failed";
            }
        }
        if (json_out())
            json_array_append_new(plan, json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "Action", action, "Type",
                                                  it.v[i].type, "Result", outcome));
        else if (strcmp(action, "unchanged") != 0)
            printf("%s %-8s %s = %s%s\n", action[0] == 'c' ? "+" : "~", action, name, shown,
                   strcmp(outcome, "failed") == 0 ? "  (FAILED)" : "");
    }
    if (json_out())
        print_json(json_pack("{s:b, s:o}", "Applied", apply, "Changes", plan));
    else {
        json_decref(plan);
        printf("%zu to create, %zu to update, %zu unchanged%s\n", nc, nu, ns,
               apply ? " (applied)" : " (dry run: add --apply to write)");
    }
    lever_param_list_free(cur);
    items_free(&it);
    return result;
}
