/* fts.c -- the full-text index: open, index, flush, unindex (docs/SEARCH.md).
 *
 * Four named LMDB databases inside the store's environment:
 *   fts_post  term -> postings. DUPSORT|DUPFIXED, 12-byte values
 *             (docnum big-endian, tf per field, quantised field lengths),
 *             so one term's postings sit sorted on contiguous pages and are
 *             read a page at a time with MDB_GET_MULTIPLE. Topic filter
 *             terms are stored under "\1" + topic (exact, unstemmed), the
 *             names in a topic also under "\2" + name reversed
 *             (fts_names), both counted once in the topics field: for
 *             filters and for names that start or end with a query word.
 *   fts_doc   docnum (u32 BE) -> id, author, kind, topics (a candidate)
 *   fts_id    created_at (u64 BE) || id -> docnum (idempotent indexing,
 *             retraction); time first so a batch's new entries append
 *             instead of dirtying most pages of a tree keyed by random ids
 *   fts_meta  "stats" -> document count, summed field lengths, next docnum;
 *             "version" -> the rules it was built by (FTS_VERSION, u32 BE)
 *
 * Field lengths travel inside each posting (one byte each, like Lucene's
 * norms) so that scoring (fts_search.c) never has to look up a document.
 * Indexing queues a transaction's postings in the handle, grouped by term
 * through a hash table; fts_flush() sorts the distinct terms and writes each
 * term's postings with one MDB_MULTIPLE|MDB_APPENDDUP put through one
 * cursor: docnums only grow, so every list is appended to and the cursor
 * stays on the page it needs. That is several times cheaper than a put per
 * posting.
 */
#include "fts_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static bool s_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool fts_is_name(const char *s, size_t len)
{
    if (len < FTS_NAME_MIN || len > EVENT_MAX_TOPIC_LEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!s_name_char(s[i])) return false;
    return true;
}

int fts_names(const char *topic, size_t len, fts_name_fn fn, void *arg)
{
    /* Parts between ASCII separators ("-", ".", "_", ...); a part with a
     * letter beyond ASCII ("café") is a word, not a name. */
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && ((uint8_t)topic[j] >= 0x80 || s_name_char(topic[j]))) j++;
        if (fts_is_name(topic + i, j - i)) {
            int rc = fn(topic + i, j - i, arg);
            if (rc) return rc;
        }
        i = j + 1;
    }
    return 0;
}

/* A name's key for the names ending in a word: FTS_NAME_MARK + the name
 * reversed. */
static void s_name_key(const char *name, size_t len, char key[])
{
    key[0] = FTS_NAME_MARK;
    for (size_t i = 0; i < len; i++) key[1 + i] = name[len - 1 - i];
}

/* The fts_id key of ev: created_at || id (the id alone fixes created_at, so
 * this maps ids one to one; the time prefix only orders the tree). */
#define FTS_IDKEY_LEN (8 + EVENT_ID_LEN)
static void s_idkey(const event_t *ev, uint8_t out[FTS_IDKEY_LEN])
{
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(ev->created_at >> (56 - 8 * i));
    memcpy(out + 8, ev->id, EVENT_ID_LEN);
}

/* Field length -> one byte: exact below 128, then 4% steps (to ~18k). */
static uint8_t s_len_q(uint32_t len)
{
    if (len < 128) return (uint8_t)len;
    double q = 128.0 + floor(log((double)len / 128.0) / log(1.04));
    return q > 255.0 ? 255 : (uint8_t)q;
}

static double s_len_dq(uint8_t q)
{
    return q < 128 ? (double)q : 128.0 * pow(1.04, (double)(q - 128));
}

int fts_stats_get(MDB_txn *txn, MDB_dbi meta, fts_stats_t *st)
{
    MDB_val k = {5, (void *)"stats"}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    memset(st, 0, sizeof *st);
    if (rc == MDB_NOTFOUND) {
        st->next_doc = 1;
        return 0;
    }
    if (rc) return STORE_E_LMDB;
    if (v.mv_size != sizeof *st) return STORE_E_LMDB;
    memcpy(st, v.mv_data, sizeof *st);
    return 0;
}

