/* store_walk.c -- a walk over every held event in time order, a chunk per
 * write transaction, that a start cut short resumes: what the one-time
 * migrations at open (store_agg.c's figures, store_reindex.c's search
 * index) are made of.
 *
 * The walk's progress lives in the store's meta under the caller's key:
 * the last time key done, the events held then, a count the caller keeps
 * (e.g. tips indexed) and a tag (the version being built). A walk resumes
 * only if the events held and the tag are what they were; otherwise
 * something was stored meanwhile (say by an older tipd) or another version
 * was building, and the walk starts over, calling start() first to undo
 * what a partial walk left.
 */
#include <string.h>

#include "store_int.h"

#define S_PROG_LEN (8 + EVENT_ID_LEN + 8 + 8 + 4)

int store_walk_pending(store_t *s, MDB_txn *txn, const char *key, bool *pending)
{
    MDB_val pk = {strlen(key), (void *)key}, pv;
    int rc = mdb_get(txn, s->meta, &pk, &pv);
    *pending = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_walk_chunk(store_tx_t *tx, store_walk_t *w, bool *done)
{
    store_t *s = tx->s;
    uint8_t at[8 + EVENT_ID_LEN], prog[S_PROG_LEN];
    MDB_val pk = {strlen(w->key), (void *)w->key}, pv;
    int rc = mdb_get(tx->txn, s->meta, &pk, &pv);
    if (rc && rc != MDB_NOTFOUND) return rc;
    const uint8_t *pd = pv.mv_data;
    int resume = rc == 0 && pv.mv_size == sizeof prog &&
                 store_rd64(pd + sizeof at) == tx->c.events &&
                 store_rd32(pd + sizeof at + 16) == w->tag;
    *done = false;
    if (resume) {
        memcpy(at, pd, sizeof at);
        w->count = store_rd64(pd + sizeof at + 8);
    } else {
        w->count = 0;
        if ((rc = w->start(tx, w->arg))) return rc;
    }
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(tx->txn, s->time, &cur))) return rc;
    MDB_val k = {sizeof at, at}, v;
    rc = mdb_cursor_get(cur, &k, &v, resume ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && resume && k.mv_size == sizeof at && !memcmp(k.mv_data, at, sizeof at))
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* `at` itself is done */
    for (size_t n = 0; rc == 0 && n < w->chunk; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != sizeof at || v.mv_size < 1) continue;
        memcpy(at, k.mv_data, sizeof at);
        if ((rc = w->one(tx, at + 8, ((const uint8_t *)v.mv_data)[0], w->arg))) break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == 0) { /* a chunk done, more to come */
        memcpy(prog, at, sizeof at);
        store_be64(prog + sizeof at, tx->c.events);
        store_be64(prog + sizeof at + 8, w->count);
        store_be32(prog + sizeof at + 16, w->tag);
        pv = (MDB_val){sizeof prog, prog};
        return mdb_put(tx->txn, s->meta, &pk, &pv, 0);
    }
    if (rc != MDB_NOTFOUND) return rc;
    if ((rc = mdb_del(tx->txn, s->meta, &pk, NULL)) && rc != MDB_NOTFOUND) return rc;
    *done = true;
    return 0;
}
