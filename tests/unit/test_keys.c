/* test_keys.c - root key provisioning (generate, env, file) and the credentials INI parser. */
#include <dirent.h>
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

#include "auth/keys.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lv_keys_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/credentials", dir);
    unsetenv("LEVER_ROOT_ACCESS_KEY_ID");
    unsetenv("LEVER_ROOT_SECRET_ACCESS_KEY");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    unsetenv("LEVER_ROOT_ACCESS_KEY_ID");
    unsetenv("LEVER_ROOT_SECRET_ACCESS_KEY");
    return 0;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int count_dir_entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_generate(void **state)
{
    (void)state;
    mode_t old = umask(0);
    lv_credentials c;
    lv_error err = {0};
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_OK);
    umask(old);

    assert_int_equal(strlen(c.access_key_id), 20);
    assert_memory_equal(c.access_key_id, "LV", 2);
    assert_int_equal(strspn(c.access_key_id + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                     18);
    assert_int_equal(strlen(c.secret_access_key), 40);
    assert_int_equal(strspn(c.secret_access_key,
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789+/"),
                     40);
    assert_string_equal(c.session_token, "");

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_dir_entries(), 1); /* no temp file left behind */

    char want[512];
    snprintf(want, sizeof want,
             "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
             c.access_key_id, c.secret_access_key);
    assert_string_equal(slurp(path), want);

    /* Stable: the next start reads the same key back. */
    lv_credentials again;
    assert_int_equal(lv_keys_root_load_or_create(path, &again, &err), LV_OK);
    assert_string_equal(again.access_key_id, c.access_key_id);
    assert_string_equal(again.secret_access_key, c.secret_access_key);
    assert_string_equal(slurp(path), want);
    assert_int_equal(lv_keys_read_file(path, "default", &again, &err), LV_OK);
    assert_string_equal(again.secret_access_key, c.secret_access_key);

    /* Another data directory gets another key. */
    char other[160];
    snprintf(other, sizeof other, "%s/other", dir);
    lv_credentials c2;
    assert_int_equal(lv_keys_root_load_or_create(other, &c2, &err), LV_OK);
    assert_string_not_equal(c2.access_key_id, c.access_key_id);
    assert_string_not_equal(c2.secret_access_key, c.secret_access_key);
}

static void test_env(void **state)
{
    (void)state;
    lv_credentials c;
    lv_error err = {0};
    spit(path, "[default]\naws_access_key_id = OLD\naws_secret_access_key = OLDS\n");
    setenv("LEVER_ROOT_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("LEVER_ROOT_SECRET_ACCESS_KEY", "env/secret+x", 1);
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_OK);
    assert_string_equal(c.access_key_id, "AKIAENV");
    assert_string_equal(c.secret_access_key, "env/secret+x");
    assert_string_equal(slurp(path), "[default]\naws_access_key_id = AKIAENV\n"
                                     "aws_secret_access_key = env/secret+x\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Half a key: ignored, the file wins. */
    unsetenv("LEVER_ROOT_SECRET_ACCESS_KEY");
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_OK);
    assert_string_equal(c.access_key_id, "AKIAENV");
    unsetenv("LEVER_ROOT_ACCESS_KEY_ID");
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_OK);
    assert_string_equal(c.secret_access_key, "env/secret+x");

    /* A value that would corrupt the file is refused. */
    setenv("LEVER_ROOT_ACCESS_KEY_ID", "A\nB", 1);
    setenv("LEVER_ROOT_SECRET_ACCESS_KEY", "s", 1);
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_E_VALIDATION);
    assert_string_equal(c.access_key_id, "");
    char longv[200];
    memset(longv, 'k', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    setenv("LEVER_ROOT_ACCESS_KEY_ID", longv, 1);
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_E_VALIDATION);
}

