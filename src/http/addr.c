/* addr.c - the listener's configuration parsers: listen address, sizes. */
#include "http/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Strict decimal (digits only, no overflow): also the request parser's
 * reading of Content-Length, where leniency would let a malformed value
 * pass as a small number. */
int lv_http_parse_size(const char *s, size_t *out)
{
    size_t v = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (SIZE_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Parses "HOST:PORT" (dotted IPv4, "localhost", "*" or empty for any,
 * "[v6]") into ss. */
lv_err lv_http_parse_listen(const char *listen, struct sockaddr_storage *ss,
                           int *is_v6, lv_error *err)
{
    memset(ss, 0, sizeof *ss);
    *is_v6 = 0;
    if (listen == NULL)
        return lv_error_set(err, LV_E_VALIDATION, "listen address missing");
    const char *colon = strrchr(listen, ':');
    if (colon == NULL)
        return lv_error_set(err, LV_E_VALIDATION,
                            "listen address '%s' is not HOST:PORT", listen);
    size_t port = 0;
    if (!lv_http_parse_size(colon + 1, &port) || port > 65535)
        return lv_error_set(err, LV_E_VALIDATION,
                            "listen address '%s' has a bad port", listen);

    char host[64];
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof host)
        return lv_error_set(err, LV_E_VALIDATION,
                            "listen address '%s': host too long", listen);
    memcpy(host, listen, hlen);
    host[hlen] = '\0';

    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
            return lv_error_set(err, LV_E_VALIDATION,
                                "listen address '%s': bad IPv6 address", listen);
        *is_v6 = 1;
        return LV_OK;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    if (hlen == 0 || strcmp(host, "*") == 0)
        in->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return lv_error_set(err, LV_E_VALIDATION,
                            "listen address '%s': host must be dotted IPv4, "
                            "localhost or [IPv6]", listen);
    return LV_OK;
}

