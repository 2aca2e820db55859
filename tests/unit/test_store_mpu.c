/* Tests for multipart uploads in the local store (src/store/local/mpu.c): uploads, parts,
 * complete as a manifest (no copy), reads and ranges across parts, GC of replaced, aborted,
 * left-out and overwritten parts, pins for readers, listing uploads against a model, recovery
 * of part files at startup, and fault injection (nothing half-completed is ever visible). */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "store/local/local_int.h"
#include "store/store.h"
#include "t.h"

#define MINPART 1000 /* the store's minimum part size in these tests (5 MiB in production) */

static char root[64];
static int dir_seq;

static store_t *open_at(const char *dir, int grace)
{
    store_opts_t o = {.dir = dir, .map_size = (size_t)1 << 30, .gc_grace_ms = grace,
                      .mpu_min_part = MINPART};
    store_t *s = NULL;
    int rc = store_open(&o, &s);
    if (rc != 0)
        fprintf(stderr, "store_open(%s): %s\n", dir, strata_strerror(rc));
    return s;
}

static store_t *fresh(char *dir, size_t dn, int grace)
{
    snprintf(dir, dn, "%s/s%d", root, dir_seq++);
    return open_at(dir, grace);
}

static void mkbucket(store_t *s, const char *name)
{
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, "%s", name);
    snprintf(b.owner, sizeof b.owner, "acct1");
    CHECK_EQ_INT(store_bucket_create(s, &b), 0);
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

static int nfiles;
static int count_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)p;
    (void)st;
    (void)f;
    if (type == FTW_F)
        nfiles++;
    return 0;
}

static int count_data_files(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/data", dir);
    nfiles = 0;
    nftw(p, count_cb, 16, FTW_PHYS);
    return nfiles;
}

static int rm_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    return remove(p);
}

static int create_upload(store_t *s, const char *bucket, const char *key, char *id)
{
    store_obj_t m = {0};
    snprintf(m.storage_class, sizeof m.storage_class, "STANDARD");
    snprintf(m.owner, sizeof m.owner, "acct1");
    kv_t attrs[2] = {{SV("content-type"), SV("text/plain")}, {SV("x-amz-meta-a"), SV("b")}};
    m.attrs = attrs;
    m.nattrs = 2;
    return store_mpu_create(s, sv_from_cstr(bucket), sv_from_cstr(key), &m, id);
}

/* Uploads a part in pieces of `chunk`; fills etag (hex MD5) when non-NULL. */
static int put_part(store_t *s, const char *bucket, const char *key, const char *id, uint32_t pn,
                    const uint8_t *data, size_t n, size_t chunk, char *etag)
{
    store_put_t *p;
    int rc = store_part_put_begin(s, sv_from_cstr(bucket), sv_from_cstr(key), sv_from_cstr(id),
                                  pn, &p);
    if (rc < 0)
        return rc;
    if (!chunk)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk) {
        size_t m = n - off < chunk ? n - off : chunk;
        if ((rc = store_put_write(p, data + off, m)) < 0) {
            store_put_abort(p);
            return rc;
        }
    }
    store_part_t pm = {.part_number = pn};
    uint8_t d[16];
    md5(data, n, d);
    hex_encode(d, 16, pm.etag);
    if (etag)
        memcpy(etag, pm.etag, 33);
    rc = store_part_commit(p, &pm);
    if (rc == 0)
        CHECK_EQ_INT(pm.size, n);
    return rc;
}

static long long read_all(store_t *s, const char *bucket, const char *key, uint8_t **out,
                          store_obj_t *oo, arena_t *a)
{
    store_read_t *rd;
    int rc = store_get(s, sv_from_cstr(bucket), sv_from_cstr(key), NULL, a, oo, &rd);
    if (rc < 0)
        return rc;
    uint8_t *b = malloc(oo->size + 1);
    uint64_t off = 0;
    long long ret = (long long)oo->size;
    while (off < oo->size) {
        ssize_t r = store_read(rd, off, b + off, 77777);
        if (r <= 0) {
            ret = r < 0 ? r : -EIO;
            break;
        }
        off += (uint64_t)r;
    }
    store_read_close(rd);
    if (ret < 0)
        free(b);
    else
        *out = b;
    return ret;
}

static void etag_of(const char (*etags)[40], size_t n, char *out)
{
    uint8_t *cat = malloc(16 * n), d[16];
    for (size_t i = 0; i < n; i++)
        hex_decode(sv_from_cstr(etags[i]), cat + 16 * i, 16);
    md5(cat, 16 * n, d);
    hex_encode(d, 16, out);
    sprintf(out + 32, "-%zu", n);
    free(cat);
}

/* ------------------------------------------------------------------------------------------ */