static int s_put_stats(MDB_txn *txn, MDB_dbi meta, const fts_stats_t *st)
{
    MDB_val k = {5, (void *)"stats"}, v = {sizeof *st, (void *)st};
    return mdb_put(txn, meta, &k, &v, 0) ? STORE_E_LMDB : 0;
}

int fts_version(fts_t *f, MDB_txn *txn, uint32_t *v)
{
    MDB_val k = {7, (void *)"version"}, d;
    int rc = mdb_get(txn, f->meta, &k, &d);
    if (rc == 0 && d.mv_size == 4) {
        *v = fts_rd32(d.mv_data);
        return 0;
    }
    if (rc && rc != MDB_NOTFOUND) return STORE_E_LMDB;
    fts_stats_t st;
    if ((rc = fts_stats_get(txn, f->meta, &st))) return rc;
    *v = st.docs == 0 && st.next_doc <= 1 ? 0 : 1; /* no mark: new, or version 1 */
    return 0;
}

int fts_version_mark(fts_t *f, MDB_txn *txn)
{
    uint8_t b[4];
    fts_be32(b, FTS_VERSION);
    MDB_val k = {7, (void *)"version"}, d = {4, b};
    return mdb_put(txn, f->meta, &k, &d, 0) ? STORE_E_LMDB : 0;
}

int fts_clear(fts_t *f, MDB_txn *txn)
{
    MDB_dbi dbs[] = {f->post, f->doc, f->idmap, f->meta};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        if (mdb_drop(txn, dbs[i], 0)) return STORE_E_LMDB;
    fts_discard(f);
    fts_summary_clear(f);
    f->tcache_n = FTS_TCACHE_MAX + 1; /* counted again at the next search */
    return 0;
}

int fts_doc_get(fts_t *f, MDB_txn *txn, uint32_t docnum, fts_doc_t *doc, MDB_val *rec)
{
    uint8_t dk[4];
    fts_be32(dk, docnum);
    MDB_val k = {4, dk};
    int g = mdb_get(txn, f->doc, &k, rec);
    if (g == MDB_NOTFOUND || (g == 0 && rec->mv_size < sizeof(fts_doc_t))) return 1;
    if (g) return STORE_E_LMDB;
    memcpy(doc, rec->mv_data, sizeof *doc);
    return 0;
}

/* ---- open / close ---- */

int fts_open(MDB_txn *txn, fts_t **out)
{
    if (!txn || !out) return STORE_E_ARG;
    *out = NULL;
    fts_t *f = calloc(1, sizeof *f);
    if (!f) return STORE_E_ARG;
    int rc = mdb_dbi_open(txn, "fts_post", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &f->post);
    if (!rc) rc = mdb_dbi_open(txn, "fts_doc", MDB_CREATE, &f->doc);
    if (!rc) rc = mdb_dbi_open(txn, "fts_id", MDB_CREATE, &f->idmap);
    if (!rc) rc = mdb_dbi_open(txn, "fts_meta", MDB_CREATE, &f->meta);
    if (rc) {
        free(f);
        return STORE_E_LMDB;
    }
    for (int l = 0; l < 256; l++) f->lendq[l] = s_len_dq((uint8_t)l);
    fts_params_default(&f->prm);
    f->wtext = text_new();
    f->qtext = text_new();
    if (!f->wtext || !f->qtext || fts_qword_init(f) || pthread_mutex_init(&f->lock, NULL)) {
        free(f->qw);
        text_destroy(&f->wtext);
        text_destroy(&f->qtext);
        free(f);
        return STORE_E_ARG;
    }
    *out = f;
    return 0;
}

void fts_destroy(fts_t **p)
{
    if (!p || !*p) return;
    fts_t *f = *p;
    text_destroy(&f->wtext);
    text_destroy(&f->qtext);
    free(f->qw);
    pthread_mutex_destroy(&f->lock);
    fts_acc_free(&f->acc);
    free(f->pend);
    free(f->pterms);
    free(f->phash);
    free(f->pbuf);
    free(f->porder);
    free(f->arena);
    free(f->tcache);
    free(f->tsum);
    free(f->tshown);
    free(f->prf_ev);
    fts_summary_free(f);
    free(f);
    *p = NULL;
}

