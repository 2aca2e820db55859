/* policy/eval: one document against a request (policy_eval), AWS's decision logic across the
 * documents that apply to an S3 request (policy_decide), and the "is this bucket policy
 * public" test (policy_is_public).
 *
 * For resource-based documents a statement's Principal is matched with a strength, because
 * AWS treats grants differently by how the principal was named: naming the account only
 * delegates to the account's own IAM policies, naming a role lets the role's session and
 * boundary still limit it, naming the user or the session grants outright. */
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_int.h"

enum pmatch { PM_NONE = 0, PM_ACCOUNT, PM_ROLE, PM_WILD, PM_NAMED };

/* Account id of an IAM/STS ARN (arn:P:iam::ACCT:... / arn:P:sts::ACCT:...), or SV_NULL. */
static sv_t arn_account(sv_t v, sv_t *res)
{
    const char *p = v.p, *end = v.p + v.len;
    int colons = 0;
    const char *acct = NULL, *acct_end = NULL;
    for (; p < end; p++) {
        if (*p != ':')
            continue;
        colons++;
        if (colons == 4)
            acct = p + 1;
        if (colons == 5) {
            acct_end = p;
            break;
        }
    }
    if (!acct_end)
        return SV_NULL;
    *res = (sv_t){acct_end + 1, (size_t)(end - acct_end - 1)};
    return (sv_t){acct, (size_t)(acct_end - acct)};
}

static enum pmatch match_principal(const struct prin *pr, const policy_ctx_t *ctx)
{
    bool anon = ctx->type == PRINCIPAL_ANONYMOUS;
    bool root = ctx->type == PRINCIPAL_ROOT;
    switch (pr->type) {
    case PR_ANY:
        return PM_WILD;
    case PR_CANONICAL:
        if (anon || !ctx->canonical_id.len || !sv_eq(pr->value, ctx->canonical_id))
            return PM_NONE;
        return root ? PM_NAMED : PM_ACCOUNT;
    case PR_SERVICE:
        return ctx->type == PRINCIPAL_SERVICE && sv_eq(pr->value, ctx->service) ? PM_NAMED
                                                                                : PM_NONE;
    case PR_FEDERATED:
        return PM_NONE; /* identity providers: only meaningful in trust policies (not here) */
    case PR_AWS:
        break;
    }
    sv_t v = pr->value;
    if (v.len == 1 && v.p[0] == '*')
        return PM_WILD;
    if (anon || ctx->type == PRINCIPAL_SERVICE)
        return PM_NONE;
    if (v.len == 12 && !memchr(v.p, ':', v.len))
        return sv_eq(v, ctx->account) ? (root ? PM_NAMED : PM_ACCOUNT) : PM_NONE;
    sv_t res;
    sv_t acct = arn_account(v, &res);
    if (!acct.p)
        return PM_NONE;
    if (sv_eq_cstr(res, "root"))
        return sv_eq(acct, ctx->account) ? (root ? PM_NAMED : PM_ACCOUNT) : PM_NONE;
    if (sv_starts_with(res, SV("role/")))
        return ctx->type == PRINCIPAL_ASSUMED_ROLE && sv_eq(v, ctx->role_arn) ? PM_ROLE : PM_NONE;
    if (sv_starts_with(res, SV("user/")))
        return ctx->type == PRINCIPAL_USER && sv_eq(v, ctx->arn) ? PM_NAMED : PM_NONE;
    /* assumed-role/ROLE/SESSION and federated-user/NAME: the session itself */
    return sv_eq(v, ctx->arn) ? PM_NAMED : PM_NONE;
}

static bool action_matches(const struct pstmt *st, sv_t action)
{
    bool any = false;
    for (size_t i = 0; i < st->nact && !any; i++)
        any = policy_glob(st->act[i].s, action, true);
    return st->not_action ? !any : any;
}

static bool resource_matches(const struct pstmt *st, const policy_ctx_t *ctx, bool vars,
                             struct xpat *x)
{
    if (!st->has_resource)
        return true;
    bool any = false;
    for (size_t i = 0; i < st->nres && !any; i++) {
        const struct pat *r = &st->res[i];
        if (!xpat_expand(x, r->s, vars && r->has_var, ctx)) {
            /* A variable with no value: the pattern matches nothing (AWS). Under NotResource
             * that would widen an Allow, so there it counts as matching (fail closed). */
            if (st->not_resource && st->allow)
                any = true;
            continue;
        }
        any = xpat_arn(x, ctx->resource, true) ||
              (x->len == ctx->resource.len && memcmp(x->p, ctx->resource.p, x->len) == 0);
    }
    return st->not_resource ? !any : any;
}

