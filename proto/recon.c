/* recon.c -- range-based set reconciliation over (created_at, id).
 *
 * The set (recon_set.c) is a sorted array of 24-byte keys -- created_at and
 * the id's first 16 bytes -- with sums over blocks of items; whole ids are
 * fetched from the store when a fingerprint's partial blocks, a "have" or
 * a rare long bound needs them.
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
#include "recon_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int inf;
    uint64_t ts;
    uint8_t plen;
    uint8_t prefix[RECON_ID_LEN];
} s_bound_t;

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
    recon_sum_t sum = {{0, 0, 0, 0}};
    for (size_t i = lo; i < hi; i++) recon_sum_add(&sum, items[i].id);
    recon_sum_fp(&sum, (uint64_t)(hi - lo), fp);
}

/* Fingerprint of the set's keys[lo, hi). 0 or a RECON_E_* code. */
static int s_set_fp(recon_set_t *set, size_t lo, size_t hi, uint8_t fp[RECON_FP_LEN])
{
    recon_sum_t sum = {{0, 0, 0, 0}};
    int rc = recon_set_sum(set, lo, hi, &sum);
    if (rc) return rc;
    recon_sum_fp(&sum, (uint64_t)(hi - lo), fp);
    return 0;
}

/* ---- bounds ---- */

/* The sealed set as one message reads it; err keeps the first failure to
 * read a whole id back (the comparisons that needed it then say "not below"). */
typedef struct {
    recon_set_t *set;
    const uint8_t *keys;
    size_t n;
    int err;
} s_view_t;

#define S_KEY(v, i) ((v)->keys + (size_t)(i)*RECON_KEY_LEN)

/* 1 if key i < bound (bound's id prefix is padded with zero bytes). A bound
 * longer than the kept 16 bytes that matches them reads the whole id. */
