/* api/iam_store: IAM entities (users, groups, roles, managed policies), STS sessions and the
 * session-token key, persisted as JSON documents in the store's metadata namespaces.
 *
 * Layout (namespace: key -> JSON):
 *   iam-users    "<acct>/<lowercased name>" -> {name, path, id, arn, created, tags[],
 *                                               policies{name: doc}, attached[arn], keys[ak],
 *                                               boundary (policy ARN, absent: none)}
 *   iam-groups   "<acct>/<lowercased name>" -> {name, path, id, arn, created, members[name],
 *                                               policies{}, attached[]}
 *   iam-roles    "<acct>/<lowercased name>" -> {name, path, id, arn, created, trust, description,
 *                                               max_session, tags[], policies{}, attached[],
 *                                               boundary}
 *   iam-policies "<acct>/<lowercased name>" -> {name, path, id, arn, created, updated,
 *                                               description, default, next, versions[{id, doc,
 *                                               created}]}
 *   sts-sessions "<ASIA access key>"         -> {secret, account, kind, arn, id, role_arn, name,
 *                                               session, user, expires, policy, tags[]}
 *   keys         (api/accounts) an IAM user's key carries "user": name.
 *   config       "sts-token-key" -> 64 hex chars (created at first use)
 * Names are unique per account ignoring case, as in IAM; the record keeps the given case.
 *
 * Concurrency: read-modify-write sequences run under iam_lock() (one process-wide mutex; IAM
 * changes are rare). Every single put is durable when it returns (store_meta_put). A change that
 * touches two records (a user and its access key) writes the referenced record first, so a
 * crash in between leaves at worst an unreferenced key record, never a dangling reference.
 * Readers (authentication) take no lock.
 */
#ifndef STRATA_API_IAM_STORE_H
#define STRATA_API_IAM_STORE_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"
#include "store/store.h"

enum iam_kind { IAM_USER = 0, IAM_GROUP, IAM_ROLE, IAM_POLICY, IAM_KIND_COUNT };

void iam_lock(void);
void iam_unlock(void);

/* A counter bumped after every IAM record change (iam_put, iam_del), so caches of what the
 * records say (api/identity.c) can tell that they are stale. Starts at 1. */
uint64_t iam_generation(void);

/* *out is a new reference (json_decref it). -ENOENT if absent. */
int iam_get(store_t *s, enum iam_kind k, const char *acct, sv_t name, json_t **out);
int iam_put(store_t *s, enum iam_kind k, const char *acct, const char *name, json_t *rec);
int iam_del(store_t *s, enum iam_kind k, const char *acct, const char *name); /* -ENOENT */
/* All records of one kind in an account, in (lowercased) name order. cb gets a borrowed
 * reference; returning nonzero stops. */
int iam_list(store_t *s, enum iam_kind k, const char *acct, int (*cb)(void *ctx, json_t *rec),
             void *ctx);

/* The identity-based policy documents that apply to an IAM user (its inline policies, the
 * default versions of its attached managed policies, and the same for each group it belongs
 * to) or to a role (is_role: its inline and attached policies). cb gets each document (a
 * NUL-terminated JSON string, valid during the call); returning nonzero stops. -ENOENT if the
 * user or role does not exist. For the authorization step (api/authz.c). */
int iam_identity_policy_docs(store_t *s, const char *acct, const char *name, bool is_role,
                             int (*cb)(void *ctx, const char *doc), void *ctx);

/* The document of the default version of the account's managed policy `arn` (a new string:
 * free() it). -ENOENT if there is no such policy (or the ARN is another account's). */
int iam_managed_policy_doc(store_t *s, const char *acct, const char *arn, char **out);

/* STS sessions, keyed by their temporary access key id. */
int iam_session_put(store_t *s, const char *access_key, json_t *rec);
int iam_session_get(store_t *s, sv_t access_key, json_t **out); /* -ENOENT */
int iam_session_del(store_t *s, sv_t access_key);

/* The 32-byte session-token key: loaded from the store, created on first use. */
int iam_token_key(store_t *s, uint8_t key[32]);

/* Identifiers shaped like AWS's: prefix + uppercase letters/digits to `len` characters in all
 * ("AIDA", 21 -> AIDAXXXXXXXXXXXXXXXXX). out needs len + 1 bytes. */
void iam_gen_id(char *out, const char *prefix, size_t len);
void iam_gen_secret(char out[41]);

/* JSON field helpers. */
const char *iam_str(json_t *o, const char *k); /* "" when absent or not a string */
json_t *iam_obj(json_t *o, const char *k);    /* creates an empty object if absent */
json_t *iam_arr(json_t *o, const char *k);    /* creates an empty array if absent */

#endif
