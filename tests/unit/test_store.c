/* test_store.c -- the LMDB store against real LMDB in temporary directories,
 * fed with real signed events from core/: ingest and storage.
 *
 * Covers ingest (idempotence, duplicates inside a batch, each rejection with
 * its reason and nothing stored for it, every bit flip refused), the indexes
 * (time, author, topic, references), persistence across reopen, map growth
 * from a 64 KiB map through MDB_MAP_FULL and redone batches, schema refusal,
 * open errors and prefix resolution. The meaning of events (retractions,
 * edits, ratings, answers, profiles, in every arrival order) is tested in
 * test_store_meaning.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_store_util.h"

/* ---- ingest ---- */

static void test_idempotent(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t r[3] = {s_tip(&A, T0 + 1, "one", "git"), s_tip(&A, T0 + 2, "two", NULL),
                  s_tip(&B, T0 + 3, "three", NULL)};
    store_result_t res[4];
    s_ingest(s, r, 3, res);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(res[i].status, STORE_NEW);
        assert_memory_equal(res[i].id, r[i].id, EVENT_ID_LEN);
    }
    s_ingest(s, r, 3, res);
    for (int i = 0; i < 3; i++) assert_int_equal(res[i].status, STORE_DUP);

    raw_t d[4] = {s_tip(&C, T0 + 4, "four", NULL), {0}, {0}, {0}};
    d[1] = d[0];
    d[2] = r[0];
    d[3] = d[0];
    s_ingest(s, d, 4, res);
    assert_int_equal(res[0].status, STORE_NEW);
    assert_int_equal(res[1].status, STORE_DUP);
    assert_int_equal(res[2].status, STORE_DUP);
    assert_int_equal(res[3].status, STORE_DUP);

    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, 4);
    assert_int_equal(c.tips, 4);
    assert_int_equal(s_items(s).n, 4);
    store_result_t none;
    assert_int_equal(store_ingest(s, NULL, NULL, 0, T0, 0, &none), 0);
    for (int i = 0; i < 3; i++) s_free(&r[i]);
    s_free(&d[0]);
    store_destroy(&s);
    assert_null(s);
    store_destroy(&s);
    s_rmdir(dir);
}

static void test_rejections(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t good = s_tip(&A, T0, "good", NULL);
    raw_t sig = s_tip(&A, T0 + 1, "bad sig", NULL);
    sig.buf[sig.len - 1] ^= 1;
    raw_t future = s_tip(&A, T0 + 86400000ULL + EVENT_MAX_FUTURE_MS + 1, "future", NULL);
    raw_t trunc = s_tip(&A, T0 + 2, "truncated", NULL);
    trunc.len -= 10;
    raw_t trail = s_tip(&A, T0 + 3, "trailing", NULL);
    trail.buf[trail.len++] = 0;
    raw_t ver = s_tip(&A, T0 + 4, "version", NULL);
    ver.buf[0] = 99;
    raw_t big = {.buf = calloc(1, EVENT_MAX_SIZE + 1), .len = EVENT_MAX_SIZE + 1};
    raw_t empty = {.buf = good.buf, .len = 0};

    raw_t all[8] = {sig, good, future, trunc, trail, ver, big, empty};
    store_result_t res[8];
    s_ingest(s, all, 8, res);
    assert_int_equal(res[0].status, STORE_REJECTED);
    assert_int_equal(res[0].reason, EVENT_E_SIG);
    assert_int_equal(res[1].status, STORE_NEW);
    assert_int_equal(res[2].status, STORE_REJECTED);
    assert_int_equal(res[2].reason, EVENT_E_FUTURE);
    assert_int_equal(res[3].status, STORE_REJECTED);
    assert_int_equal(res[3].reason, EVENT_E_TRUNCATED);
    assert_int_equal(res[4].status, STORE_REJECTED);
    assert_int_equal(res[4].reason, EVENT_E_TRAILING);
    assert_int_equal(res[5].status, STORE_REJECTED);
    assert_int_equal(res[5].reason, EVENT_E_VERSION);
    assert_int_equal(res[6].status, STORE_REJECTED);
    assert_int_equal(res[6].reason, EVENT_E_OVERSIZE);
    assert_int_equal(res[7].status, STORE_REJECTED);
    assert_int_equal(res[7].reason, EVENT_E_TRUNCATED);

    /* Nothing of the rejected ones is held. */
    assert_int_equal(store_has(s, sig.id), 0);
    assert_int_equal(store_has(s, future.id), 0);
    assert_int_equal(store_has(s, good.id), 1);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, 1);
    assert_int_equal(s_items(s).n, 1);

    /* The bad-signature event is refused again, not remembered as a dup; the
     * caller may vouch for a signature it checked itself. */
    s_ingest(s, &sig, 1, res);
    assert_int_equal(res[0].status, STORE_REJECTED);
    const uint8_t *ev[1] = {future.buf};
    size_t len[1] = {future.len};
    assert_int_equal(store_ingest(s, ev, len, 1, T0 + 2 * 86400000ULL, STORE_INGEST_VERIFIED, res),
                     0);
    assert_int_equal(res[0].status, STORE_NEW);

    s_free(&good);
    s_free(&sig);
    s_free(&future);
    s_free(&trunc);
    s_free(&trail);
    s_free(&ver);
    s_free(&big);
    store_destroy(&s);
    s_rmdir(dir);
}

