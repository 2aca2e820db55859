/* s3bench: a load generator for any S3 endpoint (Strata, peers, or a static file server).
 *
 * One thread drives N concurrent transfers with libcurl's multi interface; each transfer slot
 * owns one easy handle that is re-armed in place when its request completes, so connections
 * stay alive in the multi handle's cache and the hot loop does no allocation of its own
 * (libcurl copies the URL per request; that is the only per-request malloc, and it is curl's).
 * Requests are signed by libcurl's built-in SigV4 (CURLOPT_AWS_SIGV4); we send
 * x-amz-content-sha256 ourselves: UNSIGNED-PAYLOAD for PUT bodies, the empty-body hash
 * otherwise. Bodies come from one fixed payload buffer (deterministic pseudo-random bytes; an
 * object larger than the buffer repeats it), so `--op mkfiles` can lay the very same bytes out
 * as files for a static server to serve.
 *
 * Output: one human-readable summary and one `RESULT key=value ...` line per run (per op kind
 * too for mixed runs), which bench/run.sh parses. Latencies go into bench/hist.h histograms
 * (microseconds). Exit status: 0 when every request succeeded, 1 when some failed (the result
 * line is still printed), 2 on bad usage or setup failure.
 *
 * Key layout: key(i) = PREFIX + %08u of i, or with --group-size G:
 * PREFIX + "g%05u/k%08u" of (i / G, i % G), which gives delimiter listings real prefixes. */
#include "hist.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum op { OP_PUT, OP_GET, OP_HEAD, OP_DELETE, OP_LIST, OP_NKINDS, OP_MIXED, OP_MKBUCKET, OP_MKFILES };
static const char *const op_names[] = {"put", "get", "head", "delete", "list"};

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_CONC 1024
#define PAYLOAD_MAX ((size_t)8 << 20)
#define ERRBODY_MAX 512
#define LISTBODY_MAX ((size_t)4 << 20)

struct opts {
    const char *endpoint, *access_key, *secret_key, *region, *bucket, *prefix, *label, *dir;
    const char *list_prefix, *delimiter;
    enum op op;
    uint64_t size, count, keys, start, group_size;
    unsigned conc, max_keys, mix[OP_NKINDS];
    double duration, warmup, max_seconds;
    int sign, verify, quiet;
    uint64_t seed;
};

struct slot {
    CURL *easy;
    int op;      /* kind of the request in flight (or last armed) */
    int armed;   /* op-specific options currently set for this kind */
    uint64_t t0; /* start, ns */
    uint64_t up_off, down;
    int verify_bad;
    size_t body_len; /* captured response bytes (error bodies, list bodies under --verify) */
    char *body;
    char url[2048];
};

struct stats {
    bench_hist_t hist[OP_NKINDS];
    uint64_t ok[OP_NKINDS], err[OP_NKINDS], miss[OP_NKINDS], bytes[OP_NKINDS];
    uint64_t entries; /* list entries seen under --verify */
    int errors_printed;
};

static struct opts o;
static unsigned char *payload;
static size_t payload_len;
static struct stats st;
static uint64_t issued, rng_state;
static struct curl_slist *hdr_put, *hdr_other;
static char list_query[1024];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return rng_state = x;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: s3bench --bucket B --op put|get|head|delete|list|mixed|mkbucket|mkfiles [options]\n"
            "  --endpoint URL        http://127.0.0.1:9000 (path-style requests)\n"
            "  --access-key K --secret-key S   default $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY,\n"
            "                        then $STRATA_ROOT_ACCESS_KEY/$STRATA_ROOT_SECRET_KEY\n"
            "  --region R            us-east-1\n"
            "  --no-sign             plain unsigned requests (static file servers)\n"
            "  --size N[k|m|g]       object size for put (and expected size for get), default 4k\n"
            "  --concurrency N       transfers in flight, default 16\n"
            "  --duration S | --count N   run length (default 5 s); --warmup S excluded from stats\n"
            "  --max-seconds S       hard limit on the run, default 600\n"
            "  --keys N              key space: get/head/mixed pick from it at random, put overwrites\n"
            "                        in it; without it put writes new keys start, start+1, ...\n"
            "  --start N             first key index, default 0\n"
            "  --prefix P            key prefix, default obj/;  --group-size G  grouped layout\n"
            "  --list-prefix P --delimiter D --max-keys N   the list page (ListObjectsV2)\n"
            "  --mix put=W,get=W,head=W,delete=W,list=W     weights for --op mixed\n"
            "  --verify              check GET bodies byte for byte; count list entries\n"
            "  --dir D               for mkfiles: write D/BUCKET/KEY files with the same bytes\n"
            "  --label L  --seed N  --quiet\n"
            "  s3bench --free-port   print a free loopback TCP port and exit\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    uint64_t mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024; end++; break;
    case 'm': case 'M': mul = 1024 * 1024; end++; break;
    case 'g': case 'G': mul = 1024ull * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end)
        return -1;
    *out = (uint64_t)(v * (double)mul);
    return 0;
}

