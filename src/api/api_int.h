/* Private to api/: per-request state and the operation handlers. */
#ifndef STRATA_API_INT_H
#define STRATA_API_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "api/accounts.h"
#include "api/api.h"
#include "auth/chunked.h"
#include "auth/sigv4.h"
#include "core/buf.h"
#include "core/checksum.h"
#include "core/hash.h"
#include "s3/route.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define MAX_XML_BODY (2u << 20)
#define MAX_META_BYTES 2048
#define MAX_KEY_LEN 1024

struct api {
    store_t *store;
    api_cfg_t cfg;
    char region[32];
    char base_domain[256];
};

enum body_mode { BODY_NONE = 0, BODY_BUFFER, BODY_OBJECT };

typedef struct rq rq_t;
typedef void (*op_fn)(rq_t *q, http_resp_t *resp);

/* Which API a request speaks, from its SigV4 credential scope (api/query.h for IAM/STS). */
enum rq_svc { SVC_S3 = 0, SVC_IAM, SVC_STS };

/* Who made the request (api/iam.c, api/sts.c fill it at authentication). Strings live in the
 * request arena. */
enum rq_ptype { RQP_ANONYMOUS = 0, RQP_ROOT /* the account's root user */, RQP_USER,
                RQP_ASSUMED_ROLE };
typedef struct rq_principal {
    enum rq_ptype type;
    const char *arn;     /* arn:aws:iam::ACCT:root | arn:aws:iam::ACCT:user/PATH/NAME |
                          * arn:aws:sts::ACCT:assumed-role/ROLE/SESSION */
    const char *user_id; /* account id (root), AIDA... (user), AROA...:SESSION (assumed role) */
    const char *name;    /* IAM user name or role name; "" for root */
    const char *session; /* assumed role: the RoleSessionName */
    const char *role_arn; /* assumed role: arn:aws:iam::ACCT:role/PATH/ROLE */
    const char *session_policy; /* STS session policy (JSON) or NULL */
    bool temporary;      /* authenticated with STS temporary credentials */
    const kv_t *session_tags; /* STS session tags (sealed in the token); for aws:PrincipalTag
                               * they override the role's tags of the same key */
    size_t nsession_tags;
    /* Managed session policies (AssumeRole PolicyArns): their documents as of AssumeRole */
    const char *const *managed_session_policies;
    size_t nmanaged_session_policies;
} rq_principal_t;
#define RQ_MAX_MANAGED_SESSION_POLICIES 10

typedef struct rq {
    api_t *api;
    http_req_t *hr;
    arena_t *a;
    char reqid[20];
    char hostid[64];
    bool head;
    s3_route_t route;
    enum s3_op op;
    /* authentication */
    sigv4_parsed_t sig;
    sigv4_result_t sigres;
    bool anonymous;
    bool sigv2; /* authenticated with Signature Version 2 (auth/sigv2.h) */
    void *postctx; /* POST Object: the form being parsed (api/s3_post.c) */
    int last_rc;          /* the last error response built (rq_last_error) */
    const char *last_msg;
    account_t acct;
    /* the addressed bucket, when the op has one and it exists */
    store_bucket_t bucket;
    bool have_bucket;
    /* body pipeline: raw -> [sha256] -> [aws-chunked] -> md5/cksum -> sink */
    enum body_mode body_mode;
    op_fn on_end; /* runs when the whole body has arrived */
    buf_t body;
    size_t body_max;
    bool check_sha256;
    digest_t sha256;
    aws_chunked_t *chunked;
    bool have_decoded_len;
    uint64_t decoded_len;
    uint64_t received; /* payload bytes after de-chunking */
    uint64_t max_size;
    bool want_md5;
    bool md5_by_store; /* the store feeds md5 (store_put_digest) */
    digest_t md5;
    cksum_t cksum;     /* the x-amz-checksum-* algorithm sent or announced in the trailer */
    sv_t cksum_expect; /* header value, or empty when it comes in the trailer */
    bool cksum_trailer;
    bool cksum_compute; /* no value sent: the body's checksum is only computed (body_checksum_compute) */
    store_put_t *put;
    int err; /* sticky body error */
    void *opctx; /* the operation's own state between begin and end */
    const char *scope_msg; /* message for a credential-scope error */
    /* identity and access (api/iam.c, api/sts.c) */
    enum rq_svc svc;
    rq_principal_t principal;
    /* IAM/STS header-signed requests without x-amz-content-sha256 sign the body's hash: the
     * signature is checked once the body has arrived (rq_verify_deferred), with this secret. */
    bool verify_deferred;
    const char *verify_secret;
    /* The additional checksum algorithm of the body (header or trailer), kept after cksum has
     * been finalised; CKSUM_NONE if the request had none. */
    enum cksum_algo cksum_algo;
    /* For the error being answered: a message replacing the table's default, and extra Error
     * elements (an XML fragment such as "<TagKey>k</TagKey>"). NULL: none. */
    const char *err_msg;
    const char *err_extra;
    /* api/authz.c's per-request state (the principal's compiled identity and session
     * policies), created on first use and released with the arena. */
    struct authz_rq *authz;
    /* PutObjectTagging (api/authz.c): the tags of the body once parsed, for
     * s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys (authz_body_tags); before that,
     * whether a policy asked for them and the decision was left until they are known. */
    const kv_t *body_tags;
    size_t nbody_tags;
    bool body_tags_known, body_tags_asked, body_tags_deferred;
    bool authz_explicit_deny; /* the last authz check() failed on an explicit Deny */
} rq_t;