TEST(test_basic_complete)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    CHECK_EQ_INT(create_upload(s, "b", "big/obj", id), 0);
    CHECK_EQ_INT(strlen(id), STORE_UPLOAD_ID_LEN);
    arena_t *a = arena_new();
    store_obj_t u;
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("big/obj"), sv_from_cstr(id), a, &u), 0);
    CHECK_EQ_INT(u.nattrs, 2);
    CHECK_EQ_STR(u.owner, "acct1");
    CHECK(u.mtime_ms > 0);
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("other"), sv_from_cstr(id), a, &u),
                 -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("big/obj"), SV("zz"), a, &u), -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_mpu_get(s, SV("nob"), SV("big/obj"), sv_from_cstr(id), a, &u),
                 -SE_NO_SUCH_BUCKET);

    /* sizes straddle segment boundaries; the last part is short */
    size_t sizes[3] = {65536 * 2 + 17, 65536 - 5, 1234};
    size_t total = sizes[0] + sizes[1] + sizes[2];
    uint8_t *data = malloc(total);
    fill(data, total, 7);
    char etags[3][40];
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(put_part(s, "b", "big/obj", id, (uint32_t)(i + 1), data + off, sizes[i],
                              1000 + 3000 * (size_t)i, etags[i]),
                     0);
        off += sizes[i];
    }
    CHECK_EQ_INT(count_data_files(dir), 3);
    store_part_list_result_t pl;
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("big/obj"), sv_from_cstr(id), 0, 1000, a, &pl), 0);
    CHECK_EQ_INT(pl.nparts, 3);
    CHECK(!pl.truncated);
    CHECK_EQ_INT(pl.parts[1].part_number, 2);
    CHECK_EQ_INT(pl.parts[1].size, sizes[1]);
    CHECK_EQ_STR(pl.parts[2].etag, etags[2]);
    /* not visible as an object before complete */
    CHECK_EQ_INT(store_get(s, SV("b"), SV("big/obj"), NULL, NULL, NULL, NULL), -SE_NO_SUCH_KEY);

    store_mpu_part_ref_t refs[3];
    for (int i = 0; i < 3; i++)
        refs[i] = (store_mpu_part_ref_t){(uint32_t)(i + 1), etags[i]};
    store_obj_t cm = {0}, res;
    snprintf(cm.checksum_algo, sizeof cm.checksum_algo, "SHA256");
    snprintf(cm.checksum, sizeof cm.checksum, "abc=-3");
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("big/obj"), sv_from_cstr(id), refs, 3, &cm,
                                    NULL, a, &res),
                 0);
    char want[72];
    etag_of((const char(*)[40])etags, 3, want);
    CHECK_EQ_STR(res.etag, want);
    CHECK_EQ_INT(res.size, total);
    /* no data copied: still exactly the three part files */
    CHECK_EQ_INT(count_data_files(dir), 3);
    /* the upload is gone */
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("big/obj"), sv_from_cstr(id), a, &u),
                 -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("big/obj"), sv_from_cstr(id), 0, 1000, a, &pl),
                 -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("big/obj"), sv_from_cstr(id), refs, 3, NULL,
                                    NULL, a, &res),
                 -SE_NO_SUCH_UPLOAD);

    store_obj_t o;
    uint8_t *got = NULL;
    CHECK_EQ_INT(read_all(s, "b", "big/obj", &got, &o, a), (long long)total);
    CHECK(got && memcmp(got, data, total) == 0);
    free(got);
    CHECK_EQ_STR(o.etag, want);
    CHECK_EQ_INT(o.nattrs, 2);
    CHECK_EQ_STR(o.checksum_algo, "SHA256");
    CHECK_EQ_STR(o.checksum, "abc=-3");
    CHECK_EQ_INT(o.nparts, 3);
    CHECK(o.part_sizes && o.part_sizes[0] == sizes[0] && o.part_sizes[2] == sizes[2]);

    /* random ranges and single bytes across boundaries */
    store_read_t *rd;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("big/obj"), NULL, a, &o, &rd), 0);
    srand(3);
    uint8_t *buf = malloc(total);
    for (int i = 0; i < 300; i++) {
        uint64_t st = (uint64_t)rand() % total;
        size_t n = (size_t)rand() % (total - st) + 1;
        if (i % 3 == 0)
            n = n % 70 + 1;
        ssize_t r = store_read(rd, st, buf, n);
        CHECK_EQ_INT(r, (long long)n);
        if (r > 0 && memcmp(buf, data + st, (size_t)r) != 0) {
            CHECK(!"range mismatch");
            break;
        }
    }
    CHECK_EQ_INT(store_read(rd, total, buf, 10), 0);
    CHECK_EQ_INT(store_read(rd, total - 1, buf, 10), 1);
    store_read_close(rd);
    free(buf);

    /* listing shows the object with its multipart etag and size */
    store_list_opts_t lo = {.max_keys = 10};
    store_list_result_t lr;
    CHECK_EQ_INT(store_list(s, SV("b"), &lo, a, &lr), 0);
    CHECK_EQ_INT(lr.nobjs, 1);
    if (lr.nobjs) {
        CHECK_EQ_INT(lr.objs[0].size, total);
        CHECK_EQ_INT(lr.objs[0].nparts, 3); /* counted, but the part table is not built */
        CHECK(lr.objs[0].part_sizes == NULL);
    }

    arena_free(a);
    free(data);
    store_close(s);
}

TEST(test_complete_errors_leave_upload_intact)
{
    char dir[128], id[40], id2[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    uint8_t d[3000];
    fill(d, sizeof d, 1);
    char e1[40], e2[40], e3[40];
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, d, 1500, 0, e1), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 2, d + 1500, 999, 0, e2), 0); /* < MINPART */
    CHECK_EQ_INT(put_part(s, "b", "k", id, 3, d + 2499, 501, 0, e3), 0);
    arena_t *a = arena_new();
    store_obj_t res;
    /* part number limits */
    store_put_t *p;
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k"), sv_from_cstr(id), 0, &p),
                 -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k"), sv_from_cstr(id), 10001, &p),
                 -SE_INVALID_ARGUMENT);
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k"), SV("0123456789abcdef0123456789abcdef"),
                                      1, &p),
                 -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k2"), sv_from_cstr(id), 1, &p),
                 -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 10000, d, 10, 0, NULL), 0);

    struct {
        store_mpu_part_ref_t refs[3];
        size_t n;
        int want;
    } cases[] = {
        {{{1, e1}, {3, e3}, {2, e2}}, 3, -SE_INVALID_PART_ORDER},
        {{{1, e1}, {1, e1}}, 2, -SE_INVALID_PART_ORDER},
        {{{1, e1}, {4, e3}}, 2, -SE_INVALID_PART},
        {{{1, e2}, {3, e3}}, 2, -SE_INVALID_PART},         /* etag of another part */
        {{{1, "0123"}, {3, e3}}, 2, -SE_INVALID_PART},
        {{{1, e1}, {2, e2}, {3, e3}}, 3, -SE_ENTITY_TOO_SMALL}, /* part 2 < minimum */
        {{{0, e1}}, 1, -SE_INVALID_PART},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), cases[i].refs,
                                        cases[i].n, NULL, NULL, a, &res),
                     cases[i].want);
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), NULL, 0, NULL, NULL, a,
                                    &res),
                 -SE_INVALID_PART);
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), SV("nothex"), cases[0].refs, 1, NULL,
                                    NULL, a, &res),
                 -SE_NO_SUCH_UPLOAD);
    /* nothing visible, upload and all parts intact */
    CHECK_EQ_INT(store_get(s, SV("b"), SV("k"), NULL, NULL, NULL, NULL), -SE_NO_SUCH_KEY);
    store_part_list_result_t pl;
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), 0, 1000, a, &pl), 0);
    CHECK_EQ_INT(pl.nparts, 4);
    CHECK_EQ_INT(count_data_files(dir), 4);

    /* a precondition that fails leaves everything too */
    CHECK_EQ_INT(create_upload(s, "b", "k", id2), 0);
    store_cond_t cond = {.if_match_etag = "nope"}; /* "k" does not exist yet: NoSuchKey */
    store_mpu_part_ref_t ok[2] = {{1, e1}, {3, e3}};
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), ok, 2, NULL, &cond, a,
                                    &res),
                 -SE_NO_SUCH_KEY);
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), 0, 1000, a, &pl), 0);
    CHECK_EQ_INT(pl.nparts, 4);

    /* etags compare case-insensitively; parts 2 and 10000 are left out and collected */
    char up1[40];
    snprintf(up1, sizeof up1, "%s", e1);
    for (char *c = up1; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    ok[0].etag = up1;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), ok, 2, NULL, NULL, a,
                                    &res),
                 0);
    CHECK_EQ_INT(res.size, 2001);
    store_local_gc_kick(s);
    usleep(60000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 2);
    uint8_t *got = NULL;
    store_obj_t o;
    CHECK_EQ_INT(read_all(s, "b", "k", &got, &o, a), 2001);
    CHECK(got && memcmp(got, d, 1500) == 0 && memcmp(got + 1500, d + 2499, 501) == 0);
    free(got);
    /* the other upload of the same key is untouched */
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("k"), sv_from_cstr(id2), a, &o), 0);
    arena_free(a);
    store_close(s);
}

