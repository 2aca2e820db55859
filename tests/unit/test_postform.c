/* s3/postform (streaming multipart/form-data) and s3/postpolicy (POST policy documents):
 * forms fed whole and one byte at a time give the same parts; delimiter look-alikes in data;
 * preamble and epilogue; every malformed shape; the policy's grammar, conditions and messages. */
#include <stdlib.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "s3/postform.h"
#include "s3/postpolicy.h"
#include "t.h"

/* Collects the parts as "name|filename|type=data;" */
typedef struct {
    buf_t out;
    int fail_at_begin; /* return an error from the Nth part_begin (1-based), 0 never */
    int begins;
} coll_t;

static int c_begin(void *ud, const postform_part_t *p)
{
    coll_t *c = ud;
    if (++c->begins == c->fail_at_begin)
        return -SE_ACCESS_DENIED;
    buf_putsv(&c->out, p->name);
    buf_putc(&c->out, '|');
    if (p->filename.p)
        buf_putsv(&c->out, p->filename);
    buf_putc(&c->out, '|');
    if (p->content_type.p)
        buf_putsv(&c->out, p->content_type);
    buf_putc(&c->out, '=');
    return 0;
}

static int c_data(void *ud, const char *p, size_t n)
{
    buf_append(&((coll_t *)ud)->out, p, n);
    return 0;
}

static int c_end(void *ud)
{
    buf_putc(&((coll_t *)ud)->out, ';');
    return 0;
}

/* Parses body with the boundary, in pieces of `step` bytes (0: whole). Returns the feed or
 * finish code; *out gets the collected parts (caller frees). */
static int run(const char *boundary, const char *body, size_t len, size_t step, char **out)
{
    static const postform_cb_t cb = {c_begin, c_data, c_end};
    coll_t c = {BUF_INIT, 0, 0};
    postform_t *f = malloc(sizeof *f);
    postform_init(f, sv_from_cstr(boundary), &cb, &c);
    int rc = 0;
    if (step == 0)
        step = len ? len : 1;
    for (size_t i = 0; i < len && rc == 0; i += step)
        rc = postform_feed(f, body + i, len - i < step ? len - i : step);
    if (rc == 0)
        rc = postform_finish(f);
    buf_putc(&c.out, 0);
    *out = buf_steal(&c.out, NULL);
    free(f);
    return rc;
}

static void check_all_splits(const char *boundary, const char *body, size_t len, int want_rc,
                             const char *want)
{
    for (size_t step = 0; step <= 7; step++) {
        char *got;
        int rc = run(boundary, body, len, step, &got);
        CHECK_EQ_INT(rc, want_rc);
        if (want)
            CHECK_EQ_STR(got, want);
        free(got);
    }
}

#define S(lit) lit, sizeof(lit) - 1

TEST(test_simple_form)
{
    check_all_splits("XyZ",
                     S("--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
                       "a/b.txt\r\n"
                       "--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"b.txt\"\r\n"
                       "Content-Type: text/plain\r\n\r\n"
                       "line1\r\nline2\r\n"
                       "--XyZ--\r\n"),
                     0, "key||=a/b.txt;file|b.txt|text/plain=line1\r\nline2;");
}

TEST(test_lookalikes_preamble_epilogue)
{
    /* CR, CRLF, CRLF-- and CRLF--XyZ-prefixes inside data are data; a preamble and an
     * epilogue are dropped; transport padding after a delimiter is allowed. */
    check_all_splits("XyZ",
                     S("preamble text\r\n--XyZ  \r\n"
                       "content-disposition: form-data; name=f\r\n\r\n"
                       "a\rb\r\nc\r\n-d\r\n--e\r\n--Xy\r\r\n--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"g\"\r\n\r\n"
                       "\r\n--XyZ--epilogue \r\n--XyZ junk"),
                     0, "f||=a\rb\r\nc\r\n-d\r\n--e\r\n--Xy\r;g||=;");
    /* an empty form */
    check_all_splits("b", S("--b--"), 0, "");
    /* a quoted name with an escaped quote and a semicolon */
    check_all_splits("b", S("--b\r\nContent-Disposition: form-data; name=\"a\\\"b;c\"\r\n\r\nv\r\n--b--"),
                     0, "a\\\"b;c||=v;");
    /* bare LF line ends in part headers are tolerated */
    check_all_splits("b", S("--b\r\nContent-Disposition: form-data; name=x\n\nv\r\n--b--"), 0,
                     "x||=v;");
}

