/* fts_acc.c -- the accumulator of exhaustive scoring: for each tip a
 * query's postings name, its score so far and the query words it matched.
 *
 * Exhaustive scoring (fts_search.c) runs only when a query's terms have
 * few postings in all (fewer than prune_min, 30,000 by default; longer
 * ones go through fts_prune.c), so it names a few thousand tips out of a
 * million. A dense array indexed by docnum would hold 8 bytes for every
 * tip in the store (8 MiB at a million, most of the search's memory) and
 * spread each query over all of its pages; here the tips a query names
 * are entries in the order they were first met, found by docnum through
 * an open-addressing table (Fibonacci hashing, linear probing, at most
 * half full). Scores are added in the order the caller adds them, as a
 * dense array would: the sums are the same, bit for bit. Between queries
 * the table is cleared, and kept unless it grew past S_KEEP slots (only
 * an exhaustive run over long lists, pruning turned off, makes it so).
 */
#include "fts_int.h"

#include <stdlib.h>
#include <string.h>

#define S_MIN_SLOTS 4096
#define S_KEEP      (1u << 17) /* slots kept between queries: 512 KiB */

static size_t s_slot(const fts_acc_t *a, uint32_t doc)
{
    return (uint32_t)(doc * 2654435769u) >> a->shift;
}

/* Double the table (or make the first one) and place every entry again. */
static int s_grow(fts_acc_t *a)
{
    size_t cap = a->cap ? a->cap * 2 : S_MIN_SLOTS;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx) return -1;
    free(a->idx);
    a->idx = idx;
    a->cap = cap;
    a->shift = 32;
    for (size_t c = cap; c > 1; c >>= 1) a->shift--;
    for (size_t i = 0; i < a->n; i++) {
        size_t h = s_slot(a, a->ent[i].doc);
        while (a->idx[h]) h = (h + 1) & (cap - 1);
        a->idx[h] = (uint32_t)i + 1;
    }
    return 0;
}

int fts_acc_add(fts_acc_t *a, uint32_t doc, float v, uint32_t bit)
{
    if (2 * (a->n + 1) > a->cap && s_grow(a)) return -1;
    size_t h = s_slot(a, doc);
    for (; a->idx[h]; h = (h + 1) & (a->cap - 1)) {
        fts_acc_ent_t *e = &a->ent[a->idx[h] - 1];
        if (e->doc == doc) {
            e->score += v;
            e->mask |= bit;
            return 0;
        }
    }
    if (a->n == a->ent_cap) {
        size_t nc = a->ent_cap ? a->ent_cap * 2 : S_MIN_SLOTS / 2;
        fts_acc_ent_t *ne = realloc(a->ent, nc * sizeof *ne);
        if (!ne) return -1;
        a->ent = ne;
        a->ent_cap = nc;
    }
    a->ent[a->n] = (fts_acc_ent_t){.doc = doc, .mask = bit, .score = 0.0f};
    a->ent[a->n].score += v;
    a->idx[h] = (uint32_t)++a->n;
    return 0;
}

void fts_acc_clear(fts_acc_t *a)
{
    if (a->cap > S_KEEP) {
        fts_acc_free(a);
        return;
    }
    if (a->n) memset(a->idx, 0, a->cap * sizeof *a->idx);
    a->n = 0;
}

int fts_acc_prepare(fts_acc_t *a)
{
    while (a->cap < S_MIN_SLOTS * 4)
        if (s_grow(a)) return -1;
    if (a->ent_cap < a->cap / 2) {
        fts_acc_ent_t *ne = realloc(a->ent, a->cap / 2 * sizeof *ne);
        if (!ne) return -1;
        a->ent = ne;
        a->ent_cap = a->cap / 2;
    }
    memset(a->idx, 0, a->cap * sizeof *a->idx);
    memset(a->ent, 0, a->ent_cap * sizeof *a->ent);
    return 0;
}

void fts_acc_free(fts_acc_t *a)
{
    free(a->idx);
    free(a->ent);
    memset(a, 0, sizeof *a);
}
