/* AWS Signature Version 4 verification (Authorization header and presigned query).
 *
 * Why it is shaped this way:
 * - sigv4_parse() is cheap and bounded: it only slices the request into views, checks the
 *   clock rules and the shape of every field, and never allocates. Expensive work (hashing,
 *   HMAC, canonicalisation) waits for sigv4_verify(), after the caller found the key.
 * - Canonicalisation is the S3 flavour: the path is percent-decoded once and re-encoded with
 *   UriEncode keeping '/', with no dot-segment or slash normalisation (S3 keys may contain
 *   "//" and ".."). Some clients sign their own encoding of the path, so when the canonical
 *   form does not verify we try once more with the path exactly as received.
 * - Presigned parameters stay views into the query. Credential components are split on '/'
 *   or its encoding %2F; a component that still holds a '%' is refused (no SDK encodes the
 *   access key, date, region or service). Signed headers may arrive with ';' encoded as %3B;
 *   the verifier decodes them into scratch memory.
 * - The comparison is constant-time on the 32 raw signature bytes.
 * - Signing keys (4 chained HMACs of secret, date, region, service) are cached per thread
 *   (SKEY_CACHE entries): a key is valid for a whole day, and the derivation was ~15 % of the
 *   server's CPU on GET 4 KiB.
 */
#include "auth/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

#define ALGO "AWS4-HMAC-SHA256"
#define MAX_SKEW_SEC 900            /* 15 minutes, as S3 */
#define MAX_EXPIRES_SEC 604800      /* 7 days */
#define MAX_AUTH_HEADER 8192        /* bytes of Authorization value we are willing to parse */
#define MAX_SIGNED_HEADERS 128      /* names in SignedHeaders */
#define MAX_SCOPE_PART 48           /* region / service length, keeps scope[] in bounds */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- small helpers over the request ---- */

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool sv_caseeq(sv_t a, sv_t b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lc(a.p[i]) != lc(b.p[i]))
            return false;
    return true;
}

sv_t sigv4_req_header(const sigv4_req_t *r, const char *name, int *count)
{
    sv_t v = SV_NULL;
    int n = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (sv_caseeq_cstr(r->headers[i].name, name)) {
            if (n++ == 0)
                v = r->headers[i].value;
        }
    }
    if (count)
        *count = n;
    return v;
}

bool sigv4_query_next(sv_t *rest, sv_t *name, sv_t *value, bool *has_eq)
{
    while (rest->len) {
        sv_t item;
        *rest = sv_split(*rest, '&', &item, NULL);
        if (item.len == 0)
            continue;
        bool eq;
        *value = sv_split(item, '=', name, &eq);
        if (has_eq)
            *has_eq = eq;
        return true;
    }
    return false;
}

sv_t sigv4_query_get(sv_t q, const char *name, int *count)
{
    sv_t n, v, out = SV_NULL;
    bool eq;
    int c = 0;
    while (sigv4_query_next(&q, &n, &v, &eq)) {
        if (sv_eq_cstr(n, name)) {
            if (c++ == 0)
                out = eq ? v : (sv_t){n.p + n.len, 0};
        }
    }
    if (count)
        *count = c;
    return out;
}

