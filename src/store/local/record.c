/* Object records: the versioned binary encoding of store_obj_t plus its data layout.
 *
 *   u8  format (1)
 *   u32 meta_len (LE)
 *   meta_len bytes of TLVs: varint tag, varint length, value; unknown tags are skipped, so
 *       later versions add fields without a format change; repeated tags (attrs, tags) keep
 *       their order
 *   u32 CRC32C of everything above (LE)
 *   inline objects only: the data (size bytes), then u32 CRC32C of the data
 *
 * The metadata CRC is checked on every decode (listing included); the inline data CRC is checked
 * by the reader, so a HEAD or a listing never touches the data bytes. Decoding is written for
 * untrusted input: every length is checked against what remains before use, and a bad record
 * yields -SE_CORRUPT, never a crash (tests/fuzz/fuzz_record.c).
 */
#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "store/local/local_int.h"

enum {
    T_KEY = 1,
    T_SIZE = 2,
    T_MTIME = 3,
    T_ETAG = 4,
    T_CLASS = 5,
    T_VERSION = 6,
    T_DELMARK = 7,
    T_OWNER = 8,
    T_ATTR = 9,
    T_TAG = 10,
    T_CKALGO = 11,
    T_CKSUM = 12,
    T_EXTRA = 13,
    T_LAYOUT = 14,
    T_FILEID = 15,
    T_SEGSIZE = 16,
    T_PARTS = 17, /* manifest: varint count, then per part: file id(16) + varint size */
    T_ACL = 20, /* upload records: the API's ACL document for the completed object */
    T_PARTINFO = 18, /* manifest: varint count, varint flags (bit 0: checksums), then per part:
                      * varint part number [, varint length + checksum string] */
    T_CKTYPE = 19,
};

#define REC_FMT 1
#define REC_HDR 5