struct eval_out {
    bool deny;
    enum pmatch allow; /* strongest principal match among applying Allow statements */
    bool allow_any;
};

static void eval_ex(const policy_t *p, const policy_ctx_t *ctx, struct eval_out *o)
{
    o->deny = false;
    o->allow = PM_NONE;
    o->allow_any = false;
    if (!p)
        return;
    bool check_principal = p->kind == POLICY_RESOURCE || p->kind == POLICY_TRUST;
    struct xpat x;
    xpat_init(&x);
    for (size_t s = 0; s < p->nst; s++) {
        const struct pstmt *st = &p->st[s];
        if (!st->allow && o->deny)
            continue;
        enum pmatch pm = PM_NAMED;
        if (check_principal) {
            enum pmatch best = PM_NONE;
            for (size_t i = 0; i < st->npr; i++) {
                enum pmatch m = match_principal(&st->pr[i], ctx);
                if (m > best)
                    best = m;
            }
            pm = st->not_principal ? (best == PM_NONE ? PM_WILD : PM_NONE) : best;
            if (pm == PM_NONE)
                continue;
        }
        if (!action_matches(st, ctx->action) || !resource_matches(st, ctx, p->vars, &x))
            continue;
        bool ok = true;
        for (size_t c = 0; c < st->ncond && ok; c++)
            ok = cond_eval(&st->cond[c], ctx, p->vars);
        if (!ok)
            continue;
        if (!st->allow) {
            o->deny = true;
        } else {
            o->allow_any = true;
            if (pm > o->allow)
                o->allow = pm;
        }
    }
    xpat_release(&x);
}

enum policy_decision policy_eval(const policy_t *p, const policy_ctx_t *ctx)
{
    struct eval_out o;
    eval_ex(p, ctx, &o);
    return o.deny ? POLICY_DENY : o.allow_any ? POLICY_ALLOW : POLICY_NO_MATCH;
}

const char *policy_decision_name(enum policy_decision d)
{
    switch (d) {
    case POLICY_ALLOW:
        return "ALLOW";
    case POLICY_DENY:
        return "DENY";
    default:
        return "NO_MATCH";
    }
}

static enum policy_decision why(policy_why_t *w, enum policy_decision d, const char *reason)
{
    if (w)
        w->reason = reason;
    return d;
}