static int s_key_lt_bound(s_view_t *v, size_t i, const s_bound_t *b)
{
    if (b->inf) return 1;
    const uint8_t *k = S_KEY(v, i);
    uint64_t ts = recon_key_ts(k);
    if (ts != b->ts) return ts < b->ts;
    size_t m = b->plen < RECON_KEEP_LEN ? b->plen : RECON_KEEP_LEN;
    int c = memcmp(k + 8, b->prefix, m);
    if (c || b->plen <= RECON_KEEP_LEN) return c < 0;
    uint8_t id[1][RECON_ID_LEN];
    int rc = recon_set_fetch(v->set, k, 1, id);
    if (rc) {
        if (!v->err) v->err = rc;
        return 0;
    }
    return memcmp(id[0] + RECON_KEEP_LEN, b->prefix + RECON_KEEP_LEN, b->plen - RECON_KEEP_LEN) < 0;
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

/* First index in [from, n) whose key is not below b. */
static size_t s_lower_bound(s_view_t *v, size_t from, const s_bound_t *b)
{
    size_t lo = from, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_key_lt_bound(v, mid, b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The shortest bound b with key prev < b <= key cur (prev = cur - 1). Keys
 * are unique, so two with the same created_at differ in their kept bytes. */
static void s_minimal_bound(s_view_t *v, size_t cur, s_bound_t *b)
{
    const uint8_t *p = S_KEY(v, cur - 1), *c = S_KEY(v, cur);
    memset(b, 0, sizeof *b);
    b->ts = recon_key_ts(c);
    if (recon_key_ts(p) != b->ts) return;
    size_t shared = 0;
    while (shared < RECON_KEEP_LEN - 1 && p[8 + shared] == c[8 + shared]) shared++;
    b->plen = (uint8_t)(shared + 1);
    memcpy(b->prefix, c + 8, b->plen);
}

/* Ids reported as "have", gathered so that their whole ids are read back
 * in chunks. */
#define S_HAVE_CHUNK 256
typedef struct {
    s_view_t *v;
    recon_have_fn fn;
    void *arg;
    uint8_t keys[S_HAVE_CHUNK][RECON_KEY_LEN];
    size_t n;
} s_haves_t;

static int s_haves_flush(s_haves_t *h)
{
    if (!h->n) return 0;
    uint8_t ids[S_HAVE_CHUNK][RECON_ID_LEN];
    int rc = recon_set_fetch(h->v->set, &h->keys[0][0], h->n, ids);
    if (rc) return rc;
    for (size_t i = 0; i < h->n; i++) h->fn(ids[i], h->arg);
    h->n = 0;
    return 0;
}

/* Report key i as had; 0 or a code. */
static int s_haves_add(s_haves_t *h, size_t i)
{
    if (!h->fn) return 0;
    memcpy(h->keys[h->n++], S_KEY(h->v, i), RECON_KEY_LEN);
    return h->n == S_HAVE_CHUNK ? s_haves_flush(h) : 0;
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

/* Emit ranges covering keys[lower, upper) up to ubound: a list when small,
 * else 16 fingerprinted buckets. Output is bounded (<= 16 * 60 bytes or a
 * list of 31 prefixes), so the caller's slack above the frame limit holds it.
 * 0 or a RECON_E_* code. */
static int s_split(s_out_t *o, s_view_t *v, size_t lower, size_t upper, const s_bound_t *ubound)
{
    size_t count = upper - lower;
    o->flags |= RECON_OUT_ASKS;
    if (count < RECON_LIST_BELOW) {
        if (s_put_bound(o, ubound) || s_put_byte(o, RECON_MODE_IDLIST) ||
            recon_varint_put(o->buf, o->cap, &o->pos, count))
            return RECON_E_NOSPACE;
        for (size_t i = lower; i < upper; i++)
            if (s_put_bytes(o, S_KEY(v, i) + 8, RECON_PREFIX_LEN)) return RECON_E_NOSPACE;
        o->emitted_idx = upper;
        return 0;
    }
    size_t per = count / RECON_BUCKETS, extra = count % RECON_BUCKETS, cur = lower;
    for (size_t i = 0; i < RECON_BUCKETS; i++) {
        size_t sz = per + (i < extra ? 1 : 0);
        uint8_t fp[RECON_FP_LEN];
        int rc = s_set_fp(v->set, cur, cur + sz, fp);
        if (rc) return rc;
        cur += sz;
        s_bound_t nb;
        if (cur == upper)
            nb = *ubound;
        else
            s_minimal_bound(v, cur, &nb);
        if (s_put_bound(o, &nb) || s_put_byte(o, RECON_MODE_FP) || s_put_bytes(o, fp, sizeof fp))
            return RECON_E_NOSPACE;
        o->emitted_idx = cur;
    }
    return 0;
}

/* The sealed set as a view; 0 or a code when the pending items could not
 * be merged. */
static int s_view(recon_set_t *s, s_view_t *v)
{
    long n = recon_set_seal(s);
    if (n < 0) return n == -1 ? RECON_E_NOMEM : RECON_E_STORE;
    v->set = s;
    v->keys = recon_set_keys(s, &v->n);
    v->err = 0;
    return 0;
}

int recon_initiate(recon_set_t *s, uint8_t *out, size_t cap, size_t *out_len)
{
    if (cap < RECON_MAX_MSG) return RECON_E_NOSPACE;
    s_view_t v;
    int rc = s_view(s, &v);
    if (rc) return rc;
    s_out_t o = {.buf = out, .cap = cap};
    out[o.pos++] = RECON_VERSION;
    s_bound_t inf = {.inf = 1};
    if ((rc = s_split(&o, &v, 0, v.n, &inf))) return rc;
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
static int s_on_idlist(s_out_t *o, s_haves_t *h, size_t lower, size_t upper, const uint8_t *list,
                       size_t n, const s_bound_t *cur, int *answered)
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
        s_pref_t key = {.p = S_KEY(h->v, i) + 8};
        s_pref_t *hit = n ? bsearch(&key, pv, n, sizeof *pv, s_pref_cmp) : NULL;
        int rc = 0;
        if (hit)
            hit->found = 1;
        else
            rc = s_haves_add(h, i);
        if (rc) {
            free(pv);
            return rc;
        }
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

static int s_process(s_view_t *v, s_haves_t *h, const uint8_t *in, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len);

int recon_process(recon_set_t *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                  size_t *out_len, recon_have_fn have, void *arg)
{
    if (cap < RECON_MAX_MSG) return RECON_E_NOSPACE;
    if (len < 1 || len > RECON_MAX_MSG) return RECON_E_MALFORMED;
    if (in[0] != RECON_VERSION) return RECON_E_VERSION;
    s_view_t v;
    int rc = s_view(s, &v);
    if (rc) return rc;
    s_haves_t *h = malloc(sizeof(*h));
    if (!h) return RECON_E_NOMEM;
    h->v = &v;
    h->fn = have;
    h->arg = arg;
    h->n = 0;
    rc = s_process(&v, h, in, len, out, cap, out_len);
    free(h);
    return rc;
}

/* recon_process's walk over the message's ranges, haves gathered in h. */
static int s_process(s_view_t *v, s_haves_t *h, const uint8_t *in, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    size_t n = v->n;

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
        size_t lower = prev_idx, upper = s_lower_bound(v, prev_idx, &cur);
        if (v->err) return v->err;
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
            int rc = s_set_fp(v->set, lower, upper, fp);
            if (rc) return rc;
            if (memcmp(fp, in + pos, RECON_FP_LEN) == 0) {
                skip = 1;
            } else {
                S_FLUSH_SKIP();
                if ((rc = s_split(&o, v, lower, upper, &cur))) return rc;
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
            int rc = s_on_idlist(&o, h, lower, upper, in + pos, (size_t)cnt, &cur, &answered);
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
            for (size_t i = 0; i < (size_t)cnt && lower + i < upper; i++) {
                int rc = (in[pos + i / 8] >> (i % 8)) & 1 ? s_haves_add(h, lower + i) : 0;
                if (rc) return rc;
            }
            pos += nb;
            skip = 1;
            break;
        }
        default:
            return RECON_E_MALFORMED;
        }
#undef S_FLUSH_SKIP
        int rc = s_haves_flush(h); /* a range's haves are reported when it is done */
        if (rc) return rc;
        if (o.pos > RECON_FRAME_LIMIT) {
            /* Too big: drop this range's output and hand the peer one
             * fingerprint for everything from the last bound we emitted. */
            o = saved;
            skip = skip_before;
            uint8_t fp[RECON_FP_LEN];
            if ((rc = s_set_fp(v->set, o.emitted_idx, n, fp))) return rc;
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
