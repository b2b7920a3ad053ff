/* ingest.c -- group commit of incoming events, with verification on worker
 * threads.
 *
 * Ed25519 verification is what bounds ingest (~11k verifies/s/core), so it
 * runs off the loop thread: ingest_submit() copies the events into items and
 * hands them to the verify queue; worker threads decode, check the time and
 * verify them and put them on the done queue, waking the loop through an
 * eventfd. The loop thread alone talks to LMDB: it gathers verified items into
 * the open batch and commits it with store_ingest(STORE_INGEST_VERIFIED)
 * INGEST_DELAY_MS after the first of them arrived (at once when it holds
 * INGEST_BATCH). Whatever the workers verify during a commit makes the next
 * batch, so batches grow with the load by themselves (group commit) while a
 * lone event is on disk within milliseconds. Committing does not wait for a
 * batch to fill: with a client that keeps N events in flight, waiting for N
 * would serialise verify and commit; committing what is ready lets the
 * workers verify the next events while the loop commits the previous ones,
 * and the loop keeps answering requests in between -- the CLI signing, the
 * workers verifying and the loop committing keep both cores busy.
 *
 * A submission's callback runs once all its events are committed (or
 * rejected), which is what makes "acknowledged" mean "on disk". Items of one
 * submission may be committed in different batches; order inside the store
 * does not matter (the store is order-independent), only that nothing is
 * acknowledged early.
 *
 * Locking: one mutex guards the two queues and the busy count; workers wait
 * on a condition variable for work, ingest_flush() waits on another for the
 * workers to go idle. Everything else belongs to the loop thread.
 */
#include "ingest.h"

#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_MAX_WORKERS 8
#define S_CHUNK       32 /* items a worker takes per lock round trip */
#define S_MAX_LISTEN  4
/* After a commit of at least S_TRIM_MIN events, once ingest has been quiet for
 * S_TRIM_IDLE_MS, the store gives back what the big write transactions left
 * allocated (store_release_memory: ~30 MiB of LMDB page buffers after a
 * 1024-event batch; docs/PERFORMANCE.md, Memory). Small gossip batches leave
 * little and do not trigger it. */
#define S_TRIM_MIN     64
#define S_TRIM_IDLE_MS 5000
/* Every S_UPKEEP_MS the loop hands free heap pages back (malloc_trim). The
 * released transaction memory leaves holes in a heap that cannot shrink past
 * long-lived blocks above them; searches then touch those holes with short
 * allocations, and glibc only returns the top of the heap by itself: without
 * this, 300 searches after an import add ~8 MiB of resident free memory. A
 * trim of a 35 MiB heap costs well under a millisecond. */
#define S_UPKEEP_MS 30000

typedef struct s_sub {
    ingest_done_fn fn;
    void *arg;
    size_t n, remaining;
    store_result_t *results;
} s_sub_t;

typedef struct s_item {
    s_sub_t *sub;
    size_t idx;
    uint8_t *raw;
    size_t len;
    int ok; /* 1 verified, 0 rejected (result filled) */
    struct s_item *next;
} s_item_t;

/* Singly linked FIFO. */
typedef struct {
    s_item_t *head, *tail;
    size_t n;
} s_queue_t;

struct ingest {
    loop_t *loop;
    store_t *store;
    int efd;
    loop_watch_t *watch;
    loop_timer_t *timer;
    loop_timer_t *trim;   /* store_release_memory once ingest is quiet */
    int failing;          /* the last commit failed (s_note_commit) */
    loop_timer_t *upkeep; /* periodic malloc_trim */
    struct {
        ingest_new_fn fn;
        void *arg;
    } listen[S_MAX_LISTEN];

    pthread_mutex_t mu;
    pthread_cond_t work; /* workers: the verify queue got items, or stop */
    pthread_cond_t idle; /* flush: a worker finished a chunk */
    s_queue_t vq;        /* to verify (mu) */
    s_queue_t dq;        /* verified or rejected, to commit (mu) */
    size_t busy;         /* items being verified right now (mu) */
    int stop;            /* (mu) */
    pthread_t threads[S_MAX_WORKERS];
    int nthreads;