static bool is_hex(sv_t s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static bool all_digits(sv_t s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

static bool has_byte(sv_t s, char c)
{
    return s.len && memchr(s.p, c, s.len) != NULL;
}

/* Next token of a list separated by `sep` or, when `enc` is set, by its %XX encoding. */
static bool token_next(sv_t *rest, char sep, const char *enc, sv_t *tok)
{
    if (!rest->p)
        return false;
    for (size_t i = 0; i < rest->len; i++) {
        size_t skip = 0;
        if (rest->p[i] == sep)
            skip = 1;
        else if (enc && i + 3 <= rest->len && rest->p[i] == '%' && rest->p[i + 1] == enc[1] &&
                 lc(rest->p[i + 2]) == lc(enc[2]))
            skip = 3;
        if (skip) {
            *tok = (sv_t){rest->p, i};
            *rest = (sv_t){rest->p + i + skip, rest->len - i - skip};
            return true;
        }
    }
    *tok = *rest;
    *rest = SV_NULL;
    return true;
}

/* Credential "AK/YYYYMMDD/region/service/aws4_request" (the '/' possibly as %2F). */
static int parse_credential(sv_t cred, bool encoded, sigv4_parsed_t *out)
{
    sv_t part[5], tok, rest = cred;
    int n = 0;
    while (token_next(&rest, '/', encoded ? "%2F" : NULL, &tok)) {
        if (n == 5)
            return -1;
        part[n++] = tok;
    }
    if (n != 5)
        return -1;
    for (int i = 0; i < 5; i++)
        if (part[i].len == 0 || has_byte(part[i], '%'))
            return -1;
    if (part[1].len != 8 || !all_digits(part[1]) || !sv_eq_cstr(part[4], "aws4_request"))
        return -1;
    if (part[2].len > MAX_SCOPE_PART || part[3].len > MAX_SCOPE_PART || part[0].len > 128)
        return -1;
    out->access_key = part[0];
    out->date = part[1];
    out->region = part[2];
    out->service = part[3];
    return 0;
}

/* SignedHeaders: lowercase names separated by ';' (or %3B when encoded); must name host. */
static int check_signed_headers(sv_t sh, bool encoded)
{
    sv_t rest = sh, tok;
    int n = 0;
    bool host = false;
    if (sh.len == 0)
        return -1;
    while (token_next(&rest, ';', encoded ? "%3B" : NULL, &tok)) {
        if (tok.len == 0 || ++n > MAX_SIGNED_HEADERS)
            return -1;
        for (size_t i = 0; i < tok.len; i++) {
            char c = tok.p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
                return -1;
        }
        if (sv_eq_cstr(tok, "host"))
            host = true;
    }
    return host ? 0 : -1;
}

static bool signed_has(sv_t sh, bool encoded, sv_t name)
{
    sv_t rest = sh, tok;
    while (token_next(&rest, ';', encoded ? "%3B" : NULL, &tok))
        if (sv_caseeq(tok, name))
            return true;
    return false;
}

/* Every x-amz-* header the client sends must be signed (S3 refuses the rest with AccessDenied:
 * an unsigned x-amz-acl on a presigned PUT would otherwise be the holder's to choose).
 * x-amz-security-token is exempt (it is checked against the credentials anyway), and so is
 * x-amz-content-sha256 on presigned URLs, where it is the payload line of the signed text. */
static bool unsigned_amz_header(const sigv4_req_t *r, sv_t sh, bool presigned)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        sv_t n = r->headers[i].name;
        if (n.len < 6 || !sv_caseeq((sv_t){n.p, 6}, SV("x-amz-")))
            continue;
        if (sv_caseeq(n, SV("x-amz-security-token")))
            continue;
        if (presigned && sv_caseeq(n, SV("x-amz-content-sha256")))
            continue;
        if (!signed_has(sh, presigned, n))
            return true;
    }
    return false;
}

