/* Accounts and access keys over store_meta (namespaces "accounts", "account-names",
 * "canonical-ids", "keys"), encoded as JSON with jansson so later fields (IAM users, tags,
 * key creation dates) can be added without a migration.
 *
 * Every signed request looks up its access key and account: decoded records are cached
 * (ACACHE slots each, per store) because the JSON decoding was ~20 % of the server's CPU on
 * GET 4 KiB. All writers of "accounts" and "keys" are in this file and bump a generation after
 * their write is committed; a lookup notes the generation before reading the store and fills
 * the cache with it, and only entries of the current generation are served, so a record
 * replaced or deleted is never served from the cache afterwards. Misses are not cached. */
#include "api/accounts.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

#define ACACHE 64
static struct {
    store_t *s;
    uint64_t gen; /* 0: empty */
    access_key_t k;
} kcache[ACACHE];
static struct {
    store_t *s;
    uint64_t gen;
    account_t a;
} acache[ACACHE];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t cache_gen = 1;

static unsigned cache_slot(sv_t k)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k.len; i++)
        h = (h ^ (uint8_t)k.p[i]) * 16777619u;
    return h % ACACHE;
}

/* After any committed write of "accounts" or "keys". */
static void cache_invalidate(void)
{
    atomic_fetch_add(&cache_gen, 1);
}

static void copy_str(char *dst, size_t cap, json_t *o, const char *field)
{
    const char *v = json_string_value(json_object_get(o, field));
    snprintf(dst, cap, "%s", v ? v : "");
}

static int meta_json(store_t *s, const char *ns, sv_t key, json_t **out)
{
    buf_t b = BUF_INIT;
    int rc = store_meta_get(s, ns, key, &b);
    if (rc == 0) {
        *out = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
        if (!*out)
            rc = -SE_INTERNAL;
    }
    buf_release(&b);
    return rc;
}

static int put_json(store_t *s, const char *ns, const char *key, json_t *o)
{
    char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!txt)
        return -ENOMEM;
    int rc = store_meta_put(s, ns, sv_from_cstr(key), sv_from_cstr(txt));
    free(txt);
    cache_invalidate();
    return rc;
}

int accounts_get(store_t *s, sv_t id, account_t *out)
{
    uint64_t gen = atomic_load(&cache_gen);
    unsigned slot = cache_slot(id);
    pthread_mutex_lock(&cache_mu);
    if (acache[slot].gen == gen && acache[slot].s == s && strlen(acache[slot].a.id) == id.len &&
        memcmp(acache[slot].a.id, id.p, id.len) == 0) {
        *out = acache[slot].a;
        pthread_mutex_unlock(&cache_mu);
        return 0;
    }
    pthread_mutex_unlock(&cache_mu);
    json_t *o;
    int rc = meta_json(s, "accounts", id, &o);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    copy_str(out->id, sizeof out->id, o, "id");
    copy_str(out->name, sizeof out->name, o, "name");
    copy_str(out->canonical_id, sizeof out->canonical_id, o, "canonical_id");
    copy_str(out->display_name, sizeof out->display_name, o, "display_name");
    copy_str(out->email, sizeof out->email, o, "email");
    out->root = json_is_true(json_object_get(o, "root"));
    json_decref(o);
    if (strlen(out->id) == id.len && memcmp(out->id, id.p, id.len) == 0) {
        pthread_mutex_lock(&cache_mu);
        acache[slot].s = s;
        acache[slot].gen = gen;
        acache[slot].a = *out;
        pthread_mutex_unlock(&cache_mu);
    }
    return 0;
}

int accounts_by_canonical(store_t *s, sv_t canonical_id, account_t *out)
{
    buf_t b = BUF_INIT;
    int rc = store_meta_get(s, "canonical-ids", canonical_id, &b);
    if (rc == 0)
        rc = accounts_get(s, buf_sv(&b), out);
    buf_release(&b);
    return rc;
}

