/* text.h -- the tokenizer shared by indexing and queries (docs/SEARCH.md).
 *
 * Text is checked as UTF-8 (invalid bytes become word breaks), case-folded
 * and NFKC-normalised with libunistring, cut into words with the Unicode word
 * breaking rules (UAX #29), then split further at inner punctuation so that
 * command-line words ("tar.gz", "--max-depth", "x86_64") yield their parts.
 * ASCII words are stemmed with the Snowball English stemmer. Han, Hiragana,
 * Katakana and Hangul runs become overlapping character bigrams (a lone
 * character becomes a unigram), so Chinese, Japanese and Korean text is
 * findable without a dictionary.
 *
 * Stopwords are indexed like any other word (commands such as "at", "which"
 * or "who" are stopwords); each emitted term says whether it is one, so the
 * query side can drop them.
 *
 * A text_t holds a Snowball stemmer, which is not thread-safe: use one text_t
 * per thread.
 */
#ifndef TIPD_TEXT_H
#define TIPD_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_MAX_TERM 64 /* longer words are cut to this many bytes */

/* Flags passed with each term. */
#define TEXT_F_STOP 1u /* an English stopword (query side may drop it) */
#define TEXT_F_CJK  2u /* a CJK bigram or unigram */

typedef struct text text_t;

text_t *text_new(void);
/* Idempotent, NULLs *p. */
void text_destroy(text_t **p);

/* Called once per term, in text order. term is NUL-terminated, len bytes
 * (1..TEXT_MAX_TERM). Return non-zero to stop; that value is returned. */
typedef int (*text_term_fn)(const char *term, size_t len, unsigned flags, void *arg);

/* Tokenize s[len] (any bytes; need not be NUL-terminated) and call fn per
 * term. Returns 0, fn's non-zero value, or -1 on allocation failure. */
int text_tokenize(text_t *t, const char *s, size_t len, text_term_fn fn, void *arg);

/* A normalised form of a query for grouping (e.g. searches that found
 * nothing): the case-folded, unstemmed words joined by single spaces. Writes
 * at most cap bytes including the NUL; returns the length, or -1. */
int text_normalise(text_t *t, const char *s, size_t len, char *out, size_t cap);

/* Query-side synonyms of a (stemmed) term: fills out[] with up to max
 * pointers to stemmed synonyms (owned by t) and returns how many. */
size_t text_synonyms(text_t *t, const char *term, const char **out, size_t max);

#endif
