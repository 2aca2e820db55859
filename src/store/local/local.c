/* store.h on the local backend: the public functions, the put and read paths, listing.
 *
 * Put: bytes go to a bounded buffer. Up to inline_max they stay there and end up inside the
 * index record; beyond it (or when size_hint says so up front) they stream to a data file in
 * CRC-framed segments, staged up to 1 MiB at a time (ls_dw_*, data.c). Commit makes the file durable (fdatasync,
 * fsync(dir)) in the caller's thread, so many puts sync their data in parallel, then hands the
 * encoded record to the committer (index.c), which group-commits it, and returns its result.
 *
 * Read: store_get resolves the record in a read transaction and, for a file, opens the fd while
 * still inside it; if GC unlinked the file between the two (the record was replaced), the lookup
 * is retried. Holding the fd keeps an overwritten or deleted version readable to the end. Each
 * store_read verifies the CRC of every segment it touches (one cached segment per reader).
 *
 * List: a cursor walk of the objects database from max(prefix, start_after); a common prefix is
 * emitted once and skipped by one seek to its successor (prefix with its last byte
 * incremented), so a page costs O(page * log n).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

/* ---- fault injection ---------------------------------------------------------------------- */
static _Atomic unsigned fault_mask;
static _Atomic int fault_left;

void ls_fault_arm(unsigned mask, int nth)
{
    atomic_store(&fault_mask, 0u);
    atomic_store(&fault_left, nth);
    if (nth > 0)
        atomic_store(&fault_mask, mask);
}

int ls_fault_hit(unsigned point)
{
    if (!(atomic_load_explicit(&fault_mask, memory_order_relaxed) & point))
        return 0;
    if (atomic_fetch_sub(&fault_left, 1) == 1) {
        atomic_store(&fault_mask, 0u);
        log_warn("store: injected fault point=%u", point);
        return -EIO;
    }
    return 0;
}

/* ---- open / close ------------------------------------------------------------------------- */
int store_open(const store_opts_t *o, store_t **out)
{
    if (!o || !o->dir || !*o->dir)
        return -EINVAL;
    store_t *s = xcalloc(1, sizeof *s);
    int rc;
    s->dir = xstrdup(o->dir);
    size_t dl = strlen(o->dir);
    s->data_dir = xmalloc(dl + 6);
    memcpy(s->data_dir, o->dir, dl);
    memcpy(s->data_dir + dl, "/data", 6);
    s->inline_max = o->inline_max ? o->inline_max : LS_INLINE_DEFAULT;
    s->direct_min = o->direct_min ? o->direct_min : LS_DIO_MIN;
    if (s->inline_max > LS_INLINE_CAP)
        s->inline_max = LS_INLINE_CAP;
    s->gc_grace_ms = o->gc_grace_ms > 0 ? o->gc_grace_ms : 10000;
    s->mpu_min_part = o->mpu_min_part ? o->mpu_min_part : STORE_PART_MIN;
    s->lock_fd = -1;
    ls_pins_init(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_commit, NULL);
    pthread_cond_init(&s->cv_gc, NULL);

    if ((mkdir(s->dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir(s->data_dir, 0700) < 0 && errno != EEXIST)) {
        rc = -errno;
        goto out_free;
    }
    char lp[4096];
    snprintf(lp, sizeof lp, "%s/LOCK", s->dir);
    s->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = -errno;
        goto out_free;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        log_error("store: data directory in use dir=%s", s->dir);
        goto out_free;
    }
    rc = ls_index_open(s, o->map_size ? o->map_size : ((size_t)1 << 40));
    if (rc < 0)
        goto out_free;
    /* make DIR's entries (LOCK, index/, data/) durable once, should they be new */
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) < 0)
            log_warn("store: fsync dir=%s: %s", s->dir, strerror(errno));
        close(dfd);
    }
    if ((rc = ls_recover(s)) < 0)
        goto out_index;
    if (s->st.orphans_removed)
        log_info("store: recovery removed %llu orphan data files",
                 (unsigned long long)s->st.orphans_removed);
    if ((rc = ls_committer_start(s)) < 0)
        goto out_index;
    if ((rc = ls_gc_start(s)) < 0)
        goto out_committer;
    *out = s;
    return 0;
