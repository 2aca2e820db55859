/* Tests for versioning in the local store (src/store/local/versions.c): version ids, the
 * Enabled / Suspended write paths, delete markers, lookups by version, GC of replaced null
 * versions, bucket delete, and ListObjectVersions against a brute-force model. */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "store/local/local_int.h"
#include "store/store.h"
#include "t.h"

static char root[64];
static int dir_seq;

static store_t *fresh(int grace)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/s%d", root, dir_seq++);
    store_opts_t o = {.dir = dir, .map_size = (size_t)1 << 30, .gc_grace_ms = grace,
                      .inline_max = 64};
    store_t *s = NULL;
    int rc = store_open(&o, &s);
    if (rc)
        fprintf(stderr, "store_open: %s\n", strata_strerror(rc));
    return s;
}

static void mkbucket(store_t *s, const char *name)
{
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, "%s", name);
    snprintf(b.owner, sizeof b.owner, "acct1");
    CHECK_EQ_INT(store_bucket_create(s, &b), 0);
}

/* Puts data under key; returns rc and the version id made (vid: 64 bytes). */
static int put(store_t *s, const char *bucket, sv_t key, const char *data, size_t n, char *vid)
{
    store_put_t *p;
    int rc = store_put_begin(s, sv_from_cstr(bucket), key, UINT64_MAX, &p);
    if (rc)
        return rc;
    if (n && (rc = store_put_write(p, data, n)) != 0) {
        store_put_abort(p);
        return rc;
    }
    store_obj_t m = {0};
    snprintf(m.etag, sizeof m.etag, "e%zu", n);
    snprintf(m.storage_class, sizeof m.storage_class, "STANDARD");
    rc = store_put_commit(p, &m, NULL);
    if (rc == 0 && vid)
        snprintf(vid, 64, "%s", m.version_id);
    return rc;
}

static int get(store_t *s, const char *bucket, const char *key, const char *vid, char *data,
               size_t cap, store_obj_t *o, arena_t *a)
{
    store_read_t *rd = NULL;
    int rc = store_get(s, sv_from_cstr(bucket), sv_from_cstr(key), vid, a, o, data ? &rd : NULL);
    if (rc || !data)
        return rc;
    ssize_t n = store_read(rd, 0, data, cap - 1);
    store_read_close(rd);
    if (n < 0)
        return (int)n;
    data[n] = 0;
    return 0;
}

TEST(test_vid_codec)
{
    uint8_t rnd[8] = {1, 2, 3, 4, 5, 6, 7, 0xff};
    char v[LS_VID_LEN + 1];
    ls_vid_encode(0x0102030405060708ull, rnd, v);
    CHECK_EQ_INT(strlen(v), 32);
    uint64_t seq = 0;
    CHECK_EQ_INT(ls_vid_decode(v, strlen(v), &seq), 0);
    CHECK(seq == 0x0102030405060708ull);
    CHECK_EQ_INT(ls_vid_decode("null", 4, &seq), -SE_INVALID_VERSION_ID);
    CHECK_EQ_INT(ls_vid_decode(v, 31, &seq), -SE_INVALID_VERSION_ID);
    char bad[LS_VID_LEN + 1];
    memcpy(bad, v, sizeof bad);
    bad[20] = 'G';
    CHECK_EQ_INT(ls_vid_decode(bad, 32, &seq), -SE_INVALID_VERSION_ID);
    memset(bad, '0', 32);
    CHECK_EQ_INT(ls_vid_decode(bad, 32, &seq), -SE_INVALID_VERSION_ID); /* vseq 0 */
}

