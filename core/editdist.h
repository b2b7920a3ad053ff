/* editdist.h -- how many edits apart two words are.
 *
 * One definition of "a typo away" for everyone who forgives one: the CLI's
 * "did you mean" for commands and flags, and the search index's correction
 * of query words. Both count the edits people make when typing: insert,
 * delete, substitute one character, or swap two neighbours (optimal string
 * alignment, the restricted Damerau-Levenshtein distance).
 */
#ifndef TIPD_EDITDIST_H
#define TIPD_EDITDIST_H

#include <stddef.h>
#include <stdint.h>

/* Longest word (in code points) editdist compares; longer ones are
 * EDITDIST_FAR from everything. */
#define EDITDIST_MAX_LEN 64
#define EDITDIST_FAR     (EDITDIST_MAX_LEN + 1)

/* Edits between the code points a[na] and b[nb], or max + 1 as soon as the
 * answer must exceed max (so a caller with a bound pays for no more).
 * max >= 0. Words longer than EDITDIST_MAX_LEN give max + 1. */
int editdist(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, int max);

/* The same for two NUL-terminated ASCII strings, ignoring ASCII case. */
int editdist_ascii(const char *a, const char *b, int max);

#endif
