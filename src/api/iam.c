/* api/iam: the IAM Query API (users, groups, access keys, inline and managed policies, roles,
 * tags) on the S3 endpoint, for requests whose SigV4 service is "iam".
 *
 * Entities are JSON records (api/iam_store.h). Users, groups and roles share one code path for
 * inline policies, managed-policy attachments and tags (the `kind` argument). Every change runs
 * under iam_lock(): IAM writes are rare and this keeps read-modify-write sequences simple.
 * Names are unique per account ignoring case; List* calls page with Marker (the name of the
 * next item, case-insensitive order) and MaxItems (1..1000, default 100).
 *
 * Who may call: the account's root user, and IAM users and role sessions whose identity-based
 * policies (with their permissions boundary and session policy, api/authz.c) allow
 * "iam:<Action>" on the entity's ARN (authorize() below). Policy documents are stored as given,
 * after the policy engine has validated them (check_doc), so a stored document always compiles.
 * Permissions boundaries are managed policies named by ARN in the user's or role's record.
 */
#include "api/authz_int.h"
#include "api/iam_store.h"
#include "api/query.h"
#include "core/clock.h"
#include "core/err.h"
#include "policy/policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_title[] = {"User", "Group", "Role", "Policy"};
static const char *const kind_lower[] = {"user", "group", "role", "policy"};
static const char *const id_prefix[] = {"AIDA", "AGPA", "AROA", "ANPA"};
static const size_t name_max[] = {64, 128, 64, 128};
/* Aggregate inline policy size per entity (characters without whitespace), AWS's quotas. */
static const size_t inline_quota[] = {2048, 5120, 10240, 0};
#define MANAGED_QUOTA 6144
#define TRUST_QUOTA 2048
#define MAX_ATTACHED 10
#define MAX_GROUPS_PER_USER 10
#define MAX_KEYS_PER_USER 2
#define MAX_TAGS 50
#define MAX_VERSIONS 5

#define STORE(c) ((c)->q->api->store)
#define ACCT(c) ((c)->q->acct.id)

static int64_t now_s(void)
{
    return now_ms() / 1000;
}

static int internal(qctx_t *c, int rc)
{
    return qfail(c, QE_SERVICE_FAILURE, "internal error: %s", strata_strerror(rc));
}

/* ---- validation -------------------------------------------------------------------------- */

static bool name_ok(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("+=,.@_-", v[i]))
            return false;
    return true;
}

static int bad_value(qctx_t *c, const char *param, const char *v, const char *constraint)
{
    return qfail(c, QE_VALIDATION,
                 "1 validation error detected: Value '%.128s' at '%s' failed to satisfy "
                 "constraint: %s",
                 v, param, constraint);
}

/* A required entity name parameter, validated. */
static const char *need_name(qctx_t *c, const char *param, size_t max, int *rc)
{
    const char *v = qrequire(c, param, rc);
    if (v && !name_ok(v, max)) {
        *rc = bad_value(c, param, v, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
        return NULL;
    }
    return v;
}

static const char *opt_path(qctx_t *c, const char *param, int *rc)
{
    const char *v = qparam(c, param);
    if (!v)
        return "/";
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= 512 && v[0] == '/' && v[n - 1] == '/';
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= 0x21 && v[i] <= 0x7e;
    if (!ok) {
        *rc = bad_value(c, param, v, "Member must satisfy regular expression pattern: (\\u002F)|"
                                     "(\\u002F[\\u0021-\\u007E]+\\u002F)");
        return NULL;
    }
    return v;
}

/* MaxItems (1..1000, default 100). */
static int max_items(qctx_t *c, size_t *out)
{
    const char *v = qparam(c, "MaxItems");
    uint64_t n = 100;
    if (v && (sv_to_u64(sv_from_cstr(v), &n) != 0 || n < 1 || n > 1000))
        return bad_value(c, "maxItems", v, "Member must have value between 1 and 1000");
    *out = (size_t)n;
    return 0;
}

static size_t char_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            n++;
    return n;
}

/* Validates a policy document and checks it against a size quota (counting `already` chars of
 * the entity's other documents). trust: a role trust policy (Principal expected). */
static int check_doc(qctx_t *c, const char *doc, size_t quota, size_t already, bool trust)
{
    json_error_t e;
    json_t *o = json_loads(doc, JSON_REJECT_DUPLICATES, &e);
    int rc = 0;
    if (!json_is_object(o)) {
        rc = qfail(c, QE_MALFORMED_POLICY, "Syntax errors in policy.");
        goto out;
    }
    json_t *ver = json_object_get(o, "Version");
    if (ver && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2012-10-17") != 0 &&
                                         strcmp(json_string_value(ver), "2008-10-17") != 0))) {
        rc = qfail(c, QE_MALFORMED_POLICY, "The policy failed legacy parsing");
        goto out;
    }
    json_t *st = json_object_get(o, "Statement");
    if (json_is_object(st)) {
        json_t *a = json_array();
        json_array_append(a, st);
        st = a;
        json_object_set_new(o, "Statement", a);
    }
    if (!json_is_array(st) || json_array_size(st) == 0) {
        rc = qfail(c, QE_MALFORMED_POLICY, "Syntax errors in policy.");
        goto out;
    }
    size_t i;
    json_t *s;
    json_array_foreach(st, i, s) {
        const char *eff = json_string_value(json_object_get(s, "Effect"));
        if (!json_is_object(s) || !eff || (strcmp(eff, "Allow") != 0 && strcmp(eff, "Deny") != 0)) {
            rc = qfail(c, QE_MALFORMED_POLICY, "Syntax errors in policy.");
            goto out;
        }
        if (!json_object_get(s, "Action") && !json_object_get(s, "NotAction")) {
            rc = qfail(c, QE_MALFORMED_POLICY, "Policy statement must contain actions.");
            goto out;
        }
        if (trust && !json_object_get(s, "Principal") && !json_object_get(s, "NotPrincipal")) {
            rc = qfail(c, QE_MALFORMED_POLICY, "Missing required field Principal");
            goto out;
        }
        if (!trust && (json_object_get(s, "Principal") || json_object_get(s, "NotPrincipal"))) {
            rc = qfail(c, QE_MALFORMED_POLICY, "Policy document should not specify a principal.");
            goto out;
        }
    }
    if (quota && char_count(doc) + already > quota) {
        rc = qfail(c, QE_LIMIT_EXCEEDED, "Cannot exceed quota for PolicySize: %zu", quota);
        goto out;
    }
    /* The whole grammar, as the engine will evaluate it: a document accepted here always
     * compiles at authorization time. (An inline role policy is limited to the engine's 6,144
     * characters per document; the role's aggregate quota still applies.) */
    char msg[512];
    policy_t *pol = NULL;
    int prc = policy_parse(doc, strlen(doc), trust ? POLICY_TRUST : POLICY_IDENTITY, &pol, msg,
                           sizeof msg);
    policy_unref(pol);
    if (prc == -SE_POLICY_LIMIT_EXCEEDED)
        rc = qfail(c, QE_LIMIT_EXCEEDED, "%s", msg);
    else if (prc)
        rc = qfail(c, QE_MALFORMED_POLICY, "%s", msg);
out:
    json_decref(o);
    return rc;
}

/* Tags.member.N.Key/Value -> [{"Key","Value"}]. NULL on error (rc set). */
static json_t *parse_tags(qctx_t *c, int *rc)
{
    json_t *tags = json_array();
    for (size_t i = 1;; i++) {
        sv_t k = form_getf(&c->form, "Tags.member.%zu.Key", i);
        sv_t v = form_getf(&c->form, "Tags.member.%zu.Value", i);
        if (!k.p)
            break;
        if (i > MAX_TAGS) {
            *rc = qfail(c, QE_LIMIT_EXCEEDED, "The number of tags has reached the maximum limit.");
            goto fail;
        }
        if (k.len < 1 || k.len > 128 || v.len > 256) {
            *rc = bad_value(c, "tags", k.p, "Tag keys must be 1-128 and values 0-256 characters");
            goto fail;
        }
        json_array_append_new(tags, json_pack("{s:s%, s:s%}", "Key", k.p, k.len, "Value",
                                              v.p ? v.p : "", v.len));
    }
    return tags;
fail:
    json_decref(tags);
    return NULL;
}

/* ---- XML writers ------------------------------------------------------------------------- */

