/* test_search.c -- ranked search through the real store (store_ingest +
 * store_search on LMDB in a temporary directory, real signed events).
 *
 * Small hand-made corpora check each ranking rule on its own: a title match
 * outranks a body match, topics are searchable and filter, retracted and
 * superseded tips disappear, ratings lift an otherwise equal tip, kind and
 * author filters, Korean and Chinese text is findable, stopword-only
 * queries still work. Then the tldr sample in tests/data (real text) must
 * put the expected page first for a few plain how-to questions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <lmdb.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "fts.h"
#include "store.h"
#include "store_int.h"

#define T0 1795968000000ULL /* fixed base for created_at */

typedef struct {
    uint8_t pk[32], sk[64];
} key_t_;

typedef struct {
    store_t *s;
    char *dir;
    key_t_ a, b;
    uint64_t ts;
} fx_t;

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void s_key(key_t_ *k, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static int s_setup(void **state)
{
    if (sodium_init() < 0) return -1;
    fx_t *fx = calloc(1, sizeof *fx);
    fx->dir = strdup("/tmp/tipd-search-test-XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    int err = 0;
    fx->s = store_new(fx->dir, NULL, &err);
    if (!fx->s) return -1;
    s_key(&fx->a, 1);
    s_key(&fx->b, 2);
    fx->ts = T0;
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    store_destroy(&fx->s);
    nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Sign ev with k and ingest it; the event must be accepted. */
static void s_put(fx_t *fx, event_t *ev, const key_t_ *k)
{
    static uint8_t buf[EVENT_MAX_SIZE];
    size_t len = 0;
    ev->created_at = fx->ts++;
    assert_int_equal(event_sign(ev, k->sk), 0);
    assert_int_equal(event_encode(ev, buf, sizeof buf, &len), 0);
    const uint8_t *p = buf;
    store_result_t res;
    assert_int_equal(store_ingest(fx->s, &p, &len, 1, T0 + 3600 * 1000, 0, &res), 0);
    assert_int_equal(res.status, STORE_NEW);
}

/* Add a tip (or question) and return its id in id. topics: NULL-terminated. */
static void s_tip(fx_t *fx, const key_t_ *k, int kind, const char *title, const char *body,
                  const char *const *topics, uint8_t id[EVENT_ID_LEN])
{
    static event_t ev;
    event_init(&ev, kind);
    assert_int_equal(event_set_title(&ev, title, strlen(title)), 0);
    assert_int_equal(event_set_body(&ev, body, strlen(body)), 0);
    for (int i = 0; topics && topics[i]; i++) assert_int_equal(event_add_topic(&ev, topics[i]), 0);
    s_put(fx, &ev, k);
    memcpy(id, ev.id, EVENT_ID_LEN);
}

static void s_act(fx_t *fx, const key_t_ *k, int kind, int value, const uint8_t *target)
{
    static event_t ev;
    event_init(&ev, kind);
    ev.value = (uint8_t)value;
    assert_int_equal(event_add_ref(&ev, EVENT_REF_TARGET, target), 0);
    s_put(fx, &ev, k);
}

static size_t s_search(fx_t *fx, const char *q, const store_search_opts_t *o, store_hit_t *hits,
                       size_t max)
{
    size_t n = 99;
    assert_int_equal(store_search(fx->s, q, o, hits, max, &n), 0);
    assert_true(n <= max);
    for (size_t i = 1; i < n; i++) assert_true(hits[i - 1].score >= hits[i].score);
    return n;
}

static int s_has(const store_hit_t *hits, size_t n, const uint8_t *id)
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(hits[i].id, id, EVENT_ID_LEN)) return (int)i + 1;
    return 0;
}

/* q finds exactly two tips, first strictly above second. */
static void s_above(fx_t *fx, const char *q, const uint8_t *first, const uint8_t *second)
{
    store_hit_t h[10];
    assert_int_equal(s_search(fx, q, NULL, h, 10), 2);
    assert_memory_equal(h[0].id, first, EVENT_ID_LEN);
    assert_memory_equal(h[1].id, second, EVENT_ID_LEN);
    assert_true(h[0].score > h[1].score);
}

/* q finds exactly one tip, id. */
static void s_only(fx_t *fx, const char *q, const uint8_t *id)
{
    store_hit_t h[10];
    assert_int_equal(s_search(fx, q, NULL, h, 10), 1);
    assert_memory_equal(h[0].id, id, EVENT_ID_LEN);
}

static void test_title_outranks_body(void **state)
{
    fx_t *fx = *state;
    uint8_t a[32], b[32], c[32];
    /* Body first, so the title hit cannot win on recency. */
    s_tip(fx, &fx->a, EVENT_TIP, "Clean up old kernels", "you can extract an archive later", NULL,
          b);
    s_tip(fx, &fx->a, EVENT_TIP, "Extract an archive", "tar xf file.tar", NULL, a);
    s_tip(fx, &fx->a, EVENT_TIP, "Restart the printer", "lpadmin -x printer", NULL, c);
    s_above(fx, "extract archive", a, b);
    /* Stemming: other word forms find the same tips. */
    store_hit_t h[10];
    size_t n = s_search(fx, "Extracting ARCHIVES", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, a, 32);
    /* Nothing matches: no hits, no error. */
    assert_int_equal(s_search(fx, "zebra quokka", NULL, h, 10), 0);
    assert_int_equal(s_search(fx, "", NULL, h, 10), 0);
    assert_int_equal(s_search(fx, " ... !!", NULL, h, 10), 0);
    /* max bounds the hits. */
    n = s_search(fx, "extract archive", NULL, h, 1);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, a, 32);
}

