/* store_read.c -- iteration over the store: listings (newest first over the
 * time, author or topic index), references of an event, the sync set for
 * reconciliation, edit histories, ratings, per-author sums, search (the
 * visibility and quality-prior callback handed to fts_search) and the local
 * record of searches that found nothing.
 *
 * Every function runs in one read transaction. Events handed to callbacks
 * are decoded into a buffer owned by that call, so a callback may call other
 * store functions (the env is MDB_NOTLS) but must not keep the pointers.
 */
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>

#include "store_int.h"

#define S_MISS_MAX 256
#define S_NREFS_AT 42 /* offset of nrefs in signed bytes (docs/PROTOCOL.md 1.2) */

static int s_chain_figures(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN],
                           const store_row_t *r, const MDB_val *bytes, store_stats_t *st,
                           store_rating_fn fn, void *arg, int *fn_out);

/* The figures of one version alone: those of a chain with no earlier one. */
static void s_row_figures(const store_row_t *r, store_stats_t *st)
{
    st->ratings = r->ratings;
    st->rating_sum = r->rating_sum;
    st->thanks = r->thanks;
}

static int s_is_tomb(const MDB_val *v)
{
    return v->mv_size <= STORE_TOMB_LEN || ((const uint8_t *)v->mv_data)[0] == 0;
}

/* Fetch and decode a live event; 1 if it is gone or a tombstone. */
static int s_load(store_t *s, MDB_txn *txn, const uint8_t *id, event_t *ev, MDB_val *raw)
{
    int rc = store_ev_get(s, txn, id, raw);
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) return rc;
    if (s_is_tomb(raw)) return 1;
    return event_decode(raw->mv_data, raw->mv_size, ev) ? MDB_CORRUPTED : 0;
}

/* 1 if the tip/question id is superseded (or not counted as held). */
static int s_hidden(store_t *s, MDB_txn *txn, const uint8_t *id)
{
    store_row_t r;
    if (store_row_get(s, txn, id, &r) != 0) return 0;
    return (r.flags & STORE_ROW_SUPERSEDED) != 0;
}

/* ---- listings ---- */

struct s_list {
    store_t *s;
    MDB_txn *txn;
    const store_filter_t *f;
    size_t limit, count;
    store_each_fn fn;
    void *arg;
    int out; /* the callback's non-zero value, if it stopped the walk */
    event_t *ev;
};

/* One candidate (id, kind) from an index: filter, decode, call. Returns 1
 * to stop (callback said so; l->out holds its value), <0 / LMDB code. */
static int s_list_one(struct s_list *l, const uint8_t *id, int kind)
{
    const store_filter_t *f = l->f;
    if (f->kind && kind != f->kind) return 0;
    if ((kind == EVENT_TIP || kind == EVENT_QUESTION) && !f->include_hidden &&
        s_hidden(l->s, l->txn, id))
        return 0;
    MDB_val raw;
    int rc = s_load(l->s, l->txn, id, l->ev, &raw);
    if (rc == 1) return 0;
    if (rc) return rc;
    if (f->author && memcmp(l->ev->author, f->author, EVENT_KEY_LEN)) return 0;
    if (f->topic) {
        int hit = 0;
        for (int i = 0; i < l->ev->ntopics && !hit; i++) hit = !strcmp(l->ev->topics[i], f->topic);
        if (!hit) return 0;
    }
    if ((l->out = l->fn(l->ev, raw.mv_data, raw.mv_size, l->arg))) return 1;
    l->count++;
    return 0;
}

/* Walk keys pfx || created_at || id of dbi from newest to oldest within
 * [after, before). Returns 0 or an LMDB code (l->out: callback's stop). */
