/* test_store.c -- the LMDB store against real LMDB in temporary directories,
 * fed with real signed events from core/.
 *
 * Covers ingest (idempotence, duplicates inside a batch, each rejection with
 * its reason and nothing stored for it), the indexes (time, author, topic,
 * references), persistence across reopen, map growth from a 64 KiB map,
 * schema refusal, prefix resolution, and the meaning of events: retraction
 * before/after its target and by a non-author, supersede chains in every
 * arrival order, latest rating wins, answers, profiles, counts, history,
 * author sums, search visibility and the record of missed searches.
 * Order-independence is checked by ingesting every permutation of a set of
 * events into fresh stores and comparing a full snapshot of derived state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "store.h"

#define T0 1795968000000ULL /* 2026-11-29, a fixed base for created_at */

typedef struct {
    uint8_t pk[32], sk[64];
} key_t_;

typedef struct {
    uint8_t *buf;
    size_t len;
    uint8_t id[EVENT_ID_LEN];
} raw_t;

static key_t_ A, B, C;

static void s_key(key_t_ *k, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static char *s_tmpdir(void)
{
    char *d = strdup("/tmp/tipd-store-test-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void s_rmdir(char *d)
{
    nftw(d, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

/* Sign and encode an event. refs: pairs (role, id) terminated by role 0. */
static raw_t s_mk(int kind, const key_t_ *k, uint64_t t, const char *title, const char *body,
                  const char *topics, int value, int role, const uint8_t *ref, int role2,
                  const uint8_t *ref2)
{
    event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    event_init(ev, (event_kind_t)kind);
    ev->created_at = t;
    ev->value = (uint8_t)value;
    if (title) assert_int_equal(event_set_title(ev, title, strlen(title)), 0);
    if (body) assert_int_equal(event_set_body(ev, body, strlen(body)), 0);
    if (topics) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", topics);
        for (char *save, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
            assert_int_equal(event_add_topic(ev, tok), 0);
    }
    if (role) assert_int_equal(event_add_ref(ev, (event_ref_role_t)role, ref), 0);
    if (role2) assert_int_equal(event_add_ref(ev, (event_ref_role_t)role2, ref2), 0);
    assert_int_equal(event_sign(ev, k->sk), 0);
    raw_t r;
    r.buf = malloc(EVENT_MAX_SIZE);
    assert_non_null(r.buf);
    assert_int_equal(event_encode(ev, r.buf, EVENT_MAX_SIZE, &r.len), 0);
    memcpy(r.id, ev->id, EVENT_ID_LEN);
    free(ev);
    return r;
}

static raw_t s_tip(const key_t_ *k, uint64_t t, const char *title, const char *topics)
{
    return s_mk(EVENT_TIP, k, t, title, "body text", topics, 0, 0, NULL, 0, NULL);
}

static raw_t s_act(int kind, const key_t_ *k, uint64_t t, const uint8_t *target, int value)
{
    return s_mk(kind, k, t, NULL, NULL, NULL, value, EVENT_REF_TARGET, target, 0, NULL);
}

static raw_t s_edit(const key_t_ *k, uint64_t t, const char *title, const uint8_t *old)
{
    return s_mk(EVENT_TIP, k, t, title, "edited body", NULL, 0, EVENT_REF_SUPERSEDES, old, 0, NULL);
}

static void s_free(raw_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

static store_t *s_open_opts(const char *dir, size_t map, int no_reserve)
{
    store_opts_t o = {.map_size = map, .no_sync = 1, .no_reserve = no_reserve};
    int err = 1;
    store_t *s = store_new(dir, &o, &err);
    assert_non_null(s);
    assert_int_equal(err, 0);
    return s;
}

static store_t *s_open(const char *dir, size_t map)
{
    return s_open_opts(dir, map, 0);
}

/* Ingest raws[0..n) as one batch; results to out (may be NULL). */
static void s_ingest(store_t *s, raw_t *raws, size_t n, store_result_t *out)
{
    const uint8_t **ev = calloc(n, sizeof *ev);
    size_t *lens = calloc(n, sizeof *lens);
    store_result_t *res = out ? out : calloc(n, sizeof *res);
    for (size_t i = 0; i < n; i++) {
        ev[i] = raws[i].buf;
        lens[i] = raws[i].len;
    }
    assert_int_equal(store_ingest(s, ev, lens, n, T0 + 86400000ULL, 0, res), 0);
    if (!out) {
        for (size_t i = 0; i < n; i++) assert_int_not_equal(res[i].status, STORE_REJECTED);
        free(res);
    }
    free(ev);
    free(lens);
}

static void s_one(store_t *s, raw_t *r)
{
    s_ingest(s, r, 1, NULL);
}

/* ---- collectors ---- */

typedef struct {
    uint8_t ids[64][EVENT_ID_LEN];
    uint64_t t[64];
    size_t n;
} ids_t;

static int s_collect(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    ids_t *c = arg;
    assert_true(len > 0 && raw != NULL);
    if (c->n < 64) {
        memcpy(c->ids[c->n], ev->id, EVENT_ID_LEN);
        c->t[c->n] = ev->created_at;
    }
    c->n++;
    return 0;
}

static int s_item(uint64_t t, const uint8_t id[EVENT_ID_LEN], void *arg)
{
    ids_t *c = arg;
    if (c->n < 64) {
        memcpy(c->ids[c->n], id, EVENT_ID_LEN);
        c->t[c->n] = t;
    }
    c->n++;
    return 0;
}

static ids_t s_list(store_t *s, const store_filter_t *f, size_t limit)
{
    ids_t c = {.n = 0};
    assert_int_equal(store_list(s, f, limit, s_collect, &c), 0);
    return c;
}

static ids_t s_items(store_t *s)
{
    ids_t c = {.n = 0};
    assert_int_equal(store_items(s, s_item, &c), 0);
    return c;
}

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

/* ---- meaning ---- */

/* A text snapshot of all derived state about ids, for order comparisons. */
static void s_snapshot(store_t *s, raw_t *ev, size_t n, char *out, size_t cap)
{
    size_t off = 0;
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    off += (size_t)snprintf(
        out + off, cap - off, "ev%lu tips%lu q%lu r%lu th%lu rt%lu p%lu|", (unsigned long)c.events,
        (unsigned long)c.tips, (unsigned long)c.questions, (unsigned long)c.ratings,
        (unsigned long)c.thanks, (unsigned long)c.retracts, (unsigned long)c.profiles);
    ids_t it = s_items(s);
    for (size_t i = 0; i < it.n; i++)
        off += (size_t)snprintf(out + off, cap - off, "%02x", it.ids[i][0]);
    ids_t l = s_list(s, NULL, 0);
    off += (size_t)snprintf(out + off, cap - off, "|list");
    for (size_t i = 0; i < l.n; i++)
        off += (size_t)snprintf(out + off, cap - off, "%02x", l.ids[i][0]);
    for (size_t i = 0; i < n; i++) {
        store_stats_t st;
        int rc = store_stats(s, ev[i].id, &st);
        off += (size_t)snprintf(out + off, cap - off, "|%d:%u/%u/%u/%u/%d%d/%02x h%d", rc,
                                st.ratings, st.rating_sum, st.thanks, st.answers, st.retracted,
                                st.superseded, st.latest[0], store_has(s, ev[i].id));
    }
    assert_true(off < cap);
}

static int s_perm_next(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

/* Ingest ev in every order (one event per batch), and in one batch; every
 * run must end in the same snapshot, which is returned in want. */
static void s_all_orders(raw_t *ev, int n, char *want, size_t cap)
{
    int p[8];
    for (int i = 0; i < n; i++) p[i] = i;
    char *got = malloc(cap);
    int first = 1;
    char *dir = s_tmpdir();
    do {
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%d%d%d%d%d%d", dir, p[0], p[1], n > 2 ? p[2] : 0,
                 n > 3 ? p[3] : 0, n > 4 ? p[4] : 0, n > 5 ? p[5] : 0);
        store_t *s = s_open(sub, 0);
        for (int i = 0; i < n; i++) s_one(s, &ev[p[i]]);
        s_snapshot(s, ev, (size_t)n, first ? want : got, cap);
        if (!first) assert_string_equal(got, want);
        first = 0;
        store_destroy(&s);
    } while (s_perm_next(p, n));
    char sub[512];
    snprintf(sub, sizeof sub, "%s/batch", dir);
    store_t *s = s_open(sub, 0);
    s_ingest(s, ev, (size_t)n, NULL);
    s_snapshot(s, ev, (size_t)n, got, cap);
    assert_string_equal(got, want);
    store_destroy(&s);
    free(got);
    s_rmdir(dir);
}

static int s_in(const ids_t *l, const uint8_t *id)
{
    for (size_t i = 0; i < l->n && i < 64; i++)
        if (!memcmp(l->ids[i], id, 32)) return 1;
    return 0;
}

static void test_retract(void **state)
{
    raw_t t = s_tip(&A, T0, "oops", "git");
    raw_t r = s_act(EVENT_RETRACT, &A, T0 + 5, t.id, 0);
    raw_t rb = s_act(EVENT_RETRACT, &B, T0 + 6, t.id, 0);
    raw_t rate = s_act(EVENT_RATING, &C, T0 + 7, t.id, 3);
    char want[4096];

    /* Non-author: stored, no effect. */
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t both[2] = {t, rb};
    s_ingest(s, both, 2, NULL);
    store_stats_t st;
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.retracted, 0);
    assert_int_equal(store_has(s, rb.id), 1);
    assert_int_equal(s_list(s, &(store_filter_t){.kind = EVENT_TIP}, 0).n, 1);
    size_t n = 0;
    store_hit_t hits[4];
    assert_int_equal(store_search(s, "oops", NULL, hits, 4, &n), 0);
    assert_int_equal(n, 1);

    /* Author: body dropped, id kept, gone from lists, items, counts, search. */
    s_one(s, &r);
    assert_int_equal(store_has(s, t.id), 1);
    uint8_t buf[EVENT_MAX_SIZE];
    size_t len;
    assert_int_equal(store_get_raw(s, t.id, buf, sizeof buf, &len), STORE_E_RETRACTED);
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.retracted, 1);
    assert_int_equal(s_list(s, &(store_filter_t){.kind = EVENT_TIP}, 0).n, 0);
    assert_int_equal(s_list(s, &(store_filter_t){.topic = "git"}, 0).n, 0);
    assert_int_equal(s_list(s, &(store_filter_t){.author = A.pk}, 0).n, 1); /* the retract */
    ids_t it = s_items(s);
    assert_int_equal(it.n, 2);
    assert_false(s_in(&it, t.id));
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, 0);
    assert_int_equal(c.events, 3);
    assert_int_equal(c.retracts, 2);
    assert_int_equal(store_search(s, "oops", NULL, hits, 4, &n), 0);
    assert_int_equal(n, 0);
    /* Offered again by a peer that still has it: a duplicate, never back. */
    store_result_t res;
    s_ingest(s, &t, 1, &res);
    assert_int_equal(res.status, STORE_DUP);
    assert_int_equal(store_get_raw(s, t.id, buf, sizeof buf, &len), STORE_E_RETRACTED);
    char hex[65];
    uint8_t out[1][32];
    event_hex(t.id, 32, hex);
    assert_int_equal(store_resolve(s, hex, out, 1, &n), 0);
    store_destroy(&s);
    s_rmdir(dir);

    /* A target arriving after its retraction is new, but a tombstone. */
    dir = s_tmpdir();
    s = s_open(dir, 0);
    s_one(s, &r);
    s_ingest(s, &t, 1, &res);
    assert_int_equal(res.status, STORE_NEW);
    assert_int_equal(res.retracted, 1);
    assert_int_equal(store_get_raw(s, t.id, buf, sizeof buf, &len), STORE_E_RETRACTED);
    assert_int_equal(s_items(s).n, 1);
    s_ingest(s, &rate, 1, &res);
    assert_int_equal(res.retracted, 0);
    store_destroy(&s);
    s_rmdir(dir);

    /* Before or after its target, with a non-author's and a rating: same. */
    raw_t set[4] = {t, r, rb, rate};
    s_all_orders(set, 4, want, sizeof want);
    assert_non_null(strstr(want, "ev4 tips0"));

    /* A retraction of a retraction has no effect. */
    raw_t rr = s_act(EVENT_RETRACT, &A, T0 + 8, r.id, 0);
    raw_t set2[3] = {t, r, rr};
    s_all_orders(set2, 3, want, sizeof want);
    assert_non_null(strstr(want, "ev3 tips0 q0 r0 th0 rt2"));

    s_free(&t);
    s_free(&r);
    s_free(&rb);
    s_free(&rate);
    s_free(&rr);
}

static void test_supersede_orders(void **state)
{
    raw_t v1 = s_tip(&A, T0, "v1", NULL);
    raw_t v2 = s_edit(&A, T0 + 10, "v2", v1.id);
    raw_t v3 = s_edit(&A, T0 + 20, "v3", v2.id);
    raw_t fake = s_edit(&B, T0 + 30, "not yours", v1.id);
    raw_t set[4] = {v1, v2, v3, fake};
    char want[4096];
    s_all_orders(set, 4, want, sizeof want);

    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    s_ingest(s, set, 4, NULL);
    store_stats_t st;
    assert_int_equal(store_stats(s, v1.id, &st), 0);
    assert_int_equal(st.superseded, 1);
    assert_memory_equal(st.latest, v3.id, 32);
    assert_int_equal(store_stats(s, v2.id, &st), 0);
    assert_memory_equal(st.latest, v3.id, 32);
    assert_int_equal(store_stats(s, v3.id, &st), 0);
    assert_int_equal(st.superseded, 0);
    assert_memory_equal(st.latest, v3.id, 32);
    assert_int_equal(store_stats(s, fake.id, &st), 0);
    assert_int_equal(st.superseded, 0);
    ids_t l = s_list(s, NULL, 0);
    assert_int_equal(l.n, 2);
    assert_true(s_in(&l, v3.id) && s_in(&l, fake.id));
    store_filter_t all = {.include_hidden = 1};
    assert_int_equal(s_list(s, &all, 0).n, 4);
    assert_int_equal(s_items(s).n, 4);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, 2);
    size_t n;
    store_hit_t hits[8];
    assert_int_equal(store_search(s, "v1", NULL, hits, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_search(s, "v3", NULL, hits, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(hits[0].id, v3.id, 32);

    /* History from any version: v3, v2, v1. */
    ids_t h = {.n = 0};
    assert_int_equal(store_history(s, v1.id, s_collect, &h), 0);
    assert_int_equal(h.n, 3);
    assert_memory_equal(h.ids[0], v3.id, 32);
    assert_memory_equal(h.ids[1], v2.id, 32);
    assert_memory_equal(h.ids[2], v1.id, 32);
    store_destroy(&s);
    s_rmdir(dir);

    /* The newest version retracted: the chain resolves to v2, whatever the
     * order. */
    raw_t r3 = s_act(EVENT_RETRACT, &A, T0 + 40, v3.id, 0);
    raw_t set5[5] = {v1, v2, v3, fake, r3};
    s_all_orders(set5, 5, want, sizeof want);
    assert_non_null(strstr(want, "tips2"));
    dir = s_tmpdir();
    s = s_open(dir, 0);
    s_ingest(s, set5, 5, NULL);
    assert_int_equal(store_stats(s, v1.id, &st), 0);
    assert_memory_equal(st.latest, v2.id, 32);
    assert_int_equal(store_stats(s, v2.id, &st), 0);
    assert_int_equal(st.superseded, 0);
    l = s_list(s, &(store_filter_t){.kind = EVENT_TIP}, 0);
    assert_true(s_in(&l, v2.id) && !s_in(&l, v3.id) && !s_in(&l, v1.id));
    assert_int_equal(store_history(s, v3.id, s_collect, &h), STORE_E_RETRACTED);
    store_destroy(&s);
    s_rmdir(dir);

    s_free(&v1);
    s_free(&v2);
    s_free(&v3);
    s_free(&fake);
    s_free(&r3);
}

static int s_rating(const uint8_t rater[32], uint8_t score, uint64_t t, const uint8_t id[32],
                    void *arg)
{
    int *sum = arg;
    *sum += score * (memcmp(rater, B.pk, 32) == 0 ? 10 : 1);
    return 0;
}

static void test_ratings(void **state)
{
    raw_t t = s_tip(&A, T0, "rate me", NULL);
    raw_t b1 = s_act(EVENT_RATING, &B, T0 + 10, t.id, 2);
    raw_t b2 = s_act(EVENT_RATING, &B, T0 + 20, t.id, 5);
    raw_t c1 = s_act(EVENT_RATING, &C, T0 + 15, t.id, 4);
    raw_t th1 = s_act(EVENT_THANKS, &B, T0 + 30, t.id, 0);
    raw_t th2 = s_mk(EVENT_THANKS, &C, T0 + 31, NULL, "fixed my build", NULL, 0, EVENT_REF_TARGET,
                     t.id, 0, NULL);
    raw_t set[6] = {t, b1, b2, c1, th1, th2};
    char want[4096];
    s_all_orders(set, 5, want, sizeof want); /* t, b1, b2, c1, th1: 120 orders */

    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    s_ingest(s, set, 6, NULL);
    store_stats_t st;
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 9); /* B's latest (5) + C's 4 */
    assert_int_equal(st.thanks, 2);
    int sum = 0;
    assert_int_equal(store_ratings(s, t.id, s_rating, &sum), 0);
    assert_int_equal(sum, 54);
    double prior = store_prior(&st);
    assert_true(prior > 1.0 && prior <= 2.0);
    store_stats_t low = {.ratings = 5, .rating_sum = 5};
    assert_true(store_prior(&low) == 1.0);

    /* B withdraws the latest rating: the earlier one counts again. */
    raw_t rb2 = s_act(EVENT_RETRACT, &B, T0 + 40, b2.id, 0);
    raw_t rth = s_act(EVENT_RETRACT, &C, T0 + 41, th2.id, 0);
    raw_t two[2] = {rb2, rth};
    s_ingest(s, two, 2, NULL);
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 6);
    assert_int_equal(st.thanks, 1);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.ratings, 2);
    assert_int_equal(c.thanks, 1);
    /* And then the earlier one too: B no longer counts. */
    raw_t rb1 = s_act(EVENT_RETRACT, &B, T0 + 42, b1.id, 0);
    s_one(s, &rb1);
    assert_int_equal(store_stats(s, t.id, &st), 0);
    assert_int_equal(st.ratings, 1);
    assert_int_equal(st.rating_sum, 4);
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.ratings, 1);

    /* Per-author sums. */
    store_author_t au;
    assert_int_equal(store_author(s, A.pk, &au), 0);
    assert_int_equal(au.tips, 1);
    assert_int_equal(au.thanks_received, 1);
    assert_int_equal(au.ratings_received, 1);
    assert_int_equal(au.rating_sum_received, 4);
    assert_int_equal(store_author(s, B.pk, &au), 0);
    assert_int_equal(au.ratings_given, 0);
    assert_int_equal(au.thanks_given, 1);
    uint8_t nobody[32] = {7};
    assert_int_equal(store_author(s, nobody, &au), STORE_E_NOTFOUND);
    store_destroy(&s);
    s_rmdir(dir);

    raw_t *fr[] = {&t, &b1, &b2, &c1, &th1, &th2, &rb2, &rth, &rb1};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

static int s_count_author(const store_author_t *a, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_answers_profiles(void **state)
{
    raw_t q =
        s_mk(EVENT_QUESTION, &C, T0, "how do I undo a push?", NULL, NULL, 0, 0, NULL, 0, NULL);
    raw_t a1 =
        s_mk(EVENT_TIP, &A, T0 + 10, "git revert", NULL, NULL, 0, EVENT_REF_ANSWERS, q.id, 0, NULL);
    raw_t a1e = s_mk(EVENT_TIP, &A, T0 + 20, "git revert, edited", NULL, NULL, 0, EVENT_REF_ANSWERS,
                     q.id, EVENT_REF_SUPERSEDES, a1.id);
    raw_t a2 =
        s_mk(EVENT_TIP, &B, T0 + 30, "force push", NULL, NULL, 0, EVENT_REF_ANSWERS, q.id, 0, NULL);
    raw_t ra1e = s_act(EVENT_RETRACT, &A, T0 + 40, a1e.id, 0);
    raw_t set[5] = {q, a1, a1e, a2, ra1e};
    char want[4096];
    s_all_orders(set, 5, want, sizeof want);

    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    s_ingest(s, set, 4, NULL);
    store_stats_t st;
    assert_int_equal(store_stats(s, q.id, &st), 0);
    assert_int_equal(st.answers, 2); /* a1 is superseded by a1e */
    s_one(s, &ra1e);
    assert_int_equal(store_stats(s, q.id, &st), 0);
    assert_int_equal(st.answers, 2); /* a1 is back */
    assert_int_equal(store_stats(s, a1.id, &st), 0);
    assert_int_equal(st.superseded, 0);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.questions, 1);
    assert_int_equal(c.tips, 2);
    store_author_t au;
    assert_int_equal(store_author(s, A.pk, &au), 0);
    assert_int_equal(au.answers, 1);

    /* Profiles: the newest wins; retracting it falls back to the older. */
    raw_t p1 = s_mk(EVENT_PROFILE, &A, T0 + 50, "Ana", "ops", NULL, 0, 0, NULL, 0, NULL);
    raw_t p2 = s_mk(EVENT_PROFILE, &A, T0 + 60, "Ana Lopes", "platform", NULL, 0, 0, NULL, 0, NULL);
    raw_t ps[2] = {p2, p1};
    s_ingest(s, ps, 2, NULL);
    char name[8], team[64];
    assert_int_equal(store_profile(s, A.pk, name, sizeof name, team, sizeof team), 0);
    assert_string_equal(name, "Ana Lop"); /* cut to the buffer */
    assert_string_equal(team, "platform");
    raw_t rp2 = s_act(EVENT_RETRACT, &A, T0 + 70, p2.id, 0);
    s_one(s, &rp2);
    assert_int_equal(store_profile(s, A.pk, name, sizeof name, team, sizeof team), 0);
    assert_string_equal(name, "Ana");
    assert_string_equal(team, "ops");
    raw_t rp1 = s_act(EVENT_RETRACT, &A, T0 + 71, p1.id, 0);
    s_one(s, &rp1);
    assert_int_equal(store_profile(s, A.pk, name, sizeof name, team, sizeof team), 0);
    assert_string_equal(name, "");
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.profiles, 0);
    int authors = 0;
    assert_int_equal(store_authors_each(s, s_count_author, &authors), 0);
    assert_int_equal(authors, 3);
    store_destroy(&s);
    s_rmdir(dir);

    raw_t *fr[] = {&q, &a1, &a1e, &a2, &ra1e, &p1, &p2, &rp2, &rp1};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

static int s_miss(const char *q, uint64_t count, uint64_t last, void *arg)
{
    char *out = arg;
    size_t off = strlen(out);
    snprintf(out + off, 256 - off, "[%s]%lu", q, (unsigned long)count);
    assert_true(last > 0);
    return 0;
}

static void test_misses_and_search(void **state)
{
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    assert_int_equal(store_miss_record(s, "  How to   Rebase "), 0);
    assert_int_equal(store_miss_record(s, "how to rebase"), 0);
    assert_int_equal(store_miss_record(s, "vpn"), 0);
    assert_int_equal(store_miss_record(s, "   "), STORE_E_ARG);
    char out[256] = "";
    assert_int_equal(store_miss_each(s, s_miss, out), 0);
    assert_string_equal(out, "[how to rebase]2[vpn]1");

    raw_t t1 = s_mk(EVENT_TIP, &A, T0, "Rebase onto main", "git rebase -i main", "git", 0, 0, NULL,
                    0, NULL);
    raw_t t2 = s_mk(EVENT_TIP, &B, T0 + 1, "Rebase carefully", "rebase rewrites history", "git", 0,
                    0, NULL, 0, NULL);
    raw_t all[2] = {t1, t2};
    s_ingest(s, all, 2, NULL);
    store_hit_t hits[4];
    size_t n = 0;
    assert_int_equal(store_search(s, "rebase", NULL, hits, 4, &n), 0);
    assert_int_equal(n, 2);
    store_search_opts_t o = {.author = B.pk};
    assert_int_equal(store_search(s, "rebase", &o, hits, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(hits[0].id, t2.id, 32);
    o = (store_search_opts_t){.kind = EVENT_QUESTION};
    assert_int_equal(store_search(s, "rebase", &o, hits, 4, &n), 0);
    assert_int_equal(n, 0);
    s_free(&t1);
    s_free(&t2);
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
    s_key(&A, 1);
    s_key(&B, 2);
    s_key(&C, 3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent),        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_indexes),           cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_map_growth),        cmocka_unit_test(test_schema_refusal),
        cmocka_unit_test(test_resolve),           cmocka_unit_test(test_retract),
        cmocka_unit_test(test_supersede_orders),  cmocka_unit_test(test_ratings),
        cmocka_unit_test(test_answers_profiles),  cmocka_unit_test(test_misses_and_search),
        cmocka_unit_test(test_bitflips_rejected), cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_map_full_redo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
