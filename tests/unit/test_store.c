/* Tests for the local store backend (src/store/local). Each test opens a store in a fresh
 * directory under one temp root, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static void mkdir_fresh(char *out, size_t n)
{
    snprintf(out, n, "%s/s%d", root, dir_seq++);
}

static store_t *open_at(const char *dir, size_t inline_max, int grace)
{
    store_opts_t o = {.dir = dir, .inline_max = inline_max, .map_size = (size_t)1 << 30,
                      .gc_grace_ms = grace};
    store_t *s = NULL;
    int rc = store_open(&o, &s);
    if (rc != 0)
        fprintf(stderr, "store_open(%s): %s\n", dir, strata_strerror(rc));
    return s;
}

static store_t *fresh(char *dir, size_t dn, int grace)
{
    mkdir_fresh(dir, dn);
    return open_at(dir, 0, grace);
}

static void mkbucket(store_t *s, const char *name)
{
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, "%s", name);
    snprintf(b.owner, sizeof b.owner, "acct1");
    CHECK_EQ_INT(store_bucket_create(s, &b), 0);
    CHECK(b.id != 0);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static int put_obj(store_t *s, const char *bucket, sv_t key, const void *data, size_t n,
                   uint64_t hint, size_t chunk, const store_cond_t *cond, const char *etag)
{
    store_put_t *p;
    int rc = store_put_begin(s, sv_from_cstr(bucket), key, hint, &p);
    if (rc < 0)
        return rc;
    if (!chunk)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk) {
        size_t m = n - off < chunk ? n - off : chunk;
        if ((rc = store_put_write(p, (const uint8_t *)data + off, m)) < 0) {
            store_put_abort(p);
            return rc;
        }
    }
    store_obj_t m = {0};
    snprintf(m.etag, sizeof m.etag, "%s", etag ? etag : "etag0");
    snprintf(m.storage_class, sizeof m.storage_class, "STANDARD");
    return store_put_commit(p, &m, cond);
}

static int put_simple(store_t *s, const char *bucket, const char *key, const void *data, size_t n)
{
    return put_obj(s, bucket, sv_from_cstr(key), data, n, n, 0, NULL, NULL);
}

/* Reads the whole current object into a malloc'd buffer; returns its size or an error. */
static long long get_all(store_t *s, const char *bucket, sv_t key, uint8_t **out)
{
    arena_t *a = arena_new();
    store_obj_t o;
    store_read_t *rd;
    int rc = store_get(s, sv_from_cstr(bucket), key, NULL, a, &o, &rd);
    if (rc < 0) {
        arena_free(a);
        return rc;
    }
    uint8_t *b = malloc(o.size + 1);
    uint64_t off = 0;
    long long ret = (long long)o.size;
    while (off < o.size) {
        ssize_t r = store_read(rd, off, b + off, 100000);
        if (r <= 0) {
            ret = r < 0 ? r : -EIO;
            break;
        }
        off += (uint64_t)r;
    }
    store_read_close(rd);
    arena_free(a);
    if (ret < 0)
        free(b);
    else
        *out = b;
    return ret;
}

static int count_files_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)p;
    (void)st;
    (void)f;
    if (type == FTW_F)
        dir_seq += 1000000;
    return 0;
}

/* Number of regular files under dir/data. */
static int count_data_files(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/data", dir);
    int save = dir_seq;
    dir_seq = 0;
    nftw(p, count_files_cb, 16, FTW_PHYS);
    int n = dir_seq / 1000000;
    dir_seq = save;
    return n;
}

static int rm_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    return remove(p);
}

/* ------------------------------------------------------------------------------------------ */

static int meta_collect(void *ctx, sv_t k, sv_t v)
{
    struct {
        buf_t *b;
        int *stop;
    } *lc = ctx;
    buf_printf(lc->b, "%.*s=%.*s;", SV_ARG(k), SV_ARG(v));
    return --*lc->stop <= 0;
}

TEST(test_buckets_and_meta)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    CHECK(s != NULL);
    if (!s)
        return;
    store_bucket_t b1 = {0}, b2 = {0}, g;
    snprintf(b1.name, sizeof b1.name, "alpha");
    snprintf(b2.name, sizeof b2.name, "beta");
    CHECK_EQ_INT(store_bucket_create(s, &b1), 0);
    CHECK_EQ_INT(store_bucket_create(s, &b2), 0);
    CHECK(b1.id && b2.id && b1.id != b2.id);
    CHECK_EQ_STR(b1.region, "us-east-1");
    CHECK_EQ_INT(store_bucket_create(s, &b1), -SE_BUCKET_EXISTS);
    CHECK_EQ_INT(store_bucket_get(s, SV("alpha"), &g), 0);
    CHECK_EQ_INT(g.id, b1.id);
    CHECK_EQ_INT(store_bucket_get(s, SV("gamma"), &g), -SE_NO_SUCH_BUCKET);

    buf_t d = BUF_INIT;
    CHECK_EQ_INT(store_bucket_conf_put(s, SV("alpha"), "policy", SV("{\"p\":1}")), 0);
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("alpha"), "policy", &d), 0);
    CHECK_EQ_STR(d.p, "{\"p\":1}");
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("alpha"), "acl", &d), -ENOENT);
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("nope"), "acl", &d), -SE_NO_SUCH_BUCKET);
    CHECK_EQ_INT(store_bucket_conf_put(s, SV("alpha"), "policy", SV("")), 0);
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("alpha"), "policy", &d), -ENOENT);
    CHECK_EQ_INT(store_bucket_conf_put(s, SV("alpha"), "tagging", SV("t")), 0);

    CHECK_EQ_INT(put_simple(s, "alpha", "k", "x", 1), 0);
    CHECK_EQ_INT(store_bucket_delete(s, SV("alpha")), -SE_BUCKET_NOT_EMPTY);
    CHECK_EQ_INT(store_delete(s, SV("alpha"), SV("k"), NULL), 0);
    CHECK_EQ_INT(store_bucket_delete(s, SV("alpha")), 0);
    CHECK_EQ_INT(store_bucket_delete(s, SV("alpha")), -SE_NO_SUCH_BUCKET);
    CHECK_EQ_INT(store_bucket_get(s, SV("alpha"), &g), -SE_NO_SUCH_BUCKET);
    /* re-created: a new id, and no configuration left over */
    store_bucket_t b3 = {0};
    snprintf(b3.name, sizeof b3.name, "alpha");
    CHECK_EQ_INT(store_bucket_create(s, &b3), 0);
    CHECK(b3.id != b1.id && b3.id != b2.id);
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("alpha"), "tagging", &d), -ENOENT);
    arena_t *a = arena_new();
    store_obj_t o;
    CHECK_EQ_INT(store_get(s, SV("alpha"), SV("k"), NULL, a, &o, NULL), -SE_NO_SUCH_KEY);
    arena_free(a);

    /* meta namespaces */
    CHECK_EQ_INT(store_meta_put(s, "keys", SV("AK1"), SV("v1")), 0);
    CHECK_EQ_INT(store_meta_put(s, "keys", SV("AK2"), SV("v2")), 0);
    CHECK_EQ_INT(store_meta_put(s, "keys", SV("BK1"), SV("v3")), 0);
    CHECK_EQ_INT(store_meta_put(s, "keyz", SV("AK1"), SV("other")), 0);
    CHECK_EQ_INT(store_meta_get(s, "keys", SV("AK2"), &d), 0);
    CHECK_EQ_STR(d.p, "v2");
    CHECK_EQ_INT(store_meta_get(s, "keys", SV("AK3"), &d), -ENOENT);
    CHECK_EQ_INT(store_meta_put(s, "keys", SV("AK2"), SV("v2b")), 0);
    CHECK_EQ_INT(store_meta_get(s, "keys", SV("AK2"), &d), 0);
    CHECK_EQ_STR(d.p, "v2b");
    buf_clear(&d);
    int stop_after = 100;
    struct lctx {
        buf_t *b;
        int *stop;
    } lc = {&d, &stop_after};
    int (*cb)(void *, sv_t, sv_t) = meta_collect; /* collects "key=val;" */
    CHECK_EQ_INT(store_meta_list(s, "keys", SV("AK"), cb, &lc), 0);
    CHECK_EQ_STR(d.p, "AK1=v1;AK2=v2b;");
    buf_clear(&d);
    CHECK_EQ_INT(store_meta_list(s, "keys", SV(""), cb, &lc), 0);
    CHECK_EQ_STR(d.p, "AK1=v1;AK2=v2b;BK1=v3;");
    buf_clear(&d);
    stop_after = 1;
    CHECK_EQ_INT(store_meta_list(s, "keys", SV(""), cb, &lc), 0);
    CHECK_EQ_STR(d.p, "AK1=v1;");
    CHECK_EQ_INT(store_meta_delete(s, "keys", SV("AK1")), 0);
    CHECK_EQ_INT(store_meta_delete(s, "keys", SV("AK1")), -ENOENT);
    CHECK_EQ_INT(store_meta_get(s, "keyz", SV("AK1"), &d), 0);
    CHECK_EQ_STR(d.p, "other");
    char big[600];
    memset(big, 'm', sizeof big);
    CHECK_EQ_INT(store_meta_put(s, "keys", (sv_t){big, sizeof big}, SV("v")),
                 -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(store_meta_put(s, "keys", (sv_t){big, 400}, SV("v")), 0);
    CHECK_EQ_INT(store_meta_get(s, "keys", (sv_t){big, 400}, &d), 0);
    buf_release(&d);
    store_close(s);
}

