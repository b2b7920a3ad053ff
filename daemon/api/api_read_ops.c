/* api_read_ops.c -- the local API's read operations: search, get, list,
 * export, questions, stats, today and misses (docs/API.md).
 *
 * Every handler here runs on a reader thread (api_register_read) inside the
 * request's read view, so one request sees one snapshot of the store and
 * never holds up the loop. A handler validates the request's fields
 * (api_get_*), asks the store and the views layer for what it shows, and
 * renders it (api_render.h); the only write a read causes, recording a
 * search that found nothing, goes back to the loop through api_after.
 *
 * Author filters (views_author_filter) push a full key down to the store
 * and match a prefix or a display name on the results.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ops.h"
#include "api_render.h"
#include "daemon.h"
#include "ingest.h"
#include "log.h"
#include "views.h"

#define S_EXPORT_BYTES  (3u << 20) /* keep export replies under the 4 MiB limit */
#define S_SEEN_MAX      20000      /* ids a `today` request may exclude */
#define S_QUESTIONS_MAX 1000

/* The tip object of ev with its figures read in rt. */
static json_t *s_tip(store_rtxn_t *rt, const event_t *ev)
{
    views_tip_t fig;
    views_tip(rt, ev, &fig);
    return api_tip_json(ev, &fig);
}

/* Parse a hex id prefix or full id into a unique stored id, answering req
 * with bad_request / not_found / ambiguous (with candidates) when it can't.
 * 0 or -1 (answered). */
static int s_resolve_id(api_req_t *req, store_rtxn_t *s, const char *prefix,
                        uint8_t id[EVENT_ID_LEN])
{
    char norm[2 * EVENT_ID_LEN + 1];
    if (event_prefix_norm(prefix, norm) < 0)
        return api_error(req, CONTRACT_E_BAD_REQUEST,
                         "'%.80s' is not an id (4 to 64 hex characters)", prefix);
    uint8_t cand[8][EVENT_ID_LEN];
    size_t n = 0;
    int rc = store_resolve(s, norm, cand, 8, &n);
    if (rc == 0) {
        memcpy(id, cand[0], EVENT_ID_LEN);
        return 0;
    }
    if (rc == STORE_E_NOTFOUND)
        return api_error(req, CONTRACT_E_NOT_FOUND, "no event with id %s", norm);
    if (rc == STORE_E_AMBIGUOUS) {
        json_t *c = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(c, api_json_hex(cand[i], EVENT_ID_LEN));
        return api_error_with(req, CONTRACT_E_AMBIGUOUS, json_pack("{s:o}", "candidates", c),
                              "id prefix %s matches more than one event; give more characters",
                              norm);
    }
    return api_error(req, CONTRACT_E_INTERNAL, "store: %s", store_strerror(rc));
}

/* ---- search ---- */

static int s_kind_field(api_req_t *req, json_t *rq, int *kind)
{
    const char *k = NULL;
    if (api_get_str(req, rq, "kind", &k) < 0) return -1;
    if (!k || strcmp(k, "any") == 0) return 0;
    int v = event_kind_from_name(k);
    if (v < 0) return api_error(req, CONTRACT_E_BAD_REQUEST, "unknown kind '%.32s'", k);
    *kind = v;
    return 0;
}

/* api_after of a search that found nothing: record it. A write, so it is
 * handed to the store's one writer (ingest's writer thread). */
typedef struct {
    tipd_t *d;
    char q[];
} s_miss_rec_t;

static void s_miss_write(store_t *store, void *arg)
{
    s_miss_rec_t *m = arg;
    int mrc = store_miss_record(store, m->q);
    if (mrc < 0) log_msg(LOG_W, "recording a search miss failed: %s", store_strerror(mrc));
    free(m);
}

static void s_miss_after(void *arg)
{
    s_miss_rec_t *m = arg;
    if (ingest_call(m->d->ingest, s_miss_write, m) < 0) free(m);
}

