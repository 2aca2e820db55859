/* s3/route: addressing, decoding, operation tables, bucket names. */
#include <stdlib.h>

#include "core/err.h"
#include "s3/route.h"
#include "t.h"

struct rcase {
    const char *method, *host, *path, *query;
    int rc;             /* 0 or -SE_xxx */
    enum s3_op op;
    const char *bucket; /* expected (when rc == 0) */
    const char *key;
};

#define OK(m, h, p, q, op, b, k) {m, h, p, q, 0, S3_OP_##op, b, k}
#define ERR(m, h, p, q, e) {m, h, p, q, -SE_##e, S3_OP_UNKNOWN, NULL, NULL}

static const struct rcase cases[] = {
    /* service */
    OK("GET", "localhost:9000", "/", "", LIST_BUCKETS, "", ""),
    ERR("PUT", "localhost", "/", "", METHOD_NOT_ALLOWED),
    ERR("DELETE", "localhost", "/", "", METHOD_NOT_ALLOWED),
    ERR("POST", "localhost", "/", "Action=AssumeRole", METHOD_NOT_ALLOWED),
    /* bucket, path style */
    OK("PUT", "localhost", "/b", "", CREATE_BUCKET, "b", ""),
    OK("PUT", "localhost", "/b/", "", CREATE_BUCKET, "b", ""),
    OK("DELETE", "localhost", "/b", "", DELETE_BUCKET, "b", ""),
    OK("HEAD", "localhost", "/b", "", HEAD_BUCKET, "b", ""),
    OK("GET", "localhost", "/b", "", LIST_OBJECTS, "b", ""),
    OK("GET", "localhost", "/b", "prefix=a%2Fb&delimiter=%2F", LIST_OBJECTS, "b", ""),
    OK("GET", "localhost", "/b", "list-type=2&prefix=x", LIST_OBJECTS_V2, "b", ""),
    OK("GET", "localhost", "/b", "list-type=1", LIST_OBJECTS, "b", ""),
    OK("GET", "localhost", "/b", "location", GET_BUCKET_LOCATION, "b", ""),
    OK("GET", "localhost", "/b", "location=", GET_BUCKET_LOCATION, "b", ""),
    OK("GET", "localhost", "/b", "versioning", GET_BUCKET_VERSIONING, "b", ""),
    OK("PUT", "localhost", "/b", "versioning", PUT_BUCKET_VERSIONING, "b", ""),
    OK("GET", "localhost", "/b", "uploads", LIST_MULTIPART_UPLOADS, "b", ""),
    OK("GET", "localhost", "/b", "versions&prefix=a", LIST_OBJECT_VERSIONS, "b", ""),
    OK("POST", "localhost", "/b", "delete", DELETE_OBJECTS, "b", ""),
    OK("POST", "localhost", "/b", "delete=", DELETE_OBJECTS, "b", ""),
    OK("POST", "localhost", "/b", "", POST_OBJECT, "b", ""),
    ERR("POST", "localhost", "/b", "versioning", METHOD_NOT_ALLOWED),
    OK("GET", "localhost", "/b", "tagging", GET_BUCKET_TAGGING, "b", ""),
    OK("PUT", "localhost", "/b", "tagging", PUT_BUCKET_TAGGING, "b", ""),
    OK("DELETE", "localhost", "/b", "tagging", DELETE_BUCKET_TAGGING, "b", ""),
    OK("GET", "localhost", "/b", "policy", GET_BUCKET_POLICY, "b", ""),
    OK("PUT", "localhost", "/b", "policy", PUT_BUCKET_POLICY, "b", ""),
    OK("DELETE", "localhost", "/b", "policy", DELETE_BUCKET_POLICY, "b", ""),
    OK("GET", "localhost", "/b", "policyStatus", GET_BUCKET_POLICY_STATUS, "b", ""),
    OK("GET", "localhost", "/b", "acl", GET_BUCKET_ACL, "b", ""),
    OK("PUT", "localhost", "/b", "acl", PUT_BUCKET_ACL, "b", ""),
    OK("GET", "localhost", "/b", "lifecycle", GET_BUCKET_LIFECYCLE, "b", ""),
    OK("PUT", "localhost", "/b", "lifecycle", PUT_BUCKET_LIFECYCLE, "b", ""),
    OK("DELETE", "localhost", "/b", "lifecycle", DELETE_BUCKET_LIFECYCLE, "b", ""),
    OK("GET", "localhost", "/b", "encryption", GET_BUCKET_ENCRYPTION, "b", ""),
    OK("PUT", "localhost", "/b", "encryption", PUT_BUCKET_ENCRYPTION, "b", ""),
    OK("DELETE", "localhost", "/b", "encryption", DELETE_BUCKET_ENCRYPTION, "b", ""),
    OK("GET", "localhost", "/b", "publicAccessBlock", GET_PUBLIC_ACCESS_BLOCK, "b", ""),
    OK("PUT", "localhost", "/b", "publicAccessBlock", PUT_PUBLIC_ACCESS_BLOCK, "b", ""),
    OK("DELETE", "localhost", "/b", "publicAccessBlock", DELETE_PUBLIC_ACCESS_BLOCK, "b", ""),
    OK("GET", "localhost", "/b", "ownershipControls", GET_OWNERSHIP_CONTROLS, "b", ""),
    OK("PUT", "localhost", "/b", "ownershipControls", PUT_OWNERSHIP_CONTROLS, "b", ""),
    OK("DELETE", "localhost", "/b", "ownershipControls", DELETE_OWNERSHIP_CONTROLS, "b", ""),
    OK("GET", "localhost", "/b", "logging", GET_BUCKET_LOGGING, "b", ""),
    OK("PUT", "localhost", "/b", "logging", PUT_BUCKET_LOGGING, "b", ""),
    OK("GET", "localhost", "/b", "cors", GET_BUCKET_CORS, "b", ""),
    OK("PUT", "localhost", "/b", "cors", PUT_BUCKET_CORS, "b", ""),
    OK("DELETE", "localhost", "/b", "cors", DELETE_BUCKET_CORS, "b", ""),
    OK("GET", "localhost", "/b", "analytics", LIST_BUCKET_ANALYTICS, "b", ""),
    OK("GET", "localhost", "/b", "analytics&id=r1", GET_BUCKET_ANALYTICS, "b", ""),
    OK("PUT", "localhost", "/b", "analytics&id=r1", PUT_BUCKET_ANALYTICS, "b", ""),
    OK("DELETE", "localhost", "/b", "analytics&id=r1", DELETE_BUCKET_ANALYTICS, "b", ""),
    OK("GET", "localhost", "/b", "notification", GET_BUCKET_NOTIFICATION, "b", ""),
    OK("PUT", "localhost", "/b", "notification", PUT_BUCKET_NOTIFICATION, "b", ""),
    OK("GET", "localhost", "/b", "website", GET_BUCKET_WEBSITE, "b", ""),
    OK("GET", "localhost", "/b", "object-lock", GET_OBJECT_LOCK_CONFIG, "b", ""),
    OK("GET", "localhost", "/b", "requestPayment", GET_BUCKET_REQUEST_PAYMENT, "b", ""),
    OK("GET", "localhost", "/b", "accelerate", GET_BUCKET_ACCELERATE, "b", ""),
    OK("GET", "localhost", "/b", "replication", GET_BUCKET_REPLICATION, "b", ""),
    ERR("PUT", "localhost", "/b", "website", NOT_IMPLEMENTED),
    ERR("GET", "localhost", "/b", "inventory", NOT_IMPLEMENTED),
    ERR("DELETE", "localhost", "/b", "replication", NOT_IMPLEMENTED),
    ERR("OPTIONS", "localhost", "/b", "", METHOD_NOT_ALLOWED),
    ERR("PATCH", "localhost", "/b/k", "", METHOD_NOT_ALLOWED),
    ERR("get", "localhost", "/b/k", "", METHOD_NOT_ALLOWED), /* methods are case-sensitive */
    /* objects */
    OK("GET", "localhost", "/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "localhost", "/b/k", "versionId=abc&partNumber=2", GET_OBJECT, "b", "k"),
    OK("GET", "localhost", "/b/k", "x-id=GetObject", GET_OBJECT, "b", "k"),
    OK("HEAD", "localhost", "/b/k", "", HEAD_OBJECT, "b", "k"),
    OK("PUT", "localhost", "/b/k", "", PUT_OBJECT, "b", "k"),
    OK("PUT", "localhost", "/b/k", "partNumber=1", PUT_OBJECT, "b", "k"),
    OK("PUT", "localhost", "/b/k", "partNumber=1&uploadId=u", UPLOAD_PART, "b", "k"),
    OK("DELETE", "localhost", "/b/k", "", DELETE_OBJECT, "b", "k"),
    OK("DELETE", "localhost", "/b/k", "versionId=v", DELETE_OBJECT, "b", "k"),
    OK("DELETE", "localhost", "/b/k", "uploadId=u", ABORT_MULTIPART, "b", "k"),
    OK("POST", "localhost", "/b/k", "uploads", CREATE_MULTIPART, "b", "k"),
    OK("POST", "localhost", "/b/k", "uploadId=u", COMPLETE_MULTIPART, "b", "k"),
    OK("GET", "localhost", "/b/k", "uploadId=u", LIST_PARTS, "b", "k"),
    OK("GET", "localhost", "/b/k", "tagging", GET_OBJECT_TAGGING, "b", "k"),
    OK("PUT", "localhost", "/b/k", "tagging", PUT_OBJECT_TAGGING, "b", "k"),
    OK("DELETE", "localhost", "/b/k", "tagging", DELETE_OBJECT_TAGGING, "b", "k"),
    OK("GET", "localhost", "/b/k", "acl", GET_OBJECT_ACL, "b", "k"),
    OK("PUT", "localhost", "/b/k", "acl", PUT_OBJECT_ACL, "b", "k"),
    OK("GET", "localhost", "/b/k", "attributes", GET_OBJECT_ATTRIBUTES, "b", "k"),
    OK("POST", "localhost", "/b/k", "restore", RESTORE_OBJECT, "b", "k"),
    OK("POST", "localhost", "/b/k", "select&select-type=2", SELECT_OBJECT, "b", "k"),
    OK("GET", "localhost", "/b/k", "retention", GET_OBJECT_RETENTION, "b", "k"),
    OK("GET", "localhost", "/b/k", "legal-hold", GET_OBJECT_LEGAL_HOLD, "b", "k"),
    ERR("PUT", "localhost", "/b/k", "retention", NOT_IMPLEMENTED),
    ERR("POST", "localhost", "/b/k", "", METHOD_NOT_ALLOWED),
    ERR("GET", "localhost", "/b/k", "torrent", NOT_IMPLEMENTED),
    /* key decoding: once, '+' literal in paths, slashes kept */
    OK("GET", "localhost", "/b/a%20b+c", "", GET_OBJECT, "b", "a b+c"),
    OK("GET", "localhost", "/b/dir/sub/file.txt", "", GET_OBJECT, "b", "dir/sub/file.txt"),
    OK("GET", "localhost", "/b/year%3D2026/m%2Fx", "", GET_OBJECT, "b", "year=2026/m/x"),
    OK("GET", "localhost", "/b/%2541", "", GET_OBJECT, "b", "%41"), /* not decoded twice */
    OK("GET", "localhost", "/b//lead", "", GET_OBJECT, "b", "/lead"),
    OK("GET", "localhost", "/b/trail/", "", GET_OBJECT, "b", "trail/"),
    OK("GET", "localhost", "/b/%E2%82%AC", "", GET_OBJECT, "b", "\xE2\x82\xAC"),
    OK("GET", "localhost", "/b/k?x", "", GET_OBJECT, "b", "k?x"), /* '?' only via %3F */
    ERR("GET", "localhost", "/b/%zz", "", INVALID_URI),
    ERR("GET", "localhost", "/b/%4", "", INVALID_URI),
    ERR("GET", "localhost", "/b/k", "a=%", INVALID_URI),
    ERR("GET", "localhost", "/b/k", "%g1=1", INVALID_URI),
    ERR("GET", "localhost", "b/k", "", INVALID_URI),
    ERR("GET", "localhost", "", "", INVALID_URI),
    ERR("GET", "localhost", "*", "", INVALID_URI),
    ERR("GET", "localhost", "//k", "", INVALID_URI),
    /* absolute-form targets */
    OK("GET", "localhost", "http://localhost:9000/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "localhost", "http://localhost:9000", "", LIST_BUCKETS, "", ""),
    /* virtual-hosted style (base domain s3.example.com) */
    OK("GET", "b.s3.example.com", "/", "", LIST_OBJECTS, "b", ""),
    OK("GET", "my.dotted.bucket.s3.example.com:8443", "/k/x", "", GET_OBJECT, "my.dotted.bucket",
       "k/x"),
    OK("GET", "B.S3.Example.COM", "/k", "", GET_OBJECT, "B", "k"),
    OK("PUT", "b.s3.example.com", "/", "versioning", PUT_BUCKET_VERSIONING, "b", ""),
    ERR("PUT", "b.s3.example.com", "", "", INVALID_URI),
    OK("GET", "b.s3.example.com", "//k", "", GET_OBJECT, "b", "/k"),
    OK("GET", "b.s3.example.com", "/a+b%2B", "", GET_OBJECT, "b", "a+b+"),
    OK("GET", "s3.example.com", "/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "s3.example.com:9000", "/", "", LIST_BUCKETS, "", ""),
    OK("GET", "xs3.example.com", "/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "127.0.0.1:9000", "/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "[::1]:9000", "/b/k", "", GET_OBJECT, "b", "k"),
    OK("GET", "", "/b/k", "", GET_OBJECT, "b", "k"),
};

static int cmp_sv(sv_t a, const char *b)
{
    return sv_eq_cstr(a, b);
}

TEST(route_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rcase *c = &cases[i];
        arena_t *a = arena_new();
        s3_route_t r;
        int want = c->rc;
        int rc = s3_route(a, sv_from_cstr(c->method), sv_from_cstr(c->host), sv_from_cstr(c->path),
                          sv_from_cstr(c->query), "s3.example.com", &r);
        if (rc != want) {
            fprintf(stderr, "case %zu: %s %s %s?%s: rc %d want %d\n", i, c->method, c->host,
                    c->path, c->query, rc, want);
            t_cur_failed = 1;
        } else if (rc == 0) {
            if (r.op != c->op || !cmp_sv(r.bucket, c->bucket) || !cmp_sv(r.key, c->key) ||
                r.has_key != (c->key[0] != 0)) {
                fprintf(stderr, "case %zu: %s %s%s?%s: got %s b=" SV_FMT " k=" SV_FMT "\n", i,
                        c->method, c->host, c->path, c->query, s3_op_name(r.op), SV_ARG(r.bucket),
                        SV_ARG(r.key));
                t_cur_failed = 1;
            }
        }
        arena_free(a);
    }
}

TEST(route_vhost_flag_and_no_base)
{
    arena_t *a = arena_new();
    s3_route_t r;
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("b.s3.example.com"), SV("/k"), SV(""), "s3.example.com", &r), 0);
    CHECK(r.virtual_host);
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("localhost"), SV("/b/k"), SV(""), "s3.example.com", &r), 0);
    CHECK(!r.virtual_host);
    /* without a base domain, every host is path style */
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("b.s3.example.com"), SV("/k"), SV(""), NULL, &r), 0);
    CHECK(!r.virtual_host);
    CHECK(sv_eq_cstr(r.bucket, "k"));
    CHECK(!r.has_key);
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("b.s3.example.com"), SV("/k"), SV(""), "", &r), 0);
    CHECK(sv_eq_cstr(r.bucket, "k"));
    /* "localhost" as base domain, as in local setups */
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("bkt.localhost:9000"), SV("/k"), SV(""), "localhost", &r), 0);
    CHECK(r.virtual_host && sv_eq_cstr(r.bucket, "bkt") && sv_eq_cstr(r.key, "k"));
    arena_free(a);
}

