/* policy: parsing (valid and invalid documents, messages), wildcard and ARN matching, policy
 * variables, every condition operator (IfExists, ForAnyValue/ForAllValues, Null, absent keys),
 * the S3 decision combinator, and policy_is_public. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "policy/policy.h"
#include "t.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static policy_t *P(enum policy_kind kind, const char *json)
{
    policy_t *p = NULL;
    char err[512];
    int rc = policy_parse(json, strlen(json), kind, &p, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "unexpected parse failure: %s\n  in: %s\n", err, json);
        return NULL;
    }
    return p;
}

/* Request keys from "k=v1|v2;k2=v" (values separated by '|'). Storage is static per call
 * site, reused: good enough for single-threaded tests. */
#define MAXK 16
#define MAXV 8
struct keyset {
    char buf[2048];
    policy_key_t k[MAXK];
    sv_t v[MAXK][MAXV];
    size_t n;
};

static void keys_parse(struct keyset *ks, const char *spec)
{
    ks->n = 0;
    if (!spec || !*spec)
        return;
    snprintf(ks->buf, sizeof(ks->buf), "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(ks->buf, ";", &save); item && ks->n < MAXK;
         item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            continue;
        *eq = 0;
        policy_key_t *k = &ks->k[ks->n];
        k->key = sv_from_cstr(item);
        k->values = ks->v[ks->n];
        k->nvalues = 0;
        char *vs = eq + 1;
        if (*vs) {
            for (char *v = vs;; ) {
                char *bar = strchr(v, '|');
                if (bar)
                    *bar = 0;
                if (k->nvalues < MAXV)
                    ks->v[ks->n][k->nvalues++] = sv_from_cstr(v);
                if (!bar)
                    break;
                v = bar + 1;
            }
        }
        ks->n++;
    }
}

static const kv_t alice_tags[] = {
    {{"team", 4}, {"blue", 4}},
    {{"Project", 7}, {"apollo", 6}},
};

/* A user alice in account 111122223333 unless changed. */
static policy_ctx_t ctx_user(const char *action, const char *resource)
{
    policy_ctx_t c = {0};
    c.type = PRINCIPAL_USER;
    c.account = SV("111122223333");
    c.arn = SV("arn:aws:iam::111122223333:user/alice");
    c.username = SV("alice");
    c.userid = SV("AIDAEXAMPLEALICE");
    c.principal_tags = alice_tags;
    c.nprincipal_tags = 2;
    c.canonical_id = SV("aaaa1111");
    c.action = sv_from_cstr(action);
    c.resource = sv_from_cstr(resource);
    c.resource_account = SV("111122223333");
    return c;
}

/* ---- parsing ----------------------------------------------------------------------------- */

#define R POLICY_RESOURCE
#define I POLICY_IDENTITY
#define T POLICY_TRUST
#define S POLICY_SESSION

struct pcase {
    enum policy_kind kind;
    const char *json;
    int rc;          /* 0 or the negative error */
    const char *msg; /* substring expected in the message */
};

#define OK(k, j) {k, j, 0, NULL}
#define BADR(j, m) {R, j, -SE_MALFORMED_POLICY, m}
#define BADI(j, m) {I, j, -SE_MALFORMED_POLICY_DOCUMENT, m}

#define ST(body) "{\"Version\":\"2012-10-17\",\"Statement\":[" body "]}"
#define PUB "\"Principal\":\"*\","
#define RES "\"Resource\":\"arn:aws:s3:::b/*\""

static const struct pcase parse_cases[] = {
    /* valid bucket policies */
    OK(R, ST("{\"Sid\":\"PublicRead\",\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "}")),
    OK(R, ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]}")),
    OK(R, ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"444455556666\"},\"Action\":\"s3:*\"," RES "}")),
    OK(R, ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::444455556666:root\",\"arn:aws:iam::444455556666:user/bob\",\"arn:aws:iam::444455556666:role/path/r\",\"arn:aws:sts::444455556666:assumed-role/r/sess\"]},\"Action\":\"s3:Get*\"," RES "}")),
    OK(R, ST("{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\"},\"Action\":\"s3:GetObject\"," RES "}")),
    OK(R, ST("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"logging.s3.amazonaws.com\"},\"Action\":\"s3:PutObject\"," RES "}")),
    OK(R, ST("{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::111122223333:user/admin\"},\"NotAction\":\"s3:Get*\",\"NotResource\":\"arn:aws:s3:::b/public/*\"}")),
    OK(R, "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}}"),
    OK(R, "{\"Version\":\"2008-10-17\",\"Id\":\"x\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:getobject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"),
    OK(R, ST("{\"Effect\":\"Deny\"," PUB "\"Action\":\"s3:PutObject\"," RES ",\"Condition\":{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":[\"AES256\",\"aws:kms\"]},\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}}")),
    OK(R, ST("{\"Effect\":\"Deny\"," PUB "\"Action\":\"s3:*\"," RES ",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":false},\"NumericLessThan\":{\"s3:TlsVersion\":1.2}}}")),
    OK(R, ST("{\"Effect\":\"Deny\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"s3:ExistingObjectTag/Classification\":\"PHI\"}}}")),
    OK(R, ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"ForAllValues:StringLike\":{\"aws:TagKeys\":[\"a*\"]},\"ForAnyValue:StringEqualsIfExists\":{\"s3:prefix\":\"x\"},\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"},\"DateLessThan\":{\"aws:EpochTime\":1893456000},\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::src-*\"},\"BinaryEquals\":{\"s3:x-amz-content-sha256\":\"QmluYXJ5VmFsdWU=\"}}}")),
    OK(R, ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/home/${aws:username}/*\"}")),
    OK(R, ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}")),
    /* valid identity / trust / session policies */
    OK(I, ST("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}")),
    OK(I, ST("{\"Sid\":\"Kms1\",\"Effect\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"iam:Get*\",\"sts:AssumeRole\"],\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/*\"}")),
    OK(I, ST("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":\"${aws:PrincipalTag/team}\",\"ec2:Region\":\"x\"}}}")),
    OK(T, ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":\"sts:AssumeRole\"}")),
    OK(S, ST("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}")),

    /* JSON and document shape */
    BADR("", "first byte must be '{'"),
    BADR("[]", "first byte must be '{'"),
    BADR("{", "valid JSON"),
    BADR("{\"Statement\":[],\"Statement\":[]}", "valid JSON"), /* duplicate key */
    BADR("{\"Version\":\"2012-10-17\"}", "Missing required field Statement"),
    BADR("{\"Version\":\"2012-10-17\",\"Statement\":[]}", "Statement is empty"),
    BADR("{\"Version\":\"2012-10-17\",\"Statement\":\"x\"}", "Statement must be"),
    BADR("{\"Version\":\"2012-10-18\",\"Statement\":[]}", "valid version string"),
    BADR("{\"Version\":20121017,\"Statement\":[]}", "valid version string"),
    BADR("{\"Versio\":\"2012-10-17\",\"Statement\":[]}", "Unknown field in policy: field \"Versio\""),
    BADR(ST("1"), "Statement must be an object: Statement[0]"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Foo\":1}"), "Unknown field in statement: Statement[0] field \"Foo\""),
    /* Effect */
    BADR(ST("{" PUB "\"Action\":\"s3:GetObject\"," RES "}"), "Missing required field Effect: Statement[0]"),
    BADR(ST("{\"Effect\":\"allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "}"), "Invalid effect"),
    BADR(ST("{\"Effect\":true," PUB "\"Action\":\"s3:GetObject\"," RES "}"), "Invalid effect"),
    /* Action */
    BADR(ST("{\"Sid\":\"A\",\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObjekt\"," RES "}"), "Policy has invalid action: Statement[0] (Sid \"A\") Action \"s3:GetObjekt\""),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:Frob*\"," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"GetObject\"," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\":GetObject\"," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:\"," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":[]," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":[\"s3:GetObject\",3]," RES "}"), "Policy has invalid action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB RES "}"), "Missing required field Action"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"NotAction\":\"s3:PutObject\"," RES "}"), "both Action and NotAction"),
    /* Resource */
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"}"), "Missing required field Resource"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"Resource\":\"b/*\"}"), "Policy has invalid resource: Statement[0] Resource \"b/*\""),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:b\"}"), "Policy has invalid resource"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:ec2:::b\"}"), "Policy has invalid resource"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"NotResource\":\"*\"}"), "both Resource and NotResource"),
    /* Principal */
    BADR(ST("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\"," RES "}"), "Missing required field Principal"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":\"bob\",\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal in policy"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"12345\"},\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal in policy: Statement[0] Principal.AWS \"12345\""),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/*\"},\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:group/g\"},\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{\"Foo\":\"x\"},\"Action\":\"s3:GetObject\"," RES "}"), "unknown principal type"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{},\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[]},\"Action\":\"s3:GetObject\"," RES "}"), "Invalid principal"),
    BADR(ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotPrincipal\":\"*\",\"Action\":\"s3:GetObject\"," RES "}"), "both Principal and NotPrincipal"),
    BADI(ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}"), "Has prohibited field Principal"),
    {S, ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}"), -SE_MALFORMED_POLICY_DOCUMENT, "prohibited field Principal"},
    {T, ST("{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}"), -SE_MALFORMED_POLICY_DOCUMENT, "Missing required field Principal"},
    {T, ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}"), -SE_MALFORMED_POLICY_DOCUMENT, "prohibited field Resource"},
    /* Sid */
    BADR(ST("{\"Sid\":\"a\",\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "},{\"Sid\":\"a\",\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "}"), "must be unique: Statement[1] (Sid \"a\")"),
    BADR(ST("{\"Sid\":1,\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "}"), "Invalid Sid"),
    BADI(ST("{\"Sid\":\"has space\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}"), "Invalid Sid"),
    /* Condition */
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEqualz\":{\"aws:username\":\"x\"}}}"), "Invalid Condition type: Statement[0] Condition operator \"StringEqualz\""),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"NullIfExists\":{\"aws:username\":\"true\"}}}"), "Invalid Condition type"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"ForSomeValues:StringEquals\":{\"aws:username\":\"x\"}}}"), "Invalid Condition type"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"aws:usrname\":\"x\"}}}"), "Policy has an invalid condition key: Statement[0] Condition.StringEquals \"aws:usrname\""),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"s3:x-amz-foo\":\"x\"}}}"), "invalid condition key"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"nocolon\":\"x\"}}}"), "invalid condition key"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/\":\"x\"}}}"), "invalid condition key"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"NumericEquals\":{\"s3:max-keys\":\"ten\"}}}"), "Invalid Condition value: Statement[0] Condition.NumericEquals.s3:max-keys \"ten\""),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-13-01T00:00:00Z\"}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0\"}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"BinaryEquals\":{\"s3:x-amz-content-sha256\":\"not base64!\"}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"aws:username\":[]}}}"), "empty list"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"aws:username\":null}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{\"aws:username\":{\"a\":1}}}}"), "Invalid Condition value"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":{\"StringEquals\":{}}}"), "non-empty object"),
    BADR(ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES ",\"Condition\":[]}"), "Invalid Condition"),
};

