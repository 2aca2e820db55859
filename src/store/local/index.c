/* The LMDB index and the group-commit thread.
 *
 * One environment (DIR/index), named databases:
 *   sys      "bucket_seq" -> u64 BE (last bucket id handed out; ids are never reused)
 *   buckets  bucket name -> bucket record
 *   objects  bid(8, BE) + name part -> object record (current version)
 *   meta     ns + NUL + key -> opaque value
 *   conf     bid(8, BE) + doc name -> document
 *   gc       due_ms(8, BE) + file id(16) -> "" (old data files to unlink after the grace)
 *   refs     file id(16) -> u8 state (0 referenced, 1 queued for GC); lets startup tell
 *            orphan data files from live ones without scanning the objects
 *   uploads  bid + name part + upload id(16) -> upload record      (mpu.c)
 *   parts    upload id(16) + part number(4, BE) -> part record     (mpu.c)
 * (versions come later; docs/store.md has their key layout.)
 *
 * Name part of an object key K (keys never contain NUL):
 *   |K| <= Q:  K + 0x00
 *   |K| >  Q:  K[0:Q] + 0x01 + sha256(K)[0:8]     (LMDB keys are at most 511 bytes)
 * Both forms are prefix-free and sort like K itself, except that long keys sharing their first
 * Q bytes sort among themselves by hash; store_list re-sorts such a group by the full key kept
 * in the record.
 *
 * Group commit: every index write is a request queued to one committer thread, which applies
 * all pending requests in one write transaction and commits it (LMDB's two-step commit: data
 * pages written and fdatasynced, then the meta page; crash-safe on any filesystem, unlike
 * MDB_NOSYNC + mdb_env_sync, which can tear if the meta page reaches the disk first). The meta
 * page is synced by the next commit's flush, or by mdb_env_sync when none follows, and only
 * then are the batch's requests answered (MDB_NOMETASYNC; committer_main). Per-request checks (bucket still there, conditions) run inside that
 * transaction before the request writes anything, so a failed check affects only its request.
 * If a write itself fails (map full, I/O), the batch is aborted and replayed one request per
 * transaction so the failure stays with the request that caused it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

int ls_mdb_err(int mrc)
{
    switch (mrc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return -ENOENT;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return -ENOSPC;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return -SE_CORRUPT;
    case MDB_READERS_FULL:
        return -EAGAIN;
    default:
        return mrc > 0 ? -mrc : -EIO;
    }
}

size_t ls_lkey(uint64_t bid, const char *key, size_t klen, uint8_t *out)
{
    ls_be64_put(out, bid);
    if (klen <= LS_KEY_Q) {
        memcpy(out + LS_BID_LEN, key, klen);
        out[LS_BID_LEN + klen] = 0;
        return LS_BID_LEN + klen + 1;
    }
    uint8_t h[32];
    memcpy(out + LS_BID_LEN, key, LS_KEY_Q);
    out[LS_BID_LEN + LS_KEY_Q] = 1;
    sha256(key, klen, h);
    memcpy(out + LS_BID_LEN + LS_KEY_Q + 1, h, LS_KEY_HASH);
    return LS_LKEY_MAX;
}

bool ls_lkey_is_long(size_t lkey_len)
{
    return lkey_len == LS_LKEY_MAX;
}

/* ---- bucket records: u8 fmt, u64 id, i64 created, u8-length strings name, owner, region,
 * (room for more), u32 CRC32C of the preceding bytes --------------------------------------- */
static void bucket_encode(buf_t *out, const store_bucket_t *b)
{
    uint8_t h[17];
    h[0] = 1;
    ls_be64_put(h + 1, b->id);
    ls_be64_put(h + 9, (uint64_t)b->created_ms);
    buf_append(out, h, sizeof h);
    const char *strs[3] = {b->name, b->owner, b->region};
    size_t caps[3] = {sizeof b->name, sizeof b->owner, sizeof b->region};
    for (int i = 0; i < 3; i++) {
        size_t n = strnlen(strs[i], caps[i] - 1);
        buf_putc(out, (char)n);
        buf_append(out, strs[i], n);
    }
    uint32_t c = crc32c(0, out->p, out->len);
    uint8_t cb[4] = {(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24)};
    buf_append(out, cb, 4);
}