static int s_scan_desc(struct s_list *l, MDB_dbi dbi, const uint8_t *pfx, size_t plen)
{
    uint8_t start[EVENT_MAX_TOPIC_LEN + 1 + 8 + EVENT_ID_LEN + EVENT_KEY_LEN];
    size_t klen = plen + 8 + EVENT_ID_LEN;
    if (plen) memcpy(start, pfx, plen); /* pfx is NULL for the time index */
    if (l->f->before) {
        store_be64(start + plen, l->f->before);
        memset(start + plen + 8, 0, EVENT_ID_LEN);
    } else {
        memset(start + plen, 0xff, 8 + EVENT_ID_LEN);
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(l->txn, dbi, &c);
    if (rc) return rc;
    MDB_val k = {klen, start}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                            : mdb_cursor_get(c, &k, &v, MDB_PREV);
    int out = 0;
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
        if (store_canceled(l->s)) {
            rc = STORE_E_CANCELED;
            break;
        }
        const uint8_t *p = k.mv_data;
        if (k.mv_size != klen || (plen && memcmp(p, pfx, plen) != 0)) break;
        uint64_t t = store_rd64(p + plen);
        if (l->f->before && t >= l->f->before) continue;
        if (t < l->f->after) break;
        if (v.mv_size < 1) continue;
        if ((out = s_list_one(l, p + plen + 8, ((uint8_t *)v.mv_data)[0]))) break;
        if (l->limit && l->count >= l->limit) break;
    }
    mdb_cursor_close(c);
    if (out) return out == 1 ? 0 : out;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_list(store_t *s, const store_filter_t *f, size_t limit, store_each_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    store_filter_t none = {0};
    if (!f) f = &none;
    if (f->topic && strlen(f->topic) > EVENT_MAX_TOPIC_LEN) return 0;
    struct s_list l = {.s = s, .f = f, .limit = limit, .fn = fn, .arg = arg};
    if (!(l.ev = malloc(sizeof *l.ev))) return STORE_E_IO;
    int rc = store_rtxn(s, &l.txn);
    if (rc == 0) {
        if (f->author) {
            rc = s_scan_desc(&l, s->auth, f->author, EVENT_KEY_LEN);
        } else if (f->topic) {
            uint8_t pfx[EVENT_MAX_TOPIC_LEN + 1];
            size_t tl = strlen(f->topic);
            memcpy(pfx, f->topic, tl);
            pfx[tl] = 0;
            rc = s_scan_desc(&l, s->topic, pfx, tl + 1);
        } else {
            rc = s_scan_desc(&l, s->time, NULL, 0);
        }
        store_rtxn_close(s, l.txn);
    }
    free(l.ev);
    return l.out ? l.out : store_fail(s, rc, "list");
}

int store_refs(store_t *s, const uint8_t id[EVENT_ID_LEN], int role, store_each_fn fn, void *arg)
{
    if (!s || !id || !fn) return STORE_E_ARG;
    event_t *ev = malloc(sizeof *ev);
    if (!ev) return STORE_E_IO;
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    int rc = store_rtxn(s, &txn), out = 0;
    if (rc) txn = NULL;
    if (rc == 0 && (rc = mdb_cursor_open(txn, s->refs, &c)) == 0) {
        MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
            store_ref_t r;
            if (store_ref_unpack(&v, &r) || (role && r.role != role)) continue;
            MDB_val raw;
            int lr = s_load(s, txn, r.id, ev, &raw);
            if (lr == 1) continue;
            if (lr) {
                rc = lr;
                break;
            }
            if ((out = fn(ev, raw.mv_data, raw.mv_size, arg))) break;
        }
        mdb_cursor_close(c);
    }
    if (txn) store_rtxn_close(s, txn);
    free(ev);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "refs");
}

int store_items(store_t *s, store_item_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = store_rtxn(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "items");
    if ((rc = mdb_cursor_open(txn, s->time, &c)) == 0) {
        MDB_val k, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (store_canceled(s)) {
                rc = STORE_E_CANCELED;
                break;
            }
            if (k.mv_size != 8 + EVENT_ID_LEN) continue;
            const uint8_t *p = k.mv_data;
            if ((out = fn(store_rd64(p), p + 8, arg))) break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "items");
}

int store_items_ids(store_t *s, const uint8_t *keys, size_t klen, size_t n,
                    uint8_t (*ids)[EVENT_ID_LEN])
{
    if (!s || (n && (!keys || !ids)) || klen <= 8 || klen > 8 + EVENT_ID_LEN) return STORE_E_ARG;
    if (!n) return 0;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "items");
    if ((rc = mdb_cursor_open(txn, s->time, &c)) == 0) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            const uint8_t *want = keys + i * klen;
            /* keys come ascending and mostly adjacent: try the next entry
             * before searching the tree again */
            MDB_val k, v;
            rc = i ? mdb_cursor_get(c, &k, &v, MDB_NEXT) : MDB_NOTFOUND;
            if (rc || k.mv_size != 8 + EVENT_ID_LEN || memcmp(k.mv_data, want, klen) != 0) {
                k = (MDB_val){klen, (void *)want};
                rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
            }
            if (rc == 0 && (k.mv_size != 8 + EVENT_ID_LEN || memcmp(k.mv_data, want, klen) != 0))
                rc = MDB_NOTFOUND;
            if (rc == 0) memcpy(ids[i], (const uint8_t *)k.mv_data + 8, EVENT_ID_LEN);
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (rc == MDB_NOTFOUND) return STORE_E_NOTFOUND;
    return store_fail(s, rc, "items");
}

