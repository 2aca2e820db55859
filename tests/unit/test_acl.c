/* Tests for s3/acl: x-amz-grant-* header values and AccessControlPolicy bodies, parsed into
 * unresolved grants, with S3's errors (InvalidArgument with its message and argument,
 * MalformedACLError). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "s3/acl.h"
#include "t.h"

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""

static int hdr(const char *v, s3acl_grant_t *g, size_t *n, s3acl_err_t *e)
{
    return s3acl_parse_header(sv_from_cstr(v), "x-amz-grant-read", S3ACL_READ, g, n, e);
}

TEST(test_header_forms)
{
    s3acl_grant_t g[S3ACL_MAX_GRANTS];
    size_t n = 0;
    s3acl_err_t e;
    CHECK_EQ_INT(hdr("id=\"abc\", uri=\"" S3ACL_URI_ALL_USERS "\",emailAddress=a@b.c", g, &n, &e),
                 0);
    CHECK_EQ_INT(n, 3);
    CHECK(g[0].kind == S3ACL_ID && sv_eq_cstr(g[0].value, "abc") && g[0].perm == S3ACL_READ);
    CHECK(g[1].kind == S3ACL_URI && sv_eq_cstr(g[1].value, S3ACL_URI_ALL_USERS));
    CHECK(g[2].kind == S3ACL_EMAIL && sv_eq_cstr(g[2].value, "a@b.c"));
    /* unquoted, case of the key, spaces, empty items: as S3 takes them */
    CHECK_EQ_INT(hdr(" ID = 123 ,, uri=" S3ACL_URI_LOG_DELIVERY " ", g, &n, &e), 0);
    CHECK_EQ_INT(n, 5);
    CHECK(sv_eq_cstr(g[3].value, "123") && g[4].kind == S3ACL_URI);
    CHECK_EQ_INT(hdr("", g, &n, &e), 0);
    CHECK_EQ_INT(n, 5);
}

