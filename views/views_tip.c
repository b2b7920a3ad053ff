/* views_tip.c -- the figures of one tip, the anonymity rule, display names,
 * a question's answers across its edit chain, the question list and the
 * search misses.
 *
 * All of it reads through the caller's read view, so a list of tips is one
 * snapshot however many lookups it takes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_agg.h"
#include "views_int.h"

/* ---- anonymity ---- */

static int s_count_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)ev;
    (void)raw;
    (void)len;
    (*(int *)arg)++;
    return 0;
}

int views_anonymous_rule(int only_post, uint64_t created_at, int named, int only_event)
{
    return only_post && event_on_anon_grain(created_at) && !named && only_event;
}

int views_anonymous(store_rtxn_t *rt, const event_t *ev)
{
    if (!rt || !ev) return 0;
    int post = ev->kind == EVENT_TIP || ev->kind == EVENT_QUESTION;
    /* the cheap facts first: most events fail one of them */
    if (!views_anonymous_rule(post, ev->created_at, 0, 1)) return 0;
    int named = views_author_named(rt, ev->author);
    if (named) return 0;
    /* Exactly one live event by this key (itself, superseded or not). */
    store_filter_t f = {.kind = 0, .author = ev->author, .include_hidden = 1};
    int n = 0;
    if (store_list(rt, &f, 2, s_count_one, &n) < 0) return 0;
    return views_anonymous_rule(post, ev->created_at, named, n == 1);
}

int views_author_named(store_rtxn_t *rt, const uint8_t author[EVENT_KEY_LEN])
{
    char name[VIEWS_NAME_CAP], team[VIEWS_TEAM_CAP];
    return store_profile(rt, author, name, sizeof(name), team, sizeof(team)) == 0 && name[0];
}

void views_name(store_rtxn_t *rt, const uint8_t author[EVENT_KEY_LEN], int anon, char *name,
                size_t ncap, char *team, size_t tcap)
{
    name[0] = team[0] = '\0';
    if (store_profile(rt, author, name, ncap, team, tcap) != 0) name[0] = team[0] = '\0';
    if (!name[0] && anon) snprintf(name, ncap, "anonymous");
}

int views_tip(store_rtxn_t *rt, const event_t *ev, views_tip_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = store_profile(rt, ev->author, out->author_name, sizeof(out->author_name),
                           out->author_team, sizeof(out->author_team));
    if (rc != 0) out->author_name[0] = out->author_team[0] = '\0';
    out->anonymous = !out->author_name[0] && views_anonymous(rt, ev);
    int src = store_chain_stats(rt, ev->id, &out->st);
    if (src != 0) memset(&out->st, 0, sizeof(out->st));
    return rc ? rc : src;
}

/* ---- author filters ---- */

void views_author_filter(const char *spec, views_author_filter_t *a)
{
    memset(a, 0, sizeof(*a));
    if (!spec || !*spec) {
        a->any = 1;
        return;
    }
    size_t n = strlen(spec);
    if (n == 64 && event_unhex(spec, a->key, EVENT_KEY_LEN) == 0) {
        a->exact = 1;
        return;
    }
    char norm[65];
    if (event_prefix_norm(spec, norm) >= 0) {
        memcpy(a->prefix, norm, sizeof(norm));
        return;
    }
    snprintf(a->name, sizeof(a->name), "%s", spec);
}

int views_author_matches(store_rtxn_t *rt, const views_author_filter_t *a,
                         const uint8_t author[EVENT_KEY_LEN])
{
    if (a->any) return 1;
    if (a->exact) return memcmp(a->key, author, EVENT_KEY_LEN) == 0;
    if (a->prefix[0]) {
        char hex[65];
        event_hex(author, EVENT_KEY_LEN, hex);
        return strncmp(hex, a->prefix, strlen(a->prefix)) == 0;
    }
    char name[VIEWS_NAME_CAP], team[8];
    if (store_profile(rt, author, name, sizeof(name), team, sizeof(team)) != 0) return 0;
    return strcasecmp(name, a->name) == 0;
}

/* ---- a question's edit chain ---- */

void views_question_chain(store_rtxn_t *rt, const event_t *ev, uint32_t *answers,
                          uint64_t *first_ms)
{
    store_question_chain(rt, ev->id, ev->created_at, answers, first_ms);
}