static int s_op_search(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    store_rtxn_t *rt = api_view(req);
    const char *q = NULL, *author = NULL;
    long long n = 10;
    int kind = 0;
    if (api_get_str(req, rq, "q", &q) < 0) return -1;
    if (!q) return api_error(req, CONTRACT_E_BAD_REQUEST, "field 'q' (the query) is required");
    if (strlen(q) > CONTRACT_QUERY_MAX)
        return api_error(req, CONTRACT_E_BAD_REQUEST, "query is too long (at most %d bytes)",
                         CONTRACT_QUERY_MAX);
    if (api_get_int(req, rq, "n", 1, CONTRACT_SEARCH_MAX, &n) < 0) return -1;
    if (api_get_str(req, rq, "author", &author) < 0) return -1;
    if (s_kind_field(req, rq, &kind) < 0) return -1;
    store_search_opts_t so;
    memset(&so, 0, sizeof(so));
    so.kind = kind;
    char fixed[CONTRACT_QUERY_MAX + 64];
    so.fixed = fixed;
    so.fixed_cap = sizeof fixed;
    json_t *topics = json_object_get(rq, "topics");
    if (topics && !json_is_null(topics)) {
        if (!json_is_array(topics) || json_array_size(topics) > EVENT_MAX_TOPICS)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'topics' must be an array of at most %d "
                             "strings",
                             EVENT_MAX_TOPICS);
        for (size_t i = 0; i < json_array_size(topics); i++) {
            json_t *t = json_array_get(topics, i);
            if (!json_is_string(t))
                return api_error(req, CONTRACT_E_BAD_REQUEST, "topics[%zu] must be a string", i);
            so.topics[i] = json_string_value(t);
        }
    }
    const char *t1 = NULL;
    if (api_get_str(req, rq, "topic", &t1) < 0) return -1;
    if (t1 && !so.topics[0]) so.topics[0] = t1;
    views_author_filter_t au;
    views_author_filter(author, &au);
    if (au.exact) so.author = au.key;
    /* Filters the store can't apply are applied after it: ask for more. */
    size_t want = (size_t)n, cap = (au.any || au.exact) ? want : 1000;
    store_hit_t *hits = calloc(cap, sizeof(*hits));
    if (!hits) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    size_t got = 0;
    int rc = store_search(rt, q, &so, hits, cap, &got);
    if (rc < 0) {
        free(hits);
        return api_error(req, CONTRACT_E_INTERNAL, "search failed: %s", store_strerror(rc));
    }
    json_t *res = json_array();
    event_t *ev = malloc(sizeof(*ev));
    for (size_t i = 0; ev && i < got && json_array_size(res) < want; i++) {
        if (store_get(rt, hits[i].id, ev) != 0) continue;
        if (!views_author_matches(rt, &au, ev->author)) continue;
        json_t *o = s_tip(rt, ev);
        if (!o) continue;
        json_object_set_new(o, "score", json_real(hits[i].score));
        json_array_append_new(res, o);
    }
    free(ev);
    free(hits);
    /* Only a search nothing narrowed shows what nobody has written yet; "none
     * by this author" or "none with this topic" says nothing of the sort. */
    int narrowed = so.topics[0] || kind || !au.any;
    if (json_array_size(res) == 0 && q[0] && !narrowed) {
        size_t ql = strlen(q);
        s_miss_rec_t *m = malloc(sizeof(*m) + ql + 1);
        if (m) {
            m->d = d;
            memcpy(m->q, q, ql + 1);
            api_after(req, s_miss_after, m);
        }
    }
    /* Mistyped words: what the results are for, or what was probably meant
     * when nothing was found (docs/API.md). */
    json_t *out = json_pack("{s:o}", "results", res);
    if (out && fixed[0])
        json_object_set_new(out, json_array_size(res) ? "corrected" : "did_you_mean",
                            json_string(fixed));
    return api_reply(req, out);
}

/* ---- get ---- */

static json_t *s_shown_list(const views_shown_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = api_tip_json(v[i].ev, &v[i].fig);
        if (o) json_array_append_new(a, o);
    }
    return a;
}

