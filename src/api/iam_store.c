/* IAM records over store_meta. Keys lowercase the name so that "Bob" and "bob" are the same
 * entity, as IAM treats them. JSON (jansson) keeps the records forward compatible. */
#include "api/iam_store.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t generation = 1;

uint64_t iam_generation(void)
{
    return atomic_load(&generation);
}
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const ns_of[IAM_KIND_COUNT] = {"iam-users", "iam-groups", "iam-roles",
                                                  "iam-policies"};

void iam_lock(void)
{
    pthread_mutex_lock(&lock);
}

void iam_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

/* "<acct>/<lowercased name>"; names are at most 128 bytes (validated by the callers). */
static void mkkey(char out[256], const char *acct, sv_t name)
{
    size_t n = (size_t)snprintf(out, 256, "%s/", acct);
    for (size_t i = 0; i < name.len && n < 255; i++)
        out[n++] = (char)tolower((unsigned char)name.p[i]);
    out[n] = 0;
}

static int load(store_t *s, const char *ns, sv_t key, json_t **out)
{
    buf_t b = BUF_INIT;
    int rc = store_meta_get(s, ns, key, &b);
    if (rc == 0) {
        *out = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = -SE_INTERNAL;
        }
    }
    buf_release(&b);
    return rc;
}

static int save(store_t *s, const char *ns, sv_t key, json_t *rec)
{
    char *txt = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (!txt)
        return -ENOMEM;
    int rc = store_meta_put(s, ns, key, sv_from_cstr(txt));
    free(txt);
    return rc;
}

int iam_get(store_t *s, enum iam_kind k, const char *acct, sv_t name, json_t **out)
{
    char key[256];
    *out = NULL;
    if (name.len == 0 || name.len > 128)
        return -ENOENT;
    mkkey(key, acct, name);
    return load(s, ns_of[k], sv_from_cstr(key), out);
}

int iam_put(store_t *s, enum iam_kind k, const char *acct, const char *name, json_t *rec)
{
    char key[256];
    mkkey(key, acct, sv_from_cstr(name));
    int rc = save(s, ns_of[k], sv_from_cstr(key), rec);
    atomic_fetch_add(&generation, 1); /* after the write: see api/identity.c */
    return rc;
}

int iam_del(store_t *s, enum iam_kind k, const char *acct, const char *name)
{
    char key[256];
    mkkey(key, acct, sv_from_cstr(name));
    int rc = store_meta_delete(s, ns_of[k], sv_from_cstr(key));
    atomic_fetch_add(&generation, 1);
    return rc;
}

struct list_ctx {
    int (*cb)(void *ctx, json_t *rec);
    void *ctx;
};

static int list_cb(void *ctx, sv_t key, sv_t val)
{
    struct list_ctx *l = ctx;
    (void)key;
    json_t *o = json_loadb(val.p ? val.p : "", val.len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return 0; /* an unreadable record is skipped, not fatal to a listing */
    }
    int stop = l->cb(l->ctx, o);
    json_decref(o);
    return stop;
}

int iam_list(store_t *s, enum iam_kind k, const char *acct, int (*cb)(void *ctx, json_t *rec),
             void *ctx)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s/", acct);
    struct list_ctx l = {cb, ctx};
    return store_meta_list(s, ns_of[k], sv_from_cstr(prefix), list_cb, &l);
}

/* Inline documents, then the default version of each attached managed policy. */
static int entity_docs(store_t *s, const char *acct, json_t *rec,
                       int (*cb)(void *ctx, const char *doc), void *ctx)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(rec, "policies"), k, v)
        if (json_is_string(v) && cb(ctx, json_string_value(v)))
            return 1;
    size_t i;
    json_array_foreach(json_object_get(rec, "attached"), i, v) {
        const char *arn = json_string_value(v);
        const char *slash = arn ? strrchr(arn, '/') : NULL;
        json_t *p;
        if (!slash || iam_get(s, IAM_POLICY, acct, sv_from_cstr(slash + 1), &p) != 0)
            continue; /* a deleted policy grants nothing */
        size_t j;
        json_t *ver;
        int stop = 0;
        json_array_foreach(json_object_get(p, "versions"), j, ver)
            if (strcmp(iam_str(ver, "id"), iam_str(p, "default")) == 0 && !stop)
                stop = cb(ctx, iam_str(ver, "doc"));
        json_decref(p);
        if (stop)
            return 1;
    }
    return 0;
}

