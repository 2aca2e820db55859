/* Fuzz input -> request view, for the auth targets. Lines split on '\n': method, raw path,
 * raw query, then "Name:value" header lines (a line without ':' is a header with an empty
 * value); at most FUZZ_MAX_HEADERS headers. The views point into text. */
#ifndef STRATA_FUZZ_REQ_H
#define STRATA_FUZZ_REQ_H
#include <string.h>

#include "auth/sigv4.h"

#define FUZZ_MAX_HEADERS 64

static sigv4_req_t fuzz_request(const char *text, size_t size, kv_t headers[FUZZ_MAX_HEADERS])
{
    sv_t field[3] = {SV_NULL, SV_NULL, SV_NULL};
    size_t nh = 0, start = 0, line = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && text[i] != '\n')
            continue;
        sv_t l = {text + start, i - start};
        if (line < 3) {
            field[line] = l;
        } else if (nh < FUZZ_MAX_HEADERS) {
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
    return (sigv4_req_t){field[0], field[1], field[2], headers, nh};
}
#endif
