/* s3/tagging: header and XML forms, S3's limits and answers, output forms. */
#include "core/arena.h"
#include "core/err.h"
#include "s3/tagging.h"
#include "t.h"

static int hdr(arena_t *a, const char *h, size_t max, tag_set_t *ts, tag_err_t *e)
{
    return tagging_parse_header(a, sv_from_cstr(h), max, ts, e);
}

static int xmls(arena_t *a, const char *x, size_t max, tag_set_t *ts, tag_err_t *e)
{
    return tagging_parse_xml(a, x, strlen(x), max, ts, e);
}

static char *repeat(arena_t *a, const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = arena_alloc(a, ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = 0;
    return s;
}

TEST(test_header_basic)
{
    arena_t *a = arena_new();
    tag_set_t ts;
    tag_err_t e;
    CHECK_EQ_INT(hdr(a, "k1=v1&k2=v%202&k%2B3=a+b&empty=&bare", 10, &ts, &e), 0);
    CHECK_EQ_INT(ts.n, 5);
    CHECK(sv_eq_cstr(ts.tags[0].name, "k1") && sv_eq_cstr(ts.tags[0].value, "v1"));
    CHECK(sv_eq_cstr(ts.tags[1].value, "v 2"));
    CHECK(sv_eq_cstr(ts.tags[2].name, "k+3") && sv_eq_cstr(ts.tags[2].value, "a b"));
    CHECK(sv_eq_cstr(ts.tags[3].name, "empty") && ts.tags[3].value.len == 0);
    CHECK(sv_eq_cstr(ts.tags[4].name, "bare") && ts.tags[4].value.len == 0);
    CHECK_EQ_INT(hdr(a, "", 10, &ts, &e), 0);
    CHECK_EQ_INT(ts.n, 0);
    CHECK_EQ_INT(hdr(a, "a=1&&b=2&", 10, &ts, &e), 0); /* empty pairs are skipped */
    CHECK_EQ_INT(ts.n, 2);
    /* allowed punctuation and Unicode letters/digits/spaces */
    CHECK_EQ_INT(hdr(a, "a%2F%3A%40_.-=%3D%2B&%C3%A9t%C3%A9=%E4%B8%AD%E6%96%87%C2%A0%D9%A3", 10, &ts, &e), 0);
    arena_free(a);
}

TEST(test_header_errors)
{
    arena_t *a = arena_new();
    tag_set_t ts;
    tag_err_t e;
    /* malformed: S3's InvalidArgument naming the header */
    const char *bad[] = {"a=b=c", "a=1&a=2", "a=%zz", "a=%FF", "TagSet=[{Key=string,Value=string}]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(hdr(a, bad[i], 10, &ts, &e), -SE_INVALID_ARGUMENT);
        CHECK_EQ_STR(e.arg_name, "x-amz-tagging");
        CHECK(sv_eq_cstr(e.arg_value, bad[i]));
        CHECK(strstr(e.msg, "without tag name duplicates") != NULL);
    }
    /* characters S3 refuses: InvalidTag naming the key */
    CHECK_EQ_INT(hdr(a, "a%2Cb=1", 10, &ts, &e), -SE_INVALID_TAG);
    CHECK_EQ_STR(e.msg, "The TagKey you have provided is invalid");
    CHECK(sv_eq_cstr(e.tag_key, "a,b"));
    CHECK_EQ_INT(hdr(a, "k=a%2Ab", 10, &ts, &e), -SE_INVALID_TAG);
    CHECK_EQ_STR(e.msg, "The TagValue you have provided is invalid");
    CHECK_EQ_INT(hdr(a, "k=%F0%9F%98%80", 10, &ts, &e), -SE_INVALID_TAG); /* emoji */
    CHECK_EQ_INT(hdr(a, "=v", 10, &ts, &e), -SE_INVALID_TAG);              /* empty key */
    CHECK_EQ_STR(e.msg, "The TagKey you have provided is invalid");
    arena_free(a);
}

TEST(test_limits)
{
    arena_t *a = arena_new();
    tag_set_t ts;
    tag_err_t e;
    char *h = arena_sprintf(a, "%s=%s", repeat(a, "k", 128), repeat(a, "v", 256));
    CHECK_EQ_INT(hdr(a, h, 10, &ts, &e), 0);
    h = arena_sprintf(a, "%s=v", repeat(a, "k", 129));
    CHECK_EQ_INT(hdr(a, h, 10, &ts, &e), -SE_INVALID_TAG);
    CHECK_EQ_STR(e.msg, "The TagKey you have provided is invalid");
    h = arena_sprintf(a, "k=%s", repeat(a, "v", 257));
    CHECK_EQ_INT(hdr(a, h, 10, &ts, &e), -SE_INVALID_TAG);
    CHECK_EQ_STR(e.msg, "The TagValue you have provided is invalid");
    /* lengths are characters, not bytes: 128 x U+00E9 (256 bytes) is a valid key */
    h = arena_sprintf(a, "%s=v", repeat(a, "%C3%A9", 128));
    CHECK_EQ_INT(hdr(a, h, 10, &ts, &e), 0);
    h = arena_sprintf(a, "%s=v", repeat(a, "%C3%A9", 129));
    CHECK_EQ_INT(hdr(a, h, 10, &ts, &e), -SE_INVALID_TAG);
    /* counts: 10 per object, 50 per bucket; the count is checked after the tags */
    buf_t b = BUF_INIT;
    for (int i = 0; i < 11; i++)
        buf_printf(&b, "%sk%d=v", i ? "&" : "", i);
    CHECK_EQ_INT(tagging_parse_header(a, buf_sv(&b), 10, &ts, &e), -SE_BAD_REQUEST);
    CHECK_EQ_STR(e.msg, "Object tags cannot be greater than 10");
    CHECK_EQ_INT(tagging_parse_header(a, buf_sv(&b), 50, &ts, &e), 0);
    buf_puts(&b, "&bad*=v");
    CHECK_EQ_INT(tagging_parse_header(a, buf_sv(&b), 10, &ts, &e), -SE_INVALID_TAG);
    buf_release(&b);
    arena_free(a);
}

TEST(test_xml)
{
    arena_t *a = arena_new();
    tag_set_t ts;
    tag_err_t e;
    CHECK_EQ_INT(xmls(a,
                      "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
                      "<Tag><Key>a b</Key><Value>1</Value></Tag>"
                      "<Tag><Key>c</Key><Value></Value></Tag></TagSet></Tagging>",
                      10, &ts, &e),
                 0);
    CHECK_EQ_INT(ts.n, 2);
    CHECK(sv_eq_cstr(ts.tags[0].name, "a b") && sv_eq_cstr(ts.tags[0].value, "1"));
    CHECK(sv_eq_cstr(ts.tags[1].name, "c") && ts.tags[1].value.len == 0);
    CHECK_EQ_INT(xmls(a, "<Tagging><TagSet/></Tagging>", 10, &ts, &e), 0);
    CHECK_EQ_INT(ts.n, 0);
    /* schema errors */
    const char *bad[] = {"", "<Tagging/>", "<Other><TagSet/></Other>",
                         "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
                         "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
                         "<Tagging><TagSet>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(xmls(a, bad[i], 10, &ts, &e), -SE_MALFORMED_XML);
    /* duplicates */
    CHECK_EQ_INT(xmls(a,
                      "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
                      "<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>",
                      10, &ts, &e),
                 -SE_INVALID_TAG);
    CHECK_EQ_STR(e.msg, "Cannot provide multiple Tags with the same key");
    CHECK(sv_eq_cstr(e.tag_key, "k"));
    /* 51 bucket tags */
    buf_t b = BUF_INIT;
    buf_puts(&b, "<Tagging><TagSet>");
    for (int i = 0; i < 51; i++)
        buf_printf(&b, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
    buf_puts(&b, "</TagSet></Tagging>");
    CHECK_EQ_INT(tagging_parse_xml(a, b.p, b.len, 50, &ts, &e), -SE_BAD_REQUEST);
    CHECK_EQ_STR(e.msg, "Bucket tag count cannot be greater than 50");
    buf_release(&b);
    arena_free(a);
}

TEST(test_output)
{
    kv_t tags[] = {{SV("a&b"), SV("<1>")}, {SV("k é"), SV("")}};
    buf_t b = BUF_INIT;
    tagging_xml_tagset(&b, tags, 2);
    CHECK_EQ_STR(b.p, "<TagSet><Tag><Key>a&amp;b</Key><Value>&lt;1&gt;</Value></Tag>"
                      "<Tag><Key>k é</Key><Value></Value></Tag></TagSet>");
    buf_clear(&b);
    tagging_encode_header(&b, tags, 2);
    CHECK_EQ_STR(b.p, "a%26b=%3C1%3E&k%20%C3%A9=");
    /* the header form parses back to the same set */
    arena_t *a = arena_new();
    kv_t ok[] = {{SV("a b"), SV("x/y")}, {SV("k"), SV("")}};
    buf_clear(&b);
    tagging_encode_header(&b, ok, 2);
    tag_set_t ts;
    tag_err_t e;
    CHECK_EQ_INT(tagging_parse_header(a, buf_sv(&b), 10, &ts, &e), 0);
    CHECK_EQ_INT(ts.n, 2);
    CHECK(sv_eq(ts.tags[0].name, ok[0].name) && sv_eq(ts.tags[0].value, ok[0].value));
    buf_release(&b);
    arena_free(a);
}

TEST(test_check_text)
{
    CHECK_EQ_INT(tagging_check_text(SV("Ab9 _.:/=+-@"), 1, 128), 0);
    CHECK_EQ_INT(tagging_check_text(SV(""), 1, 128), -1);
    CHECK_EQ_INT(tagging_check_text(SV(""), 0, 256), 0);
    CHECK_EQ_INT(tagging_check_text(SV("a\tb"), 0, 256), -1);
    CHECK_EQ_INT(tagging_check_text(SV("a#b"), 0, 256), -1);
    CHECK_EQ_INT(tagging_check_text(SV("\xff"), 0, 256), -1);          /* not UTF-8 */
    CHECK_EQ_INT(tagging_check_text(SV("\xe3\x80\x80"), 0, 256), 0);  /* U+3000 space */
    CHECK_EQ_INT(tagging_check_text(SV("\xe2\x86\x92"), 0, 256), -1);  /* U+2192 arrow */
}

int main(void)
{
    RUN(test_header_basic);
    RUN(test_header_errors);
    RUN(test_limits);
    RUN(test_xml);
    RUN(test_output);
    RUN(test_check_text);
    return t_summary("tagging");
}
