/* http/server: the http.h contract over libmicrohttpd (0.9.75, Debian 12).
 *
 * Design notes
 * - One MHD daemon per listener. We create, bind and listen() the socket ourselves (so bind
 *   errors come back as -errno and port 0 can be read back with getsockname) and hand it to MHD
 *   with MHD_OPTION_LISTEN_SOCKET. Each daemon runs internal poll() loops on a thread pool;
 *   every callback for one connection runs on that connection's worker thread.
 * - poll(), not epoll: with MHD 0.9.75's edge-triggered epoll mode and a thread pool, we saw
 *   readiness events lost under load (test_http under 8 parallel ASan runs plus a CPU hog:
 *   batches of 128-multiple connections whose streamed responses were never written, and
 *   client disconnects never noticed, so done() waited for the idle timeout). The same tests
 *   with poll() never stalled. poll() costs O(connections per worker) per wake-up, which is
 *   fine at our connection counts (thousands, not hundreds of thousands).
 * - Per-request state (struct hreq) is created in the URI log callback, which MHD calls right
 *   after parsing the request line with the raw request-target; its return value becomes the
 *   request context. A no-op unescape callback keeps MHD from decoding anything: route.c does
 *   all percent-decoding, exactly once.
 * - The access-handler protocol is mapped as: first call -> begin(); calls with upload data ->
 *   body(); the final call (no upload data) -> end(); MHD_OPTION_NOTIFY_COMPLETED -> done()
 *   (only for requests whose begin() ran, exactly once, also on client abort and shutdown).
 * - Responses are queued from the access handler only. A buffer body is handed to MHD without a
 *   copy (it lives in the request arena or static memory); the arena is freed in the
 *   completion callback, after MHD stops reading it. Streams are wrapped in a small
 *   refcounted object so the stream's close() always runs exactly once and before done(),
 *   whichever of MHD's response destruction and the completion callback comes first.
 * - Early responses. MHD 0.9.75 closes the connection after any response queued on the first
 *   handler call (even a GET without a body) and refuses MHD_queue_response() while it reads a
 *   body. So a response decided at begin() is held until the final call (keep-alive survives;
 *   a small body is read and dropped) unless the client is waiting on "Expect: 100-continue"
 *   or announced a huge body: then it is queued at once and MHD closes. A response decided in
 *   body() is sent after draining the rest (up to HTTP_DRAIN_MAX), else the connection is cut.
 * - Graceful stop: quiesce (stop accepting and close the listening socket), let keep-alive
 *   connections close after their current response, wait for in-flight requests (condvar on a
 *   counter) up to grace_ms, then MHD_stop_daemon, which aborts whatever is left (done() runs).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

#define HTTP_MAX_LISTENERS 16
#define HTTP_STREAM_BLOCK (256 * 1024)
/* A stream of at most this many bytes is read whole when the response is queued and handed to
 * MHD as a buffer: MHD then sends head and body in one write, and does not allocate (and
 * zero) a callback block for it. */
#define HTTP_SMALL_STREAM (16 * 1024)
/* MHD keeps the request line, the header section and its read/write buffers in one pool per
 * connection; the pool must hold our largest accepted head plus room for body reads. */
#define HTTP_CONN_MEMORY (HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 48 * 1024)
#define HTTP_DEFAULT_MAX_CONNS 4096
#define HTTP_DEFAULT_IDLE_S 60
#define HTTP_DEFAULT_END_THREADS 16
#define HTTP_MAX_END_THREADS 256
#define HTTP_LISTEN_BACKLOG 4096
/* After an early response, up to this many body bytes are read and dropped so the client sees
 * the response; beyond it the connection is cut instead. */
#define HTTP_DRAIN_MAX ((uint64_t)64 << 20)

struct listener {
    http_server_t *srv;
    int idx;
    int fd;
    struct MHD_Daemon *d;
    char *tls_cert, *tls_key; /* PEM, for a TLS listener (http_server_listen_tls) */
};

