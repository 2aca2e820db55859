/* aws-chunked decoder: a byte-at-a-time state machine that resumes on any split.
 *
 * Why it is shaped this way:
 * - Payload bytes are emitted as slices of the caller's input, never copied; only chunk
 *   header lines and trailer lines (both short and size-limited) are buffered, so memory is
 *   fixed (one struct) whatever the body size or the way it is split.
 * - A chunk's signature covers its data, so it can only be checked once the data has gone
 *   by: emitted bytes are provisional until aws_chunked_finish() returns 0, and the caller
 *   must not commit anything before then (the store commits at end of body anyway).
 * - Each signature chains from the previous one (seeded by the request signature); the
 *   trailer signature chains from the final, zero-length chunk's.
 * - Framing errors are InvalidArgument; a bad signature is SignatureDoesNotMatch; a body
 *   that stops early is IncompleteBody at finish. Any error is sticky.
 */
#include "auth/chunked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/mem.h"

#define LINE_MAX_LEN 1024 /* one chunk header or trailer line, without CRLF */
#define TRAILER_MAX 4096  /* all trailer names and values together */
#define TRAILERS_MAX 16
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum st { ST_HEADER, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_TRAILER, ST_DONE };

struct aws_chunked {
    bool signed_chunks, has_trailer;
    enum st st;
    int err;
    uint8_t key[32];
    char prev[65]; /* previous signature, lowercase hex */
    char scope[128];
    char amz[17];

    uint64_t remaining; /* data bytes left in the current chunk */
    uint64_t decoded;
    digest_t d;             /* SHA-256 of the current chunk (signed mode) */
    uint8_t chunk_sig[32];  /* signature announced in the current chunk header */

    char line[LINE_MAX_LEN + 1];
    size_t line_len;
    bool line_cr; /* saw '\r', expecting '\n' */

    char tbuf[TRAILER_MAX];
    size_t tlen;
    struct {
        size_t noff, nlen, voff, vlen;
    } tr[TRAILERS_MAX];
    int ntr;
    bool have_tsig;
    uint8_t tsig[32];
};

aws_chunked_t *aws_chunked_new(bool signed_chunks, bool has_trailer, const sigv4_result_t *sig,
                               sv_t amz_date)
{
    aws_chunked_t *c = xcalloc(1, sizeof *c);
    c->signed_chunks = signed_chunks;
    c->has_trailer = has_trailer;
    c->st = ST_HEADER;
    if (signed_chunks && sig) {
        memcpy(c->key, sig->signing_key, 32);
        memcpy(c->prev, sig->seed_signature, 65);
        c->prev[64] = 0;
        snprintf(c->scope, sizeof c->scope, "%s", sig->scope);
    }
    /* The string to sign wants ISO 8601 basic; accept a Date-header value too. */
    int64_t t;
    if (amz_date.len == 16) {
        memcpy(c->amz, amz_date.p, 16);
    } else if (parse_http_date(amz_date, &t) == 0) {
        time_t s = (time_t)t;
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(c->amz, sizeof c->amz, "%Y%m%dT%H%M%SZ", &tm);
    }
    return c;
}

void aws_chunked_free(aws_chunked_t *c)
{
    if (!c)
        return;
    if (c->d.ctx)
        digest_free(&c->d);
    memset(c->key, 0, sizeof c->key);
    free(c);
}

uint64_t aws_chunked_decoded(const aws_chunked_t *c)
{
    return c->decoded;
}

static char lc(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

sv_t aws_chunked_trailer(const aws_chunked_t *c, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < c->ntr; i++) {
        if (c->tr[i].nlen != n)
            continue;
        size_t k = 0;
        while (k < n && lc(c->tbuf[c->tr[i].noff + k]) == lc(name[k]))
            k++;
        if (k == n)
            return (sv_t){c->tbuf + c->tr[i].voff, c->tr[i].vlen};
    }
    return SV_NULL;
}

