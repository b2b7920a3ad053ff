/* large.c -- the event side of the large-store benchmark (bench/large.py).
 *
 *   bench-large gen -n TIPS [-k KEYS] -o FILE CORPUS.jsonl
 *     writes TIPS signed tips, synthetic variations of the corpus lines
 *     (variant v of line i: the line's title with " (v)" and its body with a
 *     variant note; the corpus topics), signed by KEYS keys (default 300),
 *     created over the 52 weeks before now, plus ratings (one per 5 tips)
 *     and thanks (one per 20, a third with a story) by other keys on earlier
 *     tips, as base64 lines in FILE (not timed against anything).
 *   bench-large verify [-n N] FILE
 *     raw crypto_sign_verify_detached over the first N events of FILE
 *     (decoded first, not timed): the reference rate of one core.
 *   bench-large submit -a SOCKET FILE
 *     sends FILE to a tipd API socket in `submit`s of 1024 events,
 *     CONTRACT_SUBMIT_INFLIGHT of them in flight (as tip import does), and
 *     prints the import rate (acknowledged = committed).
 *   bench-large commit -b BATCH [-n N] [-w 0] -s SKIP DIR FILE
 *     commits N events of FILE after its first SKIP lines into the store in
 *     DIR (a copy of a stopped tipd's data) in transactions of BATCH, as the
 *     daemon's writer does, and prints the store's cost per event; the
 *     first batch is untimed, on a mapping entered ahead (-w 0: neither)
 *     (large_commit.c).
 *   bench-large unfigure DIR
 *     makes a stopped tipd's store a schema-3 one (large_v3.c), to time the
 *     build of the stats figures at the next start.
 *   bench-large unindex DIR
 *     makes a stopped tipd's search index look written by index version 1
 *     (large_v3.c), to time its rebuild at the next start.
 * Each mode prints one line of "key value" pairs for the driver.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "api.h"
#include "event.h"

#define S_BATCH  1024
#define S_WINDOW CONTRACT_SUBMIT_INFLIGHT
#define S_WEEKS  52

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Event text from a corpus line: control characters out, cut to bounds. */
static size_t s_clean(const char *src, size_t cap, char *dst, int title)
{
    size_t n = strlen(src), o = 0;
    if (n > cap) {
        n = cap;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\r') continue;
        if (c < 0x20 || c == 0x7f) c = (title || (c != '\n' && c != '\t')) ? ' ' : c;
        dst[o++] = (char)c;
    }
    dst[o] = 0;
    return o;
}

typedef struct {
    char *title, *body;
    char topics[EVENT_MAX_TOPICS][EVENT_MAX_TOPIC_LEN + 1];
    int ntopics;
} s_line_t;

static s_line_t *s_corpus(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench-large: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    s_line_t *v = NULL;
    size_t cap = 0;
    *n = 0;
    char *line = NULL, buf[EVENT_MAX_BODY + 1];
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "title"));
        const char *b = json_string_value(json_object_get(j, "body"));
        if (t && *t) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 1024;
                v = realloc(v, cap * sizeof(*v));
            }
            s_line_t *e = &v[(*n)++];
            memset(e, 0, sizeof(*e));
            s_clean(t, EVENT_MAX_TITLE - 12, buf, 1);
            e->title = strdup(buf);
            s_clean(b ? b : "", EVENT_MAX_BODY - 64, buf, 0);
            e->body = strdup(buf);
            size_t i;
            json_t *tp;
            json_array_foreach(json_object_get(j, "topics"), i, tp)
            {
                const char *s = json_string_value(tp);
                if (s && e->ntopics < EVENT_MAX_TOPICS && strlen(s) <= EVENT_MAX_TOPIC_LEN)
                    snprintf(e->topics[e->ntopics++], EVENT_MAX_TOPIC_LEN + 1, "%s", s);
            }
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return v;
}

static void s_write(FILE *out, const event_t *ev, const uint8_t sk[64], event_t *tmp)
{
    (void)tmp;
    event_t *e = (event_t *)ev;
    if (event_sign(e, sk) != 0) return;
    static uint8_t raw[EVENT_MAX_SIZE];
    static char b64[EVENT_MAX_SIZE / 3 * 4 + 8];
    size_t len;
    if (event_encode(e, raw, sizeof raw, &len) != 0) return;
    b64_encode(raw, len, b64);
    fputs(b64, out);
    fputc('\n', out);
}

