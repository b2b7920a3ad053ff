/* views_detail.c -- one event in full, as `get` (tip show) shows it.
 *
 * The references to the event (store_refs) give its ratings, thanks and
 * answers. The visible version of an edited tip or question also lists what
 * its earlier versions got (an edit keeps what the tip earned, as
 * store_chain_stats counts it), and a question lists the answers given to
 * any of its versions. Per rater the rating that counts is the newest by
 * created_at, then by id, across versions too: the store's own rule. An
 * answer that was edited shows as its newest version, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views.h"

typedef struct {
    store_rtxn_t *rt;
    views_detail_t *d;
    const uint8_t *target; /* the version whose references are read */
    size_t cap_r, cap_t, cap_a;
    uint8_t (*seen)[EVENT_ID_LEN]; /* answers listed (shown ids) */
    int chain;                     /* the shown event is visible */
    int rc;
} s_detail_t;

static int s_has_ref(const event_t *ev, int role, const uint8_t id[EVENT_ID_LEN])
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == role && memcmp(ev->refs[i].id, id, EVENT_ID_LEN) == 0) return 1;
    return 0;
}

static int s_grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? 2 * *cap : 8;
    void *nv = realloc(*v, nc * size);
    if (!nv) return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

static void s_rating(s_detail_t *x, const event_t *ev, const char *name)
{
    views_detail_t *d = x->d;
    views_rating_t *r = NULL;
    for (size_t i = 0; i < d->nratings && !r; i++)
        if (!memcmp(d->ratings[i].author, ev->author, EVENT_KEY_LEN)) r = &d->ratings[i];
    /* Newest by created_at, then id: the store's rule, across versions too. */
    if (r && (r->created_at > ev->created_at ||
              (r->created_at == ev->created_at && memcmp(r->id, ev->id, EVENT_ID_LEN) > 0)))
        return;
    if (!r) {
        if (s_grow((void **)&d->ratings, d->nratings, &x->cap_r, sizeof(*d->ratings))) {
            x->rc = STORE_E_NOMEM;
            return;
        }
        r = &d->ratings[d->nratings++];
    }
    memcpy(r->id, ev->id, EVENT_ID_LEN);
    memcpy(r->author, ev->author, EVENT_KEY_LEN);
    snprintf(r->author_name, sizeof(r->author_name), "%s", name);
    r->value = ev->value;
    r->created_at = ev->created_at;
}

static void s_thanks(s_detail_t *x, const event_t *ev, const char *name)
{
    views_detail_t *d = x->d;
    char *story = strdup(ev->body);
    if (!story || s_grow((void **)&d->thanks, d->nthanks, &x->cap_t, sizeof(*d->thanks))) {
        free(story);
        x->rc = STORE_E_NOMEM;
        return;
    }
    views_thanks_t *t = &d->thanks[d->nthanks++];
    memcpy(t->id, ev->id, EVENT_ID_LEN);
    memcpy(t->author, ev->author, EVENT_KEY_LEN);
    snprintf(t->author_name, sizeof(t->author_name), "%s", name);
    t->story = story;
    t->created_at = ev->created_at;
}

/* An answer: its newest version, once. */
static void s_answer(s_detail_t *x, const event_t *ev)
{
    views_detail_t *d = x->d;
    event_t *show = malloc(sizeof(*show));
    if (!show) {
        x->rc = STORE_E_NOMEM;
        return;
    }
    store_stats_t st;
    if (!(store_stats(x->rt, ev->id, &st) == 0 && st.superseded &&
          store_get(x->rt, st.latest, show) == 0))
        memcpy(show, ev, sizeof(*show));
    for (size_t i = 0; i < d->nanswers; i++)
        if (!memcmp(x->seen[i], show->id, EVENT_ID_LEN)) {
            free(show);
            return;
        }
    size_t cap = x->cap_a;
    if (s_grow((void **)&d->answers, d->nanswers, &x->cap_a, sizeof(*d->answers)) ||
        (x->cap_a != cap && !(x->seen = realloc(x->seen, x->cap_a * EVENT_ID_LEN)))) {
        free(show);
        x->rc = STORE_E_NOMEM;
        return;
    }
    memcpy(x->seen[d->nanswers], show->id, EVENT_ID_LEN);
    views_shown_t *a = &d->answers[d->nanswers++];
    a->ev = show;
    views_tip(x->rt, show, &a->fig);
}

/* store_refs callback: a reference to x->target. */
static int s_ref_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_detail_t *x = arg;
    int on_target = s_has_ref(ev, EVENT_REF_TARGET, x->target);
    char name[VIEWS_NAME_CAP] = "", team[8];
    if ((ev->kind == EVENT_RATING || ev->kind == EVENT_THANKS) &&
        store_profile(x->rt, ev->author, name, sizeof(name), team, sizeof(team)) != 0)
        name[0] = '\0';
    if (ev->kind == EVENT_RATING && on_target)
        s_rating(x, ev, name);
    else if (ev->kind == EVENT_THANKS && on_target)
        s_thanks(x, ev, name);
    else if (ev->kind == EVENT_TIP && s_has_ref(ev, EVENT_REF_ANSWERS, x->target))
        s_answer(x, ev);
    return x->rc ? 1 : 0;
}

