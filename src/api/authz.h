/* api/authz: who may do what to which bucket or object — the authorization step of the S3
 * request path (docs/security.md explains the model to an operator).
 *
 * For each request: the S3 operation becomes one or more IAM actions on resources
 * (authz_actions, AWS's "Actions, resources, and condition keys for Amazon S3"); the request
 * becomes a policy context (principal, condition keys); the bucket's policy (compiled once and
 * cached per bucket), Block Public Access (bucket and account), Object Ownership and ACLs are
 * loaded; the policy engine (src/policy/) decides. Anything but an allow is AccessDenied, and a
 * document that cannot be read or parsed never grants (fail closed).
 *
 * Threads: every function may be called from any connection thread; the policy cache is
 * shared behind a mutex and hands out references (policy_ref/unref).
 */
#ifndef STRATA_API_AUTHZ_H
#define STRATA_API_AUTHZ_H
#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"
#include "s3/route.h"
#include "store/store.h"

/* ---- op -> actions (pure) ---------------------------------------------------------------- */

enum authz_res {
    AUTHZ_RES_ALL = 0, /* "*": service-level actions (ListAllMyBuckets, CreateBucket's name) */
    AUTHZ_RES_BUCKET,  /* arn:aws:s3:::bucket */
    AUTHZ_RES_OBJECT,  /* arn:aws:s3:::bucket/key */
    AUTHZ_RES_SOURCE,  /* the copy source object: arn:aws:s3:::srcbucket/srckey */
    AUTHZ_RES_PER_KEY, /* each key of a DeleteObjects body (checked by the handler) */
};

typedef struct authz_action {
    const char *action; /* "s3:GetObject" */
    enum authz_res res;
} authz_action_t;

#define AUTHZ_MAX_ACTIONS 4

/* What besides the op changes the actions. */
typedef struct authz_op_in {
    enum s3_op op;
    bool version;        /* ?versionId= addresses a specific version */
    bool source_version; /* the copy source names a versionId */
    bool acl_headers;    /* x-amz-acl or x-amz-grant-* on an object write */
    bool tagging_header; /* x-amz-tagging on an object write */
} authz_op_in_t;

/* Fills out[] with the actions the op needs (all must be allowed) and returns how many; 0 for
 * an op this table does not know (the caller denies). */
size_t authz_actions(const authz_op_in_t *in, authz_action_t out[AUTHZ_MAX_ACTIONS]);

/* ---- Block Public Access ----------------------------------------------------------------- */

typedef struct authz_pab {
    bool block_public_acls;
    bool ignore_public_acls;
    bool block_public_policy;
    bool restrict_public_buckets;
} authz_pab_t;

/* Bucket-level configuration: -ENOENT if none. acct: the account-level one, "-ENOENT" too. */
int authz_pab_bucket_get(store_t *s, sv_t bucket, authz_pab_t *out);
int authz_pab_bucket_put(store_t *s, sv_t bucket, const authz_pab_t *p); /* NULL: delete */
int authz_pab_account_get(store_t *s, const char *acct, authz_pab_t *out);
int authz_pab_account_put(store_t *s, const char *acct, const authz_pab_t *p); /* NULL: delete */
/* The flags in force for a bucket: bucket OR account, flag by flag. */
void authz_pab_effective(store_t *s, const store_bucket_t *b, authz_pab_t *out);
/* <PublicAccessBlockConfiguration> body -> flags (absent elements are false).
 * -SE_MALFORMED_XML. */
int authz_pab_parse(const char *xml, size_t len, authz_pab_t *out);

/* ---- Object Ownership -------------------------------------------------------------------- */

enum authz_ownership {
    OWN_BUCKET_OWNER_ENFORCED = 0, /* ACLs disabled; the default for new buckets */
    OWN_BUCKET_OWNER_PREFERRED,
    OWN_OBJECT_WRITER,
};
const char *authz_ownership_name(enum authz_ownership o);
int authz_ownership_parse(sv_t name, enum authz_ownership *out); /* -1 unknown */
/* The bucket's setting; a bucket without one is ObjectWriter (AWS's legacy behaviour; new
 * buckets get a setting when created, see authz_default_ownership). *explicit_out (may be
 * NULL) tells whether a configuration is stored (GetBucketOwnershipControls answers
 * OwnershipControlsNotFoundError otherwise). */
enum authz_ownership authz_ownership_get(store_t *s, sv_t bucket, bool *explicit_out);
int authz_ownership_put(store_t *s, sv_t bucket, const enum authz_ownership *o /* NULL: del */);

/* ---- bucket policy cache ----------------------------------------------------------------- */

/* The bucket's compiled policy (a new reference: policy_unref it), or NULL when it has none.
 * A stored document that no longer parses yields NULL with -SE_MALFORMED_POLICY (callers
 * deny). */
struct policy;
int authz_policy_get(store_t *s, const store_bucket_t *b, struct policy **out);
/* Call after changing a bucket's policy document (bumps the cache generation). */
void authz_policy_changed(void);

/* ---- server settings --------------------------------------------------------------------- */

/* Trusted proxies: comma-separated addresses or CIDRs ("10.0.0.0/8,127.0.0.1"). A request
 * whose peer is one of them takes aws:SourceIp from X-Forwarded-For (the right-most address
 * that is not itself a trusted proxy). NULL or "": none (X-Forwarded-For ignored). 0, or
 * -EINVAL for an entry that does not parse. */
int authz_set_trusted_proxies(const char *list);
/* Client IP for aws:SourceIp from the peer address and X-Forwarded-For (see above); writes a
 * NUL-terminated address into out. */
void authz_source_ip(const char *peer, sv_t xff, char out[64]);
/* Object Ownership of buckets created without x-amz-object-ownership (default
 * BucketOwnerEnforced, as on AWS). */
void authz_set_default_ownership(enum authz_ownership o);
enum authz_ownership authz_default_ownership(void);

#endif
