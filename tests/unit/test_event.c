/* test_event.c -- the signed event: round trips, strict decoding, signatures.
 *
 * Malformed encodings are built byte by byte with a small raw writer (s_raw_t)
 * that, unlike the real encoder, will write any field value. Each row of the
 * table names one defect and the exact code the decoder must return; the
 * rest of the event stays valid so the row tests that one rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "event.h"

/* ---- fixtures ---- */

static void s_key(uint8_t sk[64], uint8_t pk[32], uint8_t fill)
{
    uint8_t seed[32];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
}

static void s_id(uint8_t id[32], uint8_t fill)
{
    memset(id, fill, 32);
}

/* A fully populated event of the given kind, valid and unsigned. */
static void s_sample(event_t *ev, event_kind_t kind)
{
    uint8_t a[32], b[32], c[32];
    s_id(a, 0xaa);
    s_id(b, 0xbb);
    s_id(c, 0xcc);
    event_init(ev, kind);
    ev->created_at = 1764432219123ULL;
    switch (kind) {
    case EVENT_TIP:
        assert_int_equal(event_set_title(ev, "Undo the last commit", 20), 0);
        assert_int_equal(event_set_body(ev, "git reset --soft HEAD~1\n\tkeeps changes. Ünïcødé ✓ 𝄞",
                                        strlen("git reset --soft HEAD~1\n\tkeeps changes. "
                                               "Ünïcødé ✓ 𝄞")),
                         0);
        assert_int_equal(event_add_topic(ev, "Git"), 0);
        assert_int_equal(event_add_topic(ev, "c++"), 0);
        assert_int_equal(event_add_topic(ev, "lesson"), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_RELATED, c), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_ANSWERS, a), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_SUPERSEDES, b), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_RELATED, a), 0);
        break;
    case EVENT_QUESTION:
        assert_int_equal(event_set_title(ev, "How do I squash?", 16), 0);
        assert_int_equal(event_set_body(ev, "", 0), 0);
        assert_int_equal(event_add_topic(ev, "git"), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_SUPERSEDES, b), 0);
        break;
    case EVENT_RATING:
        ev->value = 4;
        assert_int_equal(event_add_ref(ev, EVENT_REF_TARGET, a), 0);
        break;
    case EVENT_THANKS:
        assert_int_equal(event_set_body(ev, "saved me an hour", 16), 0);
        assert_int_equal(event_add_ref(ev, EVENT_REF_TARGET, a), 0);
        break;
    case EVENT_RETRACT:
        assert_int_equal(event_add_ref(ev, EVENT_REF_TARGET, a), 0);
        break;
    case EVENT_PROFILE:
        assert_int_equal(event_set_title(ev, "Ada Lovelace", 12), 0);
        assert_int_equal(event_set_body(ev, "Analytical Engines", 18), 0);
        break;
    }
}

/* ---- raw writer for malformed input ---- */

typedef struct {
    uint8_t version, kind;
    uint8_t author[32];
    uint64_t created_at;
    unsigned nrefs; /* written as given (may exceed 8) */
    event_ref_t refs[12];
    unsigned ntopics;
    const char *topics[12];
    int topic_len[12]; /* -1 = strlen */
    uint8_t value;
    const char *title;
    size_t title_len;
    unsigned title_len_field; /* if non-zero, overrides the length written */
    const char *body;
    size_t body_len;
    unsigned body_len_field;
    size_t trailing; /* extra zero bytes after the signature */
} s_raw_t;

static uint8_t s_buf[70000];

/* A valid tip with two refs and two topics, as raw fields. */
static void s_raw_tip(s_raw_t *r)
{
    memset(r, 0, sizeof *r);
    r->version = 1;
    r->kind = EVENT_TIP;
    memset(r->author, 0x11, 32);
    r->created_at = 1764432219123ULL;
    r->nrefs = 2;
    r->refs[0].role = EVENT_REF_ANSWERS;
    memset(r->refs[0].id, 0x22, 32);
    r->refs[1].role = EVENT_REF_RELATED;
    memset(r->refs[1].id, 0x33, 32);
    r->ntopics = 2;
    r->topics[0] = "git";
    r->topics[1] = "shell";
    r->topic_len[0] = r->topic_len[1] = -1;
    r->title = "A title";
    r->title_len = 7;
    r->body = "Some body\ntext";
    r->body_len = 14;
}

