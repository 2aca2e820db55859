/* api/sts: the STS Query API (GetCallerIdentity, GetSessionToken, AssumeRole) on the S3
 * endpoint, for requests whose SigV4 service is "sts", and the authentication of the temporary
 * credentials it issues.
 *
 * A session is a record in the store (api/iam_store.h: "sts-sessions", keyed by its ASIA...
 * access key id) holding the secret, the identity the session carries, its expiry, the session
 * policy and tags. The session token handed to the client is sealed with the server's token
 * key (auth/sts_token.h): it names the access key and the expiry, so a forged, altered or
 * transplanted token is refused (InvalidToken / InvalidClientTokenId) and an expired one
 * answers ExpiredToken; the expired record is deleted when it is next presented.
 *
 * Trust policies: AssumeRole checks the role's trust policy with trust_allows() below, a
 * TEMPORARY minimal evaluator (Effect, Action sts:AssumeRole, Principal AWS = "*" | account id
 * | account root ARN | caller ARN, Condition StringEquals sts:ExternalId only; anything else
 * makes an Allow not apply and a Deny apply). It is replaced by policy_eval() with
 * POLICY_TRUST once src/policy/ is wired in.
 */
#include "api/iam_store.h"
#include "api/query.h"
#include "auth/sts_token.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORE(c) ((c)->q->api->store)
#define SESSION_POLICY_QUOTA 2048
#define MAX_SESSION_TAGS 50
#define CHAINED_MAX 3600

/* ---- authentication of temporary credentials --------------------------------------------- */

static const char *dupstr(rq_t *q, json_t *o, const char *k)
{
    return arena_svdup(q->a, sv_from_cstr(iam_str(o, k)));
}

int sts_session_auth(rq_t *q, access_key_t *k)
{
    store_t *s = q->api->store;
    json_t *rec = NULL;
    int rc;
    sv_t tok = q->sig.security_token;
    if (tok.len && q->sig.kind == SIGV4_PRESIGNED) { /* still percent-encoded there */
        char *d = arena_alloc(q->a, tok.len + 1);
        long n = sv_url_decode(tok, d, false);
        tok = n < 0 ? SV_NULL : (sv_t){d, (size_t)n};
    }
    uint8_t key[STS_TOKEN_KEY_LEN];
    sts_claims_t cl;
    int64_t now = now_ms() / 1000;
    int tok_rc = -SE_INVALID_TOKEN;
    if (tok.len) {
        if ((rc = iam_token_key(s, key)) != 0)
            return rc;
        tok_rc = sts_token_decode(key, tok, now, &cl);
        memset(key, 0, sizeof key);
        /* The token must be this key's, whatever its state. */
        if ((tok_rc == 0 || tok_rc == -SE_EXPIRED_TOKEN) && !sv_eq_cstr(q->sig.access_key, cl.access_key))
            tok_rc = -SE_INVALID_TOKEN;
    }
    /* A genuine token past its expiry answers ExpiredToken, also after its record is gone:
     * expired session records are deleted when they are presented. */
    if (tok_rc == -SE_EXPIRED_TOKEN) {
        iam_session_del(s, q->sig.access_key);
        return -SE_EXPIRED_TOKEN;
    }
    rc = iam_session_get(s, q->sig.access_key, &rec);
    if (rc == -ENOENT)
        return -SE_INVALID_ACCESS_KEY;
    if (rc)
        return rc;
    if ((rc = tok_rc) != 0)
        goto out;
    if (json_integer_value(json_object_get(rec, "expires")) <= now) {
        iam_session_del(s, q->sig.access_key);
        rc = -SE_EXPIRED_TOKEN;
        goto out;
    }
    memset(k, 0, sizeof *k);
    snprintf(k->access_key, sizeof k->access_key, "%s", cl.access_key);
    snprintf(k->secret, sizeof k->secret, "%s", iam_str(rec, "secret"));
    snprintf(k->account_id, sizeof k->account_id, "%s", iam_str(rec, "account"));
    k->active = true;
    rq_principal_t *p = &q->principal;
    const char *ptype = iam_str(rec, "ptype");
    p->type = strcmp(ptype, "role") == 0 ? RQP_ASSUMED_ROLE
              : strcmp(ptype, "user") == 0 ? RQP_USER
                                           : RQP_ROOT;
    p->arn = dupstr(q, rec, "arn");
    p->user_id = dupstr(q, rec, "id");
    p->name = dupstr(q, rec, "name");
    p->session = dupstr(q, rec, "session");
    p->role_arn = dupstr(q, rec, "role_arn");
    const char *pol = json_string_value(json_object_get(rec, "policy"));
    p->session_policy = pol ? arena_svdup(q->a, sv_from_cstr(pol)) : NULL;
    p->temporary = true;
out:
    json_decref(rec);
    return rc;
}

