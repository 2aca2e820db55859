/* api/s3_bucket: bucket operations and object listings (ListObjects V1 and V2). */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "s3/xml.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- ListBuckets -------------------------------------------------------------------------- */

/* ListBuckets pages (max-buckets, continuation-token) and filters (prefix) the caller's
 * buckets, in name order. The token is opaque to clients: base64 of "1:" + the last name sent. */
static sv_t token_encode(arena_t *a, sv_t marker);
static int token_decode(arena_t *a, sv_t tok, sv_t *marker);

struct lb_ctx {
    rq_t *q;
    buf_t *b;
    sv_t prefix, after;
    size_t max, n;
    bool truncated;
    char last[sizeof ((store_bucket_t *)0)->name];
};

static int lb_cb(void *ctx, const store_bucket_t *bk)
{
    struct lb_ctx *c = ctx;
    sv_t name = sv_from_cstr(bk->name);
    if (strcmp(bk->owner, c->q->acct.id) != 0 || !sv_starts_with(name, c->prefix) ||
        (c->after.len && sv_cmp(name, c->after) <= 0) || c->truncated)
        return 0;
    if (c->n == c->max) {
        c->truncated = true;
        return 0;
    }
    c->n++;
    snprintf(c->last, sizeof c->last, "%s", bk->name);
    char date[32];
    fmt_iso8601(bk->created_ms, date);
    buf_puts(c->b, "<Bucket>");
    xml_elem_c(c->b, "Name", bk->name);
    xml_elem_c(c->b, "CreationDate", date);
    buf_puts(c->b, "</Bucket>");
    return 0;
}

void owner_xml(buf_t *b, const char *elem, const account_t *a)
{
    buf_printf(b, "<%s>", elem);
    xml_elem_c(b, "ID", a->canonical_id);
    xml_elem_c(b, "DisplayName", a->display_name);
    buf_printf(b, "</%s>", elem);
}

const account_t *owner_lookup(rq_t *q, owner_cache_t *c, const char *owner)
{
    if (!owner[0])
        owner = q->bucket.owner;
    if (!c->id[0] || strcmp(c->id, owner) != 0) {
        snprintf(c->id, sizeof c->id, "%s", owner);
        c->have = accounts_get(q->api->store, sv_from_cstr(owner), &c->acct) == 0;
    }
    return c->have ? &c->acct : NULL;
}

void op_list_buckets(rq_t *q, http_resp_t *resp)
{
    struct lb_ctx c = {.q = q, .max = 10000};
    bool present;
    sv_t mb = s3_param(&q->route, "max-buckets", &present);
    if (present) {
        uint64_t v;
        if (sv_to_u64(mb, &v) != 0 || v < 1 || v > 10000) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT,
                       "Argument max-buckets must be an integer between 1 and 10000.");
            return;
        }
        c.max = (size_t)v;
    }
    c.prefix = s3_param(&q->route, "prefix", &present);
    sv_t tok = s3_param(&q->route, "continuation-token", &present);
    if (present && tok.len && token_decode(q->a, tok, &c.after) != 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT, "The continuation token provided is incorrect");
        return;
    }
    buf_t b = BUF_INIT;
    c.b = &b;
    xml_begin(&b, "ListAllMyBucketsResult");
    owner_xml(&b, "Owner", &q->acct);
    buf_puts(&b, "<Buckets>");
    int rc = store_bucket_list(q->api->store, lb_cb, &c);
    if (rc) {
        buf_release(&b);
        resp_error(q, resp, rc, NULL);
        return;
    }
    buf_puts(&b, "</Buckets>");
    if (c.truncated)
        xml_elem(&b, "ContinuationToken", token_encode(q->a, sv_from_cstr(c.last)));
    if (c.prefix.len)
        xml_elem(&b, "Prefix", c.prefix);
    buf_puts(&b, "</ListAllMyBucketsResult>");
    resp_xml(q, resp, 200, &b);
}

/* ---- CreateBucket / DeleteBucket / HeadBucket / GetBucketLocation ------------------------ */

