/* params.c - `lever get|put|ls|history|label|unlabel|rm`: one parameter (or a
 * list of them) at a time over liblever. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lever/lever.h"

/* ---------------------------------------------------------------- get */

int cmd_get(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {0, 0, 0, 0}};
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1)
        if (ch == -2)
            return rc;
    if (argc - optind != 1)
        return usage_err("expected one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param *p;
    lever_status st = lever_fetch(G.c, argv[optind], true, &p);
    if (st != LEVER_OK)
        return fail_st(st);
    if (json_out()) {
        print_json(param_json(p, true, true));
    } else if (G.output == OUT_TABLE && G.output_explicit) {
        char t[32];
        fmt_time(lever_param_last_modified(p), t, sizeof t);
        printf("%-10s %s\n%-10s %s\n%-10s %" PRId64 "\n%-10s %s\n%-10s %s\n", "Name", lever_param_name(p),
               "Type", lever_param_type(p) ? lever_param_type(p) : "-", "Version", lever_param_version(p),
               "Modified", t, "Value", lever_param_value(p));
    } else {
        /* the bare value, for $(lever get ...) */
        printf("%s\n", lever_param_value(p));
    }
    lever_param_free(p);
    return EX_OK;
}

/* ---------------------------------------------------------------- put */

int cmd_put(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS,
                                       {"type", required_argument, NULL, 't'},
                                       {"overwrite", no_argument, NULL, 'w'},
                                       {"description", required_argument, NULL, 'd'},
                                       {"tier", required_argument, NULL, 'T'},
                                       {"allowed-pattern", required_argument, NULL, 'p'},
                                       {"file", required_argument, NULL, 'f'},
                                       {0, 0, 0, 0}};
    const char *type = NULL, *desc = NULL, *tier = NULL, *pattern = NULL, *file = NULL;
    unsigned flags = 0;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:ht:wd:f:", lo, &rc)) != -1) {
        switch (ch) {
        case -2: return rc;
        case 't': type = optarg; break;
        case 'w': flags |= LEVER_PUT_OVERWRITE; break;
        case 'd': desc = optarg; break;
        case 'T': tier = optarg; break;
        case 'p': pattern = optarg; break;
        case 'f': file = optarg; break;
        }
    }
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 2)
        return usage_err("expected NAME and a VALUE, '-' (stdin) or --file");
    if ((nargs == 2) == (file != NULL))
        return usage_err("give the value either as an argument (or '-') or with --file, not both");
    if (type && strcmp(type, "String") && strcmp(type, "StringList") && strcmp(type, "SecureString"))
        return usage_err("--type is String, StringList or SecureString");
    char *value;
    if (file) {
        value = read_file(file);
    } else if (strcmp(argv[optind + 1], "-") == 0) {
        value = read_stream(stdin, "stdin");
        /* `echo v | lever put NAME -` means "v", not "v\n" */
        if (value) {
            size_t n = strlen(value);
            if (n && value[n - 1] == '\n')
                value[--n] = '\0';
            if (n && value[n - 1] == '\r')
                value[--n] = '\0';
        }
    } else {
        value = strdup(argv[optind + 1]);
    }
    if (value == NULL)
        return EX_ERROR;
    if ((rc = open_client()) != EX_OK) {
        free(value);
        return rc;
    }
    int64_t version = 0;
    lever_status st = lever_put(G.c, argv[optind], value, type, flags, desc, tier, pattern, &version);
    free(value);
    if (st != LEVER_OK) {
        int code = fail_st(st);
        if (st == LEVER_E_EXISTS)
            fprintf(stderr, "(use --overwrite to make a new version)\n");
        return code;
    }
    if (json_out())
        print_json(json_pack("{s:s, s:I}", "Name", argv[optind], "Version", (json_int_t)version));
    else
        printf("%s version %" PRId64 "\n", argv[optind], version);
    return EX_OK;
}

