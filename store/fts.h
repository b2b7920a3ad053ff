/* fts.h -- the full-text index inside the store's LMDB environment
 * (internal to store/; the public entry point is store_search()).
 *
 * Tokenizing (text.h), stemming, the inverted index and BM25 ranking live
 * here; the store calls fts_index()/fts_unindex() inside its write
 * transaction and fts_search() inside a read transaction. The store decides
 * what is visible and what each candidate's quality prior is, through the
 * visible callback, so ranking and the meaning of events stay apart.
 * Ranking is documented in docs/SEARCH.md.
 */
#ifndef TIPD_FTS_H
#define TIPD_FTS_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "store.h"

typedef struct fts fts_t;

/* Open or create the index's named databases inside txn (a write txn).
 * The env must allow enough named DBs (the store sets maxdbs). */
int fts_open(MDB_txn *txn, fts_t **out);
void fts_destroy(fts_t **p);

/* Index a tip or question (title, body, topics); other kinds are ignored.
 * Postings and statistics are queued in f and written by fts_flush(), which
 * the caller MUST call before committing txn (fts_discard() after an abort);
 * sorted, appending writes make indexing several times cheaper. Errors are
 * STORE_E* codes, except MDB_MAP_FULL / MDB_TXN_FULL, passed through so the
 * store can grow the map and retry. */
int fts_index(fts_t *f, MDB_txn *txn, const event_t *ev);
/* Write what fts_index queued in this transaction. Always leaves the queue
 * empty (on error too: the caller then aborts). */
int fts_flush(fts_t *f, MDB_txn *txn);
/* Drop the queue without writing (the transaction was aborted). */
void fts_discard(fts_t *f);
/* Remove a previously indexed event (retraction). */
int fts_unindex(fts_t *f, MDB_txn *txn, const event_t *ev);

/* The rules an index was built by: tokenizing, language detection, the
 * keys written per tip. An index built by other rules is rebuilt when the
 * store opens (store_reindex.c, docs/SEARCH.md "Index versions").
 * 2: a tip's language from its title and prose lines only; the names in
 * topics posted forwards and reversed (fts_int.h, fts_names). */
#define FTS_VERSION 2
/* The version the index in txn was built by, from its mark: *v =
 * FTS_VERSION or older; with no mark, 1 (the first had none) or, if the
 * index has never held anything, 0 (new: mark it). 0 or STORE_E_LMDB. */
int fts_version(fts_t *f, MDB_txn *txn, uint32_t *v);
/* Mark the index in txn (a write txn) as built by FTS_VERSION. */
int fts_version_mark(fts_t *f, MDB_txn *txn);
/* Empty the index in txn (a write txn), its version mark included, and
 * forget what the handle remembers of it (term bounds, synonym bitmaps,
 * topic counts): every tip must then be indexed again. 0 or
 * STORE_E_LMDB. */
int fts_clear(fts_t *f, MDB_txn *txn);

/* The prior is clamped to [1, FTS_PRIOR_MAX]; the bound lets the search stop
 * early once no remaining candidate can enter the top k (docs/SEARCH.md). */
#define FTS_PRIOR_MAX 1.5

/* What the index's record of a tip says of the event (fts_visible_fn's
 * hints): fixed facts of its signed bytes, so that the store need not read
 * them again for each candidate. A record written before these existed has
 * none of them (hints 0): the callback then reads everything. */
#define FTS_DOC_KNOWN    0x80 /* the bits below are set as they are */
#define FTS_DOC_IMPORTED 0x01 /* the event carries the imported mark */
#define FTS_DOC_EDIT     0x02 /* it supersedes an earlier version */

/* Return 0 if id is visible for this query (setting *prior, a multiplier
 * >= 1 from ratings/thanks), 1 if it must be skipped, <0 on error. hints:
 * FTS_DOC_* from the index's record, 0 when it says nothing. */
typedef int (*fts_visible_fn)(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], unsigned hints,
                              double *prior, void *arg);

/* The text of the tip id as of txn, into *ev: 0, 1 if it has none (gone),
 * <0 on error. The store gives the index this so that search can learn
 * from its best matches (pseudo-relevance feedback, docs/SEARCH.md). */
typedef int (*fts_text_fn)(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], event_t *ev, void *arg);
void fts_set_text(fts_t *f, fts_text_fn fn, void *arg);

/* Set ranking parameter name (the fields of fts_params_t in fts_int.h:
 * w_title, b_body, k1, ...) for benchmarks that tune them; tipd runs with
 * the defaults. Returns 0, or STORE_E_ARG for an unknown name. */
int fts_tune(fts_t *f, const char *name, double value);

/* For benchmarks that derive the question-word table (docs/SEARCH.md):
 * give the case-folded word[] the query weight w (0 < w <= 1), replacing
 * its built-in weight; word NULL empties the table. 0 or STORE_E_*. */
int fts_qword_set(fts_t *f, const char *word, double w);

/* Allocate and touch the search's scratch for the index as txn sees it
 * (the topic-cluster tables, ~1 MB, and the exhaustive scorer's
 * accumulator at its usual size, ~0.2 MB), and make what pruning keeps
 * about long lists (their summaries, the longest synonyms' bitmaps, up to
 * 3 MiB), so that the first questions after an open neither fault the
 * scratch in nor read whole lists (docs/PERFORMANCE.md). Larger needs are
 * met by the search itself. Takes the search's lock a term at a time and
 * calls stop(arg) (may be NULL) before each: 1 when it said stop (what is
 * made stays made; calling again goes on), 0 when done, or
 * STORE_E_NOSPACE / _LMDB. */
int fts_prepare(fts_t *f, MDB_txn *txn, int (*stop)(void *arg), void *arg);

int fts_search(fts_t *f, MDB_txn *txn, const char *query, const store_search_opts_t *o,
               fts_visible_fn visible, void *arg, store_hit_t *hits, size_t max, size_t *n);

#endif
