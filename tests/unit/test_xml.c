/* s3/xml: S3-shaped documents, namespaces, text, limits and refused DTDs. */
#include <stdlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "s3/xml.h"
#include "t.h"

static xml_node_t *parse(arena_t *a, const char *s, int *err)
{
    return xml_parse(a, s, strlen(s), err);
}

TEST(delete_objects)
{
    arena_t *a = arena_new();
    int err = 1;
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Object><Key>a/b.txt</Key></Object>"
                      "<Object><Key>c &amp; d</Key><VersionId>v1</VersionId></Object>"
                      "<!-- a comment --><?pi ignored?>"
                      "<Object><Key></Key></Object>"
                      "<Quiet>true</Quiet></Delete>";
    xml_node_t *r = parse(a, doc, &err);
    CHECK(r != NULL);
    CHECK_EQ_INT(err, 0);
    if (!r)
        goto out;
    CHECK(sv_eq_cstr(r->name, "Delete"));
    CHECK(sv_eq_cstr(xml_child_text(r, "Quiet"), "true"));
    xml_node_t *o = xml_child(r, "Object");
    CHECK(o && sv_eq_cstr(xml_child_text(o, "Key"), "a/b.txt"));
    CHECK(o && xml_child_text(o, "VersionId").p == NULL);
    o = xml_next_named(o);
    CHECK(o && sv_eq_cstr(xml_child_text(o, "Key"), "c & d"));
    CHECK(o && sv_eq_cstr(xml_child_text(o, "VersionId"), "v1"));
    o = xml_next_named(o);
    CHECK(o && xml_child_text(o, "Key").p != NULL && xml_child_text(o, "Key").len == 0);
    CHECK(xml_next_named(o) == NULL);
    CHECK(o && o->parent == r);
    CHECK(xml_child(r, "Nope") == NULL);
out:
    arena_free(a);
}

TEST(namespaces_and_attributes)
{
    arena_t *a = arena_new();
    int err;
    const char *doc =
        "<s3:AccessControlPolicy xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<s3:AccessControlList><s3:Grant>"
        "<Grantee xsi:type=\"CanonicalUser\" plain=\"1\"><ID>abc</ID></Grantee>"
        "<s3:Permission>READ</s3:Permission></s3:Grant></s3:AccessControlList>"
        "</s3:AccessControlPolicy>";
    xml_node_t *r = parse(a, doc, &err);
    CHECK(r && sv_eq_cstr(r->name, "AccessControlPolicy"));
    xml_node_t *g = xml_child(xml_child(r, "AccessControlList"), "Grant");
    CHECK(g != NULL);
    CHECK(sv_eq_cstr(xml_child_text(g, "Permission"), "READ"));
    xml_node_t *ge = xml_child(g, "Grantee");
    CHECK(ge && ge->nattrs == 2);
    if (ge && ge->nattrs == 2) {
        CHECK(sv_eq_cstr(ge->attrs[0].name, "type"));
        CHECK(sv_eq_cstr(ge->attrs[0].value, "CanonicalUser"));
        CHECK(sv_eq_cstr(ge->attrs[1].name, "plain"));
    }
    CHECK(r && r->nattrs == 0); /* xmlns declarations are not attributes */
    arena_free(a);
}

TEST(text_rules)
{
    arena_t *a = arena_new();
    int err;
    xml_node_t *r = parse(a, "<a>x<b>y</b>z<![CDATA[<raw>&]]>&lt;&#65;&#x42;&quot;</a>", &err);
    CHECK(r && sv_eq_cstr(r->text, "xz<raw>&<AB\""));
    CHECK(r && sv_eq_cstr(xml_child_text(r, "b"), "y"));
    r = parse(a, "<Key>  spaced \n key </Key>", &err);
    CHECK(r && sv_eq_cstr(r->text, "  spaced \n key "));
    r = parse(a, "<K>\xE2\x82\xAC</K>", &err);
    CHECK(r && sv_eq_cstr(r->text, "\xE2\x82\xAC"));
    r = parse(a, "<K/>", &err);
    CHECK(r && r->text.p && r->text.len == 0 && !r->first_child);
    /* a view into a larger buffer: only n bytes are parsed */
    const char *big = "<a>1</a>GARBAGE";
    r = xml_parse(a, big, 8, &err);
    CHECK(r && sv_eq_cstr(r->text, "1"));
    /* long text split over expat's internal buffers */
    buf_t b = BUF_INIT;
    buf_puts(&b, "<t>");
    for (int i = 0; i < 100000; i++)
        buf_puts(&b, "ab&amp;");
    buf_puts(&b, "</t>");
    r = xml_parse(a, b.p, b.len, &err);
    CHECK(r && r->text.len == 300000);
    buf_release(&b);
    arena_free(a);
}