static void x_tags(qctx_t *c, json_t *tags, bool always)
{
    if (!always && json_array_size(tags) == 0)
        return;
    size_t i;
    json_t *t;
    buf_puts(&c->out, "<Tags>");
    json_array_foreach(tags, i, t) {
        buf_puts(&c->out, "<member>");
        qx(c, "Key", iam_str(t, "Key"));
        qx(c, "Value", iam_str(t, "Value"));
        buf_puts(&c->out, "</member>");
    }
    buf_puts(&c->out, "</Tags>");
}

static int count_attachments(qctx_t *c, const char *arn);
static int count_boundaries(qctx_t *c, const char *arn);

static void x_boundary(qctx_t *c, json_t *r)
{
    if (!*iam_str(r, "boundary"))
        return;
    buf_puts(&c->out, "<PermissionsBoundary>");
    qx(c, "PermissionsBoundaryType", "PermissionsBoundaryPolicy");
    qx(c, "PermissionsBoundaryArn", iam_str(r, "boundary"));
    buf_puts(&c->out, "</PermissionsBoundary>");
}

/* The entity's fields (without the enclosing element). */
static void x_fields(qctx_t *c, enum iam_kind k, json_t *r, bool with_tags)
{
    char n[32];
    if (k == IAM_POLICY) {
        qx(c, "PolicyName", iam_str(r, "name"));
        qx(c, "PolicyId", iam_str(r, "id"));
        qx(c, "Arn", iam_str(r, "arn"));
        qx(c, "Path", iam_str(r, "path"));
        qx(c, "DefaultVersionId", iam_str(r, "default"));
        snprintf(n, sizeof n, "%d", count_attachments(c, iam_str(r, "arn")));
        qx(c, "AttachmentCount", n);
        snprintf(n, sizeof n, "%d", count_boundaries(c, iam_str(r, "arn")));
        qx(c, "PermissionsBoundaryUsageCount", n);
        qx(c, "IsAttachable", "true");
        if (*iam_str(r, "description"))
            qx(c, "Description", iam_str(r, "description"));
        qx_date(c, "CreateDate", json_integer_value(json_object_get(r, "created")));
        qx_date(c, "UpdateDate", json_integer_value(json_object_get(r, "updated")));
        if (with_tags)
            x_tags(c, json_object_get(r, "tags"), false);
        return;
    }
    char el[32];
    qx(c, "Path", iam_str(r, "path"));
    snprintf(el, sizeof el, "%sName", kind_title[k]);
    qx(c, el, iam_str(r, "name"));
    snprintf(el, sizeof el, "%sId", kind_title[k]);
    qx(c, el, iam_str(r, "id"));
    qx(c, "Arn", iam_str(r, "arn"));
    qx_date(c, "CreateDate", json_integer_value(json_object_get(r, "created")));
    if (k == IAM_ROLE) {
        qx_doc(c, "AssumeRolePolicyDocument", iam_str(r, "trust"));
        if (*iam_str(r, "description"))
            qx(c, "Description", iam_str(r, "description"));
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_object_get(r, "max_session")));
        qx(c, "MaxSessionDuration", n);
    }
    if (with_tags && k != IAM_GROUP) /* the single-entity answers (Get, Create) */
        x_boundary(c, r);
    if (with_tags && k != IAM_GROUP)
        x_tags(c, json_object_get(r, "tags"), false);
}

static void x_entity(qctx_t *c, enum iam_kind k, json_t *r, bool with_tags)
{
    buf_printf(&c->out, "<%s>", kind_title[k]);
    x_fields(c, k, r, with_tags);
    buf_printf(&c->out, "</%s>", kind_title[k]);
}

/* ---- paging ------------------------------------------------------------------------------ */

typedef void (*item_fn)(qctx_t *c, json_t *item, void *arg);

static const char *item_key(json_t *it)
{
    return json_is_string(it) ? json_string_value(it) : iam_str(it, "name");
}

static int cmp_items(const void *a, const void *b)
{
    return strcasecmp(item_key(*(json_t *const *)a), item_key(*(json_t *const *)b));
}

/* Writes <elem><member>..</member>...</elem><IsTruncated>..</IsTruncated>[<Marker>]. items is an
 * array of records (ordered by name) or strings; they are sorted here. */
