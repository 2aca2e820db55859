/* auth/sts_token: sealing, tampering, expiry, wrong key. */
#include "auth/sts_token.h"
#include "core/err.h"
#include "core/hash.h"
#include "t.h"

#include <errno.h>
#include <string.h>

static uint8_t K1[32], K2[32];

static sts_claims_t sample(int64_t expires)
{
    sts_claims_t c = {0};
    strcpy(c.access_key, "ASIAABCDEFGHIJKLMNOP");
    c.expires = expires;
    strcpy(c.account, "123456789012");
    strcpy(c.arn, "arn:aws:sts::123456789012:assumed-role/reader/s1");
    strcpy(c.session, "s1");
    return c;
}

TEST(round_trip)
{
    sts_claims_t c = sample(2000000000), d;
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 1000, &d), 0);
    CHECK_EQ_STR(d.access_key, c.access_key);
    CHECK_EQ_INT(d.expires, c.expires);
    CHECK_EQ_STR(d.account, c.account);
    CHECK_EQ_STR(d.arn, c.arn);
    CHECK_EQ_STR(d.session, c.session);
}

TEST(two_tokens_differ)
{
    sts_claims_t c = sample(2000000000);
    char a[STS_TOKEN_MAX], b[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, a), 0);
    CHECK_EQ_INT(sts_token_encode(K1, &c, b), 0);
    CHECK(strcmp(a, b) != 0); /* random nonce */
    CHECK(strstr(a, "123456789012") == NULL); /* not readable */
}

TEST(expired)
{
    sts_claims_t c = sample(5000), d;
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 4999, &d), 0);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 5000, &d), -SE_EXPIRED_TOKEN);
    CHECK_EQ_STR(d.access_key, c.access_key); /* claims still filled for the caller */
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 9999, &d), -SE_EXPIRED_TOKEN);
}

TEST(tampered_every_byte)
{
    sts_claims_t c = sample(2000000000), d;
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    uint8_t raw[STS_TOKEN_MAX];
    long n = base64_decode(sv_from_cstr(tok), raw, sizeof raw);
    CHECK(n > 30);
    int accepted = 0;
    for (long i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            raw[i] ^= (uint8_t)(1u << bit);
            char t2[STS_TOKEN_MAX];
            base64_encode(raw, (size_t)n, t2);
            if (sts_token_decode(K1, sv_from_cstr(t2), 1000, &d) != -SE_INVALID_TOKEN)
                accepted++;
            raw[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ_INT(accepted, 0);
    /* truncated and extended */
    char t3[STS_TOKEN_MAX];
    base64_encode(raw, (size_t)n - 1, t3);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(t3), 1000, &d), -SE_INVALID_TOKEN);
    raw[n] = 0;
    base64_encode(raw, (size_t)n + 1, t3);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(t3), 1000, &d), -SE_INVALID_TOKEN);
}

TEST(wrong_key_and_garbage)
{
    sts_claims_t c = sample(2000000000), d;
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK_EQ_INT(sts_token_decode(K2, sv_from_cstr(tok), 1000, &d), -SE_INVALID_TOKEN);
    CHECK_EQ_INT(sts_token_decode(K1, SV(""), 1000, &d), -SE_INVALID_TOKEN);
    CHECK_EQ_INT(sts_token_decode(K1, SV("not base64!"), 1000, &d), -SE_INVALID_TOKEN);
    CHECK_EQ_INT(sts_token_decode(K1, SV("AAAA"), 1000, &d), -SE_INVALID_TOKEN);
    char big[STS_TOKEN_MAX + 8];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(big), 1000, &d), -SE_INVALID_TOKEN);
}

TEST(oversized_claims_refused)
{
    sts_claims_t c = sample(2000000000);
    memset(c.arn, 'x', sizeof c.arn - 1);
    c.arn[sizeof c.arn - 1] = 0;
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0); /* 511-char ARN still fits */
    sts_claims_t d;
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 1000, &d), 0);
    CHECK_EQ_STR(d.arn, c.arn);
}

TEST(session_tags_sealed)
{
    sts_claims_t c = sample(2000000000), d;
    c.has_tags = true;
    strcpy(c.tags, "[[\"team\",\"data\"],[\"Cost-Center\",\"\"]]");
    char tok[STS_TOKEN_MAX];
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 1000, &d), 0);
    CHECK(d.has_tags);
    CHECK_EQ_STR(d.tags, c.tags);
    /* no tag claim (the shape of tokens issued before tags were sealed): decodes, no tags */
    c.has_tags = false;
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 1000, &d), 0);
    CHECK(!d.has_tags);
    CHECK_EQ_STR(d.tags, "");
    /* malformed tag claims are refused at encode */
    c.has_tags = true;
    strcpy(c.tags, "{\"team\":\"data\"}");
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), -EINVAL);
    strcpy(c.tags, "[[\"team\"]]");
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), -EINVAL);
    /* the largest tag claim fits with the largest ARN */
    memset(c.arn, 'x', sizeof c.arn - 1);
    c.arn[sizeof c.arn - 1] = 0;
    size_t n = 0;
    n += (size_t)sprintf(c.tags + n, "[");
    while (n + 40 < STS_TOKEN_TAGS_MAX)
        n += (size_t)sprintf(c.tags + n, "%s[\"k%zu\",\"vvvvvvvvvvvvvvvvvvvv\"]", n > 1 ? "," : "", n);
    sprintf(c.tags + n, "]");
    CHECK_EQ_INT(sts_token_encode(K1, &c, tok), 0);
    CHECK(strlen(tok) < STS_TOKEN_MAX);
    CHECK_EQ_INT(sts_token_decode(K1, sv_from_cstr(tok), 1000, &d), 0);
    CHECK_EQ_STR(d.tags, c.tags);
}

int main(void)
{
    random_bytes(K1, sizeof K1);
    random_bytes(K2, sizeof K2);
    RUN(round_trip);
    RUN(two_tokens_differ);
    RUN(expired);
    RUN(tampered_every_byte);
    RUN(wrong_key_and_garbage);
    RUN(oversized_claims_refused);
    RUN(session_tags_sealed);
    return t_summary("sts_token");
}
