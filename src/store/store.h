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
#include "core/hash.h"
#include "core/str.h"

typedef struct store store_t;

typedef struct store_opts {
    const char *dir;      /* data directory; created if missing */
    size_t inline_max;    /* objects up to this size live inside their index record (0: default) */
    size_t map_size;      /* LMDB map size in bytes (0: default, large sparse) */
    int gc_grace_ms;      /* delay before old data is unlinked (0: default) */
    uint64_t mpu_min_part; /* smallest part but the last in a completed upload (0: 5 MiB) */
    /* data files whose size is announced at or above this are written with O_DIRECT (less
     * CPU per byte, but not left in the page cache for the reads that follow; see
     * docs/store.md): 0 for the default (8 MiB), UINT64_MAX for never */
    uint64_t direct_min;
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
    char version_id[64];    /* "" when versioning never applied to this object (it is the
                             * "null" version of an unversioned key); "null" for the null
                             * version of a key in a bucket whose versioning was configured;
                             * else the opaque id assigned at commit (URL-safe, <= 32 chars) */
    bool delete_marker;
    char owner[64];         /* account id of the writer */
    /* Content headers and user metadata, as lowercase names: "content-type",
     * "cache-control", "x-amz-meta-color", ... in the order given. */
    kv_t *attrs;
    size_t nattrs;
    kv_t *tags; /* object tags */
    size_t ntags;
    char checksum_algo[16]; /* "" or "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" */
    char checksum[96];      /* base64 value ("" when none) */
    char checksum_type[16]; /* "COMPOSITE", "FULL_OBJECT", or "" when not recorded (a value
                             * ending in "-N" is then composite); for an upload, the type its
                             * object will get (x-amz-checksum-type) */
    sv_t extra;             /* opaque bytes for later features (encryption envelope, ...) */
    sv_t acl;               /* uploads only: the ACL the API keeps for the object Complete
                             * makes (opaque here); not carried into the object's record */
    /* Filled by the store when reading (ignored when writing): a completed multipart object
     * has nparts > 0 and the size of each part, in object order (in the arena). */
    uint32_t nparts;
    const uint64_t *part_sizes;
} store_obj_t;

/* ---- writing ----------------------------------------------------------------------------- */
typedef struct store_put store_put_t;

/* Starts a new object version in bucket/key. size_hint: expected size or UINT64_MAX if
 * unknown (lets the store choose inline vs file up front). -SE_NO_SUCH_BUCKET. */
int store_put_begin(store_t *s, sv_t bucket, sv_t key, uint64_t size_hint, store_put_t **out);
/* Appends bytes. Memory stays bounded (a segment buffer) whatever the object size. */
int store_put_write(store_put_t *p, const void *data, size_t n);
/* Lets the store feed d, a digest pipeline (core/hash.h), with every byte written from now
 * on, by reference from where the store stages them, so the caller does not copy them into
 * d. Only before the first byte, and only when the store stages the bytes itself (the local
 * backend: a put that goes to a data file); false otherwise, and the caller feeds d as
 * before. d must stay valid until p is committed or aborted, or be finalised or freed before
 * that (which hashes every byte already written). */
bool store_put_digest(store_put_t *p, digest_t *d);

typedef struct store_cond {
    bool if_none_match_any;   /* fail -SE_PRECONDITION_FAILED if a current version exists */
    const char *if_match_etag; /* "*" or an etag: -SE_NO_SUCH_KEY without a current version,
                                * -SE_PRECONDITION_FAILED if an etag differs from its */
} store_cond_t;

/* Makes the object durable and visible as the current version. Which version it becomes
 * follows the bucket's versioning state at commit (store_versioning_get): unversioned, it
 * replaces the current version (its data queued for GC); Enabled, it is added as a new
 * version with a fresh id; Suspended, it becomes the "null" version, replacing the previous
 * null version (whose data is queued for GC). meta supplies everything but size/mtime and
 * version_id (filled by the store: meta->version_id is "" in an unversioned bucket, "null" or
 * the new id otherwise; mtime_ms is used if nonzero). cond may be NULL; it is checked
 * atomically inside the index transaction against the current version (a delete marker
 * counts as no object). Frees p whatever the result. */
int store_put_commit(store_put_t *p, store_obj_t *meta, const store_cond_t *cond);
/* Discards an uncommitted put and frees p. */
void store_put_abort(store_put_t *p);

