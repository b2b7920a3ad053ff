/* test_api_latency.c -- the API's latency histograms (daemon/api/api_latency.c).
 *
 * Values below 64 µs are exact; above, a quantile is the upper edge of its
 * bucket (32 per power of two), capped at the largest value seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api_latency.h"

static void test_empty(void **state)
{
    (void)state;
    api_lat_t h = {0};
    assert_int_equal(api_lat_quantile(&h, 0.5), 0);
    assert_int_equal(api_lat_quantile(&h, 0.99), 0);
}

static void test_small_values_exact(void **state)
{
    (void)state;
    api_lat_t h = {0};
    for (uint64_t v = 1; v <= 10; v++) api_lat_add(&h, v);
    assert_int_equal(h.n, 10);
    assert_int_equal(api_lat_quantile(&h, 0.5), 5);
    assert_int_equal(api_lat_quantile(&h, 0.9), 9);
    assert_int_equal(api_lat_quantile(&h, 0.99), 10);
    assert_int_equal(api_lat_quantile(&h, 1.0), 10);
    assert_int_equal(h.max_us, 10);
    assert_int_equal(h.sum_us, 55);
}

/* What the median of v and a value far above it reads as: the upper edge
 * of v's bucket. */
static uint64_t s_reads_as(uint64_t v)
{
    api_lat_t h = {0};
    api_lat_add(&h, v);
    api_lat_add(&h, 4 * v);
    return api_lat_quantile(&h, 0.5);
}

static void test_bucket_edges(void **state)
{
    (void)state;
    /* 1000 = 0b1111101000: highest bit 9, next five bits 11110 -> the
     * bucket [992, 1007]; a 2000 above it keeps the max from capping the
     * edge */
    api_lat_t h = {0};
    api_lat_add(&h, 1000);
    api_lat_add(&h, 2000);
    assert_int_equal(api_lat_quantile(&h, 0.5), 1007);
    assert_int_equal(api_lat_quantile(&h, 1.0), 2000); /* capped at the max */
    /* 64 is the first value with buckets of more than one value: [64, 65];
     * 63 still has its own */
    assert_int_equal(s_reads_as(64), 65);
    assert_int_equal(s_reads_as(63), 63);
    /* a 10 ms answer reads within 0.26 ms: 10000 falls in [9984, 10239] */
    assert_int_equal(s_reads_as(10000), 10239);
    assert_int_equal(s_reads_as(9983), 9983);
}

static void test_p99_of_a_tail(void **state)
{
    (void)state;
    /* 990 fast answers and 10 slow ones: p99 is still a fast one, p99.5 a
     * slow one, and every quantile is within 1/32 above the true value */
    api_lat_t h = {0};
    for (int i = 0; i < 990; i++) api_lat_add(&h, 300);
    for (int i = 0; i < 10; i++) api_lat_add(&h, 50000);
    uint64_t p99 = api_lat_quantile(&h, 0.99), p995 = api_lat_quantile(&h, 0.995);
    assert_true(p99 >= 300 && p99 <= 300 * 33 / 32);
    assert_true(p995 >= 50000 && p995 <= 50000);
    assert_int_equal(h.n, 1000);
}

static void test_huge_value_is_counted(void **state)
{
    (void)state;
    api_lat_t h = {0};
    api_lat_add(&h, UINT64_MAX / 2); /* beyond the last bucket: counted there */
    assert_int_equal(h.n, 1);
    assert_true(api_lat_quantile(&h, 0.5) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_p99_of_a_tail),
        cmocka_unit_test(test_huge_value_is_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