TEST(test_parse_table)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct pcase *c = &parse_cases[i];
        policy_t *p = (policy_t *)1;
        char err[512] = "unset";
        int rc = policy_parse(c->json, strlen(c->json), c->kind, &p, err, sizeof(err));
        if (rc != c->rc) {
            fprintf(stderr, "case %zu: rc %d, want %d (%s)\n  %s\n", i, rc, c->rc, err, c->json);
            CHECK(rc == c->rc);
        }
        if (rc == 0) {
            CHECK(p != NULL);
            policy_unref(p);
        } else {
            CHECK(p == NULL);
            if (c->msg && !strstr(err, c->msg)) {
                fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, err, c->msg);
                CHECK(0);
            }
        }
    }
}

TEST(test_parse_limits)
{
    /* bucket policy: 20 KB of bytes */
    char *big = malloc(30000);
    int n = snprintf(big, 30000, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                 "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":[");
    while (n < 20600)
        n += snprintf(big + n, 30000 - (size_t)n, "\"arn:aws:s3:::b/%05d\",", n);
    n += snprintf(big + n, 30000 - (size_t)n, "\"arn:aws:s3:::b/x\"]}]}");
    policy_t *p = NULL;
    char err[256];
    CHECK_EQ_INT(policy_parse(big, (size_t)n, POLICY_RESOURCE, &p, err, sizeof(err)),
                 -SE_MALFORMED_POLICY);
    CHECK(strstr(err, "20 KB") != NULL);
    CHECK(p == NULL);
    /* the same document as an identity policy: over 6144 characters */
    CHECK_EQ_INT(policy_parse(big, (size_t)n, POLICY_IDENTITY, &p, err, sizeof(err)),
                 -SE_POLICY_LIMIT_EXCEEDED);
    CHECK(strstr(err, "PolicySize") != NULL);
    free(big);

    /* whitespace does not count against IAM quotas */
    char *ws = malloc(40000);
    const char *doc = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    memset(ws, ' ', 39000);
    memcpy(ws + 39000 - strlen(doc), doc, strlen(doc));
    CHECK_EQ_INT(policy_char_count(ws, 39000), (long long)strlen(doc));
    CHECK_EQ_INT(policy_parse(ws, 39000, POLICY_SESSION, &p, err, sizeof(err)),
                 -SE_POLICY_LIMIT_EXCEEDED); /* raw size way beyond 4x the quota */
    CHECK_EQ_INT(policy_parse(ws + 30000, 9000, POLICY_IDENTITY, &p, err, sizeof(err)), 0);
    policy_unref(p);
    free(ws);

    /* trust and session policies: 2048 characters */
    char *mid = malloc(4000);
    n = snprintf(mid, 4000, "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                            "\"Resource\":[");
    while (n < 2100)
        n += snprintf(mid + n, 4000 - (size_t)n, "\"arn:aws:s3:::b/%d\",", n);
    n += snprintf(mid + n, 4000 - (size_t)n, "\"*\"]}}");
    CHECK_EQ_INT(policy_parse(mid, (size_t)n, POLICY_SESSION, &p, err, sizeof(err)),
                 -SE_POLICY_LIMIT_EXCEEDED);
    CHECK_EQ_INT(policy_parse(mid, (size_t)n, POLICY_IDENTITY, &p, err, sizeof(err)), 0);
    policy_unref(p);
    free(mid);

    /* IAM documents: only tab, LF, CR and U+0020..U+00FF */
    const char *uni = "{\"Statement\":{\"Sid\":\"x\",\"Effect\":\"Allow\",\"Action\":\"s3:*\","
                      "\"Resource\":\"arn:aws:s3:::b/\xe2\x82\xac\"}}";
    CHECK_EQ_INT(policy_parse(uni, strlen(uni), POLICY_IDENTITY, &p, err, sizeof(err)),
                 -SE_MALFORMED_POLICY_DOCUMENT);
    /* ...but a bucket policy may name any UTF-8 key */
    const char *uni_r = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                        "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/\xe2\x82\xac\"}}";
    CHECK_EQ_INT(policy_parse(uni_r, strlen(uni_r), POLICY_RESOURCE, &p, err, sizeof(err)), 0);
    policy_unref(p);
    /* NUL bytes inside and a NULL / empty document */
    CHECK_EQ_INT(policy_parse("{\"a\":\"\0\"}", 9, POLICY_RESOURCE, &p, err, sizeof(err)),
                 -SE_MALFORMED_POLICY);
    CHECK_EQ_INT(policy_parse(NULL, 0, POLICY_RESOURCE, &p, NULL, 0), -SE_MALFORMED_POLICY);
    /* tiny error buffer: truncated, still terminated */
    char tiny[8];
    CHECK_EQ_INT(policy_parse("x", 1, POLICY_RESOURCE, &p, tiny, sizeof(tiny)), -SE_MALFORMED_POLICY);
    CHECK_EQ_INT((long long)strlen(tiny), 7);
}

TEST(test_refcount)
{
    policy_t *p = P(R, ST("{\"Effect\":\"Allow\"," PUB "\"Action\":\"s3:GetObject\"," RES "}"));
    CHECK(p != NULL);
    CHECK_EQ_INT(policy_statement_count(p), 1);
    CHECK_EQ_INT(policy_get_kind(p), POLICY_RESOURCE);
    policy_ref(p);
    policy_unref(p);
    policy_t *arr[1] = {p};
    (void)arr;
    policy_unref(p); /* freed here; ASan would flag a leak or a double free */
    policy_ref(NULL);
    policy_unref(NULL);
    CHECK(policy_s3_action_known(SV("s3:GetObject")));
    CHECK(policy_s3_action_known(SV("S3:getobject")));
    CHECK(policy_s3_action_known(SV("s3:PutBucketPolicy")));
    CHECK(!policy_s3_action_known(SV("s3:GetObjekt")));
    CHECK(!policy_s3_action_known(SV("iam:GetUser")));
}

/* ---- wildcard and resource matching ------------------------------------------------------ */

struct gcase {
    const char *pat, *text;
    bool ci, want;
};

static const struct gcase glob_cases[] = {
    {"*", "", false, true},
    {"*", "anything", false, true},
    {"", "", false, true},
    {"", "a", false, false},
    {"a", "A", false, false},
    {"a", "A", true, true},
    {"?", "", false, false},
    {"?", "x", false, true},
    {"??", "x", false, false},
    {"a*b", "ab", false, true},
    {"a*b", "axxxb", false, true},
    {"a*b", "axxxbc", false, false},
    {"a*b*c", "abbbcbc", false, true},
    {"*.txt", "dir/file.txt", false, true},
    {"*.txt", "dir/file.txt2", false, false},
    {"s3:Get*", "s3:GetObjectTagging", true, true},
    {"s3:get*", "s3:GetObject", true, true},
    {"s3:Get*", "s3:PutObject", true, false},
    {"s3:*Object", "s3:DeleteObject", true, true},
    {"a?c", "abc", false, true},
    {"a?c", "ac", false, false},
    {"***a", "bbba", false, true},
    {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
};

TEST(test_glob)
{
    for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
        const struct gcase *g = &glob_cases[i];
        bool got = policy_glob(sv_from_cstr(g->pat), sv_from_cstr(g->text), g->ci);
        if (got != g->want) {
            fprintf(stderr, "glob case %zu: \"%s\" ~ \"%s\" -> %d\n", i, g->pat, g->text, got);
            CHECK(0);
        }
    }
}

/* Identity policy with one Allow statement on `resource` for s3:GetObject and s3:ListBucket;
 * evaluated for alice with keys. */
struct rcase {
    const char *version; /* "2012-10-17" or "2008-10-17" */
    const char *resource_pattern;
    const char *action;
    const char *resource;
    const char *keys;
    bool want;
};

static const struct rcase res_cases[] = {
    {"2012-10-17", "arn:aws:s3:::b/*", "s3:GetObject", "arn:aws:s3:::b/k", "", true},
    {"2012-10-17", "arn:aws:s3:::b/*", "s3:GetObject", "arn:aws:s3:::b", "", false},
    {"2012-10-17", "arn:aws:s3:::b*", "s3:GetObject", "arn:aws:s3:::b", "", true},
    {"2012-10-17", "arn:aws:s3:::b/*", "s3:GetObject", "arn:aws:s3:::B/k", "", false}, /* case */
    {"2012-10-17", "arn:aws:s3:::b/K", "s3:GetObject", "arn:aws:s3:::b/k", "", false},
    {"2012-10-17", "arn:aws:s3:::b/a:b:c", "s3:GetObject", "arn:aws:s3:::b/a:b:c", "", true},
    {"2012-10-17", "arn:aws:s3:::b/*:c", "s3:GetObject", "arn:aws:s3:::b/a:b:c", "", true},
    {"2012-10-17", "arn:*:s3:::b/k", "s3:GetObject", "arn:aws:s3:::b/k", "", true},
    {"2012-10-17", "arn:aws:s3:*:*:b/k", "s3:GetObject", "arn:aws:s3:::b/k", "", true},
    {"2012-10-17", "arn:aws:s3:::*", "s3:GetObject", "arn:aws:s3:us-east-1:123:b/k", "", false}, /* wildcard does not cross segments */
    {"2012-10-17", "*", "s3:GetObject", "arn:aws:s3:::anything", "", true},
    {"2012-10-17", "arn:aws:s3:::b/?", "s3:GetObject", "arn:aws:s3:::b/x", "", true},
    {"2012-10-17", "arn:aws:s3:::b/?", "s3:GetObject", "arn:aws:s3:::b/xy", "", false},
    /* policy variables */
    {"2012-10-17", "arn:aws:s3:::b/home/${aws:username}/*", "s3:GetObject", "arn:aws:s3:::b/home/alice/f", "", true},
    {"2012-10-17", "arn:aws:s3:::b/home/${aws:username}/*", "s3:GetObject", "arn:aws:s3:::b/home/bob/f", "", false},
    {"2008-10-17", "arn:aws:s3:::b/home/${aws:username}/*", "s3:GetObject", "arn:aws:s3:::b/home/alice/f", "", false},
    {"2008-10-17", "arn:aws:s3:::b/home/${aws:username}/*", "s3:GetObject", "arn:aws:s3:::b/home/${aws:username}/f", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "s3:GetObject", "arn:aws:s3:::b/blue/x", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/TEAM}/*", "s3:GetObject", "arn:aws:s3:::b/blue/x", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/dept}/*", "s3:GetObject", "arn:aws:s3:::b/blue/x", "", false},
    {"2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/dept, 'shared'}/*", "s3:GetObject", "arn:aws:s3:::b/shared/x", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${aws:userid}/*", "s3:GetObject", "arn:aws:s3:::b/AIDAEXAMPLEALICE/x", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${*}", "s3:GetObject", "arn:aws:s3:::b/*", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${*}", "s3:GetObject", "arn:aws:s3:::b/x", "", false}, /* literal star */
    {"2012-10-17", "arn:aws:s3:::b/${?}${$}", "s3:GetObject", "arn:aws:s3:::b/?$", "", true},
    {"2012-10-17", "arn:aws:s3:::b/${?}", "s3:GetObject", "arn:aws:s3:::b/x", "", false},
    {"2012-10-17", "arn:aws:s3:::b/${s3:prefix}*", "s3:GetObject", "arn:aws:s3:::b/pre/x", "s3:prefix=pre/", true},
    {"2012-10-17", "arn:aws:s3:::b/${s3:prefix}", "s3:GetObject", "arn:aws:s3:::b/x", "s3:prefix=*", false}, /* substituted '*' is literal */
    {"2012-10-17", "arn:aws:s3:::b/${s3:prefix}", "s3:GetObject", "arn:aws:s3:::b/x", "s3:prefix=a|b", false}, /* multi-valued */
    {"2012-10-17", "arn:aws:s3:::b/${unterminated", "s3:GetObject", "arn:aws:s3:::b/${unterminated", "", true},
    /* actions are case-insensitive */
    {"2012-10-17", "*", "S3:GETOBJECT", "arn:aws:s3:::b/k", "", true},
    {"2012-10-17", "*", "s3:PutObject", "arn:aws:s3:::b/k", "", false},
};

TEST(test_resource_and_variables)
{
    for (size_t i = 0; i < sizeof(res_cases) / sizeof(res_cases[0]); i++) {
        const struct rcase *c = &res_cases[i];
        char doc[1024];
        snprintf(doc, sizeof(doc),
                 "{\"Version\":\"%s\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                 "[\"s3:getobject\",\"s3:ListBucket\"],\"Resource\":\"%s\"}]}",
                 c->version, c->resource_pattern);
        policy_t *p = P(I, doc);
        CHECK(p != NULL);
        if (!p)
            continue;
        struct keyset ks;
        keys_parse(&ks, c->keys);
        policy_ctx_t ctx = ctx_user(c->action, c->resource);
        ctx.keys = ks.k;
        ctx.nkeys = ks.n;
        bool got = policy_eval(p, &ctx) == POLICY_ALLOW;
        if (got != c->want) {
            fprintf(stderr, "resource case %zu: %s vs %s -> %d\n", i, c->resource_pattern,
                    c->resource, got);
            CHECK(0);
        }
        policy_unref(p);
    }
}

/* ---- condition operators ----------------------------------------------------------------- */

struct ccase {
    const char *cond; /* the Condition object */
    const char *keys; /* request keys */
    bool want;        /* condition holds (statement allows) */
};

static const struct ccase cond_cases[] = {
    /* StringEquals: case-sensitive, values ORed, keys ANDed, absent = false */
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}", "s3:x-amz-acl=private", true},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}", "s3:x-amz-acl=Private", false},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":[\"a\",\"private\"]}}", "s3:x-amz-acl=private", true},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}", "", false},
    {"{\"StringEquals\":{\"S3:X-AMZ-ACL\":\"private\"}}", "s3:x-amz-acl=private", true}, /* key names case-insensitive */
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\",\"s3:prefix\":\"p\"}}", "s3:x-amz-acl=private", false},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\",\"s3:prefix\":\"p\"}}", "s3:x-amz-acl=private;s3:prefix=p", true},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"},\"StringLike\":{\"s3:prefix\":\"p*\"}}", "s3:x-amz-acl=private;s3:prefix=q", false},
    {"{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}", "s3:x-amz-acl=", false}, /* present without values = absent */
    /* StringNotEquals: absent = true */
    {"{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"AES256\"}}", "", true},
    {"{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"AES256\"}}", "s3:x-amz-server-side-encryption=AES256", false},
    {"{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":[\"AES256\",\"aws:kms\"]}}", "s3:x-amz-server-side-encryption=aws:kms", false},
    {"{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":[\"AES256\",\"aws:kms\"]}}", "s3:x-amz-server-side-encryption=none", true},
    /* IgnoreCase */
    {"{\"StringEqualsIgnoreCase\":{\"s3:x-amz-storage-class\":\"standard_ia\"}}", "s3:x-amz-storage-class=STANDARD_IA", true},
    {"{\"StringNotEqualsIgnoreCase\":{\"s3:x-amz-storage-class\":\"standard_ia\"}}", "s3:x-amz-storage-class=STANDARD_IA", false},
    {"{\"StringNotEqualsIgnoreCase\":{\"s3:x-amz-storage-class\":\"standard_ia\"}}", "s3:x-amz-storage-class=GLACIER", true},
    {"{\"StringNotEqualsIgnoreCase\":{\"s3:x-amz-storage-class\":\"x\"}}", "", true},
    /* StringLike / NotLike */
    {"{\"StringLike\":{\"s3:prefix\":[\"home/\",\"home/${aws:username}/*\"]}}", "s3:prefix=home/alice/docs", true},
    {"{\"StringLike\":{\"s3:prefix\":[\"home/\",\"home/${aws:username}/*\"]}}", "s3:prefix=home/bob/docs", false},
    {"{\"StringLike\":{\"s3:prefix\":\"\"}}", "s3:prefix=", false},
    {"{\"StringLike\":{\"aws:UserAgent\":\"*aws-cli*\"}}", "aws:UserAgent=aws-cli/2.15 Python/3", true},
    {"{\"StringNotLike\":{\"aws:Referer\":\"https://example.com/*\"}}", "aws:Referer=https://example.com/page", false},
    {"{\"StringNotLike\":{\"aws:Referer\":\"https://example.com/*\"}}", "aws:Referer=https://evil.com/", true},
    {"{\"StringNotLike\":{\"aws:Referer\":\"https://example.com/*\"}}", "", true},
    {"{\"StringEquals\":{\"aws:username\":\"${aws:username}\"}}", "", true},
    {"{\"StringEquals\":{\"s3:prefix\":\"${aws:nokey}\"}}", "s3:prefix=", false},
    {"{\"StringEquals\":{\"s3:prefix\":\"${aws:nokey}\"}}", "s3:prefix=${aws:nokey}", false},
    {"{\"StringEquals\":{\"s3:prefix\":\"${aws:nokey, 'dflt'}\"}}", "s3:prefix=dflt", true},
    {"{\"StringEquals\":{\"s3:ExistingObjectTag/Classification\":\"PHI\"}}", "s3:ExistingObjectTag/Classification=PHI", true},
    {"{\"StringEquals\":{\"s3:ExistingObjectTag/Classification\":\"PHI\"}}", "s3:ExistingObjectTag/classification=PHI", false}, /* S3 tag keys are case-sensitive */
    {"{\"StringEquals\":{\"aws:RequestTag/Env\":\"prod\"}}", "aws:requesttag/env=prod", true},
    {"{\"StringEquals\":{\"aws:PrincipalTag/team\":\"blue\"}}", "", true}, /* from the principal */
    {"{\"StringEquals\":{\"aws:PrincipalTag/project\":\"apollo\"}}", "", true},
    {"{\"StringEquals\":{\"aws:PrincipalTag/team\":\"red\"}}", "", false},
    {"{\"StringEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::111122223333:user/alice\",\"aws:PrincipalAccount\":\"111122223333\",\"aws:PrincipalType\":\"User\",\"aws:userid\":\"AIDAEXAMPLEALICE\"}}", "", true},
    {"{\"StringEquals\":{\"aws:username\":\"mallory\"}}", "aws:username=mallory", true}, /* keys[] overrides */
    /* Numeric */
    {"{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", true},
    {"{\"NumericLessThanEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=11", false},
    {"{\"NumericLessThan\":{\"s3:max-keys\":10}}", "s3:max-keys=9.5", true},
    {"{\"NumericLessThan\":{\"s3:max-keys\":10}}", "s3:max-keys=10", false},
    {"{\"NumericGreaterThan\":{\"s3:max-keys\":10}}", "s3:max-keys=11", true},
    {"{\"NumericGreaterThanEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=10", true},
    {"{\"NumericEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=10.0", true},
    {"{\"NumericEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=ten", false},
    {"{\"NumericNotEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=11", true},
    {"{\"NumericNotEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=10", false},
    {"{\"NumericNotEquals\":{\"s3:max-keys\":10}}", "", true},
    {"{\"NumericLessThan\":{\"s3:max-keys\":10}}", "", false},
    {"{\"NumericLessThan\":{\"s3:TlsVersion\":1.2}}", "s3:TlsVersion=1.1", true},
    {"{\"NumericLessThan\":{\"s3:TlsVersion\":1.2}}", "s3:TlsVersion=1.3", false},
    /* Date: ISO 8601 and epoch on either side */
    {"{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}", "aws:CurrentTime=2024-06-01T12:00:00Z", true},
    {"{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}", "aws:CurrentTime=2023-12-31T23:59:59Z", false},
    {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2024-01-01\"}}", "aws:CurrentTime=2023-12-31T23:59:59Z", true},
    {"{\"DateEquals\":{\"aws:CurrentTime\":\"2024-01-01T01:00:00+01:00\"}}", "aws:CurrentTime=2024-01-01T00:00:00Z", true},
    {"{\"DateEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00.000Z\"}}", "aws:CurrentTime=20240101T000000Z", true},
    {"{\"DateEquals\":{\"aws:EpochTime\":1704067200}}", "aws:EpochTime=1704067200", true},
    {"{\"DateLessThanEquals\":{\"aws:EpochTime\":\"2024-01-01T00:00:00Z\"}}", "aws:EpochTime=1704067200", true},
    {"{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":1704067200}}", "aws:CurrentTime=2024-01-01T00:00:00Z", true},
    {"{\"DateNotEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}", "aws:CurrentTime=2024-01-02T00:00:00Z", true},
    {"{\"DateNotEquals\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}", "", true},
    {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"}}", "aws:CurrentTime=garbage", false},
    {"{\"DateLessThan\":{\"aws:CurrentTime\":\"2000-02-29T00:00:00Z\"}}", "aws:CurrentTime=1999-12-31T00:00:00Z", true},
    /* Bool */
    {"{\"Bool\":{\"aws:SecureTransport\":\"false\"}}", "aws:SecureTransport=false", true},
    {"{\"Bool\":{\"aws:SecureTransport\":false}}", "aws:SecureTransport=true", false},
    {"{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "aws:SecureTransport=TRUE", true},
    {"{\"Bool\":{\"aws:SecureTransport\":\"false\"}}", "", false},
    {"{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}", "", true},
    {"{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}", "aws:MultiFactorAuthPresent=true", false},
    {"{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "aws:SecureTransport=1", false},
    /* Binary */
    {"{\"BinaryEquals\":{\"s3:x-amz-content-sha256\":\"aGVsbG8=\"}}", "s3:x-amz-content-sha256=hello", true},
    {"{\"BinaryEquals\":{\"s3:x-amz-content-sha256\":\"aGVsbG8=\"}}", "s3:x-amz-content-sha256=hellO", false},
    /* IP */
    {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}", "aws:SourceIp=192.0.2.17", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}", "aws:SourceIp=192.0.3.17", false},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.5\"}}", "aws:SourceIp=192.0.2.5", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.5\"}}", "aws:SourceIp=192.0.2.6", false},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", "aws:SourceIp=8.8.8.8", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}", "aws:SourceIp=2001:db8:1::5", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}", "aws:SourceIp=2001:db9::5", false},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.1.0.0/17\"}}", "aws:SourceIp=10.1.127.255", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.1.0.0/17\"}}", "aws:SourceIp=10.1.128.0", false},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=::ffff:10.2.3.4", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=not-an-ip", false},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "", false},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=11.0.0.1", true},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=10.0.0.1", false},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "", true},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"::/0\"}}", "aws:SourceIp=10.0.0.1", false}, /* families differ */
    /* Arn */
    {"{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::logs\"}}", "aws:SourceArn=arn:aws:s3:::logs", true},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}", "aws:SourceArn=arn:aws:s3:::logs-2024", true},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}", "aws:SourceArn=arn:aws:s3:::other", false},
    {"{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:user/alice\"}}", "", true},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:*\"}}", "aws:SourceArn=arn:aws:s3:::x", false},
    {"{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::x\"}}", "aws:SourceArn=not-an-arn", false},
    {"{\"ArnNotEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::logs\"}}", "aws:SourceArn=arn:aws:s3:::logs", false},
    {"{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs*\"}}", "aws:SourceArn=arn:aws:s3:::data", true},
    {"{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs*\"}}", "", true},
    /* Null */
    {"{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}", "", true},
    {"{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}", "s3:x-amz-server-side-encryption=AES256", false},
    {"{\"Null\":{\"s3:x-amz-server-side-encryption\":false}}", "s3:x-amz-server-side-encryption=AES256", true},
    {"{\"Null\":{\"s3:x-amz-server-side-encryption\":false}}", "", false},
    {"{\"Null\":{\"aws:TagKeys\":\"true\"}}", "aws:TagKeys=", true},
    /* IfExists */
    {"{\"StringEqualsIfExists\":{\"s3:x-amz-storage-class\":\"STANDARD\"}}", "", true},
    {"{\"StringEqualsIfExists\":{\"s3:x-amz-storage-class\":\"STANDARD\"}}", "s3:x-amz-storage-class=GLACIER", false},
    {"{\"StringEqualsIfExists\":{\"s3:x-amz-storage-class\":\"STANDARD\"}}", "s3:x-amz-storage-class=STANDARD", true},
    {"{\"NumericLessThanIfExists\":{\"s3:max-keys\":5}}", "", true},
    {"{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "", true},
    {"{\"StringNotEqualsIfExists\":{\"s3:x-amz-acl\":\"public-read\"}}", "", true},
    {"{\"StringNotEqualsIfExists\":{\"s3:x-amz-acl\":\"public-read\"}}", "s3:x-amz-acl=public-read", false},
    {"{\"ArnLikeIfExists\":{\"aws:SourceArn\":\"arn:aws:s3:::x\"}}", "", true},
    {"{\"DateLessThanIfExists\":{\"aws:CurrentTime\":\"2020-01-01\"}}", "", true},
    /* ForAllValues: every request value must match; vacuous truth on empty/absent */
    {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}", "aws:TagKeys=env|team", true},
    {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}", "aws:TagKeys=env", true},
    {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}", "aws:TagKeys=env|cost", false},
    {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}", "", true},
    {"{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}", "aws:TagKeys=", true},
    {"{\"ForAllValues:StringLike\":{\"s3:RequestObjectTagKeys\":[\"app-*\"]}}", "s3:RequestObjectTagKeys=app-a|app-b", true},
    {"{\"ForAllValues:StringNotEquals\":{\"aws:TagKeys\":[\"secret\"]}}", "aws:TagKeys=a|b", true},
    {"{\"ForAllValues:StringNotEquals\":{\"aws:TagKeys\":[\"secret\"]}}", "aws:TagKeys=a|secret", false},
    /* ForAnyValue: some request value must match; false on absent */
    {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"env\"]}}", "aws:TagKeys=cost|env", true},
    {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"env\"]}}", "aws:TagKeys=cost", false},
    {"{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"env\"]}}", "", false},
    {"{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"env\"]}}", "aws:TagKeys=env|cost", true},
    {"{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"env\"]}}", "aws:TagKeys=env", false},
    {"{\"ForAnyValue:StringNotEquals\":{\"aws:TagKeys\":[\"env\"]}}", "", false},
    {"{\"ForAnyValue:StringEqualsIfExists\":{\"aws:TagKeys\":[\"env\"]}}", "", true},
    {"{\"ForAllValues:StringEqualsIfExists\":{\"aws:TagKeys\":[\"env\"]}}", "aws:TagKeys=x", false},
    /* multi-valued key without a qualifier */
    {"{\"StringEquals\":{\"aws:TagKeys\":\"env\"}}", "aws:TagKeys=cost|env", true},
    {"{\"StringNotEquals\":{\"aws:TagKeys\":\"env\"}}", "aws:TagKeys=cost|env", false},
    /* the lookup callback is consulted after keys[] (see test_lookup_callback) */
};