out_committer:
    ls_committer_stop(s);
out_index:
    ls_index_close(s);
out_free:
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_cond_destroy(&s->cv_gc);
    pthread_cond_destroy(&s->cv_commit);
    pthread_mutex_destroy(&s->mu);
    ls_pins_free(s);
    free(s->data_dir);
    free(s->dir);
    free(s);
    return rc;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    ls_gc_stop(s);
    ls_committer_stop(s);
    ls_index_close(s);
    close(s->lock_fd);
    pthread_cond_destroy(&s->cv_gc);
    pthread_cond_destroy(&s->cv_commit);
    pthread_mutex_destroy(&s->mu);
    ls_pins_free(s);
    free(s->data_dir);
    free(s->dir);
    free(s);
}

void store_local_stats(store_t *s, store_local_stats_t *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
    out->list_steps = atomic_load(&s->list_steps);
}

/* ---- helpers ------------------------------------------------------------------------------ */
static int rtxn(store_t *s, MDB_txn **txn)
{
    return ls_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn));
}

static int key_check(sv_t key)
{
    if (key.len == 0)
        return -SE_INVALID_ARGUMENT;
    if (key.len > LS_KEY_MAX)
        return -SE_KEY_TOO_LONG;
    if (memchr(key.p, 0, key.len))
        return -SE_INVALID_ARGUMENT; /* NUL terminates the name part of index keys */
    return 0;
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

/* ---- meta --------------------------------------------------------------------------------- */
static int ns_check(const char *ns)
{
    return ns && *ns && strlen(ns) < 64 ? 0 : -SE_INVALID_ARGUMENT;
}

int store_meta_put(store_t *s, const char *ns, sv_t key, sv_t val)
{
    if (ns_check(ns) < 0)
        return -SE_INVALID_ARGUMENT;
    ls_req_t r = {.kind = LR_META_PUT, .ns = ns, .key = key, .val = val};
    return ls_submit(s, &r);
}

int store_meta_delete(store_t *s, const char *ns, sv_t key)
{
    if (ns_check(ns) < 0)
        return -SE_INVALID_ARGUMENT;
    ls_req_t r = {.kind = LR_META_DEL, .ns = ns, .key = key};
    return ls_submit(s, &r);
}

static size_t meta_key(const char *ns, sv_t key, uint8_t *out, size_t cap)
{
    size_t nl = strlen(ns);
    if (nl + 1 + key.len > cap)
        return 0;
    memcpy(out, ns, nl);
    out[nl] = 0;
    if (key.len)
        memcpy(out + nl + 1, key.p, key.len);
    return nl + 1 + key.len;
}

int store_meta_get(store_t *s, const char *ns, sv_t key, buf_t *out)
{
    uint8_t k[511]; /* LMDB's key limit */
    size_t kn;
    if (ns_check(ns) < 0 || !(kn = meta_key(ns, key, k, sizeof k)))
        return -SE_INVALID_ARGUMENT;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    MDB_val mk = {kn, k}, v;
    rc = ls_mdb_err(mdb_get(txn, s->db_meta, &mk, &v));
    if (rc == 0) {
        buf_clear(out);
        buf_append(out, v.mv_data, v.mv_size);
    }
    mdb_txn_abort(txn);
    return rc;
}

int store_meta_list(store_t *s, const char *ns, sv_t prefix,
                    int (*cb)(void *ctx, sv_t key, sv_t val), void *ctx)
{
    uint8_t k[511]; /* LMDB's key limit */
    size_t kn, nl = ns ? strlen(ns) + 1 : 0;
    if (ns_check(ns) < 0 || !(kn = meta_key(ns, prefix, k, sizeof k)))
        return -SE_INVALID_ARGUMENT;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    MDB_cursor *c;
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_meta, &c))) < 0)
        goto out_txn;
    MDB_val mk = {kn, k}, v;
    int mrc;
    for (mrc = mdb_cursor_get(c, &mk, &v, MDB_SET_RANGE); mrc == 0;
         mrc = mdb_cursor_get(c, &mk, &v, MDB_NEXT)) {
        if (mk.mv_size < kn || memcmp(mk.mv_data, k, kn) != 0)
            break;
        sv_t key = {(const char *)mk.mv_data + nl, mk.mv_size - nl};
        if (cb(ctx, key, (sv_t){v.mv_data, v.mv_size}))
            break;
    }
    if (mrc && mrc != MDB_NOTFOUND)
        rc = ls_mdb_err(mrc);
    mdb_cursor_close(c);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}