static int parse_mix(const char *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    memset(o.mix, 0, sizeof o.mix);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            return -1;
        *eq = 0;
        int k = -1;
        for (int i = 0; i < OP_NKINDS; i++)
            if (strcmp(t, op_names[i]) == 0)
                k = i;
        if (k < 0)
            return -1;
        o.mix[k] = (unsigned)strtoul(eq + 1, NULL, 10);
    }
    return 0;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        perror("free-port");
        return 2;
    }
    printf("%u\n", ntohs(a.sin_port));
    close(fd);
    return 0;
}

/* Percent-encodes s for a canonical query value (unreserved characters kept). */
static void qenc(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
    }
    out[n] = 0;
}

static int key_name(char *out, size_t cap, uint64_t i)
{
    if (o.group_size)
        return snprintf(out, cap, "%sg%05" PRIu64 "/k%08" PRIu64, o.prefix, i / o.group_size,
                        i % o.group_size);
    return snprintf(out, cap, "%s%08" PRIu64, o.prefix, i);
}

static void make_payload(void)
{
    payload_len = o.size < PAYLOAD_MAX ? (size_t)o.size : PAYLOAD_MAX;
    if (payload_len == 0)
        payload_len = 1;
    payload = malloc(payload_len);
    if (!payload) {
        perror("malloc");
        exit(2);
    }
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < payload_len; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        payload[i] = (unsigned char)(s >> 32);
    }
}

/* ---- curl callbacks ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct slot *sl = ud;
    uint64_t left = o.size - sl->up_off;
    size_t want = size * nitems, done = 0;
    if (want > left)
        want = (size_t)left;
    while (done < want) {
        size_t at = (size_t)((sl->up_off + done) % payload_len);
        size_t n = payload_len - at;
        if (n > want - done)
            n = want - done;
        memcpy(buf + done, payload + at, n);
        done += n;
    }
    sl->up_off += done;
    return done;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct slot *sl = ud;
    size_t n = size * nmemb;
    if (o.verify && sl->op == OP_GET) {
        for (size_t done = 0; done < n && !sl->verify_bad;) {
            size_t at = (size_t)((sl->down + done) % payload_len);
            size_t m = payload_len - at;
            if (m > n - done)
                m = n - done;
            if (memcmp(data + done, payload + at, m) != 0)
                sl->verify_bad = 1;
            done += m;
        }
    }
    size_t cap = (o.verify && sl->op == OP_LIST) ? LISTBODY_MAX : ERRBODY_MAX;
    if (sl->body_len < cap) {
        size_t m = cap - sl->body_len < n ? cap - sl->body_len : n;
        memcpy(sl->body + sl->body_len, data, m);
        sl->body_len += m;
    }
    sl->down += n;
    return n;
}

/* ---- request setup ---- */

static int pick_op(void)
{
    if (o.op != OP_MIXED)
        return (int)o.op;
    unsigned total = 0;
    for (int i = 0; i < OP_NKINDS; i++)
        total += o.mix[i];
    unsigned r = (unsigned)(rng() % total);
    for (int i = 0; i < OP_NKINDS; i++) {
        if (r < o.mix[i])
            return i;
        r -= o.mix[i];
    }
    return OP_GET;
}

