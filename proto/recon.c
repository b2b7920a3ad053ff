/* recon.c -- range-based set reconciliation over (created_at, id).
 *
 * The set is a sorted array of 40-byte items plus an unsorted pending buffer:
 * new ids are appended in O(1) and merged (sort + dedupe + merge in place
 * from the back) the next time the set is read, so storing 5,000 events
 * costs one merge, not 5,000 memmoves of a 4 MB array, and a merge of a few
 * new (recent) ids moves only the items after them.
 *
 * A message is processed range by range, in ascending bound order. Each
 * incoming range maps to [lower, upper) in our array by binary search from
 * the previous upper, so a whole message costs O(n + ranges * log n) however
 * hostile its contents. Output is built in the caller's buffer; consecutive
 * matched ranges collapse into one skip, trailing skips are dropped, and when
 * the output passes RECON_FRAME_LIMIT the current range's output is rolled
 * back and everything from the last emitted bound to the end is sent as one
 * fingerprint, so the peer re-splits it in the next round (negentropy's
 * frame-size rule, but fingerprinting from the last bound actually emitted,
 * so the peer's range and ours always cover the same items).
 *
 * Lists carry 12-byte id prefixes; the receiver answers with a bitmap of the
 * listed prefixes it lacks and reports its own unlisted items as "have". So
 * each side learns exactly which of its ids the other lacks, which is all it
 * needs to push them. A 96-bit prefix collision inside one small range would
 * hide one item until the sets change; finding one on purpose costs ~2^96
 * hashes.
 */
#include "recon.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct recon_set {
    recon_item_t *items; /* sorted, unique */
    size_t n, cap;
    recon_item_t *pend; /* unsorted additions */
    size_t npend, cappend;
};

typedef struct {
    int inf;
    uint64_t ts;
    uint8_t plen;
    uint8_t prefix[RECON_ID_LEN];
} s_bound_t;

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

recon_set_t *recon_set_new(void)
{
    return calloc(1, sizeof(recon_set_t));
}

void recon_set_destroy(recon_set_t **p)
{
    if (!p || !*p) return;
    free((*p)->items);
    free((*p)->pend);
    free(*p);
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
}