/* ---- indexes ---- */

static void test_indexes(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t1 = s_tip(&A, T0 + 10, "git rebase", "git");
    raw_t t2 = s_tip(&B, T0 + 20, "ssh keys", "ssh linux");
    raw_t t3 = s_tip(&A, T0 + 30, "git stash", "git linux");
    raw_t q = s_mk(EVENT_QUESTION, &C, T0 + 40, "how to undo a commit?", NULL, "git", 0, 0, NULL, 0,
                   NULL);
    raw_t rate = s_act(EVENT_RATING, &B, T0 + 50, t1.id, 4);
    raw_t thx = s_mk(EVENT_THANKS, &C, T0 + 60, NULL, "saved me an hour", NULL, 0, EVENT_REF_TARGET,
                     t1.id, 0, NULL);
    raw_t ans = s_mk(EVENT_TIP, &A, T0 + 70, "git reset --soft HEAD~1", NULL, "git", 0,
                     EVENT_REF_ANSWERS, q.id, EVENT_REF_RELATED, t1.id);
    raw_t all[7] = {t3, rate, t1, ans, q, thx, t2};
    s_ingest(s, all, 7, NULL);

    ids_t l = s_list(s, NULL, 0);
    assert_int_equal(l.n, 7);
    for (size_t i = 1; i < l.n; i++) assert_true(l.t[i - 1] > l.t[i]); /* newest first */
    assert_memory_equal(l.ids[0], ans.id, 32);

    store_filter_t f = {.kind = EVENT_TIP};
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 4);
    assert_memory_equal(l.ids[0], ans.id, 32);
    assert_memory_equal(l.ids[3], t1.id, 32);
    l = s_list(s, &f, 2);
    assert_int_equal(l.n, 2);
    f.before = T0 + 30;
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 2);
    assert_memory_equal(l.ids[0], t2.id, 32);
    f.after = T0 + 20;
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.ids[0], t2.id, 32);

    f = (store_filter_t){.author = A.pk};
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 3);
    assert_memory_equal(l.ids[0], ans.id, 32);
    assert_memory_equal(l.ids[1], t3.id, 32);
    assert_memory_equal(l.ids[2], t1.id, 32);
    f.topic = "linux";
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.ids[0], t3.id, 32);

    f = (store_filter_t){.topic = "git"};
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 4);
    assert_memory_equal(l.ids[0], ans.id, 32);
    assert_memory_equal(l.ids[1], q.id, 32);
    f.kind = EVENT_QUESTION;
    l = s_list(s, &f, 0);
    assert_int_equal(l.n, 1);
    f = (store_filter_t){.topic = "nope"};
    assert_int_equal(s_list(s, &f, 0).n, 0);

    /* References of t1: rating, thanks, and a related tip, oldest first. */
    ids_t r = {.n = 0};
    assert_int_equal(store_refs(s, t1.id, 0, s_collect, &r), 0);
    assert_int_equal(r.n, 3);
    assert_memory_equal(r.ids[0], rate.id, 32);
    assert_memory_equal(r.ids[1], thx.id, 32);
    assert_memory_equal(r.ids[2], ans.id, 32);
    r.n = 0;
    assert_int_equal(store_refs(s, t1.id, EVENT_REF_TARGET, s_collect, &r), 0);
    assert_int_equal(r.n, 2);
    r.n = 0;
    assert_int_equal(store_refs(s, q.id, EVENT_REF_ANSWERS, s_collect, &r), 0);
    assert_int_equal(r.n, 1);
    assert_memory_equal(r.ids[0], ans.id, 32);

    store_stats_t st;
    assert_int_equal(store_stats(s, t1.id, &st), 0);
    assert_int_equal(st.ratings, 1);
    assert_int_equal(st.rating_sum, 4);
    assert_int_equal(st.thanks, 1);
    assert_memory_equal(st.latest, t1.id, 32);
    assert_int_equal(store_stats(s, q.id, &st), 0);
    assert_int_equal(st.answers, 1);

    /* The sync set: every event, ascending (created_at, id). */
    ids_t it = s_items(s);
    assert_int_equal(it.n, 7);
    for (size_t i = 1; i < it.n; i++) assert_true(it.t[i - 1] < it.t[i]);

    /* get / get_raw round trip. */
    uint8_t buf[EVENT_MAX_SIZE];
    size_t len = 0;
    assert_int_equal(store_get_raw(s, t2.id, buf, sizeof buf, &len), 0);
    assert_int_equal(len, t2.len);
    assert_memory_equal(buf, t2.buf, len);
    assert_int_equal(store_get_raw(s, t2.id, buf, 10, &len), STORE_E_NOSPACE);
    event_t *ev = malloc(sizeof *ev);
    assert_int_equal(store_get(s, t2.id, ev), 0);
    assert_string_equal(ev->title, "ssh keys");
    uint8_t unknown[32] = {0};
    assert_int_equal(store_get(s, unknown, ev), STORE_E_NOTFOUND);
    assert_int_equal(store_stats(s, unknown, &st), STORE_E_NOTFOUND);
    free(ev);

    raw_t *fr[] = {&t1, &t2, &t3, &q, &rate, &thx, &ans};
    for (size_t i = 0; i < 7; i++) s_free(fr[i]);
    store_destroy(&s);
    s_rmdir(dir);
}

