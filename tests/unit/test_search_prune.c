/* test_search_prune.c -- search with pruning returns exactly what scoring
 * every posting returns (store/fts_prune.c, docs/SEARCH.md "Pruning").
 *
 * A real store (store_ingest + store_search on LMDB in a temporary
 * directory) holds the tldr sample of tests/data four times over, the
 * copies varied the way bench-large varies them (" (v)" in the title, a
 * variant note in the body), so that common words have long posting lists
 * and many tips score almost alike. Some tips are then edited, retracted
 * and rated, and a fifth carry the imported mark, so the visibility
 * callback turns candidates down and priors reorder them. Random queries
 * made of the sample's own words (with stopwords, made-up words and typos
 * among them), with and without topic, kind and author filters, are run
 * with pruning (forced on for any list length) and with the index's switch
 * that scores every posting: the hits must be the same tips in the same
 * order with the same scores. Each is run a third time with the index's
 * records giving the visibility check no hints (FTS_DOC_*), so that it
 * reads every candidate's row, bytes and author entry: the same again.
 * More tips are added half-way, which brings the per-term summaries and
 * the synonyms' bitmaps up to date; then some are retracted, after which
 * each bitmap must be read again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "fts_int.h"
#include "store.h"
#include "store_int.h"

#define T0      1795968000000ULL
#define NSAMPLE 2733
#define NWORDS  4096

typedef struct {
    store_t *s;
    char *dir;
    uint8_t pk[2][32], sk[2][64];
    uint64_t ts;
    uint64_t rng;
    uint8_t (*ids)[EVENT_ID_LEN];
    size_t nids;
    char *words[NWORDS];
    size_t nwords;
} fx_t;

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static uint32_t s_rand(fx_t *fx)
{
    fx->rng ^= fx->rng << 13;
    fx->rng ^= fx->rng >> 7;
    fx->rng ^= fx->rng << 17;
    return (uint32_t)(fx->rng >> 16);
}

static int s_setup(void **state)
{
    if (sodium_init() < 0) return -1;
    fx_t *fx = calloc(1, sizeof *fx);
    fx->dir = strdup("/tmp/tipd-prune-test-XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    int err = 0;
    fx->s = store_new(fx->dir, NULL, &err);
    if (!fx->s) return -1;
    for (int k = 0; k < 2; k++) {
        uint8_t seed[32];
        memset(seed, k + 1, sizeof seed);
        crypto_sign_seed_keypair(fx->pk[k], fx->sk[k], seed);
    }
    fx->ts = T0;
    fx->rng = 0x9E3779B97F4A7C15ull;
    fx->ids = calloc(NSAMPLE * 6, EVENT_ID_LEN);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    store_destroy(&fx->s);
    nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < fx->nwords; i++) free(fx->words[i]);
    free(fx->ids);
    free(fx->dir);
    free(fx);
    return 0;
}

static void s_ingest(fx_t *fx, const uint8_t *const *ptr, size_t *lens, size_t n)
{
    static store_result_t res[256];
    assert_int_equal(
        store_ingest(fx->s, ptr, lens, n, T0 + 3600 * 1000, STORE_INGEST_VERIFIED, res), 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(res[i].status, STORE_NEW);
}

/* Remember the words of a title as query material. */
static void s_collect(fx_t *fx, const char *title)
{
    char w[32];
    size_t wl = 0;
    for (const char *p = title;; p++) {
        char ch = *p;
        bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (letter && wl < sizeof w - 1) {
            w[wl++] = ch;
            continue;
        }
        if (wl >= 2 && fx->nwords < NWORDS && s_rand(fx) % 4 == 0) {
            w[wl] = 0;
            fx->words[fx->nwords++] = strdup(w);
        }
        wl = 0;
        if (!ch) break;
    }
}

