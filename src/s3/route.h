/* s3/route: from method + Host + raw path + raw query to bucket, key, and the S3 operation.
 * Pure; everything decoded lands in the arena. */
#ifndef STRATA_S3_ROUTE_H
#define STRATA_S3_ROUTE_H
#include <stdbool.h>

#include "core/arena.h"
#include "core/str.h"

#define S3_OPS(X)                                                                                  \
    X(LIST_BUCKETS) X(CREATE_BUCKET) X(DELETE_BUCKET) X(HEAD_BUCKET) X(LIST_OBJECTS)               \
    X(LIST_OBJECTS_V2) X(GET_BUCKET_LOCATION) X(PUT_OBJECT) X(GET_OBJECT) X(HEAD_OBJECT)           \
    X(DELETE_OBJECT) X(DELETE_OBJECTS) X(COPY_OBJECT) X(CREATE_MULTIPART) X(UPLOAD_PART)           \
    X(UPLOAD_PART_COPY) X(COMPLETE_MULTIPART) X(ABORT_MULTIPART) X(LIST_PARTS)                     \
    X(LIST_MULTIPART_UPLOADS) X(LIST_OBJECT_VERSIONS) X(GET_BUCKET_VERSIONING)                    \
    X(PUT_BUCKET_VERSIONING) X(GET_OBJECT_TAGGING) X(PUT_OBJECT_TAGGING) X(DELETE_OBJECT_TAGGING) \
    X(GET_BUCKET_TAGGING) X(PUT_BUCKET_TAGGING) X(DELETE_BUCKET_TAGGING) X(GET_OBJECT_ATTRIBUTES)  \
    X(GET_BUCKET_POLICY) X(PUT_BUCKET_POLICY) X(DELETE_BUCKET_POLICY) X(GET_BUCKET_POLICY_STATUS)  \
    X(GET_BUCKET_ACL) X(PUT_BUCKET_ACL) X(GET_OBJECT_ACL) X(PUT_OBJECT_ACL)                        \
    X(GET_BUCKET_LIFECYCLE) X(PUT_BUCKET_LIFECYCLE) X(DELETE_BUCKET_LIFECYCLE)                     \
    X(GET_BUCKET_ENCRYPTION) X(PUT_BUCKET_ENCRYPTION) X(DELETE_BUCKET_ENCRYPTION)                  \
    X(GET_PUBLIC_ACCESS_BLOCK) X(PUT_PUBLIC_ACCESS_BLOCK) X(DELETE_PUBLIC_ACCESS_BLOCK)            \
    X(GET_OWNERSHIP_CONTROLS) X(PUT_OWNERSHIP_CONTROLS) X(DELETE_OWNERSHIP_CONTROLS)               \
    X(GET_BUCKET_LOGGING) X(PUT_BUCKET_LOGGING) X(GET_BUCKET_CORS) X(PUT_BUCKET_CORS)              \
    X(DELETE_BUCKET_CORS) X(GET_BUCKET_ANALYTICS) X(PUT_BUCKET_ANALYTICS)                          \
    X(DELETE_BUCKET_ANALYTICS) X(LIST_BUCKET_ANALYTICS) X(RESTORE_OBJECT) X(SELECT_OBJECT)         \
    X(GET_BUCKET_NOTIFICATION) X(PUT_BUCKET_NOTIFICATION) X(GET_BUCKET_WEBSITE)                    \
    X(GET_OBJECT_LOCK_CONFIG) X(GET_BUCKET_REQUEST_PAYMENT) X(GET_BUCKET_ACCELERATE)               \
    X(GET_BUCKET_REPLICATION) X(GET_OBJECT_RETENTION) X(GET_OBJECT_LEGAL_HOLD) X(POST_OBJECT)

enum s3_op {
    S3_OP_UNKNOWN = 0,
#define S3_OP_ENUM_(n) S3_OP_##n,
    S3_OPS(S3_OP_ENUM_)
#undef S3_OP_ENUM_
        S3_OP_COUNT
};

const char *s3_op_name(enum s3_op op); /* "PUT_OBJECT" ... (for logs) */

typedef struct s3_route {
    sv_t bucket;     /* empty: service level (ListBuckets) */
    sv_t key;        /* decoded object key (arena); empty: bucket level */
    bool has_key;    /* a key was addressed (even an empty one is invalid) */
    bool virtual_host;
    kv_t *params;    /* decoded query parameters, in order; a param without '=' has value.p NULL */
    size_t nparams;
    enum s3_op op;
} s3_route_t;

/* Addressing: virtual-hosted style when Host (port ignored) is "<bucket>.<base_domain>", else
 * path style ("/bucket/key"). The key is percent-decoded once from the raw path; '+' in a path
 * is a literal '+'. Query names and values are percent-decoded with '+' as a space (SDKs send
 * a space as %20 and a plus as %2B, so both readings agree for them). has_key is true when the
 * decoded key is non-empty ("/b/" is bucket level, like S3).
 * Headers are not looked at: PUT /b/k with x-amz-copy-source routes to PUT_OBJECT (UPLOAD_PART
 * with ?uploadId&partNumber); the caller switches to COPY_OBJECT / UPLOAD_PART_COPY. OPTIONS
 * (CORS preflight) and other methods give -SE_METHOD_NOT_ALLOWED; known but unimplemented
 * subresources (?website on PUT, ?inventory, ?metrics, ...) give -SE_NOT_IMPLEMENTED. On those
 * errors bucket, key and params are still filled in (for the error response's Resource).
 *
 * base_domain: e.g. "s3.example.com" for virtual-hosted-style ("bucket.s3.example.com");
 * NULL or "" disables it. Returns 0; -SE_INVALID_URI for undecodable paths/queries;
 * -SE_METHOD_NOT_ALLOWED / -SE_NOT_IMPLEMENTED when no operation matches. */
int s3_route(arena_t *a, sv_t method, sv_t host, sv_t raw_path, sv_t raw_query,
             const char *base_domain, s3_route_t *out);

/* The bucket a Host header names in virtual-hosted style ("<bucket>.<base_domain>", port
 * ignored), or SV_NULL. */
sv_t s3_vhost_bucket(sv_t host, const char *base_domain);

/* Query parameter by exact name; *present tells whether it occurred at all. */
sv_t s3_param(const s3_route_t *r, const char *name, bool *present);

/* S3 bucket naming rules (3-63 chars, lowercase, digits, '.', '-', no IP form, ...). */
bool s3_bucket_name_valid(sv_t name);

#endif