static int bucket_count_cb(void *ctx, const store_bucket_t *b)
{
    (void)b;
    ++*(int *)ctx;
    return 0;
}

TEST(test_sizes_and_ranges)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "b");
    static const size_t sizes[] = {0,     1,     100,   16383, 16384,  16385,       65535,
                                   65536, 65537, 131071, 131072, 196609, 5 * 1048576 + 7};
    size_t maxn = 5 * 1048576 + 7;
    uint8_t *src = malloc(maxn);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        fill(src, n, (uint32_t)i + 1);
        for (int mode = 0; mode < 3; mode++) {
            char key[64];
            snprintf(key, sizeof key, "obj-%zu-%d", n, mode);
            /* mode 0: exact hint, one write; 1: unknown size, odd chunks; 2: 70000 chunks */
            uint64_t hint = mode == 0 ? n : UINT64_MAX;
            size_t chunk = mode == 0 ? 0 : mode == 1 ? 1000 : 70000;
            CHECK_EQ_INT(put_obj(s, "b", sv_from_cstr(key), src, n, hint, chunk, NULL, NULL), 0);
            uint8_t *got = NULL;
            long long r = get_all(s, "b", sv_from_cstr(key), &got);
            CHECK_EQ_INT(r, (long long)n);
            if (r == (long long)n)
                CHECK(n == 0 || memcmp(got, src, n) == 0);
            free(got);
            char path[4096];
            int prc = store_local_data_path(s, SV("b"), sv_from_cstr(key), path, sizeof path);
            CHECK_EQ_INT(prc, n > LS_INLINE_DEFAULT ? 0 : -ENOENT);
        }
        /* ranges across segment boundaries */
        char key[64];
        snprintf(key, sizeof key, "obj-%zu-0", n);
        arena_t *a = arena_new();
        store_obj_t o;
        store_read_t *rd;
        CHECK_EQ_INT(store_get(s, SV("b"), sv_from_cstr(key), NULL, a, &o, &rd), 0);
        CHECK_EQ_INT(o.size, n);
        CHECK_EQ_STR(o.etag, "etag0");
        static const uint64_t offs[] = {0, 1, 65534, 65535, 65536, 65537, 131070, 131072, 200000};
        for (size_t j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            uint8_t tmp[140000];
            for (size_t len = 1; len <= 131073; len = len * 7 + 3) {
                ssize_t r = store_read(rd, offs[j], tmp, len);
                size_t want = offs[j] >= n ? 0 : (n - offs[j] < len ? n - offs[j] : len);
                CHECK_EQ_INT(r, (long long)want);
                if (r > 0)
                    CHECK(memcmp(tmp, src + offs[j], (size_t)r) == 0);
            }
        }
        CHECK_EQ_INT(store_read(rd, n + 10, src, 10), 0);
        store_read_close(rd);
        arena_free(a);
    }
    int nb = 0;
    CHECK_EQ_INT(store_bucket_list(s, bucket_count_cb, &nb), 0);
    CHECK_EQ_INT(nb, 1);
    free(src);
    store_close(s);
}

