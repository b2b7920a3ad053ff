/* store.h -- the local LMDB store of signed events, its indexes and search.
 *
 * One LMDB environment in the daemon's data directory. Events go in through
 * store_ingest() in batches: every event is decoded strictly and its
 * signature verified, then the whole batch is committed in one write
 * transaction (group commit), so ingest is bound by Ed25519, not fsync.
 * Readers (search, get, list) use their own read transactions and never block
 * the writer.
 *
 * The store applies the meaning of events, and does so independently of the
 * order they arrive in: a retraction or edit that arrives before its target
 * still applies when the target comes; a retracted event keeps its id (so it
 * is never fetched again) but loses its body and drops out of every listing,
 * search and sync set. Only the author of an event can retract or supersede
 * it; others' attempts are stored (they are valid events) but have no effect.
 * Ratings count the latest rating per (rater, tip).
 *
 * The store knows nothing of the network. Functions return 0 on success or a
 * negative STORE_E* code (store_strerror); codes from event.h pass through.
 *
 * Threads. One writer: store_ingest, store_miss_record,
 * store_release_memory and store_map_warm are called by one thread at a
 * time (tipd's ingest writer thread), never from inside an iteration
 * callback. Any number of other threads may meanwhile call the read
 * functions on the store itself (each opens its own short LMDB read
 * transaction, so a callback may call another read function) or read
 * through read views (store_rtxn_begin):
 * a view is a store_t bound to one LMDB read transaction, usable with every
 * read function below by the thread that holds it; a thread holds at most
 * one view at a time. Readers never wait for a commit. The writer waits for
 * readers only to move the map (growth, store_release_memory): it then asks
 * the views' long walks to stop, makes new views wait and waits for every
 * open read to end; a read on the store itself waits only while the map is
 * being moved (short, no I/O). store_last_error() is meant for the writer,
 * right after a failed write. Rules and layout: docs/STORE.md.
 */
#ifndef TIPD_STORE_H
#define TIPD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* v4: the figures of stats and today kept at ingest (store_agg.h); a v3
 * store gets them built at open. v1 and v2 were only ever written by
 * pre-release development builds (docs/STORE.md). */
#define STORE_SCHEMA_VERSION 4

typedef struct store store_t;

enum {
    STORE_OK = 0,
    STORE_E_LMDB = -100,      /* an LMDB call failed; see store_last_error() */
    STORE_E_SCHEMA = -101,    /* the data directory has a newer schema */
    STORE_E_NOTFOUND = -102,  /* no such event */
    STORE_E_AMBIGUOUS = -103, /* id prefix matches more than one event */
    STORE_E_RETRACTED = -104, /* the event exists but was retracted */
    STORE_E_NOSPACE = -105,   /* caller's buffer too small */
    STORE_E_ARG = -106,       /* bad argument */
    STORE_E_IO = -107,        /* directory cannot be created or opened */
    STORE_E_OLDSCHEMA = -108, /* the data directory has an older, unreadable schema */
    STORE_E_BUSY = -109,      /* a read view holds the map; try again later */
    STORE_E_NOMEM = -110,     /* out of memory */
    STORE_E_DISKFULL = -111,  /* the disk (or quota) is full: nothing was stored */
    STORE_E_CANCELED = -112,  /* a read view's walk was stopped (store_rtxn_cancel_on) */
};

const char *store_strerror(int code);
/* 1 if code says the store could not write (disk full, database or I/O
 * failure, out of memory): the events it answers were not stored and may
 * be sent again later. 0 for every verdict on an event itself. */
int store_is_failure(int code);

typedef struct {
    size_t map_size;  /* initial map size in bytes; 0 = default (64 MiB) */
    int no_sync;      /* benchmarks only: MDB_NOSYNC */
    int read_only;    /* open for reading (e.g. tipd -n checks) */
    int no_reserve;   /* tests: grow only on MDB_MAP_FULL, reserve no room ahead */
    size_t agg_chunk; /* tests: events per transaction building the stats figures (0: 65536) */
    size_t fts_chunk; /* tests: events per transaction rebuilding the search index (0: 8192) */
    /* Optional: when store_new fails, what LMDB said (e.g. "open: MDB_INVALID:
     * File is not an LMDB file"), for the one line the caller logs. */
    char *why;
    size_t why_len;
} store_opts_t;

/* Open (creating if needed) the store in dir. Runs mdb_reader_check. On
 * failure returns NULL and, if err is not NULL, sets *err to a code. */
store_t *store_new(const char *dir, const store_opts_t *opts, int *err);
/* Close; idempotent, NULLs *p. */
void store_destroy(store_t **p);
/* Tips the search index was rebuilt from when this store opened (an index
 * written by an older tipd's rules, docs/SEARCH.md), 0 if none; *seconds
 * how long it took. For the daemon's log. */
