/* policy.c - consistency rules and due times of parameter policies. */
#include "core/policy.h"

static const char *const names[] = {"Expiration", "ExpirationNotification",
                                    "NoChangeNotification"};

const char *lv_policy_type_name(lv_policy_type t)
{
    return (unsigned)t < 3 ? names[t] : "Unknown";
}

lv_err lv_policy_set_check(const lv_policy_set *s, int64_t now_ms, lv_error *err)
{
    unsigned seen[3] = {0, 0, 0};
    const lv_policy *exp = NULL;
    for (unsigned i = 0; i < s->n; i++) {
        if (++seen[s->p[i].type] > 1)
            return lv_error_set(err, LV_E_INCOMPATIBLE_POLICY,
                                "There is a conflict in the policies specified for this parameter: "
                                "more than one %s policy.", lv_policy_type_name(s->p[i].type));
        if (s->p[i].type == LV_POLICY_EXPIRATION)
            exp = &s->p[i];
    }
    if (exp != NULL && exp->timestamp_ms <= now_ms)
        return lv_error_set(err, LV_E_INVALID_POLICY_ATTRIBUTE,
                            "The Expiration policy's Timestamp must be in the future.");
    if (seen[LV_POLICY_EXPIRATION_NOTIFICATION] && exp == NULL)
        return lv_error_set(err, LV_E_INCOMPATIBLE_POLICY,
                            "An ExpirationNotification policy needs an Expiration policy on the same parameter.");
    return LV_OK;
}

int64_t lv_policy_due(const lv_policy_set *s, unsigned i, int64_t modified_ms)
{
    const lv_policy *p = &s->p[i];
    switch (p->type) {
    case LV_POLICY_EXPIRATION:
        return p->timestamp_ms;
    case LV_POLICY_EXPIRATION_NOTIFICATION:
        for (unsigned j = 0; j < s->n; j++)
            if (s->p[j].type == LV_POLICY_EXPIRATION)
                return s->p[j].timestamp_ms - p->amount_ms;
        return INT64_MAX;
    case LV_POLICY_NO_CHANGE_NOTIFICATION:
        return modified_ms + p->amount_ms;
    }
    return INT64_MAX;
}
