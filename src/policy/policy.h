/* policy: the IAM policy language (JSON) and its evaluation, as AWS does it for S3.
 *
 * Pure: documents and a request context in, a decision out. No I/O, no clock, no globals
 * besides constant tables, so it is tested by tables and fuzzed (tests/unit/test_policy.c,
 * tests/fuzz/fuzz_policy.c). Design notes and the decisions behind them: docs/policy.md.
 *
 * Lifecycle and threads
 *   policy_parse() validates a document and compiles it into an immutable policy_t with a
 *   reference count of 1. A compiled policy is never modified after parse, so any number of
 *   threads may evaluate it at once; policy_ref()/policy_unref() are atomic and may be called
 *   from any thread. The last unref frees it. A policy_ctx_t belongs to one request (one thread).
 *
 * Fail closed
 *   Any document that does not validate is rejected as a whole (no partially compiled policy
 *   ever exists). During evaluation, anything the engine cannot interpret (a request value
 *   that does not parse as a number, a date, an IP, an ARN) makes that value not match, which
 *   can only make a positive condition false; evaluation never errors and never grants by
 *   accident. Missing policies (NULL) contribute nothing.
 */
#ifndef STRATA_POLICY_POLICY_H
#define STRATA_POLICY_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* Which kind of document is being parsed. Decides the size limit and which elements are
 * required or forbidden (see policy_parse). */
enum policy_kind {
    POLICY_IDENTITY, /* IAM identity-based (managed or inline; user/group/role) or boundary */
    POLICY_RESOURCE, /* S3 bucket policy (resource-based) */
    POLICY_TRUST,    /* role trust policy (resource-based, on a role) */
    POLICY_SESSION,  /* STS session policy passed to AssumeRole/GetFederationToken */
};

/* Size limits, AWS's numbers. IAM limits count characters excluding whitespace; the S3 bucket
 * policy limit counts bytes of the document as sent. */
#define POLICY_MAX_RESOURCE_BYTES 20480 /* bucket policy: 20 KB */
#define POLICY_MAX_IDENTITY_CHARS 6144  /* managed policy; inline policies have aggregate quotas
                                         * per entity (user 2048, group 5120, role 10240) that the
                                         * caller checks with policy_char_count() */
#define POLICY_MAX_TRUST_CHARS 2048     /* role trust policy, default quota */
#define POLICY_MAX_SESSION_CHARS 2048   /* inline session policy */

typedef struct policy policy_t;

/* Parses and validates one policy document.
 *   json, len   the document (need not be NUL-terminated)
 *   kind        what the document is (limits, required/forbidden elements)
 *   out         OUT: the compiled policy (refcount 1) on success; NULL on failure
 *   errmsg      OUT: on failure, a NUL-terminated message that says what is wrong and where,
 *               e.g. "Policy has invalid action (Statement[1] Sid \"ReadOnly\", Action
 *               \"s3:GetObjekt\")"; may be NULL. Truncated to errcap.
 * Returns 0, or:
 *   -SE_MALFORMED_POLICY           POLICY_RESOURCE document invalid (S3 "MalformedPolicy", 400),
 *                                  including one over 20 KB
 *   -SE_MALFORMED_POLICY_DOCUMENT  identity/trust/session document invalid (IAM
 *                                  "MalformedPolicyDocument", 400)
 *   -SE_POLICY_LIMIT_EXCEEDED      identity/trust/session document over its size quota (IAM
 *                                  "LimitExceeded", 409)
 * What is validated: JSON syntax (duplicate keys refused), top-level fields (Version, Id,
 * Statement only), Version "2012-10-17" or "2008-10-17" (absent means 2008-10-17, in which
 * policy variables are literal text), Statement object or non-empty array, unique Sids, Effect,
 * exactly one of Action/NotAction (service:name with * and ?; s3 names checked against the
 * list of S3 actions, a wildcard must match at least one), exactly one of Resource/NotResource
 * ("*" or a six-part ARN; required except in trust policies, where it is forbidden),
 * Principal/NotPrincipal (required in resource and trust policies, forbidden in identity and
 * session policies; forms "*", {"AWS": "*" | account id | IAM/STS ARN | list},
 * {"CanonicalUser": id}, {"Service": name}, {"Federated": provider}), Condition operators
 * (the full AWS list, with IfExists and ForAnyValue:/ForAllValues:), condition keys (shape;
 * in bucket policies aws:* and s3:* keys must be known), and operator values (numbers, dates,
 * booleans, CIDRs, base64 are checked at parse time). */