TEST(test_records_and_conditions)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "b");
    store_put_t *p;
    CHECK_EQ_INT(store_put_begin(s, SV("nob"), SV("k"), 1, &p), -SE_NO_SUCH_BUCKET);
    CHECK_EQ_INT(store_put_begin(s, SV("b"), SV(""), 1, &p), -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(store_put_begin(s, SV("b"), (sv_t){"a\0b", 3}, 1, &p), -SE_INVALID_ARGUMENT);
    char longk[1100];
    memset(longk, 'k', sizeof longk);
    CHECK_EQ_INT(store_put_begin(s, SV("b"), (sv_t){longk, 1025}, 1, &p), -SE_KEY_TOO_LONG);

    CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("doc.txt"), 5, &p), 0);
    CHECK_EQ_INT(store_put_write(p, "hello", 5), 0);
    kv_t attrs[2] = {{SV("content-type"), SV("text/plain")}, {SV("x-amz-meta-c"), SV("blue")}};
    kv_t tags[1] = {{SV("env"), SV("prod")}};
    store_obj_t m = {0};
    snprintf(m.etag, sizeof m.etag, "5d41402abc4b2a76b9719d911017c592");
    snprintf(m.storage_class, sizeof m.storage_class, "STANDARD_IA");
    snprintf(m.owner, sizeof m.owner, "acct1");
    snprintf(m.checksum_algo, sizeof m.checksum_algo, "CRC32C");
    snprintf(m.checksum, sizeof m.checksum, "AAAAAA==");
    m.attrs = attrs;
    m.nattrs = 2;
    m.tags = tags;
    m.ntags = 1;
    m.extra = SV("\x01\x02\x00\x03");
    m.mtime_ms = 1700000000123;
    CHECK_EQ_INT(store_put_commit(p, &m, NULL), 0);
    CHECK_EQ_INT(m.size, 5);

    arena_t *a = arena_new();
    store_obj_t o;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("doc.txt"), NULL, a, &o, NULL), 0);
    CHECK_EQ_INT(o.size, 5);
    CHECK_EQ_INT(o.mtime_ms, 1700000000123);
    CHECK_EQ_STR(o.key, "doc.txt");
    CHECK_EQ_STR(o.etag, "5d41402abc4b2a76b9719d911017c592");
    CHECK_EQ_STR(o.storage_class, "STANDARD_IA");
    CHECK_EQ_STR(o.owner, "acct1");
    CHECK_EQ_STR(o.checksum_algo, "CRC32C");
    CHECK_EQ_STR(o.checksum, "AAAAAA==");
    CHECK_EQ_INT(o.nattrs, 2);
    CHECK_EQ_INT(o.ntags, 1);
    if (o.nattrs == 2 && o.ntags == 1) {
        CHECK(sv_eq(o.attrs[0].name, SV("content-type")) &&
              sv_eq(o.attrs[0].value, SV("text/plain")));
        CHECK(sv_eq(o.attrs[1].name, SV("x-amz-meta-c")) && sv_eq(o.attrs[1].value, SV("blue")));
        CHECK(sv_eq(o.tags[0].name, SV("env")) && sv_eq(o.tags[0].value, SV("prod")));
    }
    CHECK(sv_eq(o.extra, SV("\x01\x02\x00\x03")));
    CHECK_EQ_INT(store_get(s, SV("b"), SV("doc.txt"), "null", a, &o, NULL), 0);
    /* not an id this store makes (versions.c); a well-formed unknown one is NoSuchVersion */
    CHECK_EQ_INT(store_get(s, SV("b"), SV("doc.txt"), "v123", a, &o, NULL), -SE_INVALID_VERSION_ID);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("doc.txt"), "00000000000000070123456789abcdef", a, &o,
                           NULL), -SE_NO_SUCH_VERSION);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("nope"), NULL, a, &o, NULL), -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(store_get(s, SV("zz"), SV("nope"), NULL, a, &o, NULL), -SE_NO_SUCH_BUCKET);

    /* metadata-only update keeps the data */
    store_obj_t u = {0};
    u.key = "doc.txt";
    u.key_len = 7;
    snprintf(u.storage_class, sizeof u.storage_class, "GLACIER");
    kv_t t2[2] = {{SV("a"), SV("1")}, {SV("b"), SV("2")}};
    u.tags = t2;
    u.ntags = 2;
    CHECK_EQ_INT(store_obj_update(s, SV("b"), &u), 0);
    uint8_t *got = NULL;
    CHECK_EQ_INT(get_all(s, "b", SV("doc.txt"), &got), 5);
    if (got)
        CHECK(memcmp(got, "hello", 5) == 0);
    free(got);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("doc.txt"), NULL, a, &o, NULL), 0);
    CHECK_EQ_STR(o.storage_class, "GLACIER");
    CHECK_EQ_STR(o.etag, "5d41402abc4b2a76b9719d911017c592");
    CHECK_EQ_INT(o.ntags, 2);
    CHECK_EQ_INT(o.nattrs, 0);
    u.key = "missing";
    u.key_len = 7;
    CHECK_EQ_INT(store_obj_update(s, SV("b"), &u), -SE_NO_SUCH_KEY);

    /* conditions */
    store_cond_t inm = {.if_none_match_any = true};
    CHECK_EQ_INT(put_obj(s, "b", SV("doc.txt"), "x", 1, 1, 0, &inm, "e2"),
                 -SE_PRECONDITION_FAILED);
    CHECK_EQ_INT(put_obj(s, "b", SV("new.txt"), "x", 1, 1, 0, &inm, "e2"), 0);
    store_cond_t im = {.if_match_etag = "wrong"};
    CHECK_EQ_INT(put_obj(s, "b", SV("new.txt"), "y", 1, 1, 0, &im, "e3"),
                 -SE_PRECONDITION_FAILED);
    im.if_match_etag = "e2";
    CHECK_EQ_INT(put_obj(s, "b", SV("new.txt"), "y", 1, 1, 0, &im, "e3"), 0);
    im.if_match_etag = "e2";
    CHECK_EQ_INT(put_obj(s, "b", SV("absent"), "y", 1, 1, 0, &im, "e3"), -SE_NO_SUCH_KEY);
    im.if_match_etag = "*"; /* any current version */
    CHECK_EQ_INT(put_obj(s, "b", SV("absent"), "y", 1, 1, 0, &im, "e3"), -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(put_obj(s, "b", SV("new.txt"), "y", 1, 1, 0, &im, "e3"), 0);
    CHECK_EQ_INT(get_all(s, "b", SV("new.txt"), &got), 1);
    if (got)
        CHECK(got[0] == 'y');
    free(got);
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("new.txt"), "v9"), -SE_INVALID_VERSION_ID);
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("new.txt"), NULL), 0);
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("new.txt"), NULL), -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(store_delete(s, SV("zz"), SV("new.txt"), NULL), -SE_NO_SUCH_BUCKET);

    /* abort leaves nothing */
    CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("aborted"), 1 << 20, &p), 0);
    uint8_t blk[4096] = {1};
    CHECK_EQ_INT(store_put_write(p, blk, sizeof blk), 0);
    store_put_abort(p);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("aborted"), NULL, a, &o, NULL), -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(count_data_files(dir), 0);
    arena_free(a);
    store_close(s);
}

/* ---- listing vs a brute-force model ------------------------------------------------------ */
static int cmp_cstr(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return sv_cmp(sv_from_cstr(x), sv_from_cstr(y));
}

typedef struct {
    char *s;
    bool is_prefix;
} ent_t;

/* The spec: distinct entries (common prefix or key) > start_after, in order. */
static size_t model_list(char **keys, size_t n, sv_t pfx, sv_t d, sv_t sa, ent_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        sv_t k = sv_from_cstr(keys[i]);
        if (!sv_starts_with(k, pfx) || (sa.len && sv_cmp(k, sa) <= 0))
            continue;
        sv_t e = k;
        bool isp = false;
        if (d.len && k.len - pfx.len >= d.len) {
            const char *dp = memmem(k.p + pfx.len, k.len - pfx.len, d.p, d.len);
            if (dp) {
                e.len = (size_t)(dp - k.p) + d.len;
                isp = true;
            }
        }
        if (sa.len && sv_cmp(e, sa) <= 0)
            continue;
        if (m && sv_eq(sv_from_cstr(out[m - 1].s), e))
            continue;
        out[m].s = strndup(e.p, e.len);
        out[m].is_prefix = isp;
        m++;
    }
    return m;
}