/* ---- buckets ------------------------------------------------------------------------------ */
int store_bucket_create(store_t *s, store_bucket_t *b)
{
    size_t n = strnlen(b->name, sizeof b->name);
    if (n == 0 || n >= sizeof b->name)
        return -SE_INVALID_BUCKET_NAME;
    ls_req_t r = {.kind = LR_BUCKET_CREATE, .bucket = {b->name, n}, .bkt = b};
    return ls_submit(s, &r);
}

int store_bucket_get(store_t *s, sv_t name, store_bucket_t *out)
{
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    rc = ls_bucket_lookup(s, txn, name, out);
    mdb_txn_abort(txn);
    return rc;
}

int store_bucket_delete(store_t *s, sv_t name)
{
    ls_req_t r = {.kind = LR_BUCKET_DELETE, .bucket = name};
    return ls_submit(s, &r);
}

int store_bucket_list(store_t *s, int (*cb)(void *ctx, const store_bucket_t *b), void *ctx)
{
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    MDB_cursor *c;
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_buckets, &c))) < 0)
        goto out_txn;
    MDB_val k, v;
    int mrc;
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        store_bucket_t b;
        if ((rc = ls_bucket_decode(v.mv_data, v.mv_size, &b)) < 0) {
            log_error("store: corrupt bucket record name=%.*s", (int)k.mv_size,
                      (const char *)k.mv_data);
            break;
        }
        if (cb(ctx, &b))
            break;
    }
    if (mrc && mrc != MDB_NOTFOUND)
        rc = ls_mdb_err(mrc);
    mdb_cursor_close(c);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}

int store_bucket_conf_put(store_t *s, sv_t bucket, const char *doc_name, sv_t doc)
{
    if (!doc_name || !*doc_name)
        return -SE_INVALID_ARGUMENT;
    ls_req_t r = {.kind = LR_CONF_PUT, .bucket = bucket, .key = sv_from_cstr(doc_name),
                  .val = doc};
    return ls_submit(s, &r);
}

int store_bucket_conf_get(store_t *s, sv_t bucket, const char *doc_name, buf_t *out)
{
    size_t dn = doc_name ? strlen(doc_name) : 0;
    if (dn == 0 || dn > 256)
        return -SE_INVALID_ARGUMENT;
    MDB_txn *txn;
    int rc = rtxn(s, &txn);
    if (rc < 0)
        return rc;
    store_bucket_t b;
    if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) < 0)
        goto out_txn;
    uint8_t k[8 + 256];
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(b.id >> (56 - 8 * i));
    memcpy(k + 8, doc_name, dn);
    MDB_val mk = {8 + dn, k}, v;
    rc = ls_mdb_err(mdb_get(txn, s->db_conf, &mk, &v));
    if (rc == 0) {
        buf_clear(out);
        buf_append(out, v.mv_data, v.mv_size);
    }
out_txn:
    mdb_txn_abort(txn);
    return rc;
}

/* ---- put ---------------------------------------------------------------------------------- */
/* struct store_put: local_int.h (parts use it too) */

static void put_reserve(store_put_t *p, size_t need)
{
    if (need <= p->cap)
        return;
    size_t c = p->cap ? p->cap : 4096;
    while (c < need)
        c *= 2;
    p->buf = xrealloc(p->buf, c);
    p->cap = c;
}

static void put_unlink(store_put_t *p)
{
    char path[4096];
    ls_data_path(p->s, p->id, path, sizeof path);
    unlink(path);
}

