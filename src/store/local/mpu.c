/* Multipart uploads on the local backend: uploads, parts, complete as a manifest, manifest
 * reading, and the pins that keep a manifest reader's files from the GC.
 *
 * Index (docs/store.md):
 *   uploads  bid(8) + name part + upload id(16) -> upload record (an object record of size 0,
 *            inline layout: key, owner, attrs, tags, class, checksum algo and type (records
 *            written before the type was kept have none: the API applies S3's default);
 *            mtime = initiated)
 *   parts    upload id(16) + part number(4, BE) -> part record (an object record with an empty
 *            key: size, mtime, etag, checksum; file layout)
 * Upload id = sequence(8, BE, from sys "upload_seq") + random(8), shown as 32 hex chars, so a
 * key's uploads list in initiation order and a guessed id finds nothing.
 *
 * Parts are ordinary data files (always files, even when tiny, so that a manifest is a list of
 * files), referenced in refs from their part commit on: recovery keeps them, and a part whose
 * commit never happened is an orphan like any failed put. Replacing a part, aborting, deleting
 * the bucket, or leaving a part out of Complete queues the file for GC in the same transaction.
 *
 * Complete runs in the committer's transaction: checks every named part against the parts
 * database (ETag, sizes), encodes the object record with a LS_MANIFEST layout listing the
 * parts' file ids and sizes, and their part numbers and checksum values (T_PARTINFO, for
 * GetObjectAttributes; no data copied: O(parts)), installs it through ls_apply_put (the
 * same path as a PUT, so conditions, the old version's GC and later versioning apply
 * unchanged), then drops the upload and its part records. Nothing of it is visible unless the
 * whole transaction commits.
 *
 * Reading a manifest: the reader keeps the part table (file id, offset, size), finds a part by
 * binary search, keeps one part's fd open and one verified segment cached, so a range read
 * opens only the parts and reads only the segments it touches. Since parts are opened lazily
 * (an object may have 10,000), the reader pins every part's file id while open: GC skips a
 * pinned file (it stays queued), so a reader of an overwritten or deleted object still reads
 * it to the end, as with single files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

#define UPKEY_MAX (LS_LKEY_MAX + LS_ID_LEN)
#define PARTKEY_LEN (LS_ID_LEN + 4)

static void part_key(const uint8_t id[LS_ID_LEN], uint32_t pn, uint8_t out[PARTKEY_LEN])
{
    memcpy(out, id, LS_ID_LEN);
    out[LS_ID_LEN] = (uint8_t)(pn >> 24);
    out[LS_ID_LEN + 1] = (uint8_t)(pn >> 16);
    out[LS_ID_LEN + 2] = (uint8_t)(pn >> 8);
    out[LS_ID_LEN + 3] = (uint8_t)pn;
}

static size_t upload_key(uint64_t bid, sv_t key, const uint8_t id[LS_ID_LEN], uint8_t *out)
{
    size_t n = ls_lkey(bid, key.p, key.len, out);
    memcpy(out + n, id, LS_ID_LEN);
    return n + LS_ID_LEN;
}

/* 32 lowercase or uppercase hex characters -> 16 bytes; -SE_NO_SUCH_UPLOAD otherwise. */
static int parse_id(sv_t s, uint8_t id[LS_ID_LEN])
{
    if (s.len != 2 * LS_ID_LEN || hex_decode(s, id, LS_ID_LEN) != 0)
        return -SE_NO_SUCH_UPLOAD;
    return 0;
}

static int key_ok(sv_t key)
{
    return key.len > 0 && key.len <= LS_KEY_MAX && !memchr(key.p, 0, key.len);
}

int ls_mpu_open(store_t *s, MDB_txn *txn)
{
    int mrc = mdb_dbi_open(txn, "uploads", MDB_CREATE, &s->db_uploads);
    if (!mrc)
        mrc = mdb_dbi_open(txn, "parts", MDB_CREATE, &s->db_parts);
    return mrc;
}

int ls_gc_layout(store_t *s, MDB_txn *txn, const ls_layout_t *l)
{
    int rc = 0;
    if (l->kind == LS_FILE)
        return ls_gc_queue(s, txn, l->file_id);
    if (l->kind == LS_MANIFEST)
        for (uint32_t i = 0; i < l->nparts && rc == 0; i++)
            rc = ls_gc_queue(s, txn, l->parts[i].file_id);
    return rc;
}

/* ---- pins ----------------------------------------------------------------------------------- */
#define PIN_BUCKETS 4096

typedef struct pin {
    struct pin *next;
    uint8_t id[LS_ID_LEN];
    uint32_t cnt;
} pin_t;

struct ls_pins {
    pthread_mutex_t mu;
    pin_t *tab[PIN_BUCKETS];
};

static size_t pin_hash(const uint8_t id[LS_ID_LEN])
{
    uint64_t h;
    memcpy(&h, id, sizeof h); /* ids are random */
    return (size_t)(h % PIN_BUCKETS);
}

void ls_pins_init(store_t *s)
{
    s->pins = xcalloc(1, sizeof *s->pins);
    pthread_mutex_init(&s->pins->mu, NULL);
}