/* Ingest the sample once more; variant v > 0 is varied like bench-large's. */
static void s_load(fx_t *fx, int v)
{
    enum { BATCH = 256 };
    static uint8_t bufs[BATCH][EVENT_MAX_SIZE];
    static event_t ev;
    const uint8_t *ptr[BATCH];
    size_t lens[BATCH], nb = 0;
    const char *dir = getenv("TIPD_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/tldr-sample.jsonl", dir ? dir : "tests/data");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t lcap = 0;
    for (;;) {
        ssize_t r = getline(&line, &lcap, fp);
        if (r > 0) {
            json_t *o = json_loads(line, 0, NULL);
            assert_non_null(o);
            const char *title = json_string_value(json_object_get(o, "title"));
            const char *body = json_string_value(json_object_get(o, "body"));
            json_t *tp = json_object_get(o, "topics");
            char t[EVENT_MAX_TITLE + 1], b[4096];
            size_t tl = (size_t)snprintf(t, sizeof t, v ? "%.180s (%d)" : "%.180s", title, v);
            while (tl > 0 && ((unsigned char)t[tl] & 0xC0) == 0x80) tl--;
            size_t bl = (size_t)snprintf(
                b, sizeof b, v ? "%.3000s\n\nVariant %d of this tip." : "%.3000s", body, v);
            event_init(&ev, EVENT_TIP);
            ev.created_at = fx->ts++;
            assert_int_equal(event_set_title(&ev, t, tl), 0);
            assert_int_equal(event_set_body(&ev, b, bl), 0);
            for (size_t i = 0; i < json_array_size(tp); i++)
                (void)event_add_topic(&ev, json_string_value(json_array_get(tp, i)));
            int k = (int)(fx->nids % 7 == 3); /* a few tips by the second key */
            if (fx->nids % 5 == 1) assert_int_equal(event_set_imported(&ev, "tldr"), 0);
            assert_int_equal(event_sign(&ev, fx->sk[k]), 0);
            assert_int_equal(event_encode(&ev, bufs[nb], EVENT_MAX_SIZE, &lens[nb]), 0);
            ptr[nb] = bufs[nb];
            memcpy(fx->ids[fx->nids++], ev.id, EVENT_ID_LEN);
            if (v == 0) s_collect(fx, title);
            nb++;
            json_decref(o);
        }
        if (nb == BATCH || (r <= 0 && nb)) {
            s_ingest(fx, ptr, lens, nb);
            nb = 0;
        }
        if (r <= 0) break;
    }
    free(line);
    fclose(fp);
}

/* One event by key k acting on target (rating, thanks, retraction), or an
 * edit of target when kind is EVENT_TIP. */
static void s_act(fx_t *fx, int k, int kind, int value, const uint8_t *target)
{
    static event_t ev;
    static uint8_t buf[EVENT_MAX_SIZE];
    event_init(&ev, kind);
    ev.created_at = fx->ts++;
    if (kind == EVENT_TIP) {
        assert_int_equal(event_set_title(&ev, "Edited tip about files", 22), 0);
        assert_int_equal(event_set_body(&ev, "ls -la", 6), 0);
        assert_int_equal(event_add_ref(&ev, EVENT_REF_SUPERSEDES, target), 0);
    } else {
        ev.value = (uint8_t)value;
        assert_int_equal(event_add_ref(&ev, EVENT_REF_TARGET, target), 0);
    }
    assert_int_equal(event_sign(&ev, fx->sk[k]), 0);
    size_t len = 0;
    assert_int_equal(event_encode(&ev, buf, sizeof buf, &len), 0);
    const uint8_t *p = buf;
    s_ingest(fx, &p, &len, 1);
}

static void s_tune(fx_t *fx, const char *name, double v)
{
    assert_int_equal(fts_tune(fx->s->fts, name, v), 0);
}

/* Hits a[na] and b[nb] are the same tips in the same order with the same
 * scores; what names the second way in the message. */
