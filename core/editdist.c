/* editdist.c -- optimal string alignment distance with an early exit.
 *
 * The classic dynamic programme over a (na+1) x (nb+1) table, on the stack
 * (words are short), plus the transposition case. Two exits keep a bounded
 * caller cheap: lengths further apart than max cannot be within max, and
 * once a whole row exceeds max no later row can come back under it.
 */
#include "editdist.h"

#include <ctype.h>
#include <string.h>

int editdist(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, int max)
{
    if (max < 0) max = 0;
    if (na > EDITDIST_MAX_LEN || nb > EDITDIST_MAX_LEN) return max + 1;
    if ((na > nb ? na - nb : nb - na) > (size_t)max) return max + 1;
    int d[EDITDIST_MAX_LEN + 1][EDITDIST_MAX_LEN + 1];
    for (size_t i = 0; i <= na; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int row_min = d[i][0];
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < row_min) row_min = v;
        }
        if (row_min > max) return max + 1;
    }
    return d[na][nb] > max ? max + 1 : d[na][nb];
}

/* Lower-cased code points of an ASCII string; -1 if it is too long. */
static int s_fold(const char *s, uint32_t *out, size_t *n)
{
    size_t len = strlen(s);
    if (len > EDITDIST_MAX_LEN) return -1;
    for (size_t i = 0; i < len; i++) out[i] = (uint32_t)tolower((unsigned char)s[i]);
    *n = len;
    return 0;
}

int editdist_ascii(const char *a, const char *b, int max)
{
    uint32_t ca[EDITDIST_MAX_LEN], cb[EDITDIST_MAX_LEN];
    size_t na, nb;
    if (max < 0) max = 0;
    if (s_fold(a, ca, &na) || s_fold(b, cb, &nb)) return max + 1;
    return editdist(ca, na, cb, nb, max);
}