TEST(test_enabled_and_markers)
{
    store_t *s = fresh(50);
    mkbucket(s, "b");
    arena_t *a = arena_new();
    sv_t b = SV("b");
    enum store_versioning vs = 99;
    CHECK_EQ_INT(store_versioning_get(s, b, &vs), 0);
    CHECK_EQ_INT(vs, STORE_VERSIONING_OFF);
    CHECK_EQ_INT(store_versioning_put(s, b, STORE_VERSIONING_OFF), -SE_INVALID_ARGUMENT);
    char v0[64], v1[64], v2[64], v3[64], buf[256];
    /* a legacy object, then versioning */
    CHECK_EQ_INT(put(s, "b", SV("k"), "legacy", 6, v0), 0);
    CHECK_EQ_STR(v0, "");
    CHECK_EQ_INT(store_versioning_put(s, b, STORE_VERSIONING_ENABLED), 0);
    CHECK_EQ_INT(store_versioning_get(s, b, &vs), 0);
    CHECK_EQ_INT(vs, STORE_VERSIONING_ENABLED);
    CHECK_EQ_INT(put(s, "b", SV("k"), "one", 3, v1), 0);
    static const char two[] = "two-is-longer-than-the-inline-limit-of-64-bytes-so-a-file-holds-it";
    CHECK_EQ_INT(put(s, "b", SV("k"), two, sizeof two - 1, v2), 0);
    CHECK_EQ_INT(strlen(v1), 32);
    CHECK(strcmp(v1, v2) != 0);
    store_obj_t o;
    CHECK_EQ_INT(get(s, "b", "k", NULL, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(o.version_id, v2);
    CHECK_EQ_INT(get(s, "b", "k", v1, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(buf, "one");
    CHECK_EQ_INT(get(s, "b", "k", "null", buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(buf, "legacy");
    CHECK_EQ_STR(o.version_id, "null");
    /* bogus ids */
    CHECK_EQ_INT(get(s, "b", "k", "nope", NULL, 0, &o, a), -SE_INVALID_VERSION_ID);
    char other[64];
    snprintf(other, sizeof other, "%s", v1);
    other[31] = other[31] == '0' ? '1' : '0'; /* right vseq, wrong random half */
    CHECK_EQ_INT(get(s, "b", "k", other, NULL, 0, &o, a), -SE_NO_SUCH_VERSION);
    CHECK_EQ_INT(get(s, "b", "other", v1, NULL, 0, &o, a), -SE_NO_SUCH_VERSION);
    /* a delete marker */
    store_del_result_t dr;
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), NULL, &dr), 0);
    CHECK(dr.delete_marker);
    snprintf(v3, sizeof v3, "%s", dr.version_id);
    CHECK_EQ_INT(strlen(v3), 32);
    o.delete_marker = false;
    CHECK_EQ_INT(get(s, "b", "k", NULL, NULL, 0, &o, a), -SE_NO_SUCH_KEY);
    CHECK(o.delete_marker);
    CHECK_EQ_STR(o.version_id, v3);
    CHECK_EQ_INT(get(s, "b", "k", v3, NULL, 0, &o, a), -SE_METHOD_NOT_ALLOWED);
    CHECK(o.delete_marker);
    store_list_result_t lr;
    store_list_opts_t lo = {.max_keys = 10};
    CHECK_EQ_INT(store_list(s, b, &lo, a, &lr), 0);
    CHECK_EQ_INT(lr.nobjs, 0);
    CHECK_EQ_INT(store_bucket_delete(s, b), -SE_BUCKET_NOT_EMPTY);
    /* removing the marker undeletes */
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), v3, &dr), 0);
    CHECK(dr.delete_marker);
    CHECK_EQ_INT(get(s, "b", "k", NULL, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(o.version_id, v2);
    /* removing the latest version makes the next one current */
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), v2, &dr), 0);
    CHECK(!dr.delete_marker);
    CHECK_EQ_INT(get(s, "b", "k", NULL, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(buf, "one");
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), v2, &dr), -SE_NO_SUCH_VERSION);
    /* a marker on a key that never existed */
    CHECK_EQ_INT(store_delete_version(s, b, SV("ghost"), NULL, &dr), 0);
    CHECK(dr.delete_marker);
    /* conditions see a delete marker as no object: If-Match "*" finds none */
    store_put_t *p;
    CHECK_EQ_INT(store_put_begin(s, b, SV("ghost"), 1, &p), 0);
    CHECK_EQ_INT(store_put_write(p, "x", 1), 0);
    store_obj_t m0 = {0};
    store_cond_t any = {.if_match_etag = "*"};
    CHECK_EQ_INT(store_put_commit(p, &m0, &any), -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(store_put_begin(s, b, SV("ghost"), 1, &p), 0);
    CHECK_EQ_INT(store_put_write(p, "x", 1), 0);
    store_obj_t m = {0};
    store_cond_t c = {.if_none_match_any = true};
    CHECK_EQ_INT(store_put_commit(p, &m, &c), 0);
    /* remove everything: then the bucket can go */
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), v1, NULL), 0);
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), "null", NULL), 0);
    store_lv_opts_t vo = {.max_keys = 1000};
    store_lv_result_t vr;
    CHECK_EQ_INT(store_list_versions(s, b, &vo, a, &vr), 0);
    CHECK_EQ_INT(vr.nvers, 2); /* ghost: the new version and the marker */
    for (size_t i = 0; i < vr.nvers; i++)
        CHECK_EQ_INT(store_delete_version(s, b, (sv_t){vr.vers[i].key, vr.vers[i].key_len},
                                          vr.vers[i].version_id, NULL), 0);
    CHECK_EQ_INT(store_bucket_delete(s, b), 0);
    arena_free(a);
    store_close(s);
}

