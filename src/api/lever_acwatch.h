/* lever_acwatch.h - Lever.WatchConfigurations, the push channel of
 * lever-agent and liblever for AppConfig (contract in the session's
 * CONTRACTS.md; docs/appconfig.md). */
#ifndef LV_API_LEVER_ACWATCH_H
#define LV_API_LEVER_ACWATCH_H

#include "api/ssm.h"
#include "http/http.h"

/* Handles one request body; may park the request like WatchParameters. */
lv_err lv_lever_watch_configurations(const lv_ssm_ctx *c, const char *body, size_t len, lv_http_response *resp,
                                     lv_error *err);

#endif