/* Responses */
void resp_error(rq_t *q, http_resp_t *resp, int rc, const char *msg /* NULL: default */);
/* The code and message of the last error response resp_error() built (0/NULL: none). */
int rq_last_error(const rq_t *q, const char **msg);
void resp_xml(rq_t *q, http_resp_t *resp, int status, buf_t *xml /* consumed */);
void resp_empty(rq_t *q, http_resp_t *resp, int status);
void resp_header(rq_t *q, http_resp_t *resp, const char *name, const char *value);
sv_t rq_header(rq_t *q, const char *name);
void xml_begin(buf_t *b, const char *root);
void xml_elem(buf_t *b, const char *name, sv_t text);
void xml_elem_c(buf_t *b, const char *name, const char *text);
/* xml_elem, the text URL-encoded first when url (listings with encoding-type=url). */
void xml_elem_enc(buf_t *b, const char *name, sv_t v, bool url);

/* Operations (api/s3_bucket.c, api/s3_object.c) */
void op_list_buckets(rq_t *q, http_resp_t *resp);
void op_create_bucket(rq_t *q, http_resp_t *resp);
void op_delete_bucket(rq_t *q, http_resp_t *resp);
void op_head_bucket(rq_t *q, http_resp_t *resp);
void op_get_bucket_location(rq_t *q, http_resp_t *resp);
void op_list_objects(rq_t *q, http_resp_t *resp);
void op_list_objects_v2(rq_t *q, http_resp_t *resp);
void op_get_object(rq_t *q, http_resp_t *resp); /* GET and HEAD */
void op_delete_object(rq_t *q, http_resp_t *resp);
void op_delete_objects(rq_t *q, http_resp_t *resp);
void op_copy_object(rq_t *q, http_resp_t *resp);
/* Versioning (api/s3_versioning.c) */
void op_put_bucket_versioning(rq_t *q, http_resp_t *resp);
void op_get_bucket_versioning(rq_t *q, http_resp_t *resp);
void op_list_object_versions(rq_t *q, http_resp_t *resp);
/* ?versionId: *out NULL when absent, else the value ("null" or an id); an empty value is
 * -SE_INVALID_ARGUMENT (answer it with VERSION_ID_EMPTY_MSG). */
