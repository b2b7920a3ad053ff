/* fts_prox.c -- proximity: the best candidates of a query are lifted when
 * its words stand together in them (docs/SEARCH.md, "Proximity").
 *
 * BM25F sees a tip as a bag of words: a page that has "prevent" in one
 * example and "sleep" in another scores like one that says "prevent the
 * display from sleeping". People describe what they want in a phrase, and
 * the tip that does it usually says so in one line. So, once the
 * candidates are scored, the text of the best prm.prox_docs is read from
 * the store (the same fts_text_fn as feedback), tokenized like the tip was
 * (its language), line by line (the title, then the body's prose lines:
 * code lines are skipped), and two shares are taken, each query word
 * weighed by its idf times its question-word weight:
 *
 *   pairs: of the neighbouring query words (neighbours in the query), the
 *          share, each pair weighed by the lower of its two words, that
 *          stand within prm.prox_win words of each other, in either order,
 *          on one line of the tip, stopwords not counted;
 *   first: the share of the query that the body's first prose line with
 *          a word on it holds (what a tip is most about comes first).
 *
 * The score is multiplied by 1 + prm.prox * pairs + prm.prox_first * first.
 * Nothing is stored for it: no positions in the postings, no new table to
 * keep in step at ingest or retraction. The work is bounded by the tips
 * read and the bytes of their text (an event's title and body).
 */
#include "fts_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_MAXW 32 /* query words tracked (fts_query_t keeps at most 32) */

typedef struct {
    const fts_query_t *q;
    unsigned pos;        /* position in the line, stopwords not counted */
    long last[S_MAXW];   /* position of each word's latest term on the line, -1 */
    uint32_t pair_mask;  /* pairs (w, w + 1) found near each other, by w */
    uint32_t line_mask;  /* words met on the current line */
    uint32_t first_mask; /* words met on the first line of the body that has any word */
    bool body, first_done;
    unsigned win;
} s_prox_t;

/* The query word (its index) that term stands for, -1 if none. */
static int s_word_of(const fts_query_t *q, const char *term, size_t len)
{
    for (size_t i = 0; i < q->n; i++) {
        const fts_qterm_t *e = &q->v[i];
        if (fts_qt_extra(e->kind) || e->word >= S_MAXW) continue;
        if (e->term[0] == term[0] && strlen(e->term) == len && !memcmp(e->term, term, len))
            return (int)e->word;
    }
    return -1;
}

static int s_term(const char *term, size_t len, unsigned flags, void *arg)
{
    s_prox_t *p = arg;
    if (flags & TEXT_F_STOP) return 0;
    unsigned pos = p->pos++;
    int w = s_word_of(p->q, term, len);
    if (w < 0) return 0;
    p->line_mask |= 1u << w;
    /* The neighbours of w in the query, met within the window before it. */
    if (w > 0 && p->last[w - 1] >= 0 && pos - (unsigned)p->last[w - 1] <= p->win)
        p->pair_mask |= 1u << (w - 1);
    if (w + 1 < S_MAXW && p->last[w + 1] >= 0 && pos - (unsigned)p->last[w + 1] <= p->win)
        p->pair_mask |= 1u << w;
    p->last[w] = pos;
    return 0;
}

static void s_line_start(s_prox_t *p)
{
    if (p->body && !p->first_done && p->pos > 0) {
        p->first_mask = p->line_mask;
        p->first_done = true;
    }
    p->line_mask = 0;
    p->pos = 0;
    for (int i = 0; i < S_MAXW; i++) p->last[i] = -1;
}

/* Tokenize text[len] line by line into p. */
static int s_lines(fts_t *f, s_prox_t *p, const char *text, size_t len)
{
    size_t at = 0;
    bool fence = false;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        /* Code lines are placeholders and options: skipping them costs
         * nothing in quality and saves most of the tokenizing. */
        if (p->body && fts_code_line(text + at, end - at, &fence)) {
            at = end + 1;
            continue;
        }
        s_line_start(p);
        if (text_tokenize(f->qtext, text + at, end - at, s_term, p) < 0) return STORE_E_NOSPACE;
        at = end + 1;
    }
    s_line_start(p);
    return 0;
}

int fts_prox(fts_t *f, MDB_txn *txn, const fts_query_t *q, const double *widf,
             const uint8_t id[EVENT_ID_LEN], double *mult)
{
    *mult = 1.0;
    size_t nw = q->nwords < S_MAXW ? q->nwords : S_MAXW;
    if (!f->text_fn || (f->prm.prox <= 0 && f->prm.prox_first <= 0)) return 0;
    if (!f->prf_ev && !(f->prf_ev = malloc(sizeof *f->prf_ev))) return STORE_E_NOSPACE;
    int rc = f->text_fn(txn, id, f->prf_ev, f->text_arg);
    if (rc) return rc < 0 ? rc : 0;
    const event_t *ev = f->prf_ev;
    double wi[S_MAXW] = {0}; /* each word's idf times its question-word weight */
    for (size_t w = 0; w < nw; w++) wi[w] = widf[w] * q->wq[w];
    s_prox_t p = {.q = q, .win = (unsigned)f->prm.prox_win};
    double pair_sum = 0;
    for (size_t w = 0; w + 1 < nw; w++) pair_sum += wi[w] < wi[w + 1] ? wi[w] : wi[w + 1];
    fts_event_lang(f->qtext, ev);
    rc = s_lines(f, &p, ev->title, strnlen(ev->title, sizeof ev->title));
    p.body = true;
    if (!rc) rc = s_lines(f, &p, ev->body, strnlen(ev->body, sizeof ev->body));
    text_set_lang(f->qtext, TEXT_LANG_EN);
    if (rc) return rc;
    double pairs = 0;
    for (size_t w = 0; w + 1 < nw; w++)
        if (p.pair_mask & (1u << w)) pairs += wi[w] < wi[w + 1] ? wi[w] : wi[w + 1];
    double first = 0, all = 0;
    for (size_t w = 0; w < nw; w++) {
        all += wi[w];
        if (p.first_mask & (1u << w)) first += wi[w];
    }
    *mult = 1.0 + f->prm.prox * (pair_sum > 0 ? pairs / pair_sum : 0) +
            f->prm.prox_first * (all > 0 ? first / all : 0);
    return 0;
}
