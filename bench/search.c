/* search.c -- search latency and quality: tipd next to SQLite FTS5 and
 * Xapian, on clean queries and on the same queries with typos.
 *
 * Loads a JSON Lines corpus (title, body, topics, lang, source; the format
 * of the shared tldr corpora) into a fresh tipd store in a temporary
 * directory (events signed with a throwaway key, ingested with
 * STORE_INGEST_VERIFIED so loading is quick), into an in-memory SQLite FTS5
 * table and, through bench/search_xapian.py, into Xapian (search_ref.c has
 * the references). Then it runs a query set against all three and prints
 * p50/p99 latency, hit@10 and MRR@10 side by side. A hit is any tip whose
 * `source` is the expected one.
 *
 * Query sets: bench/queries/ *.tsv (expected page, TAB, query) or JSON Lines
 * ({"query", "expect"}, e.g. queries-dev-pages-en.jsonl). Quality is also
 * given per fold (query i is in fold i mod 5), so a change tuned on some
 * folds can be judged on the others. --typos adds a second pass over the
 * same queries with one deterministic edit in every word of >= 5 letters.
 * --lang-table makes one known-item query per page of a multilingual corpus
 * (its second example's description, command name removed) and prints
 * quality per language. --tune NAME=V1,V2;NAME2=... (with --fts-only) runs
 * every point of the grid and reports 5-fold cross-validated MRR@10: each
 * fold is scored with the point that was best on the other four.
 * --qword-cv ALPHA,GAMMA,CUT (with --fts-only) derives the question-word
 * table (store/fts_qword.c, bench/search_qword.c) from four folds and
 * scores the fifth, for each fold; --qword-dump FILE writes the table
 * derived from all the queries, as store/fts_qword_table.h holds it.
 *
 * With --fts-only, tipd's side is the bare index (fts_search in a private
 * LMDB environment, no store, no visibility callback), which separates index
 * cost from store cost and lets --set/--tune change ranking parameters.
 *
 * --repeat N loads the corpus N times (tipd only: FTS5 and Xapian are
 * skipped), to measure latency at scale (32k tips x 31 = 1M); copy v > 0
 * of a tip is a variant the way bench-large makes them (" (v)" in the
 * title, "Variant v of this tip." in the body), so the store holds many
 * near-identical tips and common words get posting lists of 10^5-10^6.
 *
 * Usage: bench-search [--corpus FILE] [--queries FILE] [--reps N] [--limit N]
 *                     [--typos] [--no-xapian] [--no-fts5] [--lang-table] [--fts-only]
 *                     [--repeat N]
 *                     [--set NAME=V]... [--tune GRID] [--slow N] [--ranks FILE]
 *                     [--qword-cv ALPHA,GAMMA,CUT [--qword-dump FILE]]
 *                     [--verbose]
 * Build without sanitizers (Release) for meaningful numbers.
 */
#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "fts.h"
#include "search_qword.h"
#include "search_ref.h"
#include "store.h"

#define S_DEFAULT_CORPUS "/work/shared/corpus/tldr-tips-en.jsonl"
#define S_TOPK           SREF_TOPK
#define S_FOLDS          5
#define S_PER_LANG       200 /* --lang-table: queries per language at most */

typedef struct {
    uint8_t id[EVENT_ID_LEN];
    uint32_t doc;
} s_idx_t;

