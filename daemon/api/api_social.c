/* api_social.c -- the social-learning ops of the local API: questions,
 * stats, today and misses (docs/API.md, docs/SOCIAL.md), and the rule that
 * decides when a tip shows as "anonymous".
 *
 * Everything here is derived from the store on request; nothing is kept
 * between requests, so every node that holds the same events answers the
 * same (except `misses`, which is this machine's own record). `stats` makes
 * one pass over every live event (store_list) plus one over the author
 * index (store_authors_each), which is a few tens of milliseconds for 32k
 * tips (bench numbers in docs/SOCIAL.md), so no cache is needed.
 *
 * `today` picks by weighted rendezvous hashing (Efraimidis-Spirakis): every
 * candidate tip gets the key -ln(u)/w, u a hash of (user, date, tip id) in
 * (0,1) and w its weight from ratings and thanks, and the smallest key wins.
 * The pick is a pure function of (user, date, candidate set), and adding or
 * removing a tip other than the winner never changes it, so a user sees the
 * same tip all day even while tips keep arriving.
 */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "daemon.h"
#include "log.h"
#include "social.h"

#define S_WEEK_MS        (7ULL * 24 * 3600 * 1000)
#define S_MAX_WEEKS      52
#define S_SEEN_MAX       20000 /* ids a `today` request may exclude */
#define S_TODAY_EXPONENT 6.0   /* weight = prior^6: 5 stars by 5 people ~3x, 10 thanks ~4x */
#define S_QUESTIONS_MAX  1000

/* ---- small helpers ---- */

static int s_ref(const event_t *ev, int role, uint8_t out[EVENT_ID_LEN])
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == role) {
            if (out) memcpy(out, ev->refs[i].id, EVENT_ID_LEN);
            return 1;
        }
    return 0;
}

/* Display name of an author: profile name, "anonymous" or "". */
static void s_name(store_t *s, const uint8_t author[EVENT_KEY_LEN], int anon, char *name,
                   size_t ncap, char *team, size_t tcap)
{
    name[0] = team[0] = '\0';
    if (store_profile(s, author, name, ncap, team, tcap) != 0) name[0] = team[0] = '\0';
    if (!name[0] && anon) snprintf(name, ncap, "anonymous");
}

/* ---- anonymity ---- */

static int s_count_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)ev;
    (void)raw;
    (void)len;
    (*(int *)arg)++;
    return 0;
}

int social_anonymous(store_t *s, const event_t *ev)
{
    if (!s || !ev) return 0;
    if (ev->kind != EVENT_TIP && ev->kind != EVENT_QUESTION) return 0;
    if (ev->created_at % 60000 != 0) return 0;
    char name[EVENT_MAX_NAME * 4 + 1], team[EVENT_MAX_TEAM * 4 + 1];
    if (store_profile(s, ev->author, name, sizeof(name), team, sizeof(team)) == 0 && name[0])
        return 0;
    /* Exactly one live event by this key (itself, superseded or not). */
    store_filter_t f = {.kind = 0, .author = ev->author, .include_hidden = 1};
    int n = 0;
    if (store_list(s, &f, 2, s_count_one, &n) < 0) return 0;
    return n == 1;
}

/* Answers to a question, summed over every version of it (an answer may
 * name the version that was current when it was written). */
typedef struct {
    store_t *s;
    uint32_t answers;
    uint64_t first_ms;
} s_chain_t;

static int s_chain_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_chain_t *c = arg;
    store_stats_t st;
    if (store_stats(c->s, ev->id, &st) == 0) c->answers += st.answers;
    if (!c->first_ms || ev->created_at < c->first_ms) c->first_ms = ev->created_at;
    return 0;
}

static void s_chain(store_t *s, const event_t *ev, uint32_t *answers, uint64_t *first_ms)
{
    s_chain_t c = {.s = s};
    if (store_history(s, ev->id, s_chain_one, &c) < 0 || !c.first_ms) {
        store_stats_t st;
        c.answers = store_stats(s, ev->id, &st) == 0 ? st.answers : 0;
        c.first_ms = ev->created_at;
    }
    if (answers) *answers = c.answers;
    if (first_ms) *first_ms = c.first_ms;
}

