/* auth/chunked: the aws-chunked content encoding, decoded as it streams.
 *
 *   <hex-size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
 *   [trailer lines "x-amz-checksum-crc32:<b64>\r\n" ["x-amz-trailer-signature:<sig>\r\n"]] \r\n
 *
 * (The unsigned-trailer variant has no ";chunk-signature=" parts.) Every chunk signature is
 * verified against the previous one (seeded by the request signature); the trailer signature
 * too. The decoder resumes on any split of the input and keeps bounded state: chunk headers
 * and trailers are size-limited (-SE_INVALID_ARGUMENT / -SE_INCOMPLETE_BODY on excess).
 */
#ifndef STRATA_AUTH_CHUNKED_H
#define STRATA_AUTH_CHUNKED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/sigv4.h"

typedef struct aws_chunked aws_chunked_t;

/* signed_chunks: verify chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]).
 * has_trailer: a trailer section is expected (the -TRAILER variants).
 * sig: from sigv4_verify (ignored when !signed_chunks). amz_date: the request's x-amz-date
 * (a Date-header value, as sigv4_parsed_t.amz_date may hold, is accepted and converted).
 * Emitted bytes are provisional until aws_chunked_finish() returns 0: a chunk's signature is
 * checked once its data has gone by. */
aws_chunked_t *aws_chunked_new(bool signed_chunks, bool has_trailer, const sigv4_result_t *sig,
                               sv_t amz_date);
void aws_chunked_free(aws_chunked_t *c);

/* Feeds raw body bytes; calls emit(ctx, p, n) for each piece of decoded payload, in order.
 * Returns 0, or a negative S3 error (-SE_SIGNATURE_MISMATCH, -SE_INCOMPLETE_BODY,
 * -SE_INVALID_ARGUMENT) after which the decoder is dead. A nonzero return from emit stops
 * decoding and is returned. */
int aws_chunked_feed(aws_chunked_t *c, const char *in, size_t n,
                     int (*emit)(void *ctx, const char *p, size_t n), void *ctx);
/* Call at end of body: -SE_INCOMPLETE_BODY unless the final chunk (and trailer) were seen. */
int aws_chunked_finish(aws_chunked_t *c);
/* Total decoded payload bytes so far. */
uint64_t aws_chunked_decoded(const aws_chunked_t *c);
/* Trailer value by lowercase name (e.g. "x-amz-checksum-crc32"), SV_NULL if absent. Valid
 * after a successful finish, until free. */
sv_t aws_chunked_trailer(const aws_chunked_t *c, const char *name);

#endif
