/* views_stats.c -- the office statistics of `tip stats`: tips per week,
 * open questions, top topics, the most thanked authors, the newest thanks
 * stories, what the asking user gave and got, and the search misses.
 *
 * One pass over every live event (store_list, newest first) plus one over
 * the author index (store_authors_each), both in the caller's read view.
 * Topic counts go to a small open-addressing table (a store holds a few
 * thousand distinct topics, not one per tip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

static int s_ref(const event_t *ev, int role, uint8_t out[EVENT_ID_LEN])
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == role) {
            if (out) memcpy(out, ev->refs[i].id, EVENT_ID_LEN);
            return 1;
        }
    return 0;
}

/* ---- topic counts ---- */

typedef struct {
    views_topic_t *slot; /* topic[0] == 0: empty */
    size_t cap, n;
} s_topics_t;

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static int s_topic_add(s_topics_t *t, const char *topic)
{
    if (!topic[0]) return 0; /* never stored: topics are non-empty */
    if (2 * (t->n + 1) > t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 256;
        views_topic_t *ns = calloc(nc, sizeof(*ns));
        if (!ns) return ENOMEM;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].topic[0]) continue;
            size_t j = s_hash(t->slot[i].topic) & (nc - 1);
            while (ns[j].topic[0]) j = (j + 1) & (nc - 1);
            ns[j] = t->slot[i];
        }
        free(t->slot);
        t->slot = ns;
        t->cap = nc;
    }
    size_t j = s_hash(topic) & (t->cap - 1);
    while (t->slot[j].topic[0] && strcmp(t->slot[j].topic, topic)) j = (j + 1) & (t->cap - 1);
    if (!t->slot[j].topic[0]) {
        snprintf(t->slot[j].topic, sizeof(t->slot[j].topic), "%s", topic);
        t->n++;
    }
    t->slot[j].tips++;
    return 0;
}

static int s_topic_cmp(const void *pa, const void *pb)
{
    const views_topic_t *a = pa, *b = pb;
    if (a->tips != b->tips) return a->tips > b->tips ? -1 : 1;
    return strcmp(a->topic, b->topic);
}

/* Most tips first, then by name; the table becomes the top list. */
static void s_topics_top(s_topics_t *t, size_t top, views_stats_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].topic[0]) t->slot[k++] = t->slot[i];
    if (k) qsort(t->slot, k, sizeof(*t->slot), s_topic_cmp);
    out->topics = t->slot;
    out->ntopics = k < top ? k : top;
    t->slot = NULL;
}

/* ---- the pass over events ---- */

typedef struct {
    store_rtxn_t *rt;
    views_stats_t *out;
    size_t max_stories;
    size_t cap_stories, cap_mine;
    s_topics_t topics;
    event_t *tmp; /* scratch for target lookups */
} s_pass_t;

/* 1 if ev is an edit of one of its author's own events. */
static int s_is_edit(s_pass_t *x, const event_t *ev)
{
    uint8_t prev[EVENT_ID_LEN];
    if (!s_ref(ev, EVENT_REF_SUPERSEDES, prev)) return 0;
    if (store_get(x->rt, prev, x->tmp) != 0) return 1; /* unknown or gone: still not new */
    return memcmp(x->tmp->author, ev->author, EVENT_KEY_LEN) == 0;
}

static void s_story(store_rtxn_t *rt, const event_t *th, const event_t *target, views_story_t *o)
{
    char team[VIEWS_TEAM_CAP];
    memset(o, 0, sizeof(*o));
    views_name(rt, th->author, 0, o->from_name, sizeof(o->from_name), team, sizeof(team));
    views_name(rt, target->author, views_anonymous(rt, target), o->to_name, sizeof(o->to_name),
               team, sizeof(team));
    memcpy(o->id, th->id, EVENT_ID_LEN);
    memcpy(o->tip, target->id, EVENT_ID_LEN);
    memcpy(o->from, th->author, EVENT_KEY_LEN);
    memcpy(o->to, target->author, EVENT_KEY_LEN);
    snprintf(o->tip_title, sizeof(o->tip_title), "%s", target->title);
    snprintf(o->story, sizeof(o->story), "%s", th->body);
    o->created_at = th->created_at;
}

static views_story_t *s_story_slot(views_story_t **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        views_story_t *nv = realloc(*v, nc * sizeof(*nv));
        if (!nv) return NULL;
        *v = nv;
        *cap = nc;
    }
    return &(*v)[(*n)++];
}

static int s_thanks(s_pass_t *x, const event_t *ev)
{
    views_stats_t *o = x->out;
    if (!ev->body_len) return 0;
    int want_all = o->nstories < x->max_stories;
    int want_me = o->has_me && o->me.nstories < x->max_stories;
    if (!want_all && !o->has_me) return 0;
    uint8_t tid[EVENT_ID_LEN];
    if (!s_ref(ev, EVENT_REF_TARGET, tid) || store_get(x->rt, tid, x->tmp) != 0) return 0;
    if (want_all) {
        views_story_t *s = s_story_slot(&o->stories, &o->nstories, &x->cap_stories);
        if (!s) return ENOMEM;
        s_story(x->rt, ev, x->tmp, s);
    }
    if (want_me && !memcmp(x->tmp->author, o->me.a.author, EVENT_KEY_LEN)) {
        views_story_t *s = s_story_slot(&o->me.stories, &o->me.nstories, &x->cap_mine);
        if (!s) return ENOMEM;
        s_story(x->rt, ev, x->tmp, s);
    }
    return 0;
}