/* ---- ratings, history, authors ---- */

double store_prior(const store_stats_t *st)
{
    double p = 1.0 + 0.1 * log1p((double)st->thanks);
    if (st->ratings) {
        double avg = (double)st->rating_sum / st->ratings;
        double conf = (st->ratings < 5 ? st->ratings : 5) / 5.0;
        p += 0.1 * (avg - 3.0) * conf;
    }
    return p < 1.0 ? 1.0 : p;
}

int store_ratings(store_t *s, const uint8_t id[EVENT_ID_LEN], store_rating_fn fn, void *arg)
{
    if (!s || !id || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = store_rtxn(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "ratings");
    if ((rc = mdb_cursor_open(txn, s->rate, &c)) == 0) {
        uint8_t start[EVENT_ID_LEN + EVENT_KEY_LEN] = {0};
        memcpy(start, id, EVENT_ID_LEN);
        MDB_val k = {sizeof start, start}, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            const uint8_t *kp = k.mv_data, *vp = v.mv_data;
            if (k.mv_size != sizeof start || memcmp(kp, id, EVENT_ID_LEN)) break;
            if (v.mv_size != 8 + EVENT_ID_LEN + 1) continue;
            if ((out = fn(kp + EVENT_ID_LEN, vp[8 + EVENT_ID_LEN], store_rd64(vp), vp + 8, arg)))
                break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "ratings");
}

struct s_ver {
    uint64_t t;
    uint8_t id[EVENT_ID_LEN];
};

static int s_ver_cmp(const void *a, const void *b)
{
    const struct s_ver *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? 1 : -1;
    return -memcmp(x->id, y->id, EVENT_ID_LEN);
}

int store_history(store_t *s, const uint8_t id[EVENT_ID_LEN], store_each_fn fn, void *arg)
{
    if (!s || !id || !fn) return STORE_E_ARG;
    store_stats_t st;
    int rc = store_stats(s, id, &st);
    if (rc) return rc;
    if (st.retracted) return STORE_E_RETRACTED;
    struct s_ver *v = calloc(STORE_MAX_CHAIN, sizeof *v);
    event_t *ev = malloc(sizeof *ev);
    MDB_txn *txn = NULL;
    size_t n = 0, head = 0;
    int out = 0;
    if (!v || !ev) {
        rc = ENOMEM;
        goto done;
    }
    if ((rc = store_rtxn(s, &txn))) goto done;
    /* Breadth-first from the latest version back through SUPERSEDES refs. */
    memcpy(v[n++].id, st.latest, EVENT_ID_LEN);
    uint8_t author[EVENT_KEY_LEN];
    for (head = 0; head < n; head++) {
        MDB_val raw;
        int lr = s_load(s, txn, v[head].id, ev, &raw);
        if (lr) {
            v[head].t = 0;
            if (lr != 1) rc = lr;
            if (lr != 1 || head == 0) goto done;
            continue;
        }
        if (head == 0) memcpy(author, ev->author, EVENT_KEY_LEN);
        v[head].t = ev->created_at;
        for (int i = 0; i < ev->nrefs && n < STORE_MAX_CHAIN; i++) {
            if (ev->refs[i].role != EVENT_REF_SUPERSEDES) continue;
            store_row_t r;
            if (store_row_get(s, txn, ev->refs[i].id, &r) || !(r.flags & STORE_ROW_HELD) ||
                (r.flags & STORE_ROW_RETRACTED) || memcmp(r.author, author, EVENT_KEY_LEN))
                continue;
            int dup = 0;
            for (size_t j = 0; j < n && !dup; j++) dup = !memcmp(v[j].id, ev->refs[i].id, 32);
            if (!dup) memcpy(v[n++].id, ev->refs[i].id, EVENT_ID_LEN);
        }
    }
    qsort(v, n, sizeof *v, s_ver_cmp);
    for (size_t i = 0; i < n && !out; i++) {
        MDB_val raw;
        int lr = s_load(s, txn, v[i].id, ev, &raw);
        if (lr == 1) continue;
        if (lr) {
            rc = lr;
            break;
        }
        out = fn(ev, raw.mv_data, raw.mv_size, arg);
    }
done:
    if (txn) store_rtxn_close(s, txn);
    free(v);
    free(ev);
    if (out) return out;
    return store_fail(s, rc, "history");
}

/* 1 if the live rating or thanks id is its author's one with the smallest
 * id on its tip: "given" counts tips once each (store_agg.c, s_given). */
static int s_given_first(store_t *s, MDB_txn *txn, const uint8_t *id, event_t *ev)
{
    MDB_val raw;
    int first = 1, twin = 0;
    if (s_load(s, txn, id, ev, &raw) == 0) {
        const uint8_t *target = event_ref(ev, EVENT_REF_TARGET);
        if (target && store_ref_twin(s, txn, target, ev->kind, ev->author, ev->id, 1, &twin) == 0)
            first = !twin;
    }
    return first;
}

/* Add the auth-index entry (key k, value v) to the author sums a; ev is
 * scratch for decoding a rating or thanks. */
static void s_author_add(store_t *s, MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                         store_author_t *a, event_t *ev)
{
    const uint8_t *p = k->mv_data, *vp = v->mv_data;
    uint64_t t = store_rd64(p + EVENT_KEY_LEN);
    const uint8_t *id = p + EVENT_KEY_LEN + 8;
    if (v->mv_size < 2) return;
    if (!a->first_ms || t < a->first_ms) a->first_ms = t;
    if (t > a->last_ms) a->last_ms = t;
    switch (vp[0]) {
    case EVENT_RATING:
    case EVENT_THANKS:
        if (s_given_first(s, txn, id, ev)) {
            if (vp[0] == EVENT_RATING)
                a->ratings_given++;
            else
                a->thanks_given++;
        }
        break;
    case EVENT_TIP:
    case EVENT_QUESTION: {
        store_row_t r;
        if (store_row_get(s, txn, id, &r)) break;
        /* A visible version carries its whole edit chain, so superseded ones
         * add nothing (a rater of v1 and v2 is one rating received). */
        if (!(r.flags & STORE_ROW_VISIBLE)) break;
        store_stats_t st;
        if (s_chain_figures(s, txn, id, &r, NULL, &st, NULL, NULL, NULL)) s_row_figures(&r, &st);
        a->thanks_received += st.thanks;
        a->ratings_received += st.ratings;
        a->rating_sum_received += st.rating_sum;
        if (vp[0] == EVENT_QUESTION)
            a->questions++;
        else
            a->tips++;
        if (vp[0] == EVENT_TIP && (vp[1] & STORE_AUTH_ANSWER)) a->answers++;
        if (vp[0] == EVENT_TIP && (vp[1] & STORE_AUTH_IMPORTED) && !(vp[1] & STORE_AUTH_ANSWER))
            a->imported++;
        break;
    }
    default:
        break;
    }
}

/* Walk the auth index from author (or the start if NULL); call fn per
 * author group; stop after the first group when one author was asked. */
static int s_authors(store_t *s, const uint8_t *author, store_author_fn fn, void *arg,
                     store_author_t *one, int *stop)
{
    MDB_txn *txn;
    MDB_cursor *c;
    event_t *ev = malloc(sizeof *ev);
    if (!ev) return ENOMEM;
    int rc = store_rtxn(s, &txn), out = 0, have = 0;
    if (rc) {
        free(ev);
        return rc;
    }
    store_author_t a;
    memset(&a, 0, sizeof a);
    if ((rc = mdb_cursor_open(txn, s->auth, &c)) == 0) {
        MDB_val k = {author ? EVENT_KEY_LEN : 0, (void *)author}, v;
        rc = mdb_cursor_get(c, &k, &v, author ? MDB_SET_RANGE : MDB_FIRST);
        for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (store_canceled(s)) {
                rc = STORE_E_CANCELED;
                break;
            }
            if (k.mv_size != EVENT_KEY_LEN + 8 + EVENT_ID_LEN) continue;
            if (have && memcmp(k.mv_data, a.author, EVENT_KEY_LEN)) {
                if (author) break;
                if ((out = fn(&a, arg))) break;
                have = 0;
            }
            if (!have) {
                if (author && memcmp(k.mv_data, author, EVENT_KEY_LEN)) break;
                memset(&a, 0, sizeof a);
                memcpy(a.author, k.mv_data, EVENT_KEY_LEN);
                have = 1;
            }
            s_author_add(s, txn, &k, &v, &a, ev);
        }
        mdb_cursor_close(c);
        if (rc == MDB_NOTFOUND) rc = 0;
        if (rc == 0 && !out && have) {
            if (one)
                *one = a;
            else
                out = fn(&a, arg);
        }
    }
    store_rtxn_close(s, txn);
    free(ev);
    if (rc == 0 && one && !have) rc = MDB_NOTFOUND;
    if (stop) *stop = out;
    return rc;
}

