/* api.c -- the local API socket: framing, limits, dispatch, reply order.
 *
 * One ZeroMQ ROUTER bound at ipc://PATH. A request arrives as
 * [routing id][empty delimiter][JSON] from REQ and DEALER clients (a DEALER
 * that omits the delimiter is answered without one). The body is parsed
 * with jansson, checked for an object with a string "op", and handed to the
 * op registered under that name. Nothing a client sends can crash or stall
 * the daemon: oversized bodies get "too_large" (and bodies beyond
 * ZMQ_MAXMSGSIZE drop that client's connection inside ZeroMQ), parse errors
 * and wrong types get "bad_request", and replies go out with DONTWAIT on a
 * ROUTER without ROUTER_MANDATORY, so a client that never reads loses its
 * own replies once its high-water mark fills instead of blocking the loop.
 *
 * Every request read becomes an api_req_t in one in-flight list, in arrival
 * order. An answer is formatted when the op gives it, but only sent once all
 * earlier requests of the same client have been sent: pipelined clients get
 * their replies in order even though submits finish asynchronously. While too
 * many answers are owed, or while the ingest queue is full (api_pause), the
 * socket is simply not read; ZeroMQ's receive high-water mark then pushes
 * back on the clients.
 */
#include "api.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

#define S_MAX_RID    256 /* ZeroMQ routing ids are at most 255 bytes */
#define S_READ_BURST 256 /* requests read per wake-up, for fairness with peers */

typedef struct {
    char *name;
    api_op_fn fn;
    void *arg;
} s_op_t;

struct api_req {
    api_t *api;
    uint8_t rid[S_MAX_RID];
    size_t rid_len;
    int delim;
    json_t *tag;
    char *reply; /* formatted answer, once given */
    size_t reply_len;
    int done;
    int kept;
    int in_handler;
    api_req_t *prev, *next;
};

struct api {
    loop_t *loop;
    void *sock;
    loop_watch_t *watch;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    s_op_t *ops;
    size_t nops, capops;
    api_req_t *head, *tail;
    size_t inflight;
    int paused;
};

static void s_update_watch(api_t *a)
{
    int reading = !a->paused && a->inflight < API_MAX_INFLIGHT;
    loop_watch_set(a->watch, reading ? ZMQ_POLLIN : 0);
}

static void s_unlink_req(api_t *a, api_req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        a->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        a->tail = r->prev;
    a->inflight--;
}

static void s_free_req(api_req_t *r)
{
    json_decref(r->tag);
    free(r->reply);
    free(r);
}

static void s_send(api_t *a, api_req_t *r)
{
    int fl = ZMQ_DONTWAIT;
    if (zmq_send(a->sock, r->rid, r->rid_len, fl | ZMQ_SNDMORE) < 0) goto fail;
    if (r->delim && zmq_send(a->sock, "", 0, fl | ZMQ_SNDMORE) < 0) goto fail;
    if (zmq_send(a->sock, r->reply, r->reply_len, fl) < 0) goto fail;
    return;
fail:
    /* EAGAIN: the client stopped reading and its queue is full; EHOSTUNREACH
     * can't happen without ROUTER_MANDATORY. Either way the reply is lost to
     * that client alone. */
    log_msg(LOG_D, "api: reply dropped: %s", zmq_strerror(zmq_errno()));
}

/* Send every answered request of r's client that no earlier unanswered
 * request of the same client is holding back. */
static void s_flush_client(api_t *a, const uint8_t *rid, size_t rid_len)
{
    api_req_t *r = a->head;
    while (r) {
        api_req_t *nx = r->next;
        if (r->rid_len == rid_len && memcmp(r->rid, rid, rid_len) == 0) {
            if (!r->done || r->in_handler) break;
            s_send(a, r);
            s_unlink_req(a, r);
            s_free_req(r);
        }
        r = nx;
    }
    s_update_watch(a);
}

/* Format and record the answer; send it if nothing earlier holds it back. */
static int s_answer(api_req_t *r, json_t *body)
{
    api_t *a = r->api;
    if (r->done) { /* a handler answered twice: keep the first answer */
        json_decref(body);
        log_msg(LOG_E, "api: request answered twice (bug)");
        return -1;
    }
    if (r->tag) json_object_set(body, "tag", r->tag);
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int rc = 0;
    if (!s) {
        s = strdup("{\"ok\":false,\"error\":\"internal\",\"message\":\"reply could not be "
                   "encoded\"}");
        rc = -1;
        if (!s) return -1;
    }
    r->reply = s;
    r->reply_len = strlen(s);
    r->done = 1;
    if (!r->in_handler) {
        uint8_t rid[S_MAX_RID];
        size_t n = r->rid_len;
        memcpy(rid, r->rid, n);
        s_flush_client(a, rid, n);
    }
    return rc;
}

