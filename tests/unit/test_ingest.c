/* test_ingest.c -- cmocka tests of group commit (daemon/ingest.c) on a real
 * LMDB store, the real loop, the real verify threads and the real writer
 * thread: results per event, rejections that store nothing, acknowledgement
 * only after commit, the on_new listener, re-entrant submits, flush and
 * destroy with work queued, a held event never verified again, writes
 * handed to the writer in order, and a slow commit (test builds' delay
 * hook) that leaves the loop free to run and read.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "event.h"
#include "ident.h"
#include "ingest.h"
#include "loop.h"
#include "store.h"

typedef struct {
    char dir[64];
    store_t *store;
    loop_t *loop;
    ingest_t *ing;
    ident_t id;
} fx_t;

static int s_rmrf_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tipd-ingest-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    int err = 0;
    f->store = store_new(f->dir, NULL, &err);
    f->loop = loop_new();
    f->ing = ingest_new(f->loop, f->store);
    ident_ephemeral(&f->id);
    *state = f;
    return f->store && f->loop && f->ing ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    ingest_destroy(&f->ing);
    store_destroy(&f->store);
    loop_destroy(&f->loop);
    s_rmrf_dir(f->dir);
    free(f);
    return 0;
}

/* A signed tip; *len gets its length. Caller frees. */
static uint8_t *s_event(fx_t *f, int i, uint64_t created, size_t *len)
{
    event_t *ev = malloc(sizeof(*ev));
    event_init(ev, EVENT_TIP);
    char t[64];
    snprintf(t, sizeof(t), "tip number %d", i);
    assert_int_equal(event_set_title(ev, t, strlen(t)), 0);
    assert_int_equal(event_set_body(ev, "body", 4), 0);
    ev->created_at = created ? created : event_now_ms() - 1000 + (uint64_t)i;
    assert_int_equal(event_sign(ev, f->id.sk), 0);
    uint8_t *buf = malloc(EVENT_MAX_SIZE);
    assert_int_equal(event_encode(ev, buf, EVENT_MAX_SIZE, len), 0);
    free(ev);
    return buf;
}

typedef struct {
    fx_t *f;
    int calls;
    size_t n;
    store_result_t res[64];
    int all_visible; /* every NEW id readable from the store during the callback */
} done_t;

static void s_done(const store_result_t *r, size_t n, void *arg)
{
    done_t *d = arg;
    d->calls++;
    d->n = n;
    d->all_visible = 1;
    for (size_t i = 0; i < n && i < 64; i++) {
        d->res[i] = r[i];
        if (r[i].status == STORE_NEW && store_has(d->f->store, r[i].id) != 1) d->all_visible = 0;
    }
}

static void s_run_until(fx_t *f, const int *flag, int want)
{
    for (int i = 0; i < 2000 && *flag < want; i++) loop_once(f->loop, 10);
    assert_true(*flag >= want);
}

static void test_results_and_commit_before_ack(void **state)
{
    fx_t *f = *state;
    uint8_t *ev[6];
    size_t len[6];
    for (int i = 0; i < 4; i++) ev[i] = s_event(f, i, 0, &len[i]);
    /* [4]: same as [0] (duplicate inside one submission) */
    ev[4] = malloc(len[0]);
    memcpy(ev[4], ev[0], len[0]);
    len[4] = len[0];
    /* [5]: bad signature */
    ev[5] = s_event(f, 5, 0, &len[5]);
    ev[5][len[5] - 3] ^= 0x40;
    /* corrupt [3]: truncated */
    len[3] -= 5;

    done_t d = {.f = f};
    assert_int_equal(ingest_submit(f->ing, (const uint8_t *const *)ev, len, 6, s_done, &d), 0);
    assert_int_equal(ingest_pending(f->ing), 6);
    s_run_until(f, &d.calls, 1);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.n, 6);
    assert_int_equal(d.res[0].status, STORE_NEW);
    assert_int_equal(d.res[1].status, STORE_NEW);
    assert_int_equal(d.res[2].status, STORE_NEW);
    assert_int_equal(d.res[3].status, STORE_REJECTED);
    assert_int_equal(d.res[3].reason, EVENT_E_TRUNCATED);
    assert_int_equal(d.res[4].status, STORE_DUP);
    assert_memory_equal(d.res[4].id, d.res[0].id, EVENT_ID_LEN);
    assert_int_equal(d.res[5].status, STORE_REJECTED);
    assert_int_equal(d.res[5].reason, EVENT_E_SIG);
    assert_true(d.all_visible);
    assert_int_equal(ingest_pending(f->ing), 0);
    store_counts_t c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.events, 3);
    for (int i = 0; i < 6; i++) free(ev[i]);
}