/* store_history callback: the references to another version of the shown
 * event (all of them for a visible version, else only its answers). */
static int s_version_one(const event_t *ver, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_detail_t *x = arg;
    if (!memcmp(ver->id, x->d->shown.ev->id, EVENT_ID_LEN)) return 0;
    const uint8_t *keep = x->target;
    x->target = ver->id;
    store_refs(x->rt, ver->id, x->chain ? 0 : EVENT_REF_ANSWERS, s_ref_one, x);
    x->target = keep;
    return x->rc ? 1 : 0;
}

/* Best rated first, then most rated, then oldest. */
static int s_answer_cmp(const void *pa, const void *pb)
{
    const views_shown_t *a = pa, *b = pb;
    const store_stats_t *x = &a->fig.st, *y = &b->fig.st;
    double rx = x->ratings ? (double)x->rating_sum / x->ratings : 0,
           ry = y->ratings ? (double)y->rating_sum / y->ratings : 0;
    if (rx != ry) return rx > ry ? -1 : 1;
    if (x->ratings != y->ratings) return x->ratings > y->ratings ? -1 : 1;
    uint64_t ta = a->ev->created_at, tb = b->ev->created_at;
    return ta < tb ? -1 : ta > tb;
}

/* Oldest first (created_at, then id): thanks of every version interleave. */
static int s_oldest_cmp(const void *pa, const void *pb)
{
    const views_thanks_t *a = pa, *b = pb;
    if (a->created_at != b->created_at) return a->created_at < b->created_at ? -1 : 1;
    return memcmp(a->id, b->id, EVENT_ID_LEN);
}

/* Earlier versions: back through the first SUPERSEDES reference while it
 * names an event of the same author, newest first. */
static int s_history(store_rtxn_t *rt, views_detail_t *d)
{
    size_t cap = 0;
    event_t *at = malloc(sizeof(*at));
    if (!at) return STORE_E_NOMEM;
    memcpy(at, d->shown.ev, sizeof(*at));
    for (int depth = 0; depth < 1000; depth++) {
        const uint8_t *prev = NULL;
        for (int i = 0; i < at->nrefs && !prev; i++)
            if (at->refs[i].role == EVENT_REF_SUPERSEDES) prev = at->refs[i].id;
        event_t *cur = prev ? malloc(sizeof(*cur)) : NULL;
        if (!cur || store_get(rt, prev, cur) != 0 ||
            memcmp(cur->author, d->shown.ev->author, EVENT_KEY_LEN) != 0) { /* not an edit */
            free(cur);
            break;
        }
        if (s_grow((void **)&d->history, d->nhistory, &cap, sizeof(*d->history))) {
            free(cur);
            free(at);
            return STORE_E_NOMEM;
        }
        views_shown_t *h = &d->history[d->nhistory++];
        h->ev = cur;
        views_tip(rt, cur, &h->fig);
        memcpy(at, cur, sizeof(*at));
    }
    free(at);
    return 0;
}

int views_detail(store_rtxn_t *rt, const uint8_t id[EVENT_ID_LEN], int history, views_detail_t *out)
{
    memset(out, 0, sizeof(*out));
    event_t *ev = malloc(sizeof(*ev));
    if (!ev) return STORE_E_NOMEM;
    int rc = store_get(rt, id, ev);
    if (rc != 0) {
        free(ev);
        return rc;
    }
    out->shown.ev = ev;
    views_tip(rt, ev, &out->shown.fig);
    s_detail_t x = {.rt = rt, .d = out, .target = ev->id};
    store_refs(rt, ev->id, 0, s_ref_one, &x);
    store_stats_t st;
    x.chain = store_stats(rt, ev->id, &st) == 0 && !st.superseded && !st.retracted;
    if (!x.rc && (ev->kind == EVENT_QUESTION || (ev->kind == EVENT_TIP && x.chain)))
        store_history(rt, ev->id, s_version_one, &x);
    free(x.seen);
    if (x.chain && out->nthanks > 1)
        qsort(out->thanks, out->nthanks, sizeof(*out->thanks), s_oldest_cmp);
    if (out->nanswers > 1) qsort(out->answers, out->nanswers, sizeof(*out->answers), s_answer_cmp);
    rc = x.rc;
    if (!rc && history) rc = s_history(rt, out);
    if (rc) views_detail_free(out);
    return rc;
}

void views_detail_free(views_detail_t *d)
{
    if (!d) return;
    free(d->shown.ev);
    free(d->ratings);
    for (size_t i = 0; i < d->nthanks; i++) free(d->thanks[i].story);
    free(d->thanks);
    for (size_t i = 0; i < d->nanswers; i++) free(d->answers[i].ev);
    free(d->answers);
    for (size_t i = 0; i < d->nhistory; i++) free(d->history[i].ev);
    free(d->history);
    memset(d, 0, sizeof(*d));
}
