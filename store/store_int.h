/* store_int.h -- internals shared by store.c (environment, row packing,
 * lookups), store_read.c (iteration) and store_apply.c (ingest and the
 * meaning of events). Not a public header.
 *
 * Named databases (all keys big-endian so cursors walk in order):
 *   meta   "schema" -> u32, "counts" -> 7 x u64 (store_counts_t, O(1) reads)
 *   ev     id -> kind, created_at (STORE_LOC_LEN: the bytes are in body),
 *          or a tombstone (STORE_TOMB_LEN, first byte 0)
 *   body   created_at || id -> signed bytes (held, not retracted)
 *   time   created_at || id -> kind                    (held, not retracted)
 *   auth   author || created_at || id -> kind, flags   (same set)
 *   topic  topic || 0 || created_at || id -> kind      (same set)
 *   refs   target -> created_at||id||role||kind||value||author  (dupsort,
 *          fixed size; every reference of every held, non-retracted event)
 *   stat   id -> row (anything rated, thanked, answered, superseded or
 *          retracted; a held tip/question without one has the row its ev
 *          locator implies: held, visible, all counts 0)
 *   rate   target || rater -> created_at || id || score (latest per rater)
 *   prof   author -> created_at || id of the newest live profile
 *   miss   normalised query -> count u64 || last_ms u64 (local only)
 * plus the full-text index's own databases (fts.c).
 */
#ifndef TIPD_STORE_INT_H
#define TIPD_STORE_INT_H

#include <lmdb.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "event.h"
#include "fts.h"
#include "store.h"
#include "store_agg.h"

#define STORE_MAX_CHAIN 256 /* versions followed in one edit chain */

struct store {
    MDB_env *env;
    MDB_dbi meta, ev, body, time, auth, topic, refs, stat, rate, prof, miss;
    /* the figures of stats and today (store_agg.c); agg_dbs: they exist */
    MDB_dbi apost, aauth, atopic, anew, astory;
    int agg_dbs;
    uint64_t agg_built; /* events the figures were built from at open, 0: none built */
    double agg_build_s;
    size_t agg_chunk;   /* store_opts_t */
    size_t fts_chunk;   /* store_opts_t */
    uint64_t reindexed; /* tips the search index was rebuilt from at open, 0: none */
    double reindex_s;
    fts_t *fts;
    int read_only;
    int no_reserve;
    size_t map_size;
    char *dir;          /* data directory, for store_release_memory's reopen */
    unsigned env_flags; /* mdb_env_open flags, same */
    char err[256];
    /* The map gate. Every read transaction of the owner (store_rtxn) and
     * every read view (store_rtxn_begin) counts itself in `readers` for its
     * life; the writer thread takes the map exclusively (`excl`) to resize
     * or reopen it, which would unmap pages another thread is reading. It
     * first raises grow_wanted: new views wait at their start and long
     * walks stop, then it waits for `readers` to reach zero. A read of the
     * owner waits only while the map is actually held, never for a wish, so
     * a thread may nest such reads (an iteration callback calling another
     * store function) without deadlocking against a waiting writer. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    unsigned readers; /* gate_mu */
    int excl;         /* gate_mu */
    /* Set in a read view only: the store it reads and its transaction, which
     * every read made through the view uses instead of opening its own. */
    store_t *parent;
    MDB_txn *bound;
    const int *cancel; /* store_rtxn_cancel_on: long walks stop when set */
    int grow_wanted;   /* the writer waits for the map (see the gate); views stop walks */
    int stopped;       /* view: a walk was stopped (store_rtxn_stopped) */
};

/* 1 if the view's long walks must stop (STORE_E_CANCELED): its cancel flag
 * is set, or the owner waits to resize the map (a walk over a large store
 * would hold the writer, and with it the daemon's loop, for its whole
 * length). Notes it in the view. */
static inline int store_canceled(store_t *s)
{
    int stop = (s->cancel && __atomic_load_n(s->cancel, __ATOMIC_RELAXED)) ||
               (s->parent && __atomic_load_n(&s->parent->grow_wanted, __ATOMIC_RELAXED));
    if (stop) s->stopped = 1;
    return stop;
}

