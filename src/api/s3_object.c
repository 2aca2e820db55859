/* api/s3_object: PutObject, GetObject/HeadObject, DeleteObject, DeleteObjects, CopyObject.
 * Object bytes stream between the connection and the store in bounded pieces. */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "s3/range.h"
#include "s3/tagging.h"
#include "s3/xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const storage_classes[] = {"STANDARD",    "STANDARD_IA",  "ONEZONE_IA",
                                              "GLACIER_IR",  "GLACIER",      "DEEP_ARCHIVE",
                                              "INTELLIGENT_TIERING", NULL};

bool storage_class_valid(sv_t c)
{
    for (int i = 0; storage_classes[i]; i++)
        if (sv_eq_cstr(c, storage_classes[i]))
            return true;
    return false;
}

void fmt_etag(const char *etag, char *out)
{
    snprintf(out, 80, "\"%s\"", etag);
}

const char *checksum_elem(enum cksum_algo a)
{
    static const char *const elems[] = {NULL,           "ChecksumCRC32", "ChecksumCRC32C",
                                        "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"};
    return (unsigned)a < sizeof elems / sizeof elems[0] ? elems[a] : NULL;
}

const char *checksum_type_of(const store_obj_t *o)
{
    if (o->checksum_type[0])
        return o->checksum_type;
    return strchr(o->checksum, '-') ? "COMPOSITE" : "FULL_OBJECT";
}

void checksum_list_elems(buf_t *b, const store_obj_t *o)
{
    if (!o->checksum_algo[0] || !o->checksum[0])
        return;
    xml_elem_c(b, "ChecksumAlgorithm", o->checksum_algo);
    xml_elem_c(b, "ChecksumType", checksum_type_of(o));
}

/* Stored content headers, in the order S3 returns them. */
static const char *const content_headers[] = {"content-type",     "content-encoding",
                                              "content-disposition", "content-language",
                                              "cache-control",    "expires",
                                              "x-amz-website-redirect-location", NULL};

