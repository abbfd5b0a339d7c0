/* admin.c - `lever admin`: access keys, policies, backups and master key
 * rotation through the root key's Lever.* calls (docs/admin.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lever/lever.h"

/* -------------------------------------------------------------- admin */

/* One Lever.<op> call with a JSON body; *ans receives the parsed answer. */
static int admin_call(const char *op, json_t *body, json_t **ans)
{
    char target[64];
    snprintf(target, sizeof target, "Lever.%s", op);
    char *req = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *out = NULL;
    lever_status st = lever_call_json(G.c, target, req ? req : "{}", &out);
    free(req);
    if (st != LEVER_OK)
        return fail_st(st);
    *ans = json_loads(out, 0, NULL);
    lever_free(out);
    if (*ans == NULL) {
        errf("%s: the server's answer is not JSON", op);
        return EX_ERROR;
    }
    return EX_OK;
}

static void print_key_text(json_t *k)
{
    char t[32];
    fmt_time(json_number_value(json_object_get(k, "CreateDate")), t, sizeof t);
    printf("%s  %-8s  %s  %s\n", json_string_value(json_object_get(k, "AccessKeyId")),
           json_string_value(json_object_get(k, "Status")), t,
           json_string_value(json_object_get(k, "Description")));
    json_t *pols = json_object_get(k, "Policies");
    for (size_t i = 0; i < json_array_size(pols); i++)
        printf("    policy %s\n", json_string_value(json_object_get(json_array_get(pols, i), "PolicyName")));
}