/* ---- questions ---- */

typedef struct {
    json_t *o;
    uint32_t answers;
    uint64_t asked_ms;
} s_q_t;

typedef struct {
    store_t *s;
    int open_only;
    s_q_t *v;
    size_t n, cap;
} s_qs_t;

static int s_q_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_qs_t *q = arg;
    uint32_t answers;
    uint64_t asked;
    s_chain(q->s, ev, &answers, &asked);
    if (q->open_only && answers) return 0;
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        s_q_t *nv = realloc(q->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        q->v = nv;
        q->cap = nc;
    }
    json_t *o = api_tip_json(q->s, ev);
    if (!o) return ENOMEM;
    json_object_set_new(o, "answers", json_integer(answers));
    json_object_set_new(o, "asked_at", api_json_time(asked));
    json_object_set_new(o, "asked_at_ms", json_integer((json_int_t)asked));
    q->v[q->n++] = (s_q_t){o, answers, asked};
    return 0;
}

/* Unanswered first, then oldest first. */
static int s_q_cmp(const void *pa, const void *pb)
{
    const s_q_t *a = pa, *b = pb;
    if ((a->answers == 0) != (b->answers == 0)) return a->answers == 0 ? -1 : 1;
    if (a->asked_ms != b->asked_ms) return a->asked_ms < b->asked_ms ? -1 : 1;
    return strcmp(json_string_value(json_object_get(a->o, "id")),
                  json_string_value(json_object_get(b->o, "id")));
}

static int s_op_questions(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    int open_only = 0;
    long long n = 100;
    if (api_get_bool(req, rq, "open", &open_only) < 0) return -1;
    if (api_get_int(req, rq, "n", 1, S_QUESTIONS_MAX, &n) < 0) return -1;
    s_qs_t q = {.s = d->store, .open_only = open_only};
    store_filter_t f = {.kind = EVENT_QUESTION};
    int rc = store_list(d->store, &f, 0, s_q_one, &q);
    json_t *res = json_array();
    if (rc == 0 && q.n) qsort(q.v, q.n, sizeof(*q.v), s_q_cmp);
    size_t open = 0;
    for (size_t i = 0; i < q.n; i++) {
        open += q.v[i].answers == 0;
        if (rc == 0 && i < (size_t)n)
            json_array_append_new(res, q.v[i].o);
        else
            json_decref(q.v[i].o);
    }
    free(q.v);
    if (rc != 0) {
        json_decref(res);
        return api_error(req, CONTRACT_E_INTERNAL, "listing questions failed: %s",
                         rc > 0 ? "out of memory" : api_reason(rc));
    }
    return api_reply(req, json_pack("{s:o, s:I, s:I}", "results", res, "total", (json_int_t)q.n,
                                    "open", (json_int_t)open));
}

/* ---- misses ---- */

typedef struct {
    char *q;
    uint64_t count, last;
} s_miss_t;

typedef struct {
    s_miss_t *v;
    size_t n, cap;
} s_misses_t;

static int s_miss_one(const char *query, uint64_t count, uint64_t last_ms, void *arg)
{
    s_misses_t *m = arg;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        s_miss_t *nv = realloc(m->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        m->v = nv;
        m->cap = nc;
    }
    char *q = strdup(query);
    if (!q) return ENOMEM;
    m->v[m->n++] = (s_miss_t){q, count, last_ms};
    return 0;
}

/* Most often first, then most recent, then alphabetical. */
static int s_miss_cmp(const void *pa, const void *pb)
{
    const s_miss_t *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    if (a->last != b->last) return a->last > b->last ? -1 : 1;
    return strcmp(a->q, b->q);
}

