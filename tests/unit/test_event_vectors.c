/* test_event_vectors.c -- the test vectors of docs/PROTOCOL.md, byte for byte.
 *
 * The hex below is copied from the document. The same bytes, ids and
 * signatures were reproduced by an independent Python implementation of the
 * format (hashlib.blake2b + the cryptography package's Ed25519), so these
 * tests pin the format, not merely this encoder's agreement with itself.
 * Each vector is checked both ways: building the event from its fields with
 * the fixed seed must give exactly these bytes, and decoding these bytes must
 * give exactly those fields and a signature that verifies.
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

/* Seed 0x01 0x02 ... 0x20 gives this Ed25519 public key. */
static const char s_pk[] = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";

static const char *const s_question_signed =
    "010279b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05b"
    "0bf300010367697400001e486f7720646f204920756e646f20746865206c61737420636f6d6d6974"
    "3f00000621b46c72f914c7dbc2eaf8b07476ef6f2b8f9a0eb81c7ad22deb7ecff09217cabf051df7"
    "ceef673bd54773aa15379558fe44d570fc3da6904f1449b5ffc10b";
static const char s_question_id[] =
    "60cc33e9defb3e2dcaec481922bdb07c636c728f5d635a223917c66b3efaca6c";
static const char s_question_sig[] =
    "0621b46c72f914c7dbc2eaf8b07476ef6f2b8f9a0eb81c7ad22deb7ecff09217"
    "cabf051df7ceef673bd54773aa15379558fe44d570fc3da6904f1449b5ffc10b";
static const char *const s_tip_signed =
    "010179b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05b"
    "f653010260cc33e9defb3e2dcaec481922bdb07c636c728f5d635a223917c66b3efaca6c02036769"
    "74066c6573736f6e000026556e646f20746865206c61737420636f6d6d69742c206b656570207468"
    "65206368616e676573003a676974207265736574202d2d736f667420484541447e310a5468652063"
    "68616e6765732073746179207374616765642e20436166c3a920e29c939f38ab38ab7acae35fc00c"
    "6207380f65f8320e213e17be534ea90204c9c9b47655a470e6a7c8f98b8ab401577a80a570a11042"
    "16b362de1d9c0765406dc98a07";
static const char s_tip_id[] = "adc08775eb130a131bc529cee47c4c34c38505bf93a66412e408c79e16b6e5d4";
static const char s_tip_sig[] = "9f38ab38ab7acae35fc00c6207380f65f8320e213e17be534ea90204c9c9b476"
                                "55a470e6a7c8f98b8ab401577a80a570a1104216b362de1d9c0765406dc98a07";
static const char *const s_rating_signed =
    "010379b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05c"
    "e0b30101adc08775eb130a131bc529cee47c4c34c38505bf93a66412e408c79e16b6e5d400050000"
    "0000553dc1e8b3fe52284091b261b4e72af8ee87e6566314e0847150f93e676ebe81b5ca07d26fad"
    "bbadc8798154dfe095a04769c2802b20545bb3bb5198d662b80f";
static const char s_rating_id[] =
    "9fc8b4ccaf0231b01bea3989e639541ef0a86a71d0a061249432d9e156a9a09f";
static const char s_rating_sig[] =
    "553dc1e8b3fe52284091b261b4e72af8ee87e6566314e0847150f93e676ebe81"
    "b5ca07d26fadbbadc8798154dfe095a04769c2802b20545bb3bb5198d662b80f";
static const char *const s_profile_signed =
    "010679b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05d"
    "cb13000000000c416461204c6f76656c6163650008506c6174666f726de16d44e56062b78370127e"
    "8eb6d84b2eec9ecde3ee2eb31f4495ef301492be9732908cd73df33e86090379f1324abb044ae8b8"
    "938918a0d4e35215db711e380e";
static const char s_profile_id[] =
    "62348dd44c511ace8b3d02c7dc026796754e1b43335d33fd80c724bdc43804b1";
static const char s_profile_sig[] =
    "e16d44e56062b78370127e8eb6d84b2eec9ecde3ee2eb31f4495ef301492be97"
    "32908cd73df33e86090379f1324abb044ae8b8938918a0d4e35215db711e380e";