static void test_persistence(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "persist me", "x");
    raw_t rt = s_act(EVENT_RATING, &B, T0 + 1, t.id, 5);
    raw_t p = s_mk(EVENT_PROFILE, &A, T0 + 2, "Ana", "ops", NULL, 0, 0, NULL, 0, NULL);
    raw_t all[3] = {t, rt, p};
    s_ingest(s, all, 3, NULL);
    assert_int_equal(store_miss_record(s, "kubernetes"), 0);
    store_destroy(&s);

    s = s_open(dir, 0);
    uint8_t buf[EVENT_MAX_SIZE];
    size_t len;
    assert_int_equal(store_get_raw(s, t.id, buf, sizeof buf, &len), 0);
    assert_int_equal(len, t.len);
    assert_memory_equal(buf, t.buf, len);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, 3);
    assert_int_equal(c.tips, 1);
    assert_int_equal(c.ratings, 1);
    assert_int_equal(c.profiles, 1);
    store_stats_t st;
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.rating_sum, 5);
    char name[16], team[16];
    assert_int_equal(store_profile(s, A.pk, name, sizeof name, team, sizeof team), 0);
    assert_string_equal(name, "Ana");
    assert_string_equal(team, "ops");
    assert_int_equal(store_profile(s, B.pk, name, sizeof name, team, sizeof team), 0);
    assert_string_equal(name, "");
    store_destroy(&s);

    /* A read-only open sees the same. */
    store_opts_t ro = {.read_only = 1};
    int err;
    s = store_new(dir, &ro, &err);
    assert_non_null(s);
    assert_int_equal(store_has(s, rt.id), 1);
    assert_int_equal(
        store_ingest(s, (const uint8_t *const *)&t.buf, &t.len, 1, T0, 0, (store_result_t[1]){{0}}),
        STORE_E_ARG);
    store_destroy(&s);
    s_free(&t);
    s_free(&rt);
    s_free(&p);
    s_rmdir(dir);
}

