/* s3/range: a table of Range headers against object sizes. */
#include <stdint.h>

#include "core/err.h"
#include "s3/range.h"
#include "t.h"

struct rc {
    const char *h;
    uint64_t size;
    int rc;
    uint64_t first, last;
};

#define NONE(h, s) {h, s, RANGE_NONE, 0, 0}
#define BAD(h, s) {h, s, -SE_INVALID_RANGE, 0, 0}
#define OKR(h, s, f, l) {h, s, RANGE_OK, f, l}

static const struct rc cases[] = {
    OKR("bytes=0-0", 10, 0, 0),
    OKR("bytes=0-9", 10, 0, 9),
    OKR("bytes=2-5", 10, 2, 5),
    OKR("bytes=9-9", 10, 9, 9),
    OKR("bytes=5-100", 10, 5, 9), /* clamps */
    OKR("bytes=0-18446744073709551615", 10, 0, 9),
    OKR("bytes=0-99999999999999999999999", 10, 0, 9), /* saturates, clamps */
    OKR("bytes=3-", 10, 3, 9),
    OKR("bytes=0-", 10, 0, 9),
    OKR("bytes=9-", 10, 9, 9),
    OKR("bytes=-1", 10, 9, 9),
    OKR("bytes=-3", 10, 7, 9),
    OKR("bytes=-10", 10, 0, 9),
    OKR("bytes=-11", 10, 0, 9),
    OKR("bytes=-99999999999999999999999", 10, 0, 9),
    OKR("  bytes=1-2  ", 10, 1, 2),
    OKR("Bytes=1-2", 10, 1, 2),
    OKR("BYTES = 1-2", 10, 1, 2),
    OKR("bytes=0-0", 1, 0, 0),
    OKR("bytes=4294967296-4294967300", 5000000000ULL, 4294967296ULL, 4294967300ULL),
    /* unsatisfiable: 416 */
    BAD("bytes=10-", 10),
    BAD("bytes=10-20", 10),
    BAD("bytes=100-200", 10),
    BAD("bytes=-0", 10),
    BAD("bytes=-000", 10),
    BAD("bytes=0-0", 0),
    BAD("bytes=0-", 0),
    BAD("bytes=5-9", 0),
    BAD("bytes=-0", 0),
    BAD("bytes=99999999999999999999999-", 10),
    /* ignored: whole object */
    NONE("", 10),
    {NULL, 10, RANGE_NONE, 0, 0},
    NONE("bytes=", 10),
    NONE("bytes=-", 10),
    NONE("bytes", 10),
    NONE("bytes 1-2", 10),
    NONE("bytes=5-2", 10),     /* last < first */
    NONE("bytes=1-0", 4),
    NONE("bytes=a-b", 10),
    NONE("bytes=1-b", 10),
    NONE("bytes=+1-2", 10),
    NONE("bytes=1--2", 10),
    NONE("bytes=1-2-3", 10),
    NONE("bytes=1 -2", 10),
    NONE("bytes=1- 2", 10),
    NONE("bytes=1-2x", 10),
    NONE("bytes=0x1-2", 10),
    NONE("items=0-1", 10),
    NONE("bytesx=0-1", 10),
    NONE("bytes=0-1,3-4", 10),   /* several ranges */
    NONE("bytes=0-1, 3-4", 10),
    NONE("bytes=0-1,", 10),
    NONE("bytes=,0-1", 10),
    NONE("bytes=-5", 0),         /* suffix of an empty object */
    NONE("bytes=20-30,0-1", 10), /* even if the first one is unsatisfiable */
};

TEST(range_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rc *c = &cases[i];
        uint64_t f = 12345, l = 12345;
        int rc = s3_range_parse(sv_from_cstr(c->h), c->size, &f, &l);
        if (rc != c->rc || (rc == RANGE_OK && (f != c->first || l != c->last))) {
            fprintf(stderr, "case %zu \"%s\" size %llu: rc %d [%llu,%llu], want %d [%llu,%llu]\n",
                    i, c->h ? c->h : "(null)", (unsigned long long)c->size, rc,
                    (unsigned long long)f, (unsigned long long)l, c->rc,
                    (unsigned long long)c->first, (unsigned long long)c->last);
            t_cur_failed = 1;
        }
    }
}

TEST(range_not_nul_terminated)
{
    uint64_t f, l;
    /* "bytes=1-23" cut after "1-2": must not read past the view */
    CHECK_EQ_INT(s3_range_parse((sv_t){"bytes=1-23", 9}, 100, &f, &l), RANGE_OK);
    CHECK_EQ_INT(f, 1);
    CHECK_EQ_INT(l, 2);
    CHECK_EQ_INT(s3_range_parse((sv_t){"bytes=1-2,5-6", 9}, 100, &f, &l), RANGE_OK);
    CHECK_EQ_INT(s3_range_parse((sv_t){"bytes=-", 7}, 100, &f, &l), RANGE_NONE);
}

TEST(range_outputs_untouched_unless_ok)
{
    uint64_t f = 7, l = 8;
    CHECK_EQ_INT(s3_range_parse(SV("bytes=50-"), 10, &f, &l), -SE_INVALID_RANGE);
    CHECK(f == 7 && l == 8);
    CHECK_EQ_INT(s3_range_parse(SV("junk"), 10, &f, &l), RANGE_NONE);
    CHECK(f == 7 && l == 8);
}

TEST(range_inside_object)
{
    /* every successful parse lies inside the object */
    static const char *hs[] = {"bytes=0-", "bytes=-1", "bytes=3-7", "bytes=-4", "bytes=2-", "bytes=0-0"};
    for (uint64_t size = 1; size < 12; size++)
        for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
            uint64_t f, l;
            int rc = s3_range_parse(sv_from_cstr(hs[i]), size, &f, &l);
            if (rc == RANGE_OK)
                CHECK(f <= l && l < size);
        }
}

int main(void)
{
    RUN(range_table);
    RUN(range_not_nul_terminated);
    RUN(range_outputs_untouched_unless_ok);
    RUN(range_inside_object);
    return t_summary("range");
}
