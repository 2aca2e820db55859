/* api/s3_versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions.
 *
 * The bucket's state lives in the store (store_versioning_*); which version a write becomes is
 * decided there, at commit. MFA Delete is not supported: a request to enable it is refused
 * with NotImplemented (saying so) rather than accepted and ignored. */
#include "api/api_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "s3/xml.h"

#include <stdio.h>
#include <string.h>

/* ---- Put/GetBucketVersioning -------------------------------------------------------------- */

void op_put_bucket_versioning(rq_t *q, http_resp_t *resp)
{
    int rc;
    digest_final(&q->md5, (uint8_t[16]){0});
    q->want_md5 = false;
    if (q->body.len == 0) {
        resp_error(q, resp, -SE_MISSING_BODY, NULL);
        return;
    }
    xml_node_t *root = xml_parse(q->a, q->body.p, q->body.len, &rc);
    if (!root || !sv_eq_cstr(root->name, "VersioningConfiguration")) {
        resp_error(q, resp, -SE_MALFORMED_XML, NULL);
        return;
    }
    sv_t st = xml_child_text(root, "Status");
    sv_t mfa = xml_child_text(root, "MfaDelete");
    if (!mfa.p)
        mfa = xml_child_text(root, "MFADelete");
    if (mfa.p) {
        mfa = sv_trim(mfa);
        if (sv_eq_cstr(mfa, "Enabled")) {
            resp_error(q, resp, -SE_NOT_IMPLEMENTED,
                       "MFA Delete is not supported by this server; send MfaDelete Disabled or "
                       "leave it out");
            return;
        }
        if (!sv_eq_cstr(mfa, "Disabled")) {
            resp_error(q, resp, -SE_ILLEGAL_VERSIONING,
                       "The MfaDelete element must be Enabled or Disabled");
            return;
        }
    }
    enum store_versioning v;
    if (!st.p) {
        if (!mfa.p) {
            resp_error(q, resp, -SE_ILLEGAL_VERSIONING, NULL);
            return;
        }
        resp_empty(q, resp, 200); /* MfaDelete Disabled alone: nothing to change */
        return;
    }
    st = sv_trim(st);
    if (sv_eq_cstr(st, "Enabled"))
        v = STORE_VERSIONING_ENABLED;
    else if (sv_eq_cstr(st, "Suspended"))
        v = STORE_VERSIONING_SUSPENDED;
    else {
        resp_error(q, resp, -SE_ILLEGAL_VERSIONING,
                   "The Status element must be Enabled or Suspended");
        return;
    }
    if ((rc = store_versioning_put(q->api->store, q->route.bucket, v)) != 0) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 200);
}

void op_get_bucket_versioning(rq_t *q, http_resp_t *resp)
{
    enum store_versioning v;
    int rc = store_versioning_get(q->api->store, q->route.bucket, &v);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "VersioningConfiguration");
    if (v == STORE_VERSIONING_ENABLED)
        xml_elem_c(&b, "Status", "Enabled");
    else if (v == STORE_VERSIONING_SUSPENDED)
        xml_elem_c(&b, "Status", "Suspended");
    buf_puts(&b, "</VersioningConfiguration>");
    resp_xml(q, resp, 200, &b);
}

/* ---- ListObjectVersions ------------------------------------------------------------------- */

static void owner_elem(rq_t *q, buf_t *b, owner_cache_t *c, const char *owner)
{
    const account_t *a = owner_lookup(q, c, owner);
    if (a)
        owner_xml(b, "Owner", a);
}