/* The top n misses as a JSON array, or NULL on error (*rc set). */
static json_t *s_misses(store_t *s, size_t n, int *rc)
{
    s_misses_t m = {0};
    *rc = store_miss_each(s, s_miss_one, &m);
    json_t *res = json_array();
    if (*rc == 0 && m.n) qsort(m.v, m.n, sizeof(*m.v), s_miss_cmp);
    for (size_t i = 0; i < m.n; i++) {
        if (*rc == 0 && i < n)
            json_array_append_new(
                res, json_pack("{s:o, s:I, s:o, s:I}", "query", api_json_str(m.v[i].q), "count",
                               (json_int_t)m.v[i].count, "last", api_json_time(m.v[i].last),
                               "last_ms", (json_int_t)m.v[i].last));
        free(m.v[i].q);
    }
    free(m.v);
    if (*rc != 0) {
        json_decref(res);
        return NULL;
    }
    return res;
}

static int s_op_misses(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    long long n = 20;
    if (api_get_int(req, rq, "n", 1, 1000, &n) < 0) return -1;
    int rc;
    json_t *res = s_misses(d->store, (size_t)n, &rc);
    if (!res)
        return api_error(req, CONTRACT_E_INTERNAL, "misses: %s", rc > 0 ? "error" : api_reason(rc));
    return api_reply(req, json_pack("{s:o}", "results", res));
}

/* ---- stats ---- */

typedef struct {
    char topic[EVENT_MAX_TOPIC_LEN + 1];
    uint32_t n;
} s_topic_t;

typedef struct {
    uint8_t author[EVENT_KEY_LEN];
    uint32_t thanks, tips;
    int anon;
} s_thanked_t;

typedef struct {
    store_t *s;
    uint64_t now, start; /* start of the oldest week bucket */
    int weeks;
    uint32_t per_week[S_MAX_WEEKS];
    uint32_t open_questions;
    json_t *topics; /* topic -> count (integer) */
    json_t *stories;
    size_t max_stories;
    /* --me */
    int has_me;
    uint8_t me[EVENT_KEY_LEN];
    uint32_t my_answers_got, my_open;
    json_t *my_stories;
    event_t *tmp; /* scratch for target lookups */
} s_stats_t;

/* 1 if ev is an edit of one of its author's own events. */
static int s_is_edit(s_stats_t *x, const event_t *ev)
{
    uint8_t prev[EVENT_ID_LEN];
    if (!s_ref(ev, EVENT_REF_SUPERSEDES, prev)) return 0;
    if (store_get(x->s, prev, x->tmp) != 0) return 1; /* unknown or gone: still not new */
    return memcmp(x->tmp->author, ev->author, EVENT_KEY_LEN) == 0;
}

static json_t *s_story(s_stats_t *x, const event_t *th, const event_t *target)
{
    char fname[EVENT_MAX_NAME * 4 + 1], fteam[EVENT_MAX_TEAM * 4 + 1];
    char tname[EVENT_MAX_NAME * 4 + 1], tteam[EVENT_MAX_TEAM * 4 + 1];
    s_name(x->s, th->author, 0, fname, sizeof(fname), fteam, sizeof(fteam));
    s_name(x->s, target->author, social_anonymous(x->s, target), tname, sizeof(tname), tteam,
           sizeof(tteam));
    json_t *o = json_object();
    json_object_set_new(o, "id", api_json_hex(th->id, EVENT_ID_LEN));
    json_object_set_new(o, "tip", api_json_hex(target->id, EVENT_ID_LEN));
    json_object_set_new(o, "tip_title", api_json_str(target->title));
    json_object_set_new(o, "from", api_json_hex(th->author, EVENT_KEY_LEN));
    json_object_set_new(o, "from_name", api_json_str(fname));
    json_object_set_new(o, "to", api_json_hex(target->author, EVENT_KEY_LEN));
    json_object_set_new(o, "to_name", api_json_str(tname));
    json_object_set_new(o, "story", api_json_str(th->body));
    json_object_set_new(o, "created_at", api_json_time(th->created_at));
    json_object_set_new(o, "created_at_ms", json_integer((json_int_t)th->created_at));
    return o;
}

