/* test_recon.c -- range-based set reconciliation (daemon/recon.c).
 *
 * Two in-memory sets share a common base and each has d items the other
 * lacks; a session runs until neither side has anything to ask. Every id each
 * side reports as "have" must be exactly what the other side lacks, the
 * messages must stay within RECON_MAX_MSG, and small differences must finish
 * in few round trips. Hostile inputs (garbage, truncation, bad order,
 * overlong varints, oversized counts) are refused without crashing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "recon.h"
#include "recon_int.h"

/* Deterministic item generator (splitmix64) so failures reproduce. */
static uint64_t s_rng(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void s_item(uint64_t *st, recon_item_t *it)
{
    /* Realistic timestamps: a week of ms, many collisions at second precision
     * so equal-timestamp bounds get exercised. */
    it->ts = 1790000000000ull + (s_rng(st) % 604800ull) * 1000ull;
    for (int i = 0; i < 4; i++) {
        uint64_t r = s_rng(st);
        memcpy(it->id + 8 * i, &r, 8);
    }
}

/* Every item any set was given, as a store would hold it: the sets read
 * whole ids back from here (s_fetch), and s_fetched counts them. */
static recon_item_t *s_tab;
static size_t s_ntab, s_captab, s_fetched;
static int s_tab_sorted;

static int s_tab_cmp(const void *a, const void *b)
{
    const recon_item_t *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

static int s_add(recon_set_t *s, uint64_t ts, const uint8_t id[32])
{
    if (s_ntab == s_captab) {
        s_captab = s_captab ? s_captab * 2 : 1024;
        s_tab = realloc(s_tab, s_captab * sizeof(*s_tab));
        assert_non_null(s_tab);
    }
    s_tab[s_ntab].ts = ts;
    memcpy(s_tab[s_ntab++].id, id, 32);
    s_tab_sorted = 0;
    return recon_set_add(s, ts, id);
}

static int s_fetch(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[32])
{
    (void)arg;
    if (!s_tab_sorted) {
        qsort(s_tab, s_ntab, sizeof(*s_tab), s_tab_cmp);
        s_tab_sorted = 1;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k = keys + i * RECON_KEY_LEN;
        recon_item_t want = {.ts = recon_key_ts(k)};
        memcpy(want.id, k + 8, RECON_KEEP_LEN);
        size_t lo = 0, hi = s_ntab;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s_tab_cmp(&s_tab[mid], &want) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == s_ntab || s_tab[lo].ts != want.ts || memcmp(s_tab[lo].id, k + 8, RECON_KEEP_LEN))
            return -1;
        memcpy(ids[i], s_tab[lo].id, 32);
        s_fetched++;
    }
    return 0;
}

typedef struct {
    uint8_t (*ids)[32];
    size_t n, cap;
} s_idvec_t;

static void s_have(const uint8_t id[32], void *arg)
{
    s_idvec_t *v = arg;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->ids = realloc(v->ids, v->cap * 32);
        assert_non_null(v->ids);
    }
    memcpy(v->ids[v->n++], id, 32);
}

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Sort and dedupe. */
static void s_norm(s_idvec_t *v)
{
    if (!v->n) return;
    qsort(v->ids, v->n, 32, s_id_cmp);
    size_t k = 1;
    for (size_t i = 1; i < v->n; i++)
        if (memcmp(v->ids[i], v->ids[k - 1], 32)) memcpy(v->ids[k++], v->ids[i], 32);
    v->n = k;
}

typedef struct {
    size_t msgs, bytes_ab, bytes_ba, max_msg;
} s_stats_t;

/* Run a full session: a initiates. Haves of each side are collected. */
static void s_session(recon_set_t *a, recon_set_t *b, s_idvec_t *have_a, s_idvec_t *have_b,
                      s_stats_t *st)
{
    uint8_t *m1 = malloc(RECON_MAX_MSG), *m2 = malloc(RECON_MAX_MSG);
    size_t len;
    memset(st, 0, sizeof *st);
    int fl = recon_initiate(a, m1, RECON_MAX_MSG, &len);
    assert_true(fl >= 0);
    st->msgs = 1;
    st->bytes_ab = len;
    st->max_msg = len;
    recon_set_t *recv = b, *send = a;
    for (int guard = 0; guard < 1000; guard++) {
        size_t olen;
        s_idvec_t *hv = recv == a ? have_a : have_b;
        int r = recon_process(recv, m1, len, m2, RECON_MAX_MSG, &olen, s_have, hv);
        assert_true(r >= 0);
        assert_true(olen <= RECON_MAX_MSG);
        if (!(r & RECON_IN_ASKED)) break;
        st->msgs++;
        if (recv == b)
            st->bytes_ba += olen;
        else
            st->bytes_ab += olen;
        if (olen > st->max_msg) st->max_msg = olen;
        uint8_t *t = m1;
        m1 = m2;
        m2 = t;
        len = olen;
        recon_set_t *tt = recv;
        recv = send;
        send = tt;
    }
    free(m1);
    free(m2);
}

