/* auth/chunked: AWS's aws-chunked examples (signed chunks; signed trailer), decoded whole and
 * split everywhere, plus corruption, truncation, the unsigned-trailer variant and limits. */
#include <stdlib.h>

#include "auth/chunked.h"
#include "core/buf.h"
#include "core/checksum.h"
#include "core/err.h"
#include "core/hash.h"
#include "t.h"

#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ "20130524T000000Z"

/* sigv4-streaming example: 66560 bytes of 'a' as 64 KiB + 1 KiB + final chunk. */
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
/* sigv4-streaming-trailers example: same payload, crc32c trailer. */
#define TSEED "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
#define TSIG1 "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2"
#define TSIG2 "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7"
#define TSIG3 "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
#define TSIGT "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

static sigv4_result_t example_sig(const char *seed)
{
    sigv4_result_t r;
    memset(&r, 0, sizeof r);
    sigv4_signing_key(SV(S3_SECRET), SV("20130524"), SV("us-east-1"), SV("s3"), r.signing_key);
    memcpy(r.seed_signature, seed, 65);
    snprintf(r.scope, sizeof r.scope, "20130524/us-east-1/s3/aws4_request");
    return r;
}

static void build_body(buf_t *b, const char *s1, const char *s2, const char *s3, const char *trailer)
{
    static char a[65536];
    memset(a, 'a', sizeof a);
    buf_printf(b, "10000;chunk-signature=%s\r\n", s1);
    buf_append(b, a, 65536);
    buf_printf(b, "\r\n400;chunk-signature=%s\r\n", s2);
    buf_append(b, a, 1024);
    buf_printf(b, "\r\n0;chunk-signature=%s\r\n", s3);
    if (trailer)
        buf_puts(b, trailer);
    buf_puts(b, "\r\n");
}

typedef struct {
    uint64_t n;
    bool all_a;
    bool in_input; /* every slice pointed into the fed buffer */
    const char *lo, *hi;
    buf_t copy; /* used by the unsigned tests */
} sink_t;

static int sink(void *ctx, const char *p, size_t n)
{
    sink_t *s = ctx;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 'a')
            s->all_a = false;
    if (p < s->lo || p + n > s->hi)
        s->in_input = false;
    s->n += n;
    buf_append(&s->copy, p, n);
    return 0;
}

/* Decodes body fed in pieces cut at the given offsets (ascending); returns feed/finish rc. */
static int decode_cuts(const buf_t *body, const size_t *cuts, size_t ncuts, bool sig, bool trailer,
                       const sigv4_result_t *r, sink_t *s, aws_chunked_t **out)
{
    aws_chunked_t *c = aws_chunked_new(sig, trailer, r, SV(AMZ));
    memset(s, 0, sizeof *s);
    s->all_a = s->in_input = true;
    s->lo = body->p;
    s->hi = body->p + body->len;
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : body->len;
        rc = aws_chunked_feed(c, body->p + at, to - at, sink, s);
        at = to;
    }
    if (rc == 0)
        rc = aws_chunked_finish(c);
    if (out)
        *out = c;
    else
        aws_chunked_free(c);
    return rc;
}

TEST(test_example_whole)
{
    sigv4_result_t r = example_sig(SEED);
    buf_t body = BUF_INIT;
    build_body(&body, SIG1, SIG2, SIG3, NULL);
    CHECK_EQ_INT(body.len, 66824); /* the documented Content-Length */
    sink_t s;
    aws_chunked_t *c;
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, false, &r, &s, &c), 0);
    CHECK_EQ_INT(s.n, 66560);
    CHECK_EQ_INT(aws_chunked_decoded(c), 66560);
    CHECK(s.all_a);
    CHECK(s.in_input);
    CHECK(aws_chunked_trailer(c, "x-amz-checksum-crc32c").p == NULL);
    aws_chunked_free(c);
    buf_release(&s.copy);
    buf_release(&body);
}

/* Every offset inside the framing (and a few bytes around it) plus every 61st offset in the
 * data, each as a two-piece split; then byte-at-a-time; then random multi-piece splits. */