void ls_pins_free(store_t *s)
{
    if (!s->pins)
        return;
    for (size_t i = 0; i < PIN_BUCKETS; i++)
        for (pin_t *p = s->pins->tab[i], *n; p; p = n) {
            n = p->next;
            free(p);
        }
    pthread_mutex_destroy(&s->pins->mu);
    free(s->pins);
    s->pins = NULL;
}

static pin_t **pin_find(struct ls_pins *ps, const uint8_t id[LS_ID_LEN])
{
    pin_t **pp = &ps->tab[pin_hash(id)];
    while (*pp && memcmp((*pp)->id, id, LS_ID_LEN) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void pins_add(store_t *s, const ls_part_ref_t *parts, uint32_t n)
{
    pthread_mutex_lock(&s->pins->mu);
    for (uint32_t i = 0; i < n; i++) {
        pin_t **pp = pin_find(s->pins, parts[i].file_id);
        if (*pp) {
            (*pp)->cnt++;
            continue;
        }
        pin_t *p = xcalloc(1, sizeof *p);
        memcpy(p->id, parts[i].file_id, LS_ID_LEN);
        p->cnt = 1;
        *pp = p;
    }
    pthread_mutex_unlock(&s->pins->mu);
}

static void pins_drop(store_t *s, const ls_part_ref_t *parts, uint32_t n)
{
    pthread_mutex_lock(&s->pins->mu);
    for (uint32_t i = 0; i < n; i++) {
        pin_t **pp = pin_find(s->pins, parts[i].file_id);
        if (*pp && --(*pp)->cnt == 0) {
            pin_t *p = *pp;
            *pp = p->next;
            free(p);
        }
    }
    pthread_mutex_unlock(&s->pins->mu);
}

bool ls_pins_has(store_t *s, const uint8_t id[LS_ID_LEN])
{
    pthread_mutex_lock(&s->pins->mu);
    bool has = *pin_find(s->pins, id) != NULL;
    pthread_mutex_unlock(&s->pins->mu);
    return has;
}

int ls_pins_unlink(store_t *s, const uint8_t id[LS_ID_LEN], const char *path)
{
    /* check and unlink under the lock, so a pin taken meanwhile is never lost */
    pthread_mutex_lock(&s->pins->mu);
    int rc = *pin_find(s->pins, id) ? 1 : unlink(path) == 0 ? 0 : -errno;
    pthread_mutex_unlock(&s->pins->mu);
    return rc;
}

/* ---- manifest reader ------------------------------------------------------------------------ */
struct ls_mreader {
    store_t *s;
    ls_part_ref_t *parts;
    uint32_t nparts;
    uint32_t seg_size;
    uint32_t cur; /* part whose fd is open; UINT32_MAX: none */
    int fd;
    uint8_t *seg;
    uint64_t seg_idx;
    bool have_seg;
};

int ls_mreader_open(store_t *s, const ls_layout_t *l, ls_mreader_t **out)
{
    ls_mreader_t *m = xcalloc(1, sizeof *m);
    m->s = s;
    m->nparts = l->nparts;
    m->seg_size = l->seg_size;
    m->parts = xcalloc(l->nparts, sizeof *m->parts);
    memcpy(m->parts, l->parts, l->nparts * sizeof *m->parts);
    m->cur = UINT32_MAX;
    m->fd = -1;
    pins_add(s, m->parts, m->nparts);
    /* The caller is inside the read transaction that found the record: if the first part is
     * already gone, the record was replaced and collected meanwhile (-ENOENT: look again). */
    int rc = ls_data_open(s, m->parts[0].file_id, m->seg_size, &m->fd);
    if (rc < 0) {
        ls_mreader_close(m);
        return rc;
    }
    m->cur = 0;
    *out = m;
    return 0;
}

/* The part holding byte pos (pos < object size): the last part starting at or before pos
 * that is not empty. */
static uint32_t part_at(const ls_mreader_t *m, uint64_t pos)
{
    uint32_t lo = 0, hi = m->nparts; /* first part with off > pos is in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->parts[mid].off <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t i = lo - 1;
    while (i + 1 < m->nparts && pos >= m->parts[i].off + m->parts[i].size)
        i++;
    return i;
}

ssize_t ls_mreader_read(ls_mreader_t *m, uint64_t off, void *buf, size_t n)
{
    const ls_part_ref_t *last = &m->parts[m->nparts - 1];
    uint64_t size = last->off + last->size;
    if (off >= size)
        return 0;
    if (n > size - off)
        n = (size_t)(size - off);
    if (!m->seg)
        m->seg = xmalloc((size_t)m->seg_size + LS_SEG_CRC);
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        uint32_t pi = part_at(m, pos);
        const ls_part_ref_t *p = &m->parts[pi];
        if (pi != m->cur) {
            if (m->fd >= 0)
                close(m->fd);
            m->fd = -1;
            m->cur = UINT32_MAX;
            m->have_seg = false;
            int rc = ls_data_open(m->s, p->file_id, m->seg_size, &m->fd);
            if (rc < 0) {
                char hex[2 * LS_ID_LEN + 1];
                hex_encode(p->file_id, LS_ID_LEN, hex);
                log_error("store: multipart data file unreadable file=%s part=%u: %s", hex,
                          pi + 1, strata_strerror(rc));
                return rc == -ENOENT ? -SE_CORRUPT : rc;
            }
            m->cur = pi;
        }
        uint64_t in = pos - p->off;
        uint64_t idx = in / m->seg_size, so = in % m->seg_size;
        uint64_t seg_start = idx * m->seg_size;
        size_t plen = (size_t)(p->size - seg_start < m->seg_size ? p->size - seg_start
                                                                  : m->seg_size);
        if (!m->have_seg || m->seg_idx != idx) {
            m->have_seg = false;
            int rc = ls_data_read_seg(m->fd, p->file_id, m->seg_size, idx, m->seg, plen);
            if (rc < 0)
                return rc;
            m->have_seg = true;
            m->seg_idx = idx;
        }
        size_t take = plen - (size_t)so;
        if (take > n - done)
            take = n - done;
        memcpy((uint8_t *)buf + done, m->seg + so, take);
        done += take;
    }
    return (ssize_t)done;
}

void ls_mreader_close(ls_mreader_t *m)
{
    if (!m)
        return;
    if (m->fd >= 0)
        close(m->fd);
    pins_drop(m->s, m->parts, m->nparts);
    free(m->parts);
    free(m->seg);
    free(m);
}

/* ---- requests applied by the committer ------------------------------------------------------ */
struct mpu_args {
    uint8_t id[LS_ID_LEN];        /* upload id (create: assigned here) */
    uint32_t part_number;         /* part put */
    const uint8_t *file_id;       /* part put: the new part's data file */
    sv_t rec;                     /* create: upload record; part put: part record */
    const store_mpu_part_ref_t *refs; /* complete */
    size_t nrefs;
    const store_obj_t *meta;
    /* complete's results (no pointers into the committer's arena) */
    uint64_t size;
    int64_t mtime_ms;
    char etag[72];
    char version_id[64]; /* the new version's id in a versioned bucket, else "" */
};

static int check_bucket(ls_wctx_t *w, ls_req_t *r)
{
    store_bucket_t b;
    int rc = ls_bucket_lookup(w->s, w->txn, r->bucket, &b);
    if (rc == 0 && b.id != r->bid)
        rc = -SE_NO_SUCH_BUCKET; /* deleted and re-created meanwhile */
    return rc;
}

/* The upload's record (decoded into w->a when o is non-NULL): 0, -SE_NO_SUCH_UPLOAD. */
static int get_upload(ls_wctx_t *w, ls_req_t *r, const uint8_t id[LS_ID_LEN], uint8_t *uk,
                      size_t *ukn, store_obj_t *o)
{
    *ukn = upload_key(r->bid, r->key, id, uk);
    MDB_val k = {*ukn, uk}, v;
    int mrc = mdb_get(w->txn, w->s->db_uploads, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_UPLOAD;
    if (mrc)
        return ls_mdb_err(mrc);
    store_obj_t tmp;
    ls_layout_t l;
    if (!o)
        o = &tmp;
    int rc = ls_rec_decode(v.mv_data, v.mv_size, 0, w->a, o, &l);
    if (rc < 0) {
        log_error("store: corrupt upload record key=%.*s", SV_ARG(r->key));
        return rc;
    }
    if (o->key_len != r->key.len || memcmp(o->key, r->key.p, r->key.len) != 0)
        return -SE_NO_SUCH_UPLOAD; /* long-key hash collision */
    return 0;
}

static int apply_create(ls_wctx_t *w, ls_req_t *r)
{
    struct mpu_args *m = r->mpu;
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    MDB_val k = {10, "upload_seq"}, v;
    uint64_t seq = 0;
    int mrc = mdb_get(w->txn, w->s->db_sys, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        seq = ls_be64_get(v.mv_data);
    else if (mrc && mrc != MDB_NOTFOUND)
        return ls_mdb_err(mrc);
    uint8_t sb[8];
    ls_be64_put(sb, ++seq);
    if ((rc = ls_wput(w, w->s->db_sys, "upload_seq", 10, sb, 8)) < 0)
        return rc;
    memcpy(m->id, sb, 8);
    random_bytes(m->id + 8, 8);
    uint8_t uk[UPKEY_MAX];
    size_t ukn = upload_key(r->bid, r->key, m->id, uk);
    return ls_wput(w, w->s->db_uploads, uk, ukn, m->rec.p, m->rec.len);
}

/* Deletes every part record of upload id; queues the files of those not in keep (ascending
 * part numbers, may be NULL) for GC. */
static int drop_parts(ls_wctx_t *w, const uint8_t id[LS_ID_LEN], const store_mpu_part_ref_t *keep,
                      size_t nkeep)
{
    MDB_cursor *c;
    int mrc = mdb_cursor_open(w->txn, w->s->db_parts, &c);
    if (mrc) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    uint8_t pk[PARTKEY_LEN];
    part_key(id, 0, pk);
    MDB_val k = {PARTKEY_LEN, pk}, v;
    size_t ki = 0;
    int rc = 0;
    mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size == PARTKEY_LEN && memcmp(k.mv_data, id, LS_ID_LEN) == 0) {
        const uint8_t *kp = k.mv_data;
        uint32_t pn = (uint32_t)kp[LS_ID_LEN] << 24 | (uint32_t)kp[LS_ID_LEN + 1] << 16 |
                      (uint32_t)kp[LS_ID_LEN + 2] << 8 | kp[LS_ID_LEN + 3];
        while (ki < nkeep && keep[ki].part_number < pn)
            ki++;
        bool kept = ki < nkeep && keep[ki].part_number == pn;
        if (!kept) {
            store_obj_t o;
            ls_layout_t l;
            if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, w->a, &o, &l) == 0) {
                if ((rc = ls_gc_layout(w->s, w->txn, &l)) < 0) {
                    w->fatal = true;
                    break;
                }
            } else {
                log_error("store: corrupt part record part=%u (its file becomes an orphan)", pn);
            }
        }
        if ((mrc = mdb_cursor_del(c, 0)) != 0)
            break;
        mrc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
    }
    mdb_cursor_close(c);
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND && mrc != EINVAL) {
        w->fatal = true;
        rc = ls_mdb_err(mrc);
    }
    return rc;
}

static int apply_abort(ls_wctx_t *w, ls_req_t *r)
{
    struct mpu_args *m = r->mpu;
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    uint8_t uk[UPKEY_MAX];
    size_t ukn;
    if ((rc = get_upload(w, r, m->id, uk, &ukn, NULL)) < 0)
        return rc;
    if ((rc = ls_wdel(w, w->s->db_uploads, uk, ukn)) < 0)
        return rc;
    return drop_parts(w, m->id, NULL, 0);
}

static int apply_part_put(ls_wctx_t *w, ls_req_t *r)
{
    struct mpu_args *m = r->mpu;
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    uint8_t uk[UPKEY_MAX];
    size_t ukn;
    if ((rc = get_upload(w, r, m->id, uk, &ukn, NULL)) < 0)
        return rc;
    uint8_t pk[PARTKEY_LEN];
    part_key(m->id, m->part_number, pk);
    MDB_val k = {PARTKEY_LEN, pk}, v;
    int mrc = mdb_get(w->txn, w->s->db_parts, &k, &v);
    ls_layout_t old = {.kind = LS_INLINE};
    if (mrc == 0) {
        store_obj_t o;
        if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, w->a, &o, &old) < 0) {
            log_error("store: corrupt part record part=%u (replaced)", m->part_number);
            old.kind = LS_INLINE;
        }
    } else if (mrc != MDB_NOTFOUND) {
        return ls_mdb_err(mrc);
    }
    if ((rc = ls_wput(w, w->s->db_parts, pk, PARTKEY_LEN, m->rec.p, m->rec.len)) < 0)
        return rc;
    uint8_t st = 0;
    if ((rc = ls_wput(w, w->s->db_refs, m->file_id, LS_ID_LEN, &st, 1)) < 0)
        return rc;
    if ((rc = ls_gc_layout(w->s, w->txn, &old)) < 0) {
        w->fatal = true;
        return rc;
    }
    return 0;
}

