/* store: the storage contract. Knows nothing of HTTP, S3 errors' wire form, or policies.
 *
 * One store_t is opened per data directory and shared by all threads; every function here is
 * thread-safe unless it says otherwise. Returns follow core/err.h: 0 ok, -SE_xxx / -errno.
 *
 * Durability contract: when store_put_commit(), store_delete(), store_bucket_*() or
 * store_meta_put() return 0, the change is durable (data fsynced, then the index transaction
 * fsynced) and visible to every later reader. Concurrent commits are group-committed (one
 * index fsync serves many). A put that is aborted, or whose process dies before commit
 * returns, never becomes visible. Overwrite and delete queue the old data for garbage
 * collection in the same index transaction; a reader that already opened the old version
 * reads it to the end consistently.
 *
 * Integrity: stored bytes are framed in segments with CRC32C; a mismatch on read fails with
 * -SE_CORRUPT (and a log line), never returns wrong bytes.
 *
 * The local backend (store/local/) is LMDB + data files; a RADOS backend comes later behind
 * the same functions.
 */
#ifndef STRATA_STORE_H
#define STRATA_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

typedef struct store store_t;

typedef struct store_opts {
    const char *dir;      /* data directory; created if missing */
    size_t inline_max;    /* objects up to this size live inside their index record (0: default) */
    size_t map_size;      /* LMDB map size in bytes (0: default, large sparse) */
    int gc_grace_ms;      /* delay before old data is unlinked (0: default) */
} store_opts_t;

int store_open(const store_opts_t *o, store_t **out);
/* Stops background threads after finishing queued commits. No calls may be in flight. */
void store_close(store_t *s);

/* ---- generic metadata namespaces (accounts, access keys, later IAM documents) ----------- */
/* ns is a short fixed name ("accounts", "keys", ...). Values are opaque bytes. */
int store_meta_put(store_t *s, const char *ns, sv_t key, sv_t val);
int store_meta_get(store_t *s, const char *ns, sv_t key, buf_t *out); /* -ENOENT if absent */
int store_meta_delete(store_t *s, const char *ns, sv_t key);         /* -ENOENT if absent */
/* Calls cb for each key with the prefix, in key order; cb returns nonzero to stop. */
int store_meta_list(store_t *s, const char *ns, sv_t prefix,
                    int (*cb)(void *ctx, sv_t key, sv_t val), void *ctx);

/* ---- buckets ----------------------------------------------------------------------------- */
typedef struct store_bucket {
    char name[64];      /* S3 bucket name (3..63 chars) */
    char owner[64];     /* owning account id */
    char region[32];    /* LocationConstraint, "us-east-1" by default */
    int64_t created_ms;
    uint64_t id;        /* internal, assigned by the store; index keys use it */
} store_bucket_t;

/* -SE_BUCKET_EXISTS if the name is taken (by anyone; the caller compares owners). */
int store_bucket_create(store_t *s, store_bucket_t *b /* IN/OUT: id assigned */);
int store_bucket_get(store_t *s, sv_t name, store_bucket_t *out); /* -SE_NO_SUCH_BUCKET */
/* -SE_BUCKET_NOT_EMPTY if it holds objects or versions; -SE_NO_SUCH_BUCKET. Also deletes the
 * bucket's configuration documents. */
int store_bucket_delete(store_t *s, sv_t name);
/* All buckets in name order; cb returns nonzero to stop. */
int store_bucket_list(store_t *s, int (*cb)(void *ctx, const store_bucket_t *b), void *ctx);
/* Per-bucket configuration documents by name ("versioning", "policy", "acl", "tagging", ...).
 * put with an empty doc deletes it. get: -ENOENT if absent, -SE_NO_SUCH_BUCKET. */
int store_bucket_conf_put(store_t *s, sv_t bucket, const char *doc_name, sv_t doc);
int store_bucket_conf_get(store_t *s, sv_t bucket, const char *doc_name, buf_t *out);

/* ---- object records ---------------------------------------------------------------------- */
/* What the store keeps about an object. The store does not interpret attrs/tags/extra; it
 * persists them. Strings are NUL-terminated; in results they live in the caller's arena. */
