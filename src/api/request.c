/* api/request: the per-request pipeline behind the http handler.
 *
 * begin: request ids -> SigV4 parse (bounded, before any lookup) -> key lookup and signature
 *        check -> route -> bucket lookup and ownership -> either answer at once (ops without a
 *        body) or set up the body pipeline.
 * body:  raw bytes -> SHA-256 (signed payload) -> aws-chunked decoding (streaming payloads) ->
 *        MD5 / additional checksum -> sink (the store put, or a bounded buffer for XML).
 * end:   payload checks (SHA-256, decoded length, trailer checksum) -> the op's end handler,
 *        which commits. A request that fails or is cut short never commits (done aborts).
 * Authorization: api/authz.c, after the bucket lookup (NoSuchBucket comes first, as on S3).
 */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "api/query.h"
#include "auth/sigv2.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_t *api_new(store_t *s, const api_cfg_t *cfg)
{
    api_t *api = xcalloc(1, sizeof *api);
    api->store = s;
    api->cfg = *cfg;
    snprintf(api->region, sizeof api->region, "%s", cfg->region && *cfg->region ? cfg->region : "us-east-1");
    snprintf(api->base_domain, sizeof api->base_domain, "%s", cfg->base_domain ? cfg->base_domain : "");
    if (!api->cfg.max_put_size)
        api->cfg.max_put_size = 5ull << 30;
    return api;
}

void api_free(api_t *api)
{
    free(api);
}

/* ---- responses --------------------------------------------------------------------------- */

sv_t rq_header(rq_t *q, const char *name)
{
    return http_req_header(q->hr, name);
}

void resp_header(rq_t *q, http_resp_t *resp, const char *name, const char *value)
{
    http_resp_header(q->hr, resp, name, value);
}

static void common_headers(rq_t *q, http_resp_t *resp)
{
    resp_header(q, resp, "x-amz-request-id", q->reqid);
    resp_header(q, resp, "x-amz-id-2", q->hostid);
    resp_header(q, resp, "Server", "Strata");
}

void xml_begin(buf_t *b, const char *root)
{
    buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"%s\">", root, S3_XMLNS);
}

void xml_elem(buf_t *b, const char *name, sv_t text)
{
    buf_printf(b, "<%s>", name);
    buf_xml_escape(b, text);
    buf_printf(b, "</%s>", name);
}

void xml_elem_c(buf_t *b, const char *name, const char *text)
{
    xml_elem(b, name, sv_from_cstr(text));
}

void xml_elem_enc(buf_t *b, const char *name, sv_t v, bool url)
{
    if (!url) {
        xml_elem(b, name, v);
        return;
    }
    buf_t e = BUF_INIT;
    sv_uri_encode(&e, v, true);
    xml_elem(b, name, buf_sv(&e));
    buf_release(&e);
}

void resp_xml(rq_t *q, http_resp_t *resp, int status, buf_t *xml)
{
    resp->status = status;
    common_headers(q, resp);
    resp_header(q, resp, "Content-Type", "application/xml");
    resp->body = arena_strndup(q->a, xml->p ? xml->p : "", xml->len);
    resp->body_len = xml->len;
    resp->head = q->head;
    buf_release(xml);
}

void resp_empty(rq_t *q, http_resp_t *resp, int status)
{
    resp->status = status;
    common_headers(q, resp);
    resp->body = "";
    resp->body_len = 0;
    resp->head = q->head;
}

void resp_error(rq_t *q, http_resp_t *resp, int rc, const char *msg)
{
    q->last_rc = rc;
    q->last_msg = msg;
    if (q->svc != SVC_S3) { /* IAM and STS answer in the Query protocol's error shape */
        query_error(q, resp, rc, msg);
        return;
    }
    const struct s3err *e = s3err_get(rc);
    if (rc != -SE_NO_SUCH_KEY && rc != -SE_NOT_MODIFIED && rc != -SE_PRECONDITION_FAILED)
        log_info("req=%s op=%s status=%d code=%s%s%s", q->reqid, s3_op_name(q->op), e->status,
                 e->code, (-rc > 0 && -rc < SE_BASE) ? " errno=" : "",
                 (-rc > 0 && -rc < SE_BASE) ? strerror(-rc) : "");
    resp->status = e->status;
    common_headers(q, resp);
    if (e->status == 304) {
        resp->body = "";
        resp->body_len = 0;
        resp->head = true;
        return;
    }
    buf_t b = BUF_INIT;
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    xml_elem_c(&b, "Code", e->code);
    xml_elem_c(&b, "Message", msg ? msg : e->message);
    if (q->route.bucket.len && (rc == -SE_NO_SUCH_BUCKET || rc == -SE_BUCKET_EXISTS ||
                                rc == -SE_BUCKET_OWNED || rc == -SE_BUCKET_NOT_EMPTY ||
                                rc == -SE_INVALID_BUCKET_NAME))
        xml_elem(&b, "BucketName", q->route.bucket);
    if (rc == -SE_NO_SUCH_KEY && q->route.has_key)
        xml_elem(&b, "Key", q->route.key);
    if (rc == -SE_INVALID_ACCESS_KEY || rc == -SE_SIGNATURE_MISMATCH)
        xml_elem(&b, "AWSAccessKeyId", q->sig.access_key);
    if (q->err_extra)
        buf_puts(&b, q->err_extra);
    xml_elem(&b, "Resource", q->hr->path);
    xml_elem_c(&b, "RequestId", q->reqid);
    xml_elem_c(&b, "HostId", q->hostid);
    buf_puts(&b, "</Error>");
    resp_header(q, resp, "Content-Type", "application/xml");
    resp->body = arena_strndup(q->a, b.p, b.len);
    resp->body_len = b.len;
    resp->head = q->head;
    buf_release(&b);
}

