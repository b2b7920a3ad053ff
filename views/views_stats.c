/* views_stats.c -- the office statistics of `tip stats`: tips per week,
 * open questions, top topics, the most thanked authors, the newest thanks
 * stories, what the asking user gave and got, and the search misses.
 *
 * The figures come from one pass over every live event (store_list, newest
 * first) plus one over the author index (store_authors_each), both in the
 * caller's read view. views_stats_scan makes that pass for one request;
 * views_base_build makes it once per set of held events for every request (the
 * longest lists any request may ask for, and the creation time of every
 * new tip instead of week buckets), and views_stats_from answers a request
 * from such a base plus what only the asking user needs (views_stats_me.c).
 * Topic counts go to a small open-addressing table (a store holds a few
 * thousand distinct topics, not one per tip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views_int.h"

/* Copy the id of ev's first reference of role into out (ev may be the
 * scratch event the next read overwrites): 1, or 0 if it has none. */
static int s_ref(const event_t *ev, int role, uint8_t out[EVENT_ID_LEN])
{
    const uint8_t *id = event_ref(ev, role);
    if (id) memcpy(out, id, EVENT_ID_LEN);
    return id != NULL;
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

int views_topic_cmp(const void *pa, const void *pb)
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
    if (k) qsort(t->slot, k, sizeof(*t->slot), views_topic_cmp);
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
    /* base mode: new tips' times (>= cutoff) instead of week buckets */
    int base;
    uint64_t cutoff;
    uint64_t *times;
    size_t ntimes, cap_times;
} s_pass_t;

static int s_time_add(s_pass_t *x, uint64_t t)
{
    if (t < x->cutoff) return 0;
    if (x->ntimes == x->cap_times) {
        size_t nc = x->cap_times ? 2 * x->cap_times : 1024;
        uint64_t *nv = realloc(x->times, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        x->times = nv;
        x->cap_times = nc;
    }
    x->times[x->ntimes++] = t;
    return 0;
}

/* 1 if ev is an edit of one of its author's own events. */
static int s_is_edit(s_pass_t *x, const event_t *ev)
{
    uint8_t prev[EVENT_ID_LEN];
    if (!s_ref(ev, EVENT_REF_SUPERSEDES, prev)) return 0;
    if (store_get(x->rt, prev, x->tmp) != 0) return 1; /* unknown or gone: still not new */
    return memcmp(x->tmp->author, ev->author, EVENT_KEY_LEN) == 0;
}

void views_story_fill(store_rtxn_t *rt, const event_t *th, const event_t *target, views_story_t *o)
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
        views_story_fill(x->rt, ev, x->tmp, s);
    }
    if (want_me && !memcmp(x->tmp->author, o->me.a.author, EVENT_KEY_LEN)) {
        views_story_t *s = s_story_slot(&o->me.stories, &o->me.nstories, &x->cap_mine);
        if (!s) return ENOMEM;
        views_story_fill(x->rt, ev, x->tmp, s);
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
        if (x->base) {
            if (ev->kind == EVENT_TIP && ev->created_at >= x->cutoff && !ev->imported &&
                !s_is_edit(x, ev) && s_time_add(x, ev->created_at))
                return ENOMEM;
        } else if (ev->kind == EVENT_TIP && ev->created_at >= o->start && ev->created_at < o->now &&
                   !ev->imported && !s_is_edit(x, ev)) {
            o->per_week[(ev->created_at - o->start) / VIEWS_WEEK_MS]++;
        }
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
    views_thanked_list_t thanked;
} s_authors_t;