static int apply_complete(ls_wctx_t *w, ls_req_t *r)
{
    struct mpu_args *m = r->mpu;
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    uint8_t uk[UPKEY_MAX];
    size_t ukn;
    store_obj_t up;
    if ((rc = get_upload(w, r, m->id, uk, &ukn, &up)) < 0)
        return rc;
    ls_layout_t l = {.kind = LS_MANIFEST, .seg_size = LS_SEG_SIZE, .nparts = (uint32_t)m->nrefs};
    l.parts = arena_calloc(w->a, m->nrefs, sizeof *l.parts);
    uint8_t *md5s = arena_alloc(w->a, 16 * m->nrefs);
    uint32_t *numbers = arena_calloc(w->a, m->nrefs, sizeof *numbers);
    const char **cks = arena_calloc(w->a, m->nrefs, sizeof *cks);
    const char *ck_algo = m->meta ? m->meta->checksum_algo : "";
    bool keep_cks = ck_algo[0] != 0; /* every part has a value of the object's algorithm */
    uint64_t total = 0;
    for (size_t i = 0; i < m->nrefs; i++) {
        const store_mpu_part_ref_t *ref = &m->refs[i];
        if (i && ref->part_number <= m->refs[i - 1].part_number)
            return -SE_INVALID_PART_ORDER;
        uint8_t pk[PARTKEY_LEN];
        part_key(m->id, ref->part_number, pk);
        MDB_val k = {PARTKEY_LEN, pk}, v;
        int mrc = mdb_get(w->txn, w->s->db_parts, &k, &v);
        if (mrc == MDB_NOTFOUND)
            return -SE_INVALID_PART;
        if (mrc)
            return ls_mdb_err(mrc);
        store_obj_t po;
        ls_layout_t pl;
        if ((rc = ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, w->a, &po, &pl)) < 0 ||
            pl.kind != LS_FILE) {
            log_error("store: corrupt part record part=%u", ref->part_number);
            return -SE_CORRUPT;
        }
        if (!ref->etag || strcasecmp(ref->etag, po.etag) != 0 ||
            hex_decode(sv_from_cstr(po.etag), md5s + 16 * i, 16) != 0)
            return -SE_INVALID_PART;
        if (i + 1 < m->nrefs && po.size < w->s->mpu_min_part)
            return -SE_ENTITY_TOO_SMALL;
        memcpy(l.parts[i].file_id, pl.file_id, LS_ID_LEN);
        l.parts[i].size = po.size;
        numbers[i] = ref->part_number;
        if (po.checksum[0] && strcasecmp(po.checksum_algo, ck_algo) == 0)
            cks[i] = arena_strndup(w->a, po.checksum, strlen(po.checksum));
        else
            keep_cks = false;
        l.parts[i].off = total;
        total += po.size;
        if (total > STORE_OBJECT_MAX)
            return -SE_ENTITY_TOO_LARGE;
    }
    uint8_t d[16];
    md5(md5s, 16 * m->nrefs, d);
    store_obj_t o = up;
    o.acl = SV_NULL; /* the upload's ACL is the API's to apply, not part of the object */
    hex_encode(d, 16, o.etag);
    snprintf(o.etag + 32, sizeof o.etag - 32, "-%zu", m->nrefs);
    o.size = total;
    o.mtime_ms = now_ms();
    o.checksum_algo[0] = o.checksum[0] = o.checksum_type[0] = 0;
    if (m->meta && m->meta->checksum[0]) {
        memcpy(o.checksum_algo, m->meta->checksum_algo, sizeof o.checksum_algo);
        memcpy(o.checksum, m->meta->checksum, sizeof o.checksum);
        memcpy(o.checksum_type, m->meta->checksum_type, sizeof o.checksum_type);
    }
    o.version_id[0] = 0; /* a versioned bucket's put assigns it (versions.c), into vid_out */
    /* The parts' numbers and values go into the manifest (GetObjectAttributes lists them):
     * a few bytes per part, decoded only when asked for (store_get_parts). */
    buf_t pinfo = BUF_INIT;
    ls_rec_parts_encode(&pinfo, numbers, keep_cks && o.checksum[0] ? cks : NULL, m->nrefs);
    l.pinfo = (const uint8_t *)pinfo.p;
    l.pinfo_len = pinfo.len;
    buf_t rec = BUF_INIT;
    ls_rec_encode(&rec, &o, &l, NULL);
    buf_release(&pinfo);
    /* Installed exactly like a PUT's record (conditions, replacing the current version and
     * queueing its data, and - once versioning lands - becoming a new version). The parts'
     * files are in refs already, so there is no new file id. */
    ls_req_t put = {.kind = LR_PUT, .bid = r->bid, .bucket = r->bucket, .key = r->key,
                    .val = buf_sv(&rec), .cond = r->cond, .vid_out = m->version_id};
    rc = ls_apply_put(w, &put);
    buf_release(&rec);
    if (rc < 0)
        return rc;
    if ((rc = ls_wdel(w, w->s->db_uploads, uk, ukn)) < 0)
        return rc;
    if ((rc = drop_parts(w, m->id, m->refs, m->nrefs)) < 0)
        return rc;
    m->size = o.size;
    m->mtime_ms = o.mtime_ms;
    memcpy(m->etag, o.etag, sizeof m->etag);
    return 0;
}

