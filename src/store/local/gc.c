/* Garbage collection of data files, and startup recovery.
 *
 * Overwrite and delete put the old file id in the gc queue (key: due time + id) in the same
 * index transaction that drops the reference. The GC thread wakes every min(grace/2, 1 s),
 * unlinks files whose due time has passed (a reader that opened one before keeps its fd and
 * reads on), then removes their queue and refs entries through the committer, in bounded steps
 * of GC_STEP files. Unlink first, forget second: a crash in between only repeats the unlink.
 *
 * Recovery at open: a put that died between creating its data file and the index commit leaves
 * a file that nothing references. The refs database lists every file the index knows (live or
 * queued), so one walk of data/ finds the orphans. It runs before the committer starts, so no
 * put is in flight; its cost is one readdir per data directory (see docs/store.md).
 *
 * The index map's resident set: LMDB maps data.mdb read-only and shared (no MDB_WRITEMAP; it
 * writes the file with pwrite), and every page a reader or the committer has looked at stays
 * mapped, so the server's RSS grows with the part of the index it has touched (tens of MiB
 * after minutes of small-object traffic: inline objects live in the index). Those are page-cache
 * pages, but they are the process's resident set all the same. Each GC tick reads RssFile from
 * /proc/self/status and, above LS_MAP_RSS_BUDGET, drops the map's page-table entries
 * (madvise MADV_DONTNEED over the file's length). That is safe for a shared file mapping:
 * nothing private is discarded, the pages stay in the page cache, and the next touch of one
 * is a minor fault that maps the same page again (readers in flight included: committed pages
 * do not change while a reader can see them). With MDB_WRITEMAP it is not done.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "store/local/local_int.h"

#define GC_STEP 256

/* One bounded step: unlinks up to GC_STEP due files. Returns how many queue entries it
 * processed (GC_STEP means there may be more), or a negative error. */
static int gc_step(store_t *s)
{
    uint8_t keys[GC_STEP][8 + LS_ID_LEN];
    size_t n = 0;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return ls_mdb_err(mrc);
    MDB_cursor *c;
    mrc = mdb_cursor_open(txn, s->db_gc, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return ls_mdb_err(mrc);
    }
    uint64_t now = (uint64_t)now_ms();
    MDB_val k, v;
    size_t pinned = 0; /* skipped: parts a multipart reader still uses (bounded per step) */
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && n < GC_STEP && pinned < 65536;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 + LS_ID_LEN)
            continue;
        const uint8_t *p = k.mv_data;
        uint64_t due = 0;
        for (int i = 0; i < 8; i++)
            due = due << 8 | p[i];
        if (due > now)
            break;
        if (ls_pins_has(s, p + 8)) {
            pinned++;
            continue;
        }
        memcpy(keys[n++], p, 8 + LS_ID_LEN);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (n == 0)
        return 0;

    size_t done = 0, unlinked = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        ls_data_path(s, keys[i] + 8, path, sizeof path);
        int ur = ls_pins_unlink(s, keys[i] + 8, path);
        if (ur == 1)
            continue; /* a reader of a completed multipart object still uses it: next round */
        if (ur == 0) {
            unlinked++;
        } else if (ur != -ENOENT) {
            log_warn("store: gc cannot unlink path=%s: %s", path, strerror(-ur));
            continue; /* keep it queued; retried next round */
        }
        if (done != i)
            memcpy(keys[done], keys[i], sizeof keys[i]);
        done++;
    }
    if (done) {
        ls_req_t r = {.kind = LR_GC_DONE};
        r.gc_ids = (const uint8_t(*)[8 + LS_ID_LEN])keys;
        r.ngc = done;
        int rc = ls_submit(s, &r);
        if (rc < 0)
            log_warn("store: gc queue update failed: %s", strata_strerror(rc));
    }
    pthread_mutex_lock(&s->mu);
    s->st.gc_unlinked += unlinked;
    pthread_mutex_unlock(&s->mu);
    return (int)n;
}

/* ---- the index map's resident set ------------------------------------------------------- */
/* The process's RssFile in bytes, or 0 if unknown. */
static size_t rss_file(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return 0;
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssFile: %zu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

/* Finds LMDB's mapping of data.mdb (the one whose device and inode are the env's file's) in
 * /proc/self/maps: the library does not give its address (MDB_envinfo.me_mapaddr is set only
 * for FIXEDMAP). Where maps shows another device than stat (btrfs subvolumes) none is found and
 * the map is left alone. */
static int map_find(store_t *s)
{
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) < 0)
        return -ENOTSUP;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -errno;
    char line[4352];
    int rc = -ENOTSUP;
    while (fgets(line, sizeof line, f)) {
        uintptr_t lo, hi;
        unsigned long long off, ino;
        unsigned dmaj, dmin;
        char perms[8];
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", &lo, &hi, perms, &off,
                   &dmaj, &dmin, &ino) != 7)
            continue;
        /* read-only and shared, as LMDB maps without MDB_WRITEMAP: nothing in it is private
         * or dirty, so dropping its page-table entries loses nothing */
        if (ino == (unsigned long long)st.st_ino && off == 0 && major(st.st_dev) == dmaj &&
            minor(st.st_dev) == dmin && strcmp(perms, "r--s") == 0 && hi - lo > s->map_len) {
            s->map_base = (uint8_t *)lo;
            s->map_len = hi - lo;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

int ls_map_trim(store_t *s)
{
    if (!s->map_base)
        return -ENOTSUP;
    /* only the file's pages can be mapped (the rest of the map is beyond EOF) */
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) < 0)
        return -ENOTSUP;
    size_t len = (size_t)st.st_size < s->map_len ? (size_t)st.st_size : s->map_len;
    long pg = sysconf(_SC_PAGESIZE);
    len = (len + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
    if (len && madvise(s->map_base, len, MADV_DONTNEED) < 0)
        return -errno;
    return 0;
}

