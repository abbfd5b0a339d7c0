/* addr.h - small parsers of the listener's configuration: the listen
 * address and decimal sizes. */
#ifndef LV_HTTP_ADDR_H
#define LV_HTTP_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/err.h"

/* Strict decimal into *out; 1 on success, 0 on anything else. */
int lv_http_parse_size(const char *s, size_t *out);

/* Parses "HOST:PORT" (dotted IPv4, "localhost", "*" or empty for any,
 * "[v6]") into ss; *is_v6 tells which family. */
lv_err lv_http_parse_listen(const char *listen, struct sockaddr_storage *ss,
                            int *is_v6, lv_error *err);

#endif
