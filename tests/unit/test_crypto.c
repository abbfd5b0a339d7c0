/* test_crypto.c - SecureString envelopes, the master key file, base64 and
 * sha256 helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"

static const unsigned char master[LV_MASTER_KEY_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char aad[] = "us-east-1\0/app/db/password\0" "3";
static const char pt[] = "hunter2 - a secret value";

static void seal(const char *key_id, const void *p, size_t n, lv_buf *env)
{
    lv_error err;
    assert_int_equal(lv_crypto_seal(master, key_id, aad, sizeof aad, p, n, env,
                                    &err),
                     LV_OK);
}

static void test_round_trip(void **state)
{
    (void)state;
    lv_buf env = LV_BUF_INIT, out = LV_BUF_INIT;
    lv_error err;
    seal("alias/aws/ssm", pt, strlen(pt), &env);
    assert_int_equal(env.len, strlen(pt) + LV_ENVELOPE_OVERHEAD);
    assert_int_equal((unsigned char)env.data[0], 1);
    assert_int_equal(lv_crypto_open(master, "alias/aws/ssm", aad, sizeof aad,
                                    env.data, env.len, &out, &err),
                     LV_OK);
    assert_int_equal(out.len, strlen(pt));
    assert_memory_equal(out.data, pt, strlen(pt));

    /* Two seals of one value differ (random nonce). */
    lv_buf env2 = LV_BUF_INIT;
    seal("alias/aws/ssm", pt, strlen(pt), &env2);
    assert_int_equal(env.len, env2.len);
    assert_memory_not_equal(env.data, env2.data, env.len);

    /* Appends to what the buffer already holds. */
    lv_buf_reset(&out);
    lv_buf_puts(&out, "prefix:");
    assert_int_equal(lv_crypto_open(master, "alias/aws/ssm", aad, sizeof aad,
                                    env.data, env.len, &out, &err),
                     LV_OK);
    assert_int_equal(out.len, 7 + strlen(pt));
    assert_memory_equal(out.data + 7, pt, strlen(pt));
    lv_buf_free(&env);
    lv_buf_free(&env2);
    lv_buf_free(&out);
}

static void test_empty_plaintext(void **state)
{
    (void)state;
    lv_buf env = LV_BUF_INIT, out = LV_BUF_INIT;
    lv_error err;
    seal("k", "", 0, &env);
    assert_int_equal(env.len, LV_ENVELOPE_OVERHEAD);
    assert_int_equal(lv_crypto_open(master, "k", aad, sizeof aad, env.data,
                                    env.len, &out, &err),
                     LV_OK);
    assert_int_equal(out.len, 0);
    /* Empty aad works too, and is not the same as the real aad. */
    lv_buf_reset(&env);
    assert_int_equal(lv_crypto_seal(master, "k", NULL, 0, "x", 1, &env, &err),
                     LV_OK);
    lv_buf_reset(&out);
    assert_int_equal(lv_crypto_open(master, "k", NULL, 0, env.data, env.len,
                                    &out, &err),
                     LV_OK);
    assert_int_equal(lv_crypto_open(master, "k", aad, sizeof aad, env.data,
                                    env.len, &out, &err),
                     LV_E_CORRUPT);
    lv_buf_free(&env);
    lv_buf_free(&out);
}

static void expect_corrupt(const unsigned char *m, const char *key_id,
                           const void *a, size_t alen, const void *env,
                           size_t elen)
{
    lv_buf out = LV_BUF_INIT;
    lv_error err;
    lv_buf_puts(&out, "keep");
    assert_int_equal(lv_crypto_open(m, key_id, a, alen, env, elen, &out, &err),
                     LV_E_CORRUPT);
    assert_int_equal(err.code, LV_E_CORRUPT);
    /* Nothing of a failed open is left in the output. */
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    lv_buf_free(&out);
}

static void test_tamper(void **state)
{
    (void)state;
    lv_buf env = LV_BUF_INIT;
    seal("alias/aws/ssm", pt, strlen(pt), &env);

    /* Wrong aad: other version, other name. */
    char other[sizeof aad];
    memcpy(other, aad, sizeof aad);
    other[sizeof aad - 2] = '4';
    expect_corrupt(master, "alias/aws/ssm", other, sizeof other, env.data,
                   env.len);
    expect_corrupt(master, "alias/aws/ssm", aad, sizeof aad - 1, env.data,
                   env.len);
    /* Wrong KeyId, wrong master key. */
    expect_corrupt(master, "alias/other", aad, sizeof aad, env.data, env.len);
    unsigned char m2[LV_MASTER_KEY_LEN];
    memcpy(m2, master, sizeof m2);
    m2[31] ^= 0x80;
    expect_corrupt(m2, "alias/aws/ssm", aad, sizeof aad, env.data, env.len);

    /* One flipped bit in each part: version, nonce, ciphertext, tag. */
    size_t where[] = {0, 1, 12, 13, 13 + strlen(pt) / 2, env.len - 16,
                      env.len - 1};
    for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
        char *copy = malloc(env.len);
        assert_non_null(copy);
        memcpy(copy, env.data, env.len);
        copy[where[i]] ^= 1;
        expect_corrupt(master, "alias/aws/ssm", aad, sizeof aad, copy,
                       env.len);
        free(copy);
    }

    /* Truncated: every shorter length, including below the overhead. */
    for (size_t n = 0; n < env.len; n++)
        expect_corrupt(master, "alias/aws/ssm", aad, sizeof aad, env.data, n);
    lv_buf_free(&env);
}