int store_author(store_t *s, const uint8_t author[EVENT_KEY_LEN], store_author_t *a)
{
    if (!s || !author || !a) return STORE_E_ARG;
    return store_fail(s, s_authors(s, author, NULL, NULL, a, NULL), "author");
}

int store_authors_each(store_t *s, store_author_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    int out = 0, rc = s_authors(s, NULL, fn, arg, NULL, &out);
    return out ? out : store_fail(s, rc, "authors");
}

/* ---- search ---- */

/* ---- edit chains: the visible version carries the chain's figures ---- */

struct s_crate {
    uint8_t rater[EVENT_KEY_LEN];
    uint64_t t;
    uint8_t id[EVENT_ID_LEN];
    uint8_t score;
};

/* Rater ascending, then newest (created_at, then id) first, so the first
 * entry of each rater is the one that counts. */
static int s_crate_cmp(const void *a, const void *b)
{
    const struct s_crate *x = a, *y = b;
    int c = memcmp(x->rater, y->rater, EVENT_KEY_LEN);
    if (c) return c;
    if (x->t != y->t) return x->t < y->t ? 1 : -1;
    return -memcmp(x->id, y->id, EVENT_ID_LEN);
}

/* 1 unless the held event's signed bytes (raw, as verified at ingest) have
 * no SUPERSEDES reference: nrefs at byte 42, then role u8 + id[32] each
 * (docs/PROTOCOL.md 1.2). Anything short or odd answers 1 (the full walk
 * decodes properly). */
