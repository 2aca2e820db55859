/* Streaming multipart/form-data (see postform.h).
 *
 * The body is "--B" CRLF part ... CRLF "--B" CRLF part ... CRLF "--B--" [epilogue]; a part is
 * header lines, an empty line, then bytes up to the next CRLF "--B". The scanner looks for the
 * delimiter "\r\n--B" only: the stream is treated as if a CRLF preceded it, so the first "--B"
 * is found the same way, and everything before it (the preamble) is dropped.
 *
 * Why the match is simple: '\r' occurs in the delimiter only at its first byte (a boundary
 * has no control characters), so after a failed partial match the bytes held back are plain
 * data and the search restarts at the current byte; no KMP table is needed. Part bodies are
 * passed on in the pieces they arrived in, less a held-back tail of at most dlen-1 bytes.
 */
#include "s3/postform.h"

#include <string.h>

#include "core/err.h"

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last). */
static bool bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static bool ieq_prefix(sv_t s, const char *pfx)
{
    size_t n = strlen(pfx);
    return s.len >= n && sv_caseeq_cstr((sv_t){s.p, n}, pfx);
}

/* The value of parameter `name` in "type; a=b; c="d"" (quotes removed, backslash escapes kept
 * as written). *found false if absent. */
static sv_t header_param(sv_t v, const char *name, bool *found)
{
    *found = false;
    size_t nl = strlen(name);
    size_t i = 0;
    /* skip the first token (the type or disposition) */
    while (i < v.len && v.p[i] != ';')
        i++;
    while (i < v.len) {
        i++; /* ';' */
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        size_t ns = i;
        while (i < v.len && v.p[i] != '=' && v.p[i] != ';')
            i++;
        sv_t pn = sv_trim((sv_t){v.p + ns, i - ns});
        sv_t val = SV("");
        if (i < v.len && v.p[i] == '=') {
            i++;
            while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
                i++;
            if (i < v.len && v.p[i] == '"') {
                size_t vs = ++i;
                while (i < v.len && v.p[i] != '"') {
                    if (v.p[i] == '\\' && i + 1 < v.len)
                        i++;
                    i++;
                }
                val = (sv_t){v.p + vs, i - vs};
                if (i < v.len)
                    i++; /* closing quote */
                while (i < v.len && v.p[i] != ';')
                    i++;
            } else {
                size_t vs = i;
                while (i < v.len && v.p[i] != ';')
                    i++;
                val = sv_trim((sv_t){v.p + vs, i - vs});
            }
        }
        if (pn.len == nl && sv_caseeq_cstr(pn, name)) {
            *found = true;
            return val;
        }
    }
    return SV_NULL;
}

int postform_boundary(sv_t ct, sv_t *boundary)
{
    ct = sv_trim(ct);
    if (!ieq_prefix(ct, "multipart/form-data"))
        return -1;
    sv_t rest = {ct.p + 19, ct.len - 19};
    if (rest.len && rest.p[0] != ';' && rest.p[0] != ' ' && rest.p[0] != '\t')
        return -1;
    bool found;
    sv_t b = header_param(ct, "boundary", &found);
    if (!found || b.len == 0 || b.len > POSTFORM_MAX_BOUNDARY || b.p[b.len - 1] == ' ')
        return -1;
    for (size_t i = 0; i < b.len; i++)
        if (!bchar(b.p[i]))
            return -1;
    *boundary = b;
    return 0;
}

void postform_init(postform_t *f, sv_t boundary, const postform_cb_t *cb, void *ud)
{
    memset(f, 0, sizeof *f);
    size_t bl = boundary.len < POSTFORM_MAX_BOUNDARY ? boundary.len : POSTFORM_MAX_BOUNDARY;
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary.p, bl);
    f->dlen = 4 + bl;
    f->match = 2; /* as if the body began with CRLF: "--B" at offset 0 is a delimiter */
    f->state = PF_PREAMBLE;
    f->cb = *cb;
    f->ud = ud;
}

