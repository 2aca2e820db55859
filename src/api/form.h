/* api/form: application/x-www-form-urlencoded parsing for the Query APIs (IAM, STS).
 *
 * The IAM and STS Query protocols send "Action=CreateUser&Version=2010-05-08&UserName=bob"
 * as a POST body (or as the query string of a GET). The body is small and already buffered
 * (bounded by the request pipeline), so this parser is not resumable: it works on the whole
 * input at once. Names and values are percent-decoded ('+' is a space) into the arena.
 *
 * Pure (no I/O); fuzzed by tests/fuzz/fuzz_form.c.
 */
#ifndef STRATA_API_FORM_H
#define STRATA_API_FORM_H
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/str.h"

#define FORM_MAX_PARAMS 1000   /* more pairs than any IAM/STS call needs */
#define FORM_MAX_BYTES (1u << 20)

typedef struct form {
    kv_t *kv; /* decoded names and values, in the arena, in input order */
    size_t n;
} form_t;

/* Parses src into *out. Empty pairs ("a=1&&b=2") are skipped; a name without '=' has an empty
 * value. Returns 0, or -1 for a malformed percent escape, too many pairs or too many bytes
 * (the caller answers 400). */
int form_parse(arena_t *a, sv_t src, form_t *out);

/* The value of the first pair with exactly that name; SV_NULL (p == NULL) when absent. */
sv_t form_get(const form_t *f, const char *name);
/* Like form_get with the name built by snprintf ("Tags.member.%zu.Key"). */
sv_t form_getf(const form_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool form_has(const form_t *f, const char *name);

#endif