static size_t s_raw_write(const s_raw_t *r, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = r->version;
    *p++ = r->kind;
    memcpy(p, r->author, 32);
    p += 32;
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(r->created_at >> (8 * i));
    *p++ = (uint8_t)r->nrefs;
    for (unsigned i = 0; i < r->nrefs; i++) {
        *p++ = r->refs[i].role;
        memcpy(p, r->refs[i].id, 32);
        p += 32;
    }
    *p++ = (uint8_t)r->ntopics;
    for (unsigned i = 0; i < r->ntopics; i++) {
        size_t n = r->topic_len[i] < 0 ? strlen(r->topics[i]) : (size_t)r->topic_len[i];
        *p++ = (uint8_t)n;
        memcpy(p, r->topics[i], n);
        p += n;
    }
    *p++ = r->value;
    unsigned tl = r->title_len_field ? r->title_len_field : (unsigned)r->title_len;
    *p++ = (uint8_t)(tl >> 8);
    *p++ = (uint8_t)tl;
    memcpy(p, r->title, r->title_len);
    p += r->title_len;
    unsigned bl = r->body_len_field ? r->body_len_field : (unsigned)r->body_len;
    *p++ = (uint8_t)(bl >> 8);
    *p++ = (uint8_t)bl;
    memcpy(p, r->body, r->body_len);
    p += r->body_len;
    memset(p, 0x5a, 64); /* signature bytes: decode does not check them */
    p += 64;
    memset(p, 0, r->trailing);
    p += r->trailing;
    return (size_t)(p - out);
}

static int s_raw_decode(const s_raw_t *r)
{
    static event_t ev;
    size_t n = s_raw_write(r, s_buf);
    return event_decode(s_buf, n, &ev);
}

/* ---- tests ---- */

static void test_roundtrip_all_kinds(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32];
    s_key(sk, pk, 7);
    static event_t ev, back;
    static uint8_t enc[EVENT_MAX_SIZE], enc2[EVENT_MAX_SIZE];
    for (int k = EVENT_TIP; k <= EVENT_PROFILE; k++) {
        s_sample(&ev, (event_kind_t)k);
        assert_int_equal(event_validate(&ev), 0);
        assert_int_equal(event_sign(&ev, sk), 0);
        assert_memory_equal(ev.author, pk, 32);
        size_t n = 0, n2 = 0;
        assert_int_equal(event_encode(&ev, enc, sizeof enc, &n), 0);
        assert_int_equal(event_decode(enc, n, &back), 0);
        assert_int_equal(event_verify(&back), 0);
        assert_memory_equal(back.id, ev.id, 32);
        assert_memory_equal(back.sig, ev.sig, 64);
        assert_int_equal(back.kind, k);
        assert_int_equal(back.created_at, ev.created_at);
        assert_int_equal(back.value, ev.value);
        assert_int_equal(back.nrefs, ev.nrefs);
        assert_memory_equal(back.refs, ev.refs, ev.nrefs * sizeof ev.refs[0]);
        assert_int_equal(back.ntopics, ev.ntopics);
        for (int i = 0; i < ev.ntopics; i++) assert_string_equal(back.topics[i], ev.topics[i]);
        assert_int_equal(back.title_len, ev.title_len);
        assert_string_equal(back.title, ev.title);
        assert_int_equal(back.body_len, ev.body_len);
        assert_string_equal(back.body, ev.body);
        assert_int_equal(event_encode(&back, enc2, sizeof enc2, &n2), 0);
        assert_int_equal(n2, n);
        assert_memory_equal(enc2, enc, n);

        /* The id is the hash of the unsigned part. */
        uint8_t id[32];
        size_t un = 0;
        assert_int_equal(event_encode_unsigned(&ev, enc2, sizeof enc2, &un), 0);
        assert_int_equal(un + 64, n);
        event_compute_id(enc2, un, id);
        assert_memory_equal(id, ev.id, 32);
    }
}

static void test_sample_canonical_order(void **state)
{
    (void)state;
    static event_t ev;
    s_sample(&ev, EVENT_TIP);
    assert_int_equal(ev.ntopics, 3);
    assert_string_equal(ev.topics[0], "c++");
    assert_string_equal(ev.topics[1], "git");
    assert_string_equal(ev.topics[2], "lesson");
    assert_int_equal(ev.nrefs, 4);
    assert_int_equal(ev.refs[0].role, EVENT_REF_ANSWERS);
    assert_int_equal(ev.refs[1].role, EVENT_REF_SUPERSEDES);
    assert_int_equal(ev.refs[2].role, EVENT_REF_RELATED);
    assert_int_equal(ev.refs[2].id[0], 0xaa);
    assert_int_equal(ev.refs[3].role, EVENT_REF_RELATED);
    assert_int_equal(ev.refs[3].id[0], 0xcc);
}

