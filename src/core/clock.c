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

void fmt_http_date(int64_t t_ms, char out[40])
{
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
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

int parse_amz_date(sv_t s, int64_t *out_sec)
{
    char buf[32];
    if (s.len != 16)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        char c = s.p[i];
        if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9'))
            return -1;
    }
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    return parse_with(buf, "%Y%m%dT%H%M%SZ", out_sec);
}
