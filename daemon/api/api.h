/* api.h -- tipd's local API: JSON requests over a ZeroMQ ROUTER on ipc://.
 *
 * The API module owns the socket, frames, limits and reply ordering; the
 * operations themselves are registered by name from the files that implement
 * them (api_ops.c for the core ops and `peers`, api_social.c for questions,
 * stats, today and misses). Adding an op is one call:
 *
 *     static int s_op_peers(api_req_t *req, json_t *request, void *arg)
 *     {
 *         tipd_t *d = arg;
 *         json_t *r = json_object();
 *         json_object_set_new(r, "peers", peers_json(d->peers));
 *         return api_reply(req, r);
 *     }
 *     ...
 *     api_register(d->api, "peers", s_op_peers, d);
 *
 * A handler either answers before it returns (api_reply / api_error) or keeps
 * req and answers later from another callback (submit answers after the
 * commit). Every request gets exactly one answer: if a handler returns without
 * answering and without calling api_keep(), the API answers "internal" for it.
 * Replies to one client go out in the order its requests came in, even when a
 * later request is answered first.
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
#define API_CLOSE_LINGER_MS 500  /* replies still queued get this long at shutdown */
#define API_MAX_INFLIGHT    1024 /* stop reading while this many answers are owed */

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
 * 0, or -1 on ENOMEM. */
int api_register(api_t *a, const char *op, api_op_fn fn, void *arg);

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

/* ---- helpers for handlers ---- */

/* Typed field readers. Each returns 0 and sets *out when the field is absent
 * (leaving the default) or of the right type, and -1 after answering req with
 * bad_request when it has the wrong type or is out of [min, max]. */
int api_get_str(api_req_t *req, json_t *o, const char *key, const char **out);
int api_get_int(api_req_t *req, json_t *o, const char *key, long long min, long long max,
                long long *out);
int api_get_bool(api_req_t *req, json_t *o, const char *key, int *out);

/* JSON values as every op renders them: lower-case hex of n bytes, an RFC
 * 3339 UTC time with milliseconds, a string from the store ("" for NULL or
 * for text jansson refuses: never NULL unless out of memory), and the reason
 * for a store or event error code. */
json_t *api_json_hex(const uint8_t *b, size_t n);
json_t *api_json_time(uint64_t ms);
json_t *api_json_str(const char *s);
const char *api_reason(int code);

/* The tip object of docs/API.md for a stored event, with derived state
 * (rating, thanks, answers, author name/team) read from the store. Never NULL
 * unless out of memory. */
json_t *api_tip_json(store_t *s, const event_t *ev);
/* Parse a hex id prefix or full id into a unique stored id, answering req with
 * bad_request / not_found / ambiguous (with candidates) when it can't.
 * 0 or -1 (answered). */
int api_resolve_id(api_req_t *req, store_t *s, const char *prefix, uint8_t id[EVENT_ID_LEN]);


#endif
