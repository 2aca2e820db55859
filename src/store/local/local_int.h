/* store/local private interface: LMDB index + segmented data files behind store.h.
 * Nothing outside src/store/local/ (and its tests and fuzz target) may include this.
 * See docs/store.md for the on-disk format and the commit protocol. */
#ifndef STRATA_STORE_LOCAL_INT_H
#define STRATA_STORE_LOCAL_INT_H
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/str.h"
#include "store/store.h"

/* ---- limits and format constants (changing any of these is a format change) -------------- */
#define LS_SEG_SIZE 65536u            /* data segment payload; each followed by a CRC32C */
#define LS_SEG_CRC 4u
#define LS_FILE_HDR 32u               /* data file header: magic, seg size, file id */
#define LS_FILE_MAGIC "STRDATA1"
#define LS_ID_LEN 16u                 /* random data file id */
#define LS_INLINE_DEFAULT (16u * 1024) /* default inline_max, see docs/store.md */
#define LS_INLINE_CAP (256u * 1024)    /* largest inline_max accepted */
#define LS_KEY_MAX 1024u              /* S3 object key limit */
#define LS_KEY_Q 448u                 /* key bytes kept verbatim in an index key (docs) */
#define LS_KEY_HASH 8u
#define LS_BID_LEN 8u
/* index key of an object: bid + name part; name part is at most Q + 1 + HASH bytes */
#define LS_LKEY_MAX (LS_BID_LEN + LS_KEY_Q + 1 + LS_KEY_HASH)

/* Big-endian u64 in index keys and values (so keys sort by number). */
static inline void ls_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t ls_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}
#define LS_MIN_MAXKEYSIZE (LS_LKEY_MAX + 8 + 16) /* room for version and upload suffixes */

/* ---- fault injection (SQLite style; compiled in, a relaxed atomic load when disarmed) ----- */
enum ls_fault {
    LS_FAULT_DATA_WRITE = 1,   /* pwrite of a data segment */
    LS_FAULT_DATA_SYNC = 2,    /* fdatasync of a data file */
    LS_FAULT_DIR_SYNC = 4,     /* fsync of a data directory */
    LS_FAULT_INDEX_COMMIT = 8, /* the group-commit LMDB transaction commit */
};
/* Arms injection: the nth (1-based) call at any point in mask fails with -EIO, once.
 * nth <= 0 disarms. Process-wide; for tests. */
void ls_fault_arm(unsigned mask, int nth);
/* Returns -EIO if this call is the armed one, else 0. */
int ls_fault_hit(unsigned point);

/* ---- statistics (tests and metrics) -------------------------------------------------------- */
typedef struct store_local_stats {
    uint64_t batches;  /* index write transactions committed by the committer */
    uint64_t items;    /* requests applied in them */
    uint64_t max_batch;
    uint64_t syncs;    /* extra index flushes (mdb_env_sync) when no batch followed one */
    uint64_t gc_unlinked; /* data files removed by GC */
    uint64_t orphans_removed; /* data files removed at startup (no index reference) */
    uint64_t list_steps; /* cursor positionings (next or seek) made by store_list */
} store_local_stats_t;
void store_local_stats(store_t *s, store_local_stats_t *out);
/* Wakes the GC thread and waits until it has processed everything due now (tests). */
void store_local_gc_kick(store_t *s);
/* Path of the data file of bucket/key's current version into out (""/-ENOENT if inline). */
int store_local_data_path(store_t *s, sv_t bucket, sv_t key, char *out, size_t outsz);