/* ---- questions ---- */

typedef struct {
    store_rtxn_t *rt;
    int open_only;
    views_questions_t *q;
    size_t cap;
} s_qs_t;

static int s_q_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_qs_t *x = arg;
    views_questions_t *q = x->q;
    uint32_t answers;
    uint64_t asked;
    views_question_chain(x->rt, ev, &answers, &asked);
    if (x->open_only && answers) return 0;
    if (q->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        views_question_t *nv = realloc(q->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        q->v = nv;
        x->cap = nc;
    }
    views_question_t *e = &q->v[q->n++];
    memset(e, 0, sizeof(*e));
    memcpy(e->id, ev->id, EVENT_ID_LEN);
    e->answers = answers;
    e->asked_ms = asked;
    q->open += answers == 0;
    return 0;
}

/* Unanswered first, then oldest first, then id. */
static int s_q_cmp(const void *pa, const void *pb)
{
    const views_question_t *a = pa, *b = pb;
    if ((a->answers == 0) != (b->answers == 0)) return a->answers == 0 ? -1 : 1;
    if (a->asked_ms != b->asked_ms) return a->asked_ms < b->asked_ms ? -1 : 1;
    return memcmp(a->id, b->id, EVENT_ID_LEN);
}

int views_questions(store_rtxn_t *rt, int open_only, size_t limit, views_questions_t *out)
{
    memset(out, 0, sizeof(*out));
    s_qs_t x = {.rt = rt, .open_only = open_only, .q = out};
    store_filter_t f = {.kind = EVENT_QUESTION};
    int rc = store_list(rt, &f, 0, s_q_one, &x);
    if (rc > 0) rc = STORE_E_NOMEM;
    if (rc == 0 && out->n) qsort(out->v, out->n, sizeof(*out->v), s_q_cmp);
    for (size_t i = 0; rc == 0 && i < out->n && i < limit; i++) {
        views_question_t *e = &out->v[i];
        if (!(e->ev = malloc(sizeof(*e->ev)))) {
            rc = STORE_E_NOMEM;
            break;
        }
        if ((rc = store_get(rt, e->id, e->ev)) != 0) break;
        views_tip(rt, e->ev, &e->fig);
    }
    if (rc) views_questions_free(out);
    return rc;
}

void views_questions_free(views_questions_t *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) free(q->v[i].ev);
    free(q->v);
    memset(q, 0, sizeof(*q));
}

/* ---- misses ---- */

typedef struct {
    views_miss_t *v;
    size_t n, cap;
} s_misses_t;

static int s_miss_one(const char *query, uint64_t count, uint64_t last_ms, void *arg)
{
    s_misses_t *m = arg;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        views_miss_t *nv = realloc(m->v, nc * sizeof(*nv));
        if (!nv) return ENOMEM;
        m->v = nv;
        m->cap = nc;
    }
    char *q = strdup(query);
    if (!q) return ENOMEM;
    m->v[m->n++] = (views_miss_t){q, count, last_ms};
    return 0;
}

/* Most often first, then most recent, then alphabetical. */
static int s_miss_cmp(const void *pa, const void *pb)
{
    const views_miss_t *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    if (a->last_ms != b->last_ms) return a->last_ms > b->last_ms ? -1 : 1;
    return strcmp(a->query, b->query);
}

int views_misses(store_rtxn_t *rt, size_t top, views_miss_t **v, size_t *n)
{
    s_misses_t m = {0};
    int rc = store_miss_each(rt, s_miss_one, &m);
    if (rc > 0) rc = STORE_E_NOMEM;
    if (rc == 0 && m.n) qsort(m.v, m.n, sizeof(*m.v), s_miss_cmp);
    size_t keep = rc == 0 ? (m.n < top ? m.n : top) : 0;
    for (size_t i = keep; i < m.n; i++) free(m.v[i].query);
    *v = m.v;
    *n = keep;
    if (rc) views_misses_free(v, 0);
    return rc;
}

void views_misses_free(views_miss_t **v, size_t n)
{
    if (!v || !*v) return;
    for (size_t i = 0; i < n; i++) free((*v)[i].query);
    free(*v);
    *v = NULL;
}
