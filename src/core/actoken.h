/* actoken.h - AppConfig Data configuration tokens as they travel: "lv1_"
 * followed by 40 lowercase hex digits (20 random bytes). A token names one
 * poll of one session; the server keeps what it stands for. Tokens come
 * from clients, so parsing is strict and bounded (fuzzed). */
#ifndef LV_CORE_ACTOKEN_H
#define LV_CORE_ACTOKEN_H

#include <stdbool.h>
#include <stddef.h>

enum { LV_ACTOKEN_BYTES = 20, LV_ACTOKEN_LEN = 4 + 2 * LV_ACTOKEN_BYTES };

/* Writes the text of id into out[LV_ACTOKEN_LEN + 1]. */
void lv_actoken_format(const unsigned char id[LV_ACTOKEN_BYTES], char *out);
/* Parses s[0..n) into id; false for anything lv_actoken_format does not
 * produce. */
bool lv_actoken_parse(const char *s, size_t n, unsigned char id[LV_ACTOKEN_BYTES]);

#endif
