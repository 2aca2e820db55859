/* api/authz: the S3 op -> IAM action table (AWS's "Actions, resources, and condition keys for
 * Amazon S3"), the client address behind trusted proxies, Block Public Access XML. */
#include "api/authz.h"
#include "core/err.h"
#include "policy/policy.h"
#include "t.h"

#include <errno.h>
#include <string.h>

static const authz_action_t *one(authz_op_in_t in, size_t want_n)
{
    static authz_action_t a[AUTHZ_MAX_ACTIONS];
    size_t n = authz_actions(&in, a);
    if (n != want_n) {
        fprintf(stderr, "op %s: %zu actions, expected %zu\n", s3_op_name(in.op), n, want_n);
        t_cur_failed = 1;
        static const authz_action_t none[AUTHZ_MAX_ACTIONS] = {{"", AUTHZ_RES_ALL}};
        return none;
    }
    return a;
}

#define OP(o) ((authz_op_in_t){.op = S3_OP_##o})

TEST(simple_ops)
{
    static const struct {
        enum s3_op op;
        const char *action;
        enum authz_res res;
    } t[] = {
        {S3_OP_LIST_BUCKETS, "s3:ListAllMyBuckets", AUTHZ_RES_ALL},
        {S3_OP_CREATE_BUCKET, "s3:CreateBucket", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_BUCKET, "s3:DeleteBucket", AUTHZ_RES_BUCKET},
        {S3_OP_HEAD_BUCKET, "s3:ListBucket", AUTHZ_RES_BUCKET},
        {S3_OP_LIST_OBJECTS, "s3:ListBucket", AUTHZ_RES_BUCKET},
        {S3_OP_LIST_OBJECTS_V2, "s3:ListBucket", AUTHZ_RES_BUCKET},
        {S3_OP_LIST_OBJECT_VERSIONS, "s3:ListBucketVersions", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_LOCATION, "s3:GetBucketLocation", AUTHZ_RES_BUCKET},
        {S3_OP_GET_OBJECT, "s3:GetObject", AUTHZ_RES_OBJECT},
        {S3_OP_HEAD_OBJECT, "s3:GetObject", AUTHZ_RES_OBJECT},
        {S3_OP_PUT_OBJECT, "s3:PutObject", AUTHZ_RES_OBJECT},
        {S3_OP_DELETE_OBJECT, "s3:DeleteObject", AUTHZ_RES_OBJECT},
        {S3_OP_DELETE_OBJECTS, "s3:DeleteObject", AUTHZ_RES_PER_KEY},
        {S3_OP_CREATE_MULTIPART, "s3:PutObject", AUTHZ_RES_OBJECT},
        {S3_OP_UPLOAD_PART, "s3:PutObject", AUTHZ_RES_OBJECT},
        {S3_OP_COMPLETE_MULTIPART, "s3:PutObject", AUTHZ_RES_OBJECT},
        {S3_OP_ABORT_MULTIPART, "s3:AbortMultipartUpload", AUTHZ_RES_OBJECT},
        {S3_OP_LIST_PARTS, "s3:ListMultipartUploadParts", AUTHZ_RES_OBJECT},
        {S3_OP_LIST_MULTIPART_UPLOADS, "s3:ListBucketMultipartUploads", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_VERSIONING, "s3:GetBucketVersioning", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_BUCKET_VERSIONING, "s3:PutBucketVersioning", AUTHZ_RES_BUCKET},
        {S3_OP_GET_OBJECT_TAGGING, "s3:GetObjectTagging", AUTHZ_RES_OBJECT},
        {S3_OP_PUT_OBJECT_TAGGING, "s3:PutObjectTagging", AUTHZ_RES_OBJECT},
        {S3_OP_DELETE_OBJECT_TAGGING, "s3:DeleteObjectTagging", AUTHZ_RES_OBJECT},
        {S3_OP_GET_BUCKET_TAGGING, "s3:GetBucketTagging", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_BUCKET_TAGGING, "s3:PutBucketTagging", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_BUCKET_TAGGING, "s3:PutBucketTagging", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_POLICY, "s3:GetBucketPolicy", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_BUCKET_POLICY, "s3:PutBucketPolicy", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_BUCKET_POLICY, "s3:DeleteBucketPolicy", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_POLICY_STATUS, "s3:GetBucketPolicyStatus", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_ACL, "s3:GetBucketAcl", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_BUCKET_ACL, "s3:PutBucketAcl", AUTHZ_RES_BUCKET},
        {S3_OP_GET_OBJECT_ACL, "s3:GetObjectAcl", AUTHZ_RES_OBJECT},
        {S3_OP_PUT_OBJECT_ACL, "s3:PutObjectAcl", AUTHZ_RES_OBJECT},
        {S3_OP_GET_PUBLIC_ACCESS_BLOCK, "s3:GetBucketPublicAccessBlock", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_PUBLIC_ACCESS_BLOCK, "s3:PutBucketPublicAccessBlock", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_PUBLIC_ACCESS_BLOCK, "s3:PutBucketPublicAccessBlock", AUTHZ_RES_BUCKET},
        {S3_OP_GET_OWNERSHIP_CONTROLS, "s3:GetBucketOwnershipControls", AUTHZ_RES_BUCKET},
        {S3_OP_PUT_OWNERSHIP_CONTROLS, "s3:PutBucketOwnershipControls", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_OWNERSHIP_CONTROLS, "s3:PutBucketOwnershipControls", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_LIFECYCLE, "s3:GetLifecycleConfiguration", AUTHZ_RES_BUCKET},
        {S3_OP_DELETE_BUCKET_LIFECYCLE, "s3:PutLifecycleConfiguration", AUTHZ_RES_BUCKET},
        {S3_OP_GET_BUCKET_ENCRYPTION, "s3:GetEncryptionConfiguration", AUTHZ_RES_BUCKET},
        {S3_OP_RESTORE_OBJECT, "s3:RestoreObject", AUTHZ_RES_OBJECT},
        {S3_OP_POST_OBJECT, "s3:PutObject", AUTHZ_RES_OBJECT},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const authz_action_t *a = one((authz_op_in_t){.op = t[i].op}, 1);
        if (strcmp(a[0].action, t[i].action) != 0 || a[0].res != t[i].res) {
            fprintf(stderr, "op %s -> %s/%d, expected %s/%d\n", s3_op_name(t[i].op), a[0].action,
                    a[0].res, t[i].action, t[i].res);
            t_cur_failed = 1;
        }
        /* every action we ask for is one the policy engine accepts in a policy */
        CHECK(policy_s3_action_known(sv_from_cstr(t[i].action)));
    }
}

