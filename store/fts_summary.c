/* fts_summary.c -- what the search keeps in memory about long posting
 * lists: a summary of each list's term counts for pruning's bounds, and a
 * bitmap of the tips that hold a synonym (docs/SEARCH.md, "Pruning").
 *
 * Both are made by reading a term's postings once and are brought up to
 * date by reading only the postings added since (docnums only grow); both
 * say which index state they were read at: the next docnum (limit) and the
 * live documents (docs).
 *
 * Bounds. For each field, the largest term count among the postings whose
 * quantised field length falls in each of FTS_BUCKETS buckets. A
 * retraction only removes postings, so a summary stays an upper bound for
 * every later state; a search on an older snapshot than the summary's (a
 * reader thread that began before an ingest) gets none and uses the plain
 * bound. The table is open addressing and is emptied when three quarters
 * full.
 *
 * Presence. A synonym has weight 0: its list only tells coordination
 * whether a tip holds its word, yet looking a tip up in it reads a page of
 * a long list, and a question like "show all open network connections"
 * looks up display, list, output, print and view for thousands of tips:
 * half the pages it reads. A bitmap of the docnums holding the term
 * answers the same question in one bit (an eighth of a byte against a
 * 12-byte posting). It must be exact, not a bound, so it is used only for
 * the state it was read at or a later one reached by additions alone (the
 * live documents grew by exactly the docnums handed out); after a
 * retraction it is read again, and an older snapshot gets none. A bit
 * says the posting counts the term in some field, which is what makes its
 * weighted term frequency positive when every field weight is (the caller
 * checks that). The bitmaps share a byte budget; the one used longest ago
 * goes first, never one the current query holds.
 */
#include "fts_int.h"

#include <stdlib.h>
#include <string.h>

#define S_PRES_BYTES (3u << 20) /* all bitmaps together: ~24 at a million tips */

typedef void (*s_post_fn)(void *arg, const uint8_t *p, const uint8_t *end);

/* Hand fn the postings of term whose docnums are in [from, limit), the
 * part of a page in range at a time (a page read whole may begin before
 * from). 0, or STORE_E_LMDB (what was handed over may then be a part). */
static int s_read_range(MDB_cursor *c, const MDB_val *term, uint32_t from, uint32_t limit,
                        s_post_fn fn, void *arg)
{
    uint8_t want[FTS_POST_LEN] = {0};
    fts_be32(want, from);
    MDB_val k = *term, v = {sizeof want, want};
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
    if (rc == 0) rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE);
    while (rc == 0) {
        if (v.mv_size % FTS_POST_LEN) return STORE_E_LMDB;
        const uint8_t *p = v.mv_data, *end = p + v.mv_size, *q;
        while (p < end && fts_rd32(p) < from) p += FTS_POST_LEN;
        for (q = p; q < end && fts_rd32(q) < limit; q += FTS_POST_LEN) {
        }
        if (q > p) fn(arg, p, q);
        if (q < end) return 0; /* sorted: the rest are at or past limit */
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE);
    }
    return rc == MDB_NOTFOUND ? 0 : STORE_E_LMDB;
}

static uint32_t s_hash(const MDB_val *term)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < term->mv_size; i++)
        h = (h ^ ((const uint8_t *)term->mv_data)[i]) * 16777619u;
    return h;
}

/* ---- bounds ---- */

static void s_summarise(void *arg, const uint8_t *p, const uint8_t *end)
{
    fts_bound_t *b = arg;
    for (; p < end; p += FTS_POST_LEN)
        for (int fi = 0; fi < FTS_FIELDS; fi++) {
            uint8_t tf = p[fts_tf_at[fi]], *m = &b->maxtf[fi][p[fts_len_at[fi]] >> 3];
            if (tf > *m) *m = tf;
        }
}

/* The table's entry for term; a new empty one if it has none and add. */
static fts_bound_t *s_bound_slot(fts_t *f, const MDB_val *term, bool add)
{
    uint32_t h = s_hash(term);
    for (size_t probe = 0; probe < FTS_BSLOTS; probe++) {
        fts_bound_t *e = &f->bounds[(h + probe) & (FTS_BSLOTS - 1)];
        if (!e->used) {
            if (!add) return NULL;
            memcpy(e->term, term->mv_data, term->mv_size);
            e->len = (uint8_t)term->mv_size;
            e->used = 1;
            e->limit = 0;
            e->docs = 0;
            memset(e->maxtf, 0, sizeof e->maxtf);
            f->nbounds++;
            return e;
        }
        if (e->len == term->mv_size && memcmp(e->term, term->mv_data, e->len) == 0) return e;
    }
    return NULL;
}