TEST(test_suspended_null_version)
{
    store_t *s = fresh(1);
    mkbucket(s, "b");
    arena_t *a = arena_new();
    sv_t b = SV("b");
    char v[64], v1[64], buf[256];
    store_obj_t o;
    static char big[200];
    memset(big, 'B', sizeof big - 1);
    /* legacy file-backed object; suspended writes replace it and GC its file */
    CHECK_EQ_INT(put(s, "b", SV("k"), big, sizeof big - 1, v), 0);
    char path[4096];
    CHECK_EQ_INT(store_local_data_path(s, b, SV("k"), path, sizeof path), 0);
    CHECK_EQ_INT(store_versioning_put(s, b, STORE_VERSIONING_SUSPENDED), 0);
    CHECK_EQ_INT(put(s, "b", SV("k"), "s1", 2, v), 0);
    CHECK_EQ_STR(v, "null");
    usleep(20000);
    store_local_gc_kick(s);
    CHECK(access(path, F_OK) != 0);
    /* enabled: a real version on top of the null one */
    CHECK_EQ_INT(store_versioning_put(s, b, STORE_VERSIONING_ENABLED), 0);
    CHECK_EQ_INT(put(s, "b", SV("k"), big, sizeof big - 1, v1), 0);
    CHECK_EQ_INT(store_local_data_path(s, b, SV("k"), path, sizeof path), 0);
    CHECK_EQ_INT(store_versioning_put(s, b, STORE_VERSIONING_SUSPENDED), 0);
    /* suspended put: replaces the (non-current) null version, keeps v1 */
    CHECK_EQ_INT(put(s, "b", SV("k"), "s2", 2, v), 0);
    CHECK_EQ_INT(get(s, "b", "k", NULL, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_STR(buf, "s2");
    CHECK_EQ_STR(o.version_id, "null");
    CHECK_EQ_INT(get(s, "b", "k", v1, buf, sizeof buf, &o, a), 0);
    CHECK_EQ_INT(strlen(buf), sizeof big - 1);
    store_lv_opts_t vo = {.max_keys = 1000};
    store_lv_result_t vr;
    CHECK_EQ_INT(store_list_versions(s, b, &vo, a, &vr), 0);
    CHECK_EQ_INT(vr.nvers, 2);
    if (vr.nvers == 2) {
        CHECK_EQ_STR(vr.vers[0].version_id, "null");
        CHECK(vr.latest[0]);
        CHECK_EQ_STR(vr.vers[1].version_id, v1);
        CHECK(!vr.latest[1]);
    }
    /* suspended delete: a null delete marker replaces the null version */
    store_del_result_t dr;
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), NULL, &dr), 0);
    CHECK(dr.delete_marker);
    CHECK_EQ_STR(dr.version_id, "null");
    CHECK_EQ_INT(store_list_versions(s, b, &vo, a, &vr), 0);
    CHECK_EQ_INT(vr.nvers, 2);
    if (vr.nvers == 2) {
        CHECK(vr.vers[0].delete_marker);
        CHECK_EQ_STR(vr.vers[0].version_id, "null");
    }
    CHECK_EQ_INT(get(s, "b", "k", NULL, NULL, 0, &o, a), -SE_NO_SUCH_KEY);
    /* v1's file survives all of this */
    usleep(20000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(access(path, F_OK), 0);
    CHECK_EQ_INT(store_delete_version(s, b, SV("k"), v1, NULL), 0);
    usleep(20000);
    store_local_gc_kick(s);
    CHECK(access(path, F_OK) != 0);
    arena_free(a);
    store_close(s);
}

