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

#define FTS_FIELDS     4 /* title, body (prose), topics, code lines of the body */
#define FTS_F_TITLE    0
#define FTS_F_BODY     1
#define FTS_F_TOPIC    2
#define FTS_F_CODE     3
#define FTS_POST_LEN   12
#define FTS_TOPIC_MARK '\1'
#define FTS_NAME_MARK  '\2' /* + a name reversed: for the names ending in a word */
#define FTS_NAME_MIN   3

/* The names a topic holds, its parts between ASCII separators that are
 * FTS_NAME_MIN or more of a-z and 0-9 ("groupadd"; "cryptsetup" and
 * "luksformat" in "cryptsetup-luksformat"; not "café"), are also posted
 * under FTS_NAME_MARK + the name reversed, so that a query word finds the
 * names that end with it by a range scan, as FTS_TOPIC_MARK + word finds
 * the topics that start with it (fts_names.c). fts_names calls fn for each
 * name of topic[len] in order and returns the first non-zero fn returns. */
typedef int (*fts_name_fn)(const char *name, size_t len, void *arg);
int fts_names(const char *topic, size_t len, fts_name_fn fn, void *arg);
/* Is s[len] one name (the rule of fts_names)? */
bool fts_is_name(const char *s, size_t len);

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
    uint8_t hints; /* FTS_DOC_* (fts.h); 0 in records of older tipds */
    uint8_t pad[2];
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

/* Ranking parameters (docs/SEARCH.md); fts_open sets the defaults,
 * fts_tune changes them for benchmarks. */
typedef struct {
    double w[FTS_FIELDS]; /* field weights: title, body, topics, code */
    double b[FTS_FIELDS]; /* length normalisation per field */
    double k1;
    double syn;          /* query weight of a synonym */
    double cluster;      /* share of sibling scores */
    double crowd_factor; /* push-down multiplier past the first tips of a cluster */
    double named;        /* the whole query is a topic */
    double coord;        /* exponent of the coordination factor */
    double typo;         /* query weight of a corrected word */
    double prf;          /* query weight of the best feedback term (0: no feedback) */
    double prf_terms;    /* feedback terms added */
    double stop;         /* 1: a query drops its stopwords (unless that leaves nothing) */
    double coord_idf;    /* 1: coordination by the share of idf matched, not of words */
    double prune;      /* 1: skip postings that cannot reach the top (fts_prune.c); 0: score all */
    double prune_min;  /* fewer postings than this in all: score them all (faster) */
    double prox;       /* weight of the share of neighbouring query words found together */
    double prox_first; /* weight of the share of the query in the body's first line */
    double prox_win;   /* "together": at most this many words apart on a line */
    double prox_docs;  /* best candidates whose text is read for it */
    double part;       /* weight of a name that starts or ends with a query word (0: off) */
    double part_terms; /* such names looked for per word */
    double part_max;   /* and per query, the ones on the fewest tips */
    double name_boost; /* lift of the best candidates by the words their names hold */
    double hints;      /* 1: hand the records' FTS_DOC_* hints to the visibility check; 0: none */
} fts_params_t;

/* Per-term summary for upper bounds on its score (fts_summary.c): the
 * largest term count of each field among the postings whose quantised
 * field length falls in each of FTS_BUCKETS buckets, over the docnums
 * below limit. */
#define FTS_BUCKETS 32 /* 256 quantised lengths / 8 */
#define FTS_BSLOTS  4096
typedef struct {
    char term[TEXT_MAX_TERM + 1];
    uint8_t len, used;
    uint32_t limit; /* the index state it was read at: next docnum, */
    uint64_t docs;  /* live documents */
    uint8_t maxtf[FTS_FIELDS][FTS_BUCKETS];
} fts_bound_t;

/* Lists shorter than this are bounded by 1, without a summary (and are
 * cheap to read). */
#define FTS_BOUND_MIN_DF 1024

/* A bitmap of the docnums below limit whose posting of term counts it in
 * some field (fts_summary.c), for the synonyms' lookups. */
#define FTS_PRES_SLOTS 32

/* Is a synonym on df tips worth a bitmap in a store of limit docnums: is
 * its list over twice the bitmap's size? Shorter lists cost less to look
 * into than to read whole, and the bitmaps' budget then holds the common
 * synonyms without turning them over. */
static inline bool fts_pres_worth(size_t df, uint32_t limit)
{
    return (uint64_t)df * FTS_POST_LEN > limit / 4;
}
typedef struct {
    char term[TEXT_MAX_TERM + 1];
    uint8_t len;
    uint32_t limit; /* the index state it was read at: next docnum, */
    uint64_t docs;  /* live documents */
    uint64_t gen;   /* the query that used it last (fts_pres_begin) */
    uint8_t *bits;  /* NULL: a free slot */
    size_t cap;     /* bytes allocated */
} fts_pres_t;

