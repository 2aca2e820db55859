/* Per-request arena: many small allocations, freed together in one call.
 * Not thread-safe: one arena belongs to one request. With STRATA_SANITIZE (make SANITIZE=1)
 * every allocation is a separate malloc so ASan sees each one. */
#ifndef STRATA_CORE_ARENA_H
#define STRATA_CORE_ARENA_H
#include <stddef.h>

#include "core/str.h"

typedef struct arena arena_t;

arena_t *arena_new(void);
void arena_free(arena_t *a); /* frees every allocation and runs cleanups, newest first */
void *arena_alloc(arena_t *a, size_t n);                  /* 16-byte aligned, uninitialised */
void *arena_calloc(arena_t *a, size_t nmemb, size_t size); /* zeroed, overflow-checked */
char *arena_strndup(arena_t *a, const char *s, size_t n); /* NUL-terminated copy */
char *arena_svdup(arena_t *a, sv_t s);
char *arena_sprintf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers fn(arg) to run when the arena is freed. */
void arena_on_free(arena_t *a, void (*fn)(void *), void *arg);

#endif