/* Rewrites only the record (attrs, tags, storage class, ...) of the current version, keeping
 * its data; used for metadata-only copies and tagging. meta->key names the object. */
int store_obj_update(store_t *s, sv_t bucket, const store_obj_t *meta);

/* ---- reading ----------------------------------------------------------------------------- */
typedef struct store_read store_read_t;

/* Looks up the current version (version_id NULL or "") of bucket/key, or the given version
 * ("null" or an id from this store). Fills *out (strings in arena a). If rd is non-NULL, also
 * opens the data for reading: the reader stays valid and consistent even if the object is
 * overwritten or deleted meanwhile.
 * -SE_NO_SUCH_BUCKET, -SE_NO_SUCH_KEY (no current version: out->delete_marker and
 * out->version_id tell whether the latest version is a delete marker, and its id),
 * -SE_INVALID_VERSION_ID (not an id this store could have made), -SE_NO_SUCH_VERSION,
 * -SE_METHOD_NOT_ALLOWED (the version asked for is a delete marker; *out describes it). */
int store_get(store_t *s, sv_t bucket, sv_t key, const char *version_id, arena_t *a,
              store_obj_t *out, store_read_t **rd);
/* Reads up to n bytes at off; returns bytes read (0 at end), -SE_CORRUPT on a checksum
 * failure, -errno on I/O errors. Not thread-safe per reader. */
ssize_t store_read(store_read_t *rd, uint64_t off, void *buf, size_t n);
void store_read_close(store_read_t *rd);

/* ---- deleting ---------------------------------------------------------------------------- */
/* Without version_id (NULL or ""): unversioned bucket, removes the current version (data
 * queued for GC; -SE_NO_SUCH_KEY if absent); Enabled, adds a delete marker (even when the key
 * has no version); Suspended, adds a "null" delete marker that replaces the null version.
 * With version_id ("null" or an id): removes exactly that version or delete marker for good;
 * if it was the latest, the next newest becomes current (or none, if that is a delete
 * marker). -SE_NO_SUCH_VERSION / -SE_INVALID_VERSION_ID, -SE_NO_SUCH_BUCKET. */
typedef struct store_del_result {
    bool delete_marker;  /* a delete marker was created, or the version removed was one */
    char version_id[64]; /* its version id ("null", an id; "" in an unversioned bucket) */
} store_del_result_t;
int store_delete_version(store_t *s, sv_t bucket, sv_t key, const char *version_id,
                         store_del_result_t *out /* may be NULL */);
/* store_delete_version without the result. */
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

/* ---- versioning -------------------------------------------------------------------------- */
enum store_versioning {
    STORE_VERSIONING_OFF = 0, /* never configured */
    STORE_VERSIONING_ENABLED,
    STORE_VERSIONING_SUSPENDED,
};
/* Sets the bucket's versioning state; it applies to every commit after this returns.
 * -SE_INVALID_ARGUMENT for STORE_VERSIONING_OFF (a bucket never goes back), -SE_NO_SUCH_BUCKET. */
int store_versioning_put(store_t *s, sv_t bucket, enum store_versioning v);
int store_versioning_get(store_t *s, sv_t bucket, enum store_versioning *out);

/* ListObjectVersions. Entries are every version and delete marker whose key starts with
 * prefix, in key order and newest first within a key, rolled up into common prefixes like
 * store_list. Listing starts after key_marker (a key or a common prefix returned earlier):
 * with version_id_marker, after that version of key_marker ("null" or an id; the key's older
 * versions follow). -SE_INVALID_ARGUMENT for a version_id_marker without key_marker,
 * -SE_INVALID_VERSION_ID for a malformed one. A page costs O(page * log n). */
typedef struct store_lv_opts {
    sv_t prefix;
    sv_t delimiter;
    sv_t key_marker;
    sv_t version_id_marker;
    size_t max_keys; /* 0..1000; entries = versions + delete markers + common prefixes */
} store_lv_opts_t;

typedef struct store_lv_result {
    store_obj_t *vers; /* versions and delete markers in order; attrs/tags not filled;
                        * version_id "null" for null versions */
    bool *latest;      /* latest[i]: vers[i] is its key's latest version (IsLatest) */
    size_t nvers;
    sv_t *prefixes;
    size_t nprefixes;
    bool truncated;
    sv_t next_key;               /* when truncated: the last key or prefix returned */
    const char *next_version_id; /* ...and the last version id ("" after a prefix) */
} store_lv_result_t;