typedef struct {
    char **source; /* per doc */
    char **title;  /* per doc, for --verbose */
    char **body;   /* per doc, for --fts-only feedback */
    size_t ndocs;
    s_idx_t *ids; /* sorted by id */
    sref_query_t *q;
    size_t nq, qcap;
    bool gen_lang; /* --lang-table: queries come from the corpus */
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

static void s_add_query(s_bench_t *b, const char *text, const char *want, const char *lang)
{
    if (b->nq == b->qcap) {
        b->qcap = b->qcap ? b->qcap * 2 : 256;
        b->q = realloc(b->q, b->qcap * sizeof *b->q);
        if (!b->q) abort();
    }
    b->q[b->nq].text = strdup(text);
    b->q[b->nq].want = strdup(want);
    b->q[b->nq].lang = strdup(lang);
    b->nq++;
}

/* Read the query set: JSON Lines {"query", "expect"} if the name ends in
 * .jsonl, else "page<TAB>query" lines ('#' comments). */
static int s_load_queries(s_bench_t *b, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "bench-search: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t pl = strlen(path);
    bool jsonl = pl > 6 && !strcmp(path + pl - 6, ".jsonl");
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, fp) > 0) {
        if (jsonl) {
            json_error_t err;
            json_t *o = json_loads(line, 0, &err);
            const char *qt = json_string_value(json_object_get(o, "query"));
            const char *want = json_string_value(json_object_get(o, "expect"));
            if (qt && want) s_add_query(b, qt, want, "en");
            json_decref(o);
            continue;
        }
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = 0;
        char want[1100];
        snprintf(want, sizeof want, "tldr-pages/pages/%s.md", line);
        s_add_query(b, tab + 1, want, "en");
    }
    free(line);
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
        store_opts_t o = {.no_sync = 1, .map_size = (size_t)16 << 30};
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
        mdb_env_set_mapsize(t->env, (size_t)16 << 30) ||
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
static int s_visible_all(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], unsigned hints,
                         double *prior, void *arg)
{
    (void)hints;
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

/* ---- corpus ---- */

/* --lang-table: one query per page (a deterministic quarter of the pages,
 * at most S_PER_LANG per language). */
static void s_gen_query(s_bench_t *b, const s_row_t *r, const char *lang, const char *src)
{
    uint32_t h = 2166136261u;
    for (const char *p = src; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    if (h % 4) return;
    size_t have = 0;
    for (size_t i = 0; i < b->nq; i++)
        if (!strcmp(b->q[i].lang, lang)) have++;
    if (have >= S_PER_LANG) return;
    char name[256], q[1024];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(r->title, ":"), r->title);
    if (sref_page_query(name, r->body, q, sizeof q) == 0) s_add_query(b, q, src, lang);
}

static int s_load_corpus(s_bench_t *b, const char *path, size_t limit, int repeat, s_tipd_t *t,
                         sref_fts5_t *fts5)
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
    /* --repeat: the corpus again and again (new timestamps, so new ids), for
     * scale; every copy of a page counts as that page. */
    for (int rep = 0; rep < repeat && rc == 0; rep++, rewind(fp))
        while (rc == 0 && (!limit || b->ndocs < limit) && getline(&line, &lcap, fp) > 0) {
            json_error_t err;
            json_t *o = json_loads(line, 0, &err);
            if (!o) continue;
            s_row_t r = {0};
            r.title = json_string_value(json_object_get(o, "title"));
            r.body = json_string_value(json_object_get(o, "body"));
            const char *src = json_string_value(json_object_get(o, "source"));
            const char *lang = json_string_value(json_object_get(o, "lang"));
            json_t *tp = json_object_get(o, "topics");
            for (size_t i = 0, k = 0; i < json_array_size(tp) && k < EVENT_MAX_TOPICS; i++) {
                const char *s = json_string_value(json_array_get(tp, i));
                if (s) r.topics[k++] = s;
            }
            /* Copies after the first are variants as bench-large makes them
             * (" (v)" in the title, a variant note in the body): many
             * near-identical tips, the worst case for long posting lists. */
            char *vt = NULL, *vb = NULL;
            if (rep > 0 && r.title && r.body &&
                (asprintf(&vt, "%s (%d)", r.title, rep) < 0 ||
                 asprintf(&vb, "%s\n\nVariant %d of this tip.", r.body, rep) < 0))
                abort();
            if (vt) {
                r.title = vt;
                r.body = vb;
            }
            int bad = !r.title || !r.body || s_make_event(&r, ts++, sk, raw[nb], &lens[nb]);
            if (bad) {
                free(vt);
                free(vb);
                json_decref(o);
                continue;
            }
            if (b->ndocs == cap) {
                cap = cap ? cap * 2 : 4096;
                b->source = realloc(b->source, cap * sizeof *b->source);
                b->title = realloc(b->title, cap * sizeof *b->title);
                b->body = realloc(b->body, cap * sizeof *b->body);
                b->ids = realloc(b->ids, cap * sizeof *b->ids);
                if (!b->source || !b->title || !b->body || !b->ids) abort();
            }
            b->source[b->ndocs] = strdup(src ? src : "");
            b->title[b->ndocs] = vt ? vt : strdup(r.title);
            b->body[b->ndocs] = vb ? vb : strdup(r.body);
            if (b->gen_lang && src && rep == 0) s_gen_query(b, &r, lang ? lang : "en", src);
            if (fts5 && sref_fts5_add(fts5, (long)b->ndocs, r.title, r.body, r.topics)) rc = -1;
            b->ndocs++;
            nb++;
            json_decref(o);
            if (nb == BATCH) {
                rc =
                    s_tipd_add(t, raw, lens, nb, b->ids + b->ndocs - nb, (uint32_t)(b->ndocs - nb));
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

/* --fts-only: the text of a tip for the index's feedback pass, from the
 * corpus in memory (the store side reads it from the store). */
static int s_text(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], event_t *ev, void *arg)
{
    const s_bench_t *b = arg;
    long doc = s_doc_of(b, id);
    if (doc < 0) return 1;
    event_init(ev, EVENT_TIP);
    const char *t = b->title[doc], *body = b->body[doc];
    if (event_set_title(ev, t, s_utf8_cut(t, strlen(t), EVENT_MAX_TITLE)) ||
        event_set_body(ev, body, s_utf8_cut(body, strlen(body), EVENT_MAX_BODY)))
        return 1;
    return 0;
}

/* ---- runs ---- */

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

/* The engines of a run: tipd, the FTS5 modes, Xapian. */
enum { S_E_TIPD, S_E_F5, S_E_XAPIAN = S_E_F5 + SREF_F5_MODES, S_ENGINES };

static const char *s_engine_name(int e)
{
    return e == S_E_TIPD ? "tipd" : e == S_E_XAPIAN ? "xapian" : sref_f5_name[e - S_E_F5];
}

/* One pass over a query set: per engine, the rank of each query's expected
 * page (0 = not in the top 10) and the timed latencies. */
typedef struct {
    const char *name;
    sref_query_t *q; /* queries of this pass (text may differ from the set's) */
    int *rank[S_ENGINES];
    double *lat[S_ENGINES];
    double *cpul[S_ENGINES]; /* thread CPU per timed query */
    double *qcpu;            /* tipd: largest thread CPU of each query over the reps */
    size_t nlat[S_ENGINES];
    double cpu[S_ENGINES];
    bool ran[S_ENGINES];
} s_pass_t;

static int s_rank_tipd(const s_bench_t *b, const store_hit_t *hits, size_t n, const char *want)
{
    for (size_t h = 0; h < n; h++) {
        long doc = s_doc_of(b, hits[h].id);
        if (doc >= 0 && !strcmp(b->source[doc], want)) return (int)h + 1;
    }
    return 0;
}

/* tipd's ranks only (one pass, not timed): for --tune. */
static int s_tipd_ranks(s_tipd_t *t, const s_bench_t *b, const sref_query_t *q, int *rank)
{
    store_hit_t hits[S_TOPK];
    for (size_t qi = 0; qi < b->nq; qi++) {
        size_t n = 0;
        if (s_tipd_search(t, q[qi].text, hits, &n)) return -1;
        rank[qi] = s_rank_tipd(b, hits, n, q[qi].want);
    }
    return 0;
}

static int s_run_pass(s_pass_t *p, s_tipd_t *t, sref_fts5_t *f5, const s_bench_t *b, int reps,
                      int verbose)
{
    store_hit_t hits[S_TOPK];
    long rows[S_TOPK];
    for (int e = 0; e < S_ENGINES; e++) {
        p->rank[e] = calloc(b->nq, sizeof(int));
        p->lat[e] = calloc(b->nq * (size_t)reps + 1, sizeof(double));
        p->cpul[e] = calloc(b->nq * (size_t)reps + 1, sizeof(double));
    }
    p->ran[S_E_TIPD] = true;
    p->qcpu = calloc(b->nq, sizeof *p->qcpu);
    for (int m = 0; m < SREF_F5_MODES; m++) p->ran[S_E_F5 + m] = f5 != NULL;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, scored */
        for (size_t qi = 0; qi < b->nq; qi++) {
            const char *qt = p->q[qi].text;
            size_t n = 0;
            double a = s_now_us(), ac = s_cpu_us();
            if (s_tipd_search(t, qt, hits, &n)) {
                fprintf(stderr, "bench-search: search failed: %s\n", qt);
                return -1;
            }
            double d = s_now_us() - a;
            if (r < 0) {
                p->rank[S_E_TIPD][qi] = s_rank_tipd(b, hits, n, p->q[qi].want);
            } else {
                double cu = s_cpu_us() - ac;
                p->cpu[S_E_TIPD] += cu;
                p->cpul[S_E_TIPD][p->nlat[S_E_TIPD]] = cu;
                if (cu > p->qcpu[qi]) p->qcpu[qi] = cu;
                p->lat[S_E_TIPD][p->nlat[S_E_TIPD]++] = d;
            }
            if (r < 0 && verbose)
                printf("  tipd %2d  %-40s %s\n", p->rank[S_E_TIPD][qi], p->q[qi].want, qt);
            for (size_t h = 0; r < 0 && verbose > 1 && p->rank[S_E_TIPD][qi] != 1 && h < n &&
                               h < (size_t)(verbose > 2 ? 10 : 3);
                 h++) {
                long doc = s_doc_of(b, hits[h].id);
                if (doc >= 0)
                    printf("      %6.2f %-40s %s\n", hits[h].score, b->source[doc], b->title[doc]);
            }
            for (int m = 0; f5 && m < SREF_F5_MODES; m++) {
                size_t fn = 0;
                a = s_now_us();
                ac = s_cpu_us();
                if (sref_fts5_search(f5, m, qt, rows, &fn)) {
                    fprintf(stderr, "bench-search: fts5 failed: %s\n", qt);
                    return -1;
                }
                d = s_now_us() - a;
                int e = S_E_F5 + m;
                if (r >= 0) {
                    double cu = s_cpu_us() - ac;
                    p->cpu[e] += cu;
                    p->cpul[e][p->nlat[e]] = cu;
                    p->lat[e][p->nlat[e]++] = d;
                    continue;
                }
                for (size_t h = 0; h < fn && !p->rank[e][qi]; h++)
                    if (!strcmp(b->source[rows[h]], p->q[qi].want)) p->rank[e][qi] = (int)h + 1;
            }
        }
    }
    return 0;
}

/* ---- report ---- */

typedef struct {
    double hit, rr;
    double fold_rr[S_FOLDS];
    size_t n, fold_n[S_FOLDS];
} s_quality_t;

static s_quality_t s_quality(const int *rank, size_t nq)
{
    s_quality_t q;
    memset(&q, 0, sizeof q);
    for (size_t i = 0; i < nq; i++) {
        double rr = rank[i] > 0 && rank[i] <= S_TOPK ? 1.0 / rank[i] : 0.0;
        q.n++;
        q.fold_n[i % S_FOLDS]++;
        q.hit += rr > 0;
        q.rr += rr;
        q.fold_rr[i % S_FOLDS] += rr;
    }
    return q;
}

/* --slow N: the N queries that took tipd the most thread CPU. */
static void s_print_slow(const s_pass_t *p, size_t nq, size_t slow)
{
    if (!slow || !p->qcpu) return;
    printf("slowest tipd queries (%s, largest CPU us over the reps):\n", p->name);
    bool *shown = calloc(nq, sizeof *shown);
    for (size_t r = 0; r < slow && r < nq; r++) {
        size_t w = 0;
        bool any = false;
        for (size_t i = 0; i < nq; i++)
            if (!shown[i] && (!any || p->qcpu[i] > p->qcpu[w])) {
                w = i;
                any = true;
            }
        shown[w] = true;
        printf("  %9.1f  %s\n", p->qcpu[w], p->q[w].text);
    }
    free(shown);
}

static void s_print_pass(const s_pass_t *p, size_t nq)
{
    printf("\n%s queries (%zu)\n", p->name, nq);
    printf("%-12s %7s %7s %9s %9s %9s %9s   MRR@10 per fold (query i in fold i mod 5)\n", "engine",
           "hit@10", "MRR@10", "p50 us", "p99 us", "CPU us", "CPU p99");
    for (int e = 0; e < S_ENGINES; e++) {
        if (!p->ran[e]) continue;
        s_quality_t q = s_quality(p->rank[e], nq);
        double *lat = p->lat[e];
        size_t nl = p->nlat[e];
        bool own = e != S_E_XAPIAN && nl > 0; /* Xapian's CPU is not measured here */
        printf("%-12s %7.3f %7.3f %9.1f %9.1f %9.1f %9.1f  ", s_engine_name(e), q.hit / (double)q.n,
               q.rr / (double)q.n, s_pct(lat, nl, 0.5), s_pct(lat, nl, 0.99),
               own ? p->cpu[e] / (double)nl : NAN, own ? s_pct(p->cpul[e], nl, 0.99) : NAN);
        for (int f = 0; f < S_FOLDS; f++)
            printf(" %.3f", q.fold_n[f] ? q.fold_rr[f] / (double)q.fold_n[f] : 0.0);
        printf("\n");
    }
}

/* --ranks FILE: per pass and query, the rank (0: not in the top 10) each
 * engine gave the expected tip, TAB-separated with the query, for looking
 * at where one engine wins over another. */
static void s_write_ranks(const char *path, const s_pass_t *p, int npass, size_t nq)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "bench-search: %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(fp, "pass\tquery#");
    for (int e = 0; e < S_ENGINES; e++)
        if (p[0].ran[e]) fprintf(fp, "\t%s", s_engine_name(e));
    fprintf(fp, "\texpect\tquery\n");
    for (int k = 0; k < npass; k++)
        for (size_t i = 0; i < nq; i++) {
            fprintf(fp, "%s\t%zu", p[k].name, i);
            for (int e = 0; e < S_ENGINES; e++)
                if (p[0].ran[e]) fprintf(fp, "\t%d", p[k].rank[e][i]);
            fprintf(fp, "\t%s\t%s\n", p[k].q[i].want, p[k].q[i].text);
        }
    fclose(fp);
}

