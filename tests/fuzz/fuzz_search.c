/* fuzz_search.c -- libFuzzer target for ranked search (store/fts_search.c,
 * the tokenizer store/text.c and the store's visibility callback).
 *
 * A search string comes from any user of the machine through the API, so
 * no query or filter may crash, read out of bounds or keep the daemon's
 * loop busy without end. The store is built once, at the first input, in a
 * temporary directory: the tldr sample of tests/data (2733 real tips,
 * signed with a fixed key and ingested with STORE_INGEST_VERIFIED), with
 * every 7th tip retracted, every 11th superseded by an edit and every 5th
 * rated or thanked, so the walk over candidates meets invisible ones and
 * priors above 1. Each input is then
 *   byte 0: filter bits (kind: 0/tip/question/rating; author: none, the
 *           sample's author, a stranger; topic filter on/off; the size of
 *           the corrected-query buffer, 1, 4 or 48 bytes),
 *   byte 1: how many hits to ask for (0..63),
 *   the rest: query, then NUL-separated topic filters.
 * Properties: store_search returns 0; at most max hits; scores finite,
 * positive and best first; no hit repeated; the corrected query is a
 * string inside its buffer; pruning (store/fts_prune.c, forced on here
 * whatever the lists' length) returns exactly the hits and scores that
 * scoring every posting returns. Typo correction runs for every word the sample
 * lacks, so fuzzed words exercise its edit enumeration and term scan. A loop that does not end is
 * caught by libFuzzer's -timeout.
 *
 * Built by tests/fuzz/CMakeLists.txt with gcc plus replay_main.c (ctest
 * fuzz/search_replay replays corpus/search/) and, with -DTIPD_FUZZ=ON and
 * clang, into build/bin/fuzz-search.
 */
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "fts.h"
#include "store.h"
#include "store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_T0    1795968000000ULL
#define S_BATCH 256

static store_t *s_store;
static char s_dir[] = "/tmp/tipd-fuzz-search-XXXXXX";
static uint8_t s_pk[32], s_sk[64];

