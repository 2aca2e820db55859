/* S3 additional checksums, computed incrementally as the body streams.
 *
 * CRC32 and CRC32C come from ISA-L (SIMD). CRC64NVME (CRC-64/NVME: reflected polynomial
 * 0x9A6C9329AC4BC9B5, init and xorout all-ones) has no ISA-L 2.30 entry point: the crc64_*
 * functions there are ECMA-182, ISO and Jones, none of which yields the NVME check value
 * 0xAE8B14860A799888 for "123456789". So it is a portable slicing-by-8 table CRC here; the
 * tables are built once, on first use, under pthread_once. S3 reports every CRC as the
 * base64 of its big-endian bytes, and SHA1/SHA256 as the base64 of the raw digest.
 */
#include "core/checksum.h"

#include <isa-l/crc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    enum cksum_algo algo;
    const char *name;
    const char *header;
    size_t raw_len;
} algos[] = {
    {CKSUM_CRC32, "CRC32", "x-amz-checksum-crc32", 4},
    {CKSUM_CRC32C, "CRC32C", "x-amz-checksum-crc32c", 4},
    {CKSUM_CRC64NVME, "CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    {CKSUM_SHA1, "SHA1", "x-amz-checksum-sha1", 20},
    {CKSUM_SHA256, "SHA256", "x-amz-checksum-sha256", 32},
};

enum cksum_algo cksum_algo_parse(sv_t name)
{
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
        if (sv_caseeq_cstr(name, algos[i].name))
            return algos[i].algo;
    return CKSUM_NONE;
}

const char *cksum_algo_name(enum cksum_algo a)
{
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
        if (algos[i].algo == a)
            return algos[i].name;
    return "";
}

const char *cksum_header_name(enum cksum_algo a)
{
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
        if (algos[i].algo == a)
            return algos[i].header;
    return "";
}

size_t cksum_raw_len(enum cksum_algo a)
{
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
        if (algos[i].algo == a)
            return algos[i].raw_len;
    return 0;
}

/* ---- CRC-64/NVME, slicing-by-8 ---- */

#define CRC64NVME_POLY_REFL 0x9A6C9329AC4BC9B5ULL

static uint64_t crc64nvme_tab[8][256];
static pthread_once_t crc64nvme_once = PTHREAD_ONCE_INIT;

static void crc64nvme_init_tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64NVME_POLY_REFL : c >> 1;
        crc64nvme_tab[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc64nvme_tab[t][i] = (crc64nvme_tab[t - 1][i] >> 8) ^ crc64nvme_tab[0][crc64nvme_tab[t - 1][i] & 0xff];
}

/* Chains like zlib's crc32(): start with 0, feed the previous result back in. */
static uint64_t crc64nvme(uint64_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&crc64nvme_once, crc64nvme_init_tables);
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        c ^= w;
        c = crc64nvme_tab[7][c & 0xff] ^ crc64nvme_tab[6][(c >> 8) & 0xff] ^
            crc64nvme_tab[5][(c >> 16) & 0xff] ^ crc64nvme_tab[4][(c >> 24) & 0xff] ^
            crc64nvme_tab[3][(c >> 32) & 0xff] ^ crc64nvme_tab[2][(c >> 40) & 0xff] ^
            crc64nvme_tab[1][(c >> 48) & 0xff] ^ crc64nvme_tab[0][c >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ crc64nvme_tab[0][(c ^ *p++) & 0xff];
    return ~c;
}

/* ---- incremental interface ---- */

void cksum_init(cksum_t *c, enum cksum_algo a)
{
    memset(c, 0, sizeof *c);
    c->algo = a;
    if (a == CKSUM_SHA1)
        digest_init_sha1(&c->d);
    else if (a == CKSUM_SHA256)
        digest_init_sha256(&c->d);
}

void cksum_update(cksum_t *c, const void *p, size_t n)
{
    if (n == 0)
        return;
    switch (c->algo) {
    case CKSUM_CRC32:
        c->crc = crc32_gzip_refl((uint32_t)c->crc, p, n);
        break;
    case CKSUM_CRC32C:
        c->crc = crc32c((uint32_t)c->crc, p, n);
        break;
    case CKSUM_CRC64NVME:
        c->crc = crc64nvme(c->crc, p, n);
        break;
    case CKSUM_SHA1:
    case CKSUM_SHA256:
        digest_update(&c->d, p, n);
        break;
    case CKSUM_NONE:
        break;
    }
}

void cksum_final_b64(cksum_t *c, char *out)
{
    uint8_t raw[64];
    size_t n = 0;
    switch (c->algo) {
    case CKSUM_CRC32:
    case CKSUM_CRC32C:
        n = 4;
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)(c->crc >> (8 * (n - 1 - i)));
        break;
    case CKSUM_CRC64NVME:
        n = 8;
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)(c->crc >> (8 * (n - 1 - i)));
        break;
    case CKSUM_SHA1:
    case CKSUM_SHA256:
        n = c->d.ctx ? digest_final(&c->d, raw) : 0;
        break;
    case CKSUM_NONE:
        break;
    }
    base64_encode(raw, n, out);
    out[4 * ((n + 2) / 3)] = 0;
}

