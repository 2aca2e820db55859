/* Versioning on the local backend: version ids, the versioned write paths (run inside the
 * committer's transaction), version lookups, and ListObjectVersions.
 *
 * Databases (docs/store.md):
 *   versions  bid + name part + ~vseq(8, BE) -> record of every version and delete marker
 *             of keys written while the bucket's versioning was configured; newest first
 *   nullver   bid + name part -> vseq(8, BE) of the key's "null" version in `versions`
 *   sys       "version_seq" -> u64 BE, the last vseq handed out (global, never reused)
 *   conf      bid + "versioning" -> "Enabled" | "Suspended" (absent: never configured)
 *
 * `objects` stays the current-version view: in a versioned key it holds a copy of the latest
 * version's record unless that is a delete marker (then no entry), so GET and ListObjects
 * cost what they cost without versioning. An object written before versioning was first
 * configured ("legacy": its record's version_id is "") lives only in `objects`; it is the
 * key's null version. The first versioned write to such a key moves it into `versions`
 * (Enabled: kept as the null version; Suspended: replaced), so a key is either legacy (one
 * entry in `objects`) or versioned (everything in `versions`), and enabling versioning costs
 * nothing up front. ListObjectVersions merges the two: a walk of `versions` plus the legacy
 * entries of `objects`, which it reaches lazily (an `objects` entry is only examined when it
 * sorts before the head of `versions`, and every non-legacy one there mirrors a key that has
 * `versions` entries), so a page stays O(page * log n).
 *
 * Which version a write becomes is decided in one place, ls_version_put(), for PUT, copy and
 * completed multipart uploads alike (index.c's apply_put calls it whenever the bucket's
 * versioning is configured).
 *
 * Version ids: 32 lowercase hex characters = vseq(8, BE) + 8 random bytes. The vseq finds the
 * version with one B-tree lookup; the random half makes ids unguessable and is checked against
 * the record. A string of any other shape is "malformed" (-SE_INVALID_VERSION_ID); a
 * well-formed id that matches nothing is -SE_NO_SUCH_VERSION.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

#define VCONF_NAME "versioning"

/* ---- version ids -------------------------------------------------------------------------- */
void ls_vid_encode(uint64_t vseq, const uint8_t rnd[8], char out[LS_VID_LEN + 1])
{
    static const char hx[] = "0123456789abcdef";
    uint8_t raw[16];
    ls_be64_put(raw, vseq);
    memcpy(raw + 8, rnd, 8);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hx[raw[i] >> 4];
        out[2 * i + 1] = hx[raw[i] & 15];
    }
    out[LS_VID_LEN] = 0;
}

int ls_vid_decode(const char *s, size_t n, uint64_t *vseq)
{
    if (n != LS_VID_LEN)
        return -SE_INVALID_VERSION_ID;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -SE_INVALID_VERSION_ID;
        v = v << 4 | d;
    }
    for (size_t i = 16; i < LS_VID_LEN; i++) {
        unsigned c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -SE_INVALID_VERSION_ID;
    }
    if (v == 0)
        return -SE_INVALID_VERSION_ID;
    *vseq = v;
    return 0;
}

/* ---- keys --------------------------------------------------------------------------------- */
static size_t vkey(const uint8_t *lk, size_t lkn, uint64_t vseq, uint8_t *out)
{
    memcpy(out, lk, lkn);
    ls_be64_put(out + lkn, ~vseq);
    return lkn + 8;
}

int ls_versions_open(store_t *s, MDB_txn *txn)
{
    int mrc = mdb_dbi_open(txn, "versions", MDB_CREATE, &s->db_versions);
    if (!mrc)
        mrc = mdb_dbi_open(txn, "nullver", MDB_CREATE, &s->db_nullver);
    return mrc;
}

/* ---- state -------------------------------------------------------------------------------- */
int ls_versioning_state(store_t *s, MDB_txn *txn, uint64_t bid, enum store_versioning *out)
{
    uint8_t k[8 + sizeof VCONF_NAME - 1];
    ls_be64_put(k, bid);
    memcpy(k + 8, VCONF_NAME, sizeof VCONF_NAME - 1);
    MDB_val mk = {sizeof k, k}, v;
    int mrc = mdb_get(txn, s->db_conf, &mk, &v);
    *out = STORE_VERSIONING_OFF;
    if (mrc == MDB_NOTFOUND)
        return 0;
    if (mrc)
        return ls_mdb_err(mrc);
    if (v.mv_size == 7 && memcmp(v.mv_data, "Enabled", 7) == 0)
        *out = STORE_VERSIONING_ENABLED;
    else if (v.mv_size == 9 && memcmp(v.mv_data, "Suspended", 9) == 0)
        *out = STORE_VERSIONING_SUSPENDED;
    return 0;
}

