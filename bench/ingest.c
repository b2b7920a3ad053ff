/* ingest.c -- ingest throughput next to the raw Ed25519 verify rate.
 *
 * The target (docs/PERFORMANCE.md): ingest (decode + verify + store) at >= 80% of
 * what libsodium's crypto_sign_verify_detached alone manages on the same
 * core. So in one run this benchmark
 *   1. builds N signed tip events (default 20000) from a JSON Lines corpus
 *      (title, body, topics; shared/corpus format), cycling through it, or
 *      synthetic text if none is given, signed by 16 authors, and keeps their
 *      signed bytes in memory (not timed);
 *   2. times raw crypto_sign_verify_detached over the same (sig, id, author)
 *      triples, twice (before and after the store run) and keeps the faster,
 *      so machine noise works against the ratio rather than for it;
 *   3. times event_decode + event_verify alone (the core's share of ingest);
 *   4. times store_ingest in batches of B (default 1024) into a fresh store
 *      in a temporary directory with the default options (fsync on), and
 *      checks every event came back STORE_NEW;
 *   5. the same into another fresh store, pipelined: a second thread decodes
 *      and verifies batch k+1 while the main thread commits batch k with
 *      STORE_INGEST_VERIFIED -- the shape the daemon uses (verification on
 *      a worker thread, daemon/ingest/ingest.c), measured here so the
 *      choice rests on numbers;
 * then prints a table with events/s and the ratios. CPU columns are the
 * process's CPU time (both threads in step 5). For step 5 it also prints
 * each thread's own CPU rate: on two idle cores a pipeline runs at the pace
 * of its slower thread, which gives a projection when the machine has no
 * idle core to measure it on (it is labelled as such).
 *
 * Usage: bench-ingest [-n N] [-b BATCH] [-d DIR] [CORPUS.jsonl]
 *   -d DIR puts the temporary store under DIR (default $TMPDIR or /var/tmp,
 *   which is disk-backed on Debian: fsync should mean something).
 * Build it without sanitizers (a Release build dir) for meaningful numbers.
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "store.h"

#define S_AUTHORS 16

typedef struct {
    uint8_t **raw;
    size_t *len;
    size_t n;
    size_t bytes;
    uint8_t (*id)[EVENT_ID_LEN];
    uint8_t (*sig)[EVENT_SIG_LEN];
    uint8_t (*author)[EVENT_KEY_LEN];
} s_set_t;

/* Wall-clock and process CPU seconds. On a shared machine the CPU
 * figure shows what the code costs; the wall figure what a user gets. */
typedef struct {
    double wall, cpu;
} s_tm_t;

static double s_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static s_tm_t s_start(void)
{
    s_tm_t t = {s_clock(CLOCK_MONOTONIC), s_clock(CLOCK_PROCESS_CPUTIME_ID)};
    return t;
}

static s_tm_t s_since(s_tm_t t0)
{
    s_tm_t t = s_start();
    t.wall -= t0.wall;
    t.cpu -= t0.cpu;
    return t;
}

/* Longest prefix of s[0..n) that is at most cap bytes and ends on a UTF-8
 * character boundary. */
static size_t s_utf8_cut(const char *s, size_t n, size_t cap)
{
    if (n <= cap) return n;
    size_t k = cap;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80) k--;
    return k;
}

/* Copy text into dst dropping CR and (for a title) turning other controls
 * into spaces, so corpus lines become valid event text. Returns length. */
static size_t s_clean(const char *src, size_t n, char *dst, int title)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\r') continue;
        if (c < 0x20 || c == 0x7f) {
            if (title || (c != '\n' && c != '\t')) c = ' ';
        }
        dst[o++] = (char)c;
    }
    return o;
}

/* Fill ev (a tip) from one corpus line; -1 if the line is unusable. buf is
 * scratch of at least EVENT_MAX_BODY bytes. Text is cut to its bound on a
 * character boundary before cleaning, so buf never overflows. */
static int s_from_json(event_t *ev, const char *line, char *buf)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j) return -1;
    const char *title = json_string_value(json_object_get(j, "title"));
    const char *body = json_string_value(json_object_get(j, "body"));
    int rc = -1;
    if (title && *title) {
        size_t tn = s_clean(title, s_utf8_cut(title, strlen(title), EVENT_MAX_TITLE), buf, 1);
        if (event_set_title(ev, buf, tn) == 0) {
            size_t bn = body ? s_utf8_cut(body, strlen(body), EVENT_MAX_BODY) : 0;
            bn = body ? s_clean(body, bn, buf, 0) : 0;
            if (event_set_body(ev, buf, bn) == 0) rc = 0;
        }
    }
    json_t *topics = json_object_get(j, "topics");
    size_t i;
    json_t *t;
    json_array_foreach(topics, i, t)
    {
        const char *s = json_string_value(t);
        if (s) (void)event_add_topic(ev, s); /* unusable topics are skipped */
    }
    json_decref(j);
    return rc;
}

