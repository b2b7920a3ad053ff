/* recon_set.c -- the sync set: sorted 24-byte keys, block sums, fetched ids.
 *
 * A node holds every event it has in its sync set, so at a million events
 * the set is the daemon's largest structure. Keeping whole (created_at, id)
 * items cost 40 bytes each; the set keeps a 24-byte key per item instead
 * (recon_int.h) and reads whole ids back from where they live anyway (the
 * store's time index, through the fetch function) when a message needs
 * them.
 *
 * Fingerprints need the sum of whole ids over any range, so the set also
 * keeps sums over blocks of consecutive items. Block boundaries are defined
 * by content, not position: an item starts a block when a keyed hash of its
 * key (SipHash under a random per-process key, so nobody can craft ids that
 * make one block huge) has its low 5 bits zero, about one item in 32. An
 * insertion therefore never moves a boundary: a new item adds its id to its
 * block's sum, and only a new boundary item splits a block, which reads the
 * ids of the old items after it (about 16 fetches). A removal subtracts
 * (the caller gives the whole id) or, for a boundary item, merges two
 * blocks. The sum over a range is then the block sums inside it plus the
 * fetched ids of the partial blocks at its two ends, about 64 fetches
 * whatever the range's size. Items before the first boundary belong to no
 * block and are always fetched.
 *
 * New items arrive in a pending buffer with whole ids and are merged on the
 * next read (sort, dedupe, block sums updated by one walk over the old
 * blocks, keys merged in place from the back), so storing 5,000 events
 * costs one merge and a merge of a few recent ids moves only the keys after
 * them. Block start positions are recomputed lazily, from the first block
 * a merge or removal moved, when a sum first needs them.
 */
#include "recon_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_BOUNDARY_MASK 31u  /* one item in 32 starts a block */
#define S_FETCH_CHUNK   256u /* ids fetched per call */

struct recon_set {
    uint8_t *keys; /* n sorted, unique keys */
    size_t n, cap;
    recon_item_t *pend; /* unsorted additions, whole ids */
    size_t npend, cappend;
    /* blocks, in key order: block k runs from the item with key bkey[k] to
     * the next boundary item (or the end) */
    uint8_t *bkey;
    recon_sum_t *bsum;
    size_t *bpos; /* block k's first position in keys, valid for k < bpos_ok */
    size_t nb, capb;
    size_t bpos_ok;
    uint8_t salt[crypto_shorthash_KEYBYTES];
    recon_fetch_fn fetch;
    void *fetch_arg;
    uint8_t (*ids)[RECON_ID_LEN]; /* fetch scratch, S_FETCH_CHUNK ids */
};

/* ---- sums ---- */

/* An id as a little-endian 256-bit integer. */
static void s_sum_of(recon_sum_t *o, const uint8_t id[RECON_ID_LEN])
{
    for (int w = 0; w < 4; w++) {
        uint64_t x = 0;
        for (int b = 7; b >= 0; b--) x = (x << 8) | id[w * 8 + b];
        o->w[w] = x;
    }
}

static void s_sum_add_sum(recon_sum_t *s, const recon_sum_t *a)
{
    unsigned carry = 0;
    for (int w = 0; w < 4; w++) {
        uint64_t s1 = s->w[w] + a->w[w];
        unsigned c1 = s1 < a->w[w];
        uint64_t s2 = s1 + carry;
        unsigned c2 = s2 < s1;
        s->w[w] = s2;
        carry = c1 | c2;
    }
}

void recon_sum_add(recon_sum_t *s, const uint8_t id[RECON_ID_LEN])
{
    recon_sum_t one;
    s_sum_of(&one, id);
    s_sum_add_sum(s, &one);
}

static void s_sum_sub_sum(recon_sum_t *s, const recon_sum_t *a)
{
    unsigned borrow = 0;
    for (int w = 0; w < 4; w++) {
        uint64_t d1 = s->w[w] - a->w[w];
        unsigned b1 = s->w[w] < a->w[w];
        uint64_t d2 = d1 - borrow;
        unsigned b2 = d1 < borrow;
        s->w[w] = d2;
        borrow = b1 | b2;
    }
}

