/* views_int.h -- what the files of the views layer share (not a public
 * header): the base of `stats` per set of held events and the parts a
 * request adds.
 */
#ifndef TIPD_VIEWS_INT_H
#define TIPD_VIEWS_INT_H

#include "views.h"

#define VIEWS_TOP_MAX     100  /* `stats` top: the API's bound */
#define VIEWS_STORIES_MAX 100  /* `stats` stories: the API's bound */
#define VIEWS_MISSES_MAX  1000 /* `stats` misses: the API's bound */

/* Everything of `stats` that does not depend on the request, for one
 * state of the events (views_state_key): st holds the longest lists any
 * request may ask for (no "me", no week buckets, no misses: those are read
 * per request); times the created_at of every new tip (not an edit) at or
 * after cutoff, ascending. Shared by reference (refs). */
struct views_base {
    uint64_t key, cutoff;
    views_stats_t st;
    uint64_t *times;
    size_t ntimes;
    int refs;
};

/* What identifies the event-derived state rt reads: the number of events
 * held (tombstones included) plus one. The held set only ever grows (a
 * retraction is an event too; a retracted event keeps its id), so two
 * snapshots of one store with the same count hold the same events and
 * derive the same figures, while the searches-that-missed record (written
 * by reads) changes nothing of it. 0 if the store cannot say. */
uint64_t views_state_key(store_rtxn_t *rt);

/* now, weeks and start of out as q asks. */
void views_stats_window(const views_stats_req_t *q, views_stats_t *out);

/* The base of rt's snapshot (one pass over the store). 0 or a code. */
int views_base_build(store_rtxn_t *rt, uint64_t cutoff, views_base_t **out);
/* Drop a reference; the last frees. Idempotent, NULLs *p. */
void views_base_unref(views_base_t **p);
/* Answer q from b (which must be of rt's snapshot) and rt for "me".
 * STORE_E_ARG if q's weeks reach before b->cutoff. */
int views_stats_from(const views_base_t *b, store_rtxn_t *rt, const views_stats_req_t *q,
                     views_stats_t *out);
/* The "me" part of out: what the author me gave and got, from their own
 * events and the thanks that target them. */
int views_stats_me(store_rtxn_t *rt, const uint8_t me[EVENT_KEY_LEN], size_t max_stories,
                   views_stats_t *out);
/* The orders of the top lists (views_stats.c): most tips first, then by
 * name; most thanked first, then by key (stable across nodes). */
int views_topic_cmp(const void *a, const void *b);
int views_thanked_cmp(const void *a, const void *b);
/* 1 if author has set a display name (the anonymity rule's "named"). */
int views_author_named(store_rtxn_t *rt, const uint8_t author[EVENT_KEY_LEN]);
/* The most-thanked list being gathered: append one author (anon kept in
 * name[0] until views_thanked_top names the top ones). 0, or ENOMEM. */
typedef struct {
    views_thanked_t *v;
    size_t n, cap;
} views_thanked_list_t;
int views_thanked_add(views_thanked_list_t *l, const uint8_t author[EVENT_KEY_LEN], uint32_t thanks,
                      uint32_t tips, int anon);
/* Sort l, hand its first top entries to out (l gives up the array) and
 * fill the names of the first `named` of them. */
void views_thanked_top(store_rtxn_t *rt, views_thanked_list_t *l, size_t top, size_t named,
                       views_stats_t *out);
/* One story of a thanks th on target (views_stats.c). */
void views_story_fill(store_rtxn_t *rt, const event_t *th, const event_t *target, views_story_t *o);

/* `stats` from the figures the store keeps at ingest (views_stats_agg.c):
 * views_stats_scan's answer. STORE_E_NOTFOUND if the store keeps none. */
int views_stats_agg(store_rtxn_t *rt, const views_stats_req_t *q, views_stats_t *out);

/* ---- today (views_today.c, views_today_agg.c) ---- */

/* The bound on a candidate's weight, and the scale of its chance to be
 * taken in the first round (w / VIEWS_TODAY_W_MAX): the walk reads about
 * this many candidates divided by their mean weight. */
#define VIEWS_TODAY_W_MAX 16.0

/* The smallest key so far among unseen [0] and seen [1] candidates. */
typedef struct {
    int have[2];
    int round[2];
    uint8_t id[2][EVENT_ID_LEN];
} views_pick_t;

/* The request's hash seed (also the walk's starting point on the ring of
 * ids), and the round (0 or 1) in which a candidate with the chain's
 * figures st is first taken (views_today.c). */
void views_today_seed(const views_today_req_t *q, uint8_t seed[32]);
int views_today_round(const uint8_t seed[32], const uint8_t id[EVENT_ID_LEN],
                      const store_stats_t *st);
/* 1 if id is in q's sorted seen set. */
int views_today_is_seen(const views_today_req_t *q, const uint8_t id[EVENT_ID_LEN]);
/* 1 if (round, id) has a smaller key than p's pick of its side: an
 * earlier round, else an id met earlier walking from the seed. */
int views_pick_beats(const views_pick_t *p, const uint8_t seed[32], int seen, int round,
                     const uint8_t id[EVENT_ID_LEN]);
void views_pick_set(views_pick_t *p, int seen, int round, const uint8_t id[EVENT_ID_LEN]);
/* out from a pick: the best unseen, else the best seen (seen_before). */
void views_pick_finish(store_rtxn_t *rt, const views_pick_t *p, size_t unseen, views_today_t *out);

/* views_today_scan's answer from the store's figures, by a walk of a few
 * post records from the seed (views_today_agg.c). STORE_E_NOTFOUND if the
 * store keeps none. */
int views_today_agg(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out);

/* Load the picked tip id of `today` into out (have set on success). */
void views_today_load(store_rtxn_t *rt, const uint8_t id[EVENT_ID_LEN], views_today_t *out);

#endif
