/* s3/acl: x-amz-grant-* header values and AccessControlPolicy bodies -> grants (see acl.h).
 *
 * Pure: no lookups, nothing resolved; the caller (api/s3_acl.c) turns ids and email addresses
 * into accounts. Both parsers stop at S3ACL_MAX_GRANTS before storing more, so a client cannot
 * make them allocate beyond that; the XML body itself is bounded by s3/xml.c and the request's
 * body limit. */
#include "s3/acl.h"

#include <string.h>

#include "core/err.h"
#include "s3/xml.h"

int s3acl_group(sv_t uri, int *which)
{
    static const char *const uris[] = {S3ACL_URI_ALL_USERS, S3ACL_URI_AUTH_USERS,
                                       S3ACL_URI_LOG_DELIVERY};
    for (int i = 0; i < 3; i++)
        if (sv_eq_cstr(uri, uris[i])) {
            *which = i;
            return 0;
        }
    return -1;
}

static int fail(s3acl_err_t *e, int rc, const char *msg, const char *arg_name, sv_t arg_value)
{
    e->rc = rc;
    e->msg = msg;
    e->arg_name = arg_name;
    e->arg_value = arg_value;
    return rc;
}

int s3acl_parse_header(sv_t value, const char *hname, unsigned perm, s3acl_grant_t *out,
                       size_t *n, s3acl_err_t *e)
{
    sv_t rest = value, item;
    bool more = true;
    while (more) {
        rest = sv_split(rest, ',', &item, &more);
        item = sv_trim(item);
        if (!item.len)
            continue;
        sv_t name, val;
        bool eq;
        val = sv_trim(sv_split(item, '=', &name, &eq));
        name = sv_trim(name);
        if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"')
            val = (sv_t){val.p + 1, val.len - 2};
        else if (val.len && memchr(val.p, '"', val.len))
            eq = false; /* a stray quote */
        if (!eq || !val.len)
            return fail(e, -SE_INVALID_ARGUMENT, "Argument format not recognized", hname, item);
        enum s3acl_kind kind;
        int which;
        if (sv_caseeq_cstr(name, "id")) {
            kind = S3ACL_ID;
        } else if (sv_caseeq_cstr(name, "uri")) {
            if (s3acl_group(val, &which) != 0)
                return fail(e, -SE_INVALID_ARGUMENT, "Invalid group uri", "uri", val);
            kind = S3ACL_URI;
        } else if (sv_caseeq_cstr(name, "emailAddress")) {
            kind = S3ACL_EMAIL;
        } else {
            return fail(e, -SE_INVALID_ARGUMENT, "Argument format not recognized", hname, item);
        }
        if (*n == S3ACL_MAX_GRANTS)
            return fail(e, -SE_INVALID_ARGUMENT, "An ACL may have at most 100 grants", hname,
                        item);
        out[(*n)++] = (s3acl_grant_t){kind, val, perm};
    }
    return 0;
}

static int perm_parse(sv_t s, unsigned *out)
{
    static const char *const names[] = {"READ", "WRITE", "READ_ACP", "WRITE_ACP",
                                        "FULL_CONTROL"};
    static const unsigned bits[] = {S3ACL_READ, S3ACL_WRITE, S3ACL_READ_ACP, S3ACL_WRITE_ACP,
                                    S3ACL_FULL_CONTROL};
    for (size_t i = 0; i < 5; i++)
        if (sv_eq_cstr(s, names[i])) {
            *out = bits[i];
            return 0;
        }
    return -1;
}

static sv_t attr_of(const xml_node_t *x, const char *name)
{
    for (size_t i = 0; i < x->nattrs; i++)
        if (sv_eq_cstr(x->attrs[i].name, name))
            return x->attrs[i].value;
    return SV_NULL;
}

int s3acl_parse_xml(arena_t *a, const char *p, size_t len, sv_t *owner_id, s3acl_grant_t *out,
                    size_t *n, s3acl_err_t *e)
{
    int rc;
    *n = 0;
    *owner_id = SV("");
    xml_node_t *root = xml_parse(a, p ? p : "", len, &rc);
    if (!root || !sv_eq_cstr(root->name, "AccessControlPolicy"))
        return fail(e, -SE_MALFORMED_ACL, NULL, NULL, SV_NULL);
    xml_node_t *owner = xml_child(root, "Owner");
    xml_node_t *list = xml_child(root, "AccessControlList");
    if (!owner || !list)
        return fail(e, -SE_MALFORMED_ACL, NULL, NULL, SV_NULL);
    sv_t oid = xml_child_text(owner, "ID");
    *owner_id = oid.p ? sv_trim(oid) : SV("");
    for (xml_node_t *g = xml_child(list, "Grant"); g; g = xml_next_named(g)) {
        xml_node_t *ge = xml_child(g, "Grantee");
        sv_t ps = xml_child_text(g, "Permission");
        unsigned perm;
        if (!ge || !ps.p || perm_parse(sv_trim(ps), &perm) != 0 || *n == S3ACL_MAX_GRANTS)
            return fail(e, -SE_MALFORMED_ACL, NULL, NULL, SV_NULL);
        sv_t type = attr_of(ge, "type");
        sv_t id = xml_child_text(ge, "ID"), uri = xml_child_text(ge, "URI");
        sv_t email = xml_child_text(ge, "EmailAddress");
        s3acl_grant_t *o = &out[*n];
        o->perm = perm;
        int which;
        if (sv_eq_cstr(type, "CanonicalUser") && id.p) {
            o->kind = S3ACL_ID;
            o->value = sv_trim(id);
        } else if (sv_eq_cstr(type, "Group") && uri.p) {
            o->kind = S3ACL_URI;
            o->value = sv_trim(uri);
            if (s3acl_group(o->value, &which) != 0)
                return fail(e, -SE_INVALID_ARGUMENT, "Invalid group uri", "Group/URI", o->value);
        } else if (sv_eq_cstr(type, "AmazonCustomerByEmail") && email.p) {
            o->kind = S3ACL_EMAIL;
            o->value = sv_trim(email);
        } else {
            return fail(e, -SE_MALFORMED_ACL, NULL, NULL, SV_NULL);
        }
        (*n)++;
    }
    return 0;
}
