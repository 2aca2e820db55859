/* Growable byte buffer, for building responses (XML, JSON) and records. Owns its memory. */
#ifndef STRATA_CORE_BUF_H
#define STRATA_CORE_BUF_H
#include <stdarg.h>
#include <stddef.h>

#include "core/str.h"

typedef struct buf {
    char *p;    /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT ((buf_t){NULL, 0, 0})

void buf_init(buf_t *b);
void buf_release(buf_t *b); /* frees memory; b is then empty and reusable */
void buf_clear(buf_t *b);   /* len = 0, keeps memory */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_putsv(buf_t *b, sv_t s);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends s with XML special characters escaped (&, <, >, ", ' and control chars). */
void buf_xml_escape(buf_t *b, sv_t s);
sv_t buf_sv(const buf_t *b);
/* Transfers ownership of the bytes to the caller (free()); b becomes empty. */
char *buf_steal(buf_t *b, size_t *len);

#endif