static void test_setters(void **state)
{
    (void)state;
    static event_t ev;
    event_init(&ev, EVENT_TIP);
    assert_int_equal(ev.version, 1);
    assert_int_equal(event_add_topic(&ev, "ZED"), 0);
    assert_int_equal(event_add_topic(&ev, "zed"), 0); /* duplicate after lower-casing: no-op */
    assert_int_equal(ev.ntopics, 1);
    assert_string_equal(ev.topics[0], "zed");
    assert_int_equal(event_add_topic(&ev, "a b"), EVENT_E_TOPIC);
    assert_int_equal(event_add_topic(&ev, "café"), EVENT_E_TOPIC);
    assert_int_equal(event_add_topic(&ev, ""), EVENT_E_TOPIC);
    assert_int_equal(event_add_topic(&ev, "abcdefghijabcdefghijabcdefghijab"), 0); /* 32 */
    assert_int_equal(event_add_topic(&ev, "abcdefghijabcdefghijabcdefghijabc"), EVENT_E_OVERSIZE);
    assert_int_equal(event_add_topic(&ev, "k8s.io_#+-"), 0);
    const char *more[] = {"b", "c", "d", "e", "f"};
    for (int i = 0; i < 5; i++) assert_int_equal(event_add_topic(&ev, more[i]), 0);
    assert_int_equal(ev.ntopics, 8);
    assert_int_equal(event_add_topic(&ev, "g"), EVENT_E_OVERSIZE);
    assert_int_equal(event_add_topic(&ev, "b"), 0); /* duplicate still fine when full */
    for (int i = 1; i < ev.ntopics; i++) assert_true(strcmp(ev.topics[i - 1], ev.topics[i]) < 0);

    uint8_t id[32];
    for (int i = 0; i < 8; i++) {
        s_id(id, (uint8_t)(8 - i));
        assert_int_equal(event_add_ref(&ev, EVENT_REF_RELATED, id), 0);
    }
    assert_int_equal(event_add_ref(&ev, EVENT_REF_RELATED, id), 0); /* duplicate */
    s_id(id, 0x99);
    assert_int_equal(event_add_ref(&ev, EVENT_REF_RELATED, id), EVENT_E_OVERSIZE);
    assert_int_equal(event_add_ref(&ev, (event_ref_role_t)0, id), EVENT_E_REFS);
    assert_int_equal(event_add_ref(&ev, (event_ref_role_t)5, id), EVENT_E_REFS);
    for (int i = 0; i < 8; i++) assert_int_equal(ev.refs[i].id[0], i + 1);

    assert_int_equal(event_set_title(&ev, "two\nlines", 9), EVENT_E_UTF8);
    assert_int_equal(event_set_title(&ev, "tab\there", 8), EVENT_E_UTF8);
    assert_int_equal(event_set_title(&ev, "nul\0x", 5), EVENT_E_UTF8);
    assert_int_equal(event_set_title(&ev, "ok title", 8), 0);
    assert_int_equal(event_set_title(&ev, "\xc3\x28", 2), EVENT_E_UTF8);
    char big[EVENT_MAX_BODY + 2];
    memset(big, 'x', sizeof big);
    assert_int_equal(event_set_title(&ev, big, EVENT_MAX_TITLE + 1), EVENT_E_OVERSIZE);
    assert_int_equal(event_set_title(&ev, big, EVENT_MAX_TITLE), 0);
    assert_int_equal(event_set_body(&ev, big, EVENT_MAX_BODY + 1), EVENT_E_OVERSIZE);
    assert_int_equal(event_set_body(&ev, big, EVENT_MAX_BODY), 0);
    assert_int_equal(event_set_body(&ev, "crlf\r\n", 6), EVENT_E_UTF8);
    assert_int_equal(event_set_body(&ev, "del\x7f", 4), EVENT_E_UTF8);
    assert_int_equal(event_set_body(&ev, "lf\n\ttab", 7), 0);
    assert_int_equal(ev.body_len, 7);
    assert_string_equal(ev.body, "lf\n\ttab");
}

/* Every byte value at every position of a 16-byte text, so both the
 * 8-bytes-at-a-time ASCII path and the byte path see each one. */
static void test_text_every_byte(void **state)
{
    (void)state;
    static event_t ev;
    event_init(&ev, EVENT_TIP);
    for (int b = 0; b < 256; b++) {
        for (int pos = 0; pos < 16; pos++) {
            char s[16];
            memset(s, 'a', sizeof s);
            s[pos] = (char)b;
            int printable = b >= 0x20 && b < 0x7f;
            int body_ok = printable || b == '\t' || b == '\n';
            assert_int_equal(event_set_title(&ev, s, sizeof s), printable ? 0 : EVENT_E_UTF8);
            assert_int_equal(event_set_body(&ev, s, sizeof s), body_ok ? 0 : EVENT_E_UTF8);
        }
    }
    /* A valid multi-byte character straddling the 8-byte boundary. */
    assert_int_equal(event_set_title(&ev, "abcdef\xe2\x9c\x93xyzabcd", 16), 0);
    assert_int_equal(event_set_title(&ev, "abcdefg\xe2\x9c\x93xyzabc", 16), 0);
    assert_int_equal(event_set_title(&ev, "abcdefg\xe2\x9cxyzabcd", 16), EVENT_E_UTF8);
}

static void test_kind_names(void **state)
{
    (void)state;
    const char *names[] = {"tip", "question", "rating", "thanks", "retract", "profile"};
    for (int k = 1; k <= 6; k++) {
        assert_string_equal(event_kind_name(k), names[k - 1]);
        assert_int_equal(event_kind_from_name(names[k - 1]), k);
    }
    assert_null(event_kind_name(0));
    assert_null(event_kind_name(7));
    assert_int_equal(event_kind_from_name("Tip"), -1);
    assert_int_equal(event_kind_from_name(NULL), -1);
    for (int c = -15; c <= 0; c++) assert_non_null(event_strerror(c));
}

