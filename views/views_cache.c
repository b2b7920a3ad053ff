/* views_cache.c -- the base of `stats` kept per state of the store's
 * events, so that `stats` need not pass over the whole store on every
 * request.
 *
 * A store keeping the figures at ingest (store_agg.h) answers `stats`
 * without this cache (and `today` never needs one: views_today_agg.c).
 * What follows is the path of a store without them (a schema-3 store
 * opened read-only).
 *
 * The key is views_state_key: how many events the read view's snapshot
 * holds. The held set only grows, so the key changes with every event that
 * arrives and with nothing else (the local record of searches that missed
 * is read per request): a cached answer is used only for exactly the events
 * it was computed from. Invalidation is exact by construction and needs no
 * hook in the write path. The base is shared by reference.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

struct views_cache {
    pthread_mutex_t mu;
    views_base_t *base;
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
