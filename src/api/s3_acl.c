/* api/s3_acl: access control lists — canned ACLs, x-amz-grant-* headers, the
 * AccessControlPolicy XML, and their storage; Get/PutBucketAcl, Get/PutObjectAcl.
 *
 * Storage (JSON, compact): {"o": owner canonical id, "g": [[type, id, perm], ...]} with type
 * "u" (canonical user), "a" (AllUsers), "t" (AuthenticatedUsers), "l" (LogDelivery) and perm
 * the enum acl_perm bits (15 = FULL_CONTROL). Bucket ACLs are the bucket's "acl" configuration
 * document. Object ACLs live in the metadata namespace "object-acl" under
 * "<bucket id>/<version id>/<key>" with "b": "<mtime>:<etag>" binding them to the version they
 * were written for: a record left behind by an overwrite or delete (same version id, another
 * object) no longer matches and the object falls back to its default ACL (owner FULL_CONTROL),
 * so a stale grant can never leak onto a new object.
 *
 * With Object Ownership BucketOwnerEnforced, ACLs do not grant anything (api/authz.c skips
 * them) and writes of any ACL other than the owner's full control fail with
 * AccessControlListNotSupported, as on S3. Reads still answer (owner FULL_CONTROL). */
#include "api/authz_int.h"
#include "core/err.h"
#include "core/log.h"
#include "s3/acl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI_ALL S3ACL_URI_ALL_USERS
#define URI_AUTH S3ACL_URI_AUTH_USERS
#define URI_LOG S3ACL_URI_LOG_DELIVERY

/* ---- building ---------------------------------------------------------------------------- */

static void add_grant(acl_t *acl, enum acl_grantee t, const char *id, unsigned perm)
{
    for (size_t i = 0; i < acl->ngrants; i++) {
        acl_grant_t *g = &acl->grants[i];
        if (g->type == t && g->perm == perm && (t != ACL_G_CANONICAL || strcmp(g->id, id) == 0))
            return; /* the same grant twice */
    }
    if (acl->ngrants == ACL_MAX_GRANTS)
        return;
    acl_grant_t *g = &acl->grants[acl->ngrants++];
    g->type = t;
    snprintf(g->id, sizeof g->id, "%s", t == ACL_G_CANONICAL && id ? id : "");
    g->perm = perm;
}

static void acl_init(acl_t *acl, const char *owner_cid)
{
    memset(acl, 0, sizeof *acl);
    snprintf(acl->owner, sizeof acl->owner, "%s", owner_cid);
}

int acl_canned(sv_t name, const char *owner_cid, const char *bucket_owner_cid, bool bucket,
               acl_t *out)
{
    acl_init(out, owner_cid);
    add_grant(out, ACL_G_CANONICAL, owner_cid, ACL_FULL_CONTROL);
    name = sv_trim(name);
    if (sv_eq_cstr(name, "private") || sv_eq_cstr(name, "aws-exec-read"))
        return 0;
    if (sv_eq_cstr(name, "public-read")) {
        add_grant(out, ACL_G_ALL_USERS, NULL, ACL_READ);
    } else if (sv_eq_cstr(name, "public-read-write")) {
        add_grant(out, ACL_G_ALL_USERS, NULL, ACL_READ);
        add_grant(out, ACL_G_ALL_USERS, NULL, ACL_WRITE);
    } else if (sv_eq_cstr(name, "authenticated-read")) {
        add_grant(out, ACL_G_AUTH_USERS, NULL, ACL_READ);
    } else if (sv_eq_cstr(name, "bucket-owner-read")) {
        if (!bucket)
            add_grant(out, ACL_G_CANONICAL, bucket_owner_cid, ACL_READ);
    } else if (sv_eq_cstr(name, "bucket-owner-full-control")) {
        if (!bucket)
            add_grant(out, ACL_G_CANONICAL, bucket_owner_cid, ACL_FULL_CONTROL);
    } else if (sv_eq_cstr(name, "log-delivery-write")) {
        add_grant(out, ACL_G_LOG_DELIVERY, NULL, ACL_WRITE);
        add_grant(out, ACL_G_LOG_DELIVERY, NULL, ACL_READ_ACP);
    } else {
        return -SE_INVALID_ARGUMENT;
    }
    return 0;
}

