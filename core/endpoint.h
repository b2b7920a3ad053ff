/* endpoint.h -- "tcp://HOST:PORT", the one parser of gossip endpoints.
 *
 * Listen addresses (config, --listen), static peers (config, --peer), the
 * endpoints peers advertise in HELLO and peer exchange, and the ones built
 * from mDNS answers all go through here, so they are checked and written the
 * same way: an IPv6 host in brackets, a port in decimal.
 */
#ifndef TIPD_ENDPOINT_H
#define TIPD_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#define ENDPOINT_MAX_HOST 255

typedef struct {
    char host[ENDPOINT_MAX_HOST + 1]; /* without brackets */
    uint16_t port;                    /* 0..65535 (0: "any", for listening) */
    int wildcard;                     /* host is "*", "0.0.0.0" or "::" */
} endpoint_t;

/* Why an endpoint was refused. */
typedef enum {
    ENDPOINT_OK = 0,
    ENDPOINT_E_SCHEME,   /* not tcp:// */
    ENDPOINT_E_HOSTPORT, /* no host or no ':PORT' */
    ENDPOINT_E_BRACKETS, /* "[" without the closing "]" before the port */
    ENDPOINT_E_HOST,     /* a space, control character or '/' in the host, or too long */
    ENDPOINT_E_PORT,     /* not a decimal number 0..65535 */
} endpoint_err_t;

/* Parse ep into *out. ENDPOINT_OK or the first rule it breaks. */
endpoint_err_t endpoint_parse(const char *ep, endpoint_t *out);
/* 1 if host is a plain address or host name one can dial: letters, digits
 * and . - : % _ only (no wildcard, no names with other characters). */
int endpoint_host_dialable(const char *host);
/* Write "tcp://host:port" (brackets around an IPv6 host) into out[cap].
 * 0, or -1 if it does not fit. */
int endpoint_format(const char *host, uint16_t port, char *out, size_t cap);
/* The port of ep, or 0 when ep does not parse. */
uint16_t endpoint_port(const char *ep);

#endif