static void test_topics(void **state)
{
    fx_t *fx = *state;
    uint8_t g1[32], g2[32], d1[32], dg[32];
    const char *git[] = {"git", NULL}, *docker[] = {"docker", NULL};
    const char *both[] = {"docker", "git", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "List branches", "git branch -a", git, g1);
    s_tip(fx, &fx->a, EVENT_TIP, "List tags", "git tag", git, g2);
    s_tip(fx, &fx->a, EVENT_TIP, "List containers", "docker ps", docker, d1);
    s_tip(fx, &fx->b, EVENT_TIP, "List images built from a repository", "docker images", both, dg);
    store_hit_t h[10];
    /* Topics are searchable as words... */
    size_t n = s_search(fx, "docker", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_true(s_has(h, n, d1) && s_has(h, n, dg));
    /* ...and filter: every listed topic must be present. */
    store_search_opts_t o = {.topics = {"git", NULL}};
    n = s_search(fx, "list", &o, h, 10);
    assert_int_equal(n, 3);
    assert_true(s_has(h, n, g1) && s_has(h, n, g2) && s_has(h, n, dg));
    store_search_opts_t o2 = {.topics = {"git", "docker", NULL}};
    n = s_search(fx, "list", &o2, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, dg, 32);
    store_search_opts_t o3 = {.topics = {"nosuchtopic", NULL}};
    assert_int_equal(s_search(fx, "list", &o3, h, 10), 0);
    /* Author filter. */
    store_search_opts_t o4 = {.author = fx->b.pk};
    n = s_search(fx, "list", &o4, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, dg, 32);
}

static void test_retract_and_supersede(void **state)
{
    fx_t *fx = *state;
    uint8_t a[32], b[32], v2[32];
    s_tip(fx, &fx->a, EVENT_TIP, "Flush the DNS cache", "resolvectl flush-caches", NULL, a);
    s_tip(fx, &fx->b, EVENT_TIP, "Flush DNS on a Mac", "dscacheutil -flushcache", NULL, b);
    store_hit_t h[10];
    assert_int_equal(s_search(fx, "flush dns cache", NULL, h, 10), 2);
    /* A retraction by someone else has no effect... */
    s_act(fx, &fx->b, EVENT_RETRACT, 0, a);
    assert_int_equal(s_search(fx, "flush dns cache", NULL, h, 10), 2);
    /* ...by the author, the tip is gone. */
    s_act(fx, &fx->a, EVENT_RETRACT, 0, a);
    size_t n = s_search(fx, "flush dns cache", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, b, 32);
    assert_int_equal(s_search(fx, "resolvectl", NULL, h, 10), 0);
    /* An edit replaces the old version in results. */
    static event_t ev;
    event_init(&ev, EVENT_TIP);
    assert_int_equal(event_set_title(&ev, "Flush DNS on macOS", 18), 0);
    assert_int_equal(event_set_body(&ev, "sudo killall -HUP mDNSResponder", 31), 0);
    assert_int_equal(event_add_ref(&ev, EVENT_REF_SUPERSEDES, b), 0);
    s_put(fx, &ev, &fx->b);
    memcpy(v2, ev.id, 32);
    n = s_search(fx, "flush dns", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, v2, 32);
    assert_int_equal(s_search(fx, "dscacheutil", NULL, h, 10), 0);
}

/* Searches whose candidates are mostly or all invisible must walk them to
 * the end and stop (the walk is bounded, docs/SEARCH.md "Bounded work"):
 * 150 tips, more than phase 1 looks at, each superseded by an edit that no
 * longer says "widget"; then 20 of the edits retracted, which brings their
 * originals back. */
static void test_invisible_candidates(void **state)
{
    fx_t *fx = *state;
    static event_t ev;
    uint8_t orig[150][32], edits[150][32];
    char title[64];
    for (int i = 0; i < 150; i++) {
        snprintf(title, sizeof title, "Restart the widget service %d", i);
        s_tip(fx, &fx->a, EVENT_TIP, title, "systemctl restart widget", NULL, orig[i]);
        event_init(&ev, EVENT_TIP);
        snprintf(title, sizeof title, "Restart the gizmo service %d", i);
        assert_int_equal(event_set_title(&ev, title, strlen(title)), 0);
        assert_int_equal(event_set_body(&ev, "systemctl restart gizmo", 23), 0);
        assert_int_equal(event_add_ref(&ev, EVENT_REF_SUPERSEDES, orig[i]), 0);
        s_put(fx, &ev, &fx->a);
        memcpy(edits[i], ev.id, 32);
    }
    static store_hit_t h[200];
    /* Every candidate is a superseded original. */
    assert_int_equal(s_search(fx, "widget", NULL, h, 10), 0);
    assert_int_equal(s_search(fx, "widget", NULL, h, 1), 0);
    /* Originals and edits match; only the 150 edits come back. */
    size_t n = s_search(fx, "restart service", NULL, h, 200);
    assert_int_equal(n, 150);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < 150; j++) found |= !memcmp(h[i].id, edits[j], 32);
        assert_true(found);
    }
    assert_int_equal(s_search(fx, "restart service", NULL, h, 1), 1);
    /* An author filter nobody matches: all 300 candidates are walked. */
    store_search_opts_t o = {.author = fx->b.pk};
    assert_int_equal(s_search(fx, "restart service", &o, h, 10), 0);
    /* A long query: terms beyond the cap are dropped, the first still finds. */
    char q[2048];
    size_t ql = (size_t)snprintf(q, sizeof q, "gizmo");
    for (int i = 0; i < 200 && ql + 12 < sizeof q; i++)
        ql += (size_t)snprintf(q + ql, sizeof q - ql, " zq%dx", i);
    assert_int_equal(s_search(fx, q, NULL, h, 200), 150);
    /* Retracting an edit brings its original back: exactly those 20. */
    for (int i = 0; i < 20; i++) s_act(fx, &fx->a, EVENT_RETRACT, 0, edits[i * 7]);
    n = s_search(fx, "widget", NULL, h, 200);
    assert_int_equal(n, 20);
    for (int i = 0; i < 20; i++) assert_true(s_has(h, n, orig[i * 7]));
    assert_int_equal(s_search(fx, "restart service", NULL, h, 200), 150);
    assert_int_equal(s_search(fx, "gizmo", NULL, h, 200), 130);
}