int store_versioning_put(store_t *s, sv_t bucket, enum store_versioning v)
{
    if (v == STORE_VERSIONING_ENABLED)
        return store_bucket_conf_put(s, bucket, VCONF_NAME, SV("Enabled"));
    if (v == STORE_VERSIONING_SUSPENDED)
        return store_bucket_conf_put(s, bucket, VCONF_NAME, SV("Suspended"));
    return -SE_INVALID_ARGUMENT;
}

int store_versioning_get(store_t *s, sv_t bucket, enum store_versioning *out)
{
    MDB_txn *txn;
    int rc = ls_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    store_bucket_t b;
    if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) == 0)
        rc = ls_versioning_state(s, txn, b.id, out);
    mdb_txn_abort(txn);
    return rc;
}

/* ---- helpers inside the write transaction ------------------------------------------------- */
static int next_vseq(ls_wctx_t *w, uint64_t *out)
{
    MDB_val k = {11, "version_seq"}, v;
    uint64_t seq = 0;
    int mrc = mdb_get(w->txn, w->s->db_sys, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        seq = ls_be64_get(v.mv_data);
    else if (mrc && mrc != MDB_NOTFOUND)
        return ls_mdb_err(mrc);
    uint8_t sb[8];
    ls_be64_put(sb, seq + 1);
    int rc = ls_wput(w, w->s->db_sys, "version_seq", 11, sb, 8);
    if (rc == 0)
        *out = seq + 1;
    return rc;
}

static void new_vid(uint64_t vseq, char out[LS_VID_LEN + 1])
{
    uint8_t rnd[8];
    random_bytes(rnd, sizeof rnd);
    ls_vid_encode(vseq, rnd, out);
}

/* A copy of a value read in the write txn: an LMDB pointer is only good until the next put. */
static MDB_val vcopy(arena_t *a, MDB_val v)
{
    void *p = arena_alloc(a, v.mv_size ? v.mv_size : 1);
    if (v.mv_size)
        memcpy(p, v.mv_data, v.mv_size);
    return (MDB_val){v.mv_size, p};
}

/* The current (objects) record of lk: 0 with *cur filled (and *raw a private copy),
 * -SE_NO_SUCH_KEY, other errors. A long-key hash collision reads as absent. */
static int cur_get(ls_wctx_t *w, const uint8_t *lk, size_t lkn, sv_t key, store_obj_t *cur,
                   ls_layout_t *cl, MDB_val *raw)
{
    MDB_val k = {lkn, (void *)lk}, v;
    int mrc = mdb_get(w->txn, w->s->db_objects, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_KEY;
    if (mrc)
        return ls_mdb_err(mrc);
    *raw = vcopy(w->a, v);
    int rc = ls_rec_decode(raw->mv_data, raw->mv_size, 0, w->a, cur, cl);
    if (rc < 0) {
        log_error("store: corrupt index record key=%.*s", SV_ARG(key));
        return rc;
    }
    if (cur->key_len != key.len || memcmp(cur->key, key.p, key.len) != 0)
        return -SE_NO_SUCH_KEY;
    return 0;
}

static int nullver_get(ls_wctx_t *w, const uint8_t *lk, size_t lkn, uint64_t *vseq)
{
    MDB_val k = {lkn, (void *)lk}, v;
    int mrc = mdb_get(w->txn, w->s->db_nullver, &k, &v);
    if (mrc)
        return mrc == MDB_NOTFOUND ? -ENOENT : ls_mdb_err(mrc);
    if (v.mv_size != 8)
        return -SE_CORRUPT;
    *vseq = ls_be64_get(v.mv_data);
    return 0;
}

static int nullver_put(ls_wctx_t *w, const uint8_t *lk, size_t lkn, uint64_t vseq)
{
    uint8_t b[8];
    ls_be64_put(b, vseq);
    return ls_wput(w, w->s->db_nullver, lk, lkn, b, 8);
}

/* Re-encodes obj with a new version id into a buffer in the txn arena. */
static MDB_val reencode(ls_wctx_t *w, store_obj_t *obj, const ls_layout_t *l, const char *vid)
{
    snprintf(obj->version_id, sizeof obj->version_id, "%s", vid);
    buf_t b = BUF_INIT;
    ls_rec_encode(&b, obj, l, l->kind == LS_INLINE ? (const void *)l->inline_data : NULL);
    MDB_val out = vcopy(w->a, (MDB_val){b.len, b.p});
    buf_release(&b);
    return out;
}

/* Moves a legacy current record (version_id "") into `versions` as the key's null version. */
static int materialize(ls_wctx_t *w, const uint8_t *lk, size_t lkn, store_obj_t *cur,
                       const ls_layout_t *cl)
{
    uint64_t vseq;
    int rc = next_vseq(w, &vseq);
    if (rc < 0)
        return rc;
    MDB_val rec = reencode(w, cur, cl, "null");
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, vseq, vk);
    if ((rc = ls_wput(w, w->s->db_versions, vk, vkn, rec.mv_data, rec.mv_size)) < 0)
        return rc;
    return nullver_put(w, lk, lkn, vseq);
}

/* Drops the key's null version for good (Suspended writes replace it): the `versions` entry
 * named by nullver, or a legacy current record. Its data is queued for GC. The caller then
 * writes the new null version (and nullver, objects). */
static int drop_null(ls_wctx_t *w, const uint8_t *lk, size_t lkn, bool cur_legacy,
                     const ls_layout_t *cl)
{
    uint64_t nv;
    int rc = nullver_get(w, lk, lkn, &nv);
    if (rc == -ENOENT) {
        if (!cur_legacy)
            return 0;
        if ((rc = ls_gc_layout(w->s, w->txn, cl)) < 0)
            w->fatal = true;
        return rc;
    }
    if (rc < 0)
        return rc;
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, nv, vk);
    MDB_val k = {vkn, vk}, v;
    int mrc = mdb_get(w->txn, w->s->db_versions, &k, &v);
    if (mrc == 0) {
        store_obj_t o;
        ls_layout_t l;
        if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, w->a, &o, &l) == 0 &&
            !o.delete_marker && (rc = ls_gc_layout(w->s, w->txn, &l)) < 0) {
            w->fatal = true;
            return rc;
        }
        if ((rc = ls_wdel(w, w->s->db_versions, vk, vkn)) < 0)
            return rc;
    } else if (mrc != MDB_NOTFOUND) {
        return ls_mdb_err(mrc);
    }
    return ls_wdel(w, w->s->db_nullver, lk, lkn);
}

