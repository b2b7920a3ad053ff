/* test_fts_summary.c -- the synonyms' bitmaps (store/fts_summary.c, docs/
 * SEARCH.md "Pruning") on a real LMDB index: each bit is exactly a posting
 * of the term, after the index grows (read from where it was, not again),
 * after a retraction (read again), never for an older snapshot than the
 * bitmap's, and within the budget's slots, the one used longest ago going
 * first and none the current query holds; and what the warm makes ahead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "fts_int.h"

#define S_WORDS 40 /* more than FTS_PRES_SLOTS */

typedef struct {
    char *dir;
    MDB_env *env;
    fts_t *f;
    uint64_t next; /* tips indexed: tip i has docnum i + 1 */
    uint8_t gone[2048];
} fx_t;

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* Tip i's text: "display" in every third, "print" in every fifth, and
 * word w<k> (k < S_WORDS) in the tips whose number k divides. */
static void s_tip(event_t *ev, uint64_t i)
{
    char body[1024];
    size_t at = (size_t)snprintf(body, sizeof body, "A tip numbered %llu.", (unsigned long long)i);
    if (i % 3 == 0) at += (size_t)snprintf(body + at, sizeof body - at, " display it");
    if (i % 5 == 0) at += (size_t)snprintf(body + at, sizeof body - at, " print it");
    for (int k = 1; k < S_WORDS; k++)
        if (i % (uint64_t)k == 0) at += (size_t)snprintf(body + at, sizeof body - at, " w%dx", k);
    event_init(ev, EVENT_TIP);
    ev->created_at = 1795968000000ULL + i;
    memset(ev->id, 0, sizeof ev->id);
    memcpy(ev->id, &i, sizeof i);
    assert_int_equal(event_set_title(ev, "Numbered tip", 12), 0);
    assert_int_equal(event_set_body(ev, body, at), 0);
}

