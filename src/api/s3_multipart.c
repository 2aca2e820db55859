/* api/s3_multipart: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads, and GET/HEAD ?partNumber=N.
 *
 * UploadPart streams through the same body pipeline as PutObject (signed, unsigned and
 * aws-chunked payloads, Content-MD5, x-amz-checksum-*) into a store part writer; the part
 * becomes visible only when the whole body arrived and checked out. Complete validates the
 * request (XML, part numbers, ascending order), verifies any part checksums the client sends,
 * computes the composite checksum when the upload has an algorithm, and leaves the rest
 * (every part present with its ETag, 5 MiB minimum but for the last, 5 TiB maximum) to
 * store_mpu_complete, which checks and commits atomically: no data is copied, and a failure
 * leaves the upload as it was. Limits are AWS's: parts 1..10,000, up to 5 GiB each, objects up
 * to 5 TiB.
 */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "s3/range.h"
#include "s3/xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PART_NUMBER_MSG "Part number must be an integer between 1 and 10000, inclusive"

/* ---- helpers ------------------------------------------------------------------------------ */

static sv_t upload_id_param(rq_t *q)
{
    bool present = false;
    return s3_param(&q->route, "uploadId", &present);
}

/* partNumber: 1..10,000. */
static int part_number_param(rq_t *q, uint32_t *out)
{
    bool present = false;
    sv_t v = s3_param(&q->route, "partNumber", &present);
    uint64_t n;
    if (!present || sv_to_u64(v, &n) != 0 || n < 1 || n > STORE_MPU_MAX_PARTS)
        return -SE_INVALID_ARGUMENT;
    *out = (uint32_t)n;
    return 0;
}

/* An optional non-negative integer query parameter (max-parts, part-number-marker, ...). */
static int uint_param(rq_t *q, const char *name, uint64_t dflt, uint64_t *out)
{
    bool present = false;
    sv_t v = s3_param(&q->route, name, &present);
    *out = dflt;
    if (!present)
        return 0;
    return sv_to_u64(v, out) == 0 ? 0 : -SE_INVALID_ARGUMENT;
}

/* Initiator and Owner of an upload: the account that created it (an upload in another
 * account's bucket, through a bucket policy or ACL, is its creator's, not the bucket owner's). */
static void owner_elems(rq_t *q, buf_t *b, owner_cache_t *c, const char *owner_id)
{
    const account_t *a = owner_lookup(q, c, owner_id);
    if (!a)
        return;
    owner_xml(b, "Initiator", a);
    owner_xml(b, "Owner", a);
}

/* "x-amz-checksum-crc32" for "CRC32" (into out, >= 48 bytes). */
static void checksum_header(const char *algo, char *out)
{
    snprintf(out, 48, "x-amz-checksum-%s", algo);
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
}

/* The additional checksum of the request body (header or trailer, verified by the body
 * pipeline; or computed for a FULL_OBJECT upload), whose base64 value is in q->cksum_expect. */
static enum cksum_algo body_checksum_algo(rq_t *q)
{
    return q->cksum_expect.len ? q->cksum_algo : CKSUM_NONE;
}

