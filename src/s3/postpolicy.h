/* s3/postpolicy: the policy document of a browser-based upload (POST Object), as a pure check.
 *
 * The policy is base64 JSON: {"expiration": ISO-8601, "conditions": [...]}; a condition is
 * {"field": "value"} (exact match), ["eq", "$field", "value"], ["starts-with", "$field",
 * "prefix"] or ["content-length-range", min, max]. Field names compare case-insensitively.
 * Every form field but policy, the signature fields, file and x-ignore-* must be named by a
 * condition; the "bucket" condition compares with the addressed bucket, and the policy must
 * have one. */
#ifndef STRATA_S3_POSTPOLICY_H
#define STRATA_S3_POSTPOLICY_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/str.h"

#define POSTPOLICY_MAX_CONDITIONS 64

enum postcond_op { PC_EQ, PC_STARTS_WITH, PC_LENGTH_RANGE };

typedef struct postcond {
    enum postcond_op op;
    char *field; /* lower-case, without '$' */
    char *value;
    int64_t min, max; /* PC_LENGTH_RANGE */
    char *text;       /* the condition as JSON, for error messages */
} postcond_t;

typedef struct postpolicy {
    int64_t expiration; /* seconds since the epoch */
    postcond_t cond[POSTPOLICY_MAX_CONDITIONS];
    size_t ncond;
    bool has_range;
    int64_t range_min, range_max; /* the last content-length-range */
} postpolicy_t;

/* Decodes and parses the base64 policy (arena-allocated strings). 0, or
 * -SE_INVALID_POLICY_DOCUMENT with *msg S3's message ("Invalid Policy: Invalid JSON.", ...).
 * Does not check the expiration (postpolicy_check does). */
int postpolicy_parse(arena_t *a, sv_t b64, postpolicy_t *out, const char **msg);

/* Checks expiration against now, then the form fields (names as sent, values) and the bucket
 * against the conditions. 0, or -SE_ACCESS_DENIED with *msg ("Invalid according to Policy:
 * Policy expired." / "...Policy Condition failed: [...]" / "...Extra input fields: x"). */
int postpolicy_check(arena_t *a, const postpolicy_t *p, int64_t now, const kv_t *fields,
                     size_t nfields, sv_t bucket, const char **msg);

/* Whether the form field is exempt from the every-field-has-a-condition rule. */
bool postpolicy_exempt(sv_t name);

#endif
