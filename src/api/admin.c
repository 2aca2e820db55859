/* api/admin: the admin API, under /_strata/admin/ (a path no bucket can have, since bucket
 * names cannot contain '_'), SigV4-signed by the root account. JSON in and out.
 *   POST /_strata/admin/accounts  {"name", "access_key"?, "secret_key"?, "canonical_id"?,
 *                                  "display_name"?, "email"?}  -> 200 {account and keys}
 */
#include "api/api_int.h"
#include "core/err.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void json_resp(rq_t *q, http_resp_t *resp, int status, json_t *o)
{
    char *txt = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    resp_empty(q, resp, status);
    resp_header(q, resp, "Content-Type", "application/json");
    size_t n = strlen(txt);
    char *body = arena_alloc(q->a, n + 2);
    memcpy(body, txt, n);
    body[n] = '\n';
    body[n + 1] = 0;
    resp->body = body;
    resp->body_len = n + 1;
    free(txt);
}

static void json_error(rq_t *q, http_resp_t *resp, int status, const char *code, const char *msg)
{
    json_resp(q, resp, status, json_pack("{s:s, s:s, s:s}", "code", code, "message", msg,
                                         "request_id", q->reqid));
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void create_account(rq_t *q, http_resp_t *resp)
{
    json_error_t jerr;
    json_t *in = json_loadb(q->body.p ? q->body.p : "", q->body.len, 0, &jerr);
    if (!json_is_object(in)) {
        json_decref(in);
        json_error(q, resp, 400, "MalformedJSON", "the request body must be a JSON object");
        return;
    }
    account_t a;
    access_key_t k;
    int rc = accounts_create(q->api->store, jstr(in, "name"), jstr(in, "access_key"),
                             jstr(in, "secret_key"), jstr(in, "canonical_id"),
                             jstr(in, "display_name"), jstr(in, "email"), &a, &k);
    json_decref(in);
    if (rc == -EEXIST) {
        json_error(q, resp, 409, "EntityAlreadyExists",
                   "an account with that name, canonical id or access key exists");
        return;
    }
    if (rc == -SE_INVALID_ARGUMENT) {
        json_error(q, resp, 400, "InvalidArgument",
                   "name is required; access keys are 3-128 letters or digits, secrets 8-128 "
                   "printable characters, canonical ids lowercase hex");
        return;
    }
    if (rc) {
        json_error(q, resp, 500, "InternalError", strata_strerror(rc));
        return;
    }
    json_resp(q, resp, 200,
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "account_id", a.id, "name", a.name,
                        "canonical_id", a.canonical_id, "display_name", a.display_name, "email",
                        a.email, "access_key", k.access_key, "secret_key", k.secret));
}

void admin_dispatch(rq_t *q, http_resp_t *resp)
{
    http_req_t *hr = q->hr;
    digest_final(&q->md5, (uint8_t[16]){0});
    q->want_md5 = false;
    if (sv_eq_cstr(hr->path, "/_strata/admin/accounts") && sv_eq_cstr(hr->method, "POST")) {
        create_account(q, resp);
        return;
    }
    json_error(q, resp, 404, "NotFound", "no such admin resource");
}
