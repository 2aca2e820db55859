/* Tests for data-file writing (src/store/local/data.c, ls_dw_*): whatever the pieces the body
 * arrives in and whatever the size hint, the file holds the header, then each segment's
 * payload followed by its CRC, exactly as the reader (ls_data_read_seg) expects. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* piece sizes: 0 = pseudo-random in [1, 70000], else that size */
static void write_and_check(store_t *s, size_t total, uint64_t hint, size_t piece, uint32_t seed)
{
    uint8_t *data = malloc(total ? total : 1), id[LS_ID_LEN];
    fill(data, total, seed);
    int fd;
    CHECK_EQ_INT(ls_data_create(s, id, &fd), 0);
    ls_dwriter_t w;
    ls_dw_init(&w, fd, hint);
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
    ls_dw_release(&w);
    CHECK(w.buf == NULL);
    close(fd);

    size_t nseg = (total + LS_SEG_SIZE - 1) / LS_SEG_SIZE;
    char path[4096];
    ls_data_path(s, id, path, sizeof path);
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
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        write_and_check(s, cases[i].total, cases[i].hint, cases[i].piece, (uint32_t)i + 1);
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
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return t_summary("store_data");
}
