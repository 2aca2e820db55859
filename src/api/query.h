/* api/query: the AWS Query protocol shared by the IAM and STS handlers (api/iam.c, api/sts.c).
 *
 * A request is "Action=X&Version=Y&Param=..." as a form body (POST) or query string (GET). The
 * answer is <XResponse xmlns=NS><XResult>...</XResult><ResponseMetadata><RequestId>..</Request
 * Id></ResponseMetadata></XResponse>; errors are <ErrorResponse><Error><Type>Sender|Receiver
 * </Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
 *
 * Error codes: IAM/STS errors have their own names and statuses (from the services' published
 * models), so they live in a small table here, negative values from QE_BASE (past the S3
 * table). query_error() also renders core S3 codes (authentication failures) in this shape,
 * renaming the few that IAM/STS call differently (InvalidAccessKeyId -> InvalidClientTokenId).
 */
#ifndef STRATA_API_QUERY_H
#define STRATA_API_QUERY_H
#include "api/api_int.h"
#include "api/form.h"

#define IAM_XMLNS "https://iam.amazonaws.com/doc/2010-05-08/"
#define STS_XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"

/* X(name, code, HTTP status) */
#define QUERY_ERRORS(X)                                                                            \
    X(NO_SUCH_ENTITY, "NoSuchEntity", 404)                                                         \
    X(ENTITY_EXISTS, "EntityAlreadyExists", 409)                                                   \
    X(DELETE_CONFLICT, "DeleteConflict", 409)                                                      \
    X(LIMIT_EXCEEDED, "LimitExceeded", 409)                                                        \
    X(MALFORMED_POLICY, "MalformedPolicyDocument", 400)                                            \
    X(INVALID_INPUT, "InvalidInput", 400)                                                          \
    X(VALIDATION, "ValidationError", 400)                                                          \
    X(INVALID_ACTION, "InvalidAction", 400)                                                        \
    X(MISSING_ACTION, "MissingAction", 400)                                                        \
    X(ACCESS_DENIED, "AccessDenied", 403)                                                          \
    X(INVALID_CLIENT_TOKEN, "InvalidClientTokenId", 403)                                           \
    X(EXPIRED_TOKEN, "ExpiredToken", 400)                                                          \
    X(PACKED_POLICY_TOO_LARGE, "PackedPolicyTooLarge", 400)                                        \
    X(SERVICE_FAILURE, "ServiceFailure", 500)

enum query_err {
    QE_BASE = 5000,
#define QE_ENUM_(name, code, status) QE_##name,
    QUERY_ERRORS(QE_ENUM_)
#undef QE_ENUM_
        QE_LAST
};

typedef struct qctx {
    rq_t *q;
    form_t form;
    sv_t action;
    buf_t out;       /* the <XResult> content */
    const char *msg; /* error message (arena), when a handler fails */
} qctx_t;

typedef int (*query_fn)(qctx_t *c);
typedef struct query_action {
    const char *name;
    query_fn fn;
} query_action_t;

/* The on_end handler body shared by IAM and STS: finishes a deferred signature check, parses
 * the form, finds the action in table (n entries), asks authorize (if any), runs the action
 * and answers. */
void query_dispatch(rq_t *q, http_resp_t *resp, const char *xmlns, const query_action_t *table,
                    size_t n, query_fn authorize /* NULL: every caller; else runs first */);
/* Renders any failure (QE_xxx or S3/errno code) in the Query error shape. */
void query_error(rq_t *q, http_resp_t *resp, int rc, const char *msg);

/* Sets c->msg (printf-style, in the arena) and returns -code. */
int qfail(qctx_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A parameter as a NUL-terminated string (arena), or NULL when absent. */
const char *qparam(qctx_t *c, const char *name);
/* A required parameter: NULL after setting a ValidationError message when absent. */
const char *qrequire(qctx_t *c, const char *name, int *rc);
/* XML helpers on c->out. */
void qx(qctx_t *c, const char *name, const char *text);
void qx_date(qctx_t *c, const char *name, int64_t secs);
void qx_doc(qctx_t *c, const char *name, const char *json); /* URL-encoded, as IAM sends them */

#endif
