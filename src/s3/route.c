/* s3/route: request addressing and operation choice.
 *
 * Design notes
 * - Input is the raw request-target as it came off the wire (http/ decodes nothing). The path
 *   is percent-decoded exactly once, here, and '+' in a path is a literal plus (AWS SDKs send
 *   '+' in keys as %2B and a space as %20). In the query, '+' decodes to a space as in form
 *   encoding: SDKs never send a bare '+' for a plus there either, and browser-built URLs do mean
 *   a space. SigV4 canonicalisation works on the raw query, not on these decoded params.
 * - Virtual-hosted style wins when Host is "<bucket>.<base_domain>[:port]" (case-insensitive
 *   domain match); any other Host (an IP, localhost, the bare base domain) is path style.
 * - The operation is a pure function of method, bucket/key presence and which subresource
 *   parameters are present (values do not matter, except list-type=2). Parameters that are not
 *   subresources (prefix, versionId, partNumber without uploadId, x-id, X-Amz-*) are ignored.
 *   When several subresources are present, the first in each table below wins.
 * - Headers never take part: PUT with x-amz-copy-source is COPY_OBJECT / UPLOAD_PART_COPY, and
 *   that switch is the caller's (route returns PUT_OBJECT / UPLOAD_PART).
 */
#include "s3/route.h"

#include <string.h>

#include "core/err.h"

static const char *const op_names[] = {
    "UNKNOWN",
#define S3_OP_NAME_(n) #n,
    S3_OPS(S3_OP_NAME_)
#undef S3_OP_NAME_
};

const char *s3_op_name(enum s3_op op)
{
    if ((unsigned)op >= S3_OP_COUNT)
        return "UNKNOWN";
    return op_names[op];
}

sv_t s3_param(const s3_route_t *r, const char *name, bool *present)
{
    for (size_t i = 0; i < r->nparams; i++) {
        if (sv_eq_cstr(r->params[i].name, name)) {
            if (present)
                *present = true;
            return r->params[i].value;
        }
    }
    if (present)
        *present = false;
    return SV_NULL;
}

static bool has(const s3_route_t *r, const char *name)
{
    bool p;
    s3_param(r, name, &p);
    return p;
}

/* Decodes s into the arena. -1 on a malformed escape. */
static int decode(arena_t *a, sv_t s, bool plus_is_space, sv_t *out)
{
    char *d = arena_alloc(a, s.len + 1);
    long n = sv_url_decode(s, d, plus_is_space);
    if (n < 0)
        return -1;
    d[n] = 0;
    *out = (sv_t){d, (size_t)n};
    return 0;
}

static int parse_query(arena_t *a, sv_t q, s3_route_t *out)
{
    size_t cap = 1;
    for (size_t i = 0; i < q.len; i++)
        if (q.p[i] == '&')
            cap++;
    out->params = arena_calloc(a, cap, sizeof(kv_t));
    out->nparams = 0;
    while (q.len) {
        sv_t item, name, val;
        bool more, eq;
        q = sv_split(q, '&', &item, &more);
        if (!more)
            q = SV_NULL;
        if (item.len == 0)
            continue;
        val = sv_split(item, '=', &name, &eq);
        kv_t *kv = &out->params[out->nparams];
        if (decode(a, name, true, &kv->name) != 0)
            return -SE_INVALID_URI;
        if (eq) {
            if (decode(a, val, true, &kv->value) != 0)
                return -SE_INVALID_URI;
        } else {
            kv->value = SV_NULL;
        }
        out->nparams++;
    }
    return 0;
}

/* Host without its port; handles "[v6]:port". */
static sv_t host_only(sv_t h)
{
    h = sv_trim(h);
    if (h.len && h.p[0] == '[') {
        const char *rb = memchr(h.p, ']', h.len);
        return rb ? (sv_t){h.p, (size_t)(rb - h.p) + 1} : h;
    }
    const char *c = h.len ? memchr(h.p, ':', h.len) : NULL;
    return c ? (sv_t){h.p, (size_t)(c - h.p)} : h;
}

/* "bucket" if host is "bucket.<base>", case-insensitive on the domain; else SV_NULL. */
static sv_t vhost_bucket(sv_t host, const char *base)
{
    size_t bl = base ? strlen(base) : 0;
    if (bl == 0 || host.len < bl + 2)
        return SV_NULL;
    sv_t tail = {host.p + host.len - bl, bl};
    if (!sv_caseeq_cstr(tail, base) || host.p[host.len - bl - 1] != '.')
        return SV_NULL;
    return (sv_t){host.p, host.len - bl - 1};
}

