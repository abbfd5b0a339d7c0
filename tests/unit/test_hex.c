/* test_hex.c - hexadecimal digits both ways and version-4 UUID text
 * (core/hex.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/hex.h"

static void test_encode_every_byte(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char out[513];
    memset(out, 'x', sizeof out);
    lv_hex_encode(all, sizeof all, out);
    assert_int_equal(out[512], '\0');
    for (int i = 0; i < 256; i++) {
        char want[3];
        snprintf(want, sizeof want, "%02x", i);
        assert_memory_equal(out + 2 * i, want, 2);
        /* and back */
        assert_int_equal(lv_hexval((unsigned char)out[2 * i]) * 16 + lv_hexval((unsigned char)out[2 * i + 1]), i);
    }
    char empty[1] = {'x'};
    lv_hex_encode(all, 0, empty);
    assert_int_equal(empty[0], '\0');
}

static void test_hexval(void **state)
{
    (void)state;
    assert_int_equal(lv_hexval('0'), 0);
    assert_int_equal(lv_hexval('9'), 9);
    assert_int_equal(lv_hexval('a'), 10);
    assert_int_equal(lv_hexval('F'), 15);
    assert_int_equal(lv_hexval('g'), -1);
    assert_int_equal(lv_hexval('/'), -1);
    assert_int_equal(lv_hexval(0x10), -1);
}

static void test_uuid4(void **state)
{
    (void)state;
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(0xf0 | i);
    char out[37];
    memset(out, 'x', sizeof out);
    lv_uuid4_text(b, out);
    /* Version nibble 4 in byte 6, variant 10xx in byte 8. */
    assert_string_equal(out, "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff");
    assert_int_equal(b[6], 0x46);
    assert_int_equal(b[8], 0xb8);
    memset(b, 0, sizeof b);
    lv_uuid4_text(b, out);
    assert_string_equal(out, "00000000-0000-4000-8000-000000000000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_every_byte),
        cmocka_unit_test(test_hexval),
        cmocka_unit_test(test_uuid4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
