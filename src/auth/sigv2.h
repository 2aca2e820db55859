/* auth/sigv2: AWS Signature Version 2 for S3 (HMAC-SHA1), header and query-string forms, as a
 * pure transform (no I/O, no key storage) like auth/sigv4.
 *
 * Why we speak it: Debian 12's boto3/botocore (1.29) presigns S3 URLs with SigV2 by default
 * (`generate_presigned_url` without a signature_version), `s3cmd signurl` signs with SigV2, and
 * us-east-1 still accepts it. Requests it authenticates carry s3:signatureversion "AWS" in the
 * policy context, so a bucket policy can refuse them as on AWS.
 *
 * Flow: sigv2_parse() (which form, the fields, clock rules) -> the caller finds the secret ->
 * sigv2_verify(). The request view is the same as SigV4's (sigv4_req_t). */
#ifndef STRATA_AUTH_SIGV2_H
#define STRATA_AUTH_SIGV2_H
#include <stdint.h>

#include "auth/sigv4.h"
#include "core/arena.h"
#include "core/str.h"

enum sigv2_kind { SIGV2_NONE = 0, SIGV2_HEADER, SIGV2_QUERY };

typedef struct sigv2_parsed {
    enum sigv2_kind kind;
    sv_t access_key;     /* header: as sent; query: raw query value (SDKs never encode it) */
    sv_t signature;      /* base64 text; query: percent-decoded into sig_buf */
    int64_t req_time;    /* header: Date / x-amz-date; query: Expires (seconds since the epoch) */
    sv_t date_line;      /* the Date line of the string to sign ("" when x-amz-date is sent) */
    sv_t security_token; /* header or query x-amz-security-token (query: still encoded) */
    char sig_buf[64];
} sigv2_parsed_t;

/* SIGV2_NONE (return 0) when the request carries no SigV2 auth (it may carry SigV4 or none).
 * Errors: -SE_INVALID_ARGUMENT (malformed "AWS id:sig" header, or SigV2 mixed with SigV4),
 * -SE_ACCESS_DENIED (no valid Date / x-amz-date; query without Expires; expired URL: the
 * message is in *msg), -SE_REQUEST_TIME_SKEWED (header form, 15 minutes). */
int sigv2_parse(const sigv4_req_t *r, int64_t now, sigv2_parsed_t *out, const char **msg);

/* Variants of the string to sign that real clients produce (flags). */
enum {
    SIGV2_RAW_VALUES = 1,    /* subresource values as sent, still percent-encoded (s3cmd) */
    SIGV2_BOTOCORE_PATH = 2, /* path + "?" + first query item + subresources (botocore 1.29) */
    SIGV2_AMZ_DATE_LINE = 4, /* x-amz-date on the Date line, not among the amz headers */
};

/* Appends the StringToSign; variant 0 is S3's canonical form. vhost_bucket is the bucket named
 * by the Host header (virtual-hosted style) or empty. a: scratch for decoding. */
struct buf;
void sigv2_string_to_sign(const sigv4_req_t *r, const sigv2_parsed_t *p, sv_t vhost_bucket,
                          int variant, arena_t *a, struct buf *out);

/* 0, or -SE_SIGNATURE_MISMATCH. Constant-time comparison of the base64 signature. */
int sigv2_verify(const sigv4_req_t *r, const sigv2_parsed_t *p, sv_t vhost_bucket, sv_t secret,
                 arena_t *a);

#endif