TEST(test_replace_abort_overwrite_gc)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 20);
    mkbucket(s, "b");
    uint8_t d[4000];
    fill(d, sizeof d, 2);
    arena_t *a = arena_new();
    store_obj_t res;

    /* replacing a part queues the old file */
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    char e1[40], e2[40];
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, d, 1000, 0, e1), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 2, d + 1000, 1000, 0, e2), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, d + 2000, 1200, 0, e1), 0);
    CHECK_EQ_INT(count_data_files(dir), 3);
    usleep(30000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 2);
    store_mpu_part_ref_t refs[2] = {{1, e1}, {2, e2}};
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 2, NULL, NULL,
                                    a, &res),
                 0);
    uint8_t *got = NULL;
    store_obj_t o;
    CHECK_EQ_INT(read_all(s, "b", "k", &got, &o, a), 2200);
    CHECK(got && memcmp(got, d + 2000, 1200) == 0 && memcmp(got + 1200, d + 1000, 1000) == 0);
    free(got);

    /* overwriting the completed object with a plain put collects every part */
    store_put_t *p;
    CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("k"), 10, &p), 0);
    CHECK_EQ_INT(store_put_write(p, "0123456789", 10), 0);
    store_obj_t m = {0};
    CHECK_EQ_INT(store_put_commit(p, &m, NULL), 0);
    usleep(30000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 0);

    /* a completed object deleted: parts collected */
    CHECK_EQ_INT(create_upload(s, "b", "k2", id), 0);
    CHECK_EQ_INT(put_part(s, "b", "k2", id, 1, d, 100, 0, e1), 0);
    refs[0] = (store_mpu_part_ref_t){1, e1};
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k2"), sv_from_cstr(id), refs, 1, NULL, NULL,
                                    a, &res),
                 0);
    CHECK_EQ_INT(count_data_files(dir), 1);
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("k2"), NULL), 0);
    usleep(30000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 0);

    /* abort: parts collected, upload gone, a part finished after the abort is refused and
     * leaves no file */
    CHECK_EQ_INT(create_upload(s, "b", "k3", id), 0);
    CHECK_EQ_INT(put_part(s, "b", "k3", id, 1, d, 3000, 0, NULL), 0);
    CHECK_EQ_INT(put_part(s, "b", "k3", id, 7, d, 3000, 0, NULL), 0);
    store_put_t *late;
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k3"), sv_from_cstr(id), 2, &late), 0);
    CHECK_EQ_INT(store_put_write(late, d, 500), 0);
    CHECK_EQ_INT(store_mpu_abort(s, SV("b"), SV("k3"), sv_from_cstr(id)), 0);
    CHECK_EQ_INT(store_mpu_abort(s, SV("b"), SV("k3"), sv_from_cstr(id)), -SE_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(store_mpu_abort(s, SV("b"), SV("k3"), SV("x")), -SE_NO_SUCH_UPLOAD);
    store_part_t pm = {.part_number = 2};
    CHECK_EQ_INT(store_part_commit(late, &pm), -SE_NO_SUCH_UPLOAD);
    usleep(30000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 0); /* the plain object "k" is inline */
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("k3"), sv_from_cstr(id), a, &o), -SE_NO_SUCH_UPLOAD);

    /* deleting a bucket aborts its uploads and collects their parts */
    mkbucket(s, "c");
    CHECK_EQ_INT(create_upload(s, "c", "x", id), 0);
    CHECK_EQ_INT(put_part(s, "c", "x", id, 1, d, 3000, 0, NULL), 0);
    CHECK_EQ_INT(count_data_files(dir), 1);
    CHECK_EQ_INT(store_bucket_delete(s, SV("c")), 0);
    usleep(30000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 0);
    arena_free(a);
    store_close(s);
}

/* A reader of a completed object keeps reading after it is overwritten and the GC ran. */
TEST(test_reader_pins_parts)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 1);
    mkbucket(s, "b");
    size_t ps = 200000, n = 5 * ps;
    uint8_t *d = malloc(n);
    fill(d, n, 9);
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    store_mpu_part_ref_t refs[5];
    char etags[5][40];
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(put_part(s, "b", "k", id, (uint32_t)i + 1, d + ps * (size_t)i, ps, 0,
                              etags[i]),
                     0);
        refs[i] = (store_mpu_part_ref_t){(uint32_t)i + 1, etags[i]};
    }
    arena_t *a = arena_new();
    store_obj_t res, o;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 5, NULL, NULL, a,
                                    &res),
                 0);
    store_read_t *rd;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("k"), NULL, a, &o, &rd), 0);
    uint8_t buf[1000];
    CHECK_EQ_INT(store_read(rd, 10, buf, 100), 100); /* part 1 open */
    CHECK_EQ_INT(store_delete(s, SV("b"), SV("k"), NULL), 0);
    usleep(20000);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 5); /* pinned */
    uint8_t *got = malloc(n);
    uint64_t off = 0;
    while (off < n) {
        ssize_t r = store_read(rd, off, got + off, 65536);
        if (r <= 0)
            break;
        off += (uint64_t)r;
    }
    CHECK_EQ_INT(off, n);
    CHECK(memcmp(got, d, n) == 0);
    store_read_close(rd);
    store_local_gc_kick(s);
    CHECK_EQ_INT(count_data_files(dir), 0);
    free(got);
    free(d);
    arena_free(a);
    store_close(s);
}

TEST(test_corrupt_part_detected)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    uint8_t d[5000];
    fill(d, sizeof d, 4);
    char e1[40], e2[40];
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, d, 2500, 0, e1), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 2, d + 2500, 2500, 0, e2), 0);
    store_mpu_part_ref_t refs[2] = {{1, e1}, {2, e2}};
    arena_t *a = arena_new();
    store_obj_t res, o;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 2, NULL, NULL, a,
                                    &res),
                 0);
    /* flip a byte in the second part's file */
    store_read_t *rd;
    CHECK_EQ_INT(store_get(s, SV("b"), SV("k"), NULL, a, &o, &rd), 0);
    store_read_close(rd);
    store_part_list_result_t pl;
    (void)pl;
    /* find the files: the newer one is part 2; corrupt both and expect failures per part */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "for f in $(find %s/data -type f); do printf 'X' | dd of=$f bs=1 seek=100 conv=notrunc 2>/dev/null; done",
             dir);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("k"), NULL, a, &o, &rd), 0);
    uint8_t buf[100];
    CHECK_EQ_INT(store_read(rd, 0, buf, 10), -SE_CORRUPT);
    CHECK_EQ_INT(store_read(rd, 2600, buf, 10), -SE_CORRUPT);
    store_read_close(rd);
    arena_free(a);
    store_close(s);
}