/* Runs store_list page by page; checks each page against the model. */
static void list_check(store_t *s, char **keys, size_t n, sv_t pfx, sv_t d, sv_t sa0,
                       size_t page, ent_t *model_buf)
{
    sv_t sa = sa0;
    char *sa_copy = NULL;
    size_t total = model_list(keys, n, pfx, d, sa0, model_buf);
    size_t seen = 0;
    for (int guard = 0; guard < 100000; guard++) {
        arena_t *a = arena_new();
        store_list_opts_t o = {.prefix = pfx, .delimiter = d, .start_after = sa, .max_keys = page};
        store_list_result_t r;
        int rc = store_list(s, SV("lst"), &o, a, &r);
        CHECK_EQ_INT(rc, 0);
        size_t oi = 0, pi = 0, got = 0;
        bool bad = false;
        while (oi < r.nobjs || pi < r.nprefixes) {
            bool take_obj;
            if (oi < r.nobjs && pi < r.nprefixes)
                take_obj = sv_cmp((sv_t){r.objs[oi].key, r.objs[oi].key_len}, r.prefixes[pi]) < 0;
            else
                take_obj = oi < r.nobjs;
            sv_t e = take_obj ? (sv_t){r.objs[oi].key, r.objs[oi].key_len} : r.prefixes[pi];
            if (take_obj)
                oi++;
            else
                pi++;
            if (seen + got >= total || !sv_eq(e, sv_from_cstr(model_buf[seen + got].s)) ||
                model_buf[seen + got].is_prefix == take_obj)
                bad = true;
            got++;
        }
        CHECK(!bad);
        if (bad) {
            fprintf(stderr, "  list mismatch prefix=%.*s delim=%.*s sa=%.*s page=%zu at %zu\n",
                    SV_ARG(pfx), SV_ARG(d), SV_ARG(sa), page, seen);
            arena_free(a);
            break;
        }
        CHECK(got <= page);
        seen += got;
        CHECK_EQ_INT(r.truncated, seen < total);
        if (!r.truncated || got == 0) {
            arena_free(a);
            break;
        }
        CHECK(sv_eq(r.next, sv_from_cstr(model_buf[seen - 1].s)));
        free(sa_copy);
        sa_copy = strndup(r.next.p, r.next.len);
        sa = (sv_t){sa_copy, r.next.len};
        arena_free(a);
    }
    CHECK_EQ_INT(seen, total);
    free(sa_copy);
    for (size_t i = 0; i < total; i++)
        free(model_buf[i].s);
}

TEST(test_list_model)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "lst");
    mkbucket(s, "lss"); /* a neighbour bucket whose keys must never leak into the listing */
    CHECK_EQ_INT(put_simple(s, "lss", "a", "", 0), 0);
    srand(12345);
    enum { NK = 400 };
    char *keys[NK];
    size_t n = 0;
    const char alpha[] = "ab/-.";
    while (n < NK) {
        char k[600];
        size_t len;
        if (n % 10 == 0) { /* long keys (> Q bytes) that share their first Q bytes */
            int kind = rand() % 3;
            const char *head = kind == 0 ? "L/" : kind == 1 ? "L-" : "a/";
            size_t hl = strlen(head);
            memcpy(k, head, hl);
            memset(k + hl, 'x', 450);
            len = hl + 450;
            size_t extra = 1 + (size_t)(rand() % 5);
            for (size_t i = 0; i < extra; i++)
                k[len++] = alpha[rand() % 5];
        } else {
            len = 1 + (size_t)(rand() % 6);
            for (size_t i = 0; i < len; i++)
                k[i] = alpha[rand() % 5];
        }
        k[len] = 0;
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(keys[i], k) == 0)
                dup = true;
        if (dup)
            continue;
        keys[n++] = strdup(k);
    }
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(put_obj(s, "lst", sv_from_cstr(keys[i]), keys[i], 1, 1, 0, NULL, NULL), 0);
    qsort(keys, n, sizeof keys[0], cmp_cstr);

    ent_t *model_buf = calloc(NK, sizeof *model_buf);
    const char *pfxs[] = {"", "a", "ab", "L", "a/xxxxxxxxxx", "zz"};
    const char *delims[] = {"", "/", "-/", "ab", "xx", ".a"};
    const size_t pages[] = {1, 3, 1000};
    for (size_t i = 0; i < sizeof pfxs / sizeof pfxs[0]; i++)
        for (size_t j = 0; j < sizeof delims / sizeof delims[0]; j++)
            for (size_t k = 0; k < 3; k++)
                list_check(s, keys, n, sv_from_cstr(pfxs[i]), sv_from_cstr(delims[j]), SV_NULL,
                           pages[k], model_buf);
    /* random start_after: keys, common prefixes, arbitrary strings */
    for (int t = 0; t < 60; t++) {
        char sa[600];
        if (t % 3 == 0)
            snprintf(sa, sizeof sa, "%s", keys[rand() % n]);
        else if (t % 3 == 1)
            snprintf(sa, sizeof sa, "%c%c/", alpha[rand() % 5], alpha[rand() % 5]);
        else
            snprintf(sa, sizeof sa, "%c", alpha[rand() % 5]);
        list_check(s, keys, n, sv_from_cstr(pfxs[t % 4]), sv_from_cstr(delims[t % 6]),
                   sv_from_cstr(sa), 1 + (size_t)(t % 7), model_buf);
    }
    /* max_keys 0 */
    arena_t *a = arena_new();
    store_list_opts_t o = {.max_keys = 0};
    store_list_result_t r;
    CHECK_EQ_INT(store_list(s, SV("lst"), &o, a, &r), 0);
    CHECK(r.nobjs == 0 && r.nprefixes == 0 && !r.truncated);
    CHECK_EQ_INT(store_list(s, SV("nope"), &o, a, &r), -SE_NO_SUCH_BUCKET);
    /* listing fills the cheap fields */
    o.max_keys = 1;
    o.prefix = SV("L/");
    CHECK_EQ_INT(store_list(s, SV("lst"), &o, a, &r), 0);
    CHECK_EQ_INT(r.nobjs, 1);
    if (r.nobjs) {
        CHECK_EQ_INT(r.objs[0].size, 1);
        CHECK_EQ_STR(r.objs[0].etag, "etag0");
        CHECK(r.objs[0].key_len > LS_KEY_Q);
    }
    /* long keys: get and delete work on the full key */
    for (size_t i = 0; i < n; i++) {
        if (strlen(keys[i]) <= LS_KEY_Q)
            continue;
        uint8_t *got = NULL;
        CHECK_EQ_INT(get_all(s, "lst", sv_from_cstr(keys[i]), &got), 1);
        if (got)
            CHECK(got[0] == keys[i][0]);
        free(got);
    }
    arena_free(a);
    free(model_buf);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    store_close(s);
}

/* ---- GC, readers, corruption, reopen --------------------------------------------------- */
static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

