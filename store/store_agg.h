/* store_agg.h -- the figures `stats` and `tip of the day` need, kept up to
 * date at ingest in the same write transaction as the events (store_agg.c).
 *
 * Every figure here is a function of the set of events held, exactly as a
 * pass over the store would compute it (the views layer's scan is the
 * reference the tests hold these to): per live tip or question its
 * visibility and its edit chain's ratings and thanks, per author the sums
 * store_author reports, per topic the visible tips, the new tips per time
 * bucket, and the live thanks with a story. Reads take any store_t or read
 * view, like store.h's.
 *
 * A store opened read-only whose data predates these figures, or one whose
 * figures were dropped (an edit graph too large to follow exactly, see
 * store_agg.c), answers STORE_E_NOTFOUND from every function here until it
 * is next opened for writing, which rebuilds them: callers fall back to a
 * pass over the store.
 */
#ifndef TIPD_STORE_AGG_H
#define TIPD_STORE_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "store.h"

/* Flags of a post (store_post_t.flags). */
#define STORE_POST_VISIBLE  1 /* live and not superseded */
#define STORE_POST_NEW      2 /* a tip written here, not an edit nor an import */
#define STORE_POST_ANSWER   4 /* answers a question */
#define STORE_POST_IMPORTED 8 /* marked imported */

/* One live tip or question. The figures are those of a visible version
 * (store_chain_stats; answers: summed over the question's edit chain,
 * store_question_chain); zero for a superseded one. */
typedef struct {
    uint8_t id[EVENT_ID_LEN];
    uint64_t created_at;
    uint8_t kind, flags;
    uint32_t ratings, rating_sum, thanks, answers;
} store_post_t;

/* One author's sums as store_author reports them (first_ms and last_ms
 * only from store_agg_author), plus what their visible questions got. */
typedef struct {
    store_author_t a;
    uint32_t open_questions; /* visible questions with no answer */
    uint32_t answers_got;    /* answers to their visible questions */
} store_agg_author_t;

/* How many events the figures were built from when s was opened (0: none
 * were built: a new store, or one that had them), and how long it took. */
uint64_t store_agg_built(const store_t *s, double *seconds);

/* 1 if the store keeps these figures, 0 if not (see above), or a code. */
int store_agg_ready(store_t *s);

/* One post; STORE_E_NOTFOUND if id is not a live tip or question. */
int store_agg_post(store_t *s, const uint8_t id[EVENT_ID_LEN], store_post_t *p);
/* Every live tip and question, in (created_at, id) order. */
typedef int (*store_agg_post_fn)(const store_post_t *p, void *arg);
int store_agg_posts_each(store_t *s, store_agg_post_fn fn, void *arg);
/* 1 if author wrote the live post p (one lookup in the author index), 0 if
 * not (or p is no longer held), or a code. */
int store_agg_post_by(store_t *s, const store_post_t *p, const uint8_t author[EVENT_KEY_LEN]);
/* The live tips and questions named by pfx[0..n), ids' first bytes (any
 * order, repeats allowed; of two events sharing them, the first in id
 * order), each once, in (created_at, id) order, with whether author wrote
 * it (0 when author is NULL), in one read: for a long list of ids, such as
 * the tips a user has seen. Other prefixes are skipped; fn returning
 * non-zero stops with that value. STORE_E_NOMEM if n keys of 40 bytes
 * cannot be allocated. */
typedef int (*store_agg_post_by_fn)(const store_post_t *p, int by_author, void *arg);
int store_agg_posts_of(store_t *s, const uint8_t (*pfx)[EVENT_PFX_LEN], size_t n,
                       const uint8_t *author, store_agg_post_by_fn fn, void *arg);
/* Every live tip and question in id order, starting at the first id >= from
 * and wrapping past the last id to the first, so each once; fn returning
 * non-zero stops the walk with that value. A walk stopped after a few
 * steps costs a few cursor steps, whatever the store's size. */
int store_agg_posts_from(store_t *s, const uint8_t from[EVENT_ID_LEN], store_agg_post_fn fn,
                         void *arg);

/* One author's sums with first_ms and last_ms; STORE_E_NOTFOUND if they
 * have no live event. */
int store_agg_author(store_t *s, const uint8_t author[EVENT_KEY_LEN], store_agg_author_t *a);
/* Every author with a live post or rating or thanks, in key order, without
 * first_ms and last_ms (store_agg_author has them). */
typedef int (*store_agg_author_fn)(const store_agg_author_t *a, void *arg);
int store_agg_authors_each(store_t *s, store_agg_author_fn fn, void *arg);

/* Visible tips per topic, in topic byte order. */
typedef int (*store_agg_topic_fn)(const char *topic, uint32_t tips, void *arg);
int store_agg_topics_each(store_t *s, store_agg_topic_fn fn, void *arg);

/* New tips (STORE_POST_NEW, superseded ones included) created in [lo, hi). */
int store_agg_new_tips(store_t *s, uint64_t lo, uint64_t hi, uint64_t *n);

/* Live thanks with a story, newest first (created_at, then id), with the
 * first event they target (held or not). */
typedef int (*store_agg_story_fn)(const uint8_t thanks[EVENT_ID_LEN],
                                  const uint8_t target[EVENT_ID_LEN], uint64_t created_at,
                                  void *arg);
int store_agg_stories_each(store_t *s, store_agg_story_fn fn, void *arg);

/* The answers a question got, summed over every version of its edit chain
 * (an answer may name the version current when it was written), and when
 * the first version was asked; the question's own figures (and created_at)
 * when its history cannot be read. The one definition both the aggregates
 * and the views use. */
void store_question_chain(store_t *s, const uint8_t id[EVENT_ID_LEN], uint64_t created_at,
                          uint32_t *answers, uint64_t *first_ms);

#endif
