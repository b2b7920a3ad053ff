/* daemon.h -- the state of one running tipd.
 *
 * main.c owns the one tipd_t of the process and threads it through every
 * module's init block; it is the only global state in the daemon. Modules
 * that plug into the daemon (discovery, peers, gossip, social ops) get their
 * handles stored here so that ops registered on the API can reach each other
 * (status shows peers, peers shows the gossip table, ...). Fields that belong
 * to a module that is not built yet simply stay NULL; every reader checks.
 */
#ifndef TIPD_DAEMON_H
#define TIPD_DAEMON_H

#include <stdint.h>

#include "api.h"
#include "config.h"
#include "ident.h"
#include "ingest.h"
#include "loop.h"
#include "store.h"

#include "version.h" /* TIPD_VERSION, from project(VERSION) */

struct gossip;
struct peers;
struct disc;

typedef struct tipd {
    cfg_t cfg;            /* effective configuration (reloaded on SIGHUP) */
    const char *cfg_path; /* config file in use, or NULL */
    int cfg_explicit;     /* 1 if --config was given (missing = error) */
    loop_t *loop;
    void *zctx; /* one ZeroMQ context for API and peer sockets */
    store_t *store;
    ingest_t *ingest;
    api_t *api;
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
    void *avahi_poll; /* the AvahiPoll adapter (daemon/avahi_poll.h) */
} tipd_t;

/* Peers linked right now / known at all (0 without a peer table), for
 * status and sd_notify. */
size_t tipd_linked_peers(const tipd_t *d);
size_t tipd_known_peers(const tipd_t *d);

/* Register the core API ops (submit, search, get, list, export, status) on
 * d->api. 0 or -1 (ENOMEM). Implemented in api_ops.c. */
int api_core_ops_register(tipd_t *d);

#endif
