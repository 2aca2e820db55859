/* libFuzzer: s3_route over (method, Host, raw path, raw query) and the bucket-name check.
 * Input: first byte picks the method; the rest is "host\npath\nquery" (missing parts empty). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "s3/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "get"};
    sv_t part[3] = {SV_NULL, SV_NULL, SV_NULL};
    if (size < 1)
        return 0;
    sv_t m = sv_from_cstr(methods[data[0] % (sizeof(methods) / sizeof(methods[0]))]);
    /* copy so reads past the end are caught by ASan */
    char *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    sv_t rest = {buf, size - 1};
    for (int i = 0; i < 3 && rest.p; i++) {
        bool found;
        rest = sv_split(rest, '\n', &part[i], &found);
        if (!found)
            break;
    }
    arena_t *a = arena_new();
    s3_route_t r;
    const char *base = (data[0] & 0x80) ? "s3.example.com" : NULL;
    int rc = s3_route(a, m, part[0], part[1], part[2], base, &r);
    if (rc == 0) {
        if ((unsigned)r.op >= S3_OP_COUNT || r.op == S3_OP_UNKNOWN)
            abort();
        if (r.has_key != (r.key.len > 0))
            abort();
        if (r.bucket.len == 0 && r.op != S3_OP_LIST_BUCKETS)
            abort();
        (void)s3_op_name(r.op);
    }
    if (rc == 0 || r.bucket.p) {
        for (size_t i = 0; i < r.nparams; i++)
            (void)s3_param(&r, r.params[i].name.p ? "uploadId" : "x", NULL);
        (void)s3_bucket_name_valid(r.bucket);
    }
    (void)s3_bucket_name_valid((sv_t){buf, size - 1});
    arena_free(a);
    free(buf);
    return 0;
}
