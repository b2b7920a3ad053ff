/* search.c -- search latency and quality: tipd's index next to SQLite FTS5.
 *
 * Loads a JSON Lines corpus (title, body, topics, source; the format of
 * shared/corpus/ *.jsonl files) into a fresh tipd store in a temporary directory
 * (events signed with a throwaway key, ingested with STORE_INGEST_VERIFIED
 * so loading is quick) and into an in-memory SQLite FTS5 table (tokenize =
 * 'porter unicode61', ranked by bm25 with the title weighted 10x the body
 * and topics 5x). Then it runs a query set (bench/queries/ *.tsv: expected
 * page, TAB, query) against both and prints p50/p99 latency, hit@10 and
 * MRR@10 side by side. A hit is any tip whose `source` is the expected page.
 *
 * FTS5 gets the query's words as an OR query (each word quoted): its default
 * AND finds nothing for most natural-language questions, which would make the
 * comparison meaningless. With --fts-only, tipd's side is the bare index
 * (fts_search in a private LMDB environment, no store, no visibility
 * callback), which separates index cost from store cost.
 *
 * Usage: bench-search [--corpus FILE] [--queries FILE] [--reps N]
 *                     [--fts-only] [--verbose] [--limit N]
 * Build without sanitizers (Release) for meaningful numbers.
 */
#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SQLITE3
#include <sqlite3.h>
#endif

#include "event.h"
#include "fts.h"
#include "store.h"

#define S_DEFAULT_CORPUS "/work/shared/corpus/tldr-tips-en.jsonl"
#define S_TOPK           10

typedef struct {
    uint8_t id[EVENT_ID_LEN];
    uint32_t doc;
} s_idx_t;

typedef struct {
    char **source; /* per doc */
    char **title;  /* per doc, for --verbose */
    size_t ndocs;
    s_idx_t *ids; /* sorted by id */
    char **qtext, **qwant;
    size_t nq;
} s_bench_t;

static double s_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Longest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t s_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

static int s_cmp_idx(const void *a, const void *b)
{
    return memcmp(((const s_idx_t *)a)->id, ((const s_idx_t *)b)->id, EVENT_ID_LEN);
}

static long s_doc_of(const s_bench_t *b, const uint8_t *id)
{
    s_idx_t key;
    memcpy(key.id, id, EVENT_ID_LEN);
    s_idx_t *r = bsearch(&key, b->ids, b->ndocs, sizeof key, s_cmp_idx);
    return r ? (long)r->doc : -1;
}

/* Read the query set: "expected<TAB>query" lines; '#' comments. */
static int s_load_queries(s_bench_t *b, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "bench-search: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    size_t cap = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = 0;
        if (b->nq == cap) {
            cap = cap ? cap * 2 : 256;
            b->qtext = realloc(b->qtext, cap * sizeof *b->qtext);
            b->qwant = realloc(b->qwant, cap * sizeof *b->qwant);
            if (!b->qtext || !b->qwant) abort();
        }
        char want[1100];
        snprintf(want, sizeof want, "tldr-pages/pages/%s.md", line);
        b->qwant[b->nq] = strdup(want);
        b->qtext[b->nq] = strdup(tab + 1);
        b->nq++;
    }
    fclose(fp);
    return 0;
}

typedef struct {
    const char *title, *body;
    const char *topics[EVENT_MAX_TOPICS + 1];
} s_row_t;

/* Build and sign one tip from a corpus line; fields that break the event
 * format (over-long, bad topic characters) are trimmed or dropped, as
 * `tip import` would. */
static int s_make_event(const s_row_t *r, uint64_t ts, const uint8_t *sk, uint8_t *out, size_t *len)
{
    static event_t ev; /* 17 KiB: keep it off the stack */
    event_init(&ev, EVENT_TIP);
    ev.created_at = ts;
    if (event_set_title(&ev, r->title, s_utf8_cut(r->title, strlen(r->title), EVENT_MAX_TITLE)))
        return -1;
    if (event_set_body(&ev, r->body, s_utf8_cut(r->body, strlen(r->body), EVENT_MAX_BODY)))
        return -1;
    for (int i = 0; r->topics[i]; i++) (void)event_add_topic(&ev, r->topics[i]);
    if (event_sign(&ev, sk)) return -1;
    return event_encode(&ev, out, EVENT_MAX_SIZE, len);
}