uint64_t store_reindexed(const store_t *s, double *seconds);
/* Last LMDB / system error text of this store, for logs. */
const char *store_last_error(const store_t *s);
/* The data directory, for logs. */
const char *store_path(const store_t *s);
/* Current map size in bytes (it grows by itself), for logs and status. */
size_t store_map_size(const store_t *s);
/* Give back the memory large write transactions left behind (LMDB caches
 * every page buffer a transaction dirtied until the environment closes: ~30
 * MiB after a 1024-tip batch) by closing and reopening the environment, then
 * malloc_trim(). Writer only, with no transaction or iteration of its own
 * open (e.g. when ingest has been idle a while). While other threads read:
 * with wait = 0, STORE_E_BUSY, changing nothing (try later); with wait = 1
 * it stops their long walks and waits for them as a map resize does. 0 on
 * success; on failure the store refuses every later call with an error
 * (never crashes) until a later store_release_memory() manages to reopen. */
int store_release_memory(store_t *s, int wait);
/* Enter in this process's page table the pages of the database file that
 * the page cache already holds, so that readers do not each take a page
 * fault on their first touch of them (a fresh open or a reopen starts with
 * none), and reads a byte of each (a hypervisor that shadows page tables
 * traps each page's first access even once mapped). Never reads the disk
 * for a page the page cache does not hold. A wholly resident, aligned 2 MiB
 * chunk that is not mapped by one huge entry is dropped from the page cache
 * and read back as one 2 MiB folio, where the kernel can say (PAGEMAP_SCAN)
 * and do it (large folios): a huge entry stays entered where 4 KiB ones are
 * cooled by a host that clears accessed bits. Writer only (it is the thread
 * that moves the map). Works from byte *from of the file in slices, calling
 * stop(arg) before each (stop may be NULL); advances *from, adds the bytes
 * mapped to *mapped and those read back into huge pages to *huge. Once
 * done, sizes the search's scratch too and makes what it keeps about long
 * posting lists (fts_prepare, asking stop between terms), so the first
 * questions do not. 0 when done, 1 when stop said so (call again with the
 * same *from to go on; after a reopen start again from 0), or a code. */
int store_map_warm(store_t *s, size_t *from, int (*stop)(void *arg), void *arg, size_t *mapped,
                   size_t *huge);

/* ---- read views: one snapshot, any thread ---- */

/* A read view is a store_t that reads one LMDB read transaction (one
 * consistent snapshot): pass it to any read function of this header
 * (store_get, store_list, store_search, ...) and each uses that transaction
 * instead of opening its own. Writes (store_ingest, store_miss_record,
 * store_release_memory) refuse a view with STORE_E_ARG. A view may be
 * begun and used on any thread, one thread at a time; while any view is
 * open, the writer's map resize (inside store_ingest) waits for it to end,
 * so keep views short-lived: long walks stop early when a resize is waiting
 * (store_rtxn_stopped). The owner must outlive its views. */
typedef store_t store_rtxn_t;

/* Begin a view of s (not itself a view). NULL on failure with *err set. */
store_rtxn_t *store_rtxn_begin(store_t *s, int *err);
/* End a view; idempotent, NULLs *p. */
void store_rtxn_end(store_rtxn_t **p);
/* From now on, every long walk through v (store_list, store_items, the
 * author walks) stops with STORE_E_CANCELED once *flag reads non-zero (it
 * is read atomically): how a daemon stops a reader thread that is halfway
 * through a pass over a large store. */
void store_rtxn_cancel_on(store_rtxn_t *v, const int *flag);
/* 1 if a walk through v stopped with STORE_E_CANCELED because the owner had
 * to resize the map (not because of the cancel flag): end the view and run
 * the read again in a new one. A resize waits for open views to end, so the
 * long walks of every open view stop early instead of holding it. */
int store_rtxn_stopped(const store_rtxn_t *v);
/* Move the view to the newest committed snapshot (cheap: reuses its LMDB
 * reader slot). 0 or a STORE_E* code. */
int store_rtxn_renew(store_rtxn_t *v);

/* ---- ingest ---- */

typedef enum {
    STORE_NEW = 0,      /* verified and committed */
    STORE_DUP = 1,      /* already held (or retracted): ignored */
    STORE_REJECTED = 2, /* refused; reason holds the code */
} store_status_t;