static void test_map_growth(void **state)
{
    char *dir = s_tmpdir();
    /* No room reserved ahead: every growth comes from MDB_MAP_FULL and a
     * redone batch. */
    store_t *s = s_open_opts(dir, 64 << 10, 1);
    assert_int_equal(store_map_size(s), 64 << 10);
    enum { N = 3000, BATCH = 500 };
    raw_t *r = calloc(N, sizeof *r);
    char title[64];
    for (int i = 0; i < N; i++) {
        snprintf(title, sizeof title, "tip number %d about growing maps", i);
        r[i] = s_tip(i % 2 ? &A : &B, T0 + (uint64_t)i, title, i % 3 ? "lmdb" : "maps");
    }
    for (int i = 0; i < N; i += BATCH) {
        store_result_t res[BATCH];
        s_ingest(s, r + i, BATCH, res);
        for (int j = 0; j < BATCH; j++) assert_int_equal(res[j].status, STORE_NEW);
    }
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, N);
    assert_true(store_map_size(s) >= 1u << 20);
    store_destroy(&s);

    s = s_open(dir, 64 << 10);
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, N);
    assert_int_equal(s_items(s).n, N);
    for (int i = 0; i < N; i += 97) assert_int_equal(store_has(s, r[i].id), 1);
    /* Writes after reopening with a map smaller than the file still work. */
    raw_t more = s_tip(&C, T0 + N, "one more", NULL);
    s_one(s, &more);
    assert_int_equal(store_has(s, more.id), 1);
    s_free(&more);
    for (int i = 0; i < N; i++) s_free(&r[i]);
    free(r);
    store_destroy(&s);
    s_rmdir(dir);
}

/* Events whose index entries far outweigh their bytes (thousands of unique
 * words each), in one batch: the up-front room estimate is too small, so
 * the batch must survive MDB_MAP_FULL, grow and redo. */
static void test_map_full_redo(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 64 << 10);
    enum { N = 24 };
    raw_t r[N];
    char *body = malloc(EVENT_MAX_BODY + 1);
    for (int i = 0; i < N; i++) {
        size_t off = 0;
        for (int w = 0; off + 12 < 15000; w++)
            off += (size_t)snprintf(body + off, 16, "q%dz%dx ", i, w);
        char title[32];
        snprintf(title, sizeof title, "wordy %d", i);
        r[i] = s_mk(EVENT_TIP, &A, T0 + (uint64_t)i, title, body, NULL, 0, 0, NULL, 0, NULL);
    }
    store_result_t res[N];
    s_ingest(s, r, N, res);
    for (int i = 0; i < N; i++) assert_int_equal(res[i].status, STORE_NEW);
    store_hit_t hit;
    size_t n = 0;
    assert_int_equal(store_search(s, "q23z1000x", NULL, &hit, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(hit.id, r[N - 1].id, 32);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, N);
    for (int i = 0; i < N; i++) s_free(&r[i]);
    free(body);
    store_destroy(&s);
    s_rmdir(dir);
}

/* Entries of the named database db of the store in dir; *found = 1 if one
 * holds exactly the bytes (want, wlen). */
static size_t s_db_scan(const char *dir, const char *db, const uint8_t *want, size_t wlen,
                        int *found)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val k, v;
    size_t n = 0;
    *found = 0;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
    while (mdb_cursor_get(c, &k, &v, n ? MDB_NEXT : MDB_FIRST) == 0) {
        n++;
        if (v.mv_size == wlen && memcmp(v.mv_data, want, wlen) == 0) *found = 1;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}

/* A retracted event's signed bytes leave the data file's body table, in
 * either arrival order; a fresh, untouched tip has no stat row. */
