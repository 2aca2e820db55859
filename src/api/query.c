/* The AWS Query protocol: form parsing, action dispatch, result and error envelopes. Shared by
 * IAM and STS, which differ only in their namespace and action tables. */
#include "api/query.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *code;
    int status;
} qerrs[] = {
#define QE_ROW_(name, code, status) {code, status},
    QUERY_ERRORS(QE_ROW_)
#undef QE_ROW_
};

void query_error(rq_t *q, http_resp_t *resp, int rc, const char *msg)
{
    const char *code;
    int status;
    int e = -rc;
    if (e > QE_BASE && e < QE_LAST) {
        code = qerrs[e - QE_BASE - 1].code;
        status = qerrs[e - QE_BASE - 1].status;
    } else if (rc == -SE_INVALID_ACCESS_KEY || rc == -SE_INVALID_TOKEN) {
        code = "InvalidClientTokenId";
        status = 403;
        msg = "The security token included in the request is invalid.";
    } else if (rc == -SE_EXPIRED_TOKEN) {
        code = "ExpiredToken";
        status = 400;
        msg = "The security token included in the request is expired";
    } else {
        const struct s3err *se = s3err_get(rc);
        code = se->code;
        status = se->status;
        if (!msg)
            msg = se->message;
    }
    if (!msg)
        msg = code;
    log_info("req=%s svc=%s status=%d code=%s", q->reqid, q->svc == SVC_STS ? "sts" : "iam", status,
             code);
    buf_t b = BUF_INIT;
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"");
    buf_puts(&b, q->svc == SVC_STS ? STS_XMLNS : IAM_XMLNS);
    buf_puts(&b, "\"><Error>");
    xml_elem_c(&b, "Type", status >= 500 ? "Receiver" : "Sender");
    xml_elem_c(&b, "Code", code);
    xml_elem_c(&b, "Message", msg);
    buf_puts(&b, "</Error>");
    xml_elem_c(&b, "RequestId", q->reqid);
    buf_puts(&b, "</ErrorResponse>");
    resp_xml(q, resp, status, &b);
    resp->head = false;
}

int qfail(qctx_t *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_t b = BUF_INIT;
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->msg = arena_strndup(c->q->a, b.p ? b.p : "", b.len);
    buf_release(&b);
    return -code;
}

const char *qparam(qctx_t *c, const char *name)
{
    sv_t v = form_get(&c->form, name);
    return v.p ? v.p : NULL; /* form values are NUL-terminated arena copies */
}

const char *qrequire(qctx_t *c, const char *name, int *rc)
{
    const char *v = qparam(c, name);
    if (!v) {
        char lc[64];
        snprintf(lc, sizeof lc, "%s", name);
        lc[0] = (char)(lc[0] >= 'A' && lc[0] <= 'Z' ? lc[0] + 32 : lc[0]);
        *rc = qfail(c, QE_VALIDATION,
                    "1 validation error detected: Value null at '%s' failed to satisfy "
                    "constraint: Member must not be null",
                    lc);
    }
    return v;
}

void qx(qctx_t *c, const char *name, const char *text)
{
    xml_elem_c(&c->out, name, text ? text : "");
}

void qx_date(qctx_t *c, const char *name, int64_t secs)
{
    char t[32];
    fmt_iso8601(secs * 1000, t);
    qx(c, name, t);
}

void qx_doc(qctx_t *c, const char *name, const char *json)
{
    buf_printf(&c->out, "<%s>", name);
    sv_uri_encode(&c->out, sv_from_cstr(json), false);
    buf_printf(&c->out, "</%s>", name);
}

void query_dispatch(rq_t *q, http_resp_t *resp, const char *xmlns, const query_action_t *table,
                    size_t n, query_fn authorize)
{
    int rc;
    if ((rc = rq_verify_deferred(q)) != 0) {
        query_error(q, resp, rc, q->scope_msg);
        return;
    }
    qctx_t c = {.q = q};
    sv_t src = q->body.len ? buf_sv(&q->body) : q->hr->query;
    if (form_parse(q->a, src, &c.form) != 0) {
        query_error(q, resp, -QE_VALIDATION, "The request parameters could not be parsed.");
        return;
    }
    c.action = form_get(&c.form, "Action");
    if (!c.action.p) {
        query_error(q, resp, -QE_MISSING_ACTION, "Missing Action");
        return;
    }
    query_fn fn = NULL;
    for (size_t i = 0; i < n && !fn; i++)
        if (sv_eq_cstr(c.action, table[i].name))
            fn = table[i].fn;
    if (!fn) {
        query_error(q, resp, -QE_INVALID_ACTION,
                    arena_sprintf(q->a, "Could not find operation " SV_FMT " for version "
                                  SV_FMT, SV_ARG(c.action), SV_ARG(form_get(&c.form, "Version"))));
        return;
    }
    rc = authorize ? authorize(&c) : 0;
    if (rc == 0)
        rc = fn(&c);
    if (rc != 0) {
        query_error(q, resp, rc, c.msg);
        buf_release(&c.out);
        return;
    }
    buf_t b = BUF_INIT;
    buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" SV_FMT "Response xmlns=\"%s\">",
               SV_ARG(c.action), xmlns);
    /* Actions without output (DeleteUser, ...) still have an empty Result in AWS's answers;
     * clients accept both, so the element is always present. */
    buf_printf(&b, "<" SV_FMT "Result>", SV_ARG(c.action));
    buf_append(&b, c.out.p ? c.out.p : "", c.out.len);
    buf_printf(&b, "</" SV_FMT "Result>", SV_ARG(c.action));
    buf_puts(&b, "<ResponseMetadata>");
    xml_elem_c(&b, "RequestId", q->reqid);
    buf_printf(&b, "</ResponseMetadata></" SV_FMT "Response>", SV_ARG(c.action));
    buf_release(&c.out);
    resp_xml(q, resp, 200, &b);
    resp->head = false;
}