int store_list_versions(store_t *s, sv_t bucket, const store_lv_opts_t *o, arena_t *a,
                        store_lv_result_t *out);

/* ---- multipart uploads --------------------------------------------------------------------
 * An upload is created for bucket/key and gets an id (STORE_UPLOAD_ID_LEN hex chars; ids sort
 * in initiation order). Parts are separate data files (framed and CRC'd like objects),
 * numbered 1..STORE_MPU_MAX_PARTS; uploading a part number again replaces that part. Complete
 * writes the object record as a manifest of the chosen parts' data files (no data is copied,
 * O(parts)), removes the upload, and queues the parts left out for GC, all in one index
 * transaction: a failed or interrupted complete leaves the upload as it was and nothing of the
 * object visible. Abort removes the upload and queues its parts for GC. Overwriting or deleting
 * a completed object queues all of its parts' files. Reading a completed object streams across
 * part boundaries; a range read opens only the parts, and reads only the segments, it needs.
 * Deleting a bucket aborts its uploads. */
#define STORE_UPLOAD_ID_LEN 32                 /* hex characters */
#define STORE_MPU_MAX_PARTS 10000u             /* part numbers 1..10,000 */
#define STORE_PART_MAX (5ull << 30)            /* 5 GiB */
#define STORE_PART_MIN (5ull << 20)            /* 5 MiB, except the last part */
#define STORE_OBJECT_MAX (5ull << 40)          /* 5 TiB */

/* Creates an upload. meta supplies what the object will get (attrs, tags, storage class,
 * owner, checksum_algo, checksum_type; key is taken from `key`; mtime_ms = initiation time,
 * 0: now).
 * upload_id_out gets STORE_UPLOAD_ID_LEN hex chars + NUL. -SE_NO_SUCH_BUCKET. */
int store_mpu_create(store_t *s, sv_t bucket, sv_t key, const store_obj_t *meta,
                     char upload_id_out[STORE_UPLOAD_ID_LEN + 1]);
/* The upload's record (as given to create; mtime_ms = initiated) into *out (arena a).
 * -SE_NO_SUCH_UPLOAD (also for a malformed id, or an id of another key), -SE_NO_SUCH_BUCKET. */
int store_mpu_get(store_t *s, sv_t bucket, sv_t key, sv_t upload_id, arena_t *a,
                  store_obj_t *out);
/* Removes the upload and queues its parts for GC. -SE_NO_SUCH_UPLOAD, -SE_NO_SUCH_BUCKET. */
int store_mpu_abort(store_t *s, sv_t bucket, sv_t key, sv_t upload_id);

typedef struct store_part {
    uint32_t part_number;
    uint64_t size;
    int64_t mtime_ms;
    char etag[40];          /* hex MD5 of the part's bytes, no quotes */
    char checksum_algo[16]; /* "" or as in store_obj_t */
    char checksum[96];      /* base64, "" if none */
} store_part_t;

/* Starts writing part part_number of an upload: a store_put_t written with store_put_write()
 * (bounded memory) and finished with store_part_commit() or store_put_abort(). The upload is
 * checked here and again, atomically, at commit. -SE_NO_SUCH_UPLOAD, -SE_INVALID_ARGUMENT
 * (part number out of 1..10,000). */
int store_part_put_begin(store_t *s, sv_t bucket, sv_t key, sv_t upload_id,
                         uint32_t part_number, store_put_t **out);
/* Makes the part durable and visible, replacing a previous upload of the same number (its
 * file queued for GC). meta gives etag and checksum (size and mtime are filled in). Frees p
 * whatever the result. -SE_NO_SUCH_UPLOAD if the upload was completed or aborted meanwhile,
 * -SE_ENTITY_TOO_LARGE past STORE_PART_MAX. */
int store_part_commit(store_put_t *p, store_part_t *meta);

typedef struct store_part_list_result {
    store_part_t *parts; /* ascending part numbers (in arena) */
    size_t nparts;
    bool truncated;
    uint32_t next_marker; /* last part number returned, when truncated */
} store_part_list_result_t;
/* Parts with numbers > marker, at most max_parts (clamped to 1..1000; STORE_MPU_MAX_PARTS
 * allowed, for Complete). -SE_NO_SUCH_UPLOAD. */