/* ---- listing uploads against a model ---------------------------------------------------- */
struct mu {
    char key[32];
    char id[40];
};

static int mu_cmp(const void *x, const void *y)
{
    const struct mu *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->id, b->id);
}

/* The model: uploads sorted by (key, id); entries = uploads or common prefixes, after the
 * markers, first max. */
static void model_list(struct mu *u, size_t n, const char *prefix, const char *delim,
                       const char *km, const char *im, size_t max, buf_t *out)
{
    size_t count = 0;
    char last_cp[64] = "";
    bool truncated = false;
    for (size_t i = 0; i < n; i++) {
        const char *k = u[i].key;
        if (strncmp(k, prefix, strlen(prefix)) != 0)
            continue;
        char cp[64] = "";
        if (*delim) {
            const char *dd = strstr(k + strlen(prefix), delim);
            if (dd)
                snprintf(cp, sizeof cp, "%.*s", (int)(dd - k + (long)strlen(delim)), k);
        }
        if (*cp) {
            if (strcmp(cp, last_cp) == 0)
                continue;
            if (*km && strcmp(cp, km) <= 0)
                continue;
        } else if (*km) {
            int c = strcmp(k, km);
            if (c < 0 || (c == 0 && (!*im || strcmp(u[i].id, im) <= 0)))
                continue;
        }
        if (count == max) {
            truncated = max > 0;
            break;
        }
        count++;
        if (*cp) {
            snprintf(last_cp, sizeof last_cp, "%s", cp);
            buf_printf(out, "P:%s;", cp);
        } else {
            buf_printf(out, "U:%s/%s;", k, u[i].id);
        }
    }
    buf_printf(out, "T:%d", truncated);
}

TEST(test_list_uploads_model)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    mkbucket(s, "other");
    static const char *keys[] = {"a", "a/b", "a/b/c", "a/c", "ab", "b/x", "b/y/z", "c", "c/",
                                 "c//d", "d-e", "d-f/g"};
    struct mu u[40];
    size_t n = 0;
    srand(11);
    for (int i = 0; i < 30; i++) {
        const char *k = keys[rand() % (int)(sizeof keys / sizeof keys[0])];
        snprintf(u[n].key, sizeof u[n].key, "%s", k);
        CHECK_EQ_INT(create_upload(s, "b", k, u[n].id), 0);
        n++;
    }
    char junk[40];
    CHECK_EQ_INT(create_upload(s, "other", "a", junk), 0);
    qsort(u, n, sizeof u[0], mu_cmp);
    static const char *prefixes[] = {"", "a", "a/", "b/", "c", "d", "zz"};
    static const char *delims[] = {"", "/", "-", "//"};
    arena_t *a = arena_new();
    for (int iter = 0; iter < 400; iter++) {
        const char *prefix = prefixes[rand() % 7];
        const char *delim = delims[rand() % 4];
        size_t max = (size_t)(rand() % 6);
        /* a full paging run: markers from the previous page */
        char km[64] = "", im[40] = "";
        if (rand() % 3 == 0) {
            snprintf(km, sizeof km, "%s", u[rand() % (int)n].key);
            if (rand() % 2)
                snprintf(im, sizeof im, "%s", u[rand() % (int)n].id);
        }
        for (int page = 0; page < 40; page++) {
            store_mpu_list_opts_t lo = {.prefix = sv_from_cstr(prefix),
                                        .delimiter = sv_from_cstr(delim),
                                        .key_marker = sv_from_cstr(km),
                                        .upload_id_marker = sv_from_cstr(im),
                                        .max_uploads = max ? max : 1000};
            store_mpu_list_result_t r;
            CHECK_EQ_INT(store_mpu_list(s, SV("b"), &lo, a, &r), 0);
            buf_t got = BUF_INIT, want = BUF_INIT;
            size_t ui = 0, pi = 0;
            /* merge uploads and prefixes back into one ordered sequence */
            while (ui < r.nuploads || pi < r.nprefixes) {
                bool take_p = pi < r.nprefixes &&
                              (ui >= r.nuploads ||
                               sv_cmp(r.prefixes[pi], sv_from_cstr(r.uploads[ui].obj.key)) < 0);
                if (take_p) {
                    buf_printf(&got, "P:%.*s;", SV_ARG(r.prefixes[pi]));
                    pi++;
                } else {
                    buf_printf(&got, "U:%s/%s;", r.uploads[ui].obj.key, r.uploads[ui].upload_id);
                    ui++;
                }
            }
            buf_printf(&got, "T:%d", r.truncated);
            model_list(u, n, prefix, delim, km, im, max ? max : 1000, &want);
            if (strcmp(got.p, want.p) != 0) {
                fprintf(stderr, "prefix=%s delim=%s km=%s im=%s max=%zu\n got  %s\n want %s\n",
                        prefix, delim, km, im, max, got.p, want.p);
                CHECK(!"listing differs from the model");
                iter = 1000;
            }
            buf_release(&got);
            buf_release(&want);
            if (!r.truncated || iter >= 1000)
                break;
            snprintf(km, sizeof km, "%.*s", SV_ARG(r.next_key));
            snprintf(im, sizeof im, "%.*s", SV_ARG(r.next_upload_id));
        }
    }
    arena_free(a);
    store_close(s);
}

TEST(test_list_parts_pages)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    uint8_t d[32] = {0};
    for (uint32_t pn = 1; pn <= 25; pn++)
        CHECK_EQ_INT(put_part(s, "b", "k", id, pn * 3, d, pn, 0, NULL), 0);
    arena_t *a = arena_new();
    uint32_t marker = 0, seen = 0;
    for (int page = 0; page < 20; page++) {
        store_part_list_result_t r;
        CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), marker, 7, a, &r), 0);
        for (size_t i = 0; i < r.nparts; i++) {
            seen++;
            CHECK_EQ_INT(r.parts[i].part_number, seen * 3);
            CHECK_EQ_INT(r.parts[i].size, seen);
        }
        if (!r.truncated)
            break;
        CHECK_EQ_INT(r.next_marker, seen * 3);
        marker = r.next_marker;
    }
    CHECK_EQ_INT(seen, 25);
    store_part_list_result_t r;
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), 75, 7, a, &r), 0);
    CHECK_EQ_INT(r.nparts, 0);
    CHECK(!r.truncated);
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), 70, 1, a, &r), 0);
    CHECK_EQ_INT(r.nparts, 1);
    CHECK(r.truncated);
    CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(id), 72, 1, a, &r), 0);
    CHECK_EQ_INT(r.nparts, 1);
    CHECK(!r.truncated);
    arena_free(a);
    store_close(s);
}