/* Build A = base + d_a uniques, B = base + d_b uniques; check the result. */
static void s_check(size_t base, size_t d_a, size_t d_b, uint64_t seed, size_t max_msgs)
{
    recon_set_t *a = recon_set_new(s_fetch, NULL), *b = recon_set_new(s_fetch, NULL);
    s_idvec_t only_a = {0}, only_b = {0}, have_a = {0}, have_b = {0};
    uint64_t st = seed;
    recon_item_t it;
    for (size_t i = 0; i < base; i++) {
        s_item(&st, &it);
        assert_int_equal(s_add(a, it.ts, it.id), 0);
        assert_int_equal(s_add(b, it.ts, it.id), 0);
    }
    for (size_t i = 0; i < d_a; i++) {
        s_item(&st, &it);
        s_add(a, it.ts, it.id);
        s_have(it.id, &only_a);
    }
    for (size_t i = 0; i < d_b; i++) {
        s_item(&st, &it);
        s_add(b, it.ts, it.id);
        s_have(it.id, &only_b);
    }
    s_stats_t ss;
    s_session(a, b, &have_a, &have_b, &ss);
    s_norm(&only_a);
    s_norm(&only_b);
    s_norm(&have_a);
    s_norm(&have_b);
    assert_int_equal(have_a.n, only_a.n);
    assert_int_equal(have_b.n, only_b.n);
    if (only_a.n) assert_memory_equal(have_a.ids, only_a.ids, only_a.n * 32);
    if (only_b.n) assert_memory_equal(have_b.ids, only_b.ids, only_b.n * 32);
    if (max_msgs) assert_true(ss.msgs <= max_msgs);
    assert_true(ss.max_msg <= RECON_MAX_MSG);
    free(only_a.ids);
    free(only_b.ids);
    free(have_a.ids);
    free(have_b.ids);
    recon_set_destroy(&a);
    recon_set_destroy(&b);
}

static void test_varint(void **state)
{
    uint8_t buf[16];
    uint64_t vals[] = {0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        size_t pos = 0, rpos = 0;
        uint64_t v;
        assert_int_equal(recon_varint_put(buf, sizeof buf, &pos, vals[i]), 0);
        assert_int_equal(recon_varint_get(buf, pos, &rpos, &v), 0);
        assert_int_equal(rpos, pos);
        assert_true(v == vals[i]);
    }
    /* 300 = ac 02 (LEB128). */
    size_t pos = 0;
    recon_varint_put(buf, sizeof buf, &pos, 300);
    assert_int_equal(pos, 2);
    assert_int_equal(buf[0], 0xac);
    assert_int_equal(buf[1], 0x02);
    /* Overlong (0x80 0x00), truncated, and beyond 64 bits are refused. */
    uint8_t overlong[] = {0x80, 0x00}, trunc[] = {0x80},
            big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    uint64_t v;
    size_t p = 0;
    assert_int_equal(recon_varint_get(overlong, 2, &p, &v), -1);
    p = 0;
    assert_int_equal(recon_varint_get(trunc, 1, &p, &v), -1);
    p = 0;
    assert_int_equal(recon_varint_get(big, 10, &p, &v), -1);
}

static void test_fingerprint_vector(void **state)
{
    /* Two ids 0x01 00.. and 0xff ff.. (all ones): sum mod 2^256 = 0x00..00
     * (1 + 2^256 - 1), count 2 -> SHA-256(32 zero bytes || 0x02)[0..16). */
    recon_item_t it[2];
    memset(it, 0, sizeof it);
    it[0].id[0] = 1;
    memset(it[1].id, 0xff, 32);
    uint8_t fp[16], expect[32], buf[33] = {0};
    buf[32] = 2;
    crypto_hash_sha256(expect, buf, 33);
    recon_fingerprint(it, 0, 2, fp);
    assert_memory_equal(fp, expect, 16);
    /* Empty range: SHA-256(32 zero bytes || 0x00). */
    buf[32] = 0;
    crypto_hash_sha256(expect, buf, 33);
    recon_fingerprint(it, 0, 0, fp);
    assert_memory_equal(fp, expect, 16);
}