/* ---- indexing ---- */

static int s_dterm_add(const char *term, size_t len, unsigned flags, void *arg)
{
    fts_dterms_t *d = arg;
    d->flen[d->field]++;
    /* Linear probing would be faster for huge bodies, but bodies are at most
     * 16 KiB; a sorted merge after collection keeps this simple. */
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        fts_dterm_t *nv = realloc(d->v, nc * sizeof *nv);
        if (!nv) {
            d->oom = true;
            return 1;
        }
        d->v = nv;
        d->cap = nc;
    }
    fts_dterm_t *e = &d->v[d->n++];
    memcpy(e->term, term, len);
    e->term[len] = 0;
    e->len = (uint8_t)len;
    memset(e->tf, 0, sizeof e->tf);
    e->tf[d->field] = 1;
    return 0;
}

static int s_cmp_dterm(const void *a, const void *b)
{
    const fts_dterm_t *x = a, *y = b;
    return strcmp(x->term, y->term);
}

/* Stem t's next tokenize calls in the language of ev's title and the prose
 * lines of its body (docs/SEARCH.md, "Languages"): code lines are commands
 * and options, whose "a", "y" or "de" say nothing of the language. A
 * function of the event alone, so a retraction finds the terms its tip was
 * indexed under. */
void fts_event_lang(text_t *t, const event_t *ev)
{
    char buf[1100];
    size_t tl = strnlen(ev->title, sizeof ev->title), bl = strnlen(ev->body, sizeof ev->body);
    if (tl > 512) tl = 512;
    memcpy(buf, ev->title, tl);
    size_t n = tl;
    bool fence = false;
    for (size_t i = 0; i < bl && n < sizeof buf - 1;) {
        const char *nl = memchr(ev->body + i, '\n', bl - i);
        size_t e = nl ? (size_t)(nl - ev->body) : bl;
        if (!fts_code_line(ev->body + i, e - i, &fence)) {
            size_t m = e - i < sizeof buf - 1 - n ? e - i : sizeof buf - 1 - n;
            buf[n++] = '\n';
            memcpy(buf + n, ev->body + i, m);
            n += m;
        }
        i = e + 1;
    }
    text_set_lang(t, text_detect(t, buf, n));
}

bool fts_code_line(const char *line, size_t len, bool *fence)
{
    size_t j = 0;
    while (j < len && line[j] == ' ') j++;
    bool mark = len - j >= 3 && memcmp(line + j, "```", 3) == 0;
    bool code = *fence || mark || (len > 0 && line[0] == '\t') || j >= 2;
    if (mark) *fence = !*fence;
    return code;
}

/* Tokenize a body with fn: prose lines into FTS_F_BODY, code lines
 * (fts_code_line) into FTS_F_CODE, switching *field between runs of lines
 * of one kind. */
static void s_body(text_t *t, const char *b, size_t n, int *field, text_term_fn fn, void *arg)
{
    bool fence = false;
    int kind = -1;
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && b[e] != '\n') e++;
        int k = fts_code_line(b + i, e - i, &fence) ? FTS_F_CODE : FTS_F_BODY;
        if (k != kind) {
            if (kind >= 0 && i > run) {
                *field = kind;
                text_tokenize(t, b + run, i - run, fn, arg);
            }
            run = i;
            kind = k;
        }
        i = e < n ? e + 1 : e;
    }
    if (kind >= 0 && n > run) {
        *field = kind;
        text_tokenize(t, b + run, n - run, fn, arg);
    }
}

/* Collect the unique terms of ev with per-field counts (capped at 255) and
 * field lengths. Returns 0 or -1 on allocation failure. */
