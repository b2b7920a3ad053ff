/* ingest.c -- group commit of incoming events: verification on worker
 * threads, the commit on a writer thread, acknowledgements on the loop.
 *
 * Three kinds of thread share the work, so that the loop thread only moves
 * bytes and never waits for the disk:
 *
 *   loop     ingest_submit() copies the events into items and puts them on
 *            the verify queue; later it takes committed batches off the
 *            done queue (woken through an eventfd), tells the on_new
 *            listeners and acknowledges the submissions, a slice at a
 *            time so that requests are answered between slices.
 *   workers  decode, time-check, look the id up (an event already held is
 *            never verified again: a lookup costs far less than Ed25519)
 *            and verify, then put the items on the commit queue.
 *   writer   commits the commit queue with store_ingest(STORE_INGEST_
 *            VERIFIED), INGEST_BATCH events per transaction at most,
 *            INGEST_DELAY_MS after the first of a burst arrived (at once
 *            when a batch is full; while the workers still hold events,
 *            up to INGEST_FILL_MS later), and puts each committed batch on
 *            the done queue. It is the store's one writer (store.h): other
 *            writes reach it through ingest_call().
 *
 * Whatever the workers verify during a commit makes the next batch, so
 * batches grow with the load by themselves (group commit) while a lone
 * event is on disk within milliseconds; the workers verify the next events
 * while the writer commits the previous ones, and the loop keeps answering
 * requests and gossip throughout, however long a commit into a large store
 * takes. Under a steady flood (an import keeps CONTRACT_SUBMIT_INFLIGHT
 * submits outstanding) the writer also waits for what the workers are
 * still verifying, up to a full batch: a transaction's pages are shared by
 * its events (the tail of each author's, topic's and term's list, the
 * leaves of the tables keyed by id, the fsync), so at a million tips a
 * commit of 16384 events costs the store 31 % less time per event than
 * one of 4096, and on two cores the time the writer waits is time the
 * workers verify in.
 *
 * A submission's callback runs once all its events are committed (or
 * rejected), which is what makes "acknowledged" mean "on disk". Items of one
 * submission may be committed in different batches; order inside the store
 * does not matter (the store is order-independent), only that nothing is
 * acknowledged early. Replies to one client keep their order in the API
 * layer, which sends answers in request order.
 *
 * When ingest has been quiet a while after big batches, the writer gives
 * back what they left allocated (store_release_memory, waiting for readers
 * if it must: it is not the loop that waits). When ingest has nothing in
 * hand after a start, a reopen or a growth of the map, it enters the pages
 * the page cache holds in the new mapping (store_map_warm), so that readers
 * do not each take the page faults; any work that arrives stops it.
 *
 * Locking: one mutex guards the queues, the busy counts and the flags;
 * workers wait on `work`, the writer on `wake`, ingest_flush on `idle`.
 * The listeners and the pending counters belong to the loop thread.
 */
#include "ingest.h"

#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
/* Verify workers run this much nicer than the rest of tipd: verification is
 * bulk work that can wait a few milliseconds, the loop answers people and
 * peers, and the writer is what every acknowledgement waits for. On a busy
 * machine the scheduler then gives them the leftovers, not the loop's turn. */
#define S_WORKER_NICE 5

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
    int ok; /* 1 verified, 0 rejected or held already (result filled) */
    struct s_item *next;
} s_item_t;

/* Singly linked FIFO. */
typedef struct {
    s_item_t *head, *tail;
    size_t n;
} s_queue_t;

/* A committed batch on its way back to the loop: its items (results
 * filled) and the events it stored new, for the listeners. */
typedef struct s_done {
    s_queue_t items;
    const uint8_t **evs;
    size_t *lens;
    store_result_t *out;
    size_t nnew;
    size_t told; /* loop thread: new events the listeners have had */
    struct s_done *next;
} s_done_t;

/* A write queued for the writer thread (ingest_call). */
typedef struct s_call {
    ingest_call_fn fn;
    void *arg;
    struct s_call *next;
} s_call_t;

