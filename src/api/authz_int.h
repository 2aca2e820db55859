/* api/authz_int.h: the request-path side of authorization (needs rq_t), the ACL model, and the
 * handlers of the access-control subresources. Private to api/. */
#ifndef STRATA_API_AUTHZ_INT_H
#define STRATA_API_AUTHZ_INT_H
#include "api/api_int.h"
#include "api/authz.h"
#include "policy/policy.h"

/* Authorizes q's operation: every action authz_actions() lists, on the addressed bucket,
 * object or copy source (DeleteObjects' keys are checked by the handler with authz_check).
 * Runs after the bucket lookup (a missing bucket is NoSuchBucket before anything else, as
 * S3 answers). 0, or -SE_ACCESS_DENIED (also for anything that cannot be evaluated). */
int authz_request(rq_t *q);

/* PutObjectTagging, once its body is parsed: authorizes the request again with the body's tags
 * as s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys (before the body, a denial that
 * depended on them was left to this call: q->body_tags_deferred). 0 or -SE_ACCESS_DENIED. */
int authz_body_tags(rq_t *q, const kv_t *tags, size_t n);

/* One action on one resource of bucket b: key.p == NULL means the bucket itself. version:
 * the addressed version or NULL (for s3:ExistingObjectTag). 0 or -SE_ACCESS_DENIED. */
int authz_check(rq_t *q, const char *action, const store_bucket_t *b, sv_t key,
                const char *version);

/* ---- the principal's side, for IAM and STS calls ----------------------------------------- */

/* Why a principal was not allowed, as AWS's AccessDenied messages put it. */
enum authz_why {
    AUTHZ_WHY_NONE = 0,
    AUTHZ_WHY_NO_IDENTITY_ALLOW, /* "because no identity-based policy allows the X action" */
    AUTHZ_WHY_NO_BOUNDARY_ALLOW, /* "because no permissions boundary allows ..." */
    AUTHZ_WHY_NO_SESSION_ALLOW,  /* "because no session policy allows ..." */
    AUTHZ_WHY_NO_RESOURCE_ALLOW, /* the trust (resource) policy does not allow */
    AUTHZ_WHY_IDENTITY_DENY,     /* "with an explicit deny in an identity-based policy" */
    AUTHZ_WHY_BOUNDARY_DENY,
    AUTHZ_WHY_SESSION_DENY,
    AUTHZ_WHY_RESOURCE_DENY,
    AUTHZ_WHY_UNUSABLE,          /* the principal's policies could not be loaded (fail closed) */
};

/* Decides `action` ("iam:CreateUser", "sts:AssumeRole") on `resource` for q's principal, AWS's
 * way: its identity-based policies, permissions boundary and session policy (api/identity.c),
 * its tags as aws:PrincipalTag/<key>, the request's global condition keys (aws:SourceIp,
 * aws:SourceVpce, aws:SecureTransport, aws:CurrentTime, aws:EpochTime, aws:UserAgent,
 * aws:Referer) plus extra[] (valid during the call). resource_policy: a role's trust policy
 * (which must itself allow the caller, whoever it is) or NULL; resource_account: who owns the
 * resource (NULL: the principal's account; cross-account needs both sides). The account's root
 * user needs no policy for its own account's resources. True when allowed; otherwise *why
 * (may be NULL) says why. */
struct policy;
bool authz_principal_allows(rq_t *q, const char *action, const char *resource,
                            const char *resource_account, const struct policy *resource_policy,
                            const policy_key_t *extra, size_t nextra, enum authz_why *why);
/* The suffix AWS appends to "User: ARN is not authorized to perform: ACTION on resource: RES"
 * (" because no identity-based policy allows the ACTION action", " with an explicit deny in
 * ..."); "" when there is none. Arena string. */
const char *authz_why_text(rq_t *q, enum authz_why why, const char *action);
/* q's principal tags (aws:PrincipalTag): the user's or role's IAM tags, with the session's
 * tags replacing those of the same key. Valid for the request. */
const kv_t *authz_principal_tags(rq_t *q, size_t *n);

/* ---- ACLs -------------------------------------------------------------------------------- */

enum acl_perm {
    ACL_READ = 1,
    ACL_WRITE = 2,
    ACL_READ_ACP = 4,
    ACL_WRITE_ACP = 8,
    ACL_FULL_CONTROL = 15,
};

enum acl_grantee {
    ACL_G_CANONICAL = 0, /* an account by canonical id */
    ACL_G_ALL_USERS,     /* http://acs.amazonaws.com/groups/global/AllUsers */
    ACL_G_AUTH_USERS,    /* http://acs.amazonaws.com/groups/global/AuthenticatedUsers */
    ACL_G_LOG_DELIVERY,  /* http://acs.amazonaws.com/groups/s3/LogDelivery */
};

typedef struct acl_grant {
    enum acl_grantee type;
    char id[72]; /* canonical id (ACL_G_CANONICAL) */
    unsigned perm; /* one of enum acl_perm (FULL_CONTROL = all four) */
} acl_grant_t;

