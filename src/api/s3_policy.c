/* api/s3_policy: the bucket's access configuration documents — bucket policy (?policy,
 * ?policyStatus), Block Public Access (?publicAccessBlock, and the account-level setting via
 * the S3 Control path /v20180820/configuration/publicAccessBlock) and Object Ownership
 * (?ownershipControls). Authorization of these calls happens before (api/authz.c); here they
 * are validated and stored as bucket configuration documents. */
#include "api/authz_int.h"
#include "core/err.h"
#include "core/log.h"
#include "policy/policy.h"
#include "s3/xml.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Finishes the body MD5 and checks Content-MD5 when sent. */
static int body_md5_check(rq_t *q)
{
    return body_md5_verify(q, false, NULL);
}

static void bool_elem(buf_t *b, const char *name, bool v)
{
    xml_elem_c(b, name, v ? "true" : "false");
}

/* ---- bucket policy ----------------------------------------------------------------------- */

void op_put_bucket_policy(rq_t *q, http_resp_t *resp)
{
    int rc = body_md5_check(q);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    if (q->body.len == 0) {
        resp_error(q, resp, -SE_MALFORMED_POLICY, "Policies must be valid JSON and the first "
                                                  "byte must be '{'");
        return;
    }
    char err[512];
    policy_t *p = NULL;
    rc = policy_parse(q->body.p, q->body.len, POLICY_RESOURCE, &p, err, sizeof err);
    if (rc) {
        resp_error(q, resp, rc, arena_strndup(q->a, err, strlen(err)));
        return;
    }
    authz_pab_t pab;
    authz_pab_effective(q->api->store, &q->bucket, &pab);
    bool pub = policy_is_public(p);
    policy_unref(p);
    if (pab.block_public_policy && pub) {
        resp_error(q, resp, -SE_ACCESS_DENIED,
                   "User is not authorized to perform this action because BlockPublicPolicy is "
                   "enabled and the policy is public");
        return;
    }
    rc = store_bucket_conf_put(q->api->store, q->route.bucket, "policy", buf_sv(&q->body));
    authz_policy_changed();
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

void op_get_bucket_policy(rq_t *q, http_resp_t *resp)
{
    buf_t b = BUF_INIT;
    int rc = store_bucket_conf_get(q->api->store, q->route.bucket, "policy", &b);
    if (rc) {
        buf_release(&b);
        resp_error(q, resp, rc == -ENOENT ? -SE_NO_SUCH_BUCKET_POLICY : rc, NULL);
        return;
    }
    resp->status = 200;
    resp_header(q, resp, "x-amz-request-id", q->reqid);
    resp_header(q, resp, "x-amz-id-2", q->hostid);
    resp_header(q, resp, "Server", "Strata");
    resp_header(q, resp, "Content-Type", "application/json");
    resp->body = arena_strndup(q->a, b.p ? b.p : "", b.len);
    resp->body_len = b.len;
    resp->head = q->head;
    buf_release(&b);
}

void op_delete_bucket_policy(rq_t *q, http_resp_t *resp)
{
    int rc = store_bucket_conf_put(q->api->store, q->route.bucket, "policy", SV(""));
    authz_policy_changed();
    if (rc && rc != -ENOENT) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

void op_get_bucket_policy_status(rq_t *q, http_resp_t *resp)
{
    policy_t *p = NULL;
    int rc = authz_policy_get(q->api->store, &q->bucket, &p);
    if (rc == 0 && !p)
        rc = -SE_NO_SUCH_BUCKET_POLICY;
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    bool pub = policy_is_public(p);
    policy_unref(p);
    buf_t b = BUF_INIT;
    xml_begin(&b, "PolicyStatus");
    bool_elem(&b, "IsPublic", pub);
    buf_puts(&b, "</PolicyStatus>");
    resp_xml(q, resp, 200, &b);
}

/* ---- Block Public Access ----------------------------------------------------------------- */

static int parse_bool_elem(xml_node_t *root, const char *name, bool *out)
{
    sv_t v = xml_child_text(root, name);
    *out = false;
    if (!v.p)
        return 0;
    v = sv_trim(v);
    if (sv_caseeq_cstr(v, "true"))
        *out = true;
    else if (!sv_caseeq_cstr(v, "false"))
        return -SE_MALFORMED_XML;
    return 0;
}

int authz_pab_parse(const char *xml, size_t len, authz_pab_t *out)
{
    arena_t *a = arena_new();
    int rc;
    xml_node_t *root = xml_parse(a, xml, len, &rc);
    if (!root || !sv_eq_cstr(root->name, "PublicAccessBlockConfiguration")) {
        arena_free(a);
        return -SE_MALFORMED_XML;
    }
    rc = parse_bool_elem(root, "BlockPublicAcls", &out->block_public_acls);
    if (!rc)
        rc = parse_bool_elem(root, "IgnorePublicAcls", &out->ignore_public_acls);
    if (!rc)
        rc = parse_bool_elem(root, "BlockPublicPolicy", &out->block_public_policy);
    if (!rc)
        rc = parse_bool_elem(root, "RestrictPublicBuckets", &out->restrict_public_buckets);
    arena_free(a);
    return rc;
}

static void pab_xml(rq_t *q, http_resp_t *resp, const authz_pab_t *p)
{
    buf_t b = BUF_INIT;
    xml_begin(&b, "PublicAccessBlockConfiguration");
    bool_elem(&b, "BlockPublicAcls", p->block_public_acls);
    bool_elem(&b, "IgnorePublicAcls", p->ignore_public_acls);
    bool_elem(&b, "BlockPublicPolicy", p->block_public_policy);
    bool_elem(&b, "RestrictPublicBuckets", p->restrict_public_buckets);
    buf_puts(&b, "</PublicAccessBlockConfiguration>");
    resp_xml(q, resp, 200, &b);
}

void op_put_public_access_block(rq_t *q, http_resp_t *resp)
{
    int rc = body_md5_check(q);
    authz_pab_t p = {0};
    if (!rc && q->body.len == 0)
        rc = -SE_MISSING_BODY;
    if (!rc)
        rc = authz_pab_parse(q->body.p, q->body.len, &p);
    if (!rc)
        rc = authz_pab_bucket_put(q->api->store, q->route.bucket, &p);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 200);
}

void op_get_public_access_block(rq_t *q, http_resp_t *resp)
{
    authz_pab_t p;
    int rc = authz_pab_bucket_get(q->api->store, q->route.bucket, &p);
    if (rc) {
        resp_error(q, resp, rc == -ENOENT ? -SE_NO_SUCH_PAB : rc, NULL);
        return;
    }
    pab_xml(q, resp, &p);
}

void op_delete_public_access_block(rq_t *q, http_resp_t *resp)
{
    int rc = authz_pab_bucket_put(q->api->store, q->route.bucket, NULL);
    if (rc && rc != -ENOENT) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}

/* S3 Control: GET/PUT/DELETE /v20180820/configuration/publicAccessBlock with x-amz-account-id.
 * The caller must sign as a principal of that account (HOOK(iam): IAM users need
 * s3:{Get,Put}AccountPublicAccessBlock from their policies; today only the root user acts). */
void op_account_pab(rq_t *q, http_resp_t *resp)
{
    sv_t acct = rq_header(q, "x-amz-account-id");
    int rc;
    if (q->anonymous || !acct.p || !sv_eq_cstr(sv_trim(acct), q->acct.id)) {
        resp_error(q, resp, -SE_ACCESS_DENIED, NULL);
        return;
    }
    sv_t m = q->hr->method;
    if (sv_eq_cstr(m, "GET")) {
        authz_pab_t p;
        rc = authz_pab_account_get(q->api->store, q->acct.id, &p);
        if (rc) {
            resp_error(q, resp, rc == -ENOENT ? -SE_NO_SUCH_PAB : rc, NULL);
            return;
        }
        pab_xml(q, resp, &p);
    } else if (sv_eq_cstr(m, "PUT")) {
        authz_pab_t p = {0};
        rc = body_md5_check(q);
        if (!rc && q->body.len == 0)
            rc = -SE_MISSING_BODY;
        if (!rc)
            rc = authz_pab_parse(q->body.p, q->body.len, &p);
        if (!rc)
            rc = authz_pab_account_put(q->api->store, q->acct.id, &p);
        if (rc) {
            resp_error(q, resp, rc, NULL);
            return;
        }
        resp_empty(q, resp, 200);
    } else if (sv_eq_cstr(m, "DELETE")) {
        rc = authz_pab_account_put(q->api->store, q->acct.id, NULL);
        if (rc) {
            resp_error(q, resp, rc, NULL);
            return;
        }
        resp_empty(q, resp, 204);
    } else {
        resp_error(q, resp, -SE_METHOD_NOT_ALLOWED, NULL);
    }
}

/* ---- Object Ownership -------------------------------------------------------------------- */

void op_put_ownership_controls(rq_t *q, http_resp_t *resp)
{
    int rc = body_md5_check(q);
    if (!rc && q->body.len == 0)
        rc = -SE_MISSING_BODY;
    xml_node_t *root = NULL, *rule = NULL;
    if (!rc) {
        root = xml_parse(q->a, q->body.p, q->body.len, &rc);
        if (!root || !sv_eq_cstr(root->name, "OwnershipControls"))
            rc = -SE_MALFORMED_XML;
    }
    enum authz_ownership o = OWN_BUCKET_OWNER_ENFORCED;
    if (!rc) {
        rule = xml_child(root, "Rule");
        sv_t v = rule ? xml_child_text(rule, "ObjectOwnership") : SV_NULL;
        if (!rule || xml_next_named(rule) || !v.p || authz_ownership_parse(sv_trim(v), &o) != 0)
            rc = -SE_MALFORMED_XML;
    }
    if (!rc && o == OWN_BUCKET_OWNER_ENFORCED) {
        /* ACLs go away: the bucket ACL must not grant anyone but the owner. */
        acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
        rc = acl_bucket_get(q, &q->bucket, acl);
        for (size_t i = 0; !rc && i < acl->ngrants; i++)
            if (acl->grants[i].type != ACL_G_CANONICAL || strcmp(acl->grants[i].id, acl->owner))
                rc = -SE_INVALID_BUCKET_ACL_OWNERSHIP;
    }
    if (!rc)
        rc = authz_ownership_put(q->api->store, q->route.bucket, &o);
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 200);
}

void op_get_ownership_controls(rq_t *q, http_resp_t *resp)
{
    bool ex;
    enum authz_ownership o = authz_ownership_get(q->api->store, q->route.bucket, &ex);
    if (!ex) {
        resp_error(q, resp, -SE_NO_SUCH_OWNERSHIP, NULL);
        return;
    }
    buf_t b = BUF_INIT;
    xml_begin(&b, "OwnershipControls");
    buf_puts(&b, "<Rule>");
    xml_elem_c(&b, "ObjectOwnership", authz_ownership_name(o));
    buf_puts(&b, "</Rule></OwnershipControls>");
    resp_xml(q, resp, 200, &b);
}

void op_delete_ownership_controls(rq_t *q, http_resp_t *resp)
{
    int rc = authz_ownership_put(q->api->store, q->route.bucket, NULL);
    if (rc && rc != -ENOENT) {
        resp_error(q, resp, rc, NULL);
        return;
    }
    resp_empty(q, resp, 204);
}