fts_bound_t *fts_bound_get(fts_t *f, MDB_cursor *c, const MDB_val *term, uint32_t limit,
                           uint64_t docs, int *err)
{
    *err = 0;
    if (term->mv_size > TEXT_MAX_TERM) return NULL;
    if (!f->bounds) {
        f->bounds = calloc(FTS_BSLOTS, sizeof *f->bounds);
        if (!f->bounds) {
            *err = STORE_E_NOSPACE;
            return NULL;
        }
    }
    if (f->nbounds >= FTS_BSLOTS / 4 * 3) { /* full enough: start again */
        memset(f->bounds, 0, FTS_BSLOTS * sizeof *f->bounds);
        f->nbounds = 0;
    }
    fts_bound_t *b = s_bound_slot(f, term, true);
    /* States only move forward: next docnum up, or the same with fewer
     * live documents (a retraction). */
    if (!b || b->limit > limit || (b->limit == limit && b->docs < docs)) return NULL;
    if (b->limit == limit) return b;
    if (s_read_range(c, term, b->limit, limit, s_summarise, b)) {
        /* Half read: start it again next time (a summary only ever grows,
         * so what was read is still a valid part of it). */
        *err = STORE_E_LMDB;
        return NULL;
    }
    b->limit = limit;
    b->docs = docs;
    return b;
}

double fts_bound_share(const fts_score_t *s, const fts_bound_t *b, double k1)
{
    double x = 0;
    for (int fi = 0; fi < FTS_FIELDS; fi++) {
        double mf = 0;
        for (int bk = 0; bk < FTS_BUCKETS; bk++) {
            if (!b->maxtf[fi][bk]) continue;
            float nm = 0;
            for (int l = bk * 8; l < bk * 8 + 8; l++)
                if (s->inv_norm[fi][l] > nm) nm = s->inv_norm[fi][l];
            double v = (double)b->maxtf[fi][bk] * nm;
            if (v > mf) mf = v;
        }
        x += mf;
    }
    return x / (k1 + x);
}

/* ---- presence ---- */

static void s_mark(void *arg, const uint8_t *p, const uint8_t *end)
{
    uint8_t *bits = arg;
    for (; p < end; p += FTS_POST_LEN) {
        uint32_t doc = fts_rd32(p);
        if (p[fts_tf_at[0]] | p[fts_tf_at[1]] | p[fts_tf_at[2]] | p[fts_tf_at[3]])
            bits[doc >> 3] |= (uint8_t)(1u << (doc & 7));
    }
}

static void s_pres_drop(fts_t *f, fts_pres_t *e)
{
    f->pres_bytes -= e->cap;
    free(e->bits);
    memset(e, 0, sizeof *e);
}

/* The bitmap used longest ago and not by the current query, or NULL. */
static fts_pres_t *s_pres_oldest(fts_t *f)
{
    fts_pres_t *old = NULL;
    for (size_t i = 0; i < FTS_PRES_SLOTS; i++) {
        fts_pres_t *e = &f->pres[i];
        if (e->bits && e->gen != f->pres_gen && (!old || e->gen < old->gen)) old = e;
    }
    return old;
}

/* Room for need more bytes: drop the bitmaps used longest ago, none of
 * the current query's (none at all unless evict). 0, or -1 if the budget
 * cannot hold them. */
static int s_pres_room(fts_t *f, size_t need, bool evict)
{
    while (f->pres_bytes + need > S_PRES_BYTES) {
        fts_pres_t *old = evict ? s_pres_oldest(f) : NULL;
        if (!old) return -1;
        s_pres_drop(f, old);
    }
    return 0;
}

/* The slot holding term's bitmap, or NULL. */
static fts_pres_t *s_pres_find(fts_t *f, const MDB_val *term)
{
    for (size_t i = 0; i < FTS_PRES_SLOTS; i++) {
        fts_pres_t *e = &f->pres[i];
        if (e->len == term->mv_size && e->bits && !memcmp(e->term, term->mv_data, e->len)) return e;
    }
    return NULL;
}

