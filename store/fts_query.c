/* fts_query.c -- from the text someone typed to the weighted terms that
 * fts_search.c scores (docs/SEARCH.md, "The query").
 *
 * The query's language is detected like a tip's and its words are stemmed
 * for it; when that is not English, each word's English stem is looked for
 * too (short queries are easily mistaken, and the tips of an office are
 * mostly English). Stopwords are dropped unless that leaves nothing. A word
 * the index does not hold at all is corrected within the edit bound of its
 * length (fts_typo.c) and looked for at a lower weight, so a tip holding
 * the exact word a query has always outranks one holding a correction.
 * Each word's synonyms follow at a lower weight still. The corrected query
 * is written out in words for "showing results for ..." and, with lenient
 * bounds (one edit from 3 characters), for "did you mean ..." when a
 * search found nothing.
 */
#include "fts_int.h"
#include "text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    fts_query_t *q;
    text_t *t;
    bool alt; /* second pass: English stems of the same words */
} s_build_t;

static int s_qterm_add(const char *term, size_t len, unsigned flags, void *arg)
{
    s_build_t *b = arg;
    fts_query_t *q = b->q;
    size_t sl;
    const char *surf = text_surface(b->t, &sl);
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->v[i].term, term) == 0) return 0;
    if (q->n >= FTS_MAX_QTERMS) return 0;
    unsigned word = 0;
    if (b->alt) { /* only for words the first pass kept */
        size_t i = 0;
        while (i < q->n && !(q->v[i].kind == FTS_QT_WORD && !strcmp(q->v[i].surf, surf))) i++;
        if (i == q->n) return 0;
        word = q->v[i].word;
    }
    fts_qterm_t *e = &q->v[q->n++];
    memcpy(e->term, term, len);
    e->term[len] = 0;
    snprintf(e->surf, sizeof e->surf, "%.*s", (int)sl, surf);
    e->weight = 1.0;
    e->flags = flags;
    e->word = word;
    e->kind = b->alt ? FTS_QT_ALT : FTS_QT_WORD;
    if (!b->alt && (flags & TEXT_F_STOP)) q->nstop++;
    return 0;
}

void fts_query_add(fts_query_t *q, const char *term, const char *surf, double weight, unsigned word,
                   int kind)
{
    if (q->n >= FTS_MAX_QTERMS) return;
    for (size_t m = 0; m < q->n; m++)
        if (strcmp(q->v[m].term, term) == 0) return;
    fts_qterm_t *e = &q->v[q->n++];
    snprintf(e->term, sizeof e->term, "%.*s", TEXT_MAX_TERM, term);
    snprintf(e->surf, sizeof e->surf, "%s", surf);
    e->weight = weight;
    e->flags = 0;
    e->word = word;
    e->kind = kind;
}

/* Does any term standing for query word w have postings? */
static int s_word_known(MDB_cursor *c, const fts_query_t *q, unsigned w)
{
    for (size_t i = 0; i < q->n; i++) {
        if (q->v[i].word != w || q->v[i].kind > FTS_QT_ALT) continue;
        MDB_val k = {strlen(q->v[i].term), (void *)q->v[i].term}, v;
        int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
        if (rc == 0) return 1;
        if (rc != MDB_NOTFOUND) return STORE_E_LMDB;
    }
    return 0;
}

typedef struct {
    const fts_query_t *q;
    char *out;
    size_t cap, len;
} s_fixout_t;

/* text_words callback: copy a word, or its correction, to the output. */
static int s_fix_word(const char *term, size_t len, unsigned flags, void *arg)
{
    s_fixout_t *o = arg;
    const char *w = term;
    size_t wl = len;
    for (size_t i = 0; i < o->q->nfix; i++)
        if (strlen(o->q->fix[i].from) == len && !memcmp(o->q->fix[i].from, term, len)) {
            w = o->q->fix[i].to;
            wl = strlen(w);
        }
    if (o->len + wl + 2 > o->cap) return 1;
    if (o->len) o->out[o->len++] = ' ';
    memcpy(o->out + o->len, w, wl);
    o->len += wl;
    o->out[o->len] = 0;
    return 0;
}