static void test_encode_nospace(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32];
    s_key(sk, pk, 3);
    static event_t ev;
    s_sample(&ev, EVENT_RATING);
    assert_int_equal(event_sign(&ev, sk), 0);
    uint8_t out[200];
    size_t n = 0;
    assert_int_equal(event_encode(&ev, out, sizeof out, &n), 0);
    assert_int_equal(n, 1 + 1 + 32 + 8 + 1 + 33 + 1 + 1 + 2 + 2 + 64);
    assert_int_equal(event_encode(&ev, out, n - 1, &n), EVENT_E_NOSPACE);
    assert_int_equal(event_encode_unsigned(&ev, out, n - 65, &n), EVENT_E_NOSPACE);
    /* Encoding refuses an invalid struct. */
    ev.value = 9;
    assert_int_equal(event_encode(&ev, out, sizeof out, &n), EVENT_E_FIELD);
    assert_int_equal(event_sign(&ev, sk), EVENT_E_FIELD);
}

static void test_raw_valid_baseline(void **state)
{
    (void)state;
    s_raw_t r;
    s_raw_tip(&r);
    assert_int_equal(s_raw_decode(&r), 0);
}

static void test_truncation_every_offset(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32];
    s_key(sk, pk, 9);
    static event_t ev, back;
    static uint8_t enc[EVENT_MAX_SIZE + 16];
    for (int k = EVENT_TIP; k <= EVENT_PROFILE; k++) {
        s_sample(&ev, (event_kind_t)k);
        assert_int_equal(event_sign(&ev, sk), 0);
        size_t n;
        assert_int_equal(event_encode(&ev, enc, sizeof enc, &n), 0);
        for (size_t cut = 0; cut < n; cut++)
            assert_int_equal(event_decode(enc, cut, &back), EVENT_E_TRUNCATED);
        for (size_t extra = 1; extra <= 3; extra++) {
            enc[n + extra - 1] = 0;
            assert_int_equal(event_decode(enc, n + extra, &back), EVENT_E_TRAILING);
        }
        assert_int_equal(event_decode(enc, n, &back), 0);
    }
    assert_int_equal(event_decode(NULL, 0, &back), EVENT_E_TRUNCATED);
}

static void test_every_bit_flip(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32];
    s_key(sk, pk, 5);
    static event_t ev, back;
    static uint8_t enc[EVENT_MAX_SIZE];
    for (int k = EVENT_TIP; k <= EVENT_PROFILE; k++) {
        s_sample(&ev, (event_kind_t)k);
        assert_int_equal(event_sign(&ev, sk), 0);
        size_t n;
        assert_int_equal(event_encode(&ev, enc, sizeof enc, &n), 0);
        size_t decoded = 0;
        for (size_t bit = 0; bit < n * 8; bit++) {
            enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = event_decode(enc, n, &back);
            if (rc == 0) {
                decoded++;
                assert_int_equal(event_verify(&back), EVENT_E_SIG);
            } else {
                assert_true(rc < 0);
            }
            enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* Most flips (author, time, ids, text, signature) still decode: the
         * signature is what catches them. */
        assert_true(decoded > n * 4);
        assert_int_equal(event_decode(enc, n, &back), 0);
        assert_int_equal(event_verify(&back), 0);
    }
}

static void test_wrong_author_fails(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32], sk2[64], pk2[32];
    s_key(sk, pk, 1);
    s_key(sk2, pk2, 2);
    static event_t ev;
    s_sample(&ev, EVENT_TIP);
    assert_int_equal(event_sign(&ev, sk), 0);
    assert_int_equal(event_verify(&ev), 0);
    memcpy(ev.author, pk2, 32);
    assert_int_equal(event_verify(&ev), EVENT_E_SIG);
}

