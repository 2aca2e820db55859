/* policy/match: wildcard matching, ARN matching, condition-key lookup and policy variables.
 *
 * Wildcards: '*' matches any run (including empty), '?' exactly one byte. The matcher is the
 * usual iterative one that remembers only the last '*', so its cost is O(len(pattern) *
 * len(text)) at worst and never exponential, whatever a document or a key contains.
 *
 * Variables (Version 2012-10-17 only): ${key} and ${key, 'default'} are replaced by the
 * key's single value; ${*}, ${?} and ${$} stand for the literal characters. Everything a
 * variable produces is literal: a '*' inside a user name or an s3:prefix value never acts as
 * a wildcard. The expansion carries a per-byte "literal" mask for that. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool sv_caseeq(sv_t a, sv_t b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.p[i]) != lower(b.p[i]))
            return false;
    return true;
}

bool sv_istarts(sv_t a, const char *prefix)
{
    size_t n = strlen(prefix);
    if (a.len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.p[i]) != lower(prefix[i]))
            return false;
    return true;
}

/* Glob over a pattern with an optional literal mask. */
static bool glob_mask(const char *p, const unsigned char *lit, size_t plen, const char *t,
                      size_t tlen, bool ci)
{
    size_t pi = 0, ti = 0, star_p = (size_t)-1, star_t = 0;
    while (ti < tlen) {
        if (pi < plen && p[pi] == '*' && !(lit && lit[pi])) {
            star_p = pi++;
            star_t = ti;
            continue;
        }
        if (pi < plen &&
            ((p[pi] == '?' && !(lit && lit[pi])) ||
             (ci ? lower(p[pi]) == lower(t[ti]) : p[pi] == t[ti]))) {
            pi++;
            ti++;
            continue;
        }
        if (star_p != (size_t)-1) {
            pi = star_p + 1;
            ti = ++star_t;
            continue;
        }
        return false;
    }
    while (pi < plen && p[pi] == '*' && !(lit && lit[pi]))
        pi++;
    return pi == plen;
}

bool policy_glob(sv_t pattern, sv_t text, bool ci)
{
    return glob_mask(pattern.p, NULL, pattern.len, text.p, text.len, ci);
}

/* ---- expanded patterns ---------------------------------------------------------------- */

void xpat_init(struct xpat *x)
{
    x->p = x->small;
    x->lit = x->small_lit;
    x->len = 0;
    x->cap = sizeof(x->small);
}

void xpat_release(struct xpat *x)
{
    if (x->p != x->small) {
        free(x->p);
        free(x->lit);
    }
    xpat_init(x);
}

static void xpat_put(struct xpat *x, const char *s, size_t n, bool literal)
{
    if (x->len + n > x->cap) {
        size_t cap = x->cap;
        while (cap < x->len + n)
            cap *= 2;
        char *np = xmalloc(cap);
        unsigned char *nl = xmalloc(cap);
        memcpy(np, x->p, x->len);
        memcpy(nl, x->lit, x->len);
        if (x->p != x->small) {
            free(x->p);
            free(x->lit);
        }
        x->p = np;
        x->lit = nl;
        x->cap = cap;
    }
    memcpy(x->p + x->len, s, n);
    memset(x->lit + x->len, literal ? 1 : 0, n);
    x->len += n;
}