static void make_tmpdir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/lv_test_crypto.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

static void test_master_key_file(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/master.key", dir);

    unsigned char k1[LV_MASTER_KEY_LEN], k2[LV_MASTER_KEY_LEN];
    lv_error err;
    assert_int_equal(lv_crypto_master_key_load(path, k1, &err), LV_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 65);

    /* Read back: the same key, and the file is what the header says. */
    assert_int_equal(lv_crypto_master_key_load(path, k2, &err), LV_OK);
    assert_memory_equal(k1, k2, sizeof k1);
    char text[80] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(text, 1, sizeof text, f), 65);
    fclose(f);
    assert_int_equal(text[64], '\n');
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", text[i]));

    /* No temporary file is left behind. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);

    /* A key file written by hand is read as written. */
    write_file(path,
               "000102030405060708090A0B0C0D0E0F"
               "101112131415161718191a1b1c1d1e1f\n",
               65);
    assert_int_equal(lv_crypto_master_key_load(path, k2, &err), LV_OK);
    for (int i = 0; i < 32; i++)
        assert_int_equal(k2[i], i);

    unlink(path);
    rmdir(dir);
}

static void test_master_key_corrupt(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/master.key", dir);
    static const char good[] =
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    struct {
        const char *text;
        size_t len;
    } bad[] = {
        {"", 0},
        {good, 64},                                     /* no newline */
        {good, 63},                                     /* short */
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "\n\n",
         66},                                           /* extra line */
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "\r\n",
         66},                                           /* CRLF */
        {"0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "\n",
         65},                                           /* not hex */
        {" 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "\n",
         65},
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddee\n",
         63},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(path, bad[i].text, bad[i].len);
        unsigned char k[LV_MASTER_KEY_LEN];
        lv_error err;
        assert_int_equal(lv_crypto_master_key_load(path, k, &err),
                         LV_E_CORRUPT);
        /* Refused, never replaced. */
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((size_t)st.st_size, bad[i].len);
    }
    write_file(path, good, 65);
    unsigned char k[LV_MASTER_KEY_LEN];
    lv_error err;
    assert_int_equal(lv_crypto_master_key_load(path, k, &err), LV_OK);
    assert_int_equal(k[1], 0x11);

    /* A directory that does not exist is an I/O error, not a crash. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nodir/master.key", dir);
    assert_int_equal(lv_crypto_master_key_load(missing, k, &err), LV_E_IO);
    unlink(path);
    rmdir(dir);
}

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob",
                                        "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        lv_buf b = LV_BUF_INIT;
        assert_int_equal(lv_base64_encode(plain[i], strlen(plain[i]), &b),
                         LV_OK);
        assert_int_equal(b.len, strlen(coded[i]));
        if (b.len)
            assert_string_equal(b.data, coded[i]);
        lv_buf_reset(&b);
        assert_int_equal(lv_base64_decode(coded[i], strlen(coded[i]), &b),
                         LV_OK);
        assert_int_equal(b.len, strlen(plain[i]));
        if (b.len)
            assert_memory_equal(b.data, plain[i], b.len);
        lv_buf_free(&b);
    }
    /* All byte values survive, both alphabet ends included. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    lv_buf e = LV_BUF_INIT, d = LV_BUF_INIT;
    assert_int_equal(lv_base64_encode(all, sizeof all, &e), LV_OK);
    assert_non_null(strchr(e.data, '+'));
    assert_non_null(strchr(e.data, '/'));
    assert_int_equal(lv_base64_decode(e.data, e.len, &d), LV_OK);
    assert_int_equal(d.len, sizeof all);
    assert_memory_equal(d.data, all, sizeof all);
    lv_buf_free(&e);
    lv_buf_free(&d);
}

static void test_base64_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zg===",    /* too much */
        "Z===",     /* one char of data */
        "====",
        "Zm9v\n",   /* whitespace */
        "Zm 9v",
        "Zm9-",     /* url-safe alphabet */
        "Zm9_",
        "Zg==Zg==", /* padding in the middle */
        "Zm=v",
        "Zh==",     /* non-zero bits after the data */
        "Zm9=",
        "Zm9v*A==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lv_buf b = LV_BUF_INIT;
        lv_buf_puts(&b, "pre");
        assert_int_equal(lv_base64_decode(bad[i], strlen(bad[i]), &b),
                         LV_E_VALIDATION);
        /* Failed decodes leave the buffer as it was. */
        assert_int_equal(b.len, 3);
        lv_buf_free(&b);
    }
    /* An embedded NUL is a bad character, not the end. */
    lv_buf b = LV_BUF_INIT;
    assert_int_equal(lv_base64_decode("Zm9v\0AAA", 8, &b), LV_E_VALIDATION);
    lv_buf_free(&b);
}

static void test_sha256_and_random(void **state)
{
    (void)state;
    char hex[65];
    lv_sha256_hex("", 0, hex);
    assert_string_equal(
        hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lv_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    unsigned char a[32] = {0}, b[32] = {0};
    lv_error err;
    assert_int_equal(lv_crypto_random(a, sizeof a, &err), LV_OK);
    assert_int_equal(lv_crypto_random(b, sizeof b, &err), LV_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_plaintext),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_master_key_file),
        cmocka_unit_test(test_master_key_corrupt),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_sha256_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
