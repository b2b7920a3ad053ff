/* views_stats_me.c -- the "me" part of `stats`: what one author gave and
 * got, read from their own events instead of a pass over the whole store.
 *
 * Their sums, and the answers their visible questions got, come from the
 * figures the store keeps at ingest (store_agg_author), or, in a store
 * without them, from the author index (store_author) and each question's
 * edit chain; their thanks
 * stories from the references to each of their live events, newest first
 * by (created_at, id) as the time index would list them. The result is the
 * same as views_stats_scan's (tests/unit/test_views_aggregates.c checks it
 * on random stores).
 */
#include <stdlib.h>
#include <string.h>

#include "store_agg.h"
#include "views_int.h"

typedef struct {
    uint64_t t;
    uint8_t id[EVENT_ID_LEN];
} s_th_t;

typedef struct {
    store_rtxn_t *rt;
    views_stats_t *out;
    const uint8_t *target; /* the event whose thanks are gathered */
    s_th_t *v;
    size_t n, cap;
} s_me_t;

/* The first TARGET reference of ev (the one a thanks counts for). */
static const uint8_t *s_target(const event_t *ev)
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == EVENT_REF_TARGET) return ev->refs[i].id;
    return NULL;
}

static int s_thanks_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_me_t *x = arg;
    const uint8_t *t = s_target(ev);
    if (ev->kind != EVENT_THANKS || !ev->body_len || !t || memcmp(t, x->target, EVENT_ID_LEN))
        return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 16;
        s_th_t *nv = realloc(x->v, nc * sizeof(*nv));
        if (!nv) return STORE_E_NOMEM;
        x->v = nv;
        x->cap = nc;
    }
    x->v[x->n].t = ev->created_at;
    memcpy(x->v[x->n++].id, ev->id, EVENT_ID_LEN);
    return 0;
}

static int s_mine_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_me_t *x = arg;
    x->target = ev->id;
    return store_refs(x->rt, ev->id, EVENT_REF_TARGET, s_thanks_one, x);
}

static int s_question_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_me_t *x = arg;
    uint32_t answers;
    views_question_chain(x->rt, ev, &answers, NULL);
    x->out->me.answers_got += answers;
    if (!answers) x->out->me.open_questions++;
    return 0;
}

/* Newest first: created_at, then id, both descending. */
static int s_th_cmp(const void *pa, const void *pb)
{
    const s_th_t *a = pa, *b = pb;
    if (a->t != b->t) return a->t > b->t ? -1 : 1;
    return -memcmp(a->id, b->id, EVENT_ID_LEN);
}

int views_stats_me(store_rtxn_t *rt, const uint8_t me[EVENT_KEY_LEN], size_t max_stories,
                   views_stats_t *out)
{
    out->has_me = 1;
    memset(&out->me, 0, sizeof(out->me));
    /* the sums kept at ingest when the store has them, else from the
     * author's own events */
    int agg = store_agg_ready(rt) == 1, rc = 0;
    store_agg_author_t aa;
    if (agg && store_agg_author(rt, me, &aa) == 0) {
        out->me.a = aa.a;
        out->me.answers_got = aa.answers_got;
        out->me.open_questions = aa.open_questions;
    } else if (agg || store_author(rt, me, &out->me.a) != 0) {
        memset(&out->me.a, 0, sizeof(out->me.a));
    }
    memcpy(out->me.a.author, me, EVENT_KEY_LEN);
    views_name(rt, me, 0, out->me.name, sizeof(out->me.name), out->me.team, sizeof(out->me.team));
    s_me_t x = {.rt = rt, .out = out};
    store_filter_t fq = {.kind = EVENT_QUESTION, .author = me};
    if (!agg) rc = store_list(rt, &fq, 0, s_question_one, &x);
    store_filter_t fa = {.kind = 0, .author = me, .include_hidden = 1};
    if (rc == 0 && max_stories) rc = store_list(rt, &fa, 0, s_mine_one, &x);
    if (rc == 0 && x.n) qsort(x.v, x.n, sizeof(*x.v), s_th_cmp);
    size_t want = x.n < max_stories ? x.n : max_stories;
    event_t *th = want ? malloc(sizeof(*th)) : NULL,
            *target = want ? malloc(sizeof(*target)) : NULL;
    if (want && rc == 0 && (!th || !target)) rc = STORE_E_NOMEM;
    if (rc == 0 && want && !(out->me.stories = calloc(want, sizeof(*out->me.stories))))
        rc = STORE_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < want; i++) {
        if (store_get(rt, x.v[i].id, th) != 0 || store_get(rt, s_target(th), target) != 0)
            continue; /* both were read a moment ago in this snapshot */
        views_story_fill(rt, th, target, &out->me.stories[out->me.nstories++]);
    }
    free(th);
    free(target);
    free(x.v);
    return rc > 0 ? STORE_E_NOMEM : rc;
}
