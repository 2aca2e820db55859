/* The per-principal IAM cache (see identity.h). A small chained hash table; an entry whose
 * generation is behind iam_generation() is reloaded on use. The generation is read before the
 * records are, and writers bump it after writing, so an entry is never tagged newer than what
 * it holds. When the table holds too many entries it is emptied (IAM principals of one server
 * are few; the bound only stops an attacker-driven growth). */
#include "api/identity.h"
#include "api/iam_store.h"
#include "core/log.h"
#include "core/mem.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct box {
    ident_t id; /* first: ident_release casts back */
    _Atomic int refs;
    size_t cap; /* of id.identity */
} box_t;

struct ent {
    struct ent *next;
    const store_t *s;
    char key[200]; /* "<acct>/u|r/<lowercased name>" */
    uint64_t gen;
    box_t *b;
};

#define SLOTS 256
#define MAX_ENTRIES 4096
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent *tab[SLOTS];
static size_t nentries;

static void box_free(box_t *b)
{
    for (size_t i = 0; i < b->id.nidentity; i++)
        policy_unref(b->id.identity[i]);
    free(b->id.identity);
    policy_unref(b->id.boundary);
    free(b->id.boundary_arn);
    for (size_t i = 0; i < b->id.ntags; i++) {
        free((char *)b->id.tags[i].name.p);
        free((char *)b->id.tags[i].value.p);
    }
    free(b->id.tags);
    free(b);
}

void ident_release(const ident_t *id)
{
    box_t *b = (box_t *)id;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        box_free(b);
}

static int add_doc(void *ctx, const char *doc)
{
    box_t *b = ctx;
    policy_t *p = NULL;
    char err[160];
    if (policy_parse(doc, strlen(doc), POLICY_IDENTITY, &p, err, sizeof err) != 0) {
        log_warn("iam: a stored identity policy does not compile (%s); denying", err);
        b->id.broken = true;
        return 1;
    }
    if (b->id.nidentity == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->id.identity = xreallocarray(b->id.identity, b->cap, sizeof *b->id.identity);
    }
    b->id.identity[b->id.nidentity++] = p;
    return 0;
}

static box_t *load(store_t *s, const char *acct, const char *name, bool is_role, int *rc)
{
    json_t *rec;
    *rc = iam_get(s, is_role ? IAM_ROLE : IAM_USER, acct, sv_from_cstr(name), &rec);
    if (*rc)
        return NULL;
    box_t *b = xcalloc(1, sizeof *b);
    atomic_init(&b->refs, 1);

    json_t *tags = json_object_get(rec, "tags");
    size_t n = json_array_size(tags), i;
    json_t *t;
    b->id.tags = xcalloc(n ? n : 1, sizeof *b->id.tags);
    json_array_foreach(tags, i, t) {
        const char *k = iam_str(t, "Key"), *v = iam_str(t, "Value");
        b->id.tags[b->id.ntags++] = (kv_t){{xstrdup(k), strlen(k)}, {xstrdup(v), strlen(v)}};
    }

    const char *barn = iam_str(rec, "boundary");
    if (*barn) {
        char *doc = NULL;
        char err[160] = "";
        b->id.boundary_arn = xstrdup(barn);
        int brc = iam_managed_policy_doc(s, acct, barn, &doc);
        if (brc == 0)
            brc = policy_parse(doc, strlen(doc), POLICY_IDENTITY, &b->id.boundary, err, sizeof err);
        free(doc);
        if (brc) {
            log_warn("iam: permissions boundary %s of %s unusable (%s); denying", barn, name,
                     err[0] ? err : "not found");
            b->id.broken = true;
        }
    }
    int drc = iam_identity_policy_docs(s, acct, iam_str(rec, "name"), is_role, add_doc, b);
    if (drc)
        b->id.broken = true; /* deleted meanwhile, or the store failed */
    json_decref(rec);
    return b;
}

static void mkkey(char out[200], const char *acct, const char *name, bool is_role)
{
    size_t n = (size_t)snprintf(out, 200, "%s/%c/", acct, is_role ? 'r' : 'u');
    for (; *name && n < 199; name++)
        out[n++] = (char)tolower((unsigned char)*name);
    out[n] = 0;
}

static size_t slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return (size_t)(h % SLOTS);
}

static void flush_locked(void)
{
    for (size_t i = 0; i < SLOTS; i++) {
        for (struct ent *e = tab[i], *next; e; e = next) {
            next = e->next;
            ident_release(&e->b->id);
            free(e);
        }
        tab[i] = NULL;
    }
    nentries = 0;
}

int ident_get(store_t *s, const char *acct, const char *name, bool is_role, const ident_t **out)
{
    char key[200];
    *out = NULL;
    if (strlen(name) > 128)
        return -ENOENT;
    mkkey(key, acct, name, is_role);
    size_t slot = slot_of(key);
    uint64_t gen = iam_generation();

    pthread_mutex_lock(&lock);
    struct ent *e = tab[slot];
    while (e && (e->s != s || strcmp(e->key, key) != 0))
        e = e->next;
    if (e && e->gen == gen) {
        atomic_fetch_add(&e->b->refs, 1);
        *out = &e->b->id;
        pthread_mutex_unlock(&lock);
        return 0;
    }
    pthread_mutex_unlock(&lock);

    int rc;
    box_t *b = load(s, acct, name, is_role, &rc);
    if (!b)
        return rc; /* absent or a store error: not cached */

    pthread_mutex_lock(&lock);
    e = tab[slot];
    while (e && (e->s != s || strcmp(e->key, key) != 0))
        e = e->next;
    if (!e) {
        if (nentries >= MAX_ENTRIES)
            flush_locked();
        e = xcalloc(1, sizeof *e);
        e->s = s;
        snprintf(e->key, sizeof e->key, "%s", key);
        e->next = tab[slot];
        tab[slot] = e;
        nentries++;
    } else {
        ident_release(&e->b->id);
    }
    e->b = b;
    e->gen = gen;
    atomic_fetch_add(&b->refs, 1); /* the cache's reference */
    pthread_mutex_unlock(&lock);
    *out = &b->id;
    return 0;
}