/* ---- records (record.c) -------------------------------------------------------------------- */
enum ls_layout_kind { LS_INLINE = 0, LS_FILE = 1, LS_MANIFEST = 2 /* mpu.c */ };
/* One part of a manifest (a completed multipart upload): its data file and where it sits. */
typedef struct ls_part_ref {
    uint8_t file_id[LS_ID_LEN];
    uint64_t size;
    uint64_t off; /* offset of its first byte in the object (computed when decoding) */
} ls_part_ref_t;
typedef struct ls_layout {
    enum ls_layout_kind kind;
    uint8_t file_id[LS_ID_LEN]; /* LS_FILE */
    uint32_t seg_size;          /* LS_FILE */
    const uint8_t *inline_data; /* LS_INLINE: points into the decoded bytes; size = obj size */
    uint32_t inline_crc;        /* stored CRC32C of the inline data (checked by the reader) */
    uint32_t nparts;            /* LS_MANIFEST: parts in object order (seg_size shared) */
    ls_part_ref_t *parts;       /* LS_MANIFEST: in the decoding arena */
    /* LS_MANIFEST: the parts' numbers and checksums, encoded as in record.c (T_PARTINFO);
     * decoding only points at them (into the record's bytes), ls_rec_parts_page() reads them.
     * Empty in records written before they were kept. */
    const uint8_t *pinfo;
    size_t pinfo_len;
} ls_layout_t;

#define LS_REC_NOATTRS 1u /* skip attrs and tags (listing) */
#define LS_REC_NOCRC 2u   /* skip the metadata CRC check (fuzzing the TLV parser only) */
#define LS_REC_NOPARTS 4u /* a manifest's part table is checked but not built (listings: a
                           * 10,000-part record would cost ~400 KB of arena per entry);
                           * layout->parts and obj->part_sizes stay NULL, the counts are set */

/* Encodes obj + layout; inline data (obj->size bytes) is appended from `data` when
 * layout->kind is LS_INLINE. Appends to out. */
void ls_rec_encode(buf_t *out, const store_obj_t *obj, const ls_layout_t *layout,
                   const void *data);
/* Decodes a record. Strings are copied into arena a (NUL-terminated); layout->inline_data
 * points into p. Never reads outside [p, p+n). 0 or -SE_CORRUPT. */
int ls_rec_decode(const void *p, size_t n, unsigned flags, arena_t *a, store_obj_t *obj,
                  ls_layout_t *layout);
/* Encodes a manifest's part info (layout->pinfo): part numbers (ascending) and, when cks is
 * non-NULL, each part's checksum string. Appends to out. */
void ls_rec_parts_encode(buf_t *out, const uint32_t *numbers, const char *const *cks, size_t n);
/* A page of a decoded manifest's parts (numbers > marker, or with by_pos the parts after the
 * first `marker`; at most max): numbers and checksums from layout->pinfo (positions 1..N
 * without it), sizes from layout->parts (so not with LS_REC_NOPARTS). Strings into arena a.
 * 0, or -SE_CORRUPT for malformed part info. */
int ls_rec_parts_page(const ls_layout_t *layout, uint32_t marker, bool by_pos, size_t max,
                      arena_t *a, store_obj_parts_t *out);

/* ---- object index keys (index.c) ----------------------------------------------------------- */
/* Builds bid + name part of key into out (LS_LKEY_MAX bytes); returns its length. */
size_t ls_lkey(uint64_t bid, const char *key, size_t klen, uint8_t *out);
bool ls_lkey_is_long(size_t lkey_len);
/* The smallest key greater than every key that starts with prefix (strip trailing 0xff bytes,
 * increment the last): where a delimiter roll-up resumes. Written into arena a. false when
 * there is none (the prefix is all 0xff bytes): the listing ends. */
bool ls_prefix_successor(arena_t *a, sv_t prefix, sv_t *out);
/* The delimiter roll-up of a key that starts with prefix: key up to and including the first
 * delimiter after the prefix. false (key listed as itself) when delim is empty or absent. */
bool ls_common_prefix(sv_t key, sv_t prefix, sv_t delim, sv_t *cp);

/* ---- the store ----------------------------------------------------------------------------- */
typedef struct ls_req ls_req_t;

