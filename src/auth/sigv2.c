/* AWS Signature Version 2 (HMAC-SHA1) for S3: "Authorization: AWS id:sig" and query-string
 * authentication (AWSAccessKeyId, Signature, Expires).
 *
 * StringToSign = Verb \n Content-MD5 \n Content-Type \n Date-or-Expires \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 * - Date is empty when x-amz-date is sent (that header is then among the amz headers), as
 *   s3cmd and S3's prose say; S3's own DELETE example instead puts the x-amz-date value on
 *   the Date line and leaves it out of the amz headers, which is tried too.
 * - Amz headers: x-amz-* names lower-cased and sorted, values trimmed, repeats joined with
 *   ','. In the query form, x-amz-* query parameters count as headers (botocore moves the
 *   request's x-amz-* headers into a presigned URL's query).
 * - Resource: "/bucket" (virtual-hosted style) + the path exactly as sent ("/bucket/" for a
 *   bucket-level request however it was addressed), then the
 *   subresources among the query parameters, sorted, values decoded. The subresource list is
 *   botocore's (the one client that still signs everything with SigV2 by default); s3cmd's is
 *   a subset of it but signs values still percent-encoded, so a mismatch is tried once more
 *   that way.
 */
#include "auth/sigv2.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"

#define MAX_SKEW_SEC (15 * 60)
#define MAX_AMZ 64 /* x-amz-* headers considered; more is refused as malformed */

static const char *const subresources[] = {
    "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
    "lifecycle", "location", "logging", "metrics", "notification", "object-lock", "partNumber",
    "policy", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "select", "select-type",
    "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website",
};

static bool is_subresource(sv_t name)
{
    for (size_t i = 0; i < sizeof subresources / sizeof subresources[0]; i++)
        if (sv_eq_cstr(name, subresources[i]))
            return true;
    return false;
}

static bool base64_text(sv_t s)
{
    if (s.len == 0 || s.len > 60)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    return true;
}

int sigv2_parse(const sigv4_req_t *r, int64_t now, sigv2_parsed_t *out, const char **msg)
{
    memset(out, 0, sizeof *out);
    *msg = NULL;
    int nauth, nk, ns, ne, nv4;
    sv_t auth = sv_trim(sigv4_req_header(r, "authorization", &nauth));
    sv_t qk = sigv4_query_get(r->query, "AWSAccessKeyId", &nk);
    sv_t qs = sigv4_query_get(r->query, "Signature", &ns);
    sv_t qe = sigv4_query_get(r->query, "Expires", &ne);
    sigv4_query_get(r->query, "X-Amz-Signature", &nv4);
    bool header = nauth == 1 && sv_starts_with(auth, SV("AWS "));
    bool query = nk || ns;

    if (!header && !query)
        return 0;
    if ((header && (query || nv4)) || (query && (nv4 || (nauth && auth.len))) || nauth > 1) {
        *msg = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
               "Signature query string parameter or the Authorization header should be specified";
        return -SE_INVALID_ARGUMENT;
    }

    if (header) {
        sv_t creds = sv_trim((sv_t){auth.p + 4, auth.len - 4});
        sv_t id;
        bool colon;
        sv_t sig = sv_split(creds, ':', &id, &colon);
        if (!colon || id.len == 0 || id.len > 128 || !base64_text(sig)) {
            *msg = "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature";
            return -SE_INVALID_ARGUMENT;
        }
        out->kind = SIGV2_HEADER;
        out->access_key = id;
        out->signature = sig;
        int cnt;
        sv_t d = sigv4_req_header(r, "x-amz-date", &cnt);
        if (cnt) {
            out->date_line = SV("");
        } else {
            d = sigv4_req_header(r, "date", &cnt);
            out->date_line = sv_trim(d);
        }
        if (!cnt || parse_http_date(sv_trim(d), &out->req_time) < 0) {
            *msg = "AWS authentication requires a valid Date or x-amz-date header";
            return -SE_ACCESS_DENIED;
        }
        if (out->req_time > now + MAX_SKEW_SEC || out->req_time < now - MAX_SKEW_SEC)
            return -SE_REQUEST_TIME_SKEWED;
        out->security_token = sigv4_req_header(r, "x-amz-security-token", NULL);
        return 0;
    }

    if (nk != 1 || ns != 1 || ne != 1 || qk.len == 0 || qk.len > 128) {
        *msg = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
               "parameters";
        return -SE_ACCESS_DENIED;
    }
    long sl = qs.len < sizeof out->sig_buf ? sv_url_decode(qs, out->sig_buf, false) : -1;
    if (sl < 0 || !base64_text((sv_t){out->sig_buf, (size_t)sl})) {
        *msg = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
               "parameters";
        return -SE_ACCESS_DENIED;
    }
    uint64_t exp;
    if (qe.len == 0 || qe.len > 19 || sv_to_u64(qe, &exp) != 0 || exp > INT64_MAX) {
        *msg = "Invalid date (should be seconds since epoch)";
        return -SE_ACCESS_DENIED;
    }
    out->kind = SIGV2_QUERY;
    out->access_key = qk;
    out->signature = (sv_t){out->sig_buf, (size_t)sl};
    out->req_time = (int64_t)exp;
    out->date_line = qe;
    if (out->req_time < now) {
        *msg = "Request has expired";
        return -SE_ACCESS_DENIED;
    }
    out->security_token = sigv4_req_header(r, "x-amz-security-token", NULL);
    if (!out->security_token.p)
        out->security_token = sigv4_query_get(r->query, "x-amz-security-token", NULL);
    return 0;
}

