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
 *
 * Read ops (api_register_read) do not run on the loop: the loop parses and
 * validates the frame, then queues the request for a small pool of reader
 * threads. Each reader runs one request at a time inside its own store read
 * view (one LMDB read transaction), formats the answer there, and hands the
 * request back through an eventfd; the loop then sends it in order. A
 * reader takes the oldest queued request whose client has fewer than
 * API_CLIENT_READS requests running and, for a heavy op, while fewer than
 * API_HEAVY_READS heavy ones run: a client that pipelines waits behind its
 * own requests, and a slow request of one client never holds up another's
 * (nor gossip or ingest, which stay on the loop). While a request is with
 * the readers the loop touches nothing of it but the on_reader flag, which
 * only the loop writes.
 */
#include "api.h"
#include "api_latency.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

#define S_MAX_RID    256 /* ZeroMQ routing ids are at most 255 bytes */
#define S_READ_BURST 256 /* requests read per wake-up, for fairness with peers */

typedef struct {
    char *name;
    api_op_fn fn;
    void *arg;
    int read;      /* runs on a reader thread in a read view */
    int heavy;     /* API_READ_HEAVY */
    api_lat_t *in; /* [0] read to sent, [1] the op running until it answered */
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
    /* A read op's request: queued for or running on a reader. */
    int on_reader;      /* written by the loop only */
    const s_op_t *op;   /* the op to run */
    json_t *request;    /* its parsed body, owned until it has run */
    store_rtxn_t *view; /* set while it runs */
    api_after_fn after; /* api_after: runs on the loop once it has run */
    void *after_arg;
    api_req_t *qnext; /* job queue / done queue */
    /* A parked request (its client owes API_CLIENT_OWED answers): its body,
     * dispatched once the client's earlier requests are answered. */
    uint8_t *pbody;
    size_t plen;
    int pextra;
    /* monotonic µs: read off the socket, handed to its op, answered */
    uint64_t t_in, t_run, t_done;
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
    api_req_t *phead, *ptail; /* parked requests, in arrival order */
    size_t nparked, parked_bytes;
    int unparking;
    /* reader pool (api_readers_start) */
    api_views_t views; /* how a read op gets its read view */
    pthread_t threads[API_READERS_MAX];
    int nthreads;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    int pool_init, stopping;
    api_req_t *qhead, *qtail;            /* waiting for a reader */
    api_req_t *running[API_READERS_MAX]; /* one slot per reader */
    int heavy_running;
    api_req_t *dhead, *dtail; /* run, waiting for the loop */
    int efd;
    loop_watch_t *done_watch;
    /* test builds only: TIPD_TEST_READ_DELAY="op:ms" slows that op */
    char delay_op[32];
    unsigned delay_ms;
};

static uint64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int s_reading(const api_t *a)
{
    return !a->paused && a->inflight < API_MAX_INFLIGHT && a->nparked < API_PARKED_MAX &&
           a->parked_bytes < API_PARKED_BYTES;
}

static void s_update_watch(api_t *a)
{
    loop_watch_set(a->watch, s_reading(a) ? ZMQ_POLLIN : 0);
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
    free(r->pbody);
    json_decref(r->request);
    json_decref(r->tag);
    free(r->reply);
    free(r);
}

/* Count r's times under its op (requests no op took are not counted). */
static void s_account(const api_req_t *r)
{
    if (!r->op || !r->op->in) return;
    uint64_t now = s_now_us();
    api_lat_add(&r->op->in[0], now - r->t_in);
    api_lat_add(&r->op->in[1], r->t_done > r->t_run ? r->t_done - r->t_run : 0);
}

