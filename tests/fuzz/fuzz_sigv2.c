/* libFuzzer target for auth/sigv2: arbitrary bytes become a request and go through
 * sigv2_parse() and, when it accepts them, every sigv2_string_to_sign() variant and
 * sigv2_verify() (with and without a virtual-hosted bucket).
 *
 * Input layout (lines split on '\n'): method, raw path, raw query, then "Name:value"
 * header lines (a line without ':' is a header with an empty value). If the request time is
 * rejected as skewed or expired, parse is retried at the request's own time so that fuzzing
 * reaches the canonicalisation and verification code too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv2.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that reads past `size` are caught by ASan. */
    char *text = malloc(size ? size : 1);
    if (size)
        memcpy(text, data, size);
    kv_t headers[FUZZ_MAX_HEADERS];
    sigv4_req_t r = fuzz_request(text, size, headers);

    sigv2_parsed_t p;
    const char *msg;
    int rc = sigv2_parse(&r, 1175024202, &p, &msg);
    if ((rc == -SE_REQUEST_TIME_SKEWED || rc == -SE_ACCESS_DENIED) && p.req_time)
        rc = sigv2_parse(&r, p.req_time, &p, &msg);
    if (rc == 0 && p.kind != SIGV2_NONE) {
        arena_t *a = arena_new();
        for (int v = 0; v < 8; v++) {
            buf_t b = BUF_INIT;
            sigv2_string_to_sign(&r, &p, v & 1 ? SV("bucket") : SV_NULL, v, a, &b);
            buf_release(&b);
        }
        rc = sigv2_verify(&r, &p, SV("bucket"), SV("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), a);
        if (rc != 0 && rc != -SE_SIGNATURE_MISMATCH)
            abort(); /* verify has no other outcome */
        arena_free(a);
    }
    free(text);
    return 0;
}
