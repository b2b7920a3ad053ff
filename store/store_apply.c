/* store_apply.c -- batched ingest and the meaning of events.
 *
 * store_ingest() opens one write transaction for a whole batch and, per
 * event: decodes it strictly, checks its time, looks its id up (an id already
 * in ev, or put there earlier in this batch, is a duplicate), verifies the
 * signature and applies it. Verification runs inside the transaction on
 * purpose: there is only one writer, readers never wait for it, and a
 * duplicate is found before paying for Ed25519. If LMDB reports
 * MDB_MAP_FULL the transaction is aborted, the map doubled and the batch
 * redone; which events already verified is remembered so the redo costs
 * only LMDB work.
 *
 * Meaning is kept order-independent by storing every reference of every live
 * event in refs (keyed by the target, whether the target is held or not) and
 * deriving state from that set whenever either end arrives or is retracted:
 *   - a retraction is effective iff its target's author signed it and the
 *     target is not itself a retraction; on arrival a target first looks for
 *     such a retraction in refs[target] and, if found, is stored as a
 *     tombstone without ever being indexed;
 *   - superseded(T) iff refs[T] holds a SUPERSEDES reference from a live
 *     tip/question by T's author; s_refresh() recomputes it and moves the
 *     visible counters (tips, questions, answers of questions) by the
 *     difference, so any arrival order ends in the same state;
 *   - the rating of (tip, rater) is the newest live rating by (created_at,
 *     id); retracting the current one falls back to the next newest in refs;
 *   - a tip's thanks count its thankers: a second thanks by the same person
 *     is kept (its story shows) but not counted again;
 *   - the profile of an author is the newest live profile.
 */
#include <errno.h>
#include <stdlib.h>

#include "store_int.h"

static int s_is_tipq(int kind)
{
    return kind == EVENT_TIP || kind == EVENT_QUESTION;
}

/* 1 if (t1, id1) is newer than (t2, id2): created_at first, then id. */
static int s_newer(uint64_t t1, const uint8_t *id1, uint64_t t2, const uint8_t *id2)
{
    if (t1 != t2) return t1 > t2;
    return memcmp(id1, id2, EVENT_ID_LEN) > 0;
}

static void s_ref_of(const event_t *ev, const event_ref_t *r, store_ref_t *out)
{
    out->created_at = ev->created_at;
    memcpy(out->id, ev->id, EVENT_ID_LEN);
    out->role = r->role;
    out->kind = ev->kind;
    out->value = ev->value;
    memcpy(out->author, ev->author, EVENT_KEY_LEN);
}

static int s_row_load(store_tx_t *tx, const uint8_t id[EVENT_ID_LEN], store_row_t *r)
{
    int rc = store_row_get(tx->s, tx->txn, id, r);
    if (rc == MDB_NOTFOUND) {
        memset(r, 0, sizeof *r);
        return 0;
    }
    return rc;
}

static int s_row_put(store_tx_t *tx, const uint8_t id[EVENT_ID_LEN], const store_row_t *r)
{
    uint8_t buf[STORE_ROW_LEN];
    store_row_pack(r, buf);
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v = {sizeof buf, buf};
    return mdb_put(tx->txn, tx->s->stat, &k, &v, 0);
}

/* Put (del = 0) or delete (del = 1) every index entry of ev: time, auth,
 * topic and its outgoing references. Deleting is the exact inverse. */