int version_param(rq_t *q, const char **out);
#define VERSION_ID_EMPTY_MSG "Version id cannot be the empty string"
/* x-amz-version-id (when vid is non-empty) and x-amz-delete-marker: true (when dm). */
void version_headers(rq_t *q, http_resp_t *resp, const char *vid, bool dm);
/* version_headers() for PutObject, CopyObject, CompleteMultipartUpload: nothing for "null" */
void version_header_write(rq_t *q, http_resp_t *resp, const char *vid);
/* PUT object: begin validates headers and opens the store put; end commits. */
int put_object_begin(rq_t *q, http_resp_t *resp);
void put_object_end(rq_t *q, http_resp_t *resp);
/* Decoded payload sink for the body pipeline (object data or buffered XML). */
int body_sink(void *ctx, const char *p, size_t n);
/* Server-side copy (CopyObject, UploadPartCopy): streams len bytes of rd from offset first
 * into p through a bounded buffer, and the MD5 of those bytes into md5 (and into ck, an
 * initialised additional checksum, when not NULL). 0 or the error. */
int copy_stream(store_read_t *rd, uint64_t first, uint64_t len, store_put_t *p, uint8_t md5[16],
                cksum_t *ck);
/* The body carries no additional checksum but its value in algorithm a is wanted (UploadPart
 * of a FULL_OBJECT upload): computed as the body streams, left in q->cksum_expect by the end
 * like a verified one. Call before any body byte arrives. */
void body_checksum_compute(rq_t *q, enum cksum_algo a);
/* Finishes the body's MD5 (into out, if not NULL) and checks it against Content-MD5:
 * -SE_INVALID_DIGEST (not 16 bytes of base64), -SE_BAD_DIGEST (mismatch). required: the
 * request must carry Content-MD5 or an additional checksum (verified by then), as AWS demands
 * for DeleteObjects and tagging; otherwise -SE_INVALID_REQUEST with q->err_msg set. */
int body_md5_verify(rq_t *q, bool required, uint8_t out[16]);
/* x-amz-source-expected-bucket-owner on a copy: an account id other than the source bucket
 * owner's is 403 AccessDenied (the destination's x-amz-expected-bucket-owner is checked with
 * the request). */
int check_source_owner(rq_t *q, const store_bucket_t *sb);

/* Multipart upload (api/s3_multipart.c). UploadPart: begin validates and opens the store part
 * writer (the body pipeline feeds it like a PUT); end commits. */
void op_create_multipart(rq_t *q, http_resp_t *resp);
int upload_part_begin(rq_t *q, http_resp_t *resp);
void upload_part_end(rq_t *q, http_resp_t *resp);
void op_upload_part_copy(rq_t *q, http_resp_t *resp);
void op_complete_multipart(rq_t *q, http_resp_t *resp);
void op_abort_multipart(rq_t *q, http_resp_t *resp);
void op_list_parts(rq_t *q, http_resp_t *resp);
void op_list_multipart_uploads(rq_t *q, http_resp_t *resp);
/* GET/HEAD ?partNumber=N: RANGE_NONE without one (then `range` applies), RANGE_OK with the
 * part's bytes in [first, last] and *by_part set, or a negative error (*msg: its message). */
int part_number_range(rq_t *q, const store_obj_t *o, sv_t range, bool *by_part, uint64_t *first,
                      uint64_t *last, const char **msg);
/* For a partNumber request: x-amz-mp-parts-count on a multipart object, and with
 * x-amz-checksum-mode: ENABLED the part's checksum as S3 gives it (docs/checksums.md). */
void part_number_headers(rq_t *q, http_resp_t *resp, const store_obj_t *o, bool by_part);
/* From api/s3_object.c, shared with multipart: content headers and x-amz-meta-* into
 * meta->attrs; copy-source conditions (prefix "x-amz-copy-source-") or GET's; the
 * x-amz-copy-source header. */
int collect_attrs(rq_t *q, store_obj_t *meta);
int check_conditions(rq_t *q, const store_obj_t *o, const char *prefix, bool copy);
int parse_copy_source(rq_t *q, sv_t *bucket, sv_t *key, const char **version);