/* The sequence number and id of a write's new version: Enabled keeps a legacy current record
 * as the null version and gets a fresh id; Suspended replaces the null version. */
static int new_version(ls_wctx_t *w, enum store_versioning vs, const uint8_t *lk, size_t lkn,
                       bool cur_legacy, store_obj_t *cur, const ls_layout_t *cl, uint64_t *vseq,
                       char vid[LS_VID_LEN + 1])
{
    int rc;
    if (vs == STORE_VERSIONING_ENABLED) {
        if (cur_legacy && (rc = materialize(w, lk, lkn, cur, cl)) < 0)
            return rc;
        if ((rc = next_vseq(w, vseq)) < 0)
            return rc;
        new_vid(*vseq, vid);
    } else {
        if ((rc = drop_null(w, lk, lkn, cur_legacy, cl)) < 0)
            return rc;
        if ((rc = next_vseq(w, vseq)) < 0)
            return rc;
        snprintf(vid, LS_VID_LEN + 1, "null");
    }
    return 0;
}

/* ---- the versioned write paths ------------------------------------------------------------ */
int ls_version_put(ls_wctx_t *w, ls_req_t *r, enum store_versioning vs)
{
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(r->bid, r->key.p, r->key.len, lk);
    store_obj_t cur;
    ls_layout_t cl;
    MDB_val craw;
    int crc = cur_get(w, lk, lkn, r->key, &cur, &cl, &craw);
    if (crc < 0 && crc != -SE_NO_SUCH_KEY && crc != -SE_CORRUPT)
        return crc;
    bool exists = crc == 0;
    bool cur_legacy = exists && cur.version_id[0] == 0;
    const store_cond_t *cond = r->cond;
    if (cond && cond->if_none_match_any && (exists || crc == -SE_CORRUPT))
        return -SE_PRECONDITION_FAILED;
    if (cond && cond->if_match_etag) {
        if (!exists)
            return crc == -SE_CORRUPT ? -SE_PRECONDITION_FAILED : -SE_NO_SUCH_KEY;
        if (strcmp(cond->if_match_etag, "*") != 0 && strcmp(cur.etag, cond->if_match_etag) != 0)
            return -SE_PRECONDITION_FAILED;
    }

    store_obj_t obj;
    ls_layout_t l;
    int rc = ls_rec_decode(r->val.p, r->val.len, 0, w->a, &obj, &l);
    if (rc < 0)
        return rc;
    char vid[LS_VID_LEN + 1];
    uint64_t vseq;
    if ((rc = new_version(w, vs, lk, lkn, cur_legacy, &cur, &cl, &vseq, vid)) < 0)
        return rc;
    MDB_val rec = reencode(w, &obj, &l, vid);
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, vseq, vk);
    if ((rc = ls_wput(w, w->s->db_versions, vk, vkn, rec.mv_data, rec.mv_size)) < 0 ||
        (rc = ls_wput(w, w->s->db_objects, lk, lkn, rec.mv_data, rec.mv_size)) < 0)
        return rc;
    if (vs == STORE_VERSIONING_SUSPENDED && (rc = nullver_put(w, lk, lkn, vseq)) < 0)
        return rc;
    if (r->new_file_id) {
        uint8_t st = 0;
        if ((rc = ls_wput(w, w->s->db_refs, r->new_file_id, LS_ID_LEN, &st, 1)) < 0)
            return rc;
    }
    if (r->vid_out)
        snprintf(r->vid_out, 64, "%s", vid);
    return 0;
}