TEST(test_malformed)
{
    const int M = -SE_MALFORMED_POST_REQUEST;
    check_all_splits("b", S(""), M, NULL);                        /* no delimiter at all */
    check_all_splits("b", S("--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv"), M, NULL);
    check_all_splits("b", S("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--"), M, NULL);
    check_all_splits("b", S("--b\r\nContent-Disposition: attachment; name=x\r\n\r\nv\r\n--b--"), M,
                     NULL);
    check_all_splits("b", S("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--"), M,
                     NULL);
    check_all_splits("b", S("--b\r\nno colon here\r\n\r\nv\r\n--b--"), M, NULL);
    check_all_splits("b", S("--bx\r\n"), M, NULL); /* junk right after a delimiter */
    check_all_splits("b", S("--b-x"), M, NULL);
    check_all_splits("b", S("--b\rx"), M, NULL);
    /* a header block past the limit */
    size_t n = POSTFORM_MAX_HEADER + 64;
    char *big = malloc(n + 16);
    memcpy(big, "--b\r\nX: ", 8);
    memset(big + 8, 'a', n - 8);
    char *got;
    CHECK_EQ_INT(run("b", big, n, 0, &got), M);
    free(got);
    free(big);
}

TEST(test_callback_error_stops)
{
    static const postform_cb_t cb = {c_begin, c_data, c_end};
    coll_t c = {BUF_INIT, 2, 0};
    postform_t f;
    postform_init(&f, SV("b"), &cb, &c);
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\r\n"
                        "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--b--";
    CHECK_EQ_INT(postform_feed(&f, body, sizeof body - 1), -SE_ACCESS_DENIED);
    buf_release(&c.out);
}

TEST(test_boundary_from_content_type)
{
    sv_t b;
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data; boundary=abc"), &b), 0);
    CHECK(sv_eq_cstr(b, "abc"));
    CHECK_EQ_INT(postform_boundary(SV("Multipart/Form-Data;boundary=\"a b:c\""), &b), 0);
    CHECK(sv_eq_cstr(b, "a b:c"));
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data; charset=x; boundary=----WebKit1"), &b),
                 0);
    CHECK(sv_eq_cstr(b, "----WebKit1"));
    CHECK_EQ_INT(postform_boundary(SV("multipart/mixed; boundary=abc"), &b), -1);
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-dataX; boundary=abc"), &b), -1);
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data"), &b), -1);
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data; boundary="), &b), -1);
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data; boundary=\"a\rb\""), &b), -1);
    CHECK_EQ_INT(postform_boundary(SV("multipart/form-data; boundary=\"ab \""), &b), -1);
    char longb[30 + 71];
    memset(longb, 'a', sizeof longb);
    memcpy(longb, "multipart/form-data; boundary=", 30);
    CHECK_EQ_INT(postform_boundary((sv_t){longb, 30 + 70}, &b), 0); /* exactly 70 */
    CHECK_EQ_INT(postform_boundary((sv_t){longb, 30 + 71}, &b), -1);
}

/* ---- policy ---- */

static int parse_json(arena_t *a, const char *json, postpolicy_t *p, const char **msg)
{
    char *b64 = arena_alloc(a, strlen(json) * 2 + 8);
    size_t n = base64_encode((const uint8_t *)json, strlen(json), b64);
    return postpolicy_parse(a, (sv_t){b64, n}, p, msg);
}