struct group_docs {
    store_t *s;
    const char *acct, *user;
    int (*cb)(void *ctx, const char *doc);
    void *ctx;
    int stop;
};

static int group_docs_cb(void *ctx, json_t *g)
{
    struct group_docs *gd = ctx;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(g, "members"), i, m)
        if (json_is_string(m) && strcasecmp(json_string_value(m), gd->user) == 0) {
            gd->stop = entity_docs(gd->s, gd->acct, g, gd->cb, gd->ctx);
            break;
        }
    return gd->stop;
}

int iam_identity_policy_docs(store_t *s, const char *acct, const char *name, bool is_role,
                             int (*cb)(void *ctx, const char *doc), void *ctx)
{
    json_t *rec;
    int rc = iam_get(s, is_role ? IAM_ROLE : IAM_USER, acct, sv_from_cstr(name), &rec);
    if (rc)
        return rc;
    int stop = entity_docs(s, acct, rec, cb, ctx);
    if (!stop && !is_role) {
        struct group_docs gd = {s, acct, iam_str(rec, "name"), cb, ctx, 0};
        rc = iam_list(s, IAM_GROUP, acct, group_docs_cb, &gd);
    }
    json_decref(rec);
    return rc;
}

int iam_managed_policy_doc(store_t *s, const char *acct, const char *arn, char **out)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:policy/", acct);
    const char *slash = strrchr(arn, '/');
    json_t *p;
    *out = NULL;
    if (strncmp(arn, prefix, strlen(prefix)) != 0 || !slash)
        return -ENOENT;
    int rc = iam_get(s, IAM_POLICY, acct, sv_from_cstr(slash + 1), &p);
    if (rc)
        return rc;
    rc = -ENOENT;
    if (strcmp(iam_str(p, "arn"), arn) == 0) {
        size_t i;
        json_t *ver;
        json_array_foreach(json_object_get(p, "versions"), i, ver)
            if (strcmp(iam_str(ver, "id"), iam_str(p, "default")) == 0) {
                *out = strdup(iam_str(ver, "doc"));
                rc = *out ? 0 : -ENOMEM;
                break;
            }
    }
    json_decref(p);
    return rc;
}

int iam_session_put(store_t *s, const char *access_key, json_t *rec)
{
    return save(s, "sts-sessions", sv_from_cstr(access_key), rec);
}

int iam_session_get(store_t *s, sv_t access_key, json_t **out)
{
    *out = NULL;
    if (access_key.len == 0 || access_key.len > 128)
        return -ENOENT;
    return load(s, "sts-sessions", access_key, out);
}

int iam_session_del(store_t *s, sv_t access_key)
{
    return store_meta_delete(s, "sts-sessions", access_key);
}

int iam_token_key(store_t *s, uint8_t key[32])
{
    static bool cached;
    static uint8_t cache[32];
    int rc = 0;
    pthread_mutex_lock(&key_lock);
    if (!cached) {
        buf_t b = BUF_INIT;
        rc = store_meta_get(s, "config", SV("sts-token-key"), &b);
        if (rc == 0) {
            rc = hex_decode(buf_sv(&b), cache, 32) == 0 ? 0 : -SE_INTERNAL;
        } else if (rc == -ENOENT) {
            char hex[65];
            random_bytes(cache, 32);
            hex_encode(cache, 32, hex);
            rc = store_meta_put(s, "config", SV("sts-token-key"), sv_from_cstr(hex));
            memset(hex, 0, sizeof hex);
        }
        buf_release(&b);
        cached = rc == 0;
    }
    if (rc == 0)
        memcpy(key, cache, 32);
    pthread_mutex_unlock(&key_lock);
    return rc;
}

void iam_gen_id(char *out, const char *prefix, size_t len)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; /* 32: no modulo bias */
    size_t p = strlen(prefix);
    unsigned char r[64];
    memcpy(out, prefix, p);
    random_bytes(r, sizeof r);
    for (size_t i = p; i < len && i - p < sizeof r; i++)
        out[i] = al[r[i - p] % 32];
    out[len] = 0;
}

void iam_gen_secret(char out[41])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char r[40];
    random_bytes(r, sizeof r);
    for (int i = 0; i < 40; i++)
        out[i] = al[r[i] % 64];
    out[40] = 0;
}

const char *iam_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

json_t *iam_obj(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, k, v);
    }
    return v;
}

json_t *iam_arr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_array(v)) {
        v = json_array();
        json_object_set_new(o, k, v);
    }
    return v;
}
