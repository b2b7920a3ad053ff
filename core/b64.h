/* b64.h -- standard base64 (RFC 4648, padded): one codec for tip and tipd. */
#ifndef TIPD_B64_H
#define TIPD_B64_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64_encode writes for n bytes (without the terminating NUL). */
size_t b64_encoded_len(size_t n);
/* Encode n bytes of in into out, which holds b64_encoded_len(n) + 1 bytes;
 * NUL-terminated. */
void b64_encode(const uint8_t *in, size_t n, char *out);
/* Decode n characters of in into out[cap]. The decoded length, or -1 on
 * anything but canonical padded base64, or if it would exceed cap. */
long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