static int s_collect(text_t *t, const event_t *ev, fts_dterms_t *d)
{
    d->n = 0;
    d->oom = false;
    memset(d->flen, 0, sizeof d->flen);
    d->field = FTS_F_TITLE;
    fts_event_lang(t, ev);
    text_tokenize(t, ev->title, strnlen(ev->title, sizeof ev->title), s_dterm_add, d);
    s_body(t, ev->body, strnlen(ev->body, sizeof ev->body), &d->field, s_dterm_add, d);
    d->field = FTS_F_TOPIC;
    for (unsigned i = 0; i < ev->ntopics && i < EVENT_MAX_TOPICS; i++)
        text_tokenize(t, ev->topics[i], strnlen(ev->topics[i], sizeof ev->topics[i]), s_dterm_add,
                      d);
    if (d->oom) return -1;
    qsort(d->v, d->n, sizeof d->v[0], s_cmp_dterm);
    size_t w = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (w > 0 && strcmp(d->v[w - 1].term, d->v[i].term) == 0) {
            for (int fi = 0; fi < FTS_FIELDS; fi++) {
                unsigned s = d->v[w - 1].tf[fi] + d->v[i].tf[fi];
                d->v[w - 1].tf[fi] = (uint8_t)(s > 255 ? 255 : s);
            }
        } else {
            d->v[w++] = d->v[i];
        }
    }
    d->n = w;
    return 0;
}

static bool s_indexable(const event_t *ev)
{
    return ev && (ev->kind == EVENT_TIP || ev->kind == EVENT_QUESTION);
}

/* LMDB failure -> store code; map/txn full pass through so that the store
 * can grow the map and retry. */
static int s_lmdb(int rc)
{
    return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL ? rc : STORE_E_LMDB;
}

/* Grow *p (elements of size sz, capacity *cap) to hold at least n. */
static int s_reserve(void **p, size_t *cap, size_t n, size_t sz, size_t first)
{
    if (n <= *cap) return 0;
    size_t nc = *cap ? *cap : first;
    while (nc < n) nc *= 2;
    void *np = realloc(*p, nc * sz);
    if (!np) return STORE_E_NOSPACE;
    *p = np;
    *cap = nc;
    return 0;
}

static uint32_t s_hash(const char *key, size_t klen)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < klen; i++) h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

/* Rebuild the term hash with room for twice the terms. */
static int s_phash_grow(fts_t *f)
{
    size_t nc = f->phash_cap ? f->phash_cap * 2 : 4096;
    uint32_t *nh = calloc(nc, sizeof *nh);
    if (!nh) return STORE_E_NOSPACE;
    for (size_t t = 0; t < f->npterms; t++) {
        size_t i = s_hash(f->arena + f->pterms[t].off, f->pterms[t].len) & (nc - 1);
        while (nh[i]) i = (i + 1) & (nc - 1);
        nh[i] = (uint32_t)t + 1;
    }
    free(f->phash);
    f->phash = nh;
    f->phash_cap = nc;
    return 0;
}

/* Index of term key[klen] among this transaction's terms, added if new;
 * <0 on allocation failure. */
static long s_pterm(fts_t *f, const char *key, size_t klen)
{
    if (2 * (f->npterms + 1) > f->phash_cap && s_phash_grow(f)) return STORE_E_NOSPACE;
    size_t mask = f->phash_cap - 1, i = s_hash(key, klen) & mask;
    for (; f->phash[i]; i = (i + 1) & mask) {
        const fts_pterm_t *t = &f->pterms[f->phash[i] - 1];
        if (t->len == klen && memcmp(f->arena + t->off, key, klen) == 0) return f->phash[i] - 1;
    }
    if (s_reserve((void **)&f->pterms, &f->pterms_cap, f->npterms + 1, sizeof *f->pterms, 1024) ||
        s_reserve((void **)&f->arena, &f->arena_cap, f->arena_len + klen, 1, 65536))
        return STORE_E_NOSPACE;
    fts_pterm_t *t = &f->pterms[f->npterms];
    t->pfx = 0;
    for (size_t j = 0; j < 8; j++) t->pfx = t->pfx << 8 | (j < klen ? (uint8_t)key[j] : 0);
    t->off = (uint32_t)f->arena_len;
    t->len = (uint8_t)klen;
    t->count = 0;
    t->doc = UINT32_MAX; /* no docnum is ever UINT32_MAX */
    memcpy(f->arena + f->arena_len, key, klen);
    f->arena_len += klen;
    f->phash[i] = (uint32_t)++f->npterms;
    return (long)f->npterms - 1;
}