int accounts_key_get(store_t *s, sv_t access_key, access_key_t *out)
{
    uint64_t gen = atomic_load(&cache_gen);
    unsigned slot = cache_slot(access_key);
    pthread_mutex_lock(&cache_mu);
    if (kcache[slot].gen == gen && kcache[slot].s == s &&
        strlen(kcache[slot].k.access_key) == access_key.len &&
        memcmp(kcache[slot].k.access_key, access_key.p, access_key.len) == 0) {
        *out = kcache[slot].k;
        pthread_mutex_unlock(&cache_mu);
        return 0;
    }
    pthread_mutex_unlock(&cache_mu);
    json_t *o;
    int rc = meta_json(s, "keys", access_key, &o);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    snprintf(out->access_key, sizeof out->access_key, SV_FMT, SV_ARG(access_key));
    copy_str(out->secret, sizeof out->secret, o, "secret");
    copy_str(out->account_id, sizeof out->account_id, o, "account");
    json_t *st = json_object_get(o, "status");
    out->active = !st || strcmp(json_string_value(st) ? json_string_value(st) : "", "Active") == 0;
    copy_str(out->user, sizeof out->user, o, "user");
    out->created = (int64_t)json_integer_value(json_object_get(o, "created"));
    json_decref(o);
    if (access_key.len < sizeof out->access_key) {
        pthread_mutex_lock(&cache_mu);
        kcache[slot].s = s;
        kcache[slot].gen = gen;
        kcache[slot].k = *out;
        pthread_mutex_unlock(&cache_mu);
    }
    return 0;
}

bool accounts_valid_access_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 3 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
            return false;
    return true;
}

bool accounts_valid_secret(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static void gen_alnum(char *out, size_t n, const char *alphabet)
{
    size_t al = strlen(alphabet);
    unsigned char r[256];
    random_bytes(r, n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] % al]; /* alphabet sizes divide 256 or bias is negligible */
    out[n] = 0;
}

static void gen_account_id(char out[16])
{
    unsigned char r[12];
    random_bytes(r, sizeof r);
    for (int i = 0; i < 12; i++)
        out[i] = (char)('0' + r[i] % 10);
    if (out[0] == '0')
        out[0] = '1';
    out[12] = 0;
}

static bool exists(store_t *s, const char *ns, const char *key)
{
    buf_t b = BUF_INIT;
    int rc = store_meta_get(s, ns, sv_from_cstr(key), &b);
    buf_release(&b);
    return rc == 0;
}

static int put_key(store_t *s, const access_key_t *k)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "secret", k->secret, "account", k->account_id,
                          "status", k->active ? "Active" : "Inactive", "created",
                          (json_int_t)(k->created ? k->created : time(NULL)));
    if (k->user[0])
        json_object_set_new(o, "user", json_string(k->user));
    int rc = put_json(s, "keys", k->access_key, o);
    json_decref(o);
    return rc;
}

int accounts_key_put(store_t *s, const access_key_t *k)
{
    return put_key(s, k);
}

int accounts_key_delete(store_t *s, sv_t access_key)
{
    int rc = store_meta_delete(s, "keys", access_key);
    cache_invalidate();
    return rc;
}

