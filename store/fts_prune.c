/* fts_prune.c -- scoring a query without reading every posting
 * (docs/SEARCH.md, "Pruning").
 *
 * Exhaustive scoring (fts_search.c) adds every posting of every query term
 * into an accumulator. In a store of a million tips a common word has
 * 10^5..10^6 postings, and nearly all of them belong to tips that cannot
 * reach the top. This is MaxScore (Turtle and Flood, 1995), document at a
 * time: each term gets an upper bound on what it can add to a tip's score;
 * terms are sorted by bound (short lists last, see s_after), and once the
 * best tips found so far score above the sum of the smallest bounds, those
 * terms become "non-essential": a tip that has none of the other
 * (essential) terms cannot reach the candidates, so only the essential
 * lists are walked, and the non-essential ones are only looked into (by
 * page, or by a B-tree seek) for the tips the essential ones bring, and
 * only while that tip can still make it. Coordination multiplies a score
 * by a factor that only grows with the words matched, so a tip that can
 * match only the words of some terms is bounded by their bounds times those
 * words' factor; the named-topic boost multiplies by a known factor.
 *
 * The scores are the ones exhaustive scoring gives, bit for bit: each
 * tip's contributions are computed by the same expression (fts_tf) and
 * added in query-term order (fts_final). What the caller gets is every tip
 * scoring at or above a floor: the floor is the lower of the keep-th best
 * score (the candidates the first phase of the walk looks up) and the
 * k-th best divided by FTS_PRIOR_MAX (what the second phase needs when the
 * best tips are visible and not pushed down by crowding). When the walk
 * does need tips below the floor (filters, invisible tips, crowding),
 * fts_search.c asks again for the tips between a fixed lower floor, now
 * known from the hits kept, and the first floor: the same walk with a
 * floor that does not move.
 *
 * Bounds: a term's contribution is idf * qw * (k1 + 1) * x / (k1 + x) with
 * x the posting's weighted term frequency. The largest x of a term is
 * bounded per field from a summary of its postings (the largest count per
 * bucket of field lengths, fts_summary.c) for lists of FTS_BOUND_MIN_DF
 * postings or more; shorter lists use x / (k1 + x) < 1. The summary does
 * not depend on the ranking parameters or the average lengths: the bound
 * is worked out from it for each query.
 *
 * Synonyms: a term of weight 0 adds nothing to a score and only says a tip
 * matches its word, for coordination. A long one is looked up in a bitmap
 * of the tips that hold it (fts_summary.c) instead of in its list: one bit
 * instead of a page of postings, and a question with a common word among
 * its synonyms ("show": display, list, output, print, view) otherwise
 * reads half its pages in them.
 */
#include "fts_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_END  UINT32_MAX
#define S_SCAN 8 /* postings a seek looks at in order before galloping */
/* Bounds and scores are summed in different orders and precisions: a tip is
 * dropped only when its bound is below the floor by more than that. */
#define S_SLACK 1e-4

/* A term's postings, walked in docnum order a page at a time. */
typedef struct {
    MDB_cursor *c;
    MDB_val key;
    const uint8_t *page, *p, *end; /* the current page; p at the current posting */
    uint32_t doc;                  /* docnum at p, S_END when done */
    float idfw;
    double ub; /* upper bound on its contribution to a tip */
    uint32_t bit;
    const uint8_t *pres; /* weight 0: the tips holding it (fts_summary.c), or NULL */
} s_pc_t;

static void s_pc_doc(s_pc_t *pc, uint32_t limit)
{
    pc->doc = fts_rd32(pc->p);
    if (pc->doc >= limit) pc->doc = S_END; /* sorted: the rest are too */
}

/* Take v as the current page: whole postings, at least one. */
static int s_pc_page(s_pc_t *pc, const MDB_val *v)
{
    if (v->mv_size == 0 || v->mv_size % FTS_POST_LEN) return STORE_E_LMDB;
    pc->page = pc->p = v->mv_data;
    pc->end = pc->page + v->mv_size;
    return 0;
}

/* The next page of the term's postings; its first docnum must follow the
 * last one of the current page (else the index is damaged), which bounds
 * the pages walked. */