static void test_corrupt_file_kept(void **state)
{
    (void)state;
    lv_credentials c;
    lv_error err = {0};
    spit(path, "[default]\naws_access_key_id = X\n");
    assert_int_equal(lv_keys_root_load_or_create(path, &c, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "aws_secret_access_key"));
    assert_non_null(strstr(err.msg, path));
    /* Never overwritten: the operator's file is evidence, not garbage. */
    assert_string_equal(slurp(path), "[default]\naws_access_key_id = X\n");

    assert_int_equal(lv_keys_read_file("/nonexistent/x", "default", &c, &err), LV_E_IO);

    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/credentials", dir);
    assert_int_equal(lv_keys_root_load_or_create(bad, &c, &err), LV_E_IO);
}

static void test_write_file(void **state)
{
    (void)state;
    lv_credentials c = {.access_key_id = "AK", .secret_access_key = "SK",
                        .session_token = "TOK"};
    lv_error err = {0};
    assert_int_equal(lv_keys_write_file(path, &c, &err), LV_OK);
    lv_credentials r;
    assert_int_equal(lv_keys_read_file(path, "default", &r, &err), LV_OK);
    assert_string_equal(r.session_token, "TOK");
    strcpy(c.secret_access_key, "bad\nline");
    assert_int_equal(lv_keys_write_file(path, &c, &err), LV_E_VALIDATION);
    strcpy(c.secret_access_key, " lead");
    assert_int_equal(lv_keys_write_file(path, &c, &err), LV_E_VALIDATION);
    c.access_key_id[0] = '\0';
    strcpy(c.secret_access_key, "x");
    assert_int_equal(lv_keys_write_file(path, &c, &err), LV_E_VALIDATION);
    /* The earlier good file is untouched. */
    assert_int_equal(lv_keys_read_file(path, "default", &r, &err), LV_OK);
    assert_string_equal(r.access_key_id, "AK");
    assert_int_equal(count_dir_entries(), 1);
}

static lv_err parse(const char *text, const char *profile, lv_credentials *c,
                    lv_error *err)
{
    return lv_keys_parse_ini(text, strlen(text), profile, c, err);
}