TEST(test_gc_and_readers)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 200);
    if (!s)
        return;
    mkbucket(s, "b");
    size_t n = 300000;
    uint8_t *v1 = malloc(n), *v2 = malloc(n), *buf = malloc(n);
    fill(v1, n, 1);
    fill(v2, n, 2);
    CHECK_EQ_INT(put_simple(s, "b", "big", v1, n), 0);
    char p1[4096], p2[4096];
    CHECK_EQ_INT(store_local_data_path(s, SV("b"), SV("big"), p1, sizeof p1), 0);
    CHECK(file_exists(p1));

    /* a reader opened before the overwrite */
    arena_t *a = arena_new();
    store_obj_t o;
    store_read_t *rd;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("big"), NULL, a, &o, &rd), 0);
    CHECK_EQ_INT(store_read(rd, 0, buf, 1000), 1000); /* started reading */

    CHECK_EQ_INT(put_simple(s, "b", "big", v2, n), 0);
    CHECK_EQ_INT(store_local_data_path(s, SV("b"), SV("big"), p2, sizeof p2), 0);
    CHECK(strcmp(p1, p2) != 0);
    CHECK(file_exists(p1)); /* queued, within the grace period */
    usleep(300 * 1000);
    store_local_gc_kick(s);
    CHECK(!file_exists(p1)); /* collected */
    /* ... and the old reader still reads the old bytes to the end */
    ssize_t r = 0;
    uint64_t off = 1000;
    while (off < n && (r = store_read(rd, off, buf + off, 77777)) > 0)
        off += (uint64_t)r;
    CHECK_EQ_INT(off, n);
    CHECK(memcmp(buf + 1000, v1 + 1000, n - 1000) == 0);
    store_read_close(rd);

    /* new readers see v2 */
    uint8_t *got = NULL;
    CHECK_EQ_INT(get_all(s, "b", SV("big"), &got), (long long)n);
    if (got)
        CHECK(memcmp(got, v2, n) == 0);
    free(got);

    /* delete: same story */
    CHECK_EQ_INT(store_get(s, SV("b"), SV("big"), NULL, a, &o, &rd), 0);
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("big"), NULL), 0);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("big"), NULL, a, &o, NULL), -SE_NO_SUCH_KEY);
    usleep(300 * 1000);
    store_local_gc_kick(s);
    CHECK(!file_exists(p2));
    CHECK_EQ_INT(store_read(rd, n - 10, buf, 10), 10);
    CHECK(memcmp(buf, v2 + n - 10, 10) == 0);
    store_read_close(rd);
    CHECK_EQ_INT(count_data_files(dir), 0);
    /* inline over file and file over inline */
    CHECK_EQ_INT(put_simple(s, "b", "x", v1, n), 0);
    CHECK_EQ_INT(put_simple(s, "b", "x", "tiny", 4), 0);
    CHECK_EQ_INT(put_simple(s, "b", "x", v2, n), 0);
    usleep(300 * 1000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 1);
    store_local_stats_t st;
    store_local_stats(s, &st);
    CHECK(st.gc_unlinked >= 3);
    arena_free(a);
    free(v1);
    free(v2);
    free(buf);
    store_close(s);
}

/* Flips one byte at offset off of a file. */
static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    uint8_t c;
    CHECK_EQ_INT(pread(fd, &c, 1, off), 1);
    c ^= 0x20;
    CHECK_EQ_INT(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

TEST(test_corruption)
{
    char dir[128];
    mkdir_fresh(dir, sizeof dir);
    store_t *s = open_at(dir, 0, 100);
    if (!s)
        return;
    mkbucket(s, "b");
    size_t n = 3 * 65536 + 100;
    uint8_t *v = malloc(n), *buf = malloc(n);
    fill(v, n, 7);
    CHECK_EQ_INT(put_simple(s, "b", "f", v, n), 0);
    /* an inline object with a findable pattern */
    char pat[4096];
    for (size_t i = 0; i < sizeof pat; i++)
        pat[i] = "CORRUPTME-"[i % 10];
    CHECK_EQ_INT(put_simple(s, "b", "inl", pat, sizeof pat), 0);
    char path[4096];
    CHECK_EQ_INT(store_local_data_path(s, SV("b"), SV("f"), path, sizeof path), 0);
    /* flip one byte in segment 1 */
    flip_byte(path, (off_t)(LS_FILE_HDR + (LS_SEG_SIZE + LS_SEG_CRC) + 12345));

    arena_t *a = arena_new();
    store_obj_t o;
    store_read_t *rd;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("f"), NULL, a, &o, &rd), 0);
    CHECK_EQ_INT(store_read(rd, 0, buf, 65536), 65536); /* segment 0 is fine */
    CHECK(memcmp(buf, v, 65536) == 0);
    CHECK_EQ_INT(store_read(rd, 65530, buf, 10), -SE_CORRUPT); /* touches segment 1 */
    CHECK_EQ_INT(store_read(rd, 70000, buf, 1), -SE_CORRUPT);
    CHECK_EQ_INT(store_read(rd, 2 * 65536, buf, 65536), 65536); /* segment 2 is fine */
    CHECK(memcmp(buf, v + 2 * 65536, 65536) == 0);
    store_read_close(rd);
    /* a truncated file: the last segment is short */
    CHECK_EQ_INT(truncate(path, (off_t)(LS_FILE_HDR + 3 * (LS_SEG_SIZE + LS_SEG_CRC) + 50)), 0);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("f"), NULL, a, &o, &rd), 0);
    CHECK_EQ_INT(store_read(rd, n - 5, buf, 5), -SE_CORRUPT);
    store_read_close(rd);
    /* a data file lost outside the store: reported, not mistaken for a GC race forever */
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("f"), NULL, a, &o, &rd), -SE_CORRUPT);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("f"), NULL, NULL, NULL, NULL), 0); /* HEAD-like */
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("f"), NULL), 0);
    store_close(s);

    /* inline record inside the LMDB file: flip a byte of every copy of the pattern */
    char mdb[256];
    snprintf(mdb, sizeof mdb, "%s/index/data.mdb", dir);
    int fd = open(mdb, O_RDWR);
    CHECK(fd >= 0);
    struct stat st;
    fstat(fd, &st);
    uint8_t *m = malloc((size_t)st.st_size);
    CHECK_EQ_INT(pread(fd, m, (size_t)st.st_size, 0), st.st_size);
    int flips = 0;
    for (size_t i = 0; i + 100 < (size_t)st.st_size; i++) {
        if (memcmp(m + i, "CORRUPTME-CORRUPTME-CORRUPTME-", 30) == 0) {
            uint8_t c = 'X';
            CHECK_EQ_INT(pwrite(fd, &c, 1, (off_t)(i + 50)), 1);
            flips++;
            i += 4096;
        }
    }
    CHECK(flips >= 1);
    free(m);
    close(fd);
    s = open_at(dir, 0, 100);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(store_get(s, SV("b"), SV("inl"), NULL, a, &o, &rd), 0);
        CHECK_EQ_INT(store_read(rd, 0, buf, 10), -SE_CORRUPT);
        CHECK_EQ_INT(store_read(rd, 4000, buf, 10), -SE_CORRUPT);
        store_read_close(rd);
        store_close(s);
    }
    arena_free(a);
    free(v);
    free(buf);
}

