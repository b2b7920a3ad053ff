/* text.h -- the tokenizer shared by indexing and queries (docs/SEARCH.md).
 *
 * Text is checked as UTF-8 (invalid bytes become word breaks), case-folded
 * and NFKC-normalised with libunistring, cut into words with the Unicode word
 * breaking rules (UAX #29), then split further at inner punctuation so that
 * command-line words ("tar.gz", "--max-depth", "x86_64") yield their parts.
 * Words are stemmed with the Snowball stemmer of the text's language
 * (text_detect; English unless set otherwise), then accents are folded
 * ("é" -> "e"). Han, Hiragana,
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

/* Languages with a Snowball stemmer that text_detect can tell apart. */
enum {
    TEXT_LANG_NONE = -1, /* no stemming (a script or language we cannot stem) */
    TEXT_LANG_EN,
    TEXT_LANG_ES,
    TEXT_LANG_FR,
    TEXT_LANG_DE,
    TEXT_LANG_IT,
    TEXT_LANG_PT,
    TEXT_LANG_NL,
    TEXT_LANG_SV,
    TEXT_LANG_DA,
    TEXT_LANG_NO,
    TEXT_LANG_FI,
    TEXT_LANG_TR,
    TEXT_LANG_ID,
    TEXT_LANG_CA,
    TEXT_LANG_RO,
    TEXT_LANG_RU,
    TEXT_LANG_EL,
    TEXT_LANG_AR,
    TEXT_LANG_HI,
    TEXT_LANG_TA,
    TEXT_NLANGS
};

text_t *text_new(void);
/* Idempotent, NULLs *p. */
void text_destroy(text_t **p);

/* Called once per term, in text order. term is NUL-terminated, len bytes
 * (1..TEXT_MAX_TERM). Return non-zero to stop; that value is returned. */
typedef int (*text_term_fn)(const char *term, size_t len, unsigned flags, void *arg);

/* Tokenize s[len] (any bytes; need not be NUL-terminated) and call fn per
 * term. Returns 0, fn's non-zero value, or -1 on allocation failure. */
int text_tokenize(text_t *t, const char *s, size_t len, text_term_fn fn, void *arg);

/* The language s[len] is written in (a TEXT_LANG_* value), from its first
 * kilobyte: script, then function words; English when unsure. The same
 * text always gives the same answer. */
int text_detect(text_t *t, const char *s, size_t len);
/* Stem the following text_tokenize calls for lang (TEXT_LANG_NONE: no
 * stemming). English after text_new. Returns 0, or -1 if lang is unknown
 * or its stemmer cannot be made. */
int text_set_lang(text_t *t, int lang);
/* Snowball name of lang ("english"), NULL if none. */
const char *text_lang_name(int lang);
/* TEXT_LANG_* of an ISO 639-1 code ("de", "pt_BR"), -1 if not stemmed. */
int text_lang_from_code(const char *code);

/* Inside a text_tokenize callback: the word the term was made from, case-
 * folded but not stemmed (NUL-terminated, *len bytes). */
const char *text_surface(const text_t *t, size_t *len);

/* The term text_tokenize would give for the single case-folded word w[len]
 * in the current language: written to out (TEXT_MAX_TERM + 1 bytes);
 * returns its length, 0 if w is not one word of letters. */
size_t text_stem_word(text_t *t, const char *w, size_t len, char *out);

/* A normalised form of a query for grouping (e.g. searches that found
 * nothing): the case-folded, unstemmed words joined by single spaces. Writes
 * at most cap bytes including the NUL; returns the length, or -1. */
int text_normalise(text_t *t, const char *s, size_t len, char *out, size_t cap);

/* Query-side synonyms of a (stemmed) term: fills out[] with up to max
 * pointers to stemmed synonyms (owned by t) and returns how many. */
size_t text_synonyms(text_t *t, const char *term, const char **out, size_t max);
/* The i-th word of the synonym table, stemmed (owned by t; a word of two
 * groups comes twice), or NULL past the last. */
const char *text_synonym_word(const text_t *t, size_t i);

#endif
