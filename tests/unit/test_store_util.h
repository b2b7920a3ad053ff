/* test_store_util.h -- helpers shared by the store's cmocka tests: fixed
 * test identities, signed events made with core's event API, temporary
 * store directories, batch ingest and collectors for listings.
 * Included by test_store.c and test_store_meaning.c only (after cmocka.h).
 */
#ifndef TIPD_TEST_STORE_UTIL_H
#define TIPD_TEST_STORE_UTIL_H

#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "store.h"

#define T0 1795968000000ULL /* 2026-11-29, a fixed base for created_at */

typedef struct {
    uint8_t pk[32], sk[64];
} key_t_;

typedef struct {
    uint8_t *buf;
    size_t len;
    uint8_t id[EVENT_ID_LEN];
} raw_t;

static key_t_ A, B, C; /* fixed identities, see s_keys() */

static inline void s_key(key_t_ *k, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static int s_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static inline char *s_tmpdir(void)
{
    char *d = strdup("/tmp/tipd-store-test-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static inline void s_rmdir(char *d)
{
    nftw(d, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

/* Sign and encode an event with up to two references (role 0 = none),
 * marked imported (from "notes.md") if imported is set. */
static inline raw_t s_mk_ex(int kind, const key_t_ *k, uint64_t t, const char *title,
                            const char *body, const char *topics, int value, int role,
                            const uint8_t *ref, int role2, const uint8_t *ref2, int imported)
{
    event_t *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    event_init(ev, (event_kind_t)kind);
    ev->created_at = t;
    ev->value = (uint8_t)value;
    if (title) assert_int_equal(event_set_title(ev, title, strlen(title)), 0);
    if (body) assert_int_equal(event_set_body(ev, body, strlen(body)), 0);
    if (topics) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", topics);
        for (char *save, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
            assert_int_equal(event_add_topic(ev, tok), 0);
    }
    if (role) assert_int_equal(event_add_ref(ev, (event_ref_role_t)role, ref), 0);
    if (role2) assert_int_equal(event_add_ref(ev, (event_ref_role_t)role2, ref2), 0);
    if (imported) assert_int_equal(event_set_imported(ev, "notes.md"), 0);
    assert_int_equal(event_sign(ev, k->sk), 0);
    raw_t r;
    r.buf = malloc(EVENT_MAX_SIZE);
    assert_non_null(r.buf);
    assert_int_equal(event_encode(ev, r.buf, EVENT_MAX_SIZE, &r.len), 0);
    memcpy(r.id, ev->id, EVENT_ID_LEN);
    free(ev);
    return r;
}

static inline raw_t s_mk(int kind, const key_t_ *k, uint64_t t, const char *title, const char *body,
                         const char *topics, int value, int role, const uint8_t *ref, int role2,
                         const uint8_t *ref2)
{
    return s_mk_ex(kind, k, t, title, body, topics, value, role, ref, role2, ref2, 0);
}

static inline raw_t s_tip(const key_t_ *k, uint64_t t, const char *title, const char *topics)
{
    return s_mk(EVENT_TIP, k, t, title, "body text", topics, 0, 0, NULL, 0, NULL);
}

static inline raw_t s_act(int kind, const key_t_ *k, uint64_t t, const uint8_t *target, int value)
{
    return s_mk(kind, k, t, NULL, NULL, NULL, value, EVENT_REF_TARGET, target, 0, NULL);
}

static inline raw_t s_edit(const key_t_ *k, uint64_t t, const char *title, const uint8_t *old)
{
    return s_mk(EVENT_TIP, k, t, title, "edited body", NULL, 0, EVENT_REF_SUPERSEDES, old, 0, NULL);
}

static inline void s_free(raw_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

static inline store_t *s_open_opts(const char *dir, size_t map, int no_reserve)
{
    store_opts_t o = {.map_size = map, .no_sync = 1, .no_reserve = no_reserve};
    int err = 1;
    store_t *s = store_new(dir, &o, &err);
    assert_non_null(s);
    assert_int_equal(err, 0);
    return s;
}

static inline store_t *s_open(const char *dir, size_t map)
{
    return s_open_opts(dir, map, 0);
}

/* Ingest raws[0..n) as one batch; results to out (may be NULL). */
static inline void s_ingest(store_t *s, raw_t *raws, size_t n, store_result_t *out)
{
    const uint8_t **ev = calloc(n, sizeof *ev);
    size_t *lens = calloc(n, sizeof *lens);
    store_result_t *res = out ? out : calloc(n, sizeof *res);
    for (size_t i = 0; i < n; i++) {
        ev[i] = raws[i].buf;
        lens[i] = raws[i].len;
    }
    assert_int_equal(store_ingest(s, ev, lens, n, T0 + 86400000ULL, 0, res), 0);
    if (!out) {
        for (size_t i = 0; i < n; i++) assert_int_not_equal(res[i].status, STORE_REJECTED);
        free(res);
    }
    free(ev);
    free(lens);
}

static inline void s_one(store_t *s, raw_t *r)
{
    s_ingest(s, r, 1, NULL);
}

/* ---- collectors ---- */

typedef struct {
    uint8_t ids[64][EVENT_ID_LEN];
    uint64_t t[64];
    size_t n;
} ids_t;

static inline int s_collect(const event_t *ev, const uint8_t *raw, size_t len, void *arg)
{
    ids_t *c = arg;
    assert_true(len > 0 && raw != NULL);
    if (c->n < 64) {
        memcpy(c->ids[c->n], ev->id, EVENT_ID_LEN);
        c->t[c->n] = ev->created_at;
    }
    c->n++;
    return 0;
}

static inline int s_item(uint64_t t, const uint8_t id[EVENT_ID_LEN], void *arg)
{
    ids_t *c = arg;
    if (c->n < 64) {
        memcpy(c->ids[c->n], id, EVENT_ID_LEN);
        c->t[c->n] = t;
    }
    c->n++;
    return 0;
}

static inline ids_t s_list(store_t *s, const store_filter_t *f, size_t limit)
{
    ids_t c = {.n = 0};
    assert_int_equal(store_list(s, f, limit, s_collect, &c), 0);
    return c;
}

static inline ids_t s_items(store_t *s)
{
    ids_t c = {.n = 0};
    assert_int_equal(store_items(s, s_item, &c), 0);
    return c;
}

static inline void s_keys(void)
{
    s_key(&A, 1);
    s_key(&B, 2);
    s_key(&C, 3);
}

#endif