sv_t s3_vhost_bucket(sv_t host, const char *base_domain)
{
    return vhost_bucket(host_only(host), base_domain);
}

struct sub {
    const char *param;
    enum s3_op op; /* S3_OP_UNKNOWN: a known subresource we do not implement */
};

/* First listed subresource present in the query: 1 with *op set, 0 if none. */
static int pick(const s3_route_t *r, const struct sub *t, size_t n, enum s3_op *op)
{
    for (size_t i = 0; i < n; i++) {
        if (has(r, t[i].param)) {
            *op = t[i].op;
            return 1;
        }
    }
    return 0;
}

#define PICK(t) pick(r, (t), sizeof(t) / sizeof((t)[0]), &op)

static const struct sub bucket_get[] = {
    {"location", S3_OP_GET_BUCKET_LOCATION},
    {"versioning", S3_OP_GET_BUCKET_VERSIONING},
    {"tagging", S3_OP_GET_BUCKET_TAGGING},
    {"policyStatus", S3_OP_GET_BUCKET_POLICY_STATUS},
    {"policy", S3_OP_GET_BUCKET_POLICY},
    {"acl", S3_OP_GET_BUCKET_ACL},
    {"lifecycle", S3_OP_GET_BUCKET_LIFECYCLE},
    {"encryption", S3_OP_GET_BUCKET_ENCRYPTION},
    {"publicAccessBlock", S3_OP_GET_PUBLIC_ACCESS_BLOCK},
    {"ownershipControls", S3_OP_GET_OWNERSHIP_CONTROLS},
    {"logging", S3_OP_GET_BUCKET_LOGGING},
    {"cors", S3_OP_GET_BUCKET_CORS},
    {"notification", S3_OP_GET_BUCKET_NOTIFICATION},
    {"website", S3_OP_GET_BUCKET_WEBSITE},
    {"object-lock", S3_OP_GET_OBJECT_LOCK_CONFIG},
    {"requestPayment", S3_OP_GET_BUCKET_REQUEST_PAYMENT},
    {"accelerate", S3_OP_GET_BUCKET_ACCELERATE},
    {"replication", S3_OP_GET_BUCKET_REPLICATION},
    {"uploads", S3_OP_LIST_MULTIPART_UPLOADS},
    {"versions", S3_OP_LIST_OBJECT_VERSIONS},
    {"inventory", S3_OP_UNKNOWN},
    {"metrics", S3_OP_UNKNOWN},
    {"intelligent-tiering", S3_OP_UNKNOWN},
    {"torrent", S3_OP_UNKNOWN},
    {"session", S3_OP_UNKNOWN},
    {"metadataConfiguration", S3_OP_UNKNOWN},
};

static const struct sub bucket_put[] = {
    {"versioning", S3_OP_PUT_BUCKET_VERSIONING},
    {"tagging", S3_OP_PUT_BUCKET_TAGGING},
    {"policy", S3_OP_PUT_BUCKET_POLICY},
    {"acl", S3_OP_PUT_BUCKET_ACL},
    {"lifecycle", S3_OP_PUT_BUCKET_LIFECYCLE},
    {"encryption", S3_OP_PUT_BUCKET_ENCRYPTION},
    {"publicAccessBlock", S3_OP_PUT_PUBLIC_ACCESS_BLOCK},
    {"ownershipControls", S3_OP_PUT_OWNERSHIP_CONTROLS},
    {"logging", S3_OP_PUT_BUCKET_LOGGING},
    {"cors", S3_OP_PUT_BUCKET_CORS},
    {"analytics", S3_OP_PUT_BUCKET_ANALYTICS},
    {"notification", S3_OP_PUT_BUCKET_NOTIFICATION},
    {"website", S3_OP_UNKNOWN},
    {"object-lock", S3_OP_UNKNOWN},
    {"requestPayment", S3_OP_UNKNOWN},
    {"accelerate", S3_OP_UNKNOWN},
    {"replication", S3_OP_UNKNOWN},
    {"inventory", S3_OP_UNKNOWN},
    {"metrics", S3_OP_UNKNOWN},
    {"intelligent-tiering", S3_OP_UNKNOWN},
    {"policyStatus", S3_OP_UNKNOWN},
    {"location", S3_OP_UNKNOWN},
    {"uploads", S3_OP_UNKNOWN},
    {"versions", S3_OP_UNKNOWN},
};