static int s_indexes(store_tx_t *tx, const event_t *ev, int del)
{
    store_t *s = tx->s;
    uint8_t key[EVENT_MAX_TOPIC_LEN + 1 + 8 + EVENT_ID_LEN + EVENT_KEY_LEN];
    uint8_t val[2] = {ev->kind, 0};
    int rc;

    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == EVENT_REF_ANSWERS) val[1] |= STORE_AUTH_ANSWER;
    if (ev->imported) val[1] |= STORE_AUTH_IMPORTED;

    store_be64(key, ev->created_at);
    memcpy(key + 8, ev->id, EVENT_ID_LEN);
    MDB_val k = {8 + EVENT_ID_LEN, key}, v = {1, val};
    rc = del ? mdb_del(tx->txn, s->time, &k, NULL) : mdb_put(tx->txn, s->time, &k, &v, 0);
    if (rc) return rc;

    memcpy(key, ev->author, EVENT_KEY_LEN);
    store_be64(key + EVENT_KEY_LEN, ev->created_at);
    memcpy(key + EVENT_KEY_LEN + 8, ev->id, EVENT_ID_LEN);
    k = (MDB_val){EVENT_KEY_LEN + 8 + EVENT_ID_LEN, key};
    v = (MDB_val){2, val};
    rc = del ? mdb_del(tx->txn, s->auth, &k, NULL) : mdb_put(tx->txn, s->auth, &k, &v, 0);
    if (rc) return rc;

    for (int i = 0; i < ev->ntopics; i++) {
        size_t tl = strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN);
        memcpy(key, ev->topics[i], tl);
        key[tl] = 0;
        store_be64(key + tl + 1, ev->created_at);
        memcpy(key + tl + 1 + 8, ev->id, EVENT_ID_LEN);
        k = (MDB_val){tl + 1 + 8 + EVENT_ID_LEN, key};
        v = (MDB_val){1, val};
        rc = del ? mdb_del(tx->txn, s->topic, &k, NULL) : mdb_put(tx->txn, s->topic, &k, &v, 0);
        if (rc) return rc;
    }

    for (int i = 0; i < ev->nrefs; i++) {
        store_ref_t r;
        uint8_t rv[STORE_REF_LEN];
        s_ref_of(ev, &ev->refs[i], &r);
        store_ref_pack(&r, rv);
        k = (MDB_val){EVENT_ID_LEN, (void *)ev->refs[i].id};
        v = (MDB_val){sizeof rv, rv};
        rc = del ? mdb_del(tx->txn, s->refs, &k, &v) : mdb_put(tx->txn, s->refs, &k, &v, 0);
        if (rc == MDB_KEYEXIST) rc = 0; /* same ref listed twice: cannot happen, harmless */
        if (rc) return rc;
    }
    return 0;
}

/* Walk refs[id]; fn(ref, arg) returns 0 to go on, 1 to stop (found), <0 on
 * error. Returns what stopped it, or 0. */
