/* POST Object policy documents (see postpolicy.h). jansson does the JSON; this file only
 * gives it S3's meaning and S3's error messages. */
#include "s3/postpolicy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/err.h"
#include "core/hash.h"

#define MAX_POLICY_B64 (64 * 1024)

static char *lower_dup(arena_t *a, const char *s, size_t n)
{
    char *d = arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    return d;
}

/* "2026-11-21T15:00:00Z", with or without a fraction of a second. */
static int parse_expiration(const char *s, int64_t *out)
{
    char buf[32];
    size_t n = strlen(s);
    if (n < 20 || n >= sizeof buf || s[n - 1] != 'Z')
        return -1;
    memcpy(buf, s, 19); /* YYYY-MM-DDTHH:MM:SS */
    buf[19] = 0;
    if (n > 20) {
        if (s[19] != '.')
            return -1;
        for (size_t i = 20; i < n - 1; i++)
            if (s[i] < '0' || s[i] > '9')
                return -1;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || *end)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static char *json_text(arena_t *a, json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        return arena_strndup(a, "", 0);
    char *r = arena_strndup(a, t, strlen(t));
    free(t);
    /* S3 prints conditions with a space after commas */
    return r;
}

static int bad(const char **msg, const char *m)
{
    *msg = m;
    return -SE_INVALID_POLICY_DOCUMENT;
}

static int add_cond(postpolicy_t *out, postcond_t c, const char **msg)
{
    if (out->ncond == POSTPOLICY_MAX_CONDITIONS)
        return bad(msg, "Invalid Policy: Too many conditions.");
    out->cond[out->ncond++] = c;
    return 0;
}

static bool int_of(json_t *j, int64_t *v)
{
    if (json_is_integer(j)) {
        *v = (int64_t)json_integer_value(j);
        return true;
    }
    if (json_is_string(j)) { /* some SDKs send the bounds as strings */
        const char *s = json_string_value(j);
        char *end;
        if (!*s)
            return false;
        long long x = strtoll(s, &end, 10);
        if (*end)
            return false;
        *v = x;
        return true;
    }
    return false;
}

int postpolicy_parse(arena_t *a, sv_t b64, postpolicy_t *out, const char **msg)
{
    memset(out, 0, sizeof *out);
    *msg = NULL;
    b64 = sv_trim(b64);
    if (b64.len == 0 || b64.len > MAX_POLICY_B64)
        return bad(msg, "Invalid Policy: Invalid JSON.");
    uint8_t *raw = arena_alloc(a, b64.len);
    long rl = base64_decode(b64, raw, b64.len);
    if (rl <= 0)
        return bad(msg, "Invalid Policy: Invalid Base64 Encoding.");
    json_error_t je;
    json_t *root = json_loadb((const char *)raw, (size_t)rl, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return bad(msg, "Invalid Policy: Invalid JSON.");
    }
    int rc = 0;
    json_t *exp = json_object_get(root, "expiration");
    json_t *conds = json_object_get(root, "conditions");
    if (!exp) {
        rc = bad(msg, "Invalid Policy: Policy missing expiration.");
        goto out;
    }
    if (!json_is_string(exp) || parse_expiration(json_string_value(exp), &out->expiration) != 0) {
        rc = bad(msg, "Invalid Policy: Invalid 'expiration' value: must be ISO 8601.");
        goto out;
    }
    if (!conds) {
        rc = bad(msg, "Invalid Policy: Policy missing conditions.");
        goto out;
    }
    if (!json_is_array(conds)) {
        rc = bad(msg, "Invalid Policy: Invalid 'conditions' value: must be a list.");
        goto out;
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        if (json_is_object(c)) {
            const char *k;
            json_t *v;
            if (json_object_size(c) != 1) {
                rc = bad(msg, "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must "
                              "have exactly one property specified.");
                goto out;
            }
            json_object_foreach(c, k, v) {
                if (!json_is_string(v)) {
                    rc = bad(msg, "Invalid Policy: Invalid Simple-Condition: value must be a "
                                  "string.");
                    goto out;
                }
                const char *f = k[0] == '$' ? k + 1 : k;
                postcond_t pc = {PC_EQ, lower_dup(a, f, strlen(f)),
                                 arena_strndup(a, json_string_value(v), json_string_length(v)),
                                 0, 0, json_text(a, c)};
                if ((rc = add_cond(out, pc, msg)) != 0)
                    goto out;
            }
            continue;
        }
        if (!json_is_array(c) || json_array_size(c) == 0 ||
            !json_is_string(json_array_get(c, 0))) {
            rc = bad(msg, "Invalid Policy: Invalid 'conditions' value: each condition must be "
                          "an object or a list.");
            goto out;
        }
        const char *op = json_string_value(json_array_get(c, 0));
        /* operation names, like field names, are case-insensitive: ceph s3-tests'
         * test_post_object_case_insensitive_condition_fields sends "StArTs-WiTh" and expects
         * the upload to succeed (only the top-level "expiration"/"conditions" keys are exact) */
        if (strcasecmp(op, "content-length-range") == 0) {
            int64_t lo, hi;
            if (json_array_size(c) != 3 || !int_of(json_array_get(c, 1), &lo) ||
                !int_of(json_array_get(c, 2), &hi) || lo < 0 || hi < lo) {
                rc = bad(msg, "Invalid Policy: Invalid content-length-range condition.");
                goto out;
            }
            postcond_t pc = {PC_LENGTH_RANGE, NULL, NULL, lo, hi, json_text(a, c)};
            if ((rc = add_cond(out, pc, msg)) != 0)
                goto out;
            out->has_range = true;
            out->range_min = lo;
            out->range_max = hi;
            continue;
        }
        enum postcond_op o;
        if (strcasecmp(op, "eq") == 0)
            o = PC_EQ;
        else if (strcasecmp(op, "starts-with") == 0)
            o = PC_STARTS_WITH;
        else {
            *msg = arena_sprintf(a, "Invalid Policy: Invalid Condition: unknown operation "
                                    "'%.64s'.", op);
            rc = -SE_INVALID_POLICY_DOCUMENT;
            goto out;
        }
        json_t *f = json_array_get(c, 1), *v = json_array_get(c, 2);
        if (json_array_size(c) != 3 || !json_is_string(f) || !json_is_string(v) ||
            json_string_value(f)[0] != '$' || json_string_length(f) < 2) {
            rc = bad(msg, "Invalid Policy: Invalid Condition: the field must be a string "
                          "starting with '$', the value a string.");
            goto out;
        }
        postcond_t pc = {o, lower_dup(a, json_string_value(f) + 1, json_string_length(f) - 1),
                         arena_strndup(a, json_string_value(v), json_string_length(v)), 0, 0,
                         json_text(a, c)};
        if ((rc = add_cond(out, pc, msg)) != 0)
            goto out;
    }
out:
    json_decref(root);
    return rc;
}

bool postpolicy_exempt(sv_t n)
{
    return sv_caseeq_cstr(n, "policy") || sv_caseeq_cstr(n, "x-amz-signature") ||
           sv_caseeq_cstr(n, "signature") || sv_caseeq_cstr(n, "awsaccesskeyid") ||
           sv_caseeq_cstr(n, "file") ||
           (n.len >= 9 && sv_caseeq_cstr((sv_t){n.p, 9}, "x-ignore-"));
}

static bool field_value(const kv_t *fields, size_t n, const char *name, sv_t *v)
{
    for (size_t i = 0; i < n; i++)
        if (sv_caseeq_cstr(fields[i].name, name)) {
            *v = fields[i].value;
            return true;
        }
    return false;
}

static bool starts_with(sv_t v, const char *pfx)
{
    size_t n = strlen(pfx);
    return v.len >= n && memcmp(v.p, pfx, n) == 0;
}

int postpolicy_check(arena_t *a, const postpolicy_t *p, int64_t now, const kv_t *fields,
                     size_t nfields, sv_t bucket, const char **msg)
{
    *msg = NULL;
    if (now > p->expiration) {
        *msg = "Invalid according to Policy: Policy expired.";
        return -SE_ACCESS_DENIED;
    }
    for (size_t i = 0; i < p->ncond; i++) {
        const postcond_t *c = &p->cond[i];
        if (c->op == PC_LENGTH_RANGE)
            continue; /* the caller checks the file's size at the end */
        sv_t v = SV("");
        if (strcmp(c->field, "bucket") == 0)
            v = bucket;
        else
            (void)field_value(fields, nfields, c->field, &v);
        bool ok;
        if (c->op == PC_EQ) {
            ok = sv_eq_cstr(v, c->value);
        } else if (strcmp(c->field, "content-type") == 0) {
            /* each of a comma-separated list of types must match */
            ok = true;
            sv_t rest = v, item;
            bool more = true;
            while (more && ok) {
                rest = sv_split(rest, ',', &item, &more);
                ok = starts_with(sv_trim(item), c->value);
            }
        } else {
            ok = starts_with(v, c->value);
        }
        if (!ok) {
            *msg = arena_sprintf(a, "Invalid according to Policy: Policy Condition failed: %s",
                                 c->text);
            return -SE_ACCESS_DENIED;
        }
    }
    /* The bucket is an implicit field: the policy must name it (S3 refuses a policy that
     * could be replayed against any bucket the signer can write). */
    bool bucket_named = false;
    for (size_t j = 0; j < p->ncond && !bucket_named; j++)
        bucket_named = p->cond[j].field && strcmp(p->cond[j].field, "bucket") == 0;
    if (!bucket_named) {
        *msg = arena_sprintf(a, "Invalid according to Policy: Policy Condition failed: "
                                "[\"eq\", \"$bucket\", \"%.*s\"]",
                             (int)(bucket.len > 63 ? 63 : bucket.len), bucket.p);
        return -SE_ACCESS_DENIED;
    }
    for (size_t i = 0; i < nfields; i++) {
        sv_t n = fields[i].name;
        if (postpolicy_exempt(n))
            continue;
        bool named = false;
        for (size_t j = 0; j < p->ncond && !named; j++)
            named = p->cond[j].field && sv_caseeq_cstr(n, p->cond[j].field);
        if (!named) {
            *msg = arena_sprintf(a, "Invalid according to Policy: Extra input fields: %.*s",
                                 (int)(n.len > 128 ? 128 : n.len), n.p);
            return -SE_ACCESS_DENIED;
        }
    }
    return 0;
}
