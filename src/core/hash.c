#include "core/hash.h"

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 fetched once: EVP_sha256() and the one-shot HMAC() make OpenSSL 3 look the
 * algorithm up in its provider store on every call (EVP_MAC_fetch alone was ~4 % of the
 * server's CPU on GET 4 KiB, where SigV4 does 6 HMACs and 1 SHA-256 per request). */
static EVP_MD *g_sha256;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_once(void)
{
    if (!(g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
        abort();
}

static const EVP_MD *md_sha256(void)
{
    pthread_once(&g_once, fetch_once);
    return g_sha256;
}

void sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!EVP_Digest(p, n, out, &len, md_sha256(), NULL))
        abort();
}

void md5(const void *p, size_t n, uint8_t out[16])
{
    unsigned len = 16;
    if (!EVP_Digest(p, n, out, &len, EVP_md5(), NULL))
        abort();
}

/* HMAC (RFC 2104) over the prefetched SHA-256: H((K ^ opad) || H((K ^ ipad) || m)). */
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
    uint8_t k0[64] = {0}, pad[64], inner[32];
    unsigned len = 32;
    if (klen > sizeof k0)
        sha256(key, klen, k0);
    else if (klen)
        memcpy(k0, key, klen);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        abort();
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x36;
    if (!EVP_DigestInit_ex(c, md_sha256(), NULL) || !EVP_DigestUpdate(c, pad, 64) ||
        (mlen && !EVP_DigestUpdate(c, msg, mlen)) || !EVP_DigestFinal_ex(c, inner, &len))
        abort();
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x5c;
    if (!EVP_DigestInit_ex(c, md_sha256(), NULL) || !EVP_DigestUpdate(c, pad, 64) ||
        !EVP_DigestUpdate(c, inner, 32) || !EVP_DigestFinal_ex(c, out, &len))
        abort();
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
}

/* A digest pipeline: the owner queues references to bytes, (pointer, length) in order, and
 * a thread hashes them. Bytes given by copy (digest_update) go through ring blocks, allocated
 * on first use, each queued as a reference when full; a block is refilled only once the
 * thread is past it. Marks count the bytes queued so far: the thread's `hashed` reaching a
 * mark frees what was queued up to it.
 * The queue is single-producer single-consumer and lock-free: the owner publishes `tail`,
 * the thread `head` and `hashed`. The mutex and condition variables serve only to sleep and
 * wake, which is what costs here (a futex wake is an inter-processor interrupt, a VM exit on
 * a virtual machine): the thread sleeps only when the queue is empty and is woken for a batch
 * (DIGEST_PIPE_WAKE bytes), or when the owner waits for it or ends; the owner sleeps only when
 * it must wait for a mark and is woken once `hashed` reaches it. The flags each side reads
 * before sleeping (idle, want) and the counters are seq_cst, so of the two sides' "store my
 * flag or counter, then load the other's" at least one sees the other. */
#define DIGEST_PIPE_WAKE ((uint64_t)256 * 1024)
struct digest_ref {
    const uint8_t *p;
    size_t n;
};
struct digest_pipe {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct digest_ref q[DIGEST_PIPE_REFS];
    uint64_t qmark[DIGEST_PIPE_REFS]; /* each entry's mark (owner only) */
    _Atomic uint64_t tail;            /* entries queued (owner) */
    _Atomic uint64_t head;            /* entries hashed (thread) */
    _Atomic uint64_t hashed;          /* bytes hashed (thread) */
    _Atomic uint64_t want;            /* the owner sleeps until hashed >= want; 0: not */
    _Atomic bool idle;                /* the thread sleeps for work (set under mu) */
    bool stop;                        /* under mu */
    uint64_t queued;                  /* bytes queued (owner only) */
    /* copy mode, owner only */
    uint8_t *blk[DIGEST_PIPE_BLOCKS];
    uint64_t blk_mark[DIGEST_PIPE_BLOCKS]; /* mark of the block's last queueing */
    unsigned cur;                          /* the block being filled */
    size_t fill;                           /* bytes in blk[cur] */
};

static atomic_int n_pipes;