TEST(test_condition_operators)
{
    for (size_t i = 0; i < sizeof(cond_cases) / sizeof(cond_cases[0]); i++) {
        const struct ccase *c = &cond_cases[i];
        char doc[2048];
        snprintf(doc, sizeof(doc),
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                 "\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":%s}]}",
                 c->cond);
        policy_t *p = P(I, doc);
        if (!p) {
            fprintf(stderr, "cond case %zu did not parse\n", i);
            CHECK(0);
            continue;
        }
        struct keyset ks;
        keys_parse(&ks, c->keys);
        policy_ctx_t ctx = ctx_user("s3:GetObject", "arn:aws:s3:::b/k");
        ctx.keys = ks.k;
        ctx.nkeys = ks.n;
        bool got = policy_eval(p, &ctx) == POLICY_ALLOW;
        if (got != c->want) {
            fprintf(stderr, "cond case %zu: %s with [%s] -> %d, want %d\n", i, c->cond, c->keys,
                    got, c->want);
            CHECK(0);
        }
        /* The same condition in a Deny statement denies exactly when it holds. */
        char *allow = strstr(doc, "\"Allow\"");
        memcpy(allow, "\"Deny\" ", 7);
        policy_t *d = P(I, doc);
        CHECK(d != NULL);
        if (d) {
            enum policy_decision dd = policy_eval(d, &ctx);
            CHECK_EQ_INT(dd, c->want ? POLICY_DENY : POLICY_NO_MATCH);
            policy_unref(d);
        }
        policy_unref(p);
    }
}

