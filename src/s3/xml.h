/* s3/xml: small XML request bodies (DeleteObjects, CreateBucketConfiguration, Tagging,
 * VersioningConfiguration, CompleteMultipartUpload, ...) parsed with expat into a tree in an
 * arena. Bounded: document size, depth and element count are limited; DTDs and entities are
 * refused (no XXE, no billion laughs). Namespaces are ignored (local names only). */
#ifndef STRATA_S3_XML_H
#define STRATA_S3_XML_H
#include <stddef.h>

#include "core/arena.h"
#include "core/str.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_NODES 200000

typedef struct xml_node {
    sv_t name;  /* local name, without namespace prefix */
    sv_t text;  /* concatenated character data directly inside this element, as is (not trimmed;
                 * never NULL: an empty element has text "" of length 0) */
    struct xml_node *parent, *first_child, *next_sibling;
    kv_t *attrs; /* attributes, local names (e.g. xsi:type -> "type"), in document order */
    size_t nattrs;
} xml_node_t;

/* Parses a whole document; returns the root element or NULL with *err = -SE_MALFORMED_XML. */
xml_node_t *xml_parse(arena_t *a, const char *p, size_t n, int *err);
/* First child element with that local name, or NULL. */
xml_node_t *xml_child(const xml_node_t *n, const char *name);
/* Next sibling with the same name as n (for repeated elements), or NULL. */
xml_node_t *xml_next_named(const xml_node_t *n);
/* Text of the named child, or SV_NULL if there is no such child. */
sv_t xml_child_text(const xml_node_t *n, const char *name);

#endif