TEST(test_reopen_and_recovery)
{
    char dir[128];
    mkdir_fresh(dir, sizeof dir);
    store_t *s = open_at(dir, 0, 100);
    if (!s)
        return;
    mkbucket(s, "b");
    uint8_t big[100000];
    fill(big, sizeof big, 3);
    CHECK_EQ_INT(put_simple(s, "b", "big", big, sizeof big), 0);
    CHECK_EQ_INT(put_simple(s, "b", "small", "abc", 3), 0);
    CHECK_EQ_INT(store_meta_put(s, "accounts", SV("root"), SV("r")), 0);
    CHECK_EQ_INT(store_bucket_conf_put(s, SV("b"), "versioning", SV("Enabled")), 0);
    /* a second open of the same directory is refused */
    store_t *s2 = NULL;
    store_opts_t o2 = {.dir = dir};
    CHECK_EQ_INT(store_open(&o2, &s2), -EBUSY);
    store_close(s);

    /* a crashed put's data file (no index reference) */
    char orphan[512];
    snprintf(orphan, sizeof orphan, "%s/data/ab", dir);
    mkdir(orphan, 0755);
    snprintf(orphan, sizeof orphan, "%s/data/ab/cd", dir);
    mkdir(orphan, 0755);
    snprintf(orphan, sizeof orphan, "%s/data/ab/cd/abcd0000000000000000000000000000", dir);
    FILE *f = fopen(orphan, "w");
    fputs("junk", f);
    fclose(f);

    s = open_at(dir, 0, 100);
    CHECK(s != NULL);
    if (!s)
        return;
    store_local_stats_t st;
    store_local_stats(s, &st);
    CHECK_EQ_INT(st.orphans_removed, 1);
    CHECK(!file_exists(orphan));
    CHECK_EQ_INT(count_data_files(dir), 1);
    uint8_t *got = NULL;
    CHECK_EQ_INT(get_all(s, "b", SV("big"), &got), (long long)sizeof big);
    if (got)
        CHECK(memcmp(got, big, sizeof big) == 0);
    free(got);
    CHECK_EQ_INT(get_all(s, "b", SV("small"), &got), 3);
    free(got);
    buf_t d = BUF_INIT;
    CHECK_EQ_INT(store_meta_get(s, "accounts", SV("root"), &d), 0);
    CHECK_EQ_INT(store_bucket_conf_get(s, SV("b"), "versioning", &d), 0);
    CHECK_EQ_STR(d.p, "Enabled");
    buf_release(&d);
    /* bucket ids keep increasing across reopen */
    store_bucket_t b2 = {0}, b1;
    snprintf(b2.name, sizeof b2.name, "second");
    CHECK_EQ_INT(store_bucket_create(s, &b2), 0);
    CHECK_EQ_INT(store_bucket_get(s, SV("b"), &b1), 0);
    CHECK(b2.id > b1.id);
    store_close(s);
}

/* ---- concurrency and group commit ------------------------------------------------------- */
typedef struct {
    store_t *s;
    int t;
    int fails;
} worker_t;

#define NTHREADS 8
#define NPUTS 200

static void *put_worker(void *arg)
{
    worker_t *w = arg;
    uint8_t data[4096];
    for (int i = 0; i < NPUTS; i++) {
        char key[64];
        snprintf(key, sizeof key, "t%d/k%04d", w->t, i);
        fill(data, sizeof data, (uint32_t)(w->t * 100000 + i));
        size_t n = (i % 50 == 49) ? 0 : sizeof data; /* a few empty objects too */
        if (put_simple(w->s, "c", key, data, n) != 0)
            w->fails++;
    }
    return NULL;
}

TEST(test_concurrency)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "c");
    store_local_stats_t st0, st1;
    store_local_stats(s, &st0);
    pthread_t th[NTHREADS];
    worker_t w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker_t){s, i, 0};
        pthread_create(&th[i], NULL, put_worker, &w[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].fails, 0);
    }
    store_local_stats(s, &st1);
    uint64_t batches = st1.batches - st0.batches, items = st1.items - st0.items;
    CHECK_EQ_INT(items, NTHREADS * NPUTS);
    CHECK(batches < items); /* commits were grouped */
    printf("ok group commit: %llu puts in %llu index transactions (max batch %llu)\n",
           (unsigned long long)items, (unsigned long long)batches,
           (unsigned long long)st1.max_batch);
    /* all visible, with the right bytes */
    int bad = 0;
    uint8_t want[4096];
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < NPUTS; i++) {
            char key[64];
            snprintf(key, sizeof key, "t%d/k%04d", t, i);
            uint8_t *got = NULL;
            long long n = get_all(s, "c", sv_from_cstr(key), &got);
            fill(want, sizeof want, (uint32_t)(t * 100000 + i));
            long long wn = (i % 50 == 49) ? 0 : 4096;
            if (n != wn || (n > 0 && memcmp(got, want, 4096) != 0))
                bad++;
            free(got);
        }
    CHECK_EQ_INT(bad, 0);
    /* listing with delimiter sees one prefix per thread */
    arena_t *a = arena_new();
    store_list_opts_t o = {.delimiter = SV("/"), .max_keys = 1000};
    store_list_result_t r;
    CHECK_EQ_INT(store_list(s, SV("c"), &o, a, &r), 0);
    CHECK_EQ_INT(r.nprefixes, NTHREADS);
    CHECK_EQ_INT(r.nobjs, 0);
    arena_free(a);
    store_close(s);
}

/* ---- fault injection -------------------------------------------------------------------- */
/* Checks that key holds exactly one of the given versions (or is absent when allowed). */
static int which_version(store_t *s, const char *key, uint8_t **vers, size_t *lens, int nv)
{
    uint8_t *got = NULL;
    long long n = get_all(s, "f", sv_from_cstr(key), &got);
    if (n == -SE_NO_SUCH_KEY)
        return -1;
    int w = -2;
    for (int i = 0; i < nv && n >= 0; i++)
        if ((size_t)n == lens[i] && (n == 0 || memcmp(got, vers[i], (size_t)n) == 0))
            w = i;
    free(got);
    return w;
}

