/* store.c -- the LMDB environment, its schema, read views, the packing of
 * the rows that store_read.c and store_apply.c share, and the point lookups:
 * has, get, prefix resolution, an event's derived stats, a profile, the
 * counts.
 *
 * One environment per data directory, opened MDB_NOTLS so that a callback
 * running inside one read transaction may call another store function (each
 * opens its own short read transaction). Writes go through store_txn_run(),
 * which owns map growth: on MDB_MAP_FULL the transaction is aborted, the map
 * doubled and the work redone. Ingest and the meaning of events live in
 * store_apply.c, iteration (listings, histories, search, ...) in
 * store_read.c; the layout of the named databases is in store_int.h and
 * docs/STORE.md.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "path.h"
#include "store_agg.h"
#include "store_int.h"

#define S_DEFAULT_MAP (64u << 20)

static int s_gate_init(store_t *s);
static int s_release(store_t *s);

const char *store_strerror(int code)
{
    switch (code) {
    case STORE_OK:
        return "ok";
    case STORE_E_LMDB:
        return "the database failed (see the daemon log)";
    case STORE_E_SCHEMA:
        return "the data directory was written by a newer tipd (its schema version is higher "
               "than this build knows); upgrade tipd, the data was left untouched";
    case STORE_E_OLDSCHEMA:
        return "the data directory was written by a pre-release development build whose layout "
               "this tipd cannot read; move it away and restart (peers send every event again), "
               "the data was left untouched";
    case STORE_E_NOTFOUND:
        return "no such event";
    case STORE_E_AMBIGUOUS:
        return "the id prefix matches more than one event";
    case STORE_E_RETRACTED:
        return "the event was retracted by its author";
    case STORE_E_NOSPACE:
        return "buffer too small";
    case STORE_E_ARG:
        return "bad argument";
    case STORE_E_IO:
        return "the data directory cannot be created or opened";
    case STORE_E_BUSY:
        return "the store is in use by a reader; try again later";
    case STORE_E_NOMEM:
        return "out of memory";
    case STORE_E_DISKFULL:
        return "the disk holding the data directory is full";
    case STORE_E_CANCELED:
        return "stopped: the daemon is shutting down";
    default:
        return store_is_event_code(code) ? event_strerror(code) : "unknown store error";
    }
}

int store_is_failure(int code)
{
    switch (code) {
    case STORE_E_LMDB:
    case STORE_E_IO:
    case STORE_E_NOMEM:
    case STORE_E_DISKFULL:
    case STORE_E_BUSY:
        return 1;
    default:
        return 0;
    }
}

const char *store_path(const store_t *s)
{
    return s && s->dir ? s->dir : (s && s->parent ? s->parent->dir : "");
}

const char *store_last_error(const store_t *s)
{
    return s ? s->err : "no store";
}

size_t store_map_size(const store_t *s)
{
    if (!s || !s->env) return 0;
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    return info.me_mapsize;
}

int store_is_own_code(int rc)
{
    return rc <= -100 && rc > -200;
}

int store_is_event_code(int rc)
{
    return rc < 0 && rc > -100;
}

int store_fail(store_t *s, int rc, const char *what)
{
    if (rc == 0) return 0;
    if (store_is_own_code(rc) || store_is_event_code(rc)) return rc; /* already ours */
    if (s) snprintf(s->err, sizeof s->err, "%s: %s", what, mdb_strerror(rc));
    if (rc == MDB_NOTFOUND) return STORE_E_NOTFOUND;
    if (rc == ENOSPC || rc == EDQUOT) return STORE_E_DISKFULL;
    if (rc == ENOMEM) return STORE_E_NOMEM;
    return STORE_E_LMDB;
}

/* ---- packing ---- */

void store_row_pack(const store_row_t *r, uint8_t out[STORE_ROW_LEN])
{
    out[0] = r->flags;
    out[1] = r->kind;
    memcpy(out + 2, r->author, EVENT_KEY_LEN);
    uint8_t *p = out + 2 + EVENT_KEY_LEN;
    store_be64(p, r->created_at);
    store_be32(p + 8, r->ratings);
    store_be32(p + 12, r->rating_sum);
    store_be32(p + 16, r->thanks);
    store_be32(p + 20, r->answers);
}

