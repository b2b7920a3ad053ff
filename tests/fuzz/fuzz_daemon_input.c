/* fuzz_daemon_input.c -- libFuzzer target for the daemon's own decoders of
 * outside bytes: the base64 of API submits (core/b64.c) and the INI config
 * reader (daemon/sys/config.c).
 *
 * base64: decode must never write past its buffer, and whatever it accepts
 * must be canonical -- encoding the decoded bytes gives back exactly the
 * input -- so one event has one submit form. config: any text parses without
 * crashing, every error message names the file and a line inside the text,
 * and a clean parse leaves every field NUL-terminated and in range.
 * The first input byte picks the decoder; the rest is the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check(int cond)
{
    if (!cond) abort();
}

static void s_b64(const uint8_t *in, size_t n)
{
    size_t cap = n / 4 * 3 + 3;
    uint8_t *out = malloc(cap ? cap : 1);
    long got = b64_decode((const char *)in, n, out, cap);
    if (got >= 0) {
        s_check((size_t)got <= cap);
        char *back = malloc(b64_encoded_len((size_t)got) + 1);
        b64_encode(out, (size_t)got, back);
        s_check(strlen(back) == n && memcmp(back, in, n) == 0);
        free(back);
    }
    /* a buffer one byte short of the output must be refused, not overrun */
    if (got > 0) {
        uint8_t *tight = malloc((size_t)got - 1 + 1);
        s_check(b64_decode((const char *)in, n, tight, (size_t)got - 1) == -1);
        free(tight);
    }
    free(out);
}

static void s_config(const uint8_t *in, size_t n)
{
    char *text = malloc(n + 1);
    memcpy(text, in, n);
    text[n] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += in[i] == '\n';
    cfg_t c;
    cfg_errors_t e;
    memset(&e, 0, sizeof(e));
    cfg_defaults(&c);
    int rc = cfg_load_string(&c, "f.conf", text, &e);
    s_check(rc == 0 || rc == -1);
    s_check((rc == 0) == (e.n == 0));
    for (size_t i = 0; i < e.n; i++) {
        unsigned long line = 0;
        s_check(strncmp(e.msg[i], "f.conf:", 7) == 0);
        if (sscanf(e.msg[i] + 7, "%lu:", &line) == 1) s_check(line >= 1 && line <= lines);
    }
    if (rc == 0) {
        s_check(memchr(c.data, 0, sizeof(c.data)) && memchr(c.api, 0, sizeof(c.api)));
        s_check(memchr(c.listen, 0, sizeof(c.listen)) && memchr(c.name, 0, sizeof(c.name)));
        s_check(c.npeers <= CFG_MAX_PEERS);
        s_check(c.log_level >= LOG_E && c.log_level <= LOG_D);
        s_check(c.no_discovery == 0 || c.no_discovery == 1);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (data[0] & 1)
        s_config(data + 1, size - 1);
    else
        s_b64(data + 1, size - 1);
    return 0;
}
