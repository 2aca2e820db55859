/* libFuzzer: policy_parse + policy_eval / policy_decide / policy_is_public.
 * Input: a policy document, optionally followed by a NUL byte and a request context as lines:
 *   action\nresource\nkey=value|value\n...
 * The document is parsed as each of the four kinds; every document that parses is evaluated
 * against a few fixed principals (anonymous, same-account user, cross-account role session)
 * and the fuzzed context. Checks: parse either succeeds with a policy or fails with one of
 * its documented codes and a message, never both; decisions are in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "policy/policy.h"

#define MAXK 8
#define MAXV 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t doc_len = nul ? (size_t)(nul - data) : size;
    /* private copies so ASan sees reads past either part */
    char *doc = malloc(doc_len ? doc_len : 1);
    memcpy(doc, data, doc_len);
    size_t ctx_len = nul ? size - doc_len - 1 : 0;
    char *cb = malloc(ctx_len + 1);
    if (ctx_len)
        memcpy(cb, nul + 1, ctx_len);
    cb[ctx_len] = 0;

    /* fuzzed context: line 1 action, line 2 resource, then key=v1|v2 */
    sv_t action = SV("s3:GetObject"), resource = SV("arn:aws:s3:::example-bucket/shared/k");
    policy_key_t keys[MAXK];
    sv_t vals[MAXK][MAXV];
    size_t nkeys = 0;
    if (ctx_len) {
        int line = 0;
        char *p = cb, *end = cb + ctx_len;
        while (p <= end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *le = nl ? nl : end;
            sv_t l = {p, (size_t)(le - p)};
            if (line == 0)
                action = l;
            else if (line == 1)
                resource = l;
            else if (nkeys < MAXK) {
                char *eq = memchr(p, '=', l.len);
                if (eq) {
                    policy_key_t *k = &keys[nkeys];
                    k->key = (sv_t){p, (size_t)(eq - p)};
                    k->values = vals[nkeys];
                    k->nvalues = 0;
                    char *v = eq + 1;
                    while (v <= le && k->nvalues < MAXV) {
                        char *bar = memchr(v, '|', (size_t)(le - v));
                        char *ve = bar ? bar : le;
                        vals[nkeys][k->nvalues++] = (sv_t){v, (size_t)(ve - v)};
                        if (!bar)
                            break;
                        v = bar + 1;
                    }
                    nkeys++;
                }
            }
            line++;
            if (!nl)
                break;
            p = nl + 1;
        }
    }

    static const kv_t tags[] = {{{"team", 4}, {"blue", 4}}, {{"clearance", 9}, {"phi-1", 5}}};
    policy_ctx_t ctxs[3];
    memset(ctxs, 0, sizeof(ctxs));
    for (int i = 0; i < 3; i++) {
        ctxs[i].action = action;
        ctxs[i].resource = resource;
        ctxs[i].resource_account = SV("111122223333");
        ctxs[i].keys = keys;
        ctxs[i].nkeys = nkeys;
    }
    ctxs[0].type = PRINCIPAL_ANONYMOUS;
    ctxs[1].type = PRINCIPAL_USER;
    ctxs[1].account = SV("111122223333");
    ctxs[1].arn = SV("arn:aws:iam::111122223333:user/alice");
    ctxs[1].username = SV("alice");
    ctxs[1].userid = SV("AIDAALICE");
    ctxs[1].principal_tags = tags;
    ctxs[1].nprincipal_tags = 2;
    ctxs[2].type = PRINCIPAL_ASSUMED_ROLE;
    ctxs[2].account = SV("444455556666");
    ctxs[2].arn = SV("arn:aws:sts::444455556666:assumed-role/etl/s1");
    ctxs[2].role_arn = SV("arn:aws:iam::444455556666:role/etl");
    ctxs[2].userid = SV("AROAETL:s1");

    policy_t *pol[4] = {NULL, NULL, NULL, NULL};
    for (int kind = 0; kind < 4; kind++) {
        char err[256];
        err[0] = 'x';
        policy_t *p = (policy_t *)&err; /* must be overwritten */
        int rc = policy_parse(doc, doc_len, (enum policy_kind)kind, &p, err, sizeof(err));
        if (rc == 0) {
            if (!p)
                abort();
        } else {
            if (p != NULL || !err[0])
                abort();
            if (rc != -SE_MALFORMED_POLICY && rc != -SE_MALFORMED_POLICY_DOCUMENT &&
                rc != -SE_POLICY_LIMIT_EXCEEDED)
                abort();
            continue;
        }
        pol[kind] = p;
        for (int i = 0; i < 3; i++) {
            enum policy_decision d = policy_eval(p, &ctxs[i]);
            if (d != POLICY_NO_MATCH && d != POLICY_ALLOW && d != POLICY_DENY)
                abort();
        }
        (void)policy_is_public(p);
    }
    const policy_t *ids[1] = {pol[POLICY_IDENTITY]};
    const policy_t *sess[1] = {pol[POLICY_SESSION]};
    policy_set_t set = {ids, pol[POLICY_IDENTITY] ? 1 : 0, pol[POLICY_IDENTITY],
                        sess, pol[POLICY_SESSION] ? 1 : 0, pol[POLICY_RESOURCE]};
    for (int i = 0; i < 3; i++) {
        policy_why_t why = {0};
        enum policy_decision d = policy_decide(&set, &ctxs[i], &why);
        if (!why.reason)
            abort();
        /* anonymous can never be allowed without a bucket policy */
        if (i == 0 && d == POLICY_ALLOW && !pol[POLICY_RESOURCE])
            abort();
    }
    for (int kind = 0; kind < 4; kind++)
        policy_unref(pol[kind]);
    free(doc);
    free(cb);
    return 0;
}