static sv_t sv_strip(sv_t s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.len--;
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

bool xpat_expand(struct xpat *x, sv_t s, bool vars, const policy_ctx_t *ctx)
{
    x->len = 0;
    if (!vars || !memchr(s.p ? s.p : "", '$', s.len)) {
        xpat_put(x, s.p, s.len, false);
        return true;
    }
    size_t i = 0;
    while (i < s.len) {
        if (s.p[i] == '$' && i + 1 < s.len && s.p[i + 1] == '{') {
            const char *end = memchr(s.p + i + 2, '}', s.len - i - 2);
            if (end) {
                sv_t body = {s.p + i + 2, (size_t)(end - (s.p + i + 2))};
                size_t next = (size_t)(end - s.p) + 1;
                if (body.len == 1 && (body.p[0] == '*' || body.p[0] == '?' || body.p[0] == '$')) {
                    xpat_put(x, body.p, 1, true);
                    i = next;
                    continue;
                }
                /* ${key, 'default'} */
                sv_t key = body, def = SV_NULL;
                bool has_def = false;
                const char *comma = memchr(body.p, ',', body.len);
                if (comma) {
                    key = (sv_t){body.p, (size_t)(comma - body.p)};
                    sv_t d = sv_strip((sv_t){comma + 1, body.len - key.len - 1});
                    if (d.len >= 2 && d.p[0] == '\'' && d.p[d.len - 1] == '\'') {
                        def = (sv_t){d.p + 1, d.len - 2};
                        has_def = true;
                    }
                }
                key = sv_strip(key);
                const sv_t *vals;
                size_t n;
                sv_t scratch;
                if (ctx_key(ctx, key, &vals, &n, &scratch) && n == 1) {
                    xpat_put(x, vals[0].p, vals[0].len, true);
                } else if (has_def) {
                    xpat_put(x, def.p, def.len, true);
                } else {
                    return false; /* absent or multi-valued key: element does not match */
                }
                i = next;
                continue;
            }
        }
        xpat_put(x, s.p + i, 1, false);
        i++;
    }
    return true;
}

bool xpat_glob(const struct xpat *x, sv_t text, bool ci)
{
    return glob_mask(x->p, x->lit, x->len, text.p, text.len, ci);
}

/* Splits at the first five ':' (only separators, not literal colons from variables).
 * Returns false if there are fewer than five. */
static bool arn_split(const char *p, const unsigned char *lit, size_t len, size_t off[6],
                      size_t end[6])
{
    int part = 0;
    off[0] = 0;
    for (size_t i = 0; i < len && part < 5; i++) {
        if (p[i] == ':' && !(lit && lit[i])) {
            end[part] = i;
            off[++part] = i + 1;
        }
    }
    if (part < 5)
        return false;
    end[5] = len;
    return true;
}

bool xpat_arn(const struct xpat *x, sv_t arn, bool wild)
{
    if (x->len == 1 && x->p[0] == '*' && !x->lit[0] && wild)
        return true;
    size_t po[6], pe[6], to[6], te[6];
    if (!arn_split(arn.p, NULL, arn.len, to, te))
        return false;
    if (!arn_split(x->p, x->lit, x->len, po, pe))
        return false;
    for (int i = 0; i < 6; i++) {
        const char *pp = x->p + po[i];
        const unsigned char *pl = x->lit + po[i];
        size_t pn = pe[i] - po[i];
        const char *tp = arn.p + to[i];
        size_t tn = te[i] - to[i];
        if (wild) {
            if (!glob_mask(pp, pl, pn, tp, tn, false))
                return false;
        } else if (pn != tn || memcmp(pp, tp, pn) != 0) {
            return false;
        }
    }
    return true;
}

/* ---- context keys --------------------------------------------------------------------- */

/* Key names compare case-insensitively. The tag-key part after '/' of S3 object tag keys is
 * case-sensitive (S3 tag keys are); IAM tag keys (PrincipalTag, RequestTag, ResourceTag) are
 * not. */
static bool key_eq(sv_t a, sv_t b)
{
    if (a.len != b.len)
        return false;
    const char *slash = memchr(a.p, '/', a.len);
    if (!slash)
        return sv_caseeq(a, b);
    size_t pre = (size_t)(slash - a.p);
    if (!sv_caseeq((sv_t){a.p, pre}, (sv_t){b.p, pre}))
        return false;
    sv_t ap = {a.p, pre};
    bool cs = sv_caseeq(ap, SV("s3:ExistingObjectTag")) || sv_caseeq(ap, SV("s3:RequestObjectTag"));
    sv_t as = {a.p + pre, a.len - pre}, bs = {b.p + pre, b.len - pre};
    return cs ? sv_eq(as, bs) : sv_caseeq(as, bs);
}

static bool one(sv_t v, const sv_t **vals, size_t *n, sv_t *scratch)
{
    if (!v.p || !v.len)
        return false;
    *scratch = v;
    *vals = scratch;
    *n = 1;
    return true;
}

bool policy_keys_find(const policy_key_t *keys, size_t nkeys, sv_t key, const sv_t **vals,
                      size_t *n)
{
    for (size_t i = 0; i < nkeys; i++) {
        if (key_eq(keys[i].key, key)) {
            *vals = keys[i].values;
            *n = keys[i].nvalues;
            return true;
        }
    }
    return false;
}

bool ctx_key(const policy_ctx_t *ctx, sv_t key, const sv_t **vals, size_t *n, sv_t *scratch)
{
    *vals = NULL;
    *n = 0;
    if (policy_keys_find(ctx->keys, ctx->nkeys, key, vals, n)) {
        if (*n)
            return true;
        *vals = NULL;
        return false;
    }
    bool anon = ctx->type == PRINCIPAL_ANONYMOUS;
    if (sv_caseeq(key, SV("aws:username")))
        return ctx->type == PRINCIPAL_USER && one(ctx->username, vals, n, scratch);
    if (sv_caseeq(key, SV("aws:userid")))
        return one(ctx->userid, vals, n, scratch);
    if (sv_caseeq(key, SV("aws:PrincipalArn")))
        return !anon && one(ctx->type == PRINCIPAL_ASSUMED_ROLE && ctx->role_arn.len
                                ? ctx->role_arn
                                : ctx->arn,
                            vals, n, scratch);
    if (sv_caseeq(key, SV("aws:PrincipalAccount")))
        return !anon && one(ctx->account, vals, n, scratch);
    if (sv_caseeq(key, SV("aws:PrincipalType"))) {
        static const char *const names[] = {"Anonymous", "Account", "User", "AssumedRole",
                                            "FederatedUser", "Service"};
        if (ctx->type == PRINCIPAL_SERVICE)
            return false; /* AWS does not set it for service principals */
        return one(sv_from_cstr(names[ctx->type]), vals, n, scratch);
    }
    if (sv_istarts(key, "aws:PrincipalTag/")) {
        sv_t tk = {key.p + 17, key.len - 17};
        for (size_t i = 0; i < ctx->nprincipal_tags; i++)
            if (sv_caseeq(ctx->principal_tags[i].name, tk)) {
                *scratch = ctx->principal_tags[i].value;
                *vals = scratch;
                *n = 1;
                return true;
            }
        return false;
    }
    if (ctx->lookup) {
        const sv_t *v = NULL;
        size_t nv = 0;
        if (ctx->lookup(ctx->lookup_arg, key, &v, &nv) == 0 && nv > 0 && v) {
            *vals = v;
            *n = nv;
            return true;
        }
    }
    return false;
}