struct http_server {
    http_handler_t h;
    http_opts_t o;
    http_listener_t pub[HTTP_MAX_LISTENERS];
    struct listener l[HTTP_MAX_LISTENERS];
    size_t n;
    bool started;
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long inflight; /* requests between the URI log callback and the completion callback */
    long deferred; /* connections suspended for an end() call and not yet resumed */
    /* end() workers: the final handler call runs here while its connection is suspended */
    pthread_t *ew;
    int new_;
    pthread_mutex_t jmu;
    pthread_cond_t jcv;
    struct hreq *jhead, *jtail;
    bool jstop;
};

/* A streamed response body shared by the request (until done) and MHD (until it destroys the
 * response). */
struct stream_wrap {
    atomic_int refs;
    atomic_bool closed;
    http_read_fn read;
    void (*close)(void *ctx);
    void *ctx;
    uint64_t len;
};

enum hstate { ST_NEW, ST_BODY, ST_DEFERRED, ST_ENDED, ST_DRAIN, ST_RESPONDED };

struct hreq {
    http_req_t req;
    struct listener *l;
    enum hstate state;
    bool begun;        /* begin() ran: done() is owed */
    bool line_too_long;
    uint64_t received; /* body bytes handed to body() */
    uint64_t drained;  /* body bytes dropped after an early response */
    http_resp_t resp;
    struct stream_wrap *sw;
    struct MHD_Connection *conn; /* while deferred */
    struct hreq *jnext;
};

/* ---- small helpers ------------------------------------------------------------------------ */

sv_t http_req_header(const http_req_t *r, const char *name)
{
    /* the name's length once, not per header (a request looks up ~30 names) */
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name.len == n && strncasecmp(r->headers[i].name.p, name, n) == 0)
            return r->headers[i].value;
    return SV_NULL;
}

void http_resp_header(http_req_t *r, http_resp_t *resp, const char *name, const char *value)
{
    if (resp->nheaders == resp->capheaders) {
        size_t cap = resp->capheaders ? resp->capheaders * 2 : 8;
        kv_t *nh = arena_calloc(r->arena, cap, sizeof(kv_t));
        if (resp->nheaders)
            memcpy(nh, resp->headers, resp->nheaders * sizeof(kv_t));
        resp->headers = nh;
        resp->capheaders = cap;
    }
    char *n = arena_strndup(r->arena, name, strlen(name));
    char *v = arena_strndup(r->arena, value, strlen(value));
    resp->headers[resp->nheaders++] = (kv_t){{n, strlen(n)}, {v, strlen(v)}};
}

static void stream_close_once(struct stream_wrap *w)
{
    if (!atomic_exchange(&w->closed, true) && w->close)
        w->close(w->ctx);
}

static void stream_unref(struct stream_wrap *w)
{
    if (atomic_fetch_sub(&w->refs, 1) == 1)
        free(w);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_wrap *w = cls;
    if (atomic_load(&w->closed))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos >= w->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (max > w->len - pos)
        max = (size_t)(w->len - pos);
    ssize_t n = w->read(w->ctx, pos, buf, max);
    if (n > 0 && (size_t)n <= max)
        return n;
    /* 0 before the announced length, an error, or a bogus count: the body cannot be completed;
     * MHD closes the connection so the client sees a short body, never a wrong one. */
    if (n > 0)
        log_error("http: stream read returned %zd > %zu", n, max);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream_wrap *w = cls;
    stream_close_once(w);
    stream_unref(w);
}

