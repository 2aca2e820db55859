/* The one clock. Lifecycle days, restore durations and reports read day_seconds(), which is
 * 86400 unless STRATA_DAY_SECONDS (or the server flag) shortens it for tests and demos. */
#ifndef STRATA_CORE_CLOCK_H
#define STRATA_CORE_CLOCK_H
#include <stdint.h>
#include <time.h>

#include "core/str.h"

int64_t now_ms(void);      /* wall clock, milliseconds since the epoch */
int64_t now_mono_ns(void); /* monotonic, for durations */
void clock_set_day_seconds(int64_t s);
int64_t day_seconds(void);
/* Formats t (ms since epoch) as ISO 8601 "2026-11-21T10:00:00.000Z" (25 bytes with NUL). */
void fmt_iso8601(int64_t t_ms, char out[32]);
/* Formats t (seconds since the epoch) as the amz date "20261121T100000Z" (17 with NUL). */
void fmt_amz_date(int64_t t_sec, char out[17]);
/* Formats t as RFC 7231 "Sat, 21 Nov 2026 10:00:00 GMT". */
void fmt_http_date(int64_t t_ms, char out[40]);
/* Parses RFC 7231 / RFC 850 / asctime dates and ISO 8601 "YYYYMMDDTHHMMSSZ" (amz) into
 * seconds since the epoch. 0 ok, -1 bad. */
int parse_http_date(sv_t s, int64_t *out_sec);
int parse_amz_date(sv_t s, int64_t *out_sec);

#endif