TEST(route_params)
{
    arena_t *a = arena_new();
    s3_route_t r;
    bool p;
    sv_t v;
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("h"), SV("/b"),
                          SV("list-type=2&prefix=a+b%2Bc&delimiter=%2F&&flag&empty=&x=1=2"), NULL, &r),
                 0);
    CHECK_EQ_INT(r.op, S3_OP_LIST_OBJECTS_V2);
    CHECK_EQ_INT(r.nparams, 6);
    v = s3_param(&r, "prefix", &p);
    CHECK(p && sv_eq_cstr(v, "a b+c"));
    v = s3_param(&r, "delimiter", &p);
    CHECK(p && sv_eq_cstr(v, "/"));
    v = s3_param(&r, "flag", &p);
    CHECK(p && v.p == NULL && v.len == 0);
    v = s3_param(&r, "empty", &p);
    CHECK(p && v.p != NULL && v.len == 0);
    v = s3_param(&r, "x", &p);
    CHECK(p && sv_eq_cstr(v, "1=2"));
    v = s3_param(&r, "missing", &p);
    CHECK(!p && v.p == NULL);
    v = s3_param(&r, "Prefix", &p); /* names are case-sensitive */
    CHECK(!p);
    CHECK(sv_eq_cstr(r.params[0].name, "list-type")); /* in order */
    CHECK(sv_eq_cstr(r.params[5].name, "x"));
    /* NULL present pointer is allowed */
    v = s3_param(&r, "prefix", NULL);
    CHECK(sv_eq_cstr(v, "a b+c"));
    /* an encoded name */
    CHECK_EQ_INT(s3_route(a, SV("GET"), SV("h"), SV("/b/k"), SV("response-content-type=text%2Fplain&x%2Did=1"), NULL, &r), 0);
    v = s3_param(&r, "x-id", &p);
    CHECK(p && sv_eq_cstr(v, "1"));
    /* errors still fill what they can */
    CHECK_EQ_INT(s3_route(a, SV("OPTIONS"), SV("h"), SV("/b/k"), SV("a=1"), NULL, &r), -SE_METHOD_NOT_ALLOWED);
    CHECK(sv_eq_cstr(r.bucket, "b") && sv_eq_cstr(r.key, "k") && r.nparams == 1);
    CHECK_EQ_INT(r.op, S3_OP_UNKNOWN);
    arena_free(a);
}