static void test_retracted_bytes_gone(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        char *dir = s_tmpdir();
        store_t *s = s_open(dir, 0);
        raw_t t1 = s_tip(&A, T0, "secret", NULL), t2 = s_tip(&A, T0 + 1, "kept", NULL);
        raw_t r = s_act(EVENT_RETRACT, &A, T0 + 2, t1.id, 0);
        if (order == 0) {
            s_one(s, &t1);
            s_one(s, &t2);
            s_one(s, &r);
        } else {
            s_one(s, &r);
            s_one(s, &t2);
            s_one(s, &t1);
        }
        assert_int_equal(store_has(s, t1.id), 1);
        event_t ev;
        assert_int_equal(store_get(s, t1.id, &ev), STORE_E_RETRACTED);
        assert_int_equal(store_get(s, t2.id, &ev), 0);
        store_stats_t st;
        assert_int_equal(store_stats(s, t2.id, &st), 0);
        assert_int_equal(st.retracted + st.superseded + st.ratings + st.thanks, 0);
        assert_memory_equal(st.latest, t2.id, EVENT_ID_LEN);
        store_destroy(&s);

        int found;
        assert_int_equal(s_db_scan(dir, "body", t1.buf, t1.len, &found), 2); /* t2, r */
        assert_int_equal(found, 0);
        s_db_scan(dir, "body", t2.buf, t2.len, &found);
        assert_int_equal(found, 1);
        /* The retracted tip keeps its row (flag), t2 needs none. */
        assert_int_equal(s_db_scan(dir, "stat", NULL, 0, &found), order == 0 ? 1 : 0);
        s_free(&t1);
        s_free(&t2);
        s_free(&r);
        s_rmdir(dir);
    }
}

/* Rewrite the stored schema number of dir's store to `version`. */
static void s_set_schema(const char *dir, uint32_t version, MDB_env **envp, MDB_dbi *metap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    uint8_t b[4] = {(uint8_t)(version >> 24), (uint8_t)(version >> 16), (uint8_t)(version >> 8),
                    (uint8_t)version};
    MDB_val k = {6, "schema"}, v = {4, b};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    *envp = env;
    *metap = meta;
}

/* A directory of an older (pre-release) layout is refused with its own
 * error and left exactly as it was. */
static void test_old_schema_refusal(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "kept", NULL);
    s_one(s, &t);
    store_destroy(&s);

    MDB_env *env;
    MDB_dbi meta;
    s_set_schema(dir, 2, &env, &meta); /* v3 is migrated (figures built) */

    int err = 0;
    char why[256] = "";
    store_opts_t o = {.why = why, .why_len = sizeof why};
    assert_null(store_new(dir, &o, &err));
    assert_int_equal(err, STORE_E_OLDSCHEMA);
    assert_non_null(strstr(store_strerror(err), "development build"));
    char older[32];
    snprintf(older, sizeof older, "schema v%d", 2);
    assert_non_null(strstr(why, older));

    MDB_txn *txn;
    MDB_val k = {6, "schema"}, v;
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_int_equal(v.mv_size, 4);
    assert_int_equal(((uint8_t *)v.mv_data)[3], 2);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    s_free(&t);
    s_rmdir(dir);
}

static void test_schema_refusal(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "kept", NULL);
    s_one(s, &t);
    store_destroy(&s);

    /* Pretend a newer tipd wrote this directory. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    uint8_t v2[4] = {0, 0, 0, STORE_SCHEMA_VERSION + 1};
    MDB_val k = {6, "schema"}, v = {4, v2};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    int err = 0;
    store_opts_t o = {0};
    assert_null(store_new(dir, &o, &err));
    assert_int_equal(err, STORE_E_SCHEMA);
    assert_non_null(strstr(store_strerror(err), "newer"));

    /* Never rewritten: the value and the data are as they were. */
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_int_equal(v.mv_size, 4);
    assert_memory_equal(v.mv_data, v2, 4);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    s_free(&t);
    s_rmdir(dir);
}

/* ---- resolve ---- */