static const struct sub bucket_delete[] = {
    {"tagging", S3_OP_DELETE_BUCKET_TAGGING},
    {"policy", S3_OP_DELETE_BUCKET_POLICY},
    {"lifecycle", S3_OP_DELETE_BUCKET_LIFECYCLE},
    {"encryption", S3_OP_DELETE_BUCKET_ENCRYPTION},
    {"publicAccessBlock", S3_OP_DELETE_PUBLIC_ACCESS_BLOCK},
    {"ownershipControls", S3_OP_DELETE_OWNERSHIP_CONTROLS},
    {"cors", S3_OP_DELETE_BUCKET_CORS},
    {"analytics", S3_OP_DELETE_BUCKET_ANALYTICS},
    {"website", S3_OP_UNKNOWN},
    {"replication", S3_OP_UNKNOWN},
    {"inventory", S3_OP_UNKNOWN},
    {"metrics", S3_OP_UNKNOWN},
    {"intelligent-tiering", S3_OP_UNKNOWN},
    {"versioning", S3_OP_UNKNOWN},
    {"acl", S3_OP_UNKNOWN},
    {"logging", S3_OP_UNKNOWN},
    {"notification", S3_OP_UNKNOWN},
};

static const struct sub object_get[] = {
    {"uploadId", S3_OP_LIST_PARTS},
    {"tagging", S3_OP_GET_OBJECT_TAGGING},
    {"acl", S3_OP_GET_OBJECT_ACL},
    {"attributes", S3_OP_GET_OBJECT_ATTRIBUTES},
    {"retention", S3_OP_GET_OBJECT_RETENTION},
    {"legal-hold", S3_OP_GET_OBJECT_LEGAL_HOLD},
    {"torrent", S3_OP_UNKNOWN},
};

static const struct sub object_put[] = {
    {"uploadId", S3_OP_UPLOAD_PART},
    {"tagging", S3_OP_PUT_OBJECT_TAGGING},
    {"acl", S3_OP_PUT_OBJECT_ACL},
    {"retention", S3_OP_UNKNOWN},
    {"legal-hold", S3_OP_UNKNOWN},
    {"renameObject", S3_OP_UNKNOWN},
};

static const struct sub object_delete[] = {
    {"uploadId", S3_OP_ABORT_MULTIPART},
    {"tagging", S3_OP_DELETE_OBJECT_TAGGING},
};

static const struct sub object_post[] = {
    {"uploads", S3_OP_CREATE_MULTIPART},
    {"uploadId", S3_OP_COMPLETE_MULTIPART},
    {"restore", S3_OP_RESTORE_OBJECT},
    {"select", S3_OP_SELECT_OBJECT},
};

/* The operation, or a negative error. */
static int choose_op(sv_t m, const s3_route_t *r)
{
    enum s3_op op = S3_OP_UNKNOWN;
    bool get = sv_eq_cstr(m, "GET"), head = sv_eq_cstr(m, "HEAD"), put = sv_eq_cstr(m, "PUT"),
         del = sv_eq_cstr(m, "DELETE"), post = sv_eq_cstr(m, "POST");

    if (r->bucket.len == 0) {
        if (get)
            return S3_OP_LIST_BUCKETS;
        return -SE_METHOD_NOT_ALLOWED;
    }
    if (!r->has_key) {
        if (get) {
            if (has(r, "analytics"))
                return has(r, "id") ? S3_OP_GET_BUCKET_ANALYTICS : S3_OP_LIST_BUCKET_ANALYTICS;
            if (PICK(bucket_get))
                return op ? (int)op : -SE_NOT_IMPLEMENTED;
            bool p;
            sv_t lt = s3_param(r, "list-type", &p);
            if (p && sv_eq_cstr(lt, "2"))
                return S3_OP_LIST_OBJECTS_V2;
            return S3_OP_LIST_OBJECTS;
        }
        if (head)
            return S3_OP_HEAD_BUCKET;
        if (put) {
            if (PICK(bucket_put))
                return op ? (int)op : -SE_NOT_IMPLEMENTED;
            return S3_OP_CREATE_BUCKET;
        }
        if (del) {
            if (PICK(bucket_delete))
                return op ? (int)op : -SE_NOT_IMPLEMENTED;
            return S3_OP_DELETE_BUCKET;
        }
        if (post) {
            if (has(r, "delete"))
                return S3_OP_DELETE_OBJECTS;
            if (r->nparams == 0)
                return S3_OP_POST_OBJECT; /* browser form upload */
            return -SE_METHOD_NOT_ALLOWED;
        }
        return -SE_METHOD_NOT_ALLOWED;
    }
    if (get) {
        if (PICK(object_get))
            return op ? (int)op : -SE_NOT_IMPLEMENTED;
        return S3_OP_GET_OBJECT;
    }
    if (head)
        return S3_OP_HEAD_OBJECT;
    if (put) {
        if (PICK(object_put))
            return op ? (int)op : -SE_NOT_IMPLEMENTED;
        return S3_OP_PUT_OBJECT;
    }
    if (del) {
        if (PICK(object_delete))
            return (int)op;
        return S3_OP_DELETE_OBJECT;
    }
    if (post) {
        if (PICK(object_post))
            return (int)op;
        return -SE_METHOD_NOT_ALLOWED;
    }
    return -SE_METHOD_NOT_ALLOWED;
}

