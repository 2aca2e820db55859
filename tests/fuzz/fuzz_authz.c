/* libFuzzer: the pure parsers of api/authz on arbitrary bytes. The first byte picks one:
 * 'P' PublicAccessBlockConfiguration XML (authz_pab_parse), 'X' an X-Forwarded-For value
 * behind a trusted proxy (authz_source_ip), 'T' a trusted-proxy list, anything else an Object
 * Ownership name. Checks: results are 0 or the documented errors; a client address is always a
 * NUL-terminated string of fewer than 64 bytes that is either the peer or an address from
 * the header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/authz.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        init = 1;
        if (authz_set_trusted_proxies("127.0.0.1,10.0.0.0/8,::1") != 0)
            abort();
    }
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0]) {
    case 'P': {
        authz_pab_t pab;
        int rc = authz_pab_parse(p, n, &pab);
        if (rc != 0 && rc != -SE_MALFORMED_XML)
            abort();
        break;
    }
    case 'X': {
        char out[64];
        authz_source_ip("127.0.0.1", (sv_t){p, n}, out);
        size_t len = strnlen(out, sizeof out);
        if (len == sizeof out)
            abort();
        if (strcmp(out, "127.0.0.1") != 0 && !memmem(p, n, out, len))
            abort();
        break;
    }
    case 'T': {
        char *s = strndup(p, n);
        int rc = authz_set_trusted_proxies(s);
        if (rc != 0 && rc != -22 /* EINVAL */)
            abort();
        free(s);
        if (authz_set_trusted_proxies("127.0.0.1,10.0.0.0/8,::1") != 0)
            abort();
        break;
    }
    default: {
        enum authz_ownership o;
        if (authz_ownership_parse((sv_t){p, n}, &o) == 0 &&
            strlen(authz_ownership_name(o)) != n)
            abort();
        break;
    }
    }
    return 0;
}