/* The accumulator of exhaustive scoring (fts_acc.c): the tips a query's
 * postings name, in the order first met, each with its score so far and
 * the query words it matched. */
typedef struct {
    uint32_t doc, mask;
    float score;
} fts_acc_ent_t;

typedef struct {
    fts_acc_ent_t *ent; /* ent[0..n): first met first */
    size_t n, ent_cap;
    uint32_t *idx; /* open addressing by docnum: entry + 1, 0 = free */
    size_t cap;    /* a power of two (0 before first use) */
    unsigned shift;
} fts_acc_t;

/* Add v to doc's score and bit to its words (a new entry at the end if
 * doc has none yet). 0, or -1 out of memory (the entries are unchanged). */
int fts_acc_add(fts_acc_t *a, uint32_t doc, float v, uint32_t bit);
/* Empty it for the next query (giving back a table grown unusually big). */
void fts_acc_clear(fts_acc_t *a);
/* Size an empty accumulator (between queries) for a usual query and touch
 * its memory, so that a first query does not take the page faults. 0 or
 * -1. */
int fts_acc_prepare(fts_acc_t *a);
/* Free its memory; it is empty and usable again after. */
void fts_acc_free(fts_acc_t *a);

/* A question word's query weight (fts_qword.c). */
typedef struct {
    char term[TEXT_MAX_TERM + 1];
    float w;
} fts_qw_t;

struct fts {
    MDB_dbi post, doc, idmap, meta;
    fts_params_t prm;
    fts_text_fn text_fn; /* a tip's text, for feedback (NULL: none) */
    void *text_arg;
    event_t *prf_ev;
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
    fts_acc_t acc;       /* exhaustive scoring's scores and word masks */
    fts_bound_t *bounds; /* FTS_BSLOTS, open addressing; NULL until a long list is met */
    size_t nbounds;
    fts_pres_t pres[FTS_PRES_SLOTS];
    uint64_t pres_gen;
    size_t pres_bytes;   /* allocated to pres[].bits, within a fixed budget */
    uint64_t pres_reads; /* bitmaps read from the first posting (for tests) */
    uint64_t pres_looks; /* lookups a bitmap answered (for tests) */
    uint64_t pruned;     /* tips pruning left before scoring them in full (for tests) */
    fts_qw_t *qw;        /* question words, sorted by term (fts_qword.c) */
    size_t nqw, qw_cap;
};

/* Where a posting keeps each field's term count and quantised length. */
static const uint8_t fts_tf_at[FTS_FIELDS] = {4, 5, 6, 10};
static const uint8_t fts_len_at[FTS_FIELDS] = {7, 8, 9, 11};

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

/* A correction of a query word (fts_typo.c). */
typedef struct {
    char term[TEXT_MAX_TERM + 1]; /* the index term it matches */
    char word[TEXT_MAX_TERM + 1]; /* the word to show */
    size_t df;                    /* tips holding term; 0 = no correction */
    int dist;                     /* edits */
} fts_fix_t;

/* Edits allowed in a query word of wlen bytes: 0 (<= 4 characters), 1
 * (5..8) or 2 (9 and more). */
int fts_edit_bound(const char *word, size_t wlen);
/* The best index term within max edits of the case-folded word[wlen]
 * (whose term in the query is stem[sl]), looked up through c, a cursor on
 * fts_post, spending at most *budget steps (taken off it). Returns 1 and
 * fills *out, 0 if none, <0 on error. */
int fts_correct(MDB_cursor *c, text_t *t, const char *word, size_t wlen, const char *stem,
                size_t sl, int max, size_t *budget, fts_fix_t *out);
/* Steps (lookups, compared terms) that one query's corrections may take. */
#define FTS_TYPO_BUDGET 20000

/* The query weight of a stemmed term (fts_qword.c): below 1 for words
 * that questions use more than the tips answering them, else 1. */
double fts_qword(const fts_t *f, const char *term);
/* Load the built-in question words (stemmed with f->qtext). 0 or <0. */
int fts_qword_init(fts_t *f);

/* A weighted query (fts_query.c). */
#define FTS_MAX_QTERMS 48
#define FTS_MAX_FIX    8
enum { FTS_QT_WORD, FTS_QT_ALT, FTS_QT_FIX, FTS_QT_SYN, FTS_QT_PRF, FTS_QT_PART };
/* Feedback only lifts a tip that holds its words: they count for no query
 * word in coordination or proximity. */
static inline bool fts_qt_extra(int kind)
{
    return kind == FTS_QT_PRF;
}