static int s_op_get(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    store_rtxn_t *rt = api_view(req);
    const char *idp = NULL;
    int history = 0;
    if (api_get_str(req, rq, "id", &idp) < 0) return -1;
    if (!idp) return api_error(req, CONTRACT_E_BAD_REQUEST, "field 'id' is required");
    if (api_get_bool(req, rq, "history", &history) < 0) return -1;
    uint8_t id[EVENT_ID_LEN];
    if (s_resolve_id(req, rt, idp, id) < 0) return -1;
    views_detail_t d;
    int rc = views_detail(rt, id, history, &d);
    if (rc != 0) {
        char hex[65];
        event_hex(id, EVENT_ID_LEN, hex);
        if (rc == STORE_E_RETRACTED)
            return api_error_with(req, CONTRACT_E_NOT_FOUND,
                                  json_pack("{s:b, s:s}", "retracted", 1, "id", hex),
                                  "%s was retracted by its author", hex);
        if (rc == STORE_E_NOTFOUND)
            return api_error(req, CONTRACT_E_NOT_FOUND, "no event with id %s", hex);
        return api_error(req, CONTRACT_E_INTERNAL, "store: %s", store_strerror(rc));
    }
    json_t *o = api_tip_json(d.shown.ev, &d.shown.fig);
    if (d.shown.ev->kind == EVENT_QUESTION)
        json_object_set_new(o, "answers", json_integer((json_int_t)d.nanswers));
    json_t *rl = json_array();
    for (size_t i = 0; i < d.nratings; i++) {
        const views_rating_t *r = &d.ratings[i];
        json_array_append_new(rl, json_pack("{s:o, s:o, s:s, s:i, s:o}", "id",
                                            api_json_hex(r->id, EVENT_ID_LEN), "author",
                                            api_json_hex(r->author, EVENT_KEY_LEN), "author_name",
                                            r->author_name, "value", r->value, "created_at",
                                            api_json_time(r->created_at)));
    }
    json_object_set_new(o, "ratings_list", rl);
    json_t *tl = json_array();
    for (size_t i = 0; i < d.nthanks; i++) {
        const views_thanks_t *t = &d.thanks[i];
        /* created_at_ms: tip show prints "2 days ago" from it */
        json_array_append_new(tl, json_pack("{s:o, s:o, s:s, s:o, s:o, s:I}", "id",
                                            api_json_hex(t->id, EVENT_ID_LEN), "author",
                                            api_json_hex(t->author, EVENT_KEY_LEN), "author_name",
                                            t->author_name, "story", api_json_str(t->story),
                                            "created_at", api_json_time(t->created_at),
                                            "created_at_ms", (json_int_t)t->created_at));
    }
    json_object_set_new(o, "thanks_list", tl);
    json_object_set_new(o, "answers_list", s_shown_list(d.answers, d.nanswers));
    if (history) json_object_set_new(o, "history", s_shown_list(d.history, d.nhistory));
    views_detail_free(&d);
    return api_reply(req, json_pack("{s:o}", "event", o));
}

/* ---- list ---- */

typedef struct {
    store_rtxn_t *rt;
    views_author_filter_t au;
    size_t want;
    json_t *res;
} s_list_t;

static int s_list_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_list_t *l = arg;
    if (!views_author_matches(l->rt, &l->au, ev->author)) return 0;
    json_t *o = s_tip(l->rt, ev);
    if (o) json_array_append_new(l->res, o);
    return json_array_size(l->res) >= l->want ? 1 : 0;
}

