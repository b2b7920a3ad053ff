/* b64.c -- standard base64 (RFC 4648, with padding), strict on input.
 *
 * Events cross the local API as base64 strings (submit, export), so the
 * decoder sees bytes from any local user: it accepts only the canonical
 * encoding (length a multiple of 4, padding only at the end, the bits that
 * padding drops all zero) and never writes past cap. Both tip and tipd use
 * this one codec.
 */
#include "b64.h"

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0, o = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = s_b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

/* A digit's value plus one; 0 for any other byte. A table, not range
 * comparisons: the digits of random bytes make those mispredict, and tipd
 * decodes every event of an import on its loop thread. */
static const uint8_t s_val[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int s_b64val(char c)
{
    return (int)s_val[(unsigned char)c] - 1;
}

/* The last group of four, which may end in padding: its bytes into out[o..],
 * *o advanced; -1 if it is not canonical or out is too small. */
static int s_last(const char *in, uint8_t *out, size_t cap, size_t *o)
{
    int pad = 0, v[4];
    for (int k = 0; k < 4; k++) {
        if (in[k] == '=' && k >= 2) {
            v[k] = 0;
            pad++;
        } else {
            if (pad) return -1; /* data after padding */
            v[k] = s_b64val(in[k]);
            if (v[k] < 0) return -1;
        }
    }
    uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    size_t take = 3 - (size_t)pad;
    /* Canonical: the bits dropped by padding must be zero. */
    if ((pad == 1 && (x & 0xff)) || (pad == 2 && (x & 0xffff))) return -1;
    if (*o + take > cap) return -1;
    out[(*o)++] = (uint8_t)(x >> 16);
    if (take > 1) out[(*o)++] = (uint8_t)(x >> 8);
    if (take > 2) out[(*o)++] = (uint8_t)x;
    return 0;
}

long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0) return -1;
    if (n == 0) return 0;
    size_t o = 0, i = 0;
    for (; i + 4 < n; i += 4) { /* every group but the last: four digits */
        int a = s_b64val(in[i]), b = s_b64val(in[i + 1]), c = s_b64val(in[i + 2]),
            d = s_b64val(in[i + 3]);
        if ((a | b | c | d) < 0 || o + 3 > cap) return -1;
        uint32_t x = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(x >> 16);
        out[o++] = (uint8_t)(x >> 8);
        out[o++] = (uint8_t)x;
    }
    return s_last(in + i, out, cap, &o) ? -1 : (long)o;
}