typedef struct {
    char term[TEXT_MAX_TERM + 1];
    char surf[TEXT_MAX_TERM + 1]; /* the word it comes from */
    double weight;
    unsigned flags;
    unsigned word; /* index of the query word it stands for */
    int kind;      /* FTS_QT_*: a word, its English stem, a correction, a synonym,
                      feedback, a name that starts or ends with the word */
} fts_qterm_t;

typedef struct {
    fts_qterm_t v[FTS_MAX_QTERMS];
    size_t n, nstop;
    size_t nwords; /* query words (before alternatives) */
    double wq[32]; /* per query word: its question-word weight (fts_qword) */
    int lang;
    struct {
        char from[TEXT_MAX_TERM + 1], to[TEXT_MAX_TERM + 1];
    } fix[FTS_MAX_FIX];
    size_t nfix;
} fts_query_t;

/* Add term (standing for query word `word`, typed as surf) to q at weight,
 * unless q holds it already or is full. */
void fts_query_add(fts_query_t *q, const char *term, const char *surf, double weight, unsigned word,
                   int kind);
/* Names (fts_names.c): add to q the names in topics that start or end with
 * its first base words (base: the terms before corrections and synonyms),
 * looked up through c, a cursor on fts_post. 0 or <0. */
int fts_names_add(fts_t *f, MDB_cursor *c, fts_query_t *q, size_t base);
/* The lift of a candidate whose topics (NUL-separated, topics_len bytes)
 * hold names for some of q's words: 1 + name_boost times their share of the
 * query's idf (widf per word), 1 if none. */
double fts_names_mult(const fts_t *f, const fts_query_t *q, const double *widf, const char *topics,
                      size_t topics_len);

/* Build the weighted query for query: its words (stopwords dropped unless
 * that leaves nothing), English stems when the query is in another
 * language, corrections of words the index does not hold (c, a cursor on
 * fts_post; NULL: none), synonyms. lenient: only collect corrections, with
 * one edit from 3 characters (for "did you mean"). 0 or <0. */
int fts_query_build(fts_t *f, MDB_cursor *c, const char *query, bool lenient, fts_query_t *q);
/* The query in words with q's corrections made, into out[cap]; returns its
 * length, 0 if nothing was corrected. */
int fts_query_fixed(fts_t *f, const char *query, const fts_query_t *q, char *out, size_t cap);

/* Is line[len] (no newline) of a body a code line: indented by a tab or
 * two spaces, a ``` fence or between fences? *fence carries the fence
 * state from line to line (false at the body's start). */
bool fts_code_line(const char *line, size_t len, bool *fence);

/* Stem t's next tokenize calls in the language of ev's title and body. */
void fts_event_lang(text_t *t, const event_t *ev);

/* Pseudo-relevance feedback (fts_prf.c): add to q up to prm.prf_terms
 * terms that the best FTS_PRF_DOCS first-pass matches docs[n] (scores
 * scores[n], best first) have in common, weighted by how much of those
 * tips they make up and how rare they are. 0 or <0. */
#define FTS_PRF_DOCS 5
int fts_prf(fts_t *f, MDB_txn *txn, MDB_cursor *c, const uint32_t *docs, const float *scores,
            size_t n, double N, fts_query_t *q);

/* Proximity (fts_prox.c): into *mult the factor (>= 1) by which the tip
 * id's score is multiplied for q's words standing side by side on its
 * lines and for the share of q its first prose line holds, widf[] the idf
 * of each query word. 1 when there is no text callback or the tip has no
 * text. 0 or <0. */
int fts_prox(fts_t *f, MDB_txn *txn, const fts_query_t *q, const double *widf,
             const uint8_t id[EVENT_ID_LEN], double *mult);

/* One query's scoring state (fts_search.c, fts_prune.c). */
typedef struct {
    fts_t *f;
    double N;
    float inv_norm[FTS_FIELDS][256]; /* weight_f / (1 - b + b * len/avg) */
    size_t posts;                    /* postings read, all terms: the candidate walks' budget */
    double widf[32];                 /* per query word: the largest idf of its terms */
    uint32_t limit;
    struct {
        uint32_t mask;
        float v;
        bool used;
    } coord[64]; /* coordination factors met in this pass, by mask */
} fts_score_t;

/* A scored candidate. */
typedef struct {
    float score;
    uint32_t doc;
} fts_cand_t;

/* Weighted term frequency of a posting, tf~ of docs/SEARCH.md: counts p[4..6]
 * and p[10], quantised lengths p[7..9] and p[11] (fts_tf_at, fts_len_at).
 * Single precision: it runs for every posting read, and both scoring paths
 * must compute exactly the same value. */