/* Index of the first item >= key in items[0, n). */
static size_t s_lower_item(const recon_item_t *items, size_t n, const recon_item_t *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_item_cmp(&items[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long recon_set_seal(recon_set_t *s)
{
    if (s->npend == 0) return (long)s->n;
    qsort(s->pend, s->npend, sizeof(recon_item_t), s_item_qcmp);
    /* Keep only what is new: not a repeat inside pend, not in items. */
    size_t np = 0;
    for (size_t j = 0; j < s->npend; j++) {
        if (np > 0 && s_item_cmp(&s->pend[np - 1], &s->pend[j]) == 0) continue;
        size_t at = s_lower_item(s->items, s->n, &s->pend[j]);
        if (at < s->n && s_item_cmp(&s->items[at], &s->pend[j]) == 0) continue;
        s->pend[np++] = s->pend[j];
    }
    size_t total = s->n + np;
    if (total > s->cap) {
        /* Grow in place (a large block is remapped, not copied) with a
         * little room, rather than a new array per seal: at a million ids
         * that was 40 MB copied for every new event a status request made
         * the set seal. */
        size_t nc = total + total / 16 + 64;
        recon_item_t *m = realloc(s->items, nc * sizeof(*m));
        if (!m) return -1;
        s->items = m;
        s->cap = nc;
    }
    /* Merge from the back: new ids are usually the newest, so this moves
     * only the few items after the oldest of them. */
    size_t i = s->n, j = np, k = total;
    while (j > 0) {
        if (i > 0 && s_item_cmp(&s->items[i - 1], &s->pend[j - 1]) > 0)
            s->items[--k] = s->items[--i];
        else
            s->items[--k] = s->pend[--j];
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

const recon_item_t *recon_set_items(recon_set_t *s, size_t *n)
{
    recon_set_seal(s);
    *n = s->n;
    return s->items;
}

int recon_set_contains(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    recon_item_t key = {.ts = ts};
    memcpy(key.id, id, RECON_ID_LEN);
    recon_set_seal(s);
    size_t i = s_lower_item(s->items, s->n, &key);
    return i < s->n && s_item_cmp(&s->items[i], &key) == 0;
}

void recon_set_remove(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN])
{
    recon_item_t key = {.ts = ts};
    memcpy(key.id, id, RECON_ID_LEN);
    recon_set_seal(s);
    size_t i = s_lower_item(s->items, s->n, &key);
    if (i < s->n && s_item_cmp(&s->items[i], &key) == 0) {
        memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(recon_item_t));
        s->n--;
    }
}

/* ---- varints ---- */

int recon_varint_put(uint8_t *out, size_t cap, size_t *pos, uint64_t v)
{
    do {
        if (*pos >= cap) return -1;
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[(*pos)++] = b | (v ? 0x80 : 0);
    } while (v);
    return 0;
}

int recon_varint_get(const uint8_t *in, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) return -1;
        uint8_t b = in[(*pos)++];
        if (shift == 63 && (b & 0xfe)) return -1; /* beyond 64 bits */
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0) return -1; /* overlong */
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* ---- fingerprints ---- */

void recon_fingerprint(const recon_item_t *items, size_t lo, size_t hi, uint8_t fp[RECON_FP_LEN])
{
    uint64_t acc[4] = {0, 0, 0, 0};
    for (size_t i = lo; i < hi; i++) {
        const uint8_t *id = items[i].id;
        unsigned carry = 0;
        for (int w = 0; w < 4; w++) {
            uint64_t x = 0;
            for (int b = 7; b >= 0; b--) x = (x << 8) | id[w * 8 + b];
            uint64_t s1 = acc[w] + x;
            unsigned c1 = s1 < x;
            uint64_t s2 = s1 + carry;
            unsigned c2 = s2 < s1;
            acc[w] = s2;
            carry = c1 | c2;
        }
    }
    uint8_t buf[32 + 10];
    for (int w = 0; w < 4; w++)
        for (int b = 0; b < 8; b++) buf[w * 8 + b] = (uint8_t)(acc[w] >> (8 * b));
    size_t pos = 32;
    recon_varint_put(buf, sizeof buf, &pos, (uint64_t)(hi - lo));
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, buf, pos);
    memcpy(fp, h, RECON_FP_LEN);
}

/* ---- bounds ---- */

/* 1 if item < bound (bound's id prefix is padded with zero bytes). */
static int s_item_lt_bound(const recon_item_t *it, const s_bound_t *b)
{
    if (b->inf) return 1;
    if (it->ts != b->ts) return it->ts < b->ts;
    return memcmp(it->id, b->prefix, b->plen) < 0;
}

static int s_bound_cmp(const s_bound_t *a, const s_bound_t *b)
{
    if (a->inf || b->inf) return a->inf - b->inf;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    uint8_t pa[RECON_ID_LEN] = {0}, pb[RECON_ID_LEN] = {0};
    memcpy(pa, a->prefix, a->plen);
    memcpy(pb, b->prefix, b->plen);
    return memcmp(pa, pb, RECON_ID_LEN);
}

/* First index in [from, n) whose item is not below b. */
static size_t s_lower_bound(const recon_item_t *items, size_t from, size_t n, const s_bound_t *b)
{
    size_t lo = from, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_item_lt_bound(&items[mid], b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The shortest bound b with prev < b <= cur (prev < cur). */
static void s_minimal_bound(const recon_item_t *prev, const recon_item_t *cur, s_bound_t *b)
{
    memset(b, 0, sizeof *b);
    b->ts = cur->ts;
    if (prev->ts != cur->ts) return;
    size_t shared = 0;
    while (shared < RECON_ID_LEN && prev->id[shared] == cur->id[shared]) shared++;
    b->plen = (uint8_t)(shared < RECON_ID_LEN ? shared + 1 : RECON_ID_LEN);
    memcpy(b->prefix, cur->id, b->plen);
}

/* ---- output ---- */

typedef struct {
    uint8_t *buf;
    size_t cap, pos;
    uint64_t prev_ts;   /* ts of the last bound written (delta base) */
    size_t emitted_idx; /* our index at the last bound written */
    int flags;
} s_out_t;

static int s_put_bound(s_out_t *o, const s_bound_t *b)
{
    if (b->inf) {
        if (recon_varint_put(o->buf, o->cap, &o->pos, 0)) return -1;
    } else {
        if (recon_varint_put(o->buf, o->cap, &o->pos, b->ts - o->prev_ts + 1)) return -1;
        o->prev_ts = b->ts;
    }
    if (recon_varint_put(o->buf, o->cap, &o->pos, b->plen)) return -1;
    if (o->pos + b->plen > o->cap) return -1;
    memcpy(o->buf + o->pos, b->prefix, b->plen);
    o->pos += b->plen;
    return 0;
}

static int s_put_bytes(s_out_t *o, const void *p, size_t n)
{
    if (o->pos + n > o->cap) return -1;
    memcpy(o->buf + o->pos, p, n);
    o->pos += n;
    return 0;
}

static int s_put_byte(s_out_t *o, uint8_t b)
{
    return s_put_bytes(o, &b, 1);
}

/* Emit ranges covering items[lower, upper) up to ubound: a list when small,
 * else 16 fingerprinted buckets. Output is bounded (<= 16 * 60 bytes or a
 * list of 31 prefixes), so the caller's slack above the frame limit holds it. */
static int s_split(s_out_t *o, const recon_item_t *items, size_t lower, size_t upper,
                   const s_bound_t *ubound)
{
    size_t count = upper - lower;
    o->flags |= RECON_OUT_ASKS;
    if (count < RECON_LIST_BELOW) {
        if (s_put_bound(o, ubound) || s_put_byte(o, RECON_MODE_IDLIST) ||
            recon_varint_put(o->buf, o->cap, &o->pos, count))
            return -1;
        for (size_t i = lower; i < upper; i++)
            if (s_put_bytes(o, items[i].id, RECON_PREFIX_LEN)) return -1;
        o->emitted_idx = upper;
        return 0;
    }
    size_t per = count / RECON_BUCKETS, extra = count % RECON_BUCKETS, cur = lower;
    for (size_t i = 0; i < RECON_BUCKETS; i++) {
        size_t sz = per + (i < extra ? 1 : 0);
        uint8_t fp[RECON_FP_LEN];
        recon_fingerprint(items, cur, cur + sz, fp);
        cur += sz;
        s_bound_t nb;
        if (cur == upper)
            nb = *ubound;
        else
            s_minimal_bound(&items[cur - 1], &items[cur], &nb);
        if (s_put_bound(o, &nb) || s_put_byte(o, RECON_MODE_FP) || s_put_bytes(o, fp, sizeof fp))
            return -1;
        o->emitted_idx = cur;
    }
    return 0;
}

int recon_initiate(recon_set_t *s, uint8_t *out, size_t cap, size_t *out_len)
{
    if (cap < RECON_MAX_MSG) return RECON_E_NOSPACE;
    if (recon_set_seal(s) < 0) return RECON_E_NOMEM;
    s_out_t o = {.buf = out, .cap = cap};
    out[o.pos++] = RECON_VERSION;
    s_bound_t inf = {.inf = 1};
    if (s_split(&o, s->items, 0, s->n, &inf)) return RECON_E_NOSPACE;
    *out_len = o.pos;
    return o.flags;
}

/* ---- processing ---- */

static int s_get_bound(const uint8_t *in, size_t len, size_t *pos, uint64_t *prev_ts, s_bound_t *b)
{
    uint64_t v, plen;
    memset(b, 0, sizeof *b);
    if (recon_varint_get(in, len, pos, &v)) return -1;
    if (v == 0) {
        b->inf = 1;
    } else {
        if (v - 1 > UINT64_MAX - 1 - *prev_ts) return -1; /* ts must stay below inf */
        b->ts = *prev_ts + (v - 1);
        *prev_ts = b->ts;
    }
    if (recon_varint_get(in, len, pos, &plen) || plen > RECON_ID_LEN) return -1;
    if (len - *pos < plen) return -1;
    b->plen = (uint8_t)plen;
    memcpy(b->prefix, in + *pos, plen);
    *pos += plen;
    if (b->inf && plen) return -1;
    return 0;
}

typedef struct {
    const uint8_t *p; /* RECON_PREFIX_LEN bytes */
    uint32_t idx;     /* position in the peer's list */
    uint8_t found;
} s_pref_t;

static int s_pref_cmp(const void *a, const void *b)
{
    return memcmp(((const s_pref_t *)a)->p, ((const s_pref_t *)b)->p, RECON_PREFIX_LEN);
}

/* Handle a peer's list of prefixes for items[lower, upper): report our
 * unlisted items as have, and answer with a bitmap of listed prefixes we lack
 * (nothing if we hold them all). */
static int s_on_idlist(s_out_t *o, const recon_item_t *items, size_t lower, size_t upper,
                       const uint8_t *list, size_t n, const s_bound_t *cur, int *answered,
                       recon_have_fn have, void *arg)
{
    s_pref_t *pv = calloc(n ? n : 1, sizeof *pv);
    if (!pv) return RECON_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        pv[i].p = list + i * RECON_PREFIX_LEN;
        pv[i].idx = (uint32_t)i;
    }
    qsort(pv, n, sizeof *pv, s_pref_cmp);
    for (size_t i = 1; i < n; i++)
        if (s_pref_cmp(&pv[i - 1], &pv[i]) == 0) {
            free(pv);
            return RECON_E_MALFORMED; /* an honest list has no repeats */
        }
    for (size_t i = lower; i < upper; i++) {
        s_pref_t key = {.p = items[i].id};
        s_pref_t *hit = n ? bsearch(&key, pv, n, sizeof *pv, s_pref_cmp) : NULL;
        if (hit)
            hit->found = 1;
        else if (have)
            have(items[i].id, arg);
    }
    uint8_t bitmap[RECON_MAX_LIST / 8];
    memset(bitmap, 0, sizeof bitmap);
    int any = 0;
    for (size_t i = 0; i < n; i++)
        if (!pv[i].found) {
            bitmap[pv[i].idx / 8] |= (uint8_t)(1u << (pv[i].idx % 8));
            any = 1;
        }
    free(pv);
    *answered = any;
    if (!any) return 0;
    if (s_put_bound(o, cur) || s_put_byte(o, RECON_MODE_IDRESP) ||
        recon_varint_put(o->buf, o->cap, &o->pos, n) || s_put_bytes(o, bitmap, (n + 7) / 8))
        return RECON_E_NOSPACE;
    return 0;
}

int recon_process(recon_set_t *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                  size_t *out_len, recon_have_fn have, void *arg)
{
    if (cap < RECON_MAX_MSG) return RECON_E_NOSPACE;
    if (len < 1 || len > RECON_MAX_MSG) return RECON_E_MALFORMED;
    if (in[0] != RECON_VERSION) return RECON_E_VERSION;
    if (recon_set_seal(s) < 0) return RECON_E_NOMEM;
    const recon_item_t *items = s->items;
    size_t n = s->n;

    s_out_t o = {.buf = out, .cap = cap};
    out[o.pos++] = RECON_VERSION;
    int in_flags = 0;
    size_t pos = 1, prev_idx = 0;
    uint64_t in_prev_ts = 0;
    s_bound_t prev_bound = {0};
    int have_prev = 0, skip = 0;

    while (pos < len) {
        s_bound_t cur;
        if (have_prev && prev_bound.inf) return RECON_E_MALFORMED; /* nothing after inf */
        if (s_get_bound(in, len, &pos, &in_prev_ts, &cur)) return RECON_E_MALFORMED;
        if (s_bound_cmp(&cur, &prev_bound) <= 0) return RECON_E_MALFORMED;
        if (pos >= len) return RECON_E_MALFORMED;
        uint8_t mode = in[pos++];
        size_t lower = prev_idx, upper = s_lower_bound(items, prev_idx, n, &cur);
        s_out_t saved = o;
        /* Write the pending skip (up to prev_bound) before any real output. */
#define S_FLUSH_SKIP()                                                                             \
    do {                                                                                           \
        if (skip) {                                                                                \
            if (s_put_bound(&o, &prev_bound) || s_put_byte(&o, RECON_MODE_SKIP))                   \
                return RECON_E_NOSPACE;                                                            \
            o.emitted_idx = lower;                                                                 \
            skip = 0;                                                                              \
        }                                                                                          \
    } while (0)
        int skip_before = skip;
        switch (mode) {
        case RECON_MODE_SKIP:
            skip = 1;
            break;
        case RECON_MODE_FP: {
            if (len - pos < RECON_FP_LEN) return RECON_E_MALFORMED;
            in_flags |= RECON_IN_ASKED;
            uint8_t fp[RECON_FP_LEN];
            recon_fingerprint(items, lower, upper, fp);
            if (memcmp(fp, in + pos, RECON_FP_LEN) == 0) {
                skip = 1;
            } else {
                S_FLUSH_SKIP();
                if (s_split(&o, items, lower, upper, &cur)) return RECON_E_NOSPACE;
            }
            pos += RECON_FP_LEN;
            break;
        }
        case RECON_MODE_IDLIST: {
            uint64_t cnt;
            if (recon_varint_get(in, len, &pos, &cnt) || cnt > RECON_MAX_LIST ||
                (len - pos) / RECON_PREFIX_LEN < cnt)
                return RECON_E_MALFORMED;
            in_flags |= RECON_IN_ASKED;
            S_FLUSH_SKIP();
            int answered = 0;
            int rc = s_on_idlist(&o, items, lower, upper, in + pos, (size_t)cnt, &cur, &answered,
                                 have, arg);
            if (rc) return rc;
            if (answered)
                o.emitted_idx = upper;
            else {
                /* Nothing to say: undo the skip flush and keep skipping. */
                o = saved;
                skip = 1;
            }
            pos += (size_t)cnt * RECON_PREFIX_LEN;
            break;
        }
        case RECON_MODE_IDRESP: {
            uint64_t cnt;
            if (recon_varint_get(in, len, &pos, &cnt) || cnt > RECON_MAX_LIST) {
                return RECON_E_MALFORMED;
            }
            size_t nb = (size_t)(cnt + 7) / 8;
            if (len - pos < nb) return RECON_E_MALFORMED;
            if ((cnt % 8) && (in[pos + nb - 1] >> (cnt % 8))) return RECON_E_MALFORMED;
            /* Bit i names our i-th item in the range when we listed it. If
             * our set changed since, we may push an extra event or miss one
             * until the next round; both are harmless. */
            for (size_t i = 0; i < (size_t)cnt && lower + i < upper; i++)
                if ((in[pos + i / 8] >> (i % 8)) & 1)
                    if (have) have(items[lower + i].id, arg);
            pos += nb;
            skip = 1;
            break;
        }
        default:
            return RECON_E_MALFORMED;
        }
#undef S_FLUSH_SKIP
        if (o.pos > RECON_FRAME_LIMIT) {
            /* Too big: drop this range's output and hand the peer one
             * fingerprint for everything from the last bound we emitted. */
            o = saved;
            skip = skip_before;
            uint8_t fp[RECON_FP_LEN];
            recon_fingerprint(items, o.emitted_idx, n, fp);
            s_bound_t inf = {.inf = 1};
            if (s_put_bound(&o, &inf) || s_put_byte(&o, RECON_MODE_FP) ||
                s_put_bytes(&o, fp, sizeof fp))
                return RECON_E_NOSPACE;
            o.flags |= RECON_OUT_ASKS;
            in_flags |= RECON_IN_ASKED;
            *out_len = o.pos;
            return in_flags | o.flags;
        }
        prev_bound = cur;
        have_prev = 1;
        prev_idx = upper;
    }
    *out_len = o.pos;
    return in_flags | o.flags;
}
