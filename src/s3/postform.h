/* s3/postform: a streaming multipart/form-data parser (RFC 7578) for browser-based uploads
 * (POST Object). Resumable like our other wire parsers: feed it the body in pieces of any
 * size; it calls back per part (begin with the part's headers, data in pieces, end). Memory
 * is bounded (one part's header block, POSTFORM_MAX_HEADER bytes), whatever the body size,
 * so a 5 GiB file part streams through.
 *
 * Written by hand: libmicrohttpd has a post processor, but the s3/ layer knows nothing of
 * HTTP (and MHD's processor buffers field values it cannot stream to us with our limits). */
#ifndef STRATA_S3_POSTFORM_H
#define STRATA_S3_POSTFORM_H
#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

#define POSTFORM_MAX_BOUNDARY 70 /* RFC 2046 */
#define POSTFORM_MAX_HEADER 8192 /* one part's header block */

typedef struct postform_part {
    sv_t name;         /* Content-Disposition name (unquoted), never empty */
    sv_t filename;     /* filename parameter; .p NULL when absent */
    sv_t content_type; /* the part's Content-Type; .p NULL when absent */
} postform_part_t;

/* Callbacks return 0 to go on, or a negative error that postform_feed() returns as is. The
 * views in *part live until part_end. */
typedef struct postform_cb {
    int (*part_begin)(void *ud, const postform_part_t *part);
    int (*part_data)(void *ud, const char *p, size_t n);
    int (*part_end)(void *ud);
} postform_cb_t;

enum postform_state { PF_PREAMBLE, PF_AFTER_DELIM, PF_HEADERS, PF_BODY, PF_DONE };

typedef struct postform {
    char delim[4 + POSTFORM_MAX_BOUNDARY + 1]; /* "\r\n--" + boundary */
    size_t dlen;
    size_t match; /* bytes of delim matched at the end of the last piece */
    enum postform_state state;
    int after; /* PF_AFTER_DELIM: 0 start, '-' one dash seen, '\r' CR seen, ' ' padding */
    char hdr[POSTFORM_MAX_HEADER];
    size_t hlen;
    postform_part_t part;
    postform_cb_t cb;
    void *ud;
} postform_t;

/* The boundary parameter of a Content-Type "multipart/form-data; boundary=..." value (quotes
 * removed), checked against RFC 2046's characters and length. -1 if the type is not
 * multipart/form-data or the boundary is missing or invalid. */
int postform_boundary(sv_t content_type, sv_t *boundary);

void postform_init(postform_t *f, sv_t boundary, const postform_cb_t *cb, void *ud);

/* Consumes n bytes. 0, a callback's error, or -SE_MALFORMED_POST_REQUEST for a body that
 * is not a valid form (bad part headers, a part without a name, junk after a delimiter). */
int postform_feed(postform_t *f, const char *p, size_t n);

/* At the end of the body: 0 if the closing delimiter was seen, else -SE_MALFORMED_POST_REQUEST
 * (truncated form). */
int postform_finish(const postform_t *f);

#endif