_Static_assert(FTS_FIELDS == 4 && FTS_POST_LEN == 12, "fts_tf reads four fields");
static inline float fts_tf(const fts_score_t *s, const uint8_t *p)
{
    return (float)p[4] * s->inv_norm[FTS_F_TITLE][p[7]] +
           (float)p[5] * s->inv_norm[FTS_F_BODY][p[8]] +
           (float)p[6] * s->inv_norm[FTS_F_TOPIC][p[9]] +
           (float)p[10] * s->inv_norm[FTS_F_CODE][p[11]];
}

/* idf of a term on df tips; the query word it stands for (bit, 0: none)
 * remembers the largest idf of its terms in s->widf. */
double fts_idf(fts_score_t *s, size_t df, uint32_t bit);
/* The coordination factor (docs/SEARCH.md) of a tip matching the query
 * words in mask, with s->widf complete. */
float fts_coord(fts_score_t *s, const fts_query_t *q, uint32_t mask);
/* The score of a tip from its per-term contributions c[q->n] (0: term not
 * matched), its words matched and named-topic boost: exactly what adding
 * the contributions into an accumulator in term order gives. */
float fts_final(fts_score_t *s, const fts_query_t *q, const float *c, uint32_t mask, bool named);

/* Score q with MaxScore dynamic pruning (fts_prune.c): the candidates into
 * a new *cand[*nc], every tip whose score is >= *floor among them, with the
 * same scores exhaustive scoring gives; tips not returned score below
 * *floor. keep: how many of the best the caller needs for certain (its
 * first phase), k: its hits; the floor rises with the best found and stays
 * at or below the keep-th best score and the k-th best / FTS_PRIOR_MAX.
 * With lo > 0 the floor is lo from the start and only tips scoring below
 * hi are returned (keep and k unused). Returns 1 if pruning does not apply
 * (parameters, or too few postings to pay: score exhaustively), 0, or <0. */
int fts_gather_pruned(fts_score_t *s, MDB_txn *txn, const fts_query_t *q, const uint8_t *filter,
                      const uint8_t *named, size_t keep, size_t k, float lo, float hi,
                      fts_cand_t **cand, size_t *nc, float *floor);

/* ---- what is kept in memory about long lists (fts_summary.c) ---- */

/* The summary of term's postings (c: a cursor on fts_post) covering every
 * docnum below limit, for the index state (limit, docs) of the caller's
 * snapshot: from the cache, brought up to date by reading the postings
 * added since, or made by reading them all. NULL with *err 0 when the
 * cached one was made from a newer state (a retraction since may have
 * taken postings out of it) or the term is too long, NULL with *err set
 * on error. The pointer is good until the next fts_bound_get. */
fts_bound_t *fts_bound_get(fts_t *f, MDB_cursor *c, const MDB_val *term, uint32_t limit,
                           uint64_t docs, int *err);
/* x / (k1 + x) for the largest weighted term frequency the summary b
 * allows: per field, the largest count times the largest norm of its
 * length bucket. */
double fts_bound_share(const fts_score_t *s, const fts_bound_t *b, double k1);
/* A new query: the bitmaps it gets stay in place until the next call. */
void fts_pres_begin(fts_t *f);
/* The bitmap of the docnums below limit that hold term (bit d % 8 of byte
 * d / 8), exact for the index state (limit, docs) of the caller's
 * snapshot, made or brought up to date as fts_bound_get does. NULL with
 * *err 0 when it cannot be had exactly (an older snapshot, a term too
 * long) or the budget is taken by this query's others, NULL with *err set
 * on error. Valid until the next fts_pres_begin. */
const uint8_t *fts_pres_get(fts_t *f, MDB_cursor *c, const MDB_val *term, uint32_t limit,
                            uint64_t docs, int *err);
/* Make, for the index as txn sees it, the summaries of the long lists
 * (the longest first, up to half the table) and the bitmaps of the
 * longest synonyms (as many as the budget holds), so that the first
 * questions after a start do not read whole lists to make them. Takes the
 * search's lock for one term at a time and asks stop(arg) (may be NULL)
 * before each. 0 when done, 1 when stop said so, or <0. */
int fts_summary_warm(fts_t *f, MDB_txn *txn, int (*stop)(void *arg), void *arg);
/* Forget every summary and bitmap (the index was emptied); free them. */
void fts_summary_clear(fts_t *f);
void fts_summary_free(fts_t *f);

/* The default ranking parameters. */
void fts_params_default(fts_params_t *p);

/* The doc record of docnum into *doc, the whole record (topics follow the
 * fixed part) in *rec: 0, 1 if there is none (retracted), <0 on error. */
int fts_doc_get(fts_t *f, MDB_txn *txn, uint32_t docnum, fts_doc_t *doc, MDB_val *rec);

/* The statistics record as of txn (zeroes, next docnum 1, if none yet). */
int fts_stats_get(MDB_txn *txn, MDB_dbi meta, fts_stats_t *st);

#endif