int cmd_admin(int argc, char **argv)
{
    static const struct option lo[] = {GLOBAL_LONGOPTS, {"description", required_argument, NULL, 'd'},
                                       {0, 0, 0, 0}};
    int ch, rc = 0;
    const char *desc = NULL;
    while ((ch = next_opt(argc, argv, "o:hd:", lo, &rc)) != -1) {
        if (ch == -2)
            return rc;
        if (ch == 'd')
            desc = optarg;
    }
    int n = argc - optind;
    if (n < 1)
        return usage_err("expected a subcommand");
    const char *sub = argv[optind];
    char **a = argv + optind + 1;
    n--;
    static const struct {
        const char *name;
        int nargs;
    } subs[] = {{"create-key", 0}, {"list-keys", 0},     {"show-key", 1},    {"disable-key", 1},
                {"enable-key", 1}, {"delete-key", 1},    {"put-policy", 3},  {"delete-policy", 2},
                {"backup", 1},     {"rotate-master-key", 0}};
    size_t si;
    for (si = 0; si < sizeof subs / sizeof *subs; si++)
        if (strcmp(subs[si].name, sub) == 0)
            break;
    if (si == sizeof subs / sizeof *subs)
        return usage_err("unknown subcommand '%s'", sub);
    if (n != subs[si].nargs)
        return usage_err("%s takes %d argument%s", sub, subs[si].nargs, subs[si].nargs == 1 ? "" : "s");
    if ((rc = open_client()) != EX_OK)
        return rc;
    json_t *ans = NULL;
    if (strcmp(sub, "create-key") == 0) {
        json_t *b = json_object();
        if (desc)
            json_object_set_new(b, "Description", json_string(desc));
        if ((rc = admin_call("CreateAccessKey", b, &ans)) != EX_OK)
            return rc;
        json_t *k = json_object_get(ans, "AccessKey");
        if (json_out())
            print_json(json_incref(k));
        else
            /* credentials-file lines, ready to paste under a [profile] */
            printf("aws_access_key_id = %s\naws_secret_access_key = %s\n",
                   json_string_value(json_object_get(k, "AccessKeyId")),
                   json_string_value(json_object_get(k, "SecretAccessKey")));
    } else if (strcmp(sub, "list-keys") == 0 || strcmp(sub, "show-key") == 0) {
        bool one = strcmp(sub, "show-key") == 0;
        json_t *b = one ? json_pack("{s:s}", "AccessKeyId", a[0]) : json_object();
        if ((rc = admin_call(one ? "GetAccessKey" : "ListAccessKeys", b, &ans)) != EX_OK)
            return rc;
        if (json_out()) {
            print_json(json_incref(json_object_get(ans, one ? "AccessKey" : "AccessKeys")));
        } else if (one) {
            json_t *k = json_object_get(ans, "AccessKey");
            print_key_text(k);
            json_t *pols = json_object_get(k, "Policies");
            for (size_t i = 0; i < json_array_size(pols); i++)
                printf("--- %s\n%s\n", json_string_value(json_object_get(json_array_get(pols, i), "PolicyName")),
                       json_string_value(json_object_get(json_array_get(pols, i), "PolicyDocument")));
        } else {
            json_t *keys = json_object_get(ans, "AccessKeys");
            for (size_t i = 0; i < json_array_size(keys); i++)
                print_key_text(json_array_get(keys, i));
        }
    } else if (strcmp(sub, "disable-key") == 0 || strcmp(sub, "enable-key") == 0) {
        bool en = strcmp(sub, "enable-key") == 0;
        if ((rc = admin_call("UpdateAccessKey",
                             json_pack("{s:s, s:s}", "AccessKeyId", a[0], "Status", en ? "Active" : "Inactive"),
                             &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("%s %s\n", en ? "enabled" : "disabled", a[0]);
    } else if (strcmp(sub, "delete-key") == 0) {
        if ((rc = admin_call("DeleteAccessKey", json_pack("{s:s}", "AccessKeyId", a[0]), &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("deleted %s\n", a[0]);
    } else if (strcmp(sub, "put-policy") == 0) {
        FILE *f = strcmp(a[2], "-") == 0 ? stdin : fopen(a[2], "rb");
        if (f == NULL) {
            errf("cannot open %s: %s", a[2], strerror(errno));
            return EX_ERROR;
        }
        char *doc = read_stream(f, a[2]);
        if (f != stdin)
            fclose(f);
        if (doc == NULL)
            return EX_ERROR;
        json_t *b = json_pack("{s:s, s:s, s:s}", "AccessKeyId", a[0], "PolicyName", a[1], "PolicyDocument", doc);
        free(doc);
        if (b == NULL) {
            errf("%s is not valid UTF-8", a[2]);
            return EX_ERROR;
        }
        if ((rc = admin_call("PutKeyPolicy", b, &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("attached %s to %s\n", a[1], a[0]);
    } else if (strcmp(sub, "delete-policy") == 0) {
        if ((rc = admin_call("DeleteKeyPolicy", json_pack("{s:s, s:s}", "AccessKeyId", a[0], "PolicyName", a[1]),
                             &ans)) != EX_OK)
            return rc;
        if (!json_out())
            printf("detached %s from %s\n", a[1], a[0]);
    } else if (strcmp(sub, "backup") == 0) {
        /* The server writes the file: an absolute path on its host. */
        char abs[4096];
        if (a[0][0] == '/')
            snprintf(abs, sizeof abs, "%s", a[0]);
        else {
            char cwd[2048];
            if (getcwd(cwd, sizeof cwd) == NULL) {
                errf("cannot resolve %s: %s", a[0], strerror(errno));
                return EX_ERROR;
            }
            snprintf(abs, sizeof abs, "%s/%s", cwd, a[0]);
        }
        if ((rc = admin_call("CreateBackup", json_pack("{s:s}", "Path", abs), &ans)) != EX_OK)
            return rc;
        if (json_out())
            print_json(json_incref(ans));
        else
            printf("backup %s: %" PRId64 " bytes at revision %" PRId64 "\n", abs,
                   (int64_t)json_integer_value(json_object_get(ans, "Bytes")),
                   (int64_t)json_integer_value(json_object_get(ans, "Revision")));
    } else {
        if ((rc = admin_call("RotateMasterKey", json_object(), &ans)) != EX_OK)
            return rc;
        if (json_out())
            print_json(json_incref(ans));
        else
            printf("master key rotated: %" PRId64 " parameters and %" PRId64 " access keys re-wrapped\n",
                   (int64_t)json_integer_value(json_object_get(ans, "ParametersRewrapped")),
                   (int64_t)json_integer_value(json_object_get(ans, "AccessKeysRewrapped")));
    }
    json_decref(ans);
    return EX_OK;
}
