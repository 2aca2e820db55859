/* auth/sigv4: AWS Signature Version 4, as a pure transform (no I/O, no key storage).
 *
 * Flow for one request:
 *   sigv4_parse()   -> which kind of auth (none / header / presigned) and its fields;
 *                      cheap, bounded, done before any key lookup. Errors are S3 errors
 *                      (-SE_AUTH_HEADER_MALFORMED, -SE_AUTH_QUERY_MALFORMED, -SE_ACCESS_DENIED
 *                      for expired presigned URLs, -SE_REQUEST_TIME_SKEWED, ...).
 *   (caller looks up the secret key for p.access_key; -SE_INVALID_ACCESS_KEY if unknown)
 *   sigv4_verify()  -> recomputes the canonical request and signature, compares in constant
 *                      time. -SE_SIGNATURE_MISMATCH on mismatch. On success fills the signing
 *                      key and seed signature that aws-chunked bodies chain from.
 * Payload checks (x-amz-content-sha256 against the body) are the caller's: it hashes the body
 * as it streams and compares at the end (-SE_CONTENT_SHA256_MISMATCH).
 */
#ifndef STRATA_AUTH_SIGV4_H
#define STRATA_AUTH_SIGV4_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/str.h"

/* The request as signed: raw bytes as they came on the wire. */
typedef struct sigv4_req {
    sv_t method;
    sv_t path;  /* raw, still percent-encoded, without the query */
    sv_t query; /* raw query string without '?', may be empty */
    const kv_t *headers; /* as received; names in any case; duplicates allowed */
    size_t nheaders;
} sigv4_req_t;

enum sigv4_kind { SIGV4_NONE = 0, SIGV4_HEADER, SIGV4_PRESIGNED };

enum sigv4_payload {
    PAYLOAD_SIGNED = 0,          /* x-amz-content-sha256 is a hex SHA-256 of the body */
    PAYLOAD_UNSIGNED,            /* UNSIGNED-PAYLOAD (always so for presigned) */
    PAYLOAD_STREAMING_SIGNED,    /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    PAYLOAD_STREAMING_SIGNED_TRAILER, /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    PAYLOAD_STREAMING_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};

typedef struct sigv4_parsed {
    enum sigv4_kind kind;
    sv_t access_key;
    sv_t date;    /* credential scope date YYYYMMDD */
    sv_t region;
    sv_t service; /* "s3", "iam", "sts", "kms", ... (routes the request) */
    sv_t signed_headers; /* "host;x-amz-date" as given */
    sv_t signature;      /* 64 hex chars */
    sv_t amz_date;       /* X-Amz-Date / x-amz-date (or Date) value, ISO8601 basic */
    int64_t req_time;    /* amz_date in seconds since the epoch */
    int64_t expires;     /* presigned: X-Amz-Expires seconds (1..604800) */
    sv_t security_token; /* x-amz-security-token, if any */
    enum sigv4_payload payload;
    sv_t content_sha256; /* header value (signed mode: the hex digest) */
} sigv4_parsed_t;
/* Notes on the fields (sigv4.c):
 * - Presigned: signed_headers and security_token are the raw query values, still
 *   percent-encoded (decode security_token with sv_url_decode before comparing it).
 * - Header auth for a service other than s3 (IAM, STS...) may omit x-amz-content-sha256:
 *   then content_sha256 is SV_NULL and the caller sets it to the hex SHA-256 of the body
 *   before sigv4_verify() (if left empty, the empty-body hash is assumed).
 * - Every x-amz-* request header must be among the signed headers (-SE_ACCESS_DENIED), except
 *   x-amz-security-token, and x-amz-content-sha256 on presigned URLs.
 * - SigV2 ("AWS ak:sig", or AWSAccessKeyId+Signature in the query) -> -SE_INVALID_REQUEST;
 *   the request path tries auth/sigv2.h first, so this answer is only for SigV4-only callers. */

/* Parses the auth of a request; now is the server time (seconds). SIGV4_NONE (return 0) when
 * the request carries no auth at all (anonymous). Checks the 15-minute skew rule (header) and
 * expiry (presigned) here. Views in *out point into the request. */
int sigv4_parse(const sigv4_req_t *r, int64_t now, sigv4_parsed_t *out);

typedef struct sigv4_result {
    uint8_t signing_key[32]; /* for aws-chunked chunk signatures */
    char seed_signature[65]; /* the request's signature, hex, NUL-terminated */
    char scope[128];         /* "20130524/us-east-1/s3/aws4_request" */
} sigv4_result_t;

/* Verifies p against the secret key. a is scratch memory. 0 or -SE_SIGNATURE_MISMATCH. */
int sigv4_verify(const sigv4_req_t *r, const sigv4_parsed_t *p, sv_t secret, arena_t *a,
                 sigv4_result_t *out);

/* Reading a request view (also used by auth/sigv2.c). */
/* First header named `name` (ASCII case-insensitive); *count (may be NULL) gets how many. */
sv_t sigv4_req_header(const sigv4_req_t *r, const char *name, int *count);
/* Next "name[=value]" item of a raw query; false at the end. *has_eq may be NULL. */
bool sigv4_query_next(sv_t *rest, sv_t *name, sv_t *value, bool *has_eq);
/* Raw value of the first query parameter `name` (exact); "" for a bare name; *count may be
 * NULL. */
sv_t sigv4_query_get(sv_t query, const char *name, int *count);

/* Building blocks, exposed for tests and for the client side (admin command, bench). */
/* Canonical request text (appended to out). */
struct buf;
void sigv4_canonical_request(const sigv4_req_t *r, const sigv4_parsed_t *p, struct buf *out);
void sigv4_signing_key(sv_t secret, sv_t date, sv_t region, sv_t service, uint8_t out[32]);

#endif