struct store {
    char *dir;
    char *data_dir;
    size_t inline_max;
    uint64_t direct_min; /* O_DIRECT data files from this size hint (store_opts_t) */
    int gc_grace_ms;
    int lock_fd;
    MDB_env *env;
    MDB_dbi db_sys, db_buckets, db_objects, db_meta, db_conf, db_gc, db_refs;
    MDB_dbi db_uploads, db_parts; /* multipart (mpu.c) */
    MDB_dbi db_versions, db_nullver; /* versioning (versions.c) */
    uint64_t mpu_min_part;
    struct ls_pins *pins; /* data files open by manifest readers (mpu.c); GC skips them */
    /* group commit */
    pthread_mutex_t mu;
    pthread_cond_t cv_commit; /* work for the committer */
    ls_req_t *q_head, *q_tail;
    bool stopping;
    pthread_t committer;
    /* gc */
    pthread_t gc;
    pthread_cond_t cv_gc;
    uint64_t gc_kicks, gc_done;
    bool gc_stopping;
    /* LMDB's read-only map of data.mdb (found in /proc/self/maps; gc.c trims it) */
    uint8_t *map_base; /* NULL: not trimmed */
    size_t map_len;
    /* stats (under mu, except list_steps) */
    store_local_stats_t st;
    _Atomic uint64_t list_steps;
};

/* Request kinds handled by the committer (index.c applies them). */
enum ls_req_kind {
    LR_PUT,
    LR_DELETE,
    LR_OBJ_UPDATE,
    LR_META_PUT,
    LR_META_DEL,
    LR_BUCKET_CREATE,
    LR_BUCKET_DELETE,
    LR_CONF_PUT,
    LR_GC_DONE,
    LR_MPU_CREATE, /* multipart (mpu.c): r->mpu */
    LR_MPU_ABORT,
    LR_PART_PUT,
    LR_MPU_COMPLETE,
};

struct ls_req {
    enum ls_req_kind kind;
    ls_req_t *next;
    /* inputs */
    uint64_t bid;       /* object requests: bucket id expected to still exist */
    sv_t bucket;        /* bucket name */
    sv_t key;           /* object key / meta key / conf doc name */
    sv_t val;           /* encoded record / meta value / conf doc */
    const char *ns;     /* meta namespace */
    const store_cond_t *cond;
    const store_obj_t *meta;     /* LR_OBJ_UPDATE */
    const uint8_t *new_file_id;  /* LR_PUT: file id to add to refs (NULL if inline) */
    const char *version_id;      /* LR_DELETE */
    store_bucket_t *bkt;         /* LR_BUCKET_CREATE (id filled) */
    const uint8_t (*gc_ids)[LS_ID_LEN + 8]; /* LR_GC_DONE: gc queue keys */
    size_t ngc;
    void *mpu;                   /* LR_MPU_* / LR_PART_PUT arguments (mpu.c) */
    char *vid_out;               /* LR_PUT/LR_DELETE: [64] version id made or removed, or NULL */
    bool *dm_out;                /* LR_DELETE: a delete marker was made or removed, or NULL */
    const char *owner;           /* LR_DELETE: account writing a delete marker, or NULL */
    /* result */
    int rc;
    bool done;
    pthread_cond_t cv;
};

/* State of the committer's write transaction while it applies requests. */
typedef struct ls_wctx {
    store_t *s;
    MDB_txn *txn;
    arena_t *a;
    bool fatal; /* a write failed: the transaction is unusable */
} ls_wctx_t;
/* For request kinds applied outside index.c (mpu.c): put/delete marking the txn unusable on
 * failure (a missing key is fine for delete), and the plain object put (conditions, old
 * version's data to GC; a completed upload becomes the new current version through it). */
int ls_wput(ls_wctx_t *w, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn);
int ls_wdel(ls_wctx_t *w, MDB_dbi dbi, const void *k, size_t kn);
int ls_apply_put(ls_wctx_t *w, ls_req_t *r);

/* Queues r for the committer and waits for its result (r->rc). */
int ls_submit(store_t *s, ls_req_t *r);
int ls_index_open(store_t *s, size_t map_size);
void ls_index_close(store_t *s);
int ls_committer_start(store_t *s);
void ls_committer_stop(store_t *s);
/* Looks up a bucket by name in txn: 0, -SE_NO_SUCH_BUCKET. */
int ls_bucket_lookup(store_t *s, MDB_txn *txn, sv_t name, store_bucket_t *out);
int ls_bucket_decode(const void *p, size_t n, store_bucket_t *out);
int ls_mdb_err(int mrc); /* LMDB return -> 0/-errno/-SE_CORRUPT */