/* The posting of term key[klen] for docnum, queued for fts_flush the first
 * time the document uses the term; NULL on allocation failure. */
static uint8_t *s_pend_get(fts_t *f, const char *key, size_t klen, uint32_t docnum)
{
    if (s_reserve((void **)&f->pend, &f->pend_cap, f->npend + 1, sizeof *f->pend, 4096))
        return NULL;
    long ti = s_pterm(f, key, klen);
    if (ti < 0) return NULL;
    fts_pterm_t *t = &f->pterms[ti];
    if (t->doc == docnum) return f->pend[t->slot].post;
    fts_pend_t *e = &f->pend[f->npend];
    e->term = (uint32_t)ti;
    memset(e->post, 0, FTS_POST_LEN);
    fts_be32(e->post, docnum);
    t->doc = docnum;
    t->slot = (uint32_t)f->npend++;
    t->count++;
    return e->post;
}

static int s_del_posting(MDB_cursor *c, const void *key, size_t klen, uint32_t docnum)
{
    uint8_t probe[FTS_POST_LEN] = {0};
    fts_be32(probe, docnum);
    MDB_val k = {klen, (void *)key}, v = {FTS_POST_LEN, probe};
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return STORE_E_LMDB;
    if (v.mv_size != FTS_POST_LEN || fts_rd32(v.mv_data) != docnum) return 0;
    return mdb_cursor_del(c, 0) ? STORE_E_LMDB : 0;
}

/* fts_names callbacks: post a name of a topic (fts_index), or take it away
 * (fts_unindex; a tip indexed before names were posted has none). */
typedef struct {
    fts_t *f;
    uint32_t docnum;
    MDB_cursor *c;
    uint8_t topic_len; /* the tip's quantised topics length */
} s_name_ix_t;

/* Topic and name postings count the topic once in the topics field, with
 * the tip's topics length, so that a query can score a name's own short
 * list instead of every mention of the word it makes (fts_names.c). */
static int s_topic_post(fts_t *f, const char *key, size_t klen, uint32_t docnum, uint8_t topic_len)
{
    uint8_t *p = s_pend_get(f, key, klen, docnum);
    if (!p) return STORE_E_NOSPACE;
    p[fts_tf_at[FTS_F_TOPIC]] = 1;
    p[fts_len_at[FTS_F_TOPIC]] = topic_len;
    return 0;
}

static int s_name_post(const char *name, size_t len, void *arg)
{
    s_name_ix_t *x = arg;
    char key[EVENT_MAX_TOPIC_LEN + 1];
    s_name_key(name, len, key);
    return s_topic_post(x->f, key, len + 1, x->docnum, x->topic_len);
}

static int s_name_unpost(const char *name, size_t len, void *arg)
{
    s_name_ix_t *x = arg;
    char key[EVENT_MAX_TOPIC_LEN + 1];
    s_name_key(name, len, key);
    return s_del_posting(x->c, key, len + 1, x->docnum);
}

/* text_tokenize callback of fts_index: count the term in its field. */
typedef struct {
    fts_t *f;
    uint32_t docnum;
    int field;
    uint32_t flen[FTS_FIELDS];
    bool oom;
} s_ix_t;

static int s_ix_term(const char *term, size_t len, unsigned flags, void *arg)
{
    s_ix_t *x = arg;
    x->flen[x->field]++;
    uint8_t *post = s_pend_get(x->f, term, len, x->docnum);
    if (!post) {
        x->oom = true;
        return 1;
    }
    if (post[fts_tf_at[x->field]] < 255) post[fts_tf_at[x->field]]++;
    return 0;
}