static int s_pass_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_pass_t *x = arg;
    views_stats_t *o = x->out;
    store_stats_t st;
    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION:
        if (store_stats(x->rt, ev->id, &st) != 0) return 0;
        if (ev->kind == EVENT_TIP && ev->created_at >= o->start && ev->created_at < o->now &&
            !s_is_edit(x, ev))
            o->per_week[(ev->created_at - o->start) / VIEWS_WEEK_MS]++;
        if (st.superseded) return 0;
        if (ev->kind == EVENT_TIP) {
            for (int i = 0; i < ev->ntopics; i++)
                if (s_topic_add(&x->topics, ev->topics[i])) return ENOMEM;
        } else {
            uint32_t answers;
            views_question_chain(x->rt, ev, &answers, NULL);
            if (!answers) o->open_questions++;
            if (o->has_me && !memcmp(ev->author, o->me.a.author, EVENT_KEY_LEN)) {
                o->me.answers_got += answers;
                if (!answers) o->me.open_questions++;
            }
        }
        return 0;
    case EVENT_THANKS:
        return s_thanks(x, ev);
    default:
        return 0;
    }
}

/* ---- the pass over authors ---- */

typedef struct {
    store_rtxn_t *rt;
    views_stats_t *out;
    views_thanked_t *v;
    size_t n, cap;
} s_authors_t;

static int s_author_one(const store_author_t *a, void *arg)
{
    s_authors_t *x = arg;
    views_stats_t *o = x->out;
    o->answers += a->answers;
    o->ratings += a->ratings_received;
    o->rating_sum += a->rating_sum_received;
    o->thanks += a->thanks_received;
    if (a->tips + a->questions == 0) return 0;
    /* views_anonymous's rule, from the author's sums: one tip or question,
     * nothing else signed, on a whole minute, no profile name. */
    char name[VIEWS_NAME_CAP], team[VIEWS_TEAM_CAP];
    int anon =
        a->tips + a->questions == 1 && !a->ratings_given && !a->thanks_given &&
        a->first_ms == a->last_ms && event_on_anon_grain(a->first_ms) &&
        !(store_profile(x->rt, a->author, name, sizeof(name), team, sizeof(team)) == 0 && name[0]);
    if (anon)
        o->anonymous_posts++;
    else
        o->contributors++;
    if (!a->thanks_received) return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        views_thanked_t *nv = realloc(x->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        x->v = nv;
        x->cap = nc;
    }
    views_thanked_t *t = &x->v[x->n++];
    memcpy(t->author, a->author, EVENT_KEY_LEN);
    t->thanks = a->thanks_received;
    t->tips = a->tips;
    t->name[0] = anon; /* resolved to a name for the top ones only */
    return 0;
}

/* Most thanked first, then by key (stable across nodes). */
static int s_thanked_cmp(const void *pa, const void *pb)
{
    const views_thanked_t *a = pa, *b = pb;
    if (a->thanks != b->thanks) return a->thanks > b->thanks ? -1 : 1;
    return memcmp(a->author, b->author, EVENT_KEY_LEN);
}

static void s_thanked_top(s_authors_t *x, size_t top)
{
    views_stats_t *o = x->out;
    if (x->n) qsort(x->v, x->n, sizeof(*x->v), s_thanked_cmp);
    o->thanked = x->v;
    o->nthanked = x->n < top ? x->n : top;
    for (size_t i = 0; i < o->nthanked; i++) {
        views_thanked_t *t = &o->thanked[i];
        views_name(x->rt, t->author, t->name[0], t->name, sizeof(t->name), t->team,
                   sizeof(t->team));
    }
    x->v = NULL;
}

int views_stats(store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    int weeks = q->weeks < 1 ? 1 : q->weeks > VIEWS_MAX_WEEKS ? VIEWS_MAX_WEEKS : q->weeks;
    out->now = q->now ? q->now : event_now_ms();
    out->weeks = weeks;
    out->start =
        out->now > (uint64_t)weeks * VIEWS_WEEK_MS ? out->now - (uint64_t)weeks * VIEWS_WEEK_MS : 0;
    if (q->me) {
        out->has_me = 1;
        memcpy(out->me.a.author, q->me, EVENT_KEY_LEN);
    }
    int rc = store_counts(rt, &out->counts);
    if (rc < 0) return rc;
    s_pass_t x = {.rt = rt, .out = out, .max_stories = q->stories};
    s_authors_t au = {.rt = rt, .out = out};
    if (!(x.tmp = malloc(sizeof(*x.tmp)))) {
        rc = STORE_E_NOMEM;
        goto done;
    }
    store_filter_t f = {.kind = 0, .include_hidden = 1};
    if ((rc = store_list(rt, &f, 0, s_pass_one, &x)) != 0) goto done;
    if ((rc = store_authors_each(rt, s_author_one, &au)) != 0) goto done;
    s_topics_top(&x.topics, q->top, out);
    s_thanked_top(&au, q->top);
    if ((rc = views_misses(rt, q->misses, &out->misses, &out->nmisses)) != 0) goto done;
    if (out->has_me) {
        int arc = store_author(rt, q->me, &out->me.a);
        if (arc != 0) {
            memset(&out->me.a, 0, sizeof(out->me.a));
            memcpy(out->me.a.author, q->me, EVENT_KEY_LEN);
        }
        views_name(rt, q->me, 0, out->me.name, sizeof(out->me.name), out->me.team,
                   sizeof(out->me.team));
    }
done:
    free(x.tmp);
    free(x.topics.slot);
    free(au.v);
    if (rc > 0) rc = STORE_E_NOMEM;
    if (rc) views_stats_free(out);
    return rc;
}

void views_stats_free(views_stats_t *st)
{
    if (!st) return;
    free(st->topics);
    free(st->thanked);
    free(st->stories);
    free(st->me.stories);
    views_misses_free(&st->misses, st->nmisses);
    memset(st, 0, sizeof(*st));
}