typedef struct {
    uint8_t status;           /* store_status_t */
    uint8_t retracted;        /* STORE_NEW, but an earlier retraction applies:
                                 kept as a tombstone, not in store_items */
    int reason;               /* EVENT_E* / STORE_E* code when rejected */
    uint8_t id[EVENT_ID_LEN]; /* id when decodable, else zero */
} store_result_t;

#define STORE_INGEST_VERIFIED 1 /* caller already ran event_verify() */

/* Decode, check time against now_ms, verify (unless flags has
 * STORE_INGEST_VERIFIED), then commit all accepted events of the batch in one
 * transaction. out[i] reports on events[i]. Returns 0 if the transaction
 * committed (even if some events were rejected), a negative code if nothing
 * was stored. Grows the map on MDB_MAP_FULL and retries. */
int store_ingest(store_t *s, const uint8_t *const *events, const size_t *lens, size_t n,
                 uint64_t now_ms, int flags, store_result_t *out);

/* ---- lookups ---- */

/* 1 if the id is known (held or retracted), 0 if not, <0 on error. */
int store_has(store_t *s, const uint8_t id[EVENT_ID_LEN]);

/* Signed bytes of an event into buf[cap]; *len set. STORE_E_RETRACTED for a
 * tombstone, STORE_E_NOTFOUND if unknown. */
int store_get_raw(store_t *s, const uint8_t id[EVENT_ID_LEN], uint8_t *buf, size_t cap,
                  size_t *len);
/* Decoded event. */
int store_get(store_t *s, const uint8_t id[EVENT_ID_LEN], event_t *ev);

/* Resolve a hex prefix (4..64 chars). Up to max matching ids go to out;
 * *n gets the number found (capped at max). Returns 0 if exactly one,
 * STORE_E_NOTFOUND if none, STORE_E_AMBIGUOUS if more (out lists candidates). */
int store_resolve(store_t *s, const char *prefix, uint8_t (*out)[EVENT_ID_LEN], size_t max,
                  size_t *n);

/* ---- derived state ---- */

typedef struct {
    uint32_t ratings;             /* raters counted (latest rating per rater) */
    uint32_t rating_sum;          /* sum of their scores */
    uint32_t thanks;              /* thanks events */
    uint32_t answers;             /* visible tips answering this (for questions) */
    uint8_t retracted;            /* 1 if withdrawn by its author */
    uint8_t superseded;           /* 1 if a newer version by the same author exists */
    uint8_t latest[EVENT_ID_LEN]; /* newest version in the edit chain (self if none) */
} store_stats_t;

int store_stats(store_t *s, const uint8_t id[EVENT_ID_LEN], store_stats_t *st);

/* Latest profile of an author: display name and team ("" if none). */
int store_profile(store_t *s, const uint8_t author[EVENT_KEY_LEN], char *name, size_t name_cap,
                  char *team, size_t team_cap);

typedef struct {
    uint64_t events;    /* all held events, including tombstones */
    uint64_t tips;      /* visible tips (not retracted, not superseded) */
    uint64_t questions; /* visible questions */
    uint64_t ratings, thanks, retracts, profiles;
} store_counts_t;

int store_counts(store_t *s, store_counts_t *c);

/* ---- iteration ---- */

/* Called per event; return non-zero to stop (that value is returned). */
typedef int (*store_each_fn)(const event_t *ev, const uint8_t *raw, size_t len, void *arg);

typedef struct {
    int kind;              /* 0 = any kind (ratings, thanks, ... too) */
    const uint8_t *author; /* NULL = any */
    const char *topic;     /* NULL = any */
    uint64_t before;       /* created_at < before; 0 = no bound */
    uint64_t after;        /* created_at >= after; 0 = no bound */
    int include_hidden;    /* include superseded (never retracted) */
} store_filter_t;

/* Visible events matching f, newest first, at most limit (0 = all). */
int store_list(store_t *s, const store_filter_t *f, size_t limit, store_each_fn fn, void *arg);

/* Events that reference id (with role, or any role if role == 0), oldest
 * first. Retracted ones are skipped. */
int store_refs(store_t *s, const uint8_t id[EVENT_ID_LEN], int role, store_each_fn fn, void *arg);

/* The sync set for reconciliation: every held, non-retracted event's
 * (created_at, id) in ascending order. */
typedef int (*store_item_fn)(uint64_t created_at, const uint8_t id[EVENT_ID_LEN], void *arg);
int store_items(store_t *s, store_item_fn fn, void *arg);
/* The whole ids of n held events given by time-index key prefixes: keys is
 * n * klen bytes, each created_at as 8 big-endian bytes followed by the
 * first klen - 8 bytes of the id (8 < klen <= 40), ascending. 0, or
 * STORE_E_NOTFOUND if any is not held (retracted since), or another code. */
