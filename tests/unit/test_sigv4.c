/* auth/sigv4: AWS's published SigV4 test suite (the cases that apply to a non-normalising
 * S3 verifier), the S3 documentation's worked examples, and every error path. */
#include <stdlib.h>

#include "auth/sigv4.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "t.h"
#include "treq.h"

#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_NOW 1440938160 /* 2015-08-30T12:36:00Z */
#define SUITE_CRED "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_NOW 1369353600 /* 2013-05-24T00:00:00Z */
#define S3_CRED "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void treq_free(treq_t *t)
{
    free(t->text);
}

/* Parses and verifies a request given as text; returns the first nonzero step result. */
static int check_text(const char *text, int64_t now, const char *secret, const char *content_sha,
                      sigv4_parsed_t *p_out, sigv4_result_t *res_out)
{
    treq_t t;
    sigv4_parsed_t p;
    sigv4_result_t res;
    treq_init(&t, text);
    int rc = sigv4_parse(&t.r, now, &p);
    if (rc == 0 && p.kind != SIGV4_NONE) {
        if (content_sha)
            p.content_sha256 = sv_from_cstr(content_sha);
        arena_t *a = arena_new();
        rc = sigv4_verify(&t.r, &p, sv_from_cstr(secret), a, &res);
        arena_free(a);
    }
    if (p_out)
        *p_out = p; /* views into t.text: only kind/payload/req_time are used after free */
    if (res_out && rc == 0)
        *res_out = res;
    treq_free(&t);
    return rc;
}

static int suite(const char *text)
{
    return check_text(text, SUITE_NOW, SUITE_SECRET, NULL, NULL, NULL);
}

/* ---- AWS SigV4 test suite (aws-sig-v4-test-suite), service "service" ---- */