int store_part_list(store_t *s, sv_t bucket, sv_t key, sv_t upload_id, uint32_t marker,
                    size_t max_parts, arena_t *a, store_part_list_result_t *out);

typedef struct store_mpu_part_ref {
    uint32_t part_number;
    const char *etag; /* as the client sent it, without quotes; compared case-insensitively */
} store_mpu_part_ref_t;

/* Completes the upload with the given parts (ascending part numbers, checked). meta supplies
 * the object's checksum fields (the composite value is the caller's business) and may be NULL;
 * everything else comes from the upload's record. Inside one index transaction: every part
 * must exist with its ETag (-SE_INVALID_PART), all but the last >= the minimum part size
 * (-SE_ENTITY_TOO_SMALL), the total <= STORE_OBJECT_MAX (-SE_ENTITY_TOO_LARGE), cond holds
 * (-SE_PRECONDITION_FAILED); then the object record (a manifest of the parts' files) becomes
 * the current version exactly as a PUT's would (in a versioned bucket a new version), the
 * upload is removed and unused parts are queued for GC. -SE_INVALID_PART_ORDER,
 * -SE_NO_SUCH_UPLOAD. On success *out is the new object's record (etag =
 * hex(MD5(part MD5s))-N, size, mtime, version_id; strings in arena a). */
int store_mpu_complete(store_t *s, sv_t bucket, sv_t key, sv_t upload_id,
                       const store_mpu_part_ref_t *parts, size_t nparts,
                       const store_obj_t *meta, const store_cond_t *cond, arena_t *a,
                       store_obj_t *out);

typedef struct store_mpu_list_opts {
    sv_t prefix;
    sv_t delimiter;
    sv_t key_marker;       /* uploads of keys > key_marker ... */
    sv_t upload_id_marker; /* ... or of key == key_marker with an id > this one */
    size_t max_uploads;    /* 0..1000; uploads + common prefixes */
} store_mpu_list_opts_t;

typedef struct store_mpu_info {
    store_obj_t obj; /* key, owner, storage class, checksum_algo and _type, mtime_ms =
                      * initiated */
    char upload_id[STORE_UPLOAD_ID_LEN + 1];
} store_mpu_info_t;

typedef struct store_mpu_list_result {
    store_mpu_info_t *uploads; /* by key, then initiation order */
    size_t nuploads;
    sv_t *prefixes;
    size_t nprefixes;
    bool truncated;
    sv_t next_key;       /* when truncated: last key (or common prefix) returned */
    sv_t next_upload_id; /* when truncated on an upload: its id, else empty */
} store_mpu_list_result_t;
int store_mpu_list(store_t *s, sv_t bucket, const store_mpu_list_opts_t *o, arena_t *a,
                   store_mpu_list_result_t *out);

/* The parts of a completed multipart object (GetObjectAttributes' ObjectParts). Complete
 * records in the manifest each part's number and, when the object has an additional checksum
 * whose algorithm every part's value has too, each part's value. */
typedef struct store_obj_part {
    uint32_t part_number; /* as uploaded (a record written before part numbers were kept: its
                           * position, 1..N) */
    uint64_t size;
    const char *checksum; /* base64 value in the object's checksum_algo (in the arena), or NULL
                           * when the record keeps none */
} store_obj_part_t;

typedef struct store_obj_parts {
    store_obj_part_t *parts; /* ascending part numbers (in the arena) */
    size_t nparts;
    bool truncated;       /* more parts follow */
    uint32_t next_marker; /* the last part number returned (the marker when none) */
} store_obj_parts_t;

/* store_get's lookup (same version rules, results and errors; no data opened) together with a
 * page of the object's parts: numbers > marker, at most max_parts (clamped to 0..1000), read in
 * the same transaction; with STORE_PARTS_BY_POSITION, the parts after the first `marker` ones
 * (GET ?partNumber=N counts parts by position). A single-part object has none (nparts 0).
 * Costs O(parts) decoding of the record; no data is read, whatever the object's size. */
#define STORE_PARTS_BY_POSITION 1u
int store_get_parts(store_t *s, sv_t bucket, sv_t key, const char *version_id, uint32_t marker,
                    size_t max_parts, unsigned flags, arena_t *a, store_obj_t *out,
                    store_obj_parts_t *parts);

#endif
