/* large_v3.c -- turn the store in DIR back into what an older tipd wrote,
 * so that the next tipd start times a one-time migration on a large store.
 * Run only on a stopped tipd's data directory.
 *   `bench-large unfigure DIR`: schema 3, no figures for stats and today
 *   (store/store_agg.c builds them);
 *   `bench-large unindex DIR`: a search index with no version mark, as
 *   index version 1 left it (store/store_reindex.c rebuilds it).
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int large_unfigure(const char *dir);
int large_unindex(const char *dir);

/* Open DIR's environment, run edit in one write transaction, commit, and
 * say `done` DIR. 0, or 1 with LMDB's words on stderr. */
static int s_edit(const char *dir, int (*edit)(MDB_txn *txn), const char *done)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (!rc) rc = mdb_env_set_maxdbs(env, 32);
    if (!rc) rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    if (!rc) rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc) rc = edit(txn);
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
    if (rc) {
        fprintf(stderr, "bench-large: %s: %s\n", dir, mdb_strerror(rc));
        return 1;
    }
    printf("%s %s\n", done, dir);
    return 0;
}

/* Schema 3: no "agg" mark, no figures. */
static int s_unfigure(MDB_txn *txn)
{
    static const char *dbs[] = {"apost", "aauth", "atopic", "anew", "astory"};
    MDB_dbi meta, dbi;
    int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    MDB_val k = {3, "agg"}, v;
    if (!rc && (rc = mdb_del(txn, meta, &k, NULL)) == MDB_NOTFOUND) rc = 0;
    uint8_t three[4] = {0, 0, 0, 3};
    k = (MDB_val){6, "schema"};
    v = (MDB_val){4, three};
    if (!rc) rc = mdb_put(txn, meta, &k, &v, 0);
    for (size_t i = 0; !rc && i < sizeof dbs / sizeof dbs[0]; i++)
        if (!(rc = mdb_dbi_open(txn, dbs[i], 0, &dbi))) rc = mdb_drop(txn, dbi, 1);
    return rc;
}

/* Index version 1: no version mark (its name keys stay; the rebuild
 * empties the index first either way). */
static int s_unindex(MDB_txn *txn)
{
    MDB_dbi meta;
    int rc = mdb_dbi_open(txn, "fts_meta", 0, &meta);
    MDB_val k = {7, "version"};
    if (!rc && (rc = mdb_del(txn, meta, &k, NULL)) == MDB_NOTFOUND) rc = 0;
    return rc;
}

int large_unfigure(const char *dir)
{
    return s_edit(dir, s_unfigure, "unfigured");
}

int large_unindex(const char *dir)
{
    return s_edit(dir, s_unindex, "unindexed");
}
