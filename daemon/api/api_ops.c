/* api_ops.c -- the core local-API operations: submit, search, get, list,
 * export, status; and the one function that renders a stored event as the
 * tip object of docs/API.md, so that every op (including those other files
 * register) shows tips identically.
 *
 * Handlers validate every field's type before using it (api_get_*), read
 * through the store's own read transactions, and answer synchronously --
 * except submit, which hands the decoded events to ingest and answers from
 * ingest's callback once the batch holding them is committed.
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
#include "daemon.h"
#include "disc.h"
#include "gossip.h"
#include "ingest.h"
#include "log.h"
#include "peers.h"
#include "social.h"

#define S_INGEST_HIGH       32768       /* stop reading API requests above this backlog */
#define S_INGEST_LOW        8192        /* ... and resume below this */
#define S_INGEST_HIGH_BYTES (16u << 20) /* the same in bytes of queued events */
#define S_INGEST_LOW_BYTES  (4u << 20)
#define S_EXPORT_BYTES      (3u << 20) /* keep export replies under the 4 MiB limit */

/* ---- rendering ---- */

json_t *api_json_hex(const uint8_t *b, size_t n)
{
    char hex[2 * 64 + 1];
    event_hex(b, n < 64 ? n : 64, hex);
    return json_string(hex);
}

json_t *api_json_time(uint64_t ms)
{
    char t[40];
    event_time_rfc3339(ms, t, sizeof(t));
    return json_string(t);
}

/* A string that came out of the store: valid UTF-8 by the event format, but
 * never trust that enough to return NULL from json_string. */
json_t *api_json_str(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("");
}

json_t *api_tip_json(store_t *s, const event_t *ev)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "id", api_json_hex(ev->id, EVENT_ID_LEN));
    const char *kn = event_kind_name(ev->kind);
    json_object_set_new(o, "kind", json_string(kn ? kn : "unknown"));
    json_object_set_new(o, "title", api_json_str(ev->title));
    json_object_set_new(o, "body", api_json_str(ev->body));
    json_t *topics = json_array();
    for (int i = 0; i < ev->ntopics; i++)
        json_array_append_new(topics, api_json_str(ev->topics[i]));
    json_object_set_new(o, "topics", topics);
    json_object_set_new(o, "author", api_json_hex(ev->author, EVENT_KEY_LEN));
    char name[EVENT_MAX_NAME * 4 + 1] = "", team[EVENT_MAX_TEAM * 4 + 1] = "";
    if (store_profile(s, ev->author, name, sizeof(name), team, sizeof(team)) != 0)
        name[0] = team[0] = '\0';
    json_object_set_new(o, "author_name", api_json_str(name));
    json_object_set_new(o, "author_team", api_json_str(team));
    /* a one-time-key post: the rule is social_anonymous (social.h) */
    json_object_set_new(o, "anonymous", json_boolean(!name[0] && social_anonymous(s, ev)));
    json_object_set_new(o, "created_at", api_json_time(ev->created_at));
    json_object_set_new(o, "created_at_ms", json_integer((json_int_t)ev->created_at));
    store_stats_t st;
    memset(&st, 0, sizeof(st));
    /* The visible version carries its edit chain's ratings and
     * thanks; an earlier version (show --history) its own. */
    if (store_chain_stats(s, ev->id, &st) != 0) memset(&st, 0, sizeof(st));
    json_object_set_new(o, "rating",
                        st.ratings ? json_real((double)st.rating_sum / st.ratings) : json_null());
    json_object_set_new(o, "ratings", json_integer(st.ratings));
    json_object_set_new(o, "thanks", json_integer(st.thanks));
    json_object_set_new(o, "answers", json_integer(st.answers));
    json_t *refs = json_array();
    for (int i = 0; i < ev->nrefs; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "role", json_string(event_ref_role_name(ev->refs[i].role)));
        json_object_set_new(r, "id", api_json_hex(ev->refs[i].id, EVENT_ID_LEN));
        json_array_append_new(refs, r);
        if (ev->refs[i].role == EVENT_REF_TARGET)
            json_object_set_new(o, "target", api_json_hex(ev->refs[i].id, EVENT_ID_LEN));
    }
    json_object_set_new(o, "refs", refs);
    json_object_set_new(o, "value", json_integer(ev->value));
    json_object_set_new(o, "superseded", json_boolean(st.superseded));
    if (st.superseded) json_object_set_new(o, "latest", api_json_hex(st.latest, EVENT_ID_LEN));
    return o;
}

