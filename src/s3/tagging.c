/* s3/tagging: tag sets from the x-amz-tagging header and the Tagging XML, validated as S3 does.
 *
 * Character classes: S3 accepts keys and values matching ^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$. ASCII
 * is decided here; for other code points glibc's C.UTF-8 locale answers "alnum" (letters and
 * decimal digits of every script), and the Unicode space separators are listed explicitly (the
 * locale's "space" class leaves out U+00A0 and friends). Known gap: other-number characters
 * (U+00B2, U+00BD, U+2460...) are \p{N} but glibc files them as punctuation, so they are
 * refused. Without a C.UTF-8 locale every non-ASCII letter-like code point is accepted.
 * Lengths are counted in UTF-16 code units (an astral character counts twice), as S3 counts.
 */
#include "s3/tagging.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>

#include "core/err.h"
#include "s3/xml.h"

static const char MSG_HEADER[] = "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
                                 "URLEncoded URL query parameters without tag name duplicates.";
static const char MSG_KEY[] = "The TagKey you have provided is invalid";
static const char MSG_VALUE[] = "The TagValue you have provided is invalid";
static const char MSG_DUP[] = "Cannot provide multiple Tags with the same key";
static const char MSG_OBJ_COUNT[] = "Object tags cannot be greater than 10";
static const char MSG_BUCKET_COUNT[] = "Bucket tag count cannot be greater than 50";

static locale_t utf8_loc;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_loc_init(void)
{
    utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static bool is_space_sep(uint32_t cp)
{
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static bool cp_allowed(uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)cp;
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ' ' || strchr("_.:/=+-@", c) != NULL;
    }
    if (is_space_sep(cp))
        return true;
    pthread_once(&utf8_once, utf8_loc_init);
    if (utf8_loc == (locale_t)0)
        return true;
    return iswalnum_l((wint_t)cp, utf8_loc) != 0;
}

/* Decodes one UTF-8 sequence at p[i]; returns its length or 0 if malformed. */
static size_t utf8_next(const unsigned char *p, size_t n, size_t i, uint32_t *cp)
{
    unsigned c = p[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || i + len > n)
        return 0;
    uint32_t v = c & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[i + k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i + k] & 0x3F);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static bool utf8_ok(sv_t s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    uint32_t cp;
    for (size_t i = 0; i < s.len;) {
        size_t l = utf8_next(p, s.len, i, &cp);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

int tagging_check_text(sv_t s, size_t min, size_t max)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t units = 0;
    uint32_t cp;
    for (size_t i = 0; i < s.len;) {
        size_t l = utf8_next(p, s.len, i, &cp);
        if (!l || !cp_allowed(cp))
            return -1;
        units += cp > 0xFFFF ? 2 : 1;
        if (units > max)
            return -1;
        i += l;
    }
    return units < min ? -1 : 0;
}

static int fail(tag_err_t *err, int rc, const char *msg)
{
    err->rc = rc;
    err->msg = msg;
    return rc;
}

/* The checks shared by both forms, in S3's order: each tag's key, value and uniqueness, then
 * the count. Duplicate search is quadratic, so it stops looking past 1000 tags (the count
 * check refuses those anyway). */
static int check_set(const tag_set_t *s, size_t max, tag_err_t *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (tagging_check_text(s->tags[i].name, 1, TAGGING_KEY_MAX) != 0) {
            err->tag_key = s->tags[i].name;
            return fail(err, -SE_INVALID_TAG, MSG_KEY);
        }
        if (tagging_check_text(s->tags[i].value, 0, TAGGING_VALUE_MAX) != 0)
            return fail(err, -SE_INVALID_TAG, MSG_VALUE);
        for (size_t j = 0; j < i && s->n <= 1000; j++) {
            if (sv_eq(s->tags[j].name, s->tags[i].name)) {
                err->tag_key = s->tags[i].name;
                return fail(err, -SE_INVALID_TAG, MSG_DUP);
            }
        }
    }
    if (s->n > max)
        return fail(err, -SE_BAD_REQUEST, max == TAGGING_MAX_OBJECT ? MSG_OBJ_COUNT : MSG_BUCKET_COUNT);
    return 0;
}