static int s_stats_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_stats_t *x = arg;
    store_stats_t st;
    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION:
        if (store_stats(x->s, ev->id, &st) != 0) return 0;
        if (ev->kind == EVENT_TIP && ev->created_at >= x->start && ev->created_at < x->now &&
            !ev->imported && !s_is_edit(x, ev))
            x->per_week[(ev->created_at - x->start) / S_WEEK_MS]++;
        if (st.superseded) return 0;
        if (ev->kind == EVENT_TIP) {
            for (int i = 0; i < ev->ntopics; i++) {
                json_t *c = json_object_get(x->topics, ev->topics[i]);
                json_object_set_new(x->topics, ev->topics[i],
                                    json_integer(c ? json_integer_value(c) + 1 : 1));
            }
        } else {
            uint32_t answers;
            s_chain(x->s, ev, &answers, NULL);
            if (!answers) x->open_questions++;
            if (x->has_me && !memcmp(ev->author, x->me, EVENT_KEY_LEN)) {
                x->my_answers_got += answers;
                if (!answers) x->my_open++;
            }
        }
        return 0;
    case EVENT_THANKS: {
        if (!ev->body_len) return 0;
        int want_all = json_array_size(x->stories) < x->max_stories;
        if (!want_all && !x->has_me) return 0;
        uint8_t tid[EVENT_ID_LEN];
        if (!s_ref(ev, EVENT_REF_TARGET, tid) || store_get(x->s, tid, x->tmp) != 0) return 0;
        event_t *target = malloc(sizeof(*target));
        if (!target) return ENOMEM;
        memcpy(target, x->tmp, sizeof(*target));
        if (want_all) json_array_append_new(x->stories, s_story(x, ev, target));
        if (x->has_me && !memcmp(target->author, x->me, EVENT_KEY_LEN) &&
            json_array_size(x->my_stories) < x->max_stories)
            json_array_append_new(x->my_stories, s_story(x, ev, target));
        free(target);
        return 0;
    }
    default:
        return 0;
    }
}

typedef struct {
    store_t *s;
    uint32_t contributors, anon, answers, thanks, imported;
    uint64_t rating_sum, ratings;
    s_thanked_t *v;
    size_t n, cap;
} s_authors_t;

static int s_author_one(const store_author_t *a, void *arg)
{
    s_authors_t *x = arg;
    x->answers += a->answers;
    x->ratings += a->ratings_received;
    x->rating_sum += a->rating_sum_received;
    x->thanks += a->thanks_received;
    x->imported += a->imported;
    if (a->tips + a->questions == 0) return 0;
    /* The anonymity rule of social_anonymous(), from the author's sums. */
    char name[EVENT_MAX_NAME * 4 + 1], team[EVENT_MAX_TEAM * 4 + 1];
    int anon =
        a->tips + a->questions == 1 && !a->ratings_given && !a->thanks_given &&
        a->first_ms == a->last_ms && a->first_ms % 60000 == 0 &&
        !(store_profile(x->s, a->author, name, sizeof(name), team, sizeof(team)) == 0 && name[0]);
    if (anon)
        x->anon++;
    else
        x->contributors++;
    if (!a->thanks_received) return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        s_thanked_t *nv = realloc(x->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        x->v = nv;
        x->cap = nc;
    }
    s_thanked_t *t = &x->v[x->n++];
    memcpy(t->author, a->author, EVENT_KEY_LEN);
    t->thanks = a->thanks_received;
    t->tips = a->tips;
    t->anon = anon;
    return 0;
}

/* Most thanked first, then by key (stable across nodes). */
static int s_thanked_cmp(const void *pa, const void *pb)
{
    const s_thanked_t *a = pa, *b = pb;
    if (a->thanks != b->thanks) return a->thanks > b->thanks ? -1 : 1;
    return memcmp(a->author, b->author, EVENT_KEY_LEN);
}

static int s_topic_cmp(const void *pa, const void *pb)
{
    const s_topic_t *a = pa, *b = pb;
    if (a->n != b->n) return a->n > b->n ? -1 : 1;
    return strcmp(a->topic, b->topic);
}

static json_t *s_top_topics(json_t *counts, size_t top)
{
    size_t n = json_object_size(counts), k = 0;
    s_topic_t *v = calloc(n ? n : 1, sizeof(*v));
    json_t *res = json_array();
    if (!v) return res;
    const char *key;
    json_t *val;
    json_object_foreach(counts, key, val)
    {
        snprintf(v[k].topic, sizeof(v[k].topic), "%s", key);
        v[k++].n = (uint32_t)json_integer_value(val);
    }
    qsort(v, k, sizeof(*v), s_topic_cmp);
    for (size_t i = 0; i < k && i < top; i++)
        json_array_append_new(res, json_pack("{s:s, s:i}", "topic", v[i].topic, "tips", v[i].n));
    free(v);
    return res;
}