static int payload_kind(sv_t v, enum sigv4_payload *out)
{
    if (sv_eq_cstr(v, "UNSIGNED-PAYLOAD"))
        *out = PAYLOAD_UNSIGNED;
    else if (sv_eq_cstr(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        *out = PAYLOAD_STREAMING_SIGNED;
    else if (sv_eq_cstr(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"))
        *out = PAYLOAD_STREAMING_SIGNED_TRAILER;
    else if (sv_eq_cstr(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
        *out = PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    else if (v.len == 64 && is_hex(v))
        *out = PAYLOAD_SIGNED;
    else
        return -1;
    return 0;
}

/* ---- parse ---- */

static int parse_header_auth(const sigv4_req_t *r, sv_t auth, int64_t now, sigv4_parsed_t *out)
{
    if (auth.len > MAX_AUTH_HEADER)
        return -SE_AUTH_HEADER_MALFORMED;
    sv_t rest = sv_trim(auth);
    if (!sv_starts_with(rest, SV(ALGO " ")))
        return -SE_AUTH_HEADER_MALFORMED;
    rest.p += sizeof ALGO;
    rest.len -= sizeof ALGO;

    sv_t cred = SV_NULL, sh = SV_NULL, sig = SV_NULL, item;
    bool have_cred = false, have_sh = false, have_sig = false;
    while (rest.len) {
        rest = sv_split(rest, ',', &item, NULL);
        item = sv_trim(item);
        sv_t key, val;
        bool eq;
        val = sv_split(item, '=', &key, &eq);
        if (!eq)
            return -SE_AUTH_HEADER_MALFORMED;
        if (sv_eq_cstr(key, "Credential") && !have_cred) {
            cred = val;
            have_cred = true;
        } else if (sv_eq_cstr(key, "SignedHeaders") && !have_sh) {
            sh = val;
            have_sh = true;
        } else if (sv_eq_cstr(key, "Signature") && !have_sig) {
            sig = val;
            have_sig = true;
        } else {
            return -SE_AUTH_HEADER_MALFORMED;
        }
    }
    if (!have_cred || !have_sh || !have_sig)
        return -SE_AUTH_HEADER_MALFORMED;
    if (parse_credential(cred, false, out) < 0)
        return -SE_AUTH_HEADER_MALFORMED;
    if (check_signed_headers(sh, false) < 0)
        return -SE_AUTH_HEADER_MALFORMED;
    if (sig.len != 64 || !is_hex(sig))
        return -SE_AUTH_HEADER_MALFORMED;
    out->kind = SIGV4_HEADER;
    out->signed_headers = sh;
    out->signature = sig;

    /* Request time: x-amz-date, else Date. AWS: AccessDenied "AWS authentication requires a
     * valid Date or x-amz-date header". */
    int cnt;
    sv_t d = sigv4_req_header(r, "x-amz-date", &cnt);
    if (cnt) {
        if (parse_amz_date(sv_trim(d), &out->req_time) < 0)
            return -SE_ACCESS_DENIED;
        out->amz_date = sv_trim(d);
    } else {
        d = sigv4_req_header(r, "date", &cnt);
        if (!cnt || parse_http_date(sv_trim(d), &out->req_time) < 0)
            return -SE_ACCESS_DENIED;
        out->amz_date = sv_trim(d);
    }
    char amz[17];
    fmt_amz_date(out->req_time, amz);
    if (memcmp(amz, out->date.p, 8) != 0)
        return -SE_AUTH_HEADER_MALFORMED; /* "Invalid credential date" */
    if (out->req_time > now + MAX_SKEW_SEC || out->req_time < now - MAX_SKEW_SEC)
        return -SE_REQUEST_TIME_SKEWED;

    if (unsigned_amz_header(r, sh, false))
        return -SE_ACCESS_DENIED;

    out->security_token = sigv4_req_header(r, "x-amz-security-token", NULL);

    sv_t cs = sigv4_req_header(r, "x-amz-content-sha256", &cnt);
    if (!cnt) {
        /* S3 insists on it; other services (IAM, STS) hash the body instead, which the
         * caller supplies in content_sha256 before sigv4_verify(). */
        if (sv_eq_cstr(out->service, "s3"))
            return -SE_INVALID_REQUEST;
        out->payload = PAYLOAD_SIGNED;
        out->content_sha256 = SV_NULL;
    } else {
        cs = sv_trim(cs);
        if (payload_kind(cs, &out->payload) < 0)
            return -SE_INVALID_ARGUMENT;
        out->content_sha256 = cs;
    }
    return 0;
}

static int parse_presigned(const sigv4_req_t *r, int64_t now, sigv4_parsed_t *out)
{
    static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                        "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"};
    sv_t v[6];
    for (int i = 0; i < 6; i++) {
        int cnt;
        v[i] = sigv4_query_get(r->query, names[i], &cnt);
        if (cnt != 1)
            return -SE_AUTH_QUERY_MALFORMED;
    }
    if (!sv_eq_cstr(v[0], ALGO))
        return -SE_AUTH_QUERY_MALFORMED;
    if (parse_credential(v[1], true, out) < 0)
        return -SE_AUTH_QUERY_MALFORMED;
    if (parse_amz_date(v[2], &out->req_time) < 0)
        return -SE_AUTH_QUERY_MALFORMED;
    out->amz_date = v[2];
    uint64_t exp;
    if (sv_to_u64(v[3], &exp) < 0 || exp > MAX_EXPIRES_SEC)
        return -SE_AUTH_QUERY_MALFORMED;
    out->expires = (int64_t)exp;
    if (check_signed_headers(v[4], true) < 0)
        return -SE_AUTH_QUERY_MALFORMED;
    out->signed_headers = v[4];
    if (v[5].len != 64 || !is_hex(v[5]))
        return -SE_AUTH_QUERY_MALFORMED;
    out->signature = v[5];
    out->kind = SIGV4_PRESIGNED;
    if (memcmp(v[2].p, out->date.p, 8) != 0)
        return -SE_AUTH_QUERY_MALFORMED;

    /* Expired ("Request has expired") or not yet valid: both AccessDenied at S3. A URL that
     * lives 0 seconds is expired as soon as it is made (ceph s3-tests
     * test_object_raw_get_x_amz_expires_out_range_zero wants 403, not a malformed query). */
    if (out->expires == 0 || now > out->req_time + out->expires)
        return -SE_ACCESS_DENIED;
    if (out->req_time > now + MAX_SKEW_SEC)
        return -SE_ACCESS_DENIED;

    if (unsigned_amz_header(r, out->signed_headers, true))
        return -SE_ACCESS_DENIED;

    int cnt;
    out->security_token = sigv4_query_get(r->query, "X-Amz-Security-Token", &cnt);
    if (cnt > 1)
        return -SE_AUTH_QUERY_MALFORMED;
    if (!cnt)
        out->security_token = sigv4_req_header(r, "x-amz-security-token", NULL);

    /* Payload: UNSIGNED-PAYLOAD unless the client says otherwise (header, then query). */
    sv_t cs = sigv4_req_header(r, "x-amz-content-sha256", &cnt);
    if (!cnt)
        cs = sigv4_query_get(r->query, "X-Amz-Content-Sha256", &cnt);
    if (!cnt) {
        out->payload = PAYLOAD_UNSIGNED;
        out->content_sha256 = SV("UNSIGNED-PAYLOAD");
    } else {
        cs = sv_trim(cs);
        if (payload_kind(cs, &out->payload) < 0)
            return -SE_INVALID_ARGUMENT;
        /* A chunk-signature chain needs a header-signed seed. */
        if (out->payload == PAYLOAD_STREAMING_SIGNED || out->payload == PAYLOAD_STREAMING_SIGNED_TRAILER)
            return -SE_INVALID_REQUEST;
        out->content_sha256 = cs;
    }
    return 0;
}

int sigv4_parse(const sigv4_req_t *r, int64_t now, sigv4_parsed_t *out)
{
    memset(out, 0, sizeof *out);
    int nauth;
    sv_t auth = sigv4_req_header(r, "authorization", &nauth);
    int qa, qc, qs;
    sigv4_query_get(r->query, "X-Amz-Algorithm", &qa);
    sigv4_query_get(r->query, "X-Amz-Credential", &qc);
    sigv4_query_get(r->query, "X-Amz-Signature", &qs);
    bool presigned = qa || qc || qs;

    if (nauth && presigned)
        return -SE_INVALID_ARGUMENT; /* "Only one auth mechanism allowed" */
    if (nauth > 1)
        return -SE_AUTH_HEADER_MALFORMED;
    if (nauth && sv_trim(auth).len == 0)
        nauth = 0; /* an empty Authorization header is no auth: the request is anonymous */
    if (nauth) {
        sv_t a = sv_trim(auth);
        /* SigV2 ("AWS AKID:sig"): S3 regions opened since 2014 answer InvalidRequest, "The
         * authorization mechanism you have provided is not supported. Please use
         * AWS4-HMAC-SHA256." So do we; the same for SigV4a (ECDSA), which we lack. */
        if (sv_starts_with(a, SV("AWS ")) || sv_starts_with(a, SV("AWS4-ECDSA-P256-SHA256")))
            return -SE_INVALID_REQUEST;
        /* Any other scheme: S3 answers InvalidArgument, "Unsupported Authorization Type". */
        if (!sv_starts_with(a, SV(ALGO)))
            return -SE_INVALID_ARGUMENT;
        return parse_header_auth(r, auth, now, out);
    }
    if (presigned)
        return parse_presigned(r, now, out);
    /* SigV2 query auth: same answer as the SigV2 header. */
    int v2k, v2s;
    sigv4_query_get(r->query, "AWSAccessKeyId", &v2k);
    sigv4_query_get(r->query, "Signature", &v2s);
    if (v2k && v2s)
        return -SE_INVALID_REQUEST;
    out->kind = SIGV4_NONE;
    return 0;
}

/* ---- canonical request ---- */

typedef struct {
    size_t noff, nlen, voff, vlen; /* into the shared encoded buffer */
} qparam_t;

static int qparam_cmp_base(const char *base, const qparam_t *a, const qparam_t *b)
{
    int c = sv_cmp((sv_t){base + a->noff, a->nlen}, (sv_t){base + b->noff, b->nlen});
    if (c)
        return c;
    return sv_cmp((sv_t){base + a->voff, a->vlen}, (sv_t){base + b->voff, b->vlen});
}

/* Decodes once (a bad escape keeps the raw bytes) and UriEncodes into b. */
static void encode_component(buf_t *b, sv_t raw, bool keep_slash, char *scratch)
{
    long n = sv_url_decode(raw, scratch, false);
    if (n < 0)
        sv_uri_encode(b, raw, keep_slash);
    else
        sv_uri_encode(b, (sv_t){scratch, (size_t)n}, keep_slash);
}

/* Merge sort by (name, value): stable, and unlike qsort() it needs no global context. */
static void qparam_sort(const char *base, qparam_t *v, size_t n, qparam_t *tmp)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    qparam_sort(base, v, h, tmp);
    qparam_sort(base, v + h, n - h, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = qparam_cmp_base(base, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static void canonical_query(const sigv4_req_t *r, bool presigned, buf_t *out)
{
    sv_t q = r->query, n, v;
    size_t count = 0;
    while (sigv4_query_next(&q, &n, &v, NULL))
        count++;
    if (!count)
        return;
    qparam_t *ps = xcalloc(count, sizeof *ps);
    qparam_t *tmp = xcalloc(count, sizeof *tmp);
    char *scratch = xmalloc(r->query.len + 1);
    buf_t enc = BUF_INIT;
    size_t m = 0;
    q = r->query;
    while (sigv4_query_next(&q, &n, &v, NULL)) {
        long dl = sv_url_decode(n, scratch, false);
        sv_t dn = dl < 0 ? n : (sv_t){scratch, (size_t)dl};
        if (presigned && sv_eq_cstr(dn, "X-Amz-Signature"))
            continue;
        qparam_t *p = &ps[m++];
        p->noff = enc.len;
        encode_component(&enc, n, false, scratch);
        p->nlen = enc.len - p->noff;
        p->voff = enc.len;
        if (v.p)
            encode_component(&enc, v, false, scratch);
        p->vlen = enc.len - p->voff;
    }
    if (enc.p) {
        qparam_sort(enc.p, ps, m, tmp);
        for (size_t i = 0; i < m; i++) {
            if (i)
                buf_putc(out, '&');
            buf_append(out, enc.p + ps[i].noff, ps[i].nlen);
            buf_putc(out, '=');
            buf_append(out, enc.p + ps[i].voff, ps[i].vlen);
        }
    }
    buf_release(&enc);
    free(scratch);
    free(tmp);
    free(ps);
}

/* Value as canonicalised: trimmed, inner runs of spaces/tabs collapsed to one space. */
static void put_header_value(buf_t *out, sv_t v)
{
    v = sv_trim(v);
    bool sp = false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == ' ' || c == '\t') {
            sp = true;
            continue;
        }
        if (sp)
            buf_putc(out, ' ');
        sp = false;
        buf_putc(out, c);
    }
}

static void build_creq(const sigv4_req_t *r, const sigv4_parsed_t *p, bool raw_path, buf_t *out)
{
    bool presigned = p->kind == SIGV4_PRESIGNED;
    buf_putsv(out, r->method);
    buf_putc(out, '\n');

    if (r->path.len == 0) {
        buf_putc(out, '/');
    } else if (raw_path) {
        buf_putsv(out, r->path);
    } else {
        char *scratch = xmalloc(r->path.len + 1);
        encode_component(out, r->path, true, scratch);
        free(scratch);
    }
    buf_putc(out, '\n');

    canonical_query(r, presigned, out);
    buf_putc(out, '\n');

    /* Signed header names, decoded when they came in the query. */
    char *shbuf = NULL;
    sv_t sh = p->signed_headers;
    if (presigned) {
        shbuf = xmalloc(sh.len + 1);
        long n = sv_url_decode(sh, shbuf, false);
        if (n >= 0)
            sh = (sv_t){shbuf, (size_t)n};
    }
    sv_t rest = sh, tok;
    while (token_next(&rest, ';', NULL, &tok)) {
        buf_putsv(out, tok);
        buf_putc(out, ':');
        bool first = true;
        for (size_t i = 0; i < r->nheaders; i++) {
            if (!sv_caseeq(r->headers[i].name, tok))
                continue;
            if (!first)
                buf_putc(out, ',');
            first = false;
            put_header_value(out, r->headers[i].value);
        }
        buf_putc(out, '\n');
    }
    buf_putc(out, '\n');
    buf_putsv(out, sh);
    buf_putc(out, '\n');
    free(shbuf);

    if (p->content_sha256.len)
        buf_putsv(out, p->content_sha256);
    else if (presigned)
        buf_puts(out, "UNSIGNED-PAYLOAD");
    else
        buf_puts(out, EMPTY_SHA256);
}

void sigv4_canonical_request(const sigv4_req_t *r, const sigv4_parsed_t *p, struct buf *out)
{
    build_creq(r, p, false, out);
}

/* Per-thread cache of derived signing keys; entries whose inputs do not fit are not cached. */
#define SKEY_CACHE 8
struct skey {
    uint8_t slen, dlen, rlen, vlen;
    char secret[128], date[8], region[32], service[16];
    uint8_t key[32];
};
static _Thread_local struct skey skeys[SKEY_CACHE];
static _Thread_local unsigned skey_next;

static bool skey_match(const struct skey *e, sv_t secret, sv_t date, sv_t region, sv_t service)
{
    return e->slen && e->slen == secret.len && e->dlen == date.len && e->rlen == region.len &&
           e->vlen == service.len && memcmp(e->date, date.p, date.len) == 0 &&
           memcmp(e->region, region.p, region.len) == 0 &&
           memcmp(e->service, service.p, service.len) == 0 &&
           ct_eq(e->secret, secret.p, secret.len);
}

static void signing_key_derive(sv_t secret, sv_t date, sv_t region, sv_t service,
                               uint8_t out[32]);

void sigv4_signing_key(sv_t secret, sv_t date, sv_t region, sv_t service, uint8_t out[32])
{
    bool fits = secret.len && secret.len <= sizeof skeys[0].secret &&
                date.len <= sizeof skeys[0].date && region.len <= sizeof skeys[0].region &&
                service.len <= sizeof skeys[0].service;
    if (!fits) {
        signing_key_derive(secret, date, region, service, out);
        return;
    }
    for (int i = 0; i < SKEY_CACHE; i++)
        if (skey_match(&skeys[i], secret, date, region, service)) {
            memcpy(out, skeys[i].key, 32);
            return;
        }
    struct skey *e = &skeys[skey_next++ % SKEY_CACHE];
    signing_key_derive(secret, date, region, service, e->key);
    e->slen = (uint8_t)secret.len;
    e->dlen = (uint8_t)date.len;
    e->rlen = (uint8_t)region.len;
    e->vlen = (uint8_t)service.len;
    memcpy(e->secret, secret.p, secret.len);
    memcpy(e->date, date.p, date.len);
    memcpy(e->region, region.p, region.len);
    memcpy(e->service, service.p, service.len);
    memcpy(out, e->key, 32);
}

static void signing_key_derive(sv_t secret, sv_t date, sv_t region, sv_t service,
                               uint8_t out[32])
{
    uint8_t k[32];
    size_t kl = secret.len + 4;
    char stack[256];
    char *key = kl <= sizeof stack ? stack : xmalloc(kl);
    memcpy(key, "AWS4", 4);
    if (secret.len)
        memcpy(key + 4, secret.p, secret.len);
    hmac_sha256(key, kl, date.p, date.len, k);
    hmac_sha256(k, 32, region.p, region.len, k);
    hmac_sha256(k, 32, service.p, service.len, k);
    hmac_sha256(k, 32, "aws4_request", 12, out);
    memset(key, 0, kl);
    if (key != stack)
        free(key);
    memset(k, 0, sizeof k);
}

/* HMAC of the string to sign for one canonical request. */
static void sign_creq(const buf_t *creq, const char *amz, const char *scope, const uint8_t key[32],
                      uint8_t sig[32])
{
    uint8_t h[32];
    char hex[65];
    sha256(creq->p, creq->len, h);
    hex_encode(h, 32, hex);
    buf_t sts = BUF_INIT; /* appended, not printf'd: stdio is dear per request */
    buf_reserve(&sts, sizeof ALGO + 17 + strlen(scope) + 66);
    buf_puts(&sts, ALGO "\n");
    buf_puts(&sts, amz);
    buf_putc(&sts, '\n');
    buf_puts(&sts, scope);
    buf_putc(&sts, '\n');
    buf_puts(&sts, hex);
    hmac_sha256(key, 32, sts.p, sts.len, sig);
    buf_release(&sts);
}

int sigv4_verify(const sigv4_req_t *r, const sigv4_parsed_t *p, sv_t secret, arena_t *a,
                 sigv4_result_t *out)
{
    (void)a; /* scratch here is short-lived and freed before return */
    int rc = -SE_SIGNATURE_MISMATCH;
    uint8_t want[32], got[32], key[32];
    if (p->kind == SIGV4_NONE || hex_decode(p->signature, want, 32) < 0)
        return -SE_SIGNATURE_MISMATCH;
    if (p->date.len != 8 || p->region.len > MAX_SCOPE_PART || p->service.len > MAX_SCOPE_PART)
        return -SE_SIGNATURE_MISMATCH;

    char amz[17], scope[128];
    fmt_amz_date(p->req_time, amz);
    snprintf(scope, sizeof scope, SV_FMT "/" SV_FMT "/" SV_FMT "/aws4_request", SV_ARG(p->date),
             SV_ARG(p->region), SV_ARG(p->service));
    sigv4_signing_key(secret, p->date, p->region, p->service, key);

    buf_t creq = BUF_INIT;
    build_creq(r, p, false, &creq);
    sign_creq(&creq, amz, scope, key, got);
    if (ct_eq(got, want, 32)) {
        rc = 0;
    } else {
        /* Second chance: the path exactly as the client sent it. */
        buf_t raw = BUF_INIT;
        build_creq(r, p, true, &raw);
        if (!sv_eq(buf_sv(&raw), buf_sv(&creq))) {
            sign_creq(&raw, amz, scope, key, got);
            if (ct_eq(got, want, 32))
                rc = 0;
        }
        buf_release(&raw);
    }
    buf_release(&creq);

    if (rc == 0 && out) {
        memcpy(out->signing_key, key, 32);
        hex_encode(got, 32, out->seed_signature);
        memcpy(out->scope, scope, sizeof scope);
    }
    memset(key, 0, sizeof key);
    return rc;
}
