/* store_agg_read.c -- reading the figures store_agg.c keeps at ingest: a
 * handful of cursor walks over small trees, each in the caller's read view
 * (store_agg.h). New tips in a time window are counted from buckets of
 * three sizes, the largest whole buckets first, then smaller ones at the
 * window's edges, then the posts themselves within the last partial
 * bucket of 2^16 ms, so any window is exact in O(weeks) small reads.
 * Also the one definition of a question's answers across its edit chain.
 */
#include <errno.h>
#include <stdlib.h>

#include "store_agg.h"
#include "store_int.h"

#define S_A_N STORE_AGG_AUTH_N

/* Begin a read and check the figures are kept: 0, STORE_E_NOTFOUND, or a
 * raw code. */
static int s_begin(store_t *s, MDB_txn **txn)
{
    if (!s->agg_dbs) return STORE_E_NOTFOUND;
    int rc = store_rtxn(s, txn);
    if (rc) return rc;
    MDB_val k = {3, "agg"}, v;
    rc = mdb_get(*txn, s->meta, &k, &v);
    if (rc == 0 && v.mv_size == 4) return 0;
    store_rtxn_close(s, *txn);
    return rc == 0 || rc == MDB_NOTFOUND ? STORE_E_NOTFOUND : rc;
}

int store_agg_ready(store_t *s)
{
    if (!s) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = s_begin(s, &txn);
    if (rc == STORE_E_NOTFOUND) return 0;
    if (rc) return store_fail(s, rc, "figures");
    store_rtxn_close(s, txn);
    return 1;
}

static void s_post_of(const MDB_val *k, const MDB_val *v, store_post_t *p)
{
    p->created_at = store_rd64(k->mv_data);
    memcpy(p->id, (const uint8_t *)k->mv_data + 8, EVENT_ID_LEN);
    store_agg_post_unpack(v->mv_data, p);
}

/* The apost key (created_at || id) of the ev entry (k, v) into key: 0, or
 * MDB_NOTFOUND when it is no live tip or question (a tombstone, another
 * kind). */
static int s_post_key(const MDB_val *k, const MDB_val *v, uint8_t key[8 + EVENT_ID_LEN])
{
    const uint8_t *loc = v->mv_data;
    if (k->mv_size != EVENT_ID_LEN || v->mv_size != STORE_LOC_LEN) return MDB_NOTFOUND;
    if (loc[0] != EVENT_TIP && loc[0] != EVENT_QUESTION) return MDB_NOTFOUND;
    memcpy(key, loc + 1, 8);
    memcpy(key + 8, k->mv_data, EVENT_ID_LEN);
    return 0;
}

/* The apost record of the ev entry (k, v), if it is a live tip or
 * question: 0, MDB_NOTFOUND (none), or a raw code. */
static int s_post_at(MDB_txn *txn, store_t *s, const MDB_val *k, const MDB_val *v, store_post_t *p)
{
    uint8_t key[8 + EVENT_ID_LEN];
    if (s_post_key(k, v, key)) return MDB_NOTFOUND;
    MDB_val pk = {sizeof key, key}, pv;
    int rc = mdb_get(txn, s->apost, &pk, &pv);
    if (rc) return rc;
    if (pv.mv_size != STORE_AGG_POST_LEN) return MDB_CORRUPTED;
    s_post_of(&pk, &pv, p);
    return 0;
}

int store_agg_post(store_t *s, const uint8_t id[EVENT_ID_LEN], store_post_t *p)
{
    if (!s || !id || !p) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = s_begin(s, &txn);
    if (rc) return store_fail(s, rc, "post");
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    rc = mdb_get(txn, s->ev, &k, &v);
    if (rc == 0) rc = s_post_at(txn, s, &k, &v, p); /* MDB_NOTFOUND for a tombstone */
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "post");
}

/* *by: 1 if author wrote the live post p, else 0, looked up with c, a
 * cursor on the author index; returns 0 or a raw code. */
static int s_by(MDB_cursor *c, const store_post_t *p, const uint8_t *author, int *by)
{
    uint8_t key[EVENT_KEY_LEN + 8 + EVENT_ID_LEN];
    memcpy(key, author, EVENT_KEY_LEN);
    store_be64(key + EVENT_KEY_LEN, p->created_at);
    memcpy(key + EVENT_KEY_LEN + 8, p->id, EVENT_ID_LEN);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    *by = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_agg_post_by(store_t *s, const store_post_t *p, const uint8_t author[EVENT_KEY_LEN])
{
    if (!s || !p || !author) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), by = 0;
    if (rc) return store_fail(s, rc, "post");
    if ((rc = mdb_cursor_open(txn, s->auth, &c)) == 0) {
        rc = s_by(c, p, author, &by);
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    return rc ? store_fail(s, rc, "post") : by;
}

static int s_key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 8 + EVENT_ID_LEN);
}