TEST(test_policy_parse)
{
    arena_t *a = arena_new();
    postpolicy_t p;
    const char *msg;
    CHECK_EQ_INT(parse_json(a, "{\"expiration\":\"2030-01-01T00:00:00.000Z\",\"conditions\":["
                               "{\"bucket\":\"b\"},[\"starts-with\",\"$Key\",\"u/\"],"
                               "[\"eq\",\"$acl\",\"private\"],[\"content-length-range\",1,\"10\"]]}",
                            &p, &msg),
                 0);
    CHECK_EQ_INT(p.ncond, 4);
    CHECK_EQ_INT(p.expiration, 1893456000);
    CHECK_EQ_STR(p.cond[1].field, "key");
    CHECK(p.has_range && p.range_min == 1 && p.range_max == 10);
    CHECK_EQ_INT(parse_json(a, "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[]}", &p,
                            &msg),
                 0);
    /* operation names are case-insensitive; the top-level keys are not (see bad[]) */
    CHECK_EQ_INT(parse_json(a, "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":["
                               "[\"StArTs-WiTh\",\"$KeY\",\"u/\"],[\"EQ\",\"$acl\",\"private\"],"
                               "[\"Content-Length-Range\",0,5]]}",
                            &p, &msg),
                 0);
    CHECK_EQ_INT(p.ncond, 3);
    CHECK_EQ_INT(p.cond[0].op, PC_STARTS_WITH);
    CHECK_EQ_STR(p.cond[0].field, "key");
    CHECK_EQ_INT(p.cond[1].op, PC_EQ);
    CHECK(p.has_range && p.range_max == 5);
    static const char *const bad[] = {
        "not json", "[]", "{\"conditions\":[]}", "{\"expiration\":\"2030\",\"conditions\":[]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\"}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":{}}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"in\",\"$a\",\"b\"]]}",
        "{\"EXPIRATION\":\"2030-01-01T00:00:00Z\",\"conditions\":[]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"eq\",\"a\",\"b\"]]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"eq\",\"$a\"]]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"eq\",\"$a\",1]]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[{\"a\":\"1\",\"b\":\"2\"}]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[{\"a\":1}]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"content-length-range\",5,1]]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[[\"content-length-range\",-1,1]]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[7]}",
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"expiration\":\"2030-01-01T00:00:00Z\","
        "\"conditions\":[]}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        msg = NULL;
        CHECK_EQ_INT(parse_json(a, bad[i], &p, &msg), -SE_INVALID_POLICY_DOCUMENT);
        CHECK(msg && strncmp(msg, "Invalid Policy: ", 16) == 0);
    }
    CHECK_EQ_INT(postpolicy_parse(a, SV("!!!"), &p, &msg), -SE_INVALID_POLICY_DOCUMENT);
    arena_free(a);
}

TEST(test_policy_check)
{
    arena_t *a = arena_new();
    postpolicy_t p;
    const char *msg;
    CHECK_EQ_INT(parse_json(a, "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":["
                               "{\"bucket\":\"b\"},[\"starts-with\",\"$key\",\"u/\"],"
                               "[\"starts-with\",\"$Content-Type\",\"image/\"],"
                               "[\"starts-with\",\"$x-amz-meta-any\",\"\"],"
                               "[\"eq\",\"$acl\",\"private\"]]}",
                            &p, &msg),
                 0);
    kv_t f[] = {{SV("Key"), SV("u/1")},          {SV("content-type"), SV("image/png, image/gif")},
                {SV("ACL"), SV("private")},      {SV("policy"), SV("x")},
                {SV("x-ignore-this"), SV("1")},  {SV("X-Amz-Signature"), SV("s")},
                {SV("x-amz-meta-any"), SV("")},  {SV("extra"), SV("1")}};
    int64_t now = 1700000000;
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 7, SV("b"), &msg), 0);
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 8, SV("b"), &msg), -SE_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Extra input fields: extra");
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 7, SV("other"), &msg), -SE_ACCESS_DENIED);
    CHECK(strstr(msg, "Policy Condition failed: {\"bucket\":\"b\"}") != NULL);
    CHECK_EQ_INT(postpolicy_check(a, &p, 1893456001, f, 7, SV("b"), &msg), -SE_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy expired.");
    f[1].value = SV("image/png, text/html");
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 7, SV("b"), &msg), -SE_ACCESS_DENIED);
    f[1].value = SV("image/png");
    f[2].value = SV("public-read");
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 7, SV("b"), &msg), -SE_ACCESS_DENIED);
    CHECK(strstr(msg, "[\"eq\",\"$acl\",\"private\"]") != NULL);
    /* an absent field is "": eq fails, starts-with "" passes */
    f[2].value = SV("private");
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 3, SV("b"), &msg), 0);
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 2, SV("b"), &msg), -SE_ACCESS_DENIED);
    /* a policy that does not name the bucket is refused */
    CHECK_EQ_INT(parse_json(a, "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":["
                               "[\"starts-with\",\"$key\",\"\"]]}",
                            &p, &msg),
                 0);
    CHECK_EQ_INT(postpolicy_check(a, &p, now, f, 1, SV("b"), &msg), -SE_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]");
    arena_free(a);
}

int main(void)
{
    RUN(test_simple_form);
    RUN(test_lookalikes_preamble_epilogue);
    RUN(test_malformed);
    RUN(test_callback_error_stops);
    RUN(test_boundary_from_content_type);
    RUN(test_policy_parse);
    RUN(test_policy_check);
    return t_summary("postform");
}