/* Recovery at startup keeps committed part files (of uploads and completed objects) and
 * removes the file of a part that never committed. */
TEST(test_recovery_knows_parts)
{
    char dir[128], id[40], id2[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    uint8_t d[3000];
    fill(d, sizeof d, 5);
    char e1[40], e2[40];
    CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, d, 1500, 0, e1), 0);
    CHECK_EQ_INT(put_part(s, "b", "k", id, 2, d + 1500, 1500, 0, e2), 0);
    CHECK_EQ_INT(create_upload(s, "b", "done", id2), 0);
    char e3[40];
    CHECK_EQ_INT(put_part(s, "b", "done", id2, 1, d, 3000, 0, e3), 0);
    store_mpu_part_ref_t r3[1] = {{1, e3}};
    arena_t *a = arena_new();
    store_obj_t res, o;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("done"), sv_from_cstr(id2), r3, 1, NULL, NULL,
                                    a, &res),
                 0);
    /* a part that dies before its commit: written, synced, never committed */
    store_put_t *p;
    CHECK_EQ_INT(store_part_put_begin(s, SV("b"), SV("k"), sv_from_cstr(id), 3, &p), 0);
    CHECK_EQ_INT(store_put_write(p, d, 100000 > sizeof d ? sizeof d : 100000), 0);
    uint8_t fid[LS_ID_LEN];
    uint64_t sz;
    CHECK_EQ_INT(ls_put_seal(p, fid, &sz), 0);
    ls_put_free(p); /* "crash": the file stays, nothing refers to it */
    CHECK_EQ_INT(count_data_files(dir), 4);
    store_close(s);

    s = open_at(dir, 50);
    store_local_stats_t st;
    store_local_stats(s, &st);
    CHECK_EQ_INT(st.orphans_removed, 1);
    CHECK_EQ_INT(count_data_files(dir), 3);
    store_mpu_part_ref_t refs[2] = {{1, e1}, {2, e2}};
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 2, NULL, NULL, a,
                                    &res),
                 0);
    uint8_t *got = NULL;
    CHECK_EQ_INT(read_all(s, "b", "k", &got, &o, a), 3000);
    CHECK(got && memcmp(got, d, 3000) == 0);
    free(got);
    got = NULL;
    CHECK_EQ_INT(read_all(s, "b", "done", &got, &o, a), 3000);
    CHECK(got && memcmp(got, d, 3000) == 0);
    free(got);
    arena_free(a);
    store_close(s);
}

/* Fault injection (SQLite style): fail the Nth fallible call (data write, data sync, dir sync,
 * index commit) across create + 3 parts + complete, for N = 1, 2, ... until the sequence runs
 * clean. After each failure: the object is absent or complete and right, never partial; the
 * upload is intact when the complete failed; retrying without faults succeeds; after GC and a
 * reopen no file is left that nothing references. */
TEST(test_fault_injection_complete)
{
    size_t ps = 70000, n = 2 * ps + 333;
    uint8_t *d = malloc(n);
    fill(d, n, 6);
    int clean_at = 0;
    for (int nth = 1; nth < 200 && !clean_at; nth++) {
        char dir[128], id[40] = "";
        store_t *s = fresh(dir, sizeof dir, 1);
        mkbucket(s, "b");
        /* an old version that must survive any failed complete */
        store_put_t *p;
        CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("k"), 5, &p), 0);
        CHECK_EQ_INT(store_put_write(p, "old!!", 5), 0);
        store_obj_t om = {0};
        snprintf(om.etag, sizeof om.etag, "old");
        CHECK_EQ_INT(store_put_commit(p, &om, NULL), 0);
        arena_t *a = arena_new();
        ls_fault_arm(LS_FAULT_DATA_WRITE | LS_FAULT_DATA_SYNC | LS_FAULT_DIR_SYNC |
                         LS_FAULT_INDEX_COMMIT,
                     nth);
        int rc = create_upload(s, "b", "k", id);
        char etags[3][40];
        size_t sizes[3] = {ps, ps, 333};
        int failed_step = rc ? 0 : -1;
        for (int i = 0; i < 3 && rc == 0; i++) {
            rc = put_part(s, "b", "k", id, (uint32_t)i + 1, d + ps * (size_t)i, sizes[i], 30000,
                          etags[i]);
            if (rc)
                failed_step = i + 1;
        }
        store_mpu_part_ref_t refs[3] = {{1, etags[0]}, {2, etags[1]}, {3, etags[2]}};
        store_obj_t res;
        if (rc == 0) {
            rc = store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 3, NULL, NULL, a,
                                    &res);
            if (rc)
                failed_step = 4;
        }
        ls_fault_arm(0, 0);
        if (rc == 0) {
            clean_at = nth;
        } else {
            CHECK_EQ_INT(rc, -EIO);
        }
        /* what is visible is either the old object or the whole new one */
        store_obj_t o;
        uint8_t *got = NULL;
        long long r = read_all(s, "b", "k", &got, &o, a);
        if (rc == 0) {
            CHECK_EQ_INT(r, (long long)n);
            CHECK(got && memcmp(got, d, n) == 0);
        } else {
            CHECK_EQ_INT(r, 5);
            CHECK(got && memcmp(got, "old!!", 5) == 0);
        }
        free(got);
        /* finish the job without faults: the upload must still be usable */
        if (rc != 0) {
            store_obj_t u;
            if (failed_step == 0) /* the create itself failed */
                CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
            else
                CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("k"), sv_from_cstr(id), a, &u), 0);
            for (int i = failed_step > 0 ? failed_step - 1 : 0; i < 3; i++)
                CHECK_EQ_INT(put_part(s, "b", "k", id, (uint32_t)i + 1, d + ps * (size_t)i,
                                      sizes[i], 30000, etags[i]),
                             0);
            CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, 3, NULL,
                                            NULL, a, &res),
                         0);
            got = NULL;
            CHECK_EQ_INT(read_all(s, "b", "k", &got, &o, a), (long long)n);
            CHECK(got && memcmp(got, d, n) == 0);
            free(got);
        }
        usleep(5000);
        store_local_gc_kick(s);
        store_close(s);
        s = open_at(dir, 1);
        CHECK_EQ_INT(count_data_files(dir), 3); /* exactly the object's three parts */
        got = NULL;
        CHECK_EQ_INT(read_all(s, "b", "k", &got, &o, a), (long long)n);
        CHECK(got && memcmp(got, d, n) == 0);
        free(got);
        arena_free(a);
        store_close(s);
    }
    CHECK(clean_at > 5);
    free(d);
}

/* Readers racing a complete see the old object or the whole new one. */
struct race {
    store_t *s;
    _Atomic int stop;
    _Atomic int bad, seen_new, seen_old;
    const uint8_t *d;
    size_t n;
};

