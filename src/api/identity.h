/* api/identity: what IAM says about one IAM user or role, compiled once and shared: its
 * identity-based policies (inline, attached managed, and for a user those of its groups), its
 * permissions boundary and its tags. The authorization steps (api/authz.c for S3, api/iam.c and
 * api/sts.c for IAM and STS calls) read it on every request of an IAM user or role session, so
 * it is cached instead of re-read and re-parsed from JSON each time.
 *
 * Cache: keyed by (store, account, user or role, name ignoring case). An entry is valid while
 * iam_generation() (api/iam_store.h, bumped after every IAM record write) has not moved since
 * it was loaded; any IAM change drops every entry at its next use. Entries are immutable and
 * reference-counted, so a request keeps the one it got while another thread replaces it.
 *
 * Fail closed: a document that does not compile, a boundary policy that cannot be found or a
 * store error gives an entry with `broken` set, which callers treat as "deny everything".
 *
 * Threads: any; the cache is behind one mutex, loading happens outside it.
 */
#ifndef STRATA_API_IDENTITY_H
#define STRATA_API_IDENTITY_H
#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"
#include "policy/policy.h"
#include "store/store.h"

typedef struct ident {
    policy_t **identity; /* the identity-based policies, all of them */
    size_t nidentity;
    policy_t *boundary;  /* the permissions boundary, or NULL */
    char *boundary_arn;  /* its ARN, or NULL */
    kv_t *tags;          /* the user's or role's IAM tags */
    size_t ntags;
    bool broken;         /* something could not be loaded or compiled: deny */
} ident_t;

/* The entry of user or role `name` in account acct (a reference: ident_release it).
 * 0; -ENOENT if the user or role does not exist; another negative error if the store failed.
 * A returned entry may be `broken` (see above). */
int ident_get(store_t *s, const char *acct, const char *name, bool is_role, const ident_t **out);
void ident_release(const ident_t *id); /* NULL is fine */

#endif