struct ingest {
    loop_t *loop;
    store_t *store;
    int efd;
    loop_watch_t *watch;
    loop_timer_t *upkeep; /* periodic malloc_trim */
    struct {
        ingest_new_fn fn;
        void *arg;
    } listen[S_MAX_LISTEN];

    pthread_mutex_t mu;
    pthread_cond_t work;          /* workers: the verify queue got items, or stop */
    pthread_cond_t wake;          /* writer: the commit queue or the calls got work, ready, stop */
    pthread_cond_t idle;          /* flush: a worker or the writer finished a round */
    s_queue_t vq;                 /* to verify (mu) */
    s_queue_t cq;                 /* verified or rejected, to commit (mu) */
    uint64_t cq_since;            /* when the oldest item of cq arrived, monotonic ms (mu) */
    s_call_t *calls, *calls_tail; /* ingest_call, in order (mu) */
    s_done_t *done, *done_tail;   /* committed, to report on the loop (mu) */
    s_done_t *report;             /* loop thread: taken off done, being reported */
    size_t busy;                  /* items being verified right now (mu) */
    int writing;                  /* the writer holds items or runs a call (mu) */
    int hurry;                    /* ingest_flush: commit without the delay (mu) */
    int stop;                     /* workers and writer: finish (mu) */
    int ready;                    /* the daemon is up: the warm may run (mu) */
    pthread_t threads[S_MAX_WORKERS];
    int nthreads;
    pthread_t writer;
    int has_writer;
    int failing;       /* writer thread: the last commit failed (s_note_commit) */
    unsigned delay_ms; /* test builds: TIPD_TEST_COMMIT_DELAY, a slow commit */

    size_t pending;       /* loop thread: submitted, not yet reported */
    size_t pending_bytes; /* loop thread: raw bytes those hold */
    int draining;         /* loop thread: inside s_drain (no re-entry) */
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

/* Monotonic milliseconds, as the condition variables' clock. */
static uint64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait on cv (mu held) until the monotonic time at_ms at the latest. */
static void s_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t at_ms)
{
    struct timespec ts = {(time_t)(at_ms / 1000), (long)(at_ms % 1000) * 1000000L};
    pthread_cond_timedwait(cv, mu, &ts);
}

/* CPU time of the calling thread in microseconds (commit logging). */
static uint64_t s_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void s_wake_loop(ingest_t *g)
{
    uint64_t one = 1;
    ssize_t w = write(g->efd, &one, sizeof(one));
    (void)w; /* eventfd counter can't overflow at our rates; EAGAIN is harmless */
}

/* ---- workers ---- */

/* Decode, time-check, look up (in view: the store or a read view of it)
 * and verify one item; unless it is to be stored, fill its result
 * (rejected, or STORE_DUP if already held). */
static void s_verify(store_t *view, s_item_t *it, event_t *ev)
{
    store_result_t *r = &it->sub->results[it->idx];
    int rc = event_decode(it->raw, it->len, ev);
    if (rc == 0) {
        memcpy(r->id, ev->id, EVENT_ID_LEN);
        rc = event_check_time(ev, event_now_ms());
    }
    if (rc == 0 && store_has(view, ev->id) == 1) {
        it->ok = 0;
        r->status = STORE_DUP;
        return;
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

/* Append items to the commit queue (mu held) and wake the writer when it
 * may have to act: the queue was empty (its delay starts), a batch is full,
 * or the workers hold nothing more (no reason left to wait for them). */
static void s_to_commit(ingest_t *g, s_queue_t *q)
{
    if (!q->head) return;
    int was_empty = !g->cq.head;
    if (was_empty) g->cq_since = s_mono_ms();
    s_splice(&g->cq, q);
    if (was_empty || g->cq.n >= INGEST_BATCH || (!g->vq.head && !g->busy))
        pthread_cond_signal(&g->wake);
}

static void *s_worker(void *arg)
{
    ingest_t *g = arg;
    pthread_setname_np(pthread_self(), "tipd-verify"); /* for top -H, perf, bench/large.py */
    /* Linux: a thread's nice value is its own (raising it needs no rights). */
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    if (errno == 0) setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_now + S_WORKER_NICE);
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
        /* One read view for the chunk's lookups instead of a read
         * transaction each (without one, each lookup opens its own). Ended
         * before waiting again: an open view holds off the writer's map
         * resize. */
        int verr;
        store_rtxn_t *view = store_rtxn_begin(g->store, &verr);
        for (s_item_t *it = mine.head; it; it = it->next) {
            if (ev) {
                s_verify(view ? view : g->store, it, ev);
            } else { /* no memory for a scratch event: refuse, don't crash */
                it->ok = 0;
                it->sub->results[it->idx].status = STORE_REJECTED;
                it->sub->results[it->idx].reason = STORE_E_NOMEM;
            }
        }
        store_rtxn_end(&view);
        pthread_mutex_lock(&g->mu);
        g->busy -= mine.n;
        s_to_commit(g, &mine);
        pthread_cond_broadcast(&g->idle);
    }
    pthread_mutex_unlock(&g->mu);
    free(ev);
    return NULL;
}

