/* api/iam_store: records, case-insensitive names, listing, identity policy documents (user
 * inline + attached default versions + groups; role), sessions, the token key; and the
 * per-principal cache of api/identity (compiled policies, boundary, tags, invalidation). */
#include "api/iam_store.h"
#include "api/identity.h"
#include "core/err.h"
#include "t.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static store_t *S;

static json_t *J(const char *txt)
{
    return json_loads(txt, 0, NULL);
}

TEST(put_get_case_insensitive_delete)
{
    json_t *r = J("{\"name\": \"Alice\", \"path\": \"/\"}"), *o = NULL;
    CHECK_EQ_INT(iam_put(S, IAM_USER, "111122223333", "Alice", r), 0);
    CHECK_EQ_INT(iam_get(S, IAM_USER, "111122223333", SV("alice"), &o), 0);
    CHECK_EQ_STR(iam_str(o, "name"), "Alice");
    json_decref(o);
    CHECK_EQ_INT(iam_get(S, IAM_USER, "999988887777", SV("alice"), &o), -ENOENT);
    CHECK_EQ_INT(iam_get(S, IAM_GROUP, "111122223333", SV("alice"), &o), -ENOENT);
    CHECK_EQ_INT(iam_del(S, IAM_USER, "111122223333", "ALICE"), 0);
    CHECK_EQ_INT(iam_get(S, IAM_USER, "111122223333", SV("Alice"), &o), -ENOENT);
    json_decref(r);
}

static int count_cb(void *ctx, json_t *rec)
{
    (*(int *)ctx)++;
    return 0;
}

TEST(list_per_account)
{
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof n, "r%d", i);
        json_t *r = json_pack("{s:s}", "name", n);
        iam_put(S, IAM_ROLE, "222233334444", n, r);
        json_decref(r);
    }
    json_t *other = J("{\"name\": \"x\"}");
    iam_put(S, IAM_ROLE, "222233334445", "x", other);
    json_decref(other);
    int n = 0;
    CHECK_EQ_INT(iam_list(S, IAM_ROLE, "222233334444", count_cb, &n), 0);
    CHECK_EQ_INT(n, 3);
}

struct docs {
    int n;
    char seen[512];
};

static int doc_cb(void *ctx, const char *doc)
{
    struct docs *d = ctx;
    d->n++;
    strncat(d->seen, doc, sizeof d->seen - strlen(d->seen) - 1);
    strncat(d->seen, "|", sizeof d->seen - strlen(d->seen) - 1);
    return 0;
}

TEST(identity_policy_docs)
{
    const char *A = "333344445555";
    json_t *pol = J("{\"name\": \"mp\", \"default\": \"v2\", \"versions\": [{\"id\": \"v1\", "
                    "\"doc\": \"OLD\"}, {\"id\": \"v2\", \"doc\": \"MANAGED\"}]}");
    iam_put(S, IAM_POLICY, A, "mp", pol);
    json_t *u = J("{\"name\": \"Bob\", \"policies\": {\"p\": \"INLINE\"}, \"attached\": "
                  "[\"arn:aws:iam::333344445555:policy/mp\", \"arn:aws:iam::333344445555:policy/gone\"]}");
    iam_put(S, IAM_USER, A, "Bob", u);
    json_t *g = J("{\"name\": \"devs\", \"members\": [\"bob\"], \"policies\": {\"g\": \"GROUP\"}}");
    iam_put(S, IAM_GROUP, A, "devs", g);
    json_t *g2 = J("{\"name\": \"others\", \"members\": [\"carol\"], \"policies\": {\"g\": \"NOPE\"}}");
    iam_put(S, IAM_GROUP, A, "others", g2);
    json_t *r = J("{\"name\": \"role\", \"policies\": {\"r\": \"ROLEDOC\"}}");
    iam_put(S, IAM_ROLE, A, "role", r);

    struct docs d = {0};
    CHECK_EQ_INT(iam_identity_policy_docs(S, A, "bob", false, doc_cb, &d), 0);
    CHECK_EQ_INT(d.n, 3);
    CHECK_EQ_STR(d.seen, "INLINE|MANAGED|GROUP|");
    struct docs e = {0};
    CHECK_EQ_INT(iam_identity_policy_docs(S, A, "role", true, doc_cb, &e), 0);
    CHECK_EQ_STR(e.seen, "ROLEDOC|");
    struct docs f = {0};
    CHECK_EQ_INT(iam_identity_policy_docs(S, A, "nobody", false, doc_cb, &f), -ENOENT);
    json_decref(pol);
    json_decref(u);
    json_decref(g);
    json_decref(g2);
    json_decref(r);
}

