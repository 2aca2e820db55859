/* strata: command-line entry.
 *   strata server [--data DIR] [--listen HOST:PORT[,vpce=ID]]... [--region R] [--base-domain D]
 *                 [--listen-tls HOST:PORT[,vpce=ID] --cert PEM --key PEM]
 *                 [--trusted-proxies CIDR,...] [--object-ownership SETTING]
 *   strata admin --endpoint URL account create NAME [--access-key K --secret-key S]
 *                [--canonical-id ID --display-name D --email E]
 * Flags override STRATA_* environment variables, which override defaults. */
#include "api/accounts.h"
#include "api/api.h"
#include "api/authz.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: strata server [--data DIR] [--listen HOST:PORT[,vpce=ID]]... [--region R] [--base-domain D]\n"
            "                     [--listen-tls HOST:PORT[,vpce=ID] --cert PEM --key PEM]\n"
            "                     [--trusted-proxies CIDR,...] [--object-ownership SETTING]\n"
            "       strata admin --endpoint URL account create NAME [--access-key K --secret-key S]\n"
            "                    [--canonical-id ID] [--display-name D] [--email E]\n"
            "environment: STRATA_DATA, STRATA_LISTEN (comma-separated), STRATA_REGION,\n"
            "  STRATA_BASE_DOMAIN, STRATA_DAY_SECONDS, STRATA_ROOT_ACCESS_KEY, STRATA_ROOT_SECRET_KEY,\n"
            "  STRATA_HTTP_THREADS (16), STRATA_SHUTDOWN_GRACE_MS (10000),\n"
            "  STRATA_DIRECT_MIN (8388608: bytes from which object data is written with O_DIRECT,\n"
            "  bypassing the page cache; \"off\" keeps every write buffered)\n");
    return 2;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* A whole (small) text file, e.g. a PEM certificate. */
static int read_text_file(const char *path, buf_t *out)
{
    if (!path || !*path)
        return -EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len < (1u << 20))
        buf_append(out, chunk, n);
    fclose(f);
    return out->len ? 0 : -EINVAL;
}