bool acl_is_public(const acl_t *acl)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].type == ACL_G_ALL_USERS || acl->grants[i].type == ACL_G_AUTH_USERS)
            return true;
    return false;
}

/* Accounts by email: a scan of the (small) accounts namespace. */
struct email_scan {
    sv_t email;
    char cid[72];
    bool found;
};

static int email_cb(void *ctx, sv_t key, sv_t val)
{
    struct email_scan *e = ctx;
    json_t *o = json_loadb(val.p, val.len, 0, NULL);
    if (!o)
        return 0;
    const char *em = json_string_value(json_object_get(o, "email"));
    const char *cid = json_string_value(json_object_get(o, "canonical_id"));
    if (em && cid && *em && e->email.len == strlen(em) &&
        strncasecmp(em, e->email.p, e->email.len) == 0) {
        snprintf(e->cid, sizeof e->cid, "%s", cid);
        e->found = true;
    }
    json_decref(o);
    return e->found;
}

static int resolve_email(rq_t *q, sv_t email, char cid[72])
{
    struct email_scan e = {.email = email};
    int rc = store_meta_list(q->api->store, "accounts", SV(""), email_cb, &e);
    if (rc)
        return rc;
    if (!e.found)
        return -SE_UNRESOLVABLE_GRANT;
    snprintf(cid, 72, "%s", e.cid);
    return 0;
}

static int grantee_uri(sv_t uri, enum acl_grantee *t)
{
    static const enum acl_grantee g[] = {ACL_G_ALL_USERS, ACL_G_AUTH_USERS, ACL_G_LOG_DELIVERY};
    int which;
    if (s3acl_group(uri, &which) != 0)
        return -SE_INVALID_ARGUMENT;
    *t = g[which];
    return 0;
}

static int canonical_known(rq_t *q, sv_t id)
{
    account_t a;
    if (id.len == 0 || id.len >= 72)
        return -SE_INVALID_ARGUMENT;
    int rc = accounts_by_canonical(q->api->store, id, &a);
    if (rc == -ENOENT)
        return -SE_INVALID_ARGUMENT;
    return rc;
}

/* InvalidArgument with S3's message and ArgumentName / ArgumentValue elements. */
static int invalid_arg(rq_t *q, const char *msg, const char *name, sv_t value)
{
    buf_t x = BUF_INIT;
    xml_elem_c(&x, "ArgumentName", name);
    xml_elem(&x, "ArgumentValue", value);
    q->err_msg = msg;
    q->err_extra = arena_strndup(q->a, x.p, x.len);
    buf_release(&x);
    return -SE_INVALID_ARGUMENT;
}

/* A parse error of s3/acl as the request's error (message, ArgumentName/ArgumentValue). */
static int parse_fail(rq_t *q, const s3acl_err_t *e)
{
    if (e->arg_name)
        return invalid_arg(q, e->msg, e->arg_name, e->arg_value);
    q->err_msg = e->msg;
    return e->rc;
}

/* Parsed grants (s3/acl) -> acl: a canonical id must name an account (InvalidArgument
 * "Invalid id", ArgumentName id_arg), an email address too (UnresolvableGrantByEmailAddress). */
static int resolve_grants(rq_t *q, const s3acl_grant_t *g, size_t n, const char *id_arg,
                          acl_t *acl)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        enum acl_grantee t;
        char cid[72];
        switch (g[i].kind) {
        case S3ACL_ID:
            if ((rc = canonical_known(q, g[i].value)) != 0)
                return rc == -SE_INVALID_ARGUMENT ? invalid_arg(q, "Invalid id", id_arg, g[i].value)
                                                  : rc;
            add_grant(acl, ACL_G_CANONICAL, arena_svdup(q->a, g[i].value), g[i].perm);
            break;
        case S3ACL_URI:
            if (grantee_uri(g[i].value, &t) != 0)
                return invalid_arg(q, "Invalid group uri", "uri", g[i].value);
            add_grant(acl, t, NULL, g[i].perm);
            break;
        case S3ACL_EMAIL:
            if ((rc = resolve_email(q, g[i].value, cid)) != 0)
                return rc;
            add_grant(acl, ACL_G_CANONICAL, cid, g[i].perm);
            break;
        }
    }
    return 0;
}

