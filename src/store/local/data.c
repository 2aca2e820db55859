/* Data files: DIR/data/xx/yy/<32 hex id>, named by a random id, never by the key.
 *
 * Layout: a 32-byte header ("STRDATA1", u32 segment size, u32 reserved, 16-byte id), then
 * segments of seg_size payload bytes (the last one shorter) each followed by a CRC32C of
 * (segment index, payload). Segment i starts at HDR + i * (seg_size + 4), so a range read
 * touches only its segments, and a segment copied to the wrong place fails its check.
 *
 * Durability: the file is written under its final name (the name is unique and nothing refers
 * to it until the index does; a crash leaves an orphan that ls_recover() removes), then
 * fdatasync(file) and fsync(dir) before the index transaction that references it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/local/local_int.h"

/* writeback is started every this many bytes written */
#define LS_WB_BYTES ((uint64_t)8 << 20)

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t ls_seg_crc(uint64_t idx, const void *p, size_t n)
{
    uint8_t ib[8];
    for (int i = 0; i < 8; i++)
        ib[i] = (uint8_t)(idx >> (8 * i));
    return crc32c(crc32c(0, ib, sizeof ib), p, n);
}

void ls_data_path(const store_t *s, const uint8_t id[LS_ID_LEN], char *out, size_t outsz)
{
    char hex[2 * LS_ID_LEN + 1];
    hex_encode(id, LS_ID_LEN, hex);
    snprintf(out, outsz, "%s/%.2s/%.2s/%s", s->data_dir, hex, hex + 2, hex);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* mkdir that makes a newly created directory durable in its parent. */
static int mkdir_durable(const char *path, const char *parent)
{
    if (mkdir(path, 0700) == 0)
        return fsync_path(parent);
    return errno == EEXIST ? 0 : -errno;
}

static void data_hdr(uint8_t hdr[LS_FILE_HDR], const uint8_t id[LS_ID_LEN])
{
    memset(hdr, 0, LS_FILE_HDR);
    memcpy(hdr, LS_FILE_MAGIC, 8);
    le32(hdr + 8, LS_SEG_SIZE);
    memcpy(hdr + 16, id, LS_ID_LEN);
}

int ls_data_create(store_t *s, uint8_t id[LS_ID_LEN], int *fd_out)
{
    char path[4096], d1[4096], d2[4096];
    random_bytes(id, LS_ID_LEN);
    ls_data_path(s, id, path, sizeof path);
    size_t dl = strlen(s->data_dir);
    snprintf(d1, sizeof d1, "%.*s", (int)(dl + 3), path);
    snprintf(d2, sizeof d2, "%.*s", (int)(dl + 6), path);
    int rc = mkdir_durable(d1, s->data_dir);
    if (rc == 0)
        rc = mkdir_durable(d2, d1);
    if (rc < 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    uint8_t hdr[LS_FILE_HDR];
    data_hdr(hdr, id);
    rc = ls_fault_hit(LS_FAULT_DATA_WRITE);
    if (rc == 0 && pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
        rc = errno ? -errno : -EIO;
    if (rc < 0) {
        close(fd);
        unlink(path);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */
#define DW_SEG_BYTES ((size_t)LS_SEG_SIZE + LS_SEG_CRC)
#define DW_MMAP_MIN ((size_t)128 * 1024)

/* The direct writer: one job (a staged buffer's whole 4 KiB blocks) at a time. */
struct ls_dio {
    int dfd; /* O_DIRECT */
    int bfd; /* the writer's descriptor, for a job the kernel refuses direct */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const uint8_t *p; /* the job, while busy */
    size_t len;
    uint64_t off;
    bool busy, stop;
    int rc; /* first error */
};
static atomic_int n_dio;

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

static void *dio_main(void *arg)
{
    struct ls_dio *io = arg;
    pthread_mutex_lock(&io->mu);
    for (;;) {
        while (!io->busy && !io->stop)
            pthread_cond_wait(&io->cv, &io->mu);
        if (!io->busy)
            break;
        const uint8_t *p = io->p;
        size_t len = io->len;
        uint64_t off = io->off;
        pthread_mutex_unlock(&io->mu);
        int rc = write_all(io->dfd, p, len, off);
        if (rc == -EINVAL) /* an alignment the file system does not take: buffered instead */
            rc = write_all(io->bfd, p, len, off);
        pthread_mutex_lock(&io->mu);
        if (rc < 0 && !io->rc)
            io->rc = rc;
        io->busy = false;
        pthread_cond_broadcast(&io->cv);
    }
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

/* Waits for the job under way, if any; returns the writer's first error. */
static int dio_wait(struct ls_dio *io)
{
    pthread_mutex_lock(&io->mu);
    while (io->busy)
        pthread_cond_wait(&io->cv, &io->mu);
    int rc = io->rc;
    pthread_mutex_unlock(&io->mu);
    return rc;
}

/* Hands p[0..len) at off to the writer (none under way: dio_wait first). */
static void dio_submit(struct ls_dio *io, const uint8_t *p, size_t len, uint64_t off)
{
    pthread_mutex_lock(&io->mu);
    io->p = p;
    io->len = len;
    io->off = off;
    io->busy = true;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
}

/* Lets the job under way finish, stops the thread and closes the direct descriptor. */
static void dio_end(ls_dwriter_t *w)
{
    struct ls_dio *io = w->dio;
    pthread_mutex_lock(&io->mu);
    io->stop = true;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
    pthread_join(io->th, NULL);
    close(io->dfd);
    pthread_mutex_destroy(&io->mu);
    pthread_cond_destroy(&io->cv);
    free(io);
    w->dio = NULL;
    atomic_fetch_sub(&n_dio, 1);
}

static uint8_t *dw_map(size_t cap, bool mapped)
{
    if (!mapped)
        return xmalloc(cap);
    uint8_t *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        abort();
    return p;
}

static void dw_alloc(ls_dwriter_t *w, size_t segs)
{
    w->cap = segs * DW_SEG_BYTES;
    w->mapped = w->cap > DW_MMAP_MIN;
    w->bufs[0] = w->buf = dw_map(w->cap, w->mapped);
    w->bufs[1] = NULL;
    w->cur = 0;
}

static void dw_unmap(ls_dwriter_t *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->bufs[i] && w->mapped)
            munmap(w->bufs[i], w->cap);
        else
            free(w->bufs[i]);
        w->bufs[i] = NULL;
    }
    w->buf = NULL;
}

void ls_dw_release(ls_dwriter_t *w)
{
    if (w->dio) /* the buffer under way is written before it goes */
        dio_end(w);
    if (w->tap) /* the tap may still read either buffer */
        digest_wait(w->tap, w->last_mark);
    dw_unmap(w);
    w->cap = w->blen = 0;
}

void ls_dw_init(ls_dwriter_t *w, int fd, uint64_t size_hint)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->off = w->wb_off = LS_FILE_HDR;
    w->hint = size_hint;
    /* as many segments as the hint needs, up to LS_DW_SEGS; one while unknown */
    uint64_t segs = size_hint == UINT64_MAX ? 1 : (size_hint + LS_SEG_SIZE - 1) / LS_SEG_SIZE;
    dw_alloc(w, segs < 1 ? 1 : segs > LS_DW_SEGS ? LS_DW_SEGS : (size_t)segs);
}

bool ls_dw_tap(ls_dwriter_t *w, digest_t *d)
{
    if (w->tap || w->seg_idx || w->seg_fill || !digest_is_pipeline(d))
        return false;
    w->tap = d;
    return true;
}

bool ls_dw_direct(ls_dwriter_t *w, const char *path, const uint8_t id[LS_ID_LEN])
{
    if (w->dio || w->seg_idx || w->seg_fill || w->off != LS_FILE_HDR || w->hint == UINT64_MAX ||
        w->hint < LS_DW_SEGS * LS_SEG_SIZE) /* the whole staging buffers it needs */
        return false;
    if (atomic_fetch_add(&n_dio, 1) >= LS_DIO_MAX) {
        atomic_fetch_sub(&n_dio, 1);
        return false;
    }
    int dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0)
        goto out_fail;
    struct ls_dio *io = xcalloc(1, sizeof *io);
    io->dfd = dfd;
    io->bfd = w->fd;
    pthread_mutex_init(&io->mu, NULL);
    pthread_cond_init(&io->cv, NULL);
    if (pthread_create(&io->th, NULL, dio_main, io) != 0) {
        pthread_mutex_destroy(&io->mu);
        pthread_cond_destroy(&io->cv);
        free(io);
        goto out_fail;
    }
    w->dio = io;
    /* page-aligned buffers (mmap) with room for a carry of less than one block; the file is
     * staged from offset 0, header included, so every flush starts on a block */
    dw_unmap(w);
    w->cap = LS_DW_SEGS * DW_SEG_BYTES + LS_DIO_ALIGN;
    w->mapped = true;
    w->bufs[0] = w->buf = dw_map(w->cap, true);
    w->cur = 0;
    data_hdr(w->buf, id); /* as ls_data_create wrote it */
    w->blen = LS_FILE_HDR;
    w->off = 0;
    return true;
out_fail:
    if (dfd >= 0)
        close(dfd);
    atomic_fetch_sub(&n_dio, 1);
    return false;
}

/* After a flush: stage into the other buffer (each of its slots is waited for when it is
 * refilled). */
static void dw_swap(ls_dwriter_t *w)
{
    w->cur ^= 1;
    if (!w->bufs[w->cur])
        w->bufs[w->cur] = dw_map(w->cap, w->mapped);
    w->buf = w->bufs[w->cur];
    /* what the refill overwrites; mark[cur] now records the new contents */
    memcpy(w->old_mark, w->mark[w->cur], sizeof w->old_mark);
    memset(w->mark[w->cur], 0, sizeof w->mark[w->cur]);
}

/* With a tap: waits until it is past what [pos, pos + n) of the current buffer held. When it
 * is not yet, waits for DW_TAP_STEP slots more at once: every sleep costs two wake-ups, and
 * the tap has to hash those older bytes before any new ones anyway. */
#define DW_TAP_STEP 8u
static void dw_tap_wait(ls_dwriter_t *w, size_t pos, size_t n)
{
    const uint64_t *m = w->old_mark;
    size_t a = pos / LS_DW_SLOT, b = (pos + n - 1) / LS_DW_SLOT;
    if (digest_reached(w->tap, m[a] > m[b] ? m[a] : m[b]))
        return;
    uint64_t want = 0;
    for (size_t i = a; i < LS_DW_SLOTS && i < a + DW_TAP_STEP; i++)
        want = m[i] > want ? m[i] : want;
    digest_wait(w->tap, want > m[b] ? want : m[b]);
}

/* Writes the staged bytes at w->off. */
static int dw_flush(ls_dwriter_t *w)
{
    int rc = ls_fault_hit(LS_FAULT_DATA_WRITE);
    if (rc < 0)
        return rc;
    if ((rc = write_all(w->fd, w->buf, w->blen, w->off)) < 0)
        return rc;
    w->off += w->blen;
    w->blen = 0;
    /* Start writeback of every LS_WB_BYTES as soon as they are written, so the disk works
     * while the rest of the body arrives (the final fdatasync stays the durability point;
     * errors here show up there). */
    if (w->off - w->wb_off >= LS_WB_BYTES) {
        (void)sync_file_range(w->fd, (off_t)w->wb_off, (off_t)(w->off - w->wb_off),
                              SYNC_FILE_RANGE_WRITE);
        w->wb_off = w->off;
    }
    return 0;
}

/* Direct: hands the staged whole blocks to the writer (after the previous job, which used
 * the other buffer) and goes on in the other buffer with the rest carried over. At the end
 * (last), waits for the writer and writes the last partial block through the page cache. */
static int dw_flush_direct(ls_dwriter_t *w, bool last)
{
    int rc = ls_fault_hit(LS_FAULT_DATA_WRITE);
    if (rc < 0)
        return rc;
    if ((rc = dio_wait(w->dio)) < 0)
        return rc;
    size_t whole = w->blen & ~(LS_DIO_ALIGN - 1), rest = w->blen - whole;
    if (whole)
        dio_submit(w->dio, w->buf, whole, w->off);
    if (last) {
        if ((rc = dio_wait(w->dio)) < 0)
            return rc;
        if (rest && (rc = write_all(w->fd, w->buf + whole, rest, w->off + whole)) < 0)
            return rc;
        w->off += w->blen;
        w->blen = 0;
        return 0;
    }
    const uint8_t *from = w->buf + whole;
    dw_swap(w);
    if (rest) {
        if (w->tap)
            dw_tap_wait(w, 0, rest);
        memcpy(w->buf, from, rest); /* the tap reads its bytes where they were */
    }
    w->off += whole;
    w->blen = rest;
    return 0;
}

int ls_dw_write(ls_dwriter_t *w, const void *p, size_t n)
{
    const uint8_t *d = p;
    while (n) {
        if (w->seg_fill == 0) {
            uint8_t ib[8];
            for (int i = 0; i < 8; i++)
                ib[i] = (uint8_t)(w->seg_idx >> (8 * i));
            w->crc = crc32c(0, ib, sizeof ib);
        }
        /* a flush happens at a segment's end when the room left is less than a segment and
         * its CRC, so the rest of the current segment and its CRC always fit */
        size_t take = LS_SEG_SIZE - w->seg_fill;
        if (take > n)
            take = n;
        uint8_t *dst = w->buf + w->blen;
        if (w->tap)
            dw_tap_wait(w, w->blen, take);
        memcpy(dst, d, take);
        w->crc = crc32c(w->crc, dst, take); /* over the copy, still in cache */
        if (w->tap) {
            w->last_mark = digest_update_ref(w->tap, dst, take);
            w->mark[w->cur][w->blen / LS_DW_SLOT] = w->last_mark;
            w->mark[w->cur][(w->blen + take - 1) / LS_DW_SLOT] = w->last_mark;
        }
        w->blen += take;
        w->seg_fill += take;
        d += take;
        n -= take;
        if (w->seg_fill < LS_SEG_SIZE)
            break;
        le32(w->buf + w->blen, w->crc);
        w->blen += LS_SEG_CRC;
        w->seg_idx++;
        w->seg_fill = 0;
        if (w->cap - w->blen >= DW_SEG_BYTES)
            continue;
        int rc;
        if (w->dio) {
            if ((rc = dw_flush_direct(w, false)) < 0)
                return rc;
            continue;
        }
        if ((rc = dw_flush(w)) < 0)
            return rc;
        /* the file has shown to be big: stage up to LS_DW_SEGS segments from now on */
        if (w->cap < LS_DW_SEGS * DW_SEG_BYTES && w->seg_idx >= LS_DW_SEGS) {
            ls_dw_release(w); /* waits for the tap */
            dw_alloc(w, LS_DW_SEGS);
        } else if (w->tap) {
            dw_swap(w);
        }
    }
    return 0;
}

int ls_dw_finish(ls_dwriter_t *w)
{
    if (w->seg_fill) {
        le32(w->buf + w->blen, w->crc);
        w->blen += LS_SEG_CRC;
        w->seg_idx++;
        w->seg_fill = 0;
    }
    if (w->dio)
        return dw_flush_direct(w, true);
    return w->blen ? dw_flush(w) : 0;
}

int ls_data_sync(store_t *s, int fd, const uint8_t id[LS_ID_LEN])
{
    int rc = ls_fault_hit(LS_FAULT_DATA_SYNC);
    if (rc < 0)
        return rc;
    if (fdatasync(fd) < 0)
        return -errno;
    rc = ls_fault_hit(LS_FAULT_DIR_SYNC);
    if (rc < 0)
        return rc;
    char path[4096];
    ls_data_path(s, id, path, sizeof path);
    *strrchr(path, '/') = 0;
    return fsync_path(path);
}

int ls_data_open(store_t *s, const uint8_t id[LS_ID_LEN], uint32_t seg_size, int *fd_out)
{
    char path[4096];
    ls_data_path(s, id, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t hdr[LS_FILE_HDR], want[12] = {0};
    memcpy(want, LS_FILE_MAGIC, 8);
    le32(want + 8, seg_size);
    ssize_t r = pread(fd, hdr, sizeof hdr, 0);
    if (r != (ssize_t)sizeof hdr || memcmp(hdr, want, 12) != 0 ||
        memcmp(hdr + 16, id, LS_ID_LEN) != 0) {
        log_error("store: corrupt data file header path=%s", path);
        close(fd);
        return r < 0 ? -errno : -SE_CORRUPT;
    }
    *fd_out = fd;
    return 0;
}

int ls_data_read_seg(int fd, const uint8_t id[LS_ID_LEN], uint32_t seg_size, uint64_t idx,
                     void *buf, size_t n)
{
    off_t off = (off_t)(LS_FILE_HDR + idx * ((uint64_t)seg_size + LS_SEG_CRC));
    /* payload into buf, the CRC apart: buf needs only n bytes, so a reader can fill its
     * caller's buffer directly (no bounce copy) */
    uint8_t c[LS_SEG_CRC] = {0};
    struct iovec iov[2] = {{buf, n}, {c, LS_SEG_CRC}};
    size_t want = n + LS_SEG_CRC, got = 0;
    while (got < want) {
        ssize_t r = preadv(fd, iov, 2, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        size_t k = (size_t)r; /* short reads are rare: advance the iovecs */
        for (int i = 0; i < 2; i++) {
            size_t t = k < iov[i].iov_len ? k : iov[i].iov_len;
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + t;
            iov[i].iov_len -= t;
            k -= t;
        }
    }
    uint32_t stored = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                      (uint32_t)c[3] << 24;
    if (got != want || stored != ls_seg_crc(idx, buf, n)) {
        char hex[2 * LS_ID_LEN + 1];
        hex_encode(id, LS_ID_LEN, hex);
        log_error("store: data corruption file=%s segment=%llu%s", hex, (unsigned long long)idx,
                  got != want ? " (short)" : " (crc mismatch)");
        return -SE_CORRUPT;
    }
    return 0;
}