/* Switches to a data file: creates it and hands it what the buffer holds. */
static int put_spill(store_put_t *p)
{
    int rc = ls_data_create(p->s, p->id, &p->fd);
    if (rc < 0)
        return rc;
    p->file = true;
    ls_dw_init(&p->dw, p->fd, p->size_hint);
    if (p->size_hint != UINT64_MAX && p->size_hint >= p->s->direct_min) {
        char path[4096];
        ls_data_path(p->s, p->id, path, sizeof path);
        (void)ls_dw_direct(&p->dw, path, p->id); /* else buffered writes, as for smaller files */
    }
    rc = ls_dw_write(&p->dw, p->buf, p->blen);
    free(p->buf);
    p->buf = NULL;
    p->blen = p->cap = 0;
    return rc;
}

int store_put_begin(store_t *s, sv_t bucket, sv_t key, uint64_t size_hint, store_put_t **out)
{
    int rc = key_check(key);
    if (rc < 0)
        return rc;
    uint64_t bid;
    if ((rc = bucket_id(s, bucket, &bid)) < 0)
        return rc;
    store_put_t *p = xcalloc(1, sizeof *p);
    p->s = s;
    p->bid = bid;
    p->bucket = xstrndup(bucket.p, bucket.len);
    p->bucket_len = bucket.len;
    p->key = xstrndup(key.p, key.len);
    p->key_len = key.len;
    p->fd = -1;
    p->size_hint = size_hint;
    if (size_hint != UINT64_MAX && size_hint > s->inline_max) {
        if ((rc = put_spill(p)) < 0) {
            store_put_abort(p);
            return rc;
        }
    } else {
        put_reserve(p, size_hint == UINT64_MAX ? 4096 : (size_t)size_hint);
    }
    *out = p;
    return 0;
}

int store_put_write(store_put_t *p, const void *data, size_t n)
{
    const uint8_t *d = data;
    if (p->err)
        return p->err;
    if (n == 0)
        return 0;
    if (p->size + n < p->size)
        return p->err = -SE_ENTITY_TOO_LARGE;
    p->size += n;
    int rc;
    if (!p->file) {
        if (p->blen + n <= p->s->inline_max) {
            put_reserve(p, p->blen + n);
            memcpy(p->buf + p->blen, d, n);
            p->blen += n;
            return 0;
        }
        if ((rc = put_spill(p)) < 0)
            return p->err = rc;
    }
    if ((rc = ls_dw_write(&p->dw, d, n)) < 0)
        return p->err = rc;
    return 0;
}

bool store_put_digest(store_put_t *p, digest_t *d)
{
    return p->file && p->size == 0 && !p->err && ls_dw_tap(&p->dw, d);
}

static void put_free(store_put_t *p)
{
    if (p->fd >= 0)
        close(p->fd);
    ls_dw_release(&p->dw);
    free(p->buf);
    free(p->bucket);
    free(p->key);
    free(p);
}

/* ---- put pieces for multipart parts (mpu.c) ------------------------------------------------ */
int ls_put_new_file(store_t *s, uint64_t bid, sv_t bucket, sv_t key, store_put_t **out)
{
    store_put_t *p = xcalloc(1, sizeof *p);
    p->s = s;
    p->bid = bid;
    p->bucket = xstrndup(bucket.p, bucket.len);
    p->bucket_len = bucket.len;
    p->key = xstrndup(key.p, key.len);
    p->key_len = key.len;
    p->fd = -1;
    p->size_hint = UINT64_MAX;
    int rc = put_spill(p); /* a part is always a data file, whatever its size */
    if (rc < 0) {
        store_put_abort(p);
        return rc;
    }
    *out = p;
    return 0;
}

int ls_put_seal(store_put_t *p, uint8_t id[LS_ID_LEN], uint64_t *size)
{
    int rc = p->err;
    if (rc < 0)
        return rc;
    if ((rc = ls_dw_finish(&p->dw)) < 0)
        return p->err = rc;
    if ((rc = ls_data_sync(p->s, p->fd, p->id)) < 0)
        return p->err = rc;
    memcpy(id, p->id, LS_ID_LEN);
    *size = p->size;
    return 0;
}

void ls_put_free(store_put_t *p)
{
    put_free(p);
}

void store_put_abort(store_put_t *p)
{
    if (!p)
        return;
    if (p->file)
        put_unlink(p);
    put_free(p);
}