/* Version 2: Unicode topics; an imported tip with its source. */
static const char *const s_topics_signed =
    "020179b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05e"
    "b57300030562c3bc726f07647275636b657206e58db0e588b7000016506170696572737461752069"
    "6d20322e2053746f636b002b4574696b657474656e20c3bc6265722046616368203120647275636b"
    "656e2c206e6965204661636820322e0000157153fb1b6767ba48f89712a7cfa7c363d0c32f18efc2"
    "688a2ce333f96285a955b0e9772d23595311d4c60bbd6cd79f1005f768b3d505356d977e034659e1"
    "08";
static const char s_topics_id[] =
    "a98b362c817d1a2676e0f5d91ee417e57a5d6767a068fd637c493e80399e8bf3";
static const char s_topics_sig[] =
    "157153fb1b6767ba48f89712a7cfa7c363d0c32f18efc2688a2ce333f96285a9"
    "55b0e9772d23595311d4c60bbd6cd79f1005f768b3d505356d977e034659e108";
static const char *const s_imported_signed =
    "020179b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640000019ad05f"
    "9fd3000107616e64726f696400001b4c69737420616c6c20696e7374616c6c6564207061636b6167"
    "65730010706d206c697374207061636b616765730123746c64722d70616765732f70616765732f61"
    "6e64726f69642f706d2d6c6973742e6d6475176a9302ff8210976b91f791791e0b580607a849c3ab"
    "cc1ad7b824f4b38c19cd610447ab127e80e26f3cfbe717abbfd7f0e7bbdb6b633223e4f8250aa90b"
    "0b";
static const char s_imported_id[] =
    "98bd5f46178a2d4d05916d1f430851c84446a82d11d3e2007c0406578804d7c5";
static const char s_imported_sig[] =
    "75176a9302ff8210976b91f791791e0b580607a849c3abcc1ad7b824f4b38c19"
    "cd610447ab127e80e26f3cfbe717abbfd7f0e7bbdb6b633223e4f8250aa90b0b";

static void s_keypair(uint8_t sk[64])
{
    uint8_t seed[32], pk[32], want[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(i + 1);
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_int_equal(event_unhex(s_pk, want, 32), 0);
    assert_memory_equal(pk, want, 32);
}

/* Sign ev with the fixed key and compare with the document's hex; then
 * decode the document's bytes and compare fields with ev. */
static void s_check(event_t *ev, const char *signed_hex, const char *id_hex, const char *sig_hex)
{
    uint8_t sk[64];
    s_keypair(sk);
    size_t n = strlen(signed_hex) / 2;
    uint8_t *want = malloc(n);
    uint8_t *got = malloc(EVENT_MAX_SIZE);
    event_t *back = malloc(sizeof *back);
    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(back);
    assert_int_equal(event_unhex(signed_hex, want, n), 0);
    uint8_t id[32], sig[64];
    assert_int_equal(event_unhex(id_hex, id, 32), 0);
    assert_int_equal(event_unhex(sig_hex, sig, 64), 0);

    assert_int_equal(event_sign(ev, sk), 0);
    size_t gn = 0;
    assert_int_equal(event_encode(ev, got, EVENT_MAX_SIZE, &gn), 0);
    assert_int_equal(gn, n);
    assert_memory_equal(got, want, n);
    assert_memory_equal(ev->id, id, 32);
    assert_memory_equal(ev->sig, sig, 64);
    assert_memory_equal(want + n - 64, sig, 64);

    assert_int_equal(event_decode(want, n, back), 0);
    assert_int_equal(event_verify(back), 0);
    assert_memory_equal(back->id, id, 32);
    assert_int_equal(back->kind, ev->kind);
    assert_int_equal(back->created_at, ev->created_at);
    assert_int_equal(back->value, ev->value);
    assert_int_equal(back->nrefs, ev->nrefs);
    for (int i = 0; i < ev->nrefs; i++) {
        assert_int_equal(back->refs[i].role, ev->refs[i].role);
        assert_memory_equal(back->refs[i].id, ev->refs[i].id, 32);
    }
    assert_int_equal(back->ntopics, ev->ntopics);
    for (int i = 0; i < ev->ntopics; i++) assert_string_equal(back->topics[i], ev->topics[i]);
    assert_string_equal(back->title, ev->title);
    assert_string_equal(back->body, ev->body);
    assert_int_equal(back->version, ev->version);
    assert_int_equal(back->imported, ev->imported);
    assert_string_equal(back->source, ev->source);

    /* The id is BLAKE2b-256 of the domain string and the unsigned part. */
    uint8_t h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)"tipd-event-v1\0", 14);
    crypto_generichash_update(&st, want, n - 64);
    crypto_generichash_final(&st, h, 32);
    assert_memory_equal(h, id, 32);
    free(want);
    free(got);
    free(back);
}

