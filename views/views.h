/* views.h -- what the local API shows, computed from one read view of the
 * store into plain C structs: the figures of one tip (rating, thanks,
 * answers, author name and team, anonymity, edit state), the question list,
 * the office statistics, the tip of the day and the search misses.
 *
 * Every function takes a read view (store_rtxn_begin), so it sees one
 * consistent snapshot and runs on whichever thread holds the view: the API
 * calls them on its reader threads and only turns the structs into JSON.
 * Every answer is a function of the events held, so every node holding the
 * same events computes the same views (the misses are this machine's own
 * record); `stats` and `today` read the figures the store keeps at ingest
 * (store_agg.h) and fall back to one pass in a store without them.
 * Functions return 0 or a negative STORE_E* / EVENT_E* code; what they fill
 * is valid until the matching *_free (structs with no free own nothing).
 * docs/SOCIAL.md explains the features, docs/API.md the JSON they become.
 */
#ifndef TIPD_VIEWS_H
#define TIPD_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "store.h"

#define VIEWS_NAME_CAP  (EVENT_MAX_NAME * 4 + 1) /* display name as stored, NUL */
#define VIEWS_TEAM_CAP  (EVENT_MAX_TEAM * 4 + 1)
#define VIEWS_MAX_WEEKS 52
#define VIEWS_WEEK_MS   (7ULL * 24 * 3600 * 1000)

typedef struct views_cache views_cache_t;
typedef struct views_base views_base_t;

/* ---- one tip ---- */

/* The figures every rendering of a tip shows next to its signed fields. */
typedef struct {
    char author_name[VIEWS_NAME_CAP]; /* latest profile name, "" if none */
    char author_team[VIEWS_TEAM_CAP];
    int anonymous; /* views_anonymous(), and no profile name */
    /* store_chain_stats: the visible version of an edit chain carries the
     * chain's ratings and thanks, an earlier version its own; all zero if
     * the store could not say. */
    store_stats_t st;
} views_tip_t;

/* The one anonymity rule: 1 if ev was posted with `tip add --anon`, judged
 * only from what every store holds: a tip or question whose key has no
 * profile name and signed no other live event, stamped on a whole minute
 * (the CLI coarsens anonymous events' created_at). 0 otherwise or on error. */
int views_anonymous(store_rtxn_t *rt, const event_t *ev);
/* The rule itself, from its facts: the event is a tip or question (the
 * author's only post), stamped at created_at, its author has a profile
 * name, and it is the author's only live event. views_anonymous gathers the
 * facts for one event, the stats pass from an author's sums. */
int views_anonymous_rule(int only_post, uint64_t created_at, int named, int only_event);

/* Fill *out for ev. Always fills it (empty names and zero figures where the
 * store fails); returns 0 or the first store error met. */
int views_tip(store_rtxn_t *rt, const event_t *ev, views_tip_t *out);

/* Display name and team of an author: profile name, else "anonymous" when
 * anon is set, else "". */
void views_name(store_rtxn_t *rt, const uint8_t author[EVENT_KEY_LEN], int anon, char *name,
                size_t ncap, char *team, size_t tcap);

/* Answers to a question summed over every version of its edit chain (an
 * answer may name the version current when it was written), and when the
 * first version was asked. Falls back to ev's own figures. */
void views_question_chain(store_rtxn_t *rt, const event_t *ev, uint32_t *answers,
                          uint64_t *first_ms);

/* ---- author filters (search, list) ---- */

/* A full 64-hex key (pushed down to the store's own filter), a hex prefix
 * of 4+ characters, or a display name (matched case-insensitively against
 * the author's latest profile); NULL or "" matches anyone. */
typedef struct {
    int any;
    int exact; /* full key: use the store's filter */
    uint8_t key[EVENT_KEY_LEN];
    char prefix[65];           /* hex prefix, or "" */
    char name[VIEWS_NAME_CAP]; /* display name, or "" */
} views_author_filter_t;

void views_author_filter(const char *spec, views_author_filter_t *f);
/* 1 if author passes f (a name is looked up in rt), else 0. */
int views_author_matches(store_rtxn_t *rt, const views_author_filter_t *f,
                         const uint8_t author[EVENT_KEY_LEN]);

/* ---- one event in full (`get`) ---- */

typedef struct {
    uint8_t id[EVENT_ID_LEN], author[EVENT_KEY_LEN];
    char author_name[VIEWS_NAME_CAP];
    uint8_t value;
    uint64_t created_at;
} views_rating_t;

typedef struct {
    uint8_t id[EVENT_ID_LEN], author[EVENT_KEY_LEN];
    char author_name[VIEWS_NAME_CAP];
    char *story;
    uint64_t created_at;
} views_thanks_t;

typedef struct {
    event_t *ev;
    views_tip_t fig;
} views_shown_t;

typedef struct {
    views_shown_t shown;     /* the event asked for */
    views_rating_t *ratings; /* the counted rating per rater, first rated first */
    size_t nratings;
    views_thanks_t *thanks; /* oldest first for a visible version (its chain's) */
    size_t nthanks;
    views_shown_t *answers; /* newest version of each, best rated first */
    size_t nanswers;
    views_shown_t *history; /* earlier versions, newest first (when asked) */
    size_t nhistory;
} views_detail_t;

/* Everything `get` shows of id: the event and its figures, the ratings and
 * thanks it got (a visible version: of its whole edit chain), its answers
 * (a question: to every version), and with history its earlier versions.
 * STORE_E_NOTFOUND, STORE_E_RETRACTED or another code when id cannot be
 * shown. */
int views_detail(store_rtxn_t *rt, const uint8_t id[EVENT_ID_LEN], int history,
                 views_detail_t *out);