/* ---- issuing credentials ----------------------------------------------------------------- */

typedef struct issued {
    char access_key[24];
    char secret[41];
    char token[STS_TOKEN_MAX];
    int64_t expires;
} issued_t;

/* Stores the session record (rec is completed with the key, secret and expiry) and seals the
 * token. */
static int issue(qctx_t *c, json_t *rec, const char *account, int64_t duration, issued_t *out)
{
    store_t *s = STORE(c);
    json_t *old;
    do
        iam_gen_id(out->access_key, "ASIA", 20);
    while (iam_session_get(s, sv_from_cstr(out->access_key), &old) == 0 && (json_decref(old), 1));
    iam_gen_secret(out->secret);
    out->expires = now_ms() / 1000 + duration;
    json_object_set_new(rec, "secret", json_string(out->secret));
    json_object_set_new(rec, "account", json_string(account));
    json_object_set_new(rec, "expires", json_integer(out->expires));
    json_object_set_new(rec, "created", json_integer(now_ms() / 1000));

    sts_claims_t cl = {0};
    snprintf(cl.access_key, sizeof cl.access_key, "%s", out->access_key);
    cl.expires = out->expires;
    snprintf(cl.account, sizeof cl.account, "%s", account);
    snprintf(cl.arn, sizeof cl.arn, "%s", iam_str(rec, "arn"));
    snprintf(cl.session, sizeof cl.session, "%s", iam_str(rec, "session"));
    uint8_t key[STS_TOKEN_KEY_LEN];
    int rc = iam_token_key(s, key);
    if (rc == 0)
        rc = sts_token_encode(key, &cl, out->token);
    memset(key, 0, sizeof key);
    if (rc == 0)
        rc = iam_session_put(s, out->access_key, rec);
    if (rc)
        return qfail(c, QE_SERVICE_FAILURE, "could not issue credentials: %s", strata_strerror(rc));
    return 0;
}

static void x_credentials(qctx_t *c, const issued_t *is)
{
    buf_puts(&c->out, "<Credentials>");
    qx(c, "AccessKeyId", is->access_key);
    qx(c, "SecretAccessKey", is->secret);
    qx(c, "SessionToken", is->token);
    qx_date(c, "Expiration", is->expires);
    buf_puts(&c->out, "</Credentials>");
}

/* The shortest session AWS allows is 900 s. STRATA_STS_MIN_DURATION (1..900) lowers that
 * floor, for tests and demos of expiry; shorter sessions only ever reduce access. */
static int64_t min_duration(void)
{
    const char *v = getenv("STRATA_STS_MIN_DURATION");
    uint64_t n;
    if (v && sv_to_u64(sv_from_cstr(v), &n) == 0 && n >= 1 && n <= 900)
        return (int64_t)n;
    return 900;
}

static int duration(qctx_t *c, int64_t def, int64_t lo, int64_t hi, int64_t *out, const char *why)
{
    const char *v = qparam(c, "DurationSeconds");
    uint64_t n;
    *out = def;
    lo = lo < min_duration() ? lo : min_duration();
    if (!v)
        return 0;
    if (sv_to_u64(sv_from_cstr(v), &n) != 0 || (int64_t)n < lo)
        return qfail(c, QE_VALIDATION,
                     "1 validation error detected: Value '%.32s' at 'durationSeconds' failed to "
                     "satisfy constraint: Member must have value greater than or equal to 900", v);
    if ((int64_t)n > hi || (int64_t)n < lo)
        return qfail(c, QE_VALIDATION, "%s", why);
    *out = (int64_t)n;
    return 0;
}