static char *lower_dup(arena_t *a, sv_t s)
{
    char *p = arena_svdup(a, s);
    for (size_t i = 0; i < s.len; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (char)(p[i] + 32);
    return p;
}

/* Strips the "aws-chunked" coding from Content-Encoding: it describes the transfer, not the
 * object. A value without it is kept as sent ("deflate, gzip" stays so); otherwise the other
 * codings are joined with ", ". Returns SV_NULL when nothing is left. */
static sv_t strip_aws_chunked(arena_t *a, sv_t ce)
{
    buf_t out = BUF_INIT;
    sv_t rest = ce, item;
    bool found = true, stripped = false;
    while (found) {
        rest = sv_split(rest, ',', &item, &found);
        item = sv_trim(item);
        if (item.len == 0 || sv_caseeq_cstr(item, "aws-chunked")) {
            stripped = stripped || item.len;
            continue;
        }
        if (out.len)
            buf_puts(&out, ", ");
        buf_putsv(&out, item);
    }
    if (!stripped && out.len) {
        buf_release(&out);
        ce = sv_trim(ce);
        return sv_from_cstr(arena_strndup(a, ce.p, ce.len));
    }
    sv_t r = out.len ? sv_from_cstr(arena_strndup(a, out.p, out.len)) : SV_NULL;
    buf_release(&out);
    return r;
}

/* Collects content headers and x-amz-meta-* from the request into meta->attrs.
 * -SE_METADATA_TOO_LARGE past 2 KB of user metadata. */
int collect_attrs(rq_t *q, store_obj_t *meta)
{
    http_req_t *hr = q->hr;
    size_t cap = hr->nheaders + 2, n = 0, meta_bytes = 0;
    kv_t *attrs = arena_calloc(q->a, cap, sizeof *attrs);
    for (int i = 0; content_headers[i]; i++) {
        sv_t v = rq_header(q, content_headers[i]);
        if (i == 1 && v.p)
            v = strip_aws_chunked(q->a, v);
        if (!v.p) {
            if (i == 0)
                v = SV("binary/octet-stream");
            else
                continue;
        }
        attrs[n++] = (kv_t){sv_from_cstr(content_headers[i]), v};
    }
    for (size_t i = 0; i < hr->nheaders; i++) {
        sv_t name = hr->headers[i].name;
        if (name.len <= 11 || strncasecmp(name.p, "x-amz-meta-", 11) != 0)
            continue;
        meta_bytes += name.len - 11 + hr->headers[i].value.len;
        attrs[n++] = (kv_t){sv_from_cstr(lower_dup(q->a, name)), hr->headers[i].value};
    }
    if (meta_bytes > MAX_META_BYTES)
        return -SE_METADATA_TOO_LARGE;
    meta->attrs = attrs;
    meta->nattrs = n;
    return 0;
}

/* ---- PutObject ---------------------------------------------------------------------------- */

struct put_ctx {
    store_obj_t meta;
    store_cond_t cond;
};

int put_object_begin(rq_t *q, http_resp_t *resp)
{
    http_req_t *hr = q->hr;
    struct put_ctx *pc = arena_calloc(q->a, 1, sizeof *pc);
    int rc;
    q->opctx = pc;
    if (!hr->has_length && !hr->chunked && !q->have_decoded_len) {
        rc = -SE_MISSING_CONTENT_LENGTH;
        goto fail;
    }
    sv_t sc = rq_header(q, "x-amz-storage-class");
    if (sc.p && !storage_class_valid(sc)) {
        rc = -SE_INVALID_STORAGE_CLASS;
        goto fail;
    }
    snprintf(pc->meta.storage_class, sizeof pc->meta.storage_class, SV_FMT,
             SV_ARG(sc.p ? sc : SV("STANDARD")));
    if ((rc = collect_attrs(q, &pc->meta)) != 0)
        goto fail;
    if ((rc = tagging_from_header(q, &pc->meta)) != 0) {
        resp_error(q, resp, rc, q->err_msg);
        return -1;
    }
    sv_t cmd5 = rq_header(q, "content-md5");
    uint8_t md5[16];
    if (cmd5.p && base64_decode(sv_trim(cmd5), md5, sizeof md5) != 16) {
        rc = -SE_INVALID_DIGEST; /* refused before the body is read; compared at the end */
        goto fail;
    }
    sv_t inm = rq_header(q, "if-none-match");
    if (inm.p) {
        if (!sv_eq_cstr(sv_trim(inm), "*")) {
            resp_error(q, resp, -SE_NOT_IMPLEMENTED,
                       "A header you provided implies functionality that is not implemented");
            return -1;
        }
        pc->cond.if_none_match_any = true;
    }
    sv_t im = rq_header(q, "if-match");
    if (im.p) {
        im = sv_trim(im);
        if (im.len >= 2 && im.p[0] == '"' && im.p[im.len - 1] == '"')
            im = (sv_t){im.p + 1, im.len - 2};
        pc->cond.if_match_etag = arena_svdup(q->a, im);
    }
    pc->meta.key = arena_svdup(q->a, q->route.key);
    pc->meta.key_len = q->route.key.len;
    snprintf(pc->meta.owner, sizeof pc->meta.owner, "%s", q->acct.id);
    uint64_t hint = q->have_decoded_len ? q->decoded_len
                    : (hr->has_length && !q->chunked) ? hr->content_length : UINT64_MAX;
    rc = store_put_begin(q->api->store, q->route.bucket, q->route.key, hint, &q->put);
    if (rc)
        goto fail;
    return 0;
fail:
    resp_error(q, resp, rc, NULL);
    return -1;
}

void put_object_end(rq_t *q, http_resp_t *resp)
{
    struct put_ctx *pc = q->opctx;
    uint8_t md5[16];
    int rc = body_md5_verify(q, false, md5);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    hex_encode(md5, 16, pc->meta.etag);
    if (q->cksum_algo != CKSUM_NONE && q->cksum_expect.len) {
        /* body_finish verified it and left the base64 value in cksum_expect */
        snprintf(pc->meta.checksum_algo, sizeof pc->meta.checksum_algo, "%s",
                 cksum_algo_name(q->cksum_algo));
        snprintf(pc->meta.checksum, sizeof pc->meta.checksum, SV_FMT, SV_ARG(q->cksum_expect));
    }
    store_put_t *p = q->put;
    q->put = NULL; /* commit frees it whatever happens */
    rc = store_put_commit(p, &pc->meta, &pc->cond);
    if (!rc)
        rc = acl_after_object_write(q, &pc->meta); /* x-amz-acl / x-amz-grant-* */
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    char etag[80];
    fmt_etag(pc->meta.etag, etag);
    resp_empty(q, resp, 200);
    resp_header(q, resp, "ETag", etag);
    version_header_write(q, resp, pc->meta.version_id);
    if (pc->meta.checksum_algo[0]) {
        char name[48];
        snprintf(name, sizeof name, "x-amz-checksum-%s", pc->meta.checksum_algo);
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        resp_header(q, resp, name, pc->meta.checksum);
        resp_header(q, resp, "x-amz-checksum-type", "FULL_OBJECT");
    }
}

/* ---- GetObject / HeadObject --------------------------------------------------------------- */

static bool etag_matches(sv_t list, const char *etag)
{
    /* If-Match / If-None-Match: comma-separated entity tags, quoted or not, or "*". */
    sv_t rest = list, item;
    bool found = true;
    while (found) {
        rest = sv_split(rest, ',', &item, &found);
        item = sv_trim(item);
        if (item.len >= 2 && item.p[0] == 'W' && item.p[1] == '/')
            item = (sv_t){item.p + 2, item.len - 2};
        if (item.len >= 2 && item.p[0] == '"' && item.p[item.len - 1] == '"')
            item = (sv_t){item.p + 1, item.len - 2};
        if (sv_eq_cstr(item, "*") || sv_eq_cstr(item, etag))
            return true;
    }
    return false;
}

/* RFC 7232 order as S3 applies it. mtime in ms. Returns 0, -SE_PRECONDITION_FAILED or
 * -SE_NOT_MODIFIED. prefix: "" for GET/HEAD, "x-amz-copy-source-" for copies (where a
 * failure is always 412). */
int check_conditions(rq_t *q, const store_obj_t *o, const char *prefix, bool copy)
{
    char name[64];
    int64_t t, mtime = o->mtime_ms / 1000;
    snprintf(name, sizeof name, "%sif-match", prefix);
    sv_t im = rq_header(q, name);
    snprintf(name, sizeof name, "%sif-none-match", prefix);
    sv_t inm = rq_header(q, name);
    snprintf(name, sizeof name, "%sif-modified-since", prefix);
    sv_t ims = rq_header(q, name);
    snprintf(name, sizeof name, "%sif-unmodified-since", prefix);
    sv_t ius = rq_header(q, name);
    if (im.p) {
        if (!etag_matches(im, o->etag))
            return -SE_PRECONDITION_FAILED;
    } else if (ius.p && parse_http_date(sv_trim(ius), &t) == 0 && mtime > t) {
        return -SE_PRECONDITION_FAILED;
    }
    if (inm.p) {
        if (etag_matches(inm, o->etag))
            return copy ? -SE_PRECONDITION_FAILED : -SE_NOT_MODIFIED;
    } else if (ims.p && parse_http_date(sv_trim(ims), &t) == 0 && mtime <= t &&
               t <= now_ms() / 1000) {
        return copy ? -SE_PRECONDITION_FAILED : -SE_NOT_MODIFIED;
    }
    return 0;
}

struct get_stream {
    store_read_t *rd;
    uint64_t base;
    char reqid[20];
};

static ssize_t get_stream_read(void *ctx, uint64_t off, char *buf, size_t max)
{
    struct get_stream *gs = ctx;
    ssize_t n = store_read(gs->rd, gs->base + off, buf, max);
    if (n < 0)
        log_error("req=%s read failed mid-stream: %s", gs->reqid, strata_strerror((int)n));
    return n;
}

static void get_stream_close(void *ctx)
{
    struct get_stream *gs = ctx;
    store_read_close(gs->rd);
    free(gs);
}

static void object_headers(rq_t *q, http_resp_t *resp, const store_obj_t *o, bool ranged)
{
    char etag[80], date[40];
    fmt_etag(o->etag, etag);
    fmt_http_date(o->mtime_ms, date);
    resp_header(q, resp, "ETag", etag);
    resp_header(q, resp, "Last-Modified", arena_strndup(q->a, date, strlen(date)));
    resp_header(q, resp, "Accept-Ranges", "bytes");
    bool query = q->hr->query.len != 0; /* response-* overrides come in the query string */
    for (size_t i = 0; i < o->nattrs; i++) {
        const char *name = arena_svdup(q->a, o->attrs[i].name);
        bool over = false;
        if (query) {
            char rname[64];
            snprintf(rname, sizeof rname, "response-%s", name);
            (void)s3_param(&q->route, rname, &over);
        }
        if (over && strncmp(name, "x-amz-", 6) != 0)
            continue; /* replaced below by the response-* override */
        resp_header(q, resp, name, arena_svdup(q->a, o->attrs[i].value));
    }
    static const char *const overridable[] = {"content-type", "content-language", "expires",
                                              "cache-control", "content-disposition",
                                              "content-encoding", NULL};
    for (int i = 0; query && overridable[i]; i++) {
        char rname[64];
        bool present = false;
        snprintf(rname, sizeof rname, "response-%s", overridable[i]);
        sv_t v = s3_param(&q->route, rname, &present);
        if (present)
            resp_header(q, resp, overridable[i], arena_svdup(q->a, v.p ? v : SV("")));
    }
    if (strcmp(o->storage_class, "STANDARD") != 0 && o->storage_class[0])
        resp_header(q, resp, "x-amz-storage-class", o->storage_class);
    version_headers(q, resp, o->version_id, false);
    if (o->ntags) {
        char n[24];
        snprintf(n, sizeof n, "%zu", o->ntags);
        resp_header(q, resp, "x-amz-tagging-count", n);
    }
    /* The whole object's checksum, on request, and not for a range (S3 has none for it). */
    if (o->checksum_algo[0] && !ranged &&
        sv_caseeq_cstr(rq_header(q, "x-amz-checksum-mode"), "ENABLED")) {
        char name[48];
        snprintf(name, sizeof name, "x-amz-checksum-%s", o->checksum_algo);
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        resp_header(q, resp, arena_strndup(q->a, name, strlen(name)), o->checksum);
        resp_header(q, resp, "x-amz-checksum-type", checksum_type_of(o));
    }
}

void op_get_object(rq_t *q, http_resp_t *resp)
{
    store_obj_t o;
    store_read_t *rd = NULL;
    const char *version;
    int rc = version_param(q, &version);
    if (rc) {
        resp_error(q, resp, rc, VERSION_ID_EMPTY_MSG);
        return;
    }
    memset(&o, 0, sizeof o);
    rc = store_get(q->api->store, q->route.bucket, q->route.key, version, q->a, &o,
                   q->head ? NULL : &rd);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        /* a delete marker: 404 without a version, 405 when asked for by version */
        if ((rc == -SE_NO_SUCH_KEY || rc == -SE_METHOD_NOT_ALLOWED) && o.delete_marker) {
            version_headers(q, resp, o.version_id, true);
            if (rc == -SE_METHOD_NOT_ALLOWED) {
                char date[40];
                fmt_http_date(o.mtime_ms, date);
                resp_header(q, resp, "Last-Modified", arena_strndup(q->a, date, strlen(date)));
                resp_header(q, resp, "Allow", "DELETE");
            }
        }
        return;
    }
    if ((rc = check_conditions(q, &o, "", false)) != 0) {
        if (rd)
            store_read_close(rd);
        resp_error(q, resp, rc, NULL);
        if (rc == -SE_NOT_MODIFIED) {
            char etag[80], date[40];
            fmt_etag(o.etag, etag);
            fmt_http_date(o.mtime_ms, date);
            resp_header(q, resp, "ETag", etag);
            resp_header(q, resp, "Last-Modified", arena_strndup(q->a, date, strlen(date)));
        }
        return;
    }
    uint64_t first = 0, last = o.size ? o.size - 1 : 0;
    sv_t range = rq_header(q, "range");
    bool by_part = false; /* ?partNumber=N (api/s3_multipart.c) */
    const char *pmsg = NULL;
    int r = part_number_range(q, &o, range, &by_part, &first, &last, &pmsg);
    if (r == RANGE_NONE && !by_part && range.p)
        r = s3_range_parse(range, o.size, &first, &last);
    if (r < 0) {
        if (rd)
            store_read_close(rd);
        resp_error(q, resp, r, pmsg);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)o.size);
        resp_header(q, resp, "Content-Range", arena_strndup(q->a, cr, strlen(cr)));
        return;
    }
    uint64_t len = r == RANGE_OK ? last - first + 1 : o.size;
    resp_empty(q, resp, r == RANGE_OK ? 206 : 200);
    object_headers(q, resp, &o, r == RANGE_OK);
    part_number_headers(q, resp, &o, by_part);
    if (r == RANGE_OK) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)o.size);
        resp_header(q, resp, "Content-Range", arena_strndup(q->a, cr, strlen(cr)));
    }
    if (q->head) {
        resp->body = "";
        resp->body_len = len;
        return;
    }
    if (len == 0) {
        store_read_close(rd);
        return;
    }
    struct get_stream *gs = xcalloc(1, sizeof *gs);
    gs->rd = rd;
    gs->base = first;
    memcpy(gs->reqid, q->reqid, sizeof gs->reqid);
    resp->body = NULL;
    resp->body_len = 0;
    resp->stream_read = get_stream_read;
    resp->stream_close = get_stream_close;
    resp->stream_ctx = gs;
    resp->stream_len = len;
}

