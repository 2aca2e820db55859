#include "core/str.h"
#include "core/buf.h"

#include <string.h>
#include <strings.h>

sv_t sv_from_cstr(const char *s)
{
    return s ? (sv_t){s, strlen(s)} : SV_NULL;
}

bool sv_eq(sv_t a, sv_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool sv_eq_cstr(sv_t a, const char *s)
{
    return sv_eq(a, sv_from_cstr(s));
}

bool sv_caseeq_cstr(sv_t a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && (n == 0 || strncasecmp(a.p, s, n) == 0);
}

bool sv_starts_with(sv_t a, sv_t prefix)
{
    return a.len >= prefix.len && (prefix.len == 0 || memcmp(a.p, prefix.p, prefix.len) == 0);
}

int sv_cmp(sv_t a, sv_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

sv_t sv_trim(sv_t a)
{
    while (a.len && (a.p[0] == ' ' || a.p[0] == '\t')) {
        a.p++;
        a.len--;
    }
    while (a.len && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t'))
        a.len--;
    return a;
}

sv_t sv_split(sv_t a, char sep, sv_t *head, bool *found)
{
    const char *q = a.len ? memchr(a.p, sep, a.len) : NULL;
    if (!q) {
        *head = a;
        if (found)
            *found = false;
        return SV_NULL;
    }
    *head = (sv_t){a.p, (size_t)(q - a.p)};
    if (found)
        *found = true;
    return (sv_t){q + 1, a.len - (size_t)(q - a.p) - 1};
}

int sv_to_u64(sv_t a, uint64_t *out)
{
    uint64_t v = 0;
    if (a.len == 0 || a.len > 20)
        return -1;
    for (size_t i = 0; i < a.len; i++) {
        if (a.p[i] < '0' || a.p[i] > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(a.p[i] - '0'), &v))
            return -1;
    }
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long sv_url_decode(sv_t src, char *dst, bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < src.len; i++) {
        char c = src.p[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= src.len)
                return -1;
            h = hexval(src.p[i + 1]);
            l = hexval(src.p[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            dst[o++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            dst[o++] = ' ';
        } else {
            dst[o++] = c;
        }
    }
    return (long)o;
}

void sv_uri_encode(struct buf *out, sv_t src, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < src.len; i++) {
        unsigned char c = (unsigned char)src.p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
            buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}
