#include "core/hash.h"

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

void sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL))
        abort();
}

void md5(const void *p, size_t n, uint8_t out[16])
{
    unsigned len = 16;
    if (!EVP_Digest(p, n, out, &len, EVP_md5(), NULL))
        abort();
}

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
    unsigned len = 32;
    if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len))
        abort();
}

static void digest_init(digest_t *d, const EVP_MD *md)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, md, NULL))
        abort();
    d->ctx = c;
}

void digest_init_md5(digest_t *d)
{
    digest_init(d, EVP_md5());
}

void digest_init_sha256(digest_t *d)
{
    digest_init(d, EVP_sha256());
}

void digest_init_sha1(digest_t *d)
{
    digest_init(d, EVP_sha1());
}

void digest_update(digest_t *d, const void *p, size_t n)
{
    if (n && !EVP_DigestUpdate(d->ctx, p, n))
        abort();
}

unsigned digest_final(digest_t *d, uint8_t *out)
{
    unsigned len = 0;
    if (!EVP_DigestFinal_ex(d->ctx, out, &len))
        abort();
    digest_free(d);
    return len;
}

void digest_free(digest_t *d)
{
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
    /* ISA-L's crc32_iscsi takes and returns the non-inverted register, and an int length:
     * feed it at most 1 GiB at a time so large buffers are not truncated. */
    const unsigned char *b = p;
    uint32_t r = ~crc;
    while (n > 0) {
        size_t k = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        r = crc32_iscsi((unsigned char *)b, (int)k, r);
        b += k;
        n -= k;
    }
    return ~r;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int hv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(sv_t in, uint8_t *out, size_t outlen)
{
    if (in.len != 2 * outlen)
        return -1;
    for (size_t i = 0; i < outlen; i++) {
        int h = hv(in.p[2 * i]), l = hv(in.p[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long base64_decode(sv_t in, uint8_t *out, size_t outcap)
{
    if (in.len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in.p[i + k];
            if (c == '=' && i + 4 == in.len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad) {
                return -1;
            } else if ((v[k] = b64v(c)) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if (o + (size_t)(3 - pad) > outcap)
            return -1;
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    return (long)o;
}

bool ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void random_bytes(void *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1)
        abort();
}
