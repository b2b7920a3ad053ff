/* fts_search.c -- ranked full-text search over the index of fts.c
 * (docs/SEARCH.md has the formulas and parameters).
 *
 * A query is tokenized like the text (stopwords dropped unless that leaves
 * nothing, synonyms added at a lower weight). When the terms have few
 * postings, each term's are read a page at a time with MDB_GET_MULTIPLE and
 * their BM25F contributions added into an accumulator of the tips they name
 * (fts_acc.c); longer lists are scored with pruning (fts_prune.c). Field
 * lengths come with the postings, so no document is read while scoring.
 * The best 100 candidates are then looked up, get topic-cluster support
 * and crowding, and are offered to the store's visibility callback best
 * first; because its prior is clamped to [1, FTS_PRIOR_MAX], the walk stops
 * as soon as no remaining candidate could enter the top k.
 *
 * No query can keep the caller (the daemon's loop) busy without end: every
 * loop counts towards a bound fixed before it starts. A term's pages of
 * postings may hold no more than the count LMDB gave for it (an empty page,
 * or more postings than counted, is a damaged index: STORE_E_LMDB), and the
 * candidate walks spend a budget of one step per posting read (plus the
 * phase-1 lookups) that they can never legitimately exhaust. Scores that are
 * not finite and positive are dropped before any heap or sort sees them, so
 * every comparison is a total order (docs/SEARCH.md, "Bounded work").
 */
#include "fts_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ranking parameters: defaults (docs/SEARCH.md explains them). */
static const fts_params_t s_defaults = {
    .w = {3.0, 1.0, 3.0, 0.3}, /* title, body, topics, code */
    .b = {0.5, 1.0, 0.0, 0.75},
    .k1 = 1.5,
    .syn = 0.0,
    .cluster = 0.2,
    .crowd_factor = 0.5,
    .named = 2.0,
    .coord = 0.5,
    .typo = 0.8,
    .prf = 0.0,
    .prf_terms = 10,
    .stop = 1,
    .coord_idf = 1,
    .prune = 1,
    .prune_min = 30000,
    .prox = 0.3,
    .prox_win = 1,
    .prox_first = 0.3,
    .prox_docs = 10,
    .part = 0.3,
    .part_terms = 8,
    .part_max = 8,
    .name_boost = 0.6,
    .hints = 1,
};
static const size_t s_crowd = 2; /* tips per cluster before push-down */
#define S_CLUSTER_M      100
#define S_CLUSTER_MAX_DF 200 /* topics on more tips than this are not clusters */

_Static_assert(S_CLUSTER_M *EVENT_MAX_TOPICS + FTS_TCACHE_MAX < FTS_TSLOTS,
               "topic cache too small");

void fts_params_default(fts_params_t *p)
{
    *p = s_defaults;
}

int fts_tune(fts_t *f, const char *name, double value)
{
    if (!f || !name || !isfinite(value)) return STORE_E_ARG;
    static const char *const fields[FTS_FIELDS] = {"title", "body", "topics", "code"};
    fts_params_t *p = &f->prm;
    char n[32];
    for (int i = 0; i < FTS_FIELDS; i++) {
        snprintf(n, sizeof n, "w_%s", fields[i]);
        if (!strcmp(name, n)) return p->w[i] = value, 0;
        snprintf(n, sizeof n, "b_%s", fields[i]);
        if (!strcmp(name, n)) return p->b[i] = value, 0;
    }
    struct {
        const char *name;
        double *v;
    } t[] = {{"k1", &p->k1},
             {"syn", &p->syn},
             {"cluster", &p->cluster},
             {"crowd_factor", &p->crowd_factor},
             {"named", &p->named},
             {"coord", &p->coord},
             {"typo", &p->typo},
             {"prf", &p->prf},
             {"prf_terms", &p->prf_terms},
             {"stop", &p->stop},
             {"coord_idf", &p->coord_idf},
             {"prune", &p->prune},
             {"prune_min", &p->prune_min},
             {"prox", &p->prox},
             {"prox_win", &p->prox_win},
             {"prox_first", &p->prox_first},
             {"prox_docs", &p->prox_docs},
             {"part", &p->part},
             {"part_terms", &p->part_terms},
             {"part_max", &p->part_max},
             {"name_boost", &p->name_boost},
             {"hints", &p->hints}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(name, t[i].name)) return *t[i].v = value, 0;
    return STORE_E_ARG;
}

/* ---- search ---- */

typedef fts_cand_t s_cand_t;

/* Max-heap on (score, doc): better score first, newer doc on ties. */
static bool s_better(const s_cand_t *a, const s_cand_t *b)
{
    return a->score > b->score || (a->score == b->score && a->doc > b->doc);
}