int ls_bucket_decode(const void *buf, size_t n, store_bucket_t *b)
{
    const uint8_t *p = buf;
    memset(b, 0, sizeof *b);
    if (n < 17 + 3 + 4 || p[0] != 1)
        return -SE_CORRUPT;
    const uint8_t *c = p + n - 4;
    uint32_t stored = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                      (uint32_t)c[3] << 24;
    if (crc32c(0, p, n - 4) != stored)
        return -SE_CORRUPT;
    b->id = ls_be64_get(p + 1);
    b->created_ms = (int64_t)ls_be64_get(p + 9);
    size_t off = 17, end = n - 4;
    char *strs[3] = {b->name, b->owner, b->region};
    size_t caps[3] = {sizeof b->name, sizeof b->owner, sizeof b->region};
    for (int i = 0; i < 3; i++) {
        if (off >= end)
            return -SE_CORRUPT;
        size_t l = p[off++];
        if (l >= caps[i] || l > end - off)
            return -SE_CORRUPT;
        memcpy(strs[i], p + off, l);
        strs[i][l] = 0;
        off += l;
    }
    return 0;
}

int ls_bucket_lookup(store_t *s, MDB_txn *txn, sv_t name, store_bucket_t *out)
{
    if (name.len == 0 || name.len >= sizeof out->name)
        return -SE_NO_SUCH_BUCKET;
    MDB_val k = {name.len, (void *)name.p}, v;
    int mrc = mdb_get(txn, s->db_buckets, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_BUCKET;
    if (mrc)
        return ls_mdb_err(mrc);
    return ls_bucket_decode(v.mv_data, v.mv_size, out);
}

/* ---- environment -------------------------------------------------------------------------- */
int ls_index_open(store_t *s, size_t map_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index", s->dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    int mrc = mdb_env_create(&s->env);
    if (mrc)
        return ls_mdb_err(mrc);
    mdb_env_set_maxdbs(s->env, 16);
    mdb_env_set_maxreaders(s->env, 1024);
    mdb_env_set_mapsize(s->env, map_size);
    if (mdb_env_get_maxkeysize(s->env) < (int)LS_MIN_MAXKEYSIZE) {
        log_error("store: liblmdb max key size %d < %u", mdb_env_get_maxkeysize(s->env),
                  (unsigned)LS_MIN_MAXKEYSIZE);
        mrc = ENOTSUP;
        goto out_env;
    }
    /* NOTLS: read transactions are not tied to threads (a thread may hold more than one).
     * NORDAHEAD: index pages are read at random. */
    /* NOMETASYNC: the committer makes each meta page durable with the next flush before it
     * answers (committer_main); see there. */
    mrc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NORDAHEAD | MDB_NOMETASYNC, 0600);
    if (mrc)
        goto out_env;
    MDB_txn *txn;
    mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc)
        goto out_env;
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {{"sys", &s->db_sys},   {"buckets", &s->db_buckets}, {"objects", &s->db_objects},
               {"meta", &s->db_meta}, {"conf", &s->db_conf},       {"gc", &s->db_gc},
               {"refs", &s->db_refs}};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        mrc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
        if (mrc) {
            mdb_txn_abort(txn);
            goto out_env;
        }
    }
    if ((mrc = ls_mpu_open(s, txn)) != 0) { /* uploads, parts */
        mdb_txn_abort(txn);
        goto out_env;
    }
    if ((mrc = ls_versions_open(s, txn)) != 0) { /* versions, nullver */
        mdb_txn_abort(txn);
        goto out_env;
    }
    mrc = mdb_txn_commit(txn);
    if (!mrc)
        mrc = mdb_env_sync(s->env, 1); /* NOMETASYNC: the meta page too */
    if (mrc)
        goto out_env;
    return 0;
out_env:
    log_error("store: cannot open index path=%s: %s", path, mdb_strerror(mrc));
    mdb_env_close(s->env);
    s->env = NULL;
    return ls_mdb_err(mrc);
}

