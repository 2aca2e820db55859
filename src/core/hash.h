/* Digests, MACs and encodings used across Strata (thin wrappers over OpenSSL 3 and ISA-L). */
#ifndef STRATA_CORE_HASH_H
#define STRATA_CORE_HASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

void sha256(const void *p, size_t n, uint8_t out[32]);
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]);
void md5(const void *p, size_t n, uint8_t out[16]);

/* Incremental digests. _init allocates the OpenSSL context; _final frees it (so does _free,
 * for abandoned ones). */
typedef struct {
    void *ctx;  /* EVP_MD_CTX * */
    void *pipe; /* struct digest_pipe *, after digest_pipeline() */
} digest_t;
void digest_init_md5(digest_t *d);
void digest_init_sha256(digest_t *d);
void digest_init_sha1(digest_t *d);
void digest_update(digest_t *d, const void *p, size_t n);
unsigned digest_final(digest_t *d, uint8_t *out); /* returns digest length */
void digest_free(digest_t *d);
/* Moves the hashing of d (freshly initialised) to a thread of its own, for long streams on
 * one thread (a big PUT's MD5, ~600 MB/s per core, would otherwise serialise with receiving
 * and writing the body): digest_update then only copies into a ring of DIGEST_PIPE_BLOCKS
 * blocks of DIGEST_PIPE_BLOCK bytes (waiting when all are queued), and digest_update_ref only
 * queues a reference; _final and _free drain and join. At most DIGEST_PIPE_MAX pipelines
 * exist at once (bounded memory and threads); returns false, and d stays an ordinary digest,
 * beyond that or if no thread can be started. The result is the same digest. Only the thread
 * that owns d may call the digest_ functions. */
#define DIGEST_PIPE_BLOCK (256 * 1024)
#define DIGEST_PIPE_BLOCKS 4
#define DIGEST_PIPE_MAX 8
bool digest_pipeline(digest_t *d);
/* Zero-copy update: on a pipeline, queues p[0..n) to be hashed where it lies (after every
 * byte given before, by either call) and returns a mark; the caller must keep those bytes
 * unchanged and alive until digest_wait(d, mark) has returned (or d is finalised or freed,
 * which hash everything queued first). On an ordinary digest it hashes at once (returns 0).
 * Queued references are bounded (DIGEST_PIPE_REFS): past that, it waits for the thread. */
#define DIGEST_PIPE_REFS 128
uint64_t digest_update_ref(digest_t *d, const void *p, size_t n);
/* Waits until every byte queued up to mark is hashed; at once for an ordinary digest. Each
 * wait that has to sleep costs two thread wake-ups: wait for bigger steps where possible. */
void digest_wait(digest_t *d, uint64_t mark);
/* Whether every byte queued up to mark is hashed (never waits). */
bool digest_reached(const digest_t *d, uint64_t mark);
/* True when d hashes on a thread of its own (digest_pipeline succeeded). */
bool digest_is_pipeline(const digest_t *d);

/* CRC32C (Castagnoli), ISA-L. Chain with the previous value (start with 0). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* Lowercase hex of n bytes into out (2n+1 with the NUL). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly outlen bytes from 2*outlen hex chars; -1 on bad input. */
int hex_decode(sv_t in, uint8_t *out, size_t outlen);
/* Standard base64 with padding. out needs 4*((n+2)/3)+1 bytes. Returns length. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* Strict base64 decode; returns decoded length or -1. out needs in.len*3/4 bytes. */
long base64_decode(sv_t in, uint8_t *out, size_t outcap);

/* Constant-time equality of two byte strings (length is not secret). */
bool ct_eq(const void *a, const void *b, size_t n);
/* Cryptographically random bytes; aborts if the RNG fails. */
void random_bytes(void *p, size_t n);

#endif