/* ---- tipd side: the store, or the bare index with --fts-only ---- */

typedef struct {
    bool fts_only;
    double add_us;        /* time spent adding (store_ingest or fts_index + commit) */
    size_t visible_calls; /* --fts-only: visibility callbacks made */
    store_t *store;
    MDB_env *env;
    fts_t *fts;
    char dir[64];
} s_tipd_t;

static int s_tipd_open(s_tipd_t *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/bench-search-XXXXXX");
    if (!mkdtemp(t->dir)) return -1;
    if (!t->fts_only) {
        store_opts_t o = {.no_sync = 1, .map_size = (size_t)1 << 30};
        int err = 0;
        t->store = store_new(t->dir, &o, &err);
        if (!t->store) {
            fprintf(stderr, "bench-search: store_new: %s\n", store_strerror(err));
            return -1;
        }
        return 0;
    }
    MDB_txn *txn;
    if (mdb_env_create(&t->env) || mdb_env_set_maxdbs(t->env, 16) ||
        mdb_env_set_mapsize(t->env, (size_t)1 << 30) ||
        mdb_env_open(t->env, t->dir, MDB_NOSYNC, 0600) || mdb_txn_begin(t->env, NULL, 0, &txn))
        return -1;
    if (fts_open(txn, &t->fts) || mdb_txn_commit(txn)) return -1;
    return 0;
}

/* Add a batch of signed events. */
static int s_tipd_add_timed(s_tipd_t *t, uint8_t **raw, size_t *lens, size_t n);

static int s_tipd_add(s_tipd_t *t, uint8_t **raw, size_t *lens, size_t n, s_idx_t *ids,
                      uint32_t first_doc)
{
    static event_t ev;
    for (size_t i = 0; i < n; i++) {
        if (event_decode(raw[i], lens[i], &ev)) return -1;
        memcpy(ids[i].id, ev.id, EVENT_ID_LEN);
        ids[i].doc = first_doc + (uint32_t)i;
    }
    double a = s_cpu_us();
    int rc = s_tipd_add_timed(t, raw, lens, n);
    t->add_us += s_cpu_us() - a;
    return rc;
}

/* The timed part of adding: ingest (already verified) or index + commit. */
static int s_tipd_add_timed(s_tipd_t *t, uint8_t **raw, size_t *lens, size_t n)
{
    static event_t ev;
    if (!t->fts_only) {
        store_result_t *res = calloc(n, sizeof *res);
        int rc = store_ingest(t->store, (const uint8_t *const *)raw, lens, n, event_now_ms(),
                              STORE_INGEST_VERIFIED, res);
        for (size_t i = 0; i < n && rc == 0; i++)
            if (res[i].status == STORE_REJECTED) {
                fprintf(stderr, "bench-search: rejected: %d\n", res[i].reason);
                rc = -1;
            }
        free(res);
        return rc;
    }
    MDB_txn *txn;
    if (mdb_txn_begin(t->env, NULL, 0, &txn)) return -1;
    for (size_t i = 0; i < n; i++) {
        if (event_decode(raw[i], lens[i], &ev) || fts_index(t->fts, txn, &ev)) {
            fts_discard(t->fts);
            mdb_txn_abort(txn);
            return -1;
        }
    }
    if (fts_flush(t->fts, txn)) {
        mdb_txn_abort(txn);
        return -1;
    }
    return mdb_txn_commit(txn) ? -1 : 0;
}

/* --fts-only visibility: everything is visible; counts the calls. */
static int s_visible_all(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], double *prior, void *arg)
{
    (*(size_t *)arg)++;
    *prior = 1.0;
    return 0;
}

static int s_tipd_search(s_tipd_t *t, const char *q, store_hit_t *hits, size_t *n)
{
    if (!t->fts_only) return store_search(t->store, q, NULL, hits, S_TOPK, n);
    MDB_txn *txn;
    if (mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn)) return -1;
    int rc = fts_search(t->fts, txn, q, NULL, s_visible_all, &t->visible_calls, hits, S_TOPK, n);
    mdb_txn_abort(txn);
    return rc;
}