/* Per-language MRR@10 and hit@10 of every engine (--lang-table). */
static void s_print_langs(const s_pass_t *p, const s_bench_t *b)
{
    printf("\nper language, %s queries: MRR@10 (hit@10)\n%-6s %5s", p->name, "lang", "n");
    for (int e = 0; e < S_ENGINES; e++)
        if (p->ran[e] && e != S_E_F5 + SREF_F5_AND) printf(" %17s", s_engine_name(e));
    printf("\n");
    char **langs = calloc(b->nq, sizeof *langs);
    size_t nl = 0;
    for (size_t i = 0; i < b->nq; i++) {
        size_t j = 0;
        while (j < nl && strcmp(langs[j], b->q[i].lang)) j++;
        if (j == nl) langs[nl++] = b->q[i].lang;
    }
    int *rk = calloc(b->nq, sizeof *rk);
    for (size_t l = 0; l < nl; l++) {
        size_t n = 0;
        for (size_t i = 0; i < b->nq; i++) n += !strcmp(b->q[i].lang, langs[l]);
        printf("%-6s %5zu", langs[l], n);
        for (int e = 0; e < S_ENGINES; e++) {
            if (!p->ran[e] || e == S_E_F5 + SREF_F5_AND) continue;
            size_t k = 0;
            for (size_t i = 0; i < b->nq; i++)
                if (!strcmp(b->q[i].lang, langs[l])) rk[k++] = p->rank[e][i];
            s_quality_t q = s_quality(rk, k);
            printf("     %5.3f (%5.3f)", q.rr / (double)q.n, q.hit / (double)q.n);
        }
        printf("\n");
    }
    free(rk);
    free(langs);
}