static void test_vector_question(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    event_init(ev, EVENT_QUESTION);
    ev->created_at = 1764432219123ULL; /* 2025-11-29T16:03:39.123Z */
    assert_int_equal(event_set_title(ev, "How do I undo the last commit?", 30), 0);
    assert_int_equal(event_add_topic(ev, "git"), 0);
    s_check(ev, s_question_signed, s_question_id, s_question_sig);
    free(ev);
}

static void test_vector_tip(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    uint8_t q[32];
    assert_int_equal(event_unhex(s_question_id, q, 32), 0);
    event_init(ev, EVENT_TIP);
    ev->created_at = 1764432279123ULL;
    const char *title = "Undo the last commit, keep the changes";
    const char *body = "git reset --soft HEAD~1\nThe changes stay staged. Caf\xc3\xa9 \xe2\x9c\x93";
    assert_int_equal(event_set_title(ev, title, strlen(title)), 0);
    assert_int_equal(event_set_body(ev, body, strlen(body)), 0);
    assert_int_equal(event_add_topic(ev, "lesson"), 0);
    assert_int_equal(event_add_topic(ev, "Git"), 0);
    assert_int_equal(event_add_ref(ev, EVENT_REF_ANSWERS, q), 0);
    s_check(ev, s_tip_signed, s_tip_id, s_tip_sig);
    free(ev);
}

static void test_vector_rating(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    uint8_t t[32];
    assert_int_equal(event_unhex(s_tip_id, t, 32), 0);
    event_init(ev, EVENT_RATING);
    ev->created_at = 1764432339123ULL;
    ev->value = 5;
    assert_int_equal(event_add_ref(ev, EVENT_REF_TARGET, t), 0);
    s_check(ev, s_rating_signed, s_rating_id, s_rating_sig);
    free(ev);
}

static void test_vector_profile(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    event_init(ev, EVENT_PROFILE);
    ev->created_at = 1764432399123ULL;
    assert_int_equal(event_set_title(ev, "Ada Lovelace", 12), 0);
    assert_int_equal(event_set_body(ev, "Platform", 8), 0);
    s_check(ev, s_profile_signed, s_profile_id, s_profile_sig);
    free(ev);
}

/* Topics given in any case and normalisation form are case-folded and NFC
 * ("Bu" U+0308 "ro" is "büro"), and a topic outside ASCII makes it version 2. */
static void test_vector_topics(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    event_init(ev, EVENT_TIP);
    ev->created_at = 1764432459123ULL;
    const char *title = "Papierstau im 2. Stock";
    const char *body = "Etiketten \xc3\xbc"
                       "ber Fach 1 drucken, nie Fach 2.";
    assert_int_equal(event_set_title(ev, title, strlen(title)), 0);
    assert_int_equal(event_set_body(ev, body, strlen(body)), 0);
    assert_int_equal(event_add_topic(ev, "Drucker"), 0);
    assert_int_equal(ev->version, 1);
    assert_int_equal(event_add_topic(ev, "Bu\xcc\x88ro"), 0);
    assert_int_equal(ev->version, 2);
    assert_int_equal(event_add_topic(ev, "\xe5\x8d\xb0\xe5\x88\xb7"), 0); /* 印刷 */
    assert_int_equal(event_add_topic(ev, "B\xc3\x9cRO"), 0); /* BÜRO: the same topic */
    assert_int_equal(ev->ntopics, 3);
    assert_string_equal(ev->topics[0], "b\xc3\xbcro");
    s_check(ev, s_topics_signed, s_topics_id, s_topics_sig);
    free(ev);
}

