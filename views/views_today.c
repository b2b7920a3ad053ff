/* views_today.c -- the tip of the day.
 *
 * Weighted rendezvous hashing (Efraimidis-Spirakis): every candidate tip
 * gets the key -ln(u)/w, u a hash of (user, date, tip id) in (0,1) and w
 * its weight from ratings and thanks, and the smallest key wins. The pick
 * is a pure function of (user, date, candidate set), and adding or removing
 * a tip other than the winner never changes it, so a user sees the same tip
 * all day even while tips keep arriving. Candidates: visible tips that do
 * not answer a question, not the user's own; a tip the user has seen only
 * wins when every candidate was seen.
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "views_int.h"

#define S_TODAY_EXPONENT 6.0 /* weight = prior^6: 5 stars by 5 people ~3x, 10 thanks ~4x */

typedef struct {
    store_rtxn_t *rt;
    const views_today_req_t *q;
    uint8_t seed[32];
    size_t unseen;
    views_pick_t pick; /* smallest key among unseen [0] and seen [1] tips */
} s_today_t;

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_LEN);
}

static int s_answers_something(const event_t *ev)
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == EVENT_REF_ANSWERS) return 1;
    return 0;
}

void views_today_seed(const views_today_req_t *q, uint8_t seed[32])
{
    /* seed = BLAKE2b("tipd-today" 0 || user key (zeros if none) || date) */
    uint8_t user[EVENT_KEY_LEN] = {0};
    if (q->user) memcpy(user, q->user, EVENT_KEY_LEN);
    const char *date = q->date ? q->date : "";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const uint8_t *)"tipd-today", 11);
    crypto_generichash_update(&h, user, EVENT_KEY_LEN);
    crypto_generichash_update(&h, (const uint8_t *)date, strlen(date));
    crypto_generichash_final(&h, seed, 32);
}

double views_today_key(const uint8_t seed[32], const uint8_t id[EVENT_ID_LEN],
                       const store_stats_t *st)
{
    double w = pow(store_prior(st), S_TODAY_EXPONENT);
    uint8_t h[8], msg[32 + EVENT_ID_LEN];
    memcpy(msg, seed, 32);
    memcpy(msg + 32, id, EVENT_ID_LEN);
    crypto_generichash(h, sizeof(h), msg, sizeof(msg), NULL, 0);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | h[i];
    double u = ((double)(x >> 11) + 0.5) / 9007199254740992.0; /* (0,1), 53 bits */
    return -log(u) / w;
}

int views_pick_beats(const views_pick_t *p, int seen, double key, const uint8_t id[EVENT_ID_LEN])
{
    return !p->have[seen] || key < p->best[seen] ||
           (key == p->best[seen] && memcmp(id, p->id[seen], EVENT_ID_LEN) < 0);
}

void views_pick_set(views_pick_t *p, int seen, double key, const uint8_t id[EVENT_ID_LEN])
{
    p->have[seen] = 1;
    p->best[seen] = key;
    memcpy(p->id[seen], id, EVENT_ID_LEN);
}

void views_pick_finish(store_rtxn_t *rt, const views_pick_t *p, size_t unseen, views_today_t *out)
{
    memset(out, 0, sizeof(*out));
    int pick = p->have[0] ? 0 : 1;
    out->unseen = unseen;
    if (!p->have[pick]) return;
    out->seen_before = pick == 1;
    views_today_load(rt, p->id[pick], out);
}

static int s_today_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_today_t *t = arg;
    const views_today_req_t *q = t->q;
    if (s_answers_something(ev)) return 0; /* answers need their question */
    if (q->user && !memcmp(ev->author, q->user, EVENT_KEY_LEN)) return 0;
    int seen = q->nseen && bsearch(ev->id, q->seen, q->nseen, EVENT_ID_LEN, s_id_cmp) != NULL;
    store_stats_t st;
    /* the chain's ratings and thanks, as search's prior */
    if (store_chain_stats(t->rt, ev->id, &st) != 0) return 0;
    double key = views_today_key(t->seed, ev->id, &st);
    t->unseen += !seen;
    if (views_pick_beats(&t->pick, seen, key, ev->id)) views_pick_set(&t->pick, seen, key, ev->id);
    return 0;
}

int views_today(store_rtxn_t *rt, const views_today_req_t *q, views_today_t *out)
{
    memset(out, 0, sizeof(*out));
    s_today_t t;
    memset(&t, 0, sizeof(t));
    t.rt = rt;
    t.q = q;
    views_today_seed(q, t.seed);
    store_filter_t f = {.kind = EVENT_TIP};
    int rc = store_list(rt, &f, 0, s_today_one, &t);
    if (rc) return rc > 0 ? STORE_E_NOMEM : rc;
    views_pick_finish(rt, &t.pick, t.unseen, out);
    return 0;
}

void views_today_load(store_rtxn_t *rt, const uint8_t id[EVENT_ID_LEN], views_today_t *out)
{
    if (!(out->ev = malloc(sizeof(*out->ev)))) return;
    if (store_get(rt, id, out->ev) != 0) {
        free(out->ev);
        out->ev = NULL;
        return;
    }
    out->have = 1;
    views_tip(rt, out->ev, &out->fig);
}

void views_today_free(views_today_t *t)
{
    if (!t) return;
    free(t->ev);
    memset(t, 0, sizeof(*t));
}