static json_t *s_me_json(s_stats_t *x)
{
    store_author_t a;
    memset(&a, 0, sizeof(a));
    int rc = store_author(x->s, x->me, &a);
    if (rc != 0 && rc != STORE_E_NOTFOUND) memset(&a, 0, sizeof(a));
    char name[EVENT_MAX_NAME * 4 + 1], team[EVENT_MAX_TEAM * 4 + 1];
    s_name(x->s, x->me, 0, name, sizeof(name), team, sizeof(team));
    /* Writing and importing are told apart: "tips" are the ones they wrote. */
    json_t *gave =
        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "tips", a.tips - a.answers - a.imported,
                  "imported", a.imported, "answers", a.answers, "questions", a.questions, "ratings",
                  a.ratings_given, "thanks", a.thanks_given);
    json_t *got = json_pack(
        "{s:i, s:i, s:o, s:i, s:i, s:O}", "thanks", a.thanks_received, "ratings",
        a.ratings_received, "rating",
        a.ratings_received ? json_real((double)a.rating_sum_received / a.ratings_received)
                           : json_null(),
        "answers", x->my_answers_got, "open_questions", x->my_open, "stories", x->my_stories);
    return json_pack("{s:o, s:s, s:s, s:o, s:o}", "author", api_json_hex(x->me, EVENT_KEY_LEN),
                     "name", name, "team", team, "gave", gave, "got", got);
}

