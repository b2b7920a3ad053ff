/* test_zlive.c -- the ZeroMQ liveness probe (daemon/sys/zlive.c).
 *
 * The probe answers while the I/O thread runs; it reports the context stuck
 * once the thread is blocked, and alive again when the thread moves. The
 * thread is blocked the way tipd once blocked it for good: a socket monitor
 * whose events nobody reads (libzmq sends them with a blocking
 * zmq_msg_send from the I/O thread), then a connection attempt that makes
 * events. Connecting a reader to the monitor endpoint releases it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zmq.h>

#include "loop.h"
#include "zlive.h"

static void s_run(loop_t *loop, uint64_t ms)
{
    uint64_t t0 = loop_now_ms();
    while (loop_now_ms() - t0 < ms) loop_once(loop, 100);
}

static void test_alive_stuck_alive(void **state)
{
    (void)state;
    loop_t *loop = loop_new();
    void *ctx = zmq_ctx_new();
    char err[256];
    zlive_t *z = zlive_new(loop, ctx, NULL, err, sizeof err);
    assert_non_null(z);
    s_run(loop, 500);
    assert_true(zlive_answered(z) >= 1);
    assert_true(zlive_ok(z));

    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, ivl = 100;
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(d, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    assert_int_equal(zmq_socket_monitor(d, "inproc://test-zlive-mon", ZMQ_EVENT_ALL), 0);
    assert_int_equal(zmq_connect(d, "tcp://127.0.0.1:1"), 0); /* refused: events */
    uint64_t before = zlive_answered(z);
    s_run(loop, ZLIVE_PERIOD_MS + ZLIVE_STUCK_MS + 1000);
    assert_false(zlive_ok(z));
    assert_int_equal(zlive_answered(z), before);

    /* A reader takes the monitor's events: the I/O thread moves again. */
    void *r = zmq_socket(ctx, ZMQ_PAIR);
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r, ZMQ_RCVHWM, &zero, sizeof zero);
    assert_int_equal(zmq_connect(r, "inproc://test-zlive-mon"), 0);
    uint64_t t0 = loop_now_ms();
    while (zlive_answered(z) == before && loop_now_ms() - t0 < 2 * ZLIVE_PERIOD_MS + 2000) {
        char buf[64];
        while (zmq_recv(r, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
        }
        loop_once(loop, 50);
    }
    assert_true(zlive_answered(z) > before);
    assert_true(zlive_ok(z));

    zmq_socket_monitor(d, NULL, 0);
    zmq_close(r);
    zmq_close(d);
    zlive_destroy(&z);
    assert_null(z);
    zlive_destroy(&z); /* idempotent */
    zmq_ctx_term(ctx);
    loop_destroy(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alive_stuck_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
