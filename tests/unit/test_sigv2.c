/* auth/sigv2: the S3 documentation's SigV2 examples (string to sign and signature), the
 * subresource and amz-header rules, the query form, the client variants we accept, and every
 * parse error. Signatures are HMAC-SHA1 with the documentation's example secret. */
#include <stdlib.h>

#include "auth/sigv2.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "t.h"
#include "treq.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T_GET 1175024202 /* Tue, 27 Mar 2007 19:36:42 GMT */

/* Parses at `now`, checks the string to sign (variant 0) against want. */
static int sts_of(const char *req, int64_t now, const char *vhost, const char *want)
{
    treq_t t;
    treq_init(&t, req);
    sigv2_parsed_t p;
    const char *msg;
    int rc = sigv2_parse(&t.r, now, &p, &msg);
    if (rc == 0 && want) {
        arena_t *a = arena_new();
        buf_t b = BUF_INIT;
        sigv2_string_to_sign(&t.r, &p, sv_from_cstr(vhost), 0, a, &b);
        buf_putc(&b, 0);
        CHECK_EQ_STR(b.p, want);
        buf_release(&b);
        arena_free(a);
    }
    free(t.text);
    return rc;
}

static int verify(const char *req, int64_t now, const char *vhost, const char *secret)
{
    treq_t t;
    treq_init(&t, req);
    sigv2_parsed_t p;
    const char *msg;
    int rc = sigv2_parse(&t.r, now, &p, &msg);
    if (rc == 0) {
        arena_t *a = arena_new();
        rc = sigv2_verify(&t.r, &p, sv_from_cstr(vhost), sv_from_cstr(secret), a);
        arena_free(a);
    }
    free(t.text);
    return rc;
}

TEST(test_doc_get_object)
{
    const char *req = "GET /photos/puppy.jpg\n"
                      "Host:awsexamplebucket1.us-west-1.s3.amazonaws.com\n"
                      "Date:Tue, 27 Mar 2007 19:36:42 +0000\n"
                      "Authorization:AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=";
    CHECK_EQ_INT(sts_of(req, T_GET, "awsexamplebucket1",
                        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"),
                 0);
    CHECK_EQ_INT(verify(req, T_GET, "awsexamplebucket1", SECRET), 0);
    CHECK_EQ_INT(verify(req, T_GET, "awsexamplebucket1", "wrong"), -SE_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(verify(req, T_GET, "", SECRET), -SE_SIGNATURE_MISMATCH); /* other resource */
}

TEST(test_doc_upload_amz_headers)
{
    /* Repeated headers joined with ',', names lower-cased and sorted, values trimmed. */
    const char *req = "PUT /db-backup.dat.gz\n"
                      "Date:Tue, 27 Mar 2007 21:06:08 +0000\n"
                      "x-amz-acl:public-read\n"
                      "content-type:application/x-download\n"
                      "Content-MD5:4gJE4saaMU4BqNR0kLY+lw==\n"
                      "X-Amz-Meta-ReviewedBy:joe@example.com\n"
                      "X-Amz-Meta-ReviewedBy: jane@example.com \n"
                      "X-Amz-Meta-FileChecksum:0x02661779\n"
                      "X-Amz-Meta-ChecksumAlgorithm:crc32\n"
                      "Authorization:AWS AKIAIOSFODNN7EXAMPLE:x=";
    CHECK_EQ_INT(sts_of(req, 1175029568, "static.example.com",
                        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n"
                        "Tue, 27 Mar 2007 21:06:08 +0000\n"
                        "x-amz-acl:public-read\n"
                        "x-amz-meta-checksumalgorithm:crc32\n"
                        "x-amz-meta-filechecksum:0x02661779\n"
                        "x-amz-meta-reviewedby:joe@example.com,jane@example.com\n"
                        "/static.example.com/db-backup.dat.gz"),
                 0);
}

TEST(test_resource_and_subresources)
{
    const char *d = "Date:Tue, 27 Mar 2007 19:36:42 +0000\nAuthorization:AWS AK:x=";
    char req[512];
    /* Listing parameters are not subresources; a bucket-level resource ends with '/'. */
    snprintf(req, sizeof req, "GET /?prefix=photos&max-keys=50&marker=puppy\n%s", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "awsexamplebucket1",
                        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/"),
                 0);
    snprintf(req, sizeof req, "GET /?acl\n%s", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "awsexamplebucket1",
                        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/?acl"),
                 0);
    /* Path style: "/bucket" is signed as "/bucket/". */
    snprintf(req, sizeof req, "GET /mybucket?versioning\n%s", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "", "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/mybucket/?versioning"),
                 0);
    /* Sorted, values decoded, a name without '=' stays bare; the path stays as sent. */
    snprintf(req, sizeof req,
             "GET /b/a%%20b?versionId=3%%2F4&response-content-type=text%%2Fplain&acl&uploads=\n%s", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "",
                        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                        "/b/a%20b?acl&response-content-type=text/plain&uploads=&versionId=3/4"),
                 0);
}

TEST(test_x_amz_date)
{
    /* x-amz-date: empty Date line, the header among the amz headers (s3cmd); the Date header
     * is then ignored. */
    const char *req = "DELETE /photos/puppy.jpg\n"
                      "Date:Tue, 27 Mar 2007 21:20:27 +0000\n"
                      "x-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n"
                      "Authorization:AWS AKIAIOSFODNN7EXAMPLE:XbyTlbQdu9Xw5o8P4iMwPktxQd8=";
    CHECK_EQ_INT(sts_of(req, 1175030426, "awsexamplebucket1",
                        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n"
                        "/awsexamplebucket1/photos/puppy.jpg"),
                 0);
    /* S3's own example signs the x-amz-date value on the Date line instead: accepted too. */
    CHECK_EQ_INT(verify(req, 1175030426, "awsexamplebucket1", SECRET), 0);
}