static void test_vector_imported(void **state)
{
    (void)state;
    event_t *ev = malloc(sizeof *ev);
    event_init(ev, EVENT_TIP);
    ev->created_at = 1764432519123ULL;
    assert_int_equal(event_set_title(ev, "List all installed packages", 27), 0);
    assert_int_equal(event_set_body(ev, "pm list packages", 16), 0);
    assert_int_equal(event_add_topic(ev, "android"), 0);
    assert_int_equal(event_set_imported(ev, "tldr-pages/pages/android/pm-list.md"), 0);
    assert_int_equal(ev->version, 2);
    s_check(ev, s_imported_signed, s_imported_id, s_imported_sig);
    free(ev);
}

/* ---- the document itself ---- */

/* Whole file as a NUL-terminated string, or NULL. */
static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* Copy the hex characters of doc from p up to the first occurrence of end
 * into out (cap bytes); returns the count. */
static size_t s_hex_until(const char *p, const char *end, char *out, size_t cap)
{
    const char *stop = strstr(p, end);
    size_t n = 0;
    for (; p && stop && p < stop && n + 1 < cap; p++)
        if (strchr("0123456789abcdef", *p) && *p) out[n++] = *p;
    out[n] = '\0';
    return n;
}

/* Check that the document's vector `name` is the one this file tests. */
static void s_doc_vector(const char *doc, const char *name, const char *signed_hex,
                         const char *id_hex, const char *sig_hex)
{
    char head[64], got[2 * EVENT_MAX_SIZE + 1];
    snprintf(head, sizeof head, "\n%s signed (", name);
    const char *p = strstr(doc, head);
    if (!p) fail_msg("docs/PROTOCOL.md has no '%s signed' vector", name);
    p = strstr(p, "```\n");
    assert_non_null(p);
    p += 4;
    s_hex_until(p, "```", got, sizeof got);
    assert_string_equal(got, signed_hex);
    p = strstr(p, "\nid  `");
    assert_non_null(p);
    s_hex_until(p + 6, "`", got, sizeof got);
    assert_string_equal(got, id_hex);
    p = strstr(p, "\nsig `");
    assert_non_null(p);
    s_hex_until(p + 6, "`", got, sizeof got);
    assert_string_equal(got, sig_hex);
}

/* The hex in docs/PROTOCOL.md is exactly what the tests above check, so the
 * document cannot drift from the code. ctest passes TIPD_TEST_DATA (the
 * tests/data directory); run by hand without it, this test is skipped. */
static void test_vectors_match_document(void **state)
{
    (void)state;
    const char *data = getenv("TIPD_TEST_DATA");
    if (!data || !*data) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/../../docs/PROTOCOL.md", data);
    char *doc = s_slurp(path);
    if (!doc) fail_msg("cannot read %s", path);
    char pk[65];
    const char *k = strstr(doc, "Its public key is");
    assert_non_null(k);
    s_hex_until(k + 17, "\n\n1.", pk, sizeof pk);
    assert_string_equal(pk, s_pk);
    s_doc_vector(doc, "question", s_question_signed, s_question_id, s_question_sig);
    s_doc_vector(doc, "tip", s_tip_signed, s_tip_id, s_tip_sig);
    s_doc_vector(doc, "rating", s_rating_signed, s_rating_id, s_rating_sig);
    s_doc_vector(doc, "profile", s_profile_signed, s_profile_id, s_profile_sig);
    s_doc_vector(doc, "topics", s_topics_signed, s_topics_id, s_topics_sig);
    s_doc_vector(doc, "imported", s_imported_signed, s_imported_id, s_imported_sig);
    free(doc);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_question),        cmocka_unit_test(test_vector_tip),
        cmocka_unit_test(test_vector_rating),          cmocka_unit_test(test_vector_profile),
        cmocka_unit_test(test_vector_topics),          cmocka_unit_test(test_vector_imported),
        cmocka_unit_test(test_vectors_match_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