static int lookup_cb(void *arg, sv_t key, const sv_t **values, size_t *n)
{
    static const sv_t ip[] = {{"10.9.8.7", 8}};
    int *calls = arg;
    (*calls)++;
    if (sv_caseeq_cstr(key, "aws:SourceIp")) {
        *values = ip;
        *n = 1;
        return 0;
    }
    return -1;
}

TEST(test_lookup_callback)
{
    policy_t *p = P(I, ST("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\","
                          "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}"));
    CHECK(p != NULL);
    int calls = 0;
    policy_ctx_t ctx = ctx_user("s3:GetObject", "arn:aws:s3:::b/k");
    ctx.lookup = lookup_cb;
    ctx.lookup_arg = &calls;
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_ALLOW);
    CHECK(calls > 0);
    /* keys[] wins over the callback */
    sv_t other = SV("192.168.1.1");
    policy_key_t k = {SV("aws:sourceip"), &other, 1};
    ctx.keys = &k;
    ctx.nkeys = 1;
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    policy_unref(p);
}

TEST(test_eval_basics)
{
    policy_t *p = P(I, ST("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},"
                          "{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/keep/*\"}"));
    CHECK(p != NULL);
    policy_ctx_t ctx = ctx_user("s3:DeleteObject", "arn:aws:s3:::b/keep/x");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_DENY);
    ctx.resource = SV("arn:aws:s3:::b/other");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_ALLOW);
    ctx.action = SV("iam:CreateUser");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    CHECK_EQ_INT(policy_eval(NULL, &ctx), POLICY_NO_MATCH);
    CHECK_EQ_STR(policy_decision_name(POLICY_DENY), "DENY");
    CHECK_EQ_STR(policy_decision_name(POLICY_ALLOW), "ALLOW");
    CHECK_EQ_STR(policy_decision_name(POLICY_NO_MATCH), "NO_MATCH");
    policy_unref(p);

    /* NotAction / NotResource */
    p = P(I, ST("{\"Effect\":\"Allow\",\"NotAction\":\"s3:Delete*\",\"NotResource\":\"arn:aws:s3:::secret/*\"}"));
    ctx = ctx_user("s3:GetObject", "arn:aws:s3:::b/k");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_ALLOW);
    ctx.action = SV("s3:DeleteObject");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    ctx.action = SV("s3:GetObject");
    ctx.resource = SV("arn:aws:s3:::secret/x");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    policy_unref(p);

    /* NotResource with a variable that has no value: fail closed for Allow */
    p = P(I, ST("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"NotResource\":\"arn:aws:s3:::b/${aws:PrincipalTag/none}/*\"}"));
    ctx = ctx_user("s3:GetObject", "arn:aws:s3:::b/x/y");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    policy_unref(p);
}

