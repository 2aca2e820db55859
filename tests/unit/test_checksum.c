/* core/checksum: known answers for every algorithm, incremental feeding, names. */
#include <stdlib.h>

#include "core/checksum.h"
#include "t.h"

static void b64_of(enum cksum_algo a, const void *p, size_t n, char *out)
{
    cksum_t c;
    cksum_init(&c, a);
    cksum_update(&c, p, n);
    cksum_final_b64(&c, out);
}

/* Same data fed one byte, then 7 bytes, then the rest: must equal the one-shot value. */
static void b64_split(enum cksum_algo a, const char *p, size_t n, char *out)
{
    cksum_t c;
    cksum_init(&c, a);
    size_t i = 0;
    cksum_update(&c, p, n ? 1 : 0);
    i = n ? 1 : 0;
    size_t k = n - i > 7 ? 7 : n - i;
    cksum_update(&c, p + i, k);
    i += k;
    cksum_update(&c, p + i, n - i);
    cksum_final_b64(&c, out);
}

TEST(test_check_values)
{
    char out[64];
    /* The catalogue check values over "123456789", as big-endian base64. */
    b64_of(CKSUM_CRC32, "123456789", 9, out);
    CHECK_EQ_STR(out, "y/Q5Jg=="); /* 0xCBF43926 */
    b64_of(CKSUM_CRC32C, "123456789", 9, out);
    CHECK_EQ_STR(out, "4waSgw=="); /* 0xE3069283 */
    b64_of(CKSUM_CRC64NVME, "123456789", 9, out);
    CHECK_EQ_STR(out, "rosUhgp5mIg="); /* 0xAE8B14860A799888 */
    /* FIPS 180 "abc" vectors. */
    b64_of(CKSUM_SHA1, "abc", 3, out);
    CHECK_EQ_STR(out, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="); /* a9993e36... */
    b64_of(CKSUM_SHA256, "abc", 3, out);
    CHECK_EQ_STR(out, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="); /* ba7816bf... */
    b64_of(CKSUM_CRC32, "abc", 3, out);
    CHECK_EQ_STR(out, "NSRBwg==");
}

TEST(test_empty)
{
    char out[64];
    b64_of(CKSUM_CRC32, "", 0, out);
    CHECK_EQ_STR(out, "AAAAAA==");
    b64_of(CKSUM_CRC32C, "", 0, out);
    CHECK_EQ_STR(out, "AAAAAA==");
    b64_of(CKSUM_CRC64NVME, "", 0, out);
    CHECK_EQ_STR(out, "AAAAAAAAAAA=");
    b64_of(CKSUM_SHA1, "", 0, out);
    CHECK_EQ_STR(out, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    b64_of(CKSUM_SHA256, "", 0, out);
    CHECK_EQ_STR(out, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

/* The CRC32C trailer of AWS's trailing-header example: 66560 bytes of 'a' -> sOO8/Q==. */
TEST(test_aws_trailer_example_crc32c)
{
    char *a = malloc(66560), out[64];
    memset(a, 'a', 66560);
    b64_of(CKSUM_CRC32C, a, 66560, out);
    CHECK_EQ_STR(out, "sOO8/Q==");
    free(a);
}

TEST(test_incremental)
{
    static const char text[] = "The quick brown fox jumps over the lazy dog, again and again and again.";
    size_t n = sizeof text - 1;
    enum cksum_algo all[] = {CKSUM_CRC32, CKSUM_CRC32C, CKSUM_CRC64NVME, CKSUM_SHA1, CKSUM_SHA256};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char one[64], split[64];
        b64_of(all[i], text, n, one);
        b64_split(all[i], text, n, split);
        CHECK_EQ_STR(one, split);
    }
    /* Every prefix length through the 8-byte CRC64 fast path and its tail loop. */
    for (size_t k = 0; k <= n; k++) {
        char one[64], split[64];
        b64_of(CKSUM_CRC64NVME, text, k, one);
        b64_split(CKSUM_CRC64NVME, text, k, split);
        CHECK_EQ_STR(one, split);
    }
}

TEST(test_names)
{
    CHECK_EQ_INT(cksum_algo_parse(SV("crc32")), CKSUM_CRC32);
    CHECK_EQ_INT(cksum_algo_parse(SV("CRC32C")), CKSUM_CRC32C);
    CHECK_EQ_INT(cksum_algo_parse(SV("crc64nvme")), CKSUM_CRC64NVME);
    CHECK_EQ_INT(cksum_algo_parse(SV("SHA1")), CKSUM_SHA1);
    CHECK_EQ_INT(cksum_algo_parse(SV("sha256")), CKSUM_SHA256);
    CHECK_EQ_INT(cksum_algo_parse(SV("md5")), CKSUM_NONE);
    CHECK_EQ_INT(cksum_algo_parse(SV("")), CKSUM_NONE);
    CHECK_EQ_STR(cksum_algo_name(CKSUM_CRC64NVME), "CRC64NVME");
    CHECK_EQ_STR(cksum_header_name(CKSUM_CRC32C), "x-amz-checksum-crc32c");
    CHECK_EQ_INT(cksum_raw_len(CKSUM_CRC32), 4);
    CHECK_EQ_INT(cksum_raw_len(CKSUM_CRC64NVME), 8);
    CHECK_EQ_INT(cksum_raw_len(CKSUM_SHA1), 20);
    CHECK_EQ_INT(cksum_raw_len(CKSUM_SHA256), 32);
}

TEST(test_abandoned)
{
    cksum_t c;
    cksum_init(&c, CKSUM_SHA256);
    cksum_update(&c, "x", 1);
    cksum_free(&c); /* no leak under ASan */
    cksum_init(&c, CKSUM_CRC32);
    cksum_free(&c);
}


/* crc(A ‖ B) from crc(A), crc(B), len(B) equals the CRC of the concatenation, for every split of
 * a text (including empty parts) and every CRC algorithm. */
TEST(test_crc_combine)
{
    static const char text[] = "Combining CRCs without the data: multiply by x^(8n) mod P, then xor.";
    size_t n = sizeof text - 1;
    enum cksum_algo crcs[] = {CKSUM_CRC32, CKSUM_CRC32C, CKSUM_CRC64NVME};
    for (size_t k = 0; k < 3; k++) {
        for (size_t cut = 0; cut <= n; cut++) {
            cksum_t a, b, whole;
            cksum_init(&a, crcs[k]);
            cksum_init(&b, crcs[k]);
            cksum_init(&whole, crcs[k]);
            cksum_update(&a, text, cut);
            cksum_update(&b, text + cut, n - cut);
            cksum_update(&whole, text, n);
            CHECK(cksum_crc_combine(crcs[k], a.crc, b.crc, n - cut) == whole.crc);
        }
    }
    /* a long second part exercises many squarings: 1 MiB of 'a' */
    size_t big = 1 << 20;
    char *buf = malloc(big + 3);
    memset(buf, 'a', big + 3);
    for (size_t k = 0; k < 3; k++) {
        cksum_t a, b, whole;
        cksum_init(&a, crcs[k]);
        cksum_init(&b, crcs[k]);
        cksum_init(&whole, crcs[k]);
        cksum_update(&a, buf, 3);
        cksum_update(&b, buf + 3, big);
        cksum_update(&whole, buf, big + 3);
        CHECK(cksum_crc_combine(crcs[k], a.crc, b.crc, big) == whole.crc);
    }
    free(buf);
}

/* Values computed independently (Python zlib/hashlib) for parts "hello " and "world". */
TEST(test_multipart_values)
{
    char out[64];
    sv_t crc_parts[] = {SV("7YH59g=="), SV("OncRQw==")};
    uint64_t sizes[] = {6, 5};
    CHECK_EQ_INT(cksum_full_object_b64(CKSUM_CRC32, crc_parts, sizes, 2, out), 0);
    CHECK_EQ_STR(out, "DUoRhQ=="); /* crc32("hello world") */
    CHECK_EQ_INT(cksum_composite_b64(CKSUM_CRC32, crc_parts, 2, out), 0);
    CHECK_EQ_STR(out, "1Fu2mQ==-2");
    sv_t sha_parts[] = {SV("XjI1qDRuWkWF+MWFYvUFK4/iajuxIuHpbHZ4SWTfxGE="),
                        SV("SG6kYiTRu0+2gPNPfJrZao8k7Ii+c+qOWmxlJg6cuKc=")};
    CHECK_EQ_INT(cksum_composite_b64(CKSUM_SHA256, sha_parts, 2, out), 0);
    CHECK_EQ_STR(out, "Zhie15keHg/OBlOZxcoF/BXCgYZaeimRvdZnwUZqkaQ=-2");
    /* full object for the other CRCs: equal to the one-shot value */
    enum cksum_algo crcs[] = {CKSUM_CRC32C, CKSUM_CRC64NVME};
    for (size_t k = 0; k < 2; k++) {
        char p1[64], p2[64], whole[64];
        b64_of(crcs[k], "hello ", 6, p1);
        b64_of(crcs[k], "world", 5, p2);
        b64_of(crcs[k], "hello world", 11, whole);
        sv_t parts[] = {sv_from_cstr(p1), sv_from_cstr(p2)};
        CHECK_EQ_INT(cksum_full_object_b64(crcs[k], parts, sizes, 2, out), 0);
        CHECK_EQ_STR(out, whole);
    }
    /* one part: the composite still gets "-1" */
    CHECK_EQ_INT(cksum_composite_b64(CKSUM_CRC32, crc_parts, 1, out), 0);
    CHECK(strlen(out) > 2 && strcmp(out + strlen(out) - 2, "-1") == 0);
    /* refusals: SHA full-object, CRC64NVME composite, malformed part values */
    CHECK_EQ_INT(cksum_full_object_b64(CKSUM_SHA256, sha_parts, sizes, 2, out), -1);
    CHECK_EQ_INT(cksum_composite_b64(CKSUM_CRC64NVME, crc_parts, 2, out), -1);
    sv_t bad[] = {SV("7YH59g"), SV("OncRQw==")};
    CHECK_EQ_INT(cksum_composite_b64(CKSUM_CRC32, bad, 2, out), -1);
    CHECK_EQ_INT(cksum_full_object_b64(CKSUM_CRC32, bad, sizes, 2, out), -1);
}

TEST(test_b64_decode)
{
    uint8_t raw[48];
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_CRC32, SV("y/Q5Jg=="), raw), 0);
    CHECK_EQ_INT(cksum_crc_from_raw(CKSUM_CRC32, raw), 0xCBF43926u);
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_CRC32, SV("y/Q5Jg"), raw), -1);     /* unpadded */
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_CRC32, SV("cbf43926"), raw), -1);   /* hex */
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_CRC32C, SV("rosUhgp5mIg="), raw), -1); /* 8 bytes */
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_CRC64NVME, SV("rosUhgp5mIg="), raw), 0);
    CHECK(cksum_crc_from_raw(CKSUM_CRC64NVME, raw) == 0xAE8B14860A799888ull);
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_SHA1, SV("qZk+NkcGgWq6PiVxeFDCbJzQ2J0="), raw), 0);
    CHECK_EQ_INT(cksum_b64_decode(CKSUM_NONE, SV("AAAA"), raw), -1);
    CHECK(cksum_is_crc(CKSUM_CRC64NVME) && !cksum_is_crc(CKSUM_SHA1));
}

int main(void)
{
    RUN(test_check_values);
    RUN(test_empty);
    RUN(test_aws_trailer_example_crc32c);
    RUN(test_incremental);
    RUN(test_names);
    RUN(test_abandoned);
    RUN(test_crc_combine);
    RUN(test_multipart_values);
    RUN(test_b64_decode);
    return t_summary("checksum");
}