static void test_future_and_oversize(void **state)
{
    fx_t *f = *state;
    size_t len[3];
    uint8_t *ev[3];
    ev[0] = s_event(f, 0, event_now_ms() + EVENT_MAX_FUTURE_MS + 60000, &len[0]);
    ev[1] = calloc(1, EVENT_MAX_SIZE + 10);
    len[1] = EVENT_MAX_SIZE + 10;
    ev[2] = s_event(f, 2, 0, &len[2]);
    done_t d = {.f = f};
    assert_int_equal(ingest_submit(f->ing, (const uint8_t *const *)ev, len, 3, s_done, &d), 0);
    s_run_until(f, &d.calls, 1);
    assert_int_equal(d.res[0].status, STORE_REJECTED);
    assert_int_equal(d.res[0].reason, EVENT_E_FUTURE);
    assert_int_equal(d.res[1].status, STORE_REJECTED);
    assert_int_equal(d.res[1].reason, EVENT_E_OVERSIZE);
    assert_int_equal(d.res[2].status, STORE_NEW);
    for (int i = 0; i < 3; i++) free(ev[i]);
}

typedef struct {
    size_t events;
    int calls;
    fx_t *f;
    uint8_t *resubmit; /* listener submits this once (re-entrancy) */
    size_t resubmit_len;
    done_t inner;
} newl_t;

static void s_on_new(const uint8_t *const *evs, const size_t *lens, const store_result_t *r,
                     size_t n, void *arg)
{
    newl_t *l = arg;
    (void)evs;
    (void)lens;
    l->calls++;
    for (size_t i = 0; i < n; i++) assert_int_equal(r[i].status, STORE_NEW);
    l->events += n;
    if (l->resubmit) {
        const uint8_t *p = l->resubmit;
        size_t len = l->resubmit_len;
        l->resubmit = NULL;
        assert_int_equal(ingest_submit(l->f->ing, &p, &len, 1, s_done, &l->inner), 0);
    }
}

static void test_many_batches_and_listener(void **state)
{
    fx_t *f = *state;
    enum { N = 3000, PER = 50 };
    static uint8_t *ev[N];
    static size_t len[N];
    for (int i = 0; i < N; i++) ev[i] = s_event(f, i, 0, &len[i]);
    size_t extra_len;
    uint8_t *extra = s_event(f, N + 1, 0, &extra_len);
    newl_t l = {.f = f, .resubmit = extra, .resubmit_len = extra_len};
    l.inner.f = f;
    ingest_on_new(f->ing, s_on_new, &l);
    static done_t d[N / PER];
    int total = 0;
    for (int k = 0; k < N / PER; k++) {
        d[k].f = f;
        assert_int_equal(ingest_submit(f->ing, (const uint8_t *const *)&ev[k * PER], &len[k * PER],
                                       PER, s_done, &d[k]),
                         0);
    }
    for (int it = 0; it < 5000; it++) {
        total = 0;
        for (int k = 0; k < N / PER; k++) total += d[k].calls;
        if (total == N / PER && l.inner.calls == 1) break;
        loop_once(f->loop, 10);
    }
    assert_int_equal(total, N / PER);
    for (int k = 0; k < N / PER; k++) {
        assert_int_equal(d[k].calls, 1);
        assert_true(d[k].all_visible);
        for (int i = 0; i < PER; i++) assert_int_equal(d[k].res[i].status, STORE_NEW);
    }
    assert_int_equal(l.inner.calls, 1);
    assert_int_equal(l.inner.res[0].status, STORE_NEW);
    assert_int_equal(l.events, N + 1);
    store_counts_t c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.events, N + 1);
    for (int i = 0; i < N; i++) free(ev[i]);
    free(extra);
}

static void test_flush_and_destroy_commit_queued(void **state)
{
    fx_t *f = *state;
    size_t len[20];
    uint8_t *ev[20];
    for (int i = 0; i < 20; i++) ev[i] = s_event(f, i, 0, &len[i]);
    done_t d1 = {.f = f}, d2 = {.f = f};
    assert_int_equal(ingest_submit(f->ing, (const uint8_t *const *)ev, len, 10, s_done, &d1), 0);
    /* No loop turn: flush must wait for verification and commit by itself. */
    assert_int_equal(ingest_flush(f->ing), 0);
    assert_int_equal(d1.calls, 1);
    assert_true(d1.all_visible);
    assert_int_equal(ingest_pending(f->ing), 0);
    assert_int_equal(
        ingest_submit(f->ing, (const uint8_t *const *)&ev[10], &len[10], 10, s_done, &d2), 0);
    ingest_destroy(&f->ing);
    assert_null(f->ing);
    ingest_destroy(&f->ing); /* idempotent */
    assert_int_equal(d2.calls, 1);
    store_counts_t c;
    assert_int_equal(store_counts(f->store, &c), 0);
    assert_int_equal(c.events, 20);
    for (int i = 0; i < 20; i++) free(ev[i]);
}