static int s_op_stats(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    const char *me = NULL;
    long long weeks = 12, top = 5, nstories = 5, nmisses = 10, now = 0;
    if (api_get_str(req, rq, "me", &me) < 0) return -1;
    if (api_get_int(req, rq, "weeks", 1, S_MAX_WEEKS, &weeks) < 0) return -1;
    if (api_get_int(req, rq, "top", 1, 100, &top) < 0) return -1;
    if (api_get_int(req, rq, "stories", 0, 100, &nstories) < 0) return -1;
    if (api_get_int(req, rq, "misses", 0, 1000, &nmisses) < 0) return -1;
    /* "now" lets tests and reports pin the week buckets. */
    if (api_get_int(req, rq, "now", 0, INT64_MAX, &now) < 0) return -1;
    s_stats_t x;
    memset(&x, 0, sizeof(x));
    x.s = d->store;
    x.now = now ? (uint64_t)now : event_now_ms();
    x.weeks = (int)weeks;
    x.start = x.now > (uint64_t)weeks * S_WEEK_MS ? x.now - (uint64_t)weeks * S_WEEK_MS : 0;
    x.max_stories = (size_t)nstories;
    if (me) {
        if (strlen(me) != 2 * EVENT_KEY_LEN || event_unhex(me, x.me, EVENT_KEY_LEN) != 0)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'me' must be a 64-hex-character key");
        x.has_me = 1;
    }
    store_counts_t c;
    int rc = store_counts(d->store, &c);
    if (rc < 0) return api_error(req, CONTRACT_E_INTERNAL, "store: %s", api_reason(rc));
    x.topics = json_object();
    x.stories = json_array();
    x.my_stories = json_array();
    x.tmp = malloc(sizeof(*x.tmp));
    s_authors_t au = {.s = d->store};
    json_t *misses = NULL;
    if (!x.tmp) {
        rc = ENOMEM;
        goto fail;
    }
    store_filter_t f = {.kind = 0, .include_hidden = 1};
    if ((rc = store_list(d->store, &f, 0, s_stats_one, &x)) != 0) goto fail;
    if ((rc = store_authors_each(d->store, s_author_one, &au)) != 0) goto fail;
    if (!(misses = s_misses(d->store, (size_t)nmisses, &rc))) goto fail;

    json_t *o = json_object();
    json_object_set_new(o, "tips", json_integer((json_int_t)c.tips));
    json_object_set_new(o, "imported", json_integer(au.imported)); /* of those tips */
    json_object_set_new(o, "questions", json_integer((json_int_t)c.questions));
    json_object_set_new(o, "answers", json_integer(au.answers));
    json_object_set_new(o, "open_questions", json_integer(x.open_questions));
    json_object_set_new(o, "contributors", json_integer(au.contributors));
    json_object_set_new(o, "anonymous_posts", json_integer(au.anon));
    /* Thanks and ratings on live tips and questions: those on retracted ones
     * no longer tell anyone anything (store_counts still has them). */
    json_object_set_new(o, "thanks", json_integer(au.thanks));
    json_object_set_new(o, "ratings", json_integer((json_int_t)au.ratings));
    json_object_set_new(o, "rating",
                        au.ratings ? json_real((double)au.rating_sum / au.ratings) : json_null());
    json_object_set_new(o, "events", json_integer((json_int_t)c.events));
    json_t *wk = json_array();
    for (int i = 0; i < x.weeks; i++) {
        uint64_t ws = x.start + (uint64_t)i * S_WEEK_MS;
        json_array_append_new(wk, json_pack("{s:o, s:I, s:i}", "start", api_json_time(ws),
                                            "start_ms", (json_int_t)ws, "tips", x.per_week[i]));
    }
    json_object_set_new(o, "weeks", wk);
    json_object_set_new(o, "top_topics", s_top_topics(x.topics, (size_t)top));
    if (au.n) qsort(au.v, au.n, sizeof(*au.v), s_thanked_cmp);
    json_t *th = json_array();
    for (size_t i = 0; i < au.n && i < (size_t)top; i++) {
        char name[EVENT_MAX_NAME * 4 + 1], team[EVENT_MAX_TEAM * 4 + 1];
        s_name(d->store, au.v[i].author, au.v[i].anon, name, sizeof(name), team, sizeof(team));
        json_array_append_new(th, json_pack("{s:o, s:s, s:s, s:i, s:i}", "author",
                                            api_json_hex(au.v[i].author, EVENT_KEY_LEN),
                                            "author_name", name, "author_team", team, "thanks",
                                            au.v[i].thanks, "tips", au.v[i].tips));
    }
    json_object_set_new(o, "top_thanked", th);
    json_object_set(o, "stories", x.stories);
    json_object_set_new(o, "misses", misses);
    if (x.has_me) json_object_set_new(o, "me", s_me_json(&x));
    json_decref(x.topics);
    json_decref(x.stories);
    json_decref(x.my_stories);
    free(x.tmp);
    free(au.v);
    return api_reply(req, o);
fail:
    json_decref(x.topics);
    json_decref(x.stories);
    json_decref(x.my_stories);
    free(x.tmp);
    free(au.v);
    return api_error(req, CONTRACT_E_INTERNAL, "stats failed: %s",
                     rc > 0 ? "out of memory" : api_reason(rc));
}

/* ---- today ---- */

typedef struct {
    store_t *s;
    uint8_t seed[32];
    int has_user;
    uint8_t user[EVENT_KEY_LEN];
    uint8_t (*seen)[EVENT_ID_LEN]; /* sorted */
    size_t nseen;
    size_t unseen;
    double best[2]; /* smallest key among unseen [0] and seen [1] tips */
    uint8_t best_id[2][EVENT_ID_LEN];
    int have[2];
} s_today_t;

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_LEN);
}