/* ---- brute-force model of ListObjectVersions ------------------------------------------------ */
typedef struct mver {
    char key[600];
    char vid[64];
    uint64_t seq; /* model order: higher is newer */
    bool dm;
    bool alive;
} mver_t;

#define MAXV 4000
static mver_t mv[MAXV];
static size_t nmv;
static uint64_t mseq;

static int mcmp(const void *a, const void *b)
{
    const mver_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static void madd(const char *key, const char *vid, bool dm)
{
    if (nmv == MAXV)
        return;
    mver_t *m = &mv[nmv++];
    snprintf(m->key, sizeof m->key, "%s", key);
    snprintf(m->vid, sizeof m->vid, "%s", vid[0] ? vid : "null");
    m->seq = ++mseq;
    m->dm = dm;
    m->alive = true;
}

static void mdrop_null(const char *key)
{
    for (size_t i = 0; i < nmv; i++)
        if (mv[i].alive && strcmp(mv[i].key, key) == 0 && strcmp(mv[i].vid, "null") == 0)
            mv[i].alive = false;
}

typedef struct ment {
    char name[600];
    char vid[64]; /* "" for a prefix */
    bool dm, latest, prefix;
} ment_t;

static ment_t exp_e[MAXV], got_e[MAXV];

/* The model's answer for a whole listing (no max): entries after the markers, in order. */
static size_t model_list(const char *pfx, const char *d, const char *km, const char *vm,
                         ment_t *out)
{
    static mver_t sorted[MAXV];
    size_t n = 0;
    for (size_t i = 0; i < nmv; i++)
        if (mv[i].alive)
            sorted[n++] = mv[i];
    qsort(sorted, n, sizeof *sorted, mcmp);
    uint64_t vmseq = 0;
    if (vm && *vm)
        for (size_t i = 0; i < n; i++)
            if (strcmp(sorted[i].key, km) == 0 && strcmp(sorted[i].vid, vm) == 0)
                vmseq = sorted[i].seq;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const mver_t *e = &sorted[i];
        bool latest = i == 0 || strcmp(sorted[i - 1].key, e->key) != 0;
        if (strncmp(e->key, pfx, strlen(pfx)) != 0)
            continue;
        const char *dp = *d ? strstr(e->key + strlen(pfx), d) : NULL;
        if (dp) {
            char cp[600];
            size_t cl = (size_t)(dp - e->key) + strlen(d);
            memcpy(cp, e->key, cl);
            cp[cl] = 0;
            if (*km && strcmp(cp, km) <= 0)
                continue;
            if (m && out[m - 1].prefix && strcmp(out[m - 1].name, cp) == 0)
                continue;
            ment_t *o = &out[m++];
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "%s", cp);
            o->prefix = true;
            continue;
        }
        if (*km) {
            int c = strcmp(e->key, km);
            if (c < 0 || (c == 0 && !(vm && *vm && e->seq < vmseq)))
                continue;
        }
        ment_t *o = &out[m++];
        memset(o, 0, sizeof *o);
        memcpy(o->name, e->key, sizeof o->name);
        memcpy(o->vid, e->vid, sizeof o->vid);
        o->dm = e->dm;
        o->latest = latest;
    }
    return m;
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void rand_key(char *out)
{
    static const char *parts[] = {"a", "b", "a/", "b/", "x/y", "/", "é", "a/b/"};
    size_t n = 1 + rnd() % 3, len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, 64, "%s", parts[rnd() % 8]);
    if (rnd() % 12 == 0) { /* long keys sharing their first Q bytes: a group */
        memset(out, 'L', LS_KEY_Q + 5);
        snprintf(out + LS_KEY_Q + 5, 16, "%u", rnd() % 4);
    }
}