int api_reply(api_req_t *req, json_t *reply)
{
    json_t *o = json_object();
    if (!o) {
        json_decref(reply);
        return api_error(req, CONTRACT_E_INTERNAL, "out of memory");
    }
    json_object_set_new(o, "ok", json_true());
    if (reply && json_is_object(reply)) json_object_update(o, reply);
    json_decref(reply);
    return s_answer(req, o);
}

static int s_verror(api_req_t *req, const char *code, json_t *extra, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", code, "message", msg);
    if (o && extra && json_is_object(extra)) json_object_update(o, extra);
    json_decref(extra);
    if (!o) o = json_object();
    s_answer(req, o);
    return -1;
}

int api_error(api_req_t *req, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(req, code, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int api_error_with(api_req_t *req, const char *code, json_t *extra, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(req, code, extra, fmt, ap);
    va_end(ap);
    return -1;
}

void api_keep(api_req_t *req)
{
    req->kept = 1;
}

void api_pause(api_t *a, int paused)
{
    if (!a) return;
    a->paused = paused;
    s_update_watch(a);
}

size_t api_inflight(const api_t *a)
{
    return a ? a->inflight : 0;
}

int api_register(api_t *a, const char *op, api_op_fn fn, void *arg)
{
    for (size_t i = 0; i < a->nops; i++) {
        if (strcmp(a->ops[i].name, op) == 0) {
            a->ops[i].fn = fn;
            a->ops[i].arg = arg;
            return 0;
        }
    }
    if (a->nops == a->capops) {
        size_t cap = a->capops ? a->capops * 2 : 16;
        s_op_t *ops = realloc(a->ops, cap * sizeof(*ops));
        if (!ops) return -1;
        a->ops = ops;
        a->capops = cap;
    }
    char *name = strdup(op);
    if (!name) return -1;
    a->ops[a->nops++] = (s_op_t){name, fn, arg};
    return 0;
}

static const s_op_t *s_find_op(const api_t *a, const char *name)
{
    for (size_t i = 0; i < a->nops; i++)
        if (strcmp(a->ops[i].name, name) == 0) return &a->ops[i];
    return NULL;
}

/* Parse and run one request body. */
static void s_dispatch(api_t *a, api_req_t *r, const char *body, size_t len, int extra_frames)
{
    r->in_handler = 1;
    if (extra_frames) {
        api_error(r, CONTRACT_E_BAD_REQUEST, "a request is one JSON frame (got %d more)",
                  extra_frames);
        goto out;
    }
    if (len > CONTRACT_MAX_REQUEST) {
        api_error(r, CONTRACT_E_TOO_LARGE, "request is %zu bytes; the limit is %u", len,
                  CONTRACT_MAX_REQUEST);
        goto out;
    }
    json_error_t jerr;
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        api_error(r, CONTRACT_E_BAD_REQUEST, "not valid JSON: %s (at byte %d)", jerr.text,
                  jerr.position);
        goto out;
    }
    if (!json_is_object(req)) {
        json_decref(req);
        api_error(r, CONTRACT_E_BAD_REQUEST, "a request must be a JSON object");
        goto out;
    }
    json_t *tag = json_object_get(req, "tag");
    if (tag) r->tag = json_incref(tag);
    json_t *op = json_object_get(req, "op");
    if (!json_is_string(op)) {
        json_decref(req);
        api_error(r, CONTRACT_E_BAD_REQUEST, "field 'op' must be a string");
        goto out;
    }
    const s_op_t *o = s_find_op(a, json_string_value(op));
    if (!o) {
        api_error(r, CONTRACT_E_BAD_REQUEST, "unknown op '%.64s'", json_string_value(op));
        json_decref(req);
        goto out;
    }
    o->fn(r, req, o->arg);
    if (!r->done && !r->kept) {
        log_msg(LOG_E, "api: op '%s' returned without answering (bug)", o->name);
        api_error(r, CONTRACT_E_INTERNAL, "the op did not answer");
    }
    json_decref(req);
out:
    r->in_handler = 0;
    if (r->done) {
        uint8_t rid[S_MAX_RID]; /* r may be freed by the flush */
        size_t n = r->rid_len;
        memcpy(rid, r->rid, n);
        s_flush_client(a, rid, n);
    }
}

/* Read one multipart message; 0 if one was handled, -1 if none waiting. */
static int s_read_one(api_t *a)
{
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, a->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&part);
        return -1;
    }
    api_req_t *r = calloc(1, sizeof(*r));
    size_t idlen = zmq_msg_size(&part);
    if (r && idlen <= S_MAX_RID) {
        memcpy(r->rid, zmq_msg_data(&part), idlen);
        r->rid_len = idlen;
    }
    /* Remaining frames: [""] body, or body directly. Anything after the
     * body is counted and refused. */
    zmq_msg_t body;
    zmq_msg_init(&body);
    int have_body = 0, extra = 0, more = zmq_msg_more(&part);
    int first = 1;
    while (more) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, a->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f);
            break;
        }
        more = zmq_msg_more(&f);
        if (first && zmq_msg_size(&f) == 0 && r) {
            r->delim = 1;
        } else if (!have_body) {
            zmq_msg_move(&body, &f);
            have_body = 1;
        } else {
            extra++;
        }
        first = 0;
        zmq_msg_close(&f);
    }
    zmq_msg_close(&part);
    if (!r || idlen > S_MAX_RID) { /* cannot answer: drop */
        free(r);
        zmq_msg_close(&body);
        return 0;
    }
    r->api = a;
    r->prev = a->tail;
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
    a->inflight++;
    s_dispatch(a, r, have_body ? zmq_msg_data(&body) : "", have_body ? zmq_msg_size(&body) : 0,
               extra);
    zmq_msg_close(&body);
    return 0;
}

