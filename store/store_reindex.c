/* store_reindex.c -- rebuild the search index when it was built by other
 * rules than this tipd's (fts.h FTS_VERSION; docs/SEARCH.md, "Index
 * versions").
 *
 * What the index holds for a tip is a function of the tip alone (its
 * language, its terms, its topic keys), which is what lets a retraction
 * find the postings to remove. When those rules change, an index written
 * by the old ones would keep old terms that no retraction can find and
 * lack the new keys, so the store empties it and indexes every held, live
 * tip and question again, once, at the first open for writing: a walk
 * over the time index in chunks of a few thousand events per write
 * transaction that a start cut short resumes (store_walk.c; the version
 * being built is the walk's tag). Docnums come out in time
 * order, so ties between equal scores are broken as on any node that
 * ingested the same events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fts.h"
#include "store_int.h"

#define S_CHUNK 8192 /* events per transaction */
#define S_KEY   "ftsbuild"

typedef struct {
    bool done;
    store_walk_t walk; /* its count: tips indexed */
    event_t *ev;
} s_rebuild_t;

/* store_walk one(): index the held event id of kind, if it is a live tip
 * or question. */
static int s_one(store_tx_t *tx, const uint8_t *id, int kind, void *arg)
{
    s_rebuild_t *b = arg;
    if (kind != EVENT_TIP && kind != EVENT_QUESTION) return 0;
    MDB_val raw;
    int rc = store_ev_get(tx->s, tx->txn, id, &raw);
    if (rc) return rc == MDB_NOTFOUND ? 0 : rc;
    if (raw.mv_size == STORE_TOMB_LEN) return 0;
    if (event_decode(raw.mv_data, raw.mv_size, b->ev)) return MDB_CORRUPTED;
    b->walk.count++;
    return fts_index(tx->s->fts, tx->txn, b->ev);
}

/* store_walk start(): whatever an older index or build left goes. */
static int s_start(store_tx_t *tx, void *arg)
{
    (void)arg;
    return fts_clear(tx->s->fts, tx->txn);
}

/* Whether the index must be (or is being) rebuilt; *v its version. A
 * rebuild under way keeps its progress key until it is done, because an
 * index it has just emptied looks new. 0 or an LMDB / STORE_E code. */
static int s_needed(store_t *s, MDB_txn *txn, uint32_t *v, bool *need)
{
    bool pending = false;
    int rc = store_walk_pending(s, txn, S_KEY, &pending);
    if (!rc) rc = fts_version(s->fts, txn, v);
    *need = pending || (*v != 0 && *v != FTS_VERSION);
    return rc;
}

static int s_chunk(store_tx_t *tx, void *arg)
{
    s_rebuild_t *b = arg;
    uint32_t v = 0;
    bool need = false;
    int rc = s_needed(tx->s, tx->txn, &v, &need);
    if (rc) return rc;
    if (!need) { /* a new index (never held anything) is marked current */
        b->done = true;
        return v == 0 ? fts_version_mark(tx->s->fts, tx->txn) : 0;
    }
    if ((rc = store_walk_chunk(tx, &b->walk, &b->done))) return rc;
    return b->done ? fts_version_mark(tx->s->fts, tx->txn) : 0;
}

int store_reindex_ensure(store_t *s, uint64_t *tips)
{
    *tips = 0;
    if (s->read_only) return 0;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return rc;
    uint32_t v = 0;
    bool need = false;
    rc = s_needed(s, txn, &v, &need);
    store_rtxn_close(s, txn);
    if (rc || (!need && v == FTS_VERSION)) return rc;
    s_rebuild_t b = {.ev = malloc(sizeof(event_t))};
    if (!b.ev) return ENOMEM;
    b.walk = (store_walk_t){.key = S_KEY,
                            .tag = FTS_VERSION,
                            .chunk = s->fts_chunk ? s->fts_chunk : S_CHUNK,
                            .start = s_start,
                            .one = s_one,
                            .arg = &b};
    /* room for one chunk's postings and records: about 2 KiB per tip */
    while (rc == 0 && !b.done) rc = store_txn_run(s, (size_t)S_CHUNK * 2048, s_chunk, &b);
    free(b.ev);
    if (rc == 0) *tips = b.walk.count;
    return rc;
}