int cmd_ls(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"recursive", no_argument, NULL, 'r'}, {0, 0, 0, 0}};
    bool recursive = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hr", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'r')
            recursive = true;
    }
    if (argc - optind > 1)
        return usage_err("expected at most one PATH");
    char pbuf[2048];
    const char *path = norm_path(argc - optind == 1 ? argv[optind] : "/", pbuf, sizeof pbuf);
    if (path[0] != '/')
        return usage_err("PATH must start with '/'");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    /* always recursive: without -r the subpaths still show, folded */
    lever_status st = lever_describe(G.c, path, true, &l);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l);
    if (json_out()) {
        json_t *a = json_array();
        const char *prevdir = "";
        size_t prevlen = 0;
        json_t *folder = NULL;
        for (size_t i = 0; a && i < n; i++) {
            const lever_param *p = lever_param_list_at(l, i);
            const char *rel = rel_of(lever_param_name(p), path);
            const char *slash = strchr(rel, '/');
            if (!recursive && slash) {
                /* folded sub-path: {"Folder": "/a/b/", "Count": n} */
                size_t dl = (size_t)(slash - rel);
                if (folder && dl == prevlen && strncmp(prevdir, rel, dl) == 0) {
                    json_object_set_new(folder, "Count",
                                        json_integer(json_integer_value(json_object_get(folder, "Count")) + 1));
                    continue;
                }
                char fbuf[4096];
                snprintf(fbuf, sizeof fbuf, "%s%s%.*s/", path, strcmp(path, "/") ? "/" : "", (int)dl, rel);
                folder = json_pack("{s:s, s:i}", "Folder", fbuf, "Count", 1);
                json_array_append_new(a, folder);
                prevdir = rel;
                prevlen = dl;
                continue;
            }
            json_array_append_new(a, param_json(p, false, false));
        }
        print_json(a);
        lever_param_list_free(l);
        return EX_OK;
    }
    if (G.output == OUT_TEXT) {
        for (size_t i = 0; i < n; i++) {
            const char *name = lever_param_name(lever_param_list_at(l, i));
            if (recursive || !strchr(rel_of(name, path), '/'))
                puts(name);
        }
        lever_param_list_free(l);
        return EX_OK;
    }
    /* Tree: the list is sorted by name, so siblings are adjacent. Each row
     * prints the segments that differ from the previous name. */
    printf("%s\n", path);
    const char *prev = "";
    for (size_t i = 0; i < n; i++) {
        const lever_param *p = lever_param_list_at(l, i);
        const char *rel = rel_of(lever_param_name(p), path);
        if (!recursive) {
            const char *slash = strchr(rel, '/');
            if (slash) {
                size_t dl = (size_t)(slash - rel);
                if (strncmp(prev, rel, dl + 1) == 0)
                    continue;
                /* count what the folder holds */
                size_t cnt = 0;
                for (size_t j = i; j < n; j++) {
                    const char *r2 = rel_of(lever_param_name(lever_param_list_at(l, j)), path);
                    if (strncmp(r2, rel, dl + 1) != 0)
                        break;
                    cnt++;
                }
                printf("  %.*s/  (%zu)\n", (int)dl, rel, cnt);
                prev = rel;
                continue;
            }
            char t[32];
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            printf("  %-32s %-12s v%-4" PRId64 " %s\n", rel, lever_param_type(p) ? lever_param_type(p) : "-",
                   lever_param_version(p), t);
            prev = rel;
            continue;
        }
        /* common leading segments with the previous name */
        int depth = 0;
        const char *a = prev, *b = rel;
        for (;;) {
            const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
            if (!sa || !sb || sa - a != sb - b || strncmp(a, b, (size_t)(sb - b)) != 0)
                break;
            a = sa + 1;
            b = sb + 1;
            depth++;
        }
        for (const char *seg = b;;) {
            const char *slash = strchr(seg, '/');
            printf("%*s", 2 + depth * 2, "");
            if (slash) {
                printf("%.*s/\n", (int)(slash - seg), seg);
                seg = slash + 1;
                depth++;
                continue;
            }
            char t[32];
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            int w = 32 - depth * 2;
            printf("%-*s %-12s v%-4" PRId64 " %s\n", w > 0 ? w : 1, seg,
                   lever_param_type(p) ? lever_param_type(p) : "-", lever_param_version(p), t);
            break;
        }
        prev = rel;
    }
    lever_param_list_free(l);
    return EX_OK;
}