int policy_parse(const char *json, size_t len, enum policy_kind kind, policy_t **out, char *errmsg,
                 size_t errcap);

void policy_ref(policy_t *p);   /* +1; p may be NULL */
void policy_unref(policy_t *p); /* -1, frees at 0; p may be NULL */

enum policy_kind policy_get_kind(const policy_t *p);
size_t policy_statement_count(const policy_t *p);
/* Characters of a document that IAM counts against its quotas (all but whitespace). */
size_t policy_char_count(const char *json, size_t len);

/* ---- Request context ------------------------------------------------------------------- */

enum policy_principal_type {
    PRINCIPAL_ANONYMOUS = 0, /* unsigned request */
    PRINCIPAL_ROOT,          /* the account itself (root user) */
    PRINCIPAL_USER,          /* IAM user */
    PRINCIPAL_ASSUMED_ROLE,  /* STS session of a role */
    PRINCIPAL_FEDERATED,     /* STS federated user (GetFederationToken) */
    PRINCIPAL_SERVICE,       /* an AWS-style service principal ("logging.s3.amazonaws.com") */
};

/* One condition key with its values (multi-valued keys have several; a key present with no
 * values counts as absent, as in AWS). Key names are matched case-insensitively; values are
 * views that must outlive the evaluation. */
typedef struct {
    sv_t key;
    const sv_t *values;
    size_t nvalues;
} policy_key_t;

typedef struct policy_ctx {
    /* Who. For anonymous requests only `type` matters. */
    enum policy_principal_type type;
    sv_t account;       /* 12-digit account id of the principal */
    sv_t arn;           /* principal ARN: arn:aws:iam::ACCT:root | ...:user/path/name |
                         * arn:aws:sts::ACCT:assumed-role/ROLE/SESSION |
                         * arn:aws:sts::ACCT:federated-user/NAME */
    sv_t role_arn;      /* assumed-role only: the role's IAM ARN arn:aws:iam::ACCT:role/path/ROLE
                         * (what aws:PrincipalArn reports and what Principal role ARNs match) */
    sv_t canonical_id;  /* S3 canonical user id of the account, for Principal CanonicalUser */
    sv_t service;       /* PRINCIPAL_SERVICE: the service name */
    sv_t username;      /* aws:username (IAM users only) */
    sv_t userid;        /* aws:userid: AIDA... for users, AROA...:session for roles, account id
                         * for root, "anonymous" for anonymous (set by the caller) */
    const kv_t *principal_tags; /* aws:PrincipalTag/<key> (keys case-insensitive) */
    size_t nprincipal_tags;

    /* What. */
    sv_t action;           /* "s3:GetObject" */
    sv_t resource;         /* "arn:aws:s3:::bucket/key" or "arn:aws:s3:::bucket" */
    sv_t resource_account; /* the bucket owner's account id: decides same vs cross account */

    /* Everything else the conditions may ask about: aws:SourceIp, aws:SecureTransport,
     * aws:CurrentTime, s3:prefix, s3:ExistingObjectTag/<key>, aws:RequestTag/<key>, ...
     * Looked up first in keys[], then through lookup() if set (which returns 0 and the values
     * when it knows the key, -1 when absent). The principal-derived keys aws:username,
     * aws:userid, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType and
     * aws:PrincipalTag/<key> come from the fields above unless given in keys[]. */
    const policy_key_t *keys;
    size_t nkeys;
    int (*lookup)(void *arg, sv_t key, const sv_t **values, size_t *nvalues);
    void *lookup_arg;
} policy_ctx_t;

/* The entry of keys[] named key (names as the evaluator matches them: case-insensitive, but
 * the tag key after s3:ExistingObjectTag/ or s3:RequestObjectTag/ case-sensitive): true and
 * its values, or false. For a lookup() that builds keys[] lazily. */
