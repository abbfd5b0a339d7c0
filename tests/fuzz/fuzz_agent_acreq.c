/* fuzz_agent_acreq.c - libFuzzer target: the AppConfig Agent API's request
 * parsers (path, query, Context header, bearer token, prefetch item, local
 * file name, Entity-Id) on arbitrary bytes. The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/acreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool clean(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char err[256] = "";
    switch (data[0] % 7) {
    case 0: {
        lvac_target t;
        int rc = lvac_parse_path(s, &t, err, sizeof err);
        if (rc == 0) {
            if (!clean(t.app, LVAC_NAME_MAX) || !clean(t.env, LVAC_NAME_MAX) || !clean(t.profile, LVAC_NAME_MAX) ||
                strchr(t.app, '/') || strchr(t.profile, ':') || (t.kind == LVAC_OFREP_ONE && !clean(t.flag, 64)))
                __builtin_trap();
        } else if (rc == -1 && err[0] == '\0') {
            __builtin_trap();
        } else if (rc != -1 && rc != 1) {
            __builtin_trap();
        }
        break;
    }
    case 1: {
        lvac_flags *f = malloc(sizeof *f);
        if (f && lvac_parse_query((const char *)data + 1, size - 1, f, err, sizeof err) == 0) {
            if (f->n > LVAC_MAX_FLAGS)
                __builtin_trap();
            for (size_t i = 0; i < f->n; i++)
                if (!clean(f->keys[i], LVAC_FLAG_MAX))
                    __builtin_trap();
        } else if (f && (f->n != 0 || err[0] == '\0')) {
            __builtin_trap();
        }
        free(f);
        break;
    }
    case 2: {
        lvac_context *c = calloc(1, sizeof *c);
        if (c)
            lvac_context_init(c);
        if (c && lvac_parse_context(s, c, err, sizeof err) == 0) {
            if (c->n > LVAC_MAX_CTX)
                __builtin_trap();
            for (size_t i = 0; i < c->n; i++)
                if (!clean(lvac_ctx_key(c, i), LVAC_CTX_KEY_MAX) || strchr(lvac_ctx_key(c, i), '=') ||
                    strlen(lvac_ctx_value(c, i)) > LVAC_CTX_VALUE_MAX || strchr(lvac_ctx_value(c, i), ','))
                    __builtin_trap();
        } else if (c && c->n != 0) {
            __builtin_trap(); /* a failure leaves the context unchanged */
        }
        if (c)
            lvac_context_free(c);
        free(c);
        break;
    }
    case 3: {
        const char *nl = strchr(s, '\n');
        if (nl) {
            char *tok = strdup(nl + 1);
            s[nl - s] = '\0';
            if (tok && lvac_bearer_ok(s, tok) && (strncasecmp(s, "bearer ", 7) != 0 || strstr(s, tok) == NULL))
                __builtin_trap();
            free(tok);
        }
        break;
    }
    case 4: {
        lvac_target t;
        if (lvac_parse_triple(s, &t, err, sizeof err) == 0 &&
            (!clean(t.app, LVAC_NAME_MAX) || !clean(t.env, LVAC_NAME_MAX) || !clean(t.profile, LVAC_NAME_MAX) ||
             strchr(t.app, ':') || strchr(t.env, ':') || strchr(t.profile, ':')))
            __builtin_trap();
        break;
    }
    case 5: {
        lvac_target t;
        char ct[128];
        if (lvac_parse_local_name(s, &t, ct, sizeof ct) == 0 && (strchr(ct, '/') == NULL || !clean(t.profile, 128)))
            __builtin_trap();
        break;
    }
    default:
        if (lvac_entity_ok(s) && !clean(s, LVAC_ENTITY_MAX))
            __builtin_trap();
        break;
    }
    free(s);
    return 0;
}
