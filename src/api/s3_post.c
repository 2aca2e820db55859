/* api/s3_post: POST Object, the browser-based upload (an HTML form, multipart/form-data).
 *
 * The request carries no Authorization header: its credentials, policy and object headers
 * are form fields, and the file is the last field that counts (S3 ignores fields after it).
 * So the body is parsed as it streams (s3/postform.h); when the file part begins, every field
 * is known and the request is authenticated (policy signature, SigV4 or SigV2), the policy
 * checked (s3/postpolicy.h), the fields turned into the headers PutObject reads (Content-Type,
 * x-amz-meta-*, acl -> x-amz-acl, tagging XML -> x-amz-tagging, ...), and the request
 * authorized as s3:PutObject on the key. From there the file streams through the same
 * pipeline as a PutObject body (MD5, store, commit at the end) and put_object_end commits it;
 * the answer is then rewritten as S3 answers a POST (204, 200, 201 with XML, or a 303 to
 * success_action_redirect). A form without a policy is an anonymous upload. */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "auth/sigv4.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "s3/postform.h"
#include "s3/postpolicy.h"
#include "s3/tagging.h"
#include "s3/xml.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 128
#define MAX_FIELD_BYTES (64 * 1024) /* all fields before the file, together */

struct post_ctx {
    postform_t form;
    kv_t fields[MAX_FIELDS];
    size_t nfields;
    size_t field_bytes;
    buf_t cur;         /* the value of the field being received */
    bool in_file;      /* the file part is streaming */
    bool file_seen;    /* the file part began */
    bool file_done;    /* and ended: everything after it is ignored */
    postpolicy_t policy;
    bool has_policy;
    sv_t filename;
};

static sv_t field(const struct post_ctx *pc, const char *name)
{
    for (size_t i = 0; i < pc->nfields; i++)
        if (sv_caseeq_cstr(pc->fields[i].name, name))
            return pc->fields[i].value;
    return SV_NULL;
}

static sv_t dup_sv(arena_t *a, sv_t s)
{
    return (sv_t){arena_strndup(a, s.p, s.len), s.len};
}

/* ---- authentication from the form ------------------------------------------------------- */

static int auth_v4(rq_t *q, struct post_ctx *pc, sv_t policy_b64)
{
    sv_t alg = field(pc, "x-amz-algorithm"), cred = field(pc, "x-amz-credential"),
         date = field(pc, "x-amz-date"), sig = field(pc, "x-amz-signature");
    if (!sv_eq_cstr(alg, "AWS4-HMAC-SHA256")) {
        q->err_msg = "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm.";
        return -SE_INVALID_ARGUMENT;
    }
    if (!cred.p || !date.p || !sig.p) {
        q->err_msg = "Bucket POST must contain the fields x-amz-credential, x-amz-date and "
                     "x-amz-signature.";
        return -SE_INVALID_ARGUMENT;
    }
    /* AKID/YYYYMMDD/region/s3/aws4_request */
    sv_t parts[5], rest = cred;
    bool more = true;
    size_t np = 0;
    while (more && np < 5)
        rest = sv_split(rest, '/', &parts[np++], &more);
    if (np != 5 || more || parts[0].len == 0 || parts[1].len != 8 ||
        !sv_eq_cstr(parts[3], "s3") || !sv_eq_cstr(parts[4], "aws4_request")) {
        q->err_msg = "Invalid x-amz-credential: expected AKID/YYYYMMDD/REGION/s3/aws4_request.";
        return -SE_INVALID_ARGUMENT;
    }
    if (!sv_eq_cstr(parts[2], q->api->region)) {
        q->err_msg = arena_sprintf(q->a, "The authorization query is malformed; the region '%.*s' "
                                   "is wrong; expecting '%s'", SV_ARG(parts[2]), q->api->region);
        return -SE_AUTH_QUERY_MALFORMED;
    }
    q->sig.access_key = parts[0];
    access_key_t k;
    bool temporary = sv_starts_with(parts[0], SV("ASIA"));
    int rc = rq_lookup_key(q, temporary, &k);
    if (rc)
        return rc;
    uint8_t key[32], mac[32];
    sigv4_signing_key(sv_from_cstr(k.secret), parts[1], parts[2], SV("s3"), key);
    hmac_sha256(key, sizeof key, policy_b64.p, policy_b64.len, mac);
    char hex[65];
    hex_encode(mac, 32, hex);
    sv_t want = sv_trim(sig);
    if (want.len != 64 || !ct_eq(hex, want.p, 64))
        return -SE_SIGNATURE_MISMATCH;
    return rq_auth_principal(q, &k, temporary);
}