/* ---- DeleteObject / DeleteObjects ------------------------------------------------------- */

void op_delete_object(rq_t *q, http_resp_t *resp)
{
    const char *version;
    int rc = version_param(q, &version);
    if (rc) {
        resp_error(q, resp, rc, VERSION_ID_EMPTY_MSG);
        return;
    }
    store_del_result_t dr;
    rc = store_delete_version(q->api->store, q->route.bucket, q->route.key, version, &dr);
    /* DELETE is idempotent: a key or version that is already gone is a success (204) */
    if (rc && rc != -SE_NO_SUCH_KEY && rc != -SE_NO_SUCH_VERSION) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
    if (rc == 0)
        version_headers(q, resp, dr.version_id, dr.delete_marker);
    else if (version)
        version_headers(q, resp, version, false);
}

void op_delete_objects(rq_t *q, http_resp_t *resp)
{
    int rc = body_md5_verify(q, true, NULL); /* Content-MD5 or a checksum is required */
    if (rc) {
        resp_error(q, resp, rc,
                   rc == -SE_INVALID_REQUEST ? "Missing required header for this request: Content-MD5" : NULL);
        return;
    }
    xml_node_t *root = xml_parse(q->a, q->body.p ? q->body.p : "", q->body.len, &rc);
    if (!root || !sv_eq_cstr(root->name, "Delete")) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    sv_t quiet_s = xml_child_text(root, "Quiet");
    bool quiet = sv_eq_cstr(sv_trim(quiet_s), "true");
    if (quiet_s.p && !quiet && !sv_eq_cstr(sv_trim(quiet_s), "false")) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    size_t count = 0;
    for (xml_node_t *o = xml_child(root, "Object"); o; o = xml_next_named(o)) {
        if (!xml_child(o, "Key") || ++count > 1000) {
            resp_error(q, resp, -SE_MALFORMED_XML, NULL);
            return;
        }
    }
    if (count == 0) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "DeleteResult");
    for (xml_node_t *o = xml_child(root, "Object"); o; o = xml_next_named(o)) {
        sv_t key = xml_child_text(o, "Key");
        sv_t vid = xml_child_text(o, "VersionId");
        const char *version = vid.p ? arena_svdup(q->a, sv_trim(vid)) : NULL;
        store_del_result_t dr = {0};
        rc = key.len == 0 ? -SE_INVALID_ARGUMENT
             : key.len > MAX_KEY_LEN ? -SE_KEY_TOO_LONG
             : (version && !*version) ? -SE_INVALID_VERSION_ID
             /* each key is authorized on its own (api/authz.c), as S3 does */
             : authz_check(q, version ? "s3:DeleteObjectVersion" : "s3:DeleteObject", &q->bucket,
                           key, version) != 0 ? -SE_ACCESS_DENIED
                                      : store_delete_version(q->api->store, q->route.bucket, key,
                                                             version, &dr);
        if (rc == 0 || rc == -SE_NO_SUCH_KEY || rc == -SE_NO_SUCH_VERSION) {
            if (quiet)
                continue;
            buf_puts(&b, "<Deleted>");
            xml_elem(&b, "Key", key);
            if (vid.p)
                xml_elem(&b, "VersionId", vid);
            if (rc == 0 && dr.delete_marker) {
                /* a marker was made (no VersionId given), or the version removed was one */
                xml_elem_c(&b, "DeleteMarker", "true");
                xml_elem_c(&b, "DeleteMarkerVersionId", dr.version_id);
            }
            buf_puts(&b, "</Deleted>");
        } else {
            const struct s3err *e = s3err_get(rc);
            buf_puts(&b, "<Error>");
            xml_elem(&b, "Key", key);
            if (vid.p)
                xml_elem(&b, "VersionId", vid);
            xml_elem_c(&b, "Code", e->code);
            xml_elem_c(&b, "Message", e->message);
            buf_puts(&b, "</Error>");
        }
    }
    buf_puts(&b, "</DeleteResult>");
    resp_xml(q, resp, 200, &b);
}