static int s_pc_next_page(s_pc_t *pc)
{
    uint32_t last = fts_rd32(pc->end - FTS_POST_LEN);
    MDB_val k, v;
    int rc = mdb_cursor_get(pc->c, &k, &v, MDB_NEXT_MULTIPLE);
    if (rc == MDB_NOTFOUND) {
        pc->doc = S_END;
        return 1;
    }
    if (rc || s_pc_page(pc, &v) || fts_rd32(pc->p) <= last) return STORE_E_LMDB;
    return 0;
}

static int s_pc_next(s_pc_t *pc, uint32_t limit)
{
    pc->p += FTS_POST_LEN;
    if (pc->p < pc->end) {
        s_pc_doc(pc, limit);
        return 0;
    }
    int rc = s_pc_next_page(pc);
    if (rc == 0) s_pc_doc(pc, limit);
    return rc < 0 ? rc : 0;
}

/* Move to the first posting with docnum >= target: to the next page when
 * it is near, by a B-tree seek (MDB_GET_BOTH_RANGE) when it is likely
 * further on than that: walking there page by page would read every page
 * between, and on a map whose accessed bits were cleared each page read
 * costs microseconds (docs/PERFORMANCE.md, "the pages a question reads"). */
static int s_pc_seek(s_pc_t *pc, uint32_t target, uint32_t limit)
{
    if (pc->doc >= target) return 0;
    uint32_t first = fts_rd32(pc->page), last = fts_rd32(pc->end - FTS_POST_LEN);
    if (last < target) {
        uint64_t span = (uint64_t)last - first + 1;
        if ((uint64_t)(target - last) > span) {
            uint8_t want[FTS_POST_LEN] = {0};
            fts_be32(want, target);
            MDB_val k = pc->key, v = {sizeof want, want};
            int rc = mdb_cursor_get(pc->c, &k, &v, MDB_GET_BOTH_RANGE);
            if (rc == MDB_NOTFOUND) {
                pc->doc = S_END;
                return 0;
            }
            if (rc || mdb_cursor_get(pc->c, &k, &v, MDB_GET_MULTIPLE) || s_pc_page(pc, &v) ||
                fts_rd32(pc->end - FTS_POST_LEN) < target)
                return STORE_E_LMDB;
        } else {
            while (last < target) {
                int rc = s_pc_next_page(pc);
                if (rc) return rc < 0 ? rc : 0;
                last = fts_rd32(pc->end - FTS_POST_LEN);
            }
        }
    }
    /* A seek is usually near (the tips the essential lists bring are
     * dense): the next S_SCAN postings are looked at in order, a loop whose
     * branch is predictable over cache lines already read; beyond them the
     * seek gallops and then halves, where halving the whole page misses. */
    size_t n = (size_t)(pc->end - pc->p) / FTS_POST_LEN, lo = 0;
    while (lo < n && lo < S_SCAN && fts_rd32(pc->p + lo * FTS_POST_LEN) < target) lo++;
    if (lo == S_SCAN) {
        size_t hi = lo, step = 1; /* every posting before lo is below target */
        while (hi < n && fts_rd32(pc->p + hi * FTS_POST_LEN) < target) {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        if (hi > n) hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (fts_rd32(pc->p + mid * FTS_POST_LEN) < target)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    if (lo == n) return STORE_E_LMDB; /* unsorted page */
    pc->p += lo * FTS_POST_LEN;
    s_pc_doc(pc, limit);
    return 0;
}

/* Position pc on the first posting of its term. */
static int s_pc_start(s_pc_t *pc, uint32_t limit)
{
    MDB_val k = pc->key, v;
    if (mdb_cursor_get(pc->c, &k, &v, MDB_SET) || mdb_cursor_get(pc->c, &k, &v, MDB_GET_MULTIPLE) ||
        s_pc_page(pc, &v))
        return STORE_E_LMDB;
    s_pc_doc(pc, limit);
    return 0;
}

/* ---- MaxScore ---- */

/* Min-heap of scores (the n best so far); returns the n-th best when full. */
static void s_heap_push(float *h, size_t *n, size_t cap, float v)
{
    if (*n < cap) {
        size_t i = (*n)++;
        h[i] = v;
        while (i > 0 && h[(i - 1) / 2] > h[i]) {
            float t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (v <= h[0]) return;
    h[0] = v;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < cap && h[l] < h[m]) m = l;
        if (r < cap && h[r] < h[m]) m = r;
        if (m == i) return;
        float t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

typedef struct {
    fts_score_t *s;
    const fts_query_t *q;
    float lo, hi; /* fixed floor (0: the floor rises with the best found) and ceiling */
    s_pc_t pc[FTS_MAX_QTERMS];
    size_t order[FTS_MAX_QTERMS];       /* long lists first, each by bound */
    double prefix[FTS_MAX_QTERMS + 1];  /* prefix[j]: sum of the j smallest bounds */
    uint32_t pmask[FTS_MAX_QTERMS + 1]; /* pmask[j]: the query words of those j terms */
    float coord0;                       /* coordination factor of a tip matching no word */
    bool pres_ok;                       /* every field weight > 0: a bit of pres is tf > 0 */
    double boost;                       /* largest named-topic factor */
    float *heap_keep, *heap_k;
    size_t nkeep, nk, keep, k;
    fts_cand_t *cand;
    size_t nc, ccap;
} s_prune_t;

/* Does the query allow pruning: no negative weight anywhere, k1 > 0, and a
 * named-topic factor that only lifts? */
static bool s_prunable(const fts_params_t *p, const fts_query_t *q, bool named)
{
    if (!(p->k1 > 0) || !(p->coord >= 0) || (named && !(p->named >= 1))) return false;
    for (int fi = 0; fi < FTS_FIELDS; fi++)
        if (!(p->w[fi] >= 0)) return false;
    for (size_t i = 0; i < q->n; i++)
        if (!(q->v[i].weight >= 0)) return false;
    return true;
}

/* Does term a (on da tips) come after term b in the walk's order? */
static bool s_after(const s_pc_t *a, size_t da, const s_pc_t *b, size_t db)
{
    bool sa = da < FTS_BOUND_MIN_DF, sb = db < FTS_BOUND_MIN_DF;
    return sa != sb ? sa : a->ub > b->ub;
}

/* Open a cursor per term, compute idf, bound and the order of the bounds.
 * Returns 1 when the terms have too few postings for pruning to pay. */
static int s_open_terms(s_prune_t *P, MDB_txn *txn)
{
    fts_score_t *s = P->s;
    fts_t *f = s->f;
    const fts_query_t *q = P->q;
    const double k1 = f->prm.k1;
    size_t dfs[FTS_MAX_QTERMS], total = 0;
    for (size_t i = 0; i < q->n; i++) {
        s_pc_t *pc = &P->pc[i];
        pc->doc = S_END;
        pc->key.mv_data = (void *)q->v[i].term;
        pc->key.mv_size = strlen(q->v[i].term);
        pc->bit = fts_qt_extra(q->v[i].kind) ? 0 : 1u << q->v[i].word;
        if (mdb_cursor_open(txn, f->post, &pc->c)) return STORE_E_LMDB;
        MDB_val k = pc->key, v;
        int rc = mdb_cursor_get(pc->c, &k, &v, MDB_SET);
        dfs[i] = 0;
        if (rc == MDB_NOTFOUND) continue;
        if (rc || mdb_cursor_count(pc->c, &dfs[i])) return STORE_E_LMDB;
        total += dfs[i];
    }
    if ((double)total < f->prm.prune_min) return 1; /* adding them all up is faster */
    for (size_t i = 0; i < q->n; i++) {
        s_pc_t *pc = &P->pc[i];
        size_t df = dfs[i];
        if (df == 0) continue;
        s->posts += df;
        pc->idfw = (float)(fts_idf(s, df, pc->bit) * q->v[i].weight * (k1 + 1.0));
        double share = 1.0;
        if (df >= FTS_BOUND_MIN_DF && pc->idfw > 0) {
            int err;
            fts_bound_t *b = fts_bound_get(f, pc->c, &pc->key, s->limit, (uint64_t)s->N, &err);
            if (err) return err;
            if (b) share = fts_bound_share(s, b, k1);
        } else if (pc->idfw == 0.0f && pc->bit && P->pres_ok && fts_pres_worth(df, s->limit)) {
            int err;
            pc->pres = fts_pres_get(f, pc->c, &pc->key, s->limit, (uint64_t)s->N, &err);
            if (err) return err;
        }
        pc->ub = (double)pc->idfw * share;
        int rc = s_pc_start(pc, s->limit);
        if (rc) return rc;
    }
    /* By bound, short lists last: any order is correct, and a short list
     * (a rare word, a name) costs little to walk but has a large bound,
     * which among the long lists' would hold them essential for longer. */
    for (size_t i = 0; i < q->n; i++) { /* insertion sort: at most 48 */
        size_t j = i;
        while (j > 0 && s_after(&P->pc[P->order[j - 1]], dfs[P->order[j - 1]], &P->pc[i], dfs[i])) {
            P->order[j] = P->order[j - 1];
            j--;
        }
        P->order[j] = i;
    }
    P->prefix[0] = 0;
    P->pmask[0] = 0;
    for (size_t j = 0; j < q->n; j++) {
        P->prefix[j + 1] = P->prefix[j] + P->pc[P->order[j]].ub;
        P->pmask[j + 1] = P->pmask[j] | P->pc[P->order[j]].bit;
    }
    P->coord0 = fts_coord(s, q, 0);
    return 0;
}

/* Can a tip with partial score part and further bounds rest reach theta? */
static bool s_can_reach(s_prune_t *P, double part, uint32_t mask, size_t j, float theta)
{
    /* Coordination scales a tip by a factor that grows with the words it
     * matches: one that can match at most the words of mask and of the j
     * smallest-bound terms is scaled by at most their factor (or by the
     * factor of no word, which the formula treats as one). */
    float cf = fts_coord(P->s, P->q, mask | P->pmask[j]);
    if (P->coord0 > cf) cf = P->coord0;
    return (part + P->prefix[j]) * cf * P->boost * (1 + S_SLACK) >= theta;
}

/* The floor: no tip below it is needed (see the top of the file). */
static float s_theta(const s_prune_t *P)
{
    if (P->nkeep < P->keep) return 0.0f;
    float t = P->heap_keep[0];
    if (P->k > 0) {
        if (P->nk < P->k) return 0.0f;
        float tk = (float)(P->heap_k[0] / FTS_PRIOR_MAX);
        if (tk < t) t = tk;
    }
    return t;
}

static int s_add_cand(s_prune_t *P, uint32_t doc, float score)
{
    if (P->nc == P->ccap) {
        size_t nc = P->ccap ? P->ccap * 2 : 1024;
        fts_cand_t *c = realloc(P->cand, nc * sizeof *c);
        if (!c) return STORE_E_NOSPACE;
        P->cand = c;
        P->ccap = nc;
    }
    P->cand[P->nc].score = score;
    P->cand[P->nc].doc = doc;
    P->nc++;
    s_heap_push(P->heap_keep, &P->nkeep, P->keep, score);
    if (P->k > 0) s_heap_push(P->heap_k, &P->nk, P->k, score);
    return 0;
}

/* The document-at-a-time walk. */
static int s_walk_docs(s_prune_t *P, const uint8_t *filter, const uint8_t *named, float *floor)
{
    fts_score_t *s = P->s;
    const fts_query_t *q = P->q;
    const size_t n = q->n;
    const float k1 = (float)s->f->prm.k1;
    const uint32_t limit = s->limit;
    float theta = P->lo, c[FTS_MAX_QTERMS];
    size_t ness = 0; /* order[0..ness) are non-essential */
    while (ness < n && !s_can_reach(P, 0, 0, ness + 1, theta)) ness++;
    for (;;) {
        uint32_t d = S_END;
        for (size_t j = ness; j < n; j++)
            if (P->pc[P->order[j]].doc < d) d = P->pc[P->order[j]].doc;
        if (d == S_END) break;
        bool skip = filter && !(filter[d >> 3] & (1u << (d & 7)));
        uint32_t mask = 0;
        double part = 0;
        memset(c, 0, n * sizeof c[0]);
        for (size_t j = ness; j < n; j++) {
            size_t t = P->order[j];
            s_pc_t *pc = &P->pc[t];
            if (pc->doc != d) continue;
            float tf = fts_tf(s, pc->p);
            if (!skip && tf > 0.0f) {
                c[t] = pc->idfw * tf / (k1 + tf);
                mask |= pc->bit;
                part += c[t];
            }
            int rc = s_pc_next(pc, limit);
            if (rc) return rc;
        }
        if (skip) continue;
        bool reach = true;
        for (size_t j = ness; j-- > 0 && reach;) {
            if (!(reach = s_can_reach(P, part, mask, j + 1, theta))) break;
            size_t t = P->order[j];
            s_pc_t *pc = &P->pc[t];
            /* A term of weight 0 (a synonym) adds nothing to a score; it
             * only says a tip matches its word, and a tip known to match
             * that word already learns nothing from its list. */
            if (pc->idfw == 0.0f && (mask & pc->bit) == pc->bit) continue;
            if (pc->pres) {
                if (pc->pres[d >> 3] & (1u << (d & 7))) mask |= pc->bit;
                s->f->pres_looks++;
                continue;
            }
            int rc = s_pc_seek(pc, d, limit);
            if (rc) return rc;
            if (pc->doc != d) continue;
            float tf = fts_tf(s, pc->p);
            if (tf > 0.0f) {
                c[t] = pc->idfw * tf / (k1 + tf);
                mask |= pc->bit;
                part += c[t];
            }
        }
        if (!reach) {
            s->f->pruned++;
            continue;
        }
        float sc = fts_final(s, q, c, mask, named && (named[d >> 3] & (1u << (d & 7))));
        if (!(sc > 0.0f) || sc < theta || sc >= P->hi) continue;
        int rc = s_add_cand(P, d, sc);
        if (rc) return rc;
        float nt = P->lo > 0.0f ? theta : s_theta(P);
        if (nt > theta) {
            theta = nt;
            while (ness < n && !s_can_reach(P, 0, 0, ness + 1, theta)) ness++;
        }
    }
    *floor = theta;
    return 0;
}

int fts_gather_pruned(fts_score_t *s, MDB_txn *txn, const fts_query_t *q, const uint8_t *filter,
                      const uint8_t *named, size_t keep, size_t k, float lo, float hi,
                      fts_cand_t **cand, size_t *nc, float *floor)
{
    const fts_params_t *p = &s->f->prm;
    if ((keep == 0 && !(lo > 0)) || q->n == 0 || !s_prunable(p, q, named != NULL)) return 1;
    s_prune_t *P = calloc(1, sizeof *P);
    if (!P) return STORE_E_NOSPACE;
    P->s = s;
    P->q = q;
    P->boost = named && p->named > 1 ? p->named : 1.0;
    P->keep = lo > 0 ? 0 : keep;
    P->k = lo > 0 ? 0 : k;
    P->lo = lo > 0 ? lo : 0.0f;
    P->hi = hi;
    P->heap_keep = malloc((P->keep ? P->keep : 1) * sizeof *P->heap_keep);
    P->heap_k = P->k ? malloc(P->k * sizeof *P->heap_k) : NULL;
    memset(s->widf, 0, sizeof s->widf);
    memset(s->coord, 0, sizeof s->coord);
    P->pres_ok = true;
    for (int fi = 0; fi < FTS_FIELDS; fi++)
        if (!(p->w[fi] > 0)) P->pres_ok = false;
    fts_pres_begin(s->f);
    int rc = !P->heap_keep || (P->k && !P->heap_k) ? STORE_E_NOSPACE : s_open_terms(P, txn);
    float fl = 0.0f;
    if (!rc) rc = s_walk_docs(P, filter, named, &fl);
    if (rc > 0) { /* too few postings to be worth it */
        for (size_t i = 0; i < q->n; i++)
            if (P->pc[i].c) mdb_cursor_close(P->pc[i].c);
        free(P->heap_keep);
        free(P->heap_k);
        free(P);
        return 1;
    }
    for (size_t i = 0; i < q->n; i++)
        if (P->pc[i].c) mdb_cursor_close(P->pc[i].c);
    if (!rc) {
        /* Tips kept before the floor rose to where it ended are dropped:
         * the caller's promise is "everything at or above the floor". */
        size_t w = 0;
        for (size_t i = 0; i < P->nc; i++)
            if (P->cand[i].score >= fl) P->cand[w++] = P->cand[i];
        P->nc = w;
        if (!P->cand) P->cand = malloc(sizeof *P->cand);
        if (!P->cand) rc = STORE_E_NOSPACE;
    }
    if (rc) {
        free(P->cand);
    } else {
        *cand = P->cand;
        *nc = P->nc;
        *floor = fl;
    }
    free(P->heap_keep);
    free(P->heap_k);
    free(P);
    return rc;
}