static int s_cites_supersedes(const MDB_val *raw)
{
    const uint8_t *p = raw->mv_data;
    if (raw->mv_size <= S_NREFS_AT || s_is_tomb(raw)) return 1;
    size_t n = p[S_NREFS_AT];
    if (raw->mv_size < S_NREFS_AT + 1 + n * (1 + EVENT_ID_LEN)) return 1;
    for (size_t i = 0; i < n; i++)
        if (p[S_NREFS_AT + 1 + i * (1 + EVENT_ID_LEN)] == EVENT_REF_SUPERSEDES) return 1;
    return 0;
}

/* Append the counted rating of every rater of version id to *v (*n, *cap). */
static int s_crate_collect(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN],
                           struct s_crate **v, size_t *n, size_t *cap)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->rate, &c);
    if (rc) return rc;
    uint8_t start[EVENT_ID_LEN + EVENT_KEY_LEN] = {0};
    memcpy(start, id, EVENT_ID_LEN);
    MDB_val k = {sizeof start, start}, val;
    for (rc = mdb_cursor_get(c, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data, *vp = val.mv_data;
        if (k.mv_size != sizeof start || memcmp(kp, id, EVENT_ID_LEN)) break;
        if (val.mv_size != 8 + EVENT_ID_LEN + 1) continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            struct s_crate *nv = realloc(*v, nc * sizeof *nv);
            if (!nv) {
                rc = ENOMEM;
                break;
            }
            *v = nv;
            *cap = nc;
        }
        struct s_crate *e = &(*v)[(*n)++];
        memcpy(e->rater, kp + EVENT_ID_LEN, EVENT_KEY_LEN);
        e->t = store_rd64(vp);
        memcpy(e->id, vp + 8, EVENT_ID_LEN);
        e->score = vp[8 + EVENT_ID_LEN];
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The figures of the edit chain that ends in the visible version id (row r):
 * 0 or an LMDB/errno code; fn's non-zero return stops the calls and goes to
 * *fn_out.
 * thanks summed over every live version reached back through same-author
 * SUPERSEDES references, ratings the newest counted rating per rater across
 * them. A function of the held set only (read time), so arrival order cannot
 * change it. With fn, calls it per counted rating in rater order. A version
 * with no earlier one keeps its own row figures (no extra reads beyond its
 * refs). bytes: the version's signed bytes if the caller has read them
 * (store_row_read), else NULL and they are read here when needed. */
static int s_chain_figures(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN],
                           const store_row_t *r, const MDB_val *bytes, store_stats_t *st,
                           store_rating_fn fn, void *arg, int *fn_out)
{
    s_row_figures(r, st);
    if (!(r->flags & STORE_ROW_VISIBLE) || (r->flags & STORE_ROW_RETRACTED)) return 0;
    if (!fn) {
        /* Search asks this of every candidate: most tips were never edited,
         * and a look at their references says so without a decode. */
        MDB_val raw;
        int gr;
        if (bytes)
            raw = *bytes;
        else if ((gr = store_ev_get(s, txn, id, &raw)))
            return gr == MDB_NOTFOUND ? 0 : gr;
        if (!s_cites_supersedes(&raw)) return 0;
    }
    uint8_t(*ver)[EVENT_ID_LEN] = malloc(STORE_MAX_CHAIN * EVENT_ID_LEN);
    event_t *ev = malloc(sizeof *ev);
    struct s_crate *rv = NULL;
    size_t n = 0, nr = 0, cap = 0;
    int rc = 0, out = 0;
    if (fn_out) *fn_out = 0;
    if (!ver || !ev) {
        rc = ENOMEM;
        goto done;
    }
    memcpy(ver[n++], id, EVENT_ID_LEN);
    for (size_t head = 0; head < n; head++) {
        MDB_val raw;
        int lr = s_load(s, txn, ver[head], ev, &raw);
        if (lr == 1) continue;
        if (lr) {
            rc = lr;
            goto done;
        }
        for (int i = 0; i < ev->nrefs && n < STORE_MAX_CHAIN; i++) {
            if (ev->refs[i].role != EVENT_REF_SUPERSEDES) continue;
            store_row_t pr;
            if (store_row_get(s, txn, ev->refs[i].id, &pr) || !(pr.flags & STORE_ROW_HELD) ||
                (pr.flags & STORE_ROW_RETRACTED) || memcmp(pr.author, r->author, EVENT_KEY_LEN))
                continue;
            int dup = 0;
            for (size_t j = 0; j < n && !dup; j++) dup = !memcmp(ver[j], ev->refs[i].id, 32);
            if (!dup) memcpy(ver[n++], ev->refs[i].id, EVENT_ID_LEN);
        }
    }
    if (n == 1 && !fn) goto done;
    st->thanks = 0;
    for (size_t i = 0; i < n; i++) {
        store_row_t vr;
        int gr = i ? store_row_get(s, txn, ver[i], &vr) : 0;
        if (gr == MDB_NOTFOUND) continue;
        if (gr) {
            rc = gr;
            goto done;
        }
        st->thanks += i ? vr.thanks : r->thanks;
        if ((rc = s_crate_collect(s, txn, ver[i], &rv, &nr, &cap))) goto done;
    }
    if (nr > 1) qsort(rv, nr, sizeof *rv, s_crate_cmp);
    st->ratings = st->rating_sum = 0;
    for (size_t i = 0; i < nr; i++) {
        if (i && !memcmp(rv[i].rater, rv[i - 1].rater, EVENT_KEY_LEN)) continue;
        st->ratings++;
        st->rating_sum += rv[i].score;
        if (fn && !out) out = fn(rv[i].rater, rv[i].score, rv[i].t, rv[i].id, arg);
    }
done:
    free(ver);
    free(ev);
    free(rv);
    if (fn_out) *fn_out = out;
    return rc;
}

