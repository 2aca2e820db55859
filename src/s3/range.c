/* s3/range: the Range header as S3 applies it.
 *
 * Design notes (RFC 9110 section 14 plus observed S3 behaviour)
 * - One range of the "bytes" unit (unit name case-insensitive, whitespace around the header
 *   and the '=' tolerated). Anything S3 would not honour is ignored, and the whole object is
 *   sent with 200: a syntax error, last < first ("bytes=5-2"), another unit, and a list of
 *   several ranges (S3 does not do multipart/byteranges; it answers 200 with the full object).
 * - Well-formed but unsatisfiable is 416 (-SE_INVALID_RANGE): first >= size (so any int-range
 *   on an empty object), and a zero-length suffix ("bytes=-0").
 * - last beyond the end clamps to size-1; a suffix longer than the object means all of it.
 *   A suffix range on an empty object cannot be expressed as [first, last], so it is ignored
 *   (200 with the empty body), which RFC 9110 allows.
 * - Numbers too large for 64 bits saturate: such a first position is past any end (416), such a
 *   last position or suffix just clamps.
 */
#include "s3/range.h"

#include "core/err.h"

/* Digits at *p..end: 1 with the value (saturating), 0 if there are none. */
static int digits(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    bool sat = false;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (!sat && (__builtin_mul_overflow(x, 10, &x) ||
                     __builtin_add_overflow(x, (uint64_t)(**p - '0'), &x)))
            sat = true;
        (*p)++;
    }
    *v = sat ? UINT64_MAX : x;
    return *p > s;
}

static void skip_ows(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

int s3_range_parse(sv_t header, uint64_t size, uint64_t *first, uint64_t *last)
{
    sv_t h = sv_trim(header);
    const char *p, *end;
    uint64_t a = 0, b = 0;
    bool has_a, has_b;

    if (h.len < 6 || !sv_caseeq_cstr((sv_t){h.p, 5}, "bytes"))
        return RANGE_NONE;
    p = h.p + 5;
    end = h.p + h.len;
    skip_ows(&p, end);
    if (p == end || *p != '=')
        return RANGE_NONE;
    p++;
    skip_ows(&p, end);
    for (const char *q = p; q < end; q++)
        if (*q == ',')
            return RANGE_NONE; /* several ranges: S3 sends the whole object */

    has_a = digits(&p, end, &a);
    if (p == end || *p != '-')
        return RANGE_NONE;
    p++;
    has_b = digits(&p, end, &b);
    if (p != end || (!has_a && !has_b))
        return RANGE_NONE;

    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0)
            return -SE_INVALID_RANGE;
        if (size == 0)
            return RANGE_NONE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (has_b && b < a)
        return RANGE_NONE;
    if (a >= size)
        return -SE_INVALID_RANGE;
    *first = a;
    *last = (!has_b || b >= size) ? size - 1 : b;
    return RANGE_OK;
}
