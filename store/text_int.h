/* text_int.h -- what text.c (tokenizer) and text_lang.c (language
 * detection, accent folding) share. Internal to store/.
 */
#ifndef TIPD_TEXT_INT_H
#define TIPD_TEXT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* The function words of every language, sorted, each with the set of
 * languages (bit per TEXT_LANG_*) that list it: built once per text_t so
 * that a word costs one binary search, not a scan of every list. */
typedef struct {
    char w[24];
    uint32_t langs;
} text_fw_t;
/* Build the table into a new array; returns its size, or 0 (*out NULL) on
 * allocation failure. */
size_t text_fw_build(text_fw_t **out);
/* The languages (bit mask) listing the case-folded word w[n]. */
uint32_t text_fw_langs(const text_t *t, const char *w, size_t n);
/* t's table (for text_lang.c). */
const text_fw_t *text_fw(const text_t *t, size_t *n);

/* Call fn for every word of s[len], case-folded but neither stemmed nor
 * folded (the text_normalise pass). */
int text_words(text_t *t, const char *s, size_t len, text_term_fn fn, void *arg);

/* Drop combining diacritics (U+0300..U+036F) from the NUL-terminated UTF-8
 * word w[len] in place; returns the new length (never longer). */
size_t text_fold(char *w, size_t len);

#endif