int store_chain_stats(store_t *s, const uint8_t id[EVENT_ID_LEN], store_stats_t *st)
{
    if (!s || !id || !st) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "chain stats");
    if ((rc = store_stats_txn(s, txn, id, st)) == 0 && !st->superseded && !st->retracted) {
        store_row_t r;
        int gr = store_row_get(s, txn, id, &r);
        if (gr == 0)
            rc = s_chain_figures(s, txn, id, &r, NULL, st, NULL, NULL, NULL);
        else if (gr != MDB_NOTFOUND)
            rc = gr;
    }
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "chain stats");
}

int store_chain_ratings(store_t *s, const uint8_t id[EVENT_ID_LEN], store_rating_fn fn, void *arg)
{
    if (!s || !id || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "chain ratings");
    store_row_t r;
    rc = store_row_get(s, txn, id, &r);
    int visible = rc == 0 && (r.flags & STORE_ROW_VISIBLE) && !(r.flags & STORE_ROW_RETRACTED);
    store_stats_t st;
    int out = 0;
    if (visible) rc = s_chain_figures(s, txn, id, &r, NULL, &st, fn, arg, &out);
    store_rtxn_close(s, txn);
    if (!visible) return store_ratings(s, id, fn, arg);
    if (out) return out;
    return store_fail(s, rc, "chain ratings");
}