int acl_from_headers(rq_t *q, const char *owner_cid, const char *bucket_owner_cid, bool bucket,
                     acl_t *out, bool *present)
{
    static const struct {
        const char *h;
        unsigned perm;
    } gh[] = {{"x-amz-grant-read", ACL_READ},
              {"x-amz-grant-write", ACL_WRITE},
              {"x-amz-grant-read-acp", ACL_READ_ACP},
              {"x-amz-grant-write-acp", ACL_WRITE_ACP},
              {"x-amz-grant-full-control", ACL_FULL_CONTROL}};
    sv_t canned = rq_header(q, "x-amz-acl");
    bool grants = false;
    for (size_t i = 0; i < 5; i++)
        if (rq_header(q, gh[i].h).p)
            grants = true;
    *present = canned.p || grants;
    if (canned.p && grants) {
        q->err_msg = "Specifying both Canned ACLs and Header Grants is not allowed";
        return -SE_INVALID_REQUEST;
    }
    if (canned.p)
        return acl_canned(canned, owner_cid, bucket_owner_cid, bucket, out);
    acl_init(out, owner_cid);
    if (!grants)
        return 0;
    s3acl_grant_t *g = arena_calloc(q->a, S3ACL_MAX_GRANTS, sizeof *g);
    size_t n = 0;
    s3acl_err_t e;
    for (size_t i = 0; i < 5; i++) {
        sv_t v = rq_header(q, gh[i].h);
        if (v.p && s3acl_parse_header(v, gh[i].h, gh[i].perm, g, &n, &e) != 0)
            return parse_fail(q, &e);
    }
    return resolve_grants(q, g, n, "id", out);
}

/* ---- storage ----------------------------------------------------------------------------- */

static const char gtype_ch[] = "uatl";