/* ---- CopyObject ------------------------------------------------------------------------- */

int copy_stream(store_read_t *rd, uint64_t first, uint64_t len, store_put_t *p, uint8_t md5[16],
                cksum_t *ck)
{
    enum { CHUNK = 256 * 1024 };
    char *chunk = xmalloc(CHUNK);
    digest_t d;
    int rc = 0;
    digest_init_md5(&d);
    for (uint64_t off = 0; off < len;) {
        size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
        ssize_t n = store_read(rd, first + off, chunk, want);
        if (n <= 0) {
            rc = n < 0 ? (int)n : -SE_INTERNAL; /* shorter than its record says */
            break;
        }
        digest_update(&d, chunk, (size_t)n);
        if (ck)
            cksum_update(ck, chunk, (size_t)n);
        if ((rc = store_put_write(p, chunk, (size_t)n)) != 0)
            break;
        off += (uint64_t)n;
    }
    free(chunk);
    digest_final(&d, md5);
    return rc;
}

int check_source_owner(rq_t *q, const store_bucket_t *sb)
{
    sv_t want = rq_header(q, "x-amz-source-expected-bucket-owner");
    return want.p && !sv_eq_cstr(sv_trim(want), sb->owner) ? -SE_ACCESS_DENIED : 0;
}

