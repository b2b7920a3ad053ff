/* loop.c -- zmq_poll event loop with timers.
 *
 * Watches live in a linked list; before each poll we build a zmq_pollitem_t
 * array from the live ones and remember which watch each slot came from.
 * Removal inside a callback only marks the watch dead; dead watches are
 * unlinked and freed after the dispatch pass, so a callback can remove any
 * watch (even one later in the same pass) without use-after-free. Timers are
 * a small unsorted list: tipd has a handful of them, so a linear scan for the
 * earliest deadline is cheaper than keeping a heap.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

struct loop_watch {
    void *zsock;
    int fd;
    short events;
    int dead;
    loop_io_fn fn;
    void *arg;
    struct loop_watch *next;
};

struct loop_timer {
    uint64_t deadline; /* 0 = disarmed */
    uint64_t interval;
    int dead;
    loop_timer_fn fn;
    void *arg;
    struct loop_timer *next;
};

struct loop {
    loop_watch_t *watches;
    loop_timer_t *timers;
    zmq_pollitem_t *items;
    loop_watch_t **slot;
    size_t cap;
    int stop;
    int dispatching;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

loop_t *loop_new(void)
{
    return calloc(1, sizeof(loop_t));
}

void loop_destroy(loop_t **p)
{
    if (!p || !*p) return;
    loop_t *l = *p;
    for (loop_watch_t *w = l->watches, *n; w; w = n) {
        n = w->next;
        free(w);
    }
    for (loop_timer_t *t = l->timers, *n; t; t = n) {
        n = t->next;
        free(t);
    }
    free(l->items);
    free(l->slot);
    free(l);
    *p = NULL;
}

static loop_watch_t *s_watch_new(loop_t *l, void *zsock, int fd, short events, loop_io_fn fn,
                                 void *arg)
{
    loop_watch_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->zsock = zsock;
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    w->arg = arg;
    w->next = l->watches;
    l->watches = w;
    return w;
}

loop_watch_t *loop_watch_zsock(loop_t *l, void *zsock, short events, loop_io_fn fn, void *arg)
{
    return s_watch_new(l, zsock, -1, events, fn, arg);
}

loop_watch_t *loop_watch_fd(loop_t *l, int fd, short events, loop_io_fn fn, void *arg)
{
    return s_watch_new(l, NULL, fd, events, fn, arg);
}

void loop_watch_set(loop_watch_t *w, short events)
{
    if (w) w->events = events;
}

short loop_watch_events(const loop_watch_t *w)
{
    return w ? w->events : 0;
}

int loop_watch_fd_of(const loop_watch_t *w)
{
    return w ? w->fd : -1;
}

void loop_watch_free(loop_t *l, loop_watch_t *w)
{
    (void)l;
    if (w) w->dead = 1;
}

loop_timer_t *loop_timer_add(loop_t *l, uint64_t delay_ms, uint64_t interval_ms, loop_timer_fn fn,
                             void *arg)
{
    loop_timer_t *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->deadline = loop_now_ms() + delay_ms;
    if (t->deadline == 0) t->deadline = 1;
    t->interval = interval_ms;
    t->fn = fn;
    t->arg = arg;
    t->next = l->timers;
    l->timers = t;
    return t;
}

void loop_timer_reset(loop_t *l, loop_timer_t *t, uint64_t delay_ms)
{
    (void)l;
    if (t && !t->dead) t->deadline = loop_now_ms() + delay_ms;
}

void loop_timer_due(loop_t *l, loop_timer_t *t, uint64_t delay_ms)
{
    (void)l;
    if (!t || t->dead) return;
    uint64_t d = loop_now_ms() + delay_ms;
    if (!t->deadline || d < t->deadline) t->deadline = d;
}

void loop_timer_disarm(loop_t *l, loop_timer_t *t)
{
    (void)l;
    if (t) t->deadline = 0;
}

void loop_timer_free(loop_t *l, loop_timer_t *t)
{
    (void)l;
    if (t) {
        t->dead = 1;
        t->deadline = 0;
    }
}

/* Unlink and free everything marked dead. Only called outside dispatch. */
static void s_reap(loop_t *l)
{
    for (loop_watch_t **pw = &l->watches; *pw;) {
        if ((*pw)->dead) {
            loop_watch_t *d = *pw;
            *pw = d->next;
            free(d);
        } else {
            pw = &(*pw)->next;
        }
    }
    for (loop_timer_t **pt = &l->timers; *pt;) {
        if ((*pt)->dead) {
            loop_timer_t *d = *pt;
            *pt = d->next;
            free(d);
        } else {
            pt = &(*pt)->next;
        }
    }
}

static int s_timeout(loop_t *l, int max_wait_ms)
{
    uint64_t now = loop_now_ms();
    long best = max_wait_ms;
    for (loop_timer_t *t = l->timers; t; t = t->next) {
        if (t->dead || !t->deadline) continue;
        long d = t->deadline > now ? (long)(t->deadline - now) : 0;
        if (best < 0 || d < best) best = d;
    }
    return (int)best;
}

static void s_run_timers(loop_t *l)
{
    uint64_t now = loop_now_ms();
    for (loop_timer_t *t = l->timers; t; t = t->next) {
        if (t->dead || !t->deadline || t->deadline > now) continue;
        if (t->interval)
            t->deadline = now + t->interval;
        else
            t->deadline = 0;
        t->fn(l, t, t->arg);
    }
}

int loop_once(loop_t *l, int max_wait_ms)
{
    s_reap(l);
    size_t n = 0;
    for (loop_watch_t *w = l->watches; w; w = w->next) n++;
    if (n > l->cap) {
        size_t cap = n * 2;
        zmq_pollitem_t *items = realloc(l->items, cap * sizeof(*items));
        if (!items) return -1;
        l->items = items;
        loop_watch_t **slot = realloc(l->slot, cap * sizeof(*slot));
        if (!slot) return -1;
        l->slot = slot;
        l->cap = cap;
    }
    size_t i = 0;
    for (loop_watch_t *w = l->watches; w; w = w->next) {
        l->items[i].socket = w->zsock;
        l->items[i].fd = w->fd;
        l->items[i].events = w->events;
        l->items[i].revents = 0;
        l->slot[i++] = w;
    }
    int rc = zmq_poll(l->items, (int)n, s_timeout(l, max_wait_ms));
    if (rc < 0 && zmq_errno() != EINTR) return -1;
    for (i = 0; rc > 0 && i < n; i++) {
        loop_watch_t *w = l->slot[i];
        short re = l->items[i].revents & (w->events | ZMQ_POLLERR);
        if (re && !w->dead) w->fn(l, w, re, w->arg);
    }
    s_run_timers(l);
    return 0;
}

int loop_run(loop_t *l)
{
    l->stop = 0;
    while (!l->stop)
        if (loop_once(l, -1) < 0) return -1;
    return 0;
}

void loop_stop(loop_t *l)
{
    l->stop = 1;
}