/* For HEAD: a response of the right size whose body MHD never reads. */
static ssize_t never_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls, (void)pos, (void)buf, (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static bool method_is(const http_req_t *r, const char *m)
{
    return sv_eq_cstr(r->method, m);
}

/* Hands resp to MHD. Returns MHD_YES/MHD_NO as the access handler should. */
static enum MHD_Result queue_resp(struct hreq *q, struct MHD_Connection *c, http_resp_t *resp)
{
    http_server_t *s = q->l->srv;
    struct MHD_Response *mr = NULL;
    int status = resp->status ? resp->status : 500;
    /* resp->head only matters for HEAD requests: on any other method a body-less response of
     * a non-zero announced size would leave the client waiting for bytes that never come. */
    bool head = method_is(&q->req, "HEAD");
    /* 1xx and 204 carry neither body nor Content-Length. A 304 goes the HEAD way: MHD 0.9.75
     * announces the declared size and sends no body (a size-unknown 304 would get a chunked
     * terminator as a body, which breaks the connection), so a handler can announce the
     * representation's length there as RFC 9110 8.6 allows. */
    bool no_body = status == 204 || (status >= 100 && status < 200);
    bool announce_only = head || status == 304;
    enum MHD_Result ret;
    /* the size a HEAD (or 304) response announces: the stream's, else the buffer's; a handler
     * may also set only body_len (or only stream_len) without any bytes */
    uint64_t head_len = resp->stream_read ? resp->stream_len
                        : (resp->body || resp->body_len) ? resp->body_len
                                                         : resp->stream_len;

    if ((no_body || announce_only) && resp->stream_read) {
        if (resp->stream_close)
            resp->stream_close(resp->stream_ctx);
        resp->stream_read = NULL;
    }
    if (no_body) {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (announce_only) {
        /* MHD 0.9.75 sends the Content-Length of the response's declared size for HEAD and 304
         * and never calls the reader. */
        mr = MHD_create_response_from_callback(head_len, HTTP_STREAM_BLOCK, never_reader, NULL,
                                               NULL);
    } else if (resp->stream_read && resp->stream_len <= HTTP_SMALL_STREAM) {
        /* Read the whole (small) body now; the stream is closed at once. A failed read aborts
         * the connection before anything is sent, as a failed read mid-stream would. */
        size_t len = (size_t)resp->stream_len, got = 0;
        char *b = arena_alloc(q->req.arena, len ? len : 1);
        while (got < len) {
            ssize_t n = resp->stream_read(resp->stream_ctx, got, b + got, len - got);
            if (n <= 0 || (size_t)n > len - got)
                break;
            got += (size_t)n;
        }
        if (resp->stream_close)
            resp->stream_close(resp->stream_ctx);
        resp->stream_read = NULL;
        if (got < len) {
            log_error("http: stream read failed at %zu of %zu bytes; closing", got, len);
            q->state = ST_RESPONDED;
            return MHD_NO;
        }
        mr = MHD_create_response_from_buffer(len, b, MHD_RESPMEM_PERSISTENT);
    } else if (resp->stream_read) {
        struct stream_wrap *w = xcalloc(1, sizeof(*w));
        atomic_init(&w->refs, 2);
        atomic_init(&w->closed, false);
        w->read = resp->stream_read;
        w->close = resp->stream_close;
        w->ctx = resp->stream_ctx;
        w->len = resp->stream_len;
        q->sw = w;
        resp->stream_read = NULL;
        /* MHD allocates and zeroes a block of this size per response, and calls the reader
         * (then send()) once per block: big enough for few calls, never more than needed */
        size_t block = w->len < HTTP_STREAM_BLOCK ? (size_t)w->len : HTTP_STREAM_BLOCK;
        mr = MHD_create_response_from_callback(w->len, block, stream_reader, w, stream_free);
        if (!mr) {
            stream_free(w); /* MHD's reference */
        }
    } else {
        /* a length without bytes (meant for HEAD) must not make MHD read past "" */
        mr = MHD_create_response_from_buffer(resp->body ? resp->body_len : 0,
                                             (void *)(resp->body ? resp->body : ""),
                                             MHD_RESPMEM_PERSISTENT);
    }
    if (!mr) {
        log_error("http: cannot create response");
        return MHD_NO;
    }
    bool close_conn = resp->close || atomic_load(&s->stopping);
    for (size_t i = 0; i < resp->nheaders; i++) {
        sv_t n = resp->headers[i].name;
        /* Framing and Date belong to MHD: it always adds its own Date (a second one would be
         * sent), computes Content-Length, refuses a handler's one, and would switch a sized
         * body to chunked on a handler's Transfer-Encoding. Connection: close is honoured. */
        if (sv_caseeq_cstr(n, "Date") || sv_caseeq_cstr(n, "Content-Length") ||
            sv_caseeq_cstr(n, "Transfer-Encoding") || sv_caseeq_cstr(n, "Keep-Alive"))
            continue;
        if (sv_caseeq_cstr(n, "Connection")) {
            if (sv_caseeq_cstr(sv_trim(resp->headers[i].value), "close"))
                close_conn = true;
            continue;
        }
        /* names/values come from http_resp_header: NUL-terminated arena copies. MHD refuses
         * an empty value; a lone space is the same field value on the wire (leading and
         * trailing whitespace is not part of it), so an empty x-amz-meta-* survives. */
        const char *v = resp->headers[i].value.p;
        if (!v || !v[0])
            v = " ";
        if (MHD_add_response_header(mr, n.p, v) != MHD_YES)
            log_warn("http: header refused by MHD: " SV_FMT, SV_ARG(n));
    }
    if (close_conn)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, (unsigned)status, mr);
    MHD_destroy_response(mr);
    if (ret != MHD_YES)
        log_error("http: MHD_queue_response failed (status %d)", status);
    q->state = ST_RESPONDED;
    return ret;
}

static void simple_resp(struct hreq *q, int status)
{
    memset(&q->resp, 0, sizeof(q->resp));
    q->resp.status = status;
    q->resp.close = true;
}

/* ---- MHD callbacks ------------------------------------------------------------------------ */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct listener *l = cls;
    http_server_t *s = l->srv;
    struct hreq *q = xcalloc(1, sizeof(*q));
    size_t n = strlen(uri);
    (void)c;

    q->l = l;
    q->req.arena = arena_new();
    q->req.listener = &s->pub[l->idx];
    if (n > HTTP_MAX_REQUEST_LINE) {
        q->line_too_long = true;
        n = 0;
    }
    /* MHD cuts and unescapes its copy later: keep our own. */
    char *t = arena_strndup(q->req.arena, uri, n);
    q->req.target = (sv_t){t, n};
    sv_t path;
    bool has_q;
    sv_t rest = sv_split(q->req.target, '?', &path, &has_q);
    q->req.path = path;
    q->req.query = has_q ? rest : (sv_t){t + n, 0};

    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return q;
}