    s_queue_t batch;      /* loop thread: the open batch */
    size_t pending;       /* loop thread: submitted, not yet reported */
    size_t pending_bytes; /* loop thread: raw bytes those hold */
    int committing;       /* loop thread: inside s_commit (no re-entry) */
    int armed;            /* loop thread: the commit timer is running */
};

static void s_push(s_queue_t *q, s_item_t *it)
{
    it->next = NULL;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
}

/* Move all of src to the end of dst. */
static void s_splice(s_queue_t *dst, s_queue_t *src)
{
    if (!src->head) return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->n += src->n;
    src->head = src->tail = NULL;
    src->n = 0;
}

/* CPU time of the calling thread in microseconds (commit logging). */
static uint64_t s_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Decode, time-check and verify one item; on failure fill its result. */
static void s_verify(s_item_t *it, event_t *ev)
{
    store_result_t *r = &it->sub->results[it->idx];
    int rc = event_decode(it->raw, it->len, ev);
    if (rc == 0) {
        memcpy(r->id, ev->id, EVENT_ID_LEN);
        rc = event_check_time(ev, event_now_ms());
    }
    if (rc == 0) rc = event_verify(ev);
    if (rc == 0) {
        it->ok = 1;
        return;
    }
    it->ok = 0;
    r->status = STORE_REJECTED;
    r->reason = rc;
}

static void *s_worker(void *arg)
{
    ingest_t *g = arg;
    event_t *ev = malloc(sizeof(*ev));
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->vq.head && !g->stop) pthread_cond_wait(&g->work, &g->mu);
        if (!g->vq.head && g->stop) break;
        s_queue_t mine = {0};
        while (g->vq.head && mine.n < S_CHUNK) {
            s_item_t *it = g->vq.head;
            g->vq.head = it->next;
            if (!g->vq.head) g->vq.tail = NULL;
            g->vq.n--;
            s_push(&mine, it);
        }
        g->busy += mine.n;
        pthread_mutex_unlock(&g->mu);
        for (s_item_t *it = mine.head; it; it = it->next) {
            if (ev) {
                s_verify(it, ev);
            } else { /* no memory for a scratch event: refuse, don't crash */
                it->ok = 0;
                it->sub->results[it->idx].status = STORE_REJECTED;
                it->sub->results[it->idx].reason = STORE_E_NOMEM;
            }
        }
        pthread_mutex_lock(&g->mu);
        g->busy -= mine.n;
        s_splice(&g->dq, &mine);
        pthread_cond_broadcast(&g->idle);
        pthread_mutex_unlock(&g->mu);
        uint64_t one = 1;
        ssize_t w = write(g->efd, &one, sizeof(one));
        (void)w; /* eventfd counter can't overflow at our rates; EAGAIN is harmless */
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    free(ev);
    return NULL;
}

/* Report an item's result to its submission; free the item. Calls the
 * submission's callback (and frees it) when it was the last one. */
static void s_finish(ingest_t *g, s_item_t *it)
{
    s_sub_t *sub = it->sub;
    if (it->raw) g->pending_bytes -= it->len;
    free(it->raw);
    free(it);
    g->pending--;
    if (--sub->remaining == 0) {
        if (sub->fn) sub->fn(sub->results, sub->n, sub->arg);
        free(sub->results);
        free(sub);
    }
}

/* Commit up to INGEST_BATCH items of the open batch in one transaction, then
 * report. Rejected items (from verification) ride along without touching
 * LMDB. */
static void s_note_commit(ingest_t *g, int rc, size_t n);