static void test_future(void **state)
{
    (void)state;
    static event_t ev;
    s_sample(&ev, EVENT_TIP);
    uint64_t now = 1764432219123ULL;
    ev.created_at = now + EVENT_MAX_FUTURE_MS;
    assert_int_equal(event_check_time(&ev, now), 0);
    ev.created_at = now + EVENT_MAX_FUTURE_MS + 1;
    assert_int_equal(event_check_time(&ev, now), EVENT_E_FUTURE);
    ev.created_at = 1; /* the past is always fine */
    assert_int_equal(event_check_time(&ev, now), 0);
    ev.created_at = UINT64_MAX;
    assert_int_equal(event_check_time(&ev, now), EVENT_E_FUTURE);
    assert_int_equal(event_check_time(&ev, UINT64_MAX), 0);
    uint64_t t = event_now_ms();
    assert_true(t > 1700000000000ULL);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t bin[4] = {0x00, 0x9f, 0xa0, 0xff}, back[4];
    char hex[9];
    event_hex(bin, 4, hex);
    assert_string_equal(hex, "009fa0ff");
    assert_int_equal(event_unhex("009FA0fF", back, 4), 0);
    assert_memory_equal(back, bin, 4);
    assert_int_equal(event_unhex("009fa0f", back, 4), EVENT_E_HEX);  /* short: NUL not hex */
    assert_int_equal(event_unhex("009fa0fg", back, 4), EVENT_E_HEX); /* bad char */
    assert_int_equal(event_unhex(" 09fa0ff", back, 4), EVENT_E_HEX);
    assert_int_equal(event_unhex(NULL, back, 4), EVENT_E_HEX);

    char out[65];
    assert_int_equal(event_prefix_norm("ABCD", out), 4);
    assert_string_equal(out, "abcd");
    assert_int_equal(event_prefix_norm("abc", out), EVENT_E_HEX);
    assert_int_equal(event_prefix_norm("abcg", out), EVENT_E_HEX);
    assert_int_equal(event_prefix_norm("", out), EVENT_E_HEX);
    assert_int_equal(event_prefix_norm(NULL, out), EVENT_E_HEX);
    char full[66];
    memset(full, 'F', 64);
    full[64] = '\0';
    assert_int_equal(event_prefix_norm(full, out), 64);
    assert_int_equal(out[63], 'f');
    full[64] = 'f';
    full[65] = '\0';
    assert_int_equal(event_prefix_norm(full, out), EVENT_E_HEX);
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[40];
    event_time_rfc3339(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    event_time_rfc3339(1764432219123ULL, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-29T16:03:39.123Z");
    event_time_rfc3339(UINT64_MAX, buf, sizeof buf);
    assert_true(strlen(buf) > 0);
    event_time_rfc3339(1764432219123ULL, buf, 8); /* truncates, stays terminated */
    assert_string_equal(buf, "2025-11");
}

/* One malformed encoding: a mutation of the baseline tip and the code. */
typedef struct {
    const char *name;
    void (*mutate)(s_raw_t *r);
    int expect;
} s_case_t;

static const uint8_t s_zero[32];

#define MUT(fn) static void fn(s_raw_t *r)
MUT(m_version0)
{
    r->version = 0;
}
MUT(m_version2)
{
    r->version = 2;
}
MUT(m_version255)
{
    r->version = 255;
}
MUT(m_kind0)
{
    r->kind = 0;
}
MUT(m_kind7)
{
    r->kind = 7;
}
MUT(m_kind255)
{
    r->kind = 255;
}
MUT(m_trailing)
{
    r->trailing = 1;
}
MUT(m_created0)
{
    r->created_at = 0;
}
MUT(m_title_overlong)
{
    r->title = "a\xc0\x80";
    r->title_len = 3;
}
MUT(m_title_overlong3)
{
    r->title = "\xe0\x80\xaf";
    r->title_len = 3;
}
MUT(m_title_surrogate)
{
    r->title = "\xed\xa0\x80";
    r->title_len = 3;
}
MUT(m_title_above_max)
{
    r->title = "\xf4\x90\x80\x80";
    r->title_len = 4;
}
MUT(m_title_f5)
{
    r->title = "\xf5\x80\x80\x80";
    r->title_len = 4;
}
MUT(m_title_lone_cont)
{
    r->title = "ab\x80";
    r->title_len = 3;
}
MUT(m_title_cut_seq)
{
    r->title = "ab\xe2\x82";
    r->title_len = 4;
}
MUT(m_title_nul)
{
    r->title = "a\0b";
    r->title_len = 3;
}
MUT(m_title_newline)
{
    r->title = "a\nb";
    r->title_len = 3;
}
MUT(m_title_tab)
{
    r->title = "a\tb";
    r->title_len = 3;
}
MUT(m_title_c1)
{
    r->title = "a\xc2\x85";
    r->title_len = 3;
}
MUT(m_title_del)
{
    r->title = "a\x7f";
    r->title_len = 2;
}
MUT(m_body_cr)
{
    r->body = "a\r\nb";
    r->body_len = 4;
}
MUT(m_body_nul)
{
    r->body = "a\0b";
    r->body_len = 3;
}
MUT(m_body_del)
{
    r->body = "a\x7f";
    r->body_len = 2;
}
MUT(m_body_esc)
{
    r->body = "a\x1b[0m";
    r->body_len = 5;
}
MUT(m_body_bad_utf8)
{
    r->body = "caf\xe9";
    r->body_len = 4;
}
MUT(m_body_surrogate)
{
    r->body = "x\xed\xbf\xbf";
    r->body_len = 4;
}
MUT(m_topic_upper)
{
    r->topics[0] = "Git";
}
MUT(m_topic_space)
{
    r->topics[0] = "g t";
}
MUT(m_topic_utf8)
{
    r->topics[0] = "caf\xc3\xa9";
}
MUT(m_topic_badutf8)
{
    r->topics[0] = "\xff";
}
MUT(m_topic_nul)
{
    r->topics[0] = "a\0b";
    r->topic_len[0] = 3;
}
MUT(m_topic_empty)
{
    r->topics[0] = "";
}
MUT(m_topic_33)
{
    r->topics[0] = "abcdefghijabcdefghijabcdefghijabc";
}
MUT(m_topics_unsorted)
{
    r->topics[0] = "shell";
    r->topics[1] = "git";
}
MUT(m_topics_dup)
{
    r->topics[1] = "git";
}
MUT(m_topics_prefix)
{
    r->topics[0] = "gitx";
    r->topics[1] = "git";
}
MUT(m_topics_9)
{
    static const char *t[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    r->ntopics = 9;
    for (int i = 0; i < 9; i++) r->topics[i] = t[i], r->topic_len[i] = -1;
}
MUT(m_refs_unsorted_role)
{
    r->refs[0].role = EVENT_REF_RELATED;
    r->refs[1].role = EVENT_REF_ANSWERS;
}
MUT(m_refs_unsorted_id)
{
    r->refs[0].role = r->refs[1].role = EVENT_REF_RELATED;
    memset(r->refs[0].id, 0x44, 32);
}
MUT(m_refs_dup)
{
    r->refs[0].role = EVENT_REF_RELATED;
    memset(r->refs[0].id, 0x33, 32);
}
MUT(m_refs_9)
{
    r->nrefs = 9;
    for (int i = 0; i < 9; i++) {
        r->refs[i].role = EVENT_REF_RELATED;
        memset(r->refs[i].id, i + 1, 32);
    }
}
MUT(m_ref_role0)
{
    r->refs[0].role = 0;
}
MUT(m_ref_role5)
{
    r->refs[1].role = 5;
}
MUT(m_title_201)
{
    static char t[201];
    memset(t, 'x', sizeof t);
    r->title = t;
    r->title_len = 201;
}
MUT(m_title_len_huge)
{
    r->title_len_field = 0xffff;
}
MUT(m_title_len_past_end)
{
    r->title_len_field = 150;
} /* in bounds, runs off the end */
MUT(m_body_16385)
{
    static char b[16385];
    memset(b, 'x', sizeof b);
    r->body = b;
    r->body_len = sizeof b;
}
MUT(m_body_len_huge)
{
    r->body_len_field = 0xffff;
}
MUT(m_tip_no_title)
{
    r->title_len = 0;
}
MUT(m_tip_value)
{
    r->value = 1;
}
MUT(m_tip_target)
{
    r->refs[0].role = EVENT_REF_TARGET;
}
MUT(m_tip_two_answers)
{
    r->refs[1].role = EVENT_REF_ANSWERS;
}
MUT(m_tip_two_supersedes)
{
    r->refs[0].role = r->refs[1].role = EVENT_REF_SUPERSEDES;
}
MUT(m_question_answers)
{
    r->kind = EVENT_QUESTION;
}
MUT(m_question_ok)
{
    r->kind = EVENT_QUESTION;
    r->refs[0].role = EVENT_REF_SUPERSEDES;
}
MUT(m_question_no_title)
{
    m_question_ok(r);
    r->title_len = 0;
}
/* Turn the baseline into a valid rating, then break one rule. */
MUT(m_rating_ok)
{
    r->kind = EVENT_RATING;
    r->value = 3;
    r->nrefs = 1;
    r->refs[0].role = EVENT_REF_TARGET;
    r->ntopics = 0;
    r->title_len = r->body_len = 0;
}
MUT(m_rating_value0)
{
    m_rating_ok(r);
    r->value = 0;
}
MUT(m_rating_value6)
{
    m_rating_ok(r);
    r->value = 6;
}
MUT(m_rating_norefs)
{
    m_rating_ok(r);
    r->nrefs = 0;
}
MUT(m_rating_related)
{
    m_rating_ok(r);
    r->refs[0].role = EVENT_REF_RELATED;
}
MUT(m_rating_two_targets)
{
    m_rating_ok(r);
    r->nrefs = 2;
    r->refs[1].role = EVENT_REF_TARGET;
}
MUT(m_rating_title)
{
    m_rating_ok(r);
    r->title_len = 3;
}
MUT(m_rating_body)
{
    m_rating_ok(r);
    r->body_len = 3;
}
MUT(m_rating_topic)
{
    m_rating_ok(r);
    r->ntopics = 1;
}
MUT(m_thanks_ok)
{
    m_rating_ok(r);
    r->kind = EVENT_THANKS;
    r->value = 0;
    r->body_len = 9;
}
MUT(m_thanks_value)
{
    m_thanks_ok(r);
    r->value = 1;
}
MUT(m_thanks_title)
{
    m_thanks_ok(r);
    r->title_len = 1;
}
MUT(m_thanks_topic)
{
    m_thanks_ok(r);
    r->ntopics = 1;
}
MUT(m_thanks_story_1025)
{
    static char b[1025];
    memset(b, 's', sizeof b);
    m_thanks_ok(r);
    r->body = b;
    r->body_len = sizeof b;
}
MUT(m_thanks_story_1024)
{
    m_thanks_story_1025(r);
    r->body_len = 1024;
}
MUT(m_thanks_norefs)
{
    m_thanks_ok(r);
    r->nrefs = 0;
}
MUT(m_retract_ok)
{
    m_rating_ok(r);
    r->kind = EVENT_RETRACT;
    r->value = 0;
}
MUT(m_retract_body)
{
    m_retract_ok(r);
    r->body_len = 2;
}
MUT(m_retract_value)
{
    m_retract_ok(r);
    r->value = 1;
}
MUT(m_retract_answers)
{
    m_retract_ok(r);
    r->refs[0].role = EVENT_REF_ANSWERS;
}
MUT(m_profile_ok)
{
    r->kind = EVENT_PROFILE;
    r->nrefs = r->ntopics = 0;
    r->title = "Grace";
    r->title_len = 5;
    r->body = "Compilers";
    r->body_len = 9;
}
MUT(m_profile_ref)
{
    m_profile_ok(r);
    r->nrefs = 1;
}
MUT(m_profile_topic)
{
    m_profile_ok(r);
    r->ntopics = 1;
}
MUT(m_profile_noname)
{
    m_profile_ok(r);
    r->title_len = 0;
}
MUT(m_profile_name65)
{
    static char t[65];
    memset(t, 'n', sizeof t);
    m_profile_ok(r);
    r->title = t;
    r->title_len = 65;
}
MUT(m_profile_team65)
{
    static char b[65];
    memset(b, 't', sizeof b);
    m_profile_ok(r);
    r->body = b;
    r->body_len = 65;
}
MUT(m_profile_team_newline)
{
    m_profile_ok(r);
    r->body = "a\nb";
    r->body_len = 3;
}
MUT(m_profile_team_tab)
{
    m_profile_ok(r);
    r->body = "a\tb";
    r->body_len = 3;
}
MUT(m_profile_value)
{
    m_profile_ok(r);
    r->value = 2;
}
#undef MUT

static const s_case_t s_cases[] = {
    {"version 0", m_version0, EVENT_E_VERSION},
    {"version 2", m_version2, EVENT_E_VERSION},
    {"version 255", m_version255, EVENT_E_VERSION},
    {"kind 0", m_kind0, EVENT_E_KIND},
    {"kind 7", m_kind7, EVENT_E_KIND},
    {"kind 255", m_kind255, EVENT_E_KIND},
    {"trailing byte", m_trailing, EVENT_E_TRAILING},
    {"created_at 0", m_created0, EVENT_E_FIELD},
    {"title overlong NUL", m_title_overlong, EVENT_E_UTF8},
    {"title overlong 3-byte", m_title_overlong3, EVENT_E_UTF8},
    {"title surrogate", m_title_surrogate, EVENT_E_UTF8},
    {"title > U+10FFFF", m_title_above_max, EVENT_E_UTF8},
    {"title F5 lead", m_title_f5, EVENT_E_UTF8},
    {"title lone continuation", m_title_lone_cont, EVENT_E_UTF8},
    {"title cut sequence", m_title_cut_seq, EVENT_E_UTF8},
    {"title NUL", m_title_nul, EVENT_E_UTF8},
    {"title newline", m_title_newline, EVENT_E_UTF8},
    {"title tab", m_title_tab, EVENT_E_UTF8},
    {"title C1 control", m_title_c1, EVENT_E_UTF8},
    {"title DEL", m_title_del, EVENT_E_UTF8},
    {"body CR", m_body_cr, EVENT_E_UTF8},
    {"body NUL", m_body_nul, EVENT_E_UTF8},
    {"body DEL", m_body_del, EVENT_E_UTF8},
    {"body ESC", m_body_esc, EVENT_E_UTF8},
    {"body latin-1", m_body_bad_utf8, EVENT_E_UTF8},
    {"body surrogate", m_body_surrogate, EVENT_E_UTF8},
    {"topic upper case", m_topic_upper, EVENT_E_TOPIC},
    {"topic space", m_topic_space, EVENT_E_TOPIC},
    {"topic non-ASCII", m_topic_utf8, EVENT_E_TOPIC},
    {"topic bad UTF-8", m_topic_badutf8, EVENT_E_TOPIC},
    {"topic NUL", m_topic_nul, EVENT_E_TOPIC},
    {"topic empty", m_topic_empty, EVENT_E_TOPIC},
    {"topic 33 bytes", m_topic_33, EVENT_E_OVERSIZE},
    {"topics unsorted", m_topics_unsorted, EVENT_E_ORDER},
    {"topics duplicate", m_topics_dup, EVENT_E_ORDER},
    {"topics prefix after longer", m_topics_prefix, EVENT_E_ORDER},
    {"9 topics", m_topics_9, EVENT_E_OVERSIZE},
    {"refs unsorted by role", m_refs_unsorted_role, EVENT_E_ORDER},
    {"refs unsorted by id", m_refs_unsorted_id, EVENT_E_ORDER},
    {"refs duplicate", m_refs_dup, EVENT_E_ORDER},
    {"9 refs", m_refs_9, EVENT_E_OVERSIZE},
    {"ref role 0", m_ref_role0, EVENT_E_REFS},
    {"ref role 5", m_ref_role5, EVENT_E_REFS},
    {"title 201 bytes", m_title_201, EVENT_E_OVERSIZE},
    {"title_len 65535", m_title_len_huge, EVENT_E_OVERSIZE},
    {"title_len past end", m_title_len_past_end, EVENT_E_TRUNCATED},
    {"body 16385 bytes", m_body_16385, EVENT_E_OVERSIZE},
    {"body_len 65535", m_body_len_huge, EVENT_E_OVERSIZE},
    {"tip without title", m_tip_no_title, EVENT_E_FIELD},
    {"tip with value", m_tip_value, EVENT_E_FIELD},
    {"tip with TARGET ref", m_tip_target, EVENT_E_REFS},
    {"tip answering twice", m_tip_two_answers, EVENT_E_REFS},
    {"tip superseding twice", m_tip_two_supersedes, EVENT_E_REFS},
    {"question with ANSWERS ref", m_question_answers, EVENT_E_REFS},
    {"question valid", m_question_ok, 0},
    {"question without title", m_question_no_title, EVENT_E_FIELD},
    {"rating valid", m_rating_ok, 0},
    {"rating value 0", m_rating_value0, EVENT_E_FIELD},
    {"rating value 6", m_rating_value6, EVENT_E_FIELD},
    {"rating without ref", m_rating_norefs, EVENT_E_REFS},
    {"rating RELATED ref", m_rating_related, EVENT_E_REFS},
    {"rating two targets", m_rating_two_targets, EVENT_E_REFS},
    {"rating with title", m_rating_title, EVENT_E_FIELD},
    {"rating with body", m_rating_body, EVENT_E_FIELD},
    {"rating with topic", m_rating_topic, EVENT_E_FIELD},
    {"thanks valid", m_thanks_ok, 0},
    {"thanks with value", m_thanks_value, EVENT_E_FIELD},
    {"thanks with title", m_thanks_title, EVENT_E_FIELD},
    {"thanks with topic", m_thanks_topic, EVENT_E_FIELD},
    {"thanks story 1025", m_thanks_story_1025, EVENT_E_FIELD},
    {"thanks story 1024", m_thanks_story_1024, 0},
    {"thanks without ref", m_thanks_norefs, EVENT_E_REFS},
    {"retract valid", m_retract_ok, 0},
    {"retract with body", m_retract_body, EVENT_E_FIELD},
    {"retract with value", m_retract_value, EVENT_E_FIELD},
    {"retract ANSWERS ref", m_retract_answers, EVENT_E_REFS},
    {"profile valid", m_profile_ok, 0},
    {"profile with ref", m_profile_ref, EVENT_E_REFS},
    {"profile with topic", m_profile_topic, EVENT_E_FIELD},
    {"profile without name", m_profile_noname, EVENT_E_FIELD},
    {"profile name 65", m_profile_name65, EVENT_E_FIELD},
    {"profile team 65", m_profile_team65, EVENT_E_FIELD},
    {"profile team newline", m_profile_team_newline, EVENT_E_FIELD},
    {"profile team tab", m_profile_team_tab, EVENT_E_FIELD},
    {"profile with value", m_profile_value, EVENT_E_FIELD},
};

static void test_malformed_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        s_raw_t r;
        s_raw_tip(&r);
        s_cases[i].mutate(&r);
        int rc = s_raw_decode(&r);
        if (rc != s_cases[i].expect)
            fail_msg("case '%s': got %d (%s), want %d", s_cases[i].name, rc, event_strerror(rc),
                     s_cases[i].expect);
    }
    (void)s_zero;
}

static void test_oversize_whole(void **state)
{
    (void)state;
    static uint8_t big[EVENT_MAX_SIZE + 1];
    static event_t ev;
    s_raw_t r;
    s_raw_tip(&r);
    size_t n = s_raw_write(&r, big);
    assert_int_equal(event_decode(big, n, &ev), 0);
    assert_int_equal(event_decode(big, sizeof big, &ev), EVENT_E_OVERSIZE);
}

/* The decoder must not be fooled by stale fields: decoding a short event
 * into a struct that held a long one leaves no trace of the old one. */
static void test_decode_reuses_struct(void **state)
{
    (void)state;
    uint8_t sk[64], pk[32];
    s_key(sk, pk, 4);
    static event_t a, b;
    static uint8_t enc[EVENT_MAX_SIZE];
    s_sample(&a, EVENT_TIP);
    assert_int_equal(event_sign(&a, sk), 0);
    size_t n;
    assert_int_equal(event_encode(&a, enc, sizeof enc, &n), 0);
    assert_int_equal(event_decode(enc, n, &b), 0);
    s_sample(&a, EVENT_RETRACT);
    assert_int_equal(event_sign(&a, sk), 0);
    assert_int_equal(event_encode(&a, enc, sizeof enc, &n), 0);
    assert_int_equal(event_decode(enc, n, &b), 0);
    assert_int_equal(b.ntopics, 0);
    assert_int_equal(b.title_len, 0);
    assert_string_equal(b.title, "");
    assert_int_equal(b.body_len, 0);
    assert_string_equal(b.body, "");
    assert_int_equal(b.nrefs, 1);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all_kinds),
        cmocka_unit_test(test_sample_canonical_order),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_text_every_byte),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_raw_valid_baseline),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_wrong_author_fails),
        cmocka_unit_test(test_future),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_oversize_whole),
        cmocka_unit_test(test_decode_reuses_struct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