static int s_author_one(const store_author_t *a, void *arg)
{
    s_authors_t *x = arg;
    views_stats_t *o = x->out;
    o->answers += a->answers;
    o->ratings += a->ratings_received;
    o->rating_sum += a->rating_sum_received;
    o->thanks += a->thanks_received;
    o->imported += a->imported;
    if (a->tips + a->questions == 0) return 0;
    /* views_anonymous's rule, its facts from the author's sums: one post,
     * nothing else signed (first and last event the same moment). */
    int named = views_author_named(x->rt, a->author);
    int anon =
        views_anonymous_rule(a->tips + a->questions == 1, a->first_ms, named,
                             !a->ratings_given && !a->thanks_given && a->first_ms == a->last_ms);
    if (anon)
        o->anonymous_posts++;
    else
        o->contributors++;
    if (!a->thanks_received) return 0;
    return views_thanked_add(&x->thanked, a->author, a->thanks_received, a->tips, anon);
}

int views_thanked_add(views_thanked_list_t *l, const uint8_t author[EVENT_KEY_LEN], uint32_t thanks,
                      uint32_t tips, int anon)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        views_thanked_t *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    views_thanked_t *t = &l->v[l->n++];
    memset(t, 0, sizeof(*t));
    memcpy(t->author, author, EVENT_KEY_LEN);
    t->thanks = thanks;
    t->tips = tips;
    t->name[0] = (char)anon; /* resolved to a name for the top ones only */
    return 0;
}

/* Most thanked first, then by key (stable across nodes). */
int views_thanked_cmp(const void *pa, const void *pb)
{
    const views_thanked_t *a = pa, *b = pb;
    if (a->thanks != b->thanks) return a->thanks > b->thanks ? -1 : 1;
    return memcmp(a->author, b->author, EVENT_KEY_LEN);
}

void views_thanked_top(store_rtxn_t *rt, views_thanked_list_t *l, size_t top, size_t named,
                       views_stats_t *out)
{
    if (l->n) qsort(l->v, l->n, sizeof(*l->v), views_thanked_cmp);
    out->thanked = l->v;
    out->nthanked = l->n < top ? l->n : top;
    for (size_t i = 0; i < out->nthanked && i < named; i++) {
        views_thanked_t *t = &out->thanked[i];
        views_name(rt, t->author, t->name[0], t->name, sizeof(t->name), t->team, sizeof(t->team));
    }
    l->v = NULL;
}

/* The pass over every live event, then the one over the author index. */
static int s_run_passes(s_pass_t *x, s_authors_t *au)
{
    if (!(x->tmp = malloc(sizeof(*x->tmp)))) return STORE_E_NOMEM;
    store_filter_t f = {.kind = 0, .include_hidden = 1};
    int rc = store_list(x->rt, &f, 0, s_pass_one, x);
    return rc ? rc : store_authors_each(x->rt, s_author_one, au);
}

/* now, weeks and start of out from q. */
void views_stats_window(const views_stats_req_t *q, views_stats_t *out)
{
    int weeks = q->weeks < 1 ? 1 : q->weeks > VIEWS_MAX_WEEKS ? VIEWS_MAX_WEEKS : q->weeks;
    out->now = q->now ? q->now : event_now_ms();
    out->weeks = weeks;
    out->start =
        out->now > (uint64_t)weeks * VIEWS_WEEK_MS ? out->now - (uint64_t)weeks * VIEWS_WEEK_MS : 0;
}

