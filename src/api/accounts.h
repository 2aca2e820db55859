/* api/accounts: accounts and their access keys, kept in the store's metadata namespaces.
 *
 * An account has a 12-digit id, a name, a canonical user id (64 hex), display name and email.
 * Access keys map to (account, secret, status). The root account is created at first start;
 * its keys come from STRATA_ROOT_ACCESS_KEY / STRATA_ROOT_SECRET_KEY or are generated once and
 * written to DIR/root-credentials (mode 0600). Thread-safe (the store is).
 */
#ifndef STRATA_API_ACCOUNTS_H
#define STRATA_API_ACCOUNTS_H
#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"
#include "store/store.h"

typedef struct account {
    char id[16];            /* 12 digits */
    char name[128];
    char canonical_id[72];  /* 64 hex */
    char display_name[128];
    char email[256];
    bool root;              /* the server's root (admin) account */
} account_t;

typedef struct access_key {
    char access_key[132];
    char secret[132];
    char account_id[16];
    bool active;
    char user[72];   /* IAM user name the key belongs to; "" for the account's root user */
    int64_t created; /* seconds since the epoch (0 if unknown) */
} access_key_t;

/* Ensures the root account and its keys exist. env_access/env_secret may be NULL. When keys
 * are generated, they are printed once to stdout and saved to DIR/root-credentials. */
int accounts_bootstrap(store_t *s, const char *data_dir, const char *env_access,
                       const char *env_secret);
int accounts_get(store_t *s, sv_t id, account_t *out);           /* -ENOENT */
int accounts_by_canonical(store_t *s, sv_t canonical_id, account_t *out); /* -ENOENT */
int accounts_key_get(store_t *s, sv_t access_key, access_key_t *out); /* -ENOENT */
/* Creates an account. Empty/NULL fields are generated (id, canonical id, keys). -EEXIST when
 * the name, id, canonical id or access key is taken. Fills *acct and *key. */
int accounts_create(store_t *s, const char *name, const char *access_key, const char *secret,
                    const char *canonical_id, const char *display_name, const char *email,
                    account_t *acct, access_key_t *key);

/* Writes (creates or replaces) an access key record, e.g. an IAM user's key. */
int accounts_key_put(store_t *s, const access_key_t *k);
int accounts_key_delete(store_t *s, sv_t access_key); /* -ENOENT */

/* Validation used by create (exposed for tests). */
bool accounts_valid_access_key(const char *k);
bool accounts_valid_secret(const char *s);

#endif
