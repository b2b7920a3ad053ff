/* test_views_today.c -- the tip of the day's promises on real stores, each
 * checked on the walk over the kept figures (views_today) and on the pass
 * over every tip (views_today_scan), which must agree: nothing to pick in
 * an empty store or one holding only the user's own tips and answers; the
 * same pick while tips other than the winner arrive, are rated or are
 * retracted (a new tip may only replace it by winning itself); a seen tip
 * only when every candidate was seen; a better-rated and thanked tip
 * picked more often, about in proportion to its weight. And the store's
 * part: store_agg_posts_from visits every live post once, in id order
 * around the ring from any point; the change log an older tipd kept for
 * `today` goes at the next open for writing.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store_agg.h"
#include "test_store_util.h"
#include "views.h"
#include "views_int.h"

static store_rtxn_t *s_view(store_t *s)
{
    store_rtxn_t *v = store_rtxn_begin(s, NULL);
    assert_non_null(v);
    return v;
}

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_LEN);
}

/* The pick for q in s's current snapshot, walked and scanned (the two must
 * agree); its id in pick (if any). Returns have. */
static int s_today(store_t *s, const views_today_req_t *q, uint8_t pick[EVENT_ID_LEN],
                   size_t *unseen, int *seen_before)
{
    store_rtxn_t *v = s_view(s);
    assert_int_equal(store_agg_ready(v), 1);
    views_today_t a, b;
    assert_int_equal(views_today(v, q, &a), 0);
    assert_int_equal(views_today_scan(v, q, &b), 0);
    assert_int_equal(a.have, b.have);
    assert_int_equal(a.unseen, b.unseen);
    assert_int_equal(a.seen_before, b.seen_before);
    if (a.have) {
        assert_memory_equal(a.ev->id, b.ev->id, EVENT_ID_LEN);
        if (q->user) assert_memory_not_equal(a.ev->author, q->user, EVENT_KEY_LEN);
        if (pick) memcpy(pick, a.ev->id, EVENT_ID_LEN);
    }
    if (unseen) *unseen = a.unseen;
    if (seen_before) *seen_before = a.seen_before;
    int have = a.have;
    views_today_free(&a);
    views_today_free(&b);
    store_rtxn_end(&v);
    return have;
}

static void test_today_nothing_to_pick(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    views_today_req_t q = {.user = A.pk, .date = "2026-12-03"};
    size_t unseen = 9;
    assert_int_equal(s_today(s, &q, NULL, &unseen, NULL), 0); /* empty */
    assert_int_equal(unseen, 0);
    raw_t own = s_tip(&A, T0 + 1, "mine", NULL);
    raw_t qn = s_mk(EVENT_QUESTION, &A, T0 + 2, "how?", NULL, NULL, 0, 0, NULL, 0, NULL);
    raw_t ans = s_mk(EVENT_TIP, &B, T0 + 3, "so", NULL, NULL, 0, EVENT_REF_ANSWERS, qn.id, 0, NULL);
    s_one(s, &own);
    s_one(s, &qn);
    s_one(s, &ans);
    /* the user's own tip, a question and an answer: no candidate */
    assert_int_equal(s_today(s, &q, NULL, &unseen, NULL), 0);
    assert_int_equal(unseen, 0);
    /* someone else asking gets A's tip */
    uint8_t pick[EVENT_ID_LEN];
    views_today_req_t qb = {.user = B.pk, .date = "2026-12-03"};
    assert_int_equal(s_today(s, &qb, pick, &unseen, NULL), 1);
    assert_memory_equal(pick, own.id, EVENT_ID_LEN);
    assert_int_equal(unseen, 1);
    store_destroy(&s);
    s_rmdir(dir);
    s_free(&own);
    s_free(&qn);
    s_free(&ans);
}

/* Tips arriving, rated or retracted never move the pick unless the tip
 * concerned wins itself; retracting the winner does move it. */