/* ---- data files (data.c) ------------------------------------------------------------------- */
void ls_data_path(const store_t *s, const uint8_t id[LS_ID_LEN], char *out, size_t outsz);
/* Creates a new data file with a fresh random id (directories made as needed); returns fd. */
int ls_data_create(store_t *s, uint8_t id[LS_ID_LEN], int *fd_out);
/* Writing a data file: a stream of payload bytes becomes segments and their CRCs, staged in
 * a buffer of whole segments and written with one pwrite per full buffer (the kernel's
 * buffered-write path costs about half as much per byte in ~1 MiB writes as in 64 KiB ones).
 * Staging grows to LS_DW_SEGS segments (1 MiB) once the file has shown to be big (a size hint
 * >= 1 MiB, or 1 MiB written); buffers over 128 KiB are mmap'd so their pages go back to the
 * system when the put ends. Writeback of every completed 8 MiB is started at once
 * (sync_file_range), so the final fdatasync only waits for the tail.
 * With a tap (ls_dw_tap: a digest pipeline, e.g. the ETag's MD5), the tap hashes the payload
 * where it is staged instead of in a copy of its own: the writer then stages into two
 * buffers in turn and refills a 64 KiB slot of one only once the tap is past its bytes
 * (digest_wait per slot, so the writer waits for as little of the hashing as it can).
 * Direct (ls_dw_direct, for big files): the staged bytes go to the disk with O_DIRECT, by a
 * writer thread of the file's own, while the next buffer is filled. This spares the copy
 * into the page cache (the biggest cost of a big PUT after its MD5) and keeps the connection
 * thread off the disk. Writes stay on 4 KiB file offsets: the header is staged too, each
 * flush writes whole 4 KiB blocks and carries the rest over to the next buffer, and only the
 * file's last partial block goes through the page cache (pages of their own: no overlap
 * with direct writes). The final fdatasync + directory fsync stay the durability point. */
#define LS_DW_SEGS 16u
#define LS_DW_SLOT ((size_t)64 * 1024)
#define LS_DW_SLOTS 18u /* slots of the biggest buffer: 16 segments, CRCs and a 4 KiB carry */
#define LS_DIO_ALIGN ((size_t)4096)
#define LS_DIO_MIN ((uint64_t)8 << 20) /* default store_opts_t.direct_min */
#define LS_DIO_MAX 8                   /* direct writers (threads) at once, then buffered */
struct ls_dio;
typedef struct ls_dwriter {
    int fd;
    uint64_t seg_idx;  /* the segment being filled */
    size_t seg_fill;   /* its payload bytes so far */
    uint32_t crc;      /* its running CRC (index, then payload) */
    uint8_t *buf;      /* staged file bytes: whole segments + CRCs, then the partial one */
    size_t blen, cap;  /* a flush when the room left is less than a segment with its CRC */
    bool mapped;       /* the buffers are mmaps, else malloc */
    uint64_t off;      /* file offset of buf[0] */
    uint64_t wb_off;   /* writeback started below this offset */
    uint64_t hint;     /* the size hint, UINT64_MAX if unknown */
    digest_t *tap;     /* fed by reference from the staged payload, or NULL */
    uint8_t *bufs[2];  /* buf is bufs[cur]; bufs[1] with a tap or direct (allocated on use) */
    unsigned cur;
    /* the tap's mark of the last payload referenced in each 64 KiB slot of each buffer, and
     * of the current buffer's previous contents (what a refill waits for) */
    uint64_t mark[2][LS_DW_SLOTS];
    uint64_t old_mark[LS_DW_SLOTS];
    uint64_t last_mark; /* of the last payload referenced */
    struct ls_dio *dio; /* the direct writer, or NULL */
} ls_dwriter_t;
/* Starts writing segments at the first one of fd; size_hint UINT64_MAX when unknown. */
void ls_dw_init(ls_dwriter_t *w, int fd, uint64_t size_hint);
/* Makes d (a digest pipeline) receive every payload byte written from now on, by reference
 * (see ls_dwriter_t). Only before the first byte; false (nothing changes) otherwise or when d
 * is not a pipeline. d must stay valid until ls_dw_release (which waits for it), unless it is
 * finalised or freed before (they hash everything queued). */
