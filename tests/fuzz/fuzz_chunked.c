/* libFuzzer target for auth/chunked: an arbitrary body fed to the aws-chunked decoder in
 * pieces whose sizes the input also chooses, so every split point gets exercised.
 *
 * Input layout: byte 0 = mode (bit 0: signed chunks, bit 1: trailer expected), byte 1 = piece
 * size seed, then the body. Signed mode chains from the AWS streaming example's seed and key,
 * so the committed corpus can carry bodies with valid signatures. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/chunked.h"
#include "core/err.h"

static int sink(void *ctx, const char *p, size_t n)
{
    /* Touch every emitted byte so ASan checks the slice bounds. */
    uint8_t *acc = ctx;
    for (size_t i = 0; i < n; i++)
        *acc ^= (uint8_t)p[i];
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool sig = data[0] & 1, trailer = data[0] & 2;
    size_t piece = (size_t)data[1] + 1;
    size_t n = size - 2;
    char *body = malloc(n ? n : 1);
    if (n)
        memcpy(body, data + 2, n);

    sigv4_result_t r;
    memset(&r, 0, sizeof r);
    sigv4_signing_key(SV("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), SV("20130524"), SV("us-east-1"),
                      SV("s3"), r.signing_key);
    memcpy(r.seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", 65);
    memcpy(r.scope, "20130524/us-east-1/s3/aws4_request", sizeof "20130524/us-east-1/s3/aws4_request");

    aws_chunked_t *c = aws_chunked_new(sig, trailer, &r, SV("20130524T000000Z"));
    uint8_t acc = 0;
    int rc = 0;
    size_t at = 0, k = 0;
    while (at < n && rc == 0) {
        /* piece sizes vary: 1..piece, cycling */
        size_t take = 1 + (k++ * 7919) % piece;
        if (take > n - at)
            take = n - at;
        rc = aws_chunked_feed(c, body + at, take, sink, &acc);
        at += take;
    }
    int frc = aws_chunked_finish(c);
    if (rc != 0 && frc != rc)
        abort(); /* errors are sticky */
    if (frc == 0) {
        (void)aws_chunked_trailer(c, "x-amz-checksum-crc32");
        (void)aws_chunked_decoded(c);
    }
    aws_chunked_free(c);
    free(body);
    return 0;
}
