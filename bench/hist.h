/* Latency histogram for the bench tools (header-only, so tests/unit can include it).
 *
 * HDR-style log-linear buckets over non-negative integer values (the tools record
 * microseconds): values below 2 * BENCH_HIST_SUB are exact; above, each power of two is split
 * into BENCH_HIST_SUB equal buckets, so a reported percentile is at most 1/128 (< 0.8 %) above
 * the true value. Values >= 2^BENCH_HIST_MAX_BITS are clamped into the last bucket (min, max
 * and sum stay exact). Recording is O(1) with no allocation; a histogram is a plain struct
 * (about 35 KiB) that the caller owns, clears with bench_hist_clear() and can merge.
 *
 * Percentile p (0..100) is the smallest recorded bucket whose cumulative count reaches
 * ceil(p/100 * count) (at least rank 1), reported as the bucket's highest value and capped at
 * the exact max: so p100 == max and, for exactly representable values, the result is exact.
 * Not thread-safe: one histogram per thread, merge afterwards. */
#ifndef STRATA_BENCH_HIST_H
#define STRATA_BENCH_HIST_H
#include <stdint.h>
#include <string.h>

#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_BITS 40
#define BENCH_HIST_N ((BENCH_HIST_MAX_BITS - BENCH_HIST_SUB_BITS) * BENCH_HIST_SUB + BENCH_HIST_SUB)

typedef struct bench_hist {
    uint64_t count, sum, min, max;
    uint64_t counts[BENCH_HIST_N];
} bench_hist_t;

static inline void bench_hist_clear(bench_hist_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

/* Bucket index of a value (clamped to the last bucket). */
static inline unsigned bench_hist_index(uint64_t v)
{
    if (v >= ((uint64_t)1 << BENCH_HIST_MAX_BITS))
        return BENCH_HIST_N - 1;
    if (v < 2 * BENCH_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - BENCH_HIST_SUB_BITS;
    return (shift + 1) * BENCH_HIST_SUB + (unsigned)((v >> shift) - BENCH_HIST_SUB);
}

/* Lowest value that maps to bucket idx, and the bucket's width. */
static inline uint64_t bench_hist_low(unsigned idx, uint64_t *width)
{
    if (idx < 2 * BENCH_HIST_SUB) {
        *width = 1;
        return idx;
    }
    unsigned shift = idx / BENCH_HIST_SUB - 1;
    uint64_t sub = idx % BENCH_HIST_SUB + BENCH_HIST_SUB;
    *width = (uint64_t)1 << shift;
    return sub << shift;
}

static inline void bench_hist_record(bench_hist_t *h, uint64_t v)
{
    h->counts[bench_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

static inline void bench_hist_merge(bench_hist_t *into, const bench_hist_t *from)
{
    for (unsigned i = 0; i < BENCH_HIST_N; i++)
        into->counts[i] += from->counts[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

/* p in [0, 100]; 0 for an empty histogram. */
static inline uint64_t bench_hist_percentile(const bench_hist_t *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    double r = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_N; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            if (i == BENCH_HIST_N - 1)
                return h->max; /* the clamp bucket: only max is known */
            uint64_t w, lo = bench_hist_low(i, &w);
            uint64_t hi = lo + w - 1;
            if (hi > h->max)
                hi = h->max;
            if (hi < h->min)
                hi = h->min;
            return hi;
        }
    }
    return h->max;
}

static inline double bench_hist_mean(const bench_hist_t *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
#endif