bool ls_dw_tap(ls_dwriter_t *w, digest_t *d);
/* Switches w to direct writes (see above) when its size hint was >= 1 MiB (the caller applies
 * store_opts_t.direct_min, LS_DIO_MIN by default), nothing is
 * written yet, the file (path, fd's; id: its file id, for the header) takes O_DIRECT and fewer than LS_DIO_MAX direct writers
 * run; false (nothing changes) otherwise. Errors of the writer thread come back from the
 * next ls_dw_write or ls_dw_finish. */
bool ls_dw_direct(ls_dwriter_t *w, const char *path, const uint8_t id[LS_ID_LEN]);
int ls_dw_write(ls_dwriter_t *w, const void *p, size_t n);
/* Ends the last (partial) segment and writes everything staged. */
int ls_dw_finish(ls_dwriter_t *w);
/* Frees the staging buffer (does not close fd). */
void ls_dw_release(ls_dwriter_t *w);
/* fdatasync the file, then fsync its directory. */
int ls_data_sync(store_t *s, int fd, const uint8_t id[LS_ID_LEN]);
/* Opens a data file for reading and checks its header: fd, -ENOENT, -SE_CORRUPT, -errno. */
int ls_data_open(store_t *s, const uint8_t id[LS_ID_LEN], uint32_t seg_size, int *fd_out);
/* Reads and verifies segment idx (payload len n) into buf (n bytes; the CRC is read apart).
 * On -SE_CORRUPT buf holds unverified bytes: the caller must not pass them on. */
int ls_data_read_seg(int fd, const uint8_t id[LS_ID_LEN], uint32_t seg_size, uint64_t idx,
                     void *buf, size_t n);
uint32_t ls_seg_crc(uint64_t idx, const void *p, size_t n);

/* ---- gc (gc.c) ----------------------------------------------------------------------------- */
int ls_gc_start(store_t *s);
void ls_gc_stop(store_t *s);
/* Startup recovery: removes data files that no index entry references. Single-threaded. */
int ls_recover(store_t *s);
/* Queues file id for GC inside write txn (gc queue + refs state), due after the grace. */
int ls_gc_queue(store_t *s, MDB_txn *txn, const uint8_t id[LS_ID_LEN]);
/* Queues every data file of a layout (none for inline, one file, or each part of a
 * manifest). Use it wherever a record's data is dropped. */
int ls_gc_layout(store_t *s, MDB_txn *txn, const ls_layout_t *l);
/* The index map's resident set (gc.c): every index page looked at stays mapped, so the GC
 * thread unmaps them all (the page cache keeps them) when the process's RssFile exceeds
 * LS_MAP_RSS_BUDGET. ls_map_trim does it now: 0, or -ENOTSUP (MDB_WRITEMAP, no map found). */
#ifndef LS_MAP_RSS_BUDGET
#define LS_MAP_RSS_BUDGET ((size_t)32 << 20)
#endif
int ls_map_trim(store_t *s);

/* A put in progress (local.c; a part is one too). */
struct store_put {
    store_t *s;
    uint64_t bid;
    char *bucket, *key;
    size_t bucket_len, key_len;
    uint8_t *buf; /* inline bytes (freed once the put turns into a file) */
    size_t blen, cap;
    uint64_t size;
    uint64_t size_hint; /* UINT64_MAX: unknown */
    bool file;
    int fd;
    ls_dwriter_t dw; /* the data file's writer, once file */
    uint8_t id[LS_ID_LEN];
    int err; /* sticky: a failed write fails the commit */
    /* a multipart part (mpu.c): upload id and part number, 0 for an object */
    uint8_t upload_id[LS_ID_LEN];
    uint32_t part_number;
};