/* ---- the operation table ----------------------------------------------------------------- */

struct op_desc {
    op_fn run;               /* reads without a body: answer in begin */
    op_fn end;               /* ops with a body, and every write (even body-less ones): answer
                              * in end(), which the http layer runs on an end() worker with the
                              * connection suspended, so the index commit never blocks a
                              * connection thread and commits batch across connections */
    bool bucket;             /* needs the addressed bucket to exist and be accessible */
    bool no_body;            /* a write that takes no body: without one, nothing is set up */
};

static const struct op_desc *op_lookup(enum s3_op op)
{
    static const struct op_desc t[S3_OP_COUNT] = {
        [S3_OP_LIST_BUCKETS] = {op_list_buckets, NULL, false},
        [S3_OP_CREATE_BUCKET] = {NULL, op_create_bucket, false},
        [S3_OP_DELETE_BUCKET] = {NULL, op_delete_bucket, true, true},
        [S3_OP_HEAD_BUCKET] = {op_head_bucket, NULL, true},
        [S3_OP_GET_BUCKET_LOCATION] = {op_get_bucket_location, NULL, true},
        [S3_OP_LIST_OBJECTS] = {op_list_objects, NULL, true},
        [S3_OP_LIST_OBJECTS_V2] = {op_list_objects_v2, NULL, true},
        [S3_OP_GET_OBJECT] = {op_get_object, NULL, true},
        [S3_OP_HEAD_OBJECT] = {op_get_object, NULL, true},
        [S3_OP_DELETE_OBJECT] = {NULL, op_delete_object, true, true},
        [S3_OP_DELETE_OBJECTS] = {NULL, op_delete_objects, true},
        [S3_OP_COPY_OBJECT] = {NULL, op_copy_object, true},
        [S3_OP_PUT_OBJECT] = {NULL, put_object_end, true},
        [S3_OP_PUT_BUCKET_VERSIONING] = {NULL, op_put_bucket_versioning, true},
        [S3_OP_GET_BUCKET_VERSIONING] = {op_get_bucket_versioning, NULL, true},
        [S3_OP_LIST_OBJECT_VERSIONS] = {op_list_object_versions, NULL, true},
        [S3_OP_GET_OBJECT_TAGGING] = {op_get_object_tagging, NULL, true},
        [S3_OP_PUT_OBJECT_TAGGING] = {NULL, op_put_object_tagging, true},
        [S3_OP_DELETE_OBJECT_TAGGING] = {NULL, op_delete_object_tagging, true, true},
        [S3_OP_GET_BUCKET_TAGGING] = {op_get_bucket_tagging, NULL, true},
        [S3_OP_PUT_BUCKET_TAGGING] = {NULL, op_put_bucket_tagging, true},
        [S3_OP_DELETE_BUCKET_TAGGING] = {NULL, op_delete_bucket_tagging, true, true},
        [S3_OP_GET_OBJECT_ATTRIBUTES] = {op_get_object_attributes, NULL, true},
        /* access control (api/s3_policy.c, api/s3_acl.c) */
        [S3_OP_GET_BUCKET_POLICY] = {op_get_bucket_policy, NULL, true},
        [S3_OP_PUT_BUCKET_POLICY] = {NULL, op_put_bucket_policy, true},
        [S3_OP_DELETE_BUCKET_POLICY] = {NULL, op_delete_bucket_policy, true, true},
        [S3_OP_GET_BUCKET_POLICY_STATUS] = {op_get_bucket_policy_status, NULL, true},
        [S3_OP_GET_PUBLIC_ACCESS_BLOCK] = {op_get_public_access_block, NULL, true},
        [S3_OP_PUT_PUBLIC_ACCESS_BLOCK] = {NULL, op_put_public_access_block, true},
        [S3_OP_DELETE_PUBLIC_ACCESS_BLOCK] = {NULL, op_delete_public_access_block, true, true},
        [S3_OP_GET_OWNERSHIP_CONTROLS] = {op_get_ownership_controls, NULL, true},
        [S3_OP_PUT_OWNERSHIP_CONTROLS] = {NULL, op_put_ownership_controls, true},
        [S3_OP_DELETE_OWNERSHIP_CONTROLS] = {NULL, op_delete_ownership_controls, true, true},
        [S3_OP_GET_BUCKET_ACL] = {op_get_bucket_acl, NULL, true},
        [S3_OP_PUT_BUCKET_ACL] = {NULL, op_put_bucket_acl, true},
        [S3_OP_GET_OBJECT_ACL] = {op_get_object_acl, NULL, true},
        [S3_OP_PUT_OBJECT_ACL] = {NULL, op_put_object_acl, true},
        [S3_OP_CREATE_MULTIPART] = {NULL, op_create_multipart, true},
        [S3_OP_POST_OBJECT] = {NULL, post_object_end, true},
        [S3_OP_UPLOAD_PART] = {NULL, upload_part_end, true},
        [S3_OP_UPLOAD_PART_COPY] = {NULL, op_upload_part_copy, true},
        [S3_OP_COMPLETE_MULTIPART] = {NULL, op_complete_multipart, true},
        [S3_OP_ABORT_MULTIPART] = {NULL, op_abort_multipart, true, true},
        [S3_OP_LIST_PARTS] = {op_list_parts, NULL, true},
        [S3_OP_LIST_MULTIPART_UPLOADS] = {op_list_multipart_uploads, NULL, true},
    };
    if (op <= S3_OP_UNKNOWN || op >= S3_OP_COUNT || (!t[op].run && !t[op].end))
        return NULL;
    return &t[op];
}