/* Tags (api/s3_tagging.c) and GetObjectAttributes (api/s3_attributes.c). */
void op_get_object_tagging(rq_t *q, http_resp_t *resp);
void op_put_object_tagging(rq_t *q, http_resp_t *resp);
void op_delete_object_tagging(rq_t *q, http_resp_t *resp);
void op_get_bucket_tagging(rq_t *q, http_resp_t *resp);
void op_put_bucket_tagging(rq_t *q, http_resp_t *resp);
void op_delete_bucket_tagging(rq_t *q, http_resp_t *resp);
void op_get_object_attributes(rq_t *q, http_resp_t *resp);
/* x-amz-tagging (PutObject, CopyObject with REPLACE, CreateMultipartUpload) -> meta->tags
 * (arena). 0, or a negative S3 error with q->err_msg / q->err_extra set for resp_error(). */
int tagging_from_header(rq_t *q, store_obj_t *meta);
/* The object's checksum type: as recorded, else "COMPOSITE" for a multipart composite value
 * ("...-N") and "FULL_OBJECT" otherwise. */
const char *checksum_type_of(const store_obj_t *o);
/* Owners in listings: the account an owner id names, looked up once for a run of equal ids
 * (listings mostly repeat one owner). "" stands for the bucket owner (delete markers record
 * no writer). NULL if the account is unknown (deleted). */
typedef struct owner_cache {
    char id[64];
    bool have;
    account_t acct;
} owner_cache_t;
const account_t *owner_lookup(rq_t *q, owner_cache_t *c, const char *owner);
/* <ELEM><ID>canonical id</ID><DisplayName>name</DisplayName></ELEM> */
void owner_xml(buf_t *b, const char *elem, const account_t *a);

/* A listing entry's ChecksumAlgorithm and ChecksumType (ListObjects, ListObjectVersions), when
 * the object has an additional checksum. */
void checksum_list_elems(buf_t *b, const store_obj_t *o);
/* "ChecksumCRC32", ... : the XML element of algorithm a's value (NULL for CKSUM_NONE). */
const char *checksum_elem(enum cksum_algo a);
/* S3's answer to an unknown checksum algorithm name (InvalidRequest). */
#define CKSUM_UNSUPPORTED_MSG                                                                     \
    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: " \
    "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"

/* Admin API (api/admin.c): paths under /_strata/admin/, root account only. */
void admin_dispatch(rq_t *q, http_resp_t *resp);

/* IAM and STS Query APIs (api/iam.c, api/sts.c): on_end handlers for the buffered form body. */
void iam_end(rq_t *q, http_resp_t *resp);
void sts_end(rq_t *q, http_resp_t *resp);
/* Completes a signature check deferred to the end of the body (0 when none was deferred). */
int rq_verify_deferred(rq_t *q);
/* Fills q->principal for a long-term key: the account's root user, or the IAM user the key
 * belongs to (-SE_INVALID_ACCESS_KEY if that user is gone). */
int iam_principal_for_key(rq_t *q, const access_key_t *k);
/* Authenticates an STS temporary key (ASIA...): loads the session, checks the security token
 * (-SE_INVALID_TOKEN, -SE_EXPIRED_TOKEN), fills *k (secret, account) and q->principal.
 * -SE_INVALID_ACCESS_KEY if there is no such session. */
int sts_session_auth(rq_t *q, access_key_t *k);

/* Shared helpers */
bool storage_class_valid(sv_t c);
void fmt_etag(const char *etag, char *out /* >= 80 */);

/* ---- request.c pieces other handlers reuse ----------------------------------------------- */
/* The access key's record (long-term, or STS session with q->sig.security_token). */
int rq_lookup_key(rq_t *q, bool temporary, access_key_t *k);
/* After a verified signature: the key's account and principal (q->acct, q->principal). */
int rq_auth_principal(rq_t *q, const access_key_t *k, bool temporary);
int rq_body_setup(rq_t *q, enum body_mode mode, uint64_t max_size);
int rq_sse_check(rq_t *q, const char **msg);
bool utf8_valid(sv_t s);

/* POST Object (api/s3_post.c): begin answers HTTP_RESPOND or HTTP_WANT_BODY; the body goes
 * to feed; end commits and answers. */
int post_object_begin(rq_t *q, http_resp_t *resp);
int post_object_feed(rq_t *q, const char *p, size_t n);
void post_object_end(rq_t *q, http_resp_t *resp);

#endif