/* A tip and its retraction in one batch: the postings queued for the tip
 * in that transaction must be written before they are removed. */
static void test_retract_in_same_batch(void **state)
{
    fx_t *fx = *state;
    static event_t ev[3];
    static uint8_t buf[3][EVENT_MAX_SIZE];
    const uint8_t *p[3];
    size_t len[3];
    event_init(&ev[0], EVENT_TIP);
    assert_int_equal(event_set_title(&ev[0], "Rotate the logs", 15), 0);
    event_init(&ev[1], EVENT_TIP);
    assert_int_equal(event_set_title(&ev[1], "Rotate the keys", 15), 0);
    for (int i = 0; i < 2; i++) {
        ev[i].created_at = fx->ts++;
        assert_int_equal(event_sign(&ev[i], fx->a.sk), 0);
    }
    event_init(&ev[2], EVENT_RETRACT);
    assert_int_equal(event_add_ref(&ev[2], EVENT_REF_TARGET, ev[0].id), 0);
    ev[2].created_at = fx->ts++;
    assert_int_equal(event_sign(&ev[2], fx->a.sk), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(event_encode(&ev[i], buf[i], sizeof buf[i], &len[i]), 0);
        p[i] = buf[i];
    }
    store_result_t res[3];
    assert_int_equal(store_ingest(fx->s, p, len, 3, T0 + 3600 * 1000, 0, res), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(res[i].status, STORE_NEW);
    store_hit_t h[10];
    size_t n = s_search(fx, "rotate", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, ev[1].id, 32);
    assert_int_equal(s_search(fx, "logs", NULL, h, 10), 0);
    /* A later batch still appends to the same terms. */
    uint8_t id[32];
    s_tip(fx, &fx->b, EVENT_TIP, "Rotate nginx logs daily", "logrotate", NULL, id);
    n = s_search(fx, "rotate", NULL, h, 10);
    assert_int_equal(n, 2);
    n = s_search(fx, "logs", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, id, 32);
}

static void test_rating_lifts_equal_tip(void **state)
{
    fx_t *fx = *state;
    uint8_t older[32], newer[32];
    const char *t[] = {"ssh", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "Forward a local port over ssh", "ssh -L 8080:localhost:80 host",
          t, older);
    s_tip(fx, &fx->b, EVENT_TIP, "Forward a local port over ssh", "ssh -L 8080:localhost:80 host",
          t, newer);
    store_hit_t h[10];
    /* Equal text: the newer one comes first, with the same score. */
    size_t n = s_search(fx, "forward port", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, newer, 32);
    assert_true(h[0].score == h[1].score);
    /* Good ratings and thanks lift the older one above it. */
    key_t_ r;
    for (uint8_t i = 0; i < 3; i++) {
        s_key(&r, (uint8_t)(10 + i));
        s_act(fx, &r, EVENT_RATING, 5, older);
    }
    s_act(fx, &fx->b, EVENT_THANKS, 0, older);
    s_above(fx, "forward port", older, newer);
    /* A poor rating never pushes a tip below an unrated equal one. */
    s_key(&r, 20);
    s_act(fx, &r, EVENT_RATING, 1, newer);
    n = s_search(fx, "forward port", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, older, 32);
    assert_true(h[1].score > 0);
}

/* An edit has no ratings of its own: it ranks by those of its edit chain
 * (a version's row is read from its bytes when it has none, and they say
 * that it edits an earlier one). */
static void test_edit_keeps_chain_ratings(void **state)
{
    fx_t *fx = *state;
    uint8_t older[32], other[32], v2[32];
    const char *title = "Forward a local port over ssh", *body = "ssh -L 8080:localhost:80 host";
    s_tip(fx, &fx->a, EVENT_TIP, title, body, NULL, older);
    s_tip(fx, &fx->b, EVENT_TIP, title, body, NULL, other);
    key_t_ r;
    for (uint8_t i = 0; i < 3; i++) {
        s_key(&r, (uint8_t)(10 + i));
        s_act(fx, &r, EVENT_RATING, 5, older);
    }
    static event_t ev;
    event_init(&ev, EVENT_TIP);
    assert_int_equal(event_set_title(&ev, title, strlen(title)), 0);
    assert_int_equal(event_set_body(&ev, body, strlen(body)), 0);
    assert_int_equal(event_add_ref(&ev, EVENT_REF_SUPERSEDES, older), 0);
    s_put(fx, &ev, &fx->a);
    memcpy(v2, ev.id, 32);
    /* Same text as the other tip, and newer: only the chain's ratings can
     * put it strictly above. */
    s_above(fx, "forward port", v2, other);
}

static void test_kinds(void **state)
{
    fx_t *fx = *state;
    uint8_t tip[32], q[32];
    s_tip(fx, &fx->a, EVENT_TIP, "Rotate nginx logs", "logrotate -f /etc/logrotate.conf", NULL,
          tip);
    s_tip(fx, &fx->b, EVENT_QUESTION, "How do I rotate logs?", "nginx fills the disk", NULL, q);
    store_hit_t h[10];
    assert_int_equal(s_search(fx, "rotate logs", NULL, h, 10), 2);
    store_search_opts_t o = {.kind = EVENT_QUESTION};
    size_t n = s_search(fx, "rotate logs", &o, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, q, 32);
    o.kind = EVENT_TIP;
    n = s_search(fx, "rotate logs", &o, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, tip, 32);
}

static void test_cjk_findable(void **state)
{
    fx_t *fx = *state;
    uint8_t ko[32], zh[32], en[32];
    s_tip(fx, &fx->a, EVENT_TIP, "tar: 압축 파일 해제하기", "tar xf 파일.tar", NULL, ko);
    s_tip(fx, &fx->a, EVENT_TIP, "tar: 解压缩文件", "tar xf 文件.tar", NULL, zh);
    s_tip(fx, &fx->a, EVENT_TIP, "Extract a file", "tar xf file.tar", NULL, en);
    store_hit_t h[10];
    s_only(fx, "압축", ko);
    s_only(fx, "해제", ko);
    s_only(fx, "解压", zh);
    s_only(fx, "文件", zh);
    assert_int_equal(s_search(fx, "tar", NULL, h, 10), 3);
}

/* Search with the correction output; returns the hit count, *fixed gets
 * the corrected query ("" if none). */
static size_t s_search_fix(fx_t *fx, const char *q, store_hit_t *hits, size_t max, char *fixed,
                           size_t cap)
{
    store_search_opts_t o = {.fixed = fixed, .fixed_cap = cap};
    memset(fixed, 'x', cap); /* must be overwritten */
    return s_search(fx, q, &o, hits, max);
}

/* A word the index lacks is corrected within the bound of its length: one
 * edit from 5 characters, two from 9, none below 5; beyond the bound
 * nothing is found. */
static void test_typo_bounds(void **state)
{
    fx_t *fx = *state;
    uint8_t ex[32], cf[32], gz[32];
    s_tip(fx, &fx->a, EVENT_TIP, "Extract a tarball", "tar xzf backup.tar.gz", NULL, ex);
    s_tip(fx, &fx->a, EVENT_TIP, "Show the network configuration", "ip addr show", NULL, cf);
    s_tip(fx, &fx->a, EVENT_TIP, "Compress with gzip", "gzip -9 file", NULL, gz);
    store_hit_t h[10];
    char fx_q[256];
    /* Exact words: no correction. */
    assert_int_equal(s_search_fix(fx, "extract tarball", h, 10, fx_q, sizeof fx_q), 1);
    assert_string_equal(fx_q, "");
    /* One transposition in a 7-letter word. */
    size_t n = s_search_fix(fx, "extarct a tarball", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, ex, 32);
    assert_string_equal(fx_q, "extract a tarball");
    /* One deletion, one insertion, one substitution. */
    assert_int_equal(s_search_fix(fx, "extrct", h, 10, fx_q, sizeof fx_q), 1);
    assert_string_equal(fx_q, "extract");
    assert_int_equal(s_search_fix(fx, "extraact", h, 10, fx_q, sizeof fx_q), 1);
    assert_int_equal(s_search_fix(fx, "extrabt", h, 10, fx_q, sizeof fx_q), 1);
    assert_memory_equal(h[0].id, ex, 32);
    /* Two edits in a 6-letter word are beyond the bound: nothing. */
    assert_int_equal(s_search_fix(fx, "extrkt", h, 10, fx_q, sizeof fx_q), 0);
    assert_string_equal(fx_q, "");
    /* Two edits (two transpositions) in a 13-letter word are within it. */
    n = s_search_fix(fx, "cofnigruation", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, cf, 32);
    /* Three are not. */
    assert_int_equal(s_search_fix(fx, "cofnirguation", h, 10, fx_q, sizeof fx_q), 0);
    /* A 4-letter word is not corrected, so nothing is found, but the
     * search says what was probably meant. */
    assert_int_equal(s_search_fix(fx, "gzpi", h, 10, fx_q, sizeof fx_q), 0);
    assert_string_equal(fx_q, "gzip");
    n = s_search_fix(fx, "gzip", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, gz, 32);
    /* Nothing near: no suggestion either. */
    assert_int_equal(s_search_fix(fx, "zebra quokka", h, 10, fx_q, sizeof fx_q), 0);
    assert_string_equal(fx_q, "");
}

/* A tip holding the word as typed always ranks above one holding only a
 * correction of it, however much better the other matches. */
static void test_exact_beats_correction(void **state)
{
    fx_t *fx = *state;
    uint8_t exact[32], near[32];
    const char *t[] = {"colors", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "Change the colors of the prompt colors", "PS1 colors prompt", t,
          near);
    s_tip(fx, &fx->a, EVENT_TIP, "Shell tricks", "a long body about many things and the coloes",
          NULL, exact);
    store_hit_t h[10];
    char fx_q[256];
    /* "coloes" is a word of the second tip: no correction, so only that
     * tip is found, not the one with "colors" one edit away. */
    size_t n = s_search_fix(fx, "coloes", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, exact, 32);
    assert_string_equal(fx_q, "");
    /* "colorz" is in no tip: corrected to "colors", which finds the first. */
    n = s_search_fix(fx, "colorz", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, near, 32);
    assert_string_equal(fx_q, "color");
    /* Of two words, the exact one weighs more than the corrected one: a
     * tip matching "prompt" exactly beats one matching the correction of
     * "shelll" equally often. */
    uint8_t p[32], sh[32];
    s_tip(fx, &fx->b, EVENT_TIP, "prompt", "prompt", NULL, p);
    s_tip(fx, &fx->b, EVENT_TIP, "shell", "shell", NULL, sh);
    n = s_search_fix(fx, "shelll prompt", h, 10, fx_q, sizeof fx_q);
    assert_true(n >= 2);
    assert_true(s_has(h, n, p) < s_has(h, n, sh));
    assert_string_equal(fx_q, "shell prompt");
}

/* Proximity: of two tips with the same words, the one where neighbouring
 * query words stand next to each other on a line (in either order) scores
 * 1 + 0.3 times as much; words apart, or on different lines, get nothing.
 * A tip whose body's first line holds the query's words gets 1 + 0.3 times
 * their share of the query's idf. */
static void test_proximity(void **state)
{
    fx_t *fx = *state;
    uint8_t near[32], far[32], split[32];
    /* Same words, same lengths, no query word on the first line; the near
     * one first, so it cannot win on recency. */
    s_tip(fx, &fx->a, EVENT_TIP, "Tip one", "intro\nalpha beta gamma delta", NULL, near);
    s_tip(fx, &fx->a, EVENT_TIP, "Tip two", "intro\nalpha gamma beta delta", NULL, far);
    s_tip(fx, &fx->a, EVENT_TIP, "Tip six", "intro\nalpha\nbeta gamma delta", NULL, split);
    store_hit_t h[10];
    const char *qs[] = {"alpha beta", "beta alpha"};
    for (int i = 0; i < 2; i++) {
        size_t n = s_search(fx, qs[i], NULL, h, 10);
        assert_int_equal(n, 3);
        assert_memory_equal(h[0].id, near, 32);
        int f = s_has(h, n, far) - 1, sp = s_has(h, n, split) - 1;
        assert_true(f >= 1 && sp >= 1);
        assert_float_equal(h[0].score / h[f].score, 1.3, 1e-5);
        assert_float_equal(h[sp].score, h[f].score, 1e-5 * h[f].score);
    }
    /* A one-word query has no neighbours: equal scores, the newest first. */
    size_t n = s_search(fx, "gamma", NULL, h, 10);
    assert_int_equal(n, 3);
    assert_memory_equal(h[0].id, split, 32);
    assert_float_equal(h[0].score, h[2].score, 1e-6 * h[0].score);
    /* The first line: "omega" opens the older tip's body and closes the
     * newer one's. */
    uint8_t first[32], last[32];
    s_tip(fx, &fx->b, EVENT_TIP, "Tip ten", "omega kappa\nsigma", NULL, first);
    s_tip(fx, &fx->b, EVENT_TIP, "Tip two", "sigma\nomega kappa", NULL, last);
    n = s_search(fx, "omega", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, first, 32);
    assert_float_equal(h[0].score / h[1].score, 1.3, 1e-5);
    /* Each has half the query's idf on its first line: equal, the newer first. */
    n = s_search(fx, "omega sigma", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_float_equal(h[0].score / h[1].score, 1.0, 1e-5);
    assert_memory_equal(h[0].id, last, 32);
}

/* Question words (store/fts_qword_table.h): "alias" (weight 0.059) says
 * little about which tip answers, so a tip holding only it ranks below one
 * holding only an ordinary word of the same rarity; with coordination by
 * the words' weighted idf the ratio is 0.059^1.5. */
static void test_question_words(void **state)
{
    fx_t *fx = *state;
    uint8_t qw[32], plain[32];
    /* Off the first line, so that only the question word's weight differs. */
    s_tip(fx, &fx->a, EVENT_TIP, "Tip one", "intro\nset an zebra here", NULL, plain);
    s_tip(fx, &fx->a, EVENT_TIP, "Tip two", "intro\nset an alias here", NULL, qw);
    uint8_t tmp[32];
    s_tip(fx, &fx->a, EVENT_TIP, "Tip six", "nothing of that kind", NULL, tmp);
    store_hit_t h[10];
    size_t n = s_search(fx, "alias zebra", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, plain, 32);
    assert_memory_equal(h[1].id, qw, 32);
    assert_float_equal(h[1].score / h[0].score, 0.059 * sqrt(0.059), 1e-4);
    /* Alone, a question word still finds its tip. */
    n = s_search(fx, "alias", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, qw, 32);
}

/* A query word also finds the topic names that start or end with it, in
 * titles and topics only; a tip holding the word itself ranks first, and a
 * retraction takes the name's keys away. */
static void test_names(void **state)
{
    fx_t *fx = *state;
    uint8_t grp[32], usr[32], prose[32], word[32];
    const char *g[] = {"groupadd", "linux", NULL}, *u[] = {"useradd", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "groupadd", "Create a new group:\n    sudo groupadd name", g, grp);
    s_tip(fx, &fx->a, EVENT_TIP, "useradd", "Create an account:\n    sudo useradd name", u, usr);
    s_tip(fx, &fx->a, EVENT_TIP, "Notes", "the groupadd and useradd commands, in prose", NULL,
          prose);
    store_hit_t h[10];
    /* "user" starts "useradd"; the tip that only says it in prose is not a name's. */
    s_only(fx, "user", usr);
    /* "add" ends both names. */
    size_t n = s_search(fx, "add", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_true(s_has(h, n, grp) && s_has(h, n, usr));
    /* The word itself beats a name that holds it. */
    s_tip(fx, &fx->a, EVENT_TIP, "Add a line", "Append a line to a file", NULL, word);
    n = s_search(fx, "add", NULL, h, 10);
    assert_int_equal(n, 3);
    assert_memory_equal(h[0].id, word, 32);
    /* Of two tips with the same text, the one named for a query word
     * ranks first; with names not retrieved as terms, through the lift
     * alone: 1 + 0.6 x the share of the query's idf its name holds ("pool"
     * and "make": all, 1.6). */
    assert_int_equal(fts_tune(fx->s->fts, "part", 0), 0);
    uint8_t named[32], plain[32];
    const char *nm[] = {"poolmake", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "Disk pools", "Join disks into one pool", NULL, plain);
    s_tip(fx, &fx->a, EVENT_TIP, "Disk pools", "Join disks into one pool", nm, named);
    n = s_search(fx, "pool make", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_memory_equal(h[0].id, named, 32);
    assert_float_equal(h[0].score / h[1].score, 1.6, 1e-4);
    assert_int_equal(fts_tune(fx->s->fts, "part", 0.3), 0); /* the default again */
    /* Two letters are too few to stand for a name. */
    assert_int_equal(s_search(fx, "ad", NULL, h, 10), 0);
    /* The names inside a topic of several parts count too. */
    uint8_t luks[32];
    const char *l[] = {"cryptsetup-luksformat", NULL};
    s_tip(fx, &fx->b, EVENT_TIP, "cryptsetup luksformat", "Initialise a partition", l, luks);
    s_only(fx, "crypt", luks);  /* starts the topic */
    s_only(fx, "format", luks); /* ends a name inside it */
    /* A part with a letter beyond ASCII is a word, not a name. */
    uint8_t cafe[32];
    const char *c[] = {"café-notes", NULL};
    s_tip(fx, &fx->b, EVENT_TIP, "Where to eat", "Lunch places", c, cafe);
    assert_int_equal(s_search(fx, "caf", NULL, h, 10), 0);
    n = s_search(fx, "note", NULL, h, 10); /* the topic's words still count */
    assert_true(s_has(h, n, cafe));
    /* Retracted: neither end of the name finds it. */
    s_act(fx, &fx->a, EVENT_RETRACT, 0, usr);
    assert_int_equal(s_search(fx, "user", NULL, h, 10), 0);
    n = s_search(fx, "add", NULL, h, 10);
    assert_int_equal(n, 2);
    assert_false(s_has(h, n, usr));
}

/* Make the index look written by an older tipd: no version mark and no
 * reversed name keys (what version 1 wrote). Raw LMDB on the closed store. */
static void s_age_index(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, post;
    MDB_cursor *c;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 1u << 30), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "fts_meta", 0, &meta), 0);
    assert_int_equal(mdb_dbi_open(txn, "fts_post", MDB_DUPSORT | MDB_DUPFIXED, &post), 0);
    MDB_val k = {7, "version"}, v;
    assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
    assert_int_equal(mdb_cursor_open(txn, post, &c), 0);
    int dropped = 0;
    k = (MDB_val){1, "\2"};
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 &&
           (((const char *)k.mv_data)[0] == '\2' || ((const char *)k.mv_data)[0] == '\3')) {
        assert_int_equal(mdb_cursor_del(c, MDB_NODUPDATA), 0);
        dropped++;
        rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
        if (rc == 0) continue;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    }
    assert_true(dropped > 0);
    mdb_cursor_close(c);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* An index written by an older tipd's rules is rebuilt once at open, in
 * chunks, from the live tips only; scores come out as before. */
static void test_reindex(void **state)
{
    fx_t *fx = *state;
    uint8_t grp[32], usr[32], gone[32], other[32];
    const char *g[] = {"groupadd", NULL}, *u[] = {"useradd", NULL};
    s_tip(fx, &fx->a, EVENT_TIP, "groupadd", "Create a new group:\n    sudo groupadd name", g, grp);
    s_tip(fx, &fx->a, EVENT_TIP, "useradd", "Create an account:\n    sudo useradd name", u, usr);
    s_tip(fx, &fx->a, EVENT_TIP, "Remove a group", "sudo groupdel name", NULL, gone);
    s_tip(fx, &fx->b, EVENT_QUESTION, "How do I create a group?", "for the build team", NULL,
          other);
    s_act(fx, &fx->a, EVENT_RETRACT, 0, gone);
    const char *qs[] = {"add", "group", "create account", "user"};
    store_hit_t before[4][10], after[10];
    size_t nb[4];
    for (int i = 0; i < 4; i++) nb[i] = s_search(fx, qs[i], NULL, before[i], 10);
    assert_int_equal(nb[0], 2);
    store_destroy(&fx->s);
    s_age_index(fx->dir);
    int err = 0;
    store_opts_t o = {.fts_chunk = 2}; /* many transactions */
    fx->s = store_new(fx->dir, &o, &err);
    assert_non_null(fx->s);
    assert_int_equal(store_reindexed(fx->s, NULL), 3); /* not the retracted one */
    for (int i = 0; i < 4; i++) {
        size_t n = s_search(fx, qs[i], NULL, after, 10);
        assert_int_equal(n, nb[i]);
        for (size_t j = 0; j < n; j++) {
            assert_memory_equal(after[j].id, before[i][j].id, 32);
            assert_float_equal(after[j].score, before[i][j].score, 1e-6);
        }
    }
    /* New events index as usual; the next open finds nothing to do. */
    uint8_t more[32];
    s_tip(fx, &fx->b, EVENT_TIP, "Add a line", "Append a line to a file", NULL, more);
    assert_int_equal(s_search(fx, "add", NULL, after, 10), 3);
    store_destroy(&fx->s);
    fx->s = store_new(fx->dir, NULL, &err);
    assert_non_null(fx->s);
    assert_int_equal(store_reindexed(fx->s, NULL), 0);
    assert_int_equal(s_search(fx, "add", NULL, after, 10), 3);
}

/* Accents are folded for matching; tips are stemmed in their own language
 * (detected from the text), and a retraction removes what was indexed. */
static void test_languages(void **state)
{
    fx_t *fx = *state;
    uint8_t cafe[32], de[32], es[32], ru[32];
    s_tip(fx, &fx->a, EVENT_TIP, "Café au lait", "the résumé of a naïve barista", NULL, cafe);
    s_tip(fx, &fx->a, EVENT_TIP, "Zeige alle Dateien im Verzeichnis an", "ls -la", NULL, de);
    s_tip(fx, &fx->a, EVENT_TIP, "Comprimir los archivos del directorio", "tar czf a.tgz dir", NULL,
          es);
    s_tip(fx, &fx->a, EVENT_TIP, "Показать все файлы в каталоге", "ls -a", NULL, ru);
    store_hit_t h[10];
    char fx_q[256];
    size_t n = s_search(fx, "cafe resume naive", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, cafe, 32);
    n = s_search(fx, "CAFÉ", NULL, h, 10);
    assert_int_equal(n, 1);
    /* German: "Datei" (singular) finds "Dateien" through the German stemmer. */
    n = s_search(fx, "Datei", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, de, 32);
    /* Spanish: singular and another form of the verb. */
    n = s_search(fx, "archivo comprimido", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, es, 32);
    /* Russian: "файл" finds "файлы". */
    n = s_search(fx, "файл", NULL, h, 10);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, ru, 32);
    /* Corrections work in other languages too (one edit, non-ASCII). */
    n = s_search_fix(fx, "Verzeichnus", h, 10, fx_q, sizeof fx_q);
    assert_int_equal(n, 1);
    assert_memory_equal(h[0].id, de, 32);
    /* Retracted: the postings are gone, so neither the word nor a
     * correction towards it finds anything. */
    s_act(fx, &fx->a, EVENT_RETRACT, 0, de);
    assert_int_equal(s_search(fx, "Datei", NULL, h, 10), 0);
    assert_int_equal(s_search_fix(fx, "Verzeichnus", h, 10, fx_q, sizeof fx_q), 0);
    assert_string_equal(fx_q, "");
}