static int create_locked(store_t *s, const char *name, const char *access_key, const char *secret,
                         const char *canonical_id, const char *display_name, const char *email,
                         bool root, account_t *acct, access_key_t *key)
{
    int rc;
    memset(acct, 0, sizeof *acct);
    memset(key, 0, sizeof *key);
    if (!name || !*name || strlen(name) >= sizeof acct->name)
        return -SE_INVALID_ARGUMENT;
    if (access_key && *access_key && !accounts_valid_access_key(access_key))
        return -SE_INVALID_ARGUMENT;
    if (secret && *secret && !accounts_valid_secret(secret))
        return -SE_INVALID_ARGUMENT;
    if (canonical_id && *canonical_id) {
        if (strlen(canonical_id) >= sizeof acct->canonical_id)
            return -SE_INVALID_ARGUMENT;
        for (const char *c = canonical_id; *c; c++)
            if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                return -SE_INVALID_ARGUMENT;
    }
    if (exists(s, "account-names", name))
        return -EEXIST;
    do
        gen_account_id(acct->id);
    while (exists(s, "accounts", acct->id));
    snprintf(acct->name, sizeof acct->name, "%s", name);
    if (canonical_id && *canonical_id) {
        snprintf(acct->canonical_id, sizeof acct->canonical_id, "%s", canonical_id);
    } else {
        uint8_t r[32];
        random_bytes(r, sizeof r);
        hex_encode(r, sizeof r, acct->canonical_id);
    }
    if (exists(s, "canonical-ids", acct->canonical_id))
        return -EEXIST;
    snprintf(acct->display_name, sizeof acct->display_name, "%s",
             display_name && *display_name ? display_name : name);
    snprintf(acct->email, sizeof acct->email, "%s", email ? email : "");
    acct->root = root;

    if (access_key && *access_key)
        snprintf(key->access_key, sizeof key->access_key, "%s", access_key);
    else
        gen_alnum(key->access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    if (secret && *secret)
        snprintf(key->secret, sizeof key->secret, "%s", secret);
    else
        gen_alnum(key->secret, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    snprintf(key->account_id, sizeof key->account_id, "%s", acct->id);
    key->active = true;
    if (exists(s, "keys", key->access_key))
        return -EEXIST;

    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "id", acct->id, "name", acct->name,
                          "canonical_id", acct->canonical_id, "display_name", acct->display_name,
                          "email", acct->email, "root", root, "created", (json_int_t)time(NULL));
    /* Order: the account record first; the name/canonical/key indexes point at it. */
    rc = put_json(s, "accounts", acct->id, o);
    json_decref(o);
    if (rc == 0)
        rc = store_meta_put(s, "account-names", sv_from_cstr(name), sv_from_cstr(acct->id));
    if (rc == 0)
        rc = store_meta_put(s, "canonical-ids", sv_from_cstr(acct->canonical_id), sv_from_cstr(acct->id));
    if (rc == 0)
        rc = put_key(s, key);
    return rc;
}

int accounts_create(store_t *s, const char *name, const char *access_key, const char *secret,
                    const char *canonical_id, const char *display_name, const char *email,
                    account_t *acct, access_key_t *key)
{
    pthread_mutex_lock(&create_lock);
    int rc = create_locked(s, name, access_key, secret, canonical_id, display_name, email, false,
                           acct, key);
    pthread_mutex_unlock(&create_lock);
    return rc;
}

static int save_credentials(const char *dir, const access_key_t *k)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/root-credentials", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char line[400];
    int n = snprintf(line, sizeof line, "STRATA_ROOT_ACCESS_KEY=%s\nSTRATA_ROOT_SECRET_KEY=%s\n",
                     k->access_key, k->secret);
    int rc = write(fd, line, (size_t)n) == n ? 0 : -EIO;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int accounts_bootstrap(store_t *s, const char *data_dir, const char *env_access,
                       const char *env_secret)
{
    buf_t root = BUF_INIT;
    int rc = store_meta_get(s, "config", SV("root-account"), &root);
    bool have_env = env_access && *env_access && env_secret && *env_secret;
    if (have_env && (!accounts_valid_access_key(env_access) || !accounts_valid_secret(env_secret))) {
        log_error("STRATA_ROOT_ACCESS_KEY must be 3-128 letters/digits and STRATA_ROOT_SECRET_KEY "
                  "8-128 printable characters");
        buf_release(&root);
        return -EINVAL;
    }
    if (rc == 0) {
        /* Root exists. Environment keys, when given, are (re)bound to it. */
        if (have_env) {
            access_key_t k = {0};
            snprintf(k.access_key, sizeof k.access_key, "%s", env_access);
            snprintf(k.secret, sizeof k.secret, "%s", env_secret);
            snprintf(k.account_id, sizeof k.account_id, "%.*s", (int)root.len, root.p);
            k.active = true;
            access_key_t old;
            if (accounts_key_get(s, sv_from_cstr(env_access), &old) == 0 &&
                strcmp(old.account_id, k.account_id) != 0) {
                log_error("STRATA_ROOT_ACCESS_KEY belongs to another account");
                rc = -EEXIST;
            } else {
                rc = put_key(s, &k);
            }
        }
        buf_release(&root);
        return rc;
    }
    buf_release(&root);
    if (rc != -ENOENT)
        return rc;
    account_t a;
    access_key_t k;
    pthread_mutex_lock(&create_lock);
    rc = create_locked(s, "root", have_env ? env_access : NULL, have_env ? env_secret : NULL, NULL,
                       "root", NULL, true, &a, &k);
    pthread_mutex_unlock(&create_lock);
    if (rc == 0)
        rc = store_meta_put(s, "config", SV("root-account"), sv_from_cstr(a.id));
    if (rc)
        return rc;
    if (!have_env) {
        rc = save_credentials(data_dir, &k);
        printf("Root account created. Its keys are shown only this once (also saved to "
               "%s/root-credentials, mode 0600):\n"
               "  STRATA_ROOT_ACCESS_KEY=%s\n  STRATA_ROOT_SECRET_KEY=%s\n",
               data_dir, k.access_key, k.secret);
        fflush(stdout);
    }
    log_info("root account created id=%s", a.id);
    return rc;
}