TEST(test_fault_injection)
{
    char dir[128];
    mkdir_fresh(dir, sizeof dir);
    store_t *s = open_at(dir, 0, 50);
    if (!s)
        return;
    mkbucket(s, "f");
    size_t lens[3] = {200000, 5000, 150000};
    uint8_t *vers[3];
    for (int i = 0; i < 3; i++) {
        vers[i] = malloc(lens[i]);
        fill(vers[i], lens[i], 100 + (uint32_t)i);
    }
    /* Fail the Nth I/O of a sequence (put big, overwrite small, overwrite big, delete), for
     * N = 1, 2, ... until a run completes without hitting the fault. After each run every
     * object holds one complete acknowledged version, and nothing failed became visible. */
    int n_max = 0;
    for (int nth = 1; nth < 100; nth++) {
        char key[32];
        snprintf(key, sizeof key, "obj%d", nth);
        ls_fault_arm(LS_FAULT_DATA_WRITE | LS_FAULT_DATA_SYNC | LS_FAULT_DIR_SYNC |
                         LS_FAULT_INDEX_COMMIT,
                     nth);
        int last_ok = -1; /* index of the last acknowledged version, -1: absent */
        int failures = 0;
        for (int step = 0; step < 4; step++) {
            int rc;
            if (step < 3)
                rc = put_simple(s, "f", key, vers[step], lens[step]);
            else
                rc = store_delete(s, SV("f"), sv_from_cstr(key), NULL);
            if (rc == 0)
                last_ok = step < 3 ? step : -1;
            else
                failures++;
            int w = which_version(s, key, vers, lens, 3);
            if (w != last_ok)
                fprintf(stderr, "  nth=%d step=%d rc=%d: found %d, want %d\n", nth, step, rc, w,
                        last_ok);
            CHECK_EQ_INT(w, last_ok);
        }
        ls_fault_arm(0, 0);
        if (failures == 0) {
            n_max = nth;
            break;
        }
        CHECK_EQ_INT(failures, 1);
    }
    CHECK(n_max > 5); /* the sequence really has that many fallible I/O calls */
    /* after GC, exactly the live objects have files: nothing leaked by failed puts (an
     * object whose final delete hit the fault is still live) */
    usleep(100 * 1000);
    store_local_gc_kick(s);
    int live_files = 0;
    for (int nth = 1; nth <= n_max; nth++) {
        char key[32], path[4096];
        snprintf(key, sizeof key, "obj%d", nth);
        if (store_local_data_path(s, SV("f"), sv_from_cstr(key), path, sizeof path) == 0)
            live_files++;
    }
    CHECK(live_files <= 1);
    CHECK_EQ_INT(count_data_files(dir), live_files);
    /* the store keeps working, and a reopen sees the same */
    CHECK_EQ_INT(put_simple(s, "f", "after", vers[0], lens[0]), 0);
    store_close(s);
    s = open_at(dir, 0, 50);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(which_version(s, "after", vers, lens, 3), 0);
        CHECK_EQ_INT(which_version(s, "obj1", vers, lens, 3), -1);
        store_local_stats_t st;
        store_local_stats(s, &st);
        CHECK_EQ_INT(st.orphans_removed, 0);
        store_close(s);
    }
    for (int i = 0; i < 3; i++)
        free(vers[i]);
}


/* ---- listing cost: common prefixes are skipped by seeks, not scans ---------------------- */
typedef struct {
    store_t *s;
    int t;
    int n;
    const char *bucket;
    int fails;
} kworker_t;

static void *key_worker(void *arg)
{
    kworker_t *w = arg;
    for (int i = w->t; i < w->n; i += 8) {
        char key[64];
        snprintf(key, sizeof key, "%s/%05d", i % 2 ? "p" : "q", i);
        if (put_simple(w->s, w->bucket, key, "v", 1) != 0)
            w->fails++;
    }
    return NULL;
}

TEST(test_list_cost)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "big");
    pthread_t th[8];
    kworker_t w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (kworker_t){s, i, 6000, "big", 0};
        pthread_create(&th[i], NULL, key_worker, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].fails, 0);
    }
    CHECK_EQ_INT(put_simple(s, "big", "a", "v", 1), 0);
    CHECK_EQ_INT(put_simple(s, "big", "z", "v", 1), 0);
    store_local_stats_t st0, st1;
    arena_t *a = arena_new();
    store_list_opts_t o = {.delimiter = SV("/"), .max_keys = 1000};
    store_list_result_t r;
    store_local_stats(s, &st0);
    CHECK_EQ_INT(store_list(s, SV("big"), &o, a, &r), 0);
    store_local_stats(s, &st1);
    CHECK_EQ_INT(r.nobjs, 2);
    CHECK_EQ_INT(r.nprefixes, 2);
    CHECK(!r.truncated);
    CHECK(st1.list_steps - st0.list_steps <= 8); /* not ~6000 */
    /* a page of 10 inside a prefix costs about 10 steps */
    o.prefix = SV("p/");
    o.max_keys = 10;
    o.start_after = SV("p/02001");
    store_local_stats(s, &st0);
    CHECK_EQ_INT(store_list(s, SV("big"), &o, a, &r), 0);
    store_local_stats(s, &st1);
    CHECK_EQ_INT(r.nobjs, 10);
    CHECK(r.truncated);
    CHECK_EQ_STR(r.objs[0].key, "p/02003");
    CHECK(sv_eq(r.next, SV("p/02021")));
    CHECK(st1.list_steps - st0.list_steps <= 14);
    arena_free(a);
    store_close(s);
}

/* ---- a full index map: the failing requests fail, the rest stay consistent ------------- */
typedef struct {
    store_t *s;
    int t;
    int acked[400];
    int nacked;
    int other_err;
} fworker_t;

static void *fill_worker(void *arg)
{
    fworker_t *w = arg;
    uint8_t data[16000];
    for (int i = 0; i < 400; i++) {
        char key[32];
        snprintf(key, sizeof key, "m%d-%d", w->t, i);
        fill(data, sizeof data, (uint32_t)(w->t * 1000 + i));
        int rc = put_simple(w->s, "m", key, data, sizeof data);
        if (rc == 0)
            w->acked[w->nacked++] = i;
        else if (rc != -ENOSPC)
            w->other_err++;
    }
    return NULL;
}

/* A commit's meta page is synced by the next commit's flush (MDB_NOMETASYNC); a write with no
 * write after it is answered only once the committer has synced the index itself. */
TEST(test_commit_released_after_flush)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 100);
    if (!s)
        return;
    mkbucket(s, "r");
    store_local_stats_t st0, st1;
    for (int i = 0; i < 3; i++) {
        store_local_stats(s, &st0);
        CHECK_EQ_INT(put_simple(s, "r", "k", "abc", 3), 0);
        store_local_stats(s, &st1);
        CHECK_EQ_INT(st1.batches - st0.batches, 1);
        CHECK_EQ_INT(st1.syncs - st0.syncs, 1); /* flushed before put_simple returned */
    }
    /* a batch that writes nothing, with nothing unsynced before it, needs no flush */
    store_local_stats(s, &st0);
    CHECK_EQ_INT(store_delete(s, sv_from_cstr("r"), sv_from_cstr("missing"), NULL),
                 -SE_NO_SUCH_KEY);
    store_local_stats(s, &st1);
    CHECK_EQ_INT(st1.batches - st0.batches, 1);
    CHECK_EQ_INT(st1.syncs - st0.syncs, 0);
    store_close(s);
    s = open_at(dir, 0, 100);
    uint8_t *got = NULL;
    CHECK_EQ_INT(get_all(s, "r", sv_from_cstr("k"), &got), 3);
    free(got);
    store_close(s);
}

