/* policy/cond: condition operators — names, value decoding at parse time, evaluation.
 *
 * Semantics (AWS IAM "Condition operators" and "multivalued context keys"):
 *  - keys in one operator block are ANDed, values of one key are ORed; a negated operator
 *    (StringNotEquals, StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress,
 *    ArnNotEquals, ArnNotLike, StringNotEqualsIgnoreCase) is true when the request value
 *    matches none of the policy values;
 *  - absent key: positive operators are false, negated operators true; ...IfExists makes any
 *    operator true; ForAllValues is true (vacuous truth over the empty set); ForAnyValue false;
 *    Null tests presence itself;
 *  - multi-valued keys: ForAnyValue = some request value satisfies the operator, ForAllValues =
 *    every request value does. Without a qualifier a positive operator needs some value to
 *    match, a negated one needs no value to match;
 *  - a request value that does not parse for the operator (a number, a date, an IP) matches
 *    nothing, which can only make positive operators false.
 * Policy variables are expanded in String* and Arn* values. */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static const struct {
    const char *name;
    enum cond_op op;
} ops[] = {
    {"StringEquals", OP_STRING_EQUALS},
    {"StringNotEquals", OP_STRING_NOT_EQUALS},
    {"StringEqualsIgnoreCase", OP_STRING_EQUALS_IC},
    {"StringNotEqualsIgnoreCase", OP_STRING_NOT_EQUALS_IC},
    {"StringLike", OP_STRING_LIKE},
    {"StringNotLike", OP_STRING_NOT_LIKE},
    {"NumericEquals", OP_NUM_EQ},
    {"NumericNotEquals", OP_NUM_NE},
    {"NumericLessThan", OP_NUM_LT},
    {"NumericLessThanEquals", OP_NUM_LE},
    {"NumericGreaterThan", OP_NUM_GT},
    {"NumericGreaterThanEquals", OP_NUM_GE},
    {"DateEquals", OP_DATE_EQ},
    {"DateNotEquals", OP_DATE_NE},
    {"DateLessThan", OP_DATE_LT},
    {"DateLessThanEquals", OP_DATE_LE},
    {"DateGreaterThan", OP_DATE_GT},
    {"DateGreaterThanEquals", OP_DATE_GE},
    {"Bool", OP_BOOL},
    {"BinaryEquals", OP_BINARY_EQUALS},
    {"IpAddress", OP_IP},
    {"NotIpAddress", OP_NOT_IP},
    {"ArnEquals", OP_ARN_EQUALS},
    {"ArnLike", OP_ARN_LIKE},
    {"ArnNotEquals", OP_ARN_NOT_EQUALS},
    {"ArnNotLike", OP_ARN_NOT_LIKE},
    {"Null", OP_NULL},
};

const char *cond_op_name(enum cond_op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "?";
}

/* Operator names are matched exactly as AWS documents them (case-sensitive). */
int cond_parse_op(sv_t name, enum cond_op *op, enum cond_set *set, bool *if_exists)
{
    *set = SET_NONE;
    *if_exists = false;
    if (sv_starts_with(name, SV("ForAnyValue:"))) {
        *set = SET_ANY;
        name.p += 12, name.len -= 12;
    } else if (sv_starts_with(name, SV("ForAllValues:"))) {
        *set = SET_ALL;
        name.p += 13, name.len -= 13;
    }
    if (name.len > 8 && memcmp(name.p + name.len - 8, "IfExists", 8) == 0) {
        *if_exists = true;
        name.len -= 8;
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (sv_eq_cstr(name, ops[i].name)) {
            *op = ops[i].op;
            if (*op == OP_NULL && (*if_exists || *set != SET_NONE))
                return -1; /* "NullIfExists", "ForAnyValue:Null" are not operators */
            return 0;
        }
    }
    return -1;
}

bool cond_is_string_op(enum cond_op op)
{
    return op <= OP_STRING_NOT_LIKE || (op >= OP_ARN_EQUALS && op <= OP_ARN_NOT_LIKE);
}

