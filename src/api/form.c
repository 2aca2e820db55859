/* Form decoding: split on '&', then on the first '=', then percent-decode each half into the
 * arena. Limits are checked before any allocation proportional to the input. */
#include "api/form.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int decode(arena_t *a, sv_t s, sv_t *out)
{
    char *d = arena_alloc(a, s.len + 1);
    long n = sv_url_decode(s, d, true);
    if (n < 0)
        return -1;
    d[n] = 0;
    *out = (sv_t){d, (size_t)n};
    return 0;
}

int form_parse(arena_t *a, sv_t src, form_t *out)
{
    out->kv = NULL;
    out->n = 0;
    if (src.len > FORM_MAX_BYTES)
        return -1;
    size_t pairs = 0;
    for (size_t i = 0; i < src.len; i++)
        if (src.p[i] == '&')
            pairs++;
    pairs++;
    if (pairs > FORM_MAX_PARAMS + 64) /* a few empty pairs are tolerated */
        return -1;
    out->kv = arena_calloc(a, pairs, sizeof *out->kv);
    sv_t rest = src;
    while (rest.len) {
        sv_t pair;
        bool found;
        rest = sv_split(rest, '&', &pair, &found);
        if (!found)
            rest = SV_NULL;
        if (pair.len == 0)
            continue;
        sv_t name;
        bool eq;
        sv_t value = sv_split(pair, '=', &name, &eq);
        if (out->n >= FORM_MAX_PARAMS)
            return -1;
        kv_t *kv = &out->kv[out->n];
        if (decode(a, name, &kv->name) < 0 || decode(a, eq ? value : SV(""), &kv->value) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

sv_t form_get(const form_t *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (sv_eq_cstr(f->kv[i].name, name))
            return f->kv[i].value;
    return SV_NULL;
}

sv_t form_getf(const form_t *f, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof name)
        return SV_NULL;
    return form_get(f, name);
}

bool form_has(const form_t *f, const char *name)
{
    return form_get(f, name).p != NULL;
}
