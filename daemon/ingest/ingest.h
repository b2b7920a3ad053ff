/* ingest.h -- group commit of incoming events (from the API and from peers).
 *
 * Callers hand over signed events; ingest queues them and commits them to the
 * store in batches: when the queue holds INGEST_BATCH events, or when the
 * loop has been idle for a moment (a short timer), whichever comes first. Each
 * submission's callback runs after the transaction holding its events has
 * committed, so "acknowledged" always means "on disk". New events are then
 * reported to the on_new listener (gossip announces them to peers).
 */
#ifndef TIPD_INGEST_H
#define TIPD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "store.h"

#define INGEST_BATCH    1024 /* events per transaction at most */
#define INGEST_DELAY_MS 2    /* max wait for more events before committing */

typedef struct ingest ingest_t;

/* results[i] reports on the i-th event of the submission. */
typedef void (*ingest_done_fn)(const store_result_t *results, size_t n, void *arg);
/* Newly stored events, after commit (raw bytes are valid during the call). */
typedef void (*ingest_new_fn)(const uint8_t *const *events, const size_t *lens,
                              const store_result_t *results, size_t n, void *arg);

ingest_t *ingest_new(loop_t *loop, store_t *store);
/* Commits what is queued, then frees; idempotent. */
void ingest_destroy(ingest_t **p);

/* Add a listener for newly stored events (up to 4: gossip, social caches). */
void ingest_on_new(ingest_t *ing, ingest_new_fn fn, void *arg);
/* Remove a listener added with ingest_on_new (same fn and arg); no-op if
 * absent. (Added by gossip: it unsubscribes in gossip_destroy.) */
void ingest_off_new(ingest_t *ing, ingest_new_fn fn, void *arg);

/* Queue n events (copied). fn(arg) is called once with n results after
 * commit (or with rejections if nothing could be stored). 0 or -1 (ENOMEM). */
int ingest_submit(ingest_t *ing, const uint8_t *const *events, const size_t *lens, size_t n,
                  ingest_done_fn fn, void *arg);

/* Commit everything queued now (SIGTERM path). */
int ingest_flush(ingest_t *ing);

/* Events queued but not yet committed. */
size_t ingest_pending(const ingest_t *ing);
/* Bytes of event data held by those events (for memory-based backpressure). */
size_t ingest_pending_bytes(const ingest_t *ing);

#endif