TEST(test_map_full)
{
    char dir[128];
    mkdir_fresh(dir, sizeof dir);
    store_opts_t so = {.dir = dir, .map_size = 4 << 20, .gc_grace_ms = 100};
    store_t *s = NULL;
    CHECK_EQ_INT(store_open(&so, &s), 0);
    if (!s)
        return;
    mkbucket(s, "m");
    pthread_t th[4];
    fworker_t *w = calloc(4, sizeof *w);
    for (int i = 0; i < 4; i++) {
        w[i].s = s;
        w[i].t = i;
        pthread_create(&th[i], NULL, fill_worker, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].other_err, 0);
        total += w[i].nacked;
    }
    CHECK(total > 20 && total < 1600); /* some fit, then the map was full */
    uint8_t want[16000];
    int bad = 0;
    for (int t = 0; t < 4; t++) {
        int j = 0;
        for (int i = 0; i < 400; i++) {
            char key[32];
            snprintf(key, sizeof key, "m%d-%d", t, i);
            uint8_t *got = NULL;
            long long n = get_all(s, "m", sv_from_cstr(key), &got);
            bool acked = j < w[t].nacked && w[t].acked[j] == i;
            if (acked) {
                j++;
                fill(want, sizeof want, (uint32_t)(t * 1000 + i));
                if (n != (long long)sizeof want || memcmp(got, want, sizeof want) != 0)
                    bad++;
            } else if (n != -SE_NO_SUCH_KEY) {
                bad++;
            }
            free(got);
        }
    }
    CHECK_EQ_INT(bad, 0);
    store_close(s);
    CHECK_EQ_INT(store_open(&so, &s), 0);
    if (s)
        store_close(s);
    free(w);
}

/* ---- kill -9 mid-write: everything acknowledged survives, nothing is left over --------- */
#define CRASH_KEYS 12

static size_t crash_size(int k, int v)
{
    static const size_t sz[] = {0, 100, 4096, 20000, 70000, 200000};
    return sz[(k + v) % 6];
}

static void crash_child(const char *dir, int fd)
{
    store_opts_t o = {.dir = dir, .gc_grace_ms = 20};
    store_t *s;
    if (store_open(&o, &s) != 0)
        _exit(2);
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, "cr");
    store_bucket_create(s, &b); /* exists after the first cycle */
    uint8_t *data = malloc(200000);
    for (int v = 1;; v++) {
        for (int k = 0; k < CRASH_KEYS; k++) {
            char key[32], line[32];
            snprintf(key, sizeof key, "k%02d", k);
            int ver = v * 100 + k;
            snprintf(line, sizeof line, "T %02d %08d\n", k, ver);
            if (write(fd, line, strlen(line)) < 0)
                _exit(3);
            size_t n = crash_size(k, ver);
            fill(data, n, (uint32_t)ver);
            int rc = (ver % 7 == 0) ? store_delete(s, SV("cr"), sv_from_cstr(key), NULL)
                                    : put_simple(s, "cr", key, data, n);
            snprintf(line, sizeof line, "%c %02d %08d\n", rc == 0 ? 'A' : 'F', k, ver);
            if (write(fd, line, strlen(line)) < 0)
                _exit(3);
        }
    }
}

TEST(test_crash_recovery)
{
    char dir[128];
    mkdir_fresh(dir, sizeof dir);
    srand(777);
    int acked[CRASH_KEYS], tried[CRASH_KEYS];
    for (int k = 0; k < CRASH_KEYS; k++)
        acked[k] = tried[k] = -1; /* -1: never written / absent */
    for (int cycle = 0; cycle < 3; cycle++) {
        int pfd[2];
        CHECK_EQ_INT(pipe(pfd), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(pfd[0]);
            crash_child(dir, pfd[1]);
            _exit(0);
        }
        close(pfd[1]);
        /* replay the child's log as it comes: last acknowledged and last attempted version per
         * key. The kill comes a random while after the child has logged some work (not after
         * a fixed time: on a loaded machine the child may not have started by then). */
        FILE *f = fdopen(pfd[0], "r");
        char line[64];
        int nlines = 0;
        bool killed = false;
        int status;
        for (;;) {
            if (!killed && nlines >= 12) {
                usleep((useconds_t)(rand() % 200000));
                kill(pid, SIGKILL);
                killed = true;
            }
            if (!fgets(line, sizeof line, f))
                break;
            char c;
            int k, ver;
            if (sscanf(line, "%c %d %d", &c, &k, &ver) != 3 || k < 0 || k >= CRASH_KEYS)
                continue;
            nlines++;
            if (c == 'T')
                tried[k] = ver;
            else if (c == 'A')
                acked[k] = ver;
        }
        fclose(f);
        if (!killed)
            kill(pid, SIGKILL); /* the child ended early; the check below fails */
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status));
        CHECK(nlines > 10);
        store_t *s = open_at(dir, 0, 20);
        CHECK(s != NULL);
        if (!s)
            return;
        /* each key holds its last acknowledged version, or the one in flight at the kill */
        int bad = 0;
        for (int k = 0; k < CRASH_KEYS; k++) {
            char key[32];
            snprintf(key, sizeof key, "k%02d", k);
            uint8_t *got = NULL;
            long long n = get_all(s, "cr", sv_from_cstr(key), &got);
            bool ok = false;
            int cands[2] = {acked[k], tried[k]}, matched = -1;
            for (int c = 0; c < 2 && !ok; c++) {
                int ver = cands[c];
                if (ver < 0 || ver % 7 == 0) { /* never written, or deleted */
                    ok = n == -SE_NO_SUCH_KEY;
                    continue;
                }
                size_t want_n = crash_size(k, ver);
                uint8_t *want = malloc(want_n + 1);
                fill(want, want_n, (uint32_t)ver);
                ok = n == (long long)want_n && (want_n == 0 || memcmp(got, want, want_n) == 0);
                free(want);
                if (ok)
                    matched = ver;
            }
            if (!ok) {
                fprintf(stderr, "  crash cycle %d key %d: n=%lld acked=%d tried=%d\n", cycle, k,
                        n, acked[k], tried[k]);
                bad++;
            }
            acked[k] = tried[k] = matched; /* what is there now is the next cycle's truth */
            free(got);
        }
        CHECK_EQ_INT(bad, 0);
        /* after GC, data files == file-backed live objects: no orphans survive recovery */
        usleep(50 * 1000);
        store_local_gc_kick(s);
        int live_files = 0;
        for (int k = 0; k < CRASH_KEYS; k++) {
            char key[32], path[4096];
            snprintf(key, sizeof key, "k%02d", k);
            if (store_local_data_path(s, SV("cr"), sv_from_cstr(key), path, sizeof path) == 0)
                live_files++;
        }
        CHECK_EQ_INT(count_data_files(dir), live_files);
        store_close(s);
    }
}

int main(void)
{
    log_set_level(LOG_ERROR); /* expected corruption reports still show */
    snprintf(root, sizeof root, "/tmp/strata-test-store-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_buckets_and_meta);
    RUN(test_sizes_and_ranges);
    RUN(test_records_and_conditions);
    RUN(test_list_model);
    RUN(test_gc_and_readers);
    RUN(test_corruption);
    RUN(test_reopen_and_recovery);
    RUN(test_concurrency);
    RUN(test_fault_injection);
    RUN(test_list_cost);
    RUN(test_commit_released_after_flush);
    RUN(test_map_full);
    RUN(test_crash_recovery);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_summary("store");
}