static int s_op_list(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    store_rtxn_t *rt = api_view(req);
    long long n = 20, before = 0, after = 0;
    const char *author = NULL, *topic = NULL;
    int kind = EVENT_TIP, all = 0;
    const char *k = NULL;
    if (api_get_int(req, rq, "n", 1, CONTRACT_LIST_MAX, &n) < 0) return -1;
    if (api_get_int(req, rq, "before", 0, INT64_MAX, &before) < 0) return -1;
    if (api_get_int(req, rq, "after", 0, INT64_MAX, &after) < 0) return -1;
    if (api_get_str(req, rq, "author", &author) < 0) return -1;
    if (api_get_str(req, rq, "topic", &topic) < 0) return -1;
    if (api_get_bool(req, rq, "all", &all) < 0) return -1;
    if (api_get_str(req, rq, "kind", &k) < 0) return -1;
    if (k) {
        kind = strcmp(k, "any") == 0 ? 0 : event_kind_from_name(k);
        if (kind < 0) return api_error(req, CONTRACT_E_BAD_REQUEST, "unknown kind '%.32s'", k);
    }
    s_list_t l = {.rt = rt, .want = (size_t)n, .res = json_array()};
    views_author_filter(author, &l.au);
    store_filter_t f = {.kind = kind,
                        .author = l.au.exact ? l.au.key : NULL,
                        .topic = topic,
                        .before = (uint64_t)before,
                        .after = (uint64_t)after,
                        .include_hidden = all};
    int rc = store_list(rt, &f, 0, s_list_one, &l);
    if (rc < 0) {
        json_decref(l.res);
        return api_error(req, CONTRACT_E_INTERNAL, "list failed: %s", store_strerror(rc));
    }
    return api_reply(req, json_pack("{s:o}", "results", l.res));
}

/* ---- export ---- */

typedef struct {
    store_rtxn_t *rt;
    uint64_t after_ms;
    uint8_t after_id[EVENT_ID_LEN];
    int has_cursor;
    size_t want, bytes;
    json_t *events;
    uint64_t last_ms;
    uint8_t last_id[EVENT_ID_LEN];
    int more;
    uint8_t *buf;
} s_export_t;

static int s_export_item(uint64_t ms, const uint8_t id[EVENT_ID_LEN], void *arg)
{
    s_export_t *x = arg;
    if (x->has_cursor &&
        (ms < x->after_ms || (ms == x->after_ms && memcmp(id, x->after_id, EVENT_ID_LEN) <= 0)))
        return 0;
    if (json_array_size(x->events) >= x->want || x->bytes >= S_EXPORT_BYTES) {
        x->more = 1;
        return 1;
    }
    size_t len = 0;
    if (store_get_raw(x->rt, id, x->buf, EVENT_MAX_SIZE, &len) != 0) return 0;
    char *b64 = malloc(b64_encoded_len(len) + 1);
    if (!b64) return 1;
    b64_encode(x->buf, len, b64);
    json_array_append_new(x->events, json_string(b64));
    x->bytes += b64_encoded_len(len);
    free(b64);
    x->last_ms = ms;
    memcpy(x->last_id, id, EVENT_ID_LEN);
    return 0;
}

static int s_op_export(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    store_rtxn_t *rt = api_view(req);
    const char *after = NULL;
    long long n = CONTRACT_EXPORT_MAX;
    if (api_get_str(req, rq, "after", &after) < 0) return -1;
    if (api_get_int(req, rq, "n", 1, CONTRACT_EXPORT_MAX, &n) < 0) return -1;
    s_export_t x = {.rt = rt, .want = (size_t)n, .events = json_array()};
    if (after && *after) {
        /* cursor: "<created_at ms>-<64 hex id>" of the last event sent */
        char *dash = NULL;
        errno = 0;
        unsigned long long ms = strtoull(after, &dash, 10);
        if (errno || !dash || *dash != '-' || strlen(dash + 1) != 64 ||
            event_unhex(dash + 1, x.after_id, EVENT_ID_LEN) != 0) {
            json_decref(x.events);
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'after' is not a cursor from export");
        }
        x.after_ms = ms;
        x.has_cursor = 1;
    }
    x.buf = malloc(EVENT_MAX_SIZE);
    if (!x.buf) {
        json_decref(x.events);
        return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    }
    int rc = store_items(rt, s_export_item, &x);
    free(x.buf);
    if (rc < 0) {
        json_decref(x.events);
        return api_error(req, CONTRACT_E_INTERNAL, "export failed: %s", store_strerror(rc));
    }
    json_t *next = json_null();
    if (x.more) {
        char cur[96], hex[65];
        event_hex(x.last_id, EVENT_ID_LEN, hex);
        snprintf(cur, sizeof(cur), "%" PRIu64 "-%s", x.last_ms, hex);
        next = json_string(cur);
    }
    return api_reply(req, json_pack("{s:o, s:o}", "events", x.events, "next", next));
}