/* A tombstone: 0x00, kind, author, created_at. Signed events start with a
 * non-zero version byte, so the first byte tells the two apart. */
#define STORE_TOMB_LEN (1 + 1 + EVENT_KEY_LEN + 8)
/* An ev value of a held event: kind (non-zero) and created_at, which
 * locates the signed bytes in body. Small fixed entries keep the id-keyed
 * tree small (many per page) while the bytes append in time order, and a
 * fresh tip needs no stat row (its default row is the locator plus the
 * author, at a fixed offset of the bytes): a batch of random ids dirties
 * far fewer pages. */
#define STORE_LOC_LEN (1 + 8)
/* Offset of the author in signed bytes (docs/PROTOCOL.md). */
#define STORE_AUTHOR_AT 2
/* A reference record (value in refs). */
#define STORE_REF_LEN (8 + EVENT_ID_LEN + 1 + 1 + 1 + EVENT_KEY_LEN)
/* A stat row. */
#define STORE_ROW_LEN (1 + 1 + EVENT_KEY_LEN + 8 + 4 * 4)

/* Row flags. VISIBLE means "counted as visible" (tips/questions counters and
 * answers of referenced questions include it). */
#define STORE_ROW_HELD       1
#define STORE_ROW_SUPERSEDED 2
#define STORE_ROW_RETRACTED  4
#define STORE_ROW_VISIBLE    8

/* Flags in the auth index value (byte 1). */
#define STORE_AUTH_ANSWER   1
#define STORE_AUTH_IMPORTED 2 /* a tip or question marked imported (event version 2) */

typedef struct {
    uint8_t flags, kind;
    uint8_t author[EVENT_KEY_LEN];
    uint64_t created_at;
    uint32_t ratings, rating_sum, thanks, answers;
} store_row_t;

typedef struct {
    uint64_t created_at;
    uint8_t id[EVENT_ID_LEN];
    uint8_t role, kind, value;
    uint8_t author[EVENT_KEY_LEN];
} store_ref_t;

/* A write transaction in progress, with the counters it will save. */
typedef struct {
    store_t *s;
    MDB_txn *txn;
    store_counts_t c;
} store_tx_t;

static inline void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}
static inline uint64_t store_rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t store_rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Rows and reference records: fixed-size big-endian packings. */
void store_row_pack(const store_row_t *r, uint8_t out[STORE_ROW_LEN]);
int store_row_unpack(const MDB_val *v, store_row_t *r);
void store_ref_pack(const store_ref_t *r, uint8_t out[STORE_REF_LEN]);
int store_ref_unpack(const MDB_val *v, store_ref_t *r);

/* Whether author has a live event of kind (rating, thanks) acting on
 * target (role TARGET) other than id -- with smaller = 1, one whose id is
 * smaller. *found 1 or 0; returns 0 or an LMDB code. Lets "ratings and
 * thanks given" count each (author, tip) once, as a tip counts its raters
 * and thankers once. */
int store_ref_twin(store_t *s, MDB_txn *txn, const uint8_t target[EVENT_ID_LEN], int kind,
                   const uint8_t author[EVENT_KEY_LEN], const uint8_t id[EVENT_ID_LEN], int smaller,
                   int *found);

/* Row of id within txn: 0 and *r filled (from stat, or implied by a held
 * tip/question's ev locator), MDB_NOTFOUND, or another error. */
int store_row_get(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_row_t *r);
/* store_row_get, and when the row was implied from the event itself, *raw =
 * its signed bytes as store_ev_get gives them (else raw->mv_data is NULL):
 * a caller that needs both reads them once. */
int store_row_read(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_row_t *r,
                   MDB_val *raw);
/* store_stats inside the caller's read transaction (raw LMDB/errno codes). */
int store_stats_txn(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_stats_t *st);

/* The ev entry of id, resolved: 0 and *v = the signed bytes of a held event
 * or its tombstone (v->mv_size == STORE_TOMB_LEN), MDB_NOTFOUND, or another
 * LMDB code. *v points into the map: valid until the next write in txn. */
int store_ev_get(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], MDB_val *v);

