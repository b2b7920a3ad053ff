/* zlive.c -- a probe through ZeroMQ's I/O thread (see zlive.h).
 *
 * Two PAIR sockets, one bound and one connected to
 * ipc://@tipd-live-PID-ADDR (Linux abstract namespace: no file, gone with
 * the process). A timer sends the time of the oldest unanswered probe; the
 * receiving PAIR is watched on the loop and clears it. Both sockets use the
 * NULL mechanism with no ZAP domain, so the gossip ZAP handler never sees
 * them, and LINGER 0 with no high-water mark worth reaching: at one probe
 * every five seconds a stuck thread leaves a few hundred bytes per hour.
 */
#include "zlive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "loglevel.h"

struct zlive {
    loop_t *loop;
    void *tx, *rx;
    loop_watch_t *w;
    loop_timer_t *t;
    uint64_t unanswered; /* when the oldest unanswered probe left; 0 = none */
    uint64_t answered;
    int stuck_logged;
    void (*log)(int prio, const char *fmt, ...);
};

static void s_on_probe(loop_t *l, loop_watch_t *w, short revents, void *arg)
{
    zlive_t *z = arg;
    char buf[16];
    (void)l;
    (void)w;
    (void)revents;
    while (zmq_recv(z->rx, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) z->answered++;
    if (z->stuck_logged && z->log) z->log(LOG_N, "zeromq: the I/O thread moves messages again");
    z->stuck_logged = 0;
    z->unanswered = 0;
}

static void s_on_timer(loop_t *l, loop_timer_t *t, void *arg)
{
    zlive_t *z = arg;
    uint64_t now = loop_now_ms();
    (void)l;
    (void)t;
    if (!z->unanswered) {
        z->unanswered = now ? now : 1;
        zmq_send(z->tx, "p", 1, ZMQ_DONTWAIT);
    } else if (!zlive_ok(z) && !z->stuck_logged) {
        z->stuck_logged = 1;
        if (z->log)
            z->log(LOG_E, "zeromq: the I/O thread has moved no message for %llu ms: stuck",
                   (unsigned long long)(now - z->unanswered));
    }
}

zlive_t *zlive_new(loop_t *loop, void *zctx, void (*log)(int prio, const char *fmt, ...), char *err,
                   size_t errlen)
{
    zlive_t *z = calloc(1, sizeof *z);
    char ep[96];
    int zero = 0;
    if (!z) {
        snprintf(err, errlen, "zlive: out of memory");
        return NULL;
    }
    z->loop = loop;
    z->log = log;
    snprintf(ep, sizeof ep, "ipc://@tipd-live-%ld-%p", (long)getpid(), (void *)z);
    z->rx = zmq_socket(zctx, ZMQ_PAIR);
    z->tx = zmq_socket(zctx, ZMQ_PAIR);
    if (!z->rx || !z->tx) goto zfail;
    zmq_setsockopt(z->rx, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(z->tx, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(z->rx, ep) < 0 || zmq_connect(z->tx, ep) < 0) goto zfail;
    z->w = loop_watch_zsock(loop, z->rx, ZMQ_POLLIN, s_on_probe, z);
    z->t = loop_timer_add(loop, 0, ZLIVE_PERIOD_MS, s_on_timer, z);
    if (!z->w || !z->t) {
        snprintf(err, errlen, "zlive: out of memory");
        zlive_destroy(&z);
        return NULL;
    }
    return z;
zfail:
    snprintf(err, errlen, "zlive: probe sockets on %s: %s", ep, zmq_strerror(errno));
    zlive_destroy(&z);
    return NULL;
}

void zlive_destroy(zlive_t **p)
{
    if (!p || !*p) return;
    zlive_t *z = *p;
    if (z->w) loop_watch_free(z->loop, z->w);
    if (z->t) loop_timer_free(z->loop, z->t);
    if (z->tx) zmq_close(z->tx);
    if (z->rx) zmq_close(z->rx);
    free(z);
    *p = NULL;
}

int zlive_ok(const zlive_t *z)
{
    return !z || !z->unanswered || loop_now_ms() - z->unanswered < ZLIVE_STUCK_MS;
}

uint64_t zlive_answered(const zlive_t *z)
{
    return z ? z->answered : 0;
}
