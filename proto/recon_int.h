/* recon_int.h -- the sync set as the message code (recon.c) reads it.
 *
 * The set keeps, per item, a 24-byte key: created_at as 8 big-endian bytes
 * followed by the id's first RECON_KEEP_LEN bytes, so keys sort with
 * memcmp in (created_at, id) order, exactly as the store's time index
 * does. Whole ids are read back through the set's fetch function when a
 * message needs them: the sums behind fingerprints (mostly served by the
 * per-block sums, recon_set.c), the ids reported as "have", and the rare
 * bound that two ids sharing their first 16 bytes needs.
 */
#ifndef TIPD_RECON_INT_H
#define TIPD_RECON_INT_H

#include "recon.h"

/* Sum of ids as a little-endian 256-bit integer, mod 2^256. */
typedef struct {
    uint64_t w[4];
} recon_sum_t;

void recon_sum_add(recon_sum_t *s, const uint8_t id[RECON_ID_LEN]);
/* The 16-byte fingerprint of a range with sum s and count items. */
void recon_sum_fp(const recon_sum_t *s, uint64_t count, uint8_t fp[RECON_FP_LEN]);

/* Sealed keys: n keys of RECON_KEY_LEN bytes, sorted, unique. */
const uint8_t *recon_set_keys(recon_set_t *s, size_t *n);
/* Sum of the whole ids of keys[lo, hi) into *sum. 0, or RECON_E_STORE /
 * RECON_E_NOMEM. */
int recon_set_sum(recon_set_t *s, size_t lo, size_t hi, recon_sum_t *sum);
/* The whole ids of the n keys at keys (any keys of the set, ascending), into
 * ids. 0, or RECON_E_STORE / RECON_E_NOMEM. */
int recon_set_fetch(recon_set_t *s, const uint8_t *keys, size_t n, uint8_t (*ids)[RECON_ID_LEN]);

static inline uint64_t recon_key_ts(const uint8_t *key)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | key[i];
    return v;
}

#endif
