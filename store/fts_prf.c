/* fts_prf.c -- pseudo-relevance feedback: the words that the best matches
 * of a query have in common join it at a low weight (docs/SEARCH.md,
 * "Feedback").
 *
 * People ask in their words, tips are written in their authors'. The first
 * pass finds a few tips that share the asker's words; their other words
 * (the author's vocabulary for the same thing) are then looked for too.
 * This is the relevance model of Lavrenko and Croft (RM3) with one change:
 * each word's weight is also multiplied by its idf, so that words every tip
 * has ("file", "path") do not drown the rest. The text comes from the store
 * through fts_text_fn and is tokenized like the tip was (its language), so
 * no per-tip term table is needed. The work is bounded: FTS_PRF_DOCS tips,
 * a table of S_SLOTS distinct terms, and S_MAX_DF_SHARE of the index as the
 * commonest word considered.
 */
#include "fts_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_SLOTS        4096 /* distinct terms considered (a power of two) */
#define S_MAX_DF_SHARE 0.1  /* words on more tips than this share are skipped */

typedef struct {
    char term[TEXT_MAX_TERM + 1];
    uint8_t len, used;
    double w;    /* relevance-model weight */
    unsigned tf; /* in the current tip */
} s_slot_t;

typedef struct {
    s_slot_t *slot;
    size_t used;
    unsigned len; /* terms of the current tip */
} s_rm_t;

void fts_set_text(fts_t *f, fts_text_fn fn, void *arg)
{
    if (!f) return;
    f->text_fn = fn;
    f->text_arg = arg;
}

static int s_term(const char *term, size_t len, unsigned flags, void *arg)
{
    s_rm_t *r = arg;
    r->len++;
    if (flags & (TEXT_F_STOP | TEXT_F_CJK) || len < 3) return 0;
    bool digits = true;
    for (size_t i = 0; i < len; i++)
        if (!(term[i] >= '0' && term[i] <= '9')) digits = false;
    if (digits) return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)term[i]) * 16777619u;
    for (size_t p = 0; p < S_SLOTS; p++) {
        s_slot_t *e = &r->slot[(h + p) & (S_SLOTS - 1)];
        if (e->used && e->len == len && memcmp(e->term, term, len) == 0) {
            e->tf++;
            return 0;
        }
        if (e->used) continue;
        if (r->used >= S_SLOTS / 2) return 0; /* full enough: later words are dropped */
        memcpy(e->term, term, len);
        e->term[len] = 0;
        e->len = (uint8_t)len;
        e->used = 1;
        e->tf = 1;
        r->used++;
        return 0;
    }
    return 0;
}

static int s_cmp_w(const void *a, const void *b)
{
    const s_slot_t *x = *(const s_slot_t *const *)a, *y = *(const s_slot_t *const *)b;
    if (x->w != y->w) return x->w < y->w ? 1 : -1;
    return strcmp(x->term, y->term);
}

/* Tokenize one tip into r and add tf/len * pd to every term's weight. */
static int s_tip(fts_t *f, MDB_txn *txn, uint32_t docnum, double pd, s_rm_t *r)
{
    fts_doc_t doc;
    MDB_val v;
    int rc = fts_doc_get(f, txn, docnum, &doc, &v);
    if (rc) return rc < 0 ? rc : 0;
    rc = f->text_fn(txn, doc.id, f->prf_ev, f->text_arg);
    if (rc < 0) return rc;
    if (rc > 0) return 0;
    const event_t *ev = f->prf_ev;
    for (size_t i = 0; i < S_SLOTS; i++) r->slot[i].tf = 0;
    r->len = 0;
    fts_event_lang(f->qtext, ev);
    text_tokenize(f->qtext, ev->title, strnlen(ev->title, sizeof ev->title), s_term, r);
    text_tokenize(f->qtext, ev->body, strnlen(ev->body, sizeof ev->body), s_term, r);
    text_set_lang(f->qtext, TEXT_LANG_EN);
    if (r->len == 0) return 0;
    for (size_t i = 0; i < S_SLOTS; i++)
        if (r->slot[i].tf) r->slot[i].w += pd * r->slot[i].tf / r->len;
    return 0;
}

int fts_prf(fts_t *f, MDB_txn *txn, MDB_cursor *c, const uint32_t *docs, const float *scores,
            size_t n, double N, fts_query_t *q)
{
    if (!f->text_fn || n == 0 || f->prm.prf_terms < 1) return 0;
    if (!f->prf_ev && !(f->prf_ev = malloc(sizeof *f->prf_ev))) return STORE_E_NOSPACE;
    s_rm_t r = {.slot = calloc(S_SLOTS, sizeof(s_slot_t))};
    s_slot_t **order = malloc(S_SLOTS * sizeof *order);
    if (!r.slot || !order) {
        free(r.slot);
        free(order);
        return STORE_E_NOSPACE;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += scores[i];
    int rc = 0;
    for (size_t i = 0; i < n && !rc && sum > 0; i++)
        rc = s_tip(f, txn, docs[i], scores[i] / sum, &r);
    /* The relevance model's best words, then each weighed by its idf. */
    size_t no = 0;
    for (size_t i = 0; i < S_SLOTS && !rc; i++) {
        s_slot_t *e = &r.slot[i];
        if (!e->used || !(e->w > 0)) continue;
        bool in_query = false;
        for (size_t j = 0; j < q->n; j++)
            if (strcmp(q->v[j].term, e->term) == 0) in_query = true;
        if (!in_query) order[no++] = e;
    }
    qsort(order, no, sizeof *order, s_cmp_w);
    size_t want = (size_t)f->prm.prf_terms, look = no < 4 * want ? no : 4 * want;
    for (size_t i = 0; i < look && !rc; i++) {
        MDB_val k = {order[i]->len, order[i]->term}, v;
        size_t df = 0;
        int g = mdb_cursor_get(c, &k, &v, MDB_SET);
        if (g == 0 && mdb_cursor_count(c, &df)) g = STORE_E_LMDB;
        if (g && g != MDB_NOTFOUND) rc = STORE_E_LMDB;
        if ((double)df < 1 || (double)df > S_MAX_DF_SHARE * N)
            order[i]->w = 0;
        else
            order[i]->w *= log(N / (double)df);
    }
    if (!rc) {
        qsort(order, look, sizeof *order, s_cmp_w);
        double top = look ? order[0]->w : 0;
        for (size_t i = 0; i < look && i < want && q->n < FTS_MAX_QTERMS && top > 0; i++) {
            if (!(order[i]->w > 0)) break;
            fts_qterm_t *e = &q->v[q->n++];
            memcpy(e->term, order[i]->term, order[i]->len + 1u);
            memcpy(e->surf, order[i]->term, order[i]->len + 1u);
            e->weight = f->prm.prf * order[i]->w / top;
            e->flags = 0;
            e->word = 0;
            e->kind = FTS_QT_PRF;
        }
    }
    free(r.slot);
    free(order);
    return rc;
}