/* An event already held is answered STORE_DUP without a signature check:
 * the same id with a broken signature is not rejected. */
static void test_held_event_is_not_verified_again(void **state)
{
    fx_t *f = *state;
    size_t len;
    uint8_t *ev = s_event(f, 1, 0, &len);
    done_t d1 = {.f = f}, d2 = {.f = f}, d3 = {.f = f};
    const uint8_t *p = ev;
    assert_int_equal(ingest_submit(f->ing, &p, &len, 1, s_done, &d1), 0);
    s_run_until(f, &d1.calls, 1);
    assert_int_equal(d1.res[0].status, STORE_NEW);
    ev[len - 3] ^= 0x40; /* the signature: not part of the id */
    assert_int_equal(ingest_submit(f->ing, &p, &len, 1, s_done, &d2), 0);
    s_run_until(f, &d2.calls, 1);
    assert_int_equal(d2.res[0].status, STORE_DUP);
    assert_memory_equal(d2.res[0].id, d1.res[0].id, EVENT_ID_LEN);
    /* a new event with a broken signature still is */
    size_t len2;
    uint8_t *ev2 = s_event(f, 2, 0, &len2);
    ev2[len2 - 3] ^= 0x40;
    p = ev2;
    assert_int_equal(ingest_submit(f->ing, &p, &len2, 1, s_done, &d3), 0);
    s_run_until(f, &d3.calls, 1);
    assert_int_equal(d3.res[0].status, STORE_REJECTED);
    assert_int_equal(d3.res[0].reason, EVENT_E_SIG);
    free(ev);
    free(ev2);
}

typedef struct {
    pthread_t loop_thread;
    int order[3], n, off_loop;
    const char *miss;
} calls_t;

static calls_t s_calls;

static void s_call(store_t *store, void *arg)
{
    int k = (int)(intptr_t)arg;
    s_calls.order[s_calls.n++] = k;
    if (!pthread_equal(pthread_self(), s_calls.loop_thread)) s_calls.off_loop++;
    if (k == 1) assert_int_equal(store_miss_record(store, s_calls.miss), 0);
}

static int s_miss_found(const char *q, uint64_t count, uint64_t last_ms, void *arg)
{
    (void)last_ms;
    if (!strcmp(q, "quantum knitting") && count == 1) (*(int *)arg)++;
    return 0;
}

/* ingest_call runs writes on the writer thread, in the order they were
 * handed over, and they land in the store. */