int store_row_unpack(const MDB_val *v, store_row_t *r)
{
    if (v->mv_size != STORE_ROW_LEN) return MDB_CORRUPTED;
    const uint8_t *in = v->mv_data;
    r->flags = in[0];
    r->kind = in[1];
    memcpy(r->author, in + 2, EVENT_KEY_LEN);
    const uint8_t *p = in + 2 + EVENT_KEY_LEN;
    r->created_at = store_rd64(p);
    r->ratings = store_rd32(p + 8);
    r->rating_sum = store_rd32(p + 12);
    r->thanks = store_rd32(p + 16);
    r->answers = store_rd32(p + 20);
    return 0;
}

void store_ref_pack(const store_ref_t *r, uint8_t out[STORE_REF_LEN])
{
    store_be64(out, r->created_at);
    memcpy(out + 8, r->id, EVENT_ID_LEN);
    out[40] = r->role;
    out[41] = r->kind;
    out[42] = r->value;
    memcpy(out + 43, r->author, EVENT_KEY_LEN);
}

int store_ref_unpack(const MDB_val *v, store_ref_t *r)
{
    if (v->mv_size != STORE_REF_LEN) return MDB_CORRUPTED;
    const uint8_t *in = v->mv_data;
    r->created_at = store_rd64(in);
    memcpy(r->id, in + 8, EVENT_ID_LEN);
    r->role = in[40];
    r->kind = in[41];
    r->value = in[42];
    memcpy(r->author, in + 43, EVENT_KEY_LEN);
    return 0;
}

int store_ref_twin(store_t *s, MDB_txn *txn, const uint8_t target[EVENT_ID_LEN], int kind,
                   const uint8_t author[EVENT_KEY_LEN], const uint8_t id[EVENT_ID_LEN], int smaller,
                   int *found)
{
    *found = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->refs, &cur);
    if (rc) return rc;
    MDB_val k = {EVENT_ID_LEN, (void *)target}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        store_ref_t r;
        if (store_ref_unpack(&v, &r) || r.role != EVENT_REF_TARGET || r.kind != kind ||
            memcmp(r.author, author, EVENT_KEY_LEN))
            continue;
        int c = memcmp(r.id, id, EVENT_ID_LEN);
        if (c == 0 || (smaller && c > 0)) continue;
        *found = 1;
        break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* *v holds the ev locator of id: make it the event's signed bytes. A
 * locator with no bytes is a damaged store. */
static int s_body_of(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], MDB_val *v)
{
    uint8_t key[8 + EVENT_ID_LEN];
    memcpy(key, (uint8_t *)v->mv_data + 1, 8);
    memcpy(key + 8, id, EVENT_ID_LEN);
    MDB_val k = {sizeof key, key};
    int rc = mdb_get(txn, s->body, &k, v);
    return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

int store_row_read(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_row_t *r,
                   MDB_val *raw)
{
    if (raw) *raw = (MDB_val){0, NULL};
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    int rc = mdb_get(txn, s->stat, &k, &v);
    if (rc != MDB_NOTFOUND) return rc ? rc : store_row_unpack(&v, r);
    /* No row: a held tip/question has the one its arrival would have put. */
    if ((rc = mdb_get(txn, s->ev, &k, &v))) return rc;
    const uint8_t *p = v.mv_data;
    if (v.mv_size != STORE_LOC_LEN || (p[0] != EVENT_TIP && p[0] != EVENT_QUESTION))
        return MDB_NOTFOUND;
    memset(r, 0, sizeof *r);
    r->flags = STORE_ROW_HELD | STORE_ROW_VISIBLE;
    r->kind = p[0];
    r->created_at = store_rd64(p + 1);
    if ((rc = s_body_of(s, txn, id, &v))) return rc;
    if (v.mv_size < STORE_AUTHOR_AT + EVENT_KEY_LEN) return MDB_CORRUPTED;
    memcpy(r->author, (uint8_t *)v.mv_data + STORE_AUTHOR_AT, EVENT_KEY_LEN);
    if (raw) *raw = v;
    return 0;
}

int store_row_get(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_row_t *r)
{
    return store_row_read(s, txn, id, r, NULL);
}

int store_ev_get(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], MDB_val *v)
{
    MDB_val k = {EVENT_ID_LEN, (void *)id};
    int rc = mdb_get(txn, s->ev, &k, v);
    if (rc || v->mv_size != STORE_LOC_LEN) return rc;
    return s_body_of(s, txn, id, v);
}

/* fts_text_fn: the text of a live event, for search's feedback pass. Any
 * store_t of the environment reads through txn alike (the dbis are the
 * environment's), so the index is given the owner once, at open. */