/* S3 names algorithms in lower case in some messages ("sha256"); into the arena. */
static const char *algo_lower(rq_t *q, const char *name)
{
    char *s = arena_strndup(q->a, name, strlen(name));
    for (char *c = s; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return s;
}

/* An upload's checksum type: "" without an algorithm; as recorded; or, for an upload record
 * written before the type was kept, S3's default (FULL_OBJECT for CRC64NVME, else COMPOSITE). */
static const char *upload_checksum_type(const store_obj_t *up)
{
    if (!up->checksum_algo[0])
        return "";
    if (up->checksum_type[0])
        return up->checksum_type;
    return strcmp(up->checksum_algo, "CRC64NVME") == 0 ? "FULL_OBJECT" : "COMPOSITE";
}

/* x-amz-checksum-type: "COMPOSITE" or "FULL_OBJECT" (any case), or NULL. */
static const char *checksum_type_param(sv_t v)
{
    v = sv_trim(v);
    if (sv_caseeq_cstr(v, "COMPOSITE"))
        return "COMPOSITE";
    if (sv_caseeq_cstr(v, "FULL_OBJECT"))
        return "FULL_OBJECT";
    return NULL;
}

static sv_t strip_quotes(sv_t e)
{
    e = sv_trim(e);
    if (e.len >= 2 && e.p[0] == '"' && e.p[e.len - 1] == '"')
        e = (sv_t){e.p + 1, e.len - 2};
    else if (e.len >= 12 && memcmp(e.p, "&quot;", 6) == 0 &&
             memcmp(e.p + e.len - 6, "&quot;", 6) == 0)
        e = (sv_t){e.p + 6, e.len - 12};
    return e;
}

/* ---- CreateMultipartUpload ----------------------------------------------------------------- */

void op_create_multipart(rq_t *q, http_resp_t *resp)
{
    store_obj_t meta = {0};
    int rc;
    sv_t sc = rq_header(q, "x-amz-storage-class");
    if (sc.p && !storage_class_valid(sc)) {
        resp_error(q, resp, -SE_INVALID_STORAGE_CLASS, NULL);
        return;
    }
    snprintf(meta.storage_class, sizeof meta.storage_class, SV_FMT,
             SV_ARG(sc.p ? sc : SV("STANDARD")));
    if ((rc = collect_attrs(q, &meta)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    if ((rc = tagging_from_header(q, &meta)) != 0) { /* the object gets them on Complete */
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    /* x-amz-acl / x-amz-grant-*: kept with the upload, applied to the object on Complete */
    if ((rc = acl_upload_doc(q, &meta.acl)) != 0) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    sv_t ca = rq_header(q, "x-amz-checksum-algorithm");
    if (ca.p) {
        enum cksum_algo algo = cksum_algo_parse(sv_trim(ca));
        if (algo == CKSUM_NONE) {
            resp_error(q, resp, -SE_INVALID_REQUEST, CKSUM_UNSUPPORTED_MSG);
            return;
        }
        snprintf(meta.checksum_algo, sizeof meta.checksum_algo, "%s", cksum_algo_name(algo));
    }
    /* x-amz-checksum-type: how the parts' values combine into the object's. S3's rules:
     * CRC64NVME is FULL_OBJECT only, SHA1/SHA256 COMPOSITE only, CRC32/CRC32C either
     * (COMPOSITE by default). */
    sv_t ct = rq_header(q, "x-amz-checksum-type");
    const char *type = NULL;
    if (ct.p && !(type = checksum_type_param(ct))) {
        resp_error(q, resp, -SE_INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
        return;
    }
    if (type && !meta.checksum_algo[0]) {
        resp_error(q, resp, -SE_INVALID_REQUEST,
                   "The x-amz-checksum-type header can only be used with the "
                   "x-amz-checksum-algorithm header.");
        return;
    }
    if (meta.checksum_algo[0]) {
        bool crc64 = strcmp(meta.checksum_algo, "CRC64NVME") == 0;
        bool sha = strncmp(meta.checksum_algo, "SHA", 3) == 0;
        if (!type)
            type = crc64 ? "FULL_OBJECT" : "COMPOSITE";
        bool full = strcmp(type, "FULL_OBJECT") == 0;
        if ((full && sha) || (!full && crc64)) {
            resp_error(q, resp, -SE_INVALID_REQUEST,
                       arena_sprintf(q->a, "The %s checksum type cannot be used with the %s "
                                           "checksum algorithm.",
                                     type, algo_lower(q, meta.checksum_algo)));
            return;
        }
        snprintf(meta.checksum_type, sizeof meta.checksum_type, "%s", type);
    }
    snprintf(meta.owner, sizeof meta.owner, "%s", q->acct.id);
    char id[STORE_UPLOAD_ID_LEN + 1];
    if ((rc = store_mpu_create(q->api->store, q->route.bucket, q->route.key, &meta, id)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "InitiateMultipartUploadResult");
    xml_elem(&b, "Bucket", q->route.bucket);
    xml_elem(&b, "Key", q->route.key);
    xml_elem_c(&b, "UploadId", id);
    buf_puts(&b, "</InitiateMultipartUploadResult>");
    resp_xml(q, resp, 200, &b);
    if (meta.checksum_algo[0]) {
        resp_header(q, resp, "x-amz-checksum-algorithm", meta.checksum_algo);
        resp_header(q, resp, "x-amz-checksum-type", meta.checksum_type);
    }
}

/* ---- UploadPart ----------------------------------------------------------------------------- */

struct part_ctx {
    uint32_t part_number;
};

int upload_part_begin(rq_t *q, http_resp_t *resp)
{
    http_req_t *hr = q->hr;
    struct part_ctx *pc = arena_calloc(q->a, 1, sizeof *pc);
    const char *msg = NULL;
    int rc;
    q->opctx = pc;
    if (!hr->has_length && !hr->chunked && !q->have_decoded_len) {
        rc = -SE_MISSING_CONTENT_LENGTH;
        goto fail;
    }
    if ((rc = part_number_param(q, &pc->part_number)) != 0) {
        msg = PART_NUMBER_MSG;
        goto fail;
    }
    sv_t cmd5 = rq_header(q, "content-md5");
    uint8_t md5[16];
    if (cmd5.p && base64_decode(sv_trim(cmd5), md5, sizeof md5) != 16) {
        rc = -SE_INVALID_DIGEST; /* refused before the body is read; compared at the end */
        goto fail;
    }
    store_obj_t up;
    if ((rc = store_mpu_get(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), q->a,
                            &up)) != 0)
        goto fail;
    /* For an upload with an algorithm, a part's checksum (header or trailer, set up by the body
     * pipeline) must be of that algorithm. Without one: refused for a COMPOSITE upload (its
     * value is made of the parts' values), computed here for a FULL_OBJECT one (S3 does the
     * same: the object's CRC is combined from the parts'). */
    enum cksum_algo ualgo = cksum_algo_parse(sv_from_cstr(up.checksum_algo));
    if (ualgo != CKSUM_NONE && q->cksum_algo != ualgo) {
        if (q->cksum_algo == CKSUM_NONE &&
            strcmp(upload_checksum_type(&up), "FULL_OBJECT") == 0) {
            body_checksum_compute(q, ualgo);
        } else {
            rc = -SE_INVALID_REQUEST;
            msg = arena_sprintf(q->a, "Checksum Type mismatch occurred, expected checksum Type: "
                                      "%s, actual checksum Type: %s",
                                algo_lower(q, up.checksum_algo),
                                q->cksum_algo == CKSUM_NONE
                                    ? "null"
                                    : algo_lower(q, cksum_algo_name(q->cksum_algo)));
            goto fail;
        }
    }
    rc = store_part_put_begin(q->api->store, q->route.bucket, q->route.key, upload_id_param(q),
                              pc->part_number, &q->put);
    if (rc)
        goto fail;
    return 0;
fail:
    resp_error(q, resp, rc, msg);
    return -1;
}

void upload_part_end(rq_t *q, http_resp_t *resp)
{
    struct part_ctx *pc = q->opctx;
    uint8_t md5[16];
    int vrc = body_md5_verify(q, false, md5);
    if (vrc) {
        resp_error(q, resp, vrc, NULL);
        return;
    }
    store_part_t pm = {.part_number = pc->part_number};
    hex_encode(md5, 16, pm.etag);
    enum cksum_algo algo = body_checksum_algo(q);
    if (algo != CKSUM_NONE) {
        snprintf(pm.checksum_algo, sizeof pm.checksum_algo, "%s", cksum_algo_name(algo));
        snprintf(pm.checksum, sizeof pm.checksum, SV_FMT, SV_ARG(q->cksum_expect));
    }
    store_put_t *p = q->put;
    q->put = NULL; /* commit frees it whatever happens */
    int rc = store_part_commit(p, &pm);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    char etag[80];
    fmt_etag(pm.etag, etag);
    resp_empty(q, resp, 200);
    resp_header(q, resp, "ETag", etag);
    if (pm.checksum_algo[0]) {
        char name[48];
        checksum_header(pm.checksum_algo, name);
        resp_header(q, resp, name, pm.checksum);
    }
}

/* ---- UploadPartCopy ------------------------------------------------------------------------- */

/* x-amz-copy-source-range: "bytes=first-last", both present, first <= last < size. */
static int copy_source_range(rq_t *q, uint64_t size, uint64_t *first, uint64_t *len,
                             const char **msg)
{
    sv_t r = rq_header(q, "x-amz-copy-source-range");
    *first = 0;
    *len = size;
    if (!r.p)
        return 0;
    r = sv_trim(r);
    bool found;
    sv_t a, b;
    if (!sv_starts_with(r, SV("bytes="))) {
        *msg = "The x-amz-copy-source-range value must be of the form bytes=first-last where "
               "first and last are the zero-based offsets of the first and last bytes to copy";
        return -SE_INVALID_ARGUMENT;
    }
    b = sv_split((sv_t){r.p + 6, r.len - 6}, '-', &a, &found);
    uint64_t f, l;
    if (!found || sv_to_u64(a, &f) != 0 || sv_to_u64(b, &l) != 0 || f > l) {
        *msg = "The x-amz-copy-source-range value must be of the form bytes=first-last where "
               "first and last are the zero-based offsets of the first and last bytes to copy";
        return -SE_INVALID_ARGUMENT;
    }
    if (l >= size) {
        *msg = arena_sprintf(q->a, "Range specified is not valid for source object of size: %llu",
                             (unsigned long long)size);
        return -SE_INVALID_ARGUMENT;
    }
    *first = f;
    *len = l - f + 1;
    return 0;
}

void op_upload_part_copy(rq_t *q, http_resp_t *resp)
{
    uint32_t pn;
    const char *msg = NULL;
    int rc = part_number_param(q, &pn);
    if (rc) {
        resp_error(q, resp, rc, PART_NUMBER_MSG);
        return;
    }
    sv_t sbucket, skey;
    const char *sversion;
    if ((rc = parse_copy_source(q, &sbucket, &skey, &sversion)) != 0) {
        resp_error(q, resp, rc,
                   "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        return;
    }
    store_bucket_t sb;
    if ((rc = store_bucket_get(q->api->store, sbucket, &sb)) != 0 ||
        (rc = check_source_owner(q, &sb)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    /* s3:GetObject on the source was authorized with the request (api/authz.c) */
    /* the upload first: a bogus id is NoSuchUpload whatever the source */
    store_obj_t up;
    if ((rc = store_mpu_get(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), q->a,
                            &up)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    store_obj_t src;
    store_read_t *rd = NULL;
    if ((rc = store_get(q->api->store, sbucket, skey, sversion, q->a, &src, &rd)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    uint64_t first, len;
    store_put_t *p = NULL;
    if ((rc = check_conditions(q, &src, "x-amz-copy-source-", true)) != 0)
        goto fail_rd;
    if ((rc = copy_source_range(q, src.size, &first, &len, &msg)) != 0)
        goto fail_rd;
    if (len > STORE_PART_MAX) {
        rc = -SE_INVALID_REQUEST;
        msg = "The specified copy source is larger than the maximum allowable size for a copy "
              "source: 5368709120";
        goto fail_rd;
    }
    if ((rc = store_part_put_begin(q->api->store, q->route.bucket, q->route.key,
                                   upload_id_param(q), pn, &p)) != 0)
        goto fail_rd;
    /* an upload with an algorithm gets the copied bytes' value, as S3 computes it */
    enum cksum_algo ualgo = cksum_algo_parse(sv_from_cstr(up.checksum_algo));
    cksum_t ck;
    if (ualgo != CKSUM_NONE)
        cksum_init(&ck, ualgo);
    uint8_t raw[16];
    rc = copy_stream(rd, first, len, p, raw, ualgo != CKSUM_NONE ? &ck : NULL);
    store_read_close(rd);
    if (rc) {
        if (ualgo != CKSUM_NONE)
            cksum_free(&ck);
        store_put_abort(p);
        resp_error(q, resp, rc, NULL);
        return;
    }
    store_part_t pm = {.part_number = pn};
    hex_encode(raw, 16, pm.etag);
    if (ualgo != CKSUM_NONE) {
        snprintf(pm.checksum_algo, sizeof pm.checksum_algo, "%s", cksum_algo_name(ualgo));
        cksum_final_b64(&ck, pm.checksum);
    }
    if ((rc = store_part_commit(p, &pm)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    char etag[80], lm[32];
    fmt_etag(pm.etag, etag);
    fmt_iso8601(pm.mtime_ms, lm);
    buf_t b = BUF_INIT;
    xml_begin(&b, "CopyPartResult");
    xml_elem_c(&b, "LastModified", lm);
    xml_elem_c(&b, "ETag", etag);
    if (pm.checksum_algo[0]) {
        char el[32];
        snprintf(el, sizeof el, "Checksum%s", pm.checksum_algo);
        xml_elem_c(&b, el, pm.checksum);
    }
    buf_puts(&b, "</CopyPartResult>");
    resp_xml(q, resp, 200, &b);
    if (src.version_id[0])
        resp_header(q, resp, "x-amz-copy-source-version-id", src.version_id);
    return;
fail_rd:
    store_read_close(rd);
    resp_error(q, resp, rc, msg);
}

/* ---- CompleteMultipartUpload ---------------------------------------------------------------- */

static const char *missing_part_msg(rq_t *q, const store_obj_t *up, uint32_t part_number)
{
    return arena_sprintf(q->a, "The upload was created using a %s checksum. The complete "
                               "request must include the checksum for each part. It was "
                               "missing for part %u in the request.",
                         algo_lower(q, up->checksum_algo), part_number);
}

/* The object's checksum for an upload created with an algorithm (docs/checksums.md), into
 * meta: COMPOSITE, the algorithm over the parts' raw values concatenated, "-N"; FULL_OBJECT, the
 * parts' CRCs combined with their sizes (cksum_full_object_b64, no data read). S3's checks on
 * the part values in the request: malformed is InvalidArgument; missing, for a COMPOSITE
 * upload, InvalidRequest. The value is made from the client's part values where given, so that
 * an x-amz-checksum-<algo> header is compared (BadDigest) with what the client stated before a
 * part value that differs from the stored one is reported (*part_mismatch: InvalidPart), as S3
 * orders them. */
static int object_checksum(rq_t *q, const store_obj_t *up, const store_mpu_part_ref_t *refs,
                           const sv_t *client_ck, size_t n, store_obj_t *meta,
                           bool *part_mismatch, const char **msg)
{
    enum cksum_algo algo = cksum_algo_parse(sv_from_cstr(up->checksum_algo));
    const char *type = upload_checksum_type(up);
    bool composite = strcmp(type, "COMPOSITE") == 0;
    size_t rawlen = cksum_raw_len(algo);
    uint8_t raw[64];
    *part_mismatch = false;
    for (size_t i = 0; i < n; i++) {
        if (client_ck[i].p && cksum_b64_decode(algo, sv_trim(client_ck[i]), raw) != 0) {
            *msg = "Invalid Base64 or multiple checksums present in request";
            q->err_extra = arena_sprintf(q->a, "<ArgumentName>Checksum</ArgumentName>"
                                               "<ArgumentValue>%s:" SV_FMT ";</ArgumentValue>",
                                         up->checksum_algo, SV_ARG(sv_trim(client_ck[i])));
            return -SE_INVALID_ARGUMENT;
        }
        if (!client_ck[i].p && composite) {
            *msg = missing_part_msg(q, up, refs[i].part_number);
            return -SE_INVALID_REQUEST;
        }
    }
    store_part_list_result_t pl;
    int rc = store_part_list(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), 0,
                             STORE_MPU_MAX_PARTS, q->a, &pl);
    if (rc)
        return rc;
    uint8_t *cat = arena_alloc(q->a, rawlen * n + 1);
    sv_t *vals = arena_calloc(q->a, n, sizeof *vals);
    uint64_t *sizes = arena_calloc(q->a, n, sizeof *sizes);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        while (j < pl.nparts && pl.parts[j].part_number < refs[i].part_number)
            j++;
        const store_part_t *p =
            j < pl.nparts && pl.parts[j].part_number == refs[i].part_number ? &pl.parts[j] : NULL;
        if (!p)
            return -SE_INVALID_PART;
        /* every part has a stored value of the algorithm (UploadPart saw to it; older parts,
         * or ones copied before copies were checksummed, may lack one) */
        if (strcasecmp(p->checksum_algo, up->checksum_algo) != 0 ||
            cksum_b64_decode(algo, sv_from_cstr(p->checksum), raw) != 0) {
            *msg = missing_part_msg(q, up, refs[i].part_number);
            return -SE_INVALID_REQUEST;
        }
        vals[i] = sv_from_cstr(p->checksum);
        if (client_ck[i].p) {
            sv_t c = sv_trim(client_ck[i]);
            if (!sv_eq(c, vals[i]))
                *part_mismatch = true;
            vals[i] = c;
            cksum_b64_decode(algo, c, raw);
        }
        memcpy(cat + rawlen * i, raw, rawlen);
        sizes[i] = p->size;
    }
    char b64[64];
    snprintf(meta->checksum_algo, sizeof meta->checksum_algo, "%s", cksum_algo_name(algo));
    snprintf(meta->checksum_type, sizeof meta->checksum_type, "%s", type);
    if (!composite) {
        if (cksum_full_object_b64(algo, vals, sizes, n, b64) != 0)
            return -SE_INTERNAL; /* the values were checked above */
        snprintf(meta->checksum, sizeof meta->checksum, "%s", b64);
    } else {
        cksum_t c;
        cksum_init(&c, algo);
        cksum_update(&c, cat, rawlen * n);
        cksum_final_b64(&c, b64);
        snprintf(meta->checksum, sizeof meta->checksum, "%s-%zu", b64, n);
    }
    return 0;
}

/* x-amz-checksum-type and x-amz-checksum-<algo> on Complete state the object's checksum type
 * and value. For an upload created with an algorithm: the type must be the upload's; the value
 * must be of its algorithm, well-formed (base64 of the algorithm's size; a COMPOSITE value may
 * carry its "-N" suffix) and equal the computed one (BadDigest, algorithm in lower case as S3
 * writes it there). For an upload without one, S3 accepts the value unchecked (it then
 * stores its own default checksum): so does this. */
static int check_object_checksum_header(rq_t *q, enum cksum_algo ualgo, const char *utype,
                                        size_t nparts, const store_obj_t *meta, const char **msg)
{
    sv_t ct = rq_header(q, "x-amz-checksum-type");
    if (ct.p) {
        const char *t = checksum_type_param(ct);
        if (!t) {
            *msg = "Value for x-amz-checksum-type header is invalid.";
            return -SE_INVALID_REQUEST;
        }
        if (ualgo != CKSUM_NONE && strcmp(t, utype) != 0) {
            *msg = arena_sprintf(q->a, "The upload was created using the %s checksum mode. The "
                                       "complete request must use the same checksum mode.",
                                 utype);
            return -SE_INVALID_REQUEST;
        }
    }
    if (ualgo == CKSUM_NONE)
        return 0;
    bool composite = strcmp(utype, "COMPOSITE") == 0;
    for (int a = CKSUM_CRC32; a <= CKSUM_SHA256; a++) {
        sv_t v = rq_header(q, cksum_header_name((enum cksum_algo)a));
        if (!v.p)
            continue;
        v = sv_trim(v);
        bool has_n;
        sv_t base, suffix = sv_split(v, '-', &base, &has_n);
        uint64_t n = 0;
        uint8_t raw[64];
        if (cksum_b64_decode((enum cksum_algo)a, base, raw) != 0 ||
            (has_n && (!composite || sv_to_u64(suffix, &n) != 0 || n < 1 ||
                       n > STORE_MPU_MAX_PARTS))) {
            *msg = arena_sprintf(q->a, "Value for %s header is invalid.",
                                 cksum_header_name((enum cksum_algo)a));
            return -SE_INVALID_REQUEST;
        }
        if (a != (int)ualgo) {
            *msg = arena_sprintf(q->a, "The upload was created using %s checksum; %s was sent.",
                                 cksum_algo_name(ualgo), cksum_header_name((enum cksum_algo)a));
            return -SE_INVALID_REQUEST;
        }
        sv_t have_base;
        sv_split(sv_from_cstr(meta->checksum), '-', &have_base, NULL);
        if (!sv_eq(base, have_base) || (has_n && n != nparts)) {
            *msg = arena_sprintf(q->a, "The %s you specified did not match the calculated "
                                       "checksum.",
                                 algo_lower(q, cksum_algo_name((enum cksum_algo)a)));
            return -SE_BAD_CHECKSUM;
        }
    }
    return 0;
}

void op_complete_multipart(rq_t *q, http_resp_t *resp)
{
    const char *msg = NULL;
    int rc;
    store_obj_t up;
    if ((rc = store_mpu_get(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), q->a,
                            &up)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    xml_node_t *root = xml_parse(q->a, q->body.p ? q->body.p : "", q->body.len, &rc);
    if (!root || !sv_eq_cstr(root->name, "CompleteMultipartUpload")) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    size_t n = 0;
    for (xml_node_t *p = xml_child(root, "Part"); p; p = xml_next_named(p))
        n++;
    if (n == 0 || n > STORE_MPU_MAX_PARTS) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    store_mpu_part_ref_t *refs = arena_calloc(q->a, n, sizeof *refs);
    sv_t *client_ck = arena_calloc(q->a, n, sizeof *client_ck);
    enum cksum_algo ualgo = cksum_algo_parse(sv_from_cstr(up.checksum_algo));
    size_t i = 0;
    for (xml_node_t *p = xml_child(root, "Part"); p; p = xml_next_named(p), i++) {
        sv_t pn = xml_child_text(p, "PartNumber"), et = xml_child_text(p, "ETag");
        uint64_t v;
        if (!pn.p || !et.p || sv_to_u64(sv_trim(pn), &v) != 0) {
            resp_error(q, resp, -SE_MALFORMED_XML, NULL);
            return;
        }
        if (v < 1 || v > STORE_MPU_MAX_PARTS) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, PART_NUMBER_MSG);
            return;
        }
        refs[i].part_number = (uint32_t)v;
        refs[i].etag = arena_svdup(q->a, strip_quotes(et));
        for (int a = CKSUM_CRC32; a <= CKSUM_SHA256; a++) {
            sv_t c = xml_child_text(p, checksum_elem(a));
            if (!c.p)
                continue;
            if (a != (int)ualgo) {
                resp_error(q, resp, -SE_INVALID_PART, NULL);
                return;
            }
            client_ck[i] = c;
        }
    }
    for (i = 1; i < n; i++)
        if (refs[i].part_number <= refs[i - 1].part_number) {
            resp_error(q, resp, -SE_INVALID_PART_ORDER, NULL);
            return;
        }
    store_obj_t meta = {0};
    bool part_mismatch = false;
    if (ualgo != CKSUM_NONE &&
        (rc = object_checksum(q, &up, refs, client_ck, n, &meta, &part_mismatch, &msg)) != 0) {
        resp_error(q, resp, rc, msg);
        return;
    }
    if ((rc = check_object_checksum_header(q, ualgo, upload_checksum_type(&up), n, &meta,
                                           &msg)) != 0) {
        resp_error(q, resp, rc, msg);
        return;
    }
    if (part_mismatch) { /* a part's value in the request is not the one uploaded */
        resp_error(q, resp, -SE_INVALID_PART, NULL);
        return;
    }
    store_cond_t cond = {0};
    sv_t inm = rq_header(q, "if-none-match");
    if (inm.p) {
        if (!sv_eq_cstr(sv_trim(inm), "*")) {
            resp_error(q, resp, -SE_NOT_IMPLEMENTED, NULL);
            return;
        }
        cond.if_none_match_any = true;
    }
    sv_t im = rq_header(q, "if-match");
    if (im.p)
        cond.if_match_etag = arena_svdup(q->a, strip_quotes(im));
    store_obj_t res;
    rc = store_mpu_complete(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), refs,
                            n, &meta, &cond, q->a, &res);
    if (!rc)
        rc = acl_upload_apply(q, up.acl, &res); /* the ACL headers of CreateMultipartUpload */
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    char etag[80];
    fmt_etag(res.etag, etag);
    buf_t b = BUF_INIT;
    xml_begin(&b, "CompleteMultipartUploadResult");
    buf_t loc = BUF_INIT;
    sv_t host = rq_header(q, "host");
    buf_printf(&loc, "http://" SV_FMT "/", SV_ARG(host.p ? host : SV("localhost")));
    if (!q->route.virtual_host) {
        sv_uri_encode(&loc, q->route.bucket, false);
        buf_putc(&loc, '/');
    }
    sv_uri_encode(&loc, q->route.key, true);
    xml_elem(&b, "Location", buf_sv(&loc));
    buf_release(&loc);
    xml_elem(&b, "Bucket", q->route.bucket);
    xml_elem(&b, "Key", q->route.key);
    xml_elem_c(&b, "ETag", etag);
    if (res.checksum[0]) {
        enum cksum_algo a = cksum_algo_parse(sv_from_cstr(res.checksum_algo));
        if (a != CKSUM_NONE)
            xml_elem_c(&b, checksum_elem(a), res.checksum);
        xml_elem_c(&b, "ChecksumType", checksum_type_of(&res));
    }
    buf_puts(&b, "</CompleteMultipartUploadResult>");
    resp_xml(q, resp, 200, &b);
    version_header_write(q, resp, res.version_id);
}

/* ---- AbortMultipartUpload ------------------------------------------------------------------- */

void op_abort_multipart(rq_t *q, http_resp_t *resp)
{
    int rc = store_mpu_abort(q->api->store, q->route.bucket, q->route.key, upload_id_param(q));
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

/* ---- ListParts ------------------------------------------------------------------------------ */

void op_list_parts(rq_t *q, http_resp_t *resp)
{
    uint64_t max, marker;
    if (uint_param(q, "max-parts", 1000, &max) != 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT,
                   "Provided max-parts not an integer or within integer range");
        return;
    }
    if (uint_param(q, "part-number-marker", 0, &marker) != 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT,
                   "Provided part-number-marker not an integer or within integer range");
        return;
    }
    if (max > 1000)
        max = 1000;
    if (marker > STORE_MPU_MAX_PARTS)
        marker = STORE_MPU_MAX_PARTS;
    store_obj_t up;
    int rc = store_mpu_get(q->api->store, q->route.bucket, q->route.key, upload_id_param(q), q->a,
                           &up);
    store_part_list_result_t pl;
    if (rc == 0)
        rc = store_part_list(q->api->store, q->route.bucket, q->route.key, upload_id_param(q),
                             (uint32_t)marker, (size_t)max, q->a, &pl);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "ListPartsResult");
    xml_elem(&b, "Bucket", q->route.bucket);
    xml_elem(&b, "Key", q->route.key);
    xml_elem(&b, "UploadId", upload_id_param(q));
    owner_cache_t oc = {0};
    owner_elems(q, &b, &oc, up.owner);
    xml_elem_c(&b, "StorageClass", up.storage_class[0] ? up.storage_class : "STANDARD");
    buf_printf(&b, "<PartNumberMarker>%llu</PartNumberMarker>", (unsigned long long)marker);
    if (pl.truncated)
        buf_printf(&b, "<NextPartNumberMarker>%u</NextPartNumberMarker>", pl.next_marker);
    else if (pl.nparts)
        buf_printf(&b, "<NextPartNumberMarker>%u</NextPartNumberMarker>",
                   pl.parts[pl.nparts - 1].part_number);
    buf_printf(&b, "<MaxParts>%llu</MaxParts>", (unsigned long long)max);
    xml_elem_c(&b, "IsTruncated", pl.truncated ? "true" : "false");
    if (up.checksum_algo[0]) {
        xml_elem_c(&b, "ChecksumAlgorithm", up.checksum_algo);
        xml_elem_c(&b, "ChecksumType", upload_checksum_type(&up));
    }
    for (size_t i = 0; i < pl.nparts; i++) {
        const store_part_t *p = &pl.parts[i];
        char etag[80], lm[32];
        fmt_etag(p->etag, etag);
        fmt_iso8601(p->mtime_ms, lm);
        buf_puts(&b, "<Part>");
        buf_printf(&b, "<PartNumber>%u</PartNumber>", p->part_number);
        xml_elem_c(&b, "LastModified", lm);
        xml_elem_c(&b, "ETag", etag);
        buf_printf(&b, "<Size>%llu</Size>", (unsigned long long)p->size);
        if (p->checksum[0]) {
            enum cksum_algo a = cksum_algo_parse(sv_from_cstr(p->checksum_algo));
            if (a != CKSUM_NONE)
                xml_elem_c(&b, checksum_elem(a), p->checksum);
        }
        buf_puts(&b, "</Part>");
    }
    buf_puts(&b, "</ListPartsResult>");
    resp_xml(q, resp, 200, &b);
}

/* ---- ListMultipartUploads ------------------------------------------------------------------- */

void op_list_multipart_uploads(rq_t *q, http_resp_t *resp)
{
    bool present = false, url = false;
    store_mpu_list_opts_t o = {0};
    o.prefix = s3_param(&q->route, "prefix", &present);
    o.delimiter = s3_param(&q->route, "delimiter", &present);
    o.key_marker = s3_param(&q->route, "key-marker", &present);
    o.upload_id_marker = s3_param(&q->route, "upload-id-marker", &present);
    sv_t enc = s3_param(&q->route, "encoding-type", &present);
    if (present) {
        if (!sv_eq_cstr(enc, "url")) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
            return;
        }
        url = true;
    }
    uint64_t max;
    if (uint_param(q, "max-uploads", 1000, &max) != 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT,
                   "Provided max-uploads not an integer or within integer range");
        return;
    }
    o.max_uploads = max > 1000 ? 1000 : (size_t)max;
    /* without a key-marker, upload-id-marker is ignored (as on S3) */
    sv_t idm = o.key_marker.len ? o.upload_id_marker : SV_NULL;
    o.upload_id_marker = idm;
    store_mpu_list_result_t r;
    int rc = store_mpu_list(q->api->store, q->route.bucket, &o, q->a, &r);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    owner_cache_t oc = {0};
    buf_t b = BUF_INIT;
    xml_begin(&b, "ListMultipartUploadsResult");
    xml_elem(&b, "Bucket", q->route.bucket);
    xml_elem_enc(&b, "KeyMarker", o.key_marker, url);
    xml_elem(&b, "UploadIdMarker", idm);
    if (r.truncated) {
        xml_elem_enc(&b, "NextKeyMarker", r.next_key, url);
        xml_elem(&b, "NextUploadIdMarker", r.next_upload_id);
    }
    if (o.delimiter.len)
        xml_elem_enc(&b, "Delimiter", o.delimiter, url);
    xml_elem_enc(&b, "Prefix", o.prefix, url);
    buf_printf(&b, "<MaxUploads>%zu</MaxUploads>", o.max_uploads);
    xml_elem_c(&b, "IsTruncated", r.truncated ? "true" : "false");
    if (url)
        xml_elem_c(&b, "EncodingType", "url");
    size_t ui = 0, pi = 0;
    /* uploads and common prefixes in key order, as S3 lists them */
    while (ui < r.nuploads || pi < r.nprefixes) {
        if (pi < r.nprefixes &&
            (ui >= r.nuploads ||
             sv_cmp(r.prefixes[pi], (sv_t){r.uploads[ui].obj.key, r.uploads[ui].obj.key_len}) < 0)) {
            buf_puts(&b, "<CommonPrefixes>");
            xml_elem_enc(&b, "Prefix", r.prefixes[pi], url);
            buf_puts(&b, "</CommonPrefixes>");
            pi++;
            continue;
        }
        const store_mpu_info_t *u = &r.uploads[ui++];
        char ini[32];
        fmt_iso8601(u->obj.mtime_ms, ini);
        buf_puts(&b, "<Upload>");
        xml_elem_enc(&b, "Key", (sv_t){u->obj.key, u->obj.key_len}, url);
        xml_elem_c(&b, "UploadId", u->upload_id);
        owner_elems(q, &b, &oc, u->obj.owner);
        xml_elem_c(&b, "StorageClass", u->obj.storage_class[0] ? u->obj.storage_class : "STANDARD");
        xml_elem_c(&b, "Initiated", ini);
        if (u->obj.checksum_algo[0]) {
            xml_elem_c(&b, "ChecksumAlgorithm", u->obj.checksum_algo);
            xml_elem_c(&b, "ChecksumType", upload_checksum_type(&u->obj));
        }
        buf_puts(&b, "</Upload>");
    }
    buf_puts(&b, "</ListMultipartUploadsResult>");
    resp_xml(q, resp, 200, &b);
}

/* ---- GET/HEAD ?partNumber=N ----------------------------------------------------------------- */

int part_number_range(rq_t *q, const store_obj_t *o, sv_t range, bool *by_part, uint64_t *first,
                      uint64_t *last, const char **msg)
{
    bool present = false;
    sv_t v = s3_param(&q->route, "partNumber", &present);
    *by_part = false;
    if (!present)
        return RANGE_NONE;
    uint64_t pn;
    if (sv_to_u64(v, &pn) != 0 || pn < 1 || pn > STORE_MPU_MAX_PARTS) {
        *msg = PART_NUMBER_MSG;
        return -SE_INVALID_ARGUMENT;
    }
    if (range.p) {
        *msg = "Cannot specify both Range header and partNumber query parameter";
        return -SE_INVALID_REQUEST;
    }
    uint32_t np = o->nparts ? o->nparts : 1;
    if (pn > np)
        return -SE_INVALID_PART_NUMBER;
    *by_part = true;
    if (!o->nparts) { /* a single-part object is its own part 1 */
        if (o->size == 0)
            return RANGE_NONE;
        *first = 0;
        *last = o->size - 1;
        return RANGE_OK;
    }
    uint64_t off = 0;
    for (uint32_t i = 0; i + 1 < pn; i++)
        off += o->part_sizes[i];
    if (o->part_sizes[pn - 1] == 0)
        return RANGE_NONE; /* an empty last part: nothing to range over */
    *first = off;
    *last = off + o->part_sizes[pn - 1] - 1;
    return RANGE_OK;
}

/* The part's own checksum for GET/HEAD ?partNumber=N with x-amz-checksum-mode: ENABLED, as
 * S3 gives it: a COMPOSITE object's part value (from the manifest), a FULL_OBJECT object's
 * value when it has one part, a single-part object's value (it is its own part 1); none for a
 * part of a FULL_OBJECT object of several parts. The manifest is read again: its value is used
 * only if it is still the object being sent (same ETag and mtime). */
static void part_checksum_headers(rq_t *q, http_resp_t *resp, const store_obj_t *o)
{
    if (!o->checksum_algo[0] || !sv_caseeq_cstr(rq_header(q, "x-amz-checksum-mode"), "ENABLED"))
        return;
    const char *type = checksum_type_of(o), *value = o->checksum;
    if (o->nparts > 1 || (o->nparts == 1 && strcmp(type, "COMPOSITE") == 0)) {
        uint32_t pn;
        if (strcmp(type, "COMPOSITE") != 0 || part_number_param(q, &pn) != 0)
            return;
        store_obj_t cur;
        store_obj_parts_t pp;
        if (store_get_parts(q->api->store, q->route.bucket, q->route.key,
                            o->version_id[0] ? o->version_id : NULL, pn - 1, 1,
                            STORE_PARTS_BY_POSITION, q->a, &cur, &pp) != 0 ||
            pp.nparts != 1 || !pp.parts[0].checksum || strcmp(cur.etag, o->etag) != 0 ||
            cur.mtime_ms != o->mtime_ms)
            return;
        value = pp.parts[0].checksum;
    }
    char name[48];
    checksum_header(o->checksum_algo, name);
    resp_header(q, resp, arena_strndup(q->a, name, strlen(name)),
                arena_strndup(q->a, value, strlen(value)));
    resp_header(q, resp, "x-amz-checksum-type", type);
}

void part_number_headers(rq_t *q, http_resp_t *resp, const store_obj_t *o, bool by_part)
{
    if (!by_part)
        return;
    part_checksum_headers(q, resp, o);
    if (!o->nparts)
        return;
    char n[16];
    snprintf(n, sizeof n, "%u", o->nparts);
    resp_header(q, resp, "x-amz-mp-parts-count", n);
}
