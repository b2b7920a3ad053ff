/* fuzz_event.c -- libFuzzer target for the event decoder (core/event.c).
 *
 * The decoder takes bytes from any peer on the LAN, so it must never crash,
 * read out of bounds or accept two byte strings for one event. For every
 * input this checks: decode either fails with a known negative code, or
 * succeeds and then the struct validates, re-encodes to exactly the input
 * bytes (canonical form) with the same id, and verification runs without
 * crashing. The same bytes, NUL-terminated, go through the hex-prefix
 * parsers, which see user input on the command line and API.
 *
 * Built two ways by tests/fuzz/CMakeLists.txt: with gcc plus replay_main.c
 * to replay the checked-in corpus under ctest, and with clang's
 * -fsanitize=fuzzer into build/bin/fuzz-event for real fuzzing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed property: crash loudly so the fuzzer saves the input. */
static void s_check(int cond)
{
    if (!cond) abort();
}

static void s_hex_parsers(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return;
    memcpy(s, data, size);
    s[size] = '\0';
    char norm[2 * EVENT_ID_LEN + 1];
    int n = event_prefix_norm(s, norm);
    s_check(n == EVENT_E_HEX || (n >= 4 && n <= 64 && strlen(norm) == (size_t)n));
    uint8_t id[EVENT_ID_LEN];
    if (event_unhex(s, id, EVENT_ID_LEN) == 0) {
        char back[2 * EVENT_ID_LEN + 1];
        event_hex(id, EVENT_ID_LEN, back);
        s_check(strncasecmp(back, s, 2 * EVENT_ID_LEN) == 0);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t *ev = malloc(sizeof *ev);
    uint8_t *out = malloc(EVENT_MAX_SIZE);
    if (!ev || !out) {
        free(ev);
        free(out);
        return 0;
    }
    int rc = event_decode(data, size, ev);
    if (rc != 0) {
        s_check(rc <= EVENT_E_TRUNCATED && rc >= EVENT_E_NEEDLESS);
        s_check(rc != EVENT_E_SIG && rc != EVENT_E_FUTURE && rc != EVENT_E_NOSPACE);
    } else {
        s_check(event_validate(ev) == 0);
        size_t n = 0;
        s_check(event_encode(ev, out, EVENT_MAX_SIZE, &n) == 0);
        s_check(n == size && memcmp(out, data, size) == 0);
        uint8_t id[EVENT_ID_LEN];
        event_compute_id(data, size - EVENT_SIG_LEN, id);
        s_check(memcmp(id, ev->id, EVENT_ID_LEN) == 0);
        s_check(strlen(ev->title) == ev->title_len && strlen(ev->body) == ev->body_len);
        rc = event_verify(ev);
        s_check(rc == 0 || rc == EVENT_E_SIG);
        (void)event_check_time(ev, 0);
        char when[48];
        event_time_rfc3339(ev->created_at, when, sizeof when);
    }
    s_hex_parsers(data, size);
    free(out);
    free(ev);
    return 0;
}