typedef struct {
    char *name; /* lower-cased, NUL-terminated */
    sv_t value;
} amz_t;

static void put_std_header(const sigv4_req_t *r, const sigv2_parsed_t *p, const char *name,
                           arena_t *a, buf_t *out)
{
    int cnt;
    sv_t v = sigv4_req_header(r, name, &cnt);
    if (!cnt && p->kind == SIGV2_QUERY) {
        sv_t qv = sigv4_query_get(r->query, name, &cnt);
        if (cnt) {
            char *d = arena_alloc(a, qv.len + 1);
            long n = sv_url_decode(qv, d, true);
            v = n >= 0 ? (sv_t){d, (size_t)n} : qv;
        }
    }
    buf_putsv(out, sv_trim(v));
    buf_putc(out, '\n');
}

/* Inserts keeping the order of equal names (repeats are joined in arrival order). */
static void amz_add(amz_t *v, size_t *n, char *name, sv_t value)
{
    size_t i = *n;
    while (i > 0 && strcmp(v[i - 1].name, name) > 0) {
        v[i] = v[i - 1];
        i--;
    }
    v[i] = (amz_t){name, value};
    (*n)++;
}

static char *lower_dup(arena_t *a, sv_t s)
{
    char *d = arena_strndup(a, s.p, s.len);
    for (size_t i = 0; i < s.len; i++)
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    return d;
}

