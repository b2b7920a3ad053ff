/* test_store_release.c -- store_release_memory(): the store closes and
 * reopens its LMDB environment to free what big write transactions left
 * allocated (docs/PERFORMANCE.md, Memory). Real LMDB in temporary
 * directories, real signed events.
 *
 * What must hold: everything stored, every index and the full-text index
 * read back the same after a release; ingest goes on (new events new, old
 * ones duplicates); a grown map keeps its size; a read-only store can
 * release too; and if the reopen fails (the directory vanished), every call
 * returns an error instead of crashing, until a later release reopens it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_store_util.h"

enum { N = 600, BATCH = 300 };

static raw_t *s_make(void)
{
    raw_t *r = calloc(N, sizeof *r);
    assert_non_null(r);
    char title[96];
    for (int i = 0; i < N; i++) {
        snprintf(title, sizeof title, "tip %d on releasing memory %s", i,
                 i % 10 ? "after batches" : "of lighthouses");
        r[i] = s_tip(i % 2 ? &A : &B, T0 + (uint64_t)i, title, i % 3 ? "lmdb" : "memory");
    }
    return r;
}

static void s_free_all(raw_t *r)
{
    for (int i = 0; i < N; i++) s_free(&r[i]);
    free(r);
}

static size_t s_find(store_t *s, const char *q, store_hit_t *hits, size_t max)
{
    size_t n = 0;
    assert_int_equal(store_search(s, q, NULL, hits, max, &n), 0);
    return n;
}

static int s_miss_count(const char *query, uint64_t count, uint64_t last_ms, void *arg)
{
    (void)last_ms;
    assert_string_equal(query, "kubernetes");
    assert_int_equal(count, 1);
    (*(int *)arg)++;
    return 0;
}

static void test_release_keeps_everything(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open_opts(dir, 64 << 10, 1); /* grows on MAP_FULL */
    raw_t *r = s_make();
    for (int i = 0; i < N; i += BATCH) s_ingest(s, r + i, BATCH, NULL);
    assert_int_equal(store_miss_record(s, "kubernetes"), 0);

    store_hit_t before[20], after[20];
    size_t nb = s_find(s, "lighthouses", before, 20);
    assert_int_equal(nb, 20); /* 60 tips match; the top 20 come back */
    store_filter_t lmdb = {.topic = "lmdb"};
    ids_t lb = s_list(s, &lmdb, 50);
    size_t map = store_map_size(s);
    assert_true(map > 64 << 10);

    assert_int_equal(store_release_memory(s, 0), 0);

    assert_int_equal(store_map_size(s), map);
    store_counts_t c;
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, N);
    assert_int_equal(c.tips, N);
    for (int i = 0; i < N; i += 7) assert_int_equal(store_has(s, r[i].id), 1);
    assert_int_equal(s_items(s).n, N);
    ids_t la = s_list(s, &lmdb, 50);
    assert_int_equal(la.n, lb.n);
    assert_memory_equal(la.ids, lb.ids, sizeof la.ids);
    assert_int_equal(s_find(s, "lighthouses", after, 20), nb);
    for (size_t i = 0; i < nb; i++) {
        assert_memory_equal(after[i].id, before[i].id, EVENT_ID_LEN);
        assert_true(after[i].score == before[i].score);
    }

    /* Ingest goes on: old events are duplicates, new ones are new and
     * searchable. */
    store_result_t res[2];
    raw_t fresh = s_tip(&C, T0 + N, "a brand new lighthouse keeper", "memory");
    raw_t two[2] = {r[5], fresh};
    s_ingest(s, two, 2, res);
    assert_int_equal(res[0].status, STORE_DUP);
    assert_int_equal(res[1].status, STORE_NEW);
    assert_int_equal(s_find(s, "keeper", after, 20), 1);
    assert_memory_equal(after[0].id, fresh.id, EVENT_ID_LEN);

    /* Twice in a row is fine; then a plain reopen sees it all. */
    assert_int_equal(store_release_memory(s, 0), 0);
    assert_int_equal(store_release_memory(s, 0), 0);
    store_destroy(&s);
    s = s_open(dir, 0);
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, N + 1);
    int found = 0;
    assert_int_equal(store_miss_each(s, s_miss_count, &found), 0);
    assert_int_equal(found, 1);
    store_destroy(&s);

    s_free(&fresh);
    s_free_all(r);
    s_rmdir(dir);
}

static void test_release_read_only(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "read only lighthouse", "x");
    s_one(s, &t);
    store_destroy(&s);

    store_opts_t ro = {.read_only = 1};
    int err = 1;
    s = store_new(dir, &ro, &err);
    assert_non_null(s);
    assert_int_equal(store_release_memory(s, 0), 0);
    assert_int_equal(store_has(s, t.id), 1);
    store_hit_t h[4];
    assert_int_equal(s_find(s, "lighthouse", h, 4), 1);
    store_destroy(&s);
    s_free(&t);
    s_rmdir(dir);
}

/* The reopen fails when the directory is gone: calls fail cleanly, and a
 * later release that can reopen brings the store back. */
static void test_release_failure_is_safe(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    char moved[256];
    snprintf(moved, sizeof moved, "%s.moved", dir);
    store_t *s = s_open(dir, 0);
    raw_t t = s_tip(&A, T0, "survives a failed reopen", "x");
    s_one(s, &t);

    assert_int_equal(rename(dir, moved), 0);
    assert_int_equal(store_release_memory(s, 0), STORE_E_IO);
    assert_true(store_has(s, t.id) < 0);
    store_counts_t c;
    assert_true(store_counts(s, &c) < 0);
    store_hit_t h[4];
    size_t n = 9;
    assert_true(store_search(s, "reopen", NULL, h, 4, &n) < 0);
    assert_int_equal(n, 0);
    raw_t u = s_tip(&B, T0 + 1, "not stored while closed", "x");
    store_result_t res = {0};
    assert_true(
        store_ingest(s, (const uint8_t *const *)&u.buf, &u.len, 1, T0 + 86400000ULL, 0, &res) < 0);
    assert_int_equal(store_map_size(s), 0);
    assert_int_equal(store_release_memory(s, 0), STORE_E_IO); /* still gone */

    assert_int_equal(rename(moved, dir), 0);
    assert_int_equal(store_release_memory(s, 0), 0);
    assert_int_equal(store_has(s, t.id), 1);
    s_one(s, &u);
    assert_int_equal(store_counts(s, &c), 0);
    assert_int_equal(c.events, 2);
    assert_int_equal(s_find(s, "reopen", h, 4), 1);
    store_destroy(&s);
    store_destroy(&s); /* idempotent */
    assert_int_equal(store_release_memory(NULL, 0), STORE_E_ARG);
    s_free(&t);
    s_free(&u);
    s_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    s_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_keeps_everything),
        cmocka_unit_test(test_release_read_only),
        cmocka_unit_test(test_release_failure_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