static int paged(qctx_t *c, const char *elem, json_t *items, item_fn w, void *arg)
{
    size_t max = 100;
    int rc = max_items(c, &max);
    if (rc)
        return rc;
    size_t n = json_array_size(items);
    json_t **v = arena_calloc(c->q->a, n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(items, i);
    qsort(v, n, sizeof *v, cmp_items);
    const char *marker = qparam(c, "Marker");
    size_t i = 0;
    if (marker)
        while (i < n && strcasecmp(item_key(v[i]), marker) < 0)
            i++;
    buf_printf(&c->out, "<%s>", elem);
    size_t end = i + max < n ? i + max : n;
    for (; i < end; i++) {
        buf_puts(&c->out, "<member>");
        w(c, v[i], arg);
        buf_puts(&c->out, "</member>");
    }
    buf_printf(&c->out, "</%s>", elem);
    qx(c, "IsTruncated", end < n ? "true" : "false");
    if (end < n)
        qx(c, "Marker", item_key(v[end]));
    return 0;
}

struct collect {
    json_t *arr;
    const char *prefix;
};

static int collect_cb(void *ctx, json_t *rec)
{
    struct collect *cl = ctx;
    if (!cl->prefix || strncmp(iam_str(rec, "path"), cl->prefix, strlen(cl->prefix)) == 0)
        json_array_append(cl->arr, rec);
    return 0;
}

/* All records of a kind in the caller's account (path prefix filter may be NULL). */
static json_t *collect(qctx_t *c, enum iam_kind k, const char *prefix)
{
    struct collect cl = {json_array(), prefix};
    iam_list(STORE(c), k, ACCT(c), collect_cb, &cl);
    return cl.arr;
}

static bool arr_has(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcasecmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

static bool arr_remove(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcasecmp(json_string_value(v), s) == 0) {
            json_array_remove(arr, i);
            return true;
        }
    return false;
}

/* Users and roles whose permissions boundary is the policy arn. */
static int count_boundaries(qctx_t *c, const char *arn)
{
    int n = 0;
    for (int k = IAM_USER; k <= IAM_ROLE; k += IAM_ROLE - IAM_USER) {
        json_t *all = collect(c, (enum iam_kind)k, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(all, i, r)
            if (strcmp(iam_str(r, "boundary"), arn) == 0)
                n++;
        json_decref(all);
    }
    return n;
}

static int count_attachments(qctx_t *c, const char *arn)
{
    int n = 0;
    for (int k = IAM_USER; k <= IAM_ROLE; k++) {
        json_t *all = collect(c, (enum iam_kind)k, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(all, i, r)
            if (arr_has(json_object_get(r, "attached"), arn))
                n++;
        json_decref(all);
    }
    return n;
}

/* ---- loading entities -------------------------------------------------------------------- */

static int not_found(qctx_t *c, enum iam_kind k, const char *name)
{
    if (k == IAM_POLICY)
        return qfail(c, QE_NO_SUCH_ENTITY, "Policy %s does not exist or is not attachable.", name);
    return qfail(c, QE_NO_SUCH_ENTITY, "The %s with name %s cannot be found.", kind_lower[k], name);
}

static int load(qctx_t *c, enum iam_kind k, const char *name, json_t **out)
{
    int rc = iam_get(STORE(c), k, ACCT(c), sv_from_cstr(name), out);
    if (rc == -ENOENT)
        return not_found(c, k, name);
    return rc ? internal(c, rc) : 0;
}

static int save(qctx_t *c, enum iam_kind k, json_t *r)
{
    int rc = iam_put(STORE(c), k, ACCT(c), iam_str(r, "name"), r);
    return rc ? internal(c, rc) : 0;
}

/* Loads the entity named by the request's <Kind>Name parameter. */
static int load_param(qctx_t *c, enum iam_kind k, json_t **out, const char **name)
{
    char param[32];
    int rc = 0;
    snprintf(param, sizeof param, "%sName", kind_title[k]);
    *out = NULL;
    *name = need_name(c, param, name_max[k], &rc);
    if (!*name)
        return rc;
    return load(c, k, *name, out);
}

/* A managed policy by ARN (arn:aws:iam::ACCT:policy/PATH/NAME) in the caller's account. */
static int load_policy_arn(qctx_t *c, json_t **out, const char **arn_out)
{
    int rc = 0;
    const char *arn = qrequire(c, "PolicyArn", &rc);
    *out = NULL;
    if (!arn)
        return rc;
    *arn_out = arn;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:policy/", ACCT(c));
    const char *name = strrchr(arn, '/');
    if (strncmp(arn, prefix, strlen(prefix)) != 0 || !name || !name_ok(name + 1, 128))
        return not_found(c, IAM_POLICY, arn);
    rc = iam_get(STORE(c), IAM_POLICY, ACCT(c), sv_from_cstr(name + 1), out);
    if (rc == 0 && strcmp(iam_str(*out, "arn"), arn) != 0) {
        json_decref(*out);
        *out = NULL;
        rc = -ENOENT;
    }
    if (rc == -ENOENT)
        return not_found(c, IAM_POLICY, arn);
    return rc ? internal(c, rc) : 0;
}

static json_t *new_entity(qctx_t *c, enum iam_kind k, const char *name, const char *path)
{
    char id[32], arn[800];
    iam_gen_id(id, id_prefix[k], 21);
    snprintf(arn, sizeof arn, "arn:aws:iam::%s:%s%s%s", ACCT(c), kind_lower[k], path, name);
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", name, "path", path, "id", id, "arn", arn,
                     "created", (json_int_t)now_s());
}

/* ---- permissions boundaries -------------------------------------------------------------- */

/* The PermissionsBoundary parameter: a managed policy of the account (AWS-managed policies do
 * not exist here). *out NULL when absent and not required. */
static int boundary_param(qctx_t *c, bool required, const char **out)
{
    int rc = 0;
    const char *arn = required ? qrequire(c, "PermissionsBoundary", &rc)
                               : qparam(c, "PermissionsBoundary");
    *out = NULL;
    if (!arn)
        return rc;
    size_t n = strlen(arn);
    if (n < 20 || n > 2048 || strncmp(arn, "arn:aws:iam::", 13) != 0 || !strstr(arn, ":policy/"))
        return qfail(c, QE_INVALID_INPUT, "ARN %.512s is not valid.", arn);
    char *doc = NULL;
    rc = iam_managed_policy_doc(STORE(c), ACCT(c), arn, &doc);
    free(doc);
    if (rc == -ENOENT)
        return qfail(c, QE_NO_SUCH_ENTITY, "Policy %.512s does not exist or is not attachable.",
                     arn);
    if (rc)
        return internal(c, rc);
    *out = arn;
    return 0;
}

static int load_param(qctx_t *c, enum iam_kind k, json_t **out, const char **name);
static int save(qctx_t *c, enum iam_kind k, json_t *r);

static int put_boundary(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *name, *arn;
    iam_lock();
    int rc = load_param(c, k, &r, &name);
    if (rc == 0 && (rc = boundary_param(c, true, &arn)) == 0) {
        json_object_set_new(r, "boundary", json_string(arn));
        rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int delete_boundary(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *name;
    iam_lock();
    int rc = load_param(c, k, &r, &name);
    if (rc == 0 && json_object_get(r, "boundary")) {
        json_object_del(r, "boundary");
        rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int put_user_permissions_boundary(qctx_t *c) { return put_boundary(c, IAM_USER); }
static int delete_user_permissions_boundary(qctx_t *c) { return delete_boundary(c, IAM_USER); }
static int put_role_permissions_boundary(qctx_t *c) { return put_boundary(c, IAM_ROLE); }
static int delete_role_permissions_boundary(qctx_t *c) { return delete_boundary(c, IAM_ROLE); }

/* CreateUser/CreateRole: the optional PermissionsBoundary into the new record. */
static int with_boundary(qctx_t *c, json_t *r)
{
    const char *arn;
    int rc = boundary_param(c, false, &arn);
    if (rc == 0 && arn)
        json_object_set_new(r, "boundary", json_string(arn));
    return rc;
}

/* ---- users ------------------------------------------------------------------------------- */

static int create_entity(qctx_t *c, enum iam_kind k, json_t **out)
{
    int rc = 0;
    char param[32];
    snprintf(param, sizeof param, "%sName", kind_title[k]);
    const char *name = need_name(c, param, name_max[k], &rc);
    const char *path = name ? opt_path(c, "Path", &rc) : NULL;
    if (!path)
        return rc;
    json_t *r = NULL;
    if (iam_get(STORE(c), k, ACCT(c), sv_from_cstr(name), &r) == 0) {
        json_decref(r);
        if (k == IAM_POLICY)
            return qfail(c, QE_ENTITY_EXISTS,
                         "A policy called %s already exists. Duplicate names are not allowed.", name);
        return qfail(c, QE_ENTITY_EXISTS, "%s with name %s already exists.", kind_title[k], name);
    }
    *out = new_entity(c, k, name, path);
    return 0;
}

static int with_tags(qctx_t *c, json_t *r)
{
    int rc = 0;
    json_t *tags = parse_tags(c, &rc);
    if (!tags)
        return rc;
    json_object_set_new(r, "tags", tags);
    return 0;
}

static int create_user(qctx_t *c)
{
    json_t *r = NULL;
    iam_lock();
    int rc = create_entity(c, IAM_USER, &r);
    if (rc == 0 && (rc = with_tags(c, r)) == 0 && (rc = with_boundary(c, r)) == 0 &&
        (rc = save(c, IAM_USER, r)) == 0)
        x_entity(c, IAM_USER, r, true);
    iam_unlock();
    json_decref(r);
    return rc;
}

static int get_user(qctx_t *c)
{
    rq_principal_t *p = &c->q->principal;
    const char *name = qparam(c, "UserName");
    if (!name && p->type == RQP_USER)
        name = p->name;
    if (!name) { /* the root user */
        buf_puts(&c->out, "<User>");
        qx(c, "UserId", ACCT(c));
        qx(c, "Arn", p->arn);
        qx_date(c, "CreateDate", 0);
        buf_puts(&c->out, "</User>");
        return 0;
    }
    json_t *r;
    int rc = name_ok(name, 64) ? load(c, IAM_USER, name, &r) : not_found(c, IAM_USER, name);
    if (rc)
        return rc;
    x_entity(c, IAM_USER, r, true);
    json_decref(r);
    return 0;
}

static void w_entity(qctx_t *c, json_t *r, void *arg)
{
    x_fields(c, *(enum iam_kind *)arg, r, false);
}

static int list_entities(qctx_t *c, enum iam_kind k, const char *elem)
{
    json_t *all = collect(c, k, qparam(c, "PathPrefix"));
    int rc = paged(c, elem, all, w_entity, &k);
    json_decref(all);
    return rc;
}

static int list_users(qctx_t *c)
{
    return list_entities(c, IAM_USER, "Users");
}

static bool in_any_group(qctx_t *c, const char *user)
{
    json_t *all = collect(c, IAM_GROUP, NULL);
    size_t i;
    json_t *g;
    bool found = false;
    json_array_foreach(all, i, g)
        found = found || arr_has(json_object_get(g, "members"), user);
    json_decref(all);
    return found;
}

static int delete_conflicts(qctx_t *c, enum iam_kind k, json_t *r)
{
    if (k == IAM_USER && json_array_size(json_object_get(r, "keys")))
        return qfail(c, QE_DELETE_CONFLICT, "Cannot delete entity, must delete access keys first.");
    if (json_object_size(json_object_get(r, "policies")))
        return qfail(c, QE_DELETE_CONFLICT, "Cannot delete entity, must delete policies first.");
    if (json_array_size(json_object_get(r, "attached")))
        return qfail(c, QE_DELETE_CONFLICT, "Cannot delete entity, must detach all policies first.");
    if (k == IAM_USER && in_any_group(c, iam_str(r, "name")))
        return qfail(c, QE_DELETE_CONFLICT, "Cannot delete entity, must remove users from group first.");
    if (k == IAM_GROUP && json_array_size(json_object_get(r, "members")))
        return qfail(c, QE_DELETE_CONFLICT, "Cannot delete entity, must remove users from group first.");
    return 0;
}

static int delete_entity(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *name;
    iam_lock();
    int rc = load_param(c, k, &r, &name);
    if (rc == 0)
        rc = delete_conflicts(c, k, r);
    if (rc == 0 && (rc = iam_del(STORE(c), k, ACCT(c), iam_str(r, "name"))) != 0)
        rc = internal(c, rc);
    iam_unlock();
    json_decref(r);
    return rc;
}

static int delete_user(qctx_t *c)
{
    return delete_entity(c, IAM_USER);
}

/* ---- tags (users, roles) ----------------------------------------------------------------- */

static int tag_entity(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *name;
    iam_lock();
    int rc = load_param(c, k, &r, &name);
    json_t *add = rc ? NULL : parse_tags(c, &rc);
    if (rc == 0) {
        json_t *tags = iam_arr(r, "tags");
        size_t i, j;
        json_t *t, *u;
        json_array_foreach(add, i, t) {
            bool replaced = false;
            json_array_foreach(tags, j, u)
                if (strcasecmp(iam_str(u, "Key"), iam_str(t, "Key")) == 0) {
                    json_array_set(tags, j, t);
                    replaced = true;
                    break;
                }
            if (!replaced)
                json_array_append(tags, t);
        }
        if (json_array_size(tags) > MAX_TAGS)
            rc = qfail(c, QE_LIMIT_EXCEEDED, "The number of tags has reached the maximum limit.");
        else
            rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(add);
    json_decref(r);
    return rc;
}

static int untag_entity(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *name;
    iam_lock();
    int rc = load_param(c, k, &r, &name);
    if (rc == 0) {
        json_t *tags = iam_arr(r, "tags");
        for (size_t n = 1;; n++) {
            sv_t key = form_getf(&c->form, "TagKeys.member.%zu", n);
            if (!key.p)
                break;
            size_t i;
            json_t *t;
            json_array_foreach(tags, i, t)
                if (strcasecmp(iam_str(t, "Key"), key.p) == 0) {
                    json_array_remove(tags, i);
                    break;
                }
        }
        rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int list_tags(qctx_t *c, enum iam_kind k)
{
    json_t *r;
    const char *name;
    int rc = load_param(c, k, &r, &name);
    if (rc)
        return rc;
    x_tags(c, iam_arr(r, "tags"), true);
    qx(c, "IsTruncated", "false");
    json_decref(r);
    return 0;
}

static int tag_user(qctx_t *c) { return tag_entity(c, IAM_USER); }
static int untag_user(qctx_t *c) { return untag_entity(c, IAM_USER); }
static int list_user_tags(qctx_t *c) { return list_tags(c, IAM_USER); }
static int tag_role(qctx_t *c) { return tag_entity(c, IAM_ROLE); }
static int untag_role(qctx_t *c) { return untag_entity(c, IAM_ROLE); }
static int list_role_tags(qctx_t *c) { return list_tags(c, IAM_ROLE); }

/* ---- access keys ------------------------------------------------------------------------- */

/* The user a key call is about: UserName, or the calling IAM user. */
static const char *key_user(qctx_t *c, int *rc)
{
    const char *name = qparam(c, "UserName");
    if (!name && c->q->principal.type == RQP_USER)
        name = c->q->principal.name;
    if (!name) {
        *rc = qfail(c, QE_VALIDATION, "UserName is required: the root user's access keys are "
                                      "managed with `strata admin`.");
        return NULL;
    }
    if (!name_ok(name, 64)) {
        *rc = not_found(c, IAM_USER, name);
        return NULL;
    }
    return name;
}

static int create_access_key(qctx_t *c)
{
    int rc = 0;
    const char *name = key_user(c, &rc);
    if (!name)
        return rc;
    json_t *u = NULL;
    iam_lock();
    if ((rc = load(c, IAM_USER, name, &u)) != 0)
        goto out;
    json_t *keys = iam_arr(u, "keys");
    if (json_array_size(keys) >= MAX_KEYS_PER_USER) {
        rc = qfail(c, QE_LIMIT_EXCEEDED, "Cannot exceed quota for AccessKeysPerUser: %d",
                   MAX_KEYS_PER_USER);
        goto out;
    }
    access_key_t k = {0}, old;
    do
        iam_gen_id(k.access_key, "AKIA", 20);
    while (accounts_key_get(STORE(c), sv_from_cstr(k.access_key), &old) == 0);
    iam_gen_secret(k.secret);
    snprintf(k.account_id, sizeof k.account_id, "%s", ACCT(c));
    snprintf(k.user, sizeof k.user, "%s", iam_str(u, "name"));
    k.active = true;
    k.created = now_s();
    /* The key record first, then the user's reference to it (see iam_store.h). */
    if ((rc = accounts_key_put(STORE(c), &k)) != 0) {
        rc = internal(c, rc);
        goto out;
    }
    json_array_append_new(keys, json_string(k.access_key));
    if ((rc = save(c, IAM_USER, u)) != 0) {
        accounts_key_delete(STORE(c), sv_from_cstr(k.access_key));
        goto out;
    }
    buf_puts(&c->out, "<AccessKey>");
    qx(c, "UserName", k.user);
    qx(c, "AccessKeyId", k.access_key);
    qx(c, "Status", "Active");
    qx(c, "SecretAccessKey", k.secret);
    qx_date(c, "CreateDate", k.created);
    buf_puts(&c->out, "</AccessKey>");
out:
    iam_unlock();
    json_decref(u);
    return rc;
}

static void w_key(qctx_t *c, json_t *it, void *arg)
{
    json_t *u = arg;
    access_key_t k;
    if (accounts_key_get(STORE(c), sv_from_cstr(json_string_value(it)), &k) != 0)
        return;
    qx(c, "UserName", iam_str(u, "name"));
    qx(c, "AccessKeyId", k.access_key);
    qx(c, "Status", k.active ? "Active" : "Inactive");
    qx_date(c, "CreateDate", k.created);
}

static int list_access_keys(qctx_t *c)
{
    int rc = 0;
    const char *name = key_user(c, &rc);
    json_t *u;
    if (!name || (rc = load(c, IAM_USER, name, &u)) != 0)
        return rc;
    rc = paged(c, "AccessKeyMetadata", iam_arr(u, "keys"), w_key, u);
    json_decref(u);
    return rc;
}

/* Loads the user and the key, which must be one of the user's. */
static int user_key(qctx_t *c, json_t **u, access_key_t *k)
{
    int rc = 0;
    const char *name = key_user(c, &rc);
    const char *id = name ? qrequire(c, "AccessKeyId", &rc) : NULL;
    *u = NULL;
    if (!id)
        return rc;
    if ((rc = load(c, IAM_USER, name, u)) != 0)
        return rc;
    if (!arr_has(iam_arr(*u, "keys"), id) ||
        accounts_key_get(STORE(c), sv_from_cstr(id), k) != 0 || strcmp(k->account_id, ACCT(c)) != 0)
        return qfail(c, QE_NO_SUCH_ENTITY, "The Access Key with id %.128s cannot be found", id);
    return 0;
}

static int update_access_key(qctx_t *c)
{
    int rc = 0;
    const char *status = qrequire(c, "Status", &rc);
    if (!status)
        return rc;
    if (strcmp(status, "Active") != 0 && strcmp(status, "Inactive") != 0)
        return bad_value(c, "status", status, "Member must satisfy enum value set: [Active, Inactive]");
    json_t *u;
    access_key_t k;
    iam_lock();
    if ((rc = user_key(c, &u, &k)) == 0) {
        k.active = strcmp(status, "Active") == 0;
        if ((rc = accounts_key_put(STORE(c), &k)) != 0)
            rc = internal(c, rc);
    }
    iam_unlock();
    json_decref(u);
    return rc;
}

static int delete_access_key(qctx_t *c)
{
    json_t *u;
    access_key_t k;
    iam_lock();
    int rc = user_key(c, &u, &k);
    /* The key record first: a crash afterwards leaves a dangling name in the user's list
     * (skipped when listing), never a key that still authenticates. */
    if (rc == 0 && (rc = accounts_key_delete(STORE(c), sv_from_cstr(k.access_key))) != 0)
        rc = internal(c, rc);
    if (rc == 0) {
        arr_remove(iam_arr(u, "keys"), k.access_key);
        rc = save(c, IAM_USER, u);
    }
    iam_unlock();
    json_decref(u);
    return rc;
}

/* ---- inline policies (users, groups, roles) ---------------------------------------------- */

static int put_inline(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *ename;
    iam_lock();
    int rc = load_param(c, k, &r, &ename);
    const char *pname = rc ? NULL : need_name(c, "PolicyName", 128, &rc);
    const char *doc = pname ? qrequire(c, "PolicyDocument", &rc) : NULL;
    if (doc) {
        json_t *pol = iam_obj(r, "policies");
        size_t already = 0;
        const char *key;
        json_t *v;
        json_object_foreach(pol, key, v)
            if (strcmp(key, pname) != 0)
                already += char_count(json_string_value(v) ? json_string_value(v) : "");
        if ((rc = check_doc(c, doc, inline_quota[k], already, false)) == 0) {
            json_object_set_new(pol, pname, json_string(doc));
            rc = save(c, k, r);
        }
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int get_inline(qctx_t *c, enum iam_kind k)
{
    json_t *r;
    const char *ename;
    int rc = load_param(c, k, &r, &ename);
    if (rc)
        return rc;
    const char *pname = qrequire(c, "PolicyName", &rc);
    const char *doc = pname ? json_string_value(json_object_get(iam_obj(r, "policies"), pname)) : NULL;
    if (pname && !doc)
        rc = qfail(c, QE_NO_SUCH_ENTITY, "The %s policy with name %.128s cannot be found.",
                   kind_lower[k], pname);
    if (doc) {
        char el[32];
        snprintf(el, sizeof el, "%sName", kind_title[k]);
        qx(c, el, iam_str(r, "name"));
        qx(c, "PolicyName", pname);
        qx_doc(c, "PolicyDocument", doc);
    }
    json_decref(r);
    return rc;
}

static int delete_inline(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *ename;
    iam_lock();
    int rc = load_param(c, k, &r, &ename);
    const char *pname = rc ? NULL : qrequire(c, "PolicyName", &rc);
    if (pname) {
        if (json_object_del(iam_obj(r, "policies"), pname) != 0)
            rc = qfail(c, QE_NO_SUCH_ENTITY, "The %s policy with name %.128s cannot be found.",
                       kind_lower[k], pname);
        else
            rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static void w_string(qctx_t *c, json_t *it, void *arg)
{
    buf_xml_escape(&c->out, sv_from_cstr(json_string_value(it)));
}

static int list_inline(qctx_t *c, enum iam_kind k)
{
    json_t *r;
    const char *ename;
    int rc = load_param(c, k, &r, &ename);
    if (rc)
        return rc;
    json_t *names = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(iam_obj(r, "policies"), key, v)
        json_array_append_new(names, json_string(key));
    rc = paged(c, "PolicyNames", names, w_string, NULL);
    json_decref(names);
    json_decref(r);
    return rc;
}

static int put_user_policy(qctx_t *c) { return put_inline(c, IAM_USER); }
static int get_user_policy(qctx_t *c) { return get_inline(c, IAM_USER); }
static int delete_user_policy(qctx_t *c) { return delete_inline(c, IAM_USER); }
static int list_user_policies(qctx_t *c) { return list_inline(c, IAM_USER); }
static int put_group_policy(qctx_t *c) { return put_inline(c, IAM_GROUP); }
static int get_group_policy(qctx_t *c) { return get_inline(c, IAM_GROUP); }
static int delete_group_policy(qctx_t *c) { return delete_inline(c, IAM_GROUP); }
static int list_group_policies(qctx_t *c) { return list_inline(c, IAM_GROUP); }
static int put_role_policy(qctx_t *c) { return put_inline(c, IAM_ROLE); }
static int get_role_policy(qctx_t *c) { return get_inline(c, IAM_ROLE); }
static int delete_role_policy(qctx_t *c) { return delete_inline(c, IAM_ROLE); }
static int list_role_policies(qctx_t *c) { return list_inline(c, IAM_ROLE); }

/* ---- managed policy attachments ---------------------------------------------------------- */

static int attach(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL, *p = NULL;
    const char *ename, *arn = NULL;
    iam_lock();
    int rc = load_param(c, k, &r, &ename);
    if (rc == 0)
        rc = load_policy_arn(c, &p, &arn);
    if (rc == 0) {
        json_t *att = iam_arr(r, "attached");
        if (arr_has(att, arn)) {
            rc = 0; /* already attached: nothing to do, as IAM */
        } else if (json_array_size(att) >= MAX_ATTACHED) {
            rc = qfail(c, QE_LIMIT_EXCEEDED, "Cannot exceed quota for PoliciesPer%s: %d",
                       kind_title[k], MAX_ATTACHED);
        } else {
            json_array_append_new(att, json_string(iam_str(p, "arn")));
            rc = save(c, k, r);
        }
    }
    iam_unlock();
    json_decref(p);
    json_decref(r);
    return rc;
}

static int detach(qctx_t *c, enum iam_kind k)
{
    json_t *r = NULL;
    const char *ename;
    iam_lock();
    int rc = load_param(c, k, &r, &ename);
    const char *arn = rc ? NULL : qrequire(c, "PolicyArn", &rc);
    if (arn) {
        if (!arr_remove(iam_arr(r, "attached"), arn))
            rc = qfail(c, QE_NO_SUCH_ENTITY, "Policy %.512s was not found.", arn);
        else
            rc = save(c, k, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static void w_attached(qctx_t *c, json_t *it, void *arg)
{
    const char *arn = json_string_value(it);
    const char *slash = strrchr(arn, '/');
    qx(c, "PolicyName", slash ? slash + 1 : arn);
    qx(c, "PolicyArn", arn);
}

static int list_attached(qctx_t *c, enum iam_kind k)
{
    json_t *r;
    const char *ename;
    int rc = load_param(c, k, &r, &ename);
    if (rc)
        return rc;
    rc = paged(c, "AttachedPolicies", iam_arr(r, "attached"), w_attached, NULL);
    json_decref(r);
    return rc;
}

static int attach_user_policy(qctx_t *c) { return attach(c, IAM_USER); }
static int detach_user_policy(qctx_t *c) { return detach(c, IAM_USER); }
static int list_attached_user_policies(qctx_t *c) { return list_attached(c, IAM_USER); }
static int attach_group_policy(qctx_t *c) { return attach(c, IAM_GROUP); }
static int detach_group_policy(qctx_t *c) { return detach(c, IAM_GROUP); }
static int list_attached_group_policies(qctx_t *c) { return list_attached(c, IAM_GROUP); }
static int attach_role_policy(qctx_t *c) { return attach(c, IAM_ROLE); }
static int detach_role_policy(qctx_t *c) { return detach(c, IAM_ROLE); }
static int list_attached_role_policies(qctx_t *c) { return list_attached(c, IAM_ROLE); }

/* ---- managed policies -------------------------------------------------------------------- */

static void x_version(qctx_t *c, json_t *p, json_t *v, bool doc)
{
    buf_puts(&c->out, "<PolicyVersion>");
    if (doc)
        qx_doc(c, "Document", iam_str(v, "doc"));
    qx(c, "VersionId", iam_str(v, "id"));
    qx(c, "IsDefaultVersion", strcmp(iam_str(v, "id"), iam_str(p, "default")) == 0 ? "true" : "false");
    qx_date(c, "CreateDate", json_integer_value(json_object_get(v, "created")));
    buf_puts(&c->out, "</PolicyVersion>");
}

static int create_policy(qctx_t *c)
{
    json_t *r = NULL;
    int rc = 0;
    const char *doc = qrequire(c, "PolicyDocument", &rc);
    const char *desc = qparam(c, "Description");
    if (!doc)
        return rc;
    if (desc && strlen(desc) > 1000)
        return bad_value(c, "description", desc, "Member must have length less than or equal to 1000");
    if ((rc = check_doc(c, doc, MANAGED_QUOTA, 0, false)) != 0)
        return rc;
    iam_lock();
    rc = create_entity(c, IAM_POLICY, &r);
    if (rc == 0 && (rc = with_tags(c, r)) == 0) {
        json_int_t now = (json_int_t)now_s();
        json_object_set_new(r, "updated", json_integer(now));
        json_object_set_new(r, "description", json_string(desc ? desc : ""));
        json_object_set_new(r, "default", json_string("v1"));
        json_object_set_new(r, "next", json_integer(2));
        json_object_set_new(r, "versions",
                            json_pack("[{s:s, s:s, s:I}]", "id", "v1", "doc", doc, "created", now));
        if ((rc = save(c, IAM_POLICY, r)) == 0)
            x_entity(c, IAM_POLICY, r, true);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int get_policy(qctx_t *c)
{
    json_t *p;
    const char *arn;
    int rc = load_policy_arn(c, &p, &arn);
    if (rc)
        return rc;
    x_entity(c, IAM_POLICY, p, true);
    json_decref(p);
    return 0;
}

static int delete_policy(qctx_t *c)
{
    json_t *p = NULL;
    const char *arn;
    iam_lock();
    int rc = load_policy_arn(c, &p, &arn);
    if (rc == 0 && (count_attachments(c, arn) > 0 || count_boundaries(c, arn) > 0))
        rc = qfail(c, QE_DELETE_CONFLICT, "Cannot delete a policy attached to entities.");
    if (rc == 0 && json_array_size(json_object_get(p, "versions")) > 1)
        rc = qfail(c, QE_DELETE_CONFLICT,
                   "This policy has more than one version. Before you delete a policy, you must "
                   "delete the policy's versions. The default version is deleted with the policy.");
    if (rc == 0 && (rc = iam_del(STORE(c), IAM_POLICY, ACCT(c), iam_str(p, "name"))) != 0)
        rc = internal(c, rc);
    iam_unlock();
    json_decref(p);
    return rc;
}

static int list_policies(qctx_t *c)
{
    const char *scope = qparam(c, "Scope");
    const char *only = qparam(c, "OnlyAttached");
    json_t *all = collect(c, IAM_POLICY, qparam(c, "PathPrefix"));
    if (scope && strcmp(scope, "AWS") == 0)
        json_array_clear(all); /* no AWS-managed policies here */
    if (only && strcmp(only, "true") == 0) {
        for (size_t i = json_array_size(all); i-- > 0;)
            if (count_attachments(c, iam_str(json_array_get(all, i), "arn")) == 0)
                json_array_remove(all, i);
    }
    enum iam_kind k = IAM_POLICY;
    int rc = paged(c, "Policies", all, w_entity, &k);
    json_decref(all);
    return rc;
}

static json_t *find_version(json_t *p, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(p, "versions"), i, v)
        if (strcmp(iam_str(v, "id"), id) == 0)
            return v;
    return NULL;
}

static int create_policy_version(qctx_t *c)
{
    json_t *p = NULL;
    const char *arn;
    iam_lock();
    int rc = load_policy_arn(c, &p, &arn);
    const char *doc = rc ? NULL : qrequire(c, "PolicyDocument", &rc);
    if (doc && (rc = check_doc(c, doc, MANAGED_QUOTA, 0, false)) == 0) {
        json_t *vs = iam_arr(p, "versions");
        if (json_array_size(vs) >= MAX_VERSIONS) {
            rc = qfail(c, QE_LIMIT_EXCEEDED,
                       "A managed policy can have up to %d versions. Before you create a new "
                       "version, you must delete an existing version.", MAX_VERSIONS);
        } else {
            json_int_t next = json_integer_value(json_object_get(p, "next"));
            char id[32];
            snprintf(id, sizeof id, "v%lld", (long long)(next > 0 ? next : 2));
            json_int_t now = (json_int_t)now_s();
            json_t *v = json_pack("{s:s, s:s, s:I}", "id", id, "doc", doc, "created", now);
            json_array_append_new(vs, v);
            json_object_set_new(p, "next", json_integer((next > 0 ? next : 2) + 1));
            json_object_set_new(p, "updated", json_integer(now));
            const char *def = qparam(c, "SetAsDefault");
            if (def && strcmp(def, "true") == 0)
                json_object_set_new(p, "default", json_string(id));
            if ((rc = save(c, IAM_POLICY, p)) == 0)
                x_version(c, p, v, false);
        }
    }
    iam_unlock();
    json_decref(p);
    return rc;
}

static int load_version(qctx_t *c, json_t **p, json_t **v)
{
    const char *arn;
    int rc = load_policy_arn(c, p, &arn);
    const char *id = rc ? NULL : qrequire(c, "VersionId", &rc);
    if (id && !(*v = find_version(*p, id)))
        rc = qfail(c, QE_NO_SUCH_ENTITY, "Policy %.512s version %.32s does not exist or is not "
                                         "attachable.", arn, id);
    return rc;
}

static int get_policy_version(qctx_t *c)
{
    json_t *p = NULL, *v = NULL;
    int rc = load_version(c, &p, &v);
    if (rc == 0)
        x_version(c, p, v, true);
    json_decref(p);
    return rc;
}

static int delete_policy_version(qctx_t *c)
{
    json_t *p = NULL, *v = NULL;
    iam_lock();
    int rc = load_version(c, &p, &v);
    if (rc == 0 && strcmp(iam_str(v, "id"), iam_str(p, "default")) == 0)
        rc = qfail(c, QE_DELETE_CONFLICT, "Cannot delete the default version of a policy.");
    if (rc == 0) {
        json_t *vs = iam_arr(p, "versions");
        size_t i;
        json_t *x;
        json_array_foreach(vs, i, x)
            if (x == v) {
                json_array_remove(vs, i);
                break;
            }
        rc = save(c, IAM_POLICY, p);
    }
    iam_unlock();
    json_decref(p);
    return rc;
}

static int set_default_policy_version(qctx_t *c)
{
    json_t *p = NULL, *v = NULL;
    iam_lock();
    int rc = load_version(c, &p, &v);
    if (rc == 0) {
        json_object_set_new(p, "default", json_string(iam_str(v, "id")));
        json_object_set_new(p, "updated", json_integer((json_int_t)now_s()));
        rc = save(c, IAM_POLICY, p);
    }
    iam_unlock();
    json_decref(p);
    return rc;
}

static void w_version(qctx_t *c, json_t *v, void *arg)
{
    json_t *p = arg;
    qx(c, "VersionId", iam_str(v, "id"));
    qx(c, "IsDefaultVersion", strcmp(iam_str(v, "id"), iam_str(p, "default")) == 0 ? "true" : "false");
    qx_date(c, "CreateDate", json_integer_value(json_object_get(v, "created")));
}

static int list_policy_versions(qctx_t *c)
{
    json_t *p;
    const char *arn;
    int rc = load_policy_arn(c, &p, &arn);
    if (rc)
        return rc;
    /* Versions page by id, newest first in AWS's answers; here "v1".."v9" sort as names. */
    json_t *vs = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(iam_arr(p, "versions"), i, v) {
        json_t *x = json_deep_copy(v);
        json_object_set(x, "name", json_object_get(v, "id"));
        json_array_append_new(vs, x);
    }
    rc = paged(c, "Versions", vs, w_version, p);
    json_decref(vs);
    json_decref(p);
    return rc;
}

/* ---- groups ------------------------------------------------------------------------------ */

static int create_group(qctx_t *c)
{
    json_t *r = NULL;
    iam_lock();
    int rc = create_entity(c, IAM_GROUP, &r);
    if (rc == 0 && (rc = save(c, IAM_GROUP, r)) == 0)
        x_entity(c, IAM_GROUP, r, false);
    iam_unlock();
    json_decref(r);
    return rc;
}

static void w_member(qctx_t *c, json_t *it, void *arg)
{
    json_t *u;
    if (iam_get(STORE(c), IAM_USER, ACCT(c), sv_from_cstr(json_string_value(it)), &u) != 0)
        return;
    x_fields(c, IAM_USER, u, false);
    json_decref(u);
}

static int get_group(qctx_t *c)
{
    json_t *g;
    const char *name;
    int rc = load_param(c, IAM_GROUP, &g, &name);
    if (rc)
        return rc;
    x_entity(c, IAM_GROUP, g, false);
    rc = paged(c, "Users", iam_arr(g, "members"), w_member, NULL);
    json_decref(g);
    return rc;
}

static int list_groups(qctx_t *c)
{
    return list_entities(c, IAM_GROUP, "Groups");
}

static int delete_group(qctx_t *c)
{
    return delete_entity(c, IAM_GROUP);
}

static int groups_of(qctx_t *c, const char *user, json_t *out /* array */)
{
    json_t *all = collect(c, IAM_GROUP, NULL);
    size_t i;
    json_t *g;
    int n = 0;
    json_array_foreach(all, i, g)
        if (arr_has(json_object_get(g, "members"), user)) {
            n++;
            if (out)
                json_array_append(out, g);
        }
    json_decref(all);
    return n;
}

static int add_user_to_group(qctx_t *c)
{
    json_t *g = NULL, *u = NULL;
    const char *gname, *uname;
    iam_lock();
    int rc = load_param(c, IAM_GROUP, &g, &gname);
    if (rc == 0)
        rc = load_param(c, IAM_USER, &u, &uname);
    if (rc == 0 && !arr_has(iam_arr(g, "members"), iam_str(u, "name"))) {
        if (groups_of(c, iam_str(u, "name"), NULL) >= MAX_GROUPS_PER_USER)
            rc = qfail(c, QE_LIMIT_EXCEEDED, "Cannot exceed quota for GroupsPerUser: %d",
                       MAX_GROUPS_PER_USER);
        else {
            json_array_append_new(iam_arr(g, "members"), json_string(iam_str(u, "name")));
            rc = save(c, IAM_GROUP, g);
        }
    }
    iam_unlock();
    json_decref(g);
    json_decref(u);
    return rc;
}

static int remove_user_from_group(qctx_t *c)
{
    json_t *g = NULL;
    const char *gname;
    iam_lock();
    int rc = load_param(c, IAM_GROUP, &g, &gname);
    const char *uname = rc ? NULL : need_name(c, "UserName", 64, &rc);
    if (uname) {
        if (!arr_remove(iam_arr(g, "members"), uname))
            rc = not_found(c, IAM_USER, uname);
        else
            rc = save(c, IAM_GROUP, g);
    }
    iam_unlock();
    json_decref(g);
    return rc;
}

static int list_groups_for_user(qctx_t *c)
{
    json_t *u;
    const char *name;
    int rc = load_param(c, IAM_USER, &u, &name);
    if (rc)
        return rc;
    json_t *gs = json_array();
    groups_of(c, iam_str(u, "name"), gs);
    enum iam_kind k = IAM_GROUP;
    rc = paged(c, "Groups", gs, w_entity, &k);
    json_decref(gs);
    json_decref(u);
    return rc;
}

/* ---- roles ------------------------------------------------------------------------------- */

static int max_session(qctx_t *c, int64_t *out)
{
    const char *v = qparam(c, "MaxSessionDuration");
    uint64_t n;
    if (!v)
        return 0;
    if (sv_to_u64(sv_from_cstr(v), &n) != 0 || n < 3600 || n > 43200)
        return bad_value(c, "maxSessionDuration", v, "Member must have value between 3600 and 43200");
    *out = (int64_t)n;
    return 0;
}

static int create_role(qctx_t *c)
{
    json_t *r = NULL;
    int rc = 0;
    int64_t max = 3600;
    const char *doc = qrequire(c, "AssumeRolePolicyDocument", &rc);
    const char *desc = qparam(c, "Description");
    if (!doc || (rc = max_session(c, &max)) != 0)
        return rc;
    if (desc && strlen(desc) > 1000)
        return bad_value(c, "description", desc, "Member must have length less than or equal to 1000");
    if ((rc = check_doc(c, doc, TRUST_QUOTA, 0, true)) != 0)
        return rc;
    iam_lock();
    rc = create_entity(c, IAM_ROLE, &r);
    if (rc == 0 && (rc = with_tags(c, r)) == 0 && (rc = with_boundary(c, r)) == 0) {
        json_object_set_new(r, "trust", json_string(doc));
        json_object_set_new(r, "description", json_string(desc ? desc : ""));
        json_object_set_new(r, "max_session", json_integer(max));
        if ((rc = save(c, IAM_ROLE, r)) == 0)
            x_entity(c, IAM_ROLE, r, true);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int get_role(qctx_t *c)
{
    json_t *r;
    const char *name;
    int rc = load_param(c, IAM_ROLE, &r, &name);
    if (rc)
        return rc;
    x_entity(c, IAM_ROLE, r, true);
    json_decref(r);
    return 0;
}

static int list_roles(qctx_t *c)
{
    return list_entities(c, IAM_ROLE, "Roles");
}

static int delete_role(qctx_t *c)
{
    return delete_entity(c, IAM_ROLE);
}

static int update_role(qctx_t *c)
{
    json_t *r = NULL;
    const char *name;
    int64_t max = 0;
    iam_lock();
    int rc = load_param(c, IAM_ROLE, &r, &name);
    const char *desc = qparam(c, "Description");
    if (rc == 0 && (rc = max_session(c, &max)) == 0) {
        if (max)
            json_object_set_new(r, "max_session", json_integer(max));
        if (desc)
            json_object_set_new(r, "description", json_string(desc));
        rc = save(c, IAM_ROLE, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

static int update_assume_role_policy(qctx_t *c)
{
    json_t *r = NULL;
    const char *name;
    iam_lock();
    int rc = load_param(c, IAM_ROLE, &r, &name);
    const char *doc = rc ? NULL : qrequire(c, "PolicyDocument", &rc);
    if (doc && (rc = check_doc(c, doc, TRUST_QUOTA, 0, true)) == 0) {
        json_object_set_new(r, "trust", json_string(doc));
        rc = save(c, IAM_ROLE, r);
    }
    iam_unlock();
    json_decref(r);
    return rc;
}

/* ---- authentication support and dispatch ------------------------------------------------- */

int iam_principal_for_key(rq_t *q, const access_key_t *k)
{
    rq_principal_t *p = &q->principal;
    if (!k->user[0]) {
        p->type = RQP_ROOT;
        p->arn = arena_sprintf(q->a, "arn:aws:iam::%s:root", q->acct.id);
        p->user_id = q->acct.id;
        p->name = "";
        return 0;
    }
    json_t *u;
    int rc = iam_get(q->api->store, IAM_USER, k->account_id, sv_from_cstr(k->user), &u);
    if (rc == -ENOENT)
        return -SE_INVALID_ACCESS_KEY;
    if (rc)
        return rc;
    /* Only keys the user record lists count (see the write order in iam_store.h). */
    if (!arr_has(json_object_get(u, "keys"), k->access_key)) {
        json_decref(u);
        return -SE_INVALID_ACCESS_KEY;
    }
    p->type = RQP_USER;
    p->arn = arena_svdup(q->a, sv_from_cstr(iam_str(u, "arn")));
    p->user_id = arena_svdup(q->a, sv_from_cstr(iam_str(u, "id")));
    p->name = arena_svdup(q->a, sv_from_cstr(iam_str(u, "name")));
    json_decref(u);
    return 0;
}

/* ---- authorization of IAM calls ------------------------------------------------------------ */

/* What an action acts on, for the resource ARN of its authorization (AWS's "Actions, resources,
 * and condition keys for IAM"): the user, group or role named by <Kind>Name (or, for a user,
 * the caller itself when the name is optional and absent), the policy named by PolicyArn (or
 * created by CreatePolicy), or for List* of a kind the path ARN "arn:aws:iam::ACCT:user/PREFIX"
 * that AWS's own AccessDenied messages show. */
enum res_kind { RES_USER, RES_GROUP, RES_ROLE, RES_POLICY, RES_LIST_USER, RES_LIST_GROUP,
                RES_LIST_ROLE, RES_LIST_POLICY };

static const struct {
    const char *action;
    enum res_kind res;
} action_res[] = {
    {"AddUserToGroup", RES_GROUP},          {"RemoveUserFromGroup", RES_GROUP},
    {"CreateGroup", RES_GROUP},             {"GetGroup", RES_GROUP},
    {"DeleteGroup", RES_GROUP},             {"PutGroupPolicy", RES_GROUP},
    {"GetGroupPolicy", RES_GROUP},          {"DeleteGroupPolicy", RES_GROUP},
    {"ListGroupPolicies", RES_GROUP},       {"AttachGroupPolicy", RES_GROUP},
    {"DetachGroupPolicy", RES_GROUP},       {"ListAttachedGroupPolicies", RES_GROUP},
    {"CreateRole", RES_ROLE},               {"GetRole", RES_ROLE},
    {"DeleteRole", RES_ROLE},               {"UpdateRole", RES_ROLE},
    {"UpdateAssumeRolePolicy", RES_ROLE},   {"TagRole", RES_ROLE},
    {"UntagRole", RES_ROLE},                {"ListRoleTags", RES_ROLE},
    {"PutRolePolicy", RES_ROLE},            {"GetRolePolicy", RES_ROLE},
    {"DeleteRolePolicy", RES_ROLE},         {"ListRolePolicies", RES_ROLE},
    {"AttachRolePolicy", RES_ROLE},         {"DetachRolePolicy", RES_ROLE},
    {"ListAttachedRolePolicies", RES_ROLE}, {"PutRolePermissionsBoundary", RES_ROLE},
    {"DeleteRolePermissionsBoundary", RES_ROLE},
    {"CreatePolicy", RES_POLICY},           {"GetPolicy", RES_POLICY},
    {"DeletePolicy", RES_POLICY},           {"CreatePolicyVersion", RES_POLICY},
    {"GetPolicyVersion", RES_POLICY},       {"DeletePolicyVersion", RES_POLICY},
    {"ListPolicyVersions", RES_POLICY},     {"SetDefaultPolicyVersion", RES_POLICY},
    {"ListUsers", RES_LIST_USER},           {"ListGroups", RES_LIST_GROUP},
    {"ListRoles", RES_LIST_ROLE},           {"ListPolicies", RES_LIST_POLICY},
    /* everything else acts on a user */
};

/* The ARN of the entity an action is about, and its record when it exists (*rec, may stay
 * NULL). */
static const char *resource_of(qctx_t *c, json_t **rec)
{
    rq_t *q = c->q;
    enum res_kind res = RES_USER;
    *rec = NULL;
    for (size_t i = 0; i < sizeof action_res / sizeof action_res[0]; i++)
        if (sv_eq_cstr(c->action, action_res[i].action))
            res = action_res[i].res;
    static const char *const list_kind[] = {"user", "group", "role", "policy"};
    if (res >= RES_LIST_USER) {
        const char *prefix = qparam(c, "PathPrefix");
        return arena_sprintf(q->a, "arn:aws:iam::%s:%s%s", ACCT(c), list_kind[res - RES_LIST_USER],
                             prefix && prefix[0] == '/' ? prefix : "/");
    }
    if (res == RES_POLICY) {
        const char *arn = qparam(c, "PolicyArn");
        if (arn)
            return arn;
        const char *path = qparam(c, "Path"), *name = qparam(c, "PolicyName");
        return arena_sprintf(q->a, "arn:aws:iam::%s:policy%s%s", ACCT(c),
                             path && path[0] == '/' ? path : "/", name ? name : "");
    }
    enum iam_kind k = res == RES_GROUP ? IAM_GROUP : res == RES_ROLE ? IAM_ROLE : IAM_USER;
    char param[32];
    snprintf(param, sizeof param, "%sName", kind_title[k]);
    const char *name = qparam(c, param);
    if (!name && k == IAM_USER && q->principal.type == RQP_USER)
        return q->principal.arn; /* GetUser, access keys, ... of the caller itself */
    if (!name)
        name = "";
    if (name[0] && name_ok(name, name_max[k]) &&
        iam_get(STORE(c), k, ACCT(c), sv_from_cstr(name), rec) == 0)
        return arena_sprintf(q->a, "%s", iam_str(*rec, "arn"));
    const char *path = qparam(c, "Path"); /* Create*: the entity to be */
    return arena_sprintf(q->a, "arn:aws:iam::%s:%s%s%s", ACCT(c), kind_lower[k],
                         path && path[0] == '/' ? path : "/", name);
}

static void add_key1(rq_t *q, policy_key_t *keys, size_t *n, const char *name, const char *v)
{
    sv_t *val = arena_calloc(q->a, 1, sizeof *val);
    *val = sv_from_cstr(arena_svdup(q->a, sv_from_cstr(v)));
    keys[(*n)++] = (policy_key_t){sv_from_cstr(arena_svdup(q->a, sv_from_cstr(name))), val, 1};
}

/* The account's root user may call everything. IAM users and role sessions need their
 * identity-based policies (with the permissions boundary and session policy) to allow
 * "iam:<Action>" on the resource; the request's condition keys are the global ones plus
 * iam:PolicyARN, iam:PermissionsBoundary, aws:RequestTag/<k>, aws:TagKeys and
 * aws:ResourceTag/<k> / iam:ResourceTag/<k> of an existing user or role. */
static int authorize(qctx_t *c)
{
    rq_t *q = c->q;
    rq_principal_t *p = &q->principal;
    if (p->type == RQP_ROOT)
        return 0;
    json_t *rec = NULL;
    const char *resource = resource_of(c, &rec);
    const char *action = arena_sprintf(q->a, "iam:%.*s", (int)c->action.len, c->action.p);
    size_t cap = 8 + 2 * (MAX_TAGS + 1);
    policy_key_t *keys = arena_calloc(q->a, cap, sizeof *keys);
    size_t n = 0;
    const char *v;
    if ((v = qparam(c, "PolicyArn")) && (strncmp(action, "iam:Attach", 10) == 0 ||
                                         strncmp(action, "iam:Detach", 10) == 0))
        add_key1(q, keys, &n, "iam:PolicyARN", v);
    if ((v = qparam(c, "PermissionsBoundary")))
        add_key1(q, keys, &n, "iam:PermissionsBoundary", v);
    sv_t *tagkeys = arena_calloc(q->a, MAX_TAGS + 1, sizeof *tagkeys);
    size_t ntk = 0;
    for (size_t i = 1; ntk < MAX_TAGS; i++) {
        sv_t k = form_getf(&c->form, "Tags.member.%zu.Key", i);
        sv_t tv = form_getf(&c->form, "Tags.member.%zu.Value", i);
        if (!k.p)
            k = form_getf(&c->form, "TagKeys.member.%zu", i); /* Untag* */
        if (!k.p)
            break;
        tagkeys[ntk++] = k;
        if (tv.p)
            add_key1(q, keys, &n, arena_sprintf(q->a, "aws:RequestTag/%s", k.p), tv.p);
    }
    if (ntk)
        keys[n++] = (policy_key_t){SV("aws:TagKeys"), tagkeys, ntk};
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rec, "tags"), i, t) {
        if (n + 2 > cap)
            break;
        add_key1(q, keys, &n, arena_sprintf(q->a, "aws:ResourceTag/%s", iam_str(t, "Key")),
                 iam_str(t, "Value"));
        add_key1(q, keys, &n, arena_sprintf(q->a, "iam:ResourceTag/%s", iam_str(t, "Key")),
                 iam_str(t, "Value"));
    }
    json_decref(rec);
    enum authz_why why = AUTHZ_WHY_NONE;
    if (authz_principal_allows(q, action, resource, NULL, NULL, keys, n, &why))
        return 0;
    return qfail(c, QE_ACCESS_DENIED, "User: %s is not authorized to perform: %s on resource: %s%s",
                 p->arn ? p->arn : "anonymous", action, resource, authz_why_text(q, why, action));
}

static const query_action_t actions[] = {
    {"CreateUser", create_user},
    {"GetUser", get_user},
    {"ListUsers", list_users},
    {"DeleteUser", delete_user},
    {"TagUser", tag_user},
    {"UntagUser", untag_user},
    {"ListUserTags", list_user_tags},
    {"CreateAccessKey", create_access_key},
    {"ListAccessKeys", list_access_keys},
    {"UpdateAccessKey", update_access_key},
    {"DeleteAccessKey", delete_access_key},
    {"PutUserPolicy", put_user_policy},
    {"GetUserPolicy", get_user_policy},
    {"DeleteUserPolicy", delete_user_policy},
    {"ListUserPolicies", list_user_policies},
    {"PutGroupPolicy", put_group_policy},
    {"GetGroupPolicy", get_group_policy},
    {"DeleteGroupPolicy", delete_group_policy},
    {"ListGroupPolicies", list_group_policies},
    {"PutRolePolicy", put_role_policy},
    {"GetRolePolicy", get_role_policy},
    {"DeleteRolePolicy", delete_role_policy},
    {"ListRolePolicies", list_role_policies},
    {"AttachUserPolicy", attach_user_policy},
    {"DetachUserPolicy", detach_user_policy},
    {"ListAttachedUserPolicies", list_attached_user_policies},
    {"AttachGroupPolicy", attach_group_policy},
    {"DetachGroupPolicy", detach_group_policy},
    {"ListAttachedGroupPolicies", list_attached_group_policies},
    {"AttachRolePolicy", attach_role_policy},
    {"DetachRolePolicy", detach_role_policy},
    {"ListAttachedRolePolicies", list_attached_role_policies},
    {"CreatePolicy", create_policy},
    {"GetPolicy", get_policy},
    {"DeletePolicy", delete_policy},
    {"ListPolicies", list_policies},
    {"CreatePolicyVersion", create_policy_version},
    {"GetPolicyVersion", get_policy_version},
    {"DeletePolicyVersion", delete_policy_version},
    {"ListPolicyVersions", list_policy_versions},
    {"SetDefaultPolicyVersion", set_default_policy_version},
    {"CreateGroup", create_group},
    {"GetGroup", get_group},
    {"ListGroups", list_groups},
    {"DeleteGroup", delete_group},
    {"AddUserToGroup", add_user_to_group},
    {"RemoveUserFromGroup", remove_user_from_group},
    {"ListGroupsForUser", list_groups_for_user},
    {"CreateRole", create_role},
    {"GetRole", get_role},
    {"ListRoles", list_roles},
    {"DeleteRole", delete_role},
    {"UpdateRole", update_role},
    {"UpdateAssumeRolePolicy", update_assume_role_policy},
    {"TagRole", tag_role},
    {"UntagRole", untag_role},
    {"ListRoleTags", list_role_tags},
    {"PutUserPermissionsBoundary", put_user_permissions_boundary},
    {"DeleteUserPermissionsBoundary", delete_user_permissions_boundary},
    {"PutRolePermissionsBoundary", put_role_permissions_boundary},
    {"DeleteRolePermissionsBoundary", delete_role_permissions_boundary},
};

void iam_end(rq_t *q, http_resp_t *resp)
{
    query_dispatch(q, resp, IAM_XMLNS, actions, sizeof actions / sizeof actions[0], authorize);
}