static void s_sift_down(s_cand_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && s_better(&h[l], &h[m])) m = l;
        if (r < n && s_better(&h[r], &h[m])) m = r;
        if (m == i) return;
        s_cand_t tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

/* Min-heap on s_better (worst at the root), for selecting the best m. */
static void s_min_sift_down(s_cand_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && s_better(&h[w], &h[l])) w = l;
        if (r < n && s_better(&h[w], &h[r])) w = r;
        if (w == i) return;
        s_cand_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static int s_cmp_cand(const void *a, const void *b)
{
    return s_better(a, b) ? -1 : s_better(b, a) ? 1 : 0;
}

/* Move the best min(m, n) candidates to the front of c, best first (the
 * rest stay behind them in any order). Returns how many are in front. One
 * pass with a size-m heap: most candidates lose to its root at once. */
static size_t s_select_best(s_cand_t *c, size_t n, size_t m)
{
    size_t h = 0;
    for (size_t i = 0; i < n; i++) {
        if (h < m) {
            s_cand_t t = c[h];
            c[h] = c[i];
            c[i] = t;
            for (size_t j = h++; j > 0;) { /* sift up */
                size_t p = (j - 1) / 2;
                if (!s_better(&c[p], &c[j])) break;
                t = c[p];
                c[p] = c[j];
                c[j] = t;
                j = p;
            }
        } else if (s_better(&c[i], &c[0])) {
            s_cand_t t = c[0];
            c[0] = c[i];
            c[i] = t;
            s_min_sift_down(c, h, 0);
        }
    }
    qsort(c, h, sizeof *c, s_cmp_cand);
    return h;
}

/* Check one page of postings from MDB_GET_MULTIPLE / MDB_NEXT_MULTIPLE
 * against *left, the postings the key still has by mdb_cursor_count, and
 * take its postings off. A page that is empty, ragged or holds more than
 * are left means a damaged index; refusing it is what bounds the page loop
 * by the count (each page takes at least one off). */
static bool s_page_ok(const MDB_val *v, size_t *left)
{
    size_t np = v->mv_size / FTS_POST_LEN;
    if (np == 0 || v->mv_size % FTS_POST_LEN || np > *left) return false;
    *left -= np;
    return true;
}

/* Call fn(posting, arg) for every posting of key; returns the count via
 * *df first (before any call) when df is not NULL. */
typedef void (*s_post_fn)(const uint8_t *post, void *arg);

static int s_postings(MDB_cursor *c, const void *key, size_t klen, size_t *df, s_post_fn fn,
                      void *arg)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    if (rc == MDB_NOTFOUND) {
        if (df) *df = 0;
        return 0;
    }
    if (rc) return STORE_E_LMDB;
    size_t left = 0;
    if (mdb_cursor_count(c, &left)) return STORE_E_LMDB;
    if (df) *df = left;
    if (!fn) return 0;
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE);
    while (rc == 0) {
        size_t np = v.mv_size / FTS_POST_LEN;
        if (!s_page_ok(&v, &left)) return STORE_E_LMDB;
        const uint8_t *p = v.mv_data;
        for (size_t i = 0; i < np; i++) fn(p + i * FTS_POST_LEN, arg);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE);
    }
    return rc == MDB_NOTFOUND ? 0 : STORE_E_LMDB;
}

double fts_idf(fts_score_t *s, size_t df, uint32_t bit)
{
    double dfd = (double)df > s->N ? s->N : (double)df;
    double idf = log(1.0 + (s->N - dfd + 0.5) / (dfd + 0.5));
    if (bit && idf > s->widf[__builtin_ctz(bit)]) s->widf[__builtin_ctz(bit)] = idf;
    return idf;
}

float fts_coord(fts_score_t *s, const fts_query_t *q, uint32_t mask)
{
    /* A pass meets few distinct masks; pow for each candidate was a large
     * part of scoring a long list. Same value either way: memoised. */
    size_t slot = (mask ^ (mask >> 6) ^ (mask >> 12) ^ (mask >> 18) ^ (mask >> 24)) & 63;
    if (s->coord[slot].used && s->coord[slot].mask == mask) return s->coord[slot].v;
    const fts_params_t *p = &s->f->prm;
    double wsum = 0;
    for (size_t w = 0; w < q->nwords && w < 32; w++) wsum += s->widf[w] * q->wq[w];
    double v;
    if (p->coord_idf > 0 && wsum > 0) {
        /* By the share of the words' idf rather than of their number:
         * missing a rare word costs more than missing a common one. */
        double m = 0;
        for (uint32_t bits = mask; bits; bits &= bits - 1) {
            int w = __builtin_ctz(bits);
            m += s->widf[w] * q->wq[w];
        }
        v = pow(m > 0 ? m / wsum : 1.0 / (double)q->nwords, p->coord);
    } else {
        int i = __builtin_popcount(mask);
        v = q->nwords ? pow((double)(i ? i : 1) / (double)q->nwords, p->coord) : 1.0;
    }
    s->coord[slot].mask = mask;
    s->coord[slot].v = (float)v;
    s->coord[slot].used = true;
    return (float)v;
}