static int s_doc_text(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], event_t *ev, void *arg)
{
    MDB_val v;
    int rc = store_ev_get(arg, txn, id, &v);
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) return STORE_E_LMDB;
    if (v.mv_size <= STORE_TOMB_LEN || ((uint8_t *)v.mv_data)[0] == 0) return 1;
    return event_decode(v.mv_data, v.mv_size, ev) ? 1 : 0;
}

/* ---- counters ---- */

#define S_NCOUNTS 7

int store_counts_load(store_t *s, MDB_txn *txn, store_counts_t *c)
{
    MDB_val k = {6, "counts"}, v;
    memset(c, 0, sizeof *c);
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    if (v.mv_size != 8 * S_NCOUNTS) return MDB_CORRUPTED;
    const uint8_t *p = v.mv_data;
    uint64_t *f[S_NCOUNTS] = {&c->events, &c->tips,     &c->questions, &c->ratings,
                              &c->thanks, &c->retracts, &c->profiles};
    for (int i = 0; i < S_NCOUNTS; i++) *f[i] = store_rd64(p + 8 * i);
    return 0;
}

int store_counts_save(store_t *s, MDB_txn *txn, const store_counts_t *c)
{
    uint8_t buf[8 * S_NCOUNTS];
    const uint64_t f[S_NCOUNTS] = {c->events, c->tips,     c->questions, c->ratings,
                                   c->thanks, c->retracts, c->profiles};
    for (int i = 0; i < S_NCOUNTS; i++) store_be64(buf + 8 * i, f[i]);
    MDB_val k = {6, "counts"}, v = {sizeof buf, buf};
    return mdb_put(txn, s->meta, &k, &v, 0);
}

/* ---- the map gate (store_int.h) ---- */

static int s_gate_init(store_t *s)
{
    if (pthread_mutex_init(&s->gate_mu, NULL)) return -1;
    if (pthread_cond_init(&s->gate_cv, NULL)) {
        pthread_mutex_destroy(&s->gate_mu);
        return -1;
    }
    return 0;
}

/* Count one read of the owner in. It waits only while the map is held, not
 * while it is wanted, so it may be nested (views wait for a wish too: see
 * store_rtxn_begin). */
static void s_gate_enter(store_t *o)
{
    pthread_mutex_lock(&o->gate_mu);
    while (o->excl) pthread_cond_wait(&o->gate_cv, &o->gate_mu);
    o->readers++;
    pthread_mutex_unlock(&o->gate_mu);
}

static void s_gate_leave(store_t *o)
{
    pthread_mutex_lock(&o->gate_mu);
    if (--o->readers == 0) pthread_cond_broadcast(&o->gate_cv);
    pthread_mutex_unlock(&o->gate_mu);
}

/* Writer: take the map for itself. Asks long walks to stop and new views to
 * wait, then waits for every reader to leave; with wait = 0 gives up at once
 * (STORE_E_BUSY) if any is open. */
static int s_gate_take(store_t *o, int wait)
{
    pthread_mutex_lock(&o->gate_mu);
    if (o->readers && !wait) {
        pthread_mutex_unlock(&o->gate_mu);
        return STORE_E_BUSY;
    }
    __atomic_store_n(&o->grow_wanted, 1, __ATOMIC_RELAXED);
    while (o->readers) pthread_cond_wait(&o->gate_cv, &o->gate_mu);
    o->excl = 1;
    pthread_mutex_unlock(&o->gate_mu);
    return 0;
}

static void s_gate_give(store_t *o)
{
    pthread_mutex_lock(&o->gate_mu);
    o->excl = 0;
    __atomic_store_n(&o->grow_wanted, 0, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&o->gate_cv);
    pthread_mutex_unlock(&o->gate_mu);
}

/* ---- transactions ---- */

/* mdb_txn_begin for reading, adopting a map another process grew. */
static int s_begin_read(MDB_env *env, MDB_txn **txn)
{
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(env, 0);
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    }
    return rc;
}

int store_rtxn(store_t *s, MDB_txn **txn)
{
    if (s->bound) {
        *txn = s->bound;
        return 0;
    }
    if (s->parent) return EINVAL; /* a view whose transaction failed to begin */
    s_gate_enter(s);
    int rc = s->env ? s_begin_read(s->env, txn) : EINVAL; /* EINVAL: a reopen failed */
    if (rc) s_gate_leave(s);
    return rc;
}

void store_rtxn_close(store_t *s, MDB_txn *txn)
{
    if (!txn || txn == s->bound) return;
    mdb_txn_abort(txn);
    s_gate_leave(s);
}

