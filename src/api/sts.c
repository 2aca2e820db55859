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
 * AssumeRole is authorized by the policy engine (src/policy/) through api/authz.c: the role's
 * trust policy (POLICY_TRUST) must allow the caller -- the account's root user, an IAM user or a
 * role session, with its principal tags, sts:ExternalId, sts:RoleSessionName, aws:SourceIp,
 * aws:CurrentTime... -- and the caller's own identity side (identity policies, permissions
 * boundary, session policy) must allow sts:AssumeRole too unless the trust policy names it in
 * the role's own account, exactly as for any resource-based policy; cross-account callers
 * always need both. Session tags additionally need sts:TagSession on both sides, with
 * aws:RequestTag/<key> and aws:TagKeys. Session tags are sealed into the session token, so
 * the token alone says which tags a session carries (tokens from before tags were sealed fall
 * back to the session record's copy).
 */
#include "api/authz_int.h"
#include "api/iam_store.h"
#include "api/query.h"
#include "policy/policy.h"
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
    /* Session tags: the sealed copy in the token; tokens issued before tags were sealed carry
     * none, and their record's copy applies. */
    json_t *tags = cl.has_tags ? json_loads(cl.tags, 0, NULL) : json_incref(json_object_get(rec, "tags"));
    size_t nt = json_array_size(tags), i;
    json_t *t;
    kv_t *kv = arena_calloc(q->a, nt ? nt : 1, sizeof *kv);
    json_array_foreach(tags, i, t) {
        json_t *tk = json_is_array(t) ? json_array_get(t, 0) : json_object_get(t, "Key");
        json_t *tv = json_is_array(t) ? json_array_get(t, 1) : json_object_get(t, "Value");
        if (json_is_string(tk) && json_is_string(tv))
            kv[p->nsession_tags++] = (kv_t){
                {arena_svdup(q->a, (sv_t){json_string_value(tk), json_string_length(tk)}),
                 json_string_length(tk)},
                {arena_svdup(q->a, (sv_t){json_string_value(tv), json_string_length(tv)}),
                 json_string_length(tv)}};
    }
    p->session_tags = kv;
    json_decref(tags);
    json_t *docs = json_object_get(rec, "policy_docs");
    size_t nd = json_array_size(docs);
    const char **pd = arena_calloc(q->a, nd ? nd : 1, sizeof *pd);
    json_t *d;
    json_array_foreach(docs, i, d)
        if (json_is_string(d) && p->nmanaged_session_policies < RQ_MAX_MANAGED_SESSION_POLICIES)
            pd[p->nmanaged_session_policies++] = arena_svdup(q->a, sv_from_cstr(json_string_value(d)));
    p->managed_session_policies = pd;
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
 * token. tags: the session tags as compact JSON pairs (at most STS_TOKEN_TAGS_MAX bytes) or
 * NULL. */
static int issue(qctx_t *c, json_t *rec, const char *account, int64_t duration, const char *tags,
                 issued_t *out)
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
    if (tags) {
        cl.has_tags = true;
        snprintf(cl.tags, sizeof cl.tags, "%s", tags);
    }
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
    rc = issue(c, rec, c->q->acct.id, d, NULL, &is);
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

/* A condition key with the given values (arena). */
static policy_key_t key_of(rq_t *q, const char *name, const sv_t *vals, size_t n)
{
    sv_t *v = arena_calloc(q->a, n ? n : 1, sizeof *v);
    memcpy(v, vals, n * sizeof *v);
    return (policy_key_t){sv_from_cstr(arena_svdup(q->a, sv_from_cstr(name))), v, n};
}

/* Tags.member.N.Key/Value -> tags (arena) and their compact JSON pairs for the token.
 * TransitiveTagKeys are accepted (each must be one of the tags, as STS checks) but not carried
 * into chained sessions. */
static int session_tags(qctx_t *c, kv_t **out, size_t *n, char **json)
{
    rq_t *q = c->q;
    *out = arena_calloc(q->a, MAX_SESSION_TAGS + 1, sizeof **out);
    *n = 0;
    *json = NULL;
    json_t *pairs = json_array();
    int rc = 0;
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
        for (size_t j = 0; j < *n; j++)
            if ((*out)[j].name.len == k.len && strncasecmp((*out)[j].name.p, k.p, k.len) == 0) {
                rc = qfail(c, QE_VALIDATION, "Duplicate tag keys found. Please note that Tag keys "
                                             "are case insensitive.");
                goto out;
            }
        (*out)[(*n)++] = (kv_t){k, v.p ? v : SV("")};
        json_array_append_new(pairs, json_pack("[s%, s%]", k.p, k.len, v.p ? v.p : "", v.len));
    }
    for (size_t i = 1;; i++) {
        sv_t t = form_getf(&c->form, "TransitiveTagKeys.member.%zu", i);
        if (!t.p)
            break;
        bool found = false;
        for (size_t j = 0; j < *n && !found; j++)
            found = (*out)[j].name.len == t.len && strncasecmp((*out)[j].name.p, t.p, t.len) == 0;
        if (!found) {
            rc = qfail(c, QE_VALIDATION, "The specified transitive tag key must be included in "
                                         "the requested tags.");
            goto out;
        }
    }
    if (*n) {
        char *txt = json_dumps(pairs, JSON_COMPACT);
        if (!txt || strlen(txt) > STS_TOKEN_TAGS_MAX) {
            free(txt);
            rc = qfail(c, QE_PACKED_POLICY_TOO_LARGE,
                       "Packed policy consumes more than 100%% of the allotted space");
            goto out;
        }
        *json = arena_svdup(q->a, sv_from_cstr(txt));
        free(txt);
    }
out:
    json_decref(pairs);
    return rc;
}