/* Correct the words the index does not hold; lenient: suggestions only. */
static int s_correct(fts_t *f, MDB_cursor *c, fts_query_t *q, bool lenient)
{
    size_t base = q->n, budget = FTS_TYPO_BUDGET;
    for (unsigned w = 0; w < q->nwords && q->nfix < FTS_MAX_FIX && budget > 0; w++) {
        size_t i = 0;
        while (i < base && !(q->v[i].word == w && q->v[i].kind == FTS_QT_WORD)) i++;
        if (i == base || (q->v[i].flags & TEXT_F_CJK)) continue;
        int known = s_word_known(c, q, w);
        if (known < 0) return known;
        if (known) continue;
        char surf[TEXT_MAX_TERM + 1], term[TEXT_MAX_TERM + 1];
        memcpy(surf, q->v[i].surf, sizeof surf);
        memcpy(term, q->v[i].term, sizeof term);
        size_t sl = strlen(surf);
        int max = fts_edit_bound(surf, sl);
        if (lenient && max == 0 && sl >= 3) max = 1;
        fts_fix_t fix;
        int rc = fts_correct(c, f->qtext, surf, sl, term, strlen(term), max, &budget, &fix);
        if (rc < 0) return rc;
        if (rc == 0) continue;
        if (!lenient) fts_query_add(q, fix.term, fix.word, f->prm.typo, w, FTS_QT_FIX);
        if (q->nfix < FTS_MAX_FIX) {
            memcpy(q->fix[q->nfix].from, surf, sizeof surf);
            snprintf(q->fix[q->nfix].to, sizeof q->fix[0].to, "%s", fix.word);
            q->nfix++;
        }
    }
    return 0;
}

/* The words of query in language lang (stopwords dropped unless that
 * leaves nothing), then, if lang is not English, their English stems. */
static void s_words(fts_t *f, const char *query, size_t ql, int lang, fts_query_t *q)
{
    text_t *t = f->qtext;
    memset(q, 0, sizeof *q);
    q->lang = lang;
    text_set_lang(t, lang);
    s_build_t b = {.q = q, .t = t};
    text_tokenize(t, query, ql, s_qterm_add, &b);
    if (f->prm.stop > 0 && q->nstop && q->nstop < q->n) {
        size_t w = 0;
        for (size_t i = 0; i < q->n; i++)
            if (!(q->v[i].flags & TEXT_F_STOP)) q->v[w++] = q->v[i];
        q->n = w;
    }
    size_t base = q->n;
    for (size_t i = 0; i < base; i++) q->v[i].word = (unsigned)(i < 31 ? i : 31);
    q->nwords = base < 32 ? base : 32;
    if (lang != TEXT_LANG_EN) {
        text_set_lang(t, TEXT_LANG_EN);
        b.alt = true;
        text_tokenize(t, query, ql, s_qterm_add, &b);
        text_set_lang(t, lang);
    }
}

int fts_query_build(fts_t *f, MDB_cursor *c, const char *query, bool lenient, fts_query_t *q)
{
    text_t *t = f->qtext;
    size_t ql = strlen(query);
    int lang = text_detect(t, query, ql);
    s_words(f, query, ql, lang, q);
    int rc = c ? s_correct(f, c, q, lenient) : 0;
    text_set_lang(t, TEXT_LANG_EN);
    if (rc) return rc;
    /* Question words: a word's weight is the lowest of its terms' (a
     * correction stands for the word it corrects). */
    for (size_t w = 0; w < 32; w++) q->wq[w] = 1.0;
    for (size_t i = 0; i < q->n; i++) {
        double w = fts_qword(f, q->v[i].term);
        if (q->v[i].word < 32 && w < q->wq[q->v[i].word]) q->wq[q->v[i].word] = w;
    }
    for (size_t i = 0; i < q->n; i++)
        q->v[i].weight *= q->wq[q->v[i].word < 32 ? q->v[i].word : 31];
    size_t base = q->n;
    for (size_t i = 0; i < base && !lenient; i++) {
        if ((q->v[i].flags & TEXT_F_CJK) || q->v[i].kind == FTS_QT_FIX) continue;
        const char *syn[16];
        size_t ns = text_synonyms(t, q->v[i].term, syn, 16);
        for (size_t j = 0; j < ns; j++)
            fts_query_add(q, syn[j], syn[j], f->prm.syn, q->v[i].word, FTS_QT_SYN);
    }
    return !lenient && c && f->prm.part > 0 ? fts_names_add(f, c, q, base) : 0;
}

int fts_query_fixed(fts_t *f, const char *query, const fts_query_t *q, char *out, size_t cap)
{
    if (!out || cap == 0) return 0;
    out[0] = 0;
    if (q->nfix == 0) return 0;
    s_fixout_t o = {.q = q, .out = out, .cap = cap};
    text_words(f->qtext, query, strlen(query), s_fix_word, &o);
    return (int)o.len;
}