#define ACL_MAX_GRANTS 100 /* as S3 */

typedef struct acl {
    char owner[72]; /* canonical id of the owner */
    acl_grant_t grants[ACL_MAX_GRANTS];
    size_t ngrants;
} acl_t;

/* Canned ACL name -> grants for a resource owned by owner_cid in a bucket owned by
 * bucket_owner_cid. -SE_INVALID_ARGUMENT for an unknown name. */
int acl_canned(sv_t name, const char *owner_cid, const char *bucket_owner_cid, bool bucket,
               acl_t *out);
/* Grants from x-amz-acl / x-amz-grant-* headers (either, not both: -SE_INVALID_REQUEST).
 * *present: whether any such header was sent. Emails are resolved to accounts
 * (-SE_UNRESOLVABLE_GRANT). */
int acl_from_headers(rq_t *q, const char *owner_cid, const char *bucket_owner_cid, bool bucket,
                     acl_t *out, bool *present);
/* The canonical id of an account (by its 12-digit id); "" if there is no such account. */
const char *acl_account_cid(rq_t *q, const char *acct_id);
/* True if a grant goes to AllUsers or AuthenticatedUsers (a "public" ACL). */
bool acl_is_public(const acl_t *acl);
/* Stored ACL of a bucket; the default (owner FULL_CONTROL) when none is stored. */
int acl_bucket_get(rq_t *q, const store_bucket_t *b, acl_t *out);
int acl_bucket_put(rq_t *q, sv_t bucket, const acl_t *acl);
/* Stored ACL of an object version (o as read from the store); default owner FULL_CONTROL. */
int acl_object_get(rq_t *q, const store_bucket_t *b, const store_obj_t *o, acl_t *out);
int acl_object_put(rq_t *q, const store_bucket_t *b, const store_obj_t *o, const acl_t *acl);
/* Object writes (PutObject, CopyObject, CreateMultipartUpload) with x-amz-acl / x-amz-grant-*,
 * checked before the upload: with BucketOwnerEnforced only an ACL equivalent to the bucket
 * owner's full control is accepted (-SE_ACL_NOT_SUPPORTED otherwise); BlockPublicAcls refuses
 * public ones (-SE_ACCESS_DENIED). */
int acl_check_write_headers(rq_t *q);
/* After a successful object write (PutObject, CopyObject, CompleteMultipartUpload): applies
 * the ACL headers of the request to the new version (when ACLs are enabled). */
int acl_after_object_write(rq_t *q, const store_obj_t *o);
/* CreateMultipartUpload: the ACL of the request's headers as a document to keep with the
 * upload (SV_NULL, in the arena, when the default applies or ACLs are disabled); and at
 * CompleteMultipartUpload, applying that document to the completed version o. */
int acl_upload_doc(rq_t *q, sv_t *doc);
int acl_upload_apply(rq_t *q, sv_t doc, const store_obj_t *o);

/* CreateBucket: x-amz-object-ownership (default: the server's setting) and the ACL headers,
 * checked before the bucket is created (InvalidArgument, InvalidBucketAclWithObjectOwnership,
 * AccessDenied under the account's BlockPublicAcls), stored right after. */
struct acl_create {
    enum authz_ownership ownership;
    bool acl_present;
    acl_t acl;
};
int acl_create_bucket_check(rq_t *q, struct acl_create *c);
int acl_create_bucket_apply(rq_t *q, const struct acl_create *c);

/* Handlers (api/s3_policy.c, api/s3_acl.c). */
void op_get_bucket_policy(rq_t *q, http_resp_t *resp);
void op_put_bucket_policy(rq_t *q, http_resp_t *resp);
void op_delete_bucket_policy(rq_t *q, http_resp_t *resp);
void op_get_bucket_policy_status(rq_t *q, http_resp_t *resp);
void op_get_public_access_block(rq_t *q, http_resp_t *resp);
void op_put_public_access_block(rq_t *q, http_resp_t *resp);
void op_delete_public_access_block(rq_t *q, http_resp_t *resp);
void op_get_ownership_controls(rq_t *q, http_resp_t *resp);
void op_put_ownership_controls(rq_t *q, http_resp_t *resp);
void op_delete_ownership_controls(rq_t *q, http_resp_t *resp);
void op_get_bucket_acl(rq_t *q, http_resp_t *resp);
void op_put_bucket_acl(rq_t *q, http_resp_t *resp);
void op_get_object_acl(rq_t *q, http_resp_t *resp);
void op_put_object_acl(rq_t *q, http_resp_t *resp);
/* S3 Control's account-level Block Public Access: /v20180820/configuration/publicAccessBlock
 * (GET/PUT/DELETE, x-amz-account-id must be the caller's account); an on_end handler. */
void op_account_pab(rq_t *q, http_resp_t *resp);

#endif
