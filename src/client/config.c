/* config.c - endpoint, region and credential resolution for liblever and
 * the lever CLI; reads only the environment and credentials files. */
#include "client/config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *lvc_resolve_endpoint(const char *explicit_url)
{
    const char *v = explicit_url && *explicit_url ? explicit_url : env_nonempty("LEVER_ENDPOINT");
    if (v == NULL)
        v = "http://127.0.0.1:7447";
    char *out = strdup(v);
    if (out) {
        size_t n = strlen(out);
        /* "http://h:1/" and "http://h:1" are the same server; keep one form so
         * the request path is always "/" appended once. */
        while (n > 0 && out[n - 1] == '/' && n > 8)
            out[--n] = '\0';
    }
    return out;
}

char *lvc_resolve_region(const char *explicit_region)
{
    const char *v = explicit_region && *explicit_region ? explicit_region : env_nonempty("AWS_REGION");
    if (v == NULL)
        v = env_nonempty("AWS_DEFAULT_REGION");
    return strdup(v ? v : "us-east-1");
}

static int copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

int lvc_resolve_credentials(const char *akid, const char *secret, const char *token,
                            const char *explicit_profile, lv_credentials *out,
                            char *source, size_t srclen, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (akid && *akid) {
        if (secret == NULL || *secret == '\0') {
            snprintf(errbuf, errlen, "an access key id was given without its secret key");
            return -1;
        }
        if (copy_field(out->access_key_id, sizeof out->access_key_id, akid) ||
            copy_field(out->secret_access_key, sizeof out->secret_access_key, secret) ||
            (token && copy_field(out->session_token, sizeof out->session_token, token))) {
            snprintf(errbuf, errlen, "explicit credentials are too long");
            return -1;
        }
        snprintf(source, srclen, "explicit");
        return 0;
    }
    bool profile_chosen = explicit_profile && *explicit_profile;
    const char *eak = env_nonempty("AWS_ACCESS_KEY_ID");
    const char *esk = env_nonempty("AWS_SECRET_ACCESS_KEY");
    if (!profile_chosen && eak && esk) {
        const char *etok = env_nonempty("AWS_SESSION_TOKEN");
        if (copy_field(out->access_key_id, sizeof out->access_key_id, eak) ||
            copy_field(out->secret_access_key, sizeof out->secret_access_key, esk) ||
            (etok && copy_field(out->session_token, sizeof out->session_token, etok))) {
            snprintf(errbuf, errlen, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN too long");
            return -1;
        }
        snprintf(source, srclen, "environment");
        return 0;
    }
    const char *profile = profile_chosen ? explicit_profile : env_nonempty("AWS_PROFILE");
    if (profile)
        profile_chosen = true;
    else
        profile = "default";

    char path[4096];
    const char *shared = env_nonempty("AWS_SHARED_CREDENTIALS_FILE");
    if (shared) {
        snprintf(path, sizeof path, "%s", shared);
    } else {
        const char *home = env_nonempty("HOME");
        if (home)
            snprintf(path, sizeof path, "%s/.aws/credentials", home);
        else
            path[0] = '\0';
    }
    lv_error e = {0};
    if (path[0] && access(path, F_OK) == 0) {
        if (lv_keys_read_file(path, profile, out, &e) == LV_OK) {
            snprintf(source, srclen, "%s [%s]", path, profile);
            return 0;
        }
        if (profile_chosen || access(path, R_OK) != 0) {
            snprintf(errbuf, errlen, "%s", e.msg);
            memset(out, 0, sizeof *out);
            return -1;
        }
        memset(out, 0, sizeof *out);
    }
    static const char local[] = "./lever-data/credentials";
    if (access(local, F_OK) == 0) {
        if (lv_keys_read_file(local, "default", out, &e) == LV_OK) {
            snprintf(source, srclen, "%s [default]", local);
            return 0;
        }
        snprintf(errbuf, errlen, "%s", e.msg);
        memset(out, 0, sizeof *out);
        return -1;
    }
    if (profile_chosen)
        snprintf(errbuf, errlen, "profile '%s' not found: no credentials file at %s", profile,
                 path[0] ? path : "~/.aws/credentials");
    else
        snprintf(errbuf, errlen,
                 "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                 "or AWS_SHARED_CREDENTIALS_FILE (leverd writes <data>/credentials)");
    return -1;
}
