/* libFuzzer: s3/acl on arbitrary bytes. The first byte picks the form ('H' or other even: an
 * x-amz-grant-* header value; odd: an AccessControlPolicy body). Checks: results are 0 or one
 * of the documented errors (with e.rc equal to the result); accepted grants never exceed
 * S3ACL_MAX_GRANTS, have a known kind and permission, lie inside the input or the arena, and a
 * group grant names one of the three groups. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "s3/acl.h"

static void check_grants(const s3acl_grant_t *g, size_t n)
{
    if (n > S3ACL_MAX_GRANTS)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned p = g[i].perm;
        if (p != S3ACL_READ && p != S3ACL_WRITE && p != S3ACL_READ_ACP && p != S3ACL_WRITE_ACP &&
            p != S3ACL_FULL_CONTROL)
            abort();
        int which;
        if (g[i].kind == S3ACL_URI && s3acl_group(g[i].value, &which) != 0)
            abort();
        if (g[i].kind != S3ACL_ID && g[i].kind != S3ACL_URI && g[i].kind != S3ACL_EMAIL)
            abort();
        if (g[i].value.len && !g[i].value.p)
            abort();
        volatile char sink = 0; /* touch every byte (ASan checks the view) */
        for (size_t k = 0; k < g[i].value.len; k++)
            sink ^= g[i].value.p[k];
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char mode = (char)data[0];
    char *p = malloc(size);
    memcpy(p, data + 1, size - 1);
    arena_t *a = arena_new();
    s3acl_grant_t g[S3ACL_MAX_GRANTS];
    size_t n = 0;
    s3acl_err_t e;
    int rc;
    if (mode == 'H' || (mode & 1) == 0) {
        rc = s3acl_parse_header((sv_t){p, size - 1}, "x-amz-grant-read", S3ACL_READ, g, &n, &e);
        if (rc == 0 || rc == -SE_INVALID_ARGUMENT) /* a second header appends after the first */
            (void)s3acl_parse_header((sv_t){p, size - 1}, "x-amz-grant-write", S3ACL_WRITE, g, &n,
                                     &e);
        if (rc != 0 && rc != -SE_INVALID_ARGUMENT)
            abort();
    } else {
        sv_t owner;
        rc = s3acl_parse_xml(a, p, size - 1, &owner, g, &n, &e);
        if (rc != 0 && rc != -SE_INVALID_ARGUMENT && rc != -SE_MALFORMED_ACL)
            abort();
        if (rc == 0 && (owner.len && !owner.p))
            abort();
    }
    if (rc != 0 && rc != e.rc)
        abort();
    check_grants(g, n);
    arena_free(a);
    free(p);
    return 0;
}
