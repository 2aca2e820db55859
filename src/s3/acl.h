/* s3/acl: the wire forms of an access control list, parsed without resolving anyone (pure,
 * fuzzed by tests/fuzz/fuzz_acl.c). api/s3_acl.c resolves the grantees (canonical ids and email
 * addresses to accounts) and stores the result.
 *
 * Two forms carry grants:
 *   - x-amz-grant-{read,write,read-acp,write-acp,full-control} headers: comma-separated
 *     `id="canonical id"`, `uri="group URI"` or `emailAddress="address"`; the quotes are
 *     optional (S3 takes `id=123` too);
 *   - the AccessControlPolicy XML body of Put{Bucket,Object}Acl:
 *       <AccessControlPolicy><Owner><ID>..</ID></Owner><AccessControlList>
 *         <Grant><Grantee xsi:type="CanonicalUser|Group|AmazonCustomerByEmail">
 *           <ID>..</ID> | <URI>..</URI> | <EmailAddress>..</EmailAddress></Grantee>
 *         <Permission>READ|WRITE|READ_ACP|WRITE_ACP|FULL_CONTROL</Permission></Grant>...
 *       </AccessControlList></AccessControlPolicy>
 * Errors are S3's: InvalidArgument with its message and ArgumentName/ArgumentValue for headers
 * ("Argument format not recognized", "Invalid group uri") and for a body's unknown group
 * ("Invalid group uri", Group/URI); MalformedACLError for a body S3's schema refuses (not XML,
 * no Owner or AccessControlList, an unknown Permission or grantee type, a grantee without its
 * value). At most S3ACL_MAX_GRANTS grants in all. Values point into the input or the arena.
 */
#ifndef STRATA_S3_ACL_H
#define STRATA_S3_ACL_H
#include <stddef.h>

#include "core/arena.h"
#include "core/str.h"

#define S3ACL_MAX_GRANTS 100

/* Permission bits, as api/authz_int.h's enum acl_perm: READ 1, WRITE 2, READ_ACP 4,
 * WRITE_ACP 8, FULL_CONTROL 15 (all four). */
#define S3ACL_READ 1u
#define S3ACL_WRITE 2u
#define S3ACL_READ_ACP 4u
#define S3ACL_WRITE_ACP 8u
#define S3ACL_FULL_CONTROL 15u

#define S3ACL_URI_ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define S3ACL_URI_AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define S3ACL_URI_LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"

enum s3acl_kind {
    S3ACL_ID = 0, /* a canonical user id (not checked here) */
    S3ACL_URI,    /* one of the three group URIs above (checked) */
    S3ACL_EMAIL,  /* an email address (not checked here) */
};

typedef struct s3acl_grant {
    enum s3acl_kind kind;
    sv_t value; /* trimmed, without quotes (empty only from an empty XML element) */
    unsigned perm;
} s3acl_grant_t;

typedef struct s3acl_err {
    int rc;               /* -SE_INVALID_ARGUMENT or -SE_MALFORMED_ACL */
    const char *msg;      /* S3's message (static), NULL for the error's default */
    const char *arg_name; /* ArgumentName (NULL: none); ArgumentValue is arg_value */
    sv_t arg_value;
} s3acl_err_t;

/* Appends the grants of one x-amz-grant-* header value to out[*n..] (capacity
 * S3ACL_MAX_GRANTS). hname names the header in errors. 0, or -SE_INVALID_ARGUMENT with *e. */
int s3acl_parse_header(sv_t value, const char *hname, unsigned perm, s3acl_grant_t *out,
                       size_t *n, s3acl_err_t *e);

/* An AccessControlPolicy document -> its Owner/ID (trimmed, possibly empty: the caller checks
 * it names an account) and its grants (out: capacity S3ACL_MAX_GRANTS). 0, or
 * -SE_MALFORMED_ACL / -SE_INVALID_ARGUMENT with *e. */
int s3acl_parse_xml(arena_t *a, const char *p, size_t len, sv_t *owner_id, s3acl_grant_t *out,
                    size_t *n, s3acl_err_t *e);

/* Group URI -> 0 (and *which: 0 AllUsers, 1 AuthenticatedUsers, 2 LogDelivery), or -1. */
int s3acl_group(sv_t uri, int *which);

#endif