void ls_index_close(store_t *s)
{
    if (s->env)
        mdb_env_close(s->env);
    s->env = NULL;
}

/* ---- applying requests -------------------------------------------------------------------- */
typedef ls_wctx_t wctx_t; /* local_int.h: mpu.c applies its requests with it too */

static int wput(wctx_t *w, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
    MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
    int mrc = mdb_put(w->txn, dbi, &key, &val, 0);
    if (mrc) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    return 0;
}

/* Deletes k; a missing key is not an error here. */
static int wdel(wctx_t *w, MDB_dbi dbi, const void *k, size_t kn)
{
    MDB_val key = {kn, (void *)k};
    int mrc = mdb_del(w->txn, dbi, &key, NULL);
    if (mrc && mrc != MDB_NOTFOUND) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    return 0;
}

int ls_gc_queue(store_t *s, MDB_txn *txn, const uint8_t id[LS_ID_LEN])
{
    uint8_t k[8 + LS_ID_LEN];
    ls_be64_put(k, (uint64_t)(now_ms() + s->gc_grace_ms));
    memcpy(k + 8, id, LS_ID_LEN);
    MDB_val key = {sizeof k, k}, val = {0, ""};
    int mrc = mdb_put(txn, s->db_gc, &key, &val, 0);
    uint8_t st = 1;
    MDB_val rk = {LS_ID_LEN, (void *)id}, rv = {1, &st};
    if (!mrc)
        mrc = mdb_put(txn, s->db_refs, &rk, &rv, 0);
    return ls_mdb_err(mrc);
}

/* Current record of lk, decoded without attrs: 0, -SE_NO_SUCH_KEY, -SE_CORRUPT. */
static int get_current(wctx_t *w, const uint8_t *lk, size_t lkn, sv_t key, store_obj_t *o,
                       ls_layout_t *l, MDB_val *raw)
{
    MDB_val k = {lkn, (void *)lk};
    int mrc = mdb_get(w->txn, w->s->db_objects, &k, raw);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_KEY;
    if (mrc)
        return ls_mdb_err(mrc);
    int rc = ls_rec_decode(raw->mv_data, raw->mv_size, LS_REC_NOATTRS, w->a, o, l);
    if (rc < 0) {
        log_error("store: corrupt index record key=%.*s", (int)key.len, key.p);
        return rc;
    }
    if (o->key_len != key.len || memcmp(o->key, key.p, key.len) != 0)
        return -SE_NO_SUCH_KEY; /* long-key hash collision: not this key */
    return 0;
}

static int check_bucket(wctx_t *w, ls_req_t *r)
{
    store_bucket_t b;
    int rc = ls_bucket_lookup(w->s, w->txn, r->bucket, &b);
    if (rc == 0 && b.id != r->bid)
        rc = -SE_NO_SUCH_BUCKET; /* deleted and re-created meanwhile */
    return rc;
}

static int apply_put(wctx_t *w, ls_req_t *r)
{
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    enum store_versioning vs;
    if ((rc = ls_versioning_state(w->s, w->txn, r->bid, &vs)) < 0)
        return rc;
    if (vs != STORE_VERSIONING_OFF)
        return ls_version_put(w, r, vs); /* versions.c: which version this write becomes */
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(r->bid, r->key.p, r->key.len, lk);
    store_obj_t old;
    ls_layout_t ol;
    MDB_val raw;
    int orc = get_current(w, lk, lkn, r->key, &old, &ol, &raw);
    if (orc < 0 && orc != -SE_NO_SUCH_KEY && orc != -SE_CORRUPT)
        return orc;
    bool exists = orc == 0 && !old.delete_marker;
    if (r->cond && r->cond->if_none_match_any && (exists || orc == -SE_CORRUPT))
        return -SE_PRECONDITION_FAILED;
    if (r->cond && r->cond->if_match_etag) {
        if (!exists)
            return orc == -SE_CORRUPT ? -SE_PRECONDITION_FAILED : -SE_NO_SUCH_KEY;
        if (strcmp(r->cond->if_match_etag, "*") != 0 &&
            strcmp(old.etag, r->cond->if_match_etag) != 0)
            return -SE_PRECONDITION_FAILED;
    }
    if ((rc = wput(w, w->s->db_objects, lk, lkn, r->val.p, r->val.len)) < 0)
        return rc;
    if (r->new_file_id) {
        uint8_t st = 0;
        if ((rc = wput(w, w->s->db_refs, r->new_file_id, LS_ID_LEN, &st, 1)) < 0)
            return rc;
    }
    if (orc == 0 && (rc = ls_gc_layout(w->s, w->txn, &ol)) < 0) {
        w->fatal = true;
        return rc;
    }
    return 0;
}

