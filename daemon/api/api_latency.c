/* api_latency.c -- log-linear latency histograms (api_latency.h).
 *
 * With S = API_LAT_SUB_BITS: bucket of a value v is v itself below 2^(S+1);
 * otherwise, with e the index of v's highest set bit (e > S), 2^(S+1) +
 * (e - S - 1) * 2^S plus the S bits below the highest one. The quantile
 * walks the buckets in order, so it costs API_LAT_BUCKETS steps at most and
 * needs no sorted copy of the values.
 */
#include "api_latency.h"

#define S_SUB   (1u << API_LAT_SUB_BITS) /* buckets per power of two */
#define S_EXACT (2u * S_SUB)             /* values below this have a bucket each */

static unsigned s_bucket(uint64_t v)
{
    if (v < S_EXACT) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned i = S_EXACT + (e - API_LAT_SUB_BITS - 1) * S_SUB +
                 (unsigned)((v >> (e - API_LAT_SUB_BITS)) & (S_SUB - 1));
    return i < API_LAT_BUCKETS ? i : API_LAT_BUCKETS - 1;
}

/* The largest value that falls in bucket i. */
static uint64_t s_upper(unsigned i)
{
    if (i < S_EXACT) return i;
    unsigned e = (i - S_EXACT) / S_SUB + API_LAT_SUB_BITS + 1, sub = (i - S_EXACT) % S_SUB;
    return ((uint64_t)(S_SUB + sub + 1) << (e - API_LAT_SUB_BITS)) - 1;
}

void api_lat_add(api_lat_t *h, uint64_t us)
{
    h->b[s_bucket(us)]++;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us) h->max_us = us;
}

uint64_t api_lat_quantile(const api_lat_t *h, double p)
{
    if (!h->n) return 0;
    if (p > 1) p = 1;
    /* the rank of the quantile, 1-based, rounded up: p99 of 100 values is
     * the 99th smallest */
    double r = p * (double)h->n;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r || rank == 0) rank++;
    uint64_t seen = 0;
    for (unsigned i = 0; i < API_LAT_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t u = s_upper(i);
            return u < h->max_us ? u : h->max_us;
        }
    }
    return h->max_us;
}

static json_t *s_ms(uint64_t us)
{
    return json_real((double)us / 1000.0);
}

json_t *api_lat_json(const api_lat_t *h)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "count", json_integer((json_int_t)h->n));
    json_object_set_new(o, "mean_ms", s_ms(h->n ? h->sum_us / h->n : 0));
    json_object_set_new(o, "p50_ms", s_ms(api_lat_quantile(h, 0.50)));
    json_object_set_new(o, "p90_ms", s_ms(api_lat_quantile(h, 0.90)));
    json_object_set_new(o, "p99_ms", s_ms(api_lat_quantile(h, 0.99)));
    json_object_set_new(o, "max_ms", s_ms(h->max_us));
    return o;
}