static int auth_v2(rq_t *q, struct post_ctx *pc, sv_t policy_b64)
{
    sv_t ak = field(pc, "awsaccesskeyid"), sig = field(pc, "signature");
    if (!ak.p || !sig.p || ak.len == 0) {
        q->err_msg = "Bucket POST must contain a field named 'AWSAccessKeyId' and 'signature'.";
        return -SE_INVALID_ARGUMENT;
    }
    q->sig.access_key = ak;
    q->sigv2 = true;
    access_key_t k;
    bool temporary = sv_starts_with(ak, SV("ASIA"));
    int rc = rq_lookup_key(q, temporary, &k);
    if (rc)
        return rc;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha1(), k.secret, (int)strlen(k.secret), (const unsigned char *)policy_b64.p,
              policy_b64.len, mac, &ml))
        return -SE_SIGNATURE_MISMATCH;
    char b64[64];
    size_t bl = base64_encode(mac, ml, b64);
    sv_t want = sv_trim(sig);
    if (want.len != bl || !ct_eq(b64, want.p, bl))
        return -SE_SIGNATURE_MISMATCH;
    return rq_auth_principal(q, &k, temporary);
}

/* ---- fields -> the headers PutObject reads ----------------------------------------------- */

static bool object_header(sv_t n)
{
    static const char *const names[] = {
        "content-type", "cache-control", "content-disposition", "content-encoding",
        "content-language", "expires", "x-amz-storage-class", "x-amz-website-redirect-location",
        "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-context", "x-amz-server-side-encryption-bucket-key-enabled",
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5", "x-amz-checksum-algorithm",
        "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
        "x-amz-checksum-sha1", "x-amz-checksum-sha256", "content-md5", NULL};
    for (int i = 0; names[i]; i++)
        if (sv_caseeq_cstr(n, names[i]))
            return true;
    return n.len > 11 && sv_caseeq_cstr((sv_t){n.p, 11}, "x-amz-meta-");
}

/* The request's headers become: the object headers from the form, then the request's own
 * headers that describe the client (User-Agent, Referer, Host...), never its Content-Type or
 * Content-Length (those describe the form). */
static int build_headers(rq_t *q, struct post_ctx *pc)
{
    http_req_t *hr = q->hr;
    size_t cap = pc->nfields + hr->nheaders + 2, n = 0;
    kv_t *h = arena_calloc(q->a, cap, sizeof *h);
    for (size_t i = 0; i < pc->nfields; i++) {
        sv_t nm = pc->fields[i].name, v = pc->fields[i].value;
        if (object_header(nm)) {
            h[n++] = (kv_t){nm, v};
        } else if (sv_caseeq_cstr(nm, "acl")) {
            h[n++] = (kv_t){SV("x-amz-acl"), v};
        } else if (sv_caseeq_cstr(nm, "tagging")) {
            tag_set_t ts;
            tag_err_t te;
            int rc = tagging_parse_xml(q->a, v.p, v.len, 10, &ts, &te);
            if (rc) {
                q->err_msg = te.msg;
                return rc;
            }
            buf_t b = BUF_INIT;
            tagging_encode_header(&b, ts.tags, ts.n);
            h[n++] = (kv_t){SV("x-amz-tagging"), dup_sv(q->a, buf_sv(&b))};
            buf_release(&b);
        }
    }
    for (size_t i = 0; i < hr->nheaders; i++) {
        sv_t nm = hr->headers[i].name;
        if (nm.len >= 8 && sv_caseeq_cstr((sv_t){nm.p, 8}, "content-"))
            continue;
        if (nm.len >= 6 && sv_caseeq_cstr((sv_t){nm.p, 6}, "x-amz-"))
            continue;
        if (sv_caseeq_cstr(nm, "expires") || sv_caseeq_cstr(nm, "cache-control") ||
            sv_caseeq_cstr(nm, "transfer-encoding"))
            continue;
        h[n++] = hr->headers[i];
    }
    hr->headers = h;
    hr->nheaders = n;
    return 0;
}