TEST(versioned_variants)
{
    authz_op_in_t in = OP(GET_OBJECT);
    in.version = true;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:GetObjectVersion");
    in.op = S3_OP_HEAD_OBJECT;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:GetObjectVersion");
    in.op = S3_OP_DELETE_OBJECT;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:DeleteObjectVersion");
    in.op = S3_OP_GET_OBJECT_TAGGING;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:GetObjectVersionTagging");
    in.op = S3_OP_PUT_OBJECT_TAGGING;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:PutObjectVersionTagging");
    in.op = S3_OP_DELETE_OBJECT_TAGGING;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:DeleteObjectVersionTagging");
    in.op = S3_OP_GET_OBJECT_ACL;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:GetObjectVersionAcl");
    in.op = S3_OP_PUT_OBJECT_ACL;
    CHECK_EQ_STR(one(in, 1)[0].action, "s3:PutObjectVersionAcl");
    in.op = S3_OP_GET_OBJECT_ATTRIBUTES;
    const authz_action_t *a = one(in, 2);
    CHECK_EQ_STR(a[0].action, "s3:GetObjectVersionAttributes");
    CHECK_EQ_STR(a[1].action, "s3:GetObjectVersion");
    CHECK(policy_s3_action_known(SV("s3:GetObjectVersionAttributes")));
}

TEST(copy_needs_source_read_and_dest_write)
{
    authz_op_in_t in = OP(COPY_OBJECT);
    const authz_action_t *a = one(in, 2);
    CHECK_EQ_STR(a[0].action, "s3:PutObject");
    CHECK_EQ_INT(a[0].res, AUTHZ_RES_OBJECT);
    CHECK_EQ_STR(a[1].action, "s3:GetObject");
    CHECK_EQ_INT(a[1].res, AUTHZ_RES_SOURCE);
    in.source_version = true;
    CHECK_EQ_STR(one(in, 2)[1].action, "s3:GetObjectVersion");
    in.op = S3_OP_UPLOAD_PART_COPY;
    a = one(in, 2);
    CHECK_EQ_STR(a[0].action, "s3:PutObject");
    CHECK_EQ_STR(a[1].action, "s3:GetObjectVersion");
}

TEST(acl_and_tagging_headers_add_actions)
{
    authz_op_in_t in = OP(PUT_OBJECT);
    in.acl_headers = true;
    in.tagging_header = true;
    const authz_action_t *a = one(in, 3);
    CHECK_EQ_STR(a[0].action, "s3:PutObject");
    CHECK_EQ_STR(a[1].action, "s3:PutObjectAcl");
    CHECK_EQ_STR(a[2].action, "s3:PutObjectTagging");
    in.op = S3_OP_CREATE_BUCKET;
    a = one(in, 2);
    CHECK_EQ_STR(a[1].action, "s3:PutBucketAcl");
}

TEST(unknown_op_has_no_actions)
{
    authz_action_t a[AUTHZ_MAX_ACTIONS];
    authz_op_in_t in = {.op = S3_OP_UNKNOWN};
    CHECK_EQ_INT(authz_actions(&in, a), 0);
}