int views_stats_scan(store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    views_stats_window(q, out);
    if (q->me) {
        out->has_me = 1;
        memcpy(out->me.a.author, q->me, EVENT_KEY_LEN);
    }
    int rc = store_counts(rt, &out->counts);
    if (rc < 0) return rc;
    s_pass_t x = {.rt = rt, .out = out, .max_stories = q->stories};
    s_authors_t au = {.rt = rt, .out = out};
    if ((rc = s_run_passes(&x, &au)) != 0) goto done;
    s_topics_top(&x.topics, q->top, out);
    views_thanked_top(rt, &au.thanked, q->top, q->top, out);
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
    free(au.thanked.v);
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

/* ---- the base of every request on one state of the events ---- */

uint64_t views_state_key(store_rtxn_t *rt)
{
    store_counts_t c;
    return store_counts(rt, &c) == 0 ? c.events + 1 : 0;
}

static int s_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int views_base_build(store_rtxn_t *rt, uint64_t cutoff, views_base_t **out)
{
    *out = NULL;
    views_base_t *b = calloc(1, sizeof(*b));
    if (!b) return STORE_E_NOMEM;
    b->key = views_state_key(rt);
    b->cutoff = cutoff;
    b->refs = 1;
    views_stats_t *o = &b->st;
    int rc = store_counts(rt, &o->counts);
    if (rc < 0) {
        free(b);
        return rc;
    }
    s_pass_t x = {
        .rt = rt, .out = o, .max_stories = VIEWS_STORIES_MAX, .base = 1, .cutoff = cutoff};
    s_authors_t au = {.rt = rt, .out = o};
    if ((rc = s_run_passes(&x, &au)) != 0) goto done;
    s_topics_top(&x.topics, SIZE_MAX, o);
    views_thanked_top(rt, &au.thanked, SIZE_MAX, VIEWS_TOP_MAX, o);
    if (x.ntimes) qsort(x.times, x.ntimes, sizeof(*x.times), s_u64_cmp);
done:
    free(x.tmp);
    free(x.topics.slot);
    free(au.thanked.v);
    b->times = x.times;
    b->ntimes = x.ntimes;
    if (rc > 0) rc = STORE_E_NOMEM;
    if (rc) {
        views_base_unref(&b);
        return rc;
    }
    *out = b;
    return 0;
}

void views_base_unref(views_base_t **p)
{
    if (!p || !*p) return;
    views_base_t *b = *p;
    *p = NULL;
    if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    views_stats_free(&b->st);
    free(b->times);
    free(b);
}

/* First index of sorted v[0..n) with v[i] >= t. */
static size_t s_lower(const uint64_t *v, size_t n, uint64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *s_dup(const void *src, size_t n, size_t size, int *rc)
{
    if (!n) return NULL;
    void *p = malloc(n * size);
    if (!p) {
        *rc = STORE_E_NOMEM;
        return NULL;
    }
    memcpy(p, src, n * size);
    return p;
}

int views_stats_from(const views_base_t *b, store_rtxn_t *rt, const views_stats_req_t *q,
                     views_stats_t *out)
{
    const views_stats_t *s = &b->st;
    memset(out, 0, sizeof(*out));
    views_stats_window(q, out);
    if (out->start < b->cutoff) return STORE_E_ARG; /* older weeks than the base holds */
    out->counts = s->counts;
    out->answers = s->answers;
    out->open_questions = s->open_questions;
    out->contributors = s->contributors;
    out->anonymous_posts = s->anonymous_posts;
    out->imported = s->imported;
    out->thanks = s->thanks;
    out->ratings = s->ratings;
    out->rating_sum = s->rating_sum;
    for (int i = 0; i < out->weeks; i++) {
        uint64_t lo = out->start + (uint64_t)i * VIEWS_WEEK_MS, hi = lo + VIEWS_WEEK_MS;
        if (hi > out->now) hi = out->now;
        if (hi <= lo) continue;
        out->per_week[i] =
            (uint32_t)(s_lower(b->times, b->ntimes, hi) - s_lower(b->times, b->ntimes, lo));
    }
    int rc = 0;
    size_t top = q->top > VIEWS_TOP_MAX ? VIEWS_TOP_MAX : q->top;
    out->ntopics = s->ntopics < top ? s->ntopics : top;
    out->topics = s_dup(s->topics, out->ntopics, sizeof(*out->topics), &rc);
    out->nthanked = s->nthanked < top ? s->nthanked : top;
    out->thanked = s_dup(s->thanked, out->nthanked, sizeof(*out->thanked), &rc);
    out->nstories = s->nstories < q->stories ? s->nstories : q->stories;
    out->stories = s_dup(s->stories, out->nstories, sizeof(*out->stories), &rc);
    /* misses are this machine's record, written by reads: not in the base */
    if (rc == 0) rc = views_misses(rt, q->misses, &out->misses, &out->nmisses);
    if (rc == 0 && q->me) rc = views_stats_me(rt, q->me, q->stories, out);
    if (rc) views_stats_free(out);
    return rc;
}