int ls_mpu_apply(ls_wctx_t *w, ls_req_t *r)
{
    switch (r->kind) {
    case LR_MPU_CREATE:
        return apply_create(w, r);
    case LR_MPU_ABORT:
        return apply_abort(w, r);
    case LR_PART_PUT:
        return apply_part_put(w, r);
    case LR_MPU_COMPLETE:
        return apply_complete(w, r);
    default:
        return -EINVAL;
    }
}

int ls_mpu_bucket_drop(ls_wctx_t *w, uint64_t bid)
{
    MDB_cursor *c;
    int mrc = mdb_cursor_open(w->txn, w->s->db_uploads, &c);
    if (mrc) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    uint8_t pfx[LS_BID_LEN];
    ls_be64_put(pfx, bid);
    MDB_val k = {LS_BID_LEN, pfx}, v;
    int rc = 0;
    mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size > LS_BID_LEN + LS_ID_LEN && memcmp(k.mv_data, pfx, LS_BID_LEN) == 0) {
        uint8_t id[LS_ID_LEN];
        memcpy(id, (const uint8_t *)k.mv_data + k.mv_size - LS_ID_LEN, LS_ID_LEN);
        if ((mrc = mdb_cursor_del(c, 0)) != 0)
            break;
        if ((rc = drop_parts(w, id, NULL, 0)) < 0)
            break;
        mrc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
    }
    mdb_cursor_close(c);
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND && mrc != EINVAL) {
        w->fatal = true;
        rc = ls_mdb_err(mrc);
    }
    return rc;
}

