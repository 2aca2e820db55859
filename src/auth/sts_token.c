/* Session tokens: JSON claims sealed with AES-256-GCM. The version byte and a fixed context
 * string are authenticated as AAD, so a token made for another purpose with the same key
 * would not decode. Nonces are random (96 bits): with the volumes STS sees, collisions are
 * not a concern. */
#include "auth/sts_token.h"
#include "core/err.h"
#include "core/hash.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 1
#define NONCE 12
#define TAG 16
#define AAD "strata-sts-token-v1"
#define MAX_PLAIN (1200 + STS_TOKEN_TAGS_MAX)

static int seal(const uint8_t key[32], const uint8_t nonce[NONCE], const uint8_t *in, int n,
                uint8_t *out, uint8_t tag[TAG])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, rc = -EINVAL;
    uint8_t aad[1 + sizeof AAD] = {VERSION};
    memcpy(aad + 1, AAD, sizeof AAD);
    if (ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) == 1 &&
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
        EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)sizeof aad) == 1 &&
        EVP_EncryptUpdate(ctx, out, &len, in, n) == 1 && EVP_EncryptFinal_ex(ctx, out + len, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int open_(const uint8_t key[32], const uint8_t nonce[NONCE], const uint8_t *in, int n,
                 const uint8_t tag[TAG], uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, rc = -1;
    uint8_t aad[1 + sizeof AAD] = {VERSION};
    memcpy(aad + 1, AAD, sizeof AAD);
    if (ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)sizeof aad) == 1 &&
        EVP_DecryptUpdate(ctx, out, &len, in, n) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, (void *)tag) == 1 &&
        EVP_DecryptFinal_ex(ctx, out + len, &len) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* [[key, value], ...] with string members only. */
static bool tags_ok(json_t *t)
{
    if (!json_is_array(t))
        return false;
    size_t i;
    json_t *p;
    json_array_foreach(t, i, p)
        if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_string(json_array_get(p, 0)) ||
            !json_is_string(json_array_get(p, 1)))
            return false;
    return true;
}

int sts_token_encode(const uint8_t key[STS_TOKEN_KEY_LEN], const sts_claims_t *c,
                     char out[STS_TOKEN_MAX])
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "k", c->access_key, "e",
                          (json_int_t)c->expires, "a", c->account, "p", c->arn, "s", c->session);
    if (!o)
        return -EINVAL;
    if (c->has_tags) {
        json_t *t = json_loads(c->tags, JSON_REJECT_DUPLICATES, NULL);
        if (!tags_ok(t)) {
            json_decref(t);
            json_decref(o);
            return -EINVAL;
        }
        if (json_object_set_new(o, "t", t) != 0) { /* consumes t */
            json_decref(o);
            return -EINVAL;
        }
    }
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt)
        return -ENOMEM;
    size_t n = strlen(txt);
    int rc = -EINVAL;
    uint8_t raw[1 + NONCE + MAX_PLAIN + TAG];
    if (n <= MAX_PLAIN) {
        raw[0] = VERSION;
        random_bytes(raw + 1, NONCE);
        rc = seal(key, raw + 1, (const uint8_t *)txt, (int)n, raw + 1 + NONCE, raw + 1 + NONCE + n);
        if (rc == 0)
            base64_encode(raw, 1 + NONCE + n + TAG, out);
    }
    free(txt);
    return rc;
}

static void copy(char *dst, size_t cap, json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    snprintf(dst, cap, "%s", v ? v : "");
}

int sts_token_decode(const uint8_t key[STS_TOKEN_KEY_LEN], sv_t token, int64_t now,
                     sts_claims_t *c)
{
    memset(c, 0, sizeof *c);
    if (token.len == 0 || token.len >= STS_TOKEN_MAX)
        return -SE_INVALID_TOKEN;
    uint8_t raw[STS_TOKEN_MAX];
    long n = base64_decode(token, raw, sizeof raw);
    if (n < 1 + NONCE + TAG + 2 || raw[0] != VERSION)
        return -SE_INVALID_TOKEN;
    size_t ct = (size_t)n - 1 - NONCE - TAG;
    uint8_t plain[STS_TOKEN_MAX];
    if (open_(key, raw + 1, raw + 1 + NONCE, (int)ct, raw + 1 + NONCE + ct, plain) != 0)
        return -SE_INVALID_TOKEN;
    json_t *o = json_loadb((const char *)plain, ct, 0, NULL);
    json_t *e = json_object_get(o, "e");
    if (!json_is_object(o) || !json_is_integer(e) || !json_is_string(json_object_get(o, "k"))) {
        json_decref(o);
        return -SE_INVALID_TOKEN;
    }
    copy(c->access_key, sizeof c->access_key, o, "k");
    copy(c->account, sizeof c->account, o, "a");
    copy(c->arn, sizeof c->arn, o, "p");
    copy(c->session, sizeof c->session, o, "s");
    c->expires = (int64_t)json_integer_value(e);
    json_t *t = json_object_get(o, "t");
    if (t) { /* sealed by us, so well-formed; checked anyway (fail closed) */
        char *txt = tags_ok(t) ? json_dumps(t, JSON_COMPACT) : NULL;
        if (!txt || strlen(txt) > STS_TOKEN_TAGS_MAX) {
            free(txt);
            json_decref(o);
            memset(c, 0, sizeof *c);
            return -SE_INVALID_TOKEN;
        }
        memcpy(c->tags, txt, strlen(txt) + 1);
        c->has_tags = true;
        free(txt);
    }
    json_decref(o);
    return c->expires <= now ? -SE_EXPIRED_TOKEN : 0;
}