/* All fields are in: authenticate, check the policy, authorize, start the object. */
static int file_begins(rq_t *q, struct post_ctx *pc)
{
    int rc;
    sv_t key = field(pc, "key");
    if (!key.p) {
        q->err_msg = "Bucket POST must contain a field named 'key'.  If it is specified, please "
                     "check the order of the fields.";
        return -SE_INVALID_ARGUMENT;
    }
    /* ${filename} in the key is the file's name as the browser sent it */
    sv_t fn = pc->filename.p ? pc->filename : SV("");
    buf_t kb = BUF_INIT;
    for (size_t i = 0; i < key.len;) {
        if (key.len - i >= 11 && memcmp(key.p + i, "${filename}", 11) == 0) {
            buf_putsv(&kb, fn);
            i += 11;
        } else {
            buf_putc(&kb, key.p[i++]);
        }
    }
    sv_t k = dup_sv(q->a, buf_sv(&kb));
    buf_release(&kb);
    if (k.len == 0) {
        q->err_msg = "User key must have a length greater than 0.";
        return -SE_INVALID_ARGUMENT;
    }
    if (k.len > MAX_KEY_LEN)
        return -SE_KEY_TOO_LONG;

    sv_t policy = field(pc, "policy");
    bool v4 = field(pc, "x-amz-algorithm").p || field(pc, "x-amz-signature").p;
    bool v2 = field(pc, "awsaccesskeyid").p || field(pc, "signature").p;
    if (policy.p && policy.len) {
        const char *msg;
        if ((rc = postpolicy_parse(q->a, policy, &pc->policy, &msg)) != 0) {
            q->err_msg = msg;
            return rc;
        }
        pc->has_policy = true;
        rc = v4 ? auth_v4(q, pc, sv_trim(policy)) : v2 ? auth_v2(q, pc, sv_trim(policy)) : 0;
        if (!v4 && !v2) {
            q->err_msg = "Bucket POST must contain a field named 'AWSAccessKeyId' or "
                         "'x-amz-credential'.  If it is specified, please check the order of "
                         "the fields.";
            return -SE_INVALID_ARGUMENT;
        }
        if (rc)
            return rc;
        q->anonymous = false;
        /* the policy judges the key the object gets: ${filename} already replaced (ceph
         * s3-tests' test_post_object_set_key_from_filename: "starts-with $key foo" lets
         * key=${filename} with foo.txt through) */
        kv_t *fields = arena_alloc(q->a, (pc->nfields + 1) * sizeof *fields);
        for (size_t i = 0; i < pc->nfields; i++) {
            fields[i] = pc->fields[i];
            if (sv_caseeq_cstr(fields[i].name, "key"))
                fields[i].value = k;
        }
        if ((rc = postpolicy_check(q->a, &pc->policy, now_ms() / 1000, fields, pc->nfields,
                                   q->route.bucket, &msg)) != 0) {
            q->err_msg = msg;
            return rc;
        }
    } else if (v4 || v2) {
        q->err_msg = "Bucket POST must contain a field named 'policy'.  If it is specified, "
                     "please check the order of the fields.";
        return -SE_INVALID_ARGUMENT;
    } /* else: an anonymous upload, allowed only where anonymous writes are */

    if ((rc = build_headers(q, pc)) != 0)
        return rc;
    q->route.key = k;
    q->route.has_key = true;
    if (!utf8_valid(k))
        return -SE_INVALID_URI;
    /* authorized as the PutObject it is (api/authz.c), then the same checks and setup */
    q->op = S3_OP_PUT_OBJECT;
    rc = authz_request(q);
    q->op = S3_OP_POST_OBJECT;
    if (rc)
        return rc;
    const char *sse_msg = NULL;
    if ((rc = rq_sse_check(q, &sse_msg)) != 0) {
        q->err_msg = sse_msg;
        return rc;
    }
    q->sig.payload = PAYLOAD_UNSIGNED; /* the policy is what was signed, not the body */
    if ((rc = rq_body_setup(q, BODY_OBJECT, q->api->cfg.max_put_size)) != 0)
        return rc;
    return 0;
}