static void s_equal(const char *q, size_t max, const char *what, const store_hit_t *a, size_t na,
                    const store_hit_t *b, size_t nb)
{
    if (na != nb) fail_msg("\"%s\" (max %zu): %zu hits pruned, %zu %s", q, max, na, nb, what);
    for (size_t i = 0; i < na; i++) {
        if (memcmp(a[i].id, b[i].id, EVENT_ID_LEN) || a[i].score != b[i].score)
            fail_msg("\"%s\" (max %zu): hit %zu differs %s (%.9g vs %.9g)", q, max, i, what,
                     a[i].score, b[i].score);
    }
}

/* The query q with both scoring paths, and pruned without the records'
 * hints: same hits, same order, same scores. */
static void s_same(fx_t *fx, const char *q, const store_search_opts_t *o, size_t max)
{
    static store_hit_t a[64], b[64];
    size_t na = 99, nb = 99;
    s_tune(fx, "prune", 1);
    assert_int_equal(store_search(fx->s, q, o, a, max, &na), 0);
    s_tune(fx, "prune", 0);
    assert_int_equal(store_search(fx->s, q, o, b, max, &nb), 0);
    s_equal(q, max, "exhaustive", a, na, b, nb);
    s_tune(fx, "prune", 1);
    s_tune(fx, "hints", 0);
    nb = 99;
    assert_int_equal(store_search(fx->s, q, o, b, max, &nb), 0);
    s_tune(fx, "hints", 1);
    s_equal(q, max, "without hints", a, na, b, nb);
}

/* n random queries of 1..6 words from the sample's titles; some words get
 * a typo, some are made up, some are stopwords. */
static void s_queries(fx_t *fx, int n)
{
    static const char *const extra[] = {"the", "how", "to", "a", "zqxwv", "tip", "variant", "of"};
    static const char *const topics[] = {"git", "common", "linux", "docker", "tar"};
    for (int i = 0; i < n; i++) {
        char q[512];
        size_t ql = 0;
        int nw = 1 + (int)(s_rand(fx) % 6);
        for (int w = 0; w < nw; w++) {
            const char *word =
                s_rand(fx) % 6 == 0 ? extra[s_rand(fx) % 8] : fx->words[s_rand(fx) % fx->nwords];
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%s", word);
            size_t tl = strlen(tmp);
            if (tl >= 5 && s_rand(fx) % 5 == 0) tmp[1 + s_rand(fx) % (tl - 2)] = 'q'; /* typo */
            ql += (size_t)snprintf(q + ql, sizeof q - ql, "%s%s", w ? " " : "", tmp);
        }
        store_search_opts_t o = {0};
        switch (s_rand(fx) % 8) {
        case 0:
            o.topics[0] = topics[s_rand(fx) % 5];
            break;
        case 1:
            o.author = fx->pk[1];
            break;
        case 2:
            o.kind = EVENT_TIP;
            break;
        default:
            break;
        }
        size_t max = s_rand(fx) % 4 == 0 ? 50 : 10;
        s_same(fx, q, &o, max);
        if (i % 16 == 0) s_same(fx, q, &o, 1);
    }
}

/* Count the index's doc records: all, with hints, imported, edits. */
static void s_hint_counts(fx_t *fx, size_t n[4])
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    memset(n, 0, 4 * sizeof n[0]);
    assert_int_equal(mdb_txn_begin(fx->s->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, fx->s->fts->doc, &c), 0);
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        fts_doc_t d;
        assert_true(v.mv_size >= sizeof d);
        memcpy(&d, v.mv_data, sizeof d);
        n[0]++;
        n[1] += (d.hints & FTS_DOC_KNOWN) != 0;
        n[2] += (d.hints & FTS_DOC_IMPORTED) != 0;
        n[3] += (d.hints & FTS_DOC_EDIT) != 0;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
}

/* How many terms of the index have FTS_BOUND_MIN_DF postings or more. */
static size_t s_long_lists(MDB_txn *txn, MDB_dbi post)
{
    MDB_cursor *c;
    assert_int_equal(mdb_cursor_open(txn, post, &c), 0);
    MDB_val k, v;
    size_t n = 0, df;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
        assert_int_equal(mdb_cursor_count(c, &df), 0);
        n += df >= FTS_BOUND_MIN_DF;
    }
    mdb_cursor_close(c);
    return n;
}