/* The slot of term, or a free one (one used longest ago dropped if none
 * is free and evict). */
static fts_pres_t *s_pres_slot(fts_t *f, const MDB_val *term, bool evict)
{
    fts_pres_t *e = s_pres_find(f, term);
    if (e) return e;
    for (size_t i = 0; i < FTS_PRES_SLOTS; i++)
        if (!f->pres[i].bits) return &f->pres[i];
    if (!evict || !(e = s_pres_oldest(f))) return NULL;
    s_pres_drop(f, e);
    return e;
}

void fts_pres_begin(fts_t *f)
{
    f->pres_gen++;
}

/* fts_pres_get; evict: whether other bitmaps may go to make room. */
static const uint8_t *s_pres_get(fts_t *f, MDB_cursor *c, const MDB_val *term, uint32_t limit,
                                 uint64_t docs, bool evict, int *err)
{
    *err = 0;
    if (term->mv_size > TEXT_MAX_TERM || limit == 0) return NULL;
    fts_pres_t *e = s_pres_slot(f, term, evict);
    if (!e) return NULL;
    if (e->bits) {
        /* States move forward: the next docnum up, or the same with
         * fewer live documents (a retraction). */
        if (e->limit > limit || (e->limit == limit && docs > e->docs))
            return NULL; /* the caller's snapshot is older */
        /* Additions alone hand out one docnum per live document. */
        if (docs < e->docs || docs - e->docs != (uint64_t)(limit - e->limit)) {
            memset(e->bits, 0, e->cap);
            e->limit = 0;
            e->docs = 0;
        }
    }
    e->gen = f->pres_gen;
    if (e->bits && e->limit == limit) return e->bits;
    size_t need = ((size_t)limit + 7) / 8;
    if (need > e->cap) {
        size_t cap = (need + need / 16 + 4095) & ~(size_t)4095; /* room to grow with ingest */
        if (s_pres_room(f, cap - e->cap, evict)) {
            if (e->bits) s_pres_drop(f, e);
            return NULL;
        }
        uint8_t *nb = realloc(e->bits, cap);
        if (!nb) {
            if (e->bits) s_pres_drop(f, e);
            *err = STORE_E_NOSPACE;
            return NULL;
        }
        memset(nb + e->cap, 0, cap - e->cap);
        if (!e->bits) {
            memcpy(e->term, term->mv_data, term->mv_size);
            e->len = (uint8_t)term->mv_size;
        }
        f->pres_bytes += cap - e->cap;
        e->bits = nb;
        e->cap = cap;
    }
    if (e->limit == 0) f->pres_reads++;
    if (s_read_range(c, term, e->limit, limit, s_mark, e->bits)) {
        s_pres_drop(f, e); /* half read */
        *err = STORE_E_LMDB;
        return NULL;
    }
    e->limit = limit;
    e->docs = docs;
    return e->bits;
}

const uint8_t *fts_pres_get(fts_t *f, MDB_cursor *c, const MDB_val *term, uint32_t limit,
                            uint64_t docs, int *err)
{
    return s_pres_get(f, c, term, limit, docs, true, err);
}

/* ---- made ahead ---- */

typedef struct {
    char term[TEXT_MAX_TERM + 1];
    uint8_t len;
    size_t df;
} s_long_t;

static int s_by_df(const void *a, const void *b)
{
    const s_long_t *x = a, *y = b;
    return (x->df < y->df) - (x->df > y->df);
}

/* Append term (df postings) to *v[*n]. 0 or STORE_E_NOSPACE. */
static int s_long_add(s_long_t **v, size_t *n, size_t *cap, const MDB_val *term, size_t df)
{
    if (term->mv_size > TEXT_MAX_TERM) return 0;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        s_long_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return STORE_E_NOSPACE;
        *v = nv;
        *cap = nc;
    }
    s_long_t *e = &(*v)[(*n)++];
    memcpy(e->term, term->mv_data, term->mv_size);
    e->len = (uint8_t)term->mv_size;
    e->df = df;
    return 0;
}