TEST(test_example_splits)
{
    sigv4_result_t r = example_sig(SEED);
    buf_t body = BUF_INIT;
    build_body(&body, SIG1, SIG2, SIG3, NULL);
    int failures = 0;
    for (size_t cut = 0; cut <= body.len; cut++) {
        bool framing = cut < 100 || (cut > 65536 + 80 && cut < 65536 + 200) || cut > body.len - 120;
        if (!framing && cut % 61)
            continue;
        sink_t s;
        int rc = decode_cuts(&body, &cut, 1, true, false, &r, &s, NULL);
        if (rc != 0 || s.n != 66560 || !s.all_a || !s.in_input) {
            if (failures++ < 5)
                fprintf(stderr, "split at %zu: rc %d n %llu\n", cut, rc, (unsigned long long)s.n);
        }
        buf_release(&s.copy);
    }
    CHECK_EQ_INT(failures, 0);

    aws_chunked_t *c = aws_chunked_new(true, false, &r, SV(AMZ));
    sink_t s;
    memset(&s, 0, sizeof s);
    s.all_a = s.in_input = true;
    s.lo = body.p;
    s.hi = body.p + body.len;
    int rc = 0;
    for (size_t i = 0; i < body.len && rc == 0; i++)
        rc = aws_chunked_feed(c, body.p + i, 1, sink, &s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(aws_chunked_finish(c), 0);
    CHECK_EQ_INT(s.n, 66560);
    aws_chunked_free(c);
    buf_release(&s.copy);

    srand(42);
    for (int iter = 0; iter < 200; iter++) {
        size_t cuts[12];
        size_t n = (size_t)(rand() % 12);
        for (size_t i = 0; i < n; i++)
            cuts[i] = (size_t)rand() % (body.len + 1);
        for (size_t i = 1; i < n; i++) /* insertion sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        rc = decode_cuts(&body, cuts, n, true, false, &r, &s, NULL);
        if (rc != 0 || s.n != 66560)
            failures++;
        buf_release(&s.copy);
    }
    CHECK_EQ_INT(failures, 0);
    buf_release(&body);
}

TEST(test_example_corrupt)
{
    sigv4_result_t r = example_sig(SEED);
    const char *sigs[3] = {SIG1, SIG2, SIG3};
    for (int k = 0; k < 3; k++) {
        char bad[65];
        memcpy(bad, sigs[k], 65);
        bad[10] = bad[10] == '0' ? '1' : '0';
        buf_t body = BUF_INIT;
        build_body(&body, k == 0 ? bad : SIG1, k == 1 ? bad : SIG2, k == 2 ? bad : SIG3, NULL);
        sink_t s;
        CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, false, &r, &s, NULL), -SE_SIGNATURE_MISMATCH);
        buf_release(&s.copy);
        buf_release(&body);
    }
    /* one flipped payload byte */
    buf_t body = BUF_INIT;
    build_body(&body, SIG1, SIG2, SIG3, NULL);
    sink_t s;
    size_t at[] = {1000, 66000}; /* in the first chunk's data, in the second's */
    for (size_t i = 0; i < 2; i++) {
        CHECK(body.p[at[i]] == 'a');
        body.p[at[i]] = 'b';
        CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, false, &r, &s, NULL), -SE_SIGNATURE_MISMATCH);
        buf_release(&s.copy);
        body.p[at[i]] = 'a';
    }
    /* the wrong seed */
    sigv4_result_t r2 = example_sig(SIG1);
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, false, &r2, &s, NULL), -SE_SIGNATURE_MISMATCH);
    buf_release(&s.copy);
    /* an error is sticky */
    aws_chunked_t *c = aws_chunked_new(true, false, &r2, SV(AMZ));
    CHECK_EQ_INT(aws_chunked_feed(c, body.p, body.len, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(aws_chunked_feed(c, "0", 1, NULL, NULL), -SE_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(aws_chunked_finish(c), -SE_SIGNATURE_MISMATCH);
    aws_chunked_free(c);
    buf_release(&body);
}

TEST(test_example_truncated)
{
    sigv4_result_t r = example_sig(SEED);
    buf_t body = BUF_INIT;
    build_body(&body, SIG1, SIG2, SIG3, NULL);
    size_t lens[] = {0, 1, 50, 90, 100, 65636, 66700, body.len - 2, body.len - 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        aws_chunked_t *c = aws_chunked_new(true, false, &r, SV(AMZ));
        CHECK_EQ_INT(aws_chunked_feed(c, body.p, lens[i], NULL, NULL), 0);
        CHECK_EQ_INT(aws_chunked_finish(c), -SE_INCOMPLETE_BODY);
        aws_chunked_free(c);
    }
    /* bytes after the end */
    buf_puts(&body, "x");
    sink_t s;
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, false, &r, &s, NULL), -SE_INVALID_ARGUMENT);
    buf_release(&s.copy);
    buf_release(&body);
}