int parse_copy_source(rq_t *q, sv_t *bucket, sv_t *key, const char **version)
{
    sv_t src = rq_header(q, "x-amz-copy-source");
    sv_t path = src, qs;
    bool has_q;
    qs = sv_split(src, '?', &path, &has_q);
    *version = NULL;
    if (has_q) {
        if (!sv_starts_with(qs, SV("versionId=")))
            return -SE_INVALID_ARGUMENT;
        sv_t v = {qs.p + 10, qs.len - 10};
        char *d = arena_alloc(q->a, v.len + 1);
        long n = sv_url_decode(v, d, false);
        if (n < 0)
            return -SE_INVALID_ARGUMENT;
        d[n] = 0;
        if (n == 0)
            return -SE_INVALID_ARGUMENT;
        *version = d; /* "null" or an id: the store resolves both */
    }
    char *dec = arena_alloc(q->a, path.len + 1);
    long n = sv_url_decode(path, dec, false);
    if (n < 0)
        return -SE_INVALID_ARGUMENT;
    sv_t p = {dec, (size_t)n};
    if (p.len && p.p[0] == '/')
        p = (sv_t){p.p + 1, p.len - 1};
    bool found;
    *key = sv_split(p, '/', bucket, &found);
    if (!found || bucket->len == 0 || key->len == 0)
        return -SE_INVALID_ARGUMENT;
    return 0;
}