/* Compares a paginated store listing with the model; returns the number of pages. */
static int compare_listing(store_t *s, const char *pfx, const char *d, size_t page)
{
    size_t ne = model_list(pfx, d, "", "", exp_e);
    size_t ng = 0;
    char km[600] = "", vm[64] = "";
    int pages = 0;
    for (;;) {
        arena_t *a = arena_new();
        store_lv_opts_t o = {sv_from_cstr(pfx), sv_from_cstr(d), sv_from_cstr(km),
                             sv_from_cstr(vm), page};
        store_lv_result_t r;
        int rc = store_list_versions(s, SV("m"), &o, a, &r);
        CHECK_EQ_INT(rc, 0);
        pages++;
        /* merge versions and prefixes back into one ordered page */
        size_t i = 0, j = 0;
        while ((i < r.nvers || j < r.nprefixes) && ng < MAXV) {
            bool take_v;
            if (i == r.nvers)
                take_v = false;
            else if (j == r.nprefixes)
                take_v = true;
            else
                take_v = sv_cmp((sv_t){r.vers[i].key, r.vers[i].key_len}, r.prefixes[j]) < 0;
            ment_t *g = &got_e[ng++];
            memset(g, 0, sizeof *g);
            if (take_v) {
                snprintf(g->name, sizeof g->name, "%.*s", (int)r.vers[i].key_len, r.vers[i].key);
                snprintf(g->vid, sizeof g->vid, "%s", r.vers[i].version_id);
                g->dm = r.vers[i].delete_marker;
                g->latest = r.latest[i];
                i++;
            } else {
                snprintf(g->name, sizeof g->name, "%.*s", SV_ARG(r.prefixes[j]));
                g->prefix = true;
                j++;
            }
        }
        CHECK(r.nvers + r.nprefixes <= page);
        bool trunc = r.truncated;
        if (trunc) {
            snprintf(km, sizeof km, "%.*s", SV_ARG(r.next_key));
            snprintf(vm, sizeof vm, "%s", r.next_version_id);
            /* the markers continue exactly where the model says */
            static ment_t rest[MAXV];
            size_t nr = model_list(pfx, d, km, vm, rest);
            CHECK_EQ_INT(nr, ne - ng);
        }
        arena_free(a);
        if (!trunc || rc || pages > 4000)
            break;
    }
    CHECK_EQ_INT(ng, ne);
    for (size_t i = 0; i < ng && i < ne; i++) {
        if (strcmp(got_e[i].name, exp_e[i].name) != 0 || strcmp(got_e[i].vid, exp_e[i].vid) != 0 ||
            got_e[i].dm != exp_e[i].dm || got_e[i].latest != exp_e[i].latest ||
            got_e[i].prefix != exp_e[i].prefix) {
            fprintf(stderr, "listing mismatch at %zu (pfx=%s d=%s page=%zu): got %.40s/%s dm=%d "
                            "latest=%d, want %.40s/%s dm=%d latest=%d\n",
                    i, pfx, d, page, got_e[i].name, got_e[i].vid, got_e[i].dm, got_e[i].latest,
                    exp_e[i].name, exp_e[i].vid, exp_e[i].dm, exp_e[i].latest);
            t_cur_failed = 1;
            break;
        }
    }
    return pages;
}