/* ------------------------------------------------------------ history */

int cmd_history(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"decrypt", no_argument, NULL, 'D'}, {0, 0, 0, 0}};
    bool decrypt = false;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'D')
            decrypt = true;
    }
    if (argc - optind != 1)
        return usage_err("expected one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    lever_param_list *l;
    lever_status st = lever_history(G.c, argv[optind], decrypt, &l);
    if (st != LEVER_OK)
        return fail_st(st);
    size_t n = lever_param_list_count(l);
    if (json_out()) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, param_json(lever_param_list_at(l, i), true, decrypt));
        print_json(a);
    } else {
        printf("%-8s %-20s %-24s %-20s %s\n", "VERSION", "MODIFIED", "LABELS", "USER", "VALUE");
        for (size_t i = 0; i < n; i++) {
            const lever_param *p = lever_param_list_at(l, i);
            char t[32], labels[256] = "";
            fmt_time(lever_param_last_modified(p), t, sizeof t);
            for (size_t j = 0; j < lever_param_label_count(p); j++) {
                size_t k = strlen(labels);
                snprintf(labels + k, sizeof labels - k, "%s%s", j ? "," : "", lever_param_label(p, j));
            }
            const char *user = lever_param_last_modified_user(p);
            printf("%-8" PRId64 " %-20s %-24s %-20s %s\n", lever_param_version(p), t, labels[0] ? labels : "-",
                   user ? user : "-", mask(p, decrypt));
        }
    }
    lever_param_list_free(l);
    return EX_OK;
}

/* ------------------------------------------------------ label/unlabel */

static int label_common(int argc, char **argv, bool un)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"version", required_argument, NULL, 'v'}, {0, 0, 0, 0}};
    int64_t version = 0;
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:hv:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'v') {
            char *end;
            version = strtoll(optarg, &end, 10);
            if (*end || version <= 0)
                return usage_err("--version takes a positive number");
        }
    }
    if (argc - optind < 2)
        return usage_err("expected NAME and at least one LABEL");
    if (un && version == 0)
        return usage_err("--version is required (labels are removed from one version)");
    if ((rc = open_client()) != EX_OK)
        return rc;
    const char *const *labels = (const char *const *)&argv[optind + 1];
    size_t nl = (size_t)(argc - optind - 1);
    lever_status st = un ? lever_unlabel(G.c, argv[optind], version, labels, nl)
                         : lever_label(G.c, argv[optind], version, labels, nl);
    if (st != LEVER_OK)
        return fail_st(st);
    if (json_out()) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < nl; i++)
            json_array_append_new(a, json_string(labels[i]));
        print_json(json_pack("{s:s, s:o}", "Name", argv[optind], un ? "RemovedLabels" : "Labels", a));
    } else {
        printf("%s: %s %zu label%s\n", argv[optind], un ? "removed" : "set", nl, nl == 1 ? "" : "s");
    }
    return EX_OK;
}

int cmd_label(int argc, char **argv) { return label_common(argc, argv, false); }
int cmd_unlabel(int argc, char **argv) { return label_common(argc, argv, true); }

/* ----------------------------------------------------------------- rm */

int cmd_rm(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {0, 0, 0, 0}};
    int ch, rc = 0;
    while ((ch = next_opt(argc, argv, "o:h", lo, &rc)) != -1)
        if (ch == -2)
            return rc;
    if (argc - optind < 1)
        return usage_err("expected at least one NAME");
    if ((rc = open_client()) != EX_OK)
        return rc;
    int worst = EX_OK;
    for (int i = optind; i < argc; i++) {
        lever_status st = lever_delete(G.c, argv[i]);
        if (st != LEVER_OK) {
            int code = fail_st(st);
            if (worst == EX_OK || code != EX_NOTFOUND)
                worst = code;
        } else if (!json_out()) {
            printf("deleted %s\n", argv[i]);
        }
    }
    if (json_out() && worst == EX_OK)
        print_json(json_pack("{s:i}", "Deleted", argc - optind));
    return worst;
}