/* Synthetic tip number i: a title and a 300..1500-byte body of words. */
static void s_synthetic(event_t *ev, size_t i)
{
    static const char *const words[] = {"git",   "rebase", "commit", "branch", "docker", "network",
                                        "quick", "undo",   "staged", "remote", "config", "fix"};
    char title[96], body[1600];
    int tn =
        snprintf(title, sizeof title, "Tip %zu: %s the %s", i, words[i % 12], words[(i / 12) % 12]);
    size_t want = 300 + (i * 7919) % 1200, bn = 0;
    for (size_t w = i; bn + 10 < want; w = w * 31 + 7) {
        const char *s = words[w % 12];
        size_t l = strlen(s);
        memcpy(body + bn, s, l);
        bn += l;
        body[bn++] = (w % 9 == 0) ? '\n' : ' ';
    }
    event_set_title(ev, title, (size_t)tn);
    event_set_body(ev, body, bn);
    event_add_topic(ev, words[i % 12]);
}

/* Build n signed tips; corpus may be NULL. */
static int s_build(s_set_t *set, size_t n, const char *corpus)
{
    char **lines = NULL;
    size_t nlines = 0, cap = 0;
    if (corpus) {
        FILE *f = fopen(corpus, "r");
        if (!f) {
            fprintf(stderr, "bench-ingest: cannot open %s: %s\n", corpus, strerror(errno));
            return -1;
        }
        char *line = NULL;
        size_t lcap = 0;
        ssize_t r;
        while ((r = getline(&line, &lcap, f)) > 0) {
            if (nlines == cap) {
                cap = cap ? cap * 2 : 1024;
                lines = realloc(lines, cap * sizeof *lines);
                if (!lines) return -1;
            }
            lines[nlines++] = strdup(line);
        }
        free(line);
        fclose(f);
        if (nlines == 0) {
            fprintf(stderr, "bench-ingest: %s is empty\n", corpus);
            return -1;
        }
    }

    uint8_t sk[S_AUTHORS][64], pk[32];
    for (int a = 0; a < S_AUTHORS; a++) {
        uint8_t seed[32];
        memset(seed, a + 1, sizeof seed);
        crypto_sign_seed_keypair(pk, sk[a], seed);
    }
    set->raw = calloc(n, sizeof *set->raw);
    set->len = calloc(n, sizeof *set->len);
    set->id = calloc(n, sizeof *set->id);
    set->sig = calloc(n, sizeof *set->sig);
    set->author = calloc(n, sizeof *set->author);
    event_t *ev = malloc(sizeof *ev);
    uint8_t *buf = malloc(EVENT_MAX_SIZE);
    if (!set->raw || !set->len || !set->id || !set->sig || !set->author || !ev || !buf) return -1;
    uint64_t t0 = event_now_ms() - (uint64_t)n * 1000; /* one tip a second, up to now */
    size_t li = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        event_init(ev, EVENT_TIP);
        ev->created_at = t0 + (uint64_t)i * 1000;
        if (nlines) {
            /* Cycle through the corpus; skip unusable lines, but give up on
             * a corpus with none at all. */
            size_t tries = 0;
            while (s_from_json(ev, lines[li], (char *)buf) != 0) {
                event_init(ev, EVENT_TIP);
                ev->created_at = t0 + (uint64_t)i * 1000;
                li = (li + 1) % nlines;
                skipped++;
                if (++tries > nlines) {
                    fprintf(stderr, "bench-ingest: no usable tip in %s\n", corpus);
                    return -1;
                }
            }
            li = (li + 1) % nlines;
        } else {
            s_synthetic(ev, i);
        }
        size_t len;
        if (event_sign(ev, sk[i % S_AUTHORS]) || event_encode(ev, buf, EVENT_MAX_SIZE, &len)) {
            fprintf(stderr, "bench-ingest: cannot build event %zu\n", i);
            return -1;
        }
        set->raw[i] = malloc(len);
        if (!set->raw[i]) return -1;
        memcpy(set->raw[i], buf, len);
        set->len[i] = len;
        set->bytes += len;
        memcpy(set->id[i], ev->id, EVENT_ID_LEN);
        memcpy(set->sig[i], ev->sig, EVENT_SIG_LEN);
        memcpy(set->author[i], ev->author, EVENT_KEY_LEN);
    }
    set->n = n;
    free(ev);
    free(buf);
    for (size_t i = 0; i < nlines; i++) free(lines[i]);
    free(lines);
    sodium_memzero(sk, sizeof sk);
    if (skipped) fprintf(stderr, "bench-ingest: skipped %zu unusable corpus lines\n", skipped);
    return 0;
}

