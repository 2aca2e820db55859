/* libFuzzer target for auth/sigv4: arbitrary bytes become a request and go through
 * sigv4_parse() and, when it accepts them, sigv4_canonical_request() and sigv4_verify().
 *
 * Input layout (lines split on '\n'): method, raw path, raw query, then "Name:value"
 * header lines (a line without ':' is a header with an empty value). If the request time is
 * rejected as skewed or expired, parse is retried at the request's own time so that fuzzing
 * reaches the canonicalisation and verification code too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
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

    sigv4_parsed_t p;
    int rc = sigv4_parse(&r, 1369353600, &p);
    if ((rc == -SE_REQUEST_TIME_SKEWED || rc == -SE_ACCESS_DENIED) && p.req_time)
        rc = sigv4_parse(&r, p.req_time, &p);
    if (rc == 0 && p.kind != SIGV4_NONE) {
        buf_t b = BUF_INIT;
        sigv4_canonical_request(&r, &p, &b);
        buf_release(&b);
        arena_t *a = arena_new();
        sigv4_result_t res;
        rc = sigv4_verify(&r, &p, SV("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), a, &res);
        if (rc != 0 && rc != -SE_SIGNATURE_MISMATCH)
            abort(); /* verify has no other outcome */
        arena_free(a);
    }
    free(text);
    return 0;
}
