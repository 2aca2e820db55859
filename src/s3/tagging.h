/* s3/tagging: object and bucket tag sets, pure parsing and validation.
 *
 * Two wire forms carry a tag set:
 *   - the x-amz-tagging header (PutObject, CopyObject, CreateMultipartUpload): URL-encoded
 *     query parameters, "k1=v1&k2=v2" ('+' is a space, "k" alone has the value "");
 *   - the Tagging XML body (Put{Object,Bucket}Tagging):
 *       <Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>
 * Both are validated as S3 does (see docs/tagging.md for the sources):
 *   key 1..128 and value 0..256 characters, counted in UTF-16 code units as S3 counts them;
 *   only letters, numbers, white space (Unicode categories L, N, Z) and _ . : / = + - @;
 *   no duplicate keys; at most `max` tags (10 for objects, 50 for buckets), checked after every
 *   tag has been checked, as S3 orders its answers.
 * A failure fills a tag_err_t with the S3 error (code, message, and the extra Error elements
 * S3 adds: TagKey, or ArgumentName/ArgumentValue for the header). Everything decoded points into
 * the arena.
 */
#ifndef STRATA_S3_TAGGING_H
#define STRATA_S3_TAGGING_H
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

#define TAGGING_MAX_OBJECT 10
#define TAGGING_MAX_BUCKET 50
#define TAGGING_KEY_MAX 128
#define TAGGING_VALUE_MAX 256

typedef struct tag_set {
    kv_t *tags; /* in the order given */
    size_t n;
} tag_set_t;

typedef struct tag_err {
    int rc;          /* -SE_INVALID_TAG, -SE_BAD_REQUEST, -SE_INVALID_ARGUMENT, -SE_MALFORMED_XML */
    const char *msg; /* S3's message (static) */
    sv_t tag_key;    /* for <TagKey> (key.p NULL: none) */
    const char *arg_name; /* for <ArgumentName>/<ArgumentValue> (NULL: none) */
    sv_t arg_value;
} tag_err_t;

/* x-amz-tagging header -> tag set. An empty header is an empty set. max: 10 or 50.
 * Returns 0, or a negative code with *err filled. */
int tagging_parse_header(arena_t *a, sv_t hdr, size_t max, tag_set_t *out, tag_err_t *err);

/* Tagging XML document -> tag set. Returns 0, or a negative code with *err filled. */
int tagging_parse_xml(arena_t *a, const char *p, size_t n, size_t max, tag_set_t *out,
                      tag_err_t *err);

/* Validates one key or value: 0 ok, -1 invalid (characters, length, or bad UTF-8). */
int tagging_check_text(sv_t s, size_t min, size_t max);

/* Appends <TagSet><Tag><Key>..</Key><Value>..</Value></Tag>...</TagSet>. */
void tagging_xml_tagset(buf_t *b, const kv_t *tags, size_t n);

/* Appends the header form ("k1=v1&k2=v2", RFC 3986 encoded), e.g. for storage. */
void tagging_encode_header(buf_t *b, const kv_t *tags, size_t n);

#endif