/* ---- public functions ----------------------------------------------------------------------- */
static int rtxn(store_t *s, MDB_txn **txn)
{
    return ls_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn));
}

static int bucket_id(store_t *s, sv_t name, uint64_t *bid)
{
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    store_bucket_t b;
    rc = ls_bucket_lookup(s, txn, name, &b);
    mdb_txn_abort(txn);
    if (rc == 0)
        *bid = b.id;
    return rc;
}

int store_mpu_create(store_t *s, sv_t bucket, sv_t key, const store_obj_t *meta,
                     char upload_id_out[STORE_UPLOAD_ID_LEN + 1])
{
    if (!key_ok(key))
        return key.len > LS_KEY_MAX ? -SE_KEY_TOO_LONG : -SE_INVALID_ARGUMENT;
    uint64_t bid;
    int rc = bucket_id(s, bucket, &bid);
    if (rc < 0)
        return rc;
    store_obj_t o = *meta;
    o.key = key.p;
    o.key_len = key.len;
    o.size = 0;
    o.mtime_ms = meta->mtime_ms ? meta->mtime_ms : now_ms();
    o.etag[0] = 0;
    o.checksum[0] = 0;
    o.delete_marker = false;
    ls_layout_t l = {.kind = LS_INLINE};
    buf_t rec = BUF_INIT;
    ls_rec_encode(&rec, &o, &l, "");
    struct mpu_args m = {.rec = buf_sv(&rec)};
    ls_req_t r = {.kind = LR_MPU_CREATE, .bid = bid, .bucket = bucket, .key = key, .mpu = &m};
    rc = ls_submit(s, &r);
    buf_release(&rec);
    if (rc == 0)
        hex_encode(m.id, LS_ID_LEN, upload_id_out);
    return rc;
}

