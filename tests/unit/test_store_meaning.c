/* test_store_meaning.c -- the meaning of events in the store, on real LMDB
 * with real signed events: retraction before/after its target and by a
 * non-author, supersede chains, latest rating wins, thanks, answers,
 * profiles, counts, history, author sums, search visibility and the record
 * of missed searches.
 *
 * Order-independence is checked by ingesting every permutation of a set of
 * events (one per batch, and all in one batch) into fresh stores and
 * comparing a full text snapshot of the derived state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_store_util.h"

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
        /* and what its edit chain carries */
        rc = store_chain_stats(s, ev[i].id, &st);
        off += (size_t)snprintf(out + off, cap - off, " c%d:%u/%u/%u", rc, st.ratings,
                                st.rating_sum, st.thanks);
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

/* Issue #6: the visible version of an edit chain carries the ratings and
 * thanks of every version (latest rating per rater across the chain), so an
 * edit does not start again at "no ratings yet"; earlier versions keep their
 * own figures. */
static void test_chain_ratings(void **state)
{
    raw_t v1 = s_tip(&A, T0, "chain alpha", NULL);
    raw_t v2 = s_edit(&A, T0 + 10, "chain alpha", v1.id);
    raw_t b1 = s_act(EVENT_RATING, &B, T0 + 20, v1.id, 2); /* B on v1 ... */
    raw_t b2 = s_act(EVENT_RATING, &B, T0 + 30, v2.id, 5); /* ... then on v2: 5 counts */
    raw_t c1 = s_act(EVENT_RATING, &C, T0 + 25, v1.id, 4); /* another rater: counts too */
    raw_t set[5] = {v1, v2, b1, b2, c1};
    char want[4096];
    s_all_orders(set, 5, want, sizeof want); /* 120 orders and one batch: same state */

    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    s_ingest(s, set, 5, NULL);
    store_stats_t st;
    assert_int_equal(store_chain_stats(s, v2.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 9); /* B's 5 (on v2) + C's 4 (on v1) */
    assert_int_equal(st.thanks, 0);
    assert_int_equal(st.superseded, 0);
    assert_memory_equal(st.latest, v2.id, 32);
    int sum = 0;
    assert_int_equal(store_chain_ratings(s, v2.id, s_rating, &sum), 0);
    assert_int_equal(sum, 54);
    /* Per version: store_stats, and the chain call on the superseded v1. */
    assert_int_equal(store_stats(s, v2.id, &st), 0);
    assert_int_equal(st.ratings, 1);
    assert_int_equal(st.rating_sum, 5);
    assert_int_equal(store_chain_stats(s, v1.id, &st), 0);
    assert_int_equal(st.superseded, 1);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 6); /* B's 2 + C's 4, v1's own */
    sum = 0;
    assert_int_equal(store_chain_ratings(s, v1.id, s_rating, &sum), 0);
    assert_int_equal(sum, 24);

    /* B rates the old version again, later: the latest wins across the chain. */
    raw_t b3 = s_act(EVENT_RATING, &B, T0 + 50, v1.id, 1);
    s_one(s, &b3);
    assert_int_equal(store_chain_stats(s, v2.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 5); /* 1 + 4 */
    /* Retracted, it stops counting: B's rating on v2 counts again. */
    raw_t rb3 = s_act(EVENT_RETRACT, &B, T0 + 60, b3.id, 0);
    s_one(s, &rb3);
    assert_int_equal(store_chain_stats(s, v2.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 9);
    /* And with that one retracted too, B's first (on v1) counts. */
    raw_t rb2 = s_act(EVENT_RETRACT, &B, T0 + 61, b2.id, 0);
    s_one(s, &rb2);
    assert_int_equal(store_chain_stats(s, v2.id, &st), 0);
    assert_int_equal(st.ratings, 2);
    assert_int_equal(st.rating_sum, 6);

    /* Thanks on any version add up on the visible one. */
    raw_t tc = s_act(EVENT_THANKS, &C, T0 + 70, v1.id, 0);
    raw_t tb = s_act(EVENT_THANKS, &B, T0 + 71, v2.id, 0);
    raw_t th[2] = {tc, tb};
    s_ingest(s, th, 2, NULL);
    assert_int_equal(store_chain_stats(s, v2.id, &st), 0);
    assert_int_equal(st.thanks, 2);
    assert_int_equal(store_stats(s, v1.id, &st), 0);
    assert_int_equal(st.thanks, 1);

    /* The author received two ratings and two thanks, not one per version. */
    store_author_t au;
    assert_int_equal(store_author(s, A.pk, &au), 0);
    assert_int_equal(au.tips, 1);
    assert_int_equal(au.ratings_received, 2);
    assert_int_equal(au.rating_sum_received, 6);
    assert_int_equal(au.thanks_received, 2);

    /* Search prior: the edited, rated and thanked tip ranks above an
     * identical unrated one by someone else. */
    raw_t other = s_tip(&C, T0 + 5, "chain alpha", NULL);
    s_one(s, &other);
    store_hit_t hits[4];
    size_t n;
    assert_int_equal(store_search(s, "chain alpha", NULL, hits, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(hits[0].id, v2.id, 32);
    assert_memory_equal(hits[1].id, other.id, 32);
    assert_true(hits[0].score > hits[1].score);
    store_destroy(&s);
    s_rmdir(dir);

    /* The retracted rating and the thanks in every order, too. */
    raw_t set2[6] = {v1, v2, b1, b2, c1, rb2};
    s_all_orders(set2, 6, want, sizeof want);
    assert_non_null(strstr(want, " c0:2/6/0"));

    raw_t *fr[] = {&v1, &v2, &b1, &b2, &c1, &b3, &rb3, &rb2, &tc, &tb, &other};
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

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retract),           cmocka_unit_test(test_supersede_orders),
        cmocka_unit_test(test_ratings),           cmocka_unit_test(test_answers_profiles),
        cmocka_unit_test(test_misses_and_search), cmocka_unit_test(test_chain_ratings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
