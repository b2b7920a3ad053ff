/* avahi_poll.c -- AvahiPoll adapter over the daemon loop.
 *
 * Each AvahiWatch owns one loop fd watch; each AvahiTimeout owns one loop
 * timer (disarmed when Avahi passes a NULL timeval). Avahi expresses
 * deadlines as absolute gettimeofday() times while the loop counts monotonic
 * milliseconds, so a deadline is turned into a delay from the current wall
 * clock when it is set; a wall-clock jump then shifts at most one pending
 * timeout, which Avahi tolerates (its timeouts are retransmission hints).
 *
 * Avahi may free a watch or timeout from inside its own callback, so the
 * dispatch paths never touch the object after calling into Avahi. Every
 * object is also kept on a list so apoll_destroy() can release what a
 * crashed client left behind.
 */
#include "avahi_poll.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <zmq.h>

struct AvahiWatch {
    apoll_t *ap;
    loop_watch_t *lw;
    int fd;
    AvahiWatchEvent revents; /* valid during the callback (watch_get_events) */
    AvahiWatchCallback cb;
    void *userdata;
    struct AvahiWatch *prev, *next;
};

struct AvahiTimeout {
    apoll_t *ap;
    loop_timer_t *lt;
    AvahiTimeoutCallback cb;
    void *userdata;
    struct AvahiTimeout *prev, *next;
};

struct apoll {
    AvahiPoll api; /* first, so api.userdata round-trips */
    loop_t *loop;
    AvahiWatch *watches;
    AvahiTimeout *timeouts;
};

static short s_to_loop(AvahiWatchEvent ev)
{
    short e = 0;
    if (ev & AVAHI_WATCH_IN) e |= ZMQ_POLLIN;
    if (ev & AVAHI_WATCH_OUT) e |= ZMQ_POLLOUT;
    return e;
}

/* zmq_poll folds POLLHUP into ZMQ_POLLERR; D-Bus treats either as the end of
 * the connection, so report both. */
static AvahiWatchEvent s_from_loop(short re)
{
    int e = 0;
    if (re & ZMQ_POLLIN) e |= AVAHI_WATCH_IN;
    if (re & ZMQ_POLLOUT) e |= AVAHI_WATCH_OUT;
    if (re & ZMQ_POLLERR) e |= AVAHI_WATCH_ERR | AVAHI_WATCH_HUP;
    return (AvahiWatchEvent)e;
}

static void s_watch_io(loop_t *l, loop_watch_t *lw, short revents, void *arg)
{
    AvahiWatch *w = arg;
    w->revents = s_from_loop(revents);
    /* w may be freed inside cb: read nothing from it afterwards. */
    w->cb(w, w->fd, w->revents, w->userdata);
}

static AvahiWatch *s_watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event,
                               AvahiWatchCallback cb, void *userdata)
{
    apoll_t *ap = api->userdata;
    AvahiWatch *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->ap = ap;
    w->fd = fd;
    w->cb = cb;
    w->userdata = userdata;
    w->lw = loop_watch_fd(ap->loop, fd, s_to_loop(event), s_watch_io, w);
    if (!w->lw) {
        free(w);
        return NULL;
    }
    w->next = ap->watches;
    if (ap->watches) ap->watches->prev = w;
    ap->watches = w;
    return w;
}

static void s_watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
    loop_watch_set(w->lw, s_to_loop(event));
}

static AvahiWatchEvent s_watch_get_events(AvahiWatch *w)
{
    return w->revents;
}

static void s_watch_free(AvahiWatch *w)
{
    apoll_t *ap = w->ap;
    loop_watch_free(ap->loop, w->lw);
    if (w->prev)
        w->prev->next = w->next;
    else
        ap->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    free(w);
}

/* Delay in ms from now until the absolute wall-clock time tv (0 if past). */
static uint64_t s_delay_ms(const struct timeval *tv)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t d =
        ((int64_t)tv->tv_sec - now.tv_sec) * 1000 + ((int64_t)tv->tv_usec - now.tv_usec) / 1000;
    /* Round sub-millisecond remainders up so we never fire early and spin. */
    if (((int64_t)tv->tv_usec - now.tv_usec) % 1000 > 0) d++;
    return d > 0 ? (uint64_t)d : 0;
}

static void s_timeout_fire(loop_t *l, loop_timer_t *lt, void *arg)
{
    AvahiTimeout *t = arg;
    /* One-shot: the loop already disarmed it; cb may update or free t. */
    t->cb(t, t->userdata);
}

static AvahiTimeout *s_timeout_new(const AvahiPoll *api, const struct timeval *tv,
                                   AvahiTimeoutCallback cb, void *userdata)
{
    apoll_t *ap = api->userdata;
    AvahiTimeout *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->ap = ap;
    t->cb = cb;
    t->userdata = userdata;
    t->lt = loop_timer_add(ap->loop, tv ? s_delay_ms(tv) : 0, 0, s_timeout_fire, t);
    if (!t->lt) {
        free(t);
        return NULL;
    }
    if (!tv) loop_timer_disarm(ap->loop, t->lt);
    t->next = ap->timeouts;
    if (ap->timeouts) ap->timeouts->prev = t;
    ap->timeouts = t;
    return t;
}

static void s_timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
    if (tv)
        loop_timer_reset(t->ap->loop, t->lt, s_delay_ms(tv));
    else
        loop_timer_disarm(t->ap->loop, t->lt);
}

static void s_timeout_free(AvahiTimeout *t)
{
    apoll_t *ap = t->ap;
    loop_timer_free(ap->loop, t->lt);
    if (t->prev)
        t->prev->next = t->next;
    else
        ap->timeouts = t->next;
    if (t->next) t->next->prev = t->prev;
    free(t);
}

apoll_t *apoll_new(loop_t *loop)
{
    if (!loop) return NULL;
    apoll_t *ap = calloc(1, sizeof(*ap));
    if (!ap) return NULL;
    ap->loop = loop;
    ap->api.userdata = ap;
    ap->api.watch_new = s_watch_new;
    ap->api.watch_update = s_watch_update;
    ap->api.watch_get_events = s_watch_get_events;
    ap->api.watch_free = s_watch_free;
    ap->api.timeout_new = s_timeout_new;
    ap->api.timeout_update = s_timeout_update;
    ap->api.timeout_free = s_timeout_free;
    return ap;
}

void apoll_destroy(apoll_t **p)
{
    if (!p || !*p) return;
    apoll_t *ap = *p;
    while (ap->watches) s_watch_free(ap->watches);
    while (ap->timeouts) s_timeout_free(ap->timeouts);
    free(ap);
    *p = NULL;
}

const AvahiPoll *apoll_get(apoll_t *ap)
{
    return ap ? &ap->api : NULL;
}
