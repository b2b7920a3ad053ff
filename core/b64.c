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

static int s_b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int pad = 0, v[4];
        for (int k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad) return -1; /* data after padding */
                v[k] = s_b64val(in[i + k]);
                if (v[k] < 0) return -1;
            }
        }
        if (pad == 1 && in[i + 2] == '=') return -1;
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        size_t take = 3 - (size_t)pad;
        /* Canonical: the bits dropped by padding must be zero. */
        if ((pad == 1 && (x & 0xff)) || (pad == 2 && (x & 0xffff))) return -1;
        if (o + take > cap) return -1;
        out[o++] = (uint8_t)(x >> 16);
        if (take > 1) out[o++] = (uint8_t)(x >> 8);
        if (take > 2) out[o++] = (uint8_t)x;
    }
    return (long)o;
}