bool cond_is_negated(enum cond_op op)
{
    switch (op) {
    case OP_STRING_NOT_EQUALS:
    case OP_STRING_NOT_EQUALS_IC:
    case OP_STRING_NOT_LIKE:
    case OP_NUM_NE:
    case OP_DATE_NE:
    case OP_NOT_IP:
    case OP_ARN_NOT_EQUALS:
    case OP_ARN_NOT_LIKE:
        return true;
    default:
        return false;
    }
}

/* ---- value parsers -------------------------------------------------------------------- */

bool parse_number(sv_t s, double *out)
{
    char buf[64];
    size_t i = 0;
    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    if (s.p[i] == '-' || s.p[i] == '+')
        i++;
    size_t digits = 0, dot = 0;
    for (; i < s.len; i++) {
        if (s.p[i] >= '0' && s.p[i] <= '9')
            digits++;
        else if (s.p[i] == '.' && !dot)
            dot++;
        else
            return false;
    }
    if (!digits)
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static bool digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ISO 8601 (YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm|+hhmm], the basic form
 * YYYYMMDDThhmmssZ) or seconds since the epoch. */
bool parse_date(sv_t s, double *out)
{
    if (s.len == 0 || s.len > 64)
        return false;
    /* epoch: digits only (optionally signed, optionally fractional) */
    bool all_num = true;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.' || (i == 0 && s.p[i] == '-')))
            all_num = false;
    if (all_num)
        return parse_number(s, out);
    int Y, M, D, h = 0, mi = 0, se = 0;
    size_t i;
    const char *p = s.p;
    bool basic;
    if (s.len >= 10 && p[4] == '-' && p[7] == '-') {
        if (!digits(p, 4, &Y) || !digits(p + 5, 2, &M) || !digits(p + 8, 2, &D))
            return false;
        i = 10;
        basic = false;
    } else if (s.len >= 8) {
        if (!digits(p, 4, &Y) || !digits(p + 4, 2, &M) || !digits(p + 6, 2, &D))
            return false;
        i = 8;
        basic = true;
    } else {
        return false;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1])
        return false;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
        return false;
    double frac = 0;
    int tz = 0;
    if (i < s.len) {
        if (p[i] != 'T' && p[i] != 't')
            return false;
        i++;
        if (basic) {
            if (i + 4 > s.len || !digits(p + i, 2, &h) || !digits(p + i + 2, 2, &mi))
                return false;
            i += 4;
            if (i + 2 <= s.len && p[i] >= '0' && p[i] <= '9') {
                if (!digits(p + i, 2, &se))
                    return false;
                i += 2;
            }
        } else {
            if (i + 5 > s.len || !digits(p + i, 2, &h) || p[i + 2] != ':' ||
                !digits(p + i + 3, 2, &mi))
                return false;
            i += 5;
            if (i < s.len && p[i] == ':') {
                if (i + 3 > s.len || !digits(p + i + 1, 2, &se))
                    return false;
                i += 3;
            }
        }
        if (i < s.len && (p[i] == '.' || p[i] == ',')) {
            size_t j = i + 1;
            double scale = 0.1;
            while (j < s.len && p[j] >= '0' && p[j] <= '9') {
                frac += (p[j] - '0') * scale;
                scale /= 10;
                j++;
            }
            if (j == i + 1)
                return false;
            i = j;
        }
        if (i < s.len) {
            if (p[i] == 'Z' || p[i] == 'z') {
                i++;
            } else if (p[i] == '+' || p[i] == '-') {
                int sign = p[i] == '-' ? -1 : 1, th, tm = 0;
                i++;
                if (i + 2 > s.len || !digits(p + i, 2, &th))
                    return false;
                i += 2;
                if (i < s.len && p[i] == ':')
                    i++;
                if (i + 2 <= s.len) {
                    if (!digits(p + i, 2, &tm))
                        return false;
                    i += 2;
                }
                if (th > 23 || tm > 59)
                    return false;
                tz = sign * (th * 3600 + tm * 60);
            }
        }
        if (i != s.len || h > 24 || mi > 59 || se > 60 || (h == 24 && (mi || se)))
            return false;
    }
    *out = (double)days_from_civil(Y, M, D) * 86400.0 + h * 3600 + mi * 60 + se + frac - tz;
    return true;
}

