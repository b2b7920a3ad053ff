/* pages.c -- the store's pages each search reads, by tree and by term.
 *
 * A question's cost on a cold map is the pages it touches: on a machine
 * whose memory manager clears pages' accessed bits (DAMON sampling,
 * reclaim scans) the first access to each page afterwards is a trap or a
 * fault, microseconds apiece, so a question that reads 2,000 pages pays
 * for them in its latency whatever its CPU time (docs/PERFORMANCE.md).
 * This counts them. The store is opened read-only; every question is asked
 * once untimed (as a running daemon would have: the per-term summaries of
 * long lists are made), then again with LMDB's reads recorded: the link
 * step wraps mdb_get and mdb_cursor_get (bench/CMakeLists.txt), and each
 * key and value they return lies in pages of the map, counted once per
 * question and charged to the named database (tree) it came from, and for
 * fts_post to the term. Branch pages are not seen (they are few and hot);
 * a page of keys and values is counted once however often it is read.
 *
 * The reference printed next to the pages is the question's CPU time for
 * the same search on a map whose pages are all in place, and the map's
 * size: what a question reads out of what there is.
 *
 * Usage: bench-pages [--queries FILE] [--n N] [--top N] DATA_DIR
 *   FILE: expected TAB query lines (default bench/queries/tldr-en.tsv),
 *   N: questions (default 300: the file's, repeated as needed), top: the heaviest shown.
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define S_DBI   64  /* databases tracked by handle */
#define S_TERMS 512 /* fts_post keys tracked per question (name scans meet many) */
#define S_TERM  48

static struct {
    const char *base; /* the map of data.mdb and its length */
    size_t len, psz;
    uint8_t *seen; /* a bit per page of the map, this question */
    char *name[S_DBI];
    long pages[S_DBI];
    MDB_dbi post;
    int have_post;
    char term[S_TERMS][S_TERM];
    long tpages[S_TERMS];
    int nterm, cur; /* cur: term being charged (-1: none) */
} s_rec = {.cur = -1};

static void s_reset(void)
{
    if (s_rec.seen) memset(s_rec.seen, 0, s_rec.len / s_rec.psz / 8 + 1);
    memset(s_rec.pages, 0, sizeof s_rec.pages);
    s_rec.nterm = 0;
}

static void s_charge(MDB_dbi d, const MDB_val *v)
{
    if (!s_rec.seen || !v || !v->mv_data) return;
    const char *p = v->mv_data;
    if (p < s_rec.base || p >= s_rec.base + s_rec.len) return;
    size_t a = (size_t)(p - s_rec.base) / s_rec.psz;
    size_t b = (size_t)(p + (v->mv_size ? v->mv_size - 1 : 0) - s_rec.base) / s_rec.psz;
    for (size_t i = a; i <= b && i < s_rec.len / s_rec.psz; i++) {
        if (s_rec.seen[i / 8] & (1u << (i % 8))) continue;
        s_rec.seen[i / 8] |= (uint8_t)(1u << (i % 8));
        if (d < S_DBI) s_rec.pages[d]++;
        if (s_rec.cur >= 0) s_rec.tpages[s_rec.cur]++;
    }
}

/* The slot of fts_post's term k in this question's table (-1: full). */
static int s_term(const MDB_val *k)
{
    if (!k || !k->mv_data || k->mv_size >= S_TERM) return -1;
    for (int i = 0; i < s_rec.nterm; i++)
        if (strlen(s_rec.term[i]) == k->mv_size && !memcmp(s_rec.term[i], k->mv_data, k->mv_size))
            return i;
    if (s_rec.nterm == S_TERMS) return -1;
    memcpy(s_rec.term[s_rec.nterm], k->mv_data, k->mv_size);
    s_rec.term[s_rec.nterm][k->mv_size] = 0;
    s_rec.tpages[s_rec.nterm] = 0;
    return s_rec.nterm++;
}