static void test_calls_run_on_the_writer_in_order(void **state)
{
    fx_t *f = *state;
    memset(&s_calls, 0, sizeof s_calls);
    s_calls.loop_thread = pthread_self();
    s_calls.miss = "quantum knitting";
    for (int k = 0; k < 3; k++)
        assert_int_equal(ingest_call(f->ing, s_call, (void *)(intptr_t)k), 0);
    assert_int_equal(ingest_flush(f->ing), 0);
    assert_int_equal(s_calls.n, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(s_calls.order[k], k);
    assert_int_equal(s_calls.off_loop, 3);
    int found = 0;
    assert_int_equal(store_miss_each(f->store, s_miss_found, &found), 0);
    assert_int_equal(found, 1);
}

#ifdef TIPD_TEST_HOOKS
typedef struct {
    fx_t *f;
    done_t *d;
    int ticks_before_ack, reads_ok, saw_uncommitted;
} tick_t;

/* A loop timer: runs while the commit is held up, and reads the store. */
static void s_tick(loop_t *l, loop_timer_t *t, void *arg)
{
    tick_t *k = arg;
    (void)l;
    (void)t;
    if (k->d->calls) return;
    k->ticks_before_ack++;
    store_counts_t c;
    if (store_counts(k->f->store, &c) != 0) return;
    k->reads_ok++;
    if (c.events == 0) k->saw_uncommitted++; /* (the last ticks may see it committed) */
}
#endif

#ifdef TIPD_TEST_HOOKS
/* f's ingest made anew with the writer held ms milliseconds before every
 * commit (the test hook TIPD_TEST_COMMIT_DELAY). */
static void s_slow_commits(fx_t *f, const char *ms)
{
    ingest_destroy(&f->ing);
    setenv("TIPD_TEST_COMMIT_DELAY", ms, 1);
    f->ing = ingest_new(f->loop, f->store);
    unsetenv("TIPD_TEST_COMMIT_DELAY");
    assert_non_null(f->ing);
}
#endif

/* A commit that takes long (the delay hook holds the writer 500 ms before
 * each transaction) leaves the loop thread free: its timers run and it
 * reads the store meanwhile; the acknowledgement comes after the commit. */
static void test_slow_commit_leaves_the_loop_free(void **state)
{
#ifdef TIPD_TEST_HOOKS
    fx_t *f = *state;
    s_slow_commits(f, "500");
    size_t len;
    uint8_t *ev = s_event(f, 1, 0, &len);
    const uint8_t *p = ev;
    done_t d = {.f = f};
    tick_t k = {.f = f, .d = &d};
    loop_timer_t *t = loop_timer_add(f->loop, 5, 5, s_tick, &k);
    assert_int_equal(ingest_submit(f->ing, &p, &len, 1, s_done, &d), 0);
    s_run_until(f, &d.calls, 1);
    loop_timer_free(f->loop, t);
    assert_int_equal(d.res[0].status, STORE_NEW);
    assert_true(d.all_visible);
    assert_true(k.ticks_before_ack >= 3);
    assert_int_equal(k.reads_ok, k.ticks_before_ack);
    assert_true(k.saw_uncommitted >= 3);
    free(ev);
#else
    (void)state;
    skip();
#endif
}

#ifdef TIPD_TEST_HOOKS
/* Counts, per turn of the loop the test drives, the events reported. */
typedef struct {
    int turn, last_turn, turns;
    size_t in_turn, most_in_turn, events;
} slices_t;

static void s_on_slice(const uint8_t *const *evs, const size_t *lens, const store_result_t *r,
                       size_t n, void *arg)
{
    slices_t *sl = arg;
    (void)evs;
    (void)lens;
    (void)r;
    if (sl->turn != sl->last_turn) {
        sl->last_turn = sl->turn;
        sl->turns++;
        sl->in_turn = 0;
    }
    sl->in_turn += n;
    if (sl->in_turn > sl->most_in_turn) sl->most_in_turn = sl->in_turn;
    sl->events += n;
}
#endif

/* A big commit is reported a slice per loop turn, so that the loop serves
 * requests in between. The delay hook holds the first commit long enough
 * for the rest to be verified and committed together (one batch of nearly
 * N); every event is still reported and acknowledged exactly once. */
static void test_big_commit_is_reported_in_slices(void **state)
{
#ifdef TIPD_TEST_HOOKS
    fx_t *f = *state;
    s_slow_commits(f, "1000");
    enum { N = 3000, PER = 500 };
    static uint8_t *ev[N];
    static size_t len[N];
    for (int i = 0; i < N; i++) ev[i] = s_event(f, i, 0, &len[i]);
    slices_t sl = {.last_turn = -1};
    ingest_on_new(f->ing, s_on_slice, &sl);
    static done_t d[N / PER];
    for (int k = 0; k < N / PER; k++) {
        d[k].f = f;
        assert_int_equal(ingest_submit(f->ing, (const uint8_t *const *)&ev[k * PER], &len[k * PER],
                                       PER, s_done, &d[k]),
                         0);
    }
    int acked = 0;
    for (; sl.turn < 5000 && acked < N / PER; sl.turn++) {
        loop_once(f->loop, 10);
        acked = 0;
        for (int k = 0; k < N / PER; k++) acked += d[k].calls;
    }
    assert_int_equal(acked, N / PER);
    assert_int_equal(sl.events, N);
    assert_true(sl.most_in_turn <= INGEST_REPORT_SLICE);
    assert_true(sl.turns >= (N + INGEST_REPORT_SLICE - 1) / INGEST_REPORT_SLICE);
    for (int k = 0; k < N / PER; k++) {
        assert_int_equal(d[k].calls, 1);
        for (int i = 0; i < PER && i < 64; i++) assert_int_equal(d[k].res[i].status, STORE_NEW);
    }
    for (int i = 0; i < N; i++) free(ev[i]);
#else
    (void)state;
    skip();
#endif
}

static void test_empty_submission(void **state)
{
    fx_t *f = *state;
    done_t d = {.f = f};
    assert_int_equal(ingest_submit(f->ing, NULL, NULL, 0, s_done, &d), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_results_and_commit_before_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_and_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_batches_and_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_destroy_commit_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_submission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_event_is_not_verified_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_run_on_the_writer_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_commit_leaves_the_loop_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_commit_is_reported_in_slices, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
