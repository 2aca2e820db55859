/* policy/parse: JSON policy document -> compiled, immutable policy_t.
 *
 * The whole document is validated before anything is returned; the first problem found is
 * reported with where it is ("Statement[1] (Sid \"Read\") Action \"s3:GetObjekt\"") and the
 * document is rejected. Size limits are checked before JSON parsing. Every string the
 * compiled form keeps is copied into the policy's own arena, so the jansson tree is dropped
 * at the end of the parse and the result owns all its memory (one arena_free on unref).
 *
 * Messages follow what S3 (MalformedPolicy) and IAM (MalformedPolicyDocument) say, with the
 * location appended. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

struct pctx {
    arena_t *a;
    policy_t *pol;
    enum policy_kind kind;
    char *err;
    size_t errcap;
    int rc;
    int stmt; /* index of the statement being parsed, -1 outside */
    sv_t sid;
};

/* Records the first error: "<what>: Statement[i] (Sid "x") <where>". Always returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct pctx *pc, const char *what,
                                                      const char *where_fmt, ...)
{
    if (pc->rc)
        return -1;
    pc->rc = pc->kind == POLICY_RESOURCE ? -SE_MALFORMED_POLICY : -SE_MALFORMED_POLICY_DOCUMENT;
    if (!pc->err || !pc->errcap)
        return -1;
    char where[512] = "";
    if (where_fmt) {
        va_list ap;
        va_start(ap, where_fmt);
        vsnprintf(where, sizeof(where), where_fmt, ap);
        va_end(ap);
    }
    char loc[256] = "";
    if (pc->stmt >= 0) {
        if (pc->sid.len)
            snprintf(loc, sizeof(loc), "Statement[%d] (Sid \"%.*s\")", pc->stmt,
                     (int)(pc->sid.len > 64 ? 64 : pc->sid.len), pc->sid.p);
        else
            snprintf(loc, sizeof(loc), "Statement[%d]", pc->stmt);
    }
    if (loc[0] && where[0])
        snprintf(pc->err, pc->errcap, "%s: %s %s", what, loc, where);
    else if (loc[0] || where[0])
        snprintf(pc->err, pc->errcap, "%s: %s", what, loc[0] ? loc : where);
    else
        snprintf(pc->err, pc->errcap, "%s", what);
    return -1;
}

/* Prints at most 80 bytes of a user string in messages. */
#define Q(s) (int)((s).len > 80 ? 80 : (s).len), (s).p

static sv_t jstr(json_t *j)
{
    return (sv_t){json_string_value(j), json_string_length(j)};
}

static sv_t dup_sv(struct pctx *pc, sv_t s)
{
    char *p = arena_alloc(pc->a, s.len + 1);
    if (s.len)
        memcpy(p, s.p, s.len);
    p[s.len] = 0;
    return (sv_t){p, s.len};
}

static bool has_var(struct pctx *pc, sv_t s)
{
    if (!pc->pol->vars)
        return false;
    for (size_t i = 0; i + 1 < s.len; i++)
        if (s.p[i] == '$' && s.p[i + 1] == '{')
            return true;
    return false;
}

/* A field that is a string or a non-empty array of strings. Returns the count, -1 if the
 * shape is wrong. items (OUT) are views into the JSON tree. */
static int str_list(struct pctx *pc, json_t *j, sv_t **items)
{
    if (json_is_string(j)) {
        *items = arena_alloc(pc->a, sizeof(sv_t));
        (*items)[0] = jstr(j);
        return 1;
    }
    if (!json_is_array(j) || json_array_size(j) == 0)
        return -1;
    size_t n = json_array_size(j);
    *items = arena_calloc(pc->a, n, sizeof(sv_t));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i);
        if (!json_is_string(e))
            return -1;
        (*items)[i] = jstr(e);
    }
    return (int)n;
}

/* ---- Action ---------------------------------------------------------------------------- */