void cksum_free(cksum_t *c)
{
    if (c->d.ctx)
        digest_free(&c->d);
}

/* ---- values and multipart combination ---- */

bool cksum_is_crc(enum cksum_algo a)
{
    return a == CKSUM_CRC32 || a == CKSUM_CRC32C || a == CKSUM_CRC64NVME;
}

int cksum_b64_decode(enum cksum_algo a, sv_t b64, uint8_t *raw)
{
    size_t want = cksum_raw_len(a);
    if (!want || b64.len != 4 * ((want + 2) / 3))
        return -1;
    uint8_t tmp[48];
    long n = base64_decode(b64, tmp, sizeof tmp);
    if (n < 0 || (size_t)n != want)
        return -1;
    memcpy(raw, tmp, want);
    return 0;
}

uint64_t cksum_crc_from_raw(enum cksum_algo a, const uint8_t *raw)
{
    size_t n = a == CKSUM_CRC64NVME ? 8 : 4;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | raw[i];
    return v;
}

static void crc_to_raw(enum cksum_algo a, uint64_t crc, uint8_t *raw)
{
    size_t n = a == CKSUM_CRC64NVME ? 8 : 4;
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(crc >> (8 * (n - 1 - i)));
}

/* Polynomials in the reflected bit order: bit (w-1) is x^0, bit 0 is x^(w-1). */
struct crc_poly {
    uint64_t poly;
    unsigned width;
};

static bool crc_poly_of(enum cksum_algo a, struct crc_poly *p)
{
    switch (a) {
    case CKSUM_CRC32:
        *p = (struct crc_poly){0xEDB88320u, 32};
        return true;
    case CKSUM_CRC32C:
        *p = (struct crc_poly){0x82F63B78u, 32};
        return true;
    case CKSUM_CRC64NVME:
        *p = (struct crc_poly){CRC64NVME_POLY_REFL, 64};
        return true;
    default:
        return false;
    }
}

/* a * b modulo the polynomial, both in reflected order. */
static uint64_t crc_mulmod(const struct crc_poly *p, uint64_t a, uint64_t b)
{
    uint64_t m = 1ull << (p->width - 1), r = 0;
    while (m) {
        if (a & m)
            r ^= b;
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ p->poly : b >> 1;
    }
    return r;
}

uint64_t cksum_crc_combine(enum cksum_algo a, uint64_t crc1, uint64_t crc2, uint64_t len2)
{
    struct crc_poly p;
    if (!crc_poly_of(a, &p) || len2 == 0)
        return len2 == 0 && cksum_is_crc(a) ? crc1 : crc2;
    /* x^(8·len2) by square-and-multiply: sq runs through x^8, x^16, x^32, ... */
    uint64_t xn = 1ull << (p.width - 1); /* x^0 */
    uint64_t sq = 1ull << (p.width - 1 - 8); /* x^8 */
    for (uint64_t n = len2; n; n >>= 1) {
        if (n & 1)
            xn = crc_mulmod(&p, xn, sq);
        sq = crc_mulmod(&p, sq, sq);
    }
    return crc_mulmod(&p, crc1, xn) ^ crc2;
}

int cksum_composite_b64(enum cksum_algo a, const sv_t *part_b64, size_t nparts, char *out)
{
    if (a == CKSUM_NONE || a == CKSUM_CRC64NVME || nparts == 0)
        return -1;
    cksum_t c;
    cksum_init(&c, a);
    for (size_t i = 0; i < nparts; i++) {
        uint8_t raw[48];
        if (cksum_b64_decode(a, part_b64[i], raw) != 0) {
            cksum_free(&c);
            return -1;
        }
        cksum_update(&c, raw, cksum_raw_len(a));
    }
    cksum_final_b64(&c, out);
    size_t l = strlen(out);
    snprintf(out + l, 64 - l, "-%zu", nparts);
    return 0;
}

int cksum_full_object_b64(enum cksum_algo a, const sv_t *part_b64, const uint64_t *part_sizes,
                          size_t nparts, char *out)
{
    if (!cksum_is_crc(a) || nparts == 0)
        return -1;
    uint64_t crc = 0;
    for (size_t i = 0; i < nparts; i++) {
        uint8_t raw[48];
        if (cksum_b64_decode(a, part_b64[i], raw) != 0)
            return -1;
        uint64_t pc = cksum_crc_from_raw(a, raw);
        crc = i == 0 ? pc : cksum_crc_combine(a, crc, pc, part_sizes[i]);
    }
    uint8_t raw[8];
    crc_to_raw(a, crc, raw);
    size_t n = a == CKSUM_CRC64NVME ? 8 : 4;
    base64_encode(raw, n, out);
    out[4 * ((n + 2) / 3)] = 0;
    return 0;
}