int __real_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi);
int __real_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op);

int __wrap_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi);
int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op);

int __wrap_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
    int rc = __real_mdb_dbi_open(txn, name, flags, dbi);
    if (rc == 0 && name && *dbi < S_DBI && !s_rec.name[*dbi]) {
        s_rec.name[*dbi] = strdup(name);
        if (!strcmp(name, "fts_post")) s_rec.post = *dbi, s_rec.have_post = 1;
    }
    return rc;
}

int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    int rc = __real_mdb_get(txn, dbi, key, data);
    if (rc == 0) s_charge(dbi, data);
    return rc;
}

int __wrap_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
    int rc = __real_mdb_cursor_get(c, key, data, op);
    if (rc) return rc;
    MDB_dbi d = mdb_cursor_dbi(c);
    s_rec.cur = s_rec.have_post && d == s_rec.post ? s_term(key) : -1;
    s_charge(d, key);
    s_charge(d, data);
    s_rec.cur = -1;
    return rc;
}

/* ---- the run ---- */

typedef struct {
    long pages;
    double cpu_ms;
    char terms[384]; /* trees, then fts_post terms, with 10 pages or more */
    const char *q;
} s_row_t;

static double s_cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int s_find_map(void)
{
    FILE *m = fopen("/proc/self/maps", "r");
    if (!m) return -1;
    char ln[4096];
    while (fgets(ln, sizeof ln, m)) {
        unsigned long a, b;
        if (strstr(ln, "/data.mdb") && sscanf(ln, "%lx-%lx", &a, &b) == 2) {
            s_rec.base = (const char *)a;
            s_rec.len = b - a;
        }
    }
    fclose(m);
    return s_rec.base ? 0 : -1;
}

/* The query column of a TAB-separated file, into *out (n strings). */
static int s_load(const char *path, char ***out, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char ln[2048], **all = NULL;
    size_t have = 0;
    while (fgets(ln, sizeof ln, f)) {
        char *t = strchr(ln, '\t');
        if (ln[0] == '#' || !t) continue;
        t[strcspn(t, "\n")] = 0;
        char **na = realloc(all, (have + 1) * sizeof *all);
        if (!na || !(na[have] = strdup(t + 1))) {
            all = na ? na : all;
            break;
        }
        all = na;
        have++;
    }
    fclose(f);
    *out = all;
    *n = have;
    return 0;
}

static void s_free_all(char **all, size_t n)
{
    for (size_t i = 0; i < n; i++) free(all[i]);
    free(all);
}

static int s_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int s_cmp_row(const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    return (x->pages < y->pages) - (x->pages > y->pages);
}