static void s_sum_sub(recon_sum_t *s, const uint8_t id[RECON_ID_LEN])
{
    recon_sum_t one;
    s_sum_of(&one, id);
    s_sum_sub_sum(s, &one);
}

void recon_sum_fp(const recon_sum_t *s, uint64_t count, uint8_t fp[RECON_FP_LEN])
{
    uint8_t buf[32 + 10];
    for (int w = 0; w < 4; w++)
        for (int b = 0; b < 8; b++) buf[w * 8 + b] = (uint8_t)(s->w[w] >> (8 * b));
    size_t pos = 32;
    recon_varint_put(buf, sizeof buf, &pos, count);
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, buf, pos);
    memcpy(fp, h, RECON_FP_LEN);
}

/* ---- keys ---- */

static void s_key(uint8_t key[RECON_KEY_LEN], uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    for (int i = 7; i >= 0; i--, ts >>= 8) key[i] = (uint8_t)ts;
    memcpy(key + 8, id, RECON_KEEP_LEN);
}

static int s_boundary(const recon_set_t *s, const uint8_t key[RECON_KEY_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, RECON_KEY_LEN, s->salt);
    return (h[0] & S_BOUNDARY_MASK) == 0;
}

/* First index i in keys[lo, hi) with keys[i] >= key (hi if none). */
static size_t s_lower(const uint8_t *keys, size_t lo, size_t hi, const uint8_t *key)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(keys + mid * RECON_KEY_LEN, key, RECON_KEY_LEN) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int s_item_cmp(const recon_item_t *a, const recon_item_t *b)
{
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return memcmp(a->id, b->id, RECON_ID_LEN);
}

static int s_item_qcmp(const void *a, const void *b)
{
    return s_item_cmp(a, b);
}

/* ---- the set ---- */

recon_set_t *recon_set_new(recon_fetch_fn fetch, void *arg)
{
    recon_set_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->ids = malloc(S_FETCH_CHUNK * sizeof(*s->ids));
    if (!s->ids) {
        free(s);
        return NULL;
    }
    s->fetch = fetch;
    s->fetch_arg = arg;
    randombytes_buf(s->salt, sizeof s->salt);
    return s;
}

void recon_set_destroy(recon_set_t **p)
{
    if (!p || !*p) return;
    recon_set_t *s = *p;
    free(s->keys);
    free(s->pend);
    free(s->bkey);
    free(s->bsum);
    free(s->bpos);
    free(s->ids);
    free(s);
    *p = NULL;
}

int recon_set_add(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    if (s->npend == s->cappend) {
        size_t nc = s->cappend ? s->cappend * 2 : 256;
        recon_item_t *np = realloc(s->pend, nc * sizeof(*np));
        if (!np) return -1;
        s->pend = np;
        s->cappend = nc;
    }
    s->pend[s->npend].ts = ts;
    memcpy(s->pend[s->npend].id, id, RECON_ID_LEN);
    s->npend++;
    return 0;
}

void recon_set_clear(recon_set_t *s)
{
    s->n = 0;
    s->npend = 0;
    s->nb = 0;
    s->bpos_ok = 0;
}

int recon_set_fetch(recon_set_t *s, const uint8_t *keys, size_t n, uint8_t (*ids)[RECON_ID_LEN])
{
    if (!n) return 0;
    if (!s->fetch) return RECON_E_STORE;
    return s->fetch(s->fetch_arg, keys, n, ids) == 0 ? 0 : RECON_E_STORE;
}

/* Add the whole ids of keys[lo, hi) to *sum, fetched in chunks. */
static int s_fetch_sum(recon_set_t *s, const uint8_t *keys, size_t lo, size_t hi, recon_sum_t *sum)
{
    while (lo < hi) {
        size_t k = hi - lo < S_FETCH_CHUNK ? hi - lo : S_FETCH_CHUNK;
        int rc = recon_set_fetch(s, keys + lo * RECON_KEY_LEN, k, s->ids);
        if (rc) return rc;
        for (size_t i = 0; i < k; i++) recon_sum_add(sum, s->ids[i]);
        lo += k;
    }
    return 0;
}

