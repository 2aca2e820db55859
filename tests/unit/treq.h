/* A request written as text, for the auth tests: "METHOD target\nName:value\n..." (values
 * kept verbatim, so trimming rules are exercised). The target is split at the first '?'. */
#ifndef STRATA_TEST_TREQ_H
#define STRATA_TEST_TREQ_H
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"

typedef struct {
    sigv4_req_t r;
    kv_t h[32];
    char *text;
} treq_t;

static void treq_init(treq_t *t, const char *text)
{
    memset(t, 0, sizeof *t);
    t->text = strdup(text);
    char *line = t->text, *nl;
    bool first = true;
    while (line && *line) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (first) {
            char *sp = memchr(line, ' ', len);
            t->r.method = (sv_t){line, (size_t)(sp - line)};
            char *tgt = sp + 1;
            size_t tl = len - (size_t)(tgt - line);
            char *q = memchr(tgt, '?', tl);
            t->r.path = (sv_t){tgt, q ? (size_t)(q - tgt) : tl};
            t->r.query = q ? (sv_t){q + 1, tl - (size_t)(q - tgt) - 1} : (sv_t){tgt + tl, 0};
            first = false;
        } else {
            char *colon = memchr(line, ':', len);
            kv_t *kv = &t->h[t->r.nheaders++];
            kv->name = (sv_t){line, (size_t)(colon - line)};
            kv->value = (sv_t){colon + 1, len - (size_t)(colon - line) - 1};
        }
        line = nl ? nl + 1 : NULL;
    }
    t->r.headers = t->h;
}
#endif
