/* S3 additional checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, computed incrementally,
 * reported base64-encoded as S3 does (x-amz-checksum-<algo>). Composite ("-N") values for
 * multipart come later. */
#ifndef STRATA_CORE_CHECKSUM_H
#define STRATA_CORE_CHECKSUM_H
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

#endif