/* Looks the upload up in a read transaction; with a, decodes it into *out. */
static int lookup_upload(store_t *s, MDB_txn *txn, sv_t bucket, sv_t key, const uint8_t id[LS_ID_LEN],
                         uint64_t *bid, arena_t *a, store_obj_t *out)
{
    store_bucket_t b;
    int rc = ls_bucket_lookup(s, txn, bucket, &b);
    if (rc < 0)
        return rc;
    *bid = b.id;
    uint8_t uk[UPKEY_MAX];
    MDB_val k = {upload_key(b.id, key, id, uk), uk}, v;
    int mrc = mdb_get(txn, s->db_uploads, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_UPLOAD;
    if (mrc)
        return ls_mdb_err(mrc);
    arena_t *own = a ? NULL : arena_new();
    store_obj_t tmp;
    ls_layout_t l;
    rc = ls_rec_decode(v.mv_data, v.mv_size, 0, a ? a : own, out ? out : &tmp, &l);
    if (rc == 0) {
        const store_obj_t *o = out ? out : &tmp;
        if (o->key_len != key.len || memcmp(o->key, key.p, key.len) != 0)
            rc = -SE_NO_SUCH_UPLOAD;
    }
    if (own)
        arena_free(own);
    return rc;
}

int store_mpu_get(store_t *s, sv_t bucket, sv_t key, sv_t upload_id, arena_t *a,
                  store_obj_t *out)
{
    uint8_t id[LS_ID_LEN];
    if (!key_ok(key) || parse_id(upload_id, id) < 0)
        return -SE_NO_SUCH_UPLOAD;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    uint64_t bid;
    rc = lookup_upload(s, txn, bucket, key, id, &bid, a, out);
    mdb_txn_abort(txn);
    return rc;
}

int store_mpu_abort(store_t *s, sv_t bucket, sv_t key, sv_t upload_id)
{
    uint64_t bid;
    int rc = bucket_id(s, bucket, &bid);
    if (rc < 0)
        return rc;
    struct mpu_args m = {0};
    if (!key_ok(key) || parse_id(upload_id, m.id) < 0)
        return -SE_NO_SUCH_UPLOAD;
    ls_req_t r = {.kind = LR_MPU_ABORT, .bid = bid, .bucket = bucket, .key = key, .mpu = &m};
    return ls_submit(s, &r);
}

int store_part_put_begin(store_t *s, sv_t bucket, sv_t key, sv_t upload_id,
                         uint32_t part_number, store_put_t **out)
{
    if (part_number < 1 || part_number > STORE_MPU_MAX_PARTS)
        return -SE_INVALID_ARGUMENT;
    uint8_t id[LS_ID_LEN];
    if (!key_ok(key) || parse_id(upload_id, id) < 0)
        return -SE_NO_SUCH_UPLOAD;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    uint64_t bid;
    rc = lookup_upload(s, txn, bucket, key, id, &bid, NULL, NULL);
    mdb_txn_abort(txn);
    if (rc < 0)
        return rc;
    store_put_t *p;
    if ((rc = ls_put_new_file(s, bid, bucket, key, &p)) < 0)
        return rc;
    memcpy(p->upload_id, id, LS_ID_LEN);
    p->part_number = part_number;
    *out = p;
    return 0;
}

int store_part_commit(store_put_t *p, store_part_t *meta)
{
    int rc;
    if (p->part_number == 0) {
        rc = -EINVAL; /* not a part */
        goto out_abort;
    }
    uint8_t fid[LS_ID_LEN];
    uint64_t size;
    if ((rc = ls_put_seal(p, fid, &size)) < 0)
        goto out_abort;
    if (size > STORE_PART_MAX) {
        rc = -SE_ENTITY_TOO_LARGE;
        goto out_abort;
    }
    store_obj_t o = {.key = "", .key_len = 0, .size = size};
    o.mtime_ms = meta->mtime_ms ? meta->mtime_ms : now_ms();
    snprintf(o.etag, sizeof o.etag, "%s", meta->etag);
    snprintf(o.checksum_algo, sizeof o.checksum_algo, "%s", meta->checksum_algo);
    snprintf(o.checksum, sizeof o.checksum, "%s", meta->checksum);
    ls_layout_t l = {.kind = LS_FILE, .seg_size = LS_SEG_SIZE};
    memcpy(l.file_id, fid, LS_ID_LEN);
    buf_t rec = BUF_INIT;
    ls_rec_encode(&rec, &o, &l, NULL);
    struct mpu_args m = {.part_number = p->part_number, .file_id = fid, .rec = buf_sv(&rec)};
    memcpy(m.id, p->upload_id, LS_ID_LEN);
    ls_req_t r = {.kind = LR_PART_PUT, .bid = p->bid, .bucket = {p->bucket, p->bucket_len},
                  .key = {p->key, p->key_len}, .mpu = &m};
    rc = ls_submit(p->s, &r);
    buf_release(&rec);
    if (rc < 0)
        goto out_abort;
    meta->size = size;
    meta->mtime_ms = o.mtime_ms;
    ls_put_free(p);
    return 0;
out_abort:
    store_put_abort(p);
    return rc;
}

int store_part_list(store_t *s, sv_t bucket, sv_t key, sv_t upload_id, uint32_t marker,
                    size_t max_parts, arena_t *a, store_part_list_result_t *out)
{
    memset(out, 0, sizeof *out);
    uint8_t id[LS_ID_LEN];
    if (!key_ok(key) || parse_id(upload_id, id) < 0)
        return -SE_NO_SUCH_UPLOAD;
    if (max_parts > STORE_MPU_MAX_PARTS)
        max_parts = STORE_MPU_MAX_PARTS;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    uint64_t bid;
    if ((rc = lookup_upload(s, txn, bucket, key, id, &bid, NULL, NULL)) < 0)
        goto out_txn;
    MDB_cursor *c;
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_parts, &c))) < 0)
        goto out_txn;
    out->parts = arena_calloc(a, max_parts ? max_parts : 1, sizeof *out->parts);
    uint8_t pk[PARTKEY_LEN];
    part_key(id, marker >= STORE_MPU_MAX_PARTS ? STORE_MPU_MAX_PARTS + 1 : marker + 1, pk);
    MDB_val k = {PARTKEY_LEN, pk}, v;
    int mrc;
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PARTKEY_LEN || memcmp(k.mv_data, id, LS_ID_LEN) != 0)
            break;
        if (out->nparts == max_parts) {
            out->truncated = max_parts > 0;
            break;
        }
        const uint8_t *kp = k.mv_data;
        store_obj_t o;
        ls_layout_t l;
        if ((rc = ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, a, &o, &l)) < 0) {
            log_error("store: corrupt part record");
            break;
        }
        store_part_t *p = &out->parts[out->nparts++];
        p->part_number = (uint32_t)kp[LS_ID_LEN] << 24 | (uint32_t)kp[LS_ID_LEN + 1] << 16 |
                         (uint32_t)kp[LS_ID_LEN + 2] << 8 | kp[LS_ID_LEN + 3];
        p->size = o.size;
        p->mtime_ms = o.mtime_ms;
        snprintf(p->etag, sizeof p->etag, "%.39s", o.etag);
        snprintf(p->checksum_algo, sizeof p->checksum_algo, "%s", o.checksum_algo);
        snprintf(p->checksum, sizeof p->checksum, "%s", o.checksum);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
        rc = ls_mdb_err(mrc);
    if (out->truncated && out->nparts)
        out->next_marker = out->parts[out->nparts - 1].part_number;
    mdb_cursor_close(c);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}