/* Load tests/data/tldr-sample.jsonl; ids and their pages go to the arrays. */
typedef struct {
    uint8_t (*id)[EVENT_ID_LEN];
    char **src;
    size_t n;
} sample_t;

static void s_load_sample(fx_t *fx, sample_t *sm)
{
    const char *dir = getenv("TIPD_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/tldr-sample.jsonl", dir ? dir : "tests/data");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t cap = 4096;
    sm->id = calloc(cap, EVENT_ID_LEN);
    sm->src = calloc(cap, sizeof *sm->src);
    sm->n = 0;
    enum { BATCH = 256 };
    static uint8_t bufs[BATCH][EVENT_MAX_SIZE];
    const uint8_t *ptr[BATCH];
    size_t lens[BATCH], nb = 0;
    static store_result_t res[BATCH];
    static event_t ev;
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
            event_init(&ev, EVENT_TIP);
            ev.created_at = fx->ts++;
            /* Over-long titles are cut on a character boundary, as import does. */
            size_t tl = strlen(title);
            if (tl > EVENT_MAX_TITLE) {
                tl = EVENT_MAX_TITLE;
                while (tl > 0 && ((unsigned char)title[tl] & 0xC0) == 0x80) tl--;
            }
            assert_int_equal(event_set_title(&ev, title, tl), 0);
            assert_int_equal(event_set_body(&ev, body, strlen(body)), 0);
            for (size_t i = 0; i < json_array_size(tp); i++)
                (void)event_add_topic(&ev, json_string_value(json_array_get(tp, i)));
            assert_int_equal(event_sign(&ev, fx->a.sk), 0);
            assert_int_equal(event_encode(&ev, bufs[nb], EVENT_MAX_SIZE, &lens[nb]), 0);
            ptr[nb] = bufs[nb];
            assert_true(sm->n < cap);
            memcpy(sm->id[sm->n], ev.id, EVENT_ID_LEN);
            sm->src[sm->n] = strdup(json_string_value(json_object_get(o, "source")));
            sm->n++;
            nb++;
            json_decref(o);
        }
        if (nb == BATCH || (r <= 0 && nb)) {
            assert_int_equal(
                store_ingest(fx->s, ptr, lens, nb, T0 + 3600 * 1000, STORE_INGEST_VERIFIED, res),
                0);
            for (size_t i = 0; i < nb; i++) assert_int_equal(res[i].status, STORE_NEW);
            nb = 0;
        }
        if (r <= 0) break;
    }
    free(line);
    fclose(fp);
    assert_int_equal(sm->n, 2733);
}

