/* fts_typo.c -- typo tolerance: a query word the index does not hold is
 * matched to an index term within a small edit distance (docs/SEARCH.md,
 * "Typos").
 *
 * The bound follows Meilisearch and Typesense: no edit for words of up to 4
 * characters, one edit from 5, two from 9. No table beyond the postings is
 * needed, so nothing has to be kept in step at ingest or retraction:
 *
 *  - one edit, ASCII words: every word one deletion, transposition,
 *    substitution or insertion (a-z) away is stemmed like the query and
 *    looked up in fts_post (54n + 25 lookups for n letters, each a B-tree
 *    descent); complete, and the corrected word is a real word to show;
 *  - two edits (and one edit in words with other letters): the index terms
 *    that share the stem's first two bytes are scanned in key order, at most
 *    S_SCAN_BUDGET of them, and compared by restricted Damerau-Levenshtein
 *    distance over code points. A typo in the first two letters is not
 *    found this way; the budget bounds the work on a huge vocabulary.
 *
 * Of several candidates the nearest wins, then the one on most tips, then
 * the smaller term, so the choice depends only on the index's contents.
 * A query's corrections share one budget of FTS_TYPO_BUDGET steps (a
 * lookup or a compared term), so a question of many long made-up words
 * cannot keep the daemon's loop busy.
 */
#include "editdist.h"
#include "fts_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#define S_SCAN_BUDGET 20000 /* keys compared by one scan */
#define S_MAXCP       TEXT_MAX_TERM
_Static_assert(S_MAXCP <= EDITDIST_MAX_LEN, "index terms fit editdist");

int fts_edit_bound(const char *word, size_t wlen)
{
    size_t n = u8_mbsnlen((const uint8_t *)word, wlen);
    return n >= 9 ? 2 : n >= 5 ? 1 : 0;
}

/* Postings count of term (0 if absent); <0 on error. */
static long s_df(MDB_cursor *c, const char *term, size_t len)
{
    MDB_val k = {len, (void *)term}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return STORE_E_LMDB;
    size_t n = 0;
    if (mdb_cursor_count(c, &n)) return STORE_E_LMDB;
    return (long)n;
}

/* Is (dist, df, term) a better correction than *best? */
static bool s_better_fix(int dist, size_t df, const char *term, const fts_fix_t *best)
{
    if (!best->df) return true;
    if (dist != best->dist) return dist < best->dist;
    if (df != best->df) return df > best->df;
    return strcmp(term, best->term) < 0;
}

/* Consider the candidate word v[vlen]: stem it, look it up, keep if better. */
static int s_try(MDB_cursor *c, text_t *t, const char *v, size_t vlen, fts_fix_t *best,
                 size_t *budget)
{
    if (*budget == 0) return 1; /* spent: keep what was found */
    (*budget)--;
    char stem[TEXT_MAX_TERM + 1];
    size_t sl = text_stem_word(t, v, vlen, stem);
    if (sl == 0) return 0;
    long df = s_df(c, stem, sl);
    if (df < 0) return (int)df;
    if (df > 0 && s_better_fix(1, (size_t)df, stem, best)) {
        memcpy(best->term, stem, sl + 1);
        memcpy(best->word, v, vlen);
        best->word[vlen] = 0;
        best->df = (size_t)df;
        best->dist = 1;
    }
    return 0;
}

/* Every ASCII word one edit away from w[n]. */
static int s_one_edit(MDB_cursor *c, text_t *t, const char *w, size_t n, fts_fix_t *best,
                      size_t *budget)
{
    char v[TEXT_MAX_TERM + 2];
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) { /* deletion */
        memcpy(v, w, i);
        memcpy(v + i, w + i + 1, n - i - 1);
        rc = s_try(c, t, v, n - 1, best, budget);
    }
    for (size_t i = 0; i + 1 < n && !rc; i++) { /* transposition */
        if (w[i] == w[i + 1]) continue;
        memcpy(v, w, n);
        v[i] = w[i + 1];
        v[i + 1] = w[i];
        rc = s_try(c, t, v, n, best, budget);
    }
    for (size_t i = 0; i < n && !rc; i++) /* substitution */
        for (char ch = 'a'; ch <= 'z' && !rc; ch++) {
            if (ch == w[i]) continue;
            memcpy(v, w, n);
            v[i] = ch;
            rc = s_try(c, t, v, n, best, budget);
        }
    for (size_t i = 0; i <= n && n < TEXT_MAX_TERM && !rc; i++) /* insertion */
        for (char ch = 'a'; ch <= 'z' && !rc; ch++) {
            memcpy(v, w, i);
            v[i] = ch;
            memcpy(v + i + 1, w + i, n - i);
            rc = s_try(c, t, v, n + 1, best, budget);
        }
    return rc;
}

/* Code points of s[n] into out (at most S_MAXCP); returns the count. */
static size_t s_cps(const char *s, size_t n, ucs4_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < S_MAXCP;) {
        int l = u8_mbtoucr(&out[k], (const uint8_t *)s + i, n - i);
        if (l <= 0) break;
        i += (size_t)l;
        k++;
    }
    return k;
}

/* Scan the index terms sharing stem's first two bytes for ones within max
 * edits. */
static int s_scan(MDB_cursor *c, const char *stem, size_t sl, int max, fts_fix_t *best,
                  size_t *budget)
{
    if (sl < 2) return 0;
    ucs4_t a[S_MAXCP], b[S_MAXCP];
    size_t na = s_cps(stem, sl, a);
    MDB_val k = {2, (void *)stem}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (size_t seen = 0; rc == 0 && seen<S_SCAN_BUDGET && * budget> 0; seen++) {
        (*budget)--;
        if (k.mv_size < 2 || memcmp(k.mv_data, stem, 2) != 0) break;
        if (k.mv_size <= TEXT_MAX_TERM && !(k.mv_size == sl && !memcmp(k.mv_data, stem, sl))) {
            size_t nb = s_cps(k.mv_data, k.mv_size, b);
            int dist = editdist(a, na, b, nb, max);
            if (dist <= max) {
                size_t df = 0;
                if (mdb_cursor_count(c, &df)) return STORE_E_LMDB;
                char term[TEXT_MAX_TERM + 1];
                memcpy(term, k.mv_data, k.mv_size);
                term[k.mv_size] = 0;
                if (df && s_better_fix(dist, df, term, best)) {
                    memcpy(best->term, term, k.mv_size + 1);
                    memcpy(best->word, term, k.mv_size + 1);
                    best->df = df;
                    best->dist = dist;
                }
            }
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : STORE_E_LMDB;
}

int fts_correct(MDB_cursor *c, text_t *t, const char *word, size_t wlen, const char *stem,
                size_t sl, int max, size_t *budget, fts_fix_t *out)
{
    memset(out, 0, sizeof *out);
    if (max <= 0 || wlen == 0 || wlen > TEXT_MAX_TERM) return 0;
    bool ascii = true;
    for (size_t i = 0; i < wlen; i++)
        if (!(word[i] >= 'a' && word[i] <= 'z')) ascii = false;
    int rc = ascii ? s_one_edit(c, t, word, wlen, out, budget) : 0;
    if (rc > 0) rc = 0; /* the budget ran out */
    if (!rc && !out->df && (max >= 2 || !ascii)) rc = s_scan(c, stem, sl, max, out, budget);
    if (rc) return rc;
    return out->df ? 1 : 0;
}