/* ---- --tune: grid search with 5-fold cross-validation ---- */

#define S_TUNE_MAXP 8
#define S_TUNE_MAXV 8
typedef struct {
    char name[32];
    double v[S_TUNE_MAXV];
    size_t nv;
} s_axis_t;

static int s_parse_grid(const char *spec, s_axis_t *ax, size_t *nax)
{
    *nax = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || *nax == S_TUNE_MAXP) return -1;
        *eq = 0;
        s_axis_t *a = &ax[(*nax)++];
        snprintf(a->name, sizeof a->name, "%s", tok);
        a->nv = 0;
        for (char *s2 = NULL, *v = strtok_r(eq + 1, ",", &s2); v; v = strtok_r(NULL, ",", &s2)) {
            if (a->nv == S_TUNE_MAXV) return -1;
            a->v[a->nv++] = atof(v);
        }
        if (a->nv == 0) return -1;
    }
    return *nax ? 0 : -1;
}

static int s_tune(s_tipd_t *t, const s_bench_t *b, const sref_query_t *q, const char *spec)
{
    s_axis_t ax[S_TUNE_MAXP];
    size_t nax;
    if (!t->fts || s_parse_grid(spec, ax, &nax)) {
        fprintf(stderr, "bench-search: --tune needs --fts-only and NAME=V,V;NAME=V,...\n");
        return -1;
    }
    size_t npts = 1;
    for (size_t i = 0; i < nax; i++) npts *= ax[i].nv;
    double *rr = calloc(npts * b->nq, sizeof *rr);
    int *rank = calloc(b->nq, sizeof *rank);
    printf("\n--tune: %zu points, clean queries\n", npts);
    for (size_t pt = 0; pt < npts; pt++) {
        size_t r = pt;
        printf("  ");
        for (size_t i = 0; i < nax; i++) {
            double v = ax[i].v[r % ax[i].nv];
            r /= ax[i].nv;
            if (fts_tune(t->fts, ax[i].name, v)) {
                fprintf(stderr, "bench-search: unknown parameter %s\n", ax[i].name);
                return -1;
            }
            printf("%s=%g ", ax[i].name, v);
        }
        if (s_tipd_ranks(t, b, q, rank)) return -1;
        double sum = 0;
        for (size_t i = 0; i < b->nq; i++) {
            rr[pt * b->nq + i] = rank[i] > 0 ? 1.0 / rank[i] : 0;
            sum += rr[pt * b->nq + i];
        }
        printf(" MRR@10 %.4f\n", sum / (double)b->nq);
    }
    double held = 0;
    for (int f = 0; f < S_FOLDS; f++) {
        size_t best = 0;
        double best_tr = -1;
        for (size_t pt = 0; pt < npts; pt++) {
            double tr = 0;
            for (size_t i = 0; i < b->nq; i++)
                if ((int)(i % S_FOLDS) != f) tr += rr[pt * b->nq + i];
            if (tr > best_tr) {
                best_tr = tr;
                best = pt;
            }
        }
        double te = 0;
        size_t n = 0;
        for (size_t i = (size_t)f; i < b->nq; i += S_FOLDS, n++) te += rr[best * b->nq + i];
        held += te;
        printf("  fold %d: point %zu chosen on the other folds, held-out MRR@10 %.4f\n", f, best,
               te / (double)n);
    }
    printf("  cross-validated MRR@10 (every query scored by a point not tuned on it): %.4f\n",
           held / (double)b->nq);
    free(rr);
    free(rank);
    return 0;
}