static void s_rmtree(const char *dir)
{
    char p[128];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    /* the store may keep other small files (keys, markers) */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench-search: could not remove %s\n", dir);
}

static void s_tipd_close(s_tipd_t *t)
{
    store_destroy(&t->store);
    fts_destroy(&t->fts);
    if (t->env) mdb_env_close(t->env);
    s_rmtree(t->dir);
}

/* ---- SQLite FTS5 side ---- */

#ifdef HAVE_SQLITE3
typedef struct {
    sqlite3 *db;
    sqlite3_stmt *ins, *q;
} s_fts5_t;

static int s_fts5_open(s_fts5_t *s)
{
    if (sqlite3_open(":memory:", &s->db)) return -1;
    if (sqlite3_exec(s->db,
                     "CREATE VIRTUAL TABLE t USING fts5(title, body, topics,"
                     " tokenize='porter unicode61'); BEGIN",
                     NULL, NULL, NULL))
        return -1;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO t(rowid, title, body, topics) VALUES(?,?,?,?)", -1,
                           &s->ins, NULL))
        return -1;
    return 0;
}

static int s_fts5_add(s_fts5_t *s, long rowid, const s_row_t *r)
{
    char topics[EVENT_MAX_TOPICS * (EVENT_MAX_TOPIC_LEN + 1) + 1] = "";
    for (int i = 0; r->topics[i]; i++) {
        strncat(topics, r->topics[i], EVENT_MAX_TOPIC_LEN);
        strcat(topics, " ");
    }
    sqlite3_bind_int64(s->ins, 1, rowid);
    sqlite3_bind_text(s->ins, 2, r->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->ins, 3, r->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->ins, 4, topics, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->ins);
    sqlite3_reset(s->ins);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int s_fts5_ready(s_fts5_t *s)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) return -1;
    return sqlite3_prepare_v2(s->db,
                              "SELECT rowid FROM t WHERE t MATCH ?"
                              " ORDER BY bm25(t, 10.0, 1.0, 5.0) LIMIT 10",
                              -1, &s->q, NULL)
               ? -1
               : 0;
}

/* The three ways FTS5 is asked: the query's words OR-ed (the reference),
 * OR-ed without English stopwords, and FTS5's default (all words, AND). */
enum { S_F5_OR, S_F5_OR_NOSTOP, S_F5_AND, S_F5_MODES };
static const char *const s_f5_name[S_F5_MODES] = {"fts5", "fts5-nostop", "fts5-and"};

static bool s_f5_stop(const unsigned char *w, size_t n)
{
    static const char *const stop[] = {
        "a",     "an",   "and",  "are",   "as",     "at",    "be",    "by",    "can",   "do",
        "does",  "for",  "from", "how",   "i",      "in",    "into",  "is",    "it",    "its",
        "me",    "my",   "of",   "on",    "or",     "so",    "that",  "the",   "this",  "to",
        "via",   "want", "what", "which", "with",   "you",   "your",  "using", "we",    "when",
        "where", "who",  "will", "would", "should", "could", "there", "these", "those", "then",
    };
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        if (strlen(stop[i]) == n && strncasecmp(stop[i], (const char *)w, n) == 0) return true;
    return false;
}