static bool region_name_valid(sv_t r)
{
    /* "eu-west-1", "us-gov-west-1", "ap-southeast-2", or the legacy "EU" */
    if (sv_eq_cstr(r, "EU"))
        return true;
    if (r.len < 4 || r.len > 31)
        return false;
    bool dash = false;
    for (size_t i = 0; i < r.len; i++) {
        char c = r.p[i];
        if (c == '-')
            dash = true;
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return dash && r.p[r.len - 1] >= '0' && r.p[r.len - 1] <= '9' && r.p[0] != '-';
}

void op_create_bucket(rq_t *q, http_resp_t *resp)
{
    api_t *api = q->api;
    int rc;
    digest_final(&q->md5, (uint8_t[16]){0});
    q->want_md5 = false;
    if (!s3_bucket_name_valid(q->route.bucket)) {
        resp_error(q, resp, -SE_INVALID_BUCKET_NAME, NULL);
        return;
    }
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, SV_FMT, SV_ARG(q->route.bucket));
    snprintf(b.owner, sizeof b.owner, "%s", q->acct.id);
    snprintf(b.region, sizeof b.region, "%s", api->region);
    if (q->body.len) {
        xml_node_t *root = xml_parse(q->a, q->body.p, q->body.len, &rc);
        if (!root || !sv_eq_cstr(root->name, "CreateBucketConfiguration")) {
            resp_error(q, resp, -SE_MALFORMED_XML, NULL);
            return;
        }
        sv_t loc = xml_child_text(root, "LocationConstraint");
        if (loc.p) {
            loc = sv_trim(loc);
            if (loc.len == 0 || !region_name_valid(loc) ||
                (sv_eq_cstr(loc, "us-east-1") && strcmp(api->region, "us-east-1") == 0)) {
                resp_error(q, resp, -SE_INVALID_LOCATION, NULL);
                return;
            }
            snprintf(b.region, sizeof b.region, SV_FMT, SV_ARG(loc));
        }
    } else if (strcmp(api->region, "us-east-1") != 0) {
        /* AWS: outside us-east-1 the constraint must name the endpoint's region */
        resp_error(q, resp, -SE_ILLEGAL_LOCATION, NULL);
        return;
    }
    /* Object Ownership and ACL headers (api/s3_acl.c) */
    struct acl_create *ac = arena_calloc(q->a, 1, sizeof *ac);
    if ((rc = acl_create_bucket_check(q, ac)) != 0) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    b.created_ms = now_ms();
    rc = store_bucket_create(api->store, &b);
    if (rc == 0)
        rc = acl_create_bucket_apply(q, ac);
    if (rc == -SE_BUCKET_EXISTS) {
        store_bucket_t old;
        if (store_bucket_get(api->store, q->route.bucket, &old) == 0 &&
            strcmp(old.owner, q->acct.id) == 0) {
            /* S3's legacy us-east-1 rule: re-creating a bucket you own there is 200 OK
             * (BucketAlreadyOwnedByYou everywhere else). The bucket is left as it is. */
            rc = strcmp(api->region, "us-east-1") == 0 && strcmp(old.region, "us-east-1") == 0
                     ? 0
                     : -SE_BUCKET_OWNED;
        }
    }
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 200);
    resp_header(q, resp, "Location", arena_sprintf(q->a, "/%s", b.name));
}

void op_delete_bucket(rq_t *q, http_resp_t *resp)
{
    int rc = store_bucket_delete(q->api->store, q->route.bucket);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

void op_head_bucket(rq_t *q, http_resp_t *resp)
{
    resp_empty(q, resp, 200);
    resp_header(q, resp, "x-amz-bucket-region", arena_sprintf(q->a, "%s", q->bucket.region));
}

void op_get_bucket_location(rq_t *q, http_resp_t *resp)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"%s\">",
               S3_XMLNS);
    if (strcmp(q->bucket.region, "us-east-1") != 0)
        buf_xml_escape(&b, sv_from_cstr(q->bucket.region));
    buf_puts(&b, "</LocationConstraint>");
    resp_xml(q, resp, 200, &b);
}

/* ---- ListObjects V1 / V2 ------------------------------------------------------------------ */

struct list_args {
    bool v2;
    sv_t prefix, delimiter, marker, start_after, token;
    bool has_token;
    bool url;
    bool fetch_owner;
    size_t max_keys;
};

static int parse_list_args(rq_t *q, struct list_args *la, bool v2)
{
    bool present;
    memset(la, 0, sizeof *la);
    la->v2 = v2;
    la->prefix = s3_param(&q->route, "prefix", &present);
    la->delimiter = s3_param(&q->route, "delimiter", &present);
    la->marker = s3_param(&q->route, "marker", &present);
    la->start_after = s3_param(&q->route, "start-after", &present);
    la->token = s3_param(&q->route, "continuation-token", &la->has_token);
    sv_t enc = s3_param(&q->route, "encoding-type", &present);
    if (present) {
        if (!sv_eq_cstr(enc, "url"))
            return -SE_INVALID_ARGUMENT;
        la->url = true;
    }
    sv_t fo = s3_param(&q->route, "fetch-owner", &present);
    la->fetch_owner = !v2 || (present && sv_eq_cstr(fo, "true"));
    sv_t mk = s3_param(&q->route, "max-keys", &present);
    la->max_keys = 1000;
    if (present) {
        uint64_t v;
        if (sv_to_u64(mk, &v) != 0)
            return -SE_INVALID_ARGUMENT;
        la->max_keys = v > 1000 ? 1000 : (size_t)v;
    }
    return 0;
}

