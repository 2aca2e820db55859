/* Allocation wrappers. Internal allocation failure is not recoverable here: these abort.
 * Sizes a client controls must be checked against limits *before* calling them. */
#ifndef STRATA_CORE_MEM_H
#define STRATA_CORE_MEM_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size); /* overflow-checked */
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size); /* overflow-checked */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