static size_t on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return strlen(s);
}

struct hdr_collect {
    struct hreq *q;
    size_t cap;
    size_t bytes;
};

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct hdr_collect *hc = cls;
    http_req_t *r = &hc->q->req;
    (void)kind;
    hc->bytes += key_size + value_size + 4;
    if (r->nheaders == hc->cap) {
        size_t cap = hc->cap ? hc->cap * 2 : 32;
        kv_t *nh = arena_calloc(r->arena, cap, sizeof(kv_t));
        if (r->nheaders)
            memcpy(nh, r->headers, r->nheaders * sizeof(kv_t));
        r->headers = nh;
        hc->cap = cap;
    }
    char *k = arena_strndup(r->arena, key, key_size);
    char *v = arena_strndup(r->arena, value ? value : "", value ? value_size : 0);
    r->headers[r->nheaders++] = (kv_t){{k, key_size}, {v, value ? value_size : 0}};
    return MHD_YES;
}

/* Dotted quad of a (network-order) IPv4 address into out (>= 16 bytes); inet_ntop formats
 * through sprintf, ~1 % of a small GET's CPU. */
static void ipv4_format(const uint8_t a[4], char *out)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

/* Fills method, headers, peer and body framing. Returns 0, or an HTTP status to answer with. */
static int fill_req(struct hreq *q, struct MHD_Connection *c, const char *method)
{
    http_req_t *r = &q->req;
    struct hdr_collect hc = {q, 0, 0};

    r->method = (sv_t){arena_strndup(r->arena, method, strlen(method)), strlen(method)};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, on_header, &hc);

    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
            ipv4_format((const uint8_t *)&in->sin_addr, r->peer);
            r->peer_port = ntohs(in->sin_port);
        } else if (sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
            inet_ntop(AF_INET6, &in6->sin6_addr, r->peer, sizeof(r->peer));
            r->peer_port = ntohs(in6->sin6_port);
        }
    }

    if (r->listener && r->listener->tls) {
        /* GnuTLS's gnutls_protocol_t: 2 TLS 1.0, 3 TLS 1.1, 4 TLS 1.2, 5 TLS 1.3 (stable ABI
         * values; numbered as s3:TlsVersion wants them, a number). */
        static const char *const names[] = {NULL, NULL, "1.0", "1.1", "1.2", "1.3"};
        const union MHD_ConnectionInfo *pi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_PROTOCOL);
        if (pi && pi->protocol > 0 && pi->protocol < (int)(sizeof names / sizeof names[0]))
            r->tls_version = names[pi->protocol];
    }

    sv_t te = http_req_header(r, "Transfer-Encoding");
    if (te.p) {
        /* MHD only accepts "chunked" as a transfer coding and de-chunks it for us. */
        for (size_t i = 0; i + 7 <= te.len; i++)
            if (sv_caseeq_cstr((sv_t){te.p + i, 7}, "chunked"))
                r->chunked = true;
    }
    sv_t cl = http_req_header(r, "Content-Length");
    if (cl.p && !r->chunked) {
        uint64_t v;
        if (sv_to_u64(sv_trim(cl), &v) != 0)
            return 400; /* MHD rejects these first; belt and braces */
        r->has_length = true;
        r->content_length = v;
    }
    if (q->line_too_long)
        return 414;
    if (hc.bytes > HTTP_MAX_HEADER_BYTES)
        return 431;
    return 0;
}