/* ---- the decision combinator ------------------------------------------------------------- */

#define OWNER "111122223333"
#define OTHER "444455556666"

enum who { W_ALICE, W_OWNER_ROOT, W_ANON, W_XUSER, W_XROOT, W_ROLE, W_XROLE, W_SERVICE };

static policy_ctx_t make_ctx(enum who w, const char *action, const char *resource)
{
    policy_ctx_t c = ctx_user(action, resource);
    switch (w) {
    case W_ALICE:
        break;
    case W_OWNER_ROOT:
        c.type = PRINCIPAL_ROOT;
        c.arn = SV("arn:aws:iam::" OWNER ":root");
        c.username = SV_NULL;
        c.userid = SV(OWNER);
        break;
    case W_ANON:
        c = (policy_ctx_t){0};
        c.type = PRINCIPAL_ANONYMOUS;
        c.userid = SV("anonymous");
        c.action = sv_from_cstr(action);
        c.resource = sv_from_cstr(resource);
        c.resource_account = SV(OWNER);
        break;
    case W_XUSER:
        c.account = SV(OTHER);
        c.arn = SV("arn:aws:iam::" OTHER ":user/bob");
        c.username = SV("bob");
        c.userid = SV("AIDABOB");
        c.canonical_id = SV("bbbb2222");
        break;
    case W_XROOT:
        c.type = PRINCIPAL_ROOT;
        c.account = SV(OTHER);
        c.arn = SV("arn:aws:iam::" OTHER ":root");
        c.canonical_id = SV("bbbb2222");
        break;
    case W_ROLE:
        c.type = PRINCIPAL_ASSUMED_ROLE;
        c.arn = SV("arn:aws:sts::" OWNER ":assumed-role/reader/s1");
        c.role_arn = SV("arn:aws:iam::" OWNER ":role/reader");
        c.username = SV_NULL;
        c.userid = SV("AROAREADER:s1");
        break;
    case W_XROLE:
        c.type = PRINCIPAL_ASSUMED_ROLE;
        c.account = SV(OTHER);
        c.arn = SV("arn:aws:sts::" OTHER ":assumed-role/etl/s9");
        c.role_arn = SV("arn:aws:iam::" OTHER ":role/etl");
        c.userid = SV("AROAETL:s9");
        break;
    case W_SERVICE:
        c = (policy_ctx_t){0};
        c.type = PRINCIPAL_SERVICE;
        c.service = SV("logging.s3.amazonaws.com");
        c.action = sv_from_cstr(action);
        c.resource = sv_from_cstr(resource);
        c.resource_account = SV(OWNER);
        break;
    }
    return c;
}

