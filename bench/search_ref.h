/* search_ref.h -- what bench-search measures tipd against, and how it makes
 * its query sets: SQLite FTS5 (in-process), Xapian (bench/search_xapian.py
 * through /usr/bin/python3 and Debian's python3-xapian), the deterministic
 * typo generator and the per-language query generator. Part of
 * bench-search only (bench/search.c); nothing here is in tipd.
 */
#ifndef TIPD_BENCH_SEARCH_REF_H
#define TIPD_BENCH_SEARCH_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SREF_TOPK 10

/* One query: text, the expected `source`, the language it is written in. */
typedef struct {
    char *text, *want, *lang;
} sref_query_t;

/* ---- SQLite FTS5 (compiled in when sqlite3 is found) ---- */

/* The ways FTS5 is asked: the query's words OR-ed with bm25 weights
 * title 2, body 1, topics 1 (the reference of the quality targets),
 * OR-ed with weights 10/1/5 (tuned for the tip corpus), and FTS5's
 * default (all words, AND). */
enum { SREF_F5_OR, SREF_F5_OR_W, SREF_F5_AND, SREF_F5_MODES };
extern const char *const sref_f5_name[SREF_F5_MODES];

typedef struct sref_fts5 sref_fts5_t;
sref_fts5_t *sref_fts5_new(void);
int sref_fts5_add(sref_fts5_t *s, long rowid, const char *title, const char *body,
                  const char *const *topics);
int sref_fts5_ready(sref_fts5_t *s);
/* Rows of the best SREF_TOPK matches of text in the given mode. */
int sref_fts5_search(sref_fts5_t *s, int mode, const char *text, long *rows, size_t *n);
void sref_fts5_destroy(sref_fts5_t **p);
bool sref_have_fts5(void);

/* ---- Xapian ---- */

/* Run the Xapian helper over corpus for q[n]: rank[i] is the 1-based rank of
 * q[i].want in Xapian's top 10 (0 if absent), lat_us[i] its search time.
 * Returns 0, or -1 if python3-xapian is missing or the helper failed. */
int sref_xapian(const char *script, const char *corpus, const sref_query_t *q, size_t n, int *rank,
                double *lat_us);

/* ---- query sets ---- */

/* Copy in to out (cap bytes) with one deterministic edit (deletion,
 * insertion, substitution or transposition, chosen from a hash of the word
 * and seed) in every run of >= 5 ASCII letters. */
void sref_typo(const char *in, uint32_t seed, char *out, size_t cap);

/* A known-item query for a tldr page (per-language table): the description
 * of the page's second example (its first if it has one), without the
 * command's own words and the trailing colon. name is the command (the title
 * up to ':'). Returns 0, or -1 if the page has no usable example. */
int sref_page_query(const char *name, const char *body, char *out, size_t cap);

#endif