static int assume_role(qctx_t *c)
{
    rq_t *q = c->q;
    rq_principal_t *p = &q->principal;
    int rc = 0;
    json_t *role = NULL;
    policy_t *trust = NULL;
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
        char msg[512];
        policy_t *sp = NULL;
        int prc = policy_parse(policy, strlen(policy), POLICY_SESSION, &sp, msg, sizeof msg);
        policy_unref(sp);
        if (prc == -SE_POLICY_LIMIT_EXCEEDED)
            return qfail(c, QE_PACKED_POLICY_TOO_LARGE,
                         "Packed policy consumes more than 100%% of the allotted space");
        if (prc)
            return qfail(c, QE_MALFORMED_POLICY, "%s", msg);
    }
    kv_t *tags;
    size_t ntags;
    char *tags_json;
    if ((rc = session_tags(c, &tags, &ntags, &tags_json)) != 0)
        return rc;
    json_t *arns = json_array();
    for (size_t i = 1;; i++) {
        sv_t a = form_getf(&c->form, "PolicyArns.member.%zu.arn", i);
        if (!a.p)
            break;
        if (i > RQ_MAX_MANAGED_SESSION_POLICIES || a.len < 20 || a.len > 2048) {
            json_decref(arns);
            return qfail(c, QE_VALIDATION, "1 validation error detected: Value at 'policyArns' "
                                           "failed to satisfy constraint: at most %d ARNs of "
                                           "20-2048 characters", RQ_MAX_MANAGED_SESSION_POLICIES);
        }
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
    const char *tdoc = iam_str(role, "trust");
    char terr[256];
    if (policy_parse(tdoc, strlen(tdoc), POLICY_TRUST, &trust, terr, sizeof terr) != 0) {
        log_warn("sts: trust policy of %s does not compile (%s); denying", arn, terr);
        rc = -QE_ACCESS_DENIED;
        goto denied;
    }

    /* The request's STS condition keys: sts:ExternalId, sts:RoleSessionName, and for session
     * tags aws:RequestTag/<key>, aws:TagKeys, sts:TransitiveTagKeys. */
    policy_key_t *keys = arena_calloc(q->a, 4 + MAX_SESSION_TAGS, sizeof *keys);
    size_t nkeys = 0;
    sv_t one;
    if (ext) {
        one = sv_from_cstr(ext);
        keys[nkeys++] = key_of(q, "sts:ExternalId", &one, 1);
    }
    one = sv_from_cstr(sname);
    keys[nkeys++] = key_of(q, "sts:RoleSessionName", &one, 1);
    sv_t *tkeys = arena_calloc(q->a, ntags + 1, sizeof *tkeys);
    for (size_t i = 0; i < ntags; i++) {
        tkeys[i] = tags[i].name;
        keys[nkeys++] = key_of(q, arena_sprintf(q->a, "aws:RequestTag/%.*s", SV_ARG(tags[i].name)),
                               &tags[i].value, 1);
    }
    if (ntags)
        keys[nkeys++] = key_of(q, "aws:TagKeys", tkeys, ntags);
    sv_t *trans = arena_calloc(q->a, MAX_SESSION_TAGS + 1, sizeof *trans);
    size_t ntrans = 0;
    for (size_t i = 1; ntrans < MAX_SESSION_TAGS; i++) {
        sv_t t = form_getf(&c->form, "TransitiveTagKeys.member.%zu", i);
        if (!t.p)
            break;
        trans[ntrans++] = t;
    }
    if (ntrans)
        keys[nkeys++] = key_of(q, "sts:TransitiveTagKeys", trans, ntrans);

    enum authz_why why = AUTHZ_WHY_NONE;
    if (!authz_principal_allows(q, "sts:AssumeRole", arn, acct, trust, keys, nkeys, &why) ||
        (ntags && !authz_principal_allows(q, "sts:TagSession", arn, acct, trust, keys, nkeys,
                                          &why))) {
        log_info("req=%s sts: %s may not assume %s (%s)", q->reqid, p->arn, arn,
                 authz_why_text(q, why, ntags ? "sts:AssumeRole/sts:TagSession" : "sts:AssumeRole"));
        rc = -QE_ACCESS_DENIED;
        goto denied;
    }
    /* Managed session policies: policies of the role's account, their default versions as of
     * now, kept with the session. */
    json_t *pdocs = json_array();
    size_t ai;
    json_t *av;
    json_array_foreach(arns, ai, av) {
        char *doc = NULL;
        int drc = iam_managed_policy_doc(STORE(c), acct, json_string_value(av), &doc);
        if (drc == 0)
            json_array_append_new(pdocs, json_string(doc));
        free(doc);
        if (drc) {
            json_decref(pdocs);
            rc = drc == -ENOENT ? qfail(c, QE_MALFORMED_POLICY, "Policy %.512s does not exist or "
                                                                "is not attachable.",
                                        json_string_value(av))
                                : qfail(c, QE_SERVICE_FAILURE, "internal error");
            goto out;
        }
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
                                 "set for this role.")) != 0) {
        json_decref(pdocs);
        goto out;
    }

    const char *rname = iam_str(role, "name");
    char *sarn = arena_sprintf(q->a, "arn:aws:sts::%s:assumed-role/%s/%s", acct, rname, sname);
    char *sid = arena_sprintf(q->a, "%s:%s", iam_str(role, "id"), sname);
    json_t *jtags = json_array();
    for (size_t i = 0; i < ntags; i++)
        json_array_append_new(jtags, json_pack("{s:s%, s:s%}", "Key", tags[i].name.p,
                                               tags[i].name.len, "Value", tags[i].value.p,
                                               tags[i].value.len));
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O, s:s}", "ptype", "role",
                            "arn", sarn, "id", sid, "name", rname, "session", sname, "role_arn",
                            arn, "tags", jtags, "policy_arns", arns, "caller", p->arn);
    if (policy)
        json_object_set_new(rec, "policy", json_string(policy));
    json_object_set_new(rec, "policy_docs", pdocs);
    issued_t is;
    rc = issue(c, rec, acct, d, tags_json, &is);
    json_decref(rec);
    if (rc)
        goto out;
    log_info("sts: %s assumed %s as %s until %lld", p->arn, arn, sarn, (long long)is.expires);
    x_credentials(c, &is);
    buf_puts(&c->out, "<AssumedRoleUser>");
    qx(c, "AssumedRoleId", sid);
    qx(c, "Arn", sarn);
    buf_puts(&c->out, "</AssumedRoleUser>");
    if (policy || ntags) {
        /* How full the packed session data is: the session policy against its quota, the
         * tags against the room the token has for them. */
        size_t packed = (policy ? policy_char_count(policy, strlen(policy)) : 0) * 100 /
                            SESSION_POLICY_QUOTA +
                        (tags_json ? strlen(tags_json) : 0) * 100 / STS_TOKEN_TAGS_MAX;
        char n[24];
        snprintf(n, sizeof n, "%zu", packed < 1 ? 1 : packed > 100 ? 100 : packed);
        qx(c, "PackedPolicySize", n);
    }
    goto out;
denied:
    rc = qfail(c, QE_ACCESS_DENIED, "User: %s is not authorized to perform: sts:AssumeRole on "
                                    "resource: %.512s", p->arn, arn);
out:
    policy_unref(trust);
    json_decref(role);
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
