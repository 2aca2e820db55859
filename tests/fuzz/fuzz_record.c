/* libFuzzer target for store/local record decoding (src/store/local/record.c): index records
 * are read back from disk, where a bad sector or a bug can leave any bytes at all.
 *
 * Input layout: byte 0 = mode (bit 0: skip the metadata CRC so the TLV parser itself is
 * reached, bit 1: skip attrs and tags as listings do, bit 2: no part table; the high bits pick
 * a part page), then the record. A record that decodes must re-encode to one that decodes
 * (with its CRC) to the same fields, and its part info pages or fails as corrupt. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "store/local/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = 0;
    if (data[0] & 1)
        flags |= LS_REC_NOCRC;
    if (data[0] & 2)
        flags |= LS_REC_NOATTRS;
    if (data[0] & 4)
        flags |= LS_REC_NOPARTS; /* listings: decode only (no part table to re-encode) */
    /* a private copy so ASan flags any read past the end */
    size_t n = size - 1;
    uint8_t *rec = malloc(n ? n : 1);
    memcpy(rec, data + 1, n);
    arena_t *a = arena_new();
    store_obj_t o;
    ls_layout_t l;
    if (ls_rec_decode(rec, n, flags, a, &o, &l) == 0 && !(flags & LS_REC_NOPARTS)) {
        uint8_t acc = 0;
        if (l.kind == LS_INLINE)
            for (uint64_t i = 0; i < o.size; i++) /* touch the inline bytes */
                acc ^= l.inline_data[i];
        for (size_t i = 0; i < o.nattrs; i++)
            acc ^= (uint8_t)(o.attrs[i].name.len + o.attrs[i].value.len);
        /* a manifest's part numbers and checksums are read lazily: page through them */
        store_obj_parts_t op;
        int prc = ls_rec_parts_page(&l, (uint32_t)(data[0] >> 4), (data[0] & 8) != 0,
                                    1 + (size_t)(data[0] >> 5), a, &op);
        if (prc != 0 && prc != -SE_CORRUPT)
            abort();
        for (size_t i = 0; prc == 0 && i < op.nparts; i++)
            acc ^= (uint8_t)(op.parts[i].size + (op.parts[i].checksum ? 1 : 0));
        buf_t b = BUF_INIT;
        ls_rec_encode(&b, &o, &l, l.inline_data);
        store_obj_t o2;
        ls_layout_t l2;
        if (ls_rec_decode(b.p, b.len, flags & LS_REC_NOATTRS, a, &o2, &l2) != 0 ||
            o2.size != o.size || o2.key_len != o.key_len ||
            memcmp(o2.key, o.key, o.key_len) != 0 || strcmp(o2.etag, o.etag) != 0 ||
            o2.nattrs != o.nattrs || o2.ntags != o.ntags || l2.kind != l.kind ||
            (l.kind == LS_INLINE && l2.inline_crc != crc32c(0, l.inline_data, (size_t)o.size)) ||
            (l.kind == LS_MANIFEST && (l2.nparts != l.nparts || o2.nparts != l.nparts ||
                                       memcmp(l2.parts, l.parts, l.nparts * sizeof *l.parts))))
            abort();
        buf_release(&b);
        (void)acc;
    }
    arena_free(a);
    free(rec);
    return 0;
}
