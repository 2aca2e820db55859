/* store_list: ListObjects over the objects database.
 *
 * An iterator yields (full key, record) in true key order from a cursor. Index keys sort like
 * the object keys (index.c) except for long keys that share their first Q bytes: those form a
 * contiguous "group" that the iterator reads whole and sorts by the full key from the records.
 *
 * Semantics (the brute-force model in tests/unit/test_store.c is the spec): take every key that
 * starts with prefix and is > start_after; map each to its common prefix (prefix + up to and
 * including the first delimiter after prefix) or to itself; keep the distinct entries that are
 * > start_after, in order; return the first max_keys. So start_after may be a key or a common
 * prefix returned earlier (continuing after "photos/" skips everything under it).
 *
 * Cost: each emitted common prefix costs one seek to its successor (prefix with the last byte
 * incremented), so a page is O(page * log n) however many keys the prefixes hide.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

typedef struct gent {
    sv_t key;
    MDB_val val;
} gent_t;

typedef struct lit {
    store_t *s;
    MDB_cursor *c;
    uint8_t bid[LS_BID_LEN];
    arena_t *scratch;
    bool valid;
    sv_t key;
    MDB_val val;
    /* long-key group */
    gent_t *g;
    size_t gn, gi, gcap;
    bool in_group;
    int after_mrc; /* cursor state right after the group */
    MDB_val after_k, after_v;
    int err;
    uint64_t steps; /* cursor operations, for the O(page * log n) test */
} lit_t;

static int gent_cmp(const void *a, const void *b)
{
    return sv_cmp(((const gent_t *)a)->key, ((const gent_t *)b)->key);
}

/* Makes (mrc, k, v), the cursor's current entry, the iterator's current entry. */
static void lit_load(lit_t *it, int mrc, MDB_val k, MDB_val v)
{
    it->valid = false;
    it->in_group = false;
    if (mrc) {
        if (mrc != MDB_NOTFOUND)
            it->err = ls_mdb_err(mrc);
        return;
    }
    if (k.mv_size <= LS_BID_LEN || memcmp(k.mv_data, it->bid, LS_BID_LEN) != 0)
        return;
    if (!ls_lkey_is_long(k.mv_size)) {
        it->key = (sv_t){(const char *)k.mv_data + LS_BID_LEN, k.mv_size - LS_BID_LEN - 1};
        it->val = v;
        it->valid = true;
        return;
    }
    /* a group: every long key with the same first Q bytes */
    uint8_t gp[LS_BID_LEN + LS_KEY_Q + 1];
    memcpy(gp, k.mv_data, sizeof gp);
    it->gn = 0;
    while (mrc == 0 && k.mv_size == LS_LKEY_MAX && memcmp(k.mv_data, gp, sizeof gp) == 0) {
        store_obj_t o;
        ls_layout_t l;
        if (ls_rec_decode(v.mv_data, v.mv_size, LS_REC_NOATTRS | LS_REC_NOPARTS, it->scratch, &o,
                          &l) < 0) {
            log_error("store: corrupt index record in listing (long key)");
            it->err = -SE_CORRUPT;
            return;
        }
        if (it->gn == it->gcap) {
            it->gcap = it->gcap ? 2 * it->gcap : 16;
            it->g = xreallocarray(it->g, it->gcap, sizeof *it->g);
        }
        it->g[it->gn++] = (gent_t){{o.key, o.key_len}, v};
        it->steps++;
        mrc = mdb_cursor_get(it->c, &k, &v, MDB_NEXT);
    }
    it->after_mrc = mrc;
    it->after_k = k;
    it->after_v = v;
    qsort(it->g, it->gn, sizeof *it->g, gent_cmp);
    it->gi = 0;
    it->in_group = true;
    it->key = it->g[0].key;
    it->val = it->g[0].val;
    it->valid = true;
}

static void lit_next(lit_t *it)
{
    if (it->in_group) {
        if (++it->gi < it->gn) {
            it->key = it->g[it->gi].key;
            it->val = it->g[it->gi].val;
            return;
        }
        lit_load(it, it->after_mrc, it->after_k, it->after_v);
        return;
    }
    MDB_val k, v;
    it->steps++;
    int mrc = mdb_cursor_get(it->c, &k, &v, MDB_NEXT);
    lit_load(it, mrc, k, v);
}

/* Positions at the first key >= t (> t if strict). */
static void lit_seek(lit_t *it, sv_t t, bool strict)
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
    MDB_val k = {n, sk}, v;
    it->steps++;
    int mrc = mdb_cursor_get(it->c, &k, &v, MDB_SET_RANGE);
    lit_load(it, mrc, k, v);
    while (it->valid) {
        int c = sv_cmp(it->key, t);
        if (c > 0 || (c == 0 && !strict))
            break;
        lit_next(it);
    }
}

