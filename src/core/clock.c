#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int64_t g_day_seconds = 86400;

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void clock_set_day_seconds(int64_t s)
{
    if (s > 0)
        g_day_seconds = s;
}

int64_t day_seconds(void)
{
    return g_day_seconds;
}

void fmt_iso8601(int64_t t_ms, char out[32])
{
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon % 12) + 1,
             tm.tm_mday % 32, tm.tm_hour % 24, tm.tm_min % 60, tm.tm_sec % 61, (int)(t_ms % 1000));
}

/* Dates by hand, not gmtime_r + strftime / strptime + timegm: a signed request formats and
 * parses its x-amz-date, and a GET formats Last-Modified, and stdio's formatting machinery
 * was ~1.5 % of a small GET's CPU. Proleptic Gregorian calendar, days since 1970-01-01 (the
 * algorithms of H. Hinnant's "chrono-compatible low-level date algorithms"). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

struct civil {
    int64_t year;
    unsigned mon, day, hour, min, sec, wday; /* mon 1-12, wday 0 = Sunday */
};

static struct civil civil_of(int64_t t_sec)
{
    struct civil c;
    int64_t days = t_sec >= 0 ? t_sec / 86400 : -((-t_sec + 86399) / 86400);
    int64_t rem = t_sec - days * 86400;
    civil_from_days(days, &c.year, &c.mon, &c.day);
    c.hour = (unsigned)(rem / 3600);
    c.min = (unsigned)(rem / 60 % 60);
    c.sec = (unsigned)(rem % 60);
    c.wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    return c;
}

/* n decimal digits of v (v < 10^n) at p */
static char *put_dec(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

void fmt_amz_date(int64_t t_sec, char out[17])
{
    struct civil c = civil_of(t_sec);
    char *p = put_dec(out, (unsigned)(((c.year % 10000) + 10000) % 10000), 4);
    p = put_dec(p, c.mon, 2);
    p = put_dec(p, c.day, 2);
    *p++ = 'T';
    p = put_dec(p, c.hour, 2);
    p = put_dec(p, c.min, 2);
    p = put_dec(p, c.sec, 2);
    *p++ = 'Z';
    *p = 0;
}

void fmt_http_date(int64_t t_ms, char out[40])
{
    static const char wd[] = "SunMonTueWedThuFriSat";
    static const char mn[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct civil c = civil_of(t_ms / 1000);
    char *p = out;
    memcpy(p, wd + 3 * c.wday, 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    p = put_dec(p, c.day, 2);
    *p++ = ' ';
    memcpy(p, mn + 3 * (c.mon - 1), 3);
    p += 3;
    *p++ = ' ';
    p = put_dec(p, (unsigned)(((c.year % 10000) + 10000) % 10000), 4);
    *p++ = ' ';
    p = put_dec(p, c.hour, 2);
    *p++ = ':';
    p = put_dec(p, c.min, 2);
    *p++ = ':';
    p = put_dec(p, c.sec, 2);
    memcpy(p, " GMT", 5);
}

static int parse_with(const char *buf, const char *fmt, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(buf, fmt, &tm);
    if (!end || *end)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int parse_http_date(sv_t s, int64_t *out_sec)
{
    char buf[64];
    if (s.len == 0 || s.len >= sizeof buf)
        return -1;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    if (parse_with(buf, "%a, %d %b %Y %H:%M:%S GMT", out_sec) == 0 ||
        parse_with(buf, "%a, %d %b %Y %H:%M:%S +0000", out_sec) == 0 || /* RFC 822 zone: s3cmd */
        parse_with(buf, "%A, %d-%b-%y %H:%M:%S GMT", out_sec) == 0 ||
        parse_with(buf, "%a %b %e %H:%M:%S %Y", out_sec) == 0 ||
        parse_with(buf, "%Y-%m-%dT%H:%M:%S.000Z", out_sec) == 0 ||
        parse_with(buf, "%Y-%m-%dT%H:%M:%SZ", out_sec) == 0)
        return 0;
    return parse_amz_date(s, out_sec);
}

/* 2 digits at p as a number */
static unsigned dec2(const char *p)
{
    return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

int parse_amz_date(sv_t s, int64_t *out_sec)
{
    if (s.len != 16)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        char c = s.p[i];
        if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9'))
            return -1;
    }
    /* the ranges strptime's %Y%m%dT%H%M%S took; a day past the month's end rolls over into
     * the next month, as timegm did */
    unsigned y = dec2(s.p) * 100 + dec2(s.p + 2), mo = dec2(s.p + 4), d = dec2(s.p + 6),
             h = dec2(s.p + 9), mi = dec2(s.p + 11), sec = dec2(s.p + 13);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 61)
        return -1;
    *out_sec = (days_from_civil(y, mo, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}
