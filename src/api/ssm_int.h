/* ssm_int.h - what the Parameter Store front-end's files share (ssm.c:
 * single-parameter operations and the answer shapes; ssm_query.c: the
 * tree walks). Not for other front-ends. */
#ifndef LV_API_SSM_INT_H
#define LV_API_SSM_INT_H

#include "api/jreq.h"
#include "api/ssm.h"
#include "json/jw.h"

/* The Parameter shape of GetParameter / GetParameters /
 * GetParametersByPath (rendered once per version when it can be). */
lv_err ssm_put_parameter(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v,
                         const char *name_as_asked, const char *selector, bool decrypt, lv_error *err);
/* The ParameterMetadata shape of DescribeParameters. */
void ssm_put_metadata(const lv_ssm_ctx *c, jw *w, const lv_param *p, const lv_version *v);

lv_err ssm_op_get_parameters_by_path(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err);
lv_err ssm_op_describe_parameters(const lv_ssm_ctx *c, jreq *r, jw *w, lv_error *err);

#endif