/* ---- the form parser's callbacks --------------------------------------------------------- */

static int on_part_begin(void *ud, const postform_part_t *part)
{
    rq_t *q = ud;
    struct post_ctx *pc = q->postctx;
    if (pc->file_done)
        return 0;
    if (sv_caseeq_cstr(part->name, "file")) {
        pc->file_seen = true;
        pc->in_file = true;
        pc->filename = part->filename.p ? dup_sv(q->a, part->filename) : SV_NULL;
        /* the file part's own Content-Type is not the object's: the Content-Type field is */
        int rc = file_begins(q, pc);
        if (rc)
            return rc;
        /* put_object_begin answers its errors itself: take its code and message back */
        http_resp_t scratch;
        memset(&scratch, 0, sizeof scratch);
        if (put_object_begin(q, &scratch) != 0) {
            rc = rq_last_error(q, &q->err_msg);
            return rc ? rc : -SE_INTERNAL;
        }
        return 0;
    }
    if (pc->nfields == MAX_FIELDS) {
        q->err_msg = "Too many form fields.";
        return -SE_MALFORMED_POST_REQUEST;
    }
    pc->fields[pc->nfields].name = dup_sv(q->a, part->name);
    buf_clear(&pc->cur);
    return 0;
}

static int on_part_data(void *ud, const char *p, size_t n)
{
    rq_t *q = ud;
    struct post_ctx *pc = q->postctx;
    if (pc->file_done)
        return 0;
    if (pc->in_file)
        return body_sink(q, p, n);
    if (pc->field_bytes + n > MAX_FIELD_BYTES) {
        q->err_msg = "Your POST request fields preceding the upload file were too large.";
        return -SE_MAX_POST_PRE_DATA;
    }
    pc->field_bytes += n;
    buf_append(&pc->cur, p, n);
    return 0;
}

static int on_part_end(void *ud)
{
    rq_t *q = ud;
    struct post_ctx *pc = q->postctx;
    if (pc->file_done)
        return 0;
    if (pc->in_file) {
        pc->in_file = false;
        pc->file_done = true;
        return 0;
    }
    pc->fields[pc->nfields].value = dup_sv(q->a, buf_sv(&pc->cur));
    pc->nfields++;
    return 0;
}

static void post_cleanup(void *arg)
{
    struct post_ctx *pc = arg;
    buf_release(&pc->cur);
}

/* ---- the operation ----------------------------------------------------------------------- */

int post_object_begin(rq_t *q, http_resp_t *resp)
{
    sv_t boundary;
    if (postform_boundary(rq_header(q, "content-type"), &boundary) != 0) {
        resp_error(q, resp, -SE_PRECONDITION_FAILED,
                   "Bucket POST must be of the enclosure-type multipart/form-data");
        return HTTP_RESPOND;
    }
    if (!q->hr->has_length && !q->hr->chunked) {
        resp_error(q, resp, -SE_MISSING_CONTENT_LENGTH, NULL);
        return HTTP_RESPOND;
    }
    struct post_ctx *pc = arena_calloc(q->a, 1, sizeof *pc);
    arena_on_free(q->a, post_cleanup, pc);
    static const postform_cb_t cb = {on_part_begin, on_part_data, on_part_end};
    postform_init(&pc->form, boundary, &cb, q);
    q->postctx = pc;
    q->on_end = post_object_end;
    return HTTP_WANT_BODY;
}

