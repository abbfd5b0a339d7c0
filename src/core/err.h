/* err.h - the one error vocabulary of lever: a code plus a human message.
 * Codes that correspond to an AWS error carry its wire name, so front-ends
 * map a code to "__type" without a table of their own. */
#ifndef LV_CORE_ERR_H
#define LV_CORE_ERR_H

#include <stddef.h>

/* X(symbol, aws error code, http status) */
#define LV_ERRORS(X)                                                          \
    X(OK, "OK", 200)                                                          \
    X(NOMEM, "InternalServerError", 500)                                      \
    X(IO, "InternalServerError", 500)                                         \
    X(INTERNAL, "InternalServerError", 500)                                   \
    X(CORRUPT, "InternalServerError", 500)                                    \
    X(UNAVAILABLE, "ServiceUnavailable", 503)                                 \
    X(VALIDATION, "ValidationException", 400)                                 \
    X(SERIALIZATION, "SerializationException", 400)                           \
    X(UNKNOWN_OPERATION, "UnknownOperationException", 400)                    \
    X(ACCESS_DENIED, "AccessDeniedException", 400)                            \
    X(MISSING_AUTH, "MissingAuthenticationTokenException", 400)               \
    X(INCOMPLETE_SIGNATURE, "IncompleteSignatureException", 400)              \
    X(INVALID_SIGNATURE, "InvalidSignatureException", 400)                    \
    X(UNRECOGNIZED_CLIENT, "UnrecognizedClientException", 400)                \
    X(THROTTLING, "ThrottlingException", 400)                                 \
    X(PARAM_NOT_FOUND, "ParameterNotFound", 400)                              \
    X(PARAM_EXISTS, "ParameterAlreadyExists", 400)                            \
    X(PARAM_LIMIT, "ParameterLimitExceeded", 400)                             \
    X(PARAM_MAX_VERSION, "ParameterMaxVersionLimitExceeded", 400)             \
    X(PARAM_VERSION_NOT_FOUND, "ParameterVersionNotFound", 400)               \
    X(PARAM_VERSION_LABEL_LIMIT, "ParameterVersionLabelLimitExceeded", 400)   \
    X(PARAM_PATTERN_MISMATCH, "ParameterPatternMismatchException", 400)       \
    X(HIERARCHY_LEVEL_LIMIT, "HierarchyLevelLimitExceededException", 400)     \
    X(HIERARCHY_TYPE_MISMATCH, "HierarchyTypeMismatchException", 400)         \
    X(INVALID_ALLOWED_PATTERN, "InvalidAllowedPatternException", 400)         \
    X(INVALID_KEY_ID, "InvalidKeyId", 400)                                    \
    X(INVALID_NEXT_TOKEN, "InvalidNextToken", 400)                            \
    X(INVALID_FILTER, "InvalidFilter", 400)                                   \
    X(INVALID_FILTER_KEY, "InvalidFilterKey", 400)                            \
    X(INVALID_FILTER_OPTION, "InvalidFilterOption", 400)                      \
    X(INVALID_FILTER_VALUE, "InvalidFilterValue", 400)                        \
    X(INVALID_RESOURCE_ID, "InvalidResourceId", 400)                          \
    X(INVALID_RESOURCE_TYPE, "InvalidResourceType", 400)                      \
    X(TOO_MANY_TAGS, "TooManyTagsError", 400)                                 \
    X(TOO_MANY_UPDATES, "TooManyUpdates", 400)                                \
    X(UNSUPPORTED_PARAM_TYPE, "UnsupportedParameterType", 400)                \
    X(INVALID_POLICY_TYPE, "InvalidPolicyTypeException", 400)                 \
    X(INVALID_POLICY_ATTRIBUTE, "InvalidPolicyAttributeException", 400)       \
    X(POLICIES_LIMIT, "PoliciesLimitExceededException", 400)                  \
    X(INCOMPATIBLE_POLICY, "IncompatiblePolicyException", 400)                \
    X(COMPACTED, "RevisionCompactedException", 400)                           \
    X(TOO_BIG, "ValidationException", 400)                                    \
    X(MALFORMED_POLICY, "MalformedPolicyDocumentException", 400)              \
    X(RESOURCE_NOT_FOUND, "ResourceNotFoundException", 400)                   \
    X(NO_SUCH_ENTITY, "NoSuchEntityException", 400)                           \
    X(LIMIT_EXCEEDED, "LimitExceededException", 400)                          \
    /* A conditional store commit lost a race: re-plan on fresh state. */     \
    X(CONFLICT, "TooManyUpdates", 400)                                        \
    X(AC_BAD_REQUEST, "BadRequestException", 400)                             \
    X(AC_NOT_FOUND, "ResourceNotFoundException", 404)                         \
    X(AC_CONFLICT, "ConflictException", 409)                                  \
    X(AC_QUOTA, "ServiceQuotaExceededException", 402)                         \
    X(AC_TOO_LARGE, "PayloadTooLargeException", 413)                          \
    X(AC_INTERNAL, "InternalServerException", 500)

typedef enum lv_err {
#define LV_ERR_ENUM(sym, aws, status) LV_E_##sym,
    LV_ERRORS(LV_ERR_ENUM)
#undef LV_ERR_ENUM
    LV_E__COUNT
} lv_err;

#define LV_OK LV_E_OK

enum { LV_ERROR_MSG_MAX = 512 };

/* An error as it travels from where it happened to the front-end. */
typedef struct lv_error {
    lv_err code;
    char msg[LV_ERROR_MSG_MAX];
} lv_error;

/* Records code and a printf-style message in *e (which may be NULL) and
 * returns code, so callers can write `return lv_error_set(e, ...)`.
 * Messages longer than LV_ERROR_MSG_MAX are cut with "..." (they are
 * human-facing text, never data). */
lv_err lv_error_set(lv_error *e, lv_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void lv_error_clear(lv_error *e);

/* The AWS wire name ("ParameterNotFound"...) and HTTP status of a code. */
const char *lv_err_aws_code(lv_err code);
int lv_err_http_status(lv_err code);
/* The symbol, for logs and tests ("PARAM_NOT_FOUND"). */
const char *lv_err_name(lv_err code);

#endif
