/* gossip.h -- encrypted peer links and replication between tipd nodes.
 *
 * One ROUTER (CURVE server, with a ZAP handler bound first) accepts peers;
 * one DEALER (CURVE client) per outgoing link dials out. A HELLO / WELCOME /
 * ACK exchange carries protocol version, node keys, listen endpoints and,
 * with a network key, keyed proofs bound to both node keys and both nonces.
 * Linked peers spread new events with INV/WANT/EVENTS and repair with
 * range-based set reconciliation (Negentropy design) on link-up and every
 * 30 s. Wire format and state machine: docs/PROTOCOL.md section 2.
 *
 * Who to link with comes from the peer table (daemon/peers.h): gossip listens
 * to it, dials every entry that is not foreign, and drives each entry's link
 * state (connecting / linked / down / foreign) and last_seen. Peers learned
 * from HELLOs and peer exchange go into the same table.
 */
#ifndef TIPD_GOSSIP_H
#define TIPD_GOSSIP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ident.h"
#include "ingest.h"
#include "loop.h"
#include "peers.h"
#include "store.h"

#define GOSSIP_PROTOCOL_VERSION 1
#define GOSSIP_DEFAULT_PORT     7714

typedef struct gossip gossip_t;

typedef struct {
    loop_t *loop;
    void *zctx;
    store_t *store;
    ingest_t *ingest;
    peers_t *peers;        /* the peer table (required) */
    const ident_t *node;   /* node identity (Ed25519; the client CURVE key derives from it) */
    const char *listen;    /* e.g. "tcp://0.0.0.0:7714" (any host) */
    const uint8_t *netkey; /* 32 bytes, or NULL for an open network */
    const char *name;      /* our display name for peers */
    void (*log)(int priority, const char *fmt, ...);
} gossip_opts_t;

/* Bind the ZAP handler and the ROUTER, load the sync set from the store,
 * subscribe to ingest and the peer table. NULL with a sentence in err. */
gossip_t *gossip_new(const gossip_opts_t *o, char *err, size_t errlen);
/* Say BYE to linked peers, close every socket; idempotent, NULLs *p. */
void gossip_destroy(gossip_t **p);

/* The port actually bound (port 0 in tests picks one) and network id. */
uint16_t gossip_port(const gossip_t *g);
const char *gossip_net_id(const gossip_t *g); /* 16 hex chars, or "open" */

/* Number of linked peers. */
size_t gossip_linked(const gossip_t *g);
/* Counters for `status` / debugging: links, sync set size, messages and
 * bytes each way, events pushed/received, reconciliations. New reference. */
json_t *gossip_stats_json(const gossip_t *g);

#endif
