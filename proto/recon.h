/* recon.h -- range-based set reconciliation (the Negentropy design).
 *
 * Each node keeps its sync set -- every held, non-retracted event as
 * (created_at, id) -- as sorted 24-byte keys in memory (created_at and the
 * id's first 16 bytes) with sums over blocks of them; whole ids are read
 * back from the store through a fetch function when a message needs them
 * (recon_set.c). Two nodes find what differs
 * by exchanging RECON messages: a message is a list of contiguous ranges, each
 * given by its upper bound and either skipped, summarised by a fingerprint, or
 * listed item by item (id prefixes). A receiver compares every range with its
 * own items, splits mismatched ranges into 16 sub-ranges, lists ranges of
 * fewer than 32 items, and answers lists with a bitmap of what it lacks. Both
 * sides learn the ids the *other* side lacks (the "have" callback) and push
 * those events; nobody needs to learn full ids it lacks. Processing is
 * stateless: either side may start, and a message is self-contained.
 *
 * Encoding (byte-exact in docs/PROTOCOL.md section 2.6):
 *   msg   = RECON_VERSION range*
 *   range = bound mode payload
 *   bound = varint(ts == inf ? 0 : ts - prev_ts + 1) varint(plen) prefix[plen]
 *   mode  = 0 skip | 1 fingerprint (16 bytes) | 2 idlist (varint n, n * 12-byte
 *           id prefixes) | 3 idresponse (varint n, ceil(n/8) bitmap bytes)
 * Varints are unsigned LEB128, minimal. Fingerprint of a range =
 * SHA-256(sum of ids as little-endian 256-bit integers mod 2^256 ||
 * varint(count))[0..16).
 */
#ifndef TIPD_RECON_H
#define TIPD_RECON_H

#include <stddef.h>
#include <stdint.h>

#define RECON_VERSION     0x01
#define RECON_ID_LEN      32
#define RECON_FP_LEN      16
#define RECON_PREFIX_LEN  12                   /* id prefix bytes in an idlist */
#define RECON_BUCKETS     16                   /* sub-ranges per split */
#define RECON_LIST_BELOW  32                   /* ranges smaller than this are listed */
#define RECON_FRAME_LIMIT 49152                /* we stop adding ranges past this size */
#define RECON_MAX_MSG     65536                /* largest message we accept or produce */
#define RECON_MAX_LIST    4096                 /* most ids/bits in one idlist/idresponse */
#define RECON_KEEP_LEN    16                   /* id bytes the set keeps in memory */
#define RECON_KEY_LEN     (8 + RECON_KEEP_LEN) /* created_at big-endian || kept bytes */

enum {
    RECON_MODE_SKIP = 0,
    RECON_MODE_FP = 1,
    RECON_MODE_IDLIST = 2,
    RECON_MODE_IDRESP = 3,
};

enum {
    RECON_E_MALFORMED = -1, /* bad encoding, order or bounds */
    RECON_E_VERSION = -2,   /* unknown message version */
    RECON_E_NOSPACE = -3,   /* output buffer below RECON_MAX_MSG */
    RECON_E_NOMEM = -4,
    RECON_E_STORE = -5, /* a whole id could not be read back (fetch failed) */
};

typedef struct {
    uint64_t ts; /* created_at, ms */
    uint8_t id[RECON_ID_LEN];
} recon_item_t;

typedef struct recon_set recon_set_t;

/* Reads back the whole ids of n items of the set, given by their keys (n *
 * RECON_KEY_LEN bytes, ascending: created_at big-endian, then the id's first
 * RECON_KEEP_LEN bytes -- a prefix of the store's time-index key), into
 * ids. 0, or -1 if any cannot be read (the message then fails with
 * RECON_E_STORE, and the caller tries again later). */
typedef int (*recon_fetch_fn)(void *arg, const uint8_t *keys, size_t n,
                              uint8_t (*ids)[RECON_ID_LEN]);

/* An empty set that reads whole ids through fetch(arg, ...). NULL on ENOMEM. */
recon_set_t *recon_set_new(recon_fetch_fn fetch, void *arg);
void recon_set_destroy(recon_set_t **p);

/* Add one item. Cheap (appends to a pending buffer merged on next use), so
 * it can be called for every stored event. Duplicates are dropped. 0 or -1. */
int recon_set_add(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN]);
/* Remove one item if present (a retracted event leaves the sync set). */
void recon_set_remove(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN]);
/* Empty the set (before rebuilding it from the store). */
void recon_set_clear(recon_set_t *s);
/* Merge pending items; returns the number of items. -1 on ENOMEM, -2 when
 * an id could not be read back (the pending items stay for a retry). Two
 * items whose created_at and first 16 id bytes agree count as one. */
long recon_set_seal(recon_set_t *s);
/* Items held, counting pending additions not merged yet (which may repeat
 * held ones until the next merge); does no work. */
size_t recon_set_size(const recon_set_t *s);
/* 1 if the item is in the set. */
int recon_set_contains(recon_set_t *s, uint64_t ts, const uint8_t id[RECON_ID_LEN]);

/* Called once per id the peer lacks (we hold it, they do not). */
typedef void (*recon_have_fn)(const uint8_t id[RECON_ID_LEN], void *arg);

/* Result flags of recon_process / recon_initiate. */
#define RECON_IN_ASKED 1 /* the input held fingerprints or lists: reply, even if empty */
#define RECON_OUT_ASKS 2 /* the output holds fingerprints or lists: expect a reply */

/* First message of a session: the whole set split into 16 fingerprinted
 * ranges (or one list). out must hold RECON_MAX_MSG bytes. Returns flags (>= 0)
 * or a negative RECON_E_* code. */
int recon_initiate(recon_set_t *s, uint8_t *out, size_t cap, size_t *out_len);

/* Process a peer's message in[len]: report ids they lack through have(), and
 * write our answer to out (cap >= RECON_MAX_MSG); *out_len is 1 (version
 * byte only) when there is nothing more to say. Returns flags (>= 0) or a
 * negative code; on a negative code nothing was reported for the bad range
 * onwards and out is unspecified. Never reads past in[len]. */
int recon_process(recon_set_t *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                  size_t *out_len, recon_have_fn have, void *arg);

/* Fingerprint of items[lo, hi) (exposed for tests and docs). */
void recon_fingerprint(const recon_item_t *items, size_t lo, size_t hi, uint8_t fp[RECON_FP_LEN]);

/* Unsigned LEB128; 0 or -1 (no room / overlong / overflow). */
int recon_varint_put(uint8_t *out, size_t cap, size_t *pos, uint64_t v);
int recon_varint_get(const uint8_t *in, size_t len, size_t *pos, uint64_t *v);

#endif