int api_resolve_id(api_req_t *req, store_t *s, const char *prefix, uint8_t id[EVENT_ID_LEN])
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

const char *api_reason(int code)
{
    return code <= STORE_E_LMDB ? store_strerror(code) : event_strerror(code);
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

static int s_author_match(store_t *s, const s_author_t *a, const uint8_t author[EVENT_KEY_LEN])
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

/* ---- submit ---- */

typedef struct {
    tipd_t *d;
    api_req_t *req;
    size_t n;        /* events in the request */
    size_t *slot;    /* slot[i]: request index of the i-th submitted event */
    json_t *results; /* array, one entry per request event */
} s_submit_t;

static json_t *s_result(const store_result_t *r, int with_id)
{
    static const char *const st[] = {"new", "duplicate", "rejected"};
    json_t *o = json_object();
    json_object_set_new(o, "id", with_id ? api_json_hex(r->id, EVENT_ID_LEN) : json_null());
    json_object_set_new(o, "status", json_string(st[r->status <= 2 ? r->status : 2]));
    if (r->status == STORE_REJECTED)
        json_object_set_new(o, "error", api_json_str(api_reason(r->reason)));
    return o;
}

static int s_zero_id(const uint8_t id[EVENT_ID_LEN])
{
    for (int i = 0; i < EVENT_ID_LEN; i++)
        if (id[i]) return 0;
    return 1;
}

static void s_submit_free(s_submit_t *sc)
{
    json_decref(sc->results);
    free(sc->slot);
    free(sc);
}

static void s_submit_done(const store_result_t *res, size_t n, void *arg)
{
    s_submit_t *sc = arg;
    for (size_t i = 0; i < n; i++)
        json_array_set_new(sc->results, sc->slot[i], s_result(&res[i], !s_zero_id(res[i].id)));
    json_t *r = json_object();
    json_object_set(r, "results", sc->results);
    api_reply(sc->req, r);
    tipd_t *d = sc->d;
    s_submit_free(sc);
    if (ingest_pending(d->ingest) < S_INGEST_LOW &&
        ingest_pending_bytes(d->ingest) < S_INGEST_LOW_BYTES)
        api_pause(d->api, 0);
}

static int s_op_submit(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    json_t *evs = json_object_get(rq, "events");
    if (!json_is_array(evs))
        return api_error(req, CONTRACT_E_BAD_REQUEST,
                         "field 'events' must be an array of base64 strings");
    size_t n = json_array_size(evs);
    if (n > CONTRACT_SUBMIT_MAX)
        return api_error(req, CONTRACT_E_TOO_LARGE, "%zu events in one submit; the limit is %d", n,
                         CONTRACT_SUBMIT_MAX);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(evs, i)))
            return api_error(req, CONTRACT_E_BAD_REQUEST, "events[%zu] must be a base64 string", i);
    s_submit_t *sc = calloc(1, sizeof(*sc));
    uint8_t **bufs = calloc(n ? n : 1, sizeof(*bufs));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    if (!sc || !bufs || !lens) goto nomem;
    sc->d = d;
    sc->req = req;
    sc->n = n;
    sc->slot = calloc(n ? n : 1, sizeof(*sc->slot));
    sc->results = json_array();
    if (!sc->slot || !sc->results) goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(evs, i);
        const char *b64 = json_string_value(v);
        size_t blen = json_string_length(v);
        store_result_t bad = {.status = STORE_REJECTED};
        json_array_append_new(sc->results, json_null());
        if (blen > api_b64_encoded_len(EVENT_MAX_SIZE)) {
            bad.reason = EVENT_E_OVERSIZE;
            json_array_set_new(sc->results, i, s_result(&bad, 0));
            continue;
        }
        uint8_t *buf = malloc(blen / 4 * 3 + 3);
        if (!buf) goto nomem;
        long got = api_b64_decode(b64, blen, buf, blen / 4 * 3 + 3);
        if (got <= 0) {
            free(buf);
            json_t *o = json_pack("{s:n, s:s, s:s}", "id", "status", "rejected", "error",
                                  got == 0 ? "empty event" : "not valid base64");
            json_array_set_new(sc->results, i, o);
            continue;
        }
        bufs[k] = buf;
        lens[k] = (size_t)got;
        sc->slot[k++] = i;
    }
    if (k == 0) { /* nothing to store: answer now */
        json_t *r = json_object();
        json_object_set(r, "results", sc->results);
        s_submit_free(sc);
        free(bufs);
        free(lens);
        return api_reply(req, r);
    }
    api_keep(req);
    if (ingest_submit(d->ingest, (const uint8_t *const *)bufs, lens, k, s_submit_done, sc) < 0) {
        for (size_t i = 0; i < k; i++) free(bufs[i]);
        free(bufs);
        free(lens);
        s_submit_free(sc);
        return api_error(req, CONTRACT_E_INTERNAL, "out of memory queueing events");
    }
    for (size_t i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(lens);
    if (ingest_pending(d->ingest) > S_INGEST_HIGH ||
        ingest_pending_bytes(d->ingest) > S_INGEST_HIGH_BYTES)
        api_pause(d->api, 1);
    return 0;
nomem:
    if (bufs)
        for (size_t i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(lens);
    if (sc) s_submit_free(sc);
    return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
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

static int s_op_search(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
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
    int rc = store_search(d->store, q, &so, hits, cap, &got);
    if (rc < 0) {
        free(hits);
        return api_error(req, CONTRACT_E_INTERNAL, "search failed: %s", api_reason(rc));
    }
    json_t *res = json_array();
    event_t *ev = malloc(sizeof(*ev));
    for (size_t i = 0; ev && i < got && json_array_size(res) < want; i++) {
        if (store_get(d->store, hits[i].id, ev) != 0) continue;
        if (!s_author_match(d->store, &au, ev->author)) continue;
        json_t *o = api_tip_json(d->store, ev);
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
        int mrc = store_miss_record(d->store, q);
        if (mrc < 0) log_msg(LOG_W, "recording a search miss failed: %s", api_reason(mrc));
    }
    return api_reply(req, json_pack("{s:o}", "results", res));
}

/* ---- get ---- */

typedef struct {
    tipd_t *d;
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
    store_t *s = g->d->store;
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
            json_t *o = api_tip_json(s, show);
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
    store_refs(g->d->store, ver->id, g->chain ? 0 : EVENT_REF_ANSWERS, s_get_ref, &vg);
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
    tipd_t *d = arg;
    const char *idp = NULL;
    int history = 0;
    if (api_get_str(req, rq, "id", &idp) < 0) return -1;
    if (!idp) return api_error(req, CONTRACT_E_BAD_REQUEST, "field 'id' is required");
    if (api_get_bool(req, rq, "history", &history) < 0) return -1;
    uint8_t id[EVENT_ID_LEN];
    if (api_resolve_id(req, d->store, idp, id) < 0) return -1;
    event_t *ev = malloc(sizeof(*ev));
    if (!ev) return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    int rc = store_get(d->store, id, ev);
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
    json_t *o = api_tip_json(d->store, ev);
    s_get_t g = {d, ev->id, json_object(), json_array(), json_array(), json_object(), 0};
    store_refs(d->store, ev->id, 0, s_get_ref, &g);
    /* Answers given to earlier versions of an edited
     * question show under it too; the visible version of an edited tip or
     * question lists the ratings and thanks of every version. */
    store_stats_t gst;
    g.chain = store_stats(d->store, ev->id, &gst) == 0 && !gst.superseded && !gst.retracted;
    if (ev->kind == EVENT_QUESTION || (ev->kind == EVENT_TIP && g.chain))
        store_history(d->store, ev->id, s_get_version, &g);
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
            if (!found || store_get(d->store, prev, cur) != 0) break;
            if (memcmp(cur->author, ev->author, EVENT_KEY_LEN) != 0) break; /* not an edit */
            json_t *t = api_tip_json(d->store, cur);
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
    tipd_t *d;
    s_author_t au;
    size_t want;
    json_t *res;
} s_list_t;

static int s_list_one(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    (void)raw;
    (void)len;
    s_list_t *l = arg;
    if (!s_author_match(l->d->store, &l->au, ev->author)) return 0;
    json_t *o = api_tip_json(l->d->store, ev);
    if (o) json_array_append_new(l->res, o);
    return json_array_size(l->res) >= l->want ? 1 : 0;
}

static int s_op_list(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
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
    s_list_t l = {.d = d, .want = (size_t)n, .res = json_array()};
    s_author_parse(author, &l.au);
    store_filter_t f = {.kind = kind,
                        .author = l.au.exact ? l.au.key : NULL,
                        .topic = topic,
                        .before = (uint64_t)before,
                        .after = (uint64_t)after,
                        .include_hidden = all};
    int rc = store_list(d->store, &f, 0, s_list_one, &l);
    if (rc < 0) {
        json_decref(l.res);
        return api_error(req, CONTRACT_E_INTERNAL, "list failed: %s", api_reason(rc));
    }
    return api_reply(req, json_pack("{s:o}", "results", l.res));
}

/* ---- export ---- */

typedef struct {
    tipd_t *d;
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
    if (store_get_raw(x->d->store, id, x->buf, EVENT_MAX_SIZE, &len) != 0) return 0;
    char *b64 = malloc(api_b64_encoded_len(len) + 1);
    if (!b64) return 1;
    api_b64_encode(x->buf, len, b64);
    json_array_append_new(x->events, json_string(b64));
    x->bytes += api_b64_encoded_len(len);
    free(b64);
    x->last_ms = ms;
    memcpy(x->last_id, id, EVENT_ID_LEN);
    return 0;
}

static int s_op_export(api_req_t *req, json_t *rq, void *arg)
{
    tipd_t *d = arg;
    const char *after = NULL;
    long long n = CONTRACT_EXPORT_MAX;
    if (api_get_str(req, rq, "after", &after) < 0) return -1;
    if (api_get_int(req, rq, "n", 1, CONTRACT_EXPORT_MAX, &n) < 0) return -1;
    s_export_t x = {.d = d, .want = (size_t)n, .events = json_array()};
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
    int rc = store_items(d->store, s_export_item, &x);
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

/* ---- status ---- */

static int s_op_status(api_req_t *req, json_t *rq, void *arg)
{
    (void)rq;
    tipd_t *d = arg;
    store_counts_t c;
    memset(&c, 0, sizeof(c));
    int rc = store_counts(d->store, &c);
    if (rc < 0) return api_error(req, CONTRACT_E_INTERNAL, "store: %s", api_reason(rc));
    json_t *o = json_object();
    json_object_set_new(o, "node", json_string(d->node_hex));
    json_object_set_new(o, "name", api_json_str(d->name));
    json_object_set_new(o, "tips", json_integer((json_int_t)c.tips));
    json_object_set_new(o, "questions", json_integer((json_int_t)c.questions));
    json_object_set_new(o, "events", json_integer((json_int_t)c.events));
    json_object_set_new(o, "ratings", json_integer((json_int_t)c.ratings));
    json_object_set_new(o, "thanks", json_integer((json_int_t)c.thanks));
    json_object_set_new(o, "peers", json_integer((json_int_t)peers_daemon_linked(d)));
    json_object_set_new(o, "peers_known", json_integer((json_int_t)peers_daemon_known(d)));
    json_object_set_new(o, "network", json_string(d->net_id));
    json_object_set_new(o, "version", json_string(TIPD_VERSION));
    json_object_set_new(o, "uptime_s",
                        json_integer((json_int_t)((loop_now_ms() - d->started_ms) / 1000)));
    json_object_set_new(o, "data_dir", api_json_str(d->cfg.data));
    json_object_set_new(o, "api", api_json_str(d->cfg.api));
    json_object_set_new(o, "listen", api_json_str(d->cfg.listen));
    json_object_set_new(o, "port", json_integer(d->gossip ? gossip_port(d->gossip) : 0));
    json_object_set_new(o, "discovery", json_boolean(!d->cfg.no_discovery));
    json_object_set_new(o, "pending", json_integer((json_int_t)ingest_pending(d->ingest)));
    if (d->gossip) json_object_set_new(o, "gossip", gossip_stats_json(d->gossip));
    return api_reply(req, o);
}

/* ---- peers ---- */

static int s_op_peers(api_req_t *req, json_t *request, void *arg)
{
    (void)request;
    tipd_t *d = arg;
    json_t *r = json_object();
    json_object_set_new(r, "peers", d->peers ? peers_json(d->peers) : json_array());
    json_object_set_new(r, "discovery",
                        d->disc ? json_string(disc_running(d->disc) ? "running" : "waiting")
                                : json_string("off"));
    return api_reply(req, r);
}

int api_core_ops_register(tipd_t *d)
{
    static const struct {
        const char *name;
        api_op_fn fn;
    } ops[] = {
        {"submit", s_op_submit}, {"search", s_op_search}, {"get", s_op_get},
        {"list", s_op_list},     {"export", s_op_export}, {"status", s_op_status},
        {"peers", s_op_peers},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (api_register(d->api, ops[i].name, ops[i].fn, d) < 0) return -1;
    return 0;
}
