/* notify.h -- telling systemd how tipd is doing (sd_notify).
 *
 * READY=1 once the API socket answers, STATUS= lines ("1234 tips, 3 peers"),
 * WATCHDOG=1 pings at half of WATCHDOG_USEC when the unit sets WatchdogSec=,
 * STOPPING=1 / RELOADING=1 around shutdown and reload. Outside systemd
 * (no NOTIFY_SOCKET) every call is a cheap no-op.
 */
#ifndef TIPD_NOTIFY_H
#define TIPD_NOTIFY_H

#include <stdint.h>

#include "loop.h"

typedef struct notify notify_t;

/* Reads the watchdog interval; if set, a loop timer pings at half of it.
 * NULL on ENOMEM. */
notify_t *notify_new(loop_t *loop);
void notify_destroy(notify_t **p);

void notify_ready(notify_t *n, const char *status);
void notify_status(notify_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void notify_reloading(notify_t *n);
void notify_stopping(notify_t *n);
/* The watchdog is fed only while healthy(arg) returns nonzero (NULL: always). */
void notify_set_health(notify_t *n, int (*healthy)(void *arg), void *arg);
/* Watchdog interval in ms (0 = no watchdog). */
uint64_t notify_watchdog_ms(const notify_t *n);

#endif