/* ---- questions ---- */

static int s_op_questions(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    int open_only = 0;
    long long n = 100;
    if (api_get_bool(req, rq, "open", &open_only) < 0) return -1;
    if (api_get_int(req, rq, "n", 1, S_QUESTIONS_MAX, &n) < 0) return -1;
    views_questions_t q;
    int rc = views_questions(api_view(req), open_only, (size_t)n, &q);
    if (rc != 0)
        return api_error(req, CONTRACT_E_INTERNAL, "listing questions failed: %s",
                         store_strerror(rc));
    json_t *res = json_array();
    for (size_t i = 0; i < q.n && i < (size_t)n; i++) {
        const views_question_t *e = &q.v[i];
        json_t *o = api_tip_json(e->ev, &e->fig);
        if (!o) continue;
        json_object_set_new(o, "answers", json_integer(e->answers));
        json_object_set_new(o, "asked_at", api_json_time(e->asked_ms));
        json_object_set_new(o, "asked_at_ms", json_integer((json_int_t)e->asked_ms));
        json_array_append_new(res, o);
    }
    json_t *r = json_pack("{s:o, s:I, s:I}", "results", res, "total", (json_int_t)q.n, "open",
                          (json_int_t)q.open);
    views_questions_free(&q);
    return api_reply(req, r);
}

/* ---- misses ---- */

static int s_op_misses(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    long long n = 20;
    if (api_get_int(req, rq, "n", 1, 1000, &n) < 0) return -1;
    views_miss_t *v = NULL;
    size_t k = 0;
    int rc = views_misses(api_view(req), (size_t)n, &v, &k);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "misses: %s", store_strerror(rc));
    json_t *res = api_misses_json(v, k);
    views_misses_free(&v, k);
    return api_reply(req, json_pack("{s:o}", "results", res));
}

/* ---- stats ---- */

static int s_op_stats(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    const char *me = NULL;
    long long weeks = 12, top = 5, nstories = 5, nmisses = 10, now = 0;
    if (api_get_str(req, rq, "me", &me) < 0) return -1;
    if (api_get_int(req, rq, "weeks", 1, VIEWS_MAX_WEEKS, &weeks) < 0) return -1;
    if (api_get_int(req, rq, "top", 1, 100, &top) < 0) return -1;
    if (api_get_int(req, rq, "stories", 0, 100, &nstories) < 0) return -1;
    if (api_get_int(req, rq, "misses", 0, 1000, &nmisses) < 0) return -1;
    /* "now" lets tests and reports pin the week buckets. */
    if (api_get_int(req, rq, "now", 0, INT64_MAX, &now) < 0) return -1;
    uint8_t mekey[EVENT_KEY_LEN];
    if (me && (strlen(me) != 2 * EVENT_KEY_LEN || event_unhex(me, mekey, EVENT_KEY_LEN) != 0))
        return api_error(req, CONTRACT_E_BAD_REQUEST, "field 'me' must be a 64-hex-character key");
    views_stats_req_t q = {.now = (uint64_t)now,
                           .weeks = (int)weeks,
                           .top = (size_t)top,
                           .stories = (size_t)nstories,
                           .misses = (size_t)nmisses,
                           .me = me ? mekey : NULL};
    views_stats_t st;
    int rc = views_stats(d->views, api_view(req), &q, &st);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "stats failed: %s", store_strerror(rc));
    json_t *o = api_stats_json(&st);
    views_stats_free(&st);
    return api_reply(req, o);
}

/* ---- today ---- */

static int s_pfx_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_PFX_LEN);
}

/* The first bytes of a seen id given whole or by its first 2 *
 * EVENT_PFX_LEN hex digits (what tip sends: a quarter of the bytes). */
