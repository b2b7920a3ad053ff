/* fts_qword.c -- words that questions use more than the tips that answer
 * them: their weight in a query (docs/SEARCH.md, "Question words").
 *
 * People describe a tool from the outside ("a utility to manage ...",
 * "command-line tool for ..."); a tip says what to do ("create", "list",
 * "delete"). Such words are frequent in questions and rare in the tips that
 * answer them, so their idf is high exactly where they tell least, and a tip
 * that happens to say "manager" outranks the one that answers. The table
 * below gives each such word a query weight below 1: the share of questions
 * holding it whose answer holds it too, relative to the share over all
 * question words, smoothed towards 1 for words seen in few questions
 * (bench-search --qword-dump derives it; --qword-cv measures the rule on
 * questions it was not derived from). A word's weight scales its terms'
 * BM25F contributions and its share in coordination and proximity.
 *
 * The words are stemmed with the English stemmer when the index opens, like
 * the synonym groups, so the table and the query always meet.
 */
#include "fts_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Derived from 2,920 development questions over the English tldr pages. */
static const struct {
    const char *word;
    float w;
} s_builtin[] = {
#include "fts_qword_table.h"
};

static int s_cmp(const void *a, const void *b)
{
    return strcmp(((const fts_qw_t *)a)->term, ((const fts_qw_t *)b)->term);
}

static fts_qw_t *s_find(const fts_t *f, const char *term)
{
    fts_qw_t key;
    snprintf(key.term, sizeof key.term, "%s", term);
    return f->nqw ? bsearch(&key, f->qw, f->nqw, sizeof key, s_cmp) : NULL;
}

double fts_qword(const fts_t *f, const char *term)
{
    const fts_qw_t *e = s_find(f, term);
    return e ? e->w : 1.0;
}

int fts_qword_set(fts_t *f, const char *word, double w)
{
    if (!f) return STORE_E_ARG;
    if (!word) {
        f->nqw = 0;
        return 0;
    }
    if (!(w > 0 && w <= 1)) return STORE_E_ARG;
    fts_qw_t e;
    if (!text_stem_word(f->qtext, word, strlen(word), e.term)) return STORE_E_ARG;
    e.w = (float)w;
    fts_qw_t *old = s_find(f, e.term);
    if (old) {
        old->w = e.w;
        return 0;
    }
    if (f->nqw == f->qw_cap) {
        size_t cap = f->qw_cap ? 2 * f->qw_cap : 256;
        fts_qw_t *v = realloc(f->qw, cap * sizeof *v);
        if (!v) return STORE_E_NOSPACE;
        f->qw = v;
        f->qw_cap = cap;
    }
    f->qw[f->nqw++] = e;
    qsort(f->qw, f->nqw, sizeof e, s_cmp);
    return 0;
}

int fts_qword_init(fts_t *f)
{
    for (size_t i = 0; i < sizeof s_builtin / sizeof s_builtin[0]; i++) {
        int rc = fts_qword_set(f, s_builtin[i].word, s_builtin[i].w);
        if (rc == STORE_E_NOSPACE) return rc;
    }
    return 0;
}
