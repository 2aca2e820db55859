/* fsync_loop: the filesystem reference that Strata's durable PUT is compared against.
 *
 *   fsync_loop --dir D --mode files --size 4k  [--threads T] [--duration S | --count N]
 *       create + write SIZE + fdatasync + close, one new file per op (T threads; default 1);
 *       rate in files/s. This is the "plain loop" of the Performance issue.
 *   fsync_loop --dir D --mode seq --size 64m [--count N]
 *       create + write SIZE in 1 MiB writes + fdatasync + close per op: the disk's sequential
 *       fdatasync'd write rate in MiB/s (what a durable 64 MiB PUT can at best reach). Each
 *       file is unlinked after its op so the disk does not fill; the unlinks are not counted in
 *       the elapsed time (they are not part of the write rate, and counting them would lower
 *       the reference that Strata's PUT is compared against).
 *
 * Files are created under D/fsync_loop.<pid>/ and removed afterwards (untimed). Output: one
 * summary and one `RESULT ...` line in s3bench's format. Exit 0, or 2 on any I/O error. */
#include "hist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)
#define MAX_THREADS 256

static const char *dir = ".", *mode = "files";
static uint64_t size = 4096, count = 0;
static double duration = 3;
static unsigned nthreads = 1;
static char workdir[4096];
static unsigned char *buf;
static size_t buflen;

struct worker {
    pthread_t th;
    unsigned id;
    uint64_t ops, made, t_end;
    uint64_t untimed; /* ns spent unlinking (seq mode), taken out of the elapsed time */
    int failed;
    bench_hist_t hist;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t t_start, deadline, per_thread;

static int one_op(struct worker *w)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/t%u.%08" PRIu64, workdir, w->id, w->made++);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < buflen ? (size_t)(size - off) : buflen;
        ssize_t m = write(fd, buf, n);
        if (m <= 0) {
            rc = m < 0 ? -errno : -EIO;
            goto out_close;
        }
        off += (uint64_t)m;
    }
    if (fdatasync(fd) < 0)
        rc = -errno;
out_close:
    close(fd);
    return rc;
}

/* seq mode measures one big file at a time: drop it at once so the disk is not filled. Timed
 * apart (w->untimed), outside the op. */
static void drop_file(struct worker *w)
{
    char path[4200];
    uint64_t t0 = now_ns();
    snprintf(path, sizeof path, "%s/t%u.%08" PRIu64, workdir, w->id, w->made - 1);
    unlink(path);
    w->untimed += now_ns() - t0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while ((count ? w->ops < per_thread : now_ns() < deadline)) {
        uint64_t t0 = now_ns();
        int rc = one_op(w);
        if (rc < 0) {
            fprintf(stderr, "fsync_loop: %s\n", strerror(-rc));
            w->failed = 1;
            break;
        }
        uint64_t t1 = now_ns();
        bench_hist_record(&w->hist, (t1 - t0) / 1000);
        w->ops++;
        if (strcmp(mode, "seq") == 0)
            drop_file(w);
        w->t_end = now_ns();
    }
    return NULL;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1 << 20, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1 << 30, end++;
    if (end == s || *end || v < 0)
        return -1;
    *out = (uint64_t)(v * (double)mul);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--dir") == 0)
            dir = v;
        else if (strcmp(a, "--mode") == 0)
            mode = v;
        else if (strcmp(a, "--size") == 0) {
            if (parse_size(v, &size) < 0)
                return fprintf(stderr, "fsync_loop: bad size\n"), 2;
        } else if (strcmp(a, "--threads") == 0)
            nthreads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--duration") == 0)
            duration = strtod(v, NULL);
        else if (strcmp(a, "--count") == 0)
            count = strtoull(v, NULL, 10);
        else
            return fprintf(stderr, "usage: fsync_loop --dir D --mode files|seq --size N "
                                   "[--threads T] [--duration S | --count N]\n"), 2;
    }
    if ((argc - 1) % 2 || nthreads == 0 || nthreads > MAX_THREADS ||
        (strcmp(mode, "files") != 0 && strcmp(mode, "seq") != 0))
        return fprintf(stderr, "fsync_loop: bad arguments\n"), 2;
    buflen = size < CHUNK ? (size_t)size : CHUNK;
    if (buflen == 0)
        buflen = 1;
    buf = malloc(buflen);
    if (!buf)
        return 2;
    for (size_t i = 0; i < buflen; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    snprintf(workdir, sizeof workdir, "%s/fsync_loop.%ld", dir, (long)getpid());
    if (mkdir(workdir, 0700) < 0)
        return perror(workdir), 2;

    static struct worker ws[MAX_THREADS];
    per_thread = count ? (count + nthreads - 1) / nthreads : 0;
    t_start = now_ns();
    deadline = t_start + (uint64_t)(duration * 1e9);
    for (unsigned i = 0; i < nthreads; i++) {
        ws[i].id = i;
        bench_hist_clear(&ws[i].hist);
        pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
    }
    bench_hist_t *all = malloc(sizeof *all);
    bench_hist_clear(all);
    uint64_t ops = 0, t_end = t_start, untimed = 0;
    int failed = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(ws[i].th, NULL);
        ops += ws[i].ops;
        failed |= ws[i].failed;
        if (ws[i].t_end > t_end)
            t_end = ws[i].t_end;
        untimed += ws[i].untimed;
        bench_hist_merge(all, &ws[i].hist);
    }
    /* the threads unlink in parallel: take out their mean unlink time */
    double secs = ((double)(t_end - t_start) - (double)untimed / nthreads) / 1e9;
    double ops_s = secs > 0 ? (double)ops / secs : 0;
    double mib_s = ops_s * (double)size / 1048576.0;
    printf("fsync_loop %-5s size=%-10" PRIu64 " threads=%-3u %9.1f ops/s %9.2f MiB/s  p50 %.3f ms"
           "  p99 %.3f ms\n",
           mode, size, nthreads, ops_s, mib_s, bench_hist_percentile(all, 50) / 1000.0,
           bench_hist_percentile(all, 99) / 1000.0);
    printf("RESULT label=fsync_loop op=%s size=%" PRIu64 " conc=%u ops=%" PRIu64
           " errors=%d misses=0 secs=%.3f ops_s=%.1f mib_s=%.2f p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f mean_ms=%.3f\n",
           mode, size, nthreads, ops, failed, secs, ops_s, mib_s,
           bench_hist_percentile(all, 50) / 1000.0, bench_hist_percentile(all, 99) / 1000.0,
           all->max / 1000.0, bench_hist_mean(all) / 1000.0);
    /* cleanup, untimed */
    char path[4200];
    for (unsigned i = 0; i < nthreads; i++)
        for (uint64_t k = 0; k < ws[i].made; k++) {
            snprintf(path, sizeof path, "%s/t%u.%08" PRIu64, workdir, i, k);
            unlink(path);
        }
    rmdir(workdir);
    free(all);
    free(buf);
    return failed ? 2 : 0;
}
