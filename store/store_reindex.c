/* store_reindex.c -- rebuild the search index when it was built by other
 * rules than this tipd's (fts.h FTS_VERSION; docs/SEARCH.md, "Index
 * versions").
 *
 * What the index holds for a tip is a function of the tip alone (its
 * language, its terms, its topic keys), which is what lets a retraction
 * find the postings to remove. When those rules change, an index written
 * by the old ones would keep old terms that no retraction can find and
 * lack the new keys, so the store empties it and indexes every held, live
 * tip and question again, once, at the first open for writing. The work
 * goes in chunks of a few thousand events per write transaction, walking
 * the time index; a progress key in the store's meta lets a start that was
 * cut short resume where it stopped (unless events were stored meanwhile,
 * say by an older tipd, or another version was building: then it starts
 * over). Docnums come out in time
 * order, so ties between equal scores are broken as on any node that
 * ingested the same events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fts.h"
#include "store_int.h"

#define S_CHUNK 8192 /* events per transaction */

typedef struct {
    int done;
    uint64_t tips;
    event_t *ev;
} s_rebuild_t;

/* Index the held event id of kind, if it is a live tip or question. */
static int s_one(store_tx_t *tx, s_rebuild_t *b, const uint8_t *id, int kind)
{
    if (kind != EVENT_TIP && kind != EVENT_QUESTION) return 0;
    MDB_val raw;
    int rc = store_ev_get(tx->s, tx->txn, id, &raw);
    if (rc) return rc == MDB_NOTFOUND ? 0 : rc;
    if (raw.mv_size == STORE_TOMB_LEN) return 0;
    if (event_decode(raw.mv_data, raw.mv_size, b->ev)) return MDB_CORRUPTED;
    b->tips++;
    return fts_index(tx->s->fts, tx->txn, b->ev);
}

/* time key done, events then, tips so far, the FTS_VERSION building */
#define S_PROG_LEN (8 + EVENT_ID_LEN + 8 + 8 + 4)

/* The index's version into *v (fts_version) and the progress of a rebuild
 * under way into *prog (mv_size 0: none). A rebuild leaves its progress key
 * until it is done, because an index it has just emptied looks new. 0 or
 * an LMDB / STORE_E code. */
static int s_state(store_t *s, MDB_txn *txn, uint32_t *v, MDB_val *prog)
{
    MDB_val pk = {8, "ftsbuild"};
    int rc = mdb_get(txn, s->meta, &pk, prog);
    if (rc == MDB_NOTFOUND) prog->mv_size = 0;
    if (rc && rc != MDB_NOTFOUND) return rc;
    return fts_version(s->fts, txn, v);
}

static int s_chunk(store_tx_t *tx, void *arg)
{
    s_rebuild_t *b = arg;
    store_t *s = tx->s;
    MDB_val pv, pk = {8, "ftsbuild"};
    uint32_t v = 0;
    int rc = s_state(s, tx->txn, &v, &pv);
    if (rc) return rc;
    b->done = pv.mv_size == 0 && (v == 0 || v == FTS_VERSION);
    if (b->done) return v == 0 ? fts_version_mark(s->fts, tx->txn) : 0;
    uint8_t at[8 + EVENT_ID_LEN], prog[S_PROG_LEN];
    const uint8_t *pd = pv.mv_data;
    int resume = pv.mv_size == sizeof prog && store_rd64(pd + sizeof at) == tx->c.events &&
                 store_rd32(pd + sizeof at + 16) == FTS_VERSION;
    if (resume) {
        memcpy(at, pd, sizeof at);
        b->tips = store_rd64(pd + sizeof at + 8);
    } else { /* from the start: whatever an older index or build left goes */
        b->tips = 0;
        if ((rc = fts_clear(s->fts, tx->txn))) return rc;
    }
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(tx->txn, s->time, &cur))) return rc;
    MDB_val k = {sizeof at, at}, tv;
    rc = mdb_cursor_get(cur, &k, &tv, resume ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && resume && k.mv_size == sizeof at && !memcmp(k.mv_data, at, sizeof at))
        rc = mdb_cursor_get(cur, &k, &tv, MDB_NEXT); /* `at` itself is done */
    size_t n = 0, chunk = s->fts_chunk ? s->fts_chunk : S_CHUNK;
    for (; rc == 0 && n < chunk; rc = mdb_cursor_get(cur, &k, &tv, MDB_NEXT)) {
        if (k.mv_size != sizeof at || tv.mv_size < 1) continue;
        memcpy(at, k.mv_data, sizeof at);
        if ((rc = s_one(tx, b, at + 8, ((const uint8_t *)tv.mv_data)[0]))) break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == 0) { /* a chunk done, more to come */
        memcpy(prog, at, sizeof at);
        store_be64(prog + sizeof at, tx->c.events);
        store_be64(prog + sizeof at + 8, b->tips);
        store_be32(prog + sizeof at + 16, FTS_VERSION);
        pv = (MDB_val){sizeof prog, prog};
        return mdb_put(tx->txn, s->meta, &pk, &pv, 0);
    }
    if (rc != MDB_NOTFOUND) return rc;
    if ((rc = mdb_del(tx->txn, s->meta, &pk, NULL)) && rc != MDB_NOTFOUND) return rc;
    b->done = 1;
    return fts_version_mark(s->fts, tx->txn);
}

int store_reindex_ensure(store_t *s, uint64_t *tips)
{
    *tips = 0;
    if (s->read_only) return 0;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return rc;
    MDB_val prog;
    uint32_t v = 0;
    rc = s_state(s, txn, &v, &prog);
    store_rtxn_close(s, txn);
    if (rc || (prog.mv_size == 0 && v == FTS_VERSION)) return rc;
    s_rebuild_t b = {.ev = malloc(sizeof(event_t))};
    if (!b.ev) return ENOMEM;
    /* room for one chunk's postings and records: about 2 KiB per tip */
    while (rc == 0 && !b.done) rc = store_txn_run(s, (size_t)S_CHUNK * 2048, s_chunk, &b);
    free(b.ev);
    if (rc == 0) *tips = b.tips;
    return rc;
}