/* Natural-language text -> FTS5 query of quoted words in the given mode. */
static void s_fts5_query(const char *in, int mode, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    const unsigned char *p = (const unsigned char *)in;
    const char *join = mode == S_F5_AND ? " " : " OR ";
    while (*p) {
        while (*p && *p < 0x80 &&
               !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            p++;
        if (!*p) break;
        const unsigned char *w = p;
        while (*p && (*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9')))
            p++;
        size_t wl = (size_t)(p - w);
        if (mode == S_F5_OR_NOSTOP && s_f5_stop(w, wl)) continue;
        if (o + wl + 8 >= cap) break;
        o += (size_t)snprintf(out + o, cap - o, "%s\"%.*s\"", o ? join : "", (int)wl, w);
    }
}

static int s_fts5_search(s_fts5_t *s, const char *match, long *rows, size_t *n)
{
    *n = 0;
    sqlite3_bind_text(s->q, 1, match, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s->q)) == SQLITE_ROW && *n < S_TOPK)
        rows[(*n)++] = (long)sqlite3_column_int64(s->q, 0);
    sqlite3_reset(s->q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static void s_fts5_close(s_fts5_t *s)
{
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->q);
    sqlite3_close(s->db);
}
#endif

/* ---- corpus ---- */

static int s_load_corpus(s_bench_t *b, const char *path, size_t limit, s_tipd_t *t, void *fts5)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "bench-search: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    enum { BATCH = 1000 };
    uint8_t *raw[BATCH];
    size_t lens[BATCH], nb = 0;
    for (int i = 0; i < BATCH; i++) raw[i] = malloc(EVENT_MAX_SIZE);
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    uint64_t ts = event_now_ms() - 3600 * 1000;
    int rc = 0;
    while (rc == 0 && (!limit || b->ndocs < limit) && getline(&line, &lcap, fp) > 0) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!o) continue;
        s_row_t r = {0};
        r.title = json_string_value(json_object_get(o, "title"));
        r.body = json_string_value(json_object_get(o, "body"));
        const char *src = json_string_value(json_object_get(o, "source"));
        json_t *tp = json_object_get(o, "topics");
        for (size_t i = 0, k = 0; i < json_array_size(tp) && k < EVENT_MAX_TOPICS; i++) {
            const char *s = json_string_value(json_array_get(tp, i));
            if (s) r.topics[k++] = s;
        }
        if (!r.title || !r.body) {
            json_decref(o);
            continue;
        }
        if (s_make_event(&r, ts++, sk, raw[nb], &lens[nb])) {
            json_decref(o);
            continue;
        }
        if (b->ndocs == cap) {
            cap = cap ? cap * 2 : 4096;
            b->source = realloc(b->source, cap * sizeof *b->source);
            b->title = realloc(b->title, cap * sizeof *b->title);
            b->ids = realloc(b->ids, cap * sizeof *b->ids);
            if (!b->source || !b->ids) abort();
        }
        b->source[b->ndocs] = strdup(src ? src : "");
        b->title[b->ndocs] = strdup(r.title);
#ifdef HAVE_SQLITE3
        if (s_fts5_add(fts5, (long)b->ndocs, &r)) rc = -1;
#endif
        b->ndocs++;
        nb++;
        json_decref(o);
        if (nb == BATCH) {
            rc = s_tipd_add(t, raw, lens, nb, b->ids + b->ndocs - nb, (uint32_t)(b->ndocs - nb));
            nb = 0;
        }
    }
    if (rc == 0 && nb)
        rc = s_tipd_add(t, raw, lens, nb, b->ids + b->ndocs - nb, (uint32_t)(b->ndocs - nb));
    for (int i = 0; i < BATCH; i++) free(raw[i]);
    free(line);
    fclose(fp);
    qsort(b->ids, b->ndocs, sizeof b->ids[0], s_cmp_idx);
    return rc;
}

/* ---- report ---- */

static int s_cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_pct(double *v, size_t n, double p)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, s_cmp_dbl);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

typedef struct {
    double hit[2], rr[2]; /* per subset: even lines, odd lines */
    size_t n[2];
} s_quality_t;

static void s_score(s_quality_t *qq, size_t qi, int rank)
{
    int set = (int)(qi & 1);
    qq->n[set]++;
    if (rank > 0 && rank <= S_TOPK) {
        qq->hit[set] += 1;
        qq->rr[set] += 1.0 / rank;
    }
}

static void s_print_quality(const char *name, const s_quality_t *q)
{
    double n = (double)(q->n[0] + q->n[1]);
    printf("%-12s hit@10 %5.3f  MRR@10 %5.3f   (even lines: %.3f / %.3f, odd lines: %.3f / "
           "%.3f)\n",
           name, (q->hit[0] + q->hit[1]) / n, (q->rr[0] + q->rr[1]) / n,
           q->hit[0] / (double)q->n[0], q->rr[0] / (double)q->n[0], q->hit[1] / (double)q->n[1],
           q->rr[1] / (double)q->n[1]);
}