void op_list_object_versions(rq_t *q, http_resp_t *resp)
{
    bool present;
    store_lv_opts_t o = {0};
    o.prefix = s3_param(&q->route, "prefix", &present);
    o.delimiter = s3_param(&q->route, "delimiter", &present);
    o.key_marker = s3_param(&q->route, "key-marker", &present);
    o.version_id_marker = s3_param(&q->route, "version-id-marker", &present);
    bool url = false;
    sv_t enc = s3_param(&q->route, "encoding-type", &present);
    if (present) {
        if (!sv_eq_cstr(enc, "url")) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
            return;
        }
        url = true;
    }
    o.max_keys = 1000;
    sv_t mk = s3_param(&q->route, "max-keys", &present);
    if (present) {
        uint64_t v;
        if (sv_to_u64(mk, &v) != 0) {
            resp_error(q, resp, -SE_INVALID_ARGUMENT, "Provided max-keys not an integer or within integer range");
            return;
        }
        o.max_keys = v > 1000 ? 1000 : (size_t)v;
    }
    store_lv_result_t r = {0};
    r.next_version_id = "";
    int rc = 0;
    if (o.version_id_marker.len && !o.key_marker.len)
        rc = -SE_INVALID_ARGUMENT;
    else if (o.max_keys > 0)
        rc = store_list_versions(q->api->store, q->route.bucket, &o, q->a, &r);
    if (rc) {
        resp_error(q, resp, rc,
                   rc == -SE_INVALID_ARGUMENT
                       ? "A version-id marker cannot be specified without a key marker."
                       : NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "ListVersionsResult");
    xml_elem(&b, "Name", q->route.bucket);
    xml_elem_enc(&b, "Prefix", o.prefix, url);
    xml_elem_enc(&b, "KeyMarker", o.key_marker, url);
    xml_elem(&b, "VersionIdMarker", o.version_id_marker);
    if (r.truncated) {
        xml_elem_enc(&b, "NextKeyMarker", r.next_key, url);
        if (r.next_version_id[0])
            xml_elem_c(&b, "NextVersionIdMarker", r.next_version_id);
    }
    buf_printf(&b, "<MaxKeys>%zu</MaxKeys>", o.max_keys);
    if (o.delimiter.len)
        xml_elem_enc(&b, "Delimiter", o.delimiter, url);
    if (url)
        xml_elem_c(&b, "EncodingType", "url");
    buf_printf(&b, "<IsTruncated>%s</IsTruncated>", r.truncated ? "true" : "false");
    owner_cache_t oc = {0};
    for (size_t i = 0; i < r.nvers; i++) {
        const store_obj_t *v = &r.vers[i];
        char date[32];
        fmt_iso8601(v->mtime_ms, date);
        buf_puts(&b, v->delete_marker ? "<DeleteMarker>" : "<Version>");
        xml_elem_enc(&b, "Key", (sv_t){v->key, v->key_len}, url);
        xml_elem_c(&b, "VersionId", v->version_id);
        xml_elem_c(&b, "IsLatest", r.latest[i] ? "true" : "false");
        xml_elem_c(&b, "LastModified", date);
        if (!v->delete_marker) {
            char etag[80];
            fmt_etag(v->etag, etag);
            xml_elem_c(&b, "ETag", etag);
            checksum_list_elems(&b, v);
            buf_printf(&b, "<Size>%llu</Size>", (unsigned long long)v->size);
            xml_elem_c(&b, "StorageClass", v->storage_class[0] ? v->storage_class : "STANDARD");
        }
        owner_elem(q, &b, &oc, v->owner);
        buf_puts(&b, v->delete_marker ? "</DeleteMarker>" : "</Version>");
    }
    for (size_t i = 0; i < r.nprefixes; i++) {
        buf_puts(&b, "<CommonPrefixes>");
        xml_elem_enc(&b, "Prefix", r.prefixes[i], url);
        buf_puts(&b, "</CommonPrefixes>");
    }
    buf_puts(&b, "</ListVersionsResult>");
    resp_xml(q, resp, 200, &b);
}

/* ---- helpers for the object handlers ------------------------------------------------------ */

int version_param(rq_t *q, const char **out)
{
    bool present = false;
    sv_t v = s3_param(&q->route, "versionId", &present);
    *out = NULL;
    if (!present)
        return 0;
    if (v.len == 0)
        return -SE_INVALID_ARGUMENT; /* VERSION_ID_EMPTY_MSG */
    *out = arena_svdup(q->a, v);
    return 0;
}

void version_headers(rq_t *q, http_resp_t *resp, const char *vid, bool dm)
{
    if (vid && vid[0])
        resp_header(q, resp, "x-amz-version-id", arena_strndup(q->a, vid, strlen(vid)));
    if (dm)
        resp_header(q, resp, "x-amz-delete-marker", "true");
}

void version_header_write(rq_t *q, http_resp_t *resp, const char *vid)
{
    /* A write into a Suspended bucket makes the "null" version; like S3 (and as ceph
     * s3-tests' test_versioning_bucket_*_return_version_id check) the write's response then
     * carries no x-amz-version-id. DeleteObject still reports "null" with its delete marker. */
    if (vid && strcmp(vid, "null") != 0)
        version_headers(q, resp, vid, false);
}