static int cmd_server(int argc, char **argv)
{
    const char *data = env_or("STRATA_DATA", "./data");
    const char *region = env_or("STRATA_REGION", "us-east-1");
    const char *base_domain = env_or("STRATA_BASE_DOMAIN", "");
    const char *listens[16];
    int nlisten = 0;
    /* access control (docs/security.md): HTTPS listeners, trusted proxies, default ownership */
    const char *tls_listens[16];
    int ntls = 0;
    const char *cert_file = env_or("STRATA_TLS_CERT", "");
    const char *key_file = env_or("STRATA_TLS_KEY", "");
    const char *proxies = env_or("STRATA_TRUSTED_PROXIES", "");
    const char *ownership = env_or("STRATA_OBJECT_OWNERSHIP", "");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (strcmp(a, "--data") == 0)
            data = v;
        else if (strcmp(a, "--listen") == 0 && nlisten < 16)
            listens[nlisten++] = v;
        else if (strcmp(a, "--region") == 0)
            region = v;
        else if (strcmp(a, "--base-domain") == 0)
            base_domain = v;
        else if (strcmp(a, "--listen-tls") == 0 && ntls < 16)
            tls_listens[ntls++] = v;
        else if (strcmp(a, "--cert") == 0)
            cert_file = v;
        else if (strcmp(a, "--key") == 0)
            key_file = v;
        else if (strcmp(a, "--trusted-proxies") == 0)
            proxies = v;
        else if (strcmp(a, "--object-ownership") == 0)
            ownership = v;
        else if (strcmp(a, "--day-seconds") == 0)
            clock_set_day_seconds(atoll(v));
        else
            return usage();
        i++;
    }
    static char env_listen[1024];
    if (nlisten == 0) {
        snprintf(env_listen, sizeof env_listen, "%s", env_or("STRATA_LISTEN", "127.0.0.1:9000"));
        for (char *save = NULL, *t = strtok_r(env_listen, ",", &save); t && nlisten < 16;
             t = strtok_r(NULL, ",", &save))
            listens[nlisten++] = t;
    }
    if (getenv("STRATA_DAY_SECONDS"))
        clock_set_day_seconds(atoll(getenv("STRATA_DAY_SECONDS")));
    static char env_tls[1024];
    if (ntls == 0 && getenv("STRATA_LISTEN_TLS")) {
        snprintf(env_tls, sizeof env_tls, "%s", getenv("STRATA_LISTEN_TLS"));
        for (char *save = NULL, *t = strtok_r(env_tls, ";", &save); t && ntls < 16;
             t = strtok_r(NULL, ";", &save))
            tls_listens[ntls++] = t;
    }
    if (authz_set_trusted_proxies(proxies) != 0) {
        log_error("--trusted-proxies: not a list of addresses or CIDRs: %s", proxies);
        return 2;
    }
    if (*ownership) {
        enum authz_ownership o;
        if (authz_ownership_parse(sv_from_cstr(ownership), &o) != 0) {
            log_error("--object-ownership: BucketOwnerEnforced, BucketOwnerPreferred or "
                      "ObjectWriter, not %s", ownership);
            return 2;
        }
        authz_set_default_ownership(o);
    }
    buf_t tls_cert = BUF_INIT, tls_key = BUF_INIT;
    if (ntls && (read_text_file(cert_file, &tls_cert) != 0 ||
                 read_text_file(key_file, &tls_key) != 0)) {
        log_error("--listen-tls needs --cert FILE and --key FILE (PEM) that can be read");
        buf_release(&tls_cert);
        buf_release(&tls_key);
        return 2;
    }

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = mkdir_p(data);
    if (rc) {
        log_error("cannot create data directory %s: %s", data, strerror(-rc));
        return 1;
    }
    store_t *st;
    store_opts_t so = {.dir = data};
    /* STRATA_DIRECT_MIN: bytes from which a data file is written with O_DIRECT, or "off" */
    const char *dm = getenv("STRATA_DIRECT_MIN");
    if (dm && *dm)
        so.direct_min = strcmp(dm, "off") == 0 ? UINT64_MAX : strtoull(dm, NULL, 10);
    if ((rc = store_open(&so, &st)) != 0) {
        log_error("cannot open store in %s: %s", data, strata_strerror(rc));
        return 1;
    }
    if ((rc = accounts_bootstrap(st, data, getenv("STRATA_ROOT_ACCESS_KEY"),
                                 getenv("STRATA_ROOT_SECRET_KEY"))) != 0) {
        log_error("cannot set up the root account: %s", strata_strerror(rc));
        store_close(st);
        return 1;
    }
    api_cfg_t cfg = {.region = region, .base_domain = base_domain, .max_put_size = 5ull << 30};
    api_t *api = api_new(st, &cfg);
    http_handler_t h;
    api_http_handler(api, &h);
    /* Connection threads block while the store commits (group commit waits for fsync), so
     * run more of them than cores; suspending connections during commits would lift this. */
    http_opts_t ho = {.threads = atoi(env_or("STRATA_HTTP_THREADS", "16"))};
    http_server_t *srv = http_server_new(&h, &ho);
    for (int i = 0; i < nlisten; i++) {
        char spec[256], *label = NULL;
        snprintf(spec, sizeof spec, "%s", listens[i]);
        char *comma = strchr(spec, ',');
        if (comma) {
            *comma = 0;
            if (strncmp(comma + 1, "vpce=", 5) == 0)
                label = comma + 6;
        }
        if ((rc = http_server_listen(srv, spec, label)) != 0) {
            log_error("cannot listen on %s: %s", spec, strata_strerror(rc));
            goto out;
        }
    }
    for (int i = 0; i < ntls; i++) {
        char spec[256], *label = NULL;
        snprintf(spec, sizeof spec, "%s", tls_listens[i]);
        char *comma = strchr(spec, ',');
        if (comma) {
            *comma = 0;
            if (strncmp(comma + 1, "vpce=", 5) == 0)
                label = comma + 6;
        }
        if ((rc = http_server_listen_tls(srv, spec, label, tls_cert.p, tls_key.p)) != 0) {
            log_error("cannot listen (TLS) on %s: %s", spec, strata_strerror(rc));
            goto out;
        }
    }
    if ((rc = http_server_start(srv)) != 0) {
        log_error("cannot start the HTTP server: %s", strata_strerror(rc));
        goto out;
    }
    const http_listener_t *ls;
    size_t nl = http_server_listeners(srv, &ls);
    for (size_t i = 0; i < nl; i++)
        printf("Strata listening on %s://%s:%u%s%s (region %s)\n", ls[i].tls ? "https" : "http",
               ls[i].host, ls[i].port,
               ls[i].label[0] ? " label=" : "", ls[i].label, region);
    printf("Data directory: %s\n", data);
    fflush(stdout);
    log_info("server ready listeners=%zu data=%s", nl, data);

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("signal %d: stopping (in-flight requests finish first)", sig);
    rc = 0;
