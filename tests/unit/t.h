/* Minimal unit-test harness. Each tests/unit/test_<module>.c is its own process:
 *   TEST(name) { CHECK(expr); CHECK_EQ_INT(a, b); CHECK_EQ_STR(a, b); }
 *   int main(void) { RUN(name); ...; return t_summary("module"); }
 * t_summary prints "<module>: N passed, N failed" and returns the exit status. */
#ifndef STRATA_TEST_T_H
#define STRATA_TEST_T_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;
static const char *t_cur;

#define TEST(name) static void name(void)
#define RUN(name)                                                                                  \
    do {                                                                                           \
        t_cur = #name;                                                                             \
        t_cur_failed = 0;                                                                          \
        name();                                                                                    \
        if (t_cur_failed)                                                                          \
            t_fail++;                                                                              \
        else                                                                                       \
            t_pass++;                                                                              \
    } while (0)
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d %s: %s\n", __FILE__, __LINE__, t_cur, #expr);              \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "FAIL %s:%d %s: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, t_cur, \
                    #a, #b, a_, b_);                                                               \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "FAIL %s:%d %s: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__,    \
                    t_cur, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                        \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

static inline int t_summary(const char *module)
{
    printf("%s: %d passed, %d failed\n", module, t_pass, t_fail);
    return t_fail ? 1 : 0;
}
#endif
