/* bench/hist.h: bucket mapping, percentile math, merge, clamping. */
#include "t.h"
#include "../../bench/hist.h"
#include <stdlib.h>

static bench_hist_t h1, h2;

TEST(empty)
{
    bench_hist_clear(&h1);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 50), 0);
    CHECK_EQ_INT(h1.count, 0);
}

TEST(exact_small_values)
{
    bench_hist_clear(&h1);
    for (uint64_t v = 1; v <= 100; v++)
        bench_hist_record(&h1, v);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 0), 1);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 1), 1);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 50), 50);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 50.5), 51);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 99), 99);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 100), 100);
    CHECK_EQ_INT(h1.min, 1);
    CHECK_EQ_INT(h1.max, 100);
    CHECK_EQ_INT(h1.sum, 5050);
}

/* Every index maps back to a bucket that contains the value; buckets are contiguous. */
TEST(index_roundtrip)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < BENCH_HIST_N; i++) {
        uint64_t w, lo = bench_hist_low(i, &w);
        CHECK_EQ_INT(lo, next);
        CHECK_EQ_INT(bench_hist_index(lo), i);
        CHECK_EQ_INT(bench_hist_index(lo + w - 1), i);
        next = lo + w;
        if (t_cur_failed)
            return;
    }
    CHECK_EQ_INT(next, (uint64_t)1 << BENCH_HIST_MAX_BITS);
}

/* Relative error of any reported percentile is below 1/128 against a sorted reference. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(percentiles_vs_sorted)
{
    enum { N = 20000 };
    static uint64_t v[N];
    uint64_t s = 88172645463325252ull;
    bench_hist_clear(&h1);
    for (int i = 0; i < N; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        v[i] = (s % 1000000) * (1 + (s >> 60)); /* up to ~16 s in microseconds, skewed */
        bench_hist_record(&h1, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    const double ps[] = {1, 10, 50, 90, 99, 99.9, 100};
    for (unsigned k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        size_t rank = (size_t)(ps[k] / 100.0 * N + 0.999999);
        uint64_t want = v[rank ? rank - 1 : 0];
        uint64_t got = bench_hist_percentile(&h1, ps[k]);
        CHECK(got >= want);
        CHECK((double)(got - want) <= (double)want / 128.0 + 1);
    }
    CHECK_EQ_INT(bench_hist_percentile(&h1, 100), v[N - 1]);
}

TEST(merge_and_clamp)
{
    bench_hist_clear(&h1);
    bench_hist_clear(&h2);
    for (int i = 0; i < 50; i++)
        bench_hist_record(&h1, 10);
    for (int i = 0; i < 50; i++)
        bench_hist_record(&h2, 1000);
    bench_hist_record(&h2, (uint64_t)1 << 50); /* beyond the range: clamped, max exact */
    bench_hist_merge(&h1, &h2);
    CHECK_EQ_INT(h1.count, 101);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 49), 10);
    uint64_t p75 = bench_hist_percentile(&h1, 75);
    CHECK(p75 >= 1000 && p75 <= 1000 + 1000 / 128 + 1);
    CHECK_EQ_INT(bench_hist_percentile(&h1, 100), (uint64_t)1 << 50);
    CHECK_EQ_INT(h1.min, 10);
    CHECK(bench_hist_mean(&h1) > 10);
}

int main(void)
{
    RUN(empty);
    RUN(exact_small_values);
    RUN(index_roundtrip);
    RUN(percentiles_vs_sorted);
    RUN(merge_and_clamp);
    return t_summary("bench_hist");
}