static void test_today_stable(void **state)
{
    (void)state;
    enum { N = 24, MORE = 40 };
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t[N + MORE];
    for (int i = 0; i < N + MORE; i++) {
        char title[32];
        snprintf(title, sizeof title, "tip number %d", i);
        t[i] = s_tip(i % 3 ? &B : &C, T0 + 1000 + (uint64_t)i, title, NULL);
    }
    s_ingest(s, t, N, NULL);
    views_today_req_t q = {.user = A.pk, .date = "2026-12-03"};
    uint8_t pick[EVENT_ID_LEN], now[EVENT_ID_LEN];
    size_t unseen;
    assert_int_equal(s_today(s, &q, pick, &unseen, NULL), 1);
    assert_int_equal(unseen, N);
    int moved = 0;
    for (int i = N; i < N + MORE; i++) {
        s_one(s, &t[i]);
        assert_int_equal(s_today(s, &q, now, &unseen, NULL), 1);
        assert_int_equal(unseen, (size_t)i + 1);
        if (memcmp(now, pick, EVENT_ID_LEN)) {
            assert_memory_equal(now, t[i].id, EVENT_ID_LEN); /* only by winning */
            memcpy(pick, now, EVENT_ID_LEN);
            moved++;
        }
    }
    assert_true(moved < MORE / 2);
    /* every other tip rated and then retracted: the pick stays or is it */
    int retracted = 0;
    for (int i = 0; i < N + MORE; i++) {
        if (!memcmp(t[i].id, pick, EVENT_ID_LEN)) continue;
        raw_t r = s_act(EVENT_RATING, &A, T0 + 5000 + (uint64_t)i, t[i].id, 5);
        s_one(s, &r);
        s_free(&r);
        assert_int_equal(s_today(s, &q, now, NULL, NULL), 1);
        if (memcmp(now, pick, EVENT_ID_LEN)) {
            assert_memory_equal(now, t[i].id, EVENT_ID_LEN);
            memcpy(pick, now, EVENT_ID_LEN);
        } else if (i % 4 == 0) {
            raw_t x = s_act(EVENT_RETRACT, i % 3 ? &B : &C, T0 + 9000 + (uint64_t)i, t[i].id, 0);
            s_one(s, &x);
            s_free(&x);
            retracted++;
            assert_int_equal(s_today(s, &q, now, NULL, NULL), 1);
            assert_memory_equal(now, pick, EVENT_ID_LEN);
        }
    }
    assert_true(retracted > 5);
    /* the winner retracted: another tip wins */
    int w = 0;
    while (memcmp(t[w].id, pick, EVENT_ID_LEN)) w++;
    raw_t x = s_act(EVENT_RETRACT, w % 3 ? &B : &C, T0 + 20000, t[w].id, 0);
    s_one(s, &x);
    s_free(&x);
    assert_int_equal(s_today(s, &q, now, &unseen, NULL), 1);
    assert_memory_not_equal(now, pick, EVENT_ID_LEN);
    assert_int_equal(unseen, (size_t)(N + MORE - retracted - 1));
    store_destroy(&s);
    s_rmdir(dir);
    for (int i = 0; i < N + MORE; i++) s_free(&t[i]);
}

/* A seen tip wins only when every candidate was seen: then it is the pick
 * the user would get with nothing seen. */
