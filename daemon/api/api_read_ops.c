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
 * Author filters accept a full 64-hex key (pushed down to the store), a hex
 * prefix of 4+ characters, or a display name (matched case-insensitively
 * against the author's latest profile); the last two filter results after
 * the store has produced them.
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

/* ---- author filters ---- */

typedef struct {
    int any;
    int exact; /* full key: use the store's filter */
    uint8_t key[EVENT_KEY_LEN];
    char prefix[65];                   /* hex prefix, or "" */
    char name[EVENT_MAX_NAME * 4 + 1]; /* display name, or "" */
} s_author_t;

static void s_author_parse(const char *spec, s_author_t *a)
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

static int s_author_match(store_rtxn_t *s, const s_author_t *a, const uint8_t author[EVENT_KEY_LEN])
{
    if (a->any) return 1;
    if (a->exact) return memcmp(a->key, author, EVENT_KEY_LEN) == 0;
    if (a->prefix[0]) {
        char hex[65];
        event_hex(author, EVENT_KEY_LEN, hex);
        return strncmp(hex, a->prefix, strlen(a->prefix)) == 0;
    }
    char name[EVENT_MAX_NAME * 4 + 1], team[8];
    if (store_profile(s, author, name, sizeof(name), team, sizeof(team)) != 0) return 0;
    return strcasecmp(name, a->name) == 0;
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

/* api_after of a search that found nothing: record it (a write, so on the
 * loop thread). */
typedef struct {
    tipd_t *d;
    char q[];
} s_miss_rec_t;

static void s_miss_after(void *arg)
{
    s_miss_rec_t *m = arg;
    int mrc = store_miss_record(m->d->store, m->q);
    if (mrc < 0) log_msg(LOG_W, "recording a search miss failed: %s", api_reason(mrc));
    free(m);
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
    s_author_t au;
    s_author_parse(author, &au);
    if (au.exact) so.author = au.key;
    /* Filters the store can't apply are applied after it: ask for more. */
    size_t want = (size_t)n, cap = (au.any || au.exact) ? want : 1000;
    store_hit_t *hits = calloc(cap, sizeof(*hits));
    if (!hits) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    size_t got = 0;
    int rc = store_search(rt, q, &so, hits, cap, &got);
    if (rc < 0) {
        free(hits);
        return api_error(req, CONTRACT_E_INTERNAL, "search failed: %s", api_reason(rc));
    }
    json_t *res = json_array();
    event_t *ev = malloc(sizeof(*ev));
    for (size_t i = 0; ev && i < got && json_array_size(res) < want; i++) {
        if (store_get(rt, hits[i].id, ev) != 0) continue;
        if (!s_author_match(rt, &au, ev->author)) continue;
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

typedef struct {
    store_rtxn_t *rt;
    const uint8_t *target; /* the event being shown */
    json_t *ratings;       /* object: author hex -> rating entry (latest wins) */
    json_t *thanks;
    json_t *answers; /* array of tip objects (latest versions, deduped) */
    json_t *seen;    /* object: answer ids already listed */
    int chain;       /* the shown event is visible: gather its chain's ratings/thanks */
} s_get_t;

/* 1 if the hex id in prev (a JSON string) is larger than id: of two ratings
 * stamped the same millisecond the larger id counts. */
static int s_id_hex_newer(const json_t *prev, const uint8_t id[EVENT_ID_LEN])
{
    char hex[65];
    event_hex(id, EVENT_ID_LEN, hex);
    const char *p = json_string_value(prev);
    return p && strcmp(p, hex) > 0;
}

static int s_has_ref(const event_t *ev, int role, const uint8_t id[EVENT_ID_LEN])
{
    for (int i = 0; i < ev->nrefs; i++)
        if (ev->refs[i].role == role && memcmp(ev->refs[i].id, id, EVENT_ID_LEN) == 0) return 1;
    return 0;
}

static int s_get_ref(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_get_t *g = arg;
    int on_target = s_has_ref(ev, EVENT_REF_TARGET, g->target);
    store_rtxn_t *s = g->rt;
    char name[EVENT_MAX_NAME * 4 + 1] = "", team[8];
    char ahex[65];
    event_hex(ev->author, EVENT_KEY_LEN, ahex);
    if (ev->kind == EVENT_RATING || ev->kind == EVENT_THANKS) {
        if (store_profile(s, ev->author, name, sizeof(name), team, sizeof(team)) != 0)
            name[0] = '\0';
    }
    if (ev->kind == EVENT_RATING && on_target) {
        json_t *prev = json_object_get(g->ratings, ahex);
        json_int_t prev_ms = prev ? json_integer_value(json_object_get(prev, "created_at_ms")) : 0;
        /* Newest by created_at, then id: the store's rule, across versions too. */
        if (prev && ((uint64_t)prev_ms > ev->created_at ||
                     ((uint64_t)prev_ms == ev->created_at &&
                      s_id_hex_newer(json_object_get(prev, "id"), ev->id))))
            return 0;
        json_object_set_new(
            g->ratings, ahex,
            json_pack("{s:o, s:s, s:s, s:i, s:o, s:I}", "id", api_json_hex(ev->id, EVENT_ID_LEN),
                      "author", ahex, "author_name", name, "value", ev->value, "created_at",
                      api_json_time(ev->created_at), "created_at_ms", (json_int_t)ev->created_at));
    } else if (ev->kind == EVENT_THANKS && on_target) {
        /* (social) created_at_ms: tip show prints "2 days ago" from it */
        json_array_append_new(g->thanks,
                              json_pack("{s:o, s:s, s:s, s:o, s:o, s:I}", "id",
                                        api_json_hex(ev->id, EVENT_ID_LEN), "author", ahex,
                                        "author_name", name, "story", api_json_str(ev->body),
                                        "created_at", api_json_time(ev->created_at),
                                        "created_at_ms", (json_int_t)ev->created_at));
    } else if (ev->kind == EVENT_TIP && s_has_ref(ev, EVENT_REF_ANSWERS, g->target)) {
        /* An edited answer shows as its newest version. */
        store_stats_t st;
        event_t *cur = malloc(sizeof(*cur));
        if (!cur) return 0;
        const event_t *show = ev;
        if (store_stats(s, ev->id, &st) == 0 && st.superseded && store_get(s, st.latest, cur) == 0)
            show = cur;
        char idhex[65];
        event_hex(show->id, EVENT_ID_LEN, idhex);
        if (!json_object_get(g->seen, idhex)) {
            json_object_set_new(g->seen, idhex, json_true());
            json_t *o = s_tip(s, show);
            if (o) json_array_append_new(g->answers, o);
        }
        free(cur);
    }
    return 0;
}

/* (social) store_history callback: collect the answers that name one of the
 * shown event's other versions and, when the shown event is the visible one
 * (g->chain), the ratings and thanks given to them (an edit keeps what the
 * earlier versions earned; store_chain_stats counts the same). */
static int s_get_version(const event_t *ver, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_get_t *g = arg;
    if (!memcmp(ver->id, g->target, EVENT_ID_LEN)) return 0;
    s_get_t vg = *g;
    vg.target = ver->id;
    store_refs(g->rt, ver->id, g->chain ? 0 : EVENT_REF_ANSWERS, s_get_ref, &vg);
    return 0;
}

/* Best rated first, then most rated, then oldest. */
static int s_answer_cmp(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    json_t *ra = json_object_get(a, "rating"), *rb = json_object_get(b, "rating");
    double x = json_is_real(ra) ? json_real_value(ra) : 0,
           y = json_is_real(rb) ? json_real_value(rb) : 0;
    if (x != y) return x > y ? -1 : 1;
    json_int_t ca = json_integer_value(json_object_get(a, "ratings"));
    json_int_t cb = json_integer_value(json_object_get(b, "ratings"));
    if (ca != cb) return ca > cb ? -1 : 1;
    json_int_t ta = json_integer_value(json_object_get(a, "created_at_ms"));
    json_int_t tb = json_integer_value(json_object_get(b, "created_at_ms"));
    return ta < tb ? -1 : ta > tb;
}

/* Oldest first (created_at_ms, then id): thanks of every version of an
 * edited tip interleave by time. */
static int s_oldest_cmp(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    json_int_t ta = json_integer_value(json_object_get(a, "created_at_ms"));
    json_int_t tb = json_integer_value(json_object_get(b, "created_at_ms"));
    if (ta != tb) return ta < tb ? -1 : 1;
    const char *ia = json_string_value(json_object_get(a, "id"));
    const char *ib = json_string_value(json_object_get(b, "id"));
    return strcmp(ia ? ia : "", ib ? ib : "");
}

static json_t *s_sorted(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    if (n < 2) return arr;
    json_t **v = malloc(n * sizeof(*v));
    if (!v) return arr;
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, v[i]);
    free(v);
    return arr;
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
    event_t *ev = malloc(sizeof(*ev));
    if (!ev) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    int rc = store_get(rt, id, ev);
    if (rc != 0) {
        free(ev);
        char hex[65];
        event_hex(id, EVENT_ID_LEN, hex);
        if (rc == STORE_E_RETRACTED)
            return api_error_with(req, CONTRACT_E_NOT_FOUND,
                                  json_pack("{s:b, s:s}", "retracted", 1, "id", hex),
                                  "%s was retracted by its author", hex);
        if (rc == STORE_E_NOTFOUND)
            return api_error(req, CONTRACT_E_NOT_FOUND, "no event with id %s", hex);
        return api_error(req, CONTRACT_E_INTERNAL, "store: %s", api_reason(rc));
    }
    json_t *o = s_tip(rt, ev);
    s_get_t g = {rt, ev->id, json_object(), json_array(), json_array(), json_object(), 0};
    store_refs(rt, ev->id, 0, s_get_ref, &g);
    /* Answers given to earlier versions of an edited
     * question show under it too; the visible version of an edited tip or
     * question lists the ratings and thanks of every version. */
    store_stats_t gst;
    g.chain = store_stats(rt, ev->id, &gst) == 0 && !gst.superseded && !gst.retracted;
    if (ev->kind == EVENT_QUESTION || (ev->kind == EVENT_TIP && g.chain))
        store_history(rt, ev->id, s_get_version, &g);
    if (ev->kind == EVENT_QUESTION)
        json_object_set_new(o, "answers", json_integer((json_int_t)json_array_size(g.answers)));
    json_t *rl = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(g.ratings, k, v)
    {
        json_object_del(v, "created_at_ms");
        json_array_append(rl, v);
    }
    json_object_set_new(o, "ratings_list", rl);
    json_object_set_new(o, "thanks_list", g.chain ? s_sorted(g.thanks, s_oldest_cmp) : g.thanks);
    json_object_set_new(o, "answers_list", s_sorted(g.answers, s_answer_cmp));
    json_decref(g.ratings);
    json_decref(g.seen);
    if (history) {
        /* Walk the supersedes chain back from this version, newest first. */
        json_t *h = json_array();
        event_t *cur = malloc(sizeof(*cur));
        uint8_t prev[EVENT_ID_LEN];
        const event_t *at = ev;
        for (int depth = 0; cur && depth < 1000; depth++) {
            int found = 0;
            for (int i = 0; i < at->nrefs; i++) {
                if (at->refs[i].role == EVENT_REF_SUPERSEDES) {
                    memcpy(prev, at->refs[i].id, EVENT_ID_LEN);
                    found = 1;
                    break;
                }
            }
            if (!found || store_get(rt, prev, cur) != 0) break;
            if (memcmp(cur->author, ev->author, EVENT_KEY_LEN) != 0) break; /* not an edit */
            json_t *t = s_tip(rt, cur);
            if (t) json_array_append_new(h, t);
            memcpy(ev, cur, sizeof(*ev));
            at = ev;
        }
        free(cur);
        json_object_set_new(o, "history", h);
    }
    free(ev);
    return api_reply(req, json_pack("{s:o}", "event", o));
}

/* ---- list ---- */

typedef struct {
    store_rtxn_t *rt;
    s_author_t au;
    size_t want;
    json_t *res;
} s_list_t;

static int s_list_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_list_t *l = arg;
    if (!s_author_match(l->rt, &l->au, ev->author)) return 0;
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
    s_author_parse(author, &l.au);
    store_filter_t f = {.kind = kind,
                        .author = l.au.exact ? l.au.key : NULL,
                        .topic = topic,
                        .before = (uint64_t)before,
                        .after = (uint64_t)after,
                        .include_hidden = all};
    int rc = store_list(rt, &f, 0, s_list_one, &l);
    if (rc < 0) {
        json_decref(l.res);
        return api_error(req, CONTRACT_E_INTERNAL, "list failed: %s", api_reason(rc));
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
        return api_error(req, CONTRACT_E_INTERNAL, "export failed: %s", api_reason(rc));
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
        return api_error(req, CONTRACT_E_INTERNAL, "listing questions failed: %s", api_reason(rc));
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
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "misses: %s", api_reason(rc));
    json_t *res = api_misses_json(v, k);
    views_misses_free(&v, k);
    return api_reply(req, json_pack("{s:o}", "results", res));
}

/* ---- stats ---- */

static int s_op_stats(api_req_t *req, json_t *rq, void *arg)
{
    (void)arg;
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
    int rc = views_stats(api_view(req), &q, &st);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "stats failed: %s", api_reason(rc));
    json_t *o = api_stats_json(&st);
    views_stats_free(&st);
    return api_reply(req, o);
}

/* ---- today ---- */

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_LEN);
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
    uint8_t(*seen)[EVENT_ID_LEN] = NULL;
    json_t *sj = json_object_get(rq, "seen");
    if (sj && !json_is_null(sj)) {
        if (!json_is_array(sj) || json_array_size(sj) > S_SEEN_MAX)
            return api_error(req, CONTRACT_E_BAD_REQUEST,
                             "field 'seen' must be an array of at most %d ids", S_SEEN_MAX);
        seen = malloc((json_array_size(sj) + 1) * EVENT_ID_LEN);
        if (!seen) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
        for (size_t i = 0; i < json_array_size(sj); i++) {
            const char *h = json_string_value(json_array_get(sj, i));
            if (!h || strlen(h) != 2 * EVENT_ID_LEN ||
                event_unhex(h, seen[q.nseen], EVENT_ID_LEN) != 0) {
                free(seen);
                return api_error(req, CONTRACT_E_BAD_REQUEST, "seen[%zu] must be a full 64-hex id",
                                 i);
            }
            q.nseen++;
        }
        if (q.nseen) qsort(seen, q.nseen, EVENT_ID_LEN, s_id_cmp);
        q.seen = (const uint8_t(*)[EVENT_ID_LEN])seen;
    }
    views_today_t t;
    int rc = views_today(api_view(req), &q, &t);
    free(seen);
    if (rc != 0) return api_error(req, CONTRACT_E_INTERNAL, "today: %s", api_reason(rc));
    json_t *tip = t.have ? api_tip_json(t.ev, &t.fig) : NULL;
    json_t *r = json_pack("{s:o, s:I, s:b}", "tip", tip ? tip : json_null(), "unseen",
                          (json_int_t)t.unseen, "seen_before", t.seen_before);
    views_today_free(&t);
    return api_reply(req, r);
}

int api_read_ops_register(tipd_t *d)
{
    static const struct {
        const char *name;
        api_op_fn fn;
        int flags;
    } ops[] = {
        {"search", s_op_search, 0},       {"get", s_op_get, 0},
        {"list", s_op_list, 0},           {"export", s_op_export, API_READ_HEAVY},
        {"questions", s_op_questions, 0}, {"stats", s_op_stats, API_READ_HEAVY},
        {"today", s_op_today, 0},         {"misses", s_op_misses, 0},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (api_register_read(d->api, ops[i].name, ops[i].fn, d, ops[i].flags) < 0) return -1;
    return 0;
}