static void s_send(api_t *a, api_req_t *r)
{
    s_account(r);
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

static void s_unpark(api_t *a, const uint8_t *rid, size_t rid_len);
static int s_must_park(const api_t *a, const api_req_t *r);
static void s_enter(api_t *a, api_req_t *r);

/* Send every answered request of r's client that no earlier unanswered
 * request of the same client is holding back. */
static void s_flush_client(api_t *a, const uint8_t *rid, size_t rid_len)
{
    api_req_t *r = a->head;
    while (r) {
        api_req_t *nx = r->next;
        if (r->rid_len == rid_len && memcmp(r->rid, rid, rid_len) == 0) {
            if (r->on_reader || !r->done || r->in_handler) break;
            s_send(a, r);
            s_unlink_req(a, r);
            s_free_req(r);
        }
        r = nx;
    }
    s_unpark(a, rid, rid_len);
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
    r->t_done = s_now_us();
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

store_rtxn_t *api_view(api_req_t *req)
{
    return req->view;
}

void api_after(api_req_t *req, api_after_fn fn, void *arg)
{
    req->after = fn;
    req->after_arg = arg;
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

static int s_register(api_t *a, const char *op, api_op_fn fn, void *arg, int read, int heavy)
{
    for (size_t i = 0; i < a->nops; i++) {
        if (strcmp(a->ops[i].name, op) == 0) {
            a->ops[i].fn = fn;
            a->ops[i].arg = arg;
            a->ops[i].read = read;
            a->ops[i].heavy = heavy;
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
    api_lat_t *in = calloc(2, sizeof(*in));
    if (!name || !in) {
        free(name);
        free(in);
        return -1;
    }
    a->ops[a->nops++] = (s_op_t){name, fn, arg, read, heavy, in};
    return 0;
}

int api_register(api_t *a, const char *op, api_op_fn fn, void *arg)
{
    return s_register(a, op, fn, arg, 0, 0);
}

int api_register_read(api_t *a, const char *op, api_op_fn fn, void *arg, int flags)
{
    return s_register(a, op, fn, arg, 1, (flags & API_READ_HEAVY) != 0);
}

json_t *api_latency_json(const api_t *a)
{
    json_t *o = json_object();
    if (!o) return NULL;
    for (size_t i = 0; i < a->nops; i++) {
        const s_op_t *op = &a->ops[i];
        if (!op->in[0].n) continue;
        json_t *one = json_object();
        if (!one) break;
        json_object_set_new(one, "in_daemon", api_lat_json(&op->in[0]));
        json_object_set_new(one, "running", api_lat_json(&op->in[1]));
        json_object_set_new(o, op->name, one);
    }
    return o;
}

static const s_op_t *s_find_op(const api_t *a, const char *name)
{
    for (size_t i = 0; i < a->nops; i++)
        if (strcmp(a->ops[i].name, name) == 0) return &a->ops[i];
    return NULL;
}

/* ---- reader threads ---- */

/* Run a read op in a fresh read view (reader thread, or the loop when no
 * reader pool runs). Answers internal if no view can be had. */
static void s_run_read_view(api_t *a, api_req_t *r, json_t *req)
{
    for (int attempt = 0;; attempt++) {
        char why[256] = "no store";
        /* a pass over a large store stops at shutdown instead of holding it */
        r->view =
            a->views.begin ? a->views.begin(a->views.ctx, &a->stopping, why, sizeof(why)) : NULL;
        if (!r->view) {
            api_error(r, CONTRACT_E_INTERNAL, "cannot read the store: %s", why);
            return;
        }
#ifdef TIPD_TEST_HOOKS
        if (attempt == 0 && a->delay_ms && strcmp(a->delay_op, r->op->name) == 0) {
            struct timespec ts = {a->delay_ms / 1000, (long)(a->delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
#endif
        r->op->fn(r, req, r->op->arg);
        if (r->kept && !r->done) /* read ops answer before returning */
            api_error(r, CONTRACT_E_INTERNAL, "the op did not answer");
        /* A walk stopped early so that the loop could resize the map: the
         * answer is incomplete; read again in a new view. */
        int again = a->views.stopped(r->view) && attempt < 3 && !r->after;
        a->views.end(&r->view);
        if (!again) return;
        free(r->reply);
        r->reply = NULL;
        r->reply_len = 0;
        r->done = 0;
    }
}

/* Queue r for the readers; -1 if no pool runs (the caller runs it). */
static int s_queue_read(api_t *a, api_req_t *r)
{
    if (!a->nthreads) return -1;
    r->on_reader = 1;
    pthread_mutex_lock(&a->mu);
    r->qnext = NULL;
    if (a->qtail)
        a->qtail->qnext = r;
    else
        a->qhead = r;
    a->qtail = r;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

static int s_same_client(const api_req_t *x, const api_req_t *y)
{
    return x->rid_len == y->rid_len && memcmp(x->rid, y->rid, x->rid_len) == 0;
}

/* (a->mu held) The oldest queued request a reader may start now, unlinked
 * from the queue; NULL if none. */
static api_req_t *s_pick(api_t *a)
{
    api_req_t *prev = NULL;
    for (api_req_t *r = a->qhead; r; prev = r, r = r->qnext) {
        if (r->op->heavy && a->heavy_running >= API_HEAVY_READS) continue;
        int mine = 0;
        for (int i = 0; i < a->nthreads; i++)
            if (a->running[i] && s_same_client(a->running[i], r)) mine++;
        if (mine >= API_CLIENT_READS) continue;
        if (prev)
            prev->qnext = r->qnext;
        else
            a->qhead = r->qnext;
        if (a->qtail == r) a->qtail = prev;
        r->qnext = NULL;
        return r;
    }
    return NULL;
}

typedef struct {
    api_t *a;
    int slot;
} s_reader_t;

static void *s_reader_main(void *arg)
{
    api_t *a = ((s_reader_t *)arg)->a;
    int slot = ((s_reader_t *)arg)->slot;
    free(arg);
    pthread_mutex_lock(&a->mu);
    for (;;) {
        api_req_t *r = a->stopping ? NULL : s_pick(a);
        if (!r) {
            if (a->stopping) break;
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        a->running[slot] = r;
        a->heavy_running += r->op->heavy;
        pthread_mutex_unlock(&a->mu);

        r->t_run = s_now_us(); /* the wait for a reader is not the op's */
        s_run_read_view(a, r, r->request);

        pthread_mutex_lock(&a->mu);
        a->running[slot] = NULL;
        a->heavy_running -= r->op->heavy;
        r->qnext = NULL;
        if (a->dtail)
            a->dtail->qnext = r;
        else
            a->dhead = r;
        a->dtail = r;
        uint64_t one = 1;
        if (write(a->efd, &one, sizeof(one)) < 0) { /* the counter cannot overflow here */
        }
        /* a client or heavy slot came free: another reader may start one */
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Loop: requests the readers finished. Send their answers in order. */
static void s_on_done(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    api_t *a = arg;
    (void)l;
    (void)w;
    (void)revents;
    uint64_t n;
    if (read(a->efd, &n, sizeof(n)) < 0) { /* EAGAIN: nothing new */
    }
    pthread_mutex_lock(&a->mu);
    api_req_t *r = a->dhead;
    a->dhead = a->dtail = NULL;
    pthread_mutex_unlock(&a->mu);
    while (r) {
        api_req_t *nx = r->qnext;
        r->qnext = NULL;
        r->on_reader = 0;
        json_decref(r->request);
        r->request = NULL;
        if (!r->done) {
            log_msg(LOG_E, "api: op '%s' returned without answering (bug)", r->op->name);
            api_error(r, CONTRACT_E_INTERNAL, "the op did not answer");
        }
        if (r->after) {
            r->after(r->after_arg);
            r->after = NULL;
        }
        r->in_handler = 0;
        uint8_t rid[S_MAX_RID]; /* r may be freed by the flush */
        size_t rl = r->rid_len;
        memcpy(rid, r->rid, rl);
        s_flush_client(a, rid, rl);
        r = nx;
    }
}

int api_readers_start(api_t *a, const api_views_t *views, int n, char *err, size_t errlen)
{
    if (n < 0) n = 0;
    if (n > API_READERS_MAX) n = API_READERS_MAX;
    a->views = *views;
    if (n == 0) return 0;
    a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    a->done_watch = loop_watch_fd(a->loop, a->efd, ZMQ_POLLIN, s_on_done, a);
    if (!a->done_watch) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        s_reader_t *ra = malloc(sizeof(*ra));
        if (!ra) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *ra = (s_reader_t){a, i};
        int rc = pthread_create(&a->threads[i], NULL, s_reader_main, ra);
        if (rc) {
            free(ra);
            snprintf(err, errlen, "cannot start a reader thread: %s", strerror(rc));
            return -1;
        }
        a->nthreads++;
    }
    return 0;
}

static void s_readers_stop(api_t *a)
{
    if (!a->pool_init) return;
    pthread_mutex_lock(&a->mu);
    __atomic_store_n(&a->stopping, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nthreads; i++) pthread_join(a->threads[i], NULL);
    a->nthreads = 0;
    if (a->done_watch) loop_watch_free(a->loop, a->done_watch);
    a->done_watch = NULL;
    if (a->efd >= 0) close(a->efd);
    a->efd = -1;
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    a->pool_init = 0;
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
    r->op = o;
    r->t_run = s_now_us();
    if (o->read) {
        r->request = req;
        if (s_queue_read(a, r) == 0) return; /* the loop hears back in s_on_done */
        r->request = NULL;
        s_run_read_view(a, r, req);
    } else {
        o->fn(r, req, o->arg);
    }
    if (!r->done && !r->kept) {
        log_msg(LOG_E, "api: op '%s' returned without answering (bug)", o->name);
        api_error(r, CONTRACT_E_INTERNAL, "the op did not answer");
    }
    json_decref(req);
    if (r->after) {
        r->after(r->after_arg);
        r->after = NULL;
    }
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
    r->t_in = s_now_us();
    const void *data = have_body ? zmq_msg_data(&body) : "";
    size_t len = have_body ? zmq_msg_size(&body) : 0;
    if (s_must_park(a, r) && (r->pbody = malloc(len ? len : 1))) {
        memcpy(r->pbody, data, len);
        r->plen = len;
        r->pextra = extra;
        r->next = NULL;
        r->prev = a->ptail;
        if (a->ptail)
            a->ptail->next = r;
        else
            a->phead = r;
        a->ptail = r;
        a->nparked++;
        a->parked_bytes += len + sizeof(*r);
    } else {
        s_enter(a, r);
        s_dispatch(a, r, data, len, extra);
    }
    zmq_msg_close(&body);
    return 0;
}

/* ---- per-client bound: requests beyond API_CLIENT_OWED wait, parked ---- */

static size_t s_owed(const api_t *a, const uint8_t *rid, size_t rid_len)
{
    size_t n = 0;
    for (const api_req_t *r = a->head; r; r = r->next)
        n += r->rid_len == rid_len && memcmp(r->rid, rid, rid_len) == 0;
    return n;
}

static api_req_t *s_first_parked(const api_t *a, const uint8_t *rid, size_t rid_len)
{
    for (api_req_t *r = a->phead; r; r = r->next)
        if (r->rid_len == rid_len && memcmp(r->rid, rid, rid_len) == 0) return r;
    return NULL;
}

/* r's client already owes API_CLIENT_OWED answers, or has requests parked
 * (which must stay ahead of this one). */
static int s_must_park(const api_t *a, const api_req_t *r)
{
    return s_first_parked(a, r->rid, r->rid_len) ||
           s_owed(a, r->rid, r->rid_len) >= API_CLIENT_OWED;
}

/* Make r one of the answers owed, after every earlier one. */
static void s_enter(api_t *a, api_req_t *r)
{
    r->next = NULL;
    r->prev = a->tail;
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
    a->inflight++;
}

/* Dispatch the client's parked requests, oldest first, while it owes fewer
 * than API_CLIENT_OWED answers. Not re-entered from the dispatches it makes
 * (their own flushes come back here). */
static void s_unpark(api_t *a, const uint8_t *rid, size_t rid_len)
{
    if (a->unparking || !a->phead) return;
    a->unparking = 1;
    api_req_t *r;
    while (s_owed(a, rid, rid_len) < API_CLIENT_OWED && (r = s_first_parked(a, rid, rid_len))) {
        if (r->prev)
            r->prev->next = r->next;
        else
            a->phead = r->next;
        if (r->next)
            r->next->prev = r->prev;
        else
            a->ptail = r->prev;
        a->nparked--;
        a->parked_bytes -= r->plen + sizeof(*r);
        uint8_t *body = r->pbody;
        size_t len = r->plen;
        int extra = r->pextra;
        r->pbody = NULL;
        s_enter(a, r);
        s_dispatch(a, r, (const char *)body, len, extra); /* may answer and free r */
        free(body);
    }
    a->unparking = 0;
}

static void s_on_readable(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    api_t *a = arg;
    (void)l;
    (void)w;
    (void)revents;
    for (int i = 0; i < S_READ_BURST; i++) {
        if (!s_reading(a)) break;
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
    a->efd = -1;
    if (pthread_mutex_init(&a->mu, NULL) || pthread_cond_init(&a->cv, NULL)) {
        snprintf(err, errlen, "cannot set up the reader pool's lock");
        free(a);
        return NULL;
    }
    a->pool_init = 1;
#ifdef TIPD_TEST_HOOKS
    const char *dl = getenv("TIPD_TEST_READ_DELAY");
    if (dl && sscanf(dl, "%31[a-z_]:%u", a->delay_op, &a->delay_ms) != 2) a->delay_ms = 0;
#endif
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
    s_readers_stop(a); /* requests still queued are dropped with the rest */
    for (api_req_t *r = a->head, *n; r; r = n) {
        n = r->next;
        s_free_req(r);
    }
    for (api_req_t *r = a->phead, *n; r; r = n) {
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
    for (size_t i = 0; i < a->nops; i++) {
        free(a->ops[i].name);
        free(a->ops[i].in);
    }
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