bool ls_common_prefix(sv_t key, sv_t prefix, sv_t delim, sv_t *cp)
{
    if (delim.len == 0 || key.len - prefix.len < delim.len)
        return false;
    const char *dp = memmem(key.p + prefix.len, key.len - prefix.len, delim.p, delim.len);
    if (!dp)
        return false;
    *cp = (sv_t){key.p, (size_t)(dp - key.p) + delim.len};
    return true;
}

bool ls_prefix_successor(arena_t *a, sv_t prefix, sv_t *out)
{
    char *t = arena_strndup(a, prefix.p, prefix.len);
    size_t n = prefix.len;
    while (n && (uint8_t)t[n - 1] == 0xff)
        n--;
    if (n == 0)
        return false;
    t[n - 1] = (char)((uint8_t)t[n - 1] + 1);
    *out = (sv_t){t, n};
    return true;
}

/* Seeks past every key that starts with cp. */
static void lit_skip_prefix(lit_t *it, sv_t cp)
{
    sv_t next;
    if (!ls_prefix_successor(it->scratch, cp, &next)) {
        it->valid = false;
        return;
    }
    lit_seek(it, next, false);
}

int store_list(store_t *s, sv_t bucket, const store_list_opts_t *o, arena_t *a,
               store_list_result_t *out)
{
    memset(out, 0, sizeof *out);
    size_t max = o->max_keys > 1000 ? 1000 : o->max_keys;
    MDB_txn *txn;
    int rc = ls_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    store_bucket_t b;
    if ((rc = ls_bucket_lookup(s, txn, bucket, &b)) < 0)
        goto out_txn;
    if (max == 0)
        goto out_txn;
    lit_t it = {.s = s};
    for (int i = 0; i < 8; i++)
        it.bid[i] = (uint8_t)(b.id >> (56 - 8 * i));
    if ((rc = ls_mdb_err(mdb_cursor_open(txn, s->db_objects, &it.c))) < 0)
        goto out_txn;
    it.scratch = arena_new();
    out->objs = arena_calloc(a, max, sizeof *out->objs);
    out->prefixes = arena_calloc(a, max, sizeof *out->prefixes);

    /* empty views may carry NULL pointers; give them a real one for memcmp and friends */
    sv_t pfx = o->prefix.len ? o->prefix : SV("");
    sv_t sa = o->start_after.len ? o->start_after : SV("");
    sv_t d = o->delimiter.len ? o->delimiter : SV("");
    if (sa.len && sv_cmp(sa, pfx) >= 0)
        lit_seek(&it, sa, true);
    else
        lit_seek(&it, pfx, false);
    size_t count = 0;
    sv_t last = SV_NULL;
    while (it.valid && !it.err) {
        sv_t k = it.key;
        if (!sv_starts_with(k, pfx))
            break;
        sv_t cp;
        if (ls_common_prefix(k, pfx, d, &cp)) {
            if (sa.len && sv_cmp(cp, sa) <= 0) { /* returned on an earlier page */
                lit_skip_prefix(&it, cp);
                continue;
            }
            if (count == max) {
                out->truncated = true;
                break;
            }
            sv_t *e = &out->prefixes[out->nprefixes++];
            e->p = arena_strndup(a, cp.p, cp.len);
            e->len = cp.len;
            last = *e;
            count++;
            lit_skip_prefix(&it, cp);
            continue;
        }
        if (count == max) {
            out->truncated = true;
            break;
        }
        store_obj_t *ob = &out->objs[out->nobjs++];
        ls_layout_t l;
        if (ls_rec_decode(it.val.mv_data, it.val.mv_size, LS_REC_NOATTRS | LS_REC_NOPARTS, a, ob,
                          &l) < 0) {
            /* keep the key listable (so it can be deleted); GET reports the corruption */
            log_error("store: corrupt index record in listing key=%.*s", SV_ARG(k));
            memset(ob, 0, sizeof *ob);
            ob->key = arena_strndup(a, k.p, k.len);
            ob->key_len = k.len;
        }
        last = (sv_t){ob->key, ob->key_len};
        count++;
        lit_next(&it);
    }
    rc = it.err;
    atomic_fetch_add(&s->list_steps, it.steps);
    if (out->truncated)
        out->next = last;
    mdb_cursor_close(it.c);
    free(it.g);
    arena_free(it.scratch);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}