out:
    http_server_stop(srv, atoi(env_or("STRATA_SHUTDOWN_GRACE_MS", "10000")));
    http_server_free(srv);
    api_free(api);
    store_close(st);
    buf_release(&tls_cert);
    buf_release(&tls_key);
    log_info("stopped");
    return rc ? 1 : 0;
}

/* ---- admin client ----------------------------------------------------------------------- */

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    buf_append(ud, p, sz * n);
    return sz * n;
}

static int admin_post(const char *endpoint, const char *path, const char *body)
{
    const char *ak = getenv("STRATA_ROOT_ACCESS_KEY"), *sk = getenv("STRATA_ROOT_SECRET_KEY");
    if (!ak || !sk) {
        fprintf(stderr, "strata admin: set STRATA_ROOT_ACCESS_KEY and STRATA_ROOT_SECRET_KEY\n");
        return 2;
    }
    char url[2048], userpwd[600], shahdr[128], hex[65];
    uint8_t h[32];
    snprintf(url, sizeof url, "%s%s", endpoint, path);
    snprintf(userpwd, sizeof userpwd, "%s:%s", ak, sk);
    sha256(body, strlen(body), h);
    hex_encode(h, 32, hex);
    snprintf(shahdr, sizeof shahdr, "x-amz-content-sha256: %s", hex);
    const char *region = env_or("STRATA_REGION", "us-east-1");
    char provider[128];
    snprintf(provider, sizeof provider, "aws:amz:%s:s3", region);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, shahdr);
    buf_t out = BUF_INIT;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, provider);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode cr = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int rc = 0;
    if (cr != CURLE_OK) {
        fprintf(stderr, "strata admin: %s: %s\n", url, curl_easy_strerror(cr));
        rc = 1;
    } else if (status != 200) {
        fprintf(stderr, "strata admin: HTTP %ld\n%s", status, out.p ? out.p : "");
        rc = 1;
    } else {
        fputs(out.p ? out.p : "", stdout);
    }
    buf_release(&out);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return rc;
}

static int cmd_admin(int argc, char **argv)
{
    const char *endpoint = env_or("STRATA_ENDPOINT", "http://127.0.0.1:9000");
    int i = 0;
    if (i + 1 < argc && strcmp(argv[i], "--endpoint") == 0) {
        endpoint = argv[i + 1];
        i += 2;
    }
    if (argc - i >= 3 && strcmp(argv[i], "account") == 0 && strcmp(argv[i + 1], "create") == 0) {
        json_t *o = json_pack("{s:s}", "name", argv[i + 2]);
        static const char *const flags[][2] = {{"--access-key", "access_key"},
                                               {"--secret-key", "secret_key"},
                                               {"--canonical-id", "canonical_id"},
                                               {"--display-name", "display_name"},
                                               {"--email", "email"}};
        for (i += 3; i < argc; i += 2) {
            size_t f;
            for (f = 0; f < sizeof flags / sizeof flags[0]; f++)
                if (strcmp(argv[i], flags[f][0]) == 0)
                    break;
            if (f == sizeof flags / sizeof flags[0] || i + 1 >= argc) {
                json_decref(o);
                return usage();
            }
            json_object_set_new(o, flags[f][1], json_string(argv[i + 1]));
        }
        char *body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        int rc = admin_post(endpoint, "/_strata/admin/accounts", body);
        free(body);
        return rc;
    }
    return usage();
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "server") == 0)
        return cmd_server(argc - 2, argv + 2);
    if (strcmp(argv[1], "admin") == 0)
        return cmd_admin(argc - 2, argv + 2);
    return usage();
}