/* HMAC over "<algo>\n<amz>\n<scope>\n<prev>\n<rest>"; compares with want, advances prev. */
static int check_sig(aws_chunked_t *c, const char *algo, const char *rest, const uint8_t want[32])
{
    char sts[512];
    uint8_t got[32];
    int n = snprintf(sts, sizeof sts, "%s\n%s\n%s\n%s\n%s", algo, c->amz, c->scope, c->prev, rest);
    if (n < 0 || (size_t)n >= sizeof sts)
        return -SE_SIGNATURE_MISMATCH;
    hmac_sha256(c->key, 32, sts, (size_t)n, got);
    if (!ct_eq(got, want, 32))
        return -SE_SIGNATURE_MISMATCH;
    hex_encode(got, 32, c->prev);
    return 0;
}

static int check_chunk_sig(aws_chunked_t *c)
{
    uint8_t h[32];
    char rest[64 + 1 + 64 + 1];
    if (c->d.ctx)
        digest_final(&c->d, h);
    else
        sha256("", 0, h);
    memcpy(rest, EMPTY_SHA256 "\n", 65);
    hex_encode(h, 32, rest + 65);
    return check_sig(c, "AWS4-HMAC-SHA256-PAYLOAD", rest, c->chunk_sig);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = lc(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* "<hex>[;chunk-signature=<64 hex>]" */
static int chunk_header(aws_chunked_t *c)
{
    const char *p = c->line, *end = c->line + c->line_len;
    uint64_t size = 0;
    int digits = 0, v;
    while (p < end && (v = hexval(*p)) >= 0) {
        if (++digits > 16)
            return -SE_INVALID_ARGUMENT;
        size = size << 4 | (uint64_t)v;
        p++;
    }
    if (!digits)
        return -SE_INVALID_ARGUMENT;
    if (c->signed_chunks) {
        static const char ext[] = ";chunk-signature=";
        size_t el = sizeof ext - 1;
        if ((size_t)(end - p) != el + 64 || memcmp(p, ext, el) != 0)
            return -SE_INVALID_ARGUMENT;
        if (hex_decode((sv_t){p + el, 64}, c->chunk_sig, 32) < 0)
            return -SE_INVALID_ARGUMENT;
        digest_init_sha256(&c->d);
    } else if (p < end && *p != ';') {
        return -SE_INVALID_ARGUMENT; /* unsigned: extensions after ';' are ignored */
    }
    if (size == 0) {
        if (c->signed_chunks) {
            int rc = check_chunk_sig(c);
            if (rc)
                return rc;
        }
        c->st = ST_TRAILER;
    } else {
        c->remaining = size;
        c->st = ST_DATA;
    }
    return 0;
}

static int trailer_cmp(const aws_chunked_t *c, int a, int b)
{
    size_t la = c->tr[a].nlen, lb = c->tr[b].nlen, n = la < lb ? la : lb;
    for (size_t k = 0; k < n; k++) {
        char x = lc(c->tbuf[c->tr[a].noff + k]), y = lc(c->tbuf[c->tr[b].noff + k]);
        if (x != y)
            return (unsigned char)x < (unsigned char)y ? -1 : 1;
    }
    return la < lb ? -1 : la > lb;
}

/* Trailer signature: over "name:value\n" per trailer, names lowercase, sorted by name. */
static int check_trailer_sig(aws_chunked_t *c)
{
    int order[TRAILERS_MAX];
    for (int i = 0; i < c->ntr; i++) {
        int j = i;
        while (j > 0 && trailer_cmp(c, order[j - 1], i) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    digest_t d;
    digest_init_sha256(&d);
    for (int i = 0; i < c->ntr; i++) {
        int t = order[i];
        for (size_t k = 0; k < c->tr[t].nlen; k++) {
            char ch = lc(c->tbuf[c->tr[t].noff + k]);
            digest_update(&d, &ch, 1);
        }
        digest_update(&d, ":", 1);
        digest_update(&d, c->tbuf + c->tr[t].voff, c->tr[t].vlen);
        digest_update(&d, "\n", 1);
    }
    uint8_t h[32];
    char hex[65];
    digest_final(&d, h);
    hex_encode(h, 32, hex);
    return check_sig(c, "AWS4-HMAC-SHA256-TRAILER", hex, c->tsig);
}

static int trailer_line(aws_chunked_t *c)
{
    if (c->line_len == 0) { /* end of the trailer section */
        if (c->signed_chunks && c->has_trailer && c->ntr > 0) {
            if (!c->have_tsig)
                return -SE_SIGNATURE_MISMATCH;
            int rc = check_trailer_sig(c);
            if (rc)
                return rc;
        }
        c->st = ST_DONE;
        return 0;
    }
    if (!c->has_trailer || c->have_tsig)
        return -SE_INVALID_ARGUMENT; /* no trailer expected, or a line after its signature */
    sv_t line = {c->line, c->line_len}, name, value;
    bool colon;
    value = sv_split(line, ':', &name, &colon);
    name = sv_trim(name);
    value = sv_trim(value);
    if (!colon || name.len == 0)
        return -SE_INVALID_ARGUMENT;
    if (sv_caseeq_cstr(name, "x-amz-trailer-signature")) {
        if (!c->signed_chunks)
            return -SE_INVALID_ARGUMENT;
        if (hex_decode(value, c->tsig, 32) < 0)
            return -SE_INVALID_ARGUMENT;
        c->have_tsig = true;
        return 0;
    }
    if (c->ntr == TRAILERS_MAX || c->tlen + name.len + value.len > TRAILER_MAX)
        return -SE_INVALID_ARGUMENT;
    c->tr[c->ntr].noff = c->tlen;
    c->tr[c->ntr].nlen = name.len;
    memcpy(c->tbuf + c->tlen, name.p, name.len);
    c->tlen += name.len;
    c->tr[c->ntr].voff = c->tlen;
    c->tr[c->ntr].vlen = value.len;
    if (value.len)
        memcpy(c->tbuf + c->tlen, value.p, value.len);
    c->tlen += value.len;
    c->ntr++;
    return 0;
}

/* Consumes bytes of a CRLF-terminated line; returns 1 when a whole line is in c->line. */
static int line_feed(aws_chunked_t *c, const char **pp, const char *end)
{
    const char *p = *pp;
    while (p < end) {
        char ch = *p++;
        if (c->line_cr) {
            c->line_cr = false;
            if (ch != '\n')
                return -SE_INVALID_ARGUMENT;
            *pp = p;
            return 1;
        }
        if (ch == '\r') {
            c->line_cr = true;
        } else if (ch == '\n' || c->line_len == LINE_MAX_LEN) {
            return -SE_INVALID_ARGUMENT;
        } else {
            c->line[c->line_len++] = ch;
        }
    }
    *pp = p;
    return 0;
}

int aws_chunked_feed(aws_chunked_t *c, const char *in, size_t n,
                     int (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
    if (c->err)
        return c->err;
    const char *p = in, *end = in + n;
    int rc = 0;
    while (p < end) {
        switch (c->st) {
        case ST_HEADER:
        case ST_TRAILER: {
            rc = line_feed(c, &p, end);
            if (rc <= 0)
                break;
            rc = c->st == ST_HEADER ? chunk_header(c) : trailer_line(c);
            c->line_len = 0;
            break;
        }
        case ST_DATA: {
            size_t take = (size_t)(end - p) < c->remaining ? (size_t)(end - p) : (size_t)c->remaining;
            if (c->signed_chunks)
                digest_update(&c->d, p, take);
            c->remaining -= take;
            c->decoded += take;
            if (emit && take)
                rc = emit(ctx, p, take);
            p += take;
            if (c->remaining == 0)
                c->st = ST_DATA_CR;
            break;
        }
        case ST_DATA_CR:
            rc = *p++ == '\r' ? 0 : -SE_INVALID_ARGUMENT;
            c->st = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (*p++ != '\n') {
                rc = -SE_INVALID_ARGUMENT;
                break;
            }
            rc = c->signed_chunks ? check_chunk_sig(c) : 0;
            c->st = ST_HEADER;
            break;
        case ST_DONE:
            rc = -SE_INVALID_ARGUMENT; /* bytes after the end of the encoding */
            break;
        }
        if (rc) {
            c->err = rc;
            return rc;
        }
    }
    return 0;
}

int aws_chunked_finish(aws_chunked_t *c)
{
    if (c->err)
        return c->err;
    if (c->st != ST_DONE) {
        c->err = -SE_INCOMPLETE_BODY;
        return c->err;
    }
    return 0;
}