void views_detail_free(views_detail_t *d);

/* ---- questions ---- */

typedef struct {
    uint8_t id[EVENT_ID_LEN];
    uint32_t answers;  /* views_question_chain */
    uint64_t asked_ms; /* views_question_chain */
    event_t *ev;       /* the first `limit` questions only, else NULL */
    views_tip_t fig;   /* with ev */
} views_question_t;

typedef struct {
    views_question_t *v; /* unanswered first, then oldest asked, then id */
    size_t n;            /* every visible question (or every open one) */
    size_t open;         /* of those, unanswered */
} views_questions_t;

/* Visible questions (only unanswered ones if open_only); the first limit of
 * them come with their event and figures. */
int views_questions(store_rtxn_t *rt, int open_only, size_t limit, views_questions_t *out);
void views_questions_free(views_questions_t *q);

/* ---- searches that found nothing (this machine's record) ---- */

typedef struct {
    char *query;
    uint64_t count, last_ms;
} views_miss_t;

/* The top `top` misses: most often first, then most recent, then
 * alphabetical. *v is malloc'ed (views_misses_free). */
int views_misses(store_rtxn_t *rt, size_t top, views_miss_t **v, size_t *n);
void views_misses_free(views_miss_t **v, size_t n);

/* ---- office statistics ---- */

typedef struct {
    char topic[EVENT_MAX_TOPIC_LEN + 1];
    uint32_t tips;
} views_topic_t;

typedef struct {
    uint8_t author[EVENT_KEY_LEN];
    char name[VIEWS_NAME_CAP], team[VIEWS_TEAM_CAP];
    uint32_t thanks, tips;
} views_thanked_t;

/* A thanks with a story, and the tip it thanks. */
typedef struct {
    uint8_t id[EVENT_ID_LEN], tip[EVENT_ID_LEN];
    uint8_t from[EVENT_KEY_LEN], to[EVENT_KEY_LEN];
    char tip_title[EVENT_MAX_TITLE + 1];
    char from_name[VIEWS_NAME_CAP], to_name[VIEWS_NAME_CAP];
    char story[EVENT_MAX_BODY + 1];
    uint64_t created_at;
} views_story_t;

typedef struct {
    uint64_t now;      /* 0: the clock */
    int weeks;         /* 1..VIEWS_MAX_WEEKS week buckets ending at now */
    size_t top;        /* topics and most thanked shown */
    size_t stories;    /* newest stories shown (and per "me") */
    size_t misses;     /* misses shown */
    const uint8_t *me; /* NULL, or the asking user's key */
} views_stats_req_t;

typedef struct {
    uint64_t now, start; /* start of the oldest week bucket */
    int weeks;
    uint32_t per_week[VIEWS_MAX_WEEKS]; /* new tips (not edits, not imports) per week */
    store_counts_t counts;
    uint32_t answers, open_questions, contributors, anonymous_posts, thanks;
    uint32_t imported;            /* visible tips marked imported (counted in counts.tips) */
    uint64_t ratings, rating_sum; /* on live tips and questions */
    views_topic_t *topics;        /* top topics of visible tips */
    size_t ntopics;
    views_thanked_t *thanked; /* most thanked authors */
    size_t nthanked;
    views_story_t *stories; /* newest thanks with a story */
    size_t nstories;
    views_miss_t *misses;
    size_t nmisses;
    int has_me;
    struct {
        store_author_t a; /* zero if they have no live event */
        char name[VIEWS_NAME_CAP], team[VIEWS_TEAM_CAP];
        uint32_t answers_got, open_questions;
        views_story_t *stories;
        size_t nstories;
    } me;
} views_stats_t;

/* The answer to q from one pass over rt's store: the reference views_stats
 * is tested against. */
int views_stats_scan(store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out);
/* The same answer, from the figures the store keeps at ingest (no pass, no
 * cache: views_stats_agg.c) plus the misses and the asking user's own
 * stories. In a store without them (a schema-3 store opened read-only),
 * from the base of rt's events kept in cache (one pass on the first request
 * after an event arrives, then shared until the next); cache may be NULL. */
int views_stats(views_cache_t *cache, store_rtxn_t *rt, const views_stats_req_t *q,
                views_stats_t *out);
void views_stats_free(views_stats_t *st);

/* ---- tip of the day ---- */

typedef struct {
    const uint8_t *user;                  /* NULL, or the asking user's key */
    const char *date;                     /* the user's local date, as they send it */
    const uint8_t (*seen)[EVENT_PFX_LEN]; /* ids the user saw (their first bytes), sorted */
    size_t nseen;
} views_today_req_t;

typedef struct {
    int have;        /* a tip was picked */
    int seen_before; /* every candidate was seen: the pick is a seen one */
    size_t unseen;   /* candidates not seen */
    event_t *ev;     /* the pick, when have */
    views_tip_t fig;
} views_today_t;

/* The tip of the day: a weighted walk around the ring of tip ids from a
 * point given by (user, date) (views_today.c): a pure function of (user,
 * date, candidate set), stable while tips other than the pick come and go.
 * From the store's figures a few cursor steps (views_today_agg.c), without
 * them views_today_scan. */
int views_today(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out);
/* The same answer by one pass over every tip. */
int views_today_scan(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out);
void views_today_free(views_today_t *t);

/* ---- the cache of derived views ---- */

/* The base of `stats` for a store without the figures, keyed by the number
 * of events the read view's store holds (the held set only grows), so
 * exact: it is used only for the events it was computed from. Safe from
 * any thread. */
views_cache_t *views_cache_new(void);
/* Free; idempotent, NULLs *p. */
void views_cache_destroy(views_cache_t **p);

#endif
