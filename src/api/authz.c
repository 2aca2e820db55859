/* api/authz: authorization in the S3 request path.
 *
 * Design notes
 * - One decision per (action, resource): the policy engine's policy_decide() with the bucket
 *   policy as the resource policy, then ACLs when the bucket has them enabled and nothing
 *   decided yet. Block Public Access sits around both: RestrictPublicBuckets drops everyone
 *   outside the owner's account when the bucket policy is public; IgnorePublicAcls drops the
 *   AllUsers/AuthenticatedUsers grants. An explicit Deny always wins (policy_decide).
 * - Fail closed: a stored bucket policy that no longer parses denies everything except the
 *   owner's Get/Put/DeleteBucketPolicy (so it can be repaired); any store error denies.
 * - Compiled bucket policies are cached per bucket (store, bucket id). A process-wide
 *   generation counter, bumped on every policy change, invalidates entries; entries hand out
 *   references, so a request keeps its policy alive while another thread replaces it.
 * - Condition keys are built per request from the headers, the listener (aws:SourceVpce is its
 *   label, aws:SecureTransport whether it is TLS) and the peer (aws:SourceIp; behind a trusted
 *   proxy from X-Forwarded-For). s3:ExistingObjectTag/<k> is resolved lazily through the
 *   engine's lookup callback, so the object record is read only when a policy asks.
 */
#include "api/authz_int.h"
#include "api/iam_store.h"
#include "api/identity.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- op -> actions ----------------------------------------------------------------------- */

