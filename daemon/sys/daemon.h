/* daemon.h -- the state of one running tipd.
 *
 * main.c owns the one tipd_t of the process and threads it through every
 * layer's init function; it is the only global state in the daemon. The
 * handles of the store, ingest, network and API modules live here so that an
 * API op can reach what it reports on (status shows peers, peers shows the
 * gossip table, ...). This header sits in the lowest daemon layer, so it
 * names the other modules' types by forward declaration only; a field whose
 * module is switched off (no discovery, say) stays NULL and every reader
 * checks.
 */
#ifndef TIPD_DAEMON_H
#define TIPD_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "ident.h"
#include "loop.h"

struct api;
struct disc;
struct gossip;
struct ingest;
struct peers;
struct store;

typedef struct tipd {
    cfg_t cfg;            /* effective configuration (reloaded on SIGHUP) */
    const char *cfg_path; /* config file in use, or NULL */
    int cfg_explicit;     /* 1 if --config was given (missing = error) */
    loop_t *loop;
    void *zctx; /* one ZeroMQ context for API and peer sockets */
    struct store *store;
    struct ingest *ingest;
    struct api *api;
    ident_t node; /* this daemon's node key (DATA/node.key) */
    char node_hex[65];
    int has_netkey;
    uint8_t netkey[32];
    char net_id[17];     /* ident_net_id() of netkey, or "open" */
    char name[64];       /* cfg.name, else the host name */
    uint64_t started_ms; /* loop_now_ms() at start, for uptime */
    /* Plugged in by other modules (NULL when absent): */
    struct peers *peers;
    struct disc *disc;
    struct gossip *gossip;
    void *avahi_poll; /* the AvahiPoll adapter (daemon/net/avahi_poll.h) */
} tipd_t;

#endif