static int s_blocks_reserve(recon_set_t *s, size_t want)
{
    if (want <= s->capb) return 0;
    size_t nc = s->capb ? s->capb : 64;
    while (nc < want) nc *= 2;
    uint8_t *k = realloc(s->bkey, nc * RECON_KEY_LEN);
    if (!k) return -1;
    s->bkey = k;
    recon_sum_t *m = realloc(s->bsum, nc * sizeof(*m));
    if (!m) return -1;
    s->bsum = m;
    size_t *p = realloc(s->bpos, nc * sizeof(*p));
    if (!p) return -1;
    s->bpos = p;
    s->capb = nc;
    return 0;
}

/* Block start positions in keys, for the blocks after the first one a
 * merge or removal moved (new ids are mostly the newest: a few blocks). */
static void s_fix_bpos(recon_set_t *s)
{
    size_t from = s->bpos_ok ? s->bpos[s->bpos_ok - 1] : 0;
    for (size_t k = s->bpos_ok; k < s->nb; k++) {
        from = s_lower(s->keys, from, s->n, s->bkey + k * RECON_KEY_LEN);
        s->bpos[k] = from;
    }
    s->bpos_ok = s->nb;
}

/* Positions of the blocks from the one at or after key on will move; k is
 * that block's index (s_lower over bkey). */
static void s_bpos_stale_from(recon_set_t *s, size_t k)
{
    if (k < s->bpos_ok) s->bpos_ok = k;
}

typedef struct {
    uint8_t *key; /* out: new block arrays */
    recon_sum_t *sum;
    size_t nb;
} s_blocks_t;

static void s_emit(s_blocks_t *o, const uint8_t *key, const recon_sum_t *sum)
{
    memcpy(o->key + o->nb * RECON_KEY_LEN, key, RECON_KEY_LEN);
    o->sum[o->nb++] = *sum;
}

/* One old block (k >= 0) or the part before the first boundary (k = -1)
 * with the new items nw[0, m) that fall in it: emit the blocks it becomes.
 * A new boundary item splits it; the old items after a split point are
 * fetched (the first part's sum is what the others leave). */
static int s_rebuild_block(recon_set_t *s, long k, const recon_item_t *nw,
                           const uint8_t (*nkey)[RECON_KEY_LEN], size_t m, s_blocks_t *o)
{
    size_t end = (size_t)(k + 1) < s->nb ? s->bpos[k + 1] : s->n;
    size_t start = k >= 0 ? s->bpos[k] : 0;
    recon_sum_t first = {{0, 0, 0, 0}};
    if (k >= 0) first = s->bsum[k];
    size_t j = 0;
    /* new items before the first new boundary join the first part */
    for (; j < m && !s_boundary(s, nkey[j]); j++) recon_sum_add(&first, nw[j].id);
    recon_sum_t rest_old = {{0, 0, 0, 0}};
    size_t emit_first = o->nb;
    if (k >= 0) s_emit(o, s->bkey + (size_t)k * RECON_KEY_LEN, &first);
    while (j < m) {
        /* nw[j] starts a new block; it runs to the next new boundary */
        size_t e = j + 1;
        while (e < m && !s_boundary(s, nkey[e])) e++;
        recon_sum_t sum = {{0, 0, 0, 0}};
        for (size_t i = j; i < e; i++) recon_sum_add(&sum, nw[i].id);
        size_t a = s_lower(s->keys, start, end, nkey[j]);
        size_t b = e < m ? s_lower(s->keys, a, end, nkey[e]) : end;
        recon_sum_t old = {{0, 0, 0, 0}};
        int rc = s_fetch_sum(s, s->keys, a, b, &old);
        if (rc) return rc;
        s_sum_add_sum(&sum, &old);
        s_sum_add_sum(&rest_old, &old);
        s_emit(o, nkey[j], &sum);
        j = e;
    }
    if (k >= 0) s_sum_sub_sum(&o->sum[emit_first], &rest_old);
    return 0;
}