int post_object_feed(rq_t *q, const char *p, size_t n)
{
    struct post_ctx *pc = q->postctx;
    int rc = postform_feed(&pc->form, p, n);
    if (rc && !q->err_msg && rc == -SE_MALFORMED_POST_REQUEST)
        q->err_msg = NULL;
    return rc;
}

void post_object_end(rq_t *q, http_resp_t *resp)
{
    struct post_ctx *pc = q->postctx;
    int rc = postform_finish(&pc->form);
    if (rc == 0 && !pc->file_done)
        rc = -SE_POST_FILE_COUNT;
    if (rc == 0 && pc->has_policy && pc->policy.has_range) {
        if ((int64_t)q->received < pc->policy.range_min)
            rc = -SE_ENTITY_TOO_SMALL;
        else if ((int64_t)q->received > pc->policy.range_max)
            rc = -SE_ENTITY_TOO_LARGE;
    }
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    put_object_end(q, resp);
    if (resp->status != 200)
        return;

    const char *etag = "";
    for (size_t i = 0; i < resp->nheaders; i++)
        if (sv_caseeq_cstr(resp->headers[i].name, "etag"))
            etag = arena_svdup(q->a, resp->headers[i].value);
    sv_t host = rq_header(q, "host");
    buf_t loc = BUF_INIT;
    buf_printf(&loc, "%s://%.*s/", q->hr->listener && q->hr->listener->tls ? "https" : "http",
               SV_ARG(host));
    if (!q->route.virtual_host) {
        sv_uri_encode(&loc, q->route.bucket, false);
        buf_putc(&loc, '/');
    }
    sv_uri_encode(&loc, q->route.key, true);
    char *location = arena_strndup(q->a, loc.p, loc.len);
    buf_release(&loc);

    sv_t redirect = field(pc, "success_action_redirect");
    if (!redirect.p)
        redirect = field(pc, "redirect");
    if (redirect.p && (sv_starts_with(redirect, SV("http://")) ||
                       sv_starts_with(redirect, SV("https://")))) {
        buf_t u = BUF_INIT;
        buf_putsv(&u, redirect);
        buf_putc(&u, memchr(redirect.p, '?', redirect.len) ? '&' : '?');
        buf_puts(&u, "bucket=");
        sv_uri_encode(&u, q->route.bucket, false);
        buf_puts(&u, "&key=");
        sv_uri_encode(&u, q->route.key, false);
        buf_puts(&u, "&etag=");
        sv_uri_encode(&u, sv_from_cstr(etag), false);
        char *url = arena_strndup(q->a, u.p, u.len);
        buf_release(&u);
        resp->status = 303;
        resp_header(q, resp, "Location", url);
        return;
    }
    resp_header(q, resp, "Location", location);
    sv_t st = field(pc, "success_action_status");
    if (sv_eq_cstr(st, "201")) {
        buf_t x = BUF_INIT;
        buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>");
        xml_elem(&x, "Location", sv_from_cstr(location));
        xml_elem(&x, "Bucket", q->route.bucket);
        xml_elem(&x, "Key", q->route.key);
        xml_elem(&x, "ETag", sv_from_cstr(etag));
        buf_puts(&x, "</PostResponse>");
        resp->status = 201;
        resp_header(q, resp, "Content-Type", "application/xml");
        resp->body = arena_strndup(q->a, x.p, x.len);
        resp->body_len = x.len;
        buf_release(&x);
    } else if (!sv_eq_cstr(st, "200")) {
        resp->status = 204;
    }
}