static int s_seen_pfx(const char *h, uint8_t out[EVENT_PFX_LEN])
{
    size_t n = h ? strlen(h) : 0;
    uint8_t id[EVENT_ID_LEN];
    if (n == 2 * EVENT_ID_LEN && event_unhex(h, id, EVENT_ID_LEN) == 0) {
        memcpy(out, id, EVENT_PFX_LEN);
        return 0;
    }
    return n == 2 * EVENT_PFX_LEN && event_unhex(h, out, EVENT_PFX_LEN) == 0 ? 0 : -1;
}

static int s_op_today(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
    const char *user = NULL, *date = NULL;
    if (api_get_str(req, rq, "user", &user) < 0) return -1;
    if (api_get_str(req, rq, "date", &date) < 0) return -1;
    if (!date || !*date || strlen(date) > 32)
        return api_error(req, CONTRACT_E_BAD_REQUEST,
                         "field 'date' (the user's local date) is required");
    uint8_t ukey[EVENT_KEY_LEN];
    if (user && (strlen(user) != 2 * EVENT_KEY_LEN || event_unhex(user, ukey, EVENT_KEY_LEN) != 0))
        return api_error(req, CONTRACT_E_BAD_REQUEST,
                         "field 'user' must be a 64-hex-character key");
    views_today_req_t q = {.user = user ? ukey : NULL, .date = date};
    uint8_t(*seen)[EVENT_PFX_LEN] = NULL;
    json_t *sj = json_object_get(rq, "seen");
    if (sj && !json_is_null(sj)) {
        if (!json_is_array(sj) || json_array_size(sj) > S_SEEN_MAX)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'seen' must be an array of at most %d ids", S_SEEN_MAX);
        seen = malloc((json_array_size(sj) + 1) * EVENT_PFX_LEN);
        if (!seen) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
        for (size_t i = 0; i < json_array_size(sj); i++) {
            if (s_seen_pfx(json_string_value(json_array_get(sj, i)), seen[q.nseen]) != 0) {
                free(seen);
                return api_error(req, CONTRACT_E_BAD_REQUEST,
                                 "seen[%zu] must be an id: 64 hex digits, or its first 16", i);
            }
            q.nseen++;
        }
        if (q.nseen) qsort(seen, q.nseen, EVENT_PFX_LEN, s_pfx_cmp);
        q.seen = (const uint8_t(*)[EVENT_PFX_LEN])seen;
    }
    views_today_t t;
    int rc = views_today(api_view(req), &q, &t);
    free(seen);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "today: %s", store_strerror(rc));
    json_t *tip = t.have ? api_tip_json(t.ev, &t.fig) : NULL;
    json_t *r = json_pack("{s:o, s:I, s:b}", "tip", tip ? tip : json_null(), "unseen",
                          (json_int_t)t.unseen, "seen_before", t.seen_before);
    views_today_free(&t);
    return api_reply(req, r);
}

/* ---- read views for the reader threads ---- */

static store_rtxn_t *s_view_begin(void *ctx, const int *cancel, char *err, size_t errlen)
{
    tipd_t *d = ctx;
    int code = 0;
    store_rtxn_t *v = store_rtxn_begin(d->store, &code);
    if (!v) {
        snprintf(err, errlen, "%s", store_strerror(code));
        return NULL;
    }
    store_rtxn_cancel_on(v, cancel);
    return v;
}

api_views_t api_read_views(tipd_t *d)
{
    return (api_views_t){s_view_begin, store_rtxn_end, store_rtxn_stopped, d};
}

int api_read_ops_register(tipd_t *d)
{
    static const struct {
        const char *name;
        api_op_fn fn;
        int flags;
    } ops[] = {
        {"search", s_op_search, 0},
        {"get", s_op_get, 0},
        {"list", s_op_list, 0},
        {"export", s_op_export, API_READ_HEAVY},
        {"questions", s_op_questions, 0},
        {"stats", s_op_stats, API_READ_HEAVY},
        {"today", s_op_today, API_READ_HEAVY},
        {"misses", s_op_misses, 0},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (api_register_read(d->api, ops[i].name, ops[i].fn, d, ops[i].flags) < 0) return -1;
    return 0;
}