static const char *bad_docs[] = {
    "",
    "   ",
    "text only",
    "<a>",
    "<a></b>",
    "<a/><b/>",
    "<a/>junk",
    "<a>&foo;</a>",
    "<a>&#0;</a>",
    "<a b=1/>",
    "<a>\xff\xfe</a>",
    "<1a/>",
    "<a:b:c/>",
    "<p:a/>", /* unbound prefix */
    "<!DOCTYPE a><a/>",
    "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
    "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
    "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>",
    "<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/x\"> %p;]><a/>",
    "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/hostname\">]><a>&e;</a>",
};

TEST(bad_documents)
{
    arena_t *a = arena_new();
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
        int err = 0;
        xml_node_t *r = parse(a, bad_docs[i], &err);
        if (r || err != -SE_MALFORMED_XML) {
            fprintf(stderr, "bad doc %zu accepted: %s\n", i, bad_docs[i]);
            t_cur_failed = 1;
        }
    }
    int err = 0;
    CHECK(xml_parse(a, "<a>\0</a>", 8, &err) == NULL); /* embedded NUL */
    CHECK(xml_parse(a, NULL, 0, &err) == NULL);
    CHECK(xml_parse(a, "<a/>", 4, NULL) != NULL); /* err may be NULL */
    arena_free(a);
}

static char *nested(int depth)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < depth; i++)
        buf_puts(&b, "<d>");
    buf_puts(&b, "x");
    for (int i = 0; i < depth; i++)
        buf_puts(&b, "</d>");
    return buf_steal(&b, NULL);
}

TEST(limits)
{
    arena_t *a = arena_new();
    int err;
    char *ok = nested(XML_MAX_DEPTH), *deep = nested(XML_MAX_DEPTH + 1);
    xml_node_t *r = parse(a, ok, &err);
    CHECK(r != NULL);
    int d = 0;
    for (xml_node_t *n = r; n; n = n->first_child)
        d++;
    CHECK_EQ_INT(d, XML_MAX_DEPTH);
    CHECK(parse(a, deep, &err) == NULL);
    CHECK_EQ_INT(err, -SE_MALFORMED_XML);
    free(ok);
    free(deep);

    buf_t b = BUF_INIT;
    buf_puts(&b, "<r>");
    for (int i = 0; i < XML_MAX_NODES - 1; i++)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</r>");
    r = xml_parse(a, b.p, b.len, &err);
    CHECK(r != NULL);
    size_t cnt = 0;
    for (xml_node_t *c = r ? r->first_child : NULL; c; c = c->next_sibling)
        cnt++;
    CHECK_EQ_INT(cnt, XML_MAX_NODES - 1);
    buf_clear(&b);
    buf_puts(&b, "<r>");
    for (int i = 0; i < XML_MAX_NODES; i++)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</r>");
    CHECK(xml_parse(a, b.p, b.len, &err) == NULL);
    CHECK_EQ_INT(err, -SE_MALFORMED_XML);
    buf_release(&b);
    arena_free(a);
}

TEST(null_helpers)
{
    CHECK(xml_child(NULL, "a") == NULL);
    CHECK(xml_next_named(NULL) == NULL);
    CHECK(xml_child_text(NULL, "a").p == NULL);
}

int main(void)
{
    RUN(delete_objects);
    RUN(namespaces_and_attributes);
    RUN(text_rules);
    RUN(bad_documents);
    RUN(limits);
    RUN(null_helpers);
    return t_summary("xml");
}