/* Update the block sums for the sorted, new items nw[0, m) (not yet in
 * keys). 0 or a RECON_E_* code (the blocks are then unchanged). */
static int s_blocks_add(recon_set_t *s, const recon_item_t *nw, size_t m)
{
    if (!m) return 0;
    uint8_t(*nkey)[RECON_KEY_LEN] = malloc((m ? m : 1) * RECON_KEY_LEN);
    if (!nkey) return RECON_E_NOMEM;
    size_t nbound = 0;
    for (size_t i = 0; i < m; i++) {
        s_key(nkey[i], nw[i].ts, nw[i].id);
        nbound += (size_t)s_boundary(s, nkey[i]);
    }
    s_blocks_t o = {.key = malloc((s->nb + nbound + 1) * RECON_KEY_LEN),
                    .sum = malloc((s->nb + nbound + 1) * sizeof(recon_sum_t))};
    int rc = o.key && o.sum ? 0 : RECON_E_NOMEM;
    s_fix_bpos(s);
    size_t j = 0;
    for (long k = -1; !rc && k < (long)s->nb; k++) {
        const uint8_t *next =
            (size_t)(k + 1) < s->nb ? s->bkey + (size_t)(k + 1) * RECON_KEY_LEN : NULL;
        size_t e = j;
        while (e < m && (!next || memcmp(nkey[e], next, RECON_KEY_LEN) < 0)) e++;
        if (e == j) {
            if (k >= 0) s_emit(&o, s->bkey + (size_t)k * RECON_KEY_LEN, &s->bsum[k]);
            continue;
        }
        rc = s_rebuild_block(s, k, nw + j, (const uint8_t(*)[RECON_KEY_LEN])(nkey + j), e - j, &o);
        j = e;
    }
    if (!rc && s_blocks_reserve(s, o.nb) < 0) rc = RECON_E_NOMEM;
    if (!rc && o.nb) {
        memcpy(s->bkey, o.key, o.nb * RECON_KEY_LEN);
        memcpy(s->bsum, o.sum, o.nb * sizeof(recon_sum_t));
    }
    if (!rc) {
        s->nb = o.nb;
        s->bpos_ok = s->nb; /* the blocks before the first new id keep theirs */
        s_bpos_stale_from(s, s_lower(s->bkey, 0, s->nb, nkey[0]));
    }
    free(o.key);
    free(o.sum);
    free(nkey);
    return rc;
}

long recon_set_seal(recon_set_t *s)
{
    if (s->npend == 0) return (long)s->n;
    qsort(s->pend, s->npend, sizeof(recon_item_t), s_item_qcmp);
    /* Keep only what is new: not a repeat inside pend, not in keys. */
    size_t np = 0;
    uint8_t key[RECON_KEY_LEN], prev[RECON_KEY_LEN];
    for (size_t j = 0; j < s->npend; j++) {
        s_key(key, s->pend[j].ts, s->pend[j].id);
        if (np > 0 && memcmp(prev, key, RECON_KEY_LEN) == 0) continue;
        size_t at = s_lower(s->keys, 0, s->n, key);
        if (at < s->n && memcmp(s->keys + at * RECON_KEY_LEN, key, RECON_KEY_LEN) == 0) continue;
        memcpy(prev, key, RECON_KEY_LEN);
        s->pend[np++] = s->pend[j];
    }
    s->npend = np;
    int rc = s_blocks_add(s, s->pend, np);
    if (rc) return rc == RECON_E_NOMEM ? -1 : -2; /* pending items stay for a retry */
    size_t total = s->n + np;
    if (total > s->cap) {
        /* Grow in place (a large block is remapped, not copied) with a
         * little room, rather than a new array per seal. */
        size_t nc = total + total / 16 + 64;
        uint8_t *m = realloc(s->keys, nc * RECON_KEY_LEN);
        if (!m) return -1;
        s->keys = m;
        s->cap = nc;
    }
    /* Merge from the back: new ids are usually the newest, so this moves
     * only the keys after the oldest of them. */
    size_t i = s->n, j = np, k = total;
    while (j > 0) {
        s_key(key, s->pend[j - 1].ts, s->pend[j - 1].id);
        if (i > 0 && memcmp(s->keys + (i - 1) * RECON_KEY_LEN, key, RECON_KEY_LEN) > 0)
            memcpy(s->keys + --k * RECON_KEY_LEN, s->keys + --i * RECON_KEY_LEN, RECON_KEY_LEN);
        else
            memcpy(s->keys + --k * RECON_KEY_LEN, key, RECON_KEY_LEN), j--;
    }
    s->n = total;
    s->npend = 0;
    /* The pending buffer may have grown huge during a bulk load; let it go. */
    if (s->cappend > 4096) {
        free(s->pend);
        s->pend = NULL;
        s->cappend = 0;
    }
    return (long)s->n;
}