/* Delete without a version id in a versioned bucket: a delete marker. */
static int add_delete_marker(ls_wctx_t *w, ls_req_t *r, enum store_versioning vs,
                             const uint8_t *lk, size_t lkn)
{
    store_obj_t cur;
    ls_layout_t cl;
    MDB_val craw;
    int crc = cur_get(w, lk, lkn, r->key, &cur, &cl, &craw);
    if (crc < 0 && crc != -SE_NO_SUCH_KEY && crc != -SE_CORRUPT)
        return crc;
    bool cur_legacy = crc == 0 && cur.version_id[0] == 0;
    int rc;
    char vid[LS_VID_LEN + 1];
    uint64_t vseq;
    if ((rc = new_version(w, vs, lk, lkn, cur_legacy, &cur, &cl, &vseq, vid)) < 0)
        return rc;
    store_obj_t dm = {0};
    dm.key = r->key.p;
    dm.key_len = r->key.len;
    dm.mtime_ms = now_ms();
    dm.delete_marker = true;
    snprintf(dm.storage_class, sizeof dm.storage_class, "STANDARD");
    if (r->owner)
        snprintf(dm.owner, sizeof dm.owner, "%s", r->owner);
    ls_layout_t dl = {.kind = LS_INLINE, .inline_data = (const uint8_t *)""};
    MDB_val rec = reencode(w, &dm, &dl, vid);
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, vseq, vk);
    if ((rc = ls_wput(w, w->s->db_versions, vk, vkn, rec.mv_data, rec.mv_size)) < 0 ||
        (rc = ls_wdel(w, w->s->db_objects, lk, lkn)) < 0)
        return rc;
    if (vs == STORE_VERSIONING_SUSPENDED && (rc = nullver_put(w, lk, lkn, vseq)) < 0)
        return rc;
    if (r->vid_out)
        snprintf(r->vid_out, 64, "%s", vid);
    if (r->dm_out)
        *r->dm_out = true;
    return 0;
}

/* The first (newest) `versions` entry of lk: 0 with *vk (a copy) and *v, or -ENOENT. */
static int newest(MDB_txn *txn, MDB_dbi dbi, const uint8_t *lk, size_t lkn, MDB_val *k,
                  MDB_val *v)
{
    MDB_cursor *c;
    int mrc = mdb_cursor_open(txn, dbi, &c);
    if (mrc)
        return ls_mdb_err(mrc);
    MDB_val sk = {lkn, (void *)lk};
    mrc = mdb_cursor_get(c, &sk, v, MDB_SET_RANGE);
    int rc = 0;
    if (mrc == MDB_NOTFOUND || (mrc == 0 && (sk.mv_size != lkn + 8 || memcmp(sk.mv_data, lk, lkn))))
        rc = -ENOENT;
    else if (mrc)
        rc = ls_mdb_err(mrc);
    else
        *k = sk;
    mdb_cursor_close(c);
    return rc;
}