static int s_refs_scan(store_tx_t *tx, const uint8_t id[EVENT_ID_LEN],
                       int (*fn)(const store_ref_t *r, void *arg), void *arg)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(tx->txn, tx->s->refs, &c);
    if (rc) return rc;
    MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
    int out = 0;
    while (rc == 0) {
        store_ref_t r;
        if (store_ref_unpack(&v, &r) == 0) {
            out = fn(&r, arg);
            if (out) break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
    }
    mdb_cursor_close(c);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

struct s_match {
    const uint8_t *author;
    int role, kind; /* kind -1: tip or question */
    store_ref_t best;
    int found;
};

static int s_match_any(const store_ref_t *r, void *arg)
{
    struct s_match *m = arg;
    if (r->role != m->role) return 0;
    if (m->kind == -1 ? !s_is_tipq(r->kind) : r->kind != m->kind) return 0;
    return memcmp(r->author, m->author, EVENT_KEY_LEN) == 0;
}

static int s_match_newest(const store_ref_t *r, void *arg)
{
    struct s_match *m = arg;
    if (r->role != m->role || r->kind != m->kind) return 0;
    if (memcmp(r->author, m->author, EVENT_KEY_LEN) != 0) return 0;
    if (!m->found || s_newer(r->created_at, r->id, m->best.created_at, m->best.id)) m->best = *r;
    m->found = 1;
    return 0;
}

/* The tip/question id (decoded as ev, or NULL to decode it here) became
 * visible (d = 1) or hidden (d = -1): move the tips/questions counter and,
 * for a tip, the answer counts of the questions it answers. */
static int s_vis_move(store_tx_t *tx, int kind, const uint8_t id[EVENT_ID_LEN], const event_t *ev,
                      int d)
{
    int rc = 0;
    if (kind == EVENT_TIP)
        tx->c.tips += (uint64_t)(int64_t)d;
    else
        tx->c.questions += (uint64_t)(int64_t)d;
    if (kind != EVENT_TIP) return 0;

    event_t *own = NULL;
    if (!ev) {
        MDB_val v;
        if ((rc = store_ev_get(tx->s, tx->txn, id, &v))) return rc;
        if (v.mv_size <= STORE_TOMB_LEN || ((uint8_t *)v.mv_data)[0] == 0)
            return 0; /* tombstone: its answers left with its body */
        if (!(own = malloc(sizeof *own))) return ENOMEM;
        if (event_decode(v.mv_data, v.mv_size, own) != 0) {
            free(own);
            return MDB_CORRUPTED;
        }
        ev = own;
    }
    for (int i = 0; i < ev->nrefs && rc == 0; i++) {
        if (ev->refs[i].role != EVENT_REF_ANSWERS) continue;
        store_row_t q;
        if ((rc = s_row_load(tx, ev->refs[i].id, &q))) break;
        q.answers = (uint32_t)((int64_t)q.answers + d);
        rc = s_row_put(tx, ev->refs[i].id, &q);
    }
    free(own);
    return rc;
}

/* Recompute whether the held tip/question id is superseded and visible, and
 * move counters by the difference. ev is its decoded form if the caller has
 * it (NULL: decoded here when its answers must move). */
static int s_refresh(store_tx_t *tx, const uint8_t id[EVENT_ID_LEN], const event_t *ev)
{
    store_row_t r;
    int rc = store_row_get(tx->s, tx->txn, id, &r);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    if (!(r.flags & STORE_ROW_HELD) || !s_is_tipq(r.kind)) return 0;

    struct s_match m = {.author = r.author, .role = EVENT_REF_SUPERSEDES, .kind = -1};
    int sup = 0;
    if (!(r.flags & STORE_ROW_RETRACTED)) {
        sup = s_refs_scan(tx, id, s_match_any, &m);
        if (sup < 0) return sup;
    }
    int vis = !(r.flags & STORE_ROW_RETRACTED) && !sup;
    int was_vis = !!(r.flags & STORE_ROW_VISIBLE);
    uint8_t flags = (uint8_t)((r.flags & ~(STORE_ROW_SUPERSEDED | STORE_ROW_VISIBLE)) |
                              (sup ? STORE_ROW_SUPERSEDED : 0) | (vis ? STORE_ROW_VISIBLE : 0));
    if (flags == r.flags) return 0;
    r.flags = flags;
    if ((rc = s_row_put(tx, id, &r))) return rc;
    if (vis == was_vis) return 0;

    return s_vis_move(tx, r.kind, id, ev, vis ? 1 : -1);
}

/* s_refresh every tip/question that ev (an edit) supersedes: ev's arrival
 * or removal may change which version of it shows. */
static int s_refresh_superseded(store_tx_t *tx, const event_t *ev)
{
    for (int i = 0; i < ev->nrefs; i++) {
        int rc;
        if (ev->refs[i].role == EVENT_REF_SUPERSEDES && (rc = s_refresh(tx, ev->refs[i].id, NULL)))
            return rc;
    }
    return 0;
}

/* A new live rating ev on target. */
static int s_rate_add(store_tx_t *tx, const uint8_t target[EVENT_ID_LEN], const event_t *ev)
{
    uint8_t key[EVENT_ID_LEN + EVENT_KEY_LEN], val[8 + EVENT_ID_LEN + 1];
    memcpy(key, target, EVENT_ID_LEN);
    memcpy(key + EVENT_ID_LEN, ev->author, EVENT_KEY_LEN);
    MDB_val k = {sizeof key, key}, v;
    store_row_t row;
    int rc = s_row_load(tx, target, &row);
    if (rc) return rc;
    rc = mdb_get(tx->txn, tx->s->rate, &k, &v);
    if (rc == 0) {
        const uint8_t *p = v.mv_data;
        if (v.mv_size != sizeof val) return MDB_CORRUPTED;
        if (!s_newer(ev->created_at, ev->id, store_rd64(p), p + 8)) return 0;
        row.rating_sum = row.rating_sum - p[8 + EVENT_ID_LEN] + ev->value;
    } else if (rc == MDB_NOTFOUND) {
        row.ratings++;
        row.rating_sum += ev->value;
        tx->c.ratings++;
    } else {
        return rc;
    }
    store_be64(val, ev->created_at);
    memcpy(val + 8, ev->id, EVENT_ID_LEN);
    val[8 + EVENT_ID_LEN] = ev->value;
    v = (MDB_val){sizeof val, val};
    if ((rc = mdb_put(tx->txn, tx->s->rate, &k, &v, 0))) return rc;
    return s_row_put(tx, target, &row);
}

/* The rating ev on target was retracted (its refs entry already gone): if
 * it was the counted one, fall back to the rater's next newest. */
static int s_rate_del(store_tx_t *tx, const uint8_t target[EVENT_ID_LEN], const event_t *ev)
{
    uint8_t key[EVENT_ID_LEN + EVENT_KEY_LEN], val[8 + EVENT_ID_LEN + 1];
    memcpy(key, target, EVENT_ID_LEN);
    memcpy(key + EVENT_ID_LEN, ev->author, EVENT_KEY_LEN);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get(tx->txn, tx->s->rate, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    if (v.mv_size != sizeof val) return MDB_CORRUPTED;
    const uint8_t *p = v.mv_data;
    if (memcmp(p + 8, ev->id, EVENT_ID_LEN) != 0) return 0;
    unsigned old = p[8 + EVENT_ID_LEN];

    store_row_t row;
    if ((rc = s_row_load(tx, target, &row))) return rc;
    struct s_match m = {.author = ev->author, .role = EVENT_REF_TARGET, .kind = EVENT_RATING};
    if ((rc = s_refs_scan(tx, target, s_match_newest, &m)) < 0) return rc;
    if (m.found) {
        row.rating_sum = row.rating_sum - old + m.best.value;
        store_be64(val, m.best.created_at);
        memcpy(val + 8, m.best.id, EVENT_ID_LEN);
        val[8 + EVENT_ID_LEN] = m.best.value;
        v = (MDB_val){sizeof val, val};
        rc = mdb_put(tx->txn, tx->s->rate, &k, &v, 0);
    } else {
        row.ratings--;
        row.rating_sum -= old;
        tx->c.ratings--;
        rc = mdb_del(tx->txn, tx->s->rate, &k, NULL);
    }
    return rc ? rc : s_row_put(tx, target, &row);
}

/* Count the live thanks by m->author in a refs scan (m->found). */
static int s_match_count(const store_ref_t *r, void *arg)
{
    struct s_match *m = arg;
    if (r->role == m->role && r->kind == m->kind && !memcmp(r->author, m->author, EVENT_KEY_LEN))
        m->found++;
    return 0;
}

/* Thanks count once per person and tip, like ratings: ev's arrival (refs
 * already hold it) counts only if it is its author's only live thanks on
 * target, its removal (refs no longer hold it) only if it was. */
static int s_thanks_move(store_tx_t *tx, const uint8_t target[EVENT_ID_LEN], const event_t *ev,
                         int d)
{
    struct s_match m = {.author = ev->author, .role = EVENT_REF_TARGET, .kind = EVENT_THANKS};
    int rc = s_refs_scan(tx, target, s_match_count, &m);
    if (rc < 0) return rc;
    if (m.found != (d > 0 ? 1 : 0)) return 0;
    store_row_t row;
    rc = s_row_load(tx, target, &row);
    if (rc) return rc;
    row.thanks = (uint32_t)((int64_t)row.thanks + d);
    return s_row_put(tx, target, &row);
}

/* Apply (d = +1) or undo (d = -1) the live rating or thanks ev on each of
 * its targets; the totals in tx->c are the caller's. */
static int s_targets_move(store_tx_t *tx, const event_t *ev, int d)
{
    for (int i = 0; i < ev->nrefs; i++) {
        if (ev->refs[i].role != EVENT_REF_TARGET) continue;
        const uint8_t *t = ev->refs[i].id;
        int rc;
        if (ev->kind == EVENT_RATING)
            rc = d > 0 ? s_rate_add(tx, t, ev) : s_rate_del(tx, t, ev);
        else
            rc = s_thanks_move(tx, t, ev, d);
        if (rc) return rc;
    }
    return 0;
}

static int s_profile_add(store_tx_t *tx, const event_t *ev)
{
    MDB_val k = {EVENT_KEY_LEN, (void *)ev->author}, v;
    int rc = mdb_get(tx->txn, tx->s->prof, &k, &v);
    if (rc == 0 && v.mv_size == 8 + EVENT_ID_LEN) {
        const uint8_t *p = v.mv_data;
        if (!s_newer(ev->created_at, ev->id, store_rd64(p), p + 8)) return 0;
    } else if (rc && rc != MDB_NOTFOUND) {
        return rc;
    }
    uint8_t val[8 + EVENT_ID_LEN];
    store_be64(val, ev->created_at);
    memcpy(val + 8, ev->id, EVENT_ID_LEN);
    v = (MDB_val){sizeof val, val};
    return mdb_put(tx->txn, tx->s->prof, &k, &v, 0);
}

/* The profile ev was retracted (its auth entry already gone): if it was the
 * current one, the author's newest remaining profile takes over. */
static int s_profile_del(store_tx_t *tx, const event_t *ev)
{
    MDB_val k = {EVENT_KEY_LEN, (void *)ev->author}, v;
    int rc = mdb_get(tx->txn, tx->s->prof, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    if (v.mv_size != 8 + EVENT_ID_LEN || memcmp((uint8_t *)v.mv_data + 8, ev->id, EVENT_ID_LEN))
        return 0;

    MDB_cursor *c;
    if ((rc = mdb_cursor_open(tx->txn, tx->s->auth, &c))) return rc;
    uint8_t start[EVENT_KEY_LEN + 8 + EVENT_ID_LEN];
    memcpy(start, ev->author, EVENT_KEY_LEN);
    memset(start + EVENT_KEY_LEN, 0xff, sizeof start - EVENT_KEY_LEN);
    MDB_val ck = {sizeof start, start}, cv;
    rc = mdb_cursor_get(c, &ck, &cv, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &ck, &cv, MDB_LAST)
                            : mdb_cursor_get(c, &ck, &cv, MDB_PREV);
    uint8_t val[8 + EVENT_ID_LEN];
    int found = 0;
    while (rc == 0) {
        if (ck.mv_size != sizeof start || memcmp(ck.mv_data, ev->author, EVENT_KEY_LEN)) break;
        if (cv.mv_size >= 1 && ((uint8_t *)cv.mv_data)[0] == EVENT_PROFILE) {
            memcpy(val, (uint8_t *)ck.mv_data + EVENT_KEY_LEN, sizeof val);
            found = 1;
            break;
        }
        rc = mdb_cursor_get(c, &ck, &cv, MDB_PREV);
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND) return rc;
    if (!found) return mdb_del(tx->txn, tx->s->prof, &k, NULL);
    v = (MDB_val){sizeof val, val};
    return mdb_put(tx->txn, tx->s->prof, &k, &v, 0);
}

/* Replace ev's entry by a tombstone; its signed bytes, if stored (had_body),
 * are deleted. */
static int s_put_tomb(store_tx_t *tx, const event_t *ev, int had_body)
{
    if (had_body) {
        uint8_t bk[8 + EVENT_ID_LEN];
        store_be64(bk, ev->created_at);
        memcpy(bk + 8, ev->id, EVENT_ID_LEN);
        MDB_val k = {sizeof bk, bk};
        int rc = mdb_del(tx->txn, tx->s->body, &k, NULL);
        if (rc) return rc;
    }
    uint8_t t[STORE_TOMB_LEN];
    t[0] = 0;
    t[1] = ev->kind;
    memcpy(t + 2, ev->author, EVENT_KEY_LEN);
    store_be64(t + 2 + EVENT_KEY_LEN, ev->created_at);
    MDB_val k = {EVENT_ID_LEN, (void *)ev->id}, v = {sizeof t, t};
    return mdb_put(tx->txn, tx->s->ev, &k, &v, 0);
}

/* Undo every effect of the held, live event ev and leave a tombstone. */
static int s_remove(store_tx_t *tx, const event_t *ev)
{
    int rc = s_indexes(tx, ev, 1);
    if (rc) return rc;
    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION: {
        if ((rc = fts_unindex(tx->s->fts, tx->txn, ev))) return rc;
        store_row_t r;
        if ((rc = s_row_load(tx, ev->id, &r))) return rc;
        r.flags |= STORE_ROW_RETRACTED;
        if ((rc = s_row_put(tx, ev->id, &r))) return rc;
        if ((rc = s_refresh(tx, ev->id, ev))) return rc;
        if ((rc = s_refresh_superseded(tx, ev))) return rc;
        break;
    }
    case EVENT_RATING:
        if ((rc = s_targets_move(tx, ev, -1))) return rc;
        break;
    case EVENT_THANKS:
        tx->c.thanks--;
        if ((rc = s_targets_move(tx, ev, -1))) return rc;
        break;
    case EVENT_PROFILE:
        tx->c.profiles--;
        if ((rc = s_profile_del(tx, ev))) return rc;
        break;
    default:
        break;
    }
    return s_put_tomb(tx, ev, 1);
}

/* A live retraction by author names target: apply it if target is held,
 * live, signed by author and not itself a retraction. */
static int s_retract(store_tx_t *tx, const uint8_t target[EVENT_ID_LEN],
                     const uint8_t author[EVENT_KEY_LEN])
{
    MDB_val v;
    int rc = store_ev_get(tx->s, tx->txn, target, &v);
    if (rc == MDB_NOTFOUND) return 0; /* not here yet: applied on arrival */
    if (rc) return rc;
    if (v.mv_size <= STORE_TOMB_LEN || ((uint8_t *)v.mv_data)[0] == 0) return 0;
    event_t *t = malloc(sizeof *t);
    if (!t) return ENOMEM;
    rc = event_decode(v.mv_data, v.mv_size, t);
    if (rc == 0 && t->kind != EVENT_RETRACT && !memcmp(t->author, author, EVENT_KEY_LEN))
        rc = s_remove(tx, t);
    else
        rc = rc ? MDB_CORRUPTED : 0;
    free(t);
    return rc;
}

struct s_arrival {
    const uint8_t *author;
    int retracted, superseded;
};

/* refs scan of a newly arrived event: a retraction by its author (stops),
 * a SUPERSEDES reference from a live tip/question by its author. */
static int s_arrival_scan(const store_ref_t *r, void *arg)
{
    struct s_arrival *a = arg;
    if (memcmp(r->author, a->author, EVENT_KEY_LEN) != 0) return 0;
    if (r->role == EVENT_REF_TARGET && r->kind == EVENT_RETRACT) {
        a->retracted = 1;
        return 1;
    }
    if (r->role == EVENT_REF_SUPERSEDES && s_is_tipq(r->kind)) a->superseded = 1;
    return 0;
}

int store_apply_new(store_tx_t *tx, const event_t *ev, const uint8_t *raw, size_t len, int *tomb)
{
    store_t *s = tx->s;
    int rc;
    *tomb = 0;

    /* Claim the id first: one descent of the id-keyed tree both finds a
     * duplicate and stores the locator (the ingest loop skips its separate
     * lookup for pre-verified events; a tombstone below overwrites it). */
    uint8_t loc[STORE_LOC_LEN], key[8 + EVENT_ID_LEN];
    loc[0] = ev->kind;
    store_be64(loc + 1, ev->created_at);
    memcpy(key, loc + 1, 8);
    memcpy(key + 8, ev->id, EVENT_ID_LEN);
    MDB_val k = {EVENT_ID_LEN, (void *)ev->id}, v = {sizeof loc, loc};
    rc = mdb_put(tx->txn, s->ev, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return STORE_APPLY_DUP;
    if (rc) return rc;

    /* What arrived before this event: a retraction or an edit by its author. */
    struct s_arrival a = {.author = ev->author};
    if ((rc = s_refs_scan(tx, ev->id, s_arrival_scan, &a)) < 0) return rc;
    if (a.retracted && ev->kind != EVENT_RETRACT) {
        *tomb = 1;
        tx->c.events++;
        return s_put_tomb(tx, ev, 0);
    }

    /* The bytes, keyed by created_at || id: imports and live events come
     * roughly in time order, so these puts land on the tree's last pages. */
    k = (MDB_val){sizeof key, key};
    v = (MDB_val){len, (void *)raw};
    if ((rc = mdb_put(tx->txn, s->body, &k, &v, 0))) return rc;

    if ((rc = s_indexes(tx, ev, 0))) return rc;
    tx->c.events++;

    switch (ev->kind) {
    case EVENT_TIP:
    case EVENT_QUESTION: {
        /* A row put before (rated, thanked, answered ahead of arrival) is
         * completed; without one, a visible tip needs none (store_row_get
         * reads it off the locator), which spares a random-keyed put. */
        store_row_t r;
        MDB_val rv;
        k = (MDB_val){EVENT_ID_LEN, (void *)ev->id};
        rc = mdb_get(tx->txn, s->stat, &k, &rv);
        if (rc == MDB_NOTFOUND)
            memset(&r, 0, sizeof r);
        else if (rc || (rc = store_row_unpack(&rv, &r)))
            return rc;
        int had = rc == 0;
        r.flags = STORE_ROW_HELD | (a.superseded ? STORE_ROW_SUPERSEDED : STORE_ROW_VISIBLE);
        r.kind = ev->kind;
        memcpy(r.author, ev->author, EVENT_KEY_LEN);
        r.created_at = ev->created_at;
        if ((had || a.superseded) && (rc = s_row_put(tx, ev->id, &r))) return rc;
        if ((rc = fts_index(s->fts, tx->txn, ev))) return rc;
        if (!a.superseded && (rc = s_vis_move(tx, ev->kind, ev->id, ev, +1))) return rc;
        if ((rc = s_refresh_superseded(tx, ev))) return rc;
        break;
    }
    case EVENT_RATING:
        if ((rc = s_targets_move(tx, ev, +1))) return rc;
        break;
    case EVENT_THANKS:
        tx->c.thanks++;
        if ((rc = s_targets_move(tx, ev, +1))) return rc;
        break;
    case EVENT_RETRACT:
        tx->c.retracts++;
        for (int i = 0; i < ev->nrefs; i++)
            if (ev->refs[i].role == EVENT_REF_TARGET &&
                (rc = s_retract(tx, ev->refs[i].id, ev->author)))
                return rc;
        break;
    case EVENT_PROFILE:
        tx->c.profiles++;
        if ((rc = s_profile_add(tx, ev))) return rc;
        break;
    default:
        break;
    }
    return 0;
}

/* ---- ingest ---- */

struct s_batch {
    const uint8_t *const *events;
    const size_t *lens;
    size_t n;
    uint64_t now_ms;
    int flags;
    store_result_t *out;
    uint8_t *verified; /* per event: signature already checked in a try */
    event_t *ev;
    int *refused; /* per event: the index refused it (code), skip on redo */
};

/* Body result: the index refused one event; redo the batch without it. */
#define S_REDO (-199)

static void s_reject(store_result_t *r, int code)
{
    r->status = STORE_REJECTED;
    r->reason = code;
}

static int s_batch_body(store_tx_t *tx, void *arg)
{
    struct s_batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        store_result_t *r = &b->out[i];
        memset(r, 0, sizeof *r);
        if (b->refused[i]) {
            s_reject(r, b->refused[i]);
            continue;
        }
        if (!b->events[i]) {
            s_reject(r, STORE_E_ARG);
            continue;
        }
        if (b->lens[i] > EVENT_MAX_SIZE) {
            s_reject(r, EVENT_E_OVERSIZE);
            continue;
        }
        int rc = event_decode(b->events[i], b->lens[i], b->ev);
        if (rc) {
            s_reject(r, rc);
            continue;
        }
        memcpy(r->id, b->ev->id, EVENT_ID_LEN);
        if ((rc = event_check_time(b->ev, b->now_ms))) {
            s_reject(r, rc);
            continue;
        }
        if (!(b->flags & STORE_INGEST_VERIFIED) && !b->verified[i]) {
            /* A lookup costs far less than a signature check: skip the
             * check for what is already held. (Verified events need no
             * lookup: store_apply_new finds duplicates as it stores.) */
            MDB_val k = {EVENT_ID_LEN, b->ev->id}, v;
            rc = mdb_get(tx->txn, tx->s->ev, &k, &v);
            if (rc == 0) {
                r->status = STORE_DUP;
                continue;
            }
            if (rc != MDB_NOTFOUND) return rc;
            if ((rc = event_verify(b->ev))) {
                s_reject(r, rc);
                continue;
            }
            b->verified[i] = 1;
        }
        int tomb;
        rc = store_agg_apply_new(tx, b->ev, b->events[i], b->lens[i], &tomb);
        if (rc == STORE_APPLY_DUP) {
            r->status = STORE_DUP;
            continue;
        }
        if (rc) {
            /* A STORE_E code that is not a failure of the store itself
             * (disk, memory, LMDB) comes from the index refusing this
             * event's content: drop only this one, so a single odd event
             * cannot keep a whole batch out forever. */
            if (store_is_own_code(rc) && !store_is_failure(rc)) {
                b->refused[i] = rc;
                return S_REDO;
            }
            return rc;
        }
        r->status = STORE_NEW;
        r->retracted = (uint8_t)tomb;
    }
    return 0;
}

int store_ingest(store_t *s, const uint8_t *const *events, const size_t *lens, size_t n,
                 uint64_t now_ms, int flags, store_result_t *out)
{
    if (!s || (n && (!events || !lens || !out))) return STORE_E_ARG;
    if (n == 0) return 0;
    if (s->read_only) return STORE_E_ARG;
    struct s_batch b = {.events = events,
                        .lens = lens,
                        .n = n,
                        .now_ms = now_ms,
                        .flags = flags,
                        .out = out,
                        .verified = calloc(n, 1),
                        .ev = malloc(sizeof(event_t)),
                        .refused = calloc(n, sizeof(int))};
    int rc;
    if (!b.verified || !b.ev || !b.refused) {
        rc = store_fail(s, ENOMEM, "ingest");
    } else {
        size_t need = 256 << 10; /* headroom: ~4x the bytes plus index pages */
        for (size_t i = 0; i < n; i++) need += 4 * (lens[i] < EVENT_MAX_SIZE ? lens[i] : 0) + 8192;
        do rc = store_txn_run(s, need, s_batch_body, &b);
        while (rc == S_REDO);
        if (rc) rc = store_fail(s, rc, "ingest");
    }
    if (rc)
        for (size_t i = 0; i < n; i++) s_reject(&out[i], rc);
    free(b.verified);
    free(b.ev);
    free(b.refused);
    return rc;
}