static char *acl_encode(const acl_t *acl, const char *binding)
{
    json_t *o = json_object(), *g = json_array();
    json_object_set_new(o, "o", json_string(acl->owner));
    if (binding)
        json_object_set_new(o, "b", json_string(binding));
    for (size_t i = 0; i < acl->ngrants; i++) {
        const acl_grant_t *x = &acl->grants[i];
        char t[2] = {gtype_ch[x->type], 0};
        json_array_append_new(g, json_pack("[ssi]", t, x->id, (int)x->perm));
    }
    json_object_set_new(o, "g", g);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* 0, or -SE_CORRUPT. binding_out may be NULL. */
static int acl_decode(sv_t doc, acl_t *acl, char *binding_out, size_t bcap)
{
    json_t *o = json_loadb(doc.p ? doc.p : "", doc.len, 0, NULL);
    if (!o)
        return -SE_CORRUPT;
    const char *owner = json_string_value(json_object_get(o, "o"));
    acl_init(acl, owner ? owner : "");
    if (binding_out) {
        const char *b = json_string_value(json_object_get(o, "b"));
        snprintf(binding_out, bcap, "%s", b ? b : "");
    }
    json_t *g = json_object_get(o, "g"), *it;
    size_t i;
    int rc = 0;
    json_array_foreach(g, i, it) {
        const char *t = json_string_value(json_array_get(it, 0));
        const char *id = json_string_value(json_array_get(it, 1));
        json_int_t perm = json_integer_value(json_array_get(it, 2));
        const char *p = t ? strchr(gtype_ch, t[0]) : NULL;
        if (!p || !*t || !id || perm <= 0 || perm > 15) {
            rc = -SE_CORRUPT;
            break;
        }
        add_grant(acl, (enum acl_grantee)(p - gtype_ch), id, (unsigned)perm);
    }
    json_decref(o);
    return rc;
}

static const char *owner_cid_of_account(rq_t *q, const char *acct_id)
{
    if (!q->anonymous && strcmp(acct_id, q->acct.id) == 0)
        return q->acct.canonical_id;
    account_t a;
    if (accounts_get(q->api->store, sv_from_cstr(acct_id), &a) != 0)
        return "";
    return arena_strndup(q->a, a.canonical_id, strlen(a.canonical_id));
}

const char *acl_account_cid(rq_t *q, const char *acct_id)
{
    return owner_cid_of_account(q, acct_id);
}

int acl_bucket_get(rq_t *q, const store_bucket_t *b, acl_t *out)
{
    buf_t d = BUF_INIT;
    int rc = store_bucket_conf_get(q->api->store, sv_from_cstr(b->name), "acl", &d);
    if (rc == -ENOENT) {
        const char *cid = owner_cid_of_account(q, b->owner);
        acl_init(out, cid);
        add_grant(out, ACL_G_CANONICAL, cid, ACL_FULL_CONTROL);
        rc = 0;
    } else if (rc == 0) {
        rc = acl_decode(buf_sv(&d), out, NULL, 0);
    }
    buf_release(&d);
    return rc;
}

int acl_bucket_put(rq_t *q, sv_t bucket, const acl_t *acl)
{
    char *s = acl_encode(acl, NULL);
    int rc = store_bucket_conf_put(q->api->store, bucket, "acl", sv_from_cstr(s));
    free(s);
    return rc;
}

static char *obj_acl_key(rq_t *q, const store_bucket_t *b, const store_obj_t *o)
{
    return arena_sprintf(q->a, "%016llx/%s/%.*s", (unsigned long long)b->id, o->version_id,
                         (int)o->key_len, o->key);
}

static char *obj_binding(rq_t *q, const store_obj_t *o)
{
    return arena_sprintf(q->a, "%lld:%s", (long long)o->mtime_ms, o->etag);
}

int acl_object_get(rq_t *q, const store_bucket_t *b, const store_obj_t *o, acl_t *out)
{
    buf_t d = BUF_INIT;
    int rc = store_meta_get(q->api->store, "object-acl", sv_from_cstr(obj_acl_key(q, b, o)), &d);
    char binding[128] = "";
    if (rc == 0) {
        rc = acl_decode(buf_sv(&d), out, binding, sizeof binding);
        if (rc == 0 && strcmp(binding, obj_binding(q, o)) != 0)
            rc = -ENOENT; /* left from an older object under the same name */
    }
    buf_release(&d);
    if (rc == -ENOENT) {
        /* Default: the object owner (the bucket owner when ACLs are disabled) has
         * FULL_CONTROL. */
        const char *owner = o->owner[0] ? o->owner : b->owner;
        if (authz_ownership_get(q->api->store, sv_from_cstr(b->name), NULL) ==
            OWN_BUCKET_OWNER_ENFORCED)
            owner = b->owner;
        const char *cid = owner_cid_of_account(q, owner);
        acl_init(out, cid);
        add_grant(out, ACL_G_CANONICAL, cid, ACL_FULL_CONTROL);
        rc = 0;
    }
    return rc;
}

int acl_object_put(rq_t *q, const store_bucket_t *b, const store_obj_t *o, const acl_t *acl)
{
    char *s = acl_encode(acl, obj_binding(q, o));
    int rc = store_meta_put(q->api->store, "object-acl", sv_from_cstr(obj_acl_key(q, b, o)),
                            sv_from_cstr(s));
    free(s);
    return rc;
}

/* The ACL the request's x-amz-acl / x-amz-grant-* headers give a new object, into acl;
 * *present false when the default ACL applies (no headers, or ACLs disabled). */
static int write_acl(rq_t *q, acl_t *acl, bool *present)
{
    *present = false;
    enum authz_ownership own = authz_ownership_get(q->api->store, q->route.bucket, NULL);
    if (own == OWN_BUCKET_OWNER_ENFORCED)
        return 0;
    const char *bucket_cid = owner_cid_of_account(q, q->bucket.owner);
    const char *writer_cid = q->anonymous ? bucket_cid : q->acct.canonical_id;
    int rc = acl_from_headers(q, writer_cid, bucket_cid, false, acl, present);
    if (rc)
        return rc;
    sv_t canned = rq_header(q, "x-amz-acl");
    if (own == OWN_BUCKET_OWNER_PREFERRED && canned.p &&
        sv_eq_cstr(sv_trim(canned), "bucket-owner-full-control")) {
        /* the bucket owner becomes the object's owner */
        acl_canned(SV("private"), bucket_cid, bucket_cid, false, acl);
        *present = true;
    }
    return 0;
}

/* Stores acl for the new version o of the request's key, bound to the version as stored (its
 * mtime and ETag as the store recorded them). */
static int put_new_object_acl(rq_t *q, const store_obj_t *o, const acl_t *acl)
{
    store_obj_t cur;
    int rc = store_get(q->api->store, q->route.bucket, q->route.key,
                       o->version_id[0] ? o->version_id : NULL, q->a, &cur, NULL);
    if (rc)
        return rc == -SE_NO_SUCH_KEY ? 0 : rc; /* already replaced or deleted */
    return acl_object_put(q, &q->bucket, &cur, acl);
}

int acl_after_object_write(rq_t *q, const store_obj_t *o)
{
    if (!q->have_bucket)
        return 0;
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    bool present = false;
    int rc = write_acl(q, acl, &present);
    if (rc || !present)
        return rc; /* without headers the default ACL applies */
    return put_new_object_acl(q, o, acl);
}

int acl_upload_doc(rq_t *q, sv_t *doc)
{
    *doc = SV_NULL;
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    bool present = false;
    int rc = write_acl(q, acl, &present);
    if (rc || !present)
        return rc;
    char *s = acl_encode(acl, NULL);
    *doc = sv_from_cstr(arena_strndup(q->a, s, strlen(s)));
    free(s);
    return 0;
}

int acl_upload_apply(rq_t *q, sv_t doc, const store_obj_t *o)
{
    if (!doc.len)
        return 0;
    /* ACLs turned off since the upload began: the object gets none, as any other now */
    if (authz_ownership_get(q->api->store, q->route.bucket, NULL) == OWN_BUCKET_OWNER_ENFORCED)
        return 0;
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    int rc = acl_decode(doc, acl, NULL, 0);
    if (rc)
        return rc;
    return put_new_object_acl(q, o, acl);
}

static bool acl_owner_only(const acl_t *acl, const char *bucket_cid);
static int check_acl_write(rq_t *q, enum authz_ownership own, const acl_t *acl,
                           const char *bucket_cid);

int acl_check_write_headers(rq_t *q)
{
    enum authz_ownership own = authz_ownership_get(q->api->store, q->route.bucket, NULL);
    const char *bucket_cid = owner_cid_of_account(q, q->bucket.owner);
    /* BucketOwnerEnforced: the bucket owner owns whatever is written */
    const char *writer_cid = own == OWN_BUCKET_OWNER_ENFORCED || q->anonymous
                                 ? bucket_cid
                                 : q->acct.canonical_id;
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    bool present = false;
    int rc = acl_from_headers(q, writer_cid, bucket_cid, false, acl, &present);
    if (rc || !present)
        return rc;
    return check_acl_write(q, own, acl, bucket_cid);
}

/* ---- XML --------------------------------------------------------------------------------- */

static const char *perm_name(unsigned p)
{
    switch (p) {
    case ACL_READ: return "READ";
    case ACL_WRITE: return "WRITE";
    case ACL_READ_ACP: return "READ_ACP";
    case ACL_WRITE_ACP: return "WRITE_ACP";
    default: return "FULL_CONTROL";
    }
}

static void display_name(rq_t *q, const char *cid, buf_t *b)
{
    account_t a;
    if (accounts_by_canonical(q->api->store, sv_from_cstr(cid), &a) == 0)
        xml_elem_c(b, "DisplayName", a.display_name);
}

static void acl_xml(rq_t *q, http_resp_t *resp, const acl_t *acl)
{
    buf_t b = BUF_INIT;
    xml_begin(&b, "AccessControlPolicy");
    buf_puts(&b, "<Owner>");
    xml_elem_c(&b, "ID", acl->owner);
    display_name(q, acl->owner, &b);
    buf_puts(&b, "</Owner><AccessControlList>");
    for (size_t i = 0; i < acl->ngrants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        buf_puts(&b, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ");
        if (g->type == ACL_G_CANONICAL) {
            buf_puts(&b, "xsi:type=\"CanonicalUser\">");
            xml_elem_c(&b, "ID", g->id);
            display_name(q, g->id, &b);
        } else {
            buf_puts(&b, "xsi:type=\"Group\">");
            xml_elem_c(&b, "URI", g->type == ACL_G_ALL_USERS    ? URI_ALL
                                  : g->type == ACL_G_AUTH_USERS ? URI_AUTH
                                                                : URI_LOG);
        }
        buf_puts(&b, "</Grantee>");
        xml_elem_c(&b, "Permission", perm_name(g->perm));
        buf_puts(&b, "</Grant>");
    }
    buf_puts(&b, "</AccessControlList></AccessControlPolicy>");
    resp_xml(q, resp, 200, &b);
}

/* <AccessControlPolicy> body -> acl, validated as S3 does: the document's form by s3/acl
 * (MalformedACLError; InvalidArgument for an unknown group), then an Owner/ID that names an
 * account (InvalidArgument "Invalid id") and is the resource's owner (AccessDenied: an ACL
 * cannot change the owner), then grantees that exist (InvalidArgument;
 * UnresolvableGrantByEmailAddress). */
static int acl_parse_xml(rq_t *q, const char *owner_cid, acl_t *out)
{
    s3acl_grant_t *g = arena_calloc(q->a, S3ACL_MAX_GRANTS, sizeof *g);
    size_t n = 0;
    sv_t oid;
    s3acl_err_t e;
    int rc;
    acl_init(out, owner_cid);
    if (s3acl_parse_xml(q->a, q->body.p, q->body.len, &oid, g, &n, &e) != 0)
        return parse_fail(q, &e);
    if ((rc = canonical_known(q, oid)) != 0)
        return rc == -SE_INVALID_ARGUMENT ? invalid_arg(q, "Invalid id", "CanonicalUser/ID", oid)
                                          : rc;
    if (!sv_eq_cstr(oid, owner_cid))
        return -SE_ACCESS_DENIED; /* S3 does not let an ACL change the owner */
    return resolve_grants(q, g, n, "CanonicalUser/ID", out);
}

/* The ACL of a Put*Acl request: headers or body (not both). */
static int acl_of_request(rq_t *q, const char *owner_cid, const char *bucket_cid, bool bucket,
                          acl_t *out)
{
    bool present = false;
    int rc = acl_from_headers(q, owner_cid, bucket_cid, bucket, out, &present);
    if (rc)
        return rc;
    if (present && q->body.len) {
        q->err_msg = "This request does not support content";
        return -SE_UNEXPECTED_CONTENT;
    }
    if (!present) {
        if (!q->body.len)
            return -SE_MISSING_SECURITY_HEADER;
        rc = acl_parse_xml(q, owner_cid, out);
    }
    return rc;
}

/* Only the owner, with FULL_CONTROL: what BucketOwnerEnforced accepts. */
static bool acl_owner_only(const acl_t *acl, const char *bucket_cid)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].type != ACL_G_CANONICAL || strcmp(acl->grants[i].id, bucket_cid) ||
            acl->grants[i].perm != ACL_FULL_CONTROL)
            return false;
    return true;
}

