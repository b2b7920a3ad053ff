/* search_qword.h -- deriving the question-word table (store/fts_qword.c)
 * from known-item questions; part of bench-search.
 */
#ifndef TIPD_BENCH_SEARCH_QWORD_H
#define TIPD_BENCH_SEARCH_QWORD_H

#include <stddef.h>

#include "search_ref.h"

typedef struct {
    char word[72]; /* case-folded, unstemmed (what fts_qword_set takes) */
    double w;
} sqw_t;

/* The pages a query set is answered from: title, body and source per page. */
typedef struct {
    char *const *title, *const *body, *const *source;
    size_t n;
} sqw_pages_t;

/* Derive the table from the queries q[nq] whose fold (index mod 5) is not
 * skip (-1: all of them): every question word (no digits) held by at least two queries,
 * weighed min(1, r / p0)^gamma where r = (answered + alpha p0) / (asked +
 * alpha) is its smoothed share of questions whose page holds it and p0 that
 * share over all question words; only words below cut are kept. A new
 * array in *out (free it); returns how many, or -1. */
long sqw_derive(const sref_query_t *q, size_t nq, int skip, const sqw_pages_t *pages, double alpha,
                double gamma, double cut, sqw_t **out);

#endif
