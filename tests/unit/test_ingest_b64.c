/* test_ingest_b64.c -- cmocka tests of the base64 codec the submit path uses
 * to turn API strings into event bytes (daemon/api.c): the RFC 4648 test
 * vectors both ways, and refusal of every non-canonical or malformed form
 * (so one event has exactly one submit string) and of outputs that would
 * not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n = strlen(plain[i]);
        char enc[16];
        assert_int_equal(b64_encoded_len(n), strlen(coded[i]));
        b64_encode((const uint8_t *)plain[i], n, enc);
        assert_string_equal(enc, coded[i]);
        uint8_t dec[16];
        assert_int_equal(b64_decode(coded[i], strlen(coded[i]), dec, sizeof(dec)), (long)n);
        assert_memory_equal(dec, plain[i], n);
    }
}

static void test_all_byte_values_round_trip(void **state)
{
    (void)state;
    uint8_t in[256], out[256];
    char enc[400];
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)i;
    for (size_t n = 0; n <= 256; n += 17) {
        b64_encode(in, n, enc);
        assert_int_equal(b64_decode(enc, strlen(enc), out, sizeof(out)), (long)n);
        assert_memory_equal(in, out, n);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t out[16];
    static const char *const bad[] = {
        "Zg",                  /* no padding */
        "Zg=",                 /* short padding */
        "Zh==",                /* non-zero bits under the padding: not canonical */
        "Zm9=",                /* same, one pad */
        "Z===",                /* three pads */
        "=Zg=",                /* pad first */
        "Zg==Zg==",            /* data after padding */
        "Zm9v\n",              /* whitespace */
        "Zm 9",                /* space */
        "Zm9-",                /* base64url alphabet */
        "Zm9_",     "Zm9\x80", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
    /* An output that does not fit is refused, not truncated. */
    assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 6), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_all_byte_values_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