static bool has_body(const http_req_t *r)
{
    return r->chunked || (r->has_length && r->content_length > 0);
}

/* A response decided before the body was read (at begin(), or a transport limit). MHD 0.9.75
 * closes the connection after any response queued on the first access-handler call, even for
 * a GET without a body, so we queue it now only when closing is the better deal: the client
 * announced a body it has not sent yet (Expect: 100-continue: no 100 is sent then), or a body
 * too large to be worth reading. Otherwise it waits for the final call (the body, if any, is
 * discarded) and the connection stays reusable. */
static enum MHD_Result early_resp(struct hreq *q, struct MHD_Connection *c)
{
    http_req_t *r = &q->req;
    bool expect = http_req_header(r, "Expect").p != NULL;
    if (has_body(r) &&
        (expect || (r->has_length && r->content_length > HTTP_DRAIN_MAX)))
        return queue_resp(q, c, &q->resp);
    q->state = ST_DRAIN;
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct listener *l = cls;
    http_server_t *s = l->srv;
    struct hreq *q = *con_cls;
    int rc;
    (void)version;

    if (!q) { /* not expected: the URI log callback always runs first */
        q = on_uri(l, url, c);
        *con_cls = q;
    }
    switch (q->state) {
    case ST_NEW: {
        int st = fill_req(q, c, method);
        if (st) {
            simple_resp(q, st);
            return early_resp(q, c);
        }
        q->begun = true;
        rc = s->h.begin(s->h.ud, &q->req, &q->resp);
        if (rc == HTTP_RESPOND)
            return early_resp(q, c);
        /* Returning without a response: MHD sends "100 Continue" if the client asked for it. */
        q->state = ST_BODY;
        return MHD_YES;
    }
    case ST_BODY:
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            q->received += n;
            rc = s->h.body ? s->h.body(s->h.ud, &q->req, upload_data, n, &q->resp) : 0;
            if (rc == HTTP_RESPOND) {
                /* MHD 0.9.75 refuses MHD_queue_response() while it is reading the body: read
                 * and drop the rest, then answer at the final call. */
                q->state = ST_DRAIN;
                q->resp.close = true;
                q->drained = 0;
                if (q->req.has_length && q->req.content_length > q->received &&
                    q->req.content_length - q->received > HTTP_DRAIN_MAX) {
                    log_info("http: early response with %llu body bytes left; closing",
                             (unsigned long long)(q->req.content_length - q->received));
                    return MHD_NO;
                }
            }
            return MHD_YES;
        }
        if (s->h.end && s->new_ > 0) {
            /* end() may wait on the disk (a durable commit): run it on an end() worker with
             * the connection suspended, so this thread keeps serving its other connections.
             * The worker resumes the connection; MHD then calls us again (ST_ENDED). */
            q->state = ST_DEFERRED;
            q->conn = c;
            MHD_suspend_connection(c);
            pthread_mutex_lock(&s->mu);
            s->deferred++;
            pthread_mutex_unlock(&s->mu);
            pthread_mutex_lock(&s->jmu);
            q->jnext = NULL;
            if (s->jtail)
                s->jtail->jnext = q;
            else
                s->jhead = q;
            s->jtail = q;
            pthread_cond_signal(&s->jcv);
            pthread_mutex_unlock(&s->jmu);
            return MHD_YES;
        }
        if (s->h.end)
            s->h.end(s->h.ud, &q->req, &q->resp);
        return queue_resp(q, c, &q->resp);
    case ST_DEFERRED: /* not expected: the connection is suspended */
        *upload_data_size = 0;
        return MHD_YES;
    case ST_ENDED:
        *upload_data_size = 0;
        return queue_resp(q, c, &q->resp);
    case ST_DRAIN:
        if (*upload_data_size) {
            q->drained += *upload_data_size;
            *upload_data_size = 0;
            if (q->drained > HTTP_DRAIN_MAX) {
                log_info("http: early response, body too long to drain; closing");
                return MHD_NO;
            }
            return MHD_YES;
        }
        return queue_resp(q, c, &q->resp);
    case ST_RESPONDED:
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct listener *l = cls;
    http_server_t *s = l->srv;
    struct hreq *q = *con_cls;
    (void)c, (void)toe;