static int s_usage(void)
{
    fprintf(stderr, "usage: bench-pages [--queries FILE] [--n N] [--top N] DATA_DIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *qpath = "bench/queries/tldr-en.tsv", *dir = NULL;
    size_t want = 300, top = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            qpath = argv[++i];
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            want = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--top") && i + 1 < argc)
            top = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            return s_usage();
    }
    if (!dir || want == 0 || want > 1000000) return s_usage();
    char **all = NULL;
    size_t nall = 0;
    if (s_load(qpath, &all, &nall) || nall == 0) {
        fprintf(stderr, "bench-pages: no questions in %s\n", qpath);
        s_free_all(all, nall);
        return 1;
    }
    int nq = (int)want;
    store_opts_t o = {.read_only = 1};
    int err = 0;
    store_t *s = store_new(dir, &o, &err);
    if (!s) {
        fprintf(stderr, "bench-pages: %s: %s\n", dir, store_strerror(err));
        s_free_all(all, nall);
        return 1;
    }
    store_hit_t hits[10];
    size_t got;
    for (int i = 0; i < nq; i++) store_search(s, all[i % nall], NULL, hits, 10, &got); /* untimed */
    if (s_find_map()) {
        fprintf(stderr, "bench-pages: the store's map is not in /proc/self/maps\n");
        store_destroy(&s);
        s_free_all(all, nall);
        return 1;
    }
    s_rec.psz = (size_t)sysconf(_SC_PAGESIZE);
    s_rec.seen = calloc(s_rec.len / s_rec.psz / 8 + 1, 1);
    s_row_t *rows = calloc((size_t)nq, sizeof *rows);
    long *pages = calloc((size_t)nq, sizeof *pages), tree[S_DBI] = {0};
    double *cpu = calloc((size_t)nq, sizeof *cpu);
    if (!s_rec.seen || !rows || !pages || !cpu) {
        fprintf(stderr, "bench-pages: out of memory\n");
        return 1;
    }
    for (int i = 0; i < nq; i++) {
        s_reset();
        double c0 = s_cpu_ms();
        store_search(s, all[i % nall], NULL, hits, 10, &got);
        s_row_t *r = &rows[i];
        r->cpu_ms = cpu[i] = s_cpu_ms() - c0;
        r->q = all[i % nall];
        for (int d = 0; d < S_DBI; d++) {
            r->pages += s_rec.pages[d];
            tree[d] += s_rec.pages[d];
        }
        pages[i] = r->pages;
        size_t at = 0;
        for (int d = 0; d < S_DBI && at < sizeof r->terms - 40; d++)
            if (s_rec.pages[d] >= 10 && s_rec.name[d])
                at += (size_t)snprintf(r->terms + at, sizeof r->terms - at, " %s %ld",
                                       s_rec.name[d], s_rec.pages[d]);
        if (at < sizeof r->terms - 2)
            at += (size_t)snprintf(r->terms + at, sizeof r->terms - at, " |");
        for (int t = 0; t < s_rec.nterm && at < sizeof r->terms - 40; t++)
            if (s_rec.tpages[t] >= 10)
                at += (size_t)snprintf(r->terms + at, sizeof r->terms - at, " %s %ld",
                                       s_rec.term[t], s_rec.tpages[t]);
    }
    qsort(pages, (size_t)nq, sizeof *pages, s_cmp_long);
    qsort(cpu, (size_t)nq, sizeof *cpu, s_cmp_double);
    long sum = 0;
    for (int i = 0; i < nq; i++) sum += pages[i];
#define P(a, x) a[(size_t)((nq - 1) * (x))]
    printf("%d questions, store %s, map %.1f MiB (%zu pages)\n\n", nq, dir, s_rec.len / 1048576.0,
           s_rec.len / s_rec.psz);
    printf("| per question | mean | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
    printf("| pages read (keys and values) | %.0f | %ld | %ld | %ld | %ld |\n", (double)sum / nq,
           P(pages, 0.5), P(pages, 0.9), P(pages, 0.99), pages[nq - 1]);
    printf("| reference: CPU ms, map in place | - | %.2f | %.2f | %.2f | %.2f |\n\n", P(cpu, 0.5),
           P(cpu, 0.9), P(cpu, 0.99), cpu[nq - 1]);
    printf("| tree | pages per question (mean) |\n|---|---|\n");
    for (int d = 0; d < S_DBI; d++)
        if (tree[d] * 100 >= sum && s_rec.name[d])
            printf("| %s | %.0f |\n", s_rec.name[d], (double)tree[d] / nq);
    qsort(rows, (size_t)nq, sizeof *rows, s_cmp_row);
    printf("\nheaviest questions (pages: trees | fts_post terms, with 10 or more)\n");
    for (size_t i = 0; i < top && i < (size_t)nq; i++)
        printf("%6ld %6.2f ms | %s |%s\n", rows[i].pages, rows[i].cpu_ms, rows[i].q, rows[i].terms);
    store_destroy(&s);
    s_free_all(all, nall);
    for (int d = 0; d < S_DBI; d++) free(s_rec.name[d]);
    free(s_rec.seen);
    free(rows);
    free(pages);
    free(cpu);
    return 0;
}