#define ID_GET "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}"
#define ID_ALL "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"
#define ID_DENY_GET "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}"
#define ID_PUT "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}}"
#define BP(principal, effect, action)                                                              \
    "{\"Statement\":{\"Effect\":\"" effect "\",\"Principal\":" principal ",\"Action\":\"" action   \
    "\",\"Resource\":\"arn:aws:s3:::b/*\"}}"

struct dcase {
    const char *name;
    enum who who;
    const char *action;
    const char *identity, *identity2, *boundary, *session, *bucket;
    enum policy_decision want;
};

#define A POLICY_ALLOW
#define D POLICY_DENY
#define N POLICY_NO_MATCH

static const struct dcase decide_cases[] = {
    /* same account */
    {"no policies at all", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, NULL, N},
    {"identity allows", W_ALICE, "s3:GetObject", ID_GET, NULL, NULL, NULL, NULL, A},
    {"identity allows other action", W_ALICE, "s3:GetObject", ID_PUT, NULL, NULL, NULL, NULL, N},
    {"allow in one, deny in another identity policy", W_ALICE, "s3:GetObject", ID_ALL, ID_DENY_GET, NULL, NULL, NULL, D},
    {"bucket policy names the user", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":user/alice\"}", "Allow", "s3:GetObject"), A},
    {"bucket policy names another user", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":user/carol\"}", "Allow", "s3:GetObject"), N},
    {"bucket policy public", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:GetObject"), A},
    {"bucket policy delegates to own account only", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"" OWNER "\"}", "Allow", "s3:GetObject"), N},
    {"account delegation + identity allow", W_ALICE, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"" OWNER "\"}", "Allow", "s3:GetObject"), A},
    {"bucket deny beats identity allow", W_ALICE, "s3:GetObject", ID_ALL, NULL, NULL, NULL, BP("\"*\"", "Deny", "s3:GetObject"), D},
    {"bucket deny on the account", W_ALICE, "s3:GetObject", ID_ALL, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":root\"}", "Deny", "s3:GetObject"), D},
    {"identity deny beats bucket allow", W_ALICE, "s3:GetObject", ID_DENY_GET, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:GetObject"), D},
    {"boundary limits identity", W_ALICE, "s3:GetObject", ID_ALL, NULL, ID_PUT, NULL, NULL, N},
    {"boundary and identity agree", W_ALICE, "s3:PutObject", ID_ALL, NULL, ID_PUT, NULL, NULL, A},
    {"boundary deny", W_ALICE, "s3:GetObject", ID_ALL, NULL, ID_DENY_GET, NULL, NULL, D},
    {"bucket grant to user ignores boundary", W_ALICE, "s3:GetObject", NULL, NULL, ID_PUT, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":user/alice\"}", "Allow", "s3:GetObject"), A},
    /* owner root */
    {"owner root without policies", W_OWNER_ROOT, "s3:GetObject", NULL, NULL, NULL, NULL, NULL, A},
    {"owner root denied by bucket policy", W_OWNER_ROOT, "s3:GetObject", NULL, NULL, NULL, NULL, BP("\"*\"", "Deny", "s3:*"), D},
    {"owner root can always delete the bucket policy", W_OWNER_ROOT, "s3:DeleteBucketPolicy", NULL, NULL, NULL, NULL, "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b\"}}", A},
    {"non-root cannot bypass a deny on the policy", W_ALICE, "s3:DeleteBucketPolicy", ID_ALL, NULL, NULL, NULL, "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b\"}}", D},
    /* roles and sessions */
    {"role identity allows", W_ROLE, "s3:GetObject", ID_GET, NULL, NULL, NULL, NULL, A},
    {"session policy intersects", W_ROLE, "s3:GetObject", ID_ALL, NULL, NULL, ID_PUT, NULL, N},
    {"session policy intersects (allowed)", W_ROLE, "s3:PutObject", ID_ALL, NULL, NULL, ID_PUT, NULL, A},
    {"session policy alone grants nothing", W_ROLE, "s3:PutObject", NULL, NULL, NULL, ID_PUT, NULL, N},
    {"session deny", W_ROLE, "s3:GetObject", ID_ALL, NULL, NULL, ID_DENY_GET, NULL, D},
    {"bucket grants role ARN, session policy limits", W_ROLE, "s3:GetObject", NULL, NULL, NULL, ID_PUT, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":role/reader\"}", "Allow", "s3:GetObject"), N},
    {"bucket grants role ARN, no session policy", W_ROLE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":role/reader\"}", "Allow", "s3:GetObject"), A},
    {"bucket grants session ARN, session policy does not limit", W_ROLE, "s3:GetObject", NULL, NULL, NULL, ID_PUT, BP("{\"AWS\":\"arn:aws:sts::" OWNER ":assumed-role/reader/s1\"}", "Allow", "s3:GetObject"), A},
    {"bucket grants role ARN, boundary limits", W_ROLE, "s3:GetObject", NULL, NULL, ID_PUT, NULL, BP("{\"AWS\":\"arn:aws:iam::" OWNER ":role/reader\"}", "Allow", "s3:GetObject"), N},
    {"bucket grants other session", W_ROLE, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:sts::" OWNER ":assumed-role/reader/s2\"}", "Allow", "s3:GetObject"), N},
    /* cross account */
    {"cross: identity only", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, NULL, N},
    {"cross: bucket only", W_XUSER, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"" OTHER "\"}", "Allow", "s3:GetObject"), N},
    {"cross: both (account principal)", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"" OTHER "\"}", "Allow", "s3:GetObject"), A},
    {"cross: both (root ARN principal)", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OTHER ":root\"}", "Allow", "s3:GetObject"), A},
    {"cross: both (user ARN)", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OTHER ":user/bob\"}", "Allow", "s3:GetObject"), A},
    {"cross: both (canonical user)", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"CanonicalUser\":\"bbbb2222\"}", "Allow", "s3:GetObject"), A},
    {"cross: bucket grants a different account", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"999988887777\"}", "Allow", "s3:GetObject"), N},
    {"cross: public bucket + identity", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:GetObject"), A},
    {"cross: public bucket, no identity", W_XUSER, "s3:GetObject", NULL, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:GetObject"), N},
    {"cross: actions differ", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"" OTHER "\"}", "Allow", "s3:PutObject"), N},
    {"cross: root of other account with bucket grant", W_XROOT, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"" OTHER "\"}", "Allow", "s3:GetObject"), A},
    {"cross: root of other account without grant", W_XROOT, "s3:GetObject", NULL, NULL, NULL, NULL, NULL, N},
    {"cross: role session, both sides", W_XROLE, "s3:GetObject", ID_GET, NULL, NULL, NULL, BP("{\"AWS\":\"arn:aws:iam::" OTHER ":role/etl\"}", "Allow", "s3:GetObject"), A},
    {"cross: role session, session policy limits", W_XROLE, "s3:GetObject", ID_GET, NULL, NULL, ID_PUT, BP("{\"AWS\":\"arn:aws:iam::" OTHER ":role/etl\"}", "Allow", "s3:GetObject"), N},
    {"cross: explicit deny on the bucket", W_XUSER, "s3:GetObject", ID_GET, NULL, NULL, NULL, "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" OTHER "\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"arn:aws:iam::" OTHER ":user/bob\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", D},
    /* anonymous */
    {"anonymous, no bucket policy", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, NULL, N},
    {"anonymous, public read", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:GetObject"), A},
    {"anonymous, AWS:*", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"*\"}", "Allow", "s3:GetObject"), A},
    {"anonymous, account grant", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, BP("{\"AWS\":\"" OWNER "\"}", "Allow", "s3:GetObject"), N},
    {"anonymous, identity policies ignored", W_ANON, "s3:GetObject", ID_ALL, NULL, NULL, NULL, NULL, N},
    {"anonymous, public write not read", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, BP("\"*\"", "Allow", "s3:PutObject"), N},
    {"anonymous, public read + deny", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringNotEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}}]}", D},
    {"anonymous, NotPrincipal deny", W_ANON, "s3:GetObject", NULL, NULL, NULL, NULL, "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::" OWNER ":user/alice\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", D},
    {"alice exempt from NotPrincipal deny", W_ALICE, "s3:GetObject", NULL, NULL, NULL, NULL, "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::" OWNER ":user/alice\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", A},
    /* service principal */
    {"service principal granted", W_SERVICE, "s3:PutObject", NULL, NULL, NULL, NULL, BP("{\"Service\":\"logging.s3.amazonaws.com\"}", "Allow", "s3:PutObject"), A},
    {"service principal not granted", W_SERVICE, "s3:PutObject", NULL, NULL, NULL, NULL, BP("{\"Service\":\"other.amazonaws.com\"}", "Allow", "s3:PutObject"), N},
};

