/* views_today_agg.c -- the tip of the day from the figures the store keeps
 * at ingest (store_agg.h), the same pick as views_today's pass.
 *
 * The pick hashes every candidate with a seed of the user and date, so a
 * new (user, date) needs one walk over the candidates; the walk reads the
 * small per-post records the store keeps (visibility, answer mark, the
 * chain's ratings and thanks) instead of decoding every tip, and looks an
 * author up only when a candidate would win. A pick already made for a
 * (user, date, seen set) is brought up to date from the store's log of the
 * posts whose candidacy or figures changed since (views_today_fold): a
 * change can only make a post win, unless the post is one of the bests,
 * and then the walk runs again. The count of unseen candidates comes from
 * the authors' sums: candidates are visible tips that answer nothing, so
 * the office's tips minus its answers, minus the asking user's own, minus
 * the seen ones.
 */
#include <stdlib.h>
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

static int s_candidate(const store_post_t *p)
{
    return (p->flags & STORE_POST_VISIBLE) && p->kind == EVENT_TIP &&
           !(p->flags & STORE_POST_ANSWER);
}

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_LEN);
}

typedef struct {
    store_rtxn_t *rt;
    const views_today_req_t *q;
    uint8_t seed[32];
    views_pick_t *p;
    event_t *ev;
    const uint8_t *stop[2]; /* fold: the bests it started from */
    int redo;
} s_walk_t;

/* 1 if the live event id is the asking user's own. */
static int s_own(s_walk_t *w, const uint8_t id[EVENT_ID_LEN])
{
    if (!w->q->user) return 0;
    if (store_get(w->rt, id, w->ev) != 0) return 1; /* gone: never pick it */
    return !memcmp(w->ev->author, w->q->user, EVENT_KEY_LEN);
}

static void s_offer(s_walk_t *w, const store_post_t *p)
{
    if (!s_candidate(p)) return;
    const views_today_req_t *q = w->q;
    int seen = q->nseen && bsearch(p->id, q->seen, q->nseen, EVENT_ID_LEN, s_id_cmp) != NULL;
    store_stats_t st = {.ratings = p->ratings, .rating_sum = p->rating_sum, .thanks = p->thanks};
    double key = views_today_key(w->seed, p->id, &st);
    if (views_pick_beats(w->p, seen, key, p->id) && !s_own(w, p->id))
        views_pick_set(w->p, seen, key, p->id);
}

static int s_walk_one(const store_post_t *p, void *arg)
{
    s_offer(arg, p);
    return 0;
}

int views_today_walk(store_rtxn_t *rt, const views_today_req_t *q, views_pick_t *p)
{
    memset(p, 0, sizeof(*p));
    s_walk_t w = {.rt = rt, .q = q, .p = p};
    views_today_seed(q, w.seed);
    if (!(w.ev = malloc(sizeof(*w.ev)))) return STORE_E_NOMEM;
    int rc = store_agg_posts_each(rt, s_walk_one, &w);
    free(w.ev);
    return rc > 0 ? STORE_E_NOMEM : rc;
}

static int s_fold_one(const uint8_t id[EVENT_ID_LEN], void *arg)
{
    s_walk_t *w = arg;
    for (int i = 0; i < 2; i++)
        if (w->stop[i] && !memcmp(w->stop[i], id, EVENT_ID_LEN)) {
            w->redo = 1;
            return 1;
        }
    store_post_t p;
    int rc = store_agg_post(w->rt, id, &p);
    if (rc == STORE_E_NOTFOUND) return 0; /* retracted since: it was no best */
    if (rc) return rc;
    s_offer(w, &p);
    return 0;
}

int views_today_fold(store_rtxn_t *rt, const views_today_req_t *q, uint64_t after, uint64_t upto,
                     views_pick_t *p)
{
    views_pick_t start = *p;
    s_walk_t w = {.rt = rt, .q = q, .p = p};
    views_today_seed(q, w.seed);
    for (int i = 0; i < 2; i++) w.stop[i] = start.have[i] ? start.id[i] : NULL;
    if (!(w.ev = malloc(sizeof(*w.ev)))) return STORE_E_NOMEM;
    int rc = store_agg_changes(rt, after, upto, s_fold_one, &w);
    free(w.ev);
    if (w.redo) return 1;
    return rc > 0 ? STORE_E_NOMEM : rc;
}

static int s_cands_one(const store_agg_author_t *a, void *arg)
{
    *(uint64_t *)arg += a->a.tips - a->a.answers;
    return 0;
}

int views_today_unseen(store_rtxn_t *rt, const views_today_req_t *q, size_t *unseen)
{
    uint64_t cands = 0, minus = 0;
    int rc = store_agg_authors_each(rt, s_cands_one, &cands);
    if (rc) return rc > 0 ? STORE_E_NOMEM : rc;
    store_agg_author_t me;
    if (q->user && (rc = store_agg_author(rt, q->user, &me)) == 0)
        minus += me.a.tips - me.a.answers;
    else if (q->user && rc != STORE_E_NOTFOUND)
        return rc;
    event_t *ev = q->nseen ? malloc(sizeof(*ev)) : NULL;
    if (q->nseen && !ev) return STORE_E_NOMEM;
    for (size_t i = 0; i < q->nseen; i++) {
        if (i && !memcmp(q->seen[i], q->seen[i - 1], EVENT_ID_LEN)) continue;
        store_post_t p;
        if (store_agg_post(rt, q->seen[i], &p) != 0 || !s_candidate(&p)) continue;
        if (q->user &&
            (store_get(rt, q->seen[i], ev) != 0 || !memcmp(ev->author, q->user, EVENT_KEY_LEN)))
            continue;
        minus++;
    }
    free(ev);
    *unseen = cands >= minus ? (size_t)(cands - minus) : 0;
    return 0;
}
