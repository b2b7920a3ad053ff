/* test_views.c -- the views layer on real stores: the figures of one tip,
 * the anonymity rule, the question list, the office statistics and the tip
 * of the day, all read through store read views; and the read views
 * themselves: one snapshot each, writes refused, usable from another thread
 * while the owner ingests and grows the map.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_store_util.h"
#include "views.h"

#define MIN 60000ULL

static store_rtxn_t *s_view(store_t *s)
{
    int err = 1;
    store_rtxn_t *v = store_rtxn_begin(s, &err);
    assert_non_null(v);
    assert_int_equal(err, 0);
    return v;
}

static raw_t s_profile(const key_t_ *k, uint64_t t, const char *name, const char *team)
{
    return s_mk(EVENT_PROFILE, k, t, name, team, NULL, 0, 0, NULL, 0, NULL);
}

static raw_t s_question(const key_t_ *k, uint64_t t, const char *title)
{
    return s_mk(EVENT_QUESTION, k, t, title, NULL, NULL, 0, 0, NULL, 0, NULL);
}

static raw_t s_answer(const key_t_ *k, uint64_t t, const char *title, const uint8_t *q)
{
    return s_mk(EVENT_TIP, k, t, title, NULL, NULL, 0, EVENT_REF_ANSWERS, q, 0, NULL);
}

static raw_t s_thanks(const key_t_ *k, uint64_t t, const uint8_t *target, const char *story)
{
    return s_mk(EVENT_THANKS, k, t, NULL, story, NULL, 0, EVENT_REF_TARGET, target, 0, NULL);
}

static void s_get(store_rtxn_t *v, const uint8_t *id, event_t *ev)
{
    assert_int_equal(store_get(v, id, ev), 0);
}

/* Rating, thanks, names and edit state of one tip; an edit keeps what the
 * earlier version earned. */