static void test_parser(void **state)
{
    (void)state;
    lv_credentials c;
    lv_error err = {0};

    const char *multi =
        "# leading comment\r\n"
        "; another\r\n"
        "\r\n"
        "[default]\r\n"
        "aws_access_key_id=AK1\r\n"
        "  aws_secret_access_key   =   S1  \r\n"
        "\r\n"
        "[profile prod]   ; trailing\n"
        "\tAWS_ACCESS_KEY_ID\t=\tAK2\n"
        "aws_secret_access_key: S2=with=equals\n"
        "aws_session_token = T2\n"
        "[other]\n"
        "aws_access_key_id = AK3";
    assert_int_equal(parse(multi, "default", &c, &err), LV_OK);
    assert_string_equal(c.access_key_id, "AK1");
    assert_string_equal(c.secret_access_key, "S1");
    assert_string_equal(c.session_token, "");
    assert_int_equal(parse(multi, "prod", &c, &err), LV_OK);
    assert_string_equal(c.access_key_id, "AK2");
    assert_string_equal(c.secret_access_key, "S2=with=equals");
    assert_string_equal(c.session_token, "T2");

    /* Missing profile and missing keys name what is missing. */
    assert_int_equal(parse(multi, "staging", &c, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "'staging'"));
    assert_int_equal(parse(multi, "other", &c, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "aws_secret_access_key"));
    assert_non_null(strstr(err.msg, "'other'"));
    assert_string_equal(c.access_key_id, ""); /* nothing half-filled */
    assert_int_equal(parse("[default]\naws_secret_access_key = s\n", "default", &c,
                           &err),
                     LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "aws_access_key_id"));
    assert_int_equal(parse("[default]\naws_access_key_id =\naws_secret_access_key = s\n",
                           "default", &c, &err),
                     LV_E_VALIDATION);
    assert_int_equal(parse("", "default", &c, &err), LV_E_VALIDATION);
    assert_int_equal(lv_keys_parse_ini(NULL, 0, "default", &c, &err), LV_E_VALIDATION);

    /* Keys outside the wanted profile do not leak in; later sections merge. */
    assert_int_equal(parse("aws_access_key_id = stray\n[a]\naws_access_key_id = A\n"
                           "[b]\naws_secret_access_key = B\n[a]\n"
                           "aws_secret_access_key = A2\n",
                           "a", &c, &err),
                     LV_OK);
    assert_string_equal(c.access_key_id, "A");
    assert_string_equal(c.secret_access_key, "A2");

    /* Deeper-indented lines under an empty value are a nested block (AWS
     * config's s3 settings), not options of their own; so are indented
     * lines without a delimiter (multi-line values). */
    assert_int_equal(parse("[default]\naws_access_key_id = A\ns3 =\n"
                           "  aws_secret_access_key = nested\n"
                           "aws_secret_access_key = real\n",
                           "default", &c, &err),
                     LV_OK);
    assert_string_equal(c.secret_access_key, "real");
    assert_int_equal(parse("[default]\naws_access_key_id = A\nnote = one\n"
                           "    two words\naws_secret_access_key = S\n",
                           "default", &c, &err),
                     LV_OK);
    assert_string_equal(c.secret_access_key, "S");

    /* "[profile]" alone is a profile named "profile". */
    assert_int_equal(parse("[profile]\naws_access_key_id=a\naws_secret_access_key=b\n",
                           "profile", &c, &err),
                     LV_OK);

    /* Malformed lines. */
    assert_int_equal(parse("[default\naws_access_key_id=a\n", "default", &c, &err),
                     LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_int_equal(parse("[]\n", "default", &c, &err), LV_E_VALIDATION);
    assert_int_equal(parse("[default]\njust words\n", "default", &c, &err),
                     LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(parse("[default]\n = v\n", "default", &c, &err), LV_E_VALIDATION);

    /* NUL inside a value cannot be represented. */
    const char nul[] = "[default]\naws_access_key_id = a\0b\naws_secret_access_key = s\n";
    assert_int_equal(lv_keys_parse_ini(nul, sizeof nul - 1, "default", &c, &err),
                     LV_E_VALIDATION);
    /* ...but the text is length-delimited, not NUL-delimited. */
    const char ok[] = "[default]\naws_access_key_id = a\naws_secret_access_key = s\nJUNK";
    assert_int_equal(lv_keys_parse_ini(ok, sizeof ok - 5, "default", &c, &err), LV_OK);
    assert_string_equal(c.secret_access_key, "s");
}

static void test_parser_lengths(void **state)
{
    (void)state;
    lv_credentials c;
    lv_error err = {0};
    char text[8192];
    char v[3000];

    memset(v, 'a', LV_ACCESS_KEY_MAX);
    v[LV_ACCESS_KEY_MAX] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = %s\naws_secret_access_key = s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_OK);
    assert_int_equal(strlen(c.access_key_id), LV_ACCESS_KEY_MAX);

    v[LV_ACCESS_KEY_MAX] = 'a';
    v[LV_ACCESS_KEY_MAX + 1] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = %s\naws_secret_access_key = s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "aws_access_key_id"));
    assert_non_null(strstr(err.msg, "longer"));

    memset(v, 's', LV_SECRET_KEY_MAX + 1);
    v[LV_SECRET_KEY_MAX + 1] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = a\naws_secret_access_key = %s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_E_VALIDATION);

    memset(v, 't', sizeof c.session_token - 1);
    v[sizeof c.session_token - 1] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = a\naws_secret_access_key = s\n"
             "aws_session_token = %s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_OK);
    assert_int_equal(strlen(c.session_token), sizeof c.session_token - 1);
    v[sizeof c.session_token - 1] = 't';
    v[sizeof c.session_token] = '\0';
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = a\naws_secret_access_key = s\n"
             "aws_session_token = %s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_E_VALIDATION);
    assert_non_null(strstr(err.msg, "aws_session_token"));

    /* Over-long values in other profiles do not matter. */
    snprintf(text, sizeof text,
             "[x]\naws_session_token = %s\n[default]\naws_access_key_id = a\n"
             "aws_secret_access_key = s\n", v);
    assert_int_equal(parse(text, "default", &c, &err), LV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
        cmocka_unit_test(test_parser),
        cmocka_unit_test(test_parser_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