/* Set the map to at least want bytes (and at least double it). */
static int s_grow(store_t *s, size_t want)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    size_t cur = info.me_mapsize > s->map_size ? info.me_mapsize : s->map_size;
    size_t size = cur * 2 > want ? cur * 2 : want;
    /* Remapping moves every page: wait until no reader is using them,
     * asking the views' long walks to stop meanwhile (their callers start
     * again: store_rtxn_stopped). */
    s_gate_take(s, 1);
    int rc = mdb_env_set_mapsize(s->env, size);
    if (rc == 0) s->map_size = size;
    s_gate_give(s);
    return rc;
}

int store_txn_run(store_t *s, size_t need, int (*body)(store_tx_t *tx, void *arg), void *arg)
{
    /* fts.c reports LMDB failures as STORE_E_LMDB, which hides MDB_MAP_FULL;
     * keep room ahead of the batch, and retry such a failure twice with a
     * bigger map before believing it. */
    int vague_retries = 2;
    if (!s->env) return STORE_E_LMDB; /* store_release_memory failed to reopen */
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &st);
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    if (!s->no_reserve && used + need > info.me_mapsize) {
        int rc = s_grow(s, used + 2 * need);
        if (rc) return rc;
    }
    for (int attempt = 0; attempt < 40; attempt++) {
        store_tx_t tx = {.s = s};
        int rc = mdb_txn_begin(s->env, NULL, 0, &tx.txn);
        if (rc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize(s->env, 0);
            rc = mdb_txn_begin(s->env, NULL, 0, &tx.txn);
        }
        if (rc) return rc;
        rc = store_counts_load(s, tx.txn, &tx.c);
        if (rc == 0) rc = body(&tx, arg);
        /* search: fts_index queues postings; write them before commit
         * (fts.h), drop them on abort. */
        if (rc == 0) rc = fts_flush(s->fts, tx.txn);
        if (rc == 0) rc = store_counts_save(s, tx.txn, &tx.c);
        if (rc == 0) {
            rc = mdb_txn_commit(tx.txn);
        } else {
            fts_discard(s->fts);
            mdb_txn_abort(tx.txn);
        }
        if (rc == STORE_E_LMDB && vague_retries-- > 0) rc = MDB_MAP_FULL;
        if (rc != MDB_MAP_FULL) return rc;
        if ((rc = s_grow(s, 0))) return rc;
    }
    return MDB_MAP_FULL;
}

/* ---- open / close ---- */

/* Open (creating unless read-only) the store's named databases. */
static int s_open_dbs(store_t *s, MDB_txn *txn)
{
    unsigned c = s->read_only ? 0 : MDB_CREATE;
    struct {
        const char *name;
        unsigned flags;
        MDB_dbi *dbi;
    } dbs[] = {
        {"meta", 0, &s->meta},
        {"ev", 0, &s->ev},
        {"body", 0, &s->body},
        {"time", 0, &s->time},
        {"auth", 0, &s->auth},
        {"topic", 0, &s->topic},
        {"refs", MDB_DUPSORT | MDB_DUPFIXED, &s->refs},
        {"stat", 0, &s->stat},
        {"rate", 0, &s->rate},
        {"prof", 0, &s->prof},
        {"miss", 0, &s->miss},
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | c, dbs[i].dbi);
        if (rc) return rc;
    }
    return store_agg_open_dbs(s, txn);
}

/* Check (or, in a fresh store, write) the schema version. */
static int s_schema(store_t *s, MDB_txn *txn)
{
    MDB_val k = {6, "schema"}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == 0) {
        if (v.mv_size != 4) return STORE_E_SCHEMA;
        uint32_t have = store_rd32(v.mv_data);
        if (have > STORE_SCHEMA_VERSION) {
            snprintf(s->err, sizeof s->err,
                     "data directory has store schema v%u; this tipd knows up to v%u", have,
                     STORE_SCHEMA_VERSION);
            return STORE_E_SCHEMA;
        }
        if (have == 3) return 0; /* v4 adds only the figures: built at open (store_agg.c) */
        if (have < STORE_SCHEMA_VERSION) {
            /* v1 and v2 existed only in pre-release development builds
             * (v2's search index had no code field, no language stemming
             * and no accent folding); there is nothing to migrate. */
            snprintf(s->err, sizeof s->err,
                     "data directory has store schema v%u from a development build; this tipd "
                     "needs v%u",
                     have, STORE_SCHEMA_VERSION);
            return STORE_E_OLDSCHEMA;
        }
        return 0;
    }
    if (rc != MDB_NOTFOUND) return rc;
    if (s->read_only) return 0;
    uint8_t b[4];
    store_be32(b, STORE_SCHEMA_VERSION);
    v = (MDB_val){4, b};
    return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Open s->env on s->dir with s->env_flags and s->map_size, clear stale
 * readers, open the named databases and the full-text index (s->fts), check
 * the schema. Returns 0 or a STORE_E* code; on failure s->env and s->fts are
 * closed and NULL. */