/* An ACL about to be written, under the bucket's Object Ownership: none but the owner's with
 * BucketOwnerEnforced, nothing public with BlockPublicAcls. */
static int check_acl_write(rq_t *q, enum authz_ownership own, const acl_t *acl,
                           const char *bucket_cid)
{
    if (own == OWN_BUCKET_OWNER_ENFORCED && !acl_owner_only(acl, bucket_cid))
        return -SE_ACL_NOT_SUPPORTED;
    authz_pab_t pab;
    authz_pab_effective(q->api->store, &q->bucket, &pab);
    if (pab.block_public_acls && acl_is_public(acl))
        return -SE_ACCESS_DENIED;
    return 0;
}

/* ---- handlers ---------------------------------------------------------------------------- */

void op_get_bucket_acl(rq_t *q, http_resp_t *resp)
{
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    int rc = acl_bucket_get(q, &q->bucket, acl);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    acl_xml(q, resp, acl);
}

void op_put_bucket_acl(rq_t *q, http_resp_t *resp)
{
    digest_final(&q->md5, (uint8_t[16]){0});
    q->want_md5 = false;
    const char *cid = owner_cid_of_account(q, q->bucket.owner);
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    int rc = acl_of_request(q, cid, cid, true, acl);
    if (!rc)
        rc = check_acl_write(q, authz_ownership_get(q->api->store, q->route.bucket, NULL), acl,
                             cid);
    if (!rc)
        rc = acl_bucket_put(q, q->route.bucket, acl);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    resp_empty(q, resp, 200);
}

