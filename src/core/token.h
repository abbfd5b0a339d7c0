/* token.h - NextToken values: opaque to clients, but in fact the position
 * after which the next page starts (a name, or a version number) and which
 * query it belongs to. Resuming "after a name" instead of "at an offset"
 * keeps paging correct while other clients add and delete parameters. */
#ifndef LV_CORE_TOKEN_H
#define LV_CORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* kind tells tokens of different operations apart; query is a hash of the
 * request's own parameters (path, filters), so a token is refused by a
 * different query. */
lv_err lv_token_encode(char kind, uint32_t query, const void *pos, size_t len,
                       lv_buf *out);

/* Decodes tok into out (the position). Anything not produced by
 * lv_token_encode with the same kind and query gives LV_E_INVALID_NEXT_TOKEN. */
lv_err lv_token_decode(char kind, uint32_t query, const char *tok, size_t len,
                       lv_buf *out, lv_error *err);

/* FNV-1a, for building the query hash incrementally (start with seed 0). */
uint32_t lv_token_hash(uint32_t h, const void *p, size_t n);

#endif