/* ---- body pipeline ----------------------------------------------------------------------- */

int body_sink(void *ctx, const char *p, size_t n)
{
    rq_t *q = ctx;
    if (n == 0)
        return 0;
    if (q->received + n > q->max_size || q->received + n < q->received)
        return q->body_mode == BODY_OBJECT ? -SE_ENTITY_TOO_LARGE : -SE_MAX_MESSAGE_LENGTH;
    q->received += n;
    /* A big object's MD5: the store hands its staged copy of the bytes to the digest
     * pipeline, so they are copied once (into the store's buffer) rather than twice. */
    if (q->want_md5 && !q->md5_by_store) {
        if (q->body_mode == BODY_OBJECT && q->put && q->received == n &&
            store_put_digest(q->put, &q->md5))
            q->md5_by_store = true;
        else
            digest_update(&q->md5, p, n);
    }
    if (q->cksum.algo != CKSUM_NONE)
        cksum_update(&q->cksum, p, n);
    if (q->body_mode == BODY_OBJECT)
        return store_put_write(q->put, p, n);
    buf_append(&q->body, p, n);
    return 0;
}

/* Additional checksum (x-amz-checksum-<algo>): a header value now, or announced in
 * x-amz-trailer for the aws-chunked trailer; x-amz-sdk-checksum-algorithm must agree. The
 * answers (codes and messages) are those S3 gives; see docs/checksums.md. */
static int checksum_setup(rq_t *q)
{
    enum cksum_algo hdr = CKSUM_NONE, trl = CKSUM_NONE;
    int count = 0;
    /* On CompleteMultipartUpload the header is the whole object's checksum, not the XML
     * body's: op_complete_multipart compares it with the one it computes. */
    if (q->op == S3_OP_COMPLETE_MULTIPART)
        return 0;
    for (int a = CKSUM_CRC32; a <= CKSUM_SHA256; a++) {
        sv_t v = rq_header(q, cksum_header_name((enum cksum_algo)a));
        if (v.p) {
            count++;
            hdr = (enum cksum_algo)a;
            q->cksum_expect = sv_trim(v);
        }
    }
    sv_t tr = rq_header(q, "x-amz-trailer");
    if (tr.p) {
        tr = sv_trim(tr);
        for (int i = CKSUM_CRC32; i <= CKSUM_SHA256; i++)
            if (sv_caseeq_cstr(tr, cksum_header_name((enum cksum_algo)i)))
                trl = (enum cksum_algo)i;
        if (trl == CKSUM_NONE) {
            q->err_msg = "The value specified in the x-amz-trailer header is not supported";
            return -SE_INVALID_REQUEST;
        }
        if (!q->chunked)
            return -SE_MALFORMED_TRAILER;
        count++;
    }
    if (count > 1) {
        q->err_msg = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                     "allowed.";
        return -SE_INVALID_REQUEST;
    }
    uint8_t raw[48];
    if (hdr != CKSUM_NONE && cksum_b64_decode(hdr, q->cksum_expect, raw) != 0) {
        q->err_msg = arena_sprintf(q->a, "Value for %s header is invalid.", cksum_header_name(hdr));
        return -SE_INVALID_REQUEST;
    }
    enum cksum_algo algo = hdr != CKSUM_NONE ? hdr : trl;
    sv_t sdk = rq_header(q, "x-amz-sdk-checksum-algorithm");
    if (sdk.p) {
        enum cksum_algo sa = cksum_algo_parse(sv_trim(sdk));
        if (sa == CKSUM_NONE) {
            q->err_msg = CKSUM_UNSUPPORTED_MSG;
            return -SE_INVALID_REQUEST;
        }
        if (algo == CKSUM_NONE) {
            q->err_msg = "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                         "x-amz-checksum-* or x-amz-trailer headers were found.";
            return -SE_INVALID_REQUEST;
        }
        if (sa != algo) {
            /* S3 checks the body against the announced algorithm, finds no value for it */
            q->err_msg = arena_sprintf(q->a, "The %s you specified did not match the calculated "
                                       "checksum.", cksum_algo_name(sa));
            return -SE_BAD_CHECKSUM;
        }
    }
    if (algo != CKSUM_NONE) {
        cksum_init(&q->cksum, algo);
        q->cksum_algo = algo;
        q->cksum_trailer = trl != CKSUM_NONE;
    }
    return 0;
}