static void test_resolve(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    /* Find two events whose ids share their first 4 hex digits. */
    enum { N = 2000 };
    raw_t *r = calloc(N, sizeof *r);
    int a = -1, b = -1;
    static int seen[65536];
    memset(seen, -1, sizeof seen);
    for (int i = 0; i < N && a < 0; i++) {
        char title[32];
        snprintf(title, sizeof title, "t%d", i);
        r[i] = s_tip(&A, T0 + (uint64_t)i, title, NULL);
        int p = r[i].id[0] << 8 | r[i].id[1];
        if (seen[p] >= 0) {
            a = seen[p];
            b = i;
        }
        seen[p] = i;
    }
    assert_true(a >= 0);
    raw_t two[2] = {r[a], r[b]};
    s_ingest(s, two, 2, NULL);

    char hex[65], pfx[65];
    uint8_t out[4][EVENT_ID_LEN];
    size_t n = 9;
    event_hex(r[a].id, 32, hex);
    memcpy(pfx, hex, 4);
    pfx[4] = 0;
    assert_int_equal(store_resolve(s, pfx, out, 4, &n), STORE_E_AMBIGUOUS);
    assert_int_equal(n, 2);
    assert_true((!memcmp(out[0], r[a].id, 32) && !memcmp(out[1], r[b].id, 32)) ||
                (!memcmp(out[1], r[a].id, 32) && !memcmp(out[0], r[b].id, 32)));
    /* Candidates capped at max. */
    assert_int_equal(store_resolve(s, pfx, out, 1, &n), STORE_E_AMBIGUOUS);
    assert_int_equal(n, 1);

    /* A longer prefix is unique, in either case and at odd length. */
    char hb[65];
    event_hex(r[b].id, 32, hb);
    size_t common = 4;
    while (hex[common] == hb[common]) common++;
    memcpy(pfx, hex, common + 1);
    pfx[common + 1] = 0;
    for (char *p = pfx; *p; p++)
        if (*p >= 'a') *p = (char)(*p - 32);
    assert_int_equal(store_resolve(s, pfx, out, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(out[0], r[a].id, 32);
    assert_int_equal(store_resolve(s, hex, out, 4, &n), 0);
    assert_memory_equal(out[0], r[a].id, 32);

    /* Not found, and not a prefix at all. */
    event_hex(r[0].id, 32, hex);
    hex[63] = hex[63] == '0' ? '1' : '0';
    assert_int_equal(store_resolve(s, hex, out, 4, &n), STORE_E_NOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(store_resolve(s, "zzzz", out, 4, &n), EVENT_E_HEX);
    assert_int_equal(store_resolve(s, "abc", out, 4, &n), EVENT_E_HEX);

    for (int i = 0; i < N; i++)
        if (r[i].buf) s_free(&r[i]);
    free(r);
    store_destroy(&s);
    s_rmdir(dir);
}

static void test_bitflips_rejected(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_mk(EVENT_TIP, &A, T0, "flip me", "every bit", "x", 0, 0, NULL, 0, NULL);
    size_t n = t.len * 8;
    raw_t *bad = calloc(n, sizeof *bad);
    for (size_t i = 0; i < n; i++) {
        bad[i].buf = malloc(t.len);
        memcpy(bad[i].buf, t.buf, t.len);
        bad[i].buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        bad[i].len = t.len;
    }
    store_result_t *res = calloc(n, sizeof *res);
    s_ingest(s, bad, n, res);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i].status, STORE_REJECTED);
        assert_true(res[i].reason < 0);
    }
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, 0);
    assert_int_equal(s_items(s).n, 0);
    /* The intact event still goes in afterwards. */
    s_one(s, &t);
    assert_int_equal(store_has(s, t.id), 1);
    for (size_t i = 0; i < n; i++) free(bad[i].buf);
    free(bad);
    free(res);
    s_free(&t);
    store_destroy(&s);
    s_rmdir(dir);
}

static void test_open_errors(void **state)
{
    char *dir = s_tmpdir();
    char path[512];
    /* A data directory that does not exist yet is created, mode 0700. */
    snprintf(path, sizeof path, "%s/a/b", dir);
    store_t *s = s_open(path, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    store_destroy(&s);
    /* A file where the directory should be. */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    int err = 0;
    assert_null(store_new(path, NULL, &err));
    assert_int_equal(err, STORE_E_IO);
    /* Read-only on an empty directory: nothing to read. */
    snprintf(path, sizeof path, "%s/empty", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    store_opts_t ro = {.read_only = 1};
    assert_null(store_new(path, &ro, &err));
    assert_true(err < 0);
    assert_null(store_new(NULL, NULL, &err));
    assert_int_equal(err, STORE_E_ARG);
    s_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent),         cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_bitflips_rejected),  cmocka_unit_test(test_indexes),
        cmocka_unit_test(test_persistence),        cmocka_unit_test(test_map_growth),
        cmocka_unit_test(test_map_full_redo),      cmocka_unit_test(test_schema_refusal),
        cmocka_unit_test(test_old_schema_refusal), cmocka_unit_test(test_retracted_bytes_gone),
        cmocka_unit_test(test_open_errors),        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
