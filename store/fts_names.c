/* fts_names.c -- the names in topics that hold a query word (docs/SEARCH.md,
 * "Names").
 *
 * Commands and tools are named by compounds of the words people ask in
 * (groupadd, azcopy, cryptsetup-luksformat), and a question never says the
 * name. The index posts every topic under FTS_TOPIC_MARK + topic and every
 * name inside a topic under FTS_NAME_MARK + the name reversed (fts.c,
 * fts_names), both counted once in the topics field. So a query word finds
 * the topics whose first name starts with it, and the names that end with
 * it, by two range scans.
 * Names join a query two ways:
 *   - lift (prm.name_boost): each of the best candidates (phase 1 of
 *     fts_search.c) whose topics hold a name for some query words is
 *     lifted by the share of the query's idf those words carry, like
 *     proximity's first line;
 *   - retrieval (prm.part): a few of them, the ones on the fewest tips,
 *     join as terms of their own, so a tip named for the word is found even
 *     when its text never says it. A name is on few tips, so its list is
 *     short, and the pruned walk takes short lists last (fts_prune.c): its
 *     large bound does not keep the common words' lists essential.
 */
#include "fts_int.h"

#include <stdlib.h>
#include <string.h>

#define S_PART_LOOK 64           /* keys looked at per word and direction */
#define S_PART_MAX  8            /* names kept per word */
#define S_PART_MIN  FTS_NAME_MIN /* shorter words start and end too many names */

typedef struct {
    char key[S_PART_MAX][EVENT_MAX_TOPIC_LEN + 2]; /* the index keys scored */
    size_t df[S_PART_MAX], n, want;
} s_names_t;

/* Keep the index key k[kl] of the name[len] (on df tips) if it is among
 * the want held by the fewest tips so far: a rare name is a command's. A
 * name that stems to the word's own term (word_term) is the word, not a
 * name holding it. */
static void s_name_keep(fts_t *f, s_names_t *b, const char *word_term, const char *name, size_t len,
                        const char *k, size_t kl, size_t df)
{
    size_t at = b->n;
    while (at > 0 && b->df[at - 1] > df) at--;
    if (at >= b->want || !fts_is_name(name, len)) return; /* stem only what may be kept */
    char key[EVENT_MAX_TOPIC_LEN + 2], term[TEXT_MAX_TERM + 1];
    memcpy(key, k, kl);
    key[kl] = 0;
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->key[i], key)) return;
    if (text_stem_word(f->qtext, name, len, term) && !strcmp(term, word_term)) return;
    if (b->n < b->want) b->n++;
    memmove(b->key[at + 1], b->key[at], (b->n - 1 - at) * sizeof b->key[0]);
    memmove(&b->df[at + 1], &b->df[at], (b->n - 1 - at) * sizeof b->df[0]);
    memcpy(b->key[at], key, kl + 1);
    b->df[at] = df;
}

/* fts_names callback: the first name of a topic. */
typedef struct {
    const char *name;
    size_t len;
} s_first_t;

static int s_first(const char *name, size_t len, void *arg)
{
    s_first_t *x = arg;
    x->name = name;
    x->len = len;
    return 1;
}

/* Scan the keys mark + pre[pl] ... (at most S_PART_LOOK): topics
 * (FTS_TOPIC_MARK; the name is the topic's first part) or names reversed
 * (FTS_NAME_MARK). */