/* Parses the header block hdr[0..hlen) (without the final empty line) into f->part. */
static int parse_part_headers(postform_t *f)
{
    f->part = (postform_part_t){SV_NULL, SV_NULL, SV_NULL};
    sv_t rest = {f->hdr, f->hlen};
    bool disp = false;
    while (rest.len) {
        const char *nl = memchr(rest.p, '\n', rest.len);
        size_t ll = nl ? (size_t)(nl - rest.p) : rest.len;
        sv_t line = {rest.p, ll};
        rest = nl ? (sv_t){nl + 1, rest.len - ll - 1} : (sv_t){rest.p + ll, 0};
        if (line.len && line.p[line.len - 1] == '\r')
            line.len--;
        if (line.len == 0)
            continue;
        const char *colon = memchr(line.p, ':', line.len);
        if (!colon)
            return -SE_MALFORMED_POST_REQUEST;
        sv_t name = sv_trim((sv_t){line.p, (size_t)(colon - line.p)});
        sv_t value = sv_trim((sv_t){colon + 1, line.len - (size_t)(colon - line.p) - 1});
        if (sv_caseeq_cstr(name, "content-disposition")) {
            if (disp || !ieq_prefix(value, "form-data"))
                return -SE_MALFORMED_POST_REQUEST;
            disp = true;
            bool found;
            f->part.name = header_param(value, "name", &found);
            if (!found || f->part.name.len == 0)
                return -SE_MALFORMED_POST_REQUEST;
            sv_t fn = header_param(value, "filename", &found);
            if (found)
                f->part.filename = fn.p ? fn : SV("");
        } else if (sv_caseeq_cstr(name, "content-type")) {
            f->part.content_type = value;
        }
    }
    return disp ? 0 : -SE_MALFORMED_POST_REQUEST;
}

/* Data of the current part (dropped in the preamble). */
static int emit(postform_t *f, const char *p, size_t n)
{
    if (n == 0 || f->state != PF_BODY || !f->cb.part_data)
        return 0;
    return f->cb.part_data(f->ud, p, n);
}

/* A whole delimiter was matched: the current part (if any) ends. */
static int delimiter_seen(postform_t *f)
{
    int rc = 0;
    if (f->state == PF_BODY && f->cb.part_end)
        rc = f->cb.part_end(f->ud);
    f->state = PF_AFTER_DELIM;
    f->after = 0;
    f->match = 0;
    return rc;
}

int postform_feed(postform_t *f, const char *p, size_t n)
{
    size_t i = 0;
    int rc;
    while (i < n) {
        switch (f->state) {
        case PF_DONE:
            return 0; /* the epilogue is ignored */
        case PF_AFTER_DELIM: {
            char c = p[i++];
            if (f->after == 0 && c == '-') {
                f->after = '-';
            } else if (f->after == '-') {
                if (c != '-')
                    return -SE_MALFORMED_POST_REQUEST;
                f->state = PF_DONE;
            } else if (f->after == '\r') {
                if (c != '\n')
                    return -SE_MALFORMED_POST_REQUEST;
                f->state = PF_HEADERS;
                f->hlen = 0;
            } else if (c == '\r') {
                f->after = '\r';
            } else if (c == ' ' || c == '\t') {
                f->after = ' '; /* transport padding before the CRLF */
            } else {
                return -SE_MALFORMED_POST_REQUEST;
            }
            break;
        }
        case PF_HEADERS: {
            /* up to and including the empty line (CRLF CRLF; bare LF LF tolerated) */
            while (i < n) {
                if (f->hlen == sizeof f->hdr)
                    return -SE_MALFORMED_POST_REQUEST;
                char c = p[i++];
                f->hdr[f->hlen++] = c;
                size_t h = f->hlen;
                bool end = (h >= 4 && memcmp(f->hdr + h - 4, "\r\n\r\n", 4) == 0) ||
                           (h >= 2 && memcmp(f->hdr + h - 2, "\n\n", 2) == 0) ||
                           (h == 2 && memcmp(f->hdr, "\r\n", 2) == 0);
                if (!end)
                    continue;
                if ((rc = parse_part_headers(f)) != 0)
                    return rc;
                f->state = PF_BODY;
                f->match = 0;
                if (f->cb.part_begin && (rc = f->cb.part_begin(f->ud, &f->part)) != 0)
                    return rc;
                break;
            }
            break;
        }
        case PF_PREAMBLE:
        case PF_BODY: {
            if (f->match > 0) {
                if (p[i] == f->delim[f->match]) {
                    i++;
                    if (++f->match == f->dlen && (rc = delimiter_seen(f)) != 0)
                        return rc;
                    break;
                }
                /* Not a delimiter: the held-back bytes were data. The preamble's pretend
                 * CRLF is not data. */
                size_t held = f->match;
                f->match = 0;
                if (f->state == PF_BODY && (rc = emit(f, f->delim, held)) != 0)
                    return rc;
                break; /* p[i] is looked at again, with no partial match */
            }
            const char *cr = memchr(p + i, '\r', n - i);
            size_t upto = cr ? (size_t)(cr - p) : n;
            if ((rc = emit(f, p + i, upto - i)) != 0)
                return rc;
            i = upto;
            if (cr) {
                f->match = 1;
                i++;
                if (f->dlen == 1 && (rc = delimiter_seen(f)) != 0)
                    return rc;
            }
            break;
        }
        }
    }
    return 0;
}

int postform_finish(const postform_t *f)
{
    return f->state == PF_DONE ? 0 : -SE_MALFORMED_POST_REQUEST;
}