float fts_final(fts_score_t *s, const fts_query_t *q, const float *c, uint32_t mask, bool named)
{
    float acc = 0.0f;
    for (size_t i = 0; i < q->n; i++) acc += c[i];
    acc *= fts_coord(s, q, mask);
    if (!(acc > 0.0f) || !isfinite(acc)) return 0.0f;
    if (named) acc *= (float)s->f->prm.named;
    return acc;
}

/* Add term's BM25F contributions (query weight qw) into the accumulator. */
static int s_score_term(fts_score_t *s, MDB_cursor *c, const fts_qterm_t *t, uint32_t bit)
{
    const char *term = t->term;
    const double qw = t->weight;
    MDB_val k = {strlen(term), (void *)term}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return STORE_E_LMDB;
    size_t df = 0;
    if (mdb_cursor_count(c, &df)) return STORE_E_LMDB;
    const double k1d = s->f->prm.k1;
    const float idfw = (float)(fts_idf(s, df, bit) * qw * (k1d + 1.0));
    const float k1 = (float)k1d;
    fts_acc_t *acc = &s->f->acc;
    const uint32_t limit = s->limit;
    size_t left = df;
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE);
    while (rc == 0) {
        if (!s_page_ok(&v, &left)) return STORE_E_LMDB;
        s->posts += v.mv_size / FTS_POST_LEN;
        const uint8_t *p = v.mv_data, *end = p + v.mv_size;
        for (; p < end; p += FTS_POST_LEN) {
            uint32_t doc = fts_rd32(p);
            if (doc >= limit) continue;
            float tf = fts_tf(s, p);
            if (!(tf > 0.0f)) continue;
            if (fts_acc_add(acc, doc, idfw * tf / (k1 + tf), bit)) return STORE_E_NOSPACE;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE);
    }
    return rc == MDB_NOTFOUND ? 0 : STORE_E_LMDB;
}

typedef struct {
    uint8_t *bits;
    uint32_t limit;
} s_bits_t;

static void s_bit_post(const uint8_t *p, void *arg)
{
    s_bits_t *b = arg;
    uint32_t doc = fts_rd32(p);
    if (doc < b->limit) b->bits[doc >> 3] |= (uint8_t)(1u << (doc & 7));
}

/* Mark in out[] (a bitmap over docnums) the docs carrying every topic. */
static int s_topic_filter(MDB_cursor *c, const store_search_opts_t *o, uint32_t limit,
                          uint8_t **out)
{
    *out = NULL;
    if (!o || !o->topics[0]) return 0;
    size_t nb = (limit + 7) / 8;
    uint8_t *all = malloc(nb), *one = malloc(nb);
    if (!all || !one) {
        free(all);
        free(one);
        return -1;
    }
    memset(all, 0xff, nb);
    for (int i = 0; i < EVENT_MAX_TOPICS && o->topics[i]; i++) {
        char key[EVENT_MAX_TOPIC_LEN + 2];
        size_t tl = strlen(o->topics[i]);
        memset(one, 0, nb);
        if (tl > 0 && tl <= EVENT_MAX_TOPIC_LEN) {
            key[0] = FTS_TOPIC_MARK;
            for (size_t j = 0; j < tl; j++) {
                char ch = o->topics[i][j];
                key[1 + j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
            s_bits_t b = {one, limit};
            if (s_postings(c, key, tl + 1, NULL, s_bit_post, &b)) {
                free(all);
                free(one);
                return -1;
            }
        }
        for (size_t j = 0; j < nb; j++) all[j] &= one[j];
    }
    free(one);
    *out = all;
    return 0;
}

/* If the whole query names a topic ("tar", "git-commit"), mark the docs
 * carrying it in *out (a bitmap over docnums): such a query is most likely
 * looking for that topic. *out stays NULL otherwise. */
static int s_named_topic(MDB_cursor *c, const char *query, uint32_t limit, uint8_t **out)
{
    *out = NULL;
    while (*query == ' ' || *query == '\t') query++;
    size_t ql = strlen(query);
    while (ql > 0 && (query[ql - 1] == ' ' || query[ql - 1] == '\t' || query[ql - 1] == '\n')) ql--;
    if (ql == 0 || ql > EVENT_MAX_TOPIC_LEN) return 0;
    char key[EVENT_MAX_TOPIC_LEN + 2];
    key[0] = FTS_TOPIC_MARK;
    for (size_t i = 0; i < ql; i++) {
        char ch = query[i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("._+#-", ch)))
            return 0;
        key[1 + i] = ch;
    }
    size_t df = 0;
    if (s_postings(c, key, ql + 1, &df, NULL, NULL)) return -1;
    if (df == 0) return 0;
    uint8_t *bits = calloc((limit + 7) / 8, 1);
    if (!bits) return -1;
    s_bits_t b = {bits, limit};
    if (s_postings(c, key, ql + 1, NULL, s_bit_post, &b)) {
        free(bits);
        return -1;
    }
    *out = bits;
    return 0;
}

/* Insert into a min-heap of the k best (final score) hits. */
static void s_keep(store_hit_t *top, size_t *nt, size_t k, const uint8_t *id, double score)
{
    if (*nt < k) {
        size_t i = (*nt)++;
        memcpy(top[i].id, id, EVENT_ID_LEN);
        top[i].score = score;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (top[p].score <= top[i].score) break;
            store_hit_t t = top[p];
            top[p] = top[i];
            top[i] = t;
            i = p;
        }
        return;
    }
    if (score <= top[0].score) return;
    memcpy(top[0].id, id, EVENT_ID_LEN);
    top[0].score = score;
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *nt && top[l].score < top[m].score) m = l;
        if (r < *nt && top[r].score < top[m].score) m = r;
        if (m == i) break;
        store_hit_t t = top[i];
        top[i] = top[m];
        top[m] = t;
        i = m;
    }
}