void sigv2_string_to_sign(const sigv4_req_t *r, const sigv2_parsed_t *p, sv_t vhost_bucket,
                          int variant, arena_t *a, buf_t *out)
{
    buf_putsv(out, r->method);
    buf_putc(out, '\n');
    put_std_header(r, p, "content-md5", a, out);
    put_std_header(r, p, "content-type", a, out);
    int nxd = 0;
    sv_t xd = sigv4_req_header(r, "x-amz-date", &nxd);
    bool amz_date_line = (variant & SIGV2_AMZ_DATE_LINE) && nxd == 1;
    buf_putsv(out, amz_date_line ? sv_trim(xd) : p->date_line);
    buf_putc(out, '\n');

    amz_t amz[MAX_AMZ];
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders && n < MAX_AMZ; i++) {
        sv_t nm = r->headers[i].name;
        if (amz_date_line && sv_caseeq_cstr(nm, "x-amz-date"))
            continue;
        if (nm.len > 6 && sv_caseeq_cstr((sv_t){nm.p, 6}, "x-amz-"))
            amz_add(amz, &n, lower_dup(a, nm), sv_trim(r->headers[i].value));
    }
    if (p->kind == SIGV2_QUERY) {
        sv_t q = r->query, nm, v;
        bool eq;
        while (sigv4_query_next(&q, &nm, &v, &eq) && n < MAX_AMZ) {
            if (nm.len <= 6 || !sv_caseeq_cstr((sv_t){nm.p, 6}, "x-amz-"))
                continue;
            char *d = arena_alloc(a, v.len + 1);
            long dl = sv_url_decode(v, d, true);
            amz_add(amz, &n, lower_dup(a, nm), dl >= 0 ? (sv_t){d, (size_t)dl} : v);
        }
    }
    for (size_t i = 0; i < n;) {
        buf_puts(out, amz[i].name);
        buf_putc(out, ':');
        buf_putsv(out, amz[i].value);
        size_t j = i + 1;
        for (; j < n && strcmp(amz[j].name, amz[i].name) == 0; j++) {
            buf_putc(out, ',');
            buf_putsv(out, amz[j].value);
        }
        buf_putc(out, '\n');
        i = j;
    }

    if (vhost_bucket.len) {
        buf_putc(out, '/');
        buf_putsv(out, vhost_bucket);
    }
    sv_t path = r->path.len ? r->path : SV("/");
    buf_putsv(out, path);
    sv_t first = SV_NULL;
    if (variant & SIGV2_BOTOCORE_PATH) {
        /* botocore 1.29 signs its operation's URI template as the path, query part included
         * ("/{Bucket}?list-type=2", "/{Bucket}/{Key+}?tagging", which it sends as the first
         * query item), then appends the subresources again. */
        sv_t q = r->query, v;
        bool eq;
        if (sigv4_query_next(&q, &first, &v, &eq)) {
            first = (sv_t){first.p, eq ? (size_t)(v.p + v.len - first.p) : first.len};
            buf_putc(out, '?');
            buf_putsv(out, first);
        }
    } else if (!vhost_bucket.len && path.len > 1 && !memchr(path.p + 1, '/', path.len - 1)) {
        /* A bucket-level request is "/bucket/" in every client's resource (and in S3's
         * examples), even when sent path-style as "/bucket". */
        buf_putc(out, '/');
    }

    /* Subresources, sorted by name (a stable insertion sort; queries are short). */
    struct sub {
        sv_t name, value;
        bool eq;
    } subs[MAX_AMZ];
    size_t ns = 0;
    sv_t q = r->query, nm, v;
    bool eq;
    while (sigv4_query_next(&q, &nm, &v, &eq) && ns < MAX_AMZ) {
        if (!is_subresource(nm))
            continue;
        if (!(variant & SIGV2_RAW_VALUES) && eq && v.len) {
            char *d = arena_alloc(a, v.len + 1);
            long dl = sv_url_decode(v, d, true);
            if (dl >= 0)
                v = (sv_t){d, (size_t)dl};
        }
        size_t i = ns++;
        while (i > 0 && sv_cmp(subs[i - 1].name, nm) > 0) {
            subs[i] = subs[i - 1];
            i--;
        }
        subs[i] = (struct sub){nm, v, eq};
    }
    for (size_t i = 0; i < ns; i++) {
        buf_putc(out, i ? '&' : '?');
        buf_putsv(out, subs[i].name);
        if (subs[i].eq) {
            buf_putc(out, '=');
            buf_putsv(out, subs[i].value);
        }
    }
}

static bool sign_matches(sv_t sts, sv_t secret, sv_t want)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha1(), secret.p, (int)secret.len, (const unsigned char *)sts.p, sts.len, mac,
              &ml))
        return false;
    char b64[64];
    size_t bl = base64_encode(mac, ml, b64);
    return bl == want.len && ct_eq(b64, want.p, bl);
}

int sigv2_verify(const sigv4_req_t *r, const sigv2_parsed_t *p, sv_t vhost_bucket, sv_t secret,
                 arena_t *a)
{
    if (p->kind == SIGV2_NONE)
        return -SE_SIGNATURE_MISMATCH;
    /* The canonical form first; then what s3cmd and botocore actually sign, where those differ
     * (each still covers the method, headers, path and every subresource). */
    static const int variants[] = {0, SIGV2_RAW_VALUES, SIGV2_BOTOCORE_PATH, SIGV2_AMZ_DATE_LINE};
    buf_t first = BUF_INIT, b = BUF_INIT;
    bool ok = false;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0] && !ok; i++) {
        buf_t *t = i == 0 ? &first : &b;
        buf_clear(t);
        sigv2_string_to_sign(r, p, vhost_bucket, variants[i], a, t);
        if (i > 0 && b.len == first.len && memcmp(b.p, first.p, b.len) == 0)
            continue;
        ok = sign_matches(buf_sv(t), secret, p->signature);
    }
    buf_release(&first);
    buf_release(&b);
    return ok ? 0 : -SE_SIGNATURE_MISMATCH;
}
