/* libFuzzer: s3/tagging on arbitrary bytes. The first byte picks the form ('H' or other even:
 * x-amz-tagging header; 'X'/odd: Tagging XML, object limit; 'B': XML with the bucket limit).
 * Checks: results are 0 or one of the documented errors; an accepted set obeys every limit
 * (count, lengths, characters, unique keys) and survives header encode -> parse unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "s3/tagging.h"

static void check_set(arena_t *a, const tag_set_t *ts, size_t max)
{
    if (ts->n > max)
        abort();
    for (size_t i = 0; i < ts->n; i++) {
        if (tagging_check_text(ts->tags[i].name, 1, TAGGING_KEY_MAX) != 0 ||
            tagging_check_text(ts->tags[i].value, 0, TAGGING_VALUE_MAX) != 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (sv_eq(ts->tags[i].name, ts->tags[j].name))
                abort();
    }
    buf_t b = BUF_INIT;
    tagging_encode_header(&b, ts->tags, ts->n);
    tag_set_t back;
    tag_err_t e;
    if (tagging_parse_header(a, buf_sv(&b), max, &back, &e) != 0 || back.n != ts->n)
        abort();
    for (size_t i = 0; i < ts->n; i++)
        if (!sv_eq(back.tags[i].name, ts->tags[i].name) || !sv_eq(back.tags[i].value, ts->tags[i].value))
            abort();
    buf_clear(&b);
    tagging_xml_tagset(&b, ts->tags, ts->n);
    buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char mode = (char)data[0];
    char *p = malloc(size);
    memcpy(p, data + 1, size - 1);
    arena_t *a = arena_new();
    tag_set_t ts;
    tag_err_t e;
    int rc;
    size_t max = mode == 'B' ? TAGGING_MAX_BUCKET : TAGGING_MAX_OBJECT;
    if (mode == 'H' || (mode != 'X' && mode != 'B' && (mode & 1) == 0))
        rc = tagging_parse_header(a, (sv_t){p, size - 1}, max, &ts, &e);
    else
        rc = tagging_parse_xml(a, p, size - 1, max, &ts, &e);
    if (rc == 0)
        check_set(a, &ts, max);
    else if (rc != -SE_INVALID_TAG && rc != -SE_BAD_REQUEST && rc != -SE_INVALID_ARGUMENT &&
             rc != -SE_MALFORMED_XML)
        abort();
    else if (rc != e.rc)
        abort();
    arena_free(a);
    free(p);
    return 0;
}