static int s_cmp_hit(const void *a, const void *b)
{
    const store_hit_t *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* A candidate that reached the top: identity, topics, scores. */
typedef struct {
    uint8_t id[EVENT_ID_LEN];
    const char *topics; /* NUL-separated, in the LMDB map (valid in txn) */
    size_t topics_len;
    int cluster;    /* slot of its narrowest topic in the topic table, -1 if none */
    unsigned hints; /* FTS_DOC_* for the visibility check */
    double raw, score;
} s_top_t;

static int s_cmp_top(const void *a, const void *b)
{
    const s_top_t *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* Load doc's record into *t and apply the kind/author filters. Returns 0 if
 * it is a candidate, 1 if gone or filtered out, <0 on error. */
static int s_load_doc(fts_t *f, MDB_txn *txn, uint32_t docnum, const store_search_opts_t *o,
                      s_top_t *t)
{
    fts_doc_t doc;
    MDB_val v;
    int g = fts_doc_get(f, txn, docnum, &doc, &v);
    if (g) return g;
    int want_kind = o ? o->kind : 0;
    if (want_kind ? doc.kind != want_kind : (doc.kind != EVENT_TIP && doc.kind != EVENT_QUESTION))
        return 1;
    if (o && o->author && memcmp(doc.author, o->author, EVENT_KEY_LEN) != 0) return 1;
    memcpy(t->id, doc.id, EVENT_ID_LEN);
    t->hints = f->prm.hints > 0 && (doc.hints & FTS_DOC_KNOWN) ? doc.hints : 0;
    size_t tl = v.mv_size - sizeof doc;
    t->topics = (const char *)v.mv_data + sizeof doc;
    t->topics_len = tl;
    t->cluster = -1;
    return 0;
}

/* Slot of topic tp[tl] in the cache, looking its tip count up in the index
 * the first time it is met. Returns the slot, or <0 on error. */
static int s_tslot(fts_t *f, MDB_cursor *c, const char *tp, size_t tl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < tl; i++) h = (h ^ (uint8_t)tp[i]) * 16777619u;
    for (size_t probe = 0; probe < FTS_TSLOTS; probe++) {
        size_t slot = (h + probe) & (FTS_TSLOTS - 1);
        fts_tslot_t *e = &f->tcache[slot];
        if (e->used && e->len == tl && memcmp(e->topic, tp, tl) == 0) return (int)slot;
        if (e->used) continue;
        char key[EVENT_MAX_TOPIC_LEN + 2];
        key[0] = FTS_TOPIC_MARK;
        memcpy(key + 1, tp, tl);
        if (s_postings(c, key, tl + 1, &e->df, NULL, NULL)) return STORE_E_LMDB;
        memcpy(e->topic, tp, tl);
        e->topic[tl] = 0;
        e->len = (uint8_t)tl;
        e->used = 1;
        f->tcache_n++;
        return (int)slot;
    }
    return STORE_E_NOSPACE;
}

/* Make the topic cache valid for the index state st. */
static int s_tcache_ready(fts_t *f, const fts_stats_t *st)
{
    if (!f->tcache) {
        f->tcache = calloc(FTS_TSLOTS, sizeof *f->tcache);
        f->tsum = calloc(FTS_TSLOTS, sizeof *f->tsum);
        f->tshown = calloc(FTS_TSLOTS, sizeof *f->tshown);
        if (!f->tcache || !f->tsum || !f->tshown) return -1;
        f->tcache_n = FTS_TCACHE_MAX + 1; /* force the reset below */
    }
    if (f->tcache_n > FTS_TCACHE_MAX || f->tcache_gen[0] != st->next_doc ||
        f->tcache_gen[1] != st->docs) {
        memset(f->tcache, 0, FTS_TSLOTS * sizeof *f->tcache);
        f->tcache_n = 0;
        f->tcache_gen[0] = st->next_doc;
        f->tcache_gen[1] = st->docs;
    }
    return 0;
}

/* Pick t's narrowest topic (fewest tips) as its cluster, if it is narrow
 * enough to mean something. */
static int s_cluster_key(fts_t *f, MDB_cursor *c, s_top_t *t)
{
    size_t best = SIZE_MAX;
    for (size_t p = 0; p < t->topics_len;) {
        const char *tp = t->topics + p;
        size_t tl = strnlen(tp, t->topics_len - p);
        p += tl + 1;
        if (tl == 0 || tl > EVENT_MAX_TOPIC_LEN) continue;
        int slot = s_tslot(f, c, tp, tl);
        if (slot < 0) return slot;
        size_t df = f->tcache[slot].df;
        if (df < best && df <= S_CLUSTER_MAX_DF) {
            best = df;
            t->cluster = slot;
        }
    }
    return 0;
}

/* Ask the store whether t is visible and keep it with its prior applied. */
static int s_offer(MDB_txn *txn, fts_visible_fn visible, void *arg, const s_top_t *t, double score,
                   store_hit_t *hits, size_t *kept, size_t max)
{
    const uint8_t *id = t->id;
    double prior = 1.0;
    if (visible) {
        int vr = visible(txn, id, t->hints, &prior, arg);
        if (vr < 0) return vr;
        if (vr > 0) return 0;
    }
    if (!(prior >= 1.0)) /* also catches NaN */
        prior = 1.0;
    if (prior > FTS_PRIOR_MAX) prior = FTS_PRIOR_MAX;
    s_keep(hits, kept, max, id, score * prior);
    return 0;
}

/* Score every term of q into the accumulator and gather the candidates
 * (coordination, topic filter and named-topic boost applied; the
 * accumulator is left clear) into a new *cand[*nc]. */
static int s_gather(fts_score_t *sc, MDB_cursor *c, const fts_query_t *q, const uint8_t *filter,
                    const uint8_t *named, s_cand_t **cand_out, size_t *nc_out)
{
    fts_t *f = sc->f;
    fts_acc_t *acc = &f->acc;
    int rc = 0;
    memset(sc->widf, 0, sizeof sc->widf);
    memset(sc->coord, 0, sizeof sc->coord);
    for (size_t i = 0; i < q->n && !rc; i++)
        rc = s_score_term(sc, c, &q->v[i], fts_qt_extra(q->v[i].kind) ? 0 : 1u << q->v[i].word);
    /* Gather candidates, then clear the accumulator. */
    s_cand_t *cand = rc ? NULL : malloc((acc->n ? acc->n : 1) * sizeof *cand);
    size_t nc = 0;
    for (size_t i = 0; cand && i < acc->n; i++) {
        uint32_t d = acc->ent[i].doc;
        /* Coordination (as in Lucene's classic similarity): the text score
         * is scaled by a power of the share of the query's words (a synonym
         * or a correction counts for its word) that the tip matches. */
        float s = acc->ent[i].score * fts_coord(sc, q, acc->ent[i].mask);
        /* Only finite, positive scores go on: a NaN compares false both
         * ways, which would break the heaps' and qsort's order. */
        if (!(s > 0.0f) || !isfinite(s)) continue;
        if (filter && !(filter[d >> 3] & (1u << (d & 7)))) continue;
        if (named && (named[d >> 3] & (1u << (d & 7)))) s *= (float)f->prm.named;
        cand[nc].score = s;
        cand[nc].doc = d;
        nc++;
    }
    fts_acc_clear(acc);
    if (rc) return rc;
    if (!cand) return STORE_E_NOSPACE;
    *cand_out = cand;
    *nc_out = nc;
    return 0;
}

/* The candidates of q: with pruning (fts_prune.c) when the parameters allow
 * it, every tip scoring >= *floor; otherwise all of them (*floor 0). */
static int s_candidates(fts_score_t *sc, MDB_txn *txn, const fts_query_t *q, const uint8_t *filter,
                        const uint8_t *named, size_t keep, size_t k, s_cand_t **cand, size_t *nc,
                        float *floor)
{
    *floor = 0.0f;
    if (sc->f->prm.prune > 0) {
        int rc =
            fts_gather_pruned(sc, txn, q, filter, named, keep, k, 0.0f, INFINITY, cand, nc, floor);
        if (rc <= 0) return rc;
    }
    MDB_cursor *c;
    if (mdb_cursor_open(txn, sc->f->post, &c)) return STORE_E_LMDB;
    int rc = s_gather(sc, c, q, filter, named, cand, nc);
    mdb_cursor_close(c);
    return rc;
}

/* Phase 2 of the walk: state shared with its fallback. */
typedef struct {
    fts_t *f;
    MDB_txn *txn;
    const store_search_opts_t *o;
    fts_visible_fn visible;
    void *arg;
    const fts_query_t *q;
    const double *widf; /* idf of each query word (proximity) */
    store_hit_t *hits;
    size_t max, kept;
    size_t budget; /* steps left (docs/SEARCH.md, "Bounded work") */
} s_walk_t;

/* Offer cand[nc] to the visibility callback by raw score, best first, until
 * none can enter the top k even with the largest prior. Returns 1 if it
 * stopped on that bound (or the budget), 0 if it ran out, <0 on error. */
static int s_walk(s_walk_t *w, s_cand_t *cand, size_t nc)
{
    for (size_t i = nc / 2; i-- > 0;) s_sift_down(cand, nc, i);
    while (nc > 0) {
        if (w->budget == 0) return 1;
        w->budget--;
        s_cand_t top = cand[0];
        cand[0] = cand[--nc];
        s_sift_down(cand, nc, 0);
        if (w->kept == w->max && (double)top.score * FTS_PRIOR_MAX <= w->hits[0].score) return 1;
        s_top_t t;
        int g = s_load_doc(w->f, w->txn, top.doc, w->o, &t);
        if (g < 0) return g;
        if (g > 0) continue;
        int rc = s_offer(w->txn, w->visible, w->arg, &t, top.score, w->hits, &w->kept, w->max);
        if (rc) return rc;
    }
    return 0;
}

/* Phase 1: the best S_CLUSTER_M candidates cand[head] (best first) are
 * looked up and get topic-cluster support (docs/SEARCH.md): tips that share
 * a narrow topic with other strong matches are lifted by a share of those
 * matches' scores; crowding pushes down the third and later tips of one
 * cluster. Then they are offered to the visibility callback. */
static int s_phase1(s_walk_t *w, const fts_stats_t *st, const s_cand_t *cand, size_t head)
{
    fts_t *f = w->f;
    s_top_t *tops = calloc(S_CLUSTER_M, sizeof *tops);
    if (!tops || s_tcache_ready(f, st)) {
        free(tops);
        return STORE_E_NOSPACE;
    }
    int rc = 0;
    size_t m = 0, hi = 0;
    MDB_cursor *tc = NULL;
    if (mdb_cursor_open(w->txn, f->post, &tc)) rc = STORE_E_LMDB;
    while (hi < head && !rc && w->budget > 0) {
        w->budget--;
        s_cand_t top = cand[hi++];
        int g = s_load_doc(f, w->txn, top.doc, w->o, &tops[m]);
        if (g < 0) {
            rc = g;
            break;
        }
        if (g > 0) continue;
        double mult = 1.0;
        if (m < f->prm.prox_docs) rc = fts_prox(f, w->txn, w->q, w->widf, tops[m].id, &mult);
        mult *= fts_names_mult(f, w->q, w->widf, tops[m].topics, tops[m].topics_len);
        tops[m].raw = top.score * mult;
        tops[m].score = tops[m].raw;
        if (!rc) rc = s_cluster_key(f, tc, &tops[m]);
        if (tops[m].cluster >= 0) f->tsum[tops[m].cluster] += tops[m].raw;
        m++;
    }
    if (tc) mdb_cursor_close(tc);
    if (!rc) {
        for (size_t i = 0; i < m; i++)
            if (tops[i].cluster >= 0)
                tops[i].score =
                    tops[i].raw + f->prm.cluster * (f->tsum[tops[i].cluster] - tops[i].raw);
        qsort(tops, m, sizeof tops[0], s_cmp_top);
        bool moved = false;
        for (size_t i = 0; i < m; i++) {
            if (tops[i].cluster < 0) continue;
            if (f->tshown[tops[i].cluster]++ >= s_crowd) {
                tops[i].score *= f->prm.crowd_factor;
                moved = true;
            }
        }
        if (moved) qsort(tops, m, sizeof tops[0], s_cmp_top);
    }
    for (size_t i = 0; i < m; i++)
        if (tops[i].cluster >= 0) {
            f->tsum[tops[i].cluster] = 0;
            f->tshown[tops[i].cluster] = 0;
        }
    for (size_t i = 0; i < m && !rc; i++) {
        if (w->kept == w->max && tops[i].score * FTS_PRIOR_MAX <= w->hits[0].score) break;
        rc =
            s_offer(w->txn, w->visible, w->arg, &tops[i], tops[i].score, w->hits, &w->kept, w->max);
    }
    free(tops);
    return rc;
}

/* Phase 2 once the candidates at or above floor ran out: the tips pruning
 * skipped (all below floor) may still be needed when filters, the
 * visibility callback or crowding turned many candidates down. Those that
 * can still enter (raw score above the k-th hit / FTS_PRIOR_MAX; all of
 * them while fewer than k are kept) are gathered, with pruning at that
 * fixed floor when it applies, and walked on from where the first walk
 * stopped. */
static int s_walk_below(s_walk_t *w, fts_score_t *sc, const fts_query_t *q, const uint8_t *filter,
                        const uint8_t *named, float floor)
{
    if (w->kept == w->max && (double)floor * FTS_PRIOR_MAX <= w->hits[0].score) return 0;
    /* Rounding: a little below what is needed rather than above. */
    float lo = w->kept == w->max ? (float)(w->hits[0].score / FTS_PRIOR_MAX * (1 - 1e-6)) : 0.0f;
    s_cand_t *cand = NULL;
    size_t nc = 0;
    float fl;
    sc->posts = 0;
    int rc = 1;
    if (lo > 0.0f && sc->f->prm.prune > 0)
        rc = fts_gather_pruned(sc, w->txn, q, filter, named, 0, 0, lo, floor, &cand, &nc, &fl);
    if (rc > 0) {
        MDB_cursor *c;
        if (mdb_cursor_open(w->txn, sc->f->post, &c)) return STORE_E_LMDB;
        rc = s_gather(sc, c, q, filter, named, &cand, &nc);
        mdb_cursor_close(c);
        size_t nb = 0;
        for (size_t i = 0; !rc && i < nc; i++)
            if (cand[i].score < floor) cand[nb++] = cand[i];
        nc = nb;
    }
    if (rc) {
        free(cand);
        return rc;
    }
    w->budget += sc->posts;
    rc = s_walk(w, cand, nc);
    free(cand);
    return rc < 0 ? rc : 0;
}

static int s_search_locked(fts_t *f, MDB_txn *txn, const char *query, const store_search_opts_t *o,
                           fts_visible_fn visible, void *arg, store_hit_t *hits, size_t max,
                           size_t *n)
{
    fts_stats_t st;
    int rc = fts_stats_get(txn, f->meta, &st);
    if (rc) return rc;
    if (st.docs == 0 || max == 0) return 0;
    MDB_cursor *c;
    if (mdb_cursor_open(txn, f->post, &c)) return STORE_E_LMDB;
    fts_query_t q; /* ~9 KB */
    rc = fts_query_build(f, c, query, false, &q);
    if (rc || q.n == 0) {
        mdb_cursor_close(c);
        return rc;
    }
    if (o && o->fixed) fts_query_fixed(f, query, &q, o->fixed, o->fixed_cap);
    uint32_t limit = st.next_doc;
    uint8_t *filter = NULL, *named = NULL;
    fts_score_t *sc = NULL;
    if (s_topic_filter(c, o, limit, &filter) || s_named_topic(c, query, limit, &named) ||
        !(sc = malloc(sizeof *sc))) {
        free(filter);
        free(named);
        mdb_cursor_close(c);
        return STORE_E_NOSPACE;
    }
    sc->f = f;
    sc->posts = 0;
    sc->limit = limit;
    double N = (double)st.docs;
    sc->N = N;
    for (int fi = 0; fi < FTS_FIELDS; fi++) {
        double avg = (double)st.len[fi] / N;
        if (avg <= 0) avg = 1;
        /* With b = 1 an empty field has norm 0; its count is 0 too, and
         * 0 · inf would be NaN, so the norm has a floor. */
        for (int l = 0; l < 256; l++) {
            double norm = 1.0 - f->prm.b[fi] + f->prm.b[fi] * f->lendq[l] / avg;
            sc->inv_norm[fi][l] = (float)(f->prm.w[fi] / (norm > 1e-3 ? norm : 1e-3));
        }
    }
    s_cand_t *cand = NULL;
    size_t nc = 0;
    float floor = 0.0f;
    /* Pseudo-relevance feedback (fts_prf.c): words the best matches share
     * join the query at a low weight, and it is scored again. */
    if (f->prm.prf > 0 && f->text_fn) {
        rc = s_candidates(sc, txn, &q, filter, named, S_CLUSTER_M, max, &cand, &nc, &floor);
        size_t r = rc ? 0 : s_select_best(cand, nc, FTS_PRF_DOCS);
        uint32_t docs[FTS_PRF_DOCS];
        float scores[FTS_PRF_DOCS];
        for (size_t i = 0; i < r; i++) {
            docs[i] = cand[i].doc;
            scores[i] = cand[i].score;
        }
        size_t n0 = q.n;
        if (r > 0) rc = fts_prf(f, txn, c, docs, scores, r, N, &q);
        if (!rc && q.n > n0) {
            free(cand);
            cand = NULL;
            rc = s_candidates(sc, txn, &q, filter, named, S_CLUSTER_M, max, &cand, &nc, &floor);
        }
    } else {
        rc = s_candidates(sc, txn, &q, filter, named, S_CLUSTER_M, max, &cand, &nc, &floor);
    }
    mdb_cursor_close(c);
    if (rc) {
        free(cand);
        free(sc);
        free(filter);
        free(named);
        return rc;
    }
    /* Every candidate came from a posting, so the walks below take at most
     * posts steps plus the phase-1 lookups; the budget makes that a hard
     * bound rather than an argument. */
    s_walk_t w = {.f = f,
                  .txn = txn,
                  .o = o,
                  .visible = visible,
                  .arg = arg,
                  .q = &q,
                  .widf = sc->widf,
                  .hits = hits,
                  .max = max,
                  .budget = sc->posts + S_CLUSTER_M};
    size_t head = s_select_best(cand, nc, S_CLUSTER_M);
    rc = s_phase1(&w, &st, cand, head);
    /* Phase 2: the rest by raw score, until none can enter the top k even
     * with the largest prior. Every remaining raw score is at most the last
     * one of phase 1: often that already rules them all out. */
    bool done =
        head > 0 && w.kept == max && (double)cand[head - 1].score * FTS_PRIOR_MAX <= hits[0].score;
    if (!rc && !done) {
        int r = s_walk(&w, cand + head, nc - head);
        if (r < 0) rc = r;
        if (r == 0 && floor > 0.0f) rc = s_walk_below(&w, sc, &q, filter, named, floor);
    }
    free(cand);
    free(sc);
    free(filter);
    free(named);
    if (rc) return rc;
    qsort(hits, w.kept, sizeof hits[0], s_cmp_hit);
    *n = w.kept;
    return 0;
}

/* "Did you mean": after a search that found nothing, the query with every
 * word the index lacks corrected under lenient bounds. */
static int s_suggest(fts_t *f, MDB_txn *txn, const char *query, char *out, size_t cap)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, f->post, &c)) return STORE_E_LMDB;
    fts_query_t *q = malloc(sizeof *q);
    int rc = q ? fts_query_build(f, c, query, true, q) : STORE_E_NOSPACE;
    mdb_cursor_close(c);
    if (!rc) fts_query_fixed(f, query, q, out, cap);
    free(q);
    return rc;
}