/* Index tips [from, to), or retract tip i when to is 0. */
static void s_write(fx_t *fx, uint64_t from, uint64_t to)
{
    MDB_txn *txn;
    event_t ev;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    if (to == 0) {
        s_tip(&ev, from);
        assert_int_equal(fts_unindex(fx->f, txn, &ev), 0);
        fx->gone[from] = 1;
    }
    for (uint64_t i = from; i < to; i++) {
        s_tip(&ev, i);
        assert_int_equal(fts_index(fx->f, txn, &ev), 0);
        fx->next = i + 1;
    }
    assert_int_equal(fts_flush(fx->f, txn), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = strdup("/tmp/tipd-fts-summary-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(mdb_env_create(&fx->env), 0);
    assert_int_equal(mdb_env_set_maxdbs(fx->env, 8), 0);
    assert_int_equal(mdb_env_set_mapsize(fx->env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(fx->env, fx->dir, MDB_NOTLS, 0600), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(fts_open(txn, &fx->f), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    fts_destroy(&fx->f);
    assert_null(fx->f);
    mdb_env_close(fx->env);
    nftw(fx->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(fx->dir);
    free(fx);
    return 0;
}

typedef struct {
    MDB_txn *txn;
    MDB_cursor *c;
    uint32_t limit;
    uint64_t docs;
} s_snap_t;

static void s_snap(fx_t *fx, s_snap_t *s)
{
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &s->txn), 0);
    assert_int_equal(mdb_cursor_open(s->txn, fx->f->post, &s->c), 0);
    fts_stats_t st;
    assert_int_equal(fts_stats_get(s->txn, fx->f->meta, &st), 0);
    s->limit = st.next_doc;
    s->docs = st.docs;
}

static void s_unsnap(s_snap_t *s)
{
    mdb_cursor_close(s->c);
    mdb_txn_abort(s->txn);
}

static const uint8_t *s_get(fx_t *fx, s_snap_t *s, const char *term)
{
    MDB_val k = {strlen(term), (void *)term};
    int err = -1;
    const uint8_t *b = fts_pres_get(fx->f, s->c, &k, s->limit, s->docs, &err);
    assert_int_equal(err, 0);
    return b;
}

/* Bits [0, limit) of b are exactly the live tips whose number every-th. */
static void s_exact(const fx_t *fx, const uint8_t *b, uint32_t limit, uint64_t every)
{
    assert_non_null(b);
    size_t set = 0;
    for (uint32_t d = 0; d < limit; d++) {
        bool want = d >= 1 && (d - 1) % every == 0 && !fx->gone[d - 1];
        bool got = (b[d >> 3] >> (d & 7)) & 1;
        if (want != got) fail_msg("docnum %u: bit %d, want %d", d, got, want);
        set += got;
    }
    assert_true(set > 0);
}

static void test_bitmap_exact_across_growth_and_retraction(void **state)
{
    fx_t *fx = *state;
    s_write(fx, 0, 600);
    s_snap_t a, b, c;
    s_snap(fx, &a);
    assert_int_equal(a.limit, 601);
    fts_pres_begin(fx->f);
    s_exact(fx, s_get(fx, &a, "display"), a.limit, 3);
    assert_int_equal(fx->f->pres_reads, 1);

    /* Growth: brought up to date from where it was, not read again. */
    s_write(fx, 600, 700);
    s_snap(fx, &b);
    fts_pres_begin(fx->f);
    s_exact(fx, s_get(fx, &b, "display"), b.limit, 3);
    assert_int_equal(fx->f->pres_reads, 1);
    /* The snapshot taken before the growth gets none: not exact for it. */
    assert_null(s_get(fx, &a, "display"));
    s_unsnap(&a);

    /* A retraction: read again, and the tip's bit is gone. */
    s_write(fx, 300, 0);
    s_snap(fx, &c);
    fts_pres_begin(fx->f);
    s_exact(fx, s_get(fx, &c, "display"), c.limit, 3);
    assert_int_equal(fx->f->pres_reads, 2);
    assert_false(s_get(fx, &c, "display")[301 >> 3] & (1u << (301 & 7)));
    /* And the snapshot from before the retraction gets none either. */
    assert_null(s_get(fx, &b, "display"));
    s_unsnap(&b);
    s_unsnap(&c);
}

static void test_slots_used_longest_ago_go_first(void **state)
{
    fx_t *fx = *state;
    s_write(fx, 0, 700);
    s_snap_t s;
    s_snap(fx, &s);
    char w[16];
    /* One query holds every slot: one more gets none, and nothing held
     * is dropped for it. */
    fts_pres_begin(fx->f);
    const uint8_t *held[FTS_PRES_SLOTS];
    for (int k = 1; k <= FTS_PRES_SLOTS; k++) {
        snprintf(w, sizeof w, "w%dx", k);
        held[k - 1] = s_get(fx, &s, w);
        s_exact(fx, held[k - 1], s.limit, (uint64_t)k);
    }
    snprintf(w, sizeof w, "w%dx", FTS_PRES_SLOTS + 1);
    assert_null(s_get(fx, &s, w));
    for (int k = 1; k <= FTS_PRES_SLOTS; k++) s_exact(fx, held[k - 1], s.limit, (uint64_t)k);
    assert_int_equal(fx->f->pres_reads, FTS_PRES_SLOTS);

    /* The next query: w2x used again, then a new word takes the slot of
     * the one used longest ago (w1x; all others were used as long ago,
     * and the first of them found goes). */
    fts_pres_begin(fx->f);
    s_exact(fx, s_get(fx, &s, "w2x"), s.limit, 2);
    snprintf(w, sizeof w, "w%dx", FTS_PRES_SLOTS + 1);
    s_exact(fx, s_get(fx, &s, w), s.limit, FTS_PRES_SLOTS + 1);
    assert_int_equal(fx->f->pres_reads, FTS_PRES_SLOTS + 1);
    s_exact(fx, s_get(fx, &s, "w2x"), s.limit, 2); /* still held */
    assert_int_equal(fx->f->pres_reads, FTS_PRES_SLOTS + 1);
    size_t kept = 0;
    for (size_t i = 0; i < FTS_PRES_SLOTS; i++) kept += fx->f->pres[i].bits != NULL;
    assert_int_equal(kept, FTS_PRES_SLOTS);
    s_unsnap(&s);
}

/* A warm's stop that says stop on its third call. */
static int s_stop_third(void *arg)
{
    return ++*(int *)arg == 3;
}

static void test_warm_makes_long_lists_ahead(void **state)
{
    fx_t *fx = *state;
    s_write(fx, 0, 1200); /* "numbered", "tip": 1,200 postings each */
    s_snap_t s;
    s_snap(fx, &s);
    /* Work arriving stops it between terms; called again, it goes on. */
    int calls = 0;
    assert_int_equal(fts_prepare(fx->f, s.txn, s_stop_third, &calls), 1);
    assert_int_equal(fx->f->nbounds, 2);
    assert_int_equal(fts_prepare(fx->f, s.txn, NULL, NULL), 0);
    /* Every list of FTS_BOUND_MIN_DF postings or more is summarised:
     * here the words every tip has (a, numbered, tip, w1x; "a" and the
     * title's words among them). */
    assert_int_equal(fx->f->nbounds, 4);
    /* The synonym table's words with long lists have bitmaps: display
     * (400 tips), print (240) and number (every tip: "numbered", of the
     * group count/number); read once, then found in place. */
    assert_int_equal(fx->f->pres_reads, 3);
    fts_pres_begin(fx->f);
    s_exact(fx, s_get(fx, &s, "display"), s.limit, 3);
    s_exact(fx, s_get(fx, &s, "print"), s.limit, 5);
    s_exact(fx, s_get(fx, &s, "number"), s.limit, 1);
    assert_int_equal(fx->f->pres_reads, 3);
    /* An emptied index forgets them. */
    fts_summary_clear(fx->f);
    assert_int_equal(fx->f->nbounds, 0);
    assert_int_equal(fx->f->pres_bytes, 0);
    s_unsnap(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bitmap_exact_across_growth_and_retraction, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_slots_used_longest_ago_go_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_warm_makes_long_lists_ahead, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