/* ---- actions ----------------------------------------------------------------------------- */

static int get_caller_identity(qctx_t *c)
{
    rq_principal_t *p = &c->q->principal;
    qx(c, "UserId", p->user_id);
    qx(c, "Account", c->q->acct.id);
    qx(c, "Arn", p->arn);
    return 0;
}

static int get_session_token(qctx_t *c)
{
    rq_principal_t *p = &c->q->principal;
    if (p->temporary)
        return qfail(c, QE_ACCESS_DENIED, "Cannot call GetSessionToken with session credentials");
    int64_t d;
    /* AWS: 900..129600 s (12 h default) for IAM users; the root user's sessions last 1 h. */
    int64_t hi = p->type == RQP_ROOT ? 3600 : 129600;
    int rc = duration(c, p->type == RQP_ROOT ? 3600 : 43200, 900, hi, &d,
                      p->type == RQP_ROOT ? "The requested DurationSeconds exceeds the 1 hour "
                                            "session limit for the root user."
                                          : "1 validation error detected: Value at "
                                            "'durationSeconds' failed to satisfy constraint: "
                                            "Member must have value less than or equal to 129600");
    if (rc)
        return rc;
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s}", "ptype", p->type == RQP_USER ? "user" : "root",
                            "arn", p->arn, "id", p->user_id, "name", p->name ? p->name : "");
    issued_t is;
    rc = issue(c, rec, c->q->acct.id, d, &is);
    json_decref(rec);
    if (rc == 0)
        x_credentials(c, &is);
    return rc;
}

static bool session_name_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 2 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("+=,.@_-", v[i]))
            return false;
    return true;
}

/* -- TEMPORARY minimal trust-policy evaluation (replaced by policy_eval, see the top) -- */

typedef struct caller {
    const char *account;
    const char *arn;
    const char *role_arn; /* assumed-role callers */
    const char *external_id;
} caller_t;

static bool value_matches(const char *v, const caller_t *who)
{
    char root[64];
    snprintf(root, sizeof root, "arn:aws:iam::%s:root", who->account);
    return strcmp(v, "*") == 0 || strcmp(v, who->account) == 0 || strcmp(v, root) == 0 ||
           strcmp(v, who->arn) == 0 || (who->role_arn && strcmp(v, who->role_arn) == 0);
}

static bool any_string(json_t *v, bool (*f)(const char *, const void *), const void *arg)
{
    if (json_is_string(v))
        return f(json_string_value(v), arg);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
        if (json_is_string(x) && f(json_string_value(x), arg))
            return true;
    return false;
}

static bool principal_value(const char *v, const void *arg)
{
    return value_matches(v, arg);
}

static bool action_value(const char *v, const void *arg)
{
    (void)arg;
    return strcasecmp(v, "sts:AssumeRole") == 0 || strcasecmp(v, "sts:*") == 0 || strcmp(v, "*") == 0;
}

static bool string_equals(const char *v, const void *arg)
{
    return arg && strcmp(v, arg) == 0;
}

enum tri { NO = 0, YES, UNKNOWN };

static enum tri principal_applies(json_t *pr, const caller_t *who)
{
    if (json_is_string(pr))
        return strcmp(json_string_value(pr), "*") == 0 ? YES : UNKNOWN;
    if (!json_is_object(pr))
        return UNKNOWN;
    json_t *aws = json_object_get(pr, "AWS");
    if (aws && any_string(aws, principal_value, who))
        return YES;
    return NO; /* Service / Federated / CanonicalUser principals: not an STS caller here */
}