static void *pipe_main(void *arg)
{
    digest_t *d = arg;
    struct digest_pipe *dp = d->pipe;
    for (;;) {
        uint64_t h = atomic_load_explicit(&dp->head, memory_order_relaxed);
        if (h == atomic_load(&dp->tail)) {
            bool stop;
            pthread_mutex_lock(&dp->mu);
            atomic_store(&dp->idle, true);
            while (h == atomic_load(&dp->tail) && !dp->stop)
                pthread_cond_wait(&dp->work, &dp->mu);
            atomic_store(&dp->idle, false);
            stop = dp->stop && h == atomic_load(&dp->tail);
            pthread_mutex_unlock(&dp->mu);
            if (stop)
                break;
            continue;
        }
        struct digest_ref r = dp->q[h % DIGEST_PIPE_REFS];
        if (!EVP_DigestUpdate(d->ctx, r.p, r.n))
            abort();
        /* head before hashed: once the owner sees an entry's mark reached, it also sees the
         * entry's slot free (else it could count the queue one short of full) */
        uint64_t done = atomic_load_explicit(&dp->hashed, memory_order_relaxed) + r.n;
        atomic_store(&dp->head, h + 1);
        atomic_store(&dp->hashed, done);
        uint64_t w = atomic_load(&dp->want);
        if (w && done >= w && atomic_compare_exchange_strong(&dp->want, &w, 0)) {
            pthread_mutex_lock(&dp->mu); /* once per wait: the owner sleeps or rechecks */
            pthread_cond_signal(&dp->done);
            pthread_mutex_unlock(&dp->mu);
        }
    }
    return NULL;
}

/* Wakes the thread if it sleeps and a batch is waiting for it. */
static void pipe_kick(struct digest_pipe *dp)
{
    if (!atomic_load(&dp->idle) || dp->queued - atomic_load(&dp->hashed) < DIGEST_PIPE_WAKE)
        return;
    pthread_mutex_lock(&dp->mu);
    pthread_cond_signal(&dp->work);
    pthread_mutex_unlock(&dp->mu);
}

static void pipe_wait(struct digest_pipe *dp, uint64_t mark)
{
    if (atomic_load(&dp->hashed) >= mark)
        return;
    pthread_mutex_lock(&dp->mu);
    for (;;) {
        atomic_store(&dp->want, mark); /* the thread clears it when it wakes us */
        if (atomic_load(&dp->hashed) >= mark)
            break;
        if (atomic_load(&dp->idle)) /* it was left to gather a batch */
            pthread_cond_signal(&dp->work);
        pthread_cond_wait(&dp->done, &dp->mu);
    }
    atomic_store(&dp->want, 0);
    pthread_mutex_unlock(&dp->mu);
}

/* Queues p[0..n) (n > 0), waiting while the queue is full; returns its mark. */
static uint64_t pipe_queue(struct digest_pipe *dp, const void *p, size_t n)
{
    uint64_t t = atomic_load_explicit(&dp->tail, memory_order_relaxed);
    while (t - atomic_load(&dp->head) >= DIGEST_PIPE_REFS) /* full: until the oldest is hashed */
        pipe_wait(dp, dp->qmark[t % DIGEST_PIPE_REFS]);
    dp->queued += n;
    dp->q[t % DIGEST_PIPE_REFS] = (struct digest_ref){p, n};
    dp->qmark[t % DIGEST_PIPE_REFS] = dp->queued;
    atomic_store(&dp->tail, t + 1);
    pipe_kick(dp);
    return dp->queued;
}

/* Queues the block being filled; the next one becomes current. */
static void pipe_push_block(struct digest_pipe *dp)
{
    dp->blk_mark[dp->cur] = pipe_queue(dp, dp->blk[dp->cur], dp->fill);
    dp->cur = (dp->cur + 1) % DIGEST_PIPE_BLOCKS;
    dp->fill = 0;
}

/* Frees the pipeline's blocks and state (its thread is joined or never started); d is an
 * ordinary digest again. */
static void pipe_free(digest_t *d)
{
    struct digest_pipe *dp = d->pipe;
    for (int i = 0; i < DIGEST_PIPE_BLOCKS; i++)
        free(dp->blk[i]);
    pthread_mutex_destroy(&dp->mu);
    pthread_cond_destroy(&dp->work);
    pthread_cond_destroy(&dp->done);
    free(dp);
    d->pipe = NULL;
    atomic_fetch_sub(&n_pipes, 1);
}

/* Hashes what is queued and what is left, and ends the pipeline (the thread is joined, so
 * its updates of the context are visible); d is an ordinary digest again. */
static void pipe_end(digest_t *d)
{
    struct digest_pipe *dp = d->pipe;
    if (dp->fill)
        pipe_push_block(dp);
    pthread_mutex_lock(&dp->mu);
    dp->stop = true;
    pthread_cond_signal(&dp->work);
    pthread_mutex_unlock(&dp->mu);
    pthread_join(dp->th, NULL);
    pipe_free(d);
}

bool digest_pipeline(digest_t *d)
{
    if (d->pipe || !d->ctx)
        return d->pipe != NULL;
    if (atomic_fetch_add(&n_pipes, 1) >= DIGEST_PIPE_MAX) {
        atomic_fetch_sub(&n_pipes, 1);
        return false;
    }
    struct digest_pipe *dp = calloc(1, sizeof *dp);
    if (!dp)
        abort();
    pthread_mutex_init(&dp->mu, NULL);
    pthread_cond_init(&dp->work, NULL);
    pthread_cond_init(&dp->done, NULL);
    d->pipe = dp;
    if (pthread_create(&dp->th, NULL, pipe_main, d) != 0) {
        pipe_free(d);
        return false;
    }
    return true;
}