static int s_env_open(store_t *s)
{
    int code, rc;
    MDB_txn *txn = NULL;
    if ((rc = mdb_env_create(&s->env))) goto lmdb;
    if ((rc = mdb_env_set_maxdbs(s->env, 32))) goto lmdb;
    if ((rc = mdb_env_set_mapsize(s->env, s->map_size))) goto lmdb;
    if ((rc = mdb_env_open(s->env, s->dir, s->env_flags, 0600))) {
        code = rc == ENOENT || rc == EACCES || rc == ENOTDIR ? STORE_E_IO : STORE_E_LMDB;
        snprintf(s->err, sizeof s->err, "open: %s", mdb_strerror(rc));
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(s->env, &dead);
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    if (info.me_mapsize > s->map_size) s->map_size = info.me_mapsize;

    rc = s->read_only ? s_begin_read(s->env, &txn) : mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) goto lmdb;
    if ((rc = s_open_dbs(s, txn))) goto lmdb;
    if ((rc = s_schema(s, txn))) {
        if (rc == STORE_E_SCHEMA || rc == STORE_E_OLDSCHEMA) {
            code = rc;
            goto fail;
        }
        goto lmdb;
    }
    if (!(rc = fts_open(txn, &s->fts)) && s->fts) fts_set_text(s->fts, s_doc_text, s);
    if (rc || !s->fts) {
        code = store_is_own_code(rc) || store_is_event_code(rc) ? rc : STORE_E_LMDB;
        goto fail;
    }
    if ((rc = mdb_txn_commit(txn))) {
        txn = NULL;
        goto lmdb;
    }
    return 0;

lmdb:
    code = rc == MDB_NOTFOUND ? STORE_E_NOTFOUND : STORE_E_LMDB;
    if (rc && !s->err[0]) snprintf(s->err, sizeof s->err, "open: %s", mdb_strerror(rc));
fail:
    if (txn) mdb_txn_abort(txn);
    fts_destroy(&s->fts);
    if (s->env) mdb_env_close(s->env);
    s->env = NULL;
    return code;
}

/* Run a one-time migration at open (fn: store_agg_ensure, building the
 * figures of stats and today for a store that has none;
 * store_reindex_ensure, rebuilding a search index an older tipd wrote),
 * timed for the caller's log: *n what fn reports doing, *secs how long. */
static int s_migrate(store_t *s, int (*fn)(store_t *, uint64_t *), const char *what, uint64_t *n,
                     double *secs)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t done = 0;
    int rc = fn(s, &done);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        int code = store_fail(s, rc, what);
        return code == STORE_E_NOTFOUND ? STORE_E_LMDB : code;
    }
    *n = done;
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return 0;
}

uint64_t store_reindexed(const store_t *s, double *seconds)
{
    if (seconds) *seconds = s ? s->reindex_s : 0;
    return s ? s->reindexed : 0;
}

uint64_t store_agg_built(const store_t *s, double *seconds)
{
    if (seconds) *seconds = s ? s->agg_build_s : 0;
    return s ? s->agg_built : 0;
}

store_t *store_new(const char *dir, const store_opts_t *opts, int *err)
{
    store_opts_t o = opts ? *opts : (store_opts_t){0};
    int code = 0;
    store_t *s = NULL;

    if (!dir) {
        code = STORE_E_ARG;
        goto fail;
    }
    if (!o.read_only && path_mkdir_p(dir, 0700, NULL, 0) != 0) {
        code = STORE_E_IO;
        goto fail;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->dir = strdup(dir))) {
        code = STORE_E_IO;
        goto fail;
    }
    s->read_only = o.read_only;
    s->no_reserve = o.no_reserve;
    if (s_gate_init(s) != 0) {
        code = STORE_E_IO;
        goto fail;
    }
    s->map_size = o.map_size ? o.map_size : S_DEFAULT_MAP;
    s->env_flags = MDB_NOTLS | (o.no_sync ? MDB_NOSYNC : 0) | (o.read_only ? MDB_RDONLY : 0);
    s->agg_chunk = o.agg_chunk;
    s->fts_chunk = o.fts_chunk;
    if ((code = s_env_open(s))) goto fail;
    if ((code = s_migrate(s, store_reindex_ensure, "rebuilding the search index", &s->reindexed,
                          &s->reindex_s)) ||
        (code = s_migrate(s, store_agg_ensure, "building the stats figures", &s->agg_built,
                          &s->agg_build_s))) {
        fts_destroy(&s->fts);
        mdb_env_close(s->env);
        goto fail;
    }
    if (err) *err = 0;
    return s;