static void test_tip_figures(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t1 = s_tip(&A, T0 + 5, "use rsync", "ops shell");
    raw_t p = s_profile(&A, T0 + 1, "Ann", "Ops");
    raw_t r1 = s_act(EVENT_RATING, &B, T0 + 10, t1.id, 4);
    raw_t r2 = s_act(EVENT_RATING, &C, T0 + 11, t1.id, 2);
    raw_t th = s_thanks(&B, T0 + 12, t1.id, "saved me");
    raw_t set[] = {t1, p, r1, r2, th};
    s_ingest(s, set, 5, NULL);

    event_t *ev = malloc(sizeof *ev);
    views_tip_t f;
    store_rtxn_t *v = s_view(s);
    s_get(v, t1.id, ev);
    assert_int_equal(views_tip(v, ev, &f), 0);
    assert_string_equal(f.author_name, "Ann");
    assert_string_equal(f.author_team, "Ops");
    assert_int_equal(f.anonymous, 0);
    assert_int_equal(f.st.ratings, 2);
    assert_int_equal(f.st.rating_sum, 6);
    assert_int_equal(f.st.thanks, 1);
    assert_int_equal(f.st.superseded, 0);
    store_rtxn_end(&v);
    assert_null(v);

    /* Edited: the new version carries the chain's figures, the old one
     * shows as superseded with its own, pointing at the latest. */
    raw_t e = s_edit(&A, T0 + 20, "use rsync -a", t1.id);
    s_one(s, &e);
    v = s_view(s);
    s_get(v, e.id, ev);
    views_tip(v, ev, &f);
    assert_int_equal(f.st.ratings, 2);
    assert_int_equal(f.st.thanks, 1);
    assert_int_equal(f.st.superseded, 0);
    s_get(v, t1.id, ev);
    views_tip(v, ev, &f);
    assert_int_equal(f.st.superseded, 1);
    assert_memory_equal(f.st.latest, e.id, EVENT_ID_LEN);
    store_rtxn_end(&v);

    free(ev);
    store_destroy(&s);
    s_rmdir(dir);
    raw_t *fr[] = {&t1, &p, &r1, &r2, &th, &e};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

/* The anonymity rule: whole minute, no profile name, nothing else signed. */
static void test_anonymous(void **state)
{
    (void)state;
    key_t_ D, E, F;
    s_key(&D, 4);
    s_key(&E, 5);
    s_key(&F, 6);
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t d1 = s_tip(&D, T0 + 3 * MIN, "anon tip", NULL);    /* anonymous */
    raw_t e1 = s_tip(&E, T0 + 3 * MIN + 7, "odd ms", NULL);  /* not on a minute */
    raw_t f1 = s_tip(&F, T0 + 4 * MIN, "named later", NULL); /* F rates too */
    raw_t f2 = s_act(EVENT_RATING, &F, T0 + 5 * MIN, d1.id, 5);
    raw_t set[] = {d1, e1, f1};
    s_ingest(s, set, 3, NULL);
    event_t *ev = malloc(sizeof *ev);
    store_rtxn_t *v = s_view(s);
    s_get(v, d1.id, ev);
    assert_int_equal(views_anonymous(v, ev), 1);
    views_tip_t f;
    views_tip(v, ev, &f);
    assert_int_equal(f.anonymous, 1);
    s_get(v, e1.id, ev);
    assert_int_equal(views_anonymous(v, ev), 0);
    s_get(v, f1.id, ev);
    assert_int_equal(views_anonymous(v, ev), 1);
    char name[VIEWS_NAME_CAP], team[VIEWS_TEAM_CAP];
    views_name(v, F.pk, 1, name, sizeof name, team, sizeof team);
    assert_string_equal(name, "anonymous");
    views_name(v, F.pk, 0, name, sizeof name, team, sizeof team);
    assert_string_equal(name, "");
    store_rtxn_end(&v);
    s_one(s, &f2); /* F signed something else: no longer a one-time key */
    v = s_view(s);
    s_get(v, f1.id, ev);
    assert_int_equal(views_anonymous(v, ev), 0);
    store_rtxn_end(&v);
    free(ev);
    store_destroy(&s);
    s_rmdir(dir);
    raw_t *fr[] = {&d1, &e1, &f1, &f2};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

/* Unanswered first, then oldest asked; an answer to an earlier version of
 * an edited question counts for the question. */
static void test_questions(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t q1 = s_question(&A, T0 + 100, "q1 answered");
    raw_t q2 = s_question(&B, T0 + 200, "q2 open");
    raw_t q3 = s_question(&C, T0 + 50, "q3 open, oldest");
    raw_t a1 = s_answer(&B, T0 + 300, "answer to q1 v1", q1.id);
    raw_t q1e = s_mk(EVENT_QUESTION, &A, T0 + 400, "q1 edited", NULL, NULL, 0, EVENT_REF_SUPERSEDES,
                     q1.id, 0, NULL);
    raw_t set[] = {q1, q2, q3, a1, q1e};
    s_ingest(s, set, 5, NULL);
    store_rtxn_t *v = s_view(s);
    views_questions_t q;
    assert_int_equal(views_questions(v, 0, 2, &q), 0);
    assert_int_equal(q.n, 3);
    assert_int_equal(q.open, 2);
    assert_memory_equal(q.v[0].id, q3.id, EVENT_ID_LEN);
    assert_memory_equal(q.v[1].id, q2.id, EVENT_ID_LEN);
    assert_memory_equal(q.v[2].id, q1e.id, EVENT_ID_LEN);
    assert_int_equal(q.v[2].answers, 1);
    assert_int_equal(q.v[2].asked_ms, T0 + 100); /* the first version's time */
    assert_non_null(q.v[0].ev);
    assert_non_null(q.v[1].ev);
    assert_null(q.v[2].ev); /* beyond the limit: no event loaded */
    assert_string_equal(q.v[0].ev->title, "q3 open, oldest");
    views_questions_free(&q);
    assert_int_equal(views_questions(v, 1, 10, &q), 0);
    assert_int_equal(q.n, 2);
    views_questions_free(&q);
    store_rtxn_end(&v);
    store_destroy(&s);
    s_rmdir(dir);
    raw_t *fr[] = {&q1, &q2, &q3, &a1, &q1e};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

/* The statistics of a small store, every figure exact. */
static void test_stats(void **state)
{
    (void)state;
    key_t_ D;
    s_key(&D, 4);
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    uint64_t now = T0 + 86400000ULL; /* the ingest clock of s_ingest */
    uint64_t tb = now - 3 * VIEWS_WEEK_MS;
    raw_t pa = s_profile(&A, tb, "Ann", "Ops");
    raw_t t1 = s_tip(&A, tb + VIEWS_WEEK_MS + 1, "t1", "git shell");
    raw_t t2 = s_tip(&B, tb + 2 * VIEWS_WEEK_MS + 1, "t2", "git");
    raw_t t2e = s_edit(&B, tb + 2 * VIEWS_WEEK_MS + 2, "t2 edited", t2.id); /* not new */
    raw_t anon = s_tip(&D, tb + 2 * VIEWS_WEEK_MS + 5 * MIN, "anon", "shell");
    raw_t q = s_question(&C, tb + 10, "open question");
    raw_t th1 = s_thanks(&B, tb + VIEWS_WEEK_MS + 50, t1.id, "great");
    raw_t th2 = s_thanks(&C, tb + VIEWS_WEEK_MS + 60, t1.id, "");
    raw_t r1 = s_act(EVENT_RATING, &C, tb + VIEWS_WEEK_MS + 70, t1.id, 5);
    raw_t set[] = {pa, t1, t2, t2e, anon, q, th1, th2, r1};
    s_ingest(s, set, 9, NULL);
    assert_int_equal(store_miss_record(s, "kubectl"), 0);

    store_rtxn_t *v = s_view(s);
    views_stats_req_t rq = {
        .now = now, .weeks = 3, .top = 5, .stories = 5, .misses = 5, .me = A.pk};
    views_stats_t st;
    assert_int_equal(views_stats_scan(v, &rq, &st), 0);
    assert_int_equal(st.counts.tips, 3);
    assert_int_equal(st.counts.questions, 1);
    assert_int_equal(st.start, tb);
    assert_int_equal(st.per_week[0], 0);
    assert_int_equal(st.per_week[1], 1);
    assert_int_equal(st.per_week[2], 2); /* t2 and anon; the edit is not new */
    assert_int_equal(st.open_questions, 1);
    assert_int_equal(st.contributors, 3); /* A, B, C */
    assert_int_equal(st.anonymous_posts, 1);
    assert_int_equal(st.thanks, 2);
    assert_int_equal(st.ratings, 1);
    assert_int_equal(st.rating_sum, 5);
    assert_int_equal(st.ntopics, 2);
    assert_string_equal(st.topics[0].topic, "shell"); /* t1 + anon; t2 counts in its edit: none */
    assert_int_equal(st.topics[0].tips, 2);
    assert_string_equal(st.topics[1].topic, "git");
    assert_int_equal(st.topics[1].tips, 1);
    assert_int_equal(st.nthanked, 1);
    assert_memory_equal(st.thanked[0].author, A.pk, EVENT_KEY_LEN);
    assert_string_equal(st.thanked[0].name, "Ann");
    assert_int_equal(st.thanked[0].thanks, 2);
    assert_int_equal(st.nstories, 1);
    assert_string_equal(st.stories[0].story, "great");
    assert_string_equal(st.stories[0].to_name, "Ann");
    assert_string_equal(st.stories[0].tip_title, "t1");
    assert_int_equal(st.nmisses, 1);
    assert_string_equal(st.misses[0].query, "kubectl");
    assert_int_equal(st.has_me, 1);
    assert_string_equal(st.me.name, "Ann");
    assert_int_equal(st.me.a.tips, 1);
    assert_int_equal(st.me.a.thanks_received, 2);
    assert_int_equal(st.me.nstories, 1);
    views_stats_free(&st);
    /* the same from the base (more in test_views_aggregates.c) */
    assert_int_equal(views_stats(NULL, v, &rq, &st), 0);
    assert_int_equal(st.per_week[2], 2);
    assert_int_equal(st.contributors, 3);
    assert_string_equal(st.topics[0].topic, "shell");
    assert_string_equal(st.thanked[0].name, "Ann");
    assert_string_equal(st.stories[0].story, "great");
    assert_int_equal(st.me.a.thanks_received, 2);
    assert_int_equal(st.me.nstories, 1);
    assert_string_equal(st.me.stories[0].story, "great");
    views_stats_free(&st);
    store_rtxn_end(&v);
    store_destroy(&s);
    s_rmdir(dir);
    raw_t *fr[] = {&pa, &t1, &t2, &t2e, &anon, &q, &th1, &th2, &r1};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) s_free(fr[i]);
}

static int s_pfx_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_PFX_LEN);
}

