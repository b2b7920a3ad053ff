/* test_fts_acc.c -- the exhaustive scorer's accumulator (store/fts_acc.c)
 * against a dense array indexed by docnum, the form it replaced: the same
 * tips in the order first met, the same sums bit for bit, the same word
 * masks; and cleared between queries, including after a table grown past
 * what it keeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fts_int.h"

#define S_DOCS (1u << 20)

typedef struct {
    float *score;
    uint32_t *mask;
    uint8_t *met;
    uint32_t *order;
    size_t n;
} s_dense_t;

static void s_dense_add(s_dense_t *d, uint32_t doc, float v, uint32_t bit)
{
    if (!d->met[doc]) {
        d->met[doc] = 1;
        d->order[d->n++] = doc;
    }
    d->score[doc] += v;
    d->mask[doc] |= bit;
}

static void s_dense_clear(s_dense_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        uint32_t doc = d->order[i];
        d->score[doc] = 0.0f;
        d->mask[doc] = 0;
        d->met[doc] = 0;
    }
    d->n = 0;
}

/* One query: terms postings each (docnums drawn from span, ascending per
 * term as the index gives them), added to both; then compared. */
static void s_query(fts_acc_t *a, s_dense_t *d, unsigned terms, unsigned postings, uint32_t span)
{
    for (unsigned t = 0; t < terms; t++) {
        uint32_t doc = (uint32_t)(rand() % 16);
        for (unsigned p = 0; p < postings && doc < span; p++) {
            float v = (float)(rand() % 1000) / 37.0f + 1e-3f;
            uint32_t bit = 1u << (t % 32);
            assert_int_equal(fts_acc_add(a, doc, v, bit), 0);
            s_dense_add(d, doc, v, bit);
            doc += 1 + (uint32_t)(rand() % (2 * span / postings + 1));
        }
    }
    assert_int_equal(a->n, d->n);
    for (size_t i = 0; i < d->n; i++) {
        uint32_t doc = d->order[i];
        assert_int_equal(a->ent[i].doc, doc);
        assert_memory_equal(&a->ent[i].score, &d->score[doc], sizeof(float));
        assert_int_equal(a->ent[i].mask, d->mask[doc]);
    }
    fts_acc_clear(a);
    s_dense_clear(d);
    assert_int_equal(a->n, 0);
}

static void test_same_as_dense(void **state)
{
    (void)state;
    srand(7);
    s_dense_t d = {calloc(S_DOCS, sizeof(float)), calloc(S_DOCS, sizeof(uint32_t)),
                   calloc(S_DOCS, 1), calloc(S_DOCS, sizeof(uint32_t)), 0};
    assert_non_null(d.score);
    assert_non_null(d.order);
    fts_acc_t a = {0};
    /* a query of one posting, then usual ones (a few thousand tips, which
     * grow the table past its first size), then one over long lists that
     * grows it past what is kept, then usual ones again */
    s_query(&a, &d, 1, 1, 100);
    for (int i = 0; i < 20; i++) s_query(&a, &d, 1 + (unsigned)(rand() % 8), 4000, 1000000);
    assert_true(a.cap >= 8192); /* grown, and kept after the clear */
    assert_non_null(a.idx);
    s_query(&a, &d, 6, 150000, S_DOCS);
    assert_int_equal(a.cap, 0); /* the big query's table was given back */
    assert_null(a.idx);
    for (int i = 0; i < 5; i++) s_query(&a, &d, 3, 3000, 1000000);
    /* repeats of one tip in one term still make one entry */
    for (int i = 0; i < 10; i++) assert_int_equal(fts_acc_add(&a, 42, 1.0f, 2), 0);
    assert_int_equal(a.n, 1);
    assert_true(a.ent[0].score == 10.0f);
    fts_acc_free(&a);
    fts_acc_free(&a); /* idempotent */
    assert_null(a.ent);
    assert_int_equal(fts_acc_prepare(&a), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(fts_acc_add(&a, 5, 2.0f, 1), 0);
    assert_int_equal(a.ent[0].doc, 5);
    fts_acc_free(&a);
    free(d.score);
    free(d.mask);
    free(d.met);
    free(d.order);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