size_t recon_set_size(const recon_set_t *s)
{
    return s->n + s->npend;
}

const uint8_t *recon_set_keys(recon_set_t *s, size_t *n)
{
    *n = s->n;
    return s->keys;
}

int recon_set_contains(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    uint8_t key[RECON_KEY_LEN];
    s_key(key, ts, id);
    if (recon_set_seal(s) < 0) return 0;
    size_t i = s_lower(s->keys, 0, s->n, key);
    return i < s->n && memcmp(s->keys + i * RECON_KEY_LEN, key, RECON_KEY_LEN) == 0;
}

void recon_set_remove(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    uint8_t key[RECON_KEY_LEN];
    s_key(key, ts, id);
    if (recon_set_seal(s) < 0) return;
    size_t i = s_lower(s->keys, 0, s->n, key);
    if (i >= s->n || memcmp(s->keys + i * RECON_KEY_LEN, key, RECON_KEY_LEN) != 0) return;
    /* the first block at or after key; key's own block is that one when
     * key is its boundary, else the one before (-1: before every boundary) */
    size_t k = s_lower(s->bkey, 0, s->nb, key);
    s_bpos_stale_from(s, k);
    int boundary = k < s->nb && memcmp(s->bkey + k * RECON_KEY_LEN, key, RECON_KEY_LEN) == 0;
    long b = boundary ? (long)k : (long)k - 1;
    if (boundary) {
        /* a boundary leaves: its block joins the one before (or, for the
         * first block, the unsummed items before every boundary) */
        if (b > 0) {
            s_sum_add_sum(&s->bsum[b - 1], &s->bsum[b]);
            s_sum_sub(&s->bsum[b - 1], id);
        }
        size_t after = s->nb - (size_t)b - 1;
        memmove(s->bkey + (size_t)b * RECON_KEY_LEN, s->bkey + ((size_t)b + 1) * RECON_KEY_LEN,
                after * RECON_KEY_LEN);
        memmove(&s->bsum[b], &s->bsum[b + 1], after * sizeof(recon_sum_t));
        s->nb--;
    } else if (b >= 0) {
        s_sum_sub(&s->bsum[b], id);
    }
    memmove(s->keys + i * RECON_KEY_LEN, s->keys + (i + 1) * RECON_KEY_LEN,
            (s->n - i - 1) * RECON_KEY_LEN);
    s->n--;
}

int recon_set_sum(recon_set_t *s, size_t lo, size_t hi, recon_sum_t *sum)
{
    s_fix_bpos(s);
    /* the first block starting at or after lo */
    size_t a = 0, b = s->nb;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (s->bpos[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    size_t k = a;
    if (k >= s->nb || s->bpos[k] >= hi) return s_fetch_sum(s, s->keys, lo, hi, sum);
    int rc = s_fetch_sum(s, s->keys, lo, s->bpos[k], sum);
    if (rc) return rc;
    /* whole blocks */
    while (k + 1 < s->nb && s->bpos[k + 1] <= hi) s_sum_add_sum(sum, &s->bsum[k++]);
    if (k + 1 >= s->nb && s->n <= hi) {
        s_sum_add_sum(sum, &s->bsum[k]);
        return 0;
    }
    return s_fetch_sum(s, s->keys, s->bpos[k], hi, sum);
}
