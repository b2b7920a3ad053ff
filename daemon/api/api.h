/* api.h -- tipd's local API: JSON requests over a ZeroMQ ROUTER on ipc://.
 *
 * The API module owns the socket, frames, limits, reply ordering and the
 * reader threads; the operations themselves are registered by name
 * (api_read_ops.c: the reads, run on reader threads; api_loop_ops.c:
 * submit, status and peers, run on the loop). Adding an op is one call:
 *
 *     static int s_op_peers(api_req_t *req, json_t *request, void *arg)
 *     {
 *         json_t *r = json_object();
 *         json_object_set_new(r, "peers", gossip_peers_json(arg));
 *         return api_reply(req, r);
 *     }
 *     ...
 *     api_register(d->api, "peers", s_op_peers, d->gossip);
 *
 * A handler either answers before it returns (api_reply / api_error) or keeps
 * req and answers later from another callback (submit answers after the
 * commit). Every request gets exactly one answer: if a handler returns without
 * answering and without calling api_keep(), the API answers "internal" for it.
 * Replies to one client go out in the order its requests came in, even when a
 * later request is answered first (reads run on several threads at once).
 *
 * Wire format and every op: docs/API.md.
 */
#ifndef TIPD_API_H
#define TIPD_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "contract.h"
#include "event.h"
#include "loop.h"
#include "store.h"

/* Limits both sides rely on (request size, rows per page, ...) are in
 * core/contract.h; these are the daemon's own. */
#define API_SNDHWM          1000 /* replies queued per client before dropping */
#define API_SNDTIMEO_MS     100
#define API_CLOSE_LINGER_MS 500         /* replies still queued get this long at shutdown */
#define API_MAX_INFLIGHT    1024        /* stop reading while this many answers are owed */
#define API_READERS_MAX     8           /* reader threads at most */
#define API_READERS         3           /* reader threads tipd starts */
#define API_CLIENT_READS    2           /* read requests of one client running at once */
#define API_HEAVY_READS     1           /* heavy read requests (stats, export) running at once */
#define API_CLIENT_OWED     64          /* answers one client may be owed; later requests wait */
#define API_PARKED_MAX      4096        /* requests waiting that way, all clients ... */
#define API_PARKED_BYTES    (64u << 20) /* ... and their bytes: beyond, stop reading */

typedef struct api api_t;
typedef struct api_req api_req_t;

/* Handle one request. request is the parsed object (borrowed: valid until the
 * handler returns; json_incref it to keep it). Return value is ignored except
 * for logging; the answer is what matters. */
typedef int (*api_op_fn)(api_req_t *req, json_t *request, void *arg);

/* Bind a ROUTER at ipc://path (creating the parent directory if missing,
 * removing a stale socket file, chmod 0666 after binding). NULL on failure
 * with a sentence in err. */
api_t *api_new(loop_t *loop, void *zctx, const char *path, char *err, size_t errlen);
/* Close the socket (replies already sent get API_CLOSE_LINGER_MS to leave),
 * drop answers still owed, unlink the socket file; idempotent. Call it only
 * after every asynchronous handler has answered or been torn down (tipd:
 * after ingest_flush), since their api_req_t pointers die here. */
void api_destroy(api_t **p);

/* Register op (copied). Replaces an earlier handler of the same name.
 * 0, or -1 on ENOMEM. The handler runs on the loop thread. */
int api_register(api_t *a, const char *op, api_op_fn fn, void *arg);

/* Register a read op: its handler runs on a reader thread inside a read
 * view of the store (api_view), and must answer before it returns. It may
 * use only the view, the request and what it computes (arg must be safe to
 * read from any thread); anything for the loop goes through api_after. */
#define API_READ_HEAVY 1 /* may scan the store: at most API_HEAVY_READS at once */
int api_register_read(api_t *a, const char *op, api_op_fn fn, void *arg, int flags);

/* How a read op gets its read view: begin one (with *cancel as its stop
 * flag, store_rtxn_cancel_on) or say why not in err; end it; ask whether a
 * walk in it was cut short by a map resize (the op then runs again in a new
 * view, store_rtxn_stopped). The API knows
 * the store only through these (api_read_ops.c provides them). */
typedef struct {
    store_rtxn_t *(*begin)(void *ctx, const int *cancel, char *err, size_t errlen);
    void (*end)(store_rtxn_t **view);
    /* 1 if a walk in view stopped early for a map resize: read again */
    int (*stopped)(const store_rtxn_t *view);
    void *ctx;
} api_views_t;

/* Start n (<= API_READERS_MAX) reader threads whose requests read through
 * views. With none started, read ops run on the loop thread in a view. Call
 * once, after api_new; api_destroy stops them. 0, or -1 with a sentence in
 * err. */
int api_readers_start(api_t *a, const api_views_t *views, int n, char *err, size_t errlen);

/* The read view a read op's handler runs in (NULL in any other handler). */
store_rtxn_t *api_view(api_req_t *req);

/* Run fn(arg) on the loop thread once req's handler has returned (a read
 * op's way to ask for a write, e.g. recording a search miss). One per
 * request; fn owns arg. */
typedef void (*api_after_fn)(void *arg);
void api_after(api_req_t *req, api_after_fn fn, void *arg);

/* Answer req with reply (reference stolen; may be NULL for an empty success).
 * Adds "ok": true and echoes the request's "tag". req is gone afterwards.
 * 0 or -1 (the reply could not be encoded; an "internal" error went instead). */
int api_reply(api_req_t *req, json_t *reply);
/* Answer req with {"ok": false, "error": code, "message": ...}. code is one of
 * the docs/API.md error codes. req is gone afterwards. Returns -1 so handlers
 * can `return api_error(...)`. */
int api_error(api_req_t *req, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with extra fields merged into the error object (stolen). */
int api_error_with(api_req_t *req, const char *code, json_t *extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Mark req as answered later (asynchronous handler). */
void api_keep(api_req_t *req);

/* Stop / resume reading requests (backpressure: ingest queue full). */
void api_pause(api_t *a, int paused);
/* Answers owed right now (requests read and not yet answered). */
size_t api_inflight(const api_t *a);
/* How long answers took since start, per op that answered at least once:
 * {"search": {"in_daemon": {...}, "running": {...}}, ...}, each the fields of
 * api_lat_json (api_latency.h). "in_daemon" runs from the request read off
 * the socket to its answer handed to ZeroMQ (waits for a reader, for the
 * client's earlier answers and for a commit included); "running" is the op
 * alone. Loop thread only. NULL on ENOMEM. */
json_t *api_latency_json(const api_t *a);

/* ---- helpers for handlers ---- */

/* Typed field readers. Each returns 0 and sets *out when the field is absent
 * (leaving the default) or of the right type, and -1 after answering req with
 * bad_request when it has the wrong type or is out of [min, max]. */
int api_get_str(api_req_t *req, json_t *o, const char *key, const char **out);
int api_get_int(api_req_t *req, json_t *o, const char *key, long long min, long long max,
                long long *out);
int api_get_bool(api_req_t *req, json_t *o, const char *key, int *out);

#endif