TEST(sessions_and_token_key)
{
    json_t *rec = J("{\"secret\": \"s\", \"expires\": 5}"), *o = NULL;
    CHECK_EQ_INT(iam_session_put(S, "ASIAEXAMPLE000000001", rec), 0);
    CHECK_EQ_INT(iam_session_get(S, SV("ASIAEXAMPLE000000001"), &o), 0);
    CHECK_EQ_STR(iam_str(o, "secret"), "s");
    json_decref(o);
    CHECK_EQ_INT(iam_session_del(S, SV("ASIAEXAMPLE000000001")), 0);
    CHECK_EQ_INT(iam_session_get(S, SV("ASIAEXAMPLE000000001"), &o), -ENOENT);
    json_decref(rec);
    uint8_t k1[32], k2[32];
    CHECK_EQ_INT(iam_token_key(S, k1), 0);
    CHECK_EQ_INT(iam_token_key(S, k2), 0);
    CHECK(memcmp(k1, k2, 32) == 0);
}

TEST(ids)
{
    char id[32];
    iam_gen_id(id, "AIDA", 21);
    CHECK_EQ_INT(strlen(id), 21);
    CHECK(strncmp(id, "AIDA", 4) == 0);
    for (int i = 4; i < 21; i++)
        CHECK((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '2' && id[i] <= '7'));
    char sec[41];
    iam_gen_secret(sec);
    CHECK_EQ_INT(strlen(sec), 40);
}

#define ALLOW_S3 "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", " \
                 "\"Action\": \"s3:GetObject\", \"Resource\": \"*\"}}"

TEST(identity_cache)
{
    const char *A = "444455556666";
    json_t *bp = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "name", "bound", "arn",
                           "arn:aws:iam::444455556666:policy/bound", "default", "v1", "versions",
                           "id", "v1", "doc", ALLOW_S3);
    iam_put(S, IAM_POLICY, A, "bound", bp);
    json_t *u = json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}]}", "name", "Dana", "policies", "p",
                          ALLOW_S3, "tags", "Key", "team", "Value", "blue");
    iam_put(S, IAM_USER, A, "Dana", u);
    const ident_t *a = NULL, *b = NULL;
    CHECK_EQ_INT(ident_get(S, A, "dana", false, &a), 0);
    CHECK(a && !a->broken && a->nidentity == 1 && !a->boundary);
    CHECK(a && a->ntags == 1 && sv_eq_cstr(a->tags[0].name, "team"));
    CHECK_EQ_INT(ident_get(S, A, "DANA", false, &b), 0);
    CHECK(a == b); /* cached: the same compiled entry, no re-parse */
    ident_release(b);
    /* any IAM write invalidates: a second policy and a boundary */
    json_object_set_new(json_object_get(u, "policies"), "q", json_string(ALLOW_S3));
    json_object_set_new(u, "boundary", json_string("arn:aws:iam::444455556666:policy/bound"));
    iam_put(S, IAM_USER, A, "Dana", u);
    CHECK_EQ_INT(ident_get(S, A, "dana", false, &b), 0);
    CHECK(b != a && b->nidentity == 2 && b->boundary && !b->broken);
    CHECK_EQ_STR(b->boundary_arn, "arn:aws:iam::444455556666:policy/bound");
    ident_release(a); /* the old entry stays valid for its holder until released */
    ident_release(b);
    /* fail closed: a boundary that is gone, a document that does not compile */
    iam_del(S, IAM_POLICY, A, "bound");
    CHECK_EQ_INT(ident_get(S, A, "dana", false, &a), 0);
    CHECK(a->broken);
    ident_release(a);
    json_object_del(u, "boundary");
    json_object_set_new(json_object_get(u, "policies"), "bad", json_string("{\"nope\": 1}"));
    iam_put(S, IAM_USER, A, "Dana", u);
    CHECK_EQ_INT(ident_get(S, A, "dana", false, &a), 0);
    CHECK(a->broken);
    ident_release(a);
    CHECK_EQ_INT(ident_get(S, A, "nobody", false, &a), -ENOENT);
    CHECK_EQ_INT(ident_get(S, A, "dana", true, &a), -ENOENT); /* no role of that name */
    json_decref(u);
    json_decref(bp);
}

int main(void)
{
    char dir[] = "/tmp/strata-iam-store-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    store_opts_t o = {.dir = dir};
    if (store_open(&o, &S) != 0)
        return 2;
    RUN(put_get_case_insensitive_delete);
    RUN(list_per_account);
    RUN(identity_policy_docs);
    RUN(sessions_and_token_key);
    RUN(ids);
    RUN(identity_cache);
    store_close(S);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 2;
    return t_summary("iam_store");
}