TEST(test_list_versions_model)
{
    store_t *s = fresh(1);
    mkbucket(s, "m");
    sv_t b = SV("m");
    nmv = 0;
    mseq = 0;
    enum store_versioning state = STORE_VERSIONING_OFF;
    char key[600], vid[64];
    for (int round = 0; round < 6; round++) {
        for (int op = 0; op < 150; op++) {
            rand_key(key);
            unsigned what = rnd() % 10;
            if (what < 6) {
                int rc = put(s, "m", sv_from_cstr(key), "data", 4, vid);
                CHECK_EQ_INT(rc, 0);
                if (state == STORE_VERSIONING_ENABLED) {
                    madd(key, vid, false);
                } else { /* OFF (legacy) and Suspended both replace the null version */
                    mdrop_null(key);
                    madd(key, "null", false);
                }
            } else if (what < 8) {
                store_del_result_t dr;
                int rc = store_delete_version(s, b, sv_from_cstr(key), NULL, &dr);
                if (state == STORE_VERSIONING_OFF) {
                    CHECK(rc == 0 || rc == -SE_NO_SUCH_KEY);
                    mdrop_null(key);
                } else {
                    CHECK_EQ_INT(rc, 0);
                    if (state == STORE_VERSIONING_SUSPENDED)
                        mdrop_null(key);
                    madd(key, dr.version_id, true);
                }
            } else if (nmv) { /* remove one version for good */
                size_t i = rnd() % nmv;
                if (!mv[i].alive)
                    continue;
                int rc = store_delete_version(s, b, sv_from_cstr(mv[i].key), mv[i].vid, NULL);
                CHECK_EQ_INT(rc, 0);
                mv[i].alive = false;
            }
        }
        /* current view: store_get agrees with the model's latest entry per key */
        arena_t *a = arena_new();
        size_t ne = model_list("", "", "", "", exp_e);
        for (size_t i = 0; i < ne; i++) {
            if (!exp_e[i].latest)
                continue;
            store_obj_t o;
            int rc = store_get(s, b, sv_from_cstr(exp_e[i].name), NULL, a, &o, NULL);
            CHECK_EQ_INT(rc, exp_e[i].dm ? -SE_NO_SUCH_KEY : 0);
            if (exp_e[i].dm)
                CHECK(o.delete_marker);
            rc = store_get(s, b, sv_from_cstr(exp_e[i].name), exp_e[i].vid, a, &o, NULL);
            CHECK_EQ_INT(rc, exp_e[i].dm ? -SE_METHOD_NOT_ALLOWED : 0);
        }
        arena_free(a);
        static const char *pfxs[] = {"", "a", "a/", "b/", "LLLL"};
        static const char *dels[] = {"", "/", "b/", "y"};
        static const size_t pages[] = {1, 2, 3, 7, 1000};
        for (int t = 0; t < 8; t++)
            compare_listing(s, pfxs[rnd() % 5], dels[rnd() % 4], pages[rnd() % 5]);
        /* state changes: off -> enabled -> suspended -> enabled ... */
        state = state == STORE_VERSIONING_ENABLED ? STORE_VERSIONING_SUSPENDED
                                                  : STORE_VERSIONING_ENABLED;
        CHECK_EQ_INT(store_versioning_put(s, b, state), 0);
    }
    /* cost: a page of 10 under a delimiter that hides everything stays a few steps */
    store_local_stats_t st0, st1;
    store_local_stats(s, &st0);
    arena_t *a = arena_new();
    store_lv_opts_t o = {.delimiter = SV("/"), .max_keys = 3};
    store_lv_result_t r;
    CHECK_EQ_INT(store_list_versions(s, b, &o, a, &r), 0);
    store_local_stats(s, &st1);
    CHECK(st1.list_steps - st0.list_steps < 200);
    /* marker errors */
    o.version_id_marker = SV("null");
    CHECK_EQ_INT(store_list_versions(s, b, &o, a, &r), -SE_INVALID_ARGUMENT);
    o.key_marker = SV("a");
    o.version_id_marker = SV("zz");
    CHECK_EQ_INT(store_list_versions(s, b, &o, a, &r), -SE_INVALID_VERSION_ID);
    arena_free(a);
    store_close(s);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    snprintf(root, sizeof root, "/tmp/strata-test-versions-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_vid_codec);
    RUN(test_enabled_and_markers);
    RUN(test_suspended_null_version);
    RUN(test_list_versions_model);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_summary("store_versions");
}