static policy_t *maybe(enum policy_kind k, const char *j)
{
    return j ? P(k, j) : NULL;
}

TEST(test_decide_table)
{
    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
        const struct dcase *c = &decide_cases[i];
        policy_t *id1 = maybe(I, c->identity), *id2 = maybe(I, c->identity2);
        policy_t *b = maybe(I, c->boundary), *s = maybe(S, c->session), *r = maybe(R, c->bucket);
        const policy_t *ids[2];
        size_t nid = 0;
        if (id1)
            ids[nid++] = id1;
        if (id2)
            ids[nid++] = id2;
        const policy_t *sess[1] = {s};
        policy_set_t set = {ids, nid, b, sess, s ? 1 : 0, r};
        policy_ctx_t ctx = make_ctx(c->who, c->action, "arn:aws:s3:::b/obj");
        if (sv_caseeq_cstr(ctx.action, "s3:DeleteBucketPolicy"))
            ctx.resource = SV("arn:aws:s3:::b");
        policy_why_t why = {0};
        enum policy_decision d = policy_decide(&set, &ctx, &why);
        if (d != c->want) {
            fprintf(stderr, "decide \"%s\": %s (%s), want %s\n", c->name, policy_decision_name(d),
                    why.reason ? why.reason : "?", policy_decision_name(c->want));
            CHECK(0);
        }
        CHECK(why.reason != NULL);
        policy_unref(id1);
        policy_unref(id2);
        policy_unref(b);
        policy_unref(s);
        policy_unref(r);
    }
    /* a NULL set is "no policies" */
    policy_ctx_t ctx = make_ctx(W_ALICE, "s3:GetObject", "arn:aws:s3:::b/k");
    CHECK_EQ_INT(policy_decide(NULL, &ctx, NULL), POLICY_NO_MATCH);
}