TEST(test_suite_get_vanilla)
{
    CHECK_EQ_INT(suite("GET /\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
                 0);
}

TEST(test_suite_canonical_text)
{
    treq_t t;
    sigv4_parsed_t p;
    treq_init(&t, "GET /\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n"
                  "X-Amz-Date:20150830T123600Z\nAuthorization:" SUITE_CRED
                  "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                  "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
    CHECK_EQ_INT(sigv4_parse(&t.r, SUITE_NOW, &p), 0);
    buf_t b = BUF_INIT;
    sigv4_canonical_request(&t.r, &p, &b);
    CHECK_EQ_STR(b.p, "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                      "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" EMPTY_SHA);
    buf_release(&b);
    treq_free(&t);
}

TEST(test_suite_queries)
{
    /* get-vanilla-empty-query-key */
    CHECK_EQ_INT(suite("GET /?Param1=value1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
                 0);
    /* get-vanilla-query-order-key */
    CHECK_EQ_INT(suite("GET /?Param1=value2&Param1=Value1\nHost:example.amazonaws.com\n"
                       "X-Amz-Date:20150830T123600Z\nAuthorization:" SUITE_CRED
                       "SignedHeaders=host;x-amz-date, "
                       "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
                 0);
    /* get-vanilla-query-order-key-case */
    CHECK_EQ_INT(suite("GET /?Param2=value2&Param1=value1\nHost:example.amazonaws.com\n"
                       "X-Amz-Date:20150830T123600Z\nAuthorization:" SUITE_CRED
                       "SignedHeaders=host;x-amz-date, "
                       "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
                 0);
    /* get-vanilla-query-order-value */
    CHECK_EQ_INT(suite("GET /?Param1=value2&Param1=value1\nHost:example.amazonaws.com\n"
                       "X-Amz-Date:20150830T123600Z\nAuthorization:" SUITE_CRED
                       "SignedHeaders=host;x-amz-date, "
                       "Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
                 0);
    /* get-vanilla-query-unreserved */
    CHECK_EQ_INT(suite("GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
                       "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
                 0);
    /* get-vanilla-utf8-query: the key is U+1234, percent-encoded on the wire */
    CHECK_EQ_INT(suite("GET /?%E1%88%B4=bar\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
                 0);
}

TEST(test_suite_paths)
{
    /* get-unreserved */
    CHECK_EQ_INT(suite("GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
                       "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
                 0);
    /* get-utf8: "/ሴ" */
    CHECK_EQ_INT(suite("GET /%E1%88%B4\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
                 0);
    /* normalize-path/get-space (no normalisation involved) */
    CHECK_EQ_INT(suite("GET /example%20space/\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
                 0);
    /* normalize-path/get-relative expects "/example/.." to sign as "/": S3 does not normalise,
     * so for us that signature must NOT verify. */
    CHECK_EQ_INT(suite("GET /example/..\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
                 -SE_SIGNATURE_MISMATCH);
}

TEST(test_suite_headers)
{
    /* get-header-key-duplicate: three My-Header1 lines join with ',' in order */
    CHECK_EQ_INT(suite("GET /\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\n"
                       "My-Header1:value1\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;my-header1;x-amz-date, "
                       "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
                 0);
    /* get-header-value-order */
    CHECK_EQ_INT(suite("GET /\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\n"
                       "My-Header1:value3\nMy-Header1:value2\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;my-header1;x-amz-date, "
                       "Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
                 0);
    /* get-header-value-trim */
    CHECK_EQ_INT(suite("GET /\nHost:example.amazonaws.com\nMy-Header1: value1 \nMy-Header2: \"a   b   c\"\n"
                       "X-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                       "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
                 0);
    /* post-header-key-case / post-vanilla */
    CHECK_EQ_INT(suite("POST /\nHOST:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
                 0);
    /* post-header-key-sort */
    CHECK_EQ_INT(suite("POST /\nHost:example.amazonaws.com\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;my-header1;x-amz-date, "
                       "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
                 0);
    /* post-header-value-case */
    CHECK_EQ_INT(suite("POST /\nHost:example.amazonaws.com\nMy-Header1:VALUE1\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;my-header1;x-amz-date, "
                       "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
                 0);
    /* post-vanilla-query */
    CHECK_EQ_INT(suite("POST /?Param1=value1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "Authorization:" SUITE_CRED "SignedHeaders=host;x-amz-date, "
                       "Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
                 0);
}

#define STS_TOKEN                                                                                  \
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf" \
    "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7" \
    "WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm" \
    "8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

TEST(test_suite_sts_token)
{
    sigv4_parsed_t p;
    /* post-sts-header-before: the token is signed */
    CHECK_EQ_INT(check_text("POST /\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                            "X-Amz-Security-Token:" STS_TOKEN "\nAuthorization:" SUITE_CRED
                            "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                            "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
                            SUITE_NOW, SUITE_SECRET, NULL, &p, NULL),
                 0);
    CHECK_EQ_INT(p.security_token.len, strlen(STS_TOKEN));
    /* post-sts-header-after: the token was added after signing */
    CHECK_EQ_INT(suite("POST /\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                       "X-Amz-Security-Token:" STS_TOKEN "\nAuthorization:" SUITE_CRED
                       "SignedHeaders=host;x-amz-date, "
                       "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
                 0);
}

TEST(test_suite_form_body)
{
    /* post-x-www-form-urlencoded: no x-amz-content-sha256 (not S3); the caller hashes the
     * body ("Param1=value1") and supplies it before verify. */
    uint8_t h[32];
    char hex[65];
    sha256("Param1=value1", 13, h);
    hex_encode(h, 32, hex);
    CHECK_EQ_STR(hex, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    CHECK_EQ_INT(check_text("POST /\nContent-Type:application/x-www-form-urlencoded\n"
                            "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                            "Authorization:" SUITE_CRED "SignedHeaders=content-type;host;x-amz-date, "
                            "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
                            SUITE_NOW, SUITE_SECRET, hex, NULL, NULL),
                 0);
    /* post-x-www-form-urlencoded-parameters */
    CHECK_EQ_INT(check_text("POST /\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n"
                            "Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                            "Authorization:" SUITE_CRED "SignedHeaders=content-type;host;x-amz-date, "
                            "Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
                            SUITE_NOW, SUITE_SECRET, hex, NULL, NULL),
                 0);
}

/* ---- S3 documentation examples (sig-v4-header-based-auth, sigv4-query-string-auth) ---- */

#define GET_RANGE                                                                                  \
    "GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"                        \
    "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\n"                            \
    "Authorization:" S3_CRED "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"          \
    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

TEST(test_s3_get_object_range)
{
    sigv4_parsed_t p;
    sigv4_result_t res;
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW, S3_SECRET, NULL, &p, &res), 0);
    CHECK_EQ_INT(p.kind, SIGV4_HEADER);
    CHECK_EQ_INT(p.payload, PAYLOAD_SIGNED);
    CHECK_EQ_INT(p.req_time, S3_NOW);
    CHECK_EQ_STR(res.seed_signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK_EQ_STR(res.scope, "20130524/us-east-1/s3/aws4_request");
}

TEST(test_s3_put_object)
{
    static const char put[] =
        "PUT %s\nHost:examplebucket.s3.amazonaws.com\nDate:Fri, 24 May 2013 00:00:00 GMT\n"
        "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n"
        "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
        "Authorization:" S3_CRED "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";
    char text[1024];
    /* encoded as clients send it, and with the '$' raw: both canonicalise to %24 */
    snprintf(text, sizeof text, put, "/test%24file.text");
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, put, "/test$file.text");
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
}

TEST(test_s3_get_lifecycle_and_list)
{
    static const char get[] = "GET /?%s\nHost:examplebucket.s3.amazonaws.com\n"
                              "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\n"
                              "Authorization:" S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                              "Signature=%s";
    static const char lc_sig[] = "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543";
    static const char ls_sig[] = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
    char text[1024];
    snprintf(text, sizeof text, get, "lifecycle", lc_sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, get, "lifecycle=", lc_sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, get, "max-keys=2&prefix=J", ls_sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, get, "prefix=J&max-keys=2", ls_sig); /* order on the wire */
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, get, "prefix=%4A&max-keys=2", ls_sig); /* needless escape */
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
    snprintf(text, sizeof text, get, "prefix=K&max-keys=2", ls_sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
}

#define PRESIGNED_Q                                                                                \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"        \
    "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"             \
    "X-Amz-SignedHeaders=host"
#define PRESIGNED_SIG "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
#define PRESIGNED_URL "GET /test.txt?" PRESIGNED_Q "&" PRESIGNED_SIG "\nHost:examplebucket.s3.amazonaws.com"

TEST(test_s3_presigned)
{
    sigv4_parsed_t p;
    sigv4_result_t res;
    CHECK_EQ_INT(check_text(PRESIGNED_URL, S3_NOW, S3_SECRET, NULL, &p, &res), 0);
    CHECK_EQ_INT(p.kind, SIGV4_PRESIGNED);
    CHECK_EQ_INT(p.payload, PAYLOAD_UNSIGNED);
    CHECK_EQ_INT(p.expires, 86400);
    /* the signature may sit anywhere in the query */
    CHECK_EQ_INT(check_text("GET /test.txt?" PRESIGNED_SIG "&" PRESIGNED_Q
                            "\nHost:examplebucket.s3.amazonaws.com",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 0);
    /* valid through its last second, expired one second later; not valid yet > 15 min early */
    CHECK_EQ_INT(check_text(PRESIGNED_URL, S3_NOW + 86400, S3_SECRET, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(check_text(PRESIGNED_URL, S3_NOW + 86401, S3_SECRET, NULL, NULL, NULL), -SE_ACCESS_DENIED);
    CHECK_EQ_INT(check_text(PRESIGNED_URL, S3_NOW - 900, S3_SECRET, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(check_text(PRESIGNED_URL, S3_NOW - 901, S3_SECRET, NULL, NULL, NULL), -SE_ACCESS_DENIED);
    /* an extra unsigned query parameter, or a different host, breaks it */
    CHECK_EQ_INT(check_text("GET /test.txt?" PRESIGNED_Q "&" PRESIGNED_SIG
                            "&x-id=GetObject\nHost:examplebucket.s3.amazonaws.com",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(check_text("GET /test.txt?" PRESIGNED_Q "&" PRESIGNED_SIG "\nHost:other.example.com", S3_NOW,
                            S3_SECRET, NULL, NULL, NULL),
                 -SE_SIGNATURE_MISMATCH);
}

TEST(test_presigned_errors)
{
    static const char *const bad[] = {
        /* missing X-Amz-Expires */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* X-Amz-Expires over 7 days */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* X-Amz-Expires not a number */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=-5&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* wrong algorithm */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* credential with four parts */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* host not signed */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=range&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* a parameter twice */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-Expires=60&"
        "X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* signature too short */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bb\nHost:h",
        /* scope date differs from X-Amz-Date */
        "GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130525%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&"
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
        /* only a signature */
        "GET /k?X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = check_text(bad[i], S3_NOW, S3_SECRET, NULL, NULL, NULL);
        if (rc != -SE_AUTH_QUERY_MALFORMED)
            fprintf(stderr, "case %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, -SE_AUTH_QUERY_MALFORMED);
    }
    /* 604800 exactly is allowed (parse passes, the signature then does not match) */
    CHECK_EQ_INT(check_text("GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2F"
                            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604800&"
                            "X-Amz-SignedHeaders=host&X-Amz-Signature="
                            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_SIGNATURE_MISMATCH);
    /* X-Amz-Expires=0: well-formed, but expired from the start */
    CHECK_EQ_INT(check_text("GET /k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2F"
                            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=0&"
                            "X-Amz-SignedHeaders=host&X-Amz-Signature="
                            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:h",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_ACCESS_DENIED);
    /* an unsigned x-amz-* header on a presigned request */
    CHECK_EQ_INT(check_text(PRESIGNED_URL "\nx-amz-acl:public-read", S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_ACCESS_DENIED);
    /* signed aws-chunked streaming needs header auth */
    CHECK_EQ_INT(check_text(PRESIGNED_URL "\nx-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD", S3_NOW,
                            S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_REQUEST);
    /* SigV2 query auth */
    CHECK_EQ_INT(check_text("GET /k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxyb"
                            "\nHost:h",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_REQUEST);
}

/* ---- header-auth errors ---- */

TEST(test_header_malformed)
{
    static const char *const bad[] = {
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws5_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb4",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb4z",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Color=blue,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=Host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 garbage",
        /* credential date is not the request date */
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"
                 "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\nAuthorization:%s",
                 bad[i]);
        int rc = check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL);
        if (rc != -SE_AUTH_HEADER_MALFORMED)
            fprintf(stderr, "case %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, -SE_AUTH_HEADER_MALFORMED);
    }
    /* another scheme altogether: "Unsupported Authorization Type" */
    int rc = check_text("GET /test.txt\nHost:examplebucket.s3.amazonaws.com\n"
                        "x-amz-date:20130524T000000Z\nAuthorization:Bearer abc",
                        S3_NOW, S3_SECRET, NULL, NULL, NULL);
    CHECK_EQ_INT(rc, -SE_INVALID_ARGUMENT);
}

TEST(test_header_other_errors)
{
    /* SigV2 */
    CHECK_EQ_INT(check_text("GET /k\nHost:h\nDate:Fri, 24 May 2013 00:00:00 GMT\n"
                            "Authorization:AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_REQUEST);
    /* both header and query auth */
    CHECK_EQ_INT(check_text("GET /test.txt?" PRESIGNED_Q "&" PRESIGNED_SIG "\nHost:examplebucket.s3.amazonaws.com\n"
                            "Authorization:" S3_CRED "SignedHeaders=host,Signature=" EMPTY_SHA,
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_ARGUMENT);
    /* skew: 15 minutes either way is fine, a second more is not */
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW + 900, S3_SECRET, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW - 900, S3_SECRET, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW + 901, S3_SECRET, NULL, NULL, NULL), -SE_REQUEST_TIME_SKEWED);
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW - 901, S3_SECRET, NULL, NULL, NULL), -SE_REQUEST_TIME_SKEWED);
    /* missing x-amz-content-sha256 (S3) */
    CHECK_EQ_INT(check_text("GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"
                            "x-amz-date:20130524T000000Z\nAuthorization:" S3_CRED
                            "SignedHeaders=host;range;x-amz-date,"
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_REQUEST);
    /* an invalid x-amz-content-sha256 */
    CHECK_EQ_INT(check_text("GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"
                            "x-amz-content-sha256:abc\nx-amz-date:20130524T000000Z\n"
                            "Authorization:" S3_CRED "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_INVALID_ARGUMENT);
    /* no date at all, and an unparsable x-amz-date */
    CHECK_EQ_INT(check_text("GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"
                            "x-amz-content-sha256:" EMPTY_SHA "\nAuthorization:" S3_CRED
                            "SignedHeaders=host;range;x-amz-content-sha256,"
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_ACCESS_DENIED);
    CHECK_EQ_INT(check_text("GET /test.txt\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\n"
                            "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:2013-05-24\nAuthorization:" S3_CRED
                            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                            S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_ACCESS_DENIED);
    /* an x-amz-* header that was not signed */
    CHECK_EQ_INT(check_text(GET_RANGE "\nx-amz-meta-late:1", S3_NOW, S3_SECRET, NULL, NULL, NULL),
                 -SE_ACCESS_DENIED);
    /* wrong secret */
    CHECK_EQ_INT(check_text(GET_RANGE, S3_NOW, SUITE_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    /* anonymous */
    sigv4_parsed_t p;
    CHECK_EQ_INT(check_text("GET /test.txt?versionId=3\nHost:h", S3_NOW, S3_SECRET, NULL, &p, NULL), 0);
    CHECK_EQ_INT(p.kind, SIGV4_NONE);
}

/* Change one byte anywhere that is signed (method, path, query, header value, signature):
 * SignatureDoesNotMatch every time. */
TEST(test_single_byte_changes)
{
    static const char base[] = GET_RANGE;
    size_t sig_at = strlen(base) - 64;
    for (size_t i = sig_at; i < strlen(base); i++) {
        char text[sizeof base];
        memcpy(text, base, sizeof base);
        text[i] = text[i] == '0' ? '1' : '0';
        CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    }
    static const char *const variants[] = {
        "PUT /test.txt\n", "GET /test.tx\n", "GET /Test.txt\n", "GET /test.txt?a\n", "GET /test.txu\n",
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", variants[i], strchr(base, '\n') + 1);
        CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    }
    char text[sizeof base];
    memcpy(text, base, sizeof base);
    *strstr(text, "0-9") = '1'; /* Range: bytes=1-9 */
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    memcpy(text, base, sizeof base);
    *strstr(text, "examplebucket") = 'E'; /* host */
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
}

/* Signs a hand-written canonical request (an independent reference for cases with no
 * published vector). */
static void sign_text(const char *creq, const char *amz, const char *secret, const char *scope_date,
                      const char *region, const char *service, char out[65])
{
    uint8_t key[32], h[32], sig[32];
    char hex[65], sts[512];
    sigv4_signing_key(sv_from_cstr(secret), sv_from_cstr(scope_date), sv_from_cstr(region),
                      sv_from_cstr(service), key);
    sha256(creq, strlen(creq), h);
    hex_encode(h, 32, hex);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz, scope_date, region,
             service, hex);
    hmac_sha256(key, 32, sts, strlen(sts), sig);
    hex_encode(sig, 32, out);
}

TEST(test_raw_path_fallback)
{
    /* A client that signed its own encoding "/b/a%2Fb" (S3 canonical form would be "/b/a/b"). */
    char sig[65], text[1024];
    sign_text("GET\n/b/a%2Fb\n\nhost:h\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n\n"
              "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
              "20130524T000000Z", S3_SECRET, "20130524", "us-east-1", "s3", sig);
    snprintf(text, sizeof text,
             "GET /b/a%%2Fb\nHost:h\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n"
             "Authorization:" S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=%s",
             sig);
    sigv4_parsed_t p;
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, &p, NULL), 0);
    CHECK_EQ_INT(p.payload, PAYLOAD_UNSIGNED);
    /* ... but the raw path is not accepted for a different path */
    snprintf(text, sizeof text,
             "GET /b/a/b\nHost:h\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n"
             "Authorization:" S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=%s",
             sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    /* No dot-segment or double-slash normalisation: "//a/./b/../c" is signed as is. */
    sign_text("GET\n//a/./b/../c\n\nhost:h\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n\n"
              "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
              "20130524T000000Z", S3_SECRET, "20130524", "us-east-1", "s3", sig);
    snprintf(text, sizeof text,
             "GET //a/./b/../c\nHost:h\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n"
             "Authorization:" S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=%s",
             sig);
    CHECK_EQ_INT(check_text(text, S3_NOW, S3_SECRET, NULL, NULL, NULL), 0);
}

TEST(test_date_header_only)
{
    /* No x-amz-date: the Date header dates the request; the string to sign uses ISO basic. */
    char sig[65], text[1024];
    sign_text("GET\n/k\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:h\nx-amz-content-sha256:" EMPTY_SHA "\n\n"
              "date;host;x-amz-content-sha256\n" EMPTY_SHA,
              "20130524T000000Z", S3_SECRET, "20130524", "us-east-1", "s3", sig);
    snprintf(text, sizeof text,
             "GET /k\nHost:h\nDate:Fri, 24 May 2013 00:00:00 GMT\nx-amz-content-sha256:" EMPTY_SHA "\n"
             "Authorization:" S3_CRED "SignedHeaders=date;host;x-amz-content-sha256,Signature=%s",
             sig);
    sigv4_parsed_t p;
    CHECK_EQ_INT(check_text(text, S3_NOW + 60, S3_SECRET, NULL, &p, NULL), 0);
    CHECK_EQ_INT(p.req_time, S3_NOW);
}

TEST(test_services_and_payloads)
{
    /* The credential scope's service routes the request: filled for any service. */
    treq_t t;
    sigv4_parsed_t p;
    treq_init(&t, "POST /\nHost:iam.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"
                  "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                  "SignedHeaders=host;x-amz-date, Signature=" EMPTY_SHA);
    CHECK_EQ_INT(sigv4_parse(&t.r, SUITE_NOW, &p), 0);
    CHECK(sv_eq_cstr(p.service, "iam"));
    CHECK(sv_eq_cstr(p.region, "us-east-1"));
    CHECK(sv_eq_cstr(p.access_key, "AKIDEXAMPLE"));
    CHECK(sv_eq_cstr(p.date, "20150830"));
    CHECK(sv_eq_cstr(p.signed_headers, "host;x-amz-date"));
    CHECK_EQ_INT(p.content_sha256.len, 0); /* the caller hashes the body */
    treq_free(&t);

    static const struct {
        const char *v;
        enum sigv4_payload kind;
    } kinds[] = {
        {"UNSIGNED-PAYLOAD", PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", PAYLOAD_STREAMING_SIGNED_TRAILER},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", PAYLOAD_STREAMING_UNSIGNED_TRAILER},
        {EMPTY_SHA, PAYLOAD_SIGNED},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "PUT /b/k\nHost:h\nx-amz-content-sha256:%s\nx-amz-date:20130524T000000Z\nx-amz-security-token:tok\n"
                 "Authorization:" S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=" EMPTY_SHA,
                 kinds[i].v);
        treq_init(&t, text);
        CHECK_EQ_INT(sigv4_parse(&t.r, S3_NOW, &p), 0);
        CHECK_EQ_INT(p.payload, kinds[i].kind);
        CHECK(sv_eq_cstr(p.content_sha256, kinds[i].v));
        CHECK(sv_eq_cstr(p.security_token, "tok"));
        treq_free(&t);
    }
}

/* The seed request of the aws-chunked example (sigv4-streaming). */
TEST(test_s3_chunked_seed)
{
    sigv4_parsed_t p;
    sigv4_result_t res;
    CHECK_EQ_INT(check_text("PUT /examplebucket/chunkObject.txt\nHost:s3.amazonaws.com\n"
                            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n"
                            "x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n"
                            "Content-Encoding:aws-chunked\nx-amz-decoded-content-length:66560\n"
                            "Content-Length:66824\nAuthorization:" S3_CRED
                            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;"
                            "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
                            "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                            S3_NOW, S3_SECRET, NULL, &p, &res),
                 0);
    CHECK_EQ_INT(p.payload, PAYLOAD_STREAMING_SIGNED);
    CHECK_EQ_STR(res.seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    uint8_t key[32];
    sigv4_signing_key(SV(S3_SECRET), SV("20130524"), SV("us-east-1"), SV("s3"), key);
    CHECK(memcmp(key, res.signing_key, 32) == 0);
}

int main(void)
{
    RUN(test_suite_get_vanilla);
    RUN(test_suite_canonical_text);
    RUN(test_suite_queries);
    RUN(test_suite_paths);
    RUN(test_suite_headers);
    RUN(test_suite_sts_token);
    RUN(test_suite_form_body);
    RUN(test_s3_get_object_range);
    RUN(test_s3_put_object);
    RUN(test_s3_get_lifecycle_and_list);
    RUN(test_s3_presigned);
    RUN(test_presigned_errors);
    RUN(test_header_malformed);
    RUN(test_header_other_errors);
    RUN(test_single_byte_changes);
    RUN(test_raw_path_fallback);
    RUN(test_date_header_only);
    RUN(test_services_and_payloads);
    RUN(test_s3_chunked_seed);
    return t_summary("sigv4");
}