bool digest_is_pipeline(const digest_t *d)
{
    return d->pipe != NULL;
}

uint64_t digest_update_ref(digest_t *d, const void *p, size_t n)
{
    struct digest_pipe *dp = d->pipe;
    if (!dp) {
        if (n && !EVP_DigestUpdate(d->ctx, p, n))
            abort();
        return 0;
    }
    if (!n)
        return dp->queued; /* the owner's own writes: no lock needed to read it */
    if (dp->fill) /* copied bytes given before go first */
        pipe_push_block(dp);
    return pipe_queue(dp, p, n);
}

bool digest_reached(const digest_t *d, uint64_t mark)
{
    return !d->pipe || atomic_load(&((struct digest_pipe *)d->pipe)->hashed) >= mark;
}

void digest_wait(digest_t *d, uint64_t mark)
{
    if (d->pipe)
        pipe_wait(d->pipe, mark);
}

static void digest_init(digest_t *d, const EVP_MD *md)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, md, NULL))
        abort();
    d->ctx = c;
    d->pipe = NULL;
}

void digest_init_md5(digest_t *d)
{
    digest_init(d, EVP_md5());
}

void digest_init_sha256(digest_t *d)
{
    digest_init(d, md_sha256());
}

void digest_init_sha1(digest_t *d)
{
    digest_init(d, EVP_sha1());
}

void digest_update(digest_t *d, const void *p, size_t n)
{
    struct digest_pipe *dp = d->pipe;
    if (!dp) {
        if (n && !EVP_DigestUpdate(d->ctx, p, n))
            abort();
        return;
    }
    const uint8_t *b = p;
    while (n) {
        if (dp->fill == 0) { /* starting a block: the thread must be past its last use */
            if (!dp->blk[dp->cur] && !(dp->blk[dp->cur] = malloc(DIGEST_PIPE_BLOCK)))
                abort();
            pipe_wait(dp, dp->blk_mark[dp->cur]);
        }
        size_t take = DIGEST_PIPE_BLOCK - dp->fill;
        if (take > n)
            take = n;
        memcpy(dp->blk[dp->cur] + dp->fill, b, take);
        dp->fill += take;
        b += take;
        n -= take;
        if (dp->fill == DIGEST_PIPE_BLOCK)
            pipe_push_block(dp);
    }
}

unsigned digest_final(digest_t *d, uint8_t *out)
{
    unsigned len = 0;
    if (d->pipe)
        pipe_end(d);
    if (!EVP_DigestFinal_ex(d->ctx, out, &len))
        abort();
    digest_free(d);
    return len;
}

void digest_free(digest_t *d)
{
    if (d->pipe)
        pipe_end(d); /* abandoned: what is queued still gets hashed */
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
    /* ISA-L's crc32_iscsi takes and returns the non-inverted register, and an int length:
     * feed it at most 1 GiB at a time so large buffers are not truncated. */
    const unsigned char *b = p;
    uint32_t r = ~crc;
    while (n > 0) {
        size_t k = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        r = crc32_iscsi((unsigned char *)b, (int)k, r);
        b += k;
        n -= k;
    }
    return ~r;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int hv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(sv_t in, uint8_t *out, size_t outlen)
{
    if (in.len != 2 * outlen)
        return -1;
    for (size_t i = 0; i < outlen; i++) {
        int h = hv(in.p[2 * i]), l = hv(in.p[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long base64_decode(sv_t in, uint8_t *out, size_t outcap)
{
    if (in.len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in.p[i + k];
            if (c == '=' && i + 4 == in.len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad) {
                return -1;
            } else if ((v[k] = b64v(c)) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if (o + (size_t)(3 - pad) > outcap)
            return -1;
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    return (long)o;
}

bool ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* Small requests (request ids, file ids, nonces: every request asks for some) are served from
 * a per-thread buffer of CSPRNG output, refilled 512 bytes at a time: RAND_bytes costs a
 * lock and a DRBG call each time (~5 % of the server's CPU on GET 4 KiB). Served bytes are
 * wiped from the buffer. The server never forks (a child would share the buffer). */
#define RBUF 512
static _Thread_local uint8_t rbuf[RBUF];
static _Thread_local size_t rpos = RBUF;

void random_bytes(void *p, size_t n)
{
    if (n > RBUF / 8) {
        if (RAND_bytes(p, (int)n) != 1)
            abort();
        return;
    }
    if (RBUF - rpos < n) {
        if (RAND_bytes(rbuf, RBUF) != 1)
            abort();
        rpos = 0;
    }
    memcpy(p, rbuf + rpos, n);
    OPENSSL_cleanse(rbuf + rpos, n);
    rpos += n;
}