static int apply_delete(wctx_t *w, ls_req_t *r)
{
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    enum store_versioning vs;
    if ((rc = ls_versioning_state(w->s, w->txn, r->bid, &vs)) < 0)
        return rc;
    if (vs != STORE_VERSIONING_OFF || (r->version_id && *r->version_id))
        return ls_version_delete(w, r, vs); /* delete markers, or one version for good */
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(r->bid, r->key.p, r->key.len, lk);
    store_obj_t old;
    ls_layout_t ol;
    MDB_val raw;
    int orc = get_current(w, lk, lkn, r->key, &old, &ol, &raw);
    if (orc == -SE_CORRUPT) { /* let a corrupt record be deleted; its file becomes an orphan */
        return wdel(w, w->s->db_objects, lk, lkn);
    }
    if (orc < 0)
        return orc;
    if ((rc = wdel(w, w->s->db_objects, lk, lkn)) < 0)
        return rc;
    if ((rc = ls_gc_layout(w->s, w->txn, &ol)) < 0) {
        w->fatal = true;
        return rc;
    }
    return 0;
}

static int apply_obj_update(wctx_t *w, ls_req_t *r)
{
    int rc = check_bucket(w, r);
    if (rc < 0)
        return rc;
    const store_obj_t *m = r->meta;
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(r->bid, m->key, m->key_len, lk);
    store_obj_t old;
    ls_layout_t ol;
    MDB_val raw;
    rc = get_current(w, lk, lkn, (sv_t){m->key, m->key_len}, &old, &ol, &raw);
    if (rc < 0)
        return rc;
    /* New metadata, old data: size, layout, version and delete marker are the record's own. */
    store_obj_t n = *m;
    n.key = old.key;
    n.key_len = old.key_len;
    n.size = old.size;
    n.mtime_ms = m->mtime_ms ? m->mtime_ms : now_ms();
    if (!m->etag[0])
        memcpy(n.etag, old.etag, sizeof n.etag);
    memcpy(n.version_id, old.version_id, sizeof n.version_id);
    n.delete_marker = old.delete_marker;
    buf_t b = BUF_INIT;
    ls_rec_encode(&b, &n, &ol, ol.inline_data); /* copies the inline bytes before the put */
    rc = wput(w, w->s->db_objects, lk, lkn, b.p, b.len);
    if (rc == 0 && old.version_id[0]) /* a versioned key: its `versions` copy too */
        rc = ls_version_mirror(w, lk, lkn, old.version_id, b.p, b.len);
    buf_release(&b);
    return rc;
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

static int apply_meta(wctx_t *w, ls_req_t *r)
{
    uint8_t k[511]; /* LMDB's key limit */
    size_t kn = meta_key(r->ns, r->key, k, sizeof k);
    if (!kn)
        return -SE_INVALID_ARGUMENT;
    if (r->kind == LR_META_PUT)
        return wput(w, w->s->db_meta, k, kn, r->val.p, r->val.len);
    MDB_val key = {kn, k}, v;
    int mrc = mdb_get(w->txn, w->s->db_meta, &key, &v);
    if (mrc)
        return ls_mdb_err(mrc);
    return wdel(w, w->s->db_meta, k, kn);
}

static int apply_bucket_create(wctx_t *w, ls_req_t *r)
{
    store_bucket_t *b = r->bkt, tmp;
    int rc = ls_bucket_lookup(w->s, w->txn, r->bucket, &tmp);
    if (rc == 0)
        return -SE_BUCKET_EXISTS;
    if (rc != -SE_NO_SUCH_BUCKET)
        return rc;
    MDB_val k = {10, "bucket_seq"}, v;
    uint64_t seq = 0;
    int mrc = mdb_get(w->txn, w->s->db_sys, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        seq = ls_be64_get(v.mv_data);
    else if (mrc && mrc != MDB_NOTFOUND)
        return ls_mdb_err(mrc);
    uint8_t sb[8];
    ls_be64_put(sb, seq + 1);
    if ((rc = wput(w, w->s->db_sys, "bucket_seq", 10, sb, 8)) < 0)
        return rc;
    store_bucket_t nb = *b;
    nb.id = seq + 1;
    if (!nb.created_ms)
        nb.created_ms = now_ms();
    if (!nb.region[0])
        snprintf(nb.region, sizeof nb.region, "us-east-1");
    buf_t e = BUF_INIT;
    bucket_encode(&e, &nb);
    rc = wput(w, w->s->db_buckets, r->bucket.p, r->bucket.len, e.p, e.len);
    buf_release(&e);
    if (rc == 0)
        *b = nb; /* only on success: the caller's struct is untouched by a failed create */
    return rc;
}

/* Deletes every key with the given prefix in dbi. */
static int del_prefix(wctx_t *w, MDB_dbi dbi, const uint8_t *pfx, size_t pn)
{
    MDB_cursor *c;
    int mrc = mdb_cursor_open(w->txn, dbi, &c);
    if (mrc) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    MDB_val k = {pn, (void *)pfx}, v;
    mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size >= pn && memcmp(k.mv_data, pfx, pn) == 0) {
        mrc = mdb_cursor_del(c, 0);
        if (mrc)
            break;
        mrc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
    }
    mdb_cursor_close(c);
    if (mrc && mrc != MDB_NOTFOUND && mrc != EINVAL) {
        w->fatal = true;
        return ls_mdb_err(mrc);
    }
    return 0;
}

static bool has_prefix(wctx_t *w, MDB_dbi dbi, const uint8_t *pfx, size_t pn)
{
    MDB_cursor *c;
    if (mdb_cursor_open(w->txn, dbi, &c))
        return true; /* be conservative */
    MDB_val k = {pn, (void *)pfx}, v;
    int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    bool found = mrc == 0 && k.mv_size >= pn && memcmp(k.mv_data, pfx, pn) == 0;
    mdb_cursor_close(c);
    return found;
}

static int apply_bucket_delete(wctx_t *w, ls_req_t *r)
{
    store_bucket_t b;
    int rc = ls_bucket_lookup(w->s, w->txn, r->bucket, &b);
    if (rc < 0)
        return rc;
    uint8_t pfx[8];
    ls_be64_put(pfx, b.id);
    if (has_prefix(w, w->s->db_objects, pfx, 8) || ls_versions_any(w->s, w->txn, b.id))
        return -SE_BUCKET_NOT_EMPTY;
    if ((rc = del_prefix(w, w->s->db_conf, pfx, 8)) < 0)
        return rc;
    if ((rc = ls_mpu_bucket_drop(w, b.id)) < 0) /* in-progress uploads go with the bucket */
        return rc;
    return wdel(w, w->s->db_buckets, r->bucket.p, r->bucket.len);
}

static int apply_conf(wctx_t *w, ls_req_t *r)
{
    store_bucket_t b;
    int rc = ls_bucket_lookup(w->s, w->txn, r->bucket, &b);
    if (rc < 0)
        return rc;
    uint8_t k[8 + 256];
    if (r->key.len == 0 || r->key.len > 256)
        return -SE_INVALID_ARGUMENT;
    ls_be64_put(k, b.id);
    memcpy(k + 8, r->key.p, r->key.len);
    if (r->val.len == 0)
        return wdel(w, w->s->db_conf, k, 8 + r->key.len);
    return wput(w, w->s->db_conf, k, 8 + r->key.len, r->val.p, r->val.len);
}

static int apply_gc_done(wctx_t *w, ls_req_t *r)
{
    for (size_t i = 0; i < r->ngc; i++) {
        int rc = wdel(w, w->s->db_gc, r->gc_ids[i], 8 + LS_ID_LEN);
        if (rc == 0)
            rc = wdel(w, w->s->db_refs, r->gc_ids[i] + 8, LS_ID_LEN);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int apply(wctx_t *w, ls_req_t *r)
{
    switch (r->kind) {
    case LR_PUT:
        return apply_put(w, r);
    case LR_DELETE:
        return apply_delete(w, r);
    case LR_OBJ_UPDATE:
        return apply_obj_update(w, r);
    case LR_META_PUT:
    case LR_META_DEL:
        return apply_meta(w, r);
    case LR_BUCKET_CREATE:
        return apply_bucket_create(w, r);
    case LR_BUCKET_DELETE:
        return apply_bucket_delete(w, r);
    case LR_CONF_PUT:
        return apply_conf(w, r);
    case LR_GC_DONE:
        return apply_gc_done(w, r);
    case LR_MPU_CREATE:
    case LR_MPU_ABORT:
    case LR_PART_PUT:
    case LR_MPU_COMPLETE:
        return ls_mpu_apply(w, r);
    }
    return -EINVAL;
}

/* user: the batch holds a caller's request (GC bookkeeping alone does not count as a fault
 * point, so fault-injection tests see a deterministic sequence) */
static int commit_txn(MDB_txn *txn, bool user)
{
    int rc = user ? ls_fault_hit(LS_FAULT_INDEX_COMMIT) : 0;
    if (rc < 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return ls_mdb_err(mdb_txn_commit(txn));
}

/* Applies a chain of requests in one transaction. Returns 0 when committed (each r->rc holds
 * the request's own result), 1 if a write failed and the batch must be replayed one by one,
 * or a negative error that applies to every request. */
static int run_batch(store_t *s, ls_req_t *head, ls_req_t *stop, arena_t *a, int *commit_rc)
{
    wctx_t w = {s, NULL, a, false};
    int mrc = mdb_txn_begin(s->env, NULL, 0, &w.txn);
    if (mrc)
        return ls_mdb_err(mrc);
    bool user = false;
    for (ls_req_t *r = head; r != stop; r = r->next) {
        r->rc = apply(&w, r);
        user |= r->kind != LR_GC_DONE;
        if (w.fatal) {
            mdb_txn_abort(w.txn);
            return head->next == stop ? r->rc : 1;
        }
    }
    int rc = commit_txn(w.txn, user);
    if (rc < 0)
        *commit_rc = rc;
    return rc;
}

static uint64_t last_txnid(store_t *s)
{
    MDB_envinfo ei;
    return mdb_env_info(s->env, &ei) == 0 ? (uint64_t)ei.me_last_txnid : 0;
}

/* Tells every request of a chain that it is done (s->mu held). */
static void release(ls_req_t *chain)
{
    for (ls_req_t *r = chain, *next; r; r = next) {
        next = r->next; /* r may vanish once done is set and the mutex released */
        r->done = true;
        pthread_cond_signal(&r->cv);
    }
}

/* The committer. The environment runs with MDB_NOMETASYNC: a commit writes the batch's pages,
 * fdatasyncs them, then writes the meta page without syncing it. That meta page is made
 * durable by the next fdatasync of the file: the next batch's commit (which syncs its own
 * pages before writing its meta page), or mdb_env_sync when no batch follows. A batch is
 * released to its callers only after that, so nothing is acknowledged before its index
 * update is durable, and a busy committer pays one flush per commit instead of two (data,
 * then the meta page through LMDB's O_DSYNC descriptor). Crash safety is LMDB's: its data
 * pages are synced before the meta page that points to them is written, and pages freed by
 * the last two transactions are never reused, so after a crash the index is the last
 * durable meta page's (and every released request is in it). */
static void *committer_main(void *arg)
{
    store_t *s = arg;
    ls_req_t *unsynced = NULL, *unsynced_tail = NULL; /* committed; meta page not yet synced */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->q_head && !s->stopping && !unsynced)
            pthread_cond_wait(&s->cv_commit, &s->mu);
        if (!s->q_head) {
            if (!unsynced)
                break; /* stopping, and everything released */
            pthread_mutex_unlock(&s->mu);
            int src = ls_mdb_err(mdb_env_sync(s->env, 1));
            pthread_mutex_lock(&s->mu);
            if (src < 0) {
                log_error("store: index sync failed: %s", strata_strerror(src));
                for (ls_req_t *r = unsynced; r; r = r->next)
                    r->rc = src;
            }
            release(unsynced);
            unsynced = unsynced_tail = NULL;
            s->st.syncs++;
            continue;
        }
        ls_req_t *batch = s->q_head, *tail = s->q_tail;
        s->q_head = s->q_tail = NULL;
        pthread_mutex_unlock(&s->mu);

        arena_t *a = arena_new();
        uint64_t n = 0, txn0 = last_txnid(s);
        int commit_rc = 0; /* a failed commit: its flush may have lost the last meta page */
        for (ls_req_t *r = batch; r; r = r->next)
            n++;
        int rc = run_batch(s, batch, NULL, a, &commit_rc);
        if (rc == 1) { /* isolate the failing request */
            for (ls_req_t *r = batch; r; r = r->next) {
                int one = run_batch(s, r, r->next, a, &commit_rc);
                if (one < 0)
                    r->rc = one;
            }
        } else if (rc < 0) {
            log_error("store: index transaction failed: %s (%llu requests)", strata_strerror(rc),
                      (unsigned long long)n);
            for (ls_req_t *r = batch; r; r = r->next)
                r->rc = rc;
        }
        arena_free(a);
        /* Did a transaction commit (and so fdatasync the file after the previous meta page
         * was written)? A batch that wrote nothing commits nothing and syncs nothing. */
        bool synced = last_txnid(s) != txn0;

        pthread_mutex_lock(&s->mu);
        s->st.batches++;
        s->st.items += n;
        if (n > s->st.max_batch)
            s->st.max_batch = n;
        if (commit_rc < 0 && unsynced) {
            /* A failed flush may have dropped the previous meta page (and a later flush would
             * not say so): its requests cannot be confirmed. They may or may not persist. */
            log_error("store: index flush failed: %s; %s", strata_strerror(commit_rc),
                      "the previous batch is answered with the error");
            for (ls_req_t *r = unsynced; r; r = r->next)
                if (r->rc == 0)
                    r->rc = commit_rc;
            release(unsynced);
            unsynced = unsynced_tail = NULL;
        } else if (synced && unsynced) {
            release(unsynced);
            unsynced = unsynced_tail = NULL;
        }
        if (!synced && !unsynced) {
            release(batch); /* wrote nothing and read only durable state */
        } else {
            /* wait for the next flush (a batch that wrote nothing may have read what an
             * unsynced one wrote: it is answered with or after that one) */
            if (unsynced_tail)
                unsynced_tail->next = batch;
            else
                unsynced = batch;
            unsynced_tail = tail;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ls_submit(store_t *s, ls_req_t *r)
{
    r->next = NULL;
    r->done = false;
    r->rc = 0;
    pthread_cond_init(&r->cv, NULL);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        pthread_cond_destroy(&r->cv);
        return -ESHUTDOWN;
    }
    if (s->q_tail)
        s->q_tail->next = r;
    else
        s->q_head = r;
    s->q_tail = r;
    pthread_cond_signal(&s->cv_commit);
    while (!r->done)
        pthread_cond_wait(&r->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&r->cv);
    return r->rc;
}

int ls_committer_start(store_t *s)
{
    int rc = pthread_create(&s->committer, NULL, committer_main, s);
    return rc ? -rc : 0;
}

void ls_committer_stop(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv_commit);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->committer, NULL);
}

/* ---- for mpu.c ------------------------------------------------------------------------------ */
int ls_wput(ls_wctx_t *w, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
    return wput(w, dbi, k, kn, v, vn);
}

int ls_wdel(ls_wctx_t *w, MDB_dbi dbi, const void *k, size_t kn)
{
    return wdel(w, dbi, k, kn);
}

int ls_apply_put(ls_wctx_t *w, ls_req_t *r)
{
    return apply_put(w, r);
}