/* The pick is a function of (user, date, candidates): the same every
 * time, never the user's own tip, a seen tip only when all were seen. */
static void test_today(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t[6];
    for (int i = 0; i < 6; i++) {
        char title[16];
        snprintf(title, sizeof title, "tip %d", i);
        t[i] = s_tip(i < 3 ? &A : &B, T0 + 1000 + (uint64_t)i, title, NULL);
    }
    s_ingest(s, t, 6, NULL);
    store_rtxn_t *v = s_view(s);
    views_today_req_t rq = {.user = A.pk, .date = "2026-12-03"};
    views_today_t a, b;
    assert_int_equal(views_today(v, &rq, &a), 0);
    assert_int_equal(a.have, 1);
    assert_int_equal(a.unseen, 3); /* B's three */
    assert_memory_equal(a.ev->author, B.pk, EVENT_KEY_LEN);
    assert_int_equal(views_today(v, &rq, &b), 0);
    assert_memory_equal(a.ev->id, b.ev->id, EVENT_ID_LEN);
    views_today_free(&b);
    /* ids are matched by their first bytes; two of B's tips seen, and two
     * prefixes naming nothing (one before every id, one after) */
    uint8_t seen[5][EVENT_PFX_LEN];
    memcpy(seen[0], t[3].id, EVENT_PFX_LEN);
    memcpy(seen[1], t[4].id, EVENT_PFX_LEN);
    memset(seen[2], 0x00, EVENT_PFX_LEN);
    memset(seen[3], 0xff, EVENT_PFX_LEN);
    qsort(seen, 4, EVENT_PFX_LEN, s_pfx_cmp);
    rq.seen = (const uint8_t(*)[EVENT_PFX_LEN])seen;
    rq.nseen = 4;
    assert_int_equal(views_today(v, &rq, &b), 0);
    assert_int_equal(b.unseen, 1);
    assert_int_equal(b.seen_before, 0);
    assert_memory_equal(b.ev->id, t[5].id, EVENT_ID_LEN); /* the one left */
    views_today_free(&b);
    memcpy(seen[4], t[5].id, EVENT_PFX_LEN);
    qsort(seen, 5, EVENT_PFX_LEN, s_pfx_cmp);
    rq.nseen = 5;
    assert_int_equal(views_today(v, &rq, &b), 0);
    assert_int_equal(b.unseen, 0);
    assert_int_equal(b.seen_before, 1);
    assert_memory_equal(a.ev->id, b.ev->id, EVENT_ID_LEN); /* the same best among seen */
    views_today_free(&a);
    views_today_free(&b);
    store_rtxn_end(&v);
    store_destroy(&s);
    s_rmdir(dir);
    for (int i = 0; i < 6; i++) s_free(&t[i]);
}