/* ---- multipart (mpu.c) --------------------------------------------------------------------- */
int ls_mpu_open(store_t *s, MDB_txn *txn); /* opens uploads/parts dbs (index open) */
int ls_mpu_apply(ls_wctx_t *w, ls_req_t *r);      /* LR_MPU_*, LR_PART_PUT */
/* Aborts every upload of bucket bid (bucket delete), inside the committer's txn. */
int ls_mpu_bucket_drop(ls_wctx_t *w, uint64_t bid);
/* Put-path pieces shared with parts (local.c): a put that writes a data file from the first
 * byte; seal = last segment + fdatasync + fsync(dir); free without unlinking. */
int ls_put_new_file(store_t *s, uint64_t bid, sv_t bucket, sv_t key, store_put_t **out);
int ls_put_seal(store_put_t *p, uint8_t id[LS_ID_LEN], uint64_t *size);
void ls_put_free(store_put_t *p);
/* Reading a manifest: opens parts lazily (one fd at a time), verifies segments like a file
 * reader, and pins the parts' files against GC while open (a reader of an overwritten object
 * reads on). open: 0, -ENOENT if the first part is gone (caller looks the key up again). */
typedef struct ls_mreader ls_mreader_t;
int ls_mreader_open(store_t *s, const ls_layout_t *l, ls_mreader_t **out);
ssize_t ls_mreader_read(ls_mreader_t *m, uint64_t off, void *buf, size_t n);
void ls_mreader_close(ls_mreader_t *m);
/* Pins (mpu.c): the GC unlinks a file only through ls_pins_unlink, which refuses (returns 1)
 * while a reader pins it. */
void ls_pins_init(store_t *s);
void ls_pins_free(store_t *s);
int ls_pins_unlink(store_t *s, const uint8_t id[LS_ID_LEN], const char *path);
bool ls_pins_has(store_t *s, const uint8_t id[LS_ID_LEN]);

/* ---- versioning (versions.c) -------------------------------------------------------------- */
#define LS_VID_LEN 32u /* version id: hex of vseq(8, BE) + 8 random bytes */
void ls_vid_encode(uint64_t vseq, const uint8_t rnd[8], char out[LS_VID_LEN + 1]);
/* Parses a version id (not "null"): 0 with *vseq, or -SE_INVALID_VERSION_ID. Fuzzed. */
int ls_vid_decode(const char *s, size_t n, uint64_t *vseq);
int ls_versions_open(store_t *s, MDB_txn *txn); /* opens versions/nullver dbs (index open) */
int ls_versioning_state(store_t *s, MDB_txn *txn, uint64_t bid, enum store_versioning *out);
/* The one place that decides which version a write becomes, for a bucket whose versioning is
 * configured (vs != OFF): Enabled adds a version with a fresh id, Suspended replaces the null
 * version. r is an LR_PUT-shaped request (bid, key, val = the encoded record, whose version id
 * is replaced here; cond; new_file_id; vid_out). apply_put calls it, so a completed multipart
 * upload committed through ls_apply_put gets the same treatment. Inside the committer's txn. */
int ls_version_put(ls_wctx_t *w, ls_req_t *r, enum store_versioning vs);
/* LR_DELETE with a version id (any bucket) or in a versioned bucket (delete markers). */
int ls_version_delete(ls_wctx_t *w, ls_req_t *r, enum store_versioning vs);
/* Rewrites the `versions` copy of a versioned current record (store_obj_update). */
int ls_version_mirror(ls_wctx_t *w, const uint8_t *lk, size_t lkn, const char *vid,
                      const void *rec, size_t n);
/* Does bucket bid have any version or delete marker (bucket delete)? */
bool ls_versions_any(store_t *s, MDB_txn *txn, uint64_t bid);
/* Record of key's version ("null" or an id) in a read txn: 0 with *out, -SE_NO_SUCH_VERSION,
 * -SE_INVALID_VERSION_ID. */
int ls_version_find(store_t *s, MDB_txn *txn, uint64_t bid, sv_t key, const char *version_id,
                    MDB_val *out);
/* Newest `versions` record of key: 0 with *out, -ENOENT. */
int ls_version_latest(store_t *s, MDB_txn *txn, uint64_t bid, sv_t key, MDB_val *out);

#endif