int store_mpu_complete(store_t *s, sv_t bucket, sv_t key, sv_t upload_id,
                       const store_mpu_part_ref_t *parts, size_t nparts,
                       const store_obj_t *meta, const store_cond_t *cond, arena_t *a,
                       store_obj_t *out)
{
    struct mpu_args m = {.refs = parts, .nrefs = nparts, .meta = meta};
    if (!key_ok(key) || parse_id(upload_id, m.id) < 0)
        return -SE_NO_SUCH_UPLOAD;
    if (nparts == 0 || nparts > STORE_MPU_MAX_PARTS)
        return -SE_INVALID_PART;
    for (size_t i = 1; i < nparts; i++)
        if (parts[i].part_number <= parts[i - 1].part_number)
            return -SE_INVALID_PART_ORDER;
    uint64_t bid;
    int rc = bucket_id(s, bucket, &bid);
    if (rc < 0)
        return rc;
    ls_req_t r = {.kind = LR_MPU_COMPLETE, .bid = bid, .bucket = bucket, .key = key,
                  .cond = cond, .mpu = &m};
    if ((rc = ls_submit(s, &r)) < 0)
        return rc;
    if (out) {
        memset(out, 0, sizeof *out);
        out->key = a ? arena_svdup(a, key) : NULL;
        out->key_len = key.len;
        out->size = m.size;
        out->mtime_ms = m.mtime_ms;
        memcpy(out->etag, m.etag, sizeof out->etag);
        memcpy(out->version_id, m.version_id, sizeof out->version_id);
        if (meta && meta->checksum[0]) {
            memcpy(out->checksum_algo, meta->checksum_algo, sizeof out->checksum_algo);
            memcpy(out->checksum, meta->checksum, sizeof out->checksum);
            memcpy(out->checksum_type, meta->checksum_type, sizeof out->checksum_type);
        }
        out->nparts = (uint32_t)nparts;
    }
    return 0;
}