void fts_discard(fts_t *f)
{
    if (!f) return;
    f->npend = 0;
    f->npterms = 0;
    f->arena_len = 0;
    if (f->phash) memset(f->phash, 0, f->phash_cap * sizeof *f->phash);
    f->wstats_ok = false;
}

/* Order of term indexes by key, LMDB's default: bytes, then shorter first
 * (terms hold no NUL bytes, so the zero-padded prefix agrees with it). */
static int s_cmp_pterm(const void *a, const void *b, void *arg)
{
    const fts_t *f = arg;
    const fts_pterm_t *x = &f->pterms[*(const uint32_t *)a], *y = &f->pterms[*(const uint32_t *)b];
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(f->arena + x->off, f->arena + y->off, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Write term t's grouped postings. They are in docnum order and above
 * every stored one, so LMDB appends them in one call; should that ever be
 * refused, they go in one by one. */
static int s_put_term(fts_t *f, MDB_cursor *c, const fts_pterm_t *t)
{
    uint8_t *data = f->pbuf + (size_t)(t->next - t->count) * FTS_POST_LEN;
    MDB_val k = {t->len, f->arena + t->off};
    MDB_val v[2] = {{FTS_POST_LEN, data}, {t->count, NULL}};
    int rc = mdb_cursor_put(c, &k, v, MDB_MULTIPLE | MDB_APPENDDUP);
    if (rc != MDB_KEYEXIST) return rc;
    for (uint32_t i = 0; i < t->count; i++) {
        MDB_val one = {FTS_POST_LEN, data + (size_t)i * FTS_POST_LEN};
        rc = mdb_cursor_put(c, &k, &one, 0);
        if (rc && rc != MDB_KEYEXIST) return rc;
    }
    return 0;
}

int fts_flush(fts_t *f, MDB_txn *txn)
{
    if (!f) return 0; /* nothing can be queued */
    if (!txn) return STORE_E_ARG;
    int rc = 0;
    if (f->npend) {
        if (s_reserve((void **)&f->porder, &f->porder_cap, f->npterms, sizeof *f->porder, 1024) ||
            s_reserve((void **)&f->pbuf, &f->pbuf_cap, f->npend * FTS_POST_LEN, 1, 65536)) {
            fts_discard(f);
            return STORE_E_NOSPACE;
        }
        /* Sort the distinct terms, not the postings; then place each
         * posting in its term's group (queue order = docnum order). */
        for (size_t t = 0; t < f->npterms; t++) f->porder[t] = (uint32_t)t;
        qsort_r(f->porder, f->npterms, sizeof *f->porder, s_cmp_pterm, f);
        uint32_t at = 0;
        for (size_t i = 0; i < f->npterms; i++) {
            fts_pterm_t *t = &f->pterms[f->porder[i]];
            t->next = at;
            at += t->count;
        }
        for (size_t i = 0; i < f->npend; i++) {
            fts_pterm_t *t = &f->pterms[f->pend[i].term];
            memcpy(f->pbuf + (size_t)t->next++ * FTS_POST_LEN, f->pend[i].post, FTS_POST_LEN);
        }
        MDB_cursor *c;
        if ((rc = mdb_cursor_open(txn, f->post, &c))) {
            fts_discard(f);
            return s_lmdb(rc);
        }
        /* Keys in order: the cursor stays on the page it needs. */
        for (size_t i = 0; i < f->npterms && !rc; i++)
            if (f->pterms[f->porder[i]].count) rc = s_put_term(f, c, &f->pterms[f->porder[i]]);
        mdb_cursor_close(c);
        if (rc) rc = s_lmdb(rc);
    }
    if (!rc && f->wstats_ok) rc = s_put_stats(txn, f->meta, &f->wstats);
    fts_discard(f);
    return rc;
}

/* The FTS_DOC_* facts of ev for its record. */
static uint8_t s_hints(const event_t *ev)
{
    uint8_t h = FTS_DOC_KNOWN;
    if (ev->imported) h |= FTS_DOC_IMPORTED;
    if (event_ref(ev, EVENT_REF_SUPERSEDES)) h |= FTS_DOC_EDIT;
    return h;
}

int fts_index(fts_t *f, MDB_txn *txn, const event_t *ev)
{
    if (!f || !txn || !ev) return STORE_E_ARG;
    if (!s_indexable(ev)) return 0;
    int rc = 0;
    if (!f->wstats_ok) {
        if ((rc = fts_stats_get(txn, f->meta, &f->wstats))) return rc;
        f->wstats_ok = true;
    }
    fts_stats_t *st = &f->wstats;
    if (st->next_doc == UINT32_MAX) return STORE_E_NOSPACE;
    uint32_t docnum = st->next_doc;
    /* Claim the id first: MDB_NOOVERWRITE both records the mapping and
     * tells us, in one lookup, whether the event is indexed already. */
    uint8_t dk[4];
    fts_be32(dk, docnum);
    uint8_t idk[FTS_IDKEY_LEN];
    s_idkey(ev, idk);
    MDB_val ik = {sizeof idk, idk}, iv = {4, dk};
    rc = mdb_put(txn, f->idmap, &ik, &iv, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return 0;
    if (rc) return s_lmdb(rc);

    /* Terms go straight into this transaction's queue: a term met again in
     * the same tip only bumps its count in that tip's posting. */
    size_t npend0 = f->npend;
    s_ix_t x = {.f = f, .docnum = docnum};
    x.field = FTS_F_TITLE;
    fts_event_lang(f->wtext, ev);
    text_tokenize(f->wtext, ev->title, strnlen(ev->title, sizeof ev->title), s_ix_term, &x);
    if (!x.oom)
        s_body(f->wtext, ev->body, strnlen(ev->body, sizeof ev->body), &x.field, s_ix_term, &x);
    x.field = FTS_F_TOPIC;
    for (unsigned i = 0; i < ev->ntopics && i < EVENT_MAX_TOPICS && !x.oom; i++)
        text_tokenize(f->wtext, ev->topics[i], strnlen(ev->topics[i], sizeof ev->topics[i]),
                      s_ix_term, &x);
    if (x.oom) rc = STORE_E_NOSPACE;
    uint8_t lq[FTS_FIELDS];
    for (int fi = 0; fi < FTS_FIELDS; fi++) lq[fi] = s_len_q(x.flen[fi]);
    for (size_t i = npend0; i < f->npend; i++)
        for (int fi = 0; fi < FTS_FIELDS; fi++) f->pend[i].post[fts_len_at[fi]] = lq[fi];
    /* Topic terms (filters; names that start a topic) and the names in
     * each topic, reversed (names that end with a word). */
    for (unsigned i = 0; i < ev->ntopics && i < EVENT_MAX_TOPICS && !rc; i++) {
        char key[EVENT_MAX_TOPIC_LEN + 2];
        size_t tl = strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN);
        if (tl == 0) continue;
        key[0] = FTS_TOPIC_MARK;
        memcpy(key + 1, ev->topics[i], tl);
        rc = s_topic_post(f, key, tl + 1, docnum, lq[FTS_F_TOPIC]);
        s_name_ix_t nx = {f, docnum, NULL, lq[FTS_F_TOPIC]};
        if (!rc) rc = fts_names(ev->topics[i], tl, s_name_post, &nx);
    }

    /* The record is the fixed part followed by the topics, each
     * NUL-terminated (read back for topic-cluster support). */
    uint8_t rec[sizeof(fts_doc_t) + EVENT_MAX_TOPICS * (EVENT_MAX_TOPIC_LEN + 1)];
    fts_doc_t doc = {.kind = ev->kind, .hints = s_hints(ev)};
    memcpy(doc.id, ev->id, EVENT_ID_LEN);
    memcpy(doc.author, ev->author, EVENT_KEY_LEN);
    memcpy(rec, &doc, sizeof doc);
    size_t rl = sizeof doc;
    for (unsigned i = 0; i < ev->ntopics && i < EVENT_MAX_TOPICS; i++) {
        size_t tl = strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN);
        memcpy(rec + rl, ev->topics[i], tl);
        rec[rl + tl] = 0;
        rl += tl + 1;
    }
    MDB_val kk = {4, dk}, dv = {rl, rec};
    if (!rc) {
        rc = mdb_put(txn, f->doc, &kk, &dv, MDB_APPEND);
        if (rc == MDB_KEYEXIST) rc = mdb_put(txn, f->doc, &kk, &dv, 0);
        if (rc) rc = s_lmdb(rc);
    }
    if (rc) {
        /* Nothing of this event stays queued; the caller aborts anyway (the
         * id mapping written above goes with the transaction). */
        for (size_t i = npend0; i < f->npend; i++) {
            f->pterms[f->pend[i].term].count--;
            f->pterms[f->pend[i].term].doc = UINT32_MAX;
        }
        f->npend = npend0;
        return rc;
    }
    st->next_doc++;
    st->docs++;
    for (int fi = 0; fi < FTS_FIELDS; fi++) st->len[fi] += x.flen[fi];
    return 0;
}

/* Delete the posting of docnum under key (term). Missing is fine. */

int fts_unindex(fts_t *f, MDB_txn *txn, const event_t *ev)
{
    if (!f || !txn || !ev) return STORE_E_ARG;
    uint8_t idk[FTS_IDKEY_LEN];
    s_idkey(ev, idk);
    MDB_val k = {sizeof idk, idk}, v;
    int rc = mdb_get(txn, f->idmap, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc || v.mv_size != 4) return STORE_E_LMDB;
    uint32_t docnum = fts_rd32(v.mv_data);
    uint8_t dk[4];
    fts_be32(dk, docnum);
    /* Postings queued earlier in this transaction must be in place before
     * they can be deleted. */
    if ((rc = fts_flush(f, txn))) return rc;

    /* The document's terms come from re-tokenizing the event; if they ever
     * differed from what was indexed, the missing doc record below still
     * keeps stale postings out of results. */
    fts_dterms_t d = {0};
    if (s_collect(f->wtext, ev, &d)) {
        free(d.v);
        return STORE_E_ARG;
    }
    MDB_cursor *c;
    if (mdb_cursor_open(txn, f->post, &c)) {
        free(d.v);
        return STORE_E_LMDB;
    }
    rc = 0;
    for (size_t i = 0; i < d.n && !rc; i++) rc = s_del_posting(c, d.v[i].term, d.v[i].len, docnum);
    for (unsigned i = 0; i < ev->ntopics && i < EVENT_MAX_TOPICS && !rc; i++) {
        char key[EVENT_MAX_TOPIC_LEN + 2];
        size_t tl = strnlen(ev->topics[i], EVENT_MAX_TOPIC_LEN);
        key[0] = FTS_TOPIC_MARK;
        memcpy(key + 1, ev->topics[i], tl);
        rc = s_del_posting(c, key, tl + 1, docnum);
        s_name_ix_t nx = {NULL, docnum, c, 0};
        if (!rc) rc = fts_names(ev->topics[i], tl, s_name_unpost, &nx);
    }
    mdb_cursor_close(c);
    if (rc) {
        free(d.v);
        return rc;
    }
    MDB_val kk = {4, dk};
    if ((rc = mdb_del(txn, f->doc, &kk, NULL)) && rc != MDB_NOTFOUND) {
        free(d.v);
        return STORE_E_LMDB;
    }
    if (mdb_del(txn, f->idmap, &k, NULL)) {
        free(d.v);
        return STORE_E_LMDB;
    }
    fts_stats_t st;
    if ((rc = fts_stats_get(txn, f->meta, &st))) {
        free(d.v);
        return rc;
    }
    if (st.docs) st.docs--;
    for (int fi = 0; fi < FTS_FIELDS; fi++)
        st.len[fi] = st.len[fi] >= d.flen[fi] ? st.len[fi] - d.flen[fi] : 0;
    free(d.v);
    return s_put_stats(txn, f->meta, &st);
}
