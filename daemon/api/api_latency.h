/* api_latency.h -- how long the daemon takes to answer, per API op.
 *
 * A fixed-size log-linear histogram (HdrHistogram's layout at 5 bits of
 * precision): values below 64 µs have a bucket each, above that every
 * power of two is split into 32 buckets, so a reported percentile is at
 * most 3.2 % above the true value (a 10 ms one within 0.26 ms) and a
 * histogram is 4.7 KB whatever it counts. Adding is a few shifts and one
 * increment; the API keeps two per op (time in the daemon, time running
 * the op) and reports them in `status`. Not thread-safe: the API records
 * on its loop thread only.
 */
#ifndef TIPD_API_LATENCY_H
#define TIPD_API_LATENCY_H

#include <jansson.h>
#include <stdint.h>

#define API_LAT_SUB_BITS 5
/* up to 2^41 µs, about 25 days */
#define API_LAT_BUCKETS                                                                            \
    ((2 << API_LAT_SUB_BITS) + (40 - API_LAT_SUB_BITS) * (1 << API_LAT_SUB_BITS))

typedef struct {
    uint64_t n;      /* values added */
    uint64_t max_us; /* largest value added */
    uint64_t sum_us;
    uint32_t b[API_LAT_BUCKETS];
} api_lat_t;

/* Count one value, in microseconds. */
void api_lat_add(api_lat_t *h, uint64_t us);

/* The p-quantile (0 < p <= 1) in microseconds: the upper edge of the bucket
 * that holds it, never above the largest value added; 0 when empty. */
uint64_t api_lat_quantile(const api_lat_t *h, double p);

/* {"count", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms"}; NULL on ENOMEM. */
json_t *api_lat_json(const api_lat_t *h);

#endif
