/* endpoint.c -- parsing and writing "tcp://HOST:PORT".
 *
 * The host ends at the last ':' (or at ']' for a bracketed IPv6 literal, so
 * "[fe80::1%eth0]:7714" works); the port is plain decimal. Rules are checked
 * in a fixed order so that a message about the first problem is the one a
 * person needs to fix first.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"

endpoint_err_t endpoint_parse(const char *ep, endpoint_t *out)
{
    memset(out, 0, sizeof *out);
    if (!ep || strncmp(ep, "tcp://", 6) != 0) return ENDPOINT_E_SCHEME;
    const char *host = ep + 6;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host) return ENDPOINT_E_HOSTPORT;
    const char *h = host;
    size_t hl = (size_t)(colon - host);
    if (host[0] == '[') {
        if (colon[-1] != ']') return ENDPOINT_E_BRACKETS;
        h = host + 1;
        hl -= 2;
    }
    if (hl == 0 || hl > ENDPOINT_MAX_HOST) return ENDPOINT_E_HOST;
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == '/' || h[i] == 0x7f) return ENDPOINT_E_HOST;
    const char *ps = colon + 1;
    size_t pl = strlen(ps);
    if (pl == 0 || pl > 5) return ENDPOINT_E_PORT;
    unsigned long v = 0;
    for (const char *q = ps; *q; q++) {
        if (!isdigit((unsigned char)*q)) return ENDPOINT_E_PORT;
        v = v * 10 + (unsigned long)(*q - '0');
    }
    if (v > 65535) return ENDPOINT_E_PORT;
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    out->port = (uint16_t)v;
    out->wildcard =
        !strcmp(out->host, "*") || !strcmp(out->host, "0.0.0.0") || !strcmp(out->host, "::");
    return ENDPOINT_OK;
}

int endpoint_host_dialable(const char *host)
{
    if (!host || !host[0] || host[0] == '*') return 0;
    for (const char *p = host; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '%' || c == '_')) return 0;
    }
    return 1;
}

int endpoint_format(const char *host, uint16_t port, char *out, size_t cap)
{
    int n = strchr(host, ':') ? snprintf(out, cap, "tcp://[%s]:%u", host, (unsigned)port)
                              : snprintf(out, cap, "tcp://%s:%u", host, (unsigned)port);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

uint16_t endpoint_port(const char *ep)
{
    endpoint_t e;
    return endpoint_parse(ep, &e) == ENDPOINT_OK ? e.port : 0;
}