static void test_today_seen(void **state)
{
    (void)state;
    enum { N = 12 };
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t[N];
    uint8_t ids[N][EVENT_ID_LEN];
    for (int i = 0; i < N; i++) {
        char title[32];
        snprintf(title, sizeof title, "seen tip %d", i);
        t[i] = s_tip(&B, T0 + 100 + (uint64_t)i, title, NULL);
        memcpy(ids[i], t[i].id, EVENT_ID_LEN);
    }
    s_ingest(s, t, N, NULL);
    qsort(ids, N, EVENT_ID_LEN, s_id_cmp);
    static const char *dates[] = {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"};
    for (size_t d = 0; d < sizeof dates / sizeof dates[0]; d++) {
        views_today_req_t q = {.user = A.pk, .date = dates[d]};
        uint8_t first[EVENT_ID_LEN], now[EVENT_ID_LEN];
        size_t unseen;
        int before;
        assert_int_equal(s_today(s, &q, first, &unseen, &before), 1);
        assert_int_equal(before, 0);
        /* all seen but one (each id sent twice): that one, whatever its key */
        for (int skip = 0; skip < N; skip++) {
            uint8_t seen[2 * N][EVENT_PFX_LEN]; /* ids' first bytes name them */
            size_t k = 0;
            for (int i = 0; i < N; i++)
                for (int twice = 0; twice < 2 && i != skip; twice++)
                    memcpy(seen[k++], ids[i], EVENT_PFX_LEN);
            q.seen = (const uint8_t(*)[EVENT_PFX_LEN])seen;
            q.nseen = k;
            assert_int_equal(s_today(s, &q, now, &unseen, &before), 1);
            assert_int_equal(before, 0);
            assert_int_equal(unseen, 1);
            assert_memory_equal(now, ids[skip], EVENT_ID_LEN);
        }
        /* all seen: the first pick again, marked seen */
        uint8_t all[N][EVENT_PFX_LEN];
        for (int i = 0; i < N; i++) memcpy(all[i], ids[i], EVENT_PFX_LEN);
        q.seen = (const uint8_t(*)[EVENT_PFX_LEN])all;
        q.nseen = N;
        assert_int_equal(s_today(s, &q, now, &unseen, &before), 1);
        assert_int_equal(before, 1);
        assert_int_equal(unseen, 0);
        assert_memory_equal(now, first, EVENT_ID_LEN);
    }
    store_destroy(&s);
    s_rmdir(dir);
    for (int i = 0; i < N; i++) s_free(&t[i]);
}

/* Over many dates a tip rated 5 stars by five people and thanked by them
 * wins about its weight's share; each plain tip about 1/weight of it. */
static void test_today_weight(void **state)
{
    (void)state;
    enum { N = 30, RATERS = 5, DATES = 3000 };
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t[N + 1];
    for (int i = 0; i <= N; i++) {
        char title[32];
        snprintf(title, sizeof title, "weighed tip %d", i);
        t[i] = s_tip(&B, T0 + 100 + (uint64_t)i, title, NULL);
    }
    s_ingest(s, t, N + 1, NULL);
    key_t_ k[RATERS];
    for (int r = 0; r < RATERS; r++) {
        s_key(&k[r], (uint8_t)(40 + r));
        raw_t e[4];
        e[0] = s_act(EVENT_RATING, &k[r], T0 + 200 + (uint64_t)r, t[N].id, 5);
        for (int j = 1; j < 4; j++)
            e[j] = s_mk(EVENT_THANKS, &k[r], T0 + 300 + (uint64_t)(10 * r + j), NULL, NULL, NULL, 0,
                        EVENT_REF_TARGET, t[N].id, 0, NULL);
        s_ingest(s, e, 4, NULL);
        for (int j = 0; j < 4; j++) s_free(&e[j]);
    }
    store_rtxn_t *v = s_view(s);
    store_stats_t st;
    assert_int_equal(store_chain_stats(v, t[N].id, &st), 0);
    store_rtxn_end(&v);
    double w = pow(store_prior(&st), 6.0);
    if (w > VIEWS_TODAY_W_MAX) w = VIEWS_TODAY_W_MAX;
    assert_true(w > 4.0); /* the figures did reach the tip */
    int heavy = 0;
    for (int d = 0; d < DATES; d++) {
        char date[32];
        snprintf(date, sizeof date, "day %d", d);
        views_today_req_t q = {.user = A.pk, .date = date};
        uint8_t pick[EVENT_ID_LEN];
        assert_int_equal(s_today(s, &q, pick, NULL, NULL), 1);
        heavy += !memcmp(pick, t[N].id, EVENT_ID_LEN);
    }
    double want = w / (w + N), got = (double)heavy / DATES;
    print_message("weight %.2f: picked %.3f of days, its share %.3f\n", w, got, want);
    assert_true(got > 0.7 * want && got < 1.3 * want);
    store_destroy(&s);
    s_rmdir(dir);
    for (int i = 0; i <= N; i++) s_free(&t[i]);
}

typedef struct {
    uint8_t (*ids)[EVENT_ID_LEN];
    size_t n, stop_after;
} s_ring_t;

static int s_ring_one(const store_post_t *p, void *arg)
{
    s_ring_t *r = arg;
    memcpy(r->ids[r->n++], p->id, EVENT_ID_LEN);
    return r->n == r->stop_after ? 7 : 0;
}

/* From any point, every live tip and question once, in ring order; a
 * retracted one never; the callback's value stops the walk. */
static void test_posts_from(void **state)
{
    (void)state;
    enum { N = 40 };
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t[N];
    for (int i = 0; i < N; i++) {
        char title[32];
        snprintf(title, sizeof title, "ring %d", i);
        t[i] = i % 5 == 4   ? s_act(EVENT_RATING, &C, T0 + 50 + (uint64_t)i, t[i - 1].id, 4)
               : i % 5 == 3 ? s_mk(EVENT_QUESTION, &B, T0 + 50 + (uint64_t)i, title, NULL, NULL, 0,
                                   0, NULL, 0, NULL)
                            : s_tip(&B, T0 + 50 + (uint64_t)i, title, NULL);
    }
    s_ingest(s, t, N, NULL);
    raw_t x = s_act(EVENT_RETRACT, &B, T0 + 500, t[0].id, 0);
    s_one(s, &x);
    /* the live posts, sorted: every i % 5 != 4 but 0 */
    uint8_t want[N][EVENT_ID_LEN];
    size_t nw = 0;
    for (int i = 1; i < N; i++)
        if (i % 5 != 4) memcpy(want[nw++], t[i].id, EVENT_ID_LEN);
    qsort(want, nw, EVENT_ID_LEN, s_id_cmp);
    uint8_t got[N][EVENT_ID_LEN], from[EVENT_ID_LEN];
    for (int k = 0; k < 6; k++) {
        /* from before every id, after every id, at an id, between ids */
        if (k == 0) memset(from, 0, sizeof from);
        if (k == 1) memset(from, 0xff, sizeof from);
        if (k >= 2) memcpy(from, want[(size_t)k * 7 % nw], EVENT_ID_LEN);
        if (k >= 4) from[EVENT_ID_LEN - 1] ^= 1;
        s_ring_t r = {.ids = got};
        assert_int_equal(store_agg_posts_from(s, from, s_ring_one, &r), 0);
        assert_int_equal(r.n, nw);
        size_t start = 0;
        while (start < nw && memcmp(want[start], from, EVENT_ID_LEN) < 0) start++;
        for (size_t i = 0; i < nw; i++)
            assert_memory_equal(got[i], want[(start + i) % nw], EVENT_ID_LEN);
        s_ring_t stop = {.ids = got, .stop_after = 3};
        assert_int_equal(store_agg_posts_from(s, from, s_ring_one, &stop), 7);
        assert_int_equal(stop.n, 3);
    }
    store_destroy(&s);
    /* empty: nothing */
    char *dir2 = s_tmpdir();
    s = s_open(dir2, 0);
    s_ring_t r = {.ids = got};
    assert_int_equal(store_agg_posts_from(s, from, s_ring_one, &r), 0);
    assert_int_equal(r.n, 0);
    store_destroy(&s);
    s_rmdir(dir);
    s_rmdir(dir2);
    s_free(&x);
    for (int i = 0; i < N; i++) s_free(&t[i]);
}

/* 0 if dir's store has a database named name, else the LMDB code. */
static int s_has_db(const char *dir, const char *name, int create)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, &dbi);
    if (rc == 0 && create) {
        uint8_t key[8 + EVENT_ID_LEN] = {0};
        MDB_val k = {sizeof key, key}, v = {0, NULL};
        assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    return rc;
}

