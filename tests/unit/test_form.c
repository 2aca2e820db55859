/* api/form: Query-protocol form parsing. */
#include "api/form.h"
#include "core/arena.h"
#include "core/buf.h"
#include "t.h"

static arena_t *A;

TEST(basic_pairs)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("Action=CreateUser&Version=2010-05-08&UserName=bob"), &f), 0);
    CHECK_EQ_INT(f.n, 3);
    CHECK_EQ_STR(form_get(&f, "Action").p, "CreateUser");
    CHECK_EQ_STR(form_get(&f, "UserName").p, "bob");
    CHECK(form_get(&f, "Missing").p == NULL);
    CHECK(!form_has(&f, "username")); /* names are case-sensitive */
}

TEST(decoding)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("PolicyDocument=%7B%22a%22%3A+1%7D&Path=%2Fx%2F&E="), &f), 0);
    CHECK_EQ_STR(form_get(&f, "PolicyDocument").p, "{\"a\": 1}");
    CHECK_EQ_STR(form_get(&f, "Path").p, "/x/");
    CHECK(form_get(&f, "E").p != NULL);
    CHECK_EQ_INT(form_get(&f, "E").len, 0);
}

TEST(empty_pairs_and_no_equals)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("&&a=1&&flag&"), &f), 0);
    CHECK_EQ_INT(f.n, 2);
    CHECK_EQ_STR(form_get(&f, "a").p, "1");
    CHECK(form_has(&f, "flag"));
    CHECK_EQ_INT(form_parse(A, SV(""), &f), 0);
    CHECK_EQ_INT(f.n, 0);
}

TEST(first_wins_and_value_with_equals)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("a=1&a=2&b=x=y"), &f), 0);
    CHECK_EQ_STR(form_get(&f, "a").p, "1");
    CHECK_EQ_STR(form_get(&f, "b").p, "x=y");
}

TEST(malformed_escapes)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("a=%"), &f), -1);
    CHECK_EQ_INT(form_parse(A, SV("a=%4"), &f), -1);
    CHECK_EQ_INT(form_parse(A, SV("a=%zz"), &f), -1);
    CHECK_EQ_INT(form_parse(A, SV("%g1=b"), &f), -1);
}

TEST(limits)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < FORM_MAX_PARAMS; i++)
        buf_printf(&b, "p%d=%d&", i, i);
    form_t f;
    CHECK_EQ_INT(form_parse(A, buf_sv(&b), &f), 0);
    CHECK_EQ_INT(f.n, FORM_MAX_PARAMS);
    buf_puts(&b, "one=more");
    CHECK_EQ_INT(form_parse(A, buf_sv(&b), &f), -1);
    buf_release(&b);
}

TEST(getf)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=k2"), &f), 0);
    CHECK_EQ_STR(form_getf(&f, "Tags.member.%d.Key", 1).p, "k");
    CHECK_EQ_STR(form_getf(&f, "Tags.member.%d.Value", 1).p, "v");
    CHECK_EQ_STR(form_getf(&f, "Tags.member.%d.Key", 2).p, "k2");
    CHECK(form_getf(&f, "Tags.member.%d.Value", 2).p == NULL);
}

TEST(embedded_nul_is_kept_by_length)
{
    form_t f;
    CHECK_EQ_INT(form_parse(A, SV("a=x%00y"), &f), 0);
    CHECK_EQ_INT(form_get(&f, "a").len, 3);
}

int main(void)
{
    A = arena_new();
    RUN(basic_pairs);
    RUN(decoding);
    RUN(empty_pairs_and_no_equals);
    RUN(first_wins_and_value_with_equals);
    RUN(malformed_escapes);
    RUN(limits);
    RUN(getf);
    RUN(embedded_nul_is_kept_by_length);
    arena_free(A);
    return t_summary("form");
}