static void test_set_ops(void **state)
{
    recon_set_t *s = recon_set_new(s_fetch, NULL);
    uint8_t id[32] = {0};
    for (int i = 0; i < 100; i++) {
        id[0] = (uint8_t)(i % 50); /* each twice: duplicates dropped */
        s_add(s, 1000 + (uint64_t)(i % 50), id);
    }
    assert_int_equal(recon_set_seal(s), 50);
    id[0] = 7;
    assert_int_equal(recon_set_contains(s, 1007, id), 1);
    recon_set_remove(s, 1007, id);
    assert_int_equal(recon_set_contains(s, 1007, id), 0);
    assert_int_equal(recon_set_seal(s), 49);
    size_t n;
    const uint8_t *keys = recon_set_keys(s, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(recon_key_ts(keys + (i - 1) * RECON_KEY_LEN) <
                    recon_key_ts(keys + i * RECON_KEY_LEN));
    recon_set_clear(s);
    assert_int_equal(recon_set_seal(s), 0);
    recon_set_destroy(&s);
    assert_null(s);
    recon_set_destroy(&s);
}

/* Seals in rounds (old and new ids mixed, repeats of held ones, repeats
 * inside a round) keep the set equal to the sorted union. */
static void test_set_seal_rounds(void **state)
{
    (void)state;
    enum { N = 3000 };
    recon_set_t *s = recon_set_new(s_fetch, NULL);
    static uint8_t held[N];
    size_t want = 0;
    uint64_t x = 12345;
    for (int round = 0; round < 40; round++) {
        int adds = round % 7 == 0 ? 400 : 1 + round % 5;
        for (int a = 0; a < adds; a++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly recent ids, sometimes old ones */
            size_t k = x % 8 ? N - 1 - (size_t)(x >> 8) % (30 * (size_t)(round + 1)) % N
                             : (size_t)(x >> 8) % N;
            uint8_t id[32] = {0};
            id[0] = (uint8_t)(k >> 8);
            id[1] = (uint8_t)k;
            s_add(s, 1000 + k / 3, id);
            if (!held[k]) want++;
            held[k] = 1;
        }
        assert_int_equal(recon_set_seal(s), (long)want);
    }
    size_t n, m = 0;
    const uint8_t *keys = recon_set_keys(s, &n);
    assert_int_equal(n, want);
    for (size_t k = 0; k < N; k++) {
        if (!held[k]) continue;
        const uint8_t *key = keys + m * RECON_KEY_LEN;
        assert_int_equal(recon_key_ts(key), 1000 + k / 3);
        assert_int_equal(key[8], (uint8_t)(k >> 8));
        assert_int_equal(key[9], (uint8_t)k);
        m++;
    }
    recon_set_destroy(&s);
}

static void test_small_sets(void **state)
{
    s_check(0, 0, 0, 1, 3);
    s_check(0, 5, 0, 2, 3);
    s_check(0, 0, 5, 3, 3);
    s_check(10, 3, 4, 4, 4);
    s_check(0, 1000, 0, 5, 0);
    s_check(0, 0, 1000, 6, 0);
}

/* 100k common items, d each way. Round-trip limits: Negentropy needs about
 * log16(n/d) + 1 round trips; d = 10 must finish within 4 (8 messages). */
static void test_d0(void **state)
{
    s_check(100000, 0, 0, 10, 2);
}
static void test_d1(void **state)
{
    s_check(100000, 1, 1, 11, 8);
}
static void test_d10(void **state)
{
    s_check(100000, 10, 10, 12, 8);
}
static void test_d100(void **state)
{
    s_check(100000, 100, 100, 13, 10);
}
static void test_d1000(void **state)
{
    s_check(100000, 1000, 1000, 14, 0);
}
static void test_d10000(void **state)
{
    s_check(100000, 10000, 10000, 15, 0);
}
static void test_one_sided(void **state)
{
    s_check(100000, 0, 10000, 16, 0);
    s_check(50000, 20000, 0, 17, 0);
}

/* Equal timestamps everywhere: bounds must use id prefixes. */
static void test_same_timestamp(void **state)
{
    recon_set_t *a = recon_set_new(s_fetch, NULL), *b = recon_set_new(s_fetch, NULL);
    s_idvec_t have_a = {0}, have_b = {0};
    uint64_t st = 99;
    recon_item_t it;
    for (int i = 0; i < 20000; i++) {
        s_item(&st, &it);
        s_add(a, 5, it.id);
        if (i % 1000 != 0) s_add(b, 5, it.id);
    }
    s_stats_t ss;
    s_session(a, b, &have_a, &have_b, &ss);
    s_norm(&have_a);
    assert_int_equal(have_a.n, 20);
    assert_int_equal(have_b.n, 0);
    free(have_a.ids);
    free(have_b.ids);
    recon_set_destroy(&a);
    recon_set_destroy(&b);
}

static int s_proc(recon_set_t *s, const uint8_t *in, size_t len)
{
    uint8_t *out = malloc(RECON_MAX_MSG);
    size_t olen;
    s_idvec_t hv = {0};
    int r = recon_process(s, in, len, out, RECON_MAX_MSG, &olen, s_have, &hv);
    free(out);
    free(hv.ids);
    return r;
}

static void test_hostile(void **state)
{
    recon_set_t *s = recon_set_new(s_fetch, NULL);
    uint64_t st = 7;
    recon_item_t it;
    for (int i = 0; i < 5000; i++) {
        s_item(&st, &it);
        s_add(s, it.ts, it.id);
    }
    /* Empty, wrong version. */
    assert_int_equal(s_proc(s, (const uint8_t *)"", 0), RECON_E_MALFORMED);
    uint8_t v2[] = {0x02};
    assert_int_equal(s_proc(s, v2, 1), RECON_E_VERSION);
    /* Version only: nothing asked. */
    uint8_t v1[] = {RECON_VERSION};
    assert_int_equal(s_proc(s, v1, 1), 0);
    /* Truncated fingerprint. */
    uint8_t tfp[] = {RECON_VERSION, 0x00, 0x00, RECON_MODE_FP, 1, 2, 3};
    assert_int_equal(s_proc(s, tfp, sizeof tfp), RECON_E_MALFORMED);
    /* Unknown mode. */
    uint8_t um[] = {RECON_VERSION, 0x00, 0x00, 9};
    assert_int_equal(s_proc(s, um, sizeof um), RECON_E_MALFORMED);
    /* Something after the infinite bound. */
    uint8_t after[] = {RECON_VERSION, 0x00, 0x00, RECON_MODE_SKIP, 0x05, 0x00, RECON_MODE_SKIP};
    assert_int_equal(s_proc(s, after, sizeof after), RECON_E_MALFORMED);
    /* Bounds not ascending: ts 10 then the same bound again (delta 0 -> +1 = 1). */
    uint8_t desc[] = {RECON_VERSION, 11, 0x00, RECON_MODE_SKIP, 1, 0x00, RECON_MODE_SKIP};
    assert_int_equal(s_proc(s, desc, sizeof desc), RECON_E_MALFORMED);
    /* Prefix longer than 32. */
    uint8_t pl[] = {RECON_VERSION, 5, 33};
    assert_int_equal(s_proc(s, pl, sizeof pl), RECON_E_MALFORMED);
    /* Infinite bound with a prefix. */
    uint8_t ip[] = {RECON_VERSION, 0, 1, 0xaa, RECON_MODE_SKIP};
    assert_int_equal(s_proc(s, ip, sizeof ip), RECON_E_MALFORMED);
    /* Idlist claiming more ids than present / than allowed. */
    uint8_t il[] = {RECON_VERSION, 0, 0, RECON_MODE_IDLIST, 0x05, 1, 2, 3};
    assert_int_equal(s_proc(s, il, sizeof il), RECON_E_MALFORMED);
    uint8_t il2[] = {RECON_VERSION, 0, 0, RECON_MODE_IDLIST, 0xff, 0xff, 0x03};
    assert_int_equal(s_proc(s, il2, sizeof il2), RECON_E_MALFORMED);
    /* Idresponse with padding bits set. */
    uint8_t ir[] = {RECON_VERSION, 0, 0, RECON_MODE_IDRESP, 3, 0xff};
    assert_int_equal(s_proc(s, ir, sizeof ir), RECON_E_MALFORMED);
    /* Duplicate prefixes in a list. */
    uint8_t dup[4 + 1 + 2 * RECON_PREFIX_LEN] = {RECON_VERSION, 0, 0, RECON_MODE_IDLIST, 2};
    assert_int_equal(s_proc(s, dup, sizeof dup), RECON_E_MALFORMED);
    /* Timestamp overflow: 2^64 - 2, then a delta past 2^64 - 1. */
    uint8_t ov[] = {
        RECON_VERSION,   0xff, 0xff, 0xff,           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00,
        RECON_MODE_SKIP, 0x03, 0x00, RECON_MODE_SKIP};
    assert_int_equal(s_proc(s, ov, sizeof ov), RECON_E_MALFORMED);
    /* Random garbage never crashes, whatever it returns. */
    uint8_t buf[2048];
    for (int i = 0; i < 3000; i++) {
        size_t n = 1 + s_rng(&st) % sizeof buf;
        for (size_t j = 0; j < n; j++) buf[j] = (uint8_t)s_rng(&st);
        buf[0] = RECON_VERSION;
        (void)s_proc(s, buf, n);
    }
    /* A list of many (sorted, unique) prefixes: answered with a bitmap. */
    size_t cnt = 2000, len = 0;
    uint8_t *big = malloc(8 + cnt * RECON_PREFIX_LEN);
    big[len++] = RECON_VERSION;
    big[len++] = 0;
    big[len++] = 0;
    big[len++] = RECON_MODE_IDLIST;
    recon_varint_put(big, 8, &len, cnt);
    for (size_t i = 0; i < cnt; i++) {
        memset(big + len, 0, RECON_PREFIX_LEN);
        big[len] = (uint8_t)(i >> 8);
        big[len + 1] = (uint8_t)i;
        len += RECON_PREFIX_LEN;
    }
    assert_true(s_proc(s, big, len) & RECON_IN_ASKED);
    free(big);
    /* Output buffer below the limit is refused up front. */
    uint8_t small[16];
    size_t olen;
    assert_int_equal(recon_initiate(s, small, sizeof small, &olen), RECON_E_NOSPACE);
    recon_set_destroy(&s);
}

/* The worked example of docs/PROTOCOL.md §2.6, byte for byte. */
static void test_doc_example(void **state)
{
    recon_set_t *a = recon_set_new(s_fetch, NULL), *b = recon_set_new(s_fetch, NULL);
    uint8_t id[32];
    for (int i = 1; i <= 3; i++) {
        memset(id, i, 32);
        s_add(a, 1000 + (uint64_t)i, id);
        memset(id, i + 1, 32);
        s_add(b, 1001 + (uint64_t)i, id);
    }
    uint8_t *m1 = malloc(RECON_MAX_MSG), *m2 = malloc(RECON_MAX_MSG);
    size_t l1, l2;
    assert_int_equal(recon_initiate(a, m1, RECON_MAX_MSG, &l1), RECON_OUT_ASKS);
    uint8_t want1[5 + 36] = {0x01, 0x00, 0x00, 0x02, 0x03};
    for (int i = 0; i < 3; i++) memset(want1 + 5 + 12 * i, i + 1, 12);
    assert_int_equal(l1, sizeof want1);
    assert_memory_equal(m1, want1, sizeof want1);
    s_idvec_t hb = {0}, ha = {0};
    assert_int_equal(recon_process(b, m1, l1, m2, RECON_MAX_MSG, &l2, s_have, &hb), RECON_IN_ASKED);
    uint8_t want2[] = {0x01, 0x00, 0x00, 0x03, 0x03, 0x01};
    assert_int_equal(l2, sizeof want2);
    assert_memory_equal(m2, want2, sizeof want2);
    assert_int_equal(hb.n, 1);
    memset(id, 4, 32);
    assert_memory_equal(hb.ids[0], id, 32);
    assert_int_equal(recon_process(a, m2, l2, m1, RECON_MAX_MSG, &l1, s_have, &ha), 0);
    assert_int_equal(l1, 1);
    assert_int_equal(ha.n, 1);
    memset(id, 1, 32);
    assert_memory_equal(ha.ids[0], id, 32);
    free(ha.ids);
    free(hb.ids);
    free(m1);
    free(m2);
    recon_set_destroy(&a);
    recon_set_destroy(&b);
}

/* The block sums: after rounds of additions (old and new ids), removals
 * and a clear, the sum over any range equals the sum of its whole ids. */
static void test_block_sums(void **state)
{
    (void)state;
    recon_set_t *s = recon_set_new(s_fetch, NULL);
    uint64_t st = 4242;
    recon_item_t it;
    for (int pass = 0; pass < 2; pass++) {
        for (int round = 0; round < 30; round++) {
            int adds = round == 0 ? 5000 : 1 + (int)(s_rng(&st) % 400);
            for (int a = 0; a < adds; a++) {
                s_item(&st, &it);
                assert_int_equal(s_add(s, it.ts, it.id), 0);
            }
            assert_true(recon_set_seal(s) > 0);
            size_t n;
            const uint8_t *keys = recon_set_keys(s, &n);
            /* remove a few held items, boundaries or not */
            for (int r = 0; r < 20 && n > 1; r++) {
                size_t i = s_rng(&st) % n;
                uint8_t id[1][32];
                assert_int_equal(s_fetch(NULL, keys + i * RECON_KEY_LEN, 1, id), 0);
                recon_set_remove(s, recon_key_ts(keys + i * RECON_KEY_LEN), id[0]);
                keys = recon_set_keys(s, &n);
            }
            uint8_t(*all)[32] = malloc(n * 32);
            assert_non_null(all);
            assert_int_equal(s_fetch(NULL, keys, n, all), 0);
            for (int q = 0; q < 50; q++) {
                size_t lo = s_rng(&st) % (n + 1), hi = s_rng(&st) % (n + 1);
                if (lo > hi) {
                    size_t t = lo;
                    lo = hi;
                    hi = t;
                }
                if (q == 0) lo = 0, hi = n;
                recon_sum_t got = {{0, 0, 0, 0}}, want = {{0, 0, 0, 0}};
                assert_int_equal(recon_set_sum(s, lo, hi, &got), 0);
                for (size_t i = lo; i < hi; i++) recon_sum_add(&want, all[i]);
                assert_memory_equal(&got, &want, sizeof want);
            }
            free(all);
        }
        recon_set_clear(s);
        assert_int_equal(recon_set_seal(s), 0);
    }
    recon_set_destroy(&s);
}

/* A fingerprint of a large range is served by the block sums: the first
 * message over 100k items reads back about a thousand whole ids, not all. */
static void test_fingerprints_read_few_ids(void **state)
{
    (void)state;
    recon_set_t *s = recon_set_new(s_fetch, NULL);
    uint64_t st = 777;
    recon_item_t it;
    for (int i = 0; i < 100000; i++) {
        s_item(&st, &it);
        s_add(s, it.ts, it.id);
    }
    assert_int_equal(recon_set_seal(s), 100000);
    uint8_t *m = malloc(RECON_MAX_MSG);
    size_t len;
    s_fetched = 0;
    assert_int_equal(recon_initiate(s, m, RECON_MAX_MSG, &len), RECON_OUT_ASKS);
    assert_true(s_fetched > 0);
    assert_true(s_fetched < 4000);
    free(m);
    recon_set_destroy(&s);
}

static int s_fetch_fails(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[32])
{
    (void)arg, (void)keys, (void)n, (void)ids;
    return -1;
}

/* Ids that cannot be read back fail the message with RECON_E_STORE (the
 * caller retries later); nothing is reported as had. */
static void test_fetch_failure(void **state)
{
    (void)state;
    recon_set_t *s = recon_set_new(s_fetch_fails, NULL);
    uint64_t st = 31;
    recon_item_t it;
    for (int i = 0; i < 1000; i++) {
        s_item(&st, &it);
        recon_set_add(s, it.ts, it.id);
    }
    uint8_t *m = malloc(RECON_MAX_MSG), *o = malloc(RECON_MAX_MSG);
    size_t len;
    assert_int_equal(recon_initiate(s, m, RECON_MAX_MSG, &len), RECON_E_STORE);
    /* a peer's list of one prefix we lack: our items are "have"s we cannot name */
    uint8_t msg[5 + RECON_PREFIX_LEN] = {RECON_VERSION, 0, 0, RECON_MODE_IDLIST, 1};
    s_idvec_t hv = {0};
    assert_int_equal(recon_process(s, msg, sizeof msg, o, RECON_MAX_MSG, &len, s_have, &hv),
                     RECON_E_STORE);
    assert_int_equal(hv.n, 0);
    free(m);
    free(o);
    recon_set_destroy(&s);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_fingerprint_vector),
        cmocka_unit_test(test_set_ops),
        cmocka_unit_test(test_set_seal_rounds),
        cmocka_unit_test(test_small_sets),
        cmocka_unit_test(test_d0),
        cmocka_unit_test(test_d1),
        cmocka_unit_test(test_d10),
        cmocka_unit_test(test_d100),
        cmocka_unit_test(test_d1000),
        cmocka_unit_test(test_d10000),
        cmocka_unit_test(test_one_sided),
        cmocka_unit_test(test_same_timestamp),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_block_sums),
        cmocka_unit_test(test_fingerprints_read_few_ids),
        cmocka_unit_test(test_fetch_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