/* Time raw verification of every event; -1 if one fails. */
static int s_time_raw_verify(const s_set_t *set, s_tm_t *out)
{
    s_tm_t t = s_start();
    for (size_t i = 0; i < set->n; i++)
        if (crypto_sign_verify_detached(set->sig[i], set->id[i], EVENT_ID_LEN, set->author[i]))
            return -1;
    *out = s_since(t);
    return 0;
}

/* Time decode + verify (no store); -1 on any failure. */
static int s_time_decode_verify(const s_set_t *set, s_tm_t *out)
{
    event_t *ev = malloc(sizeof *ev);
    if (!ev) return -1;
    s_tm_t t = s_start();
    for (size_t i = 0; i < set->n; i++) {
        if (event_decode(set->raw[i], set->len[i], ev) || event_verify(ev)) {
            free(ev);
            return -1;
        }
    }
    *out = s_since(t);
    free(ev);
    return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The verifier thread of the pipelined run and what it shares with the
 * committing thread: batches [0, ready) are verified. */
typedef struct {
    const s_set_t *set;
    size_t batch;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t ready;
    int failed;
    double cpu; /* the verifier thread's CPU seconds */
} s_pipe_t;

static void *s_verifier(void *arg)
{
    s_pipe_t *p = arg;
    double c0 = s_clock(CLOCK_THREAD_CPUTIME_ID);
    event_t *ev = malloc(sizeof *ev);
    size_t nb = (p->set->n + p->batch - 1) / p->batch;
    for (size_t b = 0; b < nb; b++) {
        size_t hi = (b + 1) * p->batch < p->set->n ? (b + 1) * p->batch : p->set->n;
        int bad = !ev;
        for (size_t i = b * p->batch; i < hi && !bad; i++)
            bad = event_decode(p->set->raw[i], p->set->len[i], ev) || event_verify(ev);
        pthread_mutex_lock(&p->mu);
        if (bad)
            p->failed = 1;
        else
            p->ready = b + 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (bad) break;
    }
    free(ev);
    p->cpu = s_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

/* Wait until batch b is verified; 0, or -1 if the verifier failed. */
static int s_wait_batch(s_pipe_t *p, size_t b)
{
    pthread_mutex_lock(&p->mu);
    while (p->ready <= b && !p->failed) pthread_cond_wait(&p->cv, &p->mu);
    int rc = p->ready > b ? 0 : -1;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Time store_ingest of everything, in batches, into a fresh store under
 * base; -1 on failure. *open_s gets the wall time of store_new. With
 * pipelined, a second thread verifies ahead and the commits skip it;
 * thread_cpu[0] and [1] get the committing and verifying threads' CPU
 * seconds. */
static int s_time_ingest(const s_set_t *set, size_t batch, const char *base, int pipelined,
                         s_tm_t *out, double *open_s, double thread_cpu[2])
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench-ingest-XXXXXX", base);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench-ingest: cannot create a directory in %s: %s\n", base,
                strerror(errno));
        return -1;
    }
    s_tm_t t = s_start();
    int err = 0;
    store_opts_t opts = {0}; /* defaults: fsync on */
    store_t *st = store_new(dir, &opts, &err);
    *open_s = s_since(t).wall;
    if (!st) {
        fprintf(stderr, "bench-ingest: store_new: %s\n", store_strerror(err));
        nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    store_result_t *res = calloc(batch, sizeof *res);
    int ret = -1;
    size_t fresh = 0;
    s_pipe_t pipe = {.set = set, .batch = batch};
    pthread_t tid;
    pthread_mutex_init(&pipe.mu, NULL);
    pthread_cond_init(&pipe.cv, NULL);
    if (res) {
        t = s_start();
        double c0 = s_clock(CLOCK_THREAD_CPUTIME_ID);
        uint64_t now = event_now_ms();
        int ok = 1;
        if (pipelined && pthread_create(&tid, NULL, s_verifier, &pipe) != 0) ok = 0, pipelined = 0;
        for (size_t i = 0; i < set->n && ok; i += batch) {
            size_t k = set->n - i < batch ? set->n - i : batch;
            if (pipelined && s_wait_batch(&pipe, i / batch)) {
                fprintf(stderr, "bench-ingest: verifier thread failed\n");
                ok = 0;
                break;
            }
            int rc = store_ingest(st, (const uint8_t *const *)set->raw + i, set->len + i, k, now,
                                  pipelined ? STORE_INGEST_VERIFIED : 0, res);
            if (rc) {
                fprintf(stderr, "bench-ingest: store_ingest: %s (%s)\n", store_strerror(rc),
                        store_last_error(st));
                ok = 0;
            }
            for (size_t j = 0; j < k && ok; j++) fresh += res[j].status == STORE_NEW;
        }
        *out = s_since(t);
        thread_cpu[0] = s_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (pipelined) pthread_join(tid, NULL);
        thread_cpu[1] = pipe.cpu;
        if (ok && fresh == set->n)
            ret = 0;
        else if (ok)
            fprintf(stderr, "bench-ingest: only %zu of %zu events stored as new\n", fresh, set->n);
    }
    pthread_mutex_destroy(&pipe.mu);
    pthread_cond_destroy(&pipe.cv);
    free(res);
    store_destroy(&st);
    nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    return ret;
}

static void s_usage(void)
{
    fprintf(stderr, "usage: bench-ingest [-n N] [-b BATCH] [-d DIR] [CORPUS.jsonl]\n");
}

int main(int argc, char **argv)
{
    size_t n = 20000, batch = 1024;
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/var/tmp";
    int opt;
    while ((opt = getopt(argc, argv, "n:b:d:h")) != -1) {
        switch (opt) {
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            batch = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            base = optarg;
            break;
        default:
            s_usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n == 0 || batch == 0 || optind + 1 < argc) {
        s_usage();
        return 2;
    }
    const char *corpus = optind < argc ? argv[optind] : NULL;
    if (sodium_init() < 0) return 1;

    s_set_t set = {0};
    if (s_build(&set, n, corpus)) return 1;
    s_tm_t raw1, raw2, dv, ing, pip;
    double open_s = 0, open2_s = 0, tc1[2] = {0, 0}, tc2[2] = {0, 0};
    if (s_time_raw_verify(&set, &raw1) || s_time_decode_verify(&set, &dv) ||
        s_time_ingest(&set, batch, base, 0, &ing, &open_s, tc1) ||
        s_time_ingest(&set, batch, base, 1, &pip, &open2_s, tc2) ||
        s_time_raw_verify(&set, &raw2)) {
        fprintf(stderr, "bench-ingest: a run failed\n");
        return 1;
    }
    s_tm_t raw = raw1.wall < raw2.wall ? raw1 : raw2;
    double dn = (double)n;

    printf("bench-ingest: %zu tips from %s, %.0f bytes average, batches of %zu, store in %s\n", n,
           corpus ? corpus : "synthetic text", (double)set.bytes / dn, batch, base);
    printf("%-44s %10s %8s %10s %8s\n", "what", "wall ev/s", "vs raw", "CPU ev/s", "vs raw");
    const struct {
        const char *what;
        s_tm_t t;
    } rows[] = {
        {"raw crypto_sign_verify_detached (best of 2)", raw},
        {"event_decode + event_verify", dv},
        {"store_ingest (verify + store, fsync on)", ing},
        {"pipelined: verify thread + store_ingest", pip},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        printf("%-44s %10.0f %7.1f%% %10.0f %7.1f%%\n", rows[r].what, dn / rows[r].t.wall,
               100.0 * raw.wall / rows[r].t.wall, dn / rows[r].t.cpu,
               100.0 * raw.cpu / rows[r].t.cpu);
    /* On two idle cores the pipeline runs at the pace of its slower thread. */
    double slow = tc2[0] > tc2[1] ? tc2[0] : tc2[1];
    printf("pipelined threads (CPU): committing %.0f ev/s, verifying %.0f ev/s; on two idle "
           "cores that projects to %.0f ev/s = %.1f%% of raw (a projection, not a wall "
           "measurement)\n",
           dn / tc2[0], dn / tc2[1], dn / slow, 100.0 * raw.cpu / slow);
    printf("raw verify runs: %.0f/s and %.0f/s (wall); store open %.1f ms\n", dn / raw1.wall,
           dn / raw2.wall, open_s * 1000);
    printf("target: ingest >= 80%% of raw one-core verify (wall): store_ingest %s, pipelined %s\n",
           raw.wall / ing.wall >= 0.8 ? "met" : "NOT met",
           raw.wall / pip.wall >= 0.8 ? "met" : "NOT met");

    for (size_t i = 0; i < set.n; i++) free(set.raw[i]);
    free(set.raw);
    free(set.len);
    free(set.id);
    free(set.sig);
    free(set.author);
    return 0;
}