fail:
    if (o.why && o.why_len) snprintf(o.why, o.why_len, "%s", s && s->err[0] ? s->err : "");
    if (s) free(s->dir);
    free(s);
    if (err) *err = code;
    return NULL;
}

void store_destroy(store_t **p)
{
    if (!p || !*p) return;
    store_t *s = *p;
    if (s->parent) { /* a read view: end it instead */
        store_rtxn_end(p);
        return;
    }
    fts_destroy(&s->fts);
    if (s->env) mdb_env_close(s->env);
    pthread_cond_destroy(&s->gate_cv);
    pthread_mutex_destroy(&s->gate_mu);
    free(s->dir);
    free(s);
    *p = NULL;
}

/* ---- read views ---- */

store_t *store_rtxn_begin(store_t *s, int *err)
{
    int code = STORE_E_ARG;
    store_t *v = NULL;
    if (!s || s->parent) goto fail;
    code = STORE_E_NOMEM;
    if (!(v = calloc(1, sizeof *v))) goto fail;
    /* Views wait while the writer wants the map: a resize is not held off
     * by views that start after it. A thread never holds two views (reads
     * through a view use its transaction), so this cannot deadlock. */
    pthread_mutex_lock(&s->gate_mu);
    while (s->excl || __atomic_load_n(&s->grow_wanted, __ATOMIC_RELAXED))
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    s->readers++;
    /* The owner changes env, fts and the dbis only while it holds the map
     * (store_release_memory), so this copy, made under the gate, is
     * consistent. */
    *v = *s;
    pthread_mutex_unlock(&s->gate_mu);
    memset(&v->gate_mu, 0, sizeof v->gate_mu);
    memset(&v->gate_cv, 0, sizeof v->gate_cv);
    v->readers = 0;
    v->excl = 0;
    v->dir = NULL;
    v->err[0] = 0;
    v->parent = s;
    v->bound = NULL;
    v->cancel = NULL;
    v->grow_wanted = 0;
    v->stopped = 0;
    v->read_only = 1; /* a view never writes (store_ingest, store_miss_record refuse) */
    MDB_txn *txn;
    int rc = v->env ? s_begin_read(v->env, &txn) : EINVAL; /* EINVAL: a reopen failed */
    if (rc) {
        s_gate_leave(s);
        code = rc == EINVAL ? STORE_E_LMDB : store_fail(v, rc, "read view");
        free(v);
        v = NULL;
        goto fail;
    }
    v->bound = txn;
    if (err) *err = 0;
    return v;
fail:
    if (err) *err = code;
    return NULL;
}

void store_rtxn_end(store_t **p)
{
    if (!p || !*p) return;
    store_t *v = *p;
    if (!v->parent) { /* not a view: nothing of ours to end */
        *p = NULL;
        return;
    }
    if (v->bound) mdb_txn_abort(v->bound);
    s_gate_leave(v->parent);
    free(v);
    *p = NULL;
}

void store_rtxn_cancel_on(store_t *v, const int *flag)
{
    if (v && v->parent) v->cancel = flag;
}

int store_rtxn_stopped(const store_t *v)
{
    return v && v->parent && v->stopped &&
           !(v->cancel && __atomic_load_n(v->cancel, __ATOMIC_RELAXED));
}

int store_rtxn_renew(store_t *v)
{
    if (!v || !v->parent || !v->bound) return STORE_E_ARG;
    mdb_txn_reset(v->bound);
    int rc = mdb_txn_renew(v->bound);
    return rc ? store_fail(v, rc, "read view renew") : 0;
}

int store_release_memory(store_t *s, int wait)
{
    if (!s || s->parent) return STORE_E_ARG;
    /* Without wait, a reader using the map means: try again later rather
     * than stall the caller's thread (the memory is only a cache). */
    int rc = s_gate_take(s, wait);
    if (rc) return rc;
    rc = s_release(s);
    s_gate_give(s);
    return rc;
}