/* Delete of one version ("null" or an id), whatever the bucket's state. */
static int delete_one_version(ls_wctx_t *w, ls_req_t *r, const uint8_t *lk, size_t lkn)
{
    const char *want = r->version_id;
    uint64_t vseq;
    int rc;
    bool is_null = strcmp(want, "null") == 0;
    if (is_null) {
        rc = nullver_get(w, lk, lkn, &vseq);
        if (rc == -ENOENT) { /* a legacy current record is the null version */
            store_obj_t cur;
            ls_layout_t cl;
            MDB_val craw;
            int crc = cur_get(w, lk, lkn, r->key, &cur, &cl, &craw);
            if (crc == -SE_NO_SUCH_KEY)
                return -SE_NO_SUCH_VERSION;
            if (crc < 0 && crc != -SE_CORRUPT)
                return crc;
            if (crc == 0 && cur.version_id[0] != 0)
                return -SE_NO_SUCH_VERSION;
            if ((rc = ls_wdel(w, w->s->db_objects, lk, lkn)) < 0)
                return rc;
            if (crc == 0 && (rc = ls_gc_layout(w->s, w->txn, &cl)) < 0)
                w->fatal = true;
            return rc;
        }
        if (rc < 0)
            return rc;
    } else if ((rc = ls_vid_decode(want, strlen(want), &vseq)) < 0) {
        return rc;
    }
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, vseq, vk);
    MDB_val k = {vkn, vk}, v;
    int mrc = mdb_get(w->txn, w->s->db_versions, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_VERSION;
    if (mrc)
        return ls_mdb_err(mrc);
    store_obj_t o;
    ls_layout_t l;
    bool corrupt = ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS, w->a, &o, &l) < 0;
    if (!corrupt && (o.key_len != r->key.len || memcmp(o.key, r->key.p, r->key.len) != 0 ||
                     strcmp(o.version_id, is_null ? "null" : want) != 0))
        return -SE_NO_SUCH_VERSION;
    MDB_val nk, nv;
    if ((rc = newest(w->txn, w->s->db_versions, lk, lkn, &nk, &nv)) < 0)
        return rc == -ENOENT ? -SE_CORRUPT : rc;
    bool was_latest = nk.mv_size == vkn && memcmp(nk.mv_data, vk, vkn) == 0;
    if ((rc = ls_wdel(w, w->s->db_versions, vk, vkn)) < 0)
        return rc;
    if (!corrupt && !o.delete_marker && (rc = ls_gc_layout(w->s, w->txn, &l)) < 0) {
        w->fatal = true;
        return rc;
    }
    if (is_null && (rc = ls_wdel(w, w->s->db_nullver, lk, lkn)) < 0)
        return rc;
    if (was_latest) { /* the next newest becomes current, unless it is a delete marker */
        rc = newest(w->txn, w->s->db_versions, lk, lkn, &nk, &nv);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        store_obj_t n;
        ls_layout_t nl;
        if (rc == 0 && ls_rec_decode(nv.mv_data, nv.mv_size, LS_REC_NOATTRS, w->a, &n, &nl) == 0 &&
            !n.delete_marker) {
            MDB_val c = vcopy(w->a, nv);
            if ((rc = ls_wput(w, w->s->db_objects, lk, lkn, c.mv_data, c.mv_size)) < 0)
                return rc;
        } else if ((rc = ls_wdel(w, w->s->db_objects, lk, lkn)) < 0) {
            return rc;
        }
    }
    if (r->vid_out)
        snprintf(r->vid_out, 64, "%s", corrupt ? want : o.version_id);
    if (r->dm_out)
        *r->dm_out = !corrupt && o.delete_marker;
    return 0;
}

int ls_version_delete(ls_wctx_t *w, ls_req_t *r, enum store_versioning vs)
{
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(r->bid, r->key.p, r->key.len, lk);
    if (r->version_id && *r->version_id)
        return delete_one_version(w, r, lk, lkn);
    return add_delete_marker(w, r, vs, lk, lkn);
}

int ls_version_mirror(ls_wctx_t *w, const uint8_t *lk, size_t lkn, const char *vid,
                      const void *rec, size_t n)
{
    uint64_t vseq;
    int rc = strcmp(vid, "null") == 0 ? nullver_get(w, lk, lkn, &vseq)
                                      : ls_vid_decode(vid, strlen(vid), &vseq);
    if (rc < 0)
        return rc == -ENOENT ? 0 : rc;
    uint8_t vk[LS_LKEY_MAX + 8];
    size_t vkn = vkey(lk, lkn, vseq, vk);
    return ls_wput(w, w->s->db_versions, vk, vkn, rec, n);
}

bool ls_versions_any(store_t *s, MDB_txn *txn, uint64_t bid)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, s->db_versions, &c))
        return true; /* be conservative */
    uint8_t pfx[8];
    ls_be64_put(pfx, bid);
    MDB_val k = {8, pfx}, v;
    int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    bool found = mrc == 0 && k.mv_size >= 8 && memcmp(k.mv_data, pfx, 8) == 0;
    mdb_cursor_close(c);
    return found;
}

/* ---- reading ------------------------------------------------------------------------------ */
int ls_version_find(store_t *s, MDB_txn *txn, uint64_t bid, sv_t key, const char *version_id,
                    MDB_val *out)
{
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(bid, key.p, key.len, lk);
    uint64_t vseq;
    if (strcmp(version_id, "null") == 0) {
        MDB_val k = {lkn, lk}, v;
        int mrc = mdb_get(txn, s->db_nullver, &k, &v);
        if (mrc == MDB_NOTFOUND) { /* a legacy current record, if any, is the null version */
            mrc = mdb_get(txn, s->db_objects, &k, out);
            if (mrc == MDB_NOTFOUND)
                return -SE_NO_SUCH_VERSION;
            return ls_mdb_err(mrc);
        }
        if (mrc)
            return ls_mdb_err(mrc);
        if (v.mv_size != 8)
            return -SE_CORRUPT;
        vseq = ls_be64_get(v.mv_data);
    } else {
        int rc = ls_vid_decode(version_id, strlen(version_id), &vseq);
        if (rc < 0)
            return rc;
    }
    uint8_t vk[LS_LKEY_MAX + 8];
    MDB_val k = {vkey(lk, lkn, vseq, vk), vk};
    int mrc = mdb_get(txn, s->db_versions, &k, out);
    if (mrc == MDB_NOTFOUND)
        return -SE_NO_SUCH_VERSION;
    return ls_mdb_err(mrc);
}

