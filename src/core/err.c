/* err.c - error codes and messages shared by every module. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *aws;
    int status;
} err_table[] = {
#define LV_ERR_ROW(sym, aws, status) {#sym, aws, status},
    LV_ERRORS(LV_ERR_ROW)
#undef LV_ERR_ROW
};

lv_err lv_error_set(lv_error *e, lv_err code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof e->msg)
        memcpy(e->msg + sizeof e->msg - 4, "...", 4);
    return code;
}

void lv_error_clear(lv_error *e)
{
    if (e != NULL) {
        e->code = LV_OK;
        e->msg[0] = '\0';
    }
}

const char *lv_err_aws_code(lv_err code)
{
    if ((unsigned)code >= LV_E__COUNT)
        return "InternalServerError";
    return err_table[code].aws;
}

int lv_err_http_status(lv_err code)
{
    if ((unsigned)code >= LV_E__COUNT)
        return 500;
    return err_table[code].status;
}

const char *lv_err_name(lv_err code)
{
    if ((unsigned)code >= LV_E__COUNT)
        return "UNKNOWN";
    return err_table[code].name;
}