    if (!q)
        return;
    *con_cls = NULL;
    if (q->sw) {
        stream_close_once(q->sw);
        stream_unref(q->sw);
    } else if (q->resp.stream_read && q->resp.stream_close) {
        /* a stream the handler set up but that was never queued (connection lost first) */
        q->resp.stream_close(q->resp.stream_ctx);
    }
    if (q->begun && s->h.done)
        s->h.done(s->h.ud, &q->req);
    arena_free(q->req.arena);
    free(q);

    pthread_mutex_lock(&s->mu);
    if (--s->inflight == 0)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    log_debug("mhd: %s", msg);
}

/* An end() worker. The connection is suspended while end() runs, so no MHD callback touches
 * the request meanwhile; MHD_resume_connection hands it back (MHD's mutex and wake-up order
 * our writes before the connection thread's next reads). q may be freed as soon as the
 * connection is resumed. */
static void *end_worker(void *arg)
{
    http_server_t *s = arg;
    pthread_mutex_lock(&s->jmu);
    for (;;) {
        while (!s->jhead && !s->jstop)
            pthread_cond_wait(&s->jcv, &s->jmu);
        if (!s->jhead)
            break;
        struct hreq *q = s->jhead;
        s->jhead = q->jnext;
        if (!s->jhead)
            s->jtail = NULL;
        pthread_mutex_unlock(&s->jmu);

        s->h.end(s->h.ud, &q->req, &q->resp);
        q->state = ST_ENDED;
        MHD_resume_connection(q->conn);
        pthread_mutex_lock(&s->mu);
        if (--s->deferred == 0)
            pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);

        pthread_mutex_lock(&s->jmu);
    }
    pthread_mutex_unlock(&s->jmu);
    return NULL;
}

/* ---- server lifecycle --------------------------------------------------------------------- */

