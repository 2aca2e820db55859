/* api/s3_attributes: GetObjectAttributes (GET /bucket/key?attributes).
 *
 * x-amz-object-attributes lists what to return (ETag, Checksum, ObjectParts, StorageClass,
 * ObjectSize; comma-separated, any order, case-sensitive as on S3). The answer is the
 * GetObjectAttributesResponse document in S3's element order; the ETag there has no quotes.
 * ObjectParts appears only for multipart objects: PartsCount (from the "-N" ETag), and, for an
 * object with a COMPOSITE additional checksum, a page of its parts as ListParts gives them
 * (PartNumber, Size, Checksum<ALGO>; x-amz-max-parts, x-amz-part-number-marker), read from the
 * manifest with the object (store_get_parts). S3 lists no parts for objects without a checksum
 * or with a FULL_OBJECT one (general purpose buckets). The Checksum element of a composite
 * value has no "-N" suffix there (unlike GET/HEAD's header), as on S3.
 */
#include "api/api_int.h"
#include "core/clock.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    ATTR_ETAG = 1,
    ATTR_CHECKSUM = 2,
    ATTR_PARTS = 4,
    ATTR_CLASS = 8,
    ATTR_SIZE = 16,
};

static int parse_attrs(sv_t h, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"ETag", ATTR_ETAG},
                 {"Checksum", ATTR_CHECKSUM},
                 {"ObjectParts", ATTR_PARTS},
                 {"StorageClass", ATTR_CLASS},
                 {"ObjectSize", ATTR_SIZE}};
    *out = 0;
    sv_t rest = h, item;
    bool more = h.len > 0;
    while (more) {
        rest = sv_split(rest, ',', &item, &more);
        item = sv_trim(item);
        if (item.len == 0)
            continue;
        size_t i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (sv_eq_cstr(item, names[i].name))
                break;
        if (i == sizeof names / sizeof names[0])
            return -1;
        *out |= names[i].bit;
    }
    return 0;
}

/* "<hex>-N" -> N, or 0 for a single-part object. */
static unsigned long etag_parts(const char *etag)
{
    const char *d = strchr(etag, '-');
    return d ? strtoul(d + 1, NULL, 10) : 0;
}

/* The Checksum element: the value (a composite one without its "-N") and its type. */
static void checksum_xml(buf_t *b, const store_obj_t *o)
{
    char el[32];
    snprintf(el, sizeof el, "Checksum%s", o->checksum_algo);
    buf_puts(b, "<Checksum>");
    const char *dash = strchr(o->checksum, '-');
    xml_elem(b, el, (sv_t){o->checksum, dash ? (size_t)(dash - o->checksum) : strlen(o->checksum)});
    xml_elem_c(b, "ChecksumType", checksum_type_of(o));
    buf_puts(b, "</Checksum>");
}

/* ObjectParts of a multipart object: the count, and for a COMPOSITE checksum the page. */
static void parts_xml(buf_t *b, const store_obj_t *o, unsigned long nparts,
                      const store_obj_parts_t *pp, uint64_t marker, uint64_t max_parts)
{
    buf_puts(b, "<ObjectParts>");
    buf_printf(b, "<PartsCount>%lu</PartsCount>", nparts);
    if (o->checksum_algo[0] && strcmp(checksum_type_of(o), "COMPOSITE") == 0) {
        char el[32];
        snprintf(el, sizeof el, "Checksum%s", o->checksum_algo);
        buf_printf(b, "<PartNumberMarker>%llu</PartNumberMarker>", (unsigned long long)marker);
        buf_printf(b, "<NextPartNumberMarker>%u</NextPartNumberMarker>", pp->next_marker);
        buf_printf(b, "<MaxParts>%llu</MaxParts>", (unsigned long long)max_parts);
        xml_elem_c(b, "IsTruncated", pp->truncated ? "true" : "false");
        for (size_t i = 0; i < pp->nparts; i++) {
            const store_obj_part_t *p = &pp->parts[i];
            buf_printf(b, "<Part><PartNumber>%u</PartNumber><Size>%llu</Size>", p->part_number,
                       (unsigned long long)p->size);
            if (p->checksum)
                xml_elem_c(b, el, p->checksum);
            buf_puts(b, "</Part>");
        }
    }
    buf_puts(b, "</ObjectParts>");
}

void op_get_object_attributes(rq_t *q, http_resp_t *resp)
{
    sv_t h = rq_header(q, "x-amz-object-attributes");
    unsigned want;
    if (!h.p || sv_trim(h).len == 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT,
                   "x-amz-object-attributes header specifying the attributes to be retrieved is "
                   "either missing or empty");
        return;
    }
    if (parse_attrs(h, &want) != 0) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT, "Invalid attribute name specified.");
        return;
    }
    uint64_t max_parts = 1000, marker = 0;
    sv_t mp = rq_header(q, "x-amz-max-parts"), pm = rq_header(q, "x-amz-part-number-marker");
    if ((mp.p && sv_to_u64(sv_trim(mp), &max_parts) != 0) ||
        (pm.p && sv_to_u64(sv_trim(pm), &marker) != 0)) {
        resp_error(q, resp, -SE_INVALID_ARGUMENT, NULL);
        return;
    }
    if (max_parts > 1000)
        max_parts = 1000;
    if (marker > STORE_MPU_MAX_PARTS)
        marker = STORE_MPU_MAX_PARTS;

    bool present = false;
    sv_t vid = s3_param(&q->route, "versionId", &present);
    const char *version = present ? arena_svdup(q->a, vid) : NULL;
    if (version && strcmp(version, "null") == 0)
        version = NULL;
    store_obj_t o;
    store_obj_parts_t pp;
    int rc = store_get_parts(q->api->store, q->route.bucket, q->route.key, version,
                             (uint32_t)marker, (size_t)max_parts, 0, q->a, &o, &pp);
    if (rc == 0 && o.delete_marker)
        rc = -SE_NO_SUCH_KEY;
    if (rc) {
        resp_error(q, resp, rc, NULL);
        return;
    }

    buf_t b = BUF_INIT;
    xml_begin(&b, "GetObjectAttributesResponse");
    if (want & ATTR_ETAG)
        xml_elem_c(&b, "ETag", o.etag);
    if ((want & ATTR_CHECKSUM) && o.checksum_algo[0])
        checksum_xml(&b, &o);
    unsigned long nparts = etag_parts(o.etag);
    if ((want & ATTR_PARTS) && nparts)
        parts_xml(&b, &o, nparts, &pp, marker, max_parts);
    if (want & ATTR_CLASS)
        xml_elem_c(&b, "StorageClass", o.storage_class[0] ? o.storage_class : "STANDARD");
    if (want & ATTR_SIZE)
        buf_printf(&b, "<ObjectSize>%llu</ObjectSize>", (unsigned long long)o.size);
    buf_puts(&b, "</GetObjectAttributesResponse>");
    resp_xml(q, resp, 200, &b);
    char date[40];
    fmt_http_date(o.mtime_ms, date);
    resp_header(q, resp, "Last-Modified", arena_strndup(q->a, date, strlen(date)));
    if (o.version_id[0])
        resp_header(q, resp, "x-amz-version-id", o.version_id);
}