static int s_today_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_today_t *t = arg;
    if (s_ref(ev, EVENT_REF_ANSWERS, NULL)) return 0; /* answers need their question */
    if (t->has_user && !memcmp(ev->author, t->user, EVENT_KEY_LEN)) return 0;
    int seen = t->nseen && bsearch(ev->id, t->seen, t->nseen, EVENT_ID_LEN, s_id_cmp) != NULL;
    store_stats_t st;
    /* the chain's ratings and thanks, as search's prior */
    if (store_chain_stats(t->s, ev->id, &st) != 0) return 0;
    double w = pow(store_prior(&st), S_TODAY_EXPONENT);
    uint8_t h[8], msg[32 + EVENT_ID_LEN];
    memcpy(msg, t->seed, 32);
    memcpy(msg + 32, ev->id, EVENT_ID_LEN);
    crypto_generichash(h, sizeof(h), msg, sizeof(msg), NULL, 0);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | h[i];
    double u = ((double)(x >> 11) + 0.5) / 9007199254740992.0; /* (0,1), 53 bits */
    double key = -log(u) / w;
    t->unseen += !seen;
    if (!t->have[seen] || key < t->best[seen] ||
        (key == t->best[seen] && memcmp(ev->id, t->best_id[seen], EVENT_ID_LEN) < 0)) {
        t->have[seen] = 1;
        t->best[seen] = key;
        memcpy(t->best_id[seen], ev->id, EVENT_ID_LEN);
    }
    return 0;
}

static int s_op_today(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    const char *user = NULL, *date = NULL;
    if (api_get_str(req, rq, "user", &user) < 0) return -1;
    if (api_get_str(req, rq, "date", &date) < 0) return -1;
    if (!date || !*date || strlen(date) > 32)
        return api_error(req, CONTRACT_E_BAD_REQUEST,
                         "field 'date' (the user's local date) is required");
    s_today_t t;
    memset(&t, 0, sizeof(t));
    t.s = d->store;
    if (user) {
        if (strlen(user) != 2 * EVENT_KEY_LEN || event_unhex(user, t.user, EVENT_KEY_LEN) != 0)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'user' must be a 64-hex-character key");
        t.has_user = 1;
    }
    json_t *seen = json_object_get(rq, "seen");
    if (seen && !json_is_null(seen)) {
        if (!json_is_array(seen) || json_array_size(seen) > S_SEEN_MAX)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'seen' must be an array of at most %d ids", S_SEEN_MAX);
        t.seen = malloc((json_array_size(seen) + 1) * EVENT_ID_LEN);
        if (!t.seen) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
        for (size_t i = 0; i < json_array_size(seen); i++) {
            const char *h = json_string_value(json_array_get(seen, i));
            if (!h || strlen(h) != 2 * EVENT_ID_LEN || event_unhex(h, t.seen[t.nseen], 32) != 0) {
                free(t.seen);
                return api_error(req, CONTRACT_E_BAD_REQUEST, "seen[%zu] must be a full 64-hex id",
                                 i);
            }
            t.nseen++;
        }
        if (t.nseen) qsort(t.seen, t.nseen, EVENT_ID_LEN, s_id_cmp);
    }
    /* seed = BLAKE2b("tipd-today" 0 || user key || date) */
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof(t.seed));
    crypto_generichash_update(&h, (const uint8_t *)"tipd-today", 11);
    crypto_generichash_update(&h, t.user, EVENT_KEY_LEN);
    crypto_generichash_update(&h, (const uint8_t *)date, strlen(date));
    crypto_generichash_final(&h, t.seed, sizeof(t.seed));
    store_filter_t f = {.kind = EVENT_TIP};
    int rc = store_list(d->store, &f, 0, s_today_one, &t);
    free(t.seen);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "today: %s", api_reason(rc));
    int pick = t.have[0] ? 0 : 1;
    json_t *tip = json_null();
    if (t.have[pick]) {
        event_t *ev = malloc(sizeof(*ev));
        if (ev && store_get(d->store, t.best_id[pick], ev) == 0) {
            json_decref(tip);
            tip = api_tip_json(d->store, ev);
            if (!tip) tip = json_null();
        }
        free(ev);
    }
    return api_reply(req, json_pack("{s:o, s:I, s:b}", "tip", tip, "unseen", (json_int_t)t.unseen,
                                    "seen_before", t.have[pick] && pick == 1));
}

int social_ops_register(tipd_t *d)
{
    static const struct {
        const char *name;
        api_op_fn fn;
    } ops[] = {
        {"questions", s_op_questions},
        {"stats", s_op_stats},
        {"today", s_op_today},
        {"misses", s_op_misses},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (api_register(d->api, ops[i].name, ops[i].fn, d) < 0) return -1;
    return 0;
}