static sv_t decode(arena_t *a, sv_t s, bool *ok)
{
    char *d = arena_alloc(a, s.len + 1);
    long n = sv_url_decode(s, d, true);
    if (n < 0) {
        *ok = false;
        return SV("");
    }
    d[n] = 0;
    return (sv_t){d, (size_t)n};
}

int tagging_parse_header(arena_t *a, sv_t hdr, size_t max, tag_set_t *out, tag_err_t *err)
{
    memset(err, 0, sizeof *err);
    out->tags = NULL;
    out->n = 0;
    size_t cap = 1;
    for (size_t i = 0; i < hdr.len; i++)
        cap += hdr.p[i] == '&';
    out->tags = arena_calloc(a, cap, sizeof *out->tags);
    sv_t rest = hdr, item;
    bool more = hdr.len > 0;
    while (more) {
        rest = sv_split(rest, '&', &item, &more);
        if (item.len == 0)
            continue;
        bool has_eq, ok = true;
        sv_t k, v = sv_split(item, '=', &k, &has_eq);
        if (has_eq && memchr(v.p, '=', v.len))
            ok = false; /* "a=b=c": a raw '=' must be percent-encoded */
        sv_t dk = decode(a, k, &ok), dv = has_eq ? decode(a, v, &ok) : SV("");
        if (!ok || !utf8_ok(dk) || !utf8_ok(dv))
            goto bad_header;
        for (size_t j = 0; j < out->n; j++)
            if (sv_eq(out->tags[j].name, dk))
                goto bad_header;
        out->tags[out->n++] = (kv_t){dk, dv};
    }
    return check_set(out, max, err);
bad_header:
    err->arg_name = "x-amz-tagging";
    err->arg_value = hdr;
    return fail(err, -SE_INVALID_ARGUMENT, MSG_HEADER);
}

int tagging_parse_xml(arena_t *a, const char *p, size_t n, size_t max, tag_set_t *out,
                      tag_err_t *err)
{
    int rc;
    memset(err, 0, sizeof *err);
    out->tags = NULL;
    out->n = 0;
    xml_node_t *root = xml_parse(a, p ? p : "", n, &rc);
    if (!root || !sv_eq_cstr(root->name, "Tagging"))
        return fail(err, -SE_MALFORMED_XML, NULL);
    xml_node_t *set = xml_child(root, "TagSet");
    if (!set)
        return fail(err, -SE_MALFORMED_XML, NULL);
    size_t cnt = 0;
    for (xml_node_t *t = xml_child(set, "Tag"); t; t = xml_next_named(t)) {
        if (!xml_child(t, "Key") || !xml_child(t, "Value"))
            return fail(err, -SE_MALFORMED_XML, NULL);
        cnt++;
    }
    out->tags = arena_calloc(a, cnt ? cnt : 1, sizeof *out->tags);
    for (xml_node_t *t = xml_child(set, "Tag"); t; t = xml_next_named(t))
        out->tags[out->n++] = (kv_t){xml_child_text(t, "Key"), xml_child_text(t, "Value")};
    return check_set(out, max, err);
}

void tagging_xml_tagset(buf_t *b, const kv_t *tags, size_t n)
{
    buf_puts(b, "<TagSet>");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<Tag><Key>");
        buf_xml_escape(b, tags[i].name);
        buf_puts(b, "</Key><Value>");
        buf_xml_escape(b, tags[i].value);
        buf_puts(b, "</Value></Tag>");
    }
    buf_puts(b, "</TagSet>");
}

void tagging_encode_header(buf_t *b, const kv_t *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, '&');
        sv_uri_encode(b, tags[i].name, false);
        buf_putc(b, '=');
        sv_uri_encode(b, tags[i].value, false);
    }
}