struct s_search {
    store_t *s;
    const store_search_opts_t *o;
};

/* What the office wrote itself outranks a bulk import of equal text score:
 * its prior gets this much more (docs/SEARCH.md). */
#define S_OWN_BONUS 0.05

/* 1 if the live tip/question of row r was marked imported: its auth index
 * entry (author, created_at, id) carries the flag. */
static int s_imported(store_t *s, MDB_txn *txn, const uint8_t id[EVENT_ID_LEN],
                      const store_row_t *r)
{
    uint8_t key[EVENT_KEY_LEN + 8 + EVENT_ID_LEN];
    memcpy(key, r->author, EVENT_KEY_LEN);
    store_be64(key + EVENT_KEY_LEN, r->created_at);
    memcpy(key + EVENT_KEY_LEN + 8, id, EVENT_ID_LEN);
    MDB_val k = {sizeof key, key}, v;
    return mdb_get(txn, s->auth, &k, &v) == 0 && v.mv_size >= 2 &&
           (((const uint8_t *)v.mv_data)[1] & STORE_AUTH_IMPORTED);
}

/* A search candidate's prior: its chain's figures, plus S_OWN_BONUS unless
 * it was imported. */
static double s_prior_of(const store_stats_t *st, int imported)
{
    return store_prior(st) + (imported ? 0.0 : S_OWN_BONUS);
}

/* fts_visible_fn: live, not superseded, matching author and kind (fts.c
 * filters topics itself); the prior comes from the ratings and thanks of the
 * event's whole edit chain (store_prior, s_chain_figures), plus S_OWN_BONUS
 * for a tip that was not imported. */
static int s_visible(MDB_txn *txn, const uint8_t id[EVENT_ID_LEN], unsigned hints, double *prior,
                     void *arg)
{
    struct s_search *q = arg;
    store_row_t r;
    MDB_val raw;
    int rc;
    if ((hints & FTS_DOC_KNOWN) && !(hints & FTS_DOC_EDIT)) {
        /* Most candidates: the index holds a tip only while it is live, and
         * one that was never rated, thanked, answered, superseded nor
         * retracted has no stat row (store_int.h). The index's record says
         * it edits nothing and whether it was imported, so that absence is
         * all the check needs: one lookup instead of four (the author and
         * kind filters were applied from the same record). */
        MDB_val k = {EVENT_ID_LEN, (void *)id}, v;
        rc = mdb_get(txn, q->s->stat, &k, &v);
        if (rc == MDB_NOTFOUND) {
            store_stats_t none = {0};
            if (prior) *prior = s_prior_of(&none, hints & FTS_DOC_IMPORTED);
            return 0;
        }
        if (rc) return rc > 0 ? -rc : rc;
    }
    rc = store_row_read(q->s, txn, id, &r, &raw);
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) return rc > 0 ? -rc : rc;
    if (!(r.flags & STORE_ROW_VISIBLE)) return 1;
    if (q->o) {
        if (q->o->author && memcmp(r.author, q->o->author, EVENT_KEY_LEN)) return 1;
        if (q->o->kind && r.kind != q->o->kind) return 1;
    }
    if (prior) {
        /* Most candidates were never rated nor edited: their row came
         * from their bytes, which also say whether they edit an earlier one. */
        store_stats_t st;
        const MDB_val *bytes = raw.mv_data ? &raw : NULL;
        if ((rc = s_chain_figures(q->s, txn, id, &r, bytes, &st, NULL, NULL, NULL)))
            return rc > 0 ? -rc : rc;
        *prior = s_prior_of(&st, s_imported(q->s, txn, id, &r));
    }
    return 0;
}

