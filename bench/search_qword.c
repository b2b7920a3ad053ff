/* search_qword.c -- derive the question-word table of store/fts_qword.c
 * from known-item questions and the pages that answer them (bench-search
 * --qword-cv, --qword-dump).
 *
 * Each question's words (stopwords and CJK left out, stemmed as tipd
 * stems English) are looked for in its page's title and body. A word is a
 * "question word" when the pages of the questions holding it hold it less
 * often than the pages of all questions hold their words: its weight is
 * that ratio, smoothed towards 1 by alpha questions' worth of the average,
 * to the power gamma. Words asked in only one question, and numbers, are
 * left out: they name things rather than speak the register of questions.
 * Cross-validation derives it from four folds and
 * scores the fifth.
 */
#include "search_qword.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define S_SLOTS (1u << 16)
#define S_QMAX  64

typedef struct {
    char term[TEXT_MAX_TERM + 1];
    char word[TEXT_MAX_TERM + 1];
    unsigned asked, answered;
    bool used;
} s_ent_t;

typedef struct {
    char term[S_QMAX][TEXT_MAX_TERM + 1];
    char word[S_QMAX][TEXT_MAX_TERM + 1];
    bool found[S_QMAX];
    size_t n;
    text_t *t;
} s_q_t;

static uint32_t s_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int s_qterm(const char *term, size_t len, unsigned flags, void *arg)
{
    s_q_t *q = arg;
    (void)len;
    if (flags & (TEXT_F_STOP | TEXT_F_CJK)) return 0;
    for (size_t i = 0; i < q->n; i++)
        if (!strcmp(q->term[i], term)) return 0;
    if (q->n == S_QMAX) return 0;
    size_t sl;
    const char *surf = text_surface(q->t, &sl);
    snprintf(q->term[q->n], sizeof q->term[0], "%s", term);
    snprintf(q->word[q->n], sizeof q->word[0], "%.*s", (int)sl, surf);
    q->found[q->n++] = false;
    return 0;
}

static int s_pterm(const char *term, size_t len, unsigned flags, void *arg)
{
    s_q_t *q = arg;
    (void)len;
    (void)flags;
    for (size_t i = 0; i < q->n; i++)
        if (!q->found[i] && !strcmp(q->term[i], term)) q->found[i] = true;
    return 0;
}

static s_ent_t *s_slot(s_ent_t *tab, const char *term)
{
    for (uint32_t h = s_hash(term), p = 0; p < S_SLOTS; p++) {
        s_ent_t *e = &tab[(h + p) & (S_SLOTS - 1)];
        if (!e->used || !strcmp(e->term, term)) return e;
    }
    return NULL;
}

static long s_page(const sqw_pages_t *pg, const char *source)
{
    for (size_t i = 0; i < pg->n; i++)
        if (!strcmp(pg->source[i], source)) return (long)i;
    return -1;
}

static int s_cmp_word(const void *a, const void *b)
{
    return strcmp(((const sqw_t *)a)->word, ((const sqw_t *)b)->word);
}

long sqw_derive(const sref_query_t *q, size_t nq, int skip, const sqw_pages_t *pages, double alpha,
                double gamma, double cut, sqw_t **out)
{
    s_ent_t *tab = calloc(S_SLOTS, sizeof *tab);
    s_q_t *qq = calloc(1, sizeof *qq);
    text_t *t = text_new();
    long n = -1;
    if (!tab || !qq || !t) goto done;
    qq->t = t;
    double asked = 0, answered = 0;
    for (size_t i = 0; i < nq; i++) {
        if ((int)(i % 5) == skip) continue;
        long p = s_page(pages, q[i].want);
        if (p < 0) continue;
        qq->n = 0;
        text_tokenize(t, q[i].text, strlen(q[i].text), s_qterm, qq);
        text_tokenize(t, pages->title[p], strlen(pages->title[p]), s_pterm, qq);
        text_tokenize(t, pages->body[p], strlen(pages->body[p]), s_pterm, qq);
        for (size_t j = 0; j < qq->n; j++) {
            s_ent_t *e = s_slot(tab, qq->term[j]);
            if (!e) continue;
            if (!e->used) {
                e->used = true;
                memcpy(e->term, qq->term[j], sizeof e->term);
                memcpy(e->word, qq->word[j], sizeof e->word);
            }
            e->asked++;
            e->answered += qq->found[j];
            asked++;
            answered += qq->found[j];
        }
    }
    double p0 = asked > 0 ? answered / asked : 1;
    sqw_t *v = malloc(S_SLOTS * sizeof *v);
    if (!v) goto done;
    n = 0;
    for (size_t i = 0; i < S_SLOTS; i++) {
        const s_ent_t *e = &tab[i];
        if (!e->used || e->asked < 2 || strpbrk(e->term, "0123456789")) continue;
        double r = (e->answered + alpha * p0) / (e->asked + alpha);
        double w = r / p0 < 1 ? r / p0 : 1;
        double wg = pow(w, gamma);
        if (!(wg < cut) || wg <= 0) continue;
        snprintf(v[n].word, sizeof v[n].word, "%s", e->word);
        v[n].w = wg;
        n++;
    }
    qsort(v, (size_t)n, sizeof *v, s_cmp_word);
    *out = v;
done:
    text_destroy(&t);
    free(qq);
    free(tab);
    return n;
}
