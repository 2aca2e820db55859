/* S3 additional checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, computed incrementally,
 * reported base64-encoded as S3 does (x-amz-checksum-<algo>), and the multipart combinations
 * (composite "-N" values, full-object CRCs combined from the parts' CRCs). */
#ifndef STRATA_CORE_CHECKSUM_H
#define STRATA_CORE_CHECKSUM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/str.h"

enum cksum_algo { CKSUM_NONE = 0, CKSUM_CRC32, CKSUM_CRC32C, CKSUM_CRC64NVME, CKSUM_SHA1, CKSUM_SHA256 };

typedef struct cksum {
    enum cksum_algo algo;
    uint64_t crc;
    digest_t d; /* SHA1/SHA256 */
} cksum_t;

/* "CRC32" / "crc32" ... -> algo; CKSUM_NONE if unknown. */
enum cksum_algo cksum_algo_parse(sv_t name);
const char *cksum_algo_name(enum cksum_algo a);   /* "CRC32", ... */
const char *cksum_header_name(enum cksum_algo a); /* "x-amz-checksum-crc32", ... */
size_t cksum_raw_len(enum cksum_algo a);          /* 4, 4, 8, 20, 32 */

void cksum_init(cksum_t *c, enum cksum_algo a);
void cksum_update(cksum_t *c, const void *p, size_t n);
/* Writes the base64 value (NUL-terminated) into out (>= 48 bytes); frees any digest state. */
void cksum_final_b64(cksum_t *c, char *out);
void cksum_free(cksum_t *c); /* for abandoned ones */

/* ---- values and multipart combination (pure) ----
 * A checksum value on the wire is base64 of the raw bytes (CRCs big-endian). */

/* Decodes a base64 value of algorithm a: 0 and the raw bytes in raw (>= 32 bytes), or -1 if it
 * is not strict padded base64 of exactly cksum_raw_len(a) bytes (S3: "Value for
 * x-amz-checksum-<algo> header is invalid"). */
int cksum_b64_decode(enum cksum_algo a, sv_t b64, uint8_t *raw);
/* CRC value <-> raw big-endian bytes (CRC algorithms only). */
uint64_t cksum_crc_from_raw(enum cksum_algo a, const uint8_t *raw);
bool cksum_is_crc(enum cksum_algo a);

/* CRC combination: given crc(A), crc(B) and len(B), returns crc(A ‖ B) without the data,
 * by multiplying crc(A) by x^(8·len(B)) modulo the polynomial (zlib's crc32_combine method,
 * O(log len) polynomial products). For CRC32, CRC32C and CRC64NVME (all reflected, init and
 * xorout all-ones); returns crc2 for other algorithms. */
uint64_t cksum_crc_combine(enum cksum_algo a, uint64_t crc1, uint64_t crc2, uint64_t len2);

/* Multipart checksums, as S3 computes them on CompleteMultipartUpload:
 *  COMPOSITE:   base64(algo(raw(part 1) ‖ raw(part 2) ‖ ...)) + "-N"   (CRC32, CRC32C, SHA1,
 *               SHA256; S3 has no composite CRC64NVME)
 *  FULL_OBJECT: the CRC of the whole object, combined from the parts' CRCs and sizes (CRC32,
 *               CRC32C, CRC64NVME only)
 * part_b64[i] are the parts' base64 values in part order. out needs >= 64 bytes. Return 0, or
 * -1 if a part value is malformed or the algorithm cannot be combined that way. */
int cksum_composite_b64(enum cksum_algo a, const sv_t *part_b64, size_t nparts, char *out);
int cksum_full_object_b64(enum cksum_algo a, const sv_t *part_b64, const uint64_t *part_sizes,
                          size_t nparts, char *out);

#endif