int s3_route(arena_t *a, sv_t method, sv_t host, sv_t raw_path, sv_t raw_query,
             const char *base_domain, s3_route_t *out)
{
    sv_t path = raw_path, vb;
    int rc;

    memset(out, 0, sizeof(*out));
    /* absolute-form request-target (RFC 9112 3.2.2): skip "scheme://authority" */
    if (path.len >= 7 && (sv_starts_with(path, SV("http://")) || sv_starts_with(path, SV("https://")))) {
        const char *sl = (const char *)memchr(path.p, ':', path.len) + 3;
        const char *end = path.p + path.len;
        const char *p = sl < end ? memchr(sl, '/', (size_t)(end - sl)) : NULL;
        path = p ? (sv_t){p, (size_t)(end - p)} : SV("/");
    }
    if (path.len == 0 || path.p[0] != '/')
        return -SE_INVALID_URI;
    path.p++;
    path.len--;

    if ((rc = parse_query(a, raw_query, out)) < 0)
        return rc;

    vb = vhost_bucket(host_only(host), base_domain);
    if (vb.len) {
        out->virtual_host = true;
        out->bucket = (sv_t){arena_strndup(a, vb.p, vb.len), vb.len};
        if (decode(a, path, false, &out->key) != 0)
            return -SE_INVALID_URI;
    } else {
        sv_t b;
        bool slash;
        sv_t k = sv_split(path, '/', &b, &slash);
        if (decode(a, b, false, &out->bucket) != 0 || decode(a, k, false, &out->key) != 0)
            return -SE_INVALID_URI;
        if (out->bucket.len == 0 && k.len)
            return -SE_INVALID_URI; /* "//key": a key without a bucket */
    }
    out->has_key = out->key.len > 0;

    rc = choose_op(method, out);
    if (rc < 0)
        return rc;
    out->op = (enum s3_op)rc;
    return 0;
}

static bool ip_form(sv_t n)
{
    int labels = 0;
    size_t run = 0;
    for (size_t i = 0; i <= n.len; i++) {
        if (i == n.len || n.p[i] == '.') {
            if (run == 0 || run > 3)
                return false;
            labels++;
            run = 0;
        } else if (n.p[i] >= '0' && n.p[i] <= '9') {
            run++;
        } else {
            return false;
        }
    }
    return labels == 4;
}

static bool ends_with(sv_t s, const char *suf)
{
    size_t l = strlen(suf);
    return s.len >= l && memcmp(s.p + s.len - l, suf, l) == 0;
}

bool s3_bucket_name_valid(sv_t n)
{
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3",
                                             "--table-s3"};
    if (n.len < 3 || n.len > 63)
        return false;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return false;
        if ((i == 0 || i == n.len - 1) && !alnum)
            return false;
        if (c == '.' && n.p[i - 1] == '.')
            return false;
    }
    if (ip_form(n))
        return false;
    for (size_t i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++)
        if (sv_starts_with(n, sv_from_cstr(bad_prefix[i])))
            return false;
    for (size_t i = 0; i < sizeof(bad_suffix) / sizeof(bad_suffix[0]); i++)
        if (ends_with(n, bad_suffix[i]))
            return false;
    return true;
}
