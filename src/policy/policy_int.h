/* policy internals: the compiled form of a document, shared by parse.c, match.c, cond.c and
 * eval.c. Nothing outside src/policy/ includes this. */
#ifndef STRATA_POLICY_POLICY_INT_H
#define STRATA_POLICY_POLICY_INT_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/str.h"
#include "policy/policy.h"

/* Condition operators, without the IfExists suffix and set qualifiers. */
enum cond_op {
    OP_STRING_EQUALS,
    OP_STRING_NOT_EQUALS,
    OP_STRING_EQUALS_IC,
    OP_STRING_NOT_EQUALS_IC,
    OP_STRING_LIKE,
    OP_STRING_NOT_LIKE,
    OP_NUM_EQ,
    OP_NUM_NE,
    OP_NUM_LT,
    OP_NUM_LE,
    OP_NUM_GT,
    OP_NUM_GE,
    OP_DATE_EQ,
    OP_DATE_NE,
    OP_DATE_LT,
    OP_DATE_LE,
    OP_DATE_GT,
    OP_DATE_GE,
    OP_BOOL,
    OP_BINARY_EQUALS,
    OP_IP,
    OP_NOT_IP,
    OP_ARN_EQUALS,
    OP_ARN_LIKE,
    OP_ARN_NOT_EQUALS,
    OP_ARN_NOT_LIKE,
    OP_NULL,
};

enum cond_set { SET_NONE, SET_ANY, SET_ALL };

struct cidr {
    uint8_t addr[16];
    int family; /* 4 or 6 */
    int prefix; /* bits */
};

/* One condition value, pre-decoded for its operator. */
struct cval {
    sv_t s;        /* text as written (numbers and booleans as JSON text) */
    bool has_var;  /* contains ${...} and the policy enables variables */
    double num;    /* Numeric* */
    double date;   /* Date*: seconds since the epoch */
    bool b;        /* Bool, Null */
    struct cidr ip; /* IpAddress */
    sv_t bin;      /* BinaryEquals: decoded bytes */
};

struct pcond {
    enum cond_op op;
    enum cond_set set;
    bool if_exists;
    sv_t opname; /* as written, for messages */
    sv_t key;
    struct cval *v;
    size_t nv;
};

enum prin_type { PR_ANY, PR_AWS, PR_CANONICAL, PR_SERVICE, PR_FEDERATED };

struct prin {
    enum prin_type type;
    sv_t value; /* "*", account id, ARN, canonical id, service, provider */
};

/* A string from Action/Resource with flags decided at parse time. */
struct pat {
    sv_t s;
    bool has_var;
};

struct pstmt {
    int index;
    sv_t sid;
    bool allow;
    bool has_principal; /* Principal or NotPrincipal present */
    bool not_principal;
    struct prin *pr;
    size_t npr;
    bool not_action;
    struct pat *act;
    size_t nact;
    bool has_resource;
    bool not_resource;
    struct pat *res;
    size_t nres;
    struct pcond *cond;
    size_t ncond;
};

struct policy {
    atomic_int refs;
    arena_t *arena; /* owns everything below */
    enum policy_kind kind;
    bool vars;      /* Version 2012-10-17: ${...} substituted */
    struct pstmt *st;
    size_t nst;
};

/* match.c ---------------------------------------------------------------------------------- */

/* A pattern after variable substitution: bytes plus a parallel "literal" mask (1 = the byte
 * came from a variable or ${*}/${?}/${$} and never acts as a wildcard). */
struct xpat {
    char *p;
    unsigned char *lit;
    size_t len, cap;
    char small[256];
    unsigned char small_lit[256];
};

void xpat_init(struct xpat *x);
void xpat_release(struct xpat *x);
/* Expands ${...} in s (if vars) against ctx. Returns false if a variable refers to a key that
 * is absent or multi-valued and has no default: the element then does not match. */
bool xpat_expand(struct xpat *x, sv_t s, bool vars, const policy_ctx_t *ctx);
bool xpat_glob(const struct xpat *x, sv_t text, bool ci);
/* ARN match: six colon-separated parts; the first five matched part by part, the resource
 * part as a whole; wildcards do not cross part boundaries. Pattern "*" matches anything. */
bool xpat_arn(const struct xpat *x, sv_t arn, bool wild);

/* Key lookup, shared by conditions and variables. Returns false when absent (no values). */
bool ctx_key(const policy_ctx_t *ctx, sv_t key, const sv_t **vals, size_t *n, sv_t *scratch);

bool sv_caseeq(sv_t a, sv_t b);
bool sv_istarts(sv_t a, const char *prefix);

/* cond.c ----------------------------------------------------------------------------------- */
int cond_parse_op(sv_t name, enum cond_op *op, enum cond_set *set, bool *if_exists);
const char *cond_op_name(enum cond_op op);
bool cond_is_string_op(enum cond_op op);
bool cond_is_negated(enum cond_op op);
/* Decodes one policy value for op; false if it is not a valid value for the operator. */
bool cond_value_decode(arena_t *a, enum cond_op op, struct cval *v);
bool cond_eval(const struct pcond *c, const policy_ctx_t *ctx, bool vars);
bool parse_ip(sv_t s, struct cidr *out, bool allow_prefix);
bool parse_date(sv_t s, double *out);
bool parse_number(sv_t s, double *out);

/* actions.c -------------------------------------------------------------------------------- */
bool s3_action_pattern_matches_any(sv_t pattern_name);

#endif
