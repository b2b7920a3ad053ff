/* api_loop_ops.c -- the local API's operations that run on the loop
 * thread: submit (hands events to ingest and answers once they are
 * committed), status and peers (cheap reads of the daemon's own state and
 * the store's O(1) counters), and the registration of every op.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ops.h"
#include "api_render.h"
#include "daemon.h"
#include "disc.h"
#include "gossip.h"
#include "ingest.h"
#include "log.h"
#include "peers.h"

#define S_INGEST_HIGH       32768       /* stop reading API requests above this backlog */
#define S_INGEST_LOW        8192        /* ... and resume below this */
#define S_INGEST_HIGH_BYTES (16u << 20) /* the same in bytes of queued events */
#define S_INGEST_LOW_BYTES  (4u << 20)

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
        json_object_set_new(o, "error", api_json_str(store_strerror(r->reason)));
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

/* When the store could not write some of the events (their transaction
 * failed), the request is answered with an error that says what to do:
 * no_space for a full disk, internal otherwise; "results" still says what
 * became of each event (those marked new are stored, the failed ones are
 * rejected with the store's reason and may be sent again). */
static void s_submit_answer(s_submit_t *sc, const store_result_t *res, size_t n)
{
    size_t failed = 0;
    int why = 0;
    for (size_t i = 0; i < n; i++)
        if (res[i].status == STORE_REJECTED && store_is_failure(res[i].reason)) {
            failed++;
            if (!why || res[i].reason == STORE_E_DISKFULL) why = res[i].reason;
        }
    json_t *r = json_object();
    json_object_set(r, "results", sc->results);
    if (!failed) {
        api_reply(sc->req, r);
        return;
    }
    const char *dir = store_path(sc->d->store);
    if (why == STORE_E_DISKFULL)
        api_error_with(sc->req, CONTRACT_E_NO_SPACE, r,
                       "tipd's disk is full (data directory %s): %zu event(s) of this request were "
                       "not stored; free space on that disk, then send them again",
                       dir, failed);
    else
        api_error_with(sc->req, CONTRACT_E_INTERNAL, r,
                       "tipd could not write to its store in %s (%s; the daemon log says more): "
                       "%zu event(s) of this request were not stored; send them again later",
                       dir, store_strerror(why), failed);
}

static void s_submit_done(const store_result_t *res, size_t n, void *arg)
{
    s_submit_t *sc = arg;
    for (size_t i = 0; i < n; i++)
        json_array_set_new(sc->results, sc->slot[i], s_result(&res[i], !s_zero_id(res[i].id)));
    s_submit_answer(sc, res, n);
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
        if (blen > b64_encoded_len(EVENT_MAX_SIZE)) {
            bad.reason = EVENT_E_OVERSIZE;
            json_array_set_new(sc->results, i, s_result(&bad, 0));
            continue;
        }
        uint8_t *buf = malloc(blen / 4 * 3 + 3);
        if (!buf) goto nomem;
        long got = b64_decode(b64, blen, buf, blen / 4 * 3 + 3);
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

/* ---- status ---- */

static int s_op_status(api_req_t *req, json_t *rq, void *arg)
{
    (void)rq;
    tipd_t *d = arg;
    store_counts_t c;
    memset(&c, 0, sizeof(c));
    int rc = store_counts(d->store, &c);
    if (rc < 0) return api_error(req, CONTRACT_E_INTERNAL, "store: %s", store_strerror(rc));
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
    json_object_set_new(o, "requests", api_latency_json(d->api));
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

int api_loop_ops_register(tipd_t *d)
{
    static const struct {
        const char *name;
        api_op_fn fn;
    } ops[] = {
        {"submit", s_op_submit},
        {"status", s_op_status},
        {"peers", s_op_peers},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (api_register(d->api, ops[i].name, ops[i].fn, d) < 0) return -1;
    return 0;
}
