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

#define MAX_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that reads past `size` are caught by ASan. */
    char *text = malloc(size ? size : 1);
    if (size)
        memcpy(text, data, size);
    sv_t field[3] = {SV_NULL, SV_NULL, SV_NULL};
    kv_t headers[MAX_HEADERS];
    size_t nh = 0, start = 0, line = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && text[i] != '\n')
            continue;
        sv_t l = {text + start, i - start};
        if (line < 3) {
            field[line] = l;
        } else if (nh < MAX_HEADERS) {
            const char *colon = l.len ? memchr(l.p, ':', l.len) : NULL;
            if (colon) {
                headers[nh].name = (sv_t){l.p, (size_t)(colon - l.p)};
                headers[nh].value = (sv_t){colon + 1, l.len - (size_t)(colon - l.p) - 1};
            } else {
                headers[nh].name = l;
                headers[nh].value = (sv_t){l.p + l.len, 0};
            }
            nh++;
        }
        line++;
        start = i + 1;
    }
    sigv4_req_t r = {field[0], field[1], field[2], headers, nh};

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