bool parse_ip(sv_t s, struct cidr *out, bool allow_prefix)
{
    char buf[64];
    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    char *slash = strchr(buf, '/');
    int prefix = -1;
    if (slash) {
        if (!allow_prefix)
            return false;
        *slash = 0;
        sv_t ps = sv_from_cstr(slash + 1);
        uint64_t v;
        if (ps.len == 0 || ps.len > 3 || sv_to_u64(ps, &v) != 0)
            return false;
        prefix = (int)v;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = 4;
        if (prefix > 32)
            return false;
        out->prefix = prefix < 0 ? 32 : prefix;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = 6;
        if (prefix > 128)
            return false;
        out->prefix = prefix < 0 ? 128 : prefix;
    } else {
        return false;
    }
    return true;
}

static bool cidr_contains(const struct cidr *net, const struct cidr *ip)
{
    struct cidr a = *ip;
    /* an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == 6 && net->family == 4 && memcmp(a.addr, mapped, 12) == 0) {
        memmove(a.addr, a.addr + 12, 4);
        a.family = 4;
    }
    if (a.family != net->family)
        return false;
    int bits = net->prefix;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((a.addr[i] & mask) != (net->addr[i] & mask))
            return false;
    }
    return true;
}

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static bool b64_decode(arena_t *a, sv_t s, sv_t *out)
{
    if (s.len % 4)
        return false;
    char *o = arena_alloc(a, s.len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s.p[i + j];
            if (c == '=' && i + 4 == s.len && j >= 2) {
                v[j] = 0;
                pad++;
            } else {
                if (pad)
                    return false;
                v[j] = b64v(c);
                if (v[j] < 0)
                    return false;
            }
        }
        uint32_t w = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        o[n++] = (char)(w >> 16);
        if (pad < 2)
            o[n++] = (char)(w >> 8);
        if (pad < 1)
            o[n++] = (char)w;
    }
    *out = (sv_t){o, n};
    return true;
}

static bool parse_bool(sv_t s, bool *b)
{
    if (sv_caseeq_cstr(s, "true"))
        *b = true;
    else if (sv_caseeq_cstr(s, "false"))
        *b = false;
    else
        return false;
    return true;
}

bool cond_value_decode(arena_t *a, enum cond_op op, struct cval *v)
{
    switch (op) {
    case OP_NUM_EQ:
    case OP_NUM_NE:
    case OP_NUM_LT:
    case OP_NUM_LE:
    case OP_NUM_GT:
    case OP_NUM_GE:
        return parse_number(v->s, &v->num);
    case OP_DATE_EQ:
    case OP_DATE_NE:
    case OP_DATE_LT:
    case OP_DATE_LE:
    case OP_DATE_GT:
    case OP_DATE_GE:
        return parse_date(v->s, &v->date);
    case OP_BOOL:
    case OP_NULL:
        return parse_bool(v->s, &v->b);
    case OP_BINARY_EQUALS:
        return b64_decode(a, v->s, &v->bin);
    case OP_IP:
    case OP_NOT_IP:
        return parse_ip(v->s, &v->ip, true);
    default:
        return true;
    }
}

/* ---- evaluation ----------------------------------------------------------------------- */

/* Does request value rv match policy value pv under the positive form of op? */
static bool match_value(enum cond_op op, const struct cval *pv, sv_t rv, const policy_ctx_t *ctx,
                        bool vars, struct xpat *x)
{
    double d;
    switch (op) {
    case OP_STRING_EQUALS:
    case OP_STRING_NOT_EQUALS:
    case OP_STRING_EQUALS_IC:
    case OP_STRING_NOT_EQUALS_IC:
    case OP_STRING_LIKE:
    case OP_STRING_NOT_LIKE:
    case OP_ARN_EQUALS:
    case OP_ARN_LIKE:
    case OP_ARN_NOT_EQUALS:
    case OP_ARN_NOT_LIKE:
        if (!xpat_expand(x, pv->s, vars && pv->has_var, ctx))
            return false;
        if (op == OP_STRING_EQUALS || op == OP_STRING_NOT_EQUALS)
            return x->len == rv.len && memcmp(x->p, rv.p, rv.len) == 0;
        if (op == OP_STRING_EQUALS_IC || op == OP_STRING_NOT_EQUALS_IC)
            return sv_caseeq((sv_t){x->p, x->len}, rv);
        if (op == OP_STRING_LIKE || op == OP_STRING_NOT_LIKE)
            return xpat_glob(x, rv, false);
        return xpat_arn(x, rv, true);
    case OP_NUM_EQ:
    case OP_NUM_NE:
        return parse_number(rv, &d) && d == pv->num;
    case OP_NUM_LT:
        return parse_number(rv, &d) && d < pv->num;
    case OP_NUM_LE:
        return parse_number(rv, &d) && d <= pv->num;
    case OP_NUM_GT:
        return parse_number(rv, &d) && d > pv->num;
    case OP_NUM_GE:
        return parse_number(rv, &d) && d >= pv->num;
    case OP_DATE_EQ:
    case OP_DATE_NE:
        return parse_date(rv, &d) && d == pv->date;
    case OP_DATE_LT:
        return parse_date(rv, &d) && d < pv->date;
    case OP_DATE_LE:
        return parse_date(rv, &d) && d <= pv->date;
    case OP_DATE_GT:
        return parse_date(rv, &d) && d > pv->date;
    case OP_DATE_GE:
        return parse_date(rv, &d) && d >= pv->date;
    case OP_BOOL: {
        bool b;
        return parse_bool(rv, &b) && b == pv->b;
    }
    case OP_BINARY_EQUALS:
        return rv.len == pv->bin.len && memcmp(rv.p, pv->bin.p, rv.len) == 0;
    case OP_IP:
    case OP_NOT_IP: {
        struct cidr ip;
        return parse_ip(rv, &ip, false) && cidr_contains(&pv->ip, &ip);
    }
    case OP_NULL:
        return false;
    }
    return false;
}

bool cond_eval(const struct pcond *c, const policy_ctx_t *ctx, bool vars)
{
    const sv_t *rv;
    size_t n;
    sv_t scratch;
    bool present = ctx_key(ctx, c->key, &rv, &n, &scratch);
    if (c->op == OP_NULL) {
        for (size_t i = 0; i < c->nv; i++)
            if (c->v[i].b == !present)
                return true;
        return false;
    }
    bool neg = cond_is_negated(c->op);
    if (!present) {
        if (c->if_exists || c->set == SET_ALL)
            return true;
        if (c->set == SET_ANY)
            return false;
        return neg;
    }
    struct xpat x;
    xpat_init(&x);
    bool result;
    if (c->set == SET_ALL) {
        result = true;
        for (size_t r = 0; r < n && result; r++) {
            bool m = false;
            for (size_t i = 0; i < c->nv && !m; i++)
                m = match_value(c->op, &c->v[i], rv[r], ctx, vars, &x);
            if (m == neg)
                result = false;
        }
    } else if (c->set == SET_ANY) {
        result = false;
        for (size_t r = 0; r < n && !result; r++) {
            bool m = false;
            for (size_t i = 0; i < c->nv && !m; i++)
                m = match_value(c->op, &c->v[i], rv[r], ctx, vars, &x);
            if (m != neg)
                result = true;
        }
    } else {
        bool any = false;
        for (size_t r = 0; r < n && !any; r++)
            for (size_t i = 0; i < c->nv && !any; i++)
                any = match_value(c->op, &c->v[i], rv[r], ctx, vars, &x);
        result = neg ? !any : any;
    }
    xpat_release(&x);
    return result;
}