/* The apost keys (created_at || id) of the live tips and questions named
 * by pfx, sorted, into keys; *m gets their count. 0 or a raw code. */
static int s_post_keys(MDB_txn *txn, store_t *s, const uint8_t (*pfx)[EVENT_PFX_LEN], size_t n,
                       uint8_t (*keys)[8 + EVENT_ID_LEN], size_t *m)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, s->ev, &c);
    *m = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* the shorter key sorts before every id it begins */
        MDB_val k = {EVENT_PFX_LEN, (void *)pfx[i]}, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc) break;
        if (k.mv_size < EVENT_PFX_LEN || memcmp(k.mv_data, pfx[i], EVENT_PFX_LEN)) continue;
        if (s_post_key(&k, &v, keys[*m]) == 0) (*m)++;
    }
    if (c) mdb_cursor_close(c);
    if (rc == 0 && *m) qsort(keys, *m, sizeof(*keys), s_key_cmp);
    return rc;
}

/* Looks the ids up in ev, then their posts (and authorship) in key order
 * with cursors: the posts a user saw are mostly recent, so neighbours in
 * that order share pages where the ids' own order would not. */
int store_agg_posts_of(store_t *s, const uint8_t (*pfx)[EVENT_PFX_LEN], size_t n,
                       const uint8_t *author, store_agg_post_by_fn fn, void *arg)
{
    if (!s || (n && !pfx) || !fn) return STORE_E_ARG;
    uint8_t(*keys)[8 + EVENT_ID_LEN] = malloc((n ? n : 1) * sizeof(*keys));
    if (!keys) return STORE_E_NOMEM;
    MDB_txn *txn;
    MDB_cursor *pc = NULL, *ac = NULL;
    size_t m = 0;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) {
        free(keys);
        return store_fail(s, rc, "posts");
    }
    rc = s_post_keys(txn, s, pfx, n, keys, &m);
    if (rc == 0) rc = mdb_cursor_open(txn, s->apost, &pc);
    if (rc == 0 && author) rc = mdb_cursor_open(txn, s->auth, &ac);
    for (size_t j = 0; j < m && !rc && !out; j++) {
        if (j && !memcmp(keys[j], keys[j - 1], sizeof(*keys))) continue; /* named twice */
        MDB_val k = {sizeof(*keys), keys[j]}, v;
        if ((rc = mdb_cursor_get(pc, &k, &v, MDB_SET)) == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc == 0 && v.mv_size != STORE_AGG_POST_LEN) rc = MDB_CORRUPTED;
        if (rc) break;
        store_post_t p;
        s_post_of(&k, &v, &p);
        int by = 0;
        if (author) rc = s_by(ac, &p, author, &by);
        if (rc == 0) out = fn(&p, by, arg);
    }
    if (ac) mdb_cursor_close(ac);
    if (pc) mdb_cursor_close(pc);
    store_rtxn_close(s, txn);
    free(keys);
    if (out) return out;
    return store_fail(s, rc, "posts");
}

int store_agg_posts_each(store_t *s, store_agg_post_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "posts");
    if ((rc = mdb_cursor_open(txn, s->apost, &c)) == 0) {
        MDB_val k, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (store_canceled(s)) {
                rc = STORE_E_CANCELED;
                break;
            }
            if (k.mv_size != 8 + EVENT_ID_LEN || v.mv_size != STORE_AGG_POST_LEN) continue;
            store_post_t p;
            s_post_of(&k, &v, &p);
            if ((out = fn(&p, arg))) break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "posts");
}