static void put_varint(buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    buf_append(b, tmp, n);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_bytes(buf_t *b, unsigned tag, const void *p, size_t n)
{
    put_varint(b, tag);
    put_varint(b, n);
    buf_append(b, p, n);
}

static void put_str(buf_t *b, unsigned tag, const char *s)
{
    size_t n = strnlen(s, 4096);
    if (n)
        put_bytes(b, tag, s, n);
}

static void put_u64(buf_t *b, unsigned tag, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(b, tag, tmp, n);
}

static void put_kv(buf_t *b, unsigned tag, const kv_t *kv)
{
    buf_t t = BUF_INIT;
    put_varint(&t, kv->name.len);
    buf_append(&t, kv->name.p, kv->name.len);
    buf_append(&t, kv->value.p, kv->value.len);
    put_bytes(b, tag, t.p, t.len);
    buf_release(&t);
}

void ls_rec_encode(buf_t *out, const store_obj_t *o, const ls_layout_t *l, const void *data)
{
    size_t start = out->len;
    uint8_t hdr[REC_HDR] = {REC_FMT, 0, 0, 0, 0};
    buf_append(out, hdr, sizeof hdr);
    put_bytes(out, T_KEY, o->key, o->key_len);
    put_u64(out, T_SIZE, o->size);
    put_u64(out, T_MTIME, (uint64_t)o->mtime_ms);
    put_str(out, T_ETAG, o->etag);
    put_str(out, T_CLASS, o->storage_class);
    put_str(out, T_VERSION, o->version_id);
    if (o->delete_marker)
        put_u64(out, T_DELMARK, 1);
    put_str(out, T_OWNER, o->owner);
    for (size_t i = 0; i < o->nattrs; i++)
        put_kv(out, T_ATTR, &o->attrs[i]);
    for (size_t i = 0; i < o->ntags; i++)
        put_kv(out, T_TAG, &o->tags[i]);
    put_str(out, T_CKALGO, o->checksum_algo);
    put_str(out, T_CKSUM, o->checksum);
    put_str(out, T_CKTYPE, o->checksum_type);
    if (o->extra.len)
        put_bytes(out, T_EXTRA, o->extra.p, o->extra.len);
    if (o->acl.len)
        put_bytes(out, T_ACL, o->acl.p, o->acl.len);
    put_u64(out, T_LAYOUT, (uint64_t)l->kind);
    if (l->kind == LS_FILE) {
        put_bytes(out, T_FILEID, l->file_id, LS_ID_LEN);
        put_u64(out, T_SEGSIZE, l->seg_size);
    } else if (l->kind == LS_MANIFEST) {
        put_u64(out, T_SEGSIZE, l->seg_size);
        buf_t m = BUF_INIT;
        put_varint(&m, l->nparts);
        for (uint32_t i = 0; i < l->nparts; i++) {
            buf_append(&m, l->parts[i].file_id, LS_ID_LEN);
            put_varint(&m, l->parts[i].size);
        }
        put_bytes(out, T_PARTS, m.p, m.len);
        buf_release(&m);
        if (l->pinfo_len)
            put_bytes(out, T_PARTINFO, l->pinfo, l->pinfo_len);
    }
    size_t meta_len = out->len - start - REC_HDR;
    put_le32((uint8_t *)out->p + start + 1, (uint32_t)meta_len);
    uint8_t crc[4];
    put_le32(crc, crc32c(0, out->p + start, out->len - start));
    buf_append(out, crc, 4);
    if (l->kind == LS_INLINE) {
        if (o->size)
            buf_append(out, data, (size_t)o->size);
        put_le32(crc, crc32c(0, data, (size_t)o->size));
        buf_append(out, crc, 4);
    }
}

/* Reads a varint from [*p, end); -1 if truncated or longer than 64 bits. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t c = *(*p)++;
        if (shift == 63 && c > 1)
            return -1;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int val_u64(const uint8_t *v, size_t n, uint64_t *out)
{
    const uint8_t *p = v;
    if (get_varint(&p, v + n, out) < 0 || p != v + n)
        return -1;
    return 0;
}

static int val_str(const uint8_t *v, size_t n, char *dst, size_t dstsz)
{
    if (n >= dstsz || memchr(v, 0, n))
        return -1;
    memcpy(dst, v, n);
    dst[n] = 0;
    return 0;
}

static int val_kv(arena_t *a, const uint8_t *v, size_t n, kv_t *kv)
{
    const uint8_t *p = v, *end = v + n;
    uint64_t nl;
    if (get_varint(&p, end, &nl) < 0 || nl > (uint64_t)(end - p))
        return -1;
    kv->name.p = arena_strndup(a, (const char *)p, (size_t)nl);
    kv->name.len = (size_t)nl;
    p += nl;
    kv->value.p = arena_strndup(a, (const char *)p, (size_t)(end - p));
    kv->value.len = (size_t)(end - p);
    return 0;
}

int ls_rec_decode(const void *buf, size_t n, unsigned flags, arena_t *a, store_obj_t *o,
                  ls_layout_t *l)
{
    const uint8_t *b = buf;
    memset(o, 0, sizeof *o);
    memset(l, 0, sizeof *l);
    if (n < REC_HDR + 4 || b[0] != REC_FMT)
        return -SE_CORRUPT;
    uint32_t meta_len = get_le32(b + 1);
    if (meta_len > n - REC_HDR - 4)
        return -SE_CORRUPT;
    size_t meta_end = REC_HDR + (size_t)meta_len;
    if (!(flags & LS_REC_NOCRC) && crc32c(0, b, meta_end) != get_le32(b + meta_end))
        return -SE_CORRUPT;

    const uint8_t *end = b + meta_end;
    size_t nattrs = 0, ntags = 0;
    bool have_key = false, have_size = false;
    uint64_t kind = LS_INLINE, segsz = 0;
    bool have_fid = false;
    const uint8_t *parts_v = NULL;
    size_t parts_n = 0;
    /* Pass 1: scalars, and counts of the repeated fields. */
    for (const uint8_t *p = b + REC_HDR; p < end;) {
        uint64_t tag, len;
        if (get_varint(&p, end, &tag) < 0 || get_varint(&p, end, &len) < 0 ||
            len > (uint64_t)(end - p))
            return -SE_CORRUPT;
        const uint8_t *v = p;
        size_t vn = (size_t)len;
        p += vn;
        uint64_t u = 0;
        int bad = 0;
        switch (tag) {
        case T_KEY:
            if (vn > LS_KEY_MAX)
                return -SE_CORRUPT;
            o->key = arena_strndup(a, (const char *)v, vn);
            o->key_len = vn;
            have_key = true;
            break;
        case T_SIZE:
            bad = val_u64(v, vn, &o->size);
            have_size = !bad;
            break;
        case T_MTIME:
            bad = val_u64(v, vn, &u);
            o->mtime_ms = (int64_t)u;
            break;
        case T_ETAG:
            bad = val_str(v, vn, o->etag, sizeof o->etag);
            break;
        case T_CLASS:
            bad = val_str(v, vn, o->storage_class, sizeof o->storage_class);
            break;
        case T_VERSION:
            bad = val_str(v, vn, o->version_id, sizeof o->version_id);
            break;
        case T_DELMARK:
            bad = val_u64(v, vn, &u);
            o->delete_marker = u != 0;
            break;
        case T_OWNER:
            bad = val_str(v, vn, o->owner, sizeof o->owner);
            break;
        case T_ATTR:
            nattrs++;
            break;
        case T_TAG:
            ntags++;
            break;
        case T_CKALGO:
            bad = val_str(v, vn, o->checksum_algo, sizeof o->checksum_algo);
            break;
        case T_CKSUM:
            bad = val_str(v, vn, o->checksum, sizeof o->checksum);
            break;
        case T_CKTYPE:
            bad = val_str(v, vn, o->checksum_type, sizeof o->checksum_type);
            break;
        case T_EXTRA:
            o->extra.p = arena_strndup(a, (const char *)v, vn);
            o->extra.len = vn;
            break;
        case T_ACL:
            if (!(flags & LS_REC_NOATTRS)) {
                o->acl.p = arena_strndup(a, (const char *)v, vn);
                o->acl.len = vn;
            }
            break;
        case T_LAYOUT:
            bad = val_u64(v, vn, &kind);
            break;
        case T_FILEID:
            if (vn != LS_ID_LEN)
                return -SE_CORRUPT;
            memcpy(l->file_id, v, LS_ID_LEN);
            have_fid = true;
            break;
        case T_SEGSIZE:
            bad = val_u64(v, vn, &segsz);
            break;
        case T_PARTS:
            parts_v = v;
            parts_n = vn;
            break;
        case T_PARTINFO: /* checked when read (ls_rec_parts_page) */
            l->pinfo = v;
            l->pinfo_len = vn;
            break;
        default: /* a newer writer's field: skip */
            break;
        }
        if (bad)
            return -SE_CORRUPT;
    }
    if (!have_key || !have_size)
        return -SE_CORRUPT;

    size_t tail = n - meta_end - 4;
    if (kind == LS_INLINE) {
        if (o->size > tail || tail - o->size != 4)
            return -SE_CORRUPT;
        l->kind = LS_INLINE;
        l->inline_data = b + meta_end + 4;
        l->inline_crc = get_le32(b + meta_end + 4 + o->size);
    } else if (kind == LS_FILE) {
        if (tail != 0 || !have_fid || segsz == 0 || segsz > (1u << 24))
            return -SE_CORRUPT;
        l->kind = LS_FILE;
        l->seg_size = (uint32_t)segsz;
    } else if (kind == LS_MANIFEST) {
        if (tail != 0 || !parts_v || segsz == 0 || segsz > (1u << 24))
            return -SE_CORRUPT;
        const uint8_t *p = parts_v, *pe = parts_v + parts_n;
        uint64_t cnt, off = 0;
        /* each part takes at least LS_ID_LEN + 1 bytes: bounds the allocation */
        if (get_varint(&p, pe, &cnt) < 0 || cnt == 0 || cnt > (uint64_t)(pe - p) / (LS_ID_LEN + 1))
            return -SE_CORRUPT;
        bool build = !(flags & LS_REC_NOPARTS);
        l->parts = build ? arena_calloc(a, (size_t)cnt, sizeof *l->parts) : NULL;
        uint64_t *sizes = build ? arena_calloc(a, (size_t)cnt, sizeof *sizes) : NULL;
        for (uint64_t i = 0; i < cnt; i++) {
            uint64_t psize;
            if ((size_t)(pe - p) < LS_ID_LEN)
                return -SE_CORRUPT;
            const uint8_t *fid = p;
            p += LS_ID_LEN;
            if (get_varint(&p, pe, &psize) < 0 || psize > o->size - off)
                return -SE_CORRUPT;
            if (build) {
                memcpy(l->parts[i].file_id, fid, LS_ID_LEN);
                l->parts[i].size = psize;
                l->parts[i].off = off;
                sizes[i] = psize;
            }
            off += psize;
        }
        if (p != pe || off != o->size)
            return -SE_CORRUPT;
        l->kind = LS_MANIFEST;
        l->seg_size = (uint32_t)segsz;
        l->nparts = (uint32_t)cnt;
        o->nparts = (uint32_t)cnt;
        o->part_sizes = sizes;
    } else {
        return -SE_CORRUPT;
    }

    if ((flags & LS_REC_NOATTRS) || (nattrs == 0 && ntags == 0))
        return 0;
    /* Pass 2: attrs and tags, in their stored order. */
    o->attrs = nattrs ? arena_calloc(a, nattrs, sizeof *o->attrs) : NULL;
    o->tags = ntags ? arena_calloc(a, ntags, sizeof *o->tags) : NULL;
    for (const uint8_t *p = b + REC_HDR; p < end;) {
        uint64_t tag, len;
        /* already validated in pass 1 */
        if (get_varint(&p, end, &tag) < 0 || get_varint(&p, end, &len) < 0)
            return -SE_CORRUPT;
        const uint8_t *v = p;
        p += len;
        if (tag == T_ATTR && val_kv(a, v, (size_t)len, &o->attrs[o->nattrs++]) < 0)
            return -SE_CORRUPT;
        if (tag == T_TAG && val_kv(a, v, (size_t)len, &o->tags[o->ntags++]) < 0)
            return -SE_CORRUPT;
    }
    return 0;
}