int store_items_ids(store_t *s, const uint8_t *keys, size_t klen, size_t n,
                    uint8_t (*ids)[EVENT_ID_LEN]);

/* ---- search ---- */

typedef struct {
    uint8_t id[EVENT_ID_LEN];
    double score;
} store_hit_t;

typedef struct {
    const char *topics[EVENT_MAX_TOPICS]; /* all must match; NULL-terminated */
    const uint8_t *author;                /* NULL = any */
    int kind;                             /* 0 = tips and questions */
    /* Optional output: the query with its mistyped words corrected, as
     * words ("" if none was). With hits, the corrections the ranking used
     * ("showing results for"); with none, suggestions under a more lenient
     * bound ("did you mean"). docs/SEARCH.md, "Typos". */
    char *fixed;
    size_t fixed_cap;
} store_search_opts_t;

/* Ranked full-text search (docs/SEARCH.md). Up to max hits, best first;
 * *n gets the count. Retracted and superseded events never appear. */
int store_search(store_t *s, const char *query, const store_search_opts_t *o, store_hit_t *hits,
                 size_t max, size_t *n);

/* Local (never replicated) record of searches that found nothing, for
 * "what are people hungry to learn". Query text is normalised; no user. */
int store_miss_record(store_t *s, const char *query);
typedef int (*store_miss_fn)(const char *query, uint64_t count, uint64_t last_ms, void *arg);
int store_miss_each(store_t *s, store_miss_fn fn, void *arg);

/* ---- ratings, thanks and edit chains: for tip show and tip stats ---- */

/* Search prior of an event from its stats, >= 1 (docs/SEARCH.md, STORE.md):
 *   1 + 0.1*ln(1+thanks) + 0.1*(avg-3)*min(ratings,5)/5, clamped to >= 1. */
double store_prior(const store_stats_t *st);

/* The counted rating of every rater of id (the latest per rater), in rater
 * key order. Returns 0, fn's non-zero value, or a negative code. */
typedef int (*store_rating_fn)(const uint8_t rater[EVENT_KEY_LEN], uint8_t score,
                               uint64_t created_at, const uint8_t rating_id[EVENT_ID_LEN],
                               void *arg);
int store_ratings(store_t *s, const uint8_t id[EVENT_ID_LEN], store_rating_fn fn, void *arg);

/* The edit chain of id: its latest version (store_stats().latest) and every
 * live earlier version that leads to it through same-author SUPERSEDES
 * references, newest first. STORE_E_NOTFOUND / STORE_E_RETRACTED for id. */
int store_history(store_t *s, const uint8_t id[EVENT_ID_LEN], store_each_fn fn, void *arg);

/* store_stats, except that a visible (latest, live) version of an edit chain
 * gets the chain's ratings and thanks: thanks summed over every live version
 * that leads to it (as store_history walks them), ratings the newest
 * counted rating per rater across those versions (by created_at, then id).
 * Computed at read time, so independent of arrival order. A superseded or
 * retracted version keeps its own figures; answers stay per version. */
int store_chain_stats(store_t *s, const uint8_t id[EVENT_ID_LEN], store_stats_t *st);
/* store_ratings over the same chain (a visible version), in rater order;
 * for a superseded version, its own ratings (as store_ratings). */
int store_chain_ratings(store_t *s, const uint8_t id[EVENT_ID_LEN], store_rating_fn fn, void *arg);

/* What one author gave and got, from live events only. "received" sums the
 * chain figures (store_chain_stats) of their visible tips/questions, so a
 * rater of two versions of one tip is one rating received. */
typedef struct {
    uint8_t author[EVENT_KEY_LEN];
    uint32_t tips, questions;  /* visible (not superseded) ones */
    uint32_t answers;          /* visible tips that answer a question */
    uint32_t imported;         /* visible tips they imported, not answers (counted in tips too) */
    uint32_t ratings_given;    /* tips rated (live ratings, once per tip) */
    uint32_t thanks_given;     /* tips thanked (live thanks, once per tip) */
    uint32_t thanks_received;  /* thanks on their tips/questions */
    uint32_t ratings_received; /* counted raters on their tips/questions */
    uint32_t rating_sum_received;
    uint64_t first_ms, last_ms; /* oldest and newest live event */
} store_author_t;

/* One author's sums; STORE_E_NOTFOUND if they have no live event. */
int store_author(store_t *s, const uint8_t author[EVENT_KEY_LEN], store_author_t *a);
/* Every author with a live event, in key order; O(events). */
typedef int (*store_author_fn)(const store_author_t *a, void *arg);
int store_authors_each(store_t *s, store_author_fn fn, void *arg);

#endif