static int s_gen(size_t n, int nkeys, const char *outpath, const char *corpus)
{
    size_t nl;
    s_line_t *lines = s_corpus(corpus, &nl);
    if (!lines || !nl) return 1;
    FILE *out = fopen(outpath, "w");
    if (!out) {
        fprintf(stderr, "bench-large: %s: %s\n", outpath, strerror(errno));
        return 1;
    }
    uint8_t(*sk)[64] = malloc((size_t)nkeys * 64), pk[32];
    for (int k = 0; k < nkeys; k++) {
        uint8_t seed[32] = {0};
        memcpy(seed, &k, sizeof k);
        seed[31] = 0x5a;
        crypto_sign_seed_keypair(pk, sk[k], seed);
    }
    uint8_t(*ids)[EVENT_ID_LEN] = malloc(n * EVENT_ID_LEN);
    int *owner = malloc(n * sizeof(int));
    event_t *ev = malloc(sizeof(*ev));
    uint64_t now = event_now_ms() - 60000, span = (uint64_t)S_WEEKS * 7 * 86400000ULL;
    uint64_t step = span / (n ? n : 1);
    size_t ratings = 0, thanks = 0;
    uint64_t x = 88172645463325252ULL;
    double t0 = s_now();
    char title[EVENT_MAX_TITLE + 1], body[EVENT_MAX_BODY + 1];
    for (size_t i = 0; i < n; i++) {
        const s_line_t *l = &lines[i % nl];
        size_t v = i / nl;
        uint64_t t = now - span + i * step;
        int k = (int)(i % (size_t)nkeys);
        event_init(ev, EVENT_TIP);
        ev->created_at = t;
        int tn = v ? snprintf(title, sizeof title, "%s (%zu)", l->title, v)
                   : snprintf(title, sizeof title, "%s", l->title);
        int bn = v ? snprintf(body, sizeof body, "%s\n\nVariant %zu of this tip.", l->body, v)
                   : snprintf(body, sizeof body, "%s", l->body);
        event_set_title(ev, title, (size_t)tn);
        event_set_body(ev, body, (size_t)bn);
        for (int j = 0; j < l->ntopics; j++) event_add_topic(ev, l->topics[j]);
        s_write(out, ev, sk[k], NULL);
        memcpy(ids[i], ev->id, EVENT_ID_LEN);
        owner[i] = k;
        /* every 5th tip brings a rating, every 20th a thanks, of an earlier tip */
        for (int a = 0; a < 2; a++) {
            if (a == 0 ? i % 5 != 4 : i % 20 != 19) continue;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t target = (size_t)(x % (i + 1));
            int rater = (owner[target] + 1 + (int)(x >> 40) % (nkeys - 1)) % nkeys;
            event_init(ev, a == 0 ? EVENT_RATING : EVENT_THANKS);
            ev->created_at = t + 1 + (uint64_t)a;
            event_add_ref(ev, EVENT_REF_TARGET, ids[target]);
            if (a == 0) {
                ev->value = (uint8_t)(1 + (x >> 20) % 5);
                ratings++;
            } else {
                if ((x >> 30) % 3 == 0) event_set_body(ev, "this saved me an afternoon", 26);
                thanks++;
            }
            s_write(out, ev, sk[rater], NULL);
        }
    }
    fclose(out);
    printf("gen tips %zu ratings %zu thanks %zu keys %d seconds %.1f\n", n, ratings, thanks, nkeys,
           s_now() - t0);
    free(ev);
    free(ids);
    free(owner);
    free(sk);
    return 0;
}

static int s_verify(size_t n, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    uint8_t(*sig)[EVENT_SIG_LEN] = malloc(n * EVENT_SIG_LEN);
    uint8_t(*id)[EVENT_ID_LEN] = malloc(n * EVENT_ID_LEN);
    uint8_t(*au)[EVENT_KEY_LEN] = malloc(n * EVENT_KEY_LEN);
    event_t *ev = malloc(sizeof(*ev));
    uint8_t *raw = malloc(EVENT_MAX_SIZE);
    char *line = NULL;
    size_t lcap = 0, k = 0;
    ssize_t r;
    while (k < n && (r = getline(&line, &lcap, f)) > 1) {
        long len = b64_decode(line, (size_t)r - 1, raw, EVENT_MAX_SIZE);
        if (len <= 0 || event_decode(raw, (size_t)len, ev) != 0) continue;
        memcpy(sig[k], ev->sig, EVENT_SIG_LEN);
        memcpy(id[k], ev->id, EVENT_ID_LEN);
        memcpy(au[k++], ev->author, EVENT_KEY_LEN);
    }
    fclose(f);
    double best = 0, best_cpu = 0;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = s_now(), c0 = s_cpu();
        for (size_t i = 0; i < k; i++)
            if (crypto_sign_verify_detached(sig[i], id[i], EVENT_ID_LEN, au[i])) return 1;
        double w = (double)k / (s_now() - t0), c = (double)k / (s_cpu() - c0);
        if (w > best) best = w;
        if (c > best_cpu) best_cpu = c;
    }
    printf("verify n %zu wall_per_s %.0f cpu_per_s %.0f\n", k, best, best_cpu);
    free(line);
    free(sig);
    free(id);
    free(au);
    free(ev);
    free(raw);
    return 0;
}

