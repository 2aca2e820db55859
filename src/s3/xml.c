/* s3/xml: small request bodies into an arena tree, with expat.
 *
 * Design notes
 * - The caller bounds the document size before calling (it knows the per-operation limit);
 *   here depth (XML_MAX_DEPTH) and element count (XML_MAX_NODES) are bounded, and the parse
 *   stops at the first violation.
 * - No DTDs at all: a DOCTYPE or any entity declaration aborts the parse, parameter entities
 *   are never parsed and no external entity handler is installed, so there is no XXE and no
 *   entity expansion (billion laughs). Only the five predefined entities and character
 *   references remain.
 * - Namespaces: the parser is created with a separator, so expat reports "uri<sep>local"; we
 *   keep what follows the last separator. Prefixes never matter, xmlns attributes are not seen.
 * - Character data directly inside an element is concatenated across expat's pieces and across
 *   child elements ("a<b/>c" gives "ac"), kept verbatim; one growable buffer per open depth is
 *   reused, and only the final text is copied into the arena.
 * - Once a handler fails, `failed` makes every later callback a no-op (expat may deliver a few
 *   events after XML_StopParser).
 */
#include "s3/xml.h"

#include <expat.h>
#include <limits.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

#define NS_SEP '\x01'

struct xp {
    XML_Parser p;
    arena_t *a;
    xml_node_t *root, *cur;
    xml_node_t *last_child[XML_MAX_DEPTH + 1]; /* per depth, for O(1) appends */
    buf_t text[XML_MAX_DEPTH + 1];
    int depth;
    size_t nodes;
    bool failed;
};

static void fail(struct xp *x)
{
    if (!x->failed) {
        x->failed = true;
        XML_StopParser(x->p, XML_FALSE);
    }
}

static sv_t local_name(arena_t *a, const char *qn)
{
    const char *l = strrchr(qn, NS_SEP);
    l = l ? l + 1 : qn;
    size_t n = strlen(l);
    return (sv_t){arena_strndup(a, l, n), n};
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xp *x = ud;
    if (x->failed)
        return;
    if (x->depth >= XML_MAX_DEPTH || x->nodes >= XML_MAX_NODES) {
        fail(x);
        return;
    }
    xml_node_t *n = arena_calloc(x->a, 1, sizeof(*n));
    x->nodes++;
    n->name = local_name(x->a, name);
    size_t na = 0;
    while (atts[2 * na])
        na++;
    if (na) {
        n->attrs = arena_calloc(x->a, na, sizeof(kv_t));
        for (size_t i = 0; i < na; i++) {
            size_t vl = strlen(atts[2 * i + 1]);
            n->attrs[i].name = local_name(x->a, atts[2 * i]);
            n->attrs[i].value = (sv_t){arena_strndup(x->a, atts[2 * i + 1], vl), vl};
        }
        n->nattrs = na;
    }
    n->parent = x->cur;
    if (x->cur) {
        if (x->last_child[x->depth])
            x->last_child[x->depth]->next_sibling = n;
        else
            x->cur->first_child = n;
        x->last_child[x->depth] = n;
    } else {
        x->root = n;
    }
    x->cur = n;
    x->depth++;
    x->last_child[x->depth] = NULL;
    buf_clear(&x->text[x->depth]);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xp *x = ud;
    (void)name;
    if (x->failed || !x->cur)
        return;
    buf_t *t = &x->text[x->depth];
    x->cur->text = (sv_t){arena_strndup(x->a, t->p ? t->p : "", t->len), t->len};
    x->cur = x->cur->parent;
    x->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xp *x = ud;
    if (x->failed || !x->cur || len <= 0)
        return;
    buf_append(&x->text[x->depth], s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    fail(ud);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid,
        (void)pubid, (void)notation;
    fail(ud);
}

xml_node_t *xml_parse(arena_t *a, const char *p, size_t n, int *err)
{
    struct xp x = {0};
    xml_node_t *root = NULL;
    int rc = -SE_MALFORMED_XML;

    if (n == 0 || !p)
        goto out;
    x.p = XML_ParserCreateNS(NULL, NS_SEP);
    if (!x.p)
        goto out;
    x.a = a;
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, on_start, on_end);
    XML_SetCharacterDataHandler(x.p, on_text);
    XML_SetStartDoctypeDeclHandler(x.p, on_doctype);
    XML_SetEntityDeclHandler(x.p, on_entity_decl);
    XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);

    /* XML_Parse takes an int length */
    while (n > 0) {
        int piece = n > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)n;
        n -= (size_t)piece;
        if (XML_Parse(x.p, p, piece, n == 0) != XML_STATUS_OK || x.failed)
            goto out_free_parser;
        p += piece;
    }
    if (x.root && x.depth == 0 && !x.failed) {
        root = x.root;
        rc = 0;
    }

out_free_parser:
    XML_ParserFree(x.p);
    for (int i = 0; i <= XML_MAX_DEPTH; i++)
        buf_release(&x.text[i]);
out:
    if (err)
        *err = rc;
    return root;
}

xml_node_t *xml_child(const xml_node_t *n, const char *name)
{
    if (!n)
        return NULL;
    for (xml_node_t *c = n->first_child; c; c = c->next_sibling)
        if (sv_eq_cstr(c->name, name))
            return c;
    return NULL;
}

xml_node_t *xml_next_named(const xml_node_t *n)
{
    if (!n)
        return NULL;
    for (xml_node_t *c = n->next_sibling; c; c = c->next_sibling)
        if (sv_eq(c->name, n->name))
            return c;
    return NULL;
}

sv_t xml_child_text(const xml_node_t *n, const char *name)
{
    xml_node_t *c = xml_child(n, name);
    return c ? c->text : SV_NULL;
}
