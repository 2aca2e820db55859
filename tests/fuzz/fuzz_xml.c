/* libFuzzer: xml_parse on arbitrary bytes, then a walk of the tree checking its invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "s3/xml.h"

static size_t walk(const xml_node_t *n, int depth)
{
    size_t count = 0;
    if (depth > XML_MAX_DEPTH)
        abort();
    for (; n; n = n->next_sibling) {
        count++;
        if (n->text.p == NULL || n->name.len == 0)
            abort();
        volatile char sink = n->text.len ? n->text.p[n->text.len - 1] : 0;
        (void)sink;
        for (size_t i = 0; i < n->nattrs; i++)
            if (!n->attrs[i].name.p || !n->attrs[i].value.p)
                abort();
        (void)xml_next_named(n);
        (void)xml_child_text(n, "Key");
        count += walk(n->first_child, depth + 1);
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    arena_t *a = arena_new();
    int err = 1;
    xml_node_t *r = xml_parse(a, p, size, &err);
    if (r) {
        if (err != 0 || r->parent || r->next_sibling)
            abort();
        if (walk(r, 1) > XML_MAX_NODES)
            abort();
    } else if (err != -SE_MALFORMED_XML) {
        abort();
    }
    arena_free(a);
    free(p);
    return 0;
}
