/* views_today_agg.c -- the tip of the day from the figures the store keeps
 * at ingest (store_agg.h): the same pick as views_today_scan, read in a
 * handful of cursor steps.
 *
 * The walk follows views_today.c's rules literally: from the seed's point
 * on the ring of ids, the post records in id order (store_agg_posts_from),
 * first taking each candidate with its weight's chance, then, if that
 * round found no unseen one, taking every candidate. The first unseen
 * candidate taken wins, and the walk stops there; the first seen one taken
 * is kept in case every candidate was seen. Authorship is looked up (in
 * the author index) only for a candidate that is taken. The counts come first, from the authors'
 * sums: candidates are visible tips that answer nothing, so the office's
 * tips minus its answers, minus the asking user's own, minus the seen
 * ones. They say what the walk looks for: with none left to pick it does
 * not walk; with no unseen one it stops at the first seen one taken. So a
 * request costs the same for a new (user, date) as for a repeated one, and
 * nothing is cached.
 */
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

static int s_candidate(const store_post_t *p)
{
    return (p->flags & STORE_POST_VISIBLE) && p->kind == EVENT_TIP &&
           !(p->flags & STORE_POST_ANSWER);
}

typedef struct {
    store_rtxn_t *rt;
    const views_today_req_t *q;
    uint8_t seed[32];
    int round;
    int want_seen; /* no unseen candidate: stop at the first seen one */
    views_pick_t *p;
} s_walk_t;

/* 1 if the live post p is the asking user's own, 0 if not, or a code. */
static int s_own(store_rtxn_t *rt, const views_today_req_t *q, const store_post_t *p)
{
    return q->user ? store_agg_post_by(rt, p, q->user) : 0;
}

/* One post of the walk: 1 stops it (the pick is made), a code fails it. */
static int s_walk_one(const store_post_t *p, void *arg)
{
    s_walk_t *w = arg;
    if (!s_candidate(p)) return 0;
    int seen = views_today_is_seen(w->q, p->id);
    if (w->p->have[seen]) return 0; /* one of its side was taken first */
    store_stats_t st = {.ratings = p->ratings, .rating_sum = p->rating_sum, .thanks = p->thanks};
    if (w->round == 0 && views_today_round(w->seed, p->id, &st) != 0) return 0;
    int own = s_own(w->rt, w->q, p);
    if (own) return own < 0 ? own : 0;
    views_pick_set(w->p, seen, w->round, p->id);
    return !seen || w->want_seen;
}

/* The pick by the walk; others: candidates not the user's own, unseen:
 * those of them not seen. */
static int s_walk(store_rtxn_t *rt, const views_today_req_t *q, size_t others, size_t unseen,
                  views_pick_t *p)
{
    memset(p, 0, sizeof(*p));
    if (!others) return 0;
    s_walk_t w = {.rt = rt, .q = q, .want_seen = unseen == 0, .p = p};
    views_today_seed(q, w.seed);
    int rc = 0;
    for (w.round = 0; w.round < 2 && rc == 0; w.round++) {
        rc = store_agg_posts_from(rt, w.seed, s_walk_one, &w);
        if (p->have[0] || (w.want_seen && p->have[1])) break;
    }
    return rc < 0 ? rc : 0;
}

/* One seen id's post (each once): counted if a candidate not the user's
 * own. */
static int s_seen_one(const store_post_t *p, int own, void *arg)
{
    *(uint64_t *)arg += !own && s_candidate(p);
    return 0;
}

static int s_cands_one(const store_agg_author_t *a, void *arg)
{
    *(uint64_t *)arg += a->a.tips - a->a.answers;
    return 0;
}

/* The candidates not the user's own (others) and those not seen either. */
static int s_counts(store_rtxn_t *rt, const views_today_req_t *q, size_t *others, size_t *unseen)
{
    uint64_t cands = 0, own = 0;
    int rc = store_agg_authors_each(rt, s_cands_one, &cands);
    if (rc) return rc > 0 ? STORE_E_NOMEM : rc;
    store_agg_author_t me;
    if (q->user && (rc = store_agg_author(rt, q->user, &me)) == 0)
        own = me.a.tips - me.a.answers;
    else if (q->user && rc != STORE_E_NOTFOUND)
        return rc;
    /* A user with no candidate of their own owns none of the seen ones:
     * then no seen id needs an authorship lookup. */
    uint64_t seen = 0;
    const uint8_t *by = own ? q->user : NULL;
    if ((rc = store_agg_posts_of(rt, q->seen, q->nseen, by, s_seen_one, &seen)) < 0) return rc;
    *others = cands >= own ? (size_t)(cands - own) : 0;
    *unseen = *others >= seen ? *others - (size_t)seen : 0;
    return 0;
}

int views_today_agg(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t others = 0, unseen = 0;
    views_pick_t p;
    int rc = s_counts(rt, q, &others, &unseen);
    if (rc == 0) rc = s_walk(rt, q, others, unseen, &p);
    if (rc) return rc;
    views_pick_finish(rt, &p, unseen, out);
    return 0;
}

int views_today(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out)
{
    int ready = store_agg_ready(rt);
    if (ready < 0) return ready;
    return ready ? views_today_agg(rt, q, out) : views_today_scan(rt, q, out);
}