/* The terms of FTS_BOUND_MIN_DF postings or more, longest first. */
static int s_long_lists(MDB_cursor *c, s_long_t **v, size_t *n)
{
    size_t cap = 0;
    MDB_val k, d;
    int rc = mdb_cursor_get(c, &k, &d, MDB_FIRST);
    while (rc == 0) {
        size_t df;
        if (mdb_cursor_count(c, &df)) return STORE_E_LMDB;
        if (df >= FTS_BOUND_MIN_DF && s_long_add(v, n, &cap, &k, df)) return STORE_E_NOSPACE;
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_NODUP);
    }
    if (rc != MDB_NOTFOUND) return STORE_E_LMDB;
    if (*n > 1) qsort(*v, *n, sizeof **v, s_by_df);
    return 0;
}

/* The synonyms worth a bitmap, longest first. */
static int s_long_synonyms(fts_t *f, MDB_cursor *c, uint32_t limit, s_long_t **v, size_t *n)
{
    size_t cap = 0;
    const char *w;
    for (size_t i = 0; (w = text_synonym_word(f->qtext, i)); i++) {
        MDB_val k = {strlen(w), (void *)w}, d;
        size_t df;
        int rc = mdb_cursor_get(c, &k, &d, MDB_SET);
        if (rc == MDB_NOTFOUND) continue;
        if (rc || mdb_cursor_count(c, &df)) return STORE_E_LMDB;
        bool dup = false; /* a word of two groups */
        for (size_t j = 0; j < *n && !dup; j++)
            dup = (*v)[j].len == k.mv_size && !memcmp((*v)[j].term, w, k.mv_size);
        if (!dup && fts_pres_worth(df, limit) && s_long_add(v, n, &cap, &k, df))
            return STORE_E_NOSPACE;
    }
    if (*n > 1) qsort(*v, *n, sizeof **v, s_by_df);
    return 0;
}

int fts_summary_warm(fts_t *f, MDB_txn *txn, int (*stop)(void *arg), void *arg)
{
    fts_stats_t st;
    int rc = fts_stats_get(txn, f->meta, &st);
    if (rc) return rc;
    MDB_cursor *c;
    if (mdb_cursor_open(txn, f->post, &c)) return STORE_E_LMDB;
    s_long_t *v = NULL;
    size_t n = 0;
    rc = s_long_lists(c, &v, &n);
    for (size_t i = 0; i < n && i < FTS_BSLOTS / 2 && !rc; i++) {
        MDB_val k = {v[i].len, v[i].term};
        pthread_mutex_lock(&f->lock);
        fts_bound_t *b = f->bounds ? s_bound_slot(f, &k, false) : NULL;
        bool made = b && b->limit >= st.next_doc; /* fts_bound_get would read nothing */
        pthread_mutex_unlock(&f->lock);
        if (made) continue; /* a warm called again asks only before work */
        if (stop && stop(arg)) {
            rc = 1;
            break;
        }
        pthread_mutex_lock(&f->lock);
        fts_bound_get(f, c, &k, st.next_doc, st.docs, &rc);
        pthread_mutex_unlock(&f->lock);
    }
    free(v);
    v = NULL;
    n = 0;
    if (!rc) rc = s_long_synonyms(f, c, st.next_doc, &v, &n);
    for (size_t i = 0; i < n && !rc; i++) {
        MDB_val k = {v[i].len, v[i].term};
        pthread_mutex_lock(&f->lock);
        fts_pres_t *e = s_pres_find(f, &k);
        bool made = e && e->limit == st.next_doc && e->docs == st.docs;
        pthread_mutex_unlock(&f->lock);
        if (made) continue;
        if (stop && stop(arg)) {
            rc = 1;
            break;
        }
        pthread_mutex_lock(&f->lock);
        /* Without evicting: the longest come first and stay. */
        const uint8_t *bits = s_pres_get(f, c, &k, st.next_doc, st.docs, false, &rc);
        pthread_mutex_unlock(&f->lock);
        if (!bits && !rc) break; /* the budget is full */
    }
    free(v);
    mdb_cursor_close(c);
    return rc;
}

void fts_summary_clear(fts_t *f)
{
    if (f->bounds) memset(f->bounds, 0, FTS_BSLOTS * sizeof *f->bounds);
    f->nbounds = 0;
    for (size_t i = 0; i < FTS_PRES_SLOTS; i++)
        if (f->pres[i].bits) s_pres_drop(f, &f->pres[i]);
}

void fts_summary_free(fts_t *f)
{
    fts_summary_clear(f);
    free(f->bounds);
    f->bounds = NULL;
}