int store_put_commit(store_put_t *p, store_obj_t *meta, const store_cond_t *cond)
{
    store_t *s = p->s;
    int rc = p->err;
    if (rc < 0)
        goto out_abort;
    ls_layout_t l = {.kind = p->file ? LS_FILE : LS_INLINE};
    if (p->file) {
        if ((rc = ls_dw_finish(&p->dw)) < 0)
            goto out_abort;
        if ((rc = ls_data_sync(s, p->fd, p->id)) < 0)
            goto out_abort;
        memcpy(l.file_id, p->id, LS_ID_LEN);
        l.seg_size = LS_SEG_SIZE;
    }
    store_obj_t o = *meta;
    o.key = p->key;
    o.key_len = p->key_len;
    o.size = p->size;
    o.version_id[0] = 0; /* a versioned bucket's commit assigns it (versions.c) */
    o.mtime_ms = meta->mtime_ms ? meta->mtime_ms : now_ms();
    buf_t rec = BUF_INIT;
    ls_rec_encode(&rec, &o, &l, p->buf);
    ls_req_t r = {.kind = LR_PUT,
                  .bid = p->bid,
                  .bucket = {p->bucket, p->bucket_len},
                  .key = {p->key, p->key_len},
                  .val = buf_sv(&rec),
                  .cond = cond,
                  .new_file_id = p->file ? p->id : NULL,
                  .vid_out = meta->version_id};
    meta->version_id[0] = 0; /* set by the committer when the bucket is versioned */
    rc = ls_submit(s, &r);
    buf_release(&rec);
    if (rc < 0)
        goto out_abort;
    meta->size = o.size;
    meta->mtime_ms = o.mtime_ms;
    put_free(p);
    return 0;
out_abort:
    store_put_abort(p);
    return rc;
}

/* ---- read --------------------------------------------------------------------------------- */
struct store_read {
    enum ls_layout_kind kind;
    uint64_t size;
    uint8_t *data; /* inline copy */
    uint32_t crc;
    bool verified;
    int fd;
    uint8_t id[LS_ID_LEN];
    uint32_t seg_size;
    uint8_t *seg; /* one cached segment + its CRC */
    uint64_t seg_cached;
    bool have_seg;
    ls_mreader_t *m; /* LS_MANIFEST (mpu.c) */
};

/* store_get_parts' page request (read inside store_get's transaction). */
struct parts_req {
    uint32_t marker;
    size_t max;
    bool by_pos;
    store_obj_parts_t *out;
};

static int store_get_once(store_t *s, sv_t bucket, sv_t key, const char *version_id,
                          arena_t *a, store_obj_t *out, store_read_t **rd,
                          const struct parts_req *pq);

int store_get(store_t *s, sv_t bucket, sv_t key, const char *version_id, arena_t *a,
              store_obj_t *out, store_read_t **rd)
{
    if (key_check(key) < 0)
        return -SE_NO_SUCH_KEY;
    /* existence checks may pass neither an arena nor a result */
    store_obj_t tmp;
    arena_t *own = NULL;
    if (!out)
        out = &tmp;
    if (!a)
        a = own = arena_new();
    int rc = store_get_once(s, bucket, key, version_id, a, out, rd, NULL);
    if (own)
        arena_free(own);
    return rc;
}

int store_get_parts(store_t *s, sv_t bucket, sv_t key, const char *version_id, uint32_t marker,
                    size_t max_parts, unsigned flags, arena_t *a, store_obj_t *out,
                    store_obj_parts_t *parts)
{
    memset(parts, 0, sizeof *parts);
    parts->next_marker = marker;
    if (key_check(key) < 0)
        return -SE_NO_SUCH_KEY;
    struct parts_req pq = {.marker = marker, .max = max_parts,
                           .by_pos = (flags & STORE_PARTS_BY_POSITION) != 0, .out = parts};
    return store_get_once(s, bucket, key, version_id, a, out, NULL, &pq);
}

/* On a miss: is the key's latest version a delete marker? (GET answers with
 * x-amz-delete-marker then.) Fills out->delete_marker and, if so, the marker's fields. */
