/* views_cache.c -- derived views kept per state of the store's events, so
 * that `stats` and `today` need not pass over the whole store on every
 * request.
 *
 * A store keeping the figures at ingest (store_agg.h) answers `stats`
 * without this cache, and `today` with a pick per (user, date, seen set)
 * that the store's change log brings forward to any later state
 * (views_today_agg.c). What follows is the path of a store without them
 * (a schema-3 store opened read-only).
 *
 * The key is views_state_key: how many events the read view's snapshot
 * holds. The held set only grows, so the key changes with every event that
 * arrives and with nothing else (the local record of searches that missed
 * is read per request): a cached answer is used only for exactly the events
 * it was computed from. Invalidation is exact by construction and needs no
 * hook in the write path. The `stats` base is shared by reference; `today`
 * keeps its last few picks.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

#define S_TODAY_SLOTS 32

typedef struct {
    uint64_t state;  /* views_state_key; 0: empty */
    uint8_t key[32]; /* BLAKE2b of user, date and seen set */
    int have, seen_before;
    size_t unseen;
    uint8_t pick[EVENT_ID_LEN];
    int folds;         /* pick below is kept, for views_today_fold */
    views_pick_t best; /* with folds */
} s_today_slot_t;

struct views_cache {
    pthread_mutex_t mu;
    views_base_t *base;
    s_today_slot_t today[S_TODAY_SLOTS];
    unsigned next;
};

views_cache_t *views_cache_new(void)
{
    views_cache_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    if (pthread_mutex_init(&c->mu, NULL)) {
        free(c);
        return NULL;
    }
    return c;
}

void views_cache_destroy(views_cache_t **p)
{
    if (!p || !*p) return;
    views_cache_t *c = *p;
    views_base_unref(&c->base);
    pthread_mutex_destroy(&c->mu);
    free(c);
    *p = NULL;
}

/* ---- stats ---- */

/* A reference to the base of rt's events: the cached one, or a new one
 * (then cached unless one of a later state is already there). */
