/* test_client_config.c - how liblever finds endpoint, region and
 * credentials (explicit > env > shared file/profile > ./lever-data), and
 * the env > default layers of a handle whose server cannot be reached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/config.h"
#include "lever/lever.h"

static char dir[64], shared_path[128], oldcwd[4096];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void clear_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_REGION",
                          "AWS_DEFAULT_REGION", "LEVER_ENDPOINT", "MYAPP_FLAG", "FLAG",
                          "FEATURES_FLAG", "RETRIES"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lv_client_cfg_XXXXXX");
    if (mkdtemp(dir) == NULL || getcwd(oldcwd, sizeof oldcwd) == NULL)
        return -1;
    snprintf(shared_path, sizeof shared_path, "%s/shared", dir);
    clear_env();
    /* HOME without ~/.aws so the developer's real credentials never leak in */
    setenv("HOME", dir, 1);
    return chdir(dir);
}

static int teardown(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/lever-data/credentials", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lever-data", dir);
    rmdir(p);
    unlink(shared_path);
    if (chdir(oldcwd) != 0)
        return -1;
    rmdir(dir);
    clear_env();
    return 0;
}

static void test_endpoint_region(void **state)
{
    (void)state;
    char *s = lvc_resolve_endpoint(NULL);
    assert_string_equal(s, "http://127.0.0.1:7447");
    free(s);
    setenv("LEVER_ENDPOINT", "http://env:1/", 1);
    s = lvc_resolve_endpoint(NULL);
    assert_string_equal(s, "http://env:1");
    free(s);
    s = lvc_resolve_endpoint("http://explicit:2");
    assert_string_equal(s, "http://explicit:2");
    free(s);

    s = lvc_resolve_region(NULL);
    assert_string_equal(s, "us-east-1");
    free(s);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    s = lvc_resolve_region(NULL);
    assert_string_equal(s, "eu-west-1");
    free(s);
    setenv("AWS_REGION", "ap-south-1", 1);
    s = lvc_resolve_region(NULL);
    assert_string_equal(s, "ap-south-1");
    free(s);
    s = lvc_resolve_region("us-west-2");
    assert_string_equal(s, "us-west-2");
    free(s);
}

static const char *resolve(const char *akid, const char *secret, const char *profile,
                           lv_credentials *c, char *src, size_t srclen)
{
    static char err[512];
    if (lvc_resolve_credentials(akid, secret, NULL, profile, c, src, srclen, err, sizeof err) != 0)
        return err;
    return NULL;
}