/* Run body in a write transaction, loading and saving the counters. The map
 * is first grown if fewer than need bytes are left above its high-water
 * mark; on MDB_MAP_FULL the transaction is aborted, the map doubled and body
 * run again (body must be restartable). Returns body's or LMDB's code. */
int store_txn_run(store_t *s, size_t need, int (*body)(store_tx_t *tx, void *arg), void *arg);

/* Begin a read transaction (handles MDB_MAP_RESIZED), or, in a read view,
 * hand out the view's own. Raw LMDB code. Pair with store_rtxn_close. */
int store_rtxn(store_t *s, MDB_txn **txn);
/* End what store_rtxn began (nothing for a read view's transaction). */
void store_rtxn_close(store_t *s, MDB_txn *txn);

/* Turn a raw LMDB / errno code into a STORE_E* code, noting the text. */
int store_fail(store_t *s, int rc, const char *what);
/* 1 if rc is one of store.h's STORE_E* codes, 0 for 0, event.h's codes,
 * LMDB's and errno values. The store's codes sit in (-200, -100]. */
int store_is_own_code(int rc);
/* 1 if rc is one of event.h's EVENT_E* codes (they sit in (-100, 0)). */
int store_is_event_code(int rc);

/* Read / write the meta counters. */
int store_counts_load(store_t *s, MDB_txn *txn, store_counts_t *c);
int store_counts_save(store_t *s, MDB_txn *txn, const store_counts_t *c);

/* Meaning of events (store_apply.c): apply one verified, decoded event;
 * *tomb = 1 if a retraction that arrived first turned it into a tombstone.
 * Returns STORE_APPLY_DUP, changing nothing, if its id is already in ev
 * (held or tombstone). Raw LMDB / fts codes. */
#define STORE_APPLY_DUP 1
int store_apply_new(store_tx_t *tx, const event_t *ev, const uint8_t *raw, size_t len, int *tomb);

/* The figures of stats and today (store_agg.c): store_apply_new plus their
 * upkeep in the same transaction; opening their databases; building them
 * when the store has none (*built: events they were built from). */
int store_agg_apply_new(store_tx_t *tx, const event_t *ev, const uint8_t *raw, size_t len,
                        int *tomb);
int store_agg_open_dbs(store_t *s, MDB_txn *txn);
/* An apost value (STORE_AGG_POST_LEN bytes) into p's kind, flags and
 * figures; an aauth value is STORE_AGG_AUTH_N big-endian u32. */
#define STORE_AGG_POST_LEN (1 + 1 + 4 * 4)
#define STORE_AGG_AUTH_N   11
/* anew: new tips per bucket of 2^STORE_AGG_SHIFT(level) ms, three levels */
#define STORE_AGG_LEVELS   3
#define STORE_AGG_SHIFT(l) (16 + 4 * (l))
void store_agg_post_unpack(const uint8_t *v, store_post_t *p);
int store_agg_ensure(store_t *s, uint64_t *built);
/* A walk over the held events in time order, one chunk per write
 * transaction, resumable across starts (store_walk.c). */
typedef struct {
    const char *key; /* its progress key in meta */
    uint32_t tag;    /* a resumed walk must have been begun with the same tag */
    size_t chunk;    /* events per call of store_walk_chunk */
    int (*start)(store_tx_t *tx, void *arg); /* before a walk from the first event */
    int (*one)(store_tx_t *tx, const uint8_t *id, int kind, void *arg);
    void *arg;
    uint64_t count; /* the caller's count, kept with the progress */
} store_walk_t;
/* Walk the next chunk of w inside tx (a store_txn_run body); *done once
 * every event is walked and the progress key is gone. 0 or an LMDB code
 * (or what start/one returned). */
int store_walk_chunk(store_tx_t *tx, store_walk_t *w, bool *done);
/* Whether a walk under key is under way (its progress key is present). */
int store_walk_pending(store_t *s, MDB_txn *txn, const char *key, bool *pending);
/* Rebuild the search index if it was built by other rules than
 * FTS_VERSION (store_reindex.c); *tips: tips indexed, 0 if nothing was
 * done. 0 or an LMDB / STORE_E code. */
int store_reindex_ensure(store_t *s, uint64_t *tips);

#endif