typedef struct store_obj {
    const char *key;
    size_t key_len;
    uint64_t size;
    int64_t mtime_ms;
    char etag[72];          /* without quotes: hex MD5, or "<hex>-N" for multipart */
    char storage_class[24]; /* "STANDARD", "GLACIER", ... */
    char version_id[64];    /* "" when versioning never applied ("null" semantics) */
    bool delete_marker;
    char owner[64];         /* account id of the writer */
    /* Content headers and user metadata, as lowercase names: "content-type",
     * "cache-control", "x-amz-meta-color", ... in the order given. */
    kv_t *attrs;
    size_t nattrs;
    kv_t *tags; /* object tags */
    size_t ntags;
    char checksum_algo[16]; /* "" or "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" */
    char checksum[96];      /* base64 value ("" when none); checksum_type in extra later */
    sv_t extra;             /* opaque bytes for later features (encryption envelope, ...) */
} store_obj_t;

/* ---- writing ----------------------------------------------------------------------------- */
typedef struct store_put store_put_t;

/* Starts a new object version in bucket/key. size_hint: expected size or UINT64_MAX if
 * unknown (lets the store choose inline vs file up front). -SE_NO_SUCH_BUCKET. */
int store_put_begin(store_t *s, sv_t bucket, sv_t key, uint64_t size_hint, store_put_t **out);
/* Appends bytes. Memory stays bounded (a segment buffer) whatever the object size. */
int store_put_write(store_put_t *p, const void *data, size_t n);

typedef struct store_cond {
    bool if_none_match_any;   /* fail -SE_PRECONDITION_FAILED if a current version exists */
    const char *if_match_etag; /* fail -SE_PRECONDITION_FAILED unless current etag equals */
} store_cond_t;

/* Makes the object durable and visible, replacing the current version (its data queued for
 * GC). meta supplies everything but size/mtime (filled by the store; mtime_ms is used if
 * nonzero). cond may be NULL; it is checked atomically inside the index transaction.
 * Frees p whatever the result. */
int store_put_commit(store_put_t *p, store_obj_t *meta, const store_cond_t *cond);
/* Discards an uncommitted put and frees p. */
void store_put_abort(store_put_t *p);

/* Rewrites only the record (attrs, tags, storage class, ...) of the current version, keeping
 * its data; used for metadata-only copies and tagging. meta->key names the object. */
int store_obj_update(store_t *s, sv_t bucket, const store_obj_t *meta);

/* ---- reading ----------------------------------------------------------------------------- */
typedef struct store_read store_read_t;

/* Looks up the current version (version_id NULL or "") of bucket/key. Fills *out (strings in
 * arena a). If rd is non-NULL, also opens the data for reading: the reader stays valid and
 * consistent even if the object is overwritten or deleted meanwhile.
 * -SE_NO_SUCH_BUCKET, -SE_NO_SUCH_KEY. */
int store_get(store_t *s, sv_t bucket, sv_t key, const char *version_id, arena_t *a,
              store_obj_t *out, store_read_t **rd);
/* Reads up to n bytes at off; returns bytes read (0 at end), -SE_CORRUPT on a checksum
 * failure, -errno on I/O errors. Not thread-safe per reader. */
ssize_t store_read(store_read_t *rd, uint64_t off, void *buf, size_t n);
void store_read_close(store_read_t *rd);

/* ---- deleting ---------------------------------------------------------------------------- */
/* Removes the current version; its data is queued for GC. -SE_NO_SUCH_KEY if absent,
 * -SE_NO_SUCH_BUCKET. */
int store_delete(store_t *s, sv_t bucket, sv_t key, const char *version_id);

/* ---- listing ----------------------------------------------------------------------------- */
typedef struct store_list_opts {
    sv_t prefix;
    sv_t delimiter;   /* empty: no roll-up; any string, not only "/" */
    sv_t start_after; /* exclusive; a key or a common prefix previously returned */
    size_t max_keys;  /* 0..1000; entries = objects + common prefixes */
} store_list_opts_t;

typedef struct store_list_result {
    store_obj_t *objs; /* in key order; attrs/tags not filled (cheap listing) */
    size_t nobjs;
    sv_t *prefixes; /* common prefixes in order (in arena) */
    size_t nprefixes;
    bool truncated;
    sv_t next; /* the last key or prefix returned, when truncated (marker to continue) */
} store_list_result_t;

/* A page costs O(page * log n) whatever the bucket size: common prefixes are skipped by a
 * seek past them, not by scanning their keys. */
int store_list(store_t *s, sv_t bucket, const store_list_opts_t *o, arena_t *a,
               store_list_result_t *out);

#endif