void op_copy_object(rq_t *q, http_resp_t *resp)
{
    sv_t sbucket, skey;
    const char *sversion;
    int rc = parse_copy_source(q, &sbucket, &skey, &sversion);
    if (rc) {
        resp_error(q, resp, rc, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        return;
    }
    store_bucket_t sb;
    if ((rc = store_bucket_get(q->api->store, sbucket, &sb)) != 0 ||
        (rc = check_source_owner(q, &sb)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    /* s3:GetObject on the source was authorized with the request (api/authz.c) */
    sv_t directive = rq_header(q, "x-amz-metadata-directive");
    bool replace = false;
    if (directive.p) {
        if (sv_eq_cstr(directive, "REPLACE"))
            replace = true;
        else if (!sv_eq_cstr(directive, "COPY")) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, "Unknown metadata directive.");
            return;
        }
    }
    sv_t tdir = rq_header(q, "x-amz-tagging-directive");
    bool replace_tags = false;
    if (tdir.p) {
        if (sv_eq_cstr(tdir, "REPLACE"))
            replace_tags = true;
        else if (!sv_eq_cstr(tdir, "COPY")) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, "Unknown tagging directive.");
            return;
        }
    }
    sv_t sc = rq_header(q, "x-amz-storage-class");
    if (sc.p && !storage_class_valid(sc)) {
        resp_error(q, resp, -SE_INVALID_STORAGE_CLASS, NULL);
        return;
    }
    sv_t ca = rq_header(q, "x-amz-checksum-algorithm");
    if (ca.p && cksum_algo_parse(sv_trim(ca)) == CKSUM_NONE) {
        resp_error(q, resp, -SE_INVALID_REQUEST, CKSUM_UNSUPPORTED_MSG);
        return;
    }
    store_obj_t tagged = {0};
    if (replace_tags && (rc = tagging_from_header(q, &tagged)) != 0) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    store_obj_t src;
    store_read_t *rd = NULL;
    rc = store_get(q->api->store, sbucket, skey, sversion, q->a, &src, &rd);
    if (rc) {
        resp_error(q, resp, rc == -SE_METHOD_NOT_ALLOWED ? -SE_INVALID_REQUEST : rc,
                   rc == -SE_METHOD_NOT_ALLOWED ? "The source of a copy request may not "
                                                  "specifically refer to a delete marker by "
                                                  "version id."
                                                : NULL);
        return;
    }
    if ((rc = check_conditions(q, &src, "x-amz-copy-source-", true)) != 0)
        goto fail_rd;
    if (src.size > STORE_PART_MAX) { /* bigger objects are copied with UploadPartCopy */
        store_read_close(rd);
        resp_error(q, resp, -SE_INVALID_REQUEST,
                   "The specified copy source is larger than the maximum allowable size for a "
                   "copy source: 5368709120");
        return;
    }
    if (sv_eq(sbucket, q->route.bucket) && sv_eq(skey, q->route.key) && !replace && !sc.p &&
        !sversion) {
        resp_error(q, resp, -SE_INVALID_REQUEST,
                   "This copy request is illegal because it is trying to copy an object to itself "
                   "without changing the object's metadata, storage class, website redirect "
                   "location or encryption attributes.");
        store_read_close(rd);
        return;
    }
    store_obj_t meta = {0};
    if (replace) {
        if ((rc = collect_attrs(q, &meta)) != 0)
            goto fail_rd;
    } else {
        meta.attrs = src.attrs;
        meta.nattrs = src.nattrs;
    }
    meta.tags = replace_tags ? tagged.tags : src.tags;
    meta.ntags = replace_tags ? tagged.ntags : src.ntags;
    meta.key = arena_svdup(q->a, q->route.key);
    meta.key_len = q->route.key.len;
    snprintf(meta.owner, sizeof meta.owner, "%s", q->acct.id);
    snprintf(meta.storage_class, sizeof meta.storage_class, SV_FMT,
             SV_ARG(sc.p ? sc : SV("STANDARD")));
    snprintf(meta.etag, sizeof meta.etag, "%s", src.etag);
    /* The copy is one object of one part: it gets the checksum asked for, else the source's
     * algorithm. A source's full-object value carries over as it is (same bytes); a composite
     * one ("...-N", per part) or another algorithm is computed over the bytes as they copy. */
    enum cksum_algo calgo = cksum_algo_parse(sv_from_cstr(src.checksum_algo));
    if (ca.p)
        calgo = cksum_algo_parse(sv_trim(ca));
    bool keep = calgo != CKSUM_NONE && strcmp(src.checksum_algo, cksum_algo_name(calgo)) == 0 &&
                strcmp(checksum_type_of(&src), "FULL_OBJECT") == 0;
    cksum_t ck;
    if (calgo != CKSUM_NONE) {
        snprintf(meta.checksum_algo, sizeof meta.checksum_algo, "%s", cksum_algo_name(calgo));
        snprintf(meta.checksum_type, sizeof meta.checksum_type, "FULL_OBJECT");
        if (keep)
            snprintf(meta.checksum, sizeof meta.checksum, "%s", src.checksum);
        else
            cksum_init(&ck, calgo);
    }

    store_put_t *p;
    if ((rc = store_put_begin(q->api->store, q->route.bucket, q->route.key, src.size, &p)) != 0) {
        if (calgo != CKSUM_NONE && !keep)
            cksum_free(&ck);
        goto fail_rd;
    }
    uint8_t raw[16];
    rc = copy_stream(rd, 0, src.size, p, raw, calgo != CKSUM_NONE && !keep ? &ck : NULL);
    store_read_close(rd);
    if (calgo != CKSUM_NONE && !keep)
        cksum_final_b64(&ck, meta.checksum);
    if (rc) {
        store_put_abort(p);
        resp_error(q, resp, rc, NULL);
        return;
    }
    if (!strchr(src.etag, '-'))
        hex_encode(raw, 16, meta.etag); /* a single-part copy gets the MD5 of its bytes */
    if ((rc = store_put_commit(p, &meta, NULL)) != 0 ||
        (rc = acl_after_object_write(q, &meta)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    if (src.version_id[0]) /* the source's bucket has versioning configured */
        resp_header(q, resp, "x-amz-copy-source-version-id",
                    arena_strndup(q->a, src.version_id, strlen(src.version_id)));
    version_header_write(q, resp, meta.version_id);
    char etag[80], lm[32];
    fmt_etag(meta.etag, etag);
    fmt_iso8601(meta.mtime_ms ? meta.mtime_ms : now_ms(), lm);
    buf_t b = BUF_INIT;
    xml_begin(&b, "CopyObjectResult");
    xml_elem_c(&b, "LastModified", lm);
    xml_elem_c(&b, "ETag", etag);
    if (calgo != CKSUM_NONE) {
        xml_elem_c(&b, checksum_elem(calgo), meta.checksum);
        xml_elem_c(&b, "ChecksumType", "FULL_OBJECT");
    }
    buf_puts(&b, "</CopyObjectResult>");
    resp_xml(q, resp, 200, &b);
    return;
fail_rd:
    store_read_close(rd);
    resp_error(q, resp, rc, NULL);
}