static void *race_reader(void *arg)
{
    struct race *r = arg;
    uint8_t *buf = malloc(r->n);
    while (!atomic_load(&r->stop)) {
        arena_t *a = arena_new();
        store_obj_t o;
        uint8_t *got = NULL;
        long long k = read_all(r->s, "b", "k", &got, &o, a);
        if (k == 3 && memcmp(got, "old", 3) == 0)
            atomic_fetch_add(&r->seen_old, 1);
        else if (k == (long long)r->n && memcmp(got, r->d, r->n) == 0)
            atomic_fetch_add(&r->seen_new, 1);
        else if (k != -SE_NO_SUCH_KEY)
            atomic_fetch_add(&r->bad, 1);
        free(got);
        arena_free(a);
    }
    free(buf);
    return NULL;
}

TEST(test_complete_atomic_for_readers)
{
    char dir[128];
    store_t *s = fresh(dir, sizeof dir, 1);
    mkbucket(s, "b");
    size_t ps = 2000, np = 40, n = ps * np;
    uint8_t *d = malloc(n);
    fill(d, n, 8);
    struct race r = {.s = s, .d = d, .n = n};
    pthread_t th;
    pthread_create(&th, NULL, race_reader, &r);
    arena_t *a = arena_new();
    for (int round = 0; round < 6; round++) {
        store_put_t *p;
        CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("k"), 3, &p), 0);
        CHECK_EQ_INT(store_put_write(p, "old", 3), 0);
        store_obj_t om = {0};
        CHECK_EQ_INT(store_put_commit(p, &om, NULL), 0);
        char id[40], (*etags)[40] = malloc(np * 40);
        store_mpu_part_ref_t *refs = malloc(np * sizeof *refs);
        CHECK_EQ_INT(create_upload(s, "b", "k", id), 0);
        for (size_t i = 0; i < np; i++) {
            CHECK_EQ_INT(put_part(s, "b", "k", id, (uint32_t)i + 1, d + ps * i, ps, 0, etags[i]),
                         0);
            refs[i] = (store_mpu_part_ref_t){(uint32_t)i + 1, etags[i]};
        }
        store_obj_t res;
        CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, np, NULL,
                                        NULL, a, &res),
                     0);
        usleep(20000);
        free(etags);
        free(refs);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ_INT(atomic_load(&r.bad), 0);
    CHECK(atomic_load(&r.seen_new) > 0);
    arena_free(a);
    free(d);
    store_close(s);
}

/* kill -9 while completes are in flight: a child process completes round after round of
 * uploads over one key (round r's bytes derive from r) and reports each acknowledged round on a
 * pipe; the parent kills it at a random moment, reopens the store, and finds the object of the
 * last acknowledged round or of the next one (committed, not yet reported), whole and right,
 * and no data file that nothing references. */
static void round_bytes(uint8_t *d, size_t n, int r)
{
    fill(d, n, 1000u + (uint32_t)r);
}

TEST(test_kill9_during_complete)
{
    size_t ps = 3000, np = 4, n = ps * np;
    uint8_t *d = malloc(n), *want = malloc(n);
    for (int trial = 0; trial < 4; trial++) {
        char dir[128];
        snprintf(dir, sizeof dir, "%s/s%d", root, dir_seq++);
        int pfd[2];
        CHECK_EQ_INT(pipe(pfd), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(pfd[0]);
            store_t *s = open_at(dir, 1);
            if (!s)
                _exit(2);
            mkbucket(s, "b");
            arena_t *a = arena_new();
            for (int r = 1;; r++) {
                char id[40], etags[4][40];
                store_mpu_part_ref_t refs[4];
                round_bytes(d, n, r);
                if (create_upload(s, "b", "k", id) != 0)
                    _exit(3);
                for (size_t i = 0; i < np; i++) {
                    if (put_part(s, "b", "k", id, (uint32_t)i + 1, d + ps * i, ps, 1000,
                                 etags[i]) != 0)
                        _exit(4);
                    refs[i] = (store_mpu_part_ref_t){(uint32_t)i + 1, etags[i]};
                }
                store_obj_t res;
                if (store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), refs, np, NULL,
                                       NULL, a, &res) != 0)
                    _exit(5);
                if (write(pfd[1], &r, sizeof r) != (ssize_t)sizeof r)
                    _exit(6);
            }
        }
        close(pfd[1]);
        int last = 0, r;
        /* trial 0 waits for a first acknowledged round; later ones may kill before it */
        if (trial == 0 && read(pfd[0], &r, sizeof r) == (ssize_t)sizeof r)
            last = r;
        usleep((useconds_t)(rand() % 300000));
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        while (read(pfd[0], &r, sizeof r) == (ssize_t)sizeof r)
            last = r;
        close(pfd[0]);
        CHECK(WIFSIGNALED(st));
        if (trial == 0)
            CHECK(last > 0); /* the child got somewhere before the kill */
        store_t *s = open_at(dir, 1);
        CHECK(s != NULL);
        if (!s)
            break;
        arena_t *a = arena_new();
        store_obj_t o;
        uint8_t *got = NULL;
        long long len = read_all(s, "b", "k", &got, &o, a);
        if (last == 0 && len == -SE_NO_SUCH_BUCKET) { /* killed before the bucket existed */
            free(got);
            arena_free(a);
            store_close(s);
            continue;
        }
        if (last == 0 && len == -SE_NO_SUCH_KEY) {
            /* killed before the first complete committed */
        } else {
            CHECK_EQ_INT(len, (long long)n);
            bool ok = false;
            for (int cand = last; cand <= last + 1 && len == (long long)n && got; cand++) {
                round_bytes(want, n, cand);
                ok |= memcmp(got, want, n) == 0;
            }
            CHECK(ok);
        }
        free(got);
        /* files: the object's parts plus the committed parts of at most one open upload */
        store_mpu_list_opts_t lo = {.max_uploads = 10};
        store_mpu_list_result_t lr;
        CHECK_EQ_INT(store_mpu_list(s, SV("b"), &lo, a, &lr), 0);
        size_t open_parts = 0;
        for (size_t i = 0; i < lr.nuploads; i++) {
            store_part_list_result_t pl;
            CHECK_EQ_INT(store_part_list(s, SV("b"), SV("k"), sv_from_cstr(lr.uploads[i].upload_id),
                                         0, 1000, a, &pl),
                         0);
            open_parts += pl.nparts;
        }
        CHECK(lr.nuploads <= 1);
        /* replaced objects' parts may still wait in the GC queue (grace 1 ms, not run yet) */
        usleep(5000);
        store_local_gc_kick(s);
        int files = count_data_files(dir);
        CHECK_EQ_INT(files, (int)((len == (long long)n ? np : 0) + open_parts));
        arena_free(a);
        store_close(s);
    }
    free(d);
    free(want);
}