static int load_obj(rq_t *q, store_obj_t *o)
{
    bool present;
    sv_t vid = s3_param(&q->route, "versionId", &present);
    const char *version = present && vid.p ? arena_svdup(q->a, vid) : NULL;
    memset(o, 0, sizeof *o);
    int rc = store_get(q->api->store, q->route.bucket, q->route.key, version, q->a, o, NULL);
    return rc;
}

/* The object asked for is a delete marker: 404 NoSuchKey for GetObjectAcl of the current
 * version; 405 MethodNotAllowed for one asked for by version, and for PutObjectAcl (a marker has
 * no ACL); both with x-amz-delete-marker and the marker's version id, as S3 answers. */
static bool marker_error(rq_t *q, http_resp_t *resp, int rc, const store_obj_t *o,
                         const char *method)
{
    if ((rc != -SE_NO_SUCH_KEY && rc != -SE_METHOD_NOT_ALLOWED) || !o->delete_marker)
        return false;
    if (rc == -SE_NO_SUCH_KEY && strcmp(method, "PUT") == 0)
        rc = -SE_METHOD_NOT_ALLOWED;
    if (rc == -SE_METHOD_NOT_ALLOWED)
        q->err_extra = arena_sprintf(q->a, "<Method>%s</Method><ResourceType>DeleteMarker"
                                           "</ResourceType>", method);
    resp_error(q, resp, rc, NULL);
    version_headers(q, resp, o->version_id, true);
    if (rc == -SE_METHOD_NOT_ALLOWED)
        resp_header(q, resp, "Allow", "DELETE");
    return true;
}

