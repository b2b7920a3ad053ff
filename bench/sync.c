/* sync.c -- reconciliation cost: round trips, bytes and time (bench-sync).
 *
 * Two in-memory sync sets share N items (default 100,000) and each holds d
 * items the other lacks, for d = 0, 1, 10, 100, 1000 (and any given on the
 * command line). One side initiates and the two exchange RECON messages until
 * neither asks anything (the gossip rule: reply iff asked). We print the
 * messages, round trips (initiator -> responder -> initiator = 1), bytes each
 * way, wall time on one core, and, as the reference point, the bytes a naive
 * exchange of every (created_at, id) would need. Every run is checked: both
 * sides must find exactly the other's d items, or the bench fails.
 *
 *   build/bin/bench-sync [N] [d...]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "recon.h"

static uint64_t s_rng(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void s_item(uint64_t *st, recon_item_t *it)
{
    it->ts = 1790000000000ull + s_rng(st) % (30ull * 86400 * 1000); /* a month of ms */
    randombytes_buf(it->id, sizeof it->id);
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void s_count(const uint8_t id[32], void *arg)
{
    (*(size_t *)arg)++;
}

/* Every item of a run, sorted: where the sets read whole ids back, as a
 * node reads them from its store's time index. */
static recon_item_t *s_tab;
static size_t s_ntab;

static int s_tab_cmp(const void *x, const void *y)
{
    const recon_item_t *a = x, *b = y;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return memcmp(a->id, b->id, 32);
}

static int s_fetch(void *arg, const uint8_t *keys, size_t n, uint8_t (*ids)[RECON_ID_LEN])
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k = keys + i * RECON_KEY_LEN;
        recon_item_t want = {0};
        for (int j = 0; j < 8; j++) want.ts = want.ts << 8 | k[j];
        memcpy(want.id, k + 8, RECON_KEEP_LEN);
        size_t lo = 0, hi = s_ntab;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s_tab_cmp(&s_tab[mid], &want) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == s_ntab || s_tab[lo].ts != want.ts ||
            memcmp(s_tab[lo].id, want.id, RECON_KEEP_LEN))
            return -1;
        memcpy(ids[i], s_tab[lo].id, RECON_ID_LEN);
    }
    return 0;
}

static int s_run(size_t n, size_t d, uint64_t seed)
{
    recon_set_t *a = recon_set_new(s_fetch, NULL), *b = recon_set_new(s_fetch, NULL);
    uint64_t st = seed;
    recon_item_t it;
    s_tab = malloc((n + 2 * d) * sizeof(*s_tab));
    if (!s_tab) return -1;
    s_ntab = 0;
    for (size_t i = 0; i < n; i++) {
        s_item(&st, &it);
        s_tab[s_ntab++] = it;
        recon_set_add(a, it.ts, it.id);
        recon_set_add(b, it.ts, it.id);
    }
    for (size_t i = 0; i < d; i++) {
        s_item(&st, &it);
        s_tab[s_ntab++] = it;
        recon_set_add(a, it.ts, it.id);
        s_item(&st, &it);
        s_tab[s_ntab++] = it;
        recon_set_add(b, it.ts, it.id);
    }
    qsort(s_tab, s_ntab, sizeof(*s_tab), s_tab_cmp);
    recon_set_seal(a);
    recon_set_seal(b);

    uint8_t *m1 = malloc(RECON_MAX_MSG), *m2 = malloc(RECON_MAX_MSG);
    size_t len, msgs = 1, ab = 0, ba = 0, have_a = 0, have_b = 0;
    double t0 = s_now();
    if (recon_initiate(a, m1, RECON_MAX_MSG, &len) < 0) return -1;
    ab += len;
    recon_set_t *recv = b;
    for (;;) {
        size_t olen;
        int r = recon_process(recv, m1, len, m2, RECON_MAX_MSG, &olen, s_count,
                              recv == a ? &have_a : &have_b);
        if (r < 0) return -1;
        if (!(r & RECON_IN_ASKED)) break;
        msgs++;
        if (recv == b)
            ba += olen;
        else
            ab += olen;
        uint8_t *t = m1;
        m1 = m2;
        m2 = t;
        len = olen;
        recv = recv == a ? b : a;
    }
    double dt = s_now() - t0;
    size_t naive = (n + d) * (32 + 8);
    printf("%8zu %6zu %5zu %6zu %10zu %10zu %10zu %9.1f %10zu%s\n", n, d, msgs, (msgs + 1) / 2, ab,
           ba, ab + ba, dt * 1000, naive, (have_a == d && have_b == d) ? "" : "  WRONG RESULT");
    free(m1);
    free(m2);
    recon_set_destroy(&a);
    recon_set_destroy(&b);
    free(s_tab);
    s_tab = NULL;
    return (have_a == d && have_b == d) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return 1;
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t ds[16] = {0, 1, 10, 100, 1000};
    size_t nd = 5;
    if (argc > 2) {
        nd = 0;
        for (int i = 2; i < argc && nd < 16; i++) ds[nd++] = strtoul(argv[i], NULL, 10);
    }
    printf("recon: N common items, d items only on each side (2d differences)\n");
    printf("%8s %6s %5s %6s %10s %10s %10s %9s %10s\n", "N", "d", "msgs", "rtrips", "bytes_a>b",
           "bytes_b>a", "total", "ms", "naive/side");
    int rc = 0;
    for (size_t i = 0; i < nd; i++) rc |= s_run(n, ds[i], 42 + i);
    return rc ? 1 : 0;
}
