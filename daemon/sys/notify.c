/* notify.c -- sd_notify glue for Type=notify and WatchdogSec=.
 *
 * The watchdog ping rides on a loop timer, so it proves the loop itself is
 * turning: a daemon wedged in a callback stops pinging and systemd restarts
 * it. A loop that turns is not enough, though: a health check (the ZeroMQ
 * liveness probe, zlive.h) can veto the ping, so a daemon whose sockets no
 * longer move is restarted too. STATUS= is only sent when the text changes, to keep journald quiet.
 */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

struct notify {
    loop_t *loop;
    loop_timer_t *wd;
    uint64_t wd_ms;
    char last_status[256];
    int (*healthy)(void *arg);
    void *health_arg;
};

static void s_ping(loop_t *l, loop_timer_t *t, void *arg)
{
    notify_t *n = arg;
    (void)l;
    (void)t;
    if (n->healthy && !n->healthy(n->health_arg)) return;
    sd_notify(0, "WATCHDOG=1");
}

void notify_set_health(notify_t *n, int (*healthy)(void *arg), void *arg)
{
    if (!n) return;
    n->healthy = healthy;
    n->health_arg = arg;
}

notify_t *notify_new(loop_t *loop)
{
    notify_t *n = calloc(1, sizeof(*n));
    if (!n) return NULL;
    n->loop = loop;
    uint64_t usec = 0;
    /* unset_environment = 0: a child we might exec has no business with it,
     * but tipd execs nothing, and tests read it back. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        n->wd_ms = usec / 1000;
        uint64_t half = n->wd_ms / 2 ? n->wd_ms / 2 : 1;
        n->wd = loop_timer_add(loop, half, half, s_ping, n);
        if (!n->wd) {
            free(n);
            return NULL;
        }
    }
    return n;
}

void notify_destroy(notify_t **p)
{
    if (!p || !*p) return;
    notify_t *n = *p;
    if (n->wd) loop_timer_free(n->loop, n->wd);
    free(n);
    *p = NULL;
}

uint64_t notify_watchdog_ms(const notify_t *n)
{
    return n ? n->wd_ms : 0;
}

void notify_ready(notify_t *n, const char *status)
{
    if (status) {
        snprintf(n->last_status, sizeof(n->last_status), "%s", status);
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
    } else {
        sd_notify(0, "READY=1");
    }
    if (n->wd) sd_notify(0, "WATCHDOG=1");
}

void notify_status(notify_t *n, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (strcmp(buf, n->last_status) == 0) return;
    memcpy(n->last_status, buf, sizeof(buf));
    sd_notifyf(0, "STATUS=%s", buf);
}

void notify_reloading(notify_t *n)
{
    (void)n;
    sd_notify(0, "RELOADING=1");
}

void notify_stopping(notify_t *n)
{
    (void)n;
    sd_notify(0, "STOPPING=1");
}