static int s_base(views_cache_t *c, store_rtxn_t *rt, views_base_t **out)
{
    uint64_t key = views_state_key(rt);
    if (c && key) {
        pthread_mutex_lock(&c->mu);
        if (c->base && c->base->key == key) {
            __atomic_add_fetch(&c->base->refs, 1, __ATOMIC_ACQ_REL);
            *out = c->base;
            pthread_mutex_unlock(&c->mu);
            return 0;
        }
        pthread_mutex_unlock(&c->mu);
    }
    /* every new tip's time (8 bytes each), so any "now" is answered exactly */
    int rc = views_base_build(rt, 0, out);
    if (rc || !c || !key) return rc;
    pthread_mutex_lock(&c->mu);
    if (!c->base || c->base->key < key) {
        views_base_unref(&c->base);
        __atomic_add_fetch(&(*out)->refs, 1, __ATOMIC_ACQ_REL);
        c->base = *out;
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int views_stats(views_cache_t *c, store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out)
{
    /* a store keeping the figures at ingest answers without a pass */
    int ready = store_agg_ready(rt);
    if (ready < 0) return ready;
    if (ready) return views_stats_agg(rt, q, out);
    views_base_t *b = NULL;
    int rc = s_base(c, rt, &b);
    if (rc) return rc;
    rc = views_stats_from(b, rt, q, out);
    views_base_unref(&b);
    /* weeks before what the base keeps (a pinned "now" long ago): one pass */
    if (rc == STORE_E_ARG) rc = views_stats_scan(rt, q, out);
    return rc;
}

/* ---- today ---- */

static void s_today_key(const views_today_req_t *q, uint8_t key[32])
{
    uint8_t user[EVENT_KEY_LEN] = {0};
    if (q->user) memcpy(user, q->user, EVENT_KEY_LEN);
    const char *date = q->date ? q->date : "";
    size_t dl = strlen(date);
    uint64_t n = q->nseen;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, user, EVENT_KEY_LEN);
    crypto_generichash_update(&h, (const uint8_t *)&dl, sizeof(dl));
    crypto_generichash_update(&h, (const uint8_t *)date, dl);
    crypto_generichash_update(&h, (const uint8_t *)&n, sizeof(n));
    if (q->nseen) crypto_generichash_update(&h, (const uint8_t *)q->seen, q->nseen * EVENT_ID_LEN);
    crypto_generichash_final(&h, key, 32);
}

/* today from the store's figures: the slot's pick brought up to date, or
 * one walk over the posts' records. */
static int s_today_agg(views_cache_t *c, store_rtxn_t *rt, const views_today_req_t *q,
                       views_today_t *out)
{
    uint64_t state = views_state_key(rt);
    uint8_t key[32];
    s_today_key(q, key);
    s_today_slot_t hit = {0};
    int at = -1;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < S_TODAY_SLOTS; i++)
        if (c->today[i].folds && c->today[i].state <= state && c->today[i].state > hit.state &&
            !memcmp(c->today[i].key, key, 32)) {
            hit = c->today[i];
            at = i;
        }
    pthread_mutex_unlock(&c->mu);
    views_pick_t p = hit.best;
    int rc = at < 0 ? 1 : views_today_fold(rt, q, hit.state - 1, state - 1, &p);
    if (rc == 1 || rc == STORE_E_NOTFOUND) rc = views_today_walk(rt, q, &p);
    size_t unseen = 0;
    if (rc == 0) rc = views_today_unseen(rt, q, &unseen);
    if (rc) return rc;
    views_pick_finish(rt, &p, unseen, out);
    s_today_slot_t e = {.state = state, .folds = 1, .best = p};
    memcpy(e.key, key, 32);
    pthread_mutex_lock(&c->mu);
    if (at >= 0 && !memcmp(c->today[at].key, key, 32) && c->today[at].state <= state)
        c->today[at] = e; /* one slot per request shape, moved forward */
    else
        c->today[c->next++ % S_TODAY_SLOTS] = e;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int views_today_cached(views_cache_t *c, store_rtxn_t *rt, const views_today_req_t *q,
                       views_today_t *out)
{
    int ready = store_agg_ready(rt);
    if (ready < 0) return ready;
    if (ready && views_state_key(rt)) {
        if (c) return s_today_agg(c, rt, q, out);
        views_pick_t p;
        size_t unseen = 0;
        int rc = views_today_walk(rt, q, &p);
        if (rc == 0) rc = views_today_unseen(rt, q, &unseen);
        if (rc == 0) views_pick_finish(rt, &p, unseen, out);
        return rc;
    }
    if (!c) return views_today(rt, q, out);
    uint64_t state = views_state_key(rt);
    if (!state) return views_today(rt, q, out);
    uint8_t key[32];
    s_today_key(q, key);
    s_today_slot_t hit = {0};
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < S_TODAY_SLOTS; i++)
        if (!c->today[i].folds && c->today[i].state == state && !memcmp(c->today[i].key, key, 32))
            hit = c->today[i];
    pthread_mutex_unlock(&c->mu);
    if (hit.state) {
        memset(out, 0, sizeof(*out));
        out->unseen = hit.unseen;
        out->seen_before = hit.seen_before;
        if (hit.have) views_today_load(rt, hit.pick, out);
        return 0;
    }
    int rc = views_today(rt, q, out);
    if (rc) return rc;
    s_today_slot_t e = {
        .state = state, .have = out->have, .seen_before = out->seen_before, .unseen = out->unseen};
    memcpy(e.key, key, 32);
    if (out->have) memcpy(e.pick, out->ev->id, EVENT_ID_LEN);
    pthread_mutex_lock(&c->mu);
    c->today[c->next++ % S_TODAY_SLOTS] = e;
    pthread_mutex_unlock(&c->mu);
    return 0;
}