TEST(every_routed_op_is_mapped)
{
    authz_action_t a[AUTHZ_MAX_ACTIONS];
    for (int op = S3_OP_UNKNOWN + 1; op < S3_OP_COUNT; op++) {
        authz_op_in_t in = {.op = (enum s3_op)op};
        size_t n = authz_actions(&in, a);
        if (n == 0) {
            fprintf(stderr, "op %s has no action\n", s3_op_name((enum s3_op)op));
            t_cur_failed = 1;
        }
        for (size_t i = 0; i < n; i++)
            if (!policy_s3_action_known(sv_from_cstr(a[i].action))) {
                fprintf(stderr, "op %s: %s unknown to the engine\n", s3_op_name((enum s3_op)op),
                        a[i].action);
                t_cur_failed = 1;
            }
    }
}

TEST(source_ip_and_trusted_proxies)
{
    char out[64];
    CHECK_EQ_INT(authz_set_trusted_proxies(NULL), 0);
    authz_source_ip("10.1.2.3", SV("203.0.113.9"), out);
    CHECK_EQ_STR(out, "10.1.2.3"); /* no trusted proxy: X-Forwarded-For ignored */

    CHECK_EQ_INT(authz_set_trusted_proxies("10.0.0.0/8, 192.168.1.1"), 0);
    authz_source_ip("10.1.2.3", SV("203.0.113.9"), out);
    CHECK_EQ_STR(out, "203.0.113.9");
    /* right-most untrusted hop; a client-supplied left part is not believed */
    authz_source_ip("10.1.2.3", SV("1.1.1.1, 203.0.113.9, 10.9.9.9"), out);
    CHECK_EQ_STR(out, "203.0.113.9");
    authz_source_ip("192.168.1.1", SV("198.51.100.7"), out);
    CHECK_EQ_STR(out, "198.51.100.7");
    /* peer not trusted: its header is not believed */
    authz_source_ip("192.168.1.2", SV("198.51.100.7"), out);
    CHECK_EQ_STR(out, "192.168.1.2");
    /* garbage in the header: the last trustworthy address */
    authz_source_ip("10.1.2.3", SV("not-an-ip"), out);
    CHECK_EQ_STR(out, "10.1.2.3");
    authz_source_ip("10.1.2.3", SV(""), out);
    CHECK_EQ_STR(out, "10.1.2.3");
    /* IPv6 */
    CHECK_EQ_INT(authz_set_trusted_proxies("::1,2001:db8::/32"), 0);
    authz_source_ip("::1", SV("2001:db8::5, 2001:db8::1"), out);
    CHECK_EQ_STR(out, "2001:db8::5"); /* every hop trusted: the left-most is the client */
    authz_source_ip("::1", SV("2001:db9::5"), out);
    CHECK_EQ_STR(out, "2001:db9::5");
    CHECK_EQ_INT(authz_set_trusted_proxies("10.0.0.0/33"), -EINVAL);
    CHECK_EQ_INT(authz_set_trusted_proxies("bogus"), -EINVAL);
    CHECK_EQ_INT(authz_set_trusted_proxies(""), 0);
}

TEST(pab_xml)
{
    authz_pab_t p;
    const char *x = "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false"
                    "</IgnorePublicAcls><RestrictPublicBuckets>TRUE</RestrictPublicBuckets>"
                    "</PublicAccessBlockConfiguration>";
    CHECK_EQ_INT(authz_pab_parse(x, strlen(x), &p), 0);
    CHECK(p.block_public_acls && !p.ignore_public_acls && !p.block_public_policy &&
          p.restrict_public_buckets);
    const char *bad = "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
                      "</PublicAccessBlockConfiguration>";
    CHECK_EQ_INT(authz_pab_parse(bad, strlen(bad), &p), -SE_MALFORMED_XML);
    CHECK_EQ_INT(authz_pab_parse("<Other/>", 8, &p), -SE_MALFORMED_XML);
    CHECK_EQ_INT(authz_pab_parse("<", 1, &p), -SE_MALFORMED_XML);
}

TEST(ownership_names)
{
    enum authz_ownership o;
    CHECK_EQ_INT(authz_ownership_parse(SV("ObjectWriter"), &o), 0);
    CHECK_EQ_INT(o, OWN_OBJECT_WRITER);
    CHECK_EQ_INT(authz_ownership_parse(SV("BucketOwnerPreferred"), &o), 0);
    CHECK_EQ_STR(authz_ownership_name(o), "BucketOwnerPreferred");
    CHECK_EQ_INT(authz_ownership_parse(SV("bucketownerenforced"), &o), -1);
}

int main(void)
{
    RUN(simple_ops);
    RUN(versioned_variants);
    RUN(copy_needs_source_read_and_dest_write);
    RUN(acl_and_tagging_headers_add_actions);
    RUN(unknown_op_has_no_actions);
    RUN(every_routed_op_is_mapped);
    RUN(source_ip_and_trusted_proxies);
    RUN(pab_xml);
    RUN(ownership_names);
    return t_summary("authz");
}
