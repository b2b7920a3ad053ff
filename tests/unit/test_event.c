/* test_event.c -- the signed event: round trips, setters, truncation at every
 * byte, every single-bit flip, time, hex and kind helpers. The table of
 * malformed encodings is in test_event_malformed.c.
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
    assert_int_equal(event_add_topic(&ev, "café✓"), EVENT_E_TOPIC); /* a symbol */
    assert_int_equal(ev.version, 1); /* a refused topic leaves the version alone */
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
    /* event_ref: the first of a role in (role, id) order, NULL for none */
    assert_ptr_equal(event_ref(&ev, EVENT_REF_RELATED), ev.refs[0].id);
    assert_null(event_ref(&ev, EVENT_REF_TARGET));
    assert_null(event_ref(&ev, EVENT_REF_SUPERSEDES));
    event_t mix;
    event_init(&mix, EVENT_TIP);
    uint8_t r1[32], r2[32], r3[32];
    s_id(r1, 0x31);
    s_id(r2, 0x32);
    s_id(r3, 0x33);
    assert_int_equal(event_add_ref(&mix, EVENT_REF_RELATED, r1), 0);
    assert_int_equal(event_add_ref(&mix, EVENT_REF_SUPERSEDES, r3), 0);
    assert_int_equal(event_add_ref(&mix, EVENT_REF_ANSWERS, r2), 0);
    assert_memory_equal(event_ref(&mix, EVENT_REF_SUPERSEDES), r3, 32);
    assert_memory_equal(event_ref(&mix, EVENT_REF_ANSWERS), r2, 32);
    assert_memory_equal(event_ref(&mix, EVENT_REF_RELATED), r1, 32);
    assert_null(event_ref(&mix, EVENT_REF_TARGET));

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
    /* Role names as the API and tip export spell them (docs/API.md). */
    assert_string_equal(event_ref_role_name(EVENT_REF_TARGET), "target");
    assert_string_equal(event_ref_role_name(EVENT_REF_ANSWERS), "answers");
    assert_string_equal(event_ref_role_name(EVENT_REF_SUPERSEDES), "supersedes");
    assert_string_equal(event_ref_role_name(EVENT_REF_RELATED), "related");
    assert_string_equal(event_ref_role_name(0), "unknown");
    assert_string_equal(event_ref_role_name(255), "unknown");
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
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_wrong_author_fails),
        cmocka_unit_test(test_future),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_decode_reuses_struct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