int fts_prepare(fts_t *f, MDB_txn *txn, int (*stop)(void *arg), void *arg)
{
    if (!f || !txn) return STORE_E_ARG;
    fts_stats_t st;
    int rc = fts_stats_get(txn, f->meta, &st);
    if (rc) return rc;
    pthread_mutex_lock(&f->lock);
    rc = fts_acc_prepare(&f->acc) || s_tcache_ready(f, &st) ? STORE_E_NOSPACE : 0;
    if (!rc) { /* zero between questions already: the writes fault them in */
        memset(f->tsum, 0, FTS_TSLOTS * sizeof *f->tsum);
        memset(f->tshown, 0, FTS_TSLOTS * sizeof *f->tshown);
    }
    pthread_mutex_unlock(&f->lock);
    return rc ? rc : fts_summary_warm(f, txn, stop, arg);
}

int fts_search(fts_t *f, MDB_txn *txn, const char *query, const store_search_opts_t *o,
               fts_visible_fn visible, void *arg, store_hit_t *hits, size_t max, size_t *n)
{
    if (!f || !txn || !query || !n || (max && !hits)) return STORE_E_ARG;
    *n = 0;
    if (o && o->fixed && o->fixed_cap) o->fixed[0] = 0;
    pthread_mutex_lock(&f->lock);
    int rc = s_search_locked(f, txn, query, o, visible, arg, hits, max, n);
    if (!rc && *n == 0 && o && o->fixed && o->fixed_cap)
        rc = s_suggest(f, txn, query, o->fixed, o->fixed_cap);
    pthread_mutex_unlock(&f->lock);
    return rc;
}
