/* loop.h -- the daemon's single event loop: one zmq_poll over ZeroMQ sockets
 * and plain file descriptors, plus millisecond timers.
 *
 * Everything in tipd that waits (the API socket, peer sockets, Avahi's D-Bus
 * descriptor, signalfd, timers) registers here, so the daemon's state
 * belongs to this one thread and needs no locks; the helper threads (verify,
 * the store's writer, API readers) hand their results back through an
 * eventfd watched here. Watches and timers may be added or removed from
 * inside any callback, including the one being dispatched.
 */
#ifndef TIPD_LOOP_H
#define TIPD_LOOP_H

#include <stdint.h>

typedef struct loop loop_t;
typedef struct loop_watch loop_watch_t;
typedef struct loop_timer loop_timer_t;

/* revents uses ZMQ_POLLIN / ZMQ_POLLOUT / ZMQ_POLLERR. */
typedef void (*loop_io_fn)(loop_t *l, loop_watch_t *w, short revents, void *arg);
typedef void (*loop_timer_fn)(loop_t *l, loop_timer_t *t, void *arg);

loop_t *loop_new(void);
/* Frees all watches and timers (without calling them); idempotent. */
void loop_destroy(loop_t **p);

/* Watch a ZeroMQ socket or a file descriptor for events. NULL on ENOMEM. */
loop_watch_t *loop_watch_zsock(loop_t *l, void *zsock, short events, loop_io_fn fn, void *arg);
loop_watch_t *loop_watch_fd(loop_t *l, int fd, short events, loop_io_fn fn, void *arg);
void loop_watch_set(loop_watch_t *w, short events);
short loop_watch_events(const loop_watch_t *w);
int loop_watch_fd_of(const loop_watch_t *w);
/* Remove (safe inside callbacks); idempotent on NULL. */
void loop_watch_free(loop_t *l, loop_watch_t *w);

/* One-shot timer after delay_ms; if interval_ms > 0 it repeats. */
loop_timer_t *loop_timer_add(loop_t *l, uint64_t delay_ms, uint64_t interval_ms, loop_timer_fn fn,
                             void *arg);
/* Re-arm an existing timer to fire delay_ms from now. */
void loop_timer_reset(loop_t *l, loop_timer_t *t, uint64_t delay_ms);
/* Make the timer fire within delay_ms: re-arm it only if it is disarmed or
 * due later than that. */
void loop_timer_due(loop_t *l, loop_timer_t *t, uint64_t delay_ms);
/* Disarm without freeing (reset re-arms). */
void loop_timer_disarm(loop_t *l, loop_timer_t *t);
void loop_timer_free(loop_t *l, loop_timer_t *t);

/* Run until loop_stop(); returns 0, or -1 if zmq_poll fails for a reason other
 * than EINTR. */
int loop_run(loop_t *l);
/* Run one iteration waiting at most max_wait_ms (-1 = until something). */
int loop_once(loop_t *l, int max_wait_ms);
void loop_stop(loop_t *l);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t loop_now_ms(void);

#endif
