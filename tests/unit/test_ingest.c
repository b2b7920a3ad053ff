/* test_ingest.c -- cmocka tests of group commit (daemon/ingest.c) on a real
 * LMDB store, the real loop and the real verify threads: results per event,
 * rejections that store nothing, acknowledgement only after commit, the
 * on_new listener, re-entrant submits, flush and destroy with work queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
