/* Tests for data-file writing (src/store/local/data.c, ls_dw_*): whatever the pieces the body
 * arrives in and whatever the size hint, the file holds the header, then each segment's
 * payload followed by its CRC, exactly as the reader (ls_data_read_seg) expects.
 * And for the trimming of the index map's resident set (gc.c, ls_map_trim): the map's pages
 * leave the process's resident set and every object reads back the same afterwards. */
#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/hash.h"
#include "core/log.h"
#include "store/local/local_int.h"
#include "store/store.h"
#include "t.h"

static char root[64];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Whether files under root take O_DIRECT (ext4, xfs, ... do; a few file systems do not). */
static bool direct_ok(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/direct-probe", root);
    int fd = open(p, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd >= 0)
        close(fd);
    unlink(p);
    return fd >= 0;
}

/* piece sizes: 0 = pseudo-random in [1, 70000], else that size. tap: an MD5 pipeline reads
 * the payload from the staging buffers (ls_dw_tap) and must equal the data's MD5. direct:
 * ls_dw_direct is asked for (it applies from a hint of 1 MiB; the store asks from
 * store_opts_t.direct_min). */
static void write_and_check(store_t *s, size_t total, uint64_t hint, size_t piece, uint32_t seed,
                            bool tap, bool direct)
{
    uint8_t *data = malloc(total ? total : 1), id[LS_ID_LEN];
    fill(data, total, seed);
    int fd;
    CHECK_EQ_INT(ls_data_create(s, id, &fd), 0);
    ls_dwriter_t w;
    ls_dw_init(&w, fd, hint);
    char path[4096];
    ls_data_path(s, id, path, sizeof path);
    if (direct) {
        bool want = hint != UINT64_MAX && hint >= LS_DW_SEGS * LS_SEG_SIZE && direct_ok();
        CHECK(ls_dw_direct(&w, path, id) == want);
        CHECK(!ls_dw_direct(&w, path, id)); /* once */
    }
    digest_t d;
    if (tap) {
        digest_init_md5(&d);
        CHECK(digest_pipeline(&d));
        CHECK(ls_dw_tap(&w, &d));
        CHECK(!ls_dw_tap(&w, &d)); /* once */
    }
    uint32_t x = seed | 1;
    for (size_t off = 0; off < total;) {
        size_t n = piece;
        if (!n) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            n = 1 + x % 70000;
        }
        if (n > total - off)
            n = total - off;
        CHECK_EQ_INT(ls_dw_write(&w, data + off, n), 0);
        off += n;
    }
    CHECK_EQ_INT(ls_dw_finish(&w), 0);
    if (tap) { /* finalised before the release, as a PUT does; the release must not wait */
        uint8_t got[16], want[16];
        digest_final(&d, got);
        md5(data, total, want);
        CHECK(memcmp(got, want, 16) == 0);
    }
    ls_dw_release(&w);
    CHECK(w.buf == NULL);
    close(fd);

    size_t nseg = (total + LS_SEG_SIZE - 1) / LS_SEG_SIZE;
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_size, LS_FILE_HDR + total + nseg * LS_SEG_CRC);
    CHECK_EQ_INT(ls_data_open(s, id, LS_SEG_SIZE, &fd), 0);
    uint8_t *seg = malloc(LS_SEG_SIZE);
    for (size_t i = 0; i < nseg; i++) {
        size_t n = total - i * LS_SEG_SIZE < LS_SEG_SIZE ? total - i * LS_SEG_SIZE : LS_SEG_SIZE;
        CHECK_EQ_INT(ls_data_read_seg(fd, id, LS_SEG_SIZE, i, seg, n), 0);
        CHECK(memcmp(seg, data + i * LS_SEG_SIZE, n) == 0);
    }
    close(fd);
    unlink(path);
    free(seg);
    free(data);
}

TEST(test_dw_layouts)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/s", root);
    store_opts_t o = {.dir = dir, .map_size = (size_t)1 << 28};
    store_t *s = NULL;
    CHECK_EQ_INT(store_open(&o, &s), 0);
    if (!s)
        return;
    const size_t seg = LS_SEG_SIZE, mib = (size_t)1 << 20;
    struct {
        size_t total;
        uint64_t hint;
        size_t piece;
    } cases[] = {
        {0, UINT64_MAX, 0},
        {1, UINT64_MAX, 1},
        {seg - 1, seg - 1, 1000},
        {seg, seg, seg},               /* exactly one segment: no empty segment after it */
        {seg + 1, UINT64_MAX, 7},      /* CRC of a 1-byte last segment */
        {3 * seg, 3 * seg, 65082},     /* MHD's piece size, not aligned with segments */
        {mib, mib, 65082},             /* staging exactly full at the end */
        {3 * mib + 5, UINT64_MAX, 0},  /* unknown size: grows from 1 to 16 segments */
        {20 * mib + 123, 20 * mib + 123, 0}, /* big: writeback ranges started on the way */
        {2 * mib, 100, 3 * seg},       /* a hint that was too small */
        {5 * mib, UINT64_MAX, 4 * mib}, /* pieces bigger than the staging buffer */
        /* direct from LS_DIO_MIN: 4 KiB blocks carried over between buffers, the last
         * partial block through the page cache */
        {8 * mib, 8 * mib, 65082},
        {17 * mib + 4064, 17 * mib + 4064, 0},   /* ends on a 4 KiB block of the file */
        {9 * mib + 1, 9 * mib + 1, 1 << 20},
        {3 * mib + 5, 64 * mib, 0},               /* shorter than its hint */
        {12 * mib + 7, 8 * mib, 3 * mib},         /* longer than its hint */
    };
    for (int mode = 0; mode < 4; mode++) /* tap, direct: off/off, on/off, off/on, on/on */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            write_and_check(s, cases[i].total, cases[i].hint, cases[i].piece, (uint32_t)i + 1,
                            mode & 1, mode & 2);
    /* a tapped (and direct) writer abandoned mid-way: the release waits for the tap and the
     * direct write under way before unmapping */
    for (int direct = 0; direct < 2; direct++) {
        size_t total = 3 * mib + 77;
        uint8_t *data = malloc(total), id[LS_ID_LEN];
        fill(data, total, 99);
        int fd;
        CHECK_EQ_INT(ls_data_create(s, id, &fd), 0);
        ls_dwriter_t w;
        ls_dw_init(&w, fd, 8 * mib);
        char path[4096];
        ls_data_path(s, id, path, sizeof path);
        if (direct)
            CHECK(ls_dw_direct(&w, path, id) == direct_ok());
        digest_t d;
        digest_init_md5(&d);
        CHECK(digest_pipeline(&d));
        CHECK(ls_dw_tap(&w, &d));
        CHECK_EQ_INT(ls_dw_write(&w, data, total), 0);
        ls_dw_release(&w);
        CHECK(w.dio == NULL);
        digest_free(&d);
        close(fd);
        unlink(path);
        free(data);
    }
    store_close(s);
}