int ls_version_latest(store_t *s, MDB_txn *txn, uint64_t bid, sv_t key, MDB_val *out)
{
    uint8_t lk[LS_LKEY_MAX];
    size_t lkn = ls_lkey(bid, key.p, key.len, lk);
    MDB_val k;
    return newest(txn, s->db_versions, lk, lkn, &k, out);
}

/* ---- ListObjectVersions ------------------------------------------------------------------- */
typedef struct vent {
    sv_t key;
    uint64_t vseq; /* 0 for a legacy entry (the key's only version) */
    MDB_val val;
    bool from_obj; /* which cursor produced it (outside groups) */
} vent_t;

typedef struct vit {
    store_t *s;
    MDB_cursor *cv, *co; /* versions, objects */
    int mv, mo;          /* each cursor's state: 0 positioned, else MDB_NOTFOUND/error */
    MDB_val kv, vv, ko, vo;
    uint8_t bid[LS_BID_LEN];
    arena_t *scratch;
    bool valid;
    vent_t cur;
    bool latest;
    sv_t prev;
    bool have_prev;
    vent_t *g;
    size_t gn, gi, gcap;
    bool in_group;
    int err;
    uint64_t steps;
} vit_t;

static bool in_bucket(const vit_t *it, int mrc, MDB_val k, size_t min)
{
    return mrc == 0 && k.mv_size > min && memcmp(k.mv_data, it->bid, LS_BID_LEN) == 0;
}

/* name part of the current entry of each cursor (without the bid; versions: without vseq) */
static sv_t np_v(const vit_t *it)
{
    return (sv_t){(const char *)it->kv.mv_data + LS_BID_LEN, it->kv.mv_size - LS_BID_LEN - 8};
}
static sv_t np_o(const vit_t *it)
{
    return (sv_t){(const char *)it->ko.mv_data + LS_BID_LEN, it->ko.mv_size - LS_BID_LEN};
}

static bool np_long(sv_t np)
{
    return np.len == LS_KEY_Q + 1 + LS_KEY_HASH && (uint8_t)np.p[LS_KEY_Q] == 1;
}

static void step(vit_t *it, bool obj)
{
    it->steps++;
    if (obj)
        it->mo = mdb_cursor_get(it->co, &it->ko, &it->vo, MDB_NEXT);
    else
        it->mv = mdb_cursor_get(it->cv, &it->kv, &it->vv, MDB_NEXT);
}

/* Decodes an objects record: legacy (version_id "") or not; its full key. */
static int obj_legacy(vit_t *it, MDB_val v, sv_t *key, bool *legacy)
{
    store_obj_t o;
    ls_layout_t l;
    if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS | LS_REC_NOPARTS, it->scratch, &o,
                      &l) < 0) {
        log_error("store: corrupt index record in version listing");
        return -SE_CORRUPT;
    }
    *key = (sv_t){o.key, o.key_len};
    *legacy = o.version_id[0] == 0;
    return 0;
}

static int vent_cmp(const void *a, const void *b)
{
    const vent_t *x = a, *y = b;
    int c = sv_cmp(x->key, y->key);
    if (c)
        return c;
    return x->vseq < y->vseq ? 1 : x->vseq > y->vseq ? -1 : 0; /* newest first */
}

static void set_cur(vit_t *it, vent_t e)
{
    it->cur = e;
    it->latest = !it->have_prev || !sv_eq(it->prev, e.key);
    it->prev = e.key;
    it->have_prev = true;
    it->valid = true;
}