TEST(test_header_errors)
{
    s3acl_grant_t g[S3ACL_MAX_GRANTS];
    s3acl_err_t e;
    static const struct {
        const char *v, *msg, *arg, *val;
    } bad[] = {
        {"fakekey=\"1\"", "Argument format not recognized", "x-amz-grant-read", "fakekey=\"1\""},
        {"id", "Argument format not recognized", "x-amz-grant-read", "id"},
        {"id=", "Argument format not recognized", "x-amz-grant-read", "id="},
        {"id=\"\"", "Argument format not recognized", "x-amz-grant-read", "id=\"\""},
        {"id=\"abc", "Argument format not recognized", "x-amz-grant-read", "id=\"abc"},
        {"uri=\"http://example.com/g\"", "Invalid group uri", "uri", "http://example.com/g"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 0;
        CHECK_EQ_INT(hdr(bad[i].v, g, &n, &e), -SE_INVALID_ARGUMENT);
        CHECK_EQ_INT(e.rc, -SE_INVALID_ARGUMENT);
        CHECK_EQ_STR(e.msg, bad[i].msg);
        CHECK_EQ_STR(e.arg_name, bad[i].arg);
        CHECK(sv_eq_cstr(e.arg_value, bad[i].val));
    }
    /* at most 100 grants in all, across headers */
    size_t n = 0;
    for (int i = 0; i < S3ACL_MAX_GRANTS; i++)
        CHECK_EQ_INT(hdr("id=x", g, &n, &e), 0);
    CHECK_EQ_INT(n, S3ACL_MAX_GRANTS);
    CHECK_EQ_INT(hdr("id=y", g, &n, &e), -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(n, S3ACL_MAX_GRANTS);
}

static int body(arena_t *a, const char *doc, sv_t *owner, s3acl_grant_t *g, size_t *n,
                s3acl_err_t *e)
{
    return s3acl_parse_xml(a, doc, strlen(doc), owner, g, n, e);
}

TEST(test_xml)
{
    arena_t *a = arena_new();
    s3acl_grant_t g[S3ACL_MAX_GRANTS];
    size_t n;
    sv_t owner;
    s3acl_err_t e;
    const char *ok =
        "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID> o1 "
        "</ID><DisplayName>x</DisplayName></Owner><AccessControlList>"
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>u1</ID><DisplayName>d</DisplayName>"
        "</Grantee><Permission>FULL_CONTROL</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" S3ACL_URI_AUTH_USERS "</URI></Grantee>"
        "<Permission>READ_ACP</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>a@b.c"
        "</EmailAddress></Grantee><Permission>WRITE</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>";
    CHECK_EQ_INT(body(a, ok, &owner, g, &n, &e), 0);
    CHECK(sv_eq_cstr(owner, "o1"));
    CHECK_EQ_INT(n, 3);
    CHECK(g[0].kind == S3ACL_ID && sv_eq_cstr(g[0].value, "u1") &&
          g[0].perm == S3ACL_FULL_CONTROL);
    CHECK(g[1].kind == S3ACL_URI && g[1].perm == S3ACL_READ_ACP);
    CHECK(g[2].kind == S3ACL_EMAIL && sv_eq_cstr(g[2].value, "a@b.c") && g[2].perm == S3ACL_WRITE);
    /* an empty list is an ACL without grants */
    CHECK_EQ_INT(body(a, "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList/>"
                         "</AccessControlPolicy>", &owner, g, &n, &e), 0);
    CHECK_EQ_INT(n, 0);
    static const char *const malformed[] = {
        "", "<<", "<Other/>",
        "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"CanonicalUser\"><ID>u</ID></Grantee><Permission>ALL</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"Robot\"><ID>u</ID></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"CanonicalUser\"><URI>u</URI></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
        "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        CHECK_EQ_INT(body(a, malformed[i], &owner, g, &n, &e), -SE_MALFORMED_ACL);
        CHECK_EQ_INT(e.rc, -SE_MALFORMED_ACL);
    }
    CHECK_EQ_INT(body(a, "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
                         "<Grantee " XSI " xsi:type=\"Group\"><URI>http://x/</URI></Grantee>"
                         "<Permission>READ</Permission></Grant></AccessControlList>"
                         "</AccessControlPolicy>", &owner, g, &n, &e),
                 -SE_INVALID_ARGUMENT);
    CHECK_EQ_STR(e.msg, "Invalid group uri");
    CHECK_EQ_STR(e.arg_name, "Group/URI");
    CHECK(sv_eq_cstr(e.arg_value, "http://x/"));
    /* 101 grants: refused */
    char *big = malloc(16384);
    size_t len = (size_t)snprintf(big, 16384,
                                  "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>");
    for (int i = 0; i <= S3ACL_MAX_GRANTS; i++)
        len += (size_t)snprintf(big + len, 16384 - len,
                                "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>u%d</ID>"
                                "</Grantee><Permission>READ</Permission></Grant>", i);
    snprintf(big + len, 16384 - len, "</AccessControlList></AccessControlPolicy>");
    CHECK_EQ_INT(body(a, big, &owner, g, &n, &e), -SE_MALFORMED_ACL);
    free(big);
    arena_free(a);
}

TEST(test_groups)
{
    int w = -1;
    CHECK_EQ_INT(s3acl_group(SV(S3ACL_URI_ALL_USERS), &w), 0);
    CHECK_EQ_INT(w, 0);
    CHECK_EQ_INT(s3acl_group(SV(S3ACL_URI_AUTH_USERS), &w), 0);
    CHECK_EQ_INT(w, 1);
    CHECK_EQ_INT(s3acl_group(SV(S3ACL_URI_LOG_DELIVERY), &w), 0);
    CHECK_EQ_INT(w, 2);
    CHECK_EQ_INT(s3acl_group(SV("http://acs.amazonaws.com/groups/global/allusers"), &w), -1);
    CHECK_EQ_INT(s3acl_group(SV(""), &w), -1);
}

int main(void)
{
    RUN(test_header_forms);
    RUN(test_header_errors);
    RUN(test_xml);
    RUN(test_groups);
    return t_summary("acl");
}