/* `get` in full: the visible version lists the ratings (newest per rater)
 * and thanks (oldest first) of its whole chain; a question its answers to
 * every version, an edited answer once as its newest version; history
 * walks back through the edits. */
static void test_detail(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t v1 = s_tip(&A, T0 + 10, "v1", NULL);
    raw_t v2 = s_edit(&A, T0 + 20, "v2", v1.id);
    raw_t rb1 = s_act(EVENT_RATING, &B, T0 + 30, v1.id, 2);
    raw_t rb2 = s_act(EVENT_RATING, &B, T0 + 40, v2.id, 5); /* B's newest counts */
    raw_t rc1 = s_act(EVENT_RATING, &C, T0 + 35, v1.id, 3);
    raw_t th2 = s_thanks(&C, T0 + 50, v2.id, "second");
    raw_t th1 = s_thanks(&B, T0 + 45, v1.id, "first");
    raw_t q1 = s_question(&C, T0 + 60, "q v1");
    raw_t q2 = s_mk(EVENT_QUESTION, &C, T0 + 70, "q v2", NULL, NULL, 0, EVENT_REF_SUPERSEDES, q1.id,
                    0, NULL);
    raw_t a1 = s_answer(&B, T0 + 80, "answer to v1", q1.id);
    raw_t a1e = s_mk(EVENT_TIP, &B, T0 + 90, "answer edited", NULL, NULL, 0, EVENT_REF_ANSWERS,
                     q1.id, EVENT_REF_SUPERSEDES, a1.id);
    raw_t a2 = s_answer(&A, T0 + 100, "answer to v2", q2.id);
    raw_t ra2 = s_act(EVENT_RATING, &C, T0 + 110, a2.id, 4);
    raw_t set[] = {v1, v2, rb1, rb2, rc1, th2, th1, q1, q2, a1, a1e, a2, ra2};
    s_ingest(s, set, 13, NULL);
    store_rtxn_t *v = s_view(s);
    views_detail_t d;
    assert_int_equal(views_detail(v, v2.id, 1, &d), 0);
    assert_string_equal(d.shown.ev->title, "v2");
    assert_int_equal(d.shown.fig.st.ratings, 2);
    assert_int_equal(d.nratings, 2);
    assert_memory_equal(d.ratings[0].author, B.pk, EVENT_KEY_LEN);
    assert_int_equal(d.ratings[0].value, 5);
    assert_memory_equal(d.ratings[1].author, C.pk, EVENT_KEY_LEN);
    assert_int_equal(d.nthanks, 2);
    assert_string_equal(d.thanks[0].story, "first");
    assert_string_equal(d.thanks[1].story, "second");
    assert_int_equal(d.nhistory, 1);
    assert_string_equal(d.history[0].ev->title, "v1");
    assert_int_equal(d.history[0].fig.st.superseded, 1);
    views_detail_free(&d);
    /* the old version shows its own */
    assert_int_equal(views_detail(v, v1.id, 0, &d), 0);
    assert_int_equal(d.nratings, 2);
    assert_int_equal(d.ratings[0].value, 2);
    assert_int_equal(d.nthanks, 1);
    assert_int_equal(d.nhistory, 0);
    views_detail_free(&d);
    assert_int_equal(views_detail(v, q2.id, 0, &d), 0);
    assert_int_equal(d.nanswers, 2);
    assert_string_equal(d.answers[0].ev->title, "answer to v2"); /* rated first */
    assert_string_equal(d.answers[1].ev->title, "answer edited");
    views_detail_free(&d);
    uint8_t nope[EVENT_ID_LEN] = {1};
    assert_int_equal(views_detail(v, nope, 0, &d), STORE_E_NOTFOUND);
    store_rtxn_end(&v);
    store_destroy(&s);
    s_rmdir(dir);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) s_free(&set[i]);
}

