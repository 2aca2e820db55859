/* http: the HTTP server glue over libmicrohttpd. Generic: knows nothing of S3.
 *
 * A handler sees each request through these calls, one at a time, on the connection's thread
 * except end(), which runs on an end() worker thread while the connection is suspended (so it
 * may wait on the disk, e.g. a durable commit, without stalling the thread's other
 * connections; http_opts.end_threads):
 *   begin(req, resp): headers are complete. Return HTTP_RESPOND after filling resp (any request
 *                     body is then discarded and the connection may be closed), or
 *                     HTTP_WANT_BODY to receive the body (libmicrohttpd answers
 *                     "Expect: 100-continue" then).
 *   body(req, p, n, resp): a piece of the (de-chunked) request body. Return 0 to go on, or
 *                     HTTP_RESPOND with resp filled to stop early (e.g. an error).
 *   end(req, resp):   the whole body arrived; fill resp.
 *   done(req):        always called once at the end (response sent, or connection lost before
 *                     end): release per-request state. A request whose body was cut short gets
 *                     done() without end() - nothing half-written may become visible.
 * req->arena lives until after done().
 */
#ifndef STRATA_HTTP_H
#define STRATA_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/str.h"

/* Limits enforced before the handler sees anything (400/431-style errors are the handler's
 * job for anything S3-specific; these are transport limits). */
#define HTTP_MAX_REQUEST_LINE 16384
#define HTTP_MAX_HEADER_BYTES 65536

typedef struct http_listener {
    char host[64];
    uint16_t port;      /* actual port (after binding port 0) */
    char label[64];     /* e.g. a VPC endpoint id, "" if none */
    bool tls;
} http_listener_t;

typedef struct http_req {
    arena_t *arena;
    sv_t method;
    sv_t target; /* raw request-target as on the wire ("/b/k%20x?acl") */
    sv_t path;   /* raw path part of target (still percent-encoded) */
    sv_t query;  /* raw query after '?', without it; empty if none */
    kv_t *headers; /* as received, in order */
    size_t nheaders;
    char peer[64]; /* peer IP address as text */
    uint16_t peer_port;
    const http_listener_t *listener;
    const char *tls_version; /* TLS listener: the negotiated version as s3:TlsVersion has it
                              * ("1.2", "1.3"); NULL on plain HTTP */
    bool has_length;     /* Content-Length given */
    uint64_t content_length;
    bool chunked;        /* Transfer-Encoding: chunked */
    void *app;           /* the handler's per-request state */
} http_req_t;

/* First header with that name (ASCII case-insensitive), SV_NULL if absent. */
sv_t http_req_header(const http_req_t *r, const char *name);

/* A streaming body: read(ctx, off, buf, max) returns bytes (>0), 0 at end, <0 to abort the
 * connection (e.g. a checksum failure mid-stream). close(ctx) is called once, always. */
typedef ssize_t (*http_read_fn)(void *ctx, uint64_t off, char *buf, size_t max);

typedef struct http_resp {
    int status;
    kv_t *headers; /* add with http_resp_header() */
    size_t nheaders, capheaders;
    /* body: either bytes (body/body_len, arena- or static-owned)... */
    const char *body;
    size_t body_len;
    /* ...or a stream of stream_len bytes */
    http_read_fn stream_read;
    void (*stream_close)(void *ctx);
    void *stream_ctx;
    uint64_t stream_len;
    bool head;     /* a HEAD response: send Content-Length (of body_len/stream_len), no body */
    bool close;    /* close the connection after this response */
} http_resp_t;

/* Copies name and value into r->arena. Date, Content-Length, Transfer-Encoding and Keep-Alive
 * are the server's (set by it, dropped here); "Connection: close" is the same as resp->close.
 * A 304 announces body_len/stream_len as its Content-Length and sends no body, like HEAD;
 * 1xx and 204 send neither. `head` is ignored unless the request method is HEAD. */
void http_resp_header(http_req_t *r, http_resp_t *resp, const char *name, const char *value);

enum { HTTP_WANT_BODY = 0, HTTP_RESPOND = 1 };

typedef struct http_handler {
    int (*begin)(void *ud, http_req_t *req, http_resp_t *resp);
    int (*body)(void *ud, http_req_t *req, const char *p, size_t n, http_resp_t *resp);
    void (*end)(void *ud, http_req_t *req, http_resp_t *resp);
    void (*done)(void *ud, http_req_t *req);
    void *ud;
} http_handler_t;

typedef struct http_server http_server_t;

typedef struct http_opts {
    int threads;          /* connection threads per listener (0: default) */
    unsigned max_conns;   /* per listener (0: default >= 1024) */
    unsigned idle_timeout_s; /* (0: default) */
    int end_threads;      /* end() workers (0: default 16; < 0: end() on connection threads) */
} http_opts_t;

/* Creates a server; add listeners, then start. */
http_server_t *http_server_new(const http_handler_t *h, const http_opts_t *o);
/* "HOST:PORT" (port 0 picks a free port); label may be NULL. -errno / -EINVAL. */
int http_server_listen(http_server_t *s, const char *hostport, const char *label);
/* The same with TLS (HTTPS): cert_pem and key_pem are the PEM texts (copied). The listener's
 * http_listener_t.tls is true. -ENOTSUP if libmicrohttpd was built without TLS; a bad
 * certificate or key shows at http_server_start (-EIO). */
int http_server_listen_tls(http_server_t *s, const char *hostport, const char *label,
                           const char *cert_pem, const char *key_pem);
int http_server_start(http_server_t *s);
/* Listeners, to print the actual bound ports. */
size_t http_server_listeners(http_server_t *s, const http_listener_t **out);
/* Graceful stop: stop accepting, let in-flight requests finish (up to grace_ms), then close. */
void http_server_stop(http_server_t *s, int grace_ms);
void http_server_free(http_server_t *s);

#endif