int store_agg_posts_from(store_t *s, const uint8_t from[EVENT_ID_LEN], store_agg_post_fn fn,
                         void *arg)
{
    if (!s || !from || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "posts");
    if ((rc = mdb_cursor_open(txn, s->ev, &c)) == 0) {
        MDB_val k = {EVENT_ID_LEN, (void *)from}, v;
        int wrapped = 0;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        for (;;) {
            if (rc == MDB_NOTFOUND && !wrapped) { /* past the last id: on from the first */
                wrapped = 1;
                rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
            }
            if (rc) break;
            if (wrapped && k.mv_size == EVENT_ID_LEN &&
                memcmp(k.mv_data, from, EVENT_ID_LEN) >= 0) {
                rc = MDB_NOTFOUND; /* round the ring once */
                break;
            }
            if (store_canceled(s)) {
                rc = STORE_E_CANCELED;
                break;
            }
            store_post_t p;
            rc = s_post_at(txn, s, &k, &v, &p);
            if (rc == 0 && (out = fn(&p, arg))) break;
            if (rc && rc != MDB_NOTFOUND) break;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "posts");
}

/* ---- authors ---- */

static void s_author_of(const uint8_t *key, const MDB_val *v, store_agg_author_t *a)
{
    uint32_t f[S_A_N];
    const uint8_t *p = v->mv_data;
    for (int i = 0; i < S_A_N; i++) f[i] = store_rd32(p + 4 * i);
    memset(a, 0, sizeof(*a));
    memcpy(a->a.author, key, EVENT_KEY_LEN);
    a->a.tips = f[0];
    a->a.questions = f[1];
    a->a.answers = f[2];
    a->a.imported = f[3];
    a->a.ratings_given = f[4];
    a->a.thanks_given = f[5];
    a->a.thanks_received = f[6];
    a->a.ratings_received = f[7];
    a->a.rating_sum_received = f[8];
    a->open_questions = f[9];
    a->answers_got = f[10];
}

/* first_ms and last_ms of author from the auth index, as store_author sums
 * them (first_ms: the oldest non-zero time). MDB_NOTFOUND if none. */
static int s_author_times(store_t *s, MDB_txn *txn, const uint8_t author[EVENT_KEY_LEN],
                          uint64_t *first, uint64_t *last)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->auth, &c);
    if (rc) return rc;
    uint8_t key[EVENT_KEY_LEN + 8 + EVENT_ID_LEN];
    memcpy(key, author, EVENT_KEY_LEN);
    memset(key + EVENT_KEY_LEN, 0, 8 + EVENT_ID_LEN);
    MDB_val k = {sizeof key, key}, v;
    *first = *last = 0;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && (k.mv_size != sizeof key || memcmp(k.mv_data, author, EVENT_KEY_LEN)))
        rc = MDB_NOTFOUND;
    if (rc == 0 && store_rd64((const uint8_t *)k.mv_data + EVENT_KEY_LEN) == 0) {
        store_be64(key + EVENT_KEY_LEN, 1);
        k = (MDB_val){sizeof key, key};
        int r2 = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (r2 == 0 && k.mv_size == sizeof key && !memcmp(k.mv_data, author, EVENT_KEY_LEN))
            *first = store_rd64((const uint8_t *)k.mv_data + EVENT_KEY_LEN);
        else if (r2 && r2 != MDB_NOTFOUND)
            rc = r2;
    } else if (rc == 0) {
        *first = store_rd64((const uint8_t *)k.mv_data + EVENT_KEY_LEN);
    }
    if (rc == 0) {
        memset(key + EVENT_KEY_LEN, 0xff, 8 + EVENT_ID_LEN);
        k = (MDB_val){sizeof key, key};
        int r2 = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        r2 = r2 == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                                : mdb_cursor_get(c, &k, &v, MDB_PREV);
        if (r2 == 0 && k.mv_size == sizeof key && !memcmp(k.mv_data, author, EVENT_KEY_LEN))
            *last = store_rd64((const uint8_t *)k.mv_data + EVENT_KEY_LEN);
        else if (r2 && r2 != MDB_NOTFOUND)
            rc = r2;
    }
    mdb_cursor_close(c);
    return rc;
}

int store_agg_author(store_t *s, const uint8_t author[EVENT_KEY_LEN], store_agg_author_t *a)
{
    if (!s || !author || !a) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = s_begin(s, &txn);
    if (rc) return store_fail(s, rc, "author");
    MDB_val k = {EVENT_KEY_LEN, (void *)author}, v;
    rc = mdb_get(txn, s->aauth, &k, &v);
    if (rc == 0 && v.mv_size == 4 * S_A_N) {
        s_author_of(author, &v, a);
    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        memset(a, 0, sizeof(*a));
        memcpy(a->a.author, author, EVENT_KEY_LEN);
        rc = rc ? 0 : MDB_CORRUPTED;
    }
    if (rc == 0) rc = s_author_times(s, txn, author, &a->a.first_ms, &a->a.last_ms);
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "author");
}

int store_agg_authors_each(store_t *s, store_agg_author_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "authors");
    if ((rc = mdb_cursor_open(txn, s->aauth, &c)) == 0) {
        MDB_val k, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size != EVENT_KEY_LEN || v.mv_size != 4 * S_A_N) continue;
            store_agg_author_t a;
            s_author_of(k.mv_data, &v, &a);
            if ((out = fn(&a, arg))) break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "authors");
}