/* ---- public-ness ------------------------------------------------------------------------- */

struct pubcase {
    const char *json;
    bool want;
};

#define PUBST(principal, cond)                                                                     \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":" principal    \
    ",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"" cond "}]}"

static const struct pubcase pub_cases[] = {
    {PUBST("\"*\"", ""), true},
    {PUBST("{\"AWS\":\"*\"}", ""), true},
    {PUBST("{\"AWS\":\"111122223333\"}", ""), false},
    {PUBST("{\"AWS\":\"arn:aws:iam::111122223333:user/alice\"}", ""), false},
    {PUBST("{\"AWS\":[\"111122223333\",\"*\"]}", ""), true},
    {PUBST("{\"Service\":\"logging.s3.amazonaws.com\"}", ""), false},
    {PUBST("{\"CanonicalUser\":\"abc\"}", ""), false},
    /* fixed-value restrictions make it non-public */
    {PUBST("\"*\"", ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/1\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"2001::/16\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1a2b3c4d\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceVpc\":\"vpc-111\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceAccount\":\"111122223333\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceOwner\":\"111122223333\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::logs\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::logs-*\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"s3:x-amz-server-side-encryption-aws-kms-key-id\":\"arn:aws:kms:us-east-1:111122223333:key/k\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:userid\":\"AROAEXAMPLE:session\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringLike\":{\"aws:userid\":\"AROAEXAMPLE:*\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"s3:DataAccessPointAccount\":\"111122223333\"}}"), false},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-*\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"${aws:username}\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringEqualsIfExists\":{\"aws:SourceVpce\":\"vpce-1\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringNotEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}"), true},
    /* other keys do not restrict */
    {PUBST("\"*\"", ",\"Condition\":{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"StringLike\":{\"aws:Referer\":\"https://example.com/*\"}}"), true},
    {PUBST("\"*\"", ",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"}}"), true},
    /* one restricted key among others is enough */
    {PUBST("\"*\"", ",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"},\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}"), false},
    /* Deny statements never make a policy public */
    {"{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", false},
    /* NotPrincipal in an Allow grants to (almost) everyone */
    {"{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", true},
    /* any public statement makes the policy public */
    {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}", true},
};

TEST(test_is_public)
{
    for (size_t i = 0; i < sizeof(pub_cases) / sizeof(pub_cases[0]); i++) {
        policy_t *p = P(R, pub_cases[i].json);
        CHECK(p != NULL);
        if (!p)
            continue;
        bool got = policy_is_public(p);
        if (got != pub_cases[i].want) {
            fprintf(stderr, "is_public case %zu: %d\n  %s\n", i, got, pub_cases[i].json);
            CHECK(0);
        }
        policy_unref(p);
    }
    CHECK(!policy_is_public(NULL));
}

/* ---- realistic documents end to end ------------------------------------------------------- */

TEST(test_realistic)
{
    /* Deny PutObject without SSE header (AWS's example), then allow an upload with it. */
    policy_t *p = P(R, "{\"Version\":\"2012-10-17\",\"Id\":\"PutObjPolicy\",\"Statement\":[{\"Sid\":"
                       "\"DenyIncorrectEncryptionHeader\",\"Effect\":\"Deny\",\"Principal\":\"*\","
                       "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":"
                       "{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"aws:kms\"}}},"
                       "{\"Sid\":\"DenyUnencryptedObjectUploads\",\"Effect\":\"Deny\",\"Principal\":"
                       "\"*\",\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\","
                       "\"Condition\":{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}}]}");
    CHECK(p != NULL);
    CHECK(!policy_is_public(p));
    policy_ctx_t ctx = ctx_user("s3:PutObject", "arn:aws:s3:::b/k");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_DENY);
    sv_t kms = SV("aws:kms"), aes = SV("AES256");
    policy_key_t k = {SV("s3:x-amz-server-side-encryption"), &kms, 1};
    ctx.keys = &k;
    ctx.nkeys = 1;
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    k.values = &aes;
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_DENY);
    policy_unref(p);

    /* Deny all but one VPC endpoint */
    p = P(R, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Access-to-specific-VPCE-only\","
             "\"Principal\":\"*\",\"Action\":\"s3:*\",\"Effect\":\"Deny\",\"Resource\":["
             "\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"],\"Condition\":{\"StringNotEquals\":"
             "{\"aws:SourceVpce\":\"vpce-1a2b3c4d\"}}}]}");
    CHECK(p != NULL);
    ctx = ctx_user("s3:ListBucket", "arn:aws:s3:::b");
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_DENY); /* absent key: negated operator holds */
    sv_t vpce = SV("vpce-1a2b3c4d");
    k = (policy_key_t){SV("aws:SourceVpce"), &vpce, 1};
    ctx.keys = &k;
    ctx.nkeys = 1;
    CHECK_EQ_INT(policy_eval(p, &ctx), POLICY_NO_MATCH);
    policy_unref(p);
}

int main(void)
{
    RUN(test_parse_table);
    RUN(test_parse_limits);
    RUN(test_refcount);
    RUN(test_glob);
    RUN(test_resource_and_variables);
    RUN(test_condition_operators);
    RUN(test_lookup_callback);
    RUN(test_eval_basics);
    RUN(test_decide_table);
    RUN(test_is_public);
    RUN(test_realistic);
    return t_summary("policy");
}
