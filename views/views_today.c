/* views_today.c -- the tip of the day: its rules, and the pass over every
 * tip that applies them (the answer of a store without the figures kept
 * at ingest, and the reference the walk in views_today_agg.c is tested
 * against).
 *
 * Candidates are the visible tips that answer nothing and are not the
 * asking user's own. The pick is a weighted walk around a ring: event ids
 * are uniform hashes, so the seed of (user, date) is a point on the ring
 * of ids, and the walk goes from the first id at or after it, in id order,
 * wrapping past the last id once. In the first round a candidate is taken
 * with probability w / VIEWS_TODAY_W_MAX, decided by a hash of (seed, id);
 * w is its weight from ratings and thanks (store_prior ^ 6, capped at
 * VIEWS_TODAY_W_MAX), so a better-rated or more-thanked tip is taken more
 * often, in proportion. The second round takes every candidate, so there
 * is always a pick when there are candidates. The first unseen candidate
 * taken wins; a tip the user has seen wins only when every candidate was
 * seen (then the first seen one taken).
 *
 * So each candidate has a key of its own, (round it is first taken in,
 * whether its id is before the seed, id), and the pick is the smallest key:
 *   - a pure function of (user, date, candidate set): the same tip all day;
 *   - adding or removing a tip other than the winner never changes it,
 *     unless the new tip's own key is smaller: then the new tip wins;
 *   - a candidate's chance is about in proportion to its weight; it also
 *     grows with the gaps in id space before it, averaged over the gaps a
 *     walk passes (about VIEWS_TODAY_W_MAX of them), so the chances of tips
 *     of equal weight spread by about 1/sqrt(2 * VIEWS_TODAY_W_MAX), some
 *     18 % (relative standard deviation), where hashing every candidate
 *     would have none: the price of reading only a few;
 *   - the walk reads, on average, about VIEWS_TODAY_W_MAX / (mean weight)
 *     candidates, however many tips the store holds, with an id-ordered
 *     cursor (store_agg_posts_from). It reads more only when almost every
 *     candidate is the user's own or seen.
 * The pass here computes every candidate's key and keeps the smallest
 * unseen and seen ones, and counts the unseen candidates.
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "views_int.h"

#define S_TODAY_EXPONENT 6.0 /* weight = prior^6: 5 stars by 5 people ~3x, 10 thanks ~4x */

typedef struct {
    store_rtxn_t *rt;
    const views_today_req_t *q;
    uint8_t seed[32];
    size_t unseen;
    views_pick_t pick;
} s_today_t;

int views_today_is_seen(const views_today_req_t *q, const uint8_t id[EVENT_ID_LEN])
{
    size_t lo = 0, hi = q->nseen;
    while (lo < hi) { /* seen is sorted ascending */
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(q->seen[mid], id, EVENT_PFX_LEN);
        if (c == 0) return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int s_answers_something(const event_t *ev)
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == EVENT_REF_ANSWERS) return 1;
    return 0;
}

void views_today_seed(const views_today_req_t *q, uint8_t seed[32])
{
    /* seed = BLAKE2b("tipd-today" 0 || user key (zeros if none) || date) */
    uint8_t user[EVENT_KEY_LEN] = {0};
    if (q->user) memcpy(user, q->user, EVENT_KEY_LEN);
    const char *date = q->date ? q->date : "";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const uint8_t *)"tipd-today", 11);
    crypto_generichash_update(&h, user, EVENT_KEY_LEN);
    crypto_generichash_update(&h, (const uint8_t *)date, strlen(date));
    crypto_generichash_final(&h, seed, 32);
}

int views_today_round(const uint8_t seed[32], const uint8_t id[EVENT_ID_LEN],
                      const store_stats_t *st)
{
    double w = pow(store_prior(st), S_TODAY_EXPONENT);
    if (w > VIEWS_TODAY_W_MAX) w = VIEWS_TODAY_W_MAX;
    uint8_t h[8], msg[32 + EVENT_ID_LEN];
    memcpy(msg, seed, 32);
    memcpy(msg + 32, id, EVENT_ID_LEN);
    crypto_generichash(h, sizeof(h), msg, sizeof(msg), NULL, 0);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | h[i];
    double u = (double)(x >> 11) / 9007199254740992.0; /* [0,1), 53 bits */
    return u * VIEWS_TODAY_W_MAX < w ? 0 : 1;
}

int views_pick_beats(const views_pick_t *p, const uint8_t seed[32], int seen, int round,
                     const uint8_t id[EVENT_ID_LEN])
{
    if (!p->have[seen]) return 1;
    if (round != p->round[seen]) return round < p->round[seen];
    int wrap = memcmp(id, seed, EVENT_ID_LEN) < 0,
        had = memcmp(p->id[seen], seed, EVENT_ID_LEN) < 0;
    if (wrap != had) return wrap < had;
    return memcmp(id, p->id[seen], EVENT_ID_LEN) < 0;
}

void views_pick_set(views_pick_t *p, int seen, int round, const uint8_t id[EVENT_ID_LEN])
{
    p->have[seen] = 1;
    p->round[seen] = round;
    memcpy(p->id[seen], id, EVENT_ID_LEN);
}

void views_pick_finish(store_rtxn_t *rt, const views_pick_t *p, size_t unseen, views_today_t *out)
{
    memset(out, 0, sizeof(*out));
    int pick = p->have[0] ? 0 : 1;
    out->unseen = unseen;
    if (!p->have[pick]) return;
    out->seen_before = pick == 1;
    views_today_load(rt, p->id[pick], out);
}

static int s_today_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_today_t *t = arg;
    const views_today_req_t *q = t->q;
    if (s_answers_something(ev)) return 0; /* answers need their question */
    if (q->user && !memcmp(ev->author, q->user, EVENT_KEY_LEN)) return 0;
    int seen = views_today_is_seen(q, ev->id);
    store_stats_t st;
    /* the chain's ratings and thanks, as search's prior */
    if (store_chain_stats(t->rt, ev->id, &st) != 0) return 0;
    int round = views_today_round(t->seed, ev->id, &st);
    t->unseen += !seen;
    if (views_pick_beats(&t->pick, t->seed, seen, round, ev->id))
        views_pick_set(&t->pick, seen, round, ev->id);
    return 0;
}

int views_today_scan(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out)
{
    memset(out, 0, sizeof(*out));
    s_today_t t;
    memset(&t, 0, sizeof(t));
    t.rt = rt;
    t.q = q;
    views_today_seed(q, t.seed);
    store_filter_t f = {.kind = EVENT_TIP};
    int rc = store_list(rt, &f, 0, s_today_one, &t);
    if (rc) return rc > 0 ? STORE_E_NOMEM : rc;
    views_pick_finish(rt, &t.pick, t.unseen, out);
    return 0;
}

void views_today_load(store_rtxn_t *rt, const uint8_t id[EVENT_ID_LEN], views_today_t *out)
{
    if (!(out->ev = malloc(sizeof(*out->ev)))) return;
    if (store_get(rt, id, out->ev) != 0) {
        free(out->ev);
        out->ev = NULL;
        return;
    }
    out->have = 1;
    views_tip(rt, out->ev, &out->fig);
}

void views_today_free(views_today_t *t)
{
    if (!t) return;
    free(t->ev);
    memset(t, 0, sizeof(*t));
}
