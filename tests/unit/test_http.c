/* http server tests: a toy handler served in-process on 127.0.0.1:0, driven with raw sockets
 * (to see exactly what goes over the wire) and libcurl. No timing assertions: waits are polls
 * with generous deadlines. */
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/http.h"
#include "t.h"

/* ---- the toy handler ---------------------------------------------------------------------- */

static atomic_int n_begin, n_end, n_done, n_stream_close, abort_done, abort_end, slow_begun;
static atomic_int failmid_done, failmid_end, abort_begun, rejstream_begun;

enum kind { K_ECHO, K_STREAM, K_SLOW, K_HEAD, K_HEADSTREAM, K_NOCONTENT, K_REJECT, K_FAILMID,
            K_ABORT, K_CLOSE, K_HDRS, K_NOTMOD, K_REJSTREAM, K_NOTFOUND };

struct app {
    enum kind kind;
    buf_t data;
    bool ended;
};

struct sctx {
    uint64_t n;
    bool slow;
};

static void app_cleanup(void *p)
{
    buf_release(&((struct app *)p)->data);
}

static ssize_t pat_read(void *ctx, uint64_t off, char *b, size_t max)
{
    struct sctx *c = ctx;
    if (c->slow) {
        if (max > 16384)
            max = 16384;
        usleep(20000);
    }
    for (size_t i = 0; i < max; i++)
        b[i] = (char)((off + i) % 251);
    return (ssize_t)max;
}

static void pat_close(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&n_stream_close, 1);
}