static bool action_ok(sv_t a)
{
    if (a.len == 1 && a.p[0] == '*')
        return true;
    const char *colon = memchr(a.p, ':', a.len);
    if (!colon || colon == a.p)
        return false;
    sv_t svc = {a.p, (size_t)(colon - a.p)}, name = {colon + 1, a.len - svc.len - 1};
    for (size_t i = 0; i < svc.len; i++) {
        char c = svc.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    if (name.len == 0)
        return false;
    bool wild = false;
    for (size_t i = 0; i < name.len; i++) {
        char c = name.p[i];
        if (c == '*' || c == '?')
            wild = true;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return false;
    }
    if (sv_caseeq(svc, SV("s3")))
        return wild ? s3_action_pattern_matches_any(name) : policy_s3_action_known(a);
    return true; /* iam:, sts:, kms:, ... by syntax */
}

static int parse_actions(struct pctx *pc, json_t *j, bool not, struct pstmt *st)
{
    const char *field = not ? "NotAction" : "Action";
    sv_t *v;
    int n = str_list(pc, j, &v);
    if (n < 0)
        return fail(pc, "Policy has invalid action", "%s: must be a string or a non-empty list of "
                                                     "strings", field);
    st->not_action = not;
    st->act = arena_calloc(pc->a, (size_t)n, sizeof(struct pat));
    st->nact = (size_t)n;
    for (int i = 0; i < n; i++) {
        if (!action_ok(v[i]))
            return fail(pc, "Policy has invalid action", "%s \"%.*s\"", field, Q(v[i]));
        st->act[i].s = dup_sv(pc, v[i]);
    }
    return 0;
}

/* ---- Resource -------------------------------------------------------------------------- */

static bool resource_ok(struct pctx *pc, sv_t r)
{
    if (r.len == 1 && r.p[0] == '*')
        return true;
    if (!sv_starts_with(r, SV("arn:")))
        return false;
    int colons = 0;
    size_t svc_off = 0, svc_end = 0;
    for (size_t i = 0; i < r.len; i++) {
        if (r.p[i] == ':') {
            colons++;
            if (colons == 2)
                svc_off = i + 1;
            if (colons == 3)
                svc_end = i;
        }
        if ((unsigned char)r.p[i] < 0x20)
            return false;
    }
    if (colons < 5)
        return false;
    sv_t svc = {r.p + svc_off, svc_end - svc_off};
    if (svc.len == 0 || r.p[4] == ':') /* empty partition or service */
        return false;
    if (pc->kind == POLICY_RESOURCE && !policy_glob(svc, SV("s3"), false))
        return false; /* a bucket policy only governs S3 resources */
    return true;
}

static int parse_resources(struct pctx *pc, json_t *j, bool not, struct pstmt *st)
{
    const char *field = not ? "NotResource" : "Resource";
    sv_t *v;
    int n = str_list(pc, j, &v);
    if (n < 0)
        return fail(pc, "Policy has invalid resource",
                    "%s: must be a string or a non-empty list of strings", field);
    st->has_resource = true;
    st->not_resource = not;
    st->res = arena_calloc(pc->a, (size_t)n, sizeof(struct pat));
    st->nres = (size_t)n;
    for (int i = 0; i < n; i++) {
        if (!resource_ok(pc, v[i]))
            return fail(pc, "Policy has invalid resource", "%s \"%.*s\"", field, Q(v[i]));
        st->res[i].s = dup_sv(pc, v[i]);
        st->res[i].has_var = has_var(pc, v[i]);
    }
    return 0;
}

/* ---- Principal ------------------------------------------------------------------------- */

static bool all_digits(sv_t s, size_t n)
{
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

/* "*", a 12-digit account id, or an IAM/STS principal ARN without wildcards:
 * arn:PARTITION:iam::ACCOUNT:(root|user/...|role/...|federated-user/...)
 * arn:PARTITION:sts::ACCOUNT:(assumed-role/ROLE/SESSION|federated-user/NAME) */
static bool aws_principal_ok(sv_t v)
{
    if (v.len == 1 && v.p[0] == '*')
        return true;
    if (all_digits(v, 12))
        return true;
    if (memchr(v.p, '*', v.len) || memchr(v.p, '?', v.len))
        return false;
    if (!sv_starts_with(v, SV("arn:")))
        return false;
    const char *p = v.p + 4, *end = v.p + v.len;
    const char *c1 = memchr(p, ':', (size_t)(end - p)); /* after partition */
    if (!c1 || c1 == p)
        return false;
    sv_t rest = {c1 + 1, (size_t)(end - c1 - 1)};
    bool iam = sv_starts_with(rest, SV("iam::")), sts = sv_starts_with(rest, SV("sts::"));
    if (!iam && !sts)
        return false;
    sv_t acct = {rest.p + 5, 12};
    if (rest.len < 5 + 12 + 2 || !all_digits(acct, 12) || rest.p[5 + 12] != ':')
        return false;
    sv_t res = {rest.p + 18, rest.len - 18};
    if (iam)
        return sv_eq_cstr(res, "root") ||
               (sv_starts_with(res, SV("user/")) && res.len > 5) ||
               (sv_starts_with(res, SV("role/")) && res.len > 5) ||
               (sv_starts_with(res, SV("federated-user/")) && res.len > 15);
    if (sv_starts_with(res, SV("assumed-role/"))) {
        sv_t rs = {res.p + 13, res.len - 13};
        const char *slash = memchr(rs.p, '/', rs.len);
        return slash && slash != rs.p && slash + 1 < rs.p + rs.len;
    }
    return sv_starts_with(res, SV("federated-user/")) && res.len > 15;
}

static int parse_principal(struct pctx *pc, json_t *j, bool not, struct pstmt *st)
{
    const char *field = not ? "NotPrincipal" : "Principal";
    st->has_principal = true;
    st->not_principal = not;
    if (json_is_string(j)) {
        if (!sv_eq_cstr(jstr(j), "*"))
            return fail(pc, "Invalid principal in policy", "%s \"%.*s\"", field, Q(jstr(j)));
        st->pr = arena_calloc(pc->a, 1, sizeof(struct prin));
        st->pr[0] = (struct prin){PR_ANY, dup_sv(pc, SV("*"))};
        st->npr = 1;
        return 0;
    }
    if (!json_is_object(j) || json_object_size(j) == 0)
        return fail(pc, "Invalid principal in policy", "%s: must be \"*\" or an object", field);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (json_is_string(v))
            total++;
        else if (json_is_array(v) && json_array_size(v) > 0)
            total += json_array_size(v);
        else
            return fail(pc, "Invalid principal in policy",
                        "%s.%s: must be a string or a non-empty list of strings", field, k);
    }
    st->pr = arena_calloc(pc->a, total, sizeof(struct prin));
    json_object_foreach(j, k, v) {
        enum prin_type t;
        if (strcmp(k, "AWS") == 0)
            t = PR_AWS;
        else if (strcmp(k, "CanonicalUser") == 0)
            t = PR_CANONICAL;
        else if (strcmp(k, "Service") == 0)
            t = PR_SERVICE;
        else if (strcmp(k, "Federated") == 0)
            t = PR_FEDERATED;
        else
            return fail(pc, "Invalid principal in policy", "%s: unknown principal type \"%.80s\"",
                        field, k);
        sv_t *vals;
        int n = str_list(pc, v, &vals);
        if (n < 0)
            return fail(pc, "Invalid principal in policy",
                        "%s.%s: must be a string or a non-empty list of strings", field, k);
        for (int i = 0; i < n; i++) {
            sv_t s = vals[i];
            bool ok;
            if (t == PR_AWS)
                ok = aws_principal_ok(s);
            else
                ok = s.len > 0 && !memchr(s.p, ' ', s.len) &&
                     (t != PR_CANONICAL || (!memchr(s.p, '*', s.len) && !memchr(s.p, '?', s.len)));
            if (!ok)
                return fail(pc, "Invalid principal in policy", "%s.%s \"%.*s\"", field, k, Q(s));
            st->pr[st->npr++] = (struct prin){t, dup_sv(pc, s)};
        }
    }
    return 0;
}

/* ---- Condition ------------------------------------------------------------------------- */

static const char *const aws_keys[] = {
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime",
    "aws:EpochTime", "aws:FederatedProvider", "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalType",
    "aws:Referer", "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID",
    "aws:ResourceOrgPaths", "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceIdentity", "aws:SourceIp", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce", "aws:TagKeys", "aws:TokenIssueTime",
    "aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSService", "aws:VpcSourceIp",
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "aws:AssumedRoot", "aws:IsMcpServiceAction",
    "aws:ViaAWSMCPService", "aws:ViaAWSMCPServiceName",
};
static const char *const aws_tag_keys[] = {"aws:PrincipalTag/", "aws:RequestTag/",
                                           "aws:ResourceTag/"};
static const char *const s3_keys[] = {
    "s3:AccessGrantsInstanceArn", "s3:AccessPointNetworkOrigin", "s3:authType",
    "s3:DataAccessPointAccount", "s3:DataAccessPointArn", "s3:delimiter",
    "s3:ExistingJobOperation", "s3:ExistingJobPriority", "s3:JobSuspendedCause",
    "s3:LocationConstraint", "s3:max-keys", "s3:object-lock-legal-hold", "s3:object-lock-mode",
    "s3:object-lock-remaining-retention-days", "s3:object-lock-retain-until-date", "s3:prefix",
    "s3:RequestJobOperation", "s3:RequestJobPriority", "s3:RequestObjectTagKeys",
    "s3:ResourceAccount", "s3:signatureAge", "s3:signatureversion", "s3:TlsVersion",
    "s3:versionid", "s3:x-amz-acl", "s3:x-amz-content-sha256", "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location", "s3:x-amz-object-ownership",
    "s3:ObjectCreationOperation", "s3:if-match", "s3:if-none-match", "s3:AccessGrantsInstanceArn",
};
static const char *const s3_tag_keys[] = {"s3:ExistingObjectTag/", "s3:RequestObjectTag/",
                                          "s3:BucketTag/"};

static bool known_key(sv_t k, const char *const *names, size_t n, const char *const *pfx,
                      size_t npfx)
{
    for (size_t i = 0; i < n; i++)
        if (sv_caseeq(k, sv_from_cstr(names[i])))
            return true;
    for (size_t i = 0; i < npfx; i++) {
        size_t l = strlen(pfx[i]);
        if (k.len > l && sv_istarts(k, pfx[i]))
            return true;
    }
    return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool key_ok(struct pctx *pc, sv_t k)
{
    const char *colon = memchr(k.p, ':', k.len);
    if (!colon || colon == k.p || colon + 1 == k.p + k.len || k.len > 256)
        return false;
    for (const char *p = k.p; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    for (size_t i = 0; i < k.len; i++)
        if ((unsigned char)k.p[i] <= 0x20 || k.p[i] == '*' || k.p[i] == '?')
            return false;
    if (pc->kind != POLICY_RESOURCE)
        return true; /* IAM accepts any service's keys; validated by shape only */
    if (sv_istarts(k, "aws:"))
        return known_key(k, aws_keys, NELEM(aws_keys), aws_tag_keys, NELEM(aws_tag_keys));
    if (sv_istarts(k, "s3:"))
        return known_key(k, s3_keys, NELEM(s3_keys), s3_tag_keys, NELEM(s3_tag_keys));
    return true;
}

/* JSON scalar -> text as AWS compares it (numbers and booleans by their JSON text). */
static bool scalar_text(struct pctx *pc, json_t *j, sv_t *out)
{
    char buf[64];
    if (json_is_string(j)) {
        *out = dup_sv(pc, jstr(j));
        return true;
    }
    if (json_is_integer(j)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    } else if (json_is_real(j)) {
        double d = json_real_value(j);
        snprintf(buf, sizeof(buf), "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, sizeof(buf), "%.17g", d);
    } else if (json_is_true(j)) {
        strcpy(buf, "true");
    } else if (json_is_false(j)) {
        strcpy(buf, "false");
    } else {
        return false;
    }
    *out = dup_sv(pc, sv_from_cstr(buf));
    return true;
}

static int parse_conditions(struct pctx *pc, json_t *j, struct pstmt *st)
{
    if (!json_is_object(j))
        return fail(pc, "Invalid Condition", "Condition: must be an object");
    size_t total = 0;
    const char *opname;
    json_t *block;
    json_object_foreach(j, opname, block) {
        if (!json_is_object(block) || json_object_size(block) == 0)
            return fail(pc, "Invalid Condition", "Condition.%.80s: must be a non-empty object",
                        opname);
        total += json_object_size(block);
    }
    st->cond = arena_calloc(pc->a, total ? total : 1, sizeof(struct pcond));
    json_object_foreach(j, opname, block) {
        sv_t on = sv_from_cstr(opname);
        enum cond_op op;
        enum cond_set set;
        bool ife;
        if (cond_parse_op(on, &op, &set, &ife) != 0)
            return fail(pc, "Invalid Condition type", "Condition operator \"%.*s\"", Q(on));
        const char *key;
        json_t *vals;
        json_object_foreach(block, key, vals) {
            sv_t k = sv_from_cstr(key);
            if (!key_ok(pc, k))
                return fail(pc, "Policy has an invalid condition key", "Condition.%.*s \"%.*s\"",
                            Q(on), Q(k));
            struct pcond *c = &st->cond[st->ncond++];
            c->op = op;
            c->set = set;
            c->if_exists = ife;
            c->opname = dup_sv(pc, on);
            c->key = dup_sv(pc, k);
            size_t n = 1;
            if (json_is_array(vals)) {
                n = json_array_size(vals);
                if (n == 0)
                    return fail(pc, "Invalid Condition value", "Condition.%.*s.%.*s: empty list",
                                Q(on), Q(k));
            }
            c->v = arena_calloc(pc->a, n, sizeof(struct cval));
            c->nv = n;
            for (size_t i = 0; i < n; i++) {
                json_t *e = json_is_array(vals) ? json_array_get(vals, i) : vals;
                struct cval *cv = &c->v[i];
                if (!scalar_text(pc, e, &cv->s))
                    return fail(pc, "Invalid Condition value",
                                "Condition.%.*s.%.*s: values must be strings, numbers or "
                                "booleans", Q(on), Q(k));
                cv->has_var = cond_is_string_op(op) && has_var(pc, cv->s);
                if (!cond_value_decode(pc->a, op, cv))
                    return fail(pc, "Invalid Condition value", "Condition.%.*s.%.*s \"%.*s\"",
                                Q(on), Q(k), Q(cv->s));
            }
        }
    }
    return 0;
}

/* ---- Statement ------------------------------------------------------------------------- */

static bool sid_ok(struct pctx *pc, sv_t s)
{
    if (pc->kind == POLICY_RESOURCE)
        return true; /* S3 accepts any string as a Sid */
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static int parse_statement(struct pctx *pc, json_t *j, struct pstmt *st)
{
    if (!json_is_object(j))
        return fail(pc, "Statement must be an object", NULL);
    json_t *sid = json_object_get(j, "Sid");
    if (sid) {
        if (!json_is_string(sid))
            return fail(pc, "Invalid Sid", "Sid: must be a string");
        pc->sid = dup_sv(pc, jstr(sid));
        st->sid = pc->sid;
        if (!sid_ok(pc, st->sid))
            return fail(pc, "Invalid Sid", "Sid: only letters and digits are allowed");
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        static const char *const fields[] = {"Sid", "Effect", "Principal", "NotPrincipal",
                                             "Action", "NotAction", "Resource", "NotResource",
                                             "Condition"};
        bool known = false;
        for (size_t i = 0; i < NELEM(fields); i++)
            if (strcmp(k, fields[i]) == 0)
                known = true;
        if (!known)
            return fail(pc, "Unknown field in statement", "field \"%.80s\"", k);
    }
    json_t *eff = json_object_get(j, "Effect");
    if (!eff)
        return fail(pc, "Missing required field Effect", NULL);
    if (!json_is_string(eff) || !(sv_eq_cstr(jstr(eff), "Allow") || sv_eq_cstr(jstr(eff), "Deny")))
        return fail(pc, "Invalid effect", "Effect: must be \"Allow\" or \"Deny\"");
    st->allow = sv_eq_cstr(jstr(eff), "Allow");

    json_t *pr = json_object_get(j, "Principal"), *npr = json_object_get(j, "NotPrincipal");
    bool needs_principal = pc->kind == POLICY_RESOURCE || pc->kind == POLICY_TRUST;
    if (pr && npr)
        return fail(pc, "Statement cannot have both Principal and NotPrincipal", NULL);
    if (needs_principal && !pr && !npr)
        return fail(pc, "Missing required field Principal", NULL);
    if (!needs_principal && (pr || npr))
        return fail(pc, "Has prohibited field Principal",
                    "(identity and session policies apply to whoever holds them)");
    if (pr && parse_principal(pc, pr, false, st))
        return -1;
    if (npr && parse_principal(pc, npr, true, st))
        return -1;

    json_t *ac = json_object_get(j, "Action"), *nac = json_object_get(j, "NotAction");
    if (ac && nac)
        return fail(pc, "Statement cannot have both Action and NotAction", NULL);
    if (!ac && !nac)
        return fail(pc, "Missing required field Action", NULL);
    if (parse_actions(pc, ac ? ac : nac, !ac, st))
        return -1;

    json_t *rs = json_object_get(j, "Resource"), *nrs = json_object_get(j, "NotResource");
    if (rs && nrs)
        return fail(pc, "Statement cannot have both Resource and NotResource", NULL);
    if (pc->kind == POLICY_TRUST) {
        if (rs || nrs)
            return fail(pc, "Has prohibited field Resource", "(trust policies have no Resource)");
    } else if (!rs && !nrs) {
        return fail(pc, "Missing required field Resource", NULL);
    } else if (parse_resources(pc, rs ? rs : nrs, !rs, st)) {
        return -1;
    }

    json_t *cond = json_object_get(j, "Condition");
    if (cond && parse_conditions(pc, cond, st))
        return -1;
    return 0;
}

/* ---- Document -------------------------------------------------------------------------- */

size_t policy_char_count(const char *json, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if ((c & 0xC0) == 0x80)
            continue; /* UTF-8 continuation byte: count characters, not bytes */
        n++;
    }
    return n;
}

static size_t kind_limit(enum policy_kind k)
{
    switch (k) {
    case POLICY_RESOURCE:
        return POLICY_MAX_RESOURCE_BYTES;
    case POLICY_TRUST:
        return POLICY_MAX_TRUST_CHARS;
    case POLICY_SESSION:
        return POLICY_MAX_SESSION_CHARS;
    default:
        return POLICY_MAX_IDENTITY_CHARS;
    }
}

static int parse_doc(struct pctx *pc, const char *json, size_t len)
{
    size_t limit = kind_limit(pc->kind);
    if (pc->kind == POLICY_RESOURCE) {
        if (len > limit)
            return fail(pc, "Policies must be less than 20 KB", "(document is %zu bytes)", len);
    } else {
        size_t chars = policy_char_count(json, len);
        if (len > limit * 4 || chars > limit) {
            fail(pc, "Cannot exceed quota for PolicySize", "(%zu characters, limit %zu)", chars,
                 limit);
            pc->rc = -SE_POLICY_LIMIT_EXCEEDED;
            return -1;
        }
        /* IAM documents may hold only tab, LF, CR and U+0020..U+00FF. */
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)json[i];
            if (c >= 0xC4 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
                return fail(pc, "Policy document contains characters outside the allowed range",
                            "(byte offset %zu)", i);
        }
    }
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i == len || json[i] != '{')
        return fail(pc, "Policies must be valid JSON and the first byte must be '{'", NULL);

    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(pc, "Policies must be valid JSON", "(%.120s at line %d column %d)", jerr.text,
                    jerr.line, jerr.column);
    int rc = -1;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "Version") && strcmp(k, "Id") && strcmp(k, "Statement")) {
            fail(pc, "Unknown field in policy", "field \"%.80s\"", k);
            goto out_decref;
        }
    }
    json_t *ver = json_object_get(root, "Version");
    pc->pol->vars = false;
    if (ver) {
        if (json_is_string(ver) && sv_eq_cstr(jstr(ver), "2012-10-17")) {
            pc->pol->vars = true;
        } else if (!(json_is_string(ver) && sv_eq_cstr(jstr(ver), "2008-10-17"))) {
            fail(pc, "The policy must contain a valid version string",
                 "Version: \"2012-10-17\" or \"2008-10-17\"");
            goto out_decref;
        }
    }
    json_t *id = json_object_get(root, "Id");
    if (id && !json_is_string(id)) {
        fail(pc, "Invalid Id", "Id: must be a string");
        goto out_decref;
    }
    json_t *stj = json_object_get(root, "Statement");
    if (!stj) {
        fail(pc, "Missing required field Statement", NULL);
        goto out_decref;
    }
    size_t n = json_is_array(stj) ? json_array_size(stj) : 1;
    if (json_is_array(stj) && n == 0) {
        fail(pc, "Could not parse the policy: Statement is empty!", NULL);
        goto out_decref;
    }
    if (!json_is_array(stj) && !json_is_object(stj)) {
        fail(pc, "Statement must be an object or a list of objects", NULL);
        goto out_decref;
    }
    pc->pol->st = arena_calloc(pc->a, n, sizeof(struct pstmt));
    for (size_t s = 0; s < n; s++) {
        pc->stmt = (int)s;
        pc->sid = SV_NULL;
        struct pstmt *st = &pc->pol->st[s];
        st->index = (int)s;
        if (parse_statement(pc, json_is_array(stj) ? json_array_get(stj, s) : stj, st))
            goto out_decref;
        pc->pol->nst++;
        if (st->sid.len)
            for (size_t o = 0; o < s; o++)
                if (sv_eq(pc->pol->st[o].sid, st->sid)) {
                    fail(pc, "Statement IDs (SID) in a single policy must be unique", NULL);
                    goto out_decref;
                }
    }
    pc->stmt = -1;
    rc = 0;
out_decref:
    json_decref(root);
    return rc;
}

int policy_parse(const char *json, size_t len, enum policy_kind kind, policy_t **out, char *errmsg,
                 size_t errcap)
{
    *out = NULL;
    if (errmsg && errcap)
        errmsg[0] = 0;
    arena_t *a = arena_new();
    policy_t *p = arena_calloc(a, 1, sizeof(*p));
    atomic_init(&p->refs, 1);
    p->arena = a;
    p->kind = kind;
    struct pctx pc = {.a = a, .pol = p, .kind = kind, .err = errmsg, .errcap = errcap,
                      .stmt = -1};
    if (!json)
        json = "";
    if (parse_doc(&pc, json, len) != 0 || pc.rc) {
        arena_free(a);
        return pc.rc ? pc.rc : -SE_MALFORMED_POLICY;
    }
    *out = p;
    return 0;
}

void policy_ref(policy_t *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void policy_unref(policy_t *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        arena_free(p->arena);
}

enum policy_kind policy_get_kind(const policy_t *p)
{
    return p->kind;
}

size_t policy_statement_count(const policy_t *p)
{
    return p ? p->nst : 0;
}