TEST(test_signed_trailer)
{
    sigv4_result_t r = example_sig(TSEED);
    buf_t body = BUF_INIT;
    build_body(&body, TSIG1, TSIG2, TSIG3, "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" TSIGT "\r\n");
    sink_t s;
    aws_chunked_t *c;
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, true, &r, &s, &c), 0);
    CHECK_EQ_INT(s.n, 66560);
    sv_t v = aws_chunked_trailer(c, "x-amz-checksum-crc32c");
    CHECK(sv_eq_cstr(v, "sOO8/Q=="));
    /* the trailer value is the CRC32C of the decoded payload */
    cksum_t ck;
    char b64[64];
    cksum_init(&ck, CKSUM_CRC32C);
    cksum_update(&ck, s.copy.p, s.copy.len);
    cksum_final_b64(&ck, b64);
    CHECK_EQ_STR(b64, "sOO8/Q==");
    aws_chunked_free(c);
    buf_release(&s.copy);

    /* every split across the trailer section */
    int failures = 0;
    for (size_t cut = body.len - 160; cut <= body.len; cut++) {
        if (decode_cuts(&body, &cut, 1, true, true, &r, &s, NULL) != 0)
            failures++;
        buf_release(&s.copy);
    }
    CHECK_EQ_INT(failures, 0);
    buf_release(&body);

    /* a changed trailer value, a bad trailer signature, a missing one */
    build_body(&body, TSIG1, TSIG2, TSIG3, "x-amz-checksum-crc32c:sOO8/Q=0\r\nx-amz-trailer-signature:" TSIGT "\r\n");
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, true, &r, &s, NULL), -SE_SIGNATURE_MISMATCH);
    buf_release(&s.copy);
    buf_clear(&body);
    build_body(&body, TSIG1, TSIG2, TSIG3,
               "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" SIG1 "\r\n");
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, true, &r, &s, NULL), -SE_SIGNATURE_MISMATCH);
    buf_release(&s.copy);
    buf_clear(&body);
    build_body(&body, TSIG1, TSIG2, TSIG3, "x-amz-checksum-crc32c:sOO8/Q==\r\n");
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, true, &r, &s, NULL), -SE_SIGNATURE_MISMATCH);
    buf_release(&s.copy);
    buf_clear(&body);
    /* trailer cut off before its blank line */
    build_body(&body, TSIG1, TSIG2, TSIG3, "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" TSIGT "\r\n");
    body.len -= 2;
    CHECK_EQ_INT(decode_cuts(&body, NULL, 0, true, true, &r, &s, NULL), -SE_INCOMPLETE_BODY);
    buf_release(&s.copy);
    buf_release(&body);
}

static int decode_unsigned(const char *text, size_t step, buf_t *out, aws_chunked_t **cp)
{
    aws_chunked_t *c = aws_chunked_new(false, true, NULL, SV(AMZ));
    sink_t s;
    memset(&s, 0, sizeof s);
    s.lo = text;
    s.hi = text + strlen(text);
    s.in_input = true;
    size_t n = strlen(text);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += step)
        rc = aws_chunked_feed(c, text + i, i + step > n ? n - i : step, sink, &s);
    if (rc == 0)
        rc = aws_chunked_finish(c);
    *out = s.copy;
    if (cp)
        *cp = c;
    else
        aws_chunked_free(c);
    return rc;
}