int main(int argc, char **argv)
{
    const char *corpus = S_DEFAULT_CORPUS;
    char qdefault[1024];
    snprintf(qdefault, sizeof qdefault, "%s", __FILE__);
    char *slash = strrchr(qdefault, '/');
    if (slash)
        snprintf(slash + 1, sizeof qdefault - (size_t)(slash + 1 - qdefault),
                 "queries/tldr-en.tsv");
    else
        snprintf(qdefault, sizeof qdefault, "bench/queries/tldr-en.tsv");
    const char *queries = qdefault;
    int reps = 5, verbose = 0;
    size_t limit = 0;
    s_tipd_t tipd = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
            corpus = argv[++i];
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            queries = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--fts-only"))
            tipd.fts_only = true;
        else if (!strcmp(argv[i], "--verbose"))
            verbose++;
        else {
            fprintf(stderr, "usage: bench-search [--corpus FILE] [--queries FILE] [--reps N]"
                            " [--limit N] [--fts-only] [--verbose]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (sodium_init() < 0) return 1;
    s_bench_t b = {0};
    if (s_load_queries(&b, queries) || b.nq == 0) return 1;
    if (s_tipd_open(&tipd)) {
        fprintf(stderr, "bench-search: cannot open the tipd side in %s\n", tipd.dir);
        return 1;
    }
    void *fts5 = NULL;
#ifdef HAVE_SQLITE3
    s_fts5_t f5 = {0};
    if (s_fts5_open(&f5)) {
        fprintf(stderr, "bench-search: sqlite: %s\n", sqlite3_errmsg(f5.db));
        return 1;
    }
    fts5 = &f5;
#endif
    double t0 = s_now_us();
    if (s_load_corpus(&b, corpus, limit, &tipd, fts5)) {
        fprintf(stderr, "bench-search: loading %s failed\n", corpus);
        s_tipd_close(&tipd);
        return 1;
    }
#ifdef HAVE_SQLITE3
    if (s_fts5_ready(&f5)) {
        fprintf(stderr, "bench-search: sqlite: %s\n", sqlite3_errmsg(f5.db));
        return 1;
    }
#endif
    printf("corpus %s: %zu tips, loaded in %.1f s; %zu queries x %d reps; tipd side: %s\n", corpus,
           b.ndocs, (s_now_us() - t0) / 1e6, b.nq, reps,
           tipd.fts_only ? "bare index (--fts-only)" : "store_search");
    printf("tipd add: %.2f us CPU/tip (%s, decode included, no signature checks)\n",
           tipd.add_us / (double)b.ndocs,
           tipd.fts_only ? "fts_index + commit" : "store_ingest VERIFIED");

    double *lat_t = calloc(b.nq * (size_t)reps, sizeof(double));
    double *lat_f[S_F5_MODES];
    for (int m = 0; m < S_F5_MODES; m++) lat_f[m] = calloc(b.nq * (size_t)reps, sizeof(double));
    s_quality_t qt, qf[S_F5_MODES];
    memset(&qt, 0, sizeof qt);
    memset(qf, 0, sizeof qf);
    store_hit_t hits[S_TOPK];
    size_t nl = 0;
    int rc = 0;
    double cpu_t = 0, cpu_f[3] = {0, 0, 0};      /* summed thread CPU time, us */
    for (int r = -1; r < reps && rc == 0; r++) { /* r = -1: warm-up, scored */
        for (size_t qi = 0; qi < b.nq && rc == 0; qi++) {
            size_t n = 0;
            double a = s_now_us(), ac = s_cpu_us();
            if (s_tipd_search(&tipd, b.qtext[qi], hits, &n)) {
                fprintf(stderr, "bench-search: search failed: %s\n", b.qtext[qi]);
                rc = 1;
                break;
            }
            double d = s_now_us() - a;
            if (r >= 0) cpu_t += s_cpu_us() - ac;
            int rank_t = 0;
            if (r < 0) {
                for (size_t h = 0; h < n && !rank_t; h++) {
                    long doc = s_doc_of(&b, hits[h].id);
                    if (doc >= 0 && !strcmp(b.source[doc], b.qwant[qi])) rank_t = (int)h + 1;
                }
                s_score(&qt, qi, rank_t);
            } else {
                lat_t[nl] = d;
            }
#ifdef HAVE_SQLITE3
            char match[2048];
            long rows[S_TOPK];
            int rank_f[S_F5_MODES] = {0};
            for (int m = 0; m < S_F5_MODES && rc == 0; m++) {
                size_t fn = 0;
                s_fts5_query(b.qtext[qi], m, match, sizeof match);
                a = s_now_us();
                ac = s_cpu_us();
                if (match[0] && s_fts5_search(&f5, match, rows, &fn)) {
                    fprintf(stderr, "bench-search: fts5 failed: %s\n", match);
                    rc = 1;
                    break;
                }
                d = s_now_us() - a;
                if (r >= 0) cpu_f[m] += s_cpu_us() - ac;
                if (r < 0) {
                    for (size_t h = 0; h < fn && !rank_f[m]; h++)
                        if (!strcmp(b.source[rows[h]], b.qwant[qi])) rank_f[m] = (int)h + 1;
                    s_score(&qf[m], qi, rank_f[m]);
                } else {
                    lat_f[m][nl] = d;
                }
            }
            if (r < 0 && verbose) {
                printf("  tipd %2d  fts5 %2d  %-40s %s\n", rank_t, rank_f[0], b.qwant[qi] + 17,
                       b.qtext[qi]);
                for (size_t h = 0; verbose > 1 && rank_t != 1 && h < n && h < 3; h++) {
                    long doc = s_doc_of(&b, hits[h].id);
                    if (doc >= 0)
                        printf("      %6.2f %-28s %s\n", hits[h].score, b.source[doc] + 17,
                               b.title[doc]);
                }
            }
#endif
            if (r >= 0) nl++;
        }
    }
    if (rc == 0) {
        double tp50 = s_pct(lat_t, nl, 0.50), tp99 = s_pct(lat_t, nl, 0.99);
        printf("\n%-12s %10s %10s %10s\n", "latency", "p50 (us)", "p99 (us)", "CPU mean");
        printf("%-12s %10.1f %10.1f %10.1f\n", "tipd", tp50, tp99, cpu_t / (double)nl);
#ifdef HAVE_SQLITE3
        for (int m = 0; m < S_F5_MODES; m++) {
            double fp50 = s_pct(lat_f[m], nl, 0.50), fp99 = s_pct(lat_f[m], nl, 0.99);
            printf("%-12s %10.1f %10.1f %10.1f   tipd/this: p50 %.2f, p99 %.2f, CPU %.2f\n",
                   s_f5_name[m], fp50, fp99, cpu_f[m] / (double)nl, tp50 / fp50, tp99 / fp99,
                   cpu_t / cpu_f[m]);
        }
#endif
        if (tipd.fts_only)
            printf("visibility callbacks: %.1f per query\n",
                   (double)tipd.visible_calls / (double)(b.nq * (size_t)(reps + 1)));
        printf("\n");
        s_print_quality("tipd", &qt);
#ifdef HAVE_SQLITE3
        double n = (double)b.nq;
        for (int m = 0; m < S_F5_MODES; m++) {
            s_print_quality(s_f5_name[m], &qf[m]);
            printf("%-12s hit@10 %5.2f  MRR@10 %5.2f   (tipd / %s; > 1 is better)\n", "",
                   (qt.hit[0] + qt.hit[1]) / (qf[m].hit[0] + qf[m].hit[1]),
                   ((qt.rr[0] + qt.rr[1]) / n) / ((qf[m].rr[0] + qf[m].rr[1]) / n), s_f5_name[m]);
        }
#endif
    }
    free(lat_t);
    for (int m = 0; m < S_F5_MODES; m++) free(lat_f[m]);
#ifdef HAVE_SQLITE3
    s_fts5_close(&f5);
#endif
    s_tipd_close(&tipd);
    for (size_t i = 0; i < b.ndocs; i++) {
        free(b.source[i]);
        free(b.title[i]);
    }
    free(b.title);
    for (size_t i = 0; i < b.nq; i++) {
        free(b.qtext[i]);
        free(b.qwant[i]);
    }
    free(b.source);
    free(b.ids);
    free(b.qtext);
    free(b.qwant);
    return rc;
}