/* Continuation tokens are opaque to clients: base64 of "1:" + the marker to resume after. */
static sv_t token_encode(arena_t *a, sv_t marker)
{
    size_t n = marker.len + 2;
    uint8_t *raw = arena_alloc(a, n);
    raw[0] = '1';
    raw[1] = ':';
    memcpy(raw + 2, marker.p, marker.len);
    char *out = arena_alloc(a, 4 * ((n + 2) / 3) + 1);
    size_t len = base64_encode(raw, n, out);
    return (sv_t){out, len};
}

static int token_decode(arena_t *a, sv_t tok, sv_t *marker)
{
    if (tok.len == 0 || tok.len > 4 * 1100)
        return -1;
    uint8_t *raw = arena_alloc(a, tok.len);
    long n = base64_decode(tok, raw, tok.len);
    if (n < 2 || raw[0] != '1' || raw[1] != ':')
        return -1;
    *marker = (sv_t){(const char *)raw + 2, (size_t)n - 2};
    return 0;
}

static void list_objects(rq_t *q, http_resp_t *resp, bool v2)
{
    struct list_args la;
    int rc = parse_list_args(q, &la, v2);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    store_list_opts_t o = {la.prefix, la.delimiter, SV_NULL, la.max_keys};
    if (v2) {
        if (la.has_token && la.token.len) { /* an empty token is echoed, not an error */
            if (token_decode(q->a, la.token, &o.start_after) != 0) {
                resp_error(q, resp, -SE_INVALID_ARGUMENT,
                           "The continuation token provided is incorrect");
                return;
            }
        } else {
            o.start_after = la.start_after;
        }
    } else {
        o.start_after = la.marker;
    }
    store_list_result_t r = {0};
    if (la.max_keys > 0 && (rc = store_list(q->api->store, q->route.bucket, &o, q->a, &r)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    owner_cache_t oc = {0};

    buf_t b = BUF_INIT;
    xml_begin(&b, "ListBucketResult");
    xml_elem(&b, "Name", q->route.bucket);
    /* V1 returns Prefix as sent even with encoding-type=url: S3 does, and botocore, which
     * decodes V1's Delimiter, Marker, NextMarker and keys, leaves V1's Prefix alone (V2 is
     * decoded throughout, so V2 encodes it) */
    xml_elem_enc(&b, "Prefix", la.prefix, la.url && v2);
    if (v2) {
        if (la.has_token)
            xml_elem(&b, "ContinuationToken", la.token);
        if (la.start_after.len)
            xml_elem_enc(&b, "StartAfter", la.start_after, la.url);
        buf_printf(&b, "<KeyCount>%zu</KeyCount>", r.nobjs + r.nprefixes);
    } else {
        xml_elem_enc(&b, "Marker", la.marker, la.url);
    }
    buf_printf(&b, "<MaxKeys>%zu</MaxKeys>", la.max_keys);
    if (la.delimiter.len)
        xml_elem_enc(&b, "Delimiter", la.delimiter, la.url);
    if (la.url)
        xml_elem_c(&b, "EncodingType", "url");
    buf_printf(&b, "<IsTruncated>%s</IsTruncated>", r.truncated ? "true" : "false");
    if (r.truncated) {
        if (v2)
            xml_elem(&b, "NextContinuationToken", token_encode(q->a, r.next));
        else if (la.delimiter.len)
            xml_elem_enc(&b, "NextMarker", r.next, la.url);
    }
    for (size_t i = 0; i < r.nobjs; i++) {
        const store_obj_t *ob = &r.objs[i];
        char date[32], etag[80];
        fmt_iso8601(ob->mtime_ms, date);
        fmt_etag(ob->etag, etag);
        buf_puts(&b, "<Contents>");
        xml_elem_enc(&b, "Key", (sv_t){ob->key, ob->key_len}, la.url);
        xml_elem_c(&b, "LastModified", date);
        xml_elem_c(&b, "ETag", etag);
        checksum_list_elems(&b, ob);
        buf_printf(&b, "<Size>%llu</Size>", (unsigned long long)ob->size);
        if (la.fetch_owner) {
            const account_t *a = owner_lookup(q, &oc, ob->owner);
            if (a)
                owner_xml(&b, "Owner", a);
        }
        xml_elem_c(&b, "StorageClass", ob->storage_class[0] ? ob->storage_class : "STANDARD");
        buf_puts(&b, "</Contents>");
    }
    for (size_t i = 0; i < r.nprefixes; i++) {
        buf_puts(&b, "<CommonPrefixes>");
        xml_elem_enc(&b, "Prefix", r.prefixes[i], la.url);
        buf_puts(&b, "</CommonPrefixes>");
    }
    buf_puts(&b, "</ListBucketResult>");
    resp_xml(q, resp, 200, &b);
}

void op_list_objects(rq_t *q, http_resp_t *resp)
{
    list_objects(q, resp, false);
}

void op_list_objects_v2(rq_t *q, http_resp_t *resp)
{
    list_objects(q, resp, true);
}