bool policy_keys_find(const policy_key_t *keys, size_t nkeys, sv_t key, const sv_t **vals,
                      size_t *n);

enum policy_decision {
    POLICY_NO_MATCH = 0, /* no statement applies: implicit deny unless something else allows */
    POLICY_ALLOW = 1,
    POLICY_DENY = 2, /* explicit deny */
};

const char *policy_decision_name(enum policy_decision d); /* "NO_MATCH", "ALLOW", "DENY" */

/* Evaluates one document against a request: DENY if any Deny statement applies, else ALLOW if
 * any Allow statement applies, else NO_MATCH. Principal/NotPrincipal are checked for resource
 * and trust policies; identity and session policies apply to whoever holds them. p == NULL
 * gives NO_MATCH. */
enum policy_decision policy_eval(const policy_t *p, const policy_ctx_t *ctx);

/* ---- The decision for an S3 request ---------------------------------------------------- */

/* The policies that apply to one request. Any pointer may be NULL / count 0. */
typedef struct {
    const policy_t *const *identity; /* the principal's identity policies (user + its groups, or
                                      * the role's), all of them */
    size_t nidentity;
    const policy_t *boundary; /* permissions boundary of the user/role, or NULL */
    const policy_t *const *session; /* session policies of an STS session (intersect) */
    size_t nsession;
    const policy_t *resource; /* the bucket policy, or NULL */
} policy_set_t;

/* Why a decision was reached; static strings, for logs and the audit trail. */
typedef struct {
    const char *reason;
} policy_why_t;

/* AWS's decision logic for S3 (see docs/policy.md for the full table):
 *  1. an explicit Deny in any applicable policy (identity, boundary, session, bucket) -> DENY;
 *  2. anonymous: ALLOW only if the bucket policy allows the anonymous principal (Principal "*"
 *     or {"AWS": "*"}); otherwise NO_MATCH;
 *  3. the root user of the bucket owner's account -> ALLOW (no identity policies apply to it);
 *  4. same account: ALLOW if the bucket policy allows this principal by name (user ARN, role or
 *     session ARN, "*"), subject to the session policy when granted via the role ARN and to
 *     the permissions boundary when granted to a role; or if the identity side allows
 *     (identity policies, intersected with the boundary and the session policies);
 *  5. cross account: ALLOW only if the identity side allows AND the bucket policy allows the
 *     principal (by name or by its account);
 *  otherwise NO_MATCH (implicit deny). Callers treat anything but ALLOW as AccessDenied.
 * why may be NULL. */
enum policy_decision policy_decide(const policy_set_t *set, const policy_ctx_t *ctx,
                                   policy_why_t *why);

/* ---- Public-ness (Block Public Access, GetBucketPolicyStatus) -------------------------- */

/* True if a bucket policy is "public" in AWS's sense: some Allow statement grants to a
 * wildcard principal ("*", {"AWS": "*"}, a principal value with a wildcard, or NotPrincipal)
 * without being restricted by a condition that fixes one of: aws:SourceIp (CIDRs no wider
 * than /8 for IPv4, /32 for IPv6), aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
 * aws:SourceOwner, aws:SourceAccount, aws:PrincipalOrgID, s3:x-amz-server-side-encryption-
 * aws-kms-key-id, aws:userid (outside the pattern "AROLEID:*"), s3:DataAccessPointArn,
 * s3:DataAccessPointAccount. "Fixed" means no wildcard and no policy variable, with a
 * positive operator (StringEquals, StringLike without wildcards, ArnEquals, ArnLike without
 * wildcards, IpAddress), not IfExists, not ForAllValues. NULL -> false. */
bool policy_is_public(const policy_t *p);

/* ---- Helpers exposed for the wiring and for tests -------------------------------------- */

/* True if name ("s3:GetObject") is an S3 action AWS documents (case-insensitive). */
bool policy_s3_action_known(sv_t name);
/* Glob match: '*' any run, '?' one character. ci: ASCII case-insensitive. */
bool policy_glob(sv_t pattern, sv_t text, bool ci);

#endif