/* ---- topics, new tips, stories ---- */

int store_agg_topics_each(store_t *s, store_agg_topic_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "topics");
    if ((rc = mdb_cursor_open(txn, s->atopic, &c)) == 0) {
        MDB_val k, v;
        char topic[EVENT_MAX_TOPIC_LEN + 1];
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (!k.mv_size || k.mv_size > EVENT_MAX_TOPIC_LEN || v.mv_size != 4) continue;
            memcpy(topic, k.mv_data, k.mv_size);
            topic[k.mv_size] = 0;
            if ((out = fn(topic, store_rd32(v.mv_data), arg))) break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "topics");
}

/* Sum of the level's buckets [a, b). */
static int s_buckets(store_t *s, MDB_txn *txn, int level, uint64_t a, uint64_t b, uint64_t *n)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->anew, &c);
    if (rc) return rc;
    uint8_t key[9];
    key[0] = (uint8_t)level;
    store_be64(key + 1, a);
    MDB_val k = {sizeof key, key}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size != 9 || p[0] != level || store_rd64(p + 1) >= b) break;
        if (v.mv_size == 4) *n += store_rd32(v.mv_data);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* New tips in [lo, hi) from buckets of level and below (-1: the posts). */
static int s_count(store_t *s, MDB_txn *txn, int level, uint64_t lo, uint64_t hi, uint64_t *n)
{
    if (lo >= hi) return 0;
    if (level < 0) {
        MDB_cursor *c;
        int rc = mdb_cursor_open(txn, s->apost, &c);
        if (rc) return rc;
        uint8_t key[8 + EVENT_ID_LEN] = {0};
        store_be64(key, lo);
        MDB_val k = {sizeof key, key}, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 8 + EVENT_ID_LEN || store_rd64(k.mv_data) >= hi) break;
            if (v.mv_size == STORE_AGG_POST_LEN &&
                (((const uint8_t *)v.mv_data)[1] & STORE_POST_NEW))
                (*n)++;
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    uint64_t size = 1ULL << STORE_AGG_SHIFT(level);
    uint64_t a = lo / size + (lo % size != 0), b = hi / size;
    if (a >= b) return s_count(s, txn, level - 1, lo, hi, n);
    int rc = s_buckets(s, txn, level, a, b, n);
    if (!rc) rc = s_count(s, txn, level - 1, lo, a * size, n);
    if (!rc) rc = s_count(s, txn, level - 1, b * size, hi, n);
    return rc;
}

int store_agg_new_tips(store_t *s, uint64_t lo, uint64_t hi, uint64_t *n)
{
    if (!s || !n) return STORE_E_ARG;
    *n = 0;
    MDB_txn *txn;
    int rc = s_begin(s, &txn);
    if (rc) return store_fail(s, rc, "new tips");
    rc = s_count(s, txn, STORE_AGG_LEVELS - 1, lo, hi, n);
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "new tips");
}

int store_agg_stories_each(store_t *s, store_agg_story_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = s_begin(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "stories");
    if ((rc = mdb_cursor_open(txn, s->astory, &c)) == 0) {
        MDB_val k, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
            if (k.mv_size != 8 + EVENT_ID_LEN || v.mv_size != EVENT_ID_LEN) continue;
            const uint8_t *p = k.mv_data;
            if ((out = fn(p + 8, v.mv_data, store_rd64(p), arg))) break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "stories");
}

/* ---- a question's answers over its edit chain ---- */

typedef struct {
    store_t *s;
    uint32_t answers;
    uint64_t first_ms;
} s_qchain_t;

static int s_qchain_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_qchain_t *c = arg;
    store_stats_t st;
    if (store_stats(c->s, ev->id, &st) == 0) c->answers += st.answers;
    if (!c->first_ms || ev->created_at < c->first_ms) c->first_ms = ev->created_at;
    return 0;
}

void store_question_chain(store_t *s, const uint8_t id[EVENT_ID_LEN], uint64_t created_at,
                          uint32_t *answers, uint64_t *first_ms)
{
    s_qchain_t c = {.s = s};
    if (store_history(s, id, s_qchain_one, &c) < 0 || !c.first_ms) {
        store_stats_t st;
        c.answers = store_stats(s, id, &st) == 0 ? st.answers : 0;
        c.first_ms = created_at;
    }
    if (answers) *answers = c.answers;
    if (first_ms) *first_ms = c.first_ms;
}