static int s_release(store_t *s)
{
    if (!s->env) return s_env_open(s); /* an earlier reopen failed: retry */
    /* LMDB keeps every page buffer a write transaction dirtied on a free
     * list (me_dpages) that only mdb_env_close() releases, and the index
     * keeps its per-transaction tables at their largest size: one batch of
     * 1024 tips leaves ~30 MiB behind for good. Reopening is a few syscalls
     * and touches no data (the map is a page cache view). */
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    if (info.me_mapsize > s->map_size) s->map_size = info.me_mapsize;
    fts_destroy(&s->fts);
    mdb_env_close(s->env);
    s->env = NULL;
    int rc = s_env_open(s);
#ifdef __GLIBC__
    /* Hand the freed heap back to the system; without this glibc keeps the
     * top of the heap mapped (free chunks below the top are madvised). */
    malloc_trim(0);
#endif
    return rc;
}

/* ---- lookups ---- */

int store_has(store_t *s, const uint8_t id[EVENT_ID_LEN])
{
    if (!s || !id) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "has");
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    rc = mdb_get(txn, s->ev, &k, &v);
    store_rtxn_close(s, txn);
    if (rc == MDB_NOTFOUND) return 0;
    return rc ? store_fail(s, rc, "has") : 1;
}

int store_get_raw(store_t *s, const uint8_t id[EVENT_ID_LEN], uint8_t *buf, size_t cap, size_t *len)
{
    if (!s || !id || !len) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "get");
    MDB_val v;
    rc = store_ev_get(s, txn, id, &v);
    if (rc == 0) {
        if (v.mv_size <= STORE_TOMB_LEN || ((uint8_t *)v.mv_data)[0] == 0) {
            rc = STORE_E_RETRACTED;
        } else {
            *len = v.mv_size;
            if (v.mv_size > cap || !buf)
                rc = STORE_E_NOSPACE;
            else
                memcpy(buf, v.mv_data, v.mv_size);
        }
    }
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "get");
}

int store_get(store_t *s, const uint8_t id[EVENT_ID_LEN], event_t *ev)
{
    if (!ev) return STORE_E_ARG;
    uint8_t *buf = malloc(EVENT_MAX_SIZE);
    if (!buf) return STORE_E_IO;
    size_t len;
    int rc = store_get_raw(s, id, buf, EVENT_MAX_SIZE, &len);
    if (rc == 0) rc = event_decode(buf, len, ev);
    free(buf);
    return rc;
}

int store_resolve(store_t *s, const char *prefix, uint8_t (*out)[EVENT_ID_LEN], size_t max,
                  size_t *n)
{
    if (!s || !prefix || !n) return STORE_E_ARG;
    *n = 0;
    char norm[2 * EVENT_ID_LEN + 1];
    int plen = event_prefix_norm(prefix, norm);
    if (plen < 0) return plen;
    /* Whole bytes of the prefix, plus the high nibble of an odd last one. */
    uint8_t key[EVENT_ID_LEN] = {0};
    size_t nb = (size_t)plen / 2;
    char tmp[3] = {0};
    for (size_t i = 0; i < (size_t)(plen + 1) / 2; i++) {
        tmp[0] = norm[2 * i];
        tmp[1] = 2 * i + 1 < (size_t)plen ? norm[2 * i + 1] : '0';
        key[i] = (uint8_t)strtoul(tmp, NULL, 16);
    }
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "resolve");
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, s->ev, &c))) {
        store_rtxn_close(s, txn);
        return store_fail(s, rc, "resolve");
    }
    MDB_val k = {(size_t)(plen + 1) / 2, key}, v;
    size_t found = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *id = k.mv_data;
        if (k.mv_size != EVENT_ID_LEN || memcmp(id, key, nb) != 0) break;
        if ((plen & 1) && (id[nb] >> 4) != (key[nb] >> 4)) break;
        if (found < max && out) memcpy(out[found], id, EVENT_ID_LEN);
        if (++found > max) break;
    }
    mdb_cursor_close(c);
    store_rtxn_close(s, txn);
    if (rc && rc != MDB_NOTFOUND) return store_fail(s, rc, "resolve");
    *n = found < max ? found : max;
    if (found == 0) return STORE_E_NOTFOUND;
    return found == 1 ? 0 : STORE_E_AMBIGUOUS;
}

/* ---- derived state ---- */

/* Newest live version reachable from id through same-author SUPERSEDES
 * references (id itself if none). */