TEST(test_botocore_auth_path)
{
    /* botocore 1.29 signs "/b/k?tagging?tagging" for GetObjectTagging. */
    const char *req = "GET /b/k?tagging\n"
                      "Date:Tue, 27 Mar 2007 19:36:42 +0000\n"
                      "Authorization:AWS AKIAIOSFODNN7EXAMPLE:d7eTLbu7GfYUrQkF5cFHFMTLKac=";
    CHECK_EQ_INT(verify(req, T_GET, "", SECRET), 0);
    CHECK_EQ_INT(verify(req, T_GET, "", "wrong"), -SE_SIGNATURE_MISMATCH);
}

TEST(test_query_form)
{
    const char *req = "GET /photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&"
                      "Signature=1No4mq5ETf02z8aet9voy6gui6E%3D\n"
                      "Host:awsexamplebucket1.s3.us-west-1.amazonaws.com";
    CHECK_EQ_INT(sts_of(req, T_GET, "awsexamplebucket1",
                        "GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg"),
                 0);
    CHECK_EQ_INT(verify(req, T_GET, "awsexamplebucket1", SECRET), 0);
    CHECK_EQ_INT(sts_of(req, 1175139621, "", NULL), -SE_ACCESS_DENIED); /* expired */
    /* x-amz-* query parameters count as headers; response overrides are subresources. */
    CHECK_EQ_INT(sts_of("GET /b/k?AWSAccessKeyId=AK&Expires=1175139620&Signature=abc%3D&"
                        "x-amz-security-token=T%2B1&response-content-type=text%2Fplain",
                        T_GET, "",
                        "GET\n\n\n1175139620\nx-amz-security-token:T+1\n"
                        "/b/k?response-content-type=text/plain"),
                 0);
    /* s3cmd signs subresource values still encoded. */
    CHECK_EQ_INT(verify("GET /b/k?AWSAccessKeyId=AK&Expires=1175139620&"
                        "Signature=AY8uLnZ3ds%2FCeRZEwGX0F%2BPr3YU%3D&response-content-type=text%2Fplain",
                        T_GET, "", SECRET),
                 0);
}

TEST(test_parse_errors)
{
    const char *d = "Date:Tue, 27 Mar 2007 19:36:42 +0000\n";
    char req[512];
    CHECK_EQ_INT(sts_of("GET /b/k", T_GET, "", NULL), 0); /* no auth: not SigV2 */
    snprintf(req, sizeof req, "GET /b/k\n%sAuthorization:AWS nocolon", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "", NULL), -SE_INVALID_ARGUMENT);
    snprintf(req, sizeof req, "GET /b/k\n%sAuthorization:AWS :sig=", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "", NULL), -SE_INVALID_ARGUMENT);
    snprintf(req, sizeof req, "GET /b/k\n%sAuthorization:AWS AK:not base64!", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "", NULL), -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(sts_of("GET /b/k\nAuthorization:AWS AK:sig=", T_GET, "", NULL), -SE_ACCESS_DENIED);
    CHECK_EQ_INT(sts_of("GET /b/k\nDate:yesterday\nAuthorization:AWS AK:sig=", T_GET, "", NULL),
                 -SE_ACCESS_DENIED);
    snprintf(req, sizeof req, "GET /b/k\n%sAuthorization:AWS AK:sig=", d);
    CHECK_EQ_INT(sts_of(req, T_GET + 16 * 60, "", NULL), -SE_REQUEST_TIME_SKEWED);
    CHECK_EQ_INT(sts_of(req, T_GET - 16 * 60, "", NULL), -SE_REQUEST_TIME_SKEWED);
    snprintf(req, sizeof req, "GET /b/k?X-Amz-Signature=ab\n%sAuthorization:AWS AK:sig=", d);
    CHECK_EQ_INT(sts_of(req, T_GET, "", NULL), -SE_INVALID_ARGUMENT); /* two mechanisms */
    CHECK_EQ_INT(sts_of("GET /b/k?AWSAccessKeyId=AK&Signature=abc%3D", T_GET, "", NULL),
                 -SE_ACCESS_DENIED); /* no Expires */
    CHECK_EQ_INT(sts_of("GET /b/k?AWSAccessKeyId=AK&Signature=abc%3D&Expires=soon", T_GET, "", NULL),
                 -SE_ACCESS_DENIED);
    CHECK_EQ_INT(sts_of("GET /b/k?AWSAccessKeyId=AK&Signature=abc%3D&Expires=1175139620&"
                        "AWSAccessKeyId=AK2",
                        T_GET, "", NULL),
                 -SE_ACCESS_DENIED); /* repeated */
    /* A SigV4 request is not ours. */
    CHECK_EQ_INT(sts_of("GET /b/k\nAuthorization:AWS4-HMAC-SHA256 Credential=x", T_GET, "", NULL), 0);
}

int main(void)
{
    RUN(test_doc_get_object);
    RUN(test_doc_upload_amz_headers);
    RUN(test_resource_and_subresources);
    RUN(test_x_amz_date);
    RUN(test_botocore_auth_path);
    RUN(test_query_form);
    RUN(test_parse_errors);
    return t_summary("sigv2");
}