/* A view reads one snapshot; it refuses writes; release_memory waits. */
static void test_view_snapshot(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t1 = s_tip(&A, T0 + 1, "one", NULL), t2 = s_tip(&A, T0 + 2, "two", NULL);
    s_one(s, &t1);
    store_rtxn_t *v = s_view(s);
    assert_null(store_rtxn_begin(v, NULL)); /* no view of a view */
    s_one(s, &t2);
    store_filter_t f = {.kind = EVENT_TIP};
    assert_int_equal(s_list(v, &f, 0).n, 1);
    assert_int_equal(s_list(s, &f, 0).n, 2);
    assert_int_equal(store_miss_record(v, "nothing"), STORE_E_ARG);
    assert_int_equal(store_release_memory(s, 0), STORE_E_BUSY);
    assert_int_equal(store_rtxn_renew(v), 0);
    assert_int_equal(s_list(v, &f, 0).n, 2);
    /* a flag stops the long walks (a daemon shutting down) */
    int stop = 0;
    store_rtxn_cancel_on(v, &stop);
    assert_int_equal(s_list(v, &f, 0).n, 2);
    stop = 1;
    ids_t none = {.n = 0};
    assert_int_equal(store_list(v, &f, 0, s_collect, &none), STORE_E_CANCELED);
    assert_int_equal(none.n, 0);
    views_stats_req_t rq = {.weeks = 1, .top = 1};
    views_stats_t st;
    assert_int_equal(views_stats_scan(v, &rq, &st), STORE_E_CANCELED);
    /* stats from the figures kept at ingest: no long walk to stop */
    assert_int_equal(views_stats(NULL, v, &rq, &st), 0);
    assert_int_equal(st.counts.tips, 2);
    views_stats_free(&st);
    /* today walks post records from the seed: stopped at the first */
    views_today_req_t tq = {.date = "2026-12-03"};
    views_today_t td;
    assert_int_equal(views_today(v, &tq, &td), STORE_E_CANCELED);
    store_rtxn_end(&v);
    store_rtxn_end(&v); /* idempotent */
    assert_int_equal(store_release_memory(s, 0), 0);
    store_destroy(&s);
    s_rmdir(dir);
    s_free(&t1);
    s_free(&t2);
}

/* Views on another thread while the owner ingests into a map that must
 * grow many times: every view sees a consistent count (ASan would catch a
 * read of an unmapped page). */
typedef struct {
    store_t *s;
    volatile int stop;
    int views, stops, bad;
    uint64_t last;
} s_reader_arg_t;

/* (cmocka asserts only on the main thread: the reader counts what is
 * wrong and the test checks the counts.) */
static void *s_reader(void *arg)
{
    s_reader_arg_t *r = arg;
    while (!r->stop) {
        store_rtxn_t *v = store_rtxn_begin(r->s, NULL);
        if (!v) {
            r->bad++;
            break;
        }
        store_counts_t c;
        ids_t got = {.n = 0};
        store_filter_t f = {.kind = EVENT_TIP};
        int rc = store_counts(v, &c);
        if (rc == 0) rc = store_list(v, &f, 0, s_collect, &got);
        if (rc == STORE_E_CANCELED && store_rtxn_stopped(v)) {
            r->stops++; /* a resize was waiting: read again */
        } else if (rc != 0 || got.n != c.tips || c.tips < r->last) {
            r->bad++; /* not one snapshot, or going back in time */
        } else {
            r->last = c.tips;
            r->views++;
        }
        store_rtxn_end(&v);
    }
    return NULL;
}