static enum tri condition_applies(json_t *cond, const caller_t *who)
{
    if (!cond)
        return YES;
    const char *op;
    json_t *keys;
    json_object_foreach(cond, op, keys) {
        if (strcmp(op, "StringEquals") != 0 || !json_is_object(keys))
            return UNKNOWN;
        const char *k;
        json_t *vals;
        json_object_foreach(keys, k, vals) {
            if (strcasecmp(k, "sts:ExternalId") != 0)
                return UNKNOWN;
            if (!any_string(vals, string_equals, who->external_id))
                return NO;
        }
    }
    return YES;
}

static bool trust_allows(const char *doc, const caller_t *who)
{
    json_t *o = json_loads(doc, 0, NULL);
    json_t *st = json_object_get(o, "Statement");
    bool allow = false, deny = false;
    size_t n = json_is_array(st) ? json_array_size(st) : (json_is_object(st) ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
        const char *eff = iam_str(s, "Effect");
        bool is_deny = strcmp(eff, "Deny") == 0;
        if (!is_deny && strcmp(eff, "Allow") != 0)
            continue;
        json_t *act = json_object_get(s, "Action");
        enum tri a = act ? (any_string(act, action_value, NULL) ? YES : NO) : UNKNOWN;
        json_t *pr = json_object_get(s, "Principal");
        enum tri p = pr ? principal_applies(pr, who) : UNKNOWN;
        enum tri cnd = condition_applies(json_object_get(s, "Condition"), who);
        if (is_deny)
            deny = deny || (a != NO && p != NO && cnd != NO); /* unknown parts apply: fail closed */
        else
            allow = allow || (a == YES && p == YES && cnd == YES);
    }
    json_decref(o);
    return allow && !deny;
}