/* The log of changed posts an older tipd kept for `today` is dropped at
 * the next open for writing, and left alone by a read-only open. */
static void test_old_change_log_dropped(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&B, T0 + 5, "kept", NULL);
    s_one(s, &t);
    store_destroy(&s);
    assert_int_equal(s_has_db(dir, "alog", 0), MDB_NOTFOUND); /* not made any more */
    assert_int_equal(s_has_db(dir, "alog", 1), 0);            /* as an older tipd left it */
    store_opts_t ro = {.read_only = 1};
    int err = -1;
    s = store_new(dir, &ro, &err);
    assert_non_null(s);
    store_destroy(&s);
    assert_int_equal(s_has_db(dir, "alog", 0), 0);
    s = s_open(dir, 0);
    views_today_req_t q = {.user = A.pk, .date = "2026-12-03"};
    uint8_t pick[EVENT_ID_LEN];
    assert_int_equal(s_today(s, &q, pick, NULL, NULL), 1);
    assert_memory_equal(pick, t.id, EVENT_ID_LEN);
    store_destroy(&s);
    assert_int_equal(s_has_db(dir, "alog", 0), MDB_NOTFOUND);
    s_rmdir(dir);
    s_free(&t);
}

int main(void)
{
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_today_nothing_to_pick),
        cmocka_unit_test(test_today_stable),
        cmocka_unit_test(test_today_seen),
        cmocka_unit_test(test_today_weight),
        cmocka_unit_test(test_posts_from),
        cmocka_unit_test(test_old_change_log_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