/* Rss (bytes) of this process's mappings of DIR/index/data.mdb, from /proc/self/smaps. */
static long long map_rss(const char *dir)
{
    char want[256], line[4352];
    snprintf(want, sizeof want, "%s/index/data.mdb", dir);
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return -1;
    long long kib = 0, v;
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        size_t ll = strlen(line), wl = strlen(want);
        if (strchr(line, '-') && strchr(line, ':') && line[0] != ' ' &&
            sscanf(line, "%*x-%*x %*s %*x %*x:%*x %lld", &v) == 1)
            in = ll >= wl && strcmp(line + ll - wl, want) == 0;
        else if (in && sscanf(line, "Rss: %lld kB", &v) == 1)
            kib += v;
    }
    fclose(f);
    return kib * 1024;
}

static int put_small(store_t *s, const char *key, const uint8_t *data, size_t n)
{
    store_put_t *p;
    int rc = store_put_begin(s, SV("t"), sv_from_cstr(key), n, &p);
    if (rc < 0)
        return rc;
    if ((rc = store_put_write(p, data, n)) < 0) {
        store_put_abort(p);
        return rc;
    }
    store_obj_t m = {0};
    snprintf(m.etag, sizeof m.etag, "e");
    snprintf(m.storage_class, sizeof m.storage_class, "STANDARD");
    return store_put_commit(p, &m, NULL);
}

/* 1 if key reads back as data[0..n) */
static int reads_back(store_t *s, const char *key, const uint8_t *data, size_t n)
{
    arena_t *a = arena_new();
    store_obj_t o;
    store_read_t *rd;
    int ok = 0;
    if (store_get(s, SV("t"), sv_from_cstr(key), NULL, a, &o, &rd) == 0) {
        uint8_t *b = malloc(n + 1);
        ok = o.size == n && store_read(rd, 0, b, n + 1) == (ssize_t)n && memcmp(b, data, n) == 0;
        free(b);
        store_read_close(rd);
    }
    arena_free(a);
    return ok;
}

TEST(test_map_trim)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/m", root);
    store_opts_t o = {.dir = dir, .map_size = (size_t)1 << 28};
    store_t *s = NULL;
    CHECK_EQ_INT(store_open(&o, &s), 0);
    if (!s)
        return;
    store_bucket_t b = {0};
    snprintf(b.name, sizeof b.name, "t");
    snprintf(b.owner, sizeof b.owner, "acct1");
    CHECK_EQ_INT(store_bucket_create(s, &b), 0);
    enum { N = 1500, SZ = 4096 }; /* inline objects: their bytes live in the index */
    uint8_t *data = malloc((size_t)N * SZ);
    fill(data, (size_t)N * SZ, 7);
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        CHECK_EQ_INT(put_small(s, key, data + (size_t)i * SZ, SZ), 0);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        bad += !reads_back(s, key, data + (size_t)i * SZ, SZ);
    }
    CHECK_EQ_INT(bad, 0);
    long long before = map_rss(dir);
    CHECK(before >= (long long)N * SZ); /* every value was read through the map */
    CHECK_EQ_INT(ls_map_trim(s), 0);
    long long after = map_rss(dir);
    /* nothing else reads the index now (the GC thread may, a page or two) */
    CHECK(after >= 0 && after <= 64 * 1024);
    if (after > 64 * 1024)
        fprintf(stderr, "map rss before %lld after %lld\n", before, after);
    bad = 0; /* and every object still reads back, through fresh faults of the same pages */
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        bad += !reads_back(s, key, data + (size_t)i * SZ, SZ);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(map_rss(dir) >= (long long)N * SZ);
    /* and writes after a trim land where readers see them */
    fill(data, SZ, 99);
    CHECK_EQ_INT(put_small(s, "k00000", data, SZ), 0);
    CHECK_EQ_INT(ls_map_trim(s), 0);
    CHECK(reads_back(s, "k00000", data, SZ));
    free(data);
    store_close(s);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    snprintf(root, sizeof root, "/tmp/strata-test-data-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_dw_layouts);
    RUN(test_map_trim);
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_summary("store_data");
}