static int assume_role(qctx_t *c)
{
    rq_t *q = c->q;
    rq_principal_t *p = &q->principal;
    int rc = 0;
    json_t *role = NULL;
    const char *arn = qrequire(c, "RoleArn", &rc);
    const char *sname = arn ? qrequire(c, "RoleSessionName", &rc) : NULL;
    if (!sname)
        return rc;
    if (!session_name_ok(sname))
        return qfail(c, QE_VALIDATION,
                     "1 validation error detected: Value '%.64s' at 'roleSessionName' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: "
                     "[\\w+=,.@-]*", sname);
    if (strlen(arn) < 20 || strlen(arn) > 2048)
        return qfail(c, QE_VALIDATION, "%s is invalid", "RoleArn");
    const char *ext = qparam(c, "ExternalId");
    if (ext && (strlen(ext) < 2 || strlen(ext) > 1224))
        return qfail(c, QE_VALIDATION, "1 validation error detected: Value at 'externalId' failed "
                                       "to satisfy constraint: Member must have length between 2 "
                                       "and 1224");
    const char *policy = qparam(c, "Policy");
    if (policy) {
        json_error_t e;
        json_t *o = json_loads(policy, JSON_REJECT_DUPLICATES, &e);
        bool ok = json_is_object(o) && json_object_get(o, "Statement");
        json_decref(o);
        /* POLICY HOOK: policy_parse(policy, ..., POLICY_SESSION, ...) once src/policy/ builds. */
        if (!ok)
            return qfail(c, QE_MALFORMED_POLICY, "Syntax errors in policy.");
        if (strlen(policy) > SESSION_POLICY_QUOTA)
            return qfail(c, QE_PACKED_POLICY_TOO_LARGE,
                         "Packed policy consumes more than 100%% of the allotted space");
    }
    json_t *tags = json_array();
    json_t *arns = json_array();
    for (size_t i = 1;; i++) {
        sv_t k = form_getf(&c->form, "Tags.member.%zu.Key", i);
        sv_t v = form_getf(&c->form, "Tags.member.%zu.Value", i);
        if (!k.p)
            break;
        if (i > MAX_SESSION_TAGS || k.len < 1 || k.len > 128 || v.len > 256) {
            rc = qfail(c, QE_VALIDATION, "Session tags: at most %d, keys 1-128 and values 0-256 "
                                         "characters", MAX_SESSION_TAGS);
            goto out;
        }
        json_array_append_new(tags, json_pack("{s:s%, s:s%}", "Key", k.p, k.len, "Value",
                                              v.p ? v.p : "", v.len));
    }
    for (size_t i = 1; i <= 10; i++) {
        sv_t a = form_getf(&c->form, "PolicyArns.member.%zu.arn", i);
        if (!a.p)
            break;
        json_array_append_new(arns, json_stringn(a.p, a.len));
    }

    /* arn:aws:iam::ACCT:role/PATH/NAME */
    char acct[16] = "";
    const char *slash = strrchr(arn, '/');
    if (strncmp(arn, "arn:aws:iam::", 13) == 0 && strlen(arn) > 13 + 12 + 6 &&
        strncmp(arn + 25, ":role/", 6) == 0)
        snprintf(acct, sizeof acct, "%.12s", arn + 13);
    account_t racct;
    if (!acct[0] || !slash || accounts_get(STORE(c), sv_from_cstr(acct), &racct) != 0 ||
        iam_get(STORE(c), IAM_ROLE, acct, sv_from_cstr(slash + 1), &role) != 0 ||
        strcmp(iam_str(role, "arn"), arn) != 0) {
        rc = -QE_ACCESS_DENIED;
        goto denied;
    }
    caller_t who = {q->acct.id, p->arn, p->type == RQP_ASSUMED_ROLE ? p->role_arn : NULL, ext};
    if (!trust_allows(iam_str(role, "trust"), &who)) {
        rc = -QE_ACCESS_DENIED;
        goto denied;
    }
    int64_t max = json_integer_value(json_object_get(role, "max_session"));
    if (max < 3600)
        max = 3600;
    bool chained = p->type == RQP_ASSUMED_ROLE;
    int64_t d;
    if ((rc = duration(c, 3600, 900, chained ? CHAINED_MAX : max, &d,
                       chained ? "The requested DurationSeconds exceeds the 1 hour session limit "
                                 "for roles assumed by role chaining."
                               : "The requested DurationSeconds exceeds the MaxSessionDuration "
                                 "set for this role.")) != 0)
        goto out;

    const char *rname = iam_str(role, "name");
    char *sarn = arena_sprintf(q->a, "arn:aws:sts::%s:assumed-role/%s/%s", acct, rname, sname);
    char *sid = arena_sprintf(q->a, "%s:%s", iam_str(role, "id"), sname);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:s}", "ptype", "role",
                            "arn", sarn, "id", sid, "name", rname, "session", sname, "role_arn",
                            arn, "tags", tags, "policy_arns", arns, "caller", p->arn);
    if (policy)
        json_object_set_new(rec, "policy", json_string(policy));
    issued_t is;
    rc = issue(c, rec, acct, d, &is);
    json_decref(rec);
    if (rc)
        goto out;
    log_info("sts: %s assumed %s as %s until %lld", p->arn, arn, sarn, (long long)is.expires);
    x_credentials(c, &is);
    buf_puts(&c->out, "<AssumedRoleUser>");
    qx(c, "AssumedRoleId", sid);
    qx(c, "Arn", sarn);
    buf_puts(&c->out, "</AssumedRoleUser>");
    if (policy || json_array_size(tags)) {
        size_t packed = (policy ? strlen(policy) : 0) * 100 / SESSION_POLICY_QUOTA +
                        json_array_size(tags) * 100 / MAX_SESSION_TAGS;
        char n[24];
        snprintf(n, sizeof n, "%zu", packed > 100 ? 100 : packed);
        qx(c, "PackedPolicySize", n);
    }
    goto out;
denied:
    rc = qfail(c, QE_ACCESS_DENIED, "User: %s is not authorized to perform: sts:AssumeRole on "
                                    "resource: %.512s", p->arn, arn);
out:
    json_decref(role);
    json_decref(tags);
    json_decref(arns);
    return rc;
}

static const query_action_t actions[] = {
    {"GetCallerIdentity", get_caller_identity},
    {"GetSessionToken", get_session_token},
    {"AssumeRole", assume_role},
};

void sts_end(rq_t *q, http_resp_t *resp)
{
    query_dispatch(q, resp, STS_XMLNS, actions, sizeof actions / sizeof actions[0], NULL);
}