void op_get_object_acl(rq_t *q, http_resp_t *resp)
{
    store_obj_t o;
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    int rc = load_obj(q, &o);
    if (marker_error(q, resp, rc, &o, "GET"))
        return;
    if (!rc)
        rc = acl_object_get(q, &q->bucket, &o, acl);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    if (o.version_id[0])
        resp_header(q, resp, "x-amz-version-id", o.version_id);
    acl_xml(q, resp, acl);
}

void op_put_object_acl(rq_t *q, http_resp_t *resp)
{
    digest_final(&q->md5, (uint8_t[16]){0});
    q->want_md5 = false;
    store_obj_t o;
    int rc = load_obj(q, &o);
    if (marker_error(q, resp, rc, &o, "PUT"))
        return;
    acl_t *cur = arena_calloc(q->a, 1, sizeof *cur), *acl = arena_calloc(q->a, 1, sizeof *acl);
    const char *bucket_cid = owner_cid_of_account(q, q->bucket.owner);
    if (!rc)
        rc = acl_object_get(q, &q->bucket, &o, cur);
    if (!rc)
        rc = acl_of_request(q, cur->owner, bucket_cid, false, acl);
    if (!rc)
        rc = check_acl_write(q, authz_ownership_get(q->api->store, q->route.bucket, NULL), acl,
                             bucket_cid);
    if (!rc)
        rc = acl_object_put(q, &q->bucket, &o, acl);
    if (rc) {
        resp_error(q, resp, rc, q->err_msg);
        return;
    }
    if (o.version_id[0])
        resp_header(q, resp, "x-amz-version-id", o.version_id);
    resp_empty(q, resp, 200);
}

/* ---- CreateBucket ------------------------------------------------------------------------ */

int acl_create_bucket_check(rq_t *q, struct acl_create *c)
{
    sv_t oh = rq_header(q, "x-amz-object-ownership");
    c->ownership = authz_default_ownership();
    if (oh.p && authz_ownership_parse(sv_trim(oh), &c->ownership) != 0) {
        q->err_msg = "Invalid x-amz-object-ownership header";
        return -SE_INVALID_ARGUMENT;
    }
    const char *cid = q->acct.canonical_id;
    int rc = acl_from_headers(q, cid, cid, true, &c->acl, &c->acl_present);
    if (rc || !c->acl_present)
        return rc;
    if (c->ownership == OWN_BUCKET_OWNER_ENFORCED && !acl_owner_only(&c->acl, cid))
        return -SE_INVALID_BUCKET_ACL_OWNERSHIP;
    authz_pab_t ac = {0};
    if (authz_pab_account_get(q->api->store, q->acct.id, &ac) == 0 && ac.block_public_acls &&
        acl_is_public(&c->acl))
        return -SE_ACCESS_DENIED;
    return 0;
}

int acl_create_bucket_apply(rq_t *q, const struct acl_create *c)
{
    int rc = authz_ownership_put(q->api->store, q->route.bucket, &c->ownership);
    if (!rc && c->acl_present)
        rc = acl_bucket_put(q, q->route.bucket, &c->acl);
    return rc;
}