void body_checksum_compute(rq_t *q, enum cksum_algo a)
{
    cksum_init(&q->cksum, a);
    q->cksum_algo = a;
    q->cksum_compute = true;
    q->cksum_trailer = false;
    q->cksum_expect = SV_NULL;
}

/* Bodies from this size on have their MD5 computed by a digest pipeline (core/hash.h). */
#define BODY_MD5_PIPE_MIN ((uint64_t)4 << 20)

int body_md5_verify(rq_t *q, bool required, uint8_t out[16])
{
    uint8_t got[16], want[16];
    digest_final(&q->md5, got);
    q->want_md5 = false;
    if (out)
        memcpy(out, got, 16);
    sv_t cmd5 = rq_header(q, "content-md5");
    if (!cmd5.p) {
        if (!required || q->cksum_algo != CKSUM_NONE)
            return 0;
        q->err_msg = "Missing required header for this request: Content-MD5";
        return -SE_INVALID_REQUEST;
    }
    if (base64_decode(sv_trim(cmd5), want, sizeof want) != 16)
        return -SE_INVALID_DIGEST;
    return ct_eq(got, want, 16) ? 0 : -SE_BAD_DIGEST;
}

/* SHA-256 of zero bytes */
static const uint8_t EMPTY_BODY_SHA256[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

/* Sets up hashing and de-chunking for the request body according to the payload mode. */
static int body_setup(rq_t *q, enum body_mode mode, uint64_t max_size)
{
    http_req_t *hr = q->hr;
    q->body_mode = mode;
    q->max_size = max_size;
    q->want_md5 = true; /* ETag for objects; Content-MD5 checks for XML bodies */
    digest_init_md5(&q->md5);
    if (!q->anonymous && q->sig.payload == PAYLOAD_SIGNED) {
        q->check_sha256 = true;
        digest_init_sha256(&q->sha256);
    }
    bool streaming = !q->anonymous && q->sig.payload >= PAYLOAD_STREAMING_SIGNED;
    if (streaming) {
        sv_t dl = rq_header(q, "x-amz-decoded-content-length");
        if (dl.p) {
            if (sv_to_u64(dl, &q->decoded_len) != 0)
                return -SE_INVALID_ARGUMENT;
            q->have_decoded_len = true;
        } else if (!hr->chunked && q->sig.payload == PAYLOAD_STREAMING_SIGNED) {
            return -SE_MISSING_CONTENT_LENGTH;
        }
        bool signed_chunks = q->sig.payload == PAYLOAD_STREAMING_SIGNED ||
                             q->sig.payload == PAYLOAD_STREAMING_SIGNED_TRAILER;
        bool trailer = q->sig.payload != PAYLOAD_STREAMING_SIGNED;
        q->chunked = aws_chunked_new(signed_chunks, trailer, &q->sigres, q->sig.amz_date);
        if (q->have_decoded_len && q->decoded_len > max_size)
            return mode == BODY_OBJECT ? -SE_ENTITY_TOO_LARGE : -SE_MAX_MESSAGE_LENGTH;
    } else if (hr->has_length && hr->content_length > max_size) {
        return mode == BODY_OBJECT ? -SE_ENTITY_TOO_LARGE : -SE_MAX_MESSAGE_LENGTH;
    }
    /* A big object body: its MD5 (~600 MB/s, one core) runs on a thread of its own, in
     * parallel with receiving, checksumming and writing the body on this one. */
    uint64_t announced = q->have_decoded_len ? q->decoded_len
                         : hr->has_length    ? hr->content_length
                                             : 0;
    if (mode == BODY_OBJECT && announced >= BODY_MD5_PIPE_MIN)
        (void)digest_pipeline(&q->md5);
    return checksum_setup(q);
}

static int body_finish(rq_t *q)
{
    int rc;
    if (q->chunked) {
        if ((rc = aws_chunked_finish(q->chunked)) != 0)
            return rc;
        if (q->have_decoded_len && q->decoded_len != q->received)
            return -SE_INCOMPLETE_BODY;
    }
    if (q->check_sha256) {
        uint8_t h[32];
        digest_final(&q->sha256, h);
        q->check_sha256 = false;
        uint8_t want[32];
        if (q->verify_deferred && !q->sig.content_sha256.len) {
            /* IAM/STS without x-amz-content-sha256: the body's hash goes into the signature,
             * checked next by rq_verify_deferred(). */
            char *hex = arena_alloc(q->a, 65);
            hex_encode(h, 32, hex);
            q->sig.content_sha256 = (sv_t){hex, 64};
        } else if (hex_decode(q->sig.content_sha256, want, 32) != 0 || !ct_eq(h, want, 32)) {
            return -SE_CONTENT_SHA256_MISMATCH;
        }
    }
    if (q->cksum.algo != CKSUM_NONE) {
        enum cksum_algo algo = q->cksum.algo;
        sv_t expect = q->cksum_expect;
        char got[64];
        cksum_final_b64(&q->cksum, got);
        q->cksum.algo = CKSUM_NONE; /* final freed it */
        if (q->cksum_trailer) {
            uint8_t raw[48];
            expect = aws_chunked_trailer(q->chunked, cksum_header_name(algo));
            if (!expect.p)
                return -SE_MALFORMED_TRAILER;
            expect = sv_trim(expect);
            if (cksum_b64_decode(algo, expect, raw) != 0) {
                q->err_msg = arena_sprintf(q->a, "Value for %s trailing header is invalid.",
                                           cksum_header_name(algo));
                return -SE_INVALID_REQUEST;
            }
        }
        if (!q->cksum_compute && !sv_eq_cstr(expect, got)) {
            q->err_msg = arena_sprintf(q->a, "The %s you specified did not match the calculated "
                                       "checksum.", cksum_algo_name(algo));
            return -SE_BAD_CHECKSUM;
        }
        q->cksum_expect = sv_from_cstr(arena_strndup(q->a, got, strlen(got)));
    }
    return 0;
}

/* ---- handler callbacks ------------------------------------------------------------------- */

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF), and none of the
 * control characters XML 1.0 cannot carry even as references (NUL, U+0001..U+0008, ...). */
