/* Length-delimited strings for wire data. An sv_t is a view: it never owns its bytes and is
 * never assumed NUL-terminated. Never strlen/strcmp request bytes; use these. */
#ifndef STRATA_CORE_STR_H
#define STRATA_CORE_STR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *p;
    size_t len;
} sv_t;

/* A name/value pair of views (headers, query parameters, metadata, tags). */
typedef struct {
    sv_t name;
    sv_t value;
} kv_t;

#define SV(lit) ((sv_t){(lit), sizeof(lit) - 1})
#define SV_NULL ((sv_t){NULL, 0})
#define SV_FMT "%.*s"
#define SV_ARG(s) (int)(s).len, (s).p

sv_t sv_from_cstr(const char *s); /* NULL -> SV_NULL */
bool sv_eq(sv_t a, sv_t b);
bool sv_eq_cstr(sv_t a, const char *s);
bool sv_caseeq_cstr(sv_t a, const char *s); /* ASCII case-insensitive */
bool sv_starts_with(sv_t a, sv_t prefix);
int sv_cmp(sv_t a, sv_t b); /* bytewise, like memcmp then length */
sv_t sv_trim(sv_t a);       /* strips leading/trailing spaces and tabs */
/* Splits at the first `sep`: *head gets the part before, returns the rest after it. If sep is
 * absent, *head is all of a and the result is SV_NULL with found=false. */
sv_t sv_split(sv_t a, char sep, sv_t *head, bool *found);
/* Strict unsigned decimal: digits only, no sign/space, no overflow. 0 ok, -1 bad. */
int sv_to_u64(sv_t a, uint64_t *out);

/* Percent-decoding. dst must have room for src.len bytes. Returns decoded length, or -1 on a
 * malformed escape. plus_is_space: treat '+' as ' ' (form encoding). */
long sv_url_decode(sv_t src, char *dst, bool plus_is_space);
/* AWS SigV4 URI encoding (RFC 3986 unreserved kept, everything else %XX uppercase).
 * keep_slash: '/' left as is (object key paths). Appends to a growable buffer. */
struct buf;
void sv_uri_encode(struct buf *out, sv_t src, bool keep_slash);

#endif
