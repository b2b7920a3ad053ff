/* avahi_poll.h -- an AvahiPoll that runs on the daemon's loop (loop.h).
 *
 * avahi-client needs someone to watch its D-Bus descriptor and fire its
 * timeouts. Instead of Avahi's threaded poll (a second thread touching our
 * state) this adapter maps Avahi watches onto loop_watch_fd() and Avahi
 * timeouts onto loop timers, so discovery callbacks run on the loop thread
 * like everything else in tipd.
 */
#ifndef TIPD_AVAHI_POLL_H
#define TIPD_AVAHI_POLL_H

#include <avahi-common/watch.h>

#include "loop.h"

typedef struct apoll apoll_t;

/* NULL on ENOMEM. The loop must outlive the adapter. */
apoll_t *apoll_new(loop_t *loop);
/* Frees any watches/timeouts Avahi did not free itself (free the
 * AvahiClient first); idempotent, NULLs the pointer. */
void apoll_destroy(apoll_t **p);
/* The vtable to hand to avahi_client_new() / disc_new(). */
const AvahiPoll *apoll_get(apoll_t *ap);

#endif