static void s_commit_some(ingest_t *g)
{
    s_queue_t take = {0};
    while (g->batch.head && take.n < INGEST_BATCH) {
        s_item_t *it = g->batch.head;
        g->batch.head = it->next;
        if (!g->batch.head) g->batch.tail = NULL;
        g->batch.n--;
        s_push(&take, it);
    }
    size_t n = 0;
    for (s_item_t *it = take.head; it; it = it->next) n += it->ok;
    const uint8_t **evs = NULL;
    size_t *lens = NULL;
    store_result_t *out = NULL;
    s_item_t **who = NULL;
    if (n) {
        evs = malloc(n * sizeof(*evs));
        lens = malloc(n * sizeof(*lens));
        out = calloc(n, sizeof(*out));
        who = malloc(n * sizeof(*who));
    }
    int rc = STORE_E_NOMEM;
    if (n && evs && lens && out && who) {
        size_t i = 0;
        for (s_item_t *it = take.head; it; it = it->next) {
            if (!it->ok) continue;
            evs[i] = it->raw;
            lens[i] = it->len;
            who[i++] = it;
        }
        uint64_t t0 = loop_now_ms(), c0 = s_cpu_us();
        rc = store_ingest(g->store, evs, lens, n, event_now_ms(), STORE_INGEST_VERIFIED, out);
        if (log_enabled(LOG_D))
            log_msg(LOG_D, "ingest: committed %zu event(s) in %llu ms (%llu ms cpu), rc %d", n,
                    (unsigned long long)(loop_now_ms() - t0),
                    (unsigned long long)((s_cpu_us() - c0) / 1000), rc);
        if (rc == 0 && n >= S_TRIM_MIN) loop_timer_reset(g->loop, g->trim, S_TRIM_IDLE_MS);
        s_note_commit(g, rc, n);
        for (i = 0; i < n; i++) {
            store_result_t *r = &who[i]->sub->results[who[i]->idx];
            if (rc == 0) {
                *r = out[i];
            } else {
                r->status = STORE_REJECTED;
                r->reason = rc;
            }
        }
    } else if (n) {
        for (s_item_t *it = take.head; it; it = it->next) {
            if (!it->ok) continue;
            it->sub->results[it->idx].status = STORE_REJECTED;
            it->sub->results[it->idx].reason = rc;
        }
    }
    /* Listeners first (gossip announces), while raw bytes are alive; then the
     * acknowledgements. */
    size_t nnew = 0;
    if (rc == 0 && who) {
        for (size_t i = 0; i < n; i++) {
            if (out[i].status != STORE_NEW) continue;
            evs[nnew] = who[i]->raw;
            lens[nnew] = who[i]->len;
            out[nnew++] = out[i];
        }
    }
    if (nnew) {
        for (int k = 0; k < S_MAX_LISTEN; k++)
            if (g->listen[k].fn) g->listen[k].fn(evs, lens, out, nnew, g->listen[k].arg);
    }
    free(evs);
    free(lens);
    free(out);
    free(who);
    for (s_item_t *it = take.head, *nx; it; it = nx) {
        nx = it->next;
        s_finish(g, it);
    }
}

/* Say at error level when commits start failing (with LMDB's words and the
 * data directory: a full disk shows as "No space left on device"), once per
 * run of failures, and say when writing works again. Nothing of a failed
 * batch was stored: its submitters are told so and may resend. */
static void s_note_commit(ingest_t *g, int rc, size_t n)
{
    if (rc && !g->failing)
        log_msg(LOG_E, "store: cannot write %zu event(s) to %s: %s (%s)%s", n, store_path(g->store),
                store_strerror(rc), store_last_error(g->store),
                rc == STORE_E_DISKFULL ? "; free space on that disk, writing resumes by itself"
                                       : "");
    else if (!rc && g->failing)
        log_msg(LOG_I, "store: writing to %s works again", store_path(g->store));
    g->failing = rc != 0;
}

/* Pull verified items from the workers into the open batch. */
static void s_collect(ingest_t *g)
{
    uint64_t cnt;
    ssize_t r = read(g->efd, &cnt, sizeof(cnt));
    (void)r;
    pthread_mutex_lock(&g->mu);
    s_splice(&g->batch, &g->dq);
    pthread_mutex_unlock(&g->mu);
}

static void s_arm(ingest_t *g, uint64_t ms)
{
    loop_timer_reset(g->loop, g->timer, ms);
    g->armed = 1;
}

/* Commit everything verified so far, INGEST_BATCH events per transaction.
 * What the workers verify meanwhile waits for the next round: that is the
 * group commit -- the slower the commit, the larger the next batch. */
static void s_commit(ingest_t *g)
{
    if (g->committing) return;
    g->committing = 1;
    s_collect(g);
    while (g->batch.n) s_commit_some(g);
    g->committing = 0;
}