size_t authz_actions(const authz_op_in_t *in, authz_action_t out[AUTHZ_MAX_ACTIONS])
{
    size_t n = 0;
#define ACT(a, r) (out[n++] = (authz_action_t){(a), (r)})
#define B AUTHZ_RES_BUCKET
#define O AUTHZ_RES_OBJECT
    bool v = in->version;
    switch (in->op) {
    case S3_OP_LIST_BUCKETS: ACT("s3:ListAllMyBuckets", AUTHZ_RES_ALL); break;
    case S3_OP_CREATE_BUCKET:
        ACT("s3:CreateBucket", B);
        if (in->acl_headers)
            ACT("s3:PutBucketAcl", B);
        break;
    case S3_OP_DELETE_BUCKET: ACT("s3:DeleteBucket", B); break;
    case S3_OP_HEAD_BUCKET: ACT("s3:ListBucket", B); break;
    case S3_OP_LIST_OBJECTS:
    case S3_OP_LIST_OBJECTS_V2: ACT("s3:ListBucket", B); break;
    case S3_OP_LIST_OBJECT_VERSIONS: ACT("s3:ListBucketVersions", B); break;
    case S3_OP_GET_BUCKET_LOCATION: ACT("s3:GetBucketLocation", B); break;
    case S3_OP_PUT_OBJECT:
    case S3_OP_POST_OBJECT:
    case S3_OP_CREATE_MULTIPART:
        ACT("s3:PutObject", O);
        if (in->acl_headers)
            ACT("s3:PutObjectAcl", O);
        if (in->tagging_header)
            ACT("s3:PutObjectTagging", O);
        break;
    case S3_OP_UPLOAD_PART:
    case S3_OP_COMPLETE_MULTIPART: ACT("s3:PutObject", O); break;
    case S3_OP_COPY_OBJECT:
        ACT("s3:PutObject", O);
        ACT(in->source_version ? "s3:GetObjectVersion" : "s3:GetObject", AUTHZ_RES_SOURCE);
        if (in->acl_headers)
            ACT("s3:PutObjectAcl", O);
        if (in->tagging_header)
            ACT("s3:PutObjectTagging", O);
        break;
    case S3_OP_UPLOAD_PART_COPY:
        ACT("s3:PutObject", O);
        ACT(in->source_version ? "s3:GetObjectVersion" : "s3:GetObject", AUTHZ_RES_SOURCE);
        break;
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT: ACT(v ? "s3:GetObjectVersion" : "s3:GetObject", O); break;
    case S3_OP_SELECT_OBJECT: ACT("s3:GetObject", O); break;
    case S3_OP_GET_OBJECT_ATTRIBUTES:
        /* AWS asks for both the attributes action and the read action */
        ACT(v ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes", O);
        ACT(v ? "s3:GetObjectVersion" : "s3:GetObject", O);
        break;
    case S3_OP_DELETE_OBJECT: ACT(v ? "s3:DeleteObjectVersion" : "s3:DeleteObject", O); break;
    case S3_OP_DELETE_OBJECTS: ACT("s3:DeleteObject", AUTHZ_RES_PER_KEY); break;
    case S3_OP_ABORT_MULTIPART: ACT("s3:AbortMultipartUpload", O); break;
    case S3_OP_LIST_PARTS: ACT("s3:ListMultipartUploadParts", O); break;
    case S3_OP_LIST_MULTIPART_UPLOADS: ACT("s3:ListBucketMultipartUploads", B); break;
    case S3_OP_GET_BUCKET_VERSIONING: ACT("s3:GetBucketVersioning", B); break;
    case S3_OP_PUT_BUCKET_VERSIONING: ACT("s3:PutBucketVersioning", B); break;
    case S3_OP_GET_OBJECT_TAGGING:
        ACT(v ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging", O);
        break;
    case S3_OP_PUT_OBJECT_TAGGING:
        ACT(v ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging", O);
        break;
    case S3_OP_DELETE_OBJECT_TAGGING:
        ACT(v ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging", O);
        break;
    case S3_OP_GET_BUCKET_TAGGING: ACT("s3:GetBucketTagging", B); break;
    case S3_OP_PUT_BUCKET_TAGGING:
    case S3_OP_DELETE_BUCKET_TAGGING: ACT("s3:PutBucketTagging", B); break;
    case S3_OP_GET_BUCKET_POLICY: ACT("s3:GetBucketPolicy", B); break;
    case S3_OP_PUT_BUCKET_POLICY: ACT("s3:PutBucketPolicy", B); break;
    case S3_OP_DELETE_BUCKET_POLICY: ACT("s3:DeleteBucketPolicy", B); break;
    case S3_OP_GET_BUCKET_POLICY_STATUS: ACT("s3:GetBucketPolicyStatus", B); break;
    case S3_OP_GET_BUCKET_ACL: ACT("s3:GetBucketAcl", B); break;
    case S3_OP_PUT_BUCKET_ACL: ACT("s3:PutBucketAcl", B); break;
    case S3_OP_GET_OBJECT_ACL: ACT(v ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl", O); break;
    case S3_OP_PUT_OBJECT_ACL: ACT(v ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl", O); break;
    case S3_OP_GET_BUCKET_LIFECYCLE: ACT("s3:GetLifecycleConfiguration", B); break;
    case S3_OP_PUT_BUCKET_LIFECYCLE:
    case S3_OP_DELETE_BUCKET_LIFECYCLE: ACT("s3:PutLifecycleConfiguration", B); break;
    case S3_OP_GET_BUCKET_ENCRYPTION: ACT("s3:GetEncryptionConfiguration", B); break;
    case S3_OP_PUT_BUCKET_ENCRYPTION:
    case S3_OP_DELETE_BUCKET_ENCRYPTION: ACT("s3:PutEncryptionConfiguration", B); break;
    case S3_OP_GET_PUBLIC_ACCESS_BLOCK: ACT("s3:GetBucketPublicAccessBlock", B); break;
    case S3_OP_PUT_PUBLIC_ACCESS_BLOCK:
    case S3_OP_DELETE_PUBLIC_ACCESS_BLOCK: ACT("s3:PutBucketPublicAccessBlock", B); break;
    case S3_OP_GET_OWNERSHIP_CONTROLS: ACT("s3:GetBucketOwnershipControls", B); break;
    case S3_OP_PUT_OWNERSHIP_CONTROLS:
    case S3_OP_DELETE_OWNERSHIP_CONTROLS: ACT("s3:PutBucketOwnershipControls", B); break;
    case S3_OP_GET_BUCKET_LOGGING: ACT("s3:GetBucketLogging", B); break;
    case S3_OP_PUT_BUCKET_LOGGING: ACT("s3:PutBucketLogging", B); break;
    case S3_OP_GET_BUCKET_CORS: ACT("s3:GetBucketCORS", B); break;
    case S3_OP_PUT_BUCKET_CORS:
    case S3_OP_DELETE_BUCKET_CORS: ACT("s3:PutBucketCORS", B); break;
    case S3_OP_GET_BUCKET_ANALYTICS:
    case S3_OP_LIST_BUCKET_ANALYTICS: ACT("s3:GetAnalyticsConfiguration", B); break;
    case S3_OP_PUT_BUCKET_ANALYTICS:
    case S3_OP_DELETE_BUCKET_ANALYTICS: ACT("s3:PutAnalyticsConfiguration", B); break;
    case S3_OP_RESTORE_OBJECT: ACT("s3:RestoreObject", O); break;
    case S3_OP_GET_BUCKET_NOTIFICATION: ACT("s3:GetBucketNotification", B); break;
    case S3_OP_PUT_BUCKET_NOTIFICATION: ACT("s3:PutBucketNotification", B); break;
    case S3_OP_GET_BUCKET_WEBSITE: ACT("s3:GetBucketWebsite", B); break;
    case S3_OP_GET_OBJECT_LOCK_CONFIG: ACT("s3:GetBucketObjectLockConfiguration", B); break;
    case S3_OP_GET_BUCKET_REQUEST_PAYMENT: ACT("s3:GetBucketRequestPayment", B); break;
    case S3_OP_GET_BUCKET_ACCELERATE: ACT("s3:GetAccelerateConfiguration", B); break;
    case S3_OP_GET_BUCKET_REPLICATION: ACT("s3:GetReplicationConfiguration", B); break;
    case S3_OP_GET_OBJECT_RETENTION: ACT("s3:GetObjectRetention", O); break;
    case S3_OP_GET_OBJECT_LEGAL_HOLD: ACT("s3:GetObjectLegalHold", O); break;
    default: break;
    }
#undef ACT
#undef B
#undef O
    return n;
}

/* ---- server settings --------------------------------------------------------------------- */

typedef struct {
    int af;
    uint8_t addr[16];
    int bits;
} cidr_t;

#define MAX_PROXIES 32
static cidr_t g_proxies[MAX_PROXIES];
static size_t g_nproxies;
static _Atomic int g_default_own = OWN_BUCKET_OWNER_ENFORCED;

static int parse_ip(const char *s, int *af, uint8_t addr[16])
{
    if (inet_pton(AF_INET, s, addr) == 1) {
        *af = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        /* IPv4-mapped IPv6 (::ffff:a.b.c.d) compares as IPv4 */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            *af = AF_INET;
        } else {
            *af = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int parse_cidr(const char *s, cidr_t *out)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", s);
    char *slash = strchr(tmp, '/');
    int bits = -1;
    if (slash) {
        *slash = 0;
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || b < 0 || b > 128)
            return -1;
        bits = (int)b;
    }
    if (parse_ip(tmp, &out->af, out->addr) != 0)
        return -1;
    int max = out->af == AF_INET ? 32 : 128;
    if (bits > max)
        return -1;
    out->bits = bits < 0 ? max : bits;
    return 0;
}

static bool cidr_has(const cidr_t *c, int af, const uint8_t *addr)
{
    if (c->af != af)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (rest) {
        uint8_t m = (uint8_t)(0xff << (8 - rest));
        if ((c->addr[full] & m) != (addr[full] & m))
            return false;
    }
    return true;
}

static bool is_trusted_proxy(const char *ip)
{
    int af;
    uint8_t a[16];
    if (g_nproxies == 0 || parse_ip(ip, &af, a) != 0)
        return false;
    for (size_t i = 0; i < g_nproxies; i++)
        if (cidr_has(&g_proxies[i], af, a))
            return true;
    return false;
}

int authz_set_trusted_proxies(const char *list)
{
    cidr_t tmp[MAX_PROXIES];
    size_t n = 0;
    if (list && *list) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s", list);
        for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            if (n == MAX_PROXIES || parse_cidr(t, &tmp[n]) != 0)
                return -EINVAL;
            n++;
        }
    }
    memcpy(g_proxies, tmp, n * sizeof tmp[0]);
    g_nproxies = n; /* set once at start-up, before the server runs */
    return 0;
}

void authz_source_ip(const char *peer, sv_t xff, char out[64])
{
    snprintf(out, 64, "%s", peer);
    if (!xff.p || !is_trusted_proxy(peer))
        return;
    /* Right to left: each hop was appended by the proxy that received it; the first address
     * not belonging to a trusted proxy is the client as far as we can trust the chain. */
    size_t end = xff.len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff.p[start - 1] != ',')
            start--;
        sv_t item = sv_trim((sv_t){xff.p + start, end - start});
        char ip[64];
        int af;
        uint8_t a[16];
        if (item.len == 0 || item.len >= sizeof ip)
            return;
        memcpy(ip, item.p, item.len);
        ip[item.len] = 0;
        if (parse_ip(ip, &af, a) != 0)
            return; /* garbage: keep the last trustworthy address */
        snprintf(out, 64, "%s", ip);
        if (!is_trusted_proxy(ip))
            return;
        end = start ? start - 1 : 0;
    }
}

void authz_set_default_ownership(enum authz_ownership o)
{
    g_default_own = o;
}

enum authz_ownership authz_default_ownership(void)
{
    return (enum authz_ownership)g_default_own;
}

/* ---- Block Public Access ----------------------------------------------------------------- */

/* Stored as four characters, one per flag in the order of the XML: "1010". */
static int pab_decode(sv_t v, authz_pab_t *out)
{
    if (v.len != 4)
        return -SE_CORRUPT;
    out->block_public_acls = v.p[0] == '1';
    out->ignore_public_acls = v.p[1] == '1';
    out->block_public_policy = v.p[2] == '1';
    out->restrict_public_buckets = v.p[3] == '1';
    return 0;
}

static void pab_encode(const authz_pab_t *p, char out[5])
{
    out[0] = p->block_public_acls ? '1' : '0';
    out[1] = p->ignore_public_acls ? '1' : '0';
    out[2] = p->block_public_policy ? '1' : '0';
    out[3] = p->restrict_public_buckets ? '1' : '0';
    out[4] = 0;
}

int authz_pab_bucket_get(store_t *s, sv_t bucket, authz_pab_t *out)
{
    buf_t b = BUF_INIT;
    int rc = store_bucket_conf_get(s, bucket, "public-access-block", &b);
    if (rc == 0)
        rc = pab_decode(buf_sv(&b), out);
    buf_release(&b);
    return rc;
}

int authz_pab_bucket_put(store_t *s, sv_t bucket, const authz_pab_t *p)
{
    char v[5] = "";
    if (p)
        pab_encode(p, v);
    return store_bucket_conf_put(s, bucket, "public-access-block", sv_from_cstr(v));
}

int authz_pab_account_get(store_t *s, const char *acct, authz_pab_t *out)
{
    buf_t b = BUF_INIT;
    int rc = store_meta_get(s, "account-pab", sv_from_cstr(acct), &b);
    if (rc == 0)
        rc = pab_decode(buf_sv(&b), out);
    buf_release(&b);
    return rc;
}

int authz_pab_account_put(store_t *s, const char *acct, const authz_pab_t *p)
{
    if (!p) {
        int rc = store_meta_delete(s, "account-pab", sv_from_cstr(acct));
        return rc == -ENOENT ? 0 : rc;
    }
    char v[5];
    pab_encode(p, v);
    return store_meta_put(s, "account-pab", sv_from_cstr(acct), sv_from_cstr(v));
}

void authz_pab_effective(store_t *s, const store_bucket_t *b, authz_pab_t *out)
{
    authz_pab_t bk = {0}, ac = {0};
    int rc = authz_pab_bucket_get(s, sv_from_cstr(b->name), &bk);
    if (rc && rc != -ENOENT) /* unreadable: the safe side is "everything blocked" */
        bk = (authz_pab_t){true, true, true, true};
    rc = authz_pab_account_get(s, b->owner, &ac);
    if (rc && rc != -ENOENT)
        ac = (authz_pab_t){true, true, true, true};
    out->block_public_acls = bk.block_public_acls || ac.block_public_acls;
    out->ignore_public_acls = bk.ignore_public_acls || ac.ignore_public_acls;
    out->block_public_policy = bk.block_public_policy || ac.block_public_policy;
    out->restrict_public_buckets = bk.restrict_public_buckets || ac.restrict_public_buckets;
}

/* ---- Object Ownership -------------------------------------------------------------------- */

static const char *const own_names[] = {"BucketOwnerEnforced", "BucketOwnerPreferred",
                                        "ObjectWriter"};

const char *authz_ownership_name(enum authz_ownership o)
{
    return own_names[o];
}

int authz_ownership_parse(sv_t name, enum authz_ownership *out)
{
    for (int i = 0; i < 3; i++)
        if (sv_eq_cstr(name, own_names[i])) {
            *out = (enum authz_ownership)i;
            return 0;
        }
    return -1;
}

enum authz_ownership authz_ownership_get(store_t *s, sv_t bucket, bool *explicit_out)
{
    buf_t b = BUF_INIT;
    /* No stored setting: the legacy behaviour, as on AWS (ACLs on, the writer owns). New
     * buckets always get one at creation (BucketOwnerEnforced unless configured). */
    enum authz_ownership o = OWN_OBJECT_WRITER;
    bool ex = false;
    if (store_bucket_conf_get(s, bucket, "ownership", &b) == 0 &&
        authz_ownership_parse(buf_sv(&b), &o) == 0)
        ex = true;
    buf_release(&b);
    if (explicit_out)
        *explicit_out = ex;
    return o;
}

int authz_ownership_put(store_t *s, sv_t bucket, const enum authz_ownership *o)
{
    return store_bucket_conf_put(s, bucket, "ownership",
                                 o ? sv_from_cstr(own_names[*o]) : SV(""));
}

/* ---- bucket policy cache ----------------------------------------------------------------- */

struct pc_entry {
    struct pc_entry *next;
    const store_t *s;
    uint64_t bucket_id;
    uint64_t gen;
    policy_t *p; /* NULL: no policy (or broken, see rc) */
    int rc;
};

#define PC_SLOTS 256
static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pc_entry *pc_tab[PC_SLOTS];
static _Atomic uint64_t pc_gen = 1;

void authz_policy_changed(void)
{
    atomic_fetch_add(&pc_gen, 1);
}

int authz_policy_get(store_t *s, const store_bucket_t *b, struct policy **out)
{
    size_t slot = (size_t)((b->id * 0x9E3779B97F4A7C15ull) >> 56) % PC_SLOTS;
    uint64_t gen = atomic_load(&pc_gen);
    *out = NULL;
    pthread_mutex_lock(&pc_lock);
    struct pc_entry *e = pc_tab[slot];
    while (e && (e->s != s || e->bucket_id != b->id))
        e = e->next;
    if (e && e->gen == gen) {
        policy_ref(e->p);
        *out = e->p;
        int rc = e->rc;
        pthread_mutex_unlock(&pc_lock);
        return rc;
    }
    pthread_mutex_unlock(&pc_lock);

    /* Load and compile outside the lock; a racing change bumps the generation after its
     * store write, so an entry tagged with the generation read above is never newer than
     * what it holds. */
    buf_t doc = BUF_INIT;
    policy_t *p = NULL;
    int rc = store_bucket_conf_get(s, sv_from_cstr(b->name), "policy", &doc);
    if (rc == -ENOENT) {
        rc = 0;
    } else if (rc == 0) {
        char err[256];
        rc = policy_parse(doc.p ? doc.p : "", doc.len, POLICY_RESOURCE, &p, err, sizeof err);
        if (rc) {
            log_error("bucket %s: stored policy does not parse (%s); denying", b->name, err);
            rc = -SE_MALFORMED_POLICY;
        }
    }
    buf_release(&doc);
    if (rc && rc != -SE_MALFORMED_POLICY)
        return rc; /* store error: not cached */

    pthread_mutex_lock(&pc_lock);
    e = pc_tab[slot];
    while (e && (e->s != s || e->bucket_id != b->id))
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->s = s;
        e->bucket_id = b->id;
        e->next = pc_tab[slot];
        pc_tab[slot] = e;
    } else {
        policy_unref(e->p);
    }
    e->p = p;
    e->gen = gen;
    e->rc = rc;
    policy_ref(p);
    pthread_mutex_unlock(&pc_lock);
    *out = p; /* the reference from parse */
    return rc;
}

/* ---- the principal ----------------------------------------------------------------------- */

typedef struct who {
    enum policy_principal_type type;
    const char *account;      /* 12 digits; "" for anonymous */
    const char *arn;
    const char *role_arn;
    const char *canonical_id; /* the account's canonical id */
    const char *userid;
    const char *username;
} who_t;

/* The principal from authentication (api/iam.c, api/sts.c fill q->principal): the account's
 * root user, an IAM user, or an STS role session. */
static void who_of(rq_t *q, who_t *w)
{
    memset(w, 0, sizeof *w);
    w->account = "";
    w->userid = "anonymous";
    if (q->anonymous)
        return; /* PRINCIPAL_ANONYMOUS */
    const rq_principal_t *p = &q->principal;
    w->account = q->acct.id;
    w->canonical_id = q->acct.canonical_id;
    w->arn = p->arn;
    w->userid = p->user_id;
    switch (p->type) {
    case RQP_ROOT:
        w->type = PRINCIPAL_ROOT;
        if (!w->arn)
            w->arn = arena_sprintf(q->a, "arn:aws:iam::%s:root", q->acct.id);
        if (!w->userid)
            w->userid = q->acct.id;
        break;
    case RQP_USER:
        w->type = PRINCIPAL_USER;
        w->username = p->name;
        break;
    case RQP_ASSUMED_ROLE:
        w->type = PRINCIPAL_ASSUMED_ROLE;
        w->role_arn = p->role_arn;
        break;
    default: /* signed, but no principal was established: act as nobody */
        w->type = PRINCIPAL_ANONYMOUS;
        w->account = "";
        w->canonical_id = NULL;
        break;
    }
}

/* The principal's identity policies (a user's and its groups', or the role's), permissions
 * boundary and tags (api/identity.c: compiled once, cached across requests) and its STS session
 * policy (compiled per request). A document that does not compile makes `broken` true and the
 * request is denied (fail closed: it might have been a Deny). */
struct authz_rq {
    bool loaded, broken;
    const ident_t *id; /* NULL: root or anonymous */
    policy_t *session[1 + RQ_MAX_MANAGED_SESSION_POLICIES]; /* inline, then managed */
    size_t nsession;
    kv_t *tags; /* aws:PrincipalTag: the user's or role's tags, session tags overriding */
    size_t ntags;
};

static void authz_rq_free(void *arg)
{
    struct authz_rq *r = arg;
    ident_release(r->id);
    for (size_t i = 0; i < r->nsession; i++)
        policy_unref(r->session[i]);
}

static struct authz_rq *identity_of(rq_t *q, const who_t *w)
{
    if (q->authz && q->authz->loaded)
        return q->authz;
    struct authz_rq *r = arena_calloc(q->a, 1, sizeof *r);
    q->authz = r;
    arena_on_free(q->a, authz_rq_free, r);
    r->loaded = true;
    const rq_principal_t *p = &q->principal;
    if (w->type == PRINCIPAL_USER || w->type == PRINCIPAL_ASSUMED_ROLE) {
        const char *name = p->name;
        if (w->type == PRINCIPAL_ASSUMED_ROLE && p->role_arn) {
            const char *slash = strrchr(p->role_arn, '/');
            name = slash ? slash + 1 : name;
        }
        int rc = name ? ident_get(q->api->store, q->acct.id, name,
                                  w->type == PRINCIPAL_ASSUMED_ROLE, &r->id)
                      : -ENOENT;
        if (rc || r->id->broken)
            r->broken = true; /* the user or role is gone, or the store failed */
    }
    /* Principal tags: the entity's, then the session's (a session tag replaces the role's tag
     * of the same key, keys compared ignoring case as IAM does). */
    size_t nent = r->id ? r->id->ntags : 0;
    r->tags = arena_calloc(q->a, nent + p->nsession_tags + 1, sizeof *r->tags);
    for (size_t i = 0; i < p->nsession_tags; i++)
        r->tags[r->ntags++] = p->session_tags[i];
    for (size_t i = 0; i < nent; i++) {
        bool shadowed = false;
        for (size_t j = 0; j < p->nsession_tags && !shadowed; j++)
            shadowed = p->session_tags[j].name.len == r->id->tags[i].name.len &&
                       strncasecmp(p->session_tags[j].name.p, r->id->tags[i].name.p,
                                   r->id->tags[i].name.len) == 0;
        if (!shadowed)
            r->tags[r->ntags++] = r->id->tags[i];
    }
    /* Session policies: the inline one and the managed ones (PolicyArns), each of which must
     * allow (the engine intersects them; never more than AWS grants). Managed documents are
     * identity documents in size. */
    for (size_t i = 0; i <= p->nmanaged_session_policies && i < 1 + RQ_MAX_MANAGED_SESSION_POLICIES;
         i++) {
        const char *doc = i == 0 ? p->session_policy : p->managed_session_policies[i - 1];
        char err[128];
        if (!doc || !*doc)
            continue;
        if (policy_parse(doc, strlen(doc), i == 0 ? POLICY_SESSION : POLICY_IDENTITY,
                         &r->session[r->nsession], err, sizeof err) != 0) {
            r->broken = true;
            break;
        }
        r->nsession++;
    }
    if (r->broken)
        log_warn("req=%s authz: identity policies of %s unusable; denying", q->reqid,
                 w->arn ? w->arn : "?");
    return r;
}

/* The principal's part of a policy context. */
static void ctx_principal(const who_t *w, const struct authz_rq *r, policy_ctx_t *ctx)
{
    ctx->type = w->type;
    ctx->account = sv_from_cstr(w->account);
    ctx->arn = sv_from_cstr(w->arn);
    ctx->role_arn = sv_from_cstr(w->role_arn);
    ctx->canonical_id = sv_from_cstr(w->canonical_id);
    ctx->username = sv_from_cstr(w->username);
    ctx->userid = sv_from_cstr(w->userid);
    if (r) {
        ctx->principal_tags = r->tags;
        ctx->nprincipal_tags = r->ntags;
    }
}

/* The identity side's policy set: identity policies, boundary, session policies. */
static policy_set_t identity_set(const struct authz_rq *r, const policy_t *resource)
{
    return (policy_set_t){r->id ? (const policy_t *const *)r->id->identity : NULL,
                          r->id ? r->id->nidentity : 0, r->id ? r->id->boundary : NULL,
                          r->nsession ? (const policy_t *const *)r->session : NULL, r->nsession,
                          resource};
}

#define MAX_KEYS 48

/* Condition keys built on first use: most requests meet no policy statement with a condition
 * (the account's root user, buckets without a policy), and building them all (the time
 * formatted, the peer address, a lookup per header) cost ~3 % of a small GET's CPU.
 * lazy_lookup() is a policy_ctx_t lookup: it builds them once, then answers from them. */
struct lazy_keys {
    rq_t *q;
    bool global_only; /* global_keys(), else build_keys() */
    bool built;
    size_t n;
    policy_key_t keys[MAX_KEYS];
};
static size_t global_keys(rq_t *q, policy_key_t *keys, size_t cap);
static size_t build_keys(rq_t *q, policy_key_t *keys);

static int lazy_find(struct lazy_keys *lk, sv_t key, const sv_t **values, size_t *nvalues)
{
    if (!lk->built) {
        lk->n = lk->global_only ? global_keys(lk->q, lk->keys, 16) : build_keys(lk->q, lk->keys);
        lk->built = true;
    }
    return policy_keys_find(lk->keys, lk->n, key, values, nvalues) && *nvalues ? 0 : -1;
}

static int lazy_lookup(void *arg, sv_t key, const sv_t **values, size_t *nvalues)
{
    return lazy_find(arg, key, values, nvalues);
}

/* The identity side (and, for STS, a role's trust policy) for one action: see authz_int.h. */
static bool principal_allows(rq_t *q, const who_t *w, const char *action, const char *resource,
                             const char *resource_account, const policy_t *rpol,
                             const policy_key_t *extra, size_t nextra, bool with_keys,
                             enum authz_why *why_out)
{
    enum authz_why dummy;
    enum authz_why *why = why_out ? why_out : &dummy;
    *why = AUTHZ_WHY_NONE;
    bool trust = rpol && policy_get_kind(rpol) == POLICY_TRUST;
    if (w->type == PRINCIPAL_ROOT && !trust && !rpol &&
        (!resource_account || strcmp(resource_account, w->account) == 0))
        return true; /* the account's root user: no identity policies apply to it */
    if (w->type != PRINCIPAL_USER && w->type != PRINCIPAL_ASSUMED_ROLE &&
        w->type != PRINCIPAL_ROOT) {
        *why = AUTHZ_WHY_NO_IDENTITY_ALLOW;
        return false;
    }
    struct authz_rq *r = identity_of(q, w);
    if (r->broken) {
        *why = AUTHZ_WHY_UNUSABLE;
        return false;
    }
    struct lazy_keys *lk = NULL;
    if (with_keys) {
        lk = arena_calloc(q->a, 1, sizeof *lk);
        lk->q = q;
        lk->global_only = true;
    }
    policy_ctx_t ctx = {
        .action = sv_from_cstr(action),
        .resource = sv_from_cstr(resource),
        .resource_account = sv_from_cstr(resource_account ? resource_account : w->account),
        .keys = with_keys ? extra : NULL,
        .nkeys = with_keys ? nextra : 0,
        .lookup = with_keys ? lazy_lookup : NULL,
        .lookup_arg = lk,
    };
    ctx_principal(w, r, &ctx);
    policy_set_t set = identity_set(r, rpol);
    /* A trust policy must itself allow the caller, whoever it is (also the root user of the
     * role's account); then the caller's own side decides as for any resource policy. */
    enum policy_decision td = trust ? policy_eval(rpol, &ctx) : POLICY_ALLOW;
    if (td == POLICY_ALLOW && policy_decide(&set, &ctx, NULL) == POLICY_ALLOW)
        return true;
    /* Not allowed: say why, in the order AWS's messages do. */
    enum authz_why wy = AUTHZ_WHY_NONE;
    bool id_allow = false;
    for (size_t i = 0; i < set.nidentity && wy == AUTHZ_WHY_NONE; i++) {
        enum policy_decision d = policy_eval(set.identity[i], &ctx);
        wy = d == POLICY_DENY ? AUTHZ_WHY_IDENTITY_DENY : wy;
        id_allow |= d == POLICY_ALLOW;
    }
    enum policy_decision bd = set.boundary ? policy_eval(set.boundary, &ctx) : POLICY_ALLOW;
    enum policy_decision sd = POLICY_ALLOW;
    for (size_t i = 0; i < set.nsession && sd != POLICY_DENY; i++) {
        enum policy_decision d = policy_eval(set.session[i], &ctx);
        sd = d == POLICY_ALLOW && sd == POLICY_ALLOW ? POLICY_ALLOW
             : d == POLICY_DENY                      ? POLICY_DENY
                                                     : POLICY_NO_MATCH;
    }
    if (wy == AUTHZ_WHY_NONE && bd == POLICY_DENY)
        wy = AUTHZ_WHY_BOUNDARY_DENY;
    if (wy == AUTHZ_WHY_NONE && sd == POLICY_DENY)
        wy = AUTHZ_WHY_SESSION_DENY;
    if (wy == AUTHZ_WHY_NONE && rpol && td == POLICY_DENY)
        wy = AUTHZ_WHY_RESOURCE_DENY;
    if (wy == AUTHZ_WHY_NONE && rpol && td != POLICY_ALLOW)
        wy = AUTHZ_WHY_NO_RESOURCE_ALLOW;
    if (wy == AUTHZ_WHY_NONE && !id_allow && w->type != PRINCIPAL_ROOT)
        wy = AUTHZ_WHY_NO_IDENTITY_ALLOW;
    if (wy == AUTHZ_WHY_NONE && bd != POLICY_ALLOW)
        wy = AUTHZ_WHY_NO_BOUNDARY_ALLOW;
    if (wy == AUTHZ_WHY_NONE && sd != POLICY_ALLOW)
        wy = AUTHZ_WHY_NO_SESSION_ALLOW;
    *why = wy == AUTHZ_WHY_NONE ? AUTHZ_WHY_NO_RESOURCE_ALLOW : wy;
    return false;
}

/* The identity side alone (no resource policy): for service-level actions, and for what ACL
 * grants to an account need from an IAM identity of it. */
static bool identity_allows(rq_t *q, const who_t *w, const char *action, const char *resource)
{
    return principal_allows(q, w, action, resource, NULL, NULL, NULL, 0, false, NULL);
}

bool authz_principal_allows(rq_t *q, const char *action, const char *resource,
                            const char *resource_account, const struct policy *resource_policy,
                            const policy_key_t *extra, size_t nextra, enum authz_why *why)
{
    who_t w;
    who_of(q, &w);
    return principal_allows(q, &w, action, resource, resource_account, resource_policy, extra,
                            nextra, true, why);
}

const kv_t *authz_principal_tags(rq_t *q, size_t *n)
{
    who_t w;
    who_of(q, &w);
    struct authz_rq *r = identity_of(q, &w);
    *n = r->ntags;
    return r->tags;
}

const char *authz_why_text(rq_t *q, enum authz_why why, const char *action)
{
    const char *no = NULL, *deny = NULL;
    switch (why) {
    case AUTHZ_WHY_NO_IDENTITY_ALLOW: no = "no identity-based policy"; break;
    case AUTHZ_WHY_NO_BOUNDARY_ALLOW: no = "no permissions boundary"; break;
    case AUTHZ_WHY_NO_SESSION_ALLOW: no = "no session policy"; break;
    case AUTHZ_WHY_NO_RESOURCE_ALLOW: no = "no resource-based policy"; break;
    case AUTHZ_WHY_IDENTITY_DENY: deny = "an identity-based policy"; break;
    case AUTHZ_WHY_BOUNDARY_DENY: deny = "a permissions boundary"; break;
    case AUTHZ_WHY_SESSION_DENY: deny = "a session policy"; break;
    case AUTHZ_WHY_RESOURCE_DENY: deny = "a resource-based policy"; break;
    default: return "";
    }
    if (deny)
        return arena_sprintf(q->a, " with an explicit deny in %s", deny);
    return arena_sprintf(q->a, " because %s allows the %s action", no, action);
}

/* ---- condition keys ---------------------------------------------------------------------- */

struct az {
    rq_t *q;
    const store_bucket_t *b;
    sv_t key;            /* p NULL: bucket-level */
    const char *version; /* NULL: current */
    bool obj_tried;
    int obj_rc;
    store_obj_t obj;
    sv_t tagval;
};

static int az_load_obj(struct az *z)
{
    if (!z->obj_tried) {
        z->obj_tried = true;
        z->obj_rc = store_get(z->q->api->store, sv_from_cstr(z->b->name), z->key, z->version,
                              z->q->a, &z->obj, NULL);
    }
    return z->obj_rc;
}

static bool object_context_action(sv_t action);

/* The actions that may test s3:ExistingObjectTag: the object-context ones, and RestoreObject. */
static bool existing_tag_action(sv_t action)
{
    return object_context_action(action) || sv_eq_cstr(action, "s3:RestoreObject");
}

struct lk {
    struct az *z;
    sv_t action;
    struct lazy_keys keys; /* the request's condition keys, built on first use */
};

static int az_lookup(void *arg, sv_t key, const sv_t **values, size_t *nvalues)
{
    struct lk *l = arg;
    struct az *z = l->z;
    static const sv_t pfx = SV("s3:ExistingObjectTag/");
    static const sv_t rtag = SV("s3:RequestObjectTag");
    if (z->q->op == S3_OP_PUT_OBJECT_TAGGING && !z->q->body_tags_known && key.len >= rtag.len &&
        strncasecmp(key.p, rtag.p, rtag.len) == 0)
        z->q->body_tags_asked = true; /* the body has them: decided again once it is here */
    if (lazy_find(&l->keys, key, values, nvalues) == 0)
        return 0;
    if (key.len <= pfx.len || !z->key.p || !existing_tag_action(l->action))
        return -1;
    if (strncasecmp(key.p, pfx.p, pfx.len) != 0)
        return -1;
    if (az_load_obj(z) != 0)
        return -1;
    sv_t tk = {key.p + pfx.len, key.len - pfx.len};
    for (size_t i = 0; i < z->obj.ntags; i++)
        if (sv_eq(z->obj.tags[i].name, tk)) { /* S3 tag keys are case-sensitive */
            z->tagval = z->obj.tags[i].value;
            *values = &z->tagval;
            *nvalues = 1;
            return 0;
        }
    return -1;
}

static void add_key(rq_t *q, policy_key_t *keys, size_t *n, size_t cap, const char *name,
                    sv_t value)
{
    if (!value.p || *n >= cap)
        return;
    sv_t *v = arena_alloc(q->a, sizeof *v);
    *v = value;
    keys[(*n)++] = (policy_key_t){sv_from_cstr(name), v, 1};
}

static bool is_list_op(enum s3_op op)
{
    return op == S3_OP_LIST_OBJECTS || op == S3_OP_LIST_OBJECTS_V2 ||
           op == S3_OP_LIST_OBJECT_VERSIONS;
}

/* The tags of a PutObjectTagging body (authz_body_tags) -> s3:RequestObjectTag/<k> and
 * s3:RequestObjectTagKeys. */
static void add_body_tags(rq_t *q, policy_key_t *keys, size_t *n, size_t cap)
{
    sv_t *tagkeys = arena_calloc(q->a, q->nbody_tags + 1, sizeof *tagkeys);
    for (size_t i = 0; i < q->nbody_tags; i++) {
        const kv_t *t = &q->body_tags[i];
        tagkeys[i] = t->name;
        add_key(q, keys, n, cap,
                arena_sprintf(q->a, "s3:RequestObjectTag/%.*s", SV_ARG(t->name)), t->value);
    }
    if (q->nbody_tags && *n < cap)
        keys[(*n)++] = (policy_key_t){SV("s3:RequestObjectTagKeys"), tagkeys, q->nbody_tags};
}

/* Ops whose x-amz-tagging header gives the new object's tags (elsewhere it means nothing, and
 * must not stand in for PutObjectTagging's body). */
static bool tagging_header_op(enum s3_op op)
{
    return op == S3_OP_PUT_OBJECT || op == S3_OP_COPY_OBJECT || op == S3_OP_CREATE_MULTIPART ||
           op == S3_OP_POST_OBJECT;
}

/* x-amz-tagging "k1=v1&k2=v2" (URL-encoded) -> s3:RequestObjectTag/<k> and
 * s3:RequestObjectTagKeys. Malformed input adds nothing (the handler rejects it). */
static void add_request_tags(rq_t *q, policy_key_t *keys, size_t *n, size_t cap, sv_t hdr)
{
    sv_t rest = hdr, item;
    bool more = true;
    sv_t *tagkeys = arena_calloc(q->a, 11, sizeof *tagkeys);
    size_t nk = 0;
    while (more && rest.len && nk < 10) {
        rest = sv_split(rest, '&', &item, &more);
        sv_t k, v;
        bool eq;
        v = sv_split(item, '=', &k, &eq);
        char *kd = arena_alloc(q->a, k.len + 1), *vd = arena_alloc(q->a, v.len + 1);
        long kn = sv_url_decode(k, kd, true), vn = sv_url_decode(v, vd, true);
        if (kn <= 0 || vn < 0)
            return;
        tagkeys[nk++] = (sv_t){kd, (size_t)kn};
        add_key(q, keys, n, cap,
                arena_sprintf(q->a, "s3:RequestObjectTag/%.*s", (int)kn, kd),
                (sv_t){vd, (size_t)vn});
    }
    if (nk && *n < cap)
        keys[(*n)++] = (policy_key_t){SV("s3:RequestObjectTagKeys"), tagkeys, nk};
}

/* The global condition keys every request has (S3, IAM, STS): network, time, headers. */
static size_t global_keys(rq_t *q, policy_key_t *keys, size_t cap)
{
    size_t n = 0;
    http_req_t *hr = q->hr;
    char *ip = arena_alloc(q->a, 64);
    authz_source_ip(hr->peer, rq_header(q, "x-forwarded-for"), ip);
    add_key(q, keys, &n, cap, "aws:SourceIp", sv_from_cstr(ip));
    const http_listener_t *l = hr->listener;
    if (l && l->label[0])
        add_key(q, keys, &n, cap, "aws:SourceVpce", sv_from_cstr(l->label));
    add_key(q, keys, &n, cap, "aws:SecureTransport",
            (l && l->tls) ? SV("true") : SV("false"));
    int64_t t = now_ms();
    char *iso = arena_alloc(q->a, 32);
    fmt_iso8601(t, iso);
    add_key(q, keys, &n, cap, "aws:CurrentTime", sv_from_cstr(iso));
    add_key(q, keys, &n, cap, "aws:EpochTime",
            sv_from_cstr(arena_sprintf(q->a, "%lld", (long long)(t / 1000))));
    add_key(q, keys, &n, cap, "aws:UserAgent", rq_header(q, "user-agent"));
    add_key(q, keys, &n, cap, "aws:Referer", rq_header(q, "referer"));
    return n;
}

static size_t build_keys(rq_t *q, policy_key_t *keys)
{
    size_t n = global_keys(q, keys, MAX_KEYS);
    if (q->hr->tls_version) /* a number, as AWS compares it: NumericLessThan 1.2 */
        add_key(q, keys, &n, MAX_KEYS, "s3:TlsVersion", sv_from_cstr(q->hr->tls_version));
    if (!q->anonymous) {
        add_key(q, keys, &n, MAX_KEYS, "s3:signatureversion",
                q->sigv2 ? SV("AWS") : SV("AWS4-HMAC-SHA256"));
        add_key(q, keys, &n, MAX_KEYS, "s3:authType",
                q->sig.kind == SIGV4_PRESIGNED ? SV("REST-QUERY-STRING") : SV("REST-HEADER"));
    }
    static const char *const hdrs[] = {
        "x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
        "x-amz-grant-write-acp", "x-amz-grant-full-control", "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-storage-class", "x-amz-content-sha256", "x-amz-copy-source",
        "x-amz-metadata-directive", "x-amz-object-ownership", "x-amz-website-redirect-location",
        "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        sv_t v = rq_header(q, hdrs[i]);
        if (v.p) /* the key's name is formatted only for a header that is there */
            add_key(q, keys, &n, MAX_KEYS, arena_sprintf(q->a, "s3:%s", hdrs[i]), v);
    }
    bool present;
    if (is_list_op(q->op)) {
        static const char *const lp[] = {"prefix", "delimiter", "max-keys"};
        for (size_t i = 0; i < 3; i++) {
            sv_t v = s3_param(&q->route, lp[i], &present);
            if (present)
                add_key(q, keys, &n, MAX_KEYS, arena_sprintf(q->a, "s3:%s", lp[i]),
                        v.p ? v : SV(""));
        }
        if (q->op == S3_OP_LIST_OBJECTS_V2)
            add_key(q, keys, &n, MAX_KEYS, "s3:ListObjectsV2", SV("true"));
    }
    sv_t vid = s3_param(&q->route, "versionId", &present);
    if (present && vid.p)
        add_key(q, keys, &n, MAX_KEYS, "s3:versionid", vid);
    sv_t tagging = rq_header(q, "x-amz-tagging");
    if (q->body_tags_known)
        add_body_tags(q, keys, &n, MAX_KEYS);
    else if (tagging.p && tagging_header_op(q->op))
        add_request_tags(q, keys, &n, MAX_KEYS, tagging);
    return n;
}

/* ---- ACL evaluation ---------------------------------------------------------------------- */

/* Which ACL (bucket or object) and which permission an action maps to; 0 when ACLs cannot
 * grant it (AWS's "Mapping of ACL permissions and access policy permissions"). */
static unsigned acl_perm_for(sv_t action, bool *on_object)
{
    static const struct {
        const char *a;
        bool obj;
        unsigned perm;
    } t[] = {
        {"s3:ListBucket", false, ACL_READ},
        {"s3:ListBucketVersions", false, ACL_READ},
        {"s3:ListBucketMultipartUploads", false, ACL_READ},
        {"s3:PutObject", false, ACL_WRITE},
        {"s3:DeleteObject", false, ACL_WRITE},
        {"s3:DeleteObjectVersion", false, ACL_WRITE},
        {"s3:AbortMultipartUpload", false, ACL_WRITE},
        {"s3:GetBucketAcl", false, ACL_READ_ACP},
        {"s3:PutBucketAcl", false, ACL_WRITE_ACP},
        {"s3:GetObject", true, ACL_READ},
        {"s3:GetObjectVersion", true, ACL_READ},
        {"s3:GetObjectAcl", true, ACL_READ_ACP},
        {"s3:GetObjectVersionAcl", true, ACL_READ_ACP},
        {"s3:PutObjectAcl", true, ACL_WRITE_ACP},
        {"s3:PutObjectVersionAcl", true, ACL_WRITE_ACP},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (sv_eq_cstr(action, t[i].a)) {
            *on_object = t[i].obj;
            return t[i].perm;
        }
    return 0;
}

static bool acl_grants(const acl_t *acl, const who_t *w, unsigned perm, bool ignore_public)
{
    for (size_t i = 0; i < acl->ngrants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        if ((g->perm & perm) != perm)
            continue;
        switch (g->type) {
        case ACL_G_CANONICAL:
            if (w->canonical_id && strcmp(g->id, w->canonical_id) == 0)
                return true;
            break;
        case ACL_G_ALL_USERS:
            if (!ignore_public)
                return true;
            break;
        case ACL_G_AUTH_USERS:
            if (!ignore_public && w->type != PRINCIPAL_ANONYMOUS)
                return true;
            break;
        case ACL_G_LOG_DELIVERY:
            break;
        }
    }
    return false;
}

/* ---- the decision ------------------------------------------------------------------------ */

static bool is_policy_admin(sv_t action)
{
    return sv_eq_cstr(action, "s3:GetBucketPolicy") || sv_eq_cstr(action, "s3:PutBucketPolicy") ||
           sv_eq_cstr(action, "s3:DeleteBucketPolicy");
}

static int deny(rq_t *q, const char *action, const char *resource, const char *why)
{
    log_info("req=%s authz deny action=%s resource=%s why=%s", q->reqid, action, resource, why);
    return -SE_ACCESS_DENIED;
}

/* Actions on an existing object's data, ACL, tags or attributes: those AWS authorizes in the
 * object context, with the object owner's permissions. Deleting or overwriting an object is a
 * bucket permission (the bucket owner may always do it), so it is not listed. */
static bool object_context_action(sv_t action)
{
    static const char *const acts[] = {
        "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectVersionAcl",
        "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
        "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging", "s3:GetObjectAttributes",
        "s3:GetObjectVersionAttributes", "s3:GetObjectRetention", "s3:GetObjectLegalHold"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (sv_eq_cstr(action, acts[i]))
            return true;
    return false;
}

/* The object context (AWS: "How Amazon S3 authorizes a request for an object operation"). With
 * ACLs enabled an object written by another account belongs to that account: the bucket
 * owner's policies can still deny (already decided by the caller) but no longer allow. What
 * allows is the object owner's: its root user, its IAM identities' own policies, or the
 * object's ACL (the caller's ACL step). So the bucket owner, root user included, needs a grant
 * in the object's ACL to read such an object or its ACL. d: the decision with the bucket's
 * policy (not DENY); returns the one to use. A store error on an existing object fails
 * closed (NO_MATCH; the ACL step then fails on the same read). */
static enum policy_decision object_context(struct az *z, const who_t *w, const policy_set_t *set,
                                           const policy_ctx_t *ctx, enum policy_decision d,
                                           policy_why_t *why)
{
    rq_t *q = z->q;
    if (!z->key.p || !object_context_action(ctx->action) ||
        authz_ownership_get(q->api->store, sv_from_cstr(z->b->name), NULL) ==
            OWN_BUCKET_OWNER_ENFORCED)
        return d;
    if (az_load_obj(z) != 0)
        return d; /* no such key or version: the handler answers it */
    acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
    if (acl_object_get(q, z->b, &z->obj, acl) != 0) {
        why->reason = "object ACL unreadable";
        return POLICY_NO_MATCH;
    }
    if (strcmp(acl->owner, acl_account_cid(q, z->b->owner)) == 0)
        return d; /* the bucket owner's object */
    why->reason = "object owned by another account: only its owner or its ACL can allow";
    if (!w->canonical_id || strcmp(w->canonical_id, acl->owner) != 0)
        return POLICY_NO_MATCH;
    /* The object owner's account: its root user, or its identities by their own policies. */
    policy_set_t own = *set;
    own.resource = NULL;
    policy_ctx_t c = *ctx;
    c.resource_account = sv_from_cstr(w->account);
    return policy_decide(&own, &c, NULL) == POLICY_ALLOW ? POLICY_ALLOW : POLICY_NO_MATCH;
}

/* creating: the action is part of writing a new object (the ACL or tags a PutObject sets),
 * which ACLs grant through the bucket's WRITE permission like the write itself. */
static int check(rq_t *q, const char *action_c, const store_bucket_t *b, sv_t key,
                 const char *version, bool creating)
{
    store_t *s = q->api->store;
    sv_t action = sv_from_cstr(action_c);
    const char *resource = key.p ? arena_sprintf(q->a, "arn:aws:s3:::%s/%.*s", b->name,
                                                 SV_ARG(key))
                                 : arena_sprintf(q->a, "arn:aws:s3:::%s", b->name);
    who_t w;
    who_of(q, &w);

    policy_t *bp = NULL;
    int rc = authz_policy_get(s, b, &bp);
    if (rc == -SE_MALFORMED_POLICY) {
        /* fail closed; only the owner can still repair the policy */
        if (w.type == PRINCIPAL_ROOT && strcmp(w.account, b->owner) == 0 &&
            is_policy_admin(action))
            return 0;
        return deny(q, action_c, resource, "stored bucket policy does not parse");
    }
    if (rc)
        return deny(q, action_c, resource, "bucket policy unreadable");

    authz_pab_t pab;
    authz_pab_effective(s, b, &pab);
    bool same_account = w.type != PRINCIPAL_ANONYMOUS && strcmp(w.account, b->owner) == 0;
    if (pab.restrict_public_buckets && !same_account && bp && policy_is_public(bp)) {
        policy_unref(bp);
        return deny(q, action_c, resource, "RestrictPublicBuckets: public policy, other account");
    }

    struct az z = {.q = q, .b = b, .key = key, .version = version};
    struct lk lk = {.z = &z, .action = action, .keys = {.q = q}};
    policy_ctx_t ctx = {
        .type = w.type,
        .account = sv_from_cstr(w.account),
        .arn = sv_from_cstr(w.arn),
        .role_arn = sv_from_cstr(w.role_arn),
        .canonical_id = sv_from_cstr(w.canonical_id),
        .username = sv_from_cstr(w.username),
        .userid = sv_from_cstr(w.userid),
        .action = action,
        .resource = sv_from_cstr(resource),
        .resource_account = sv_from_cstr(b->owner),
        .lookup = az_lookup, /* the condition keys too, built on first use */
        .lookup_arg = &lk,
    };
    policy_set_t set = {NULL, 0, NULL, NULL, 0, bp};
    if (w.type == PRINCIPAL_USER || w.type == PRINCIPAL_ASSUMED_ROLE) {
        struct authz_rq *r = identity_of(q, &w);
        if (r->broken) {
            policy_unref(bp);
            return deny(q, action_c, resource, "identity or session policy unusable");
        }
        set = identity_set(r, bp);
        ctx.principal_tags = r->tags;
        ctx.nprincipal_tags = r->ntags;
    }
    policy_why_t why = {0};
    enum policy_decision d = policy_decide(&set, &ctx, &why);
    if (d != POLICY_DENY && !creating)
        d = object_context(&z, &w, &set, &ctx, d, &why);
    policy_unref(bp);
    if (d == POLICY_DENY) {
        q->authz_explicit_deny = true;
        return deny(q, action_c, resource, why.reason ? why.reason : "explicit deny");
    }
    if (d == POLICY_ALLOW)
        return 0;

    /* Nothing in the policies decided: ACLs, where the bucket has them enabled. */
    bool on_object = false;
    unsigned perm = creating ? ACL_WRITE : acl_perm_for(action, &on_object);
    if (perm && authz_ownership_get(s, sv_from_cstr(b->name), NULL) != OWN_BUCKET_OWNER_ENFORCED) {
        acl_t *acl = arena_calloc(q->a, 1, sizeof *acl);
        int arc;
        if (on_object) {
            arc = key.p ? az_load_obj(&z) : -SE_NO_SUCH_KEY;
            if (arc == 0)
                arc = acl_object_get(q, b, &z.obj, acl);
        } else {
            arc = acl_bucket_get(q, b, acl);
        }
        /* A grant to an account lets its root user act; an IAM identity of that account also
         * needs its own policies to allow. */
        if (arc == 0 && acl_grants(acl, &w, perm, pab.ignore_public_acls) &&
            (w.type == PRINCIPAL_ANONYMOUS || identity_allows(q, &w, action_c, resource)))
            return 0;
    }
    return deny(q, action_c, resource, why.reason ? why.reason : "implicit deny");
}

int authz_check(rq_t *q, const char *action, const store_bucket_t *b, sv_t key,
                const char *version)
{
    return check(q, action, b, key, version, false);
}

int authz_body_tags(rq_t *q, const kv_t *tags, size_t n)
{
    q->body_tags = tags;
    q->nbody_tags = n;
    q->body_tags_known = true;
    return authz_request(q);
}

static bool creates_object(enum s3_op op)
{
    return op == S3_OP_PUT_OBJECT || op == S3_OP_COPY_OBJECT || op == S3_OP_CREATE_MULTIPART ||
           op == S3_OP_POST_OBJECT;
}

/* A read (GET/HEAD, no versionId) of a key that does not exist: S3 answers NoSuchKey only to a
 * principal that may list the bucket, AccessDenied to anyone else (so keys cannot be probed).
 * That holds even when nothing grants s3:GetObject (with ACLs, a missing object has no ACL to
 * grant it; a public-read bucket still lets anyone see that the key is gone), so it is asked
 * both when the read was implicitly denied and when it was allowed; *mk keeps the answer so
 * the lookup and the ListBucket check run once per request. */
enum missing_key { MK_UNKNOWN, MK_NOT_APPLICABLE, MK_LISTABLE, MK_UNLISTABLE };

static enum missing_key missing_key(rq_t *q, bool version_given, enum missing_key *mk)
{
    if (*mk != MK_UNKNOWN)
        return *mk;
    *mk = MK_NOT_APPLICABLE;
    if ((q->op != S3_OP_GET_OBJECT && q->op != S3_OP_HEAD_OBJECT) || version_given ||
        !q->have_bucket)
        return *mk;
    store_obj_t o;
    if (store_get(q->api->store, q->route.bucket, q->route.key, NULL, q->a, &o, NULL) ==
        -SE_NO_SUCH_KEY)
        *mk = check(q, "s3:ListBucket", &q->bucket, SV_NULL, NULL, false) == 0 ? MK_LISTABLE
                                                                                : MK_UNLISTABLE;
    return *mk;
}

/* The initiator of a multipart upload may list its parts and abort it ("By default, the bucket
 * owner and the initiator of the multipart upload" may, AWS: multipart upload permissions),
 * e.g. another account writing through a bucket ACL or policy that grants only s3:PutObject.
 * The initiator is the account that created the upload; an IAM identity of that account still
 * needs its own policies to allow the action. Only an implicit deny gives way to this. */
static bool initiator_acts(rq_t *q, const char *action)
{
    if ((q->op != S3_OP_LIST_PARTS && q->op != S3_OP_ABORT_MULTIPART) || !q->have_bucket ||
        q->anonymous)
        return false;
    bool present;
    sv_t uid = s3_param(&q->route, "uploadId", &present);
    store_obj_t up;
    if (!present || store_mpu_get(q->api->store, q->route.bucket, q->route.key, uid, q->a, &up) != 0)
        return false; /* the handler answers NoSuchUpload to whoever may ask */
    who_t w;
    who_of(q, &w);
    if (strcmp(w.account, up.owner) != 0)
        return false;
    const char *res = arena_sprintf(q->a, "arn:aws:s3:::%s/%.*s", q->bucket.name,
                                    SV_ARG(q->route.key));
    return w.type == PRINCIPAL_ROOT || identity_allows(q, &w, action, res);
}

int authz_request(rq_t *q)
{
    bool present;
    sv_t vid = s3_param(&q->route, "versionId", &present);
    (void)vid;
    sv_t sbucket = SV_NULL, skey = SV_NULL;
    const char *sversion = NULL;
    bool copy = q->op == S3_OP_COPY_OBJECT || q->op == S3_OP_UPLOAD_PART_COPY;
    bool have_source = copy && parse_copy_source(q, &sbucket, &skey, &sversion) == 0;
    bool acl_headers = false;
    static const char *const acl_hdrs[] = {"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write",
                                           "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                           "x-amz-grant-full-control"};
    for (size_t i = 0; i < 6; i++)
        if (rq_header(q, acl_hdrs[i]).p)
            acl_headers = true;
    authz_op_in_t in = {
        .op = q->op,
        .version = present,
        .source_version = sversion != NULL,
        .acl_headers = acl_headers,
        .tagging_header = rq_header(q, "x-amz-tagging").p != NULL,
    };
    authz_action_t acts[AUTHZ_MAX_ACTIONS];
    size_t n = authz_actions(&in, acts);
    if (n == 0)
        return deny(q, s3_op_name(q->op), "-", "operation has no action mapping");
    enum missing_key mk = MK_UNKNOWN;
    const char *version = NULL;
    if (present && vid.p)
        version = arena_strndup(q->a, vid.p, vid.len);

    for (size_t i = 0; i < n; i++) {
        int rc = 0;
        switch (acts[i].res) {
        case AUTHZ_RES_ALL: {
            /* Service-level (ListAllMyBuckets): identity policies only. */
            who_t w;
            who_of(q, &w);
            if (!identity_allows(q, &w, acts[i].action, "*"))
                return deny(q, acts[i].action, "*", "not allowed by identity policies");
            break;
        }
        case AUTHZ_RES_BUCKET:
        case AUTHZ_RES_OBJECT:
            if (!q->have_bucket) {
                /* CreateBucket: no bucket (policy) yet; identity only. */
                who_t w;
                who_of(q, &w);
                const char *res = arena_sprintf(q->a, "arn:aws:s3:::%.*s",
                                                SV_ARG(q->route.bucket));
                if (!identity_allows(q, &w, acts[i].action, res))
                    return deny(q, acts[i].action, res, "not allowed by identity policies");
                break;
            }
            q->authz_explicit_deny = false;
            rc = check(q, acts[i].action, &q->bucket,
                       acts[i].res == AUTHZ_RES_OBJECT ? q->route.key : SV_NULL,
                       acts[i].res == AUTHZ_RES_OBJECT ? version : NULL,
                       i > 0 && creates_object(q->op));
            if (rc && !q->authz_explicit_deny && missing_key(q, present, &mk) == MK_LISTABLE)
                rc = 0; /* the handler answers NoSuchKey */
            if (rc && !q->authz_explicit_deny && initiator_acts(q, acts[i].action))
                rc = 0;
            if (rc && q->body_tags_asked && !q->body_tags_known) {
                /* PutObjectTagging: a policy tests the tags in the body, which has not arrived;
                 * the handler decides again with them (authz_body_tags) before applying. */
                q->body_tags_deferred = true;
                rc = 0;
            }
            break;
        case AUTHZ_RES_SOURCE: {
            if (!have_source)
                break; /* the handler answers the malformed header */
            store_bucket_t sb;
            if (store_bucket_get(q->api->store, sbucket, &sb) != 0)
                break; /* the handler answers NoSuchBucket */
            rc = authz_check(q, acts[i].action, &sb, skey, sversion);
            break;
        }
        case AUTHZ_RES_PER_KEY:
            break; /* op_delete_objects checks each key */
        }
        if (rc)
            return rc;
    }
    /* A read allowed but of a missing key (missing_key()). The bucket owner's root user may
     * always list, so its reads skip the lookup. */
    if (q->op == S3_OP_GET_OBJECT || q->op == S3_OP_HEAD_OBJECT) {
        who_t w;
        who_of(q, &w);
        if (!(w.type == PRINCIPAL_ROOT && strcmp(w.account, q->bucket.owner) == 0) &&
            missing_key(q, present, &mk) == MK_UNLISTABLE)
            return -SE_ACCESS_DENIED;
    }
    if (acl_headers && q->have_bucket &&
        (q->op == S3_OP_PUT_OBJECT || q->op == S3_OP_COPY_OBJECT ||
         q->op == S3_OP_CREATE_MULTIPART))
        return acl_check_write_headers(q);
    return 0;
}