/* ---- a manifest's part numbers and checksums ---------------------------------------------- */
void ls_rec_parts_encode(buf_t *out, const uint32_t *numbers, const char *const *cks, size_t n)
{
    put_varint(out, n);
    put_varint(out, cks ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        put_varint(out, numbers[i]);
        if (cks) {
            size_t len = strnlen(cks[i], 95);
            put_varint(out, len);
            buf_append(out, cks[i], len);
        }
    }
}

int ls_rec_parts_page(const ls_layout_t *l, uint32_t marker, bool by_pos, size_t max,
                      arena_t *a, store_obj_parts_t *out)
{
    memset(out, 0, sizeof *out);
    out->next_marker = by_pos ? 0 : marker;
    if (l->kind != LS_MANIFEST || l->nparts == 0)
        return 0;
    if (!l->parts)
        return -EINVAL; /* decoded with LS_REC_NOPARTS */
    if (max > 1000)
        max = 1000;
    out->parts = arena_calloc(a, max ? max : 1, sizeof *out->parts);
    bool have = l->pinfo && l->pinfo_len > 0;
    const uint8_t *p = l->pinfo, *pe = have ? l->pinfo + l->pinfo_len : NULL;
    uint64_t cnt = l->nparts, flags = 0, prev = 0;
    if (have && (get_varint(&p, pe, &cnt) < 0 || cnt != l->nparts ||
                 get_varint(&p, pe, &flags) < 0 || flags > 1))
        return -SE_CORRUPT;
    for (uint32_t i = 0; i < l->nparts; i++) {
        uint64_t pn = (uint64_t)i + 1, ckn = 0;
        const uint8_t *ck = NULL;
        if (have) {
            if (get_varint(&p, pe, &pn) < 0 || pn <= prev || pn > UINT32_MAX)
                return -SE_CORRUPT;
            if (flags & 1) {
                if (get_varint(&p, pe, &ckn) < 0 || ckn > (uint64_t)(pe - p) || ckn > 95 ||
                    memchr(p, 0, (size_t)ckn))
                    return -SE_CORRUPT;
                ck = p;
                p += ckn;
            }
        }
        prev = pn;
        if (by_pos ? i < marker : pn <= marker)
            continue;
        if (out->nparts == max) {
            out->truncated = max > 0;
            return 0;
        }
        store_obj_part_t *op = &out->parts[out->nparts++];
        op->part_number = (uint32_t)pn;
        op->size = l->parts[i].size;
        op->checksum = ck ? arena_strndup(a, (const char *)ck, (size_t)ckn) : NULL;
        out->next_marker = (uint32_t)pn;
    }
    return have && p != pe ? -SE_CORRUPT : 0;
}