static void s_on_efd(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    ingest_t *g = arg;
    (void)l;
    (void)w;
    (void)revents;
    s_collect(g);
    if (g->batch.n >= INGEST_BATCH)
        s_commit(g);
    else if (g->batch.n && !g->armed)
        /* A moment for the rest of a burst (and for requests already
         * waiting on the loop) before committing; not pushed back by later
         * arrivals, so no event waits longer than INGEST_DELAY_MS plus one
         * commit. */
        s_arm(g, INGEST_DELAY_MS);
}

static void s_on_timer(loop_t *l, loop_timer_t *t, void *arg)
{
    ingest_t *g = arg;
    (void)l;
    (void)t;
    g->armed = 0;
    s_commit(g);
}

/* Ingest went quiet after big batches: release the store's leftover memory,
 * unless events are queued again (then try again later). */
static void s_on_trim(loop_t *l, loop_timer_t *t, void *arg)
{
    ingest_t *g = arg;
    (void)t;
    if (g->pending || g->committing) {
        loop_timer_reset(l, g->trim, S_TRIM_IDLE_MS);
        return;
    }
    int rc = store_release_memory(g->store);
    if (rc == STORE_E_BUSY) { /* a reader thread holds a view: later */
        loop_timer_reset(l, g->trim, S_TRIM_IDLE_MS);
        return;
    }
    if (rc) { /* the store refuses calls until a reopen works: keep trying */
        log_msg(LOG_E, "store: reopening the database to release memory failed: %s (%s)",
                store_strerror(rc), store_last_error(g->store));
        loop_timer_reset(l, g->trim, S_TRIM_IDLE_MS);
    } else
        log_msg(LOG_D, "ingest: idle, released the store's transaction memory");
}

/* Periodic: give free heap pages back to the system (see S_UPKEEP_MS). */
static void s_on_upkeep(loop_t *l, loop_timer_t *t, void *arg)
{
    (void)l;
    (void)t;
    (void)arg;
#ifdef __GLIBC__
    uint64_t c0 = s_cpu_us();
    int freed = malloc_trim(0);
    if (log_enabled(LOG_D))
        log_msg(LOG_D, "memory: malloc_trim %s, %llu us", freed ? "gave pages back" : "no-op",
                (unsigned long long)(s_cpu_us() - c0));
#endif
}

static int s_nthreads(void)
{
    const char *e = getenv("TIPD_VERIFY_THREADS");
    long n = e ? strtol(e, NULL, 10) : 0;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        /* One per core: the loop thread (commits) and a local CLI (signing)
         * are not busy all the time, and an idle worker costs nothing.
         * Measured on 2 cores: 2 workers import ~20-80% faster than 1
         * (bench/import.sh; docs/PERFORMANCE.md). */
        n = cpus > 1 ? cpus : 1;
    }
    if (n > S_MAX_WORKERS) n = S_MAX_WORKERS;
    return (int)n;
}

ingest_t *ingest_new(loop_t *loop, store_t *store)
{
    ingest_t *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    g->loop = loop;
    g->store = store;
    g->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->work, NULL);
    pthread_cond_init(&g->idle, NULL);
    if (g->efd < 0) goto fail;
    g->watch = loop_watch_fd(loop, g->efd, ZMQ_POLLIN, s_on_efd, g);
    g->timer = loop_timer_add(loop, 0, 0, s_on_timer, g);
    g->trim = loop_timer_add(loop, 0, 0, s_on_trim, g);
    g->upkeep = loop_timer_add(loop, S_UPKEEP_MS, S_UPKEEP_MS, s_on_upkeep, g);
    if (!g->watch || !g->timer || !g->trim || !g->upkeep) goto fail;
    loop_timer_disarm(loop, g->timer);
    loop_timer_disarm(loop, g->trim);
    int want = s_nthreads();
    for (int i = 0; i < want; i++) {
        if (pthread_create(&g->threads[i], NULL, s_worker, g) != 0) break;
        g->nthreads++;
    }
    if (g->nthreads == 0) goto fail;
    return g;
fail:
    ingest_destroy(&g);
    return NULL;
}