/* ---- the writer ---- */

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

/* Commit the verified items of d in one transaction, fill every item's
 * result and keep the events stored new in d for the listeners. Rejected
 * and already held items ride along without touching LMDB. Writer thread. */
static void s_commit_batch(ingest_t *g, s_done_t *d)
{
    size_t n = 0;
    for (s_item_t *it = d->items.head; it; it = it->next) n += it->ok;
    if (!n) return;
    s_item_t **who = malloc(n * sizeof(*who));
    d->evs = malloc(n * sizeof(*d->evs));
    d->lens = malloc(n * sizeof(*d->lens));
    d->out = calloc(n, sizeof(*d->out));
    int rc = STORE_E_NOMEM;
    if (who && d->evs && d->lens && d->out) {
        size_t i = 0;
        for (s_item_t *it = d->items.head; it; it = it->next) {
            if (!it->ok) continue;
            d->evs[i] = it->raw;
            d->lens[i] = it->len;
            who[i++] = it;
        }
#ifdef TIPD_TEST_HOOKS
        if (g->delay_ms) {
            struct timespec ts = {g->delay_ms / 1000, (long)(g->delay_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
#endif
        uint64_t t0 = s_mono_ms(), c0 = s_cpu_us();
        rc = store_ingest(g->store, d->evs, d->lens, n, event_now_ms(), STORE_INGEST_VERIFIED,
                          d->out);
        if (log_enabled(LOG_D))
            log_msg(LOG_D, "ingest: committed %zu event(s) in %llu ms (%llu ms cpu), rc %d", n,
                    (unsigned long long)(s_mono_ms() - t0),
                    (unsigned long long)((s_cpu_us() - c0) / 1000), rc);
        s_note_commit(g, rc, n);
        for (i = 0; i < n; i++) {
            store_result_t *r = &who[i]->sub->results[who[i]->idx];
            if (rc == 0) {
                *r = d->out[i];
            } else {
                r->status = STORE_REJECTED;
                r->reason = rc;
            }
        }
        /* Keep the new ones, in place, for the listeners. */
        if (rc == 0) {
            for (i = 0; i < n; i++) {
                if (d->out[i].status != STORE_NEW) continue;
                d->evs[d->nnew] = who[i]->raw;
                d->lens[d->nnew] = who[i]->len;
                d->out[d->nnew++] = d->out[i];
            }
        }
    } else {
        for (s_item_t *it = d->items.head; it; it = it->next) {
            if (!it->ok) continue;
            it->sub->results[it->idx].status = STORE_REJECTED;
            it->sub->results[it->idx].reason = rc;
        }
    }
    free(who);
}

/* Ingest went quiet after big batches: release the store's leftover memory.
 * Writer thread, no transaction open; waits for readers (views' long walks
 * stop and start again). 0, or -1 to try again later. */
static int s_release(ingest_t *g)
{
    int rc = store_release_memory(g->store, 1);
    if (rc) { /* the store refuses calls until a reopen works: keep trying */
        log_msg(LOG_E, "store: reopening the database to release memory failed: %s (%s)",
                store_strerror(rc), store_last_error(g->store));
        return -1;
    }
    log_msg(LOG_D, "ingest: idle, released the store's transaction memory");
    return 0;
}

/* Ingest has work in hand: events to verify or commit, or writes. Mutex
 * held. The map is warmed only without any, so that it never takes a core
 * from an import. */
static int s_busy(const ingest_t *g)
{
    return g->vq.head || g->busy || g->cq.head || g->calls || g->stop;
}

/* store_map_warm's stop: work arrived. Takes the mutex. */
static int s_warm_stop(void *arg)
{
    ingest_t *g = arg;
    pthread_mutex_lock(&g->mu);
    int stop = s_busy(g);
    pthread_mutex_unlock(&g->mu);
    return stop;
}

/* The writer's state of mapping the store's resident pages
 * (store_map_warm): due at start, after a reopen and after the map grew. */
typedef struct {
    int due;
    size_t from;     /* where the warm goes on */
    size_t map_size; /* the map's size it was due for: a growth moves the map */
} s_warm_t;

/* The store has a new mapping (opened, reopened or grown): none of it is
 * entered yet, so the warm is due again from the start. */
static void s_warm_anew(s_warm_t *w, store_t *s)
{
    w->due = 1;
    w->from = 0;
    w->map_size = store_map_size(s);
}

/* Idle writer: map the store's resident pages from w->from on, giving way
 * to any work that arrives; w->due stays set while there is more to map
 * (it stopped for work). Logged at info: it happens at start and once an
 * import is over. Mutex not held. */
static void s_warm(ingest_t *g, s_warm_t *w)
{
    size_t mapped = 0, huge = 0;
    uint64_t t0 = s_mono_ms();
    int rc = store_map_warm(g->store, &w->from, s_warm_stop, g, &mapped, &huge);
    w->due = rc == 1;
    if (rc < 0) /* only readers' first touches are at stake: not retried */
        log_msg(LOG_W,
                "store: the database's pages were not mapped ahead of readers (%s); searches take "
                "the page faults instead",
                store_last_error(g->store));
    else if (rc == 0)
        log_msg(LOG_I,
                "store: mapped the %.1f MiB of the database the page cache holds (%.1f MiB read "
                "again into 2 MiB pages), in %llu ms",
                (double)mapped / 1048576.0, (double)huge / 1048576.0,
                (unsigned long long)(s_mono_ms() - t0));
}

static void *s_writer(void *arg)
{
    ingest_t *g = arg;
    pthread_setname_np(pthread_self(), "tipd-writer");
    uint64_t trim_at = 0;   /* when to release memory; 0: nothing to release */
    uint64_t fill_till = 0; /* how long this batch may wait for the workers; 0: not waiting */
    /* The warm waits for a planned reopen, which would unmap its pages. */
    s_warm_t warm;
    s_warm_anew(&warm, g->store);
    pthread_mutex_lock(&g->mu);
    for (;;) {
        if (g->calls) { /* writes other than events, in order */
            s_call_t *c = g->calls;
            g->calls = c->next;
            if (!g->calls) g->calls_tail = NULL;
            g->writing = 1;
            pthread_mutex_unlock(&g->mu);
            c->fn(g->store, c->arg);
            free(c);
            pthread_mutex_lock(&g->mu);
            g->writing = 0;
            pthread_cond_broadcast(&g->idle);
            continue;
        }
        if (g->cq.head) {
            /* A moment for the rest of a burst, counted from its first
             * item; and while the workers hold events, time for them to
             * verify those too, counted from when the writer was ready: no
             * event waits longer than INGEST_FILL_MS after that plus one
             * commit. */
            uint64_t now = s_mono_ms(), due = g->cq_since + INGEST_DELAY_MS;
            if (g->vq.head || g->busy) {
                if (!fill_till) fill_till = now + INGEST_FILL_MS;
                if (fill_till > due) due = fill_till;
            }
            if (g->cq.n < INGEST_BATCH && !g->hurry && !g->stop && now < due) {
                s_wait_until(&g->wake, &g->mu, due);
                continue;
            }
            fill_till = 0;
            s_done_t *d = calloc(1, sizeof(*d));
            if (!d) { /* retry shortly; nothing is lost, nothing acknowledged */
                s_wait_until(&g->wake, &g->mu, s_mono_ms() + 10);
                continue;
            }
            while (g->cq.head && d->items.n < INGEST_BATCH) {
                s_item_t *it = g->cq.head;
                g->cq.head = it->next;
                if (!g->cq.head) g->cq.tail = NULL;
                g->cq.n--;
                s_push(&d->items, it);
            }
            g->writing = 1;
            pthread_mutex_unlock(&g->mu);
            s_commit_batch(g, d);
            if (d->nnew >= S_TRIM_MIN) trim_at = s_mono_ms() + S_TRIM_IDLE_MS;
            if (store_map_size(g->store) != warm.map_size) s_warm_anew(&warm, g->store);
            pthread_mutex_lock(&g->mu);
            if (g->done_tail)
                g->done_tail->next = d;
            else
                g->done = d;
            g->done_tail = d;
            g->writing = 0;
            pthread_cond_broadcast(&g->idle);
            s_wake_loop(g);
            continue;
        }
        if (g->stop) break;
        if (!trim_at && warm.due && g->ready && !s_busy(g)) {
            pthread_mutex_unlock(&g->mu);
            s_warm(g, &warm);
            pthread_mutex_lock(&g->mu);
            continue;
        }
        if (!trim_at) {
            pthread_cond_wait(&g->wake, &g->mu);
            continue;
        }
        if (s_mono_ms() < trim_at) {
            s_wait_until(&g->wake, &g->mu, trim_at);
            continue;
        }
        g->writing = 1;
        pthread_mutex_unlock(&g->mu);
        trim_at = s_release(g) == 0 ? 0 : s_mono_ms() + S_TRIM_IDLE_MS;
        if (!trim_at) s_warm_anew(&warm, g->store);
        pthread_mutex_lock(&g->mu);
        g->writing = 0;
        pthread_cond_broadcast(&g->idle);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* ---- the loop: reports ---- */

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

/* Free a reported batch (its items are finished already). */
static void s_done_free(s_done_t *d)
{
    free(d->evs);
    free(d->lens);
    free(d->out);
    free(d);
}

/* Report up to `budget` events of the committed batches, oldest first:
 * each batch's new events to the listeners (gossip announces them) while
 * their raw bytes are alive, then its items to their submissions. Returns 1
 * when more is left. Loop thread; a callback that calls back into ingest
 * does not re-enter. */
static int s_report(ingest_t *g, size_t budget)
{
    while (budget) {
        if (!g->report) {
            pthread_mutex_lock(&g->mu);
            g->report = g->done;
            g->done = g->done_tail = NULL;
            pthread_mutex_unlock(&g->mu);
            if (!g->report) return 0;
        }
        s_done_t *d = g->report;
        if (d->told < d->nnew) {
            size_t m = d->nnew - d->told < budget ? d->nnew - d->told : budget;
            for (int k = 0; k < S_MAX_LISTEN; k++)
                if (g->listen[k].fn)
                    g->listen[k].fn(d->evs + d->told, d->lens + d->told, d->out + d->told, m,
                                    g->listen[k].arg);
            d->told += m;
            budget -= m;
            continue;
        }
        while (d->items.head && budget) {
            s_item_t *it = d->items.head;
            d->items.head = it->next;
            s_finish(g, it);
            budget--;
        }
        if (d->items.head) break;
        g->report = d->next;
        s_done_free(d);
    }
    return 1;
}

/* Report what the writer committed. A commit of a bulk import holds
 * thousands of events, and reporting them costs the loop ~7 us each, so
 * the loop reports INGEST_REPORT_SLICE at a time and comes back through the
 * eventfd: requests and gossip that arrived meanwhile are served between
 * slices. `all` reports everything now (flush and shutdown). */
static void s_drain(ingest_t *g, int all)
{
    if (g->draining) return;
    g->draining = 1;
    uint64_t cnt;
    ssize_t r = read(g->efd, &cnt, sizeof(cnt));
    (void)r;
    if (s_report(g, all ? SIZE_MAX : INGEST_REPORT_SLICE) && !all) s_wake_loop(g);
    g->draining = 0;
}

static void s_on_efd(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    (void)l;
    (void)w;
    (void)revents;
    s_drain(arg, 0);
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
        /* One per core: the writer (mostly waiting for the disk) and a
         * local CLI (signing) are not busy all the time, and an idle worker
         * costs nothing. Measured on 2 cores: 2 workers import ~20-80%
         * faster than 1 (bench/import.sh; docs/PERFORMANCE.md). */
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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the writer's timed waits */
    pthread_cond_init(&g->work, NULL);
    pthread_cond_init(&g->wake, &ca);
    pthread_cond_init(&g->idle, NULL);
    pthread_condattr_destroy(&ca);
#ifdef TIPD_TEST_HOOKS
    const char *dl = getenv("TIPD_TEST_COMMIT_DELAY");
    if (dl) g->delay_ms = (unsigned)strtoul(dl, NULL, 10);
#endif
    if (g->efd < 0) goto fail;
    g->watch = loop_watch_fd(loop, g->efd, ZMQ_POLLIN, s_on_efd, g);
    g->upkeep = loop_timer_add(loop, S_UPKEEP_MS, S_UPKEEP_MS, s_on_upkeep, g);
    if (!g->watch || !g->upkeep) goto fail;
    if (pthread_create(&g->writer, NULL, s_writer, g) != 0) goto fail;
    g->has_writer = 1;
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
    if (g->nthreads && g->has_writer) ingest_flush(g);
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_broadcast(&g->work);
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->mu);
    for (int i = 0; i < g->nthreads; i++) pthread_join(g->threads[i], NULL);
    if (g->has_writer) pthread_join(g->writer, NULL);
    s_drain(g, 1);     /* nothing is left after a flush; a failed start has nothing */
    while (g->calls) { /* only if the writer never started */
        s_call_t *c = g->calls;
        g->calls = c->next;
        c->fn(g->store, c->arg);
        free(c);
    }
    if (g->watch) loop_watch_free(g->loop, g->watch);
    if (g->upkeep) loop_timer_free(g->loop, g->upkeep);
    if (g->efd >= 0) close(g->efd);
    pthread_cond_destroy(&g->work);
    pthread_cond_destroy(&g->wake);
    pthread_cond_destroy(&g->idle);
    pthread_mutex_destroy(&g->mu);
    free(g);
    *p = NULL;
}

void ingest_ready(ingest_t *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->ready = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
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
    s_to_commit(g, &bad); /* results known: straight to the commit side */
    pthread_cond_broadcast(&g->work);
    pthread_mutex_unlock(&g->mu);
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

int ingest_call(ingest_t *g, ingest_call_fn fn, void *arg)
{
    s_call_t *c = calloc(1, sizeof(*c));
    if (!c) {
        errno = ENOMEM;
        return -1;
    }
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&g->mu);
    if (g->calls_tail)
        g->calls_tail->next = c;
    else
        g->calls = c;
    g->calls_tail = c;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

int ingest_flush(ingest_t *g)
{
    if (!g) return 0;
    /* Wait until everything queued is verified, committed and handed back,
     * then report it here on the loop. */
    pthread_mutex_lock(&g->mu);
    g->hurry = 1;
    pthread_cond_broadcast(&g->wake);
    while (g->vq.head || g->busy || g->cq.head || g->calls || g->writing)
        pthread_cond_wait(&g->idle, &g->mu);
    g->hurry = 0;
    pthread_mutex_unlock(&g->mu);
    s_drain(g, 1);
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