/* ---- listing uploads ------------------------------------------------------------------------ */
/* Seek key for "everything >= s" in bucket bid: bid + the first Q bytes of s. */
static size_t seek_key(uint64_t bid, sv_t s, uint8_t *out)
{
    ls_be64_put(out, bid);
    size_t n = s.len < LS_KEY_Q ? s.len : LS_KEY_Q;
    if (n)
        memcpy(out + LS_BID_LEN, s.p, n);
    return LS_BID_LEN + n;
}

int store_mpu_list(store_t *s, sv_t bucket, const store_mpu_list_opts_t *o, arena_t *a,
                   store_mpu_list_result_t *out)
{
    memset(out, 0, sizeof *out);
    size_t max = o->max_uploads > 1000 ? 1000 : o->max_uploads;
    uint8_t idm[LS_ID_LEN];
    bool have_idm = o->upload_id_marker.len && o->key_marker.len &&
                    hex_decode(o->upload_id_marker, idm, LS_ID_LEN) == 0 &&
                    o->upload_id_marker.len == 2 * LS_ID_LEN;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    store_bucket_t b;
    if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) < 0)
        goto out_txn;
    MDB_cursor *c;
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_uploads, &c))) < 0)
        goto out_txn;
    out->uploads = arena_calloc(a, max ? max : 1, sizeof *out->uploads);
    out->prefixes = arena_calloc(a, max ? max : 1, sizeof *out->prefixes);
    arena_t *scratch = arena_new();
    sv_t start = sv_cmp(o->prefix, o->key_marker) > 0 ? o->prefix : o->key_marker;
    uint8_t sk[LS_BID_LEN + LS_KEY_MAX + 1];
    MDB_val k = {seek_key(b.id, start, sk), sk}, v;
    sv_t last_cp = SV_NULL;
    size_t count = 0;
    int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (bool first = true; mrc == 0; first = false) {
        if (!first)
            mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        if (mrc)
            break;
    again:
        if (k.mv_size <= LS_BID_LEN + LS_ID_LEN || memcmp(k.mv_data, sk, LS_BID_LEN) != 0)
            break;
        store_obj_t u;
        ls_layout_t l;
        if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, scratch, &u, &l) < 0) {
            log_error("store: corrupt upload record in listing");
            continue;
        }
        sv_t key = {u.key, u.key_len};
        if (!sv_starts_with(key, o->prefix)) {
            if (sv_cmp(key, o->prefix) > 0 && key.len >= o->prefix.len)
                break; /* past every key with the prefix */
            continue;
        }
        /* roll up into a common prefix? */
        sv_t cp = SV_NULL;
        (void)ls_common_prefix(key, o->prefix, o->delimiter, &cp);
        const uint8_t *id = (const uint8_t *)k.mv_data + k.mv_size - LS_ID_LEN;
        if (cp.p) {
            if (last_cp.p && sv_eq(cp, last_cp))
                continue;
            if (o->key_marker.len && sv_cmp(cp, o->key_marker) <= 0)
                continue;
        } else if (o->key_marker.len) {
            int c2 = sv_cmp(key, o->key_marker);
            if (c2 < 0 || (c2 == 0 && (!have_idm || memcmp(id, idm, LS_ID_LEN) <= 0)))
                continue;
        }
        if (count == max) {
            out->truncated = max > 0;
            break;
        }
        count++;
        if (cp.p) {
            last_cp = (sv_t){arena_svdup(a, cp), cp.len};
            out->prefixes[out->nprefixes++] = last_cp;
            out->next_key = last_cp;
            out->next_upload_id = SV_NULL;
            /* skip the keys under it with one seek to its successor (when it fits) */
            size_t n = cp.len;
            while (n && (uint8_t)cp.p[n - 1] == 0xFF)
                n--;
            if (n && n <= LS_KEY_Q) {
                size_t skn = seek_key(b.id, (sv_t){cp.p, n}, sk);
                sk[skn - 1]++;
                k = (MDB_val){skn, sk};
                if ((mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
                    break;
                goto again;
            }
            continue;
        }
        store_mpu_info_t *ui = &out->uploads[out->nuploads++];
        ui->obj = u;
        ui->obj.key = arena_svdup(a, key);
        ui->obj.attrs = NULL;
        ui->obj.nattrs = 0;
        ui->obj.tags = NULL;
        ui->obj.ntags = 0;
        ui->obj.extra = SV_NULL;
        hex_encode(id, LS_ID_LEN, ui->upload_id);
        out->next_key = (sv_t){ui->obj.key, key.len};
        out->next_upload_id = (sv_t){ui->upload_id, 2 * LS_ID_LEN};
    }
    if (mrc && mrc != MDB_NOTFOUND)
        rc = ls_mdb_err(mrc);
    if (!out->truncated) {
        out->next_key = SV_NULL;
        out->next_upload_id = SV_NULL;
    }
    arena_free(scratch);
    mdb_cursor_close(c);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}