static int s_submit(const char *sock, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    char ep[512];
    snprintf(ep, sizeof ep, "ipc://%s", sock);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) != 0) return 1;
    size_t counts[3] = {0}, sent = 0, inflight = 0, errors = 0;
    char *line = NULL;
    size_t lcap = 0;
    int eof = 0;
    double t0 = s_now();
    while (!eof || inflight) {
        while (!eof && inflight < S_WINDOW) {
            json_t *evs = json_array();
            ssize_t r;
            while (json_array_size(evs) < S_BATCH && (r = getline(&line, &lcap, f)) > 1) {
                line[r - 1] = 0;
                json_array_append_new(evs, json_string(line));
            }
            if (json_array_size(evs) < S_BATCH) eof = 1;
            if (!json_array_size(evs)) {
                json_decref(evs);
                break;
            }
            sent += json_array_size(evs);
            json_t *req = json_pack("{s:s, s:o}", "op", "submit", "events", evs);
            char *body = json_dumps(req, JSON_COMPACT);
            json_decref(req);
            zmq_send(s, "", 0, ZMQ_SNDMORE);
            zmq_send(s, body, strlen(body), 0);
            free(body);
            inflight++;
        }
        if (!inflight) break;
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, s, 0); /* delimiter */
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        zmq_msg_recv(&m, s, 0);
        json_t *rep = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, NULL);
        zmq_msg_close(&m);
        inflight--;
        json_t *res = json_object_get(rep, "results");
        if (!json_is_true(json_object_get(rep, "ok"))) errors++;
        size_t i;
        json_t *o;
        json_array_foreach(res, i, o)
        {
            const char *st = json_string_value(json_object_get(o, "status"));
            counts[st && !strcmp(st, "new") ? 0 : st && !strcmp(st, "duplicate") ? 1 : 2]++;
        }
        json_decref(rep);
    }
    double w = s_now() - t0;
    printf("submit sent %zu new %zu duplicate %zu rejected %zu errors %zu seconds %.1f "
           "per_s %.0f\n",
           sent, counts[0], counts[1], counts[2], errors, w, (double)counts[0] / w);
    free(line);
    fclose(f);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

int large_unfigure(const char *dir); /* large_v3.c */
int large_unindex(const char *dir);  /* large_v3.c */
int large_commit(const char *dir, const char *path, size_t skip, size_t n, size_t batch,
                 int warm); /* large_commit.c */

int main(int argc, char **argv)
{
    if (sodium_init() < 0 || argc < 2) goto usage;
    const char *mode = argv[1], *out = NULL, *sock = NULL;
    size_t n = 20000, batch = 0, skip = 0;
    int keys = 300, warm = 1, c;
    optind = 2;
    while ((c = getopt(argc, argv, "n:k:o:a:b:s:w:")) != -1) {
        if (c == 'n')
            n = strtoull(optarg, NULL, 10);
        else if (c == 'b')
            batch = strtoull(optarg, NULL, 10);
        else if (c == 's')
            skip = strtoull(optarg, NULL, 10);
        else if (c == 'k')
            keys = atoi(optarg);
        else if (c == 'o')
            out = optarg;
        else if (c == 'a')
            sock = optarg;
        else if (c == 'w')
            warm = atoi(optarg) != 0;
        else
            goto usage;
    }
    if (optind >= argc) goto usage;
    if (!strcmp(mode, "gen") && out && keys > 1) return s_gen(n, keys, out, argv[optind]);
    if (!strcmp(mode, "verify")) return s_verify(n, argv[optind]);
    if (!strcmp(mode, "submit") && sock) return s_submit(sock, argv[optind]);
    if (!strcmp(mode, "unfigure")) return large_unfigure(argv[optind]);
    if (!strcmp(mode, "unindex")) return large_unindex(argv[optind]);
    if (!strcmp(mode, "commit") && batch && optind + 1 < argc)
        return large_commit(argv[optind], argv[optind + 1], skip, n, batch, warm);
usage:
    fprintf(stderr, "usage: bench-large gen -n TIPS [-k KEYS] -o FILE CORPUS.jsonl\n"
                    "       bench-large verify [-n N] FILE\n"
                    "       bench-large submit -a SOCKET FILE\n"
                    "       bench-large commit -b BATCH [-n N] [-w 0] -s SKIP DIR FILE\n"
                    "       bench-large unfigure DIR\n"
                    "       bench-large unindex DIR\n");
    return 2;
}