static int s_name_scan(fts_t *f, MDB_cursor *c, s_names_t *b, const char *word_term, char mark,
                       const char *pre, size_t pl)
{
    char key[EVENT_MAX_TOPIC_LEN + 2], name[EVENT_MAX_TOPIC_LEN + 1];
    if (pl > EVENT_MAX_TOPIC_LEN) return 0;
    key[0] = mark;
    memcpy(key + 1, pre, pl);
    MDB_val k = {pl + 1, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (int n = 0; rc == 0 && n < S_PART_LOOK; n++) {
        const char *kd = k.mv_data;
        if (k.mv_size < pl + 1 || memcmp(kd, key, pl + 1)) break;
        size_t len = k.mv_size - 1;
        if (mark == FTS_TOPIC_MARK) { /* the topic's first name, if it starts it */
            s_first_t first = {NULL, 0};
            fts_names(kd + 1, len, s_first, &first);
            len = first.name == kd + 1 ? first.len : 0;
        }
        if (len > pl && len <= EVENT_MAX_TOPIC_LEN) {
            size_t df = 0;
            if (mdb_cursor_count(c, &df)) return STORE_E_LMDB;
            for (size_t i = 0; i < len; i++)
                name[i] = mark == FTS_NAME_MARK ? kd[len - i] : kd[1 + i];
            s_name_keep(f, b, word_term, name, len, kd, k.mv_size, df);
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : STORE_E_LMDB;
}

/* One word's names (s_names_t), gathered with every other word's. */
typedef struct {
    char key[EVENT_MAX_TOPIC_LEN + 2];
    size_t df;
    size_t from; /* the query term whose word they hold */
} s_name_t;

static int s_cmp_name(const void *a, const void *b)
{
    const s_name_t *x = a, *y = b;
    if (x->df != y->df) return x->df < y->df ? -1 : 1;
    return x->from < y->from ? -1 : x->from > y->from;
}

/* Query word i's names: the first names of topics that start with the word
 * as typed and the names in topics that end with it ("groupadd" for
 * "group" and for "add", "luksformat" for "format"), the prm.part_terms on
 * the fewest tips, appended to all[*n]. */
static int s_word_names(fts_t *f, MDB_cursor *c, const fts_query_t *q, size_t i, s_name_t *all,
                        size_t *n)
{
    const fts_qterm_t *w = &q->v[i];
    double pt = f->prm.part_terms;
    s_names_t b = {.want = pt >= S_PART_MAX ? S_PART_MAX : pt >= 1 ? (size_t)pt : 0};
    size_t sl = strlen(w->surf);
    if (b.want == 0 || (w->flags & TEXT_F_CJK) || sl < S_PART_MIN || sl > EVENT_MAX_TOPIC_LEN)
        return 0;
    int rc = s_name_scan(f, c, &b, w->term, FTS_TOPIC_MARK, w->surf, sl);
    if (!rc) {
        char rev[EVENT_MAX_TOPIC_LEN];
        for (size_t j = 0; j < sl; j++) rev[j] = w->surf[sl - 1 - j];
        rc = s_name_scan(f, c, &b, w->term, FTS_NAME_MARK, rev, sl);
    }
    for (size_t j = 0; j < b.n && !rc; j++, (*n)++) {
        memcpy(all[*n].key, b.key[j], sizeof b.key[j]);
        all[*n].df = b.df[j];
        all[*n].from = i;
    }
    return rc;
}

/* The query's words look for the names that hold them: each name's own
 * postings (its topic's, or its reversed key's, counted in the topics field) join the
 * query at prm.part of its word's weight, the prm.part_max names on the
 * fewest tips of all (every term costs a pass over the candidates). */
int fts_names_add(fts_t *f, MDB_cursor *c, fts_query_t *q, size_t base)
{
    size_t words = base < 32 ? base : 32, n = 0, cap = 0;
    s_name_t *all = malloc(words * S_PART_MAX * sizeof *all + 1);
    if (!all) return STORE_E_NOSPACE;
    int rc = 0;
    for (size_t i = 0; i < words && !rc; i++)
        if (q->v[i].kind == FTS_QT_WORD) rc = s_word_names(f, c, q, i, all, &n);
    if (!rc && n) qsort(all, n, sizeof *all, s_cmp_name);
    if (f->prm.part_max >= 1) cap = f->prm.part_max < (double)n ? (size_t)f->prm.part_max : n;
    for (size_t j = 0; j < cap && !rc; j++) {
        const fts_qterm_t *w = &q->v[all[j].from];
        char surf[TEXT_MAX_TERM + 1]; /* w is in q, which fts_query_add writes */
        memcpy(surf, w->surf, sizeof surf);
        fts_query_add(q, all[j].key, surf, f->prm.part * w->weight, w->word, FTS_QT_PART);
    }
    free(all);
    return rc;
}

/* fts_names callback of fts_names_mult: the query words (by bit) that this
 * name starts or ends with. */
typedef struct {
    const fts_t *f;
    const fts_query_t *q;
    uint32_t mask;
} s_hold_t;

static int s_hold(const char *name, size_t len, void *arg)
{
    s_hold_t *x = arg;
    for (size_t i = 0; i < x->q->n; i++) {
        const fts_qterm_t *w = &x->q->v[i];
        size_t sl = strlen(w->surf);
        if (w->kind != FTS_QT_WORD || w->word >= 32 || sl < S_PART_MIN || sl >= len) continue;
        if (memcmp(name, w->surf, sl) && memcmp(name + len - sl, w->surf, sl)) continue;
        char term[TEXT_MAX_TERM + 1]; /* as s_name_keep: the word's own term is not a name */
        if (text_stem_word(x->f->qtext, name, len, term) && !strcmp(term, w->term)) continue;
        x->mask |= 1u << w->word;
    }
    return 0;
}

double fts_names_mult(const fts_t *f, const fts_query_t *q, const double *widf, const char *topics,
                      size_t topics_len)
{
    if (!(f->prm.name_boost > 0)) return 1.0;
    s_hold_t x = {f, q, 0};
    for (size_t p = 0; p < topics_len;) {
        const char *tp = topics + p;
        size_t tl = strnlen(tp, topics_len - p);
        p += tl + 1;
        fts_names(tp, tl, s_hold, &x);
    }
    if (!x.mask) return 1.0;
    double got = 0, all = 0;
    for (size_t w = 0; w < q->nwords && w < 32; w++) {
        double wi = widf[w] * q->wq[w];
        all += wi;
        if (x.mask & (1u << w)) got += wi;
    }
    return 1.0 + f->prm.name_boost * (all > 0 ? got / all : 0);
}