static enum kind kind_of(sv_t path)
{
    static const struct { const char *p; enum kind k; } t[] = {
        {"/echo", K_ECHO}, {"/stream", K_STREAM}, {"/slow", K_SLOW}, {"/head", K_HEAD},
        {"/headstream", K_HEADSTREAM}, {"/nocontent", K_NOCONTENT}, {"/reject", K_REJECT},
        {"/failmid", K_FAILMID}, {"/abort", K_ABORT}, {"/close", K_CLOSE},
        {"/notmod", K_NOTMOD}, {"/rejstream", K_REJSTREAM}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (sv_eq_cstr(path, t[i].p))
            return t[i].k;
    if (sv_starts_with(path, SV("/hdrs")))
        return K_HDRS;
    return K_NOTFOUND;
}

static uint64_t query_n(sv_t q)
{
    uint64_t n = 0;
    if (q.len > 2 && q.p[0] == 'n' && q.p[1] == '=')
        sv_to_u64((sv_t){q.p + 2, q.len - 2}, &n);
    return n;
}

static void set_stream(http_req_t *r, http_resp_t *resp, uint64_t n, bool slow)
{
    struct sctx *c = arena_calloc(r->arena, 1, sizeof(*c));
    c->n = n;
    c->slow = slow;
    resp->status = 200;
    resp->stream_read = pat_read;
    resp->stream_close = pat_close;
    resp->stream_ctx = c;
    resp->stream_len = n;
}

static int h_begin(void *ud, http_req_t *r, http_resp_t *resp)
{
    (void)ud;
    struct app *a = arena_calloc(r->arena, 1, sizeof(*a));
    a->kind = kind_of(r->path);
    arena_on_free(r->arena, app_cleanup, a);
    r->app = a;
    atomic_fetch_add(&n_begin, 1);
    if (a->kind == K_ABORT)
        atomic_fetch_add(&abort_begun, 1);
    if (a->kind == K_REJSTREAM)
        atomic_fetch_add(&rejstream_begun, 1);
    switch (a->kind) {
    case K_STREAM:
        set_stream(r, resp, query_n(r->query), false);
        resp->head = sv_eq_cstr(r->method, "HEAD");
        return HTTP_RESPOND;
    case K_SLOW:
        atomic_fetch_add(&slow_begun, 1);
        set_stream(r, resp, 256 * 1024, true);
        return HTTP_RESPOND;
    case K_HEAD:
        resp->status = 200;
        if (sv_eq_cstr(r->method, "HEAD")) {
            resp->head = true;
            resp->body_len = 12345;
        } else {
            char *b = arena_alloc(r->arena, 12345);
            memset(b, 'h', 12345);
            resp->body = b;
            resp->body_len = 12345;
        }
        return HTTP_RESPOND;
    case K_HEADSTREAM:
        set_stream(r, resp, 777, false);
        resp->head = true;
        return HTTP_RESPOND;
    case K_NOCONTENT:
        resp->status = 204;
        return HTTP_RESPOND;
    case K_NOTMOD:
        set_stream(r, resp, 999, false);
        resp->status = 304;
        return HTTP_RESPOND;
    case K_REJSTREAM:
        set_stream(r, resp, 5, false);
        resp->status = 403;
        return HTTP_RESPOND;
    case K_REJECT:
        resp->status = 403;
        resp->body = "no";
        resp->body_len = 2;
        return HTTP_RESPOND;
    case K_CLOSE:
        resp->status = 200;
        resp->body = "bye";
        resp->body_len = 3;
        /* managed by the server: dropped, or mapped to resp->close */
        http_resp_header(r, resp, "Date", "Mon, 01 Jan 2001 00:00:00 GMT");
        http_resp_header(r, resp, "Content-Length", "77");
        http_resp_header(r, resp, "Connection", "close");
        http_resp_header(r, resp, "X-Kept", "yes");
        return HTTP_RESPOND;
    case K_HDRS: {
        buf_t b = BUF_INIT;
        buf_printf(&b, "target=" SV_FMT "\npath=" SV_FMT "\nquery=" SV_FMT "\nlabel=%s\n",
                   SV_ARG(r->target), SV_ARG(r->path), SV_ARG(r->query), r->listener->label);
        for (size_t i = 0; i < r->nheaders; i++)
            buf_printf(&b, SV_FMT ": " SV_FMT "\n", SV_ARG(r->headers[i].name),
                       SV_ARG(r->headers[i].value));
        resp->body = arena_strndup(r->arena, b.p, b.len);
        resp->body_len = b.len;
        buf_release(&b);
        resp->status = 200;
        return HTTP_RESPOND;
    }
    case K_NOTFOUND:
        resp->status = 404;
        return HTTP_RESPOND;
    default:
        return HTTP_WANT_BODY;
    }
}

static int h_body(void *ud, http_req_t *r, const char *p, size_t n, http_resp_t *resp)
{
    (void)ud;
    struct app *a = r->app;
    if (a->kind == K_FAILMID) {
        resp->status = 400;
        resp->body = "bad";
        resp->body_len = 3;
        return HTTP_RESPOND;
    }
    if (a->data.len + n <= 8u << 20)
        buf_append(&a->data, p, n);
    return 0;
}

static void h_end(void *ud, http_req_t *r, http_resp_t *resp)
{
    (void)ud;
    struct app *a = r->app;
    char tmp[32];
    a->ended = true;
    atomic_fetch_add(&n_end, 1);
    resp->status = 200;
    resp->body = a->data.p;
    resp->body_len = a->data.len;
    snprintf(tmp, sizeof(tmp), "%u", r->peer_port);
    http_resp_header(r, resp, "X-Peer-Port", tmp);
    http_resp_header(r, resp, "X-Peer", r->peer);
    http_resp_header(r, resp, "X-Chunked", r->chunked ? "1" : "0");
    snprintf(tmp, sizeof(tmp), "%d", r->has_length ? (int)r->content_length : -1);
    http_resp_header(r, resp, "X-Length", tmp);
}

static void h_done(void *ud, http_req_t *r)
{
    (void)ud;
    struct app *a = r->app;
    if (a && a->kind == K_ABORT) {
        atomic_fetch_add(&abort_done, 1);
        if (a->ended)
            atomic_fetch_add(&abort_end, 1);
    }
    if (a && a->kind == K_FAILMID) {
        atomic_fetch_add(&failmid_done, 1);
        if (a->ended)
            atomic_fetch_add(&failmid_end, 1);
    }
    atomic_fetch_add(&n_done, 1);
}

static const http_handler_t handler = {h_begin, h_body, h_end, h_done, NULL};

/* ---- client helpers ----------------------------------------------------------------------- */

static http_server_t *srv;
static uint16_t port, port2;

static int tcp_connect(uint16_t p)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    struct timeval tv = {20, 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A connection from a given loopback source address (any 127.x.y.z is local on Linux). */
static int tcp_connect_from(uint16_t p, uint32_t src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    struct timeval tv = {20, 0};
    b.sin_addr.s_addr = htonl(src);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_str(int fd, const char *s)
{
    return send_all(fd, s, strlen(s));
}

struct hresp {
    int status;
    char head[8192];
    long clen; /* -1 none */
    bool close;
    buf_t body;
};

/* Reads one response head; then the body by Content-Length unless no_body. 0 or -1. */
static int read_resp(int fd, struct hresp *r, bool no_body)
{
    size_t hl = 0;
    memset(r->head, 0, sizeof(r->head));
    r->status = 0;
    r->clen = -1;
    r->close = false;
    buf_release(&r->body);
    /* byte at a time so nothing beyond the head is consumed */
    while (hl < sizeof(r->head) - 1) {
        ssize_t n = recv(fd, r->head + hl, 1, 0);
        if (n <= 0)
            return -1;
        hl++;
        if (hl >= 4 && memcmp(r->head + hl - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    for (char *l = strstr(r->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "content-length:", 15) == 0)
            r->clen = atol(l + 17);
        if (strncasecmp(l + 2, "connection: close", 17) == 0)
            r->close = true;
    }
    if (no_body || r->clen <= 0)
        return 0;
    buf_reserve(&r->body, (size_t)r->clen);
    while ((long)r->body.len < r->clen) {
        char tmp[65536];
        size_t want = (size_t)r->clen - r->body.len;
        ssize_t n = recv(fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp), 0);
        if (n <= 0)
            return -1;
        buf_append(&r->body, tmp, (size_t)n);
    }
    return 0;
}

static const char *hdr(struct hresp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (char *l = strstr(r->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            size_t i = 0;
            while (v[i] && v[i] != '\r' && i + 1 < cap) {
                out[i] = v[i];
                i++;
            }
            out[i] = 0;
            return out;
        }
    }
    return NULL;
}

/* true when the peer has closed (EOF) within the deadline */
static bool wait_eof(int fd)
{
    char c[4096];
    for (;;) {
        ssize_t n = recv(fd, c, sizeof(c), 0);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static bool poll_until(atomic_int *v, int want)
{
    for (int i = 0; i < 2000; i++) {
        if (atomic_load(v) >= want)
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- tests -------------------------------------------------------------------------------- */

TEST(listeners)
{
    const http_listener_t *ls;
    size_t n = http_server_listeners(srv, &ls);
    CHECK_EQ_INT(n, 2);
    CHECK(ls[0].port != 0);
    CHECK(ls[1].port != 0);
    CHECK(ls[0].port != ls[1].port);
    CHECK_EQ_STR(ls[0].host, "127.0.0.1");
    CHECK_EQ_STR(ls[1].label, "vpce-1");
    /* bad addresses */
    http_server_t *s2 = http_server_new(&handler, NULL);
    CHECK(http_server_listen(s2, "127.0.0.1", NULL) < 0);
    CHECK(http_server_listen(s2, "127.0.0.1:99999", NULL) < 0);
    CHECK(http_server_listen(s2, "127.0.0.1:x", NULL) < 0);
    char hp[32];
    snprintf(hp, sizeof(hp), "127.0.0.1:%u", ls[0].port);
    CHECK_EQ_INT(http_server_listen(s2, hp, NULL), -EADDRINUSE);
    http_server_free(s2);
}

TEST(raw_target_and_headers)
{
    int fd = tcp_connect(port2);
    struct hresp r = {0};
    CHECK(fd >= 0);
    send_str(fd, "GET /hdrs/a%20b/c+d%2Fe?x=%2F&y&z=a+b HTTP/1.1\r\nHost: h.example\r\n"
                 "X-B: 2\r\nX-A: 1\r\nX-B: 3\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.p && strstr(r.body.p, "target=/hdrs/a%20b/c+d%2Fe?x=%2F&y&z=a+b\n"));
    CHECK(r.body.p && strstr(r.body.p, "path=/hdrs/a%20b/c+d%2Fe\n"));
    CHECK(r.body.p && strstr(r.body.p, "query=x=%2F&y&z=a+b\n"));
    CHECK(r.body.p && strstr(r.body.p, "label=vpce-1\n"));
    CHECK(r.body.p && strstr(r.body.p, "X-B: 2\nX-A: 1\nX-B: 3\n"));
    /* no query at all */
    send_str(fd, "GET /hdrs HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK(r.body.p && strstr(r.body.p, "target=/hdrs\npath=/hdrs\nquery=\n"));
    close(fd);
    buf_release(&r.body);
}

TEST(peer_address)
{
    /* the peer's dotted quad (formatted by hand in fill_req): 1-, 2- and 3-digit parts */
    static const struct {
        uint32_t a;
        const char *s;
    } t[] = {{0x7f0a6405, "127.10.100.5"},
             {0x7fff00c8, "127.255.0.200"},
             {0x7f090063, "127.9.0.99"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int fd = tcp_connect_from(port, t[i].a);
        struct hresp r = {0};
        char peer[32];
        CHECK(fd >= 0);
        if (fd < 0)
            continue;
        send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na");
        CHECK_EQ_INT(read_resp(fd, &r, false), 0);
        CHECK_EQ_STR(hdr(&r, "X-Peer", peer, sizeof(peer)), t[i].s);
        buf_release(&r.body);
        close(fd);
    }
}

TEST(keepalive_raw)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    char p1[32], p2[32];
    CHECK(fd >= 0);
    send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.len == 3 && memcmp(r.body.p, "abc", 3) == 0);
    CHECK(hdr(&r, "X-Peer-Port", p1, sizeof(p1)) != NULL);
    CHECK_EQ_STR(hdr(&r, "X-Peer", p2, sizeof(p2)), "127.0.0.1");
    CHECK(!r.close);
    /* second request on the same connection, then a pipelined pair */
    send_str(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                 "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nzz");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body.len, 0);
    CHECK(hdr(&r, "X-Peer-Port", p2, sizeof(p2)) != NULL);
    CHECK_EQ_STR(p1, p2);
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK(r.body.len == 2 && memcmp(r.body.p, "zz", 2) == 0);
    /* close requested by the handler */
    send_str(fd, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK(r.close);
    CHECK_EQ_INT(r.clen, 3);
    CHECK(r.body.len == 3 && memcmp(r.body.p, "bye", 3) == 0);
    CHECK(strstr(r.head, "2001") == NULL);
    CHECK(strstr(r.head, "Date: ") != NULL);
    CHECK(strstr(r.head, "X-Kept: yes") != NULL);
    CHECK(wait_eof(fd));
    close(fd);
    buf_release(&r.body);
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    buf_append(ud, p, sz * n);
    return sz * n;
}

TEST(keepalive_curl)
{
    CURL *c = curl_easy_init();
    char url[128];
    buf_t b = BUF_INIT;
    long nconn = -1, code = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream?n=1000", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CHECK_EQ_INT(curl_easy_perform(c), CURLE_OK);
    CHECK_EQ_INT(b.len, 1000);
    buf_clear(&b);
    CHECK_EQ_INT(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    CHECK_EQ_INT(code, 200);
    CHECK_EQ_INT(nconn, 0); /* reused */
    CHECK_EQ_INT(b.len, 1000);
    curl_easy_cleanup(c);
    buf_release(&b);
}

TEST(expect_continue)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    CHECK(fd >= 0);
    send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.status, 100);
    send_str(fd, "hello");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.len == 5 && memcmp(r.body.p, "hello", 5) == 0);
    close(fd);

    /* the handler answers at begin(): no 100, the final status straight away */
    fd = tcp_connect(port);
    send_str(fd, "PUT /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK(r.body.len == 2 && memcmp(r.body.p, "no", 2) == 0);
    close(fd);
    buf_release(&r.body);
}

TEST(chunked_upload)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    char v[16];
    CHECK(fd >= 0);
    send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    send_str(fd, "3\r\nabc\r\n");
    usleep(10000);
    send_str(fd, "5;ext=1\r\ndefgh\r\n");
    send_str(fd, "0\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.len == 8 && memcmp(r.body.p, "abcdefgh", 8) == 0);
    CHECK_EQ_STR(hdr(&r, "X-Chunked", v, sizeof(v)), "1");
    CHECK_EQ_STR(hdr(&r, "X-Length", v, sizeof(v)), "-1");
    /* and the connection is still usable */
    send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nq");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK(r.body.len == 1 && r.body.p[0] == 'q');
    CHECK_EQ_STR(hdr(&r, "X-Chunked", v, sizeof(v)), "0");
    CHECK_EQ_STR(hdr(&r, "X-Length", v, sizeof(v)), "1");
    close(fd);
    buf_release(&r.body);
}

struct upsrc {
    size_t off, len;
};

static size_t up_read(char *p, size_t sz, size_t n, void *ud)
{
    struct upsrc *u = ud;
    size_t m = sz * n;
    if (m > 7000)
        m = 7000; /* odd chunk sizes */
    if (m > u->len - u->off)
        m = u->len - u->off;
    for (size_t i = 0; i < m; i++)
        p[i] = (char)((u->off + i) % 253);
    u->off += m;
    return m;
}

TEST(chunked_upload_curl)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    struct upsrc u = {0, 3 * 1024 * 1024 + 17};
    char url[128];
    buf_t b = BUF_INIT;
    long code = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, up_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CHECK_EQ_INT(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    CHECK_EQ_INT(code, 200);
    CHECK_EQ_INT(b.len, u.len);
    bool same = b.len == u.len;
    for (size_t i = 0; same && i < b.len; i++)
        same = b.p[i] == (char)(i % 253);
    CHECK(same);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_release(&b);
}

TEST(streamed_response)
{
    CURL *c = curl_easy_init();
    char url[128];
    buf_t b = BUF_INIT;
    int closes = atomic_load(&n_stream_close);
    curl_off_t cl = -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream?n=3000001", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CHECK_EQ_INT(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    CHECK_EQ_INT(cl, 3000001);
    CHECK_EQ_INT(b.len, 3000001);
    bool same = true;
    for (size_t i = 0; same && i < b.len; i++)
        same = b.p[i] == (char)(i % 251);
    CHECK(same);
    CHECK(poll_until(&n_stream_close, closes + 1));
    /* an empty stream */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream?n=0", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    buf_clear(&b);
    CHECK_EQ_INT(curl_easy_perform(c), CURLE_OK);
    CHECK_EQ_INT(b.len, 0);
    curl_easy_cleanup(c);
    buf_release(&b);
}

TEST(head_and_nocontent)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    int closes = atomic_load(&n_stream_close);
    CHECK(fd >= 0);
    send_str(fd, "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.clen, 12345);
    send_str(fd, "HEAD /headstream HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.clen, 777);
    /* a handler that did not set head: the method alone suppresses the body */
    send_str(fd, "HEAD /stream?n=4321 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.clen, 4321);
    send_str(fd, "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.status, 204);
    CHECK(r.clen <= 0);
    send_str(fd, "GET /notmod HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\"\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, true), 0);
    CHECK_EQ_INT(r.status, 304);
    CHECK_EQ_INT(r.clen, 999); /* the representation's length, no body */
    /* no body bytes were sent for any of these: the next response starts right here */
    send_str(fd, "GET /head HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body.len, 12345);
    CHECK(poll_until(&n_stream_close, closes + 3));
    close(fd);
    buf_release(&r.body);
}

TEST(limits)
{
    struct hresp r = {0};
    size_t n = HTTP_MAX_REQUEST_LINE + 100;
    char *big = malloc(n + 200);
    int fd = tcp_connect(port);
    CHECK(fd >= 0);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', n);
    strcpy(big + 5 + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    send_str(fd, big);
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK(r.status == 414 || r.status == 431);
    close(fd);

    fd = tcp_connect(port);
    send_str(fd, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big, 'b', n);
    for (int i = 0; i < 5; i++)
        send_all(fd, big, n);
    send_str(fd, "\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 431);
    close(fd);
    free(big);
    buf_release(&r.body);
}

TEST(early_response_keepalive)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    CHECK(fd >= 0);
    /* answered at begin(), no body: the connection stays open */
    send_str(fd, "GET /reject HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK(!r.close);
    /* answered at begin() with a small body sent right away: dropped, connection reusable */
    send_str(fd, "PUT /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK(!r.close);
    send_str(fd, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body.len == 2 && memcmp(r.body.p, "ok", 2) == 0);
    close(fd);
    buf_release(&r.body);
}

TEST(early_error_huge_upload)
{
    /* an error mid-body with far too much left to drain: the connection is cut, done() runs */
    int fd = tcp_connect(port);
    char *chunk = calloc(1, 65536);
    int d0 = atomic_load(&failmid_done);
    CHECK(fd >= 0);
    send_str(fd, "PUT /failmid HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
    for (int i = 0; i < 64; i++)
        if (send_all(fd, chunk, 65536) != 0)
            break;
    CHECK(wait_eof(fd));
    close(fd);
    CHECK(poll_until(&failmid_done, d0 + 1));
    CHECK_EQ_INT(atomic_load(&failmid_end), 0);
    free(chunk);
}

TEST(early_error_mid_upload)
{
    int fd = tcp_connect(port);
    struct hresp r = {0};
    size_t total = 2u << 20, sent = 0;
    char *chunk = calloc(1, 65536);
    int d0 = atomic_load(&failmid_done);
    CHECK(fd >= 0);
    send_str(fd, "PUT /failmid HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n");
    /* keep sending; the server may answer before we finish (then sends fail) */
    while (sent < total) {
        if (send_all(fd, chunk, 65536) != 0)
            break;
        sent += 65536;
    }
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 400);
    CHECK(r.body.len == 3 && memcmp(r.body.p, "bad", 3) == 0);
    CHECK(r.close);
    CHECK(wait_eof(fd));
    close(fd);
    CHECK(poll_until(&failmid_done, d0 + 1));
    CHECK_EQ_INT(atomic_load(&failmid_end), 0);
    free(chunk);
    buf_release(&r.body);
}

TEST(disconnect_mid_body)
{
    int d0 = atomic_load(&abort_done);
    char chunk[1000] = {0};
    for (int i = 0; i < 2; i++) {
        int b0 = atomic_load(&abort_begun);
        int fd = tcp_connect(port);
        CHECK(fd >= 0);
        send_str(fd, i == 1 ? "PUT /abort HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3e8\r\n"
                            : "PUT /abort HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
        send_all(fd, chunk, sizeof(chunk));
        /* only once the server has begun the request does leaving count as "mid-body" */
        CHECK(poll_until(&abort_begun, b0 + 1));
        close(fd);
    }
    CHECK(poll_until(&abort_done, d0 + 2));
    CHECK_EQ_INT(atomic_load(&abort_end), 0);
}

TEST(unsent_stream_closed)
{
    /* begin() answered with a stream, held while the body drains; the client leaves first:
     * the stream's close() still runs, once */
    int c0 = atomic_load(&n_stream_close), d0 = atomic_load(&n_done);
    int b0 = atomic_load(&rejstream_begun);
    char chunk[1000] = {0};
    int fd = tcp_connect(port);
    send_str(fd, "PUT /rejstream HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    send_all(fd, chunk, sizeof(chunk));
    CHECK(poll_until(&rejstream_begun, b0 + 1));
    close(fd);
    CHECK(poll_until(&n_done, d0 + 1));
    CHECK(poll_until(&n_stream_close, c0 + 1));
    usleep(50000);
    CHECK_EQ_INT(atomic_load(&n_stream_close), c0 + 1);
    /* and when the body does arrive, the stream is the response */
    struct hresp r = {0};
    fd = tcp_connect(port);
    send_str(fd, "PUT /rejstream HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_EQ_INT(read_resp(fd, &r, false), 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK_EQ_INT(r.body.len, 5);
    close(fd);
    buf_release(&r.body);
}

TEST(partial_head_disconnect)
{
    /* request line only, then gone: no begin(), no done(), no leak (ASan run checks) */
    int fd = tcp_connect(port);
    send_str(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n");
    usleep(20000);
    close(fd);
    fd = tcp_connect(port);
    send_str(fd, "GET /ec");
    close(fd);
    /* garbage request line */
    struct hresp r = {0};
    fd = tcp_connect(port);
    send_str(fd, "BLAH\r\n\r\n");
    int rc = read_resp(fd, &r, false);
    CHECK(rc != 0 || r.status == 400);
    close(fd);
    buf_release(&r.body);
}

#define NCONN 1100

/* Sends req on every connection, then collects all responses at once with poll() and one
 * overall deadline (a noisy machine may be slow to serve some; none may be lost). Returns how
 * many came back as 200 with a body of body_len bytes. */
static int serve_all(int *fds, int n, const char *req, size_t body_len)
{
    static char bufs[NCONN][512];
    static size_t got[NCONN];
    static bool done[NCONN];
    struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
    int ok = 0, left = 0;
    for (int i = 0; i < n; i++) {
        got[i] = 0;
        done[i] = fds[i] < 0 || send_str(fds[i], req) != 0;
        left += !done[i];
    }
    time_t deadline = time(NULL) + 120;
    while (left > 0 && time(NULL) < deadline) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (!done[i])
                pf[m++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(pf, (nfds_t)m, 1000) <= 0)
            continue;
        for (int k = 0; k < m; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int i = 0;
            while (fds[i] != pf[k].fd)
                i++;
            ssize_t r = recv(fds[i], bufs[i] + got[i], sizeof(bufs[i]) - 1 - got[i], MSG_DONTWAIT);
            if (r <= 0) {
                done[i] = true;
                left--;
                continue;
            }
            got[i] += (size_t)r;
            bufs[i][got[i]] = 0;
            char *e = strstr(bufs[i], "\r\n\r\n");
            if (e && got[i] - (size_t)(e + 4 - bufs[i]) >= body_len) {
                done[i] = true;
                left--;
                if (strncmp(bufs[i], "HTTP/1.1 200", 12) == 0 &&
                    got[i] - (size_t)(e + 4 - bufs[i]) == body_len)
                    ok++;
            }
        }
    }
    free(pf);
    return ok;
}

TEST(many_connections)
{
    static int fds[NCONN];
    int connected = 0;
    for (int i = 0; i < NCONN; i++) {
        fds[i] = tcp_connect(port);
        if (fds[i] >= 0)
            connected++;
    }
    CHECK_EQ_INT(connected, NCONN);
    /* all connections stay open while each gets its answer */
    CHECK_EQ_INT(serve_all(fds, NCONN, "GET /stream?n=10 HTTP/1.1\r\nHost: x\r\n\r\n", 10), NCONN);
    /* and once more on every connection: they were all kept alive */
    CHECK_EQ_INT(serve_all(fds, NCONN, "GET /stream?n=3 HTTP/1.1\r\nHost: x\r\n\r\n", 3), NCONN);
    for (int i = 0; i < NCONN; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

TEST(begin_done_balance)
{
    /* every begin() got exactly one done() once all connections are gone */
    for (int i = 0; i < 2000 && atomic_load(&n_done) != atomic_load(&n_begin); i++)
        usleep(10000);
    CHECK_EQ_INT(atomic_load(&n_done), atomic_load(&n_begin));
}

struct slow_client {
    uint16_t port;
    size_t got;
    int rc;
};

static void *slow_thread(void *p)
{
    struct slow_client *sc = p;
    CURL *c = curl_easy_init();
    char url[128];
    buf_t b = BUF_INIT;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", sc->port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    sc->rc = curl_easy_perform(c);
    sc->got = b.len;
    bool same = true;
    for (size_t i = 0; same && i < b.len; i++)
        same = b.p[i] == (char)(i % 251);
    if (!same)
        sc->got = 0;
    curl_easy_cleanup(c);
    buf_release(&b);
    return NULL;
}

TEST(graceful_stop)
{
    http_server_t *s = http_server_new(&handler, &(http_opts_t){.threads = 2});
    const http_listener_t *ls;
    struct slow_client sc = {0};
    pthread_t th;
    int b0 = atomic_load(&slow_begun);
    CHECK_EQ_INT(http_server_listen(s, "127.0.0.1:0", NULL), 0);
    CHECK_EQ_INT(http_server_start(s), 0);
    http_server_listeners(s, &ls);
    sc.port = ls[0].port;
    /* an idle keep-alive connection must not hold the stop up */
    int idle = tcp_connect(sc.port);
    CHECK(idle >= 0);
    pthread_create(&th, NULL, slow_thread, &sc);
    CHECK(poll_until(&slow_begun, b0 + 1));
    http_server_stop(s, 30000);
    pthread_join(th, NULL);
    CHECK_EQ_INT(sc.rc, CURLE_OK);
    CHECK_EQ_INT(sc.got, 256 * 1024);
    CHECK(tcp_connect(sc.port) < 0); /* no longer accepting */
    CHECK(wait_eof(idle));
    close(idle);
    http_server_free(s);
}

TEST(stop_aborts_after_grace)
{
    /* a request still running past the grace period is cut off; done() still runs */
    http_server_t *s = http_server_new(&handler, &(http_opts_t){.threads = 1});
    const http_listener_t *ls;
    int d0 = atomic_load(&abort_done);
    CHECK_EQ_INT(http_server_listen(s, "127.0.0.1:0", NULL), 0);
    CHECK_EQ_INT(http_server_start(s), 0);
    http_server_listeners(s, &ls);
    int b0 = atomic_load(&abort_begun);
    int fd = tcp_connect(ls[0].port);
    send_str(fd, "PUT /abort HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    CHECK(poll_until(&abort_begun, b0 + 1));
    http_server_stop(s, 100);
    CHECK_EQ_INT(atomic_load(&abort_done), d0 + 1);
    CHECK_EQ_INT(atomic_load(&abort_end), 0);
    close(fd);
    http_server_free(s);
}

int main(void)
{
    struct rlimit rl;
    log_set_level(LOG_ERROR); /* expected warnings (early close, stop with requests left) */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv = http_server_new(&handler, &(http_opts_t){.threads = 2, .idle_timeout_s = 300});
    if (http_server_listen(srv, "127.0.0.1:0", NULL) != 0 ||
        http_server_listen(srv, "127.0.0.1:0", "vpce-1") != 0 || http_server_start(srv) != 0) {
        fprintf(stderr, "cannot start server\n");
        return 1;
    }
    const http_listener_t *ls;
    http_server_listeners(srv, &ls);
    port = ls[0].port;
    port2 = ls[1].port;

    RUN(listeners);
    RUN(raw_target_and_headers);
    RUN(peer_address);
    RUN(keepalive_raw);
    RUN(keepalive_curl);
    RUN(expect_continue);
    RUN(chunked_upload);
    RUN(chunked_upload_curl);
    RUN(streamed_response);
    RUN(head_and_nocontent);
    RUN(limits);
    RUN(early_response_keepalive);
    RUN(early_error_mid_upload);
    RUN(early_error_huge_upload);
    RUN(disconnect_mid_body);
    RUN(unsent_stream_closed);
    RUN(partial_head_disconnect);
    RUN(many_connections);
    RUN(begin_done_balance);
    RUN(graceful_stop);
    RUN(stop_aborts_after_grace);

    http_server_stop(srv, 1000);
    http_server_free(srv);
    curl_global_cleanup();
    return t_summary("http");
}