static void s_check(int cond)
{
    if (!cond) abort();
}

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void s_cleanup(void)
{
    store_destroy(&s_store);
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Batch of signed events waiting for store_ingest. */
typedef struct {
    uint8_t buf[S_BATCH][EVENT_MAX_SIZE];
    const uint8_t *ptr[S_BATCH];
    size_t len[S_BATCH], n;
    store_result_t res[S_BATCH];
    uint64_t ts;
} s_batch_t;

static void s_flush(s_batch_t *b)
{
    if (!b->n) return;
    s_check(store_ingest(s_store, b->ptr, b->len, b->n, S_T0 + 3600 * 1000ULL,
                         STORE_INGEST_VERIFIED, b->res) == 0);
    for (size_t i = 0; i < b->n; i++) s_check(b->res[i].status == STORE_NEW);
    b->n = 0;
}

/* Sign ev (created_at set here) and queue it; its id is in ev->id after. */
static void s_queue(s_batch_t *b, event_t *ev)
{
    if (b->n == S_BATCH) s_flush(b);
    ev->created_at = b->ts++;
    s_check(event_sign(ev, s_sk) == 0);
    s_check(event_encode(ev, b->buf[b->n], EVENT_MAX_SIZE, &b->len[b->n]) == 0);
    b->ptr[b->n] = b->buf[b->n];
    b->n++;
}

static void s_act(s_batch_t *b, int kind, int value, const uint8_t *target)
{
    static event_t ev;
    event_init(&ev, kind);
    ev.value = (uint8_t)value;
    s_check(event_add_ref(&ev, EVENT_REF_TARGET, target) == 0);
    s_queue(b, &ev);
}

/* The sample file: $TIPD_TEST_DATA, else tests/data beside this source. */
static FILE *s_open_sample(void)
{
    char path[4096];
    const char *dir = getenv("TIPD_TEST_DATA");
    if (dir) {
        snprintf(path, sizeof path, "%s/tldr-sample.jsonl", dir);
    } else {
        const char *src = __FILE__, *cut = strstr(src, "fuzz/fuzz_search.c");
        int n = cut ? (int)(cut - src) : 0;
        snprintf(path, sizeof path, "%.*sdata/tldr-sample.jsonl", n, src);
    }
    FILE *fp = fopen(path, "r");
    if (!fp) fprintf(stderr, "fuzz_search: cannot open %s (set TIPD_TEST_DATA)\n", path);
    return fp;
}

static void s_build_store(void)
{
    s_check(sodium_init() >= 0);
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(s_pk, s_sk, seed);
    s_check(mkdtemp(s_dir) != NULL);
    int err = 0;
    s_store = store_new(s_dir, NULL, &err);
    s_check(s_store != NULL);
    /* The sample's lists are short: prune them anyway. */
    s_check(fts_tune(s_store->fts, "prune_min", 0) == 0);
    atexit(s_cleanup);

    FILE *fp = s_open_sample();
    s_check(fp != NULL);
    static s_batch_t b;
    static event_t ev, edit;
    b.ts = S_T0;
    char *line = NULL;
    size_t lcap = 0, i = 0;
    while (getline(&line, &lcap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o) continue;
        const char *title = json_string_value(json_object_get(o, "title"));
        const char *body = json_string_value(json_object_get(o, "body"));
        json_t *tp = json_object_get(o, "topics");
        event_init(&ev, i % 13 == 3 ? EVENT_QUESTION : EVENT_TIP);
        size_t tl = title ? strlen(title) : 0;
        if (tl > EVENT_MAX_TITLE) { /* cut on a character boundary */
            tl = EVENT_MAX_TITLE;
            while (tl > 0 && ((unsigned char)title[tl] & 0xC0) == 0x80) tl--;
        }
        if (event_set_title(&ev, title ? title : "", tl) ||
            event_set_body(&ev, body ? body : "", body ? strlen(body) : 0)) {
            json_decref(o);
            continue;
        }
        for (size_t t = 0; t < json_array_size(tp); t++)
            (void)event_add_topic(&ev, json_string_value(json_array_get(tp, t)));
        json_decref(o);
        s_queue(&b, &ev);
        if (i % 11 == 5) { /* an edit: the original becomes invisible */
            edit = ev;
            memset(edit.refs, 0, sizeof edit.refs);
            edit.nrefs = 0;
            s_check(event_add_ref(&edit, EVENT_REF_SUPERSEDES, ev.id) == 0);
            s_queue(&b, &edit);
        }
        if (i % 7 == 2) s_act(&b, EVENT_RETRACT, 0, ev.id);
        if (i % 5 == 1) s_act(&b, EVENT_RATING, (int)((i / 5) % 5) + 1, ev.id);
        if (i % 5 == 4) s_act(&b, EVENT_THANKS, 0, ev.id);
        i++;
    }
    free(line);
    fclose(fp);
    s_flush(&b);
    s_check(i > 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_store) s_build_store();
    if (size < 2) return 0;
    static const int kinds[4] = {0, EVENT_TIP, EVENT_QUESTION, EVENT_RATING};
    static const uint8_t stranger[EVENT_KEY_LEN] = {1, 2, 3};
    uint8_t bits = data[0];
    size_t max = data[1] & 63;
    data += 2;
    size = size - 2;

    /* Query and topic filters: NUL-terminated copies of the segments. */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    store_search_opts_t o;
    memset(&o, 0, sizeof o);
    o.kind = kinds[bits & 3];
    o.author = (bits & 4) ? ((bits & 8) ? stranger : s_pk) : NULL;
    const char *query = buf;
    size_t ql = strlen(buf);
    if (bits & 16) {
        int nt = 0;
        for (size_t p = ql + 1; p <= size && nt < EVENT_MAX_TOPICS - 1;) {
            o.topics[nt++] = buf + p;
            p += strlen(buf + p) + 1;
        }
    }

    /* The corrected query: always a NUL-terminated string within its
     * buffer, however small. */
    char fixed[48];
    memset(fixed, 'x', sizeof fixed);
    o.fixed = fixed;
    o.fixed_cap = (bits & 64) ? sizeof fixed : (size_t)(bits >> 7) * 3 + 1;

    static store_hit_t hits[64];
    size_t n = 12345;
    int rc = store_search(s_store, query, (bits & 32) ? NULL : &o, hits, max, &n);
    s_check(rc == 0);
    s_check(n <= max);
    if (!(bits & 32)) s_check(strnlen(fixed, o.fixed_cap) < o.fixed_cap);
    for (size_t i = 0; i < n; i++) {
        s_check(isfinite(hits[i].score) && hits[i].score > 0);
        if (i) s_check(hits[i].score <= hits[i - 1].score);
        for (size_t j = 0; j < i; j++) s_check(memcmp(hits[i].id, hits[j].id, EVENT_ID_LEN) != 0);
    }
    /* The same search scoring every posting: the same hits, bit for bit. */
    static store_hit_t all[64];
    size_t na = 12345;
    s_check(fts_tune(s_store->fts, "prune", 0) == 0);
    rc = store_search(s_store, query, (bits & 32) ? NULL : &o, all, max, &na);
    s_check(fts_tune(s_store->fts, "prune", 1) == 0);
    s_check(rc == 0 && na == n);
    for (size_t i = 0; i < n; i++)
        s_check(!memcmp(hits[i].id, all[i].id, EVENT_ID_LEN) && hits[i].score == all[i].score);
    free(buf);
    return 0;
}