static int s_latest(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN],
                    const store_row_t *row, uint8_t latest[EVENT_ID_LEN])
{
    memcpy(latest, id, EVENT_ID_LEN);
    if (!(row->flags & STORE_ROW_SUPERSEDED)) return 0;
    uint8_t(*queue)[EVENT_ID_LEN] = malloc(STORE_MAX_CHAIN * EVENT_ID_LEN);
    if (!queue) return ENOMEM;
    size_t head = 0, tail = 0;
    uint64_t best_t = 0;
    int have = 0, rc = 0;
    memcpy(queue[tail++], id, EVENT_ID_LEN);
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, s->refs, &c))) {
        free(queue);
        return rc;
    }
    while (head < tail) {
        const uint8_t *cur = queue[head++];
        store_row_t r;
        if (store_row_get(s, txn, cur, &r) != 0) continue;
        if (!(r.flags & STORE_ROW_SUPERSEDED)) {
            if (!(r.flags & STORE_ROW_RETRACTED) &&
                (!have || r.created_at > best_t ||
                 (r.created_at == best_t && memcmp(cur, latest, EVENT_ID_LEN) > 0))) {
                memcpy(latest, cur, EVENT_ID_LEN);
                best_t = r.created_at;
                have = 1;
            }
            continue;
        }
        MDB_val k = {EVENT_ID_LEN, (void *)cur}, v;
        for (int g = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); g == 0;
             g = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
            store_ref_t ref;
            if (store_ref_unpack(&v, &ref) || ref.role != EVENT_REF_SUPERSEDES ||
                (ref.kind != EVENT_TIP && ref.kind != EVENT_QUESTION) ||
                memcmp(ref.author, row->author, EVENT_KEY_LEN))
                continue;
            if (tail < STORE_MAX_CHAIN) memcpy(queue[tail++], ref.id, EVENT_ID_LEN);
        }
    }
    mdb_cursor_close(c);
    free(queue);
    return rc;
}

/* The retracted flag comes from ev: a tombstone there, whatever the row. */
int store_stats_txn(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], store_stats_t *st)
{
    memset(st, 0, sizeof *st);
    memcpy(st->latest, id, EVENT_ID_LEN);
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    int rc = mdb_get(txn, s->ev, &k, &v);
    int held = rc == 0;
    if (rc && rc != MDB_NOTFOUND) return rc;
    if (held && v.mv_size != STORE_LOC_LEN) st->retracted = 1; /* a tombstone */
    store_row_t r;
    rc = store_row_get(s, txn, id, &r);
    if (rc == MDB_NOTFOUND) return held ? 0 : STORE_E_NOTFOUND;
    if (rc) return rc;
    st->ratings = r.ratings;
    st->rating_sum = r.rating_sum;
    st->thanks = r.thanks;
    st->answers = r.answers;
    st->superseded = !!(r.flags & STORE_ROW_SUPERSEDED);
    if (st->retracted) return 0;
    return s_latest(s, txn, id, &r, st->latest);
}

int store_stats(store_t *s, const uint8_t id[EVENT_ID_LEN], store_stats_t *st)
{
    if (!s || !id || !st) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "stats");
    rc = store_stats_txn(s, txn, id, st);
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "stats");
}

/* Copy len bytes of src into dst[cap] as a C string, cut on a UTF-8
 * character boundary when it does not fit. */
static void s_copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (!dst || cap == 0) return;
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80) len--; /* whole chars */
    }
    memcpy(dst, src, len);
    dst[len] = 0;
}

int store_profile(store_t *s, const uint8_t author[EVENT_KEY_LEN], char *name, size_t name_cap,
                  char *team, size_t team_cap)
{
    if (!s || !author) return STORE_E_ARG;
    s_copy_str(name, name_cap, "", 0);
    s_copy_str(team, team_cap, "", 0);
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "profile");
    MDB_val k = {EVENT_KEY_LEN, (void *)author}, v;
    rc = mdb_get(txn, s->prof, &k, &v);
    if (rc == 0 && v.mv_size == 8 + EVENT_ID_LEN) {
        rc = store_ev_get(s, txn, (uint8_t *)v.mv_data + 8, &v);
        event_t *ev = rc == 0 ? malloc(sizeof *ev) : NULL;
        if (ev && event_decode(v.mv_data, v.mv_size, ev) == 0) {
            s_copy_str(name, name_cap, ev->title, ev->title_len);
            s_copy_str(team, team_cap, ev->body, ev->body_len);
        }
        free(ev);
    }
    store_rtxn_close(s, txn);
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "profile");
}

int store_counts(store_t *s, store_counts_t *c)
{
    if (!s || !c) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "counts");
    rc = store_counts_load(s, txn, c);
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "counts");
}