/* Complete keeps each part's number and, when the object has a checksum every part's value
 * shares, each part's value; store_get_parts pages them (GetObjectAttributes ObjectParts).
 * The upload record keeps the checksum type. Records without the part info (written before it
 * was kept) page by position. */
static int put_part_ck(store_t *s, const char *key, const char *id, uint32_t pn, size_t n,
                       const char *algo, const char *ck)
{
    store_put_t *p;
    int rc = store_part_put_begin(s, SV("b"), sv_from_cstr(key), sv_from_cstr(id), pn, &p);
    if (rc < 0)
        return rc;
    uint8_t *d = malloc(n);
    fill(d, n, pn);
    if ((rc = store_put_write(p, d, n)) < 0) {
        store_put_abort(p);
        free(d);
        return rc;
    }
    store_part_t pm = {.part_number = pn};
    uint8_t md[16];
    md5(d, n, md);
    hex_encode(md, 16, pm.etag);
    snprintf(pm.checksum_algo, sizeof pm.checksum_algo, "%s", algo);
    snprintf(pm.checksum, sizeof pm.checksum, "%s", ck);
    free(d);
    return store_part_commit(p, &pm);
}

static void complete_all(store_t *s, const char *key, const char *id, const store_obj_t *meta,
                         arena_t *a)
{
    store_part_list_result_t pl;
    CHECK_EQ_INT(store_part_list(s, SV("b"), sv_from_cstr(key), sv_from_cstr(id), 0, 1000, a,
                                 &pl),
                 0);
    store_mpu_part_ref_t *refs = arena_calloc(a, pl.nparts, sizeof *refs);
    for (size_t i = 0; i < pl.nparts; i++)
        refs[i] = (store_mpu_part_ref_t){pl.parts[i].part_number, pl.parts[i].etag};
    store_obj_t res;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), sv_from_cstr(key), sv_from_cstr(id), refs,
                                    pl.nparts, meta, NULL, a, &res),
                 0);
}

TEST(test_object_parts)
{
    char dir[128], id[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    arena_t *a = arena_new();
    /* the upload record keeps algorithm and type; listings return them */
    store_obj_t m = {0};
    snprintf(m.checksum_algo, sizeof m.checksum_algo, "CRC32");
    snprintf(m.checksum_type, sizeof m.checksum_type, "FULL_OBJECT");
    CHECK_EQ_INT(store_mpu_create(s, SV("b"), SV("ck"), &m, id), 0);
    store_obj_t u;
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("ck"), sv_from_cstr(id), a, &u), 0);
    CHECK_EQ_STR(u.checksum_algo, "CRC32");
    CHECK_EQ_STR(u.checksum_type, "FULL_OBJECT");
    store_mpu_list_opts_t lo = {.max_uploads = 10};
    store_mpu_list_result_t lr;
    CHECK_EQ_INT(store_mpu_list(s, SV("b"), &lo, a, &lr), 0);
    CHECK_EQ_INT(lr.nuploads, 1);
    CHECK_EQ_STR(lr.uploads[0].obj.checksum_type, "FULL_OBJECT");
    /* parts 2, 5, 7 (numbers with gaps), each with its CRC32 value */
    CHECK_EQ_INT(put_part_ck(s, "ck", id, 2, MINPART, "CRC32", "AAAAAg=="), 0);
    CHECK_EQ_INT(put_part_ck(s, "ck", id, 5, MINPART + 1, "CRC32", "AAAABQ=="), 0);
    CHECK_EQ_INT(put_part_ck(s, "ck", id, 7, 10, "CRC32", "AAAABw=="), 0);
    store_obj_t cm = {0};
    snprintf(cm.checksum_algo, sizeof cm.checksum_algo, "CRC32");
    snprintf(cm.checksum, sizeof cm.checksum, "q83vEg==");
    snprintf(cm.checksum_type, sizeof cm.checksum_type, "FULL_OBJECT");
    complete_all(s, "ck", id, &cm, a);

    store_obj_t o;
    store_obj_parts_t op;
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 0, 2, 0, a, &o, &op), 0);
    CHECK_EQ_STR(o.checksum, "q83vEg==");
    CHECK_EQ_STR(o.checksum_type, "FULL_OBJECT");
    CHECK_EQ_INT(o.nparts, 3);
    CHECK_EQ_INT(op.nparts, 2);
    CHECK(op.truncated);
    CHECK_EQ_INT(op.next_marker, 5);
    CHECK_EQ_INT(op.parts[0].part_number, 2);
    CHECK_EQ_INT(op.parts[0].size, MINPART);
    CHECK_EQ_STR(op.parts[0].checksum, "AAAAAg==");
    CHECK_EQ_INT(op.parts[1].part_number, 5);
    CHECK_EQ_INT(op.parts[1].size, MINPART + 1);
    CHECK_EQ_STR(op.parts[1].checksum, "AAAABQ==");
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 5, 1000, 0, a, &o, &op), 0);
    CHECK_EQ_INT(op.nparts, 1);
    CHECK(!op.truncated);
    CHECK_EQ_INT(op.parts[0].part_number, 7);
    CHECK_EQ_INT(op.parts[0].size, 10);
    CHECK_EQ_STR(op.parts[0].checksum, "AAAABw==");
    CHECK_EQ_INT(op.next_marker, 7);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 3, 1, 0, a, &o, &op), 0);
    CHECK_EQ_INT(op.nparts, 1);
    CHECK_EQ_INT(op.parts[0].part_number, 5);
    CHECK(op.truncated);
    /* by position: the second part is number 5 */
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 1, 1, STORE_PARTS_BY_POSITION, a, &o,
                                 &op),
                 0);
    CHECK_EQ_INT(op.nparts, 1);
    CHECK_EQ_INT(op.parts[0].part_number, 5);
    CHECK_EQ_STR(op.parts[0].checksum, "AAAABQ==");
    CHECK(op.truncated);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 3, 1, STORE_PARTS_BY_POSITION, a, &o,
                                 &op),
                 0);
    CHECK_EQ_INT(op.nparts, 0);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("ck"), NULL, 7, 1000, 0, a, &o, &op), 0);
    CHECK_EQ_INT(op.nparts, 0);
    CHECK(!op.truncated);
    CHECK_EQ_INT(op.next_marker, 7);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("nope"), NULL, 0, 1000, 0, a, &o, &op),
                 -SE_NO_SUCH_KEY);

    /* an upload without an algorithm: numbers kept, no values (even when parts had some) */
    store_obj_t plain = {0};
    CHECK_EQ_INT(store_mpu_create(s, SV("b"), SV("plain"), &plain, id), 0);
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("plain"), sv_from_cstr(id), a, &u), 0);
    CHECK_EQ_STR(u.checksum_type, "");
    CHECK_EQ_INT(put_part_ck(s, "plain", id, 1, MINPART, "CRC32", "AAAAAQ=="), 0);
    CHECK_EQ_INT(put_part_ck(s, "plain", id, 3, 5, "", ""), 0);
    complete_all(s, "plain", id, NULL, a);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("plain"), NULL, 0, 1000, 0, a, &o, &op), 0);
    CHECK_EQ_INT(op.nparts, 2);
    CHECK_EQ_INT(op.parts[1].part_number, 3);
    CHECK_EQ_INT(op.parts[1].size, 5);
    CHECK(op.parts[0].checksum == NULL && op.parts[1].checksum == NULL);
    CHECK_EQ_STR(o.checksum_algo, "");
    /* a single-part object has no parts */
    store_put_t *p;
    CHECK_EQ_INT(store_put_begin(s, SV("b"), SV("single"), 3, &p), 0);
    CHECK_EQ_INT(store_put_write(p, "abc", 3), 0);
    store_obj_t sm = {0};
    CHECK_EQ_INT(store_put_commit(p, &sm, NULL), 0);
    CHECK_EQ_INT(store_get_parts(s, SV("b"), SV("single"), NULL, 0, 1000, 0, a, &o, &op), 0);
    CHECK_EQ_INT(op.nparts, 0);
    CHECK_EQ_INT(o.size, 3);

    /* a manifest record without part info pages by position; bad part info is corrupt */
    ls_part_ref_t refs[2] = {{.size = 4}, {.size = 6}};
    ls_layout_t l = {.kind = LS_MANIFEST, .seg_size = 65536, .nparts = 2, .parts = refs};
    store_obj_t ro = {.key = "k", .key_len = 1, .size = 10};
    buf_t rec = BUF_INIT;
    ls_rec_encode(&rec, &ro, &l, NULL);
    store_obj_t ro2;
    ls_layout_t l2;
    CHECK_EQ_INT(ls_rec_decode(rec.p, rec.len, 0, a, &ro2, &l2), 0);
    CHECK_EQ_INT(l2.pinfo_len, 0);
    CHECK_EQ_INT(ls_rec_parts_page(&l2, 1, false, 10, a, &op), 0);
    CHECK_EQ_INT(op.nparts, 1);
    CHECK_EQ_INT(op.parts[0].part_number, 2);
    CHECK_EQ_INT(op.parts[0].size, 6);
    CHECK(op.parts[0].checksum == NULL);
    buf_release(&rec);
    const uint8_t bad[][8] = {
        {3, 0, 1, 2, 3},  /* count differs from the manifest's */
        {2, 0, 2, 2},     /* numbers not ascending */
        {2, 1, 1, 9, 'x'}, /* checksum longer than what is left */
        {2, 0, 1},        /* truncated */
        {2, 0, 1, 2, 0},  /* trailing bytes */
        {2, 2, 1, 2},     /* unknown flags */
    };
    const size_t badn[] = {5, 4, 5, 3, 5, 4};
    for (size_t i = 0; i < sizeof badn / sizeof badn[0]; i++) {
        l2.pinfo = bad[i];
        l2.pinfo_len = badn[i];
        CHECK_EQ_INT(ls_rec_parts_page(&l2, 0, false, 10, a, &op), -SE_CORRUPT);
    }
    /* and a good one survives encode + decode */
    uint32_t nums[2] = {4, 9};
    const char *cks[2] = {"AAAABA==", "AAAACQ=="};
    buf_t pi = BUF_INIT;
    ls_rec_parts_encode(&pi, nums, cks, 2);
    l.pinfo = (const uint8_t *)pi.p;
    l.pinfo_len = pi.len;
    ls_rec_encode(&rec, &ro, &l, NULL);
    CHECK_EQ_INT(ls_rec_decode(rec.p, rec.len, 0, a, &ro2, &l2), 0);
    CHECK_EQ_INT(ls_rec_parts_page(&l2, 0, false, 10, a, &op), 0);
    CHECK_EQ_INT(op.nparts, 2);
    CHECK_EQ_INT(op.parts[1].part_number, 9);
    CHECK_EQ_STR(op.parts[1].checksum, "AAAACQ==");
    buf_release(&rec);
    buf_release(&pi);
    arena_free(a);
    store_close(s);
}

