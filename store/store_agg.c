/* store_agg.c -- the figures of `stats` and `today`, kept at ingest in the
 * write transaction that stores each event, so neither view passes over the
 * store (store_agg.h says what they are).
 *
 * Every figure is a sum over posts (live tips and questions) of what one
 * post contributes, plus per-event counts (tips rated and thanked, each
 * once per author -- s_given --, thanks with a story). What a post contributes is a function of the
 * held set (its visibility, its edit chain's ratings and thanks, its question chain's answers,
 * whether it is a new tip), read with the same functions the views use, inside the write
 * transaction. Its last contribution is kept as a record (apost), so the ingest of an event
 * recomputes the posts it can affect and moves every sum by the difference. Because a contribution
 * is recomputed from the state after the event, never updated by rule, the sums end where a scan of
 * the same events would, whatever order the events came in. The posts one event can affect:
 *   - itself, and the posts it names (supersedes, answers, rates, thanks);
 *   - for a retraction, the retracted event and what that one named (read
 *     before it goes: its bytes leave with it);
 *   - every visible version whose edit chain holds one of those (walked
 *     forward through same-author SUPERSEDES references in refs);
 *   - the questions a tip answers when the tip's visibility changed;
 *   - tips that cite the event as the version they edit (whether a tip is
 *     new depends on that version's author).
 * More than S_MAX_QUEUE posts for one event (a pathological edit graph)
 * drops the figures instead of following them inexactly: readers fall
 * back to a pass until the next open for writing rebuilds them. A store
 * from before these figures (schema 3) gets them built once at open, in
 * chunks that a cut-short start resumes.
 *
 * The pick of `today` itself is not kept: it walks a few posts in id order
 * from a point given by the asking user and their date, reading what the
 * apost record holds per candidate (visible, not an answer, the chain's
 * ratings and thanks), which is cheap for any (user, date)
 * (views/views_today_agg.c).
 *
 * Databases (keys big-endian):
 *   apost  created_at || id -> kind, flags, ratings, rating_sum, thanks, answers
 *   aauth  author -> 11 x u32 (S_A_* below)
 *   atopic topic -> visible tips
 *   anew   level || bucket -> new tips (buckets of 2^16, 2^20, 2^24 ms)
 *   astory created_at || id -> first target (live thanks with a story)
 *   meta   "agg" -> u32 version: present iff the figures are kept
 */
#include <errno.h>
#include <stdlib.h>

#include "store_agg.h"
#include "store_int.h"

#define S_AGG_VERSION 2 /* 2: ratings and thanks given count tips, once each */
#define S_MAX_QUEUE   512

enum {
    S_A_TIPS,
    S_A_QUESTIONS,
    S_A_ANSWERS,
    S_A_IMPORTED,
    S_A_RATINGS_GIVEN,
    S_A_THANKS_GIVEN,
    S_A_THANKS_RECV,
    S_A_RATINGS_RECV,
    S_A_RSUM_RECV,
    S_A_OPEN_Q,
    S_A_ANSWERS_GOT,
    S_A_N = STORE_AGG_AUTH_N
};

typedef struct {
    store_tx_t *tx;
    store_t w; /* a read view of the write transaction, for store.h's reads */
    int build; /* rebuilding: no queue */
    uint8_t (*q)[EVENT_ID_LEN];
    size_t nq;
    event_t *gone[EVENT_MAX_REFS]; /* what the arriving retraction removes */
    int ngone;
    const event_t *arriving;
    event_t *tmp;
    int dropped;
} s_ctx_t;

/* ---- records ---- */

static void s_tkey(uint64_t t, const uint8_t id[EVENT_ID_LEN], uint8_t key[8 + EVENT_ID_LEN])
{
    store_be64(key, t);
    memcpy(key + 8, id, EVENT_ID_LEN);
}

void store_agg_post_unpack(const uint8_t *p, store_post_t *o)
{
    o->kind = p[0];
    o->flags = p[1];
    o->ratings = store_rd32(p + 2);
    o->rating_sum = store_rd32(p + 6);
    o->thanks = store_rd32(p + 10);
    o->answers = store_rd32(p + 14);
}

