/* fts_int.h -- what fts.c (indexing) and fts_search.c (queries) share:
 * the on-disk layout of the full-text index and the fts_t handle.
 * Internal to store/; docs/SEARCH.md describes the layout.
 */
#ifndef TIPD_FTS_INT_H
#define TIPD_FTS_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "fts.h"
#include "text.h"

#define FTS_FIELDS     3 /* title, body, topics */
#define FTS_F_TITLE    0
#define FTS_F_BODY     1
#define FTS_F_TOPIC    2
#define FTS_POST_LEN   12
#define FTS_TOPIC_MARK '\1'

typedef struct {
    uint64_t docs;            /* live documents */
    uint64_t len[FTS_FIELDS]; /* summed field lengths of live documents */
    uint32_t next_doc;        /* next docnum to hand out (starts at 1) */
    uint32_t version;
} fts_stats_t;

typedef struct {
    uint8_t id[EVENT_ID_LEN];
    uint8_t author[EVENT_KEY_LEN];
    uint8_t kind;
    uint8_t pad[3];
} fts_doc_t;

/* Cache of topic -> number of tips carrying it (for topic clusters), valid
 * for one state of the index (tcache_gen); open addressing. Per-query
 * cluster sums and crowding counts sit beside it, indexed by slot. */
#define FTS_TSLOTS     16384
#define FTS_TCACHE_MAX 8192 /* cleared at a query start when fuller than this */
typedef struct {
    char topic[EVENT_MAX_TOPIC_LEN + 1];
    uint8_t len, used;
    size_t df;
} fts_tslot_t;

typedef struct {
    char term[TEXT_MAX_TERM + 2];
    uint8_t len;
    uint8_t tf[FTS_FIELDS];
} fts_dterm_t;

typedef struct {
    fts_dterm_t *v;
    size_t n, cap;
    uint32_t flen[FTS_FIELDS];
    int field;
    bool oom;
} fts_dterms_t;

/* A term with postings queued in the open write transaction: its bytes are
 * in the arena; fts_flush groups each term's postings and writes them with
 * one MDB_MULTIPLE put. */
typedef struct {
    uint64_t pfx;   /* first 8 bytes of the term, big-endian, zero-padded */
    uint32_t off;   /* in the arena */
    uint32_t count; /* postings queued */
    uint32_t next;  /* fts_flush: next free slot of its group */
    uint32_t doc;   /* fts_index: docnum of its latest posting, */
    uint32_t slot;  /* and that posting's place in pend (tf adds up there) */
    uint8_t len;
} fts_pterm_t;

/* A posting waiting for fts_flush. */
typedef struct {
    uint32_t term; /* index into pterms */
    uint8_t post[FTS_POST_LEN];
} fts_pend_t;

struct fts {
    MDB_dbi post, doc, idmap, meta;
    /* Writer state for the open write transaction (see fts_flush). */
    bool wstats_ok; /* wstats holds the transaction's current statistics */
    fts_stats_t wstats;
    fts_pend_t *pend;
    size_t npend, pend_cap;
    fts_pterm_t *pterms;
    size_t npterms, pterms_cap;
    uint32_t *phash; /* open addressing: pterm index + 1, 0 = empty */
    size_t phash_cap;
    uint8_t *pbuf; /* fts_flush: postings grouped by term */
    size_t pbuf_cap;
    uint32_t *porder; /* fts_flush: pterm indexes in key order */
    size_t porder_cap;
    char *arena;
    size_t arena_len, arena_cap;
    double lendq[256]; /* s_len_dq() of every quantised length */
    fts_tslot_t *tcache;
    size_t tcache_n;
    uint64_t tcache_gen[2];
    double *tsum;         /* per slot: raw scores of this query's cluster members */
    unsigned *tshown;     /* per slot: members already placed (crowding) */
    text_t *wtext;        /* writer's tokenizer (LMDB allows one writer at a time) */
    pthread_mutex_t lock; /* guards the search tokenizer and scratch */
    text_t *qtext;
    float *acc;
    uint32_t *cmask; /* per docnum: which query words matched (coordination) */
    size_t acc_cap;
    uint32_t *touched;
    size_t touched_cap;
};

/* Big-endian docnums: LMDB's byte order is then numeric order. */
static inline void fts_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t fts_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The statistics record as of txn (zeroes, next docnum 1, if none yet). */
int fts_stats_get(MDB_txn *txn, MDB_dbi meta, fts_stats_t *st);

#endif