static void *gc_main(void *arg)
{
    store_t *s = arg;
    int interval = s->gc_grace_ms / 2;
    if (interval > 1000)
        interval = 1000;
    if (interval < 10)
        interval = 10;
    pthread_mutex_lock(&s->mu);
    while (!s->gc_stopping) {
        uint64_t kick = s->gc_kicks;
        pthread_mutex_unlock(&s->mu);
        while (gc_step(s) == GC_STEP)
            ;
        if (s->map_base && rss_file() > LS_MAP_RSS_BUDGET)
            (void)ls_map_trim(s);
        pthread_mutex_lock(&s->mu);
        s->gc_done = kick;
        pthread_cond_broadcast(&s->cv_gc);
        if (s->gc_kicks != kick || s->gc_stopping)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(interval % 1000) * 1000000L;
        ts.tv_sec += interval / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->cv_gc, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ls_gc_start(store_t *s)
{
    /* the map is found once, before any thread may trim it (map_base is fixed from now on) */
    unsigned flags;
    if (mdb_env_get_flags(s->env, &flags) != 0 || (flags & MDB_WRITEMAP) || map_find(s) < 0) {
        s->map_base = NULL; /* not trimmed */
        log_info("store: the index map's resident set is not bounded (no read-only shared map)");
    }
    int rc = pthread_create(&s->gc, NULL, gc_main, s);
    return rc ? -rc : 0;
}

void ls_gc_stop(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->gc_stopping = true;
    pthread_cond_broadcast(&s->cv_gc);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->gc, NULL);
}

void store_local_gc_kick(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t k = ++s->gc_kicks;
    pthread_cond_broadcast(&s->cv_gc);
    while (s->gc_done < k && !s->gc_stopping)
        pthread_cond_wait(&s->cv_gc, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static bool is_hex_name(const char *n, size_t len)
{
    if (strlen(n) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return false;
    return true;
}

/* Checks every file in one data/xx/yy directory against refs. */
static int recover_dir(store_t *s, MDB_txn *txn, const char *dpath, uint64_t *removed)
{
    DIR *d = opendir(dpath);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dpath, e->d_name) >= (int)sizeof path)
            continue;
        uint8_t id[LS_ID_LEN];
        if (!is_hex_name(e->d_name, 2 * LS_ID_LEN) ||
            hex_decode((sv_t){e->d_name, 2 * LS_ID_LEN}, id, LS_ID_LEN) < 0) {
            log_warn("store: unexpected file in data directory path=%s", path);
            continue;
        }
        MDB_val k = {LS_ID_LEN, id}, v;
        int mrc = mdb_get(txn, s->db_refs, &k, &v);
        if (mrc == 0)
            continue;
        if (mrc != MDB_NOTFOUND) {
            closedir(d);
            return ls_mdb_err(mrc);
        }
        if (unlink(path) == 0) {
            (*removed)++;
            log_info("store: removed orphan data file path=%s", path);
        }
    }
    closedir(d);
    return 0;
}

int ls_recover(store_t *s)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return ls_mdb_err(mrc);
    uint64_t removed = 0;
    int rc = 0;
    DIR *top = opendir(s->data_dir);
    if (!top) {
        rc = errno == ENOENT ? 0 : -errno;
        goto out_txn;
    }
    struct dirent *e1;
    while (rc == 0 && (e1 = readdir(top))) {
        if (!is_hex_name(e1->d_name, 2))
            continue;
        char p1[4096];
        if (snprintf(p1, sizeof p1, "%s/%s", s->data_dir, e1->d_name) >= (int)sizeof p1)
            continue;
        DIR *mid = opendir(p1);
        if (!mid)
            continue;
        struct dirent *e2;
        while (rc == 0 && (e2 = readdir(mid))) {
            if (!is_hex_name(e2->d_name, 2))
                continue;
            char p2[4096];
            if (snprintf(p2, sizeof p2, "%s/%s", p1, e2->d_name) >= (int)sizeof p2)
                continue;
            rc = recover_dir(s, txn, p2, &removed);
        }
        closedir(mid);
    }
    closedir(top);
out_txn:
    mdb_txn_abort(txn);
    s->st.orphans_removed += removed;
    return rc;
}
