/* ingest.h -- group commit of incoming events (from the API and from peers).
 *
 * Callers on the loop thread hand over signed events; worker threads decode
 * and verify them, and one writer thread commits them to the store in
 * batches: when INGEST_BATCH events are ready, or INGEST_DELAY_MS after the
 * first of a burst, whichever comes first; while the workers are still
 * verifying more (a bulk import, a peer's backlog) the writer waits for
 * them up to INGEST_FILL_MS, since a bigger transaction costs less per
 * event. The loop thread never waits for a commit. Each submission's callback runs on the loop
 * thread after the transaction holding its events has committed, so "acknowledged" always means "on
 * disk". New events are then reported to the on_new listeners (gossip announces them to peers),
 * also on the loop thread.
 *
 * The writer thread is the store's one writer (store.h, Threads): other
 * writes to the store go through ingest_call.
 */
#ifndef TIPD_INGEST_H
#define TIPD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "loop.h"
#include "store.h"

/* events per transaction at most: half of what a bulk sender has in flight */
#define INGEST_BATCH    (CONTRACT_SUBMIT_INFLIGHT / 2 * CONTRACT_SUBMIT_MAX)
#define INGEST_DELAY_MS 2   /* max wait for more events before committing */
#define INGEST_FILL_MS  100 /* max wait for events the workers are verifying */
/* committed events the loop reports (listeners, then acknowledgements) per
 * turn at most, ~7 ms of its time: requests are served between turns */
#define INGEST_REPORT_SLICE 1024

typedef struct ingest ingest_t;

/* results[i] reports on the i-th event of the submission. */
typedef void (*ingest_done_fn)(const store_result_t *results, size_t n, void *arg);
/* Newly stored events, after commit (raw bytes are valid during the call). */
typedef void (*ingest_new_fn)(const uint8_t *const *events, const size_t *lens,
                              const store_result_t *results, size_t n, void *arg);
/* A write run on the writer thread (ingest_call); it owns arg. */
typedef void (*ingest_call_fn)(store_t *store, void *arg);

ingest_t *ingest_new(loop_t *loop, store_t *store);
/* Commits what is queued, then frees; idempotent. */
void ingest_destroy(ingest_t **p);
/* The daemon is up: from now on the idle writer may map the store's
 * resident pages ahead of readers (store_map_warm). Until then it does
 * not, so that the warm neither competes with start-up nor logs after a
 * start-up that failed. */
void ingest_ready(ingest_t *ing);

/* Add a listener for newly stored events (up to 4: gossip, social caches). */
void ingest_on_new(ingest_t *ing, ingest_new_fn fn, void *arg);
/* Remove a listener added with ingest_on_new (same fn and arg); no-op if
 * absent. (Added by gossip: it unsubscribes in gossip_destroy.) */
void ingest_off_new(ingest_t *ing, ingest_new_fn fn, void *arg);

/* Queue n events (copied). fn(arg) is called once with n results after
 * commit (or with rejections if nothing could be stored). 0 or -1 (ENOMEM). */
int ingest_submit(ingest_t *ing, const uint8_t *const *events, const size_t *lens, size_t n,
                  ingest_done_fn fn, void *arg);

/* Run fn(store, arg) on the writer thread, between two commits (in the
 * order of calls); for writes other than events, e.g. store_miss_record.
 * fn owns arg from then on. 0, or -1 (ENOMEM, fn not called). */
int ingest_call(ingest_t *ing, ingest_call_fn fn, void *arg);

/* Commit everything queued now and report it (SIGTERM path); returns when
 * every submission so far has had its callback. */
int ingest_flush(ingest_t *ing);

/* Events queued but not yet committed. */
size_t ingest_pending(const ingest_t *ing);
/* Bytes of event data held by those events (for memory-based backpressure). */
size_t ingest_pending_bytes(const ingest_t *ing);

#endif