static void test_credentials_order(void **state)
{
    (void)state;
    lv_credentials c;
    char src[512];
    /* nothing anywhere: a clear error */
    const char *e = resolve(NULL, NULL, NULL, &c, src, sizeof src);
    assert_non_null(e);
    assert_non_null(strstr(e, "no credentials"));

    /* 4. ./lever-data/credentials */
    mkdir("lever-data", 0700);
    write_file("lever-data/credentials", "[default]\naws_access_key_id = LOCAL\naws_secret_access_key = s-local\n");
    assert_null(resolve(NULL, NULL, NULL, &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "LOCAL");
    assert_non_null(strstr(src, "lever-data/credentials"));

    /* 3. the shared file beats it, with its default profile or AWS_PROFILE */
    write_file(shared_path, "[default]\naws_access_key_id=SHARED\naws_secret_access_key=s1\n"
                            "[prod]\naws_access_key_id=PROD\naws_secret_access_key=s2\naws_session_token=T\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", shared_path, 1);
    assert_null(resolve(NULL, NULL, NULL, &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "SHARED");
    setenv("AWS_PROFILE", "prod", 1);
    assert_null(resolve(NULL, NULL, NULL, &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "PROD");
    assert_string_equal(c.session_token, "T");
    /* a chosen profile that does not exist is an error, not another identity */
    setenv("AWS_PROFILE", "nope", 1);
    e = resolve(NULL, NULL, NULL, &c, src, sizeof src);
    assert_non_null(e);
    assert_non_null(strstr(e, "nope"));
    unsetenv("AWS_PROFILE");

    /* 2. environment keys beat the files... */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    assert_null(resolve(NULL, NULL, NULL, &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "ENVKEY");
    assert_string_equal(c.secret_access_key, "envsecret");
    assert_string_equal(src, "environment");
    /* ...but an explicitly chosen profile beats them, as in the AWS CLI */
    assert_null(resolve(NULL, NULL, "prod", &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "PROD");

    /* 1. explicit keys beat everything */
    assert_null(resolve("EXPLICIT", "x", "prod", &c, src, sizeof src));
    assert_string_equal(c.access_key_id, "EXPLICIT");
    assert_string_equal(src, "explicit");
    assert_non_null(resolve("EXPLICIT", NULL, NULL, &c, src, sizeof src));
}

/* A handle pointed at a port nobody listens on: env and defaults still
 * work, and the failure to reach the store is reported, not hidden. */
static int64_t fake_now = 0;
static int64_t fake_clock(void *user)
{
    (void)user;
    return fake_now;
}

static void test_layers_without_server(void **state)
{
    (void)state;
    lever_options *o = lever_options_new();
    assert_non_null(o);
    assert_int_equal(lever_options_set_endpoint(o, "http://127.0.0.1:9"), LEVER_OK);
    assert_int_equal(lever_options_set_credentials(o, "AK", "SK", NULL), LEVER_OK);
    assert_int_equal(lever_options_set_prefix(o, "myapp/prod"), LEVER_OK);
    assert_int_equal(lever_options_set_timeout_ms(o, 500, 200), LEVER_OK);
    assert_int_equal(lever_options_set_clock(o, fake_clock, NULL), LEVER_OK);
    assert_int_equal(lever_options_set_cache_ttl_ms(o, -1), LEVER_E_INVALID);
    lever *c;
    char err[256];
    assert_int_equal(lever_open(o, &c, err, sizeof err), LEVER_OK);
    assert_string_equal(lever_prefix(c), "/myapp/prod/");

    lever_source src;
    setenv("FLAG", "yes", 1);
    assert_true(lever_get_bool(c, "features/FLAG", false, &src));
    assert_int_equal(src, LEVER_SRC_ENV);
    assert_int_equal(lever_last_error(c, NULL, 0), LEVER_OK); /* env answered: no network */

    /* an env value of the wrong type is skipped (and said), then the store
     * is tried (unreachable here), then the default */
    setenv("RETRIES", "many", 1);
    assert_int_equal(lever_get_int(c, "net/RETRIES", 3, &src), 3);
    assert_int_equal(src, LEVER_SRC_DEFAULT);
    char msg[512];
    assert_int_equal(lever_last_error(c, msg, sizeof msg), LEVER_E_UNREACHABLE);
    assert_non_null(strstr(msg, "127.0.0.1:9"));

    lever_clear_error(c);
    char *s = lever_get_string(c, "orders/api/url", "http://localhost:8080", &src);
    assert_string_equal(s, "http://localhost:8080");
    assert_int_equal(src, LEVER_SRC_DEFAULT);
    lever_free(s);
    assert_int_equal(lever_last_error(c, NULL, 0), LEVER_E_UNREACHABLE);
    s = lever_get_string(c, "orders/none", NULL, &src);
    assert_null(s);

    size_t n;
    char **l = lever_get_list(c, "hosts", "a,b", &n, &src);
    assert_int_equal(n, 2);
    assert_string_equal(l[1], "b");
    lever_strlist_free(l);
    assert_int_equal(lever_get_duration_ms(c, "timeouts/READ", 1500, &src), 1500);

    char *env = lever_env_name(c, "features/FLAG");
    assert_string_equal(env, "FLAG");
    lever_free(env);
    lever_close(c);

    /* full-path scheme with an env prefix */
    assert_int_equal(lever_options_set_env_scheme(o, LEVER_ENV_FULL_PATH), LEVER_OK);
    assert_int_equal(lever_options_set_env_prefix(o, "MYAPP_"), LEVER_OK);
    assert_int_equal(lever_open(o, &c, err, sizeof err), LEVER_OK);
    setenv("MYAPP_FEATURES_FLAG", "off", 1);
    assert_false(lever_get_bool(c, "features/FLAG", true, &src));
    assert_int_equal(src, LEVER_SRC_ENV);
    unsetenv("MYAPP_FEATURES_FLAG");
    lever_close(c);

    /* no env at all */
    assert_int_equal(lever_options_set_env_scheme(o, LEVER_ENV_NONE), LEVER_OK);
    assert_int_equal(lever_open(o, &c, err, sizeof err), LEVER_OK);
    assert_false(lever_get_bool(c, "features/FLAG", false, &src)); /* FLAG=yes is ignored */
    assert_int_equal(src, LEVER_SRC_DEFAULT);
    lever_close(c);

    /* live mode without a prefix is refused at open */
    assert_int_equal(lever_options_set_prefix(o, NULL), LEVER_OK);
    assert_int_equal(lever_options_set_live(o, true), LEVER_OK);
    assert_int_equal(lever_open(o, &c, err, sizeof err), LEVER_E_INVALID);
    assert_null(c);
    assert_non_null(strstr(err, "prefix"));
    lever_options_free(o);
}

static void test_open_without_credentials(void **state)
{
    (void)state;
    lever *c;
    char err[256];
    assert_int_equal(lever_open(NULL, &c, err, sizeof err), LEVER_E_AUTH);
    assert_null(c);
    assert_non_null(strstr(err, "credentials"));
    lever_options *o = lever_options_new();
    lever_options_set_credentials(o, "AK", "SK", NULL);
    lever_options_set_endpoint(o, "ftp://x");
    assert_int_equal(lever_open(o, &c, err, sizeof err), LEVER_E_INVALID);
    lever_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoint_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_without_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_without_credentials, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