void ingest_destroy(ingest_t **p)
{
    if (!p || !*p) return;
    ingest_t *g = *p;
    if (g->nthreads) ingest_flush(g);
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_broadcast(&g->work);
    pthread_mutex_unlock(&g->mu);
    for (int i = 0; i < g->nthreads; i++) pthread_join(g->threads[i], NULL);
    if (g->watch) loop_watch_free(g->loop, g->watch);
    if (g->timer) loop_timer_free(g->loop, g->timer);
    if (g->trim) loop_timer_free(g->loop, g->trim);
    if (g->upkeep) loop_timer_free(g->loop, g->upkeep);
    if (g->efd >= 0) close(g->efd);
    pthread_cond_destroy(&g->work);
    pthread_cond_destroy(&g->idle);
    pthread_mutex_destroy(&g->mu);
    free(g);
    *p = NULL;
}

void ingest_on_new(ingest_t *g, ingest_new_fn fn, void *arg)
{
    for (int k = 0; k < S_MAX_LISTEN; k++) {
        if (!g->listen[k].fn) {
            g->listen[k].fn = fn;
            g->listen[k].arg = arg;
            return;
        }
    }
}

/* Added by gossip (which unsubscribes when destroyed before ingest). */
void ingest_off_new(ingest_t *g, ingest_new_fn fn, void *arg)
{
    for (int k = 0; k < S_MAX_LISTEN; k++) {
        if (g->listen[k].fn == fn && g->listen[k].arg == arg) {
            g->listen[k].fn = NULL;
            g->listen[k].arg = NULL;
        }
    }
}

int ingest_submit(ingest_t *g, const uint8_t *const *events, const size_t *lens, size_t n,
                  ingest_done_fn fn, void *arg)
{
    if (n == 0) {
        if (fn) fn(NULL, 0, arg);
        return 0;
    }
    s_sub_t *sub = calloc(1, sizeof(*sub));
    s_item_t **items = calloc(n, sizeof(*items));
    if (!sub || !items) goto nomem;
    sub->results = calloc(n, sizeof(*sub->results));
    if (!sub->results) goto nomem;
    sub->fn = fn;
    sub->arg = arg;
    sub->n = sub->remaining = n;
    for (size_t i = 0; i < n; i++) {
        items[i] = calloc(1, sizeof(**items));
        if (!items[i]) goto nomem;
        items[i]->sub = sub;
        items[i]->idx = i;
        items[i]->len = lens[i];
        /* Oversized events are refused here without copying them. */
        if (lens[i] > EVENT_MAX_SIZE || lens[i] == 0) continue;
        items[i]->raw = malloc(lens[i]);
        if (!items[i]->raw) goto nomem;
        memcpy(items[i]->raw, events[i], lens[i]);
    }
    s_queue_t pre = {0}, bad = {0};
    for (size_t i = 0; i < n; i++) {
        if (items[i]->raw) {
            g->pending_bytes += items[i]->len;
            s_push(&pre, items[i]);
        } else {
            sub->results[i].status = STORE_REJECTED;
            sub->results[i].reason = lens[i] ? EVENT_E_OVERSIZE : EVENT_E_TRUNCATED;
            s_push(&bad, items[i]);
        }
    }
    free(items);
    g->pending += n;
    pthread_mutex_lock(&g->mu);
    s_splice(&g->vq, &pre);
    s_splice(&g->dq, &bad); /* results known: straight to the commit side */
    pthread_cond_broadcast(&g->work);
    pthread_mutex_unlock(&g->mu);
    if (bad.n) {
        uint64_t one = 1;
        ssize_t w = write(g->efd, &one, sizeof(one));
        (void)w;
    }
    return 0;
nomem:
    if (items) {
        for (size_t i = 0; i < n; i++) {
            if (items[i]) free(items[i]->raw);
            free(items[i]);
        }
    }
    free(items);
    if (sub) free(sub->results);
    free(sub);
    errno = ENOMEM;
    return -1;
}

int ingest_flush(ingest_t *g)
{
    if (!g) return 0;
    /* Wait until the workers have verified everything queued. */
    pthread_mutex_lock(&g->mu);
    while (g->vq.head || g->busy) pthread_cond_wait(&g->idle, &g->mu);
    pthread_mutex_unlock(&g->mu);
    s_commit(g);
    while (g->batch.n) s_commit_some(g); /* in case we were called re-entrantly */
    return 0;
}

size_t ingest_pending(const ingest_t *g)
{
    return g ? g->pending : 0;
}

size_t ingest_pending_bytes(const ingest_t *g)
{
    return g ? g->pending_bytes : 0;
}