static void latest_delete_marker(store_t *s, MDB_txn *txn, uint64_t bid, sv_t key, arena_t *a,
                                 store_obj_t *out)
{
    MDB_val v;
    store_obj_t o;
    ls_layout_t l;
    out->delete_marker = false;
    out->version_id[0] = 0;
    if (ls_version_latest(s, txn, bid, key, &v) == 0 &&
        ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, a, &o, &l) == 0 && o.delete_marker &&
        o.key_len == key.len && memcmp(o.key, key.p, key.len) == 0)
        *out = o;
}

static int store_get_once(store_t *s, sv_t bucket, sv_t key, const char *version_id,
                          arena_t *a, store_obj_t *out, store_read_t **rd,
                          const struct parts_req *pq)
{
    int rc = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        MDB_txn *txn;
        if ((rc = rtxn(s, &txn)) < 0)
            return rc;
        store_bucket_t b;
        if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) < 0)
            goto out_txn;
        uint8_t lk[LS_LKEY_MAX];
        MDB_val k = {ls_lkey(b.id, key.p, key.len, lk), lk}, v;
        bool by_version = version_id && *version_id;
        int mrc;
        if (by_version) { /* versions.c: "null" or an id */
            if ((rc = ls_version_find(s, txn, b.id, key, version_id, &v)) < 0)
                goto out_txn;
        } else if ((mrc = mdb_get(txn, s->db_objects, &k, &v)) != 0) {
            rc = mrc == MDB_NOTFOUND ? -SE_NO_SUCH_KEY : ls_mdb_err(mrc);
            if (rc == -SE_NO_SUCH_KEY)
                latest_delete_marker(s, txn, b.id, key, a, out);
            goto out_txn;
        }
        ls_layout_t l;
        if ((rc = ls_rec_decode(v.mv_data, v.mv_size, 0, a, out, &l)) < 0) {
            log_error("store: corrupt index record bucket=%.*s key=%.*s", SV_ARG(bucket),
                      SV_ARG(key));
            goto out_txn;
        }
        if (out->key_len != key.len || memcmp(out->key, key.p, key.len) != 0 ||
            (by_version && strcmp(version_id, "null") != 0 &&
             strcmp(version_id, out->version_id) != 0)) { /* collision; wrong random half */
            rc = by_version ? -SE_NO_SUCH_VERSION : -SE_NO_SUCH_KEY;
            goto out_txn;
        }
        if (out->delete_marker) { /* only when asked for by version */
            rc = -SE_METHOD_NOT_ALLOWED;
            goto out_txn;
        }
        if (pq && (rc = ls_rec_parts_page(&l, pq->marker, pq->by_pos, pq->max, a, pq->out)) < 0) {
            log_error("store: corrupt part info bucket=%.*s key=%.*s", SV_ARG(bucket),
                      SV_ARG(key));
            goto out_txn;
        }
        if (rd) {
            store_read_t *r = xcalloc(1, sizeof *r);
            r->kind = l.kind;
            r->size = out->size;
            r->fd = -1;
            if (l.kind == LS_INLINE) {
                r->data = xmalloc(out->size ? (size_t)out->size : 1);
                memcpy(r->data, l.inline_data, (size_t)out->size);
                r->crc = l.inline_crc;
            } else if (l.kind == LS_MANIFEST) {
                rc = ls_mreader_open(s, &l, &r->m);
                if (rc < 0) {
                    free(r);
                    mdb_txn_abort(txn);
                    if (rc == -ENOENT)
                        continue; /* replaced and collected since our lookup: look again */
                    return rc;
                }
            } else {
                memcpy(r->id, l.file_id, LS_ID_LEN);
                r->seg_size = l.seg_size;
                rc = ls_data_open(s, l.file_id, l.seg_size, &r->fd);
                if (rc < 0) {
                    free(r);
                    mdb_txn_abort(txn);
                    if (rc == -ENOENT)
                        continue; /* replaced and collected since our lookup: look again */
                    return rc;
                }
            }
            *rd = r;
        }
    out_txn:
        mdb_txn_abort(txn);
        return rc;
    }
    log_error("store: data file missing bucket=%.*s key=%.*s", SV_ARG(bucket), SV_ARG(key));
    return -SE_CORRUPT;
}

