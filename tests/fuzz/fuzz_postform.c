/* libFuzzer target for s3/postform and s3/postpolicy (the two parsers of a POST Object body).
 *
 * Input: the first byte picks the target. Even: a multipart/form-data body (boundary "b7"),
 * fed in pieces whose sizes come from the second byte, then finished; the callbacks check
 * that data only arrives inside a part. Odd: a policy document (the rest, base64-encoded as
 * a client would send it) is parsed and, if it parses, checked against a fixed set of fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/hash.h"
#include "s3/postform.h"
#include "s3/postpolicy.h"

static int in_part;

static int f_begin(void *ud, const postform_part_t *p)
{
    if (in_part || p->name.len == 0)
        abort();
    in_part = 1;
    return 0;
}

static int f_data(void *ud, const char *p, size_t n)
{
    if (!in_part || n == 0)
        abort();
    return 0;
}

static int f_end(void *ud)
{
    if (!in_part)
        abort();
    in_part = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if ((data[0] & 1) == 0) {
        static const postform_cb_t cb = {f_begin, f_data, f_end};
        postform_t *f = malloc(sizeof *f);
        postform_init(f, SV("b7"), &cb, NULL);
        in_part = 0;
        size_t step = (size_t)data[1] % 17 + 1;
        const uint8_t *p = data + 2;
        size_t n = size - 2;
        char *copy = malloc(n ? n : 1); /* reads past the end are caught by ASan */
        memcpy(copy, p, n);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i += step)
            rc = postform_feed(f, copy + i, n - i < step ? n - i : step);
        if (rc == 0)
            (void)postform_finish(f);
        free(copy);
        free(f);
        return 0;
    }
    arena_t *a = arena_new();
    size_t n = size - 1;
    char *b64 = arena_alloc(a, n * 2 + 8);
    size_t bl = base64_encode(data + 1, n, b64);
    postpolicy_t *pp = malloc(sizeof *pp);
    const char *msg;
    if (postpolicy_parse(a, (sv_t){b64, bl}, pp, &msg) == 0) {
        kv_t fields[] = {{SV("key"), SV("u/1")}, {SV("Content-Type"), SV("a, b")},
                         {SV("acl"), SV("private")}, {SV("x-amz-meta-a"), SV("")}};
        (void)postpolicy_check(a, pp, 1700000000, fields, 4, SV("b"), &msg);
    } else if (!msg) {
        abort(); /* every refusal says why */
    }
    free(pp);
    arena_free(a);
    return 0;
}