static uint64_t pick_key(int op)
{
    if (op == OP_PUT && !o.keys)
        return o.start + issued;
    if (op == OP_DELETE && o.op == OP_DELETE)
        return o.start + issued;
    uint64_t space = o.keys ? o.keys : 1;
    return o.start + rng() % space;
}

static void arm(struct slot *sl, int op)
{
    CURL *e = sl->easy;
    if (sl->armed != op) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, op == OP_PUT ? hdr_put : hdr_other);
        switch (op) {
        case OP_PUT:
            curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)o.size);
            break;
        case OP_HEAD: curl_easy_setopt(e, CURLOPT_NOBODY, 1L); break;
        case OP_DELETE: curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE"); break;
        default: break;
        }
        sl->armed = op;
    }
    sl->op = op;
    if (op == OP_LIST) {
        snprintf(sl->url, sizeof sl->url, "%s/%s?%s", o.endpoint, o.bucket, list_query);
    } else {
        int n = snprintf(sl->url, sizeof sl->url, "%s/%s/", o.endpoint, o.bucket);
        key_name(sl->url + n, sizeof sl->url - (size_t)n, pick_key(op));
    }
    curl_easy_setopt(e, CURLOPT_URL, sl->url);
    sl->up_off = 0;
    sl->down = 0;
    sl->verify_bad = 0;
    sl->body_len = 0;
    issued++;
    sl->t0 = now_ns();
}

static CURL *new_easy(struct slot *sl)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, sl);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, sl);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o.max_seconds * 1000));
    if (o.sign) {
        char prov[128];
        snprintf(prov, sizeof prov, "aws:amz:%s:s3", o.region);
        curl_easy_setopt(e, CURLOPT_AWS_SIGV4, prov);
        curl_easy_setopt(e, CURLOPT_USERNAME, o.access_key);
        curl_easy_setopt(e, CURLOPT_PASSWORD, o.secret_key);
    }
    sl->armed = -1;
    return e;
}

/* Classifies a finished transfer into ok / miss / error and records it. */
static void complete(struct slot *sl, CURLcode res, uint64_t t_end, uint64_t measure_from)
{
    long code = 0;
    curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &code);
    int op = sl->op;
    int ok = res == CURLE_OK && code >= 200 && code < 300;
    const char *why = NULL;
    if (ok && op == OP_GET && o.op != OP_MIXED && sl->down != o.size)
        ok = 0, why = "short body";
    if (ok && sl->verify_bad)
        ok = 0, why = "body differs from payload";
    int miss = !ok && res == CURLE_OK && code == 404 && o.op == OP_MIXED;
    if (ok && o.verify && op == OP_LIST) {
        for (size_t i = 0; i + 5 <= sl->body_len; i++)
            if (memcmp(sl->body + i, "<Key>", 5) == 0 ||
                (i + 8 <= sl->body_len && memcmp(sl->body + i, "<Prefix>", 8) == 0 && i > 16 &&
                 memcmp(sl->body + i - 16, "<CommonPrefixes>", 16) == 0))
                st.entries++;
    }
    if (sl->t0 < measure_from)
        return;
    if (ok) {
        st.ok[op]++;
        st.bytes[op] += op == OP_PUT ? o.size : sl->down;
        bench_hist_record(&st.hist[op], (t_end - sl->t0) / 1000);
    } else if (miss) {
        st.miss[op]++;
    } else {
        st.err[op]++;
        if (st.errors_printed++ < 3)
            fprintf(stderr, "s3bench: %s %s: %s (HTTP %ld) %.*s\n", op_names[op], sl->url,
                    res != CURLE_OK ? curl_easy_strerror(res) : why ? why : "failed", code,
                    (int)(sl->body_len < 300 ? sl->body_len : 300), sl->body);
    }
}

