/* views_stats_agg.c -- `stats` from the figures the store keeps at ingest
 * (store_agg.h) instead of a pass over every event.
 *
 * The store keeps per author the sums store_author reports, per topic the
 * visible tips, new tips in time buckets and the live thanks with a story,
 * all in the same write transaction as the events, so the answer is that
 * of views_stats_scan for the same snapshot (tests/unit/
 * test_views_aggregates.c holds them equal on random stores) at the cost
 * of a walk over the authors and the topics and a few reads per week: no
 * cache, nothing to invalidate, the same time for the first request after
 * a write as for any other. What stays per request: the anonymity facts of
 * the few authors with a single post, display names, the stories' events,
 * the misses and the asking user's own stories (views_stats_me.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

typedef struct {
    store_rtxn_t *rt;
    views_stats_t *out;
    views_thanked_list_t thanked;
} s_authors_t;

/* views_stats_scan's author rule: an author with a single post, stamped on
 * the anonymous grain, no profile name, nothing else signed. */
static int s_anonymous(store_rtxn_t *rt, const store_agg_author_t *a)
{
    if (a->a.tips + a->a.questions != 1) return 0;
    store_agg_author_t t;
    if (store_agg_author(rt, a->a.author, &t) != 0) return 0;
    int named = views_author_named(rt, a->a.author);
    return views_anonymous_rule(1, t.a.first_ms, named,
                                !a->a.ratings_given && !a->a.thanks_given &&
                                    t.a.first_ms == t.a.last_ms);
}

static int s_author_one(const store_agg_author_t *a, void *arg)
{
    s_authors_t *x = arg;
    views_stats_t *o = x->out;
    o->answers += a->a.answers;
    o->ratings += a->a.ratings_received;
    o->rating_sum += a->a.rating_sum_received;
    o->thanks += a->a.thanks_received;
    o->imported += a->a.imported;
    o->open_questions += a->open_questions;
    if (a->a.tips + a->a.questions == 0) return 0;
    int anon = s_anonymous(x->rt, a);
    if (anon)
        o->anonymous_posts++;
    else
        o->contributors++;
    if (!a->a.thanks_received) return 0;
    return views_thanked_add(&x->thanked, a->a.author, a->a.thanks_received, a->a.tips, anon);
}

typedef struct {
    views_topic_t *v;
    size_t n, cap;
} s_topics_t;

static int s_topic_one(const char *topic, uint32_t tips, void *arg)
{
    s_topics_t *t = arg;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        views_topic_t *nv = realloc(t->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        t->v = nv;
        t->cap = nc;
    }
    snprintf(t->v[t->n].topic, sizeof(t->v[t->n].topic), "%s", topic);
    t->v[t->n++].tips = tips;
    return 0;
}

typedef struct {
    store_rtxn_t *rt;
    views_stats_t *out;
    size_t max;
    event_t *th, *target;
} s_stories_t;

/* A story shows when its thanks and its target are both live. */
static int s_story_one(const uint8_t thanks[EVENT_ID_LEN], const uint8_t target[EVENT_ID_LEN],
                       uint64_t created_at, void *arg)
{
    (void)created_at;
    s_stories_t *x = arg;
    views_stats_t *o = x->out;
    if (o->nstories >= x->max) return 1;
    if (store_get(x->rt, thanks, x->th) != 0 || store_get(x->rt, target, x->target) != 0) return 0;
    views_story_fill(x->rt, x->th, x->target, &o->stories[o->nstories++]);
    return 0;
}

static int s_stories(store_rtxn_t *rt, size_t max, views_stats_t *o)
{
    if (!max) return 0;
    s_stories_t x = {.rt = rt, .out = o, .max = max};
    o->stories = calloc(max, sizeof(*o->stories));
    x.th = malloc(sizeof(*x.th));
    x.target = malloc(sizeof(*x.target));
    int rc = o->stories && x.th && x.target ? store_agg_stories_each(rt, s_story_one, &x)
                                            : STORE_E_NOMEM;
    free(x.th);
    free(x.target);
    return rc == 1 ? 0 : rc;
}

int views_stats_agg(store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    views_stats_window(q, out);
    int rc = store_counts(rt, &out->counts);
    for (int i = 0; rc == 0 && i < out->weeks; i++) {
        uint64_t lo = out->start + (uint64_t)i * VIEWS_WEEK_MS, hi = lo + VIEWS_WEEK_MS, n = 0;
        if (hi > out->now) hi = out->now;
        if (hi <= lo) continue;
        rc = store_agg_new_tips(rt, lo, hi, &n);
        out->per_week[i] = (uint32_t)n;
    }
    s_authors_t au = {.rt = rt, .out = out};
    if (rc == 0) rc = store_agg_authors_each(rt, s_author_one, &au);
    size_t top = q->top > VIEWS_TOP_MAX ? VIEWS_TOP_MAX : q->top;
    if (rc == 0) views_thanked_top(rt, &au.thanked, top, top, out);
    s_topics_t tp = {0};
    if (rc == 0) rc = store_agg_topics_each(rt, s_topic_one, &tp);
    if (rc == 0) {
        if (tp.n) qsort(tp.v, tp.n, sizeof(*tp.v), views_topic_cmp);
        out->topics = tp.v;
        out->ntopics = tp.n < top ? tp.n : top;
        tp.v = NULL;
    }
    size_t stories = q->stories > VIEWS_STORIES_MAX ? VIEWS_STORIES_MAX : q->stories;
    if (rc == 0) rc = s_stories(rt, stories, out);
    if (rc == 0) rc = views_misses(rt, q->misses, &out->misses, &out->nmisses);
    if (rc == 0 && q->me) rc = views_stats_me(rt, q->me, q->stories, out);
    free(au.thanked.v);
    free(tp.v);
    if (rc > 0) rc = STORE_E_NOMEM;
    if (rc) views_stats_free(out);
    return rc;
}
