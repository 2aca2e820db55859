/* coldstart: time from starting a server process to its first served request.
 *
 *   coldstart --url URL [--no-sign] [--access-key K --secret-key S --region R]
 *             [--log FILE] [--timeout S] -- SERVER-COMMAND ARGS...
 *
 * Takes the clock, forks and execs the command (stdout/stderr to --log, default /dev/null),
 * then retries a GET of URL (SigV4-signed by libcurl unless --no-sign) every 0.2 ms until it
 * answers 2xx. Prints the elapsed time in ms, then stops the server with SIGTERM (SIGKILL
 * after 15 s) and reaps it: it never leaves the process it started behind. Exit 0 when served,
 * 1 when the timeout (default 10 s) passed or the server exited first, 2 on bad usage. */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    return s * n;
}

static void stop_child(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    for (int i = 0; i < 1500; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *ak = getenv("STRATA_ROOT_ACCESS_KEY"),
               *sk = getenv("STRATA_ROOT_SECRET_KEY"), *region = "us-east-1", *log = "/dev/null";
    double timeout = 10;
    int sign = 1, i;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--no-sign") == 0) {
            sign = 0;
            continue;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--url") == 0)
            url = argv[++i];
        else if (strcmp(argv[i], "--access-key") == 0)
            ak = argv[++i];
        else if (strcmp(argv[i], "--secret-key") == 0)
            sk = argv[++i];
        else if (strcmp(argv[i], "--region") == 0)
            region = argv[++i];
        else if (strcmp(argv[i], "--log") == 0)
            log = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0)
            timeout = strtod(argv[++i], NULL);
        else
            break;
    }
    if (!url || i + 1 >= argc || strcmp(argv[i], "--") != 0 || (sign && (!ak || !sk))) {
        fprintf(stderr, "usage: coldstart --url URL [--no-sign] [--access-key K --secret-key S] "
                        "[--log FILE] [--timeout S] -- COMMAND ARGS...\n");
        return 2;
    }
    char **cmd = argv + i + 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(
        NULL, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    char prov[128];
    if (sign) {
        snprintf(prov, sizeof prov, "aws:amz:%s:s3", region);
        curl_easy_setopt(e, CURLOPT_AWS_SIGV4, prov);
        curl_easy_setopt(e, CURLOPT_USERNAME, ak);
        curl_easy_setopt(e, CURLOPT_PASSWORD, sk);
    }

    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    int rc = 1, tries = 0, status;
    long code = 0;
    uint64_t limit = t0 + (uint64_t)(timeout * 1e9), t1 = 0;
    while (now_ns() < limit) {
        tries++;
        CURLcode res = curl_easy_perform(e);
        code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        if (res == CURLE_OK && code >= 200 && code < 300) {
            t1 = now_ns();
            rc = 0;
            break;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "coldstart: server exited before serving (status %d)\n", status);
            pid = 0;
            break;
        }
        usleep(200);
    }
    if (pid > 0)
        stop_child(pid);
    if (rc == 0) {
        printf("coldstart %.2f ms to the first served request (%d attempts)\n",
               (double)(t1 - t0) / 1e6, tries);
        printf("RESULT label=coldstart op=coldstart ms=%.3f attempts=%d\n",
               (double)(t1 - t0) / 1e6, tries);
    } else {
        fprintf(stderr, "coldstart: no 2xx answer within %.1f s (last HTTP %ld)\n", timeout, code);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    return rc;
}