static void print_line(const char *what, int op, double secs, const bench_hist_t *h,
                       uint64_t ok, uint64_t err, uint64_t miss, uint64_t bytes)
{
    double ops_s = secs > 0 ? (double)ok / secs : 0;
    double mib_s = secs > 0 ? (double)bytes / secs / 1048576.0 : 0;
    if (!o.quiet)
        printf("%-14s %-6s size=%-10" PRIu64 " conc=%-4u %9.1f ops/s %9.2f MiB/s  p50 %.3f ms  "
               "p99 %.3f ms  max %.3f ms  ok %" PRIu64 " errors %" PRIu64 "%s\n",
               o.label, what, o.size, o.conc, ops_s, mib_s,
               (double)bench_hist_percentile(h, 50) / 1000.0,
               (double)bench_hist_percentile(h, 99) / 1000.0, (double)h->max / 1000.0, ok, err,
               miss ? " (404s counted apart)" : "");
    printf("RESULT label=%s op=%s size=%" PRIu64 " conc=%u ops=%" PRIu64 " errors=%" PRIu64
           " misses=%" PRIu64 " secs=%.3f ops_s=%.1f mib_s=%.2f p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f mean_ms=%.3f",
           o.label, what, o.size, o.conc, ok, err, miss, secs, ops_s, mib_s,
           (double)bench_hist_percentile(h, 50) / 1000.0,
           (double)bench_hist_percentile(h, 99) / 1000.0, (double)h->max / 1000.0,
           bench_hist_mean(h) / 1000.0);
    if (op == OP_LIST && o.verify)
        printf(" entries_per_page=%.1f", ok ? (double)st.entries / (double)ok : 0.0);
    printf("\n");
}

static int run_load(void)
{
    static struct slot slots[MAX_CONC];
    CURLM *m = curl_multi_init();
    if (!m)
        return 2;
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)o.conc * 2);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o.conc);
    hdr_put = curl_slist_append(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    hdr_put = curl_slist_append(hdr_put, "Expect:");
    hdr_put = curl_slist_append(hdr_put, "Content-Type: application/octet-stream");
    hdr_other = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
    if (o.op == OP_LIST || o.mix[OP_LIST]) {
        char p[512], d[64];
        qenc(p, sizeof p, o.list_prefix);
        qenc(d, sizeof d, o.delimiter);
        /* Parameters in canonical (sorted) order, already encoded: the query string libcurl
         * signs is then canonical whatever its version does with queries. */
        int n = 0;
        if (*d)
            n += snprintf(list_query + n, sizeof list_query - (size_t)n, "delimiter=%s&", d);
        n += snprintf(list_query + n, sizeof list_query - (size_t)n, "list-type=2&max-keys=%u", o.max_keys);
        if (*p)
            snprintf(list_query + n, sizeof list_query - (size_t)n, "&prefix=%s", p);
    }
    size_t bodycap = o.verify ? LISTBODY_MAX : ERRBODY_MAX;
    for (unsigned i = 0; i < o.conc; i++) {
        slots[i].body = malloc(bodycap);
        slots[i].easy = new_easy(&slots[i]);
        if (!slots[i].body || !slots[i].easy) {
            fprintf(stderr, "s3bench: setup failed\n");
            return 2;
        }
    }
    for (int i = 0; i < OP_NKINDS; i++)
        bench_hist_clear(&st.hist[i]);

    uint64_t t_start = now_ns();
    uint64_t measure_from = t_start + (uint64_t)(o.warmup * 1e9);
    uint64_t deadline = o.count ? UINT64_MAX : measure_from + (uint64_t)(o.duration * 1e9);
    uint64_t hard = t_start + (uint64_t)(o.max_seconds * 1e9);
    uint64_t last_done = measure_from;
    uint64_t total = o.count ? o.count : UINT64_MAX;
    if (o.op == OP_DELETE && o.keys && o.keys < total)
        total = o.keys;
    unsigned active = 0;
    for (unsigned i = 0; i < o.conc && issued < total; i++) {
        arm(&slots[i], pick_op());
        curl_multi_add_handle(m, slots[i].easy);
        active++;
    }
    int aborted = 0;
    while (active > 0) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            CURL *e = msg->easy_handle;
            CURLcode res = msg->data.result;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
            struct slot *sl = (struct slot *)(void *)priv;
            uint64_t t = now_ns();
            complete(sl, res, t, measure_from);
            if (sl->t0 >= measure_from)
                last_done = t;
            curl_multi_remove_handle(m, e);
            if (issued < total && t < deadline && t < hard) {
                arm(sl, pick_op());
                curl_multi_add_handle(m, e);
            } else {
                active--;
            }
        }
        if (active == 0)
            break;
        if (now_ns() >= hard) {
            aborted = 1;
            fprintf(stderr, "s3bench: hard time limit (%.0f s) reached; %u transfers abandoned\n",
                    o.max_seconds, active);
            break;
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double secs = (double)(last_done - measure_from) / 1e9;
    uint64_t err_total = 0, ok_total = 0, miss_total = 0, bytes_total = 0;
    bench_hist_t *all = malloc(sizeof *all);
    bench_hist_clear(all);
    for (int i = 0; i < OP_NKINDS; i++) {
        err_total += st.err[i];
        ok_total += st.ok[i];
        miss_total += st.miss[i];
        bytes_total += st.bytes[i];
        bench_hist_merge(all, &st.hist[i]);
    }
    if (aborted)
        err_total += active;
    if (o.op == OP_MIXED) {
        for (int i = 0; i < OP_NKINDS; i++)
            if (o.mix[i])
                print_line(op_names[i], i, secs, &st.hist[i], st.ok[i], st.err[i], st.miss[i],
                           st.bytes[i]);
        print_line("mixed", -1, secs, all, ok_total, err_total, miss_total, bytes_total);
    } else {
        print_line(op_names[o.op], (int)o.op, secs, all, ok_total, err_total, miss_total,
                   bytes_total);
    }
    free(all);
    for (unsigned i = 0; i < o.conc; i++) {
        curl_multi_remove_handle(m, slots[i].easy);
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].body);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr_put);
    curl_slist_free_all(hdr_other);
    return err_total ? 1 : 0;
}