/* ---- --qword-cv: the question-word table, cross-validated ---- */

static int s_qword_load(fts_t *f, const sqw_t *v, long n)
{
    if (fts_qword_set(f, NULL, 0)) return -1;
    for (long i = 0; i < n; i++)
        if (fts_qword_set(f, v[i].word, v[i].w) == STORE_E_NOSPACE) return -1;
    return 0;
}

/* For each fold, derive the table from the other four and score the fold
 * (clean and with typos); with no table at all beside it. */
static int s_qword_cv(s_tipd_t *t, const s_bench_t *b, const char *spec, const char *dump)
{
    double alpha, gamma, cut;
    if (!t->fts || sscanf(spec, "%lf,%lf,%lf", &alpha, &gamma, &cut) != 3) {
        fprintf(stderr, "bench-search: --qword needs --fts-only and ALPHA,GAMMA,CUT\n");
        return -1;
    }
    sqw_pages_t pg = {b->title, b->body, b->source, b->ndocs};
    sqw_t *v = NULL;
    long n = sqw_derive(b->q, b->nq, -1, &pg, alpha, gamma, cut, &v);
    if (n < 0) return -1;
    if (dump) {
        FILE *fp = fopen(dump, "w");
        for (long i = 0; fp && i < n; i++) fprintf(fp, "{\"%s\", %.3ff},\n", v[i].word, v[i].w);
        if (fp) fclose(fp);
        printf("--qword-dump: %ld words (all queries) into %s\n", n, dump);
    }
    free(v);
    sref_query_t *ty = calloc(b->nq, sizeof *ty);
    int *rk[2][2]; /* [clean, typo][none, cv] */
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 2; c++) rk[a][c] = calloc(b->nq, sizeof(int));
    int *tmp = calloc(b->nq, sizeof(int));
    for (size_t i = 0; i < b->nq; i++) {
        char buf[2048];
        sref_typo(b->q[i].text, (uint32_t)i, buf, sizeof buf);
        ty[i] = b->q[i];
        ty[i].text = strdup(buf);
    }
    int rc = fts_qword_set(t->fts, NULL, 0);
    for (int a = 0; a < 2 && !rc; a++) rc = s_tipd_ranks(t, b, a ? ty : b->q, rk[a][0]);
    for (int f = 0; f < S_FOLDS && !rc; f++) {
        n = sqw_derive(b->q, b->nq, f, &pg, alpha, gamma, cut, &v);
        if (n < 0 || s_qword_load(t->fts, v, n)) rc = -1;
        free(v);
        v = NULL;
        printf("  fold %d: %ld question words from the other folds\n", f, n);
        for (int a = 0; a < 2 && !rc; a++) {
            rc = s_tipd_ranks(t, b, a ? ty : b->q, tmp);
            for (size_t i = f; i < b->nq; i += S_FOLDS) rk[a][1][i] = tmp[i];
        }
    }
    for (int a = 0; a < 2 && !rc; a++)
        for (int c = 0; c < 2; c++) {
            s_quality_t q = s_quality(rk[a][c], b->nq);
            printf("%-6s %-30s hit@10 %.3f MRR@10 %.4f  folds", a ? "typo" : "clean",
                   c ? "question words (held-out fold)" : "no question words", q.hit / (double)q.n,
                   q.rr / (double)q.n);
            for (int f = 0; f < S_FOLDS; f++) printf(" %.4f", q.fold_rr[f] / (double)q.fold_n[f]);
            printf("\n");
        }
    for (size_t i = 0; i < b->nq; i++) free(ty[i].text);
    free(ty);
    free(tmp);
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 2; c++) free(rk[a][c]);
    return rc;
}