ssize_t store_read(store_read_t *r, uint64_t off, void *buf, size_t n)
{
    if (off >= r->size)
        return 0;
    if (n > r->size - off)
        n = (size_t)(r->size - off);
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    if (r->kind == LS_MANIFEST)
        return ls_mreader_read(r->m, off, buf, n);
    if (r->kind == LS_INLINE) {
        if (!r->verified) {
            if (crc32c(0, r->data, (size_t)r->size) != r->crc) {
                log_error("store: inline data corruption (crc mismatch) size=%llu",
                          (unsigned long long)r->size);
                return -SE_CORRUPT;
            }
            r->verified = true;
        }
        memcpy(buf, r->data + off, n);
        return (ssize_t)n;
    }
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        uint64_t idx = pos / r->seg_size, so = pos % r->seg_size;
        uint64_t seg_start = idx * r->seg_size;
        size_t plen = (size_t)(r->size - seg_start < r->seg_size ? r->size - seg_start
                                                                  : r->seg_size);
        if (so == 0 && n - done >= plen && !(r->have_seg && r->seg_cached == idx)) {
            /* a whole segment fits: read and verify it in the caller's buffer (no bounce
             * copy); on a failed check the bytes there are never counted as returned */
            int rc = ls_data_read_seg(r->fd, r->id, r->seg_size, idx, (uint8_t *)buf + done,
                                      plen);
            if (rc < 0)
                return rc;
            done += plen;
            continue;
        }
        if (!r->seg)
            r->seg = xmalloc((size_t)r->seg_size + LS_SEG_CRC);
        if (!r->have_seg || r->seg_cached != idx) {
            r->have_seg = false;
            int rc = ls_data_read_seg(r->fd, r->id, r->seg_size, idx, r->seg, plen);
            if (rc < 0)
                return rc;
            r->have_seg = true;
            r->seg_cached = idx;
        }
        size_t take = plen - (size_t)so;
        if (take > n - done)
            take = n - done;
        memcpy((uint8_t *)buf + done, r->seg + so, take);
        done += take;
    }
    return (ssize_t)done;
}

void store_read_close(store_read_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->m)
        ls_mreader_close(r->m);
    free(r->data);
    free(r->seg);
    free(r);
}

/* ---- delete / update ---------------------------------------------------------------------- */
int store_delete_version(store_t *s, sv_t bucket, sv_t key, const char *version_id,
                         store_del_result_t *out)
{
    uint64_t bid;
    store_del_result_t tmp;
    if (!out)
        out = &tmp;
    memset(out, 0, sizeof *out);
    int rc = bucket_id(s, bucket, &bid);
    if (rc < 0)
        return rc;
    if (key_check(key) < 0)
        return version_id && *version_id ? -SE_NO_SUCH_VERSION : -SE_NO_SUCH_KEY;
    ls_req_t r = {.kind = LR_DELETE, .bid = bid, .bucket = bucket, .key = key,
                  .version_id = version_id, .vid_out = out->version_id,
                  .dm_out = &out->delete_marker};
    return ls_submit(s, &r);
}

int store_delete(store_t *s, sv_t bucket, sv_t key, const char *version_id)
{
    return store_delete_version(s, bucket, key, version_id, NULL);
}

int store_obj_update(store_t *s, sv_t bucket, const store_obj_t *meta)
{
    uint64_t bid;
    int rc = bucket_id(s, bucket, &bid);
    if (rc < 0)
        return rc;
    if (!meta->key || key_check((sv_t){meta->key, meta->key_len}) < 0)
        return -SE_NO_SUCH_KEY;
    ls_req_t r = {.kind = LR_OBJ_UPDATE, .bid = bid, .bucket = bucket, .meta = meta};
    return ls_submit(s, &r);
}

/* ---- debugging / tests -------------------------------------------------------------------- */
int store_local_data_path(store_t *s, sv_t bucket, sv_t key, char *out, size_t outsz)
{
    arena_t *a = arena_new();
    store_obj_t o;
    store_read_t *rd = NULL;
    int rc = store_get(s, bucket, key, NULL, a, &o, &rd);
    if (rc == 0) {
        if (rd->kind == LS_FILE)
            ls_data_path(s, rd->id, out, outsz);
        else
            rc = -ENOENT;
        store_read_close(rd);
    }
    arena_free(a);
    return rc;
}
