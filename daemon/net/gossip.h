/* gossip.h -- encrypted peer links and replication between tipd nodes.
 *
 * One ROUTER (CURVE server, with a ZAP handler bound first) accepts peers;
 * one DEALER (CURVE client) per outgoing link dials out. A HELLO / WELCOME /
 * ACK exchange carries protocol version, node keys, listen endpoints and,
 * with a network key, keyed proofs bound to both node keys and both nonces.
 * Linked peers spread new events by eager push along a spanning structure
 * and lazy announcement elsewhere (Plumtree: PUSH, IHAVE, GRAFT, PRUNE; to
 * older nodes INV/WANT/EVENTS) and repair with range-based set
 * reconciliation (Negentropy design) on link-up and every 30 s. Wire format and state machine:
 * docs/PROTOCOL.md section 2.
 *
 * Who to link with comes from the peer table (peers.h): gossip listens to
 * it, keeps a bounded random overlay over it (static peers always, 8 to 16
 * links in all: PROTOCOL.md section 2.7), and drives each entry's link
 * state (connecting / linked / down / foreign) and last_seen. Peers learned
 * from HELLOs and peer exchange go into the same table.
 *
 * Inside: link.c (the link layer), handshake.c and replicate.c on it, and
 * gossip.c, the engine on top of all three.
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

#define GOSSIP_DEFAULT_PORT 7714

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

/* The port actually bound (port 0 in tests picks one). */
uint16_t gossip_port(const gossip_t *g);

/* Counters for `status` (its "gossip" object): links, sync set size,
 * reconciliations, events each way, rejected events, replays (bodies we
 * already held: dropped unverified), events not asked for, PEX entries
 * refused and aged out, links that made room, wire bytes each way, eager
 * links and links at wire version 2, events new to us by push, GRAFTs and
 * PRUNEs sent, ids awaited after an IHAVE. New reference. */
json_t *gossip_stats_json(const gossip_t *g);

#endif