static void test_prune_matches_exhaustive(void **state)
{
    fx_t *fx = *state;
    for (int v = 0; v < 3; v++) s_load(fx, v);
    assert_int_equal(fx->nids, 3 * NSAMPLE);
    /* Edits, retractions, ratings and thanks on a deterministic spread. */
    for (size_t i = 0; i < fx->nids; i += 37) {
        int k = (int)(i % 7 == 3);
        switch ((i / 37) % 4) {
        case 0:
            s_act(fx, k, EVENT_TIP, 0, fx->ids[i]);
            break;
        case 1:
            s_act(fx, k, EVENT_RETRACT, 0, fx->ids[i]);
            break;
        case 2:
            s_act(fx, 1 - k, EVENT_RATING, 5, fx->ids[i]);
            break;
        default:
            s_act(fx, 1 - k, EVENT_THANKS, 0, fx->ids[i]);
            break;
        }
    }
    /* Every record carries its hints: the imported mark of the tips that
     * have it and are still live, and the edits (the comparison without
     * hints below is then not vacuous). */
    size_t n[4], imported = 0, edits = 0, retractions = 0;
    for (size_t i = 0; i < fx->nids; i++) {
        bool retracted = i % 37 == 0 && (i / 37) % 4 == 1;
        imported += i % 5 == 1 && !retracted;
        edits += i % 37 == 0 && (i / 37) % 4 == 0;
        retractions += retracted;
    }
    s_hint_counts(fx, n);
    assert_int_equal(n[0], fx->nids + edits - retractions);
    assert_int_equal(n[1], n[0]);
    assert_int_equal(n[2], imported);
    assert_int_equal(n[3], edits);
    s_tune(fx, "prune_min", 0); /* prune whatever the lists' length */
    /* What a start's warm makes ahead: summaries of the long lists and the
     * longest synonyms' bitmaps, which the queries below then use. */
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->s->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(fts_prepare(fx->s->fts, txn, NULL, NULL), 0);
    size_t nlong = s_long_lists(txn, fx->s->fts->post);
    mdb_txn_abort(txn);
    assert_true(nlong > 0);
    assert_int_equal(fx->s->fts->nbounds, nlong); /* every one summarised */
    assert_true(fx->s->fts->pres_reads > 5);
    fx->s->fts->pruned = 0;
    s_queries(fx, 200);
    /* The index grows: summaries made above are brought up to date. */
    s_load(fx, 3);
    s_queries(fx, 150);
    /* Retractions: a bitmap read before them no longer holds (a tip gone
     * and a new one could make the same counts), so each is read again. */
    uint64_t reads = fx->s->fts->pres_reads;
    for (size_t i = 5; i < fx->nids; i += 101)
        if (i % 37) s_act(fx, (int)(i % 7 == 3), EVENT_RETRACT, 0, fx->ids[i]);
    s_queries(fx, 100);
    assert_true(fx->s->fts->pres_reads > reads);
    /* With feedback on, both of its passes prune. */
    s_tune(fx, "prf", 0.3);
    s_queries(fx, 50);
    s_tune(fx, "prf", 0);
    /* Without names retrieved as terms of their own (on by default). */
    s_tune(fx, "part", 0);
    s_queries(fx, 50);
    s_tune(fx, "part", 0.3);
    /* Fixed cases: common words only, a whole-topic query, one word. */
    s_same(fx, "list files in a directory", NULL, 10);
    s_same(fx, "tar", NULL, 10);
    s_same(fx, "variant tip", NULL, 50);
    s_same(fx, "file", NULL, 1);
    /* Pruning did leave tips out (the comparison above is not vacuous). */
    assert_true(fx->s->fts->pruned > 1000);
    /* Synonyms were looked up in bitmaps (and the comparison covers them). */
    assert_true(fx->s->fts->pres_looks > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prune_matches_exhaustive, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