static const char *s_page_of(const sample_t *sm, const uint8_t *id)
{
    for (size_t i = 0; i < sm->n; i++)
        if (!memcmp(sm->id[i], id, EVENT_ID_LEN)) return sm->src[i] + strlen("tldr-pages/pages/");
    return "?";
}

static void test_tldr_sample(void **state)
{
    fx_t *fx = *state;
    sample_t sm;
    s_load_sample(fx, &sm);
    static const struct {
        const char *q, *page;
    } cases[] = {
        {"extract a tar.gz archive", "common/tar.md"},
        {"count the number of lines in a file", "common/wc.md"},
        {"undo the last commit but keep the changes", "common/git-reset.md"},
        {"compress a file with gzip", "common/gzip.md"},
        {"show the first few lines of a file", "common/head.md"},
        {"sort the lines of a file alphabetically", "common/sort.md"},
        {"look up dns records of a domain", "common/dig.md"},
        {"which", "common/which.md"}, /* only a stopword: still searched */
    };
    store_hit_t h[10];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = s_search(fx, cases[c].q, NULL, h, 10);
        assert_true(n > 0);
        if (strcmp(s_page_of(&sm, h[0].id), cases[c].page) != 0)
            fail_msg("\"%s\": top hit from %s, expected %s", cases[c].q, s_page_of(&sm, h[0].id),
                     cases[c].page);
    }
    /* Crowding: ten hits for a broad query come from more than one page. */
    size_t n = s_search(fx, "git branch", NULL, h, 10);
    assert_int_equal(n, 10);
    int pages = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s_page_of(&sm, h[i].id), s_page_of(&sm, h[j].id))) seen = 1;
        pages += !seen;
    }
    assert_true(pages >= 3);
    for (size_t i = 0; i < sm.n; i++) free(sm.src[i]);
    free(sm.src);
    free(sm.id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_title_outranks_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_topics, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retract_and_supersede, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retract_in_same_batch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_invisible_candidates, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rating_lifts_equal_tip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_edit_keeps_chain_ratings, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kinds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cjk_findable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tldr_sample, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_typo_bounds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_exact_beats_correction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_languages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_proximity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_question_words, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_names, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reindex, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