static void s_on_readable(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    api_t *a = arg;
    (void)l;
    (void)w;
    (void)revents;
    for (int i = 0; i < S_READ_BURST; i++) {
        if (a->paused || a->inflight >= API_MAX_INFLIGHT) break;
        if (s_read_one(a) < 0) break;
    }
    s_update_watch(a);
}

/* 1 if something accepts connections at path (another tipd), else 0. */
static int s_socket_live(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return live;
}

api_t *api_new(loop_t *loop, void *zctx, const char *path, char *err, size_t errlen)
{
    api_t *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->loop = loop;
    if (strlen(path) >= sizeof(a->path)) {
        snprintf(err, errlen, "API socket path '%s' is too long (at most %zu bytes)", path,
                 sizeof(a->path) - 1);
        goto fail;
    }
    snprintf(a->path, sizeof(a->path), "%s", path);
    char dir[sizeof(a->path)];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (path_mkdir_p(dir, 0755, NULL, 0) < 0) { /* others must reach it */
            snprintf(err, errlen, "cannot create the API socket directory %s: %s", dir,
                     strerror(errno));
            goto fail;
        }
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
            goto fail;
        }
        if (s_socket_live(path)) {
            snprintf(err, errlen, "another tipd is already answering on %s", path);
            goto fail;
        }
        unlink(path); /* stale socket of a daemon that did not exit cleanly */
    }
    a->sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!a->sock) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    int64_t maxmsg = CONTRACT_MAX_FRAME;
    int hwm = API_SNDHWM, sndtimeo = API_SNDTIMEO_MS, linger = 0, mandatory = 0;
    zmq_setsockopt(a->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(a->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(a->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo));
    zmq_setsockopt(a->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(a->sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof(mandatory));
    char ep[sizeof(a->path) + 8];
    snprintf(ep, sizeof(ep), "ipc://%s", path);
    if (zmq_bind(a->sock, ep) < 0) {
        snprintf(err, errlen, "cannot bind the API socket %s: %s", path, zmq_strerror(zmq_errno()));
        goto fail;
    }
    /* Any local user may connect: the daemon only stores events that carry a
     * valid signature, so the socket grants nothing a user could not sign
     * anyway (docs/API.md, "Who can connect"). */
    if (chmod(path, 0666) < 0) {
        snprintf(err, errlen, "chmod 0666 %s: %s", path, strerror(errno));
        goto fail;
    }
    a->watch = loop_watch_zsock(loop, a->sock, ZMQ_POLLIN, s_on_readable, a);
    if (!a->watch) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return a;
fail:
    api_destroy(&a);
    return NULL;
}

void api_destroy(api_t **p)
{
    if (!p || !*p) return;
    api_t *a = *p;
    for (api_req_t *r = a->head, *n; r; r = n) {
        n = r->next;
        s_free_req(r);
    }
    if (a->watch) loop_watch_free(a->loop, a->watch);
    if (a->sock) {
        /* Let replies already queued (acknowledgements sent by the final
         * flush) reach their clients, but never hang shutdown on a client
         * that does not read. */
        int linger = API_CLOSE_LINGER_MS;
        zmq_setsockopt(a->sock, ZMQ_LINGER, &linger, sizeof(linger));
        zmq_close(a->sock);
        if (a->path[0]) unlink(a->path);
    }
    for (size_t i = 0; i < a->nops; i++) free(a->ops[i].name);
    free(a->ops);
    free(a);
    *p = NULL;
}

/* ---- field helpers ---- */

int api_get_str(api_req_t *req, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v))
        return api_error(req, CONTRACT_E_BAD_REQUEST, "field '%s' must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int api_get_int(api_req_t *req, json_t *o, const char *key, long long min, long long max,
                long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v))
        return api_error(req, CONTRACT_E_BAD_REQUEST, "field '%s' must be an integer", key);
    long long x = json_integer_value(v);
    if (x < min || x > max)
        return api_error(req, CONTRACT_E_BAD_REQUEST, "field '%s' must be from %lld to %lld", key,
                         min, max);
    *out = x;
    return 0;
}

int api_get_bool(api_req_t *req, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v))
        return api_error(req, CONTRACT_E_BAD_REQUEST, "field '%s' must be a boolean", key);
    *out = json_is_true(v);
    return 0;
}