/* Makes the merged head of both cursors the current entry. */
static void vit_load(vit_t *it)
{
    it->valid = false;
    it->in_group = false;
    for (;;) {
        if (it->mv && it->mv != MDB_NOTFOUND)
            it->err = ls_mdb_err(it->mv);
        if (it->mo && it->mo != MDB_NOTFOUND)
            it->err = ls_mdb_err(it->mo);
        if (it->err)
            return;
        bool hv = in_bucket(it, it->mv, it->kv, LS_BID_LEN + 8);
        bool ho = in_bucket(it, it->mo, it->ko, LS_BID_LEN);
        if (!hv && !ho)
            return;
        int c = !hv ? 1 : !ho ? -1 : sv_cmp(np_v(it), np_o(it));
        sv_t np = c <= 0 ? np_v(it) : np_o(it);
        if (c == 0) { /* the objects entry mirrors this key's latest version */
            step(it, true);
            continue;
        }
        if (np_long(np)) {
            /* a group: every long key with the same first Q bytes, from both cursors */
            uint8_t gp[LS_KEY_Q + 1];
            memcpy(gp, np.p, sizeof gp);
            it->gn = 0;
            for (int src = 0; src < 2; src++) {
                bool obj = src == 1;
                for (;;) {
                    bool h = obj ? in_bucket(it, it->mo, it->ko, LS_BID_LEN)
                                 : in_bucket(it, it->mv, it->kv, LS_BID_LEN + 8);
                    if (!h)
                        break;
                    sv_t n = obj ? np_o(it) : np_v(it);
                    if (!np_long(n) || memcmp(n.p, gp, sizeof gp) != 0)
                        break;
                    vent_t e = {.from_obj = obj};
                    if (obj) {
                        bool legacy;
                        if ((it->err = obj_legacy(it, it->vo, &e.key, &legacy)) < 0)
                            return;
                        e.val = it->vo;
                        if (!legacy) {
                            step(it, true);
                            continue;
                        }
                    } else {
                        store_obj_t o;
                        ls_layout_t l;
                        if (ls_rec_decode(it->vv.mv_data, it->vv.mv_size, LS_REC_NOATTRS | LS_REC_NOPARTS,
                                          it->scratch, &o, &l) < 0) {
                            log_error("store: corrupt version record in listing (long key)");
                            it->err = -SE_CORRUPT;
                            return;
                        }
                        e.key = (sv_t){o.key, o.key_len};
                        e.vseq = ~ls_be64_get((const uint8_t *)it->kv.mv_data + it->kv.mv_size - 8);
                        e.val = it->vv;
                    }
                    if (it->gn == it->gcap) {
                        it->gcap = it->gcap ? 2 * it->gcap : 16;
                        it->g = xreallocarray(it->g, it->gcap, sizeof *it->g);
                    }
                    it->g[it->gn++] = e;
                    step(it, obj);
                }
            }
            if (it->gn == 0)
                continue;
            qsort(it->g, it->gn, sizeof *it->g, vent_cmp);
            it->gi = 0;
            it->in_group = true;
            set_cur(it, it->g[0]);
            return;
        }
        if (c < 0) {
            vent_t e = {.key = {np.p, np.len - 1}, .val = it->vv, .from_obj = false};
            e.vseq = ~ls_be64_get((const uint8_t *)it->kv.mv_data + it->kv.mv_size - 8);
            set_cur(it, e);
            return;
        }
        sv_t key;
        bool legacy;
        if ((it->err = obj_legacy(it, it->vo, &key, &legacy)) < 0)
            return;
        if (!legacy) { /* a mirror whose versions sort later (cannot happen); skip it */
            step(it, true);
            continue;
        }
        vent_t e = {.key = {np.p, np.len - 1}, .vseq = 0, .val = it->vo, .from_obj = true};
        set_cur(it, e);
        return;
    }
}

static void vit_next(vit_t *it)
{
    if (it->in_group) {
        if (++it->gi < it->gn) {
            set_cur(it, it->g[it->gi]);
            return;
        }
        vit_load(it);
        return;
    }
    step(it, it->cur.from_obj);
    vit_load(it);
}

/* Positions at the first entry whose key is >= t (> t if strict). */
static void vit_seek(vit_t *it, sv_t t, bool strict)
{
    uint8_t sk[LS_LKEY_MAX];
    memcpy(sk, it->bid, LS_BID_LEN);
    size_t n;
    if (t.len <= LS_KEY_Q) {
        if (t.len)
            memcpy(sk + LS_BID_LEN, t.p, t.len);
        sk[LS_BID_LEN + t.len] = 0;
        n = LS_BID_LEN + t.len + 1;
    } else {
        memcpy(sk + LS_BID_LEN, t.p, LS_KEY_Q);
        sk[LS_BID_LEN + LS_KEY_Q] = 1;
        n = LS_BID_LEN + LS_KEY_Q + 1;
    }
    it->kv = (MDB_val){n, sk};
    it->ko = (MDB_val){n, sk};
    it->steps += 2;
    it->mv = mdb_cursor_get(it->cv, &it->kv, &it->vv, MDB_SET_RANGE);
    it->mo = mdb_cursor_get(it->co, &it->ko, &it->vo, MDB_SET_RANGE);
    it->have_prev = false;
    vit_load(it);
    while (it->valid) {
        int c = sv_cmp(it->cur.key, t);
        if (c > 0 || (c == 0 && !strict))
            break;
        vit_next(it);
    }
}