TEST(test_unsigned_trailer)
{
    static const char body[] = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n";
    for (size_t step = 1; step <= sizeof body; step++) {
        buf_t out;
        aws_chunked_t *c;
        CHECK_EQ_INT(decode_unsigned(body, step, &out, &c), 0);
        CHECK(out.len == 3 && memcmp(out.p, "abc", 3) == 0);
        CHECK(sv_eq_cstr(aws_chunked_trailer(c, "x-amz-checksum-crc32"), "NSRBwg=="));
        CHECK(sv_eq_cstr(aws_chunked_trailer(c, "X-Amz-Checksum-CRC32"), "NSRBwg=="));
        aws_chunked_free(c);
        buf_release(&out);
    }
    /* the trailer matches the CRC32 of what was decoded */
    cksum_t ck;
    char b64[64];
    cksum_init(&ck, CKSUM_CRC32);
    cksum_update(&ck, "abc", 3);
    cksum_final_b64(&ck, b64);
    CHECK_EQ_STR(b64, "NSRBwg==");

    /* several chunks, upper-case hex, an ignored extension, no trailer lines at all */
    buf_t out;
    CHECK_EQ_INT(decode_unsigned("A\r\n0123456789\r\n2;ext=1\r\nab\r\n0\r\n\r\n", 1, &out, NULL), 0);
    CHECK(out.len == 12 && memcmp(out.p, "0123456789ab", 12) == 0);
    buf_release(&out);

    static const struct {
        const char *body;
        int rc;
    } bad[] = {
        {"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n", -SE_INCOMPLETE_BODY},
        {"3\r\nab", -SE_INCOMPLETE_BODY},
        {"3\r\nabcd\r\n0\r\n\r\n", -SE_INVALID_ARGUMENT},  /* data longer than its size */
        {"3\nabc\r\n0\r\n\r\n", -SE_INVALID_ARGUMENT},     /* bare LF */
        {"zz\r\nabc\r\n0\r\n\r\n", -SE_INVALID_ARGUMENT},  /* not hex */
        {"\r\nabc\r\n0\r\n\r\n", -SE_INVALID_ARGUMENT},    /* empty size */
        {"11111111111111111\r\n", -SE_INVALID_ARGUMENT},   /* 17 hex digits */
        {"0\r\nno-colon\r\n\r\n", -SE_INVALID_ARGUMENT},
        {"0\r\n\r\nextra", -SE_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = decode_unsigned(bad[i].body, 1000, &out, NULL);
        if (rc != bad[i].rc)
            fprintf(stderr, "bad case %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, bad[i].rc);
        buf_release(&out);
    }
}

TEST(test_limits)
{
    /* an endless chunk header line: refused once over the limit, without buffering it all */
    aws_chunked_t *c = aws_chunked_new(false, true, NULL, SV(AMZ));
    char junk[4096];
    memset(junk, '0', sizeof junk);
    CHECK_EQ_INT(aws_chunked_feed(c, junk, sizeof junk, NULL, NULL), -SE_INVALID_ARGUMENT);
    aws_chunked_free(c);
    /* too many trailer lines */
    c = aws_chunked_new(false, true, NULL, SV(AMZ));
    CHECK_EQ_INT(aws_chunked_feed(c, "0\r\n", 3, NULL, NULL), 0);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = aws_chunked_feed(c, "x-a:b\r\n", 7, NULL, NULL);
    CHECK_EQ_INT(rc, -SE_INVALID_ARGUMENT);
    aws_chunked_free(c);
    /* a trailer where none was announced */
    c = aws_chunked_new(false, false, NULL, SV(AMZ));
    CHECK_EQ_INT(aws_chunked_feed(c, "0\r\nx-a:b\r\n\r\n", 12, NULL, NULL), -SE_INVALID_ARGUMENT);
    aws_chunked_free(c);
    /* a signed chunk header without its signature */
    sigv4_result_t r = example_sig(SEED);
    c = aws_chunked_new(true, false, &r, SV(AMZ));
    CHECK_EQ_INT(aws_chunked_feed(c, "3\r\nabc\r\n", 8, NULL, NULL), -SE_INVALID_ARGUMENT);
    aws_chunked_free(c);
}

static int stop_emit(void *ctx, const char *p, size_t n)
{
    (void)p;
    (void)n;
    (*(int *)ctx)++;
    return -7;
}

TEST(test_emit_stops)
{
    aws_chunked_t *c = aws_chunked_new(false, true, NULL, SV(AMZ));
    int calls = 0;
    CHECK_EQ_INT(aws_chunked_feed(c, "3\r\nabc\r\n3\r\ndef\r\n", 16, stop_emit, &calls), -7);
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT(aws_chunked_finish(c), -7);
    aws_chunked_free(c);
}

/* A Date-header-style request time is accepted and converted (same signatures). */
TEST(test_http_date_amz)
{
    sigv4_result_t r = example_sig(SEED);
    buf_t body = BUF_INIT;
    build_body(&body, SIG1, SIG2, SIG3, NULL);
    aws_chunked_t *c = aws_chunked_new(true, false, &r, SV("Fri, 24 May 2013 00:00:00 GMT"));
    CHECK_EQ_INT(aws_chunked_feed(c, body.p, body.len, NULL, NULL), 0);
    CHECK_EQ_INT(aws_chunked_finish(c), 0);
    aws_chunked_free(c);
    buf_release(&body);
}

int main(void)
{
    RUN(test_example_whole);
    RUN(test_example_splits);
    RUN(test_example_corrupt);
    RUN(test_example_truncated);
    RUN(test_signed_trailer);
    RUN(test_unsigned_trailer);
    RUN(test_limits);
    RUN(test_emit_stops);
    RUN(test_http_date_amz);
    return t_summary("chunked");
}