http_server_t *http_server_new(const http_handler_t *h, const http_opts_t *o)
{
    http_server_t *s = xcalloc(1, sizeof(*s));
    s->h = *h;
    if (o)
        s->o = *o;
    if (s->o.threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        s->o.threads = cpus < 2 ? 2 : cpus > 32 ? 32 : (int)cpus;
    }
    if (!s->o.max_conns)
        s->o.max_conns = HTTP_DEFAULT_MAX_CONNS;
    if (!s->o.idle_timeout_s)
        s->o.idle_timeout_s = HTTP_DEFAULT_IDLE_S;
    if (s->o.end_threads == 0)
        s->o.end_threads = HTTP_DEFAULT_END_THREADS;
    if (s->o.end_threads > HTTP_MAX_END_THREADS)
        s->o.end_threads = HTTP_MAX_END_THREADS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->jmu, NULL);
    pthread_cond_init(&s->jcv, NULL);
    atomic_init(&s->stopping, false);
    return s;
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" into NUL-terminated host (may be "") and port. */
static int split_hostport(const char *hp, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *colon;
    size_t hl;
    if (hp[0] == '[') {
        const char *rb = strchr(hp, ']');
        if (!rb || rb[1] != ':')
            return -EINVAL;
        hl = (size_t)(rb - hp - 1);
        if (hl >= hostcap)
            return -EINVAL;
        memcpy(host, hp + 1, hl);
        colon = rb + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon)
            return -EINVAL;
        hl = (size_t)(colon - hp);
        if (hl >= hostcap)
            return -EINVAL;
        memcpy(host, hp, hl);
    }
    host[hl] = 0;
    size_t pl = strlen(colon + 1);
    if (pl == 0 || pl >= portcap)
        return -EINVAL;
    for (size_t i = 0; i < pl; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return -EINVAL;
    memcpy(port, colon + 1, pl + 1);
    if (atol(port) > 65535)
        return -EINVAL;
    return 0;
}