static void vit_skip_prefix(vit_t *it, sv_t cp)
{
    sv_t next;
    if (!ls_prefix_successor(it->scratch, cp, &next)) {
        it->valid = false;
        return;
    }
    vit_seek(it, next, false);
}

int store_list_versions(store_t *s, sv_t bucket, const store_lv_opts_t *o, arena_t *a,
                        store_lv_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->next_version_id = "";
    size_t max = o->max_keys > 1000 ? 1000 : o->max_keys;
    sv_t pfx = o->prefix.len ? o->prefix : SV("");
    sv_t km = o->key_marker.len ? o->key_marker : SV("");
    sv_t d = o->delimiter.len ? o->delimiter : SV("");
    sv_t vm = o->version_id_marker;
    uint64_t mseq = 0;
    bool have_vm = vm.len > 0;
    if (have_vm && km.len == 0)
        return -SE_INVALID_ARGUMENT;
    if (have_vm && !sv_eq_cstr(vm, "null") && ls_vid_decode(vm.p, vm.len, &mseq) < 0)
        return -SE_INVALID_VERSION_ID;
    MDB_txn *txn;
    int rc = ls_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    store_bucket_t b;
    if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) < 0 || max == 0)
        goto out_txn;
    if (have_vm && sv_eq_cstr(vm, "null")) {
        /* older than the null version: its vseq; a legacy null version (or none) is the
         * key's only one, so nothing of the key follows */
        uint8_t lk[LS_LKEY_MAX];
        MDB_val k = {ls_lkey(b.id, km.p, km.len, lk), lk}, v;
        int mrc = mdb_get(txn, s->db_nullver, &k, &v);
        mseq = (mrc == 0 && v.mv_size == 8) ? ls_be64_get(v.mv_data) : 0;
    }
    vit_t it = {.s = s};
    ls_be64_put(it.bid, b.id);
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_versions, &it.cv))) < 0)
        goto out_txn;
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_objects, &it.co))) < 0) {
        mdb_cursor_close(it.cv);
        goto out_txn;
    }
    it.scratch = arena_new();
    out->vers = arena_calloc(a, max, sizeof *out->vers);
    out->latest = arena_calloc(a, max, sizeof *out->latest);
    out->prefixes = arena_calloc(a, max, sizeof *out->prefixes);

    if (km.len && sv_cmp(km, pfx) >= 0) {
        if (have_vm) {
            vit_seek(&it, km, false);
            /* skip km's versions up to and including the marker (newer ones come first) */
            while (it.valid && sv_eq(it.cur.key, km) && !(it.cur.vseq && it.cur.vseq < mseq))
                vit_next(&it);
        } else {
            vit_seek(&it, km, true);
        }
    } else {
        vit_seek(&it, pfx, false);
    }
    size_t count = 0;
    while (it.valid && !it.err) {
        sv_t k = it.cur.key;
        if (!sv_starts_with(k, pfx))
            break;
        sv_t cp;
        if (ls_common_prefix(k, pfx, d, &cp)) {
            if (km.len && sv_cmp(cp, km) <= 0) { /* returned on an earlier page */
                vit_skip_prefix(&it, cp);
                continue;
            }
            if (count == max) {
                out->truncated = true;
                break;
            }
            sv_t *e = &out->prefixes[out->nprefixes++];
            e->p = arena_strndup(a, cp.p, cp.len);
            e->len = cp.len;
            out->next_key = *e;
            out->next_version_id = "";
            count++;
            vit_skip_prefix(&it, cp);
            continue;
        }
        if (count == max) {
            out->truncated = true;
            break;
        }
        store_obj_t *ob = &out->vers[out->nvers];
        out->latest[out->nvers++] = it.latest;
        ls_layout_t l;
        if (ls_rec_decode(it.cur.val.mv_data, it.cur.val.mv_size, LS_REC_NOATTRS | LS_REC_NOPARTS,
                          a, ob, &l) < 0) {
            log_error("store: corrupt version record in listing key=%.*s", SV_ARG(k));
            memset(ob, 0, sizeof *ob);
            ob->key = arena_strndup(a, k.p, k.len);
            ob->key_len = k.len;
            snprintf(ob->version_id, sizeof ob->version_id, "null");
        }
        if (!ob->version_id[0])
            snprintf(ob->version_id, sizeof ob->version_id, "null");
        out->next_key = (sv_t){ob->key, ob->key_len};
        out->next_version_id = ob->version_id;
        count++;
        vit_next(&it);
    }
    rc = it.err;
    atomic_fetch_add(&s->list_steps, it.steps);
    if (!out->truncated) {
        out->next_key = SV_NULL;
        out->next_version_id = "";
    }
    mdb_cursor_close(it.cv);
    mdb_cursor_close(it.co);
    free(it.g);
    arena_free(it.scratch);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}
