/* libFuzzer: form_parse (Query-protocol bodies). Checks that every decoded name and value is
 * NUL-terminated at its length and that lookups of what was parsed find a pair. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/form.h"
#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    memcpy(in, data, size);
    arena_t *a = arena_new();
    form_t f;
    if (form_parse(a, (sv_t){in, size}, &f) == 0) {
        if (f.n > FORM_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < f.n; i++) {
            if (f.kv[i].name.p[f.kv[i].name.len] != 0 || f.kv[i].value.p[f.kv[i].value.len] != 0)
                abort();
            if (f.kv[i].name.len > size || f.kv[i].value.len > size)
                abort();
        }
        (void)form_get(&f, "Action");
        (void)form_getf(&f, "Tags.member.%d.Key", 1);
    }
    arena_free(a);
    free(in);
    return 0;
}