/* The ACL document kept with an upload (store_obj_t.acl): returned by store_mpu_get, not
 * decoded by listings, and not carried into the completed object's record (the API applies
 * it to the object itself). */
TEST(test_upload_acl_kept_not_carried)
{
    char dir[128], id[40], etag[40];
    store_t *s = fresh(dir, sizeof dir, 50);
    mkbucket(s, "b");
    store_obj_t m = {0};
    snprintf(m.owner, sizeof m.owner, "acct1");
    m.acl = SV("{\"o\":\"x\",\"g\":[[\"a\",\"\",1]]}");
    CHECK_EQ_INT(store_mpu_create(s, SV("b"), SV("k"), &m, id), 0);
    arena_t *a = arena_new();
    store_obj_t u;
    CHECK_EQ_INT(store_mpu_get(s, SV("b"), SV("k"), sv_from_cstr(id), a, &u), 0);
    CHECK(sv_eq(u.acl, m.acl));
    store_mpu_list_opts_t lo = {.max_uploads = 10};
    store_mpu_list_result_t lr;
    CHECK_EQ_INT(store_mpu_list(s, SV("b"), &lo, a, &lr), 0);
    CHECK_EQ_INT(lr.nuploads, 1);
    CHECK_EQ_INT(lr.uploads[0].obj.acl.len, 0);
    const uint8_t data[10] = "0123456789";
    CHECK_EQ_INT(put_part(s, "b", "k", id, 1, data, sizeof data, 0, etag), 0);
    store_mpu_part_ref_t ref = {1, etag};
    store_obj_t res, o;
    CHECK_EQ_INT(store_mpu_complete(s, SV("b"), SV("k"), sv_from_cstr(id), &ref, 1, NULL, NULL, a,
                                    &res),
                 0);
    CHECK_EQ_INT(store_get(s, SV("b"), SV("k"), NULL, a, &o, NULL), 0);
    CHECK_EQ_INT(o.size, 10);
    CHECK_EQ_INT(o.acl.len, 0);
    arena_free(a);
    store_close(s);
}

int main(void)
{
    log_set_level(LOG_WARN);
    snprintf(root, sizeof root, "/tmp/strata-mpu-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_basic_complete);
    RUN(test_complete_errors_leave_upload_intact);
    RUN(test_replace_abort_overwrite_gc);
    RUN(test_reader_pins_parts);
    RUN(test_corrupt_part_detected);
    RUN(test_list_uploads_model);
    RUN(test_list_parts_pages);
    RUN(test_recovery_knows_parts);
    RUN(test_fault_injection_complete);
    RUN(test_complete_atomic_for_readers);
    RUN(test_kill9_during_complete);
    RUN(test_upload_acl_kept_not_carried);
    RUN(test_object_parts);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_summary("store_mpu");
}
