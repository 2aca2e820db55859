/* api/s3_tagging: object tags (x-amz-tagging on writes, Get/Put/DeleteObjectTagging) and bucket
 * tags (Get/Put/DeleteBucketTagging).
 *
 * Object tags live in the object's record (store_obj_t.tags) and are rewritten with
 * store_obj_update(), which keeps the data, the ETag and Last-Modified (S3 does not change an
 * object's Last-Modified when its tags change). ?versionId names the version; its record is
 * read with store_get() and the same version id is passed back in the update. Bucket tags are
 * the bucket's "tagging" configuration document, stored as the canonical Tagging XML (what
 * GetBucketTagging returns). Parsing and validation are s3/tagging.c (pure, fuzzed).
 */
#include "api/api_int.h"
#include "api/authz_int.h"
#include "core/err.h"
#include "s3/tagging.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Turns a tagging error into the request's error message and extra Error elements. */
static int tag_fail(rq_t *q, const tag_err_t *e)
{
    q->err_msg = e->msg;
    buf_t x = BUF_INIT;
    if (e->tag_key.p)
        xml_elem(&x, "TagKey", e->tag_key);
    if (e->arg_name) {
        xml_elem_c(&x, "ArgumentName", e->arg_name);
        xml_elem(&x, "ArgumentValue", e->arg_value);
    }
    if (x.len)
        q->err_extra = arena_strndup(q->a, x.p, x.len);
    buf_release(&x);
    return e->rc;
}

int tagging_from_header(rq_t *q, store_obj_t *meta)
{
    sv_t h = rq_header(q, "x-amz-tagging");
    if (!h.p)
        return 0;
    tag_set_t ts;
    tag_err_t e;
    if (tagging_parse_header(q->a, h, TAGGING_MAX_OBJECT, &ts, &e) != 0)
        return tag_fail(q, &e);
    meta->tags = ts.tags;
    meta->ntags = ts.n;
    return 0;
}

/* PutObjectTagging and PutBucketTagging require Content-MD5 (or an additional checksum, which
 * body_finish has verified), as on S3. */
static int require_body_digest(rq_t *q)
{
    return body_md5_verify(q, true, NULL);
}

/* The addressed object version: ?versionId ("null" means the null version, which the store
 * calls ""). A delete marker has no tags: 405 as on S3. */
static int load_object(rq_t *q, store_obj_t *o, const char **version)
{
    bool present = false;
    sv_t vid = s3_param(&q->route, "versionId", &present);
    *version = present ? arena_svdup(q->a, vid) : NULL;
    const char *sv = *version && strcmp(*version, "null") == 0 ? NULL : *version;
    if (present && vid.len == 0) {
        q->err_msg = "Version id cannot be the empty string";
        return -SE_INVALID_ARGUMENT;
    }
    int rc = store_get(q->api->store, q->route.bucket, q->route.key, sv, q->a, o, NULL);
    if (rc)
        return rc;
    if (o->delete_marker)
        return -SE_METHOD_NOT_ALLOWED;
    return 0;
}

static void version_header(rq_t *q, http_resp_t *resp, const store_obj_t *o)
{
    if (o->version_id[0])
        resp_header(q, resp, "x-amz-version-id", o->version_id);
}

static int set_object_tags(rq_t *q, store_obj_t *o, kv_t *tags, size_t n)
{
    o->tags = tags;
    o->ntags = n;
    /* keep Last-Modified: the store uses a nonzero mtime as given */
    return store_obj_update(q->api->store, q->route.bucket, o);
}

void op_get_object_tagging(rq_t *q, http_resp_t *resp)
{
    store_obj_t o;
    const char *version;
    int rc = load_object(q, &o, &version);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "Tagging");
    tagging_xml_tagset(&b, o.tags, o.ntags);
    buf_puts(&b, "</Tagging>");
    resp_xml(q, resp, 200, &b);
    version_header(q, resp, &o);
}

void op_put_object_tagging(rq_t *q, http_resp_t *resp)
{
    int rc = require_body_digest(q);
    tag_set_t ts;
    tag_err_t e;
    if (!rc &&
        (rc = tagging_parse_xml(q->a, q->body.p, q->body.len, TAGGING_MAX_OBJECT, &ts, &e)) != 0)
        rc = tag_fail(q, &e); /* sets q->err_msg: not in the same call's arguments */
    if (rc && q->body_tags_deferred) {
        rc = -SE_ACCESS_DENIED; /* never found to be allowed: say no more than that */
        q->err_msg = q->err_extra = NULL;
    }
    /* Authorized again with the body's tags (s3:RequestObjectTag/<key>, RequestObjectTagKeys):
     * a policy may allow or deny by them. */
    if (!rc && (rc = authz_body_tags(q, ts.tags, ts.n)) != 0)
        q->err_msg = q->err_extra = NULL;
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    store_obj_t o;
    const char *version;
    if ((rc = load_object(q, &o, &version)) != 0 ||
        (rc = set_object_tags(q, &o, ts.tags, ts.n)) != 0) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    resp_empty(q, resp, 200);
    version_header(q, resp, &o);
}

void op_delete_object_tagging(rq_t *q, http_resp_t *resp)
{
    store_obj_t o;
    const char *version;
    int rc = load_object(q, &o, &version);
    if (rc == 0 && o.ntags)
        rc = set_object_tags(q, &o, NULL, 0);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    resp_empty(q, resp, 204);
    version_header(q, resp, &o);
}

/* ---- bucket tagging ---------------------------------------------------------------------- */

void op_get_bucket_tagging(rq_t *q, http_resp_t *resp)
{
    buf_t doc = BUF_INIT;
    int rc = store_bucket_conf_get(q->api->store, q->route.bucket, "tagging", &doc);
    if (rc == -ENOENT || (rc == 0 && doc.len == 0)) {
        buf_release(&doc);
        buf_t x = BUF_INIT;
        xml_elem(&x, "BucketName", q->route.bucket);
        q->err_extra = arena_strndup(q->a, x.p, x.len);
        buf_release(&x);
        resp_error(q, resp, -SE_NO_SUCH_TAG_SET, NULL);
        return;
    }
    if (rc) {
        buf_release(&doc);
        resp_error(q, resp, rc, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_append(&b, doc.p, doc.len);
    buf_release(&doc);
    resp_xml(q, resp, 200, &b);
}

void op_put_bucket_tagging(rq_t *q, http_resp_t *resp)
{
    int rc = require_body_digest(q);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    tag_set_t ts;
    tag_err_t e;
    if ((rc = tagging_parse_xml(q->a, q->body.p, q->body.len, TAGGING_MAX_BUCKET, &ts, &e)) != 0) {
        rc = tag_fail(q, &e); /* sets q->err_msg: not in the same call's arguments */
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    /* An empty TagSet leaves the bucket without tags (GetBucketTagging: NoSuchTagSet). */
    buf_t doc = BUF_INIT;
    if (ts.n) {
        buf_printf(&doc, "<Tagging xmlns=\"%s\">", S3_XMLNS);
        tagging_xml_tagset(&doc, ts.tags, ts.n);
        buf_puts(&doc, "</Tagging>");
    }
    rc = store_bucket_conf_put(q->api->store, q->route.bucket, "tagging", buf_sv(&doc));
    buf_release(&doc);
    if (rc && !(rc == -ENOENT && ts.n == 0)) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

void op_delete_bucket_tagging(rq_t *q, http_resp_t *resp)
{
    int rc = store_bucket_conf_put(q->api->store, q->route.bucket, "tagging", SV(""));
    if (rc && rc != -ENOENT) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}
