/* disc.h -- finding peers on the LAN with mDNS (avahi-client).
 *
 * Publishes _tipd._tcp on the listen port with TXT v=<protocol>,
 * node=<node public key hex>, net=<network id or "open">, inst=<random per
 * start>; browses and resolves the same type, dedupes by node key across
 * interfaces and IPv4/IPv6, ignores our own service, and tells the caller when
 * a peer comes up, changes or goes away. It runs on the AvahiPoll the caller
 * hands it (tipd's zmq_poll loop), survives avahi-daemon starting late or
 * restarting (AVAHI_CLIENT_NO_FAIL; rebuilds the client on failure), and picks
 * an alternative name on collisions.
 *
 * It knows nothing about gossip: it reports addresses, the caller decides
 * whether to link.
 */
#ifndef TIPD_DISC_H
#define TIPD_DISC_H

#include <stdint.h>
#include <avahi-common/strlst.h>
#include <avahi-common/watch.h>

#define DISC_SERVICE_TYPE "_tipd._tcp"
#define DISC_MAX_ADDRS    8

typedef struct disc disc_t;

typedef enum { DISC_UP = 1, DISC_CHANGED = 2, DISC_DOWN = 3 } disc_what_t;

typedef struct {
    uint8_t node[32]; /* node public key from TXT */
    char node_hex[65];
    char name[64]; /* service name (usually the host's) */
    char net[32];  /* network id from TXT, or "open" */
    char inst[32]; /* instance id from TXT */
    int version;   /* protocol version from TXT */
    uint16_t port;
    int naddrs;                     /* every address it was resolved on, IPv4 first */
    char addrs[DISC_MAX_ADDRS][64]; /* numeric, IPv6 with %scope if link-local */
} disc_peer_t;

typedef void (*disc_peer_fn)(disc_what_t what, const disc_peer_t *peer, void *arg);
/* Free-form status changes for logs ("avahi-daemon not running", ...);
 * priority is one of core/loglevel.h's LOG_E .. LOG_D. */
typedef void (*disc_log_fn)(int priority, const char *msg, void *arg);

typedef struct {
    const AvahiPoll *poll;
    const char *name;    /* service name; NULL = host name */
    uint16_t port;       /* our listen port */
    const uint8_t *node; /* our node public key (32 bytes) */
    const char *net;     /* network id or "open" */
    int version;         /* protocol version */
    disc_peer_fn on_peer;
    disc_log_fn on_log;
    void *arg;
} disc_opts_t;

/* What a _tipd._tcp TXT record says. */
typedef struct {
    uint8_t node[32];
    char net[32];
    char inst[32]; /* "" if absent or malformed (optional key) */
    int version;
} disc_txt_t;

/* Parse a received TXT record (untrusted LAN bytes, as avahi hands them
 * over): v (1..999), node (64 hex) and net are required, inst optional;
 * values must be [0-9A-Za-z._-] and fit. 0, or -1 if the record is not a
 * usable tipd announcement. */
int disc_parse_txt(AvahiStringList *txt, disc_txt_t *out);

/* Start publishing and browsing. Never fails because avahi-daemon is absent
 * (it waits for it); NULL only on out-of-memory / bad options. */
disc_t *disc_new(const disc_opts_t *opts);
void disc_destroy(disc_t **p);
/* 1 if the avahi-daemon connection is up. */
int disc_running(const disc_t *d);
/* The service name currently published (after collision renames), or NULL
 * before the first publish. */
const char *disc_service_name(const disc_t *d);
/* The name asked for in disc_opts_t ("" = the host name). */
const char *disc_requested_name(const disc_t *d);
/* Our per-start instance id (the TXT inst value). */
const char *disc_instance(const disc_t *d);

#endif
