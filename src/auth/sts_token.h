/* auth/sts_token: the opaque session token handed out with STS temporary credentials.
 *
 * A token is base64( 0x01 | nonce[12] | AES-256-GCM(ciphertext) | tag[16] ) over a small JSON
 * claims object, encrypted and authenticated with a 32-byte server key (kept in the store's
 * "config" namespace, created at first start). A token cannot be forged or altered without
 * the key; it names the temporary access key it belongs to, so it cannot be moved to another
 * key either. The secret access key is not in the token: it lives in the session record.
 *
 * Pure (OpenSSL only, no I/O); thread-safe. Tested in tests/unit/test_sts_token.c.
 */
#ifndef STRATA_AUTH_STS_TOKEN_H
#define STRATA_AUTH_STS_TOKEN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

#define STS_TOKEN_KEY_LEN 32
#define STS_TOKEN_MAX 4608 /* encoded length limit: longer input is refused unread */
#define STS_TOKEN_TAGS_MAX 2048 /* session tags, as compact JSON, that fit in a token */

typedef struct sts_claims {
    char access_key[32]; /* ASIA... */
    int64_t expires;     /* seconds since the epoch */
    char account[16];    /* the account whose identity the session carries */
    char arn[512];       /* principal ARN: assumed-role ARN, or the user/root ARN */
    char session[72];    /* RoleSessionName, "" for GetSessionToken */
    /* Session tags as a compact JSON array of [key, value] pairs ('[["team","a"]]'), sealed
     * with the rest so they cannot be altered. has_tags false: the token carries no tag claim
     * (tokens issued before tags were sealed; their tags are in the session record). */
    bool has_tags;
    char tags[STS_TOKEN_TAGS_MAX + 1];
} sts_claims_t;

/* Encodes c into out (NUL-terminated base64, at most STS_TOKEN_MAX bytes incl. the NUL).
 * 0, or -EINVAL if the claims do not fit or c->tags (when has_tags) is not an array of
 * [string, string] pairs. */
int sts_token_encode(const uint8_t key[STS_TOKEN_KEY_LEN], const sts_claims_t *c,
                     char out[STS_TOKEN_MAX]);

/* Decodes and authenticates token. Returns 0 with *c filled; -SE_INVALID_TOKEN for anything
 * malformed, forged or altered; -SE_EXPIRED_TOKEN (with *c filled) when c->expires <= now. */
int sts_token_decode(const uint8_t key[STS_TOKEN_KEY_LEN], sv_t token, int64_t now,
                     sts_claims_t *c);

#endif
