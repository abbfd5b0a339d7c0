/* fuzz_iam_policy.c - IAM-shaped policy documents (parse, then evaluate
 * against a few requests) and access key records, on arbitrary input.
 * Input starting with 'K' is decoded as a stored access key record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/keystore.h"
#include "auth/policy_iam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    lv_error err;
    lv_error_clear(&err);
    if (size > 0 && data[0] == 'K') {
        lv_keystore_decode_check(data + 1, size - 1, &err);
        return 0;
    }
    lv_iam_policy *p = NULL;
    if (lv_iam_policy_parse((const char *)data, size, &p, &err) != LV_OK) {
        if (p != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    static const char *const actions[] = {"ssm:GetParameter", "ssm:PutParameter", "lever:X", "*"};
    static const char *const res[] = {"arn:aws:ssm:us-east-1:000000000000:parameter/a/b", "*", ""};
    const char *keys[] = {"ssm:Recursive", "ssm:Overwrite", "ssm:Policies"};
    const char *vals[] = {"true", "false", "[{\"Type\":\"Expiration\"}]"};
    const lv_iam_policy *pp = p;
    for (size_t a = 0; a < 4; a++)
        for (size_t r = 0; r < 3; r++) {
            lv_iam_request q = {actions[a], res[r], keys, vals, 3};
            lv_iam_decision d = lv_iam_eval(&pp, 1, &q);
            if (d != LV_IAM_ALLOW && d != LV_IAM_DENY && d != LV_IAM_IMPLICIT_DENY)
                abort();
        }
    lv_iam_policy_free(p);
    return 0;
}