static int mkbucket(void)
{
    struct slot sl = {0};
    sl.body = malloc(ERRBODY_MAX);
    CURL *e = new_easy(&sl);
    struct curl_slist *h = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
    h = curl_slist_append(h, "Expect:");
    snprintf(sl.url, sizeof sl.url, "%s/%s", o.endpoint, o.bucket);
    curl_easy_setopt(e, CURLOPT_URL, sl.url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    CURLcode res = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    int rc = 0;
    if (res != CURLE_OK || (code != 200 && code != 409)) {
        fprintf(stderr, "s3bench: create bucket %s: %s HTTP %ld %.*s\n", o.bucket,
                curl_easy_strerror(res), code, (int)sl.body_len, sl.body);
        rc = 1;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    free(sl.body);
    return rc;
}

/* Writes DIR/BUCKET/KEY for keys start .. start+count-1 with the payload bytes. */
static int mkfiles(void)
{
    char path[4096];
    uint64_t n = o.count ? o.count : o.keys;
    for (uint64_t i = 0; i < n; i++) {
        int len = snprintf(path, sizeof path, "%s/%s/", o.dir, o.bucket);
        key_name(path + len, sizeof path - (size_t)len, o.start + i);
        for (char *s = path + strlen(o.dir) + 1; *s; s++) /* mkdir -p */
            if (*s == '/') {
                *s = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                    perror(path);
                    return 2;
                }
                *s = '/';
            }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            perror(path);
            return 2;
        }
        for (uint64_t off = 0; off < o.size;) {
            size_t at = (size_t)(off % payload_len), m = payload_len - at;
            if (m > o.size - off)
                m = (size_t)(o.size - off);
            ssize_t w = write(fd, payload + at, m);
            if (w <= 0) {
                perror(path);
                close(fd);
                return 2;
            }
            off += (uint64_t)w;
        }
        close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    o = (struct opts){.endpoint = "http://127.0.0.1:9000", .region = "us-east-1",
                      .prefix = "obj/", .label = "s3bench", .list_prefix = "", .delimiter = "",
                      .op = OP_GET, .size = 4096, .conc = 16, .duration = 5, .max_seconds = 600,
                      .max_keys = 1000, .sign = 1, .seed = 1};
    o.mix[OP_GET] = 70, o.mix[OP_PUT] = 20, o.mix[OP_HEAD] = 5, o.mix[OP_LIST] = 5;
    const char *op = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (strcmp(a, "--free-port") == 0)
            return free_port();
        else if (strcmp(a, "--no-sign") == 0)
            o.sign = 0;
        else if (strcmp(a, "--verify") == 0)
            o.verify = 1;
        else if (strcmp(a, "--quiet") == 0)
            o.quiet = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return usage(), 0;
        else if (ARG("--endpoint"))
            o.endpoint = v;
        else if (ARG("--access-key"))
            o.access_key = v;
        else if (ARG("--secret-key"))
            o.secret_key = v;
        else if (ARG("--region"))
            o.region = v;
        else if (ARG("--bucket"))
            o.bucket = v;
        else if (ARG("--op"))
            op = v;
        else if (ARG("--prefix"))
            o.prefix = v;
        else if (ARG("--label"))
            o.label = v;
        else if (ARG("--dir"))
            o.dir = v;
        else if (ARG("--list-prefix"))
            o.list_prefix = v;
        else if (ARG("--delimiter"))
            o.delimiter = v;
        else if (ARG("--max-keys"))
            o.max_keys = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--concurrency"))
            o.conc = (unsigned)strtoul(v, NULL, 10);
        else if (ARG("--duration"))
            o.duration = strtod(v, NULL);
        else if (ARG("--warmup"))
            o.warmup = strtod(v, NULL);
        else if (ARG("--max-seconds"))
            o.max_seconds = strtod(v, NULL);
        else if (ARG("--count"))
            o.count = strtoull(v, NULL, 10);
        else if (ARG("--keys"))
            o.keys = strtoull(v, NULL, 10);
        else if (ARG("--start"))
            o.start = strtoull(v, NULL, 10);
        else if (ARG("--group-size"))
            o.group_size = strtoull(v, NULL, 10);
        else if (ARG("--seed"))
            o.seed = strtoull(v, NULL, 10);
        else if (ARG("--size")) {
            if (parse_size(v, &o.size) < 0)
                return fprintf(stderr, "s3bench: bad size %s\n", v), 2;
        } else if (ARG("--mix")) {
            if (parse_mix(v) < 0)
                return fprintf(stderr, "s3bench: bad mix %s\n", v), 2;
        } else {
            fprintf(stderr, "s3bench: unknown or incomplete option %s\n", a);
            usage();
            return 2;
        }
#undef ARG
    }
    static const char *const all_ops[] = {"put", "get", "head", "delete", "list", "",
                                          "mixed", "mkbucket", "mkfiles"};
    int found = -1;
    for (int i = 0; op && i < (int)(sizeof all_ops / sizeof all_ops[0]); i++)
        if (*all_ops[i] && strcmp(op, all_ops[i]) == 0)
            found = i;
    if (found < 0 || !o.bucket || o.conc == 0 || o.conc > MAX_CONC) {
        usage();
        return 2;
    }
    o.op = (enum op)found;
    if (!o.access_key)
        o.access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!o.access_key)
        o.access_key = getenv("STRATA_ROOT_ACCESS_KEY");
    if (!o.secret_key)
        o.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!o.secret_key)
        o.secret_key = getenv("STRATA_ROOT_SECRET_KEY");
    if (o.sign && (!o.access_key || !o.secret_key) && o.op != OP_MKFILES) {
        fprintf(stderr, "s3bench: no keys (--access-key/--secret-key or environment)\n");
        return 2;
    }
    if ((o.op == OP_GET || o.op == OP_HEAD || o.op == OP_MIXED) && !o.keys)
        o.keys = 1000;
    if (o.op == OP_MIXED) {
        unsigned t = 0;
        for (int i = 0; i < OP_NKINDS; i++)
            t += o.mix[i];
        if (!t)
            return fprintf(stderr, "s3bench: empty mix\n"), 2;
    }
    rng_state = o.seed * 0x2545F4914F6CDD1Dull + 1;
    make_payload();
    if (o.op == OP_MKFILES) {
        if (!o.dir)
            return fprintf(stderr, "s3bench: mkfiles needs --dir\n"), 2;
        return mkfiles();
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    int rc = o.op == OP_MKBUCKET ? mkbucket() : run_load();
    curl_global_cleanup();
    free(payload);
    return rc;
}