static void s_usage(void)
{
    fprintf(stderr,
            "usage: bench-search [--corpus FILE] [--queries FILE] [--reps N] [--limit N]\n"
            "                    [--typos] [--no-xapian] [--no-fts5] [--lang-table] [--fts-only]\n"
            "                    [--repeat N] [--slow N]\n"
            "                    [--set NAME=V]... [--tune GRID] [--ranks FILE]\n"
            "                    [--qword-cv ALPHA,GAMMA,CUT [--qword-dump FILE]]\n"
            "                    [--verbose]\n");
}

int main(int argc, char **argv)
{
    const char *corpus = S_DEFAULT_CORPUS, *tune = NULL, *ranks = NULL, *qword = NULL,
               *qdump = NULL;
    char qdefault[1024], xscript[1024];
    snprintf(qdefault, sizeof qdefault, "%s", __FILE__);
    char *slash = strrchr(qdefault, '/');
    size_t dl = slash ? (size_t)(slash + 1 - qdefault) : 0;
    snprintf(xscript, sizeof xscript, "%.*ssearch_xapian.py", (int)dl, qdefault);
    snprintf(qdefault + dl, sizeof qdefault - dl, "queries/tldr-en.tsv");
    const char *queries = qdefault;
    const char *sets[16];
    int nsets = 0, reps = 5, verbose = 0;
    bool typos = false, xapian = true, fts5 = true;
    int repeat = 1;
    size_t limit = 0, slow = 0;
    s_tipd_t tipd = {0};
    s_bench_t b = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
            corpus = argv[++i];
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            queries = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc && nsets < 16)
            sets[nsets++] = argv[++i];
        else if (!strcmp(argv[i], "--tune") && i + 1 < argc)
            tune = argv[++i];
        else if (!strcmp(argv[i], "--ranks") && i + 1 < argc)
            ranks = argv[++i];
        else if (!strcmp(argv[i], "--qword-cv") && i + 1 < argc)
            qword = argv[++i];
        else if (!strcmp(argv[i], "--qword-dump") && i + 1 < argc)
            qdump = argv[++i];
        else if (!strcmp(argv[i], "--fts-only"))
            tipd.fts_only = true;
        else if (!strcmp(argv[i], "--typos"))
            typos = true;
        else if (!strcmp(argv[i], "--no-xapian"))
            xapian = false;
        else if (!strcmp(argv[i], "--no-fts5"))
            fts5 = false;
        else if (!strcmp(argv[i], "--lang-table"))
            b.gen_lang = true;
        else if (!strcmp(argv[i], "--slow") && i + 1 < argc)
            slow = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--verbose"))
            verbose++;
        else {
            s_usage();
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (repeat < 1) repeat = 1;
    if (repeat > 1) xapian = false; /* the references would take hours at that size */
    if (sodium_init() < 0) return 1;
    if (!b.gen_lang && (s_load_queries(&b, queries) || b.nq == 0)) return 1;
    if (s_tipd_open(&tipd)) {
        fprintf(stderr, "bench-search: cannot open the tipd side in %s\n", tipd.dir);
        return 1;
    }
    for (int i = 0; i < nsets; i++) {
        char name[64];
        double v;
        if (!tipd.fts || sscanf(sets[i], "%63[^=]=%lf", name, &v) != 2 ||
            fts_tune(tipd.fts, name, v)) {
            fprintf(stderr, "bench-search: --set %s: needs --fts-only and a known NAME=V\n",
                    sets[i]);
            s_tipd_close(&tipd);
            return 2;
        }
    }
    sref_fts5_t *f5 = tune || qword || repeat > 1 || !fts5 ? NULL : sref_fts5_new();
    double t0 = s_now_us();
    if (s_load_corpus(&b, corpus, limit, repeat, &tipd, f5) || (f5 && sref_fts5_ready(f5))) {
        fprintf(stderr, "bench-search: loading %s failed\n", corpus);
        s_tipd_close(&tipd);
        return 1;
    }
    if (tipd.fts) fts_set_text(tipd.fts, s_text, &b);
    printf("corpus %s: %zu tips, loaded in %.1f s; %zu queries%s x %d reps; tipd side: %s\n",
           corpus, b.ndocs, (s_now_us() - t0) / 1e6, b.nq,
           b.gen_lang ? " (one per page, made)" : "", reps,
           tipd.fts_only ? "bare index (--fts-only)" : "store_search");
    printf("tipd add: %.2f us CPU/tip (%s, decode included, no signature checks)\n",
           tipd.add_us / (double)b.ndocs,
           tipd.fts_only ? "fts_index + commit" : "store_ingest VERIFIED");
    int rc = 0;
    if (qword) {
        rc = s_qword_cv(&tipd, &b, qword, qdump) ? 1 : 0;
        s_tipd_close(&tipd);
        return rc;
    }
    if (tune) {
        rc = s_tune(&tipd, &b, b.q, tune) ? 1 : 0;
        s_tipd_close(&tipd);
        return rc;
    }

    /* Passes: clean, and with typos (same queries, one edit per long word). */
    s_pass_t pass[2];
    memset(pass, 0, sizeof pass);
    int npass = typos ? 2 : 1;
    pass[0].name = "clean";
    pass[0].q = b.q;
    if (typos) {
        pass[1].name = "typo";
        pass[1].q = calloc(b.nq, sizeof *pass[1].q);
        for (size_t i = 0; i < b.nq; i++) {
            char buf[2048];
            sref_typo(b.q[i].text, (uint32_t)i, buf, sizeof buf);
            pass[1].q[i] = b.q[i];
            pass[1].q[i].text = strdup(buf);
        }
    }
    for (int p = 0; p < npass && rc == 0; p++)
        rc = s_run_pass(&pass[p], &tipd, f5, &b, reps, verbose) ? 1 : 0;
    if (rc == 0 && xapian) {
        /* One Xapian run over every pass's queries. */
        size_t all = b.nq * (size_t)npass;
        sref_query_t *xq = calloc(all, sizeof *xq);
        int *xr = calloc(all, sizeof *xr);
        double *xl = calloc(all, sizeof *xl);
        for (int p = 0; p < npass; p++) memcpy(xq + (size_t)p * b.nq, pass[p].q, b.nq * sizeof *xq);
        if (sref_xapian(xscript, corpus, xq, all, xr, xl) == 0) {
            for (int p = 0; p < npass; p++) {
                memcpy(pass[p].rank[S_E_XAPIAN], xr + (size_t)p * b.nq, b.nq * sizeof *xr);
                memcpy(pass[p].lat[S_E_XAPIAN], xl + (size_t)p * b.nq, b.nq * sizeof *xl);
                pass[p].nlat[S_E_XAPIAN] = b.nq;
                pass[p].ran[S_E_XAPIAN] = true;
            }
        }
        free(xq);
        free(xr);
        free(xl);
    }
    if (rc == 0) {
        if (tipd.fts_only)
            printf("visibility callbacks: %.1f per query\n",
                   (double)tipd.visible_calls / (double)(b.nq * (size_t)(reps + 1) * npass));
        printf("(latency: tipd and FTS5 in this process over %d timed reps; Xapian through its\n"
               " Python binding, one rep; CPU is thread CPU time per query)\n",
               reps);
        for (int p = 0; p < npass; p++) {
            s_print_pass(&pass[p], b.nq);
            s_print_slow(&pass[p], b.nq, slow);
            if (b.gen_lang) s_print_langs(&pass[p], &b);
        }
        if (ranks) s_write_ranks(ranks, pass, npass, b.nq);
        if (typos) {
            double c = s_quality(pass[0].rank[S_E_TIPD], b.nq).rr,
                   ty = s_quality(pass[1].rank[S_E_TIPD], b.nq).rr;
            printf("\ntipd with typos / tipd clean, MRR@10: %.3f\n", ty / c);
        }
    }
    for (int p = 0; p < npass; p++)
        for (int e = 0; e < S_ENGINES; e++) {
            free(pass[p].rank[e]);
            free(pass[p].lat[e]);
            free(pass[p].cpul[e]);
        }
    for (int p = 0; p < npass; p++) free(pass[p].qcpu);
    if (typos) {
        for (size_t i = 0; i < b.nq; i++) free(pass[1].q[i].text);
        free(pass[1].q);
    }
    sref_fts5_destroy(&f5);
    s_tipd_close(&tipd);
    for (size_t i = 0; i < b.ndocs; i++) {
        free(b.source[i]);
        free(b.title[i]);
        free(b.body[i]);
    }
    for (size_t i = 0; i < b.nq; i++) {
        free(b.q[i].text);
        free(b.q[i].want);
        free(b.q[i].lang);
    }
    free(b.title);
    free(b.body);
    free(b.source);
    free(b.ids);
    free(b.q);
    return rc;
}