static int s_post_get(MDB_txn *txn, store_t *s, uint64_t t, const uint8_t id[EVENT_ID_LEN],
                      store_post_t *o)
{
    uint8_t key[8 + EVENT_ID_LEN];
    s_tkey(t, id, key);
    MDB_val k = {sizeof key, key}, v;
    memset(o, 0, sizeof(*o));
    int rc = mdb_get(txn, s->apost, &k, &v);
    if (rc) return rc;
    if (v.mv_size != STORE_AGG_POST_LEN) return MDB_CORRUPTED;
    store_agg_post_unpack(v.mv_data, o);
    memcpy(o->id, id, EVENT_ID_LEN);
    o->created_at = t;
    return 0;
}

static int s_post_put(s_ctx_t *c, const store_post_t *o, int del)
{
    uint8_t key[8 + EVENT_ID_LEN], val[STORE_AGG_POST_LEN];
    s_tkey(o->created_at, o->id, key);
    MDB_val k = {sizeof key, key}, v = {sizeof val, val};
    if (del) {
        int rc = mdb_del(c->tx->txn, c->tx->s->apost, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    val[0] = o->kind;
    val[1] = o->flags;
    store_be32(val + 2, o->ratings);
    store_be32(val + 6, o->rating_sum);
    store_be32(val + 10, o->thanks);
    store_be32(val + 14, o->answers);
    return mdb_put(c->tx->txn, c->tx->s->apost, &k, &v, 0);
}

static int s_author_get(MDB_txn *txn, store_t *s, const uint8_t a[EVENT_KEY_LEN], uint32_t f[S_A_N])
{
    MDB_val k = {EVENT_KEY_LEN, (void *)a}, v;
    memset(f, 0, S_A_N * sizeof(*f));
    int rc = mdb_get(txn, s->aauth, &k, &v);
    if (rc) return rc;
    if (v.mv_size != 4 * S_A_N) return MDB_CORRUPTED;
    for (int i = 0; i < S_A_N; i++) f[i] = store_rd32((const uint8_t *)v.mv_data + 4 * i);
    return 0;
}

/* Add d to the author's sums (a record of zeros is deleted). */
static int s_author_move(s_ctx_t *c, const uint8_t a[EVENT_KEY_LEN], const int64_t d[S_A_N])
{
    int any = 0;
    for (int i = 0; i < S_A_N; i++) any |= d[i] != 0;
    if (!any) return 0;
    uint32_t f[S_A_N];
    int rc = s_author_get(c->tx->txn, c->tx->s, a, f);
    if (rc && rc != MDB_NOTFOUND) return rc;
    uint8_t val[4 * S_A_N];
    int zero = 1;
    for (int i = 0; i < S_A_N; i++) {
        f[i] = (uint32_t)((int64_t)f[i] + d[i]);
        zero &= f[i] == 0;
        store_be32(val + 4 * i, f[i]);
    }
    MDB_val k = {EVENT_KEY_LEN, (void *)a}, v = {sizeof val, val};
    if (zero) {
        rc = mdb_del(c->tx->txn, c->tx->s->aauth, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return mdb_put(c->tx->txn, c->tx->s->aauth, &k, &v, 0);
}

static int s_author_one(s_ctx_t *c, const uint8_t a[EVENT_KEY_LEN], int field, int d)
{
    int64_t v[S_A_N] = {0};
    v[field] = d;
    return s_author_move(c, a, v);
}

/* Add d to a u32 counter under key k in dbi (deleted at zero). */
static int s_count_move(s_ctx_t *c, MDB_dbi dbi, const void *key, size_t klen, int d)
{
    MDB_val k = {klen, (void *)key}, v;
    uint32_t n = 0;
    int rc = mdb_get(c->tx->txn, dbi, &k, &v);
    if (rc == 0 && v.mv_size == 4)
        n = store_rd32(v.mv_data);
    else if (rc && rc != MDB_NOTFOUND)
        return rc;
    n = (uint32_t)((int64_t)n + d);
    if (!n) {
        rc = mdb_del(c->tx->txn, dbi, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    uint8_t b[4];
    store_be32(b, n);
    v = (MDB_val){4, b};
    return mdb_put(c->tx->txn, dbi, &k, &v, 0);
}

static int s_new_move(s_ctx_t *c, uint64_t t, int d)
{
    for (int l = 0; l < STORE_AGG_LEVELS; l++) {
        uint8_t key[9];
        key[0] = (uint8_t)l;
        store_be64(key + 1, t >> STORE_AGG_SHIFT(l));
        int rc = s_count_move(c, c->tx->s->anew, key, sizeof key, d);
        if (rc) return rc;
    }
    return 0;
}

static int s_topics_move(s_ctx_t *c, const event_t *ev, int d)
{
    for (int i = 0; i < ev->ntopics; i++) {
        int rc = s_count_move(c, c->tx->s->atopic, ev->topics[i],
                              strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN), d);
        if (rc) return rc;
    }
    return 0;
}

static int s_story(s_ctx_t *c, const event_t *ev, int del)
{
    const uint8_t *target = NULL;
    for (int i = 0; i < ev->nrefs && !target; i++)
        if (ev->refs[i].role == EVENT_REF_TARGET) target = ev->refs[i].id;
    if (!ev->body_len || !target) return 0;
    uint8_t key[8 + EVENT_ID_LEN];
    s_tkey(ev->created_at, ev->id, key);
    MDB_val k = {sizeof key, key}, v = {EVENT_ID_LEN, (void *)target};
    int rc = del ? mdb_del(c->tx->txn, c->tx->s->astory, &k, NULL)
                 : mdb_put(c->tx->txn, c->tx->s->astory, &k, &v, 0);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- the queue of posts to recompute ---- */

static int s_drop(s_ctx_t *c)
{
    MDB_val k = {3, "agg"};
    int rc = mdb_del(c->tx->txn, c->tx->s->meta, &k, NULL);
    c->dropped = 1;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int s_enqueue(s_ctx_t *c, const uint8_t id[EVENT_ID_LEN])
{
    if (c->build || c->dropped) return 0;
    for (size_t i = 0; i < c->nq; i++)
        if (!memcmp(c->q[i], id, EVENT_ID_LEN)) return 0;
    if (c->nq == S_MAX_QUEUE) return s_drop(c);
    if (!c->q && !(c->q = malloc(S_MAX_QUEUE * EVENT_ID_LEN))) return ENOMEM;
    memcpy(c->q[c->nq++], id, EVENT_ID_LEN);
    return 0;
}

static int s_enqueue_refs(s_ctx_t *c, const event_t *ev, int role)
{
    int rc = 0;
    for (int i = 0; i < ev->nrefs && !rc; i++)
        if (ev->refs[i].role == role) rc = s_enqueue(c, ev->refs[i].id);
    return rc;
}

/* Where id stands: *live 1 for a held event, 0 for a tombstone; its kind,
 * created_at and author. MDB_NOTFOUND if not held. */
static int s_locate(s_ctx_t *c, const uint8_t id[EVENT_ID_LEN], int *live, int *kind, uint64_t *t,
                    uint8_t author[EVENT_KEY_LEN])
{
    const event_t *a = c->arriving;
    if (a && !memcmp(a->id, id, EVENT_ID_LEN)) { /* stored live a moment ago */
        *live = 1;
        *kind = a->kind;
        *t = a->created_at;
        memcpy(author, a->author, EVENT_KEY_LEN);
        return 0;
    }
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    store_t *s = c->tx->s;
    int rc = mdb_get(c->tx->txn, s->ev, &k, &v);
    if (rc) return rc;
    const uint8_t *p = v.mv_data;
    if (v.mv_size == STORE_LOC_LEN) {
        *live = 1;
        *kind = p[0];
        *t = store_rd64(p + 1);
        if ((rc = store_ev_get(s, c->tx->txn, id, &v))) return rc;
        if (v.mv_size < STORE_AUTHOR_AT + EVENT_KEY_LEN) return MDB_CORRUPTED;
        memcpy(author, (const uint8_t *)v.mv_data + STORE_AUTHOR_AT, EVENT_KEY_LEN);
        return 0;
    }
    if (v.mv_size != STORE_TOMB_LEN || p[0] != 0) return MDB_CORRUPTED;
    *live = 0;
    *kind = p[1];
    memcpy(author, p + 2, EVENT_KEY_LEN);
    *t = store_rd64(p + 2 + EVENT_KEY_LEN);
    return 0;
}

/* Queue what refs[id] says depends on id: same-author edits of it (their
 * chains hold it) and, with others, every tip citing it as its edited
 * version (new or not depends on id's author). */
static int s_dependents(s_ctx_t *c, const uint8_t id[EVENT_ID_LEN], const uint8_t *author,
                        int others)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->tx->txn, c->tx->s->refs, &cur);
    if (rc) return rc;
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        store_ref_t r;
        if (store_ref_unpack(&v, &r) || r.role != EVENT_REF_SUPERSEDES) continue;
        int same = author && !memcmp(r.author, author, EVENT_KEY_LEN);
        if ((same && (r.kind == EVENT_TIP || r.kind == EVENT_QUESTION)) ||
            (others && r.kind == EVENT_TIP)) {
            int e = s_enqueue(c, r.id);
            if (e) {
                rc = e;
                break;
            }
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- what one post contributes ---- */

/* The views' rule for "a new tip": not an edit of one of its author's own
 * events, where an edit whose first edited version is not live counts as
 * an edit too. */
static int s_is_edit(s_ctx_t *c, const event_t *ev, int *edit)
{
    *edit = 0;
    for (int i = 0; i < ev->nrefs; i++) {
        if (ev->refs[i].role != EVENT_REF_SUPERSEDES) continue;
        int live, kind;
        uint64_t t;
        uint8_t author[EVENT_KEY_LEN];
        int rc = s_locate(c, ev->refs[i].id, &live, &kind, &t, author);
        if (rc && rc != MDB_NOTFOUND) return rc;
        *edit = rc || !live || !memcmp(author, ev->author, EVENT_KEY_LEN);
        return 0;
    }
    return 0;
}

static const event_t *s_known(s_ctx_t *c, const uint8_t id[EVENT_ID_LEN])
{
    if (c->arriving && !memcmp(c->arriving->id, id, EVENT_ID_LEN)) return c->arriving;
    for (int i = 0; i < c->ngone; i++)
        if (!memcmp(c->gone[i]->id, id, EVENT_ID_LEN)) return c->gone[i];
    return NULL;
}

/* The contribution of the live post ev (row r) now. */
static int s_contribution(s_ctx_t *c, const event_t *ev, store_post_t *o)
{
    store_row_t r;
    int rc = store_row_get(c->tx->s, c->tx->txn, ev->id, &r), edit;
    if (rc) return rc;
    memcpy(o->id, ev->id, EVENT_ID_LEN);
    o->created_at = ev->created_at;
    o->kind = ev->kind;
    o->flags = 0;
    if (event_ref(ev, EVENT_REF_ANSWERS)) o->flags |= STORE_POST_ANSWER;
    if (ev->imported) o->flags |= STORE_POST_IMPORTED;
    if (ev->kind == EVENT_TIP && !ev->imported) {
        if ((rc = s_is_edit(c, ev, &edit))) return rc;
        if (!edit) o->flags |= STORE_POST_NEW;
    }
    if (!(r.flags & STORE_ROW_VISIBLE)) return 0;
    o->flags |= STORE_POST_VISIBLE;
    store_stats_t st = {.ratings = r.ratings, .rating_sum = r.rating_sum, .thanks = r.thanks};
    /* a STORE_E* code here must not read as the event's own fault: the
     * ingest loop refuses an event for those (store_apply.c) */
    if (event_ref(ev, EVENT_REF_SUPERSEDES) && (rc = store_chain_stats(&c->w, ev->id, &st)))
        return rc == STORE_E_NOMEM ? ENOMEM : STORE_E_LMDB;
    o->ratings = st.ratings;
    o->rating_sum = st.rating_sum;
    o->thanks = st.thanks;
    if (ev->kind == EVENT_QUESTION)
        store_question_chain(&c->w, ev->id, ev->created_at, &o->answers, NULL);
    return 0;
}

/* An author's sums from one contribution, times d. */
static void s_author_part(const store_post_t *p, int d, int64_t v[S_A_N])
{
    if (!(p->flags & STORE_POST_VISIBLE)) return;
    if (p->kind == EVENT_QUESTION) {
        v[S_A_QUESTIONS] += d;
        v[S_A_OPEN_Q] += p->answers ? 0 : d;
        v[S_A_ANSWERS_GOT] += (int64_t)p->answers * d;
    } else {
        v[S_A_TIPS] += d;
        if (p->flags & STORE_POST_ANSWER)
            v[S_A_ANSWERS] += d;
        else if (p->flags & STORE_POST_IMPORTED)
            v[S_A_IMPORTED] += d;
    }
    v[S_A_THANKS_RECV] += (int64_t)p->thanks * d;
    v[S_A_RATINGS_RECV] += (int64_t)p->ratings * d;
    v[S_A_RSUM_RECV] += (int64_t)p->rating_sum * d;
}

/* Recompute what post id contributes and move every sum by the change. */
static int s_recompute(s_ctx_t *c, const uint8_t id[EVENT_ID_LEN])
{
    int live, kind;
    uint64_t t;
    uint8_t author[EVENT_KEY_LEN];
    int rc = s_locate(c, id, &live, &kind, &t, author);
    if (rc) return rc == MDB_NOTFOUND ? 0 : rc;
    if (kind != EVENT_TIP && kind != EVENT_QUESTION) return 0;
    store_post_t old, now;
    rc = s_post_get(c->tx->txn, c->tx->s, t, id, &old);
    int had = rc == 0;
    if (rc && rc != MDB_NOTFOUND) return rc;
    memset(&now, 0, sizeof now);
    const event_t *ev = s_known(c, id);
    if (live) {
        if (!ev) {
            MDB_val raw;
            if ((rc = store_ev_get(c->tx->s, c->tx->txn, id, &raw))) return rc;
            if (event_decode(raw.mv_data, raw.mv_size, c->tmp)) return MDB_CORRUPTED;
            ev = c->tmp;
        }
        if ((rc = s_contribution(c, ev, &now))) return rc;
    }
    if (had && !memcmp(&old, &now, sizeof old)) return 0;
    if (!had && !live) return 0;
    int64_t d[S_A_N] = {0};
    s_author_part(&old, -1, d);
    s_author_part(&now, +1, d);
    if ((rc = s_author_move(c, author, d))) return rc;
    int vis_old = (old.flags & STORE_POST_VISIBLE) != 0,
        vis_now = (now.flags & STORE_POST_VISIBLE) != 0;
    if (kind == EVENT_TIP && vis_old != vis_now) {
        if (!ev) return s_drop(c); /* its topics are gone with its bytes: cannot happen */
        if ((rc = s_topics_move(c, ev, vis_now ? 1 : -1))) return rc;
        if (ev && (rc = s_enqueue_refs(c, ev, EVENT_REF_ANSWERS))) return rc;
    }
    int new_old = (old.flags & STORE_POST_NEW) != 0, new_now = (now.flags & STORE_POST_NEW) != 0;
    if (new_old != new_now && (rc = s_new_move(c, t, new_now ? 1 : -1))) return rc;
    return s_post_put(c, live ? &now : &old, !live);
}

/* Recompute every queued post, following what each one's change reaches. */
static int s_run_queue(s_ctx_t *c)
{
    for (size_t i = 0; i < c->nq && !c->dropped; i++) {
        uint8_t id[EVENT_ID_LEN];
        memcpy(id, c->q[i], EVENT_ID_LEN);
        int live, kind;
        uint64_t t;
        uint8_t author[EVENT_KEY_LEN];
        int rc = s_locate(c, id, &live, &kind, &t, author);
        if (rc == MDB_NOTFOUND) continue;
        if (rc) return rc;
        if ((rc = s_dependents(c, id, author, 0))) return rc;
        if ((rc = s_recompute(c, id))) return rc;
    }
    return 0;
}

/* ---- ingest ---- */

static int s_ready_txn(store_t *s, MDB_txn *txn)
{
    if (!s->agg_dbs) return 0;
    MDB_val k = {3, "agg"}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return -rc;
    return v.mv_size == 4 && store_rd32(v.mv_data) == S_AGG_VERSION;
}

static void s_ctx_init(s_ctx_t *c, store_tx_t *tx)
{
    memset(c, 0, sizeof(*c));
    c->tx = tx;
    c->w = *tx->s; /* its locks are copied bytes, never used: it only reads through `bound` */
    c->w.parent = NULL;
    c->w.bound = tx->txn;
    c->w.cancel = NULL;
    c->w.read_only = 1;
}

static void s_ctx_free(s_ctx_t *c)
{
    for (int i = 0; i < c->ngone; i++) free(c->gone[i]);
    free(c->q);
    free(c->tmp);
}

/* Before a retraction applies: the events it will remove, decoded. */
static int s_pre_retract(s_ctx_t *c, const event_t *ev)
{
    for (int i = 0; i < ev->nrefs; i++) {
        if (ev->refs[i].role != EVENT_REF_TARGET || s_known(c, ev->refs[i].id)) continue;
        MDB_val raw;
        int rc = store_ev_get(c->tx->s, c->tx->txn, ev->refs[i].id, &raw);
        if (rc == MDB_NOTFOUND) continue;
        if (rc) return rc;
        if (raw.mv_size <= STORE_TOMB_LEN || ((uint8_t *)raw.mv_data)[0] == 0) continue;
        event_t *x = malloc(sizeof(*x));
        if (!x) return ENOMEM;
        if (event_decode(raw.mv_data, raw.mv_size, x) || x->kind == EVENT_RETRACT ||
            memcmp(x->author, ev->author, EVENT_KEY_LEN)) {
            free(x);
            continue;
        }
        c->gone[c->ngone++] = x;
    }
    return 0;
}

/* A rating or thanks arriving or leaving moves its author's "given" count
 * (field) only when it is the author's first or last live one on its tip:
 * given counts tips, as a tip counts its raters and thankers once. A build
 * walks every held event with the whole index in place, so there the
 * author's event with the smallest id on each tip is the one counted. */
static int s_given(s_ctx_t *c, const event_t *ev, int field, int d)
{
    const uint8_t *target = event_ref(ev, EVENT_REF_TARGET);
    int twin = 0;
    if (target) {
        int rc = store_ref_twin(c->tx->s, c->tx->txn, target, ev->kind, ev->author, ev->id,
                                c->build, &twin);
        if (rc) return rc;
    }
    return twin ? 0 : s_author_one(c, ev->author, field, d);
}

/* Everything one event (ev) arriving or leaving (d = -1: retracted) does
 * to the per-event counts, and the posts it may change, queued. */
static int s_event_moves(s_ctx_t *c, const event_t *ev, int d)
{
    int rc = 0;
    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION:
        if ((rc = s_enqueue(c, ev->id))) return rc;
        if ((rc = s_enqueue_refs(c, ev, EVENT_REF_SUPERSEDES))) return rc;
        return s_enqueue_refs(c, ev, EVENT_REF_ANSWERS);
    case EVENT_RATING:
        if ((rc = s_given(c, ev, S_A_RATINGS_GIVEN, d))) return rc;
        return s_enqueue_refs(c, ev, EVENT_REF_TARGET);
    case EVENT_THANKS:
        if ((rc = s_given(c, ev, S_A_THANKS_GIVEN, d))) return rc;
        if ((rc = s_story(c, ev, d < 0))) return rc;
        return s_enqueue_refs(c, ev, EVENT_REF_TARGET);
    default:
        return 0;
    }
}

static int s_after(s_ctx_t *c, const event_t *ev)
{
    c->arriving = ev;
    int rc = s_event_moves(c, ev, +1);
    if (!rc) rc = s_dependents(c, ev->id, NULL, 1);
    for (int i = 0; i < c->ngone && !rc; i++) {
        if ((rc = s_event_moves(c, c->gone[i], -1))) break;
        rc = s_dependents(c, c->gone[i]->id, NULL, 1);
    }
    if (!rc) rc = s_run_queue(c);
    return rc;
}

int store_agg_apply_new(store_tx_t *tx, const event_t *ev, const uint8_t *raw, size_t len,
                        int *tomb)
{
    int on = s_ready_txn(tx->s, tx->txn);
    if (on < 0) return -on;
    if (!on) return store_apply_new(tx, ev, raw, len, tomb);
    s_ctx_t c;
    s_ctx_init(&c, tx);
    int rc = 0;
    if (!(c.tmp = malloc(sizeof(*c.tmp)))) rc = ENOMEM;
    if (!rc && ev->kind == EVENT_RETRACT) rc = s_pre_retract(&c, ev);
    if (!rc) rc = store_apply_new(tx, ev, raw, len, tomb);
    if (!rc && !*tomb) rc = s_after(&c, ev);
    s_ctx_free(&c);
    return rc;
}

/* ---- open and build ---- */

int store_agg_open_dbs(store_t *s, MDB_txn *txn)
{
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {{"apost", &s->apost},
               {"aauth", &s->aauth},
               {"atopic", &s->atopic},
               {"anew", &s->anew},
               {"astory", &s->astory}};
    s->agg_dbs = 0;
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int rc = mdb_dbi_open(txn, dbs[i].name, s->read_only ? 0 : MDB_CREATE, dbs[i].dbi);
        if (rc == MDB_NOTFOUND && s->read_only) return 0; /* an older store, read as is */
        if (rc) return rc;
    }
    s->agg_dbs = 1;
    /* the log of changed posts an older tipd kept for `today`: unused */
    MDB_dbi old;
    int rc = s->read_only ? MDB_NOTFOUND : mdb_dbi_open(txn, "alog", 0, &old);
    if (rc == 0) rc = mdb_drop(txn, old, 1);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A build is a walk (store_walk.c) in write transactions of S_BUILD_CHUNK
 * events, its progress in meta "aggbuild", so a start cut short (say, by
 * the service manager's start timeout) resumes where it stopped. */
#define S_BUILD_CHUNK 65536

struct s_build {
    bool done;
    uint64_t events;
    store_walk_t walk;
};

/* store_walk one(): one held event of the time index into the figures. */
static int s_build_one(store_tx_t *tx, const uint8_t *id, int kind, void *arg)
{
    s_ctx_t *c = arg;
    (void)tx;
    if (kind == EVENT_TIP || kind == EVENT_QUESTION) return s_recompute(c, id);
    if (kind != EVENT_RATING && kind != EVENT_THANKS) return 0;
    MDB_val raw;
    int rc = store_ev_get(c->tx->s, c->tx->txn, id, &raw);
    if (rc) return rc == MDB_NOTFOUND ? 0 : rc;
    if (event_decode(raw.mv_data, raw.mv_size, c->tmp)) return MDB_CORRUPTED;
    return s_event_moves(c, c->tmp, +1);
}

/* store_walk start(): whatever an earlier build or a drop left goes. */
static int s_build_start(store_tx_t *tx, void *arg)
{
    (void)arg;
    store_t *s = tx->s;
    MDB_dbi dbs[] = {s->apost, s->aauth, s->atopic, s->anew, s->astory};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int rc = mdb_drop(tx->txn, dbs[i], 0);
        if (rc) return rc;
    }
    return 0;
}

static int s_build_body(store_tx_t *tx, void *arg)
{
    struct s_build *b = arg;
    store_t *s = tx->s;
    b->done = false;
    if (s_ready_txn(s, tx->txn) == 1) {
        b->done = true;
        return 0;
    }
    s_ctx_t c;
    s_ctx_init(&c, tx);
    c.build = 1;
    if (!(c.tmp = malloc(sizeof(*c.tmp)))) return ENOMEM;
    b->walk.arg = &c;
    int rc = store_walk_chunk(tx, &b->walk, &b->done);
    if (rc || !b->done) goto done;
    uint8_t ver[4];
    store_be32(ver, S_AGG_VERSION);
    MDB_val ak = {3, "agg"}, av = {4, ver};
    if ((rc = mdb_put(tx->txn, s->meta, &ak, &av, 0))) goto done;
    uint8_t sv[4];
    store_be32(sv, STORE_SCHEMA_VERSION);
    MDB_val sk = {6, "schema"}, svv = {4, sv};
    rc = mdb_put(tx->txn, s->meta, &sk, &svv, 0);
    b->events = tx->c.events;
done:
    if (rc) b->done = false;
    s_ctx_free(&c);
    return rc;
}

int store_agg_ensure(store_t *s, uint64_t *built)
{
    *built = 0;
    if (s->read_only || !s->agg_dbs) return 0;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return rc;
    int ready = s_ready_txn(s, txn);
    store_rtxn_close(s, txn);
    if (ready == 1) return 0;
    store_counts_t n;
    if ((rc = store_counts(s, &n))) return rc;
    struct s_build b = {.walk = {.key = "aggbuild",
                                 .tag = S_AGG_VERSION,
                                 .chunk = s->agg_chunk ? s->agg_chunk : S_BUILD_CHUNK,
                                 .start = s_build_start,
                                 .one = s_build_one}};
    /* room for one chunk's records: about 100 bytes per event */
    while (rc == 0 && !b.done) rc = store_txn_run(s, (size_t)S_BUILD_CHUNK * 128, s_build_body, &b);
    if (rc == 0) *built = b.events;
    return rc;
}