int store_search(store_t *s, const char *query, const store_search_opts_t *o, store_hit_t *hits,
                 size_t max, size_t *n)
{
    if (!s || !query || !n || (max && !hits)) return STORE_E_ARG;
    *n = 0;
    MDB_txn *txn;
    int rc = store_rtxn(s, &txn);
    if (rc) return store_fail(s, rc, "search");
    struct s_search q = {s, o};
    rc = fts_search(s->fts, txn, query, o, s_visible, &q, hits, max, n);
    store_rtxn_close(s, txn);
    return store_fail(s, rc, "search");
}

/* ---- searches that found nothing ---- */

/* Lower-case ASCII, collapse whitespace, trim, cut at S_MISS_MAX bytes on a
 * character boundary. Control characters (C0, DEL, C1 as UTF-8) count as
 * whitespace: misses are shown to every user of the machine (tip stats), so
 * one user's query must not carry terminal escape sequences to the others.
 * Returns the length (0: nothing left). */
static size_t s_miss_norm(const char *q, char *out)
{
    size_t n = 0;
    int space = 0;
    const unsigned char *p = (const unsigned char *)q;
    for (; *p; p++) {
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            p++; /* a C1 control (two bytes) */
            space = n > 0;
            continue;
        }
        if (isspace(*p) || *p < 0x20 || *p == 0x7F) {
            space = n > 0;
            continue;
        }
        if (n + space >= S_MISS_MAX) break;
        if (space) out[n++] = ' ';
        space = 0;
        out[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
    }
    if (*p && (*p & 0xc0) == 0x80) {
        /* cut inside a character: drop its lead and continuation bytes */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80) n--;
        if (n > 0) n--;
    }
    while (n > 0 && out[n - 1] == ' ') n--;
    out[n] = 0;
    return n;
}

struct s_miss {
    const char *q;
    size_t len;
    uint64_t now;
};

static int s_miss_body(store_tx_t *tx, void *arg)
{
    struct s_miss *m = arg;
    MDB_val k = {m->len, (void *)m->q}, v;
    uint64_t count = 0;
    int rc = mdb_get(tx->txn, tx->s->miss, &k, &v);
    if (rc == 0 && v.mv_size == 16)
        count = store_rd64(v.mv_data);
    else if (rc && rc != MDB_NOTFOUND)
        return rc;
    uint8_t val[16];
    store_be64(val, count + 1);
    store_be64(val + 8, m->now);
    v = (MDB_val){sizeof val, val};
    return mdb_put(tx->txn, tx->s->miss, &k, &v, 0);
}

int store_miss_record(store_t *s, const char *query)
{
    if (!s || !query) return STORE_E_ARG;
    if (s->read_only) return STORE_E_ARG;
    char norm[S_MISS_MAX + 1];
    size_t len = s_miss_norm(query, norm);
    if (len == 0) return STORE_E_ARG;
    struct s_miss m = {norm, len, event_now_ms()};
    return store_fail(s, store_txn_run(s, 64 << 10, s_miss_body, &m), "miss");
}

int store_miss_each(store_t *s, store_miss_fn fn, void *arg)
{
    if (!s || !fn) return STORE_E_ARG;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = store_rtxn(s, &txn), out = 0;
    if (rc) return store_fail(s, rc, "misses");
    if ((rc = mdb_cursor_open(txn, s->miss, &c)) == 0) {
        MDB_val k, v;
        char q[S_MISS_MAX + 1];
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size > S_MISS_MAX || v.mv_size != 16) continue;
            memcpy(q, k.mv_data, k.mv_size);
            q[k.mv_size] = 0;
            if ((out = fn(q, store_rd64(v.mv_data), store_rd64((uint8_t *)v.mv_data + 8), arg)))
                break;
        }
        mdb_cursor_close(c);
    }
    store_rtxn_close(s, txn);
    if (out) return out;
    return rc == MDB_NOTFOUND ? 0 : store_fail(s, rc, "misses");
}