TEST(op_names)
{
    CHECK_EQ_STR(s3_op_name(S3_OP_PUT_OBJECT), "PUT_OBJECT");
    CHECK_EQ_STR(s3_op_name(S3_OP_LIST_BUCKETS), "LIST_BUCKETS");
    CHECK_EQ_STR(s3_op_name(S3_OP_POST_OBJECT), "POST_OBJECT");
    CHECK_EQ_STR(s3_op_name(S3_OP_UNKNOWN), "UNKNOWN");
    CHECK_EQ_STR(s3_op_name(S3_OP_COUNT), "UNKNOWN");
    CHECK_EQ_STR(s3_op_name((enum s3_op)-1), "UNKNOWN");
}

TEST(bucket_names)
{
    static const char *good[] = {"abc", "my-bucket", "my.bucket.name", "a1b", "123", "1.2.3",
                                 "1.2.3.4.5", "a-b.c-d", "xn-a", "sthree", "bucket-s3alias1",
                                 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"};
    static const char *bad[] = {"ab", "", "Abc", "my_bucket", "-abc", "abc-", ".abc", "abc.",
                                "a..b", "192.168.5.4", "1.1.1.1", "xn--abc", "sthree-abc",
                                "sthree-configurator", "amzn-s3-demo-bucket", "abc-s3alias",
                                "abc--ol-s3", "abc.mrap", "abc--x-s3", "abc--table-s3", "a b",
                                "abc/", "ab\xc3\xa9",
                                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!s3_bucket_name_valid(sv_from_cstr(good[i]))) {
            fprintf(stderr, "should be valid: %s\n", good[i]);
            t_cur_failed = 1;
        }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (s3_bucket_name_valid(sv_from_cstr(bad[i]))) {
            fprintf(stderr, "should be invalid: %s\n", bad[i]);
            t_cur_failed = 1;
        }
    /* not NUL-terminated input */
    CHECK(s3_bucket_name_valid((sv_t){"abcdef", 3}));
    CHECK(!s3_bucket_name_valid((sv_t){"ab.", 3}));
}

int main(void)
{
    RUN(route_table);
    RUN(route_vhost_flag_and_no_base);
    RUN(route_params);
    RUN(op_names);
    RUN(bucket_names);
    return t_summary("route");
}