enum policy_decision policy_decide(const policy_set_t *set, const policy_ctx_t *ctx,
                                   policy_why_t *w)
{
    static const policy_set_t empty;
    if (!set)
        set = &empty;
    bool anon = ctx->type == PRINCIPAL_ANONYMOUS;
    bool root = ctx->type == PRINCIPAL_ROOT;
    bool same = !anon && ctx->account.len && sv_eq(ctx->account, ctx->resource_account);

    struct eval_out res;
    eval_ex(set->resource, ctx, &res);

    /* Identity side: identity policies, then the boundary and session policies intersect.
     * Anonymous and service principals have none; the root user needs none. */
    bool id_deny = false, id_allow = false, b_allow = true, s_allow = true, other_deny = false;
    if (!anon && ctx->type != PRINCIPAL_SERVICE) {
        for (size_t i = 0; i < set->nidentity; i++) {
            enum policy_decision d = policy_eval(set->identity[i], ctx);
            id_deny |= d == POLICY_DENY;
            id_allow |= d == POLICY_ALLOW;
        }
        if (set->boundary) {
            enum policy_decision d = policy_eval(set->boundary, ctx);
            other_deny |= d == POLICY_DENY;
            b_allow = d == POLICY_ALLOW;
        }
        for (size_t i = 0; i < set->nsession; i++) {
            enum policy_decision d = policy_eval(set->session[i], ctx);
            other_deny |= d == POLICY_DENY;
            s_allow &= d == POLICY_ALLOW;
        }
    }

    if (id_deny || other_deny)
        return why(w, POLICY_DENY, "explicit deny in an identity, boundary or session policy");
    if (res.deny) {
        /* The bucket owner's root user can always manage the bucket policy, so a policy that
         * denies everyone cannot lock the owner out for good. */
        if (root && same &&
            (sv_caseeq(ctx->action, SV("s3:GetBucketPolicy")) ||
             sv_caseeq(ctx->action, SV("s3:PutBucketPolicy")) ||
             sv_caseeq(ctx->action, SV("s3:DeleteBucketPolicy"))))
            return why(w, POLICY_ALLOW, "bucket owner root may always manage the bucket policy");
        return why(w, POLICY_DENY, "explicit deny in the bucket policy");
    }

    if (anon)
        return res.allow >= PM_WILD
                   ? why(w, POLICY_ALLOW, "bucket policy allows anonymous access")
                   : why(w, POLICY_NO_MATCH, "anonymous request not allowed by the bucket policy");
    if (ctx->type == PRINCIPAL_SERVICE)
        return res.allow != PM_NONE
                   ? why(w, POLICY_ALLOW, "bucket policy allows the service principal")
                   : why(w, POLICY_NO_MATCH, "service principal not allowed by the bucket policy");

    bool identity_side = root || (id_allow && b_allow && s_allow);
    if (same) {
        if (root)
            return why(w, POLICY_ALLOW, "root user of the bucket owner's account");
        if (identity_side)
            return why(w, POLICY_ALLOW, "allowed by identity policy");
        /* Resource-based grant within the account. */
        switch (res.allow) {
        case PM_NAMED:
            return why(w, POLICY_ALLOW, "bucket policy allows this principal");
        case PM_WILD:
        case PM_ROLE:
            if (ctx->type == PRINCIPAL_ASSUMED_ROLE || ctx->type == PRINCIPAL_FEDERATED) {
                if (b_allow && s_allow)
                    return why(w, POLICY_ALLOW, "bucket policy allows the role");
                return why(w, POLICY_NO_MATCH,
                           "bucket policy allows the role but its session or boundary does not");
            }
            if (ctx->type == PRINCIPAL_USER && set->boundary && !b_allow)
                return why(w, POLICY_NO_MATCH, "bucket policy allows all but the boundary does not");
            return why(w, POLICY_ALLOW, "bucket policy allows this principal");
        case PM_ACCOUNT:
            return why(w, POLICY_NO_MATCH,
                       "bucket policy delegates to the account; no identity policy allows");
        default:
            return why(w, POLICY_NO_MATCH, "no policy allows the request");
        }
    }
    /* Cross account: both sides must allow. */
    if (!res.allow_any)
        return why(w, POLICY_NO_MATCH, "cross-account request not allowed by the bucket policy");
    if (!identity_side)
        return why(w, POLICY_NO_MATCH,
                   "cross-account request allowed by the bucket policy but not by the caller's "
                   "identity policies");
    return why(w, POLICY_ALLOW, "cross-account: allowed by both the identity and bucket policy");
}

/* ---- public-ness ------------------------------------------------------------------------ */

static bool has_wild(sv_t s)
{
    return memchr(s.p, '*', s.len) || memchr(s.p, '?', s.len) ||
           (s.len >= 2 && memchr(s.p, '$', s.len)); /* a policy variable is not fixed */
}

static bool restricting_condition(const struct pcond *c)
{
    if (c->if_exists || c->set == SET_ALL)
        return false;
    static const char *const keys[] = {
        "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner",
        "aws:SourceAccount", "aws:PrincipalOrgID", "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    };
    if (sv_caseeq(c->key, SV("aws:SourceIp"))) {
        if (c->op != OP_IP)
            return false;
        for (size_t i = 0; i < c->nv; i++)
            if (c->v[i].ip.prefix < (c->v[i].ip.family == 4 ? 8 : 32))
                return false;
        return true;
    }
    bool listed = false;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (sv_caseeq(c->key, sv_from_cstr(keys[i])))
            listed = true;
    if (!listed)
        return false;
    if (c->op != OP_STRING_EQUALS && c->op != OP_STRING_EQUALS_IC && c->op != OP_STRING_LIKE &&
        c->op != OP_ARN_EQUALS && c->op != OP_ARN_LIKE)
        return false;
    for (size_t i = 0; i < c->nv; i++)
        if (has_wild(c->v[i].s) || c->v[i].s.len == 0)
            return false;
    return true;
}

bool policy_is_public(const policy_t *p)
{
    if (!p)
        return false;
    for (size_t s = 0; s < p->nst; s++) {
        const struct pstmt *st = &p->st[s];
        if (!st->allow || !st->has_principal)
            continue;
        bool wild = st->not_principal;
        for (size_t i = 0; i < st->npr && !wild; i++)
            wild = st->pr[i].type == PR_ANY || has_wild(st->pr[i].value);
        if (!wild)
            continue;
        bool restricted = false;
        for (size_t c = 0; c < st->ncond && !restricted; c++)
            restricted = restricting_condition(&st->cond[c]);
        if (!restricted)
            return true;
    }
    return false;
}