/* Server-side encryption requests. SSE-S3 ("AES256") is accepted: it is the default every
 * object will get once encryption exists (ARCHITECTURE.md), and bucket policies that require
 * the header must be satisfiable; the response does not claim encryption until it is real.
 * SSE-KMS, DSSE and SSE-C cannot be honoured without keys, and serving an SSE-C object without
 * its key would be wrong, so those are refused with NotImplemented. Returns 0, or the error
 * with *msg set. */
static int sse_check(rq_t *q, const char **msg)
{
    sv_t alg = rq_header(q, "x-amz-server-side-encryption");
    if (alg.p && !sv_eq_cstr(sv_trim(alg), "AES256")) {
        if (sv_eq_cstr(sv_trim(alg), "aws:kms") || sv_eq_cstr(sv_trim(alg), "aws:kms:dsse")) {
            *msg = "Server-side encryption with KMS keys is not implemented yet.";
            return -SE_NOT_IMPLEMENTED;
        }
        *msg = "The encryption method specified is not supported";
        return -SE_INVALID_ARGUMENT;
    }
    static const char *const hdrs[] = {
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-context",
        "x-amz-server-side-encryption-bucket-key-enabled",
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
        "x-amz-copy-source-server-side-encryption-customer-key",
        "x-amz-copy-source-server-side-encryption-customer-key-md5",
        NULL};
    for (int i = 0; hdrs[i]; i++) {
        if (rq_header(q, hdrs[i]).p) {
            *msg = "Server-side encryption with KMS or customer-provided keys is not "
                   "implemented yet.";
            return -SE_NOT_IMPLEMENTED;
        }
    }
    return 0;
}

static int fail_msg(rq_t *q, http_resp_t *resp, int rc, const char *msg)
{
    resp_error(q, resp, rc, msg);
    return HTTP_RESPOND;
}

