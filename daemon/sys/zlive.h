/* zlive.h -- is ZeroMQ's I/O thread still moving messages?
 *
 * The event loop can keep turning (timers fire, zmq_poll returns on its
 * timeout) while libzmq's background I/O thread is stuck, and then no
 * ZeroMQ traffic moves at all: peers, API, everything. Feeding the systemd
 * watchdog from a loop timer alone would hide that. zlive sends a probe
 * every ZLIVE_PERIOD_MS between two PAIR sockets over an abstract ipc://
 * endpoint -- a path that runs through the I/O thread like any TCP peer --
 * and reports the context stuck when a probe has gone unanswered for
 * ZLIVE_STUCK_MS.
 */
#ifndef TIPD_ZLIVE_H
#define TIPD_ZLIVE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define ZLIVE_PERIOD_MS 5000
#define ZLIVE_STUCK_MS  15000

typedef struct zlive zlive_t;

/* Bind and connect the probe pair in zctx and start probing on loop. NULL
 * with a sentence in err. */
zlive_t *zlive_new(loop_t *loop, void *zctx, void (*log)(int prio, const char *fmt, ...), char *err,
                   size_t errlen);
/* Close both sockets; idempotent, NULLs *p. */
void zlive_destroy(zlive_t **p);
/* 1 while probes come back (or the oldest unanswered one is younger than
 * ZLIVE_STUCK_MS), 0 when the I/O thread is stuck. NULL counts as alive. */
int zlive_ok(const zlive_t *z);
/* Probes sent and answered so far (status, tests). */
uint64_t zlive_answered(const zlive_t *z);

#endif