static void test_view_threads_growth(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open_opts(dir, 256 << 10, 1); /* tiny map, grown on MAP_FULL only */
    size_t map0 = store_map_size(s);
    s_reader_arg_t ra = {.s = s};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_reader, &ra), 0);
    enum { BATCH = 50, BATCHES = 12 };
    raw_t b[BATCH];
    char title[64];
    for (int k = 0; k < BATCHES; k++) {
        for (int i = 0; i < BATCH; i++) {
            snprintf(title, sizeof title, "tip %d of batch %d with words to index", i, k);
            b[i] = s_mk(EVENT_TIP, i % 2 ? &A : &B, T0 + (uint64_t)(k * BATCH + i), title,
                        "a longer body so that every batch takes real room in the map", "ops", 0, 0,
                        NULL, 0, NULL);
        }
        s_ingest(s, b, BATCH, NULL);
        for (int i = 0; i < BATCH; i++) s_free(&b[i]);
    }
    while (ra.views < 3 && !ra.bad) usleep(1000);
    ra.stop = 1;
    pthread_join(th, NULL);
    assert_int_equal(ra.bad, 0);
    assert_true(store_map_size(s) > map0);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.tips, BATCH * BATCHES);
    store_destroy(&s);
    s_rmdir(dir);
}

/* A map resize does not wait for a long walk to finish: the walk of an open
 * view stops early (STORE_E_CANCELED, store_rtxn_stopped) and the resize
 * goes ahead once the view ends. */
typedef struct {
    store_t *s;
    volatile int go; /* the owner is about to ingest */
    int rc, stopped, calls;
} s_walker_t;

static int s_slow_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)ev;
    (void)raw;
    (void)len;
    s_walker_t *w = arg;
    w->calls++;
    if (w->go) usleep(10000); /* a long pass, from the moment the owner writes */
    return 0;
}

static void *s_walker(void *arg)
{
    s_walker_t *w = arg;
    store_rtxn_t *v = store_rtxn_begin(w->s, NULL);
    assert_non_null(v);
    w->go = 0;
    store_filter_t f = {.kind = 0};
    while (!w->go) usleep(1000);
    w->rc = store_list(v, &f, 0, s_slow_one, w);
    w->stopped = store_rtxn_stopped(v);
    store_rtxn_end(&v);
    return NULL;
}

static void test_view_stops_for_resize(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open_opts(dir, 256 << 10, 1); /* grows on MAP_FULL only */
    enum { N = 1000 };
    raw_t *b = calloc(N, sizeof *b);
    char title[64];
    for (int i = 0; i < N; i++) {
        snprintf(title, sizeof title, "small tip %d", i);
        b[i] = s_mk(EVENT_TIP, &A, T0 + (uint64_t)i, title, "x", NULL, 0, 0, NULL, 0, NULL);
    }
    s_ingest(s, b, 100, NULL); /* fits the map: the walk has 100 events */
    size_t map0 = store_map_size(s);
    s_walker_t w = {.s = s, .go = -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_walker, &w), 0);
    while (w.go != 0) usleep(1000); /* the view is open */
    w.go = 1;
    s_ingest(s, b + 100, N - 100, NULL); /* needs a bigger map */
    pthread_join(th, NULL);
    assert_int_equal(w.rc, STORE_E_CANCELED);
    assert_int_equal(w.stopped, 1);
    assert_true(w.calls < 100); /* it did not walk to the end */
    assert_true(store_map_size(s) > map0);
    store_rtxn_t *v = s_view(s);
    store_filter_t f = {.kind = EVENT_TIP};
    assert_int_equal(s_list(v, &f, 0).n, N);
    assert_int_equal(store_rtxn_stopped(v), 0);
    store_rtxn_end(&v);
    for (int i = 0; i < N; i++) s_free(&b[i]);
    free(b);
    store_destroy(&s);
    s_rmdir(dir);
}

int main(void)
{
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tip_figures),
        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_questions),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_today),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_view_snapshot),
        cmocka_unit_test(test_view_threads_growth),
        cmocka_unit_test(test_view_stops_for_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