bool utf8_valid(sv_t s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0, n = s.len;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > n)
            return false;
        uint32_t cp = c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static void gen_ids(rq_t *q)
{
    uint8_t r[24];
    random_bytes(r, sizeof r);
    static const char hx[] = "0123456789ABCDEF";
    for (int i = 0; i < 16; i++)
        q->reqid[i] = hx[(r[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    q->reqid[16] = 0;
    base64_encode(r + 8, 16, q->hostid);
}

/* The access key's record (long-term key or STS session), or the S3 error. */
static int lookup_key(rq_t *q, bool temporary, access_key_t *k)
{
    int rc;
    if (temporary) /* STS credentials: the session record and the x-amz-security-token */
        return sts_session_auth(q, k);
    rc = accounts_key_get(q->api->store, q->sig.access_key, k);
    if (rc == -ENOENT || (rc == 0 && !k->active))
        return -SE_INVALID_ACCESS_KEY;
    return rc;
}

/* Signature Version 2 (auth/sigv2.h): S3 only, no region in it, the payload is not signed
 * (Content-MD5, when sent, is checked against the body as for every request). */
static int authenticate_v2(rq_t *q, const sigv4_req_t *sr, const sigv2_parsed_t *v2)
{
    http_req_t *hr = q->hr;
    q->sigv2 = true;
    q->sig.kind = v2->kind == SIGV2_QUERY ? SIGV4_PRESIGNED : SIGV4_HEADER;
    q->sig.access_key = v2->access_key;
    q->sig.security_token = v2->security_token;
    q->sig.payload = PAYLOAD_UNSIGNED;
    q->sig.service = SV("s3");
    q->sig.region = sv_from_cstr(q->api->region);
    q->sig.req_time = v2->req_time;
    access_key_t k;
    bool temporary = sv_starts_with(q->sig.access_key, SV("ASIA"));
    int rc = lookup_key(q, temporary, &k);
    if (rc)
        return rc;
    sv_t vb = s3_vhost_bucket(http_req_header(hr, "host"), q->api->base_domain);
    if ((rc = sigv2_verify(sr, v2, vb, sv_from_cstr(k.secret), q->a)) != 0)
        return rc;
    return rq_auth_principal(q, &k, temporary);
}

static int authenticate(rq_t *q)
{
    http_req_t *hr = q->hr;
    sigv4_req_t sr = {hr->method, hr->path, hr->query, hr->headers, hr->nheaders};
    sigv2_parsed_t v2;
    const char *msg;
    int rc = sigv2_parse(&sr, now_ms() / 1000, &v2, &msg);
    if (rc < 0) {
        q->scope_msg = msg;
        return rc;
    }
    if (v2.kind != SIGV2_NONE)
        return authenticate_v2(q, &sr, &v2);
    rc = sigv4_parse(&sr, now_ms() / 1000, &q->sig);
    if (rc < 0)
        return rc;
    if (q->sig.kind == SIGV4_NONE) {
        q->anonymous = true;
        return 0;
    }
    /* The credential scope's service routes the request: IAM and STS share this endpoint. */
    if (sv_eq_cstr(q->sig.service, "iam"))
        q->svc = SVC_IAM;
    else if (sv_eq_cstr(q->sig.service, "sts"))
        q->svc = SVC_STS;
    access_key_t k;
    bool temporary = sv_starts_with(q->sig.access_key, SV("ASIA"));
    if ((rc = lookup_key(q, temporary, &k)) != 0)
        return rc;
    /* The credential scope must name this server's region (for every service: IAM and STS
     * scopes name it too on our single endpoint). */
    if (!sv_eq_cstr(q->sig.region, q->api->region)) {
        q->scope_msg = arena_sprintf(q->a,
                                     "The authorization %s is malformed; the region '%.*s' is "
                                     "wrong; expecting '%s'",
                                     q->sig.kind == SIGV4_PRESIGNED ? "query" : "header",
                                     SV_ARG(q->sig.region), q->api->region);
        return q->sig.kind == SIGV4_PRESIGNED ? -SE_AUTH_QUERY_MALFORMED : -SE_AUTH_HEADER_MALFORMED;
    }
    if (q->svc != SVC_S3 && q->sig.kind == SIGV4_HEADER && !q->sig.content_sha256.len) {
        /* The signature covers the body's SHA-256: checked when the body is complete. */
        q->verify_deferred = true;
        q->verify_secret = arena_strndup(q->a, k.secret, strlen(k.secret));
    } else if ((rc = sigv4_verify(&sr, &q->sig, sv_from_cstr(k.secret), q->a, &q->sigres)) != 0) {
        return rc;
    }
    return rq_auth_principal(q, &k, temporary);
}

int rq_verify_deferred(rq_t *q)
{
    if (!q->verify_deferred)
        return 0;
    http_req_t *hr = q->hr;
    sigv4_req_t sr = {hr->method, hr->path, hr->query, hr->headers, hr->nheaders};
    q->verify_deferred = false;
    return sigv4_verify(&sr, &q->sig, sv_from_cstr(q->verify_secret), q->a, &q->sigres);
}

/* Returns HTTP_RESPOND with resp filled, or HTTP_WANT_BODY. */
static int fail(rq_t *q, http_resp_t *resp, int rc)
{
    resp_error(q, resp, rc, q->scope_msg ? q->scope_msg : q->err_msg);
    return HTTP_RESPOND;
}

static int api_begin(void *ud, http_req_t *hr, http_resp_t *resp)
{
    api_t *api = ud;
    rq_t *q = arena_calloc(hr->arena, 1, sizeof *q);
    int rc;
    hr->app = q;
    q->api = api;
    q->hr = hr;
    q->a = hr->arena;
    q->head = sv_eq_cstr(hr->method, "HEAD");
    gen_ids(q);

    bool has_auth = http_req_header(hr, "authorization").p != NULL ||
                    (hr->query.len && memmem(hr->query.p, hr->query.len, "X-Amz-Signature", 15));
    if (!has_auth && (sv_eq_cstr(hr->method, "GET") || q->head) &&
        (sv_eq_cstr(hr->path, "/health/live") || sv_eq_cstr(hr->path, "/health/ready"))) {
        resp_empty(q, resp, 200);
        resp->body = q->head ? "" : "ok\n";
        resp->body_len = q->head ? 0 : 3;
        return HTTP_RESPOND;
    }

    /* OPTIONS is a CORS pre-flight: browsers send it without credentials, so it is answered
     * before authentication. Without an Origin it is malformed (S3's 400, which ceph s3-tests
     * test_object_raw_get_x_amz_expires_not_expired expects for a presigned URL); otherwise no
     * bucket has a CORS configuration yet (PutBucketCors is 501), so no origin is allowed. */
    if (sv_eq_cstr(hr->method, "OPTIONS")) {
        if (!http_req_header(hr, "origin").p)
            return fail_msg(q, resp, -SE_BAD_REQUEST,
                            "Insufficient information. Origin request header needed.");
        if (!http_req_header(hr, "access-control-request-method").p)
            return fail_msg(q, resp, -SE_BAD_REQUEST,
                            "Invalid Access-Control-Request-Method: null");
        return fail(q, resp, -SE_CORS_FORBIDDEN);
    }

    if ((rc = authenticate(q)) != 0)
        return fail(q, resp, rc);

    /* IAM and STS (SigV4 service "iam"/"sts"): a Query-protocol form, in the body (POST) or
     * the query string (GET); the body is buffered and handled by api/iam.c or api/sts.c. */
    if (q->svc != SVC_S3) {
        if ((rc = body_setup(q, BODY_BUFFER, FORM_MAX_BYTES)) != 0)
            return fail(q, resp, rc);
        q->on_end = q->svc == SVC_IAM ? iam_end : sts_end;
        return HTTP_WANT_BODY;
    }

    if (sv_starts_with(hr->path, SV("/_strata/"))) {
        /* The server's root account, signing as its root user (not an IAM user or role). */
        if (q->anonymous || !q->acct.root || q->principal.type != RQP_ROOT)
            return fail(q, resp, -SE_ACCESS_DENIED);
        if ((rc = body_setup(q, BODY_BUFFER, 64 * 1024)) != 0)
            return fail(q, resp, rc);
        q->on_end = admin_dispatch;
        return HTTP_WANT_BODY;
    }

    if (sv_eq_cstr(hr->path, "/v20180820/configuration/publicAccessBlock")) {
        /* S3 Control: the account-level Block Public Access (api/s3_policy.c) */
        if ((rc = body_setup(q, BODY_BUFFER, 64 * 1024)) != 0)
            return fail(q, resp, rc);
        q->on_end = op_account_pab;
        return HTTP_WANT_BODY;
    }

    rc = s3_route(q->a, hr->method, http_req_header(hr, "host"), hr->path, hr->query,
                  api->base_domain, &q->route);
    if (rc < 0)
        return fail(q, resp, rc);
    q->op = q->route.op;
    if (rq_header(q, "x-amz-copy-source").p) {
        if (q->op == S3_OP_PUT_OBJECT)
            q->op = S3_OP_COPY_OBJECT;
        else if (q->op == S3_OP_UPLOAD_PART)
            q->op = S3_OP_UPLOAD_PART_COPY;
    }
    const struct op_desc *d = op_lookup(q->op);
    if (!d)
        return fail(q, resp, -SE_NOT_IMPLEMENTED);
    if (q->route.has_key && q->route.key.len > MAX_KEY_LEN)
        return fail(q, resp, -SE_KEY_TOO_LONG);
    if (q->route.has_key && q->route.key.len == 0)
        return fail(q, resp, -SE_INVALID_ARGUMENT);
    /* Keys are UTF-8 on S3; other bytes could not be listed in XML. */
    if (q->route.has_key && !utf8_valid(q->route.key))
        return fail(q, resp, -SE_INVALID_URI);

    if (d->bucket) {
        rc = store_bucket_get(api->store, q->route.bucket, &q->bucket);
        if (rc == 0)
            q->have_bucket = true;
        else
            return fail(q, resp, rc);
        /* x-amz-expected-bucket-owner: an account id other than the bucket owner's is 403,
         * whoever asks (ceph s3-tests test_expected_bucket_owner) */
        sv_t ebo = rq_header(q, "x-amz-expected-bucket-owner");
        if (ebo.p && !sv_eq_cstr(sv_trim(ebo), q->bucket.owner))
            return fail(q, resp, -SE_ACCESS_DENIED);
    }
    /* POST Object: credentials, policy and headers are form fields; it authenticates and
     * authorizes when the file part begins (api/s3_post.c). */
    if (q->op == S3_OP_POST_OBJECT)
        return post_object_begin(q, resp);
    /* Authorization (api/authz.c): bucket policy, ACLs, Block Public Access and the
     * principal's own policies; anonymous requests are evaluated as the anonymous principal. */
    if ((rc = authz_request(q)) != 0)
        return fail(q, resp, rc);
    const char *sse_msg = NULL;
    if ((rc = sse_check(q, &sse_msg)) != 0)
        return fail_msg(q, resp, rc, sse_msg);

    if (d->run) {
        d->run(q, resp);
        return HTTP_RESPOND;
    }
    q->on_end = d->end;
    if (q->op == S3_OP_PUT_OBJECT) {
        if ((rc = body_setup(q, BODY_OBJECT, api->cfg.max_put_size)) != 0)
            return fail(q, resp, rc);
        if ((rc = put_object_begin(q, resp)) != 0)
            return HTTP_RESPOND; /* put_object_begin filled the error */
    } else if (q->op == S3_OP_UPLOAD_PART) { /* api/s3_multipart.c; parts up to 5 GiB */
        if ((rc = body_setup(q, BODY_OBJECT, STORE_PART_MAX)) != 0)
            return fail(q, resp, rc);
        if ((rc = upload_part_begin(q, resp)) != 0)
            return HTTP_RESPOND; /* upload_part_begin filled the error */
    } else if (d->no_body && !hr->chunked && !(hr->has_length && hr->content_length > 0) &&
               (q->anonymous || q->sig.payload < PAYLOAD_STREAMING_SIGNED)) {
        /* DELETE and the like: no body, so no digests to set up; a signed payload hash must
         * still be that of the empty body */
        uint8_t want[32];
        if (!q->anonymous && q->sig.payload == PAYLOAD_SIGNED &&
            (hex_decode(q->sig.content_sha256, want, 32) != 0 || !ct_eq(want, EMPTY_BODY_SHA256, 32)))
            return fail(q, resp, -SE_CONTENT_SHA256_MISMATCH);
    } else if ((rc = body_setup(q, BODY_BUFFER, MAX_XML_BODY)) != 0) {
        return fail(q, resp, rc);
    }
    return HTTP_WANT_BODY;
}

static int feed(rq_t *q, const char *p, size_t n)
{
    if (q->postctx)
        return post_object_feed(q, p, n);
    if (q->check_sha256)
        digest_update(&q->sha256, p, n);
    if (q->chunked)
        return aws_chunked_feed(q->chunked, p, n, body_sink, q);
    return body_sink(q, p, n);
}

static int api_body(void *ud, http_req_t *hr, const char *p, size_t n, http_resp_t *resp)
{
    rq_t *q = hr->app;
    int rc = feed(q, p, n);
    if (rc == 0)
        return 0;
    q->err = rc;
    resp_error(q, resp, rc, q->err_msg);
    resp->close = true; /* the rest of the body is not read */
    return HTTP_RESPOND;
}

static void api_end(void *ud, http_req_t *hr, http_resp_t *resp)
{
    rq_t *q = hr->app;
    int rc = body_finish(q);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    q->on_end(q, resp);
}

static void api_done(void *ud, http_req_t *hr)
{
    rq_t *q = hr->app;
    if (!q)
        return;
    if (q->put) {
        store_put_abort(q->put);
        q->put = NULL;
    }
    if (q->chunked)
        aws_chunked_free(q->chunked);
    if (q->check_sha256)
        digest_free(&q->sha256);
    if (q->want_md5 && q->md5.ctx)
        digest_free(&q->md5);
    if (q->cksum.algo != CKSUM_NONE)
        cksum_free(&q->cksum);
    buf_release(&q->body);
}

void api_http_handler(api_t *api, http_handler_t *out)
{
    out->begin = api_begin;
    out->body = api_body;
    out->end = api_end;
    out->done = api_done;
    out->ud = api;
}

/* ---- pieces for other handlers (api_int.h) ------------------------------------------------ */

int rq_last_error(const rq_t *q, const char **msg)
{
    if (msg)
        *msg = q->last_msg;
    return q->last_rc;
}

int rq_lookup_key(rq_t *q, bool temporary, access_key_t *k)
{
    return lookup_key(q, temporary, k);
}

int rq_auth_principal(rq_t *q, const access_key_t *k, bool temporary)
{
    int rc;
    if ((rc = accounts_get(q->api->store, sv_from_cstr(k->account_id), &q->acct)) != 0)
        return rc == -ENOENT ? -SE_INVALID_ACCESS_KEY : rc;
    if (!temporary && (rc = iam_principal_for_key(q, k)) != 0)
        return rc;
    return 0;
}

int rq_body_setup(rq_t *q, enum body_mode mode, uint64_t max_size)
{
    return body_setup(q, mode, max_size);
}

int rq_sse_check(rq_t *q, const char **msg)
{
    return sse_check(q, msg);
}