int http_server_listen(http_server_t *s, const char *hostport, const char *label)
{
    char host[64], port[8];
    struct addrinfo hints = {0}, *ai = NULL;
    int rc, fd = -1, one = 1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    if (!hostport || s->started || s->n >= HTTP_MAX_LISTENERS)
        return -EINVAL;
    if ((rc = split_hostport(hostport, host, sizeof(host), port, sizeof(port))) < 0)
        return rc;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out_free_ai;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, HTTP_LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = -errno;
        goto out_close_fd;
    }

    http_listener_t *p = &s->pub[s->n];
    memset(p, 0, sizeof(*p));
    if (getnameinfo((struct sockaddr *)&ss, sl, p->host, sizeof(p->host), NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(p->host, sizeof(p->host), "%s", host);
    p->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    snprintf(p->label, sizeof(p->label), "%s", label ? label : "");
    s->l[s->n] = (struct listener){.srv = s, .idx = (int)s->n, .fd = fd, .d = NULL};
    s->n++;
    freeaddrinfo(ai);
    return 0;

out_close_fd:
    close(fd);
out_free_ai:
    freeaddrinfo(ai);
    return rc;
}

int http_server_listen_tls(http_server_t *s, const char *hostport, const char *label,
                           const char *cert_pem, const char *key_pem)
{
    if (!cert_pem || !key_pem || !*cert_pem || !*key_pem)
        return -EINVAL;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return -ENOTSUP;
    int rc = http_server_listen(s, hostport, label);
    if (rc)
        return rc;
    struct listener *l = &s->l[s->n - 1];
    l->tls_cert = strdup(cert_pem);
    l->tls_key = strdup(key_pem);
    if (!l->tls_cert || !l->tls_key)
        abort();
    s->pub[s->n - 1].tls = true;
    return 0;
}

int http_server_start(http_server_t *s)
{
    /* poll(), not epoll: see the design note */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (s->started || s->n == 0)
        return -EINVAL;
    if (s->o.end_threads > 0) {
        flags |= MHD_ALLOW_SUSPEND_RESUME;
        if (!s->ew) {
            s->ew = xcalloc((size_t)s->o.end_threads, sizeof(pthread_t));
            for (int i = 0; i < s->o.end_threads; i++) {
                if (pthread_create(&s->ew[i], NULL, end_worker, s) != 0)
                    break;
                s->new_++;
            }
            if (s->new_ == 0)
                log_warn("http: no end() worker thread; end() runs on connection threads");
            else if (s->new_ < s->o.end_threads)
                log_warn("http: %d of %d end() worker threads", s->new_, s->o.end_threads);
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        struct listener *l = &s->l[i];
        struct MHD_OptionItem opts[16];
        int k = 0;
#define OPT_(o, v, p) opts[k++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
        OPT_(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
        if (s->o.threads > 1) /* MHD warns about a pool of one */
            OPT_(MHD_OPTION_THREAD_POOL_SIZE, s->o.threads, NULL);
        OPT_(MHD_OPTION_CONNECTION_LIMIT, s->o.max_conns, NULL);
        OPT_(MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0, NULL);
        OPT_(MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_timeout_s, NULL);
        OPT_(MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, NULL);
        OPT_(MHD_OPTION_CONNECTION_MEMORY_INCREMENT, 4096, NULL);
        OPT_(MHD_OPTION_URI_LOG_CALLBACK, on_uri, l);
        OPT_(MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, l);
        OPT_(MHD_OPTION_NOTIFY_COMPLETED, on_completed, l);
        if (l->tls_cert) { /* GnuTLS in Debian's libmicrohttpd */
            OPT_(MHD_OPTION_HTTPS_MEM_CERT, 0, l->tls_cert);
            OPT_(MHD_OPTION_HTTPS_MEM_KEY, 0, l->tls_key);
        }
        OPT_(MHD_OPTION_END, 0, NULL);
#undef OPT_
        /* the logger takes a va_list callback, which MHD_OPTION_ARRAY cannot carry */
        l->d = MHD_start_daemon(flags | (l->tls_cert ? MHD_USE_TLS : 0), 0, NULL, NULL, on_access,
                                l, MHD_OPTION_EXTERNAL_LOGGER,
                                on_mhd_log, l, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (!l->d) {
            log_error("http: cannot start listener %s:%u", s->pub[i].host, s->pub[i].port);
            for (size_t j = 0; j < i; j++) {
                MHD_stop_daemon(s->l[j].d);
                s->l[j].d = NULL;
                s->l[j].fd = -1; /* closed by MHD_stop_daemon */
            }
            return -EIO;
        }
    }
    s->started = true;
    return 0;
}

size_t http_server_listeners(http_server_t *s, const http_listener_t **out)
{
    *out = s->pub;
    return s->n;
}

void http_server_stop(http_server_t *s, int grace_ms)
{
    if (!s->started)
        return;
    atomic_store(&s->stopping, true);
    for (size_t i = 0; i < s->n; i++) {
        MHD_socket fd = MHD_quiesce_daemon(s->l[i].d);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        s->l[i].fd = -1;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += grace_ms / 1000;
    dl.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0 && grace_ms > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    long left = s->inflight;
    /* MHD_stop_daemon must not meet a suspended connection (it panics): let every end() in
     * progress finish and resume its connection first. end() is bounded (a commit). */
    while (s->deferred > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (left)
        log_warn("http: stopping with %ld request(s) still in flight", left);
    for (size_t i = 0; i < s->n; i++) {
        MHD_stop_daemon(s->l[i].d);
        s->l[i].d = NULL;
    }
    s->started = false;
}

void http_server_free(http_server_t *s)
{
    if (!s)
        return;
    if (s->started)
        http_server_stop(s, 0);
    for (size_t i = 0; i < s->n; i++) {
        if (s->l[i].fd >= 0 && !s->l[i].d)
            close(s->l[i].fd);
        free(s->l[i].tls_cert);
        free(s->l[i].tls_key);
    }
    pthread_mutex_lock(&s->jmu);
    s->jstop = true;
    pthread_cond_broadcast(&s->jcv);
    pthread_mutex_unlock(&s->jmu);
    for (int i = 0; i < s->new_; i++)
        pthread_join(s->ew[i], NULL);
    free(s->ew);
    pthread_mutex_destroy(&s->jmu);
    pthread_cond_destroy(&s->jcv);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
